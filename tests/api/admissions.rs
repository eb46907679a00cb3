//! Admissions: the default pipeline and its configuration, applicants and their checklists,
//! moves and their history against a held clock, enrolment (atomic, idempotent, taking the
//! applicant's communications to the family), the funnel on a hand-computed data set, roles,
//! tenancy, and what every write records.

use actix_web::http::Method;
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::support::*;

const S: &str = "/v1/admissions/stages";
const A: &str = "/v1/admissions/applicants";
const DEFAULT_KEYS: [&str; 10] = [
    "inquiry",
    "tour",
    "application",
    "interview",
    "assessment",
    "offer",
    "enrolled",
    "waitlisted",
    "declined",
    "withdrawn",
];

fn staff(app: &TestApp) -> String {
    app.token(Role::Admissions)
}

/// The keys of the pipeline, in order, and checks positions are 1..n.
async fn keys(app: &TestApp) -> Vec<String> {
    let stages = page(app, S, &app.admin()).await;
    for (i, s) in stages.iter().enumerate() {
        assert_eq!(s["position"], json!(i + 1), "{stages:?}");
    }
    stages
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect()
}

/// Creates an applicant as admissions staff with `extra` fields; returns the body.
async fn applicant(app: &TestApp, given: &str, extra: Value) -> Value {
    let body = merged(
        json!({
            "given_name": given,
            "family_name": "López",
            "guardian": { "name": "María López García", "email": "maria@example.org" },
        }),
        extra,
    );
    let res = app.post(A, &staff(app), body).await;
    res.assert_status(201);
    assert_eq!(
        res.header("location"),
        Some(format!("{A}/{}", res.id())),
        "{}",
        res.text
    );
    res.body
}

async fn move_to(app: &TestApp, id: &str, to: &str) -> Res {
    app.post(
        &format!("{A}/{id}/transitions"),
        &staff(app),
        json!({ "to": to }),
    )
    .await
}

async fn tick(app: &TestApp, id: &str, item: &str) {
    app.patch(
        &format!("{A}/{id}"),
        &staff(app),
        json!({ "checklist": { item: true } }),
    )
    .await
    .assert_status(200);
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn a_school_gets_the_default_pipeline_on_first_use_recorded_once() {
    let app = TestApp::new().await;
    let before = app.recorded();
    let stages = page(&app, S, &staff(&app)).await;
    let got: Vec<&str> = stages.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(got, DEFAULT_KEYS);
    let kinds: Vec<&str> = stages.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["open", "open", "open", "open", "open", "open", "won", "open", "lost", "lost"]
    );
    assert_eq!(stages[2]["checklist"][0]["key"], "application_form");
    assert_eq!(stages[2]["checklist"][0]["required"], true);
    let r = app.recorded().since(&before);
    assert_eq!(r.audit.len(), 10);
    assert!(r
        .actions()
        .iter()
        .all(|(action, kind, _)| action == "create" && kind == "admission_stages"));
    assert_eq!(r.fed().len(), 10);
    // Made once: the next read writes nothing.
    unchanged(&app, Method::GET, S, &staff(&app), None).await;
    // Another school has its own.
    let other = page(&app, S, &app.other_admin()).await;
    assert_eq!(other.len(), 10);
    assert!(other
        .iter()
        .all(|o| stages.iter().all(|s| s["id"] != o["id"])));
    // One stage by key or by id.
    let tour = app.get(&format!("{S}/tour"), &staff(&app)).await;
    tour.assert_status(200);
    assert_eq!(tour.header("etag").as_deref(), Some("\"1\""));
    let by_id = app
        .get(&format!("{S}/{}", id_of(&tour.body)), &staff(&app))
        .await;
    assert_eq!(by_id.body, tour.body);
    refused(
        &app,
        Method::GET,
        &format!("{S}/nowhere"),
        &staff(&app),
        None,
        404,
    )
    .await;
}

#[actix_web::test]
async fn stages_are_configured_with_unique_positions_by_an_admin_only() {
    let app = TestApp::new().await;
    keys(&app).await;
    // Only admissions:configure (the admin) changes the pipeline.
    for role in [Role::Admissions, Role::Pre, Role::Integration] {
        refused(
            &app,
            Method::POST,
            S,
            &app.token(role),
            Some(json!({ "key": "visit", "name": "Visit" })),
            403,
        )
        .await;
    }
    // A stage placed at 2: the rest move down one.
    let before = app.recorded();
    let res = app
        .post(
            S,
            &app.admin(),
            json!({ "key": "call_back", "name": "Call back", "position": 2,
                    "checklist": [{ "key": "called", "label": "Called back", "required": true }] }),
        )
        .await;
    res.assert_status(201);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/v1/admissions/stages/call_back")
    );
    assert_eq!(res.body["position"], 2);
    let mut want: Vec<String> = DEFAULT_KEYS.iter().map(|s| s.to_string()).collect();
    want.insert(1, "call_back".into());
    assert_eq!(keys(&app).await, want);
    // The new stage and the nine it pushed down, each recorded.
    let r = app.recorded().since(&before);
    assert_eq!(r.audit.len(), 10, "{:?}", r.actions());
    // Moving it to the end, and back to 1.
    let res = app
        .patch(
            &format!("{S}/call_back"),
            &app.admin(),
            json!({ "position": 99 }),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["position"], 11);
    let res = app
        .patch(
            &format!("{S}/call_back"),
            &app.admin(),
            json!({ "position": 1, "name": "Ring back" }),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["name"], "Ring back");
    let k = keys(&app).await;
    assert_eq!(k[0], "call_back");
    assert_eq!(k[1..], DEFAULT_KEYS.map(String::from));
    // A key taken, an item key of another stage, two items with one key, a key changed.
    refused(
        &app,
        Method::POST,
        S,
        &app.admin(),
        Some(json!({ "key": "tour", "name": "Tour" })),
        409,
    )
    .await;
    refused(
        &app,
        Method::POST,
        S,
        &app.admin(),
        Some(json!({ "key": "visit", "name": "Visit", "checklist": [{ "key": "deposit_paid", "label": "x" }] })),
        409,
    )
    .await;
    refused(
        &app,
        Method::POST,
        S,
        &app.admin(),
        Some(json!({ "key": "visit", "name": "Visit",
            "checklist": [{ "key": "a", "label": "x" }, { "key": "a", "label": "y" }] })),
        409,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        S,
        &app.admin(),
        Some(json!({ "key": "Bad Key", "name": "x" })),
        400,
        "key",
    )
    .await;
    refused_field(
        &app,
        Method::PATCH,
        &format!("{S}/tour"),
        &app.admin(),
        Some(json!({ "key": "visit" })),
        400,
        "key",
    )
    .await;
    // The pipeline keeps a won stage.
    refused(
        &app,
        Method::PATCH,
        &format!("{S}/enrolled"),
        &app.admin(),
        Some(json!({ "kind": "open" })),
        409,
    )
    .await;
    let res = refused(
        &app,
        Method::DELETE,
        &format!("{S}/enrolled"),
        &app.admin(),
        None,
        409,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/stage-in-use");
    // A stage holding applicants is not deleted; the 409 says how many.
    let a = applicant(&app, "Ana", json!({ "stage": "tour" })).await;
    applicant(&app, "Bea", json!({ "stage": "tour" })).await;
    let res = refused(
        &app,
        Method::DELETE,
        &format!("{S}/tour"),
        &app.admin(),
        None,
        409,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/stage-in-use");
    assert!(
        res.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("2 applicant"),
        "{}",
        res.text
    );
    // An archived applicant holds nothing; an empty stage goes and the rest move up.
    app.delete(&format!("{A}/{}", id_of(&a)), &staff(&app))
        .await
        .assert_status(204);
    let res = refused(
        &app,
        Method::DELETE,
        &format!("{S}/tour"),
        &app.admin(),
        None,
        409,
    )
    .await;
    assert!(res.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("1 applicant"));
    let res = app
        .call(
            Method::DELETE,
            &format!("{S}/assessment"),
            Some(&app.admin()),
            None,
            &[("if-match", "\"1\"")],
        )
        .await;
    res.assert_status(412);
    let version = app.get(&format!("{S}/assessment"), &app.admin()).await.body["version"].clone();
    let etag = format!("\"{version}\"");
    app.call(
        Method::DELETE,
        &format!("{S}/assessment"),
        Some(&app.admin()),
        None,
        &[("if-match", &etag)],
    )
    .await
    .assert_status(204);
    let k = keys(&app).await;
    assert_eq!(k.len(), 10);
    assert!(!k.contains(&"assessment".to_string()));
    refused(
        &app,
        Method::GET,
        &format!("{S}/assessment"),
        &app.admin(),
        None,
        404,
    )
    .await;
    // Its key may be used again.
    app.post(
        S,
        &app.admin(),
        json!({ "key": "assessment", "name": "Assessment" }),
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn applicants_are_created_read_changed_filtered_and_archived() {
    let app = TestApp::new().await;
    app.set_now(at("2027-01-04 09:00:00"));
    let a = applicant(
        &app,
        "Sofía",
        json!({ "applying_for_grade": "3", "entry_term": "2027-fall", "source": "website",
                "assignee": "admissions-1", "date_of_birth": "2019-05-01", "external_id": "APP-1",
                "guardian": { "name": "María López", "phone": "+1 415 555 0123",
                              "preferred_language": "es", "relationship": "mother" } }),
    )
    .await;
    assert_eq!(a["stage"], "inquiry");
    assert_eq!(a["stage_kind"], "open");
    assert_eq!(time(&a["stage_entered_at"]), at("2027-01-04 09:00:00"));
    assert_eq!(a["guardian"]["phone"], "+14155550123");
    assert_eq!(a["family_id"], Value::Null);
    assert_eq!(a["version"], 1);
    // Every item of the pipeline, none done.
    let items: Vec<&str> = a["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        items,
        [
            "tour_attended",
            "application_form",
            "school_records",
            "interview_held",
            "deposit_paid"
        ]
    );
    assert!(a["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["done"] == false));
    let b = applicant(
        &app,
        "Bruno",
        json!({ "source": "referral", "entry_term": "2028-fall", "stage": "tour" }),
    )
    .await;
    let c = applicant(
        &app,
        "Carla",
        json!({ "source": "referral", "applying_for_grade": "K",
        "guardian": { "name": "Zed Quux" } }),
    )
    .await;
    let (a_id, b_id, c_id) = (id_of(&a), id_of(&b), id_of(&c));
    // Filters.
    let t = staff(&app);
    assert_eq!(
        ids(&app, A, &t).await,
        [c_id.clone(), b_id.clone(), a_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?stage=tour"), &t).await,
        vec![b_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?source=referral"), &t).await,
        [c_id.clone(), b_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?assignee=me"), &t).await,
        vec![a_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?entry_term=2028-fall"), &t).await,
        vec![b_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?applying_for_grade=K"), &t).await,
        vec![c_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?q=sof"), &t).await,
        vec![a_id.clone()]
    );
    assert_eq!(
        ids(&app, &format!("{A}?q=QUUX"), &t).await,
        vec![c_id.clone()]
    );
    assert_eq!(ids(&app, &format!("{A}?limit=2"), &t).await.len(), 2);
    refused_field(
        &app,
        Method::GET,
        &format!("{A}?source=tv"),
        &t,
        None,
        400,
        "source",
    )
    .await;
    refused_field(
        &app,
        Method::GET,
        &format!("{A}?colour=red"),
        &t,
        None,
        400,
        "colour",
    )
    .await;
    // A checklist item marked done records when and by whom; undone with false.
    app.set_now(at("2027-01-05 10:00:00"));
    let res = app
        .patch(
            &format!("{A}/{a_id}"),
            &t,
            json!({ "checklist": { "application_form": true }, "notes": "Keen" }),
        )
        .await;
    res.assert_status(200);
    let item = res.body["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "application_form")
        .unwrap()
        .clone();
    assert_eq!(item["done"], true);
    assert_eq!(item["stage"], "application");
    assert_eq!(item["done_by"], "admissions-1");
    assert_eq!(time(&item["done_at"]), at("2027-01-05 10:00:00"));
    assert_eq!(res.body["version"], 2);
    assert_eq!(time(&res.body["updated_at"]), at("2027-01-05 10:00:00"));
    // Marked again later: it keeps its first time (nothing changes).
    app.set_now(at("2027-01-06 10:00:00"));
    unchanged(
        &app,
        Method::PATCH,
        &format!("{A}/{a_id}"),
        &t,
        Some(json!({ "checklist": { "application_form": true } })),
    )
    .await;
    let res = app
        .patch(
            &format!("{A}/{a_id}"),
            &t,
            json!({ "checklist": { "application_form": false } }),
        )
        .await;
    res.assert_status(200);
    assert!(res.body["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["done"] == false));
    // Unknown items, the stage, a won stage at creation, an unknown stage: refused.
    let res = refused(
        &app,
        Method::PATCH,
        &format!("{A}/{a_id}"),
        &t,
        Some(json!({ "checklist": { "nope": true } })),
        422,
    )
    .await;
    assert_eq!(res.error_fields(), ["checklist.nope"]);
    refused_field(
        &app,
        Method::PATCH,
        &format!("{A}/{a_id}"),
        &t,
        Some(json!({ "stage": "offer" })),
        400,
        "stage",
    )
    .await;
    refused_field(&app, Method::POST, A, &t, Some(json!({ "given_name": "X", "family_name": "Y", "guardian": { "name": "Z" }, "stage": "enrolled" })), 422, "stage").await;
    refused_field(&app, Method::POST, A, &t, Some(json!({ "given_name": "X", "family_name": "Y", "guardian": { "name": "Z" }, "stage": "nowhere" })), 422, "stage").await;
    refused_field(
        &app,
        Method::POST,
        A,
        &t,
        Some(json!({ "given_name": "X", "family_name": "Y" })),
        400,
        "guardian",
    )
    .await;
    refused_field(&app, Method::POST, A, &t, Some(json!({ "given_name": "X", "family_name": "Y", "guardian": { "name": "Z", "email": "nope" } })), 400, "guardian.email").await;
    refused(&app, Method::POST, A, &t, Some(json!({ "given_name": "X", "family_name": "Y", "guardian": { "name": "Z" }, "external_id": "APP-1" })), 409).await;
    // Archived: gone from GET and lists.
    app.delete(&format!("{A}/{b_id}"), &t)
        .await
        .assert_status(204);
    refused(&app, Method::GET, &format!("{A}/{b_id}"), &t, None, 404).await;
    assert_eq!(ids(&app, A, &t).await, [c_id.clone(), a_id.clone()]);
    let got = app.get(&format!("{A}/{c_id}"), &t).await;
    got.assert_status(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
}

#[actix_web::test]
async fn moves_are_gated_by_the_checklist_and_kept_with_time_in_stage() {
    let app = TestApp::new().await;
    app.set_now(at("2027-01-04 09:00:00"));
    let id = id_of(&applicant(&app, "Ana", json!({})).await);
    let path = format!("{A}/{id}/transitions");
    app.set_now(at("2027-01-05 09:00:00"));
    move_to(&app, &id, "application").await.assert_status(200);
    // Leaving application forward needs the form: 409 listing it, nothing written.
    app.set_now(at("2027-01-07 21:00:00"));
    let res = refused(
        &app,
        Method::POST,
        &path,
        &staff(&app),
        Some(json!({ "to": "interview" })),
        409,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/checklist-incomplete");
    assert_eq!(res.body["errors"][0]["field"], "checklist.application_form");
    assert_eq!(res.body["errors"][0]["code"], "not_done");
    assert_eq!(
        res.body["errors"][0]["message"],
        "Application form received"
    );
    assert_eq!(res.error_fields(), ["checklist.application_form"]);
    // Back to tour is not held up; then forward again needs nothing of tour's.
    move_to(&app, &id, "tour").await.assert_status(200);
    app.set_now(at("2027-01-08 09:00:00"));
    move_to(&app, &id, "application").await.assert_status(200);
    tick(&app, &id, "application_form").await;
    app.set_now(at("2027-01-10 09:00:00"));
    let before = app.recorded();
    let res = app
        .call(
            Method::POST,
            &path,
            Some(&staff(&app)),
            Some(&json!({ "to": "interview", "note": "Booked" })),
            &[("if-match", "\"5\"")],
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["stage"], "interview");
    assert_eq!(res.body["version"], 6);
    let r = app.recorded().since(&before);
    assert_eq!(
        r.actions(),
        [("transition".into(), "applicants".into(), id.clone())]
    );
    assert_eq!(
        r.fed(),
        [("applicants".into(), id.clone(), "update".into(), 6)]
    );
    // A stale If-Match: 412.
    refused_with(
        &app,
        Method::POST,
        &path,
        &staff(&app),
        Some(json!({ "to": "tour" })),
        &[("if-match", "\"5\"")],
        412,
    )
    .await;
    // Same stage, won by transition, unknown stage: 409 with the legal moves.
    let res = refused(
        &app,
        Method::POST,
        &path,
        &staff(&app),
        Some(json!({ "to": "interview" })),
        409,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/illegal-transition");
    let allowed: Vec<&str> = res.body["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !allowed.contains(&"enrolled")
            && !allowed.contains(&"interview")
            && allowed.contains(&"offer")
    );
    refused(
        &app,
        Method::POST,
        &path,
        &staff(&app),
        Some(json!({ "to": "enrolled" })),
        409,
    )
    .await;
    refused(
        &app,
        Method::POST,
        &path,
        &staff(&app),
        Some(json!({ "to": "nowhere" })),
        409,
    )
    .await;
    // The history: each stay, with its time in stage (the current one up to now).
    app.set_now(at("2027-01-11 21:00:00"));
    let stays = page(&app, &format!("{A}/{id}/history"), &staff(&app)).await;
    let got: Vec<(&str, Option<&str>, i64)> = stays
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap(),
                s["from_stage"].as_str(),
                s["seconds_in_stage"].as_i64().unwrap(),
            )
        })
        .collect();
    let (h, d) = (3600, 86_400);
    assert_eq!(
        got,
        [
            ("inquiry", None, d),
            ("application", Some("inquiry"), 2 * d + 12 * h),
            ("tour", Some("application"), 12 * h),
            ("application", Some("tour"), 2 * d),
            ("interview", Some("application"), d + 12 * h),
        ]
    );
    assert_eq!(stays[1]["days_in_stage"], 2.5);
    assert_eq!(stays[4]["left_at"], Value::Null);
    assert_eq!(stays[4]["note"], "Booked");
    assert_eq!(stays[4]["actor"], "admissions-1");
    assert_eq!(time(&stays[3]["left_at"]), at("2027-01-10 09:00:00"));
    // Paged.
    let first = app
        .get(&format!("{A}/{id}/history?limit=2"), &staff(&app))
        .await;
    first.assert_status(200);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let rest = page(
        &app,
        &format!("{A}/{id}/history?cursor={cursor}"),
        &staff(&app),
    )
    .await;
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[0]["stage"], "tour");
}

#[actix_web::test]
async fn won_and_lost_stages_are_left_only_by_an_admin() {
    let app = TestApp::new().await;
    let id = id_of(&applicant(&app, "Ana", json!({})).await);
    move_to(&app, &id, "declined").await.assert_status(200);
    let path = format!("{A}/{id}/transitions");
    for role in [Role::Admissions, Role::Pre] {
        let res = refused(
            &app,
            Method::POST,
            &path,
            &app.token(role),
            Some(json!({ "to": "inquiry" })),
            409,
        )
        .await;
        assert_eq!(res.body["allowed"], json!([]));
        refused(
            &app,
            Method::POST,
            &format!("{A}/{id}/enroll"),
            &app.token(role),
            None,
            409,
        )
        .await;
    }
    let res = app
        .post(
            &path,
            &app.admin(),
            json!({ "to": "inquiry", "note": "Changed their mind" }),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["stage"], "inquiry");
}

/// An applicant who reached the offer with every required item done.
async fn ready_to_enroll(app: &TestApp, extra: Value) -> String {
    let id = id_of(&applicant(app, "Sofía", extra).await);
    for item in ["application_form", "interview_held", "deposit_paid"] {
        tick(app, &id, item).await;
    }
    move_to(app, &id, "offer").await.assert_status(200);
    id
}

#[actix_web::test]
async fn enrolment_makes_the_family_once_and_takes_the_communications_along() {
    let app = TestApp::new().await;
    app.set_now(at("2027-02-01 09:00:00"));
    let id = ready_to_enroll(
        &app,
        json!({ "applying_for_grade": "3", "date_of_birth": "2019-05-01",
                "guardian": { "name": "María López García", "email": "maria@example.org",
                              "preferred_language": "es", "relationship": "mother", "sms_opt_in": true } }),
    )
    .await;
    // The inquiry call and a text, logged with the applicant's household.
    let t = staff(&app);
    let call = app
        .post("/v1/communications", &t, json!({ "applicant_id": id, "channel": "phone", "direction": "inbound", "subject": "Inquiry" }))
        .await;
    call.assert_status(201);
    assert_eq!(call.body["family_id"], Value::Null);
    assert_eq!(call.body["applicant_id"], json!(id));
    let text = app
        .post("/v1/communications", &t, json!({ "applicant_id": id, "channel": "sms", "direction": "outbound", "body": "Tour on Friday" }))
        .await;
    text.assert_status(201);
    let (call_id, text_id) = (call.id(), text.id());
    assert_eq!(
        ids(&app, &format!("/v1/communications?applicant_id={id}"), &t).await,
        [text_id.clone(), call_id.clone()]
    );
    // Enrolment.
    app.set_now(at("2027-02-03 09:00:00"));
    let before = app.recorded();
    let res = app
        .post(
            &format!("{A}/{id}/enroll"),
            &t,
            json!({ "student_external_id": "SIS-S-1" }),
        )
        .await;
    res.assert_status(201);
    let family = res.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        res.header("location"),
        Some(format!("/v1/families/{family}"))
    );
    assert_eq!(res.body["display_name"], "The López family");
    assert_eq!(res.body["primary_language"], "es");
    assert_eq!(res.body["sms_opt_in"], true);
    let guardians = page(
        &app,
        &format!("/v1/families/{family}/guardians"),
        &app.admin(),
    )
    .await;
    assert_eq!(guardians.len(), 1);
    let g = &guardians[0];
    assert_eq!(
        (g["given_name"].as_str(), g["family_name"].as_str()),
        (Some("María"), Some("López García"))
    );
    assert_eq!(g["email"], "maria@example.org");
    assert_eq!(g["is_primary"], true);
    assert_eq!(g["relationship"], "mother");
    let students = page(
        &app,
        &format!("/v1/families/{family}/students"),
        &app.admin(),
    )
    .await;
    assert_eq!(students.len(), 1);
    let s = &students[0];
    assert_eq!(s["given_name"], "Sofía");
    assert_eq!(s["grade_level"], "3");
    assert_eq!(s["date_of_birth"], "2019-05-01");
    assert_eq!(s["external_id"], "SIS-S-1");
    let student = s["id"].as_str().unwrap().to_string();
    let guardian = g["id"].as_str().unwrap().to_string();
    let links = page(
        &app,
        &format!("/v1/students/{student}/guardians"),
        &app.admin(),
    )
    .await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["guardian_id"], json!(guardian));
    assert_eq!(links[0]["legal_guardian"], true);
    assert_eq!(links[0]["can_view_records"], true);
    // The applicant is in the won stage, with its family.
    let a = app.get(&format!("{A}/{id}"), &t).await.body;
    assert_eq!(a["stage"], "enrolled");
    assert_eq!(a["stage_kind"], "won");
    assert_eq!(a["family_id"], json!(family));
    assert_eq!(a["student_id"], json!(student));
    // Its communications are on the family's timeline, and the guardian sees the text.
    for c in [&call_id, &text_id] {
        let got = app
            .get(&format!("/v1/communications/{c}"), &app.admin())
            .await
            .body;
        assert_eq!(got["family_id"], json!(family));
        assert_eq!(got["applicant_id"], json!(id));
        assert_eq!(got["guardian_id"], json!(guardian));
    }
    let timeline = page(
        &app,
        &format!("/v1/families/{family}/timeline"),
        &app.admin(),
    )
    .await;
    assert_eq!(timeline.len(), 2, "{timeline:?}");
    let mine = ids(&app, "/v1/communications", &app.guardian(&guardian)).await;
    assert_eq!(mine, vec![text_id.clone()]);
    // Everything written was recorded: family, guardian, student, link, two communications,
    // the applicant's move.
    let r = app.recorded().since(&before);
    let mut kinds: Vec<(String, String)> =
        r.actions().into_iter().map(|(a, k, _)| (a, k)).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("create".into(), "families".into()),
            ("create".into(), "guardians".into()),
            ("create".into(), "links".into()),
            ("create".into(), "students".into()),
            ("transition".into(), "applicants".into()),
            ("update".into(), "communications".into()),
            ("update".into(), "communications".into()),
        ]
    );
    assert_eq!(r.fed().len(), 7);
    // Enrolling again: the same family, nothing new.
    let again = unchanged(&app, Method::POST, &format!("{A}/{id}/enroll"), &t, None).await;
    assert_eq!(again.body["id"], json!(family));
    // A contact may name an enrolled applicant beside its family, not beside another family.
    app.post("/v1/communications", &t, json!({ "applicant_id": id, "family_id": family, "channel": "phone", "direction": "inbound" }))
        .await
        .assert_status(201);
    let (other_family, _, _) = app.household().await;
    refused_field(
        &app,
        Method::POST,
        "/v1/communications",
        &t,
        Some(json!({ "applicant_id": id, "family_id": other_family, "channel": "phone", "direction": "inbound" })),
        422,
        "applicant_id",
    )
    .await;
    // An admin moves it back out; enrolling again moves it back in and makes nothing.
    app.post(
        &format!("{A}/{id}/transitions"),
        &app.admin(),
        json!({ "to": "waitlisted" }),
    )
    .await
    .assert_status(200);
    let families = app.count("families");
    let res = app.post(&format!("{A}/{id}/enroll"), &t, json!({})).await;
    res.assert_status(200);
    assert_eq!(res.body["id"], json!(family));
    assert_eq!(app.count("families"), families);
    assert_eq!(
        app.get(&format!("{A}/{id}"), &t).await.body["stage"],
        "enrolled"
    );
}

#[actix_web::test]
async fn an_enrolment_that_fails_midway_leaves_nothing() {
    let app = TestApp::new().await;
    let (fam, _, _) = app.household().await;
    app.post(
        &format!("/v1/families/{fam}/students"),
        &app.admin(),
        json!({ "given_name": "Old", "family_name": "Doe", "external_id": "SIS-S-1" }),
    )
    .await
    .assert_status(201);
    let id = ready_to_enroll(&app, json!({})).await;
    app.post(
        "/v1/communications",
        &staff(&app),
        json!({ "applicant_id": id, "channel": "phone", "direction": "inbound" }),
    )
    .await
    .assert_status(201);
    // The family and guardian are made before the student's external_id collides: all of it
    // goes, the communications stay the applicant's.
    let res = refused(
        &app,
        Method::POST,
        &format!("{A}/{id}/enroll"),
        &staff(&app),
        Some(json!({ "student_external_id": "SIS-S-1" })),
        409,
    )
    .await;
    assert!(
        res.body["detail"].as_str().unwrap().contains("external_id"),
        "{}",
        res.text
    );
    // Checklist first: an applicant at application with the form undone.
    let other = id_of(&applicant(&app, "Leo", json!({ "stage": "application" })).await);
    let res = refused(
        &app,
        Method::POST,
        &format!("{A}/{other}/enroll"),
        &staff(&app),
        None,
        409,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/checklist-incomplete");
    // Bad references: 422; a bad body: 400; guardian_id without family_id: 400.
    refused_field(
        &app,
        Method::POST,
        &format!("{A}/{id}/enroll"),
        &staff(&app),
        Some(json!({ "family_id": "00000000-0000-7000-8000-000000000000" })),
        422,
        "family_id",
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        &format!("{A}/{id}/enroll"),
        &staff(&app),
        Some(json!({ "colour": "red" })),
        400,
        "colour",
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        &format!("{A}/{id}/enroll"),
        &staff(&app),
        Some(json!({ "guardian_id": "00000000-0000-7000-8000-000000000000" })),
        422,
        "guardian_id",
    )
    .await;
    // It then enrols cleanly.
    app.post(&format!("{A}/{id}/enroll"), &staff(&app), Value::Null)
        .await
        .assert_status(201);
}

#[actix_web::test]
async fn a_sibling_enrols_into_the_existing_family_with_its_guardian() {
    let app = TestApp::new().await;
    let (fam, g, _) = app.household().await;
    let (other_fam, other_g, _) = app.household().await;
    let id = ready_to_enroll(&app, json!({ "source": "sibling" })).await;
    let path = format!("{A}/{id}/enroll");
    refused_field(
        &app,
        Method::POST,
        &path,
        &staff(&app),
        Some(json!({ "family_id": fam, "guardian_id": other_g })),
        422,
        "guardian_id",
    )
    .await;
    let res = app
        .post(
            &path,
            &staff(&app),
            json!({ "family_id": fam, "guardian_id": g }),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.body["id"], json!(fam));
    assert_eq!(
        page(&app, &format!("/v1/families/{fam}/guardians"), &app.admin())
            .await
            .len(),
        1
    );
    let students = page(&app, &format!("/v1/families/{fam}/students"), &app.admin()).await;
    assert_eq!(students.len(), 2);
    let new = students
        .iter()
        .find(|s| s["given_name"] == "Sofía")
        .unwrap();
    let links = page(
        &app,
        &format!("/v1/students/{}/guardians", new["id"].as_str().unwrap()),
        &app.admin(),
    )
    .await;
    assert_eq!(links[0]["guardian_id"], json!(g));
    // Into an existing family with a new guardian of its own.
    let id = ready_to_enroll(&app, json!({})).await;
    app.post(&format!("{A}/{id}/enroll"), &staff(&app), json!({ "family_id": other_fam, "guardian_given_name": "Ana María", "guardian_family_name": "López" }))
        .await
        .assert_status(201);
    let gs = page(
        &app,
        &format!("/v1/families/{other_fam}/guardians"),
        &app.admin(),
    )
    .await;
    assert_eq!(gs.len(), 2);
    let new = gs.iter().find(|x| x["id"] != json!(other_g)).unwrap();
    assert_eq!(new["given_name"], "Ana María");
    assert_eq!(new["is_primary"], false);
}

#[actix_web::test]
async fn communications_with_an_applicant_follow_the_contact_rules_and_admissions_scope() {
    let app = TestApp::new().await;
    let id = id_of(
        &applicant(
            &app,
            "Ana",
            json!({ "guardian": { "name": "Eva Díaz", "preferred_language": "es" } }),
        )
        .await,
    );
    let t = staff(&app);
    // No consent to texts yet.
    let res = refused(
        &app,
        Method::POST,
        "/v1/communications",
        &t,
        Some(json!({ "applicant_id": id, "channel": "sms", "direction": "outbound" })),
        422,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/sms-consent-missing");
    // A language mismatch is a warning, as for a family.
    let res = app.post("/v1/communications", &t, json!({ "applicant_id": id, "channel": "email", "direction": "outbound", "language": "en" })).await;
    res.assert_status(201);
    assert!(res.body["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("language_mismatch"));
    let comm = res.id();
    // No guardian or student records to name yet; neither family nor applicant is a 400.
    refused_field(&app, Method::POST, "/v1/communications", &t, Some(json!({ "applicant_id": id, "channel": "phone", "direction": "inbound", "student_id": "00000000-0000-7000-8000-000000000000" })), 422, "student_id").await;
    refused_field(
        &app,
        Method::POST,
        "/v1/communications",
        &t,
        Some(json!({ "channel": "phone", "direction": "inbound" })),
        400,
        "family_id",
    )
    .await;
    refused_field(
        &app,
        Method::PATCH,
        &format!("/v1/communications/{comm}"),
        &t,
        Some(json!({ "applicant_id": null })),
        400,
        "applicant_id",
    )
    .await;
    // Staff without admissions:read neither see nor name applicants' households.
    let teacher = app.token(Role::Teacher);
    refused(
        &app,
        Method::POST,
        "/v1/communications",
        &teacher,
        Some(json!({ "applicant_id": id, "channel": "phone", "direction": "inbound" })),
        404,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &format!("/v1/communications/{comm}"),
        &teacher,
        None,
        404,
    )
    .await;
    assert!(ids(&app, "/v1/communications", &teacher).await.is_empty());
    assert_eq!(
        ids(&app, "/v1/communications", &t).await,
        vec![comm.clone()]
    );
    // Another school's applicant is no one.
    let other = app.mint(Role::Admin, OTHER_SCHOOL, "admin-b", None, None);
    refused(
        &app,
        Method::POST,
        "/v1/communications",
        &other,
        Some(json!({ "applicant_id": id, "channel": "phone", "direction": "inbound" })),
        404,
    )
    .await;
}

#[actix_web::test]
async fn guardians_and_other_roles_and_schools_have_no_access() {
    let app = TestApp::new().await;
    let (_, g, _) = app.household().await;
    let id = id_of(&applicant(&app, "Ana", json!({})).await);
    let guardian = app.guardian(&g);
    let every: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, S.into(), None),
        (Method::GET, format!("{S}/tour"), None),
        (
            Method::POST,
            S.into(),
            Some(json!({ "key": "visit", "name": "Visit" })),
        ),
        (
            Method::PATCH,
            format!("{S}/tour"),
            Some(json!({ "name": "x" })),
        ),
        (Method::DELETE, format!("{S}/assessment"), None),
        (Method::GET, A.into(), None),
        (
            Method::POST,
            A.into(),
            Some(json!({ "given_name": "X", "family_name": "Y", "guardian": { "name": "Z" } })),
        ),
        (Method::GET, format!("{A}/{id}"), None),
        (
            Method::PATCH,
            format!("{A}/{id}"),
            Some(json!({ "notes": "x" })),
        ),
        (Method::DELETE, format!("{A}/{id}"), None),
        (
            Method::POST,
            format!("{A}/{id}/transitions"),
            Some(json!({ "to": "tour" })),
        ),
        (Method::GET, format!("{A}/{id}/history"), None),
        (Method::POST, format!("{A}/{id}/enroll"), None),
        (Method::GET, "/v1/admissions/funnel".into(), None),
    ];
    for (method, path, body) in &every {
        refused(&app, method.clone(), path, &guardian, body.clone(), 403).await;
        refused(
            &app,
            method.clone(),
            path,
            &app.token(Role::Teacher),
            body.clone(),
            403,
        )
        .await;
        // A guardian token cannot widen itself with a scope claim.
        let widened = app.mint(
            Role::Guardian,
            SCHOOL,
            "g",
            Some(&g),
            Some("admissions:read admissions:write"),
        );
        refused(&app, method.clone(), path, &widened, body.clone(), 403).await;
    }
    // The SIS reads, never writes.
    let sis = app.token(Role::Integration);
    app.get(&format!("{A}/{id}"), &sis).await.assert_status(200);
    refused(
        &app,
        Method::PATCH,
        &format!("{A}/{id}"),
        &sis,
        Some(json!({ "notes": "x" })),
        403,
    )
    .await;
    // Another school's admin: 404 for the applicant, its own pipeline.
    let other = app.other_admin();
    for (method, path, body) in every.iter().filter(|(_, p, _)| p.contains(&id)) {
        refused(&app, method.clone(), path, &other, body.clone(), 404).await;
    }
    assert!(ids(&app, A, &other).await.is_empty());
    // The change feed serves admissions' records to who may read them.
    let feed = app
        .get("/v1/changes?types=applicants,admission_stages", &sis)
        .await;
    feed.assert_status(200);
    assert!(feed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == json!(id)));
    let teacher_feed = app.mint(
        Role::Admin,
        SCHOOL,
        "t",
        None,
        Some("changes:read families:read"),
    );
    refused(
        &app,
        Method::GET,
        "/v1/changes?types=applicants",
        &teacher_feed,
        None,
        403,
    )
    .await;
}

/// The funnel on a data set small enough to compute by hand (see each assertion). Days from
/// Monday 2027-01-04 09:00; every applicant enters the pipeline on day 0 but F, on day 20.
#[actix_web::test]
async fn the_funnel_counts_what_a_hand_count_gives() {
    let app = TestApp::new().await;
    let day = |n: i64| at("2027-01-04 09:00:00") + chrono::Duration::days(n);
    app.set_now(day(0));
    let term = json!({ "entry_term": "2027-fall" });
    let a = id_of(
        &applicant(
            &app,
            "A",
            merged(json!({ "source": "website" }), term.clone()),
        )
        .await,
    );
    let b = id_of(
        &applicant(
            &app,
            "B",
            merged(json!({ "source": "website" }), term.clone()),
        )
        .await,
    );
    let c = id_of(
        &applicant(
            &app,
            "C",
            merged(json!({ "source": "referral" }), term.clone()),
        )
        .await,
    );
    let d = id_of(
        &applicant(
            &app,
            "D",
            merged(
                json!({ "source": "referral", "stage": "tour" }),
                term.clone(),
            ),
        )
        .await,
    );
    let _e = id_of(
        &applicant(
            &app,
            "E",
            json!({ "source": "sibling", "entry_term": "2028-fall" }),
        )
        .await,
    );
    // A: inquiry 1 day, tour 2 days, application 1 day, then declined.
    app.set_now(day(1));
    move_to(&app, &a, "tour").await.assert_status(200);
    // C: inquiry 1 day, application 1 day (tour skipped), interview 3 days, offer 1 day, enrolled.
    move_to(&app, &c, "application").await.assert_status(200);
    app.set_now(day(2));
    // B: inquiry 2 days, then stays in tour.
    move_to(&app, &b, "tour").await.assert_status(200);
    tick(&app, &c, "application_form").await;
    move_to(&app, &c, "interview").await.assert_status(200);
    app.set_now(day(3));
    move_to(&app, &a, "application").await.assert_status(200);
    // D: tour 3 days, then withdrawn.
    move_to(&app, &d, "withdrawn").await.assert_status(200);
    app.set_now(day(4));
    move_to(&app, &a, "declined").await.assert_status(200);
    app.set_now(day(5));
    tick(&app, &c, "interview_held").await;
    move_to(&app, &c, "offer").await.assert_status(200);
    app.set_now(day(6));
    tick(&app, &c, "deposit_paid").await;
    app.post(&format!("{A}/{c}/enroll"), &staff(&app), Value::Null)
        .await
        .assert_status(201);
    // F enters later, from an event; an archived applicant counts nowhere.
    app.set_now(day(20));
    applicant(
        &app,
        "F",
        json!({ "source": "event", "entry_term": "2027-fall" }),
    )
    .await;
    let gone = id_of(&applicant(&app, "G", json!({ "source": "event" })).await);
    app.delete(&format!("{A}/{gone}"), &staff(&app))
        .await
        .assert_status(204);

    let to = "2027-01-14T00:00:00Z";
    let f = app
        .get(&format!("/v1/admissions/funnel?to={to}"), &staff(&app))
        .await;
    f.assert_status(200);
    let f = f.body;
    assert_eq!(
        (
            f["applicants"].clone(),
            f["won"].clone(),
            f["lost"].clone(),
            f["open"].clone()
        ),
        (json!(5), json!(1), json!(2), json!(2))
    );
    let line = |key: &str| {
        f["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()
            .clone()
    };
    // (reached, current, conversion, median days, ended stays)
    let want: [(&str, i64, i64, Value, Value, i64); 10] = [
        // A, B, C, E reached inquiry; E is still there; stays of 1, 2, 1 days ended.
        ("inquiry", 4, 1, Value::Null, json!(1.0), 3),
        // A, B, D: 3 of 4; B still there; A 2 days, D 3 days.
        ("tour", 3, 1, json!(0.75), json!(2.5), 2),
        // A, C: 2 of 3; A 1 day, C 1 day.
        ("application", 2, 0, json!(0.6667), json!(1.0), 2),
        // C: 1 of 2, 3 days.
        ("interview", 1, 0, json!(0.5), json!(3.0), 1),
        ("assessment", 0, 0, json!(0.0), Value::Null, 0),
        // After a stage nobody reached there is no conversion.
        ("offer", 1, 0, Value::Null, json!(1.0), 1),
        ("enrolled", 1, 1, json!(1.0), Value::Null, 0),
        ("waitlisted", 0, 0, json!(0.0), Value::Null, 0),
        ("declined", 1, 1, Value::Null, Value::Null, 0),
        ("withdrawn", 1, 1, Value::Null, Value::Null, 0),
    ];
    for (key, reached, current, conversion, median, ended) in want {
        let s = line(key);
        assert_eq!(
            (
                s["reached"].as_i64(),
                s["current"].as_i64(),
                s["conversion"].clone(),
                s["median_days"].clone(),
                s["completed_stays"].as_i64()
            ),
            (
                Some(reached),
                Some(current),
                conversion,
                median,
                Some(ended)
            ),
            "{key}: {s}"
        );
    }
    let source = |name: &str| {
        f["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        source("website"),
        json!({ "source": "website", "applicants": 2, "won": 0, "lost": 1, "win_rate": 0.0 })
    );
    assert_eq!(
        source("referral"),
        json!({ "source": "referral", "applicants": 2, "won": 1, "lost": 1, "win_rate": 0.5 })
    );
    assert_eq!(
        source("sibling"),
        json!({ "source": "sibling", "applicants": 1, "won": 0, "lost": 0, "win_rate": 0.0 })
    );
    assert_eq!(
        source("event"),
        json!({ "source": "event", "applicants": 0, "won": 0, "lost": 0, "win_rate": null })
    );
    // Without `to`, F counts too; `from` leaves the first five out; `entry_term` keeps E only.
    let all = app.get("/v1/admissions/funnel", &staff(&app)).await.body;
    assert_eq!(all["applicants"], 6);
    assert_eq!(all["open"], 3);
    let later = app
        .get(
            "/v1/admissions/funnel?from=2027-01-14T00:00:00Z",
            &staff(&app),
        )
        .await
        .body;
    assert_eq!(later["applicants"], 1);
    assert_eq!(later["stages"][0]["reached"], 1);
    let e_only = app
        .get("/v1/admissions/funnel?entry_term=2028-fall", &staff(&app))
        .await
        .body;
    assert_eq!(e_only["applicants"], 1);
    assert_eq!(e_only["stages"][0]["current"], 1);
    assert_eq!(e_only["stages"][0]["median_days"], Value::Null);
    refused_field(
        &app,
        Method::GET,
        "/v1/admissions/funnel?from=yesterday",
        &staff(&app),
        None,
        400,
        "from",
    )
    .await;
}

#[actix_web::test]
async fn every_admissions_write_is_audited_fed_and_creates_are_idempotent() {
    let app = TestApp::new().await;
    keys(&app).await;
    let t = staff(&app);
    let act = |a: &str, k: &str, id: &str| (a.to_string(), k.to_string(), id.to_string());
    let fed =
        |k: &str, id: &str, op: &str, v: i64| (k.to_string(), id.to_string(), op.to_string(), v);
    // An applicant: created (its first history entry is part of the create), changed, archived.
    let before = app.recorded();
    let body = json!({ "given_name": "Ana", "family_name": "Doe", "guardian": { "name": "Eva Doe" }, "external_id": "APP-9" });
    let headers = [("idempotency-key", "applicant-ana")];
    let first = app
        .call(Method::POST, A, Some(&t), Some(&body), &headers)
        .await;
    first.assert_status(201);
    let id = first.id();
    let again = app
        .call(Method::POST, A, Some(&t), Some(&body), &headers)
        .await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    app.patch(&format!("{A}/{id}"), &t, json!({ "notes": "Called" }))
        .await
        .assert_status(200);
    app.delete(&format!("{A}/{id}"), &t)
        .await
        .assert_status(204);
    let r = app.recorded().since(&before);
    assert_eq!(
        r.actions(),
        [
            act("create", "applicants", &id),
            act("update", "applicants", &id),
            act("archive", "applicants", &id)
        ]
    );
    assert_eq!(
        r.fed(),
        [
            fed("applicants", &id, "create", 1),
            fed("applicants", &id, "update", 2),
            fed("applicants", &id, "archive", 3)
        ]
    );
    assert_eq!(r.changes[0].external_id.as_deref(), Some("APP-9"));
    assert!(r
        .audit
        .iter()
        .all(|a| a.actor == "admissions-1" && a.actor_role == "admissions"));
    // A stage: renamed (one update), moved from 2 to 3 (it and the one it passes), deleted
    // (it, and the stages after it moving up one).
    let tour = app.get(&format!("{S}/tour"), &t).await.body;
    let application = app.get(&format!("{S}/application"), &t).await.body;
    let (tour_id, application_id) = (id_of(&tour), id_of(&application));
    let before = app.recorded();
    app.patch(
        &format!("{S}/tour"),
        &app.admin(),
        json!({ "name": "Campus tour" }),
    )
    .await
    .assert_status(200);
    app.patch(&format!("{S}/tour"), &app.admin(), json!({ "position": 3 }))
        .await
        .assert_status(200);
    let r = app.recorded().since(&before);
    let mut got = r.actions();
    got.sort();
    let mut want = vec![
        act("update", "admission_stages", &tour_id),
        act("update", "admission_stages", &tour_id),
        act("update", "admission_stages", &application_id),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        app.get(&format!("{S}/application"), &t).await.body["position"],
        2
    );
    let before = app.recorded();
    app.delete(&format!("{S}/tour"), &app.admin())
        .await
        .assert_status(204);
    let r = app.recorded().since(&before);
    assert_eq!(r.actions()[0], act("archive", "admission_stages", &tour_id));
    // interview .. withdrawn (7 stages) move up one.
    assert_eq!(r.audit.len(), 8, "{:?}", r.actions());
    assert_eq!(r.fed().len(), 8);
    assert_eq!(keys(&app).await.len(), 9);
    // An idempotent stage create.
    let body = json!({ "key": "visit", "name": "Home visit", "position": 2 });
    let headers = [("idempotency-key", "stage-visit")];
    let first = app
        .call(Method::POST, S, Some(&app.admin()), Some(&body), &headers)
        .await;
    first.assert_status(201);
    let before = app.snapshot();
    let again = app
        .call(Method::POST, S, Some(&app.admin()), Some(&body), &headers)
        .await;
    again.assert_status(201);
    assert_eq!(again.body, first.body);
    app.assert_unchanged(&before, "a replayed stage create");
    // The stages page like every list.
    let first = app.get(&format!("{S}?limit=4"), &t).await;
    first.assert_status(200);
    assert_eq!(first.body["data"].as_array().unwrap().len(), 4);
    assert!(first.header("link").is_some());
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let rest = page(&app, &format!("{S}?cursor={cursor}"), &t).await;
    assert_eq!(rest.len(), 6);
    assert_eq!(rest[0]["position"], 5);
}
