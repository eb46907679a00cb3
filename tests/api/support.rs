//! `TestApp`: the real application on a fresh database, with a caller per role.

#![allow(dead_code)]

use actix_http::Request;
use actix_service::boxed::BoxService;
use actix_service::ServiceExt;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::{test, web};
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use liaison::auth::{Keys, Role, TokenRequest};
use liaison::clock::Clock;
use liaison::config::{DatabaseUrl, RateLimitConfig};
use liaison::db::{Db, DbConnection};
use liaison::AppState;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The shared secret the test apps sign with.
pub const SECRET: &str = "test-secret-0123456789-0123456789-abcdef";
/// The school most tests act in.
pub const SCHOOL: &str = "school-a";
/// Another school, for tenancy tests.
pub const OTHER_SCHOOL: &str = "school-b";

type Svc = BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

/// A response, read whole.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    /// A header's value, if present.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem+json answer with this status; returns the problem.
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Value {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.text
        );
        assert_eq!(self.body["status"], json!(status));
        assert!(self.body["type"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(self.body["title"].is_string());
        assert!(self.body["detail"].is_string());
        assert!(
            self.body["request_id"].is_string(),
            "problem without request_id: {}",
            self.text
        );
        &self.body
    }

    /// The `field`s of a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The id of the resource in the body.
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_string()
    }
}

/// Where the test database lives, and how it is dropped.
enum Store {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { base: String, schema: String },
}

/// The application under test.
pub struct TestApp {
    svc: Svc,
    /// The database's URL, for running the `liaison` binary against it.
    pub url: String,
    pub db: Db,
    pub clock: Clock,
    store: Store,
}

/// How a test app verifies tokens.
pub enum KeyMode {
    /// HS256 with `SECRET`.
    Secret,
    /// HS256 with `SECRET`, and `iss`/`aud` required.
    SecretWithIssuer {
        issuer: &'static str,
        audience: &'static str,
    },
    /// RS256 with the fixture public key.
    Rs256,
    /// ES256 with the fixture public key.
    Es256,
}

/// The bytes of a file under `tests/fixtures/` (keys for the RS256 and ES256 tests).
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn keys(mode: &KeyMode) -> Keys {
    match mode {
        KeyMode::Secret => Keys::new(
            Algorithm::HS256,
            DecodingKey::from_secret(SECRET.as_bytes()),
            Some(EncodingKey::from_secret(SECRET.as_bytes())),
            None,
            None,
        ),
        KeyMode::SecretWithIssuer { issuer, audience } => Keys::new(
            Algorithm::HS256,
            DecodingKey::from_secret(SECRET.as_bytes()),
            Some(EncodingKey::from_secret(SECRET.as_bytes())),
            Some(issuer.to_string()),
            Some(audience.to_string()),
        ),
        KeyMode::Rs256 => Keys::new(
            Algorithm::RS256,
            DecodingKey::from_rsa_pem(&fixture("rsa-public.pem")).expect("rsa key"),
            None,
            None,
            None,
        ),
        KeyMode::Es256 => Keys::new(
            Algorithm::ES256,
            DecodingKey::from_ec_pem(&fixture("ec-public.pem")).expect("ec key"),
            None,
            None,
            None,
        ),
    }
}

impl TestApp {
    /// A fresh app on a fresh database, verifying HS256 tokens with `SECRET`.
    pub async fn new() -> TestApp {
        TestApp::with_keys(KeyMode::Secret).await
    }

    /// A fresh app with the given key configuration.
    pub async fn with_keys(mode: KeyMode) -> TestApp {
        TestApp::with(mode, &[]).await
    }

    /// A fresh app with the given key configuration and CORS origins.
    pub async fn with(mode: KeyMode, cors_origins: &[String]) -> TestApp {
        TestApp::build(mode, cors_origins, &RateLimitConfig::default(), None).await
    }

    /// A fresh app with the given rate limits.
    pub async fn with_limits(limits: RateLimitConfig) -> TestApp {
        TestApp::build(KeyMode::Secret, &[], &limits, None).await
    }

    /// A fresh app taking import bodies of at most `bytes`.
    pub async fn with_import_limit(bytes: usize) -> TestApp {
        TestApp::build(
            KeyMode::Secret,
            &[],
            &RateLimitConfig::default(),
            Some(bytes),
        )
        .await
    }

    async fn build(
        mode: KeyMode,
        cors_origins: &[String],
        limits: &RateLimitConfig,
        import_limit: Option<usize>,
    ) -> TestApp {
        let (url, store) = match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(base) if base.starts_with("postgres") => {
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut admin =
                    PgConnection::establish(&base).expect("TEST_DATABASE_URL reachable");
                admin
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                (url, Store::Postgres { base, schema })
            }
            _ => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (url, Store::Sqlite(dir))
            }
        };
        let raw_url = url.clone();
        let url = DatabaseUrl::parse(&url).expect("url");
        let db = Db::connect(&url, 4).expect("connect");
        liaison::db::migrate(&mut db.get().expect("conn")).expect("migrate");
        let clock = Clock::fixed(Utc::now().naive_utc().trunc_subsecs(6));
        let mut state = AppState::new(db.clone(), keys(&mode), clock.clone()).with_limits(limits);
        if let Some(bytes) = import_limit {
            state.import_max_bytes = bytes;
        }
        let state = web::Data::new(state);
        let svc = test::init_service(liaison::app(state, cors_origins)).await;
        let svc: Svc = actix_service::boxed::service(
            svc.map(|res: ServiceResponse<_>| res.map_into_boxed_body()),
        );
        TestApp {
            svc,
            url: raw_url,
            db,
            clock,
            store,
        }
    }

    /// Whether the suite runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.store, Store::Postgres { .. })
    }

    /// Mints a token as `liaison token` would.
    pub fn mint(
        &self,
        role: Role,
        school: &str,
        sub: &str,
        guardian: Option<&str>,
        scope: Option<&str>,
    ) -> String {
        keys(&KeyMode::Secret)
            .mint(&TokenRequest {
                sub: sub.to_string(),
                role,
                school_id: school.to_string(),
                guardian_id: guardian.map(str::to_string),
                scope: scope.map(str::to_string),
                ttl_seconds: 3600,
            })
            .expect("mint")
    }

    /// A token for `role` in `SCHOOL` (not for guardians: see `guardian`).
    pub fn token(&self, role: Role) -> String {
        self.mint(role, SCHOOL, &format!("{role}-1"), None, None)
    }

    /// The admin of `SCHOOL`.
    pub fn admin(&self) -> String {
        self.token(Role::Admin)
    }

    /// The admin of `OTHER_SCHOOL`, for tenancy tests.
    pub fn other_admin(&self) -> String {
        self.mint(Role::Admin, OTHER_SCHOOL, "admin-b", None, None)
    }

    /// A guardian token for the guardian with this id.
    pub fn guardian(&self, guardian_id: &str) -> String {
        self.mint(
            Role::Guardian,
            SCHOOL,
            &format!("guardian-{guardian_id}"),
            Some(guardian_id),
            None,
        )
    }

    /// Sends a request.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = test::TestRequest::default().method(method).uri(path);
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        if let Some(b) = body {
            req = req
                .insert_header(("content-type", "application/json"))
                .set_payload(b.to_string());
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        self.send(req.to_request()).await
    }

    /// Sends a prepared request.
    pub async fn send(&self, req: Request) -> Res {
        let res = test::call_service(&self.svc, req).await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = test::read_body(res).await;
        let text = String::from_utf8_lossy(&bytes).to_string();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            body,
            text,
        }
    }

    /// POSTs a raw body of the given media type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = test::TestRequest::post()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("content-type", content_type))
            .set_payload(body.into());
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        self.send(req.to_request()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(&body), &[])
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(token), Some(&body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.call(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// Creates a family as the admin; returns its id.
    pub async fn family(&self, name: &str) -> String {
        let res = self
            .post(
                "/v1/families",
                &self.admin(),
                json!({ "display_name": name }),
            )
            .await;
        res.assert_status(201);
        res.id()
    }

    /// Creates a guardian in a family as the admin; returns its id.
    pub async fn guardian_in(&self, family: &str, given: &str) -> String {
        let res = self
            .post(
                &format!("/v1/families/{family}/guardians"),
                &self.admin(),
                json!({ "given_name": given, "family_name": "Doe" }),
            )
            .await;
        res.assert_status(201);
        res.id()
    }

    /// Creates a student in a family as the admin; returns its id.
    pub async fn student_in(&self, family: &str, given: &str) -> String {
        let res = self
            .post(
                &format!("/v1/families/{family}/students"),
                &self.admin(),
                json!({ "given_name": given, "family_name": "Doe" }),
            )
            .await;
        res.assert_status(201);
        res.id()
    }

    /// Links a guardian to a student with extra fields; returns the response.
    pub async fn link(&self, student: &str, guardian: &str, extra: Value) -> Res {
        self.post(
            &format!("/v1/students/{student}/guardians"),
            &self.admin(),
            merged(json!({ "guardian_id": guardian }), extra),
        )
        .await
    }

    /// A family with a guardian and a student, unlinked; returns (family, guardian, student).
    pub async fn household(&self) -> (String, String, String) {
        let fam = self.family("The Does").await;
        let g = self.guardian_in(&fam, "Ana").await;
        let s = self.student_in(&fam, "Sam").await;
        (fam, g, s)
    }

    /// Moves the app's clock.
    pub fn set_now(&self, at: NaiveDateTime) {
        self.clock.set(at);
    }

    /// A direct connection to the test database.
    pub fn conn(&self) -> impl std::ops::DerefMut<Target = DbConnection> {
        self.db.get().expect("connection")
    }

    /// Rows in a table, archived ones included.
    pub fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table}"))
            .get_result::<N>(&mut *self.conn())
            .expect("count")
            .n
    }

    /// Everything the database holds, row by row, read from the catalogue: every table of the
    /// test's database (SQLite: `sqlite_master`; PostgreSQL: this test's own schema) but diesel's
    /// migration list, every column named by the catalogue. A table a later migration adds is
    /// covered with no edit here.
    pub fn snapshot(&self) -> Snapshot {
        #[derive(QueryableByName)]
        struct Column {
            #[diesel(sql_type = Text)]
            tbl: String,
            #[diesel(sql_type = Text)]
            col: String,
        }
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            tbl: String,
            #[diesel(sql_type = Text)]
            row: String,
        }
        let pg = self.is_postgres();
        let mut conn = self.conn();
        // SQLite's own `sqlite_*` tables are its bookkeeping (autoincrement counters, planner
        // statistics), not data the service writes.
        let catalogue = if pg {
            "SELECT c.table_name::text AS tbl, c.column_name::text AS col \
             FROM information_schema.columns c \
             JOIN information_schema.tables t \
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
               AND c.table_name <> '__diesel_schema_migrations' \
             ORDER BY c.table_name, c.ordinal_position"
        } else {
            "SELECT m.name AS tbl, p.name AS col \
             FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
               AND m.name <> '__diesel_schema_migrations' \
             ORDER BY m.name, p.cid"
        };
        let columns = diesel::sql_query(catalogue)
            .load::<Column>(&mut *conn)
            .expect("catalogue");
        let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in columns {
            tables.entry(c.tbl).or_default().push(c.col);
        }
        // A query against the wrong schema would find no table, and every snapshot would
        // then be equal: fail instead.
        assert!(
            tables.contains_key("families"),
            "the catalogue shows no schema: {tables:?}"
        );
        // One text per row, `column=literal, …`: a SQL literal tells NULL from 'NULL' and
        // escapes quotes, so two rows read alike only if every column is equal.
        let literal = |col: &str| {
            let ident = format!("\"{}\"", col.replace('"', "\"\""));
            if pg {
                format!("quote_nullable({ident}::text)")
            } else {
                format!("quote({ident})")
            }
        };
        let selects: Vec<String> = tables
            .iter()
            .map(|(table, cols)| {
                let row = cols
                    .iter()
                    .map(|c| format!("'{}=' || {}", c.replace('\'', "''"), literal(c)))
                    .collect::<Vec<_>>()
                    .join(" || ', ' || ");
                format!(
                    "SELECT CAST('{}' AS TEXT) AS tbl, {row} AS row FROM \"{}\"",
                    table.replace('\'', "''"),
                    table.replace('"', "\"\"")
                )
            })
            .collect();
        let rows = diesel::sql_query(selects.join(" UNION ALL "))
            .load::<Row>(&mut *conn)
            .expect("snapshot");
        let mut content: BTreeMap<String, Vec<String>> =
            tables.into_keys().map(|t| (t, Vec::new())).collect();
        for r in rows {
            content.entry(r.tbl).or_default().push(r.row);
        }
        for rows in content.values_mut() {
            rows.sort();
        }
        Snapshot(content)
    }

    /// Asserts that the database holds exactly what `before` recorded, naming each table that
    /// changed and the rows that differ; `what` says what ran in between.
    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot, what: &str) {
        if let Some(changes) = before.changes(&self.snapshot()) {
            panic!("{what} wrote something:\n{changes}");
        }
    }
}

// ---------------------------------------------------------------- what writes record

/// An audit event as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Audit {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub actor_role: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub resource_type: String,
    #[diesel(sql_type = Text)]
    pub resource_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub family_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub student_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub purpose: Option<String>,
}

/// A change record as stored.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Change {
    #[diesel(sql_type = Text)]
    pub school_id: String,
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = Text)]
    pub resource_type: String,
    #[diesel(sql_type = Text)]
    pub resource_id: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub external_id: Option<String>,
    #[diesel(sql_type = Text)]
    pub operation: String,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

/// Every audit event and change record, to compare before and after a write.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub audit: Vec<Audit>,
    pub changes: Vec<Change>,
}

impl Recorded {
    /// What is in `self` and was not in `before`: what the writes in between recorded (audit
    /// events in id order, change records in feed order).
    pub fn since(self, before: &Recorded) -> Recorded {
        Recorded {
            audit: self
                .audit
                .into_iter()
                .filter(|a| !before.audit.contains(a))
                .collect(),
            changes: self
                .changes
                .into_iter()
                .filter(|c| !before.changes.contains(c))
                .collect(),
        }
    }

    /// The audit events as `(action, resource_type, resource_id)`.
    pub fn actions(&self) -> Vec<(String, String, String)> {
        self.audit
            .iter()
            .map(|a| {
                (
                    a.action.clone(),
                    a.resource_type.clone(),
                    a.resource_id.clone(),
                )
            })
            .collect()
    }

    /// The change records as `(resource_type, resource_id, operation, version)`.
    pub fn fed(&self) -> Vec<(String, String, String, i64)> {
        self.changes
            .iter()
            .map(|c| {
                (
                    c.resource_type.clone(),
                    c.resource_id.clone(),
                    c.operation.clone(),
                    c.version,
                )
            })
            .collect()
    }
}

impl TestApp {
    /// Every audit event and change record in the database, read through a plain connection.
    pub fn recorded(&self) -> Recorded {
        let mut conn = self.conn();
        let audit = diesel::sql_query(
            "SELECT id, school_id, actor, actor_role, action, resource_type, resource_id, \
             family_id, student_id, request_id, purpose FROM audit_events ORDER BY id",
        )
        .load::<Audit>(&mut *conn)
        .expect("audit events");
        let changes = diesel::sql_query(
            "SELECT school_id, seq, resource_type, resource_id, external_id, operation, version \
             FROM changes ORDER BY school_id, seq",
        )
        .load::<Change>(&mut *conn)
        .expect("changes");
        Recorded { audit, changes }
    }
}

/// The whole content of a test database: per table, every row as text, in a stable order.
/// Any insert, update or delete in any table makes two snapshots differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<String, Vec<String>>);

impl Snapshot {
    /// How `later` differs from `self`: per changed table, the rows gone and the rows new, and
    /// for a row whose first column (its id) is in both, only the columns that changed; a few
    /// rows of each shown. `None` if nothing differs.
    pub fn changes(&self, later: &Snapshot) -> Option<String> {
        const SHOWN: usize = 3;
        let names: BTreeSet<&String> = self.0.keys().chain(later.0.keys()).collect();
        let mut out = Vec::new();
        for name in names {
            match (self.0.get(name), later.0.get(name)) {
                (Some(a), Some(b)) if a == b => {}
                (Some(a), Some(b)) => {
                    let (mut gone, mut new) = (minus(a, b), minus(b, a));
                    out.push(format!(
                        "table {name}: {} row(s) gone, {} new",
                        gone.len(),
                        new.len()
                    ));
                    let mut changed = Vec::new();
                    gone.retain(|old| match new.iter().position(|n| lead(n) == lead(old)) {
                        Some(i) => {
                            changed.push((*old, new.remove(i)));
                            false
                        }
                        None => true,
                    });
                    out.extend(changed.iter().take(SHOWN).map(|(old, new)| {
                        format!("  ~ {}: {}", lead(old), column_changes(old, new))
                    }));
                    out.extend(gone.iter().take(SHOWN).map(|r| format!("  - {}", clip(r))));
                    out.extend(new.iter().take(SHOWN).map(|r| format!("  + {}", clip(r))));
                }
                (None, _) => out.push(format!("table {name}: created")),
                (_, None) => out.push(format!("table {name}: dropped")),
            }
        }
        (!out.is_empty()).then(|| out.join("\n"))
    }

    /// The tables it holds, by name.
    pub fn tables(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// A row's first `column=literal`: its id or school in the service's tables, enough to show an
/// update as one row's changed columns (the pairing only shapes the message).
fn lead(row: &str) -> &str {
    row.split(", ").next().unwrap_or(row)
}

/// The columns that differ between two versions of a row, `old → new`. Only for reading: a
/// text holding ", " may split oddly here, while equality always compares whole rows.
fn column_changes(old: &str, new: &str) -> String {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.split(", ").collect(), new.split(", ").collect());
    if o.len() != n.len() {
        return format!("{} → {}", clip(old), clip(new));
    }
    o.iter()
        .zip(&n)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("{} → {}", clip(a), clip(b)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// At most 300 characters of a row, for a message.
fn clip(row: &str) -> String {
    match row.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &row[..i]),
        None => row.to_string(),
    }
}

/// The rows of sorted `a` that sorted `b` lacks, duplicates counted.
fn minus<'a>(a: &'a [String], b: &[String]) -> Vec<&'a String> {
    let (mut out, mut j) = (Vec::new(), 0);
    for row in a {
        while j < b.len() && b[j] < *row {
            j += 1;
        }
        if j < b.len() && b[j] == *row {
            j += 1;
        } else {
            out.push(row);
        }
    }
    out
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Store::Postgres { base, schema } = &self.store {
            if let Ok(mut c) = PgConnection::establish(base) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

// ---------------------------------------------------------------- values

/// A time for `set_now`, as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A wire timestamp (RFC 3339) as the UTC time it names, to compare with `at` and the clock.
pub fn time(v: &Value) -> NaiveDateTime {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .naive_utc()
}

/// `base` with the fields of `extra` added or replaced (both JSON objects).
pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

/// The items as sorted strings, to compare lists whose order does not matter.
pub fn sorted<S: ToString>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = items.into_iter().map(|s| s.to_string()).collect();
    out.sort();
    out
}

// ---------------------------------------------------------------- lists

/// The items of a list's first page, as `token` sees it (asserting 200).
pub async fn page(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let res = app.get(path, token).await;
    res.assert_status(200);
    res.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: not a list: {}", res.text))
        .clone()
}

/// The ids of a list's first page as `token` sees it, in the order served.
pub async fn ids(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    page(app, path, token)
        .await
        .iter()
        .map(|i| i["id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// `key` of each item of a list's first page as `token` sees it, sorted.
pub async fn list(app: &TestApp, path: &str, token: &str, key: &str) -> Vec<String> {
    sorted(
        page(app, path, token)
            .await
            .iter()
            .map(|i| i[key].as_str().unwrap_or_default().to_string()),
    )
}

/// The ids of a list's first page as the admin sees it, sorted: the list as a set.
pub async fn id_set(app: &TestApp, path: &str) -> Vec<String> {
    list(app, path, &app.admin(), "id").await
}

// ---------------------------------------------------------------- writes

/// POSTs as the admin and asserts a 201 at version 1 with ETag "1"; returns the answer.
pub async fn create_at(app: &TestApp, path: &str, body: Value) -> Res {
    let res = app.post(path, &app.admin(), body).await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.body["version"], json!(1));
    res
}

/// As `create_at`, and asserts `Location` is `{location_prefix}{id}`; returns the body.
pub async fn create(app: &TestApp, path: &str, body: Value, location_prefix: &str) -> Value {
    let res = create_at(app, path, body).await;
    assert_eq!(
        res.header("location"),
        Some(format!("{location_prefix}{}", res.id()))
    );
    res.body
}

/// A PATCH by the admin sent as `application/merge-patch+json`.
pub async fn merge_patch(app: &TestApp, path: &str, body: Value) -> Res {
    let req = test::TestRequest::patch()
        .uri(path)
        .insert_header(("authorization", format!("Bearer {}", app.admin())))
        .insert_header(("content-type", "application/merge-patch+json"))
        .set_payload(body.to_string())
        .to_request();
    app.send(req).await
}

/// Sends a request that must answer 200 and write nothing (a no-op change, a repeated
/// acknowledgement); returns the answer.
pub async fn unchanged(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Res {
    let before = app.snapshot();
    let res = app
        .call(method.clone(), path, Some(token), body.as_ref(), &[])
        .await;
    res.assert_status(200);
    app.assert_unchanged(&before, &format!("{method} {path}, which changes nothing,"));
    res
}

// ---------------------------------------------------------------- refusals

/// Sends a request that must be refused with `status` as problem+json, writing nothing;
/// returns the answer.
pub async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
) -> Res {
    refused_with(app, method, path, token, body, &[], status).await
}

/// As `refused`, with extra request headers (`If-Match`, `Idempotency-Key`, …).
pub async fn refused_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
    status: u16,
) -> Res {
    let before = app.snapshot();
    let res = app
        .call(method.clone(), path, Some(token), body.as_ref(), headers)
        .await;
    app.assert_unchanged(
        &before,
        &format!("{method} {path}, answered {}: {},", res.status, res.text),
    );
    res.assert_problem(status);
    res
}

/// As `refused`, and the problem's `errors` must name `field`.
pub async fn refused_field(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
    field: &str,
) -> Res {
    let res = refused(app, method, path, token, body, status).await;
    assert!(
        res.error_fields().iter().any(|f| f == field),
        "{path}: expected an error on {field}: {}",
        res.text
    );
    res
}

/// Asserts a 400 from the admin's request, writing nothing, whose `errors` name `field` with
/// `code` and a message.
pub async fn invalid(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
    field: &str,
    code: &str,
) {
    let res = refused(app, method, path, &app.admin(), Some(body.clone()), 400).await;
    let errors = res.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors for {body}: {}", res.text));
    let e = errors
        .iter()
        .find(|e| e["field"] == json!(field) && e["code"] == json!(code))
        .unwrap_or_else(|| panic!("no `{code}` error on `{field}` for {body}: {}", res.text));
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        res.text
    );
}

/// Runs `$body` and asserts that it left every table of the database as it found it (see
/// `TestApp::snapshot`); evaluates to what `$body` gave. For every refusal.
#[macro_export]
macro_rules! assert_nothing_written {
    ($app:expr, $body:expr) => {{
        let before = $app.snapshot();
        let out = $body;
        $app.assert_unchanged(&before, "the refused request");
        out
    }};
}

#[actix_web::test]
async fn the_nothing_written_snapshot_sees_any_change_in_any_table() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let before = app.snapshot();
    // Tables from the catalogue, the newest migration's included; not diesel's bookkeeping.
    for table in ["families", "audit_events", "changes", "change_sequences"] {
        assert!(before.tables().contains(&table), "{:?}", before.tables());
    }
    assert!(!before.tables().contains(&"__diesel_schema_migrations"));
    assert_eq!(
        before.changes(&app.snapshot()),
        None,
        "reading changes nothing"
    );
    // Each write, however small, is seen, and only its table is named.
    for (table, sql) in [
        // NULL becomes the text 'NULL', with no version bump.
        (
            "families",
            format!("UPDATE families SET notes = 'NULL' WHERE id = '{fam}'"),
        ),
        (
            "families",
            format!("UPDATE families SET notes = NULL WHERE id = '{fam}'"),
        ),
        (
            "change_sequences",
            "INSERT INTO change_sequences (school_id, last_seq) VALUES ('school-z', 1)".into(),
        ),
        (
            "change_sequences",
            "UPDATE change_sequences SET last_seq = 2".into(),
        ),
        ("change_sequences", "DELETE FROM change_sequences".into()),
    ] {
        let before = app.snapshot();
        diesel::sql_query(&sql)
            .execute(&mut *app.conn())
            .expect("raw write");
        let changes = before
            .changes(&app.snapshot())
            .unwrap_or_else(|| panic!("{sql}: not seen"));
        let named: Vec<&str> = changes
            .lines()
            .filter(|l| l.starts_with("table "))
            .collect();
        assert_eq!(named.len(), 1, "{sql}: {changes}");
        assert!(
            named[0].starts_with(&format!("table {table}: ")),
            "{sql}: {changes}"
        );
    }
}
