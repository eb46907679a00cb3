//! Events, answers, attendance, feedback, slots and bookings as stored, and their queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rules::{language_keys, Member};
use super::wire::{
    Audience, Event, EventFields, EventType, Rsvp, RsvpResponse, RsvpStatus, RsvpTotals,
};
use crate::auth::policy::Viewer;
use crate::db::schema::{
    attendance, bookings, event_audience, event_feedback, event_slots, events, families, guardians,
    rsvps, students,
};
use crate::db::{native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::LanguageTag;
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{
    AttendanceId, BookingId, EventId, FamilyId, FeedbackId, RsvpId, SlotId, StudentId,
};
use crate::routes::communications::store::parse_time_key;
use crate::routes::utc;

/// Implements `Record` for a row of `$table` with `id`, `school_id`, `version` and
/// `updated_at`; `$family`/`$student` name the family and student it concerns.
macro_rules! record {
    ($row:ty, $kind:expr, $table:ident, |$r:ident| $family:expr, $student:expr) => {
        impl Record for $row {
            const TYPE: ResourceType = $kind;
            stored_in!($table);

            fn record_id(&self) -> String {
                self.id.to_string()
            }
            fn version(&self) -> i64 {
                self.version
            }
            fn family_id(&self) -> Option<String> {
                let $r = self;
                $family
            }
            fn student_id(&self) -> Option<String> {
                let $r = self;
                let _ = &$r;
                $student
            }
            fn bump(&mut self, now: NaiveDateTime) {
                self.version += 1;
                self.updated_at = now;
            }
        }
    };
}

/// An event as stored. `languages` and `audience` hold JSON.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = events, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct EventRow {
    pub id: EventId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub kind: EventType,
    pub title: String,
    pub description: Option<String>,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub starts_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub ends_at: NaiveDateTime,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub languages: String,
    pub interpreter_available: bool,
    pub childcare_available: bool,
    pub capacity: Option<i32>,
    pub waitlist: bool,
    pub audience: String,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub rsvp_deadline: Option<NaiveDateTime>,
    pub organizer: Option<String>,
    /// Moved only by `take_place`/`free_place` (guarded updates), never by a save of the row.
    #[diesel(skip_update)]
    pub places_taken: i32,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub cancelled_at: Option<NaiveDateTime>,
}

record!(EventRow, ResourceType::Events, events, |_r| None, None);

impl Archivable for EventRow {
    /// An event is cancelled, not archived: it stays, with its answers.
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.cancelled_at = Some(now);
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl EventRow {
    /// A new event at version 1.
    pub fn new(school: &str, f: EventFields, now: NaiveDateTime) -> EventRow {
        let mut row = EventRow {
            id: EventId::new(),
            school_id: school.to_string(),
            kind: f.kind,
            title: String::new(),
            description: None,
            starts_at: now,
            ends_at: now,
            location: None,
            online_url: None,
            languages: String::new(),
            interpreter_available: false,
            childcare_available: false,
            capacity: None,
            waitlist: false,
            audience: String::new(),
            rsvp_deadline: None,
            organizer: None,
            places_taken: 0,
            version: 1,
            created_at: now,
            updated_at: now,
            cancelled_at: None,
        };
        row.set(f);
        row
    }

    /// Sets the fields a writer chooses.
    pub fn set(&mut self, f: EventFields) {
        self.kind = f.kind;
        self.title = f.title;
        self.description = f.description;
        self.starts_at = f.starts_at.naive_utc();
        self.ends_at = f.ends_at.naive_utc();
        self.location = f.location;
        self.online_url = f.online_url;
        self.languages = json(&f.languages);
        self.interpreter_available = f.interpreter_available;
        self.childcare_available = f.childcare_available;
        self.capacity = f.capacity;
        self.waitlist = f.waitlist;
        self.audience = json(&f.audience);
        self.rsvp_deadline = f.rsvp_deadline.map(|d| d.naive_utc());
        self.organizer = f.organizer;
    }

    fn audience(&self) -> Audience {
        serde_json::from_str(&self.audience).unwrap_or(Audience {
            scope: None,
            grade_levels: None,
            languages: None,
            family_ids: None,
        })
    }

    fn languages(&self) -> Vec<LanguageTag> {
        serde_json::from_str(&self.languages).unwrap_or_default()
    }

    /// The fields a merge patch edits, as they stand.
    pub fn fields(&self) -> EventFields {
        EventFields {
            kind: self.kind,
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: utc(self.starts_at),
            ends_at: utc(self.ends_at),
            location: self.location.clone(),
            online_url: self.online_url.clone(),
            languages: self.languages(),
            interpreter_available: self.interpreter_available,
            childcare_available: self.childcare_available,
            capacity: self.capacity,
            waitlist: self.waitlist,
            audience: self.audience(),
            rsvp_deadline: self.rsvp_deadline.map(utc),
            organizer: self.organizer.clone(),
        }
    }

    /// The wire form.
    pub fn view(&self) -> Event {
        Event {
            id: self.id.uuid(),
            kind: self.kind,
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: utc(self.starts_at),
            ends_at: utc(self.ends_at),
            location: self.location.clone(),
            online_url: self.online_url.clone(),
            languages: self
                .languages()
                .iter()
                .map(|l| l.as_str().to_string())
                .collect(),
            interpreter_available: self.interpreter_available,
            childcare_available: self.childcare_available,
            capacity: self.capacity,
            places_left: self.capacity.map(|c| (c - self.places_taken).max(0)),
            waitlist: self.waitlist,
            audience: self.audience(),
            rsvp_deadline: self.rsvp_deadline.map(utc),
            organizer: self.organizer.clone(),
            cancelled_at: self.cancelled_at.map(utc),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Replaces an event's audience rows (part of the event's recorded write).
pub fn save_audience(
    conn: &mut DbConnection,
    event: &EventRow,
    members: &[Member],
) -> QueryResult<()> {
    let school = event.school_id.as_str();
    native!(conn, |c| diesel::delete(
        event_audience::table
            .filter(event_audience::school_id.eq(school))
            .filter(event_audience::event_id.eq(event.id))
    )
    .execute(c))?;
    for (kind, member) in members {
        native!(conn, |c| diesel::insert_into(event_audience::table)
            .values((
                event_audience::school_id.eq(school),
                event_audience::event_id.eq(event.id),
                event_audience::member_kind.eq(*kind),
                event_audience::member.eq(member),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// What a family is reached by: its id, the grades of the given children, its languages.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    family: String,
    grades: Vec<String>,
    languages: Vec<String>,
}

/// The audience keys of `family`: its children's grades (`students`: for a guardian, only the
/// children they may see; `None`: all the family's children) and the languages of the family
/// and of `guardian` (`None`: of all its guardians).
pub fn reach_of(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
    students_seen: Option<&[StudentId]>,
    guardian: Option<crate::ids::GuardianId>,
) -> QueryResult<Reach> {
    let grades: Vec<Option<String>> = native!(conn, |c| {
        let mut q = students::table
            .filter(students::school_id.eq(school))
            .filter(students::archived_at.is_null())
            .select(students::grade_level)
            .into_boxed();
        q = match students_seen {
            Some(ids) => q.filter(students::id.eq_any(ids.to_vec())),
            None => q.filter(students::family_id.eq(family)),
        };
        q.load(c)
    })?;
    let family_lang: Option<Option<String>> = native!(conn, |c| families::table
        .filter(families::school_id.eq(school))
        .filter(families::id.eq(family))
        .select(families::primary_language)
        .first(c)
        .optional())?;
    let guardian_langs: Vec<Option<String>> = native!(conn, |c| {
        let mut q = guardians::table
            .filter(guardians::school_id.eq(school))
            .filter(guardians::archived_at.is_null())
            .select(guardians::preferred_language)
            .into_boxed();
        q = match guardian {
            Some(g) => q.filter(guardians::id.eq(g)),
            None => q.filter(guardians::family_id.eq(family)),
        };
        q.load(c)
    })?;
    let langs: Vec<String> = family_lang
        .flatten()
        .into_iter()
        .chain(guardian_langs.into_iter().flatten())
        .collect();
    let mut grades: Vec<String> = grades.into_iter().flatten().collect();
    grades.sort();
    grades.dedup();
    Ok(Reach {
        family: family.to_string(),
        grades,
        languages: language_keys(langs.iter().map(String::as_str)),
    })
}

/// The reach of the viewer's family when the viewer is a guardian (`None` for staff).
pub fn guardian_reach(conn: &mut DbConnection, viewer: &Viewer) -> QueryResult<Option<Reach>> {
    match &viewer.guardian {
        None => Ok(None),
        Some(g) => reach_of(
            conn,
            &viewer.school_id,
            g.family_id,
            Some(&g.students),
            Some(g.guardian_id),
        )
        .map(Some),
    }
}

/// Whether the event of the outer query (of `school`) has an audience that takes in `reach`:
/// a correlated `EXISTS`, so that a list walks the events in start order by its index and stops
/// at the page's end (an `id IN (…)` made SQLite fetch and sort every event the family is
/// reached by: ten times slower for a guardian's list).
macro_rules! reaches {
    ($school:expr, $reach:expr) => {{
        let r: &Reach = $reach;
        diesel::dsl::exists(
            event_audience::table
                .filter(event_audience::school_id.eq($school))
                .filter(event_audience::event_id.eq(events::id))
                .filter(
                    event_audience::member_kind
                        .eq("school")
                        .or(event_audience::member_kind
                            .eq("family")
                            .and(event_audience::member.eq(r.family.clone())))
                        .or(event_audience::member_kind
                            .eq("grade")
                            .and(event_audience::member.eq_any(r.grades.clone())))
                        .or(event_audience::member_kind
                            .eq("language")
                            .and(event_audience::member.eq_any(r.languages.clone()))),
                ),
        )
    }};
}

/// Loads an event the viewer may see (a guardian: one whose audience takes in their family),
/// cancelled ones included; else 404.
pub fn find(conn: &mut DbConnection, viewer: &Viewer, id: EventId) -> Result<EventRow, ApiError> {
    let school = viewer.school_id.clone();
    let reach = guardian_reach(conn, viewer)?;
    Ok(native!(conn, |c| {
        let mut q = events::table
            .filter(events::school_id.eq(school.clone()))
            .filter(events::id.eq(id))
            .into_boxed();
        if let Some(r) = &reach {
            q = q.filter(reaches!(school.clone(), r));
        }
        q.select(EventRow::as_select()).first(c)
    })?)
}

/// The filters of the events.
#[derive(Debug, Default)]
pub struct Filters {
    pub kind: Option<EventType>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub audience_includes: Option<FamilyId>,
    pub language: Option<String>,
    pub has_capacity: Option<bool>,
}

/// A page of the events the viewer may see, by start time.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &Filters,
    page: &PageRequest,
) -> Result<Vec<EventRow>, ApiError> {
    let school = viewer.school_id.clone();
    let mut reaches = Vec::new();
    if let Some(r) = guardian_reach(conn, viewer)? {
        reaches.push(r);
    }
    if let Some(fam) = f.audience_includes {
        viewer.family(fam)?;
        if !viewer.is_guardian() {
            reaches.push(reach_of(conn, &school, fam, None, None)?);
        }
    }
    let after = page.after.as_deref().and_then(parse_time_key);
    Ok(native!(conn, |c| {
        let mut q = events::table
            .filter(events::school_id.eq(school.clone()))
            .into_boxed();
        for r in &reaches {
            q = q.filter(reaches!(school.clone(), r));
        }
        if let Some(k) = f.kind {
            q = q.filter(events::kind.eq(k));
        }
        if let Some(from) = f.from {
            q = q.filter(events::starts_at.ge(from));
        }
        if let Some(to) = f.to {
            q = q.filter(events::starts_at.lt(to));
        }
        if let Some(lang) = &f.language {
            q = q.filter(events::languages.like(format!("%\"{lang}\"%")));
        }
        match f.has_capacity {
            Some(true) => {
                q = q.filter(events::cancelled_at.is_null()).filter(
                    events::capacity
                        .is_null()
                        .or(events::places_taken.nullable().lt(events::capacity)),
                )
            }
            Some(false) => {
                q = q.filter(
                    events::cancelled_at
                        .is_not_null()
                        .or(events::places_taken.nullable().ge(events::capacity)),
                )
            }
            None => {}
        }
        if let Some((at, id)) = &after {
            q = q.filter(events::starts_at.ge(*at)).filter(
                events::starts_at
                    .gt(*at)
                    .or(events::starts_at.eq(*at).and(events::id.gt(id.clone()))),
            );
        }
        q.order((events::starts_at.asc(), events::id.asc()))
            .limit(page.fetch())
            .select(EventRow::as_select())
            .load(c)
    })?)
}

/// Takes one of the event's places if one is free (a guarded update, safe under concurrent
/// answers on either backend): whether it did.
pub fn take_place(conn: &mut DbConnection, event: &EventRow) -> QueryResult<bool> {
    let n = native!(conn, |c| diesel::update(
        events::table
            .filter(events::school_id.eq(&event.school_id))
            .filter(events::id.eq(event.id))
            .filter(
                events::capacity
                    .is_null()
                    .or(events::places_taken.nullable().lt(events::capacity))
            )
    )
    .set(events::places_taken.eq(events::places_taken + 1))
    .execute(c))?;
    Ok(n == 1)
}

/// Gives one place back.
pub fn free_place(conn: &mut DbConnection, event: &EventRow) -> QueryResult<()> {
    native!(conn, |c| diesel::update(
        events::table
            .filter(events::school_id.eq(&event.school_id))
            .filter(events::id.eq(event.id))
            .filter(events::places_taken.gt(0))
    )
    .set(events::places_taken.eq(events::places_taken - 1))
    .execute(c))?;
    Ok(())
}

/// A family's answer as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = rsvps, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct RsvpRow {
    pub id: RsvpId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub event_id: EventId,
    pub family_id: FamilyId,
    pub response: RsvpResponse,
    pub status: RsvpStatus,
    pub adults: i32,
    pub children: i32,
    pub needs_interpreter: bool,
    pub language: Option<String>,
    pub needs_childcare: bool,
    pub note: Option<String>,
    pub answered_by: String,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub waitlisted_at: Option<NaiveDateTime>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
}

record!(
    RsvpRow,
    ResourceType::Rsvps,
    rsvps,
    |r| Some(r.family_id.to_string()),
    None
);

impl RsvpRow {
    /// The wire form.
    pub fn view(&self) -> Rsvp {
        Rsvp {
            id: self.id.uuid(),
            event_id: self.event_id.uuid(),
            family_id: self.family_id.uuid(),
            response: self.response,
            status: self.status,
            adults: self.adults,
            children: self.children,
            needs_interpreter: self.needs_interpreter,
            language: self.language.clone(),
            needs_childcare: self.needs_childcare,
            note: self.note.clone(),
            answered_by: self.answered_by.clone(),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// The family's answer to the event, if any.
pub fn rsvp_of(
    conn: &mut DbConnection,
    school: &str,
    event: EventId,
    family: FamilyId,
) -> QueryResult<Option<RsvpRow>> {
    native!(conn, |c| rsvps::table
        .filter(rsvps::school_id.eq(school))
        .filter(rsvps::event_id.eq(event))
        .filter(rsvps::family_id.eq(family))
        .select(RsvpRow::as_select())
        .first(c)
        .optional())
}

/// The first family on the event's waitlist.
pub fn first_waitlisted(conn: &mut DbConnection, event: &EventRow) -> QueryResult<Option<RsvpRow>> {
    native!(conn, |c| rsvps::table
        .filter(rsvps::school_id.eq(&event.school_id))
        .filter(rsvps::event_id.eq(event.id))
        .filter(rsvps::status.eq(RsvpStatus::Waitlisted))
        .order((rsvps::waitlisted_at.asc(), rsvps::id.asc()))
        .select(RsvpRow::as_select())
        .first(c)
        .optional())
}

/// A page of an event's answers, oldest first (a guardian: only their family's).
pub fn rsvps_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    event: EventId,
    page: &PageRequest,
) -> QueryResult<Vec<RsvpRow>> {
    native!(conn, |c| {
        let mut q = rsvps::table
            .filter(rsvps::school_id.eq(viewer.school_id.clone()))
            .filter(rsvps::event_id.eq(event))
            .into_boxed();
        if let Some((family, _)) = viewer.record_scope() {
            q = q.filter(rsvps::family_id.eq(family));
        }
        if let Some(after) = &page.after {
            q = q.filter(rsvps::id.gt(after.clone()));
        }
        q.order(rsvps::id.asc())
            .limit(page.fetch())
            .select(RsvpRow::as_select())
            .load(c)
    })
}

/// The totals of all of an event's answers.
pub fn totals(conn: &mut DbConnection, school: &str, event: EventId) -> QueryResult<RsvpTotals> {
    type Line = (
        RsvpResponse,
        RsvpStatus,
        i32,
        i32,
        bool,
        Option<String>,
        bool,
    );
    let rows: Vec<Line> = native!(conn, |c| rsvps::table
        .filter(rsvps::school_id.eq(school))
        .filter(rsvps::event_id.eq(event))
        .select((
            rsvps::response,
            rsvps::status,
            rsvps::adults,
            rsvps::children,
            rsvps::needs_interpreter,
            rsvps::language,
            rsvps::needs_childcare,
        ))
        .load(c))?;
    let mut t = RsvpTotals::default();
    for (response, status, adults, children, interpreter, language, childcare) in rows {
        match (response, status) {
            (_, RsvpStatus::Waitlisted) => t.waitlisted += 1,
            (RsvpResponse::Yes, _) => {
                t.yes += 1;
                t.head_count += i64::from(adults + children);
                if interpreter {
                    *t.interpreters
                        .entry(language.unwrap_or_else(|| "unspecified".into()))
                        .or_default() += 1;
                }
                if childcare {
                    t.childcare += 1;
                }
            }
            (RsvpResponse::No, _) => t.no += 1,
            (RsvpResponse::Maybe, _) => t.maybe += 1,
        }
    }
    Ok(t)
}

/// A family's answers, newest first, after the timeline's cursor.
pub fn family_rsvps(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<RsvpRow>> {
    native!(conn, |c| {
        let mut q = rsvps::table
            .filter(rsvps::school_id.eq(school.to_string()))
            .filter(rsvps::family_id.eq(family))
            .into_boxed();
        if let Some((at, id)) = after {
            q = q.filter(rsvps::created_at.le(*at)).filter(
                rsvps::created_at
                    .lt(*at)
                    .or(rsvps::created_at.eq(*at).and(rsvps::id.lt(id.clone()))),
            );
        }
        q.order((rsvps::created_at.desc(), rsvps::id.desc()))
            .limit(limit)
            .select(RsvpRow::as_select())
            .load(c)
    })
}

/// Who came, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = attendance, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct AttendanceRow {
    pub id: AttendanceId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub event_id: EventId,
    pub family_id: FamilyId,
    pub attended: bool,
    pub adults: i32,
    pub children: i32,
    pub recorded_by: String,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
}

record!(
    AttendanceRow,
    ResourceType::Attendance,
    attendance,
    |r| Some(r.family_id.to_string()),
    None
);

/// The family's attendance record of the event, if any.
pub fn attendance_of(
    conn: &mut DbConnection,
    school: &str,
    event: EventId,
    family: FamilyId,
) -> QueryResult<Option<AttendanceRow>> {
    native!(conn, |c| attendance::table
        .filter(attendance::school_id.eq(school))
        .filter(attendance::event_id.eq(event))
        .filter(attendance::family_id.eq(family))
        .select(AttendanceRow::as_select())
        .first(c)
        .optional())
}

/// A family's attendance records, newest first, after the timeline's cursor.
pub fn family_attendance(
    conn: &mut DbConnection,
    school: &str,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<AttendanceRow>> {
    native!(conn, |c| {
        let mut q = attendance::table
            .filter(attendance::school_id.eq(school.to_string()))
            .filter(attendance::family_id.eq(family))
            .into_boxed();
        if let Some((at, id)) = after {
            q = q.filter(attendance::created_at.le(*at)).filter(
                attendance::created_at.lt(*at).or(attendance::created_at
                    .eq(*at)
                    .and(attendance::id.lt(id.clone()))),
            );
        }
        q.order((attendance::created_at.desc(), attendance::id.desc()))
            .limit(limit)
            .select(AttendanceRow::as_select())
            .load(c)
    })
}

/// A family's feedback, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = event_feedback, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct FeedbackRow {
    pub id: FeedbackId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub event_id: EventId,
    pub family_id: FamilyId,
    pub rating: i32,
    pub comment: Option<String>,
    pub given_by: String,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
}

record!(
    FeedbackRow,
    ResourceType::EventFeedback,
    event_feedback,
    |r| Some(r.family_id.to_string()),
    None
);

/// Whether the family has given feedback on the event.
pub fn has_feedback(
    conn: &mut DbConnection,
    school: &str,
    event: EventId,
    family: FamilyId,
) -> QueryResult<bool> {
    let n: i64 = native!(conn, |c| event_feedback::table
        .filter(event_feedback::school_id.eq(school))
        .filter(event_feedback::event_id.eq(event))
        .filter(event_feedback::family_id.eq(family))
        .count()
        .get_result(c))?;
    Ok(n > 0)
}

/// A conference slot, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = event_slots, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct SlotRow {
    pub id: SlotId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub event_id: EventId,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub starts_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub ends_at: NaiveDateTime,
    pub host: String,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
}

record!(
    SlotRow,
    ResourceType::EventSlots,
    event_slots,
    |_r| None,
    None
);

/// A booking of a slot, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = bookings, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct BookingRow {
    pub id: BookingId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub event_id: EventId,
    pub slot_id: SlotId,
    pub family_id: FamilyId,
    pub student_id: StudentId,
    pub booked_by: String,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub released_at: Option<NaiveDateTime>,
}

record!(
    BookingRow,
    ResourceType::Bookings,
    bookings,
    |r| Some(r.family_id.to_string()),
    Some(r.student_id.to_string())
);

impl Archivable for BookingRow {
    /// A booking is released, its row kept.
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.released_at = Some(now);
    }
}

/// An event's slots, by start, each with its live booking.
pub fn slots_of(
    conn: &mut DbConnection,
    school: &str,
    event: EventId,
) -> QueryResult<Vec<(SlotRow, Option<BookingRow>)>> {
    let slots: Vec<SlotRow> = native!(conn, |c| event_slots::table
        .filter(event_slots::school_id.eq(school))
        .filter(event_slots::event_id.eq(event))
        .order((event_slots::starts_at.asc(), event_slots::id.asc()))
        .select(SlotRow::as_select())
        .load(c))?;
    let live: Vec<BookingRow> = native!(conn, |c| bookings::table
        .filter(bookings::school_id.eq(school))
        .filter(bookings::event_id.eq(event))
        .filter(bookings::released_at.is_null())
        .select(BookingRow::as_select())
        .load(c))?;
    Ok(slots
        .into_iter()
        .map(|s| {
            let b = live.iter().find(|b| b.slot_id == s.id).cloned();
            (s, b)
        })
        .collect())
}

/// One slot of the event.
pub fn slot(
    conn: &mut DbConnection,
    school: &str,
    event: EventId,
    id: SlotId,
) -> QueryResult<SlotRow> {
    native!(conn, |c| event_slots::table
        .filter(event_slots::school_id.eq(school))
        .filter(event_slots::event_id.eq(event))
        .filter(event_slots::id.eq(id))
        .select(SlotRow::as_select())
        .first(c))
}

/// The live booking of a slot, if any.
pub fn live_booking(
    conn: &mut DbConnection,
    school: &str,
    slot: SlotId,
) -> QueryResult<Option<BookingRow>> {
    native!(conn, |c| bookings::table
        .filter(bookings::school_id.eq(school))
        .filter(bookings::slot_id.eq(slot))
        .filter(bookings::released_at.is_null())
        .select(BookingRow::as_select())
        .first(c)
        .optional())
}

/// Whether the child already has a live booking at the event.
pub fn child_booked(
    conn: &mut DbConnection,
    school: &str,
    event: EventId,
    student: StudentId,
) -> QueryResult<bool> {
    let n: i64 = native!(conn, |c| bookings::table
        .filter(bookings::school_id.eq(school))
        .filter(bookings::event_id.eq(event))
        .filter(bookings::student_id.eq(student))
        .filter(bookings::released_at.is_null())
        .count()
        .get_result(c))?;
    Ok(n > 0)
}

/// A family's bookings (live and released), newest first, after the timeline's cursor; a
/// guardian's only of the children they may see.
pub fn family_bookings(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<BookingRow>> {
    native!(conn, |c| {
        let mut q = bookings::table
            .filter(bookings::school_id.eq(viewer.school_id.clone()))
            .filter(bookings::family_id.eq(family))
            .into_boxed();
        if let Some((_, students)) = viewer.record_scope() {
            q = q.filter(bookings::student_id.eq_any(students.to_vec()));
        }
        if let Some((at, id)) = after {
            q = q.filter(bookings::created_at.le(*at)).filter(
                bookings::created_at.lt(*at).or(bookings::created_at
                    .eq(*at)
                    .and(bookings::id.lt(id.clone()))),
            );
        }
        q.order((bookings::created_at.desc(), bookings::id.desc()))
            .limit(limit)
            .select(BookingRow::as_select())
            .load(c)
    })
}

impl AttendanceRow {
    /// The wire form.
    pub fn view(&self) -> super::wire::Attendance {
        super::wire::Attendance {
            id: self.id.uuid(),
            event_id: self.event_id.uuid(),
            family_id: self.family_id.uuid(),
            attended: self.attended,
            adults: self.adults,
            children: self.children,
            recorded_by: self.recorded_by.clone(),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

impl FeedbackRow {
    /// The wire form.
    pub fn view(&self) -> super::wire::Feedback {
        super::wire::Feedback {
            id: self.id.uuid(),
            event_id: self.event_id.uuid(),
            family_id: self.family_id.uuid(),
            rating: self.rating,
            comment: self.comment.clone(),
            given_by: self.given_by.clone(),
            created_at: utc(self.created_at),
        }
    }
}

impl BookingRow {
    /// The wire form.
    pub fn view(&self) -> super::wire::Booking {
        super::wire::Booking {
            id: self.id.uuid(),
            event_id: self.event_id.uuid(),
            slot_id: self.slot_id.uuid(),
            family_id: self.family_id.uuid(),
            student_id: self.student_id.uuid(),
            booked_by: self.booked_by.clone(),
            created_at: utc(self.created_at),
            released_at: self.released_at.map(utc),
        }
    }
}

impl SlotRow {
    /// The wire form, with the booking the viewer may see.
    pub fn view(&self, booked: bool, booking: Option<&BookingRow>) -> super::wire::Slot {
        super::wire::Slot {
            id: self.id.uuid(),
            event_id: self.event_id.uuid(),
            starts_at: utc(self.starts_at),
            ends_at: utc(self.ends_at),
            host: self.host.clone(),
            free: !booked,
            booking: booking.map(BookingRow::view),
        }
    }
}
