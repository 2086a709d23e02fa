//! Pre-aggregated rollups, and when a query may read them instead of the events. Every table
//! is per project, UTC hour and event: `rollup_hourly` holds the event count and the count,
//! sum, minimum and maximum of `value`; `rollup_dimensions` the same per value of each
//! dimension (`rollup_schema::DIMENSIONS`); `rollup_value_buckets` a log-bucket sketch of
//! `value`; `rollup_actors` one row per person id seen (with whether it was anonymous and its
//! event count), and on DuckDB `rollup_actors_daily` the same per UTC day. A query reads the
//! whole hours (or days) of its range from a rollup and the partial hours at the edges (or
//! around any instant it compares times with) from the events, so every range is exact. It
//! needs buckets of an hour or more in a zone whose offsets are whole hours (a day or more in
//! UTC for the daily table), and no condition besides event names. Results equal the raw
//! path's (sums up to floating-point rounding; quantiles within the sketch's stated error),
//! which the conformance cross-check asserts by running every query both ways. Trends' use of
//! the hourly tables is in `rollup_trends`.

use crate::sql::{Dialect, Param, SqlBuilder};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{Condition, EventMatcher, Interval, Math, PlanOptions, Series, TrendsQuery};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// A read range split for the rollups: `daily` whole UTC days for a daily rollup, `rolled`
/// whole hours for an hourly one, `raw` the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pieces {
    pub(crate) daily: Vec<TimeRange>,
    pub(crate) rolled: Vec<TimeRange>,
    pub(crate) raw: Vec<TimeRange>,
}

/// Splits `read` so no whole hour (or day) it hands to a rollup contains one of `cuts`
/// (instants the query compares event times with), or `None` when the rollup cannot serve
/// `zone` or no whole hour is left. Whole days go to `daily` only when `days` allows it and
/// `zone` is UTC over the whole range, so that its days are the rollup's.
pub(crate) fn pieces(
    read: TimeRange,
    cuts: &[DateTime<Utc>],
    zone: Zone,
    days: bool,
) -> Option<Pieces> {
    let (first, changes) = zone.offsets(read.from, read.to);
    let hourly_zone = first % 3600 == 0
        && changes.iter().all(|(at, offset)| offset % 3600 == 0 && at.timestamp() % 3600 == 0);
    if !hourly_zone {
        return None;
    }
    let days = days && first == 0 && changes.is_empty();
    let (hour, day) = (TimeDelta::hours(1), TimeDelta::days(1));
    let mut points: Vec<DateTime<Utc>> = vec![read.from, read.to];
    points.extend(cuts.iter().copied().filter(|c| read.from < *c && *c < read.to));
    points.sort_unstable();
    points.dedup();
    let mut pieces = Pieces { daily: Vec::new(), rolled: Vec::new(), raw: Vec::new() };
    for window in points.windows(2) {
        let (from, to) = (window[0], window[1]);
        let (start, end) = (ceil(from, hour)?, floor(to, hour)?);
        if start < end {
            push(&mut pieces.raw, from, start);
            let (first_day, last_day) = (ceil(start, day)?, floor(end, day)?);
            if days && first_day < last_day {
                push(&mut pieces.rolled, start, first_day);
                push(&mut pieces.daily, first_day, last_day);
                push(&mut pieces.rolled, last_day, end);
            } else {
                push(&mut pieces.rolled, start, end);
            }
            push(&mut pieces.raw, end, to);
        } else {
            push(&mut pieces.raw, from, to);
        }
    }
    (!pieces.rolled.is_empty() || !pieces.daily.is_empty()).then_some(pieces)
}

/// `t` rounded down to a whole `unit` (an hour or a day, which UTC instants divide into).
fn floor(t: DateTime<Utc>, unit: TimeDelta) -> Option<DateTime<Utc>> {
    t.duration_trunc(unit).ok()
}

/// `t` rounded up to a whole `unit`.
fn ceil(t: DateTime<Utc>, unit: TimeDelta) -> Option<DateTime<Utc>> {
    let down = floor(t, unit)?;
    Some(if down < t { down + unit } else { down })
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

/// How finely a query reads the people of the rollups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActorGrain {
    /// Its timestamps matter to the hour.
    Hour,
    /// Only each timestamp's day does (buckets of a day or more): whole UTC days may come
    /// from `rollup_actors_daily`, ~2.1x fewer rows than the hours (demo data).
    Day,
}

impl ActorGrain {
    /// The grain that serves buckets of all `units`.
    pub(crate) fn of(units: impl IntoIterator<Item = Interval>) -> Self {
        let daily =
            |u| matches!(u, Interval::Day | Interval::Week | Interval::Month | Interval::Year);
        if units.into_iter().all(daily) { Self::Day } else { Self::Hour }
    }
}

/// `rollup_actors` (and `rollup_actors_daily`) as the events a query reads over `read` (see
/// `actor_events`), if the query is `eligible` (its conditions name events only, its buckets
/// are an hour or more), rollups are on, and `read` has whole hours for them; `cuts` as for
/// `pieces`. ClickHouse keeps no daily table, so it reads hours whatever the `grain`.
pub(crate) fn actor_source(
    b: &mut SqlBuilder,
    opts: &PlanOptions,
    eligible: bool,
    read: TimeRange,
    cuts: &[DateTime<Utc>],
    zone: Zone,
    grain: ActorGrain,
) -> Option<String> {
    if !(opts.rollups && eligible) {
        return None;
    }
    let days = grain == ActorGrain::Day && b.dialect == Dialect::DuckDb;
    pieces(read, cuts, zone, days)
        .map(|pieces| actor_events(b, &opts.project_id.to_string(), &pieces))
}

/// `(...) AS events`: the scoped rows of `rollup_actors_daily` for the whole days (if any),
/// `rollup_actors` for the rolled hours and of the events for the rest, with the columns
/// person queries read (`project_id`, `timestamp`, `event`, `person_id`, `user_id`),
/// `weight`, the events a row stands for, and on DuckDB `person_key` and `anon`.
/// `user_id` is rebuilt from `anon`: an event's person is its user id when it has one. Rows
/// are partial (one per write until merged, on either backend), which the readers' sums and
/// distinct counts do not mind.
fn actor_events(b: &mut SqlBuilder, project_id: &str, pieces: &Pieces) -> String {
    let project = b.param(Param::Text(project_id.to_owned()));
    // DuckDB's tables also hold each person id's key, which the events' rows compute, and
    // `anon`, so that joining links by key reads no ids (see `scope`).
    let (key, raw_key) = match b.dialect {
        Dialect::DuckDb => (", person_key, anon", ", md5_number(person_id), user_id IS NULL"),
        Dialect::ClickHouse => ("", ""),
    };
    let rolled =
        [("rollup_actors_daily", "day", &pieces.daily), ("rollup_actors", "hour", &pieces.rolled)];
    let arms: Vec<String> = rolled
        .into_iter()
        .filter(|(_, _, ranges)| !ranges.is_empty())
        .map(|(table, time, ranges)| {
            let within = within(b, time, ranges);
            format!(
                "SELECT project_id, {time} AS timestamp, event, person_id, CASE WHEN anon THEN NULL ELSE person_id END AS user_id, events AS weight{key} FROM {table} WHERE project_id = {project} AND {within}"
            )
        })
        .collect();
    let columns = format!("project_id, timestamp, event, person_id, user_id, 1{raw_key}");
    let raw = raw_arm(b, pieces, &columns, &project);
    format!("(\n      {}{raw}\n    ) AS events", arms.join("\n      UNION ALL\n      "))
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
        let pieces = pieces(read, &cuts, Zone::parse(None).unwrap(), true).unwrap();
        assert!(pieces.daily.is_empty());
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
        assert_eq!(
            pieces(range("2026-10-01T10:30:00Z", "2026-10-01T11:20:00Z"), &[], utc, true),
            None
        );
        let kolkata = Zone::parse(Some("Asia/Kolkata")).unwrap();
        assert_eq!(pieces(range("2026-10-01", "2026-10-03"), &[], kolkata, true), None);
    }

    #[test]
    fn whole_utc_days_go_to_the_daily_rollup_when_allowed() {
        let read = range("2026-10-01T10:30:00Z", "2026-10-04T02:00:00Z");
        let cuts = [at("2026-10-02T12:15:00Z")];
        let utc = Zone::parse(None).unwrap();
        let split = pieces(read, &cuts, utc, true).unwrap();
        assert_eq!(split.daily, vec![range("2026-10-03T00:00:00Z", "2026-10-04T00:00:00Z")]);
        assert_eq!(
            split.rolled,
            vec![
                range("2026-10-01T11:00:00Z", "2026-10-02T12:00:00Z"),
                range("2026-10-02T13:00:00Z", "2026-10-03T00:00:00Z"),
                range("2026-10-04T00:00:00Z", "2026-10-04T02:00:00Z"),
            ]
        );
        assert_eq!(
            split.raw,
            vec![
                range("2026-10-01T10:30:00Z", "2026-10-01T11:00:00Z"),
                range("2026-10-02T12:00:00Z", "2026-10-02T13:00:00Z"),
            ]
        );
        // Not asked for, or in a zone whose days are not UTC's: hours only.
        for (days, zone) in [(false, utc), (true, Zone::parse(Some("Europe/Paris")).unwrap())] {
            let hours = pieces(read, &cuts, zone, days).unwrap();
            assert!(hours.daily.is_empty(), "{zone:?}");
            assert_eq!(hours.rolled.len(), 2);
        }
    }
}
