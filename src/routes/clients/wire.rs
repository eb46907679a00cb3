//! Service accounts and the token endpoint on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Role, Scope};
use crate::domain::{plain_text, text_enum};

/// A scope's name as tokens spell it: the document lists every one, so a client knows the
/// names before it asks (which of them a role may have is DESIGN.md's table, checked on create).
pub struct ScopeName;

impl utoipa::PartialSchema for ScopeName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Scope::ALL.iter().map(|s| s.as_str())))
            .description(Some("A scope, as tokens name it"))
            .into()
    }
}

impl ToSchema for ScopeName {}

text_enum! {
    /// The role a service account acts in. A guardian is a person, never a machine, so it is
    /// not one of them.
    ClientRole {
        /// Every scope (a school's own automation).
        Admin => "admin",
        /// A parent liaison's scopes.
        Pre => "pre",
        /// A teacher's scopes.
        Teacher => "teacher",
        /// A counselor's scopes.
        Counselor => "counselor",
        /// Admissions staff's scopes.
        Admissions => "admissions",
        /// A system such as the school's SIS (the usual choice).
        Integration => "integration",
    }
}

impl ClientRole {
    /// The role tokens name.
    pub fn role(self) -> Role {
        match self {
            ClientRole::Admin => Role::Admin,
            ClientRole::Pre => Role::Pre,
            ClientRole::Teacher => Role::Teacher,
            ClientRole::Counselor => Role::Counselor,
            ClientRole::Admissions => Role::Admissions,
            ClientRole::Integration => Role::Integration,
        }
    }
}

/// A new service account.
#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    /// What the account is for, for the people who read the list and the audit log.
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "District SIS nightly sync"
    )]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub name: String,
    /// The role its tokens carry.
    pub role: ClientRole,
    /// The scopes its tokens may carry, each within the role's set (DESIGN.md's table); absent:
    /// the role's full set. A token request can narrow them further, never widen them.
    #[serde(default)]
    #[validate(length(min = 1, max = 32))]
    #[schema(value_type = Option<Vec<ScopeName>>, min_items = 1, max_items = 32, example = json!(["families:read", "families:write", "changes:read"]))]
    pub scopes: Option<Vec<String>>,
}

/// A service account. Its secret is never shown again after creation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Client {
    /// The account's id: the OAuth 2 `client_id`, and the `sub` of its tokens.
    pub id: Uuid,
    /// What it is for.
    #[schema(example = "District SIS nightly sync")]
    pub name: String,
    /// The role its tokens carry.
    pub role: ClientRole,
    /// The scopes its tokens may carry (the role's full set when none were chosen).
    #[schema(value_type = Vec<ScopeName>, example = json!(["families:read", "families:write", "changes:read"]))]
    pub scopes: Vec<String>,
    /// Who created it (the `sub` of the admin, or `system:liaison-cli`).
    pub created_by: String,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it was revoked; `null` while it may get tokens.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// The version (the ETag's).
    pub version: i64,
}

/// A service account as created: the only answer that ever shows its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientCreated {
    /// The account's id: the OAuth 2 `client_id`.
    pub id: Uuid,
    /// The secret, shown this once: store it in the machine's secret store now. Liaison keeps
    /// only an Argon2id hash of it and cannot show it again; a lost secret means a new client.
    #[schema(example = "lcs_3q2p9Xv0rJ6yHk1mWc8NfT5bLd7sZa4eUo-GiQxRnYw")]
    pub client_secret: String,
    /// What it is for.
    pub name: String,
    /// The role its tokens carry.
    pub role: ClientRole,
    /// The scopes its tokens may carry.
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// Always `null` here.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// The version (1).
    pub version: i64,
}

/// Filters of the service accounts.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListClientsQuery {
    /// Revoked ones (`true`) or those that may get tokens (`false`); both when absent.
    pub revoked: Option<bool>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A token request (RFC 6749 §4.4.2), form-encoded. The client authenticates with HTTP Basic
/// (`client_id:client_secret`) or with `client_id` and `client_secret` in the body, not both.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TokenForm {
    /// Always `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    /// Space-separated scopes to narrow the token to; absent: every scope of the client.
    #[schema(example = "families:read changes:read")]
    pub scope: Option<String>,
    /// The client's id, when not sent with HTTP Basic.
    pub client_id: Option<String>,
    /// The client's secret, when not sent with HTTP Basic.
    pub client_secret: Option<String>,
}

/// An access token (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessToken {
    /// A JWT to send as `Authorization: Bearer <access_token>` on `/v1` requests.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until it expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// The scopes it carries, space-separated.
    #[schema(example = "families:read changes:read")]
    pub scope: String,
}

/// A refused token request (RFC 6749 §5.2).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type` or `invalid_scope`.
    #[schema(example = "invalid_client")]
    pub error: &'static str,
    /// A sentence for the developer.
    #[schema(example = "the client id or secret is not right, or the client was revoked")]
    pub error_description: String,
}
