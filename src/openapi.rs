//! The OpenAPI document: a base (info, security scheme, shared schemas) that the registered
//! handlers complete.

use serde_json::{json, Value};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes as OAuthScopes,
    SecurityScheme,
};
use utoipa::openapi::OpenApi as Document;

use crate::http::routing::RouteTable;
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};
use crate::http::check::{DATE_PATTERN, DATE_TIME_PATTERN};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Liaison",
        description = "The system of record and JSON API for a school's family relations: families, \
guardians, students and the links between them, every contact with them, the concerns they raise, \
the notes staff and parents write together around a student's IEP, and the admissions pipeline \
that brings new families in.\n\nEvery `/v1` request carries \
`Authorization: Bearer <JWT>`; each operation names the scope it needs. Machines (service \
accounts) get such a token from `POST /oauth/token` with the OAuth 2 client credentials grant. \
Each caller has per-process quotas of reads, writes and imports: every `/v1` answer carries \
`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy`, and a spent \
quota is a `429` (`rate-limited`) with `Retry-After`. Errors are RFC 9457 \
`application/problem+json`. Lists are keyset-paginated with `limit` and `cursor`. Single \
resources carry `version` and an `ETag`; PATCH (JSON Merge Patch) and DELETE honour `If-Match`. \
Creating POSTs honour `Idempotency-Key`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Security),
    components(schemas(Problem, FieldError, crate::routes::imports::ImportProblem)),
    tags(
        (name = "families", description = "Households and their contact preferences."),
        (name = "guardians", description = "The adults of a family."),
        (name = "students", description = "The children of a family."),
        (name = "links", description = "Which adult stands in which relation to which child."),
        (name = "communications", description = "Every contact with a family, logged."),
        (name = "concerns", description = "What families and staff raise, worked from open to closed."),
        (name = "iep", description = "Notes that staff and parents write together around a student's IEP, with action items; every read is audited."),
        (name = "events", description = "Workshops, meetings, family nights, conferences, open houses, home visits and volunteer shifts: RSVPs, attendance, feedback, conference slots and bookings."),
        (name = "resources", description = "The school's directory of community services."),
        (name = "referrals", description = "Families connected to community resources, followed up to an outcome."),
        (name = "settings", description = "A school's settings."),
        (name = "admissions", description = "The admissions pipeline: stages, applicants, enrolment and the funnel."),
        (name = "audit", description = "Who wrote what, when and why; a student's access log."),
        (name = "changes", description = "Every create, update and archive, in commit order, for incremental sync."),
        (name = "me", description = "Who the token speaks for."),
        (name = "clients", description = "Service accounts: machines that get tokens with a client id and secret."),
        (name = "oauth", description = "The OAuth 2 token endpoint (client credentials) for service accounts."),
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
        // The same tokens, as service accounts get them: every operation's `bearer` also takes
        // a token from `/oauth/token`, with the scopes the operation names.
        let scopes = OAuthScopes::from_iter(
            crate::auth::Scope::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), scope_description(*s).to_string())),
        );
        components.add_security_scheme(
            "client_credentials",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    scopes,
                ))],
                "Service accounts (`liaison client create`, `POST /v1/clients`) exchange their \
                 client id and secret for a bearer token at `/oauth/token`.",
            )),
        );
    }
}

/// What a scope lets a token do, for the OAuth 2 security scheme.
fn scope_description(scope: crate::auth::Scope) -> &'static str {
    use crate::auth::Scope::*;
    match scope {
        FamiliesRead => "Read families, guardians, students and their links",
        FamiliesWrite => "Create, change and archive families, guardians, students and links",
        CommunicationsRead => "Read communications",
        CommunicationsWrite => "Log and change communications",
        ConcernsRead => "Read concerns",
        ConcernsWrite => "Raise and work concerns",
        IepRead => "Read IEP notes",
        IepWrite => "Write IEP notes",
        AdmissionsRead => "Read admissions",
        AdmissionsWrite => "Work admissions",
        AdmissionsConfigure => "Configure the admissions pipeline",
        EngagementRead => "Read events, resources and referrals",
        EngagementWrite => "Run events and referrals",
        ReportsRead => "Read reports",
        ImportsWrite => "Run bulk imports",
        AuditRead => "Read the audit log",
        ChangesRead => "Follow the change feed",
        ClientsWrite => "Create and revoke service accounts",
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
const IDENTIFIER_FIELDS: [&str; 7] = [
    "external_id",
    "grade_level",
    "applying_for_grade",
    "entry_term",
    "family_external_id",
    "student_external_id",
    "stage",
];

/// Final touches once the handlers are in: what the validators enforce but derives cannot say.
/// Bounded text gets the pattern of its validator, string query parameters refuse NUL, and
/// dates and times the pattern of the years the server takes, so the spec and the server agree
/// on what is valid.
fn finish(api: Document) -> Document {
    let Ok(mut doc) = serde_json::to_value(&api) else {
        return api;
    };
    refer_to_components(&mut doc);
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
    declare_response_headers(&mut doc);
    require_what_responses_send(&mut doc);
    serde_json::from_value(doc).unwrap_or(api)
}

/// Where utoipa inlined an object schema that is also a component (it always inlines generic
/// arguments, so every `Page<T>` carried a copy of `T`), it becomes a `$ref` to that component,
/// so that a generated client has one class per resource, not a second one for list items.
/// Only an exact and unique match is replaced.
fn refer_to_components(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return;
    };
    let named: Vec<(String, Value)> = schemas
        .iter()
        .filter(|(_, schema)| schema.get("properties").is_some())
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect();
    // Below each component (not the component itself, which would refer to itself) and
    // everywhere in the operations.
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            refer_below(schema, &named);
        }
    }
    if let Some(paths) = doc.get_mut("paths") {
        refer_below(paths, &named);
    }
}

fn refer_below(value: &mut Value, named: &[(String, Value)]) {
    let children: Box<dyn Iterator<Item = &mut Value>> = match value {
        Value::Object(map) => Box::new(map.values_mut()),
        Value::Array(items) => Box::new(items.iter_mut()),
        _ => return,
    };
    for child in children {
        let mut same = named.iter().filter(|(_, schema)| schema == child);
        match (child.get("properties"), same.next(), same.next()) {
            (Some(_), Some((name, _)), None) => {
                *child = json!({ "$ref": format!("#/components/schemas/{name}") });
            }
            _ => refer_below(child, named),
        }
    }
}

/// Headers of every answer: `X-Request-Id` on all of them (errors too), on the 200 of a list
/// (an answer whose body is a page: `data` and `next_cursor`) the `Link` to the next page, and
/// on the 201 of a create that takes an `Idempotency-Key` (the 200 of an import) the
/// `Idempotent-Replayed` of a retry.
fn declare_response_headers(doc: &mut Value) {
    let pages: Vec<String> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, schema)| {
            schema.pointer("/properties/data/type") == Some(&json!("array"))
                && schema.pointer("/properties/next_cursor").is_some()
        })
        .map(|(name, _)| format!("#/components/schemas/{name}"))
        .collect();
    let request_id = json!({
        "description": "The caller's `X-Request-Id` if 1 to 128 visible ASCII characters, \
            else one made here; quoted in problem documents.",
        "schema": { "type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$" }
    });
    let link = json!({
        "description": "RFC 8288 link to the next page, `<path?query>; rel=\"next\"` (the same \
            query with the `cursor` of `next_cursor`); present only when there is a next page.",
        "schema": { "type": "string" }
    });
    let replayed = json!({
        "description": "`true` when this is the stored answer to an earlier request with the \
            same `Idempotency-Key` and body; absent on the first answer.",
        "schema": { "type": "string", "enum": ["true"] }
    });
    for op in operations(doc) {
        let idempotent = op["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        let responses_201 = responses.contains_key("201");
        for (status, response) in responses.iter_mut() {
            let is_page = status == "200"
                && response
                    .pointer("/content/application~1json/schema/$ref")
                    .and_then(Value::as_str)
                    .is_some_and(|r| pages.iter().any(|p| p == r));
            let Some(response) = response.as_object_mut() else {
                continue;
            };
            let headers = response.entry("headers").or_insert_with(|| json!({}));
            headers["X-Request-Id"] = request_id.clone();
            if is_page {
                headers["Link"] = link.clone();
            }
            if idempotent && (status == "201" || (status == "200" && !responses_201)) {
                headers["Idempotent-Replayed"] = replayed.clone();
            }
        }
    }
}

/// Every operation object of the document.
fn operations(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc.pointer_mut("/paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// In a schema only answers use, a property that may be `null` is always sent (the server
/// writes `null` rather than leaving it out; what it leaves out is declared not nullable), so
/// it is required: a generated client then reads `str | None` instead of `str | None | Unset`.
/// Schemas that requests use too keep their optional fields, which a client may leave out.
fn require_what_responses_send(doc: &mut Value) {
    let mut in_requests = Vec::new();
    let mut in_responses = Vec::new();
    for op in operations(doc) {
        referenced(op.get("requestBody"), &mut in_requests);
        referenced(op.get("parameters"), &mut in_requests);
        referenced(op.get("responses"), &mut in_responses);
    }
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for names in [&mut in_requests, &mut in_responses] {
        let mut i = 0;
        while i < names.len() {
            let more = {
                let mut found = Vec::new();
                referenced(schemas.get(&names[i]), &mut found);
                found
            };
            for name in more {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            i += 1;
        }
    }
    for name in in_responses.iter().filter(|n| !in_requests.contains(n)) {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        let always: Vec<Value> = schema["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, prop)| admits_null(prop))
            .map(|(prop, _)| json!(prop))
            .collect();
        if always.is_empty() {
            continue;
        }
        let required = schema
            .as_object_mut()
            .map(|s| s.entry("required").or_insert_with(|| json!([])));
        if let Some(Value::Array(required)) = required {
            for prop in always {
                if !required.contains(&prop) {
                    required.push(prop);
                }
            }
        }
    }
}

/// The names of the component schemas `value` refers to, added to `out`.
fn referenced(value: Option<&Value>, out: &mut Vec<String>) {
    match value {
        Some(Value::Object(map)) => {
            for (key, child) in map {
                let name = child
                    .as_str()
                    .filter(|_| key == "$ref")
                    .and_then(|r| r.strip_prefix("#/components/schemas/"));
                match name {
                    Some(name) if !out.iter().any(|n| n == name) => out.push(name.to_string()),
                    Some(_) => {}
                    None => referenced(Some(child), out),
                }
            }
        }
        Some(Value::Array(items)) => {
            for item in items {
                referenced(Some(item), out);
            }
        }
        _ => {}
    }
}

/// Whether a property's schema allows `null`.
fn admits_null(prop: &Value) -> bool {
    prop["type"] == "null"
        || prop["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null")))
        || prop["oneOf"]
            .as_array()
            .is_some_and(|arms| arms.iter().any(|arm| arm["type"] == "null"))
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

/// The complete document, as `/v1/openapi.json` serves it. Built anew on each call: the server
/// keeps only what it needs of it (see [`json`] and [`routes`]).
pub fn document() -> Document {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(|cfg| crate::routes::configure(cfg))
        .split_for_parts();
    finish(api)
}

/// The document as committed in `openapi/v1.json`; a test keeps it equal to what [`document`]
/// builds from the handlers.
const COMMITTED: &str = include_str!("../openapi/v1.json");

/// What the server keeps of the document: its JSON and the route table derived from it.
/// Both are made from the committed file: building the document from the handlers at startup
/// (utoipa's tree of every path and schema, then its serialization) raised the server's peak
/// RSS by some 35 MiB that the allocator kept for the life of the process.
struct Built {
    json: &'static str,
    routes: RouteTable,
}

fn built() -> &'static Built {
    /// The part of the document the route table is made from; the rest is skipped unread
    /// (a tree of the whole document was several MiB at its peak).
    #[derive(serde::Deserialize)]
    struct Paths {
        paths: Value,
    }
    static BUILT: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let paths = serde_json::from_str::<Paths>(COMMITTED).map_or(Value::Null, |d| d.paths);
        Built {
            json: COMMITTED,
            routes: RouteTable::from_paths(&paths),
        }
    })
}

/// The document as `/v1/openapi.json` serves it: the committed file.
pub fn json() -> &'static str {
    built().json
}

/// The route table of the document's paths; built once per process.
pub fn routes() -> &'static RouteTable {
    &built().routes
}

/// The document as pretty JSON, as committed in `openapi/v1.json`.
pub fn to_json(api: &Document) -> String {
    api.to_pretty_json().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every `#/components/schemas/X` the document names, anywhere in it.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => out.push(r.clone()),
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    /// A schema named by a response set (`IntoResponses`) is not collected by utoipa on its own:
    /// a dangling `$ref` makes the document invalid for every client generator.
    #[test]
    fn every_reference_in_the_document_resolves() {
        let doc: Value = serde_json::from_str(super::json()).unwrap_or(Value::Null);
        let schemas = &doc["components"]["schemas"];
        assert!(schemas.is_object());
        let mut found = Vec::new();
        refs(&doc, &mut found);
        let dangling: Vec<&String> = found
            .iter()
            .filter(|r| {
                r.strip_prefix("#/components/schemas/")
                    .is_none_or(|name| schemas.get(name).is_none())
            })
            .collect();
        assert!(dangling.is_empty(), "{dangling:?}");
    }
}
