//! Events on the wire: what clients send and receive about events, RSVPs, attendance,
//! feedback, conference slots and bookings, and the enumerations they are made of (stored as
//! the same text).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{plain_text, text_enum, LanguageTag};

text_enum! {
    /// What an event is.
    EventType {
        /// A workshop (navigating the school system, child development, learning at home, …).
        Workshop => "workshop",
        /// A meeting.
        Meeting => "meeting",
        /// A family night.
        FamilyNight => "family_night",
        /// Parent–teacher conferences (booked by slots).
        Conference => "conference",
        /// An open house.
        OpenHouse => "open_house",
        /// A home visit.
        HomeVisit => "home_visit",
        /// A volunteer shift.
        Volunteer => "volunteer",
    }
}

text_enum! {
    /// The whole school, as an audience.
    AudienceScope {
        /// Every family of the school.
        School => "school",
    }
}

text_enum! {
    /// A family's answer.
    RsvpResponse {
        /// Coming.
        Yes => "yes",
        /// Not coming.
        No => "no",
        /// Perhaps.
        Maybe => "maybe",
    }
}

text_enum! {
    /// Where an answer stands.
    RsvpStatus {
        /// A yes that holds one of the event's places.
        Confirmed => "confirmed",
        /// A yes beyond capacity, waiting for a place (promoted in order when one frees).
        Waitlisted => "waitlisted",
        /// A no or a maybe: no place is held.
        Answered => "answered",
    }
}

/// Who an event is for: exactly one of its fields. `{"scope": "school"}`,
/// `{"grade_levels": ["3", "4"]}`, `{"languages": ["es"]}` or `{"family_ids": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// `school`: every family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<AudienceScope>,
    /// The families of a child (whose records the guardian may see) in one of these grades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 20)]
    #[validate(length(min = 1, max = 20))]
    pub grade_levels: Option<Vec<String>>,
    /// Families whose language, or a guardian whose own language, is one of these (a tag
    /// matches its regional forms: `es` reaches `es-MX`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 20)]
    #[validate(length(min = 1, max = 20))]
    pub languages: Option<Vec<LanguageTag>>,
    /// These families, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1, max_items = 1000)]
    #[validate(length(min = 1, max = 1000))]
    pub family_ids: Option<Vec<Uuid>>,
}

/// An event's fields: what `POST /v1/events` takes and a merge patch edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct EventFields {
    /// What it is.
    pub kind: EventType,
    /// A short title.
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Supporting reading at home"
    )]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// What it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub description: Option<String>,
    /// When it starts (an event may be recorded after the fact).
    pub starts_at: DateTime<Utc>,
    /// When it ends (not before `starts_at`).
    pub ends_at: DateTime<Utc>,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 500)]
    #[validate(length(min = 1, max = 500), custom(function = plain_text))]
    pub location: Option<String>,
    /// Where online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$",
        example = "https://meet.example.org/reading"
    )]
    #[validate(length(min = 1, max = 2000), custom(function = super::rules::web_url))]
    pub online_url: Option<String>,
    /// The languages it is offered in (BCP 47).
    #[serde(default)]
    #[schema(max_items = 20)]
    #[validate(length(max = 20))]
    pub languages: Vec<LanguageTag>,
    /// Whether an interpreter can be had.
    #[serde(default)]
    pub interpreter_available: bool,
    /// Whether childcare is offered.
    #[serde(default)]
    pub childcare_available: bool,
    /// How many families can come; none: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000)]
    #[validate(range(min = 1, max = 100000))]
    pub capacity: Option<i32>,
    /// Whether a yes beyond capacity goes on a waitlist (else it is a 409).
    #[serde(default)]
    pub waitlist: bool,
    /// Who it is for.
    #[validate(nested)]
    pub audience: Audience,
    /// After this, a guardian can no longer change their answer (staff still can).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rsvp_deadline: Option<DateTime<Utc>>,
    /// Who organises it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Ms. Rivera, parent liaison"
    )]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub organizer: Option<String>,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of an event.
    ///
    /// Its schema is derived from `EventFields`'s by `patch_schema!`, so the two cannot drift.
    pub struct EventPatch for EventFields;
}

/// An event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Event {
    /// The event's id.
    pub id: Uuid,
    /// What it is.
    pub kind: EventType,
    /// Its title.
    pub title: String,
    /// What it is about.
    pub description: Option<String>,
    /// When it starts.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub ends_at: DateTime<Utc>,
    /// Where.
    pub location: Option<String>,
    /// Where online.
    pub online_url: Option<String>,
    /// The languages it is offered in.
    pub languages: Vec<String>,
    /// Whether an interpreter can be had.
    pub interpreter_available: bool,
    /// Whether childcare is offered.
    pub childcare_available: bool,
    /// How many families can come (`null`: no limit).
    pub capacity: Option<i32>,
    /// Places still free (`null`: no limit).
    pub places_left: Option<i32>,
    /// Whether a yes beyond capacity goes on a waitlist.
    pub waitlist: bool,
    /// Who it is for.
    pub audience: Audience,
    /// After this, a guardian can no longer change their answer.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub rsvp_deadline: Option<DateTime<Utc>>,
    /// Who organises it.
    pub organizer: Option<String>,
    /// When it was cancelled (`DELETE`); the answers are kept.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Its version.
    pub version: i64,
    /// When it was recorded.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Filters of the events.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEventsQuery {
    /// Of this kind.
    pub kind: Option<EventType>,
    /// Starting at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Starting before this time.
    pub to: Option<DateTime<Utc>>,
    /// Whose audience includes this family (staff; a guardian sees only their own family's).
    pub audience_includes: Option<Uuid>,
    /// Offered in this language.
    pub language: Option<LanguageTag>,
    /// `true`: not cancelled, and a place is free (or no limit); `false`: the others.
    pub has_capacity: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A family's answer to an event.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct RsvpInput {
    /// `yes`, `no` or `maybe`.
    pub response: RsvpResponse,
    /// Adults coming (default 1 for a yes, else 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    #[validate(range(min = 0, max = 20))]
    pub adults: Option<i32>,
    /// Children coming.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 20)]
    #[validate(range(min = 0, max = 20))]
    pub children: Option<i32>,
    /// Whether the family needs an interpreter (say which `language`).
    #[serde(default)]
    pub needs_interpreter: bool,
    /// The language to interpret into.
    #[serde(default)]
    pub language: Option<LanguageTag>,
    /// Whether the family needs childcare.
    #[serde(default)]
    pub needs_childcare: bool,
    /// A note for the organiser.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 2000)]
    #[validate(length(min = 1, max = 2000), custom(function = plain_text))]
    pub note: Option<String>,
}

/// A family's answer to an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rsvp {
    /// The answer's id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// `yes`, `no` or `maybe`.
    pub response: RsvpResponse,
    /// `confirmed` (a yes with a place), `waitlisted` or `answered` (a no or maybe).
    pub status: RsvpStatus,
    /// Adults coming.
    pub adults: i32,
    /// Children coming.
    pub children: i32,
    /// Whether an interpreter is needed.
    pub needs_interpreter: bool,
    /// Into which language.
    pub language: Option<String>,
    /// Whether childcare is needed.
    pub needs_childcare: bool,
    /// The family's note.
    pub note: Option<String>,
    /// Who gave the answer (a guardian's id, or the staff `sub` who recorded it).
    pub answered_by: String,
    /// Its version.
    pub version: i64,
    /// When it was first given.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// The totals of an event's answers.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct RsvpTotals {
    /// Families with a confirmed yes.
    pub yes: i64,
    /// Families on the waitlist.
    pub waitlisted: i64,
    /// Families that said no.
    pub no: i64,
    /// Families that said maybe.
    pub maybe: i64,
    /// Adults and children of the confirmed yeses.
    pub head_count: i64,
    /// Interpreters needed by the confirmed yeses, per language (`unspecified` when none was
    /// named).
    pub interpreters: BTreeMap<String, i64>,
    /// Confirmed families that need childcare.
    pub childcare: i64,
}

/// An event's answers: a page of them, and the totals of all (staff only).
#[derive(Debug, Serialize, ToSchema)]
pub struct RsvpPage {
    /// The answers, oldest first.
    pub data: Vec<Rsvp>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The totals of every answer (left out for a guardian, who sees only their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub totals: Option<RsvpTotals>,
}

/// Paging of a list under an event.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventPageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Who of a family came to an event.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    /// Whether the family came.
    pub attended: bool,
    /// Adults who came.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    #[validate(range(min = 0, max = 50))]
    pub adults: Option<i32>,
    /// Children who came.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 50)]
    #[validate(range(min = 0, max = 50))]
    pub children: Option<i32>,
}

/// Who of a family came to an event, as staff recorded it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attendance {
    /// The record's id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// Whether the family came.
    pub attended: bool,
    /// Adults who came.
    pub adults: i32,
    /// Children who came.
    pub children: i32,
    /// Who recorded it (a staff `sub`).
    pub recorded_by: String,
    /// Its version.
    pub version: i64,
    /// When it was first recorded.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A family's feedback on an event.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5)]
    #[validate(range(min = 1, max = 5))]
    pub rating: i32,
    /// In the family's words.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 4000)]
    #[validate(length(min = 1, max = 4000), custom(function = plain_text))]
    pub comment: Option<String>,
}

/// A family's feedback on an event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feedback {
    /// The feedback's id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// 1 to 5.
    pub rating: i32,
    /// The comment.
    pub comment: Option<String>,
    /// The guardian who gave it.
    pub given_by: String,
    /// When.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// A series of consecutive conference slots.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SlotSeriesInput {
    /// The first slot's start.
    pub starts_at: DateTime<Utc>,
    /// The end of the series (a last slot that would not fit whole is not made).
    pub ends_at: DateTime<Utc>,
    /// Each slot's length in minutes, 5 to 480.
    #[schema(minimum = 5, maximum = 480, example = 10)]
    pub slot_minutes: i64,
    /// Who meets the families (a teacher's name or `sub`).
    #[schema(min_length = 1, max_length = 200, example = "Mr. Chen")]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub host: String,
}

/// A conference slot.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Slot {
    /// The slot's id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// When it starts.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub ends_at: DateTime<Utc>,
    /// Who meets the family.
    pub host: String,
    /// Whether it is free.
    pub free: bool,
    /// Its booking (staff: any; a guardian: only their own).
    pub booking: Option<Booking>,
}

/// The slots made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotList {
    /// The slots, by start.
    pub data: Vec<Slot>,
}

/// A booking request.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// The child the conference is about (one slot per child and event).
    pub student_id: Uuid,
}

/// A slot booked for a child.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Booking {
    /// The booking's id.
    pub id: Uuid,
    /// The event.
    pub event_id: Uuid,
    /// The slot.
    pub slot_id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// The child.
    pub student_id: Uuid,
    /// Who booked it (a guardian's id, or a staff `sub`).
    pub booked_by: String,
    /// When.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was released (`DELETE`).
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub released_at: Option<DateTime<Utc>>,
}
