use super::*;

fn upload(body: Value) -> Upload {
    parse_upload(body.to_string().as_bytes(), Some("198.51.100.4".parse().unwrap())).unwrap()
}

#[test]
fn maps_events_onto_the_native_model() {
    let u = upload(json!({
        "api_key": "sx_wk_x",
        "events": [{
            "event_type": "purchase", "user_id": "user-42", "device_id": "device-1",
            "time": 1_763_600_000_000_i64, "insert_id": "ins-1", "session_id": 1_763_599_000_000_i64,
            "event_properties": {"plan": "pro"}, "user_properties": {"$set": {"tier": "gold"}},
            "price": 20.0, "quantity": 2, "os_name": "iOS", "country": "United States",
            "library": "amplitude-node/1.3.0", "ip": "$remote", "platform": "Node.js"
        }],
        "options": {"min_id_length": 5}
    }));
    assert_eq!(u.api_key, "sx_wk_x");
    assert!(u.problems.is_empty());
    let e = &u.events[0];
    assert_eq!(
        e.fields,
        json!({
            "event": "purchase", "user_id": "user-42", "device_id": "device-1",
            "timestamp": 1_763_600_000_000_i64, "insert_id": "ins-1",
            "session_id": "1763599000000", "library": "amplitude-node/1.3.0", "os": "iOS",
            "value": 40.0,
            "properties": {
                "plan": "pro", "$set": {"tier": "gold"}, "price": 20.0,
                "quantity": 2, "platform": "Node.js", "country_name": "United States"
            }
        })
    );
    assert_eq!(e.client.ip, Some("198.51.100.4".parse().unwrap()));
}

#[test]
fn lists_every_bad_index_by_amplitude_field() {
    let u = upload(json!({
        "api_key": "k",
        "events": [
            {"event_type": "ok", "user_id": "user-1"},
            {"user_id": "user-1"},
            {"event_type": "x", "user_id": "abc"},
            {"event_type": "x", "device_id": "null"},
            {"event_type": "x", "user_id": "user-1", "time": "yesterday"},
            {"event_type": "x", "user_id": "user-1", "time": "yesterday"},
            "not an event"
        ]
    }));
    assert_eq!(
        serde_json::to_value(&u.problems).unwrap(),
        json!({
            "events_with_invalid_fields": {"time": [4, 5], "event": [6]},
            "events_with_missing_fields": {
                "event_type": [1], "user_id": [2, 3], "device_id": [2, 3]
            }
        })
    );
}

#[test]
fn a_short_id_is_removed_but_the_other_id_keeps_the_event() {
    let u = upload(
        json!({"api_key": "k", "events": [{"event_type": "x", "user_id": "ab", "device_id": "device-9"}]}),
    );
    assert!(u.problems.is_empty());
    assert_eq!(u.events[0].fields["user_id"], Value::Null);
    assert_eq!(u.events[0].fields["device_id"], "device-9");
}

#[test]
fn missing_key_or_events_name_the_field() {
    let parse = |v: Value| parse_upload(v.to_string().as_bytes(), None).unwrap_err();
    assert_eq!(parse(json!({"events": [{}]})), UploadError::MissingField("api_key"));
    assert_eq!(parse(json!({"api_key": "k", "events": []})), UploadError::MissingField("events"));
    assert!(matches!(parse_upload(b"{", None), Err(UploadError::Invalid(_))));
}

#[test]
fn identify_form_becomes_identify_events() {
    let form = "api_key=sx_wk_1&identification=%7B%22user_id%22%3A%22user-1%22%2C%22device_id%22%3A%22dev-1%22%2C%22user_properties%22%3A%7B%22%24set%22%3A%7B%22plan%22%3A%22pro%22%7D%7D%7D";
    let (key, events) = parse_identify(form.as_bytes()).unwrap();
    assert_eq!(key, "sx_wk_1");
    assert_eq!(
        events[0].fields,
        json!({"event": "$identify", "user_id": "user-1", "device_id": "dev-1",
               "properties": {"$set": {"plan": "pro"}}})
    );
}
