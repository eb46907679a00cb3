//! Links on the wire: what clients send and receive.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{whole_i32_opt, Relationship};
use crate::error::ApiError;

fn yes() -> bool {
    true
}

/// The fields of a link a client sets. `guardian_id` is fixed once linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// The adult (any guardian of the school, in this family or another).
    pub guardian_id: Uuid,
    /// How the adult stands to the child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// Holds legal guardianship.
    #[serde(default)]
    pub legal_guardian: bool,
    /// The child lives with this adult.
    #[serde(default)]
    pub lives_with: bool,
    /// To be called in an emergency.
    #[serde(default)]
    pub emergency_contact: bool,
    /// Order in which to contact (1 first).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_i32_opt"
    )]
    #[schema(minimum = 1, maximum = 99)]
    #[validate(range(min = 1, max = 99))]
    pub contact_priority: Option<i32>,
    /// False: this adult sees nothing of this child.
    #[serde(default = "yes")]
    pub can_view_records: bool,
    /// A court order: nothing is sent to this adult about this child.
    #[serde(default)]
    pub contact_restricted: bool,
    /// First day the link holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_date))]
    pub starts_on: Option<NaiveDate>,
    /// Last day the link holds (not before `starts_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_date))]
    pub ends_on: Option<NaiveDate>,
}

fn plausible_date(d: &NaiveDate) -> Result<(), validator::ValidationError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    let latest = NaiveDate::from_ymd_opt(2199, 12, 31).unwrap_or_default();
    if *d < earliest || *d > latest {
        let mut e = validator::ValidationError::new("range");
        e.message = Some("must be a date from 1900-01-01 to 2199-12-31".into());
        return Err(e);
    }
    Ok(())
}

impl LinkInput {
    /// 400 when the link would end before it starts.
    pub fn check_dates(&self) -> Result<(), ApiError> {
        match (self.starts_on, self.ends_on) {
            (Some(s), Some(e)) if e < s => Err(ApiError::field(
                "ends_on",
                "range",
                "must not be before starts_on",
            )),
            _ => Ok(()),
        }
    }
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a link: any fields of `LinkInput` but `guardian_id`.
    ///
    /// Its schema is derived from `LinkInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct LinkPatch for LinkInput, fixed ["guardian_id"];
}

/// A guardian–student link.
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    /// Liaison's id of the link.
    pub id: Uuid,
    /// The child.
    pub student_id: Uuid,
    /// The adult.
    pub guardian_id: Uuid,
    /// How the adult stands to the child.
    pub relationship: Option<Relationship>,
    /// Holds legal guardianship.
    pub legal_guardian: bool,
    /// The child lives with this adult.
    pub lives_with: bool,
    /// To be called in an emergency.
    pub emergency_contact: bool,
    /// Order in which to contact.
    pub contact_priority: Option<i32>,
    /// Whether the adult may see the child's records.
    pub can_view_records: bool,
    /// Whether contact about the child is barred.
    pub contact_restricted: bool,
    /// First day the link holds.
    pub starts_on: Option<NaiveDate>,
    /// Last day the link holds.
    pub ends_on: Option<NaiveDate>,
    /// Whether the link holds today.
    pub current: bool,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Paging of a student's links.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListLinksQuery {
    /// Only links that hold today (`true`) or do not (`false`).
    pub current: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
