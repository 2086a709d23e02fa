//! Sessions: the events in range (passing the filters) that share a non-null `session_id`,
//! reported per bucket of their first event, with lengths, bounces and entry and exit routes.

use super::filters::all_match;
use super::{Data, Row, bucket_of, buckets, distinct, mean, percent, quantile, resolve, seconds};
use chrono::NaiveDateTime;
use sextant_core::Event;
use sextant_query::{
    HistogramBin, Num, PlanOptions, RouteCount, SessionTotals, SessionsQuery, SessionsResult,
};
use std::cmp::{Ordering, Reverse};
use std::collections::BTreeMap;

/// One session, as the measures need it.
#[derive(Debug)]
struct Session<'d> {
    /// Local start of the bucket of its first event.
    bucket: NaiveDateTime,
    /// `last − first`, in seconds.
    length: f64,
    /// The first event's person.
    person: Option<&'d str>,
    /// Exactly one event.
    bounce: bool,
    entry: Option<String>,
    exit: Option<String>,
}

/// An event's route, else its path.
fn route(e: &Event) -> Option<String> {
    e.route.clone().or_else(|| e.path.clone())
}

pub(super) fn answer(q: &SessionsQuery, data: &Data, opts: &PlanOptions) -> SessionsResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let list = buckets(q.interval, range, zone, opts);

    // Session id → its events, in (time, insert_id) order: the first event is the one with
    // the smallest (time, insert_id), the last the one with the largest.
    let mut by_id: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in data.rows.iter().filter(|r| r.in_range(&range) && all_match(r.event, &q.filters)) {
        if let Some(id) = r.event.session_id.as_deref() {
            by_id.entry(id).or_default().push(r);
        }
    }
    let sessions: Vec<Session> = by_id
        .values()
        .map(|rows| {
            let (first, last) = (rows[0], rows[rows.len() - 1]);
            Session {
                bucket: bucket_of(q.interval, zone, first.time()),
                length: seconds(first.micros, last.micros),
                person: first.person.as_deref(),
                bounce: rows.len() == 1,
                entry: route(first.event),
                exit: route(last.event),
            }
        })
        .collect();

    let per_bucket: Vec<SessionTotals> = list
        .iter()
        .map(|b| measures(&sessions.iter().filter(|s| s.bucket == *b).collect::<Vec<_>>()))
        .collect();
    let total = measures(&sessions.iter().collect::<Vec<_>>());

    SessionsResult {
        interval: q.interval,
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        buckets: list.iter().map(|b| zone.label(*b)).collect(),
        sessions: per_bucket.iter().map(|m| m.sessions).collect(),
        avg_seconds: per_bucket.iter().map(|m| m.avg_seconds).collect(),
        median_seconds: per_bucket.iter().map(|m| m.median_seconds).collect(),
        sessions_per_user: per_bucket.iter().map(|m| m.sessions_per_user).collect(),
        bounce_rate: per_bucket.iter().map(|m| m.bounce_rate).collect(),
        total,
        length_histogram: histogram(&sessions, &q.length_bins),
        entry_routes: top_routes(sessions.iter().map(|s| &s.entry), q.routes),
        exit_routes: top_routes(sessions.iter().map(|s| &s.exit), q.routes),
    }
}

/// The measures over some sessions (one bucket's, or all). `sessions_per_user` is sessions ÷
/// distinct people, both over sessions that have a person (person-based measures ignore
/// events without one); `null` without people.
#[allow(clippy::cast_precision_loss)]
fn measures(sessions: &[&Session]) -> SessionTotals {
    let lengths: Vec<f64> = sessions.iter().map(|s| s.length).collect();
    let people = distinct(sessions.iter().filter_map(|s| s.person));
    let with_person = sessions.iter().filter(|s| s.person.is_some()).count() as f64;
    let count = sessions.len() as u64;
    SessionTotals {
        sessions: count,
        avg_seconds: mean(&lengths).map(Num),
        median_seconds: quantile(&lengths, 0.5).map(Num),
        sessions_per_user: (people > 0).then(|| Num(with_person / people as f64)),
        bounce_rate: percent(sessions.iter().filter(|s| s.bounce).count() as u64, count),
    }
}

/// One bin per lower bound; a length falls in the last bin whose bound it reaches (in none
/// when it is below the first bound). The last bin is open.
fn histogram(sessions: &[Session], bounds: &[f64]) -> Vec<HistogramBin> {
    let mut counts = vec![0u64; bounds.len()];
    for s in sessions {
        if let Some(i) = bounds.iter().rposition(|b| s.length >= *b) {
            counts[i] += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| HistogramBin {
            from_seconds: Num(bounds[i]),
            to_seconds: bounds.get(i + 1).copied().map(Num),
            count,
        })
        .collect()
}

/// The `limit` most common routes, most sessions first, ties by route with `null` last.
fn top_routes<'s>(
    routes: impl Iterator<Item = &'s Option<String>>,
    limit: usize,
) -> Vec<RouteCount> {
    let mut counts: BTreeMap<&Option<String>, u64> = BTreeMap::new();
    for r in routes {
        *counts.entry(r).or_default() += 1;
    }
    let mut counts: Vec<(&Option<String>, u64)> = counts.into_iter().collect();
    let by_route = |a: &Option<String>, b: &Option<String>| -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(b),
            (a, b) => a.is_none().cmp(&b.is_none()),
        }
    };
    counts.sort_by(|(ra, a), (rb, b)| Reverse(a).cmp(&Reverse(b)).then_with(|| by_route(ra, rb)));
    counts
        .into_iter()
        .take(limit)
        .map(|(route, sessions)| RouteCount { route: route.clone(), sessions })
        .collect()
}
