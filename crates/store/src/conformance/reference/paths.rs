//! Paths: each person's walk from their first anchor event, `steps` events long (fewer when
//! their events run out), forwards (`next`) or backwards (`previous`); the most common walks
//! and every step-to-step transition.

use super::filters::{all_match, matcher_matches};
use super::{Data, resolve};
use sextant_query::{PathCount, PathDirection, PathsQuery, PathsResult, PlanOptions, Transition};
use std::cmp::Reverse;
use std::collections::BTreeMap;

pub(super) fn answer(q: &PathsQuery, data: &Data, opts: &PlanOptions) -> PathsResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    assert!((2..=7).contains(&q.steps), "paths have 2 to 7 steps, not {}", q.steps);

    // One walk per person with an anchor: event names in time order. The anchor is sought
    // among the person's events that are in range and pass the query's filters.
    let mut walks: Vec<Vec<&str>> = Vec::new();
    for (_, rows) in data.by_person(|r| r.in_range(&range) && all_match(r.event, &q.filters)) {
        let Some(at) = rows.iter().position(|r| matcher_matches(r.event, &q.anchor)) else {
            continue;
        };
        let walk = match q.direction {
            PathDirection::Next => &rows[at..rows.len().min(at + q.steps)],
            PathDirection::Previous => &rows[(at + 1).saturating_sub(q.steps)..=at],
        };
        walks.push(walk.iter().map(|r| r.event.event.as_str()).collect());
    }

    // Most people first, ties by the list (element by element; a prefix first).
    let mut counts: BTreeMap<&[&str], u64> = BTreeMap::new();
    for walk in &walks {
        *counts.entry(walk.as_slice()).or_default() += 1;
    }
    let mut paths: Vec<(&[&str], u64)> = counts.into_iter().collect();
    paths.sort_by_key(|(walk, people)| (Reverse(*people), *walk));
    paths.truncate(q.limit);

    // (position of the pair's first event in its walk, from, to) → people; over every walk.
    let mut moves: BTreeMap<(usize, &str, &str), u64> = BTreeMap::new();
    for walk in &walks {
        for (step, pair) in walk.windows(2).enumerate() {
            *moves.entry((step, pair[0], pair[1])).or_default() += 1;
        }
    }
    let mut transitions: Vec<((usize, &str, &str), u64)> = moves.into_iter().collect();
    transitions.sort_by_key(|((step, from, to), people)| (*step, Reverse(*people), *from, *to));

    PathsResult {
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        paths: paths
            .into_iter()
            .map(|(walk, people)| PathCount {
                events: walk.iter().map(|e| (*e).to_owned()).collect(),
                people,
            })
            .collect(),
        transitions: transitions
            .into_iter()
            .map(|((step, from, to), people)| Transition {
                step,
                from: from.to_owned(),
                to: to.to_owned(),
                people,
            })
            .collect(),
    }
}
