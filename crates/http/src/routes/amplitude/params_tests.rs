#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use serde_json::json;

fn params(pairs: &[(&str, &str)], known: &[&str]) -> Result<Params, Invalid> {
    Params::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), known)
}

fn filter(property: &str, op: FilterOp, value: Option<Value>) -> Condition {
    Condition::Filter(Filter {
        property: PropertyRef::try_from(property.to_owned()).unwrap(),
        op,
        value,
    })
}

#[test]
fn dates_are_inclusive_days() {
    let p = params(&[("start", "20260301"), ("end", "20260307")], &["start", "end"]).unwrap();
    assert_eq!(
        p.date_range().unwrap(),
        DateRange { from: "2026-03-01".into(), to: Some("2026-03-07".into()) }
    );
    let one_day = params(&[("start", "20260301"), ("end", "20260301")], &["start", "end"]).unwrap();
    assert!(one_day.date_range().is_ok());
    for (start, end, problem) in [
        ("2026-03-01", "20260307", "`start` must be a date formatted YYYYMMDD"),
        ("20260231", "20260307", "`start` must be a date"),
        ("20260307", "2026030", "`end` must be a date"),
        ("20260307", "20260301", "`end` (2026-03-01) is before `start` (2026-03-07)"),
    ] {
        let p = params(&[("start", start), ("end", end)], &["start", "end"]).unwrap();
        let error = p.date_range().unwrap_err();
        assert!(error.starts_with(problem), "{start}..{end}: {error}");
    }
    let missing = params(&[("start", "20260301")], &["start", "end"]).unwrap();
    assert_eq!(missing.date_range().unwrap_err(), "`end` is required");
}

#[test]
fn unknown_repeated_and_unsupported_parameters_are_refused() {
    let error = params(&[("start", "1"), ("colour", "red")], &["start", "end"]).unwrap_err();
    assert_eq!(error, "unknown parameter `colour`; this endpoint takes start, end");
    let error = params(&[("rollingWindow", "7")], &["start"]).unwrap_err();
    assert_eq!(error, "`rollingWindow` is not supported by Sextant's Amplitude API");
    let twice = params(&[("m", "a"), ("m", "b")], &["m"]).unwrap();
    assert_eq!(twice.one("m").unwrap_err(), "`m` is given more than once");
}

#[test]
fn intervals() {
    let interval = |i: Option<&str>, hourly| {
        let pairs: Vec<(&str, &str)> = i.map(|i| ("i", i)).into_iter().collect();
        params(&pairs, &["i"]).unwrap().interval(hourly)
    };
    assert_eq!(interval(None, false), Ok(Interval::Day));
    assert_eq!(interval(Some("1"), false), Ok(Interval::Day));
    assert_eq!(interval(Some("7"), false), Ok(Interval::Week));
    assert_eq!(interval(Some("30"), false), Ok(Interval::Month));
    assert_eq!(interval(Some("-3600000"), true), Ok(Interval::Hour));
    assert!(interval(Some("-3600000"), false).unwrap_err().contains("1 (daily), 7"));
    assert!(interval(Some("-300000"), true).unwrap_err().contains("real-time"));
    assert!(interval(Some("2"), true).is_err());
}

#[test]
fn limits() {
    let limit = |l: &str| params(&[("limit", l)], &["limit"]).unwrap().limit();
    assert_eq!(params(&[], &["limit"]).unwrap().limit(), Ok(100));
    assert_eq!(limit("1000"), Ok(1000));
    assert!(limit("0").is_err());
    assert!(limit("1001").is_err());
    assert!(limit("ten").is_err());
}

#[test]
fn property_names() {
    let event = |n: &str| String::from(property(n, Scope::Event).unwrap());
    let user = |n: &str| property(n, Scope::User).map(String::from);
    assert_eq!(event("plan"), "properties.plan");
    assert_eq!(event("page.path"), "properties.page.path");
    assert_eq!(event("gp:company"), "person.company");
    assert_eq!(event("country"), "country");
    assert_eq!(event("os_name"), "os");
    assert_eq!(event("device_type"), "device_type");
    assert_eq!(event("$revenue"), "value");
    assert_eq!(event("event_type"), "event");
    assert_eq!(event("platform"), "properties.platform");
    assert_eq!(event("version"), "properties.app_version");
    assert_eq!(user("gp:plan").unwrap(), "person.plan");
    assert_eq!(user("city").unwrap(), "properties.city");
    assert_eq!(user("user_id").unwrap(), "user_id");
    assert!(user("plan").unwrap_err().contains("`gp:plan`"));
    assert!(property("gp:", Scope::User).is_err());
    assert!(property("a..b", Scope::Event).is_err());
}

#[test]
fn filter_operators() {
    let plan = || PropertyRef::Custom(vec!["plan".into()]);
    let c = |op: &str, values: Value| condition(plan(), op, values.as_array().unwrap());
    assert_eq!(
        c("is", json!(["pro", "team"])).unwrap(),
        filter("properties.plan", FilterOp::Eq, Some(json!(["pro", "team"])))
    );
    assert_eq!(
        c("is not", json!(["pro"])).unwrap(),
        filter("properties.plan", FilterOp::Neq, Some(json!(["pro"])))
    );
    assert_eq!(
        c("is", json!([3])).unwrap(),
        filter("properties.plan", FilterOp::Eq, Some(json!(["3"])))
    );
    // "(none)" is Amplitude's "not set".
    assert_eq!(
        c("is", json!(["(none)", "pro"])).unwrap(),
        Condition::Any {
            any: vec![
                filter("properties.plan", FilterOp::IsNotSet, None),
                filter("properties.plan", FilterOp::Eq, Some(json!(["pro"]))),
            ]
        }
    );
    assert_eq!(
        c("is not", json!(["(none)"])).unwrap(),
        filter("properties.plan", FilterOp::IsSet, None)
    );
    assert_eq!(
        c("contains", json!(["pr", "te"])).unwrap(),
        Condition::Any {
            any: vec![
                filter("properties.plan", FilterOp::Contains, Some(json!("pr"))),
                filter("properties.plan", FilterOp::Contains, Some(json!("te"))),
            ]
        }
    );
    assert_eq!(
        c("does not contain", json!(["pr", "te"])).unwrap(),
        Condition::All {
            all: vec![
                filter("properties.plan", FilterOp::NotContains, Some(json!("pr"))),
                filter("properties.plan", FilterOp::NotContains, Some(json!("te"))),
            ]
        }
    );
    for (op, sextant) in [
        ("less", FilterOp::Lt),
        ("less or equal", FilterOp::Lte),
        ("greater", FilterOp::Gt),
        ("greater or equal", FilterOp::Gte),
    ] {
        assert_eq!(
            c(op, json!(["2.5"])).unwrap(),
            filter("properties.plan", sextant, Some(json!(2.5)))
        );
    }
    assert!(c("greater", json!(["many"])).unwrap_err().contains("needs a number"));
    assert!(c("less", json!([1, 2])).unwrap_err().contains("exactly one value"));
    assert!(c("set is", json!(["a"])).unwrap_err().contains("not supported"));
    assert!(c("set is not", json!(["a"])).unwrap_err().contains("not supported"));
    assert!(c("glob match", json!(["a"])).unwrap_err().contains("unknown operator"));
    assert!(c("is", json!([])).unwrap_err().contains("no values"));
    // Equality on the numeric column compares numbers.
    let revenue = condition(PropertyRef::Column(Column::Value), "is", &[json!("49.5")]).unwrap();
    assert_eq!(revenue, filter("value", FilterOp::Eq, Some(json!([49.5]))));
}

#[test]
fn events() {
    let e = event(
        r#"{"event_type": "purchase", "filters": [
            {"subprop_type": "event", "subprop_key": "plan", "subprop_op": "is", "subprop_value": ["pro"]},
            {"subprop_type": "user", "subprop_key": "gp:company", "subprop_op": "contains", "subprop_value": ["acme"]}],
            "group_by": [{"type": "user", "value": "country"}, {"type": "event", "value": "plan"}]}"#,
        "e",
        &[],
    )
    .unwrap();
    assert_eq!(e.matcher.event.as_deref(), Some("purchase"));
    assert_eq!(e.matcher.label.as_deref(), Some("purchase"));
    assert_eq!(
        e.matcher.filters,
        vec![
            filter("properties.plan", FilterOp::Eq, Some(json!(["pro"]))),
            filter("person.company", FilterOp::Contains, Some(json!("acme"))),
        ]
    );
    assert_eq!(
        e.group_by.into_iter().map(String::from).collect::<Vec<_>>(),
        ["country", "properties.plan"]
    );
    for any in ["_all", "_active"] {
        let e = event(&format!(r#"{{"event_type": "{any}"}}"#), "e", &[]).unwrap();
        assert_eq!(e.matcher.event, None);
    }
    assert!(event(r#"{"event_type": "_new"}"#, "e", &[]).unwrap_err().contains("not supported"));
    assert_eq!(event(r#"{"event_type": "_new"}"#, "se", &["_new"]).unwrap().matcher.event, None);
    assert!(event("purchase", "e", &[]).unwrap_err().starts_with("`e` must be a JSON event"));
    let bad_type = r#"{"event_type": "a", "group_by": [{"type": "group", "value": "x"}]}"#;
    assert!(event(bad_type, "e", &[]).unwrap_err().contains("must be `event` or `user`"));
}

#[test]
fn segments_are_user_property_conditions() {
    let s = segment(r#"[{"prop": "gp:plan", "op": "is", "values": ["pro"]}, {"prop": "country", "op": "is not", "values": ["DE"]}]"#).unwrap();
    assert_eq!(
        s,
        vec![
            filter("person.plan", FilterOp::Eq, Some(json!(["pro"]))),
            filter("country", FilterOp::Neq, Some(json!(["DE"]))),
        ]
    );
    assert!(segment(r#"[{"type": "event", "event_type": "x", "op": ">=", "value": 1}]"#).is_err());
    assert!(
        segment(r#"[{"prop": "userdata_cohort", "op": "is", "values": ["c1"]}]"#)
            .unwrap_err()
            .contains("cohort")
    );
    let p = params(&[("s", "[]"), ("s", "[]")], &["s"]).unwrap();
    assert_eq!(p.segment().unwrap_err(), "only one segment `s` is supported");
}

#[test]
fn breakdowns_keep_at_most_the_allowed_properties() {
    let country = PropertyRef::Column(Column::Country);
    let plan = PropertyRef::Person(vec!["plan".into()]);
    assert_eq!(breakdown(Vec::new(), 100, 2), Ok(None));
    let two = breakdown(vec![country.clone(), plan.clone()], 7, 2).unwrap().unwrap();
    assert_eq!(
        (two.property, two.and, two.limit, two.other),
        (country.clone(), Some(plan.clone()), 7, false)
    );
    assert!(breakdown(vec![country, plan], 100, 1).unwrap_err().contains("at most 1"));
}
