//! Communications: every contact with a family, logged, followed up and acknowledged, with the
//! school's contact rules enforced on what is sent out.

pub mod rules;
pub mod store;
pub mod wire;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use utoipa::IntoResponses;
use uuid::Uuid;

use self::rules::Refusal;
use self::store::{CommunicationRow, Filters};
pub use self::wire::{
    AcknowledgeInput, Category, Communication, CommunicationInput, CommunicationPatch, Direction,
    FollowUp, ListCommunicationsQuery, Visibility,
};
use super::{single, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Role, Scope};
use crate::db::Action;
use crate::domain::Channel;
use crate::error::{ApiError, Problem};
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, NoBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{ApplicantId, CommunicationId, FamilyId, GuardianId, StudentId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_communications)
        .service(create_communication)
        .service(get_communication)
        .service(update_communication)
        .service(delete_communication)
        .service(acknowledge_communication);
}

/// A refused contact as clients see it: a 422 with the rule's own problem type.
fn refused(refusal: Refusal) -> ApiError {
    let (kind, detail) = match refusal {
        Refusal::ContactNotAllowed => (
            "contact-not-allowed",
            "this guardian may not be contacted (contact_allowed is false)".to_string(),
        ),
        Refusal::ContactRestricted => (
            "contact-restricted",
            "contact with this guardian about this student is restricted (contact_restricted on their link)"
                .to_string(),
        ),
        Refusal::SmsConsentMissing(recipient) => (
            "sms-consent-missing",
            format!("this {recipient} has not agreed to text messages (sms_opt_in is false)"),
        ),
    };
    ApiError::Unprocessable {
        kind,
        detail,
        errors: Vec::new(),
    }
}

/// The answer to an accepted write, with the rules' remarks on it.
fn with_warnings(row: CommunicationRow, warnings: Vec<rules::Warning>) -> Communication {
    let mut view = row.view();
    if !warnings.is_empty() {
        view.warnings = Some(warnings.iter().map(ToString::to_string).collect());
    }
    view
}

/// What a guardian may log: an inbound `portal` message, in their own name, shared with their
/// family, with no follow-up (that is the school's to set).
fn as_guardian(
    mut input: CommunicationInput,
    own: GuardianId,
) -> Result<CommunicationInput, ApiError> {
    if input.visibility == Some(Visibility::Staff) {
        return Err(ApiError::field(
            "visibility",
            "not_allowed",
            "a guardian's message is shared with their family; `staff` is for the school's own notes",
        ));
    }
    if input.direction != Direction::Inbound || input.channel != Channel::Portal {
        return Err(ApiError::Forbidden(
            "guardians may log only inbound portal messages".into(),
        ));
    }
    if input.follow_up_due_at.is_some() || input.follow_up_done_at.is_some() {
        return Err(ApiError::Forbidden(
            "guardians may not set follow-ups".into(),
        ));
    }
    match input.guardian_id {
        Some(id) if GuardianId(id) != own => Err(ApiError::Forbidden(
            "guardians write only in their own name".into(),
        )),
        _ => {
            input.guardian_id = Some(own.uuid());
            input.visibility = Some(Visibility::Family);
            Ok(input)
        }
    }
}

/// List communications
///
/// Newest first by `occurred_at`. A guardian sees their family's family-visible communications
/// about the family or a child they may see. Scope: `communications:read`.
#[utoipa::path(
    tag = "communications",
    params(ListCommunicationsQuery),
    responses((status = 200, description = "A page of communications", body = Page<Communication>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/communications")]
pub async fn list_communications(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListCommunicationsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), store::is_time_key)?;
    let filters = Filters {
        family: q.family_id.map(FamilyId),
        applicant: q.applicant_id.map(ApplicantId),
        student: q.student_id.map(StudentId),
        guardian: q.guardian_id.map(GuardianId),
        channel: q.channel,
        direction: q.direction,
        category: q.category,
        occurred_from: q.occurred_from,
        occurred_to: q.occurred_to,
        follow_up: q.follow_up,
        author: q
            .author
            .map(|a| if a == "me" { caller.sub.clone() } else { a }),
    };
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let rows = store::list(conn, &viewer, &filters, now, &page)?;
            Ok(page.finish(
                rows,
                |r| store::time_key(r.occurred_at, r.id),
                CommunicationRow::view,
            ))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Log a communication
///
/// Outbound communications obey the contact rules, each refused with a 422 of its own `type`:
/// `contact-not-allowed` (the guardian's `contact_allowed` is false), `contact-restricted` (their
/// link to the named student is `contact_restricted`), `sms-consent-missing` (SMS without
/// `sms_opt_in`). A language other than the guardian's (or family's) preferred one, without
/// `interpreter_used` or `translated`, is accepted with a `language_mismatch` warning.
/// Guardians may log only inbound `portal` messages for their own family, shared with the
/// family (`visibility: staff` from a guardian is a 400). Before there is a family, name the
/// applicant instead (`applicant_id`, with `admissions:read` too): the same rules apply to the
/// applicant's household contact, and enrolment moves the communication to the family. Both
/// may be given for an applicant enrolled into that family (else a 422 on `applicant_id`).
/// Honours `Idempotency-Key`. Scope: `communications:write`.
#[utoipa::path(
    tag = "communications",
    request_body = CommunicationInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Logged", body = Communication,
            headers(("Location" = String, description = "The communication's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/communications")]
pub async fn create_communication(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<CommunicationInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let input = match viewer.guardian_id() {
                    Some(own) => as_guardian(body.value, own)?,
                    None => body.value,
                };
                let row = CommunicationRow::new(&viewer.school_id, tx.caller(), input, tx.now());
                let target = store::contact_target(tx.conn(), &viewer, &row)?;
                store::check_enrolled_applicant(tx.conn(), &viewer, &row)?;
                let warnings = rules::judge(&row.contact(), &target).map_err(refused)?;
                tx.create(&row)?;
                let location = format!("/v1/communications/{}", row.id);
                Created::new(&with_warnings(row, warnings), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a communication
///
/// Scope: `communications:read`.
#[utoipa::path(
    tag = "communications",
    params(("id" = Uuid, Path, description = "The communication's id")),
    responses(
        (status = 200, description = "The communication", body = Communication,
            headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/communications/{id}")]
pub async fn get_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsRead)?;
    let id = CommunicationId(id.into_inner());
    let today = state.clock.today();
    let found = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            Ok(store::find(conn, &viewer, id)?.view())
        })
        .await?;
    Ok(single(&found, found.version))
}

/// The log is the school's: a guardian reads and acknowledges it, never changes it.
fn staff_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Guardian {
        Err(ApiError::Forbidden(
            "guardians cannot change the communication log".into(),
        ))
    } else {
        Ok(())
    }
}

/// Change a communication
///
/// A JSON Merge Patch of the fields of `CommunicationInput` (not `family_id` nor
/// `applicant_id`); the contact
/// rules apply to the result when it changes who is contacted, how, or in which language.
/// Record a follow-up as done with `follow_up_done_at`. Honours `If-Match`.
/// Scope: `communications:write` (staff).
#[utoipa::path(
    tag = "communications",
    params(
        ("id" = Uuid, Path, description = "The communication's id"),
        IfMatch,
    ),
    request_body(content = CommunicationPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed communication", body = Communication,
            headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/communications/{id}")]
pub async fn update_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    staff_only(&caller)?;
    let id = CommunicationId(id.into_inner());
    let updated = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            if input.family_id.map(FamilyId) != current.family_id {
                return Err(ApiError::field(
                    "family_id",
                    "immutable",
                    "cannot change; log the contact again",
                ));
            }
            if input.applicant_id.map(ApplicantId) != current.applicant_id {
                return Err(ApiError::field(
                    "applicant_id",
                    "immutable",
                    "cannot change; log the contact again",
                ));
            }
            let mut next = current.clone();
            next.set(input, tx.now());
            // The references are checked on every change; the rules judge a contact, so they
            // apply again only when the contact changes (recording a follow-up on an old call
            // stays possible after the guardian is barred).
            let target = store::contact_target(tx.conn(), &viewer, &next)?;
            let warnings = if next.contact() == current.contact() {
                Vec::new()
            } else {
                rules::judge(&next.contact(), &target).map_err(refused)?
            };
            let saved = tx.revise(&current, Action::Update, move |row| *row = next)?;
            Ok(with_warnings(saved, warnings))
        })
        .await?;
    Ok(single(&updated, updated.version))
}

/// Archive a communication
///
/// It leaves every list and GET; the record is kept. Honours `If-Match`.
/// Scope: `communications:write` (staff).
#[utoipa::path(
    tag = "communications",
    params(
        ("id" = Uuid, Path, description = "The communication's id"),
        IfMatch,
    ),
    responses((status = 204, description = "Archived"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/communications/{id}")]
pub async fn delete_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    staff_only(&caller)?;
    let id = CommunicationId(id.into_inner());
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

/// Errors an acknowledgement can answer.
#[derive(IntoResponses)]
pub enum AcknowledgeErrors {
    /// A body with fields, or a path parameter that does not parse.
    #[response(
        status = 400,
        description = "Malformed request",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// No valid token.
    #[response(
        status = 401,
        description = "Missing or invalid token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// The token lacks the scope.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such communication for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// The body is over 1 MiB.
    #[response(
        status = 413,
        description = "Body too large",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    /// A body that is not JSON.
    #[response(
        status = 415,
        description = "Body is not application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
}

/// Acknowledge a communication
///
/// A guardian's read receipt: sets `acknowledged_at` and `acknowledged_by` (the guardian's id).
/// Staff may record an acknowledgement given another way (by phone, in person); it is then by
/// them. Acknowledging again changes nothing and answers the same. Takes no body, or `{}`; any
/// field is a 400. Scope: `communications:write`.
#[utoipa::path(
    tag = "communications",
    params(("id" = Uuid, Path, description = "The communication's id")),
    request_body(content = Option<AcknowledgeInput>, content_type = "application/json",
        description = "Nothing, `{}`, or `null`"),
    responses(
        (status = 200, description = "The acknowledged communication", body = Communication,
            headers(("ETag" = String, description = "Its version"))),
        AcknowledgeErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/communications/{id}/acknowledge")]
pub async fn acknowledge_communication(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsWrite)?;
    let id = CommunicationId(id.into_inner());
    let acknowledged = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if current.acknowledged_at.is_some() {
                return Ok(current.view());
            }
            let by = match viewer.guardian_id() {
                Some(g) => g.to_string(),
                None => tx.caller().sub.clone(),
            };
            let now = tx.now();
            let row = tx.revise(&current, Action::Acknowledge, |row| {
                row.acknowledged_at = Some(now);
                row.acknowledged_by = Some(by);
            })?;
            Ok(row.view())
        })
        .await?;
    Ok(single(&acknowledged, acknowledged.version))
}
