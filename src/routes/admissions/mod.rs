//! Admissions: the school's own pipeline of stages, the applicants moving through it with their
//! checklists and history, their enrolment into a family, and the funnel.

pub mod pipeline;
pub mod store;
pub mod wire;

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use self::pipeline::{MoveRefusal, PipelineRefusal, StageRule};
use self::store::{ApplicantRow, Cohort, Filters, StageRow};
pub use self::wire::{
    Applicant, ApplicantInput, ApplicantPatch, ChecklistEntry, ChecklistState, EnrollInput, Funnel,
    FunnelQuery, FunnelSource, FunnelStage, GuardianContact, HistoryQuery, ListApplicantsQuery,
    ListStagesQuery, MoveInput, Source, Stage, StageInput, StageKind, StagePatch, StageStay,
};
use super::families::{self, Family, FamilyInput};
use super::guardians::{self, GuardianInput};
use super::links::{self, LinkInput};
use super::students::{self, StudentInput};
use super::{communications, single, CreateErrors, ReadErrors, UpdateErrors};
use crate::auth::{Caller, Scope};
use crate::db::{Action, Tx};
use crate::error::{ApiError, FieldError, Problem};
use crate::http::etag::IfMatch;
use crate::http::extract::{JsonBody, OptionalBody, PatchBody, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::merge_patch;
use crate::http::pagination::{self, Page, PageRequest};
use crate::ids::{ApplicantId, FamilyId, GuardianId, StageId};
use crate::AppState;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(list_stages)
        .service(create_stage)
        .service(get_stage)
        .service(update_stage)
        .service(delete_stage)
        .service(list_applicants)
        .service(create_applicant)
        .service(get_applicant)
        .service(update_applicant)
        .service(delete_applicant)
        .service(transition_applicant)
        .service(list_applicant_history)
        .service(enroll_applicant)
        .service(get_funnel);
}

// ----------------------------------------------------------------------------------- helpers

/// The school's pipeline, made from the default one if the school has none yet: every
/// default stage is created through the write path (audited, in the change feed) as the
/// caller's write.
pub(crate) fn ensure_pipeline(tx: &mut Tx<'_>) -> Result<Vec<StageRow>, ApiError> {
    let school = tx.caller().school_id.clone();
    let found = store::pipeline(tx.conn(), &school)?;
    if !found.is_empty() {
        return Ok(found);
    }
    let now = tx.now();
    let mut made = Vec::new();
    for (i, (key, name, kind, items)) in pipeline::DEFAULT_PIPELINE.iter().enumerate() {
        let input = StageInput {
            key: (*key).to_string(),
            name: (*name).to_string(),
            kind: *kind,
            position: None,
            checklist: items
                .iter()
                .map(|(k, label, required)| ChecklistEntry {
                    key: (*k).to_string(),
                    label: (*label).to_string(),
                    required: *required,
                })
                .collect(),
        };
        let row = StageRow::new(&school, input, i as i32 + 1, now);
        tx.create(&row)?;
        made.push(row);
    }
    Ok(made)
}

/// The pipeline for a read: as stored, or (first use) the default one, made by a write of its
/// own. Two first uses at once: one makes it, the other's insert meets the unique key and
/// reads what the first made.
async fn pipeline_for_read(
    state: &web::Data<AppState>,
    caller: &Caller,
) -> Result<Vec<StageRow>, ApiError> {
    let school = caller.school_id.clone();
    let found = state
        .db
        .read(move |conn| Ok(store::pipeline(conn, &school)?))
        .await?;
    if !found.is_empty() {
        return Ok(found);
    }
    match state.write(caller, ensure_pipeline).await {
        Err(ApiError::Conflict(_)) => {
            let school = caller.school_id.clone();
            state
                .db
                .read(move |conn| Ok(store::pipeline(conn, &school)?))
                .await
        }
        other => other,
    }
}

fn rules(pipeline: &[StageRow]) -> Vec<StageRule> {
    pipeline.iter().map(StageRow::rule).collect()
}

fn pipeline_refused(r: PipelineRefusal) -> ApiError {
    match r {
        PipelineRefusal::DuplicateItem(key) => ApiError::Conflict(format!(
            "the checklist item key `{key}` is given twice: item keys are unique in the pipeline"
        )),
        PipelineRefusal::ItemOfAnotherStage { item, stage } => ApiError::Conflict(format!(
            "the checklist item key `{item}` is already the stage `{stage}`'s: item keys are unique in the pipeline"
        )),
        PipelineRefusal::Incomplete(kind) => ApiError::Conflict(format!(
            "the pipeline must keep at least one `{kind}` stage"
        )),
    }
}

fn move_refused(r: MoveRefusal) -> ApiError {
    match r {
        MoveRefusal::Illegal { detail, allowed } => ApiError::IllegalTransition { detail, allowed },
        MoveRefusal::ChecklistIncomplete(missing) => {
            let keys: Vec<&str> = missing.iter().map(|(k, _)| k.as_str()).collect();
            ApiError::ConflictOf {
                kind: "checklist-incomplete",
                detail: format!(
                    "required checklist items of the current stage are not done: {}",
                    keys.join(", ")
                ),
                errors: missing
                    .iter()
                    .map(|(key, label)| {
                        FieldError::new(format!("checklist.{key}"), "not_done", label.clone())
                    })
                    .collect(),
            }
        }
    }
}

/// Saves the positions of `order` (stage ids, pipeline order) on the stages whose position
/// changes, except `skip` (the stage the request itself writes): each one a recorded update.
fn renumber(
    tx: &mut Tx<'_>,
    pipeline: &[StageRow],
    order: &[StageId],
    skip: Option<StageId>,
) -> Result<(), ApiError> {
    for (i, id) in order.iter().enumerate() {
        let position = i as i32 + 1;
        if Some(*id) == skip {
            continue;
        }
        if let Some(stage) = pipeline.iter().find(|s| s.id == *id) {
            if stage.position != position {
                tx.revise(stage, Action::Update, |row| row.position = position)?;
            }
        }
    }
    Ok(())
}

/// 422 unless every checklist key marked in `checklist` is an item of the pipeline.
pub(crate) fn check_items(
    pipeline: &[StageRow],
    checklist: &BTreeMap<String, bool>,
) -> Result<(), ApiError> {
    let known: BTreeSet<String> = pipeline
        .iter()
        .flat_map(|s| s.items().into_iter().map(|i| i.key))
        .collect();
    let unknown: Vec<FieldError> = checklist
        .keys()
        .filter(|k| !known.contains(*k))
        .map(|k| {
            FieldError::new(
                format!("checklist.{k}"),
                "not_found",
                "no checklist item of the pipeline has this key",
            )
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Unprocessable {
            kind: "unprocessable",
            detail: format!("{} checklist item(s) not in the pipeline", unknown.len()),
            errors: unknown,
        })
    }
}

/// The stage a new applicant starts in: `stage` (an `open` or `lost` one), or the pipeline's
/// first `open` stage.
pub(crate) fn start_stage<'p>(
    pipeline: &'p [StageRow],
    stage: Option<&str>,
) -> Result<&'p StageRow, ApiError> {
    let found = match stage {
        Some(key) => pipeline
            .iter()
            .find(|s| s.key == key)
            .ok_or_else(|| ApiError::unprocessable_field("stage", "not_found", "no such stage"))?,
        None => pipeline
            .iter()
            .find(|s| s.kind == StageKind::Open)
            .ok_or_else(|| ApiError::Conflict("the pipeline has no open stage".into()))?,
    };
    if found.kind == StageKind::Won {
        return Err(ApiError::unprocessable_field(
            "stage",
            "not_allowed",
            "an applicant enters a won stage by enrolment (POST …/enroll)",
        ));
    }
    Ok(found)
}

// ------------------------------------------------------------------------------------ stages

/// List the pipeline's stages
///
/// The whole pipeline, in order. A school that has no stages gets the default pipeline
/// (inquiry, tour, application, interview, assessment, offer: `open`; enrolled: `won`;
/// waitlisted: `open`; declined, withdrawn: `lost`) on first use. Scope: `admissions:read`.
#[utoipa::path(
    tag = "admissions",
    params(ListStagesQuery),
    responses((status = 200, description = "A page of stages, by position", body = Page<Stage>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/admissions/stages")]
pub async fn list_stages(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListStagesQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), |k| k.parse::<i32>().is_ok())?;
    let pipeline = pipeline_for_read(&state, &caller).await?;
    let after: i32 = page
        .after
        .as_deref()
        .and_then(|k| k.parse().ok())
        .unwrap_or(0);
    let rows: Vec<StageRow> = pipeline
        .into_iter()
        .filter(|s| s.position > after)
        .take(page.fetch() as usize)
        .collect();
    let result = page.finish(rows, |s| s.position.to_string(), |s| s.view());
    Ok(pagination::respond(&req, &result))
}

/// Add a stage
///
/// At `position` (the stages from there on move down one), or last. Its key and its checklist
/// item keys must be new to the pipeline (409). Honours `Idempotency-Key`.
/// Scope: `admissions:configure`.
#[utoipa::path(
    tag = "admissions",
    request_body = StageInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Added", body = Stage,
            headers(("Location" = String, description = "The stage's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/admissions/stages")]
pub async fn create_stage(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<StageInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsConfigure)?;
    let created = state
        .write(&caller, move |tx| {
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let school = tx.caller().school_id.clone();
                store::lock_pipeline(tx.conn(), &school)?;
                let pipeline = ensure_pipeline(tx)?;
                let input = body.value;
                if pipeline.iter().any(|s| s.key == input.key) {
                    return Err(ApiError::Conflict(format!(
                        "the pipeline already has a stage `{}`",
                        input.key
                    )));
                }
                let position = input.position;
                let row = StageRow::new(&school, input, 0, tx.now());
                let ids: Vec<StageId> = pipeline.iter().map(|s| s.id).collect();
                let order = pipeline::place(&ids, &row.id, position);
                let mut row = row;
                row.position = order.iter().position(|i| *i == row.id).unwrap_or(0) as i32 + 1;
                let mut after = rules(&pipeline);
                after.push(row.rule());
                pipeline::check_pipeline(&after, &row.key).map_err(pipeline_refused)?;
                renumber(tx, &pipeline, &order, Some(row.id))?;
                tx.create(&row)?;
                let location = format!("/v1/admissions/stages/{}", row.key);
                Created::new(&row.view(), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get a stage
///
/// By its key (or id). Scope: `admissions:read`.
#[utoipa::path(
    tag = "admissions",
    params(("stage" = String, Path, description = "The stage's key (or id)")),
    responses(
        (status = 200, description = "The stage", body = Stage, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/admissions/stages/{stage}")]
pub async fn get_stage(
    caller: Caller,
    state: web::Data<AppState>,
    stage: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsRead)?;
    let pipeline = pipeline_for_read(&state, &caller).await?;
    let found = store::find_stage(&pipeline, &stage)?.view();
    Ok(single(&found, found.version))
}

/// Change a stage
///
/// A JSON Merge Patch of `StageInput` but `key`. A new `position` moves the stage there; the
/// stages in between move one place, so positions stay unique. The pipeline keeps at least one
/// `open` and one `won` stage (409). Honours `If-Match`. Scope: `admissions:configure`.
#[utoipa::path(
    tag = "admissions",
    params(("stage" = String, Path, description = "The stage's key (or id)"), IfMatch),
    request_body(content = StagePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed stage", body = Stage, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/admissions/stages/{stage}")]
pub async fn update_stage(
    caller: Caller,
    state: web::Data<AppState>,
    stage: web::Path<String>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsConfigure)?;
    let stage = stage.into_inner();
    let saved = state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            store::lock_pipeline(tx.conn(), &school)?;
            let pipeline = ensure_pipeline(tx)?;
            let current = store::find_stage(&pipeline, &stage)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view());
            };
            if input.key != current.key {
                return Err(ApiError::field(
                    "key",
                    "immutable",
                    "cannot change: applicants and their history name the stage by it",
                ));
            }
            let ids: Vec<StageId> = pipeline.iter().map(|s| s.id).collect();
            let order = pipeline::place(&ids, &current.id, input.position);
            let position = order.iter().position(|i| *i == current.id).unwrap_or(0) as i32 + 1;
            let mut next = current.clone();
            next.set(input);
            next.position = position;
            let after: Vec<StageRule> = pipeline
                .iter()
                .map(|s| {
                    if s.id == next.id {
                        next.rule()
                    } else {
                        s.rule()
                    }
                })
                .collect();
            pipeline::check_pipeline(&after, &next.key).map_err(pipeline_refused)?;
            renumber(tx, &pipeline, &order, Some(current.id))?;
            let saved = tx.revise(&current, Action::Update, move |row| *row = next)?;
            Ok(saved.view())
        })
        .await?;
    Ok(single(&saved, saved.version))
}

/// Delete a stage
///
/// Only a stage no applicant is in (else a 409 `stage-in-use` saying how many), and never the
/// pipeline's last `open` or last `won` stage. The stages after it move up one. Honours
/// `If-Match`. Scope: `admissions:configure`.
#[utoipa::path(
    tag = "admissions",
    params(("stage" = String, Path, description = "The stage's key (or id)"), IfMatch),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such stage", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Applicants are in the stage, or it is the last of its kind", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The stage changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/admissions/stages/{stage}")]
pub async fn delete_stage(
    caller: Caller,
    state: web::Data<AppState>,
    stage: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsConfigure)?;
    let stage = stage.into_inner();
    state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            store::lock_pipeline(tx.conn(), &school)?;
            let pipeline = ensure_pipeline(tx)?;
            let current = store::find_stage(&pipeline, &stage)?;
            if_match.check(current.version)?;
            let holding = store::applicants_in(tx.conn(), &school, &current.key)?;
            if holding > 0 {
                return Err(ApiError::ConflictOf {
                    kind: "stage-in-use",
                    detail: format!(
                        "{holding} applicant(s) are in the stage `{}`: move them to another stage first",
                        current.key
                    ),
                    errors: Vec::new(),
                });
            }
            let after: Vec<StageRule> = pipeline
                .iter()
                .filter(|s| s.id != current.id)
                .map(StageRow::rule)
                .collect();
            if let Err(PipelineRefusal::Incomplete(kind)) =
                pipeline::check_pipeline(&after, &current.key)
            {
                return Err(ApiError::ConflictOf {
                    kind: "stage-in-use",
                    detail: format!(
                        "`{}` is the pipeline's last `{kind}` stage, which it must keep",
                        current.key
                    ),
                    errors: Vec::new(),
                });
            }
            tx.archive(&current)?;
            let order: Vec<StageId> = pipeline
                .iter()
                .filter(|s| s.id != current.id)
                .map(|s| s.id)
                .collect();
            renumber(tx, &pipeline, &order, None)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

// -------------------------------------------------------------------------------- applicants

/// List applicants
///
/// Newest first. Scope: `admissions:read`.
#[utoipa::path(
    tag = "admissions",
    params(ListApplicantsQuery),
    responses((status = 200, description = "A page of applicants", body = Page<Applicant>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/admissions/applicants")]
pub async fn list_applicants(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<ListApplicantsQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsRead)?;
    let q = query.0;
    let page = PageRequest::new(q.limit, q.cursor.as_deref(), pagination::is_id)?;
    let filters = Filters {
        stage: q.stage,
        source: q.source,
        assignee: q
            .assignee
            .map(|a| if a == "me" { caller.sub.clone() } else { a }),
        entry_term: q.entry_term,
        applying_for_grade: q.applying_for_grade,
        q: q.q,
        updated_since: q.updated_since,
    };
    let school = caller.school_id.clone();
    let result = state
        .db
        .read(move |conn| {
            let pipeline = store::pipeline(conn, &school)?;
            let rows = store::list(conn, &school, &filters, &page)?;
            Ok(page.finish(rows, |r| r.id.to_string(), |r| r.view(&pipeline)))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// Add an applicant
///
/// In `stage` (an `open` or `lost` stage), or the pipeline's first `open` stage; the entry
/// starts the applicant's history. Honours `Idempotency-Key`. Scope: `admissions:write`.
#[utoipa::path(
    tag = "admissions",
    request_body = ApplicantInput,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Added", body = Applicant,
            headers(("Location" = String, description = "The applicant's path"), ("ETag" = String, description = "Its version"))),
        CreateErrors
    ),
    security(("bearer" = []))
)]
#[post("/v1/admissions/applicants")]
pub async fn create_applicant(
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: JsonBody<ApplicantInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsWrite)?;
    let created = state
        .write(&caller, move |tx| {
            idempotency::once(tx, &key, &body.fingerprint, |tx| {
                let pipeline = ensure_pipeline(tx)?;
                let input = body.value;
                let stage = start_stage(&pipeline, input.stage.as_deref())?;
                check_items(&pipeline, &input.checklist)?;
                let (sub, role, now) = (tx.caller().sub.clone(), tx.caller().role, tx.now());
                let school = tx.caller().school_id.clone();
                let stage_key = stage.key.clone();
                let row = ApplicantRow::new(&school, input, &stage_key, &sub, now);
                tx.create(&row)?;
                store::record_move(tx.conn(), &row, None, &stage_key, None, &sub, role, now)?;
                let location = format!("/v1/admissions/applicants/{}", row.id);
                Created::new(&row.view(&pipeline), location, 1)
            })
        })
        .await?;
    Ok(created.response())
}

/// Get an applicant
///
/// Scope: `admissions:read`.
#[utoipa::path(
    tag = "admissions",
    params(("id" = Uuid, Path, description = "The applicant's id")),
    responses(
        (status = 200, description = "The applicant", body = Applicant, headers(("ETag" = String, description = "Its version"))),
        ReadErrors
    ),
    security(("bearer" = []))
)]
#[get("/v1/admissions/applicants/{id}")]
pub async fn get_applicant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsRead)?;
    let id = ApplicantId(id.into_inner());
    let school = caller.school_id.clone();
    let found = state
        .db
        .read(move |conn| {
            let row = store::find(conn, &school, id)?;
            let pipeline = store::pipeline(conn, &school)?;
            Ok(row.view(&pipeline))
        })
        .await?;
    Ok(single(&found, found.version))
}

/// Change an applicant
///
/// A JSON Merge Patch of `ApplicantInput` but `stage` (moves are made by transitions). Mark a
/// checklist item done with `{"checklist": {"<key>": true}}` (it records when and by whom),
/// undo it with `false`. Honours `If-Match`. Scope: `admissions:write`.
#[utoipa::path(
    tag = "admissions",
    params(("id" = Uuid, Path, description = "The applicant's id"), IfMatch),
    request_body(content = ApplicantPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed applicant", body = Applicant, headers(("ETag" = String, description = "The new version"))),
        UpdateErrors
    ),
    security(("bearer" = []))
)]
#[patch("/v1/admissions/applicants/{id}")]
pub async fn update_applicant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    patch: PatchBody,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsWrite)?;
    let id = ApplicantId(id.into_inner());
    let saved = state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            let current = store::find(tx.conn(), &school, id)?;
            let pipeline = store::pipeline(tx.conn(), &school)?;
            if_match.check(current.version)?;
            let Some(input) = merge_patch::merge_into(&current.input(), patch.0)? else {
                return Ok(current.view(&pipeline));
            };
            if input.stage.as_deref() != Some(current.stage.as_str()) {
                return Err(ApiError::field(
                    "stage",
                    "immutable",
                    "moves are made by POST …/transitions",
                ));
            }
            check_items(&pipeline, &input.checklist)?;
            let (sub, now) = (tx.caller().sub.clone(), tx.now());
            let saved = tx.revise(&current, Action::Update, |row| row.set(input, &sub, now))?;
            Ok(saved.view(&pipeline))
        })
        .await?;
    Ok(single(&saved, saved.version))
}

/// Archive an applicant
///
/// It leaves every list, GET and the funnel; the record is kept. Honours `If-Match`.
/// Scope: `admissions:write`.
#[utoipa::path(
    tag = "admissions",
    params(("id" = Uuid, Path, description = "The applicant's id"), IfMatch),
    responses((status = 204, description = "Archived"), super::DeleteErrors),
    security(("bearer" = []))
)]
#[delete("/v1/admissions/applicants/{id}")]
pub async fn delete_applicant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsWrite)?;
    let id = ApplicantId(id.into_inner());
    state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            let current = store::find(tx.conn(), &school, id)?;
            if_match.check(current.version)?;
            tx.archive(&current)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Move an applicant to another stage
///
/// To any other stage but a `won` one (enrolment makes that move). Moving forward (to a later
/// `open` stage) needs the required checklist items of the stage being left: else a 409
/// `checklist-incomplete` listing them in `errors`; moving back, or out to a `lost` stage, does
/// not. An applicant in a `won` or `lost` stage is moved on only by an admin; an illegal move is
/// a 409 whose `allowed` lists the stages the caller may move to. The move enters the
/// applicant's history. Honours `If-Match`. Scope: `admissions:write`.
#[utoipa::path(
    tag = "admissions",
    params(("id" = Uuid, Path, description = "The applicant's id"), IfMatch),
    request_body = MoveInput,
    responses(
        (status = 200, description = "The moved applicant", body = Applicant, headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such applicant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An illegal move (`allowed` lists the legal ones), or required checklist items not done (`errors` lists them)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The applicant changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/admissions/applicants/{id}/transitions")]
pub async fn transition_applicant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: JsonBody<MoveInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsWrite)?;
    let id = ApplicantId(id.into_inner());
    let input = body.value;
    let saved = state
        .write(&caller, move |tx| {
            let school = tx.caller().school_id.clone();
            let current = store::find(tx.conn(), &school, id)?;
            if_match.check(current.version)?;
            let pipeline = store::pipeline(tx.conn(), &school)?;
            let done = current.done();
            let (sub, role, now) = (tx.caller().sub.clone(), tx.caller().role, tx.now());
            pipeline::judge_move(
                &rules(&pipeline),
                &current.stage,
                &input.to,
                role,
                false,
                &|k: &str| done.contains_key(k),
            )
            .map_err(move_refused)?;
            let to = input.to;
            let saved = tx.revise(&current, Action::Transition, |row| row.enter(&to, now))?;
            store::record_move(
                tx.conn(),
                &saved,
                Some((&current.stage, current.stage_entered_at)),
                &to,
                input.note,
                &sub,
                role,
                now,
            )?;
            Ok(saved.view(&pipeline))
        })
        .await?;
    Ok(single(&saved, saved.version))
}

/// An applicant's history
///
/// Every stay in a stage, oldest first: the stage, the move into it (from where, by whom,
/// with its note), when it began and ended, and the time spent in it (up to now for the stage
/// the applicant is in). Scope: `admissions:read`.
#[utoipa::path(
    tag = "admissions",
    params(("id" = Uuid, Path, description = "The applicant's id"), HistoryQuery),
    responses((status = 200, description = "A page of stays", body = Page<StageStay>), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/admissions/applicants/{id}/history")]
pub async fn list_applicant_history(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsRead)?;
    let id = ApplicantId(id.into_inner());
    let q = query.0;
    let page = PageRequest::new(
        q.limit,
        q.cursor.as_deref(),
        communications::store::is_time_key,
    )?;
    let school = caller.school_id.clone();
    let now = state.clock.now();
    let result = state
        .db
        .read(move |conn| {
            store::find(conn, &school, id)?;
            let rows = store::history(conn, &school, id, &page)?;
            Ok(page.finish(rows, store::history_key, |r| r.view(now)))
        })
        .await?;
    Ok(pagination::respond(&req, &result))
}

/// What an enrolment answers.
enum Enrolled {
    /// Made now.
    Made(Created),
    /// Already made before: the family, as it is.
    Already(Box<Family>),
}

/// Enrol an applicant
///
/// In one transaction: makes the family (or takes the existing one named by `family_id`), the
/// guardian from the applicant's contact (or takes the family's guardian named by
/// `guardian_id`), the student with its link to the guardian (legal guardian, lives with,
/// emergency contact, first to call, sees the records), moves the applicant to the pipeline's
/// first `won` stage, and moves the applicant's communications to the family's timeline. The
/// move is checked like a transition (required checklist items of the current stage; from a
/// `lost` stage only an admin). Answers the family: 201 when this request made the enrolment,
/// 200 when it was made before — enrolling again creates nothing (an applicant an admin moved
/// back out of `won` is moved back in). Scope: `admissions:write`.
#[utoipa::path(
    tag = "admissions",
    params(("id" = Uuid, Path, description = "The applicant's id")),
    request_body(content = Option<EnrollInput>, content_type = "application/json",
        description = "Nothing, `{}`, or the fields to make the records from"),
    responses(
        (status = 201, description = "Enrolled now: the family", body = Family,
            headers(("Location" = String, description = "The family's path"), ("ETag" = String, description = "The family's version"))),
        (status = 200, description = "Enrolled before: the family", body = Family,
            headers(("ETag" = String, description = "The family's version"))),
        (status = 400, description = "Invalid request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or invalid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such applicant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An illegal move, required checklist items not done, or a unique value (an external_id) taken; nothing was written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`family_id` or `guardian_id` names nothing usable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/v1/admissions/applicants/{id}/enroll")]
pub async fn enroll_applicant(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    body: OptionalBody<EnrollInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsWrite)?;
    let id = ApplicantId(id.into_inner());
    let input = body.0.unwrap_or_default();
    if input.guardian_id.is_some() && input.family_id.is_none() {
        // A family made now has no guardian yet: there is none such to name.
        return Err(ApiError::unprocessable_field(
            "guardian_id",
            "not_found",
            "no such guardian in the family: name an existing family with family_id",
        ));
    }
    let outcome = state
        .write(&caller, move |tx| enroll(tx, id, input))
        .await?;
    Ok(match outcome {
        Enrolled::Made(created) => created.response(),
        Enrolled::Already(family) => single(&*family, family.version),
    })
}

fn enroll(tx: &mut Tx<'_>, id: ApplicantId, input: EnrollInput) -> Result<Enrolled, ApiError> {
    let viewer = tx.viewer()?;
    let school = viewer.school_id.clone();
    let (sub, role, now) = (viewer.sub.clone(), viewer.role, tx.now());
    let current = store::find(tx.conn(), &school, id)?;
    let pipeline = store::pipeline(tx.conn(), &school)?;
    let won = pipeline
        .iter()
        .find(|s| s.kind == StageKind::Won)
        .ok_or_else(|| ApiError::Conflict("the pipeline has no won stage".into()))?
        .key
        .clone();
    let in_won = pipeline
        .iter()
        .any(|s| s.key == current.stage && s.kind == StageKind::Won);
    if let (Some(family), true) = (current.family_id, in_won) {
        let family = families::store::find(tx.conn(), &viewer, family)?;
        return Ok(Enrolled::Already(Box::new(family.view(&viewer))));
    }
    let done = current.done();
    pipeline::judge_move(
        &rules(&pipeline),
        &current.stage,
        &won,
        role,
        true,
        &|k: &str| done.contains_key(k),
    )
    .map_err(move_refused)?;
    if let Some(family) = current.family_id {
        // Enrolled before and moved back out by an admin: back in, nothing new made.
        let saved = tx.revise(&current, Action::Transition, |row| row.enter(&won, now))?;
        store::record_move(
            tx.conn(),
            &saved,
            Some((&current.stage, current.stage_entered_at)),
            &won,
            input.note,
            &sub,
            role,
            now,
        )?;
        let family = families::store::find(tx.conn(), &viewer, family)?;
        return Ok(Enrolled::Already(Box::new(family.view(&viewer))));
    }
    let contact = current.guardian();
    // The family.
    let (family, new_family) = match input.family_id {
        Some(f) => match families::store::find(tx.conn(), &viewer, FamilyId(f)) {
            Ok(row) => (row, false),
            Err(ApiError::NotFound) => {
                return Err(ApiError::unprocessable_field(
                    "family_id",
                    "not_found",
                    "no such family",
                ))
            }
            Err(e) => return Err(e),
        },
        None => {
            let row = families::store::FamilyRow::new(
                &school,
                FamilyInput {
                    display_name: input
                        .display_name
                        .clone()
                        .unwrap_or_else(|| format!("The {} family", current.family_name)),
                    external_id: input.family_external_id.clone(),
                    primary_language: contact.preferred_language.clone(),
                    preferred_channel: None,
                    sms_opt_in: contact.sms_opt_in,
                    directory_opt_out: false,
                    address: None,
                    notes: None,
                },
                now,
            );
            tx.create(&row)?;
            (row, true)
        }
    };
    // The guardian.
    let guardian: GuardianId = match input.guardian_id {
        Some(g) => match guardians::store::find(tx.conn(), &viewer, GuardianId(g)) {
            Ok(row) if row.family_id == family.id => row.id,
            Ok(_) | Err(ApiError::NotFound) => {
                return Err(ApiError::unprocessable_field(
                    "guardian_id",
                    "not_found",
                    "no such guardian in this family",
                ))
            }
            Err(e) => return Err(e),
        },
        None => {
            let (given, family_name) = pipeline::split_name(&contact.name, &current.family_name);
            let clip = |s: String| s.chars().take(100).collect::<String>();
            let row = guardians::store::GuardianRow::new(
                &school,
                family.id,
                GuardianInput {
                    given_name: clip(input.guardian_given_name.clone().unwrap_or(given)),
                    family_name: clip(input.guardian_family_name.clone().unwrap_or(family_name)),
                    external_id: None,
                    relationship: contact.relationship,
                    email: contact.email.clone(),
                    phone: contact.phone.clone(),
                    preferred_language: contact.preferred_language.clone(),
                    preferred_channel: None,
                    is_primary: new_family,
                    sms_opt_in: contact.sms_opt_in,
                    contact_allowed: true,
                },
                now,
            );
            tx.create(&row)?;
            row.id
        }
    };
    // The student and its link.
    let student = students::store::StudentRow::new(
        &school,
        family.id,
        StudentInput {
            given_name: current.given_name.clone(),
            family_name: current.family_name.clone(),
            external_id: input.student_external_id.clone(),
            grade_level: current.applying_for_grade.clone(),
            date_of_birth: current.date_of_birth,
            has_iep: false,
        },
        now,
    );
    tx.create(&student)?;
    let link = links::store::LinkRow::new(
        &school,
        student.id,
        LinkInput {
            guardian_id: guardian.uuid(),
            relationship: contact.relationship,
            legal_guardian: true,
            lives_with: true,
            emergency_contact: true,
            contact_priority: Some(1),
            can_view_records: true,
            contact_restricted: false,
            starts_on: None,
            ends_on: None,
        },
        now,
    );
    tx.create(&link)?;
    // The applicant's communications join the family's timeline.
    for comm in communications::store::of_applicant(tx.conn(), &school, id)? {
        tx.revise(&comm, Action::Update, |row| {
            row.family_id = Some(family.id);
            row.guardian_id = row.guardian_id.or(Some(guardian));
            row.student_id = row.student_id.or(Some(student.id));
        })?;
    }
    // The applicant moves to the won stage.
    let (family_id, student_id) = (family.id, student.id);
    let saved = tx.revise(&current, Action::Transition, |row| {
        row.family_id = Some(family_id);
        row.student_id = Some(student_id);
        row.guardian_id = Some(guardian);
        row.enter(&won, now);
    })?;
    store::record_move(
        tx.conn(),
        &saved,
        Some((&current.stage, current.stage_entered_at)),
        &won,
        input.note,
        &sub,
        role,
        now,
    )?;
    let view = family.view(&viewer);
    let version = view.version;
    let location = format!("/v1/families/{}", view.id);
    Ok(Enrolled::Made(Created::new(&view, location, version)?))
}

// ------------------------------------------------------------------------------------ funnel

/// The admissions funnel
///
/// Over the applicants who entered the pipeline in [`from`, `to`) and start in `entry_term`
/// (each filter optional; archived applicants left out). Per stage, in pipeline order: how many
/// ever entered it (`reached`), how many are in it now (`current`), `conversion` from the
/// previous stage that is not `lost` (`reached` over its `reached`), and the median days spent
/// in it over the stays that ended. Per source: applicants, how many are `won` and `lost`, and
/// the win rate (`won` over applicants). Scope: `admissions:read`.
#[utoipa::path(
    tag = "admissions",
    params(FunnelQuery),
    responses((status = 200, description = "The funnel", body = Funnel), ReadErrors),
    security(("bearer" = []))
)]
#[get("/v1/admissions/funnel")]
pub async fn get_funnel(
    caller: Caller,
    state: web::Data<AppState>,
    query: Query<FunnelQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::AdmissionsRead)?;
    let q = query.0;
    let cohort = Cohort {
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
        entry_term: q.entry_term,
    };
    let pipeline = pipeline_for_read(&state, &caller).await?;
    let school = caller.school_id.clone();
    let tally = state
        .db
        .read(move |conn| Ok(store::tally(conn, &school, &cohort)?))
        .await?;
    Ok(HttpResponse::Ok().json(funnel(&pipeline, tally)))
}

/// The funnel of a cohort's tally, laid out by the pipeline.
fn funnel(pipeline: &[StageRow], tally: pipeline::Tally) -> Funnel {
    let kind_of = |key: &str| pipeline.iter().find(|s| s.key == key).map(|s| s.kind);
    let mut current: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_source: BTreeMap<Source, (i64, i64, i64)> = BTreeMap::new();
    let (mut total, mut won, mut lost, mut open) = (0, 0, 0, 0);
    for ((stage, source), n) in &tally.current {
        total += n;
        *current.entry(stage.as_str()).or_default() += n;
        let entry = by_source.entry(*source).or_default();
        entry.0 += n;
        match kind_of(stage) {
            Some(StageKind::Won) => {
                won += n;
                entry.1 += n;
            }
            Some(StageKind::Lost) => {
                lost += n;
                entry.2 += n;
            }
            _ => open += n,
        }
    }
    let reached = |key: &str| tally.reached.get(key).copied().unwrap_or(0);
    let counts: Vec<(StageKind, i64)> =
        pipeline.iter().map(|s| (s.kind, reached(&s.key))).collect();
    let conversions = pipeline::conversions(&counts);
    let stages = pipeline
        .iter()
        .zip(conversions)
        .map(|(s, conversion)| {
            let ended = tally.stays.get(s.key.as_str()).copied();
            FunnelStage {
                key: s.key.clone(),
                name: s.name.clone(),
                kind: s.kind,
                position: s.position,
                reached: reached(&s.key),
                current: current.get(s.key.as_str()).copied().unwrap_or(0),
                conversion,
                completed_stays: ended.map_or(0, |(n, _)| n),
                median_days: ended.map(|(_, median)| pipeline::days(median)),
            }
        })
        .collect();
    let sources = Source::ALL
        .iter()
        .map(|source| {
            let (n, w, l) = by_source.get(source).copied().unwrap_or_default();
            FunnelSource {
                source: *source,
                applicants: n,
                won: w,
                lost: l,
                win_rate: pipeline::ratio(w, n),
            }
        })
        .collect();
    Funnel {
        applicants: total,
        won,
        lost,
        open,
        stages,
        sources,
    }
}
