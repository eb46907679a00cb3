//! How bodies and query strings are checked: every field error at once, in the schema's words,
//! timestamps and dates within RFC 3339 and the years allowed, merge-patch `null` only where a
//! field may be empty, and no unknown or repeated key on any body.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use liaison::http::check::{DATE_PATTERN, DATE_TIME_PATTERN};
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

/// Words that come from Rust types and parsers, never from the schema or the domain.
const INTERNALS: [&str; 20] = [
    "invalid digit",
    "invalid type",
    "invalid value",
    "expected",
    "struct ",
    "variant",
    "missing field",
    "u32",
    "i32",
    "Uuid",
    "UUID parsing failed",
    "DateTime",
    "NaiveDate",
    "premature end",
    "input contains",
    "out of range",
    "trailing",
    "EOF",
    "Input",
    "Query",
];

/// A family with a guardian, a student, a link between them, a communication and a concern.
struct Household {
    family: String,
    guardian: String,
    student: String,
    communication: String,
    concern: String,
    iep_note: String,
    applicant: String,
    event: String,
    resource: String,
    referral: String,
}

async fn household(app: &TestApp) -> Household {
    let family = app.family("The Does").await;
    let guardian = app.guardian_in(&family, "Ana").await;
    let student = app.student_in(&family, "Sam").await;
    app.link(&student, &guardian, json!({}))
        .await
        .assert_status(201);
    let t = app.admin();
    let res = app
        .post(
            "/v1/communications",
            &t,
            json!({"family_id": family, "channel": "phone", "direction": "outbound"}),
        )
        .await;
    res.assert_status(201);
    let communication = res.id();
    let res = app
        .post(
            "/v1/concerns",
            &t,
            json!({"family_id": family, "category": "academic", "title": "Homework"}),
        )
        .await;
    res.assert_status(201);
    let concern = res.id();
    app.patch(
        &format!("/v1/students/{student}"),
        &t,
        json!({"has_iep": true}),
    )
    .await
    .assert_status(200);
    let res = app
        .post(
            &format!("/v1/students/{student}/iep-notes"),
            &t,
            json!({"kind": "meeting_note", "title": "Review", "body": "Notes"}),
        )
        .await;
    res.assert_status(201);
    let iep_note = res.id();
    let res = app
        .post(
            "/v1/admissions/applicants",
            &t,
            json!({"given_name": "Lu", "family_name": "Doe", "guardian": {"name": "Ana Doe"}}),
        )
        .await;
    res.assert_status(201);
    let applicant = res.id();
    let event = app
        .post(
            "/v1/events",
            &t,
            json!({"kind": "workshop", "title": "Reading", "starts_at": "2026-12-10T17:00:00Z",
                   "ends_at": "2026-12-10T18:00:00Z", "audience": {"scope": "school"}}),
        )
        .await
        .id();
    let resource = app
        .post(
            "/v1/resources",
            &t,
            json!({"name": "Pantry", "category": "food"}),
        )
        .await
        .id();
    let referral = app
        .post(
            "/v1/referrals",
            &t,
            json!({"family_id": family, "resource_id": resource, "reason": "Food"}),
        )
        .await
        .id();
    Household {
        family,
        guardian,
        student,
        communication,
        concern,
        iep_note,
        applicant,
        event,
        resource,
        referral,
    }
}

/// Sends a body as raw text (so it may repeat a key), as `application/json`.
async fn raw(app: &TestApp, method: Method, path: &str, body: &str) -> Res {
    let req = TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("authorization", format!("Bearer {}", app.admin())))
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string())
        .to_request();
    app.send(req).await
}

/// The `(field, code)` pairs of a validation problem, in the order given.
fn errors(res: &Res) -> Vec<(String, String)> {
    res.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {}", res.text))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or_default().to_string(),
                e["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(want: &[(&str, &str)]) -> Vec<(String, String)> {
    want.iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect()
}

/// The message of the error on `field`.
fn message(res: &Res, field: &str) -> String {
    res.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {}", res.text))
        .to_string()
}

/// Asserts a 400 whose detail and messages show no Rust internals.
#[track_caller]
fn assert_plain_words(what: &str, res: &Res) {
    res.assert_problem(400);
    let mut texts = vec![res.body["detail"].as_str().unwrap_or_default().to_string()];
    for e in res.body["errors"].as_array().into_iter().flatten() {
        texts.push(e["message"].as_str().unwrap_or_default().to_string());
    }
    for text in texts {
        for word in INTERNALS {
            assert!(!text.contains(word), "{what}: `{text}` shows `{word}`");
        }
    }
}

#[actix_web::test]
async fn every_field_error_of_a_body_is_answered_at_once_sorted_by_field() {
    let app = TestApp::new().await;
    let h = household(&app).await;
    let t = app.admin();
    let res = assert_nothing_written!(
        app,
        app.post(
            "/v1/communications",
            &t,
            json!({"family_id": h.family, "channel": "fax", "direction": 5, "subject": " ",
                   "occurred_at": "yesterday", "student_id": "nobody", "bogus": true}),
        )
        .await
    );
    res.assert_problem(400);
    assert_eq!(
        errors(&res),
        pairs(&[
            ("bogus", "unknown_field"),
            ("channel", "invalid"),
            ("direction", "invalid"),
            ("occurred_at", "invalid"),
            ("student_id", "invalid"),
            ("subject", "blank"),
        ])
    );
    assert_eq!(
        message(&res, "channel"),
        "must be one of: phone, email, sms, in_person, video, letter, portal"
    );
    assert_eq!(
        message(&res, "direction"),
        "must be one of: outbound, inbound"
    );
    assert_eq!(
        message(&res, "occurred_at"),
        "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z"
    );
    assert_eq!(message(&res, "student_id"), "must be a UUID");
    assert_eq!(message(&res, "bogus"), "is not a field of this resource");

    // A guardian with something wrong in every field, the domain types' own messages included.
    let res = assert_nothing_written!(
        app,
        app.post(
            &format!("/v1/families/{}/guardians", h.family),
            &t,
            json!({"given_name": " ", "email": "ana@", "phone": "call me", "relationship": "aunt",
                   "preferred_language": "en_US", "is_primary": "yes", "contact_allowed": null}),
        )
        .await
    );
    assert_eq!(
        errors(&res),
        pairs(&[
            ("contact_allowed", "not_nullable"),
            ("email", "invalid"),
            ("family_name", "required"),
            ("given_name", "blank"),
            ("is_primary", "invalid"),
            ("phone", "invalid"),
            ("preferred_language", "invalid"),
            ("relationship", "invalid"),
        ])
    );
    assert_eq!(message(&res, "is_primary"), "must be true or false");
    assert_eq!(message(&res, "family_name"), "is required");
    assert!(message(&res, "email").contains("e-mail address"));
    assert!(message(&res, "phone").contains("E.164"));
    assert!(message(&res, "preferred_language").contains("BCP 47"));

    // Numbers: whole, and within the schema's bounds.
    let res = assert_nothing_written!(
        app,
        app.link(
            &h.student,
            &h.guardian,
            json!({"contact_priority": "1", "legal_guardian": 1})
        )
        .await
    );
    assert_eq!(
        errors(&res),
        pairs(&[
            ("contact_priority", "invalid"),
            ("legal_guardian", "invalid")
        ])
    );
    assert_eq!(
        message(&res, "contact_priority"),
        "must be a whole number from 1 to 99"
    );
}

#[actix_web::test]
async fn no_message_shows_rust_internals() {
    let app = TestApp::new().await;
    let h = household(&app).await;
    let t = app.admin();
    let comm = |extra: Value| {
        let mut b = json!({"family_id": h.family, "channel": "phone", "direction": "outbound"});
        b.as_object_mut()
            .into_iter()
            .for_each(|m| m.extend(extra.as_object().cloned().unwrap_or_default()));
        b
    };
    let bodies: Vec<(&str, String, Value)> = vec![
        ("POST", "/v1/families".into(), json!([1, 2])),
        ("POST", "/v1/families".into(), json!("text")),
        ("POST", "/v1/families".into(), json!({"display_name": 5})),
        (
            "POST",
            "/v1/families".into(),
            json!({"display_name": "A", "address": "here"}),
        ),
        (
            "POST",
            "/v1/families".into(),
            json!({"display_name": "A", "address": {"city": 5}}),
        ),
        (
            "POST",
            "/v1/families".into(),
            json!({"display_name": "A", "sms_opt_in": "no"}),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"family_id": "xyz"})),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"family_id": 7})),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"occurred_at": "+99999-01-01T00:00:00Z"})),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"occurred_at": "2026-01-31"})),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"follow_up_due_at": 1_700_000_000})),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"interpreter_used": "yes"})),
        ),
        (
            "POST",
            "/v1/communications".into(),
            comm(json!({"channel": ["phone"]})),
        ),
        (
            "POST",
            format!("/v1/families/{}/students", h.family),
            json!({"given_name": "A", "family_name": "B", "date_of_birth": "2015-02-30"}),
        ),
        (
            "POST",
            format!("/v1/families/{}/students", h.family),
            json!({"given_name": "A", "family_name": "B", "date_of_birth": 2015}),
        ),
        (
            "POST",
            format!("/v1/students/{}/guardians", h.student),
            json!({"guardian_id": "x", "contact_priority": 2.5, "starts_on": "soon"}),
        ),
        (
            "POST",
            "/v1/concerns".into(),
            json!({"family_id": h.family, "category": "x", "title": 3}),
        ),
        (
            "POST",
            format!("/v1/concerns/{}/transitions", h.concern),
            json!({"to": "done"}),
        ),
        (
            "PATCH",
            format!("/v1/concerns/{}", h.concern),
            json!({"satisfaction": "great", "priority": null}),
        ),
        (
            "PATCH",
            "/v1/settings".into(),
            json!({"concern_response_hours": {"urgent": "4"}}),
        ),
        (
            "PATCH",
            "/v1/settings".into(),
            json!({"concern_response_hours": 4}),
        ),
        (
            "PATCH",
            format!("/v1/guardians/{}", h.guardian),
            json!({"phone": 4155550123_i64, "email": []}),
        ),
    ];
    for (method, path, body) in bodies {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let res = assert_nothing_written!(
            app,
            app.call(method.clone(), &path, Some(&t), Some(&body), &[])
                .await
        );
        assert_plain_words(&format!("{method} {path} {body}"), &res);
    }
    for query in [
        "/v1/communications?limit=abc",
        "/v1/communications?limit=1.5",
        "/v1/communications?limit=99999999999",
        "/v1/communications?family_id=xyz",
        "/v1/communications?occurred_from=yesterday",
        "/v1/communications?follow_up=soon",
        "/v1/communications?channel=fax",
        "/v1/concerns?overdue=maybe",
        "/v1/concerns?priority=asap",
        "/v1/families?primary_language=english_1",
        "/v1/families?updated_since=0000-01-01T00:00:00Z",
        "/v1/students?has_iep=1",
        "/v1/families?q=%ff",
    ] {
        let res = app.get(query, &t).await;
        assert_plain_words(query, &res);
    }
    for broken in [
        "{\"display_name\": ",
        "{\"display_name\" \"A\"}",
        "{} {}",
        "[1,",
    ] {
        let res =
            assert_nothing_written!(app, raw(&app, Method::POST, "/v1/families", broken).await);
        assert_plain_words(broken, &res);
    }
}

#[actix_web::test]
async fn query_strings_report_every_error_in_the_schemas_words() {
    let app = TestApp::new().await;
    let res = app
        .get(
            "/v1/communications?limit=abc&family_id=xyz&occurred_from=yesterday&follow_up=soon&colour=red",
            &app.admin(),
        )
        .await;
    res.assert_problem(400);
    assert_eq!(
        errors(&res),
        pairs(&[
            ("colour", "unknown_parameter"),
            ("family_id", "invalid"),
            ("follow_up", "invalid"),
            ("limit", "invalid"),
            ("occurred_from", "invalid"),
        ])
    );
    assert_eq!(
        message(&res, "limit"),
        "must be a whole number from 1 to 200"
    );
    assert_eq!(message(&res, "family_id"), "must be a UUID");
    assert_eq!(
        message(&res, "occurred_from"),
        "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z"
    );
    assert_eq!(
        message(&res, "follow_up"),
        "must be one of: due, overdue, done"
    );
    // Percent-encoding that does not decode is named, not read as something else.
    for (query, field) in [
        ("q=%zz", "q"),
        ("q=%C3", "q"),
        ("external_id=50%", "external_id"),
    ] {
        let res = app
            .get(&format!("/v1/families?{query}"), &app.admin())
            .await;
        res.assert_problem(400);
        assert_eq!(
            errors(&res),
            pairs(&[(field, "invalid_encoding")]),
            "{query}"
        );
    }
}

#[actix_web::test]
async fn timestamps_and_dates_are_rfc_3339_within_1900_to_2199() {
    let app = TestApp::new().await;
    let h = household(&app).await;
    let t = app.admin();
    let comm = |field: &str, value: &str| json!({"family_id": h.family, "channel": "phone", "direction": "outbound", field: value});
    for (field, value, code) in [
        ("occurred_at", "+99999-01-01T00:00:00Z", "invalid"),
        ("occurred_at", "0000-01-01T00:00:00Z", "range"),
        ("occurred_at", "1899-12-31T23:59:59Z", "range"),
        ("occurred_at", "2026-01-31 09:00:00Z", "invalid"),
        ("occurred_at", "2026-01-31T09:00:00", "invalid"),
        ("follow_up_due_at", "2200-01-01T00:00:00Z", "range"),
        ("follow_up_done_at", "10000-01-01T00:00:00Z", "invalid"),
    ] {
        let res = assert_nothing_written!(
            app,
            app.post("/v1/communications", &t, comm(field, value)).await
        );
        res.assert_problem(400);
        assert_eq!(errors(&res), pairs(&[(field, code)]), "{field}: {value}");
    }
    let students = format!("/v1/families/{}/students", h.family);
    for (value, code) in [
        ("0000-01-01", "range"),
        ("1899-12-31", "range"),
        ("+2015-01-01", "invalid"),
        ("2015-1-1", "invalid"),
    ] {
        let res = assert_nothing_written!(
            app,
            app.post(
                &students,
                &t,
                json!({"given_name": "A", "family_name": "B", "date_of_birth": value})
            )
            .await
        );
        assert_eq!(errors(&res), pairs(&[("date_of_birth", code)]), "{value}");
    }
    let other = app.guardian_in(&h.family, "Bo").await;
    for (field, value, code) in [
        ("starts_on", "0000-01-01", "range"),
        ("ends_on", "2200-01-01", "range"),
        ("ends_on", "99999-01-01", "invalid"),
    ] {
        let res = assert_nothing_written!(
            app,
            app.link(&h.student, &other, json!({ field: value })).await
        );
        assert_eq!(errors(&res), pairs(&[(field, code)]), "{field}: {value}");
    }
    // Query parameters follow the same rule.
    for query in [
        "/v1/communications?occurred_from=%2B99999-01-01T00:00:00Z",
        "/v1/communications?occurred_to=2200-01-01T00:00:00Z",
        "/v1/families?updated_since=0000-01-01T00:00:00Z",
        "/v1/concerns?updated_since=1899-12-31T23:59:59%2B00:00",
    ] {
        let res = app.get(query, &t).await;
        res.assert_problem(400);
        assert_eq!(errors(&res).len(), 1, "{query}: {}", res.text);
    }
    // The edges of the range are taken, and read back as written.
    for at in ["1900-01-01T00:00:00Z", "2199-12-31T23:59:59Z"] {
        let res = app
            .post("/v1/communications", &t, comm("occurred_at", at))
            .await;
        res.assert_status(201);
        assert_eq!(res.body["occurred_at"], at);
    }
    app.get("/v1/communications?occurred_from=1900-01-01T00:00:00z", &t)
        .await
        .assert_status(200);
    // The bound is on the year as written; the answer is in UTC, which may fall just outside it,
    // so answers' schemas carry no pattern.
    let res = app
        .post(
            "/v1/communications",
            &t,
            comm("occurred_at", "1900-01-01T00:00:00+05:00"),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.body["occurred_at"], "1899-12-31T19:00:00Z");

    // The document says the same: every date-time and date a client sends, in a body (and
    // what it refers to) or a parameter, carries the pattern of what the server takes.
    let doc = app
        .call(Method::GET, "/v1/openapi.json", None, None, &[])
        .await
        .body;
    let mut found = (0, 0);
    let mut seen = Vec::new();
    for op in doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
    {
        for content in op["requestBody"]["content"]
            .as_object()
            .into_iter()
            .flatten()
        {
            check_date_patterns(&doc, &content.1["schema"], &mut seen, &mut found);
        }
        for param in op["parameters"].as_array().into_iter().flatten() {
            check_date_patterns(&doc, &param["schema"], &mut seen, &mut found);
        }
    }
    assert!(found.0 >= 10 && found.1 >= 4, "{found:?}");
    let answer = &doc["components"]["schemas"]["Communication"]["properties"]["occurred_at"];
    assert_eq!(answer["format"], "date-time");
    assert!(answer.get("pattern").is_none(), "{answer}");
}

/// Asserts every `date-time`/`date` schema within `v`, following `$ref`s, has the server's
/// pattern; counts them.
fn check_date_patterns(doc: &Value, v: &Value, seen: &mut Vec<String>, found: &mut (usize, usize)) {
    match v {
        Value::Object(map) => {
            match map.get("format").and_then(Value::as_str) {
                Some("date-time") => {
                    assert_eq!(map.get("pattern"), Some(&json!(DATE_TIME_PATTERN)), "{v}");
                    found.0 += 1;
                }
                Some("date") => {
                    assert_eq!(map.get("pattern"), Some(&json!(DATE_PATTERN)), "{v}");
                    found.1 += 1;
                }
                _ => {}
            }
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                if !seen.iter().any(|s| s == name) {
                    seen.push(name.to_string());
                    check_date_patterns(doc, &doc["components"]["schemas"][name], seen, found);
                }
            }
            map.values()
                .for_each(|inner| check_date_patterns(doc, inner, seen, found));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|i| check_date_patterns(doc, i, seen, found)),
        _ => {}
    }
}

#[actix_web::test]
async fn a_merge_patch_may_not_null_a_field_that_has_no_empty_state() {
    let app = TestApp::new().await;
    let h = household(&app).await;
    let t = app.admin();
    let guardian = format!("/v1/guardians/{}", h.guardian);
    let link = format!("/v1/students/{}/guardians/{}", h.student, h.guardian);
    let family = format!("/v1/families/{}", h.family);
    // The restrictions are set, then a null must not lift them.
    app.patch(
        &guardian,
        &t,
        json!({"contact_allowed": false, "sms_opt_in": true, "email": "ana@example.org"}),
    )
    .await
    .assert_status(200);
    app.patch(
        &link,
        &t,
        json!({"can_view_records": false, "contact_restricted": true}),
    )
    .await
    .assert_status(200);
    let cases: Vec<(String, Value, Vec<&str>)> = vec![
        (
            guardian.clone(),
            json!({"contact_allowed": null}),
            vec!["contact_allowed"],
        ),
        (
            guardian.clone(),
            json!({"sms_opt_in": null}),
            vec!["sms_opt_in"],
        ),
        (
            guardian.clone(),
            json!({"given_name": null}),
            vec!["given_name"],
        ),
        (
            link.clone(),
            json!({"can_view_records": null}),
            vec!["can_view_records"],
        ),
        (
            link.clone(),
            json!({"contact_restricted": null}),
            vec!["contact_restricted"],
        ),
        (
            family.clone(),
            json!({"display_name": null}),
            vec!["display_name"],
        ),
        (
            family.clone(),
            json!({"sms_opt_in": null}),
            vec!["sms_opt_in"],
        ),
        (
            format!("/v1/communications/{}", h.communication),
            json!({"channel": null, "category": null}),
            vec!["category", "channel"],
        ),
        (
            format!("/v1/concerns/{}", h.concern),
            json!({"priority": null}),
            vec!["priority"],
        ),
        (
            "/v1/settings".to_string(),
            json!({"concern_response_hours": {"urgent": null}}),
            vec!["concern_response_hours.urgent"],
        ),
        (
            "/v1/settings".to_string(),
            json!({"concern_response_hours": null}),
            vec!["concern_response_hours"],
        ),
    ];
    for (path, patch, fields) in cases {
        let res = assert_nothing_written!(app, app.patch(&path, &t, patch.clone()).await);
        res.assert_problem(400);
        let want: Vec<(&str, &str)> = fields.iter().map(|f| (*f, "not_nullable")).collect();
        assert_eq!(errors(&res), pairs(&want), "{path} {patch}");
    }
    let g = app.get(&guardian, &t).await.body;
    assert_eq!(
        (g["contact_allowed"].clone(), g["sms_opt_in"].clone()),
        (json!(false), json!(true))
    );
    let l = app.get(&link, &t).await.body;
    assert_eq!(
        (
            l["can_view_records"].clone(),
            l["contact_restricted"].clone()
        ),
        (json!(false), json!(true))
    );

    // Reported with the patch's other errors, all at once.
    let res = assert_nothing_written!(
        app,
        app.patch(
            &guardian,
            &t,
            json!({"contact_allowed": null, "email": "nope", "colour": null})
        )
        .await
    );
    assert_eq!(
        errors(&res),
        pairs(&[
            ("colour", "unknown_field"),
            ("contact_allowed", "not_nullable"),
            ("email", "invalid"),
        ])
    );
    // A field that may be empty is cleared by null.
    let res = app.patch(&guardian, &t, json!({"email": null})).await;
    res.assert_status(200);
    assert_eq!(res.body["email"], Value::Null);
    assert_eq!(res.body["contact_allowed"], json!(false));

    // The published patch schemas say the same: a field is nullable exactly when its input's is.
    let doc = app
        .call(Method::GET, "/v1/openapi.json", None, None, &[])
        .await
        .body;
    let schemas = &doc["components"]["schemas"];
    let nullable = |s: &Value| {
        s["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null")))
            || s["oneOf"]
                .as_array()
                .is_some_and(|o| o.iter().any(|a| a["type"] == "null"))
    };
    for (patch, input, fixed) in [
        ("FamilyPatch", "FamilyInput", &[][..]),
        ("GuardianPatch", "GuardianInput", &[]),
        ("StudentPatch", "StudentInput", &[]),
        ("LinkPatch", "LinkInput", &["guardian_id"]),
        (
            "CommunicationPatch",
            "CommunicationInput",
            &["family_id", "applicant_id"],
        ),
        ("StagePatch", "StageInput", &["key"]),
    ] {
        let p = &schemas[patch];
        let mut want = schemas[input]["properties"].clone();
        for f in fixed {
            want.as_object_mut().unwrap().remove(*f);
        }
        assert_eq!(p["properties"], want, "{patch}");
        assert!(p.get("required").is_none(), "{patch}");
        assert_eq!(p["additionalProperties"], json!(false), "{patch}");
    }
    for (patch, field, can_be_null) in [
        ("GuardianPatch", "contact_allowed", false),
        ("GuardianPatch", "sms_opt_in", false),
        ("GuardianPatch", "email", true),
        ("LinkPatch", "can_view_records", false),
        ("LinkPatch", "contact_restricted", false),
        ("LinkPatch", "ends_on", true),
        ("FamilyPatch", "display_name", false),
        ("FamilyPatch", "address", true),
        ("ConcernPatch", "priority", false),
        ("ConcernPatch", "assignee", true),
    ] {
        let prop = &schemas[patch]["properties"][field];
        assert!(prop.is_object(), "{patch}.{field}");
        assert_eq!(nullable(prop), can_be_null, "{patch}.{field}: {prop}");
    }
}

/// Every POST and PATCH of the document, with the concrete path to send it to.
fn body_operations(doc: &Value, h: &Household) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // Only JSON bodies: the OAuth token endpoint takes a form, as RFC 6749 says
            // (clients.rs), and imports take NDJSON or CSV (imports.rs checks their rows).
            if op["requestBody"]["content"]
                .get("application/json")
                .is_none()
                && op.get("requestBody").is_some()
            {
                continue;
            }
            let method = match method.as_str() {
                "post" => Method::POST,
                "patch" => Method::PATCH,
                _ => continue,
            };
            let path = match template.as_str() {
                "/v1/families/{id}"
                | "/v1/families/{id}/guardians"
                | "/v1/families/{id}/students" => template.replace("{id}", &h.family),
                "/v1/guardians/{id}" => template.replace("{id}", &h.guardian),
                "/v1/students/{id}"
                | "/v1/students/{id}/guardians"
                | "/v1/students/{id}/iep-notes"
                | "/v1/students/{id}/iep-notes/destroy" => template.replace("{id}", &h.student),
                "/v1/iep-notes/{id}" | "/v1/iep-notes/{id}/acknowledge" => {
                    template.replace("{id}", &h.iep_note)
                }
                "/v1/students/{id}/guardians/{guardian_id}" => template
                    .replace("{id}", &h.student)
                    .replace("{guardian_id}", &h.guardian),
                "/v1/communications/{id}" | "/v1/communications/{id}/acknowledge" => {
                    template.replace("{id}", &h.communication)
                }
                "/v1/concerns/{id}"
                | "/v1/concerns/{id}/comments"
                | "/v1/concerns/{id}/transitions" => template.replace("{id}", &h.concern),
                "/v1/admissions/stages/{stage}" => template.replace("{stage}", "tour"),
                "/v1/admissions/applicants/{id}"
                | "/v1/admissions/applicants/{id}/transitions"
                | "/v1/admissions/applicants/{id}/enroll" => template.replace("{id}", &h.applicant),
                "/v1/events/{id}" | "/v1/events/{id}/feedback" | "/v1/events/{id}/slots" => {
                    template.replace("{id}", &h.event)
                }
                "/v1/events/{id}/slots/{slot_id}/booking" => template
                    .replace("{id}", &h.event)
                    .replace("{slot_id}", &h.event),
                "/v1/resources/{id}" => template.replace("{id}", &h.resource),
                "/v1/referrals/{id}" | "/v1/referrals/{id}/transitions" => {
                    template.replace("{id}", &h.referral)
                }
                t if !t.contains('{') => t.to_string(),
                t => panic!("a new endpoint with a body: add {t} here"),
            };
            out.push((method, path));
        }
    }
    out
}

#[actix_web::test]
async fn unknown_and_repeated_keys_are_refused_on_every_body() {
    let app = TestApp::new().await;
    let h = household(&app).await;
    let doc = app
        .call(Method::GET, "/v1/openapi.json", None, None, &[])
        .await
        .body;
    let operations = body_operations(&doc, &h);
    assert!(operations.len() >= 16, "{operations:?}");
    assert!(operations.contains(&(
        Method::POST,
        format!("/v1/communications/{}/acknowledge", h.communication)
    )));
    for (method, path) in operations {
        let res = assert_nothing_written!(
            app,
            raw(&app, method.clone(), &path, r#"{"bogus": 1}"#).await
        );
        res.assert_problem(400);
        assert!(
            errors(&res).contains(&("bogus".to_string(), "unknown_field".to_string())),
            "{method} {path}: {}",
            res.text
        );
        let res = assert_nothing_written!(
            app,
            raw(&app, method.clone(), &path, r#"{"bogus": 1, "bogus": 2}"#).await
        );
        res.assert_problem(400);
        assert!(
            errors(&res).contains(&("bogus".to_string(), "duplicate".to_string())),
            "{method} {path}: {}",
            res.text
        );
    }
    // A repeated key is never silently resolved to one of its values.
    let res = assert_nothing_written!(
        app,
        raw(
            &app,
            Method::POST,
            "/v1/families",
            r#"{"display_name": "A", "display_name": "B"}"#
        )
        .await
    );
    assert_eq!(errors(&res), pairs(&[("display_name", "duplicate")]));
    let res = assert_nothing_written!(
        app,
        raw(
            &app,
            Method::PATCH,
            &format!("/v1/families/{}", h.family),
            r#"{"address": {"city": "X", "city": "Y"}, "notes": "n"}"#
        )
        .await
    );
    assert_eq!(errors(&res), pairs(&[("address.city", "duplicate")]));
}

#[actix_web::test]
async fn acknowledge_takes_no_body_or_an_empty_one_and_refuses_anything_else() {
    let app = TestApp::new().await;
    let h = household(&app).await;
    let path = format!("/v1/communications/{}/acknowledge", h.communication);
    let send = |body: Option<&'static str>, ct: Option<&'static str>| {
        let mut req = TestRequest::post()
            .uri(&path)
            .insert_header(("authorization", format!("Bearer {}", app.admin())));
        if let Some(ct) = ct {
            req = req.insert_header(("content-type", ct));
        }
        if let Some(b) = body {
            req = req.set_payload(b);
        }
        req.to_request()
    };
    for (body, ct, status) in [
        (
            Some(r#"{"acknowledged_at": "2026-01-01T00:00:00Z"}"#),
            Some("application/json"),
            400,
        ),
        (Some(r#"{"a": 1, "a": 1}"#), Some("application/json"), 400),
        (Some("[]"), Some("application/json"), 400),
        (Some("{"), Some("application/json"), 400),
        (Some("please"), Some("text/plain"), 415),
    ] {
        let res = assert_nothing_written!(app, app.send(send(body, ct)).await);
        assert_eq!(res.status, status, "{body:?}: {}", res.text);
        res.assert_problem(status);
    }
    // None, an empty one, `{}` and `null` (the document's optional body allows it) all
    // acknowledge.
    let res = app.send(send(None, None)).await;
    res.assert_status(200);
    assert!(res.body["acknowledged_at"].is_string());
    for body in ["", " {} ", "null"] {
        app.send(send(Some(body), Some("application/json")))
            .await
            .assert_status(200);
    }
}
