//! `GET /v1/me`: who the token speaks for.

pub mod store;
pub mod wire;

use actix_web::{get, web, HttpResponse};

use self::store::students_among;
pub use self::wire::Me;
use crate::auth::policy::Viewer;
use crate::auth::{Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::http::extract::NoQuery;
use crate::routes::students::store::StudentRow;
use crate::routes::{families, guardians};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(get_me);
}

/// Who am I
///
/// The token's `sub`, role, school and effective scopes. For a guardian also their own record,
/// their family and the children they may see (with `families:read`, which a guardian's token
/// has unless it narrows it away), so a parent app needs no other call to start. A guardian
/// whose record is archived is a 401, one the school has barred (`contact_allowed: false`) a 403.
///
/// Scope: `none` (any valid token).
#[utoipa::path(
    tag = "me",
    responses(
        (status = 200, description = "Who the token speaks for", body = Me),
        (status = 400, description = "A query parameter was given", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token, or a guardian no longer known", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A guardian the school has barred", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/v1/me")]
pub async fn get_me(
    caller: Caller,
    state: web::Data<AppState>,
    _no_query: NoQuery,
) -> Result<HttpResponse, ApiError> {
    let today = state.clock.today();
    let me = state
        .db
        .read(move |conn| {
            let viewer = Viewer::resolve(conn, &caller, today)?;
            let mut me = Me {
                sub: caller.sub.clone(),
                role: caller.role.as_str().to_string(),
                school_id: caller.school_id.clone(),
                scopes: caller
                    .scopes
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect(),
                guardian_id: None,
                guardian: None,
                family: None,
                students: None,
            };
            if let Some(reach) = &viewer.guardian {
                me.guardian_id = Some(reach.guardian_id.uuid());
                // Their household is family data: a token narrowed to other scopes sees none.
                if caller.scopes.contains(Scope::FamiliesRead) {
                    let guardian = guardians::store::find(conn, &viewer, reach.guardian_id)?;
                    let family = families::store::find(conn, &viewer, reach.family_id)?;
                    let students = students_among(conn, &viewer.school_id, &reach.students)?;
                    me.guardian = Some(guardian.view());
                    me.family = Some(family.view(&viewer));
                    me.students = Some(students.into_iter().map(StudentRow::view).collect());
                }
            }
            Ok(me)
        })
        .await?;
    Ok(HttpResponse::Ok().json(me))
}
