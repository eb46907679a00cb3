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
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex, TryLockError};

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{Connection, RunQueryDsl};

use super::{DbConnection, Manager};
use crate::error::ApiError;

/// The most writes one commit carries.
pub const MAX_BATCH: usize = 64;

/// The writer's page cache is larger than a reader's (SQLite's default is 2 MiB): every write
/// walks the indexes of several tables (the record's, the audit log's, the change feed's), and
/// with the default a write on a database of a million communications spent much of its time
/// reading index pages back from the OS (perf: half of the writer thread's samples in the
/// kernel). 8 MiB: 4,449 -> 5,570 created communications/s, p99 25 -> 19 ms, in one pair of runs
/// back to back (this machine's speed drifts by tens of percent); 16 MiB bought nothing more.
///
/// The statement journal is kept in memory (`temp_store`): every write in a batch runs in a
/// savepoint, and SQLite keeps the original of each page a savepoint changes in that journal,
/// which past 64 KiB it otherwise spills to a temporary file, made, written page by page and
/// deleted for every batch (strace: an `openat` and an `unlink` a commit, 69 `pwrite`s a
/// created communication against 22 with the journal in memory). In memory: 2,229 / 2,435 ->
/// 2,614 / 2,553 created communications/s, in runs alternating with the former on one seeded
/// database; peak RSS the same to 2 MiB.
///
/// SQLite's own checkpoint after a commit is only a backstop, at twice [`RESTART_FRAMES`]
/// (should the copying thread be gone): [`Checkpoints`] says who copies the WAL instead. Below
/// that, it would run in the writer's commits before the writer's own restart was due.
const WRITER_PRAGMAS: &str =
    "PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 192000; PRAGMA temp_store = MEMORY;";

type Manage = <DbConnection as Connection>::TransactionManager;

/// The WAL's length (in pages) at which the writer checkpoints it itself, so that its next
/// commit starts the WAL over (375 MiB). Each time it does, every write waiting on it waits for
/// that copy and its fsyncs. Under load a restart took 8-117 ms, about two thirds of it asleep
/// (`/proc/thread-self/schedstat`), and the writer's sleeps were in `fsync` (its scheduler
/// switches). Most of it is the database file's fsync: SQLite syncs that file only in a
/// checkpoint that reaches the end of the WAL, so the copying thread's passive checkpoints leave
/// every page they copied since the last restart dirty in the page cache until this one (timed
/// apart: the WAL's fsync 3-10 ms, the database file's 9-91 ms, the checkpoint after them 9-29
/// ms). At 4,000 pages (16 MiB) restarts came several times a second under load; at 32,000, at
/// about 6,000 created communications/s (7.5 pages each), still twice a second, and every write
/// in flight at each one waited for it: 1% of them, which was the p99. In runs alternating on
/// one seeded database, 32,000 / 64,000 / 96,000 pages gave p99 24.4 / 19.2 / 13.8 ms and
/// 23.9 / 19.3 / 13.2 ms at 4,500-5,700 created/s, the same rate within noise. The `-wal` file
/// stays at about this size once a burst of writes has grown it.
const RESTART_FRAMES: i64 = 96_000;

/// Who copies the writer's WAL into the database, and when.
///
/// A checkpoint copies the pages committed to the WAL into the database file and syncs both.
/// Done by the writer after its commits (SQLite's automatic checkpoint), it held up every write
/// for that I/O: 32 concurrent applicant transitions on 100,000 applicants ran at 1,990–2,200/s
/// with p99 70–360 ms, and at 2,900/s with no checkpoint at all. So a thread of its own copies
/// the WAL after each commit (a `PASSIVE` checkpoint, which never blocks the writer) while the
/// writer goes on: 3,070–3,600/s, p99 31–44 ms, in runs alternating with the former.
///
/// Copying alone would let the WAL grow without end: SQLite starts the WAL over only at a commit
/// whose transaction began with all of it copied, and under load the writer's next transaction
/// always begins before the copy of its last commit is done. So once the WAL is
/// `restart_frames` long, the copying thread stands down, and after its next commit the writer
/// checkpoints itself (what is left is a commit or two) and starts the WAL over at the commit
/// after. The two never overlap (`turn`): SQLite refuses a second checkpoint while one runs; the
/// writer does not wait for the thread's, it tries again after its next commit.
struct Checkpoints {
    turn: Mutex<()>,
    /// The WAL's length in pages when last checkpointed (0 once the writer copied it all).
    frames: AtomicI64,
    /// The writer copied the whole WAL: its next commit starts the WAL over. Until then the
    /// copying thread would see the old WAL's length, so it waits.
    restarting: AtomicBool,
    restart_frames: i64,
}

impl Checkpoints {
    fn new(restart_frames: i64) -> Checkpoints {
        Checkpoints {
            turn: Mutex::new(()),
            frames: AtomicI64::new(0),
            restarting: AtomicBool::new(false),
            restart_frames,
        }
    }

    /// The WAL is long enough for the writer to start it over.
    fn due(&self) -> bool {
        self.frames.load(Ordering::Relaxed) >= self.restart_frames
    }

    /// The copying thread's checkpoint, after the writer's if one is running.
    fn copy(&self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        let _turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        if self.restarting.load(Ordering::Relaxed) {
            return Ok(());
        }
        let found = checkpoint(conn)?;
        self.frames.store(found.log, Ordering::Relaxed);
        Ok(())
    }

    /// The writer's checkpoint, unless the copying thread's is running.
    fn restart(&self, conn: &mut DbConnection) -> diesel::QueryResult<()> {
        let _turn = match self.turn.try_lock() {
            Ok(turn) => turn,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return Ok(()),
        };
        let found = checkpoint(conn)?;
        // A reader of an older state of the database can keep part of the WAL uncopied: then
        // the writer tries again after its next commit.
        let all = found.checkpointed == found.log;
        self.restarting.store(all, Ordering::Relaxed);
        self.frames
            .store(if all { 0 } else { found.log }, Ordering::Relaxed);
        Ok(())
    }
}

/// A passive checkpoint: copies what it can of the WAL without waiting for anyone.
fn checkpoint(conn: &mut DbConnection) -> diesel::QueryResult<Checkpointed> {
    match conn {
        DbConnection::Sqlite(c) => {
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Checkpointed>(c)
        }
        // Only SQLite has the writer thread.
        _ => Ok(Checkpointed {
            log: 0,
            checkpointed: 0,
        }),
    }
}

/// Of what `PRAGMA wal_checkpoint` answers: the pages in the WAL, and how many of them are now
/// in the database.
#[derive(diesel::QueryableByName)]
struct Checkpointed {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}

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
        Writer::start_with(manager, RESTART_FRAMES)
    }

    /// As `start`, with the WAL started over at `restart_frames` pages.
    fn start_with(manager: Manager, restart_frames: i64) -> Writer {
        let (queue, jobs) = mpsc::channel::<Job>();
        // One wake-up waiting is enough: the copy takes whatever the WAL holds by then.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let checkpoints = Arc::new(Checkpoints::new(restart_frames));
        let (copier, shared) = (manager.clone(), checkpoints.clone());
        let copying = std::thread::Builder::new()
            .name("liaison-sqlite-wal".into())
            .spawn(move || copy_wal(copier, &shared, woken));
        if let Err(e) = copying {
            // SQLite's automatic checkpoint (the backstop) still bounds the WAL.
            log::error!("cannot start the SQLite WAL copying thread: {e}");
        }
        let spawned = std::thread::Builder::new()
            .name("liaison-sqlite-writer".into())
            .spawn(move || run(manager, jobs, &checkpoints, wake));
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

/// The copying thread: a passive checkpoint each time the writer has committed, on a
/// connection of its own; it stops with the writer.
fn copy_wal(manager: Manager, checkpoints: &Checkpoints, woken: mpsc::Receiver<()>) {
    let mut conn: Option<DbConnection> = None;
    while woken.recv().is_ok() {
        if conn.is_none() {
            match manager.open() {
                Ok(c) => conn = Some(c),
                Err(e) => log::error!("the SQLite WAL copier cannot open the database: {e}"),
            }
        }
        if checkpoints.due() {
            // The writer's turn: it copies the rest and starts the WAL over.
            continue;
        }
        if let Some(c) = conn.as_mut() {
            if let Err(e) = checkpoints.copy(c) {
                log::warn!("the SQLite WAL copier's checkpoint failed: {e}");
                conn = None;
            }
        }
    }
}

fn run(
    manager: Manager,
    jobs: mpsc::Receiver<Job>,
    checkpoints: &Checkpoints,
    wake: mpsc::SyncSender<()>,
) {
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
            } else if checkpoints.restarting.swap(false, Ordering::Relaxed) {
                // This commit started the WAL over.
            } else if checkpoints.due() {
                if let Err(e) = checkpoints.restart(c) {
                    log::warn!("the SQLite writer's checkpoint failed: {e}");
                }
            }
            let _ = wake.try_send(());
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

    /// Inserts row `x` of 8 KiB into table `b`.
    fn insert_b(conn: &mut DbConnection, x: i64) -> Result<(), ApiError> {
        conn.batch_execute(&format!(
            "INSERT INTO b (x, v) VALUES ({x}, zeroblob(8192))"
        ))
        .map_err(ApiError::from)
    }

    /// A new database in WAL mode in a directory of its own, made by `schema`.
    fn database(schema: &str) -> (std::path::PathBuf, Manager) {
        let dir = std::env::temp_dir().join(format!("liaison-writer-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = DatabaseUrl::parse(&dir.join("w.db").display().to_string()).unwrap();
        let manager = Manager::new(url);
        manager
            .open()
            .unwrap()
            .batch_execute(&format!("PRAGMA journal_mode = WAL; {schema}"))
            .unwrap();
        (dir, manager)
    }

    /// Starts a write that holds the writer for 300 ms (then `write`s row `x`), and gives it
    /// time to start: what is submitted next queues behind it, one batch.
    async fn hold_writer(
        writer: &std::rc::Rc<Writer>,
        write: fn(&mut DbConnection, i64) -> Result<(), ApiError>,
        x: i64,
    ) -> actix_web::rt::task::JoinHandle<Result<(), ApiError>> {
        let w = writer.clone();
        let slow = actix_web::rt::spawn(async move {
            w.submit(move |c| {
                std::thread::sleep(Duration::from_millis(300));
                write(c, x)
            })
            .await
        });
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        slow
    }

    /// The integers a query answers (each row's column `x`).
    fn integers(conn: &mut DbConnection, sql: &str) -> Vec<i64> {
        diesel::sql_query(sql)
            .load::<Row>(conn)
            .unwrap()
            .into_iter()
            .map(|r| r.x)
            .collect()
    }

    /// Writes queued behind a slow one are committed together; the one that fails (a constraint
    /// violation, an error of its own, a panic) fails alone and leaves nothing, the others commit.
    #[test]
    fn a_failing_write_in_a_batch_fails_alone() {
        let (dir, manager) = database("CREATE TABLE t (x INTEGER PRIMARY KEY);");
        let writer = std::rc::Rc::new(Writer::start(manager.clone()));
        actix_web::rt::System::new().block_on(async move {
            // A slow write holds the writer while the others queue behind it.
            let slow = hold_writer(&writer, insert, 100).await;
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
        let rows = integers(&mut conn, "SELECT x FROM t ORDER BY x");
        assert_eq!(rows, [1, 2, 6, 100]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A write that changes far more than the 64 KiB SQLite would keep of its savepoint's journal
    /// before spilling it to a file (here: 2 MiB of existing rows) and then fails is rolled back
    /// whole from the journal the writer keeps in memory, while the writes batched with it commit.
    #[test]
    fn a_large_failing_write_rolls_back_from_the_journal_in_memory() {
        let (dir, manager) = database(
            "CREATE TABLE b (x INTEGER PRIMARY KEY, v BLOB);
             WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 256)
             INSERT INTO b (x, v) SELECT x, zeroblob(8192) FROM n;",
        );
        let writer = std::rc::Rc::new(Writer::start(manager.clone()));
        actix_web::rt::System::new().block_on(async move {
            let journal = writer
                .submit(|c| Ok(integers(c, "SELECT temp_store AS x FROM pragma_temp_store")))
                .await
                .unwrap();
            assert_eq!(journal, [2], "the writer's temp_store is MEMORY");
            // A slow write holds the writer so that the next three share one batch.
            let slow = hold_writer(&writer, insert_b, 1001).await;
            let (w1, w2) = (writer.clone(), writer.clone());
            let before =
                actix_web::rt::spawn(async move { w1.submit(|c| insert_b(c, 1002)).await });
            let large = actix_web::rt::spawn(async move {
                w2.submit(|c| {
                    c.batch_execute("UPDATE b SET v = randomblob(8192) WHERE x <= 256")?;
                    Err::<(), _>(ApiError::Conflict("refused".into()))
                })
                .await
            });
            let after = writer.submit(|c| insert_b(c, 1003)).await;
            assert!(slow.await.unwrap().is_ok());
            assert!(before.await.unwrap().is_ok());
            assert!(matches!(large.await.unwrap(), Err(ApiError::Conflict(_))));
            assert!(after.is_ok());
        });
        let mut conn = manager.open().unwrap();
        let counts = integers(
            &mut conn,
            "SELECT count(*) AS x FROM b WHERE v = zeroblob(8192) AND x <= 256
             UNION ALL SELECT count(*) FROM b WHERE x > 1000",
        );
        assert_eq!(
            counts,
            [256, 3],
            "the large write left nothing; the others committed"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The WAL is copied beside the writer and started over by it: its file stays well short of
    /// what was written through it, and every write is there afterwards.
    #[test]
    fn the_wal_is_copied_and_started_over() {
        let (dir, manager) = database("CREATE TABLE b (x INTEGER PRIMARY KEY, v BLOB);");
        // Four writers of 500 rows each, 8 KiB a row: 16 MiB of rows alone, all in a WAL that
        // would never be started over. Started over at 40 pages, it holds the pages written
        // while the copying thread copies, and how many those are depends on the disk's speed.
        const ROWS: i64 = 500;
        let writer = std::rc::Rc::new(Writer::start_with(manager.clone(), 40));
        actix_web::rt::System::new().block_on(async move {
            let mut handles = Vec::new();
            for w in 0..4i64 {
                let writer = writer.clone();
                handles.push(actix_web::rt::spawn(async move {
                    for i in 0..ROWS {
                        let x = w * ROWS + i;
                        writer.submit(move |c| insert_b(c, x)).await.unwrap();
                    }
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        });
        let wal = std::fs::metadata(dir.join("w.db-wal")).unwrap().len();
        assert!(wal < 8 * 1024 * 1024, "the WAL grew to {wal} bytes");
        let mut conn = manager.open().unwrap();
        let rows = integers(
            &mut conn,
            "SELECT count(*) AS x FROM b WHERE length(v) = 8192",
        );
        assert_eq!(rows, [4 * ROWS]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
