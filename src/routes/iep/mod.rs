//! IEP collaboration notes: meeting notes, progress updates, parent input, accommodation
//! requests and action plans around a student's IEP, written by staff and parents together,
//! with action items and the family's acknowledgement.
//!
//! The most sensitive records the school keeps (FERPA 34 CFR 99.32, IDEA 34 CFR 300.614): every
//! answer that carries their content is recorded in the audit log before it is sent. A write
//! is recorded by its own audit event; a read (a GET, a list, a timeline page with notes, a
//! write that changed nothing) by an audit event with `action: read`, written through the one
//! write path as a small write of its own ([`record_reads`]). If that cannot be written the
//! read fails with 503 rather than go unrecorded; a refused read records nothing. Destruction
//! on request (IDEA 34 CFR 300.624) erases a student's notes' content and leaves tombstones.

pub mod rules;
pub mod store;
pub mod wire;

use std::collections::BTreeMap;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::connection::SimpleConnection;
use uuid::Uuid;

use self::rules::{Editor, Refusal};
use self::store::{Filters, ItemFilters, NewNote, NoteRow};
pub use self::wire::{
    ActionItem, ActionItemInput, DestroyInput, Destruction, IepNote, IepNoteFields, IepNoteInput,
    IepNotePatch, IepNoteTombstone, ListActionItemsQuery, ListIepNotesQuery, NoteKind,
    NoteVisibility,
};
use super::communications::{AcknowledgeErrors, AcknowledgeInput};
use super::{single, students, CreateErrors, DeleteErrors};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Role, Scope};
use crate::db::{Action, DbConnection, Read, ResourceType, Tx};
use crate::error::{ApiError, Problem};
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, NoBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{IepNoteId, StudentId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_iep_notes)
        .service(create_iep_note)
        .service(destroy_iep_notes)
        .service(get_iep_note)
        .service(update_iep_note)
        .service(delete_iep_note)
        .service(acknowledge_iep_note)
        .service(list_iep_action_items);
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::Forbidden(why) => ApiError::Forbidden(why.into()),
            Refusal::Field(field, code, message) => ApiError::field(field, code, message),
        }
    }
}

/// The read of one note, as its audit event names it.
pub fn note_read(note: &NoteRow) -> Read {
    Read {
        resource_type: ResourceType::IepNotes,
        resource_id: note.id.to_string(),
        family_id: Some(note.family_id.to_string()),
        student_id: Some(note.student_id.to_string()),
    }
}

/// The reads of notes of several children (a timeline page, the action items): one event per
/// child, named by the child (`resource_id` is the student's id, as for a list of a student's
/// notes), so that each child's access log shows the read. Empty when no note is in the answer.
pub fn student_reads<'a>(notes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Read> {
    let by_student: BTreeMap<&str, &str> = notes.into_iter().collect();
    by_student
        .into_iter()
        .map(|(student, family)| Read {
            resource_type: ResourceType::IepNotes,
            resource_id: student.to_string(),
            family_id: Some(family.to_string()),
            student_id: Some(student.to_string()),
        })
        .collect()
}

/// Records the reads of IEP content an answer carries, in one small write of their own through
/// the one write path, committed before the answer is sent. Called only once the read is
/// allowed (a refused read records nothing). If the events cannot be written, the read fails
/// with 503: it must not go unrecorded.
pub async fn record_reads(
    state: &AppState,
    caller: &Caller,
    reads: Vec<Read>,
) -> Result<(), ApiError> {
    if reads.is_empty() {
        return Ok(());
    }
    state
        .write(caller, move |tx| {
            tx.record_reads(reads);
            Ok(())
        })
        .await
        .map_err(|e| {
            let cause = match &e {
                ApiError::Internal(cause) => cause.clone(),
                other => other.to_string(),
            };
            log::error!(
                "request {}: a read of IEP notes was refused because it could not be recorded: {cause}",
                caller.request_id.as_deref().unwrap_or("-")
            );
            ApiError::Unavailable
        })
}

/// A note with its items, in the wire form.
fn full_view(conn: &mut DbConnection, note: NoteRow) -> Result<IepNote, ApiError> {
    let items = store::items_of(conn, &note.school_id, &[note.id])?;
    Ok(note.view(items))
}

/// The errors of an audited read: a read's, and 503 when it cannot be recorded.
#[derive(utoipa::IntoResponses)]
pub enum AuditedReadErrors {
    /// A path or query parameter does not parse.
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
    /// No such resource for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// The read could not be recorded in the audit log, so it was not answered.
    #[response(
        status = 503,
        description = "The read could not be recorded; retry",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// The errors of an audited read of one note: those of any audited read, and 410.
#[derive(utoipa::IntoResponses)]
pub enum NoteReadErrors {
    /// A path parameter does not parse.
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
    /// No such note for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// The note's content was destroyed on request.
    #[response(
        status = 410,
        description = "The note's content was destroyed on request",
        content_type = "application/problem+json"
    )]
    Gone(Problem),
    /// The read could not be recorded in the audit log, so it was not answered.
    #[response(
        status = 503,
        description = "The read could not be recorded; retry",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// List a student's IEP notes
///
/// Newest first. Staff see every note; a guardian sees the `family`-visible notes of a child a
/// current link with `can_view_records` lets them see (any other child is a 404). Notes whose
/// content was destroyed are left out. The read is recorded in the audit log (one event, named
/// by the student) before the answer is sent; if it cannot be, the answer is a 503.
/// Scope: `iep:read`.
#[utoipa::path(
    tag = "iep",
    params(("id" = Uuid, Path, description = "The student's id"), ListIepNotesQuery),
    responses((status = 200, description = "A page of IEP notes", body = Page<IepNote>), AuditedReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/students/{id}/iep-notes")]
pub async fn list_iep_notes(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<ListIepNotesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepRead)?;
    let student = StudentId(id.into_inner());
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let filters = Filters {
        kind: q.kind,
        visibility: q.visibility,
        open_action_items: q.open_action_items,
        meeting_from: q.meeting_from,
        meeting_to: q.meeting_to,
        updated_since: q.updated_since,
    };
    let today = state.clock.today();
    let reader = caller.clone();
    let (result, read) = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &reader, today)?;
            let found = students::store::find(conn, &viewer, student)?;
            let rows = store::list(conn, &viewer, student, &filters, &page)?;
            let ids: Vec<IepNoteId> = rows.iter().map(|r| r.id).collect();
            let items = store::items_of(conn, &viewer.school_id, &ids)?;
            let notes = store::with_items(rows, items);
            let read = Read {
                resource_type: ResourceType::IepNotes,
                resource_id: student.to_string(),
                family_id: Some(found.family_id.to_string()),
                student_id: Some(student.to_string()),
            };
            let result = page.finish(notes, |(r, _)| r.id.to_string(), |(r, i)| r.view(i));
            Ok((result, read))
        })
        .await?;
    record_reads(&state, &caller, vec![read]).await?;
    Ok(pagination::respond(&req, &result))
}

/// Write an IEP note
///
/// Only for a student with an IEP (`has_iep: true`; else a 422 `no-iep`). Staff write any kind,
/// `staff`-visible unless they say `family`; a `parent_input` note is always `family`-visible.
/// A guardian writes only `parent_input` notes, always shared with the family, for a child they
/// may see, without action items. Honours `Idempotency-Key`. Scope: `iep:write`.
#[utoipa::path(
    tag = "iep",
    request_body = IepNoteInput,
    params(("id" = Uuid, Path, description = "The student's id"), IdempotencyKey),
    responses(
        (status = 201, description = "Written", body = IepNote,
            headers(("Location" = String, description = "The note's path"), ("ETag" = String, description = "Its version"))),
        (status = 410, description = "A replayed create of a note whose content was destroyed since", body = Problem, content_type = "application/problem+json"),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/students/{id}/iep-notes")]
pub async fn create_iep_note(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<IepNoteInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepWrite)?;
    let student = StudentId(id.into_inner());
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let created = idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let found = students::store::find(tx.conn(), &viewer, student)?;
                let input = body.value;
                let visibility = rules::create(&input, viewer.is_guardian())?;
                if !found.has_iep {
                    return Err(ApiError::Unprocessable {
                        kind: "no-iep",
                        detail: "this student has no IEP (has_iep is false)".into(),
                        errors: Vec::new(),
                    });
                }
                let now = tx.now();
                let author = match viewer.guardian_id() {
                    Some(g) => g.to_string(),
                    None => viewer.sub.clone(),
                };
                let row = NoteRow::new(
                    &viewer.school_id,
                    student,
                    found.family_id,
                    NewNote {
                        kind: input.kind,
                        title: input.title,
                        body: input.body,
                        meeting_date: input.meeting_date,
                        visibility,
                    },
                    (author.as_str(), viewer.role.as_str()),
                    now,
                );
                tx.create(&row)?;
                let by = author.clone();
                let items = rules::items_after(&[], input.action_items, &by);
                // The items are part of the recorded create (see `save_items`).
                store::save_items(tx.conn(), &row, &items)?;
                let location = format!("/v1/iep-notes/{}", row.id);
                let view = full_view(tx.conn(), row)?;
                Created::new(&view, location, 1)
            })?;
            if created.replayed {
                // A replay answers with the note's content and writes nothing else: a read.
                replayed_read(tx, &created.location)?;
            }
            Ok(created)
        })
        .await?;
    Ok(created.response())
}

/// Records the read that a replayed create answers with (the note at `location`).
fn replayed_read(tx: &mut Tx<'_>, location: &str) -> Result<(), ApiError> {
    let id = location
        .rsplit('/')
        .next()
        .and_then(|s| Uuid::parse_str(s).ok())
        .map(IepNoteId)
        .ok_or_else(|| ApiError::internal("a stored IEP note location without an id"))?;
    let viewer = tx.viewer()?;
    let note = store::find(tx.conn(), &viewer, id)?;
    tx.record_reads([note_read(&note)]);
    Ok(())
}

/// Get an IEP note
///
/// With its action items. A note whose content was destroyed answers 410 (`gone`). The read is
/// recorded in the audit log before the answer is sent; if it cannot be, the answer is a 503.
/// Scope: `iep:read`.
#[utoipa::path(
    tag = "iep",
    params(("id" = Uuid, Path, description = "The note's id")),
    responses(
        (status = 200, description = "The note", body = IepNote, headers(("ETag" = String, description = "Its version"))),
        NoteReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/iep-notes/{id}")]
pub async fn get_iep_note(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepRead)?;
    let id = IepNoteId(id.into_inner());
    let today = state.clock.today();
    let reader = caller.clone();
    let (note, read) = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &reader, today)?;
            let row = store::find(conn, &viewer, id)?;
            let read = note_read(&row);
            Ok((full_view(conn, row)?, read))
        })
        .await?;
    record_reads(&state, &caller, vec![read]).await?;
    Ok(single(&note, note.version))
}

/// Errors a change of a note can answer.
#[derive(utoipa::IntoResponses)]
pub enum NoteUpdateErrors {
    /// Malformed JSON or invalid fields.
    #[response(
        status = 400,
        description = "Invalid request",
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
    /// The token lacks the scope, or the caller may not make this change.
    #[response(
        status = 403,
        description = "The token lacks the scope, or the caller may not make this change",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such note for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// The note's content was destroyed on request.
    #[response(
        status = 410,
        description = "The note's content was destroyed on request",
        content_type = "application/problem+json"
    )]
    Gone(Problem),
    /// `If-Match` names an older version.
    #[response(
        status = 412,
        description = "The resource changed since the version in If-Match",
        content_type = "application/problem+json"
    )]
    PreconditionFailed(Problem),
    /// The body is over 1 MiB.
    #[response(
        status = 413,
        description = "Body too large",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    /// The body is not a merge patch.
    #[response(
        status = 415,
        description = "Body is not a JSON merge patch",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
}

/// Change an IEP note
///
/// A JSON Merge Patch of `IepNoteFields`. Staff change every field, action items included
/// (`action_items` is replaced as a whole: keep an item by sending it with its `id`; leave `id`
/// out for a new one). A guardian changes the title, body and meeting date of the
/// `parent_input` notes they wrote, and marks done (`done_at`) the action items whose `owner`
/// is `family`; anything else is a 403. `done_by` is set to whoever marked the item done. A
/// patch that changes nothing is recorded as a read. Honours `If-Match`. Scope: `iep:write`.
#[utoipa::path(
    tag = "iep",
    params(("id" = Uuid, Path, description = "The note's id"), IfMatch),
    request_body(content = IepNotePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed note", body = IepNote, headers(("ETag" = String, description = "The new version"))),
        NoteUpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/iep-notes/{id}")]
pub async fn update_iep_note(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepWrite)?;
    let id = IepNoteId(id.into_inner());
    let note = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let rows = store::items_of(tx.conn(), &viewer.school_id, &[current.id])?;
            let items: Vec<rules::Item> = rows.iter().map(store::ItemRow::item).collect();
            let before = current.fields(&items);
            let Some(after) = merge_patch::merge_into(&before, patch.0)? else {
                tx.record_reads([note_read(&current)]);
                return Ok(current.view(rows));
            };
            let editor = match viewer.guardian_id() {
                None => Editor::Staff,
                Some(g) => Editor::Guardian {
                    own: current.kind == NoteKind::ParentInput && current.author == g.to_string(),
                },
            };
            let existing: Vec<_> = items.iter().map(|i| i.id).collect();
            rules::edit(editor, &before, &after, &existing)?;
            let by = match viewer.guardian_id() {
                Some(g) => g.to_string(),
                None => viewer.sub.clone(),
            };
            let items_changed = after.action_items != before.action_items;
            let next_items = rules::items_after(&items, after.action_items, &by);
            let saved = tx.revise(&current, Action::Update, |row| {
                row.kind = after.kind;
                row.title = Some(after.title);
                row.body = Some(after.body);
                row.meeting_date = after.meeting_date;
                row.visibility = after.visibility;
            })?;
            if items_changed {
                // The items are part of the recorded update (see `save_items`).
                store::save_items(tx.conn(), &saved, &next_items)?;
            }
            full_view(tx.conn(), saved)
        })
        .await?;
    Ok(single(&note, note.version))
}

/// Archive an IEP note
///
/// It leaves every list and GET; the record is kept (destruction is another matter: see
/// `destroy_iep_notes`). Honours `If-Match`. Scope: `iep:write` (staff).
#[utoipa::path(
    tag = "iep",
    params(("id" = Uuid, Path, description = "The note's id"), IfMatch),
    responses(
        (status = 204, description = "Archived"),
        (status = 410, description = "The note's content was destroyed on request", body = Problem, content_type = "application/problem+json"),
        DeleteErrors
    ),
    security(("bearer" = []))
)]
#[delete("/v1/iep-notes/{id}")]
pub async fn delete_iep_note(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepWrite)?;
    if caller.role == Role::Guardian {
        return Err(ApiError::Forbidden(
            "the school archives IEP notes; guardians cannot".into(),
        ));
    }
    let id = IepNoteId(id.into_inner());
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

/// Acknowledge an IEP note
///
/// A guardian says "we have read this": sets `acknowledged_at` and `acknowledged_by` (their
/// id). Acknowledging again changes nothing and answers the same (recorded as a read). Staff
/// cannot acknowledge for the family (403). Takes no body, or `{}`. Scope: `iep:write`.
#[utoipa::path(
    tag = "iep",
    params(("id" = Uuid, Path, description = "The note's id")),
    request_body(content = Option<AcknowledgeInput>, content_type = "application/json",
        description = "Nothing, `{}`, or `null`"),
    responses(
        (status = 200, description = "The acknowledged note", body = IepNote,
            headers(("ETag" = String, description = "Its version"))),
        (status = 410, description = "The note's content was destroyed on request", body = Problem, content_type = "application/problem+json"),
        AcknowledgeErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/iep-notes/{id}/acknowledge")]
pub async fn acknowledge_iep_note(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    _body: NoBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepWrite)?;
    if caller.role != Role::Guardian {
        return Err(ApiError::Forbidden(
            "an acknowledgement is the family's: only a guardian gives it".into(),
        ));
    }
    let id = IepNoteId(id.into_inner());
    let note = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if current.acknowledged_at.is_some() {
                tx.record_reads([note_read(&current)]);
                return full_view(tx.conn(), current);
            }
            let by = viewer.guardian_id().map(|g| g.to_string());
            let now = tx.now();
            let saved = tx.revise(&current, Action::Acknowledge, |row| {
                row.acknowledged_at = Some(now);
                row.acknowledged_by = by;
            })?;
            full_view(tx.conn(), saved)
        })
        .await?;
    Ok(single(&note, note.version))
}

/// Errors a destruction can answer.
#[derive(utoipa::IntoResponses)]
pub enum DestroyErrors {
    /// Malformed JSON or invalid fields.
    #[response(
        status = 400,
        description = "Invalid request",
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
    /// Not an admin, or the token lacks the scope.
    #[response(
        status = 403,
        description = "Not an admin, or the token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such student in the school.
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
    /// The body is not JSON.
    #[response(
        status = 415,
        description = "Body is not application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
}

/// Destroy a student's IEP notes
///
/// On request (IDEA 34 CFR 300.624): the content of every note of the student — archived ones
/// included — is erased for good: title, body and action items (and the stored answers that
/// `Idempotency-Key` replays would send). A tombstone of each note remains (id, kind, dates, who
/// destroyed it, when, and the `reason`), and each destruction is in the audit log and the
/// student's access log (`action: destroy`). A destroyed note answers 410 from then on; notes
/// written later are not affected. Destroying again destroys only what is left. Admin only.
/// Scope: `iep:write`.
#[utoipa::path(
    tag = "iep",
    request_body = DestroyInput,
    params(("id" = Uuid, Path, description = "The student's id")),
    responses(
        (status = 200, description = "Destroyed; the student's tombstones", body = Destruction),
        DestroyErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/students/{id}/iep-notes/destroy")]
pub async fn destroy_iep_notes(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: JsonBody<DestroyInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepWrite)?;
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin destroys IEP notes".into(),
        ));
    }
    let student = StudentId(id.into_inner());
    let reason = body.value.reason;
    let destruction = state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            if !crate::routes::audit::store::student_known(tx.conn(), &school, student)? {
                return Err(ApiError::NotFound);
            }
            let notes = store::undestroyed(tx.conn(), &school, student)?;
            let destroyed = notes.len();
            if destroyed > 0 {
                secure_delete(tx.conn(), true)?;
            }
            let now = tx.now();
            let by = tx.caller().sub.clone();
            for note in notes {
                let saved = tx.revise(&note, Action::Destroy, |row| {
                    row.title = None;
                    row.body = None;
                    row.destroyed_at = Some(now);
                    row.destroyed_by = Some(by.clone());
                    row.destroyed_reason = Some(reason.clone());
                })?;
                // The erasure of its items is part of the recorded destruction.
                store::erase_content(tx.conn(), &saved)?;
            }
            if destroyed > 0 {
                secure_delete(tx.conn(), false)?;
            }
            let tombstones = store::destroyed(tx.conn(), &school, student)?
                .iter()
                .filter_map(NoteRow::tombstone)
                .collect();
            Ok(Destruction {
                destroyed,
                tombstones,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(destruction))
}

/// SQLite keeps the bytes of an overwritten or deleted value in the file's free space until
/// they are reused; with `secure_delete` it overwrites them with zeros as it frees them. Set
/// for a destruction only, since it costs every write some I/O. (PostgreSQL has no
/// equivalent: see the README's Known quirks.)
fn secure_delete(conn: &mut DbConnection, on: bool) -> Result<(), ApiError> {
    if let DbConnection::Sqlite(c) = conn {
        c.batch_execute(if on {
            "PRAGMA secure_delete = ON;"
        } else {
            "PRAGMA secure_delete = OFF;"
        })?;
    }
    Ok(())
}

/// List action items
///
/// The action items of the IEP notes the caller may see, across students, oldest first, so
/// that nobody's promise is forgotten: by default the open ones. `owner=me` is the caller
/// (staff) or the family (a guardian). A guardian sees the items of the `family`-visible notes
/// of the children they may see. The read is recorded in the audit log (one event per child
/// whose items are in the answer) before the answer is sent; if it cannot be, the answer is a
/// 503. Scope: `iep:read`.
#[utoipa::path(
    tag = "iep",
    params(ListActionItemsQuery),
    responses((status = 200, description = "A page of action items", body = Page<ActionItem>), AuditedReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/iep-action-items")]
pub async fn list_iep_action_items(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListActionItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::IepRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let owner = q.owner.map(|o| match (o.as_str(), caller.role) {
        ("me", Role::Guardian) => wire::FAMILY_OWNER.to_string(),
        ("me", _) => caller.sub.clone(),
        _ => o,
    });
    let filters = ItemFilters {
        owner,
        open: q.open.unwrap_or(true),
        due_before: q.due_before,
        student: q.student_id.map(StudentId),
    };
    let today = state.clock.today();
    let reader = caller.clone();
    let (result, reads) = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &reader, today)?;
            let rows = store::list_items(conn, &viewer, &filters, &page)?;
            let result = page.finish(rows, |(i, _)| i.id.to_string(), |r| r);
            let pairs: Vec<(String, String)> = result
                .data
                .iter()
                .map(|(i, f)| (i.student_id.to_string(), f.to_string()))
                .collect();
            let reads = student_reads(pairs.iter().map(|(s, f)| (s.as_str(), f.as_str())));
            let result = Page {
                data: result.data.into_iter().map(|(i, _)| i.view()).collect(),
                next_cursor: result.next_cursor,
            };
            Ok((result, reads))
        })
        .await?;
    record_reads(&state, &caller, reads).await?;
    Ok(pagination::respond(&req, &result))
}
