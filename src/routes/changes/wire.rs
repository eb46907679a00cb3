//! The change feed on the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::db::{Operation, ResourceType};

/// One create, update or archive of one record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Change {
    /// The change's place in the school's feed: it grows with every change, in commit order.
    #[schema(example = 1042)]
    pub seq: i64,
    /// The kind of record, named as its collection.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    /// The record's id.
    pub id: String,
    /// The record's SIS id at the time of the change, if it has one.
    #[schema(example = "SIS-F-10442")]
    pub external_id: Option<String>,
    /// What the change did.
    pub operation: Operation,
    /// The record's version after the change.
    #[schema(example = 2)]
    pub version: i64,
    /// When the change was made.
    #[serde(serialize_with = "crate::routes::rfc3339")]
    pub changed_at: DateTime<Utc>,
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// The changes, in commit order.
    pub data: Vec<Change>,
    /// Pass as `since` to read on. Always given, on an empty page too: keep it, and the next
    /// read starts exactly after what this one saw.
    #[schema(example = "MTA0Mg")]
    pub next_cursor: String,
}

/// Where to read the feed from, and which kinds of record.
#[derive(Debug, Deserialize, IntoParams, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListChangesQuery {
    /// The `next_cursor` of the previous read; absent: from the first change.
    #[param(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub since: Option<String>,
    /// A synonym of `since`, as other lists call it (both given: they must be equal).
    #[param(min_length = 1, max_length = 40, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Comma-separated kinds of record (`families,guardians,students,links,communications,
    /// concerns,concern_comments,settings`); absent: every kind the caller may read. Naming a
    /// kind the caller may not read is a 403.
    #[param(
        pattern = "^(families|guardians|students|links|communications|concerns|concern_comments|settings)(,(families|guardians|students|links|communications|concerns|concern_comments|settings))*$",
        example = "families,guardians,students,links"
    )]
    pub types: Option<String>,
    /// Changes per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}
