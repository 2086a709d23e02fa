//! Cases every events backend must pass, on the hand-computed fixtures in `tests/fixtures`.
// Test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::Subject;
use crate::StoreError;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sextant_core::{Event, EventInput, InputMode, Limits, ProjectId, parse_timestamp};
use sextant_query::{EventListQuery, PlanOptions, Query, TimeRange};
use std::path::PathBuf;
use std::sync::Arc;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn received_at() -> DateTime<Utc> {
    parse_timestamp("2026-11-20T00:00:00Z").unwrap()
}

/// Events for `project` from native JSON objects, as an import reads them.
fn events_from(project: &ProjectId, values: impl IntoIterator<Item = Value>) -> Vec<Event> {
    let limits = Limits::default();
    let input = EventInput {
        project_id: project,
        received_at: received_at(),
        limits: &limits,
        mode: InputMode::Import,
    };
    values.into_iter().map(|v| input.parse(v).unwrap()).collect()
}

/// The basic fixture events, for `project`.
pub fn fixture_events(project: &ProjectId) -> Vec<Event> {
    let text = std::fs::read_to_string(fixtures_dir().join("events/basic.ndjson")).unwrap();
    events_from(project, text.lines().map(|line| serde_json::from_str(line).unwrap()))
}

fn opts(project: &ProjectId, now: &str) -> PlanOptions {
    PlanOptions {
        project_id: project.clone(),
        now: parse_timestamp(now).unwrap(),
        max_buckets: 5000,
        rollups: true,
    }
}

async fn loaded(subject: &Subject, project: &str) -> ProjectId {
    let project = ProjectId::new(project);
    subject.store.append(fixture_events(&project)).await.unwrap();
    project
}

/// Every fixture in `tests/fixtures/{trends,funnels,retention,activity,sessions,paths}` answers
/// exactly as written down. A fixture brings its own `events` (in a project of its own) or uses
/// the basic events. All mismatches are reported together.
pub async fn query_fixtures(subject: &Subject) {
    let basic = loaded(subject, "prj_fixture").await;
    let mut failures = Vec::new();
    let mut count = 0;
    for dir in ["trends", "funnels", "retention", "activity", "sessions", "paths"] {
        let mut paths: Vec<_> = std::fs::read_dir(fixtures_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 5, "fixtures missing from {}/{dir}", fixtures_dir().display());
        for path in paths {
            count += 1;
            let fixture: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let project = match fixture["events"].as_array() {
                Some(events) => {
                    let stem = path.file_stem().unwrap().to_string_lossy();
                    let project = ProjectId::new(format!("prj_{dir}_{stem}"));
                    subject.store.append(events_from(&project, events.clone())).await.unwrap();
                    project
                }
                None => basic.clone(),
            };
            let query: Query = serde_json::from_value(fixture["query"].clone())
                .unwrap_or_else(|e| panic!("{}: bad query: {e}", path.display()));
            let got = match subject
                .store
                .query(&query, &opts(&project, fixture["now"].as_str().unwrap()))
                .await
            {
                Ok(result) => serde_json::to_value(result).unwrap(),
                Err(e) => Value::String(format!("error: {e}")),
            };
            if got != fixture["expected"] {
                failures.push(format!(
                    "{}\n  {}\n  expected: {}\n  got:      {}",
                    path.display(),
                    fixture["description"],
                    fixture["expected"],
                    got
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} fixtures differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Another project's events never appear in a project's answers.
pub async fn scoped_to_project(subject: &Subject) {
    let mine = loaded(subject, "prj_mine").await;
    let other = ProjectId::new("prj_other");
    let mut theirs = fixture_events(&other);
    theirs.extend(fixture_events(&other).into_iter().map(|mut e| {
        e.insert_id = format!("copy-{}", e.insert_id);
        e
    }));
    subject.store.append(theirs).await.unwrap();

    assert_eq!(subject.store.project_stats(&mine).await.unwrap().events, 16);
    assert_eq!(subject.store.project_stats(&other).await.unwrap().events, 32);
    let page = subject
        .store
        .list_events(
            &EventListQuery { limit: Some(1000), ..Default::default() },
            &opts(&mine, "2026-11-22T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(page.events.len(), 16);
    assert!(page.events.iter().all(|e| e.project_id == mine));
    let query: Query = serde_json::from_value(serde_json::json!({"kind": "trends", "series": [{}], "date_range": {"from": "2026-11-01", "to": "2026-11-04"}})).unwrap();
    let crate_result =
        subject.store.query(&query, &opts(&mine, "2026-11-22T00:00:00Z")).await.unwrap();
    let sextant_query::QueryResult::Trends(trends) = crate_result else { panic!("trends") };
    assert_eq!(trends.series[0].total, Some(sextant_query::Num(16.0)));
}

/// Pages are newest first, ordered by (timestamp, insert_id), and cover everything once.
pub async fn list_pages_newest_first(subject: &Subject) {
    let project = loaded(subject, "prj_pages").await;
    let opts = opts(&project, "2026-11-22T00:00:00Z");
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = subject
            .store
            .list_events(&EventListQuery { limit: Some(3), cursor, ..Default::default() }, &opts)
            .await
            .unwrap();
        assert!(page.events.len() <= 3);
        seen.extend(page.events.into_iter().map(|e| e.insert_id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let expected: Vec<String> = [
        "e16", "e15", "e14", "e13", "e12", "e11", "e10", "e09", "e08", "e07", "e06", "e05", "e04",
        "e03", "e02", "e01",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(seen, expected, "e10 and e09 share a timestamp and order by insert_id");

    let filtered = subject
        .store
        .list_events(
            &EventListQuery {
                event: Some("purchase".into()),
                from: Some("2026-11-02".into()),
                to: Some("2026-11-02".into()),
                ..Default::default()
            },
            &opts,
        )
        .await
        .unwrap();
    let ids: Vec<_> = filtered.events.iter().map(|e| e.insert_id.as_str()).collect();
    assert_eq!(ids, ["e09", "e08"]);
    assert_eq!(filtered.next_cursor, None);
}

/// Export returns exactly what was appended, field for field, oldest first.
pub async fn export_round_trips(subject: &Subject) {
    let project = loaded(subject, "prj_export").await;
    let exported = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&exported);
    subject
        .store
        .export(
            &project,
            None,
            Box::new(move |e| {
                sink.lock().unwrap().push(e);
                Ok(())
            }),
        )
        .await
        .unwrap();
    let exported = exported.lock().unwrap().clone();
    assert_eq!(exported, fixture_events(&project));

    let range = TimeRange {
        from: parse_timestamp("2026-11-03").unwrap(),
        to: parse_timestamp("2026-11-04").unwrap(),
    };
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    subject
        .store
        .export(
            &project,
            Some(range),
            Box::new(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }),
        )
        .await
        .unwrap();
    assert_eq!(count.load(std::sync::atomic::Ordering::Relaxed), 5, "e11..e15");

    let failing = subject
        .store
        .export(&project, None, Box::new(|_| Err(StoreError::Internal("sink full".into()))))
        .await;
    assert_eq!(
        failing.unwrap_err().to_string(),
        "storage error: sink full",
        "sink errors stop the export"
    );
}

/// Retention deletes a time range of one project only; stats follow.
pub async fn delete_range_and_stats(subject: &Subject) {
    let project = loaded(subject, "prj_retention").await;
    let bystander = loaded(subject, "prj_bystander").await;
    let stats = subject.store.project_stats(&project).await.unwrap();
    assert_eq!(stats.events, 16);
    assert_eq!(stats.oldest, parse_timestamp("2026-11-01T10:00:00Z"));
    assert_eq!(stats.newest, parse_timestamp("2026-11-04T00:00:00Z"));

    let day_one = TimeRange {
        from: parse_timestamp("2000-01-01").unwrap(),
        to: parse_timestamp("2026-11-02").unwrap(),
    };
    assert_eq!(subject.store.delete_range(&project, day_one).await.unwrap(), 5);
    let stats = subject.store.project_stats(&project).await.unwrap();
    assert_eq!(stats.events, 11);
    assert_eq!(stats.oldest, parse_timestamp("2026-11-02T00:00:00Z"));
    assert_eq!(subject.store.project_stats(&bystander).await.unwrap().events, 16);
    assert_eq!(subject.store.delete_range(&project, day_one).await.unwrap(), 0);

    // A range ending mid-hour: pre-aggregated rollups must still agree with the events.
    let mid_hour = TimeRange {
        from: parse_timestamp("2026-11-02T10:20:00Z").unwrap(),
        to: parse_timestamp("2026-11-03T09:40:00Z").unwrap(),
    };
    subject.store.delete_range(&project, mid_hour).await.unwrap();
    let query: Query = serde_json::from_value(serde_json::json!({"kind": "trends", "interval": "hour", "series": [{}, {"event": "purchase", "math": "sum", "property": "value"}], "date_range": {"from": "2026-11-01", "to": "2026-11-04"}})).unwrap();
    let answer = |rollups: bool| {
        let opts = PlanOptions { rollups, ..opts(&project, "2026-11-22T00:00:00Z") };
        let store = Arc::clone(&subject.store);
        let query = query.clone();
        async move { serde_json::to_value(store.query(&query, &opts).await.unwrap()).unwrap() }
    };
    let (rolled, raw) = (answer(true).await, answer(false).await);
    assert_eq!(rolled, raw, "rollups disagree with events after a delete");
    let remaining = subject.store.project_stats(&project).await.unwrap().events;
    assert_eq!(rolled["series"][0]["total"], remaining, "{rolled}");

    let empty = subject.store.project_stats(&ProjectId::new("prj_nothing")).await.unwrap();
    assert_eq!((empty.events, empty.oldest, empty.newest), (0, None, None));
}

/// Appends from many tasks while queries run: nothing lost, nothing doubled.
pub async fn concurrent_appends_and_queries(subject: &Subject) {
    let project = ProjectId::new("prj_busy");
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = Arc::clone(&subject.store);
        let project = project.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..10 {
                let events = fixture_events(&project)
                    .into_iter()
                    .map(|mut e| {
                        e.insert_id = format!("{writer}-{batch}-{}", e.insert_id);
                        e
                    })
                    .collect();
                store.append(events).await.unwrap();
            }
        }));
    }
    let store = Arc::clone(&subject.store);
    let reader_project = project.clone();
    let atomic = store.atomic_appends();
    let reader = tokio::spawn(async move {
        let mut last = 0;
        for _ in 0..20 {
            let n = store.project_stats(&reader_project).await.unwrap().events;
            assert!(n >= last, "counts only grow: {last} then {n}");
            if atomic {
                assert_eq!(n % 16, 0, "appends are atomic: saw {n}");
            }
            last = n;
        }
    });
    for task in tasks {
        task.await.unwrap();
    }
    reader.await.unwrap();
    assert_eq!(subject.store.project_stats(&project).await.unwrap().events, 8 * 10 * 16);
}

pub async fn empty_append_is_a_no_op(subject: &Subject) {
    subject.store.append(Vec::new()).await.unwrap();
    assert_eq!(subject.store.project_stats(&ProjectId::new("prj_x")).await.unwrap().events, 0);
    subject.store.ping().await.unwrap();
}

/// After `close`, work is refused with "unavailable" rather than hanging or crashing.
pub async fn closed_store_refuses_work(subject: &Subject) {
    let project = loaded(subject, "prj_closing").await;
    subject.store.close().await.unwrap();
    let err = subject.store.append(fixture_events(&project)).await.unwrap_err();
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");
    let err = subject.store.project_stats(&project).await.unwrap_err();
    assert_eq!(err.kind(), sextant_core::ErrorKind::Unavailable, "{err}");
}

/// Retried events count once: a repeated `(project_id, insert_id)` within the dedup window is
/// acknowledged and not stored, in a later batch or in the same one.
pub async fn duplicate_insert_ids_are_stored_once(subject: &Subject) {
    let project = ProjectId::new("prj_retries");
    let store = &subject.store;
    let first = store.append(fixture_events(&project)).await.unwrap();
    assert_eq!((first.stored, first.duplicates), (16, 0));
    let retry = store.append(fixture_events(&project)).await.unwrap();
    assert_eq!((retry.stored, retry.duplicates), (0, 16));

    let mut twice = fixture_events(&project)[..2].to_vec();
    for e in &mut twice {
        e.insert_id = "same-id-in-one-batch".into();
    }
    let batch = store.append(twice).await.unwrap();
    assert_eq!((batch.stored, batch.duplicates), (1, 1));

    // The same ids in another project are other events.
    let other = store.append(fixture_events(&ProjectId::new("prj_other"))).await.unwrap();
    assert_eq!(other.stored, 16);

    // Past the window, an id may be used again.
    let mut later = fixture_events(&project);
    for e in &mut later {
        e.received_at += chrono::Duration::days(8);
    }
    assert_eq!(store.append(later).await.unwrap().stored, 16);
    assert_eq!(store.project_stats(&project).await.unwrap().events, 16 + 1 + 16);
}

/// A visitor's anonymous events and their identified ones are one person: the device is linked
/// to the user when an event carries both ids, whichever comes first.
pub async fn identified_devices_count_as_one_person(subject: &Subject) {
    let project = ProjectId::new("prj_people");
    let events = events_from(
        &project,
        [
            serde_json::json!({"event": "page_view", "device_id": "d-anon", "timestamp": "2026-11-01T09:00:00Z", "insert_id": "p1"}),
            serde_json::json!({"event": "page_view", "device_id": "d-anon", "timestamp": "2026-11-01T09:05:00Z", "insert_id": "p2"}),
            serde_json::json!({"event": "signup", "user_id": "u-1", "device_id": "d-anon", "timestamp": "2026-11-01T09:10:00Z", "insert_id": "p3"}),
            serde_json::json!({"event": "page_view", "user_id": "u-1", "timestamp": "2026-11-01T10:00:00Z", "insert_id": "p4"}),
            serde_json::json!({"event": "page_view", "device_id": "d-other", "timestamp": "2026-11-01T11:00:00Z", "insert_id": "p5"}),
        ],
    );
    // Linked in a later append than the anonymous events, as in real traffic.
    subject.store.append(events[..2].to_vec()).await.unwrap();
    subject.store.append(events[2..].to_vec()).await.unwrap();
    let unique = |event: Option<&str>| {
        let mut series = serde_json::json!({"math": "unique_users"});
        if let Some(event) = event {
            series["event"] = event.into();
        }
        serde_json::from_value::<Query>(serde_json::json!({"kind": "trends", "series": [series], "interval": "day", "date_range": {"from": "2026-11-01", "to": "2026-11-02"}})).unwrap()
    };
    let opts = opts(&project, "2026-11-22T00:00:00Z");
    for (event, people) in [(Some("page_view"), 2), (None, 2), (Some("signup"), 1)] {
        let result = subject.store.query(&unique(event), &opts).await.unwrap();
        let total = serde_json::to_value(&result).unwrap()["series"][0]["total"].clone();
        assert_eq!(total, people, "unique users of {event:?}");
    }
}

/// Identify calls' person properties (`$set` last wins, `$set_once` first wins, `$unset`)
/// are queryable as `person.<key>`, for the person's anonymous events too.
pub async fn person_properties_filter_and_break_down(subject: &Subject) {
    let project = ProjectId::new("prj_persons");
    let event = |v: Value| events_from(&project, [v]).remove(0);
    let day = "2026-11-01T";
    subject.store.append(vec![
        event(serde_json::json!({"event": "page_view", "device_id": "d-1", "timestamp": format!("{day}08:00:00Z"), "insert_id": "q1"})),
        event(serde_json::json!({"event": "$identify", "user_id": "u-1", "device_id": "d-1", "timestamp": format!("{day}09:00:00Z"), "insert_id": "q2",
            "properties": {"$set": {"company": "Initech", "plan": "free"}, "$set_once": {"first_seen": "ad"}}})),
        event(serde_json::json!({"event": "page_view", "user_id": "u-2", "timestamp": format!("{day}09:30:00Z"), "insert_id": "q3",
            "properties": {"$set": {"company": "Globex", "temp": 1}}})),
    ]).await.unwrap();
    // A later batch: set wins over the earlier set, set_once does not overwrite, unset removes.
    subject.store.append(vec![
        event(serde_json::json!({"event": "page_view", "user_id": "u-1", "timestamp": format!("{day}10:00:00Z"), "insert_id": "q4",
            "properties": {"$set": {"plan": "pro"}, "$set_once": {"first_seen": "later"}}})),
        event(serde_json::json!({"event": "page_view", "user_id": "u-2", "timestamp": format!("{day}10:30:00Z"), "insert_id": "q5",
            "properties": {"$unset": ["temp"]}})),
    ]).await.unwrap();
    let run = |spec: Value| {
        let store = Arc::clone(&subject.store);
        let opts = opts(&project, "2026-11-22T00:00:00Z");
        async move {
            let query: Query = serde_json::from_value(spec).unwrap();
            serde_json::to_value(store.query(&query, &opts).await.unwrap()).unwrap()
        }
    };
    let range = serde_json::json!({"from": "2026-11-01", "to": "2026-11-01"});
    // u-1's two page views (one anonymous, before identify) count under person.plan = pro.
    let pro = run(serde_json::json!({"kind": "trends", "series": [{"event": "page_view"}], "interval": "day", "date_range": range,
        "filters": [{"property": "person.plan", "op": "eq", "value": "pro"}]})).await;
    assert_eq!(pro["series"][0]["total"], 2, "{pro}");
    let by_company = run(serde_json::json!({"kind": "trends", "series": [{"event": "page_view", "math": "unique_users"}], "interval": "day",
        "date_range": range, "breakdown": {"property": "person.company"}})).await;
    let mut totals: Vec<(String, u64)> = by_company["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["breakdown_value"].as_str().unwrap_or("∅").to_owned(), s["total"].as_u64().unwrap())
        })
        .collect();
    totals.sort();
    assert_eq!(totals, [("Globex".to_owned(), 1), ("Initech".to_owned(), 1)], "{by_company}");
    let kept_first = run(
        serde_json::json!({"kind": "trends", "series": [{}], "interval": "day", "date_range": range,
        "filters": [{"property": "person.first_seen", "op": "eq", "value": "ad"}]}),
    )
    .await;
    assert_eq!(
        kept_first["series"][0]["total"], 3,
        "u-1's events incl. the anonymous one: {kept_first}"
    );
    let unset = run(
        serde_json::json!({"kind": "trends", "series": [{}], "interval": "day", "date_range": range,
        "filters": [{"property": "person.temp", "op": "is_set"}]}),
    )
    .await;
    assert_eq!(unset["series"][0]["total"], 0, "{unset}");
}
