//! Unordered funnels in n·log n per person: every event matching a step is an anchor, and
//! step `k` is found from anchor time `t` when the person's step-`k` events at or before
//! `t + window` outnumber those before `t`. Both counts, for every anchor at once, come
//! from one sorted merge per step: the step's event times and the anchors' `t` and
//! `t + window`, keyed by `time * 4` plus which comes first on equal times, then a prefix
//! count of step events. Anchors (and their `t + window`) are in time order, so each kind of
//! probe leaves the merge in anchor order. The attempt is the earliest anchor reaching the
//! most steps.

use super::select;

/// Windows past this (in µs, about 18,000 years) are all the same; keeps `(t + window) * 4`
/// within Int64.
const WINDOW_CAP: i64 = 1 << 59;

pub(super) fn deepest(events: &str, n: usize, window: &str) -> String {
    let flags: Vec<String> = (0..n).map(|k| format!("f{k}")).collect();
    let any =
        format!("arrayMap(({}) -> {}, {})", flags.join(", "), flags.join(" OR "), flags.join(", "));
    let columns: Vec<String> = vec![
        "person".to_owned(),
        "buckets".to_owned(),
        "bds".to_owned(),
        "ets".to_owned(),
        flags.join(", "),
        format!("arrayFilter((t, m) -> m, ets, {any}) AS a_ts"),
        format!("arrayFilter((i, m) -> m, arrayEnumerate(ets), {any}) AS a_pos"),
    ];
    let anchors = select(&columns, events);
    let mut columns: Vec<String> =
        ["person", "buckets", "bds", "a_ts", "a_pos"].map(str::to_owned).into();
    for k in 0..n {
        columns.push(format!(
            "arraySort(arrayConcat(arrayMap(t -> t * 4 + 1, arrayFilter((t, m) -> m, ets, f{k})), arrayMap(t -> t * 4, a_ts), arrayMap(t -> (t + least({window}, {WINDOW_CAP})) * 4 + 2, a_ts))) AS merged{k}"
        ));
    }
    let merged = select(&columns, &anchors);
    let found: Vec<String> = (0..n)
        .map(|k| {
            let count = |class: u8| {
                format!(
                    "arrayFilter((c, key) -> bitAnd(key, 3) = {class}, arrayCumSum(arrayMap(key -> bitAnd(key, 3) = 1, merged{k})), merged{k})"
                )
            };
            format!("arrayMap((hi, lo) -> hi > lo, {}, {})", count(2), count(0))
        })
        .collect();
    let params: Vec<String> = (0..n).map(|k| format!("d{k}")).collect();
    let columns: Vec<String> = vec![
        "person".to_owned(),
        "buckets".to_owned(),
        "bds".to_owned(),
        "a_ts".to_owned(),
        "a_pos".to_owned(),
        format!(
            "arrayMap(({}) -> {}, {}) AS depths",
            params.join(", "),
            params.join(" + "),
            found.join(", ")
        ),
    ];
    let depths = select(&columns, &merged);
    // The deepest anchor, the earliest on ties (the key is unique).
    let chosen = "arrayReduce('argMin', arrayEnumerate(depths), arrayMap((d, i) -> toInt64(i) - toInt64(d) * 4294967296, depths, arrayEnumerate(depths)))";
    let times: Vec<String> =
        (1..n).map(|k| format!("CAST(NULL AS Nullable(Int64)) AS t{k}")).collect();
    let columns: Vec<String> = vec![
        "person".to_owned(),
        format!("{chosen} AS chosen"),
        "depths[chosen] AS depth".to_owned(),
        "toNullable(a_ts[chosen]) AS t0".to_owned(),
        times.join(", "),
        "buckets[a_pos[chosen]] AS bucket".to_owned(),
        "bds[a_pos[chosen]] AS bd".to_owned(),
    ];
    format!("{} WHERE depth > 0", select(&columns, &depths))
}
