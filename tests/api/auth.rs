//! Every kind of bad token is a 401; a missing scope a 403 naming it; tenancy holds.

use actix_web::http::Method;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn hs(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims() -> Value {
    json!({ "sub": "admin-1", "role": "admin", "school_id": SCHOOL, "exp": now() + 600 })
}

fn without(key: &str) -> Value {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(key);
    c
}

fn with(key: &str, value: Value) -> Value {
    let mut c = claims();
    c[key] = value;
    c
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Sends a create with an arbitrary Authorization header value (or none).
async fn create_with(app: &TestApp, authorization: Option<&str>) -> Res {
    let mut headers = vec![];
    if let Some(a) = authorization {
        headers.push(("authorization", a));
    }
    app.call(
        Method::POST,
        "/v1/families",
        None,
        Some(&json!({"display_name": "X"})),
        &headers,
    )
    .await
}

#[actix_web::test]
async fn every_kind_of_bad_token_is_a_401_and_writes_nothing() {
    let app = TestApp::new().await;
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims())
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("not bearer", Some(format!("Basic {}", b64(&json!("a:b"))))),
        ("empty bearer", Some("Bearer ".into())),
        ("malformed", Some("Bearer not.a.jwt".into())),
        ("garbage", Some("Bearer abc".into())),
        (
            "bad signature",
            Some(format!(
                "Bearer {}",
                hs(&claims(), "another-secret-that-is-long-enough-1234")
            )),
        ),
        ("alg none", Some(format!("Bearer {unsigned}"))),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                hs(&with("exp", json!(now() - 3600)), SECRET)
            )),
        ),
        (
            "no exp",
            Some(format!("Bearer {}", hs(&without("exp"), SECRET))),
        ),
        (
            "no sub",
            Some(format!("Bearer {}", hs(&without("sub"), SECRET))),
        ),
        (
            "no role",
            Some(format!("Bearer {}", hs(&without("role"), SECRET))),
        ),
        (
            "no school",
            Some(format!("Bearer {}", hs(&without("school_id"), SECRET))),
        ),
        (
            "empty school",
            Some(format!(
                "Bearer {}",
                hs(&with("school_id", json!("")), SECRET)
            )),
        ),
        (
            "unknown role",
            Some(format!(
                "Bearer {}",
                hs(&with("role", json!("superuser")), SECRET)
            )),
        ),
        (
            "role of wrong type",
            Some(format!("Bearer {}", hs(&with("role", json!(1)), SECRET))),
        ),
        (
            "guardian without guardian_id",
            Some(format!(
                "Bearer {}",
                hs(&with("role", json!("guardian")), SECRET)
            )),
        ),
        ("guardian with a bad guardian_id", {
            let mut c = with("role", json!("guardian"));
            c["guardian_id"] = json!("not-an-id");
            Some(format!("Bearer {}", hs(&c, SECRET)))
        }),
    ];
    for (name, header) in cases {
        let res = assert_nothing_written!(app, create_with(&app, header.as_deref()).await);
        assert_eq!(res.status, 401, "{name}: {}", res.text);
        res.assert_problem(401);
        assert_eq!(
            res.header("www-authenticate").as_deref(),
            Some("Bearer error=\"invalid_token\""),
            "{name}"
        );
        let get = app
            .call(
                Method::GET,
                "/v1/families",
                None,
                None,
                &header
                    .as_deref()
                    .map(|h| vec![("authorization", h)])
                    .unwrap_or_default(),
            )
            .await;
        assert_eq!(get.status, 401, "{name} on GET");
    }
    // A valid token of the same shape passes, so the cases above fail for their own reason.
    assert_eq!(
        create_with(&app, Some(&format!("Bearer {}", hs(&claims(), SECRET))))
            .await
            .status,
        201
    );
}

#[actix_web::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = TestApp::with_keys(KeyMode::SecretWithIssuer {
        issuer: "https://idp.school",
        audience: "liaison",
    })
    .await;
    let good = json!({"sub": "a", "role": "admin", "school_id": SCHOOL, "exp": now() + 600, "iss": "https://idp.school", "aud": "liaison"});
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil");
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("other");
    let mut no_iss = good.clone();
    no_iss.as_object_mut().unwrap().remove("iss");
    let mut no_aud = good.clone();
    no_aud.as_object_mut().unwrap().remove("aud");
    for (name, c) in [
        ("wrong iss", wrong_iss),
        ("wrong aud", wrong_aud),
        ("no iss", no_iss),
        ("no aud", no_aud),
    ] {
        let res = assert_nothing_written!(
            app,
            create_with(&app, Some(&format!("Bearer {}", hs(&c, SECRET)))).await
        );
        assert_eq!(res.status, 401, "{name}");
        res.assert_problem(401);
    }
    assert_eq!(
        create_with(&app, Some(&format!("Bearer {}", hs(&good, SECRET))))
            .await
            .status,
        201
    );
    // Tokens minted by `liaison token` with the same configuration carry the iss and aud.
    let keys = liaison::auth::Keys::new(
        Algorithm::HS256,
        jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        Some(EncodingKey::from_secret(SECRET.as_bytes())),
        Some("https://idp.school".into()),
        Some("liaison".into()),
    );
    let minted = keys
        .mint(&liaison::auth::TokenRequest {
            sub: "cli".into(),
            role: Role::Admin,
            school_id: SCHOOL.into(),
            guardian_id: None,
            scope: None,
            ttl_seconds: 60,
        })
        .unwrap();
    assert_eq!(
        create_with(&app, Some(&format!("Bearer {minted}")))
            .await
            .status,
        201
    );
    // Those of an unconfigured minter lack them.
    assert_nothing_written!(
        app,
        create_with(&app, Some(&format!("Bearer {}", app.admin()))).await
    )
    .assert_problem(401);
}

#[actix_web::test]
async fn rs256_and_es256_tokens_verify_and_algorithm_confusion_is_refused() {
    for (mode, alg, private, public) in [
        (
            KeyMode::Rs256,
            Algorithm::RS256,
            "rsa-private.pem",
            "rsa-public.pem",
        ),
        (
            KeyMode::Es256,
            Algorithm::ES256,
            "ec-private.pem",
            "ec-public.pem",
        ),
    ] {
        let app = TestApp::with_keys(mode).await;
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&fixture(private)).unwrap(),
            _ => EncodingKey::from_ec_pem(&fixture(private)).unwrap(),
        };
        let good = encode(&Header::new(alg), &claims(), &key).unwrap();
        assert_eq!(
            create_with(&app, Some(&format!("Bearer {good}")))
                .await
                .status,
            201,
            "{alg:?}"
        );
        // HS256 signed with the public key as the secret: the classic confusion attack.
        let confused = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(&fixture(public)),
        )
        .unwrap();
        let shared = hs(&claims(), SECRET);
        for bad in [confused, shared] {
            let res = assert_nothing_written!(
                app,
                create_with(&app, Some(&format!("Bearer {bad}"))).await
            );
            res.assert_problem(401);
        }
    }
}

/// What each role may do with families: (role, may read, may write).
const MATRIX: [(Role, bool, bool); 6] = [
    (Role::Admin, true, true),
    (Role::Pre, true, true),
    (Role::Teacher, true, false),
    (Role::Counselor, true, false),
    (Role::Admissions, true, false),
    (Role::Integration, true, true),
];

#[actix_web::test]
async fn the_role_and_scope_matrix_holds_for_every_family_operation() {
    let app = TestApp::new().await;
    let family = app.family("Matrix").await;
    let student = app.student_in(&family, "Kid").await;
    let guardian = app.guardian_in(&family, "Parent").await;
    for (role, read, write) in MATRIX {
        let t = app.token(role);
        for path in [
            "/v1/families".to_string(),
            format!("/v1/families/{family}"),
            format!("/v1/families/{family}/guardians"),
            format!("/v1/families/{family}/students"),
            "/v1/guardians".into(),
            "/v1/students".into(),
            format!("/v1/guardians/{guardian}"),
            format!("/v1/students/{student}"),
            format!("/v1/students/{student}/guardians"),
        ] {
            let res = app.get(&path, &t).await;
            assert_eq!(
                res.status,
                if read { 200 } else { 403 },
                "{role} GET {path}"
            );
        }
        let writes: Vec<(Method, String, Value)> = vec![
            (
                Method::POST,
                "/v1/families".into(),
                json!({"display_name": "N"}),
            ),
            (
                Method::PATCH,
                format!("/v1/families/{family}"),
                json!({"notes": format!("by {role}")}),
            ),
            (
                Method::POST,
                format!("/v1/families/{family}/guardians"),
                json!({"given_name": "G", "family_name": "H"}),
            ),
            (
                Method::PATCH,
                format!("/v1/guardians/{guardian}"),
                json!({"given_name": format!("P{role}")}),
            ),
            (
                Method::POST,
                format!("/v1/families/{family}/students"),
                json!({"given_name": "S", "family_name": "T"}),
            ),
            (
                Method::PATCH,
                format!("/v1/students/{student}"),
                json!({"given_name": format!("K{role}")}),
            ),
        ];
        for (method, path, body) in writes {
            let res = if write {
                app.call(method.clone(), &path, Some(&t), Some(&body), &[])
                    .await
            } else {
                assert_nothing_written!(
                    app,
                    app.call(method.clone(), &path, Some(&t), Some(&body), &[])
                        .await
                )
            };
            if write {
                assert!(
                    res.status == 200 || res.status == 201,
                    "{role} {method} {path}: {}",
                    res.text
                );
            } else {
                let p = res.assert_problem(403);
                assert!(
                    p["detail"].as_str().unwrap().contains("families:write"),
                    "{}",
                    res.text
                );
            }
        }
    }
}

#[actix_web::test]
async fn a_scope_claim_narrows_a_role_and_never_widens_it() {
    let app = TestApp::new().await;
    let family = app.family("Scoped").await;
    let read_only = app.mint(Role::Admin, SCHOOL, "narrow", None, Some("families:read"));
    assert_eq!(
        app.get(&format!("/v1/families/{family}"), &read_only)
            .await
            .status,
        200
    );
    let res = assert_nothing_written!(
        app,
        app.post("/v1/families", &read_only, json!({"display_name": "N"}))
            .await
    );
    assert!(res.assert_problem(403)["detail"]
        .as_str()
        .unwrap()
        .contains("families:write"));
    let nothing = app.mint(Role::Admin, SCHOOL, "none", None, Some("audit:read"));
    app.get("/v1/families", &nothing).await.assert_problem(403);
    // A teacher cannot widen itself to families:write.
    let widened = app.mint(
        Role::Teacher,
        SCHOOL,
        "t",
        None,
        Some("families:read families:write"),
    );
    assert_eq!(app.get("/v1/families", &widened).await.status, 200);
    assert_nothing_written!(
        app,
        app.post("/v1/families", &widened, json!({"display_name": "N"}))
            .await
    )
    .assert_problem(403);
}

#[actix_web::test]
async fn another_schools_records_do_not_exist_for_a_caller() {
    let app = TestApp::new().await;
    let family = app.family("Ours").await;
    let theirs = app.other_admin();
    app.get(&format!("/v1/families/{family}"), &theirs)
        .await
        .assert_problem(404);
    let list = app.get("/v1/families", &theirs).await;
    assert_eq!(list.body["data"], json!([]));
    assert_nothing_written!(
        app,
        app.patch(
            &format!("/v1/families/{family}"),
            &theirs,
            json!({"display_name": "Mine"})
        )
        .await
    )
    .assert_problem(404);
    assert_nothing_written!(
        app,
        app.delete(&format!("/v1/families/{family}"), &theirs).await
    )
    .assert_problem(404);
    assert_nothing_written!(
        app,
        app.post(
            &format!("/v1/families/{family}/students"),
            &theirs,
            json!({"given_name": "A", "family_name": "B"})
        )
        .await
    )
    .assert_problem(404);
    assert_eq!(
        app.get(&format!("/v1/families/{family}"), &app.admin())
            .await
            .body["display_name"],
        "Ours"
    );
}
