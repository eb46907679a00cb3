//! Concerns: the status machine and who may move it, response targets against a held clock,
//! overdue, If-Match races, what a guardian sees and may do, satisfaction, roles, filters,
//! pagination, idempotent creates and the family timeline.

use actix_web::http::Method;
use chrono::{Duration, NaiveDateTime};
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

const C: &str = "/v1/concerns";
const STATUSES: [&str; 5] = ["open", "acknowledged", "in_progress", "resolved", "closed"];

/// The strings of a JSON array, sorted.
fn strs(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect();
    out.sort();
    out
}

/// A family with a guardian (`me`) who sees `kid` but not `hidden` (a link without
/// `can_view_records`), and another family with its own guardian and child.
struct Fx {
    fam: String,
    me: String,
    kid: String,
    hidden: String,
    other: String,
    other_g: String,
    other_kid: String,
}

async fn fx(app: &TestApp) -> Fx {
    let fam = app.family("The Does").await;
    let me = app.guardian_in(&fam, "Ana").await;
    let kid = app.student_in(&fam, "Sam").await;
    let hidden = app.student_in(&fam, "Kit").await;
    app.link(&kid, &me, json!({})).await.assert_status(201);
    app.link(&hidden, &me, json!({"can_view_records": false}))
        .await
        .assert_status(201);
    let other = app.family("The Roes").await;
    let other_g = app.guardian_in(&other, "Rick").await;
    let other_kid = app.student_in(&other, "Rae").await;
    app.link(&other_kid, &other_g, json!({}))
        .await
        .assert_status(201);
    Fx {
        fam,
        me,
        kid,
        hidden,
        other,
        other_g,
        other_kid,
    }
}

/// A concern's body for `fam`, with `extra` fields.
fn new_concern(fam: &str, extra: Value) -> Value {
    merged(
        json!({"family_id": fam, "category": "academic", "title": "Homework load"}),
        extra,
    )
}

/// Raises a concern as `token`, asserting 201; returns the concern.
async fn raise_as(app: &TestApp, token: &str, fam: &str, extra: Value) -> Value {
    let res = app.post(C, token, new_concern(fam, extra)).await;
    res.assert_status(201);
    res.body.clone()
}

/// Raises a concern as the admin; returns its id.
async fn raise(app: &TestApp, fam: &str, extra: Value) -> String {
    let c = raise_as(app, &app.admin(), fam, extra).await;
    c["id"].as_str().expect("id").to_string()
}

async fn get(app: &TestApp, id: &str) -> Value {
    let res = app.get(&format!("{C}/{id}"), &app.admin()).await;
    res.assert_status(200);
    res.body.clone()
}

/// A move's body that is valid if the move is legal.
fn move_body(to: &str) -> Value {
    if to == "resolved" {
        json!({"to": to, "note": "why", "resolution": "fixed"})
    } else {
        json!({"to": to, "note": "why"})
    }
}

async fn go(app: &TestApp, token: &str, id: &str, body: Value) -> Res {
    app.post(&format!("{C}/{id}/transitions"), token, body)
        .await
}

/// Moves a concern from open to `status` along the main path, as the admin.
async fn drive(app: &TestApp, id: &str, status: &str) {
    let n = STATUSES.iter().position(|s| *s == status).expect("status");
    for to in &STATUSES[1..=n] {
        go(app, &app.admin(), id, move_body(to))
            .await
            .assert_status(200);
    }
}

/// The legal moves from `from`, sorted, as the issue states them.
fn legal(closer: bool, from: &str) -> Vec<String> {
    let mut v = match from {
        "open" => vec!["acknowledged"],
        "acknowledged" => vec!["in_progress"],
        "in_progress" => vec!["resolved"],
        "resolved" => vec!["closed", "in_progress"],
        _ => vec![],
    };
    if closer && ["open", "acknowledged", "in_progress"].contains(&from) {
        v.push("closed");
    }
    sorted(v)
}

/// A concern's events as `token` sees them: `(kind, visibility)` in order.
async fn event_kinds(app: &TestApp, id: &str, token: &str) -> Vec<(String, String)> {
    page(app, &format!("{C}/{id}/events"), token)
        .await
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or_default().to_string(),
                e["visibility"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn every_move_from_every_state_for_each_role() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let mut now = at("2030-02-01 08:00:00");
    for role in [Role::Teacher, Role::Counselor, Role::Pre, Role::Admin] {
        let token = app.token(role);
        let closer = matches!(role, Role::Admin | Role::Pre);
        for from in STATUSES {
            let allowed = legal(closer, from);
            // Every illegal move, on one concern that none of them may change.
            let stay = raise(&app, &fam, json!({})).await;
            drive(&app, &stay, from).await;
            let before = get(&app, &stay).await;
            for to in STATUSES.iter().filter(|t| !allowed.iter().any(|a| a == *t)) {
                let path = format!("{C}/{stay}/transitions");
                let res =
                    refused(&app, Method::POST, &path, &token, Some(move_body(to)), 409).await;
                assert_eq!(
                    strs(&res.body["allowed"]),
                    allowed,
                    "{role}: {from} -> {to}"
                );
                let t = res.body["type"].as_str().unwrap_or_default();
                assert!(t.ends_with("illegal-transition"), "{t}");
            }
            assert_eq!(get(&app, &stay).await, before, "{role}: {from} changed");
            // Each legal move, on a fresh concern.
            for to in &allowed {
                let id = raise(&app, &fam, json!({})).await;
                drive(&app, &id, from).await;
                let was = get(&app, &id).await;
                now += Duration::minutes(7);
                app.set_now(now);
                let events_before = app.count("concern_events");
                let res = go(&app, &token, &id, move_body(to)).await;
                res.assert_status(200);
                let c = &res.body;
                let ctx = format!("{role}: {from} -> {to}: {}", res.text);
                assert_eq!(c["status"], json!(to), "{ctx}");
                assert_eq!(
                    c["version"],
                    json!(was["version"].as_i64().unwrap() + 1),
                    "{ctx}"
                );
                assert_eq!(res.header("etag"), Some(format!("\"{}\"", c["version"])));
                assert_eq!(time(&c["updated_at"]), now, "{ctx}");
                assert!(!c["first_response_at"].is_null(), "{ctx}");
                match to.as_str() {
                    "closed" => assert_eq!(time(&c["closed_at"]), now, "{ctx}"),
                    "resolved" => {
                        assert_eq!(time(&c["resolved_at"]), now, "{ctx}");
                        assert_eq!(c["resolution"], json!("fixed"), "{ctx}");
                    }
                    "in_progress" if from == "resolved" => {
                        assert!(
                            c["resolved_at"].is_null(),
                            "reopening keeps resolved_at: {ctx}"
                        )
                    }
                    _ => {}
                }
                assert_eq!(get(&app, &id).await, *c, "{ctx}");
                assert_eq!(app.count("concern_events"), events_before + 1, "{ctx}");
                let events = page(&app, &format!("{C}/{id}/events"), &token).await;
                let e = events.last().expect("an event");
                assert_eq!(e["kind"], json!("transition"), "{ctx}");
                assert_eq!((&e["from"], &e["to"]), (&json!(from), &json!(to)), "{ctx}");
                assert_eq!(e["actor"], json!(format!("{role}-1")), "{ctx}");
                assert_eq!(e["actor_role"], json!(role.to_string()), "{ctx}");
                assert_eq!(e["body"], json!("why"), "{ctx}");
                assert_eq!(time(&e["at"]), now, "{ctx}");
            }
        }
    }
    // Guardians move nothing, from any state.
    let me = app.guardian_in(&fam, "Ana").await;
    let g = app.guardian(&me);
    for from in STATUSES {
        let id = raise(&app, &fam, json!({})).await;
        drive(&app, &id, from).await;
        for to in STATUSES {
            let path = format!("{C}/{id}/transitions");
            refused(&app, Method::POST, &path, &g, Some(move_body(to)), 403).await;
        }
    }
}

#[actix_web::test]
async fn closing_early_needs_a_note_and_resolving_a_resolution() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let (admin, pre, teacher) = (app.admin(), app.token(Role::Pre), app.token(Role::Teacher));
    app.set_now(at("2030-02-01 08:00:00"));
    for from in ["open", "acknowledged", "in_progress"] {
        let id = raise(&app, &fam, json!({})).await;
        drive(&app, &id, from).await;
        let path = format!("{C}/{id}/transitions");
        for token in [&admin, &pre] {
            for body in [json!({"to": "closed"}), json!({"to": "closed", "note": ""})] {
                refused_field(&app, Method::POST, &path, token, Some(body), 400, "note").await;
            }
        }
        app.set_now(at("2030-02-01 09:00:00"));
        let res = go(
            &app,
            &pre,
            &id,
            json!({"to": "closed", "note": "duplicate of another"}),
        )
        .await;
        res.assert_status(200);
        assert_eq!(res.body["status"], json!("closed"));
        assert_eq!(time(&res.body["closed_at"]), at("2030-02-01 09:00:00"));
        assert!(res.body["resolved_at"].is_null());
        let events = page(&app, &format!("{C}/{id}/events"), &admin).await;
        assert_eq!(
            events.last().unwrap()["body"],
            json!("duplicate of another")
        );
    }

    let id = raise(&app, &fam, json!({})).await;
    drive(&app, &id, "in_progress").await;
    let path = format!("{C}/{id}/transitions");
    for body in [
        json!({"to": "resolved"}),
        json!({"to": "resolved", "resolution": ""}),
    ] {
        refused_field(
            &app,
            Method::POST,
            &path,
            &teacher,
            Some(body),
            400,
            "resolution",
        )
        .await;
    }
    app.set_now(at("2030-02-02 10:00:00"));
    let res = go(
        &app,
        &teacher,
        &id,
        json!({"to": "resolved", "resolution": "Moved seats"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(time(&res.body["resolved_at"]), at("2030-02-02 10:00:00"));
    assert_eq!(res.body["resolution"], json!("Moved seats"));
    // Reopening clears resolved_at.
    app.set_now(at("2030-02-03 10:00:00"));
    let res = go(
        &app,
        &teacher,
        &id,
        json!({"to": "in_progress", "note": "still happening"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.body["status"], json!("in_progress"));
    assert!(res.body["resolved_at"].is_null(), "{}", res.text);
    // Resolved again: it already has an answer, which stands unless a new one is given.
    app.set_now(at("2030-02-03 12:00:00"));
    let res = go(&app, &teacher, &id, json!({"to": "resolved"})).await;
    res.assert_status(200);
    assert_eq!(time(&res.body["resolved_at"]), at("2030-02-03 12:00:00"));
    assert_eq!(res.body["resolution"], json!("Moved seats"));
    go(&app, &teacher, &id, json!({"to": "in_progress"}))
        .await
        .assert_status(200);
    app.set_now(at("2030-02-04 10:00:00"));
    let body = json!({"to": "resolved", "resolution": 5});
    refused(&app, Method::POST, &path, &teacher, Some(body), 400).await;
    let res = go(
        &app,
        &teacher,
        &id,
        json!({"to": "resolved", "resolution": "Changed class"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(time(&res.body["resolved_at"]), at("2030-02-04 10:00:00"));
    assert_eq!(res.body["resolution"], json!("Changed class"));
    // Closing a resolved concern needs no note, and any staff may do it.
    app.set_now(at("2030-02-05 10:00:00"));
    let res = go(&app, &teacher, &id, json!({"to": "closed"})).await;
    res.assert_status(200);
    assert_eq!(time(&res.body["closed_at"]), at("2030-02-05 10:00:00"));
    assert_eq!(time(&res.body["resolved_at"]), at("2030-02-04 10:00:00"));
    let res = refused(
        &app,
        Method::POST,
        &path,
        &admin,
        Some(move_body("in_progress")),
        409,
    )
    .await;
    assert_eq!(strs(&res.body["allowed"]), Vec::<String>::new());
    // Malformed moves.
    for body in [
        json!({}),
        json!({"to": "reopened"}),
        json!({"to": "closed", "extra": 1}),
    ] {
        let id = raise(&app, &fam, json!({})).await;
        refused(
            &app,
            Method::POST,
            &format!("{C}/{id}/transitions"),
            &admin,
            Some(body),
            400,
        )
        .await;
    }
}

#[actix_web::test]
async fn due_at_follows_the_priority_targets_and_the_schools_settings() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let (admin, teacher) = (app.admin(), app.token(Role::Teacher));
    let t0 = at("2030-03-01 08:00:00");
    app.set_now(t0);
    let mut by_priority = Vec::new();
    for (p, h) in [("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)] {
        let c = raise_as(&app, &teacher, &fam, json!({"priority": p})).await;
        assert_eq!(time(&c["created_at"]), t0);
        assert_eq!(time(&c["due_at"]), t0 + Duration::hours(h), "{p}");
        assert_eq!(c["overdue"], json!(false));
        assert!(c["first_response_at"].is_null());
        assert_eq!(c["status"], json!("open"));
        assert_eq!(c["raised_by"], json!("teacher-1"));
        assert_eq!(c["raised_by_kind"], json!("staff"));
        by_priority.push(c["id"].as_str().unwrap().to_string());
    }
    let c = raise_as(&app, &teacher, &fam, json!({})).await;
    assert_eq!(c["priority"], json!("normal"));
    assert_eq!(time(&c["due_at"]), t0 + Duration::hours(72));

    let res = app.get("/v1/settings", &teacher).await;
    res.assert_status(200);
    assert_eq!(
        res.body["concern_response_hours"],
        json!({"urgent": 4, "high": 24, "normal": 72, "low": 168})
    );
    let res = app
        .patch(
            "/v1/settings",
            &admin,
            json!({"concern_response_hours": {"urgent": 2}}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        res.body["concern_response_hours"],
        json!({"urgent": 2, "high": 24, "normal": 72, "low": 168})
    );
    let etag = res.header("etag").expect("etag");
    assert_eq!(app.get("/v1/settings", &teacher).await.body, res.body);
    // Bad settings, a stale version: refused, nothing written.
    for body in [
        json!({"concern_response_hours": {"urgent": 0}}),
        json!({"concern_response_hours": {"low": 2161}}),
        json!({"concern_response_hours": {"critical": 1}}),
        json!({"concern_response_hours": {"urgent": "2"}}),
        json!({"escalation": true}),
    ] {
        refused(&app, Method::PATCH, "/v1/settings", &admin, Some(body), 400).await;
    }
    refused_with(
        &app,
        Method::PATCH,
        "/v1/settings",
        &admin,
        Some(json!({"concern_response_hours": {"high": 12}})),
        &[("if-match", "\"0\"")],
        412,
    )
    .await;
    assert_eq!(
        app.get("/v1/settings", &teacher).await.header("etag"),
        Some(etag)
    );

    // Existing concerns keep their due_at; new ones get the new target.
    assert_eq!(
        time(&get(&app, &by_priority[0]).await["due_at"]),
        t0 + Duration::hours(4)
    );
    let t1 = t0 + Duration::hours(1);
    app.set_now(t1);
    let c = raise_as(&app, &teacher, &fam, json!({"priority": "urgent"})).await;
    assert_eq!(time(&c["due_at"]), t1 + Duration::hours(2));
    // Re-prioritising recomputes due_at from created_at, with the current targets.
    let normal = &by_priority[2];
    let res = app
        .patch(
            &format!("{C}/{normal}"),
            &teacher,
            json!({"priority": "urgent"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(time(&res.body["due_at"]), t0 + Duration::hours(2));
    assert_eq!(res.body["overdue"], json!(false));
    let res = app
        .patch(
            &format!("{C}/{normal}"),
            &teacher,
            json!({"priority": "low"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(time(&res.body["due_at"]), t0 + Duration::hours(168));
    let events = page(&app, &format!("{C}/{normal}/events"), &admin).await;
    let changes: Vec<(&Value, &Value)> = events
        .iter()
        .filter(|e| e["kind"] == json!("priority_change"))
        .map(|e| (&e["from"], &e["to"]))
        .collect();
    assert_eq!(
        changes,
        [
            (&json!("normal"), &json!("urgent")),
            (&json!("urgent"), &json!("low"))
        ]
    );
    // A later change of targets does not move it until it is re-prioritised again.
    app.patch(
        "/v1/settings",
        &admin,
        json!({"concern_response_hours": {"low": 100, "high": 10}}),
    )
    .await
    .assert_status(200);
    let res = app
        .patch(
            &format!("{C}/{normal}"),
            &teacher,
            json!({"title": "Reworded"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(time(&res.body["due_at"]), t0 + Duration::hours(168));
    let res = app
        .patch(
            &format!("{C}/{normal}"),
            &teacher,
            json!({"priority": "high"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(time(&res.body["due_at"]), t0 + Duration::hours(10));
    // Now past due: t0 + 10 h < t1 + 10 h.
    app.set_now(t1 + Duration::hours(10));
    assert_eq!(get(&app, normal).await["overdue"], json!(true));
}

#[actix_web::test]
async fn overdue_flips_with_the_clock_and_a_first_response_ends_it() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, teacher, g) = (app.admin(), app.token(Role::Teacher), app.guardian(&f.me));
    let t0 = at("2030-04-01 08:00:00");
    app.set_now(t0);
    let u = raise(&app, &f.fam, json!({"priority": "urgent"})).await;
    let h = raise(&app, &f.fam, json!({"priority": "high"})).await;
    let l = raise(&app, &f.fam, json!({"priority": "low"})).await;
    let overdue = |q: &'static str| {
        let (app, admin) = (&app, &admin);
        async move { sorted(ids(app, &format!("{C}?{q}"), admin).await) }
    };
    assert_eq!(overdue("overdue=true").await, Vec::<String>::new());
    assert_eq!(
        overdue("overdue=false").await,
        sorted(vec![u.clone(), h.clone(), l.clone()])
    );
    // Exactly at due_at it is not yet past due.
    app.set_now(t0 + Duration::hours(4));
    assert_eq!(overdue("overdue=true").await, Vec::<String>::new());
    assert_eq!(get(&app, &u).await["overdue"], json!(false));
    app.set_now(t0 + Duration::hours(4) + Duration::seconds(1));
    assert_eq!(overdue("overdue=true").await, vec![u.clone()]);
    assert_eq!(
        overdue("overdue=false").await,
        sorted(vec![h.clone(), l.clone()])
    );
    assert_eq!(get(&app, &u).await["overdue"], json!(true));
    let listed = page(&app, &format!("{C}?overdue=true"), &admin).await;
    assert_eq!(listed[0]["overdue"], json!(true));
    // Neither an internal note nor the family's own comment is a response to the family.
    let comments = format!("{C}/{u}/comments");
    app.post(&comments, &teacher, json!({"body": "calling them"}))
        .await
        .assert_status(201);
    app.post(&comments, &g, json!({"body": "any news?"}))
        .await
        .assert_status(201);
    assert!(get(&app, &u).await["first_response_at"].is_null());
    assert_eq!(overdue("overdue=true").await, vec![u.clone()]);
    // A family-visible staff comment is.
    let t_reply = t0 + Duration::hours(5);
    app.set_now(t_reply);
    app.post(
        &comments,
        &teacher,
        json!({"body": "We are on it", "visibility": "family"}),
    )
    .await
    .assert_status(201);
    let c = get(&app, &u).await;
    assert_eq!(time(&c["first_response_at"]), t_reply);
    assert_eq!(c["overdue"], json!(false));
    assert_eq!(c["version"], json!(2));
    assert_eq!(overdue("overdue=true").await, Vec::<String>::new());
    // A transition is too, and the first response stays the first.
    let t_ack = t0 + Duration::hours(24) + Duration::seconds(1);
    app.set_now(t_ack);
    assert_eq!(overdue("overdue=true").await, vec![h.clone()]);
    assert_eq!(overdue("overdue=true&priority=high").await, vec![h.clone()]);
    assert_eq!(
        overdue("overdue=true&priority=low").await,
        Vec::<String>::new()
    );
    go(&app, &teacher, &h, json!({"to": "acknowledged"}))
        .await
        .assert_status(200);
    assert_eq!(time(&get(&app, &h).await["first_response_at"]), t_ack);
    app.set_now(t0 + Duration::hours(30));
    go(&app, &teacher, &h, json!({"to": "in_progress"}))
        .await
        .assert_status(200);
    app.post(
        &format!("{C}/{h}/comments"),
        &teacher,
        json!({"body": "update", "visibility": "family"}),
    )
    .await
    .assert_status(201);
    let c = get(&app, &h).await;
    assert_eq!(time(&c["first_response_at"]), t_ack);
    assert_eq!(c["overdue"], json!(false));
    app.post(
        &comments,
        &teacher,
        json!({"body": "again", "visibility": "family"}),
    )
    .await
    .assert_status(201);
    assert_eq!(time(&get(&app, &u).await["first_response_at"]), t_reply);
    // The low one, a week on.
    app.set_now(t0 + Duration::hours(169));
    assert_eq!(overdue("overdue=true").await, vec![l.clone()]);
    assert_eq!(
        overdue("overdue=false").await,
        sorted(vec![u.clone(), h.clone()])
    );
    refused(
        &app,
        Method::GET,
        &format!("{C}?overdue=maybe"),
        &admin,
        None,
        400,
    )
    .await;
}

#[actix_web::test]
async fn of_two_moves_from_one_etag_the_second_gets_412_and_writes_nothing() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let (admin, teacher) = (app.admin(), app.token(Role::Teacher));
    let id = raise(&app, &fam, json!({})).await;
    let res = app.get(&format!("{C}/{id}"), &teacher).await;
    let etag = res.header("etag").expect("etag");
    assert_eq!(etag, "\"1\"");
    let path = format!("{C}/{id}/transitions");
    let first = app
        .call(
            Method::POST,
            &path,
            Some(&teacher),
            Some(&json!({"to": "acknowledged"})),
            &[("if-match", &etag)],
        )
        .await;
    first.assert_status(200);
    assert_eq!(first.header("etag").as_deref(), Some("\"2\""));
    for (token, body) in [
        (&teacher, json!({"to": "acknowledged"})),
        (&admin, json!({"to": "closed", "note": "dup"})),
        (&teacher, json!({"to": "in_progress"})),
    ] {
        refused_with(
            &app,
            Method::POST,
            &path,
            token,
            Some(body),
            &[("if-match", &etag)],
            412,
        )
        .await;
    }
    refused_with(
        &app,
        Method::PATCH,
        &format!("{C}/{id}"),
        &teacher,
        Some(json!({"title": "Changed"})),
        &[("if-match", &etag)],
        412,
    )
    .await;
    let c = get(&app, &id).await;
    assert_eq!(
        (c["status"].clone(), c["version"].clone()),
        (json!("acknowledged"), json!(2))
    );
    let res = app
        .call(
            Method::POST,
            &path,
            Some(&teacher),
            Some(&json!({"to": "in_progress"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["version"], json!(3));

    // Truly at once: two callers send a move from the same ETag together.
    for (a, b) in [
        (json!({"to": "acknowledged"}), json!({"to": "acknowledged"})),
        (
            json!({"to": "acknowledged"}),
            json!({"to": "closed", "note": "dup"}),
        ),
    ] {
        let id = raise(&app, &fam, json!({})).await;
        let path = format!("{C}/{id}/transitions");
        let events = app.count("concern_events");
        let before = app.recorded();
        let send = |token: String, body: Value| {
            let (app, path) = (&app, path.clone());
            async move {
                app.call(
                    Method::POST,
                    &path,
                    Some(&token),
                    Some(&body),
                    &[("if-match", "\"1\"")],
                )
                .await
            }
        };
        let (x, y) = futures_util::future::join(
            send(teacher.clone(), a.clone()),
            send(admin.clone(), b.clone()),
        )
        .await;
        let mut statuses = [x.status, y.status];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "{} / {}", x.text, y.text);
        let winner = if x.status == 200 { &x } else { &y };
        assert_eq!(get(&app, &id).await, winner.body);
        assert_eq!(winner.body["version"], json!(2));
        assert_eq!(app.count("concern_events"), events + 1);
        // The loser rolled back with its records: only the winner's move is audited and fed.
        let r = app.recorded().since(&before);
        assert_eq!(r.actions(), [act("transition", "concerns", &id)]);
        assert_eq!(r.fed(), [fed("concerns", &id, "update", 2)]);
        let actor = if x.status == 200 {
            "teacher-1"
        } else {
            "admin-1"
        };
        assert_eq!(r.audit[0].actor, actor);
    }
}

#[actix_web::test]
async fn a_guardian_sees_their_familys_concerns_and_never_internal_notes() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, teacher, g) = (app.admin(), app.token(Role::Teacher), app.guardian(&f.me));
    let other_g = app.guardian(&f.other_g);
    let family_level = raise(&app, &f.fam, json!({})).await;
    let about_kid = raise(
        &app,
        &f.fam,
        json!({"student_id": f.kid, "assignee": "teacher-1"}),
    )
    .await;
    let about_hidden = raise(&app, &f.fam, json!({"student_id": f.hidden})).await;
    let elsewhere = raise(&app, &f.other, json!({"student_id": f.other_kid})).await;

    // Raising: own family and visible children only; never an assignee.
    let mine = raise_as(
        &app,
        &g,
        &f.fam,
        json!({"student_id": f.kid, "category": "bullying"}),
    )
    .await;
    assert_eq!(mine["raised_by_kind"], json!("family"));
    assert_eq!(mine["raised_by"], json!(format!("guardian-{}", f.me)));
    assert_eq!(mine["status"], json!("open"));
    let mine = mine["id"].as_str().unwrap().to_string();
    let family_level_g = raise_as(&app, &g, &f.fam, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    refused(
        &app,
        Method::POST,
        C,
        &g,
        Some(new_concern(&f.other, json!({}))),
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        C,
        &g,
        Some(new_concern(&f.fam, json!({"student_id": f.hidden}))),
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        C,
        &g,
        Some(new_concern(&f.fam, json!({"assignee": "teacher-1"}))),
        403,
    )
    .await;
    let res = assert_nothing_written!(
        app,
        app.post(
            C,
            &g,
            new_concern(&f.fam, json!({"student_id": f.other_kid}))
        )
        .await
    );
    assert!(matches!(res.status, 404 | 422), "{}", res.text);
    // Staff see who raised it.
    assert_eq!(get(&app, &mine).await["raised_by_kind"], json!("family"));

    // Reading: only what is theirs.
    let seen = sorted(vec![
        family_level.clone(),
        about_kid.clone(),
        mine.clone(),
        family_level_g.clone(),
    ]);
    assert_eq!(sorted(ids(&app, C, &g).await), seen);
    assert_eq!(
        sorted(ids(&app, &format!("{C}?family_id={}", f.fam), &g).await),
        seen
    );
    assert_eq!(
        ids(&app, &format!("{C}?family_id={}", f.other), &g).await,
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&app, &format!("{C}?student_id={}", f.hidden), &g).await,
        Vec::<String>::new()
    );
    assert_eq!(ids(&app, C, &other_g).await, vec![elsewhere.clone()]);
    // A guardian of the family who sees none of its children sees only family-wide concerns.
    let unlinked = app.guardian_in(&f.fam, "Lou").await;
    assert_eq!(
        sorted(ids(&app, C, &app.guardian(&unlinked)).await),
        sorted(vec![family_level.clone(), family_level_g.clone()])
    );
    for id in &seen {
        app.get(&format!("{C}/{id}"), &g).await.assert_status(200);
    }
    for id in [&about_hidden, &elsewhere] {
        for sub in ["", "/comments", "/events"] {
            refused(&app, Method::GET, &format!("{C}/{id}{sub}"), &g, None, 404).await;
        }
        let path = format!("{C}/{id}/comments");
        refused(
            &app,
            Method::POST,
            &path,
            &g,
            Some(json!({"body": "hello?"})),
            404,
        )
        .await;
        refused(
            &app,
            Method::PATCH,
            &format!("{C}/{id}"),
            &g,
            Some(json!({"satisfaction": 5})),
            404,
        )
        .await;
    }

    // Comments: staff default internal; guardians always family.
    let comments = format!("{C}/{about_kid}/comments");
    let res = app
        .post(&comments, &teacher, json!({"body": "Dad is difficult"}))
        .await;
    res.assert_status(201);
    assert_eq!(res.body["visibility"], json!("internal"));
    let internal = res.id();
    let res = app
        .post(
            &comments,
            &teacher,
            json!({"body": "We will call", "visibility": "family"}),
        )
        .await;
    res.assert_status(201);
    let shared = res.id();
    let res = app.post(&comments, &g, json!({"body": "Thank you"})).await;
    res.assert_status(201);
    assert_eq!(res.body["visibility"], json!("family"));
    assert_eq!(res.body["author_role"], json!("guardian"));
    let theirs = res.id();
    let res = app
        .post(
            &comments,
            &g,
            json!({"body": "Again", "visibility": "family"}),
        )
        .await;
    res.assert_status(201);
    let theirs2 = res.id();
    refused(
        &app,
        Method::POST,
        &comments,
        &g,
        Some(json!({"body": "psst", "visibility": "internal"})),
        403,
    )
    .await;
    assert_eq!(
        ids(&app, &comments, &admin).await,
        vec![
            internal.clone(),
            shared.clone(),
            theirs.clone(),
            theirs2.clone()
        ]
    );
    assert_eq!(
        ids(&app, &comments, &g).await,
        vec![shared.clone(), theirs.clone(), theirs2.clone()]
    );
    assert!(!app
        .get(&comments, &g)
        .await
        .text
        .contains("Dad is difficult"));

    // Events: the family does not see assignments, priority changes, edits or internal notes.
    let path = format!("{C}/{about_kid}");
    app.patch(
        &path,
        &admin,
        json!({"priority": "high", "title": "Reworded", "assignee": "pre-1"}),
    )
    .await
    .assert_status(200);
    go(
        &app,
        &teacher,
        &about_kid,
        json!({"to": "acknowledged", "note": "seen"}),
    )
    .await
    .assert_status(200);
    let staff: Vec<String> = event_kinds(&app, &about_kid, &admin)
        .await
        .into_iter()
        .map(|(k, v)| format!("{k}/{v}"))
        .collect();
    let want = [
        "created/family",
        "assignment/internal",
        "comment/internal",
        "comment/family",
        "comment/family",
        "comment/family",
        "priority_change/internal",
        "assignment/internal",
        "edit/internal",
        "transition/family",
    ];
    assert_eq!(sorted(staff), sorted(want));
    let family: Vec<String> = event_kinds(&app, &about_kid, &g)
        .await
        .into_iter()
        .map(|(k, v)| format!("{k}/{v}"))
        .collect();
    assert_eq!(
        family,
        [
            "created/family",
            "comment/family",
            "comment/family",
            "comment/family",
            "transition/family"
        ]
    );
    let res = app.get(&format!("{C}/{about_kid}/events"), &g).await;
    assert!(
        !res.text.contains("Dad is difficult") && !res.text.contains("pre-1"),
        "{}",
        res.text
    );

    // A guardian changes nothing but their rating.
    for body in [
        json!({"title": "Mine now"}),
        json!({"assignee": "teacher-1"}),
        json!({"priority": "urgent"}),
        json!({"description": "more"}),
    ] {
        refused(
            &app,
            Method::PATCH,
            &format!("{C}/{mine}"),
            &g,
            Some(body),
            403,
        )
        .await;
    }
    let path = format!("{C}/{mine}/transitions");
    refused(
        &app,
        Method::POST,
        &path,
        &g,
        Some(json!({"to": "acknowledged"})),
        403,
    )
    .await;
}

#[actix_web::test]
async fn the_family_rates_a_resolved_concern_once() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, teacher, g) = (app.admin(), app.token(Role::Teacher), app.guardian(&f.me));
    let id = raise(&app, &f.fam, json!({"student_id": f.kid})).await;
    let path = format!("{C}/{id}");
    for state in ["open", "acknowledged", "in_progress"] {
        if state != "open" {
            go(&app, &admin, &id, move_body(state))
                .await
                .assert_status(200);
        }
        refused(
            &app,
            Method::PATCH,
            &path,
            &g,
            Some(json!({"satisfaction": 4})),
            409,
        )
        .await;
    }
    go(&app, &admin, &id, move_body("resolved"))
        .await
        .assert_status(200);
    for s in [0, 6] {
        refused_field(
            &app,
            Method::PATCH,
            &path,
            &g,
            Some(json!({"satisfaction": s})),
            400,
            "satisfaction",
        )
        .await;
    }
    refused(
        &app,
        Method::PATCH,
        &path,
        &g,
        Some(json!({"satisfaction": 4, "title": "x"})),
        403,
    )
    .await;
    for token in [&admin, &teacher] {
        refused(
            &app,
            Method::PATCH,
            &path,
            token,
            Some(json!({"satisfaction": 4})),
            403,
        )
        .await;
    }
    let at_rating = at("2030-05-01 12:00:00");
    app.set_now(at_rating);
    let was = get(&app, &id).await["version"].as_i64().unwrap();
    let res = app.patch(&path, &g, json!({"satisfaction": 4})).await;
    res.assert_status(200);
    assert_eq!(res.body["satisfaction"], json!(4));
    assert_eq!(res.body["version"], json!(was + 1));
    assert_eq!(res.body["status"], json!("resolved"));
    let events = page(&app, &format!("{C}/{id}/events"), &g).await;
    let e = events.last().unwrap();
    assert_eq!(
        (&e["kind"], &e["to"]),
        (&json!("satisfaction"), &json!("4"))
    );
    assert_eq!(e["actor"], json!(format!("guardian-{}", f.me)));
    assert_eq!(time(&e["at"]), at_rating);
    // Once only.
    for body in [
        json!({"satisfaction": 5}),
        json!({"satisfaction": 1}),
        json!({"satisfaction": null}),
    ] {
        refused(&app, Method::PATCH, &path, &g, Some(body), 409).await;
    }
    for body in [json!({"satisfaction": 5}), json!({"satisfaction": null})] {
        refused(&app, Method::PATCH, &path, &admin, Some(body), 403).await;
    }
    assert_eq!(get(&app, &id).await["satisfaction"], json!(4));
    // A closed concern can be rated too.
    let closed = raise(&app, &f.fam, json!({})).await;
    drive(&app, &closed, "closed").await;
    let res = app
        .patch(&format!("{C}/{closed}"), &g, json!({"satisfaction": 2}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["satisfaction"], json!(2));
    // Closed early without a resolution: the family may still rate it.
    let early = raise(&app, &f.fam, json!({})).await;
    go(
        &app,
        &admin,
        &early,
        json!({"to": "closed", "note": "withdrawn"}),
    )
    .await
    .assert_status(200);
    app.patch(&format!("{C}/{early}"), &g, json!({"satisfaction": 3}))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn staff_roles_work_concerns_and_others_are_refused() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    for role in [Role::Admin, Role::Pre, Role::Teacher, Role::Counselor] {
        let t = app.token(role);
        let c = raise_as(&app, &t, &f.fam, json!({"student_id": f.kid})).await;
        let id = c["id"].as_str().unwrap();
        assert_eq!(c["raised_by"], json!(format!("{role}-1")));
        app.get(&format!("{C}/{id}"), &t).await.assert_status(200);
        assert!(ids(&app, C, &t).await.iter().any(|i| i == id), "{role}");
        app.patch(
            &format!("{C}/{id}"),
            &t,
            json!({"title": "Edited", "assignee": "teacher-1"}),
        )
        .await
        .assert_status(200);
        go(&app, &t, id, json!({"to": "acknowledged"}))
            .await
            .assert_status(200);
        app.post(&format!("{C}/{id}/comments"), &t, json!({"body": "noted"}))
            .await
            .assert_status(201);
        app.get(&format!("{C}/{id}/comments"), &t)
            .await
            .assert_status(200);
        app.get(&format!("{C}/{id}/events"), &t)
            .await
            .assert_status(200);
        app.get("/v1/settings", &t).await.assert_status(200);
        let patch = json!({"concern_response_hours": {"normal": 48}});
        if role == Role::Admin {
            app.patch("/v1/settings", &t, patch)
                .await
                .assert_status(200);
        } else {
            refused(&app, Method::PATCH, "/v1/settings", &t, Some(patch), 403).await;
        }
    }
    let id = raise(&app, &f.fam, json!({})).await;
    let read_only = app.mint(
        Role::Teacher,
        SCHOOL,
        "teacher-ro",
        None,
        Some("concerns:read families:read"),
    );
    let g = app.guardian(&f.me);
    let callers = [
        (app.token(Role::Admissions), true),
        (app.token(Role::Integration), true),
        (read_only.clone(), false),
    ];
    for (t, no_read) in &callers {
        let writes = [
            (
                Method::POST,
                C.to_string(),
                Some(new_concern(&f.fam, json!({}))),
            ),
            (
                Method::PATCH,
                format!("{C}/{id}"),
                Some(json!({"title": "x"})),
            ),
            (
                Method::POST,
                format!("{C}/{id}/transitions"),
                Some(json!({"to": "acknowledged"})),
            ),
            (
                Method::POST,
                format!("{C}/{id}/comments"),
                Some(json!({"body": "x"})),
            ),
            (
                Method::PATCH,
                "/v1/settings".to_string(),
                Some(json!({"concern_response_hours": {"low": 1}})),
            ),
        ];
        for (m, path, body) in writes {
            refused(&app, m, &path, t, body, 403).await;
        }
        for path in [
            C.to_string(),
            format!("{C}/{id}"),
            format!("{C}/{id}/comments"),
            format!("{C}/{id}/events"),
            "/v1/settings".to_string(),
        ] {
            if *no_read {
                refused(&app, Method::GET, &path, t, None, 403).await;
            } else {
                app.get(&path, t).await.assert_status(200);
            }
        }
    }
    for (m, body) in [
        (Method::GET, None),
        (
            Method::PATCH,
            Some(json!({"concern_response_hours": {"low": 1}})),
        ),
    ] {
        refused(&app, m, "/v1/settings", &g, body, 403).await;
    }
    // Another school: as if the concern did not exist.
    let stranger = app.other_admin();
    refused(
        &app,
        Method::GET,
        &format!("{C}/{id}"),
        &stranger,
        None,
        404,
    )
    .await;
    assert_eq!(ids(&app, C, &stranger).await, Vec::<String>::new());
    refused(
        &app,
        Method::POST,
        &format!("{C}/{id}/transitions"),
        &stranger,
        Some(json!({"to": "acknowledged"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("{C}/{id}/comments"),
        &stranger,
        Some(json!({"body": "x"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &format!("{C}/{id}"),
        &stranger,
        Some(json!({"title": "x"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        C,
        &stranger,
        Some(new_concern(&f.fam, json!({}))),
        404,
    )
    .await;
    // No token at all.
    let res = assert_nothing_written!(
        app,
        app.call(
            Method::POST,
            C,
            None,
            Some(&new_concern(&f.fam, json!({}))),
            &[]
        )
        .await
    );
    res.assert_problem(401);
}

#[actix_web::test]
async fn edits_assignment_and_the_concern_timeline() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, teacher, counselor) = (
        app.admin(),
        app.token(Role::Teacher),
        app.token(Role::Counselor),
    );
    let t0 = at("2030-06-01 08:00:00");
    app.set_now(t0);
    let c = raise_as(
        &app,
        &teacher,
        &f.fam,
        json!({"assignee": "counselor-1", "description": "Details"}),
    )
    .await;
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["assignee"], json!("counselor-1"));
    let other = raise(&app, &f.fam, json!({})).await;
    assert_eq!(
        ids(&app, &format!("{C}?assignee=me"), &counselor).await,
        vec![id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{C}?assignee=me"), &teacher).await,
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&app, &format!("{C}?assignee=counselor-1"), &admin).await,
        vec![id.clone()]
    );
    let path = format!("{C}/{id}");
    app.set_now(t0 + Duration::hours(1));
    let res = app
        .patch(&path, &admin, json!({"assignee": "teacher-1"}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["assignee"], json!("teacher-1"));
    assert_eq!(
        ids(&app, &format!("{C}?assignee=me"), &teacher).await,
        vec![id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{C}?assignee=me"), &counselor).await,
        Vec::<String>::new()
    );
    app.set_now(t0 + Duration::hours(2));
    let res = app
        .patch(
            &path,
            &teacher,
            json!({"category": "behavior", "description": null, "student_id": f.kid}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["category"], json!("behavior"));
    assert!(res.body["description"].is_null());
    assert_eq!(res.body["student_id"], json!(f.kid));
    // A patch that changes nothing writes nothing.
    let v = res.body["version"].clone();
    let res = unchanged(
        &app,
        Method::PATCH,
        &path,
        &teacher,
        Some(json!({"category": "behavior"})),
    )
    .await;
    assert_eq!(res.body["version"], v);
    // Status and the derived times are not editable; a student must go with the family.
    for (body, field) in [
        (json!({"status": "closed"}), "status"),
        (json!({"due_at": "2031-01-01T00:00:00Z"}), "due_at"),
        (
            json!({"first_response_at": "2030-06-01T09:00:00Z"}),
            "first_response_at",
        ),
        (json!({"resolution": "done"}), "resolution"),
        (json!({"family_id": f.other}), "family_id"),
        (json!({"priority": "critical"}), "priority"),
        (json!({"title": ""}), "title"),
        (json!({"title": null}), "title"),
    ] {
        refused_field(&app, Method::PATCH, &path, &teacher, Some(body), 400, field).await;
    }
    let res = refused(
        &app,
        Method::PATCH,
        &path,
        &teacher,
        Some(json!({"student_id": f.other_kid})),
        422,
    )
    .await;
    assert!(
        res.error_fields().iter().any(|f| f == "student_id"),
        "{}",
        res.text
    );
    // Creates validate too.
    for (body, field) in [
        (
            new_concern(&f.fam, json!({"category": "gossip"})),
            "category",
        ),
        (new_concern(&f.fam, json!({"priority": "asap"})), "priority"),
        (new_concern(&f.fam, json!({"title": ""})), "title"),
        (new_concern(&f.fam, json!({"status": "closed"})), "status"),
        (
            new_concern(&f.fam, json!({"due_at": "2031-01-01T00:00:00Z"})),
            "due_at",
        ),
        (json!({"family_id": f.fam, "title": "x"}), "category"),
    ] {
        refused_field(&app, Method::POST, C, &teacher, Some(body), 400, field).await;
    }
    let res = refused(
        &app,
        Method::POST,
        C,
        &teacher,
        Some(new_concern(&f.fam, json!({"student_id": f.other_kid}))),
        422,
    )
    .await;
    assert!(
        res.error_fields().iter().any(|f| f == "student_id"),
        "{}",
        res.text
    );
    refused(
        &app,
        Method::POST,
        C,
        &teacher,
        Some(new_concern(&uuid::Uuid::now_v7().to_string(), json!({}))),
        404,
    )
    .await;

    app.set_now(t0 + Duration::hours(3));
    go(&app, &teacher, &id, json!({"to": "acknowledged"}))
        .await
        .assert_status(200);
    app.post(
        &format!("{C}/{id}/comments"),
        &teacher,
        json!({"body": "Met the teacher", "visibility": "family"}),
    )
    .await
    .assert_status(201);
    let events = page(&app, &format!("{C}/{id}/events"), &admin).await;
    let got: Vec<(String, String, Value, Value, NaiveDateTime)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["from"].clone(),
                e["to"].clone(),
                time(&e["at"]),
            )
        })
        .collect();
    let h = |n| t0 + Duration::hours(n);
    let s = |v: &str| json!(v);
    assert_eq!(
        got,
        vec![
            (
                "created".into(),
                "teacher-1".into(),
                Value::Null,
                s("open"),
                h(0)
            ),
            (
                "assignment".into(),
                "teacher-1".into(),
                Value::Null,
                s("counselor-1"),
                h(0)
            ),
            (
                "assignment".into(),
                "admin-1".into(),
                s("counselor-1"),
                s("teacher-1"),
                h(1)
            ),
            (
                "edit".into(),
                "teacher-1".into(),
                Value::Null,
                Value::Null,
                h(2)
            ),
            (
                "transition".into(),
                "teacher-1".into(),
                s("open"),
                s("acknowledged"),
                h(3)
            ),
            (
                "comment".into(),
                "teacher-1".into(),
                Value::Null,
                Value::Null,
                h(3)
            ),
        ]
    );
    assert_eq!(events[5]["body"], json!("Met the teacher"));
    // Events page like any list.
    let res = app.get(&format!("{C}/{id}/events?limit=4"), &admin).await;
    res.assert_status(200);
    assert_eq!(res.body["data"].as_array().unwrap().len(), 4);
    let cursor = res.body["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    assert!(res.header("link").is_some());
    let rest = ids(
        &app,
        &format!("{C}/{id}/events?limit=4&cursor={cursor}"),
        &admin,
    )
    .await;
    assert_eq!(
        rest,
        vec![
            events[4]["id"].as_str().unwrap().to_string(),
            events[5]["id"].as_str().unwrap().to_string()
        ]
    );
    for q in ["events?limit=0", "comments?kind=edit"] {
        refused(
            &app,
            Method::GET,
            &format!("{C}/{id}/{q}"),
            &admin,
            None,
            400,
        )
        .await;
    }
    app.get(&format!("{C}/{other}/events"), &admin)
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn filters_narrow_the_list_and_pages_follow_the_cursor() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admin = app.admin();
    let t0 = at("2030-07-01 08:00:00");
    app.set_now(t0);
    let a = raise(&app, &f.fam, json!({"priority": "urgent", "category": "safety", "student_id": f.kid, "assignee": "pre-1"})).await;
    let b = raise(&app, &f.fam, json!({"priority": "low", "category": "fees"})).await;
    let c = raise(
        &app,
        &f.other,
        json!({"category": "safety", "student_id": f.other_kid}),
    )
    .await;
    let d = raise(&app, &f.other, json!({"priority": "urgent"})).await;
    app.set_now(t0 + Duration::hours(1));
    let e = raise(
        &app,
        &f.fam,
        json!({"category": "transport", "student_id": f.hidden}),
    )
    .await;
    drive(&app, &b, "acknowledged").await;
    drive(&app, &c, "in_progress").await;
    drive(&app, &d, "closed").await;
    app.set_now(t0 + Duration::hours(2));
    app.patch(&format!("{C}/{a}"), &admin, json!({"title": "Renamed"}))
        .await
        .assert_status(200);
    let all = vec![e.clone(), d.clone(), c.clone(), b.clone(), a.clone()];
    assert_eq!(ids(&app, C, &admin).await, all, "newest first");
    let cases: Vec<(String, Vec<&String>)> = vec![
        ("status=open".into(), vec![&a, &e]),
        ("status=open,acknowledged".into(), vec![&a, &b, &e]),
        ("status=in_progress,closed".into(), vec![&c, &d]),
        ("status=resolved".into(), vec![]),
        ("priority=urgent".into(), vec![&a, &d]),
        ("priority=normal".into(), vec![&c, &e]),
        ("category=safety".into(), vec![&a, &c]),
        ("category=safety&status=open".into(), vec![&a]),
        ("assignee=pre-1".into(), vec![&a]),
        (format!("family_id={}", f.fam), vec![&a, &b, &e]),
        (format!("family_id={}&priority=urgent", f.other), vec![&d]),
        (format!("student_id={}", f.kid), vec![&a]),
        (format!("student_id={}", f.hidden), vec![&e]),
        (
            "updated_since=2030-07-01T09:00:00Z".into(),
            vec![&a, &b, &c, &d, &e],
        ),
        ("updated_since=2030-07-01T09:00:01Z".into(), vec![&a]),
        ("updated_since=2030-07-01T10:00:00Z".into(), vec![&a]),
        ("updated_since=2030-07-01T10:00:00.000001Z".into(), vec![]),
    ];
    for (q, want) in cases {
        let got = sorted(ids(&app, &format!("{C}?{q}"), &admin).await);
        assert_eq!(got, sorted(want), "{q}");
    }
    let pre = app.token(Role::Pre);
    assert_eq!(
        ids(&app, &format!("{C}?assignee=me"), &pre).await,
        vec![a.clone()]
    );
    for q in [
        "status=reopened",
        "status=open,bogus",
        "status=",
        "priority=critical",
        "category=gossip",
        "overdue=1x",
        "family_id=not-a-uuid",
        "updated_since=yesterday",
        "limit=0",
        "limit=201",
        "cursor=bogus",
        "sort=title",
    ] {
        let res = refused(&app, Method::GET, &format!("{C}?{q}"), &admin, None, 400).await;
        let name = q.split('=').next().unwrap();
        assert!(
            res.error_fields().iter().any(|f| f == name),
            "{q}: {}",
            res.text
        );
    }
    // Pages of two, by next_cursor and by Link, keeping the filter.
    let mut seen = Vec::new();
    let mut next = Some(format!("{C}?limit=2"));
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages <= 5, "the pages never end");
        let res = app.get(&path, &admin).await;
        res.assert_status(200);
        let data = res.body["data"].as_array().unwrap();
        seen.extend(data.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        let cursor = res.body["next_cursor"].as_str().map(str::to_string);
        assert_eq!(
            cursor.is_some(),
            res.header("link").is_some(),
            "{}",
            res.text
        );
        assert_eq!(data.len(), if cursor.is_some() { 2 } else { 1 });
        next = cursor.map(|c| format!("{C}?limit=2&cursor={c}"));
    }
    assert_eq!((seen, pages), (all, 3));
    let res = app
        .get(&format!("{C}?family_id={}&limit=2", f.fam), &admin)
        .await;
    let link = res.header("link").expect("link");
    assert!(
        link.contains(&format!("family_id={}", f.fam)) && link.contains("limit=2"),
        "{link}"
    );
    let inner = link.trim_start_matches('<');
    let next = &inner[..inner.find('>').unwrap()];
    assert_eq!(ids(&app, next, &admin).await, vec![a.clone()]);
}

#[actix_web::test]
async fn a_retried_create_with_its_idempotency_key_replays_the_first_answer() {
    let app = TestApp::new().await;
    let fam = app.family("The Does").await;
    let teacher = app.token(Role::Teacher);
    let body = new_concern(&fam, json!({"priority": "high"}));
    let first = app
        .call(
            Method::POST,
            C,
            Some(&teacher),
            Some(&body),
            &[("idempotency-key", "k-1")],
        )
        .await;
    first.assert_status(201);
    let id = first.id();
    assert_eq!(first.header("location"), Some(format!("{C}/{id}")));
    let before = app.snapshot();
    app.set_now(app.clock.now() + Duration::minutes(5));
    let again = app
        .call(
            Method::POST,
            C,
            Some(&teacher),
            Some(&body),
            &[("idempotency-key", "k-1")],
        )
        .await;
    again.assert_status(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    app.assert_unchanged(&before, "the replayed create");
    let other = new_concern(&fam, json!({"priority": "low"}));
    refused_with(
        &app,
        Method::POST,
        C,
        &teacher,
        Some(other.clone()),
        &[("idempotency-key", "k-1")],
        422,
    )
    .await;
    // Another key is another concern.
    let res = app
        .call(
            Method::POST,
            C,
            Some(&teacher),
            Some(&body),
            &[("idempotency-key", "k-2")],
        )
        .await;
    res.assert_status(201);
    assert_ne!(res.id(), id);
    assert_eq!(app.count("concerns"), 2);
    // Comments replay too.
    let path = format!("{C}/{id}/comments");
    let comment = json!({"body": "hi", "visibility": "family"});
    let one = app
        .call(
            Method::POST,
            &path,
            Some(&teacher),
            Some(&comment),
            &[("idempotency-key", "c-1")],
        )
        .await;
    one.assert_status(201);
    let before = app.snapshot();
    let two = app
        .call(
            Method::POST,
            &path,
            Some(&teacher),
            Some(&comment),
            &[("idempotency-key", "c-1")],
        )
        .await;
    two.assert_status(201);
    assert_eq!(two.body, one.body);
    app.assert_unchanged(&before, "the replayed comment");
}

#[actix_web::test]
async fn the_family_timeline_merges_concerns_with_communications() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admin = app.admin();
    let mut all: Vec<(NaiveDateTime, String, &str)> = Vec::new();
    let comm = |occurred: &str| {
        let app = &app;
        let fam = f.fam.clone();
        let occurred = occurred.to_string();
        async move {
            let res = app
                .post(
                    "/v1/communications",
                    &app.admin(),
                    json!({"family_id": fam, "channel": "phone", "direction": "outbound", "occurred_at": occurred}),
                )
                .await;
            res.assert_status(201);
            (time(&json!(occurred)), res.id())
        }
    };
    let (t, id) = comm("2030-01-01T10:00:00Z").await;
    all.push((t, id, "communication"));
    let (t, id) = comm("2030-01-03T10:00:00Z").await;
    all.push((t, id, "communication"));
    let (t, id) = comm("2030-01-05T10:00:00Z").await;
    all.push((t, id, "communication"));
    let mut hidden = None;
    for (now, extra) in [
        ("2030-01-02 10:00:00", json!({})),
        ("2030-01-03 10:00:00", json!({"student_id": f.kid})),
        ("2030-01-04 10:00:00", json!({"student_id": f.hidden})),
        ("2030-01-06 10:00:00", json!({})),
    ] {
        app.set_now(at(now));
        let id = raise(&app, &f.fam, extra.clone()).await;
        if extra.get("student_id") == Some(&json!(f.hidden)) {
            hidden = Some(id.clone());
        }
        all.push((at(now), id, "concern"));
    }
    let (t, id) = comm("2030-01-04T10:00:00Z").await;
    all.push((t, id, "communication"));
    // Elsewhere: not in this family's timeline.
    raise(&app, &f.other, json!({})).await;
    all.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    let expected: Vec<String> = all.iter().map(|e| e.1.clone()).collect();
    let path = format!("/v1/families/{}/timeline", f.fam);
    let items = page(&app, &path, &admin).await;
    let got: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = all.iter().map(|e| (e.1.clone(), e.2.to_string())).collect();
    assert_eq!(got, want);
    for (item, (t, _, kind)) in items.iter().zip(&all) {
        assert_eq!(time(&item["at"]), *t);
        assert_eq!(item[*kind]["id"], item["id"], "{item}");
        if *kind == "concern" {
            assert_eq!(time(&item["concern"]["created_at"]), *t);
            assert!(item.get("communication").is_none());
        }
    }
    // Page by page, three at a time.
    let mut seen = Vec::new();
    let mut next = Some(format!("{path}?limit=3"));
    while let Some(p) = next {
        let res = app.get(&p, &admin).await;
        res.assert_status(200);
        seen.extend(
            res.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string()),
        );
        assert!(seen.len() <= expected.len(), "the pages repeat: {seen:?}");
        next = res.body["next_cursor"]
            .as_str()
            .map(|c| format!("{path}?limit=3&cursor={c}"));
    }
    assert_eq!(seen, expected);
    // The guardian's timeline lacks the concern about the child they may not see.
    let hidden = hidden.unwrap();
    let g = app.guardian(&f.me);
    let theirs: Vec<String> = expected.iter().filter(|i| **i != hidden).cloned().collect();
    assert_eq!(ids(&app, &path, &g).await, theirs);
    let mut seen = Vec::new();
    let mut next = Some(format!("{path}?limit=2"));
    while let Some(p) = next {
        let res = app.get(&p, &g).await;
        res.assert_status(200);
        seen.extend(
            res.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_string()),
        );
        assert!(seen.len() <= theirs.len(), "the pages repeat: {seen:?}");
        next = res.body["next_cursor"]
            .as_str()
            .map(|c| format!("{path}?limit=2&cursor={c}"));
    }
    assert_eq!(seen, theirs);
    // A caller without concerns:read sees only the communications.
    let admissions = app.token(Role::Admissions);
    let comms: Vec<String> = all
        .iter()
        .filter(|e| e.2 == "communication")
        .map(|e| e.1.clone())
        .collect();
    assert_eq!(ids(&app, &path, &admissions).await, comms);
    // A concern's state in the timeline is current.
    let id = &all[0].1;
    drive(&app, id, "acknowledged").await;
    let items = page(&app, &path, &admin).await;
    assert_eq!(items[0]["concern"]["status"], json!("acknowledged"));
}

/// Sends a request as `token` with a request id and an `X-Purpose`; returns the answer and what
/// it recorded (audit events and change records).
async fn recorded_call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
    request_id: &str,
) -> (Res, Recorded) {
    let before = app.recorded();
    let headers = [("x-request-id", request_id), ("x-purpose", "casework")];
    let res = app
        .call(method, path, Some(token), Some(&body), &headers)
        .await;
    (res, app.recorded().since(&before))
}

/// Asserts that every audit event in `r` names this school, actor, role, request, purpose,
/// family and student.
#[track_caller]
fn assert_audited_as(
    r: &Recorded,
    (actor, role): (&str, &str),
    request_id: &str,
    family: Option<&str>,
    student: Option<&str>,
) {
    assert!(!r.audit.is_empty(), "nothing audited");
    for a in &r.audit {
        let got = (
            a.school_id.as_str(),
            a.actor.as_str(),
            a.actor_role.as_str(),
            a.request_id.as_deref(),
            a.purpose.as_deref(),
            a.family_id.as_deref(),
            a.student_id.as_deref(),
        );
        let want = (
            SCHOOL,
            actor,
            role,
            Some(request_id),
            Some("casework"),
            family,
            student,
        );
        assert_eq!(got, want, "{a:?}");
    }
    assert!(
        r.changes
            .iter()
            .all(|c| c.school_id == SCHOOL && c.external_id.is_none()),
        "{:?}",
        r.changes
    );
}

/// `(a, b, c)` of strings, owned, for comparing with `Recorded::actions`.
fn act(action: &str, kind: &str, id: &str) -> (String, String, String) {
    (action.into(), kind.into(), id.into())
}

/// `(type, id, operation, version)`, owned, for comparing with `Recorded::fed`.
fn fed(kind: &str, id: &str, op: &str, version: i64) -> (String, String, String, i64) {
    (kind.into(), id.into(), op.into(), version)
}

#[actix_web::test]
async fn each_kind_of_concern_write_is_audited_and_fed_in_its_transaction() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, teacher, g) = (app.admin(), app.token(Role::Teacher), app.guardian(&f.me));
    let staff = ("teacher-1", "teacher");
    let me = format!("guardian-{}", f.me);
    let guardian = (me.as_str(), "guardian");
    let (fam, kid) = (Some(f.fam.as_str()), Some(f.kid.as_str()));

    // Raised: one audited create; its history entries (created, assignment) are part of it.
    let body = new_concern(&f.fam, json!({"student_id": f.kid, "assignee": "pre-1"}));
    let (res, r) = recorded_call(&app, Method::POST, C, &teacher, body, "req-create").await;
    res.assert_status(201);
    let id = res.id();
    assert_eq!(r.actions(), [act("create", "concerns", &id)]);
    assert_eq!(r.fed(), [fed("concerns", &id, "create", 1)]);
    assert_audited_as(&r, staff, "req-create", fam, kid);
    let history = event_kinds(&app, &id, &admin).await;
    assert_eq!(history.len(), 2, "{history:?}");
    let path = format!("{C}/{id}");

    // Edited.
    let (res, r) = recorded_call(
        &app,
        Method::PATCH,
        &path,
        &teacher,
        json!({"priority": "high"}),
        "req-edit",
    )
    .await;
    res.assert_status(200);
    assert_eq!(r.actions(), [act("update", "concerns", &id)]);
    assert_eq!(r.fed(), [fed("concerns", &id, "update", 2)]);
    assert_audited_as(&r, staff, "req-edit", fam, kid);

    // An internal comment: a record of its own, about the concern's family and student; the
    // concern does not change.
    let comments = format!("{C}/{id}/comments");
    let (res, r) = recorded_call(
        &app,
        Method::POST,
        &comments,
        &teacher,
        json!({"body": "calling them"}),
        "req-note",
    )
    .await;
    res.assert_status(201);
    let note = res.id();
    assert_eq!(r.actions(), [act("comment", "concern_comments", &note)]);
    assert_eq!(r.fed(), [fed("concern_comments", &note, "create", 1)]);
    assert_audited_as(&r, staff, "req-note", fam, kid);

    // The first family-visible comment from staff also revises the concern (its first response).
    let (res, r) = recorded_call(
        &app,
        Method::POST,
        &comments,
        &teacher,
        json!({"body": "We are on it", "visibility": "family"}),
        "req-reply",
    )
    .await;
    res.assert_status(201);
    let reply = res.id();
    assert_eq!(
        sorted(r.actions().iter().map(|a| format!("{a:?}"))),
        sorted([
            format!("{:?}", act("comment", "concern_comments", &reply)),
            format!("{:?}", act("comment", "concerns", &id)),
        ])
    );
    assert_eq!(
        sorted(r.fed().iter().map(|c| format!("{c:?}"))),
        sorted([
            format!("{:?}", fed("concern_comments", &reply, "create", 1)),
            format!("{:?}", fed("concerns", &id, "update", 3)),
        ])
    );
    assert_audited_as(&r, staff, "req-reply", fam, kid);

    // Moved.
    let (res, r) = recorded_call(
        &app,
        Method::POST,
        &format!("{path}/transitions"),
        &teacher,
        json!({"to": "acknowledged", "note": "seen"}),
        "req-move",
    )
    .await;
    res.assert_status(200);
    assert_eq!(r.actions(), [act("transition", "concerns", &id)]);
    assert_eq!(r.fed(), [fed("concerns", &id, "update", 4)]);
    assert_audited_as(&r, staff, "req-move", fam, kid);

    // Rated by the family once resolved: a rating, by the guardian.
    for to in ["in_progress", "resolved"] {
        go(&app, &admin, &id, move_body(to))
            .await
            .assert_status(200);
    }
    let (res, r) = recorded_call(
        &app,
        Method::PATCH,
        &path,
        &g,
        json!({"satisfaction": 5}),
        "req-rate",
    )
    .await;
    res.assert_status(200);
    assert_eq!(r.actions(), [act("rate", "concerns", &id)]);
    assert_eq!(r.fed(), [fed("concerns", &id, "update", 7)]);
    assert_audited_as(&r, guardian, "req-rate", fam, kid);

    // The family's own comment.
    let (res, r) = recorded_call(
        &app,
        Method::POST,
        &comments,
        &g,
        json!({"body": "Thank you"}),
        "req-thanks",
    )
    .await;
    res.assert_status(201);
    let thanks = res.id();
    assert_eq!(r.actions(), [act("comment", "concern_comments", &thanks)]);
    assert_eq!(r.fed(), [fed("concern_comments", &thanks, "create", 1)]);
    assert_audited_as(&r, guardian, "req-thanks", fam, kid);

    // A concern about the family as a whole, raised by the guardian: no student.
    let (res, r) = recorded_call(
        &app,
        Method::POST,
        C,
        &g,
        new_concern(&f.fam, json!({})),
        "req-g",
    )
    .await;
    res.assert_status(201);
    assert_eq!(r.actions(), [act("create", "concerns", &res.id())]);
    assert_audited_as(&r, guardian, "req-g", fam, None);

    // Settings: the school is the record; the first change brings its row into being.
    for (n, op) in [(1, "create"), (2, "update")] {
        let rid = format!("req-settings-{n}");
        let (res, r) = recorded_call(
            &app,
            Method::PATCH,
            "/v1/settings",
            &admin,
            json!({"concern_response_hours": {"urgent": n + 1}}),
            &rid,
        )
        .await;
        res.assert_status(200);
        assert_eq!(r.actions(), [act("update", "settings", SCHOOL)]);
        assert_eq!(r.fed(), [fed("settings", SCHOOL, op, n)]);
        assert_audited_as(&r, ("admin-1", "admin"), &rid, None, None);
    }
    // A patch that changes nothing records nothing.
    let (res, r) = recorded_call(
        &app,
        Method::PATCH,
        "/v1/settings",
        &admin,
        json!({"concern_response_hours": {"urgent": 3}}),
        "req-same",
    )
    .await;
    res.assert_status(200);
    assert!(r.audit.is_empty() && r.changes.is_empty(), "{r:?}");
}

/// Asserts that the guardian `g` of `f.fam` finds none of `hidden` by any list, filter, id,
/// history, comment, rating or the family timeline, each refusal writing nothing.
async fn assert_hidden_from(app: &TestApp, g: &str, f: &Fx, hidden: &[&String]) {
    for q in [
        String::new(),
        format!("?family_id={}", f.fam),
        format!("?student_id={}", f.kid),
        "?visibility=staff".into(),
        "?category=safety".into(),
        "?status=acknowledged".into(),
    ] {
        let listed = ids(app, &format!("{C}{q}"), g).await;
        for id in hidden {
            assert!(!listed.contains(id), "{q}: {listed:?}");
        }
    }
    assert!(ids(app, &format!("{C}?visibility=staff"), g)
        .await
        .is_empty());
    let timeline = app
        .get(&format!("/v1/families/{}/timeline", f.fam), g)
        .await;
    timeline.assert_status(200);
    for id in hidden {
        assert!(!timeline.text.contains(id.as_str()), "{}", timeline.text);
        for sub in ["", "/comments", "/events"] {
            refused(app, Method::GET, &format!("{C}/{id}{sub}"), g, None, 404).await;
        }
        refused(
            app,
            Method::POST,
            &format!("{C}/{id}/comments"),
            g,
            Some(json!({"body": "hello?"})),
            404,
        )
        .await;
        refused(
            app,
            Method::PATCH,
            &format!("{C}/{id}"),
            g,
            Some(json!({"satisfaction": 5})),
            404,
        )
        .await;
    }
}

#[actix_web::test]
async fn a_concern_kept_among_staff_is_invisible_to_guardians_everywhere() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, counselor, g) = (app.admin(), app.token(Role::Counselor), app.guardian(&f.me));
    let shared = raise(&app, &f.fam, json!({"student_id": f.kid})).await;
    let c = raise_as(
        &app,
        &counselor,
        &f.fam,
        json!({"student_id": f.kid, "category": "safety", "visibility": "staff"}),
    )
    .await;
    assert_eq!(c["visibility"], json!("staff"));
    let secret = c["id"].as_str().unwrap().to_string();
    let family_wide = raise(&app, &f.fam, json!({"visibility": "staff"})).await;
    assert_eq!(get(&app, &shared).await["visibility"], json!("family"));
    // Staff work it as any concern: comments, a family-visible one included, and moves.
    for id in [&secret, &family_wide] {
        app.post(
            &format!("{C}/{id}/comments"),
            &counselor,
            json!({"body": "Spoke with the social worker", "visibility": "family"}),
        )
        .await
        .assert_status(201);
        go(
            &app,
            &counselor,
            id,
            json!({"to": "acknowledged", "note": "on it", "visibility": "family"}),
        )
        .await
        .assert_status(200);
    }
    let staff_list = sorted(ids(&app, C, &counselor).await);
    assert_eq!(staff_list, sorted([&shared, &secret, &family_wide]));
    assert_eq!(
        sorted(ids(&app, &format!("{C}?visibility=staff"), &admin).await),
        sorted([&secret, &family_wide])
    );
    assert_eq!(
        ids(&app, &format!("{C}?visibility=family"), &admin).await,
        vec![shared.clone()]
    );

    // The guardian: not in any list, not by any filter, not by id, nor its history.
    assert_hidden_from(&app, &g, &f, &[&secret, &family_wide]).await;
    assert_eq!(ids(&app, C, &g).await, vec![shared.clone()]);
    let timeline = app
        .get(&format!("/v1/families/{}/timeline", f.fam), &admin)
        .await;
    assert!(
        timeline.text.contains(secret.as_str()),
        "staff see it in the timeline"
    );

    // Staff share it with the family, and take it back: the change is in the history, for staff.
    let path = format!("{C}/{secret}");
    let res = app
        .patch(&path, &counselor, json!({"visibility": "family"}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["visibility"], json!("family"));
    app.get(&path, &g).await.assert_status(200);
    assert!(ids(&app, C, &g).await.contains(&secret));
    let staff_events = page(&app, &format!("{path}/events"), &admin).await;
    let change = staff_events.last().unwrap();
    assert_eq!(
        (
            &change["kind"],
            &change["from"],
            &change["to"],
            &change["visibility"]
        ),
        (
            &json!("visibility_change"),
            &json!("staff"),
            &json!("family"),
            &json!("internal")
        )
    );
    let theirs = event_kinds(&app, &secret, &g).await;
    assert!(
        theirs
            .iter()
            .all(|(k, v)| v == "family" && k != "visibility_change"),
        "{theirs:?}"
    );
    app.patch(&path, &admin, json!({"visibility": "staff"}))
        .await
        .assert_status(200);
    assert_hidden_from(&app, &g, &f, &[&secret]).await;

    // `visibility` has no empty state: null is refused, never read as `family`.
    refused_field(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some(json!({"visibility": null})),
        400,
        "visibility",
    )
    .await;
    refused_field(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some(json!({"visibility": "secret"})),
        400,
        "visibility",
    )
    .await;
    assert_eq!(get(&app, &secret).await["visibility"], json!("staff"));
    // A guardian may not change it on a concern they see.
    refused(
        &app,
        Method::PATCH,
        &format!("{C}/{shared}"),
        &g,
        Some(json!({"visibility": "staff"})),
        403,
    )
    .await;
}

#[actix_web::test]
async fn a_guardian_raising_a_concern_cannot_choose_its_visibility() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let g = app.guardian(&f.me);
    for v in ["family", "staff"] {
        let res = refused_field(
            &app,
            Method::POST,
            C,
            &g,
            Some(new_concern(&f.fam, json!({"visibility": v}))),
            400,
            "visibility",
        )
        .await;
        let e = &res.body["errors"][0];
        assert_eq!(
            (&e["field"], &e["code"]),
            (&json!("visibility"), &json!("not_allowed"))
        );
    }
    refused_field(
        &app,
        Method::POST,
        C,
        &app.admin(),
        Some(new_concern(&f.fam, json!({"visibility": "internal"}))),
        400,
        "visibility",
    )
    .await;
    let mine = raise_as(&app, &g, &f.fam, json!({})).await;
    assert_eq!(mine["visibility"], json!("family"));
}

#[actix_web::test]
async fn an_internal_transition_note_never_reaches_a_guardian() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (admin, teacher, g) = (app.admin(), app.token(Role::Teacher), app.guardian(&f.me));
    let id = raise(&app, &f.fam, json!({"student_id": f.kid})).await;
    // By default a note is staff's.
    go(
        &app,
        &teacher,
        &id,
        json!({"to": "acknowledged", "note": "Mother was hostile on the phone"}),
    )
    .await
    .assert_status(200);
    go(
        &app,
        &teacher,
        &id,
        json!({"to": "in_progress", "note": "We have met the class teacher", "visibility": "family"}),
    )
    .await
    .assert_status(200);
    go(
        &app,
        &teacher,
        &id,
        json!({"to": "resolved", "resolution": "Seats moved", "note": "Checked with the head", "visibility": "internal"}),
    )
    .await
    .assert_status(200);
    let moves = |events: Vec<Value>| -> Vec<(Value, Value, Value, Value)> {
        events
            .into_iter()
            .filter(|e| e["kind"] == json!("transition"))
            .map(|e| {
                (
                    e["to"].clone(),
                    e["visibility"].clone(),
                    e["body"].clone(),
                    e["note_visibility"].clone(),
                )
            })
            .collect()
    };
    let events = format!("{C}/{id}/events");
    assert_eq!(
        moves(page(&app, &events, &admin).await),
        [
            (
                json!("acknowledged"),
                json!("family"),
                json!("Mother was hostile on the phone"),
                json!("internal")
            ),
            (
                json!("in_progress"),
                json!("family"),
                json!("We have met the class teacher"),
                json!("family")
            ),
            (
                json!("resolved"),
                json!("family"),
                json!("Checked with the head"),
                json!("internal")
            ),
        ]
    );
    // The family sees every move, and only the note meant for them.
    assert_eq!(
        moves(page(&app, &events, &g).await),
        [
            (
                json!("acknowledged"),
                json!("family"),
                Value::Null,
                Value::Null
            ),
            (
                json!("in_progress"),
                json!("family"),
                json!("We have met the class teacher"),
                json!("family")
            ),
            (json!("resolved"), json!("family"), Value::Null, Value::Null),
        ]
    );
    for path in [
        events.clone(),
        format!("{C}/{id}"),
        format!("{C}/{id}/comments"),
        C.to_string(),
        format!("/v1/families/{}/timeline", f.fam),
    ] {
        let res = app.get(&path, &g).await;
        res.assert_status(200);
        for secret in ["hostile", "Checked with the head"] {
            assert!(!res.text.contains(secret), "{path}: {}", res.text);
        }
    }
    // A note's visibility without a note governs nothing, and is not kept.
    let other = raise(&app, &f.fam, json!({})).await;
    go(
        &app,
        &teacher,
        &other,
        json!({"to": "acknowledged", "visibility": "family"}),
    )
    .await
    .assert_status(200);
    let last = page(&app, &format!("{C}/{other}/events"), &admin).await;
    let last = last.last().unwrap();
    assert_eq!(
        (&last["body"], &last["note_visibility"]),
        (&Value::Null, &Value::Null)
    );
    refused_field(
        &app,
        Method::POST,
        &format!("{C}/{other}/transitions"),
        &teacher,
        Some(json!({"to": "in_progress", "note": "x", "visibility": "staff"})),
        400,
        "visibility",
    )
    .await;
    // Every misplaced field at once.
    let res = refused(
        &app,
        Method::POST,
        &format!("{C}/{other}/transitions"),
        &admin,
        Some(json!({"to": "closed", "resolution": "x", "visibility": "family"})),
        400,
    )
    .await;
    assert_eq!(sorted(res.error_fields()), sorted(["note", "resolution"]));
}

#[actix_web::test]
async fn of_two_first_changes_of_the_settings_at_once_one_wins_and_the_other_gets_412() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let before = app.recorded();
    let send = |hours: i64| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.call(
                Method::PATCH,
                "/v1/settings",
                Some(&admin),
                Some(&json!({"concern_response_hours": {"urgent": hours}})),
                &[("if-match", "\"0\"")],
            )
            .await
        }
    };
    let (x, y) = futures_util::future::join(send(2), send(3)).await;
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{} / {}", x.text, y.text);
    let loser = if x.status == 412 { &x } else { &y };
    loser.assert_problem(412);
    let winner = if x.status == 200 { &x } else { &y };
    assert_eq!(winner.body["version"], json!(1));
    let now = app.get("/v1/settings", &admin).await;
    assert_eq!(now.body, winner.body);
    let r = app.recorded().since(&before);
    assert_eq!(r.actions(), [act("update", "settings", SCHOOL)]);
    assert_eq!(r.fed(), [fed("settings", SCHOOL, "create", 1)]);
}

/// A move writes only the workflow's columns: after each one the stored concern is what the move
/// answered, and everything else about it is as it was raised.
#[actix_web::test]
async fn a_move_changes_the_workflow_and_nothing_else() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let id = raise(
        &app,
        &f.fam,
        json!({"student_id": f.kid, "priority": "high", "description": "Too much on weekends",
               "visibility": "family"}),
    )
    .await;
    let res = app
        .patch(
            &format!("{C}/{id}"),
            &app.admin(),
            json!({"assignee": "pre-7"}),
        )
        .await;
    res.assert_status(200);
    let before = res.body.clone();
    let workflow = [
        "status",
        "resolution",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "version",
        "updated_at",
        "overdue",
    ];
    let mut version = before["version"].as_i64().expect("version");
    for to in [
        "acknowledged",
        "in_progress",
        "resolved",
        "in_progress",
        "resolved",
        "closed",
    ] {
        let res = go(&app, &app.admin(), &id, move_body(to)).await;
        res.assert_status(200);
        assert_eq!(res.body["status"], json!(to));
        version += 1;
        assert_eq!(res.body["version"], json!(version));
        assert_eq!(
            get(&app, &id).await,
            res.body,
            "stored as answered after {to}"
        );
        let mut rest = res.body.as_object().expect("object").clone();
        let mut was = before.as_object().expect("object").clone();
        for key in workflow {
            rest.remove(key);
            was.remove(key);
        }
        assert_eq!(rest, was, "only the workflow moved on {to}");
    }
}
