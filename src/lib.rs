//! Liaison: the system of record and JSON API for a school's family relations.
//!
//! `app` builds the actix application that `liaison serve` runs and the tests drive.

pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod ids;
pub mod openapi;
pub mod routes;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Condition, Logger};
use actix_web::{web, App, HttpServer};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Keys;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::http::routing::RouteTable;

/// What every request can reach.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Token verification (and minting, with a shared secret).
    pub keys: Keys,
    /// The time, as the service sees it.
    pub clock: Clock,
    /// Which paths and methods exist, for 404/405.
    pub routes: &'static RouteTable,
    /// The rate limits of this process.
    pub limits: http::rate_limit::RateLimits,
    /// How long a service account's token lives, in seconds.
    pub client_token_ttl_seconds: i64,
    /// The largest import body taken (`LIAISON_IMPORT_MAX_BYTES`).
    pub import_max_bytes: usize,
}

impl AppState {
    /// Opens the database, applies migrations and loads the keys.
    pub fn open(config: &Config) -> Result<AppState, String> {
        let keys = Keys::load(config)?;
        let db = Db::connect(&config.database, config.pool_size)?;
        let applied = db::migrate(&mut *db.get()?)?;
        if applied > 0 {
            log::info!("applied {applied} database migration(s)");
        }
        let mut state = AppState::new(db, keys, Clock::system())
            .with_limits(&config.rate_limits)
            .with_client_token_ttl(config.client_token_ttl_seconds);
        state.import_max_bytes = config.import_max_bytes;
        Ok(state)
    }

    /// Runs `f` as one recorded write on behalf of `caller`, at the clock's now (see
    /// [`Db::write`]).
    pub async fn write<T, F>(&self, caller: &auth::Caller, f: F) -> Result<T, error::ApiError>
    where
        F: FnOnce(&mut db::Tx<'_>) -> Result<T, error::ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let ctx = db::WriteContext {
            caller: caller.clone(),
            now: self.clock.now(),
        };
        self.db.write(ctx, f).await
    }

    /// State from its parts (the tests bring their own clock), with the default rate limits
    /// and token lifetime.
    pub fn new(db: Db, keys: Keys, clock: Clock) -> AppState {
        AppState {
            db,
            keys,
            clock,
            routes: openapi::routes(),
            limits: http::rate_limit::RateLimits::new(&config::RateLimitConfig::default()),
            client_token_ttl_seconds: config::DEFAULT_CLIENT_TOKEN_TTL_SECONDS,
            import_max_bytes: routes::imports::DEFAULT_MAX_BYTES,
        }
    }

    /// The same state with other rate limits.
    pub fn with_limits(mut self, limits: &config::RateLimitConfig) -> AppState {
        self.limits = http::rate_limit::RateLimits::new(limits);
        self
    }

    /// The same state with another lifetime for service accounts' tokens.
    pub fn with_client_token_ttl(mut self, seconds: i64) -> AppState {
        self.client_token_ttl_seconds = seconds;
        self
    }
}

/// The whole application: routes, conventions, docs.
pub fn app(
    state: web::Data<AppState>,
    cors_origins: &[String],
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The workers register the handlers with actix alone: the OpenAPI document is built once,
    // by `openapi::json()` and `openapi::routes()`.
    let app = App::new().configure(routes::configure);
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
            "x-request-id",
            "x-purpose",
        ])
        .expose_headers([
            "etag",
            "link",
            "location",
            "x-request-id",
            "idempotent-replayed",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "ratelimit-policy",
            "retry-after",
        ])
        .max_age(3600);
    for origin in cors_origins {
        cors = cors.allowed_origin(origin);
    }
    app.app_data(state)
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, req| http::routing::path_error(req).into()),
        )
        // The document is served once-serialized and shared by every worker; the viewer is told
        // where to fetch it rather than given its own copy of it in each worker.
        .route("/v1/openapi.json", web::get().to(routes::openapi_json))
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/v1/openapi.json")),
        )
        .route("/docs", web::get().to(routes::docs_redirect))
        .default_service(web::to(http::routing::fallback))
        .wrap(from_fn(http::precheck::middleware))
        .wrap(from_fn(http::rate_limit::middleware))
        .wrap(Condition::new(!cors_origins.is_empty(), cors))
        .wrap(from_fn(http::problem_fallback::middleware))
        .wrap(from_fn(http::request_id::middleware))
        .wrap(
            Logger::new("%{method}xi %U %s %b %Dms request_id=%{x-request-id}o")
                .custom_request_replace("method", |req| req.method().to_string()),
        )
}

/// Runs the service until it is stopped.
pub async fn serve(config: Config) -> Result<(), String> {
    let state = web::Data::new(AppState::open(&config)?);
    let purge_state = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = purge_state.clock.now();
            purge_state.limits.forget_idle();
            if let Err(e) = purge_state
                .db
                .housekeeping(move |c| Ok(http::idempotency::purge(c, now)?))
                .await
            {
                log::warn!("could not purge old idempotency keys: {e}");
            }
        }
    });
    let origins = config.cors_origins.clone();
    let workers = config.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    // Each worker has its own pool of blocking threads, which PostgreSQL's queries run on (SQLite
    // needs none: reads run inline, writes on the writer thread). Left at actix's default (512
    // per process) the pools grew to ~90 threads under load, each keeping memory of its own,
    // although no more than the connection pool's size ever run at once.
    let blocking = match config.database.backend {
        config::Backend::Sqlite => 1,
        config::Backend::Postgres => (config.pool_size as usize).div_ceil(workers).max(1),
    };
    let server = HttpServer::new(move || app(state.clone(), &origins))
        .workers(workers)
        .worker_max_blocking_threads(blocking);
    log::info!(
        "Liaison listening on http://{} ({:?})",
        config.bind,
        config.database.backend
    );
    server
        .bind(&config.bind)
        .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?
        .run()
        .await
        .map_err(|e| e.to_string())
}
