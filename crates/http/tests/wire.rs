//! Every wire format's endpoints in-process: the exact success and error shapes each SDK
//! parses, and privacy and hygiene rules applied whatever the source.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sextant_ingest::RateLimits;
use std::io::Write;
use support::{TestApp, recent, test_app, test_app_rate_limited};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

async fn post_json(
    t: &TestApp,
    uri: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> support::Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    t.send_raw(Method::POST, uri, &all, body.to_string()).await
}

fn ms_ago(minutes: i64) -> i64 {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).timestamp_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplitude_shapes_and_all_or_nothing() {
    let t = test_app().await;
    let event = |id: &str, insert: &str| json!({"event_type": "play", "user_id": id, "insert_id": insert, "time": ms_ago(5), "ip": "$remote"});
    let ok = post_json(
        &t,
        "/2/httpapi",
        &[("x-forwarded-for", "203.0.113.77")],
        json!({"api_key": t.write_key, "events": [event("user-1", "a1"), event("user-2", "a2")]}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        (ok.body["code"].clone(), ok.body["events_ingested"].clone()),
        (json!(200), json!(2))
    );
    assert!(ok.body["payload_size_bytes"].as_u64().unwrap() > 0);
    assert!(ok.body["server_upload_time"].as_i64().unwrap() > 0);

    // A retry of the same events is acknowledged and stored once.
    let retry = post_json(
        &t,
        "/2/httpapi",
        &[],
        json!({"api_key": t.write_key, "events": [event("user-1", "a1")]}),
    )
    .await;
    assert_eq!(retry.body["code"], 200);

    let missing = post_json(&t, "/2/httpapi", &[], json!({"events": [event("user-1", "x")]})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.body,
        json!({"code": 400, "error": "Request missing required field", "missing_field": "api_key"})
    );
    let bad_key = post_json(
        &t,
        "/2/httpapi",
        &[],
        json!({"api_key": "sx_wk_nope", "events": [event("user-1", "x")]}),
    )
    .await;
    assert_eq!(bad_key.body["code"], 400);
    assert!(bad_key.body["error"].as_str().unwrap().starts_with("Invalid API key"));

    // One bad event: 400 listing it, nothing of the request stored (the SDK retries the rest).
    let mixed = post_json(&t, "/2/httpapi", &[], json!({"api_key": t.write_key, "events": [
        event("user-3", "b1"), {"event_type": "play", "user_id": "user-3", "time": "noon"}, {"user_id": "user-3"}]})).await;
    assert_eq!(mixed.status, StatusCode::BAD_REQUEST);
    assert_eq!(mixed.body["events_with_invalid_fields"], json!({"time": [1]}));
    assert_eq!(mixed.body["events_with_missing_fields"], json!({"event_type": [2]}));

    let many: Vec<Value> = (0..2001).map(|i| event("user-9", &format!("m{i}"))).collect();
    let too_many =
        post_json(&t, "/2/httpapi", &[], json!({"api_key": t.write_key, "events": many})).await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_many.body, json!({"code": 413, "error": "Payload too large"}));

    // `/batch` (no event limit) with gzip.
    let body = json!({"api_key": t.write_key, "events": [event("user-4", "c1")]}).to_string();
    let batch = t
        .send_raw(
            Method::POST,
            "/batch",
            &[("content-type", "application/json"), ("content-encoding", "gzip")],
            gzip(body.as_bytes()),
        )
        .await;
    assert_eq!(batch.body["code"], 200, "{}", batch.body);

    let stored = t.stored().await;
    let ids: Vec<&str> = stored.iter().map(|e| e["insert_id"].as_str().unwrap()).collect();
    assert_eq!(stored.len(), 3, "{ids:?}");
    assert!(!serde_json::to_string(&stored).unwrap().contains("203.0.113.77"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posthog_capture_envelopes_and_errors() {
    let t = test_app().await;
    let batch = json!({"api_key": t.write_key, "batch": [
        {"event": "clicked", "distinct_id": "user-1", "uuid": "p1", "timestamp": recent(0), "properties": {"$lib": "posthog-node", "$lib_version": "5.0.0", "email": "a@b.c"}}]});
    let gz = t
        .send_raw(
            Method::POST,
            "/batch/",
            &[("content-type", "application/json"), ("content-encoding", "gzip")],
            gzip(batch.to_string().as_bytes()),
        )
        .await;
    assert_eq!((gz.status, gz.body.clone()), (StatusCode::OK, json!({"status": "Ok"})));

    let single = json!({"event": "$pageview", "properties": {"distinct_id": "anon-1", "$device_id": "anon-1", "token": t.write_key, "$lib": "web", "$current_url": "https://shop.example/a"}});
    let form = format!("data={}", url_encode(&STANDARD.encode(single.to_string())));
    let form_reply = t
        .send_raw(
            Method::POST,
            "/e/?compression=base64",
            &[("content-type", "application/x-www-form-urlencoded"), ("user-agent", BROWSER)],
            form,
        )
        .await;
    assert_eq!(form_reply.status, StatusCode::OK, "{}", form_reply.body);
    let beacon = t
        .send_raw(
            Method::POST,
            "/i/v0/e/?beacon=1",
            &[("content-type", "application/json")],
            single.to_string(),
        )
        .await;
    assert_eq!(beacon.status, StatusCode::NO_CONTENT);

    let mixed_tokens = post_json(&t, "/capture/", &[], json!([{"event": "a", "distinct_id": "x", "token": t.write_key}, {"event": "a", "distinct_id": "x", "token": "other"}])).await;
    assert_eq!(mixed_tokens.status, StatusCode::UNAUTHORIZED);
    assert!(mixed_tokens.body.as_str().unwrap().contains("mixes"));
    let bad_token =
        post_json(&t, "/e", &[], json!({"event": "a", "distinct_id": "x", "token": "sx_wk_nope"}))
            .await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);

    // One bad event: 400 in text naming it; the good one is stored (PostHog SDKs do not retry 4xx).
    let partly = post_json(&t, "/batch", &[], json!({"api_key": t.write_key, "batch": [{"event": "kept", "distinct_id": "user-2", "uuid": "p2"}, {"distinct_id": "user-2"}]})).await;
    assert_eq!(partly.status, StatusCode::BAD_REQUEST);
    assert!(partly.body.as_str().unwrap().contains("event 1"), "{}", partly.body);

    let preflight = t
        .send_raw(
            Method::OPTIONS,
            "/e/",
            &[
                ("origin", "https://shop.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            "",
        )
        .await;
    assert!(preflight.status.is_success());
    assert_eq!(preflight.headers["access-control-allow-origin"], "https://shop.example");

    let stored = t.stored().await;
    let names: Vec<&str> = stored.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    let clicked = stored.iter().find(|e| e["event"] == "clicked").unwrap();
    assert_eq!(
        (clicked["user_id"].clone(), clicked["library"].clone()),
        (json!("user-1"), json!("posthog-node/5.0.0"))
    );
    assert_eq!(clicked["properties"].get("email"), None, "PII keys are stripped");
    // The form-posted one came with the browser's user agent (the beacon one without).
    let pageview =
        stored.iter().find(|e| e["event"] == "$pageview" && !e["browser"].is_null()).unwrap();
    assert_eq!(
        (pageview["browser"].clone(), pageview["os"].clone(), pageview["device_type"].clone()),
        (json!("Chrome"), json!("Linux"), json!("desktop"))
    );
    assert_eq!(pageview["host"], "shop.example");
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_auth_calls_and_errors() {
    let t = test_app().await;
    let basic = format!("Basic {}", STANDARD.encode(format!("{}:", t.write_key)));
    let batch = json!({"batch": [
        {"type": "track", "event": "Order Completed", "userId": "user-1", "messageId": "s1", "properties": {"total": 10}},
        {"type": "identify", "userId": "user-1", "anonymousId": "anon-1", "traits": {"plan": "pro"}, "messageId": "s2"}]});
    let ok = post_json(&t, "/v1/batch", &[("authorization", &basic)], batch).await;
    assert_eq!((ok.status, ok.body.clone()), (StatusCode::OK, json!({"success": true})));
    let page = post_json(&t, "/v1/page", &[], json!({"writeKey": t.write_key, "anonymousId": "anon-2", "name": "Home", "messageId": "s3"})).await;
    assert_eq!(page.status, StatusCode::OK);
    let bad = post_json(
        &t,
        "/v1/track",
        &[],
        json!({"writeKey": "sx_wk_nope", "userId": "u", "event": "x"}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad.body["success"], false);
    let invalid =
        post_json(&t, "/v1/track", &[], json!({"writeKey": t.write_key, "event": "x"})).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert!(invalid.body["message"].as_str().unwrap().contains("userId"));

    let stored = t.stored().await;
    let mut names: Vec<&str> = stored.iter().map(|e| e["event"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["$identify", "Order Completed", "page_view"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixpanel_replies_as_its_clients_expect() {
    let t = test_app().await;
    let event = json!({"event": "viewed", "properties": {"token": t.write_key, "distinct_id": "user-1", "$insert_id": "x1", "time": ms_ago(1), "mp_lib": "node"}});
    let data = url_encode(&STANDARD.encode(event.to_string()));
    let quiet =
        t.send_raw(Method::GET, &format!("/track?ip=0&verbose=0&data={data}"), &[], "").await;
    assert_eq!(quiet.body, json!(1));
    let form = format!("data={}&verbose=1", url_encode(&event.to_string()));
    let verbose = t
        .send_raw(
            Method::POST,
            "/track",
            &[("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await;
    assert_eq!(verbose.body, json!({"status": 1, "error": null}));
    let wrong =
        json!({"event": "viewed", "properties": {"token": "sx_wk_nope", "distinct_id": "u"}});
    let refused = t
        .send_raw(
            Method::GET,
            &format!("/track?data={}", url_encode(&STANDARD.encode(wrong.to_string()))),
            &[],
            "",
        )
        .await;
    assert_eq!(refused.body, json!(0));

    let engage = json!({"$token": t.write_key, "$distinct_id": "user-1", "$set": {"plan": "pro"}});
    let engaged = t
        .send_raw(
            Method::GET,
            &format!("/engage?data={}", url_encode(&STANDARD.encode(engage.to_string()))),
            &[],
            "",
        )
        .await;
    assert_eq!(engaged.body, json!(1));

    let basic = format!("Basic {}", STANDARD.encode(format!("{}:", t.write_key)));
    let records = json!([
        {"event": "old", "properties": {"distinct_id": "user-2", "$insert_id": "i1", "time": ms_ago(60)}},
        {"event": "old", "properties": {"distinct_id": "user-2", "time": ms_ago(60)}}]);
    let import = post_json(&t, "/import?strict=1", &[("authorization", &basic)], records).await;
    assert_eq!(import.status, StatusCode::BAD_REQUEST);
    assert_eq!(import.body["num_records_imported"], 1);
    assert_eq!(import.body["failed_records"][0]["index"], 1);

    let stored = t.stored().await;
    assert_eq!(stored.len(), 3, "track (sent twice, stored once), engage, one import: {stored:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plausible_counts_visitors_without_storing_who_they_are() {
    let t = test_app().await;
    let send = |ua: &'static str, ip: &'static str, body: Value| {
        let t = &t;
        async move {
            t.send_raw(
                Method::POST,
                "/api/event",
                &[("content-type", "text/plain"), ("user-agent", ua), ("x-forwarded-for", ip)],
                body.to_string(),
            )
            .await
        }
    };
    let view =
        json!({"n": "pageview", "u": "https://docs.example/start", "d": t.write_key, "r": null});
    let first = send(BROWSER, "198.51.100.23", view.clone()).await;
    assert_eq!((first.status, first.body.clone()), (StatusCode::ACCEPTED, json!("ok")));
    send(BROWSER, "198.51.100.23", json!({"n": "signup", "u": "https://docs.example/start", "d": t.write_key, "p": {"plan": "pro"}})).await;
    send(BROWSER, "198.51.100.24", view.clone()).await;

    let bot = send(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "66.249.66.1",
        view.clone(),
    )
    .await;
    assert_eq!(bot.status, StatusCode::ACCEPTED);
    assert_eq!(bot.headers["x-plausible-dropped"], "1");

    let unknown = send(
        BROWSER,
        "198.51.100.23",
        json!({"n": "pageview", "u": "https://other.example/", "d": "other.example"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let patch = t
        .send_raw(
            Method::PATCH,
            &format!("/api/v1/projects/{}/settings", t.project),
            &[("authorization", &format!("Bearer {}", t.admin_key))],
            json!({"domains": ["other.example"]}).to_string(),
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.body);
    let known = send(
        BROWSER,
        "198.51.100.23",
        json!({"n": "pageview", "u": "https://other.example/", "d": "other.example"}),
    )
    .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);

    let invalid = send(BROWSER, "198.51.100.23", json!({"n": "pageview", "d": t.write_key})).await;
    assert_eq!(invalid.body, json!({"errors": {"url": ["is required"]}}));

    let stored = t.stored().await;
    assert_eq!(stored.len(), 4);
    let visitor = |e: &Value| e["device_id"].as_str().unwrap().to_owned();
    let docs: Vec<&Value> = stored.iter().filter(|e| e["host"] == "docs.example").collect();
    let first_visitor: Vec<String> =
        docs.iter().filter(|e| e["event"] == "signup").map(|e| visitor(e)).collect();
    assert!(first_visitor[0].starts_with("v_"));
    let same: Vec<&&Value> = docs.iter().filter(|e| visitor(e) == first_visitor[0]).collect();
    assert_eq!(same.len(), 2, "the same IP and browser are one visitor on one site");
    let text = serde_json::to_string(&stored).unwrap();
    assert!(!text.contains("198.51.100.23") && !text.contains("Chrome/124.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hygiene_applies_to_every_source() {
    let t = test_app().await;
    // 1 bad event among 999 good: 999 stored, the bad one reported precisely.
    let mut batch: Vec<Value> = (0..1000).map(|i| json!({"event": "tick", "user_id": format!("user-{}", i % 10), "insert_id": format!("t{i}")})).collect();
    batch[500] = json!({"event": "tick", "user_id": 5});
    batch[500]["timestamp"] = json!("not a time");
    let reply = t.post("/api/v1/events", Some(&t.write_key), Value::Array(batch)).await;
    assert_eq!(reply.body["accepted"], 999);
    assert_eq!(reply.body["errors"][0]["index"], 500);
    assert_eq!(reply.body["errors"][0]["errors"][0]["field"], "timestamp");

    let admin = format!("Bearer {}", t.admin_key);
    let settings = json!({"allowed_events": ["tick", "signup"], "add_internal_users": ["Boss@Corp.example"], "max_property_value_bytes": 32});
    let patched = t
        .send_raw(
            Method::PATCH,
            &format!("/api/v1/projects/{}/settings", t.project),
            &[("authorization", &admin)],
            settings.to_string(),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert!(
        !patched.body.to_string().to_lowercase().contains("boss@corp"),
        "internal users are kept as digests"
    );
    let typo = t
        .send_raw(
            Method::PATCH,
            &format!("/api/v1/projects/{}/settings", t.project),
            &[("authorization", &admin)],
            json!({"alowed_events": []}).to_string(),
        )
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);

    let events = json!([
        {"event": "purchase", "user_id": "user-1"},
        {"event": "signup", "user_id": "boss@corp.example"},
        {"event": "signup", "user_id": "user-2", "properties": {"customer": {"email": "x@y.z", "phone_number": "1"}, "note": "x".repeat(100)}},
    ]);
    let reply = t.post("/api/v1/events", Some(&t.write_key), events).await;
    assert_eq!(
        (
            reply.body["accepted"].clone(),
            reply.body["rejected"].clone(),
            reply.body["dropped"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    let message = reply.body["errors"][0]["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("allowed: tick, signup"), "{message}");
    // The same rule in Segment's shape.
    let segment = post_json(
        &t,
        "/v1/track",
        &[],
        json!({"writeKey": t.write_key, "userId": "u", "event": "purchase"}),
    )
    .await;
    assert_eq!(segment.status, StatusCode::BAD_REQUEST);
    assert!(segment.body["message"].as_str().unwrap().contains("not allowed"));

    let stored = t.stored().await;
    let signup = stored.iter().find(|e| e["event"] == "signup").unwrap();
    assert_eq!(signup["properties"], json!({"customer": {}, "note": "x".repeat(32)}));
    assert!(signup["session_id"].as_str().unwrap().starts_with("s_"), "sessions are derived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_in_each_shape_and_store_nothing() {
    // 5 events/s per user, bursts of 10. Each refused request below carries more events of
    // `busy-user` than a full bucket holds, so it is refused however long the test takes (a
    // bucket refills while a slow machine runs it); the bucket arithmetic over time is
    // tested with a fake clock in `ingest::limiter`.
    let t = test_app_rate_limited(RateLimits { per_project: 1_000.0, per_user: 5.0 }).await;
    let burst: Vec<Value> = (0..10)
        .map(|i| json!({"event": "e", "user_id": "busy-user", "insert_id": format!("r{i}")}))
        .collect();
    let ok = t.post("/api/v1/events", Some(&t.write_key), Value::Array(burst)).await;
    assert_eq!(ok.body["accepted"], 10, "a burst of twice the rate passes");

    let over_burst = 11;
    let busy = |event: Value| std::iter::repeat_n(event, over_burst);
    let native_events: Vec<Value> = std::iter::once(json!({"event": "e", "user_id": "calm-user"}))
        .chain(busy(json!({"event": "e", "user_id": "busy-user"})))
        .collect();
    let native = t.post("/api/v1/events", Some(&t.write_key), Value::Array(native_events)).await;
    assert_eq!(native.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(native.body["error"]["code"], "rate_limited");
    assert!(native.headers.contains_key("retry-after"));

    let amplitude_events: Vec<Value> =
        std::iter::once(json!({"event_type": "e", "user_id": "calm-user"}))
            .chain(busy(json!({"event_type": "e", "user_id": "busy-user"})))
            .collect();
    let amplitude = post_json(
        &t,
        "/2/httpapi",
        &[],
        json!({"api_key": t.write_key, "events": amplitude_events}),
    )
    .await;
    assert_eq!(amplitude.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(amplitude.body["code"], 429);
    assert_eq!(amplitude.body["throttled_events"], json!((1..=over_burst).collect::<Vec<_>>()));
    assert_eq!(amplitude.body["throttled_users"], json!({"busy-user": 5.0}));
    assert_eq!(amplitude.body["eps_threshold"], 5.0);

    let posthog_batch: Vec<Value> =
        busy(json!({"event": "e", "distinct_id": "busy-user"})).collect();
    let posthog =
        post_json(&t, "/batch/", &[], json!({"api_key": t.write_key, "batch": posthog_batch}))
            .await;
    assert_eq!(posthog.status, StatusCode::TOO_MANY_REQUESTS);
    let segment_batch: Vec<Value> =
        busy(json!({"type": "track", "userId": "busy-user", "event": "e"})).collect();
    let segment =
        post_json(&t, "/v1/batch", &[], json!({"writeKey": t.write_key, "batch": segment_batch}))
            .await;
    assert_eq!(
        (segment.status, segment.body["success"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!(false))
    );

    let stored = t.stored().await;
    assert_eq!(
        stored.len(),
        10,
        "refused requests store nothing, not even their calm users' events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_tracks_with_a_write_key_and_lists_for_admins() {
    let t = test_app().await;
    let bearer = |key: &str| format!("Bearer {key}");
    let track = json!({
        "query": "mutation Track($e: JSON!) { trackEvent(event: $e) { accepted rejected errors { index } } }",
        "variables": {"e": {"event": "signup", "user_id": "user-1", "insert_id": "g1", "properties": {"plan": "pro"}}}
    });
    let ok =
        post_json(&t, "/graphql", &[("authorization", &bearer(&t.write_key))], track.clone()).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        ok.body,
        json!({"data": {"trackEvent": {"accepted": 1, "rejected": 0, "errors": []}}})
    );

    let batch = json!({"query": "mutation { trackEvents(events: [{event: \"a\", user_id: \"user-2\"}, {user_id: \"user-2\"}]) { accepted rejected errors { index errors { field code } } } }"});
    let partial =
        post_json(&t, "/graphql", &[("authorization", &bearer(&t.write_key))], batch).await;
    assert_eq!(
        partial.body["data"]["trackEvents"],
        json!({"accepted": 1, "rejected": 1, "errors": [{"index": 1, "errors": [{"field": "event", "code": "missing_field"}]}]})
    );

    let list = json!({"query": format!("{{ events(project: \"{}\", limit: 10) {{ events {{ event user_id properties }} next_cursor }} }}", t.project)});
    let denied =
        post_json(&t, "/graphql", &[("authorization", &bearer(&t.write_key))], list.clone()).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["errors"][0]["extensions"]["code"], "forbidden");
    let listed = post_json(&t, "/graphql", &[("authorization", &bearer(&t.admin_key))], list).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let events = listed.body["data"]["events"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events.contains(
            &json!({"event": "signup", "user_id": "user-1", "properties": {"plan": "pro"}})
        )
    );

    let unauthenticated = post_json(&t, "/graphql", &[], track).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    let typo = post_json(
        &t,
        "/graphql",
        &[("authorization", &bearer(&t.write_key))],
        json!({"query": "mutation { trackEvent(event: {event: \"a\"}) { acepted } }"}),
    )
    .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert!(typo.body["errors"][0]["message"].as_str().unwrap().contains("acepted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_context_carries_the_visitor_for_hashing_and_user_agents() {
    let t = test_app().await;
    let events = json!([
        {"event": "page_view", "url": "https://docs.example/a", "context": {"ip": "198.51.100.61", "user_agent": BROWSER}},
        {"event": "page_view", "url": "https://docs.example/b", "context": {"ip": "198.51.100.61", "user_agent": BROWSER}},
        {"event": "page_view", "url": "https://docs.example/a", "context": {"ip": "66.249.66.1", "user_agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}},
        {"event": "page_view", "context": {"ip": "not-an-ip"}},
    ]);
    let reply = t.post("/api/v1/events", Some(&t.write_key), events).await;
    assert_eq!(
        (
            reply.body["accepted"].clone(),
            reply.body["dropped"].clone(),
            reply.body["rejected"].clone()
        ),
        (json!(2), json!(1), json!(1)),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["errors"][0]["errors"][0]["field"], "context");
    let stored = t.stored().await;
    let visitor = stored[0]["device_id"].as_str().unwrap();
    assert!(visitor.starts_with("v_"));
    assert_eq!(stored[1]["device_id"], visitor, "same visitor on the same site and day");
    assert_eq!(
        (stored[0]["browser"].clone(), stored[0]["device_type"].clone()),
        (json!("Chrome"), json!("desktop"))
    );
    assert!(!serde_json::to_string(&stored).unwrap().contains("198.51.100.61"));
}
