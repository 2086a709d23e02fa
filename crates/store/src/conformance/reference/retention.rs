//! Retention: cohorts of people by the period of a start event, and how many of them did a
//! return event in each later period.

use super::filters::{all_match, breakdown_value, matcher_matches};
use super::{Data, Group, Selection, bucket_of, buckets, percent, resolve};
use chrono::NaiveDateTime;
use serde_json::Value;
use sextant_query::{
    Cohort, CohortType, PlanOptions, RetentionMode, RetentionQuery, RetentionResult,
    RetentionSummary,
};

/// A person in one cohort.
#[derive(Debug)]
struct Member {
    cohort: NaiveDateTime,
    /// Breakdown value of their earliest start event in the cohort period.
    value: Value,
    /// Periods (local starts) of all their return events, at any time.
    returns: Vec<NaiveDateTime>,
}

pub(super) fn answer(q: &RetentionQuery, data: &Data, opts: &PlanOptions) -> RetentionResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let periods = buckets(q.period, range, zone, opts);
    let period_of = |t| bucket_of(q.period, zone, t);
    let value_of =
        |e| q.breakdown.as_ref().map_or(Value::Null, |b| breakdown_value(e, &b.property));

    let mut members: Vec<Member> = Vec::new();
    for (_, rows) in data.by_person(|r| all_match(r.event, &q.filters)) {
        let returns: Vec<NaiveDateTime> = rows
            .iter()
            .filter(|r| matcher_matches(r.event, &q.return_event))
            .map(|r| period_of(r.time()))
            .collect();
        // Rows are in time order, so the first start seen in a period is the earliest.
        let starts = rows.iter().filter(|r| matcher_matches(r.event, &q.start));
        let mut cohorts: Vec<(NaiveDateTime, Value)> = Vec::new();
        match q.cohort {
            CohortType::Recurring => {
                for r in starts.filter(|r| r.in_range(&range)) {
                    let cohort = period_of(r.time());
                    if !cohorts.iter().any(|(c, _)| *c == cohort) {
                        cohorts.push((cohort, value_of(r.event)));
                    }
                }
            }
            CohortType::FirstTime => {
                let first = starts.into_iter().find(|r| r.time() < range.to);
                if let Some(r) = first.filter(|r| r.in_range(&range)) {
                    cohorts.push((period_of(r.time()), value_of(r.event)));
                }
            }
        }
        for (cohort, value) in cohorts {
            assert!(periods.contains(&cohort), "a cohort outside the range's periods");
            members.push(Member { cohort, value, returns: returns.clone() });
        }
    }

    // Positions after the size: `[first period, last period]` each.
    let positions: Vec<(u32, Option<u32>)> = match q.mode {
        RetentionMode::NDay => (1..q.intervals).map(|n| (n as u32, Some(n as u32))).collect(),
        RetentionMode::Rolling => (1..q.intervals).map(|n| (n as u32, None)).collect(),
        RetentionMode::Bracket => q.brackets.iter().map(|[a, b]| (*a, Some(*b))).collect(),
    };

    let selection =
        q.breakdown.as_ref().map(|b| Selection::new(members.iter().map(|m| &m.value), b));
    let mut table: Vec<(NaiveDateTime, Group, Vec<&Member>)> = Vec::new();
    for m in &members {
        let group = match &selection {
            None => Group::Value(Value::Null),
            Some(s) => match s.group(&m.value) {
                Some(g) => g,
                None => continue,
            },
        };
        match table.iter_mut().find(|(c, g, _)| *c == m.cohort && *g == group) {
            Some((_, _, list)) => list.push(m),
            None => table.push((m.cohort, group, vec![m])),
        }
    }
    table.sort_by(|(ca, ga, _), (cb, gb, _)| ca.cmp(cb).then_with(|| ga.order(gb)));

    let mut cohorts = Vec::new();
    let mut summaries: Vec<(Group, Vec<u64>, Vec<u64>)> = Vec::new();
    for (cohort, group, list) in &table {
        let size = list.len() as u64;
        let mut counts = vec![Some(size)];
        for (first, last) in &positions {
            let starts = q.period.add(*cohort, i64::from(*first)).unwrap();
            if zone.instant(starts) > opts.now {
                counts.push(None);
                continue;
            }
            let returned =
                |p: i64| p >= i64::from(*first) && last.is_none_or(|l| p <= i64::from(l));
            let n = list
                .iter()
                .filter(|m| m.returns.iter().any(|r| returned(q.period.between(*cohort, *r))))
                .count();
            counts.push(Some(n as u64));
        }
        if !summaries.iter().any(|(g, _, _)| g == group) {
            summaries.push((group.clone(), vec![0; counts.len()], vec![0; counts.len()]));
        }
        let (_, sums, sizes) = summaries.iter_mut().find(|(g, _, _)| g == group).unwrap();
        for (i, c) in counts.iter().enumerate() {
            if let Some(c) = c {
                sums[i] += c;
                sizes[i] += size;
            }
        }
        cohorts.push(Cohort {
            breakdown_value: q.breakdown.is_some().then(|| group.to_json()),
            start: zone.label(*cohort),
            size,
            percentages: counts.iter().map(|c| c.map(|c| percent(c, size))).collect(),
            counts,
        });
    }
    summaries.sort_by(|(ga, a, _), (gb, b, _)| {
        (*ga == Group::Other)
            .cmp(&(*gb == Group::Other))
            .then_with(|| b[0].cmp(&a[0]))
            .then_with(|| ga.order(gb))
    });
    RetentionResult {
        period: q.period,
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        cohorts,
        summary: summaries
            .into_iter()
            .map(|(g, counts, sizes)| RetentionSummary {
                breakdown_value: q.breakdown.is_some().then(|| g.to_json()),
                percentages: counts.iter().zip(&sizes).map(|(&c, &s)| percent(c, s)).collect(),
                counts,
                sizes,
            })
            .collect(),
    }
}
