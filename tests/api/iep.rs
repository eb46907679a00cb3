//! IEP collaboration notes: who sees which note (per role and per link flag), what a guardian
//! may write, action items, acknowledgement, audited reads (one event per read, none for a
//! refused read, 503 when the read cannot be recorded), the family timeline, the change feed,
//! and destruction on request (content erased, tombstones and trail left, 410 after).

use actix_web::http::Method;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use liaison::auth::Role;
use serde_json::{json, Value};

use crate::support::*;

const NOW: &str = "2026-12-01 10:00:00";

fn notes_of(student: &str) -> String {
    format!("/v1/students/{student}/iep-notes")
}

fn note_path(id: &str) -> String {
    format!("/v1/iep-notes/{id}")
}

/// A student with an IEP in `fam`.
async fn iep_student(app: &TestApp, fam: &str, given: &str) -> String {
    let res = app
        .post(
            &format!("/v1/families/{fam}/students"),
            &app.admin(),
            json!({"given_name": given, "family_name": "Doe", "has_iep": true}),
        )
        .await;
    res.assert_status(201);
    res.id()
}

/// A family with a guardian (`me`) linked to `kid` (current, `can_view_records`), both with
/// IEPs; another family with its own guardian and child.
struct Fx {
    fam: String,
    me: String,
    kid: String,
    other_g: String,
    other_kid: String,
}

async fn fx(app: &TestApp) -> Fx {
    app.set_now(at(NOW));
    let fam = app.family("The Does").await;
    let me = app.guardian_in(&fam, "Ana").await;
    let kid = iep_student(app, &fam, "Sam").await;
    app.link(&kid, &me, json!({})).await.assert_status(201);
    let other = app.family("The Roes").await;
    let other_g = app.guardian_in(&other, "Rick").await;
    let other_kid = iep_student(app, &other, "Rae").await;
    app.link(&other_kid, &other_g, json!({}))
        .await
        .assert_status(201);
    Fx {
        fam,
        me,
        kid,
        other_g,
        other_kid,
    }
}

fn note(kind: &str, visibility: &str) -> Value {
    json!({
        "kind": kind,
        "title": "Annual review",
        "body": "Reading goals met; math support continues.",
        "meeting_date": "2026-11-20",
        "visibility": visibility,
    })
}

/// Writes a note about `student` as the admin; returns it.
async fn write(app: &TestApp, student: &str, body: Value) -> Value {
    let res = app.post(&notes_of(student), &app.admin(), body).await;
    res.assert_status(201);
    res.body.clone()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The audit events recorded since `before`, as `(action, resource_type, resource_id)`.
fn recorded_since(app: &TestApp, before: &Recorded) -> Recorded {
    app.recorded().since(before)
}

#[actix_web::test]
async fn staff_write_and_read_notes_with_action_items() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let body = merged(
        note("meeting_note", "family"),
        json!({"action_items": [
            {"description": "Share the reading log weekly", "owner": "family", "due_on": "2026-12-15"},
            {"description": "Send the accommodation plan", "owner": "teacher-1"}
        ]}),
    );
    let res = app
        .post(&notes_of(&f.kid), &app.token(Role::Teacher), body)
        .await;
    res.assert_status(201);
    let n = res.body.clone();
    let id = id_of(&n);
    assert_eq!(res.header("location"), Some(note_path(&id)));
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(n["kind"], "meeting_note");
    assert_eq!(n["visibility"], "family");
    assert_eq!(n["author"], "teacher-1");
    assert_eq!(n["author_role"], "teacher");
    assert_eq!(n["student_id"], json!(f.kid));
    assert_eq!(n["family_id"], json!(f.fam));
    assert_eq!(n["meeting_date"], "2026-11-20");
    assert_eq!(n["acknowledged_at"], Value::Null);
    let items = n["action_items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["owner"], "family");
    assert_eq!(items[0]["due_on"], "2026-12-15");
    assert_eq!(items[0]["done_at"], Value::Null);
    assert_eq!(items[1]["owner"], "teacher-1");

    let got = app.get(&note_path(&id), &app.token(Role::Counselor)).await;
    got.assert_status(200);
    assert_eq!(got.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(got.body, n);

    // Staff change items through the merge patch: keep one by id, drop the other, add one.
    let keep = items[0]["id"].as_str().unwrap();
    let res = merge_patch(
        &app,
        &note_path(&id),
        json!({"title": "Annual review (amended)", "action_items": [
            {"id": keep, "description": "Share the reading log weekly", "owner": "family", "due_on": "2026-12-15", "done_at": "2026-12-01T09:00:00Z"},
            {"description": "Book the follow-up meeting", "owner": "admin-1"}
        ]}),
    )
    .await;
    res.assert_status(200);
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.body["title"], "Annual review (amended)");
    let items = res.body["action_items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], json!(keep));
    assert_eq!(items[0]["done_by"], "admin-1");
    assert_eq!(items[1]["owner"], "admin-1");
    assert_eq!(app.count("iep_action_items"), 2);

    // An item id that is not the note's is a 400, nothing written.
    refused_field(
        &app,
        Method::PATCH,
        &note_path(&id),
        &app.admin(),
        Some(json!({"action_items": [{"id": f.kid, "description": "x", "owner": "family"}]})),
        400,
        "action_items[0].id",
    )
    .await;

    // Archive: gone from GET and lists.
    app.delete(&note_path(&id), &app.admin())
        .await
        .assert_status(204);
    refused(&app, Method::GET, &note_path(&id), &app.admin(), None, 404).await;
    assert!(page(&app, &notes_of(&f.kid), &app.admin()).await.is_empty());
}

#[actix_web::test]
async fn a_note_needs_a_student_with_an_iep() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let plain = app.student_in(&f.fam, "Kit").await;
    app.link(&plain, &f.me, json!({})).await.assert_status(201);
    let res = refused(
        &app,
        Method::POST,
        &notes_of(&plain),
        &app.admin(),
        Some(note("meeting_note", "staff")),
        422,
    )
    .await;
    assert_eq!(res.body["type"], "/problems/no-iep");
    refused(
        &app,
        Method::POST,
        &notes_of(&plain),
        &app.guardian(&f.me),
        Some(note("parent_input", "family")),
        422,
    )
    .await;
    // Too long a body is a 400.
    let long = merged(
        note("meeting_note", "staff"),
        json!({"body": "x".repeat(20_001)}),
    );
    refused_field(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &app.admin(),
        Some(long),
        400,
        "body",
    )
    .await;
}

#[actix_web::test]
async fn who_sees_which_note_by_role_and_link() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let shared = id_of(&write(&app, &f.kid, note("progress_update", "family")).await);
    let staff_only = id_of(&write(&app, &f.kid, note("meeting_note", "staff")).await);

    // Staff with iep:read see both; roles without it are refused.
    for role in [Role::Admin, Role::Pre, Role::Teacher, Role::Counselor] {
        let t = app.token(role);
        app.get(&note_path(&staff_only), &t)
            .await
            .assert_status(200);
        assert_eq!(
            sorted(ids(&app, &notes_of(&f.kid), &t).await),
            sorted([shared.clone(), staff_only.clone()]),
            "{role}"
        );
    }
    for role in [Role::Admissions, Role::Integration] {
        refused(
            &app,
            Method::GET,
            &note_path(&shared),
            &app.token(role),
            None,
            403,
        )
        .await;
        refused(
            &app,
            Method::GET,
            &notes_of(&f.kid),
            &app.token(role),
            None,
            403,
        )
        .await;
    }
    // PRE reads but does not write.
    refused(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &app.token(Role::Pre),
        Some(note("meeting_note", "staff")),
        403,
    )
    .await;

    // The guardian with a current link sees the shared note only.
    let me = app.guardian(&f.me);
    app.get(&note_path(&shared), &me).await.assert_status(200);
    assert_eq!(ids(&app, &notes_of(&f.kid), &me).await, [shared.as_str()]);
    refused(&app, Method::GET, &note_path(&staff_only), &me, None, 404).await;
    assert!(
        page(&app, &format!("{}?visibility=staff", notes_of(&f.kid)), &me)
            .await
            .is_empty()
    );
    // Another family's guardian sees neither, nor the child's list.
    let other = app.guardian(&f.other_g);
    refused(&app, Method::GET, &note_path(&shared), &other, None, 404).await;
    refused(&app, Method::GET, &notes_of(&f.kid), &other, None, 404).await;
    // Another school's admin sees nothing.
    refused(
        &app,
        Method::GET,
        &note_path(&shared),
        &app.other_admin(),
        None,
        404,
    )
    .await;

    // Per link flag: each guardian of the family linked to the child one way.
    let links = [
        (
            "ended",
            json!({"starts_on": "2025-09-01", "ends_on": "2026-11-30"}),
            false,
        ),
        ("not yet started", json!({"starts_on": "2026-12-02"}), false),
        ("no records", json!({"can_view_records": false}), false),
        (
            "current, dated",
            json!({"starts_on": "2026-12-01", "ends_on": "2026-12-01"}),
            true,
        ),
    ];
    for (what, link, sees) in links {
        let g = app.guardian_in(&f.fam, what).await;
        app.link(&f.kid, &g, link).await.assert_status(201);
        let t = app.guardian(&g);
        if sees {
            app.get(&note_path(&shared), &t).await.assert_status(200);
            assert_eq!(
                ids(&app, &notes_of(&f.kid), &t).await,
                [shared.as_str()],
                "{what}"
            );
        } else {
            refused(&app, Method::GET, &note_path(&shared), &t, None, 404).await;
            refused(&app, Method::GET, &notes_of(&f.kid), &t, None, 404).await;
            refused(
                &app,
                Method::POST,
                &notes_of(&f.kid),
                &t,
                Some(note("parent_input", "family")),
                404,
            )
            .await;
        }
        refused(&app, Method::GET, &note_path(&staff_only), &t, None, 404).await;
    }
    // A guardian of another household linked to the child sees its shared notes too.
    let split = app
        .guardian_in(&app.family("Other house").await, "Lee")
        .await;
    app.link(&f.kid, &split, json!({})).await.assert_status(201);
    app.get(&note_path(&shared), &app.guardian(&split))
        .await
        .assert_status(200);
    let _ = f.other_kid;
}

#[actix_web::test]
async fn guardians_write_only_shared_parent_input() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let me = app.guardian(&f.me);
    let res = app
        .post(
            &notes_of(&f.kid),
            &me,
            json!({"kind": "parent_input", "title": "Homework", "body": "Sam struggles after 8pm."}),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.body["visibility"], "family");
    assert_eq!(res.body["author"], json!(f.me));
    assert_eq!(res.body["author_role"], "guardian");
    let mine = res.id();
    // Staff see it.
    app.get(&note_path(&mine), &app.token(Role::Teacher))
        .await
        .assert_status(200);

    // Any other kind, items, or `staff` visibility is refused, writing nothing.
    refused(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &me,
        Some(note("meeting_note", "family")),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &me,
        Some(note("parent_input", "staff")),
        400,
        "visibility",
    )
    .await;
    refused(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &me,
        Some(merged(
            note("parent_input", "family"),
            json!({"action_items": [{"description": "x", "owner": "family"}]}),
        )),
        403,
    )
    .await;
    // Not for another family's child.
    refused(
        &app,
        Method::POST,
        &notes_of(&f.other_kid),
        &me,
        Some(note("parent_input", "family")),
        404,
    )
    .await;
    // Staff cannot hide parent input either.
    refused_field(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &app.admin(),
        Some(note("parent_input", "staff")),
        400,
        "visibility",
    )
    .await;

    // The guardian edits their own parent input, not the school's notes, and never the
    // visibility or kind.
    let res = app
        .patch(
            &note_path(&mine),
            &me,
            json!({"body": "Better since Monday."}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.body["body"], "Better since Monday.");
    let before = app.snapshot();
    let res = app
        .patch(&note_path(&mine), &me, json!({"kind": "meeting_note"}))
        .await;
    res.assert_problem(403);
    app.assert_unchanged(&before, "a guardian changing the kind");
    let schools = id_of(&write(&app, &f.kid, note("progress_update", "family")).await);
    let before = app.snapshot();
    let res = app
        .patch(&note_path(&schools), &me, json!({"title": "Mine now"}))
        .await;
    res.assert_problem(403);
    app.assert_unchanged(&before, "a guardian editing the school's note");
    // Guardians do not archive.
    refused(&app, Method::DELETE, &note_path(&mine), &me, None, 403).await;
}

#[actix_web::test]
async fn guardians_mark_done_only_what_the_family_owes() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let n = write(
        &app,
        &f.kid,
        merged(
            note("action_plan", "family"),
            json!({"action_items": [
                {"description": "Read 20 minutes nightly", "owner": "family", "due_on": "2026-12-10"},
                {"description": "Send the reading plan", "owner": "teacher-1", "due_on": "2026-12-05"}
            ]}),
        ),
    )
    .await;
    let id = id_of(&n);
    let staff_only = write(
        &app,
        &f.kid,
        merged(
            note("meeting_note", "staff"),
            json!({"action_items": [{"description": "Call the district", "owner": "family"}]}),
        ),
    )
    .await;
    let mut items = n["action_items"].as_array().unwrap().clone();
    for i in &mut items {
        i.as_object_mut().unwrap().retain(|k, _| {
            ["id", "description", "owner", "due_on", "done_at"].contains(&k.as_str())
        });
        i.as_object_mut().unwrap().retain(|_, v| !v.is_null());
    }
    let me = app.guardian(&f.me);

    // The open items, across students, as each sees them.
    let mine = page(&app, "/v1/iep-action-items?owner=me", &me).await;
    assert_eq!(
        mine.len(),
        1,
        "only the shared note's family item: {mine:?}"
    );
    assert_eq!(mine[0]["description"], "Read 20 minutes nightly");
    let teacher = page(
        &app,
        "/v1/iep-action-items?owner=me",
        &app.token(Role::Teacher),
    )
    .await;
    assert_eq!(teacher.len(), 1);
    assert_eq!(teacher[0]["owner"], "teacher-1");
    let due = page(
        &app,
        "/v1/iep-action-items?due_before=2026-12-06",
        &app.admin(),
    )
    .await;
    assert_eq!(due.len(), 1);
    assert_eq!(
        page(&app, "/v1/iep-action-items", &app.admin()).await.len(),
        3
    );
    assert_eq!(
        page(
            &app,
            &format!("{}?open_action_items=true", notes_of(&f.kid)),
            &app.admin()
        )
        .await
        .len(),
        2
    );

    // Marking the staff member's item done, or rewording the family's, is refused.
    for (i, field, value) in [
        (1, "done_at", json!("2026-12-01T09:30:00Z")),
        (0, "description", json!("Read 5 minutes")),
    ] {
        let mut changed = items.clone();
        changed[i][field] = value;
        let before = app.snapshot();
        app.patch(&note_path(&id), &me, json!({"action_items": changed}))
            .await
            .assert_problem(403);
        app.assert_unchanged(&before, "a guardian changing what is not theirs");
    }
    // Marking the family's item done is theirs to do.
    let mut done = items.clone();
    done[0]["done_at"] = json!("2026-12-01T09:30:00Z");
    let res = app
        .patch(&note_path(&id), &me, json!({"action_items": done}))
        .await;
    res.assert_status(200);
    assert_eq!(res.body["action_items"][0]["done_by"], json!(f.me));
    assert_eq!(res.body["action_items"][0]["id"], items[0]["id"]);
    assert!(page(&app, "/v1/iep-action-items?owner=family", &me)
        .await
        .is_empty());
    assert_eq!(
        page(&app, "/v1/iep-action-items?owner=family&open=false", &me)
            .await
            .len(),
        1
    );
    // The staff-only note's items stay unseen, and it cannot be patched.
    refused(
        &app,
        Method::PATCH,
        &note_path(&id_of(&staff_only)),
        &me,
        Some(json!({"title": "x"})),
        404,
    )
    .await;
}

#[actix_web::test]
async fn acknowledgement_is_the_familys_and_idempotent() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let id = id_of(&write(&app, &f.kid, note("progress_update", "family")).await);
    let me = app.guardian(&f.me);
    let ack = format!("{}/acknowledge", note_path(&id));
    refused(&app, Method::POST, &ack, &app.admin(), None, 403).await;
    let before = app.recorded();
    let res = app.call(Method::POST, &ack, Some(&me), None, &[]).await;
    res.assert_status(200);
    assert_eq!(res.body["acknowledged_by"], json!(f.me));
    assert_eq!(time(&res.body["acknowledged_at"]), at(NOW));
    assert_eq!(res.body["version"], 2);
    let rec = recorded_since(&app, &before);
    assert_eq!(
        rec.actions(),
        [("acknowledge".into(), "iep_notes".into(), id.clone())]
    );
    // Again: the same answer, no change; recorded as a read of the content it answers with.
    let before = app.recorded();
    let again = app.call(Method::POST, &ack, Some(&me), None, &[]).await;
    again.assert_status(200);
    assert_eq!(again.body, res.body);
    let rec = recorded_since(&app, &before);
    assert_eq!(
        rec.actions(),
        [("read".into(), "iep_notes".into(), id.clone())]
    );
    assert!(rec.changes.is_empty());
}

#[actix_web::test]
async fn every_read_is_recorded_once_and_a_refused_read_not_at_all() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let shared = id_of(&write(&app, &f.kid, note("progress_update", "family")).await);
    let staff_only = id_of(&write(&app, &f.kid, note("meeting_note", "staff")).await);

    // A GET: one read event, naming the note, the child and family, the purpose and request.
    let before = app.recorded();
    let res = app
        .call(
            Method::GET,
            &note_path(&shared),
            Some(&app.token(Role::Teacher)),
            None,
            &[
                ("x-purpose", "preparing the annual review"),
                ("x-request-id", "req-iep-1"),
            ],
        )
        .await;
    res.assert_status(200);
    let rec = recorded_since(&app, &before);
    assert_eq!(
        rec.actions(),
        [("read".into(), "iep_notes".into(), shared.clone())]
    );
    assert!(rec.changes.is_empty(), "a read changes nothing in the feed");
    let e = &rec.audit[0];
    assert_eq!(e.actor, "teacher-1");
    assert_eq!(e.student_id.as_deref(), Some(f.kid.as_str()));
    assert_eq!(e.family_id.as_deref(), Some(f.fam.as_str()));
    assert_eq!(e.purpose.as_deref(), Some("preparing the annual review"));
    assert_eq!(e.request_id.as_deref(), Some("req-iep-1"));

    // A list: one read event for the request, named by the student.
    let before = app.recorded();
    assert_eq!(page(&app, &notes_of(&f.kid), &app.admin()).await.len(), 2);
    let rec = recorded_since(&app, &before);
    assert_eq!(
        rec.actions(),
        [("read".into(), "iep_notes".into(), f.kid.clone())]
    );

    // A no-op patch answers with the content: a read too.
    let before = app.recorded();
    merge_patch(&app, &note_path(&shared), json!({}))
        .await
        .assert_status(200);
    assert_eq!(
        recorded_since(&app, &before).actions(),
        [("read".into(), "iep_notes".into(), shared.clone())]
    );

    // Refused reads record nothing: no scope, a note the guardian may not see, another family.
    refused(
        &app,
        Method::GET,
        &note_path(&shared),
        &app.token(Role::Admissions),
        None,
        403,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &note_path(&staff_only),
        &app.guardian(&f.me),
        None,
        404,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &notes_of(&f.kid),
        &app.guardian(&f.other_g),
        None,
        404,
    )
    .await;
    refused(
        &app,
        Method::GET,
        &note_path(&f.kid),
        &app.admin(),
        None,
        404,
    )
    .await;

    // The guardian's own read and the staff reads show in the child's access log; the read
    // of the staff-only note does not (it would tell the family the note exists).
    app.get(&note_path(&staff_only), &app.token(Role::Counselor))
        .await
        .assert_status(200);
    let me = app.guardian(&f.me);
    app.get(&note_path(&shared), &me).await.assert_status(200);
    let log = page(
        &app,
        &format!("/v1/students/{}/access-log?limit=200", f.kid),
        &me,
    )
    .await;
    let reads: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e["action"] == "read")
        .map(|e| {
            (
                e["actor"].as_str().unwrap(),
                e["resource_type"].as_str().unwrap(),
            )
        })
        .collect();
    let guardian_sub = format!("guardian-{}", f.me);
    assert!(reads.contains(&("teacher-1", "iep_notes")), "{log:?}");
    assert!(
        reads.contains(&(guardian_sub.as_str(), "iep_notes")),
        "{log:?}"
    );
    assert!(
        reads.contains(&("admin-1", "iep_notes")),
        "the list read: {log:?}"
    );
    assert!(!reads.contains(&("counselor-1", "iep_notes")), "{log:?}");
    assert!(log.iter().all(|e| e.get("resource_id").is_none()));
    // Staff see every read in the audit log.
    let all = page(
        &app,
        &format!(
            "/v1/audit-events?action=read&student_id={}&limit=200",
            f.kid
        ),
        &app.admin(),
    )
    .await;
    assert_eq!(all.len(), 5, "{all:?}");
}

/// Makes every insert of a read event fail, as a full disk or a broken audit table would.
fn refuse_read_events(app: &TestApp) {
    let sql = if app.is_postgres() {
        "CREATE FUNCTION refuse_reads() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.action = 'read' THEN RAISE EXCEPTION 'reads refused'; END IF; RETURN NEW; END $$; \
         CREATE TRIGGER refuse_reads BEFORE INSERT ON audit_events \
         FOR EACH ROW EXECUTE FUNCTION refuse_reads();"
    } else {
        "CREATE TRIGGER refuse_reads BEFORE INSERT ON audit_events WHEN NEW.action = 'read' \
         BEGIN SELECT RAISE(ABORT, 'reads refused'); END;"
    };
    app.conn().batch_execute(sql).expect("trigger");
}

#[actix_web::test]
async fn a_read_that_cannot_be_recorded_is_not_answered() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let shared = write(
        &app,
        &f.kid,
        merged(
            note("progress_update", "family"),
            json!({"action_items": [{"description": "Sign the plan", "owner": "family"}]}),
        ),
    )
    .await;
    let shared = id_of(&shared);
    refuse_read_events(&app);
    for (path, token) in [
        (note_path(&shared), app.admin()),
        (notes_of(&f.kid), app.token(Role::Teacher)),
        (note_path(&shared), app.guardian(&f.me)),
        ("/v1/iep-action-items".to_string(), app.admin()),
        (
            format!("/v1/families/{}/timeline", f.fam),
            app.guardian(&f.me),
        ),
    ] {
        let res = refused(&app, Method::GET, &path, &token, None, 503).await;
        assert!(!res.text.contains("Annual review"), "{path}: {}", res.text);
        assert_eq!(res.body["type"], "/problems/unavailable");
    }
    // Reads of other records are not audited reads, and go on.
    app.get(&format!("/v1/students/{}", f.kid), &app.admin())
        .await
        .assert_status(200);
    // A page that carries no IEP note records nothing, so it is answered.
    app.get("/v1/iep-action-items?owner=nobody", &app.admin())
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn shared_notes_are_on_the_family_timeline() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let shared = id_of(&write(&app, &f.kid, note("progress_update", "family")).await);
    let staff_only = id_of(&write(&app, &f.kid, note("meeting_note", "staff")).await);
    let tl = format!("/v1/families/{}/timeline", f.fam);
    let me = app.guardian(&f.me);

    let before = app.recorded();
    let entries = page(&app, &tl, &me).await;
    let notes: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "iep_note").collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["id"], json!(shared));
    assert_eq!(notes[0]["iep_note"]["title"], "Annual review");
    assert_eq!(
        recorded_since(&app, &before).actions(),
        [("read".into(), "iep_notes".into(), f.kid.clone())]
    );
    // Staff see both; a caller without iep:read sees none and records nothing.
    let staff = ids(&app, &tl, &app.admin()).await;
    assert!(staff.contains(&shared) && staff.contains(&staff_only));
    let before = app.recorded();
    let pre = page(
        &app,
        &tl,
        &app.mint(
            Role::Pre,
            SCHOOL,
            "pre-1",
            None,
            Some("communications:read"),
        ),
    )
    .await;
    assert!(pre.iter().all(|e| e["kind"] != "iep_note"));
    assert!(recorded_since(&app, &before).audit.is_empty());
}

#[actix_web::test]
async fn the_change_feed_serves_notes_to_iep_readers() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let id = id_of(&write(&app, &f.kid, note("meeting_note", "staff")).await);
    app.get(&note_path(&id), &app.admin())
        .await
        .assert_status(200);
    let feed = page(&app, "/v1/changes?types=iep_notes", &app.admin()).await;
    assert_eq!(feed.len(), 1, "a read is not a change: {feed:?}");
    assert_eq!(feed[0]["id"], json!(id));
    // The SIS's integration token has no iep:read.
    refused(
        &app,
        Method::GET,
        "/v1/changes?types=iep_notes",
        &app.token(Role::Integration),
        None,
        403,
    )
    .await;
}

#[actix_web::test]
async fn list_filters() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let a = id_of(
        &write(
            &app,
            &f.kid,
            merged(
                note("meeting_note", "staff"),
                json!({"meeting_date": "2026-10-01", "action_items": [{"description": "x", "owner": "family"}]}),
            ),
        )
        .await,
    );
    let b = id_of(
        &write(
            &app,
            &f.kid,
            merged(
                note("progress_update", "family"),
                json!({"meeting_date": "2026-11-15"}),
            ),
        )
        .await,
    );
    app.set_now(at("2026-12-02 10:00:00"));
    let c = id_of(
        &write(
            &app,
            &f.kid,
            merged(
                note("accommodation_request", "family"),
                json!({"meeting_date": null}),
            ),
        )
        .await,
    );
    let q = |query: &str| format!("{}?{query}", notes_of(&f.kid));
    let admin = app.admin();
    assert_eq!(
        ids(&app, &notes_of(&f.kid), &admin).await,
        [c.clone(), b.clone(), a.clone()]
    );
    assert_eq!(
        ids(&app, &q("kind=meeting_note"), &admin).await,
        [a.as_str()]
    );
    assert_eq!(
        ids(&app, &q("visibility=family"), &admin).await,
        [c.clone(), b.clone()]
    );
    assert_eq!(
        ids(&app, &q("open_action_items=true"), &admin).await,
        [a.as_str()]
    );
    assert_eq!(
        ids(&app, &q("open_action_items=false"), &admin).await,
        [c.clone(), b.clone()]
    );
    assert_eq!(
        ids(&app, &q("meeting_from=2026-11-01"), &admin).await,
        [b.as_str()]
    );
    assert_eq!(
        ids(&app, &q("meeting_to=2026-11-15"), &admin).await,
        [b.clone(), a.clone()]
    );
    assert_eq!(
        ids(&app, &q("updated_since=2026-12-02T00:00:00Z"), &admin).await,
        [c.as_str()]
    );
    // Pages follow each other.
    let first = app.get(&q("limit=2"), &admin).await;
    first.assert_status(200);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&app, &q(&format!("limit=2&cursor={cursor}")), &admin).await,
        [a]
    );
    // Unknown or malformed filters are a 400.
    for bad in [
        "kind=diary",
        "meeting_from=yesterday",
        "colour=red",
        "open_action_items=maybe",
    ] {
        refused(&app, Method::GET, &q(bad), &admin, None, 400).await;
    }
}

/// A note's stored content, read back through a plain connection.
#[derive(QueryableByName, Debug)]
struct Stored {
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    body: Option<String>,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    destroyed_by: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    destroyed_reason: Option<String>,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[actix_web::test]
async fn destruction_erases_content_and_leaves_tombstones_and_trail() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let shared = write(
        &app,
        &f.kid,
        merged(
            note("meeting_note", "family"),
            json!({"action_items": [{"description": "Secret plan", "owner": "family"}]}),
        ),
    )
    .await;
    let shared = id_of(&shared);
    let staff_only = id_of(&write(&app, &f.kid, note("meeting_note", "staff")).await);
    // One archived, and one created with an Idempotency-Key (whose stored answer holds content).
    let archived = id_of(&write(&app, &f.kid, note("progress_update", "staff")).await);
    app.delete(&note_path(&archived), &app.admin())
        .await
        .assert_status(204);
    let keyed = app
        .call(
            Method::POST,
            &notes_of(&f.kid),
            Some(&app.admin()),
            Some(&note("action_plan", "family")),
            &[("idempotency-key", "iep-key-1")],
        )
        .await;
    keyed.assert_status(201);
    let keyed = keyed.id();
    // Another child's note is not touched.
    let other = id_of(&write(&app, &f.other_kid, note("meeting_note", "family")).await);

    let destroy = format!("{}/destroy", notes_of(&f.kid));
    let reason = json!({"reason": "Parent's request under 34 CFR 300.624"});
    // Only an admin, with a reason; refusals write nothing.
    for role in [Role::Teacher, Role::Counselor, Role::Pre] {
        refused(
            &app,
            Method::POST,
            &destroy,
            &app.token(role),
            Some(reason.clone()),
            403,
        )
        .await;
    }
    refused(
        &app,
        Method::POST,
        &destroy,
        &app.guardian(&f.me),
        Some(reason.clone()),
        403,
    )
    .await;
    refused_field(
        &app,
        Method::POST,
        &destroy,
        &app.admin(),
        Some(json!({})),
        400,
        "reason",
    )
    .await;
    refused(
        &app,
        Method::POST,
        &format!("{}/destroy", notes_of(&f.fam)),
        &app.admin(),
        Some(reason.clone()),
        404,
    )
    .await;

    app.set_now(at("2026-12-01 11:00:00"));
    let before = app.recorded();
    let res = app.post(&destroy, &app.admin(), reason.clone()).await;
    res.assert_status(200);
    assert_eq!(res.body["destroyed"], 4);
    let tombstones = res.body["tombstones"].as_array().unwrap();
    assert_eq!(tombstones.len(), 4);
    for t in tombstones {
        assert_eq!(t["destroyed_by"], "admin-1");
        assert_eq!(t["destroyed_reason"], reason["reason"]);
        assert_eq!(time(&t["destroyed_at"]), at("2026-12-01 11:00:00"));
        assert!(t.get("title").is_none() && t.get("body").is_none());
    }
    // The trail: a destroy event per note, a change per note.
    let rec = recorded_since(&app, &before);
    let mut destroyed: Vec<String> = rec
        .actions()
        .into_iter()
        .map(|(action, kind, id)| {
            assert_eq!((action.as_str(), kind.as_str()), ("destroy", "iep_notes"));
            id
        })
        .collect();
    destroyed.sort();
    assert_eq!(
        destroyed,
        sorted([
            shared.clone(),
            staff_only.clone(),
            archived.clone(),
            keyed.clone()
        ])
    );
    assert_eq!(rec.changes.len(), 4);

    // Read the rows back: content gone, tombstone kept; items and stored answers gone.
    let rows = diesel::sql_query(
        "SELECT title, body, kind, destroyed_by, destroyed_reason FROM iep_notes WHERE student_id = $1",
    );
    let rows: Vec<Stored> = if app.is_postgres() {
        rows.bind::<Text, _>(&f.kid).load(&mut *app.conn()).unwrap()
    } else {
        diesel::sql_query(
            "SELECT title, body, kind, destroyed_by, destroyed_reason FROM iep_notes WHERE student_id = ?",
        )
        .bind::<Text, _>(&f.kid)
        .load(&mut *app.conn())
        .unwrap()
    };
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(
            (r.title.as_deref(), r.body.as_deref()),
            (None, None),
            "{r:?}"
        );
        assert!(!r.kind.is_empty());
        assert_eq!(r.destroyed_by.as_deref(), Some("admin-1"));
        assert!(r.destroyed_reason.is_some());
    }
    let count = |sql: &str| {
        diesel::sql_query(sql)
            .get_result::<N>(&mut *app.conn())
            .unwrap()
            .n
    };
    assert_eq!(
        count(&format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM iep_action_items WHERE student_id = '{}'",
            f.kid
        )),
        0
    );
    assert_eq!(
        count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM idempotency_keys WHERE body LIKE '%Annual review%'"),
        0,
        "no stored answer keeps the content"
    );
    // The other child's note keeps its content.
    app.get(&note_path(&other), &app.admin())
        .await
        .assert_status(200);

    // 410 from now on, for everything about a destroyed note, to whoever could see it.
    for id in [&shared, &staff_only, &keyed] {
        let res = refused(&app, Method::GET, &note_path(id), &app.admin(), None, 410).await;
        assert_eq!(res.body["type"], "/problems/gone");
        refused(
            &app,
            Method::PATCH,
            &note_path(id),
            &app.admin(),
            Some(json!({"title": "x"})),
            410,
        )
        .await;
        refused(
            &app,
            Method::DELETE,
            &note_path(id),
            &app.admin(),
            None,
            410,
        )
        .await;
    }
    let me = app.guardian(&f.me);
    refused(&app, Method::GET, &note_path(&shared), &me, None, 410).await;
    refused(
        &app,
        Method::POST,
        &format!("{}/acknowledge", note_path(&shared)),
        &me,
        None,
        410,
    )
    .await;
    // The staff-only note stays unknown to the guardian.
    refused(&app, Method::GET, &note_path(&staff_only), &me, None, 404).await;
    // Lists leave destroyed notes out; replaying the keyed create does not bring content back.
    assert!(page(&app, &notes_of(&f.kid), &app.admin()).await.is_empty());
    refused_with(
        &app,
        Method::POST,
        &notes_of(&f.kid),
        &app.admin(),
        Some(note("action_plan", "family")),
        &[("idempotency-key", "iep-key-1")],
        410,
    )
    .await;
    assert!(page(&app, "/v1/iep-action-items", &app.admin())
        .await
        .iter()
        .all(|i| i["student_id"] != json!(f.kid)));

    // The child's access log shows the destruction to the guardian.
    let log = page(
        &app,
        &format!("/v1/students/{}/access-log?limit=200", f.kid),
        &me,
    )
    .await;
    assert_eq!(
        log.iter().filter(|e| e["action"] == "destroy").count(),
        4,
        "{log:?}"
    );
    // Destroying again destroys nothing more and lists the same tombstones.
    let again = app.post(&destroy, &app.admin(), reason).await;
    again.assert_status(200);
    assert_eq!(again.body["destroyed"], 0);
    assert_eq!(again.body["tombstones"].as_array().unwrap().len(), 4);
    // New notes are not affected.
    write(&app, &f.kid, note("meeting_note", "family")).await;
}

#[actix_web::test]
async fn idempotent_creates_replay_and_record_the_read() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let (path, admin, body) = (notes_of(&f.kid), app.admin(), note("meeting_note", "staff"));
    let key = [("idempotency-key", "k-1")];
    let first = app
        .call(Method::POST, &path, Some(&admin), Some(&body), &key)
        .await;
    first.assert_status(201);
    let before = app.recorded();
    let again = app
        .call(Method::POST, &path, Some(&admin), Some(&body), &key)
        .await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    assert_eq!(
        recorded_since(&app, &before).actions(),
        [("read".into(), "iep_notes".into(), first.id())]
    );
    assert_eq!(app.count("iep_notes"), 1);
}

#[actix_web::test]
async fn a_page_of_action_items_records_one_read_per_child() {
    let app = TestApp::new().await;
    let f = fx(&app).await;
    let with_item = |title: &str| {
        merged(
            note("action_plan", "family"),
            json!({"title": title, "action_items": [{"description": "Sign", "owner": "family"}]}),
        )
    };
    write(&app, &f.kid, with_item("One")).await;
    write(&app, &f.kid, with_item("Two")).await;
    write(&app, &f.other_kid, with_item("Three")).await;
    let before = app.recorded();
    assert_eq!(
        page(&app, "/v1/iep-action-items", &app.admin()).await.len(),
        3
    );
    let mut got = recorded_since(&app, &before).actions();
    got.sort();
    assert_eq!(
        got,
        sorted([f.kid.clone(), f.other_kid.clone()])
            .into_iter()
            .map(|s| ("read".to_string(), "iep_notes".to_string(), s))
            .collect::<Vec<_>>()
    );
    // The guardian's page holds their child's items only, and records their child only.
    let before = app.recorded();
    assert_eq!(
        page(&app, "/v1/iep-action-items", &app.guardian(&f.me))
            .await
            .len(),
        2
    );
    assert_eq!(
        recorded_since(&app, &before).actions(),
        [("read".into(), "iep_notes".into(), f.kid.clone())]
    );
}
