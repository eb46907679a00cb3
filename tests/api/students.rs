//! `/v1/students` and `/v1/families/{id}/students`: a student's round trip, archiving with its
//! links, and what the lists filter.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::support::*;

#[actix_web::test]
async fn student_round_trip() {
    let app = TestApp::new().await;
    let fam = app.family("The Lópezes").await;
    let body = json!({"given_name": "Sofía", "family_name": "López García", "external_id": "SIS-S-1",
                      "grade_level": "3", "date_of_birth": "2016-04-02", "has_iep": true});
    let s = create(
        &app,
        &format!("/v1/families/{fam}/students"),
        body.clone(),
        "/v1/students/",
    )
    .await;
    let id = s["id"].as_str().unwrap_or_default().to_string();
    for (k, v) in body.as_object().into_iter().flatten() {
        assert_eq!(&s[k], v, "field {k}");
    }
    assert_eq!(s["family_id"], json!(fam));

    let path = format!("/v1/students/{id}");
    let got = app.get(&path, &app.admin()).await;
    got.assert_status(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body, s);
    assert_eq!(
        id_set(&app, &format!("/v1/families/{fam}/students")).await,
        vec![id.clone()]
    );

    let res = app
        .patch(
            &path,
            &app.admin(),
            json!({"grade_level": "4", "date_of_birth": null, "has_iep": false}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["grade_level"], json!("4"));
    assert_eq!(res.body["date_of_birth"], Value::Null);
    assert_eq!(res.body["has_iep"], json!(false));
    assert_eq!(res.body["external_id"], json!("SIS-S-1"));
    assert_eq!(res.body["version"], json!(2));
    assert_eq!(res.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(app.get(&path, &app.admin()).await.body, res.body);

    let g = app.guardian_in(&fam, "Ana").await;
    app.link(&id, &g, json!({})).await.assert_status(201);
    app.delete(&path, &app.admin()).await.assert_status(204);
    refused(&app, Method::GET, &path, &app.admin(), None, 404).await;
    refused(
        &app,
        Method::GET,
        &format!("{path}/guardians/{g}"),
        &app.admin(),
        None,
        404,
    )
    .await;
    assert!(id_set(&app, "/v1/students").await.is_empty());
    assert_eq!(app.count("students"), 1);
    assert_eq!(app.count("guardian_student_links"), 1);
}

#[actix_web::test]
async fn students_filter_by_external_id_grade_iep_and_family() {
    let app = TestApp::new().await;
    let f1 = app.family("One").await;
    let f2 = app.family("Two").await;
    let mk = |fam: String, ext: &'static str, grade: &'static str, iep: bool| {
        let app = &app;
        async move {
            let body = json!({"given_name": ext, "family_name": "Doe", "external_id": ext, "grade_level": grade, "has_iep": iep});
            create(
                app,
                &format!("/v1/families/{fam}/students"),
                body,
                "/v1/students/",
            )
            .await["id"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }
    };
    let a = mk(f1.clone(), "S-1", "K", true).await;
    let b = mk(f1.clone(), "S-2", "3", false).await;
    let c = mk(f2.clone(), "S-3", "3", true).await;

    assert_eq!(
        id_set(&app, "/v1/students?external_id=S-2").await,
        vec![b.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/students?grade_level=3").await,
        sorted(vec![&b, &c])
    );
    assert_eq!(
        id_set(&app, "/v1/students?grade_level=K").await,
        vec![a.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/students?has_iep=true").await,
        sorted(vec![&a, &c])
    );
    assert_eq!(
        id_set(&app, "/v1/students?has_iep=false").await,
        vec![b.clone()]
    );
    assert_eq!(
        id_set(&app, &format!("/v1/students?family_id={f1}")).await,
        sorted(vec![&a, &b])
    );
    assert_eq!(
        id_set(&app, &format!("/v1/families/{f2}/students")).await,
        vec![c.clone()]
    );
    assert_eq!(
        id_set(&app, &format!("/v1/families/{f1}/students?has_iep=true")).await,
        vec![a.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/students?grade_level=3&has_iep=true").await,
        vec![c.clone()]
    );
    assert_eq!(id_set(&app, "/v1/students?q=s-1").await, vec![a.clone()]);
    refused(
        &app,
        Method::GET,
        "/v1/students?has_iep=maybe",
        &app.admin(),
        None,
        400,
    )
    .await;
}
