//! Chains of ordered and strict funnels on DuckDB, and the per-person choice among them. A
//! chain ending at a step-`k` event extends the chain ending at step `k - 1` with the latest
//! end before it: that chain also has the latest start (starts never decrease as ends do),
//! so the window and exclusions are checked on the tightest attempt. Finding it is a hash
//! join bounded to keep it linear: each earlier end matches only the first step-`k` event
//! at or after it (the `prev` bound), and a step-`k` event with none since the previous one
//! inherits that one's chain. DuckDB's as-of joins did the same 1.16–1.26x slower on the
//! demo data (`docs/benchmarks.md`). Semantics: `docs/queries.md`.

use crate::FunnelQuery;

/// Where ordered funnels that need no per-event person properties find step-0 events by raw
/// id (the person and their linked devices): only those near a step-1 event are then
/// resolved to people.
pub(crate) struct RawStarts {
    pub from: StartsFrom,
    /// Placeholder of the project id parameter.
    pub project: String,
}

pub(crate) enum StartsFrom {
    /// `FROM` and `WHERE` of the step-0 events, selecting `person_id`, `anon`, `ts`, `bd`.
    Events(String),
    /// The people per hour that may hold step-0 events (`SELECT` of `rollup_actors`:
    /// `person_id`, `anon`, `hour`, `last_ts`, `times`), and the placeholder of the range's
    /// start in µs: without a breakdown or property conditions, an event's time and raw id
    /// are all a step-0 event is needed for, and these rows hold them in ~12x fewer rows.
    People { select: String, from_us: String },
}

/// Whether step `k` must be strictly later than step `k - 1` (they can match one event).
fn strictly_later(overlaps: &[bool], k: usize) -> (&'static str, &'static str) {
    // (end at or before the step-k event, end after the previous step-k event)
    if overlaps[k] { ("<", ">=") } else { ("<=", ">") }
}

pub(crate) fn t_list(k: usize, prefix: &str) -> String {
    (0..k).map(|i| format!("{prefix}t{i}")).collect::<Vec<_>>().join(", ")
}

/// `NOT EXISTS` an exclusion event strictly between the chain's step `from` and its newest
/// step `k`, for every exclusion that spans step `k`.
fn exclusions_at(q: &FunnelQuery, k: usize, chain: &str, newest: &str) -> String {
    q.exclusions
        .iter()
        .enumerate()
        .filter(|(_, x)| x.from_step < k && k <= x.to_step)
        .map(|(j, x)| {
            format!(
                " AND NOT EXISTS (SELECT 1 FROM scoped WHERE scoped.x{j} AND scoped.ph = {chain}.ph AND scoped.person = {chain}.person AND scoped.ts > {chain}.t{from} AND scoped.ts < {newest})",
                from = x.from_step
            )
        })
        .collect()
}

/// `chain1 .. chain{n-1}` of an ordered funnel, then `best` and `deepest`. Step 0 comes from
/// `scoped` (`chain0`) or, with `raw`, from the events directly.
pub(crate) fn ordered(
    q: &FunnelQuery,
    window: &str,
    overlaps: &[bool],
    raw: Option<&RawStarts>,
    first_steps: &str,
    bucket: &str,
) -> String {
    let mut sql = String::new();
    for k in 1..q.steps.len() {
        let (before, after) = strictly_later(overlaps, k);
        sql.push_str(&format!(
            ",\nends{k} AS (SELECT ph, person, ts AS t, lag(ts) OVER (PARTITION BY ph, person ORDER BY ts) AS prev FROM (SELECT DISTINCT ph, person, ts FROM scoped WHERE s{k}))"
        ));
        let found = match raw {
            Some(raw) if k == 1 => found_from_raw_ids(raw, window, before, after),
            _ => found_from_chain(k, window, before, after),
        };
        sql.push_str(&found);
        sql.push_str(&format!(
            ",\nchain{k} AS (\n  SELECT * FROM (\n    SELECT ph, person, {times}, t AS t{k}, c.bd AS bd FROM (\n      SELECT x.ph, x.person, x.t, arg_max(f.c, f.c.t{p}) OVER (PARTITION BY x.ph, x.person ORDER BY x.t) AS c\n      FROM ends{k} AS x LEFT JOIN found{k} AS f ON f.ph = x.ph AND f.person = x.person AND f.t = x.t\n    )\n  ) AS x WHERE t{k} - t0 <= {window}{excl}\n)",
            times = (0..k).map(|i| format!("c.t{i} AS t{i}")).collect::<Vec<_>>().join(", "),
            p = k - 1,
            excl = exclusions_at(q, k, "x", &format!("x.t{k}")),
        ));
    }
    sql.push_str(&deepest(q.steps.len(), first_steps, bucket));
    sql
}

/// `found{k}`: per step-`k` event, the chain ending at step `k - 1` with the latest end
/// since the previous step-`k` event and within the window, as a struct `c`.
fn found_from_chain(k: usize, window: &str, before: &str, after: &str) -> String {
    let p = k - 1;
    let fields: Vec<String> =
        (0..k).map(|i| format!("'t{i}': p.t{i}")).chain(["'bd': p.bd".to_owned()]).collect();
    let chain = if k == 1 {
        "(SELECT ph, person, ts AS t0, bd FROM scoped WHERE s0)".to_owned()
    } else {
        format!("chain{p}")
    };
    format!(
        ",\nfound{k} AS (\n  SELECT x.ph, x.person, x.t, arg_max({{{fields}}}, p.t{p}) AS c\n  FROM ends{k} AS x JOIN {chain} AS p ON p.ph = x.ph AND p.person = x.person AND p.t{p} {before} x.t AND (x.prev IS NULL OR p.t{p} {after} x.prev) AND x.t - p.t0 <= {window}\n  GROUP BY x.ph, x.person, x.t\n)",
        fields = fields.join(", "),
    )
}

/// `found1` from step-0 events found by raw id: each step-1 event is expanded to the raw ids
/// that can resolve to its person (the person; their linked devices, for anonymous events),
/// and a matched event must resolve to that person exactly as `scope` resolves it.
fn found_from_raw_ids(raw: &RawStarts, window: &str, before: &str, after: &str) -> String {
    let project = &raw.project;
    let ends = format!(
        ",\nends1_raw AS (\n  SELECT ends1.*, ends1.person AS raw, FALSE AS via_link, coalesce(l.user_id = ends1.person, TRUE) AS anon_ok FROM ends1 LEFT JOIN person_links AS l ON l.project_id = {project} AND l.device_id = ends1.person\n  UNION ALL\n  SELECT ends1.*, l.device_id, TRUE, TRUE FROM ends1 JOIN person_links AS l ON l.project_id = {project} AND l.user_id = ends1.person\n)"
    );
    let resolves =
        |e: &str| format!("CASE WHEN x.via_link THEN {e}.anon ELSE x.anon_ok OR NOT {e}.anon END");
    let found = match &raw.from {
        StartsFrom::Events(select) => format!(
            "found1 AS (\n  SELECT x.ph, x.person, x.t, arg_max({{'t0': e.ts, 'bd': e.bd}}, e.ts) AS c\n  FROM (\n    SELECT {select}\n  ) AS e JOIN ends1_raw AS x ON x.raw = e.person_id AND e.ts {before} x.t AND (x.prev IS NULL OR e.ts {after} x.prev) AND x.t - e.ts <= {window}\n  WHERE {resolves}\n  GROUP BY x.ph, x.person, x.t\n)",
            resolves = resolves("e"),
        ),
        // An hour whose latest event precedes the step-1 event gives that event; only the
        // hour holding the step-1 event may need a search of its times. The join drops the
        // hours whose latest event fails a lower bound (the previous step-1 event, the window,
        // the range's start): none of their events can pass it.
        StartsFrom::People { select, from_us } => format!(
            "found1 AS (\n  SELECT ph, person, t, arg_max({{'t0': t0, 'bd': CAST(NULL AS VARCHAR)}}, t0) AS c FROM (\n    SELECT ph, person, t, CASE WHEN last_ts {before} t THEN last_ts ELSE list_max(list_filter(times, lambda u: u {before} t AND (prev IS NULL OR u {after} prev) AND t - u <= {window} AND u >= {from_us})) END AS t0 FROM (\n      SELECT x.ph, x.person, x.t, x.prev, r.last_ts, r.times\n      FROM (\n        {select}\n      ) AS r JOIN ends1_raw AS x ON x.raw = r.person_id AND r.hour <= make_timestamp(x.t) AND (x.prev IS NULL OR r.last_ts {after} x.prev) AND x.t - r.last_ts <= {window} AND r.last_ts >= {from_us}\n      WHERE {resolves}\n    )\n  ) WHERE t0 IS NOT NULL GROUP BY ph, person, t\n)",
            resolves = resolves("r"),
        ),
    };
    format!("{ends},\n{found}")
}

/// Strict funnels: step `k` is the person's next event after step `k - 1`.
pub(crate) fn strict(
    q: &FunnelQuery,
    window: &str,
    overlaps: &[bool],
    first_steps: &str,
    bucket: &str,
) -> String {
    let mut sql = String::from(
        ",\nchain0 AS (SELECT ph, person, ts AS t0, seq AS seq0, bd FROM numbered WHERE s0)",
    );
    for (k, &overlap) in overlaps.iter().enumerate().skip(1) {
        // Adjacent events are in time order already; same-type steps need a later time.
        let later = if overlap { format!(" AND e.ts > p.t{}", k - 1) } else { String::new() };
        sql.push_str(&format!(
            ",\nchain{k} AS (\n  SELECT p.ph, p.person, {prev}, e.ts AS t{k}, e.seq AS seq{k}, p.bd\n  FROM numbered AS e JOIN chain{p} AS p ON e.ph = p.ph AND e.person = p.person AND e.seq = p.seq{p} + 1\n  WHERE e.s{k} AND e.ts - p.t0 <= {window}{later}{excl}\n)",
            prev = t_list(k, "p."),
            p = k - 1,
            excl = exclusions_at(q, k, "p", "e.ts"),
        ));
    }
    sql.push_str(&deepest(q.steps.len(), first_steps, bucket));
    sql
}

/// Per person, the deepest chain; among those the earliest end, then the latest start. The
/// chains tables hold only step-`k` candidates, so this reduces few rows; step 0 alone is an
/// aggregate (`first_steps`: person, t0, bd of their first step-0 event). The trend bucket is
/// the step-0 event's, `bucket` over `timestamp`, computed from `t0` here.
fn deepest(n: usize, first_steps: &str, bucket: &str) -> String {
    let nulls = |from: usize| -> String {
        (from..n).map(|i| format!(", CAST(NULL AS BIGINT) AS t{i}")).collect()
    };
    let deeper: Vec<String> = (1..n)
        .map(|k| {
            format!(
                "SELECT person, {d} AS depth, t{k} AS t_end, {ts}{nulls}, bd FROM chain{k}",
                d = k + 1,
                ts = t_list(k + 1, ""),
                nulls = nulls(k + 1),
            )
        })
        .collect();
    let fields: Vec<String> = std::iter::once("'depth': depth".to_owned())
        .chain((0..n).map(|i| format!("'t{i}': t{i}")))
        .chain(["'bd': bd".to_owned()])
        .collect();
    format!(
        ",\nbest AS (\n  SELECT person, c.depth AS depth, {best_times}, c.bd AS bd FROM (\n    SELECT person, arg_max({{{fields}}}, {{'depth': depth, 'end': -t_end, 'start': t0}}) AS c\n    FROM (\n      {deeper}\n    ) GROUP BY person\n  )\n),\n{first_steps},\ndeepest AS (\n  SELECT *, {bucket} AS bucket FROM (\n    SELECT first_steps.person, coalesce(best.depth, 1) AS depth, {times}, CASE WHEN best.person IS NULL THEN first_steps.bd ELSE best.bd END AS bd, make_timestamp(CASE WHEN best.person IS NULL THEN first_steps.t0 ELSE best.t0 END) AS timestamp\n    FROM first_steps LEFT JOIN best ON best.person = first_steps.person\n  )\n)",
        best_times = (0..n).map(|i| format!("c.t{i} AS t{i}")).collect::<Vec<_>>().join(", "),
        fields = fields.join(", "),
        deeper = deeper.join("\n      UNION ALL\n      "),
        times = std::iter::once(
            "CASE WHEN best.person IS NULL THEN first_steps.t0 ELSE best.t0 END AS t0".to_owned()
        )
        .chain((1..n).map(|i| format!("best.t{i}")))
        .collect::<Vec<_>>()
        .join(", "),
    )
}
