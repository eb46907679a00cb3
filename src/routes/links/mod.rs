//! Guardian–student links: which adult stands in which relation to which child, since when,
//! and what they may see and be told.

pub mod store;
pub mod wire;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::store::LinkRow;
pub use self::wire::{Link, LinkInput, LinkPatch, ListLinksQuery};
use super::{guardians, single, students, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Scope};
use crate::db::Action;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{GuardianId, StudentId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_student_guardians)
        .service(link_guardian)
        .service(get_student_guardian)
        .service(update_student_guardian)
        .service(unlink_guardian);
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
    let student = StudentId(id.into_inner());
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            students::store::find(conn, &viewer, student)?;
            let rows = store::list(conn, &viewer, student, q.current, today, &page)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view(today)))
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
    let student = StudentId(id.into_inner());
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                students::store::find(tx.conn(), &viewer, student)?;
                let guardian = GuardianId(body.value.guardian_id);
                if !guardians::store::exists(tx.conn(), &viewer.school_id, guardian)? {
                    return Err(ApiError::unprocessable_field(
                        "guardian_id",
                        "not_found",
                        "no such guardian in this school",
                    ));
                }
                let row = LinkRow::new(&viewer.school_id, student, body.value, tx.now());
                tx.create(&row)?;
                let location = format!("/v1/students/{student}/guardians/{guardian}");
                Created::new(&row.view(tx.today()), location, 1)
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
    let (student, guardian) = (StudentId(student), GuardianId(guardian));
    let today = state.clock.today();
    let link = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(store::find(conn, &viewer, student, guardian)?.view(today))
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
    let (student, guardian) = (StudentId(student), GuardianId(guardian));
    let link = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let today = tx.today();
            let current = store::find(tx.conn(), &viewer, student, guardian)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view(today));
            };
            if GuardianId(input.guardian_id) != guardian {
                return Err(ApiError::field(
                    "guardian_id",
                    "immutable",
                    "cannot change; archive this link and link again",
                ));
            }
            input.check_dates()?;
            Ok(tx
                .revise(&current, Action::Update, |row| row.set(input))?
                .view(today))
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
    let (student, guardian) = (StudentId(student), GuardianId(guardian));
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, student, guardian)?;
            if_match.check(current.version)?;
            tx.archive(&current)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
