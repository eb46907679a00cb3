//! Events: workshops, meetings, family nights, conferences, open houses, home visits and
//! volunteer shifts, each for an audience (the school, grade levels, languages or named
//! families); the families' answers with capacity, waitlist and deadline; who came; the
//! families' feedback; and conference slots booked one per child.

pub mod rules;
pub mod store;
pub mod wire;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

use self::rules::Place;
use self::store::{AttendanceRow, BookingRow, EventRow, FeedbackRow, Filters, RsvpRow, SlotRow};
pub use self::wire::{
    Attendance, AttendanceInput, Audience, AudienceScope, Booking, BookingInput, Event,
    EventFields, EventPageQuery, EventPatch, EventType, Feedback, FeedbackInput, ListEventsQuery,
    Rsvp, RsvpInput, RsvpPage, RsvpResponse, RsvpStatus, RsvpTotals, Slot, SlotList,
    SlotSeriesInput,
};
use super::{families, single, CreateErrors, DeleteErrors, ReadErrors, UpdateErrors};
use crate::auth::policy::{student_goes_with_family, Viewer};
use crate::auth::{Caller, Role, Scope};
use crate::db::{Action, Tx};
use crate::error::ApiError;
use crate::http::etag::{etag, IfMatch};
use crate::http::extract::{JsonBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{EventId, FamilyId, SlotId, StudentId};
use crate::routes::communications::store::{is_time_key, time_key};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_events)
        .service(create_event)
        .service(get_event)
        .service(update_event)
        .service(cancel_event)
        .service(list_rsvps)
        .service(put_rsvp)
        .service(put_attendance)
        .service(create_feedback)
        .service(list_slots)
        .service(create_slots)
        .service(book_slot)
        .service(release_booking);
}

/// 403 for a guardian: `what` is the school's to do.
fn staff_only(caller: &Caller, what: &str) -> Result<(), ApiError> {
    if caller.role == Role::Guardian {
        return Err(ApiError::Forbidden(format!("{what}; guardians cannot")));
    }
    Ok(())
}

/// 409 when the event was cancelled.
fn not_cancelled(event: &EventRow) -> Result<(), ApiError> {
    if event.cancelled_at.is_some() {
        return Err(ApiError::Conflict("the event was cancelled".into()));
    }
    Ok(())
}

/// A PUT's answer: 201 when it created the record, else 200; with its `ETag`.
fn put_answer<T: Serialize>(body: &T, version: i64, created: bool) -> HttpResponse {
    let mut res = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag(version))).json(body)
}

/// Promotes waitlisted families, in order, while places are free (inside the write that freed
/// or added them; each promotion is recorded as an update of that answer).
fn promote(tx: &mut Tx<'_>, event: &EventRow) -> Result<(), ApiError> {
    while let Some(next) = store::first_waitlisted(tx.conn(), event)? {
        if !store::take_place(tx.conn(), event)? {
            break;
        }
        tx.revise(&next, Action::Update, |r| {
            r.status = RsvpStatus::Confirmed;
            r.waitlisted_at = None;
        })?;
    }
    Ok(())
}

/// List events
///
/// By start time. A guardian sees the events whose audience includes their family (the whole
/// school; a grade of a child whose records they may see; the family's or their own language;
/// the family by name), cancelled ones included (with `cancelled_at`); staff see all.
/// Scope: `engagement:read`.
#[utoipa::path(
    tag = "events",
    params(ListEventsQuery),
    responses((status = 200, description = "A page of events", body = Page<Event>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/events")]
pub async fn list_events(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListEventsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let q = query.0;
    let filters = Filters {
        kind: q.kind,
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        audience_includes: q.audience_includes.map(FamilyId),
        language: q.language.map(|l| l.as_str().to_string()),
        has_capacity: q.has_capacity,
    };
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), is_time_key)?;
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let rows = store::list(conn, &viewer, &filters, &page)?;
            Ok(page.finish(rows, |r| time_key(r.starts_at, r.id), |r| r.view()))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Create an event
///
/// An event may be recorded after the fact (a home visit logged the next day). Honours
/// `Idempotency-Key`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "events",
    request_body = EventFields,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created", body = Event,
            headers(("Location" = String, description = "The event's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/events")]
pub async fn create_event(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<EventFields>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    staff_only(&caller, "the school organises events")?;
    let members = rules::check_event(&body.value)?;
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let row = EventRow::new(&viewer.school_id, body.value, tx.now());
                tx.create(&row)?;
                // The audience rows belong to the recorded create.
                store::save_audience(tx.conn(), &row, &members)?;
                Created::new(&row.view(), format!("/v1/events/{}", row.id), 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get an event
///
/// Scope: `engagement:read`.
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event", body = Event, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/events/{id}")]
pub async fn get_event(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let id = EventId(id.into_inner());
    let now = state.clock.now();
    let event = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            Ok(store::find(conn, &viewer, id)?.view())
        })
        .await?;
    Ok(single(&event, event.version))
}

/// Change an event
///
/// A JSON Merge Patch of `EventFields`; an `audience` replaces the old one as a whole. Raising `capacity` promotes waitlisted families in
/// order; lowering it below the families already confirmed takes no place away. Honours
/// `If-Match`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id"), IfMatch),
    request_body(content = EventPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed event", body = Event, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/events/{id}")]
pub async fn update_event(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    staff_only(&caller, "the school organises events")?;
    let id = EventId(id.into_inner());
    let event = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            let before = current.fields();
            let mut patch = patch.0;
            // An audience is one of four forms: a new one replaces the old as a whole.
            if let Some(serde_json::Value::Object(a)) = patch.map.get_mut("audience") {
                for part in ["scope", "grade_levels", "languages", "family_ids"] {
                    a.entry(part).or_insert(serde_json::Value::Null);
                }
            }
            let Some(after) = merge_patch::merge_into(&before, patch)? else {
                return Ok(current.view());
            };
            let members = rules::check_event(&after)?;
            let audience_changed = after.audience != before.audience;
            let saved = tx.revise(&current, Action::Update, |row| row.set(after))?;
            if audience_changed {
                store::save_audience(tx.conn(), &saved, &members)?;
            }
            promote(tx, &saved)?;
            Ok(store::find(tx.conn(), &viewer, id)?.view())
        })
        .await?;
    Ok(single(&event, event.version))
}

/// Cancel an event
///
/// The event stays, with `cancelled_at`, and so do the families' answers; no answer can be
/// given after. Cancelling a cancelled event changes nothing. Honours `If-Match`.
/// Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id"), IfMatch),
    responses((status = 204, description = "Cancelled"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/events/{id}")]
pub async fn cancel_event(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    staff_only(&caller, "the school cancels events")?;
    let id = EventId(id.into_inner());
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let current = store::find(tx.conn(), &viewer, id)?;
            if_match.check(current.version)?;
            if current.cancelled_at.is_none() {
                tx.archive(&current)?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An event's answers
///
/// Oldest first, with the totals of all (yes, waitlisted, no, maybe, head count, interpreters
/// needed per language, childcare). A guardian sees only their family's answer, without
/// totals. Scope: `engagement:read`.
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id"), EventPageQuery),
    responses((status = 200, description = "A page of answers, with totals", body = RsvpPage), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/events/{id}/rsvps")]
pub async fn list_rsvps(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<EventPageQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let id = EventId(id.into_inner());
    let page = PageRequest::new(query.0.limit, query.0.cursor.as_deref(), pagination::is_id)?;
    let now = state.clock.now();
    let (result, totals) = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let event = store::find(conn, &viewer, id)?;
            let rows = store::rsvps_page(conn, &viewer, event.id, &page)?;
            let totals = if viewer.is_guardian() {
                None
            } else {
                Some(store::totals(conn, &viewer.school_id, event.id)?)
            };
            Ok((
                page.finish(rows, |r| r.id.to_string(), |r| r.view()),
                totals,
            ))
        })
        .await?;
    let res = pagination::respond(&req, &result);
    let body = RsvpPage {
        data: result.data,
        next_cursor: result.next_cursor,
        totals,
    };
    let json = serde_json::to_string(&body).map_err(ApiError::internal)?;
    Ok(res.set_body(json).map_into_boxed_body())
}

/// Answer an event
///
/// A guardian answers for their own family; staff may record an answer given by phone. A yes
/// takes one of the event's places (`status: confirmed`); beyond `capacity` it is a 409, or
/// puts the family on the waitlist (`status: waitlisted`) when the event has `waitlist: true`.
/// A confirmed yes turned no or maybe frees its place, and the first waitlisted family is
/// promoted. After `rsvp_deadline` a guardian's answer is a 409 (staff may still record one);
/// a cancelled event takes no answer (409). The same answer again changes nothing. 201 for a
/// first answer, 200 after. Scope: `engagement:write`.
#[utoipa::path(
    tag = "events",
    params(
        ("id" = Uuid, Path, description = "The event's id"),
        ("family_id" = Uuid, Path, description = "The family's id"),
    ),
    request_body = RsvpInput,
    responses(
        (status = 200, description = "The changed answer", body = Rsvp, headers(("ETag" = String, description = "Its version"))),
        (status = 201, description = "The first answer", body = Rsvp, headers(("ETag" = String, description = "Its version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[put("/v1/events/{id}/rsvps/{family_id}")]
pub async fn put_rsvp(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<RsvpInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    let (id, family) = path.into_inner();
    let (id, family) = (EventId(id), FamilyId(family));
    let input = body.value;
    let (rsvp, created) = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let now = tx.now();
            let event = store::find(tx.conn(), &viewer, id)?;
            families::store::find(tx.conn(), &viewer, family)?;
            not_cancelled(&event)?;
            if viewer.is_guardian() && event.rsvp_deadline.is_some_and(|d| now > d) {
                return Err(ApiError::Conflict(
                    "the RSVP deadline has passed; ask the school to change your answer".into(),
                ));
            }
            let existing = store::rsvp_of(tx.conn(), &viewer.school_id, id, family)?;
            let yes = input.response == RsvpResponse::Yes;
            let before = existing.as_ref().map(|r| r.status);
            let (status, waitlisted_at) = match rules::place_change(before, input.response) {
                Place::Take => {
                    if store::take_place(tx.conn(), &event)? {
                        (RsvpStatus::Confirmed, None)
                    } else if event.waitlist {
                        (RsvpStatus::Waitlisted, Some(now))
                    } else {
                        return Err(ApiError::Conflict(
                            "the event is full and has no waitlist".into(),
                        ));
                    }
                }
                Place::Keep => match &existing {
                    Some(r) if yes => (r.status, r.waitlisted_at),
                    _ => (RsvpStatus::Answered, None),
                },
                Place::Free => {
                    store::free_place(tx.conn(), &event)?;
                    (RsvpStatus::Answered, None)
                }
                Place::LeaveWaitlist => (RsvpStatus::Answered, None),
            };
            let answered_by = viewer
                .guardian_id()
                .map(|g| g.to_string())
                .unwrap_or_else(|| viewer.sub.clone());
            let fill = |r: &mut RsvpRow| {
                r.response = input.response;
                r.status = status;
                r.adults = input.adults.unwrap_or(i32::from(yes));
                r.children = input.children.unwrap_or(0);
                r.needs_interpreter = input.needs_interpreter;
                r.language = input.language.as_ref().map(|l| l.as_str().to_string());
                r.needs_childcare = input.needs_childcare;
                r.note = input.note.clone();
                r.answered_by = answered_by.clone();
                r.waitlisted_at = waitlisted_at;
            };
            let result = match existing {
                Some(current) => {
                    let mut next = current.clone();
                    fill(&mut next);
                    if next == current {
                        return Ok((current.view(), false));
                    }
                    let saved = tx.revise(&current, Action::Update, fill)?;
                    (saved, false)
                }
                None => {
                    let mut row = RsvpRow {
                        id: crate::ids::RsvpId::new(),
                        school_id: viewer.school_id.clone(),
                        event_id: id,
                        family_id: family,
                        response: input.response,
                        status,
                        adults: 0,
                        children: 0,
                        needs_interpreter: false,
                        language: None,
                        needs_childcare: false,
                        note: None,
                        answered_by: String::new(),
                        waitlisted_at: None,
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    };
                    fill(&mut row);
                    tx.create(&row)?;
                    (row, true)
                }
            };
            if before == Some(RsvpStatus::Confirmed) && status != RsvpStatus::Confirmed {
                promote(tx, &event)?;
            }
            Ok((result.0.view(), result.1))
        })
        .await?;
    Ok(put_answer(&rsvp, rsvp.version, created))
}

/// Record who came
///
/// Staff record whether a family came, and how many adults and children, also for families
/// that did not answer. 201 the first time, 200 after. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "events",
    params(
        ("id" = Uuid, Path, description = "The event's id"),
        ("family_id" = Uuid, Path, description = "The family's id"),
    ),
    request_body = AttendanceInput,
    responses(
        (status = 200, description = "The changed record", body = Attendance, headers(("ETag" = String, description = "Its version"))),
        (status = 201, description = "The first record", body = Attendance, headers(("ETag" = String, description = "Its version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[put("/v1/events/{id}/attendance/{family_id}")]
pub async fn put_attendance(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    body: JsonBody<AttendanceInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    staff_only(&caller, "the school records attendance")?;
    let (id, family) = path.into_inner();
    let (id, family) = (EventId(id), FamilyId(family));
    let input = body.value;
    let (record, created) = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let now = tx.now();
            let event = store::find(tx.conn(), &viewer, id)?;
            families::store::find(tx.conn(), &viewer, family)?;
            let (adults, children) = if input.attended {
                (input.adults.unwrap_or(1), input.children.unwrap_or(0))
            } else {
                (0, 0)
            };
            match store::attendance_of(tx.conn(), &viewer.school_id, event.id, family)? {
                Some(current) => {
                    if (current.attended, current.adults, current.children)
                        == (input.attended, adults, children)
                    {
                        return Ok((current.view(), false));
                    }
                    let saved = tx.revise(&current, Action::Update, |r| {
                        r.attended = input.attended;
                        r.adults = adults;
                        r.children = children;
                        r.recorded_by = viewer.sub.clone();
                    })?;
                    Ok((saved.view(), false))
                }
                None => {
                    let row = AttendanceRow {
                        id: crate::ids::AttendanceId::new(),
                        school_id: viewer.school_id.clone(),
                        event_id: event.id,
                        family_id: family,
                        attended: input.attended,
                        adults,
                        children,
                        recorded_by: viewer.sub.clone(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    };
                    tx.create(&row)?;
                    Ok((row.view(), true))
                }
            }
        })
        .await?;
    Ok(put_answer(&record, record.version, created))
}

/// Give feedback on an event
///
/// A guardian rates an event their family was invited to (1–5, with a comment), once, after
/// it has ended (409 before, and 409 a second time). Staff cannot give it for the family
/// (403). Honours `Idempotency-Key`. Scope: `engagement:write`.
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id"), IdempotencyKey),
    request_body = FeedbackInput,
    responses(
        (status = 201, description = "Given", body = Feedback,
            headers(("Location" = String, description = "The event's path"), ("ETag" = String, description = "Always \"1\""))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/events/{id}/feedback")]
pub async fn create_feedback(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<FeedbackInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    let Some(_) = caller.guardian() else {
        return Err(ApiError::Forbidden(
            "feedback is the family's to give; staff cannot give it for them".into(),
        ));
    };
    let id = EventId(id.into_inner());
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let now = tx.now();
                let event = store::find(tx.conn(), &viewer, id)?;
                let (family, _) = viewer.record_scope().ok_or(ApiError::NotFound)?;
                not_cancelled(&event)?;
                if now < event.ends_at {
                    return Err(ApiError::Conflict(
                        "feedback opens when the event has ended".into(),
                    ));
                }
                if store::has_feedback(tx.conn(), &viewer.school_id, id, family)? {
                    return Err(ApiError::Conflict(
                        "the family has already given feedback on this event".into(),
                    ));
                }
                let row = FeedbackRow {
                    id: crate::ids::FeedbackId::new(),
                    school_id: viewer.school_id.clone(),
                    event_id: id,
                    family_id: family,
                    rating: body.value.rating,
                    comment: body.value.comment,
                    given_by: viewer
                        .guardian_id()
                        .map(|g| g.to_string())
                        .unwrap_or_default(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                };
                tx.create_as(Action::Rate, &row)?;
                Created::new(&row.view(), format!("/v1/events/{id}"), 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// An event's conference slots
///
/// By start. Staff see every slot with its booking; a guardian sees the free slots and those
/// booked for their own children. Scope: `engagement:read`.
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, description = "The slots", body = SlotList), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/events/{id}/slots")]
pub async fn list_slots(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementRead)?;
    let id = EventId(id.into_inner());
    let now = state.clock.now();
    let list = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            let event = store::find(conn, &viewer, id)?;
            let slots = store::slots_of(conn, &viewer.school_id, event.id)?;
            let data = slots
                .iter()
                .filter_map(|(slot, booking)| match (viewer.record_scope(), booking) {
                    (None, b) => Some(slot.view(b.is_some(), b.as_ref())),
                    (Some(_), None) => Some(slot.view(false, None)),
                    (Some((family, seen)), Some(b))
                        if b.family_id == family && seen.contains(&b.student_id) =>
                    {
                        Some(slot.view(true, Some(b)))
                    }
                    (Some(_), Some(_)) => None,
                })
                .collect();
            Ok(SlotList { data })
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Make conference slots
///
/// A series of consecutive slots of `slot_minutes` from `starts_at` to `ends_at` (a last slot
/// that would not fit whole is not made; at most 200), each with `host`. Honours
/// `Idempotency-Key`. Scope: `engagement:write` (staff).
#[utoipa::path(
    tag = "events",
    params(("id" = Uuid, Path, description = "The event's id"), IdempotencyKey),
    request_body = SlotSeriesInput,
    responses(
        (status = 201, description = "Made", body = SlotList,
            headers(("Location" = String, description = "The event's slots"), ("ETag" = String, description = "Always \"1\""))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/events/{id}/slots")]
pub async fn create_slots(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<SlotSeriesInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    staff_only(&caller, "the school makes conference slots")?;
    let id = EventId(id.into_inner());
    let series = rules::slot_series(
        body.value.starts_at.naive_utc(),
        body.value.ends_at.naive_utc(),
        body.value.slot_minutes,
    )?;
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let now = tx.now();
                let event = store::find(tx.conn(), &viewer, id)?;
                not_cancelled(&event)?;
                let mut data = Vec::with_capacity(series.len());
                for (starts_at, ends_at) in series {
                    let row = SlotRow {
                        id: SlotId::new(),
                        school_id: viewer.school_id.clone(),
                        event_id: id,
                        starts_at,
                        ends_at,
                        host: body.value.host.clone(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    };
                    tx.create(&row)?;
                    data.push(row.view(false, None));
                }
                Created::new(&SlotList { data }, format!("/v1/events/{id}/slots"), 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Book a conference slot
///
/// A guardian books a free slot for a child whose records they may see (staff may book for any
/// child). One slot per child and event. Of two requests racing for the same slot exactly one
/// wins; the other gets a 409 (as does a booked slot, or a child already booked). Honours
/// `Idempotency-Key`. Scope: `engagement:write`.
#[utoipa::path(
    tag = "events",
    params(
        ("id" = Uuid, Path, description = "The event's id"),
        ("slot_id" = Uuid, Path, description = "The slot's id"),
        IdempotencyKey,
    ),
    request_body = BookingInput,
    responses(
        (status = 201, description = "Booked", body = Booking,
            headers(("Location" = String, description = "The booking's path"), ("ETag" = String, description = "Always \"1\""))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/events/{id}/slots/{slot_id}/booking")]
pub async fn book_slot(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
    body: JsonBody<BookingInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    let (id, slot_id) = path.into_inner();
    let (id, slot_id) = (EventId(id), SlotId(slot_id));
    let student = StudentId(body.value.student_id);
    let created = state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let now = tx.now();
                let school = viewer.school_id.clone();
                let event = store::find(tx.conn(), &viewer, id)?;
                not_cancelled(&event)?;
                let slot = store::slot(tx.conn(), &school, id, slot_id)?;
                let child = super::students::store::find(tx.conn(), &viewer, student).map_err(
                    |e| match e {
                        ApiError::NotFound => ApiError::unprocessable_field(
                            "student_id",
                            "not_found",
                            "no such student",
                        ),
                        other => other,
                    },
                )?;
                let family = match viewer.record_scope() {
                    Some((family, _)) => {
                        if !student_goes_with_family(tx.conn(), &school, family, student)? {
                            return Err(ApiError::unprocessable_field(
                                "student_id",
                                "not_found",
                                "no such student with this family",
                            ));
                        }
                        family
                    }
                    None => child.family_id,
                };
                if store::live_booking(tx.conn(), &school, slot.id)?.is_some() {
                    return Err(ApiError::Conflict("this slot is already booked".into()));
                }
                if store::child_booked(tx.conn(), &school, id, student)? {
                    return Err(ApiError::Conflict(
                        "this child already has a slot at this event".into(),
                    ));
                }
                let row = BookingRow {
                    id: crate::ids::BookingId::new(),
                    school_id: school.clone(),
                    event_id: id,
                    slot_id: slot.id,
                    family_id: family,
                    student_id: student,
                    booked_by: viewer
                        .guardian_id()
                        .map(|g| g.to_string())
                        .unwrap_or_else(|| viewer.sub.clone()),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                    released_at: None,
                };
                // The unique indexes decide a race that both requests passed the checks above
                // in: the loser's insert fails, and it is answered as the slot being taken.
                tx.create(&row).map_err(|e| match e {
                    ApiError::Conflict(_) => ApiError::Conflict(
                        "this slot (or this child's place at the event) was just booked".into(),
                    ),
                    other => other,
                })?;
                Created::new(
                    &row.view(),
                    format!("/v1/events/{id}/slots/{}/booking", slot.id),
                    1,
                )
            })
        })
        .await?;
    Ok(created.response())
}

/// Release a booking
///
/// Frees the slot; the booking is kept with `released_at`. A guardian releases only their own
/// family's bookings. Scope: `engagement:write`.
#[utoipa::path(
    tag = "events",
    params(
        ("id" = Uuid, Path, description = "The event's id"),
        ("slot_id" = Uuid, Path, description = "The slot's id"),
    ),
    responses((status = 204, description = "Released"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/events/{id}/slots/{slot_id}/booking")]
pub async fn release_booking(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EngagementWrite)?;
    let (id, slot_id) = path.into_inner();
    let (id, slot_id) = (EventId(id), SlotId(slot_id));
    state
        .write(&caller, move |tx| {
            let viewer = tx.viewer()?;
            let school = viewer.school_id.clone();
            store::find(tx.conn(), &viewer, id)?;
            let slot = store::slot(tx.conn(), &school, id, slot_id)?;
            let booking =
                store::live_booking(tx.conn(), &school, slot.id)?.ok_or(ApiError::NotFound)?;
            if !viewer.sees_record(booking.family_id, Some(booking.student_id), true) {
                return Err(ApiError::NotFound);
            }
            tx.archive(&booking)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
