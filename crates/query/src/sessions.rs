//! Sessions planning: events grouped by `session_id` into sessions (first and last event,
//! count, person, entry and exit route), then measured per bucket of the session's start.
//! Semantics: `docs/queries.md`.

use crate::filter::{all_of, reads_person_properties};
use crate::results::{HistogramBin, Num, RouteCount, SessionTotals, SessionsResult, percent};
use crate::scope::{Needs, scope};
use crate::sql::{Cell, Dialect, Param, SqlBuilder, Statement};
use crate::time::TimeRange;
use crate::zone::Zone;
use crate::{Interval, PlanOptions, QueryError, SessionsQuery};
use chrono::NaiveDateTime;

const MAX_BINS: usize = 100;
const MAX_ROUTES: usize = 1000;

#[derive(Debug, Clone)]
pub struct SessionsPlan {
    pub statement: Statement,
    interval: Interval,
    zone: Zone,
    range: TimeRange,
    buckets: Vec<NaiveDateTime>,
    bins: Vec<f64>,
}

pub(crate) fn plan(
    q: &SessionsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<SessionsPlan, QueryError> {
    if q.version != 1 {
        return Err(QueryError::invalid(format!("unsupported sessions version {}", q.version)));
    }
    let ascending = q.length_bins.windows(2).all(|w| w[0] < w[1]);
    if q.length_bins.is_empty()
        || q.length_bins.len() > MAX_BINS
        || !ascending
        || q.length_bins[0] < 0.0
    {
        return Err(QueryError::invalid(format!(
            "length_bins: 1 to {MAX_BINS} ascending lower bounds in seconds, from 0 or more"
        )));
    }
    if !(1..=MAX_ROUTES).contains(&q.routes) {
        return Err(QueryError::invalid(format!("routes must be 1..={MAX_ROUTES}")));
    }
    let zone = Zone::parse(q.timezone.as_deref())?;
    let range = q.date_range.resolve(opts.now, zone)?;
    let buckets = q.interval.buckets(range, zone, opts.max_buckets)?;
    let mut b = SqlBuilder::new(dialect);
    let needs = Needs {
        persons: true,
        person_properties: reads_person_properties(&q.filters),
        person_keys: false,
    };
    let scope = scope(&mut b, opts, range, zone, &q.filters, needs, None)?;
    let mut conditions = scope.conditions.clone();
    conditions.push("session_id IS NOT NULL".to_owned());
    let arms: String = q
        .length_bins
        .iter()
        .enumerate()
        .rev()
        .map(|(i, bound)| format!(" WHEN seconds >= {} THEN {i}", b.param(Param::Float(*bound))))
        .collect();
    let routes = b.param(Param::Int(i64::try_from(q.routes).unwrap_or(10)));
    let scoped = format!(
        "SELECT {person} AS person, session_id, {ts} AS ts, insert_id, {local} AS local, coalesce(route, path) AS route\n  FROM {source}\n  WHERE {conditions}",
        person = scope.person,
        ts = b.epoch_micros("timestamp"),
        local = scope.local_time,
        source = scope.from,
        conditions = all_of(&conditions),
    );
    let sessions = format!(
        "SELECT min(ts) AS first_ts, max(ts) AS last_ts, count(*) AS events, {first_local} AS first_local, {first_person} AS person, {entry} AS entry, {exit} AS exit\n  FROM {scoped} GROUP BY session_id",
        first_local = b.arg_min("local", "(ts, insert_id)"),
        first_person = b.arg_min("person", "(ts, insert_id)"),
        entry = b.arg_min("route", "(ts, insert_id)"),
        exit = b.arg_max("route", "(ts, insert_id)"),
        scoped = match dialect {
            Dialect::DuckDb => "scoped".to_owned(),
            Dialect::ClickHouse => format!("(\n  {scoped}\n  )"),
        },
    );
    let measured = format!(
        "SELECT {bucket} AS bucket, (last_ts - first_ts) / 1e6 AS seconds, events, person, entry, exit FROM {sessions}",
        bucket = b.truncate(q.interval, "first_local"),
        sessions = match dialect {
            Dialect::DuckDb => "sessions".to_owned(),
            Dialect::ClickHouse => format!("(\n  {sessions}\n  )"),
        },
    );
    // Rows (kind, is_total, bucket, sessions, avg, median, people, bounces, route):
    // 0 per bucket and total; 1 histogram bin (index in `people`); 2 entry and 3 exit routes.
    let sql = match dialect {
        Dialect::DuckDb => {
            let routes = |column: &str, kind: u8| {
                format!(
                    "SELECT * FROM (SELECT {kind}, 0, NULL, count(*), NULL, NULL, NULL, NULL, {column} FROM measured GROUP BY {column} ORDER BY count(*) DESC, {column} NULLS LAST LIMIT {routes})"
                )
            };
            format!(
                "WITH scoped AS (\n  {scoped}\n),\nsessions AS (\n  {sessions}\n),\nmeasured AS (\n  {measured}\n)\nSELECT 0, GROUPING(bucket), bucket, count(*), avg(seconds), {median}, {people}, {bounces}, NULL FROM measured GROUP BY GROUPING SETS ((bucket), ())\nUNION ALL\nSELECT 1, 0, NULL, count(*), NULL, NULL, bin, NULL, NULL FROM (SELECT CASE{arms} END AS bin FROM measured) WHERE bin IS NOT NULL GROUP BY bin\nUNION ALL\n{entries}\nUNION ALL\n{exits}",
                median = b.quantile("seconds", 0.5),
                people = b.count_distinct("person"),
                bounces = b.count_if("events = 1"),
                entries = routes("entry", 2),
                exits = routes("exit", 3),
            )
        }
        // No CTEs nor grouping sets: each session row is repeated once per role it plays
        // (0: its bucket, 1: the total, 2: its length bin, 3: its entry, 4: its exit route),
        // one GROUP BY measures every role's groups, and `LIMIT BY` keeps the top routes.
        // Every column is named: ClickHouse merges unnamed identical ones (`0, 0`).
        Dialect::ClickHouse => {
            let median = b.quantile("if(role < 2, seconds, NULL)", 0.5);
            format!(
                "SELECT multiIf(role < 2, 0, role - 1) AS kind, toUInt8(role = 1) AS is_total, if(role = 0, toNullable(g_bucket), NULL) AS bucket_start, count(*) AS sessions, avgIf(seconds, role < 2) AS avg_seconds, {median} AS median, if(role = 2, toUInt64(assumeNotNull(g_bin)), uniqExactIf(person, role < 2)) AS people, countIf(role < 2 AND events = 1) AS bounces, g_route AS route FROM (\n  SELECT role, if(role = 0, bucket, 0) AS g_bucket, if(role = 2, bin, NULL) AS g_bin, multiIf(role = 3, entry, role = 4, exit, NULL) AS g_route, seconds, events, person FROM (\n  SELECT *, CASE{arms} END AS bin FROM (\n  {measured}\n  )\n  ) ARRAY JOIN [0, 1, 2, 3, 4] AS role WHERE role != 2 OR isNotNull(bin)\n) GROUP BY role, g_bucket, g_bin, g_route ORDER BY role, sessions DESC, route NULLS LAST LIMIT {routes} BY role, g_bucket, g_bin"
            )
        }
    };
    Ok(SessionsPlan {
        statement: b.finish(sql),
        interval: q.interval,
        zone,
        range,
        buckets,
        bins: q.length_bins.clone(),
    })
}

/// Per bucket (or the total): sessions, avg, median, people, bounces.
#[derive(Debug, Clone, Copy, Default)]
struct Measures {
    sessions: u64,
    avg: Option<f64>,
    median: Option<f64>,
    people: u64,
    bounces: u64,
}

impl Measures {
    fn per_user(&self) -> Option<Num> {
        #[allow(clippy::cast_precision_loss)]
        (self.people > 0).then(|| Num(self.sessions as f64 / self.people as f64))
    }
}

impl SessionsPlan {
    pub fn assemble(&self, rows: Vec<Vec<Cell>>) -> Result<SessionsResult, QueryError> {
        let index = crate::time::bucket_index(&self.buckets);
        let mut per_bucket = vec![Measures::default(); self.buckets.len()];
        let mut total = Measures::default();
        let mut bins = vec![0u64; self.bins.len()];
        let (mut entry_routes, mut exit_routes) = (Vec::new(), Vec::new());
        for row in rows {
            let [kind, is_total, bucket, sessions, avg, median, people, bounces, route]: [Cell; 9] =
                row.try_into()
                    .map_err(|_| QueryError::internal("sessions row has the wrong width"))?;
            let measures = Measures {
                sessions: sessions.as_count(),
                avg: avg.as_f64(),
                median: median.as_f64(),
                people: people.as_count(),
                bounces: bounces.as_count(),
            };
            match kind.as_i64() {
                Some(0) if is_total.as_i64() == Some(1) => total = measures,
                Some(0) => {
                    if let Some(&i) = bucket.as_i64().and_then(|m| index.get(&m)) {
                        per_bucket[i] = measures;
                    }
                }
                Some(1) => {
                    if let Some(bin) =
                        usize::try_from(measures.people).ok().and_then(|i| bins.get_mut(i))
                    {
                        *bin = measures.sessions;
                    }
                }
                Some(2) => entry_routes
                    .push(RouteCount { route: route.into_text(), sessions: measures.sessions }),
                Some(3) => exit_routes
                    .push(RouteCount { route: route.into_text(), sessions: measures.sessions }),
                _ => return Err(QueryError::internal("unknown sessions row kind")),
            }
        }
        for routes in [&mut entry_routes, &mut exit_routes] {
            routes.sort_by(|a, b| {
                b.sessions
                    .cmp(&a.sessions)
                    .then(a.route.is_none().cmp(&b.route.is_none()))
                    .then_with(|| a.route.cmp(&b.route))
            });
        }
        let length_histogram = self
            .bins
            .iter()
            .zip(&bins)
            .enumerate()
            .map(|(i, (&from, &count))| HistogramBin {
                from_seconds: Num(from),
                // The last bin is open-ended.
                to_seconds: self.bins.get(i + 1).copied().map(Num),
                count,
            })
            .collect();
        Ok(SessionsResult {
            interval: self.interval,
            from: self.zone.local_time(self.range.from),
            to: self.zone.local_time(self.range.to),
            buckets: self.buckets.iter().map(|b| self.zone.label(*b)).collect(),
            sessions: per_bucket.iter().map(|m| m.sessions).collect(),
            avg_seconds: per_bucket.iter().map(|m| m.avg.map(Num)).collect(),
            median_seconds: per_bucket.iter().map(|m| m.median.map(Num)).collect(),
            sessions_per_user: per_bucket.iter().map(Measures::per_user).collect(),
            bounce_rate: per_bucket.iter().map(|m| percent(m.bounces, m.sessions)).collect(),
            total: SessionTotals {
                sessions: total.sessions,
                avg_seconds: total.avg.map(Num),
                median_seconds: total.median.map(Num),
                sessions_per_user: total.per_user(),
                bounce_rate: percent(total.bounces, total.sessions),
            },
            length_histogram,
            entry_routes,
            exit_routes,
        })
    }
}
