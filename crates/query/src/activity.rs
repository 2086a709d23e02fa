//! How often people are active: DAU/WAU/MAU over rolling windows, stickiness and lifecycle.
//! All three reduce events to distinct (person, local day or bucket) pairs first, which are
//! few, and compute from those. Semantics: `docs/queries.md`.

use crate::clickhouse;
use crate::filter::{all_of, matcher_conditions, reads_person_properties};
use crate::results::{ActiveUsersResult, LifecycleResult, StickinessPeriod, StickinessResult};
use crate::rollup::{ActorGrain, actor_source, names_only};
use crate::scope::{Needs, late_links, late_person, scope};
use crate::sql::{Cell, Dialect, SqlBuilder, Statement};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{
    ActiveUsersQuery, Condition, DateRange, EventMatcher, Interval, LifecycleQuery, PlanOptions,
    QueryError, QueryResult, StickinessQuery,
};
use chrono::{DateTime, NaiveDateTime, Utc};

/// Rolling windows of `active_users`, in days.
const WINDOWS: [i32; 3] = [1, 7, 30];

#[derive(Debug, Clone)]
pub struct ActivityPlan {
    pub statement: Statement,
    kind: Kind,
    zone: Zone,
    range: TimeRange,
    buckets: Vec<NaiveDateTime>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    ActiveUsers,
    Stickiness(Interval),
    Lifecycle(Interval),
}

/// The activity events of one query.
struct Activity<'a> {
    version: u32,
    date_range: &'a DateRange,
    timezone: Option<&'a str>,
    filters: &'a [Condition],
    activity: &'a EventMatcher,
}

/// The shared fields of an activity spec (`active_users`, `stickiness`, `lifecycle`).
macro_rules! activity_of {
    ($q:expr) => {
        Activity {
            version: $q.version,
            date_range: &$q.date_range,
            timezone: $q.timezone.as_deref(),
            filters: &$q.filters,
            activity: &$q.activity,
        }
    };
}

impl Activity<'_> {
    fn resolve(&self, opts: &PlanOptions) -> Result<(Zone, TimeRange), QueryError> {
        if self.version != 1 {
            return Err(QueryError::invalid(format!("unsupported version {}", self.version)));
        }
        let zone = Zone::parse(self.timezone)?;
        Ok((zone, self.date_range.resolve(opts.now, zone)?))
    }

    /// `WITH scoped AS (...)` (on ClickHouse, the `SELECT` itself): the distinct (person, unit start...) of activity events in
    /// `read`, one column per `(name, unit)`. Events are reduced to distinct raw ids first and
    /// resolved to people after, unless person properties must be read per event.
    fn scoped(
        &self,
        b: &mut SqlBuilder,
        opts: &PlanOptions,
        zone: Zone,
        read: TimeRange,
        units: &[(&str, Interval)],
    ) -> Result<String, QueryError> {
        let person_properties =
            reads_person_properties(self.filters.iter().chain(&self.activity.filters));
        // Only distinct (person, unit) pairs matter: the people active per hour hold them.
        let eligible = names_only(self.filters, [self.activity]);
        let grain = ActorGrain::of(units.iter().map(|(_, unit)| *unit));
        let actors = actor_source(b, opts, eligible, read, &[], zone, grain);
        // Counted people only: the rollups' keys tell them apart, faster than the ids.
        let person_keys = actors.is_some();
        let needs = Needs { persons: person_properties, person_properties, person_keys };
        let scope = scope(b, opts, read, zone, self.filters, needs, actors)?;
        let mut conditions = scope.conditions.clone();
        conditions.extend(matcher_conditions(b, self.activity)?);
        conditions.push(scope.has_person(b.dialect));
        let names: Vec<&str> = units.iter().map(|(name, _)| *name).collect();
        let starts: Vec<String> = units
            .iter()
            .map(|(name, unit)| format!("{} AS {name}", b.truncate(*unit, &scope.local_time)))
            .collect();
        let (names, starts) = (names.join(", "), starts.join(", "));
        if b.dialect == Dialect::ClickHouse {
            return Ok(clickhouse::activity::scoped(
                &scope,
                person_properties,
                &names,
                &starts,
                &all_of(&conditions),
            ));
        }
        Ok(if person_properties {
            format!(
                "WITH scoped AS (\n  SELECT DISTINCT {} AS person, {starts}\n  FROM {}\n  WHERE {}\n)",
                scope.person,
                scope.from,
                all_of(&conditions)
            )
        } else {
            format!(
                "WITH reduced AS (\n  SELECT DISTINCT {raw}, {anon}, {starts}\n  FROM {}\n  WHERE {}\n),\nscoped AS (\n  SELECT DISTINCT {} AS person, {names}\n  FROM {}\n)",
                scope.from,
                all_of(&conditions),
                late_person(&scope, "reduced"),
                late_links(&scope, "reduced"),
                raw = scope.raw_person(),
                anon = scope.anon(),
            )
        })
    }
}

pub(crate) fn plan_active_users(
    q: &ActiveUsersQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<ActivityPlan, QueryError> {
    let activity = activity_of!(q);
    let (zone, range) = activity.resolve(opts)?;
    let buckets = Interval::Day.buckets(range, zone, opts.max_buckets)?;
    let first = buckets.first().copied().unwrap_or_default();
    let read_from = Interval::Day.add(first, -29).map_or(range.from, |d| zone.instant(d));
    let mut b = SqlBuilder::new(dialect);
    let scoped = activity.scoped(
        &mut b,
        opts,
        zone,
        TimeRange { from: read_from, to: range.to },
        &[("day", Interval::Day)],
    )?;
    // Each (person, active day d) covers the days [d, min(next active day, d + window)) of a
    // window; the pieces of one person never overlap, so counts are running sums of +1 / -1
    // at their edges.
    let edges: Vec<String> = WINDOWS
        .iter()
        .flat_map(|w| {
            let end = b.shift("day", Interval::Day, *w);
            [
                format!("SELECT {w} AS w, day AS edge, 1 AS delta FROM spans"),
                format!("SELECT {w}, least(coalesce(next_day, {end}), {end}), -1 FROM spans"),
            ]
        })
        .collect();
    if dialect == Dialect::ClickHouse {
        let ends: Vec<(i32, String)> =
            WINDOWS.iter().map(|w| (*w, b.shift("day", Interval::Day, *w))).collect();
        let sql = clickhouse::activity::active_users(&scoped, &ends);
        return Ok(ActivityPlan {
            statement: b.finish(sql),
            kind: Kind::ActiveUsers,
            zone,
            range,
            buckets,
        });
    }
    let sql = format!(
        "{scoped},\nspans AS (SELECT day, lead(day) OVER (PARTITION BY person ORDER BY day) AS next_day FROM scoped)\nSELECT w, edge, sum(delta) FROM (\n  {}\n) GROUP BY w, edge",
        edges.join("\n  UNION ALL\n  ")
    );
    Ok(ActivityPlan { statement: b.finish(sql), kind: Kind::ActiveUsers, zone, range, buckets })
}

pub(crate) fn plan_stickiness(
    q: &StickinessQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<ActivityPlan, QueryError> {
    if !matches!(q.period, Interval::Week | Interval::Month) {
        return Err(QueryError::invalid("stickiness period must be week or month"));
    }
    let activity = activity_of!(q);
    let (zone, range) = activity.resolve(opts)?;
    let buckets = q.period.buckets(range, zone, opts.max_buckets)?;
    let mut b = SqlBuilder::new(dialect);
    let scoped = activity.scoped(
        &mut b,
        opts,
        zone,
        range,
        &[("period", q.period), ("day", Interval::Day)],
    )?;
    let per_person = "SELECT period, active_days, count(*) FROM (SELECT person, period, count(*) AS active_days FROM scoped GROUP BY person, period) GROUP BY period, active_days";
    let sql = match dialect {
        Dialect::DuckDb => format!("{scoped}\n{per_person}"),
        Dialect::ClickHouse => per_person.replace("FROM scoped", &format!("FROM (\n{scoped}\n)")),
    };
    Ok(ActivityPlan {
        statement: b.finish(sql),
        kind: Kind::Stickiness(q.period),
        zone,
        range,
        buckets,
    })
}

pub(crate) fn plan_lifecycle(
    q: &LifecycleQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<ActivityPlan, QueryError> {
    let activity = activity_of!(q);
    let (zone, range) = activity.resolve(opts)?;
    let buckets = q.interval.buckets(range, zone, opts.max_buckets)?;
    let (Some(first), Some(last)) = (buckets.first().copied(), buckets.last().copied()) else {
        return Err(QueryError::internal("a resolved range has at least one bucket"));
    };
    let mut b = SqlBuilder::new(dialect);
    // First activity ever needs all history before the range.
    let scoped = activity.scoped(
        &mut b,
        opts,
        zone,
        TimeRange { from: DateTime::<Utc>::UNIX_EPOCH, to: range.to },
        &[("bucket", q.interval)],
    )?;
    if dialect == Dialect::ClickHouse {
        let sql = clickhouse::activity::lifecycle(
            &scoped,
            first.and_utc().timestamp_micros(),
            last.and_utc().timestamp_micros(),
            &b.shift("b", q.interval, -1),
            &b.shift("b", q.interval, 1),
        );
        return Ok(ActivityPlan {
            statement: b.finish(sql),
            kind: Kind::Lifecycle(q.interval),
            zone,
            range,
            buckets,
        });
    }
    let literal = |t: NaiveDateTime| format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S"));
    let (first_lit, last_lit) = (literal(first), literal(last));
    let sql = format!(
        "{scoped},\nactive AS (SELECT person, bucket FROM scoped),\nfirst_seen AS (SELECT person, min(bucket) AS first_bucket FROM active GROUP BY person),\nflagged AS (\n  SELECT now.bucket, first_seen.first_bucket, before.person IS NOT NULL AS was_active\n  FROM active AS now JOIN first_seen ON first_seen.person = now.person\n  LEFT JOIN active AS before ON before.person = now.person AND before.bucket = {previous}\n  WHERE now.bucket >= {first_lit}\n)\nSELECT 0, bucket, count(*) FILTER (WHERE first_bucket = bucket), count(*) FILTER (WHERE first_bucket < bucket AND was_active), count(*) FILTER (WHERE first_bucket < bucket AND NOT was_active) FROM flagged GROUP BY bucket\nUNION ALL\nSELECT 1, {next_of_before}, count(*), NULL, NULL FROM active AS before LEFT JOIN active AS now ON now.person = before.person AND now.bucket = {next_of_before}\nWHERE now.person IS NULL AND {next_of_before} >= {first_lit} AND {next_of_before} <= {last_lit} GROUP BY 2",
        previous = b.shift("now.bucket", q.interval, -1),
        next_of_before = b.shift("before.bucket", q.interval, 1),
    );
    Ok(ActivityPlan {
        statement: b.finish(sql),
        kind: Kind::Lifecycle(q.interval),
        zone,
        range,
        buckets,
    })
}

impl ActivityPlan {
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<QueryResult, QueryError> {
        let index = crate::time::bucket_index(&self.buckets);
        let slot = |cell: &Cell| cell.as_i64().and_then(|m| index.get(&m).copied());
        let width = self.buckets.len();
        let labels = || self.buckets.iter().map(|b| self.zone.label(*b)).collect::<Vec<_>>();
        let (from, to) =
            (self.zone.local_time(self.range.from), self.zone.local_time(self.range.to));
        match self.kind {
            Kind::ActiveUsers => {
                let mut series = [vec![0u64; width], vec![0u64; width], vec![0u64; width]];
                // (window, edge, delta) → running sums at each day.
                let mut edges: Vec<(usize, i64, i64)> = Vec::new();
                for row in &rows {
                    let (Some(w), Some(edge), Some(delta)) = (
                        row.first().and_then(Cell::as_i64),
                        row.get(1).and_then(Cell::as_i64),
                        row.get(2).and_then(Cell::as_f64),
                    ) else {
                        return Err(QueryError::internal("bad active users row"));
                    };
                    let Some(window) = WINDOWS.iter().position(|x| i64::from(*x) == w) else {
                        return Err(QueryError::internal("unknown window"));
                    };
                    #[allow(clippy::cast_possible_truncation)]
                    edges.push((window, edge, delta as i64));
                }
                edges.sort_unstable_by_key(|&(w, edge, _)| (w, edge));
                for (window, line) in series.iter_mut().enumerate() {
                    let mut running = 0i64;
                    let mut pending = edges.iter().filter(|e| e.0 == window).peekable();
                    for (i, day) in self.buckets.iter().enumerate() {
                        let micros = day.and_utc().timestamp_micros();
                        while let Some(e) = pending.next_if(|e| e.1 <= micros) {
                            running += e.2;
                        }
                        line[i] = u64::try_from(running).unwrap_or(0);
                    }
                }
                let [dau, wau, mau] = series;
                Ok(QueryResult::ActiveUsers(ActiveUsersResult {
                    from,
                    to,
                    days: labels(),
                    dau,
                    wau,
                    mau,
                }))
            }
            Kind::Stickiness(period) => {
                let days = if period == Interval::Week { 7 } else { 31 };
                let mut per_period = vec![vec![0u64; days]; width];
                for row in &rows {
                    let (Some(i), Some(n)) =
                        (row.first().and_then(slot), row.get(1).and_then(Cell::as_i64))
                    else {
                        continue;
                    };
                    if let Some(c) =
                        usize::try_from(n - 1).ok().and_then(|n| per_period[i].get_mut(n))
                    {
                        *c += row.get(2).map_or(0, Cell::as_count);
                    }
                }
                let counts = (0..days).map(|n| per_period.iter().map(|p| p[n]).sum()).collect();
                let periods = labels()
                    .into_iter()
                    .zip(per_period)
                    .map(|(start, counts)| StickinessPeriod { start, counts })
                    .collect();
                Ok(QueryResult::Stickiness(StickinessResult { period, from, to, counts, periods }))
            }
            Kind::Lifecycle(interval) => {
                let mut lines =
                    [vec![0u64; width], vec![0u64; width], vec![0u64; width], vec![0u64; width]];
                for row in &rows {
                    let (Some(kind), Some(i)) =
                        (row.first().and_then(Cell::as_i64), row.get(1).and_then(slot))
                    else {
                        continue;
                    };
                    if kind == 0 {
                        for (line, cell) in lines.iter_mut().zip(&row[2..5]) {
                            line[i] = cell.as_count();
                        }
                    } else {
                        lines[3][i] = row.get(2).map_or(0, Cell::as_count);
                    }
                }
                let [new, returning, resurrecting, dormant] = lines;
                Ok(QueryResult::Lifecycle(LifecycleResult {
                    interval,
                    from,
                    to,
                    buckets: labels(),
                    new,
                    returning,
                    resurrecting,
                    dormant,
                }))
            }
        }
    }
}
