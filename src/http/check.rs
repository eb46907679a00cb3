//! Checks a JSON body or a query string against the OpenAPI schema of the type it becomes, before
//! serde and the validator see it, so that a request hears of every field error at once, in words
//! taken from the schema ("must be one of: phone, email, …", "must be a UUID") rather than from
//! a Rust type or a parser.
//!
//! The schema is the type's own (`ToSchema::schema()` and the schemas it refers to, or the
//! `IntoParams` of a query), so a new field or resource is checked with no code of its own. What
//! the checker finds wrong is reported and then removed (an optional field) or replaced by a
//! valid placeholder (a required one), so that serde can still build the value and the validator
//! can report the fields that did parse. Anything serde then refuses that the schema could not
//! say (a domain type's own rule, such as an e-mail address) is reported the same way, bounded.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::validation_errors;
use crate::error::{ApiError, FieldError};

/// What a `date-time` must look like: RFC 3339 with a four-digit year from 1900 to 2199. The
/// OpenAPI document puts it on every `date-time`, and the checker enforces the same.
pub const DATE_TIME_PATTERN: &str = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

/// What a `date` must look like: an RFC 3339 full date with a year from 1900 to 2199.
pub const DATE_PATTERN: &str = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// The years a date or time may fall in: generated clients (Python's `datetime` among them)
/// cannot read years beyond four digits, and nothing a school records is older or later.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2199;

/// What a schema that cannot be found stands for: no constraint.
static NO_CONSTRAINT: Value = Value::Null;

/// How many times a value serde refused is mended and tried again before giving up.
const MAX_ATTEMPTS: usize = 32;

const DATE_TIME_MESSAGE: &str = "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z";
const DATE_TIME_RANGE: &str = "must be a time in the years 1900 to 2199";
const DATE_MESSAGE: &str = "must be a date such as 2026-01-31";
const DATE_RANGE: &str = "must be a date in the years 1900 to 2199";

/// A type's schema and the named schemas it refers to, as JSON; built once per type.
#[derive(Debug)]
pub struct Schemas {
    root: Value,
    components: Map<String, Value>,
}

impl Schemas {
    /// The schema of a body type.
    pub fn of<T: ToSchema + 'static>() -> Arc<Schemas> {
        cached((TypeId::of::<T>(), false), || {
            let mut refs = Vec::new();
            T::schemas(&mut refs);
            Schemas::new(
                serde_json::to_value(T::schema()).unwrap_or(Value::Null),
                refs,
            )
        })
    }

    /// The query parameters of `T` as one closed object: a property per parameter.
    pub fn of_params<T: IntoParams + ToSchema + 'static>() -> Arc<Schemas> {
        cached((TypeId::of::<T>(), true), || {
            let mut properties = Map::new();
            let mut required = Vec::new();
            for param in T::into_params(|| Some(ParameterIn::Query)) {
                let Ok(param) = serde_json::to_value(&param) else {
                    continue;
                };
                let Some(name) = param["name"].as_str() else {
                    continue;
                };
                if param["required"] == Value::Bool(true) {
                    required.push(Value::String(name.to_string()));
                }
                let schema = param.get("schema").cloned().unwrap_or(Value::Null);
                properties.insert(name.to_string(), schema);
            }
            let root = serde_json::json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            });
            let mut refs = Vec::new();
            T::schemas(&mut refs);
            Schemas::new(root, refs)
        })
    }

    fn new(
        root: Value,
        refs: Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) -> Schemas {
        let components = refs
            .into_iter()
            .filter_map(|(name, s)| serde_json::to_value(s).ok().map(|s| (name, s)))
            .collect();
        Schemas { root, components }
    }

    /// The type's own schema.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Follows `$ref`s to the schema they name (an unknown name is no constraint).
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            else {
                return schema;
            };
            match self.components.get(name) {
                Some(next) => schema = next,
                None => return &NO_CONSTRAINT,
            }
        }
        schema
    }

    /// The arms of a `oneOf`/`anyOf` that are not just `null`, resolved.
    fn arms<'a>(&'a self, schema: &'a Value) -> Option<Vec<&'a Value>> {
        let arms = schema
            .get("oneOf")
            .or_else(|| schema.get("anyOf"))
            .and_then(Value::as_array)?;
        Some(
            arms.iter()
                .map(|a| self.resolve(a))
                .filter(|a| a.get("type") != Some(&Value::String("null".into())))
                .collect(),
        )
    }

    /// Whether `null` is a valid value of `schema`.
    fn nullable(&self, schema: &Value) -> bool {
        let schema = self.resolve(schema);
        match schema.get("type") {
            Some(Value::String(t)) if t == "null" => return true,
            Some(Value::Array(types)) if types.iter().any(|t| t == "null") => return true,
            _ => {}
        }
        ["oneOf", "anyOf"].iter().any(|k| {
            schema
                .get(*k)
                .and_then(Value::as_array)
                .is_some_and(|arms| {
                    arms.iter()
                        .any(|a| a.get("type") == Some(&Value::String("null".into())))
                })
        })
    }

    /// The schema with `$ref`s followed and a nullable `oneOf` reduced to its one other arm.
    fn core<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let schema = self.resolve(schema);
        match self.arms(schema) {
            Some(arms) if arms.len() == 1 => self.core(arms[0]),
            _ => schema,
        }
    }

    /// The schema of the object property `name` of `schema`, if it declares one.
    pub fn property<'a>(&'a self, schema: &'a Value, name: &str) -> Option<&'a Value> {
        let core = self.core(schema);
        if let Some(p) = core.get("properties").and_then(|p| p.get(name)) {
            return Some(p);
        }
        match core.get("additionalProperties") {
            Some(extra @ Value::Object(_)) => Some(extra),
            _ => None,
        }
    }

    /// Whether an object `schema` refuses names it does not declare.
    fn closed(&self, schema: &Value) -> bool {
        self.core(schema).get("additionalProperties") == Some(&Value::Bool(false))
    }

    /// Whether `schema` is that of an object with declared properties.
    fn is_object(&self, schema: &Value) -> bool {
        let core = self.core(schema);
        types(core).contains(&"object") || core.get("properties").is_some()
    }

    fn required(&self, schema: &Value, name: &str) -> bool {
        self.core(schema)
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|n| n == name))
    }

    /// The schema at a path of the value, if the schema says.
    fn at<'a>(&'a self, path: &[Seg]) -> Option<&'a Value> {
        let mut schema = &self.root;
        for seg in path {
            schema = match seg {
                Seg::Key(k) => self.property(schema, k)?,
                Seg::Index(_) => self.core(schema).get("items")?,
            };
        }
        Some(schema)
    }

    /// What a valid value of `schema` must be, in words.
    fn expectation(&self, schema: &Value) -> String {
        let core = self.core(schema);
        if let Some(values) = core.get("enum").and_then(Value::as_array) {
            let names: Vec<String> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            return format!("must be one of: {}", names.join(", "));
        }
        let ty = types(core);
        let format = core.get("format").and_then(Value::as_str);
        if ty.contains(&"string") {
            return match format {
                Some("uuid") => "must be a UUID".into(),
                Some("date-time") => DATE_TIME_MESSAGE.into(),
                Some("date") => DATE_MESSAGE.into(),
                Some("email") => "must be an e-mail address".into(),
                _ if core.get("pattern").is_some() => {
                    "must be a string in the form the schema gives".into()
                }
                _ => "must be a string".into(),
            };
        }
        if ty.contains(&"integer") {
            return format!("must be a whole number{}", bounds(core));
        }
        if ty.contains(&"number") {
            return format!("must be a number{}", bounds(core));
        }
        if ty.contains(&"boolean") {
            return "must be true or false".into();
        }
        if ty.contains(&"array") {
            return "must be an array".into();
        }
        if ty.contains(&"object") || core.get("properties").is_some() {
            return "must be an object".into();
        }
        "is not valid".into()
    }

    /// A value `schema` accepts, to stand in for a refused one while the rest is parsed.
    fn placeholder(&self, schema: &Value) -> Value {
        if self.nullable(schema) {
            return Value::Null;
        }
        let core = self.core(schema);
        if let Some(first) = core
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        if let Some(example) = core
            .get("examples")
            .and_then(Value::as_array)
            .and_then(|e| e.first())
            .or_else(|| core.get("example"))
        {
            return example.clone();
        }
        let ty = types(core);
        let format = core.get("format").and_then(Value::as_str);
        if ty.contains(&"string") {
            return Value::String(
                match format {
                    Some("uuid") => "00000000-0000-0000-0000-000000000000",
                    Some("date-time") => "2000-01-01T00:00:00Z",
                    Some("date") => "2000-01-01",
                    _ => "x",
                }
                .into(),
            );
        }
        if ty.contains(&"integer") || ty.contains(&"number") {
            let n = core
                .get("minimum")
                .and_then(Value::as_i64)
                .or_else(|| {
                    core.get("maximum")
                        .and_then(Value::as_i64)
                        .map(|m| m.min(0))
                })
                .unwrap_or(0);
            return Value::Number(n.into());
        }
        if ty.contains(&"boolean") {
            return Value::Bool(false);
        }
        if ty.contains(&"array") {
            return Value::Array(Vec::new());
        }
        let mut object = Map::new();
        if let Some(required) = core.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if let Some(prop) = self.property(core, name) {
                    object.insert(name.to_string(), self.placeholder(prop));
                }
            }
        }
        Value::Object(object)
    }
}

/// Schemas by type, and whether they are the type's query parameters.
type Cache = Mutex<HashMap<(TypeId, bool), Arc<Schemas>>>;

fn cached(key: (TypeId, bool), build: impl FnOnce() -> Schemas) -> Arc<Schemas> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return found.clone();
    }
    let built = Arc::new(build());
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(built)
        .clone()
}

/// The JSON types a schema allows, `null` aside.
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    }
}

fn bounds(schema: &Value) -> String {
    let num = |k: &str| {
        schema
            .get(k)
            .filter(|v| v.is_number())
            .map(Value::to_string)
    };
    match (num("minimum"), num("maximum")) {
        (Some(lo), Some(hi)) => format!(" from {lo} to {hi}"),
        (Some(lo), None) => format!(" of at least {lo}"),
        (None, Some(hi)) => format!(" of at most {hi}"),
        (None, None) => String::new(),
    }
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// An object's member.
    Key(String),
    /// An array's item.
    Index(usize),
}

/// A path as field errors name it: `address.city`, `items[2].name`.
fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether a field error at `field` is about `bad` or something inside it.
fn within(field: &str, bad: &str) -> bool {
    field == bad
        || field
            .strip_prefix(bad)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Where a request's values come from, which changes only the words of some errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Body,
    Query,
}

/// Collects the field errors of one request and what was mended to get past them.
#[derive(Debug)]
pub struct Checker {
    schemas: Arc<Schemas>,
    source: Source,
    errors: Vec<FieldError>,
    /// Fields already reported: later errors inside them (serde's, the validator's) are echoes.
    bad: Vec<String>,
}

impl Checker {
    /// A checker of a body against `schemas`.
    pub fn body(schemas: Arc<Schemas>) -> Checker {
        Checker {
            schemas,
            source: Source::Body,
            errors: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// Records an error found elsewhere (a duplicate key, a NUL character): its field counts as
    /// reported.
    pub fn adopt(&mut self, errors: Vec<FieldError>) {
        for e in errors {
            self.bad.push(e.field.clone());
            self.errors.push(e);
        }
    }

    /// Records an error at `path`, unless one was already recorded there (or around it): a
    /// value already refused (a key given twice, say) is not judged again.
    fn fail(&mut self, path: &[Seg], code: &str, message: impl Into<String>) {
        let field = match (path.is_empty(), self.source) {
            (false, _) => render(path),
            (true, Source::Body) => "body".to_string(),
            (true, Source::Query) => "query".to_string(),
        };
        if self.is_bad(&field) {
            return;
        }
        self.bad.push(field.clone());
        self.errors.push(FieldError::new(field, code, message));
    }

    fn unknown(&mut self, path: &[Seg]) {
        match self.source {
            Source::Body => self.fail(path, "unknown_field", "is not a field of this resource"),
            Source::Query => self.fail(
                path,
                "unknown_parameter",
                "is not a parameter of this endpoint",
            ),
        }
    }

    fn not_nullable(&mut self, schema: &Value, path: &[Seg]) {
        let message = format!(
            "cannot be null (it has no empty state); {}",
            self.schemas.expectation(schema)
        );
        self.fail(path, "not_nullable", message);
    }

    fn is_bad(&self, field: &str) -> bool {
        self.bad.iter().any(|b| within(field, b))
    }

    /// Checks `value` against `schema`; `false` (with the error recorded) when it is not valid.
    /// Valid values may be normalised on the way (`5.0` for an integer becomes `5`).
    fn value(&mut self, schema: &Value, value: &mut Value, path: &mut Vec<Seg>) -> bool {
        let schemas = self.schemas.clone();
        if value.is_null() {
            if schemas.nullable(schema) {
                return true;
            }
            self.not_nullable(schema, path);
            return false;
        }
        let schema = schemas.resolve(schema);
        if let Some(arms) = schemas.arms(schema) {
            return match arms.as_slice() {
                [] => true,
                [one] => self.value(one, value, path),
                many => {
                    // Several forms: valid if one of them takes it whole, without errors.
                    for arm in many {
                        let mut trial = Checker::body(schemas.clone());
                        trial.source = self.source;
                        let mut copy = value.clone();
                        if trial.value(arm, &mut copy, path) && trial.errors.is_empty() {
                            *value = copy;
                            return true;
                        }
                    }
                    self.fail(
                        path,
                        "invalid",
                        "does not match any of the forms the schema allows",
                    );
                    false
                }
            };
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut ok = true;
            for part in parts {
                ok &= self.value(part, value, path);
            }
            return ok;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if allowed.contains(value) {
                return true;
            }
            self.fail(path, "invalid", schemas.expectation(schema));
            return false;
        }
        let ty = types(schema);
        if ty.is_empty() {
            return match value {
                Value::Object(map) if schema.get("properties").is_some() => {
                    self.object(schema, map, path);
                    true
                }
                _ => true,
            };
        }
        let ok = match value {
            Value::Object(map) if ty.contains(&"object") => {
                self.object(schema, map, path);
                return true;
            }
            Value::Array(items) if ty.contains(&"array") => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter_mut().enumerate() {
                        path.push(Seg::Index(i));
                        if !self.value(item_schema, item, path) {
                            *item = schemas.placeholder(item_schema);
                        }
                        path.pop();
                    }
                }
                return true;
            }
            Value::String(s) if ty.contains(&"string") => {
                return self.string(schema, s, path);
            }
            Value::Bool(_) => ty.contains(&"boolean"),
            Value::Number(n) if ty.contains(&"integer") => match whole(n) {
                Some(i) => {
                    *value = i;
                    return self.range(schema, value, path);
                }
                None => ty.contains(&"number"),
            },
            Value::Number(_) if ty.contains(&"number") => return self.range(schema, value, path),
            _ => false,
        };
        if !ok {
            self.fail(path, "invalid", schemas.expectation(schema));
        }
        ok
    }

    fn range(&mut self, schema: &Value, value: &Value, path: &[Seg]) -> bool {
        let Some(n) = value.as_f64() else {
            return true;
        };
        let below = schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|lo| n < lo);
        let above = schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|hi| n > hi);
        if below || above {
            let message = self.schemas.expectation(schema);
            self.fail(path, "range", message);
            return false;
        }
        true
    }

    fn string(&mut self, schema: &Value, s: &mut String, path: &[Seg]) -> bool {
        // The lengths bind what is sent, counted as JSON Schema counts (characters), before a
        // format or a domain type normalises it: a phone number's punctuation is dropped on
        // parsing, but a client that keeps to the document's `maxLength` must be able to count
        // on the server refusing what breaks it, as the document says.
        let sent = s.chars().count();
        let verdict = match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => is_uuid(s)
                .then_some(())
                .ok_or(("invalid", "must be a UUID")),
            Some("date-time") => date_time(s).map(|normal| *s = normal),
            Some("date") => date(s),
            _ => Ok(()),
        };
        match verdict.map_err(|(code, message)| (code, message.to_string())) {
            Ok(()) => match length(schema, sent) {
                Ok(()) => true,
                Err(message) => {
                    self.fail(path, "length", message);
                    false
                }
            },
            Err((code, message)) => {
                self.fail(path, code, message);
                false
            }
        }
    }

    /// Checks each member of an object, removing what is refused (optional members) or
    /// standing in for it (required ones), and reports required members that are missing.
    fn object(&mut self, schema: &Value, map: &mut Map<String, Value>, path: &mut Vec<Seg>) {
        let schemas = self.schemas.clone();
        let closed = schemas.closed(schema);
        let names: Vec<String> = map.keys().cloned().collect();
        for name in names {
            path.push(Seg::Key(name.clone()));
            match schemas.property(schema, &name) {
                Some(prop) => {
                    let ok = map.get_mut(&name).is_none_or(|v| self.value(prop, v, path));
                    if !ok {
                        if schemas.required(schema, &name) {
                            map.insert(name.clone(), schemas.placeholder(prop));
                        } else {
                            map.remove(&name);
                        }
                    }
                }
                None if closed => {
                    self.unknown(path);
                    map.remove(&name);
                }
                None => {}
            }
            path.pop();
        }
        let required: Vec<String> = schemas
            .core(schema)
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        for name in required {
            if !map.contains_key(&name) {
                path.push(Seg::Key(name.clone()));
                self.fail(path, "required", "is required");
                path.pop();
                if let Some(prop) = schemas.property(schema, &name) {
                    map.insert(name, schemas.placeholder(prop));
                }
            }
        }
    }

    /// Checks the names and the nulls of a merge patch of the type: a name the type lacks is
    /// refused even with `null` (which applying the patch alone would silently drop), and `null`
    /// clears only a field whose schema allows it, never resetting one to a default. What is
    /// refused is taken out of the patch, so the rest can still be checked.
    pub fn patch(&mut self, map: &mut Map<String, Value>) {
        let schemas = self.schemas.clone();
        self.patch_object(schemas.root(), map, &mut Vec::new());
    }

    fn patch_object(&mut self, schema: &Value, map: &mut Map<String, Value>, path: &mut Vec<Seg>) {
        let schemas = self.schemas.clone();
        let names: Vec<String> = map.keys().cloned().collect();
        for name in names {
            path.push(Seg::Key(name.clone()));
            match (schemas.property(schema, &name), map.get_mut(&name)) {
                (None, _) if schemas.closed(schema) => {
                    self.unknown(path);
                    map.remove(&name);
                }
                (Some(prop), Some(Value::Null)) if !schemas.nullable(prop) => {
                    self.not_nullable(prop, path);
                    map.remove(&name);
                }
                (Some(prop), Some(Value::Object(inner))) if schemas.is_object(prop) => {
                    self.patch_object(prop, inner, path);
                }
                _ => {}
            }
            path.pop();
        }
    }

    /// Checks a whole body, builds `T` from it, and runs `T`'s validation on what parsed: every
    /// failure is a field error, and all of them are answered together.
    pub fn finish<T: DeserializeOwned + Validate>(
        mut self,
        mut value: Value,
    ) -> Result<T, ApiError> {
        let schemas = self.schemas.clone();
        if !value.is_object() && schemas.is_object(schemas.root()) {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        if !self.value(schemas.root(), &mut value, &mut Vec::new()) {
            return Err(ApiError::invalid(self.errors));
        }
        let parsed = self.parse(&mut value, |v| serde_path_to_error::deserialize::<_, T>(v));
        self.conclude(parsed)
    }

    /// Deserializes with `de`, and on each failure reports it, mends the value and tries again.
    fn parse<T, E: std::fmt::Display>(
        &mut self,
        value: &mut Value,
        de: impl Fn(&Value) -> Result<T, serde_path_to_error::Error<E>>,
    ) -> Option<T> {
        for _ in 0..MAX_ATTEMPTS {
            let e = match de(value) {
                Ok(parsed) => return Some(parsed),
                Err(e) => e,
            };
            let mut path = segments(e.path());
            let raw = e.inner().to_string();
            if let Some(name) = quoted(&raw, "missing field `") {
                path.push(Seg::Key(name));
                if !self.is_bad(&render(&path)) {
                    self.fail(&path, "required", "is required");
                }
                let placeholder = self.schemas.at(&path).map(|s| self.schemas.placeholder(s));
                if !set(value, &path, placeholder) {
                    return None;
                }
                continue;
            }
            if let Some(name) = quoted(&raw, "unknown field `") {
                if path.last() != Some(&Seg::Key(name.clone())) {
                    path.push(Seg::Key(name));
                }
                if !self.is_bad(&render(&path)) {
                    self.unknown(&path);
                }
                if !set(value, &path, None) {
                    return None;
                }
                continue;
            }
            if let Some(name) = quoted(&raw, "duplicate field `") {
                if path.last() != Some(&Seg::Key(name.clone())) {
                    path.push(Seg::Key(name));
                }
                if !self.is_bad(&render(&path)) {
                    self.fail(&path, "duplicate", "is given more than once");
                }
                return None;
            }
            let schemas = self.schemas.clone();
            let schema = schemas.at(&path);
            if !self.is_bad(&render(&path)) {
                let message = self.serde_message(schema, &raw);
                self.fail(&path, "invalid", message);
            }
            let required = match path.split_last() {
                Some((Seg::Key(name), parent)) => schemas
                    .at(parent)
                    .is_some_and(|p| schemas.required(p, name)),
                _ => true,
            };
            let replacement = if required {
                match schema.map(|s| schemas.placeholder(s)) {
                    Some(p) if lookup(value, &path) != Some(&p) => Some(p),
                    _ => return None,
                }
            } else {
                None
            };
            if !set(value, &path, replacement) {
                return None;
            }
        }
        None
    }

    /// The words for a value serde refused: the schema's, unless it is a domain type's own
    /// message (a string the schema cannot fully describe, such as an e-mail address).
    fn serde_message(&self, schema: Option<&Value>, raw: &str) -> String {
        let Some(schema) = schema else {
            return "is not valid".into();
        };
        let core = self.schemas.core(schema);
        let generic = [
            "invalid type",
            "invalid value",
            "invalid length",
            "unknown variant",
        ]
        .iter()
        .any(|p| raw.starts_with(p));
        let checked_format = matches!(
            core.get("format").and_then(Value::as_str),
            Some("uuid" | "date-time" | "date")
        );
        let plain_string = types(core) == ["string"] && core.get("enum").is_none();
        if plain_string && !checked_format && !generic && !raw.is_empty() {
            raw.to_string()
        } else {
            self.schemas.expectation(schema)
        }
    }

    /// Adds the validator's errors of the fields that parsed, and answers.
    fn conclude<T: Validate>(mut self, parsed: Option<T>) -> Result<T, ApiError> {
        if let Some(t) = &parsed {
            if let Err(e) = t.validate() {
                for err in validation_errors(&e) {
                    if !self.is_bad(&err.field) {
                        self.errors.push(err);
                    }
                }
            }
        }
        match parsed {
            Some(t) if self.errors.is_empty() => Ok(t),
            _ => {
                let mut errors = self.errors;
                if errors.is_empty() {
                    errors.push(FieldError::new("body", "invalid", "is not valid"));
                }
                errors.sort_by(|a, b| a.field.cmp(&b.field));
                errors.dedup_by(|a, b| a.field == b.field && a.code == b.code);
                Err(ApiError::invalid(errors))
            }
        }
    }
}

/// Checks a JSON body against `T`'s schema, then builds and validates `T`; `prior` are errors
/// already found in the document (duplicate keys, NUL characters), answered with the rest.
pub fn body<T>(value: Value, prior: Vec<FieldError>) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate + ToSchema + 'static,
{
    let mut checker = Checker::body(Schemas::of::<T>());
    checker.adopt(prior);
    checker.finish(value)
}

/// Checks a query string against `T`'s parameters, then builds and validates `T`. Unknown,
/// repeated, malformed and badly encoded parameters are all reported at once.
pub fn query<T>(qs: &str) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate + IntoParams + ToSchema + 'static,
{
    let schemas = Schemas::of_params::<T>();
    let mut checker = Checker {
        schemas: schemas.clone(),
        source: Source::Query,
        errors: Vec::new(),
        bad: Vec::new(),
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in qs.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let Some(key) = decode(raw_key) else {
            checker.fail(
                &[Seg::Key("query".into())],
                "invalid_encoding",
                "a parameter name is not valid percent-encoded UTF-8",
            );
            continue;
        };
        let Some(value) = decode(raw_value) else {
            checker.fail(
                &[Seg::Key(key.replace('\0', ""))],
                "invalid_encoding",
                "is not valid percent-encoded UTF-8",
            );
            continue;
        };
        if key.contains('\0') || value.contains('\0') {
            checker.fail(
                &[Seg::Key(key.replace('\0', ""))],
                "invalid",
                "must not contain NUL characters",
            );
            continue;
        }
        *seen.entry(key.clone()).or_default() += 1;
        pairs.push((key, value));
    }
    let root = schemas.root();
    let mut object = Map::new();
    for (key, raw) in pairs {
        let path = [Seg::Key(key.clone())];
        if checker.is_bad(&key) {
            continue;
        }
        let Some(schema) = schemas.property(root, &key) else {
            checker.unknown(&path);
            continue;
        };
        if seen.get(&key).copied().unwrap_or(0) > 1 {
            checker.fail(&path, "duplicate", "is given more than once");
            continue;
        }
        let mut value = typed(&schemas, schema, raw);
        if checker.value(schema, &mut value, &mut path.to_vec()) {
            object.insert(key, value);
        }
    }
    let mut path = Vec::new();
    let mut value = Value::Object(object);
    if let Value::Object(map) = &mut value {
        // Reports required parameters that are missing; nothing is malformed any more.
        checker.object(root, map, &mut path);
    }
    let parsed = checker.parse(&mut value, |v| {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if let Value::Object(map) = v {
            for (k, v) in map {
                match v {
                    Value::String(s) => form.append_pair(k, s),
                    other => form.append_pair(k, &other.to_string()),
                };
            }
        }
        let encoded = form.finish();
        serde_path_to_error::deserialize::<_, T>(serde_urlencoded::Deserializer::new(
            form_urlencoded::parse(encoded.as_bytes()),
        ))
    });
    checker.conclude(parsed)
}

/// A query string value as the JSON its schema's type reads it as; what does not read as that
/// type stays a string, for the check to refuse.
fn typed(schemas: &Schemas, schema: &Value, raw: String) -> Value {
    let core = schemas.core(schema);
    let ty = types(core);
    if ty.contains(&"integer") {
        if let Ok(i) = raw.parse::<i64>() {
            return Value::Number(i.into());
        }
    }
    if ty.contains(&"number") {
        if let Some(n) = raw.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    if ty.contains(&"boolean") {
        match raw.as_str() {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(raw)
}

/// Percent-decodes a query string component (`+` is a space); `None` when it is malformed or
/// not UTF-8.
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let digit = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                out.push(digit(hex[0]) * 16 + digit(hex[1]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A JSON number as an integer when it is whole (`5.0` is `5`, as JSON Schema counts it).
fn whole(n: &Number) -> Option<Value> {
    if n.is_i64() || n.is_u64() {
        return Some(Value::Number(n.clone()));
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then(|| Value::Number((f as i64).into()))
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Reads `n` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = b.get(at..at + n)?;
    part.iter()
        .all(u8::is_ascii_digit)
        .then(|| part.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// Checks an RFC 3339 full date (`2026-01-31`) in the allowed years.
/// Whether a string of `chars` characters keeps to the schema's `minLength` and `maxLength`;
/// the refusal in the words the validator uses for the same rule.
fn length(schema: &Value, chars: usize) -> Result<(), String> {
    let bound = |k: &str| schema.get(k).and_then(Value::as_u64);
    let n = chars as u64;
    match (bound("minLength"), bound("maxLength")) {
        (Some(lo), Some(hi)) if n < lo || n > hi => {
            Err(format!("must be {lo} to {hi} characters long"))
        }
        (Some(lo), None) if n < lo => Err(format!("must be at least {lo} characters long")),
        (None, Some(hi)) if n > hi => Err(format!("must be at most {hi} characters long")),
        _ => Ok(()),
    }
}

fn date(s: &str) -> Result<(), (&'static str, &'static str)> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return Err(("invalid", DATE_MESSAGE));
    }
    full_date(b).map_err(|code| {
        (
            code,
            if code == "range" {
                DATE_RANGE
            } else {
                DATE_MESSAGE
            },
        )
    })
}

fn full_date(b: &[u8]) -> Result<(), &'static str> {
    let shape = b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-');
    let (Some(y), Some(m), Some(d), true) =
        (digits(b, 0, 4), digits(b, 5, 2), digits(b, 8, 2), shape)
    else {
        return Err("invalid");
    };
    let year = i32::try_from(y).map_err(|_| "invalid")?;
    NaiveDate::from_ymd_opt(year, m, d).ok_or("invalid")?;
    if !YEARS.contains(&year) {
        return Err("range");
    }
    Ok(())
}

/// Checks an RFC 3339 timestamp in the allowed years; answers it with `T` and `Z` in capitals,
/// which every parser takes.
fn date_time(s: &str) -> Result<String, (&'static str, &'static str)> {
    let invalid = ("invalid", DATE_TIME_MESSAGE);
    let b = s.as_bytes();
    if b.len() < 20 {
        return Err(invalid);
    }
    let date = full_date(&b[..10]).map_err(|code| {
        if code == "range" {
            ("range", DATE_TIME_RANGE)
        } else {
            invalid
        }
    });
    if !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(invalid);
    }
    let (Some(h), Some(min), Some(sec)) = (digits(b, 11, 2), digits(b, 14, 2), digits(b, 17, 2))
    else {
        return Err(invalid);
    };
    if h > 23 || min > 59 || sec > 59 {
        return Err(invalid);
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(invalid);
        }
    }
    let zone = &b[i..];
    let zone_ok = match zone {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', ..] if zone.len() == 6 && zone[3] == b':' => {
            matches!((digits(zone, 1, 2), digits(zone, 4, 2)), (Some(zh), Some(zm)) if zh <= 23 && zm <= 59)
        }
        _ => false,
    };
    if !zone_ok {
        return Err(invalid);
    }
    date?;
    Ok(s.to_ascii_uppercase())
}

/// The text between `prefix` and the next backtick in a serde message.
fn quoted(message: &str, prefix: &str) -> Option<String> {
    message
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string)
}

fn segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

fn lookup<'a>(value: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, seg| match seg {
        Seg::Key(k) => v.get(k),
        Seg::Index(i) => v.get(i),
    })
}

/// Puts `replacement` at `path` (or removes the member when `None`); `false` when there is no
/// such place.
fn set(value: &mut Value, path: &[Seg], replacement: Option<Value>) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut target = value;
    for seg in parent {
        let next = match seg {
            Seg::Key(k) => target.get_mut(k),
            Seg::Index(i) => target.get_mut(*i),
        };
        let Some(next) = next else {
            return false;
        };
        target = next;
    }
    match (target, last, replacement) {
        (Value::Object(map), Seg::Key(k), Some(v)) => {
            map.insert(k.clone(), v);
            true
        }
        (Value::Object(map), Seg::Key(k), None) => map.remove(k).is_some(),
        (Value::Array(items), Seg::Index(i), Some(v)) if *i < items.len() => {
            items[*i] = v;
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{whole_i32_opt, Channel, E164Phone, Email, LanguageTag};
    use chrono::{DateTime, Utc};
    use serde::Deserialize;
    use serde_json::json;
    use uuid::Uuid;

    #[derive(Debug, Deserialize, ToSchema, Validate)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Place {
        /// A city.
        #[serde(default)]
        #[schema(min_length = 1, max_length = 10)]
        #[validate(length(min = 1, max = 10))]
        city: Option<String>,
    }

    #[derive(Debug, Deserialize, ToSchema, Validate)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        family_id: Uuid,
        channel: Channel,
        #[schema(min_length = 1, max_length = 20)]
        #[validate(length(min = 1, max = 20))]
        name: String,
        #[serde(default)]
        email: Option<Email>,
        #[serde(default)]
        phone: Option<E164Phone>,
        #[serde(default)]
        language: Option<LanguageTag>,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
        #[serde(default)]
        born: Option<NaiveDate>,
        #[serde(default)]
        flag: bool,
        #[serde(default, deserialize_with = "whole_i32_opt")]
        #[schema(minimum = 1, maximum = 5)]
        #[validate(range(min = 1, max = 5))]
        rating: Option<i32>,
        #[serde(default)]
        #[validate(nested)]
        place: Option<Place>,
        #[serde(default)]
        channels: Vec<Channel>,
    }

    #[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
    #[serde(deny_unknown_fields)]
    #[into_params(parameter_in = Query)]
    #[allow(dead_code)]
    struct SampleQuery {
        family_id: Option<Uuid>,
        channel: Option<Channel>,
        #[param(inline)]
        inline_channel: Option<Channel>,
        from: Option<DateTime<Utc>>,
        #[param(minimum = 1, maximum = 200)]
        limit: Option<u32>,
        flag: Option<bool>,
        #[param(value_type = Option<LanguageTag>)]
        language: Option<LanguageTag>,
        #[param(max_length = 5)]
        #[validate(length(max = 5))]
        q: Option<String>,
    }

    const VALID: &str = "0190a8f4-8b2c-7c3e-9d4f-0123456789ab";

    fn errors(result: Result<impl std::fmt::Debug, ApiError>) -> Vec<(String, String, String)> {
        match result {
            Err(ApiError::BadRequest { errors, .. }) => errors
                .into_iter()
                .map(|e| (e.field, e.code, e.message))
                .collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    fn fields_and_codes(errors: &[(String, String, String)]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|(f, c, _)| (f.as_str(), c.as_str()))
            .collect()
    }

    #[test]
    fn every_field_error_of_a_body_at_once_sorted_by_field() {
        let found = errors(body::<Sample>(
            json!({
                "family_id": "xyz",
                "channel": "fax",
                "name": "",
                "email": "ana@",
                "at": "+99999-01-01T00:00:00Z",
                "born": "0000-01-01",
                "flag": "yes",
                "rating": 9,
                "place": {"city": "", "zip": 1},
                "channels": ["sms", "fax"],
                "extra": 1
            }),
            Vec::new(),
        ));
        assert_eq!(
            fields_and_codes(&found),
            [
                ("at", "invalid"),
                ("born", "range"),
                ("channel", "invalid"),
                ("channels[1]", "invalid"),
                ("email", "invalid"),
                ("extra", "unknown_field"),
                ("family_id", "invalid"),
                ("flag", "invalid"),
                ("name", "length"),
                ("place.city", "length"),
                ("place.zip", "unknown_field"),
                ("rating", "range"),
            ]
        );
        let message = |field: &str| {
            found
                .iter()
                .find(|(f, _, _)| f == field)
                .map(|(_, _, m)| m.as_str())
                .unwrap()
        };
        assert_eq!(
            message("channel"),
            "must be one of: phone, email, sms, in_person, video, letter, portal"
        );
        assert_eq!(message("family_id"), "must be a UUID");
        assert_eq!(message("flag"), "must be true or false");
        assert_eq!(message("rating"), "must be a whole number from 1 to 5");
        assert_eq!(message("at"), DATE_TIME_MESSAGE);
        assert_eq!(message("born"), DATE_RANGE);
        assert_eq!(message("extra"), "is not a field of this resource");
        // A domain type's own message is ours, and kept.
        assert!(message("email").contains("not a valid e-mail address"));
    }

    #[test]
    fn missing_and_null_fields_are_named() {
        let found = errors(body::<Sample>(json!({}), Vec::new()));
        assert_eq!(
            fields_and_codes(&found),
            [
                ("channel", "required"),
                ("family_id", "required"),
                ("name", "required")
            ]
        );
        let found = errors(body::<Sample>(
            json!({"family_id": VALID, "channel": "sms", "name": null, "flag": null, "email": null}),
            Vec::new(),
        ));
        assert_eq!(
            fields_and_codes(&found),
            [("flag", "not_nullable"), ("name", "not_nullable")]
        );
        assert_eq!(
            found[0].2,
            "cannot be null (it has no empty state); must be true or false"
        );
    }

    #[test]
    fn valid_bodies_parse_and_whole_floats_are_integers() {
        let s: Sample = body(
            json!({
                "family_id": VALID.to_uppercase(),
                "channel": "sms",
                "name": "Ana",
                "rating": 5.0,
                "at": "2026-01-31t09:00:00.5+01:00",
                "born": "1900-01-01",
                "channels": ["sms"],
                "place": {"city": "Rome"}
            }),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(s.rating, Some(5));
        assert_eq!(s.at.unwrap().to_rfc3339(), "2026-01-31T08:00:00.500+00:00");
    }

    #[test]
    fn prior_problems_are_answered_with_the_rest_and_silence_their_echoes() {
        let prior = vec![FieldError::new(
            "name",
            "duplicate",
            "is given more than once",
        )];
        let found = errors(body::<Sample>(
            json!({"family_id": VALID, "channel": "sms", "name": "", "rating": 0}),
            prior,
        ));
        assert_eq!(
            fields_and_codes(&found),
            [("name", "duplicate"), ("rating", "range")]
        );
    }

    #[test]
    fn merge_patch_nulls_are_judged_by_the_schema() {
        let schemas = Schemas::of::<Sample>();
        let mut checker = Checker::body(schemas);
        let mut patch = json!({
            "flag": null,
            "email": null,
            "name": null,
            "place": {"city": null, "zip": null},
            "nope": null
        });
        checker.patch(patch.as_object_mut().unwrap());
        assert_eq!(patch, json!({"email": null, "place": {"city": null}}));
        let mut found: Vec<(String, String)> = checker
            .errors
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        found.sort();
        let want = [
            ("flag", "not_nullable"),
            ("name", "not_nullable"),
            ("nope", "unknown_field"),
            ("place.zip", "unknown_field"),
        ];
        assert_eq!(found, want.map(|(f, c)| (f.to_string(), c.to_string())));
    }

    #[test]
    fn every_query_error_at_once() {
        let found = errors(query::<SampleQuery>(
            "limit=abc&family_id=xyz&from=yesterday&channel=fax&inline_channel=fax&flag=soon&language=en_US&q=toolong&colour=red&limit=5&cursor=%zz",
        ));
        assert_eq!(
            fields_and_codes(&found),
            [
                ("channel", "invalid"),
                ("colour", "unknown_parameter"),
                ("cursor", "invalid_encoding"),
                ("family_id", "invalid"),
                ("flag", "invalid"),
                ("from", "invalid"),
                ("inline_channel", "invalid"),
                ("language", "invalid"),
                ("limit", "duplicate"),
                ("q", "length"),
            ]
        );
        let found = errors(query::<SampleQuery>("limit=abc"));
        assert_eq!(found[0].2, "must be a whole number from 1 to 200");
        let found = errors(query::<SampleQuery>("limit=0"));
        assert_eq!(found[0].1, "range");
        let found = errors(query::<SampleQuery>("from=%2B99999-01-01T00:00:00Z"));
        assert_eq!(found[0].0, "from");
        let found = errors(query::<SampleQuery>("from=1899-12-31T23:59:59Z"));
        assert_eq!(found[0].1, "range");
        let found = errors(query::<SampleQuery>("channel=fax"));
        assert!(found[0].2.starts_with("must be one of: phone, email"));
        let q: SampleQuery = query(&format!(
            "family_id={VALID}&channel=sms&from=2026-01-31T09:00:00%2B05:30&limit=7&flag=true&language=es-mx&q=a+b"
        ))
        .unwrap();
        assert_eq!(q.limit, Some(7));
        assert_eq!(q.q.as_deref(), Some("a b"));
        assert_eq!(q.language.unwrap().as_str(), "es-MX");
        assert!(query::<SampleQuery>("").is_ok());
    }

    /// Words that come from Rust types or parsers, not from the schema.
    const INTERNALS: [&str; 22] = [
        "invalid digit",
        "invalid type",
        "invalid value",
        "invalid length",
        "expected",
        "struct ",
        "variant",
        "missing field",
        "u32",
        "i32",
        "i64",
        "Uuid",
        "UUID parsing",
        "DateTime",
        "NaiveDate",
        "premature",
        "input contains",
        "out of range",
        "trailing",
        "Sample",
        "Place",
        "no possible",
    ];

    fn assert_no_internals(what: &str, result: Result<impl std::fmt::Debug, ApiError>) {
        let problem = match result {
            Err(e) => e.problem(),
            Ok(v) => panic!("{what}: accepted as {v:?}"),
        };
        let mut texts = vec![problem.detail.clone()];
        texts.extend(
            problem
                .errors
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.message),
        );
        for text in texts {
            for word in INTERNALS {
                assert!(!text.contains(word), "{what}: `{text}` shows `{word}`");
            }
        }
    }

    #[test]
    fn no_message_shows_rust_internals() {
        let base = json!({"family_id": VALID, "channel": "sms", "name": "Ana"});
        let with = |field: &str, value: Value| {
            let mut b = base.clone();
            b[field] = value;
            b
        };
        let bodies = [
            json!([1, 2]),
            json!("text"),
            json!(null),
            json!({}),
            with("family_id", json!("xyz")),
            with("family_id", json!(5)),
            with("family_id", json!("0190a8f48b2c7c3e9d4f0123456789ab")),
            with("channel", json!("fax")),
            with("channel", json!(5)),
            with("channel", json!({"a": 1})),
            with("name", json!(5)),
            with("name", json!(["a"])),
            with("email", json!(5)),
            with("email", json!("ana@")),
            with("phone", json!("CALL ME")),
            with("language", json!("en_US")),
            with("at", json!("+99999-01-01T00:00:00Z")),
            with("at", json!("0000-01-01T00:00:00Z")),
            with("at", json!("2026-01-31")),
            with("at", json!("2026-02-30T00:00:00Z")),
            with("at", json!("2026-01-31T09:00:00")),
            with("at", json!(1_700_000_000)),
            with("born", json!("2026-13-01")),
            with("born", json!("+2026-01-01")),
            with("born", json!(true)),
            with("flag", json!("yes")),
            with("flag", json!(1)),
            with("rating", json!("5")),
            with("rating", json!(5.5)),
            with("rating", json!(99_999_999_999_i64)),
            with("rating", json!(-1)),
            with("place", json!("Rome")),
            with("place", json!({"city": 5})),
            with("channels", json!("sms")),
            with("channels", json!([5])),
        ];
        for b in bodies {
            assert_no_internals(&b.to_string(), body::<Sample>(b.clone(), Vec::new()));
        }
        for q in [
            "limit=abc",
            "limit=-1",
            "limit=1.5",
            "limit=99999999999",
            "family_id=xyz",
            "from=yesterday",
            "from=%2B99999-01-01T00:00:00Z",
            "channel=soon",
            "inline_channel=soon",
            "flag=soon",
            "language=english1",
            "colour=red",
            "limit=1&limit=2",
            "q=%ff",
            "q=%",
        ] {
            assert_no_internals(q, query::<SampleQuery>(q));
        }
    }

    #[test]
    fn timestamps_and_dates_follow_rfc_3339_and_the_years_allowed() {
        let pattern = regex::Regex::new(DATE_TIME_PATTERN).unwrap();
        for ok in [
            "2026-01-31T09:00:00Z",
            "2026-01-31t09:00:00z",
            "2026-01-31T09:00:00.123456789Z",
            "2026-01-31T09:00:00.1234567891234Z",
            "2026-01-31T09:00:00+05:30",
            "2026-01-31T09:00:00-00:00",
            "1900-01-01T00:00:00Z",
            "2199-12-31T23:59:59Z",
            "2024-02-29T12:00:00Z",
        ] {
            let normal = date_time(ok).unwrap_or_else(|e| panic!("{ok}: {e:?}"));
            assert!(pattern.is_match(ok), "{ok}");
            serde_json::from_value::<DateTime<Utc>>(json!(normal))
                .unwrap_or_else(|e| panic!("{ok}: chrono refuses {normal}: {e}"));
        }
        for (bad, code) in [
            ("+99999-01-01T00:00:00Z", "invalid"),
            ("0000-01-01T00:00:00Z", "range"),
            ("1899-12-31T23:59:59Z", "range"),
            ("2200-01-01T00:00:00Z", "range"),
            ("2026-01-31 09:00:00Z", "invalid"),
            ("2026-01-31T09:00Z", "invalid"),
            ("2026-01-31T24:00:00Z", "invalid"),
            ("2026-01-31T09:00:60Z", "invalid"),
            ("2026-01-31T09:00:00", "invalid"),
            ("2026-01-31T09:00:00+0530", "invalid"),
            ("2026-01-31T09:00:00+24:00", "invalid"),
            ("2026-01-31T09:00:00.Z", "invalid"),
            ("2026-1-31T09:00:00Z", "invalid"),
            ("2026-01-31T09:00:00ZZ", "invalid"),
            ("２０２６-01-31T09:00:00Z", "invalid"),
            ("yesterday", "invalid"),
            ("", "invalid"),
        ] {
            assert_eq!(date_time(bad).map_err(|e| e.0), Err(code), "{bad}");
            assert!(!pattern.is_match(bad), "the pattern takes {bad}");
        }
        // Only the calendar is beyond the pattern: it takes a 30 February, the server does not.
        assert!(date_time("2026-02-30T00:00:00Z").is_err());

        let pattern = regex::Regex::new(DATE_PATTERN).unwrap();
        for ok in ["2026-01-31", "1900-01-01", "2199-12-31", "2024-02-29"] {
            assert_eq!(date(ok), Ok(()), "{ok}");
            assert!(pattern.is_match(ok), "{ok}");
            serde_json::from_value::<NaiveDate>(json!(ok)).unwrap();
        }
        for (bad, code) in [
            ("0000-01-01", "range"),
            ("1899-12-31", "range"),
            ("2200-01-01", "range"),
            ("+2026-01-01", "invalid"),
            ("2026-13-01", "invalid"),
            ("2026-01-31T00:00:00Z", "invalid"),
            ("26-01-31", "invalid"),
        ] {
            assert_eq!(date(bad).map_err(|e| e.0), Err(code), "{bad}");
            assert!(!pattern.is_match(bad), "the pattern takes {bad}");
        }
    }

    #[test]
    fn query_components_decode_strictly() {
        assert_eq!(decode("a+b%20c").as_deref(), Some("a b c"));
        assert_eq!(decode("%C3%A9").as_deref(), Some("é"));
        assert_eq!(decode("%"), None);
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%+1"), None);
        assert_eq!(decode("%ff"), None);
    }
}
