//! The database: one connection type over SQLite and PostgreSQL, its pool, migrations, and the
//! one helper that runs diesel's blocking work off the async workers.

pub mod schema;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self as dr2d2, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{Backend, DatabaseUrl};
use crate::error::ApiError;

/// A connection to either backend; the variant is chosen from the URL scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Postgresql(diesel::PgConnection),
    /// SQLite.
    Sqlite(diesel::SqliteConnection),
}

diesel::define_sql_function! {
    /// SQL `casefold()`, the case folding of name searches: defined by a migration on
    /// PostgreSQL, and registered on each SQLite connection (whose own `lower()` folds only
    /// ASCII), so `q` filters behave alike on both backends.
    fn casefold(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Settings every SQLite connection gets when it opens (WAL itself is set once, at migration).
const SQLITE_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";

/// Opens connections of the backend the URL names (never guessing from a failed attempt).
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    /// A manager for this URL.
    pub fn new(url: DatabaseUrl) -> Self {
        Manager { url }
    }

    /// Opens one connection, configured.
    pub fn open(&self) -> Result<DbConnection, dr2d2::Error> {
        match self.url.backend {
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url.target)
                    .map_err(dr2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(dr2d2::Error::QueryError)?;
                casefold_utils::register_impl(&mut conn, |s: String| s.to_lowercase())
                    .map_err(dr2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => diesel::PgConnection::establish(&self.url.target)
                .map(DbConnection::Postgresql)
                .map_err(dr2d2::Error::ConnectionError),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = dr2d2::Error;

    fn connect(&self) -> Result<DbConnection, dr2d2::Error> {
        self.open()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), dr2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(dr2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Applies pending migrations; on SQLite also switches the file to WAL, once.
pub fn migrate(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => {
            c.batch_execute("PRAGMA journal_mode = WAL;")
                .map_err(|e| e.to_string())?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| e.to_string())?
                .len()
        }
        DbConnection::Postgresql(c) => {
            // Several app servers may start at once against one database: one migrates.
            c.batch_execute("SELECT pg_advisory_lock(7215640190)")
                .map_err(|e| e.to_string())?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            c.batch_execute("SELECT pg_advisory_unlock(7215640190)")
                .map_err(|e| e.to_string())?;
            result.map_err(|e| e.to_string())?
        }
    };
    Ok(applied)
}

/// The pool, and how work reaches it.
#[derive(Clone)]
pub struct Db {
    pool: dr2d2::Pool<Manager>,
    backend: Backend,
    /// SQLite has one writer at a time; queuing writers here instead of in SQLite's busy loop
    /// keeps write latency flat under load. Unused on PostgreSQL.
    writer: Arc<Mutex<()>>,
    /// One permit per pooled connection: requests wait their turn here, on the async side,
    /// rather than as blocking threads parked on the pool (each of which costs memory).
    permits: Arc<tokio::sync::Semaphore>,
}

impl Db {
    /// Opens the pool (and checks one connection can be made).
    pub fn connect(url: &DatabaseUrl, size: u32) -> Result<Self, String> {
        let db = Db::lazy(url, size, Duration::from_secs(5));
        db.get()?;
        Ok(db)
    }

    /// A pool that connects only when asked, waiting at most `timeout` for a connection: a
    /// database that does not answer then shows as 503s and a failing `/readyz`.
    pub fn lazy(url: &DatabaseUrl, size: u32, timeout: Duration) -> Self {
        let pool = dr2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(timeout)
            .build_unchecked(Manager::new(url.clone()));
        Db {
            pool,
            backend: url.backend,
            writer: Arc::new(Mutex::new(())),
            permits: Arc::new(tokio::sync::Semaphore::new(size as usize)),
        }
    }

    /// Runs `f` with a connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Runs `f` in one transaction on the blocking pool; an `Err` rolls everything back.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let _turn = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable)?;
        let pool = self.pool.clone();
        let writer = (self.backend == Backend::Sqlite).then(|| self.writer.clone());
        web::block(move || {
            let _turn = writer
                .as_ref()
                .map(|lock| lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            let mut conn = pool.get()?;
            let conn: &mut DbConnection = &mut conn;
            conn.transaction::<T, ApiError, _>(f)
        })
        .await?
    }

    /// A connection for work outside requests (migrations, start-up).
    pub fn get(&self) -> Result<dr2d2::PooledConnection<Manager>, String> {
        self.pool
            .get()
            .map_err(|e| format!("cannot open the database: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_casefold_folds_unicode() {
        let dir = std::env::temp_dir().join(format!("liaison-lower-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::parse(&dir.join("l.db").display().to_string()).unwrap();
        let mut conn = Manager::new(url).open().unwrap();
        let folded: String = diesel::select(casefold("The ÁLVAREZ family"))
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(folded, "the álvarez family");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
