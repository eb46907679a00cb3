//! The one error type of the API and its RFC 9457 `application/problem+json` rendering.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::problem_types::{self, ProblemType};
use crate::http::request_id;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field-level validation failure.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// Where in the request the failure is: a JSON path in the body (`address.city`), or a query
    /// parameter's name.
    #[schema(example = "email")]
    pub field: String,
    /// A stable, machine-readable code (`invalid`, `required`, `length`, `unknown_field`, …).
    #[schema(example = "invalid")]
    pub code: String,
    /// A sentence for the developer reading it.
    #[schema(example = "not a valid e-mail address")]
    pub message: String,
}

impl FieldError {
    /// Builds a field error from its three parts.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document, as every error of the API is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem, `/problems/<slug>` on this service (relative,
    /// as RFC 9457 allows): stable, so clients can branch on it, and it resolves to a page
    /// saying what the problem means and what to do.
    #[schema(example = "/problems/validation")]
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem.
    #[schema(example = "Invalid request")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 400)]
    pub status: u16,
    /// What went wrong with this request.
    #[schema(example = "the request body has invalid fields")]
    pub detail: String,
    /// The request's `X-Request-Id`, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
    /// For validation problems: each field that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldError>>,
    /// For an illegal state transition: the moves that are legal from the current state.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub allowed: Option<Vec<String>>,
    /// Non-fatal remarks, where the problem kind has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub warnings: Option<Vec<String>>,
}

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed or has invalid fields.
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401: no usable credentials.
    Unauthorized(String),
    /// 401: a bearer token that is refused, with the kind of refusal (one of the `TOKEN_*`
    /// problem types) and a sentence that names a claim at most, never key material.
    InvalidToken {
        kind: &'static ProblemType,
        detail: String,
    },
    /// 403: authenticated, but not allowed.
    Forbidden(String),
    /// 404: no such resource (or not one the caller may know of).
    NotFound,
    /// 405: the path exists but not with this method.
    MethodNotAllowed(Vec<String>),
    /// 409: conflicts with the current state (a duplicate `external_id`, …).
    Conflict(String),
    /// 409 of a kind of its own (`kind`, a slug of `problem_types`), with the items at fault
    /// listed in `errors` (undone checklist items, …).
    ConflictOf {
        kind: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 409: a state transition that is not allowed from the current state.
    IllegalTransition {
        detail: String,
        allowed: Vec<String>,
    },
    /// 410: the resource's content was destroyed on request; `detail` says when and why.
    Gone(String),
    /// 412: `If-Match` did not match the current version.
    PreconditionFailed,
    /// 413: the body is over the limit.
    PayloadTooLarge(usize),
    /// 415: a body of a media type the endpoint does not take.
    UnsupportedMediaType(String),
    /// 422: well-formed, but cannot be processed (a reference to a missing resource, an
    /// `Idempotency-Key` reused with another body, …).
    Unprocessable {
        kind: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 429: the caller's bucket is empty; `retry_after` seconds until one more request is let
    /// through.
    RateLimited { retry_after: u64 },
    /// 503: the database is unavailable.
    Unavailable,
    /// A write its handler rolled back on purpose after looking at what it did (a dry run, a
    /// failed all-or-nothing import): the handler answers from what it kept, so this is never
    /// sent; should it be, it is a 500.
    Discarded,
    /// 500: something we did not expect; the cause is logged, never sent.
    Internal(String),
    /// Any other status a component answered with (CORS refusals, …), as a problem document.
    Status(StatusCode, String),
}

impl ApiError {
    /// A 400 with one field error.
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::invalid(vec![FieldError::new(field, code, message)])
    }

    /// A 400 listing field errors.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        ApiError::BadRequest { detail, errors }
    }

    /// A 400 with no particular field.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 naming the field that refers to something that cannot be used.
    pub fn unprocessable_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Unprocessable {
            kind: "unprocessable",
            detail: format!("{field}: {message}"),
            errors: vec![FieldError::new(field, code, message)],
        }
    }

    /// A 500 whose cause is logged, not sent.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// The kind of problem this error is.
    pub fn problem_type(&self) -> &'static ProblemType {
        use problem_types as t;
        match self {
            ApiError::BadRequest { errors, .. } if !errors.is_empty() => &t::VALIDATION,
            ApiError::BadRequest { .. } => &t::BAD_REQUEST,
            ApiError::Unauthorized(_) => &t::UNAUTHORIZED,
            ApiError::InvalidToken { kind, .. } => kind,
            ApiError::Forbidden(_) => &t::FORBIDDEN,
            ApiError::NotFound => &t::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => &t::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => &t::CONFLICT,
            ApiError::ConflictOf { kind, .. } => {
                let found = t::find(kind);
                debug_assert!(
                    found.is_some(),
                    "problem type `{kind}` is not in problem_types::ALL"
                );
                found.unwrap_or(&t::CONFLICT)
            }
            ApiError::IllegalTransition { .. } => &t::ILLEGAL_TRANSITION,
            ApiError::Gone(_) => &t::GONE,
            ApiError::PreconditionFailed => &t::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => &t::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => &t::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { kind, .. } => {
                let found = t::find(kind);
                // A kind missing from the table would send clients to a page that does not
                // exist: every test that reaches it fails, and production falls back.
                debug_assert!(
                    found.is_some(),
                    "problem type `{kind}` is not in problem_types::ALL"
                );
                found.unwrap_or_else(|| {
                    log::error!("problem type `{kind}` is not in the table of problem types");
                    &t::UNPROCESSABLE
                })
            }
            ApiError::RateLimited { .. } => &t::RATE_LIMITED,
            ApiError::Unavailable => &t::UNAVAILABLE,
            ApiError::Internal(_) | ApiError::Discarded => &t::INTERNAL,
            ApiError::Status(status, _) => t::for_status(status.as_u16()),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let kind = self.problem_type();
        let mut errors = None;
        let detail = match self {
            ApiError::BadRequest { detail, errors: e } => {
                if !e.is_empty() {
                    errors = Some(e.clone());
                }
                detail.clone()
            }
            ApiError::Unprocessable {
                detail, errors: e, ..
            }
            | ApiError::ConflictOf {
                detail, errors: e, ..
            } => {
                if !e.is_empty() {
                    errors = Some(e.clone());
                }
                detail.clone()
            }
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::Conflict(d)
            | ApiError::Gone(d) => d.clone(),
            ApiError::InvalidToken { detail, .. } => detail.clone(),
            ApiError::IllegalTransition { detail, .. } => detail.clone(),
            ApiError::UnsupportedMediaType(d) | ApiError::Status(_, d) => d.clone(),
            ApiError::NotFound => "no such resource".into(),
            ApiError::MethodNotAllowed(allowed) => {
                format!("this path answers only {}", allowed.join(", "))
            }
            ApiError::PreconditionFailed => {
                "the resource has changed since the version named in If-Match; fetch it again"
                    .into()
            }
            ApiError::PayloadTooLarge(limit) => format!("the request body is over {limit} bytes"),
            ApiError::RateLimited { retry_after } => format!(
                "this caller sent more requests of this kind than its quota allows; try again in {retry_after} s"
            ),
            ApiError::Unavailable => "the database is not answering; try again shortly".into(),
            ApiError::Internal(_) | ApiError::Discarded => {
                "an unexpected error occurred; quote the request id when reporting it".into()
            }
        };
        let allowed = match self {
            ApiError::IllegalTransition { allowed, .. } => Some(allowed.clone()),
            _ => None,
        };
        Problem {
            type_: kind.uri(),
            title: kind.title.into(),
            status: self.status_code().as_u16(),
            detail,
            request_id: request_id::current(),
            errors,
            allowed,
            warnings: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.problem_type();
        write!(f, "{} {}", self.status_code().as_u16(), kind.slug)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::InvalidToken { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_)
            | ApiError::ConflictOf { .. }
            | ApiError::IllegalTransition { .. } => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) | ApiError::Discarded => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Status(status, _) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        if let ApiError::Internal(cause) = self {
            log::error!(
                "request {} failed: {cause}",
                problem.request_id.as_deref().unwrap_or("-")
            );
        }
        let mut res = HttpResponse::build(self.status_code());
        res.content_type(PROBLEM_JSON);
        match self {
            ApiError::Unauthorized(_) | ApiError::InvalidToken { .. } => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            ApiError::MethodNotAllowed(allowed) => {
                res.insert_header((header::ALLOW, allowed.join(", ")));
            }
            ApiError::Unavailable => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::RateLimited { retry_after } => {
                res.insert_header((header::RETRY_AFTER, *retry_after));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => ApiError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                ApiError::Conflict(conflict_detail(info.message(), info.constraint_name()))
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::Conflict("a concurrent change touched the same data; retry".into())
            }
            other => ApiError::internal(format!("database: {other}")),
        }
    }
}

/// A client-facing sentence for a unique-constraint violation, without internal names.
fn conflict_detail(message: &str, constraint: Option<&str>) -> String {
    let name = constraint.unwrap_or(message);
    if name.contains("external_id") {
        "another record of this school already has this external_id".into()
    } else if name.contains("links") {
        "this guardian is already linked to this student".into()
    } else {
        "a record with the same unique values already exists".into()
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        log::warn!("database pool: {e}");
        ApiError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("blocking task: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_has_its_status() {
        let cases = [
            (ApiError::bad_request("x"), 400),
            (ApiError::field("a", "invalid", "b"), 400),
            (ApiError::Unauthorized("x".into()), 401),
            (ApiError::Forbidden("x".into()), 403),
            (ApiError::NotFound, 404),
            (ApiError::MethodNotAllowed(vec!["GET".into()]), 405),
            (ApiError::Conflict("x".into()), 409),
            (
                ApiError::ConflictOf {
                    kind: "checklist-incomplete",
                    detail: "x".into(),
                    errors: Vec::new(),
                },
                409,
            ),
            (
                ApiError::IllegalTransition {
                    detail: "x".into(),
                    allowed: vec!["closed".into()],
                },
                409,
            ),
            (ApiError::Gone("x".into()), 410),
            (ApiError::PreconditionFailed, 412),
            (ApiError::PayloadTooLarge(1), 413),
            (ApiError::UnsupportedMediaType("x".into()), 415),
            (ApiError::unprocessable_field("a", "b", "c"), 422),
            (ApiError::RateLimited { retry_after: 3 }, 429),
            (ApiError::Unavailable, 503),
            (ApiError::internal("secret cause"), 500),
            (ApiError::Status(StatusCode::IM_A_TEAPOT, "x".into()), 418),
        ];
        for (err, status) in cases {
            assert_eq!(err.status_code().as_u16(), status, "{err:?}");
            assert_eq!(err.problem().status, status);
        }
    }

    /// Every kind of problem the code can emit has an entry in the table, so its `type` resolves.
    #[test]
    fn every_problem_the_code_emits_has_a_page() {
        use problem_types as t;
        let unprocessable = |kind| ApiError::Unprocessable {
            kind,
            detail: "x".into(),
            errors: Vec::new(),
        };
        let mut cases = vec![
            ApiError::bad_request("x"),
            ApiError::field("a", "invalid", "b"),
            ApiError::Unauthorized("x".into()),
            ApiError::Forbidden("x".into()),
            ApiError::NotFound,
            ApiError::MethodNotAllowed(vec!["GET".into()]),
            ApiError::Conflict("x".into()),
            ApiError::IllegalTransition {
                detail: "x".into(),
                allowed: Vec::new(),
            },
            ApiError::Gone("x".into()),
            ApiError::PreconditionFailed,
            ApiError::PayloadTooLarge(1),
            ApiError::UnsupportedMediaType("x".into()),
            ApiError::unprocessable_field("a", "b", "c"),
            ApiError::Unavailable,
            ApiError::internal("x"),
        ];
        // The 422 kinds named where they are raised (the idempotency store and the contact
        // rules of communications).
        for kind in [
            "idempotency-key-reused",
            "contact-not-allowed",
            "contact-restricted",
            "sms-consent-missing",
            "no-iep",
            "unprocessable",
        ] {
            cases.push(unprocessable(kind));
        }
        for kind in ["checklist-incomplete", "stage-in-use"] {
            cases.push(ApiError::ConflictOf {
                kind,
                detail: "x".into(),
                errors: Vec::new(),
            });
        }
        for kind in [
            &t::TOKEN_MALFORMED,
            &t::TOKEN_BAD_SIGNATURE,
            &t::TOKEN_WRONG_ALGORITHM,
            &t::TOKEN_EXPIRED,
            &t::TOKEN_NOT_YET_VALID,
            &t::TOKEN_MISSING_CLAIM,
            &t::TOKEN_INVALID_CLAIM,
            &t::TOKEN_WRONG_ISSUER,
            &t::TOKEN_WRONG_AUDIENCE,
        ] {
            cases.push(ApiError::InvalidToken {
                kind,
                detail: "x".into(),
            });
        }
        for status in 400..600 {
            if let Ok(status) = StatusCode::from_u16(status) {
                if status.is_client_error() || status.is_server_error() {
                    cases.push(ApiError::Status(status, "x".into()));
                }
            }
        }
        for err in cases {
            let p = err.problem();
            let slug = p.type_.strip_prefix("/problems/").unwrap_or_default();
            let entry = t::find(slug).unwrap_or_else(|| panic!("{err:?}: no page for {}", p.type_));
            assert_eq!(p.title, entry.title, "{err:?}");
            if let Some(status) = entry.status {
                assert_eq!(p.status, status, "{err:?} is a {} by its page", status);
            }
        }
    }

    #[test]
    fn internal_errors_do_not_leak_their_cause() {
        let p = ApiError::internal("password=hunter2").problem();
        assert!(!p.detail.contains("hunter2"));
    }
}
