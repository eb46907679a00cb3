//! Guardians: the adults of a family, how to reach them, and whether the school may.

pub mod store;
pub mod wire;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::store::{Filters, GuardianRow};
pub use self::wire::{
    Guardian, GuardianInput, GuardianPatch, ListFamilyGuardiansQuery, ListGuardiansQuery,
};
use super::{families, links, single, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Scope};
use crate::db::Action;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{FamilyId, GuardianId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_family_guardians)
        .service(create_guardian)
        .service(list_guardians)
        .service(get_guardian)
        .service(update_guardian)
        .service(delete_guardian);
}

/// A page of guardians. Under a family's path (`nested`), the family must be one the caller
/// may see (else 404); as a filter of the school-wide list, `family_id` only narrows it.
async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    filters: Filters,
    nested: bool,
    limit: Option<u32>,
    cursor: Option<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let page = PageRequest::new(limit, cursor.as_deref(), pagination::is_id)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            if let (true, Some(family)) = (nested, filters.family) {
                families::store::find(conn, &viewer, family)?;
            }
            let rows = store::list(conn, &viewer, &filters, &page)?;
            Ok(page.finish(rows, |r| r.id.to_string(), GuardianRow::view))
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
    let q = query.0;
    let filters = Filters {
        family: q.family_id.map(FamilyId),
        q: q.q,
        language: q.preferred_language,
        updated_since: q.updated_since,
    };
    list(req, caller, state, filters, false, q.limit, q.cursor).await
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
    let filters = Filters {
        family: Some(FamilyId(id.into_inner())),
        q: q.q,
        language: q.preferred_language,
        updated_since: q.updated_since,
    };
    list(req, caller, state, filters, true, q.limit, q.cursor).await
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
    let family = FamilyId(id.into_inner());
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                families::store::find(tx.conn(), &viewer, family)?;
                let row = GuardianRow::new(&viewer.school_id, family, body.value, tx.now());
                tx.create(&row)?;
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
    let id = GuardianId(id.into_inner());
    let today = state.clock.today();
    let guardian = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(store::find(conn, &viewer, id)?.view())
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
    let id = GuardianId(id.into_inner());
    let guardian = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            Ok(tx
                .revise(&current, Action::Update, |row| row.set(input))?
                .view())
        })
        .await?;
    Ok(single(&guardian, guardian.version))
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
    let id = GuardianId(id.into_inner());
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            tx.archive(&current)?;
            for link in links::store::of_guardian(tx.conn(), &viewer.school_id, id)? {
                tx.archive(&link)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
