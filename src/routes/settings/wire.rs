//! Settings on the wire: what clients send and receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::domain::whole_i32;

/// Hours within which a concern of each priority must get a first response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ResponseHours {
    /// For `urgent` concerns (default 4).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub urgent: i32,
    /// For `high` concerns (default 24).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub high: i32,
    /// For `normal` concerns (default 72).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub normal: i32,
    /// For `low` concerns (default 168, seven days).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub low: i32,
}

impl Default for ResponseHours {
    fn default() -> Self {
        ResponseHours {
            urgent: 4,
            high: 24,
            normal: 72,
            low: 168,
        }
    }
}

/// The editable settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Response targets of concerns, in hours, by priority.
    #[validate(nested)]
    pub concern_response_hours: ResponseHours,
}

/// A merge patch of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SettingsPatch {
    /// Any of `urgent`, `high`, `normal`, `low`, in hours (1 to 2160).
    #[serde(default)]
    concern_response_hours: ResponseHoursPatch,
}

/// A merge patch of the response targets: the ones given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ResponseHoursPatch {
    /// Hours for `urgent`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    urgent: i32,
    /// Hours for `high`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    high: i32,
    /// Hours for `normal`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    normal: i32,
    /// Hours for `low`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    low: i32,
}

/// The school's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    /// Response targets of concerns, in hours, by priority.
    pub concern_response_hours: ResponseHours,
    /// Increases with every change (0: never changed, the defaults); the `ETag`.
    pub version: i64,
    /// When they last changed (`null`: never).
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub updated_at: Option<DateTime<Utc>>,
}
