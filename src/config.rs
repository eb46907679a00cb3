//! Every environment variable Liaison reads, with its default, in one place.

use std::path::PathBuf;

/// Which database engine a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in a file.
    Sqlite,
    /// PostgreSQL over the network.
    Postgres,
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The engine.
    pub backend: Backend,
    /// What the engine's driver is given: a file path for SQLite, the URL for PostgreSQL.
    pub target: String,
}

impl DatabaseUrl {
    /// Parses `sqlite://path`, `sqlite:path`, a bare path, or `postgres://…`/`postgresql://…`.
    /// Any other scheme is an error rather than a surprise SQLite file.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.is_empty() {
            return Err("DATABASE_URL is empty".into());
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl {
                backend: Backend::Postgres,
                target: url.to_string(),
            });
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err("DATABASE_URL names no SQLite file".into());
            }
            return Ok(DatabaseUrl {
                backend: Backend::Sqlite,
                target: path.to_string(),
            });
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(format!(
                "DATABASE_URL has the unsupported scheme `{scheme}`; use sqlite://PATH or postgres://…"
            ));
        }
        Ok(DatabaseUrl {
            backend: Backend::Sqlite,
            target: url.to_string(),
        })
    }

    /// Where a generated signing secret is kept: beside the SQLite file, or in the working
    /// directory when the database is PostgreSQL.
    pub fn default_secret_path(&self) -> PathBuf {
        match self.backend {
            Backend::Sqlite => {
                let db = PathBuf::from(&self.target);
                let dir = db.parent().map(PathBuf::from).unwrap_or_default();
                dir.join("liaison-jwt-secret.key")
            }
            Backend::Postgres => PathBuf::from("liaison-jwt-secret.key"),
        }
    }
}

/// The clock leeway for token times (`exp`, `nbf`) when `LIAISON_JWT_LEEWAY_SECONDS` is not set.
pub const DEFAULT_JWT_LEEWAY_SECONDS: u64 = 30;
/// The largest leeway accepted: beyond five minutes, a clock is broken and should be fixed, not
/// tolerated.
pub const MAX_JWT_LEEWAY_SECONDS: u64 = 300;

/// A rate: so many requests per period, all of which may come at once (the burst is the whole
/// quota), refilled evenly over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per period (at least 1).
    pub count: u32,
    /// The period.
    pub per: std::time::Duration,
}

impl Rate {
    /// `count` per hour.
    pub const fn per_hour(count: u32) -> Rate {
        Rate {
            count,
            per: std::time::Duration::from_secs(3600),
        }
    }

    /// Parses `1000000/hour`, `50/minute`, `5/second` (also `h`, `min`, `m`, `s`), or `off`
    /// (`None`: no limit).
    pub fn parse(text: &str) -> Result<Option<Rate>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad =
            || format!("`{text}` is not a rate like 1000000/hour, 50/minute, 5/second or off");
        let (count, unit) = text.split_once('/').ok_or_else(bad)?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(bad)?;
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            _ => return Err(bad()),
        };
        Ok(Some(Rate {
            count,
            per: std::time::Duration::from_secs(secs),
        }))
    }
}

/// The rate limits, per process (see the README): `None` turns a bucket off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// `LIAISON_RATE_LIMIT_READS`: GET and HEAD under `/v1`, per caller (default 1000000/hour).
    pub reads: Option<Rate>,
    /// `LIAISON_RATE_LIMIT_WRITES`: other methods under `/v1`, per caller (default 200000/hour).
    pub writes: Option<Rate>,
    /// `LIAISON_RATE_LIMIT_IMPORTS`: requests under `/v1/imports/`, per caller (default
    /// 1000/hour).
    pub imports: Option<Rate>,
    /// `LIAISON_RATE_LIMIT_TOKEN_FAILURES`: failed `POST /oauth/token` attempts, per client id
    /// and per peer address (default 10/minute).
    pub token_failures: Option<Rate>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            reads: Some(Rate::per_hour(1_000_000)),
            writes: Some(Rate::per_hour(200_000)),
            imports: Some(Rate::per_hour(1_000)),
            token_failures: Some(Rate {
                count: 10,
                per: std::time::Duration::from_secs(60),
            }),
        }
    }
}

/// How long a token from `POST /oauth/token` lives when `LIAISON_CLIENT_TOKEN_TTL_SECONDS` is
/// not set: 15 minutes.
pub const DEFAULT_CLIENT_TOKEN_TTL_SECONDS: i64 = 900;

/// How tokens are verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// HS256 with a secret given in `LIAISON_JWT_SECRET`.
    Secret(String),
    /// HS256 with a secret kept in a file (generated there on first run when missing).
    SecretFile(PathBuf),
    /// RS256 or ES256 with a PEM public key from `LIAISON_JWT_PUBLIC_KEY_FILE`.
    PublicKey { algorithm: String, path: PathBuf },
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`, default `sqlite://liaison.db`.
    pub database: DatabaseUrl,
    /// `LIAISON_BIND`, default `127.0.0.1:8080`.
    pub bind: String,
    /// From `LIAISON_JWT_ALGORITHM` (HS256), `LIAISON_JWT_SECRET`, `LIAISON_JWT_SECRET_FILE`,
    /// `LIAISON_JWT_PUBLIC_KEY_FILE`.
    pub keys: KeySource,
    /// `LIAISON_JWT_ISSUER`: when set, tokens must carry this `iss`.
    pub issuer: Option<String>,
    /// `LIAISON_JWT_AUDIENCE`: when set, tokens must carry this `aud`.
    pub audience: Option<String>,
    /// `LIAISON_JWT_LEEWAY_SECONDS`: how far the clocks of the identity provider and of this
    /// service may disagree when checking a token's `exp` and `nbf` (default 30, at most 300).
    pub jwt_leeway_seconds: u64,
    /// `LIAISON_CORS_ORIGINS`: comma-separated origins allowed to call from a browser; none by default.
    pub cors_origins: Vec<String>,
    /// `LIAISON_DB_POOL_SIZE`: database connections per process (default 4 on SQLite, 16 on PostgreSQL).
    pub pool_size: u32,
    /// `LIAISON_WORKERS`: HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// `LIAISON_RATE_LIMIT_*`: the rate limits.
    pub rate_limits: RateLimitConfig,
    /// `LIAISON_CLIENT_TOKEN_TTL_SECONDS`: how long a service account's token lives (default
    /// 900, from 60 to 86400).
    pub client_token_ttl_seconds: i64,
    /// `LIAISON_IMPORT_MAX_BYTES`: the largest body a bulk import takes (default 100 MiB).
    pub import_max_bytes: usize,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let database = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| "sqlite://liaison.db".into()),
        )?;
        let bind = get("LIAISON_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let algorithm = get("LIAISON_JWT_ALGORITHM")
            .unwrap_or_else(|| "HS256".into())
            .to_uppercase();
        let keys = match algorithm.as_str() {
            "HS256" => match (get("LIAISON_JWT_SECRET"), get("LIAISON_JWT_SECRET_FILE")) {
                (Some(_), Some(_)) => {
                    return Err(
                        "set LIAISON_JWT_SECRET or LIAISON_JWT_SECRET_FILE, not both".into(),
                    )
                }
                (Some(secret), None) => {
                    if secret.len() < 32 {
                        return Err("LIAISON_JWT_SECRET must be at least 32 characters".into());
                    }
                    KeySource::Secret(secret)
                }
                (None, Some(path)) => KeySource::SecretFile(PathBuf::from(path)),
                (None, None) => KeySource::SecretFile(database.default_secret_path()),
            },
            "RS256" | "ES256" => {
                let path = get("LIAISON_JWT_PUBLIC_KEY_FILE").ok_or_else(|| {
                    format!("LIAISON_JWT_ALGORITHM={algorithm} needs LIAISON_JWT_PUBLIC_KEY_FILE")
                })?;
                KeySource::PublicKey {
                    algorithm,
                    path: PathBuf::from(path),
                }
            }
            other => {
                return Err(format!(
                    "LIAISON_JWT_ALGORITHM `{other}` is not supported; use HS256, RS256 or ES256"
                ))
            }
        };
        let jwt_leeway_seconds = match get("LIAISON_JWT_LEEWAY_SECONDS") {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_JWT_LEEWAY_SECONDS)
                .ok_or_else(|| {
                    format!(
                        "LIAISON_JWT_LEEWAY_SECONDS must be a number of seconds from 0 to {MAX_JWT_LEEWAY_SECONDS}"
                    )
                })?,
            None => DEFAULT_JWT_LEEWAY_SECONDS,
        };
        let cors_origins = get("LIAISON_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let pool_size = match get("LIAISON_DB_POOL_SIZE") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or("LIAISON_DB_POOL_SIZE must be a number from 1 to 256")?,
            None => match database.backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            },
        };
        let workers = match get("LIAISON_WORKERS") {
            Some(v) => Some(
                v.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=512).contains(n))
                    .ok_or("LIAISON_WORKERS must be a number from 1 to 512")?,
            ),
            None => None,
        };
        let mut rate_limits = RateLimitConfig::default();
        for (name, slot) in [
            ("LIAISON_RATE_LIMIT_READS", &mut rate_limits.reads),
            ("LIAISON_RATE_LIMIT_WRITES", &mut rate_limits.writes),
            ("LIAISON_RATE_LIMIT_IMPORTS", &mut rate_limits.imports),
            (
                "LIAISON_RATE_LIMIT_TOKEN_FAILURES",
                &mut rate_limits.token_failures,
            ),
        ] {
            if let Some(v) = get(name) {
                *slot = Rate::parse(&v).map_err(|e| format!("{name}: {e}"))?;
            }
        }
        let client_token_ttl_seconds = match get("LIAISON_CLIENT_TOKEN_TTL_SECONDS") {
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (60..=86_400).contains(n))
                .ok_or(
                    "LIAISON_CLIENT_TOKEN_TTL_SECONDS must be a number of seconds from 60 to 86400",
                )?,
            None => DEFAULT_CLIENT_TOKEN_TTL_SECONDS,
        };
        let import_max_bytes = match get("LIAISON_IMPORT_MAX_BYTES") {
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or("LIAISON_IMPORT_MAX_BYTES must be a number of bytes, 1 or more")?,
            None => crate::routes::imports::DEFAULT_MAX_BYTES,
        };
        Ok(Config {
            rate_limits,
            client_token_ttl_seconds,
            import_max_bytes,
            database,
            bind,
            keys,
            issuer: get("LIAISON_JWT_ISSUER"),
            audience: get("LIAISON_JWT_AUDIENCE"),
            jwt_leeway_seconds,
            cors_origins,
            pool_size,
            workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        let s = DatabaseUrl::parse("sqlite://data/l.db").unwrap();
        assert_eq!(
            (s.backend, s.target.as_str()),
            (Backend::Sqlite, "data/l.db")
        );
        let s = DatabaseUrl::parse("l.db").unwrap();
        assert_eq!(s.backend, Backend::Sqlite);
        let p = DatabaseUrl::parse("postgresql://u@h/db").unwrap();
        assert_eq!(p.backend, Backend::Postgres);
        assert!(DatabaseUrl::parse("mysql://x")
            .unwrap_err()
            .contains("mysql"));
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn defaults_and_refusals() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.pool_size, 4);
        assert_eq!(
            c.keys,
            KeySource::SecretFile(PathBuf::from("liaison-jwt-secret.key"))
        );
        let short = Config::from_lookup(|k| (k == "LIAISON_JWT_SECRET").then(|| "short".into()));
        assert!(short.is_err());
        let rs = Config::from_lookup(|k| (k == "LIAISON_JWT_ALGORITHM").then(|| "RS256".into()));
        assert!(rs.unwrap_err().contains("PUBLIC_KEY_FILE"));
        let none = Config::from_lookup(|k| (k == "LIAISON_JWT_ALGORITHM").then(|| "none".into()));
        assert!(none.is_err());
    }

    #[test]
    fn rates_parse_and_turn_off() {
        assert_eq!(
            Rate::parse("1000000/hour").unwrap(),
            Some(Rate::per_hour(1_000_000))
        );
        assert_eq!(Rate::parse(" 5 / s ").unwrap().unwrap().count, 5);
        assert_eq!(Rate::parse("OFF").unwrap(), None);
        for bad in ["0/hour", "-1/hour", "10", "10/day", "x/s", ""] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
        let c = Config::from_lookup(|k| (k == "LIAISON_RATE_LIMIT_READS").then(|| "off".into()));
        assert_eq!(c.unwrap().rate_limits.reads, None);
        let c = Config::from_lookup(|k| (k == "LIAISON_RATE_LIMIT_WRITES").then(|| "lots".into()));
        assert!(c.unwrap_err().contains("LIAISON_RATE_LIMIT_WRITES"));
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.rate_limits, RateLimitConfig::default());
        assert_eq!(c.client_token_ttl_seconds, 900);
    }

    #[test]
    fn the_jwt_leeway_is_bounded() {
        let leeway = |v: &'static str| {
            Config::from_lookup(move |k| (k == "LIAISON_JWT_LEEWAY_SECONDS").then(|| v.into()))
        };
        assert_eq!(
            Config::from_lookup(|_| None).unwrap().jwt_leeway_seconds,
            30
        );
        assert_eq!(leeway("0").unwrap().jwt_leeway_seconds, 0);
        assert_eq!(leeway(" 120 ").unwrap().jwt_leeway_seconds, 120);
        assert_eq!(leeway("300").unwrap().jwt_leeway_seconds, 300);
        for bad in ["301", "-1", "30s", "1e3", "99999999999999999999999"] {
            let err = leeway(bad).unwrap_err();
            assert!(err.contains("LIAISON_JWT_LEEWAY_SECONDS"), "{bad}: {err}");
        }
    }
}
