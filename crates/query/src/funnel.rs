//! Funnel planning: the per-person prelude every funnel statement shares (`people`), and the
//! result rows over it. Ordered and strict chains are in `funnel_chains`; unordered funnels
//! look forward from every anchor event. Semantics: `docs/queries.md`.

use crate::clickhouse;
use crate::filter::{all_of, matcher_conditions, property_expr, reads_person_properties};
use crate::rollup::{ActorGrain, actor_source, names_only};
use crate::scope::{Needs, Scope, late_links, late_person, scope};
use crate::sql::{Dialect, Param, SqlBuilder};
use crate::time::TimeRange;
use crate::time::parse_span;
use crate::zone::Zone;
use crate::{
    EventMatcher, FunnelOrder, FunnelPersonsQuery, FunnelQuery, Interval, PersonStatus,
    PlanOptions, PropertyRef, QueryError,
};

use crate::funnel_chains::{RawStarts, StartsFrom, ordered, strict, t_list};
pub(crate) use crate::funnel_result::{FunnelPersonsPlan, FunnelPlan};
use chrono::DurationRound;

const MAX_STEPS: usize = 20;
const MAX_BINS: usize = 100;

/// The per-person CTEs every funnel statement starts with, ending in
/// `people(person, depth, bd, is_other, bucket, t0 .. t{n-1})`; on ClickHouse, the `SELECT`
/// of `people` itself.
struct Prelude {
    sql: String,
    steps: usize,
}

pub(crate) fn plan(
    q: &FunnelQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<FunnelPlan, QueryError> {
    let mut b = SqlBuilder::new(dialect);
    let (prelude, zone, range, window) = prelude(&mut b, q, opts)?;
    let n = prelude.steps;
    let bins = q.histogram_bins;
    if !(1..=MAX_BINS).contains(&bins) {
        return Err(QueryError::invalid(format!("histogram_bins must be 1..={MAX_BINS}")));
    }
    let buckets = q.interval.buckets(range, zone, opts.max_buckets)?;
    let last = n - 1;
    if dialect == Dialect::ClickHouse {
        let bins = (q.order != FunnelOrder::Unordered)
            .then(|| b.param(Param::Int(i64::try_from(bins).unwrap_or(10))));
        let sql = clickhouse::funnel::rows(&mut b, q, &prelude.sql, bins.as_deref());
        return Ok(FunnelPlan::new(q, b.finish(sql), zone, range, window, buckets));
    }
    // One long-format result: (row_kind, bd, bucket, i, c, f1, f2).
    //   0: step `i` of group `bd` (kind 3 for the folded "$other" group): people, avg and
    //      median seconds from the previous step;
    //   1: histogram bin `i`: people, bin bounds in seconds (when unordered: none);
    //   2: trend bucket: people entering, people completing.
    let mut parts = Vec::new();
    for k in 0..n {
        let seconds = step_seconds(&b, k);
        parts.push(format!(
            "SELECT CASE WHEN is_other THEN 3 ELSE 0 END, bd, CAST(NULL AS TIMESTAMP), {k}, count(*) FILTER (WHERE depth >= {reached}), avg({seconds}) FILTER (WHERE depth >= {reached}), {median} FROM people WHERE {keep} GROUP BY is_other, bd",
            reached = k + 1,
            median = b.quantile(&format!("CASE WHEN depth >= {} THEN {seconds} END", k + 1), 0.5),
            keep = if q.breakdown.as_ref().is_some_and(|bd| bd.other) { "TRUE" } else { "NOT is_other" },
        ));
    }
    if q.order != FunnelOrder::Unordered {
        let bins_param = b.param(Param::Int(i64::try_from(bins).unwrap_or(10)));
        parts.push(format!(
            "SELECT 1, NULL, NULL, CASE WHEN hi = lo THEN 0 ELSE least((d - lo) * {bins_param} // (hi - lo), {bins_param} - 1) END AS bin, count(*), min(lo) / 1e6, min(hi) / 1e6 FROM (SELECT t{last} - t0 AS d, min(t{last} - t0) OVER () AS lo, max(t{last} - t0) OVER () AS hi FROM people WHERE depth = {n}) GROUP BY bin"
        ));
    }
    parts.push(format!(
        "SELECT 2, NULL, bucket, NULL, count(*), count(*) FILTER (WHERE depth = {n}), NULL FROM people GROUP BY bucket"
    ));
    let sql = format!("{}\n{}", prelude.sql, parts.join("\nUNION ALL\n"));
    Ok(FunnelPlan::new(q, b.finish(sql), zone, range, window, buckets))
}

/// Seconds from step `k - 1` to step `k` of a `people` row (a typed NULL for step 0).
pub(crate) fn step_seconds(b: &SqlBuilder, k: usize) -> String {
    match k {
        0 => b.null_number(),
        _ => format!("(t{k} - t{}) / 1e6", k - 1),
    }
}

pub(crate) fn plan_persons(
    q: &FunnelPersonsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<FunnelPersonsPlan, QueryError> {
    let mut b = SqlBuilder::new(dialect);
    let (prelude, ..) = prelude(&mut b, &q.funnel, opts)?;
    let n = prelude.steps;
    if q.step >= n || (q.status == PersonStatus::Dropped && q.step == 0) {
        return Err(QueryError::invalid(format!(
            "step must be 0..{n} (and at least 1 for dropped people)"
        )));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=crate::MAX_PAGE_SIZE).contains(&limit) {
        return Err(QueryError::invalid(format!("limit must be 1..={}", crate::MAX_PAGE_SIZE)));
    }
    let mut conditions = vec![match q.status {
        PersonStatus::Converted => format!("depth >= {}", q.step + 1),
        PersonStatus::Dropped => format!("depth = {}", q.step),
    }];
    if let Some(value) = &q.breakdown_value {
        conditions.push(match value {
            serde_json::Value::Null => "bd IS NULL AND NOT is_other".to_owned(),
            serde_json::Value::String(s) if s == crate::OTHER_GROUP => "is_other".to_owned(),
            other => {
                let text = match other {
                    serde_json::Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                format!("bd = {} AND NOT is_other", b.param(Param::Text(text)))
            }
        });
    }
    if let Some(cursor) = &q.cursor {
        let after = crate::funnel_result::decode_person_cursor(cursor)?;
        conditions.push(format!("person > {}", b.param(Param::Text(after))));
    }
    let fetch = b.param(Param::Int(i64::try_from(limit + 1).unwrap_or(i64::MAX)));
    let people = match dialect {
        Dialect::DuckDb => format!("{}\nSELECT person FROM people", prelude.sql),
        Dialect::ClickHouse => format!("SELECT person FROM ({})", prelude.sql),
    };
    let sql = format!("{people} WHERE {} ORDER BY person LIMIT {fetch}", conditions.join(" AND "));
    Ok(FunnelPersonsPlan::new(b.finish(sql), limit))
}

fn prelude(
    b: &mut SqlBuilder,
    q: &FunnelQuery,
    opts: &PlanOptions,
) -> Result<(Prelude, Zone, crate::TimeRange, i64), QueryError> {
    if q.version != 1 {
        return Err(QueryError::invalid(format!("unsupported funnel version {}", q.version)));
    }
    let n = q.steps.len();
    if !(2..=MAX_STEPS).contains(&n) {
        return Err(QueryError::invalid(format!("a funnel needs 2 to {MAX_STEPS} steps")));
    }
    let window = parse_span(&q.window)
        .map(|w| w.num_microseconds().unwrap_or(i64::MAX))
        .ok_or_else(|| {
            QueryError::invalid(format!(
                "window: cannot read `{}`; use e.g. `30m`, `12h`, `14d`, `2w`",
                q.window
            ))
        })?;
    if q.order == FunnelOrder::Unordered && !q.exclusions.is_empty() {
        return Err(QueryError::invalid("exclusions are not supported in unordered funnels"));
    }
    for (i, x) in q.exclusions.iter().enumerate() {
        if x.from_step >= x.to_step.min(n - 1) {
            return Err(QueryError::invalid(format!(
                "exclusion {i}: from_step must be before to_step, within the {n} steps"
            )));
        }
    }
    let zone = Zone::parse(q.timezone.as_deref())?;
    let range = q.date_range.resolve(opts.now, zone)?;
    let person_properties =
        reads_person_properties(
            q.filters
                .iter()
                .chain(q.steps.iter().flat_map(|s| &s.filters))
                .chain(q.exclusions.iter().flat_map(|x| &x.filters)),
        ) || q.breakdown.as_ref().is_some_and(|bd| matches!(bd.property, PropertyRef::Person(_)));
    let scope = scope(
        b,
        opts,
        range,
        zone,
        &q.filters,
        Needs { persons: true, person_properties, person_keys: false },
        None,
    )?;
    let window = b.param(Param::Int(window));
    let mut flags = Vec::new();
    let mut any = Vec::new();
    for (i, step) in q.steps.iter().enumerate() {
        let c = matcher_conditions(b, step)?;
        let c = b.all_of(&c);
        flags.push(format!("({c}) AS s{i}"));
        any.push(format!("({c})"));
    }
    for (j, x) in q.exclusions.iter().enumerate() {
        let matcher =
            EventMatcher { event: x.event.clone(), filters: x.filters.clone(), label: None };
        let c = matcher_conditions(b, &matcher)?;
        let c = b.all_of(&c);
        flags.push(format!("({c}) AS x{j}"));
        any.push(format!("({c})"));
    }
    let breakdown = match &q.breakdown {
        Some(bd) => {
            let expr = property_expr(b, &bd.property);
            b.to_text(&expr)
        }
        None => b.null_text(),
    };
    // Ordered funnels find step-0 events directly in `events`, near step-1 events (see
    // `funnel_chains`), unless per-event person properties are needed (then the step-0
    // people cannot be counted from reduced rows).
    let clickhouse = b.dialect == Dialect::ClickHouse;
    let pruned = q.order == FunnelOrder::Ordered && !person_properties && !clickhouse;
    let bucket = b.truncate(q.interval, &scope.local_time);
    let mut columns = vec![
        format!("{} AS person", scope.person),
        // Joins and sorts key on (hash, id): comparisons settle on the integer, and the id
        // keeps them exact.
        format!("{} AS ph", b.hash(scope.person)),
        format!("{} AS ts", b.epoch_micros("timestamp")),
    ];
    // Ordered and strict chains on DuckDB take the trend bucket from `t0` at the end.
    if clickhouse || q.order == FunnelOrder::Unordered {
        columns.push(format!("{bucket} AS bucket"));
    }
    columns.push(format!("{breakdown} AS bd"));
    columns.extend(flags);
    let mut conditions = scope.conditions.clone();
    conditions.push(scope.has_person(b.dialect));
    if q.order == FunnelOrder::Strict || clickhouse {
        // Events are numbered (ordered, on ClickHouse) per person by time, then insert_id.
        columns.push("insert_id".to_owned());
    }
    // Strict funnels read every event (all count for adjacency): nothing is pushed down.
    // Pruned ordered funnels read only the later steps' and exclusions' events here.
    let first_read = usize::from(pruned);
    match (q.order, pruned) {
        (FunnelOrder::Strict, _) => {}
        (_, true) => conditions.push(format!("({})", any[1..].join(" OR "))),
        (_, false) => conditions.push(format!("({})", any.join(" OR "))),
    }
    if q.order != FunnelOrder::Strict && !clickhouse {
        conditions.extend(names_semi_join(b, q, first_read));
    }
    let columns = columns.join(", ");
    let overlaps: Vec<bool> =
        (0..n).map(|k| k > 0 && overlap(&q.steps[k - 1], &q.steps[k])).collect();
    if clickhouse {
        let scoped =
            format!("SELECT {columns}\n  FROM {}\n  WHERE {}", scope.from, all_of(&conditions));
        let sql = clickhouse::funnel::people(b, q, &scoped, &window, &overlaps);
        return Ok((
            Prelude { sql, steps: n },
            zone,
            range,
            parse_span(&q.window).map_or(0, |w| w.num_seconds()),
        ));
    }
    let mut sql = format!(
        "WITH scoped AS (\n  SELECT {columns}\n  FROM {}\n  WHERE {}\n)",
        scope.from,
        all_of(&conditions)
    );
    if q.order == FunnelOrder::Strict {
        sql.push_str(",\nnumbered AS (\n  SELECT *, row_number() OVER (PARTITION BY ph, person ORDER BY ts, insert_id) AS seq FROM scoped\n)");
    }
    let zero = StepZero { q, opts, range, zone, breakdown: &breakdown };
    let first_steps = if pruned {
        first_steps_reduced(b, &zero)?
    } else {
        let bd = if q.breakdown.is_some() { b.arg_min("bd", "ts") } else { b.null_text() };
        format!(
            "first_steps AS (\n  SELECT person, min(ts) AS t0, {bd} AS bd FROM scoped WHERE s0 GROUP BY person\n)"
        )
    };
    let chains = match q.order {
        FunnelOrder::Ordered => {
            let raw = if pruned { Some(raw_starts(b, &zero)?) } else { None };
            ordered(q, &window, &overlaps, raw.as_ref(), &first_steps, &bucket)
        }
        FunnelOrder::Strict => strict(q, &window, &overlaps, &first_steps, &bucket),
        FunnelOrder::Unordered => unordered(q, &window),
    };
    sql.push_str(&chains);
    sql.push_str(&top_groups(b, q));
    Ok((
        Prelude { sql, steps: n },
        zone,
        range,
        parse_span(&q.window).map_or(0, |w| w.num_seconds()),
    ))
}

/// What reading a funnel's step-0 events on their own needs.
struct StepZero<'a> {
    q: &'a FunnelQuery,
    opts: &'a PlanOptions,
    range: TimeRange,
    zone: Zone,
    /// The breakdown expression over `events`.
    breakdown: &'a str,
}

impl StepZero<'_> {
    /// The scope over `source` (or `events`) and its conditions for step-0 events with a
    /// person.
    fn scope(
        &self,
        b: &mut SqlBuilder,
        source: Option<String>,
    ) -> Result<(Scope, Vec<String>), QueryError> {
        let scope =
            scope(b, self.opts, self.range, self.zone, &self.q.filters, Needs::default(), source)?;
        let mut conditions = scope.conditions.clone();
        conditions.extend(matcher_conditions(b, &self.q.steps[0])?);
        conditions.push(scope.has_person(b.dialect));
        Ok((scope, conditions))
    }
}

/// Where a pruned ordered funnel finds its step-0 events by raw id, without resolving
/// persons (`funnel_chains::found_from_raw_ids` does, on the few it keeps): the people per
/// hour with their events' times when the rollups hold every condition, else the events.
fn raw_starts(b: &mut SqlBuilder, zero: &StepZero) -> Result<RawStarts, QueryError> {
    let q = zero.q;
    if zero.opts.rollups && q.breakdown.is_none() && names_only(&q.filters, [&q.steps[0]]) {
        let project = b.param(Param::Text(zero.opts.project_id.to_string()));
        let mut conditions = vec![format!("project_id = {project}")];
        conditions.extend(matcher_conditions(b, &q.steps[0])?);
        let first_hour =
            zero.range.from.duration_trunc(chrono::TimeDelta::hours(1)).map_err(|e| {
                QueryError::invalid(format!("date_range: cannot round its start to the hour: {e}"))
            })?;
        conditions.push(format!("hour >= {}", b.param(Param::Timestamp(first_hour))));
        conditions.push(format!("hour < {}", b.param(Param::Timestamp(zero.range.to))));
        let from_us = b.param(Param::Int(zero.range.from.timestamp_micros()));
        let select = format!(
            "SELECT person_id, anon, hour, last_ts, times FROM rollup_actors WHERE {}",
            all_of(&conditions)
        );
        return Ok(RawStarts { from: StartsFrom::People { select, from_us }, project });
    }
    let (scope, conditions) = zero.scope(b, None)?;
    Ok(RawStarts {
        from: StartsFrom::Events(format!(
            "events.person_id, events.user_id IS NULL AS anon, {ts} AS ts, {breakdown} AS bd\n    FROM {from}\n    WHERE {conditions}",
            ts = b.epoch_micros("timestamp"),
            breakdown = zero.breakdown,
            from = scope.from,
            conditions = all_of(&conditions),
        )),
        project: scope.project,
    })
}

/// `first_steps` without resolving every step-0 event: reduced per raw id first (from the
/// people per hour when the rollup holds them), then resolved to people.
fn first_steps_reduced(b: &mut SqlBuilder, zero: &StepZero) -> Result<String, QueryError> {
    let q = zero.q;
    let eligible = q.breakdown.is_none()
        && q.interval != Interval::Minute
        && names_only(&q.filters, [&q.steps[0]]);
    let grain = ActorGrain::of([q.interval]);
    let actors = actor_source(b, zero.opts, eligible, zero.range, &[], zero.zone, grain);
    let (scope, conditions) = zero.scope(b, actors)?;
    let ts = b.epoch_micros("timestamp");
    // Without a breakdown `bd` is a constant: no need to carry it through the aggregates.
    let (raw_bd, first_bd) = match q.breakdown {
        Some(_) => (b.arg_min(zero.breakdown, &ts), b.arg_min("bd", "ts")),
        None => (b.null_text(), b.null_text()),
    };
    Ok(format!(
        "first_raw AS (\n  SELECT events.person_id, events.user_id IS NULL AS anon, min({ts}) AS ts, {raw_bd} AS bd\n  FROM {from}\n  WHERE {conditions}\n  GROUP BY events.person_id, events.user_id IS NULL\n),\nfirst_steps AS (\n  SELECT {person} AS person, min(ts) AS t0, {first_bd} AS bd\n  FROM {late}\n  GROUP BY {person}\n)",
        from = scope.from,
        conditions = all_of(&conditions),
        person = late_person(&scope, "first_raw"),
        late = late_links(&scope, "first_raw"),
    ))
}

/// `event IN (SELECT unnest([...]))` when every step from `first` and every exclusion names
/// its event. It repeats the ORed step conditions as a semi-join, which DuckDB applies in the
/// scan before reading the other columns, where it checks the ORs after: with it, the demo
/// funnel's whole statement went from 1,008 to 770 ms at 10M (`docs/benchmarks.md`).
fn names_semi_join(b: &mut SqlBuilder, q: &FunnelQuery, first: usize) -> Option<String> {
    let names: Option<Vec<&String>> = q.steps[first..]
        .iter()
        .map(|s| s.event.as_ref())
        .chain(q.exclusions.iter().map(|x| x.event.as_ref()))
        .collect();
    let list: Vec<String> =
        names?.into_iter().map(|name| b.param(Param::Text(name.clone()))).collect();
    Some(format!("event IN (SELECT unnest([{}]))", list.join(", ")))
}

/// Whether consecutive steps can match the same event, so the later must be strictly later.
fn overlap(a: &EventMatcher, b: &EventMatcher) -> bool {
    match (&a.event, &b.event) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// Every event matching a step is an anchor; for each step, the first matching event at or
/// after the anchor. Depth = steps found within the window; per person the deepest, earliest
/// anchor. No step times.
fn unordered(q: &FunnelQuery, window: &str) -> String {
    let n = q.steps.len();
    let any = (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>().join(" OR ");
    let mut sql =
        format!(",\nanchors AS (SELECT ph, person, ts AS t0, bucket, bd FROM scoped WHERE {any})");
    let mut previous = "anchors".to_owned();
    for i in 0..n {
        sql.push_str(&format!(
            ",\nforward{i} AS (\n  SELECT a.*, f.ts AS f{i} FROM {previous} AS a ASOF LEFT JOIN (SELECT ph, person, ts FROM scoped WHERE s{i}) AS f ON a.ph = f.ph AND a.person = f.person AND f.ts >= a.t0\n)"
        ));
        previous = format!("forward{i}");
    }
    let found = (0..n)
        .map(|i| format!("CASE WHEN f{i} - t0 <= {window} THEN 1 ELSE 0 END"))
        .collect::<Vec<_>>()
        .join(" + ");
    sql.push_str(&format!(
        ",\ndeepest AS (\n  SELECT person, depth, t0, {nulls}, bucket, bd FROM (\n    SELECT *, row_number() OVER (PARTITION BY person ORDER BY depth DESC, t0) AS choice\n    FROM (SELECT person, t0, bucket, bd, {found} AS depth FROM {previous})\n  ) WHERE choice = 1\n)",
        nulls = (1..n).map(|i| format!("CAST(NULL AS BIGINT) AS t{i}")).collect::<Vec<_>>().join(", "),
    ));
    sql
}

/// `people`: `deepest` plus whether the person's group is past the breakdown's limit.
fn top_groups(b: &mut SqlBuilder, q: &FunnelQuery) -> String {
    match &q.breakdown {
        None => ",\npeople AS (SELECT *, FALSE AS is_other FROM deepest)".to_owned(),
        Some(bd) => {
            let limit = b.breakdown_limit(bd);
            format!(
                ",\ntop_groups AS (SELECT bd, TRUE AS kept FROM deepest GROUP BY bd ORDER BY count(*) DESC, bd NULLS LAST LIMIT {limit}),\npeople AS (\n  SELECT deepest.person, deepest.depth, {times}, deepest.bucket, CASE WHEN top_groups.kept IS NULL THEN NULL ELSE deepest.bd END AS bd, top_groups.kept IS NULL AS is_other\n  FROM deepest LEFT JOIN top_groups ON deepest.bd IS NOT DISTINCT FROM top_groups.bd\n)",
                times = t_list(q.steps.len(), "deepest."),
            )
        }
    }
}
