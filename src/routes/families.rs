//! Families: households, their language and contact preferences.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::Viewer;
use super::{
    parse_id, save_if_version, single, utc, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors,
};
use crate::auth::{Caller, Scope};
use crate::db::schema::{families, guardian_student_links as links, guardians, students};
use crate::db::{casefold, DbConnection};
use crate::domain::{identifier, plain_text, Channel, LanguageTag};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_families)
        .service(create_family)
        .service(get_family)
        .service(update_family)
        .service(delete_family);
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    #[schema(example = "12 Elm Street")]
    pub line1: Option<String>,
    /// Apartment, suite, building.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub line2: Option<String>,
    /// City or town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "Springfield")]
    pub city: Option<String>,
    /// State, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    #[validate(length(min = 1, max = 20), custom(function = plain_text))]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = country_code))]
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

impl Address {
    fn is_empty(&self) -> bool {
        [
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
        .iter()
        .all(|f| f.is_none())
    }
}

fn no_empty_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    Ok(Option::<Address>::deserialize(d)?.filter(|a| !a.is_empty()))
}

fn country_code(s: &str) -> Result<(), validator::ValidationError> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        let mut e = validator::ValidationError::new("invalid");
        e.message = Some("must be an ISO 3166-1 alpha-2 code such as US".into());
        Err(e)
    }
}

/// The fields of a family a client sets: the body of a create, and what a merge patch edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct FamilyInput {
    /// How the family is addressed (`The López-García family`).
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    #[schema(example = "The López-García family")]
    pub display_name: String,
    /// The SIS's id for the household; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(example = "SIS-F-10442")]
    pub external_id: Option<String>,
    /// The language the household prefers (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_language: Option<LanguageTag>,
    /// How the household prefers to be contacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_channel: Option<Channel>,
    /// Whether the household agreed to text messages.
    #[serde(default)]
    pub sms_opt_in: bool,
    /// Whether the household opted out of directory information (FERPA).
    #[serde(default)]
    pub directory_opt_out: bool,
    /// Postal address (one with no fields is no address).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "no_empty_address"
    )]
    #[validate(nested)]
    pub address: Option<Address>,
    /// Staff notes; never shown to guardians.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 10000)]
    #[validate(length(min = 1, max = 10000), custom(function = plain_text))]
    pub notes: Option<String>,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a family: any fields of `FamilyInput`; `null` clears an optional one.
    ///
    /// Its schema is derived from `FamilyInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct FamilyPatch for FamilyInput;
}

/// A family.
#[derive(Debug, Serialize, ToSchema)]
pub struct Family {
    /// Liaison's id.
    pub id: Uuid,
    /// The SIS's id.
    pub external_id: Option<String>,
    /// How the family is addressed.
    pub display_name: String,
    /// Preferred language (BCP 47).
    pub primary_language: Option<String>,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// Consent to text messages.
    pub sms_opt_in: bool,
    /// Opted out of directory information.
    pub directory_opt_out: bool,
    /// Postal address.
    pub address: Option<Address>,
    /// Staff notes (`null` for guardians).
    pub notes: Option<String>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A family as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = families, treat_none_as_null = true)]
pub struct FamilyRow {
    pub id: String,
    pub school_id: String,
    pub external_id: Option<String>,
    pub display_name: String,
    pub primary_language: Option<String>,
    pub preferred_channel: Option<String>,
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
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

impl FamilyRow {
    fn address(&self) -> Option<Address> {
        let a = Address {
            line1: self.address_line1.clone(),
            line2: self.address_line2.clone(),
            city: self.address_city.clone(),
            region: self.address_region.clone(),
            postal_code: self.address_postal_code.clone(),
            country: self.address_country.clone(),
        };
        let empty = Address {
            line1: None,
            line2: None,
            city: None,
            region: None,
            postal_code: None,
            country: None,
        };
        (a != empty).then_some(a)
    }

    fn input(&self) -> FamilyInput {
        FamilyInput {
            display_name: self.display_name.clone(),
            external_id: self.external_id.clone(),
            primary_language: self
                .primary_language
                .as_deref()
                .and_then(|l| LanguageTag::parse(l).ok()),
            preferred_channel: self.preferred_channel.as_deref().and_then(Channel::parse),
            sms_opt_in: self.sms_opt_in,
            directory_opt_out: self.directory_opt_out,
            address: self.address(),
            notes: self.notes.clone(),
        }
    }

    fn set(&mut self, input: FamilyInput) {
        let address = input.address.unwrap_or(Address {
            line1: None,
            line2: None,
            city: None,
            region: None,
            postal_code: None,
            country: None,
        });
        self.display_name = input.display_name;
        self.external_id = input.external_id;
        self.primary_language = input.primary_language.map(String::from);
        self.preferred_channel = input.preferred_channel.map(|c| c.as_str().to_string());
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

    /// The wire form, as this viewer may see it.
    fn view(self, viewer: &Viewer) -> Family {
        Family {
            id: parse_id(&self.id),
            address: self.address(),
            external_id: self.external_id,
            display_name: self.display_name,
            primary_language: self.primary_language,
            preferred_channel: self.preferred_channel.as_deref().and_then(Channel::parse),
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

/// Loads an active family of the caller's school that the caller may see.
pub fn find_family(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: &str,
) -> Result<FamilyRow, ApiError> {
    viewer.check_family(id)?;
    Ok(families::table
        .filter(families::school_id.eq(&viewer.school_id))
        .filter(families::id.eq(id))
        .filter(families::archived_at.is_null())
        .select(FamilyRow::as_select())
        .first(conn)?)
}

/// Filters of the family list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFamiliesQuery {
    /// Families whose display name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// The family with this SIS id.
    #[param(max_length = 100)]
    #[validate(length(max = 100))]
    pub external_id: Option<String>,
    /// Families preferring this language (BCP 47).
    #[param(value_type = Option<LanguageTag>)]
    pub primary_language: Option<LanguageTag>,
    /// Families changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A `LIKE` pattern matching `q` anywhere, with `%`, `_` and `\` taken literally.
pub fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// List families
///
/// The school's families, oldest first. A guardian sees only their own family.
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "families",
    params(ListFamiliesQuery),
    responses((status = 200, description = "A page of families", body = Page<Family>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/families")]
pub async fn list_families(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListFamiliesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let mut sql = families::table
                .filter(families::school_id.eq(viewer.school_id.clone()))
                .filter(families::archived_at.is_null())
                .select(FamilyRow::as_select())
                .order(families::id.asc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(g) = &viewer.guardian {
                sql = sql.filter(families::id.eq(g.family_id.clone()));
            }
            if let Some(text) = &q.q {
                sql = sql.filter(
                    casefold(families::display_name)
                        .like(contains_pattern(text))
                        .escape('\\'),
                );
            }
            if let Some(ext) = q.external_id {
                sql = sql.filter(families::external_id.eq(ext));
            }
            if let Some(lang) = q.primary_language {
                sql = sql.filter(families::primary_language.eq(String::from(lang)));
            }
            if let Some(since) = q.updated_since {
                sql = sql.filter(families::updated_at.ge(since.naive_utc()));
            }
            if let Some(after) = &page.after {
                sql = sql.filter(families::id.gt(after.clone()));
            }
            let rows = sql.load::<FamilyRow>(conn)?;
            Ok(page.finish(rows, |r| r.id.clone(), |r| r.view(&viewer)))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Create a family
///
/// Honours `Idempotency-Key`. Scope: `families:write`.
#[utoipa::path(
    tag = "families",
    request_body = FamilyInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = Family,
            headers(("Location" = String, description = "The new family's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/families")]
pub async fn create_family(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<FamilyInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let now = state.clock.now();
    let today = state.clock.today();
    let created = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            idempotency::once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                let mut row = FamilyRow {
                    id: Uuid::now_v7().to_string(),
                    school_id: caller.school_id.clone(),
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
                row.set(body.value);
                diesel::insert_into(families::table)
                    .values(&row)
                    .execute(conn)?;
                let location = format!("/v1/families/{}", row.id);
                Created::new(&row.view(&viewer), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a family
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "families",
    params(("id" = Uuid, Path, description = "The family's id")),
    responses(
        (status = 200, description = "The family", body = Family,
            headers(("ETag" = String, description = "The family's version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/families/{id}")]
pub async fn get_family(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let id = id.into_inner().to_string();
    let today = state.clock.today();
    let family = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(find_family(conn, &viewer, &id)?.view(&viewer))
        })
        .await?;
    Ok(single(&family, family.version))
}

/// Change a family
///
/// A JSON Merge Patch (RFC 7396) of the fields of `FamilyInput`. Honours `If-Match`.
/// Scope: `families:write`.
#[utoipa::path(
    tag = "families",
    params(
        ("id" = Uuid, Path, description = "The family's id"),
        IfMatch,
    ),
    request_body(content = FamilyPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed family", body = Family,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/families/{id}")]
pub async fn update_family(
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
    let family = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find_family(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view(&viewer));
            };
            let mut row = current.clone();
            row.set(input);
            row.version += 1;
            row.updated_at = now;
            save(conn, &row, current.version)?;
            Ok(row.view(&viewer))
        })
        .await?;
    Ok(single(&family, family.version))
}

/// Writes `row` if the stored version is still `expected` (else 412).
fn save(conn: &mut DbConnection, row: &FamilyRow, expected: i64) -> Result<(), ApiError> {
    save_if_version!(conn, families, row, expected)
}

/// Archive a family
///
/// The family, its guardians, its students and their links leave every list and GET; the
/// records are kept. Honours `If-Match`. Scope: `families:write`.
#[utoipa::path(
    tag = "families",
    params(
        ("id" = Uuid, Path, description = "The family's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/families/{id}")]
pub async fn delete_family(
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
            let current = find_family(conn, &viewer, &id)?;
            if_match.check(current.version)?;
            let mut row = current.clone();
            row.archived_at = Some(now);
            row.updated_at = now;
            row.version += 1;
            save(conn, &row, current.version)?;
            let school = viewer.school_id.as_str();
            let family_students = students::table
                .filter(students::school_id.eq(school))
                .filter(students::family_id.eq(&id))
                .select(students::id);
            let family_guardians = guardians::table
                .filter(guardians::school_id.eq(school))
                .filter(guardians::family_id.eq(&id))
                .select(guardians::id);
            diesel::update(
                links::table
                    .filter(links::school_id.eq(school))
                    .filter(links::archived_at.is_null())
                    .filter(
                        links::student_id
                            .eq_any(family_students)
                            .or(links::guardian_id.eq_any(family_guardians)),
                    ),
            )
            .set((
                links::archived_at.eq(now),
                links::updated_at.eq(now),
                links::version.eq(links::version + 1),
            ))
            .execute(conn)?;
            diesel::update(
                students::table
                    .filter(students::school_id.eq(school))
                    .filter(students::family_id.eq(&id))
                    .filter(students::archived_at.is_null()),
            )
            .set((
                students::archived_at.eq(now),
                students::updated_at.eq(now),
                students::version.eq(students::version + 1),
            ))
            .execute(conn)?;
            diesel::update(
                guardians::table
                    .filter(guardians::school_id.eq(school))
                    .filter(guardians::family_id.eq(&id))
                    .filter(guardians::archived_at.is_null()),
            )
            .set((
                guardians::archived_at.eq(now),
                guardians::updated_at.eq(now),
                guardians::version.eq(guardians::version + 1),
            ))
            .execute(conn)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
