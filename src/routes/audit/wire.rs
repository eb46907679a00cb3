//! The audit log on the wire: events, a student's access log, and their filters.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::{Action, ResourceType};

/// One recorded write of one record: who did what to it, when, from which request and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// The event's id.
    pub id: Uuid,
    /// When the write happened.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// Who wrote (the token's `sub`).
    #[schema(example = "pre-maria")]
    pub actor: String,
    /// The writer's role (`admin`, `pre`, `teacher`, `counselor`, `admissions`, `guardian`,
    /// `integration`).
    #[schema(example = "pre")]
    pub actor_role: String,
    /// What the write did.
    pub action: Action,
    /// The kind of record written, named as its collection.
    pub resource_type: ResourceType,
    /// The record's id.
    pub resource_id: String,
    /// The family the record concerns, if one.
    pub family_id: Option<Uuid>,
    /// The student the record concerns, if one.
    pub student_id: Option<Uuid>,
    /// The `X-Request-Id` of the request that wrote.
    pub request_id: Option<String>,
    /// Why, as the caller stated it in `X-Purpose`.
    #[schema(example = "annual contact update")]
    pub purpose: Option<String>,
}

/// One line of a student's access log: who touched which kind of the child's records, when and
/// why. Never the content, nor which record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogEntry {
    /// The audit event's id.
    pub id: Uuid,
    /// When.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// Who (the token's `sub`).
    #[schema(example = "teacher-jones")]
    pub actor: String,
    /// Their role.
    #[schema(example = "teacher")]
    pub actor_role: String,
    /// What they did.
    pub action: Action,
    /// The kind of record.
    pub resource_type: ResourceType,
    /// Why, as they stated it in `X-Purpose`.
    pub purpose: Option<String>,
}

/// Filters of the audit log.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAuditEventsQuery {
    /// Writes by this caller (a token `sub`).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub actor: Option<String>,
    /// Writes that did this.
    pub action: Option<Action>,
    /// Writes of this kind of record.
    pub resource_type: Option<ResourceType>,
    /// Writes of this record.
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub resource_id: Option<String>,
    /// Writes of records about this family.
    pub family_id: Option<Uuid>,
    /// Writes of records about this student.
    pub student_id: Option<Uuid>,
    /// Writes at or after this time (RFC 3339).
    #[validate(custom(function = supported_time))]
    pub from: Option<DateTime<Utc>>,
    /// Writes before this time (RFC 3339).
    #[validate(custom(function = supported_time))]
    pub to: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of a student's access log.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessLogQuery {
    /// Accesses at or after this time (RFC 3339).
    #[validate(custom(function = supported_time))]
    pub from: Option<DateTime<Utc>>,
    /// Accesses before this time (RFC 3339).
    #[validate(custom(function = supported_time))]
    pub to: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Times outside 1900–2199 are refused (DESIGN.md): no record is that old or that far ahead,
/// and such years break clients that read four-digit years.
fn supported_time(t: &DateTime<Utc>) -> Result<(), validator::ValidationError> {
    if (1900..=2199).contains(&t.year()) {
        Ok(())
    } else {
        let mut e = validator::ValidationError::new("range");
        e.message = Some("must be a time from 1900 to 2199".into());
        Err(e)
    }
}
