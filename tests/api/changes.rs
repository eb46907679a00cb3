//! `/v1/changes`: the change feed, in commit order, with a cursor always given; only the kinds
//! of record the caller may read; and under concurrent writers, a poller that reads every
//! committed change exactly once.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::Method;
use base64::Engine;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use futures_util::future::{join, join_all};
use liaison::auth::{Caller, Role};
use liaison::db::WriteContext;
use liaison::routes::families::store::FamilyRow;
use serde_json::{json, Value};

use crate::assert_nothing_written;
use crate::support::*;

const FEED: &str = "/v1/changes";

fn cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(seq.to_string())
}

fn seq_of(cursor: &str) -> i64 {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .unwrap();
    String::from_utf8(bytes).unwrap().parse().unwrap()
}

/// A page of the feed as `token` reads it: the changes, the next cursor; asserting that the
/// cursor is always there and the `Link` names it.
async fn read(app: &TestApp, path: &str, token: &str) -> (Vec<Value>, String) {
    let res = app.get(path, token).await;
    res.assert_status(200);
    let next = res.body["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no next_cursor: {}", res.text))
        .to_string();
    let link = res.header("link").expect("a Link on every page");
    assert!(link.contains(&format!("since={next}")), "{link}");
    assert!(link.ends_with("rel=\"next\""), "{link}");
    (res.body["data"].as_array().unwrap().clone(), next)
}

/// `(type, id, operation, version)` of each change.
fn summary(changes: &[Value]) -> Vec<(String, String, String, i64)> {
    changes
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
                c["operation"].as_str().unwrap().to_string(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn seqs(changes: &[Value]) -> Vec<i64> {
    changes.iter().map(|c| c["seq"].as_i64().unwrap()).collect()
}

/// Every change record of `school` in the database, in sequence order: what was committed.
fn committed(
    app: &TestApp,
    school: &str,
) -> Vec<(i64, String, String, Option<String>, String, i64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        seq: i64,
        #[diesel(sql_type = Text)]
        resource_type: String,
        #[diesel(sql_type = Text)]
        resource_id: String,
        #[diesel(sql_type = Nullable<Text>)]
        external_id: Option<String>,
        #[diesel(sql_type = Text)]
        operation: String,
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    diesel::sql_query(format!(
        "SELECT seq, resource_type, resource_id, external_id, operation, version FROM changes \
         WHERE school_id = '{school}' ORDER BY seq"
    ))
    .load::<Row>(&mut *app.conn())
    .unwrap()
    .into_iter()
    .map(|r| {
        (
            r.seq,
            r.resource_type,
            r.resource_id,
            r.external_id,
            r.operation,
            r.version,
        )
    })
    .collect()
}

/// A change record of a kind not on the write path yet (concerns), made as the write path
/// makes them: the next number of the school's counter, then the record. If the kind is on the
/// write path already (`recorded`), nothing is added.
fn record_change(app: &TestApp, kind: &str, id: &str) {
    if committed(app, SCHOOL).iter().any(|c| c.2 == id) {
        return;
    }
    let mut conn = app.conn();
    diesel::sql_query(format!(
        "UPDATE change_sequences SET last_seq = last_seq + 1 WHERE school_id = '{SCHOOL}'"
    ))
    .execute(&mut *conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO changes (school_id, seq, resource_type, resource_id, external_id, operation, \
         version, changed_at) SELECT school_id, last_seq, '{kind}', '{id}', NULL, 'create', 1, \
         '{}' FROM change_sequences WHERE school_id = '{SCHOOL}'",
        app.clock.now().format("%Y-%m-%d %H:%M:%S%.6f")
    ))
    .execute(&mut *conn)
    .unwrap();
}

#[actix_web::test]
async fn the_feed_serves_every_change_in_order_and_always_a_cursor() {
    let app = TestApp::new().await;
    let admin = app.admin();
    // Before any write: an empty page, and a cursor at the start.
    let (data, next) = read(&app, FEED, &admin).await;
    assert!(data.is_empty());
    assert_eq!(next, cursor(0));

    app.set_now(at("2026-12-01 08:00:00"));
    let fam = app
        .post(
            "/v1/families",
            &admin,
            json!({"display_name": "The Does", "external_id": "F-1"}),
        )
        .await
        .id();
    let g = app.guardian_in(&fam, "Ana").await;
    merge_patch(&app, &format!("/v1/families/{fam}"), json!({"notes": "x"}))
        .await
        .assert_status(200);
    app.set_now(at("2026-12-01 09:00:00"));
    app.delete(&format!("/v1/families/{fam}"), &admin)
        .await
        .assert_status(204);

    let (data, next) = read(&app, FEED, &admin).await;
    assert_eq!(seqs(&data), [1, 2, 3, 4, 5]);
    assert_eq!(next, cursor(5));
    let c = &data[0];
    assert_eq!(
        c,
        &json!({"seq": 1, "type": "families", "id": fam, "external_id": "F-1",
                "operation": "create", "version": 1, "changed_at": "2026-12-01T08:00:00Z"})
    );
    let f = |id: &str| id.to_string();
    assert_eq!(
        summary(&data[..3]),
        [
            (f("families"), f(&fam), f("create"), 1),
            (f("guardians"), f(&g), f("create"), 1),
            (f("families"), f(&fam), f("update"), 2),
        ]
    );
    // The archive: the family and its guardian, at the archive's time.
    let mut archived = summary(&data[3..]);
    archived.sort();
    assert_eq!(
        archived,
        [
            (f("families"), f(&fam), f("archive"), 3),
            (f("guardians"), f(&g), f("archive"), 2),
        ]
    );
    assert_eq!(time(&data[4]["changed_at"]), at("2026-12-01 09:00:00"));

    // Read on from the cursor: nothing new, and the same cursor again (no step backwards, no
    // step past what is not there yet).
    for synonym in ["since", "cursor"] {
        let (data, again) = read(&app, &format!("{FEED}?{synonym}={next}"), &admin).await;
        assert!(data.is_empty());
        assert_eq!(again, next);
    }
    // A new change follows on from it.
    app.family("The Roes").await;
    let (data, next) = read(&app, &format!("{FEED}?since={next}"), &admin).await;
    assert_eq!(seqs(&data), [6]);
    assert_eq!(next, cursor(6));
}

#[actix_web::test]
async fn a_poller_walks_page_by_page_and_misses_and_repeats_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let mut since = cursor(0);
    let mut read_so_far = Vec::new();
    for round in 0..4 {
        for i in 0..3 {
            let fam = app.family(&format!("Family {round}-{i}")).await;
            app.guardian_in(&fam, "Ana").await;
        }
        // Pages of 4 over 6 new changes: full, then short.
        loop {
            let path = format!("{FEED}?since={since}&limit=4");
            let (data, next) = read(&app, &path, &admin).await;
            assert!(seq_of(&next) >= seq_of(&since));
            read_so_far.extend(data.iter().cloned());
            since = next;
            if data.len() < 4 {
                break;
            }
        }
    }
    assert_eq!(seqs(&read_so_far), (1..=24).collect::<Vec<i64>>());
    // The Link carries the other parameters on.
    let res = app
        .get(&format!("{FEED}?types=families&limit=2"), &admin)
        .await;
    let link = res.header("link").unwrap();
    assert!(link.starts_with("</v1/changes?"), "{link}");
    assert!(
        link.contains("types=families") && link.contains("limit=2"),
        "{link}"
    );
    let (data, next) = read(&app, &format!("{FEED}?cursor={}", cursor(20)), &admin).await;
    assert_eq!(seqs(&data), [21, 22, 23, 24]);
    assert_eq!(next, cursor(24));
}

#[actix_web::test]
async fn only_the_kinds_the_caller_may_read_are_served() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let sis = app.token(Role::Integration);
    let fam = app.family("The Does").await;
    let concern = app
        .post(
            "/v1/concerns",
            &admin,
            json!({"family_id": fam, "category": "academic", "title": "Homework"}),
        )
        .await
        .id();
    record_change(&app, "concerns", &concern);
    let g = app.guardian_in(&fam, "Ana").await;
    let all = read(&app, FEED, &admin).await.0;
    let mark = all.last().unwrap()["seq"].as_i64().unwrap();
    assert!(all.iter().any(|c| c["type"] == json!("concerns")));

    // The SIS reads families, guardians, students, links and communications: not concerns.
    let (data, next) = read(&app, FEED, &sis).await;
    assert!(
        data.iter().all(|c| c["type"] != json!("concerns")),
        "{data:?}"
    );
    assert_eq!(data.len(), all.len() - 1);
    assert_eq!(seq_of(&next), mark);
    // Asked for one kind: only that kind, and the cursor moves past the others for good.
    let (data, next) = read(&app, &format!("{FEED}?types=guardians"), &sis).await;
    assert_eq!(
        summary(&data),
        [("guardians".into(), g.clone(), "create".into(), 1)]
    );
    assert_eq!(seq_of(&next), mark);
    let (data, _) = read(
        &app,
        &format!("{FEED}?types=families,guardians,links"),
        &sis,
    )
    .await;
    assert_eq!(data.len(), all.len() - 1);
    // A full page of one kind stops at its last change.
    let (data, next) = read(&app, &format!("{FEED}?types=families&limit=1"), &sis).await;
    assert_eq!(data.len(), 1);
    assert_eq!(next, cursor(data[0]["seq"].as_i64().unwrap()));

    // Asking for a kind the caller may not read is a 403 naming the scope it needs.
    for types in [
        "concerns",
        "families,concerns",
        "concern_comments",
        "settings",
    ] {
        let res = refused(
            &app,
            Method::GET,
            &format!("{FEED}?types={types}"),
            &sis,
            None,
            403,
        )
        .await;
        assert!(res.body["detail"]
            .as_str()
            .unwrap()
            .contains("concerns:read"));
    }
    // A narrowed token reads less: without `families:read`, no household changes.
    let comms_only = app.mint(
        Role::Integration,
        SCHOOL,
        "sis",
        None,
        Some("changes:read communications:read"),
    );
    let (data, next) = read(&app, FEED, &comms_only).await;
    assert!(data.is_empty(), "{data:?}");
    assert_eq!(seq_of(&next), mark);
    let res = refused(
        &app,
        Method::GET,
        &format!("{FEED}?types=families"),
        &comms_only,
        None,
        403,
    )
    .await;
    assert!(res.body["detail"]
        .as_str()
        .unwrap()
        .contains("families:read"));
    // An unknown kind is a 400 listing the known ones.
    for types in [
        "family",
        "families,",
        "",
        "families%2C%20guardians",
        "FAMILIES",
    ] {
        let res = refused(
            &app,
            Method::GET,
            &format!("{FEED}?types={types}"),
            &admin,
            None,
            400,
        )
        .await;
        assert_eq!(res.error_fields(), ["types"], "{}", res.text);
        assert!(res.text.contains("concern_comments"), "{}", res.text);
    }
}

#[actix_web::test]
async fn who_may_follow_the_feed() {
    let app = TestApp::new().await;
    app.family("The Does").await;
    let res = assert_nothing_written!(app, app.call(Method::GET, FEED, None, None, &[]).await);
    res.assert_problem(401);
    refused(&app, Method::GET, FEED, "x.y.z", None, 401).await;
    for role in [Role::Pre, Role::Teacher, Role::Counselor, Role::Admissions] {
        let res = refused(&app, Method::GET, FEED, &app.token(role), None, 403).await;
        assert!(res.body["detail"]
            .as_str()
            .unwrap()
            .contains("changes:read"));
    }
    let (_, g, _) = app.household().await;
    refused(&app, Method::GET, FEED, &app.guardian(&g), None, 403).await;
    let narrowed = app.mint(
        Role::Integration,
        SCHOOL,
        "sis",
        None,
        Some("families:read"),
    );
    refused(&app, Method::GET, FEED, &narrowed, None, 403).await;
    // The admin and the SIS may; another school sees none of this school's changes, and this
    // school's cursors are not theirs.
    assert_eq!(read(&app, FEED, &app.admin()).await.0.len(), 4);
    assert_eq!(
        read(&app, FEED, &app.token(Role::Integration))
            .await
            .0
            .len(),
        4
    );
    let (theirs, next) = read(&app, FEED, &app.other_admin()).await;
    assert!(theirs.is_empty());
    assert_eq!(next, cursor(0));
    refused(
        &app,
        Method::GET,
        &format!("{FEED}?since={}", cursor(2)),
        &app.other_admin(),
        None,
        400,
    )
    .await;
    for method in [Method::POST, Method::PATCH, Method::DELETE] {
        refused(&app, method, FEED, &app.admin(), Some(json!({})), 405).await;
    }
}

#[actix_web::test]
async fn a_malformed_read_is_a_400() {
    let app = TestApp::new().await;
    app.family("The Does").await;
    let admin = app.admin();
    for (query, field) in [
        ("since=MA==", "since"),
        ("since=LTE", "since"),
        ("since=YWJj", "since"),
        ("since=%20", "since"),
        ("cursor=YWJj", "cursor"),
        (&*format!("since={}", cursor(2)), "since"),
        (
            &*format!("since={}&cursor={}", cursor(0), cursor(1)),
            "cursor",
        ),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("type=families", "type"),
    ] {
        let res = refused(
            &app,
            Method::GET,
            &format!("{FEED}?{query}"),
            &admin,
            None,
            400,
        )
        .await;
        assert_eq!(res.error_fields(), [field], "{query}: {}", res.text);
    }
    // The same cursor twice is fine.
    let (data, _) = read(
        &app,
        &format!("{FEED}?since={c}&cursor={c}", c = cursor(0)),
        &admin,
    )
    .await;
    assert_eq!(data.len(), 1);
}

fn family_input(name: &str) -> liaison::routes::families::FamilyInput {
    serde_json::from_value(json!({ "display_name": name })).unwrap()
}

/// Several writers create and change families at once while one poller follows the feed; one
/// more write holds its transaction open (its family inserted, not yet committed) while the
/// poller reads on. In the end the poller has read every committed change exactly once, in
/// order, the held write's included — though it was still open when earlier pages were read.
#[actix_web::test]
async fn concurrent_writers_and_one_poller_agree_on_every_change() {
    const WRITERS: usize = 6;
    const EACH: usize = 4;
    const LIMIT: usize = 5;
    let app = TestApp::new().await;
    let admin = app.admin();
    let pages_read = Arc::new(AtomicUsize::new(0));
    let held_open = Arc::new(AtomicBool::new(false));
    let finished = Cell::new(false);

    let writer = |w: usize| {
        let (app, admin) = (&app, admin.clone());
        async move {
            for i in 0..EACH {
                let res = app
                    .post(
                        "/v1/families",
                        &admin,
                        json!({"display_name": format!("W{w} {i}"), "external_id": format!("W{w}-{i}")}),
                    )
                    .await;
                res.assert_status(201);
                merge_patch(
                    app,
                    &format!("/v1/families/{}", res.id()),
                    json!({"notes": "seen"}),
                )
                .await
                .assert_status(200);
            }
        }
    };
    // Inside its transaction the held write waits until the poller has read two more pages.
    let held = {
        let (pages, open) = (pages_read.clone(), held_open.clone());
        let ctx = WriteContext {
            caller: Caller {
                sub: "admin-1".into(),
                role: Role::Admin,
                school_id: SCHOOL.into(),
                scopes: Role::Admin.scopes(),
                guardian_id: None,
                request_id: None,
                purpose: None,
            },
            now: app.clock.now(),
        };
        app.db.write(ctx, move |tx| {
            let row = FamilyRow::new(SCHOOL, family_input("Held"), tx.now());
            tx.create(&row)?;
            // Open first, then count: the second page counted after this began after it.
            open.store(true, Ordering::SeqCst);
            let start = pages.load(Ordering::SeqCst);
            let deadline = Instant::now() + Duration::from_secs(30);
            while pages.load(Ordering::SeqCst) < start + 2 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            open.store(false, Ordering::SeqCst);
            Ok(row.id.to_string())
        })
    };
    let writes = async {
        let (_, held) = join(join_all((0..WRITERS).map(writer)), held).await;
        finished.set(true);
        held.unwrap()
    };
    let poller = async {
        let mut since = cursor(0);
        let mut seen = Vec::new();
        // The feed's position when a page was read while the held write was open.
        let mut passed_while_open = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(Instant::now() < deadline, "the writers never finished");
            let done = finished.get();
            let open_before = held_open.load(Ordering::SeqCst);
            let (data, next) =
                read(&app, &format!("{FEED}?since={since}&limit={LIMIT}"), &admin).await;
            // Open before and after: the whole read happened while the write was open (it
            // closes only once this page is counted, below).
            if open_before && held_open.load(Ordering::SeqCst) {
                passed_while_open.push(seq_of(&next));
            }
            pages_read.fetch_add(1, Ordering::SeqCst);
            let short = data.len() < LIMIT;
            seen.extend(data);
            since = next;
            if done && short {
                return (seen, passed_while_open);
            }
            if short {
                actix_web::rt::time::sleep(Duration::from_millis(1)).await;
            }
        }
    };
    let (held_id, (seen, passed_while_open)) = join(writes, poller).await;

    let all = committed(&app, SCHOOL);
    assert_eq!(all.len(), WRITERS * EACH * 2 + 1);
    // No gaps: the numbers are exactly 1..=N.
    assert_eq!(
        all.iter().map(|c| c.0).collect::<Vec<_>>(),
        (1..=all.len() as i64).collect::<Vec<_>>()
    );
    // The poller read exactly what was committed, each once, in order.
    let got: Vec<(i64, String, String, Option<String>, String, i64)> = seen
        .iter()
        .map(|c| {
            (
                c["seq"].as_i64().unwrap(),
                c["type"].as_str().unwrap().to_string(),
                c["id"].as_str().unwrap().to_string(),
                c["external_id"].as_str().map(str::to_string),
                c["operation"].as_str().unwrap().to_string(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, all);
    // The held write was read, after every position the poller had passed while it was open.
    assert!(
        !passed_while_open.is_empty(),
        "no page was read while the write was held"
    );
    let held_seq = all.iter().find(|c| c.2 == held_id).unwrap().0;
    assert!(
        passed_while_open.iter().all(|p| *p < held_seq),
        "{passed_while_open:?} vs {held_seq}"
    );
    // Each writer's family: created at version 1, then changed to version 2, in that order.
    for w in 0..WRITERS {
        for i in 0..EACH {
            let ext = format!("W{w}-{i}");
            let mine: Vec<_> = all
                .iter()
                .filter(|c| c.3.as_deref() == Some(&ext))
                .map(|c| (c.4.as_str(), c.5))
                .collect();
            assert_eq!(mine, [("create", 1), ("update", 2)], "{ext}");
        }
    }
}
