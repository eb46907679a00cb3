//! The one write path. Every create, update, archive, transition, acknowledgement, comment and
//! rating goes through a [`Tx`], which in the same transaction appends an audit event (who did
//! what to which record, from which request and why) and a change record (what the change feed
//! serves). A write that fails or is refused rolls back with its records: neither is left.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{audit_events, changes};
use super::{backend, DbConnection};
use crate::auth::policy::Viewer;
use crate::auth::Caller;
use crate::domain::text_enum;
use crate::error::ApiError;
use crate::ids::AuditEventId;

text_enum! {
    /// What a write did, as the audit log names it.
    Action {
        /// A record was created.
        Create => "create",
        /// A record's fields were changed.
        Update => "update",
        /// A record was archived (it leaves every list and GET; it is kept).
        Archive => "archive",
        /// A record's status moved through its workflow.
        Transition => "transition",
        /// A family acknowledged a record (a read receipt).
        Acknowledge => "acknowledge",
        /// A comment was added.
        Comment => "comment",
        /// A family rated an outcome.
        Rate => "rate",
        /// A record whose every read is audited (an IEP note) was read: recorded with no
        /// change record, since nothing changed.
        Read => "read",
        /// A record's content was destroyed on request; a tombstone remains.
        Destroy => "destroy",
    }
}

text_enum! {
    /// What a change did to a record, as the change feed names it.
    Operation {
        /// The record is new.
        Create => "create",
        /// The record changed.
        Update => "update",
        /// The record was archived.
        Archive => "archive",
    }
}

text_enum! {
    /// The kinds of record, named as their collections are in the API's paths.
    ResourceType {
        /// Families.
        Families => "families",
        /// Guardians.
        Guardians => "guardians",
        /// Students.
        Students => "students",
        /// Guardian–student links.
        Links => "links",
        /// Communications.
        Communications => "communications",
        /// Concerns.
        Concerns => "concerns",
        /// Comments on concerns.
        ConcernComments => "concern_comments",
        /// A school's settings.
        Settings => "settings",
        /// IEP collaboration notes (with their action items).
        IepNotes => "iep_notes",
        /// The stages of a school's admissions pipeline.
        AdmissionStages => "admission_stages",
        /// Applicants: prospective students and their households.
        Applicants => "applicants",
        /// Events and workshops.
        Events => "events",
        /// Families' answers to events.
        Rsvps => "rsvps",
        /// Who came to an event.
        Attendance => "attendance",
        /// Families' feedback on events.
        EventFeedback => "event_feedback",
        /// Conference slots.
        EventSlots => "event_slots",
        /// Bookings of conference slots.
        Bookings => "bookings",
        /// The community resources directory.
        Resources => "resources",
        /// Referrals of families to resources.
        Referrals => "referrals",
        /// Service accounts (OAuth 2 clients).
        Clients => "clients",
    }
}

/// A read to record: what the audit event of an audited read names (the caller, time, request
/// and purpose come from the write's context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The kind of record read.
    pub resource_type: ResourceType,
    /// The record read, or for a list the student whose records were listed.
    pub resource_id: String,
    /// The family the records concern.
    pub family_id: Option<String>,
    /// The student the records concern: the read shows in this child's access log.
    pub student_id: Option<String>,
}

/// Who is writing and when: what every audit event of the write carries.
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// The caller (with the request's id and stated purpose).
    pub caller: Caller,
    /// The time of the write.
    pub now: NaiveDateTime,
}

/// A stored record that the write path can create, revise and archive.
///
/// Each row type says what it is (`TYPE`), how it is identified in the audit log and the change
/// feed, and how it is inserted and saved; the write path adds the version bump, the guarded
/// save and the records.
pub trait Record: Clone {
    /// The kind of record.
    const TYPE: ResourceType;
    /// Its id, as stored.
    fn record_id(&self) -> String;
    /// Its version.
    fn version(&self) -> i64;
    /// Its SIS id, if it has one.
    fn external_id(&self) -> Option<&str> {
        None
    }
    /// The family it concerns, if one.
    fn family_id(&self) -> Option<String> {
        None
    }
    /// The student it concerns, if one.
    fn student_id(&self) -> Option<String> {
        None
    }
    /// Moves the version on and stamps the time of the change.
    fn bump(&mut self, now: NaiveDateTime);
    /// Inserts the row.
    fn insert(&self, conn: &mut DbConnection) -> QueryResult<usize>;
    /// Inserts rows: in multi-row statements of `BATCH_ROWS` on SQLite, by one `COPY` on
    /// PostgreSQL (`stored_in!`).
    fn insert_many(rows: &[Self], conn: &mut DbConnection) -> QueryResult<usize>
    where
        Self: Sized,
    {
        rows.iter().map(|r| r.insert(conn)).sum()
    }
    /// Saves the row over its stored self if that is still at `expected` and of the same
    /// school; the number of rows written (0: another write came first).
    fn save(&self, conn: &mut DbConnection, expected: i64) -> QueryResult<usize>;
}

/// A record that is archived rather than deleted.
pub trait Archivable: Record {
    /// Marks the row archived at `now`.
    fn set_archived(&mut self, now: NaiveDateTime);
}

/// An audit event as stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
struct AuditRow {
    id: AuditEventId,
    school_id: String,
    occurred_at: NaiveDateTime,
    actor: String,
    actor_role: String,
    action: Action,
    resource_type: ResourceType,
    resource_id: String,
    family_id: Option<String>,
    student_id: Option<String>,
    request_id: Option<String>,
    purpose: Option<String>,
}

/// A change record waiting for its sequence number.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PendingChange {
    resource_type: ResourceType,
    resource_id: String,
    external_id: Option<String>,
    operation: Operation,
    version: i64,
}

/// A change record as stored.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = changes, treat_none_as_default_value = false)]
struct ChangeRow {
    school_id: String,
    seq: i64,
    resource_type: ResourceType,
    resource_id: String,
    external_id: Option<String>,
    operation: Operation,
    version: i64,
    changed_at: NaiveDateTime,
}

/// One write transaction: the connection, who writes, and when. Reads inside a write go through
/// [`Tx::conn`]; writes of records go through `create`, `revise` and `archive`.
pub struct Tx<'a> {
    conn: &'a mut DbConnection,
    ctx: &'a WriteContext,
    audit: Vec<AuditRow>,
    changes: Vec<PendingChange>,
    /// The change records set aside in a temporary file (a bulk import's), and how many.
    spilled: Option<(std::io::BufWriter<std::fs::File>, usize)>,
}

/// Change records held in memory before `flush` sets them aside in a temporary file: a bulk
/// import writes hundreds of thousands, which take their sequence numbers only at the end.
const SPILL_AFTER: usize = 2048;

impl<'a> Tx<'a> {
    fn new(conn: &'a mut DbConnection, ctx: &'a WriteContext) -> Self {
        Tx {
            conn,
            ctx,
            audit: Vec::new(),
            changes: Vec::new(),
            spilled: None,
        }
    }

    /// The connection, for the reads a write makes (and for rows that belong to a recorded
    /// write, such as a concern's history entries).
    pub fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// Who is writing.
    pub fn caller(&self) -> &Caller {
        &self.ctx.caller
    }

    /// The time of the write.
    pub fn now(&self) -> NaiveDateTime {
        self.ctx.now
    }

    /// The date of the write (UTC).
    pub fn today(&self) -> NaiveDate {
        self.ctx.now.date()
    }

    /// The caller's reach (who they may see), resolved in this transaction.
    pub fn viewer(&mut self) -> Result<Viewer, ApiError> {
        Viewer::resolve(self.conn, &self.ctx.caller, self.ctx.now.date())
    }

    /// Inserts a new record, recorded as created.
    pub fn create<R: Record>(&mut self, row: &R) -> Result<(), ApiError> {
        self.create_as(Action::Create, row)
    }

    /// Inserts a new record, audited as `action` (a comment is created as `comment`).
    pub fn create_as<R: Record>(&mut self, action: Action, row: &R) -> Result<(), ApiError> {
        row.insert(self.conn)?;
        self.note(action, row, Operation::Create);
        Ok(())
    }

    /// Inserts new records (a bulk import's batch) in multi-row statements, each recorded as
    /// created like a single `create`. The audit events collected so far are written out at
    /// once, so an import of many rows does not hold them all in memory.
    pub fn create_many<R: Record>(&mut self, rows: &[R]) -> Result<(), ApiError> {
        R::insert_many(rows, self.conn)?;
        for row in rows {
            self.note(Action::Create, row, Operation::Create);
        }
        self.flush()
    }

    /// Writes out the audit events collected so far (they are written at the end otherwise).
    /// Change records wait for the end, since their sequence numbers are taken just before the
    /// commit; past `SPILL_AFTER` of them they wait in a temporary file, so that a write of any
    /// size holds a bounded number in memory.
    pub fn flush(&mut self) -> Result<(), ApiError> {
        insert_rows!(self.conn, audit_events, &self.audit[..])?;
        self.audit.clear();
        if self.changes.len() >= SPILL_AFTER {
            self.spill().map_err(ApiError::internal)?;
        }
        Ok(())
    }

    /// Appends the change records held in memory to the temporary file, one JSON line each.
    fn spill(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        let (out, count) = match &mut self.spilled {
            Some(spilled) => spilled,
            None => self
                .spilled
                .insert((std::io::BufWriter::new(tempfile::tempfile()?), 0)),
        };
        for change in self.changes.drain(..) {
            serde_json::to_writer(&mut *out, &change)?;
            out.write_all(b"\n")?;
            *count += 1;
        }
        Ok(())
    }

    /// Changes a record: `edit` is applied to a copy of `current` (as loaded in this
    /// transaction), the version moves on, and the copy is saved only if the stored record is
    /// still at `current`'s version (else 412). Audited as `action`; returns the saved record.
    pub fn revise<R: Record>(
        &mut self,
        current: &R,
        action: Action,
        edit: impl FnOnce(&mut R),
    ) -> Result<R, ApiError> {
        self.revise_columns(current, action, edit, R::save)
    }

    /// `revise` for an edit that changes only some of the record's columns, which `save` writes
    /// (with the version and time, guarded by `expected`, the version it replaces; it returns
    /// the number of rows written). SQLite rewrites the entry of every index over a column that an
    /// `UPDATE` sets, changed or not: a whole-row save dirties index pages that nothing changed.
    pub fn revise_columns<R: Record>(
        &mut self,
        current: &R,
        action: Action,
        edit: impl FnOnce(&mut R),
        save: impl FnOnce(&R, &mut DbConnection, i64) -> QueryResult<usize>,
    ) -> Result<R, ApiError> {
        let mut row = current.clone();
        edit(&mut row);
        row.bump(self.ctx.now);
        let written = save(&row, self.conn, current.version())?;
        self.saved(written, current, &row, action, Operation::Update)?;
        Ok(row)
    }

    /// Archives a record (guarded like `revise`); returns the archived record.
    pub fn archive<R: Archivable>(&mut self, current: &R) -> Result<R, ApiError> {
        let mut row = current.clone();
        row.set_archived(self.ctx.now);
        row.bump(self.ctx.now);
        self.save(current, &row, Action::Archive, Operation::Archive)?;
        Ok(row)
    }

    fn save<R: Record>(
        &mut self,
        current: &R,
        row: &R,
        action: Action,
        operation: Operation,
    ) -> Result<(), ApiError> {
        let written = row.save(self.conn, current.version())?;
        self.saved(written, current, row, action, operation)
    }

    /// Records a save that wrote `written` rows (none: 412).
    fn saved<R: Record>(
        &mut self,
        written: usize,
        current: &R,
        row: &R,
        action: Action,
        operation: Operation,
    ) -> Result<(), ApiError> {
        if written != 1 {
            return Err(ApiError::PreconditionFailed);
        }
        self.note(action, row, operation);
        // A change that moves a record away from a child (or a family) touched that child's
        // records too: the child's access log must show it, so it gets an event of its own.
        let (before, after) = (current.student_id(), row.student_id());
        if let (Some(last), true) = (self.audit.last(), before.is_some() && before != after) {
            let mut event = last.clone();
            event.id = AuditEventId::new();
            event.student_id = before;
            if current.family_id().is_some() && current.family_id() != row.family_id() {
                event.family_id = current.family_id();
            }
            self.audit.push(event);
        }
        Ok(())
    }

    fn note<R: Record>(&mut self, action: Action, row: &R, operation: Operation) {
        let caller = &self.ctx.caller;
        let id = row.record_id();
        self.audit.push(AuditRow {
            id: AuditEventId::new(),
            school_id: caller.school_id.clone(),
            occurred_at: self.ctx.now,
            actor: caller.sub.clone(),
            actor_role: caller.role.as_str().to_string(),
            action,
            resource_type: R::TYPE,
            resource_id: id.clone(),
            family_id: row.family_id(),
            student_id: row.student_id(),
            request_id: caller.request_id.clone(),
            purpose: caller.purpose.clone(),
        });
        self.changes.push(PendingChange {
            resource_type: R::TYPE,
            resource_id: id,
            external_id: row.external_id().map(str::to_string),
            operation,
            version: row.version(),
        });
    }

    /// Records reads of records whose every read is audited (IEP notes): an audit event each,
    /// `action: read`, and no change record (nothing changed, so the change feed has nothing to
    /// serve). This is the only way a read writes, and it goes through the one write path like
    /// any write: the handler runs it as a small write of its own (or inside the write that
    /// answered with the content), and answers only once it is committed.
    pub fn record_reads(&mut self, reads: impl IntoIterator<Item = Read>) {
        let caller = &self.ctx.caller;
        for read in reads {
            self.audit.push(AuditRow {
                id: AuditEventId::new(),
                school_id: caller.school_id.clone(),
                occurred_at: self.ctx.now,
                actor: caller.sub.clone(),
                actor_role: caller.role.as_str().to_string(),
                action: Action::Read,
                resource_type: read.resource_type,
                resource_id: read.resource_id,
                family_id: read.family_id,
                student_id: read.student_id,
                request_id: caller.request_id.clone(),
                purpose: caller.purpose.clone(),
            });
        }
    }

    /// Appends the collected audit events and change records. The change records take their
    /// sequence numbers last, just before the commit, so the lock that orders them (PostgreSQL)
    /// is held as briefly as possible.
    fn finish(self) -> Result<(), ApiError> {
        use std::io::{BufRead, Seek};
        let Tx {
            conn,
            ctx,
            audit,
            changes,
            spilled,
        } = self;
        insert_rows!(conn, audit_events, &audit[..])?;
        // The records set aside first (they were noted first), then those still in memory.
        let (set_aside, spilled) = match spilled {
            Some((out, count)) => {
                let mut file = out.into_inner().map_err(ApiError::internal)?;
                file.rewind().map_err(ApiError::internal)?;
                (Some(std::io::BufReader::new(file)), count)
            }
            None => (None, 0),
        };
        let count = (spilled + changes.len()) as i64;
        if count == 0 {
            return Ok(());
        }
        let set_aside = set_aside.into_iter().flat_map(|r| r.lines()).map(|line| {
            let line = line.map_err(ApiError::internal)?;
            serde_json::from_str::<PendingChange>(&line).map_err(ApiError::internal)
        });
        let all = set_aside.chain(changes.into_iter().map(Ok));
        let school = &ctx.caller.school_id;
        let last = backend::take_sequence_numbers(conn, school, count)?;
        let mut rows = Vec::with_capacity((count as usize).min(BATCH_ROWS));
        for (seq, change) in (last - count + 1..).zip(all) {
            let change = change?;
            rows.push(ChangeRow {
                school_id: school.clone(),
                seq,
                resource_type: change.resource_type,
                resource_id: change.resource_id,
                external_id: change.external_id,
                operation: change.operation,
                version: change.version,
                changed_at: ctx.now,
            });
            if rows.len() == BATCH_ROWS {
                insert_rows!(conn, changes, &rows[..])?;
                rows.clear();
            }
        }
        insert_rows!(conn, changes, &rows[..])?;
        Ok(())
    }
}

/// Rows per multi-row INSERT: under SQLite's and PostgreSQL's limits on bound parameters for
/// any table of up to 32 columns (250 x 32 = 8,000).
pub const BATCH_ROWS: usize = 250;

/// Inserts `$rows` (a slice) into `$table`; the number of rows. A few rows (an ordinary
/// write's audit event and change record) go one statement each, a cached statement; more go in
/// multi-row statements of `BATCH_ROWS` on SQLite, by one `COPY` on PostgreSQL.
macro_rules! insert_rows {
    ($conn:expr, $table:ident, $rows:expr) => {{
        use diesel::prelude::*;
        let rows = $rows;
        if rows.len() < 4 {
            $crate::db::native!($conn, |c| rows
                .iter()
                .map(|row| diesel::insert_into($table::table).values(row).execute(c))
                .sum())
        } else {
            match $conn {
                $crate::db::DbConnection::Sqlite(c) => {
                    let mut n = 0;
                    for chunk in rows.chunks($crate::db::BATCH_ROWS) {
                        n += diesel::insert_into($table::table)
                            .values(chunk)
                            .execute(c)?;
                    }
                    Ok(n)
                }
                $crate::db::DbConnection::Postgresql(c) => diesel::copy_from($table::table)
                    .from_insertable(rows)
                    .execute(c),
            }
        }
    }};
}
pub(crate) use insert_rows;

/// Runs one write in the transaction the caller opened: `f`, then its records.
pub(super) fn run<T>(
    conn: &mut DbConnection,
    ctx: &WriteContext,
    f: impl FnOnce(&mut Tx<'_>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut tx = Tx::new(conn, ctx);
    let value = f(&mut tx)?;
    tx.finish()?;
    Ok(value)
}

/// Implements [`Record::insert`] and [`Record::save`] for a row type stored in `$table` (which
/// has `id`, `school_id` and `version` columns): the save is guarded by school and version.
///
/// Row types derive `Insertable` with `treat_none_as_default_value = false`: an absent value is
/// inserted as NULL, so an INSERT's SQL is the same every time and its prepared statement is
/// cached. (SQLite has no `DEFAULT` in `VALUES`, so diesel would otherwise leave such a column
/// out and prepare a new statement for each combination of absent values.)
macro_rules! stored_in {
    ($table:ident) => {
        fn insert(&self, conn: &mut $crate::db::DbConnection) -> diesel::QueryResult<usize> {
            use diesel::prelude::*;
            $crate::db::native!(conn, |c| diesel::insert_into($table::table)
                .values(self)
                .execute(c))
        }

        fn insert_many(
            rows: &[Self],
            conn: &mut $crate::db::DbConnection,
        ) -> diesel::QueryResult<usize> {
            $crate::db::insert_rows!(conn, $table, rows)
        }

        fn save(
            &self,
            conn: &mut $crate::db::DbConnection,
            expected: i64,
        ) -> diesel::QueryResult<usize> {
            use diesel::prelude::*;
            $crate::db::native!(conn, |c| $crate::db::update::update(
                $table::table,
                self,
                $table::school_id
                    .eq(&self.school_id)
                    .and($table::id.eq(&self.id))
                    .and($table::version.eq(expected)),
            )
            .execute(c))
        }
    };
}
pub(crate) use stored_in;
