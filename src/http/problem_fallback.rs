//! Every error answer is a problem document: a middleware that turns the error answers a
//! component makes on its own (a refused CORS preflight, …) into one.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::Error;

/// Middleware: an error answer that is not yet a problem document (a component's own, such as a
/// CORS refusal) becomes one, so every error a client sees has the same shape.
pub async fn middleware(
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
    // The token endpoint answers in OAuth's own error format (RFC 6749 §5.2), which its
    // clients' libraries read.
    let oauth = res.request().path() == crate::routes::clients::token::TOKEN_PATH;
    if !status.is_client_error() && !status.is_server_error() || is_problem || oauth {
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
