//! The reads `GET /v1/me` makes beyond the other resources' own.

use diesel::prelude::*;

use crate::db::schema::students;
use crate::db::DbConnection;
use crate::ids::StudentId;
use crate::routes::students::store::StudentRow;

/// The active students of `school` among `ids`, oldest first.
pub fn students_among(
    conn: &mut DbConnection,
    school: &str,
    ids: &[StudentId],
) -> QueryResult<Vec<StudentRow>> {
    students::table
        .filter(students::school_id.eq(school))
        .filter(students::id.eq_any(ids.to_vec()))
        .filter(students::archived_at.is_null())
        .order(students::id.asc())
        .select(StudentRow::as_select())
        .load(conn)
}
