//! Change records as stored, and the feed's two reads.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::wire::Change;
use crate::db::schema::changes;
use crate::db::{native, DbConnection, Operation, ResourceType};
use crate::routes::utc;

/// A change record as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = changes)]
pub struct ChangeRow {
    pub seq: i64,
    pub resource_type: ResourceType,
    pub resource_id: String,
    pub external_id: Option<String>,
    pub operation: Operation,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub changed_at: NaiveDateTime,
}

impl ChangeRow {
    /// The wire form.
    pub fn view(self) -> Change {
        Change {
            seq: self.seq,
            resource_type: self.resource_type,
            id: self.resource_id,
            external_id: self.external_id,
            operation: self.operation,
            version: self.version,
            changed_at: utc(self.changed_at),
        }
    }
}

/// The highest sequence number `school` has committed (0 before its first change): a mark below
/// which every change is committed and final, none can appear there later (see
/// `db::committed_sequence` for how each backend knows it).
pub fn committed_up_to(conn: &mut DbConnection, school: &str) -> QueryResult<i64> {
    crate::db::committed_sequence(conn, school)
}

/// Up to `limit` of `school`'s changes after `since` and at most `upto`, of the given kinds
/// (`None`: every kind), in sequence order.
pub fn page(
    conn: &mut DbConnection,
    school: &str,
    since: i64,
    upto: i64,
    kinds: Option<&[ResourceType]>,
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    native!(conn, |c| {
        let mut sql = changes::table
            .filter(changes::school_id.eq(school.to_string()))
            .filter(changes::seq.gt(since))
            .filter(changes::seq.le(upto))
            .into_boxed();
        if let Some(kinds) = kinds {
            sql = sql.filter(changes::resource_type.eq_any(kinds.to_vec()));
        }
        sql.order(changes::seq.asc())
            .limit(limit)
            .select(ChangeRow::as_select())
            .load(c)
    })
}
