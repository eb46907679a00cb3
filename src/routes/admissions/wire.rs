//! Admissions on the wire: the pipeline's stages, applicants, their history, enrolment and the
//! funnel.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::domain::{
    identifier, plain_text, text_enum, E164Phone, Email, LanguageTag, Relationship,
};

/// What a stage key and a checklist item key look like.
pub const KEY_PATTERN: &str = "^[a-z][a-z0-9_]{0,49}$";

/// Validator: a stage or checklist item key (`KEY_PATTERN`).
pub fn stage_key(s: &str) -> Result<(), validator::ValidationError> {
    let mut chars = s.chars();
    let ok = s.len() <= 50
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        let mut e = validator::ValidationError::new("invalid");
        e.message = Some(
            "must be 1 to 50 lower-case letters, digits and underscores, starting with a letter"
                .into(),
        );
        Err(e)
    }
}

text_enum! {
    /// What being in a stage means for an applicant.
    StageKind {
        /// Still in play.
        Open => "open",
        /// Enrolled: the applicant became a student (reached by `POST …/enroll` only).
        Won => "won",
        /// Out: declined, withdrawn.
        Lost => "lost",
    }
}

text_enum! {
    /// Where an applicant came from.
    Source {
        /// The school's website.
        Website => "website",
        /// Recommended by someone.
        Referral => "referral",
        /// An open day.
        OpenDay => "open_day",
        /// Another event.
        Event => "event",
        /// A sibling is already at the school.
        Sibling => "sibling",
        /// Anything else.
        Other => "other",
    }
}

/// An item of a stage's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ChecklistEntry {
    /// The item's key, unique within the school's pipeline.
    #[schema(
        pattern = "^[a-z][a-z0-9_]{0,49}$",
        max_length = 50,
        example = "application_form"
    )]
    #[validate(custom(function = stage_key))]
    pub key: String,
    /// What is to be done.
    #[schema(
        min_length = 1,
        max_length = 200,
        example = "Application form received"
    )]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub label: String,
    /// An applicant cannot move on from the stage until it is done.
    #[serde(default)]
    pub required: bool,
}

/// The fields of a stage a client sets. `key` is fixed once created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    /// The stage's key: how applicants name it (`stage`, `to`); fixed once created.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,49}$", max_length = 50, example = "tour")]
    #[validate(custom(function = stage_key))]
    pub key: String,
    /// Its name as people read it.
    #[schema(min_length = 1, max_length = 100, example = "Campus tour")]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub name: String,
    /// `open` (default), `won` or `lost`.
    #[serde(default = "open")]
    pub kind: StageKind,
    /// Its place in the pipeline, from 1; the stages from there on move down one. Absent (or
    /// `null`): last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1000)]
    #[validate(range(min = 1, max = 1000))]
    pub position: Option<i32>,
    /// What is to be done in this stage.
    #[serde(default)]
    #[validate(nested, length(max = 50))]
    #[schema(max_items = 50)]
    pub checklist: Vec<ChecklistEntry>,
}

fn open() -> StageKind {
    StageKind::Open
}

crate::http::merge_patch::patch_schema! {
    /// A merge patch of a stage: any fields of `StageInput` but `key`. A new `position` moves
    /// the stage there and the others up or down one.
    ///
    /// Its schema is derived from `StageInput`'s by `patch_schema!`, so the two cannot drift.
    pub struct StagePatch for StageInput, fixed ["key"];
}

/// A stage of the school's admissions pipeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stage {
    /// Liaison's id.
    pub id: Uuid,
    /// The stage's key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its place in the pipeline, 1 to the number of stages (unique).
    pub position: i32,
    /// `open`, `won` or `lost`.
    pub kind: StageKind,
    /// What is to be done in this stage.
    pub checklist: Vec<ChecklistEntry>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// Paging of the pipeline's stages.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListStagesQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The applicant's household contact: the adult the school talks to before there is a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct GuardianContact {
    /// Their name as they gave it (on enrolment the first word becomes the guardian's given
    /// name, the rest the family name, unless the enrolment names them).
    #[schema(min_length = 1, max_length = 200, example = "María López García")]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub name: String,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// Phone number (E.164).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<E164Phone>,
    /// Preferred language (BCP 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_language: Option<LanguageTag>,
    /// How they stand to the applicant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// Consent to text messages; false until given (the contact rules of communications
    /// apply to the applicant's household as to a family's).
    #[serde(default)]
    pub sms_opt_in: bool,
}

/// The fields of an applicant a client sets: the body of a create, and what a merge patch
/// edits (all but `stage`, which moves by transitions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    /// The prospective student's given name.
    #[schema(min_length = 1, max_length = 100, example = "Sofía")]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub given_name: String,
    /// Their family name.
    #[schema(min_length = 1, max_length = 100, example = "López García")]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub family_name: String,
    /// Their date of birth: not in the future, not before 1900.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = plausible_birth_date))]
    pub date_of_birth: Option<NaiveDate>,
    /// The grade they apply for, as the school names it (`K`, `3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20, example = "3")]
    #[validate(length(min = 1, max = 20), custom(function = identifier))]
    pub applying_for_grade: Option<String>,
    /// When they would start, as the school names its terms (`2027-fall`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 50, example = "2027-fall")]
    #[validate(length(min = 1, max = 50), custom(function = identifier))]
    pub entry_term: Option<String>,
    /// An outside system's id for the applicant; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    pub external_id: Option<String>,
    /// The household contact.
    #[validate(nested)]
    pub guardian: GuardianContact,
    /// Where the applicant came from (default `other`).
    #[serde(default = "other")]
    pub source: Source,
    /// The stage (its key) the applicant starts in: on create only, default the pipeline's
    /// first open stage. Afterwards it moves by transitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        pattern = "^[a-z][a-z0-9_]{0,49}$",
        max_length = 50,
        example = "inquiry"
    )]
    #[validate(custom(function = stage_key))]
    pub stage: Option<String>,
    /// The member of staff who owns the applicant (their token `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub assignee: Option<String>,
    /// Staff notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 10000)]
    #[validate(length(min = 1, max = 10000), custom(function = plain_text))]
    pub notes: Option<String>,
    /// Checklist items done: `{"<item key>": true}` marks one done (now, by the caller),
    /// `false` undoes it. Any item of the pipeline, of any stage.
    #[serde(default)]
    pub checklist: BTreeMap<String, bool>,
}

fn plausible_birth_date(d: &NaiveDate) -> Result<(), validator::ValidationError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
    if *d < earliest || *d > Utc::now().date_naive() {
        let mut e = validator::ValidationError::new("range");
        e.message = Some("must be a date from 1900-01-01 to today".into());
        return Err(e);
    }
    Ok(())
}

fn other() -> Source {
    Source::Other
}

/// A merge patch of an applicant: any fields of `ApplicantInput` but `stage` (moves are made by
/// transitions); `null` clears an optional one.
///
/// Its schema is derived from `ApplicantInput`'s (`patch_schema_of`), so the two cannot drift;
/// and as RFC 7396 merges a nested object, so does the schema: `guardian` is a patch of the
/// contact (none of its fields required).
pub struct ApplicantPatch;

/// The household contact's schema with no field required: the `guardian` of a merge patch.
fn contact_patch_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    let mut schema = <GuardianContact as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::Object(contact)) = &mut schema {
        contact.required.clear();
        contact.description =
            Some("A merge patch of an applicant's household contact: any of its fields.".into());
    }
    schema
}

impl utoipa::PartialSchema for ApplicantPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::Schema;
        use utoipa::openapi::{Ref, RefOr};
        let mut schema = crate::http::merge_patch::patch_schema_of::<ApplicantInput>(&["stage"]);
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.properties.insert(
                "guardian".into(),
                RefOr::Ref(Ref::from_schema_name("GuardianContactPatch")),
            );
        }
        schema
    }
}

impl utoipa::ToSchema for ApplicantPatch {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ApplicantPatch")
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <ApplicantInput as utoipa::ToSchema>::schemas(schemas);
        schemas.push(("GuardianContactPatch".into(), contact_patch_schema()));
    }
}

/// An applicant's checklist item, with its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistState {
    /// The stage the item belongs to.
    pub stage: String,
    /// The item's key.
    pub key: String,
    /// What is to be done.
    pub label: String,
    /// Whether the applicant cannot leave the stage until it is done.
    pub required: bool,
    /// Whether it is done.
    pub done: bool,
    /// When it was marked done.
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub done_at: Option<DateTime<Utc>>,
    /// Who marked it done (a token `sub`).
    pub done_by: Option<String>,
}

/// An applicant: a prospective student and their household, moving through the pipeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Applicant {
    /// Liaison's id.
    pub id: Uuid,
    /// An outside system's id.
    pub external_id: Option<String>,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// The grade applied for.
    pub applying_for_grade: Option<String>,
    /// The term they would start.
    pub entry_term: Option<String>,
    /// The household contact.
    pub guardian: GuardianContact,
    /// Where they came from.
    pub source: Source,
    /// The stage they are in (its key).
    pub stage: String,
    /// The kind of that stage.
    pub stage_kind: StageKind,
    /// Since when.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub stage_entered_at: DateTime<Utc>,
    /// Their owner (a staff `sub`).
    pub assignee: Option<String>,
    /// Every checklist item of the pipeline, stage by stage, with its state.
    pub checklist: Vec<ChecklistState>,
    /// Staff notes.
    pub notes: Option<String>,
    /// The family, once enrolled.
    pub family_id: Option<Uuid>,
    /// The student, once enrolled.
    pub student_id: Option<Uuid>,
    /// Increases with every change; the `ETag`.
    pub version: i64,
    /// When the applicant entered the pipeline.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A move to another stage.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The stage to move to (its key).
    #[schema(pattern = "^[a-z][a-z0-9_]{0,49}$", max_length = 50, example = "tour")]
    #[validate(custom(function = stage_key))]
    pub to: String,
    /// Why, or what happened.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 5000)]
    #[validate(length(min = 1, max = 5000), custom(function = plain_text))]
    pub note: Option<String>,
}

/// A stay in a stage: an entry of an applicant's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageStay {
    /// Liaison's id of the entry.
    pub id: Uuid,
    /// The stage entered (its key).
    pub stage: String,
    /// The stage left to enter it (`null` for the first entry).
    pub from_stage: Option<String>,
    /// The note of the move.
    pub note: Option<String>,
    /// Who moved the applicant (a token `sub`).
    pub actor: String,
    /// Their role.
    pub actor_role: String,
    /// When the applicant entered the stage.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub entered_at: DateTime<Utc>,
    /// When they left it (`null`: still there).
    #[serde(serialize_with = "crate::routes::rfc3339_opt")]
    pub left_at: Option<DateTime<Utc>>,
    /// Whole seconds spent in the stage: until `left_at`, or until now while still there.
    pub seconds_in_stage: i64,
    /// The same in days (to two decimals).
    pub days_in_stage: f64,
}

/// Paging of an applicant's history.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An enrolment: what the new family, guardian and student are made from beyond the
/// applicant's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct EnrollInput {
    /// Enrol into this existing family (a sibling's) instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<Uuid>,
    /// With `family_id`: this guardian of the family is the applicant's contact, so no new
    /// guardian is made; the student is linked to them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_id: Option<Uuid>,
    /// The new family's display name (default `The <applicant's family name> family`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200), custom(function = plain_text))]
    pub display_name: Option<String>,
    /// The new guardian's given name (default: the first word of the contact's `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub guardian_given_name: Option<String>,
    /// The new guardian's family name (default: the rest of the contact's `name`, or the
    /// applicant's family name when it has one word).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = plain_text))]
    pub guardian_family_name: Option<String>,
    /// The SIS's id for the new family; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    pub family_external_id: Option<String>,
    /// The SIS's id for the new student; unique within the school.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 100)]
    #[validate(length(min = 1, max = 100), custom(function = identifier))]
    pub student_external_id: Option<String>,
    /// A note for the move to the won stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 5000)]
    #[validate(length(min = 1, max = 5000), custom(function = plain_text))]
    pub note: Option<String>,
}

/// Filters of the applicant list.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListApplicantsQuery {
    /// In this stage (its key).
    #[param(max_length = 50)]
    #[validate(length(max = 50))]
    pub stage: Option<String>,
    /// From this source.
    pub source: Option<Source>,
    /// Owned by this member of staff (`me` for the caller).
    #[param(min_length = 1, max_length = 200)]
    #[validate(length(min = 1, max = 200))]
    pub assignee: Option<String>,
    /// Starting in this term.
    #[param(max_length = 50)]
    #[validate(length(max = 50))]
    pub entry_term: Option<String>,
    /// Applying for this grade.
    #[param(max_length = 20)]
    #[validate(length(max = 20))]
    pub applying_for_grade: Option<String>,
    /// Whose given or family name, or whose contact's name, contains this text
    /// (case-insensitive).
    #[param(max_length = 200)]
    #[validate(length(max = 200))]
    pub q: Option<String>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filters of the funnel.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FunnelQuery {
    /// Applicants who entered the pipeline at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Applicants who entered the pipeline before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Applicants starting in this term.
    #[param(max_length = 50)]
    #[validate(length(max = 50))]
    pub entry_term: Option<String>,
}

/// A stage's line of the funnel.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelStage {
    /// The stage's key.
    pub key: String,
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: StageKind,
    /// Its position.
    pub position: i32,
    /// Applicants who ever entered it.
    pub reached: i64,
    /// Applicants in it now.
    pub current: i64,
    /// `reached` over the `reached` of the previous stage that is not `lost`, to four
    /// decimals; `null` for the first such stage, for `lost` stages, and when the previous
    /// stage was reached by none.
    pub conversion: Option<f64>,
    /// The median time spent in the stage, in days to two decimals, over the stays that have
    /// ended (the applicant moved on); `null` when none has.
    pub median_days: Option<f64>,
    /// The stays that have ended, which `median_days` is taken over.
    pub completed_stays: i64,
}

/// A source's line of the funnel.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelSource {
    /// The source.
    pub source: Source,
    /// Applicants from it.
    pub applicants: i64,
    /// Of them, in a `won` stage.
    pub won: i64,
    /// Of them, in a `lost` stage.
    pub lost: i64,
    /// `won` over `applicants`, to four decimals; `null` without applicants.
    pub win_rate: Option<f64>,
}

/// The admissions funnel of the applicants that match the filters (archived ones left out).
#[derive(Debug, Serialize, ToSchema)]
pub struct Funnel {
    /// Applicants counted.
    pub applicants: i64,
    /// Of them, in a `won` stage.
    pub won: i64,
    /// Of them, in a `lost` stage.
    pub lost: i64,
    /// Of them, in an `open` stage.
    pub open: i64,
    /// Each stage of the pipeline, in order.
    pub stages: Vec<FunnelStage>,
    /// Each source, in the order of `Source`.
    pub sources: Vec<FunnelSource>,
}
