//! A family's timeline: everything that happened with the family, newest first, as the caller
//! may see it.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use super::access::Viewer;
use super::communications::{self, is_time_key, parse_time_key, time_key, Communication};
use super::families::find_family;
use super::ReadErrors;
use crate::auth::{Caller, Scope};
use crate::domain::text_enum;
use crate::error::ApiError;
use crate::http::extract::Query;
use crate::http::pagination::{self, Page, PageRequest};
use crate::AppState;

pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(family_timeline);
}

text_enum! {
    /// What a timeline entry is.
    TimelineKind {
        /// A communication.
        Communication => "communication",
    }
}

/// One thing that happened with a family.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// What it is; the field of that name holds it.
    pub kind: TimelineKind,
    /// The item's id.
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The communication, for `kind: communication`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication: Option<Communication>,
}

/// Paging of a timeline.
#[derive(Debug, Deserialize, IntoParams, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A family's timeline
///
/// The family's communications, newest first, keyset-paginated; a guardian sees what they may
/// see of each. Scope: `communications:read`.
#[utoipa::path(
    tag = "families",
    params(("id" = Uuid, Path, description = "The family's id"), TimelineQuery),
    responses((status = 200, description = "A page of the timeline", body = Page<TimelineEntry>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/families/{id}/timeline")]
pub async fn family_timeline(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::CommunicationsRead)?;
    let q = query.0;
    let family = id.into_inner().to_string();
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), is_time_key)?;
    let today = state.clock.today();
    let result = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            find_family(conn, &viewer, &family)?;
            let after = page.after.as_deref().and_then(parse_time_key);
            let rows =
                communications::family_page(conn, &viewer, &family, after.as_ref(), page.fetch())?;
            let entries: Vec<(String, TimelineEntry)> = rows
                .into_iter()
                .map(|row| {
                    let key = time_key(row.occurred_at, &row.id);
                    let c = row.view();
                    (
                        key,
                        TimelineEntry {
                            kind: TimelineKind::Communication,
                            id: c.id,
                            at: c.occurred_at,
                            communication: Some(c),
                        },
                    )
                })
                .collect();
            Ok(page.finish(entries, |(key, _)| key.clone(), |(_, entry)| entry))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}
