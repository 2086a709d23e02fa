//! Strict funnels in linear time per person: a strict chain is consecutive events, so the
//! chain ending at event `i` at step `k` is events `i - k ..= i`, and whether it is valid is
//! element-wise arithmetic on the arrays shifted by whole places (`v{k}[i]`: `v{k-1}[i - 1]`,
//! event `i` matches step `k`, later than event `i - 1` when the steps can match the same
//! event, within the window of event `i - k`, no exclusion event between its `from_step`
//! event and `i`).
//!
//! A person's attempt ends at the earliest time any deepest chain ends; of the chains ending
//! then, the latest one starts latest (times never decrease along the events), unless all of
//! its events share that time: then, as the reference does, the first chain whose events all
//! do.

use super::{Span, first_run, select, shift};

pub(super) fn deepest(
    events: &str,
    n: usize,
    window: &str,
    overlap: &[bool],
    spans: &[Span],
) -> String {
    let mut sql = events.to_owned();
    for k in 1..n {
        let mut columns: Vec<String> =
            ["person", "ets", "buckets", "bds"].map(str::to_owned).into();
        columns.push("f0".to_owned());
        columns.extend((1..k).map(|m| format!("v{m}")));
        columns.extend((k + 1..n).map(|m| format!("f{m}")));
        for s in spans.iter().filter(|s| k < s.to) {
            columns.push(format!("lt{}", s.j));
            columns.push(format!("le{}", s.j));
        }
        let previous = if k == 1 { "f0".to_owned() } else { format!("v{}", k - 1) };
        let mut lambda: Vec<String> = ["p", "f", "t", "s"].map(str::to_owned).to_vec();
        let mut args =
            vec![shift(&previous, 1), format!("f{k}"), "ets".to_owned(), shift("ets", k)];
        let mut tests = vec![format!("p AND f AND t - s <= {window}")];
        if overlap.get(k).copied().unwrap_or(true) {
            lambda.push("u".to_owned());
            args.push(shift("ets", 1));
            tests.push("t > u".to_owned());
        }
        for (i, s) in spans.iter().filter(|s| s.checks(k)).enumerate() {
            lambda.push(format!("b{i}"));
            lambda.push(format!("a{i}"));
            args.push(format!("lt{}", s.j));
            args.push(shift(&format!("le{}", s.j), k - s.from));
            tests.push(format!("b{i} <= a{i}"));
        }
        columns.push(format!(
            "arrayMap(({}) -> {}, {}) AS v{k}",
            lambda.join(", "),
            tests.join(" AND "),
            args.join(", ")
        ));
        sql = select(&columns, &sql);
    }
    // Per level, the end of its preferred chain (0: none).
    let mut columns: Vec<String> = ["person", "ets", "buckets", "bds"].map(str::to_owned).into();
    columns.push("arrayFirstIndex(m -> m, f0) AS best0".to_owned());
    for k in 1..n {
        let ends = format!("arrayFilter((t, m) -> m, ets, v{k})");
        let starts = format!("arrayFilter((t, m) -> m, {}, v{k})", shift("ets", k));
        let at = format!("arrayFilter((i, m) -> m, arrayEnumerate(ets), v{k})");
        let run = first_run(&ends);
        columns.push(format!(
            "if(length({ends}) = 0, 0, if({starts}[{run}] = {ends}[1], {at}[arrayFirstIndex((s, t) -> s = t, {starts}, {ends})], {at}[{run}])) AS best{k}"
        ));
    }
    let best = select(&columns, &sql);
    let depth: Vec<String> = (0..n).rev().map(|k| format!("best{k} > 0, {}", k + 1)).collect();
    let end: Vec<String> = (0..n).rev().map(|k| format!("best{k} > 0, best{k}")).collect();
    let mut columns: Vec<String> = vec![
        "person".to_owned(),
        format!("multiIf({}, 0) AS depth", depth.join(", ")),
        format!("toInt64(multiIf({}, 0)) - depth + 1 AS start", end.join(", ")),
    ];
    columns.extend(
        (0..n).map(|m| format!("if(depth > {m}, toNullable(ets[start + {m}]), NULL) AS t{m}")),
    );
    columns.push("buckets[start] AS bucket".to_owned());
    columns.push("bds[start] AS bd".to_owned());
    format!("{} WHERE depth > 0", select(&columns, &best))
}
