//! Concerns on the wire: what clients send and receive, and the enumerations a concern and its
//! history are made of (stored as the same text).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{plain_text, text_enum, whole_i32_opt};

text_enum! {
    /// What a concern is about.
    ConcernCategory {
        /// Learning and grades.
        Academic => "academic",
        /// Conduct.
        Behavior => "behavior",
        /// Bullying.
        Bullying => "bullying",
        /// Physical or emotional safety.
        Safety => "safety",
        /// Attendance.
        Attendance => "attendance",
        /// Health.
        Health => "health",
        /// Transport.
        Transport => "transport",
        /// Fees and payments.
        Fees => "fees",
        /// How the school communicates.
        Communication => "communication",
        /// Anything else.
        Other => "other",
    }
}

text_enum! {
    /// How quickly a concern needs a response.
    Priority {
        /// Within the `low` target (default 7 days).
        Low => "low",
        /// Within the `normal` target (default 72 hours).
        Normal => "normal",
        /// Within the `high` target (default 24 hours).
        High => "high",
        /// Within the `urgent` target (default 4 hours).
        Urgent => "urgent",
    }
}

text_enum! {
    /// Where a concern stands.
    Status {
        /// Raised, not yet seen.
        Open => "open",
        /// Seen by the school.
        Acknowledged => "acknowledged",
        /// Being worked on.
        InProgress => "in_progress",
        /// Answered, with a `resolution`.
        Resolved => "resolved",
        /// Finished.
        Closed => "closed",
    }
}

text_enum! {
    /// Who raised a concern.
    RaisedBy {
        /// A guardian of the family.
        Family => "family",
        /// A member of staff.
        Staff => "staff",
    }
}

text_enum! {
    /// Who may see a concern.
    ConcernVisibility {
        /// Staff and the family (the default).
        Family => "family",
        /// Staff only (e.g. a safeguarding matter): no guardian ever sees the concern, its
        /// history, its comments or its place in the family's timeline.
        Staff => "staff",
    }
}

text_enum! {
    /// Who may see a comment, an entry of a concern's history, or a transition's note.
    EventVisibility {
        /// Staff only.
        Internal => "internal",
        /// Staff and the family.
        Family => "family",
    }
}

text_enum! {
    /// What happened to a concern.
    EventKind {
        /// It was raised.
        Created => "created",
        /// Its status moved.
        Transition => "transition",
        /// Its assignee changed.
        Assignment => "assignment",
        /// Its priority changed (and with it `due_at`).
        PriorityChange => "priority_change",
        /// Its title, description, category or student changed.
        Edit => "edit",
        /// Its visibility changed (between `family` and `staff`).
        VisibilityChange => "visibility_change",
        /// A comment was added.
        Comment => "comment",
        /// The family rated the outcome.
        Satisfaction => "satisfaction",
    }
}

/// A new concern.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ConcernInput {
    /// The family it concerns.
    pub family_id: Uuid,
    /// The student it is about, if one.
    #[serde(default)]
    pub student_id: Option<Uuid>,
    /// What it is about.
    pub category: ConcernCategory,
    /// How quickly it needs a response (default `normal`).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// A short title.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// The concern in the raiser's words.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub description: Option<String>,
    /// The member of staff who owns it (their token `sub`); staff only.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub assignee: Option<String>,
    /// `family` (the default) or `staff`: a concern kept among staff, which no guardian ever
    /// sees. Staff only: a guardian's concern is always the family's, and a guardian who sends
    /// this field (either value) is refused with a 400 naming it.
    #[serde(default)]
    pub visibility: Option<ConcernVisibility>,
}

/// The fields a merge patch edits. Staff edit all but `satisfaction`; a guardian only rates
/// `satisfaction`, once, after the concern is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ConcernFields {
    /// The student it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_id: Option<Uuid>,
    /// What it is about.
    pub category: ConcernCategory,
    /// Priority; changing it recomputes `due_at` from the creation time.
    pub priority: Priority,
    /// A short title.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub description: Option<String>,
    /// The owner (a staff `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub assignee: Option<String>,
    /// `family` or `staff` (kept among staff: no guardian sees it). It has no empty state, so
    /// `null` is refused rather than read as the default.
    pub visibility: ConcernVisibility,
    /// The family's rating of the outcome, 1 to 5.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_i32_opt"
    )]
    #[schema(minimum = 1, maximum = 5)]
    #[validate(range(min = 1, max = 5))]
    pub satisfaction: Option<i32>,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a concern.
    ///
    /// Its schema is derived from `ConcernFields`'s by `patch_schema!`, so the two cannot drift.
    pub struct ConcernPatch for ConcernFields;
}

/// A concern.
#[derive(Debug, Serialize, ToSchema)]
pub struct Concern {
    /// Liaison's id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// The student it is about.
    pub student_id: Option<Uuid>,
    /// What it is about.
    pub category: ConcernCategory,
    /// How quickly it needs a response.
    pub priority: Priority,
    /// A short title.
    pub title: String,
    /// The description.
    pub description: Option<String>,
    /// Who raised it (a token `sub`).
    pub raised_by: String,
    /// Whether the family or staff raised it.
    pub raised_by_kind: RaisedBy,
    /// The member of staff who owns it.
    pub assignee: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// `family`, or `staff`: kept among staff (guardians never see it).
    pub visibility: ConcernVisibility,
    /// When a first response is due (creation plus the priority's response target).
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub due_at: DateTime<Utc>,
    /// Past `due_at` with neither a first response nor a resolution.
    pub overdue: bool,
    /// The school's first response: its first transition or family-visible comment.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub first_response_at: Option<DateTime<Utc>>,
    /// When it was last resolved.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was closed.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub closed_at: Option<DateTime<Utc>>,
    /// The answer given.
    pub resolution: Option<String>,
    /// The family's rating, 1 to 5.
    pub satisfaction: Option<i32>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was raised.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A status move.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct TransitionInput {
    /// The status to move to.
    pub to: Status,
    /// Why; required to close a concern that was never resolved.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 5000)]
    #[validate(length(min = 1, max = 5000), custom(function = plain_text))]
    pub note: Option<String>,
    /// Who may read the `note`: `internal` (staff only, the default) or `family`. The move
    /// itself is in the family's view of the concern either way. Without a `note` it governs
    /// nothing and is not kept.
    #[serde(default)]
    pub visibility: Option<EventVisibility>,
    /// The answer given; required to resolve unless the concern already has one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub resolution: Option<String>,
}

/// An event in a concern's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernEvent {
    /// Liaison's id.
    pub id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// Who did it (a token `sub`).
    pub actor: String,
    /// Their role.
    pub actor_role: String,
    /// The value before (a status, priority, assignee or visibility).
    pub from: Option<String>,
    /// The value after.
    pub to: Option<String>,
    /// A transition's note, or a comment's text. A guardian gets `null` for a transition whose
    /// note is `internal`.
    pub body: Option<String>,
    /// Who may see the event.
    pub visibility: EventVisibility,
    /// For a transition with a note: who may read the note (`internal`: staff only; the family
    /// sees the move without it). `null` otherwise, and for a guardian when the note is not
    /// theirs to read.
    pub note_visibility: Option<EventVisibility>,
    /// When.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub at: DateTime<Utc>,
}

/// A comment on a concern.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConcernComment {
    /// Liaison's id.
    pub id: Uuid,
    /// The concern.
    pub concern_id: Uuid,
    /// Who wrote it (a token `sub`).
    pub author: String,
    /// Their role.
    pub author_role: String,
    /// The text.
    pub body: String,
    /// Who may see it.
    pub visibility: EventVisibility,
    /// When.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
}

/// A new comment.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    /// The text.
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub body: String,
    /// `internal` (staff only; the default for staff) or `family` (the family sees it; always
    /// so for guardians).
    #[serde(default)]
    pub visibility: Option<EventVisibility>,
}

/// Filters of the concern list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListConcernsQuery {
    /// Concerns in any of these statuses, comma-separated (`open,acknowledged`).
    #[param(
        max_length = 200,
        pattern = "^(open|acknowledged|in_progress|resolved|closed)(,(open|acknowledged|in_progress|resolved|closed))*$"
    )]
    #[validate(length(max = 200))]
    pub status: Option<String>,
    /// Of this priority.
    pub priority: Option<Priority>,
    /// In this category.
    pub category: Option<ConcernCategory>,
    /// Owned by this member of staff (`me` for the caller).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub assignee: Option<String>,
    /// Of this family.
    pub family_id: Option<Uuid>,
    /// About this student.
    pub student_id: Option<Uuid>,
    /// Of this visibility (`staff`: the concerns kept among staff; a guardian has none).
    pub visibility: Option<ConcernVisibility>,
    /// `true`: past due with neither a first response nor a resolution; `false`: the others.
    pub overdue: Option<bool>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Paging of a concern's comments or events.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
