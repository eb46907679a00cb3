//! Strict extractors: JSON bodies and query strings that refuse what they do not understand,
//! with problem+json errors that name the field.

use std::cell::RefCell;
use std::fmt;
use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::check;
use super::merge_patch::Patch;
use crate::error::{ApiError, FieldError};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// A JSON request body, checked against its type's schema, deserialized and validated; every
/// field error is answered at once.
#[derive(Debug)]
pub struct JsonBody<T> {
    /// The value.
    pub value: T,
    /// A digest of the method, path and canonical JSON, for idempotency (empty when the request
    /// has no `Idempotency-Key`).
    pub fingerprint: String,
}

/// A JSON Merge Patch document (`application/merge-patch+json` or `application/json`), for
/// `merge_patch::merge_into`.
#[derive(Debug)]
pub struct PatchBody(pub Patch);

pub(crate) fn media_type(req: &HttpRequest) -> Option<String> {
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

/// Reads a JSON document strictly: answers the value and the problems found on the way that do
/// not stop it being read (a key given twice, NUL characters), for the checker to report with
/// the rest. A document that is not JSON at all is a 400 at once.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<(Value, Vec<FieldError>), ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the request needs a JSON body"));
    }
    let problems = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict {
        path: String::new(),
        problems: &problems,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v))
    .map_err(|e| {
        // serde_json's own words name its parser's states; say where the document breaks.
        ApiError::bad_request(match e.classify() {
            serde_json::error::Category::Eof => {
                "the body is not valid JSON: it ends before the document is complete".to_string()
            }
            _ => format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        })
    })?;
    Ok((value, problems.into_inner()))
}

/// Builds a `serde_json::Value` as serde_json would, but notes keys given twice (which
/// serde_json silently resolves to the last) and text with NUL characters, which PostgreSQL
/// cannot store.
struct Strict<'a> {
    path: String,
    problems: &'a RefCell<Vec<FieldError>>,
}

impl Strict<'_> {
    fn child(&self, path: String) -> Self {
        Strict {
            path,
            problems: self.problems,
        }
    }

    fn problem(&self, path: &str, code: &str, message: &str) {
        let field = if path.is_empty() { "body" } else { path };
        self.problems
            .borrow_mut()
            .push(FieldError::new(field, code, message));
    }

    fn text(&self, s: &str) {
        if s.contains('\0') {
            self.problem(&self.path, "invalid", "must not contain NUL characters");
        }
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        self.text(v);
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        self.text(&v);
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) =
            seq.next_element_seed(self.child(format!("{}[{}]", self.path, items.len())))?
        {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = serde_json::Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            if key.contains('\0') {
                self.problem(
                    &path.replace('\0', ""),
                    "invalid",
                    "keys must not contain NUL characters",
                );
            }
            let value = access.next_value_seed(self.child(path.clone()))?;
            if map.insert(key, value).is_some() {
                self.problem(&path, "duplicate", "is given more than once");
            }
        }
        Ok(Value::Object(map))
    }
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
    let canonical = serde_json::to_vec(value).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(req.path().as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in hasher.finalize() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

impl<T: DeserializeOwned + Validate + ToSchema + 'static> FromRequest for JsonBody<T> {
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
            let (value, problems) = parse_json(&bytes)?;
            // Only a create with an `Idempotency-Key` compares fingerprints.
            let fingerprint = if req.headers().contains_key("idempotency-key") {
                fingerprint(&req, &value)
            } else {
                String::new()
            };
            Ok(JsonBody {
                value: check::body(value, problems)?,
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
                (Value::Object(map), errors) => Ok(PatchBody(Patch { map, errors })),
                _ => Err(ApiError::bad_request("a merge patch must be a JSON object")),
            }
        })
    }
}

/// A query string, deserialized strictly: unknown, repeated or malformed parameters are a 400.
#[derive(Debug)]
pub struct Query<T>(pub T);

/// Parses a raw query string into `T`, checked against `T`'s parameters: unknown, repeated,
/// malformed and badly encoded parameters are all reported at once.
pub fn parse_query<T>(qs: &str) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate + IntoParams + ToSchema + 'static,
{
    check::query(qs)
}

impl<T: DeserializeOwned + Validate + IntoParams + ToSchema + 'static> FromRequest for Query<T> {
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

/// The fields of a body that has none.
#[derive(Debug, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

/// The body of an action that takes no fields: none at all, an empty one, `{}`, or `null` (what
/// the document's optional body allows, and what a generated client may send for "no body").
/// Anything else is refused like any body's unknown fields, so a client's misplaced field is
/// never silently ignored.
#[derive(Debug)]
pub struct NoBody;

impl FromRequest for NoBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&req, payload).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(NoBody);
            }
            match media_type(&req).as_deref() {
                Some("application/json") => {}
                other => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                    "this action takes no body; send none, or {{}} as application/json (got {})",
                    other.unwrap_or("no Content-Type")
                )))
                }
            }
            let (value, problems) = parse_json(&bytes)?;
            if value.is_null() {
                return Ok(NoBody);
            }
            check::body::<NoFields>(value, problems)?;
            Ok(NoBody)
        })
    }
}

/// A JSON body that may be left out: none at all, an empty one, or `null` is `None` (what the
/// document's optional body allows); anything else is checked as `JsonBody` checks it, so a bad
/// field is never silently taken for "no body".
#[derive(Debug)]
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned + Validate + ToSchema + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let bytes = read_body(&req, payload).await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalBody(None));
            }
            match media_type(&req).as_deref() {
                Some("application/json") => {}
                other => {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "send the body as application/json, or none (got {})",
                        other.unwrap_or("no Content-Type")
                    )))
                }
            }
            let (value, problems) = parse_json(&bytes)?;
            if value.is_null() {
                return Ok(OptionalBody(None));
            }
            Ok(OptionalBody(Some(check::body(value, problems)?)))
        })
    }
}
