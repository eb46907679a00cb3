//! What every request is checked for before any handler runs, once for all endpoints:
//!
//! - a URI over `MAX_URI_BYTES` is a 414 and header fields over `MAX_HEADER_BYTES` a 431, as
//!   problem documents. actix-http answers requests beyond its own, higher limits (a request
//!   head over 128 KiB or with more than 96 header fields: 431; a URI over 65,534 bytes: 400)
//!   with an empty body before any of our code runs; these limits sit below them, so that a
//!   client gets a problem document wherever we can give one;
//! - a compressed body (`Content-Encoding` other than `identity`) is a 415: bodies are read as
//!   sent, and a gzip body would otherwise be misread as malformed JSON;
//! - a query string must be percent-encoded UTF-8, and may only name the query parameters the
//!   operation declares in the OpenAPI document the handlers generate (the route table), so an
//!   endpoint added later gets the check without doing anything.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};

use crate::error::{ApiError, FieldError};
use crate::AppState;

/// The longest URI (path and query) read: 8 KiB.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes read (each field's name and value, plus `: ` and CRLF): 16 KiB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Middleware: refuses, as a problem document, a request no handler should see.
pub async fn middleware<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if let Err(refusal) = check(&req) {
        let mut res = refusal.error_response();
        if matches!(refusal, ApiError::UnsupportedMediaType(_)) {
            // RFC 9110 §15.5.16: say which content codings would have been taken.
            res.headers_mut().insert(
                header::ACCEPT_ENCODING,
                header::HeaderValue::from_static("identity"),
            );
        }
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn check(req: &ServiceRequest) -> Result<(), ApiError> {
    let uri = req.uri();
    let uri_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.scheme_str().map_or(0, str::len);
    if uri_len > MAX_URI_BYTES {
        return Err(ApiError::Status(
            StatusCode::URI_TOO_LONG,
            format!("the URI is over {MAX_URI_BYTES} bytes"),
        ));
    }
    let header_len: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if header_len > MAX_HEADER_BYTES {
        return Err(ApiError::Status(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("the header fields are over {MAX_HEADER_BYTES} bytes"),
        ));
    }
    for coding in req.headers().get_all(header::CONTENT_ENCODING) {
        let identity = coding.to_str().is_ok_and(|v| {
            v.split(',')
                .map(str::trim)
                .all(|c| c.is_empty() || c.eq_ignore_ascii_case("identity"))
        });
        if !identity {
            return Err(ApiError::UnsupportedMediaType(
                "request bodies are taken uncompressed only: send no Content-Encoding".into(),
            ));
        }
    }
    check_query(req)
}

/// The query string: well-formed, and naming only the operation's parameters. Every bad
/// parameter is reported at once.
fn check_query(req: &ServiceRequest) -> Result<(), ApiError> {
    let query = req.query_string();
    if query.is_empty() {
        return Ok(());
    }
    let path = req.path();
    let declared = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.routes.query_params(req.method().as_str(), path))
        // The spec and the docs viewer are served beside the API, not described in it.
        .or_else(|| {
            (path == "/v1/openapi.json" || path == "/docs" || path.starts_with("/docs/"))
                .then(Vec::new)
        });
    if declared.as_ref().is_some_and(|d| !d.is_empty()) {
        // An operation that declares query parameters reads them with the strict `Query`
        // extractor, which reports unknown names, bad encoding and bad values all at once.
        return Ok(());
    }
    let mut errors: Vec<FieldError> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(name) = decode(raw_name) else {
            push_once(
                &mut errors,
                FieldError::new(
                    "query",
                    "invalid_encoding",
                    "a parameter name is not valid percent-encoded UTF-8",
                ),
            );
            continue;
        };
        if decode(raw_value).is_none() {
            push_once(
                &mut errors,
                FieldError::new(
                    name.replace('\0', ""),
                    "invalid_encoding",
                    "is not valid percent-encoded UTF-8",
                ),
            );
            continue;
        }
        let Some(declared) = &declared else {
            continue;
        };
        if name.is_empty() {
            push_once(
                &mut errors,
                FieldError::new("query", "invalid", "a parameter has no name"),
            );
        } else if !declared.contains(&name.as_str()) {
            let message = if declared.is_empty() {
                "this endpoint takes no query parameters".to_string()
            } else {
                format!(
                    "is not a parameter of this endpoint; it takes {}",
                    declared.join(", ")
                )
            };
            push_once(
                &mut errors,
                FieldError::new(name.replace('\0', ""), "unknown_parameter", message),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

fn push_once(errors: &mut Vec<FieldError>, error: FieldError) {
    if !errors.contains(&error) {
        errors.push(error);
    }
}

/// Decodes one `application/x-www-form-urlencoded` component: `None` when a `%` is not followed
/// by two hex digits or the bytes are not UTF-8 (where `form_urlencoded` would pass `%ZZ` through
/// and turn `%FF` into U+FFFD, so the handler would see something the client did not send).
fn decode(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                let hi = hex(*bytes.get(i + 1)?)?;
                let lo = hex(*bytes.get(i + 2)?)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_decode_only_when_well_formed() {
        assert_eq!(decode("a%20b+c").as_deref(), Some("a b c"));
        assert_eq!(decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(decode("%00").as_deref(), Some("\0"));
        assert_eq!(decode("").as_deref(), Some(""));
        for bad in ["%", "%2", "%ZZ", "%+1", "%FF", "%C3", "a%G0", "%e9"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
