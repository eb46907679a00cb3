//! Families on the wire: what clients send and receive.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{identifier, plain_text, Channel, LanguageTag};

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street and number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    #[schema(example = "12 Elm Street")]
    pub line1: Option<String>,
    /// Apartment, suite, building.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub line2: Option<String>,
    /// City or town.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    #[schema(example = "Springfield")]
    pub city: Option<String>,
    /// State, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    #[validate(length(min = 1, max = 20), custom(function = plain_text))]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = country_code))]
    #[schema(example = "US", pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

impl Address {
    /// Whether no field is set (such an address is no address).
    pub fn is_empty(&self) -> bool {
        *self == Address::default()
    }
}

fn no_empty_address<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Address>, D::Error> {
    Ok(Option::<Address>::deserialize(d)?.filter(|a| !a.is_empty()))
}

fn country_code(s: &str) -> Result<(), validator::ValidationError> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        let mut e = validator::ValidationError::new("invalid");
        e.message = Some("must be an ISO 3166-1 alpha-2 code such as US".into());
        Err(e)
    }
}

/// The fields of a family a client sets: the body of a create, and what a merge patch edits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct FamilyInput {
    /// How the family is addressed (`The López-García family`).
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    #[schema(example = "The López-García family")]
    pub display_name: String,
    /// The SIS's id for the household; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(example = "SIS-F-10442")]
    pub external_id: Option<String>,
    /// The language the household prefers (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_language: Option<LanguageTag>,
    /// How the household prefers to be contacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_channel: Option<Channel>,
    /// Whether the household agreed to text messages.
    #[serde(default)]
    pub sms_opt_in: bool,
    /// Whether the household opted out of directory information (FERPA).
    #[serde(default)]
    pub directory_opt_out: bool,
    /// Postal address (one with no fields is no address).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "no_empty_address"
    )]
    #[validate(nested)]
    pub address: Option<Address>,
    /// Staff notes; never shown to guardians.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 10000)]
    #[validate(length(min = 1, max = 10000), custom(function = plain_text))]
    pub notes: Option<String>,
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a family: any fields of `FamilyInput`; `null` clears an optional one.
    ///
    /// Its schema is derived from `FamilyInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct FamilyPatch for FamilyInput;
}

/// A family.
#[derive(Debug, Serialize, ToSchema)]
pub struct Family {
    /// Liaison's id.
    pub id: Uuid,
    /// The SIS's id.
    pub external_id: Option<String>,
    /// How the family is addressed.
    pub display_name: String,
    /// Preferred language (BCP 47).
    pub primary_language: Option<String>,
    /// Preferred channel.
    pub preferred_channel: Option<Channel>,
    /// Consent to text messages.
    pub sms_opt_in: bool,
    /// Opted out of directory information.
    pub directory_opt_out: bool,
    /// Postal address.
    pub address: Option<Address>,
    /// Staff notes (`null` for guardians).
    pub notes: Option<String>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Filters of the family list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFamiliesQuery {
    /// Families whose display name contains this text (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// The family with this SIS id.
    #[param(max_length = 100)]
    #[validate(length(max = 100))]
    pub external_id: Option<String>,
    /// Families preferring this language (BCP 47).
    #[param(value_type = Option<LanguageTag>)]
    pub primary_language: Option<LanguageTag>,
    /// Families changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
