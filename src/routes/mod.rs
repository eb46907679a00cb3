//! The HTTP resources, one module each, and what they share.

pub mod admissions;
pub mod audit;
pub mod changes;
pub mod clients;
pub mod communications;
pub mod concerns;
pub mod events;
pub mod families;
pub mod guardians;
pub mod health;
pub mod iep;
pub mod imports;
pub mod links;
pub mod me;
pub mod problems;
pub mod referrals;
pub mod resources;
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
    iep::configure(cfg);
    events::configure(cfg);
    resources::configure(cfg);
    referrals::configure(cfg);
    settings::configure(cfg);
    timeline::configure(cfg);
    problems::configure(cfg);
    audit::configure(cfg);
    changes::configure(cfg);
    me::configure(cfg);
    admissions::configure(cfg);
    clients::configure(cfg);
    imports::configure(cfg);
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

/// Serializes a time as RFC 3339 in UTC, exactly as chrono's own `Serialize` does (`Z`, and 0, 3,
/// 6 or 9 fraction digits as the time needs), but written whole into a buffer and handed to the
/// serializer at once: through chrono's `Display`, serde_json escapes the text a character at a
/// time, and times were a quarter of the cost of a list under callgrind.
pub fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 40];
    match format_rfc3339(t, &mut buf) {
        Some(text) => s.serialize_str(text),
        // Years outside 0..=9999 (never stored: inputs are bounded) go the slow way.
        None => t.serialize(s),
    }
}

/// `rfc3339` for an optional time.
pub fn rfc3339_opt<S: serde::Serializer>(
    t: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => rfc3339(t, s),
        None => s.serialize_none(),
    }
}

fn format_rfc3339<'b>(t: &DateTime<Utc>, buf: &'b mut [u8; 40]) -> Option<&'b str> {
    use chrono::{Datelike, Timelike};
    /// Writes `v` as `digits` decimal digits at `at`.
    fn put(buf: &mut [u8; 40], at: usize, digits: usize, mut v: u32) {
        for i in (at..at + digits).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    *buf = *b"0000-00-00T00:00:00.000000000Z\0\0\0\0\0\0\0\0\0\0";
    put(buf, 0, 4, year);
    put(buf, 5, 2, t.month());
    put(buf, 8, 2, t.day());
    put(buf, 11, 2, t.hour());
    put(buf, 14, 2, t.minute());
    let (mut sec, mut nano) = (t.second(), t.nanosecond());
    if nano >= 1_000_000_000 {
        // A leap second, written as chrono writes it.
        sec += 1;
        nano -= 1_000_000_000;
    }
    put(buf, 17, 2, sec);
    let digits = if nano == 0 {
        0
    } else if nano % 1_000_000 == 0 {
        nano /= 1_000_000;
        3
    } else if nano % 1_000 == 0 {
        nano /= 1_000;
        6
    } else {
        9
    };
    let end = if digits == 0 {
        19
    } else {
        put(buf, 20, digits, nano);
        20 + digits
    };
    buf[end] = b'Z';
    std::str::from_utf8(&buf[..=end]).ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Timelike};

    #[derive(Serialize)]
    struct Fast(#[serde(serialize_with = "rfc3339")] DateTime<Utc>);

    /// The fast writer says exactly what chrono's own `Serialize` says, for every fraction.
    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let base = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 5, 7)
            .unwrap();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut cases = vec![
            Utc.from_utc_datetime(&base),
            Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2199, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [
            1_000_000,
            120_000_000,
            123_456_000,
            1_000,
            123_456_789,
            1,
            999_999_999,
        ] {
            cases.push(Utc.from_utc_datetime(&base.with_nanosecond(nanos).unwrap()));
        }
        // A leap second.
        cases.push(
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(2016, 12, 31)
                    .unwrap()
                    .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                    .unwrap(),
            ),
        );
        for _ in 0..10_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let secs = (seed % (300 * 365 * 86_400)) as i64 - 70 * 365 * 86_400;
            let nanos = match seed % 4 {
                0 => 0,
                1 => ((seed >> 8) % 1000) as u32 * 1_000_000,
                2 => ((seed >> 8) % 1_000_000) as u32 * 1_000,
                _ => ((seed >> 8) % 1_000_000_000) as u32,
            };
            cases.push(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        for t in cases {
            assert_eq!(
                serde_json::to_string(&Fast(t)).unwrap(),
                serde_json::to_string(&t).unwrap()
            );
        }
    }
}
