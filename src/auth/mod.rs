//! Bearer-token authentication: verifying JWTs, and the `Caller` every handler receives.

pub mod policy;
mod scope;

use std::future::{ready, Ready};
use std::io::Write;
use std::path::Path;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub use scope::{Role, Scope, Scopes};

use crate::config::{Config, KeySource};
use crate::error::ApiError;
use crate::ids::GuardianId;
use crate::AppState;

/// The claims Liaison reads from a token. Anything else in the token is ignored.
#[derive(Debug, Deserialize)]
struct VerifiedClaims {
    sub: String,
    role: String,
    school_id: String,
    #[allow(dead_code)]
    exp: i64,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    guardian_id: Option<String>,
}

/// The claims `liaison token` writes.
#[derive(Debug, Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    role: &'a str,
    school_id: &'a str,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guardian_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// What a new token should say.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The caller's id (`sub`).
    pub sub: String,
    /// The role.
    pub role: Role,
    /// The tenant.
    pub school_id: String,
    /// For guardians: the Liaison id of the adult.
    pub guardian_id: Option<String>,
    /// A narrower `scope` claim, if any.
    pub scope: Option<String>,
    /// Lifetime in seconds.
    pub ttl_seconds: i64,
}

/// The verification key (and, with a shared secret, the signing key), fixed by configuration.
pub struct Keys {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    algorithm: Algorithm,
    validation: Validation,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Keys {
    /// Loads the keys the configuration names, generating the shared secret on first run.
    pub fn load(config: &Config) -> Result<Keys, String> {
        let (algorithm, decoding, encoding) = match &config.keys {
            KeySource::Secret(secret) => (
                Algorithm::HS256,
                DecodingKey::from_secret(secret.as_bytes()),
                Some(EncodingKey::from_secret(secret.as_bytes())),
            ),
            KeySource::SecretFile(path) => {
                let secret = read_or_create_secret(path)?;
                (
                    Algorithm::HS256,
                    DecodingKey::from_secret(secret.as_bytes()),
                    Some(EncodingKey::from_secret(secret.as_bytes())),
                )
            }
            KeySource::PublicKey { algorithm, path } => {
                let pem = std::fs::read(path).map_err(|e| {
                    format!(
                        "cannot read LIAISON_JWT_PUBLIC_KEY_FILE {}: {e}",
                        path.display()
                    )
                })?;
                let (alg, key) = if algorithm == "RS256" {
                    (Algorithm::RS256, DecodingKey::from_rsa_pem(&pem))
                } else {
                    (Algorithm::ES256, DecodingKey::from_ec_pem(&pem))
                };
                let key = key.map_err(|e| {
                    format!("LIAISON_JWT_PUBLIC_KEY_FILE is not a {algorithm} public key: {e}")
                })?;
                (alg, key, None)
            }
        };
        Ok(Keys::new(
            algorithm,
            decoding,
            encoding,
            config.issuer.clone(),
            config.audience.clone(),
        ))
    }

    /// Keys from their parts.
    pub fn new(
        algorithm: Algorithm,
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Keys {
        // The algorithm comes from configuration only: a token naming another one is refused.
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match &issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                validation.set_required_spec_claims(&["exp", "sub", "iss"]);
            }
            None => validation.iss = None,
        }
        match &audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                let mut required = vec!["exp", "sub", "aud"];
                if issuer.is_some() {
                    required.push("iss");
                }
                validation.set_required_spec_claims(&required);
            }
            None => validation.validate_aud = false,
        }
        Keys {
            decoding,
            encoding,
            algorithm,
            validation,
            issuer,
            audience,
        }
    }

    /// Signs a token; only possible with a shared secret.
    pub fn mint(&self, req: &TokenRequest) -> Result<String, String> {
        let key = self.encoding.as_ref().ok_or(
            "tokens are signed by your identity provider when LIAISON_JWT_ALGORITHM is RS256 or ES256",
        )?;
        if req.role == Role::Guardian && req.guardian_id.is_none() {
            return Err("a guardian token needs --guardian <guardian id>".into());
        }
        let now = chrono::Utc::now().timestamp();
        let claims = MintedClaims {
            sub: &req.sub,
            role: req.role.as_str(),
            school_id: &req.school_id,
            iat: now,
            exp: now + req.ttl_seconds,
            scope: req.scope.as_deref(),
            guardian_id: req.guardian_id.as_deref(),
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key).map_err(|e| e.to_string())
    }

    /// Verifies a bearer token and turns it into a caller.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let data = jsonwebtoken::decode::<VerifiedClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                let why = match e.kind() {
                    K::ExpiredSignature => "the token has expired",
                    K::InvalidSignature => "the token's signature does not verify",
                    K::InvalidAlgorithm | K::InvalidAlgorithmName => {
                        "the token is not signed with the configured algorithm"
                    }
                    K::InvalidIssuer => "the token's issuer is not accepted",
                    K::InvalidAudience => "the token's audience is not accepted",
                    K::MissingRequiredClaim(_) => "the token lacks a required claim",
                    K::Json(_) => "the token lacks a required claim or has one of the wrong type",
                    _ => "the token is malformed",
                };
                ApiError::Unauthorized(why.into())
            })?;
        let c = data.claims;
        let bad = |why: &str| ApiError::Unauthorized(why.into());
        let role =
            Role::parse(&c.role).ok_or_else(|| bad("the token's role is not one Liaison knows"))?;
        if c.sub.trim().is_empty() || c.sub.len() > 200 || c.sub.contains('\0') {
            return Err(bad("the token's sub is empty or too long"));
        }
        if c.school_id.trim().is_empty() || c.school_id.len() > 100 || c.school_id.contains('\0') {
            return Err(bad("the token's school_id is empty or too long"));
        }
        let guardian_id = match (role, c.guardian_id) {
            (Role::Guardian, Some(g)) => {
                Some(GuardianId(uuid::Uuid::parse_str(&g).map_err(|_| {
                    bad("the token's guardian_id is not a Liaison id")
                })?))
            }
            (Role::Guardian, None) => return Err(bad("a guardian token must carry guardian_id")),
            (_, _) => None,
        };
        let scopes = match &c.scope {
            Some(claim) => Scopes::parse_claim(claim).intersect(role.scopes()),
            None => role.scopes(),
        };
        Ok(Caller {
            sub: c.sub,
            role,
            school_id: c.school_id,
            scopes,
            guardian_id,
            request_id: None,
            purpose: None,
        })
    }
}

/// Reads the shared secret from `path`, creating it (owner-only) with 384 random bits if absent.
fn read_or_create_secret(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().to_string()),
        Ok(_) => {
            return Err(format!(
                "the secret in {} is shorter than 32 characters",
                path.display()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "cannot read the JWT secret {}: {e}",
                path.display()
            ))
        }
    }
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for the JWT secret: {e}"))?;
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .map_err(|e| format!("cannot write the JWT secret {}: {e}", path.display()))?;
            log::info!("generated a new JWT signing secret in {}", path.display());
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_or_create_secret(path),
        Err(e) => Err(format!(
            "cannot create the JWT secret {}: {e}",
            path.display()
        )),
    }
}

/// The authenticated caller of a `/v1` request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who (the token's `sub`).
    pub sub: String,
    /// Their role.
    pub role: Role,
    /// Their school: every query is confined to it.
    pub school_id: String,
    /// The effective scopes: the token's `scope` within the role's set.
    pub scopes: Scopes,
    /// For a guardian, the adult's Liaison id.
    pub guardian_id: Option<GuardianId>,
    /// The request's `X-Request-Id`, for the audit log.
    pub request_id: Option<String>,
    /// Why the caller says it makes the request (`X-Purpose`), for the audit log.
    pub purpose: Option<String>,
}

impl Caller {
    /// Refuses with 403, naming the scope, unless the caller has it.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this request needs the scope `{scope}`"
            )))
        }
    }

    /// The guardian's id when the caller is a guardian.
    pub fn guardian(&self) -> Option<GuardianId> {
        self.guardian_id
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("send Authorization: Bearer <token>".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not readable".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    let mut caller = state.keys.verify(token)?;
    caller.request_id = crate::http::request_id::current();
    caller.purpose = purpose(req)?;
    Ok(caller)
}

/// The most characters an `X-Purpose` may have.
pub const PURPOSE_MAX: usize = 200;

/// `X-Purpose`: why the caller makes the request, in its own words, kept in the audit log.
fn purpose(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("x-purpose") else {
        return Ok(None);
    };
    let refuse = || {
        ApiError::field(
            "X-Purpose",
            "invalid",
            format!("must be 1 to {PURPOSE_MAX} characters of text without control characters"),
        )
    };
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| refuse())?
        .trim();
    if text.is_empty() || text.chars().count() > PURPOSE_MAX || text.chars().any(char::is_control) {
        return Err(refuse());
    }
    Ok(Some(text.to_string()))
}
