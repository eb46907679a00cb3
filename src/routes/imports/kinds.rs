//! What each kind of import reads and how its rows are written: the same checks as a single
//! create (its wire type, through the same request checker), the parents found by their
//! external ids, and an upsert by external id within the caller's school.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use validator::Validate;

use super::parse::{Cell, Column};
use super::wire::ImportReport;
use crate::db::schema::{
    applicants, families, guardian_student_links as links, guardians, students,
};
use crate::db::{native, Action, Tx};
use crate::domain::identifier;
use crate::error::{ApiError, FieldError};
use crate::http::check;
use crate::http::extract::NoFields;
use crate::ids::{FamilyId, GuardianId, StudentId};
use crate::routes::admissions::store::{self as admissions, ApplicantRow, MoveRow};
use crate::routes::admissions::{check_items, ensure_pipeline, start_stage, ApplicantInput};
use crate::routes::families::store::FamilyRow;
use crate::routes::families::FamilyInput;
use crate::routes::guardians::store::GuardianRow;
use crate::routes::guardians::wire::GuardianInput;
use crate::routes::links::store::LinkRow;
use crate::routes::links::wire::LinkInput;
use crate::routes::students::store::StudentRow;
use crate::routes::students::wire::StudentInput;

/// A checked row, as spooled between reading and writing.
#[derive(Debug, Serialize, Deserialize)]
pub struct Spooled<R, I> {
    /// Its line in the file.
    pub line: u64,
    /// Its parents' external ids.
    pub refs: R,
    /// The fields a create takes.
    pub input: I,
}

/// One kind of import.
pub trait Importer: 'static {
    /// The parents' external ids a row names.
    type Refs: DeserializeOwned + Serialize + Validate + ToSchema + 'static;
    /// The create's body.
    type Input: DeserializeOwned + Serialize + Validate + ToSchema + Clone + 'static;
    /// The CSV columns.
    const COLUMNS: &'static [Column];
    /// The keys of `Refs` in a row.
    const REF_KEYS: &'static [&'static str];
    /// The tables a batch looks rows up in: the one written, then the parents'.
    const TABLES: &'static [&'static str];
    /// Adjusts a row before it is checked; the problems found.
    fn prepare(map: &mut Map<String, Value>) -> Vec<FieldError>;
    /// Checks beyond the create's body (those its handler makes).
    fn extra(_input: &Self::Input) -> Vec<FieldError> {
        Vec::new()
    }
    /// What a row is matched by: two rows of one batch must not share it.
    fn key(row: &Spooled<Self::Refs, Self::Input>) -> String;
    /// Writes a batch of checked rows.
    fn apply(
        tx: &mut Tx<'_>,
        batch: Vec<Spooled<Self::Refs, Self::Input>>,
        report: &mut ImportReport,
    ) -> Result<(), ApiError>;
}

fn field_errors(e: ApiError) -> Vec<FieldError> {
    match e {
        ApiError::BadRequest { errors, detail }
        | ApiError::Unprocessable { errors, detail, .. }
            if errors.is_empty() =>
        {
            vec![FieldError::new("row", "invalid", detail)]
        }
        ApiError::BadRequest { errors, .. } | ApiError::Unprocessable { errors, .. } => errors,
        other => vec![FieldError::new("row", "invalid", other.to_string())],
    }
}

/// Checks a row as a create checks its body; the row to spool, or every field error at once.
pub fn check_row<K: Importer>(
    line: u64,
    mut map: Map<String, Value>,
    prior: Vec<FieldError>,
) -> Result<Spooled<K::Refs, K::Input>, Vec<FieldError>> {
    let mut errors = K::prepare(&mut map);
    let mut refs = Map::new();
    for key in K::REF_KEYS {
        if let Some(v) = map.remove(*key) {
            refs.insert((*key).to_string(), v);
        }
    }
    let refs = check::body::<K::Refs>(Value::Object(refs), Vec::new())
        .map_err(|e| errors.extend(field_errors(e)));
    let input = check::body::<K::Input>(Value::Object(map), prior)
        .map_err(|e| errors.extend(field_errors(e)));
    if let Ok(input) = &input {
        errors.extend(K::extra(input));
    }
    match (refs, input) {
        (Ok(refs), Ok(input)) if errors.is_empty() => Ok(Spooled { line, refs, input }),
        _ => {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(errors)
        }
    }
}

/// Rows are matched to records by `external_id`, so an import row must have one.
fn require_external_id(map: &Map<String, Value>) -> Vec<FieldError> {
    if map.contains_key("external_id") {
        Vec::new()
    } else {
        vec![FieldError::new(
            "external_id",
            "required",
            "is required in an import: rows are matched to records by it",
        )]
    }
}

fn not_found(field: &str, what: &str) -> Vec<FieldError> {
    vec![FieldError::new(
        field,
        "not_found",
        format!("no {what} of this school has this external_id"),
    )]
}

/// Finds active records of the school by external id: `(external_id, id)` pairs.
macro_rules! ids_by_external_id {
    ($conn:expr, $table:ident, $school:expr, $ids:expr) => {
        native!($conn, |c| $table::table
            .filter($table::school_id.eq($school))
            .filter($table::external_id.eq_any($ids))
            .filter($table::archived_at.is_null())
            .select(($table::external_id.assume_not_null(), $table::id))
            .load(c))
    };
}

/// Finds active records of the school by external id, as rows of `$row`, keyed by external id.
macro_rules! rows_by_external_id {
    ($conn:expr, $table:ident, $row:ty, $school:expr, $ids:expr) => {{
        let found: Vec<$row> = native!($conn, |c| $table::table
            .filter($table::school_id.eq($school))
            .filter($table::external_id.eq_any($ids))
            .filter($table::archived_at.is_null())
            .select(<$row>::as_select())
            .load(c))?;
        found
            .into_iter()
            .filter_map(|r| Some((r.external_id.clone()?, r)))
            .collect::<HashMap<String, $row>>()
    }};
}

const TEXT: Cell = Cell::Text;
const BOOL: Cell = Cell::Bool;

macro_rules! col {
    ($name:literal, $cell:expr, $required:expr, $doc:literal) => {
        Column {
            name: $name,
            key: $name,
            sub: None,
            cell: $cell,
            required: $required,
            doc: $doc,
        }
    };
    ($name:literal => $key:literal . $sub:literal, $doc:literal) => {
        col!($name => $key . $sub, Cell::Text, false, $doc)
    };
    ($name:literal => $key:literal . $sub:literal, $cell:expr, $required:expr, $doc:literal) => {
        Column {
            name: $name,
            key: $key,
            sub: Some($sub),
            cell: $cell,
            required: $required,
            doc: $doc,
        }
    };
}

/// Families, matched by `external_id`.
pub struct Families;

impl Importer for Families {
    type Refs = NoFields;
    type Input = FamilyInput;
    const COLUMNS: &'static [Column] = &[
        col!(
            "external_id",
            TEXT,
            true,
            "the SIS's id of the household (required)"
        ),
        col!(
            "display_name",
            TEXT,
            true,
            "how the family is addressed (required)"
        ),
        col!("primary_language", TEXT, false, "BCP 47 language tag"),
        col!(
            "preferred_channel",
            TEXT,
            false,
            "phone, email, sms, in_person, video, letter, portal"
        ),
        col!("sms_opt_in", BOOL, false, "true or false (default false)"),
        col!(
            "directory_opt_out",
            BOOL,
            false,
            "true or false (default false)"
        ),
        col!("address_line1" => "address" . "line1", "street and number"),
        col!("address_line2" => "address" . "line2", "apartment, suite"),
        col!("address_city" => "address" . "city", "city or town"),
        col!("address_region" => "address" . "region", "state, province or region"),
        col!("address_postal_code" => "address" . "postal_code", "postal code"),
        col!("address_country" => "address" . "country", "ISO 3166-1 alpha-2 code"),
        col!("notes", TEXT, false, "staff notes"),
    ];
    const REF_KEYS: &'static [&'static str] = &[];
    const TABLES: &'static [&'static str] = &["families"];

    fn prepare(map: &mut Map<String, Value>) -> Vec<FieldError> {
        require_external_id(map)
    }

    fn key(row: &Spooled<NoFields, FamilyInput>) -> String {
        row.input.external_id.clone().unwrap_or_default()
    }

    fn apply(
        tx: &mut Tx<'_>,
        batch: Vec<Spooled<NoFields, FamilyInput>>,
        report: &mut ImportReport,
    ) -> Result<(), ApiError> {
        let (school, now) = (tx.caller().school_id.clone(), tx.now());
        let ids: Vec<String> = batch.iter().map(Self::key).collect();
        let mut found = rows_by_external_id!(tx.conn(), families, FamilyRow, &school, &ids);
        let mut new = Vec::new();
        for row in batch {
            match found.remove(&Self::key(&row)) {
                Some(current) if current.input() == row.input => report.unchanged += 1,
                Some(current) => {
                    tx.revise(&current, Action::Update, |r| r.set(row.input))?;
                    report.updated += 1;
                }
                None => {
                    new.push(FamilyRow::new(&school, row.input, now));
                    report.created += 1;
                }
            }
        }
        tx.create_many(&new)?;
        tx.flush()
    }
}

/// The family a guardian or student row belongs to.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct FamilyRef {
    /// The family's `external_id`.
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(min_length = 1, max_length = 100)]
    pub family_external_id: String,
}

/// Guardians, matched by `external_id`, in the family named by `family_external_id`.
pub struct Guardians;

impl Importer for Guardians {
    type Refs = FamilyRef;
    type Input = GuardianInput;
    const COLUMNS: &'static [Column] = &[
        col!(
            "family_external_id",
            TEXT,
            true,
            "the family's external_id (required)"
        ),
        col!(
            "external_id",
            TEXT,
            true,
            "the SIS's id of the adult (required)"
        ),
        col!("given_name", TEXT, true, "given name (required)"),
        col!("family_name", TEXT, true, "family name (required)"),
        col!(
            "relationship",
            TEXT,
            false,
            "mother, father, grandparent, … as a create takes"
        ),
        col!("email", TEXT, false, "e-mail address"),
        col!("phone", TEXT, false, "phone number, E.164 (+15551234567)"),
        col!("preferred_language", TEXT, false, "BCP 47 language tag"),
        col!(
            "preferred_channel",
            TEXT,
            false,
            "phone, email, sms, in_person, video, letter, portal"
        ),
        col!("is_primary", BOOL, false, "true or false (default false)"),
        col!("sms_opt_in", BOOL, false, "true or false (default false)"),
        col!(
            "contact_allowed",
            BOOL,
            false,
            "true or false (default true)"
        ),
    ];
    const REF_KEYS: &'static [&'static str] = &["family_external_id"];
    const TABLES: &'static [&'static str] = &["guardians", "families"];

    fn prepare(map: &mut Map<String, Value>) -> Vec<FieldError> {
        require_external_id(map)
    }

    fn key(row: &Spooled<FamilyRef, GuardianInput>) -> String {
        row.input.external_id.clone().unwrap_or_default()
    }

    fn apply(
        tx: &mut Tx<'_>,
        batch: Vec<Spooled<FamilyRef, GuardianInput>>,
        report: &mut ImportReport,
    ) -> Result<(), ApiError> {
        let (school, now) = (tx.caller().school_id.clone(), tx.now());
        let parents: Vec<&str> = batch
            .iter()
            .map(|r| r.refs.family_external_id.as_str())
            .collect();
        let parents: HashMap<String, FamilyId> =
            ids_by_external_id!(tx.conn(), families, &school, &parents)?
                .into_iter()
                .collect();
        let ids: Vec<String> = batch.iter().map(Self::key).collect();
        let mut found = rows_by_external_id!(tx.conn(), guardians, GuardianRow, &school, &ids);
        let mut new = Vec::new();
        for row in batch {
            let Some(&family) = parents.get(&row.refs.family_external_id) else {
                report.fail(row.line, not_found("family_external_id", "family"));
                continue;
            };
            match found.remove(&Self::key(&row)) {
                Some(current) if current.family_id != family => {
                    report.fail(row.line, moved("guardian"));
                }
                Some(current) if current.input() == row.input => report.unchanged += 1,
                Some(current) => {
                    tx.revise(&current, Action::Update, |r| r.set(row.input))?;
                    report.updated += 1;
                }
                None => {
                    new.push(GuardianRow::new(&school, family, row.input, now));
                    report.created += 1;
                }
            }
        }
        tx.create_many(&new)?;
        tx.flush()
    }
}

fn moved(what: &str) -> Vec<FieldError> {
    vec![FieldError::new(
        "family_external_id",
        "immutable",
        format!("the {what} with this external_id belongs to another family; a record's family is not changed by an import"),
    )]
}

/// Students, matched by `external_id`, in the family named by `family_external_id`.
pub struct Students;

impl Importer for Students {
    type Refs = FamilyRef;
    type Input = StudentInput;
    const COLUMNS: &'static [Column] = &[
        col!(
            "family_external_id",
            TEXT,
            true,
            "the family's external_id (required)"
        ),
        col!(
            "external_id",
            TEXT,
            true,
            "the SIS's id of the student (required)"
        ),
        col!("given_name", TEXT, true, "given name (required)"),
        col!("family_name", TEXT, true, "family name (required)"),
        col!(
            "grade_level",
            TEXT,
            false,
            "grade level as the school names it (K, 3, 11)"
        ),
        col!("date_of_birth", TEXT, false, "YYYY-MM-DD"),
        col!("has_iep", BOOL, false, "true or false (default false)"),
    ];
    const REF_KEYS: &'static [&'static str] = &["family_external_id"];
    const TABLES: &'static [&'static str] = &["students", "families"];

    fn prepare(map: &mut Map<String, Value>) -> Vec<FieldError> {
        require_external_id(map)
    }

    fn key(row: &Spooled<FamilyRef, StudentInput>) -> String {
        row.input.external_id.clone().unwrap_or_default()
    }

    fn apply(
        tx: &mut Tx<'_>,
        batch: Vec<Spooled<FamilyRef, StudentInput>>,
        report: &mut ImportReport,
    ) -> Result<(), ApiError> {
        let (school, now) = (tx.caller().school_id.clone(), tx.now());
        let parents: Vec<&str> = batch
            .iter()
            .map(|r| r.refs.family_external_id.as_str())
            .collect();
        let parents: HashMap<String, FamilyId> =
            ids_by_external_id!(tx.conn(), families, &school, &parents)?
                .into_iter()
                .collect();
        let ids: Vec<String> = batch.iter().map(Self::key).collect();
        let mut found = rows_by_external_id!(tx.conn(), students, StudentRow, &school, &ids);
        let mut new = Vec::new();
        for row in batch {
            let Some(&family) = parents.get(&row.refs.family_external_id) else {
                report.fail(row.line, not_found("family_external_id", "family"));
                continue;
            };
            match found.remove(&Self::key(&row)) {
                Some(current) if current.family_id != family => {
                    report.fail(row.line, moved("student"));
                }
                Some(current) if current.input() == row.input => report.unchanged += 1,
                Some(current) => {
                    tx.revise(&current, Action::Update, |r| r.set(row.input))?;
                    report.updated += 1;
                }
                None => {
                    new.push(StudentRow::new(&school, family, row.input, now));
                    report.created += 1;
                }
            }
        }
        tx.create_many(&new)?;
        tx.flush()
    }
}

/// The student and guardian a link row joins.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct LinkRefs {
    /// The student's `external_id`.
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(min_length = 1, max_length = 100)]
    pub student_external_id: String,
    /// The guardian's `external_id`.
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    #[schema(min_length = 1, max_length = 100)]
    pub guardian_external_id: String,
}

/// Guardian–student links, matched by the pair they join.
pub struct Links;

impl Importer for Links {
    type Refs = LinkRefs;
    type Input = LinkInput;
    const COLUMNS: &'static [Column] = &[
        col!(
            "student_external_id",
            TEXT,
            true,
            "the student's external_id (required)"
        ),
        col!(
            "guardian_external_id",
            TEXT,
            true,
            "the guardian's external_id (required)"
        ),
        col!(
            "relationship",
            TEXT,
            false,
            "how the adult stands to the child"
        ),
        col!(
            "legal_guardian",
            BOOL,
            false,
            "true or false (default false)"
        ),
        col!("lives_with", BOOL, false, "true or false (default false)"),
        col!(
            "emergency_contact",
            BOOL,
            false,
            "true or false (default false)"
        ),
        col!("contact_priority", Cell::Int, false, "1 to 99 (1 first)"),
        col!(
            "can_view_records",
            BOOL,
            false,
            "true or false (default true)"
        ),
        col!(
            "contact_restricted",
            BOOL,
            false,
            "true or false (default false)"
        ),
        col!("starts_on", TEXT, false, "YYYY-MM-DD"),
        col!("ends_on", TEXT, false, "YYYY-MM-DD, not before starts_on"),
    ];
    const REF_KEYS: &'static [&'static str] = &["student_external_id", "guardian_external_id"];
    const TABLES: &'static [&'static str] = &["guardian_student_links", "students", "guardians"];

    fn prepare(map: &mut Map<String, Value>) -> Vec<FieldError> {
        // The create's body names the guardian by Liaison id; an import row names it by
        // external id, resolved when the row is written. A placeholder stands in for the id
        // while the rest of the row is checked as a create's body.
        if map.contains_key("guardian_id") {
            map.remove("guardian_id");
            return vec![FieldError::new(
                "guardian_id",
                "unknown_field",
                "is not a field of an import row: name the guardian by guardian_external_id",
            )];
        }
        map.insert(
            "guardian_id".into(),
            Value::String(uuid::Uuid::nil().to_string()),
        );
        Vec::new()
    }

    fn extra(input: &LinkInput) -> Vec<FieldError> {
        input
            .check_dates()
            .err()
            .map(field_errors)
            .unwrap_or_default()
    }

    fn key(row: &Spooled<LinkRefs, LinkInput>) -> String {
        format!(
            "{}\n{}",
            row.refs.student_external_id, row.refs.guardian_external_id
        )
    }

    fn apply(
        tx: &mut Tx<'_>,
        batch: Vec<Spooled<LinkRefs, LinkInput>>,
        report: &mut ImportReport,
    ) -> Result<(), ApiError> {
        let (school, now) = (tx.caller().school_id.clone(), tx.now());
        let wanted: Vec<&str> = batch
            .iter()
            .map(|r| r.refs.student_external_id.as_str())
            .collect();
        let kids: HashMap<String, StudentId> =
            ids_by_external_id!(tx.conn(), students, &school, &wanted)?
                .into_iter()
                .collect();
        let wanted: Vec<&str> = batch
            .iter()
            .map(|r| r.refs.guardian_external_id.as_str())
            .collect();
        let adults: HashMap<String, GuardianId> =
            ids_by_external_id!(tx.conn(), guardians, &school, &wanted)?
                .into_iter()
                .collect();
        let ids: Vec<StudentId> = kids.values().copied().collect();
        let found: Vec<LinkRow> = native!(tx.conn(), |c| links::table
            .filter(links::school_id.eq(&school))
            .filter(links::student_id.eq_any(&ids))
            .filter(links::archived_at.is_null())
            .select(LinkRow::as_select())
            .load(c))?;
        let mut found: HashMap<(StudentId, GuardianId), LinkRow> = found
            .into_iter()
            .map(|r| ((r.student_id, r.guardian_id), r))
            .collect();
        let mut new = Vec::new();
        for mut row in batch {
            let student = kids.get(&row.refs.student_external_id);
            let guardian = adults.get(&row.refs.guardian_external_id);
            let (Some(&student), Some(&guardian)) = (student, guardian) else {
                let mut errors = Vec::new();
                if guardian.is_none() {
                    errors.extend(not_found("guardian_external_id", "guardian"));
                }
                if student.is_none() {
                    errors.extend(not_found("student_external_id", "student"));
                }
                report.fail(row.line, errors);
                continue;
            };
            row.input.guardian_id = guardian.uuid();
            match found.remove(&(student, guardian)) {
                Some(current) if current.input() == row.input => report.unchanged += 1,
                Some(current) => {
                    tx.revise(&current, Action::Update, |r| r.set(row.input))?;
                    report.updated += 1;
                }
                None => {
                    new.push(LinkRow::new(&school, student, row.input, now));
                    report.created += 1;
                }
            }
        }
        tx.create_many(&new)?;
        tx.flush()
    }
}

/// Applicants, matched by `external_id`.
pub struct Applicants;

impl Importer for Applicants {
    type Refs = NoFields;
    type Input = ApplicantInput;
    const COLUMNS: &'static [Column] = &[
        col!(
            "external_id",
            TEXT,
            true,
            "the outside system's id of the applicant (required)"
        ),
        col!(
            "given_name",
            TEXT,
            true,
            "the prospective student's given name (required)"
        ),
        col!("family_name", TEXT, true, "their family name (required)"),
        col!("date_of_birth", TEXT, false, "YYYY-MM-DD"),
        col!(
            "applying_for_grade",
            TEXT,
            false,
            "the grade applied for (K, 3)"
        ),
        col!("entry_term", TEXT, false, "the term of entry (2027-fall)"),
        col!("guardian_name" => "guardian" . "name", TEXT, true, "the household contact's name (required)"),
        col!("guardian_email" => "guardian" . "email", "their e-mail address"),
        col!("guardian_phone" => "guardian" . "phone", "their phone number, E.164"),
        col!("guardian_preferred_language" => "guardian" . "preferred_language", "BCP 47 language tag"),
        col!("guardian_relationship" => "guardian" . "relationship", "mother, father, … as a create takes"),
        col!("guardian_sms_opt_in" => "guardian" . "sms_opt_in", BOOL, false, "true or false (default false)"),
        col!(
            "source",
            TEXT,
            false,
            "website, referral, open_day, event, sibling, other (default other)"
        ),
        col!(
            "stage",
            TEXT,
            false,
            "a new applicant's stage key (default the first open stage)"
        ),
        col!(
            "assignee",
            TEXT,
            false,
            "the owning member of staff (token sub)"
        ),
        col!("notes", TEXT, false, "staff notes"),
        col!(
            "checklist",
            Cell::Keys,
            false,
            "keys of the checklist items done, separated by spaces"
        ),
    ];
    const REF_KEYS: &'static [&'static str] = &[];
    const TABLES: &'static [&'static str] = &["applicants"];

    fn prepare(map: &mut Map<String, Value>) -> Vec<FieldError> {
        require_external_id(map)
    }

    fn key(row: &Spooled<NoFields, ApplicantInput>) -> String {
        row.input.external_id.clone().unwrap_or_default()
    }

    fn apply(
        tx: &mut Tx<'_>,
        batch: Vec<Spooled<NoFields, ApplicantInput>>,
        report: &mut ImportReport,
    ) -> Result<(), ApiError> {
        let pipeline = ensure_pipeline(tx)?;
        let caller = tx.caller();
        let (school, sub, role) = (caller.school_id.clone(), caller.sub.clone(), caller.role);
        let now = tx.now();
        let ids: Vec<String> = batch.iter().map(Self::key).collect();
        let mut found = rows_by_external_id!(tx.conn(), applicants, ApplicantRow, &school, &ids);
        let (mut new, mut entries) = (Vec::new(), Vec::new());
        for row in batch {
            let mut input = row.input;
            if let Err(e) = check_items(&pipeline, &input.checklist) {
                report.fail(row.line, field_errors(e));
                continue;
            }
            match found.remove(&input.external_id.clone().unwrap_or_default()) {
                Some(current) => {
                    // As a merge patch: moves are made by transitions, not by an import.
                    match &input.stage {
                        Some(stage) if *stage != current.stage => {
                            report.fail(
                                row.line,
                                vec![FieldError::new(
                                    "stage",
                                    "immutable",
                                    format!(
                                        "the applicant is in stage {}: an import does not move \
                                         applicants (POST …/transitions does)",
                                        current.stage
                                    ),
                                )],
                            );
                            continue;
                        }
                        _ => input.stage = Some(current.stage.clone()),
                    }
                    // Unmarking an item that is not done changes nothing: compare what is done.
                    input.checklist.retain(|_, done| *done);
                    if current.input() == input {
                        report.unchanged += 1;
                    } else {
                        tx.revise(&current, Action::Update, |r| r.set(input, &sub, now))?;
                        report.updated += 1;
                    }
                }
                None => {
                    let stage = match start_stage(&pipeline, input.stage.as_deref()) {
                        Ok(stage) => stage.key.clone(),
                        Err(e) => {
                            report.fail(row.line, field_errors(e));
                            continue;
                        }
                    };
                    let applicant = ApplicantRow::new(&school, input, &stage, &sub, now);
                    entries.push(MoveRow::entry(&applicant, &stage, &sub, role, now));
                    new.push(applicant);
                    report.created += 1;
                }
            }
        }
        tx.create_many(&new)?;
        admissions::record_entries(tx.conn(), &entries)?;
        tx.flush()
    }
}
