use super::*;
use serde_json::json;

fn request() -> ClientHints {
    ClientHints { ip: Some("192.0.2.1".parse().unwrap()), user_agent: Some("Browser/1.0".into()) }
}

#[test]
fn node_batch_maps_ids_library_and_properties() {
    let payload = json!({"api_key": "sx_wk_1", "batch": [
        {"event": "sdk_view", "distinct_id": "d-1", "uuid": "u-uuid-1", "timestamp": "2026-11-22T04:35:23.393Z",
         "properties": {"n": 1, "page": {"path": "/p"}, "$device_id": "d-1", "$lib": "posthog-node", "$lib_version": "5.70.0", "$is_server": true}},
        {"event": "$identify", "distinct_id": "u-1", "uuid": "u-uuid-2",
         "properties": {"$set": {"plan": "pro"}, "$anon_distinct_id": "d-1", "$lib": "posthog-node"}},
        {"event": "sdk_signup", "distinct_id": "u-1", "properties": {"$device_id": "d-1", "$ip": "198.51.100.9"}},
    ]});
    let c = parse(payload, &request()).unwrap();
    assert_eq!(c.token, "sx_wk_1");
    assert!(c.problems.is_empty());
    assert_eq!(
        c.events[0].fields,
        json!({"event": "sdk_view", "device_id": "d-1", "insert_id": "u-uuid-1",
               "timestamp": "2026-11-22T04:35:23.393Z", "library": "posthog-node/5.70.0",
               "properties": {"n": 1, "page": {"path": "/p"}, "$is_server": true}})
    );
    // Server SDKs: the request's user agent is the SDK's, not the visitor's.
    assert_eq!(c.events[0].client.user_agent, None);
    assert_eq!(c.events[1].fields["user_id"], "u-1");
    assert_eq!(c.events[1].fields["device_id"], "d-1");
    assert_eq!(c.events[1].fields["properties"], json!({"$set": {"plan": "pro"}}));
    assert_eq!(c.events[2].fields["user_id"], "u-1");
    assert_eq!(c.events[2].client.ip, Some("198.51.100.9".parse().unwrap()));
}

#[test]
fn browser_events_carry_the_visitor_user_agent() {
    let payload = json!([{"event": "$pageview", "properties": {"distinct_id": "anon-1", "$device_id": "anon-1",
        "token": "sx_wk_1", "$lib": "web", "$current_url": "https://ex.com/a?b=1", "$referrer": "$direct"}}]);
    let c = parse(payload, &request()).unwrap();
    let e = &c.events[0];
    assert_eq!(e.client.user_agent.as_deref(), Some("Browser/1.0"));
    assert_eq!(e.fields["url"], "https://ex.com/a?b=1");
    assert_eq!(e.fields.get("referrer"), None);
    assert_eq!(e.fields["device_id"], "anon-1");
}

#[test]
fn tokens_must_be_present_and_agree() {
    let mixed = json!([{"event": "a", "distinct_id": "x", "token": "k1"}, {"event": "b", "distinct_id": "x", "token": "k2"}]);
    assert!(matches!(parse(mixed, &request()), Err(CaptureError::Token(_))));
    let none = json!({"event": "a", "distinct_id": "x"});
    assert!(matches!(parse(none, &request()), Err(CaptureError::Token(_))));
}

#[test]
fn bad_events_are_reported_by_index() {
    let payload = json!({"api_key": "k", "batch": [{"event": "ok", "distinct_id": "a"}, {"distinct_id": "a"}, {"event": "x"}, 7]});
    let c = parse(payload, &request()).unwrap();
    let indices: Vec<usize> = c.problems.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [1, 2, 3]);
}

#[test]
fn posthog_and_mixpanel_payloads_are_told_apart() {
    assert!(looks_like_posthog(&json!({"api_key": "k", "batch": []})));
    assert!(looks_like_posthog(&json!([{"event": "a", "distinct_id": "x"}])));
    assert!(!looks_like_posthog(
        &json!({"event": "a", "properties": {"token": "t", "distinct_id": "x"}})
    ));
}
