//! Service accounts (OAuth 2 clients): machines such as a district's SIS get short-lived
//! tokens from `POST /oauth/token` with a client id and secret (RFC 6749 §4.4, client
//! credentials). Admins make and revoke them here (`/v1/clients`, scope `clients:write`) or
//! with `liaison client create|list|revoke`; the secret is shown once and kept only as an
//! Argon2id hash.

pub mod store;
pub mod token;
pub mod wire;

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;
use validator::Validate;

use self::store::ClientRow;
pub use self::wire::{Client, ClientCreated, ClientInput, ClientRole, ListClientsQuery};
use super::{single, CreateErrors, DeleteErrors, ReadErrors};
use crate::auth::{Caller, Role, Scope, Scopes};
use crate::db::{Db, WriteContext};
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::http::extract::{validation_errors, JsonBody, Query};
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::ClientId;
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_clients)
        .service(create_client)
        .service(get_client)
        .service(revoke_client)
        .service(token::issue_token);
}

/// The actor the audit log names for what `liaison client` does.
pub const CLI_ACTOR: &str = "system:liaison-cli";

/// Checks a new account's fields (the scopes within the role's set) and creates it with a new
/// secret, through the one write path. Returns the row and the secret, which is never kept.
pub async fn create(
    db: &Db,
    ctx: WriteContext,
    input: ClientInput,
) -> Result<(ClientRow, String), ApiError> {
    let role = input.role.role();
    let scopes: Option<Scopes> = match &input.scopes {
        None => None,
        Some(names) => Some(store::chosen_scopes(role, names).map_err(|refused| {
            ApiError::invalid(
                refused
                    .into_iter()
                    .map(|(i, code)| {
                        let message = if code == "unknown_scope" {
                            format!("`{}` is not a scope", names[i])
                        } else {
                            format!(
                                "`{}` is beyond what the role `{role}` may ever have: {}",
                                names[i],
                                role.scopes().to_claim()
                            )
                        };
                        FieldError::new(format!("scopes[{i}]"), code, message)
                    })
                    .collect(),
            )
        })?),
    };
    // Hashing is slow on purpose: it runs on a blocking thread, not on an HTTP worker.
    let (secret, hash) = web::block(|| {
        let secret = store::new_secret()?;
        let hash = store::hash_secret(&secret)?;
        Ok::<_, String>((secret, hash))
    })
    .await?
    .map_err(ApiError::internal)?;
    let row = db
        .write(ctx, move |tx| {
            let caller = tx.caller().clone();
            let row = ClientRow::new(
                &caller.school_id,
                input.name,
                input.role,
                scopes,
                hash,
                &caller.sub,
                tx.now(),
            );
            tx.create(&row)?;
            Ok(row)
        })
        .await?;
    Ok((row, secret))
}

/// Revokes the account `id` of the writer's school; an account already revoked stays as it is
/// and nothing is written. Returns the account as it now stands.
pub async fn revoke(
    db: &Db,
    ctx: WriteContext,
    id: ClientId,
    if_match: IfMatch,
) -> Result<ClientRow, ApiError> {
    db.write(ctx, move |tx| {
        let school = tx.caller().school_id.clone();
        let current = store::find(tx.conn(), &school, id)?;
        if_match.check(current.version)?;
        if current.revoked_at.is_some() {
            return Ok(current);
        }
        tx.archive(&current)
    })
    .await
}

/// List service accounts
///
/// The school's service accounts in creation order, revoked ones included (with `revoked_at`)
/// unless `revoked=false`. Secrets are never shown. Scope: `clients:write`.
#[utoipa::path(
    tag = "clients",
    params(ListClientsQuery),
    responses((status = 200, description = "A page of service accounts", body = Page<Client>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/clients")]
pub async fn list_clients(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListClientsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ClientsWrite)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let school = caller.school_id;
    let result = state
        .db
        .read(move |conn| {
            let rows = store::list(conn, Some(&school), q.revoked, &page)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view()))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Create a service account
///
/// Answers with the client id and secret, the one time the secret is ever shown (the answer
/// is not cached, and is not replayed: this endpoint refuses `Idempotency-Key`, since replaying
/// the answer would mean keeping the secret). `scopes` must lie within the role's set (a `400`
/// names each one that does not). Exchange the id and secret for tokens at `POST /oauth/token`.
/// Scope: `clients:write`.
#[utoipa::path(
    tag = "clients",
    request_body = ClientInput,
    responses(
        (status = 201, description = "Created; the only answer that shows the secret", body = ClientCreated,
            headers(("Location" = String, description = "The account's path"), ("ETag" = String, description = "Its version"),
                ("Cache-Control" = String, description = "`no-store`: the answer holds a secret"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/clients")]
pub async fn create_client(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: JsonBody<ClientInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ClientsWrite)?;
    if req.headers().contains_key("idempotency-key") {
        return Err(ApiError::bad_request(
            "POST /v1/clients takes no Idempotency-Key: its answer holds the new secret, which \
             is never kept, so it cannot be replayed; list the clients to see whether a retry \
             is needed",
        ));
    }
    let ctx = WriteContext {
        caller,
        now: state.clock.now(),
    };
    let (row, secret) = create(&state.db, ctx, body.value).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/clients/{}", row.id)))
        .insert_header((header::ETAG, crate::http::etag::etag(row.version)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(row.created(secret)))
}

/// Get a service account
///
/// Its secret is never shown. Scope: `clients:write`.
#[utoipa::path(
    tag = "clients",
    params(("id" = Uuid, Path, description = "The account's id (its client_id)")),
    responses(
        (status = 200, description = "The service account", body = Client, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/clients/{id}")]
pub async fn get_client(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ClientsWrite)?;
    let id = ClientId(id.into_inner());
    let school = caller.school_id;
    let client = state
        .db
        .read(move |conn| Ok(store::find(conn, &school, id)?.view()))
        .await?;
    Ok(single(&client, client.version))
}

/// Revoke a service account
///
/// From now on `POST /oauth/token` refuses it (`invalid_client`). Tokens it already holds
/// stay valid until they expire (at most `LIAISON_CLIENT_TOKEN_TTL_SECONDS`, 15 minutes by
/// default). The account is kept, with `revoked_at`, so that the audit log and lists still name
/// it; revoking it again changes nothing. `DELETE` is how this API ends any resource (with
/// `If-Match`, answering 204). Scope: `clients:write`.
#[utoipa::path(
    tag = "clients",
    params(("id" = Uuid, Path, description = "The account's id (its client_id)"), IfMatch),
    responses((status = 204, description = "Revoked"), DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/clients/{id}")]
pub async fn revoke_client(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ClientsWrite)?;
    let ctx = WriteContext {
        caller,
        now: state.clock.now(),
    };
    revoke(&state.db, ctx, ClientId(id.into_inner()), if_match).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What `liaison client` runs: the same checks and the same write path as the API, with
/// [`CLI_ACTOR`] as the actor.
pub mod cli {
    use super::*;

    fn actor(school: &str, what: &str) -> Caller {
        Caller {
            sub: CLI_ACTOR.to_string(),
            role: Role::Admin,
            school_id: school.to_string(),
            scopes: Scopes::all(),
            guardian_id: None,
            request_id: None,
            purpose: Some(format!("liaison client {what}")),
        }
    }

    fn now() -> chrono::NaiveDateTime {
        crate::clock::Clock::system().now()
    }

    /// A refusal in words for the terminal.
    fn say(e: ApiError) -> String {
        let p = e.problem();
        match p.errors {
            Some(errors) if !errors.is_empty() => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => p.detail,
        }
    }

    /// `liaison client create`: the new account and its secret.
    pub async fn create(
        db: &Db,
        school: &str,
        name: &str,
        role: &str,
        scopes: Option<&str>,
    ) -> Result<ClientCreated, String> {
        if school.trim().is_empty() || school.len() > 100 || school.contains('\0') {
            return Err("--school must be 1 to 100 characters".into());
        }
        let role = ClientRole::parse(role).ok_or_else(|| {
            let names: Vec<&str> = ClientRole::ALL.iter().map(|r| r.as_str()).collect();
            format!("--role `{role}` is not one of {}", names.join(", "))
        })?;
        let input = ClientInput {
            name: name.to_string(),
            role,
            scopes: scopes.map(|s| s.split_ascii_whitespace().map(str::to_string).collect()),
        };
        if let Err(e) = input.validate() {
            return Err(say(ApiError::invalid(validation_errors(&e))));
        }
        let ctx = WriteContext {
            caller: actor(school, "create"),
            now: now(),
        };
        let (row, secret) = super::create(db, ctx, input).await.map_err(say)?;
        Ok(row.created(secret))
    }

    /// `liaison client list`: the accounts of `school`, or of every school.
    pub async fn list(db: &Db, school: Option<&str>) -> Result<Vec<(String, Client)>, String> {
        let school = school.map(str::to_string);
        db.read(move |conn| {
            let mut out = Vec::new();
            let mut page = PageRequest::new(Some(200), None, pagination::is_id)?;
            loop {
                let rows = store::list(conn, school.as_deref(), None, &page)?;
                let more = rows.len() as i64 > page.limit;
                for r in rows.into_iter().take(page.limit as usize) {
                    page.after = Some(r.id.to_string());
                    out.push((r.school_id.clone(), r.view()));
                }
                if !more {
                    return Ok(out);
                }
            }
        })
        .await
        .map_err(say)
    }

    /// `liaison client revoke`: the account as revoked.
    pub async fn revoke(db: &Db, id: &str) -> Result<Client, String> {
        let id =
            ClientId(Uuid::parse_str(id.trim()).map_err(|_| format!("`{id}` is not a client id"))?);
        let row = db
            .read(move |conn| Ok(store::find_any(conn, id)?))
            .await
            .map_err(say)?
            .ok_or_else(|| format!("there is no client {id}"))?;
        let ctx = WriteContext {
            caller: actor(&row.school_id, "revoke"),
            now: now(),
        };
        Ok(super::revoke(db, ctx, id, IfMatch::Absent)
            .await
            .map_err(say)?
            .view())
    }
}
