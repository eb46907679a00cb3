//! Bulk imports: `POST /v1/imports/{families,guardians,students,links}`, NDJSON and CSV.

use liaison::auth::Role;
use serde_json::{json, Value};

use crate::support::*;

const NDJSON: &str = "application/x-ndjson";
const CSV: &str = "text/csv";

fn integration(app: &TestApp) -> String {
    app.token(Role::Integration)
}

async fn import(app: &TestApp, kind: &str, query: &str, ct: &str, body: &str) -> Res {
    let t = integration(app);
    app.post_raw(&format!("/v1/imports/{kind}{query}"), &t, ct, body, &[])
        .await
}

fn counts(body: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| {
        body[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no {k} in {body}"))
    };
    (n("created"), n("updated"), n("unchanged"), n("failed"))
}

const FAMILIES_CSV: &str = "external_id,display_name,primary_language,address_city,sms_opt_in\n\
    F1,The One family,en,Springfield,true\n\
    F2,The Two family,es,,false\n";

const FAMILIES_NDJSON: &str = "{\"external_id\":\"F1\",\"display_name\":\"The One family\",\"primary_language\":\"en\",\"address\":{\"city\":\"Springfield\"},\"sms_opt_in\":true}\n\
    {\"external_id\":\"F2\",\"display_name\":\"The Two family\",\"primary_language\":\"es\"}\n";

async fn families_of(app: &TestApp) -> Vec<Value> {
    let r = app.get("/v1/families?limit=200", &app.admin()).await;
    r.assert_status(200);
    r.body["data"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn families_csv_and_ndjson_import_alike_and_reimport_is_unchanged() {
    for (ct, body) in [(CSV, FAMILIES_CSV), (NDJSON, FAMILIES_NDJSON)] {
        let app = TestApp::new().await;
        let before = app.recorded();
        let r = import(&app, "families", "", ct, body).await;
        r.assert_status(200);
        assert_eq!(counts(&r.body), (2, 0, 0, 0), "{}", r.text);
        let fams = families_of(&app).await;
        assert_eq!(fams.len(), 2);
        let one = fams.iter().find(|f| f["external_id"] == "F1").unwrap();
        assert_eq!(one["address"]["city"], "Springfield");
        assert_eq!(one["sms_opt_in"], true);
        assert_eq!(one["primary_language"], "en");
        // Each row audited and in the change feed.
        let rec = app.recorded().since(&before);
        assert_eq!(rec.audit.len(), 2);
        assert!(rec
            .audit
            .iter()
            .all(|a| a.action == "create" && a.resource_type == "families"));
        assert_eq!(rec.changes.len(), 2);
        let feed = app
            .get("/v1/changes?types=families", &integration(&app))
            .await;
        feed.assert_status(200);
        assert_eq!(feed.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(feed.body["data"][0]["external_id"], "F1");

        // The same file again: all unchanged, nothing written at all.
        let snap = app.snapshot();
        let r = import(&app, "families", "", ct, body).await;
        r.assert_status(200);
        assert_eq!(counts(&r.body), (0, 0, 2, 0), "{}", r.text);
        app.assert_unchanged(&snap, "an unchanged re-import");

        // A changed row is an update: new version, an update event and change record.
        let before = app.recorded();
        let changed = body.replace("The Two family", "The Twos");
        let r = import(&app, "families", "", ct, &changed).await;
        assert_eq!(counts(&r.body), (0, 1, 1, 0), "{}", r.text);
        let rec = app.recorded().since(&before);
        assert_eq!(rec.audit.len(), 1);
        assert_eq!(rec.audit[0].action, "update");
        assert_eq!(rec.fed()[0].2, "update");
        assert_eq!(rec.fed()[0].3, 2);
    }
}

#[actix_web::test]
async fn guardians_students_and_links_refer_to_parents_by_external_id() {
    for ct in [CSV, NDJSON] {
        let app = TestApp::new().await;
        import(&app, "families", "", CSV, FAMILIES_CSV)
            .await
            .assert_status(200);
        let (guardians, students, links) = if ct == CSV {
            (
                "family_external_id,external_id,given_name,family_name,email,phone,is_primary\n\
                 F1,G1,María,López,maria@example.org,+15551234567,true\n\
                 F2,G2,Ana,Two,,,\n",
                "family_external_id,external_id,given_name,family_name,grade_level,date_of_birth,has_iep\n\
                 F1,S1,Sofía,López,3,2017-04-02,false\n",
                "student_external_id,guardian_external_id,legal_guardian,contact_priority\n\
                 S1,G1,true,1\n\
                 S1,G2,false,2\n",
            )
        } else {
            (
                "{\"family_external_id\":\"F1\",\"external_id\":\"G1\",\"given_name\":\"María\",\"family_name\":\"López\",\"email\":\"maria@example.org\",\"phone\":\"+15551234567\",\"is_primary\":true}\n\
                 {\"family_external_id\":\"F2\",\"external_id\":\"G2\",\"given_name\":\"Ana\",\"family_name\":\"Two\"}\n",
                "{\"family_external_id\":\"F1\",\"external_id\":\"S1\",\"given_name\":\"Sofía\",\"family_name\":\"López\",\"grade_level\":\"3\",\"date_of_birth\":\"2017-04-02\"}\n",
                "{\"student_external_id\":\"S1\",\"guardian_external_id\":\"G1\",\"legal_guardian\":true,\"contact_priority\":1}\n\
                 {\"student_external_id\":\"S1\",\"guardian_external_id\":\"G2\",\"contact_priority\":2}\n",
            )
        };
        let r = import(&app, "guardians", "", ct, guardians).await;
        assert_eq!(counts(&r.body), (2, 0, 0, 0), "{}", r.text);
        let r = import(&app, "students", "", ct, students).await;
        assert_eq!(counts(&r.body), (1, 0, 0, 0), "{}", r.text);
        let r = import(&app, "links", "", ct, links).await;
        assert_eq!(counts(&r.body), (2, 0, 0, 0), "{}", r.text);

        let admin = app.admin();
        let g = app.get("/v1/guardians?limit=200", &admin).await;
        let g = g.body["data"].as_array().unwrap().clone();
        let maria = g.iter().find(|x| x["external_id"] == "G1").unwrap();
        assert_eq!(maria["email"], "maria@example.org");
        assert_eq!(maria["is_primary"], true);
        let s = app.get("/v1/students?limit=200", &admin).await;
        let sofia = s.body["data"][0].clone();
        assert_eq!(sofia["external_id"], "S1");
        assert_eq!(sofia["family_id"], maria["family_id"]);
        let l = app
            .get(
                &format!("/v1/students/{}/guardians", sofia["id"].as_str().unwrap()),
                &admin,
            )
            .await;
        l.assert_status(200);
        let l = l.body["data"].as_array().unwrap().clone();
        assert_eq!(l.len(), 2);
        let first = l.iter().find(|x| x["guardian_id"] == maria["id"]).unwrap();
        assert_eq!(first["legal_guardian"], true);
        assert_eq!(first["contact_priority"], 1);

        // Re-imports are unchanged.
        let snap = app.snapshot();
        for (kind, body) in [
            ("guardians", guardians),
            ("students", students),
            ("links", links),
        ] {
            let r = import(&app, kind, "", ct, body).await;
            r.assert_status(200);
            assert_eq!(counts(&r.body).3, 0, "{}", r.text);
            assert_eq!(counts(&r.body).0 + counts(&r.body).1, 0, "{}", r.text);
        }
        app.assert_unchanged(&snap, "unchanged re-imports");
    }
}

#[actix_web::test]
async fn a_bad_row_rolls_back_everything_by_default_and_partial_writes_the_good_rows() {
    let app = TestApp::new().await;
    let body = "external_id,display_name,preferred_channel\n\
                F1,One,email\n\
                F2,,pigeon\n\
                F3,Three,\n";
    let snap = app.snapshot();
    let r = import(&app, "families", "", CSV, body).await;
    let p = r.assert_problem(422);
    assert_eq!(p["type"], "/problems/import-failed");
    assert_eq!(counts(p), (2, 0, 0, 1));
    assert_eq!(p["errors"][0]["line"], 3);
    let fields: Vec<&str> = p["errors"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["display_name", "preferred_channel"]);
    app.assert_unchanged(&snap, "an all-or-nothing import with a bad row");

    // The same field errors a single create gives.
    let single = app
        .post(
            "/v1/families",
            &app.admin(),
            json!({"preferred_channel": "pigeon"}),
        )
        .await;
    single.assert_problem(400);
    let mut single_errors = single.body["errors"].as_array().unwrap().clone();
    single_errors.sort_by_key(|e| e["field"].as_str().unwrap().to_string());
    let mut import_errors = p["errors"][0]["errors"].as_array().unwrap().clone();
    import_errors.sort_by_key(|e| e["field"].as_str().unwrap().to_string());
    assert_eq!(single_errors, import_errors);

    // Dry run: the same answer, nothing written.
    let r = import(&app, "families", "?dry_run=true", CSV, body).await;
    assert_eq!(counts(r.assert_problem(422)), (2, 0, 0, 1));
    app.assert_unchanged(&snap, "a dry run");
    let good = "external_id,display_name\nF9,Nine\n";
    let r = import(&app, "families", "?dry_run=true", CSV, good).await;
    r.assert_status(200);
    assert_eq!(r.body["dry_run"], true);
    assert_eq!(counts(&r.body), (1, 0, 0, 0));
    app.assert_unchanged(&snap, "a good dry run");

    // Partial: exactly the good rows.
    let before = app.recorded();
    let r = import(&app, "families", "?mode=partial", CSV, body).await;
    r.assert_status(200);
    assert_eq!(counts(&r.body), (2, 0, 0, 1));
    let ids: Vec<Value> = families_of(&app)
        .await
        .iter()
        .map(|f| f["external_id"].clone())
        .collect();
    assert_eq!(ids, [json!("F1"), json!("F3")]);
    let rec = app.recorded().since(&before);
    assert_eq!(rec.audit.len(), 2);
    assert_eq!(rec.changes.len(), 2);
}

#[actix_web::test]
async fn a_missing_parent_fails_its_row_and_another_schools_records_are_not_found() {
    let app = TestApp::new().await;
    // The other school has family F1 and guardian G1.
    let other = app.mint(Role::Integration, OTHER_SCHOOL, "sis-b", None, None);
    app.post_raw("/v1/imports/families", &other, CSV, FAMILIES_CSV, &[])
        .await
        .assert_status(200);
    app.post_raw(
        "/v1/imports/guardians",
        &other,
        CSV,
        "family_external_id,external_id,given_name,family_name\nF1,G1,B,B\n",
        &[],
    )
    .await
    .assert_status(200);
    let snap = app.snapshot();
    let r = import(
        &app,
        "guardians",
        "",
        CSV,
        "family_external_id,external_id,given_name,family_name\nF1,G1,A,A\n",
    )
    .await;
    let p = r.assert_problem(422);
    assert_eq!(p["errors"][0]["errors"][0]["field"], "family_external_id");
    assert_eq!(p["errors"][0]["errors"][0]["code"], "not_found");
    app.assert_unchanged(&snap, "a guardian of a family of another school");
    // Families with the other school's external ids are this school's own, new.
    let r = import(&app, "families", "", CSV, FAMILIES_CSV).await;
    assert_eq!(counts(&r.body), (2, 0, 0, 0), "{}", r.text);
    let theirs = app
        .get(
            "/v1/families",
            &app.mint(Role::Admin, OTHER_SCHOOL, "b", None, None),
        )
        .await;
    assert_eq!(theirs.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(theirs.body["data"][0]["version"], 1);
}

#[actix_web::test]
async fn malformed_csv_gives_row_errors_or_a_400_and_never_a_half_import() {
    let app = TestApp::new().await;
    let snap = app.snapshot();
    let row_errors: &[(&[u8], u64, &str)] = &[
        // Wrong column count.
        (
            b"external_id,display_name\nF1,One\nF2,Two,extra\n",
            3,
            "column_count",
        ),
        // An unbalanced quote swallows the following lines into its field.
        (
            b"external_id,display_name\nF1,\"One\nF2,Two\n",
            2,
            "unclosed_quote",
        ),
        (
            b"external_id,display_name\nF1,One\nF2,\"Two\nF3,Three",
            3,
            "unclosed_quote",
        ),
        // Latin-1 bytes.
        (b"external_id,display_name\nF1,Caf\xe9\n", 2, "encoding"),
    ];
    for (body, line, code) in row_errors {
        let t = integration(&app);
        let r = app
            .post_raw("/v1/imports/families", &t, CSV, body.to_vec(), &[])
            .await;
        let p = r.assert_problem(422);
        assert_eq!(p["errors"][0]["line"], *line, "{}", r.text);
        assert_eq!(p["errors"][0]["errors"][0]["code"], *code, "{}", r.text);
        app.assert_unchanged(&snap, "a malformed CSV");
    }
    let whole: &[&[u8]] = &[
        b"",
        b"external_id,display_name\n",
        b"external_id,display_name,favourite_colour\nF1,One,red\n",
        b"external_id\nF1\n",
        b"\xe9xternal_id,display_name\nF1,One\n",
    ];
    for body in whole {
        let t = integration(&app);
        let r = app
            .post_raw("/v1/imports/families", &t, CSV, body.to_vec(), &[])
            .await;
        r.assert_problem(400);
        app.assert_unchanged(&snap, "an unusable CSV");
    }
    // A byte order mark and CRLF line ends are taken.
    let t = integration(&app);
    let r = app
        .post_raw(
            "/v1/imports/families",
            &t,
            "text/csv; charset=utf-8",
            b"\xEF\xBB\xBFexternal_id,display_name\r\nF1,One\r\nF2,\"Two, the\"\r\n".to_vec(),
            &[],
        )
        .await;
    r.assert_status(200);
    assert_eq!(counts(&r.body), (2, 0, 0, 0), "{}", r.text);
    let names: Vec<Value> = families_of(&app)
        .await
        .iter()
        .map(|f| f["display_name"].clone())
        .collect();
    assert_eq!(names, [json!("One"), json!("Two, the")]);
}

#[actix_web::test]
async fn malformed_ndjson_gives_row_errors_or_a_400() {
    let app = TestApp::new().await;
    let snap = app.snapshot();
    let body = "{\"external_id\":\"F1\",\"display_name\":\"One\"}\n\
                \n\
                {\"external_id\":\"F2\",\"display_name\":\n\
                [1,2]\n\
                {\"display_name\":\"No id\"}\r\n";
    let r = import(&app, "families", "", NDJSON, body).await;
    let p = r.assert_problem(422);
    assert_eq!(counts(p), (1, 0, 0, 3));
    let lines: Vec<(u64, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["errors"][0]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (3, "invalid_json".to_string()),
            (4, "type".to_string()),
            (5, "required".to_string())
        ]
    );
    app.assert_unchanged(&snap, "malformed NDJSON");
    for empty in ["", "\n\n  \n"] {
        import(&app, "families", "", NDJSON, empty)
            .await
            .assert_problem(400);
    }
    app.assert_unchanged(&snap, "empty NDJSON");
}

#[actix_web::test]
async fn refusals_write_nothing() {
    let app = TestApp::with_import_limit(64).await;
    let snap = app.snapshot();
    let big = format!("external_id,display_name\n{}", "F1,One\n".repeat(20));
    import(&app, "families", "", CSV, &big)
        .await
        .assert_problem(413);
    import(&app, "families", "", "application/json", "{}")
        .await
        .assert_problem(415);
    import(&app, "families", "", "text/plain", "x")
        .await
        .assert_problem(415);
    import(&app, "families", "?mode=sometimes", CSV, FAMILIES_CSV)
        .await
        .assert_problem(400);
    let teacher = app.token(Role::Teacher);
    app.post_raw("/v1/imports/families", &teacher, CSV, FAMILIES_CSV, &[])
        .await
        .assert_problem(403);
    app.assert_unchanged(&snap, "refused imports");
}

#[actix_web::test]
async fn idempotency_key_replays_the_answer_and_refuses_another_file() {
    let app = TestApp::new().await;
    let t = integration(&app);
    let key = [("idempotency-key", "nightly-2026-12-01")];
    let first = app
        .post_raw("/v1/imports/families", &t, CSV, FAMILIES_CSV, &key)
        .await;
    first.assert_status(200);
    let snap = app.snapshot();
    let again = app
        .post_raw("/v1/imports/families", &t, CSV, FAMILIES_CSV, &key)
        .await;
    again.assert_status(200);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.body, first.body);
    let other = app
        .post_raw(
            "/v1/imports/families",
            &t,
            CSV,
            "external_id,display_name\nF7,Seven\n",
            &key,
        )
        .await;
    assert_eq!(
        other.assert_problem(422)["type"],
        "/problems/idempotency-key-reused"
    );
    app.assert_unchanged(&snap, "replayed and refused imports");
}

#[actix_web::test]
async fn report_lists_at_most_a_thousand_rows() {
    let app = TestApp::new().await;
    let mut body = String::from("external_id,display_name\n");
    for i in 0..1200 {
        body.push_str(&format!("F{i},\n"));
    }
    let r = import(&app, "families", "?mode=partial", CSV, &body).await;
    r.assert_status(200);
    assert_eq!(r.body["failed"], 1200);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 1000);
    assert_eq!(r.body["errors_truncated"], true);
}

const APPLICANTS_CSV: &str = "external_id,given_name,family_name,applying_for_grade,entry_term,guardian_name,guardian_email,guardian_sms_opt_in,source,stage,checklist\n\
    A1,Sofía,López,3,2027-fall,María López,maria@example.org,true,open_day,tour,tour_attended\n\
    A2,Tom,Reed,K,2027-fall,Ann Reed,,,website,,\n";

const APPLICANTS_NDJSON: &str = "{\"external_id\":\"A1\",\"given_name\":\"Sofía\",\"family_name\":\"López\",\"applying_for_grade\":\"3\",\"entry_term\":\"2027-fall\",\"guardian\":{\"name\":\"María López\",\"email\":\"maria@example.org\",\"sms_opt_in\":true},\"source\":\"open_day\",\"stage\":\"tour\",\"checklist\":{\"tour_attended\":true}}\n\
    {\"external_id\":\"A2\",\"given_name\":\"Tom\",\"family_name\":\"Reed\",\"applying_for_grade\":\"K\",\"entry_term\":\"2027-fall\",\"guardian\":{\"name\":\"Ann Reed\"},\"source\":\"website\"}\n";

async fn applicants_of(app: &TestApp) -> Vec<Value> {
    let r = app
        .get("/v1/admissions/applicants?limit=200", &app.admin())
        .await;
    r.assert_status(200);
    let mut all = r.body["data"].as_array().unwrap().clone();
    all.sort_by_key(|a| a["external_id"].as_str().unwrap_or_default().to_string());
    all
}

#[actix_web::test]
async fn applicants_import_into_the_pipeline_with_their_history_and_reimport_is_unchanged() {
    for (ct, body) in [(CSV, APPLICANTS_CSV), (NDJSON, APPLICANTS_NDJSON)] {
        let app = TestApp::new().await;
        let before = app.recorded();
        let r = import(&app, "applicants", "", ct, body).await;
        r.assert_status(200);
        assert_eq!(counts(&r.body), (2, 0, 0, 0), "{}", r.text);
        let all = applicants_of(&app).await;
        assert_eq!(all.len(), 2, "{all:?}");
        let (one, two) = (&all[0], &all[1]);
        assert_eq!(one["external_id"], "A1");
        assert_eq!(one["stage"], "tour");
        assert_eq!(one["source"], "open_day");
        assert_eq!(one["guardian"]["name"], "María López");
        assert_eq!(one["guardian"]["email"], "maria@example.org");
        assert_eq!(one["guardian"]["sms_opt_in"], true);
        let tour = one["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == "tour_attended")
            .unwrap();
        assert_eq!(tour["done"], true, "{tour}");
        assert!(tour["done_by"].is_string(), "{tour}");
        // No stage given: the pipeline's first open stage, as a create.
        assert_eq!(two["stage"], "inquiry");
        assert_eq!(two["guardian"]["sms_opt_in"], false);
        assert_eq!(two["applying_for_grade"], "K");
        // Each history begins where the applicant entered.
        for (a, stage) in [(one, "tour"), (two, "inquiry")] {
            let path = format!(
                "/v1/admissions/applicants/{}/history",
                a["id"].as_str().unwrap()
            );
            let h = app.get(&path, &app.admin()).await;
            h.assert_status(200);
            let stays = h.body["data"].as_array().unwrap();
            assert_eq!(stays.len(), 1, "{stays:?}");
            assert_eq!(stays[0]["stage"], stage, "{stays:?}");
        }
        // Audited and fed, one record each (the school's first use also made its pipeline).
        let rec = app.recorded().since(&before);
        let mine = |t: &str| rec.audit.iter().filter(|a| a.resource_type == t).count();
        assert_eq!(mine("applicants"), 2);
        assert_eq!(mine("admission_stages"), 10);
        assert_eq!(
            rec.changes
                .iter()
                .filter(|c| c.resource_type == "applicants")
                .count(),
            2
        );

        // The same file again: all unchanged, nothing written.
        let snap = app.snapshot();
        let r = import(&app, "applicants", "", ct, body).await;
        r.assert_status(200);
        assert_eq!(counts(&r.body), (0, 0, 2, 0), "{}", r.text);
        app.assert_unchanged(&snap, "an unchanged applicants re-import");

        // A changed field is an update; a row without a stage keeps the applicant's stage.
        let changed = "{\"external_id\":\"A1\",\"given_name\":\"Sofía\",\"family_name\":\"López\",\"applying_for_grade\":\"4\",\"entry_term\":\"2027-fall\",\"guardian\":{\"name\":\"María López\",\"email\":\"maria@example.org\",\"sms_opt_in\":true},\"source\":\"open_day\",\"checklist\":{\"tour_attended\":true}}\n";
        let r = import(&app, "applicants", "", NDJSON, changed).await;
        r.assert_status(200);
        assert_eq!(counts(&r.body), (0, 1, 0, 0), "{}", r.text);
        let one = &applicants_of(&app).await[0];
        assert_eq!(one["applying_for_grade"], "4");
        assert_eq!(one["stage"], "tour");
        assert_eq!(one["version"], 2);
    }
}

#[actix_web::test]
async fn an_applicants_import_does_not_move_applicants_nor_take_unknown_stages_or_items() {
    let app = TestApp::new().await;
    import(&app, "applicants", "", CSV, APPLICANTS_CSV)
        .await
        .assert_status(200);
    let snap = app.snapshot();
    let body = "external_id,given_name,family_name,guardian_name,guardian_email,stage,checklist\n\
                A1,Sofía,López,María López,maria@example.org,interview,\n\
                A3,Ana,Ruiz,Luz Ruiz,,enrolled,\n\
                A4,Eva,Ruiz,Luz Ruiz,,nowhere,\n\
                A5,Leo,Ruiz,Luz Ruiz,,,tour_attended no_such_item\n\
                A6,Ida,Ruiz,,luz@example.org,,\n\
                A7,Max,Ruiz,Luz Ruiz,,,\n";
    let r = import(&app, "applicants", "", CSV, body).await;
    let p = r.assert_problem(422);
    assert_eq!(p["type"], "/problems/import-failed");
    assert_eq!(counts(p), (1, 0, 0, 5), "{p}");
    let failures: Vec<(u64, String, String)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| {
            let line = row["line"].as_u64().unwrap();
            row["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |e| {
                    (
                        line,
                        e["field"].as_str().unwrap().to_string(),
                        e["code"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let expected = [
        (2, "stage", "immutable"),
        (3, "stage", "not_allowed"),
        (4, "stage", "not_found"),
        (5, "checklist.no_such_item", "not_found"),
        (6, "guardian_name", "required"),
    ];
    let expected: Vec<(u64, String, String)> = expected
        .iter()
        .map(|(l, f, c)| (*l, f.to_string(), c.to_string()))
        .collect();
    assert_eq!(failures, expected, "{p}");
    app.assert_unchanged(&snap, "an all-or-nothing applicants import with bad rows");

    // Partial: the good row only, with its history.
    let r = import(&app, "applicants", "?mode=partial", CSV, body).await;
    r.assert_status(200);
    assert_eq!(counts(&r.body), (1, 0, 0, 5), "{}", r.text);
    let all = applicants_of(&app).await;
    let ids: Vec<&str> = all
        .iter()
        .map(|a| a["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A1", "A2", "A7"]);
    assert_eq!(all[0]["stage"], "tour", "not moved by the import");

    // Another school's import makes its own applicants; the import needs its scope.
    let other = app.other_admin();
    let r = app
        .post_raw("/v1/imports/applicants", &other, CSV, APPLICANTS_CSV, &[])
        .await;
    r.assert_status(200);
    assert_eq!(
        counts(&r.body),
        (2, 0, 0, 0),
        "another school's import creates its own"
    );
    assert_eq!(applicants_of(&app).await.len(), 3);
    let staff = app.token(Role::Admissions);
    let snap = app.snapshot();
    app.post_raw("/v1/imports/applicants", &staff, CSV, APPLICANTS_CSV, &[])
        .await
        .assert_problem(403);
    app.assert_unchanged(&snap, "a refused applicants import");
}

#[actix_web::test]
async fn a_large_import_numbers_every_change_in_row_order() {
    // More rows than the write path holds change records in memory: the rest wait in a file
    // and take their numbers with the others, in the order the rows were written.
    let app = TestApp::new().await;
    let n = 5000;
    let mut body = String::from("external_id,display_name\n");
    for i in 0..n {
        body.push_str(&format!("F{i:05},Family {i}\n"));
    }
    let before = app.recorded();
    let r = import(&app, "families", "", CSV, &body).await;
    r.assert_status(200);
    assert_eq!(counts(&r.body), (n, 0, 0, 0), "{}", r.text);
    let rec = app.recorded().since(&before);
    assert_eq!(rec.audit.len() as u64, n);
    let mut changes = rec.changes.clone();
    changes.sort_by_key(|c| c.seq);
    assert_eq!(changes.len() as u64, n);
    let first = changes[0].seq;
    for (i, c) in changes.iter().enumerate() {
        assert_eq!(c.seq, first + i as i64, "sequence numbers without a gap");
        assert_eq!(c.external_id.as_deref(), Some(format!("F{i:05}").as_str()));
        assert_eq!((c.operation.as_str(), c.version), ("create", 1));
    }
    // The feed serves them all, in order, page after page.
    let t = integration(&app);
    let (mut since, mut fed) = (String::new(), Vec::new());
    loop {
        let page = app
            .get(&format!("/v1/changes?types=families&limit=200{since}"), &t)
            .await;
        page.assert_status(200);
        let data = page.body["data"].as_array().unwrap().clone();
        if data.is_empty() {
            break;
        }
        fed.extend(
            data.iter()
                .map(|c| c["external_id"].as_str().unwrap().to_string()),
        );
        since = format!("&since={}", page.body["next_cursor"].as_str().unwrap());
    }
    let expected: Vec<String> = (0..n).map(|i| format!("F{i:05}")).collect();
    assert_eq!(fed, expected);
}
