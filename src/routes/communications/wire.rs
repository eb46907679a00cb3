//! Communications on the wire: what clients send and receive.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{plain_text, text_enum, Channel, LanguageTag};
use crate::error::{ApiError, FieldError};
use crate::http::extract::{JsonBody, BODY_LIMIT};

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
    /// The family contacted (fixed once logged).
    pub family_id: Uuid,
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
    pub occurred_at: Option<DateTime<Utc>>,
    /// When someone must follow up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// When the follow-up was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Who may see it (default: `family` for outbound, `staff` for inbound notes; a guardian's
    /// own message is always `family`, and `staff` from a guardian is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

fn general() -> Category {
    Category::General
}

/// A merge patch of a communication: any fields of `CommunicationInput` but `family_id`.
///
/// Its schema is derived from the input's by `openapi::finish`, so the two cannot drift.
#[derive(ToSchema)]
pub struct CommunicationPatch {}

/// A logged communication.
#[derive(Debug, Serialize, ToSchema)]
pub struct Communication {
    /// Liaison's id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
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
    pub occurred_at: DateTime<Utc>,
    /// When a follow-up is due.
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// When the follow-up was done.
    pub follow_up_done_at: Option<DateTime<Utc>>,
    /// Who logged it (the token's `sub`).
    pub author: String,
    /// Who may see it.
    pub visibility: Visibility,
    /// When a guardian acknowledged it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who acknowledged it: the guardian's id, or the staff member who recorded it.
    pub acknowledged_by: Option<String>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was logged.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Remarks on a write that was accepted but deserves a look (`language_mismatch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub warnings: Option<Vec<String>>,
}

/// Filters of the communication list.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCommunicationsQuery {
    /// Communications with this family.
    pub family_id: Option<Uuid>,
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

/// The body of an acknowledgement: it has no fields (send no body, or `{}`).
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeInput {}

/// An acknowledgement's body as JSON: an object (whose names are all refused), or `null` (which
/// the spec's optional body allows). Read as a map rather than as `AcknowledgeInput`, which
/// serde would also take from `[]`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct AnyFields(Option<serde_json::Map<String, serde_json::Value>>);

impl Validate for AnyFields {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        // Every name is refused below, with the field it names.
        Ok(())
    }
}

/// Extracts an acknowledgement's body: none at all (or only white space), or `{}` (or `null`)
/// as `application/json`. Any field is refused with a 400 naming it, so a client's misplaced field
/// is never silently ignored. Transitional: `http::extract` is getting a generic extractor for
/// bodies without fields, which replaces this one.
#[derive(Debug)]
pub struct NoBody;

impl FromRequest for NoBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let mut bytes = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::bad_request("the request body could not be read"))?;
                if bytes.len() + chunk.len() > BODY_LIMIT {
                    return Err(ApiError::PayloadTooLarge(BODY_LIMIT));
                }
                bytes.extend_from_slice(&chunk);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(NoBody);
            }
            // The strict JSON extractor judges what was sent: media type, syntax, fields.
            let mut replay = Payload::from(bytes.freeze());
            let fields = JsonBody::<AnyFields>::from_request(&req, &mut replay).await?;
            let unknown: Vec<FieldError> = fields
                .value
                .0
                .into_iter()
                .flat_map(|map| map.into_iter())
                .map(|(name, _)| {
                    FieldError::new(name, "unknown_field", "this action takes no fields")
                })
                .collect();
            if unknown.is_empty() {
                Ok(NoBody)
            } else {
                Err(ApiError::invalid(unknown))
            }
        })
    }
}
