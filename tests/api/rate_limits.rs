//! Rate limits: per caller buckets for reads, writes and imports, their `RateLimit-*` header
//! fields, the 429 and the recovery.

use std::time::Duration;

use actix_web::http::Method;
use liaison::auth::Role;
use liaison::config::{Rate, RateLimitConfig};
use serde_json::json;

use crate::support::*;

fn per_second(count: u32) -> Option<Rate> {
    Some(Rate {
        count,
        per: Duration::from_secs(1),
    })
}

#[actix_web::test]
async fn every_v1_answer_says_how_much_of_the_quota_is_left() {
    let app = TestApp::new().await;
    let res = app.get("/v1/me", &app.admin()).await;
    res.assert_status(200);
    assert_eq!(res.header("ratelimit-limit").as_deref(), Some("1000000"));
    assert_eq!(res.header("ratelimit-remaining").as_deref(), Some("999999"));
    assert_eq!(res.header("ratelimit-reset").as_deref(), Some("1"));
    assert_eq!(
        res.header("ratelimit-policy").as_deref(),
        Some("1000000;w=3600")
    );
    let write = app
        .post(
            "/v1/families",
            &app.admin(),
            json!({ "display_name": "Ito" }),
        )
        .await;
    write.assert_status(201);
    assert_eq!(write.header("ratelimit-limit").as_deref(), Some("200000"));
    // A refusal is counted and says so too.
    let refused = app.get("/v1/audit-events", &app.token(Role::Teacher)).await;
    refused.assert_status(403);
    assert!(refused.header("ratelimit-remaining").is_some());
    // Without a usable token nothing is counted: the answer is a 401 either way.
    let anonymous = app.call(Method::GET, "/v1/me", None, None, &[]).await;
    anonymous.assert_status(401);
    assert!(anonymous.header("ratelimit-limit").is_none());
    let forged = app.get("/v1/me", "not-a-token").await;
    forged.assert_status(401);
    assert!(forged.header("ratelimit-limit").is_none());
}

#[actix_web::test]
async fn an_empty_bucket_is_a_429_until_it_refills_and_buckets_are_per_caller_and_kind() {
    let app = TestApp::with_limits(RateLimitConfig {
        reads: per_second(3),
        writes: per_second(2),
        imports: per_second(1),
        ..RateLimitConfig::default()
    })
    .await;
    let admin = app.admin();
    for left in ["2", "1", "0"] {
        let res = app.get("/v1/me", &admin).await;
        res.assert_status(200);
        assert_eq!(res.header("ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(res.header("ratelimit-remaining").as_deref(), Some(left));
    }
    let before = app.snapshot();
    let res = app.get("/v1/me", &admin).await;
    let body = res.assert_problem(429);
    assert!(body["type"]
        .as_str()
        .unwrap()
        .ends_with("/problems/rate-limited"));
    assert_eq!(res.header("retry-after").as_deref(), Some("1"));
    assert_eq!(res.header("ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(res.header("ratelimit-reset").as_deref(), Some("1"));
    // Writes have a bucket of their own; a write refused for its rate writes nothing.
    let family = json!({ "display_name": "Ito" });
    app.post("/v1/families", &admin, family.clone())
        .await
        .assert_status(201);
    app.post("/v1/families", &admin, family.clone())
        .await
        .assert_status(201);
    let before_write = app.snapshot();
    app.post("/v1/families", &admin, family.clone())
        .await
        .assert_problem(429);
    app.assert_unchanged(&before_write, "a rate-limited write");
    // Imports too (counted under /v1/imports/ whatever the answer).
    let first = app
        .call(
            Method::POST,
            "/v1/imports/families",
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(first.header("ratelimit-limit").as_deref(), Some("1"));
    app.call(
        Method::POST,
        "/v1/imports/families",
        Some(&admin),
        None,
        &[],
    )
    .await
    .assert_problem(429);
    // Another caller has buckets of its own, and so has the same `sub` in another school.
    app.get("/v1/me", &app.token(Role::Teacher))
        .await
        .assert_status(200);
    let same_sub_elsewhere = app.mint(Role::Admin, OTHER_SCHOOL, "admin-1", None, None);
    let res = app.get("/v1/me", &same_sub_elsewhere).await;
    res.assert_status(200);
    assert_eq!(res.header("ratelimit-remaining").as_deref(), Some("2"));
    drop(before);
    // A second later the bucket has refilled.
    std::thread::sleep(Duration::from_millis(1100));
    let res = app.get("/v1/me", &admin).await;
    res.assert_status(200);
    assert_eq!(res.header("ratelimit-remaining").as_deref(), Some("2"));
}

#[actix_web::test]
async fn a_bucket_turned_off_counts_nothing() {
    let app = TestApp::with_limits(RateLimitConfig {
        reads: None,
        writes: per_second(1),
        ..RateLimitConfig::default()
    })
    .await;
    for _ in 0..5 {
        let res = app.get("/v1/me", &app.admin()).await;
        res.assert_status(200);
        assert!(res.header("ratelimit-limit").is_none());
    }
}
