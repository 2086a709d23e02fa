//! The ClickHouse dialect as data: one spec per kind in, a SQL snapshot out (next to the
//! DuckDB snapshots in `src/snapshots`). Whether the SQL answers right is the conformance
//! suite's job, on a real server.

use crate::*;
use serde_json::json;

fn opts(rollups: bool) -> PlanOptions {
    PlanOptions {
        project_id: ProjectId::new("prj_test"),
        now: sextant_core::parse_timestamp("2026-11-22T12:00:00Z").unwrap(),
        max_buckets: 5000,
        rollups,
    }
}

fn snapshot(statement: &Statement) -> String {
    let params: Vec<String> =
        statement.params.iter().enumerate().map(|(i, p)| format!("${} = {p:?}", i + 1)).collect();
    format!("{}\n-- params\n{}", statement.sql, params.join("\n"))
}

fn planned(value: serde_json::Value) -> Statement {
    let query: Query = serde_json::from_value(value).unwrap();
    plan(&query, &opts(false), Dialect::ClickHouse).unwrap().statements()[0].clone()
}

#[test]
fn every_kind_has_a_clickhouse_plan() {
    let cases = [
        (
            "trends_count_per_day",
            json!({"kind": "trends", "series": [{"event": "page_view"}], "date_range": {"from": "2026-11-01", "to": "2026-11-21"}}),
        ),
        (
            "trends_two_series_filters_and_breakdown",
            json!({
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
                    {"property": "person.plan", "op": "is_set"}
                ],
                "breakdown": {"property": "properties.utm_source", "limit": 5}
            }),
        ),
        (
            "trends_maths_groups_zone_and_other",
            json!({
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
            }),
        ),
        (
            "funnel_ordered_with_exclusion_and_breakdown",
            json!({
                "kind": "funnel",
                "steps": [{"event": "page_view"}, {"event": "signup"}, {"event": "purchase", "filters": [{"property": "value", "op": "gt", "value": 0}]}],
                "date_range": {"from": "-30d"},
                "window": "7d",
                "exclusions": [{"event": "refund", "from_step": 1, "to_step": 2}],
                "breakdown": {"property": "country", "limit": 5}
            }),
        ),
        (
            "funnel_strict",
            json!({"kind": "funnel", "steps": [{"event": "a"}, {"event": "a"}, {"event": "b"}], "date_range": {"from": "-7d"}, "order": "strict"}),
        ),
        (
            "funnel_unordered",
            json!({"kind": "funnel", "steps": [{"event": "a"}, {"event": "a"}, {"event": "b"}], "date_range": {"from": "-7d"}, "order": "unordered"}),
        ),
        (
            "funnel_persons",
            json!({"kind": "funnel_persons", "funnel": {"steps": [{"event": "a"}, {"event": "b"}], "date_range": {"from": "-7d"}}, "step": 1, "status": "dropped"}),
        ),
        (
            "retention_first_time_rolling",
            json!({
                "kind": "retention", "date_range": {"from": "-8w"}, "start": {"event": "signup"},
                "return": {"event": "page_view"}, "period": "week", "intervals": 8,
                "cohort": "first_time", "mode": "rolling"
            }),
        ),
        (
            "retention_bracket",
            json!({
                "kind": "retention", "date_range": {"from": "-30d"}, "start": {"event": "signup"},
                "mode": "bracket", "brackets": [[1, 1], [2, 7], [8, 30]],
                "breakdown": {"property": "country", "other": true}
            }),
        ),
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
            json!({"kind": "lifecycle", "date_range": {"from": "-8w"}, "interval": "month"}),
        ),
        (
            "sessions",
            json!({
                "kind": "sessions", "date_range": {"from": "-7d"}, "timezone": "Europe/Berlin",
                "filters": [{"property": "event", "op": "eq", "value": "page_view"}]
            }),
        ),
        (
            "paths",
            json!({"kind": "paths", "date_range": {"from": "-7d"}, "anchor": {"event": "signup"}, "direction": "previous", "steps": 4}),
        ),
    ];
    for (name, spec) in cases {
        insta::assert_snapshot!(format!("clickhouse_{name}"), snapshot(&planned(spec)));
    }
}

#[test]
fn raw_event_lists_and_exports() {
    let query = EventListQuery {
        limit: Some(2),
        event: Some("signup".into()),
        ..EventListQuery::default()
    };
    let first = plan_event_list(&query, &opts(false), Dialect::ClickHouse).unwrap();
    insta::assert_snapshot!("clickhouse_event_list", snapshot(&first.statement));
    let export = ExportPlan::new(&ProjectId::new("prj_test"), None, Dialect::ClickHouse);
    assert!(export.statement.sql.contains("ORDER BY timestamp, insert_id"));
}

/// Plans over the rollups: totals and `value` aggregates from `rollup_hourly` (its states
/// finalised per hour), a dimension breakdown from `rollup_dimensions`, people from
/// `rollup_actors`, and a mid-hour start from the events.
#[test]
fn rollup_plans() {
    let cases = [
        (
            "rollup_trends_total_and_sum",
            json!({"kind": "trends", "series": [{"event": "page_view"}, {"event": "purchase", "math": "sum", "property": "value"}], "date_range": {"from": "2026-11-01T10:30:00Z", "to": "2026-11-08"}}),
        ),
        (
            "rollup_trends_by_country",
            json!({"kind": "trends", "series": [{"event": "page_view"}], "date_range": {"from": "2026-11-01", "to": "2026-11-08"}, "breakdown": {"property": "country", "limit": 5, "other": true}}),
        ),
        (
            "rollup_unique_users",
            json!({"kind": "trends", "series": [{"event": "page_view", "math": "unique_users"}], "date_range": {"from": "2026-11-01", "to": "2026-11-08"}}),
        ),
    ];
    for (name, spec) in cases {
        let query: Query = serde_json::from_value(spec).unwrap();
        let statement =
            plan(&query, &opts(true), Dialect::ClickHouse).unwrap().statements()[0].clone();
        assert!(statement.sql.contains("rollup_"), "{}", statement.sql);
        insta::assert_snapshot!(format!("clickhouse_{name}"), snapshot(&statement));
    }
}

/// ClickHouse keeps no sketch of `value`, and its funnels find step 0 in the events: these
/// read the events even with rollups on.
#[test]
fn quantiles_and_funnels_read_the_events() {
    for spec in [
        json!({"kind": "trends", "series": [{"event": "workflow_run", "math": "p95", "property": "value"}], "interval": "day", "date_range": {"from": "-7d"}}),
        json!({"kind": "funnel", "steps": [{"event": "a"}, {"event": "b"}], "date_range": {"from": "-7d"}}),
    ] {
        let query: Query = serde_json::from_value(spec).unwrap();
        for statement in plan(&query, &opts(true), Dialect::ClickHouse).unwrap().statements() {
            assert!(!statement.sql.contains("rollup_"), "{}", statement.sql);
        }
    }
}
