//! Audit events as stored, and the queries that read them. Nothing here changes or removes an
//! event: the table is append-only (the write path appends; triggers refuse the rest).

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;

use super::wire::{AccessLogEntry, AuditEvent};
use crate::db::schema::{
    audit_events as events, communications, concern_events, concerns, iep_notes,
};
use crate::db::{Action, DbConnection, MultiBackend, ResourceType};
use crate::ids::{AuditEventId, FamilyId, StudentId};
use crate::routes::utc;

/// An audit event as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct AuditEventRow {
    pub id: AuditEventId,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub occurred_at: NaiveDateTime,
    pub actor: String,
    pub actor_role: String,
    pub action: Action,
    pub resource_type: ResourceType,
    pub resource_id: String,
    pub family_id: Option<FamilyId>,
    pub student_id: Option<StudentId>,
    pub request_id: Option<String>,
    pub purpose: Option<String>,
}

impl AuditEventRow {
    /// The whole event, for the audit log's readers.
    pub fn view(self) -> AuditEvent {
        AuditEvent {
            id: self.id.uuid(),
            occurred_at: utc(self.occurred_at),
            actor: self.actor,
            actor_role: self.actor_role,
            action: self.action,
            resource_type: self.resource_type,
            resource_id: self.resource_id,
            family_id: self.family_id.map(FamilyId::uuid),
            student_id: self.student_id.map(StudentId::uuid),
            request_id: self.request_id,
            purpose: self.purpose,
        }
    }

    /// The access-log line: who, when, what kind of record, why; not which record.
    pub fn access(self) -> AccessLogEntry {
        AccessLogEntry {
            id: self.id.uuid(),
            occurred_at: utc(self.occurred_at),
            actor: self.actor,
            actor_role: self.actor_role,
            action: self.action,
            resource_type: self.resource_type,
            purpose: self.purpose,
        }
    }

    /// The keyset position of this event in a newest-first list.
    pub fn key(&self) -> String {
        format!(
            "{}|{}",
            self.occurred_at.and_utc().timestamp_micros(),
            self.id
        )
    }
}

/// A keyset position: the time and id of the last event of the previous page.
pub type Position = (NaiveDateTime, AuditEventId);

/// Parses [`AuditEventRow::key`]'s output.
pub fn parse_key(key: &str) -> Option<Position> {
    let (micros, id) = key.split_once('|')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, AuditEventId(uuid::Uuid::parse_str(id).ok()?)))
}

/// Whether a cursor key is one [`AuditEventRow::key`] made.
pub fn is_key(key: &str) -> bool {
    parse_key(key).is_some()
}

/// What a page of the audit log is confined to.
#[derive(Debug, Default)]
pub struct Filters {
    /// By this `sub`.
    pub actor: Option<String>,
    /// Doing this.
    pub action: Option<Action>,
    /// Of this kind of record.
    pub resource_type: Option<ResourceType>,
    /// Of this record.
    pub resource_id: Option<String>,
    /// About this family.
    pub family: Option<FamilyId>,
    /// About this student.
    pub student: Option<StudentId>,
    /// At or after.
    pub from: Option<NaiveDateTime>,
    /// Before.
    pub to: Option<NaiveDateTime>,
    /// For a guardian's view: only events on records shared with this family (see
    /// [`shared_with_family`]).
    pub shared_with: Option<FamilyId>,
}

type Boxed<'a> = events::BoxedQuery<'a, MultiBackend>;

/// A page of `school`'s events matching `f`, newest first, after `after`.
pub fn list(
    conn: &mut DbConnection,
    school: &str,
    f: &Filters,
    after: Option<Position>,
    limit: i64,
) -> QueryResult<Vec<AuditEventRow>> {
    let mut sql = events::table
        .filter(events::school_id.eq(school.to_string()))
        .into_boxed();
    if let Some(actor) = &f.actor {
        sql = sql.filter(events::actor.eq(actor.clone()));
    }
    if let Some(action) = f.action {
        sql = sql.filter(events::action.eq(action));
    }
    if let Some(kind) = f.resource_type {
        sql = sql.filter(events::resource_type.eq(kind));
    }
    if let Some(id) = &f.resource_id {
        sql = sql.filter(events::resource_id.eq(id.clone()));
    }
    if let Some(family) = f.family {
        sql = sql.filter(events::family_id.eq(family));
    }
    if let Some(student) = f.student {
        sql = sql.filter(events::student_id.eq(student));
    }
    if let Some(from) = f.from {
        sql = sql.filter(events::occurred_at.ge(from));
    }
    if let Some(to) = f.to {
        sql = sql.filter(events::occurred_at.lt(to));
    }
    if let Some(family) = f.shared_with {
        sql = shared_with_family(sql, school, family);
    }
    if let Some((at, id)) = after {
        sql = older_than(sql, at, id);
    }
    sql.order((events::occurred_at.desc(), events::id.desc()))
        .limit(limit)
        .select(AuditEventRow::as_select())
        .load(conn)
}

/// Keeps the events before `(at, id)` in newest-first order. The plain `occurred_at <=` is
/// implied by the rest, but it is what lets the database seek straight to the cursor in the
/// time indexes instead of walking every newer event: deep pages cost what the first one does.
fn older_than(sql: Boxed<'_>, at: NaiveDateTime, id: AuditEventId) -> Boxed<'_> {
    sql.filter(events::occurred_at.le(at)).filter(
        events::occurred_at
            .lt(at)
            .or(events::occurred_at.eq(at).and(events::id.lt(id))),
    )
}

/// Keeps the events a guardian of `family` may know of: those on a child's own records
/// (the student, its links) and those on records of their family that are shared with it (a
/// `family`-visible communication, concern, or family-visible comment on a family-visible
/// concern). An event on a record kept among staff — a safeguarding concern, an internal
/// note — would tell the family the record exists, so it is left out; so is any kind of record
/// this list does not know yet (fail closed: a new kind shows only once it is added here).
///
/// IEP notes: the events on family-visible notes of the child, the reads named by the child
/// (a list of the child's notes, a timeline or action-item page that carried them: these say
/// that someone read the child's IEP notes, not which), and every destruction, which the
/// family is owed the record of (IDEA 34 CFR 300.624). The access log is already confined to a
/// child the guardian may see, so these need no family of their own: a guardian of another
/// household linked to the child sees them too.
fn shared_with_family<'a>(sql: Boxed<'a>, school: &str, family: FamilyId) -> Boxed<'a> {
    const SHARED: &str = "family";
    let shared_communications = communications::table
        .filter(communications::school_id.eq(school.to_string()))
        .filter(communications::visibility.eq(SHARED))
        .select(communications::id);
    let shared_concerns = concerns::table
        .filter(concerns::school_id.eq(school.to_string()))
        .filter(concerns::visibility.eq(SHARED))
        .select(concerns::id);
    let shared_comments = concern_events::table
        .filter(concern_events::school_id.eq(school.to_string()))
        .filter(concern_events::visibility.eq(SHARED))
        .filter(
            concern_events::concern_id.eq_any(
                concerns::table
                    .filter(concerns::school_id.eq(school.to_string()))
                    .filter(concerns::visibility.eq(SHARED))
                    .select(concerns::id),
            ),
        )
        .select(concern_events::id);
    let shared_notes = iep_notes::table
        .filter(iep_notes::school_id.eq(school.to_string()))
        .filter(iep_notes::visibility.eq(SHARED))
        .select(iep_notes::id);
    let of_family = events::family_id.eq(family);
    sql.filter(
        events::resource_type
            .eq_any([ResourceType::Students, ResourceType::Links])
            .nullable()
            .or(events::resource_type
                .eq(ResourceType::Communications)
                .and(of_family)
                .and(events::resource_id.eq_any(shared_communications)))
            .or(events::resource_type
                .eq(ResourceType::Concerns)
                .and(events::family_id.eq(family))
                .and(events::resource_id.eq_any(shared_concerns)))
            .or(events::resource_type
                .eq(ResourceType::ConcernComments)
                .and(events::family_id.eq(family))
                .and(events::resource_id.eq_any(shared_comments)))
            .or(events::resource_type.eq(ResourceType::IepNotes).and(
                events::resource_id
                    .eq_any(shared_notes)
                    .nullable()
                    .or(events::resource_id.nullable().eq(events::student_id))
                    .or(events::action.eq(Action::Destroy).nullable()),
            )),
    )
}

/// Whether `school` has or had this student (archived ones included: their log outlives them).
pub fn student_known(conn: &mut DbConnection, school: &str, id: StudentId) -> QueryResult<bool> {
    use crate::db::schema::students;
    let n: i64 = students::table
        .filter(students::school_id.eq(school))
        .filter(students::id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
