//! Service accounts: `/v1/clients`, `liaison client`, and the token endpoint `/oauth/token`
//! (OAuth 2 client credentials).

use actix_web::http::Method;
use actix_web::test::TestRequest;
use base64::Engine;
use liaison::auth::Role;
use liaison::config::{Rate, RateLimitConfig};
use serde_json::{json, Value};

use crate::support::*;

/// Creates a service account as the admin; returns (id, secret).
async fn client(app: &TestApp, role: &str, scopes: Option<&[&str]>) -> (String, String) {
    let mut body = json!({ "name": "District SIS", "role": role });
    if let Some(s) = scopes {
        body["scopes"] = json!(s);
    }
    let res = app.post("/v1/clients", &app.admin(), body).await;
    res.assert_status(201);
    (
        res.id(),
        res.body["client_secret"].as_str().unwrap().to_string(),
    )
}

/// `POST /oauth/token` with a form body and, optionally, an `Authorization` header.
async fn token_request(app: &TestApp, form: &[(&str, &str)], authorization: Option<String>) -> Res {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        body.append_pair(k, v);
    }
    let mut req = TestRequest::post()
        .uri("/oauth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.finish());
    if let Some(a) = authorization {
        req = req.insert_header(("authorization", a));
    }
    app.send(req.to_request()).await
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A token for the client, with its credentials in the body.
async fn token(app: &TestApp, id: &str, secret: &str, scope: Option<&str>) -> Res {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    token_request(app, &form, None).await
}

/// Asserts an RFC 6749 §5.2 refusal.
#[track_caller]
fn oauth_error(res: &Res, status: u16, error: &str) {
    res.assert_status(status);
    assert_eq!(res.body["error"], json!(error), "{}", res.text);
    assert!(res.body["error_description"].is_string(), "{}", res.text);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
}

/// Asserts that no row, audit event or answer anywhere holds `secret`.
#[track_caller]
fn nowhere(app: &TestApp, secret: &str) {
    let snapshot = format!("{:?}", app.snapshot());
    assert!(!snapshot.contains(secret), "the secret is stored");
    assert!(!snapshot.contains(&secret[4..]), "the secret is stored");
}

#[actix_web::test]
async fn a_client_gets_a_token_that_works_with_exactly_its_scopes() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let res = app
        .post(
            "/v1/clients",
            &admin,
            json!({ "name": "District SIS", "role": "integration",
                    "scopes": ["families:read", "families:write", "changes:read"] }),
        )
        .await;
    res.assert_status(201);
    let id = res.id();
    let secret = res.body["client_secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("lcs_") && secret.len() > 40, "{secret}");
    assert_eq!(res.header("location"), Some(format!("/v1/clients/{id}")));
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(res.body["role"], "integration");
    assert_eq!(
        res.body["scopes"],
        json!(["families:read", "families:write", "changes:read"])
    );
    assert_eq!(res.body["created_by"], "admin-1");
    assert_eq!(res.body["revoked_at"], Value::Null);
    nowhere(&app, &secret);

    // The secret is in no other answer.
    let one = app.get(&format!("/v1/clients/{id}"), &admin).await;
    one.assert_status(200);
    assert!(one.body.get("client_secret").is_none());
    assert!(!one.text.contains(&secret));
    let list = app.get("/v1/clients", &admin).await;
    list.assert_status(200);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert!(!list.text.contains(&secret));

    // Credentials in the body.
    let t = token(&app, &id, &secret, None).await;
    t.assert_status(200);
    assert_eq!(t.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(t.body["token_type"], "Bearer");
    assert_eq!(t.body["expires_in"], 900);
    assert_eq!(t.body["scope"], "families:read families:write changes:read");
    let bearer = t.body["access_token"].as_str().unwrap().to_string();

    // The token speaks for the client, in its school, with its role and scopes.
    let me = app.get("/v1/me", &bearer).await;
    me.assert_status(200);
    assert_eq!(me.body["sub"], json!(id));
    assert_eq!(me.body["role"], "integration");
    assert_eq!(me.body["school_id"], SCHOOL);
    app.get("/v1/families", &bearer).await.assert_status(200);
    let family = app
        .post("/v1/families", &bearer, json!({ "display_name": "Okafor" }))
        .await;
    family.assert_status(201);
    app.get("/v1/changes", &bearer).await.assert_status(200);
    // Its role has communications:read, but the client was not given it: 403.
    refused(&app, Method::GET, "/v1/communications", &bearer, None, 403).await;
    // The family it created is audited as the client's.
    let audit = app.recorded().audit;
    let created = audit.iter().find(|a| a.resource_id == family.id()).unwrap();
    assert_eq!(
        (created.actor.as_str(), created.actor_role.as_str()),
        (id.as_str(), "integration")
    );
    // The client's creation is audited as the admin's, in the change feed as `clients`.
    let made = audit.iter().find(|a| a.resource_id == id).unwrap();
    assert_eq!(
        (
            made.actor.as_str(),
            made.action.as_str(),
            made.resource_type.as_str()
        ),
        ("admin-1", "create", "clients")
    );
    let feed = app.get("/v1/changes?types=clients", &admin).await;
    feed.assert_status(200);
    assert_eq!(feed.body["data"][0]["id"], json!(id));
    // The SIS's own feed does not show service accounts.
    refused(
        &app,
        Method::GET,
        "/v1/changes?types=clients",
        &bearer,
        None,
        403,
    )
    .await;

    // HTTP Basic works as well, and a narrower scope gives a narrower token.
    let t = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "families:read"),
        ],
        Some(basic(&id, &secret)),
    )
    .await;
    t.assert_status(200);
    assert_eq!(t.body["scope"], "families:read");
    let narrow = t.body["access_token"].as_str().unwrap().to_string();
    app.get("/v1/families", &narrow).await.assert_status(200);
    refused(
        &app,
        Method::POST,
        "/v1/families",
        &narrow,
        Some(json!({ "display_name": "Nope" })),
        403,
    )
    .await;
    nowhere(&app, &secret);
}

#[actix_web::test]
async fn the_token_endpoint_refuses_as_rfc_6749_says_and_issues_nothing() {
    let app = TestApp::new().await;
    let (id, secret) = client(&app, "integration", None).await;
    let before = app.snapshot();

    // A wrong secret, an unknown client, an id that is not one: invalid_client, 401.
    let wrong = token(&app, &id, "lcs_not-the-secret", None).await;
    oauth_error(&wrong, 401, "invalid_client");
    let unknown = token(&app, &uuid::Uuid::now_v7().to_string(), &secret, None).await;
    oauth_error(&unknown, 401, "invalid_client");
    oauth_error(
        &token(&app, "sis", &secret, None).await,
        401,
        "invalid_client",
    );
    // The same answer for each: nothing tells an unknown id from a wrong secret.
    assert_eq!(wrong.text, unknown.text);
    // With Basic, the 401 asks for Basic again.
    let res = token_request(
        &app,
        &[("grant_type", "client_credentials")],
        Some(basic(&id, "lcs_wrong")),
    )
    .await;
    oauth_error(&res, 401, "invalid_client");
    assert!(res.header("www-authenticate").unwrap().starts_with("Basic"));
    // No credentials at all.
    oauth_error(
        &token_request(&app, &[("grant_type", "client_credentials")], None).await,
        401,
        "invalid_client",
    );

    // Both Basic and the body: invalid_request.
    let both = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
        Some(basic(&id, &secret)),
    )
    .await;
    oauth_error(&both, 400, "invalid_request");
    // Another grant type, or none.
    let res = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
        None,
    )
    .await;
    oauth_error(&res, 400, "unsupported_grant_type");
    let res = token_request(
        &app,
        &[("client_id", &id), ("client_secret", &secret)],
        None,
    )
    .await;
    oauth_error(&res, 400, "invalid_request");
    // A parameter twice.
    let res = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
        None,
    )
    .await;
    oauth_error(&res, 400, "invalid_request");
    // JSON instead of a form.
    let req = TestRequest::post()
        .uri("/oauth/token")
        .insert_header(("content-type", "application/json"))
        .set_payload(
            json!({ "grant_type": "client_credentials", "client_id": id, "client_secret": secret })
                .to_string(),
        )
        .to_request();
    oauth_error(&app.send(req).await, 400, "invalid_request");
    // Scopes beyond the client's, unknown, or none at all: invalid_scope.
    for scope in ["audit:read", "families:read clients:write", "nope", " "] {
        oauth_error(
            &token(&app, &id, &secret, Some(scope)).await,
            400,
            "invalid_scope",
        );
    }
    app.assert_unchanged(&before, "refused token requests");

    // Revoked: never a token again, even with the right secret.
    let res = app.delete(&format!("/v1/clients/{id}"), &app.admin()).await;
    res.assert_status(204);
    oauth_error(
        &token(&app, &id, &secret, None).await,
        401,
        "invalid_client",
    );
    let shown = app.get(&format!("/v1/clients/{id}"), &app.admin()).await;
    assert!(shown.body["revoked_at"].is_string());
    assert_eq!(shown.body["version"], 2);
    let revoked = app.recorded().audit;
    assert!(revoked
        .iter()
        .any(|a| a.resource_id == id && a.action == "archive" && a.actor == "admin-1"));
    // Revoking again changes nothing.
    let before = app.snapshot();
    app.delete(&format!("/v1/clients/{id}"), &app.admin())
        .await
        .assert_status(204);
    app.assert_unchanged(&before, "a second revocation");
    // Lists can leave revoked ones out.
    let active = app.get("/v1/clients?revoked=false", &app.admin()).await;
    assert_eq!(active.body["data"], json!([]));
    let gone = app.get("/v1/clients?revoked=true", &app.admin()).await;
    assert_eq!(gone.body["data"][0]["id"], json!(id));
}

#[actix_web::test]
async fn only_admins_make_clients_within_the_role_and_refusals_write_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let good = json!({ "name": "SIS", "role": "integration" });
    for role in [Role::Teacher, Role::Integration, Role::Pre] {
        refused(
            &app,
            Method::POST,
            "/v1/clients",
            &app.token(role),
            Some(good.clone()),
            403,
        )
        .await;
        refused(
            &app,
            Method::GET,
            "/v1/clients",
            &app.token(role),
            None,
            403,
        )
        .await;
    }
    // A scope beyond the role, and one that is not a scope: each named.
    let res = refused(
        &app,
        Method::POST,
        "/v1/clients",
        &admin,
        Some(json!({ "name": "SIS", "role": "integration",
                     "scopes": ["families:read", "audit:read", "everything"] })),
        400,
    )
    .await;
    // A name that is no scope breaks the schema's list of scopes; a real scope beyond the
    // role is refused next, by the role's set.
    assert_eq!(res.error_fields(), vec!["scopes[2]"]);
    assert_eq!(res.body["errors"][0]["code"], "invalid");
    let res = refused(
        &app,
        Method::POST,
        "/v1/clients",
        &admin,
        Some(json!({ "name": "SIS", "role": "integration",
                     "scopes": ["families:read", "audit:read", "clients:write"] })),
        400,
    )
    .await;
    assert_eq!(res.error_fields(), vec!["scopes[1]", "scopes[2]"]);
    let codes: Vec<&str> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["outside_role", "outside_role"]);
    // A guardian is not a machine; an empty list and an empty name are refused.
    for body in [
        json!({ "name": "SIS", "role": "guardian" }),
        json!({ "name": "SIS", "role": "integration", "scopes": [] }),
        json!({ "name": "", "role": "integration" }),
        json!({ "name": "SIS", "role": "integration", "secret": "mine" }),
    ] {
        refused(&app, Method::POST, "/v1/clients", &admin, Some(body), 400).await;
    }
    // An Idempotency-Key cannot be honoured without keeping the secret.
    refused_with(
        &app,
        Method::POST,
        "/v1/clients",
        &admin,
        Some(good.clone()),
        &[("idempotency-key", "k-1")],
        400,
    )
    .await;
    // Another school's admin knows nothing of this school's clients.
    let (id, _) = client(&app, "integration", None).await;
    let path = format!("/v1/clients/{id}");
    refused(&app, Method::GET, &path, &app.other_admin(), None, 404).await;
    refused(&app, Method::DELETE, &path, &app.other_admin(), None, 404).await;
    refused_with(
        &app,
        Method::DELETE,
        &path,
        &admin,
        None,
        &[("if-match", "\"7\"")],
        412,
    )
    .await;
    let other = app.get("/v1/clients", &app.other_admin()).await;
    assert_eq!(other.body["data"], json!([]));
}

#[actix_web::test]
async fn a_service_that_only_verifies_tokens_says_it_cannot_issue_any() {
    let app = TestApp::with_keys(KeyMode::Rs256).await;
    let res = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "x"),
            ("client_secret", "y"),
        ],
        None,
    )
    .await;
    oauth_error(&res, 400, "unsupported_grant_type");
    assert!(res.body["error_description"]
        .as_str()
        .unwrap()
        .contains("identity provider"));
}

#[actix_web::test]
async fn repeated_failures_are_refused_with_429_until_the_quota_refills() {
    let app = TestApp::with_limits(RateLimitConfig {
        token_failures: Some(Rate {
            count: 2,
            per: std::time::Duration::from_secs(2),
        }),
        ..RateLimitConfig::default()
    })
    .await;
    let (id, secret) = client(&app, "integration", None).await;
    for _ in 0..3 {
        oauth_error(
            &token(&app, &id, "lcs_guess", None).await,
            401,
            "invalid_client",
        );
    }
    // Blocked: even the right secret gets no answer but 429 now.
    let res = token(&app, &id, &secret, None).await;
    res.assert_problem(429);
    assert!(res.body["type"]
        .as_str()
        .unwrap()
        .ends_with("/problems/rate-limited"));
    let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    std::thread::sleep(std::time::Duration::from_millis(wait * 1000 + 100));
    token(&app, &id, &secret, None).await.assert_status(200);
}

#[actix_web::test]
async fn the_cli_creates_lists_and_revokes_through_the_write_path() {
    let app = TestApp::new().await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
            .args(args)
            .env("DATABASE_URL", &app.url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run liaison");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, out, err) = run(&[
        "client",
        "create",
        "--name",
        "Nightly sync",
        "--school",
        SCHOOL,
        "--role",
        "integration",
        "--scopes",
        "families:read changes:read",
    ]);
    assert!(ok, "{out}{err}");
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {out}"))
    };
    let (id, secret) = (field("client_id:"), field("client_secret:"));
    nowhere(&app, &secret);
    let t = token(&app, &id, &secret, None).await;
    t.assert_status(200);
    assert_eq!(t.body["scope"], "families:read changes:read");
    // The CLI is the actor of what it writes.
    let made = app.recorded().audit;
    let made = made.iter().find(|a| a.resource_id == id).unwrap();
    assert_eq!(made.actor, "system:liaison-cli");
    assert_eq!(made.purpose.as_deref(), Some("liaison client create"));

    // Refusals: a scope beyond the role, a guardian, an unknown option; nothing written.
    let before = app.snapshot();
    for args in [
        &[
            "client",
            "create",
            "--name",
            "x",
            "--school",
            SCHOOL,
            "--role",
            "integration",
            "--scopes",
            "audit:read",
        ][..],
        &[
            "client", "create", "--name", "x", "--school", SCHOOL, "--role", "guardian",
        ][..],
        &["client", "create", "--name", "x", "--role", "integration"][..],
        &[
            "client",
            "create",
            "--name",
            "x",
            "--school",
            SCHOOL,
            "--role",
            "integration",
            "--secret",
            "s",
        ][..],
        &["client", "revoke", "not-an-id"][..],
    ] {
        let (ok, _, err) = run(args);
        assert!(!ok, "{args:?} succeeded");
        assert!(!err.is_empty());
    }
    app.assert_unchanged(&before, "refused CLI commands");

    let (ok, out, err) = run(&["client", "list", "--school", SCHOOL]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&id) && out.contains("active") && !out.contains(&secret),
        "{out}"
    );
    let (ok, out, _) = run(&["client", "list", "--school", OTHER_SCHOOL]);
    assert!(ok && !out.contains(&id));

    let (ok, out, err) = run(&["client", "revoke", &id]);
    assert!(ok, "{out}{err}");
    oauth_error(
        &token(&app, &id, &secret, None).await,
        401,
        "invalid_client",
    );
    let (_, out, _) = run(&["client", "list"]);
    assert!(out.contains("revoked"), "{out}");
    assert!(app
        .recorded()
        .audit
        .iter()
        .any(|a| a.resource_id == id && a.action == "archive" && a.actor == "system:liaison-cli"));
}
