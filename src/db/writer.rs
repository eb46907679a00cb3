//! SQLite's one writer: a thread that owns the write connection and commits the writes waiting
//! for it together.
//!
//! SQLite lets one connection write at a time. Rather than let every request's connection wait
//! for the lock in SQLite's busy loop (long tails, and a waiting writer holding a connection that
//! readers need), writes are queued here. The thread takes every write that is waiting (up to
//! [`MAX_BATCH`]), opens one `BEGIN IMMEDIATE` transaction, runs each write in a savepoint of its
//! own — a write that fails is rolled back to its savepoint and only it fails — and commits once.
//! Only then does each request get its answer: nothing is acknowledged that is not committed.
//! A batch of one is an ordinary transaction; under load, one commit carries many writes.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use super::{DbConnection, Manager};
use crate::error::ApiError;

/// The most writes one commit carries.
pub const MAX_BATCH: usize = 64;

/// The writer's page cache is larger than a reader's (SQLite's default is 2 MiB): every write
/// walks the indexes of several tables (the record's, the audit log's, the change feed's), and
/// with the default a write on a database of a million communications spent much of its time
/// reading index pages back from the OS (perf: half of the writer thread's samples in the
/// kernel). 8 MiB: 4,449 -> 5,570 created communications/s, p99 25 -> 19 ms, in one pair of runs
/// back to back (this machine's speed drifts by tens of percent); 16 MiB bought nothing more. (Checkpointing beside the writer in a thread of its own was tried and lost:
/// a passive checkpoint could not keep up, and the WAL grew until the writer's own checkpoint
/// stalled it.)
const WRITER_PRAGMAS: &str = "PRAGMA cache_size = -8192;";

type Manage = <DbConnection as Connection>::TransactionManager;

/// A queued write: runs on the writer's connection inside its savepoint, and says whether it
/// succeeded and how to answer once the batch's commit is known.
type Job = Box<dyn FnOnce(&mut DbConnection) -> Ran + Send>;

/// What a write did: `ok` keeps its savepoint; `answer` is called with the commit's outcome.
struct Ran {
    ok: bool,
    answer: Box<dyn FnOnce(Result<(), CommitFailed>) + Send>,
}

/// The batch's commit failed: every write in it is lost.
#[derive(Debug, Clone, Copy)]
struct CommitFailed;

/// The queue of the writer thread; the thread stops when the last handle is dropped.
pub struct Writer {
    queue: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread; it opens its connection on first use (and again after a
    /// failure to open), so a database that is not there yet shows as 503s, not a crash.
    pub fn start(manager: Manager) -> Writer {
        let (queue, jobs) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("liaison-sqlite-writer".into())
            .spawn(move || run(manager, jobs));
        if let Err(e) = spawned {
            // Without the thread every write answers 503 (its job is dropped unanswered).
            log::error!("cannot start the SQLite writer thread: {e}");
        }
        Writer { queue }
    }

    /// Queues `f` and waits for its outcome, which comes after the commit that carries it.
    pub async fn submit<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, outcome) = tokio::sync::oneshot::channel::<Result<T, ApiError>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            Ran {
                ok: result.is_ok(),
                answer: Box::new(move |committed| {
                    let answer = match committed {
                        Ok(()) => result,
                        // A write that failed keeps its own error; one that succeeded is lost.
                        Err(CommitFailed) => result.and(Err(ApiError::Unavailable)),
                    };
                    let _ = reply.send(answer);
                }),
            }
        });
        self.queue.send(job).map_err(|_| ApiError::Unavailable)?;
        // The job was dropped unanswered: no connection could be opened, or it panicked (logged).
        outcome.await.map_err(|_| ApiError::Unavailable)?
    }
}

fn run(manager: Manager, jobs: mpsc::Receiver<Job>) {
    let mut conn: Option<DbConnection> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = Vec::with_capacity(8);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if conn.is_none() {
            match manager.open().and_then(|mut c| {
                c.batch_execute(WRITER_PRAGMAS)
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(c)
            }) {
                Ok(c) => conn = Some(c),
                Err(e) => log::error!("the SQLite writer cannot open the database: {e}"),
            }
        }
        // Without a connection the batch is dropped, and every request in it answers 503.
        if let Some(c) = conn.as_mut() {
            if !commit_batch(c, batch) {
                // The connection is in an unknown state: open a fresh one for the next batch.
                conn = None;
            }
        }
    }
}

/// Runs a batch in one transaction; false when the connection should not be used again.
fn commit_batch(conn: &mut DbConnection, mut batch: Vec<Job>) -> bool {
    if let Err(e) = begin_immediate(conn) {
        log::error!("the SQLite writer cannot begin a transaction: {e}");
        return false;
    }
    let mut ran = Vec::with_capacity(batch.len());
    if batch.len() == 1 {
        if let Some(job) = batch.pop() {
            // Alone, a write needs no savepoint: its failure rolls the transaction back.
            return commit_one(conn, job);
        }
    }
    for job in batch {
        if let Err(e) = Manage::begin_transaction(conn) {
            log::error!("the SQLite writer cannot open a savepoint: {e}");
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok(r) if r.ok => match Manage::commit_transaction(conn) {
                Ok(()) => ran.push(r),
                Err(e) => {
                    log::error!("the SQLite writer cannot release a savepoint: {e}");
                    let _ = Manage::rollback_transaction(conn);
                    (r.answer)(Err(CommitFailed));
                }
            },
            Ok(r) => {
                if let Err(e) = Manage::rollback_transaction(conn) {
                    log::error!("the SQLite writer cannot roll back a savepoint: {e}");
                }
                ran.push(r);
            }
            Err(_) => {
                log::error!("a write panicked; it was rolled back");
                let _ = Manage::rollback_transaction(conn);
            }
        }
    }
    let committed = match Manage::commit_transaction(conn) {
        Ok(()) => Ok(()),
        Err(e) => {
            log::error!("the SQLite writer cannot commit: {e}");
            let _ = Manage::rollback_transaction(conn);
            Err(CommitFailed)
        }
    };
    for r in ran {
        (r.answer)(committed);
    }
    committed.is_ok()
}

/// Runs a batch of one write in the transaction `commit_batch` began; false when the connection
/// should not be used again.
fn commit_one(conn: &mut DbConnection, job: Job) -> bool {
    match catch_unwind(AssertUnwindSafe(|| job(conn))) {
        Ok(r) if r.ok => {
            let committed = match Manage::commit_transaction(conn) {
                Ok(()) => Ok(()),
                Err(e) => {
                    log::error!("the SQLite writer cannot commit: {e}");
                    let _ = Manage::rollback_transaction(conn);
                    Err(CommitFailed)
                }
            };
            (r.answer)(committed);
            committed.is_ok()
        }
        Ok(r) => {
            let rolled_back = Manage::rollback_transaction(conn);
            if let Err(e) = &rolled_back {
                log::error!("the SQLite writer cannot roll back: {e}");
            }
            (r.answer)(Ok(()));
            rolled_back.is_ok()
        }
        Err(_) => {
            log::error!("a write panicked; it was rolled back");
            Manage::rollback_transaction(conn).is_ok()
        }
    }
}

/// `BEGIN IMMEDIATE`: takes the write lock at once, so a write never fails half-way for want of
/// it. Nested `begin_transaction` calls then open savepoints.
fn begin_immediate(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        }
        other => Manage::begin_transaction(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseUrl;
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    use std::time::Duration;

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        x: i64,
    }

    fn insert(conn: &mut DbConnection, x: i64) -> Result<(), ApiError> {
        conn.batch_execute(&format!("INSERT INTO t (x) VALUES ({x})"))
            .map_err(ApiError::from)
    }

    /// Writes queued behind a slow one are committed together; the one that fails (a constraint
    /// violation, an error of its own, a panic) fails alone and leaves nothing, the others commit.
    #[test]
    fn a_failing_write_in_a_batch_fails_alone() {
        let dir = std::env::temp_dir().join(format!("liaison-writer-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::parse(&dir.join("w.db").display().to_string()).unwrap();
        let manager = Manager::new(url);
        manager
            .open()
            .unwrap()
            .batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER PRIMARY KEY);")
            .unwrap();
        let writer = std::rc::Rc::new(Writer::start(manager.clone()));
        actix_web::rt::System::new().block_on(async move {
            // A slow write holds the writer while the others queue behind it.
            let w = writer.clone();
            let slow = actix_web::rt::spawn(async move {
                w.submit(|c| {
                    std::thread::sleep(Duration::from_millis(300));
                    insert(c, 100)
                })
                .await
            });
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            let mut handles = Vec::new();
            for x in 1..=6 {
                let w = writer.clone();
                handles.push(actix_web::rt::spawn(async move {
                    match x {
                        // A duplicate key: the database refuses it.
                        3 => {
                            w.submit(|c| {
                                insert(c, 103)?;
                                insert(c, 1)
                            })
                            .await
                        }
                        // The write's own refusal, after it wrote.
                        4 => {
                            w.submit(|c| {
                                insert(c, 104)?;
                                Err(ApiError::Conflict("refused".into()))
                            })
                            .await
                        }
                        // A bug.
                        5 => {
                            w.submit(|c| {
                                insert(c, 105)?;
                                panic!("a bug in a write")
                            })
                            .await
                        }
                        _ => w.submit(move |c| insert(c, x)).await,
                    }
                }));
            }
            assert!(slow.await.unwrap().is_ok());
            let mut outcomes = Vec::new();
            for h in handles {
                outcomes.push(h.await.unwrap().is_ok());
            }
            assert_eq!(outcomes, [true, true, false, false, false, true]);
        });
        let mut conn = manager.open().unwrap();
        let rows: Vec<i64> = diesel::sql_query("SELECT x FROM t ORDER BY x")
            .load::<Row>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|r| r.x)
            .collect();
        assert_eq!(rows, [1, 2, 6, 100]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
