//! Pre-aggregated rollups, and when a query may read them instead of the events. Every table
//! is per project, UTC hour and event: `rollup_hourly` holds the event count and the count,
//! sum, minimum and maximum of `value`; `rollup_dimensions` the same per value of each
//! dimension (`rollup_schema::DIMENSIONS`); `rollup_value_buckets` a log-bucket sketch of
//! `value`; `rollup_actors` one row per person id seen (with whether it was anonymous and its
//! event count). A query reads the whole hours of its range from a rollup and the partial
//! hours at the edges (or around any instant it compares times with) from the events, so
//! every range is exact. It needs buckets of an hour or more in a zone whose offsets are whole
//! hours, and no condition besides event names. Results equal the raw path's (sums up to
//! floating-point rounding; quantiles within the sketch's stated error), which the
//! conformance cross-check asserts by running every query both ways. Trends' use of the
//! hourly tables is in `rollup_trends`.

use crate::sql::{Param, SqlBuilder};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{Condition, EventMatcher, Interval, Math, PlanOptions, Series, TrendsQuery};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// A read range split at hours: `rolled` whole hours for a rollup, `raw` the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pieces {
    pub(crate) rolled: Vec<TimeRange>,
    pub(crate) raw: Vec<TimeRange>,
}

/// Splits `read` so no whole hour in `rolled` contains one of `cuts` (instants the query
/// compares event times with), or `None` when the rollup cannot serve `zone` or no whole
/// hour is left.
pub(crate) fn pieces(read: TimeRange, cuts: &[DateTime<Utc>], zone: Zone) -> Option<Pieces> {
    let (first, changes) = zone.offsets(read.from, read.to);
    let hourly_zone = first % 3600 == 0
        && changes.iter().all(|(at, offset)| offset % 3600 == 0 && at.timestamp() % 3600 == 0);
    if !hourly_zone {
        return None;
    }
    let hour = TimeDelta::hours(1);
    let mut points: Vec<DateTime<Utc>> = vec![read.from, read.to];
    points.extend(cuts.iter().copied().filter(|c| read.from < *c && *c < read.to));
    points.sort_unstable();
    points.dedup();
    let mut pieces = Pieces { rolled: Vec::new(), raw: Vec::new() };
    for window in points.windows(2) {
        let (from, to) = (window[0], window[1]);
        let floor = |t: DateTime<Utc>| t.duration_trunc(hour).ok();
        let (start, end) = (floor(from)?, floor(to)?);
        let start = if start < from { start + hour } else { start };
        if start < end {
            push(&mut pieces.raw, from, start);
            push(&mut pieces.rolled, start, end);
            push(&mut pieces.raw, end, to);
        } else {
            push(&mut pieces.raw, from, to);
        }
    }
    (!pieces.rolled.is_empty()).then_some(pieces)
}

/// Appends `[from, to)` if not empty, merged with the previous range when they touch.
fn push(ranges: &mut Vec<TimeRange>, from: DateTime<Utc>, to: DateTime<Utc>) {
    if from >= to {
        return;
    }
    match ranges.last_mut() {
        Some(last) if last.to == from => last.to = to,
        _ => ranges.push(TimeRange { from, to }),
    }
}

/// `column` within any of `ranges` (not empty).
pub(crate) fn within(b: &mut SqlBuilder, column: &str, ranges: &[TimeRange]) -> String {
    let any: Vec<String> = ranges
        .iter()
        .map(|r| {
            let (from, to) = (b.param(Param::Timestamp(r.from)), b.param(Param::Timestamp(r.to)));
            format!("({column} >= {from} AND {column} < {to})")
        })
        .collect();
    format!("({})", any.join(" OR "))
}

/// `UNION ALL SELECT {columns}` from the events of the raw pieces, if there are any.
pub(crate) fn raw_arm(b: &mut SqlBuilder, pieces: &Pieces, columns: &str, project: &str) -> String {
    if pieces.raw.is_empty() {
        return String::new();
    }
    let raw = within(b, "timestamp", &pieces.raw);
    format!(
        "\n      UNION ALL\n      SELECT {columns} FROM events WHERE project_id = {project} AND {raw}"
    )
}

/// Whether `q`'s only conditions are event names (no property filters), its buckets are an
/// hour or more, and every series passes `math`.
pub(crate) fn plain_trends(q: &TrendsQuery, math: impl Fn(&Series) -> bool) -> bool {
    q.filters.is_empty()
        && q.interval != Interval::Minute
        && q.series.iter().all(|s| s.filters.is_empty() && math(s))
}

/// Whether `q` can read `rollup_actors` instead of the events: person-based maths (and
/// totals), no breakdown, no conditions besides event names.
pub(crate) fn actor_trends(q: &TrendsQuery) -> bool {
    q.breakdown.is_none()
        && plain_trends(q, |s| {
            matches!(
                s.math,
                Math::Total | Math::UniqueUsers | Math::PerUserAverage | Math::DauNormalised
            )
        })
}

/// Whether conditions and matchers only name events (what the rollups keep).
pub(crate) fn names_only<'a>(
    filters: &[Condition],
    matchers: impl IntoIterator<Item = &'a EventMatcher>,
) -> bool {
    filters.is_empty() && matchers.into_iter().all(|m| m.filters.is_empty())
}

/// `rollup_actors` as the events a query reads over `read` (see `actor_events`), if the
/// query is `eligible` (its conditions name events only, its buckets are an hour or more),
/// rollups are on, and `read` has whole hours for them; `cuts` as for `pieces`.
pub(crate) fn actor_source(
    b: &mut SqlBuilder,
    opts: &PlanOptions,
    eligible: bool,
    read: TimeRange,
    cuts: &[DateTime<Utc>],
    zone: Zone,
) -> Option<String> {
    if !(opts.rollups && eligible) {
        return None;
    }
    pieces(read, cuts, zone).map(|pieces| actor_events(b, &opts.project_id.to_string(), &pieces))
}

/// `(...) AS events`: the scoped rows of `rollup_actors` for the rolled hours and of the
/// events for the rest, with the columns person queries read (`project_id`, `timestamp`,
/// `event`, `person_id`, `user_id`) and `weight`, the events a row stands for.
/// `user_id` is rebuilt from `anon`: an event's person is its user id when it has one. Rows
/// are partial (one per write until merged, on either backend), which the readers' sums and
/// distinct counts do not mind.
fn actor_events(b: &mut SqlBuilder, project_id: &str, pieces: &Pieces) -> String {
    let project = b.param(Param::Text(project_id.to_owned()));
    let rolled = within(b, "hour", &pieces.rolled);
    let raw = raw_arm(b, pieces, "project_id, timestamp, event, person_id, user_id, 1", &project);
    format!(
        "(\n      SELECT project_id, hour AS timestamp, event, person_id, CASE WHEN anon THEN NULL ELSE person_id END AS user_id, events AS weight FROM rollup_actors WHERE project_id = {project} AND {rolled}{raw}\n    ) AS events"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        sextant_core::parse_timestamp(text).unwrap()
    }

    fn range(from: &str, to: &str) -> TimeRange {
        TimeRange { from: at(from), to: at(to) }
    }

    #[test]
    fn pieces_keep_hours_with_an_edge_or_a_cut_for_the_events() {
        let read = range("2026-10-01T10:30:00Z", "2026-10-01T15:00:00Z");
        let cuts = [at("2026-10-01T12:15:00Z"), at("2026-10-01T14:00:00Z")];
        let pieces = pieces(read, &cuts, Zone::parse(None).unwrap()).unwrap();
        assert_eq!(
            pieces.rolled,
            vec![
                range("2026-10-01T11:00:00Z", "2026-10-01T12:00:00Z"),
                range("2026-10-01T13:00:00Z", "2026-10-01T15:00:00Z"),
            ]
        );
        assert_eq!(
            pieces.raw,
            vec![
                range("2026-10-01T10:30:00Z", "2026-10-01T11:00:00Z"),
                range("2026-10-01T12:00:00Z", "2026-10-01T13:00:00Z"),
            ]
        );
    }

    #[test]
    fn no_pieces_without_a_whole_hour_or_in_a_half_hour_zone() {
        let utc = Zone::parse(None).unwrap();
        assert_eq!(pieces(range("2026-10-01T10:30:00Z", "2026-10-01T11:20:00Z"), &[], utc), None);
        let kolkata = Zone::parse(Some("Asia/Kolkata")).unwrap();
        assert_eq!(pieces(range("2026-10-01", "2026-10-03"), &[], kolkata), None);
    }
}
