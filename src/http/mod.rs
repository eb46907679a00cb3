//! The conventions every endpoint shares: request ids, strict extractors, pagination,
//! ETag/If-Match, idempotent creates, JSON Merge Patch.

pub mod check;
pub mod etag;
pub mod extract;
pub mod idempotency;
pub mod merge_patch;
pub mod pagination;
pub mod precheck;
pub mod problem_fallback;
pub mod problem_types;
pub mod rate_limit;
pub mod request_id;
pub mod routing;
