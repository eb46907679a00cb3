//! Guardians: the adults of a family, how to reach them, and whether the school may.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::Viewer;
use super::families::{contains_pattern, find_family};
use super::links::archive_links;
use super::{
    parse_id, save_if_version, single, utc, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors,
};
use crate::auth::{Caller, Scope};
use crate::db::schema::guardians;
use crate::db::{casefold, DbConnection};
use crate::domain::{plain_text, Channel, E164Phone, Email, LanguageTag, Relationship};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_family_guardians)
        .service(create_guardian)
        .service(list_guardians)
        .service(get_guardian)
        .service(update_guardian)
        .service(delete_guardian);
}

fn yes() -> bool {
    true
}

/// The fields of a guardian a client sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct GuardianInput {
    /// Given name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "María")]
    pub given_name: String,
    /// Family name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "López")]
    pub family_name: String,
    /// How this adult stands in the household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Phone number (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<E164Phone>,
    /// Preferred language (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<LanguageTag>,
    /// Preferred channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_channel: Option<Channel>,
    /// The household's first contact.
    #[serde(default)]
    pub is_primary: bool,
    /// Consent to text messages; false until given.
    #[serde(default)]
    pub sms_opt_in: bool,
    /// False under a court order: nothing may be sent to or shown to this adult.
    #[serde(default = "yes")]
    pub contact_allowed: bool,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a guardian: any fields of `GuardianInput`; `null` clears an optional one.
    ///
    /// Its schema is derived from `GuardianInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct GuardianPatch for GuardianInput;
}

/// A guardian.
#[derive(Debug, Serialize, ToSchema)]
pub struct Guardian {
    /// Liaison's id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Relation in the household.
    pub relationship: Option<Relationship>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// Preferred language.
    pub preferred_language: Option<String>,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// The household's first contact.
    pub is_primary: bool,
    /// Consent to text messages.
    pub sms_opt_in: bool,
    /// Whether the school may contact this adult.
    pub contact_allowed: bool,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A guardian as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = guardians, treat_none_as_null = true)]
pub struct GuardianRow {
    pub id: String,
    pub school_id: String,
    pub family_id: String,
    pub given_name: String,
    pub family_name: String,
    pub relationship: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_language: Option<String>,
    pub preferred_channel: Option<String>,
    pub is_primary: bool,
    pub sms_opt_in: bool,
    pub contact_allowed: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

impl GuardianRow {
    fn new(
        id: String,
        school_id: String,
        family_id: String,
        input: GuardianInput,
        now: NaiveDateTime,
    ) -> Self {
        let mut row = GuardianRow {
            id,
            school_id,
            family_id,
            given_name: String::new(),
            family_name: String::new(),
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

    fn input(&self) -> GuardianInput {
        GuardianInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            relationship: self.relationship.as_deref().and_then(Relationship::parse),
            email: self.email.as_deref().and_then(|e| Email::parse(e).ok()),
            phone: self.phone.as_deref().and_then(|p| E164Phone::parse(p).ok()),
            preferred_language: self
                .preferred_language
                .as_deref()
                .and_then(|l| LanguageTag::parse(l).ok()),
            preferred_channel: self.preferred_channel.as_deref().and_then(Channel::parse),
            is_primary: self.is_primary,
            sms_opt_in: self.sms_opt_in,
            contact_allowed: self.contact_allowed,
        }
    }

    fn set(&mut self, input: GuardianInput) {
        self.given_name = input.given_name;
        self.family_name = input.family_name;
        self.relationship = input.relationship.map(|r| r.as_str().to_string());
        self.email = input.email.map(String::from);
        self.phone = input.phone.map(String::from);
        self.preferred_language = input.preferred_language.map(String::from);
        self.preferred_channel = input.preferred_channel.map(|c| c.as_str().to_string());
        self.is_primary = input.is_primary;
        self.sms_opt_in = input.sms_opt_in;
        self.contact_allowed = input.contact_allowed;
    }

    fn view(self) -> Guardian {
        Guardian {
            id: parse_id(&self.id),
            family_id: parse_id(&self.family_id),
            relationship: self.relationship.as_deref().and_then(Relationship::parse),
            preferred_channel: self.preferred_channel.as_deref().and_then(Channel::parse),
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            phone: self.phone,
            preferred_language: self.preferred_language,
            is_primary: self.is_primary,
            sms_opt_in: self.sms_opt_in,
            contact_allowed: self.contact_allowed,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads an active guardian of the caller's school that the caller may see.
pub fn find_guardian(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<GuardianRow, ApiError> {
    let row = guardians::table
        .filter(guardians::school_id.eq(&viewer.school_id))
        .filter(guardians::id.eq(id))
        .filter(guardians::archived_at.is_null())
        .select(GuardianRow::as_select())
        .first(conn)?;
    viewer.check_family(&row.family_id)?;
    Ok(row)
}

/// Filters of the school-wide guardian list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListGuardiansQuery {
    /// Guardians of this family.
    pub family_id: Option<Uuid>,
    /// Guardians whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// Guardians preferring this language (BCP 47).
    #[param(value_type = Option<LanguageTag>)]
    pub preferred_language: Option<LanguageTag>,
    /// Guardians changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of a family's guardian list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFamilyGuardiansQuery {
    /// Guardians whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// Guardians preferring this language (BCP 47).
    #[param(value_type = Option<LanguageTag>)]
    pub preferred_language: Option<LanguageTag>,
    /// Guardians changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: ListGuardiansQuery,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let family = q.family_id.map(|f| f.to_string());
            if let Some(f) = &family {
                find_family(conn, &viewer, f)?;
            }
            let mut sql = guardians::table
                .filter(guardians::school_id.eq(viewer.school_id.clone()))
                .filter(guardians::archived_at.is_null())
                .select(GuardianRow::as_select())
                .order(guardians::id.asc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(g) = &viewer.guardian {
                sql = sql.filter(guardians::family_id.eq(g.family_id.clone()));
            }
            if let Some(f) = family {
                sql = sql.filter(guardians::family_id.eq(f));
            }
            if let Some(text) = &q.q {
                let pattern = contains_pattern(text);
                sql = sql.filter(
                    casefold(guardians::given_name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(casefold(guardians::family_name).like(pattern).escape('\\')),
                );
            }
            if let Some(lang) = q.preferred_language {
                sql = sql.filter(guardians::preferred_language.eq(String::from(lang)));
            }
            if let Some(since) = q.updated_since {
                sql = sql.filter(guardians::updated_at.ge(since.naive_utc()));
            }
            if let Some(after) = &page.after {
                sql = sql.filter(guardians::id.gt(after.clone()));
            }
            let rows = sql.load::<GuardianRow>(conn)?;
            Ok(page.finish(rows, |r| r.id.clone(), GuardianRow::view))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// List guardians
///
/// The school's guardians, oldest first; `family_id` narrows to one family. A guardian sees
/// the adults of their own family. Scope: `families:read`.
#[utoipa::path(
    tag = "guardians",
    params(ListGuardiansQuery),
    responses((status = 200, description = "A page of guardians", body = Page<Guardian>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/guardians")]
pub async fn list_guardians(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListGuardiansQuery>,
) -> Result<HttpResponse, ApiError> {
    list(req, caller, state, query.0).await
}

/// List a family's guardians
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "guardians",
    params(("id" = Uuid, Path, description = "The family's id"), ListFamilyGuardiansQuery),
    responses((status = 200, description = "A page of the family's guardians", body = Page<Guardian>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/families/{id}/guardians")]
pub async fn list_family_guardians(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<ListFamilyGuardiansQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let q = ListGuardiansQuery {
        family_id: Some(id.into_inner()),
        q: q.q,
        preferred_language: q.preferred_language,
        updated_since: q.updated_since,
        limit: q.limit,
        cursor: q.cursor,
    };
    list(req, caller, state, q).await
}

/// Add a guardian to a family
///
/// Honours `Idempotency-Key`. Scope: `families:write`.
#[utoipa::path(
    tag = "guardians",
    request_body = GuardianInput,
    params(
        ("id" = Uuid, Path, description = "The family's id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Created", body = Guardian,
            headers(("Location" = String, description = "The new guardian's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/families/{id}/guardians")]
pub async fn create_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<GuardianInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let family_id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    let created = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            idempotency::once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                find_family(conn, &viewer, &family_id)?;
                let row = GuardianRow::new(
                    Uuid::now_v7().to_string(),
                    caller.school_id.clone(),
                    family_id,
                    body.value,
                    now,
                );
                diesel::insert_into(guardians::table)
                    .values(&row)
                    .execute(conn)?;
                let location = format!("/v1/guardians/{}", row.id);
                Created::new(&row.view(), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a guardian
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "guardians",
    params(("id" = Uuid, Path, description = "The guardian's id")),
    responses(
        (status = 200, description = "The guardian", body = Guardian,
            headers(("ETag" = String, description = "The guardian's version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/guardians/{id}")]
pub async fn get_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let id = id.into_inner().to_string();
    let today = state.clock.today();
    let guardian = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(find_guardian(conn, &viewer, &id)?.view())
        })
        .await?;
    Ok(single(&guardian, guardian.version))
}

/// Change a guardian
///
/// A JSON Merge Patch of the fields of `GuardianInput`. Honours `If-Match`.
/// Scope: `families:write`.
#[utoipa::path(
    tag = "guardians",
    params(
        ("id" = Uuid, Path, description = "The guardian's id"),
        IfMatch,
    ),
    request_body(content = GuardianPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed guardian", body = Guardian,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/guardians/{id}")]
pub async fn update_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    let guardian = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find_guardian(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            let mut row = current.clone();
            row.set(input);
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            Ok(row.view())
        })
        .await?;
    Ok(single(&guardian, guardian.version))
}

fn save(conn: &mut DbConnection, row: &GuardianRow, expected: i64) -> Result<(), ApiError> {
    save_if_version!(conn, guardians, row, expected)
}

/// Archive a guardian
///
/// The guardian and their links to students leave every list and GET; the records are kept.
/// Honours `If-Match`. Scope: `families:write`.
#[utoipa::path(
    tag = "guardians",
    params(
        ("id" = Uuid, Path, description = "The guardian's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/guardians/{id}")]
pub async fn delete_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find_guardian(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let mut row = current.clone();
            row.archived_at = Some(now);
            row.updated_at = now;
            row.version += 1;
            save(conn, &row, current.version)?;
            archive_links(conn, &viewer.school_id, None, Some(&id), now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
