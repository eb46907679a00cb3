//! Bulk imports: families, guardians, students and their links from an SIS, as NDJSON or CSV.
//!
//! The body is read as it arrives, on a thread of its own: each row is checked as a single
//! create checks its body and, if good, spooled to an unnamed temporary file (gone when the
//! import ends, however it ends). Only once the whole body is in does the import take the
//! database's write path, for one transaction that writes the spooled rows in batches, with an
//! audit event and a change record for each written row. So a slow upload never holds the
//! (SQLite) writer, and memory stays flat whatever the file's size.

pub mod kinds;
pub mod parse;
pub mod wire;

use std::io::{BufRead, BufReader, Seek, Write};
use std::sync::{Arc, Mutex};

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use self::kinds::{check_row, Importer, Spooled};
use self::parse::{ChannelReader, CsvRows, NdjsonRows, Parsed, Rows};
pub use self::wire::{ImportMode, ImportProblem, ImportQuery, ImportReport, RowError};
use crate::auth::{Caller, Scope};
use crate::db::Tx;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::http::extract::{media_type, Query};
use crate::http::idempotency::{self, Created, IdempotencyKey};
use crate::http::problem_types;
use crate::http::request_id;
use crate::AppState;

/// The default of `LIAISON_IMPORT_MAX_BYTES`: 100 MiB.
pub const DEFAULT_MAX_BYTES: usize = 100 * 1024 * 1024;

/// Rows written per batch: one lookup of their external ids, one multi-row insert.
const BATCH: usize = 500;

/// Rows written before PostgreSQL's statistics of the written table are first taken again.
const ANALYZE_FIRST: u64 = 2000;

pub(crate) fn configure(cfg: &mut impl crate::routes::Register) {
    cfg.service(import_families)
        .service(import_guardians)
        .service(import_students)
        .service(import_links)
        .service(import_applicants);
}

/// The body's format.
#[derive(Debug, Clone, Copy)]
enum Format {
    Ndjson,
    Csv,
}

/// What the parsing thread hands over: the spool of good rows and the report so far.
struct Spool {
    file: std::fs::File,
    report: ImportReport,
}

/// How a write ended.
enum Outcome {
    /// Written (and committed): the report.
    Done(ImportReport),
    /// An earlier answer under the same `Idempotency-Key`.
    Replay(String),
}

fn format_of(req: &HttpRequest) -> Result<Format, ApiError> {
    match media_type(req).as_deref() {
        Some("application/x-ndjson" | "application/jsonl") => Ok(Format::Ndjson),
        Some("text/csv") => Ok(Format::Csv),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "send the file as application/x-ndjson or text/csv (got {})",
            other.unwrap_or("no Content-Type")
        ))),
    }
}

/// Reads every row of the body, checking and spooling the good ones.
#[allow(clippy::needless_pass_by_value)]
fn read_rows<K: Importer>(
    format: Format,
    body: ChannelReader,
    mut report: ImportReport,
) -> Result<Spool, ApiError> {
    let reader = BufReader::with_capacity(64 * 1024, body);
    let mut rows: Box<dyn Rows> = match format {
        Format::Csv => Box::new(CsvRows::new(reader, K::COLUMNS)?),
        Format::Ndjson => Box::new(NdjsonRows::new(reader)),
    };
    let file = tempfile::tempfile().map_err(ApiError::internal)?;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
    while let Some(parsed) = rows.next_row()? {
        report.rows += 1;
        match parsed {
            Parsed::Bad { line, errors } => report.fail(line, errors),
            Parsed::Row { line, map, prior } => match check_row::<K>(line, map, prior) {
                Ok(row) => {
                    serde_json::to_writer(&mut out, &row).map_err(ApiError::internal)?;
                    out.write_all(b"\n").map_err(ApiError::internal)?;
                }
                Err(errors) => {
                    let errors = errors
                        .into_iter()
                        .map(|mut e| {
                            e.field = rows.field_name(e.field);
                            e
                        })
                        .collect();
                    report.fail(line, errors)
                }
            },
        }
    }
    if report.rows == 0 {
        return Err(ApiError::bad_request(match format {
            Format::Csv => "the file has a header row but no rows",
            Format::Ndjson => "the file has no rows: send one JSON object a line",
        }));
    }
    let mut file = out.into_inner().map_err(ApiError::internal)?;
    file.rewind().map_err(ApiError::internal)?;
    Ok(Spool { file, report })
}

/// Writes the spooled rows in batches; two rows matched by one key never share a batch, so
/// the second sees what the first wrote.
fn write_rows<K: Importer>(
    tx: &mut Tx<'_>,
    file: std::fs::File,
    report: &mut ImportReport,
) -> Result<(), ApiError> {
    let mut batch: Vec<Spooled<K::Refs, K::Input>> = Vec::with_capacity(BATCH);
    let mut keys = std::collections::HashSet::with_capacity(BATCH);
    // PostgreSQL plans each lookup with the tables as they are, from statistics taken again
    // each time the rows written have doubled (the tables grow inside this transaction); the
    // parents' once, at the start.
    crate::db::plan_each_statement(tx.conn())?;
    crate::db::refresh_statistics(tx.conn(), K::TABLES)?;
    let mut analyzed_at = ANALYZE_FIRST;
    for line in BufReader::with_capacity(64 * 1024, file).lines() {
        let line = line.map_err(ApiError::internal)?;
        let row: Spooled<K::Refs, K::Input> =
            serde_json::from_str(&line).map_err(ApiError::internal)?;
        let key = K::key(&row);
        if batch.len() == BATCH || keys.contains(&key) {
            K::apply(tx, std::mem::take(&mut batch), report)?;
            keys.clear();
            if report.created + report.updated >= analyzed_at {
                crate::db::refresh_statistics(tx.conn(), &K::TABLES[..1])?;
                analyzed_at *= 2;
            }
        }
        keys.insert(key);
        batch.push(row);
    }
    if !batch.is_empty() {
        K::apply(tx, batch, report)?;
    }
    report.errors.sort_by_key(|e| e.line);
    Ok(())
}

/// Hex SHA-256.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs an import of kind `K`: see the module's documentation.
async fn import<K: Importer>(
    req: HttpRequest,
    mut payload: web::Payload,
    caller: Caller,
    state: web::Data<AppState>,
    query: ImportQuery,
    key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ImportsWrite)?;
    let format = format_of(&req)?;
    let limit = state.import_max_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let dry_run = query.dry_run.unwrap_or(false);
    let mode = query.mode.unwrap_or(ImportMode::AllOrNothing);

    // The body is hashed as it streams: the fingerprint an `Idempotency-Key` is checked against
    // covers the path, the options, the format and every byte.
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "POST {}\n{dry_run} {mode} {format:?}\n",
        req.path()
    ));

    let (chunks, body) = tokio::sync::mpsc::channel(16);
    let (done, parsed) = tokio::sync::oneshot::channel();
    let report = ImportReport::new(dry_run, mode);
    std::thread::Builder::new()
        .name("liaison-import".into())
        .spawn(move || {
            let _ = done.send(read_rows::<K>(format, ChannelReader::new(body), report));
        })
        .map_err(ApiError::internal)?;
    let mut total = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        total += chunk.len();
        if total > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        hasher.update(&chunk);
        if chunks.send(chunk).await.is_err() {
            // The reader stopped early: the file as a whole cannot be read (its answer follows).
            break;
        }
    }
    drop(chunks);
    let spool = parsed
        .await
        .map_err(|_| ApiError::internal("the import reader died"))??;
    let fingerprint = hex(&hasher.finalize());

    let kept = Arc::new(Mutex::new(None::<ImportReport>));
    let slot = kept.clone();
    let written = state
        .write(&caller, move |tx| {
            let Spool { file, mut report } = spool;
            let (school, principal, now) = (
                tx.caller().school_id.clone(),
                tx.caller().sub.clone(),
                tx.now(),
            );
            let remembered = key.0.as_deref().filter(|_| !dry_run);
            if let Some(k) = remembered {
                if let Some(replay) =
                    idempotency::replay(tx.conn(), &school, &principal, k, &fingerprint, now)?
                {
                    return Ok(Outcome::Replay(replay.body));
                }
            }
            write_rows::<K>(tx, file, &mut report)?;
            if dry_run || (mode == ImportMode::AllOrNothing && report.failed > 0) {
                // Roll everything back, keeping the report to answer with.
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
                return Err(ApiError::Discarded);
            }
            if let Some(k) = remembered {
                let answer = Created {
                    body: serde_json::to_string(&report).map_err(ApiError::internal)?,
                    location: String::new(),
                    etag: String::new(),
                    replayed: false,
                };
                idempotency::remember(
                    tx.conn(),
                    &school,
                    &principal,
                    k,
                    &fingerprint,
                    &answer,
                    now,
                )?;
            }
            Ok(Outcome::Done(report))
        })
        .await;
    match written {
        Ok(Outcome::Done(report)) => Ok(HttpResponse::Ok().json(report)),
        Ok(Outcome::Replay(body)) => Ok(HttpResponse::Ok()
            .content_type("application/json")
            .insert_header(("idempotent-replayed", "true"))
            .body(body)),
        Err(ApiError::Discarded) => {
            let report = kept
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .ok_or_else(|| ApiError::internal("an import was discarded without a report"))?;
            if mode == ImportMode::AllOrNothing && report.failed > 0 {
                Ok(failed(report))
            } else {
                Ok(HttpResponse::Ok().json(report))
            }
        }
        Err(e) => Err(e),
    }
}

/// The 422 of an all-or-nothing import with failed rows.
fn failed(report: ImportReport) -> HttpResponse {
    let kind = &problem_types::IMPORT_FAILED;
    let detail = format!(
        "{} of {} rows failed; nothing was written{}",
        report.failed,
        report.rows,
        if report.dry_run { " (dry run)" } else { "" }
    );
    let body = ImportProblem {
        type_: kind.uri(),
        title: kind.title.into(),
        status: 422,
        detail,
        request_id: request_id::current(),
        report,
    };
    HttpResponse::UnprocessableEntity()
        .content_type(PROBLEM_JSON)
        .json(body)
}

/// Errors an import can answer besides its report.
#[derive(utoipa::IntoResponses)]
pub enum ImportErrors {
    /// A file that cannot be read as a whole: an empty file, a header only, an unknown or
    /// missing column, a bad query parameter.
    #[response(
        status = 400,
        description = "The file or the options are unusable",
        content_type = "application/problem+json"
    )]
    BadRequest(crate::error::Problem),
    /// No valid token.
    #[response(
        status = 401,
        description = "Missing or invalid token",
        content_type = "application/problem+json"
    )]
    Unauthorized(crate::error::Problem),
    /// The token lacks `imports:write`.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(crate::error::Problem),
    /// The body is over `LIAISON_IMPORT_MAX_BYTES`.
    #[response(
        status = 413,
        description = "Body too large",
        content_type = "application/problem+json"
    )]
    TooLarge(crate::error::Problem),
    /// The body is neither NDJSON nor CSV.
    #[response(
        status = 415,
        description = "Body is not application/x-ndjson or text/csv",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(crate::error::Problem),
    /// All or nothing, and rows failed: nothing was written; the problem carries the report.
    /// (Also an `Idempotency-Key` reused with another file, `/problems/idempotency-key-reused`.)
    #[response(
        status = 422,
        description = "Rows failed and nothing was written (or a reused Idempotency-Key)",
        content_type = "application/problem+json"
    )]
    Failed(ImportProblem),
}

macro_rules! import_endpoint {
    ($name:ident, $kind:ty, $path:literal, $summary:literal, $doc:literal) => {
        #[doc = $summary]
        #[doc = ""]
        #[doc = $doc]
        #[utoipa::path(
            tag = "imports",
            params(ImportQuery, IdempotencyKey),
            request_body(
                description = "The rows: one JSON object a line (`application/x-ndjson`), or \
                    CSV with a header row (`text/csv`, UTF-8, a byte order mark and CRLF \
                    line ends taken).",
                content(
                    (String = "application/x-ndjson"),
                    (String = "text/csv"),
                ),
            ),
            responses(
                (status = 200, description = "The import's report: written (or, for a dry \
                    run, what would be)", body = ImportReport),
                ImportErrors
            ),
            security(("bearer" = []))
        )]
        #[post($path)]
        pub async fn $name(
            req: HttpRequest,
            payload: web::Payload,
            caller: Caller,
            state: web::Data<AppState>,
            query: Query<ImportQuery>,
            key: IdempotencyKey,
        ) -> Result<HttpResponse, ApiError> {
            import::<$kind>(req, payload, caller, state, query.0, key).await
        }
    };
}

import_endpoint!(
    import_families,
    kinds::Families,
    "/v1/imports/families",
    "Import families",
    "Upserts families by `external_id` within the school. NDJSON rows take \
     the fields of a family's create (`FamilyInput`), `external_id` required. CSV columns: \
     `external_id` (required), `display_name` (required), `primary_language`, \
     `preferred_channel`, `sms_opt_in`, `directory_opt_out`, `address_line1`, `address_line2`, \
     `address_city`, `address_region`, `address_postal_code`, `address_country`, `notes`. \
     An empty cell is an absent field.\n\nA row equal to the stored family is `unchanged` and \
     writes nothing. All or nothing by default (one failed row: 422 `import-failed` with the \
     report, nothing written); `?mode=partial` writes the good rows (200); `?dry_run=true` \
     answers as the import would and writes nothing. Honours `Idempotency-Key`.\n\nScope: \
     `imports:write`."
);

import_endpoint!(
    import_guardians,
    kinds::Guardians,
    "/v1/imports/guardians",
    "Import guardians",
    "Upserts guardians by `external_id` within the school, each in the \
     family named by `family_external_id`. NDJSON rows take the fields of a guardian's create \
     (`GuardianInput`), `external_id` required, plus `family_external_id`. CSV columns: \
     `family_external_id` (required), `external_id` (required), `given_name` (required), \
     `family_name` (required), `relationship`, `email`, `phone`, `preferred_language`, \
     `preferred_channel`, `is_primary`, `sms_opt_in`, `contact_allowed`. A stored guardian of \
     another family is a failed row (an import does not move records between families).\n\n\
     Answers, modes and dry run as for families. Scope: `imports:write`."
);

import_endpoint!(
    import_students,
    kinds::Students,
    "/v1/imports/students",
    "Import students",
    "Upserts students by `external_id` within the school, each in the \
     family named by `family_external_id`. NDJSON rows take the fields of a student's create \
     (`StudentInput`), `external_id` required, plus `family_external_id`. CSV columns: \
     `family_external_id` (required), `external_id` (required), `given_name` (required), \
     `family_name` (required), `grade_level`, `date_of_birth`, `has_iep`.\n\nAnswers, modes \
     and dry run as for families. Scope: `imports:write`."
);

import_endpoint!(
    import_links,
    kinds::Links,
    "/v1/imports/links",
    "Import guardian–student links",
    "Upserts links by the pair they join: \
     `student_external_id` and `guardian_external_id` (required). NDJSON rows take the fields \
     of a link's create (`LinkInput`) but name the guardian by `guardian_external_id` instead \
     of `guardian_id`. CSV columns: `student_external_id` (required), `guardian_external_id` \
     (required), `relationship`, `legal_guardian`, `lives_with`, `emergency_contact`, \
     `contact_priority`, `can_view_records`, `contact_restricted`, `starts_on`, `ends_on`.\n\n\
     Answers, modes and dry run as for families. Scope: `imports:write`."
);

import_endpoint!(
    import_applicants,
    kinds::Applicants,
    "/v1/imports/applicants",
    "Import admissions applicants",
    "Upserts applicants by `external_id` within the school (inquiries \
     gathered elsewhere: a web form, an open day's sign-up sheet, another admissions system). \
     NDJSON rows take the fields of an applicant's create (`ApplicantInput`), `external_id` \
     required. CSV columns: `external_id` (required), `given_name` (required), `family_name` \
     (required), `date_of_birth`, `applying_for_grade`, `entry_term`, `guardian_name` \
     (required), `guardian_email`, `guardian_phone`, `guardian_preferred_language`, \
     `guardian_relationship`, `guardian_sms_opt_in`, `source`, `stage`, `assignee`, `notes`, \
     `checklist` (keys of the items done, separated by spaces).\n\nA new applicant starts in \
     `stage` (an `open` or `lost` stage; default the pipeline's first open stage) and its \
     history begins there, as a create's does. An import does not move a stored applicant: a \
     row naming another stage than the one it is in is a failed row (moves are made by \
     `POST /v1/admissions/applicants/{id}/transitions`); a row without `stage` keeps it. A \
     school without a pipeline gets the default one.\n\nAnswers, modes and dry run as for \
     families. Scope: `imports:write`."
);
