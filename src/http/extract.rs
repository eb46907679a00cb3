//! Strict extractors: JSON bodies and query strings that refuse what they do not understand,
//! with problem+json errors that name the field.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body, deserialized strictly and validated.
#[derive(Debug)]
pub struct JsonBody<T> {
    /// The value.
    pub value: T,
    /// A digest of the method, path and canonical JSON, for idempotency.
    pub fingerprint: String,
}

/// A JSON Merge Patch document (`application/merge-patch+json` or `application/json`).
#[derive(Debug)]
pub struct PatchBody(pub serde_json::Map<String, Value>);

fn media_type(req: &HttpRequest) -> Option<String> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

async fn read_body(req: &HttpRequest, mut payload: Payload) -> Result<web::Bytes, ApiError> {
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge(BODY_LIMIT));
        }
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge(BODY_LIMIT));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the request needs a JSON body"));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let mut errors = Vec::new();
    find_nul(&value, &mut String::new(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    Ok(value)
}

/// Text with NUL characters is refused everywhere: PostgreSQL cannot store it.
fn find_nul(value: &Value, path: &mut String, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(s) if s.contains('\0') => errors.push(FieldError::new(
            path.trim_start_matches('.'),
            "invalid",
            "must not contain NUL characters",
        )),
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                if k.contains('\0') {
                    errors.push(FieldError::new(
                        path.trim_start_matches('.'),
                        "invalid",
                        "keys must not contain NUL characters",
                    ));
                }
                find_nul(v, path, errors);
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                find_nul(v, path, errors);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Deserializes `value` into `T`, then runs `T`'s validation; every failure is a field error.
pub fn from_value<T: DeserializeOwned + Validate>(value: Value) -> Result<T, ApiError> {
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(vec![serde_field_error(&path, &e.inner().to_string())])
    })?;
    parsed
        .validate()
        .map_err(|e| ApiError::invalid(validation_errors(&e)))?;
    Ok(parsed)
}

/// Turns a serde message at `path` into a field error with a stable code.
fn serde_field_error(path: &str, message: &str) -> FieldError {
    let parent = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(|name| format!("{parent}{name}"))
    };
    if let Some(field) = quoted("missing field `") {
        return FieldError::new(field, "required", "is required");
    }
    if let Some(field) = quoted("unknown field `") {
        // The path already ends at the unknown field itself.
        let field = if path == "." { field } else { path.to_string() };
        return FieldError::new(field, "unknown_field", message);
    }
    if let Some(field) = quoted("duplicate field `") {
        return FieldError::new(field, "duplicate", message);
    }
    let field = if path == "." {
        "body".to_string()
    } else {
        path.to_string()
    };
    FieldError::new(field, "invalid", message)
}

/// Flattens validator's nested errors into `{field, code, message}` rows, sorted by field.
pub fn validation_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    flatten(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn flatten(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message =
                        e.message
                            .as_ref()
                            .map(|m| m.to_string())
                            .unwrap_or_else(|| {
                                match (e.code.as_ref(), e.params.get("min"), e.params.get("max")) {
                                    ("length", Some(min), Some(max)) => {
                                        format!("must be {min} to {max} characters long")
                                    }
                                    ("length", None, Some(max)) => {
                                        format!("must be at most {max} characters long")
                                    }
                                    ("range", Some(min), Some(max)) => {
                                        format!("must be from {min} to {max}")
                                    }
                                    (code, _, _) => format!("is invalid ({code})"),
                                }
                            });
                    out.push(FieldError::new(name.clone(), e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(inner, &name, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(inner, &format!("{name}[{i}]"), out);
                }
            }
        }
    }
}

fn fingerprint(req: &HttpRequest, value: &Value) -> String {
    // serde_json's maps are ordered by key, so equal documents print equally.
    let canonical = serde_json::to_string(value).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    let digest = hasher.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            match media_type(&req).as_deref() {
                Some("application/json") => {}
                other => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "send the body as application/json (got {})",
                        other.unwrap_or("no Content-Type")
                    )))
                }
            }
            let bytes = read_body(&req, payload).await?;
            let value = parse_json(&bytes)?;
            let fingerprint = fingerprint(&req, &value);
            Ok(JsonBody {
                value: from_value(value)?,
                fingerprint,
            })
        })
    }
}

impl FromRequest for PatchBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            match media_type(&req).as_deref() {
                Some("application/merge-patch+json" | "application/json") => {}
                other => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                    "send the patch as application/merge-patch+json or application/json (got {})",
                    other.unwrap_or("no Content-Type")
                )))
                }
            }
            let bytes = read_body(&req, payload).await?;
            match parse_json(&bytes)? {
                Value::Object(map) => Ok(PatchBody(map)),
                _ => Err(ApiError::bad_request("a merge patch must be a JSON object")),
            }
        })
    }
}

/// A query string, deserialized strictly: unknown, repeated or malformed parameters are a 400.
#[derive(Debug)]
pub struct Query<T>(pub T);

/// Parses a raw query string into `T`.
pub fn parse_query<T: DeserializeOwned + Validate>(qs: &str) -> Result<T, ApiError> {
    for (k, v) in form_urlencoded::parse(qs.as_bytes()) {
        if k.contains('\0') || v.contains('\0') {
            return Err(ApiError::field(
                k.replace('\0', ""),
                "invalid",
                "must not contain NUL characters",
            ));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(qs.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let mut err = serde_field_error(&path, &e.inner().to_string());
        if err.field == "body" {
            err.field = "query".into();
        }
        if err.code == "unknown_field" {
            err.code = "unknown_parameter".into();
        }
        ApiError::invalid(vec![err])
    })?;
    value
        .validate()
        .map_err(|e| ApiError::invalid(validation_errors(&e)))?;
    Ok(value)
}

impl<T: DeserializeOwned + Validate> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// Refuses any query parameter on endpoints that take none.
#[derive(Debug)]
pub struct NoQuery;

impl FromRequest for NoQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let first = form_urlencoded::parse(req.query_string().as_bytes()).next();
        ready(match first {
            None => Ok(NoQuery),
            Some((k, _)) => Err(ApiError::field(
                k.replace('\0', ""),
                "unknown_parameter",
                "this endpoint takes no query parameters",
            )),
        })
    }
}
