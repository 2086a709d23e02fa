//! Amplitude's Dashboard REST API (`GET /api/2/...`) in-process, on a small data set whose
//! answers are worked out by hand in `load`: exact response shapes, credentials, and errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::{Method, StatusCode};
use base64::Engine;
use serde_json::{Value, json};
use sextant_store::{KeyKind, MetaStore, NewKey};
use support::{Reply, TestApp, test_app};

const DAYS: [&str; 3] = ["2026-03-02", "2026-03-03", "2026-03-04"];
const RANGE: [(&str, &str); 2] = [("start", "20260302"), ("end", "20260304")];

/// Three days, four users (u1 and u3 in DE, u2 in FR, u4 without a country), eight sessions:
///
/// | day   | user | session | events (time, extra)                                            |
/// |-------|------|---------|------------------------------------------------------------------|
/// | 03-02 | u1   | s1      | view 10:00 (plan pro), signup 10:01, purchase 10:05 (value 30)  |
/// | 03-02 | u1   | s8      | ping 18:00                                                       |
/// | 03-02 | u2   | s2      | view 11:00 (plan free), signup 11:10                             |
/// | 03-02 | u3   | s3      | view 12:00 (plan free)                                           |
/// | 03-03 | u1   | s4      | view 09:00 (plan pro)                                            |
/// | 03-03 | u2   | s5      | purchase 13:00 (value 20), view 13:00:30 (plan free)             |
/// | 03-03 | u4   | s6      | view 14:00 (plan pro)                                            |
/// | 03-04 | u3   | s7      | view 08:00 (plan free), signup 08:02, purchase 08:03 (value 50) |
///
/// u1 and u2 set the person property `tier` (gold, silver) on their first event.
async fn loaded() -> TestApp {
    let t = test_app().await;
    let country = |user: &str| match user {
        "u1" | "u3" => json!("DE"),
        "u2" => json!("FR"),
        _ => Value::Null,
    };
    let event =
        |name: &str, user: &str, at: &str, session: &str, properties: Value, value: Value| {
            json!({"event": name, "user_id": user, "timestamp": at, "session_id": session,
               "country": country(user), "properties": properties, "value": value})
        };
    let none = || json!({});
    let plan = |p: &str| json!({"plan": p});
    let events = vec![
        event(
            "view",
            "u1",
            "2026-03-02T10:00:00Z",
            "s1",
            json!({"plan": "pro", "$set": {"tier": "gold"}}),
            Value::Null,
        ),
        event("signup", "u1", "2026-03-02T10:01:00Z", "s1", none(), Value::Null),
        event("purchase", "u1", "2026-03-02T10:05:00Z", "s1", none(), json!(30)),
        event("ping", "u1", "2026-03-02T18:00:00Z", "s8", none(), Value::Null),
        event(
            "view",
            "u2",
            "2026-03-02T11:00:00Z",
            "s2",
            json!({"plan": "free", "$set": {"tier": "silver"}}),
            Value::Null,
        ),
        event("signup", "u2", "2026-03-02T11:10:00Z", "s2", none(), Value::Null),
        event("view", "u3", "2026-03-02T12:00:00Z", "s3", plan("free"), Value::Null),
        event("view", "u1", "2026-03-03T09:00:00Z", "s4", plan("pro"), Value::Null),
        event("purchase", "u2", "2026-03-03T13:00:00Z", "s5", none(), json!(20)),
        event("view", "u2", "2026-03-03T13:00:30Z", "s5", plan("free"), Value::Null),
        event("view", "u4", "2026-03-03T14:00:00Z", "s6", plan("pro"), Value::Null),
        event("view", "u3", "2026-03-04T08:00:00Z", "s7", plan("free"), Value::Null),
        event("signup", "u3", "2026-03-04T08:02:00Z", "s7", none(), Value::Null),
        event("purchase", "u3", "2026-03-04T08:03:00Z", "s7", none(), json!(50)),
    ];
    let reply = t.post("/api/v1/events", Some(&t.write_key), json!(events)).await;
    assert_eq!(reply.body, json!({"accepted": 14, "rejected": 0}));
    t
}

fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// `GET /api/2/<path>?<pairs + the test range>` with the project's write and secret keys.
async fn amplitude(t: &TestApp, path: &str, pairs: &[(&str, &str)]) -> Reply {
    let auth = basic(&t.write_key, &t.secret_key);
    get_as(t, path, pairs, &auth).await
}

async fn get_as(t: &TestApp, path: &str, pairs: &[(&str, &str)], auth: &str) -> Reply {
    let mut all = RANGE.to_vec();
    all.extend_from_slice(pairs);
    let uri = format!("/api/2/{path}?{}", query_string(&all));
    t.send_raw(Method::GET, &uri, &[("authorization", auth)], "").await
}

async fn ok(t: &TestApp, path: &str, pairs: &[(&str, &str)]) -> Value {
    let reply = amplitude(t, path, pairs).await;
    assert_eq!(reply.status, StatusCode::OK, "{path} {pairs:?}: {}", reply.body);
    reply.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_segmentation_metrics() {
    let t = loaded().await;
    let view = r#"{"event_type": "view"}"#;
    assert_eq!(
        ok(&t, "events/segmentation", &[("e", view)]).await,
        json!({"data": {
            "series": [[3, 3, 1]],
            "seriesLabels": [0],
            "seriesCollapsed": [[{"setId": "", "value": 4}]],
            "seriesMeta": [{"segmentIndex": 0, "eventIndex": 0}],
            "xValues": DAYS,
        }}),
        "uniques (the default): distinct viewers per day and over the range"
    );
    let data = |body: Value| body["data"].clone();
    let totals = data(ok(&t, "events/segmentation", &[("e", view), ("m", "totals")]).await);
    assert_eq!(
        (totals["series"].clone(), totals["seriesCollapsed"].clone()),
        (json!([[3, 3, 1]]), json!([[{"setId": "", "value": 7}]]))
    );
    // Events per user who did any: 7/3 (u1 has 4), 4/3, 3/1; over the range 14/4.
    let all = r#"{"event_type": "_all"}"#;
    let average = data(ok(&t, "events/segmentation", &[("e", all), ("m", "average")]).await);
    assert_eq!(average["series"], json!([[2.333333, 1.333333, 3]]));
    assert_eq!(average["seriesCollapsed"][0][0]["value"], json!(3.5));
    // Purchasers ÷ active users × 100.
    let purchase = r#"{"event_type": "purchase"}"#;
    let pct = data(ok(&t, "events/segmentation", &[("e", purchase), ("m", "pct_dau")]).await);
    assert_eq!(pct["series"], json!([[33.333333, 33.333333, 100]]));
    assert_eq!(pct["seriesCollapsed"][0][0]["value"], json!(75), "3 purchasers of 4 users");
    // Property metrics measure the first group_by.
    let revenue =
        r#"{"event_type": "purchase", "group_by": [{"type": "event", "value": "$revenue"}]}"#;
    let sums = data(ok(&t, "events/segmentation", &[("e", revenue), ("m", "sums")]).await);
    assert_eq!(
        (sums["series"].clone(), sums["seriesCollapsed"][0][0]["value"].clone()),
        (json!([[30, 20, 50]]), json!(100))
    );
    let avg = data(ok(&t, "events/segmentation", &[("e", revenue), ("m", "value_avg")]).await);
    assert_eq!(avg["seriesCollapsed"][0][0]["value"], json!(33.333333));
    // Two events, and a formula over them.
    let both = data(ok(&t, "events/segmentation", &[("e", view), ("e2", purchase)]).await);
    assert_eq!(both["series"], json!([[3, 3, 1], [1, 1, 1]]));
    assert_eq!(both["seriesLabels"], json!([0, 1]));
    assert_eq!(both["seriesMeta"][1], json!({"segmentIndex": 0, "eventIndex": 1}));
    let formula = [
        ("e", view),
        ("e2", purchase),
        ("m", "formula"),
        ("formula", "UNIQUES(B) / UNIQUES(A) * 100"),
    ];
    let conversion = data(ok(&t, "events/segmentation", &formula).await);
    assert_eq!(conversion["series"], json!([[33.333333, 33.333333, 100]]));
    assert_eq!(conversion["seriesCollapsed"][0][0]["value"], json!(75));
    // Weekly: one bucket, the ISO week of 2026-03-02.
    let weekly = data(ok(&t, "events/segmentation", &[("e", view), ("i", "7")]).await);
    assert_eq!(
        (weekly["series"].clone(), weekly["xValues"].clone()),
        (json!([[4]]), json!(["2026-03-02"]))
    );
    let hourly = data(ok(&t, "events/segmentation", &[("e", view), ("i", "-3600000")]).await);
    assert_eq!(hourly["xValues"][10], "2026-03-02T10:00:00");
    assert_eq!(hourly["series"][0].as_array().unwrap().len(), 72);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_segmentation_filters_groups_and_segments() {
    let t = loaded().await;
    let pro_views = r#"{"event_type": "view",
        "filters": [{"subprop_type": "event", "subprop_key": "plan", "subprop_op": "is", "subprop_value": ["pro"]}],
        "group_by": [{"type": "user", "value": "country"}]}"#;
    assert_eq!(
        ok(&t, "events/segmentation", &[("e", pro_views), ("m", "totals")]).await,
        json!({"data": {
            "series": [[1, 1, 0], [0, 1, 0]],
            "seriesLabels": [["DE"], ["(none)"]],
            "seriesCollapsed": [[{"setId": "", "value": 2}], [{"setId": "", "value": 1}]],
            "seriesMeta": [{"segmentIndex": 0, "eventIndex": 0}, {"segmentIndex": 0, "eventIndex": 0}],
            "xValues": DAYS,
        }})
    );
    // A segment on a custom user property (`gp:`): only u1 and u2 have a tier.
    let view = r#"{"event_type": "view"}"#;
    let tiered =
        [("e", view), ("s", r#"[{"prop": "gp:tier", "op": "is", "values": ["gold", "silver"]}]"#)];
    assert_eq!(ok(&t, "events/segmentation", &tiered).await["data"]["series"], json!([[2, 2, 0]]));
    let untiered =
        [("e", view), ("s", r#"[{"prop": "gp:tier", "op": "is", "values": ["(none)"]}]"#)];
    assert_eq!(
        ok(&t, "events/segmentation", &untiered).await["data"]["series"],
        json!([[1, 1, 1]])
    );
    // Group by `g` and a limit on the groups.
    let by_plan = [("e", view), ("g", "country"), ("limit", "1")];
    let body = ok(&t, "events/segmentation", &by_plan).await;
    assert_eq!(
        (body["data"]["seriesLabels"].clone(), body["data"]["series"].clone()),
        (json!([["DE"]]), json!([[2, 1, 1]]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnels_by_step_and_day() {
    let t = loaded().await;
    let steps = [
        ("e", r#"{"event_type": "view"}"#),
        ("e", r#"{"event_type": "signup"}"#),
        ("e", r#"{"event_type": "purchase"}"#),
    ];
    // u1, u2 (purchase the next day) and u3 (on 03-04, its attempt starts there) convert; u4
    // only views. Seconds between steps: 60, 600, 120 and 240, 93000, 60.
    assert_eq!(
        ok(&t, "funnels", &steps).await,
        json!({"data": [{
            "meta": {"segmentIndex": 0},
            "groupValue": null,
            "events": ["view", "signup", "purchase"],
            "cumulativeRaw": [4, 3, 3],
            "cumulative": [1, 0.75, 0.75],
            "stepByStep": [1, 0.75, 1],
            "medianTransTimes": [0, 120000, 240000],
            "avgTransTimes": [0, 260000, 31100000],
            "dayFunnels": {
                "series": [[2, 2, 2], [1, 0, 0], [1, 1, 1]],
                "xValues": DAYS,
                "formattedXValues": ["Mar 02", "Mar 03", "Mar 04"],
            },
        }]})
    );
    // A one-hour window loses u2; grouped by country, one entry per group, largest first (ties:
    // no value first, then by value).
    let mut grouped = steps.to_vec();
    grouped.extend_from_slice(&[("cs", "3600"), ("g", "country")]);
    let body = ok(&t, "funnels", &grouped).await;
    let groups: Vec<(Value, Value)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["groupValue"].clone(), g["cumulativeRaw"].clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (json!("DE"), json!([2, 2, 2])),
            (json!("(none)"), json!([1, 0, 0])),
            (json!("FR"), json!([1, 1, 0]))
        ]
    );
    assert!(body["data"][0].get("dayFunnels").is_none(), "no day funnels with groups");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_of_new_users() {
    let t = loaded().await;
    let new = [("se", r#"{"event_type": "_new"}"#), ("re", r#"{"event_type": "_all"}"#)];
    let cell =
        |count: u64, outof: u64| json!({"count": count, "outof": outof, "incomplete": false});
    // New on 03-02: u1, u2, u3 (u1 and u2 back on day 1, u3 on day 2); on 03-03: u4.
    assert_eq!(
        ok(&t, "retention", &new).await,
        json!({"data": {
            "series": [{
                "dates": ["2026-03-02", "2026-03-03"],
                "values": {
                    "2026-03-02": [cell(3, 3), cell(2, 3), cell(1, 3), cell(0, 3)],
                    "2026-03-03": [cell(1, 1), cell(0, 1), cell(0, 1), cell(0, 1)],
                },
                "combined": [cell(4, 4), cell(2, 4), cell(1, 4), cell(0, 4)],
            }],
            "seriesLabels": [0],
            "seriesMeta": [{"segmentIndex": 0, "eventIndex": 0}],
        }})
    );
    let mut rolling = new.to_vec();
    rolling.push(("rm", "rolling"));
    let body = ok(&t, "retention", &rolling).await;
    let counts =
        |v: &Value| v.as_array().unwrap().iter().map(|c| c["count"].clone()).collect::<Vec<_>>();
    assert_eq!(
        counts(&body["data"]["series"][0]["values"]["2026-03-02"]),
        [json!(3), json!(3), json!(1), json!(0)]
    );
    let mut brackets = new.to_vec();
    brackets.extend_from_slice(&[("rm", "bracket"), ("rb", "[[1,3],[3,4]]")]);
    let body = ok(&t, "retention", &brackets).await;
    assert_eq!(
        counts(&body["data"]["series"][0]["values"]["2026-03-02"]),
        [json!(3), json!(3), json!(0)]
    );
    // Started by a named event, grouped by a user property.
    let signups = [
        ("se", r#"{"event_type": "signup"}"#),
        ("re", r#"{"event_type": "view"}"#),
        ("g", "country"),
    ];
    let body = ok(&t, "retention", &signups).await;
    assert_eq!(body["data"]["seriesLabels"], json!(["DE", "FR"]));
    assert_eq!(
        counts(&body["data"]["series"][1]["values"]["2026-03-02"]),
        [json!(1), json!(1), json!(0), json!(0)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_and_new_users() {
    let t = loaded().await;
    let rows = |series: Value, labels: Value| {
        let meta: Vec<Value> =
            labels.as_array().unwrap().iter().map(|_| json!({"segmentIndex": 0})).collect();
        json!({"data": {"series": series, "seriesLabels": labels, "seriesMeta": meta, "xValues": DAYS}})
    };
    assert_eq!(ok(&t, "users", &[]).await, rows(json!([[3, 3, 1]]), json!([0])));
    assert_eq!(ok(&t, "users", &[("m", "new")]).await, rows(json!([[3, 1, 0]]), json!([0])));
    assert_eq!(
        ok(&t, "users", &[("m", "active"), ("i", "1"), ("g", "country")]).await,
        rows(json!([[2, 1, 1], [1, 1, 0], [0, 1, 0]]), json!(["DE", "FR", "(none)"]))
    );
    let weekly = ok(&t, "users", &[("i", "7")]).await;
    assert_eq!(
        (weekly["data"]["series"].clone(), weekly["data"]["xValues"].clone()),
        (json!([[4]]), json!(["2026-03-02"]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_average_per_user_and_length() {
    let t = loaded().await;
    let rows = |values: Value, x: Value| json!({"data": {"series": [values], "seriesLabels": [0], "seriesMeta": [{"segmentIndex": 0}], "xValues": x}});
    // Lengths: 03-02 300, 0, 600, 0 s; 03-03 0, 30, 0 s; 03-04 180 s.
    assert_eq!(ok(&t, "sessions/average", &[]).await, rows(json!([225, 10, 180]), json!(DAYS)));
    assert_eq!(ok(&t, "sessions/peruser", &[]).await, rows(json!([1.333333, 1, 1]), json!(DAYS)));
    let bins = [
        "0s-3s",
        "3s-10s",
        "10s-30s",
        "30s-60s",
        "60s-180s",
        "180s-600s",
        "600s-1800s",
        "1800s-3600s",
        "3600s-86400s",
    ];
    assert_eq!(
        ok(&t, "sessions/length", &[]).await,
        rows(json!([4, 0, 0, 1, 0, 2, 1, 0, 0]), json!(bins))
    );
    let custom = [
        ("timeHistogramConfigBinTimeUnit", "minutes"),
        ("timeHistogramConfigBinMin", "0"),
        ("timeHistogramConfigBinMax", "10"),
        ("timeHistogramConfigBinSize", "5"),
    ];
    // 600 s is past the last bin, [300, 600).
    assert_eq!(
        ok(&t, "sessions/length", &custom).await,
        rows(json!([6, 1]), json!(["0s-300s", "300s-600s"]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_a_write_key_and_a_secret_key_of_one_project() {
    let t = loaded().await;
    let org = t.meta.ensure_org("default").await.unwrap();
    let (other, other_write) = t.meta.create_project(&org.id, "other").await.unwrap();
    let new_key = NewKey {
        kind: KeyKind::Secret,
        project_id: Some(other.id.clone()),
        name: "o".into(),
        role: Some(sextant_core::Role::Viewer),
    };
    let other_secret = t.meta.create_key(new_key).await.unwrap().secret;
    let view = [("e", r#"{"event_type": "view"}"#)];
    let refused = [
        ("no credentials", "Bearer x".to_owned()),
        ("unknown api key", basic("sx_wk_nope", &t.secret_key)),
        ("unknown secret", basic(&t.write_key, "sx_sk_nope")),
        ("write key as the secret", basic(&t.write_key, &t.write_key)),
        ("admin key as the secret", basic(&t.write_key, &t.admin_key)),
        ("keys of two projects", basic(&t.write_key, &other_secret)),
        ("keys of two projects, reversed", basic(&other_write.secret, &t.secret_key)),
    ];
    for (case, auth) in refused {
        let reply = get_as(&t, "events/segmentation", &view, &auth).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{case}: {}", reply.body);
        assert_eq!(reply.body["code"], 401, "{case}");
        assert!(reply.body["error"].as_str().is_some_and(|m| !m.is_empty()), "{case}");
    }
    // The other project's own keys see none of this project's events.
    let theirs =
        get_as(&t, "events/segmentation", &view, &basic(&other_write.secret, &other_secret)).await;
    assert_eq!(theirs.status, StatusCode::OK, "{}", theirs.body);
    assert_eq!(theirs.body["data"]["series"], json!([[0, 0, 0]]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_a_400_naming_the_problem() {
    let t = loaded().await;
    let view = r#"{"event_type": "view"}"#;
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 12] = [
        ("events/segmentation", vec![], "`e` is required"),
        ("events/segmentation", vec![("e", "view")], "`e` must be a JSON event"),
        ("events/segmentation", vec![("e", view), ("m", "histogram")], "not supported"),
        ("events/segmentation", vec![("e", view), ("i", "-300000")], "real-time"),
        (
            "events/segmentation",
            vec![("e", view), ("rollingWindow", "7")],
            "`rollingWindow` is not supported",
        ),
        ("events/segmentation", vec![("e", view), ("colour", "red")], "unknown parameter `colour`"),
        (
            "events/segmentation",
            vec![(
                "e",
                r#"{"event_type": "view", "filters": [{"subprop_type": "event", "subprop_key": "tags", "subprop_op": "set is", "subprop_value": ["a"]}]}"#,
            )],
            "array properties",
        ),
        ("funnels", vec![("e", view)], "2 to 20 events"),
        ("funnels", vec![("e", view), ("e", view), ("n", "new")], "`n=new`"),
        (
            "retention",
            vec![("se", view), ("re", view), ("rm", "bracket"), ("rb", "[[0,5]]")],
            "period 1",
        ),
        ("users", vec![("m", "new"), ("g", "country")], "`g` is not supported with `m=new`"),
        (
            "sessions/length",
            vec![("timeHistogramConfigBinMin", "0")],
            "custom session length bins need",
        ),
    ];
    for (path, pairs, problem) in cases {
        let reply = amplitude(&t, path, &pairs).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path} {pairs:?}: {}", reply.body);
        assert_eq!(reply.body["code"], 400);
        let message = reply.body["error"].as_str().unwrap();
        assert!(message.contains(problem), "{path} {pairs:?}: {message}");
    }
    let backwards =
        get_as(&t, "users", &[("start", "20260305")], &basic(&t.write_key, &t.secret_key)).await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);
    assert!(backwards.body["error"].as_str().unwrap().contains("given more than once"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_periods_not_over_yet_are_incomplete() {
    let t = test_app().await;
    let now = chrono::Utc::now();
    let event = json!({"event": "open", "user_id": "u1", "timestamp": (now - chrono::Duration::seconds(5)).to_rfc3339()});
    let reply = t.post("/api/v1/events", Some(&t.write_key), json!([event])).await;
    assert_eq!(reply.body["accepted"], 1);
    let today = now.format("%Y%m%d").to_string();
    let pairs = [
        ("start", today.as_str()),
        ("end", today.as_str()),
        ("se", r#"{"event_type": "_new"}"#),
        ("re", r#"{"event_type": "_all"}"#),
    ];
    let uri = format!("/api/2/retention?{}", query_string(&pairs));
    let auth = basic(&t.write_key, &t.secret_key);
    let reply = t.send_raw(Method::GET, &uri, &[("authorization", auth.as_str())], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let day = now.format("%Y-%m-%d").to_string();
    assert_eq!(
        reply.body["data"]["series"][0]["values"][&day],
        json!([
            {"count": 1, "outof": 1, "incomplete": true},
            {"count": 0, "outof": 1, "incomplete": true},
        ]),
        "today has not ended, tomorrow has not started"
    );
}
