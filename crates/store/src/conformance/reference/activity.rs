//! How often people are active: active users over rolling windows of days, stickiness, and
//! lifecycle.

use super::filters::{all_match, matcher_matches};
use super::{Data, Row, bucket_of, buckets, distinct, resolve};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use sextant_query::{
    ActiveUsersQuery, ActiveUsersResult, Condition, EventMatcher, Interval, LifecycleQuery,
    LifecycleResult, PlanOptions, StickinessPeriod, StickinessQuery, StickinessResult,
};
use std::collections::{BTreeMap, BTreeSet};

/// Activity events (at any time) of people, with the person.
fn activity<'d, 'a>(
    data: &'d Data<'a>,
    filters: &[Condition],
    matcher: &EventMatcher,
) -> Vec<(&'d Row<'a>, &'d str)> {
    data.rows
        .iter()
        .filter(|r| all_match(r.event, filters) && matcher_matches(r.event, matcher))
        .filter_map(|r| r.person.as_deref().map(|p| (r, p)))
        .collect()
}

pub(super) fn active_users(
    q: &ActiveUsersQuery,
    data: &Data,
    opts: &PlanOptions,
) -> ActiveUsersResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let days = buckets(Interval::Day, range, zone, opts);
    let active: Vec<(NaiveDate, &str)> = activity(data, &q.filters, &q.activity)
        .into_iter()
        .filter(|(r, _)| r.time() < range.to)
        .map(|(r, p)| (zone.local(r.time()).date(), p))
        .collect();
    // People active on the `span` days ending with `day`.
    let window = |day: NaiveDate, span: i64| -> u64 {
        let first = day - Duration::days(span - 1);
        distinct(active.iter().filter(|(d, _)| first <= *d && *d <= day).map(|(_, p)| *p))
    };
    ActiveUsersResult {
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        days: days.iter().map(|d| zone.label(*d)).collect(),
        dau: days.iter().map(|d| window(d.date(), 1)).collect(),
        wau: days.iter().map(|d| window(d.date(), 7)).collect(),
        mau: days.iter().map(|d| window(d.date(), 30)).collect(),
    }
}

pub(super) fn stickiness(q: &StickinessQuery, data: &Data, opts: &PlanOptions) -> StickinessResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let periods = buckets(q.period, range, zone, opts);
    let length = match q.period {
        Interval::Week => 7,
        Interval::Month => 31,
        other => panic!("stickiness periods are weeks or months, not {other:?}"),
    };
    // (period, person) → active local days, over activity in the range.
    let mut days: BTreeMap<(NaiveDateTime, &str), BTreeSet<NaiveDate>> = BTreeMap::new();
    for (r, person) in activity(data, &q.filters, &q.activity) {
        if r.in_range(&range) {
            let period = bucket_of(q.period, zone, r.time());
            days.entry((period, person)).or_default().insert(zone.local(r.time()).date());
        }
    }
    let per_period: Vec<Vec<u64>> = periods
        .iter()
        .map(|p| {
            let mut counts = vec![0u64; length];
            for ((period, _), active) in &days {
                if period == p {
                    counts[active.len() - 1] += 1;
                }
            }
            counts
        })
        .collect();
    StickinessResult {
        period: q.period,
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        counts: (0..length).map(|n| per_period.iter().map(|c| c[n]).sum()).collect(),
        periods: periods
            .iter()
            .zip(per_period)
            .map(|(p, counts)| StickinessPeriod { start: zone.label(*p), counts })
            .collect(),
    }
}

pub(super) fn lifecycle(q: &LifecycleQuery, data: &Data, opts: &PlanOptions) -> LifecycleResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let list = buckets(q.interval, range, zone, opts);
    // Person → buckets with activity, at any time.
    let mut active: BTreeMap<&str, BTreeSet<NaiveDateTime>> = BTreeMap::new();
    for (r, person) in activity(data, &q.filters, &q.activity) {
        active.entry(person).or_default().insert(bucket_of(q.interval, zone, r.time()));
    }
    let mut new = Vec::new();
    let mut returning = Vec::new();
    let mut resurrecting = Vec::new();
    let mut dormant = Vec::new();
    for b in &list {
        let before = q.interval.add(*b, -1).unwrap();
        let count = |test: &dyn Fn(&BTreeSet<NaiveDateTime>) -> bool| -> u64 {
            active.values().filter(|set| test(set)).count() as u64
        };
        let first = |set: &BTreeSet<NaiveDateTime>| set.first().copied();
        new.push(count(&|s| s.contains(b) && first(s) == Some(*b)));
        returning.push(count(&|s| s.contains(b) && s.contains(&before) && first(s) != Some(*b)));
        resurrecting.push(count(&|s| {
            s.contains(b) && !s.contains(&before) && first(s).is_some_and(|f| f < *b)
        }));
        dormant.push(count(&|s| s.contains(&before) && !s.contains(b)));
    }
    LifecycleResult {
        interval: q.interval,
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        buckets: list.iter().map(|b| zone.label(*b)).collect(),
        new,
        returning,
        resurrecting,
        dormant,
    }
}
