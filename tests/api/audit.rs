//! `/v1/audit-events` (the school's audit log, for `audit:read`) and
//! `/v1/students/{id}/access-log` (who touched a child's records, for the child's guardians and
//! for auditors): filters, pages, who may read them, and that the log is append-only.

use actix_web::http::Method;
use chrono::Duration;
use diesel::prelude::*;
use liaison::auth::Role;
use serde_json::{json, Value};
use std::collections::BTreeSet;

use crate::assert_nothing_written;
use crate::support::*;
use crate::write_path::all_events;

const LOG: &str = "/v1/audit-events";

fn access_log(student: &str) -> String {
    format!("/v1/students/{student}/access-log")
}

/// The ids of the items of a page.
/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn item_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every item of a list walked page by page with `limit`, checking that `next_cursor` and
/// `Link` agree on each page.
async fn walk(app: &TestApp, path: &str, token: &str, limit: u32) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}limit={limit}");
    let mut out = Vec::new();
    loop {
        let res = app.get(&url, token).await;
        res.assert_status(200);
        let data = res.body["data"].as_array().unwrap();
        assert!(data.len() <= limit as usize);
        out.extend(data.iter().cloned());
        match res.body["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(data.len(), limit as usize, "a short page with a next one");
                let link = res.header("link").expect("Link with a next page");
                assert!(link.contains(&format!("cursor={c}")), "{link}");
                url = format!("{path}{sep}limit={limit}&cursor={c}");
            }
            None => {
                assert_eq!(res.header("link"), None);
                return out;
            }
        }
    }
}

#[actix_web::test]
async fn the_log_tells_who_did_what_when_from_which_request_and_why() {
    let app = TestApp::new().await;
    // The creates come before the update whatever the day the test runs.
    app.set_now(at("2026-12-02 09:00:00"));
    let fam = app.family("The Does").await;
    let s = app.student_in(&fam, "Sam").await;
    app.set_now(at("2026-12-02 09:30:00"));
    let res = app
        .call(
            Method::PATCH,
            &format!("/v1/students/{s}"),
            Some(&app.token(Role::Pre)),
            Some(&json!({"grade_level": "4"})),
            &[
                ("x-request-id", "req-42"),
                ("x-purpose", "end-of-year promotion"),
            ],
        )
        .await;
    res.assert_status(200);
    let events = page(&app, LOG, &app.admin()).await;
    assert_eq!(events.len(), 3, "{events:?}");
    let e = &events[0];
    assert_eq!(
        keys(e),
        [
            "action",
            "actor",
            "actor_role",
            "family_id",
            "id",
            "occurred_at",
            "purpose",
            "request_id",
            "resource_id",
            "resource_type",
            "student_id"
        ]
    );
    assert_eq!(e["actor"], json!("pre-1"));
    assert_eq!(e["actor_role"], json!("pre"));
    assert_eq!(e["action"], json!("update"));
    assert_eq!(e["resource_type"], json!("students"));
    assert_eq!(e["resource_id"], json!(s));
    assert_eq!(e["family_id"], json!(fam));
    assert_eq!(e["student_id"], json!(s));
    assert_eq!(e["request_id"], json!("req-42"));
    assert_eq!(e["purpose"], json!("end-of-year promotion"));
    assert_eq!(time(&e["occurred_at"]), at("2026-12-02 09:30:00"));
    assert!(uuid::Uuid::parse_str(e["id"].as_str().unwrap()).is_ok());
    // Newest first: then the student's and the family's creation.
    assert_eq!(events[1]["resource_id"], json!(s));
    assert_eq!(events[1]["action"], json!("create"));
    assert_eq!(events[2]["resource_id"], json!(fam));
    assert_eq!(events[2]["student_id"], Value::Null);
}

#[actix_web::test]
async fn each_filter_narrows_the_log_and_an_unseen_id_matches_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let pre = app.token(Role::Pre);
    app.set_now(at("2026-12-01 08:00:00"));
    let a = app.family("The Does").await;
    let ga = app.guardian_in(&a, "Ana").await;
    app.set_now(at("2026-12-01 09:00:00"));
    let b = app
        .post("/v1/families", &pre, json!({"display_name": "The Roes"}))
        .await
        .id();
    let sb = app
        .post(
            &format!("/v1/families/{b}/students"),
            &pre,
            json!({"given_name": "Rae", "family_name": "Roe"}),
        )
        .await
        .id();
    app.set_now(at("2026-12-01 10:00:00"));
    merge_patch(
        &app,
        &format!("/v1/families/{a}"),
        json!({"notes": "called"}),
    )
    .await
    .assert_status(200);
    let other_fam = app
        .post(
            "/v1/families",
            &app.other_admin(),
            json!({"display_name": "Elsewhere"}),
        )
        .await
        .id();

    let seen = |path: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let mut got: Vec<String> = page(app, &path, &admin)
                .await
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e["action"].as_str().unwrap(),
                        e["resource_id"].as_str().unwrap()
                    )
                })
                .collect();
            got.sort();
            got
        }
    };
    let want = |items: &[(&str, &String)]| {
        let mut v: Vec<String> = items.iter().map(|(a, id)| format!("{a} {id}")).collect();
        v.sort();
        v
    };
    assert_eq!(
        seen(format!("{LOG}?actor=pre-1")).await,
        want(&[("create", &b), ("create", &sb)])
    );
    assert_eq!(
        seen(format!("{LOG}?action=update")).await,
        want(&[("update", &a)])
    );
    assert_eq!(
        seen(format!("{LOG}?resource_type=guardians")).await,
        want(&[("create", &ga)])
    );
    assert_eq!(
        seen(format!("{LOG}?resource_id={a}")).await,
        want(&[("create", &a), ("update", &a)])
    );
    assert_eq!(
        seen(format!("{LOG}?family_id={a}")).await,
        want(&[("create", &a), ("create", &ga), ("update", &a)])
    );
    assert_eq!(
        seen(format!("{LOG}?student_id={sb}")).await,
        want(&[("create", &sb)])
    );
    // `from` is inclusive, `to` exclusive.
    assert_eq!(
        seen(format!("{LOG}?from=2026-12-01T09:00:00Z")).await,
        want(&[("create", &b), ("create", &sb), ("update", &a)])
    );
    assert_eq!(
        seen(format!("{LOG}?to=2026-12-01T09:00:00Z")).await,
        want(&[("create", &a), ("create", &ga)])
    );
    assert_eq!(
        seen(format!(
            "{LOG}?from=2026-12-01T10:00:00%2B01:00&to=2026-12-01T09:00:00.000001Z"
        ))
        .await,
        want(&[("create", &b), ("create", &sb)])
    );
    assert_eq!(
        seen(format!("{LOG}?actor=admin-1&resource_type=families")).await,
        want(&[("create", &a), ("update", &a)])
    );
    // Another school's record, an unknown one, an actor of another school: nothing, not 404.
    for path in [
        format!("{LOG}?family_id={other_fam}"),
        format!("{LOG}?resource_id={other_fam}"),
        format!("{LOG}?student_id={}", uuid::Uuid::now_v7()),
        format!("{LOG}?actor=admin-b"),
        format!("{LOG}?from=2026-12-01T10:00:01Z"),
    ] {
        assert_eq!(seen(path).await, Vec::<String>::new());
    }
    // And that school's own log holds only its own write.
    let theirs = page(&app, LOG, &app.other_admin()).await;
    assert_eq!(item_ids(&theirs).len(), 1);
    assert_eq!(theirs[0]["resource_id"], json!(other_fam));
}

#[actix_web::test]
async fn the_log_pages_newest_first_through_events_of_the_same_instant() {
    let app = TestApp::new().await;
    let start = at("2026-12-01 08:00:00");
    for i in 0..4 {
        app.set_now(start + Duration::minutes(i));
        app.family(&format!("Family {i}")).await;
    }
    // An archive cascade: eight events at one instant.
    app.set_now(start + Duration::minutes(10));
    let fam = app.family("The Does").await;
    let (g1, g2) = (
        app.guardian_in(&fam, "Ana").await,
        app.guardian_in(&fam, "Bo").await,
    );
    let (s1, s2) = (
        app.student_in(&fam, "Sam").await,
        app.student_in(&fam, "Sue").await,
    );
    for (s, g) in [(&s1, &g1), (&s1, &g2), (&s2, &g1)] {
        app.link(s, g, json!({})).await.assert_status(201);
    }
    app.set_now(start + Duration::minutes(20));
    app.delete(&format!("/v1/families/{fam}"), &app.admin())
        .await
        .assert_status(204);

    let all = all_events(&app).await;
    assert_eq!(all.len(), 4 + 8 + 8);
    for limit in [1, 3, 7, 200] {
        let walked = walk(&app, LOG, &app.admin(), limit).await;
        assert_eq!(item_ids(&walked), item_ids(&all), "limit {limit}");
    }
    // Newest first by time, then by id, with no repeats.
    let keys: Vec<(chrono::NaiveDateTime, String)> = all
        .iter()
        .map(|e| {
            (
                time(&e["occurred_at"]),
                e["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(keys.windows(2).all(|w| w[0] > w[1]), "{keys:?}");
    // Filters keep their place across pages, and the Link carries them.
    let archives = walk(&app, &format!("{LOG}?action=archive"), &app.admin(), 3).await;
    assert_eq!(archives.len(), 8);
    assert!(archives.iter().all(|e| e["action"] == json!("archive")));
    let res = app
        .get(&format!("{LOG}?action=archive&limit=3"), &app.admin())
        .await;
    assert!(res.header("link").unwrap().contains("action=archive"));
}

#[actix_web::test]
async fn only_audit_read_reads_the_log() {
    let app = TestApp::new().await;
    app.family("The Does").await;
    let res = assert_nothing_written!(app, app.call(Method::GET, LOG, None, None, &[]).await);
    res.assert_problem(401);
    refused(&app, Method::GET, LOG, "not-a-token", None, 401).await;
    for role in [
        Role::Pre,
        Role::Teacher,
        Role::Counselor,
        Role::Admissions,
        Role::Integration,
    ] {
        let res = refused(&app, Method::GET, LOG, &app.token(role), None, 403).await;
        assert!(res.body["detail"].as_str().unwrap().contains("audit:read"));
    }
    let (fam, g, _) = app.household().await;
    refused(&app, Method::GET, LOG, &app.guardian(&g), None, 403).await;
    // An admin's token narrowed to other scopes.
    let narrowed = app.mint(Role::Admin, SCHOOL, "admin-1", None, Some("families:read"));
    refused(&app, Method::GET, LOG, &narrowed, None, 403).await;
    let auditor = app.mint(Role::Admin, SCHOOL, "auditor", None, Some("audit:read"));
    let events = page(&app, LOG, &auditor).await;
    assert!(events.iter().any(|e| e["resource_id"] == json!(fam)));
    // Another school's admin reads their own (empty) log.
    assert_eq!(
        page(&app, LOG, &app.other_admin()).await,
        Vec::<Value>::new()
    );
}

#[actix_web::test]
async fn a_malformed_filter_is_a_400_naming_what_is_allowed() {
    let app = TestApp::new().await;
    app.family("The Does").await;
    let admin = app.admin();
    for (query, field, needle) in [
        ("action=delete", "action", "archive"),
        ("resource_type=family", "resource_type", "concern_comments"),
        ("family_id=42", "family_id", ""),
        ("student_id=x", "student_id", ""),
        ("from=yesterday", "from", ""),
        ("to=2026-13-01T00:00:00Z", "to", ""),
        ("from=2500-01-01T00:00:00Z", "from", "1900"),
        ("to=1800-01-01T00:00:00Z", "to", "1900"),
        ("actor=", "actor", ""),
        ("limit=0", "limit", ""),
        ("limit=201", "limit", ""),
        ("cursor=bm9wZQ", "cursor", ""),
        ("cursor=not%20base64", "cursor", ""),
        ("colour=red", "colour", ""),
    ] {
        let res = refused(
            &app,
            Method::GET,
            &format!("{LOG}?{query}"),
            &admin,
            None,
            400,
        )
        .await;
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.text);
        assert!(res.text.contains(needle), "{query}: {}", res.text);
    }
}

#[actix_web::test]
async fn the_log_is_append_only() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let admin = app.admin();
    // No route changes or removes an event.
    let id = page(&app, LOG, &admin).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        refused(&app, method.clone(), LOG, &admin, Some(json!({})), 405).await;
        refused(
            &app,
            method,
            &format!("{LOG}/{id}"),
            &admin,
            Some(json!({})),
            404,
        )
        .await;
    }
    // Nor can anyone with the database: the triggers refuse UPDATE and DELETE.
    let before = app.snapshot();
    for sql in [
        "UPDATE audit_events SET actor = 'someone-else'".to_string(),
        format!("UPDATE audit_events SET purpose = 'x' WHERE resource_id = '{fam}'"),
        "DELETE FROM audit_events".to_string(),
        "UPDATE changes SET version = 99".to_string(),
        "DELETE FROM changes".to_string(),
    ] {
        let result = diesel::sql_query(&sql).execute(&mut *app.conn());
        let err = result.expect_err(&sql).to_string();
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if app.is_postgres() {
        for table in ["audit_events", "changes"] {
            let sql = format!("TRUNCATE {table}");
            let err = diesel::sql_query(&sql)
                .execute(&mut *app.conn())
                .expect_err(&sql)
                .to_string();
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
    }
    app.assert_unchanged(&before, "the refused UPDATE and DELETE statements");
}

// ---------------------------------------------------------------- the access log

/// A family: a guardian (`me`) who may see `kid`, not `hidden` (a link without
/// `can_view_records`); a co-parent; and another family's child.
struct Home {
    fam: String,
    me: String,
    kid: String,
    hidden: String,
    other_kid: String,
}

async fn home(app: &TestApp) -> Home {
    let fam = app.family("The Does").await;
    let me = app.guardian_in(&fam, "Ana").await;
    let co = app.guardian_in(&fam, "Luis").await;
    let kid = app.student_in(&fam, "Sam").await;
    let hidden = app.student_in(&fam, "Sue").await;
    app.link(&kid, &me, json!({})).await.assert_status(201);
    app.link(&kid, &co, json!({})).await.assert_status(201);
    app.link(&hidden, &me, json!({"can_view_records": false}))
        .await
        .assert_status(201);
    let other = app.family("The Roes").await;
    let other_kid = app.student_in(&other, "Rae").await;
    Home {
        fam,
        me,
        kid,
        hidden,
        other_kid,
    }
}

#[actix_web::test]
async fn a_guardian_reads_who_touched_their_childs_records_and_never_the_content() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    app.set_now(app.clock.now() + Duration::minutes(5));
    let res = app
        .call(
            Method::PATCH,
            &format!("/v1/students/{}", h.kid),
            Some(&app.token(Role::Counselor)),
            Some(&json!({"has_iep": true})),
            &[("x-purpose", "IEP eligibility meeting")],
        )
        .await;
    // A counselor may not write students: refused, so not in the log.
    res.assert_problem(403);
    app.call(
        Method::PATCH,
        &format!("/v1/students/{}", h.kid),
        Some(&app.token(Role::Pre)),
        Some(&json!({"has_iep": true})),
        &[("x-purpose", "IEP eligibility meeting")],
    )
    .await
    .assert_status(200);

    let token = app.guardian(&h.me);
    let entries = assert_nothing_written!(app, walk(&app, &access_log(&h.kid), &token, 2).await);
    // The student's creation, its two links and the change: newest first.
    let lines: Vec<(String, String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["resource_type"].as_str().unwrap().to_string(),
                e["purpose"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines[0],
        (
            "pre-1".into(),
            "update".into(),
            "students".into(),
            "\"IEP eligibility meeting\"".into()
        )
    );
    let mut rest: Vec<_> = lines[1..].to_vec();
    rest.sort();
    assert_eq!(
        rest,
        [
            (
                "admin-1".into(),
                "create".into(),
                "links".into(),
                "null".into()
            ),
            (
                "admin-1".into(),
                "create".into(),
                "links".into(),
                "null".into()
            ),
            (
                "admin-1".into(),
                "create".into(),
                "students".into(),
                "null".into()
            ),
        ]
    );
    // Who, their role, when, what, which kind of record, why: no record ids, no request ids.
    for e in &entries {
        assert_eq!(
            keys(e),
            [
                "action",
                "actor",
                "actor_role",
                "id",
                "occurred_at",
                "purpose",
                "resource_type"
            ],
            "{e}"
        );
    }
    assert_eq!(entries[0]["actor_role"], json!("pre"));
    assert_eq!(time(&entries[0]["occurred_at"]), app.clock.now());
    // The same log as the admin reads it.
    let admin_view = walk(&app, &access_log(&h.kid), &app.admin(), 200).await;
    assert_eq!(item_ids(&admin_view), item_ids(&entries));

    // A child the guardian may not see, another family's child, an unknown one: 404.
    for s in [&h.hidden, &h.other_kid, &uuid::Uuid::now_v7().to_string()] {
        refused(&app, Method::GET, &access_log(s), &token, None, 404).await;
    }
}

#[actix_web::test]
async fn the_access_log_as_each_role_sees_it() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let path = access_log(&h.kid);
    let res = assert_nothing_written!(app, app.call(Method::GET, &path, None, None, &[]).await);
    res.assert_problem(401);
    // Staff without `audit:read`: 403, naming it.
    for role in [
        Role::Pre,
        Role::Teacher,
        Role::Counselor,
        Role::Admissions,
        Role::Integration,
    ] {
        let res = refused(&app, Method::GET, &path, &app.token(role), None, 403).await;
        assert!(res.body["detail"].as_str().unwrap().contains("audit:read"));
    }
    // A guardian's token narrowed away from `families:read`.
    let narrowed = app.mint(
        Role::Guardian,
        SCHOOL,
        "g",
        Some(&h.me),
        Some("communications:read"),
    );
    refused(&app, Method::GET, &path, &narrowed, None, 403).await;
    // Another school's admin: the child does not exist there.
    refused(&app, Method::GET, &path, &app.other_admin(), None, 404).await;
    // The admin reads any child's, the hidden one's included.
    assert!(!page(&app, &access_log(&h.hidden), &app.admin())
        .await
        .is_empty());
    assert!(!page(&app, &access_log(&h.other_kid), &app.admin())
        .await
        .is_empty());
    // A link that has ended no longer lets the guardian read.
    merge_patch(
        &app,
        &format!("/v1/students/{}/guardians/{}", h.kid, h.me),
        json!({"ends_on": (app.clock.today() - Duration::days(1)).to_string()}),
    )
    .await
    .assert_status(200);
    refused(&app, Method::GET, &path, &app.guardian(&h.me), None, 404).await;
    // An archived child: gone for the guardian, still in the auditor's log.
    app.delete(&format!("/v1/students/{}", h.kid), &app.admin())
        .await
        .assert_status(204);
    let log = page(&app, &path, &app.admin()).await;
    assert_eq!(log[0]["action"], json!("archive"));
    // Malformed input: 400.
    for query in ["?limit=0", "?from=soon", "?actor=admin-1", "?cursor=x"] {
        refused(
            &app,
            Method::GET,
            &format!("{path}{query}"),
            &app.admin(),
            None,
            400,
        )
        .await;
    }
    refused(
        &app,
        Method::GET,
        "/v1/students/not-a-uuid/access-log",
        &app.admin(),
        None,
        400,
    )
    .await;
}

/// The id of the audit event on `resource`, written through the write path; where that kind of
/// record is not on the write path yet, recorded here as the write path would.
async fn event_on(
    app: &TestApp,
    kind: &str,
    resource: &str,
    family: &str,
    student: &str,
) -> Vec<String> {
    let path = format!("{LOG}?resource_id={resource}");
    let found = item_ids(&page(app, &path, &app.admin()).await);
    if !found.is_empty() {
        return found;
    }
    let id = uuid::Uuid::now_v7().to_string();
    diesel::sql_query(format!(
        "INSERT INTO audit_events (id, school_id, occurred_at, actor, actor_role, action, \
         resource_type, resource_id, family_id, student_id, request_id, purpose) VALUES \
         ('{id}', '{SCHOOL}', '{}', 'counselor-1', 'counselor', 'create', '{kind}', \
         '{resource}', '{family}', '{student}', NULL, 'safeguarding')",
        app.clock.now().format("%Y-%m-%d %H:%M:%S%.6f")
    ))
    .execute(&mut *app.conn())
    .unwrap();
    vec![id]
}

#[actix_web::test]
async fn a_guardian_does_not_learn_of_records_kept_among_staff() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let admin = app.admin();
    let comm = |visibility: &str| {
        json!({"family_id": h.fam, "student_id": h.kid, "channel": "phone",
               "direction": "outbound", "visibility": visibility})
    };
    let shared_comm = app
        .post("/v1/communications", &admin, comm("family"))
        .await
        .id();
    let staff_comm = app
        .post("/v1/communications", &admin, comm("staff"))
        .await
        .id();
    let concern = |title: &str| json!({"family_id": h.fam, "student_id": h.kid, "category": "academic", "title": title});
    let shared_concern = app
        .post("/v1/concerns", &admin, concern("Homework"))
        .await
        .id();
    let staff_concern = app
        .post("/v1/concerns", &admin, concern("Welfare"))
        .await
        .id();
    // Kept among staff (as `visibility: staff` makes it).
    diesel::sql_query(format!(
        "UPDATE concerns SET visibility = 'staff' WHERE id = '{staff_concern}'"
    ))
    .execute(&mut *app.conn())
    .unwrap();
    let comment = |concern: &str, visibility: &str| {
        let app = &app;
        let admin = admin.clone();
        let path = format!("/v1/concerns/{concern}/comments");
        let body = json!({"body": "noted", "visibility": visibility});
        async move {
            let res = app.post(&path, &admin, body).await;
            res.assert_status(201);
            res.id()
        }
    };
    let shared_comment = comment(&shared_concern, "family").await;
    let internal_comment = comment(&shared_concern, "internal").await;
    let comment_on_staff_concern = comment(&staff_concern, "family").await;

    let mut shown = Vec::new();
    let mut hidden = Vec::new();
    for (kind, id, visible) in [
        ("communications", &shared_comm, true),
        ("communications", &staff_comm, false),
        ("concerns", &shared_concern, true),
        ("concerns", &staff_concern, false),
        ("concern_comments", &shared_comment, true),
        ("concern_comments", &internal_comment, false),
        ("concern_comments", &comment_on_staff_concern, false),
    ] {
        let events = event_on(&app, kind, id, &h.fam, &h.kid).await;
        if visible {
            shown.extend(events);
        } else {
            hidden.extend(events);
        }
    }
    let guardian_sees: BTreeSet<String> =
        item_ids(&walk(&app, &access_log(&h.kid), &app.guardian(&h.me), 200).await)
            .into_iter()
            .collect();
    let admin_sees: BTreeSet<String> =
        item_ids(&walk(&app, &access_log(&h.kid), &admin, 200).await)
            .into_iter()
            .collect();
    for id in &shown {
        assert!(
            guardian_sees.contains(id),
            "shared record's event {id} missing"
        );
    }
    for id in &hidden {
        assert!(
            !guardian_sees.contains(id),
            "staff-only record's event {id} shown"
        );
        assert!(admin_sees.contains(id), "the auditor sees {id}");
    }
    // The child's own records stay in the guardian's view.
    assert!(guardian_sees.len() >= shown.len() + 3);
}

#[actix_web::test]
async fn a_change_that_moves_a_record_off_a_child_shows_in_that_childs_log() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let family = app.family("Moves").await;
    let (first, second) = (
        app.student_in(&family, "First").await,
        app.student_in(&family, "Second").await,
    );
    let res = app
        .post(
            "/v1/communications",
            &admin,
            json!({"family_id": family, "student_id": first, "channel": "phone", "direction": "inbound"}),
        )
        .await;
    res.assert_status(201);
    let comm = res.id();
    let updates = |log: Vec<Value>| {
        log.into_iter()
            .filter(|e| e["resource_type"] == "communications" && e["action"] == "update")
            .count()
    };
    // Moved from the first child to the second: both logs show the change.
    merge_patch(
        &app,
        &format!("/v1/communications/{comm}"),
        json!({"student_id": second}),
    )
    .await
    .assert_status(200);
    assert_eq!(updates(page(&app, &access_log(&first), &admin).await), 1);
    assert_eq!(updates(page(&app, &access_log(&second), &admin).await), 1);
    // Taken off the second child: the second child's log shows that too.
    merge_patch(
        &app,
        &format!("/v1/communications/{comm}"),
        json!({"student_id": null}),
    )
    .await
    .assert_status(200);
    assert_eq!(updates(page(&app, &access_log(&second), &admin).await), 2);
    assert_eq!(updates(page(&app, &access_log(&first), &admin).await), 1);
}
