//! Links as stored, and their queries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::wire::{Link, LinkInput};
use crate::auth::policy::Viewer;
use crate::db::schema::{guardian_student_links as links, guardians, students};
use crate::db::{native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::Relationship;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{FamilyId, GuardianId, LinkId, StudentId};
use crate::routes::{students as student_records, utc};

/// A link as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = links, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct LinkRow {
    pub id: LinkId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub student_id: StudentId,
    pub guardian_id: GuardianId,
    pub relationship: Option<Relationship>,
    pub legal_guardian: bool,
    pub lives_with: bool,
    pub emergency_contact: bool,
    pub contact_priority: Option<i32>,
    pub can_view_records: bool,
    pub contact_restricted: bool,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for LinkRow {
    const TYPE: ResourceType = ResourceType::Links;
    stored_in!(links);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn student_id(&self) -> Option<String> {
        Some(self.student_id.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for LinkRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

impl LinkRow {
    /// A new link of `student` at version 1, with the client's fields.
    pub fn new(school: &str, student: StudentId, input: LinkInput, now: NaiveDateTime) -> Self {
        let mut row = LinkRow {
            id: LinkId::new(),
            school_id: school.to_string(),
            student_id: student,
            guardian_id: GuardianId(input.guardian_id),
            relationship: None,
            legal_guardian: false,
            lives_with: false,
            emergency_contact: false,
            contact_priority: None,
            can_view_records: true,
            contact_restricted: false,
            starts_on: None,
            ends_on: None,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input);
        row
    }

    /// The fields a client sets, as they stand.
    pub fn input(&self) -> LinkInput {
        LinkInput {
            guardian_id: self.guardian_id.uuid(),
            relationship: self.relationship,
            legal_guardian: self.legal_guardian,
            lives_with: self.lives_with,
            emergency_contact: self.emergency_contact,
            contact_priority: self.contact_priority,
            can_view_records: self.can_view_records,
            contact_restricted: self.contact_restricted,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
        }
    }

    /// Sets the client's fields.
    pub fn set(&mut self, input: LinkInput) {
        self.guardian_id = GuardianId(input.guardian_id);
        self.relationship = input.relationship;
        self.legal_guardian = input.legal_guardian;
        self.lives_with = input.lives_with;
        self.emergency_contact = input.emergency_contact;
        self.contact_priority = input.contact_priority;
        self.can_view_records = input.can_view_records;
        self.contact_restricted = input.contact_restricted;
        self.starts_on = input.starts_on;
        self.ends_on = input.ends_on;
    }

    /// Whether the link holds on `today`.
    pub fn holds_on(&self, today: NaiveDate) -> bool {
        self.starts_on.is_none_or(|s| s <= today) && self.ends_on.is_none_or(|e| e >= today)
    }

    /// The wire form, `current` judged on `today`.
    pub fn view(self, today: NaiveDate) -> Link {
        Link {
            current: self.holds_on(today),
            id: self.id.uuid(),
            student_id: self.student_id.uuid(),
            guardian_id: self.guardian_id.uuid(),
            relationship: self.relationship,
            legal_guardian: self.legal_guardian,
            lives_with: self.lives_with,
            emergency_contact: self.emergency_contact,
            contact_priority: self.contact_priority,
            can_view_records: self.can_view_records,
            contact_restricted: self.contact_restricted,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// The active links of `school`, as a boxed query for whichever backend the enclosing `native!`
/// picks.
macro_rules! active {
    ($school:expr) => {
        links::table
            .filter(links::school_id.eq($school))
            .filter(links::archived_at.is_null())
            .into_boxed()
    };
}

/// Loads the active link between a student the viewer may see and a guardian, else 404. A
/// guardian sees only their own links.
pub fn find(
    conn: &mut DbConnection,
    viewer: &Viewer,
    student: StudentId,
    guardian: GuardianId,
) -> Result<LinkRow, ApiError> {
    student_records::store::find(conn, viewer, student)?;
    if viewer.guardian_id().is_some_and(|own| own != guardian) {
        return Err(ApiError::NotFound);
    }
    let school = viewer.school_id.as_str();
    Ok(native!(conn, |c| links::table
        .filter(links::school_id.eq(school))
        .filter(links::student_id.eq(student))
        .filter(links::guardian_id.eq(guardian))
        .filter(links::archived_at.is_null())
        .select(LinkRow::as_select())
        .first(c))?)
}

/// A page of a student's links, oldest first; `current` keeps those that hold (or do not hold)
/// on `today`. A guardian sees only their own link.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    student: StudentId,
    current: Option<bool>,
    today: NaiveDate,
    page: &PageRequest,
) -> Result<Vec<LinkRow>, ApiError> {
    Ok(native!(conn, |c| {
        let mut sql = links::table
            .filter(links::school_id.eq(viewer.school_id.clone()))
            .filter(links::student_id.eq(student))
            .filter(links::archived_at.is_null())
            .select(LinkRow::as_select())
            .order(links::id.asc())
            .limit(page.fetch())
            .into_boxed();
        if let Some(own) = viewer.guardian_id() {
            sql = sql.filter(links::guardian_id.eq(own));
        }
        match current {
            Some(true) => {
                sql = sql
                    .filter(links::starts_on.is_null().or(links::starts_on.le(today)))
                    .filter(links::ends_on.is_null().or(links::ends_on.ge(today)))
            }
            Some(false) => {
                sql = sql.filter(links::starts_on.gt(today).or(links::ends_on.lt(today)))
            }
            None => {}
        }
        if let Some(after) = &page.after {
            sql = sql.filter(links::id.gt(after.clone()));
        }
        sql.load(c)
    })?)
}

/// The active links of a student (for the student's archive).
pub fn of_student(
    conn: &mut DbConnection,
    school: &str,
    student: StudentId,
) -> QueryResult<Vec<LinkRow>> {
    native!(conn, |c| active!(school)
        .filter(links::student_id.eq(student))
        .select(LinkRow::as_select())
        .load(c))
}

/// The active links of a guardian (for the guardian's archive).
pub fn of_guardian(
    conn: &mut DbConnection,
    school: &str,
    guardian: GuardianId,
) -> QueryResult<Vec<LinkRow>> {
    native!(conn, |c| active!(school)
        .filter(links::guardian_id.eq(guardian))
        .select(LinkRow::as_select())
        .load(c))
}

/// The active links of a family's children and of its guardians, also those that reach into
/// another household (for the family's archive).
pub fn of_family(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
) -> QueryResult<Vec<LinkRow>> {
    let children = students::table
        .filter(students::school_id.eq(school))
        .filter(students::family_id.eq(family))
        .select(students::id);
    let adults = guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::family_id.eq(family))
        .select(guardians::id);
    native!(conn, |c| active!(school)
        .filter(
            links::student_id
                .eq_any(children)
                .or(links::guardian_id.eq_any(adults)),
        )
        .select(LinkRow::as_select())
        .load(c))
}

/// Whether the guardian and student are linked by an active link with `contact_restricted`.
pub fn contact_restricted(
    conn: &mut DbConnection,
    school: &str,
    student: StudentId,
    guardian: GuardianId,
) -> QueryResult<bool> {
    let n: i64 = native!(conn, |c| active!(school)
        .filter(links::student_id.eq(student))
        .filter(links::guardian_id.eq(guardian))
        .filter(links::contact_restricted.eq(true))
        .count()
        .get_result(c))?;
    Ok(n > 0)
}
