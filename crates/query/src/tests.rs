//! Planning as data: a spec in, a SQL snapshot (and its parameters) out.

use super::*;
use serde_json::json;

/// Without rollups, so snapshots show the plans over the events; the rollup tests below
/// turn them on.
fn opts() -> PlanOptions {
    PlanOptions {
        project_id: ProjectId::new("prj_test"),
        now: sextant_core::parse_timestamp("2026-11-22T12:00:00Z").unwrap(),
        max_buckets: 5000,
        rollups: false,
    }
}

fn spec(value: serde_json::Value) -> Query {
    serde_json::from_value(value).unwrap()
}

fn planned(value: serde_json::Value) -> Statement {
    plan(&spec(value), &opts(), Dialect::DuckDb).unwrap().statements()[0].clone()
}

fn planned_with_rollups(value: serde_json::Value) -> Statement {
    let opts = PlanOptions { rollups: true, ..opts() };
    plan(&spec(value), &opts, Dialect::DuckDb).unwrap().statements()[0].clone()
}

fn snapshot(statement: &Statement) -> String {
    let params: Vec<String> =
        statement.params.iter().enumerate().map(|(i, p)| format!("${} = {p:?}", i + 1)).collect();
    format!("{}\n-- params\n{}", statement.sql, params.join("\n"))
}

#[test]
fn trends_count_per_day() {
    let s = planned(json!({
        "kind": "trends",
        "series": [{"event": "page_view"}],
        "date_range": {"from": "2026-11-01", "to": "2026-11-21"}
    }));
    insta::assert_snapshot!(snapshot(&s));
}

#[test]
fn trends_two_series_filters_and_breakdown() {
    let s = planned(json!({
        "kind": "trends",
        "series": [
            {"event": "signup", "math": "total"},
            {"event": "purchase", "math": "unique_users", "filters": [{"property": "value", "op": "gte", "value": 10}]}
        ],
        "interval": "week",
        "date_range": {"from": "-30d"},
        "filters": [
            {"property": "country", "op": "eq", "value": ["DE", "FR"]},
            {"property": "properties.plan.tier", "op": "neq", "value": "free"},
            {"property": "url", "op": "contains", "value": "Checkout"},
            {"property": "session_id", "op": "is_set"}
        ],
        "breakdown": {"property": "properties.utm_source", "limit": 5}
    }));
    insta::assert_snapshot!(snapshot(&s));
}

#[test]
fn trends_by_person_property() {
    let s = planned(json!({
        "kind": "trends",
        "series": [{"event": "page_view"}],
        "interval": "day",
        "date_range": {"from": "-7d"},
        "filters": [{"property": "person.plan", "op": "eq", "value": "pro"}],
        "breakdown": {"property": "person.company"}
    }));
    insta::assert_snapshot!(snapshot(&s));
}

#[test]
fn event_list_with_cursor() {
    let first = plan_event_list(
        &EventListQuery { limit: Some(2), ..Default::default() },
        &opts(),
        Dialect::DuckDb,
    )
    .unwrap();
    insta::assert_snapshot!(snapshot(&first.statement));
    let t = |s: &str| Cell::Timestamp(sextant_core::parse_timestamp(s).unwrap().timestamp_micros());
    let row = |ts: &str, id: &str| {
        let mut row = vec![
            Cell::Text("prj_test".into()),
            Cell::Text("e".into()),
            t(ts),
            t(ts),
            Cell::Text(id.into()),
        ];
        row.extend(std::iter::repeat_n(Cell::Null, 16));
        row.extend([Cell::Float(1.5), Cell::Null, Cell::Text(r#"{"a":1}"#.into())]);
        row
    };
    let page = first
        .assemble(vec![
            row("2026-11-22T10:00:00Z", "b"),
            row("2026-11-22T09:00:00Z", "a"),
            row("2026-11-22T08:00:00Z", "z"),
        ])
        .unwrap();
    assert_eq!(page.events.len(), 2);
    assert_eq!(page.events[1].value, Some(1.5));
    assert_eq!(page.events[1].properties["a"], 1);
    let cursor = page.next_cursor.expect("a third row means another page");
    let second = plan_event_list(
        &EventListQuery {
            limit: Some(2),
            cursor: Some(cursor),
            event: Some("e".into()),
            ..Default::default()
        },
        &opts(),
        Dialect::DuckDb,
    )
    .unwrap();
    assert!(
        second.statement.sql.contains("(timestamp < $3 OR (timestamp = $3 AND insert_id < $4))"),
        "{}",
        second.statement.sql
    );
    assert_eq!(second.statement.params[3], Param::Text("a".into()));
    let last = second.assemble(vec![row("2026-11-22T08:00:00Z", "z")]).unwrap();
    assert_eq!(last.next_cursor, None);
}

#[test]
fn bad_specs_get_specific_errors() {
    let err = |v: serde_json::Value| match serde_json::from_value::<Query>(v) {
        Err(e) => e.to_string(),
        Ok(q) => plan(&q, &opts(), Dialect::DuckDb).unwrap_err().to_string(),
    };
    let base = |extra: serde_json::Value| {
        let mut q =
            json!({"kind": "trends", "series": [{"event": "x"}], "date_range": {"from": "-7d"}});
        q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        q
    };
    assert!(err(base(json!({"series": []}))).contains("needs 1 to 20 series"));
    assert!(
        err(base(json!({"filters": [{"property": "colour", "op": "eq", "value": 1}]})))
            .contains("unknown property `colour`")
    );
    assert!(
        err(base(json!({"filters": [{"property": "country", "op": "eq"}]})))
            .contains("needs a value")
    );
    assert!(
        err(base(json!({"filters": [{"property": "value", "op": "gt", "value": "big"}]})))
            .contains("needs a number")
    );
    assert!(err(base(json!({"interval": "fortnight"}))).contains("unknown variant `fortnight`"));
    assert!(err(base(json!({"version": 2}))).contains("unsupported trends version 2"));
    assert!(
        err(base(json!({"interval": "minute", "date_range": {"from": "-30d"}})))
            .contains("more than 5000 minute buckets")
    );
    assert!(err(json!({"kind": "funnels"})).contains("unknown variant `funnels`"));
    let bad_cursor = plan_event_list(
        &EventListQuery { cursor: Some("not-ours".into()), ..Default::default() },
        &opts(),
        Dialect::DuckDb,
    );
    assert_eq!(bad_cursor.unwrap_err().to_string(), "cursor is not one this server issued");
}

#[test]
fn property_refs_round_trip_through_json() {
    let f: Filter =
        serde_json::from_value(json!({"property": "properties.a.b", "op": "is_set"})).unwrap();
    assert_eq!(f.property, PropertyRef::Custom(vec!["a".into(), "b".into()]));
    assert_eq!(
        serde_json::to_value(&f).unwrap(),
        json!({"property": "properties.a.b", "op": "is_set"})
    );
    assert!(
        serde_json::from_value::<Filter>(json!({"property": "properties..x", "op": "is_set"}))
            .is_err()
    );
}

#[test]
fn assemble_zero_fills_and_orders_breakdowns() {
    let q = spec(json!({
        "kind": "trends",
        "series": [{"event": "a", "math": "unique_users"}],
        "date_range": {"from": "2026-11-01", "to": "2026-11-03"},
        "breakdown": {"property": "country"}
    }));
    let Plan::Trends(p) = plan(&q, &opts(), Dialect::DuckDb).unwrap() else { unreachable!() };
    let day =
        |d: &str| Cell::Timestamp(sextant_core::parse_timestamp(d).unwrap().timestamp_micros());
    let row = |total: i64, bucket: Cell, country: Option<&str>, people: i64| {
        let country = country.map_or(Cell::Null, |c| Cell::Text(c.into()));
        vec![
            Cell::Int(total),
            bucket,
            Cell::Int(0),
            country,
            Cell::Null,
            Cell::Int(people),
            Cell::Null,
        ]
    };
    let rows = vec![
        row(0, day("2026-11-02"), Some("DE"), 2),
        row(1, Cell::Null, Some("DE"), 2),
        row(0, day("2026-11-01"), None, 3),
        row(0, day("2026-11-03"), None, 1),
        row(1, Cell::Null, None, 3),
    ];
    let result = serde_json::to_value(p.assemble(vec![rows]).unwrap()).unwrap();
    assert_eq!(
        result,
        json!({
            "interval": "day",
            "from": "2026-11-01T00:00:00Z",
            "to": "2026-11-04T00:00:00Z",
            "buckets": ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"],
            "series": [
                {"series": 0, "label": "a", "math": "unique_users", "breakdown_value": null, "values": [3, 0, 1], "total": 3},
                {"series": 0, "label": "a", "math": "unique_users", "breakdown_value": "DE", "values": [0, 2, 0], "total": 2}
            ]
        })
    );
}

#[test]
fn trends_maths_groups_zone_and_other() {
    let s = planned(json!({
        "kind": "trends",
        "series": [
            {"event": "purchase", "math": "p95", "property": "value"},
            {"event": "page_view", "math": "dau_normalised"},
            {"event": "workflow_run", "math": "avg", "property": "properties.duration_ms"}
        ],
        "date_range": {"from": "last_month"},
        "timezone": "Europe/Berlin",
        "filters": [{"any": [
            {"property": "url", "op": "regex", "value": "^https://[a-z]+\\.example/"},
            {"all": [{"property": "properties.items", "op": "between", "value": [2, 5]}, {"property": "country", "op": "is_not_set"}]}
        ]}],
        "breakdown": {"property": "country", "and": "browser", "limit": 3, "other": true}
    }));
    insta::assert_snapshot!(snapshot(&s));
}

#[test]
fn trends_compare_is_a_second_statement() {
    let q = spec(json!({
        "kind": "trends",
        "series": [{"event": "signup"}, {"event": "page_view", "math": "unique_users"}],
        "date_range": {"from": "2026-11-01", "to": "2026-11-07"},
        "compare": "previous_period",
        "formula": "A / B * 100"
    }));
    let p = plan(&q, &opts(), Dialect::DuckDb).unwrap();
    let [current, earlier] = p.statements() else { panic!("two statements") };
    assert_eq!(current.sql, earlier.sql);
    let at = |s: &Statement, i: usize| s.params[i].clone();
    assert_eq!(
        at(current, 1),
        Param::Timestamp(sextant_core::parse_timestamp("2026-11-01").unwrap())
    );
    assert_eq!(
        at(earlier, 1),
        Param::Timestamp(sextant_core::parse_timestamp("2026-10-25").unwrap())
    );
    assert_eq!(
        at(earlier, 2),
        Param::Timestamp(sextant_core::parse_timestamp("2026-11-01").unwrap())
    );
}

#[test]
fn funnel_ordered_with_exclusion_and_breakdown() {
    let s = planned(json!({
        "kind": "funnel",
        "steps": [{"event": "page_view"}, {"event": "signup"}, {"event": "purchase", "filters": [{"property": "value", "op": "gt", "value": 0}]}],
        "date_range": {"from": "-30d"},
        "window": "7d",
        "exclusions": [{"event": "refund", "from_step": 1, "to_step": 2}],
        "breakdown": {"property": "country", "limit": 5}
    }));
    insta::assert_snapshot!(snapshot(&s));
}

#[test]
fn funnel_strict_and_unordered() {
    let steps = json!([{"event": "a"}, {"event": "a"}, {"event": "b"}]);
    for order in ["strict", "unordered"] {
        let s = planned(json!({
            "kind": "funnel", "steps": steps, "date_range": {"from": "-7d"}, "order": order
        }));
        insta::assert_snapshot!(format!("funnel_{order}"), snapshot(&s));
    }
}

#[test]
fn retention_first_time_rolling_and_bracket() {
    let s = planned(json!({
        "kind": "retention",
        "date_range": {"from": "-8w"},
        "start": {"event": "signup"},
        "return": {"event": "page_view"},
        "period": "week",
        "intervals": 8,
        "cohort": "first_time",
        "mode": "rolling"
    }));
    insta::assert_snapshot!(snapshot(&s));
    let s = planned(json!({
        "kind": "retention",
        "date_range": {"from": "-30d"},
        "start": {"event": "signup"},
        "mode": "bracket",
        "brackets": [[1, 1], [2, 7], [8, 30]],
        "breakdown": {"property": "country", "other": true}
    }));
    insta::assert_snapshot!("retention_bracket", snapshot(&s));
}

#[test]
fn active_users_stickiness_lifecycle() {
    for (name, q) in [
        (
            "active_users",
            json!({"kind": "active_users", "date_range": {"from": "-30d"}, "timezone": "America/New_York"}),
        ),
        (
            "stickiness",
            json!({"kind": "stickiness", "date_range": {"from": "-8w"}, "activity": {"event": "page_view"}}),
        ),
        (
            "lifecycle",
            json!({"kind": "lifecycle", "date_range": {"from": "-8w"}, "interval": "week"}),
        ),
    ] {
        insta::assert_snapshot!(name, snapshot(&planned(q)));
    }
}

#[test]
fn bad_specs_of_other_kinds_get_specific_errors() {
    let err = |v: serde_json::Value| match serde_json::from_value::<Query>(v) {
        Err(e) => e.to_string(),
        Ok(q) => plan(&q, &opts(), Dialect::DuckDb).unwrap_err().to_string(),
    };
    let funnel = |extra: serde_json::Value| {
        let mut q = json!({"kind": "funnel", "steps": [{"event": "a"}, {"event": "b"}], "date_range": {"from": "-7d"}});
        q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        err(q)
    };
    assert!(funnel(json!({"steps": [{"event": "a"}]})).contains("2 to 20 steps"));
    assert!(funnel(json!({"window": "soon"})).contains("window: cannot read `soon`"));
    assert!(
        funnel(json!({"order": "unordered", "exclusions": [{"event": "x"}]}))
            .contains("not supported in unordered")
    );
    assert!(funnel(json!({"timezone": "Nowhere/City"})).contains("unknown time zone"));
    assert!(
        funnel(json!({"filters": [{"property": "url", "op": "regex", "value": "("}]}))
            .contains("invalid regular expression")
    );
    assert!(funnel(json!({"filters": [{"any": []}]})).contains("needs at least one item"));
    assert!(
        funnel(json!({"filters": [{"property": "value", "op": "between", "value": [1]}]}))
            .contains("`[low, high]`")
    );
    let retention = json!({"kind": "retention", "date_range": {"from": "-7d"}, "start": {"event": "a"}, "mode": "bracket"});
    assert!(err(retention).contains("bracket mode needs `brackets`"));
    let trends = json!({"kind": "trends", "series": [{"event": "a", "math": "sum"}], "date_range": {"from": "-7d"}});
    assert!(err(trends).contains("needs a numeric `property`"));
    let trends = json!({"kind": "trends", "series": [{"event": "a", "math": "unique_users"}], "date_range": {"from": "-7d"}, "cumulative": true});
    assert!(err(trends).contains("cumulative works with math `total` and `sum` only"));
    let trends = json!({"kind": "trends", "series": [{"event": "a"}], "date_range": {"from": "-7d"}, "formula": "A + B"});
    assert!(err(trends).contains("series `B` does not exist"));
}

#[test]
fn sessions_and_paths() {
    let s = planned(json!({
        "kind": "sessions", "date_range": {"from": "-7d"}, "timezone": "Europe/Berlin",
        "filters": [{"property": "event", "op": "eq", "value": "page_view"}]
    }));
    insta::assert_snapshot!("sessions", snapshot(&s));
    let s = planned(json!({
        "kind": "paths", "date_range": {"from": "-7d"}, "anchor": {"event": "signup"},
        "direction": "previous", "steps": 4
    }));
    insta::assert_snapshot!("paths", snapshot(&s));
}

#[test]
fn trends_read_the_hourly_rollup_only_when_it_holds_the_answer() {
    let sql = |extra: serde_json::Value| {
        let mut q = json!({"kind": "trends", "series": [{"event": "purchase", "math": "sum", "property": "value"}, {}],
            "date_range": {"from": "2026-11-01T10:30:00Z", "to": "2026-11-20T00:00:00Z"}});
        q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        planned_with_rollups(q).sql
    };
    let rolled = sql(json!({}));
    assert!(rolled.contains("FROM rollup_hourly"), "{rolled}");
    assert!(
        rolled.contains(
            "FROM events WHERE project_id = $1 AND ((timestamp >= $4 AND timestamp < $5))"
        ),
        "the partial first hour comes from events: {rolled}"
    );
    insta::assert_snapshot!("trends_from_rollup", rolled);
    for (why, extra) in [
        ("a filter", json!({"filters": [{"property": "country", "op": "eq", "value": "DE"}]})),
        ("minute buckets", json!({"interval": "minute", "date_range": {"from": "-1d"}})),
        ("a half-hour zone", json!({"timezone": "Asia/Kolkata"})),
        ("a breakdown", json!({"breakdown": {"property": "event"}})),
        ("unique users", json!({"series": [{"math": "unique_users"}]})),
        ("a JSON property", json!({"series": [{"math": "sum", "property": "properties.amount"}]})),
    ] {
        assert!(!sql(extra).contains("rollup_hourly"), "{why} needs the events");
    }
}

#[test]
fn trends_read_dimension_counts_and_the_value_sketch_only_when_they_hold_the_answer() {
    let sql = |extra: serde_json::Value| {
        let mut q = json!({"kind": "trends", "date_range": {"from": "2026-11-01T10:30:00Z", "to": "2026-11-20T00:00:00Z"}});
        q.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        planned_with_rollups(q).sql
    };
    let by_country = json!({"series": [{}, {"event": "purchase", "math": "sum", "property": "value"}],
        "breakdown": {"property": "country", "limit": 5, "other": true}});
    let rolled = sql(by_country);
    assert!(rolled.contains("FROM rollup_dimensions WHERE dimension = "), "{rolled}");
    insta::assert_snapshot!("trends_by_dimension_from_rollup", rolled);
    let quantiles = json!({"series": [{"event": "purchase", "math": "p95", "property": "value"}, {"event": "purchase"}]});
    let sketched = sql(quantiles);
    assert!(sketched.contains("FROM rollup_value_buckets"), "{sketched}");
    assert!(sketched.contains("FROM rollup_hourly"), "{sketched}");
    insta::assert_snapshot!("trends_quantiles_from_sketch", sketched);
    for (why, extra) in [
        ("a JSON property", json!({"series": [{}], "breakdown": {"property": "properties.plan"}})),
        ("a high-cardinality column", json!({"series": [{}], "breakdown": {"property": "path"}})),
        (
            "two properties",
            json!({"series": [{}], "breakdown": {"property": "country", "and": "browser"}}),
        ),
        (
            "broken-down quantiles",
            json!({"series": [{"math": "p95", "property": "value"}], "breakdown": {"property": "country"}}),
        ),
    ] {
        assert!(!sql(extra).contains("rollup_"), "{why} needs the events");
    }
    let formula =
        json!({"series": [{"math": "median", "property": "value"}, {}], "formula": "A / B"});
    assert!(!sql(formula).contains("rollup_value_buckets"), "a formula needs exact quantiles");
}

#[test]
fn person_queries_read_the_people_rollups_only_when_they_hold_the_answer() {
    let range = json!({"from": "2026-11-01T10:30:00Z", "to": "2026-11-20T00:00:00Z"});
    let cases = [
        (
            "unique_users",
            json!({"kind": "trends", "series": [{"event": "page_view", "math": "unique_users"}, {"math": "per_user_average"}], "date_range": range}),
        ),
        (
            "active_users",
            json!({"kind": "active_users", "date_range": range, "activity": {"event": "page_view"}}),
        ),
        (
            "retention",
            json!({"kind": "retention", "date_range": range, "start": {"event": "signup"}, "cohort": "first_time"}),
        ),
        (
            "funnel",
            json!({"kind": "funnel", "date_range": range, "steps": [{"event": "page_view"}, {"event": "signup"}, {"event": "purchase"}]}),
        ),
    ];
    for (name, q) in cases {
        let statement = planned_with_rollups(q.clone());
        assert!(statement.sql.contains("FROM rollup_actors"), "{name}: {}", statement.sql);
        insta::assert_snapshot!(format!("{name}_from_people_rollups"), snapshot(&statement));
        let mut filtered = q;
        filtered["filters"] = json!([{"property": "country", "op": "eq", "value": "DE"}]);
        assert!(
            !planned_with_rollups(filtered).sql.contains("rollup_actors"),
            "{name} with a filter"
        );
    }
    let broken_down = json!({"kind": "retention", "date_range": range, "start": {"event": "signup"},
        "breakdown": {"property": "country"}});
    assert!(!planned_with_rollups(broken_down).sql.contains("rollup_actors"));
}
