//! Black-box HTTP tests of the whole service: one binary, one module per area.
//!
//! Runs on SQLite by default; set `TEST_DATABASE_URL=postgres://…` to run on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admissions;
mod audit;
mod auth;
mod changes;
mod clients;
mod communications;
mod concerns;
mod conventions;
mod events;
mod families;
mod guardian_access;
mod guardians;
mod iep;
mod imports;
mod links;
mod me;
mod rate_limits;
mod request_checks;
mod resources;
mod schema;
mod students;
mod tenancy;
mod validation;
mod write_path;
