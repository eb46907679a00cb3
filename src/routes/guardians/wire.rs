//! Guardians on the wire: what clients send and receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{identifier, plain_text, Channel, E164Phone, Email, LanguageTag, Relationship};

fn yes() -> bool {
    true
}

/// The fields of a guardian a client sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct GuardianInput {
    /// Given name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "María")]
    pub given_name: String,
    /// Family name.
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "López")]
    pub family_name: String,
    /// The SIS's id for the adult; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(example = "SIS-G-20311")]
    pub external_id: Option<String>,
    /// How this adult stands in the household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Phone number (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<E164Phone>,
    /// Preferred language (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<LanguageTag>,
    /// Preferred channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_channel: Option<Channel>,
    /// The household's first contact.
    #[serde(default)]
    pub is_primary: bool,
    /// Consent to text messages; false until given.
    #[serde(default)]
    pub sms_opt_in: bool,
    /// False under a court order: nothing may be sent to or shown to this adult.
    #[serde(default = "yes")]
    pub contact_allowed: bool,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a guardian: any fields of `GuardianInput`; `null` clears an optional one.
    ///
    /// Its schema is derived from `GuardianInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct GuardianPatch for GuardianInput;
}

/// A guardian.
#[derive(Debug, Serialize, ToSchema)]
pub struct Guardian {
    /// Liaison's id.
    pub id: Uuid,
    /// The family.
    pub family_id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// The SIS's id.
    pub external_id: Option<String>,
    /// Relation in the household.
    pub relationship: Option<Relationship>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// Preferred language.
    pub preferred_language: Option<String>,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// The household's first contact.
    pub is_primary: bool,
    /// Consent to text messages.
    pub sms_opt_in: bool,
    /// Whether the school may contact this adult.
    pub contact_allowed: bool,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Filters of the school-wide guardian list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListGuardiansQuery {
    /// Guardians of this family.
    pub family_id: Option<Uuid>,
    /// Guardians whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// Guardians preferring this language (BCP 47).
    #[param(value_type = Option<LanguageTag>)]
    pub preferred_language: Option<LanguageTag>,
    /// Guardians changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of a family's guardian list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFamilyGuardiansQuery {
    /// Guardians whose given or family name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// Guardians preferring this language (BCP 47).
    #[param(value_type = Option<LanguageTag>)]
    pub preferred_language: Option<LanguageTag>,
    /// Guardians changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
