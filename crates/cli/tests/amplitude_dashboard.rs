//! An Amplitude Dashboard REST API client from PyPI against the real binary: `sextant serve`
//! gets a generated data set over the native API, `tests/sdk/amplitude_dashboard.py` queries it
//! through pyamplitude (installed by `tests/sdk/install.sh`: these tests fail, never skip, when
//! it is missing), and every number the client got is checked against the same measure
//! computed here from the events, in plain Rust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use support::{Sextant, sdk_dir};

const USERS: usize = 8;
const DAYS: usize = 4;
/// Amplitude's default session length bins, in seconds.
const BINS: [f64; 10] = [0.0, 3.0, 10.0, 30.0, 60.0, 180.0, 600.0, 1800.0, 3600.0, 86400.0];

/// User `u` is active on day `d` (of 4) unless `(u + d) % 3 == 0`: a view at 08:00 + `u`
/// minutes, in a session of its own. On their first day, even users also sign up (+5 min),
/// and users 0 and 4 then buy (+10 min, value 10 × (u + 1)). User 1 pings 2 minutes after each
/// view (same session); user 3 pings an hour later (a second session). Users 0-5 are in DE,
/// FR, US (u % 3), 6 and 7 have no country; even users are on plan pro; users 0-2 have the
/// person property tier = gold.
#[derive(Debug, Clone)]
struct Event {
    name: &'static str,
    user: usize,
    day: usize,
    at: DateTime<Utc>,
    session: String,
    value: Option<f64>,
}

/// The events of one session: its day and user, first and last event.
struct Session {
    day: usize,
    user: usize,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

fn active(user: usize, day: usize) -> bool {
    !(user + day).is_multiple_of(3)
}

fn country(user: usize) -> Option<&'static str> {
    (user < 6).then(|| ["DE", "FR", "US"][user % 3])
}

fn label(user: usize) -> String {
    country(user).unwrap_or("(none)").to_owned()
}

fn events(base: NaiveDate) -> Vec<Event> {
    let mut events = Vec::new();
    for user in 0..USERS {
        let first = (0..DAYS).find(|&d| active(user, d));
        for day in (0..DAYS).filter(|&d| active(user, d)) {
            let midnight =
                (base + Duration::days(day as i64)).and_hms_opt(0, 0, 0).unwrap().and_utc();
            let view = midnight + Duration::hours(8) + Duration::minutes(user as i64);
            let session = format!("s-{user}-{day}");
            let mut add = |name, minutes: i64, session: &str, value| {
                let at = view + Duration::minutes(minutes);
                events.push(Event { name, user, day, at, session: session.to_owned(), value });
            };
            add("view", 0, &session, None);
            if user == 1 {
                add("ping", 2, &session, None);
            }
            if first == Some(day) && user.is_multiple_of(2) {
                add("signup", 5, &session, None);
                if user.is_multiple_of(4) {
                    add("purchase", 10, &session, Some(10.0 * (user as f64 + 1.0)));
                }
            }
            if user == 3 {
                add("ping", 60, &format!("{session}-late"), None);
            }
        }
    }
    events
}

fn native(events: &[Event]) -> Value {
    let mut seen = BTreeSet::new();
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut properties = json!({"plan": if e.user.is_multiple_of(2) { "pro" } else { "free" }});
            if e.user < 3 && seen.insert(e.user) {
                properties["$set"] = json!({"tier": "gold"});
            }
            json!({"event": e.name, "user_id": format!("u{}", e.user), "timestamp": e.at.to_rfc3339(),
                   "session_id": e.session, "country": country(e.user), "value": e.value,
                   "properties": properties})
        })
        .collect();
    json!(list)
}

/// Per day: the distinct users of the events passing `keep`.
fn uniques(events: &[Event], keep: impl Fn(&Event) -> bool) -> Vec<f64> {
    (0..DAYS)
        .map(|d| {
            let users: BTreeSet<usize> =
                events.iter().filter(|e| e.day == d && keep(e)).map(|e| e.user).collect();
            users.len() as f64
        })
        .collect()
}

fn totals(events: &[Event], keep: impl Fn(&Event) -> bool) -> Vec<f64> {
    (0..DAYS).map(|d| events.iter().filter(|e| e.day == d && keep(e)).count() as f64).collect()
}

/// `keep`'s daily values for each group of users (by country label).
fn by_country(
    events: &[Event],
    measure: impl Fn(&[Event]) -> Vec<f64>,
) -> BTreeMap<String, Vec<f64>> {
    let labels: BTreeSet<String> = events.iter().map(|e| label(e.user)).collect();
    labels
        .into_iter()
        .map(|l| {
            let group: Vec<Event> = events.iter().filter(|e| label(e.user) == l).cloned().collect();
            (l, measure(&group))
        })
        .collect()
}

/// How far each user gets through view → signup → purchase (ordered, within 30 days).
fn funnel_depths(events: &[Event]) -> BTreeMap<usize, usize> {
    (0..USERS)
        .map(|user| {
            let mut at = None;
            let mut depth = 0;
            for step in ["view", "signup", "purchase"] {
                let next = events
                    .iter()
                    .filter(|e| e.user == user && e.name == step && at.is_none_or(|t| e.at >= t))
                    .map(|e| e.at)
                    .min();
                match next {
                    Some(t) => (at, depth) = (Some(t), depth + 1),
                    None => break,
                }
            }
            (user, depth)
        })
        .collect()
}

fn reached(depths: &BTreeMap<usize, usize>, users: impl Fn(usize) -> bool) -> Vec<f64> {
    (1..=3)
        .map(|step| depths.iter().filter(|(u, d)| users(**u) && **d >= step).count() as f64)
        .collect()
}

/// The numbers of a JSON array.
fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) {
    let same = actual.len() == expected.len()
        && actual.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-6);
    assert!(same, "{what}: the client got {actual:?}, expected {expected:?}");
}

/// Rows keyed by their labels (group values come as lists for segmentation, text elsewhere).
fn rows_by_label(data: &Value, labels: &str, rows: &str) -> BTreeMap<String, Vec<f64>> {
    let text = |l: &Value| match l {
        Value::Array(values) => values[0].as_str().unwrap().to_owned(),
        other => other.as_str().unwrap().to_owned(),
    };
    data[labels]
        .as_array()
        .unwrap()
        .iter()
        .zip(data[rows].as_array().unwrap())
        .map(|(l, r)| (text(l), numbers(r)))
        .collect()
}

fn assert_groups(
    what: &str,
    actual: &BTreeMap<String, Vec<f64>>,
    expected: &BTreeMap<String, Vec<f64>>,
) {
    let mut expected = expected.clone();
    expected.retain(|_, v| v.iter().any(|x| *x != 0.0));
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{what}: groups"
    );
    for (group, values) in actual {
        assert_close(&format!("{what} [{group}]"), values, &expected[group]);
    }
}

/// Runs the client script to completion; its own watchdog ends it after 60 s.
fn run_client(url: &str, write: &str, secret: &str, start: NaiveDate, end: NaiveDate) -> Value {
    let python = sdk_dir().join("py/bin/python");
    let probe = Command::new(&python)
        .args(["-c", "import pyamplitude"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "pyamplitude is not installed in {}: run `bash tests/sdk/install.sh` (scripts/test does). \
         This test never skips.",
        python.display()
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(&python)
        .arg(root.join("tests/sdk/amplitude_dashboard.py"))
        .env("SEXTANT_URL", url)
        .env("SEXTANT_KEY", write)
        .env("SEXTANT_SECRET", secret)
        .env("SEXTANT_START", start.format("%Y%m%d").to_string())
        .env("SEXTANT_END", end.format("%Y%m%d").to_string())
        .env("SEXTANT_TIMEOUT", "60")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stdout.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok());
    let line = line.unwrap_or_else(|| {
        panic!("no result line ({})\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status)
    });
    assert!(
        output.status.success() && line["ok"] == json!(true),
        "the client failed ({}): {}\nstderr:\n{stderr}",
        output.status,
        line["error"]
    );
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyamplitude_gets_the_right_numbers() {
    let s = Sextant::new();
    let (_, write, secret) = s.project("amplitude-api");
    let server = s.serve(&[]);
    // Four whole days, well in the past: every retention period has ended.
    let base = (Utc::now() - Duration::days(10)).date_naive();
    let end = base + Duration::days(DAYS as i64 - 1);
    let events = events(base);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/events", server.url))
        .bearer_auth(&write)
        .json(&native(&events))
        .send()
        .await
        .unwrap();
    let stored: Value = response.json().await.unwrap();
    assert_eq!(stored["accepted"], json!(events.len()), "{stored}");

    let (url, w, k) = (server.url.clone(), write.clone(), secret.clone());
    let line =
        tokio::task::spawn_blocking(move || run_client(&url, &w, &k, base, end)).await.unwrap();
    let r = &line["results"];
    let days: Vec<String> =
        (0..DAYS).map(|d| (base + Duration::days(d as i64)).to_string()).collect();
    let is = |name: &'static str| move |e: &Event| e.name == name;

    // Event segmentation.
    let views = uniques(&events, is("view"));
    assert_eq!(r["segmentation_uniques"]["xValues"], json!(days));
    assert_close("uniques", &numbers(&r["segmentation_uniques"]["series"][0]), &views);
    let viewers =
        events.iter().filter(|e| e.name == "view").map(|e| e.user).collect::<BTreeSet<_>>().len();
    assert_eq!(r["segmentation_uniques"]["seriesCollapsed"][0][0]["value"], json!(viewers));
    assert_close(
        "totals",
        &numbers(&r["segmentation_totals"]["series"][0]),
        &totals(&events, is("view")),
    );
    let actives = uniques(&events, |_| true);
    let per_user: Vec<f64> =
        totals(&events, |_| true).iter().zip(&actives).map(|(t, u)| t / u).collect();
    assert_close("average", &numbers(&r["segmentation_average"]["series"][0]), &per_user);
    let buyers = uniques(&events, is("purchase"));
    let pct: Vec<f64> = buyers.iter().zip(&actives).map(|(b, a)| b / a * 100.0).collect();
    assert_close("pct_dau", &numbers(&r["segmentation_pct_dau"]["series"][0]), &pct);
    let pro_views =
        by_country(&events, |g| totals(g, |e| e.name == "view" && e.user.is_multiple_of(2)));
    assert_groups(
        "pro views by country",
        &rows_by_label(&r["segmentation_pro_by_country"], "seriesLabels", "series"),
        &pro_views,
    );
    let two = &r["segmentation_two_events"]["series"];
    assert_close("two events: view", &numbers(&two[0]), &views);
    assert_close("two events: purchase", &numbers(&two[1]), &buyers);
    assert_close(
        "gold segment",
        &numbers(&r["segmentation_gold"]["series"][0]),
        &uniques(&events, |e| e.name == "view" && e.user < 3),
    );
    let mut weeks: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.name == "view") {
        let day = e.at.date_naive();
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        weeks.entry(monday.to_string()).or_default().insert(e.user);
    }
    let weekly = &r["segmentation_weekly"];
    assert_eq!(weekly["xValues"], json!(weeks.keys().collect::<Vec<_>>()));
    assert_close(
        "weekly",
        &numbers(&weekly["series"][0]),
        &weeks.values().map(|u| u.len() as f64).collect::<Vec<_>>(),
    );

    // Funnels.
    let depths = funnel_depths(&events);
    let counts = reached(&depths, |_| true);
    let funnel = &r["funnel"][0];
    assert_eq!(funnel["events"], json!(["view", "signup", "purchase"]));
    assert_close("funnel", &numbers(&funnel["cumulativeRaw"]), &counts);
    assert_close(
        "funnel cumulative",
        &numbers(&funnel["cumulative"]),
        &counts.iter().map(|c| c / counts[0]).collect::<Vec<_>>(),
    );
    assert_close(
        "funnel step by step",
        &numbers(&funnel["stepByStep"]),
        &[1.0, counts[1] / counts[0], counts[2] / counts[1]],
    );
    let by_country_funnel: BTreeMap<String, Vec<f64>> = r["funnel_by_country"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["groupValue"].as_str().unwrap().to_owned(), numbers(&g["cumulativeRaw"])))
        .collect();
    let expected: BTreeMap<String, Vec<f64>> = (0..USERS)
        .map(label)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|l| {
            let counts = reached(&depths, |u| label(u) == l);
            (l, counts)
        })
        .collect();
    assert_groups("funnel by country", &by_country_funnel, &expected);

    // Retention of new users (cohort: the day of their first event), back with any event.
    let first_day: BTreeMap<usize, usize> =
        (0..USERS).map(|u| (u, (0..DAYS).find(|&d| active(u, d)).unwrap())).collect();
    let back = |u: usize, day: usize| events.iter().any(|e| e.user == u && e.day == day);
    for (name, rolling) in [("retention", false), ("retention_rolling", true)] {
        let series = &r[name]["series"][0];
        let mut combined = vec![0.0; DAYS + 1];
        for cohort in 0..DAYS {
            let members: Vec<usize> =
                first_day.iter().filter(|(_, d)| **d == cohort).map(|(u, _)| *u).collect();
            if members.is_empty() {
                continue;
            }
            let expected: Vec<f64> = (0..=DAYS)
                .map(|n| {
                    let returned = |u: usize| {
                        if rolling && n > 0 {
                            (cohort + n..DAYS).any(|d| back(u, d))
                        } else {
                            back(u, cohort + n)
                        }
                    };
                    members.iter().filter(|u| returned(**u)).count() as f64
                })
                .collect();
            let cells = &series["values"][&days[cohort]];
            let got: Vec<f64> =
                cells.as_array().unwrap().iter().map(|c| c["count"].as_f64().unwrap()).collect();
            assert_close(&format!("{name} of the cohort of {}", days[cohort]), &got, &expected);
            assert!(
                cells
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["outof"] == json!(members.len()) && c["incomplete"] == json!(false))
            );
            combined.iter_mut().zip(&expected).for_each(|(c, e)| *c += e);
        }
        let got: Vec<f64> = series["combined"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_f64().unwrap())
            .collect();
        assert_close(&format!("{name}, combined"), &got, &combined);
    }

    // Active and new users.
    assert_close("active users", &numbers(&r["users_active"]["series"][0]), &actives);
    let new: Vec<f64> =
        (0..DAYS).map(|d| first_day.values().filter(|f| **f == d).count() as f64).collect();
    assert_close("new users", &numbers(&r["users_new"]["series"][0]), &new);
    assert_eq!(r["users_new"]["xValues"], json!(days));
    let active_by_country = by_country(&events, |g| uniques(g, |_| true));
    assert_groups(
        "active users by country",
        &rows_by_label(&r["users_by_country"], "seriesLabels", "series"),
        &active_by_country,
    );

    // Sessions: length = last event - first event.
    let mut sessions: BTreeMap<&str, Session> = BTreeMap::new();
    for e in &events {
        let s = sessions.entry(&e.session).or_insert(Session {
            day: e.day,
            user: e.user,
            first: e.at,
            last: e.at,
        });
        (s.first, s.last) = (s.first.min(e.at), s.last.max(e.at));
    }
    let lengths = |day: usize| -> Vec<f64> {
        sessions
            .values()
            .filter(|s| s.day == day)
            .map(|s| (s.last - s.first).num_seconds() as f64)
            .collect()
    };
    let average: Vec<f64> =
        (0..DAYS).map(|d| lengths(d).iter().sum::<f64>() / lengths(d).len() as f64).collect();
    assert_close("average session length", &numbers(&r["sessions_average"]["series"][0]), &average);
    let per_user: Vec<f64> = (0..DAYS)
        .map(|d| {
            let people: BTreeSet<usize> =
                sessions.values().filter(|s| s.day == d).map(|s| s.user).collect();
            lengths(d).len() as f64 / people.len() as f64
        })
        .collect();
    assert_close("sessions per user", &numbers(&r["sessions_per_user"]["series"][0]), &per_user);
    let all: Vec<f64> = (0..DAYS).flat_map(lengths).collect();
    let histogram: Vec<f64> = BINS
        .windows(2)
        .map(|w| all.iter().filter(|l| **l >= w[0] && **l < w[1]).count() as f64)
        .collect();
    assert_close("session lengths", &numbers(&r["sessions_length"]["series"][0]), &histogram);
    assert_eq!(r["sessions_length"]["xValues"][0], "0s-3s");

    // Errors reach the client as its own exceptions.
    let errors = &line["errors"];
    assert_eq!(
        (errors["histogram"]["type"].clone(), errors["histogram"]["status"].clone()),
        (json!("AmplitudeBadRequest"), json!(400)),
        "{errors}"
    );
    assert!(errors["histogram"]["message"].as_str().unwrap().contains("histogram"), "{errors}");
    assert_eq!(
        (errors["bad_secret"]["type"].clone(), errors["bad_secret"]["status"].clone()),
        (json!("AmplitudeAuthError"), json!(401)),
        "{errors}"
    );
    server.stop();
}
