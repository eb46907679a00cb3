//! The community resources directory (staff write, everyone with `engagement:read` reads) and
//! referrals (staff only; a guardian sees their family's shared ones): filters, the referral
//! state machine with `allowed` on a 409, follow-up filters, records, isolation.

use actix_web::http::Method;
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::support::*;

const NOW: &str = "2026-12-01 10:00:00";

async fn resource(app: &TestApp, extra: Value) -> String {
    let res = app
        .post(
            "/v1/resources",
            &app.admin(),
            merged(
                json!({"name": "Eastside Food Pantry", "category": "food", "languages": ["en", "es"], "cost": "free",
                       "description": "Weekend food boxes", "website": "https://pantry.example.org"}),
                extra,
            ),
        )
        .await;
    res.assert_status(201);
    res.id()
}

#[actix_web::test]
async fn the_directory_is_kept_by_staff_and_read_by_families() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let (_, g, _) = app.household().await;
    let me = app.guardian(&g);
    let food = resource(&app, json!({})).await;
    let legal = resource(&app, json!({"name": "Legal Aid Clinic", "category": "legal", "languages": ["en"], "description": null, "cost": "sliding_scale"})).await;
    let closed = resource(
        &app,
        json!({"name": "Old Tutoring", "category": "tutoring", "active": false}),
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/resources",
        &me,
        Some(json!({"name": "X", "category": "food"})),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        "/v1/resources",
        &app.admin(),
        Some(json!({"name": "X", "category": "food", "website": "ftp://x"})),
        400,
        "website",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/resources",
        &app.admin(),
        Some(json!({"name": "X", "category": "pets"})),
        400,
    )
    .await;
    assert_eq!(
        sorted(ids(&app, "/v1/resources", &me).await),
        sorted([&food, &legal])
    );
    refused(
        &app,
        Method::GET,
        &format!("/v1/resources/{closed}"),
        &me,
        None,
        404,
    )
    .await;
    assert_eq!(ids(&app, "/v1/resources", &app.admin()).await.len(), 3);
    assert_eq!(
        ids(&app, "/v1/resources?category=legal", &me).await,
        vec![legal.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/resources?language=es", &me).await,
        vec![food.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/resources?q=WEEKEND", &me).await,
        vec![food.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/resources?q=clinic", &me).await,
        vec![legal.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/resources?active=false", &app.admin()).await,
        vec![closed.clone()]
    );
    refused(&app, Method::GET, "/v1/resources?kind=x", &me, None, 400).await;
    let res = app
        .patch(
            &format!("/v1/resources/{food}"),
            &app.token(Role::Teacher),
            json!({"phone": "+1 555 0100"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["phone"], "+1 555 0100");
    assert_eq!(res.body["version"], 2);
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/resources/{food}"),
        &me,
        Some(json!({"phone": "1"})),
        403,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &format!("/v1/resources/{food}"),
        &app.other_admin(),
        None,
        404,
    )
    .await;
    app.delete(&format!("/v1/resources/{legal}"), &app.admin())
        .await
        .assert_status(204);
    refused(
        &app,
        Method::GET,
        &format!("/v1/resources/{legal}"),
        &app.admin(),
        None,
        404,
    )
    .await;
    let fed = app.recorded().fed();
    assert!(fed
        .iter()
        .any(|(k, id, op, v)| k == "resources" && *id == food && op == "update" && *v == 2));
    assert!(fed
        .iter()
        .any(|(k, id, op, _)| k == "resources" && *id == legal && op == "archive"));
}

#[actix_web::test]
async fn referrals_move_through_their_states_and_families_see_the_shared_ones() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let (fam, g, kid) = app.household().await;
    app.link(&kid, &g, json!({})).await.assert_status(201);
    let me = app.guardian(&g);
    let food = resource(&app, json!({})).await;
    let other = app.family("The Roes").await;
    let pre = app.token(Role::Pre);

    refused(
        &app,
        Method::POST,
        "/v1/referrals",
        &me,
        Some(json!({"family_id": fam, "resource_id": food, "reason": "x"})),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        "/v1/referrals",
        &pre,
        Some(json!({"family_id": fam, "resource_id": fam, "reason": "x"})),
        422,
        "resource_id",
    )
    .await;
    let (_, _, stranger) = {
        let f = app.family("S").await;
        let s = app.student_in(&f, "Kai").await;
        (f, (), s)
    };
    refused_field(
        &app,
        Method::POST,
        "/v1/referrals",
        &pre,
        Some(json!({"family_id": fam, "student_id": stranger, "resource_id": food, "reason": "x"})),
        422,
        "student_id",
    )
    .await;

    let shared = app
        .post("/v1/referrals", &pre, json!({"family_id": fam, "student_id": kid, "resource_id": food, "reason": "Weekend food",
            "follow_up_due_at": "2026-12-01T18:00:00Z", "visibility": "family"}))
        .await;
    shared.assert_status(201);
    assert_eq!(shared.body["status"], "referred");
    let shared = shared.id();
    let staff_only = app
        .post("/v1/referrals", &pre, json!({"family_id": fam, "resource_id": food, "reason": "Housing worry", "follow_up_due_at": "2026-11-30T09:00:00Z"}))
        .await
        .id();
    let later = app
        .post("/v1/referrals", &pre, json!({"family_id": other, "resource_id": food, "reason": "x", "follow_up_due_at": "2026-12-09T09:00:00Z"}))
        .await
        .id();

    assert_eq!(ids(&app, "/v1/referrals", &me).await, vec![shared.clone()]);
    refused(
        &app,
        Method::GET,
        &format!("/v1/referrals/{staff_only}"),
        &me,
        None,
        404,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &format!("/v1/referrals/{later}"),
        &me,
        None,
        404,
    )
    .await;
    assert_eq!(
        sorted(ids(&app, "/v1/referrals?follow_up=due", &pre).await),
        sorted([&shared, &staff_only])
    );
    assert_eq!(
        ids(&app, "/v1/referrals?follow_up=overdue", &pre).await,
        vec![staff_only.clone()]
    );
    assert_eq!(
        ids(&app, &format!("/v1/referrals?family_id={other}"), &pre).await,
        vec![later.clone()]
    );
    assert_eq!(
        ids(
            &app,
            &format!("/v1/referrals?resource_id={food}&status=referred"),
            &pre
        )
        .await
        .len(),
        3
    );

    let moves = format!("/v1/referrals/{shared}/transitions");
    let res = refused(
        &app,
        Method::POST,
        &moves,
        &pre,
        Some(json!({"to": "connected"})),
        409,
    )
    .await;
    assert_eq!(res.body["allowed"], json!(["contacted"]));
    refused(
        &app,
        Method::POST,
        &moves,
        &me,
        Some(json!({"to": "contacted"})),
        403,
    )
    .await;
    let before = app.recorded();
    app.post(&moves, &pre, json!({"to": "contacted"}))
        .await
        .assert_status(200);
    let got = app.recorded().since(&before);
    assert_eq!(
        got.actions(),
        vec![(
            "transition".to_string(),
            "referrals".to_string(),
            shared.clone()
        )]
    );
    assert_eq!(
        got.fed(),
        vec![(
            "referrals".to_string(),
            shared.clone(),
            "update".to_string(),
            2
        )]
    );
    let res = app
        .post(
            &moves,
            &pre,
            json!({"to": "connected", "outcome_note": "Picked up a box"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["outcome_note"], "Picked up a box");
    let res = refused(
        &app,
        Method::POST,
        &moves,
        &pre,
        Some(json!({"to": "declined"})),
        409,
    )
    .await;
    assert_eq!(res.body["allowed"], json!([]));
    // A closed referral is no longer due.
    assert_eq!(
        ids(&app, "/v1/referrals?follow_up=due", &pre).await,
        vec![staff_only.clone()]
    );
    // Stale If-Match.
    refused_with(
        &app,
        Method::POST,
        &format!("/v1/referrals/{staff_only}/transitions"),
        &pre,
        Some(json!({"to": "contacted"})),
        &[("if-match", "\"7\"")],
        412,
    )
    .await;
    let res = app
        .patch(
            &format!("/v1/referrals/{staff_only}"),
            &pre,
            json!({"visibility": "family"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(ids(&app, "/v1/referrals", &me).await.len(), 2);
    // Another school sees nothing.
    refused(
        &app,
        Method::GET,
        &format!("/v1/referrals/{shared}"),
        &app.other_admin(),
        None,
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        &moves,
        &app.other_admin(),
        Some(json!({"to": "contacted"})),
        404,
    )
    .await;
}
