#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use sextant_query::{Breakdown, Column, DateRange, Interval, PropertyRef};

fn params(pairs: &[(&str, &str)], known: &[&str]) -> Params {
    Params::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), known)
        .unwrap()
}

const WEEK: [(&str, &str); 2] = [("start", "20260302"), ("end", "20260308")];

fn segmentation_of(extra: &[(&str, &str)]) -> Result<Segmentation, Invalid> {
    let mut pairs = WEEK.to_vec();
    pairs.extend_from_slice(extra);
    super::segmentation(&params(&pairs, SEGMENTATION))
}

#[test]
fn segmentation_metrics() {
    let view = r#"{"event_type": "view"}"#;
    let maths = |m: &str| {
        let s = segmentation_of(&[("e", view), ("m", m)]).unwrap();
        s.query.series.iter().map(|s| (s.event.clone(), s.math)).collect::<Vec<_>>()
    };
    let view_math = |math| vec![(Some("view".to_owned()), math)];
    assert_eq!(maths("uniques"), view_math(Math::UniqueUsers));
    assert_eq!(maths("totals"), view_math(Math::Total));
    assert_eq!(maths("average"), view_math(Math::PerUserAverage));
    assert_eq!(
        maths("pct_dau"),
        vec![(Some("view".to_owned()), Math::UniqueUsers), (None, Math::UniqueUsers)],
        "uniques of the event, then of any event"
    );
    let default = segmentation_of(&[("e", view)]).unwrap();
    assert_eq!((default.metric, default.events, default.grouped), (Metric::Uniques, 1, false));
    assert_eq!(default.query.interval, Interval::Day);
    assert_eq!(
        default.query.date_range,
        DateRange { from: "2026-03-02".into(), to: Some("2026-03-08".into()) }
    );
    assert!(segmentation_of(&[("e", view), ("m", "histogram")]).unwrap_err().contains("histogram"));
    assert!(segmentation_of(&[("e", view), ("m", "medians")]).is_err());
    assert!(segmentation_of(&[("e", view), ("n", "new")]).is_err());
    assert!(
        segmentation_of(&[("e", view), ("formula", "UNIQUES(A)")])
            .unwrap_err()
            .contains("m=formula")
    );
    assert_eq!(segmentation_of(&[]).unwrap_err(), "`e` is required");
}

#[test]
fn property_metrics_measure_the_first_group_by_and_group_by_the_rest() {
    let purchase = r#"{"event_type": "purchase", "group_by": [
        {"type": "event", "value": "$revenue"}, {"type": "user", "value": "country"}]}"#;
    let s = segmentation_of(&[("e", purchase), ("m", "sums"), ("limit", "5")]).unwrap();
    assert_eq!(s.query.series[0].math, Math::Sum);
    assert_eq!(s.query.series[0].property, Some(PropertyRef::Column(Column::Value)));
    assert_eq!(
        s.query.breakdown,
        Some(Breakdown {
            property: PropertyRef::Column(Column::Country),
            and: None,
            limit: 5,
            other: false
        })
    );
    assert!(s.grouped);
    let avg = segmentation_of(&[("e", purchase), ("m", "value_avg")]).unwrap();
    assert_eq!(avg.query.series[0].math, Math::Avg);
    let error =
        segmentation_of(&[("e", r#"{"event_type": "purchase"}"#), ("m", "sums")]).unwrap_err();
    assert!(error.contains("first `group_by` of `e`"), "{error}");
}

#[test]
fn group_bys_come_from_the_events_and_g() {
    let e = r#"{"event_type": "a", "group_by": [{"type": "event", "value": "plan"}]}"#;
    let e2 = r#"{"event_type": "b", "group_by": [{"type": "event", "value": "plan"}]}"#;
    let s = segmentation_of(&[("e", e), ("e2", e2), ("g", "gp:company")]).unwrap();
    let b = s.query.breakdown.unwrap();
    assert_eq!(String::from(b.property), "properties.plan");
    assert_eq!(b.and.map(String::from).as_deref(), Some("person.company"));
    assert_eq!(b.limit, 100);
    assert_eq!(s.events, 2);
    let other = r#"{"event_type": "b"}"#;
    assert!(segmentation_of(&[("e", e), ("e2", other)]).unwrap_err().contains("same properties"));
    let three = segmentation_of(&[("e", e), ("g", "country"), ("g", "gp:x")]);
    assert!(three.unwrap_err().contains("at most 2"));
}

#[test]
fn formulas_become_series_and_a_formula_over_their_letters() {
    let a = r#"{"event_type": "signup"}"#;
    let b = r#"{"event_type": "purchase", "group_by": [{"type": "event", "value": "$revenue"}]}"#;
    let s = segmentation_of(&[
        ("e", a),
        ("e2", b),
        ("m", "formula"),
        ("formula", "PROPSUM(B) / UNIQUES(A) + TOTALS(B) * 0.5 - uniques(A)"),
    ])
    .unwrap();
    assert_eq!(s.query.formula.as_deref(), Some("A / B + C * 0.5 - B"));
    let series: Vec<_> =
        s.query.series.iter().map(|s| (s.event.clone().unwrap(), s.math)).collect();
    assert_eq!(
        series,
        [
            ("purchase".to_owned(), Math::Sum),
            ("signup".to_owned(), Math::UniqueUsers),
            ("purchase".to_owned(), Math::Total)
        ]
    );
    assert_eq!(s.query.series[0].property, Some(PropertyRef::Column(Column::Value)));
    assert!(!s.grouped, "the summed property is not a group-by");
    for (formula, problem) in [
        ("UNIQUES(B)", "not given"),
        ("UNIQUES(C)", "not an event letter"),
        ("MEDIAN(A)", "`MEDIAN` is not supported"),
        ("UNIQUES(A); TOTALS(A)", "`;` is not supported"),
        ("UNIQUES", "needs one event letter"),
        ("1 + 2", "uses no event"),
    ] {
        let error =
            segmentation_of(&[("e", a), ("m", "formula"), ("formula", formula)]).unwrap_err();
        assert!(error.contains(problem), "{formula}: {error}");
    }
}

#[test]
fn segmentation_filters_and_intervals() {
    let s = segmentation_of(&[
        ("e", r#"{"event_type": "_active"}"#),
        ("s", r#"[{"prop": "gp:plan", "op": "is", "values": ["pro"]}]"#),
        ("i", "-3600000"),
    ])
    .unwrap();
    assert_eq!(s.query.series[0].event, None);
    assert_eq!(s.query.filters.len(), 1);
    assert_eq!(s.query.interval, Interval::Hour);
}
