//! The audit log: every recorded write, for auditors, and a student's access log, for their
//! guardians (FERPA: parents may see who touched their child's records). Read-only: no route
//! changes or removes an event.

pub mod store;
pub mod wire;

use actix_web::{get, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::store::{AuditEventRow, Filters};
pub use self::wire::{AccessLogEntry, AccessLogQuery, AuditEvent, ListAuditEventsQuery};
use super::ReadErrors;
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Scope};
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{FamilyId, StudentId};
use crate::routes::students;
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_audit_events)
        .service(list_student_access_log);
}

/// List audit events
///
/// Every recorded write of the school — create, update, archive, transition, acknowledge,
/// comment, rate, destroy — and every read of IEP notes (`read`), newest first: who (`actor`, `actor_role`), what (`action`, `resource_type`,
/// `resource_id`, and the family and student the record concerns), when, from which request,
/// and why (`purpose`, from the writer's `X-Purpose`). The log is append-only.
///
/// Scope: `audit:read`.
#[utoipa::path(
    tag = "audit",
    params(ListAuditEventsQuery),
    responses(
        (status = 200, description = "A page of audit events, newest first", body = Page<AuditEvent>,
            headers(("Link" = String, description = "The next page, when there is one"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/audit-events")]
pub async fn list_audit_events(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListAuditEventsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AuditRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), store::is_key)?;
    let filters = Filters {
        actor: q.actor,
        action: q.action,
        resource_type: q.resource_type,
        resource_id: q.resource_id,
        family: q.family_id.map(FamilyId),
        student: q.student_id.map(StudentId),
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        shared_with: None,
    };
    let school = caller.school_id.clone();
    let result = state
        .db
        .read(move |conn| {
            let after = page.after.as_deref().and_then(store::parse_key);
            let rows = store::list(conn, &school, &filters, after, page.fetch())?;
            Ok(page.finish(rows, AuditEventRow::key, AuditEventRow::view))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// A student's access log
///
/// Who touched this child's records, newest first: their `sub` and role, when, what they did
/// and to which kind of record, and the purpose they stated — never the content, nor which
/// record. A guardian reads the log of a child a current link with `can_view_records` lets them
/// see, and of it only the accesses to the child's own records and to records shared with their
/// family; staff with `audit:read` read any child's of their school, archived children included.
/// Any other child is a 404.
///
/// Scope: `audit:read` (staff), `families:read` (a guardian).
#[utoipa::path(
    tag = "audit",
    params(("id" = Uuid, Path, description = "The student's id"), AccessLogQuery),
    responses(
        (status = 200, description = "A page of the access log, newest first", body = Page<AccessLogEntry>,
            headers(("Link" = String, description = "The next page, when there is one"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/students/{id}/access-log")]
pub async fn list_student_access_log(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<AccessLogQuery>,
) -> Result<HttpResponse, ApiError> {
    // A guardian's right to their child's log comes from their link, not from an audit scope.
    caller.require(if caller.guardian().is_some() {
        Scope::FamiliesRead
    } else {
        Scope::AuditRead
    })?;
    let id = StudentId(id.into_inner());
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), store::is_key)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let shared_with = match &viewer.guardian {
                Some(g) => {
                    students::store::find(conn, &viewer, id)?;
                    Some(g.family_id)
                }
                None if store::student_known(conn, &viewer.school_id, id)? => None,
                None => return Err(ApiError::NotFound),
            };
            let filters = Filters {
                student: Some(id),
                from: q.from.map(|t| t.naive_utc()),
                to: q.to.map(|t| t.naive_utc()),
                shared_with,
                ..Filters::default()
            };
            let after = page.after.as_deref().and_then(store::parse_key);
            let rows = store::list(conn, &viewer.school_id, &filters, after, page.fetch())?;
            Ok(page.finish(rows, AuditEventRow::key, AuditEventRow::access))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}
