//! Sextant results in the shapes of Amplitude's Dashboard REST API answers: `{"data": ...}`
//! with `series` (one row per line, one value per `xValues` entry), `seriesLabels` and
//! `seriesMeta`. Pure.

use super::params::NONE;
use super::segmentation::{Metric, Segmentation};
use super::specs::Retention;
use chrono::{DateTime, Duration, FixedOffset, Months, Utc};
use serde_json::{Map, Value, json};
use sextant_query::{
    FunnelResult, Interval, LifecycleResult, LocalTime, Num, RetentionMode, RetentionResult,
    SeriesResult, SessionsResult, TrendsResult,
};

/// Bucket starts as `xValues`: dates, or date and time for hourly buckets.
fn x_values(buckets: &[LocalTime], interval: Interval) -> Vec<String> {
    let format = match interval {
        Interval::Minute | Interval::Hour => "%Y-%m-%dT%H:%M:%S",
        _ => "%Y-%m-%d",
    };
    buckets.iter().map(|b| b.0.format(format).to_string()).collect()
}

/// A measure as a JSON number; no value (an empty bucket's average) is 0, as in Amplitude.
fn number(value: Option<Num>) -> Value {
    json!(value.unwrap_or(Num(0.0)))
}

fn ratio(part: f64, whole: f64) -> Value {
    json!(Num(if whole > 0.0 { part / whole } else { 0.0 }))
}

/// A group-by value as text: `(none)` for events without it.
fn group_text(value: &Value) -> String {
    match value {
        Value::Null => NONE.to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A group's label: its values (one per group-by property), as a list.
fn group_values(value: Option<&Value>) -> Value {
    match value {
        Some(Value::Array(values)) => values.iter().map(|v| Value::String(group_text(v))).collect(),
        Some(v) => json!([group_text(v)]),
        None => json!([NONE]),
    }
}

/// A group's label as one text.
fn group_label(value: Option<&Value>) -> Value {
    match group_values(value) {
        Value::Array(values) if values.len() == 1 => values.into_iter().next().unwrap_or_default(),
        Value::Array(values) => {
            Value::String(values.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
        }
        other => other,
    }
}

/// One line of a segmentation chart.
struct Line<'a> {
    event: usize,
    group: Option<&'a Value>,
    values: Vec<Option<Num>>,
    total: Option<Num>,
}

impl<'a> Line<'a> {
    fn of(s: &'a SeriesResult) -> Self {
        Self {
            event: s.series,
            group: s.breakdown_value.as_ref(),
            values: s.values.clone(),
            total: s.total,
        }
    }
}

/// `part` as a percentage of `whole`, 0 when `whole` is 0.
fn percent(part: Option<Num>, whole: Option<Num>) -> Option<Num> {
    match (part, whole) {
        (Some(part), Some(whole)) if whole.0 > 0.0 => Some(Num(part.0 / whole.0 * 100.0)),
        _ => Some(Num(0.0)),
    }
}

/// `GET /events/segmentation`: a row per event (and group). Labels are the event's index, or
/// the group's values; `seriesCollapsed` holds each row's value over the whole range.
pub(crate) fn segmentation(spec: &Segmentation, result: &TrendsResult) -> Value {
    let current = || result.series.iter().filter(|s| !s.compare);
    let lines: Vec<Line> = match spec.metric {
        Metric::Formula => current()
            .filter(|s| s.math.is_none())
            .map(|s| Line { event: 0, ..Line::of(s) })
            .collect(),
        Metric::PctDau => {
            let active: Vec<&SeriesResult> =
                current().filter(|s| s.series == spec.events).collect();
            current()
                .filter(|s| s.series < spec.events)
                .map(|s| {
                    let base = active.iter().find(|a| a.breakdown_value == s.breakdown_value);
                    let at = |i: usize| base.and_then(|b| b.values.get(i).copied().flatten());
                    let values =
                        s.values.iter().enumerate().map(|(i, v)| percent(*v, at(i))).collect();
                    Line {
                        values,
                        total: percent(s.total, base.and_then(|b| b.total)),
                        ..Line::of(s)
                    }
                })
                .collect()
        }
        _ => current().filter(|s| s.series < spec.events).map(Line::of).collect(),
    };
    let labels: Vec<Value> = lines
        .iter()
        .map(|l| if spec.grouped { group_values(l.group) } else { json!(l.event) })
        .collect();
    json!({"data": {
        "series": lines.iter().map(|l| l.values.iter().map(|v| number(*v)).collect()).collect::<Vec<Vec<Value>>>(),
        "seriesLabels": labels,
        "seriesCollapsed": lines.iter().map(|l| json!([{"setId": "", "value": number(l.total)}])).collect::<Vec<_>>(),
        "seriesMeta": lines.iter().map(|l| json!({"segmentIndex": 0, "eventIndex": l.event})).collect::<Vec<_>>(),
        "xValues": x_values(&result.buckets, result.interval),
    }})
}

/// `GET /funnels`: one entry per group. `days[j][d]`: people reaching step `j` who entered the
/// funnel on day `d` (only without groups).
pub(crate) fn funnel(result: &FunnelResult, days: Option<&[Vec<u64>]>) -> Value {
    let millis = |s: Option<Num>| json!(Num((s.unwrap_or(Num(0.0)).0 * 1000.0).round()));
    let entries: Vec<Value> = result
        .groups
        .iter()
        .map(|group| {
            #[allow(clippy::cast_precision_loss)]
            let counts: Vec<f64> = group.steps.iter().map(|s| s.count as f64).collect();
            let first = counts.first().copied().unwrap_or(0.0);
            let mut entry = json!({
                "meta": {"segmentIndex": 0},
                "groupValue": group.breakdown_value.as_ref().map(|v| group_label(Some(v))),
                "events": group.steps.iter().map(|s| s.label.clone()).collect::<Vec<_>>(),
                "cumulativeRaw": group.steps.iter().map(|s| s.count).collect::<Vec<_>>(),
                "cumulative": counts.iter().map(|c| ratio(*c, first)).collect::<Vec<_>>(),
                "stepByStep": counts.iter().enumerate()
                    .map(|(i, c)| if i == 0 { ratio(*c, *c) } else { ratio(*c, counts[i - 1]) })
                    .collect::<Vec<_>>(),
                "medianTransTimes": group.steps.iter().map(|s| millis(s.median_seconds_from_previous)).collect::<Vec<_>>(),
                "avgTransTimes": group.steps.iter().map(|s| millis(s.avg_seconds_from_previous)).collect::<Vec<_>>(),
            });
            if let (Some(days), Some(fields)) = (days, entry.as_object_mut()) {
                let trend = &result.conversion_trend;
                let series: Vec<Vec<u64>> = (0..trend.buckets.len())
                    .map(|d| days.iter().map(|step| step.get(d).copied().unwrap_or(0)).collect())
                    .collect();
                let formatted: Vec<String> =
                    trend.buckets.iter().map(|b| b.0.format("%b %d").to_string()).collect();
                fields.insert(
                    "dayFunnels".into(),
                    json!({"series": series, "xValues": x_values(&trend.buckets, trend.interval),
                           "formattedXValues": formatted}),
                );
            }
            entry
        })
        .collect();
    json!({ "data": entries })
}

/// When `periods` periods after `start` have passed.
fn after(
    start: DateTime<FixedOffset>,
    period: Interval,
    periods: u32,
) -> Option<DateTime<FixedOffset>> {
    match period {
        Interval::Week => start.checked_add_signed(Duration::weeks(i64::from(periods))),
        Interval::Month => start.checked_add_months(Months::new(periods)),
        _ => start.checked_add_signed(Duration::days(i64::from(periods))),
    }
}

/// `GET /retention`: one series per group, each with its cohorts by date. Value `n` of a
/// cohort: people who came back `n` intervals out (`n` = 0: the cohort itself) out of the
/// cohort's size; `incomplete` while that interval has not ended.
pub(crate) fn retention(spec: &Retention, result: &RetentionResult, now: DateTime<Utc>) -> Value {
    let q = &spec.query;
    // The last period a position covers: its own (n-day, rolling: at least that one), or the
    // bracket's last.
    let last_period = |position: usize| -> u32 {
        let n = u32::try_from(position).unwrap_or(u32::MAX);
        match q.mode {
            RetentionMode::Bracket if position > 0 => {
                q.brackets.get(position - 1).map_or(n, |[_, high]| *high)
            }
            _ => n,
        }
    };
    let complete = |start: &LocalTime, position: usize| {
        after(start.0, q.period, last_period(position).saturating_add(1))
            .is_some_and(|end| end <= now)
    };
    let mut series = Vec::new();
    let mut labels = Vec::new();
    for summary in &result.summary {
        let cohorts: Vec<_> = result
            .cohorts
            .iter()
            .filter(|c| c.breakdown_value == summary.breakdown_value)
            .collect();
        let mut values = Map::new();
        for cohort in &cohorts {
            let cells = cohort.counts.iter().enumerate().map(|(n, count)| {
                json!({"count": count.unwrap_or(0), "outof": cohort.size,
                       "incomplete": count.is_none() || !complete(&cohort.start, n)})
            });
            values.insert(cohort.start.0.format("%Y-%m-%d").to_string(), cells.collect());
        }
        let combined: Vec<Value> = summary
            .counts
            .iter()
            .zip(&summary.sizes)
            .enumerate()
            .map(|(n, (count, size))| {
                let incomplete = cohorts.iter().any(|c| {
                    c.counts.get(n).is_some_and(Option::is_none) || !complete(&c.start, n)
                });
                json!({"count": count, "outof": size, "incomplete": incomplete})
            })
            .collect();
        let dates: Vec<String> =
            cohorts.iter().map(|c| c.start.0.format("%Y-%m-%d").to_string()).collect();
        series.push(json!({"dates": dates, "values": values, "combined": combined}));
        labels.push(if spec.grouped {
            group_label(summary.breakdown_value.as_ref())
        } else {
            json!(0)
        });
    }
    let meta: Vec<Value> =
        series.iter().map(|_| json!({"segmentIndex": 0, "eventIndex": 0})).collect();
    json!({"data": {"series": series, "seriesLabels": labels, "seriesMeta": meta}})
}

/// The shape `/users` and `/sessions/*` share: rows of values along `xValues`.
fn rows(series: Vec<Vec<Value>>, labels: Vec<Value>, x: Vec<String>) -> Value {
    let meta: Vec<Value> = series.iter().map(|_| json!({"segmentIndex": 0})).collect();
    json!({"data": {"series": series, "seriesLabels": labels, "seriesMeta": meta, "xValues": x}})
}

/// `GET /users?m=active`: distinct active people per interval, a row per group.
pub(crate) fn active_users(result: &TrendsResult, grouped: bool) -> Value {
    let lines: Vec<&SeriesResult> = result.series.iter().filter(|s| !s.compare).collect();
    rows(
        lines.iter().map(|s| s.values.iter().map(|v| number(*v)).collect()).collect(),
        lines
            .iter()
            .map(|s| if grouped { group_label(s.breakdown_value.as_ref()) } else { json!(0) })
            .collect(),
        x_values(&result.buckets, result.interval),
    )
}

/// `GET /users?m=new`: people whose first event falls in each interval.
pub(crate) fn new_users(result: &LifecycleResult) -> Value {
    rows(
        vec![result.new.iter().map(|n| json!(n)).collect()],
        vec![json!(0)],
        x_values(&result.buckets, result.interval),
    )
}

/// Which sessions endpoint is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionMeasure {
    /// Average length in seconds, per day.
    Average,
    /// Sessions per user who had one, per day.
    PerUser,
    /// Sessions per length bin over the range.
    Length,
}

/// `GET /sessions/{average,peruser,length}`.
pub(crate) fn sessions(measure: SessionMeasure, result: &SessionsResult, bins: &[String]) -> Value {
    let days = || x_values(&result.buckets, result.interval);
    let (values, x): (Vec<Value>, Vec<String>) = match measure {
        SessionMeasure::Average => {
            (result.avg_seconds.iter().map(|v| number(*v)).collect(), days())
        }
        SessionMeasure::PerUser => {
            (result.sessions_per_user.iter().map(|v| number(*v)).collect(), days())
        }
        // The query's last bin (past the longest asked for) is not reported.
        SessionMeasure::Length => (
            result.length_histogram.iter().take(bins.len()).map(|b| json!(b.count)).collect(),
            bins.to_vec(),
        ),
    };
    rows(vec![values], vec![json!(0)], x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_labels_name_missing_values_none() {
        assert_eq!(group_values(Some(&json!("DE"))), json!(["DE"]));
        assert_eq!(group_values(Some(&Value::Null)), json!(["(none)"]));
        assert_eq!(group_values(Some(&json!(["pro", null]))), json!(["pro", "(none)"]));
        assert_eq!(group_label(Some(&json!(3))), json!("3"));
        assert_eq!(group_label(Some(&json!(["pro", "DE"]))), json!("pro; DE"));
    }

    #[test]
    fn percentages_and_ratios_are_zero_without_a_base() {
        assert_eq!(percent(Some(Num(1.0)), Some(Num(4.0))), Some(Num(25.0)));
        assert_eq!(percent(Some(Num(1.0)), Some(Num(0.0))), Some(Num(0.0)));
        assert_eq!(percent(Some(Num(1.0)), None), Some(Num(0.0)));
        assert_eq!(ratio(1.0, 3.0), json!(0.333333));
        assert_eq!(ratio(2.0, 0.0), json!(0));
    }

    #[test]
    fn periods_end_by_calendar() {
        let start = DateTime::parse_from_rfc3339("2026-01-31T00:00:00Z").unwrap_or_default();
        let at = |p, n| after(start, p, n).map(|t| t.to_rfc3339());
        assert_eq!(at(Interval::Day, 1).as_deref(), Some("2026-02-01T00:00:00+00:00"));
        assert_eq!(at(Interval::Week, 2).as_deref(), Some("2026-02-14T00:00:00+00:00"));
        assert_eq!(at(Interval::Month, 1).as_deref(), Some("2026-02-28T00:00:00+00:00"));
    }
}
