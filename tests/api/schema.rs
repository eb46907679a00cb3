//! The database schema and the published OpenAPI document.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use serde_json::Value;

use crate::support::*;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Tables that hold no school data.
const NOT_SCHOOL_DATA: [&str; 1] = ["__diesel_schema_migrations"];

/// The first column of each index of `table`.
fn leading_index_columns(app: &TestApp, table: &str) -> Vec<String> {
    let mut conn = app.conn();
    if app.is_postgres() {
        diesel::sql_query(
            "SELECT a.attname AS name FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] \
             WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
        )
        .bind::<Text, _>(table)
        .load::<Name>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
    } else {
        #[derive(QueryableByName)]
        struct Col {
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = Integer)]
            seqno: i32,
        }
        let indexes: Vec<Name> =
            diesel::sql_query(format!("SELECT name FROM pragma_index_list('{table}')"))
                .load(&mut *conn)
                .unwrap();
        indexes
            .into_iter()
            .filter_map(|idx| {
                let cols: Vec<Col> = diesel::sql_query(format!(
                    "SELECT name, seqno FROM pragma_index_info('{}')",
                    idx.name
                ))
                .load(&mut *conn)
                .unwrap();
                cols.into_iter().find(|c| c.seqno == 0).map(|c| c.name)
            })
            .collect()
    }
}

#[actix_web::test]
async fn every_school_data_table_has_an_indexed_school_id() {
    let app = TestApp::new().await;
    let tables: Vec<String> = {
        let q = if app.is_postgres() {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        };
        diesel::sql_query(q)
            .load::<Name>(&mut *app.conn())
            .unwrap()
            .into_iter()
            .map(|n| n.name)
            .collect()
    };
    assert!(
        tables.iter().any(|t| t == "families"),
        "schema not found: {tables:?}"
    );
    for table in tables
        .iter()
        .filter(|t| !NOT_SCHOOL_DATA.contains(&t.as_str()))
    {
        let leading = leading_index_columns(&app, table);
        assert!(
            leading.iter().any(|c| c == "school_id"),
            "table {table} has no index that starts with school_id (indexes start with {leading:?})"
        );
    }
}

#[actix_web::test]
async fn the_committed_openapi_document_matches_the_code() {
    let generated = liaison::openapi::to_json(&liaison::openapi::document());
    let path = format!("{}/openapi/v1.json", env!("CARGO_MANIFEST_DIR"));
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, format!("{generated}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/v1.json is out of date: run `UPDATE_OPENAPI=1 cargo test --test api openapi` and commit it"
    );
    // What the service serves is the same document.
    let app = TestApp::new().await;
    let served = app
        .call(
            actix_web::http::Method::GET,
            "/v1/openapi.json",
            None,
            None,
            &[],
        )
        .await;
    served.assert_status(200);
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert!(
        served.body == committed,
        "the served document differs: {}",
        &served.text[..served.text.len().min(300)]
    );
    assert_eq!(committed["openapi"], "3.1.0");
    // Every /v1 operation names its scope and needs the bearer token.
    for (path, item) in committed["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let desc = op["description"].as_str().unwrap_or_default();
            assert!(
                desc.contains("Scope: `"),
                "{method} {path} does not name its scope"
            );
            assert_eq!(
                op["security"][0]["bearer"],
                serde_json::json!([]),
                "{method} {path}"
            );
        }
    }
}

#[actix_web::test]
async fn the_docs_page_is_served_without_the_internet() {
    let app = TestApp::new().await;
    let get = |p: &'static str| app.call(actix_web::http::Method::GET, p, None, None, &[]);
    let page = get("/docs/").await;
    page.assert_status(200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert!(
        !page.text.contains("https://"),
        "the docs page loads something from the internet"
    );
    let init = get("/docs/swagger-initializer.js").await;
    init.assert_status(200);
    assert!(init.text.contains("/v1/openapi.json"));
    assert_eq!(get("/docs/swagger-ui-bundle.js").await.status, 200);
    let redirect = get("/docs").await;
    assert_eq!(redirect.status, 308);
}

/// Every object schema inside `value`, with where it is.
fn inline_objects<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{key}");
                if child.get("properties").is_some() {
                    out.push((here.clone(), child));
                }
                inline_objects(child, here, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                inline_objects(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn a_client_generated_from_the_document_gets_one_class_per_resource_and_every_header() {
    let doc = serde_json::to_value(liaison::openapi::document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    // No object is spelled out again where its component could be named: a generator would make
    // a second class of it (a `PageFamilyDataItem` beside `Family`).
    let mut inline = Vec::new();
    inline_objects(&doc["paths"], "/paths".into(), &mut inline);
    for (name, schema) in schemas {
        inline_objects(schema, format!("/components/schemas/{name}"), &mut inline);
    }
    for (at, schema) in &inline {
        let same: Vec<&String> = schemas
            .iter()
            .filter(|(_, s)| s == schema)
            .map(|(n, _)| n)
            .collect();
        assert!(same.is_empty(), "{at} repeats the schema of {same:?}");
    }
    let mut lists = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // A parameter listed twice makes the document invalid (OpenAPI 3.1 §4.8.10.1), and
            // generators refuse it.
            let mut params: Vec<(&str, &str)> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| (p["in"].as_str().unwrap(), p["name"].as_str().unwrap()))
                .collect();
            let listed = params.len();
            params.sort_unstable();
            params.dedup();
            assert_eq!(
                params.len(),
                listed,
                "{method} {path} lists a parameter twice"
            );
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                assert!(
                    response["headers"]["X-Request-Id"]["schema"]["type"] == "string",
                    "{method} {path} {status} does not declare X-Request-Id"
                );
            }
            let idempotent = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
            if idempotent {
                // A create's 201; an import's 200.
                let ok = responses.get("201").unwrap_or_else(|| &responses["200"]);
                assert!(
                    ok["headers"]["Idempotent-Replayed"].is_object(),
                    "{method} {path} does not declare Idempotent-Replayed"
                );
            }
            // A list is an operation that takes a cursor.
            let is_list = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "cursor"));
            if !is_list {
                assert!(
                    responses
                        .values()
                        .all(|r| r["headers"].get("Link").is_none()),
                    "{method} {path} is no list but declares Link"
                );
                continue;
            }
            lists += 1;
            let ok = &responses["200"];
            assert!(
                ok["headers"]["Link"]["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("rel=\"next\"")),
                "{method} {path} does not declare Link"
            );
            let page = ok["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .unwrap_or_else(|| panic!("{method} {path}: the page is not a component"));
            let items = schemas[page]["properties"]["data"]["items"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .unwrap_or_else(|| panic!("{method} {path}: its items are not a $ref"));
            assert!(
                schemas[items]["properties"].is_object(),
                "{method} {path}: {items}"
            );
            assert_eq!(
                schemas[page]["required"],
                serde_json::json!(["data", "next_cursor"]),
                "{method} {path}: next_cursor is always sent, `null` on the last page"
            );
        }
    }
    assert!(lists >= 9, "only {lists} lists found");
}

/// Checks `body` against the component `name` as a generated client reads it: every required
/// property is there, every property is declared, and `null` only where the schema allows it.
fn conforms(schemas: &Value, name: &str, body: &Value, at: &str) {
    let schema = &schemas[name];
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        assert!(
            body.get(required).is_some(),
            "{at}: {name}.{required} is required but was not sent: {body}"
        );
    }
    for (prop, value) in body.as_object().unwrap() {
        let declared = &schema["properties"][prop];
        assert!(declared.is_object(), "{at}: {name}.{prop} is not declared");
        let nullable = declared["type"]
            .as_array()
            .is_some_and(|t| t.contains(&"null".into()))
            || declared["oneOf"]
                .as_array()
                .is_some_and(|o| o.iter().any(|s| s["type"] == "null"));
        if value.is_null() {
            assert!(nullable, "{at}: {name}.{prop} is null but not nullable");
            continue;
        }
        let target = |s: &Value| {
            s["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_string)
        };
        let nested = target(declared).or_else(|| {
            declared["oneOf"]
                .as_array()
                .and_then(|arms| arms.iter().find_map(target))
        });
        if let Some(inner) = nested.filter(|n| schemas[n]["properties"].is_object()) {
            conforms(schemas, &inner, value, &format!("{at} {prop}"));
        }
        if let (Some(inner), Some(items)) = (target(&declared["items"]), value.as_array()) {
            for item in items {
                conforms(schemas, &inner, item, &format!("{at} {prop}[]"));
            }
        }
    }
}

#[actix_web::test]
async fn answers_send_every_property_the_document_requires_and_no_other() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let doc = serde_json::to_value(liaison::openapi::document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    // Resources with as few fields set as may be: what is unset must still be sent, as null.
    let family = app.family("Minimal").await;
    let guardian = app.guardian_in(&family, "Ada").await;
    let student = app.student_in(&family, "Bo").await;
    app.link(&student, &guardian, serde_json::json!({}))
        .await
        .assert_status(201);
    let communication = app
        .post(
            "/v1/communications",
            &admin,
            serde_json::json!({ "family_id": family, "channel": "phone", "direction": "inbound" }),
        )
        .await;
    communication.assert_status(201);
    let concern = app
        .post(
            "/v1/concerns",
            &admin,
            serde_json::json!({ "family_id": family, "category": "other", "title": "Bus" }),
        )
        .await;
    concern.assert_status(201);
    let applicant = app
        .post(
            "/v1/admissions/applicants",
            &admin,
            serde_json::json!({ "given_name": "Lu", "family_name": "Doe", "guardian": { "name": "Ana" } }),
        )
        .await;
    applicant.assert_status(201);
    let (communication, concern, applicant) = (communication.id(), concern.id(), applicant.id());
    let answers = [
        (format!("/v1/families/{family}"), "Family"),
        (format!("/v1/guardians/{guardian}"), "Guardian"),
        (format!("/v1/students/{student}"), "Student"),
        (
            format!("/v1/students/{student}/guardians/{guardian}"),
            "Link",
        ),
        (
            format!("/v1/communications/{communication}"),
            "Communication",
        ),
        (format!("/v1/concerns/{concern}"), "Concern"),
        ("/v1/settings".to_string(), "Settings"),
        ("/v1/families".to_string(), "Page_Family"),
        (format!("/v1/families/{family}/guardians"), "Page_Guardian"),
        (format!("/v1/families/{family}/students"), "Page_Student"),
        (format!("/v1/students/{student}/guardians"), "Page_Link"),
        ("/v1/communications".to_string(), "Page_Communication"),
        ("/v1/concerns".to_string(), "Page_Concern"),
        (
            format!("/v1/concerns/{concern}/events"),
            "Page_ConcernEvent",
        ),
        (
            format!("/v1/concerns/{concern}/comments"),
            "Page_ConcernComment",
        ),
        (
            format!("/v1/families/{family}/timeline"),
            "Page_TimelineEntry",
        ),
        ("/v1/admissions/stages".to_string(), "Page_Stage"),
        ("/v1/admissions/stages/tour".to_string(), "Stage"),
        (
            format!("/v1/admissions/applicants/{applicant}"),
            "Applicant",
        ),
        ("/v1/admissions/applicants".to_string(), "Page_Applicant"),
        (
            format!("/v1/admissions/applicants/{applicant}/history"),
            "Page_StageStay",
        ),
        ("/v1/admissions/funnel".to_string(), "Funnel"),
        (format!("/v1/families/{}", uuid::Uuid::nil()), "Problem"),
        ("/v1/families?limit=0".to_string(), "Problem"),
    ];
    for (path, name) in answers {
        let res = app.get(&path, &admin).await;
        assert!(res.status < 500, "{path}: {}", res.status);
        conforms(schemas, name, &res.body, &path);
    }
}

#[derive(QueryableByName)]
struct Step {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The steps of SQLite's plan for `sql`.
fn plan_of(app: &TestApp, sql: &str) -> QueryResult<Vec<String>> {
    let steps: Vec<Step> =
        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(&mut *app.conn())?;
    Ok(steps.into_iter().map(|s| s.detail).collect())
}

/// Checks that `table` has more than `over` columns (so the pragma answered), that `index`
/// carries every one of them (a column added without it would send every row back to the
/// table), and that selecting them all, with `rest` after the table's name, is planned as `step`
/// alone: no table lookup and no sort.
fn assert_covering(app: &TestApp, table: &str, over: usize, index: &str, rest: &str, step: &str) {
    let names = |sql: String| -> Vec<String> {
        let rows: Vec<Name> = diesel::sql_query(sql).load(&mut *app.conn()).unwrap();
        rows.into_iter().map(|r| r.name).collect()
    };
    let columns = names(format!("SELECT name FROM pragma_table_info('{table}')"));
    assert!(columns.len() > over, "{columns:?}");
    let left_out = names(format!(
        "SELECT name FROM pragma_table_info('{table}') EXCEPT \
         SELECT name FROM pragma_index_info('{index}')"
    ));
    assert!(
        left_out.is_empty(),
        "columns missing from {index}: {left_out:?}"
    );
    let sql = format!("SELECT {} FROM {table} {rest}", columns.join(", "));
    assert_eq!(plan_of(app, &sql).unwrap(), vec![step.to_string()], "{sql}");
}

/// On SQLite one family's communications are read from an index that carries every column of
/// the table (a column added without it would send every row back to the table), and the
/// planner reads the family's page from it alone, in list order.
#[actix_web::test]
async fn sqlite_reads_a_familys_communications_from_its_covering_index() {
    let app = TestApp::new().await;
    if app.is_postgres() {
        return;
    }
    let fam = app.family("Covered").await;
    let mut logged = Vec::new();
    for at in ["2026-01-05T10:00:00Z", "2026-01-06T10:00:00Z"] {
        let body = serde_json::json!({"family_id": fam, "channel": "phone",
            "direction": "outbound", "occurred_at": at});
        let res = app.post("/v1/communications", &app.admin(), body).await;
        res.assert_status(201);
        logged.insert(0, res.id());
    }
    let path = format!("/v1/communications?family_id={fam}");
    assert_eq!(ids(&app, &path, &app.admin()).await, logged);

    assert_covering(
        &app,
        "communications",
        20,
        "communications_school_family_covering",
        "WHERE school_id = 'a' AND archived_at IS NULL AND family_id IS NOT NULL \
         AND family_id = 'b' ORDER BY occurred_at DESC, id DESC LIMIT 51",
        "SEARCH communications USING COVERING INDEX communications_school_family_covering \
         (school_id=? AND family_id=?)",
    );
}

/// On SQLite the overdue queues compare each due time as the text it is stored as
/// (`CAST(... AS TEXT)`, see `db::types::StoredTime`), and still walk their partial indexes
/// newest first, with no sort. The open follow-ups' index needs `follow_up_due_at IS NOT NULL`
/// written out: SQLite infers it from a comparison on the column, not on the cast. (Which index
/// the planner takes for follow-ups depends on the statistics of a database with rows, so that
/// one is checked by whether it can be used at all: `INDEXED BY` is an error where it cannot.)
#[actix_web::test]
async fn sqlite_overdue_queues_walk_their_partial_indexes() {
    let app = TestApp::new().await;
    if app.is_postgres() {
        return;
    }
    let plan = |sql: &str| plan_of(&app, sql);
    assert_eq!(
        plan(
            "SELECT * FROM concerns WHERE school_id = 'a' \
             AND CAST(due_at AS TEXT) < '2026-12-01 00:00:00' \
             AND first_response_at IS NULL AND resolved_at IS NULL ORDER BY id DESC LIMIT 51"
        )
        .unwrap(),
        vec!["SEARCH concerns USING INDEX concerns_school_unanswered (school_id=?)"],
    );
    let follow_ups = |due: &str| {
        plan(&format!(
            "SELECT * FROM communications INDEXED BY communications_school_open_follow_ups \
             WHERE school_id = 'a' AND archived_at IS NULL AND follow_up_done_at IS NULL \
             {due} ORDER BY occurred_at DESC, id DESC LIMIT 51"
        ))
    };
    assert_eq!(
        follow_ups(
            "AND follow_up_due_at IS NOT NULL \
             AND CAST(follow_up_due_at AS TEXT) < '2026-12-01 00:00:00'"
        )
        .unwrap(),
        vec![
            "SEARCH communications USING INDEX communications_school_open_follow_ups (school_id=?)"
        ],
    );
    assert!(
        follow_ups("AND CAST(follow_up_due_at AS TEXT) < '2026-12-01 00:00:00'").is_err(),
        "without IS NOT NULL written out, the partial index cannot serve the cast"
    );
}

/// On SQLite the families of one language are read from an index that carries every column of
/// the table (a column added without it would send every family back to the table), and the
/// planner reads a page of them from it alone, in list order.
#[actix_web::test]
async fn sqlite_lists_a_languages_families_from_its_covering_index() {
    let app = TestApp::new().await;
    if app.is_postgres() {
        return;
    }
    assert_covering(
        &app,
        "families",
        15,
        "families_school_language_covering",
        "WHERE school_id = 'a' AND archived_at IS NULL AND primary_language = 'es' AND id > 'b' \
         ORDER BY id LIMIT 51",
        "SEARCH families USING COVERING INDEX families_school_language_covering \
         (school_id=? AND primary_language=? AND id>?)",
    );
}
