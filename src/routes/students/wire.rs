//! Students on the wire: what clients send and receive.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{identifier, plain_text};

/// The fields of a student a client sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StudentInput {
    /// Given name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "Sofía")]
    pub given_name: String,
    /// Family name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "López García")]
    pub family_name: String,
    /// The SIS's id for the student; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(example = "SIS-S-88120")]
    pub external_id: Option<String>,
    /// Grade level as the school names it (`K`, `3`, `11`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    #[validate(length(min = 1, max = 20), custom(function = identifier))]
    #[schema(example = "3")]
    pub grade_level: Option<String>,
    /// Date of birth: not in the future, not before 1900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_birth_date))]
    pub date_of_birth: Option<NaiveDate>,
    /// Whether the student has an IEP.
    #[serde(default)]
    pub has_iep: bool,
}

fn plausible_birth_date(d: &NaiveDate) -> Result<(), validator::ValidationError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    if *d < earliest || *d > Utc::now().date_naive() {
        let mut e = validator::ValidationError::new("range");
        e.message = Some("must be a date from 1900-01-01 to today".into());
        return Err(e);
    }
    Ok(())
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a student: any fields of `StudentInput`; `null` clears an optional one.
    ///
    /// Its schema is derived from `StudentInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct StudentPatch for StudentInput;
}

/// A student.
#[derive(Debug, Serialize, ToSchema)]
pub struct Student {
    /// Liaison's id.
    pub id: Uuid,
    /// The family the student belongs to.
    pub family_id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// The SIS's id.
    pub external_id: Option<String>,
    /// Grade level.
    pub grade_level: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Whether the student has an IEP.
    pub has_iep: bool,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Filters of the school-wide student list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListStudentsQuery {
    /// Students of this family.
    pub family_id: Option<Uuid>,
    /// Students whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// The student with this SIS id.
    #[param(max_length = 100)]
    #[validate(length(max = 100))]
    pub external_id: Option<String>,
    /// Students in this grade level.
    #[param(max_length = 20)]
    #[validate(length(max = 20))]
    pub grade_level: Option<String>,
    /// Students with (or without) an IEP.
    pub has_iep: Option<bool>,
    /// Students changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of a family's student list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFamilyStudentsQuery {
    /// Students whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// The student with this SIS id.
    #[param(max_length = 100)]
    #[validate(length(max = 100))]
    pub external_id: Option<String>,
    /// Students in this grade level.
    #[param(max_length = 20)]
    #[validate(length(max = 20))]
    pub grade_level: Option<String>,
    /// Students with (or without) an IEP.
    pub has_iep: Option<bool>,
    /// Students changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
