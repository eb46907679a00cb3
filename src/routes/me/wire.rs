//! `GET /v1/me` on the wire.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::routes::families::Family;
use crate::routes::guardians::Guardian;
use crate::routes::students::Student;

/// Who the token speaks for, and what it may do. For a guardian also their own record, their
/// family and the children they may see: what a parent app needs to start.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The caller (the token's `sub`).
    #[schema(example = "pre-maria")]
    pub sub: String,
    /// The role (`admin`, `pre`, `teacher`, `counselor`, `admissions`, `guardian`,
    /// `integration`).
    #[schema(example = "pre")]
    pub role: String,
    /// The school the token acts in.
    #[schema(example = "lincoln-elementary")]
    pub school_id: String,
    /// The effective scopes: the token's `scope` within what its role may have.
    #[schema(example = json!(["families:read", "families:write"]))]
    pub scopes: Vec<String>,
    /// For a guardian, their Liaison id; `null` for staff and services.
    pub guardian_id: Option<Uuid>,
    /// For a guardian whose token has `families:read`, their own record; else `null`.
    pub guardian: Option<Guardian>,
    /// For a guardian whose token has `families:read`, their family; else `null`.
    pub family: Option<Family>,
    /// For a guardian whose token has `families:read`, the children a current link with
    /// `can_view_records` lets them see (of any household); else `null`.
    pub students: Option<Vec<Student>>,
}
