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

/// Asserts a 401 of the problem type `/problems/<kind>` whose detail names `named` and gives
/// away nothing of the key or of the JWT library.
#[track_caller]
fn assert_refused(res: &Res, kind: &str, named: &str, case: &str) {
    assert_eq!(res.status, 401, "{case}: {}", res.text);
    let problem = res.assert_problem(401);
    assert_eq!(problem["type"], format!("/problems/{kind}"), "{case}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(named),
        "{case}: `{detail}` does not name {named}"
    );
    for secret in [
        SECRET,
        "Error",
        "Json",
        "invalid type",
        "line ",
        "column",
        "base64",
        "Base64",
    ] {
        assert!(
            !detail.contains(secret),
            "{case}: `{detail}` reveals {secret}"
        );
    }
    assert_eq!(
        res.header("www-authenticate").as_deref(),
        Some("Bearer error=\"invalid_token\""),
        "{case}"
    );
}

#[actix_web::test]
async fn every_kind_of_bad_token_is_a_401_of_its_kind_and_writes_nothing() {
    let app = TestApp::new().await;
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims())
    );
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &claims(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let good_signature = hs(&claims(), SECRET);
    let signature = good_signature.rsplit('.').next().unwrap();
    let not_json_header = format!("{}.{}.{signature}", b64(&json!("x")), b64(&claims()));
    let array_claims = hs(&json!([1, 2, 3]), SECRET);
    let guardian = |id: Value| {
        let mut c = with("role", json!("guardian"));
        if !id.is_null() {
            c["guardian_id"] = id;
        }
        c
    };
    let bearer = |t: String| Some(format!("Bearer {t}"));
    let signed = |c: Value| bearer(hs(&c, SECRET));
    // (case, Authorization, problem type, what the detail names)
    let cases: Vec<(&str, Option<String>, &str, &str)> = vec![
        ("missing", None, "unauthorized", "Bearer"),
        (
            "not bearer",
            Some(format!("Basic {}", b64(&json!("a:b")))),
            "unauthorized",
            "Bearer",
        ),
        (
            "empty bearer",
            Some("Bearer ".into()),
            "unauthorized",
            "Bearer",
        ),
        (
            "three dots",
            bearer("not.a.jwt".into()),
            "token-malformed",
            "JWT",
        ),
        ("garbage", bearer("abc".into()), "token-malformed", "JWT"),
        (
            "four parts",
            bearer(format!("{good_signature}.x")),
            "token-malformed",
            "JWT",
        ),
        (
            "header not a JSON object",
            bearer(not_json_header),
            "token-malformed",
            "JWT",
        ),
        (
            "claims not an object",
            bearer(array_claims),
            "token-malformed",
            "JWT",
        ),
        (
            "bad signature",
            bearer(hs(&claims(), "another-secret-that-is-long-enough-1234")),
            "token-bad-signature",
            "signature",
        ),
        (
            "alg none",
            bearer(unsigned),
            "token-wrong-algorithm",
            "algorithm",
        ),
        (
            "another HMAC",
            bearer(hs512),
            "token-wrong-algorithm",
            "algorithm",
        ),
        (
            "expired",
            signed(with("exp", json!(now() - 3600))),
            "token-expired",
            "exp",
        ),
        (
            "expired beyond the leeway",
            signed(with("exp", json!(now() - 45))),
            "token-expired",
            "exp",
        ),
        (
            "not yet valid",
            signed(with("nbf", json!(now() + 3600))),
            "token-not-yet-valid",
            "nbf",
        ),
        (
            "not yet valid beyond the leeway",
            signed(with("nbf", json!(now() + 45))),
            "token-not-yet-valid",
            "nbf",
        ),
        (
            "no exp",
            signed(without("exp")),
            "token-missing-claim",
            "`exp`",
        ),
        (
            "exp of wrong type",
            signed(with("exp", json!("tomorrow"))),
            "token-invalid-claim",
            "`exp`",
        ),
        (
            "nbf of wrong type",
            signed(with("nbf", json!("now"))),
            "token-invalid-claim",
            "`nbf`",
        ),
        (
            "no sub",
            signed(without("sub")),
            "token-missing-claim",
            "`sub`",
        ),
        (
            "no role",
            signed(without("role")),
            "token-missing-claim",
            "`role`",
        ),
        (
            "no school",
            signed(without("school_id")),
            "token-missing-claim",
            "`school_id`",
        ),
        (
            "empty school",
            signed(with("school_id", json!(""))),
            "token-invalid-claim",
            "`school_id`",
        ),
        (
            "unknown role",
            signed(with("role", json!("superuser"))),
            "token-invalid-claim",
            "`role`",
        ),
        (
            "role of wrong type",
            signed(with("role", json!(1))),
            "token-invalid-claim",
            "`role`",
        ),
        (
            "scope of wrong type",
            signed(with("scope", json!(["families:read"]))),
            "token-invalid-claim",
            "`scope`",
        ),
        (
            "guardian without guardian_id",
            signed(guardian(Value::Null)),
            "token-missing-claim",
            "`guardian_id`",
        ),
        (
            "guardian with a bad guardian_id",
            signed(guardian(json!("not-an-id"))),
            "token-invalid-claim",
            "`guardian_id`",
        ),
    ];
    for (name, header, kind, named) in cases {
        let res = assert_nothing_written!(app, create_with(&app, header.as_deref()).await);
        assert_refused(&res, kind, named, name);
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
async fn token_times_get_the_clock_leeway_and_nbf_is_honoured() {
    let app = TestApp::new().await;
    let accepted = |c: Value| {
        let app = &app;
        async move {
            let res = app
                .call(
                    Method::GET,
                    "/v1/families",
                    None,
                    None,
                    &[("authorization", &format!("Bearer {}", hs(&c, SECRET)))],
                )
                .await;
            assert_eq!(res.status, 200, "{c}: {}", res.text);
        }
    };
    // Within the default 30 s of leeway, a clock a little ahead or behind is forgiven.
    accepted(with("exp", json!(now() - 10))).await;
    accepted(with("nbf", json!(now() + 10))).await;
    // A token valid from a moment ago, and one whose nbf is now, are valid.
    accepted(with("nbf", json!(now() - 60))).await;
    accepted(with("nbf", json!(now()))).await;
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
    let mut iss_of_wrong_type = good.clone();
    iss_of_wrong_type["iss"] = json!(7);
    for (name, c, kind, named) in [
        ("wrong iss", wrong_iss, "token-wrong-issuer", "iss"),
        ("wrong aud", wrong_aud, "token-wrong-audience", "aud"),
        ("no iss", no_iss, "token-missing-claim", "`iss`"),
        ("no aud", no_aud, "token-missing-claim", "`aud`"),
        (
            "iss of wrong type",
            iss_of_wrong_type,
            "token-invalid-claim",
            "`iss`",
        ),
    ] {
        let res = assert_nothing_written!(
            app,
            create_with(&app, Some(&format!("Bearer {}", hs(&c, SECRET)))).await
        );
        assert_refused(&res, kind, named, name);
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
            assert_refused(
                &res,
                "token-wrong-algorithm",
                "algorithm",
                &format!("{alg:?}"),
            );
        }
        // The right algorithm and key, with the signature of other claims.
        let elsewhere =
            encode(&Header::new(alg), &with("sub", json!("someone-else")), &key).unwrap();
        let forged = format!(
            "{}.{}",
            good.rsplit_once('.').unwrap().0,
            elsewhere.rsplit('.').next().unwrap()
        );
        let res = assert_nothing_written!(
            app,
            create_with(&app, Some(&format!("Bearer {forged}"))).await
        );
        assert_refused(
            &res,
            "token-bad-signature",
            "signature",
            &format!("{alg:?}"),
        );
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
