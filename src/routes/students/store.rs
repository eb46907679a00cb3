//! Students as stored, and their queries.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::wire::{Student, StudentInput};
use crate::auth::policy::Viewer;
use crate::db::schema::students;
use crate::db::{casefold, native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{FamilyId, StudentId};
use crate::routes::{contains_pattern, utc};

/// A student as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = students, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct StudentRow {
    pub id: StudentId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub family_id: FamilyId,
    pub given_name: String,
    pub family_name: String,
    pub external_id: Option<String>,
    pub grade_level: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub has_iep: bool,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for StudentRow {
    const TYPE: ResourceType = ResourceType::Students;
    stored_in!(students);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    fn family_id(&self) -> Option<String> {
        Some(self.family_id.to_string())
    }
    fn student_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for StudentRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

impl StudentRow {
    /// A new student of `family` at version 1, with the client's fields.
    pub fn new(school: &str, family: FamilyId, input: StudentInput, now: NaiveDateTime) -> Self {
        let mut row = StudentRow {
            id: StudentId::new(),
            school_id: school.to_string(),
            family_id: family,
            given_name: String::new(),
            family_name: String::new(),
            external_id: None,
            grade_level: None,
            date_of_birth: None,
            has_iep: false,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input);
        row
    }

    /// The fields a client sets, as they stand.
    pub fn input(&self) -> StudentInput {
        StudentInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            external_id: self.external_id.clone(),
            grade_level: self.grade_level.clone(),
            date_of_birth: self.date_of_birth,
            has_iep: self.has_iep,
        }
    }

    /// Sets the client's fields.
    pub fn set(&mut self, input: StudentInput) {
        self.given_name = input.given_name;
        self.family_name = input.family_name;
        self.external_id = input.external_id;
        self.grade_level = input.grade_level;
        self.date_of_birth = input.date_of_birth;
        self.has_iep = input.has_iep;
    }

    /// The wire form.
    pub fn view(self) -> Student {
        Student {
            id: self.id.uuid(),
            family_id: self.family_id.uuid(),
            given_name: self.given_name,
            family_name: self.family_name,
            external_id: self.external_id,
            grade_level: self.grade_level,
            date_of_birth: self.date_of_birth,
            has_iep: self.has_iep,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads an active student of the viewer's school whose records the viewer may see, else 404.
pub fn find(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: StudentId,
) -> Result<StudentRow, ApiError> {
    viewer.student(id)?;
    let school = viewer.school_id.as_str();
    Ok(native!(conn, |c| students::table
        .filter(students::school_id.eq(school))
        .filter(students::id.eq(id))
        .filter(students::archived_at.is_null())
        .select(StudentRow::as_select())
        .first(c))?)
}

/// The filters of a student list.
#[derive(Debug, Default)]
pub struct Filters {
    /// Of this family.
    pub family: Option<FamilyId>,
    /// Name contains.
    pub q: Option<String>,
    /// SIS id.
    pub external_id: Option<String>,
    /// Grade level.
    pub grade_level: Option<String>,
    /// With or without an IEP.
    pub has_iep: Option<bool>,
    /// Changed since.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of the students the viewer may see, oldest first. A guardian sees the children a
/// current link lets them see, whichever family each belongs to.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &Filters,
    page: &PageRequest,
) -> Result<Vec<StudentRow>, ApiError> {
    Ok(native!(conn, |c| {
        let mut sql = students::table
            .filter(students::school_id.eq(viewer.school_id.clone()))
            .filter(students::archived_at.is_null())
            .select(StudentRow::as_select())
            .order(students::id.asc())
            .limit(page.fetch())
            .into_boxed();
        if let Some(g) = &viewer.guardian {
            sql = sql.filter(students::id.eq_any(g.students.clone()));
        }
        if let Some(family) = f.family {
            sql = sql.filter(students::family_id.eq(family));
        }
        if let Some(text) = &f.q {
            let pattern = contains_pattern(text);
            sql = sql.filter(
                casefold(students::given_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(casefold(students::family_name).like(pattern).escape('\\')),
            );
        }
        if let Some(ext) = &f.external_id {
            sql = sql.filter(students::external_id.eq(ext.clone()));
        }
        if let Some(grade) = &f.grade_level {
            sql = sql.filter(students::grade_level.eq(grade.clone()));
        }
        if let Some(iep) = f.has_iep {
            sql = sql.filter(students::has_iep.eq(iep));
        }
        if let Some(since) = f.updated_since {
            sql = sql.filter(students::updated_at.ge(since.naive_utc()));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(students::id.gt(after.clone()));
        }
        sql.load(c)
    })?)
}

/// The active students of a family (for the family's archive).
pub fn of_family(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
) -> QueryResult<Vec<StudentRow>> {
    native!(conn, |c| students::table
        .filter(students::school_id.eq(school))
        .filter(students::family_id.eq(family))
        .filter(students::archived_at.is_null())
        .select(StudentRow::as_select())
        .load(c))
}
