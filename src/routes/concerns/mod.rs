//! Concerns: what a family or staff member raised, worked as a case from open to closed, with an
//! owner, a response target and a history the family can follow (all but what staff keep among
//! themselves).

pub mod store;
pub mod wire;
pub mod workflow;

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

pub use self::store::family_page;
use self::store::{CommentRecord, ConcernRow, EventRow, Filters, NewConcern};
pub use self::wire::{
    CommentInput, Concern, ConcernCategory, ConcernComment, ConcernEvent, ConcernFields,
    ConcernInput, ConcernPatch, ConcernVisibility, EventKind, EventVisibility, EventsQuery,
    ListConcernsQuery, Priority, RaisedBy, Status, TransitionInput,
};
use self::workflow::{Edit, Move, Refusal};
use super::{families, settings, single, CreateErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::{student_goes_with_family, Viewer};
use crate::auth::{Caller, Scope};
use crate::db::Action;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{ConcernId, FamilyId, StudentId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_concerns)
        .service(create_concern)
        .service(get_concern)
        .service(update_concern)
        .service(transition_concern)
        .service(list_concern_comments)
        .service(create_concern_comment)
        .service(list_concern_events);
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::Forbidden(why) => ApiError::Forbidden(why.into()),
            Refusal::Conflict(why) => ApiError::Conflict(why.into()),
            Refusal::Illegal { detail, allowed } => ApiError::IllegalTransition {
                detail,
                allowed: allowed.iter().map(|s| s.as_str().to_string()).collect(),
            },
            Refusal::Fields(issues) => ApiError::invalid(
                issues
                    .into_iter()
                    .map(|i| FieldError::new(i.field, i.code, i.message))
                    .collect(),
            ),
        }
    }
}

/// 422 unless `student` goes with the concern's `family`.
fn check_student_of_family(
    conn: &mut crate::db::DbConnection,
    school: &str,
    family: FamilyId,
    student: StudentId,
) -> Result<(), ApiError> {
    if student_goes_with_family(conn, school, family, student)? {
        Ok(())
    } else {
        Err(ApiError::unprocessable_field(
            "student_id",
            "not_found",
            "no such student with this family",
        ))
    }
}

fn parse_statuses(list: &str) -> Result<Vec<Status>, ApiError> {
    list.split(',')
        .map(str::trim)
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                ApiError::field(
                    "status",
                    "invalid",
                    format!("unknown status `{s}`, expected any of open, acknowledged, in_progress, resolved, closed"),
                )
            })
        })
        .collect()
}

/// List concerns
///
/// Newest first. A guardian sees their family's concerns about the family or a child they may
/// see, never one kept among staff. Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(ListConcernsQuery),
    responses((status = 200, description = "A page of concerns", body = Page<Concern>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/concerns")]
pub async fn list_concerns(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListConcernsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsRead)?;
    let q = query.0;
    let filters = Filters {
        statuses: q.status.as_deref().map(parse_statuses).transpose()?,
        priority: q.priority,
        category: q.category,
        assignee: q
            .assignee
            .map(|a| if a == "me" { caller.sub.clone() } else { a }),
        family: q.family_id.map(FamilyId),
        student: q.student_id.map(StudentId),
        visibility: q.visibility,
        overdue: q.overdue,
        updated_since: q.updated_since,
    };
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let rows = store::list(conn, &viewer, filters, &page, now)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view(now)))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Raise a concern
///
/// Its `due_at` is now plus the response target of its priority (see `/v1/settings`).
/// Staff may keep it among themselves (`visibility: staff`). Guardians raise concerns for their
/// own family and the children they may see; they cannot assign them nor set `visibility`.
/// Honours `Idempotency-Key`. Scope: `concerns:write`.
#[utoipa::path(
    tag = "concerns",
    request_body = ConcernInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Raised", body = Concern,
            headers(("Location" = String, description = "The concern's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/concerns")]
pub async fn create_concern(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<ConcernInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let input = body.value;
                let raised =
                    workflow::raise(viewer.role, input.assignee.as_deref(), input.visibility)?;
                let family = FamilyId(input.family_id);
                families::store::find(tx.conn(), &viewer, family)?;
                let student = input.student_id.map(StudentId);
                if let Some(s) = student {
                    // The policy first: a guardian learns nothing of a child they may not see.
                    viewer.student(s)?;
                    check_student_of_family(tx.conn(), &viewer.school_id, family, s)?;
                }
                let priority = input.priority.unwrap_or(Priority::Normal);
                let hours = settings::response_hours(tx.conn(), &viewer.school_id)?;
                let now = tx.now();
                let fields = NewConcern {
                    family,
                    student,
                    category: input.category,
                    priority,
                    title: input.title,
                    description: input.description,
                    assignee: input.assignee,
                };
                let due_at = workflow::due_at(now, priority, &hours);
                let row =
                    ConcernRow::new(&viewer.school_id, fields, &raised, &viewer.sub, due_at, now);
                tx.create(&row)?;
                // The history entries belong to the recorded create (see `write_entries`).
                store::write_entries(
                    tx.conn(),
                    &row,
                    raised.entries,
                    &viewer.sub,
                    viewer.role,
                    now,
                )?;
                let location = format!("/v1/concerns/{}", row.id);
                Created::new(&row.view(now), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a concern
///
/// Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "The concern's id")),
    responses(
        (status = 200, description = "The concern", body = Concern, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/concerns/{id}")]
pub async fn get_concern(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsRead)?;
    let id = ConcernId(id.into_inner());
    let now = state.clock.now();
    let concern = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            Ok(store::find(conn, &viewer, id)?.view(now))
        })
        .await?;
    Ok(single(&concern, concern.version))
}

/// Change a concern
///
/// A JSON Merge Patch of `ConcernFields`. Staff edit the student, category, priority (which
/// recomputes `due_at`), title, description, assignee and visibility; each assignment, priority
/// change, edit and change of visibility enters the concern's events. A guardian rates
/// `satisfaction` (1–5), once, after the concern is resolved. Status moves only by the
/// transitions endpoint. Honours `If-Match`. Scope: `concerns:write`.
#[utoipa::path(
    tag = "concerns",
    params(
        ("id" = Uuid, Path, description = "The concern's id"),
        IfMatch,
    ),
    request_body(content = ConcernPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed concern", body = Concern, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/concerns/{id}")]
pub async fn update_concern(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let id = ConcernId(id.into_inner());
    let concern = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let now = tx.now();
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let before = current.fields();
            let Some(after) = merge_patch::merge_into(&before, patch.0)? else {
                return Ok(current.view(now));
            };
            let (saved, entries) =
                match workflow::edit(current.status, viewer.role, &before, &after)? {
                    Edit::Rating(entry) => {
                        let saved = tx.revise(&current, Action::Rate, |row| {
                            row.satisfaction = after.satisfaction
                        })?;
                        (saved, vec![entry])
                    }
                    Edit::Fields {
                        entries,
                        reprioritised,
                    } => {
                        if let Some(s) = after.student_id.filter(|s| Some(*s) != before.student_id)
                        {
                            check_student_of_family(
                                tx.conn(),
                                &viewer.school_id,
                                current.family_id,
                                StudentId(s),
                            )?;
                        }
                        let due_at = if reprioritised {
                            let hours = settings::response_hours(tx.conn(), &viewer.school_id)?;
                            workflow::due_at(current.created_at, after.priority, &hours)
                        } else {
                            current.due_at
                        };
                        let saved = tx.revise(&current, Action::Update, |row| {
                            row.set(after);
                            row.due_at = due_at;
                        })?;
                        (saved, entries)
                    }
                };
            // The history entries belong to the recorded update (see `write_entries`).
            store::write_entries(tx.conn(), &saved, entries, &viewer.sub, viewer.role, now)?;
            Ok(saved.view(now))
        })
        .await?;
    Ok(single(&concern, concern.version))
}

/// Move a concern's status
///
/// open → acknowledged → in_progress → resolved → closed; resolved → in_progress reopens;
/// an open, acknowledged or in-progress concern may be closed only by an admin or PRE, with a
/// `note`. Resolving needs a `resolution`. An illegal move is a 409 whose `allowed` lists the
/// legal ones. The note is `internal` (staff only) unless `visibility` is `family`; the move
/// itself enters the family's view of the concern either way. The school's first transition
/// sets `first_response_at`. Honours `If-Match`: of two concurrent moves from the same version,
/// one wins and the other gets a 412. Scope: `concerns:write` (staff).
#[utoipa::path(
    tag = "concerns",
    params(
        ("id" = Uuid, Path, description = "The concern's id"),
        IfMatch,
    ),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The moved concern", body = Concern, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the caller may not make this move", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such concern", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An illegal move; `allowed` lists the legal ones", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The concern changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/concerns/{id}/transitions")]
pub async fn transition_concern(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<TransitionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let id = ConcernId(id.into_inner());
    let input = body.value;
    let concern = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let now = tx.now();
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let requested = Move {
                to: input.to,
                note: input.note,
                note_visibility: input.visibility,
                resolution: input.resolution,
            };
            let effects = workflow::transition(&current.case(), requested, viewer.role, now)?;
            let saved = tx.revise_columns(
                &current,
                Action::Transition,
                |row| row.apply(effects.after),
                ConcernRow::save_case,
            )?;
            // The transition entry belongs to the recorded move (see `write_entries`).
            store::write_entries(
                tx.conn(),
                &saved,
                vec![effects.entry],
                &viewer.sub,
                viewer.role,
                now,
            )?;
            Ok(saved.view(now))
        })
        .await?;
    Ok(single(&concern, concern.version))
}

/// A concern's history the viewer may see, oldest first; only comments with `comments_only`.
async fn history_page(
    state: web::Data<AppState>,
    caller: Caller,
    id: ConcernId,
    q: EventsQuery,
    comments_only: bool,
) -> Result<(PageRequest, bool, Vec<EventRow>), ApiError> {
    caller.require(Scope::ConcernsRead)?;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let fetch = page.clone();
    let (for_guardian, rows) = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let concern = store::find(conn, &viewer, id)?;
            let rows = store::history(conn, &viewer, &concern, comments_only, &fetch)?;
            Ok((viewer.is_guardian(), rows))
        })
        .await?;
    Ok((page, for_guardian, rows))
}

/// A concern's events
///
/// Every creation, transition, assignment, priority change, edit, change of visibility, comment
/// and rating, with actor and time, oldest first. Guardians see only the family-visible ones,
/// and a transition's note only when it is the family's. Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "The concern's id"), EventsQuery),
    responses((status = 200, description = "A page of events", body = Page<ConcernEvent>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/concerns/{id}/events")]
pub async fn list_concern_events(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = ConcernId(id.into_inner());
    let (page, for_guardian, rows) = history_page(state, caller, id, query.0, false).await?;
    Ok(pagination::respond(
        &req,
        &page.finish(rows, |r| r.id.to_string(), |r| r.view(for_guardian)),
    ))
}

/// A concern's comments
///
/// Oldest first. Guardians see only family-visible comments. Scope: `concerns:read`.
#[utoipa::path(
    tag = "concerns",
    params(("id" = Uuid, Path, description = "The concern's id"), EventsQuery),
    responses((status = 200, description = "A page of comments", body = Page<ConcernComment>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/concerns/{id}/comments")]
pub async fn list_concern_comments(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = ConcernId(id.into_inner());
    let (page, _, rows) = history_page(state, caller, id, query.0, true).await?;
    Ok(pagination::respond(
        &req,
        &page.finish(rows, |r| r.id.to_string(), EventRow::comment),
    ))
}

/// Comment on a concern
///
/// A family-visible comment from staff is a response to the family: the first one sets
/// `first_response_at`. Guardians' comments are always family-visible. Honours
/// `Idempotency-Key`. Scope: `concerns:write`.
#[utoipa::path(
    tag = "concerns",
    request_body = CommentInput,
    params(
        ("id" = Uuid, Path, description = "The concern's id"),
        IdempotencyKey,
    ),
    responses(
        (status = 201, description = "Added", body = ConcernComment,
            headers(("Location" = String, description = "The concern's comments"), ("ETag" = String, description = "Always \"1\": comments do not change"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/concerns/{id}/comments")]
pub async fn create_concern_comment(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<CommentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    let id = ConcernId(id.into_inner());
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let now = tx.now();
                let current = store::find(tx.conn(), &viewer, id)?;
                let input = body.value;
                let commented = workflow::comment(
                    viewer.role,
                    input.body,
                    input.visibility,
                    current.first_response_at,
                    now,
                )?;
                let comment =
                    CommentRecord::new(&current, commented.entry, &viewer.sub, viewer.role, now);
                tx.create_as(Action::Comment, &comment)?;
                if let Some(at) = commented.first_response_at {
                    // The concern changes because of the comment: audited as the comment, so
                    // the log does not show an edit the caller never made.
                    tx.revise(&current, Action::Comment, |row| {
                        row.first_response_at = Some(at)
                    })?;
                }
                let location = format!("/v1/concerns/{}/comments", current.id);
                Created::new(&comment.event.comment(), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}
