//! Answers for requests no handler took: 405 (with `Allow`) when the path exists under other
//! methods, else 404. The paths come from the OpenAPI document the handlers generate.

use actix_web::dev::ResourceDef;
use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::openapi::OpenApi;

use crate::error::ApiError;
use crate::AppState;

/// Path templates and the methods each answers.
pub struct RouteTable(Vec<(ResourceDef, Vec<String>)>);

impl RouteTable {
    /// Builds the table from the spec's paths.
    pub fn from_openapi(api: &OpenApi) -> Self {
        let mut routes = Vec::new();
        if let Ok(serde_json::Value::Object(paths)) = serde_json::to_value(&api.paths.paths) {
            for (path, item) in paths {
                let serde_json::Value::Object(ops) = item else {
                    continue;
                };
                let methods: Vec<String> = [
                    "get", "put", "post", "delete", "options", "head", "patch", "trace",
                ]
                .iter()
                .filter(|m| ops.contains_key(**m))
                .map(|m| m.to_ascii_uppercase())
                .collect();
                if !methods.is_empty() {
                    routes.push((ResourceDef::new(path.as_str()), methods));
                }
            }
        }
        RouteTable(routes)
    }

    /// The methods a path answers to, if any handler serves it.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let mut allowed: Vec<String> = Vec::new();
        for (def, methods) in &self.0 {
            if def.is_match(path) {
                allowed.extend(methods.iter().cloned());
            }
        }
        if allowed.is_empty() {
            return None;
        }
        allowed.sort();
        allowed.dedup();
        Some(allowed)
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
