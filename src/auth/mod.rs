//! Bearer-token authentication: verifying JWTs, and the `Caller` every handler receives.

pub mod policy;
mod scope;

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Map, Value};

pub use scope::{Role, Scope, Scopes};

use crate::config::{Config, KeySource, DEFAULT_JWT_LEEWAY_SECONDS};
use crate::error::ApiError;
use crate::http::problem_types::{self as problems, ProblemType};
use crate::ids::GuardianId;
use crate::AppState;

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
    /// Tokens that verified, by their exact text: a client sends the same token with every
    /// request, and checking its signature and claims again each time cost a fifth of a GET.
    /// An entry is used only while its `exp` and `nbf` still hold (with the leeway); anything
    /// else goes through full verification again.
    verified: Mutex<HashMap<String, Verified>>,
}

/// A token that verified, and the times that bound its use.
struct Verified {
    caller: Caller,
    exp: i64,
    nbf: Option<i64>,
}

/// The most verified tokens remembered; when full, the memory starts over.
const VERIFIED_CAPACITY: usize = 1024;

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
        )
        .with_leeway(config.jwt_leeway_seconds))
    }

    /// Keys from their parts, with the default clock leeway.
    pub fn new(
        algorithm: Algorithm,
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Keys {
        // The algorithm comes from configuration only: a token naming another one is refused.
        let mut validation = Validation::new(algorithm);
        validation.leeway = DEFAULT_JWT_LEEWAY_SECONDS;
        validation.validate_nbf = true;
        // The library checks what it knows (`exp`, `iss`, `aud`); `verify` checks the rest, so
        // that it can name a missing claim.
        let mut required = vec!["exp"];
        match &issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Keys {
            decoding,
            encoding,
            algorithm,
            validation,
            issuer,
            audience,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The same keys with another clock leeway (seconds) for `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: u64) -> Keys {
        self.validation.leeway = seconds;
        self
    }

    /// Whether this service signs tokens (with a shared secret), or only verifies those of an
    /// identity provider (RS256/ES256 with its public key).
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
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

    /// Verifies a bearer token and turns it into a caller. A refusal names its kind (one of the
    /// `token-*` problem types) and at most the claim at fault: never key material, never the
    /// library's own message. Claims are judged only once the signature has verified, so a
    /// forger learns nothing about what the service would accept.
    pub fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let now = chrono::Utc::now().timestamp();
        if let Some(caller) = self.remembered(token, now) {
            return Ok(caller);
        }
        let claims = self.verified_claims(token)?;
        let caller = caller_of(&claims)?;
        let time = |name: &str| claims.get(name).and_then(Value::as_i64);
        if let Some(exp) = time("exp") {
            let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            if verified.len() >= VERIFIED_CAPACITY {
                verified.clear();
            }
            verified.insert(
                token.to_string(),
                Verified {
                    caller: caller.clone(),
                    exp,
                    nbf: time("nbf"),
                },
            );
        }
        Ok(caller)
    }

    /// The caller of a token that verified before, while its times still hold at `now`.
    fn remembered(&self, token: &str, now: i64) -> Option<Caller> {
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let entry = verified.get(token)?;
        let in_time = now <= entry.exp.saturating_add(leeway)
            && entry
                .nbf
                .is_none_or(|nbf| nbf <= now.saturating_add(leeway));
        if in_time {
            Some(entry.caller.clone())
        } else {
            // Verified again from scratch, so the refusal names its kind.
            verified.remove(token);
            None
        }
    }

    /// The claims of a token whose algorithm, signature, `exp`, `nbf`, `iss` and `aud` hold.
    fn verified_claims(&self, token: &str) -> Result<Map<String, Value>, ApiError> {
        let malformed = || {
            refuse(
                &problems::TOKEN_MALFORMED,
                "the token is not a well-formed JWT",
            )
        };
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        // The header is read first so that `none`, or any other algorithm than the configured
        // one, is refused as such rather than as a signature that does not verify.
        let alg = decode_part(header)
            .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(malformed)?;
        if alg.parse::<Algorithm>().ok() != Some(self.algorithm) {
            return Err(wrong_algorithm());
        }
        let data = jsonwebtoken::decode::<Value>(token, &self.decoding, &self.validation).map_err(
            |e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::InvalidSignature => refuse(
                        &problems::TOKEN_BAD_SIGNATURE,
                        "the token's signature does not verify",
                    ),
                    K::InvalidAlgorithm | K::InvalidAlgorithmName | K::MissingAlgorithm => {
                        wrong_algorithm()
                    }
                    K::ExpiredSignature => {
                        refuse(&problems::TOKEN_EXPIRED, "the token has expired (exp)")
                    }
                    K::ImmatureSignature => refuse(
                        &problems::TOKEN_NOT_YET_VALID,
                        "the token is not valid yet (nbf)",
                    ),
                    K::InvalidIssuer => refuse(
                        &problems::TOKEN_WRONG_ISSUER,
                        "the token's issuer (iss) is not accepted",
                    ),
                    K::InvalidAudience => refuse(
                        &problems::TOKEN_WRONG_AUDIENCE,
                        "the token's audience (aud) is not this service",
                    ),
                    // Raised only after the signature verified, so the payload may be read to
                    // tell an absent claim from one of the wrong type.
                    K::MissingRequiredClaim(claim) | K::InvalidClaimFormat(claim) => {
                        match known_claim(claim) {
                            Some(name)
                                if decode_part(payload).is_some_and(|c| c.get(name).is_some()) =>
                            {
                                invalid_claim(name, "has the wrong type")
                            }
                            Some(name) => missing_claim(name),
                            None => malformed(),
                        }
                    }
                    _ => malformed(),
                }
            },
        )?;
        match data.claims {
            Value::Object(claims) => Ok(claims),
            _ => Err(malformed()),
        }
    }
}

/// The caller a verified token speaks for, once its claims are judged.
fn caller_of(claims: &Map<String, Value>) -> Result<Caller, ApiError> {
    let role_name = required_str(claims, "role")?;
    let role = Role::parse(role_name)
        .ok_or_else(|| invalid_claim("role", "is not a role this service knows"))?;
    let sub = required_str(claims, "sub")?;
    if sub.trim().is_empty() || sub.len() > 200 || sub.contains('\0') {
        return Err(invalid_claim("sub", "must be 1 to 200 characters"));
    }
    let school_id = required_str(claims, "school_id")?;
    if school_id.trim().is_empty() || school_id.len() > 100 || school_id.contains('\0') {
        return Err(invalid_claim("school_id", "must be 1 to 100 characters"));
    }
    let scope = optional_str(claims, "scope")?;
    let guardian_id = match role {
        Role::Guardian => Some(GuardianId(
            uuid::Uuid::parse_str(required_str(claims, "guardian_id")?)
                .map_err(|_| invalid_claim("guardian_id", "is not a Liaison id"))?,
        )),
        _ => {
            optional_str(claims, "guardian_id")?;
            None
        }
    };
    let scopes = match scope {
        Some(claim) => Scopes::parse_claim(claim).intersect(role.scopes()),
        None => role.scopes(),
    };
    Ok(Caller {
        sub: sub.to_string(),
        role,
        school_id: school_id.to_string(),
        scopes,
        guardian_id,
        request_id: None,
        purpose: None,
    })
}

/// A 401 of the given kind.
fn refuse(kind: &'static ProblemType, detail: &str) -> ApiError {
    ApiError::InvalidToken {
        kind,
        detail: detail.into(),
    }
}

fn wrong_algorithm() -> ApiError {
    refuse(
        &problems::TOKEN_WRONG_ALGORITHM,
        "the token is not signed with the algorithm this service is configured with",
    )
}

fn missing_claim(name: &str) -> ApiError {
    refuse(
        &problems::TOKEN_MISSING_CLAIM,
        &format!("the token lacks the claim `{name}`"),
    )
}

fn invalid_claim(name: &str, why: &str) -> ApiError {
    refuse(
        &problems::TOKEN_INVALID_CLAIM,
        &format!("the token's claim `{name}` {why}"),
    )
}

/// The name of a claim the library validates, as a static string: only these are ever echoed.
fn known_claim(name: &str) -> Option<&'static str> {
    ["exp", "nbf", "iss", "aud", "sub"]
        .into_iter()
        .find(|c| *c == name)
}

/// A base64url JSON part of a token.
fn decode_part(part: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn required_str<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match claims.get(name) {
        None | Some(Value::Null) => Err(missing_claim(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid_claim(name, "must be a string")),
    }
}

fn optional_str<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, ApiError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid_claim(name, "must be a string")),
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
    // The rate limit's middleware verified the token already and left its caller here.
    if let Some(mut caller) = req.extensions_mut().remove::<Caller>() {
        caller.request_id = crate::http::request_id::current();
        caller.purpose = purpose(req)?;
        return Ok(caller);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"unit-test-secret-0123456789-0123456789";

    fn keys() -> Keys {
        Keys::new(
            Algorithm::HS256,
            DecodingKey::from_secret(SECRET),
            Some(EncodingKey::from_secret(SECRET)),
            None,
            None,
        )
    }

    fn token(claims: &Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    /// The problem slug of a verification, or `ok`.
    fn outcome(keys: &Keys, claims: Value) -> &'static str {
        match keys.verify(&token(&claims)) {
            Ok(_) => "ok",
            Err(e) => e.problem_type().slug,
        }
    }

    #[test]
    fn a_remembered_token_is_refused_once_it_expires() {
        let keys = keys().with_leeway(0);
        let now = chrono::Utc::now().timestamp();
        let token = token(&at(now + 1, None));
        assert!(keys.verify(&token).is_ok());
        // Now remembered: the same text is accepted without verifying it again...
        assert!(keys.remembered(&token, now).is_some());
        // ...but not once its `exp` has passed: it is verified again, and refused as expired.
        assert!(keys.remembered(&token, now + 2).is_none());
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let refused = keys.verify(&token).unwrap_err();
        assert_eq!(refused.problem_type().slug, "token-expired");
        // A token that is not yet valid is never remembered as valid.
        let early = self::token(&at(now + 600, Some(now + 300)));
        assert!(keys.verify(&early).is_err());
        assert!(keys.remembered(&early, now).is_none());
        // Another text is never taken for a remembered one, even with the same claims.
        let forged = format!("{}x", &token[..token.len() - 1]);
        assert!(keys.remembered(&forged, now).is_none());
    }

    fn at(exp: i64, nbf: Option<i64>) -> Value {
        let mut c = json!({ "sub": "a", "role": "admin", "school_id": "s", "exp": exp });
        if let Some(nbf) = nbf {
            c["nbf"] = json!(nbf);
        }
        c
    }

    #[test]
    fn the_clock_leeway_applies_to_exp_and_nbf_and_is_configurable() {
        let now = chrono::Utc::now().timestamp();
        let hour = now + 3600;
        // The default leeway, 30 s, forgives a little skew either way, and no more.
        assert_eq!(outcome(&keys(), at(now - 10, None)), "ok");
        assert_eq!(outcome(&keys(), at(now - 90, None)), "token-expired");
        assert_eq!(outcome(&keys(), at(hour, Some(now + 10))), "ok");
        assert_eq!(
            outcome(&keys(), at(hour, Some(now + 90))),
            "token-not-yet-valid"
        );
        // No leeway: any skew counts.
        let strict = keys().with_leeway(0);
        assert_eq!(outcome(&strict, at(now - 10, None)), "token-expired");
        assert_eq!(
            outcome(&strict, at(hour, Some(now + 10))),
            "token-not-yet-valid"
        );
        assert_eq!(outcome(&strict, at(hour, Some(now - 1))), "ok");
        // Five minutes: the largest configuration allows.
        let loose = keys().with_leeway(300);
        assert_eq!(outcome(&loose, at(now - 200, None)), "ok");
        assert_eq!(outcome(&loose, at(hour, Some(now + 200))), "ok");
        assert_eq!(outcome(&loose, at(now - 400, None)), "token-expired");
    }

    #[test]
    fn claims_are_named_when_missing_or_invalid() {
        let hour = chrono::Utc::now().timestamp() + 3600;
        let cases = [
            (
                json!({ "role": "admin", "school_id": "s", "exp": hour }),
                "token-missing-claim",
                "`sub`",
            ),
            (
                json!({ "sub": "a", "school_id": "s", "exp": hour }),
                "token-missing-claim",
                "`role`",
            ),
            (
                json!({ "sub": "a", "role": "admin", "exp": hour }),
                "token-missing-claim",
                "`school_id`",
            ),
            (
                json!({ "sub": "a", "role": "admin", "school_id": "s" }),
                "token-missing-claim",
                "`exp`",
            ),
            (
                json!({ "sub": "a", "role": "admin", "school_id": "s", "exp": "soon" }),
                "token-invalid-claim",
                "`exp`",
            ),
            (
                json!({ "sub": "a", "role": "admin", "school_id": "s", "exp": hour, "nbf": "now" }),
                "token-invalid-claim",
                "`nbf`",
            ),
            (
                json!({ "sub": 7, "role": "admin", "school_id": "s", "exp": hour }),
                "token-invalid-claim",
                "`sub`",
            ),
            (
                json!({ "sub": "a", "role": "root", "school_id": "s", "exp": hour }),
                "token-invalid-claim",
                "`role`",
            ),
            (
                json!({ "sub": "a", "role": "admin", "school_id": " ", "exp": hour }),
                "token-invalid-claim",
                "`school_id`",
            ),
            (
                json!({ "sub": "a", "role": "admin", "school_id": "s", "exp": hour, "scope": ["x"] }),
                "token-invalid-claim",
                "`scope`",
            ),
            (
                json!({ "sub": "a", "role": "guardian", "school_id": "s", "exp": hour }),
                "token-missing-claim",
                "`guardian_id`",
            ),
            (
                json!({ "sub": "a", "role": "guardian", "school_id": "s", "exp": hour, "guardian_id": "g" }),
                "token-invalid-claim",
                "`guardian_id`",
            ),
        ];
        for (claims, kind, named) in cases {
            let err = keys().verify(&token(&claims)).unwrap_err();
            assert_eq!(err.problem_type().slug, kind, "{claims}");
            assert!(
                err.problem().detail.contains(named),
                "{claims}: {}",
                err.problem().detail
            );
        }
    }
}
