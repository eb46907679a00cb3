//! The few statements that are written once per backend, because diesel's `MultiConnection`
//! cannot express them (`ON CONFLICT`).

use diesel::prelude::*;

use super::schema::change_sequences as seqs;
use super::DbConnection;

/// Takes the next `count` change sequence numbers of `school` and returns the last of them.
///
/// The upsert locks the school's counter row until the transaction ends, so on PostgreSQL two
/// writers of one school take their numbers one after the other, in the order they commit: a
/// change feed reader never sees a number before every smaller one is committed. (SQLite has
/// one writer, so its order is the commit order anyway.)
pub fn take_sequence_numbers(
    conn: &mut DbConnection,
    school: &str,
    count: i64,
) -> QueryResult<i64> {
    macro_rules! upsert {
        ($c:expr) => {
            diesel::insert_into(seqs::table)
                .values((seqs::school_id.eq(school), seqs::last_seq.eq(count)))
                .on_conflict(seqs::school_id)
                .do_update()
                .set(seqs::last_seq.eq(seqs::last_seq + count))
                .returning(seqs::last_seq)
                .get_result::<i64>($c)
        };
    }
    match conn {
        DbConnection::Sqlite(c) => upsert!(c),
        DbConnection::Postgresql(c) => upsert!(c),
    }
}
