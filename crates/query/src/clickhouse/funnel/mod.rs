//! Funnels for ClickHouse, where the DuckDB plan chains steps with window functions and
//! picks attempts with struct `arg_max`: each person's events become arrays in (time, insert_id)
//! order, and every strategy works on them in time linear or n·log n in the person's events.
//!
//! ClickHouse 18.16 evaluates a lambda that reads an array of the row it does not take as an
//! argument (`arrayMap(i -> ets[i], idx)`) by copying that array once per element: memory
//! and time quadratic per person (cubic with a lambda inside a lambda), which exhausted
//! 24 GiB on 1M demo events. So no lambda here reads anything but its own arguments, the
//! element-wise values of the arrays it is given, and constants or per-row scalars; lookups
//! "by position" are replaced by prefix sums (`arrayCumSum`), element-wise shifts, and sorted
//! merges (`arraySort` of two sorted key arrays, then a prefix count). The strategies are in
//! `ordered`, `strict` and `unordered`; this module builds the per-person arrays, the counts
//! exclusions need, and the result rows.

mod ordered;
mod strict;
mod unordered;

use super::top_groups;
use crate::sql::SqlBuilder;
use crate::{FunnelOrder, FunnelQuery};

/// `people(person, depth, t0 .. t{n-1}, bucket, bd, is_other)` as a SELECT. `scoped` selects
/// `person, ts, insert_id, bucket, bd, s0 .., x0 ..` (one flag per step and exclusion).
/// `overlap[k]` tells whether steps `k - 1` and `k` can match the same event.
pub(crate) fn people(
    b: &mut SqlBuilder,
    q: &FunnelQuery,
    scoped: &str,
    window: &str,
    overlap: &[bool],
) -> String {
    let n = q.steps.len();
    let spans = spans(q);
    let events = events(q, scoped);
    let deepest = match q.order {
        FunnelOrder::Unordered => unordered::deepest(&events, n, window),
        FunnelOrder::Ordered => {
            ordered::deepest(&exclusion_counts(&events, n, &spans), n, window, overlap, &spans)
        }
        FunnelOrder::Strict => {
            strict::deepest(&exclusion_counts(&events, n, &spans), n, window, overlap, &spans)
        }
    };
    let times: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
    let times = times.join(", ");
    match &q.breakdown {
        None => format!(
            "SELECT person, depth, {times}, bucket, bd, toUInt8(0) AS is_other FROM (\n{deepest}\n)"
        ),
        Some(bd) => {
            let limit = b.breakdown_limit(bd);
            let marked = top_groups(
                &deepest,
                &format!("person, depth, {times}, bucket, bd AS raw_bd"),
                "bd",
                &limit,
            );
            format!(
                "SELECT person, depth, {times}, bucket, if(kept, raw_bd, NULL) AS bd, toUInt8(NOT kept) AS is_other FROM ({marked})"
            )
        }
    }
}

/// An exclusion `j` as the chain search checks it: void when one of its events falls
/// strictly between the attempt's step `from` and its newest step `k`, for `from < k <= to`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub j: usize,
    pub from: usize,
    pub to: usize,
}

impl Span {
    /// Whether a chain reaching step `k` is checked against this exclusion.
    pub fn checks(&self, k: usize) -> bool {
        self.from < k && k <= self.to
    }
}

fn spans(q: &FunnelQuery) -> Vec<Span> {
    let last = q.steps.len() - 1;
    q.exclusions
        .iter()
        .enumerate()
        .map(|(j, x)| Span { j, from: x.from_step, to: x.to_step.min(last) })
        .filter(|s| s.from < s.to)
        .collect()
}

/// Per person: `ets` (times), `buckets`, `bds` (breakdown values), `f{k}` (matches step
/// `k`) and `g{j}` (matches exclusion `j`), every array in (time, insert_id) order.
fn events(q: &FunnelQuery, scoped: &str) -> String {
    let n = q.steps.len();
    let tuple: Vec<String> = std::iter::once("ts, insert_id, bucket, bd".to_owned())
        .chain((0..n).map(|i| format!("toUInt8(ifNull(s{i}, 0))")))
        .chain((0..q.exclusions.len()).map(|j| format!("toUInt8(ifNull(x{j}, 0))")))
        .collect();
    let unpacked: Vec<String> = (0..n)
        .map(|i| format!("f{i}"))
        .chain((0..q.exclusions.len()).map(|j| format!("g{j}")))
        .enumerate()
        .map(|(i, name)| format!("arrayMap(e -> e.{}, evs) AS {name}", i + 5))
        .collect();
    format!(
        "SELECT person, arrayMap(e -> e.1, evs) AS ets, arrayMap(e -> e.3, evs) AS buckets, arrayMap(e -> e.4, evs) AS bds, {} FROM (\n  SELECT person, arraySort(groupArray(({}))) AS evs FROM (\n  {scoped}\n  ) GROUP BY person\n)",
        unpacked.join(", "),
        tuple.join(", ")
    )
}

/// [`events`] plus, per exclusion that voids anything, `lt{j}` and `le{j}`: how many of
/// the person's exclusion-`j` events are strictly before / at or before each event's time.
/// Linear: the exclusion events up to this one (a prefix sum), less (`lt`) those at the same
/// time up to it, or plus (`le`) those at the same time after it. Times are sorted, so equal
/// times are adjacent and `arrayEnumerateUniq(ets, g)` counts the exclusion events among them.
fn exclusion_counts(events: &str, n: usize, spans: &[Span]) -> String {
    if spans.is_empty() {
        return events.to_owned();
    }
    let mut columns = base_columns(n);
    columns.extend(spans.iter().map(|s| format!("g{}", s.j)));
    let reversed = "arrayReverse(arrayEnumerateUniq(arrayReverse(ets)))";
    for s in spans {
        let j = s.j;
        // Exclusion events among the same-time events up to this one (`a`: all of those,
        // `b`: those whose flag equals this event's).
        columns.push(format!(
            "arrayMap((c, g, a, b) -> toInt64(c) - if(g = 1, b, a - b), arrayCumSum(g{j}), g{j}, arrayEnumerateUniq(ets), arrayEnumerateUniq(ets, g{j})) AS lt{j}"
        ));
        // ... and from this one on, for the events at this time not yet counted.
        columns.push(format!(
            "arrayMap((c, g, a, b) -> toInt64(c) - g + if(g = 1, b, a - b), arrayCumSum(g{j}), g{j}, {reversed}, arrayReverse(arrayEnumerateUniq(arrayReverse(ets), arrayReverse(g{j})))) AS le{j}"
        ));
    }
    select(&columns, events)
}

/// The columns of [`events`] every strategy reads.
fn base_columns(n: usize) -> Vec<String> {
    let mut columns: Vec<String> = ["person", "ets", "buckets", "bds"].map(str::to_owned).into();
    columns.extend((0..n).map(|k| format!("f{k}")));
    columns
}

/// `SELECT {columns} FROM ({inner})`.
fn select(columns: &[String], inner: &str) -> String {
    format!("SELECT {} FROM (\n{inner}\n)", columns.join(", "))
}

/// The elements of `values` where `mask` is 1.
fn keep(values: &str, mask: &str) -> String {
    format!("arrayFilter((v, m) -> m, {values}, {mask})")
}

/// `x` moved `s` places later (element `i` is `x[i - s]`; the first `s` are zeros): what the
/// event `s` places earlier holds, element-wise.
fn shift(x: &str, s: usize) -> String {
    if s == 0 {
        return x.to_owned();
    }
    format!("arraySlice(arrayConcat(arrayResize(arraySlice({x}, 1, 0), {s}), {x}), 1, length({x}))")
}

/// Where a sorted array's first run of equal values ends (its length; 0 when empty):
/// `arrayEnumerateUniq` numbers a value's occurrences, so 1 marks where a run starts.
fn first_run(sorted: &str) -> String {
    format!(
        "if(arrayFirstIndex(u -> u = 1, arrayPopFront(arrayEnumerateUniq({sorted}))) = 0, length({sorted}), arrayFirstIndex(u -> u = 1, arrayPopFront(arrayEnumerateUniq({sorted}))))"
    )
}

/// The funnel's result rows `(row_kind, bd, bucket, i, c, f1, f2)` from `people`, in one
/// pass over it (18.16 has no CTE to share it between parts): each person row is repeated
/// once per role it plays (`0`: their group's steps, `1`: the time-to-convert histogram,
/// `2`: the conversion trend), one GROUP BY measures every role's groups, and each group
/// row unfolds (`ARRAY JOIN`) into its result rows. Every column is named (ClickHouse merges
/// unnamed identical ones).
pub(crate) fn rows(
    b: &mut SqlBuilder,
    q: &FunnelQuery,
    people: &str,
    bins: Option<&str>,
) -> String {
    let n = q.steps.len();
    let last = n - 1;
    let keep = if q.breakdown.as_ref().is_some_and(|bd| bd.other) { "1" } else { "NOT is_other" };
    let mut measures = Vec::new();
    let mut steps = Vec::new();
    for k in 0..n {
        let seconds = crate::funnel::step_seconds(b, k);
        let reached = format!("role = 0 AND depth >= {}", k + 1);
        measures.push(format!("countIf({reached}) AS c{k}"));
        measures.push(format!("avgIf({seconds}, {reached}) AS a{k}"));
        measures.push(format!(
            "{} AS m{k}",
            b.quantile(&format!("if({reached}, {seconds}, NULL)"), 0.5)
        ));
        steps.push(format!(
            "(toUInt8(if(g_other, 3, 0)), g_bd, CAST(NULL AS Nullable(Int64)), toNullable(toUInt64({k})), toUInt64(c{k}), CAST(a{k} AS Nullable(Float64)), CAST(m{k} AS Nullable(Float64)))"
        ));
    }
    measures.push("count(*) AS entered".to_owned());
    measures.push(format!("countIf(depth = {n}) AS completed"));
    let trend = "[(toUInt8(2), CAST(NULL AS Nullable(String)), toNullable(toInt64(g_bucket)), CAST(NULL AS Nullable(UInt64)), toUInt64(entered), toNullable(toFloat64(completed)), CAST(NULL AS Nullable(Float64)))]";
    // 18.16 prunes a subquery's columns to those the query around it names outside lambdas:
    // `lo` and `hi` are selected next to `out`, and named by an always-true `WHERE` above it.
    let (roles, out) = match bins {
        Some(bins) => {
            let d = format!("ifNull(t{last} - t0, 0)");
            measures.push(format!("groupArrayIf({d}, role = 1) AS ds"));
            measures.push(format!("minIf({d}, role = 1) AS lo"));
            measures.push(format!("maxIf({d}, role = 1) AS hi"));
            // `lo` and `hi` are this row's scalars: reading them in the lambda is linear.
            let histogram = format!(
                "arrayMap(d -> (toUInt8(1), CAST(NULL AS Nullable(String)), CAST(NULL AS Nullable(Int64)), toNullable(toUInt64(if(hi = lo, 0, least(intDiv((d - lo) * {bins}, if(hi = lo, 1, hi - lo)), {bins} - 1)))), toUInt64(1), toNullable(lo / 1e6), toNullable(hi / 1e6)), ds)"
            );
            (
                "[0, 1, 2]",
                format!(
                    "multiIf(role = 0, [{}], role = 2, {trend}, {histogram}) AS out, lo, hi",
                    steps.join(", ")
                ),
            )
        }
        None => (
            "[0, 2]",
            format!("if(role = 0, [{}], {trend}) AS out, 0 AS lo, 0 AS hi", steps.join(", ")),
        ),
    };
    let grouped = format!(
        "SELECT role, if(role = 0, is_other, 0) AS g_other, if(role = 0, bd, NULL) AS g_bd, if(role = 2, bucket, 0) AS g_bucket, {} FROM (\n{people}\n) ARRAY JOIN {roles} AS role WHERE role = 2 OR (role = 0 AND {keep}) OR (role = 1 AND depth = {n}) GROUP BY role, g_other, g_bd, g_bucket",
        measures.join(", ")
    );
    // Histogram rows come one per person and are summed per bin; the other rows are one per
    // key already.
    format!(
        "SELECT kind, bd, bucket_start, i, sum(people) AS c, any(v1) AS f1, any(v2) AS f2 FROM (\n  SELECT o.1 AS kind, o.2 AS bd, o.3 AS bucket_start, o.4 AS i, o.5 AS people, o.6 AS v1, o.7 AS v2 FROM (\n  SELECT {out} FROM (\n{grouped}\n  )\n  ) ARRAY JOIN out AS o WHERE isNull(lo) + isNull(hi) >= 0\n) GROUP BY kind, bd, bucket_start, i"
    )
}
