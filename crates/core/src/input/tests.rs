use super::*;
use chrono::Duration;
use serde_json::json;

fn input(mode: InputMode) -> (ProjectId, Limits, DateTime<Utc>, InputMode) {
    let now = parse_timestamp("2026-11-22T12:00:00Z").unwrap();
    (ProjectId::new("p1"), Limits::default(), now, mode)
}

fn parse(value: Value) -> Result<Event, Vec<FieldError>> {
    parse_in(InputMode::Api, value)
}

fn parse_in(mode: InputMode, value: Value) -> Result<Event, Vec<FieldError>> {
    let (project, limits, now, mode) = input(mode);
    EventInput { project_id: &project, received_at: now, limits: &limits, mode }.parse(value)
}

fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
}

#[test]
fn minimal_event_gets_server_defaults() {
    let e = parse(json!({"event": "page_view", "device_id": "d1"})).unwrap();
    assert_eq!(e.event, "page_view");
    assert_eq!(e.timestamp, e.received_at);
    assert_eq!(e.person_id.as_deref(), Some("d1"));
    assert_eq!(e.insert_id.len(), 36, "a UUID is generated when no insert_id is given");
}

#[test]
fn user_id_wins_over_device_id_for_person() {
    let e = parse(json!({"event": "x", "device_id": "d1", "user_id": 42})).unwrap();
    assert_eq!(e.user_id.as_deref(), Some("42"));
    assert_eq!(e.person_id.as_deref(), Some("42"));
}

#[test]
fn url_fills_host_path_and_templated_route() {
    let e =
        parse(json!({"event": "page_view", "url": "https://shop.example/orders/8812/items?x=1"}))
            .unwrap();
    assert_eq!(e.host.as_deref(), Some("shop.example"));
    assert_eq!(e.path.as_deref(), Some("/orders/8812/items"));
    assert_eq!(e.route.as_deref(), Some("/orders/:id/items"));
    let given = parse(json!({"event": "p", "url": "https://a.b/c/1", "route": "/c/[id]"})).unwrap();
    assert_eq!(given.route.as_deref(), Some("/c/[id]"));
}

#[test]
fn timestamps_accept_rfc3339_and_epoch_millis() {
    let a = parse(json!({"event": "x", "timestamp": "2026-11-22T11:00:00.5+01:00"})).unwrap();
    assert_eq!(a.timestamp.to_rfc3339(), "2026-11-22T10:00:00.500+00:00");
    let b = parse(json!({"event": "x", "timestamp": 1_795_000_000_123_i64})).unwrap();
    assert_eq!(b.timestamp.timestamp_millis(), 1_795_000_000_123);
}

#[test]
fn every_bad_field_is_reported() {
    let errors = parse(json!({
        "timestamp": "yesterday",
        "country": "Germany",
        "value": "12",
        "properties": [1],
        "colour": "red",
        "received_at": "2026-01-01T00:00:00Z",
    }))
    .unwrap_err();
    let mut got = codes(&errors);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("colour", "unknown_field"),
            ("country", "invalid_value"),
            ("event", "missing_field"),
            ("properties", "invalid_type"),
            ("received_at", "server_owned_field"),
            ("timestamp", "invalid_value"),
            ("value", "invalid_type"),
        ]
    );
}

#[test]
fn limits_are_enforced() {
    let long = "x".repeat(201);
    assert_eq!(codes(&parse(json!({"event": long})).unwrap_err()), vec![("event", "too_long")]);
    assert_eq!(
        codes(&parse(json!({"event": "  "})).unwrap_err()),
        vec![("event", "invalid_value")]
    );
    let future =
        (parse_timestamp("2026-11-22T12:00:00Z").unwrap() + Duration::hours(25)).to_rfc3339();
    assert_eq!(
        codes(&parse(json!({"event": "x", "timestamp": future})).unwrap_err()),
        vec![("timestamp", "out_of_range")]
    );
    let mut deep = json!(1);
    for _ in 0..9 {
        deep = json!({ "k": deep });
    }
    assert_eq!(
        codes(&parse(json!({"event": "x", "properties": deep})).unwrap_err()),
        vec![("properties", "too_deep")]
    );
    let many: serde_json::Map<String, Value> =
        (0..600).map(|i| (format!("k{i}"), json!({"nested": i}))).collect();
    assert_eq!(
        codes(&parse(json!({"event": "x", "properties": many})).unwrap_err()),
        vec![("properties", "too_many")],
        "600 keys with 600 nested ones are over 1000"
    );
    let big = json!({"event": "x", "properties": {"blob": "y".repeat(40_000)}});
    assert_eq!(codes(&parse(big).unwrap_err()), vec![("properties", "too_long")]);
    assert_eq!(
        codes(&parse(json!({"event": "a\u{0}b"})).unwrap_err()),
        vec![("event", "invalid_value")]
    );
}

#[test]
fn import_keeps_server_fields_and_ignores_project() {
    let e = parse_in(
        InputMode::Import,
        json!({"event": "x", "project_id": "other", "received_at": "2020-01-01T00:00:00Z",
               "timestamp": "2019-01-01T00:00:00Z", "person_id": "merged", "user_id": "u"}),
    )
    .unwrap();
    assert_eq!(e.project_id.as_str(), "p1");
    assert_eq!(e.received_at.to_rfc3339(), "2020-01-01T00:00:00+00:00");
    assert_eq!(e.person_id.as_deref(), Some("merged"));
    assert_eq!(e.timestamp.to_rfc3339(), "2019-01-01T00:00:00+00:00", "no age limit on import");
}

#[test]
fn export_serialization_round_trips_through_import() {
    let original = parse(json!({
        "event": "purchase", "user_id": "u1", "value": 9.5, "country": "de",
        "properties": {"plan": {"tier": "pro"}}, "timestamp": "2026-11-22T10:00:00.123456Z"
    }))
    .unwrap();
    let line = serde_json::to_value(&original).unwrap();
    assert_eq!(line["timestamp"], "2026-11-22T10:00:00.123456Z");
    let back = parse_in(InputMode::Import, line).unwrap();
    assert_eq!(back, original);
}

#[test]
fn non_objects_are_rejected() {
    assert_eq!(codes(&parse(json!([1])).unwrap_err()), vec![("", "not_an_object")]);
}
