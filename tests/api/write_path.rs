//! The write path, seen through what it records: every write of a family, guardian, student or
//! link leaves exactly one audit event and one change record per row it writes (a cascade one per
//! row archived), in the write's transaction; a refused or rolled-back write leaves nothing.

use actix_web::http::Method;
use liaison::auth::{Caller, Role};
use liaison::db::{Action, WriteContext};
use liaison::error::ApiError;
use liaison::routes::families::store::FamilyRow;
use liaison::routes::families::FamilyInput;
use serde_json::{json, Value};
use std::collections::BTreeSet;

use crate::assert_nothing_written;
use crate::support::*;

/// Every audit event of the school as the admin reads them, newest first, all pages.
pub async fn all_events(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = "/v1/audit-events?limit=200".to_string();
    loop {
        let res = app.get(&path, &app.admin()).await;
        res.assert_status(200);
        out.extend(res.body["data"].as_array().unwrap().iter().cloned());
        match res.body["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/audit-events?limit=200&cursor={c}"),
            None => return out,
        }
    }
}

/// Every change after `since` as the admin reads them, all pages; and the cursor to go on from.
pub async fn changes_after(app: &TestApp, since: Option<&str>) -> (Vec<Value>, String) {
    let mut out = Vec::new();
    let mut cursor = since.map(str::to_string);
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/changes?limit=200&since={c}"),
            None => "/v1/changes?limit=200".to_string(),
        };
        let res = app.get(&path, &app.admin()).await;
        res.assert_status(200);
        let page = res.body["data"].as_array().unwrap().clone();
        let next = res.body["next_cursor"].as_str().unwrap().to_string();
        let short = page.len() < 200;
        out.extend(page);
        cursor = Some(next);
        if short {
            return (out, cursor.unwrap());
        }
    }
}

/// What the write path has recorded since the last look.
pub struct Ledger {
    seen: BTreeSet<String>,
    cursor: String,
}

/// An audit event as compared here: action, type, record, family, student.
type Event = (String, String, String, Option<String>, Option<String>);
/// A change record as compared here: type, record, external id, operation, version.
type Change = (String, String, Option<String>, String, i64);

fn opt(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl Ledger {
    /// Starts watching: what is recorded so far is not news.
    pub async fn new(app: &TestApp) -> Ledger {
        let seen = all_events(app)
            .await
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect();
        let (_, cursor) = changes_after(app, None).await;
        Ledger { seen, cursor }
    }

    /// The audit events and change records since the last look (raw).
    pub async fn news(&mut self, app: &TestApp) -> (Vec<Value>, Vec<Value>) {
        let events: Vec<Value> = all_events(app)
            .await
            .into_iter()
            .filter(|e| !self.seen.contains(e["id"].as_str().unwrap()))
            .collect();
        for e in &events {
            self.seen.insert(e["id"].as_str().unwrap().to_string());
        }
        let (changes, cursor) = changes_after(app, Some(&self.cursor)).await;
        self.cursor = cursor;
        (events, changes)
    }

    /// Asserts that exactly these events and changes were recorded since the last look, each
    /// event by the admin at the clock's time, and the changes numbered on from the last ones.
    pub async fn expect(
        &mut self,
        app: &TestApp,
        what: &str,
        events: &[Event],
        changes: &[Change],
    ) {
        let (got_events, got_changes) = self.news(app).await;
        let mut got: Vec<Event> = got_events
            .iter()
            .map(|e| {
                assert_eq!(e["actor"], json!("admin-1"), "{what}: {e}");
                assert_eq!(e["actor_role"], json!("admin"), "{what}: {e}");
                assert_eq!(time(&e["occurred_at"]), app.clock.now(), "{what}: {e}");
                (
                    e["action"].as_str().unwrap().to_string(),
                    e["resource_type"].as_str().unwrap().to_string(),
                    e["resource_id"].as_str().unwrap().to_string(),
                    opt(&e["family_id"]),
                    opt(&e["student_id"]),
                )
            })
            .collect();
        got.sort();
        let mut want = events.to_vec();
        want.sort();
        assert_eq!(got, want, "{what}: audit events");
        let seqs: Vec<i64> = got_changes
            .iter()
            .map(|c| c["seq"].as_i64().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "{what}: {seqs:?}"
        );
        let mut got: Vec<Change> = got_changes
            .iter()
            .map(|c| {
                assert_eq!(time(&c["changed_at"]), app.clock.now(), "{what}: {c}");
                (
                    c["type"].as_str().unwrap().to_string(),
                    c["id"].as_str().unwrap().to_string(),
                    opt(&c["external_id"]),
                    c["operation"].as_str().unwrap().to_string(),
                    c["version"].as_i64().unwrap(),
                )
            })
            .collect();
        got.sort();
        let mut want = changes.to_vec();
        want.sort();
        assert_eq!(got, want, "{what}: change records");
    }
}

fn ev(action: &str, kind: &str, id: &str, family: Option<&str>, student: Option<&str>) -> Event {
    (
        action.into(),
        kind.into(),
        id.into(),
        family.map(Into::into),
        student.map(Into::into),
    )
}

fn ch(kind: &str, id: &str, external: Option<&str>, op: &str, version: i64) -> Change {
    (
        kind.into(),
        id.into(),
        external.map(Into::into),
        op.into(),
        version,
    )
}

#[actix_web::test]
async fn every_kind_of_household_write_records_one_event_and_one_change() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let mut l = Ledger::new(&app).await;

    let fam = app
        .post(
            "/v1/families",
            &admin,
            json!({"display_name": "The Does", "external_id": "F-1"}),
        )
        .await
        .id();
    let f = Some(fam.as_str());
    l.expect(
        &app,
        "create a family",
        &[ev("create", "families", &fam, f, None)],
        &[ch("families", &fam, Some("F-1"), "create", 1)],
    )
    .await;

    merge_patch(
        &app,
        &format!("/v1/families/{fam}"),
        json!({"external_id": "F-2"}),
    )
    .await
    .assert_status(200);
    l.expect(
        &app,
        "change a family",
        &[ev("update", "families", &fam, f, None)],
        &[ch("families", &fam, Some("F-2"), "update", 2)],
    )
    .await;

    // A patch that changes nothing writes nothing, records included.
    unchanged(
        &app,
        Method::PATCH,
        &format!("/v1/families/{fam}"),
        &admin,
        Some(json!({"external_id": "F-2"})),
    )
    .await;

    let g = app.guardian_in(&fam, "Ana").await;
    l.expect(
        &app,
        "create a guardian",
        &[ev("create", "guardians", &g, f, None)],
        &[ch("guardians", &g, None, "create", 1)],
    )
    .await;
    merge_patch(
        &app,
        &format!("/v1/guardians/{g}"),
        json!({"given_name": "Ann"}),
    )
    .await
    .assert_status(200);
    l.expect(
        &app,
        "change a guardian",
        &[ev("update", "guardians", &g, f, None)],
        &[ch("guardians", &g, None, "update", 2)],
    )
    .await;

    let s = app
        .post(
            &format!("/v1/families/{fam}/students"),
            &admin,
            json!({"given_name": "Sam", "family_name": "Doe", "external_id": "S-1"}),
        )
        .await
        .id();
    l.expect(
        &app,
        "create a student",
        &[ev("create", "students", &s, f, Some(&s))],
        &[ch("students", &s, Some("S-1"), "create", 1)],
    )
    .await;
    merge_patch(
        &app,
        &format!("/v1/students/{s}"),
        json!({"grade_level": "3"}),
    )
    .await
    .assert_status(200);
    l.expect(
        &app,
        "change a student",
        &[ev("update", "students", &s, f, Some(&s))],
        &[ch("students", &s, Some("S-1"), "update", 2)],
    )
    .await;

    let link = app.link(&s, &g, json!({})).await;
    link.assert_status(201);
    let link = link.id();
    l.expect(
        &app,
        "link a guardian",
        &[ev("create", "links", &link, None, Some(&s))],
        &[ch("links", &link, None, "create", 1)],
    )
    .await;
    merge_patch(
        &app,
        &format!("/v1/students/{s}/guardians/{g}"),
        json!({"lives_with": true}),
    )
    .await
    .assert_status(200);
    l.expect(
        &app,
        "change a link",
        &[ev("update", "links", &link, None, Some(&s))],
        &[ch("links", &link, None, "update", 2)],
    )
    .await;
    app.delete(&format!("/v1/students/{s}/guardians/{g}"), &admin)
        .await
        .assert_status(204);
    l.expect(
        &app,
        "unlink",
        &[ev("archive", "links", &link, None, Some(&s))],
        &[ch("links", &link, None, "archive", 3)],
    )
    .await;
}

#[actix_web::test]
async fn each_archive_cascade_records_every_row_it_archives() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let link_id = |res: Res| {
        res.assert_status(201);
        res.id()
    };

    // A guardian with two links: three archives.
    let fam = app.family("The Does").await;
    let g = app.guardian_in(&fam, "Ana").await;
    let (s1, s2) = (
        app.student_in(&fam, "Sam").await,
        app.student_in(&fam, "Sue").await,
    );
    let l1 = link_id(app.link(&s1, &g, json!({})).await);
    let l2 = link_id(app.link(&s2, &g, json!({})).await);
    let mut l = Ledger::new(&app).await;
    app.delete(&format!("/v1/guardians/{g}"), &admin)
        .await
        .assert_status(204);
    let f = Some(fam.as_str());
    l.expect(
        &app,
        "archive a guardian",
        &[
            ev("archive", "guardians", &g, f, None),
            ev("archive", "links", &l1, None, Some(&s1)),
            ev("archive", "links", &l2, None, Some(&s2)),
        ],
        &[
            ch("guardians", &g, None, "archive", 2),
            ch("links", &l1, None, "archive", 2),
            ch("links", &l2, None, "archive", 2),
        ],
    )
    .await;

    // A student with two links: three archives.
    let (g1, g2) = (
        app.guardian_in(&fam, "Bo").await,
        app.guardian_in(&fam, "Cy").await,
    );
    let l1 = link_id(app.link(&s1, &g1, json!({})).await);
    let l2 = link_id(app.link(&s1, &g2, json!({})).await);
    let mut l = Ledger::new(&app).await;
    app.delete(&format!("/v1/students/{s1}"), &admin)
        .await
        .assert_status(204);
    l.expect(
        &app,
        "archive a student",
        &[
            ev("archive", "students", &s1, f, Some(&s1)),
            ev("archive", "links", &l1, None, Some(&s1)),
            ev("archive", "links", &l2, None, Some(&s1)),
        ],
        &[
            ch("students", &s1, None, "archive", 2),
            ch("links", &l1, None, "archive", 2),
            ch("links", &l2, None, "archive", 2),
        ],
    )
    .await;

    // A family with two guardians, two students and three links: eight archives. A link
    // archived before is not archived again; another family's rows are untouched.
    let fam = app.family("The Roes").await;
    let f = Some(fam.as_str());
    let (g1, g2) = (
        app.guardian_in(&fam, "Rick").await,
        app.guardian_in(&fam, "Rita").await,
    );
    let (s1, s2) = (
        app.student_in(&fam, "Rae").await,
        app.student_in(&fam, "Ron").await,
    );
    let l1 = link_id(app.link(&s1, &g1, json!({})).await);
    let l2 = link_id(app.link(&s1, &g2, json!({})).await);
    let l3 = link_id(app.link(&s2, &g1, json!({})).await);
    link_id(app.link(&s2, &g2, json!({})).await);
    app.delete(&format!("/v1/students/{s2}/guardians/{g2}"), &admin)
        .await
        .assert_status(204);
    let other = app.family("The Zees").await;
    app.guardian_in(&other, "Zed").await;
    let mut l = Ledger::new(&app).await;
    app.set_now(app.clock.now() + chrono::Duration::seconds(5));
    app.delete(&format!("/v1/families/{fam}"), &admin)
        .await
        .assert_status(204);
    l.expect(
        &app,
        "archive a family",
        &[
            ev("archive", "families", &fam, f, None),
            ev("archive", "guardians", &g1, f, None),
            ev("archive", "guardians", &g2, f, None),
            ev("archive", "students", &s1, f, Some(&s1)),
            ev("archive", "students", &s2, f, Some(&s2)),
            ev("archive", "links", &l1, None, Some(&s1)),
            ev("archive", "links", &l2, None, Some(&s1)),
            ev("archive", "links", &l3, None, Some(&s2)),
        ],
        &[
            ch("families", &fam, None, "archive", 2),
            ch("guardians", &g1, None, "archive", 2),
            ch("guardians", &g2, None, "archive", 2),
            ch("students", &s1, None, "archive", 2),
            ch("students", &s2, None, "archive", 2),
            ch("links", &l1, None, "archive", 2),
            ch("links", &l2, None, "archive", 2),
            ch("links", &l3, None, "archive", 2),
        ],
    )
    .await;
}

#[actix_web::test]
async fn a_refused_write_records_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let fam = app
        .post(
            "/v1/families",
            &admin,
            json!({"display_name": "The Does", "external_id": "F-1"}),
        )
        .await
        .id();
    let other = app.family("The Roes").await;
    let g = app.guardian_in(&fam, "Ana").await;
    let s = app.student_in(&fam, "Sam").await;
    app.link(&s, &g, json!({})).await.assert_status(201);
    let stale = [("if-match", "\"7\"")];
    let nobody = uuid::Uuid::now_v7();

    // 412: a stale If-Match, on a change and on each archive (the cascade included).
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/v1/families/{fam}"),
            Some(json!({"display_name": "X"})),
        ),
        (Method::DELETE, format!("/v1/families/{fam}"), None),
        (Method::DELETE, format!("/v1/guardians/{g}"), None),
        (Method::DELETE, format!("/v1/students/{s}"), None),
        (
            Method::DELETE,
            format!("/v1/students/{s}/guardians/{g}"),
            None,
        ),
    ] {
        refused_with(&app, method, &path, &admin, body, &stale, 412).await;
    }
    // 404: no such record.
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/families/{nobody}"),
        &admin,
        Some(json!({"display_name": "X"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::DELETE,
        &format!("/v1/guardians/{nobody}"),
        &admin,
        None,
        404,
    )
    .await;
    // 422: a link to a guardian the school does not have.
    refused(
        &app,
        Method::POST,
        &format!("/v1/students/{s}/guardians"),
        &admin,
        Some(json!({"guardian_id": nobody})),
        422,
    )
    .await;
    // 409: a taken external_id, on a create and on a change (the insert or save fails after
    // the write began).
    refused(
        &app,
        Method::POST,
        "/v1/families",
        &admin,
        Some(json!({"display_name": "Dup", "external_id": "F-1"})),
        409,
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/families/{other}"),
        &admin,
        Some(json!({"external_id": "F-1"})),
        409,
    )
    .await;
    // 400 and 403: refused before any write begins.
    refused(
        &app,
        Method::POST,
        "/v1/families",
        &admin,
        Some(json!({"display_name": ""})),
        400,
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/families",
        &app.token(Role::Teacher),
        Some(json!({"display_name": "T"})),
        403,
    )
    .await;
    // An idempotent replay answers the first write again and records nothing more.
    let key = [("idempotency-key", "k-1")];
    let body = json!({"display_name": "Once"});
    let first = app
        .call(
            Method::POST,
            "/v1/families",
            Some(&admin),
            Some(&body),
            &key,
        )
        .await;
    first.assert_status(201);
    let again = assert_nothing_written!(
        app,
        app.call(
            Method::POST,
            "/v1/families",
            Some(&admin),
            Some(&body),
            &key
        )
        .await
    );
    again.assert_status(201);
    assert_eq!(again.id(), first.id());
}

fn admin_caller(purpose: Option<&str>) -> Caller {
    Caller {
        sub: "admin-1".into(),
        role: Role::Admin,
        school_id: SCHOOL.into(),
        scopes: Role::Admin.scopes(),
        guardian_id: None,
        request_id: None,
        purpose: purpose.map(str::to_string),
    }
}

fn input(name: &str) -> FamilyInput {
    serde_json::from_value(json!({ "display_name": name })).unwrap()
}

#[actix_web::test]
async fn a_write_that_rolls_back_leaves_neither_its_rows_nor_its_records() {
    let app = TestApp::new().await;
    app.family("The Does").await;
    let ctx = || WriteContext {
        caller: admin_caller(None),
        now: app.clock.now(),
    };
    // Created, changed and archived, then refused by the closure: nothing stays.
    let failed = assert_nothing_written!(
        app,
        app.db
            .write(ctx(), |tx| {
                let row = FamilyRow::new(SCHOOL, input("Gone"), tx.now());
                tx.create(&row)?;
                let row = tx.revise(&row, Action::Update, |r| r.display_name = "Again".into())?;
                tx.archive(&row)?;
                Err::<(), _>(ApiError::Conflict("changed my mind".into()))
            })
            .await
    );
    assert!(matches!(failed, Err(ApiError::Conflict(_))), "{failed:?}");

    // Writes committed together (SQLite's group commit; PostgreSQL's pool): the one that fails
    // takes nobody else's records with it, and leaves none of its own.
    let mut ledger = Ledger::new(&app).await;
    let ok = |name: &'static str| {
        app.db.write(ctx(), move |tx| {
            let row = FamilyRow::new(SCHOOL, input(name), tx.now());
            tx.create(&row)?;
            Ok(row.id.to_string())
        })
    };
    let bad = app.db.write(ctx(), |tx| {
        tx.create(&FamilyRow::new(SCHOOL, input("Bad"), tx.now()))?;
        Err::<String, _>(ApiError::internal("boom"))
    });
    let (a, b, c) = futures_util::future::join3(ok("A"), bad, ok("C")).await;
    assert!(b.is_err());
    let (a, c) = (a.unwrap(), c.unwrap());
    ledger
        .expect(
            &app,
            "two of three writes",
            &[
                ev("create", "families", &a, Some(&a), None),
                ev("create", "families", &c, Some(&c), None),
            ],
            &[
                ch("families", &a, None, "create", 1),
                ch("families", &c, None, "create", 1),
            ],
        )
        .await;
}

#[actix_web::test]
async fn the_purpose_is_recorded_and_an_overlong_one_refused_before_anything_is_written() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let body = json!({"display_name": "The Does"});
    // 200 characters (400 bytes): the limit counts characters.
    let purpose = "é".repeat(200);
    let res = app
        .call(
            Method::POST,
            "/v1/families",
            Some(&admin),
            Some(&body),
            &[("x-purpose", &purpose), ("x-request-id", "req-purpose-1")],
        )
        .await;
    res.assert_status(201);
    let fam = res.id();
    let events = all_events(&app).await;
    let e = events
        .iter()
        .find(|e| e["resource_id"] == json!(fam))
        .unwrap();
    assert_eq!(e["purpose"], json!(purpose));
    assert_eq!(e["request_id"], json!("req-purpose-1"));

    // A purpose without X-Purpose is null.
    let plain = app.family("The Roes").await;
    let events = all_events(&app).await;
    let e = events
        .iter()
        .find(|e| e["resource_id"] == json!(plain))
        .unwrap();
    assert_eq!(e["purpose"], Value::Null);
    assert!(e["request_id"].is_string(), "a generated request id: {e}");

    for bad in [
        "x".repeat(201),
        "é".repeat(201),
        "   ".to_string(),
        "line\tbreak".to_string(),
    ] {
        let res = refused_with(
            &app,
            Method::POST,
            "/v1/families",
            &admin,
            Some(body.clone()),
            &[("x-purpose", &bad)],
            400,
        )
        .await;
        assert_eq!(res.error_fields(), ["X-Purpose"], "{}", res.text);
        // On a change and an archive too.
        refused_with(
            &app,
            Method::DELETE,
            &format!("/v1/families/{fam}"),
            &admin,
            None,
            &[("x-purpose", &bad)],
            400,
        )
        .await;
    }
}
