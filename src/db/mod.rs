//! The database: one connection type over SQLite and PostgreSQL, how requests reach it, and
//! migrations.
//!
//! Reads and writes take different roads, chosen for each engine:
//! - SQLite reads run inline on the HTTP worker, on a connection taken from a small stack (one
//!   per worker thread in practice): a read takes microseconds, less than the hop to a blocking
//!   thread and back would cost. SQLite writes go to one writer thread that owns the only write
//!   connection and commits the writes waiting for it together (group commit), each in a
//!   savepoint of its own, so one failing write never takes the others down and no write is
//!   acknowledged before its commit.
//! - PostgreSQL reads and writes run on the blocking pool with a pooled connection, queued on
//!   the async side behind one permit per pooled connection.
//!
//! Either way a write is one transaction that runs through [`Tx`], which records its audit
//! events and change records in the same transaction.

mod backend;
pub mod schema;
pub mod types;
pub mod update;
mod write;
mod writer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self as dr2d2, ManageConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub use backend::{committed_sequence, plan_each_statement, refresh_statistics};
pub(crate) use write::{insert_rows, stored_in};
pub use write::{
    Action, Archivable, Operation, Read, Record, ResourceType, Tx, WriteContext, BATCH_ROWS,
};

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

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        use diesel::r2d2::R2D2Connection;
        // A connection left mid-transaction or whose socket failed is not lent again.
        match conn {
            DbConnection::Postgresql(c) => c.is_broken(),
            DbConnection::Sqlite(c) => c.is_broken(),
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete connection of whichever backend `$conn` is. A
/// query written inside is built, typed and cached for that backend directly: through the
/// `MultiConnection` layer diesel writes a query's SQL out again on every execution, even when
/// the prepared statement is cached (a fifth of a GET's instructions under callgrind). The body
/// is compiled once per backend, so it must be valid for both.
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use native;

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

/// The database, as requests reach it. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

enum Inner {
    Sqlite {
        manager: Manager,
        /// Idle read connections; a read takes one and puts it back.
        readers: Mutex<Vec<DbConnection>>,
        /// The writer thread's queue.
        writer: writer::Writer,
    },
    Postgres {
        pool: dr2d2::Pool<Manager>,
        /// One permit per pooled connection: requests wait their turn here, on the async side,
        /// rather than as blocking threads parked on the pool (each of which costs memory).
        permits: tokio::sync::Semaphore,
    },
}

impl Db {
    /// Opens the database (and checks that a connection can be made). `pool_size` is the
    /// PostgreSQL pool's size; SQLite opens a read connection per thread that reads, and one
    /// writer.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, String> {
        let db = Db::lazy(url, pool_size, Duration::from_secs(5));
        db.get()?;
        Ok(db)
    }

    /// The database, connecting only when asked and waiting at most `timeout` for a pooled
    /// connection: a database that does not answer then shows as 503s and a failing `/readyz`.
    pub fn lazy(url: &DatabaseUrl, pool_size: u32, timeout: Duration) -> Self {
        let manager = Manager::new(url.clone());
        let inner = match url.backend {
            Backend::Sqlite => Inner::Sqlite {
                writer: writer::Writer::start(manager.clone()),
                manager,
                readers: Mutex::new(Vec::new()),
            },
            Backend::Postgres => Inner::Postgres {
                // No test query on every checkout (a round trip per request): a connection is
                // dropped instead when it comes back broken (`has_broken`).
                pool: dr2d2::Pool::builder()
                    .max_size(pool_size)
                    .min_idle(Some(1))
                    .test_on_check_out(false)
                    .connection_timeout(timeout)
                    .build_unchecked(manager),
                permits: tokio::sync::Semaphore::new(pool_size as usize),
            },
        };
        Db {
            inner: Arc::new(inner),
        }
    }

    /// Runs `f` with a connection (no transaction).
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite { .. } => {
                let mut conn = self.checkout().map_err(|e| {
                    log::warn!("{e}");
                    ApiError::Unavailable
                })?;
                f(&mut conn)
            }
            Inner::Postgres { pool, permits } => {
                let _turn = permits.acquire().await.map_err(|_| ApiError::Unavailable)?;
                let pool = pool.clone();
                web::block(move || {
                    let mut conn = pool.get()?;
                    f(&mut conn)
                })
                .await?
            }
        }
    }

    /// Runs `f` as one write transaction on behalf of `ctx`'s caller: everything it does, with
    /// the audit events and change records its [`Tx`] collects, commits together or not at
    /// all. The answer comes only after the commit.
    pub async fn write<T, F>(&self, ctx: WriteContext, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.transaction(move |conn| write::run(conn, &ctx, f))
            .await
    }

    /// Runs `f` in one transaction that records nothing: for the service's own housekeeping
    /// (forgetting expired idempotency keys), never for a client's write.
    pub async fn housekeeping<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.transaction(f).await
    }

    async fn transaction<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite { writer, .. } => writer.submit(f).await,
            Inner::Postgres { pool, permits } => {
                let _turn = permits.acquire().await.map_err(|_| ApiError::Unavailable)?;
                let pool = pool.clone();
                web::block(move || {
                    let mut conn = pool.get()?;
                    let conn: &mut DbConnection = &mut conn;
                    conn.transaction::<T, ApiError, _>(f)
                })
                .await?
            }
        }
    }

    /// A connection for work outside requests (migrations, start-up, tests).
    pub fn get(&self) -> Result<Checkout, String> {
        self.checkout()
    }

    fn checkout(&self) -> Result<Checkout, String> {
        let failed = |e: &dyn std::fmt::Display| format!("cannot open the database: {e}");
        match &*self.inner {
            Inner::Sqlite {
                manager, readers, ..
            } => {
                let idle = readers
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .pop();
                let conn = match idle {
                    Some(c) => c,
                    None => manager.open().map_err(|e| failed(&e))?,
                };
                Ok(Checkout(Lent::Sqlite(Some(conn), self.inner.clone())))
            }
            Inner::Postgres { pool, .. } => pool
                .get()
                .map(|c| Checkout(Lent::Pooled(c)))
                .map_err(|e| failed(&e)),
        }
    }
}

/// A connection lent out; it goes back where it came from when dropped.
pub struct Checkout(Lent);

enum Lent {
    /// An SQLite read connection (always `Some` until dropped) and the stack it returns to.
    Sqlite(Option<DbConnection>, Arc<Inner>),
    /// A pooled PostgreSQL connection.
    Pooled(dr2d2::PooledConnection<Manager>),
}

impl std::ops::Deref for Checkout {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        match &self.0 {
            Lent::Sqlite(conn, _) => conn.as_ref().unwrap_or_else(|| unreachable!()),
            Lent::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut DbConnection {
        match &mut self.0 {
            Lent::Sqlite(conn, _) => conn.as_mut().unwrap_or_else(|| unreachable!()),
            Lent::Pooled(c) => c,
        }
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Lent::Sqlite(conn, db) = &mut self.0 {
            if let (Some(conn), Inner::Sqlite { readers, .. }) = (conn.take(), &**db) {
                readers
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(conn);
            }
        }
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
