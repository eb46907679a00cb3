//! IEP collaboration notes on the wire: what clients send and receive, and the enumerations a
//! note is made of (stored as the same text).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{plain_text, text_enum};

text_enum! {
    /// What an IEP note is.
    NoteKind {
        /// Notes of an IEP meeting.
        MeetingNote => "meeting_note",
        /// Progress toward the IEP's goals.
        ProgressUpdate => "progress_update",
        /// What the family has to say (the only kind a guardian writes).
        ParentInput => "parent_input",
        /// A request for an accommodation.
        AccommodationRequest => "accommodation_request",
        /// A plan of what is to be done, by whom, by when.
        ActionPlan => "action_plan",
    }
}

text_enum! {
    /// Who may see an IEP note.
    NoteVisibility {
        /// Staff only: no guardian ever sees it.
        Staff => "staff",
        /// Staff and the family (guardians whose current link to the child has
        /// `can_view_records`).
        Family => "family",
    }
}

/// The `owner` of an action item that the family owes.
pub const FAMILY_OWNER: &str = "family";

/// An action item as a note's writer sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ActionItemInput {
    /// The item's id: given to keep (and change) an existing item in a merge patch; left out
    /// for a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// What is to be done.
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "Share the reading log weekly"
    )]
    #[validate(length(min = 1, max = 2000), custom(function = plain_text))]
    pub description: String,
    /// Who owes it: `family`, or a member of staff (their token `sub`).
    #[schema(min_length = 1, max_length = 200, example = "family")]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub owner: String,
    /// When it is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
    /// When it was done; `null` (or left out) while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<DateTime<Utc>>,
}

/// An action item of a note.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionItem {
    /// The item's id.
    pub id: Uuid,
    /// The note it belongs to.
    pub note_id: Uuid,
    /// The student.
    pub student_id: Uuid,
    /// What is to be done.
    pub description: String,
    /// Who owes it: `family`, or a member of staff (a token `sub`).
    pub owner: String,
    /// When it is due.
    pub due_on: Option<NaiveDate>,
    /// When it was done.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub done_at: Option<DateTime<Utc>>,
    /// Who marked it done (a guardian's id, or a staff `sub`).
    pub done_by: Option<String>,
}

/// A new IEP note.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct IepNoteInput {
    /// What it is. A guardian writes only `parent_input`.
    pub kind: NoteKind,
    /// A short title.
    #[schema(min_length = 1, max_length = 200, example = "Annual review")]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// The note.
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub body: String,
    /// The day of the meeting it is about, if any.
    #[serde(default)]
    pub meeting_date: Option<NaiveDate>,
    /// `staff` (the default for staff) or `family`. A guardian's note is always the family's;
    /// a guardian who sends `staff` is refused with a 400.
    #[serde(default)]
    pub visibility: Option<NoteVisibility>,
    /// What is to be done, by whom, by when (staff only).
    #[serde(default)]
    #[validate(nested)]
    pub action_items: Vec<ActionItemInput>,
}

/// The fields a merge patch edits. Staff edit them all; a guardian edits the title, body and
/// meeting date of their own `parent_input` notes, and marks done (or open again) the action
/// items owed by the family (`done_at` of an item whose `owner` is `family`), nothing else.
/// `action_items` is replaced as a whole, as JSON Merge Patch does with arrays: send every item
/// to keep, each with its `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct IepNoteFields {
    /// What it is.
    pub kind: NoteKind,
    /// A short title.
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub title: String,
    /// The note.
    #[schema(min_length = 1, max_length = 20000)]
    #[validate(length(min = 1, max = 20000), custom(function = plain_text))]
    pub body: String,
    /// The day of the meeting it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_date: Option<NaiveDate>,
    /// `staff` or `family`. It has no empty state, so `null` is refused.
    pub visibility: NoteVisibility,
    /// The action items, in order.
    #[validate(nested)]
    pub action_items: Vec<ActionItemInput>,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of an IEP note.
    ///
    /// Its schema is derived from `IepNoteFields`'s by `patch_schema!`, so the two cannot drift.
    pub struct IepNotePatch for IepNoteFields;
}

/// An IEP collaboration note.
#[derive(Debug, Serialize, ToSchema)]
pub struct IepNote {
    /// Liaison's id.
    pub id: Uuid,
    /// The student.
    pub student_id: Uuid,
    /// The student's family (when the note was written).
    pub family_id: Uuid,
    /// What it is.
    pub kind: NoteKind,
    /// A short title.
    pub title: String,
    /// The note.
    pub body: String,
    /// The day of the meeting it is about.
    pub meeting_date: Option<NaiveDate>,
    /// `staff` (no guardian sees it) or `family`.
    pub visibility: NoteVisibility,
    /// Who wrote it (a token `sub`).
    pub author: String,
    /// Their role.
    pub author_role: String,
    /// What is to be done, by whom, by when, in order.
    pub action_items: Vec<ActionItem>,
    /// When the family said they had read it.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The guardian who acknowledged it (their id).
    pub acknowledged_by: Option<String>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was written.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// What is left of a note whose content was destroyed.
#[derive(Debug, Serialize, ToSchema)]
pub struct IepNoteTombstone {
    /// The note's id (it answers 410 from now on).
    pub id: Uuid,
    /// What it was.
    pub kind: NoteKind,
    /// The day of the meeting it was about.
    pub meeting_date: Option<NaiveDate>,
    /// When it was written.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When its content was destroyed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub destroyed_at: DateTime<Utc>,
    /// Who destroyed it (a token `sub`).
    pub destroyed_by: String,
    /// Why.
    pub destroyed_reason: String,
}

/// A request to destroy a student's IEP notes.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct DestroyInput {
    /// Why (kept with each tombstone and in the audit trail's request).
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "Parent's request under 34 CFR 300.624"
    )]
    #[validate(length(min = 1, max = 2000), custom(function = plain_text))]
    pub reason: String,
}

/// What a destruction did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Destruction {
    /// How many notes had their content destroyed by this request (0 when all already were).
    pub destroyed: usize,
    /// The tombstone of every note of the student whose content is destroyed, this request's
    /// and earlier ones', newest first.
    pub tombstones: Vec<IepNoteTombstone>,
}

/// Filters of a student's notes.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListIepNotesQuery {
    /// Of this kind.
    pub kind: Option<NoteKind>,
    /// Of this visibility (`staff`: a guardian has none).
    pub visibility: Option<NoteVisibility>,
    /// `true`: notes with at least one open action item; `false`: notes with none.
    pub open_action_items: Option<bool>,
    /// About a meeting on or after this day.
    pub meeting_from: Option<NaiveDate>,
    /// About a meeting on or before this day.
    pub meeting_to: Option<NaiveDate>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of the action items across students.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListActionItemsQuery {
    /// Owed by this owner: `family`, a staff `sub`, or `me` (staff: the caller; a guardian:
    /// the family).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub owner: Option<String>,
    /// `true` (the default): items not yet done; `false`: items done.
    pub open: Option<bool>,
    /// Due before this day.
    pub due_before: Option<NaiveDate>,
    /// Of this student.
    pub student_id: Option<Uuid>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
