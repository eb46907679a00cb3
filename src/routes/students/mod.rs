//! Students: the children of a family.

pub mod store;
pub mod wire;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::store::{Filters, StudentRow};
pub use self::wire::{
    ListFamilyStudentsQuery, ListStudentsQuery, Student, StudentInput, StudentPatch,
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
use crate::ids::{FamilyId, StudentId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_family_students)
        .service(create_student)
        .service(list_students)
        .service(get_student)
        .service(update_student)
        .service(delete_student);
}

/// A page of students. Under a family's path (`nested`), the family must be one the caller may
/// see (else 404); as a filter of the school-wide list, `family_id` only narrows it.
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
            Ok(page.finish(rows, |r| r.id.to_string(), StudentRow::view))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// List students
///
/// The school's students, oldest first; `family_id` narrows to one family. A guardian sees the
/// children a current link with `can_view_records` lets them see. Scope: `families:read`.
#[utoipa::path(
    tag = "students",
    params(ListStudentsQuery),
    responses((status = 200, description = "A page of students", body = Page<Student>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/students")]
pub async fn list_students(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListStudentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filters = Filters {
        family: q.family_id.map(FamilyId),
        q: q.q,
        external_id: q.external_id,
        grade_level: q.grade_level,
        has_iep: q.has_iep,
        updated_since: q.updated_since,
    };
    list(req, caller, state, filters, false, q.limit, q.cursor).await
}

/// List a family's students
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "students",
    params(("id" = Uuid, Path, description = "The family's id"), ListFamilyStudentsQuery),
    responses((status = 200, description = "A page of the family's students", body = Page<Student>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/families/{id}/students")]
pub async fn list_family_students(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<ListFamilyStudentsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filters = Filters {
        family: Some(FamilyId(id.into_inner())),
        q: q.q,
        external_id: q.external_id,
        grade_level: q.grade_level,
        has_iep: q.has_iep,
        updated_since: q.updated_since,
    };
    list(req, caller, state, filters, true, q.limit, q.cursor).await
}

/// Add a student to a family
///
/// Honours `Idempotency-Key`. Scope: `families:write`.
#[utoipa::path(
    tag = "students",
    request_body = StudentInput,
    params(
        ("id" = Uuid, Path, description = "The family's id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Created", body = Student,
            headers(("Location" = String, description = "The new student's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/families/{id}/students")]
pub async fn create_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<StudentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let family = FamilyId(id.into_inner());
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                families::store::find(tx.conn(), &viewer, family)?;
                let row = StudentRow::new(&viewer.school_id, family, body.value, tx.now());
                tx.create(&row)?;
                let location = format!("/v1/students/{}", row.id);
                Created::new(&row.view(), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a student
///
/// Scope: `families:read`.
#[utoipa::path(
    tag = "students",
    params(("id" = Uuid, Path, description = "The student's id")),
    responses(
        (status = 200, description = "The student", body = Student,
            headers(("ETag" = String, description = "The student's version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/students/{id}")]
pub async fn get_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesRead)?;
    let id = StudentId(id.into_inner());
    let today = state.clock.today();
    let student = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(store::find(conn, &viewer, id)?.view())
        })
        .await?;
    Ok(single(&student, student.version))
}

/// Change a student
///
/// A JSON Merge Patch of the fields of `StudentInput`. Honours `If-Match`.
/// Scope: `families:write`.
#[utoipa::path(
    tag = "students",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        IfMatch,
    ),
    request_body(content = StudentPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed student", body = Student,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/students/{id}")]
pub async fn update_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let id = StudentId(id.into_inner());
    let student = state
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
    Ok(single(&student, student.version))
}

/// Archive a student
///
/// The student and their links leave every list and GET; the records are kept. Honours
/// `If-Match`. Scope: `families:write`.
#[utoipa::path(
    tag = "students",
    params(
        ("id" = Uuid, Path, description = "The student's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/students/{id}")]
pub async fn delete_student(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::FamiliesWrite)?;
    let id = StudentId(id.into_inner());
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            tx.archive(&current)?;
            for link in links::store::of_student(tx.conn(), &viewer.school_id, id)? {
                tx.archive(&link)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
