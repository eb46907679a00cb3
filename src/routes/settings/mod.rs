//! A school's settings: for now, the response targets of concerns by priority.

use actix_web::{get, patch, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{single, utc, ReadErrors, UpdateErrors};
use crate::auth::{Caller, Role, Scope};
use crate::db::schema::school_settings as ss;
use crate::db::DbConnection;
use crate::domain::whole_i32;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::extract::{NoQuery, PatchBody};
use crate::http::merge_patch;
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_settings).service(update_settings);
}

/// Hours within which a concern of each priority must get a first response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ResponseHours {
    /// For `urgent` concerns (default 4).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub urgent: i32,
    /// For `high` concerns (default 24).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub high: i32,
    /// For `normal` concerns (default 72).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub normal: i32,
    /// For `low` concerns (default 168, seven days).
    #[schema(minimum = 1, maximum = 2160)]
    #[validate(range(min = 1, max = 2160))]
    #[serde(deserialize_with = "whole_i32")]
    pub low: i32,
}

impl Default for ResponseHours {
    fn default() -> Self {
        ResponseHours {
            urgent: 4,
            high: 24,
            normal: 72,
            low: 168,
        }
    }
}

/// The editable settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Response targets of concerns, in hours, by priority.
    #[validate(nested)]
    pub concern_response_hours: ResponseHours,
}

/// A merge patch of the settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SettingsPatch {
    /// Any of `urgent`, `high`, `normal`, `low`, in hours (1 to 2160).
    #[serde(default)]
    concern_response_hours: ResponseHoursPatch,
}

/// A merge patch of the response targets: the ones given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ResponseHoursPatch {
    /// Hours for `urgent`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    urgent: i32,
    /// Hours for `high`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    high: i32,
    /// Hours for `normal`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    normal: i32,
    /// Hours for `low`.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 2160)]
    low: i32,
}

/// The school's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    /// Response targets of concerns, in hours, by priority.
    pub concern_response_hours: ResponseHours,
    /// Increases with every change (0: never changed, the defaults); the `ETag`.
    pub version: i64,
    /// When they last changed (`null`: never).
    pub updated_at: Option<DateTime<Utc>>,
}

type Row = (i32, i32, i32, i32, i64, NaiveDateTime);

fn load(conn: &mut DbConnection, school: &str) -> QueryResult<Option<Row>> {
    ss::table
        .filter(ss::school_id.eq(school))
        .select((
            ss::urgent_response_hours,
            ss::high_response_hours,
            ss::normal_response_hours,
            ss::low_response_hours,
            ss::version,
            ss::updated_at,
        ))
        .first(conn)
        .optional()
}

fn view(row: Option<Row>) -> Settings {
    match row {
        None => Settings {
            concern_response_hours: ResponseHours::default(),
            version: 0,
            updated_at: None,
        },
        Some((urgent, high, normal, low, version, at)) => Settings {
            concern_response_hours: ResponseHours {
                urgent,
                high,
                normal,
                low,
            },
            version,
            updated_at: Some(utc(at)),
        },
    }
}

/// The school's response targets (the defaults when it set none).
pub fn response_hours(conn: &mut DbConnection, school: &str) -> QueryResult<ResponseHours> {
    Ok(view(load(conn, school)?).concern_response_hours)
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
    let settings = state
        .db
        .read(move |conn| Ok(view(load(conn, &caller.school_id)?)))
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
    let now = state.clock.now();
    let settings = state
        .db
        .legacy_write(move |conn| {
            let school = caller.school_id.as_str();
            let row = load(conn, school)?;
            let current = view(row);
            if_match.check(current.version)?;
            let input = SettingsInput {
                concern_response_hours: current.concern_response_hours,
            };
            let Some(next) = merge_patch::merge_into(&input, patch.0)? else {
                return Ok(current);
            };
            let h = next.concern_response_hours;
            let values = (
                ss::urgent_response_hours.eq(h.urgent),
                ss::high_response_hours.eq(h.high),
                ss::normal_response_hours.eq(h.normal),
                ss::low_response_hours.eq(h.low),
                ss::version.eq(current.version + 1),
                ss::updated_at.eq(now),
            );
            if current.version == 0 {
                diesel::insert_into(ss::table)
                    .values((ss::school_id.eq(school), values))
                    .execute(conn)?;
            } else {
                let n = diesel::update(
                    ss::table
                        .filter(ss::school_id.eq(school))
                        .filter(ss::version.eq(current.version)),
                )
                .set(values)
                .execute(conn)?;
                if n != 1 {
                    return Err(ApiError::PreconditionFailed);
                }
            }
            Ok(Settings {
                concern_response_hours: h,
                version: current.version + 1,
                updated_at: Some(utc(now)),
            })
        })
        .await?;
    Ok(single(&settings, settings.version))
}
