//! `/v1/families`: what staff create, read, change by merge patch and archive, what the
//! archive takes with it, what the list filters, and external ids unique per school.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

fn full_family() -> Value {
    json!({
        "display_name": "The López-García family",
        "external_id": "SIS-F-1",
        "primary_language": "ES-mx",
        "preferred_channel": "sms",
        "sms_opt_in": true,
        "directory_opt_out": true,
        "address": {"line1": "12 Elm Street", "line2": "Apt 3", "city": "Springfield",
                    "region": "IL", "postal_code": "62701", "country": "US"},
        "notes": "Prefers afternoon calls"
    })
}

#[actix_web::test]
async fn family_round_trip() {
    let app = TestApp::new().await;
    let created = create(&app, "/v1/families", full_family(), "/v1/families/").await;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let mut want = full_family();
    want["primary_language"] = json!("es-MX");
    for (k, v) in want.as_object().into_iter().flatten() {
        assert_eq!(&created[k], v, "field {k}");
    }

    let got = app.get(&format!("/v1/families/{id}"), &app.admin()).await;
    got.assert_status(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body, created);
    assert_eq!(id_set(&app, "/v1/families").await, vec![id.clone()]);

    let patched = app
        .patch(
            &format!("/v1/families/{id}"),
            &app.admin(),
            json!({"display_name": "The López family"}),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(patched.body["display_name"], json!("The López family"));
    assert_eq!(patched.body["version"], json!(2));
    assert_eq!(
        app.get(&format!("/v1/families/{id}"), &app.admin())
            .await
            .body,
        patched.body
    );
}

#[actix_web::test]
async fn family_merge_patch_merges_nested_and_null_clears() {
    let app = TestApp::new().await;
    let id = create(&app, "/v1/families", full_family(), "/v1/families/").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/v1/families/{id}");

    let res = app.patch(&path, &app.admin(), json!({"address": {"city": "Shelbyville", "line2": null}, "notes": null, "external_id": null})).await;
    res.assert_status(200);
    let b = &res.body;
    assert_eq!(
        b["address"],
        json!({"line1": "12 Elm Street", "city": "Shelbyville", "region": "IL", "postal_code": "62701", "country": "US"})
    );
    assert_eq!(b["notes"], Value::Null);
    assert_eq!(b["external_id"], Value::Null);
    assert_eq!(b["display_name"], json!("The López-García family"));
    assert_eq!(b["primary_language"], json!("es-MX"));
    assert_eq!(b["sms_opt_in"], json!(true));

    let res = app
        .patch(&path, &app.admin(), json!({"address": null}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["address"], Value::Null);
    assert_eq!(
        app.get(&path, &app.admin()).await.body["address"],
        Value::Null
    );
}

#[actix_web::test]
async fn family_patch_without_change_keeps_version() {
    let app = TestApp::new().await;
    let created = create(&app, "/v1/families", full_family(), "/v1/families/").await;
    let path = format!(
        "/v1/families/{}",
        created["id"].as_str().unwrap_or_default()
    );
    app.set_now(at("2031-01-01 00:00:00"));
    // The same values, one spelled differently but canonically equal.
    let res = assert_nothing_written!(
        app,
        app.patch(&path, &app.admin(), json!({"primary_language": "es-mx", "display_name": "The López-García family", "address": {"city": "Springfield"}})).await
    );
    res.assert_status(200);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.body, created);
}

#[actix_web::test]
async fn family_patch_clearing_an_absent_address_keeps_version() {
    let app = TestApp::new().await;
    let id = app.family("The Smiths").await;
    let path = format!("/v1/families/{id}");
    let before = app.get(&path, &app.admin()).await.body;
    // An SIS that always sends every address field, empty ones as null.
    let res = app
        .patch(
            &path,
            &app.admin(),
            json!({"address": {"line2": null, "region": null}}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(
        res.body, before,
        "the representation is unchanged, so must the version be"
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(app.get(&path, &app.admin()).await.body["version"], json!(1));
}

#[actix_web::test]
async fn family_patch_accepts_merge_patch_media_type() {
    let app = TestApp::new().await;
    let id = app.family("The Smiths").await;
    let res = merge_patch(
        &app,
        &format!("/v1/families/{id}"),
        json!({"preferred_channel": "email", "notes": "n"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.body["preferred_channel"], json!("email"));
    assert_eq!(res.body["notes"], json!("n"));
    assert_eq!(res.body["version"], json!(2));
    assert_eq!(
        app.get(&format!("/v1/families/{id}"), &app.admin())
            .await
            .body["preferred_channel"],
        json!("email")
    );
}

#[actix_web::test]
async fn family_patch_refuses_unknown_read_only_and_invalid_fields() {
    let app = TestApp::new().await;
    let id = app.family("The Smiths").await;
    let path = format!("/v1/families/{id}");
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"nickname": "Smithies"}),
        "nickname",
        "unknown_field",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"address": {"zip": "62701"}}),
        "address.zip",
        "unknown_field",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"id": id}),
        "id",
        "unknown_field",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"version": 9}),
        "version",
        "unknown_field",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"created_at": "2020-01-01T00:00:00Z"}),
        "created_at",
        "unknown_field",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"display_name": null}),
        "display_name",
        "not_nullable",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"display_name": " "}),
        "display_name",
        "blank",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"address": {"country": "us"}}),
        "address.country",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &path,
        json!({"primary_language": "en_US"}),
        "primary_language",
        "invalid",
    )
    .await;
    let got = app.get(&path, &app.admin()).await;
    assert_eq!(got.body["display_name"], json!("The Smiths"));
    assert_eq!(got.body["version"], json!(1));
}

#[actix_web::test]
async fn family_archive_hides_it_and_everything_under_it() {
    let app = TestApp::new().await;
    let fam = app.family("The Smiths").await;
    let other = app.family("The Joneses").await;
    let g = app.guardian_in(&fam, "Ann").await;
    let s = app.student_in(&fam, "Sam").await;
    let g_other = app.guardian_in(&other, "Bob").await;
    let s_other = app.student_in(&other, "Tim").await;
    app.link(&s, &g, json!({})).await.assert_status(201);
    app.link(&s, &g_other, json!({})).await.assert_status(201);
    app.link(&s_other, &g, json!({})).await.assert_status(201);
    app.link(&s_other, &g_other, json!({}))
        .await
        .assert_status(201);

    let res = app
        .delete(&format!("/v1/families/{fam}"), &app.admin())
        .await;
    res.assert_status(204);
    assert!(res.text.is_empty());

    let admin = app.admin();
    for path in [
        format!("/v1/families/{fam}"),
        format!("/v1/families/{fam}/guardians"),
        format!("/v1/families/{fam}/students"),
        format!("/v1/guardians/{g}"),
        format!("/v1/students/{s}"),
        format!("/v1/students/{s}/guardians"),
        format!("/v1/students/{s}/guardians/{g}"),
        format!("/v1/students/{s}/guardians/{g_other}"),
        format!("/v1/students/{s_other}/guardians/{g}"),
    ] {
        refused(&app, Method::GET, &path, &admin, None, 404).await;
    }
    assert_eq!(id_set(&app, "/v1/families").await, vec![other.clone()]);
    assert_eq!(id_set(&app, "/v1/guardians").await, vec![g_other.clone()]);
    assert_eq!(id_set(&app, "/v1/students").await, vec![s_other.clone()]);
    // The other family's child keeps only its own family's guardian.
    assert_eq!(
        list(
            &app,
            &format!("/v1/students/{s_other}/guardians"),
            &admin,
            "guardian_id"
        )
        .await,
        vec![g_other.clone()]
    );
    // The other family's guardian stays.
    app.get(&format!("/v1/guardians/{g_other}"), &admin)
        .await
        .assert_status(200);
    // Archived, not deleted.
    assert_eq!(app.count("families"), 2);
    assert_eq!(app.count("guardians"), 2);
    assert_eq!(app.count("students"), 2);
    assert_eq!(app.count("guardian_student_links"), 4);
    // A second archive finds nothing.
    refused(
        &app,
        Method::DELETE,
        &format!("/v1/families/{fam}"),
        &admin,
        None,
        404,
    )
    .await;
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/families/{fam}"),
        &admin,
        Some(json!({"notes": "x"})),
        404,
    )
    .await;
}

#[actix_web::test]
async fn families_filter_by_text_taken_literally_and_case_insensitively() {
    let app = TestApp::new().await;
    let smith = app.family("The Smith family").await;
    let smithson = app.family("The SMITHSON family").await;
    let pct = app.family("100% Jones").await;
    let under = app.family("A_B household").await;
    let _axb = app.family("AxB household").await;
    let _plain = app.family("100 Jones").await;

    assert_eq!(
        id_set(&app, "/v1/families?q=smith").await,
        sorted(vec![&smith, &smithson])
    );
    assert_eq!(
        id_set(&app, "/v1/families?q=sMiThSoN").await,
        vec![smithson.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/families?q=100%25").await,
        vec![pct.clone()]
    );
    assert_eq!(id_set(&app, "/v1/families?q=%25").await, vec![pct.clone()]);
    assert_eq!(
        id_set(&app, "/v1/families?q=A_B").await,
        vec![under.clone()]
    );
    assert_eq!(id_set(&app, "/v1/families?q=_").await, vec![under.clone()]);
    assert_eq!(
        id_set(&app, "/v1/families?q=%5C").await,
        Vec::<String>::new()
    );
    assert!(id_set(&app, "/v1/families?q=nobody").await.is_empty());
}

#[actix_web::test]
async fn families_filter_by_text_ignores_case_beyond_ascii() {
    let app = TestApp::new().await;
    let alvarez = app.family("The ÁLVAREZ family").await;
    let ozturk = app.family("The Öztürk family").await;
    assert_eq!(
        id_set(&app, "/v1/families?q=%C3%A1lvarez").await,
        vec![alvarez],
        "q=álvarez"
    );
    assert_eq!(
        id_set(&app, "/v1/families?q=%C3%B6zt%C3%BCrk").await,
        vec![ozturk],
        "q=öztürk"
    );
}

#[actix_web::test]
async fn families_filter_by_external_id_language_and_updated_since() {
    let app = TestApp::new().await;
    app.set_now(at("2030-01-01 08:00:00"));
    let a = create(
        &app,
        "/v1/families",
        json!({"display_name": "A", "external_id": "F-1", "primary_language": "es-MX"}),
        "/v1/families/",
    )
    .await;
    app.set_now(at("2030-01-02 08:00:00"));
    let b = create(
        &app,
        "/v1/families",
        json!({"display_name": "B", "external_id": "F-2", "primary_language": "EN"}),
        "/v1/families/",
    )
    .await;
    let (a, b) = (
        a["id"].as_str().unwrap_or_default().to_string(),
        b["id"].as_str().unwrap_or_default().to_string(),
    );

    assert_eq!(
        id_set(&app, "/v1/families?external_id=F-2").await,
        vec![b.clone()]
    );
    assert!(id_set(&app, "/v1/families?external_id=f-2")
        .await
        .is_empty());
    assert_eq!(
        id_set(&app, "/v1/families?primary_language=ES-mx").await,
        vec![a.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/families?primary_language=en").await,
        vec![b.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/families?updated_since=2030-01-01T00:00:00Z").await,
        sorted(vec![&a, &b])
    );
    assert_eq!(
        id_set(&app, "/v1/families?updated_since=2030-01-02T08:00:00Z").await,
        vec![b.clone()]
    );
    assert!(
        id_set(&app, "/v1/families?updated_since=2030-01-02T08:00:01Z")
            .await
            .is_empty()
    );

    app.set_now(at("2030-01-03 09:30:00"));
    app.patch(
        &format!("/v1/families/{a}"),
        &app.admin(),
        json!({"notes": "called"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        id_set(&app, "/v1/families?updated_since=2030-01-03T00:00:00Z").await,
        vec![a.clone()]
    );
    assert_eq!(
        id_set(
            &app,
            "/v1/families?updated_since=2030-01-03T10:30:00%2B01:00"
        )
        .await,
        vec![a.clone()]
    );
    assert_eq!(
        id_set(&app, "/v1/families?external_id=F-1&primary_language=en").await,
        Vec::<String>::new()
    );

    for bad in [
        "updated_since=yesterday",
        "primary_language=en_US",
        "colour=red",
    ] {
        refused(
            &app,
            Method::GET,
            &format!("/v1/families?{bad}"),
            &app.admin(),
            None,
            400,
        )
        .await;
    }
}

#[actix_web::test]
async fn external_ids_are_unique_per_school_among_active_records() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let holder = create(
        &app,
        "/v1/families",
        json!({"display_name": "A", "external_id": "F-1"}),
        "/v1/families/",
    )
    .await;
    let holder = holder["id"].as_str().unwrap_or_default().to_string();
    refused(
        &app,
        Method::POST,
        "/v1/families",
        &admin,
        Some(json!({"display_name": "B", "external_id": "F-1"})),
        409,
    )
    .await;
    let other = app.family("C").await;
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/families/{other}"),
        &admin,
        Some(json!({"external_id": "F-1"})),
        409,
    )
    .await;

    let s = create(
        &app,
        &format!("/v1/families/{other}/students"),
        json!({"given_name": "S", "family_name": "D", "external_id": "S-1"}),
        "/v1/students/",
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("/v1/families/{holder}/students"),
        &admin,
        Some(json!({"given_name": "T", "family_name": "D", "external_id": "S-1"})),
        409,
    )
    .await;

    // Another school may hold the same SIS ids.
    let b = app.other_admin();
    let res = app
        .post(
            "/v1/families",
            &b,
            json!({"display_name": "B", "external_id": "F-1"}),
        )
        .await;
    res.assert_status(201);
    let res = app
        .post(
            &format!("/v1/families/{}/students", res.id()),
            &b,
            json!({"given_name": "S", "family_name": "D", "external_id": "S-1"}),
        )
        .await;
    res.assert_status(201);

    // Once the holder is archived, the id is free again.
    app.delete(&format!("/v1/families/{holder}"), &admin)
        .await
        .assert_status(204);
    app.patch(
        &format!("/v1/families/{other}"),
        &admin,
        json!({"external_id": "F-1"}),
    )
    .await
    .assert_status(200);
    app.delete(
        &format!("/v1/students/{}", s["id"].as_str().unwrap_or_default()),
        &admin,
    )
    .await
    .assert_status(204);
    create(
        &app,
        &format!("/v1/families/{other}/students"),
        json!({"given_name": "T", "family_name": "D", "external_id": "S-1"}),
        "/v1/students/",
    )
    .await;
    assert_eq!(
        id_set(&app, "/v1/families?external_id=F-1").await,
        vec![other]
    );
}
