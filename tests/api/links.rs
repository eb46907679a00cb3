//! `/v1/students/{id}/guardians`: the links between a child and a guardian: their round trip,
//! what archiving a guardian does to them, links across households, what is refused, and
//! whether a link holds today.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::*;

#[actix_web::test]
async fn link_round_trip() {
    let app = TestApp::new().await;
    let (_, g, s) = app.household().await;
    let body = json!({"guardian_id": g, "relationship": "foster_parent", "legal_guardian": true, "lives_with": true,
                      "emergency_contact": true, "contact_priority": 1, "can_view_records": false,
                      "contact_restricted": true, "starts_on": "2020-09-01", "ends_on": "2199-06-30"});
    let res = create_at(&app, &format!("/v1/students/{s}/guardians"), body.clone()).await;
    let path = format!("/v1/students/{s}/guardians/{g}");
    assert_eq!(res.header("location"), Some(path.clone()));
    let link = res.body;
    for (k, v) in body.as_object().into_iter().flatten() {
        assert_eq!(&link[k], v, "field {k}");
    }
    assert_eq!(link["student_id"], json!(s));
    assert_eq!(link["current"], json!(true));

    let got = app.get(&path, &app.admin()).await;
    got.assert_status(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body, link);
    assert_eq!(
        list(
            &app,
            &format!("/v1/students/{s}/guardians"),
            &app.admin(),
            "guardian_id"
        )
        .await,
        vec![g.clone()]
    );

    let res = app
        .patch(
            &path,
            &app.admin(),
            json!({"contact_priority": 2, "ends_on": null, "relationship": null}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["contact_priority"], json!(2));
    assert_eq!(res.body["ends_on"], Value::Null);
    assert_eq!(res.body["relationship"], Value::Null);
    assert_eq!(res.body["legal_guardian"], json!(true));
    assert_eq!(res.body["version"], json!(2));
    assert_eq!(app.get(&path, &app.admin()).await.body, res.body);

    app.delete(&path, &app.admin()).await.assert_status(204);
    refused(&app, Method::GET, &path, &app.admin(), None, 404).await;
    assert!(list(
        &app,
        &format!("/v1/students/{s}/guardians"),
        &app.admin(),
        "id"
    )
    .await
    .is_empty());
    assert_eq!(app.count("guardian_student_links"), 1);
    // The guardian and student remain, and may be linked again.
    app.get(&format!("/v1/guardians/{g}"), &app.admin())
        .await
        .assert_status(200);
    let again = app.link(&s, &g, json!({})).await;
    again.assert_status(201);
    assert_eq!(again.body["can_view_records"], json!(true));
    assert_eq!(again.body["contact_restricted"], json!(false));
    assert_eq!(again.body["legal_guardian"], json!(false));
}

#[actix_web::test]
async fn archiving_a_guardian_removes_its_links() {
    let app = TestApp::new().await;
    let (fam, g, s) = app.household().await;
    let g2 = app.guardian_in(&fam, "Luis").await;
    app.link(&s, &g, json!({})).await.assert_status(201);
    app.link(&s, &g2, json!({})).await.assert_status(201);
    app.delete(&format!("/v1/guardians/{g}"), &app.admin())
        .await
        .assert_status(204);
    assert_eq!(
        list(
            &app,
            &format!("/v1/students/{s}/guardians"),
            &app.admin(),
            "guardian_id"
        )
        .await,
        vec![g2]
    );
    refused(
        &app,
        Method::GET,
        &format!("/v1/students/{s}/guardians/{g}"),
        &app.admin(),
        None,
        404,
    )
    .await;
}

#[actix_web::test]
async fn a_child_may_be_linked_to_a_guardian_of_another_family() {
    let app = TestApp::new().await;
    let (_, g, s) = app.household().await;
    let other = app.family("The Roes").await;
    let dad = app.guardian_in(&other, "Rick").await;
    app.link(&s, &g, json!({"relationship": "mother"}))
        .await
        .assert_status(201);
    let res = app
        .link(
            &s,
            &dad,
            json!({"relationship": "father", "lives_with": false}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.body["guardian_id"], json!(dad));
    assert_eq!(
        list(
            &app,
            &format!("/v1/students/{s}/guardians"),
            &app.admin(),
            "guardian_id"
        )
        .await,
        sorted(vec![&g, &dad])
    );
    app.get(&format!("/v1/students/{s}/guardians/{dad}"), &app.admin())
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn link_refusals() {
    let app = TestApp::new().await;
    let (_, g, s) = app.household().await;
    let admin = app.admin();
    let links = format!("/v1/students/{s}/guardians");
    app.link(&s, &g, json!({})).await.assert_status(201);

    // One active link per pair.
    refused(
        &app,
        Method::POST,
        &links,
        &admin,
        Some(json!({"guardian_id": g, "relationship": "mother"})),
        409,
    )
    .await;

    // The guardian must exist in this school, and be active.
    let unknown = uuid::Uuid::now_v7().to_string();
    let res = refused(
        &app,
        Method::POST,
        &links,
        &admin,
        Some(json!({"guardian_id": unknown})),
        422,
    )
    .await;
    assert_eq!(res.error_fields(), vec!["guardian_id"]);
    let b = app.other_admin();
    let b_fam = app
        .post("/v1/families", &b, json!({"display_name": "B"}))
        .await
        .id();
    let b_g = app
        .post(
            &format!("/v1/families/{b_fam}/guardians"),
            &b,
            json!({"given_name": "B", "family_name": "B"}),
        )
        .await
        .id();
    let res = refused(
        &app,
        Method::POST,
        &links,
        &admin,
        Some(json!({"guardian_id": b_g})),
        422,
    )
    .await;
    assert_eq!(res.error_fields(), vec!["guardian_id"]);
    let gone = app.guardian_in(&app.family("Gone").await, "Gone").await;
    app.delete(&format!("/v1/guardians/{gone}"), &admin)
        .await
        .assert_status(204);
    let res = refused(
        &app,
        Method::POST,
        &links,
        &admin,
        Some(json!({"guardian_id": gone})),
        422,
    )
    .await;
    assert_eq!(res.error_fields(), vec!["guardian_id"]);

    // Unknown student.
    refused(
        &app,
        Method::POST,
        &format!("/v1/students/{unknown}/guardians"),
        &admin,
        Some(json!({"guardian_id": g})),
        404,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &format!("/v1/students/{s}/guardians/{unknown}"),
        &admin,
        None,
        404,
    )
    .await;

    // Dates in order, priorities in range, known fields.
    let g2 = app.guardian_in(&app.family("Two").await, "Two").await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"guardian_id": g2, "starts_on": "2024-09-01", "ends_on": "2024-08-31"}),
        "ends_on",
        "range",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"guardian_id": g2, "contact_priority": 0}),
        "contact_priority",
        "range",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"guardian_id": g2, "contact_priority": 100}),
        "contact_priority",
        "range",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"guardian_id": g2, "relationship": "aunt"}),
        "relationship",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"guardian_id": g2, "starts_on": "2024-02-30"}),
        "starts_on",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"relationship": "mother"}),
        "guardian_id",
        "required",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &links,
        json!({"guardian_id": g2, "current": true}),
        "current",
        "unknown_field",
    )
    .await;

    let path = format!("{links}/{g}");
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"guardian_id": g2}),
        "guardian_id",
        "immutable",
    )
    .await;
    app.patch(&path, &admin, json!({"starts_on": "2024-09-01"}))
        .await
        .assert_status(200);
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"ends_on": "2024-08-31"}),
        "ends_on",
        "range",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"contact_priority": 100}),
        "contact_priority",
        "range",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"student_id": s}),
        "student_id",
        "unknown_field",
    )
    .await;
    assert_eq!(app.get(&path, &admin).await.body["guardian_id"], json!(g));
}

#[actix_web::test]
async fn links_know_whether_they_hold_today() {
    let app = TestApp::new().await;
    app.set_now(at("2030-06-15 12:00:00"));
    let (fam, open, s) = app.household().await;
    let ended = app.guardian_in(&fam, "Ended").await;
    let future = app.guardian_in(&fam, "Future").await;
    let last_day = app.guardian_in(&fam, "LastDay").await;
    app.link(&s, &open, json!({})).await.assert_status(201);
    let res = app
        .link(
            &s,
            &ended,
            json!({"starts_on": "2029-09-01", "ends_on": "2030-06-14"}),
        )
        .await;
    assert_eq!(res.body["current"], json!(false));
    let res = app
        .link(&s, &future, json!({"starts_on": "2030-06-16"}))
        .await;
    assert_eq!(res.body["current"], json!(false));
    let res = app
        .link(
            &s,
            &last_day,
            json!({"starts_on": "2030-06-15", "ends_on": "2030-06-15"}),
        )
        .await;
    assert_eq!(res.body["current"], json!(true));

    let links = format!("/v1/students/{s}/guardians");
    let admin = app.admin();
    let current = |v: bool| format!("{links}?current={v}");
    assert_eq!(
        list(&app, &current(true), &admin, "guardian_id").await,
        sorted(vec![&open, &last_day])
    );
    assert_eq!(
        list(&app, &current(false), &admin, "guardian_id").await,
        sorted(vec![&ended, &future])
    );
    assert_eq!(list(&app, &links, &admin, "guardian_id").await.len(), 4);
    assert_eq!(
        app.get(&format!("{links}/{ended}"), &admin).await.body["current"],
        json!(false)
    );

    // A day later the future link holds and the one-day link does not.
    app.set_now(at("2030-06-16 00:00:00"));
    assert_eq!(
        list(&app, &current(true), &admin, "guardian_id").await,
        sorted(vec![&open, &future])
    );
    assert_eq!(
        list(&app, &current(false), &admin, "guardian_id").await,
        sorted(vec![&ended, &last_day])
    );
    assert_eq!(
        app.get(&format!("{links}/{future}"), &admin).await.body["current"],
        json!(true)
    );

    // Ending a link today keeps it current until tomorrow.
    let res = app
        .patch(
            &format!("{links}/{open}"),
            &admin,
            json!({"ends_on": "2030-06-16"}),
        )
        .await;
    assert_eq!(res.body["current"], json!(true));
    let res = app
        .patch(
            &format!("{links}/{open}"),
            &admin,
            json!({"ends_on": "2030-06-15"}),
        )
        .await;
    assert_eq!(res.body["current"], json!(false));
    refused(
        &app,
        Method::GET,
        &format!("{links}?current=yes"),
        &admin,
        None,
        400,
    )
    .await;
}
