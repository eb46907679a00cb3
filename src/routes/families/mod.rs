//! Families: households, their language and contact preferences.

pub mod store;
pub mod wire;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::store::FamilyRow;
pub use self::wire::{Address, Family, FamilyInput, FamilyPatch, ListFamiliesQuery};
use super::{single, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Scope};
use crate::db::{Action, Tx};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::FamilyId;
use crate::routes::{guardians, links, students};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_families)
        .service(create_family)
        .service(get_family)
        .service(update_family)
        .service(delete_family);
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
            let rows = store::list(conn, &viewer, &q, &page)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view(&viewer)))
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
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let row = FamilyRow::new(&viewer.school_id, body.value, tx.now());
                tx.create(&row)?;
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
    let id = FamilyId(id.into_inner());
    let today = state.clock.today();
    let family = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(store::find(conn, &viewer, id)?.view(&viewer))
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
    let id = FamilyId(id.into_inner());
    let family = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view(&viewer));
            };
            Ok(tx
                .revise(&current, Action::Update, |row| row.set(input))?
                .view(&viewer))
        })
        .await?;
    Ok(single(&family, family.version))
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
    let id = FamilyId(id.into_inner());
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            tx.archive(&current)?;
            archive_household(tx, &viewer, id)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Archives what hangs off an archived family, each row recorded: the links of its children
/// and of its guardians (also to children of other households), its students, its guardians.
fn archive_household(tx: &mut Tx<'_>, viewer: &Viewer, family: FamilyId) -> Result<(), ApiError> {
    let school = viewer.school_id.as_str();
    for link in links::store::of_family(tx.conn(), school, family)? {
        tx.archive(&link)?;
    }
    for student in students::store::of_family(tx.conn(), school, family)? {
        tx.archive(&student)?;
    }
    for guardian in guardians::store::of_family(tx.conn(), school, family)? {
        tx.archive(&guardian)?;
    }
    Ok(())
}
