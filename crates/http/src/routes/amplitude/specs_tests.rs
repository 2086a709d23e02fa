#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn params(pairs: &[(&str, &str)], known: &[&str]) -> Params {
    Params::new(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), known)
        .unwrap()
}

const WEEK: [(&str, &str); 2] = [("start", "20260302"), ("end", "20260308")];

#[test]
fn funnel_steps_modes_and_windows() {
    let steps = [
        ("e", r#"{"event_type": "view"}"#),
        ("e", r#"{"event_type": "signup"}"#),
        ("e", r#"{"event_type": "purchase"}"#),
    ];
    let mut pairs = WEEK.to_vec();
    pairs.extend_from_slice(&steps);
    let f = funnel(&params(&pairs, FUNNELS)).unwrap();
    assert_eq!(f.query.steps.len(), 3);
    assert_eq!(f.query.window, "2592000s");
    assert_eq!(f.query.order, FunnelOrder::Ordered);
    assert!(!f.grouped);
    assert_eq!(f.through(1).steps.len(), 2);
    let mut more = pairs.clone();
    more.extend_from_slice(&[
        ("mode", "sequential"),
        ("cs", "3600"),
        ("g", "country"),
        ("limit", "3"),
    ]);
    let f = funnel(&params(&more, FUNNELS)).unwrap();
    assert_eq!(
        (f.query.order, f.query.window.as_str(), f.grouped),
        (FunnelOrder::Strict, "3600s", true)
    );
    assert_eq!(f.query.breakdown.as_ref().map(|b| b.limit), Some(3));
    assert!(f.through(1).breakdown.is_none());
    for (extra, problem) in [
        (("n", "new"), "not supported"),
        (("mode", "any"), "ordered, unordered or sequential"),
        (("cs", "0"), "number of seconds"),
    ] {
        let mut bad = pairs.clone();
        bad.push(extra);
        assert!(funnel(&params(&bad, FUNNELS)).unwrap_err().contains(problem), "{extra:?}");
    }
    let one = funnel(&params(&[WEEK[0], WEEK[1], steps[0]], FUNNELS)).unwrap_err();
    assert!(one.contains("2 to 20 events"));
    let grouped_step = [
        WEEK[0],
        WEEK[1],
        steps[0],
        ("e", r#"{"event_type": "x", "group_by": [{"type": "user", "value": "country"}]}"#),
    ];
    assert!(funnel(&params(&grouped_step, FUNNELS)).unwrap_err().contains("use `g`"));
}

#[test]
fn retention_events_modes_and_brackets() {
    let base = |extra: &[(&str, &str)]| {
        let mut pairs = WEEK.to_vec();
        pairs.extend_from_slice(&[
            ("se", r#"{"event_type": "signup"}"#),
            ("re", r#"{"event_type": "_all"}"#),
        ]);
        pairs.extend_from_slice(extra);
        super::retention(&params(&pairs, RETENTION))
    };
    let r = base(&[]).unwrap();
    assert_eq!(r.query.start.event.as_deref(), Some("signup"));
    assert_eq!(r.query.return_event, EventMatcher::default());
    assert_eq!(
        (r.query.period, r.query.intervals, r.query.mode),
        (Interval::Day, 8, RetentionMode::NDay)
    );
    assert_eq!(r.query.cohort, CohortType::Recurring);
    let weekly = base(&[("i", "7"), ("rm", "rolling")]).unwrap();
    assert_eq!(
        (weekly.query.period, weekly.query.intervals, weekly.query.mode),
        (Interval::Week, 2, RetentionMode::Rolling)
    );
    let brackets = base(&[("rm", "bracket"), ("rb", "[[1,2],[2,8],[8,31]]")]).unwrap();
    assert_eq!(brackets.query.brackets, vec![[1, 1], [2, 7], [8, 30]]);
    assert_eq!(brackets.query.intervals, 31);
    assert_eq!(base(&[("rm", "bracket"), ("rb", "[1,8]")]).unwrap().query.brackets, vec![[1, 7]]);
    assert!(base(&[("rm", "bracket"), ("rb", "[[0,5]]")]).unwrap_err().contains("period 1"));
    assert!(base(&[("rm", "bracket"), ("rb", "[[3,3]]")]).unwrap_err().contains("empty"));
    assert!(base(&[("rm", "bracket")]).unwrap_err().contains("needs the brackets"));
    assert!(base(&[("rb", "[1,2]")]).unwrap_err().contains("only applies"));
    assert!(base(&[("i", "-3600000")]).is_err());
    let new = super::retention(&params(
        &[
            WEEK[0],
            WEEK[1],
            ("se", r#"{"event_type": "_new"}"#),
            ("re", r#"{"event_type": "_active"}"#),
        ],
        RETENTION,
    ))
    .unwrap();
    assert_eq!((new.query.cohort, new.query.start.event), (CohortType::FirstTime, None));
    let grouped = base(&[("g", "gp:plan")]).unwrap();
    assert!(grouped.grouped);
}

#[test]
fn periods_touched_by_a_range() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert_eq!(periods(d("2026-03-02"), d("2026-03-08"), Interval::Day), 7);
    // Sunday to Monday: two ISO weeks.
    assert_eq!(periods(d("2026-03-01"), d("2026-03-02"), Interval::Week), 2);
    assert_eq!(periods(d("2025-12-31"), d("2026-02-01"), Interval::Month), 3);
}

#[test]
fn active_and_new_users() {
    let active = super::users(&params(&[WEEK[0], WEEK[1], ("g", "country")], USERS)).unwrap();
    assert!(
        matches!(&active, Users::Active { grouped: true, query } if query.series[0].math == Math::UniqueUsers)
    );
    let new = super::users(&params(&[WEEK[0], WEEK[1], ("m", "new"), ("i", "7")], USERS)).unwrap();
    assert!(matches!(new, Users::New(LifecycleQuery { interval: Interval::Week, .. })));
    assert!(
        super::users(&params(&[WEEK[0], WEEK[1], ("m", "new"), ("g", "country")], USERS)).is_err()
    );
    assert!(super::users(&params(&[WEEK[0], WEEK[1], ("m", "stale")], USERS)).is_err());
}

#[test]
fn session_length_bins() {
    let bins = |extra: &[(&str, &str)]| {
        let mut pairs = WEEK.to_vec();
        pairs.extend_from_slice(extra);
        sessions(&params(&pairs, SESSION_LENGTH)).map(|s| (s.query.length_bins, s.bins))
    };
    let (bounds, labels) = bins(&[]).unwrap();
    assert_eq!(bounds, DEFAULT_BINS.to_vec());
    assert_eq!(labels.first().map(String::as_str), Some("0s-3s"));
    assert_eq!(labels.last().map(String::as_str), Some("3600s-86400s"));
    assert_eq!(labels.len(), 9);
    let unit = ("timeHistogramConfigBinTimeUnit", "minutes");
    let (min, max) = (("timeHistogramConfigBinMin", "0"), ("timeHistogramConfigBinMax", "10"));
    let (bounds, labels) = bins(&[unit, min, max, ("timeHistogramConfigBinSize", "2.5")]).unwrap();
    assert_eq!(bounds, [0.0, 150.0, 300.0, 450.0, 600.0]);
    assert_eq!(labels, ["0s-150s", "150s-300s", "300s-450s", "450s-600s"]);
    assert_eq!(bins(&[unit, min, max]).unwrap().1.len(), 10, "10 bins when no size is given");
    let (_, uneven) = bins(&[
        ("timeHistogramConfigBinTimeUnit", "seconds"),
        min,
        ("timeHistogramConfigBinMax", "5"),
        ("timeHistogramConfigBinSize", "2"),
    ])
    .unwrap();
    assert_eq!(uneven, ["0s-2s", "2s-4s", "4s-5s"]);
    assert!(bins(&[unit, min]).unwrap_err().contains("need"));
    assert!(
        bins(&[("timeHistogramConfigBinTimeUnit", "days"), min, max])
            .unwrap_err()
            .contains("hours, minutes")
    );
    assert!(bins(&[unit, min, ("timeHistogramConfigBinMax", "0")]).unwrap_err().contains("above"));
    assert!(
        bins(&[unit, min, max, ("timeHistogramConfigBinSize", "0.01")])
            .unwrap_err()
            .contains("bins")
    );
}
