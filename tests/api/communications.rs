//! Communications: who may log and read them, what a guardian sees, the contact rules on
//! outbound contacts, follow-ups, acknowledgements, lists, filters and the family timeline.

use actix_web::http::Method;
use chrono::NaiveDateTime;
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

const COMMS: &str = "/v1/communications";

/// A refused contact with its own problem type.
async fn contact_refused(app: &TestApp, body: Value, kind: &str) {
    let res = refused(app, Method::POST, COMMS, &app.admin(), Some(body), 422).await;
    let t = res.body["type"].as_str().unwrap_or_default();
    assert!(t.ends_with(kind), "expected {kind}, got {t}: {}", res.text);
}

/// The body of an outbound phone call to `fam`, with `extra` fields.
fn comm(fam: &str, extra: Value) -> Value {
    merged(
        json!({"family_id": fam, "channel": "phone", "direction": "outbound"}),
        extra,
    )
}

/// Logs a communication as `token`, asserting 201; returns the answer.
async fn log_as(app: &TestApp, token: &str, fam: &str, extra: Value) -> Res {
    let res = app.post(COMMS, token, comm(fam, extra)).await;
    res.assert_status(201);
    res
}

/// Logs a communication as the admin; returns its id.
async fn log(app: &TestApp, fam: &str, extra: Value) -> String {
    log_as(app, &app.admin(), fam, extra).await.id()
}

/// A family preferring Spanish without SMS consent; Ana (Spanish, SMS yes) and Luis (no
/// preferences) with their son Sam; another family with its own guardian and child.
struct Fx {
    fam: String,
    me: String,
    co: String,
    kid: String,
    other: String,
    other_g: String,
    other_kid: String,
}

async fn guardian_with(app: &TestApp, fam: &str, extra: Value) -> String {
    let body = merged(json!({"given_name": "G", "family_name": "Doe"}), extra);
    let res = app
        .post(&format!("/v1/families/{fam}/guardians"), &app.admin(), body)
        .await;
    res.assert_status(201);
    res.id()
}

async fn fx(app: &TestApp) -> Fx {
    let fam = app
        .post(
            "/v1/families",
            &app.admin(),
            json!({"display_name": "The Does", "primary_language": "es"}),
        )
        .await
        .id();
    let me = guardian_with(
        app,
        &fam,
        json!({"given_name": "Ana", "preferred_language": "es", "sms_opt_in": true}),
    )
    .await;
    let co = guardian_with(app, &fam, json!({"given_name": "Luis"})).await;
    let kid = app.student_in(&fam, "Sam").await;
    app.link(&kid, &me, json!({})).await.assert_status(201);
    app.link(&kid, &co, json!({})).await.assert_status(201);
    let other = app.family("The Roes").await;
    let other_g = app.guardian_in(&other, "Rick").await;
    let other_kid = app.student_in(&other, "Rae").await;
    app.link(&other_kid, &other_g, json!({}))
        .await
        .assert_status(201);
    Fx {
        fam,
        me,
        co,
        kid,
        other,
        other_g,
        other_kid,
    }
}

#[actix_web::test]
async fn staff_roles_log_read_change_acknowledge_and_archive() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admins = log(&app, &f.fam, json!({"subject": "Welcome"})).await;
    for role in [
        Role::Admin,
        Role::Pre,
        Role::Teacher,
        Role::Counselor,
        Role::Admissions,
    ] {
        let t = app.token(role);
        let sub = format!("{role}-1");
        app.get(&format!("{COMMS}/{admins}"), &t)
            .await
            .assert_status(200);
        assert!(ids(&app, COMMS, &t).await.contains(&admins), "{role}");
        assert!(ids(&app, &format!("/v1/families/{}/timeline", f.fam), &t)
            .await
            .contains(&admins));

        let res = log_as(&app, &t, &f.fam, json!({"student_id": f.kid})).await;
        assert_eq!(res.body["author"], json!(sub), "{role}");
        assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
        let path = format!("{COMMS}/{}", res.id());
        assert_eq!(res.header("location").as_deref(), Some(path.as_str()));
        let res = app
            .patch(&path, &t, json!({"subject": "Called back"}))
            .await;
        res.assert_status(200);
        assert_eq!(res.body["subject"], json!("Called back"));
        assert_eq!(res.body["version"], json!(2));
        // Staff record an acknowledgement given another way; it is then by them.
        let res = app
            .call(
                Method::POST,
                &format!("{path}/acknowledge"),
                Some(&t),
                None,
                &[],
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.body["acknowledged_by"], json!(sub), "{role}");
        app.delete(&path, &t).await.assert_status(204);
        refused(&app, Method::GET, &path, &t, None, 404).await;
    }
}

#[actix_web::test]
async fn integration_tokens_and_read_only_scopes_only_read() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let id = log(&app, &f.fam, json!({})).await;
    let path = format!("{COMMS}/{id}");
    let narrowed = app.mint(
        Role::Pre,
        SCHOOL,
        "pre-ro",
        None,
        Some("communications:read"),
    );
    for t in [app.token(Role::Integration), narrowed] {
        app.get(&path, &t).await.assert_status(200);
        assert_eq!(ids(&app, COMMS, &t).await, vec![id.clone()]);
        assert_eq!(
            ids(&app, &format!("/v1/families/{}/timeline", f.fam), &t).await,
            vec![id.clone()]
        );
        let writes = [
            (
                Method::POST,
                COMMS.to_string(),
                Some(comm(&f.fam, json!({}))),
            ),
            (Method::PATCH, path.clone(), Some(json!({"subject": "x"}))),
            (Method::DELETE, path.clone(), None),
            (Method::POST, format!("{path}/acknowledge"), None),
        ];
        for (method, p, body) in writes {
            let res = refused(&app, method.clone(), &p, &t, body, 403).await;
            assert!(
                res.body["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("communications:write")),
                "{method} {p}: {}",
                res.text
            );
        }
    }
}

#[actix_web::test]
async fn a_guardian_reads_and_acknowledges_but_never_changes_the_log() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let me = app.guardian(&f.me);
    let id = log(&app, &f.fam, json!({"student_id": f.kid})).await;
    let path = format!("{COMMS}/{id}");
    app.get(&path, &me).await.assert_status(200);
    assert_eq!(ids(&app, COMMS, &me).await, vec![id.clone()]);
    refused(
        &app,
        Method::PATCH,
        &path,
        &me,
        Some(json!({"subject": "x"})),
        403,
    )
    .await;
    refused(&app, Method::DELETE, &path, &me, None, 403).await;
    let res = app
        .call(
            Method::POST,
            &format!("{path}/acknowledge"),
            Some(&me),
            None,
            &[],
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["acknowledged_by"], json!(f.me));
    // Their own message, too, is beyond their reach once sent.
    let mine = log_as(
        &app,
        &me,
        &f.fam,
        json!({"channel": "portal", "direction": "inbound"}),
    )
    .await
    .id();
    let mine = format!("{COMMS}/{mine}");
    refused(
        &app,
        Method::PATCH,
        &mine,
        &me,
        Some(json!({"body": "edited"})),
        403,
    )
    .await;
    refused(&app, Method::DELETE, &mine, &me, None, 403).await;
}

#[actix_web::test]
async fn a_guardian_sees_only_their_familys_shared_communications() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let hidden_kid = app.student_in(&f.fam, "Hidden").await;
    app.link(&hidden_kid, &f.me, json!({"can_view_records": false}))
        .await
        .assert_status(201);
    let unlinked_kid = app.student_in(&f.fam, "Unlinked").await;

    let family_level = log(&app, &f.fam, json!({})).await;
    let about_kid = log(&app, &f.fam, json!({"student_id": f.kid})).await;
    let to_co = log(&app, &f.fam, json!({"guardian_id": f.co})).await;
    let inbound = log_as(&app, &app.admin(), &f.fam, json!({"direction": "inbound"})).await;
    assert_eq!(inbound.body["visibility"], json!("staff"));
    let inbound = inbound.id();
    let staff_only = log(&app, &f.fam, json!({"visibility": "staff"})).await;
    let about_hidden = log(&app, &f.fam, json!({"student_id": hidden_kid})).await;
    let about_unlinked = log(&app, &f.fam, json!({"student_id": unlinked_kid})).await;
    let others = log(&app, &f.other, json!({"student_id": f.other_kid})).await;
    let res = app
        .get(&format!("{COMMS}/{family_level}"), &app.admin())
        .await;
    assert_eq!(res.body["visibility"], json!("family"));

    let me = app.guardian(&f.me);
    let visible = sorted([&family_level, &about_kid, &to_co]);
    assert_eq!(sorted(ids(&app, COMMS, &me).await), visible);
    assert_eq!(
        sorted(ids(&app, &format!("{COMMS}?family_id={}", f.fam), &me).await),
        visible
    );
    assert_eq!(
        sorted(ids(&app, &format!("/v1/families/{}/timeline", f.fam), &me).await),
        visible
    );
    assert!(ids(&app, &format!("{COMMS}?family_id={}", f.other), &me)
        .await
        .is_empty());
    for id in [
        &inbound,
        &staff_only,
        &about_hidden,
        &about_unlinked,
        &others,
    ] {
        let path = format!("{COMMS}/{id}");
        refused(&app, Method::GET, &path, &me, None, 404).await;
        refused(
            &app,
            Method::POST,
            &format!("{path}/acknowledge"),
            &me,
            None,
            404,
        )
        .await;
    }
    refused(
        &app,
        Method::GET,
        &format!("/v1/families/{}/timeline", f.other),
        &me,
        None,
        404,
    )
    .await;
    // The other family's guardian sees none of the Does' and only their own.
    let rick = app.guardian(&f.other_g);
    assert_eq!(ids(&app, COMMS, &rick).await, vec![others.clone()]);
    refused(
        &app,
        Method::GET,
        &format!("{COMMS}/{family_level}"),
        &rick,
        None,
        404,
    )
    .await;
    // Staff see everything.
    assert_eq!(ids(&app, COMMS, &app.admin()).await.len(), 8);
}

#[actix_web::test]
async fn a_guardian_logs_only_inbound_portal_messages_for_their_own_family() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let hidden_kid = app.student_in(&f.fam, "Hidden").await;
    app.link(&hidden_kid, &f.me, json!({"can_view_records": false}))
        .await
        .assert_status(201);
    let me = app.guardian(&f.me);
    let msg = |fam: &str, extra: Value| {
        Some(merged(
            comm(fam, json!({"channel": "portal", "direction": "inbound"})),
            extra,
        ))
    };
    let cases = [
        (msg(&f.fam, json!({"direction": "outbound"})), 403),
        (msg(&f.fam, json!({"channel": "email"})), 403),
        (msg(&f.fam, json!({"guardian_id": f.co})), 403),
        (
            msg(&f.fam, json!({"follow_up_due_at": "2099-01-01T00:00:00Z"})),
            403,
        ),
        (msg(&f.other, json!({})), 404),
        (msg(&f.fam, json!({"student_id": hidden_kid})), 404),
    ];
    for (body, status) in cases {
        refused(&app, Method::POST, COMMS, &me, body, status).await;
    }

    let res = app
        .post(
            COMMS,
            &me,
            msg(
                &f.fam,
                json!({"student_id": f.kid, "body": "Sam is ill today"}),
            )
            .unwrap(),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.body["guardian_id"], json!(f.me));
    assert_eq!(res.body["visibility"], json!("family"));
    assert_eq!(res.body["author"], json!(format!("guardian-{}", f.me)));
    let id = res.id();
    assert_eq!(ids(&app, COMMS, &me).await, vec![id.clone()]);
    assert_eq!(
        ids(&app, &format!("{COMMS}?direction=inbound"), &app.admin()).await,
        vec![id]
    );
}

#[actix_web::test]
async fn outbound_contacts_obey_the_contact_rules() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let barred = guardian_with(&app, &f.fam, json!({"contact_allowed": false})).await;
    let restricted = guardian_with(&app, &f.fam, json!({"sms_opt_in": true})).await;
    app.link(&f.kid, &restricted, json!({"contact_restricted": true}))
        .await
        .assert_status(201);

    contact_refused(
        &app,
        comm(&f.fam, json!({"guardian_id": barred})),
        "contact-not-allowed",
    )
    .await;
    contact_refused(
        &app,
        comm(
            &f.fam,
            json!({"guardian_id": restricted, "student_id": f.kid, "channel": "email"}),
        ),
        "contact-restricted",
    )
    .await;
    contact_refused(
        &app,
        comm(&f.fam, json!({"guardian_id": f.co, "channel": "sms"})),
        "sms-consent-missing",
    )
    .await;
    contact_refused(
        &app,
        comm(&f.fam, json!({"channel": "sms"})),
        "sms-consent-missing",
    )
    .await;

    // What the rules allow.
    log(
        &app,
        &f.fam,
        json!({"guardian_id": barred, "direction": "inbound"}),
    )
    .await;
    log(&app, &f.fam, json!({"guardian_id": restricted})).await;
    log(&app, &f.fam, json!({"guardian_id": f.me, "channel": "sms"})).await;
    app.patch(
        &format!("/v1/families/{}", f.fam),
        &app.admin(),
        json!({"sms_opt_in": true}),
    )
    .await
    .assert_status(200);
    log(&app, &f.fam, json!({"channel": "sms"})).await;

    // The rules apply to the result of a change too.
    let call = log(&app, &f.fam, json!({"guardian_id": f.co})).await;
    let path = format!("{COMMS}/{call}");
    let res = refused(
        &app,
        Method::PATCH,
        &path,
        &app.admin(),
        Some(json!({"channel": "sms"})),
        422,
    )
    .await;
    assert!(res.body["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("sms-consent-missing")));
    let res = refused(
        &app,
        Method::PATCH,
        &path,
        &app.admin(),
        Some(json!({"guardian_id": barred})),
        422,
    )
    .await;
    assert!(res.body["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("contact-not-allowed")));
}

#[actix_web::test]
async fn a_language_the_family_does_not_prefer_is_accepted_with_a_warning() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admin = app.admin();
    let warned = |res: &Res| {
        res.assert_status(201);
        res.body["warnings"].as_array().is_some_and(|w| {
            w.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.starts_with("language_mismatch"))
            })
        })
    };
    // Ana prefers Spanish; the family too.
    for (extra, warn) in [
        (json!({"guardian_id": f.me, "language": "en"}), true),
        (json!({"language": "fr"}), true),
        (json!({"guardian_id": f.me, "language": "es-MX"}), false),
        (
            json!({"guardian_id": f.me, "language": "en", "interpreter_used": true}),
            false,
        ),
        (
            json!({"guardian_id": f.me, "language": "en", "translated": true}),
            false,
        ),
        (json!({"language": "fr", "translated": true}), false),
    ] {
        let res = log_as(&app, &admin, &f.fam, extra.clone()).await;
        assert_eq!(warned(&res), warn, "{extra}: {}", res.text);
        if !warn {
            assert!(res.body.get("warnings").is_none(), "{extra}: {}", res.text);
        }
    }
}

#[actix_web::test]
async fn follow_up_filters_follow_the_clock() {
    let app = TestApp::new().await;
    app.set_now(at("2030-03-01 12:00:00"));
    let f = fx(&app).await;
    let t = app.token(Role::Pre);
    let due = log(
        &app,
        &f.fam,
        json!({"follow_up_due_at": "2030-03-05T12:00:00Z"}),
    )
    .await;
    let due_now = log(
        &app,
        &f.fam,
        json!({"follow_up_due_at": "2030-03-01T12:00:00Z"}),
    )
    .await;
    let overdue = log(
        &app,
        &f.fam,
        json!({"follow_up_due_at": "2030-02-20T09:00:00Z"}),
    )
    .await;
    let done = log(
        &app,
        &f.fam,
        json!({"follow_up_due_at": "2030-02-25T09:00:00Z"}),
    )
    .await;
    log(&app, &f.fam, json!({})).await;
    let res = app
        .patch(
            &format!("{COMMS}/{done}"),
            &t,
            json!({"follow_up_done_at": "2030-03-01T11:00:00Z"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        time(&res.body["follow_up_done_at"]),
        time(&json!("2030-03-01T11:00:00Z"))
    );

    let follow = |which: &'static str| {
        let (app, t) = (&app, t.clone());
        async move { sorted(ids(app, &format!("{COMMS}?follow_up={which}"), &t).await) }
    };
    assert_eq!(follow("due").await, sorted([&due, &due_now]));
    assert_eq!(follow("overdue").await, sorted([&overdue]));
    assert_eq!(follow("done").await, sorted([&done]));

    app.set_now(at("2030-03-01 12:00:01"));
    assert_eq!(follow("due").await, sorted([&due]));
    assert_eq!(follow("overdue").await, sorted([&due_now, &overdue]));
    app.set_now(at("2030-03-06 00:00:00"));
    assert!(follow("due").await.is_empty());
    assert_eq!(follow("overdue").await, sorted([&due, &due_now, &overdue]));
    assert_eq!(follow("done").await, sorted([&done]));

    refused_field(
        &app,
        Method::GET,
        &format!("{COMMS}?follow_up=late"),
        &app.admin(),
        None,
        400,
        "follow_up",
    )
    .await;
}

#[actix_web::test]
async fn acknowledging_again_changes_nothing() {
    let app = TestApp::new().await;
    app.set_now(at("2030-04-01 08:00:00"));
    let f = fx(&app).await;
    let id = log(&app, &f.fam, json!({"subject": "Report cards"})).await;
    let path = format!("{COMMS}/{id}/acknowledge");
    app.set_now(at("2030-04-02 19:30:00"));
    let me = app.guardian(&f.me);
    let first = app.call(Method::POST, &path, Some(&me), None, &[]).await;
    first.assert_status(200);
    assert_eq!(first.body["acknowledged_by"], json!(f.me));
    assert_eq!(time(&first.body["acknowledged_at"]), app.clock.now());
    assert_eq!(first.body["version"], json!(2));
    assert_eq!(first.header("etag").as_deref(), Some("\"2\""));

    app.set_now(at("2030-04-03 07:00:00"));
    for token in [&me, &app.guardian(&f.co)] {
        let again = unchanged(&app, Method::POST, &path, token, None).await;
        assert_eq!(again.body["acknowledged_by"], json!(f.me));
        assert_eq!(again.body["acknowledged_at"], first.body["acknowledged_at"]);
        assert_eq!(again.body["version"], json!(2));
        assert_eq!(again.header("etag").as_deref(), Some("\"2\""));
    }
    let res = app.get(&format!("{COMMS}/{id}"), &app.admin()).await;
    assert_eq!(res.body["acknowledged_by"], json!(f.me));
    assert_eq!(res.body["version"], json!(2));
}

/// Follows `Link: rel="next"` from `first`; returns every id in order.
async fn follow_links(app: &TestApp, first: &str, token: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages < 50, "the pages never end");
        let res = app.get(&path, token).await;
        res.assert_status(200);
        let data = res.body["data"].as_array().expect("data");
        out.extend(
            data.iter()
                .map(|i| i["id"].as_str().unwrap_or_default().to_string()),
        );
        next = res.header("link").map(|l| {
            assert!(l.ends_with("rel=\"next\""), "{l}");
            let inner = l.trim_start_matches('<');
            inner[..inner.find('>').expect("link")].to_string()
        });
        assert_eq!(
            next.is_some(),
            res.body["next_cursor"].is_string(),
            "{}",
            res.text
        );
        if next.is_some() {
            assert_eq!(data.len(), limit, "{path}");
        } else {
            assert!(data.len() <= limit, "{path}");
        }
    }
    out
}

#[actix_web::test]
async fn lists_and_the_timeline_are_newest_first_across_pages() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let times = [
        "2030-01-03T10:00:00Z",
        "2030-01-05T10:00:00Z",
        "2030-01-04T10:00:00.5Z",
        "2030-01-04T10:00:00.5Z",
        "2030-01-01T10:00:00Z",
        "2030-01-04T10:00:00.5Z",
        "2030-01-06T10:00:00Z",
        "2030-01-04T10:00:00.5Z",
    ];
    let (mut all, mut shared) = (Vec::new(), Vec::new());
    for (i, at) in times.into_iter().enumerate() {
        let t = time(&json!(at));
        let id = log(&app, &f.fam, json!({"occurred_at": at})).await;
        all.push((t, id.clone()));
        shared.push((t, id));
        // Staff-only notes in between, which a guardian's pages skip.
        if i % 2 == 0 {
            let id = log(
                &app,
                &f.fam,
                json!({"occurred_at": at, "visibility": "staff"}),
            )
            .await;
            all.push((t, id));
        }
    }
    // Elsewhere: not in the family's timeline.
    let elsewhere = log(
        &app,
        &f.other,
        json!({"occurred_at": "2030-01-04T10:00:00.5Z"}),
    )
    .await;
    let newest_first = |mut v: Vec<(NaiveDateTime, String)>| {
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|(_, id)| id).collect::<Vec<String>>()
    };
    let expected = newest_first(all.clone());
    let shared = newest_first(shared);

    // The list, page by page with `cursor`.
    let admin = app.admin();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => format!("{COMMS}?family_id={}&limit=3", f.fam),
            Some(c) => format!("{COMMS}?family_id={}&limit=3&cursor={c}", f.fam),
        };
        let res = app.get(&path, &admin).await;
        res.assert_status(200);
        let data = res.body["data"].as_array().expect("data");
        assert!(data.len() <= 3);
        for item in data {
            seen.push(item["id"].as_str().unwrap_or_default().to_string());
        }
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(seen.len() <= expected.len(), "the list repeats: {seen:?}");
    }
    assert_eq!(seen, expected);
    // The whole school, two at a time, by the `Link` header, which keeps the filters.
    let after_jan_1 = follow_links(
        &app,
        &format!("{COMMS}?occurred_from=2030-01-02T00:00:00Z&limit=2"),
        &admin,
        2,
    )
    .await;
    let mut want: Vec<(NaiveDateTime, String)> = all
        .iter()
        .filter(|(t, _)| *t > time(&json!("2030-01-02T00:00:00Z")))
        .cloned()
        .collect();
    want.push((time(&json!("2030-01-04T10:00:00.5Z")), elsewhere));
    assert_eq!(after_jan_1, newest_first(want));

    // The timeline, by the `Link` header.
    let timeline = format!("/v1/families/{}/timeline?limit=3", f.fam);
    assert_eq!(follow_links(&app, &timeline, &admin, 3).await, expected);
    let res = app.get(&timeline, &admin).await;
    let entry = &res.body["data"][0];
    assert_eq!(entry["kind"], json!("communication"));
    assert_eq!(entry["communication"]["id"], entry["id"]);
    assert_eq!(time(&entry["at"]), time(&json!("2030-01-06T10:00:00Z")));

    // A guardian pages through what they may see, and only that.
    let me = app.guardian(&f.me);
    assert_eq!(
        follow_links(&app, &format!("{COMMS}?limit=2"), &me, 2).await,
        shared
    );
    let timeline = format!("/v1/families/{}/timeline?limit=2", f.fam);
    assert_eq!(follow_links(&app, &timeline, &me, 2).await, shared);

    for q in ["limit=0", "cursor=bogus"] {
        let field = q.split('=').next().unwrap_or_default();
        refused_field(
            &app,
            Method::GET,
            &format!("/v1/families/{}/timeline?{q}", f.fam),
            &app.admin(),
            None,
            400,
            field,
        )
        .await;
    }
}

#[actix_web::test]
async fn filters_narrow_the_list() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let teacher = app.token(Role::Teacher);
    let admin = app.admin();
    let a = log(
        &app,
        &f.fam,
        json!({"channel": "email", "category": "positive_news", "occurred_at": "2030-05-01T09:00:00Z", "student_id": f.kid}),
    )
    .await;
    let b = log(
        &app,
        &f.fam,
        json!({"direction": "inbound", "occurred_at": "2030-05-02T09:00:00Z", "guardian_id": f.co}),
    )
    .await;
    let c = log_as(
        &app,
        &teacher,
        &f.fam,
        json!({"channel": "in_person", "category": "behavior", "occurred_at": "2030-05-03T09:00:00Z", "student_id": f.kid}),
    )
    .await
    .id();
    let d = log_as(
        &app,
        &teacher,
        &f.other,
        json!({"channel": "email", "occurred_at": "2030-05-04T09:00:00Z"}),
    )
    .await
    .id();
    let cases: Vec<(&str, &String, Vec<&String>)> = vec![
        ("channel=email", &admin, vec![&d, &a]),
        ("direction=inbound", &admin, vec![&b]),
        ("direction=outbound", &admin, vec![&d, &c, &a]),
        ("category=positive_news", &admin, vec![&a]),
        ("category=behavior", &admin, vec![&c]),
        ("student_id=KID", &admin, vec![&c, &a]),
        ("guardian_id=CO", &admin, vec![&b]),
        ("family_id=OTHER", &admin, vec![&d]),
        (
            "occurred_from=2030-05-02T09:00:00Z",
            &admin,
            vec![&d, &c, &b],
        ),
        ("occurred_to=2030-05-03T09:00:00Z", &admin, vec![&b, &a]),
        (
            "occurred_from=2030-05-02T00:00:00Z&occurred_to=2030-05-03T12:00:00Z",
            &admin,
            vec![&c, &b],
        ),
        ("author=me", &teacher, vec![&d, &c]),
        ("author=me", &admin, vec![&b, &a]),
        ("author=teacher-1", &admin, vec![&d, &c]),
        ("author=me&channel=email", &teacher, vec![&d]),
        ("author=nobody", &admin, vec![]),
    ];
    for (q, token, want) in cases {
        let q = q
            .replace("KID", &f.kid)
            .replace("CO", &f.co)
            .replace("OTHER", &f.other);
        let want: Vec<String> = want.into_iter().cloned().collect();
        assert_eq!(ids(&app, &format!("{COMMS}?{q}"), token).await, want, "{q}");
    }
    for (q, field) in [
        ("channel=fax", "channel"),
        ("direction=sideways", "direction"),
        ("category=gossip", "category"),
        ("occurred_from=yesterday", "occurred_from"),
        ("occurred_to=2030-13-01T00:00:00Z", "occurred_to"),
        ("student_id=not-a-uuid", "student_id"),
        ("limit=201", "limit"),
        ("cursor=bogus", "cursor"),
        ("colour=red", "colour"),
    ] {
        refused_field(
            &app,
            Method::GET,
            &format!("{COMMS}?{q}"),
            &app.admin(),
            None,
            400,
            field,
        )
        .await;
    }
}

#[actix_web::test]
async fn bad_values_are_field_errors_and_write_nothing() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let cases = [
        (json!({"channel": "fax"}), "channel"),
        (json!({"direction": "up"}), "direction"),
        (json!({"category": "gossip"}), "category"),
        (json!({"visibility": "public"}), "visibility"),
        (json!({"language": "not a language!"}), "language"),
        (json!({"occurred_at": "last tuesday"}), "occurred_at"),
        (
            json!({"follow_up_due_at": "2030-13-01T00:00:00Z"}),
            "follow_up_due_at",
        ),
        (json!({"subject": "   "}), "subject"),
        (json!({"author": "someone-else"}), "author"),
    ];
    for (extra, field) in cases {
        refused_field(
            &app,
            Method::POST,
            COMMS,
            &app.admin(),
            Some(comm(&f.fam, extra)),
            400,
            field,
        )
        .await;
    }
    refused_field(
        &app,
        Method::POST,
        COMMS,
        &app.admin(),
        Some(json!({"channel": "phone", "direction": "outbound"})),
        400,
        "family_id",
    )
    .await;
    let id = log(&app, &f.fam, json!({})).await;
    let path = format!("{COMMS}/{id}");
    for (patch, field) in [
        (json!({"channel": "fax"}), "channel"),
        (json!({"language": "x"}), "language"),
        (json!({"follow_up_done_at": "soon"}), "follow_up_done_at"),
    ] {
        refused_field(
            &app,
            Method::PATCH,
            &path,
            &app.admin(),
            Some(patch),
            400,
            field,
        )
        .await;
    }
}

#[actix_web::test]
async fn references_must_belong_with_the_family() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for (extra, field) in [
        (json!({"guardian_id": f.other_g}), "guardian_id"),
        (json!({"guardian_id": unknown}), "guardian_id"),
        (json!({"student_id": unknown}), "student_id"),
        (json!({"student_id": f.other_kid}), "student_id"),
    ] {
        refused_field(
            &app,
            Method::POST,
            COMMS,
            &app.admin(),
            Some(comm(&f.fam, extra)),
            422,
            field,
        )
        .await;
    }
    // A child of another household counts when linked to one of the family's guardians.
    app.link(&f.other_kid, &f.me, json!({}))
        .await
        .assert_status(201);
    log(&app, &f.fam, json!({"student_id": f.other_kid})).await;

    let id = log(&app, &f.fam, json!({"guardian_id": f.me})).await;
    let path = format!("{COMMS}/{id}");
    refused_field(
        &app,
        Method::PATCH,
        &path,
        &app.admin(),
        Some(json!({"guardian_id": f.other_g})),
        422,
        "guardian_id",
    )
    .await;
    refused_field(
        &app,
        Method::PATCH,
        &path,
        &app.admin(),
        Some(json!({"family_id": f.other})),
        400,
        "family_id",
    )
    .await;
    let res = app.get(&path, &app.admin()).await;
    assert_eq!(res.body["family_id"], json!(f.fam));
    assert_eq!(res.body["version"], json!(1));
}

#[actix_web::test]
async fn another_schools_communications_do_not_exist() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let id = log(&app, &f.fam, json!({})).await;
    let path = format!("{COMMS}/{id}");
    let b = app.other_admin();
    let cases = [
        (Method::GET, path.clone(), None),
        (
            Method::PATCH,
            path.clone(),
            Some(json!({"subject": "mine"})),
        ),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/acknowledge"), None),
        (
            Method::POST,
            COMMS.to_string(),
            Some(comm(&f.fam, json!({}))),
        ),
        (
            Method::GET,
            format!("/v1/families/{}/timeline", f.fam),
            None,
        ),
    ];
    for (method, p, body) in cases {
        refused(&app, method, &p, &b, body, 404).await;
    }
    assert!(ids(&app, COMMS, &b).await.is_empty());
    assert!(ids(&app, &format!("{COMMS}?family_id={}", f.fam), &b)
        .await
        .is_empty());
}

#[actix_web::test]
async fn changes_are_merge_patches_guarded_by_if_match() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admin = app.admin();
    let id = log(
        &app,
        &f.fam,
        json!({"subject": "Field trip", "body": "Permission slip", "category": "event"}),
    )
    .await;
    let path = format!("{COMMS}/{id}");
    let send = |method: Method, body: Option<Value>, etag: &'static str| {
        let (app, path, admin) = (&app, path.clone(), admin.clone());
        async move {
            let ct = ("content-type", "application/merge-patch+json");
            let headers: Vec<(&str, &str)> = if body.is_some() {
                vec![ct, ("if-match", etag)]
            } else {
                vec![("if-match", etag)]
            };
            app.call(method, &path, Some(&admin), body.as_ref(), &headers)
                .await
        }
    };
    let res = send(
        Method::PATCH,
        Some(json!({"subject": null, "category": "academic"})),
        "\"1\"",
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(res.body["subject"], Value::Null);
    assert_eq!(res.body["body"], json!("Permission slip"));
    assert_eq!(res.body["category"], json!("academic"));
    assert_eq!(res.body["version"], json!(2));

    // Stale.
    let before = app.snapshot();
    send(Method::PATCH, Some(json!({"subject": "Late"})), "\"1\"")
        .await
        .assert_problem(412);
    send(Method::DELETE, None, "\"1\"")
        .await
        .assert_problem(412);
    app.assert_unchanged(&before, "a change from a stale ETag");

    // A patch that changes nothing keeps the version.
    let res = app
        .patch(&path, &admin, json!({"category": "academic"}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["version"], json!(2));

    send(Method::DELETE, None, "\"2\"").await.assert_status(204);
    refused(&app, Method::GET, &path, &admin, None, 404).await;
    assert!(ids(&app, COMMS, &admin).await.is_empty());
    assert!(
        ids(&app, &format!("/v1/families/{}/timeline", f.fam), &admin)
            .await
            .is_empty()
    );
    refused(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some(json!({"subject": "x"})),
        404,
    )
    .await;
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_create() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admin = app.admin();
    let body = comm(&f.fam, json!({"subject": "Bus change"}));
    let send = |body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.call(
                Method::POST,
                COMMS,
                Some(&admin),
                Some(&body),
                &[("idempotency-key", "bus-1")],
            )
            .await
        }
    };
    let first = send(body.clone()).await;
    first.assert_status(201);
    let before = app.snapshot();
    let again = send(body.clone()).await;
    again.assert_status(201);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    app.assert_unchanged(&before, "the replay");
    let other = comm(&f.fam, json!({"subject": "Another"}));
    let res = assert_nothing_written!(app, send(other).await);
    assert!(res.assert_problem(422)["type"]
        .as_str()
        .is_some_and(|t| t.ends_with("idempotency-key-reused")));
    app.assert_unchanged(&before, "the replay and the refusal");
    assert_eq!(ids(&app, COMMS, &admin).await, vec![first.id()]);
}

#[actix_web::test]
async fn a_retry_replays_the_first_answer_even_after_the_rules_changed() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let admin = app.admin();
    let family = format!("/v1/families/{}", f.fam);
    app.patch(&family, &admin, json!({"sms_opt_in": true}))
        .await
        .assert_status(200);
    let body = comm(
        &f.fam,
        json!({"channel": "sms", "subject": "Early release"}),
    );
    let key = [("idempotency-key", "sms-1")];
    let first = app
        .call(Method::POST, COMMS, Some(&admin), Some(&body), &key)
        .await;
    first.assert_status(201);
    // The family withdraws consent; the client, which never saw the first answer, retries.
    app.patch(&family, &admin, json!({"sms_opt_in": false}))
        .await
        .assert_status(200);
    let before = app.snapshot();
    let again = app
        .call(Method::POST, COMMS, Some(&admin), Some(&body), &key)
        .await;
    again.assert_status(201);
    assert_eq!(again.id(), first.id());
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    app.assert_unchanged(&before, "the replay");
}

#[actix_web::test]
async fn the_rules_judge_a_contact_not_the_bookkeeping_on_it() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let call = log(
        &app,
        &f.fam,
        json!({"guardian_id": f.me, "student_id": f.kid, "follow_up_due_at": "2030-01-01T00:00:00Z"}),
    )
    .await;
    // The school later learns of a court order: Ana may no longer be contacted.
    app.patch(
        &format!("/v1/guardians/{}", f.me),
        &app.admin(),
        json!({"contact_allowed": false}),
    )
    .await
    .assert_status(200);
    let path = format!("{COMMS}/{call}");
    // Recording the follow-up on the old call is still possible…
    let done = app
        .patch(
            &path,
            &app.admin(),
            json!({"follow_up_done_at": "2029-12-01T10:00:00Z"}),
        )
        .await;
    done.assert_status(200);
    assert_eq!(done.body["follow_up_done_at"], "2029-12-01T10:00:00Z");
    // …but turning it into another contact with her is not.
    let res = refused(
        &app,
        Method::PATCH,
        &path,
        &app.admin(),
        Some(json!({"channel": "sms"})),
        422,
    )
    .await;
    assert!(res.body["type"]
        .as_str()
        .unwrap()
        .ends_with("/contact-not-allowed"));
}

#[actix_web::test]
async fn a_guardian_without_a_language_goes_by_the_familys() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    // Luis states no language; the household prefers Spanish.
    let res = log_as(
        &app,
        &app.admin(),
        &f.fam,
        json!({"guardian_id": f.co, "language": "en"}),
    )
    .await;
    let warnings = res.body["warnings"].as_array().expect("a warning");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("language_mismatch"),
        "{warnings:?}"
    );
    let res = log_as(
        &app,
        &app.admin(),
        &f.fam,
        json!({"guardian_id": f.co, "language": "es-419"}),
    )
    .await;
    assert!(res.body.get("warnings").is_none(), "{}", res.text);
}

/// An audit event as the tests read it: everything but its id and time.
#[derive(Debug, PartialEq, Eq)]
struct Audited {
    action: String,
    resource_type: String,
    resource_id: String,
    family_id: Option<String>,
    student_id: Option<String>,
    actor: String,
    actor_role: String,
    request_id: Option<String>,
    purpose: Option<String>,
}

/// A change record as the tests read it: everything but its sequence number and time.
#[derive(Debug, PartialEq, Eq)]
struct Changed {
    resource_type: String,
    resource_id: String,
    external_id: Option<String>,
    operation: String,
    version: i64,
}

/// Every audit event and change record, oldest first.
fn records(app: &TestApp) -> (Vec<Audited>, Vec<Changed>) {
    use diesel::prelude::*;
    use liaison::db::schema::{audit_events as a, changes as c};
    let mut conn = app.conn();
    type AuditTuple = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let audited = a::table
        .order((a::occurred_at.asc(), a::id.asc()))
        .select((
            a::action,
            a::resource_type,
            a::resource_id,
            a::family_id,
            a::student_id,
            a::actor,
            a::actor_role,
            a::request_id,
            a::purpose,
        ))
        .load::<AuditTuple>(&mut *conn)
        .expect("audit events")
        .into_iter()
        .map(|t| Audited {
            action: t.0,
            resource_type: t.1,
            resource_id: t.2,
            family_id: t.3,
            student_id: t.4,
            actor: t.5,
            actor_role: t.6,
            request_id: t.7,
            purpose: t.8,
        })
        .collect();
    let changed = c::table
        .order(c::seq.asc())
        .select((
            c::resource_type,
            c::resource_id,
            c::external_id,
            c::operation,
            c::version,
        ))
        .load::<(String, String, Option<String>, String, i64)>(&mut *conn)
        .expect("change records")
        .into_iter()
        .map(|t| Changed {
            resource_type: t.0,
            resource_id: t.1,
            external_id: t.2,
            operation: t.3,
            version: t.4,
        })
        .collect();
    (audited, changed)
}

/// Sends a write that must answer `status`, and returns the one audit event and the one change
/// record it left (asserting there is exactly one of each).
async fn recorded(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
    status: u16,
) -> (Res, Audited, Changed) {
    let (audit_before, changes_before) = records(app);
    let res = app
        .call(method, path, Some(token), body.as_ref(), headers)
        .await;
    res.assert_status(status);
    let (mut audited, mut changed) = records(app);
    assert_eq!(audited.len(), audit_before.len() + 1, "{path}: {audited:?}");
    assert_eq!(
        changed.len(),
        changes_before.len() + 1,
        "{path}: {changed:?}"
    );
    let (audit, change) = (
        audited.remove(audited.len() - 1),
        changed.remove(changed.len() - 1),
    );
    (res, audit, change)
}

#[actix_web::test]
async fn every_write_leaves_one_audit_event_and_one_change_record() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let teacher = app.token(Role::Teacher);
    let purpose = "returning Ana's call about Sam";
    let headers = |request: &'static str| [("x-request-id", request), ("x-purpose", purpose)];
    let audit =
        |action: &str, id: &str, student: Option<&str>, actor: &str, role: &str, request: &str| {
            Audited {
                action: action.into(),
                resource_type: "communications".into(),
                resource_id: id.into(),
                family_id: Some(f.fam.clone()),
                student_id: student.map(str::to_string),
                actor: actor.into(),
                actor_role: role.into(),
                request_id: Some(request.into()),
                purpose: Some(purpose.into()),
            }
        };
    let change = |id: &str, operation: &str, version: i64| Changed {
        resource_type: "communications".into(),
        resource_id: id.into(),
        external_id: None,
        operation: operation.into(),
        version,
    };

    // Logged by a teacher, about Sam.
    let (res, a, c) = recorded(
        &app,
        Method::POST,
        COMMS,
        &teacher,
        Some(comm(
            &f.fam,
            json!({"guardian_id": f.me, "student_id": f.kid}),
        )),
        &headers("req-create"),
        201,
    )
    .await;
    let id = res.id();
    assert_eq!(
        a,
        audit(
            "create",
            &id,
            Some(&f.kid),
            "teacher-1",
            "teacher",
            "req-create"
        )
    );
    assert_eq!(c, change(&id, "create", 1));
    let path = format!("{COMMS}/{id}");

    // Changed: the record follows the row, now about no student; and since the change took it
    // off Sam, Sam's records were touched too: a second event names him.
    let (audit_before, changes_before) = records(&app);
    app.call(
        Method::PATCH,
        &path,
        Some(&teacher),
        Some(&json!({"subject": "Called back", "student_id": null})),
        &headers("req-update"),
    )
    .await
    .assert_status(200);
    let (audited, changed) = records(&app);
    let new_events = &audited[audit_before.len()..];
    assert_eq!(new_events.len(), 2, "{new_events:?}");
    for expected in [
        audit("update", &id, None, "teacher-1", "teacher", "req-update"),
        audit(
            "update",
            &id,
            Some(&f.kid),
            "teacher-1",
            "teacher",
            "req-update",
        ),
    ] {
        assert!(new_events.contains(&expected), "{new_events:?}");
    }
    assert_eq!(changed[changes_before.len()..], [change(&id, "update", 2)]);
    // A change that changes nothing records nothing.
    unchanged(
        &app,
        Method::PATCH,
        &path,
        &teacher,
        Some(json!({"subject": "Called back"})),
    )
    .await;

    // Acknowledged by Ana.
    let ana = app.guardian(&f.me);
    let (res, a, c) = recorded(
        &app,
        Method::POST,
        &format!("{path}/acknowledge"),
        &ana,
        None,
        &headers("req-ack"),
        200,
    )
    .await;
    assert_eq!(res.body["version"], json!(3));
    let ana_sub = format!("guardian-{}", f.me);
    assert_eq!(
        a,
        audit("acknowledge", &id, None, &ana_sub, "guardian", "req-ack")
    );
    assert_eq!(c, change(&id, "update", 3));
    // Acknowledging again records nothing.
    unchanged(
        &app,
        Method::POST,
        &format!("{path}/acknowledge"),
        &ana,
        None,
    )
    .await;

    // Archived by the admin.
    let (_, a, c) = recorded(
        &app,
        Method::DELETE,
        &path,
        &app.admin(),
        None,
        &headers("req-archive"),
        204,
    )
    .await;
    assert_eq!(
        a,
        audit("archive", &id, None, "admin-1", "admin", "req-archive")
    );
    assert_eq!(c, change(&id, "archive", 4));

    // A guardian's own message is recorded as theirs, with the child it is about.
    let (res, a, c) = recorded(
        &app,
        Method::POST,
        COMMS,
        &ana,
        Some(comm(
            &f.fam,
            json!({"channel": "portal", "direction": "inbound", "student_id": f.kid}),
        )),
        &headers("req-portal"),
        201,
    )
    .await;
    let mine = res.id();
    assert_eq!(
        a,
        audit(
            "create",
            &mine,
            Some(&f.kid),
            &ana_sub,
            "guardian",
            "req-portal"
        )
    );
    assert_eq!(c, change(&mine, "create", 1));
}

#[actix_web::test]
async fn a_refused_or_failed_write_records_nothing() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let id = log(&app, &f.fam, json!({"guardian_id": f.co})).await;
    let path = format!("{COMMS}/{id}");
    let admin = app.admin();
    // A contact the rules refuse, on create and on change; a stale change; a stale archive:
    // each leaves no audit event, no change record, nothing at all.
    let sms = comm(&f.fam, json!({"guardian_id": f.co, "channel": "sms"}));
    refused(&app, Method::POST, COMMS, &admin, Some(sms), 422).await;
    let to_sms = Some(json!({"channel": "sms"}));
    refused(&app, Method::PATCH, &path, &admin, to_sms, 422).await;
    let stale = [("if-match", "\"7\"")];
    let late = Some(json!({"subject": "late"}));
    refused_with(&app, Method::PATCH, &path, &admin, late, &stale, 412).await;
    refused_with(&app, Method::DELETE, &path, &admin, None, &stale, 412).await;
}

#[actix_web::test]
async fn a_guardian_cannot_keep_their_message_from_their_family() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let me = app.guardian(&f.me);
    let portal = |visibility: &str| {
        comm(
            &f.fam,
            json!({"channel": "portal", "direction": "inbound", "visibility": visibility}),
        )
    };
    let res = refused_field(
        &app,
        Method::POST,
        COMMS,
        &me,
        Some(portal("staff")),
        400,
        "visibility",
    )
    .await;
    assert!(res.body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    // Saying `family` is what happens anyway, and staff may still keep a note among themselves.
    let res = log_as(
        &app,
        &me,
        &f.fam,
        json!({"channel": "portal", "direction": "inbound", "visibility": "family"}),
    )
    .await;
    assert_eq!(res.body["visibility"], json!("family"));
    let res = log_as(&app, &app.admin(), &f.fam, json!({"visibility": "staff"})).await;
    assert_eq!(res.body["visibility"], json!("staff"));
}

#[actix_web::test]
async fn an_acknowledgement_takes_no_fields() {
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let me = app.guardian(&f.me);
    let id = log(&app, &f.fam, json!({})).await;
    let path = format!("{COMMS}/{id}/acknowledge");
    let raw = |content_type: &str, body: &str| {
        TestRequest::post()
            .uri(&path)
            .insert_header(("authorization", format!("Bearer {me}")))
            .insert_header(("content-type", content_type.to_string()))
            .set_payload(body.to_string())
            .to_request()
    };
    // Fields, even one that sounds right, a key given twice, a body that is not an object.
    for (body, field) in [
        (r#"{"note": "thanks"}"#, "note"),
        (
            r#"{"acknowledged_at": "2030-01-01T00:00:00Z"}"#,
            "acknowledged_at",
        ),
        (r#"{"note": 1, "note": 1}"#, "note"),
    ] {
        let res = assert_nothing_written!(app, app.send(raw("application/json", body)).await);
        res.assert_problem(400);
        assert!(
            res.error_fields().iter().any(|f| f == field),
            "{body}: {}",
            res.text
        );
    }
    for body in ["[]", "\"yes\"", "{"] {
        let res = assert_nothing_written!(app, app.send(raw("application/json", body)).await);
        res.assert_problem(400);
    }
    let res = assert_nothing_written!(app, app.send(raw("text/plain", "ok")).await);
    res.assert_problem(415);

    // `{}` (and the spec's empty body, `null`, which a generated client sends for none)
    // acknowledge.
    let res = app.send(raw("application/json", "{}")).await;
    res.assert_status(200);
    assert_eq!(res.body["acknowledged_by"], json!(f.me));
    let other = log(&app, &f.fam, json!({})).await;
    let res = app
        .send(
            TestRequest::post()
                .uri(&format!("{COMMS}/{other}/acknowledge"))
                .insert_header(("authorization", format!("Bearer {me}")))
                .insert_header(("content-type", "application/json"))
                .set_payload("null")
                .to_request(),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["acknowledged_by"], json!(f.me));
}
