//! Guardians as stored, and their queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::wire::{Guardian, GuardianInput};
use crate::auth::policy::Viewer;
use crate::db::schema::guardians;
use crate::db::{casefold, native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::{Channel, E164Phone, Email, LanguageTag, Relationship};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{FamilyId, GuardianId};
use crate::routes::{contains_pattern, utc};

/// A guardian as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = guardians, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct GuardianRow {
    pub id: GuardianId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub family_id: FamilyId,
    pub given_name: String,
    pub family_name: String,
    pub external_id: Option<String>,
    pub relationship: Option<Relationship>,
    pub email: Option<Email>,
    pub phone: Option<E164Phone>,
    pub preferred_language: Option<LanguageTag>,
    pub preferred_channel: Option<Channel>,
    pub is_primary: bool,
    pub sms_opt_in: bool,
    pub contact_allowed: bool,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for GuardianRow {
    const TYPE: ResourceType = ResourceType::Guardians;
    stored_in!(guardians);

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
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for GuardianRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

impl GuardianRow {
    /// A new guardian of `family` at version 1, with the client's fields.
    pub fn new(school: &str, family: FamilyId, input: GuardianInput, now: NaiveDateTime) -> Self {
        let mut row = GuardianRow {
            id: GuardianId::new(),
            school_id: school.to_string(),
            family_id: family,
            given_name: String::new(),
            family_name: String::new(),
            external_id: None,
            relationship: None,
            email: None,
            phone: None,
            preferred_language: None,
            preferred_channel: None,
            is_primary: false,
            sms_opt_in: false,
            contact_allowed: true,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input);
        row
    }

    /// The fields a client sets, as they stand.
    pub fn input(&self) -> GuardianInput {
        GuardianInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            external_id: self.external_id.clone(),
            relationship: self.relationship,
            email: self.email.clone(),
            phone: self.phone.clone(),
            preferred_language: self.preferred_language.clone(),
            preferred_channel: self.preferred_channel,
            is_primary: self.is_primary,
            sms_opt_in: self.sms_opt_in,
            contact_allowed: self.contact_allowed,
        }
    }

    /// Sets the client's fields.
    pub fn set(&mut self, input: GuardianInput) {
        self.given_name = input.given_name;
        self.family_name = input.family_name;
        self.external_id = input.external_id;
        self.relationship = input.relationship;
        self.email = input.email;
        self.phone = input.phone;
        self.preferred_language = input.preferred_language;
        self.preferred_channel = input.preferred_channel;
        self.is_primary = input.is_primary;
        self.sms_opt_in = input.sms_opt_in;
        self.contact_allowed = input.contact_allowed;
    }

    /// The wire form.
    pub fn view(self) -> Guardian {
        Guardian {
            id: self.id.uuid(),
            family_id: self.family_id.uuid(),
            relationship: self.relationship,
            preferred_channel: self.preferred_channel,
            given_name: self.given_name,
            family_name: self.family_name,
            external_id: self.external_id,
            email: self.email.map(String::from),
            phone: self.phone.map(String::from),
            preferred_language: self.preferred_language.map(String::from),
            is_primary: self.is_primary,
            sms_opt_in: self.sms_opt_in,
            contact_allowed: self.contact_allowed,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads an active guardian of the viewer's school that the viewer may see (a guardian: the
/// adults of their own family), else 404.
pub fn find(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: GuardianId,
) -> Result<GuardianRow, ApiError> {
    let school = viewer.school_id.as_str();
    let row = native!(conn, |c| guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::id.eq(id))
        .filter(guardians::archived_at.is_null())
        .select(GuardianRow::as_select())
        .first(c))?;
    viewer.family(row.family_id)?;
    Ok(row)
}

/// The filters of a guardian list.
#[derive(Debug, Default)]
pub struct Filters {
    /// Of this family.
    pub family: Option<FamilyId>,
    /// Name contains.
    pub q: Option<String>,
    /// Preferred language.
    pub language: Option<LanguageTag>,
    /// Changed since.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of the guardians the viewer may see, oldest first.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &Filters,
    page: &PageRequest,
) -> Result<Vec<GuardianRow>, ApiError> {
    Ok(native!(conn, |c| {
        let mut sql = guardians::table
            .filter(guardians::school_id.eq(viewer.school_id.clone()))
            .filter(guardians::archived_at.is_null())
            .select(GuardianRow::as_select())
            .order(guardians::id.asc())
            .limit(page.fetch())
            .into_boxed();
        if let Some(g) = &viewer.guardian {
            sql = sql.filter(guardians::family_id.eq(g.family_id));
        }
        if let Some(family) = f.family {
            sql = sql.filter(guardians::family_id.eq(family));
        }
        if let Some(text) = &f.q {
            let pattern = contains_pattern(text);
            sql = sql.filter(
                casefold(guardians::given_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(casefold(guardians::family_name).like(pattern).escape('\\')),
            );
        }
        if let Some(lang) = &f.language {
            sql = sql.filter(guardians::preferred_language.eq(lang.clone()));
        }
        if let Some(since) = f.updated_since {
            sql = sql.filter(guardians::updated_at.ge(since.naive_utc()));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(guardians::id.gt(after.clone()));
        }
        sql.load(c)
    })?)
}

/// The active guardians of a family (for the family's archive).
pub fn of_family(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
) -> QueryResult<Vec<GuardianRow>> {
    native!(conn, |c| guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::family_id.eq(family))
        .filter(guardians::archived_at.is_null())
        .select(GuardianRow::as_select())
        .load(c))
}

/// Whether an active guardian of `school` has this id.
pub fn exists(conn: &mut DbConnection, school: &str, id: GuardianId) -> QueryResult<bool> {
    let n: i64 = native!(conn, |c| guardians::table
        .filter(guardians::school_id.eq(school))
        .filter(guardians::id.eq(id))
        .filter(guardians::archived_at.is_null())
        .count()
        .get_result(c))?;
    Ok(n > 0)
}
