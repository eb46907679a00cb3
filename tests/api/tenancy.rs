//! Another school's admin: the families, guardians, students and links of this school do not
//! exist for them, for reading or for writing.

use actix_web::http::Method;
use serde_json::json;

use crate::assert_nothing_written;
use crate::support::*;

#[actix_web::test]
async fn another_school_cannot_see_or_touch_them() {
    let app = TestApp::new().await;
    let (fam, g, s) = app.household().await;
    app.link(&s, &g, json!({})).await.assert_status(201);
    let b = app.other_admin();

    let family = format!("/v1/families/{fam}");
    let guardian = format!("/v1/guardians/{g}");
    let student = format!("/v1/students/{s}");
    let link = format!("/v1/students/{s}/guardians/{g}");
    for path in [&family, &guardian, &student, &link] {
        refused(&app, Method::GET, path, &b, None, 404).await;
        refused(
            &app,
            Method::PATCH,
            path,
            &b,
            Some(json!({"contact_priority": 3})),
            404,
        )
        .await;
        refused(&app, Method::DELETE, path, &b, None, 404).await;
    }
    refused(
        &app,
        Method::PATCH,
        &family,
        &b,
        Some(json!({"display_name": "Mine now"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &guardian,
        &b,
        Some(json!({"given_name": "Mine"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &student,
        &b,
        Some(json!({"given_name": "Mine"})),
        404,
    )
    .await;
    for path in [
        format!("{family}/guardians"),
        format!("{family}/students"),
        format!("{student}/guardians"),
    ] {
        refused(&app, Method::GET, &path, &b, None, 404).await;
    }
    // As a filter, another school's family matches nothing, as on every list.
    for path in [
        format!("/v1/guardians?family_id={fam}"),
        format!("/v1/students?family_id={fam}"),
        format!("/v1/communications?family_id={fam}"),
        format!("/v1/concerns?family_id={fam}"),
    ] {
        let res = assert_nothing_written!(app, app.get(&path, &b).await);
        res.assert_status(200);
        assert_eq!(res.body["data"], json!([]), "{path}");
    }
    refused(
        &app,
        Method::POST,
        &format!("{family}/guardians"),
        &b,
        Some(json!({"given_name": "X", "family_name": "Y"})),
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("{family}/students"),
        &b,
        Some(json!({"given_name": "X", "family_name": "Y"})),
        404,
    )
    .await;

    // School B's own records, for its lists and a link attempt to A's guardian.
    let b_fam = app
        .post("/v1/families", &b, json!({"display_name": "B"}))
        .await
        .id();
    let b_kid = app
        .post(
            &format!("/v1/families/{b_fam}/students"),
            &b,
            json!({"given_name": "K", "family_name": "B"}),
        )
        .await
        .id();
    refused(
        &app,
        Method::POST,
        &format!("{student}/guardians"),
        &b,
        Some(json!({"guardian_id": g})),
        404,
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("/v1/students/{b_kid}/guardians"),
        &b,
        Some(json!({"guardian_id": g})),
        422,
    )
    .await;
    assert_eq!(
        list(&app, "/v1/families", &b, "id").await,
        vec![b_fam.clone()]
    );
    assert!(list(&app, "/v1/guardians", &b, "id").await.is_empty());
    assert_eq!(list(&app, "/v1/students", &b, "id").await, vec![b_kid]);
    assert!(list(&app, "/v1/families?q=does", &b, "id").await.is_empty());

    // School A still sees its own, unchanged, and not B's.
    let a = app.get(&family, &app.admin()).await;
    assert_eq!(a.body["version"], json!(1));
    assert_eq!(id_set(&app, "/v1/families").await, vec![fam]);
    assert_eq!(id_set(&app, "/v1/students").await, vec![s]);
}

/// Statements are prepared once per connection and reused with new values: a read must answer
/// for the caller at hand, never for whoever ran the same statement before (school, role,
/// guardian), whatever the order.
#[actix_web::test]
async fn reused_statements_answer_for_each_caller() {
    let app = TestApp::new().await;
    let (ours, theirs) = (app.admin(), app.other_admin());
    let family = app.family("Ours").await;
    let other = app.family("Also ours").await;
    let guardian = app.guardian_in(&other, "Gia").await;
    let gia = app.guardian(&guardian);
    let path = format!("/v1/families/{family}");
    for _ in 0..3 {
        app.get(&path, &ours).await.assert_status(200);
        app.get(&path, &theirs).await.assert_problem(404);
        app.get(&path, &gia).await.assert_problem(404);
        app.get(&format!("/v1/families/{other}"), &gia)
            .await
            .assert_status(200);
        assert_eq!(
            ids(&app, "/v1/families", &ours).await.len(),
            2,
            "the school sees both families"
        );
        assert!(ids(&app, "/v1/families", &theirs).await.is_empty());
        assert_eq!(ids(&app, "/v1/families", &gia).await, vec![other.clone()]);
    }
}
