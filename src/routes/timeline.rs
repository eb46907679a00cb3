//! A family's timeline: everything that happened with the family, newest first, as the caller
//! may see it.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::communications::store::{is_time_key, parse_time_key, time_key};
use super::communications::{self, Communication};
use super::concerns::{self, Concern};
use super::events::{self, Attendance, Booking, Rsvp};
use super::families;
use super::iep::{self, IepNote};
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Scope};
use crate::domain::text_enum;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::FamilyId;
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(family_timeline);
}

text_enum! {
    /// What a timeline entry is.
    TimelineKind {
        /// A communication, placed at when it happened.
        Communication => "communication",
        /// A concern, placed at when it was raised.
        Concern => "concern",
        /// An IEP note shared with the family, placed at when it was written.
        IepNote => "iep_note",
        /// The family's answer to an event, placed at when it was first given.
        Rsvp => "rsvp",
        /// Whether the family came to an event, placed at when it was first recorded.
        Attendance => "attendance",
        /// A conference slot booked for a child, placed at when it was booked.
        Booking => "booking",
    }
}

/// One thing that happened with a family.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// What it is; the field of that name holds it.
    pub kind: TimelineKind,
    /// The item's id.
    pub id: Uuid,
    /// When it happened.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub at: DateTime<Utc>,
    /// The communication, for `kind: communication`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub communication: Option<Communication>,
    /// The concern, for `kind: concern`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub concern: Option<Concern>,
    /// The IEP note, for `kind: iep_note`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub iep_note: Option<IepNote>,
    /// The answer, for `kind: rsvp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rsvp: Option<Rsvp>,
    /// Who came, for `kind: attendance`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub attendance: Option<Attendance>,
    /// The booking, for `kind: booking`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub booking: Option<Booking>,
}

impl TimelineEntry {
    /// An entry of `kind` with none of the items set.
    fn bare(kind: TimelineKind, id: Uuid, at: DateTime<Utc>) -> TimelineEntry {
        TimelineEntry {
            kind,
            id,
            at,
            communication: None,
            concern: None,
            iep_note: None,
            rsvp: None,
            attendance: None,
            booking: None,
        }
    }
}

/// Paging of a timeline.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A family's timeline
///
/// The family's communications, (for callers with `concerns:read`) concerns and (for callers
/// with `iep:read`) IEP notes, merged newest first and keyset-paginated, so a deep page costs
/// what the first does; a guardian sees what they may see of each (of IEP notes, those shared
/// with the family about a child they may see), and (for callers with `engagement:read`) the
/// family's answers to events, attendance and conference bookings (a guardian's: of the
/// children they may see). A page that carries IEP notes is recorded in
/// the audit log (a read per child) before it is sent; if it cannot be, the answer is a 503.
/// Scope: `communications:read`.
#[utoipa::path(
    tag = "families",
    params(("id" = Uuid, Path, description = "The family's id"), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineEntry>), iep::AuditedReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/families/{id}/timeline")]
pub async fn family_timeline(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsRead)?;
    let q = query.0;
    let family = FamilyId(id.into_inner());
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), is_time_key)?;
    let now = state.clock.now();
    let reader = caller.clone();
    let (result, reads) = state
        .db
        .read(move |conn| {
            let caller = reader;
            let viewer = Viewer::resolve(conn, &caller, now.date())?;
            families::store::find(conn, &viewer, family)?;
            let after = page.after.as_deref().and_then(parse_time_key);
            // Each source gives its newest `fetch` items after the cursor; the merge keeps the
            // newest `fetch` of those, which are the newest of all.
            let mut entries: Vec<(String, TimelineEntry)> = communications::store::family_page(
                conn,
                &viewer,
                family,
                after.as_ref(),
                page.fetch(),
            )?
            .into_iter()
            .map(|row| {
                let key = time_key(row.occurred_at, row.id);
                let c = row.view();
                let (id, at) = (c.id, c.occurred_at);
                let entry = TimelineEntry {
                    communication: Some(c),
                    ..TimelineEntry::bare(TimelineKind::Communication, id, at)
                };
                (key, entry)
            })
            .collect();
            if caller.scopes.contains(Scope::ConcernsRead) {
                let rows =
                    concerns::family_page(conn, &viewer, family, after.as_ref(), page.fetch())?;
                entries.extend(rows.into_iter().map(|row| {
                    let key = time_key(row.created_at, row.id);
                    let c = row.view(now);
                    let (id, at) = (c.id, c.created_at);
                    let entry = TimelineEntry {
                        concern: Some(c),
                        ..TimelineEntry::bare(TimelineKind::Concern, id, at)
                    };
                    (key, entry)
                }));
            }
            if caller.scopes.contains(Scope::IepRead) {
                let rows =
                    iep::store::family_page(conn, &viewer, family, after.as_ref(), page.fetch())?;
                let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
                let items = iep::store::items_of(conn, &viewer.school_id, &ids)?;
                entries.extend(iep::store::with_items(rows, items).into_iter().map(
                    |(row, items)| {
                        let key = time_key(row.created_at, row.id);
                        let n = row.view(items);
                        let (id, at) = (n.id, n.created_at);
                        let entry = TimelineEntry {
                            iep_note: Some(n),
                            ..TimelineEntry::bare(TimelineKind::IepNote, id, at)
                        };
                        (key, entry)
                    },
                ));
            }
            if caller.scopes.contains(Scope::EngagementRead) {
                let school = viewer.school_id.clone();
                let (after, fetch) = (after.as_ref(), page.fetch());
                let rows = events::store::family_rsvps(conn, &school, family, after, fetch)?;
                entries.extend(rows.into_iter().map(|row| {
                    let r = row.view();
                    let (id, at) = (r.id, r.created_at);
                    let entry = TimelineEntry {
                        rsvp: Some(r),
                        ..TimelineEntry::bare(TimelineKind::Rsvp, id, at)
                    };
                    (time_key(row.created_at, row.id), entry)
                }));
                let rows = events::store::family_attendance(conn, &school, family, after, fetch)?;
                entries.extend(rows.into_iter().map(|row| {
                    let a = row.view();
                    let (id, at) = (a.id, a.created_at);
                    let entry = TimelineEntry {
                        attendance: Some(a),
                        ..TimelineEntry::bare(TimelineKind::Attendance, id, at)
                    };
                    (time_key(row.created_at, row.id), entry)
                }));
                let rows = events::store::family_bookings(conn, &viewer, family, after, fetch)?;
                entries.extend(rows.into_iter().map(|row| {
                    let b = row.view();
                    let (id, at) = (b.id, b.created_at);
                    let entry = TimelineEntry {
                        booking: Some(b),
                        ..TimelineEntry::bare(TimelineKind::Booking, id, at)
                    };
                    (time_key(row.created_at, row.id), entry)
                }));
            }
            entries.sort_by_key(|(_, e)| std::cmp::Reverse((e.at, e.id)));
            entries.truncate(page.fetch() as usize);
            let result = page.finish(entries, |(key, _)| key.clone(), |(_, entry)| entry);
            // The notes the page carries are read: one audit event per child.
            let notes: Vec<(String, String)> = result
                .data
                .iter()
                .filter_map(|e| e.iep_note.as_ref())
                .map(|n| (n.student_id.to_string(), n.family_id.to_string()))
                .collect();
            let reads = iep::student_reads(notes.iter().map(|(s, f)| (s.as_str(), f.as_str())));
            Ok((result, reads))
        })
        .await?;
    iep::record_reads(&state, &caller, reads).await?;
    Ok(pagination::respond(&req, &result))
}
