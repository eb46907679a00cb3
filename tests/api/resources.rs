//! Families, guardians, students and the links between them: what staff create, read, change
//! and archive, what the lists filter, what is refused, and what another school never sees.

use actix_web::http::Method;
use chrono::{Duration, NaiveDateTime, Utc};
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

/// A time for `set_now`, as `YYYY-MM-DD HH:MM:SS` (UTC).
fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The admin of the other school.
fn other_admin(app: &TestApp) -> String {
    app.mint(Role::Admin, OTHER_SCHOOL, "x", None, None)
}

/// POSTs as the admin and asserts a 201 at version 1 with ETag "1".
async fn create_at(app: &TestApp, path: &str, body: Value) -> Res {
    let res = app.post(path, &app.admin(), body).await;
    res.assert_status(201);
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(res.body["version"], json!(1));
    res
}

/// As `create_at`, and asserts `Location` is `{location_prefix}{id}`; returns the body.
async fn create(app: &TestApp, path: &str, body: Value, location_prefix: &str) -> Value {
    let res = create_at(app, path, body).await;
    assert_eq!(
        res.header("location"),
        Some(format!("{location_prefix}{}", res.id()))
    );
    res.body
}

/// GETs a list (asserting 200) and returns `key` of each item, sorted.
async fn list(app: &TestApp, path: &str, token: &str, key: &str) -> Vec<String> {
    let res = app.get(path, token).await;
    res.assert_status(200);
    let items = res.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", res.text));
    let mut out: Vec<String> = items
        .iter()
        .map(|i| i[key].as_str().unwrap_or_default().to_string())
        .collect();
    out.sort();
    out
}

/// The ids of a list, as the admin sees it.
async fn ids(app: &TestApp, path: &str) -> Vec<String> {
    list(app, path, &app.admin(), "id").await
}

fn sorted(mut v: Vec<&String>) -> Vec<String> {
    v.sort();
    v.into_iter().cloned().collect()
}

/// Sends a request that must be refused with `status`, writing nothing; returns the answer.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: u16,
) -> Res {
    let res = assert_nothing_written!(
        app,
        app.call(method, path, Some(token), body.as_ref(), &[])
            .await
    );
    res.assert_problem(status);
    res
}

/// Asserts a 400 from the admin's request naming `field` with `code` (and a message).
async fn invalid(app: &TestApp, method: Method, path: &str, body: Value, field: &str, code: &str) {
    let res = refused(app, method, path, &app.admin(), Some(body.clone()), 400).await;
    let errors = res.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors for {body}: {}", res.text));
    let e = errors
        .iter()
        .find(|e| e["field"] == json!(field) && e["code"] == json!(code))
        .unwrap_or_else(|| panic!("no `{code}` error on `{field}` for {body}: {}", res.text));
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        res.text
    );
}

/// A PATCH sent as `application/merge-patch+json`.
async fn merge_patch(app: &TestApp, path: &str, body: Value) -> Res {
    let req = actix_web::test::TestRequest::patch()
        .uri(path)
        .insert_header(("authorization", format!("Bearer {}", app.admin())))
        .insert_header(("content-type", "application/merge-patch+json"))
        .set_payload(body.to_string())
        .to_request();
    app.send(req).await
}

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

// ---------------------------------------------------------------- families

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
    assert_eq!(ids(&app, "/v1/families").await, vec![id.clone()]);

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
    assert_eq!(ids(&app, "/v1/families").await, vec![other.clone()]);
    assert_eq!(ids(&app, "/v1/guardians").await, vec![g_other.clone()]);
    assert_eq!(ids(&app, "/v1/students").await, vec![s_other.clone()]);
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
        ids(&app, "/v1/families?q=smith").await,
        sorted(vec![&smith, &smithson])
    );
    assert_eq!(
        ids(&app, "/v1/families?q=sMiThSoN").await,
        vec![smithson.clone()]
    );
    assert_eq!(ids(&app, "/v1/families?q=100%25").await, vec![pct.clone()]);
    assert_eq!(ids(&app, "/v1/families?q=%25").await, vec![pct.clone()]);
    assert_eq!(ids(&app, "/v1/families?q=A_B").await, vec![under.clone()]);
    assert_eq!(ids(&app, "/v1/families?q=_").await, vec![under.clone()]);
    assert_eq!(ids(&app, "/v1/families?q=%5C").await, Vec::<String>::new());
    assert!(ids(&app, "/v1/families?q=nobody").await.is_empty());
}

#[actix_web::test]
async fn families_filter_by_text_ignores_case_beyond_ascii() {
    let app = TestApp::new().await;
    let alvarez = app.family("The ÁLVAREZ family").await;
    let ozturk = app.family("The Öztürk family").await;
    assert_eq!(
        ids(&app, "/v1/families?q=%C3%A1lvarez").await,
        vec![alvarez],
        "q=álvarez"
    );
    assert_eq!(
        ids(&app, "/v1/families?q=%C3%B6zt%C3%BCrk").await,
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
        ids(&app, "/v1/families?external_id=F-2").await,
        vec![b.clone()]
    );
    assert!(ids(&app, "/v1/families?external_id=f-2").await.is_empty());
    assert_eq!(
        ids(&app, "/v1/families?primary_language=ES-mx").await,
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/families?primary_language=en").await,
        vec![b.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/families?updated_since=2030-01-01T00:00:00Z").await,
        sorted(vec![&a, &b])
    );
    assert_eq!(
        ids(&app, "/v1/families?updated_since=2030-01-02T08:00:00Z").await,
        vec![b.clone()]
    );
    assert!(ids(&app, "/v1/families?updated_since=2030-01-02T08:00:01Z")
        .await
        .is_empty());

    app.set_now(at("2030-01-03 09:30:00"));
    app.patch(
        &format!("/v1/families/{a}"),
        &app.admin(),
        json!({"notes": "called"}),
    )
    .await
    .assert_status(200);
    assert_eq!(
        ids(&app, "/v1/families?updated_since=2030-01-03T00:00:00Z").await,
        vec![a.clone()]
    );
    assert_eq!(
        ids(
            &app,
            "/v1/families?updated_since=2030-01-03T10:30:00%2B01:00"
        )
        .await,
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/families?external_id=F-1&primary_language=en").await,
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
    let b = other_admin(&app);
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
    assert_eq!(ids(&app, "/v1/families?external_id=F-1").await, vec![other]);
}

// ---------------------------------------------------------------- guardians

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
        ids(&app, &format!("/v1/families/{fam}/guardians")).await,
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
        ids(&app, &format!("/v1/families/{fam}/guardians"))
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
        ids(&app, &format!("/v1/guardians?family_id={f1}")).await,
        sorted(vec![&a, &b])
    );
    assert_eq!(
        ids(&app, &format!("/v1/families/{f2}/guardians")).await,
        vec![c.clone()]
    );
    assert_eq!(ids(&app, "/v1/guardians").await, sorted(vec![&a, &b, &c]));
    assert_eq!(
        ids(&app, "/v1/guardians?preferred_language=VI").await,
        vec![c.clone()]
    );
    assert_eq!(ids(&app, "/v1/guardians?q=bea").await, vec![b.clone()]);
    refused(
        &app,
        Method::GET,
        "/v1/guardians?family_id=not-a-uuid",
        &app.admin(),
        None,
        400,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &format!("/v1/guardians?family_id={}", uuid::Uuid::now_v7()),
        &app.admin(),
        None,
        404,
    )
    .await;
}

// ---------------------------------------------------------------- students

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
        ids(&app, &format!("/v1/families/{fam}/students")).await,
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
    assert!(ids(&app, "/v1/students").await.is_empty());
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
        ids(&app, "/v1/students?external_id=S-2").await,
        vec![b.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/students?grade_level=3").await,
        sorted(vec![&b, &c])
    );
    assert_eq!(
        ids(&app, "/v1/students?grade_level=K").await,
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/students?has_iep=true").await,
        sorted(vec![&a, &c])
    );
    assert_eq!(
        ids(&app, "/v1/students?has_iep=false").await,
        vec![b.clone()]
    );
    assert_eq!(
        ids(&app, &format!("/v1/students?family_id={f1}")).await,
        sorted(vec![&a, &b])
    );
    assert_eq!(
        ids(&app, &format!("/v1/families/{f2}/students")).await,
        vec![c.clone()]
    );
    assert_eq!(
        ids(&app, &format!("/v1/families/{f1}/students?has_iep=true")).await,
        vec![a.clone()]
    );
    assert_eq!(
        ids(&app, "/v1/students?grade_level=3&has_iep=true").await,
        vec![c.clone()]
    );
    assert_eq!(ids(&app, "/v1/students?q=s-1").await, vec![a.clone()]);
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

// ---------------------------------------------------------------- links

/// A family with a guardian and a student; returns (family, guardian, student).
async fn household(app: &TestApp) -> (String, String, String) {
    let fam = app.family("The Does").await;
    let g = app.guardian_in(&fam, "Ana").await;
    let s = app.student_in(&fam, "Sam").await;
    (fam, g, s)
}

#[actix_web::test]
async fn link_round_trip() {
    let app = TestApp::new().await;
    let (_, g, s) = household(&app).await;
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
    let (fam, g, s) = household(&app).await;
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
    let (_, g, s) = household(&app).await;
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
    let (_, g, s) = household(&app).await;
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
    let b = other_admin(&app);
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
    let (fam, open, s) = household(&app).await;
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

// ---------------------------------------------------------------- validation

#[actix_web::test]
async fn invalid_fields_are_refused_with_their_name() {
    let app = TestApp::new().await;
    let (fam, _, _) = household(&app).await;
    let families = "/v1/families";
    let guardians = format!("/v1/families/{fam}/guardians");
    let students = format!("/v1/families/{fam}/students");
    let g = |extra: Value| {
        let mut b = json!({"given_name": "Ana", "family_name": "Doe"});
        b.as_object_mut()
            .into_iter()
            .for_each(|m| m.extend(extra.as_object().cloned().unwrap_or_default()));
        b
    };
    let tomorrow = (Utc::now().date_naive() + Duration::days(2)).to_string();

    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            families,
            json!({"display_name": "   "}),
            "display_name",
            "blank",
        ),
        (
            families,
            json!({"display_name": ""}),
            "display_name",
            "length",
        ),
        (families, json!({}), "display_name", "required"),
        (
            families,
            json!({"display_name": "A", "primary_language": "english1"}),
            "primary_language",
            "invalid",
        ),
        (
            families,
            json!({"display_name": "A", "preferred_channel": "fax"}),
            "preferred_channel",
            "invalid",
        ),
        (
            families,
            json!({"display_name": "A", "external_id": " F-1"}),
            "external_id",
            "invalid",
        ),
        (
            families,
            json!({"display_name": "A", "sms_opt_in": "yes"}),
            "sms_opt_in",
            "invalid",
        ),
        (
            families,
            json!({"display_name": "A", "address": {"city": ""}}),
            "address.city",
            "length",
        ),
        (
            families,
            json!({"display_name": "A", "id": "x"}),
            "id",
            "unknown_field",
        ),
        (
            guardians.as_str(),
            g(json!({"email": "ana@"})),
            "email",
            "invalid",
        ),
        (
            guardians.as_str(),
            g(json!({"email": "ana@localhost"})),
            "email",
            "invalid",
        ),
        (
            guardians.as_str(),
            g(json!({"phone": "415 555 0123"})),
            "phone",
            "invalid",
        ),
        (
            guardians.as_str(),
            g(json!({"phone": "+1 415 CALL ME"})),
            "phone",
            "invalid",
        ),
        (
            guardians.as_str(),
            g(json!({"preferred_language": "en_US"})),
            "preferred_language",
            "invalid",
        ),
        (
            guardians.as_str(),
            g(json!({"relationship": "aunt"})),
            "relationship",
            "invalid",
        ),
        (
            guardians.as_str(),
            g(json!({"relationship": "Mother"})),
            "relationship",
            "invalid",
        ),
        (
            guardians.as_str(),
            json!({"given_name": "Ana"}),
            "family_name",
            "required",
        ),
        (
            guardians.as_str(),
            g(json!({"given_name": "\t"})),
            "given_name",
            "blank",
        ),
        (
            students.as_str(),
            json!({"given_name": "S", "family_name": "D", "date_of_birth": tomorrow}),
            "date_of_birth",
            "range",
        ),
        (
            students.as_str(),
            json!({"given_name": "S", "family_name": "D", "date_of_birth": "1899-12-31"}),
            "date_of_birth",
            "range",
        ),
        (
            students.as_str(),
            json!({"given_name": "S", "family_name": "D", "date_of_birth": "02/04/2016"}),
            "date_of_birth",
            "invalid",
        ),
        (
            students.as_str(),
            json!({"given_name": "S", "family_name": "D", "grade_level": ""}),
            "grade_level",
            "length",
        ),
    ];
    for (path, body, field, code) in cases {
        invalid(&app, Method::POST, path, body, field, code).await;
    }
}

#[actix_web::test]
async fn text_with_nul_characters_is_refused() {
    let app = TestApp::new().await;
    let (fam, g, s) = household(&app).await;
    let admin = app.admin();
    let nul = "A\u{0}B";
    invalid(
        &app,
        Method::POST,
        "/v1/families",
        json!({"display_name": nul}),
        "display_name",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/v1/families",
        json!({"display_name": "A", "notes": nul}),
        "notes",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        "/v1/families",
        json!({"display_name": "A", "address": {"line1": nul}}),
        "address.line1",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &format!("/v1/families/{fam}/guardians"),
        json!({"given_name": nul, "family_name": "D"}),
        "given_name",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::POST,
        &format!("/v1/families/{fam}/students"),
        json!({"given_name": "S", "family_name": "D", "external_id": nul}),
        "external_id",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &format!("/v1/families/{fam}"),
        json!({"notes": nul}),
        "notes",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &format!("/v1/guardians/{g}"),
        json!({"family_name": nul}),
        "family_name",
        "invalid",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &format!("/v1/students/{s}"),
        json!({"grade_level": nul}),
        "grade_level",
        "invalid",
    )
    .await;
    for q in [
        "/v1/families?q=A%00B",
        "/v1/families?external_id=%00",
        "/v1/students?grade_level=%00",
        "/v1/guardians?q=%00",
    ] {
        refused(&app, Method::GET, q, &admin, None, 400).await;
    }
}

// ---------------------------------------------------------------- tenancy

#[actix_web::test]
async fn another_school_cannot_see_or_touch_them() {
    let app = TestApp::new().await;
    let (fam, g, s) = household(&app).await;
    app.link(&s, &g, json!({})).await.assert_status(201);
    let b = other_admin(&app);

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
        format!("/v1/guardians?family_id={fam}"),
        format!("/v1/students?family_id={fam}"),
    ] {
        refused(&app, Method::GET, &path, &b, None, 404).await;
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
    assert_eq!(ids(&app, "/v1/families").await, vec![fam]);
    assert_eq!(ids(&app, "/v1/students").await, vec![s]);
}
