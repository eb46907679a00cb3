//! Families as stored, and their queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::wire::{Address, Family, FamilyInput, ListFamiliesQuery};
use crate::auth::policy::Viewer;
use crate::db::schema::families;
use crate::db::{casefold, native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::{Channel, LanguageTag};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::FamilyId;
use crate::routes::{contains_pattern, utc};

/// A family as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = families, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct FamilyRow {
    pub id: FamilyId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub external_id: Option<String>,
    pub display_name: String,
    pub primary_language: Option<LanguageTag>,
    pub preferred_channel: Option<Channel>,
    pub sms_opt_in: bool,
    pub directory_opt_out: bool,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_city: Option<String>,
    pub address_region: Option<String>,
    pub address_postal_code: Option<String>,
    pub address_country: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for FamilyRow {
    const TYPE: ResourceType = ResourceType::Families;
    stored_in!(families);

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
        Some(self.id.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for FamilyRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

impl FamilyRow {
    /// A new family of `school` at version 1, with the client's fields.
    pub fn new(school: &str, input: FamilyInput, now: NaiveDateTime) -> FamilyRow {
        let mut row = FamilyRow {
            id: FamilyId::new(),
            school_id: school.to_string(),
            external_id: None,
            display_name: String::new(),
            primary_language: None,
            preferred_channel: None,
            sms_opt_in: false,
            directory_opt_out: false,
            address_line1: None,
            address_line2: None,
            address_city: None,
            address_region: None,
            address_postal_code: None,
            address_country: None,
            notes: None,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input);
        row
    }

    fn address(&self) -> Option<Address> {
        let a = Address {
            line1: self.address_line1.clone(),
            line2: self.address_line2.clone(),
            city: self.address_city.clone(),
            region: self.address_region.clone(),
            postal_code: self.address_postal_code.clone(),
            country: self.address_country.clone(),
        };
        (!a.is_empty()).then_some(a)
    }

    /// The fields a client sets, as they stand: what a merge patch applies to.
    pub fn input(&self) -> FamilyInput {
        FamilyInput {
            display_name: self.display_name.clone(),
            external_id: self.external_id.clone(),
            primary_language: self.primary_language.clone(),
            preferred_channel: self.preferred_channel,
            sms_opt_in: self.sms_opt_in,
            directory_opt_out: self.directory_opt_out,
            address: self.address(),
            notes: self.notes.clone(),
        }
    }

    /// Sets the client's fields.
    pub fn set(&mut self, input: FamilyInput) {
        let address = input.address.unwrap_or_default();
        self.display_name = input.display_name;
        self.external_id = input.external_id;
        self.primary_language = input.primary_language;
        self.preferred_channel = input.preferred_channel;
        self.sms_opt_in = input.sms_opt_in;
        self.directory_opt_out = input.directory_opt_out;
        self.address_line1 = address.line1;
        self.address_line2 = address.line2;
        self.address_city = address.city;
        self.address_region = address.region;
        self.address_postal_code = address.postal_code;
        self.address_country = address.country;
        self.notes = input.notes;
    }

    /// The wire form, as this viewer may see it (guardians never see staff notes).
    pub fn view(self, viewer: &Viewer) -> Family {
        Family {
            id: self.id.uuid(),
            address: self.address(),
            external_id: self.external_id,
            display_name: self.display_name,
            primary_language: self.primary_language.map(String::from),
            preferred_channel: self.preferred_channel,
            sms_opt_in: self.sms_opt_in,
            directory_opt_out: self.directory_opt_out,
            notes: if viewer.is_guardian() {
                None
            } else {
                self.notes
            },
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads an active family of the viewer's school that the viewer may see (else 404).
pub fn find(conn: &mut DbConnection, viewer: &Viewer, id: FamilyId) -> Result<FamilyRow, ApiError> {
    viewer.family(id)?;
    let school = viewer.school_id.as_str();
    Ok(native!(conn, |c| families::table
        .filter(families::school_id.eq(school))
        .filter(families::id.eq(id))
        .filter(families::archived_at.is_null())
        .select(FamilyRow::as_select())
        .first(c))?)
}

/// A page of the families the viewer may see, oldest first.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    q: &ListFamiliesQuery,
    page: &PageRequest,
) -> Result<Vec<FamilyRow>, ApiError> {
    Ok(native!(conn, |c| {
        let mut sql = families::table
            .filter(families::school_id.eq(viewer.school_id.clone()))
            .filter(families::archived_at.is_null())
            .select(FamilyRow::as_select())
            .order(families::id.asc())
            .limit(page.fetch())
            .into_boxed();
        if let Some(g) = &viewer.guardian {
            sql = sql.filter(families::id.eq(g.family_id));
        }
        if let Some(text) = &q.q {
            sql = sql.filter(
                casefold(families::display_name)
                    .like(contains_pattern(text))
                    .escape('\\'),
            );
        }
        if let Some(ext) = &q.external_id {
            sql = sql.filter(families::external_id.eq(ext.clone()));
        }
        if let Some(lang) = &q.primary_language {
            sql = sql.filter(families::primary_language.eq(lang.clone()));
        }
        if let Some(since) = q.updated_since {
            sql = sql.filter(families::updated_at.ge(since.naive_utc()));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(families::id.gt(after.clone()));
        }
        sql.load(c)
    })?)
}
