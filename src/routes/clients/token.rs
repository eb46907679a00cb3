//! `POST /oauth/token`: the OAuth 2 token endpoint for service accounts (RFC 6749 §4.4, the
//! client credentials grant). Its answers and refusals are OAuth's own (§5.1, §5.2), not
//! problem documents, since OAuth client libraries read them; only a rate-limited attempt is a
//! problem document (429).

use std::net::IpAddr;

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse, ResponseError};
use base64::Engine;

use super::store;
use super::wire::{AccessToken, OAuthError, TokenForm};
use crate::auth::{Scope, Scopes, TokenRequest};
use crate::error::ApiError;
use crate::ids::ClientId;
use crate::AppState;

/// The token endpoint's path (the problem-document middleware leaves its answers as they are).
pub const TOKEN_PATH: &str = "/oauth/token";

/// A refusal as RFC 6749 §5.2 words it.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Whether the client used HTTP Basic (a 401 then asks for it again).
    basic: bool,
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
        basic: false,
    }
}

fn bad_client(basic: bool) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "the client id or secret is not right, or the client was revoked".into(),
        basic,
    }
}

impl Refusal {
    fn response(self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        no_store(&mut res);
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = if self.basic {
                "Basic realm=\"liaison\", charset=\"UTF-8\""
            } else {
                // Credentials came in the body (or not at all): say Basic is also taken.
                "Basic realm=\"liaison\""
            };
            res.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        res.json(OAuthError {
            error: self.error,
            error_description: self.description,
        })
    }
}

/// Token answers must not be cached (RFC 6749 §5.1).
fn no_store(res: &mut actix_web::HttpResponseBuilder) {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
}

/// Decodes one `application/x-www-form-urlencoded` component (RFC 6749 §2.3.1 encodes the
/// client id and secret so before Basic's base64).
fn form_decoded(s: &str) -> String {
    form_urlencoded::parse(format!("v={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The client id and secret from `Authorization: Basic`, if that header is Basic.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, Refusal> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| bad_client(true))?;
    let (scheme, encoded) = text.split_once(' ').ok_or_else(|| bad_client(true))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(refuse(
            "invalid_request",
            "authenticate the client with HTTP Basic or with client_id and client_secret in the body",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad_client(true))?;
    let (id, secret) = decoded.split_once(':').ok_or_else(|| bad_client(true))?;
    Ok(Some((form_decoded(id), form_decoded(secret))))
}

/// The form's parameters; each may be sent once (RFC 6749 §3.2).
fn form(req: &HttpRequest, body: &[u8]) -> Result<TokenForm, Refusal> {
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(refuse(
            "invalid_request",
            "send the parameters as application/x-www-form-urlencoded",
        ));
    }
    let mut out = TokenForm {
        grant_type: String::new(),
        scope: None,
        client_id: None,
        client_secret: None,
    };
    let mut grant_type = None;
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match name.as_ref() {
            "grant_type" => &mut grant_type,
            "scope" => &mut out.scope,
            "client_id" => &mut out.client_id,
            "client_secret" => &mut out.client_secret,
            // Parameters this endpoint does not know are ignored (RFC 6749 §3.2).
            _ => continue,
        };
        if slot.is_some() {
            return Err(refuse(
                "invalid_request",
                format!("the parameter `{name}` is sent more than once"),
            ));
        }
        *slot = Some(value.into_owned());
    }
    out.grant_type = grant_type.ok_or_else(|| {
        refuse(
            "invalid_request",
            "the parameter `grant_type` is missing; send grant_type=client_credentials",
        )
    })?;
    Ok(out)
}

/// The scopes asked for: a subset of what the client may have, or an `invalid_scope`.
fn narrowed(asked: Option<&str>, allowed: Scopes) -> Result<Scopes, Refusal> {
    let Some(asked) = asked else {
        return Ok(allowed);
    };
    let mut chosen = Vec::new();
    for name in asked.split(' ').filter(|n| !n.is_empty()) {
        match Scope::parse(name) {
            Some(s) if allowed.contains(s) => chosen.push(s),
            _ => {
                return Err(refuse(
                    "invalid_scope",
                    format!(
                        "`{name}` is not a scope of this client; it may ask for: {}",
                        allowed.to_claim()
                    ),
                ))
            }
        }
    }
    if chosen.is_empty() {
        return Err(refuse(
            "invalid_scope",
            "`scope` names no scope; leave it out for every scope of the client",
        ));
    }
    Ok(Scopes::from_iter(chosen))
}

/// Get a token for a service account
///
/// The OAuth 2 client credentials grant (RFC 6749 §4.4). Send
/// `grant_type=client_credentials` form-encoded, and the client id and secret either with HTTP
/// Basic (`Authorization: Basic base64(client_id:client_secret)`) or as `client_id` and
/// `client_secret` in the body (not both). `scope` (space-separated) narrows the token to some
/// of the client's scopes; a scope the client lacks is refused (`invalid_scope`). The answer is a
/// signed JWT (`sub` the client id, its role, school and scopes) to send as
/// `Authorization: Bearer` on `/v1`; it expires after `expires_in` seconds (15 minutes by
/// default). Refusals are RFC 6749 §5.2 JSON (`error`, `error_description`): `invalid_client`
/// (401) for an unknown or revoked client or a wrong secret, `invalid_request`,
/// `unsupported_grant_type` (also when the service only verifies tokens of the school's identity
/// provider and cannot sign any), `invalid_scope`. After repeated failures a client id or
/// address is refused with 429 (`Retry-After`) until its quota refills.
#[utoipa::path(
    tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token", body = AccessToken,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic`"))),
        (status = 429, description = "Too many failed attempts", body = crate::error::Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait"))),
    )
)]
#[post("/oauth/token")]
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    match issue(&req, &state, &body).await {
        Ok(Ok(token)) => {
            let mut res = HttpResponse::Ok();
            no_store(&mut res);
            res.json(token)
        }
        Ok(Err(refusal)) => refusal.response(),
        Err(e) => e.error_response(),
    }
}

async fn issue(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<Result<AccessToken, Refusal>, ApiError> {
    if !state.keys.can_sign() {
        return Ok(Err(refuse(
            "unsupported_grant_type",
            "this service verifies the tokens of the school's identity provider \
             (LIAISON_JWT_ALGORITHM RS256 or ES256) and cannot sign any: get tokens from that \
             provider",
        )));
    }
    let form = match form(req, body) {
        Ok(f) => f,
        Err(r) => return Ok(Err(r)),
    };
    let basic = match basic_credentials(req) {
        Ok(b) => b,
        Err(r) => return Ok(Err(r)),
    };
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, form.client_id, form.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Ok(Err(refuse(
                "invalid_request",
                "send the client's credentials once: with HTTP Basic or in the body, not both",
            )))
        }
        (Some(pair), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, Some(_), None) => {
            return Ok(Err(refuse(
                "invalid_request",
                "the parameter `client_secret` is missing",
            )))
        }
        (None, None, _) => return Ok(Err(bad_client(false))),
    };
    if form.grant_type != "client_credentials" {
        return Ok(Err(refuse(
            "unsupported_grant_type",
            "this endpoint issues tokens for grant_type=client_credentials only",
        )));
    }
    let peer: Option<IpAddr> = req.peer_addr().map(|a| a.ip());
    let failures = state.limits.failures();
    if let Some(wait) = failures.and_then(|f| f.blocked(Some(&client_id), peer)) {
        return Err(ApiError::RateLimited { retry_after: wait });
    }
    // An id that is not a Liaison id is an unknown client: it goes through the same work.
    let id = uuid::Uuid::parse_str(&client_id).ok().map(ClientId);
    let row = match id {
        Some(id) => {
            state
                .db
                .read(move |conn| Ok(store::find_any(conn, id)?))
                .await?
        }
        None => None,
    };
    let hash = row.as_ref().map(|r| r.secret_hash.clone());
    let matched = web::block(move || store::verify_secret(&secret, hash.as_deref())).await?;
    let row = match row {
        Some(row) if matched && row.revoked_at.is_none() => row,
        _ => {
            if let Some(wait) = failures.and_then(|f| f.fail(Some(&client_id), peer)) {
                log::warn!(
                    "token requests for client {client_id} (or from its address) failed too often; refused for {wait} s"
                );
            }
            return Ok(Err(bad_client(used_basic)));
        }
    };
    let scopes = match narrowed(form.scope.as_deref(), row.scopes()) {
        Ok(s) => s,
        Err(r) => return Ok(Err(r)),
    };
    let ttl = state.client_token_ttl_seconds;
    let scope = scopes.to_claim();
    let access_token = state
        .keys
        .mint(&TokenRequest {
            sub: row.id.to_string(),
            role: row.role(),
            school_id: row.school_id.clone(),
            guardian_id: None,
            scope: Some(scope.clone()),
            ttl_seconds: ttl,
        })
        .map_err(ApiError::internal)?;
    log::info!(
        "issued a token to client {} of school {}",
        row.id,
        row.school_id
    );
    Ok(Ok(AccessToken {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        scope,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_request_narrows_and_never_widens() {
        let allowed = Scopes::parse_claim("families:read families:write changes:read");
        assert_eq!(narrowed(None, allowed).ok(), Some(allowed));
        assert_eq!(
            narrowed(Some("changes:read"), allowed)
                .ok()
                .map(Scopes::to_claim),
            Some("changes:read".to_string())
        );
        for bad in ["audit:read", "families:read nope", "", "  "] {
            let refused = narrowed(Some(bad), allowed).err().map(|r| r.error);
            assert_eq!(refused, Some("invalid_scope"), "{bad}");
        }
    }

    #[test]
    fn basic_components_are_form_decoded() {
        assert_eq!(form_decoded("a%3Ab+c"), "a:b c");
        assert_eq!(form_decoded("lcs_x-Y_z"), "lcs_x-Y_z");
    }
}
