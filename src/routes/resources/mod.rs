//! The community resources directory: the services the school connects families with
//! (counselling, health, food, housing, financial aid, legal aid, tutoring, language classes,
//! childcare), with the languages they serve and who may use them. Referrals of families to
//! them live in `routes::referrals` and share this module's wire and store.

pub mod store;
pub mod wire;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::store::{ResourceFilters, ResourceRow};
pub use self::wire::{
    Cost, ListResourcesQuery, Resource, ResourceCategory, ResourceFields, ResourcePatch,
};
use super::{single, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Role, Scope};
use crate::db::Action;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::ResourceId;
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_resources)
        .service(create_resource)
        .service(get_resource)
        .service(update_resource)
        .service(delete_resource);
}

/// 403 for a guardian: the directory is the school's to keep.
fn staff_writes(caller: &Caller) -> Result<(), ApiError> {
    caller.require(Scope::EngagementWrite)?;
    if caller.role == Role::Guardian {
        return Err(ApiError::Forbidden(
            "the school keeps the resources directory; guardians read it".into(),
        ));
    }
    Ok(())
}

/// List community resources
///
/// Oldest first. Guardians see the active ones. Scope: `engagement:read`.
#[utoipa::path(
    tag = "resources",
    params(ListResourcesQuery),
    responses((status = 200, description = "A page of resources", body = Page<Resource>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/resources")]
pub async fn list_resources(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListResourcesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let q = query.0;
    let filters = ResourceFilters {
        category: q.category,
        language: q.language.map(|l| l.as_str().to_string()),
        q: q.q,
        active: q.active,
    };
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let rows = store::list(conn, &viewer, &filters, &page)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view()))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Add a community resource
///
/// Honours `Idempotency-Key`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "resources",
    request_body = ResourceFields,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Added", body = Resource,
            headers(("Location" = String, description = "The resource's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/resources")]
pub async fn create_resource(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<ResourceFields>,
) -> Result<HttpResponse, ApiError> {
    staff_writes(&caller)?;
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let row = ResourceRow::new(&viewer.school_id, body.value, tx.now());
                tx.create(&row)?;
                Created::new(&row.view(), format!("/v1/resources/{}", row.id), 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a community resource
///
/// Scope: `engagement:read`.
#[utoipa::path(
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource's id")),
    responses(
        (status = 200, description = "The resource", body = Resource, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/resources/{id}")]
pub async fn get_resource(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let id = ResourceId(id.into_inner());
    let now = state.clock.now();
    let resource = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            Ok(store::find(conn, &viewer, id)?.view())
        })
        .await?;
    Ok(single(&resource, resource.version))
}

/// Change a community resource
///
/// A JSON Merge Patch of `ResourceFields`. Honours `If-Match`. Scope: `engagement:write`
/// (staff).
#[utoipa::path(
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource's id"), IfMatch),
    request_body(content = ResourcePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed resource", body = Resource, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/resources/{id}")]
pub async fn update_resource(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    staff_writes(&caller)?;
    let id = ResourceId(id.into_inner());
    let resource = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let Some(after) = merge_patch::merge_into(&current.fields(), patch.0)? else {
                return Ok(current.view());
            };
            Ok(tx
                .revise(&current, Action::Update, |r| r.set(after))?
                .view())
        })
        .await?;
    Ok(single(&resource, resource.version))
}

/// Archive a community resource
///
/// It leaves every list and GET; referrals to it keep naming it. Honours `If-Match`.
/// Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "resources",
    params(("id" = Uuid, Path, description = "The resource's id"), IfMatch),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/resources/{id}")]
pub async fn delete_resource(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    staff_writes(&caller)?;
    let id = ResourceId(id.into_inner());
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            tx.archive(&current)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
