//! `/v1/guardians` and `/v1/families/{id}/guardians`: a guardian's round trip with its contact
//! details normalised, archiving, and what the lists filter.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::*;

fn full_guardian() -> Value {
    json!({
        "given_name": "Ana", "family_name": "López",
        "relationship": "mother", "email": " Ana.Lopez@Example.ORG ", "phone": "+1 (415) 555-0123",
        "preferred_language": "ES-mx", "preferred_channel": "email",
        "is_primary": true, "sms_opt_in": true
    })
}

#[actix_web::test]
async fn guardian_round_trip() {
    let app = TestApp::new().await;
    let fam = app.family("The Lópezes").await;
    let g = create(
        &app,
        &format!("/v1/families/{fam}/guardians"),
        full_guardian(),
        "/v1/guardians/",
    )
    .await;
    let id = g["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(g["family_id"], json!(fam));
    assert_eq!(g["given_name"], json!("Ana"));
    assert_eq!(g["family_name"], json!("López"));
    assert_eq!(g["relationship"], json!("mother"));
    assert_eq!(g["email"], json!("Ana.Lopez@example.org"));
    assert_eq!(g["phone"], json!("+14155550123"));
    assert_eq!(g["preferred_language"], json!("es-MX"));
    assert_eq!(g["preferred_channel"], json!("email"));
    assert_eq!(g["is_primary"], json!(true));
    assert_eq!(g["sms_opt_in"], json!(true));
    assert_eq!(g["contact_allowed"], json!(true));

    let path = format!("/v1/guardians/{id}");
    let got = app.get(&path, &app.admin()).await;
    got.assert_status(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body, g);
    assert_eq!(
        id_set(&app, &format!("/v1/families/{fam}/guardians")).await,
        vec![id.clone()]
    );

    // Defaults of a minimal guardian.
    let minimal = app
        .get(
            &format!("/v1/guardians/{}", app.guardian_in(&fam, "Luis").await),
            &app.admin(),
        )
        .await;
    assert_eq!(minimal.body["sms_opt_in"], json!(false));
    assert_eq!(minimal.body["contact_allowed"], json!(true));
    assert_eq!(minimal.body["email"], Value::Null);

    let res = app
        .patch(
            &path,
            &app.admin(),
            json!({"email": null, "phone": "+44 20 7946 0958", "contact_allowed": false}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["email"], Value::Null);
    assert_eq!(res.body["phone"], json!("+442079460958"));
    assert_eq!(res.body["contact_allowed"], json!(false));
    assert_eq!(res.body["relationship"], json!("mother"));
    assert_eq!(res.body["version"], json!(2));
    assert_eq!(app.get(&path, &app.admin()).await.body, res.body);

    app.delete(&path, &app.admin()).await.assert_status(204);
    refused(&app, Method::GET, &path, &app.admin(), None, 404).await;
    assert_eq!(
        id_set(&app, &format!("/v1/families/{fam}/guardians"))
            .await
            .len(),
        1
    );
    assert_eq!(app.count("guardians"), 2);
}

#[actix_web::test]
async fn guardians_filter_by_family_and_language() {
    let app = TestApp::new().await;
    let f1 = app.family("One").await;
    let f2 = app.family("Two").await;
    let a = app.guardian_in(&f1, "Ann").await;
    let b = app.guardian_in(&f1, "Bea").await;
    let c = create(
        &app,
        &format!("/v1/families/{f2}/guardians"),
        json!({"given_name": "Cy", "family_name": "Doe", "preferred_language": "vi"}),
        "/v1/guardians/",
    )
    .await;
    let c = c["id"].as_str().unwrap_or_default().to_string();

    assert_eq!(
        id_set(&app, &format!("/v1/guardians?family_id={f1}")).await,
        sorted(vec![&a, &b])
    );
    assert_eq!(
        id_set(&app, &format!("/v1/families/{f2}/guardians")).await,
        vec![c.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/guardians").await,
        sorted(vec![&a, &b, &c])
    );
    assert_eq!(
        id_set(&app, "/v1/guardians?preferred_language=VI").await,
        vec![c.clone()]
    );
    assert_eq!(id_set(&app, "/v1/guardians?q=bea").await, vec![b.clone()]);
    refused(
        &app,
        Method::GET,
        "/v1/guardians?family_id=not-a-uuid",
        &app.admin(),
        None,
        400,
    )
    .await;
    // A family that does not exist (or is another school's) matches nothing.
    assert!(id_set(
        &app,
        &format!("/v1/guardians?family_id={}", uuid::Uuid::now_v7())
    )
    .await
    .is_empty());
}
