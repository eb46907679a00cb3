//! What a guardian's token reaches: their own family, the children a current link with
//! `can_view_records` lets them see, their own links; never a write.

use actix_web::http::Method;
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

/// A guardian (`me`) with a co-parent and a linked child in their family, and another family
/// with its own guardian and child.
struct Home {
    fam: String,
    me: String,
    co: String,
    kid: String,
    other: String,
    other_g: String,
    other_kid: String,
}

async fn home(app: &TestApp) -> Home {
    let fam = app
        .post(
            "/v1/families",
            &app.admin(),
            json!({"display_name": "The Does", "notes": "custody dispute; staff only"}),
        )
        .await
        .id();
    let me = app.guardian_in(&fam, "Ana").await;
    let co = app.guardian_in(&fam, "Luis").await;
    let kid = app.student_in(&fam, "Sam").await;
    app.link(&kid, &me, json!({"relationship": "mother"}))
        .await
        .assert_status(201);
    app.link(&kid, &co, json!({"relationship": "father"}))
        .await
        .assert_status(201);
    let other = app.family("The Roes").await;
    let other_g = app.guardian_in(&other, "Rick").await;
    let other_kid = app.student_in(&other, "Rae").await;
    app.link(&other_kid, &other_g, json!({}))
        .await
        .assert_status(201);
    Home {
        fam,
        me,
        co,
        kid,
        other,
        other_g,
        other_kid,
    }
}

/// The students a guardian sees: by GET on each candidate, and in both lists.
async fn visible_students(
    app: &TestApp,
    token: &str,
    fam: &str,
    candidates: &[&String],
) -> Vec<String> {
    let mut by_get = Vec::new();
    for id in candidates {
        let path = format!("/v1/students/{id}");
        let before = app.snapshot();
        let res = app.get(&path, token).await;
        app.assert_unchanged(&before, &format!("GET {path}"));
        match res.status {
            200 => by_get.push((*id).clone()),
            _ => {
                res.assert_problem(404);
            }
        }
    }
    by_get.sort();
    // Every candidate is of `fam`, so each list must hold exactly what GET shows.
    for path in [
        "/v1/students".to_string(),
        format!("/v1/families/{fam}/students"),
        format!("/v1/students?family_id={fam}"),
    ] {
        assert_eq!(
            list(app, &path, token, "id").await,
            by_get,
            "{path} disagrees with GET of each"
        );
    }
    by_get
}

#[actix_web::test]
async fn a_guardian_sees_their_own_family_without_staff_notes() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let me = app.guardian(&h.me);

    let res = app.get(&format!("/v1/families/{}", h.fam), &me).await;
    res.assert_status(200);
    assert_eq!(res.body["display_name"], json!("The Does"));
    assert_eq!(res.body["notes"], Value::Null);
    let res = app.get("/v1/families", &me).await;
    res.assert_status(200);
    assert_eq!(res.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(res.body["data"][0]["id"], json!(h.fam));
    assert_eq!(res.body["data"][0]["notes"], Value::Null);
    // Staff do see the notes.
    let staff = app
        .get(&format!("/v1/families/{}", h.fam), &app.admin())
        .await;
    assert_eq!(staff.body["notes"], json!("custody dispute; staff only"));
    let staff = app.get("/v1/families?q=does", &app.token(Role::Pre)).await;
    assert_eq!(
        staff.body["data"][0]["notes"],
        json!("custody dispute; staff only")
    );

    // Their family's adults.
    assert_eq!(
        list(&app, "/v1/guardians", &me, "id").await,
        sorted(vec![&h.me, &h.co])
    );
    assert_eq!(
        list(
            &app,
            &format!("/v1/families/{}/guardians", h.fam),
            &me,
            "id"
        )
        .await,
        sorted(vec![&h.me, &h.co])
    );
    app.get(&format!("/v1/guardians/{}", h.co), &me)
        .await
        .assert_status(200);
    assert!(list(&app, "/v1/families?q=roes", &me, "id")
        .await
        .is_empty());
}

#[actix_web::test]
async fn a_guardian_cannot_see_another_family() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let me = app.guardian(&h.me);
    for path in [
        format!("/v1/families/{}", h.other),
        format!("/v1/families/{}/guardians", h.other),
        format!("/v1/families/{}/students", h.other),
        format!("/v1/guardians/{}", h.other_g),
        format!("/v1/students/{}", h.other_kid),
        format!("/v1/students/{}/guardians", h.other_kid),
        format!("/v1/students/{}/guardians/{}", h.other_kid, h.other_g),
    ] {
        refused(&app, Method::GET, &path, &me, None, 404).await;
    }
    // Filtering a list by another family's id is a filter like any other: nothing matches.
    for path in [
        format!("/v1/guardians?family_id={}", h.other),
        format!("/v1/students?family_id={}", h.other),
    ] {
        let res = assert_nothing_written!(app, app.get(&path, &me).await);
        res.assert_status(200);
        assert_eq!(res.body["data"], json!([]), "{path}");
    }
    assert!(!list(&app, "/v1/guardians", &me, "id")
        .await
        .contains(&h.other_g));
    assert!(!list(&app, "/v1/students", &me, "id")
        .await
        .contains(&h.other_kid));
}

#[actix_web::test]
async fn a_guardian_sees_only_children_a_current_viewable_link_shows() {
    let app = TestApp::new().await;
    app.set_now(at("2030-06-15 12:00:00"));
    let h = home(&app).await;
    let kid = |name: &'static str, link: Option<Value>| {
        let (app, fam, me) = (&app, h.fam.clone(), h.me.clone());
        async move {
            let s = app.student_in(&fam, name).await;
            if let Some(extra) = link {
                app.link(&s, &me, extra).await.assert_status(201);
            }
            s
        }
    };
    let unlinked = kid("Unlinked", None).await;
    let hidden = kid("Hidden", Some(json!({"can_view_records": false}))).await;
    let ended = kid(
        "Ended",
        Some(json!({"starts_on": "2029-09-01", "ends_on": "2030-06-14"})),
    )
    .await;
    let future = kid("Future", Some(json!({"starts_on": "2030-06-16"}))).await;
    let last_day = kid("LastDay", Some(json!({"ends_on": "2030-06-15"}))).await;
    let first_day = kid("FirstDay", Some(json!({"starts_on": "2030-06-15"}))).await;
    let unlinked_now = kid("Unlinked now", Some(json!({}))).await;
    app.delete(
        &format!("/v1/students/{unlinked_now}/guardians/{}", h.me),
        &app.admin(),
    )
    .await
    .assert_status(204);
    // Only the co-parent may see this one.
    let cos = kid("Co's", None).await;
    app.link(&cos, &h.co, json!({})).await.assert_status(201);

    let me = app.guardian(&h.me);
    let all = [
        &h.kid,
        &unlinked,
        &hidden,
        &ended,
        &future,
        &last_day,
        &first_day,
        &unlinked_now,
        &cos,
    ];
    assert_eq!(
        visible_students(&app, &me, &h.fam, &all).await,
        sorted(vec![&h.kid, &last_day, &first_day])
    );
    // Staff see every one of them.
    assert_eq!(
        list(
            &app,
            &format!("/v1/families/{}/students", h.fam),
            &app.admin(),
            "id"
        )
        .await
        .len(),
        all.len()
    );

    // The next day the one-day-left link has ended and the future one has begun.
    app.set_now(at("2030-06-16 00:00:00"));
    assert_eq!(
        visible_students(&app, &me, &h.fam, &all).await,
        sorted(vec![&h.kid, &future, &first_day])
    );

    // Changes to links take effect at once.
    let admin = app.admin();
    app.patch(
        &format!("/v1/students/{hidden}/guardians/{}", h.me),
        &admin,
        json!({"can_view_records": true}),
    )
    .await
    .assert_status(200);
    app.patch(
        &format!("/v1/students/{}/guardians/{}", h.kid, h.me),
        &admin,
        json!({"can_view_records": false}),
    )
    .await
    .assert_status(200);
    app.delete(
        &format!("/v1/students/{first_day}/guardians/{}", h.me),
        &admin,
    )
    .await
    .assert_status(204);
    assert_eq!(
        visible_students(&app, &me, &h.fam, &all).await,
        sorted(vec![&hidden, &future])
    );
}

#[actix_web::test]
async fn a_guardian_sees_a_child_of_another_household_they_are_linked_to() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    // Rae lives with the Roes; Ana is her mother too.
    app.link(&h.other_kid, &h.me, json!({"relationship": "mother"}))
        .await
        .assert_status(201);
    let me = app.guardian(&h.me);
    let res = app.get(&format!("/v1/students/{}", h.other_kid), &me).await;
    res.assert_status(200);
    assert_eq!(res.body["given_name"], json!("Rae"));
    assert_eq!(
        list(&app, "/v1/students", &me, "id").await,
        sorted(vec![&h.kid, &h.other_kid])
    );
    assert_eq!(
        list(
            &app,
            &format!("/v1/students/{}/guardians", h.other_kid),
            &me,
            "guardian_id"
        )
        .await,
        vec![h.me.clone()]
    );
    // The other household itself stays out of reach.
    refused(
        &app,
        Method::GET,
        &format!("/v1/families/{}", h.other),
        &me,
        None,
        404,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &format!("/v1/guardians/{}", h.other_g),
        &me,
        None,
        404,
    )
    .await;
    // The Roes' guardian does not see Ana's other child.
    let rick = app.guardian(&h.other_g);
    assert_eq!(
        list(&app, "/v1/students", &rick, "id").await,
        vec![h.other_kid.clone()]
    );
}

#[actix_web::test]
async fn a_guardian_sees_only_their_own_link() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let me = app.guardian(&h.me);
    let links = format!("/v1/students/{}/guardians", h.kid);
    assert_eq!(
        list(&app, &links, &me, "guardian_id").await,
        vec![h.me.clone()]
    );
    assert_eq!(
        list(&app, &format!("{links}?current=true"), &me, "guardian_id").await,
        vec![h.me.clone()]
    );
    let own = app.get(&format!("{links}/{}", h.me), &me).await;
    own.assert_status(200);
    assert_eq!(own.body["relationship"], json!("mother"));
    assert_eq!(own.body["current"], json!(true));
    refused(
        &app,
        Method::GET,
        &format!("{links}/{}", h.co),
        &me,
        None,
        404,
    )
    .await;
    // Staff see both.
    assert_eq!(
        list(&app, &links, &app.admin(), "guardian_id").await,
        sorted(vec![&h.me, &h.co])
    );

    // Where they may not see the child, not even their own link.
    app.patch(
        &format!("{links}/{}", h.me),
        &app.admin(),
        json!({"can_view_records": false}),
    )
    .await
    .assert_status(200);
    refused(
        &app,
        Method::GET,
        &format!("{links}/{}", h.me),
        &me,
        None,
        404,
    )
    .await;
    refused(&app, Method::GET, &links, &me, None, 404).await;
}

#[actix_web::test]
async fn guardians_cannot_write() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let me = app.guardian(&h.me);
    let (fam, kid, g) = (&h.fam, &h.kid, &h.me);
    let name = json!({"given_name": "X", "family_name": "Y"});
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/v1/families".into(),
            Some(json!({"display_name": "Mine"})),
        ),
        (
            Method::PATCH,
            format!("/v1/families/{fam}"),
            Some(json!({"display_name": "Renamed"})),
        ),
        (Method::DELETE, format!("/v1/families/{fam}"), None),
        (
            Method::POST,
            format!("/v1/families/{fam}/guardians"),
            Some(name.clone()),
        ),
        (
            Method::PATCH,
            format!("/v1/guardians/{g}"),
            Some(json!({"email": "me@example.org"})),
        ),
        (Method::DELETE, format!("/v1/guardians/{}", h.co), None),
        (
            Method::POST,
            format!("/v1/families/{fam}/students"),
            Some(name.clone()),
        ),
        (
            Method::PATCH,
            format!("/v1/students/{kid}"),
            Some(json!({"grade_level": "12"})),
        ),
        (Method::DELETE, format!("/v1/students/{kid}"), None),
        (
            Method::POST,
            format!("/v1/students/{}/guardians", h.other_kid),
            Some(json!({"guardian_id": g})),
        ),
        (
            Method::PATCH,
            format!("/v1/students/{kid}/guardians/{g}"),
            Some(json!({"contact_priority": 1})),
        ),
        (
            Method::PATCH,
            format!("/v1/students/{kid}/guardians/{}", h.co),
            Some(json!({"can_view_records": false})),
        ),
        (
            Method::DELETE,
            format!("/v1/students/{kid}/guardians/{}", h.co),
            None,
        ),
    ];
    for (method, path, body) in cases {
        let res = refused(&app, method.clone(), &path, &me, body, 403).await;
        let detail = res.body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("families:write"),
            "{method} {path}: {detail}"
        );
    }
    let family = app.get(&format!("/v1/families/{fam}"), &app.admin()).await;
    assert_eq!(family.body["display_name"], json!("The Does"));
}

#[actix_web::test]
async fn a_guardian_under_contact_restriction_is_refused_everywhere() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let barred = app
        .post(
            &format!("/v1/families/{}/guardians", h.fam),
            &app.admin(),
            json!({"given_name": "Max", "family_name": "Doe", "contact_allowed": false}),
        )
        .await
        .id();
    app.link(&h.kid, &barred, json!({}))
        .await
        .assert_status(201);
    let token = app.guardian(&barred);
    for path in [
        "/v1/families".to_string(),
        format!("/v1/families/{}", h.fam),
        format!("/v1/families/{}/guardians", h.fam),
        format!("/v1/families/{}/students", h.fam),
        "/v1/guardians".to_string(),
        format!("/v1/guardians/{barred}"),
        "/v1/students".to_string(),
        format!("/v1/students/{}", h.kid),
        format!("/v1/students/{}/guardians", h.kid),
        format!("/v1/students/{}/guardians/{barred}", h.kid),
    ] {
        let res = refused(&app, Method::GET, &path, &token, None, 403).await;
        assert!(
            !res.text.contains("Doe") && !res.text.contains("Sam"),
            "{path}: {}",
            res.text
        );
    }
    refused(
        &app,
        Method::PATCH,
        &format!("/v1/guardians/{barred}"),
        &token,
        Some(json!({"contact_allowed": true})),
        403,
    )
    .await;

    // Lifting the restriction restores access; restoring it takes it away again.
    let path = format!("/v1/guardians/{barred}");
    app.patch(&path, &app.admin(), json!({"contact_allowed": true}))
        .await
        .assert_status(200);
    app.get(&format!("/v1/students/{}", h.kid), &token)
        .await
        .assert_status(200);
    app.patch(&path, &app.admin(), json!({"contact_allowed": false}))
        .await
        .assert_status(200);
    refused(
        &app,
        Method::GET,
        &format!("/v1/students/{}", h.kid),
        &token,
        None,
        403,
    )
    .await;
}

#[actix_web::test]
async fn an_archived_guardians_token_is_refused_as_unauthenticated() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let me = app.guardian(&h.me);
    app.get(&format!("/v1/families/{}", h.fam), &me)
        .await
        .assert_status(200);
    app.delete(&format!("/v1/guardians/{}", h.me), &app.admin())
        .await
        .assert_status(204);
    for path in [
        "/v1/families".to_string(),
        format!("/v1/families/{}", h.fam),
        "/v1/guardians".to_string(),
        "/v1/students".to_string(),
        format!("/v1/students/{}", h.kid),
    ] {
        let res = refused(&app, Method::GET, &path, &me, None, 401).await;
        assert!(
            res.header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer")),
            "{path}"
        );
    }
    // The co-parent is unaffected.
    app.get(&format!("/v1/students/{}", h.kid), &app.guardian(&h.co))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn a_guardian_token_for_another_schools_guardian_is_refused() {
    let app = TestApp::new().await;
    let h = home(&app).await;
    let b = app.other_admin();
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

    // A guardian of school B presented to school A, and one of school A presented to school B.
    let wrong_school = app.mint(Role::Guardian, SCHOOL, "g", Some(&b_g), None);
    let borrowed = app.mint(Role::Guardian, OTHER_SCHOOL, "g", Some(&h.me), None);
    for token in [&wrong_school, &borrowed] {
        for path in [
            "/v1/families".to_string(),
            format!("/v1/families/{}", h.fam),
            format!("/v1/families/{b_fam}"),
            format!("/v1/students/{}", h.kid),
        ] {
            refused(&app, Method::GET, &path, token, None, 401).await;
        }
    }
    // The same guardian with the right school is fine.
    let res = app
        .get(
            "/v1/families",
            &app.mint(Role::Guardian, OTHER_SCHOOL, "g", Some(&b_g), None),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["data"][0]["id"], json!(b_fam));
}
