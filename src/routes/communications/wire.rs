//! Communications on the wire: what clients send and receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{plain_text, text_enum, Channel, LanguageTag};

text_enum! {
    /// Which way a contact went.
    Direction {
        /// From the school to the family.
        Outbound => "outbound",
        /// From the family to the school.
        Inbound => "inbound",
    }
}

text_enum! {
    /// What a contact was about.
    Category {
        /// Anything else.
        General => "general",
        /// Learning and grades.
        Academic => "academic",
        /// Conduct.
        Behavior => "behavior",
        /// Attendance.
        Attendance => "attendance",
        /// Good news: praise, progress, thanks.
        PositiveNews => "positive_news",
        /// Meetings, workshops, school events.
        Event => "event",
        /// Forms, fees, logistics.
        Administrative => "administrative",
    }
}

text_enum! {
    /// Who may see a record.
    Visibility {
        /// School staff only.
        Staff => "staff",
        /// Staff and the family's guardians.
        Family => "family",
    }
}

text_enum! {
    /// The state of a communication's follow-up.
    FollowUp {
        /// A follow-up is open and not yet past due.
        Due => "due",
        /// A follow-up is open and past due.
        Overdue => "overdue",
        /// The follow-up is done.
        Done => "done",
    }
}

/// The fields of a communication a client sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CommunicationInput {
    /// The family contacted (fixed once logged). Give `family_id`, or before there is a
    /// family `applicant_id` (both: an applicant enrolled into this family).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<Uuid>,
    /// The applicant whose household was contacted, before there is a family (the inquiry
    /// call, the tour follow-up): fixed once logged. On enrolment the communication moves to
    /// the new family's timeline (`family_id` is set, this stays). Needs `admissions:read` to
    /// name; such a communication names no guardian or student.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_id: Option<Uuid>,
    /// The student it was about, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_id: Option<Uuid>,
    /// The guardian contacted, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_id: Option<Uuid>,
    /// How.
    pub channel: Channel,
    /// Which way.
    pub direction: Direction,
    /// About what (default `general`).
    #[serde(default = "general")]
    pub category: Category,
    /// A subject line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub subject: Option<String>,
    /// What was said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub body: Option<String>,
    /// The language it happened in (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<LanguageTag>,
    /// An interpreter took part.
    #[serde(default)]
    pub interpreter_used: bool,
    /// The message was translated into the family's language.
    #[serde(default)]
    pub translated: bool,
    /// When it happened (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// When someone must follow up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// When the follow-up was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Who may see it (default: `family` for outbound, `staff` for inbound notes; a guardian's
    /// own message is always `family`, and `staff` from a guardian is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

fn general() -> Category {
    Category::General
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a communication: any fields of `CommunicationInput` but `family_id`
    /// and `applicant_id`.
    ///
    /// Its schema is derived from `CommunicationInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct CommunicationPatch for CommunicationInput, fixed ["family_id", "applicant_id"];
}

/// A logged communication.
#[derive(Debug, Serialize, ToSchema)]
pub struct Communication {
    /// Liaison's id.
    pub id: Uuid,
    /// The family (`null` for an applicant's household not yet enrolled).
    pub family_id: Option<Uuid>,
    /// The applicant, for a communication logged before there was a family.
    pub applicant_id: Option<Uuid>,
    /// The student it was about.
    pub student_id: Option<Uuid>,
    /// The guardian contacted.
    pub guardian_id: Option<Uuid>,
    /// How.
    pub channel: Channel,
    /// Which way.
    pub direction: Direction,
    /// About what.
    pub category: Category,
    /// Subject line.
    pub subject: Option<String>,
    /// What was said.
    pub body: Option<String>,
    /// Language (BCP 47).
    pub language: Option<String>,
    /// An interpreter took part.
    pub interpreter_used: bool,
    /// Translated into the family's language.
    pub translated: bool,
    /// When it happened.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// When a follow-up is due.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// When the follow-up was done.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Who logged it (the token's `sub`).
    pub author: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// When a guardian acknowledged it.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it: the guardian's id, or the staff member who recorded it.
    pub acknowledged_by: Option<String>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was logged.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// Remarks on a write that was accepted but deserves a look (`language_mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub warnings: Option<Vec<String>>,
}

/// Filters of the communication list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommunicationsQuery {
    /// Communications with this family.
    pub family_id: Option<Uuid>,
    /// Communications logged with this applicant's household (before or since enrolment).
    pub applicant_id: Option<Uuid>,
    /// About this student.
    pub student_id: Option<Uuid>,
    /// With this guardian.
    pub guardian_id: Option<Uuid>,
    /// By this channel.
    pub channel: Option<Channel>,
    /// In this direction.
    pub direction: Option<Direction>,
    /// In this category.
    pub category: Option<Category>,
    /// That happened at or after this time (RFC 3339).
    pub occurred_from: Option<DateTime<Utc>>,
    /// That happened before this time (RFC 3339).
    pub occurred_to: Option<DateTime<Utc>>,
    /// Whose follow-up is `due` (open, not yet past due), `overdue` (open, past due) or `done`.
    #[param(inline)]
    pub follow_up: Option<FollowUp>,
    /// Logged by this author (a token `sub`; `me` for the caller).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub author: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The body of an acknowledgement: it has no fields (send no body, `{}`, or `null`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeInput {}
