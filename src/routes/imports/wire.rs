//! Imports on the wire: the query, the report, and the failed import's problem document.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::text_enum;
use crate::error::FieldError;

/// The most failed rows one report lists: a file of bad rows cannot make the answer (or the
/// memory that holds it) grow without bound. The counts always cover every row.
pub const MAX_ROW_ERRORS: usize = 1000;

text_enum! {
    /// What an import does when some rows fail.
    ImportMode {
        /// One failed row and nothing is written (the default).
        AllOrNothing => "all_or_nothing",
        /// The good rows are written; the failed ones are reported and left out.
        Partial => "partial",
    }
}

/// The options of an import.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check every row and answer as the import would, writing nothing.
    pub dry_run: Option<bool>,
    /// `all_or_nothing` (default): one failed row and nothing is written. `partial`: the good
    /// rows are written.
    #[param(value_type = Option<ImportMode>)]
    pub mode: Option<ImportMode>,
}

/// A row that failed, and why.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct RowError {
    /// The row's line in the file (1-based; for CSV the line its record starts on, so the
    /// header is line 1).
    #[schema(example = 7)]
    pub line: u64,
    /// Each field that failed, as a single create would report it (`field` names the column
    /// of a CSV file, or the key of an NDJSON object).
    pub errors: Vec<FieldError>,
}

/// What an import did (or, in a dry run or a failed all-or-nothing import, would have done).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ImportReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// `all_or_nothing` or `partial`.
    pub mode: ImportMode,
    /// Rows read (every line or record that is not blank).
    pub rows: u64,
    /// Rows that made a new record.
    pub created: u64,
    /// Rows that changed a record found by its external id.
    pub updated: u64,
    /// Rows equal to their stored record: nothing was written for them.
    pub unchanged: u64,
    /// Rows that failed.
    pub failed: u64,
    /// The failed rows, in line order: at most the first 1,000 found.
    pub errors: Vec<RowError>,
    /// Whether failed rows were left out of `errors` (there were more than 1,000).
    pub errors_truncated: bool,
}

impl ImportReport {
    /// An empty report of an import in `mode`.
    pub fn new(dry_run: bool, mode: ImportMode) -> Self {
        ImportReport {
            dry_run,
            mode,
            rows: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            errors: Vec::new(),
            errors_truncated: false,
        }
    }

    /// Counts a failed row, listing it while the list has room.
    pub fn fail(&mut self, line: u64, errors: Vec<FieldError>) {
        self.failed += 1;
        if self.errors.len() < MAX_ROW_ERRORS {
            self.errors.push(RowError { line, errors });
        } else {
            self.errors_truncated = true;
        }
    }
}

/// The 422 answer of an all-or-nothing import with failed rows: a problem document
/// (`/problems/import-failed`) that carries the import's report. Nothing was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportProblem {
    /// `/problems/import-failed`.
    #[serde(rename = "type")]
    #[schema(example = "/problems/import-failed")]
    pub type_: String,
    /// `Import failed`.
    pub title: String,
    /// 422.
    pub status: u16,
    /// How many rows failed; that nothing was written.
    pub detail: String,
    /// The request's `X-Request-Id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
    /// The report, as a successful import answers it.
    #[serde(flatten)]
    pub report: ImportReport,
}
