//! Referrals: a family connected to a community resource, followed up to an outcome
//! (`referred → contacted → connected | declined | unreachable`). Staff write them; a guardian
//! sees their family's referrals shared with the family.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::resources::store::{self, ReferralFilters, ReferralRow};
use super::resources::wire::{is_open, moves_from};
pub use super::resources::wire::{
    FollowUp, ListReferralsQuery, Referral, ReferralFields, ReferralInput, ReferralPatch,
    ReferralStatus, ReferralTransition, ReferralVisibility,
};
use super::{families, single, CreateErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::{student_goes_with_family, Viewer};
use crate::auth::{Caller, Role, Scope};
use crate::db::Action;
use crate::error::{ApiError, Problem};
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{FamilyId, ReferralId, ResourceId, StudentId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_referrals)
        .service(create_referral)
        .service(get_referral)
        .service(update_referral)
        .service(transition_referral);
}

/// 403 for a guardian: referrals are the school's to write.
fn staff_writes(caller: &Caller) -> Result<(), ApiError> {
    caller.require(Scope::EngagementWrite)?;
    if caller.role == Role::Guardian {
        return Err(ApiError::Forbidden(
            "the school writes referrals; guardians read those shared with them".into(),
        ));
    }
    Ok(())
}

/// List referrals
///
/// Newest first. `follow_up=due`: open referrals (`referred`, `contacted`) whose follow-up
/// falls today (UTC) or earlier; `overdue`: those whose follow-up time has passed. A guardian
/// sees their family's referrals shared with the family. Scope: `engagement:read`.
#[utoipa::path(
    tag = "referrals",
    params(ListReferralsQuery),
    responses((status = 200, description = "A page of referrals", body = Page<Referral>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/referrals")]
pub async fn list_referrals(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListReferralsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let q = query.0;
    let filters = ReferralFilters {
        status: q.status,
        resource: q.resource_id.map(ResourceId),
        family: q.family_id.map(FamilyId),
        follow_up: q.follow_up,
    };
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let rows = store::list_referrals(conn, &viewer, &filters, &page, now)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view()))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Refer a family
///
/// To an active resource of the school (else 422 on `resource_id`), optionally for a child of
/// the family (else 422 on `student_id`); `status` starts at `referred`. Honours
/// `Idempotency-Key`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "referrals",
    request_body = ReferralInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Referred", body = Referral,
            headers(("Location" = String, description = "The referral's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/referrals")]
pub async fn create_referral(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<ReferralInput>,
) -> Result<HttpResponse, ApiError> {
    staff_writes(&caller)?;
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let input = body.value;
                let now = tx.now();
                let family = FamilyId(input.family_id);
                families::store::find(tx.conn(), &viewer, family)?;
                let resource = store::find(tx.conn(), &viewer, ResourceId(input.resource_id))
                    .ok()
                    .filter(|r| r.active)
                    .ok_or_else(|| {
                        ApiError::unprocessable_field(
                            "resource_id",
                            "not_found",
                            "no such active resource",
                        )
                    })?;
                let student = input.student_id.map(StudentId);
                if let Some(s) = student {
                    if !student_goes_with_family(tx.conn(), &viewer.school_id, family, s)? {
                        return Err(ApiError::unprocessable_field(
                            "student_id",
                            "not_found",
                            "no such student with this family",
                        ));
                    }
                }
                let row = ReferralRow {
                    id: ReferralId::new(),
                    school_id: viewer.school_id.clone(),
                    family_id: family,
                    student_id: student,
                    resource_id: resource.id,
                    reason: input.reason,
                    status: ReferralStatus::Referred,
                    follow_up_due_at: input.follow_up_due_at.map(|t| t.naive_utc()),
                    outcome_note: None,
                    visibility: input.visibility.unwrap_or(ReferralVisibility::Staff),
                    referred_by: viewer.sub.clone(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    archived_at: None,
                };
                tx.create(&row)?;
                Created::new(&row.view(), format!("/v1/referrals/{}", row.id), 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a referral
///
/// Scope: `engagement:read`.
#[utoipa::path(
    tag = "referrals",
    params(("id" = Uuid, Path, description = "The referral's id")),
    responses(
        (status = 200, description = "The referral", body = Referral, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/referrals/{id}")]
pub async fn get_referral(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let id = ReferralId(id.into_inner());
    let now = state.clock.now();
    let referral = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            Ok(store::find_referral(conn, &viewer, id)?.view())
        })
        .await?;
    Ok(single(&referral, referral.version))
}

/// Change a referral
///
/// A JSON Merge Patch of `ReferralFields` (the status moves by transitions). Honours
/// `If-Match`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "referrals",
    params(("id" = Uuid, Path, description = "The referral's id"), IfMatch),
    request_body(content = ReferralPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed referral", body = Referral, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/referrals/{id}")]
pub async fn update_referral(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    staff_writes(&caller)?;
    let id = ReferralId(id.into_inner());
    let referral = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find_referral(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let Some(after) = merge_patch::merge_into(&current.fields(), patch.0)? else {
                return Ok(current.view());
            };
            let saved = tx.revise(&current, Action::Update, |r| {
                r.reason = after.reason;
                r.follow_up_due_at = after.follow_up_due_at.map(|t| t.naive_utc());
                r.outcome_note = after.outcome_note;
                r.visibility = after.visibility;
            })?;
            Ok(saved.view())
        })
        .await?;
    Ok(single(&referral, referral.version))
}

/// Move a referral's status
///
/// referred → contacted → connected | declined | unreachable. An illegal move is a 409 whose
/// `allowed` lists the legal ones. `outcome_note`, when given, replaces the referral's.
/// Honours `If-Match`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "referrals",
    params(("id" = Uuid, Path, description = "The referral's id"), IfMatch),
    request_body = ReferralTransition,
    responses(
        (status = 200, description = "The moved referral", body = Referral, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the caller is a guardian", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such referral", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An illegal move; `allowed` lists the legal ones", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The referral changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/referrals/{id}/transitions")]
pub async fn transition_referral(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<ReferralTransition>,
) -> Result<HttpResponse, ApiError> {
    staff_writes(&caller)?;
    let id = ReferralId(id.into_inner());
    let input = body.value;
    let referral = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find_referral(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let allowed = moves_from(current.status);
            if !allowed.contains(&input.to) {
                let detail = if is_open(current.status) {
                    format!(
                        "a referral that is {} cannot move to {}",
                        current.status.as_str(),
                        input.to.as_str()
                    )
                } else {
                    format!(
                        "the referral is {}: its outcome is recorded",
                        current.status.as_str()
                    )
                };
                return Err(ApiError::IllegalTransition {
                    detail,
                    allowed: allowed.iter().map(|s| s.as_str().to_string()).collect(),
                });
            }
            let saved = tx.revise(&current, Action::Transition, |r| {
                r.status = input.to;
                if let Some(note) = input.outcome_note {
                    r.outcome_note = Some(note);
                }
            })?;
            Ok(saved.view())
        })
        .await?;
    Ok(single(&referral, referral.version))
}
