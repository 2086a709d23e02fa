//! Trends: per series and bucket, a measure over the events in range that match the query's
//! and the series' conditions.

use super::filters::{all_match, breakdown_value, event_matches, number};
use super::formula::Formula;
use super::{Data, Group, Row, Selection, bucket_of, buckets, distinct, mean, quantile, resolve};
use chrono::NaiveDateTime;
use serde_json::Value;
use sextant_query::{
    Compare, Interval, Math, Num, PlanOptions, Series, SeriesResult, TimeRange, TrendsQuery,
    TrendsResult, Zone,
};

pub(super) fn answer(q: &TrendsQuery, data: &Data, opts: &PlanOptions) -> TrendsResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let current = buckets(q.interval, range, zone, opts);
    let width = current.len();
    let mut series = Period { q, data, zone, range, buckets: &current, width }.lines(false);
    if let Some(compare) = q.compare {
        let earlier = match compare {
            Compare::PreviousPeriod => {
                TimeRange { from: range.from - range.duration(), to: range.from }
            }
            Compare::PreviousYear => {
                let back = |t| zone.instant(Interval::Year.add(zone.local(t), -1).unwrap());
                TimeRange { from: back(range.from), to: back(range.to) }
            }
        };
        let theirs = buckets(q.interval, earlier, zone, opts);
        // Aligned to the current buckets by position.
        series
            .extend(Period { q, data, zone, range: earlier, buckets: &theirs, width }.lines(true));
    }
    TrendsResult {
        interval: q.interval,
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        buckets: current.iter().map(|b| zone.label(*b)).collect(),
        series,
    }
}

/// One range's computation: the current one, or the comparison range.
struct Period<'q, 'd, 'a> {
    q: &'q TrendsQuery,
    data: &'d Data<'a>,
    zone: Zone,
    range: TimeRange,
    buckets: &'q [NaiveDateTime],
    /// Values reported per line: the current range's bucket count.
    width: usize,
}

/// One (series, group) line.
#[derive(Debug, Clone)]
struct Line {
    values: Vec<Option<f64>>,
    total: Option<f64>,
}

fn label(s: &Series) -> String {
    s.label.clone().or_else(|| s.event.clone()).unwrap_or_else(|| "all events".to_owned())
}

impl<'d, 'a> Period<'_, 'd, 'a> {
    fn lines(&self, compare: bool) -> Vec<SeriesResult> {
        let q = self.q;
        // Events in range passing the query's filters.
        let rows: Vec<&Row> = self
            .data
            .rows
            .iter()
            .filter(|r| r.in_range(&self.range) && all_match(r.event, &q.filters))
            .collect();
        let in_series =
            |s: &Series, r: &Row| event_matches(r.event, s.event.as_deref(), &s.filters);
        let matching: Vec<&Row> =
            rows.iter().copied().filter(|r| q.series.iter().any(|s| in_series(s, r))).collect();

        // Breakdown groups: the kept values, maybe the folded rest.
        let raw = |r: &Row| -> Value {
            let Some(b) = &q.breakdown else { return Value::Null };
            match &b.and {
                None => breakdown_value(r.event, &b.property),
                Some(second) => Value::Array(vec![
                    breakdown_value(r.event, &b.property),
                    breakdown_value(r.event, second),
                ]),
            }
        };
        let selection = q.breakdown.as_ref().map(|b| {
            let values: Vec<Value> = matching.iter().map(|r| raw(r)).collect();
            Selection::new(&values, b)
        });
        let group_of = |r: &Row| -> Option<Group> {
            match &selection {
                None => Some(Group::Value(Value::Null)),
                Some(selection) => selection.group(&raw(r)),
            }
        };
        let mut groups: Vec<Group> = Vec::new();
        if q.breakdown.is_none() {
            groups.push(Group::Value(Value::Null));
        }
        for r in &matching {
            if let Some(g) = group_of(r)
                && !groups.contains(&g)
            {
                groups.push(g);
            }
        }

        // Each event's bucket (when reported) and group, computed once.
        let slot = |r: &Row| -> Option<usize> {
            let bucket = bucket_of(q.interval, self.zone, r.time());
            self.buckets.iter().position(|b| *b == bucket).filter(|i| *i < self.width)
        };
        let items: Vec<(&Row, Option<usize>, Option<Group>)> =
            rows.iter().map(|r| (*r, slot(r), group_of(r))).collect();
        let per_bucket = |rows: &[(&'d Row<'a>, Option<usize>)]| by_bucket(rows, self.width);
        let active: Vec<(&Row, Option<usize>)> = items.iter().map(|(r, b, _)| (*r, *b)).collect();
        let active_by_bucket = per_bucket(&active);
        let line = |s: &Series, g: &Group| -> Line {
            let mine: Vec<(&Row, Option<usize>)> = items
                .iter()
                .filter(|(r, _, group)| in_series(s, r) && group.as_ref() == Some(g))
                .map(|(r, b, _)| (*r, *b))
                .collect();
            let values = per_bucket(&mine)
                .iter()
                .zip(&active_by_bucket)
                .map(|(here, active)| measure(s, here, active))
                .collect();
            let all_mine: Vec<&Row> = mine.iter().map(|(r, _)| *r).collect();
            let mut line = Line { values, total: measure(s, &all_mine, &rows) };
            if q.cumulative {
                let mut running = 0.0;
                for v in &mut line.values {
                    running += v.unwrap_or(0.0);
                    *v = Some(running);
                }
            }
            line
        };
        let all: Vec<Vec<(Group, Line)>> = q
            .series
            .iter()
            .map(|s| groups.iter().map(|g| (g.clone(), line(s, g))).collect())
            .collect();

        let has_breakdown = q.breakdown.is_some();
        let result =
            |series: usize, label: String, math: Option<Math>, g: &Group, l: &Line| SeriesResult {
                series,
                label,
                math,
                breakdown_value: has_breakdown.then(|| g.to_json()),
                compare,
                values: l.values.iter().map(|v| v.map(Num)).collect(),
                total: l.total.map(Num),
                // Exact quantiles: no error to state.
                relative_error: None,
            };
        let by_total = |a: &Line, b: &Line| {
            b.total.unwrap_or(f64::MIN).total_cmp(&a.total.unwrap_or(f64::MIN))
        };
        let mut out = Vec::new();
        for (i, (s, lines)) in q.series.iter().zip(&all).enumerate() {
            let mut lines: Vec<&(Group, Line)> = lines.iter().collect();
            if has_breakdown {
                // Groups this series has nothing for are not reported.
                lines.retain(|(_, l)| l.total.is_some_and(|t| t != 0.0));
                lines.sort_by(|(ga, a), (gb, b)| {
                    (*ga == Group::Other)
                        .cmp(&(*gb == Group::Other))
                        .then_with(|| by_total(a, b))
                        .then_with(|| ga.order(gb))
                });
            }
            for (g, l) in lines {
                out.push(result(i, label(s), Some(s.math), g, l));
            }
        }
        if let Some(text) = &q.formula {
            let formula = Formula::parse(text);
            let mut computed: Vec<(Group, Line)> = groups
                .iter()
                .enumerate()
                .map(|(gi, g)| {
                    let at = |pick: &dyn Fn(&Line) -> Option<f64>| {
                        let inputs: Vec<Option<f64>> =
                            all.iter().map(|lines| pick(&lines[gi].1)).collect();
                        formula.eval(&inputs)
                    };
                    let values = (0..self.width).map(|b| at(&|l: &Line| l.values[b])).collect();
                    (g.clone(), Line { values, total: at(&|l: &Line| l.total) })
                })
                .collect();
            computed.sort_by(|(ga, a), (gb, b)| by_total(a, b).then_with(|| ga.order(gb)));
            for (g, l) in &computed {
                out.push(result(q.series.len(), text.clone(), None, g, l));
            }
        }
        out
    }
}

/// Events by the bucket they are reported in.
fn by_bucket<'d, 'a>(rows: &[(&'d Row<'a>, Option<usize>)], width: usize) -> Vec<Vec<&'d Row<'a>>> {
    let mut buckets: Vec<Vec<&Row>> = vec![Vec::new(); width];
    for (r, slot) in rows {
        if let Some(b) = slot {
            buckets[*b].push(*r);
        }
    }
    buckets
}

/// The series' measure over `rows` (its events in one bucket or the whole range); `active` is
/// every event passing the query's filters there (for `dau_normalised`).
#[allow(clippy::cast_precision_loss)]
fn measure(s: &Series, rows: &[&Row], active: &[&Row]) -> Option<f64> {
    let people = |rows: &[&Row]| distinct(rows.iter().filter_map(|r| r.person.as_deref()));
    let with_person = rows.iter().filter(|r| r.person.is_some()).count() as f64;
    let values = || -> Vec<f64> {
        let property = s.property.as_ref().expect("this math needs a property");
        rows.iter().filter_map(|r| number(r.event, property)).collect()
    };
    let extreme = |pick: fn(f64, f64) -> f64| values().into_iter().reduce(pick);
    match s.math {
        Math::Total => Some(rows.len() as f64),
        Math::UniqueUsers => Some(people(rows) as f64),
        Math::UniqueSessions => {
            Some(distinct(rows.iter().filter_map(|r| r.event.session_id.as_deref())) as f64)
        }
        Math::DauNormalised => {
            let active = people(active);
            (active > 0).then(|| with_person / active as f64)
        }
        Math::PerUserAverage => {
            let doers = people(rows);
            (doers > 0).then(|| with_person / doers as f64)
        }
        Math::Sum => Some(values().iter().sum()),
        Math::Avg => mean(&values()),
        Math::Min => extreme(f64::min),
        Math::Max => extreme(f64::max),
        Math::Median => quantile(&values(), 0.5),
        Math::P90 => quantile(&values(), 0.9),
        Math::P95 => quantile(&values(), 0.95),
        Math::P99 => quantile(&values(), 0.99),
    }
}
