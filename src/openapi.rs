//! The OpenAPI document: a base (info, security scheme, shared schemas) that the registered
//! handlers complete.

use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};
use crate::http::check::{DATE_PATTERN, DATE_TIME_PATTERN};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Liaison",
        description = "The system of record and JSON API for a school's family relations: families, \
guardians, students and the links between them, every contact with them, and the concerns they raise.\n\nEvery `/v1` request carries \
`Authorization: Bearer <JWT>`; each operation names the scope it needs. Errors are RFC 9457 \
`application/problem+json`. Lists are keyset-paginated with `limit` and `cursor`. Single \
resources carry `version` and an `ETag`; PATCH (JSON Merge Patch) and DELETE honour `If-Match`. \
Creating POSTs honour `Idempotency-Key`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Security),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "families", description = "Households and their contact preferences."),
        (name = "guardians", description = "The adults of a family."),
        (name = "students", description = "The children of a family."),
        (name = "links", description = "Which adult stands in which relation to which child."),
        (name = "communications", description = "Every contact with a family, logged."),
        (name = "concerns", description = "What families and staff raise, worked from open to closed."),
        (name = "settings", description = "A school's settings."),
        (name = "service", description = "Liveness, readiness and this document."),
    )
)]
struct Base;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut Document) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The base the handlers are added to.
fn base() -> Document {
    Base::openapi()
}

/// Free text (`plain_text`): not blank, no control characters but tab and line breaks.
const PLAIN_TEXT: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";
/// Identifiers (`identifier`): no white space at the ends, no control characters.
const IDENTIFIER: &str = r"^[^\s\u0000-\u001F\u007F-\u009F]([^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F])?$";
/// Query strings never carry NUL.
const NO_NUL: &str = r"^[^\u0000]*$";
/// The properties validated as identifiers rather than free text.
const IDENTIFIER_FIELDS: [&str; 2] = ["external_id", "grade_level"];

/// Final touches once the handlers are in: what the validators enforce but derives cannot say.
/// Bounded text gets the pattern of its validator, string query parameters refuse NUL, and
/// dates and times the pattern of the years the server takes, so the spec and the server agree
/// on what is valid.
fn finish(api: Document) -> Document {
    let Ok(mut doc) = serde_json::to_value(&api) else {
        return api;
    };
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            text_patterns(schema);
        }
    }
    date_patterns(&mut doc);
    if let Some(paths) = doc.pointer_mut("/paths").and_then(Value::as_object_mut) {
        for op in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|item| item.values_mut())
        {
            for param in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if param["in"] == "query" {
                    if let Some(schema) = param.get_mut("schema") {
                        if is_plain_string(schema) {
                            schema["pattern"] = json!(NO_NUL);
                        }
                    }
                }
            }
        }
    }
    serde_json::from_value(doc).unwrap_or(api)
}

fn is_plain_string(schema: &Value) -> bool {
    let string = schema["type"] == "string"
        || schema["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("string")));
    string
        && ["pattern", "format", "enum", "$ref"]
            .iter()
            .all(|k| schema.get(k).is_none())
}

fn text_patterns(schema: &mut Value) {
    let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, prop) in props.iter_mut() {
        if is_plain_string(prop) && prop.get("maxLength").is_some() {
            let pattern = if IDENTIFIER_FIELDS.contains(&name.as_str()) {
                IDENTIFIER
            } else {
                PLAIN_TEXT
            };
            prop["pattern"] = json!(pattern);
        }
    }
}

/// Puts on every `date-time` and `date` a client sends (request bodies, the schemas they refer
/// to, parameters) the pattern of what the server accepts: RFC 3339 with a four-digit year from
/// 1900 to 2199 as written (`http::check` enforces the same, driven by the same `format`).
/// Answers are left without it: a time taken as written in range may fall just outside it in
/// UTC (`1900-01-01T00:00:00+05:00` is answered as `1899-12-31T19:00:00Z`).
fn date_patterns(doc: &mut Value) {
    let mut sent: Vec<Value> = Vec::new();
    for op in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
    {
        for content in op["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flat_map(|c| c.values())
        {
            sent.push(content["schema"].clone());
        }
        for param in op["parameters"].as_array().into_iter().flatten() {
            sent.push(param["schema"].clone());
        }
    }
    let mut names = std::collections::BTreeSet::new();
    let mut pending: Vec<String> = Vec::new();
    sent.iter().for_each(|s| refs(s, &mut pending));
    while let Some(name) = pending.pop() {
        if names.insert(name.clone()) {
            refs(&doc["components"]["schemas"][&name], &mut pending);
        }
    }
    for name in names {
        if let Some(schema) = doc.pointer_mut(&format!("/components/schemas/{name}")) {
            add_date_patterns(schema);
        }
    }
    for op in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        // `get_mut`, not indexing: indexing would add the members it does not find.
        for content in op
            .pointer_mut("/requestBody/content")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|c| c.values_mut())
        {
            content.get_mut("schema").map(add_date_patterns);
        }
        for param in op
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            param.get_mut("schema").map(add_date_patterns);
        }
    }
}

/// The names of the component schemas `value` refers to.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                out.push(name.to_string());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Puts the date or time pattern on every `date-time` and `date` string within `value`.
fn add_date_patterns(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            let pattern = match map.get("format").and_then(Value::as_str) {
                Some("date-time") if string => Some(DATE_TIME_PATTERN),
                Some("date") if string => Some(DATE_PATTERN),
                _ => None,
            };
            if let Some(pattern) = pattern {
                map.insert("pattern".into(), json!(pattern));
            }
            for (key, inner) in map.iter_mut() {
                // Examples and defaults are data, not schemas.
                if !matches!(key.as_str(), "example" | "examples" | "enum" | "default") {
                    add_date_patterns(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(add_date_patterns),
        _ => {}
    }
}

/// The complete document, as `/v1/openapi.json` serves it; built once per process.
pub fn document() -> Document {
    static DOCUMENT: std::sync::OnceLock<Document> = std::sync::OnceLock::new();
    DOCUMENT
        .get_or_init(|| {
            let (_, api) = actix_web::App::new()
                .into_utoipa_app()
                .openapi(base())
                .configure(crate::routes::configure)
                .split_for_parts();
            finish(api)
        })
        .clone()
}

/// The document as pretty JSON, as committed in `openapi/v1.json`.
pub fn to_json(api: &Document) -> String {
    api.to_pretty_json().unwrap_or_default()
}
