//! Liveness and readiness.

use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::extract::NoQuery;
use crate::AppState;

/// The service's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(healthz).service(readyz);
}

/// The process is up. Needs no token.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "The process is up", body = Health),
        (status = 400, description = "Unexpected query parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/healthz")]
pub async fn healthz(_q: NoQuery) -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// The database answers. Needs no token.
#[utoipa::path(
    tag = "service",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 400, description = "Unexpected query parameters", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(_q: NoQuery, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state
        .db
        .read(|conn| {
            conn.batch_execute("SELECT 1").map_err(|e| {
                log::warn!("readiness check failed: {e}");
                ApiError::Unavailable
            })
        })
        .await
        .map_err(|e| match e {
            ApiError::Internal(_) => ApiError::Unavailable,
            other => other,
        })?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok".into(),
    }))
}
