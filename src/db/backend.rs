//! The few statements that differ between the backends: how a write takes its change sequence
//! numbers, and how a reader learns which numbers are committed.

use diesel::dsl::max;
use diesel::prelude::*;

use super::schema::{change_sequences as seqs, changes};
use super::DbConnection;

/// Takes the next `count` change sequence numbers of `school` and returns the last of them.
///
/// PostgreSQL: an upsert of the school's counter row, which stays locked until the transaction
/// ends, so two writers of one school take their numbers one after the other, in the order they
/// commit: a change feed reader never sees a number before every smaller one is committed.
///
/// SQLite: one writer at a time, so the numbers follow the highest one written, found by the
/// primary key (a cached statement, where an upsert would be planned anew for every write).
pub fn take_sequence_numbers(
    conn: &mut DbConnection,
    school: &str,
    count: i64,
) -> QueryResult<i64> {
    match conn {
        DbConnection::Sqlite(c) => Ok(highest(c, school)? + count),
        DbConnection::Postgresql(c) => diesel::insert_into(seqs::table)
            .values((seqs::school_id.eq(school), seqs::last_seq.eq(count)))
            .on_conflict(seqs::school_id)
            .do_update()
            .set(seqs::last_seq.eq(seqs::last_seq + count))
            .returning(seqs::last_seq)
            .get_result::<i64>(c),
    }
}

/// The highest sequence number of `school` that is committed (0 before its first change): every
/// change up to it is committed and final, none can appear below it later.
///
/// PostgreSQL: the counter row's committed value (a writer holds its lock until it commits).
/// SQLite: the highest number written, since a reader sees only committed writes and there is
/// one writer.
pub fn committed_sequence(conn: &mut DbConnection, school: &str) -> QueryResult<i64> {
    match conn {
        DbConnection::Sqlite(c) => highest(c, school),
        DbConnection::Postgresql(c) => Ok(seqs::table
            .filter(seqs::school_id.eq(school))
            .select(seqs::last_seq)
            .first::<i64>(c)
            .optional()?
            .unwrap_or(0)),
    }
}

fn highest(c: &mut diesel::SqliteConnection, school: &str) -> QueryResult<i64> {
    Ok(changes::table
        .filter(changes::school_id.eq(school))
        .select(max(changes::seq))
        .first::<Option<i64>>(c)?
        .unwrap_or(0))
}

/// Has PostgreSQL plan every statement of the current transaction with the tables as they are
/// now (no-op on SQLite). A bulk import reads the tables it is filling: a prepared statement's
/// generic plan, made while a table was still small, scans it whole for every batch (an import
/// of 100,000 families into an empty school took 104 s so, 8 s with fresh plans).
pub fn plan_each_statement(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgresql(c) => diesel::connection::SimpleConnection::batch_execute(
            c,
            "SET LOCAL plan_cache_mode = force_custom_plan",
        ),
    }
}

/// Refreshes PostgreSQL's statistics of `tables` (no-op on SQLite), counting the rows this
/// transaction has written. Without statistics the planner takes a lookup of a batch's external
/// ids (`external_id = ANY(…)`, 500 values) to match most of the table and scans it whole: a
/// bulk import into a new school, whose tables grow inside the import's own transaction, got
/// slower with every batch.
pub fn refresh_statistics(conn: &mut DbConnection, tables: &[&str]) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgresql(c) => diesel::connection::SimpleConnection::batch_execute(
            c,
            &format!("ANALYZE {}", tables.join(", ")),
        ),
    }
}
