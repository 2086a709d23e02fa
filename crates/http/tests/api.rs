//! The HTTP API driven in-process with `tower::ServiceExt::oneshot`, on the real stores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use sextant_store::{KeyKind, MetaStore, NewKey};
use support::{event, recent, test_app, test_app_with};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_then_query_exact_counts() {
    let t = test_app().await;
    let batch: Vec<Value> = (0..30)
        .map(|i| {
            event(
                if i % 3 == 0 { "signup" } else { "page_view" },
                &format!("u{}", i % 7),
                &recent(i % 2),
            )
        })
        .collect();
    let reply = t.post("/api/v1/events", Some(&t.write_key), json!(batch)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, json!({"accepted": 30, "rejected": 0}));

    let query = json!({"kind": "trends", "series": [{"event": "page_view"}, {"event": "page_view", "math": "unique_users"}], "interval": "day", "date_range": {"from": "-3d"}});
    let reply = t.post("/api/v1/query", Some(&t.secret_key), query).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.headers.get("server-timing").is_some());
    let series = reply.body["series"].as_array().unwrap();
    assert_eq!(series[0]["total"], 20, "30 events, every third a signup");
    let users: std::collections::HashSet<_> =
        (0..30).filter(|i| i % 3 != 0).map(|i| i % 7).collect();
    assert_eq!(series[1]["total"], users.len());
    assert_eq!(
        series[0]["values"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_key_in_body_and_gzip_bodies_work() {
    let t = test_app().await;
    let body =
        json!({"write_key": t.write_key, "events": [event("a", "u1", &recent(0))]}).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, body.as_bytes()).unwrap();
    let request = Request::post("/api/v1/events")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gz.finish().unwrap()))
        .unwrap();
    let response = t.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let single = t.post("/api/v1/events", Some(&t.write_key), event("b", "u1", &recent(0))).await;
    assert_eq!(single.body["accepted"], 1);
    let page = t.get("/api/v1/events?limit=10", Some(&t.secret_key)).await;
    let names: Vec<_> = page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_event_among_999_good_ones() {
    let t = test_app().await;
    let mut batch: Vec<Value> =
        (0..1000).map(|i| event("page_view", &format!("u{i}"), &recent(1))).collect();
    batch[613] = json!({"event": "page_view", "timestamp": "not a time", "country": "Germany"});
    let reply = t.post("/api/v1/events", Some(&t.write_key), json!(batch)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["accepted"], 999);
    assert_eq!(reply.body["rejected"], 1);
    let errors = &reply.body["errors"][0];
    assert_eq!(errors["index"], 613);
    let fields: Vec<_> =
        errors["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["timestamp", "country"]);
    let stats = t.get("/api/v1/stats", Some(&t.secret_key)).await;
    assert_eq!(stats.body["events"], 999);

    let all_bad =
        t.post("/api/v1/events", Some(&t.write_key), json!([{"nope": 1}, {"event": ""}])).await;
    assert_eq!(all_bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(all_bad.body["error"]["code"], "invalid_events");
    assert_eq!(all_bad.body["rejected"], 2);
    assert_eq!(
        t.get("/api/v1/stats", Some(&t.secret_key)).await.body["events"],
        999,
        "nothing stored from a rejected batch"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_specific_json_errors() {
    let t = test_app().await;
    let cases = [
        (t.post("/api/v1/events", Some(&t.write_key), json!([])).await, StatusCode::BAD_REQUEST, "invalid_input"),
        (t.send(Method::POST, "/api/v1/events", Some(&t.write_key), Some(Body::from("{oops"))).await, StatusCode::BAD_REQUEST, "invalid_input"),
        (t.post("/api/v1/events", Some(&t.write_key), json!(vec![json!({"event": "x"}); 2001])).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (t.send(Method::POST, "/api/v1/events", Some(&t.write_key), Some(Body::from(vec![b' '; 2 << 20]))).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (t.post("/api/v1/query", Some(&t.secret_key), json!({"kind": "trends"})).await, StatusCode::BAD_REQUEST, "invalid_query"),
        (t.post("/api/v1/query", Some(&t.secret_key), json!({"kind": "trends", "series": [{}], "interval": "minute", "date_range": {"from": "-30d"}})).await, StatusCode::BAD_REQUEST, "invalid_query"),
        (t.get("/api/v1/events?limit=0", Some(&t.secret_key)).await, StatusCode::BAD_REQUEST, "invalid_query"),
        (t.get("/api/v1/events?colour=red", Some(&t.secret_key)).await, StatusCode::BAD_REQUEST, "invalid_parameters"),
        (t.get("/api/v1/nothing-here", None).await, StatusCode::NOT_FOUND, "not_found"),
    ];
    for (i, (reply, status, code)) in cases.into_iter().enumerate() {
        assert_eq!(reply.status, status, "case {i}: {}", reply.body);
        assert_eq!(reply.body["error"]["code"], code, "case {i}: {}", reply.body);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "case {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_is_authenticated_and_scoped() {
    let t = test_app().await;
    let org = t.meta.ensure_org("default").await.unwrap();
    let (other, other_write) = t.meta.create_project(&org.id, "other").await.unwrap();
    let other_secret = t
        .meta
        .create_key(NewKey {
            kind: KeyKind::Secret,
            project_id: Some(other.id.clone()),
            name: "o".into(),
            role: Some(sextant_core::Role::Viewer),
        })
        .await
        .unwrap();
    t.post("/api/v1/events", Some(&t.write_key), json!([event("mine", "u1", &recent(0))])).await;
    t.post(
        "/api/v1/events",
        Some(&other_write.secret),
        json!([event("theirs", "u2", &recent(0)), event("theirs", "u3", &recent(0))]),
    )
    .await;

    let mine = t.get("/api/v1/events", Some(&t.secret_key)).await;
    assert_eq!(mine.body["events"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["events"][0]["project_id"], t.project.as_str());
    assert_eq!(t.get("/api/v1/stats", Some(&other_secret.secret)).await.body["events"], 2);

    let unauthenticated = [
        t.get("/api/v1/events", None).await,
        t.get("/api/v1/events", Some("sx_sk_not_a_real_key")).await,
        t.post("/api/v1/events", None, json!([event("x", "u", &recent(0))])).await,
        // A bad header key is refused before the body is even parsed.
        t.send(Method::POST, "/api/v1/events", Some("sx_wk_bogus"), Some(Body::from("{oops")))
            .await,
        t.get("/metrics", None).await,
        t.get("/api/v1/projects", None).await,
    ];
    for reply in unauthenticated {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(reply.body["error"]["code"], "unauthenticated");
    }
    let trends =
        json!({"kind": "trends", "series": [{"event": "mine"}], "date_range": {"from": "-1d"}});
    let forbidden = [
        t.get("/api/v1/events", Some(&t.write_key)).await,
        t.post("/api/v1/query", Some(&t.write_key), trends.clone()).await,
        t.post("/api/v1/events", Some(&t.admin_key), json!([event("x", "u", &recent(0))])).await,
        t.get("/metrics", Some(&t.secret_key)).await,
        // A viewer token runs queries but does not read raw events.
        t.get("/api/v1/events", Some(&other_secret.secret)).await,
    ];
    for reply in forbidden {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert_eq!(reply.body["error"]["code"], "forbidden");
    }
    // Another project's id is invisible to a project key; an instance admin names the project.
    let foreign = t.get(&format!("/api/v1/events?project={}", other.id), Some(&t.secret_key)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);
    let unnamed = t.get("/api/v1/events", Some(&t.admin_key)).await;
    assert_eq!(unnamed.body["error"]["code"], "project_required");
    let named = t.get(&format!("/api/v1/events?project={}", t.project), Some(&t.admin_key)).await;
    assert_eq!(named.body["events"].as_array().unwrap().len(), 1);
    let listed = t.get("/api/v1/projects", Some(&t.secret_key)).await;
    assert_eq!(listed.body["projects"].as_array().unwrap().len(), 1, "a key sees its project only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_projects_and_keys() {
    let t = test_app().await;
    let created = t
        .post(
            "/api/v1/projects",
            Some(&t.admin_key),
            json!({"name": "shop", "organization": "acme"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let project = created.body["project"]["id"].as_str().unwrap().to_owned();
    let write = created.body["write_key"].as_str().unwrap().to_owned();
    assert!(write.starts_with("sx_wk_"));
    let dup = t
        .post(
            "/api/v1/projects",
            Some(&t.admin_key),
            json!({"name": "shop", "organization": "acme"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let key = t
        .post(
            &format!("/api/v1/projects/{project}/keys"),
            Some(&t.admin_key),
            json!({"kind": "secret", "name": "bi", "role": "analyst"}),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.body);
    let secret = key.body["secret"].as_str().unwrap().to_owned();
    let key_id = key.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        t.post("/api/v1/events", Some(&write), json!(event("buy", "u", &recent(0)))).await.status,
        StatusCode::OK
    );
    assert_eq!(t.get("/api/v1/stats", Some(&secret)).await.body["events"], 1);

    let keys = t.get(&format!("/api/v1/projects/{project}/keys"), Some(&t.admin_key)).await;
    assert_eq!(keys.body["keys"].as_array().unwrap().len(), 2);
    assert!(keys.body.to_string().find(&secret).is_none(), "secrets are never listed");
    let revoked =
        t.send(Method::DELETE, &format!("/api/v1/keys/{key_id}"), Some(&t.admin_key), None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        t.get("/api/v1/stats", Some(&secret)).await.status,
        StatusCode::UNAUTHORIZED,
        "revocation is immediate"
    );
    let missing = t
        .post(
            "/api/v1/projects/prj_nope/keys",
            Some(&t.admin_key),
            json!({"kind": "secret", "name": "x", "role": "viewer"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let listed = t.get("/api/v1/projects", Some(&t.admin_key)).await;
    assert_eq!(listed.body["projects"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_answers_503_with_retry_after() {
    let t = test_app_with(5).await;
    let batch: Vec<Value> = (0..10).map(|i| event("x", &format!("u{i}"), &recent(0))).collect();
    let reply = t.post("/api/v1/events", Some(&t.write_key), json!(batch)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body["error"]["code"], "overloaded");
    assert_eq!(reply.headers[header::RETRY_AFTER], "3");
    assert_eq!(
        t.post("/api/v1/events", Some(&t.write_key), json!(batch[..5])).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let t = test_app().await;
    assert_eq!(t.get("/healthz", None).await.body, json!({"status": "ok"}));
    let ready = t.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["checks"], json!({"metadata": "ok", "events": "ok"}));
    t.post("/api/v1/events", Some(&t.write_key), json!([event("x", "u", &recent(0)), {"bad": 1}]))
        .await;
    t.post(
        "/api/v1/query",
        Some(&t.secret_key),
        json!({"kind": "trends", "series": [{}], "date_range": {"from": "-1d"}}),
    )
    .await;
    let metrics = t.get("/metrics", Some(&t.admin_key)).await;
    let text = metrics.body.as_str().unwrap();
    for needle in [
        "sextant_ingest_events_total{outcome=\"accepted\"} 1",
        "sextant_ingest_events_total{outcome=\"rejected\"} 1",
        "sextant_commit_batch_events_count 1",
        "sextant_commit_seconds_count 1",
        "sextant_query_seconds_count{kind=\"trends\"} 1",
        "sextant_http_requests_total{route=\"/api/v1/events\",method=\"POST\",status=\"200\"} 1",
        "sextant_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}
