//! Bad input to families, guardians and students: each refusal names the field and the kind of
//! error, text with NUL characters is refused, and nothing is written.

use actix_web::http::Method;
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::support::*;

#[actix_web::test]
async fn invalid_fields_are_refused_with_their_name() {
    let app = TestApp::new().await;
    let (fam, _, _) = app.household().await;
    let families = "/v1/families";
    let guardians = format!("/v1/families/{fam}/guardians");
    let students = format!("/v1/families/{fam}/students");
    let g = |extra: Value| merged(json!({"given_name": "Ana", "family_name": "Doe"}), extra);
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
        // A list is not an object, even one whose items would each be an empty member.
        (
            families,
            json!({"display_name": "A", "address": [null, null]}),
            "address",
            "invalid",
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
    invalid(
        &app,
        Method::PATCH,
        &format!("/v1/families/{fam}"),
        json!({"address": [null, null]}),
        "address",
        "invalid",
    )
    .await;
}

#[actix_web::test]
async fn a_phone_longer_than_the_documents_max_length_is_refused_though_it_would_parse() {
    let app = TestApp::new().await;
    let (fam, g, _) = app.household().await;
    let admin = app.admin();
    let doc = serde_json::to_value(liaison::openapi::document()).unwrap();
    let max = doc["components"]["schemas"]["E164Phone"]["maxLength"]
        .as_u64()
        .unwrap() as usize;
    // Punctuation is dropped on parsing, so both would be +14155550123: the document's
    // maxLength is what decides, counted on what was sent.
    let pad = |n: usize| format!("+14155550123{}", ".".repeat(n - "+14155550123".len()));
    let (long, longest) = (pad(max + 1), pad(max));
    invalid(
        &app,
        Method::POST,
        &format!("/v1/families/{fam}/guardians"),
        json!({"given_name": "A", "family_name": "B", "phone": long}),
        "phone",
        "length",
    )
    .await;
    invalid(
        &app,
        Method::PATCH,
        &format!("/v1/guardians/{g}"),
        json!({"phone": long}),
        "phone",
        "length",
    )
    .await;
    let res = app
        .patch(
            &format!("/v1/guardians/{g}"),
            &admin,
            json!({"phone": longest}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["phone"], json!("+14155550123"));
}

#[actix_web::test]
async fn text_with_nul_characters_is_refused() {
    let app = TestApp::new().await;
    let (fam, g, s) = app.household().await;
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
