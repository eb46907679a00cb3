//! `GET /v1/me`: who the token speaks for; for a guardian also their record, family and the
//! children they may see.

use actix_web::http::Method;
use chrono::Duration;
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

const ME: &str = "/v1/me";

/// `/v1/me` as `token` reads it, writing nothing.
async fn me(app: &TestApp, token: &str) -> Value {
    let res = assert_nothing_written!(app, app.get(ME, token).await);
    res.assert_status(200);
    res.body.clone()
}

fn scopes(v: &Value) -> Vec<String> {
    sorted(
        v["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap()),
    )
}

fn claim(role: Role) -> Vec<String> {
    sorted(role.scopes().to_claim().split(' '))
}

#[actix_web::test]
async fn staff_and_services_learn_who_they_are_and_what_they_may_do() {
    let app = TestApp::new().await;
    for role in [
        Role::Admin,
        Role::Pre,
        Role::Teacher,
        Role::Counselor,
        Role::Admissions,
        Role::Integration,
    ] {
        let body = me(&app, &app.token(role)).await;
        assert_eq!(body["sub"], json!(format!("{role}-1")));
        assert_eq!(body["role"], json!(role.as_str()));
        assert_eq!(body["school_id"], json!(SCHOOL));
        assert_eq!(scopes(&body), claim(role), "{role}");
        for field in ["guardian_id", "guardian", "family", "students"] {
            assert_eq!(body[field], Value::Null, "{role}: {field}");
        }
    }
    // The integration's feed scope, the admin's audit scope: as DESIGN.md's table gives them.
    assert!(scopes(&me(&app, &app.token(Role::Integration)).await).contains(&"changes:read".into()));
    assert!(scopes(&me(&app, &app.admin()).await).contains(&"audit:read".into()));
    // A token's `scope` narrows its role and never widens it; unknown names grant nothing.
    let narrowed = app.mint(
        Role::Teacher,
        OTHER_SCHOOL,
        "t-9",
        None,
        Some("families:read audit:read bogus:scope"),
    );
    let body = me(&app, &narrowed).await;
    assert_eq!(body["school_id"], json!(OTHER_SCHOOL));
    assert_eq!(scopes(&body), ["families:read"]);
    let none = app.mint(Role::Teacher, SCHOOL, "t-0", None, Some("audit:read"));
    assert_eq!(scopes(&me(&app, &none).await), Vec::<String>::new());
}

#[actix_web::test]
async fn a_guardian_gets_their_record_family_and_the_children_they_may_see() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let fam = app
        .post(
            "/v1/families",
            &admin,
            json!({"display_name": "The Does", "notes": "custody dispute; staff only"}),
        )
        .await
        .id();
    let g = app.guardian_in(&fam, "Ana").await;
    let (kid, hidden, later) = (
        app.student_in(&fam, "Sam").await,
        app.student_in(&fam, "Sue").await,
        app.student_in(&fam, "Sid").await,
    );
    // A child of another household linked to this guardian is theirs to see too.
    let other = app.family("The Roes").await;
    let step = app.student_in(&other, "Rae").await;
    let unlinked = app.student_in(&other, "Ron").await;
    app.link(&kid, &g, json!({})).await.assert_status(201);
    app.link(&step, &g, json!({})).await.assert_status(201);
    app.link(&hidden, &g, json!({"can_view_records": false}))
        .await
        .assert_status(201);
    let tomorrow = (app.clock.today() + Duration::days(1)).to_string();
    app.link(&later, &g, json!({"starts_on": tomorrow}))
        .await
        .assert_status(201);

    let token = app.guardian(&g);
    let body = me(&app, &token).await;
    assert_eq!(body["sub"], json!(format!("guardian-{g}")));
    assert_eq!(body["role"], json!("guardian"));
    assert_eq!(body["guardian_id"], json!(g));
    assert_eq!(scopes(&body), claim(Role::Guardian));
    // The same record, family and children the guardian's own GETs give.
    let own = |path: String| {
        let (app, token) = (&app, token.clone());
        async move {
            let res = app.get(&path, &token).await;
            res.assert_status(200);
            res.body.clone()
        }
    };
    assert_eq!(body["guardian"], own(format!("/v1/guardians/{g}")).await);
    assert_eq!(body["family"], own(format!("/v1/families/{fam}")).await);
    assert_eq!(
        body["family"]["notes"],
        Value::Null,
        "staff notes stay hidden"
    );
    let students = body["students"].as_array().unwrap();
    assert_eq!(
        sorted(students.iter().map(|s| s["id"].as_str().unwrap())),
        sorted([&kid, &step])
    );
    for s in students {
        assert_eq!(
            s,
            &own(format!("/v1/students/{}", s["id"].as_str().unwrap())).await
        );
    }
    assert!(!students.iter().any(|s| [&hidden, &later, &unlinked]
        .iter()
        .any(|h| s["id"] == json!(h))));

    // A guardian's token narrowed away from `families:read` learns who it is, not the household.
    let narrowed = app.mint(
        Role::Guardian,
        SCHOOL,
        "g",
        Some(&g),
        Some("communications:read"),
    );
    let body = me(&app, &narrowed).await;
    assert_eq!(body["guardian_id"], json!(g));
    assert_eq!(scopes(&body), ["communications:read"]);
    for field in ["guardian", "family", "students"] {
        assert_eq!(body[field], Value::Null, "{field}");
    }

    // A guardian who may see no child yet: an empty list.
    let lone = app.guardian_in(&fam, "Bo").await;
    assert_eq!(me(&app, &app.guardian(&lone)).await["students"], json!([]));
}

#[actix_web::test]
async fn a_token_that_speaks_for_nobody_known_is_refused() {
    let app = TestApp::new().await;
    let res = assert_nothing_written!(app, app.call(Method::GET, ME, None, None, &[]).await);
    res.assert_problem(401);
    refused(&app, Method::GET, ME, "not.a.token", None, 401).await;
    let (fam, g, _) = app.household().await;
    // A guardian the school has never had, or has in another school: 401.
    let stranger = uuid::Uuid::now_v7().to_string();
    refused(&app, Method::GET, ME, &app.guardian(&stranger), None, 401).await;
    let elsewhere = app.mint(Role::Guardian, OTHER_SCHOOL, "g", Some(&g), None);
    refused(&app, Method::GET, ME, &elsewhere, None, 401).await;
    // A guardian the school has barred (a court order): 403.
    let barred = app.guardian_in(&fam, "Barred").await;
    merge_patch(
        &app,
        &format!("/v1/guardians/{barred}"),
        json!({"contact_allowed": false}),
    )
    .await
    .assert_status(200);
    refused(&app, Method::GET, ME, &app.guardian(&barred), None, 403).await;
    // An archived guardian (their family archived with them): 401.
    app.delete(&format!("/v1/families/{fam}"), &app.admin())
        .await
        .assert_status(204);
    refused(&app, Method::GET, ME, &app.guardian(&g), None, 401).await;
    // `/v1/me` takes no parameters and only GET.
    refused(
        &app,
        Method::GET,
        &format!("{ME}?verbose=1"),
        &app.admin(),
        None,
        400,
    )
    .await;
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        refused(&app, method, ME, &app.admin(), Some(json!({})), 405).await;
    }
}
