//! Community resources and referrals as stored, and their queries.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::wire::{
    Cost, FollowUp, Referral, ReferralFields, ReferralStatus, ReferralVisibility, Resource,
    ResourceCategory, ResourceFields,
};
use crate::auth::policy::Viewer;
use crate::db::schema::{community_resources as resources, referrals};
use crate::db::{native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::LanguageTag;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{FamilyId, ReferralId, ResourceId, StudentId};
use crate::routes::{contains_pattern, utc};

/// A community resource as stored. `languages` holds JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = resources, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ResourceRow {
    pub id: ResourceId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub name: String,
    pub category: ResourceCategory,
    pub description: Option<String>,
    pub languages: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub address: Option<String>,
    pub eligibility: Option<String>,
    pub cost: Option<Cost>,
    pub active: bool,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for ResourceRow {
    const TYPE: ResourceType = ResourceType::Resources;
    stored_in!(resources);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for ResourceRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

impl ResourceRow {
    /// A new resource at version 1.
    pub fn new(school: &str, f: ResourceFields, now: NaiveDateTime) -> ResourceRow {
        let mut row = ResourceRow {
            id: ResourceId::new(),
            school_id: school.to_string(),
            name: String::new(),
            category: f.category,
            description: None,
            languages: String::new(),
            phone: None,
            email: None,
            website: None,
            address: None,
            eligibility: None,
            cost: None,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(f);
        row
    }

    /// Sets the fields a writer chooses.
    pub fn set(&mut self, f: ResourceFields) {
        self.name = f.name;
        self.category = f.category;
        self.description = f.description;
        self.languages = serde_json::to_string(&f.languages).unwrap_or_default();
        self.phone = f.phone;
        self.email = f.email;
        self.website = f.website;
        self.address = f.address;
        self.eligibility = f.eligibility;
        self.cost = f.cost;
        self.active = f.active;
    }

    /// The fields, as they stand.
    pub fn fields(&self) -> ResourceFields {
        let languages: Vec<LanguageTag> = serde_json::from_str(&self.languages).unwrap_or_default();
        ResourceFields {
            name: self.name.clone(),
            category: self.category,
            description: self.description.clone(),
            languages,
            phone: self.phone.clone(),
            email: self.email.clone(),
            website: self.website.clone(),
            address: self.address.clone(),
            eligibility: self.eligibility.clone(),
            cost: self.cost,
            active: self.active,
        }
    }

    /// The wire form.
    pub fn view(&self) -> Resource {
        let f = self.fields();
        Resource {
            id: self.id.uuid(),
            name: f.name,
            category: f.category,
            description: f.description,
            languages: f.languages.iter().map(|l| l.as_str().to_string()).collect(),
            phone: f.phone,
            email: f.email,
            website: f.website,
            address: f.address,
            eligibility: f.eligibility,
            cost: f.cost,
            active: f.active,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads an active (not archived) resource; a guardian sees only those with `active: true`.
pub fn find(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: ResourceId,
) -> Result<ResourceRow, ApiError> {
    let row = native!(conn, |c| resources::table
        .filter(resources::school_id.eq(viewer.school_id.as_str()))
        .filter(resources::id.eq(id))
        .filter(resources::archived_at.is_null())
        .select(ResourceRow::as_select())
        .first(c))?;
    if viewer.is_guardian() && !row.active {
        return Err(ApiError::NotFound);
    }
    Ok(row)
}

/// The filters of the resources.
#[derive(Debug, Default)]
pub struct ResourceFilters {
    pub category: Option<ResourceCategory>,
    pub language: Option<String>,
    pub q: Option<String>,
    pub active: Option<bool>,
}

/// A page of the resources, oldest first.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &ResourceFilters,
    page: &PageRequest,
) -> QueryResult<Vec<ResourceRow>> {
    native!(conn, |c| {
        let mut q = resources::table
            .filter(resources::school_id.eq(viewer.school_id.clone()))
            .filter(resources::archived_at.is_null())
            .into_boxed();
        if viewer.is_guardian() {
            q = q.filter(resources::active.eq(true));
        }
        if let Some(active) = f.active {
            q = q.filter(resources::active.eq(active));
        }
        if let Some(cat) = f.category {
            q = q.filter(resources::category.eq(cat));
        }
        if let Some(lang) = &f.language {
            q = q.filter(resources::languages.like(format!("%\"{lang}\"%")));
        }
        if let Some(text) = &f.q {
            let pattern = contains_pattern(text);
            q = q.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("(LOWER(name) LIKE ")
                    .bind::<diesel::sql_types::Text, _>(pattern.clone())
                    .sql(" ESCAPE '\\' OR LOWER(COALESCE(description, '')) LIKE ")
                    .bind::<diesel::sql_types::Text, _>(pattern)
                    .sql(" ESCAPE '\\')"),
            );
        }
        if let Some(after) = &page.after {
            q = q.filter(resources::id.gt(after.clone()));
        }
        q.order(resources::id.asc())
            .limit(page.fetch())
            .select(ResourceRow::as_select())
            .load(c)
    })
}

/// A referral as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = referrals, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ReferralRow {
    pub id: ReferralId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub family_id: FamilyId,
    pub student_id: Option<StudentId>,
    pub resource_id: ResourceId,
    pub reason: String,
    pub status: ReferralStatus,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub follow_up_due_at: Option<NaiveDateTime>,
    pub outcome_note: Option<String>,
    pub visibility: ReferralVisibility,
    pub referred_by: String,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for ReferralRow {
    const TYPE: ResourceType = ResourceType::Referrals;
    stored_in!(referrals);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn family_id(&self) -> Option<String> {
        Some(self.family_id.to_string())
    }
    fn student_id(&self) -> Option<String> {
        self.student_id.map(|s| s.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl ReferralRow {
    /// The fields a merge patch edits, as they stand.
    pub fn fields(&self) -> ReferralFields {
        ReferralFields {
            reason: self.reason.clone(),
            follow_up_due_at: self.follow_up_due_at.map(utc),
            outcome_note: self.outcome_note.clone(),
            visibility: self.visibility,
        }
    }

    /// The wire form.
    pub fn view(&self) -> Referral {
        Referral {
            id: self.id.uuid(),
            family_id: self.family_id.uuid(),
            student_id: self.student_id.map(|s| s.uuid()),
            resource_id: self.resource_id.uuid(),
            reason: self.reason.clone(),
            status: self.status,
            follow_up_due_at: self.follow_up_due_at.map(utc),
            outcome_note: self.outcome_note.clone(),
            visibility: self.visibility,
            referred_by: self.referred_by.clone(),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads a referral the viewer may see (a guardian: their family's, shared with the family,
/// about the family or a child they may see); else 404.
pub fn find_referral(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: ReferralId,
) -> Result<ReferralRow, ApiError> {
    let row = native!(conn, |c| referrals::table
        .filter(referrals::school_id.eq(viewer.school_id.as_str()))
        .filter(referrals::id.eq(id))
        .filter(referrals::archived_at.is_null())
        .select(ReferralRow::as_select())
        .first(c))?;
    if !viewer.sees_record(
        row.family_id,
        row.student_id,
        row.visibility == ReferralVisibility::Family,
    ) {
        return Err(ApiError::NotFound);
    }
    Ok(row)
}

/// The filters of the referrals.
#[derive(Debug, Default)]
pub struct ReferralFilters {
    pub status: Option<ReferralStatus>,
    pub resource: Option<ResourceId>,
    pub family: Option<FamilyId>,
    pub follow_up: Option<FollowUp>,
}

/// A page of the referrals the viewer may see, newest first.
pub fn list_referrals(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &ReferralFilters,
    page: &PageRequest,
    now: NaiveDateTime,
) -> QueryResult<Vec<ReferralRow>> {
    native!(conn, |c| {
        let mut q = referrals::table
            .filter(referrals::school_id.eq(viewer.school_id.clone()))
            .filter(referrals::archived_at.is_null())
            .into_boxed();
        if let Some((family, students)) = viewer.record_scope() {
            q = q
                .filter(referrals::family_id.eq(family))
                .filter(referrals::visibility.eq(ReferralVisibility::Family))
                .filter(
                    referrals::student_id
                        .is_null()
                        .or(referrals::student_id.eq_any(students.to_vec())),
                );
        }
        if let Some(s) = f.status {
            q = q.filter(referrals::status.eq(s));
        }
        if let Some(r) = f.resource {
            q = q.filter(referrals::resource_id.eq(r));
        }
        if let Some(fam) = f.family {
            q = q.filter(referrals::family_id.eq(fam));
        }
        if let Some(follow) = f.follow_up {
            let until = match follow {
                FollowUp::Due => now.date().and_hms_opt(0, 0, 0).unwrap_or(now) + Duration::days(1),
                FollowUp::Overdue => now,
            };
            q = q
                .filter(
                    referrals::status.eq_any([ReferralStatus::Referred, ReferralStatus::Contacted]),
                )
                .filter(referrals::follow_up_due_at.lt(until));
        }
        if let Some(after) = &page.after {
            q = q.filter(referrals::id.lt(after.clone()));
        }
        q.order(referrals::id.desc())
            .limit(page.fetch())
            .select(ReferralRow::as_select())
            .load(c)
    })
}
