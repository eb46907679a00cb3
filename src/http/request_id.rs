//! `X-Request-Id`: taken from the caller when sane, generated otherwise, echoed on every answer,
//! and available to error bodies and logs while the request is handled.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

/// The header's name.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Middleware: assigns the id and echoes it.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let value = HeaderValue::from_str(&id).ok();
    let mut res = REQUEST_ID.scope(id, next.call(req)).await?;
    if let Some(value) = value {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}

/// Middleware: an error answer that is not yet a problem document (a component's own, such as a
/// CORS refusal) becomes one, so every error a client sees has the same shape.
pub async fn problem_fallback(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    use actix_web::http::header::CONTENT_TYPE;
    use actix_web::ResponseError;
    let res = next.call(req).await?;
    let status = res.status();
    let is_problem = res.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes()
            .starts_with(crate::error::PROBLEM_JSON.as_bytes())
    });
    if !status.is_client_error() && !status.is_server_error() || is_problem {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let text = actix_web::body::to_bytes(res.into_body())
        .await
        .unwrap_or_default();
    // A short plain sentence from a client error is kept; anything else is not echoed.
    let detail = match std::str::from_utf8(&text) {
        Ok(t)
            if status.is_client_error() && !t.is_empty() && t.len() <= 200 && !t.contains('{') =>
        {
            t.to_string()
        }
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let problem = crate::error::ApiError::Status(status, detail).error_response();
    Ok(ServiceResponse::new(req, problem))
}
