//! Stages, applicants and their moves as stored, and their queries.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::pipeline::{self, StageRule};
use super::wire::{
    Applicant, ApplicantInput, ChecklistEntry, ChecklistState, GuardianContact, Source, Stage,
    StageInput, StageKind, StageStay,
};
use crate::auth::Role;
use crate::db::schema::{admission_stages as stages, applicant_moves as moves, applicants};
use crate::db::{casefold, native, stored_in, Archivable, DbConnection, Record, ResourceType};
use crate::domain::{E164Phone, Email, LanguageTag, Relationship};
use crate::error::ApiError;
use crate::http::pagination::PageRequest;
use crate::ids::{ApplicantId, ApplicantMoveId, FamilyId, GuardianId, StageId, StudentId};
use crate::routes::{contains_pattern, utc};

// ------------------------------------------------------------------------------------ stages

/// A stage as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = stages, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct StageRow {
    pub id: StageId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub key: String,
    pub name: String,
    pub position: i32,
    pub kind: StageKind,
    pub checklist: Checklist,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for StageRow {
    const TYPE: ResourceType = ResourceType::AdmissionStages;
    stored_in!(stages);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for StageRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

/// A stage's checklist items, stored as a JSON array and parsed once as the row is read: a
/// transition lays out every stage's items twice (the rules, the applicant's view).
#[derive(
    Debug, Clone, PartialEq, Eq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct Checklist(pub Vec<ChecklistEntry>);

impl Checklist {
    fn text(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    fn parse(text: &str) -> Option<Checklist> {
        serde_json::from_str(text).ok().map(Checklist)
    }
}

crate::db::types::text_sql!(
    Checklist,
    "stage checklist",
    owned = text,
    from = Checklist::parse
);

impl StageRow {
    /// A new stage of `school` at version 1 at `position`.
    pub fn new(school: &str, input: StageInput, position: i32, now: NaiveDateTime) -> StageRow {
        let mut row = StageRow {
            id: StageId::new(),
            school_id: school.to_string(),
            key: input.key.clone(),
            name: String::new(),
            position,
            kind: StageKind::Open,
            checklist: Checklist(Vec::new()),
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input);
        row.position = position;
        row
    }

    /// The checklist items.
    pub fn items(&self) -> Vec<ChecklistEntry> {
        self.checklist.0.clone()
    }

    /// The fields a client sets, as they stand.
    pub fn input(&self) -> StageInput {
        StageInput {
            key: self.key.clone(),
            name: self.name.clone(),
            kind: self.kind,
            position: Some(self.position),
            checklist: self.items(),
        }
    }

    /// Sets the client's fields but `key` and `position` (the pipeline places the stage).
    pub fn set(&mut self, input: StageInput) {
        self.name = input.name;
        self.kind = input.kind;
        self.checklist = Checklist(input.checklist);
    }

    /// The stage as the pipeline's rules see it.
    pub fn rule(&self) -> StageRule {
        StageRule {
            key: self.key.clone(),
            position: self.position,
            kind: self.kind,
            checklist: self.items(),
        }
    }

    /// The wire form.
    pub fn view(&self) -> Stage {
        Stage {
            id: self.id.uuid(),
            key: self.key.clone(),
            name: self.name.clone(),
            position: self.position,
            kind: self.kind,
            checklist: self.items(),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// The school's live stages, in pipeline order.
pub fn pipeline(conn: &mut DbConnection, school: &str) -> QueryResult<Vec<StageRow>> {
    native!(conn, |c| stages::table
        .filter(stages::school_id.eq(school))
        .filter(stages::archived_at.is_null())
        .order((stages::position.asc(), stages::id.asc()))
        .select(StageRow::as_select())
        .load(c))
}

/// Serializes the writes of a school's pipeline: on PostgreSQL the no-op update holds the row
/// locks of every stage of the school until the transaction ends, so two writers that shift
/// positions do not interleave (SQLite has one writer anyway).
pub fn lock_pipeline(conn: &mut DbConnection, school: &str) -> QueryResult<()> {
    native!(conn, |c| diesel::update(
        stages::table.filter(stages::school_id.eq(school))
    )
    .set(stages::version.eq(stages::version))
    .execute(c))?;
    Ok(())
}

/// Finds a live stage by key (or by id, when `key_or_id` is one: keys never look like ids).
pub fn find_stage(pipeline: &[StageRow], key_or_id: &str) -> Result<StageRow, ApiError> {
    let id = uuid::Uuid::parse_str(key_or_id).ok().map(StageId);
    pipeline
        .iter()
        .find(|s| Some(s.id) == id || s.key == key_or_id)
        .cloned()
        .ok_or(ApiError::NotFound)
}

/// How many live applicants are in the stage `key`.
pub fn applicants_in(conn: &mut DbConnection, school: &str, key: &str) -> QueryResult<i64> {
    native!(conn, |c| applicants::table
        .filter(applicants::school_id.eq(school))
        .filter(applicants::stage.eq(key))
        .filter(applicants::archived_at.is_null())
        .count()
        .get_result(c))
}

// ---------------------------------------------------------------------------------- applicants

/// A checklist item done, as stored in an applicant's `checklist` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// When.
    pub done_at: DateTime<Utc>,
    /// By whom (a token `sub`).
    pub done_by: String,
}

/// An applicant as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = applicants, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ApplicantRow {
    pub id: ApplicantId,
    #[diesel(skip_update)]
    pub school_id: String,
    pub external_id: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub applying_for_grade: Option<String>,
    pub entry_term: Option<String>,
    pub guardian_name: String,
    pub guardian_email: Option<Email>,
    pub guardian_phone: Option<E164Phone>,
    pub guardian_preferred_language: Option<LanguageTag>,
    pub guardian_relationship: Option<Relationship>,
    pub guardian_sms_opt_in: bool,
    pub source: Source,
    pub stage: String,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub stage_entered_at: NaiveDateTime,
    pub reached: String,
    pub stays: String,
    pub assignee: Option<String>,
    pub checklist: String,
    pub notes: Option<String>,
    pub family_id: Option<FamilyId>,
    pub student_id: Option<StudentId>,
    pub guardian_id: Option<GuardianId>,
    pub version: i64,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    #[diesel(skip_update)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub archived_at: Option<NaiveDateTime>,
}

impl Record for ApplicantRow {
    const TYPE: ResourceType = ResourceType::Applicants;
    stored_in!(applicants);

    fn record_id(&self) -> String {
        self.id.to_string()
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }
    // Once enrolled, the applicant's record is about that family and student.
    fn family_id(&self) -> Option<String> {
        self.family_id.map(|f| f.to_string())
    }
    fn student_id(&self) -> Option<String> {
        self.student_id.map(|s| s.to_string())
    }
    fn bump(&mut self, now: NaiveDateTime) {
        self.version += 1;
        self.updated_at = now;
    }
}

impl Archivable for ApplicantRow {
    fn set_archived(&mut self, now: NaiveDateTime) {
        self.archived_at = Some(now);
    }
}

impl ApplicantRow {
    /// A new applicant of `school` at version 1 in `stage`, entered at `now`; the checklist
    /// items the input marks done are done by `actor`.
    pub fn new(
        school: &str,
        input: ApplicantInput,
        stage: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> ApplicantRow {
        let mut row = ApplicantRow {
            id: ApplicantId::new(),
            school_id: school.to_string(),
            external_id: None,
            given_name: String::new(),
            family_name: String::new(),
            date_of_birth: None,
            applying_for_grade: None,
            entry_term: None,
            guardian_name: String::new(),
            guardian_email: None,
            guardian_phone: None,
            guardian_preferred_language: None,
            guardian_relationship: None,
            guardian_sms_opt_in: false,
            source: Source::Other,
            stage: stage.to_string(),
            stage_entered_at: now,
            reached: stage.to_string(),
            stays: String::new(),
            assignee: None,
            checklist: "{}".into(),
            notes: None,
            family_id: None,
            student_id: None,
            guardian_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        row.set(input, actor, now);
        row
    }

    /// The done checklist items.
    pub fn done(&self) -> BTreeMap<String, Done> {
        serde_json::from_str(&self.checklist).unwrap_or_default()
    }

    /// The household contact.
    pub fn guardian(&self) -> GuardianContact {
        GuardianContact {
            name: self.guardian_name.clone(),
            email: self.guardian_email.clone(),
            phone: self.guardian_phone.clone(),
            preferred_language: self.guardian_preferred_language.clone(),
            relationship: self.guardian_relationship,
            sms_opt_in: self.guardian_sms_opt_in,
        }
    }

    /// The fields a client sets, as they stand: what a merge patch applies to.
    pub fn input(&self) -> ApplicantInput {
        ApplicantInput {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            date_of_birth: self.date_of_birth,
            applying_for_grade: self.applying_for_grade.clone(),
            entry_term: self.entry_term.clone(),
            external_id: self.external_id.clone(),
            guardian: self.guardian(),
            source: self.source,
            stage: Some(self.stage.clone()),
            assignee: self.assignee.clone(),
            notes: self.notes.clone(),
            checklist: self.done().into_keys().map(|k| (k, true)).collect(),
        }
    }

    /// Sets the client's fields (not the stage); an item newly marked done is done by `actor`
    /// at `now`, one already done keeps its time and author.
    pub fn set(&mut self, input: ApplicantInput, actor: &str, now: NaiveDateTime) {
        let before = self.done();
        let done: BTreeMap<String, Done> = input
            .checklist
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(key, _)| {
                let entry = before.get(&key).cloned().unwrap_or_else(|| Done {
                    done_at: utc(now),
                    done_by: actor.to_string(),
                });
                (key, entry)
            })
            .collect();
        self.checklist = serde_json::to_string(&done).unwrap_or_else(|_| "{}".into());
        self.given_name = input.given_name;
        self.family_name = input.family_name;
        self.date_of_birth = input.date_of_birth;
        self.applying_for_grade = input.applying_for_grade;
        self.entry_term = input.entry_term;
        self.external_id = input.external_id;
        self.guardian_name = input.guardian.name;
        self.guardian_email = input.guardian.email;
        self.guardian_phone = input.guardian.phone;
        self.guardian_preferred_language = input.guardian.preferred_language;
        self.guardian_relationship = input.guardian.relationship;
        self.guardian_sms_opt_in = input.guardian.sms_opt_in;
        self.source = input.source;
        self.assignee = input.assignee;
        self.notes = input.notes;
    }

    /// Moves the applicant into `stage` at `now`, remembering that it reached it and how long
    /// it stayed in the stage it leaves (as `record_move` records it in the history).
    pub fn enter(&mut self, stage: &str, now: NaiveDateTime) {
        let seconds = (now - self.stage_entered_at).num_seconds().max(0);
        if !self.stays.is_empty() {
            self.stays.push(',');
        }
        self.stays.push_str(&format!("{}:{seconds}", self.stage));
        self.stage = stage.to_string();
        self.stage_entered_at = now;
        if !self.reached.split(',').any(|k| k == stage) {
            self.reached.push(',');
            self.reached.push_str(stage);
        }
    }

    /// The wire form, its checklist laid out by the school's `pipeline`.
    pub fn view(self, pipeline: &[StageRow]) -> Applicant {
        let done = self.done();
        let checklist = pipeline
            .iter()
            .flat_map(|s| s.checklist.0.iter().map(move |item| (&s.key, item)))
            .map(|(stage, item)| {
                let state = done.get(&item.key);
                ChecklistState {
                    stage: stage.clone(),
                    done: state.is_some(),
                    done_at: state.map(|d| d.done_at),
                    done_by: state.map(|d| d.done_by.clone()),
                    key: item.key.clone(),
                    label: item.label.clone(),
                    required: item.required,
                }
            })
            .collect();
        let stage_kind = pipeline
            .iter()
            .find(|s| s.key == self.stage)
            .map_or(StageKind::Open, |s| s.kind);
        Applicant {
            id: self.id.uuid(),
            guardian: self.guardian(),
            external_id: self.external_id,
            given_name: self.given_name,
            family_name: self.family_name,
            date_of_birth: self.date_of_birth,
            applying_for_grade: self.applying_for_grade,
            entry_term: self.entry_term,
            source: self.source,
            stage: self.stage,
            stage_kind,
            stage_entered_at: utc(self.stage_entered_at),
            assignee: self.assignee,
            checklist,
            notes: self.notes,
            family_id: self.family_id.map(FamilyId::uuid),
            student_id: self.student_id.map(StudentId::uuid),
            version: self.version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

/// Loads a live applicant of the school, else 404.
pub fn find(
    conn: &mut DbConnection,
    school: &str,
    id: ApplicantId,
) -> Result<ApplicantRow, ApiError> {
    Ok(native!(conn, |c| applicants::table
        .filter(applicants::school_id.eq(school))
        .filter(applicants::id.eq(id))
        .filter(applicants::archived_at.is_null())
        .select(ApplicantRow::as_select())
        .first(c))?)
}

/// The filters of the applicant list.
#[derive(Debug, Default)]
pub struct Filters {
    /// In this stage.
    pub stage: Option<String>,
    /// From this source.
    pub source: Option<Source>,
    /// Owned by this `sub`.
    pub assignee: Option<String>,
    /// Starting in this term.
    pub entry_term: Option<String>,
    /// Applying for this grade.
    pub applying_for_grade: Option<String>,
    /// Name text.
    pub q: Option<String>,
    /// Changed since.
    pub updated_since: Option<DateTime<Utc>>,
}

/// A page of the school's live applicants, newest first.
pub fn list(
    conn: &mut DbConnection,
    school: &str,
    f: &Filters,
    page: &PageRequest,
) -> QueryResult<Vec<ApplicantRow>> {
    native!(conn, |c| {
        let mut sql = applicants::table
            .filter(applicants::school_id.eq(school.to_string()))
            .filter(applicants::archived_at.is_null())
            .into_boxed();
        if let Some(s) = &f.stage {
            sql = sql.filter(applicants::stage.eq(s.clone()));
        }
        if let Some(s) = f.source {
            sql = sql.filter(applicants::source.eq(s));
        }
        if let Some(a) = &f.assignee {
            sql = sql.filter(applicants::assignee.eq(a.clone()));
        }
        if let Some(t) = &f.entry_term {
            sql = sql.filter(applicants::entry_term.eq(t.clone()));
        }
        if let Some(g) = &f.applying_for_grade {
            sql = sql.filter(applicants::applying_for_grade.eq(g.clone()));
        }
        if let Some(text) = &f.q {
            let pattern = contains_pattern(text);
            sql = sql.filter(
                casefold(applicants::given_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(casefold(applicants::family_name)
                        .like(pattern.clone())
                        .escape('\\'))
                    .or(casefold(applicants::guardian_name)
                        .like(pattern)
                        .escape('\\')),
            );
        }
        if let Some(since) = f.updated_since {
            sql = sql.filter(applicants::updated_at.ge(since.naive_utc()));
        }
        if let Some(after) = &page.after {
            sql = sql.filter(applicants::id.lt(after.clone()));
        }
        sql.order(applicants::id.desc())
            .limit(page.fetch())
            .select(ApplicantRow::as_select())
            .load(c)
    })
}

// ------------------------------------------------------------------------------------- moves

/// An entry of an applicant's history: its entry into a stage.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = moves, treat_none_as_default_value = false)]
pub struct MoveRow {
    pub id: ApplicantMoveId,
    pub school_id: String,
    pub applicant_id: ApplicantId,
    pub from_stage: Option<String>,
    pub to_stage: String,
    pub note: Option<String>,
    pub actor: String,
    pub actor_role: String,
    #[diesel(deserialize_as = crate::db::types::Stamp)]
    pub moved_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::types::OptStamp)]
    pub left_at: Option<NaiveDateTime>,
    pub seconds: Option<i64>,
}

impl MoveRow {
    /// `applicant`'s entry into `stage` at `at`, by `actor`, from no stage and with no note.
    pub fn entry(
        applicant: &ApplicantRow,
        stage: &str,
        actor: &str,
        role: Role,
        at: NaiveDateTime,
    ) -> MoveRow {
        MoveRow {
            id: ApplicantMoveId::new(),
            school_id: applicant.school_id.clone(),
            applicant_id: applicant.id,
            from_stage: None,
            to_stage: stage.to_string(),
            note: None,
            actor: actor.to_string(),
            actor_role: role.as_str().to_string(),
            moved_at: at,
            left_at: None,
            seconds: None,
        }
    }

    /// The wire form; a stay not yet ended is measured up to `now`.
    pub fn view(self, now: NaiveDateTime) -> StageStay {
        let seconds = self
            .seconds
            .unwrap_or_else(|| (now - self.moved_at).num_seconds().max(0));
        StageStay {
            id: self.id.uuid(),
            stage: self.to_stage,
            from_stage: self.from_stage,
            note: self.note,
            actor: self.actor,
            actor_role: self.actor_role,
            entered_at: utc(self.moved_at),
            left_at: self.left_at.map(utc),
            seconds_in_stage: seconds,
            days_in_stage: pipeline::days(seconds as f64),
        }
    }
}

/// Records that `applicant` entered `to` (from `from`, which it had entered at
/// `from.1`) at `at`, by `actor`, ending the stay it leaves. These entries belong to the
/// recorded write of the applicant (its create, move or enrolment), so they are written
/// straight on the write's connection (`Tx::conn`).
#[allow(clippy::too_many_arguments)]
pub fn record_move(
    conn: &mut DbConnection,
    applicant: &ApplicantRow,
    from: Option<(&str, NaiveDateTime)>,
    to: &str,
    note: Option<String>,
    actor: &str,
    role: Role,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let school = applicant.school_id.as_str();
    if let Some((_, since)) = from {
        // The stay being left is the applicant's one open entry, entered at `since`.
        let seconds = (at - since).num_seconds().max(0);
        native!(conn, |c| crate::db::update::update(
            moves::table,
            (moves::left_at.eq(at), moves::seconds.eq(seconds)),
            moves::school_id
                .eq(school)
                .and(moves::applicant_id.eq(applicant.id))
                .and(moves::left_at.is_null()),
        )
        .execute(c))?;
    }
    let mut row = MoveRow::entry(applicant, to, actor, role, at);
    row.from_stage = from.map(|(stage, _)| stage.to_string());
    row.note = note;
    native!(conn, |c| diesel::insert_into(moves::table)
        .values(&row)
        .execute(c))?;
    Ok(())
}

/// Records the first entries of new applicants' histories (a bulk import's batch), in
/// multi-row statements.
pub fn record_entries(conn: &mut DbConnection, entries: &[MoveRow]) -> QueryResult<()> {
    crate::db::insert_rows!(conn, moves, entries)?;
    Ok(())
}

/// A history key: the entry's time and id.
pub fn history_key(row: &MoveRow) -> String {
    crate::routes::communications::store::time_key(row.moved_at, row.id)
}

/// A page of an applicant's history, oldest first.
pub fn history(
    conn: &mut DbConnection,
    school: &str,
    applicant: ApplicantId,
    page: &PageRequest,
) -> QueryResult<Vec<MoveRow>> {
    let after = page
        .after
        .as_deref()
        .and_then(crate::routes::communications::store::parse_time_key);
    native!(conn, |c| {
        let mut sql = moves::table
            .filter(moves::school_id.eq(school.to_string()))
            .filter(moves::applicant_id.eq(applicant))
            .into_boxed();
        if let Some((at, id)) = after {
            sql = sql.filter(moves::moved_at.ge(at)).filter(
                moves::moved_at
                    .gt(at)
                    .or(moves::moved_at.eq(at).and(moves::id.gt(id))),
            );
        }
        sql.order((moves::moved_at.asc(), moves::id.asc()))
            .limit(page.fetch())
            .select(MoveRow::as_select())
            .load(c)
    })
}

// ------------------------------------------------------------------------------------ funnel

/// The applicants a funnel counts.
#[derive(Debug, Clone, Default)]
pub struct Cohort {
    /// Entered the pipeline at or after.
    pub from: Option<NaiveDateTime>,
    /// Entered the pipeline before.
    pub to: Option<NaiveDateTime>,
    /// Starting in this term.
    pub entry_term: Option<String>,
}

/// The funnel's tally of the cohort, from the `applicants_funnel` index.
///
/// SQLite reads the cohort's rows (current stage, source, stages reached, ended stays), an inline
/// read of the index. PostgreSQL groups them first by current stage, source and stages reached
/// (a few dozen lines, each with its applicants' stays concatenated): shipping 100,000 rows to the
/// process took most of the 200 ms the report has. Either way [`pipeline::Tally::count`] counts.
pub fn tally(
    conn: &mut DbConnection,
    school: &str,
    cohort: &Cohort,
) -> QueryResult<pipeline::Tally> {
    // The cohort's filters on `$query` (a boxed select), said once for both backends.
    macro_rules! of_cohort {
        ($query:expr) => {{
            let mut sql = $query
                .filter(applicants::school_id.eq(school.to_string()))
                .filter(applicants::archived_at.is_null());
            if let Some(from) = cohort.from {
                sql = sql.filter(applicants::created_at.ge(from));
            }
            if let Some(to) = cohort.to {
                sql = sql.filter(applicants::created_at.lt(to));
            }
            if let Some(t) = &cohort.entry_term {
                sql = sql.filter(applicants::entry_term.eq(t.clone()));
            }
            sql
        }};
    }
    let lines: Vec<(String, Source, String, String, i64)> = match conn {
        DbConnection::Sqlite(c) => of_cohort!(applicants::table
            .select((
                applicants::stage,
                applicants::source,
                applicants::reached,
                applicants::stays,
                1i64.into_sql::<diesel::sql_types::BigInt>(),
            ))
            .into_boxed())
        .load(c)?,
        DbConnection::Postgresql(c) => of_cohort!(applicants::table
            .group_by((applicants::stage, applicants::source, applicants::reached))
            .select((
                applicants::stage,
                applicants::source,
                applicants::reached,
                string_agg(applicants::stays, ","),
                diesel::dsl::count_star(),
            ))
            .into_boxed())
        .load(c)?,
    };
    Ok(pipeline::Tally::count(lines.iter().map(
        |(stage, source, reached, stays, n)| {
            (
                stage.as_str(),
                *source,
                reached.as_str(),
                stays.as_str(),
                *n,
            )
        },
    )))
}

diesel::define_sql_function! {
    /// PostgreSQL's `string_agg`: a group's values joined by `delimiter`.
    #[aggregate]
    fn string_agg(expr: diesel::sql_types::Text, delimiter: diesel::sql_types::Text) -> diesel::sql_types::Text;
}
