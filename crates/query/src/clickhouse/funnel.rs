//! Funnels for ClickHouse, where the DuckDB plan chains steps with ASOF joins and picks
//! attempts with `row_number()`: each person's events become one array in (time, insert_id)
//! order, and the chains are arrays of event positions computed a step at a time, each step
//! in a SELECT of its own (an alias per step would repeat the earlier steps' expressions in
//! every later one). The chain ending at a step-`k` event extends the valid chain ending at
//! the latest step-`k - 1` event before it (its latest start, on ties), exactly as the ASOF
//! join does; window and exclusions are then checked on it.
//!
//! 18.16 prunes a subquery's columns to those a query names outside lambdas, so every level
//! that reads arrays inside lambdas names them in a `WHERE` that is always true ([`kept`]). `windowFunnel` is not used: it
//! keeps no step times, and its choice of attempt differs from `docs/queries.md`.

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
    let flags = n + q.exclusions.len();
    let tuple: Vec<String> = std::iter::once("ts, insert_id, bucket, bd".to_owned())
        .chain((0..n).map(|i| format!("toUInt8(ifNull(s{i}, 0))")))
        .chain((0..q.exclusions.len()).map(|j| format!("toUInt8(ifNull(x{j}, 0))")))
        .collect();
    let unpacked: Vec<String> = (0..flags)
        .map(|i| {
            let name = if i < n { format!("f{i}") } else { format!("g{}", i - n) };
            format!("arrayMap(e -> e.{}, evs) AS {name}", i + 5)
        })
        .collect();
    let mut sql = format!(
        "SELECT person, arrayMap(e -> e.1, evs) AS ets, arrayMap(e -> e.3, evs) AS buckets, arrayMap(e -> e.4, evs) AS bds, {}, arrayEnumerate(evs) AS idx FROM (\n  SELECT person, arraySort(groupArray(({}))) AS evs FROM (\n  {scoped}\n  ) GROUP BY person\n)",
        unpacked.join(", "),
        tuple.join(", ")
    );
    let mut arrays: Vec<String> = ["ets", "buckets", "bds", "idx"].map(str::to_owned).into();
    arrays.extend((0..n).map(|i| format!("f{i}")));
    arrays.extend((0..q.exclusions.len()).map(|j| format!("g{j}")));
    let deepest = if q.order == FunnelOrder::Unordered {
        unordered(&sql, n, window, &kept(&arrays))
    } else {
        for k in 0..n {
            let chain = match k {
                0 => "arrayMap(i -> if(f0[i] = 1, [i], emptyArrayUInt32()), idx)".to_owned(),
                _ => chain(q, k, window, overlap.get(k).copied().unwrap_or(true)),
            };
            sql = format!("SELECT *, {chain} AS c{k} FROM (\n{sql}\n) WHERE {}", kept(&arrays));
            arrays.push(format!("c{k}"));
        }
        best(&sql, n, &kept(&arrays))
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

/// The chain (positions of e0 .. ek) ending at each event, empty where none ends there.
fn chain(q: &FunnelQuery, k: usize, window: &str, overlap: bool) -> String {
    let previous = format!("c{}", k - 1);
    // The position of the step-(k-1) chain end this event extends (0: none).
    let from = match q.order {
        FunnelOrder::Strict => {
            let later = if overlap { " AND ets[i] > ets[i - 1]" } else { "" };
            format!("if(i > 1 AND length({previous}[i - 1]) > 0{later}, i - 1, 0)")
        }
        _ => {
            let op = if overlap { "<" } else { "<=" };
            format!(
                "arrayReverseSort(j -> (ets[j], ets[{previous}[j][1]]), arrayFilter(j -> length({previous}[j]) > 0 AND ets[j] {op} ets[i], idx))[1]"
            )
        }
    };
    let excluded: String = q
        .exclusions
        .iter()
        .enumerate()
        .filter(|(_, x)| x.from_step < k && k <= x.to_step)
        .map(|(j, x)| {
            format!(
                " OR arrayExists(m -> g{j}[m] = 1 AND ets[m] > ets[p[{}]] AND ets[m] < ets[i], idx)",
                x.from_step + 1
            )
        })
        .collect();
    format!(
        "arrayMap(i -> if(f{k}[i] = 1, arrayMap(p -> if(length(p) = 0 OR ets[i] - ets[p[1]] > {window}{excluded}, emptyArrayUInt32(), arrayPushBack(p, i)), [{previous}[{from}]])[1], emptyArrayUInt32()), idx)"
    )
}

/// Per person the deepest chain, ending earliest, then starting latest; people who only did
/// step 0 get their first step-0 event.
fn best(chains: &str, n: usize, kept: &str) -> String {
    let bests: Vec<String> = (1..n)
        .map(|k| {
            format!(
                "arraySort(x -> (ets[x[length(x)]], -ets[x[1]]), arrayFilter(x -> length(x) > 0, c{k}))[1] AS best{k}"
            )
        })
        .collect();
    let mut arms = Vec::new();
    for k in (1..n).rev() {
        arms.push(format!("length(best{k}) > 0, best{k}"));
    }
    let chosen = format!(
        "multiIf({}, arrayFirstIndex(x -> x = 1, f0) > 0, [toUInt32(arrayFirstIndex(x -> x = 1, f0))], emptyArrayUInt32())",
        arms.join(", ")
    );
    let times: Vec<String> = (0..n)
        .map(|k| {
            format!("if(length(chosen) > {k}, toNullable(ets[chosen[{}]]), NULL) AS t{k}", k + 1)
        })
        .collect();
    format!(
        "SELECT person, length(chosen) AS depth, {}, buckets[chosen[1]] AS bucket, bds[chosen[1]] AS bd FROM (\n  SELECT person, ets, buckets, bds, {chosen} AS chosen FROM (\n  SELECT person, ets, buckets, bds, f0, {} FROM (\n{chains}\n  ) WHERE {kept}\n  ) WHERE length(ets) >= 0\n) WHERE depth > 0",
        times.join(", "),
        bests.join(", ")
    )
}

/// Every step event is an anchor; its depth is how many steps have an event within
/// `[anchor, anchor + window]`; per person the deepest anchor, the earliest on ties.
fn unordered(events: &str, n: usize, window: &str, kept: &str) -> String {
    let any: Vec<String> = (0..n).map(|i| format!("f{i}[i] = 1")).collect();
    let found: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "arrayExists(m -> f{i}[m] = 1 AND ets[m] >= ets[a] AND ets[m] - ets[a] <= {window}, idx)"
            )
        })
        .collect();
    let times: Vec<String> =
        (1..n).map(|k| format!("CAST(NULL AS Nullable(Int64)) AS t{k}")).collect();
    format!(
        "SELECT person, best.1 AS depth, toNullable(ets[best.2]) AS t0, {}, buckets[best.2] AS bucket, bds[best.2] AS bd FROM (\n  SELECT *, arraySort(x -> (-x.1, ets[x.2]), arrayMap(a -> (toInt64({}), a), arrayFilter(i -> {}, idx)))[1] AS best FROM (\n{events}\n  ) WHERE {kept}\n) WHERE depth > 0",
        times.join(", "),
        found.join(" + "),
        any.join(" OR ")
    )
}

/// The funnel's result rows `(row_kind, bd, bucket, i, c, f1, f2)` from `people`, every
/// column named (ClickHouse merges unnamed identical ones).
pub(crate) fn rows(
    b: &mut SqlBuilder,
    q: &FunnelQuery,
    people: &str,
    bins: Option<&str>,
) -> String {
    let n = q.steps.len();
    let last = n - 1;
    let keep = if q.breakdown.as_ref().is_some_and(|bd| bd.other) { "1" } else { "NOT is_other" };
    let mut parts = Vec::new();
    for k in 0..n {
        let seconds = if k == 0 {
            "CAST(NULL AS Nullable(Float64))".to_owned()
        } else {
            format!("(t{k} - t{}) / 1e6", k - 1)
        };
        let reached = k + 1;
        parts.push(format!(
            "SELECT if(is_other, 3, 0) AS kind, bd, CAST(NULL AS Nullable(Int64)) AS bucket_start, {k} AS i, countIf(depth >= {reached}) AS c, avgIf({seconds}, depth >= {reached}) AS f1, {} AS f2 FROM ({people}) WHERE {keep} GROUP BY is_other, bd",
            b.quantile(&format!("if(depth >= {reached}, {seconds}, NULL)"), 0.5),
        ));
    }
    if let Some(bins) = bins {
        parts.push(format!(
            "SELECT 1 AS kind, NULL AS bd, NULL AS bucket_start, if(hi = lo, 0, least(intDiv((d - lo) * {bins}, if(hi = lo, 1, hi - lo)), {bins} - 1)) AS i, count(*) AS c, min(lo) / 1e6 AS f1, min(hi) / 1e6 AS f2 FROM (\n  SELECT groupArray(t{last} - t0) AS ds, arrayReduce('min', ds) AS lo, arrayReduce('max', ds) AS hi FROM ({people}) WHERE depth = {n}\n) ARRAY JOIN ds AS d GROUP BY i"
        ));
    }
    parts.push(format!(
        "SELECT 2 AS kind, NULL AS bd, toNullable(bucket) AS bucket_start, NULL AS i, count(*) AS c, toFloat64(countIf(depth = {n})) AS f1, NULL AS f2 FROM ({people}) GROUP BY bucket"
    ));
    parts.join("\nUNION ALL\n")
}

/// A condition that always holds and names `arrays`, so 18.16 keeps them (see the module).
fn kept(arrays: &[String]) -> String {
    let lengths: Vec<String> = arrays.iter().map(|a| format!("length({a})")).collect();
    format!("{} >= 0", lengths.join(" + "))
}
