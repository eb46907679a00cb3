//! The conventions every endpoint shares: problem documents, request ids, strict input,
//! pagination, ETag/If-Match, idempotency.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

/// A request with one extra header.
async fn send_with(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    header: (&str, &str),
) -> Res {
    app.call(method, path, Some(token), body.as_ref(), &[header])
        .await
}

#[actix_web::test]
async fn health_and_readiness_need_no_token() {
    let app = TestApp::new().await;
    for path in ["/healthz", "/readyz"] {
        let res = app.call(Method::GET, path, None, None, &[]).await;
        res.assert_status(200);
        assert_eq!(res.body["status"], "ok");
    }
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated_and_quoted_in_problems() {
    let app = TestApp::new().await;
    let res = app
        .call(
            Method::GET,
            "/v1/families",
            None,
            None,
            &[("x-request-id", "trace-abc-123")],
        )
        .await;
    assert_eq!(res.header("x-request-id").as_deref(), Some("trace-abc-123"));
    assert_eq!(res.assert_problem(401)["request_id"], "trace-abc-123");
    let res = app.get("/v1/families", &app.admin()).await;
    let generated = res.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
    // An unusable id (too long) is replaced, not echoed.
    let long = "x".repeat(300);
    let res = app
        .call(
            Method::GET,
            "/healthz",
            None,
            None,
            &[("x-request-id", &long)],
        )
        .await;
    assert_ne!(res.header("x-request-id").as_deref(), Some(long.as_str()));
}

#[actix_web::test]
async fn framework_rejections_are_problem_documents() {
    let app = TestApp::new().await;
    let t = app.admin();
    let unknown = app.get("/v1/nothing-here", &t).await;
    unknown.assert_problem(404);
    let wrong_method = app
        .call(Method::PUT, "/v1/families", Some(&t), Some(&json!({})), &[])
        .await;
    wrong_method.assert_problem(405);
    assert_eq!(wrong_method.header("allow").as_deref(), Some("GET, POST"));
    let bad_path = app.get("/v1/families/not-a-uuid", &t).await;
    bad_path.assert_problem(400);
    let root = app.call(Method::GET, "/", None, None, &[]).await;
    root.assert_problem(404);
}

#[actix_web::test]
async fn malformed_bodies_are_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let t = app.admin();
    let send = |body: &'static str, ct: Option<&'static str>| {
        let mut req = TestRequest::post()
            .uri("/v1/families")
            .insert_header(("authorization", format!("Bearer {t}")));
        if let Some(ct) = ct {
            req = req.insert_header(("content-type", ct));
        }
        req.set_payload(body).to_request()
    };
    let cases: [(&str, Option<&str>, u16); 8] = [
        ("{not json", Some("application/json"), 400),
        ("", Some("application/json"), 400),
        ("[1,2]", Some("application/json"), 400),
        ("\"text\"", Some("application/json"), 400),
        ("{\"display_name\": 5}", Some("application/json"), 400),
        ("{\"display_name\": \"A\"}", Some("text/plain"), 415),
        ("{\"display_name\": \"A\"}", None, 415),
        (
            "{\"display_name\": \"A\"}",
            Some("application/merge-patch+json"),
            415,
        ),
    ];
    for (body, ct, status) in cases {
        let res = assert_nothing_written!(app, app.send(send(body, ct)).await);
        assert_eq!(res.status, status, "{body} as {ct:?}: {}", res.text);
        res.assert_problem(status);
    }
}

#[actix_web::test]
async fn bodies_over_one_mebibyte_are_a_413() {
    let app = TestApp::new().await;
    let big = json!({ "display_name": "Big", "notes": "x".repeat(1024 * 1024) });
    let res = assert_nothing_written!(app, app.post("/v1/families", &app.admin(), big).await);
    res.assert_problem(413);
    // Just under the limit is parsed (and refused for the notes' length, by validation).
    let under = json!({ "display_name": "Big", "notes": "x".repeat(1000 * 1000) });
    let res = assert_nothing_written!(app, app.post("/v1/families", &app.admin(), under).await);
    assert_eq!(res.assert_problem(400)["errors"][0]["field"], "notes");
}

#[actix_web::test]
async fn validation_problems_list_each_field() {
    let app = TestApp::new().await;
    let res = assert_nothing_written!(
        app,
        app.post(
            "/v1/families",
            &app.admin(),
            json!({ "display_name": "  ", "address": { "country": "usa" }, "notes": "ok" })
        )
        .await
    );
    let problem = res.assert_problem(400);
    assert!(problem["type"].as_str().unwrap().ends_with("/validation"));
    let fields = res.error_fields();
    assert!(fields.contains(&"display_name".to_string()), "{fields:?}");
    assert!(
        fields.contains(&"address.country".to_string()),
        "{fields:?}"
    );
    for e in problem["errors"].as_array().unwrap() {
        assert!(e["code"].is_string() && e["message"].is_string());
    }
    let res = assert_nothing_written!(
        app,
        app.post(
            "/v1/families",
            &app.admin(),
            json!({ "display_name": "A", "preferred_channel": "pigeon" })
        )
        .await
    );
    res.assert_problem(400);
    assert_eq!(res.error_fields(), ["preferred_channel"]);
    assert!(
        res.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("in_person"),
        "names the allowed values"
    );
    let res = assert_nothing_written!(app, app.post("/v1/families", &app.admin(), json!({})).await);
    assert_eq!(
        res.body["errors"][0],
        json!({"field": "display_name", "code": "required", "message": "is required"})
    );
}

#[actix_web::test]
async fn unknown_or_malformed_query_parameters_are_a_400() {
    let app = TestApp::new().await;
    let t = app.admin();
    for (query, field) in [
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("limit=1&limit=2", "limit"),
        ("cursor=%%%", "cursor"),
        ("cursor=bm90LWFuLWlk", "cursor"),
        ("updated_since=yesterday", "updated_since"),
        ("primary_language=english_1", "primary_language"),
        ("q=%00", "q"),
    ] {
        let res = app.get(&format!("/v1/families?{query}"), &t).await;
        assert_eq!(res.status, 400, "{query}: {}", res.text);
        res.assert_problem(400);
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.text);
    }
    let res = app.get("/healthz?verbose=1", &t).await;
    res.assert_problem(400);
}

#[actix_web::test]
async fn lists_page_with_cursors_and_link_headers() {
    let app = TestApp::new().await;
    let t = app.admin();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.family(&format!("Pager {i}")).await);
    }
    app.family("Other name").await;
    let mut seen = Vec::new();
    let mut url = "/v1/families?q=pager&limit=3".to_string();
    let mut pages = 0;
    loop {
        let res = app.get(&url, &t).await;
        res.assert_status(200);
        pages += 1;
        let data = res.body["data"].as_array().unwrap();
        assert!(data.len() <= 3);
        seen.extend(data.iter().map(|f| f["id"].as_str().unwrap().to_string()));
        match res.body["next_cursor"].as_str() {
            Some(next) => {
                let link = res
                    .header("link")
                    .expect("Link header on a page with a next page");
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                assert!(
                    link.contains("q=pager") && link.contains("limit=3") && link.contains(next),
                    "{link}"
                );
                url = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_string();
            }
            None => {
                assert!(res.header("link").is_none());
                break;
            }
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every family once, in creation order");
    let all = app.get("/v1/families", &t).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 8);
    assert_eq!(all.body["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn etags_and_if_match_guard_changes() {
    let app = TestApp::new().await;
    let t = app.admin();
    let id = app.family("Versioned").await;
    let path = format!("/v1/families/{id}");
    let got = app.get(&path, &t).await;
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body["version"], 1);

    let patch = |if_match: &'static str, name: &'static str| {
        send_with(
            &app,
            Method::PATCH,
            &path,
            &t,
            Some(json!({ "display_name": name })),
            ("if-match", if_match),
        )
    };
    let ok = patch("\"1\"", "Second").await;
    ok.assert_status(200);
    assert_eq!(ok.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(ok.body["version"], 2);
    let stale = assert_nothing_written!(app, patch("\"1\"", "Lost update").await);
    stale.assert_problem(412);
    assert_nothing_written!(app, patch("W/\"2\"", "Weak").await).assert_problem(412);
    assert_nothing_written!(app, patch("\"2", "Unbalanced").await).assert_problem(400);
    assert_nothing_written!(app, patch("1", "Unquoted and stale").await).assert_problem(412);
    patch("\"1\", \"2\"", "Third").await.assert_status(200);
    patch("*", "Fourth").await.assert_status(200);
    assert_eq!(app.get(&path, &t).await.body["display_name"], "Fourth");

    let del = |if_match: &'static str| {
        send_with(
            &app,
            Method::DELETE,
            &path,
            &t,
            None,
            ("if-match", if_match),
        )
    };
    assert_nothing_written!(app, del("\"3\"").await).assert_problem(412);
    del("\"4\"").await.assert_status(204);
    app.get(&path, &t).await.assert_problem(404);
}

#[actix_web::test]
async fn idempotency_keys_replay_the_first_answer() {
    let app = TestApp::new().await;
    let t = app.admin();
    let body = json!({ "display_name": "Once", "external_id": "F-1" });
    let send = |b: Value, key: &'static str, token: String| {
        let app = &app;
        async move {
            send_with(
                app,
                Method::POST,
                "/v1/families",
                &token,
                Some(b),
                ("idempotency-key", key),
            )
            .await
        }
    };
    let first = send(body.clone(), "key-1", t.clone()).await;
    first.assert_status(201);
    let before = app.snapshot();
    // The same body with its keys in another order is the same request.
    let again = send(
        json!({ "external_id": "F-1", "display_name": "Once" }),
        "key-1",
        t.clone(),
    )
    .await;
    again.assert_status(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(app.snapshot(), before, "a replay writes nothing");
    assert_eq!(app.count("families"), 1);

    let reused = assert_nothing_written!(
        app,
        send(json!({ "display_name": "Other" }), "key-1", t.clone()).await
    );
    assert!(reused.assert_problem(422)["type"]
        .as_str()
        .unwrap()
        .ends_with("idempotency-key-reused"));

    // Keys belong to their caller: another caller's same key is a new request.
    let other = app.mint(liaison::auth::Role::Pre, SCHOOL, "pre-9", None, None);
    let theirs = send(json!({ "display_name": "Theirs" }), "key-1", other).await;
    theirs.assert_status(201);
    assert_ne!(theirs.id(), first.id());

    // A create that fails stores no key: the retry, fixed, goes through.
    let dup = assert_nothing_written!(
        app,
        send(
            json!({ "display_name": "Dup", "external_id": "F-1" }),
            "key-2",
            t.clone()
        )
        .await
    );
    dup.assert_problem(409);
    send(
        json!({ "display_name": "Dup", "external_id": "F-2" }),
        "key-2",
        t.clone(),
    )
    .await
    .assert_status(201);

    let bad_key = assert_nothing_written!(app, send(body.clone(), "", t.clone()).await);
    bad_key.assert_problem(400);
}

#[actix_web::test]
async fn idempotency_keys_expire_after_a_day() {
    let app = TestApp::new().await;
    let t = app.admin();
    let body = json!({ "display_name": "Daily" });
    let send = || {
        send_with(
            &app,
            Method::POST,
            "/v1/families",
            &t,
            Some(body.clone()),
            ("idempotency-key", "daily"),
        )
    };
    let first = send().await;
    first.assert_status(201);
    app.set_now(app.clock.now() + chrono::Duration::hours(25));
    let later = send().await;
    later.assert_status(201);
    assert_ne!(
        later.id(),
        first.id(),
        "an expired key starts a new request"
    );
}

#[actix_web::test]
async fn a_merge_patch_may_not_name_fields_the_resource_lacks_even_to_clear_them() {
    let app = TestApp::new().await;
    let t = app.admin();
    let id = app.family("Strict").await;
    let path = format!("/v1/families/{id}");
    for (patch, field) in [
        (json!({ "bogus": null }), "bogus"),
        (
            json!({ "address": { "city": "Springfield", "bogus": null } }),
            "address.bogus",
        ),
        (json!({ "version": null }), "version"),
    ] {
        let res = assert_nothing_written!(app, app.patch(&path, &t, patch.clone()).await);
        res.assert_problem(400);
        assert_eq!(res.error_fields(), [field], "{patch}");
        assert_eq!(res.body["errors"][0]["code"], "unknown_field");
    }
    // Known fields may be cleared, nested ones too.
    app.patch(
        &path,
        &t,
        json!({ "notes": null, "address": { "line2": null, "city": "Springfield" } }),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn browsers_may_call_from_configured_origins_only() {
    let origin = "https://app.school.example";
    let app = TestApp::with(KeyMode::Secret, &[origin.to_string()]).await;
    let preflight = |from: &'static str| {
        TestRequest::default()
            .method(Method::OPTIONS)
            .uri("/v1/families")
            .insert_header(("origin", from))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header((
                "access-control-request-headers",
                "authorization, content-type, idempotency-key",
            ))
            .to_request()
    };
    let ok = app.send(preflight(origin)).await;
    assert!(ok.status < 300, "{}", ok.text);
    assert_eq!(
        ok.header("access-control-allow-origin").as_deref(),
        Some(origin)
    );
    let get = app
        .call(
            Method::GET,
            "/v1/families",
            Some(&app.admin()),
            None,
            &[("origin", origin)],
        )
        .await;
    get.assert_status(200);
    assert_eq!(
        get.header("access-control-allow-origin").as_deref(),
        Some(origin)
    );
    assert!(get
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .contains("etag"));
    // Another origin gets no permission to read the answer.
    let other = app.send(preflight("https://evil.example")).await;
    assert!(other.header("access-control-allow-origin").is_none());
    other.assert_problem(400);
    // With no origins configured, no CORS headers at all.
    let plain = TestApp::new().await;
    let res = plain
        .call(
            Method::GET,
            "/v1/families",
            Some(&plain.admin()),
            None,
            &[("origin", origin)],
        )
        .await;
    res.assert_status(200);
    assert!(res.header("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn readiness_fails_with_a_503_when_the_database_does_not_answer() {
    use liaison::config::DatabaseUrl;
    use liaison::db::Db;
    // Nothing listens on port 1: every connection attempt is refused.
    let url = DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/liaison").unwrap();
    let db = Db::lazy(&url, 1, std::time::Duration::from_millis(300));
    let keys = liaison::auth::Keys::new(
        jsonwebtoken::Algorithm::HS256,
        jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        None,
        None,
        None,
    );
    let state = actix_web::web::Data::new(liaison::AppState::new(
        db,
        keys,
        liaison::clock::Clock::system(),
    ));
    let svc = actix_web::test::init_service(liaison::app(state, &[])).await;
    let res =
        actix_web::test::call_service(&svc, TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    assert!(res.headers().get("retry-after").is_some());
    let live =
        actix_web::test::call_service(&svc, TestRequest::get().uri("/healthz").to_request()).await;
    assert_eq!(
        live.status().as_u16(),
        200,
        "the process is up all the same"
    );
}

#[actix_web::test]
async fn problem_types_resolve_on_the_service_without_a_token() {
    let app = TestApp::new().await;
    // The type of a real problem document is a reference to a page of this service.
    let refused = app.call(Method::GET, "/v1/families", None, None, &[]).await;
    let type_ = refused.assert_problem(401)["type"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(type_, "/problems/unauthorized");
    let page = app.call(Method::GET, &type_, None, None, &[]).await;
    page.assert_status(200);
    assert_eq!(
        page.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(page.body["type"], type_);
    assert_eq!(page.body["slug"], "unauthorized");
    assert_eq!(page.body["title"], refused.body["title"]);
    assert_eq!(page.body["status"], 401);
    assert!(page.body["meaning"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(page.body["what_to_do"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));

    // The index lists every kind the code knows, each with a page of its own.
    let index = app.call(Method::GET, "/problems", None, None, &[]).await;
    index.assert_status(200);
    let listed: Vec<&str> = index.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    let known: Vec<&str> = liaison::http::problem_types::ALL
        .iter()
        .map(|p| p.slug)
        .collect();
    assert_eq!(listed, known);
    for slug in [
        "validation",
        "contact-restricted",
        "token-expired",
        "uri-too-long",
    ] {
        assert!(listed.contains(&slug), "{slug}");
        let one = app
            .call(Method::GET, &format!("/problems/{slug}"), None, None, &[])
            .await;
        one.assert_status(200);
        assert_eq!(one.body["type"], format!("/problems/{slug}"));
    }

    // A browser gets a page it can show.
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let html = app
        .call(
            Method::GET,
            "/problems/precondition-failed",
            None,
            None,
            &[("accept", browser)],
        )
        .await;
    html.assert_status(200);
    assert_eq!(
        html.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(
        html.text.contains("<h1>Precondition failed</h1>"),
        "{}",
        html.text
    );
    assert!(html.text.contains("<code>If-Match</code>"), "{}", html.text);
    assert_eq!(html.header("vary").as_deref(), Some("Accept"));
    let index = app
        .call(Method::GET, "/problems", None, None, &[("accept", browser)])
        .await;
    assert!(index
        .text
        .contains("href=\"/problems/sms-consent-missing\""));
    // JSON when JSON ranks at least as high.
    let json = app
        .call(
            Method::GET,
            "/problems/precondition-failed",
            None,
            None,
            &[("accept", "text/html;q=0.5, application/json")],
        )
        .await;
    assert_eq!(json.body["status"], 412);

    // An unknown slug is a 404 problem; other methods a 405.
    let unknown = assert_nothing_written!(
        app,
        app.call(Method::GET, "/problems/no-such-thing", None, None, &[])
            .await
    );
    assert_eq!(unknown.assert_problem(404)["type"], "/problems/not-found");
    let post = assert_nothing_written!(
        app,
        app.call(
            Method::POST,
            "/problems/validation",
            None,
            Some(&json!({})),
            &[]
        )
        .await
    );
    assert_eq!(
        post.assert_problem(405)["type"],
        "/problems/method-not-allowed"
    );
}

#[actix_web::test]
async fn an_empty_or_malformed_if_match_is_a_400_wherever_it_is_honoured() {
    let app = TestApp::new().await;
    let t = app.admin();
    let family = app.family("Guarded").await;
    let path = format!("/v1/families/{family}");
    let patch = json!({ "notes": "changed" });
    for value in ["", " ", ",", "\"2", "W/2", "*, \"1\"", "\"1\" \"2\"", "one"] {
        for (method, body) in [(Method::PATCH, Some(patch.clone())), (Method::DELETE, None)] {
            let res = assert_nothing_written!(
                app,
                send_with(&app, method.clone(), &path, &t, body, ("if-match", value)).await
            );
            assert_eq!(
                res.status, 400,
                "{method} If-Match: {value:?}: {}",
                res.text
            );
            assert_eq!(res.assert_problem(400)["type"], "/problems/bad-request");
        }
    }
    let settings = assert_nothing_written!(
        app,
        send_with(
            &app,
            Method::PATCH,
            "/v1/settings",
            &t,
            Some(json!({})),
            ("if-match", "")
        )
        .await
    );
    settings.assert_problem(400);
    // What the documented pattern allows is never a 400: empty list elements, blanks, a bare
    // version, a tag that is no version (a 412 then).
    let ok = send_with(
        &app,
        Method::PATCH,
        &path,
        &t,
        Some(patch.clone()),
        ("if-match", " , \"1\" ,, "),
    )
    .await;
    ok.assert_status(200);
    let bare = send_with(
        &app,
        Method::PATCH,
        &path,
        &t,
        Some(json!({ "notes": "bare" })),
        ("if-match", "2"),
    )
    .await;
    bare.assert_status(200);
    let other = assert_nothing_written!(
        app,
        send_with(
            &app,
            Method::DELETE,
            &path,
            &t,
            None,
            ("if-match", "\"03\", W/\"3\", \"x,y\"")
        )
        .await
    );
    other.assert_problem(412);
}

#[actix_web::test]
async fn a_malformed_id_in_the_path_is_a_400_naming_the_parameter_in_plain_words() {
    let app = TestApp::new().await;
    let t = app.admin();
    let family = app.family("Pathy").await;
    let student = app.student_in(&family, "Kid").await;
    let guardian = app.guardian_in(&family, "Parent").await;
    let cases: Vec<(Method, String, Option<Value>, Vec<&str>)> = vec![
        (
            Method::GET,
            "/v1/families/not-a-uuid".into(),
            None,
            vec!["id"],
        ),
        (Method::GET, "/v1/families/%ZZ".into(), None, vec!["id"]),
        (Method::DELETE, "/v1/guardians/123".into(), None, vec!["id"]),
        (
            Method::PATCH,
            "/v1/students/x".into(),
            Some(json!({ "given_name": "Y" })),
            vec!["id"],
        ),
        (
            Method::GET,
            format!("/v1/students/{student}/guardians/nope"),
            None,
            vec!["guardian_id"],
        ),
        (
            Method::DELETE,
            format!("/v1/students/nope/guardians/{guardian}"),
            None,
            vec!["id"],
        ),
        (
            Method::GET,
            "/v1/students/nope/guardians/nada".into(),
            None,
            vec!["id", "guardian_id"],
        ),
        (
            Method::POST,
            "/v1/concerns/zzz/transitions".into(),
            Some(json!({ "to": "acknowledged" })),
            vec!["id"],
        ),
    ];
    for (method, path, body, fields) in cases {
        let res = assert_nothing_written!(
            app,
            app.call(method.clone(), &path, Some(&t), body.as_ref(), &[])
                .await
        );
        let problem = res.assert_problem(400);
        assert_eq!(problem["type"], "/problems/validation", "{method} {path}");
        assert_eq!(res.error_fields(), fields, "{method} {path}: {}", res.text);
        for e in problem["errors"].as_array().unwrap() {
            assert_eq!(e["code"], "invalid");
            assert!(e["message"]
                .as_str()
                .unwrap()
                .starts_with("must be a UUID such as "));
        }
        for internal in [
            "deserialize",
            "UUID parsing",
            "invalid character",
            "Path",
            "found",
        ] {
            assert!(
                !res.text.contains(internal),
                "{method} {path}: {}",
                res.text
            );
        }
    }
}

/// Every operation of the OpenAPI document, with its path's parameters filled in.
fn every_operation() -> Vec<(Method, String)> {
    let doc = serde_json::to_value(liaison::openapi::document()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let mut concrete = path.clone();
            for param in ["{id}", "{guardian_id}", "{family_id}", "{slot_id}"] {
                concrete = concrete.replace(param, &uuid::Uuid::now_v7().to_string());
            }
            concrete = concrete.replace("{slug}", "validation");
            concrete = concrete.replace("{stage}", "tour");
            assert!(
                !concrete.contains('{'),
                "a path parameter to fill in: {path}"
            );
            ops.push((
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                concrete,
            ));
        }
    }
    assert!(ops.len() > 30, "{ops:?}");
    ops
}

#[actix_web::test]
async fn unknown_query_parameters_are_a_400_on_every_endpoint() {
    let app = TestApp::new().await;
    let t = app.admin();
    app.family("Something to write over").await;
    for (method, path) in every_operation() {
        let url = format!("{path}?zz_unknown=1&limit=5&zz_unknown=2");
        let res = assert_nothing_written!(
            app,
            app.call(method.clone(), &url, Some(&t), Some(&json!({})), &[])
                .await
        );
        assert_eq!(res.status, 400, "{method} {url}: {}", res.text);
        assert_eq!(res.assert_problem(400)["type"], "/problems/validation");
        // Named once, and `limit` as well where the operation takes no such thing.
        let fields = res.error_fields();
        assert!(
            fields.iter().any(|f| f == "zz_unknown"),
            "{method} {url}: {}",
            res.text
        );
        assert!(fields.len() <= 2, "{method} {url}: {}", res.text);
        assert!(res.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"] == "unknown_parameter"));
    }
    // Without a token too, and on what is served beside the API.
    for path in [
        "/healthz?x",
        "/readyz?verbose=1",
        "/problems?lang=fr",
        "/v1/openapi.json?download=1",
    ] {
        let res = app.call(Method::GET, path, None, None, &[]).await;
        assert_eq!(
            res.assert_problem(400)["errors"][0]["code"],
            "unknown_parameter",
            "{path}"
        );
    }
    // The declared ones pass.
    app.get("/v1/families?limit=1&q=some", &t)
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn malformed_percent_encoding_in_a_query_is_a_400() {
    let app = TestApp::new().await;
    let t = app.admin();
    let family = app.family("Encoded").await;
    for (path, field) in [
        ("/v1/families?q=%ZZ".to_string(), "q"),
        ("/v1/families?q=%FF".to_string(), "q"),
        ("/v1/families?q=caf%C3".to_string(), "q"),
        ("/v1/families?q=100%".to_string(), "q"),
        ("/v1/families?limit=1&%FF=1".to_string(), "query"),
        (format!("/v1/families/{family}?x=%ZZ"), "x"),
        ("/healthz?%E9t%E9".to_string(), "query"),
    ] {
        let res = assert_nothing_written!(app, app.get(&path, &t).await);
        assert_eq!(
            res.assert_problem(400)["type"],
            "/problems/validation",
            "{path}"
        );
        assert_eq!(res.error_fields(), [field], "{path}: {}", res.text);
        assert_eq!(res.body["errors"][0]["code"], "invalid_encoding", "{path}");
    }
    // Well-formed UTF-8 passes through.
    app.get("/v1/families?q=caf%C3%A9+au+lait", &t)
        .await
        .assert_status(200);
    // A write with a malformed query writes nothing.
    let res = assert_nothing_written!(
        app,
        app.call(
            Method::PATCH,
            &format!("/v1/families/{family}?%ZZ"),
            Some(&t),
            Some(&json!({ "notes": "x" })),
            &[]
        )
        .await
    );
    res.assert_problem(400);
}

#[actix_web::test]
async fn oversized_uris_and_headers_get_problem_documents() {
    let app = TestApp::new().await;
    let t = app.admin();
    let long = format!("/v1/families?q={}", "a".repeat(8 * 1024));
    let res = assert_nothing_written!(app, app.get(&long, &t).await);
    assert_eq!(res.assert_problem(414)["type"], "/problems/uri-too-long");
    // Just under the limit, the request is read (and q judged on its own terms).
    let under = format!("/v1/families?q={}", "a".repeat(8 * 1024 - 20));
    assert_ne!(app.get(&under, &t).await.status, 414);

    let big = "b".repeat(16 * 1024);
    let res = assert_nothing_written!(
        app,
        app.call(
            Method::POST,
            "/v1/families",
            Some(&t),
            Some(&json!({ "display_name": "Headers" })),
            &[("x-padding", &big)]
        )
        .await
    );
    assert_eq!(
        res.assert_problem(431)["type"],
        "/problems/headers-too-large"
    );
    let fits = "b".repeat(12 * 1024);
    app.call(Method::GET, "/healthz", None, None, &[("x-padding", &fits)])
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn compressed_request_bodies_are_a_415() {
    let app = TestApp::new().await;
    let t = app.admin();
    for coding in ["gzip", "br", "deflate, identity"] {
        let res = assert_nothing_written!(
            app,
            app.call(
                Method::POST,
                "/v1/families",
                Some(&t),
                Some(&json!({ "display_name": "Zipped" })),
                &[("content-encoding", coding)]
            )
            .await
        );
        assert_eq!(
            res.assert_problem(415)["type"],
            "/problems/unsupported-media-type"
        );
        assert_eq!(res.header("accept-encoding").as_deref(), Some("identity"));
    }
    app.call(
        Method::POST,
        "/v1/families",
        Some(&t),
        Some(&json!({ "display_name": "Plain" })),
        &[("content-encoding", "identity")],
    )
    .await
    .assert_status(201);
}
