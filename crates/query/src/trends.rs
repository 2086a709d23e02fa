//! Trends planning: one scan computes every series (conditional aggregates), per bucket and
//! per breakdown group, plus whole-range values via grouping sets, so unique counts and
//! quantiles over the range are exact rather than combinations of bucket values. A comparison
//! period is the same statement over the earlier range.

use crate::filter::{
    all_of, any_series, is_numeric, matcher_conditions, property_expr, reads_person_properties,
};
use crate::formula::Formula;
use crate::rollup;
use crate::rollup_trends::{self, HourlyRead};
use crate::scope::{Needs, scope};
use crate::sql::{Dialect, Param, SqlBuilder, Statement};
use crate::time::TimeRange;
use crate::trends_result::{Layout, TrendsPlan};
use crate::zone::Zone;
use crate::{Compare, EventMatcher, Math, PlanOptions, QueryError, Series, TrendsQuery};
use chrono::{Months, NaiveDateTime};

/// Upper bound on breakdown groups, whatever the query asks for.
pub const MAX_BREAKDOWN_LIMIT: usize = 1000;
const MAX_SERIES: usize = 20;

pub(crate) fn plan(
    q: &TrendsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
) -> Result<TrendsPlan, QueryError> {
    validate(q)?;
    let zone = Zone::parse(q.timezone.as_deref())?;
    let range = q.date_range.resolve(opts.now, zone)?;
    let formula = q.formula.as_deref().map(|f| Formula::parse(f, q.series.len())).transpose()?;
    let current = statement(q, opts, dialect, range, zone)?;
    let compare = match q.compare {
        None => None,
        Some(compare) => {
            let earlier = match compare {
                Compare::PreviousPeriod => {
                    TimeRange { from: range.from - range.duration(), to: range.from }
                }
                Compare::PreviousYear => {
                    let year = |t: chrono::DateTime<chrono::Utc>| {
                        t.checked_sub_months(Months::new(12)).ok_or_else(|| {
                            QueryError::invalid("compare: the previous year is out of range")
                        })
                    };
                    TimeRange { from: year(range.from)?, to: year(range.to)? }
                }
            };
            Some(statement(q, opts, dialect, earlier, zone)?)
        }
    };
    Ok(TrendsPlan::new(q, zone, range, current, compare, formula))
}

fn validate(q: &TrendsQuery) -> Result<(), QueryError> {
    if q.version != 1 {
        return Err(QueryError::invalid(format!(
            "unsupported trends version {}; this server knows 1",
            q.version
        )));
    }
    if q.series.is_empty() || q.series.len() > MAX_SERIES {
        return Err(QueryError::invalid(format!("a trends query needs 1 to {MAX_SERIES} series")));
    }
    for (i, s) in q.series.iter().enumerate() {
        match (&s.property, s.math.needs_property()) {
            (None, true) => {
                return Err(QueryError::invalid(format!(
                    "series {i}: math `{}` needs a numeric `property`",
                    serde_json::to_value(s.math).unwrap_or_default().as_str().unwrap_or("?")
                )));
            }
            (Some(_), false) => {
                return Err(QueryError::invalid(format!(
                    "series {i}: `property` only applies to sum, avg, min, max, median and p90..p99"
                )));
            }
            _ => {}
        }
        if q.cumulative && !s.math.is_additive() {
            return Err(QueryError::invalid(format!(
                "series {i}: cumulative works with math `total` and `sum` only"
            )));
        }
    }
    Ok(())
}

fn matcher(s: &Series) -> EventMatcher {
    EventMatcher { event: s.event.clone(), filters: s.filters.clone(), label: None }
}

fn statement(
    q: &TrendsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
    range: TimeRange,
    zone: Zone,
) -> Result<(Statement, Layout), QueryError> {
    let buckets: Vec<NaiveDateTime> = q.interval.buckets(range, zone, opts.max_buckets)?;
    if opts.rollups
        && let Some(read) = rollup_trends::hourly_read(q, range, zone, dialect)
    {
        let statement = from_rollup(q, opts, dialect, range, zone, &read);
        return Ok((statement, Layout::new(buckets, range, read.sketched)));
    }
    let mut builder = SqlBuilder::new(dialect);
    let b = &mut builder;
    // Person counts read the distinct people per hour instead of every event when they can.
    let grain = rollup::ActorGrain::of([q.interval]);
    let actors = rollup::actor_source(b, opts, rollup::actor_trends(q), range, &[], zone, grain);
    let weighted = actors.is_some();
    let breakdown_properties: Vec<_> =
        q.breakdown.iter().flat_map(|bd| std::iter::once(&bd.property).chain(&bd.and)).collect();
    let needs = Needs {
        persons: q.series.iter().any(|s| {
            matches!(s.math, Math::UniqueUsers | Math::DauNormalised | Math::PerUserAverage)
        }),
        person_properties: reads_person_properties(
            q.filters.iter().chain(q.series.iter().flat_map(|s| &s.filters)),
        ) || breakdown_properties
            .iter()
            .any(|p| matches!(p, crate::PropertyRef::Person(_))),
        // Trends count people and never show them: the rollups' keys tell them apart.
        person_keys: weighted,
    };
    let scope = scope(b, opts, range, zone, &q.filters, needs, actors)?;
    let mut filters = scope.conditions.clone();
    let conditions = q
        .series
        .iter()
        .map(|s| matcher_conditions(b, &matcher(s)))
        .collect::<Result<Vec<_>, QueryError>>()?;
    // Normalising by active people needs every event in scope, not just the series' ones.
    let needs_all_events = q.series.iter().any(|s| s.math == Math::DauNormalised);
    // The series conditions also go into WHERE (not only into the flags) so the scan can push
    // them down, e.g. `event = $4` onto the dictionary-compressed column. A series without
    // conditions matches every event in scope, and then there is nothing to add.
    if !needs_all_events && let Some(any) = any_series(&conditions) {
        filters.push(any);
    }
    // With one series its conditions are already the WHERE clause: no per-series flags, and
    // plain aggregates, which DuckDB runs ~30% faster than conditional ones (sextant-bench).
    let flagged = q.series.len() > 1 || needs_all_events;
    let mut columns = vec![format!("{} AS bucket", b.truncate(q.interval, &scope.local_time))];
    let keys: Vec<String> = (1..=breakdown_properties.len()).map(|i| format!("b{i}")).collect();
    for (key, property) in keys.iter().zip(&breakdown_properties) {
        columns.push(format!("{} AS {key}", property_expr(b, property)));
    }
    if needs.persons {
        columns.push(format!("{} AS person", scope.person));
    }
    if q.series.iter().any(|s| s.math == Math::UniqueSessions) {
        columns.push("session_id".to_owned());
    }
    if weighted {
        columns.push("weight".to_owned());
    }
    for (i, (s, c)) in q.series.iter().zip(&conditions).enumerate() {
        if flagged {
            columns.push(format!("({}) AS s{i}", b.all_of(c)));
        }
        if let Some(property) = &s.property {
            let expr = property_expr(b, property);
            let number = if is_numeric(property) { expr } else { b.to_double(&expr) };
            columns.push(format!("{number} AS x{i}"));
        }
    }
    let aggregates = q
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| aggregate(b, i, s.math, flagged.then(|| format!("s{i}")), weighted))
        .collect::<Vec<_>>()
        .join(", ");
    let matched = format!(
        "SELECT {}\n    FROM {}\n    WHERE {}",
        columns.join(", "),
        scope.from,
        all_of(&filters)
    );
    let carried: Vec<String> = columns
        .iter()
        .filter_map(|c| c.rsplit(" AS ").next())
        .filter(|alias| !keys.iter().any(|k| k == alias))
        .map(str::to_owned)
        .collect();
    let sql = grouped(b, q, &keys, &matched, &carried, &aggregates, "count(*)");
    Ok((builder.finish(sql), Layout::new(buckets, range, false)))
}

/// Groups the `matched` rows (`SELECT` of `bucket`, the breakdown `keys`, the `carried`
/// columns) per bucket and group and over the range, keeping the breakdown's top groups by
/// `rank` (folding the rest into "other" when asked). Output rows:
/// `(is_total, bucket, is_other, b1, b2, value0, denominator0, ...)`.
fn grouped(
    b: &mut SqlBuilder,
    q: &TrendsQuery,
    keys: &[String],
    matched: &str,
    carried: &[String],
    aggregates: &str,
    rank: &str,
) -> String {
    if b.dialect == Dialect::ClickHouse {
        return crate::clickhouse::trends::grouped(b, q, keys, matched, carried, aggregates, rank);
    }
    let null_text = b.null_text();
    // Output rows: (is_total, bucket, is_other, b1, b2, value0, denominator0, ...).
    let padded = |prefix: &str| -> String {
        (0..2)
            .map(|i| match keys.get(i) {
                Some(k) => format!("{prefix}{k}"),
                None => null_text.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &q.breakdown {
        None => format!(
            "SELECT GROUPING(bucket) AS is_total, bucket, FALSE AS is_other, {nulls}, {aggregates}\nFROM (\n    {matched}\n)\nGROUP BY GROUPING SETS ((bucket), ())",
            nulls = padded(""),
        ),
        Some(bd) => {
            let limit = b.breakdown_limit(bd);
            let key_list = keys.join(", ");
            let order =
                keys.iter().map(|k| format!("{k} NULLS LAST")).collect::<Vec<_>>().join(", ");
            let same = |l: &str, r: &str| {
                keys.iter()
                    .map(|k| format!("{l}.{k} IS NOT DISTINCT FROM {r}.{k}"))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            };
            if bd.other {
                // Values past the limit fold into one group, aggregated from the events (not
                // from the groups), so distinct counts and quantiles stay exact.
                let folded_keys = keys
                    .iter()
                    .map(|k| {
                        format!("CASE WHEN top.kept IS NULL THEN NULL ELSE matched.{k} END AS {k}")
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let carried =
                    carried.iter().map(|a| format!("matched.{a}")).collect::<Vec<_>>().join(", ");
                format!(
                    "WITH matched AS (\n    {matched}\n),\ntop AS (\n  SELECT {key_list}, TRUE AS kept FROM matched GROUP BY {key_list} ORDER BY {rank} DESC, {order} LIMIT {limit}\n),\nfolded AS (\n  SELECT {carried}, top.kept IS NULL AS is_other, {folded_keys}\n  FROM matched LEFT JOIN top ON {on}\n)\nSELECT GROUPING(bucket) AS is_total, bucket, is_other, {padded}, {aggregates}\nFROM folded\nGROUP BY GROUPING SETS ((bucket, is_other, {key_list}), (is_other, {key_list}))",
                    on = same("matched", "top"),
                    padded = padded(""),
                )
            } else {
                let values = (0..q.series.len())
                    .map(|i| format!("grouped.v{i}, grouped.d{i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                // Every group is aggregated, then only the most frequent are kept: cheaper
                // than a first pass to find them (the grouped rows are few).
                format!(
                    "WITH grouped AS (\n  SELECT GROUPING(bucket) AS is_total, bucket, {key_list}, {rank} AS matched_events, {aggregates}\n  FROM (\n    {matched}\n  )\n  GROUP BY GROUPING SETS ((bucket, {key_list}), ({key_list}))\n),\ntop_groups AS (\n  SELECT {key_list} FROM grouped WHERE is_total = 1 ORDER BY matched_events DESC, {order} LIMIT {limit}\n)\nSELECT grouped.is_total, grouped.bucket, FALSE AS is_other, {padded}, {values}\nFROM grouped JOIN top_groups ON {on}",
                    padded = padded("grouped."),
                    on = same("grouped", "top_groups"),
                )
            }
        }
    }
}

/// The statement over the hourly rollups (and the events of partial edge hours).
fn from_rollup(
    q: &TrendsQuery,
    opts: &PlanOptions,
    dialect: Dialect,
    range: TimeRange,
    zone: Zone,
    read: &HourlyRead,
) -> Statement {
    let mut b = SqlBuilder::new(dialect);
    let project = b.param(Param::Text(opts.project_id.to_string()));
    let flagged = q.series.len() > 1;
    let matched = rollup_trends::parts(&mut b, q, &project, range, read, zone, flagged);
    let aggregates = q
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| rollup_trends::aggregate(&b, i, s.math, flagged.then(|| format!("s{i}"))))
        .collect::<Vec<_>>()
        .join(", ");
    let keys: Vec<String> = read.broken_down().then(|| "b1".to_owned()).into_iter().collect();
    let carried = rollup_trends::carried(q.series.len(), flagged);
    let grouped = grouped(&mut b, q, &keys, &matched, &carried, &aggregates, "sum(events)");
    let quantiles = rollup_trends::quantiles(&mut b, q, &project, range, read, zone);
    if quantiles.is_empty() {
        return b.finish(grouped);
    }
    // Quantiles come per bucket from their own statements, joined to the other values.
    let mut with = vec![format!("main AS (\n{grouped}\n)")];
    let mut joins = String::new();
    let mut values = Vec::new();
    for i in 0..q.series.len() {
        match quantiles.iter().find(|(at, _)| *at == i) {
            Some((_, sql)) => {
                with.push(format!("q{i} AS (\n  {sql}\n)"));
                joins.push_str(&format!(
                    "\nLEFT JOIN q{i} ON q{i}.is_total = main.is_total AND q{i}.bucket IS NOT DISTINCT FROM main.bucket"
                ));
                values.push(format!("q{i}.v AS v{i}, main.d{i}"));
            }
            None => values.push(format!("main.v{i}, main.d{i}")),
        }
    }
    let sql = format!(
        "WITH {with}\nSELECT main.is_total, main.bucket, main.is_other, {null}, {null}, {values}\nFROM main{joins}",
        with = with.join(",\n"),
        null = b.null_text(),
        values = values.join(", "),
    );
    b.finish(sql)
}

/// `value{i}, denominator{i}` for series `i`; `flag` restricts to the series' events;
/// `weighted` rows stand for `weight` events each (rows of `rollup_actors`).
fn aggregate(b: &SqlBuilder, i: usize, math: Math, flag: Option<String>, weighted: bool) -> String {
    let when = |expr: &str| match &flag {
        Some(f) => format!("CASE WHEN {f} THEN {expr} END"),
        None => expr.to_owned(),
    };
    let count = match (&flag, weighted) {
        (_, true) => format!("coalesce(sum({}), 0)", when("weight")),
        (Some(f), false) => b.count_if(f),
        (None, false) => "count(*)".to_owned(),
    };
    let distinct = |column: &str| b.count_distinct(&when(column));
    let no_denominator = b.null_number();
    let x = format!("x{i}");
    let (value, denominator) = match math {
        Math::Total => (count, no_denominator),
        Math::UniqueUsers => (distinct("person"), no_denominator),
        Math::UniqueSessions => (distinct("session_id"), no_denominator),
        Math::DauNormalised => (count, b.count_distinct("person")),
        Math::PerUserAverage => (count, distinct("person")),
        Math::Sum => (format!("sum({})", when(&x)), no_denominator),
        Math::Avg => (format!("avg({})", when(&x)), no_denominator),
        Math::Min => (format!("min({})", when(&x)), no_denominator),
        Math::Max => (format!("max({})", when(&x)), no_denominator),
        Math::Median | Math::P90 | Math::P95 | Math::P99 => {
            (b.quantile(&when(&x), math.quantile().unwrap_or(0.5)), no_denominator)
        }
    };
    format!("{value} AS v{i}, {denominator} AS d{i}")
}
