//! The HTTP resources, one module each, and what they share.

pub mod audit;
pub mod changes;
pub mod communications;
pub mod concerns;
pub mod families;
pub mod guardians;
pub mod health;
pub mod links;
pub mod me;
pub mod problems;
pub mod settings;
pub mod students;
pub mod timeline;

use actix_web::dev::HttpServiceFactory;
use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::IntoResponses;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::OpenApiFactory;

use crate::error::Problem;
use crate::http::etag::etag;

/// Where handlers are registered: the OpenAPI document's builder (utoipa's `ServiceConfig`, which
/// collects each handler's paths and schemas as it goes), or a worker's app (actix's own
/// `ServiceConfig`, which does not: building every operation's schemas again in each worker held
/// on to 12 MiB per worker).
pub trait Register {
    /// Registers a handler.
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;
}

impl Register for ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        ServiceConfig::service(self, factory)
    }
}

impl Register for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory);
        self
    }
}

/// Registers every handler (and so, with utoipa's `ServiceConfig`, every OpenAPI operation).
pub fn configure(cfg: &mut impl Register) {
    health::configure(cfg);
    families::configure(cfg);
    guardians::configure(cfg);
    students::configure(cfg);
    links::configure(cfg);
    communications::configure(cfg);
    concerns::configure(cfg);
    settings::configure(cfg);
    timeline::configure(cfg);
    problems::configure(cfg);
    audit::configure(cfg);
    changes::configure(cfg);
    me::configure(cfg);
}

/// `GET /v1/openapi.json`: the document, serialized once per process.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::openapi::json())
}

/// `/docs` → `/docs/`, where the viewer lives.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// A single resource with its `ETag`.
pub fn single<T: Serialize>(body: &T, version: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// A `LIKE` pattern matching `q` anywhere, case-folded, with `%`, `_` and `\` taken literally.
pub fn contains_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A stored UTC time as it goes on the wire.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Errors a read of one resource can answer.
#[derive(IntoResponses)]
pub enum ReadErrors {
    /// A path or query parameter does not parse.
    #[response(
        status = 400,
        description = "Malformed request",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// No valid token.
    #[response(
        status = 401,
        description = "Missing or invalid token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// The token lacks the scope.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such resource for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
}

/// Errors a create can answer.
#[derive(IntoResponses)]
pub enum CreateErrors {
    /// Malformed JSON or invalid fields.
    #[response(
        status = 400,
        description = "Invalid request",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// No valid token.
    #[response(
        status = 401,
        description = "Missing or invalid token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// The token lacks the scope.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// The parent resource does not exist for this caller.
    #[response(
        status = 404,
        description = "No such parent resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// A unique value is taken.
    #[response(
        status = 409,
        description = "Conflicts with an existing record",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    /// The body is over 1 MiB.
    #[response(
        status = 413,
        description = "Body too large",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    /// The body is not JSON.
    #[response(
        status = 415,
        description = "Body is not application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
    /// A reference that cannot be used, or an `Idempotency-Key` reused with another body.
    #[response(
        status = 422,
        description = "Unprocessable reference or reused Idempotency-Key",
        content_type = "application/problem+json"
    )]
    Unprocessable(Problem),
}

/// Errors a merge-patch can answer.
#[derive(IntoResponses)]
pub enum UpdateErrors {
    /// Malformed JSON or invalid fields.
    #[response(
        status = 400,
        description = "Invalid request",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// No valid token.
    #[response(
        status = 401,
        description = "Missing or invalid token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// The token lacks the scope.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such resource for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// A unique value is taken.
    #[response(
        status = 409,
        description = "Conflicts with an existing record",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    /// `If-Match` names an older version.
    #[response(
        status = 412,
        description = "The resource changed since the version in If-Match",
        content_type = "application/problem+json"
    )]
    PreconditionFailed(Problem),
    /// The body is over 1 MiB.
    #[response(
        status = 413,
        description = "Body too large",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    /// The body is not a merge patch.
    #[response(
        status = 415,
        description = "Body is not a JSON merge patch",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
    /// A reference that cannot be used.
    #[response(
        status = 422,
        description = "Unprocessable reference",
        content_type = "application/problem+json"
    )]
    Unprocessable(Problem),
}

/// Errors an archive can answer.
#[derive(IntoResponses)]
pub enum DeleteErrors {
    /// A path parameter does not parse.
    #[response(
        status = 400,
        description = "Malformed request",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// No valid token.
    #[response(
        status = 401,
        description = "Missing or invalid token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// The token lacks the scope.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// No such resource for this caller.
    #[response(
        status = 404,
        description = "No such resource",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// `If-Match` names an older version.
    #[response(
        status = 412,
        description = "The resource changed since the version in If-Match",
        content_type = "application/problem+json"
    )]
    PreconditionFailed(Problem),
}
