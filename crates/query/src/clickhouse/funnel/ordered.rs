//! Ordered funnels in n·log n per person: the DuckDB plan's chain search as a sorted merge.
//!
//! Level `k` holds every valid chain ending at a step-`k` event, in event order: its end
//! time `e{k}_ts`, the position `p{k}` of the chain it extends in level `k - 1`, and what
//! later levels check (its start time `e{k}_t0`, and per exclusion the count `e{k}_x{j}` of
//! exclusion events at or before its `from_step` event). A step-`k` event extends the latest
//! level-`k - 1` chain ending before it (at or before it when the two steps cannot match the
//! same event), as the DuckDB plan does. Every level's values never decrease along it (a later
//! event's latest predecessor is no earlier), so that chain is also the one starting latest
//! with the latest steps in between: if its window or an exclusion voids it, every other
//! does too. And two valid ends at the same time extend the same chain, so a person's
//! attempt is the first valid chain of their deepest level.
//!
//! Finding the latest predecessor of every step-`k` event is a merge: the chain ends and the
//! events, keyed by `time * 2` plus which comes first on equal times, sorted together
//! (`arraySort`), then prefix sums. A prefix count of chain ends is the predecessor's
//! position; prefix sums of the differences between consecutive chains' values are the
//! predecessor's values. An exclusion voids the extension when the exclusion events strictly
//! before the new end (`lt{j}`) outnumber those at or before the chain's `from_step` event.

use super::{Span, keep, select};

pub(super) fn deepest(
    events: &str,
    n: usize,
    window: &str,
    overlap: &[bool],
    spans: &[Span],
) -> String {
    // Level 0: every step-0 event starts a chain.
    let mut columns = needed(n, 1, spans);
    columns.push("arrayFilter((t, m) -> m, ets, f0) AS e0_ts".to_owned());
    columns.push("arrayFilter((i, m) -> m, arrayEnumerate(ets), f0) AS e0_pos".to_owned());
    columns.extend(
        spans
            .iter()
            .filter(|s| s.from == 0)
            .map(|s| format!("{} AS e0_x{}", keep(&format!("le{}", s.j), "f0"), s.j)),
    );
    let mut sql = select(&columns, events);
    let mut built = vec!["e0_ts".to_owned(), "e0_pos".to_owned()];
    for k in 1..n {
        sql = level(&sql, k, n, window, overlap.get(k).copied().unwrap_or(true), spans, &mut built);
    }
    // The deepest level with a chain, then its first chain followed back to step 0.
    let depth: Vec<String> =
        (0..n).rev().map(|k| format!("length(e{k}_ts) > 0, {}", k + 1)).collect();
    let mut columns: Vec<String> = ["person", "buckets", "bds"].map(str::to_owned).into();
    columns.extend(built);
    columns.push(format!("multiIf({}, 0) AS depth", depth.join(", ")));
    let deepest = select(&columns, &sql);
    let mut columns: Vec<String> = ["person", "depth"].map(str::to_owned).into();
    for m in (0..n).rev() {
        let back = if m + 1 < n {
            format!("if(depth > {}, p{}[r{}], 0)", m + 1, m + 1, m + 1)
        } else {
            "0".to_owned()
        };
        columns.push(format!("if(depth = {}, 1, {back}) AS r{m}", m + 1));
    }
    columns
        .extend((0..n).map(|m| format!("if(r{m} > 0, toNullable(e{m}_ts[r{m}]), NULL) AS t{m}")));
    columns.push("buckets[e0_pos[r0]] AS bucket".to_owned());
    columns.push("bds[e0_pos[r0]] AS bd".to_owned());
    format!("{} WHERE depth > 0", select(&columns, &deepest))
}

/// The event columns levels `from..` still read.
fn needed(n: usize, from: usize, spans: &[Span]) -> Vec<String> {
    let mut columns: Vec<String> = ["person", "buckets", "bds"].map(str::to_owned).into();
    if from < n {
        columns.push("ets".to_owned());
    }
    columns.extend((from..n).map(|k| format!("f{k}")));
    for s in spans {
        if from <= s.to {
            columns.push(format!("lt{}", s.j));
        }
        if from <= s.from {
            columns.push(format!("le{}", s.j));
        }
    }
    columns
}

/// Level `k` from level `k - 1` (two SELECTs: the merge, then what it gives). `built` lists
/// the level columns kept for the end, and gains this level's.
fn level(
    inner: &str,
    k: usize,
    n: usize,
    window: &str,
    overlap: bool,
    spans: &[Span],
    built: &mut Vec<String>,
) -> String {
    let checked: Vec<&Span> = spans.iter().filter(|s| s.checks(k)).collect();
    // What level k - 1 carries for level k: start times, then one count per checked span.
    let mut carried = vec![if k == 1 { "e0_ts".to_owned() } else { format!("e{}_t0", k - 1) }];
    carried.extend(checked.iter().map(|s| format!("e{}_x{}", k - 1, s.j)));
    let params: Vec<String> = (0..carried.len()).map(|i| format!("a{i}")).collect();
    let params = params.join(", ");
    let deltas: Vec<String> = carried
        .iter()
        .map(|c| format!("arrayPopFront(arrayDifference(arrayPushFront({c}, toInt64(0))))"))
        .collect();
    let zeros = vec!["toInt64(0)"; carried.len()].join(", ");
    // On equal times, chain ends sort first when the steps cannot match the same event (the
    // event may then share its predecessor's time), last when they can.
    let (end, event) = if overlap { (1, 0) } else { (0, 1) };
    let merged = format!(
        "arraySort((x, key) -> key, arrayConcat(arrayMap(({params}) -> (toUInt8(1), {params}), {}), arrayMap(t -> (toUInt8(0), {zeros}), q{k}_ts)), arrayConcat(arrayMap(t -> t * 2 + {end}, e{}_ts), arrayMap(t -> t * 2 + {event}, q{k}_ts))) AS m{k}",
        deltas.join(", "),
        k - 1,
    );
    let mut columns = needed(n, k + 1, spans);
    columns.extend(built.iter().cloned());
    columns.push(format!("{} AS q{k}_ts", keep("ets", &format!("f{k}"))));
    for s in &checked {
        columns.push(format!(
            "{} AS q{k}_lt{}",
            keep(&format!("lt{}", s.j), &format!("f{k}")),
            s.j
        ));
    }
    for s in spans.iter().filter(|s| s.from == k) {
        columns.push(format!(
            "{} AS q{k}_le{}",
            keep(&format!("le{}", s.j), &format!("f{k}")),
            s.j
        ));
    }
    columns.push(merged);
    let merge = select(&columns, inner);

    // Per step-k event: the predecessor's position, then its carried values.
    let at_events = |sum: &str| {
        format!("arrayFilter((c, x) -> x.1 = 0, arrayCumSum(arrayMap(x -> {sum}, m{k})), m{k})")
    };
    let mut columns = needed(n, k + 1, spans);
    columns.extend(built.iter().cloned());
    let mut lambda = vec!["r".to_owned(), "t".to_owned(), "a0".to_owned()];
    let mut args = vec![
        format!("{} AS pred{k}", at_events("x.1")),
        format!("q{k}_ts"),
        format!("{} AS from{k}_0", at_events("x.2")),
    ];
    let mut tests = vec![format!("r > 0 AND t - a0 <= {window}")];
    for (i, s) in checked.iter().enumerate() {
        lambda.push(format!("b{i}"));
        lambda.push(format!("a{}", i + 1));
        args.push(format!("q{k}_lt{}", s.j));
        args.push(format!("{} AS from{k}_{}", at_events(&format!("x.{}", i + 3)), i + 1));
        tests.push(format!("b{i} <= a{}", i + 1));
    }
    let ok = format!(
        "arrayMap(({}) -> {}, {}) AS ok{k}",
        lambda.join(", "),
        tests.join(" AND "),
        args.join(", ")
    );
    columns.push(format!("{} AS e{k}_ts", keep(&format!("q{k}_ts"), &ok)));
    columns.push(format!("{} AS p{k}", keep(&format!("pred{k}"), &format!("ok{k}"))));
    if k + 1 < n {
        columns.push(format!("{} AS e{k}_t0", keep(&format!("from{k}_0"), &format!("ok{k}"))));
    }
    for s in spans.iter().filter(|s| s.from <= k && k < s.to) {
        let source = match checked.iter().position(|c| c.j == s.j) {
            Some(i) => format!("from{k}_{}", i + 1),
            None => format!("q{k}_le{}", s.j),
        };
        columns.push(format!("{} AS e{k}_x{}", keep(&source, &format!("ok{k}")), s.j));
    }
    built.push(format!("e{k}_ts"));
    built.push(format!("p{k}"));
    select(&columns, &merge)
}
