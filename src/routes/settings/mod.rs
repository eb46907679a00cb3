//! A school's settings: for now, the response targets of concerns by priority.

pub mod store;
pub mod wire;

use actix_web::{get, patch, web, HttpResponse};

pub use self::store::response_hours;
pub use self::wire::{ResponseHours, ResponseHoursPatch, Settings, SettingsInput, SettingsPatch};
use super::{single, ReadErrors, UpdateErrors};
use crate::auth::{Caller, Role, Scope};
use crate::db::{Action, Record};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{NoQuery, PatchBody};
use crate::http::merge_patch;
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(get_settings).service(update_settings);
}

/// Get the school's settings
///
/// Scope: `concerns:read` (staff).
#[utoipa::path(
    tag = "settings",
    responses(
        (status = 200, description = "The settings", body = Settings, headers(("ETag" = String, description = "Their version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/settings")]
pub async fn get_settings(
    _q: NoQuery,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsRead)?;
    if caller.role == Role::Guardian {
        return Err(ApiError::Forbidden("settings are for staff".into()));
    }
    let now = state.clock.now();
    let settings = state
        .db
        .read(move |conn| Ok(store::current(conn, &caller.school_id, now)?.view()))
        .await?;
    Ok(single(&settings, settings.version))
}

/// Change the school's settings
///
/// A JSON Merge Patch; changed response targets apply to concerns raised or re-prioritised
/// afterwards. Honours `If-Match`. Admins only.
/// Scope: `concerns:write` (role `admin`).
#[utoipa::path(
    tag = "settings",
    params(IfMatch),
    request_body(content = SettingsPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed settings", body = Settings, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/settings")]
pub async fn update_settings(
    _q: NoQuery,
    caller: Caller,
    state: web::Data<AppState>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ConcernsWrite)?;
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin may change the school's settings".into(),
        ));
    }
    let settings = state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            let stored = store::find(tx.conn(), &school)?;
            let current = stored
                .clone()
                .unwrap_or_else(|| store::SettingsRow::defaults(&school, tx.now()));
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            let saved = match stored {
                Some(row) => tx.revise(&row, Action::Update, |row| row.set(input))?,
                // A school's first change stores its row: to the change feed the record comes
                // into being, to the audit log the admin updated the settings. Another first
                // change that got in before this one is a lost race, as for a stored row (412).
                None => {
                    let mut row = current;
                    row.set(input);
                    row.bump(tx.now());
                    match tx.create_as(Action::Update, &row) {
                        Err(ApiError::Conflict(_)) => return Err(ApiError::PreconditionFailed),
                        other => other?,
                    }
                    row
                }
            };
            Ok(saved.view())
        })
        .await?;
    Ok(single(&settings, settings.version))
}
