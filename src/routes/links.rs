//! Guardian–student links: which adult stands in which relation to which child, since when,
//! and what they may see and be told.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::Viewer;
use super::students::find_student;
use super::{
    parse_id, save_if_version, single, utc, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors,
};
use crate::auth::{Caller, Scope};
use crate::db::schema::{guardian_student_links as links, guardians};
use crate::db::DbConnection;
use crate::domain::{whole_i32_opt, Relationship};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_student_guardians)
        .service(link_guardian)
        .service(get_student_guardian)
        .service(update_student_guardian)
        .service(unlink_guardian);
}

fn yes() -> bool {
    true
}

/// The fields of a link a client sets. `guardian_id` is fixed once linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The adult (any guardian of the school, in this family or another).
    pub guardian_id: Uuid,
    /// How the adult stands to the child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// Holds legal guardianship.
    #[serde(default)]
    pub legal_guardian: bool,
    /// The child lives with this adult.
    #[serde(default)]
    pub lives_with: bool,
    /// To be called in an emergency.
    #[serde(default)]
    pub emergency_contact: bool,
    /// Order in which to contact (1 first).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_i32_opt"
    )]
    #[schema(minimum = 1, maximum = 99)]
    #[validate(range(min = 1, max = 99))]
    pub contact_priority: Option<i32>,
    /// False: this adult sees nothing of this child.
    #[serde(default = "yes")]
    pub can_view_records: bool,
    /// A court order: nothing is sent to this adult about this child.
    #[serde(default)]
    pub contact_restricted: bool,
    /// First day the link holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_date))]
    pub starts_on: Option<NaiveDate>,
    /// Last day the link holds (not before `starts_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_date))]
    pub ends_on: Option<NaiveDate>,
}

fn plausible_date(d: &NaiveDate) -> Result<(), validator::ValidationError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let latest = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap_or_default();
    if *d < earliest || *d > latest {
        let mut e = validator::ValidationError::new("range");
        e.message = Some("must be a date from 1900-01-01 to 2199-12-31".into());
        return Err(e);
    }
    Ok(())
}

impl LinkInput {
    fn check_dates(&self) -> Result<(), ApiError> {
        match (self.starts_on, self.ends_on) {
            (Some(s), Some(e)) if e < s => Err(ApiError::field(
                "ends_on",
                "range",
                "must not be before starts_on",
            )),
            _ => Ok(()),
        }
    }
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a link: any fields of `LinkInput` but `guardian_id`.
    ///
    /// Its schema is derived from `LinkInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct LinkPatch for LinkInput, fixed ["guardian_id"];
}

/// A guardian–student link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// Liaison's id of the link.
    pub id: Uuid,
    /// The child.
    pub student_id: Uuid,
    /// The adult.
    pub guardian_id: Uuid,
    /// How the adult stands to the child.
    pub relationship: Option<Relationship>,
    /// Holds legal guardianship.
    pub legal_guardian: bool,
    /// The child lives with this adult.
    pub lives_with: bool,
    /// To be called in an emergency.
    pub emergency_contact: bool,
    /// Order in which to contact.
    pub contact_priority: Option<i32>,
    /// Whether the adult may see the child's records.
    pub can_view_records: bool,
    /// Whether contact about the child is barred.
    pub contact_restricted: bool,
    /// First day the link holds.
    pub starts_on: Option<NaiveDate>,
    /// Last day the link holds.
    pub ends_on: Option<NaiveDate>,
    /// Whether the link holds today.
    pub current: bool,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A link as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = links, treat_none_as_null = true)]
pub struct LinkRow {
    pub id: String,
    pub school_id: String,
    pub student_id: String,
    pub guardian_id: String,
    pub relationship: Option<String>,
    pub legal_guardian: bool,
    pub lives_with: bool,
    pub emergency_contact: bool,
    pub contact_priority: Option<i32>,
    pub can_view_records: bool,
    pub contact_restricted: bool,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub archived_at: Option<NaiveDateTime>,
}

impl LinkRow {
    fn input(&self) -> LinkInput {
        LinkInput {
            guardian_id: parse_id(&self.guardian_id),
            relationship: self.relationship.as_deref().and_then(Relationship::parse),
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

    fn set(&mut self, input: LinkInput) {
        self.guardian_id = input.guardian_id.to_string();
        self.relationship = input.relationship.map(|r| r.as_str().to_string());
        self.legal_guardian = input.legal_guardian;
        self.lives_with = input.lives_with;
        self.emergency_contact = input.emergency_contact;
        self.contact_priority = input.contact_priority;
        self.can_view_records = input.can_view_records;
        self.contact_restricted = input.contact_restricted;
        self.starts_on = input.starts_on;
        self.ends_on = input.ends_on;
    }

    fn view(self, today: NaiveDate) -> Link {
        let current =
            self.starts_on.is_none_or(|s| s <= today) && self.ends_on.is_none_or(|e| e >= today);
        Link {
            id: parse_id(&self.id),
            student_id: parse_id(&self.student_id),
            guardian_id: parse_id(&self.guardian_id),
            relationship: self.relationship.as_deref().and_then(Relationship::parse),
            legal_guardian: self.legal_guardian,
            lives_with: self.lives_with,
            emergency_contact: self.emergency_contact,
            contact_priority: self.contact_priority,
            can_view_records: self.can_view_records,
            contact_restricted: self.contact_restricted,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            current,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Archives the active links of a student or of a guardian (or both given: that one link).
pub fn archive_links(
    conn: &mut DbConnection,
    school: &str,
    student: Option<&str>,
    guardian: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut target = links::table
        .filter(links::school_id.eq(school))
        .filter(links::archived_at.is_null())
        .into_boxed();
    if let Some(s) = student {
        target = target.filter(links::student_id.eq(s));
    }
    if let Some(g) = guardian {
        target = target.filter(links::guardian_id.eq(g));
    }
    let ids: Vec<String> = target.select(links::id).load(conn)?;
    diesel::update(links::table.filter(links::id.eq_any(ids)))
        .set((
            links::archived_at.eq(now),
            links::updated_at.eq(now),
            links::version.eq(links::version + 1),
        ))
        .execute(conn)
}

/// Loads the active link between a student the caller may see and a guardian. A guardian
/// caller sees only their own links.
fn find_link(
    conn: &mut DbConnection,
    viewer: &Viewer,
    student: &str,
    guardian: &str,
) -> Result<LinkRow, ApiError> {
    find_student(conn, viewer, student)?;
    if let Some(g) = &viewer.guardian {
        if g.guardian_id != guardian {
            return Err(ApiError::NotFound);
        }
    }
    Ok(links::table
        .filter(links::school_id.eq(&viewer.school_id))
        .filter(links::student_id.eq(student))
        .filter(links::guardian_id.eq(guardian))
        .filter(links::archived_at.is_null())
        .select(LinkRow::as_select())
        .first(conn)?)
}

/// Paging of a student's links.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListLinksQuery {
    /// Only links that hold today (`true`) or do not (`false`).
    pub current: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List a student's guardians
///
/// The links of a student, oldest first. A guardian sees only their own link.
/// Scope: `families:read`.
#[utoipa::path(
    tag = "links",
    params(("id" = Uuid, Path, description = "The student's id"), ListLinksQuery),
    responses((status = 200, description = "A page of links", body = Page<Link>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/students/{id}/guardians")]
pub async fn list_student_guardians(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<ListLinksQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let q = query.0;
    let student = id.into_inner().to_string();
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            find_student(conn, &viewer, &student)?;
            let mut sql = links::table
                .filter(links::school_id.eq(viewer.school_id.clone()))
                .filter(links::student_id.eq(student))
                .filter(links::archived_at.is_null())
                .select(LinkRow::as_select())
                .order(links::id.asc())
                .limit(page.fetch())
                .into_boxed();
            if let Some(g) = &viewer.guardian {
                sql = sql.filter(links::guardian_id.eq(g.guardian_id.clone()));
            }
            match q.current {
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
            let rows = sql.load::<LinkRow>(conn)?;
            Ok(page.finish(rows, |r| r.id.clone(), |r| r.view(today)))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Link a guardian to a student
///
/// The guardian may belong to another family of the school (households split across two
/// homes). One active link per pair. Honours `Idempotency-Key`. Scope: `families:write`.
#[utoipa::path(
    tag = "links",
    request_body = LinkInput,
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Linked", body = Link,
            headers(("Location" = String, description = "The link's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/students/{id}/guardians")]
pub async fn link_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<LinkInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    body.value.check_dates()?;
    let student = id.into_inner().to_string();
    let now = state.clock.now();
    let today = state.clock.today();
    let created = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            idempotency::once(conn, &caller, &key, &body.fingerprint, now, |conn| {
                find_student(conn, &viewer, &student)?;
                let guardian = body.value.guardian_id.to_string();
                let exists: i64 = guardians::table
                    .filter(guardians::school_id.eq(&viewer.school_id))
                    .filter(guardians::id.eq(&guardian))
                    .filter(guardians::archived_at.is_null())
                    .count()
                    .get_result(conn)?;
                if exists == 0 {
                    return Err(ApiError::unprocessable_field(
                        "guardian_id",
                        "not_found",
                        "no such guardian in this school",
                    ));
                }
                let mut row = LinkRow {
                    id: Uuid::now_v7().to_string(),
                    school_id: viewer.school_id.clone(),
                    student_id: student.clone(),
                    guardian_id: guardian.clone(),
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
                row.set(body.value);
                diesel::insert_into(links::table)
                    .values(&row)
                    .execute(conn)?;
                let location = format!("/v1/students/{student}/guardians/{guardian}");
                Created::new(&row.view(today), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a link
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "links",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        ("guardian_id" = Uuid, Path, description = "The guardian's id"),
    ),
    responses(
        (status = 200, description = "The link", body = Link,
            headers(("ETag" = String, description = "The link's version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/students/{id}/guardians/{guardian_id}")]
pub async fn get_student_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let (student, guardian) = path.into_inner();
    let today = state.clock.today();
    let link = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(find_link(conn, &viewer, &student.to_string(), &guardian.to_string())?.view(today))
        })
        .await?;
    Ok(single(&link, link.version))
}

/// Change a link
///
/// A JSON Merge Patch of the link's fields (`guardian_id` stays). Honours `If-Match`.
/// Scope: `families:write`.
#[utoipa::path(
    tag = "links",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        ("guardian_id" = Uuid, Path, description = "The guardian's id"),
        IfMatch,
    ),
    request_body(content = LinkPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed link", body = Link,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/students/{id}/guardians/{guardian_id}")]
pub async fn update_student_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let (student, guardian) = path.into_inner();
    let now = state.clock.now();
    let today = state.clock.today();
    let link = state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let current = find_link(conn, &viewer, &student.to_string(), &guardian.to_string())?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view(today));
            };
            if input.guardian_id != guardian {
                return Err(ApiError::field(
                    "guardian_id",
                    "immutable",
                    "cannot change; archive this link and link again",
                ));
            }
            input.check_dates()?;
            let mut row = current.clone();
            row.set(input);
            row.version += 1;
            row.updated_at = now;
            save_if_version!(conn, links, &row, current.version)?;
            Ok(row.view(today))
        })
        .await?;
    Ok(single(&link, link.version))
}

/// Unlink a guardian from a student
///
/// The link is archived (kept for the record). Honours `If-Match`. Scope: `families:write`.
#[utoipa::path(
    tag = "links",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        ("guardian_id" = Uuid, Path, description = "The guardian's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Unlinked"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/students/{id}/guardians/{guardian_id}")]
pub async fn unlink_guardian(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let (student, guardian) = path.into_inner();
    let now = state.clock.now();
    let today = state.clock.today();
    state
        .db
        .write(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let (student, guardian) = (student.to_string(), guardian.to_string());
            let current = find_link(conn, &viewer, &student, &guardian)?;
            if_match.check(current.version)?;
            let mut row = current.clone();
            row.archived_at = Some(now);
            row.updated_at = now;
            row.version += 1;
            save_if_version!(conn, links, &row, current.version)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
