//! IEP notes and their action items as stored, and their queries.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::rules::Item;
use super::wire::{ActionItem, IepNote, IepNoteFields, IepNoteTombstone, NoteKind, NoteVisibility};
use crate::auth::policy::Viewer;
use crate::db::schema::{idempotency_keys, iep_action_items as items, iep_notes as notes};
use crate::db::{native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{ActionItemId, FamilyId, IepNoteId, StudentId};
use crate::routes::utc;

/// An IEP note as stored. `title` and `body` are `None` only in a tombstone.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = notes, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct NoteRow {
    pub id: IepNoteId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub student_id: StudentId,
    pub family_id: FamilyId,
    pub kind: NoteKind,
    pub title: Option<String>,
    pub body: Option<String>,
    pub meeting_date: Option<NaiveDate>,
    pub visibility: NoteVisibility,
    pub author: String,
    pub author_role: String,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub destroyed_at: Option<NaiveDateTime>,
    pub destroyed_by: Option<String>,
    pub destroyed_reason: Option<String>,
}

impl Record for NoteRow {
    const TYPE: ResourceType = ResourceType::IepNotes;
    stored_in!(notes);

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
        Some(self.student_id.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for NoteRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

/// The fields of a new note that its writer chose.
#[derive(Debug, Clone)]
pub struct NewNote {
    /// What it is.
    pub kind: NoteKind,
    /// Its title.
    pub title: String,
    /// Its text.
    pub body: String,
    /// The meeting's day.
    pub meeting_date: Option<NaiveDate>,
    /// Who may see it.
    pub visibility: NoteVisibility,
}

impl NoteRow {
    /// A new note about `student` (of `family`) at version 1, by `author` (of `role`) at `now`.
    pub fn new(
        school: &str,
        student: StudentId,
        family: FamilyId,
        fields: NewNote,
        author: (&str, &str),
        now: NaiveDateTime,
    ) -> NoteRow {
        NoteRow {
            id: IepNoteId::new(),
            school_id: school.to_string(),
            student_id: student,
            family_id: family,
            kind: fields.kind,
            title: Some(fields.title),
            body: Some(fields.body),
            meeting_date: fields.meeting_date,
            visibility: fields.visibility,
            author: author.0.to_string(),
            author_role: author.1.to_string(),
            acknowledged_at: None,
            acknowledged_by: None,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
            destroyed_at: None,
            destroyed_by: None,
            destroyed_reason: None,
        }
    }

    /// The fields a merge patch edits, as they stand (with the note's items).
    pub fn fields(&self, items: &[Item]) -> IepNoteFields {
        IepNoteFields {
            kind: self.kind,
            title: self.title.clone().unwrap_or_default(),
            body: self.body.clone().unwrap_or_default(),
            meeting_date: self.meeting_date,
            visibility: self.visibility,
            action_items: super::rules::item_inputs(items),
        }
    }

    /// The wire form, with its items.
    pub fn view(self, items: Vec<ItemRow>) -> IepNote {
        IepNote {
            id: self.id.uuid(),
            student_id: self.student_id.uuid(),
            family_id: self.family_id.uuid(),
            kind: self.kind,
            title: self.title.unwrap_or_default(),
            body: self.body.unwrap_or_default(),
            meeting_date: self.meeting_date,
            visibility: self.visibility,
            author: self.author,
            author_role: self.author_role,
            action_items: items.into_iter().map(ItemRow::view).collect(),
            acknowledged_at: self.acknowledged_at.map(utc),
            acknowledged_by: self.acknowledged_by,
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }

    /// The tombstone of a destroyed note (`None` for a note with its content).
    pub fn tombstone(&self) -> Option<IepNoteTombstone> {
        Some(IepNoteTombstone {
            id: self.id.uuid(),
            kind: self.kind,
            meeting_date: self.meeting_date,
            created_at: utc(self.created_at),
            destroyed_at: utc(self.destroyed_at?),
            destroyed_by: self.destroyed_by.clone().unwrap_or_default(),
            destroyed_reason: self.destroyed_reason.clone().unwrap_or_default(),
        })
    }
}

/// An action item as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = items, treat_none_as_default_value = false)]
pub struct ItemRow {
    pub id: ActionItemId,
    pub school_id: String,
    pub note_id: IepNoteId,
    pub student_id: StudentId,
    pub position: i32,
    pub description: String,
    pub owner: String,
    pub due_on: Option<NaiveDate>,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub done_at: Option<NaiveDateTime>,
    pub done_by: Option<String>,
}

impl ItemRow {
    /// The wire form.
    pub fn view(self) -> ActionItem {
        ActionItem {
            id: self.id.uuid(),
            note_id: self.note_id.uuid(),
            student_id: self.student_id.uuid(),
            description: self.description,
            owner: self.owner,
            due_on: self.due_on,
            done_at: self.done_at.map(utc),
            done_by: self.done_by,
        }
    }

    /// What the rules see of it.
    pub fn item(&self) -> Item {
        Item {
            id: self.id,
            description: self.description.clone(),
            owner: self.owner.clone(),
            due_on: self.due_on,
            done_at: self.done_at,
            done_by: self.done_by.clone(),
        }
    }
}

/// Whether the viewer may see this note: staff see every note of their school; a guardian sees
/// the family-visible notes of a child a current link with `can_view_records` lets them see.
fn visible_to(viewer: &Viewer, note: &NoteRow) -> bool {
    !viewer.is_guardian()
        || (note.visibility == NoteVisibility::Family && viewer.student(note.student_id).is_ok())
}

/// Loads an active note the viewer may see: else 404, and 410 when its content was destroyed
/// (for a viewer who could see it: anyone else learns nothing of it).
pub fn find(conn: &mut DbConnection, viewer: &Viewer, id: IepNoteId) -> Result<NoteRow, ApiError> {
    let school = viewer.school_id.as_str();
    let row = native!(conn, |c| notes::table
        .filter(notes::school_id.eq(school))
        .filter(notes::id.eq(id))
        .filter(notes::archived_at.is_null())
        .select(NoteRow::as_select())
        .first(c))?;
    if !visible_to(viewer, &row) {
        return Err(ApiError::NotFound);
    }
    if let Some(at) = row.destroyed_at {
        return Err(ApiError::Gone(format!(
            "this IEP note's content was destroyed on request at {}",
            utc(at).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        )));
    }
    Ok(row)
}

/// The action items of these notes, in each note's order.
pub fn items_of(
    conn: &mut DbConnection,
    school: &str,
    note_ids: &[IepNoteId],
) -> QueryResult<Vec<ItemRow>> {
    if note_ids.is_empty() {
        return Ok(Vec::new());
    }
    native!(conn, |c| items::table
        .filter(items::school_id.eq(school))
        .filter(items::note_id.eq_any(note_ids.to_vec()))
        .order((items::note_id, items::position))
        .select(ItemRow::as_select())
        .load(c))
}

/// Each note with its items (the rows of `items_of` for them).
pub fn with_items(rows: Vec<NoteRow>, mut items: Vec<ItemRow>) -> Vec<(NoteRow, Vec<ItemRow>)> {
    rows.into_iter()
        .map(|row| {
            let (mine, rest): (Vec<ItemRow>, Vec<ItemRow>) =
                items.drain(..).partition(|i| i.note_id == row.id);
            items = rest;
            (row, mine)
        })
        .collect()
}

/// Replaces a note's items with `after`, in order: the items are part of the note, written in
/// the note's recorded write (see `Tx::conn`).
pub fn save_items(conn: &mut DbConnection, note: &NoteRow, after: &[Item]) -> QueryResult<()> {
    let school = note.school_id.as_str();
    native!(conn, |c| diesel::delete(
        items::table
            .filter(items::school_id.eq(school))
            .filter(items::note_id.eq(note.id))
    )
    .execute(c))?;
    for (position, item) in after.iter().enumerate() {
        let row = ItemRow {
            id: item.id,
            school_id: note.school_id.clone(),
            note_id: note.id,
            student_id: note.student_id,
            position: i32::try_from(position).unwrap_or(i32::MAX),
            description: item.description.clone(),
            owner: item.owner.clone(),
            due_on: item.due_on,
            done_at: item.done_at,
            done_by: item.done_by.clone(),
        };
        native!(conn, |c| diesel::insert_into(items::table)
            .values(&row)
            .execute(c))?;
    }
    Ok(())
}

/// The filters of a student's notes.
#[derive(Debug, Default)]
pub struct Filters {
    /// Of this kind.
    pub kind: Option<NoteKind>,
    /// Of this visibility.
    pub visibility: Option<NoteVisibility>,
    /// With (`true`) or without (`false`) open action items.
    pub open_action_items: Option<bool>,
    /// Meeting on or after.
    pub meeting_from: Option<NaiveDate>,
    /// Meeting on or before.
    pub meeting_to: Option<NaiveDate>,
    /// Changed at or after.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of a student's active notes (content not destroyed) that the viewer may see, newest
/// first. The caller has checked that the viewer may see the student.
pub fn list(
    conn: &mut DbConnection,
    viewer: &Viewer,
    student: StudentId,
    f: &Filters,
    page: &PageRequest,
) -> QueryResult<Vec<NoteRow>> {
    let school = viewer.school_id.clone();
    native!(conn, |c| {
        let mut sql = notes::table
            .filter(notes::school_id.eq(school.clone()))
            .filter(notes::student_id.eq(student))
            .filter(notes::archived_at.is_null())
            .filter(notes::destroyed_at.is_null())
            .into_boxed();
        if viewer.is_guardian() {
            sql = sql.filter(notes::visibility.eq(NoteVisibility::Family));
        }
        if let Some(k) = f.kind {
            sql = sql.filter(notes::kind.eq(k));
        }
        if let Some(v) = f.visibility {
            sql = sql.filter(notes::visibility.eq(v));
        }
        if let Some(open) = f.open_action_items {
            let with_open = items::table
                .filter(items::school_id.eq(school.clone()))
                .filter(items::student_id.eq(student))
                .filter(items::done_at.is_null())
                .select(items::note_id);
            sql = if open {
                sql.filter(notes::id.eq_any(with_open))
            } else {
                sql.filter(notes::id.ne_all(with_open))
            };
        }
        if let Some(from) = f.meeting_from {
            sql = sql.filter(notes::meeting_date.ge(from));
        }
        if let Some(to) = f.meeting_to {
            sql = sql.filter(notes::meeting_date.le(to));
        }
        if let Some(since) = f.updated_since {
            sql = sql.filter(notes::updated_at.ge(since.naive_utc()));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(notes::id.lt(after.clone()));
        }
        sql.order(notes::id.desc())
            .limit(page.fetch())
            .select(NoteRow::as_select())
            .load(c)
    })
}

/// A family's active notes the viewer may see, newest first by creation, after `after` (the
/// timeline's cursor): the IEP part of the family timeline. A guardian gets the family-visible
/// notes of the children they may see.
pub fn family_page(
    conn: &mut DbConnection,
    viewer: &Viewer,
    family: FamilyId,
    after: Option<&(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<NoteRow>> {
    native!(conn, |c| {
        let mut sql = notes::table
            .filter(notes::school_id.eq(viewer.school_id.clone()))
            .filter(notes::family_id.eq(family))
            .filter(notes::archived_at.is_null())
            .filter(notes::destroyed_at.is_null())
            .into_boxed();
        if let Some((_, students)) = viewer.record_scope() {
            sql = sql
                .filter(notes::visibility.eq(NoteVisibility::Family))
                .filter(notes::student_id.eq_any(students.to_vec()));
        }
        if let Some((at, id)) = after {
            sql = sql.filter(notes::created_at.le(*at)).filter(
                notes::created_at
                    .lt(*at)
                    .or(notes::created_at.eq(*at).and(notes::id.lt(id.clone()))),
            );
        }
        sql.order((notes::created_at.desc(), notes::id.desc()))
            .limit(limit)
            .select(NoteRow::as_select())
            .load(c)
    })
}

/// The filters of the action items across students.
#[derive(Debug, Default)]
pub struct ItemFilters {
    /// Owed by.
    pub owner: Option<String>,
    /// Open (`true`) or done (`false`).
    pub open: bool,
    /// Due before.
    pub due_before: Option<NaiveDate>,
    /// Of this student.
    pub student: Option<StudentId>,
}

/// A page of the action items of active notes the viewer may see, oldest first, each with its
/// note's family.
pub fn list_items(
    conn: &mut DbConnection,
    viewer: &Viewer,
    f: &ItemFilters,
    page: &PageRequest,
) -> QueryResult<Vec<(ItemRow, FamilyId)>> {
    native!(conn, |c| {
        let mut sql = items::table
            .inner_join(notes::table)
            .filter(items::school_id.eq(viewer.school_id.clone()))
            .filter(notes::school_id.eq(viewer.school_id.clone()))
            .filter(notes::archived_at.is_null())
            .filter(notes::destroyed_at.is_null())
            .into_boxed();
        if let Some((_, students)) = viewer.record_scope() {
            sql = sql
                .filter(notes::visibility.eq(NoteVisibility::Family))
                .filter(items::student_id.eq_any(students.to_vec()));
        }
        if let Some(owner) = &f.owner {
            sql = sql.filter(items::owner.eq(owner.clone()));
        }
        sql = if f.open {
            sql.filter(items::done_at.is_null())
        } else {
            sql.filter(items::done_at.is_not_null())
        };
        if let Some(before) = f.due_before {
            sql = sql.filter(items::due_on.lt(before));
        }
        if let Some(student) = f.student {
            sql = sql.filter(items::student_id.eq(student));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(items::id.gt(after.clone()));
        }
        sql.order(items::id.asc())
            .limit(page.fetch())
            .select((ItemRow::as_select(), notes::family_id))
            .load(c)
    })
}

/// Every note of a student whose content is not yet destroyed, archived ones included.
pub fn undestroyed(
    conn: &mut DbConnection,
    school: &str,
    student: StudentId,
) -> QueryResult<Vec<NoteRow>> {
    native!(conn, |c| notes::table
        .filter(notes::school_id.eq(school))
        .filter(notes::student_id.eq(student))
        .filter(notes::destroyed_at.is_null())
        .order(notes::id.desc())
        .select(NoteRow::as_select())
        .load(c))
}

/// Every destroyed note of a student (their tombstones), newest first.
pub fn destroyed(
    conn: &mut DbConnection,
    school: &str,
    student: StudentId,
) -> QueryResult<Vec<NoteRow>> {
    native!(conn, |c| notes::table
        .filter(notes::school_id.eq(school))
        .filter(notes::student_id.eq(student))
        .filter(notes::destroyed_at.is_not_null())
        .order(notes::id.desc())
        .select(NoteRow::as_select())
        .load(c))
}

/// Erases what a destruction must not leave behind besides the note's own fields: its action
/// items, and the answer kept for an `Idempotency-Key` replay of its creation (which holds its
/// content for a day). The key itself is kept, so that a replay finds the note and answers 410
/// rather than write it again.
pub fn erase_content(conn: &mut DbConnection, note: &NoteRow) -> QueryResult<()> {
    save_items(conn, note, &[])?;
    let location = format!("/v1/iep-notes/{}", note.id);
    let school = note.school_id.as_str();
    native!(conn, |c| diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::school_id.eq(school))
            .filter(idempotency_keys::location.eq(location))
    )
    .set(idempotency_keys::body.eq(""))
    .execute(c))?;
    Ok(())
}
