//! Events: who sees which event (audience by grade through a child whose records the guardian
//! may see, by language, by name), answers with capacity, waitlist promotion and deadline,
//! cancellation, attendance without an answer, feedback once, conference slots and the booking
//! race, the records every write leaves, and isolation with nothing-written checks.

use actix_web::http::Method;
use futures_util::future::join_all;
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::support::*;

const NOW: &str = "2026-12-01 10:00:00";

fn event_body(extra: Value) -> Value {
    merged(
        json!({
            "kind": "workshop",
            "title": "Supporting reading at home",
            "starts_at": "2026-12-10T17:00:00Z",
            "ends_at": "2026-12-10T18:30:00Z",
            "location": "Library",
            "languages": ["en", "es"],
            "audience": {"scope": "school"}
        }),
        extra,
    )
}

async fn event(app: &TestApp, extra: Value) -> String {
    let res = app
        .post("/v1/events", &app.admin(), event_body(extra))
        .await;
    res.assert_status(201);
    res.id()
}

async fn student_in_grade(app: &TestApp, fam: &str, given: &str, grade: &str) -> String {
    let res = app
        .post(
            &format!("/v1/families/{fam}/students"),
            &app.admin(),
            json!({"given_name": given, "family_name": "Doe", "grade_level": grade}),
        )
        .await;
    res.assert_status(201);
    res.id()
}

/// A family with a guardian linked (with records) to a child in grade 3; returns
/// (family, guardian token, child).
async fn household(app: &TestApp, name: &str, grade: &str) -> (String, String, String) {
    let fam = app.family(name).await;
    let g = app.guardian_in(&fam, "Ana").await;
    let kid = student_in_grade(app, &fam, "Sam", grade).await;
    app.link(&kid, &g, json!({})).await.assert_status(201);
    (fam, app.guardian(&g), kid)
}

async fn rsvp(app: &TestApp, event: &str, fam: &str, token: &str, body: Value) -> Res {
    app.call(
        Method::PUT,
        &format!("/v1/events/{event}/rsvps/{fam}"),
        Some(token),
        Some(&body),
        &[],
    )
    .await
}

#[actix_web::test]
async fn a_guardian_sees_the_events_of_their_familys_audience_only() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let (fam, me, _) = household(&app, "The Does", "3").await;
    // A child in grade 5 whose link does not let the guardian see records.
    let hidden = student_in_grade(&app, &fam, "Lu", "5").await;
    let g2 = app.guardian_in(&fam, "Bo").await;
    app.link(&hidden, &g2, json!({})).await.assert_status(201);
    let me_id = {
        let res = app.get("/v1/me", &me).await;
        res.body["guardian_id"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let _ = me_id;
    let other = app.family("The Roes").await;
    let spanish = app
        .post(
            "/v1/families",
            &app.admin(),
            json!({"display_name": "Los Ruiz", "primary_language": "es-MX"}),
        )
        .await
        .id();
    let gs = app.guardian_in(&spanish, "Rosa").await;
    let rosa = app.guardian(&gs);

    let school = event(&app, json!({})).await;
    let grade3 = event(&app, json!({"audience": {"grade_levels": ["3"]}})).await;
    let grade5 = event(&app, json!({"audience": {"grade_levels": ["5"]}})).await;
    let named = event(&app, json!({"audience": {"family_ids": [fam]}})).await;
    let not_us = event(&app, json!({"audience": {"family_ids": [other]}})).await;
    let es = event(&app, json!({"audience": {"languages": ["es"]}})).await;

    assert_eq!(
        sorted(ids(&app, "/v1/events", &me).await),
        sorted([&school, &grade3, &named])
    );
    assert_eq!(
        sorted(ids(&app, "/v1/events", &rosa).await),
        sorted([&school, &es])
    );
    assert_eq!(ids(&app, "/v1/events", &app.admin()).await.len(), 6);
    // Staff ask which events reach a family: all its children count.
    assert_eq!(
        sorted(
            ids(
                &app,
                &format!("/v1/events?audience_includes={fam}"),
                &app.admin()
            )
            .await
        ),
        sorted([&school, &grade3, &grade5, &named])
    );
    for hidden_event in [&grade5, &not_us, &es] {
        refused(
            &app,
            Method::GET,
            &format!("/v1/events/{hidden_event}"),
            &me,
            None,
            404,
        )
        .await;
        refused(
            &app,
            Method::PUT,
            &format!("/v1/events/{hidden_event}/rsvps/{fam}"),
            &me,
            Some(json!({"response": "yes"})),
            404,
        )
        .await;
    }
    app.get(&format!("/v1/events/{grade3}"), &me)
        .await
        .assert_status(200);
    // Another school sees none of them.
    refused(
        &app,
        Method::GET,
        &format!("/v1/events/{school}"),
        &app.other_admin(),
        None,
        404,
    )
    .await;
    assert!(ids(&app, "/v1/events", &app.other_admin()).await.is_empty());
}

#[actix_web::test]
async fn events_are_written_by_staff_and_checked() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let (_, me, _) = household(&app, "The Does", "3").await;
    refused(
        &app,
        Method::POST,
        "/v1/events",
        &me,
        Some(event_body(json!({}))),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        "/v1/events",
        &app.admin(),
        Some(event_body(
            json!({"audience": {"scope": "school", "grade_levels": ["3"]}}),
        )),
        400,
        "audience",
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        "/v1/events",
        &app.admin(),
        Some(event_body(json!({"ends_at": "2026-12-10T16:00:00Z"}))),
        400,
        "ends_at",
    )
    .await;
    refused(
        &app,
        Method::POST,
        "/v1/events",
        &app.admin(),
        Some(event_body(json!({"kind": "party"}))),
        400,
    )
    .await;
    let id = event(&app, json!({"capacity": 10})).await;
    let res = app
        .patch(
            &format!("/v1/events/{id}"),
            &app.admin(),
            json!({"title": "Reading together", "audience": {"grade_levels": ["4"]}}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["title"], "Reading together");
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.body["places_left"], 10);
    // The new audience took: grade 3 no longer sees it.
    refused(
        &app,
        Method::GET,
        &format!("/v1/events/{id}"),
        &me,
        None,
        404,
    )
    .await;
    // Filters.
    assert_eq!(
        ids(&app, "/v1/events?kind=workshop&language=es", &app.admin()).await,
        vec![id.clone()]
    );
    assert!(ids(&app, "/v1/events?kind=meeting", &app.admin())
        .await
        .is_empty());
    assert!(
        ids(&app, "/v1/events?from=2026-12-11T00:00:00Z", &app.admin())
            .await
            .is_empty()
    );
    assert_eq!(
        ids(&app, "/v1/events?has_capacity=true", &app.admin()).await,
        vec![id.clone()]
    );
    refused(
        &app,
        Method::GET,
        "/v1/events?colour=red",
        &app.admin(),
        None,
        400,
    )
    .await;
}

#[actix_web::test]
async fn answers_fill_places_then_the_waitlist_which_is_promoted_in_order() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let id = event(&app, json!({"capacity": 1, "waitlist": true})).await;
    let (a, ta, _) = household(&app, "A", "3").await;
    let (b, tb, _) = household(&app, "B", "3").await;
    let (c, tc, _) = household(&app, "C", "3").await;
    let first = rsvp(&app, &id, &a, &ta, json!({"response": "yes", "adults": 2, "children": 1, "needs_interpreter": true, "language": "es"})).await;
    first.assert_status(201);
    assert_eq!(first.body["status"], "confirmed");
    let res = rsvp(&app, &id, &b, &tb, json!({"response": "yes"})).await;
    res.assert_status(201);
    assert_eq!(res.body["status"], "waitlisted");
    app.set_now(at("2026-12-01 10:05:00"));
    rsvp(&app, &id, &c, &tc, json!({"response": "yes"}))
        .await
        .assert_status(201);
    // The same answer again writes nothing.
    let before = app.snapshot();
    rsvp(&app, &id, &a, &ta, json!({"response": "yes", "adults": 2, "children": 1, "needs_interpreter": true, "language": "es"}))
        .await
        .assert_status(200);
    app.assert_unchanged(&before, "the same answer");
    let list = app
        .get(&format!("/v1/events/{id}/rsvps"), &app.admin())
        .await;
    list.assert_status(200);
    assert_eq!(list.body["totals"]["yes"], 1);
    assert_eq!(list.body["totals"]["waitlisted"], 2);
    assert_eq!(list.body["totals"]["head_count"], 3);
    assert_eq!(list.body["totals"]["interpreters"]["es"], 1);
    // A guardian sees only their own answer, without totals.
    let mine = app.get(&format!("/v1/events/{id}/rsvps"), &tb).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);
    assert!(mine.body["totals"].is_null());

    // A says no: B (first on the waitlist) is promoted, C waits.
    let recorded = app.recorded();
    rsvp(&app, &id, &a, &ta, json!({"response": "no"}))
        .await
        .assert_status(200);
    let got = app.recorded().since(&recorded);
    assert_eq!(got.actions().len(), 2, "{:?}", got.actions());
    assert!(got
        .actions()
        .iter()
        .all(|(act, kind, _)| act == "update" && kind == "rsvps"));
    assert_eq!(got.fed().len(), 2);
    let statuses: Vec<(String, String)> =
        page(&app, &format!("/v1/events/{id}/rsvps"), &app.admin())
            .await
            .iter()
            .map(|r| {
                (
                    r["family_id"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
    assert!(
        statuses.contains(&(b.clone(), "confirmed".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(c.clone(), "waitlisted".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&(a.clone(), "answered".into())),
        "{statuses:?}"
    );
    // Raising capacity promotes C.
    app.patch(
        &format!("/v1/events/{id}"),
        &app.admin(),
        json!({"capacity": 2}),
    )
    .await
    .assert_status(200);
    let ev = app.get(&format!("/v1/events/{id}"), &app.admin()).await;
    assert_eq!(ev.body["places_left"], 0);
    let c_answer = page(&app, &format!("/v1/events/{id}/rsvps"), &tc).await;
    assert_eq!(c_answer[0]["status"], "confirmed");
}

#[actix_web::test]
async fn a_full_event_without_waitlist_and_a_passed_deadline_refuse_answers() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let id = event(
        &app,
        json!({"capacity": 1, "rsvp_deadline": "2026-12-05T00:00:00Z"}),
    )
    .await;
    let (a, ta, _) = household(&app, "A", "3").await;
    let (b, tb, _) = household(&app, "B", "3").await;
    rsvp(&app, &id, &a, &ta, json!({"response": "yes"}))
        .await
        .assert_status(201);
    let path = format!("/v1/events/{id}/rsvps/{b}");
    refused(
        &app,
        Method::PUT,
        &path,
        &tb,
        Some(json!({"response": "yes"})),
        409,
    )
    .await;
    // A maybe takes no place.
    rsvp(&app, &id, &b, &tb, json!({"response": "maybe"}))
        .await
        .assert_status(201);
    // Another family's answer is not the guardian's to give.
    refused(
        &app,
        Method::PUT,
        &format!("/v1/events/{id}/rsvps/{a}"),
        &tb,
        Some(json!({"response": "no"})),
        404,
    )
    .await;
    refused_field(
        &app,
        Method::PUT,
        &path,
        &tb,
        Some(json!({"response": "no", "adults": 99})),
        400,
        "adults",
    )
    .await;
    app.set_now(at("2026-12-06 09:00:00"));
    refused(
        &app,
        Method::PUT,
        &path,
        &tb,
        Some(json!({"response": "no"})),
        409,
    )
    .await;
    // Staff record an answer given by phone after the deadline.
    let res = rsvp(
        &app,
        &id,
        &b,
        &app.token(Role::Pre),
        json!({"response": "no"}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.body["answered_by"], "pre-1");
}

#[actix_web::test]
async fn a_cancelled_event_keeps_its_answers_and_takes_no_more() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let id = event(&app, json!({})).await;
    let (a, ta, _) = household(&app, "A", "3").await;
    rsvp(&app, &id, &a, &ta, json!({"response": "yes"}))
        .await
        .assert_status(201);
    refused(
        &app,
        Method::DELETE,
        &format!("/v1/events/{id}"),
        &ta,
        None,
        403,
    )
    .await;
    let res = app.delete(&format!("/v1/events/{id}"), &app.admin()).await;
    res.assert_status(204);
    let ev = app.get(&format!("/v1/events/{id}"), &ta).await;
    ev.assert_status(200);
    assert!(ev.body["cancelled_at"].is_string());
    assert_eq!(
        page(&app, &format!("/v1/events/{id}/rsvps"), &app.admin())
            .await
            .len(),
        1
    );
    refused(
        &app,
        Method::PUT,
        &format!("/v1/events/{id}/rsvps/{a}"),
        &ta,
        Some(json!({"response": "no"})),
        409,
    )
    .await;
    // Cancelling again changes nothing.
    let before = app.snapshot();
    app.delete(&format!("/v1/events/{id}"), &app.admin())
        .await
        .assert_status(204);
    app.assert_unchanged(&before, "a second cancel");
    let fed = app.recorded().fed();
    assert!(fed
        .iter()
        .any(|(k, rid, op, _)| k == "events" && *rid == id && op == "archive"));
}

#[actix_web::test]
async fn attendance_is_staffs_also_without_an_answer_and_feedback_comes_once_after() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let id = event(&app, json!({})).await;
    let (a, ta, _) = household(&app, "A", "3").await;
    let path = format!("/v1/events/{id}/attendance/{a}");
    refused(
        &app,
        Method::PUT,
        &path,
        &ta,
        Some(json!({"attended": true})),
        403,
    )
    .await;
    let res = app
        .call(
            Method::PUT,
            &path,
            Some(&app.token(Role::Teacher)),
            Some(&json!({"attended": true, "adults": 2, "children": 3})),
            &[],
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.body["children"], 3);
    let res = app
        .call(
            Method::PUT,
            &path,
            Some(&app.token(Role::Teacher)),
            Some(&json!({"attended": true, "adults": 1, "children": 3})),
            &[],
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["version"], 2);
    let other = app.other_admin();
    refused(
        &app,
        Method::PUT,
        &path,
        &other,
        Some(json!({"attended": true})),
        404,
    )
    .await;

    let fb = format!("/v1/events/{id}/feedback");
    refused(
        &app,
        Method::POST,
        &fb,
        &ta,
        Some(json!({"rating": 5})),
        409,
    )
    .await;
    app.set_now(at("2026-12-11 09:00:00"));
    refused(
        &app,
        Method::POST,
        &fb,
        &app.admin(),
        Some(json!({"rating": 5})),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        &fb,
        &ta,
        Some(json!({"rating": 6})),
        400,
        "rating",
    )
    .await;
    let res = app
        .post(&fb, &ta, json!({"rating": 4, "comment": "Very useful"}))
        .await;
    res.assert_status(201);
    let recorded = app.recorded();
    assert!(recorded
        .actions()
        .iter()
        .any(|(act, kind, rid)| act == "rate" && kind == "event_feedback" && *rid == res.id()));
    refused(
        &app,
        Method::POST,
        &fb,
        &ta,
        Some(json!({"rating": 1})),
        409,
    )
    .await;
}

#[actix_web::test]
async fn slots_are_booked_one_per_child_and_a_race_has_exactly_one_winner() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let id = event(&app, json!({"kind": "conference"})).await;
    let (_, me, kid) = household(&app, "A", "3").await;
    let slots_path = format!("/v1/events/{id}/slots");
    let series = json!({"starts_at": "2026-12-10T16:00:00Z", "ends_at": "2026-12-10T19:00:00Z", "slot_minutes": 10, "host": "Mr. Chen"});
    refused(
        &app,
        Method::POST,
        &slots_path,
        &me,
        Some(series.clone()),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        &slots_path,
        &app.admin(),
        Some(merged(series.clone(), json!({"slot_minutes": 1}))),
        400,
        "slot_minutes",
    )
    .await;
    let made = app.post(&slots_path, &app.admin(), series).await;
    made.assert_status(201);
    let slots: Vec<String> = made.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(slots.len(), 18);

    // Eight families race for the first slot: exactly one wins.
    let mut racers = Vec::new();
    for i in 0..8 {
        racers.push(household(&app, &format!("R{i}"), "3").await);
    }
    let booking = format!("/v1/events/{id}/slots/{}/booking", slots[0]);
    let answers = join_all(
        racers
            .iter()
            .map(|(_, t, k)| app.post(&booking, t, json!({"student_id": k}))),
    )
    .await;
    let won = answers.iter().filter(|r| r.status == 201).count();
    let lost = answers.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (won, lost),
        (1, 7),
        "{:?}",
        answers
            .iter()
            .map(|r| (r.status, r.text.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(app.count("bookings"), 1);

    // A guardian sees the free slots and their own booking, never another family's.
    refused(
        &app,
        Method::POST,
        &booking,
        &me,
        Some(json!({"student_id": kid})),
        409,
    )
    .await;
    let second = format!("/v1/events/{id}/slots/{}/booking", slots[1]);
    app.post(&second, &me, json!({"student_id": kid}))
        .await
        .assert_status(201);
    let third = format!("/v1/events/{id}/slots/{}/booking", slots[2]);
    refused(
        &app,
        Method::POST,
        &third,
        &me,
        Some(json!({"student_id": kid})),
        409,
    )
    .await;
    let (_, _, stranger) = household(&app, "S", "3").await;
    refused(
        &app,
        Method::POST,
        &third,
        &me,
        Some(json!({"student_id": stranger})),
        422,
    )
    .await;
    let seen = app.get(&slots_path, &me).await;
    let seen = seen.body["data"].as_array().unwrap().clone();
    assert_eq!(seen.len(), 17);
    assert!(seen
        .iter()
        .any(|s| s["id"] == json!(slots[1]) && s["booking"]["student_id"] == json!(kid)));
    let all = app.get(&slots_path, &app.admin()).await;
    assert_eq!(
        all.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["free"] == json!(false))
            .count(),
        2
    );

    // The winner's booking is not another guardian's to release; its own guardian frees it.
    refused(&app, Method::DELETE, &booking, &me, None, 404).await;
    let winner = answers.iter().position(|r| r.status == 201).unwrap();
    app.delete(&booking, &racers[winner].1)
        .await
        .assert_status(204);
    app.post(
        &booking,
        &racers[(winner + 1) % 8].1,
        json!({"student_id": racers[(winner + 1) % 8].2}),
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn engagement_records_are_in_the_change_feed_for_who_may_read_them() {
    let app = TestApp::new().await;
    app.set_now(at(NOW));
    let id = event(&app, json!({})).await;
    let (a, ta, _) = household(&app, "A", "3").await;
    let r = rsvp(&app, &id, &a, &ta, json!({"response": "yes"})).await;
    r.assert_status(201);
    let got = app.recorded();
    assert!(got
        .actions()
        .contains(&("create".into(), "rsvps".into(), r.id())));
    assert!(got
        .fed()
        .iter()
        .any(|(k, rid, op, v)| k == "rsvps" && *rid == r.id() && op == "create" && *v == 1));
    let feed = app
        .get(
            "/v1/changes?types=events,rsvps",
            &app.token(Role::Integration),
        )
        .await;
    feed.assert_status(200);
    assert_eq!(
        feed.body["data"].as_array().unwrap().len(),
        2,
        "{}",
        feed.text
    );
    // The timeline shows the answer.
    let tl = app.get(&format!("/v1/families/{a}/timeline"), &ta).await;
    tl.assert_status(200);
    assert!(
        tl.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "rsvp" && e["rsvp"]["event_id"] == json!(id)),
        "{}",
        tl.text
    );
}
