//! The OpenAPI document: a base (info, security scheme, shared schemas) that the registered
//! handlers complete.

use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};
use crate::routes::concerns::ConcernFields;
use crate::routes::settings::SettingsInput;

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
    components(schemas(Problem, FieldError, ConcernFields, SettingsInput)),
    tags(
        (name = "families", description = "Households and their contact preferences."),
        (name = "guardians", description = "The adults of a family."),
        (name = "students", description = "The children of a family."),
        (name = "links", description = "Which adult stands in which relation to which child."),
        (name = "communications", description = "Every contact with a family, logged."),
        (name = "concerns", description = "What families and staff raise, worked from open to closed."),
        (name = "settings", description = "A school's settings."),
        (name = "audit", description = "Who wrote what, when and why; a student's access log."),
        (name = "changes", description = "Every create, update and archive, in commit order, for incremental sync."),
        (name = "me", description = "Who the token speaks for."),
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
/// Merge-patch schemas derived from the schema of what they edit, less the fixed fields.
const PATCHES: [(&str, &str, &[&str]); 6] = [
    ("FamilyPatch", "FamilyInput", &[]),
    ("GuardianPatch", "GuardianInput", &[]),
    ("StudentPatch", "StudentInput", &[]),
    ("LinkPatch", "LinkInput", &["guardian_id"]),
    ("CommunicationPatch", "CommunicationInput", &["family_id"]),
    ("ConcernPatch", "ConcernFields", &[]),
];

/// Final touches once the handlers are in: what the validators enforce but derives cannot say.
/// Bounded text gets the pattern of its validator, string query parameters refuse NUL, and each
/// merge-patch body is its resource's input schema with every field optional and the optional
/// ones nullable (`null` clears them), so the spec and the server agree on what is valid.
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
        for (patch, input, fixed) in PATCHES {
            if let Some(base) = schemas.get(input) {
                schemas.insert(patch.to_string(), merge_patch_schema(base, input, fixed));
            }
        }
    }
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

fn merge_patch_schema(base: &Value, input: &str, fixed: &[&str]) -> Value {
    let mut schema = base.clone();
    let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("required");
        obj.insert(
            "description".into(),
            json!(format!(
                "A JSON Merge Patch (RFC 7396) of `{input}`: any of its fields; `null` clears an optional one."
            )),
        );
    }
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for name in fixed {
            props.remove(*name);
        }
        for (name, prop) in props.iter_mut() {
            if !required.contains(&json!(name)) {
                nullable(prop);
            }
        }
    }
    schema
}

fn nullable(prop: &mut Value) {
    match prop.get("type").cloned() {
        Some(Value::String(t)) => prop["type"] = json!([t, "null"]),
        Some(Value::Array(mut types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
                prop["type"] = Value::Array(types);
            }
        }
        _ => {
            let has_null = prop["oneOf"]
                .as_array()
                .is_some_and(|o| o.iter().any(|s| s["type"] == "null"));
            if !has_null {
                *prop = json!({ "oneOf": [{ "type": "null" }, prop.clone()] });
            }
        }
    }
}

/// The document's component schemas, built once: what merge patches are checked against.
pub fn schemas() -> &'static Value {
    static SCHEMAS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    SCHEMAS.get_or_init(|| {
        serde_json::to_value(document())
            .ok()
            .and_then(|d| d.pointer("/components/schemas").cloned())
            .unwrap_or(Value::Null)
    })
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
