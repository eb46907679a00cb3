//! Concerns and their history as stored, and their queries.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::wire::{
    Concern, ConcernCategory, ConcernComment, ConcernEvent, ConcernFields, ConcernVisibility,
    EventKind, EventVisibility, Priority, RaisedBy, Status,
};
use super::workflow::{self, Case, Entry};
use crate::auth::policy::Viewer;
use crate::auth::Role;
use crate::db::schema::{concern_events as events, concerns};
use crate::db::types::stored_time;
use crate::db::{native, stored_in, DbConnection, Record, ResourceType};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{ConcernEventId, ConcernId, FamilyId, StudentId};
use crate::routes::utc;

/// A concern as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = concerns, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ConcernRow {
    pub id: ConcernId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub family_id: FamilyId,
    pub student_id: Option<StudentId>,
    pub category: ConcernCategory,
    pub priority: Priority,
    pub title: String,
    pub description: Option<String>,
    pub raised_by: String,
    pub raised_by_kind: RaisedBy,
    pub assignee: Option<String>,
    pub status: Status,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub due_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub first_response_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub resolved_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub closed_at: Option<NaiveDateTime>,
    pub resolution: Option<String>,
    pub satisfaction: Option<i32>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    pub visibility: ConcernVisibility,
}

/// The columns a move changes (`Case`'s), with the version and time: what `save_case` writes.
#[derive(AsChangeset)]
#[diesel(table_name = concerns, treat_none_as_null = true)]
struct CaseColumns<'a> {
    status: Status,
    resolution: Option<&'a str>,
    first_response_at: Option<NaiveDateTime>,
    resolved_at: Option<NaiveDateTime>,
    closed_at: Option<NaiveDateTime>,
    version: i64,
    updated_at: NaiveDateTime,
}

impl Record for ConcernRow {
    const TYPE: ResourceType = ResourceType::Concerns;
    stored_in!(concerns);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn family_id(&self) -> Option<String> {
        Some(self.family_id.to_string())
    }
    fn student_id(&self) -> Option<String> {
        self.student_id.map(|s| s.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

/// The fields of a new concern that are not the workflow's.
#[derive(Debug, Clone)]
pub struct NewConcern {
    /// The family.
    pub family: FamilyId,
    /// The student, if one.
    pub student: Option<StudentId>,
    /// What it is about.
    pub category: ConcernCategory,
    /// Its priority.
    pub priority: Priority,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: Option<String>,
    /// Its owner.
    pub assignee: Option<String>,
}

impl ConcernRow {
    /// A new open concern at version 1, raised by `raised_by` at `now` and due `due_at`.
    pub fn new(
        school: &str,
        fields: NewConcern,
        raised: &workflow::Raised,
        raised_by: &str,
        due_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> ConcernRow {
        ConcernRow {
            id: ConcernId::new(),
            school_id: school.to_string(),
            family_id: fields.family,
            student_id: fields.student,
            category: fields.category,
            priority: fields.priority,
            title: fields.title,
            description: fields.description,
            raised_by: raised_by.to_string(),
            raised_by_kind: raised.raised_by,
            assignee: fields.assignee,
            status: Status::Open,
            due_at,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            resolution: None,
            satisfaction: None,
            version: 1,
            created_at: now,
            updated_at: now,
            visibility: raised.visibility,
        }
    }

    /// The fields a merge patch edits, as they stand.
    pub fn fields(&self) -> ConcernFields {
        ConcernFields {
            student_id: self.student_id.map(StudentId::uuid),
            category: self.category,
            priority: self.priority,
            title: self.title.clone(),
            description: self.description.clone(),
            assignee: self.assignee.clone(),
            visibility: self.visibility,
            satisfaction: self.satisfaction,
        }
    }

    /// Sets the fields a merge patch edits.
    pub fn set(&mut self, f: ConcernFields) {
        self.student_id = f.student_id.map(StudentId);
        self.category = f.category;
        self.priority = f.priority;
        self.title = f.title;
        self.description = f.description;
        self.assignee = f.assignee;
        self.visibility = f.visibility;
        self.satisfaction = f.satisfaction;
    }

    /// The workflow's part of the concern.
    pub fn case(&self) -> Case {
        Case {
            status: self.status,
            resolution: self.resolution.clone(),
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
        }
    }

    /// Saves a move over the stored concern if that is still at `expected`: the workflow's
    /// columns (what `apply` sets), the version and the time, and no other column, so that the
    /// indexes over the family and the assignee are left as they are (see
    /// `Tx::revise_columns`). The number of rows written.
    pub fn save_case(&self, conn: &mut DbConnection, expected: i64) -> QueryResult<usize> {
        let columns = CaseColumns {
            status: self.status,
            resolution: self.resolution.as_deref(),
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            version: self.version,
            updated_at: self.updated_at,
        };
        native!(conn, |c| crate::db::update::update(
            concerns::table,
            &columns,
            concerns::school_id
                .eq(&self.school_id)
                .and(concerns::id.eq(&self.id))
                .and(concerns::version.eq(expected)),
        )
        .execute(c))
    }

    /// Sets the workflow's part of the concern, as a move left it.
    pub fn apply(&mut self, case: Case) {
        self.status = case.status;
        self.resolution = case.resolution;
        self.first_response_at = case.first_response_at;
        self.resolved_at = case.resolved_at;
        self.closed_at = case.closed_at;
    }

    /// The wire form, with `overdue` judged at `now`.
    pub fn view(self, now: NaiveDateTime) -> Concern {
        let overdue =
            workflow::is_overdue(self.due_at, self.first_response_at, self.resolved_at, now);
        Concern {
            id: self.id.uuid(),
            family_id: self.family_id.uuid(),
            student_id: self.student_id.map(StudentId::uuid),
            category: self.category,
            priority: self.priority,
            status: self.status,
            visibility: self.visibility,
            title: self.title,
            description: self.description,
            raised_by: self.raised_by,
            raised_by_kind: self.raised_by_kind,
            assignee: self.assignee,
            due_at: utc(self.due_at),
            overdue,
            first_response_at: self.first_response_at.map(utc),
            resolved_at: self.resolved_at.map(utc),
            closed_at: self.closed_at.map(utc),
            resolution: self.resolution,
            satisfaction: self.satisfaction,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// The concerns of the viewer's school the viewer may see: for a guardian (through the access
/// policy's record scope), their family's concerns shared with the family, about the family as
/// a whole or a child they may see. A boxed query for whichever backend the enclosing `native!`
/// picks.
macro_rules! visible {
    ($viewer:expr) => {{
        let viewer: &Viewer = $viewer;
        let mut sql = concerns::table
            .filter(concerns::school_id.eq(viewer.school_id.clone()))
            .into_boxed();
        if let Some((family, students)) = viewer.record_scope() {
            sql = sql
                .filter(concerns::family_id.eq(family))
                .filter(concerns::visibility.eq(ConcernVisibility::Family))
                .filter(
                    concerns::student_id
                        .is_null()
                        .or(concerns::student_id.eq_any(students.to_vec())),
                );
        }
        sql
    }};
}

/// Loads a concern of the viewer's school that the viewer may see, else 404.
pub fn find(
    conn: &mut DbConnection,
    viewer: &Viewer,
    id: ConcernId,
) -> Result<ConcernRow, ApiError> {
    let school = viewer.school_id.as_str();
    let row = native!(conn, |c| concerns::table
        .filter(concerns::school_id.eq(school))
        .filter(concerns::id.eq(id))
        .select(ConcernRow::as_select())
        .first(c))?;
    let shared = row.visibility == ConcernVisibility::Family;
    if viewer.sees_record(row.family_id, row.student_id, shared) {
        Ok(row)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The filters of the concern list (pure filters: an id the viewer cannot see matches nothing).
#[derive(Debug, Default)]
pub struct Filters {
    /// In any of these statuses.
    pub statuses: Option<Vec<Status>>,
    /// Of this priority.
    pub priority: Option<Priority>,
    /// In this category.
    pub category: Option<ConcernCategory>,
    /// Owned by this `sub`.
    pub assignee: Option<String>,
    /// Of this family.
    pub family: Option<FamilyId>,
    /// About this student.
    pub student: Option<StudentId>,
    /// Of this visibility.
    pub visibility: Option<ConcernVisibility>,
    /// Overdue (`true`) or not (`false`) at the time of the list.
    pub overdue: Option<bool>,
    /// Changed since.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of the concerns the viewer may see, newest first, with `overdue` judged at `now`.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: Filters,
    page: &PageRequest,
    now: NaiveDateTime,
) -> QueryResult<Vec<ConcernRow>> {
    native!(conn, |c| {
        let mut sql = visible!(viewer);
        if let Some(s) = f.statuses {
            sql = sql.filter(concerns::status.eq_any(s));
        }
        if let Some(p) = f.priority {
            sql = sql.filter(concerns::priority.eq(p));
        }
        if let Some(c) = f.category {
            sql = sql.filter(concerns::category.eq(c));
        }
        if let Some(a) = f.assignee {
            sql = sql.filter(concerns::assignee.eq(a));
        }
        if let Some(family) = f.family {
            sql = sql.filter(concerns::family_id.eq(family));
        }
        if let Some(student) = f.student {
            sql = sql.filter(concerns::student_id.eq(student));
        }
        if let Some(v) = f.visibility {
            sql = sql.filter(concerns::visibility.eq(v));
        }
        // `workflow::is_overdue`, in SQL.
        match f.overdue {
            Some(true) => {
                sql = sql
                    .filter(stored_time(concerns::due_at).lt(now))
                    .filter(concerns::first_response_at.is_null())
                    .filter(concerns::resolved_at.is_null())
            }
            Some(false) => {
                sql = sql.filter(
                    stored_time(concerns::due_at)
                        .ge(now)
                        .or(concerns::first_response_at.is_not_null())
                        .or(concerns::resolved_at.is_not_null()),
                )
            }
            None => {}
        }
        if let Some(since) = f.updated_since {
            sql = sql.filter(concerns::updated_at.ge(since.naive_utc()));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(concerns::id.lt(after.clone()));
        }
        sql.order(concerns::id.desc())
            .limit(page.fetch())
            .select(ConcernRow::as_select())
            .load(c)
    })
}

/// A family's concerns the viewer may see, newest first by creation, after `after` (a time and
/// an id, the timeline's cursor): the concerns part of the family timeline. For a guardian this
/// leaves out what they may not see, staff-only concerns included, as every concern read does.
pub fn family_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> Result<Vec<ConcernRow>, ApiError> {
    Ok(native!(conn, |c| {
        let mut sql = visible!(viewer).filter(concerns::family_id.eq(family));
        if let Some((at, id)) = after {
            // `created_at <=` lets the database seek to the cursor (see communications' `older_than`).
            sql = sql.filter(concerns::created_at.le(*at)).filter(
                concerns::created_at.lt(*at).or(concerns::created_at
                    .eq(*at)
                    .and(concerns::id.lt(id.clone()))),
            );
        }
        sql.order((concerns::created_at.desc(), concerns::id.desc()))
            .limit(limit)
            .select(ConcernRow::as_select())
            .load(c)
    })?)
}

/// An entry of a concern's history.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
pub struct EventRow {
    pub id: ConcernEventId,
    pub school_id: String,
    pub concern_id: ConcernId,
    pub kind: EventKind,
    pub actor: String,
    pub actor_role: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub body: Option<String>,
    pub visibility: EventVisibility,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub created_at: NaiveDateTime,
    pub note_visibility: Option<EventVisibility>,
}

impl EventRow {
    /// The row of `entry` on `concern`, by `actor` (of `role`) at `at`.
    pub fn new(
        concern: &ConcernRow,
        entry: Entry,
        actor: &str,
        role: Role,
        at: NaiveDateTime,
    ) -> EventRow {
        EventRow {
            id: ConcernEventId::new(),
            school_id: concern.school_id.clone(),
            concern_id: concern.id,
            kind: entry.kind,
            actor: actor.to_string(),
            actor_role: role.as_str().to_string(),
            from_value: entry.from,
            to_value: entry.to,
            body: entry.body,
            visibility: entry.visibility,
            created_at: at,
            note_visibility: entry.note_visibility,
        }
    }

    /// The wire form as a guardian (`for_guardian`) or staff see it: a guardian gets a
    /// transition's note only when it is the family's.
    pub fn view(self, for_guardian: bool) -> ConcernEvent {
        let note_hidden = for_guardian && self.note_visibility == Some(EventVisibility::Internal);
        ConcernEvent {
            id: self.id.uuid(),
            kind: self.kind,
            actor: self.actor,
            actor_role: self.actor_role,
            from: self.from_value,
            to: self.to_value,
            body: if note_hidden { None } else { self.body },
            visibility: self.visibility,
            note_visibility: if note_hidden {
                None
            } else {
                self.note_visibility
            },
            at: utc(self.created_at),
        }
    }

    /// The wire form of a comment.
    pub fn comment(self) -> ConcernComment {
        ConcernComment {
            id: self.id.uuid(),
            concern_id: self.concern_id.uuid(),
            author: self.actor,
            author_role: self.actor_role,
            // A comment is written with its text; only other kinds of entry have none.
            body: self.body.unwrap_or_default(),
            visibility: self.visibility,
            created_at: utc(self.created_at),
        }
    }
}

/// Inserts the history entries of a recorded write of `concern` (its create, move or edit):
/// they are part of that write, audited with it, not records of their own, so they are written
/// straight on the write's connection (`Tx::conn`).
pub fn write_entries(
    conn: &mut DbConnection,
    concern: &ConcernRow,
    entries: Vec<Entry>,
    actor: &str,
    role: Role,
    at: NaiveDateTime,
) -> QueryResult<()> {
    for entry in entries {
        let row = EventRow::new(concern, entry, actor, role, at);
        native!(conn, |c| diesel::insert_into(events::table)
            .values(&row)
            .execute(c))?;
    }
    Ok(())
}

/// A comment: an entry of its concern's history that is a record of its own (audited as a
/// comment, in the change feed as `concern_comments`), about the concern's family and student.
#[derive(Debug, Clone)]
pub struct CommentRecord {
    /// The entry.
    pub event: EventRow,
    /// The concern's family.
    pub family_id: FamilyId,
    /// The concern's student.
    pub student_id: Option<StudentId>,
}

impl CommentRecord {
    /// The comment `entry` on `concern`.
    pub fn new(
        concern: &ConcernRow,
        entry: Entry,
        actor: &str,
        role: Role,
        at: NaiveDateTime,
    ) -> CommentRecord {
        CommentRecord {
            event: EventRow::new(concern, entry, actor, role, at),
            family_id: concern.family_id,
            student_id: concern.student_id,
        }
    }
}

/// Comments never change: they are at version 1 for good (their `ETag` is always `"1"`), and
/// there is nothing to save.
impl Record for CommentRecord {
    const TYPE: ResourceType = ResourceType::ConcernComments;

    fn record_id(&self) -> String {
        self.event.id.to_string()
    }
    fn version(&self) -> i64 {
        1
    }
    fn family_id(&self) -> Option<String> {
        Some(self.family_id.to_string())
    }
    fn student_id(&self) -> Option<String> {
        self.student_id.map(|s| s.to_string())
    }
    fn bump(&mut self, _now: NaiveDateTime) {}
    fn insert(&self, conn: &mut DbConnection) -> QueryResult<usize> {
        native!(conn, |c| diesel::insert_into(events::table)
            .values(&self.event)
            .execute(c))
    }
    fn save(&self, _conn: &mut DbConnection, _expected: i64) -> QueryResult<usize> {
        Ok(0)
    }
}

/// A page of a concern's history as the viewer may see it, oldest first: a guardian sees the
/// family-visible entries only; `comments_only` keeps the comments.
pub fn history(
    conn: &mut DbConnection,
    viewer: &Viewer,
    concern: &ConcernRow,
    comments_only: bool,
    page: &PageRequest,
) -> QueryResult<Vec<EventRow>> {
    native!(conn, |c| {
        let mut sql = events::table
            .filter(events::school_id.eq(concern.school_id.clone()))
            .filter(events::concern_id.eq(concern.id))
            .into_boxed();
        if viewer.is_guardian() {
            sql = sql.filter(events::visibility.eq(EventVisibility::Family));
        }
        if comments_only {
            sql = sql.filter(events::kind.eq(EventKind::Comment));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(events::id.gt(after.clone()));
        }
        sql.order(events::id.asc())
            .limit(page.fetch())
            .select(EventRow::as_select())
            .load(c)
    })
}
