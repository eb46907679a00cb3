//! What the OpenAPI document the handlers generate says about each route, for the answers no
//! handler gives: 405 (with `Allow`) when the path exists under other methods, else 404; the
//! query parameters each operation takes (see `precheck`); and which path parameter of a
//! request is malformed.

use actix_web::dev::ResourceDef;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::error::{ApiError, FieldError};
use crate::AppState;

/// An example in messages about ids.
const EXAMPLE_UUID: &str = "0192d4a8-7c3e-7b41-9a2f-5e8d1c6b3a70";

/// One path template of the document.
struct Route {
    def: ResourceDef,
    /// The template's text before its first parameter, and its number of segments: a cheap
    /// test that rules out most routes before the pattern match proper.
    prefix: String,
    segments: usize,
    /// Each path parameter and the `format` of its schema, if any.
    path_params: Vec<(String, Option<String>)>,
    /// Each method (upper case) and the names of the query parameters it declares.
    operations: Vec<(String, Vec<String>)>,
}

/// Path templates, their methods and parameters.
pub struct RouteTable(Vec<Route>);

impl RouteTable {
    /// Builds the table from the document's `paths`.
    pub fn from_paths(paths: &Value) -> Self {
        let mut routes = Vec::new();
        let Value::Object(paths) = paths else {
            return RouteTable(routes);
        };
        for (path, item) in paths {
            let Value::Object(item) = item else {
                continue;
            };
            let shared = item.get("parameters");
            let mut path_params: Vec<(String, Option<String>)> = Vec::new();
            let mut operations = Vec::new();
            for method in [
                "get", "put", "post", "delete", "options", "head", "patch", "trace",
            ] {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let params = [shared, op.get("parameters")]
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_array)
                    .flatten();
                let mut query = Vec::new();
                for p in params {
                    let Some(name) = p["name"].as_str() else {
                        continue;
                    };
                    match p["in"].as_str() {
                        Some("query") => query.push(name.to_string()),
                        Some("path") if !path_params.iter().any(|(n, _)| n == name) => {
                            let format = p["schema"]["format"].as_str().map(str::to_string);
                            path_params.push((name.to_string(), format));
                        }
                        _ => {}
                    }
                }
                operations.push((method.to_ascii_uppercase(), query));
            }
            if !operations.is_empty() {
                routes.push(Route {
                    def: ResourceDef::new(path.as_str()),
                    prefix: path.split('{').next().unwrap_or_default().to_string(),
                    segments: path.matches('/').count(),
                    path_params,
                    operations,
                });
            }
        }
        RouteTable(routes)
    }

    /// The routes whose template matches `path`.
    fn matching(&self, path: &str) -> Vec<&Route> {
        let segments = path.matches('/').count();
        self.0
            .iter()
            .filter(|r| {
                r.segments == segments
                    && path.starts_with(r.prefix.as_str())
                    && r.def.is_match(path)
            })
            .collect()
    }

    /// The methods a path answers to, if any handler serves it.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = self
            .matching(path)
            .into_iter()
            .flat_map(|r| r.operations.iter().map(|(m, _)| m.clone()))
            .collect();
        if allowed.is_empty() {
            return None;
        }
        allowed.sort();
        allowed.dedup();
        Some(allowed)
    }

    /// The query parameters the operation `method path` declares; `None` when the document has
    /// no such operation (the router then answers 404 or 405).
    pub fn query_params(&self, method: &str, path: &str) -> Option<Vec<&str>> {
        let mut found = None;
        for route in self.matching(path) {
            for (m, params) in &route.operations {
                if m == method {
                    found
                        .get_or_insert_with(Vec::new)
                        .extend(params.iter().map(String::as_str));
                }
            }
        }
        found
    }

    /// Why the path parameters of `req` do not parse: each one whose value does not have its
    /// declared format, named, in plain words.
    pub fn path_error(&self, req: &HttpRequest) -> ApiError {
        let declared: Vec<&(String, Option<String>)> = self
            .matching(req.path())
            .into_iter()
            .flat_map(|r| r.path_params.iter())
            .collect();
        let mut errors = Vec::new();
        for (name, value) in req.match_info().iter() {
            let format = declared
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, f)| f.as_deref());
            if format == Some("uuid") && uuid::Uuid::parse_str(value).is_err() {
                errors.push(FieldError::new(
                    name,
                    "invalid",
                    format!("must be a UUID such as {EXAMPLE_UUID}"),
                ));
            }
        }
        if errors.is_empty() {
            // Nothing the document describes explains it: name the parameters, say no more.
            let names: Vec<&str> = req.match_info().iter().map(|(n, _)| n).collect();
            errors.push(FieldError::new(
                names.first().copied().unwrap_or("path"),
                "invalid",
                "is malformed",
            ));
        }
        ApiError::invalid(errors)
    }
}

/// The `PathConfig` error handler: a path parameter that does not parse is a 400 naming it.
pub fn path_error(req: &HttpRequest) -> ApiError {
    match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.routes.path_error(req),
        None => ApiError::field("path", "invalid", "is malformed"),
    }
}

/// The default service.
pub async fn fallback(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Err(match state.routes.allowed(req.path()) {
        Some(methods) => ApiError::MethodNotAllowed(methods),
        None => ApiError::NotFound,
    })
}
