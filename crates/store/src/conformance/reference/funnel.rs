//! Funnels: each person's deepest step and the attempt that reached it, by brute force over
//! every choice of step events.

use super::filters::{all_match, breakdown_value, event_matches, matcher_matches};
use super::{
    Data, Group, Row, Selection, bucket_of, buckets, mean, percent, quantile, resolve, seconds,
};
use serde_json::Value;
use sextant_query::{
    ConversionTrend, FunnelGroup, FunnelOrder, FunnelPersonsQuery, FunnelPersonsResult,
    FunnelQuery, FunnelResult, FunnelStep, HistogramBin, Num, PersonStatus, PlanOptions,
};
use std::cmp::Ordering;

/// One person's result: how deep they got, and their attempt.
#[derive(Debug)]
struct Outcome<'r, 'a> {
    person: String,
    depth: usize,
    /// Times (µs) of the attempt's events `e0..=e_depth`; only the anchor's when unordered.
    times: Vec<i64>,
    /// `e0`, or the anchor of an unordered funnel.
    first: &'r Row<'a>,
    /// The breakdown value of `first` (`null` without a breakdown).
    value: Value,
}

/// `30m`, `12h`, `14d`, `2w` in seconds.
fn window_seconds(text: &str) -> i64 {
    let text = text.trim();
    let (amount, unit) = text.split_at(text.len() - 1);
    let amount: i64 = amount.parse().unwrap();
    amount
        * match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            other => panic!("unknown window unit `{other}`"),
        }
}

/// Every person with a step-0 event (any step when unordered), in person-id order.
fn outcomes<'r, 'a>(
    q: &FunnelQuery,
    data: &'r Data<'a>,
    opts: &PlanOptions,
) -> Vec<Outcome<'r, 'a>> {
    let (_, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let window = window_seconds(&q.window) * 1_000_000;
    let mut out = Vec::new();
    for (person, rows) in data.by_person(|r| r.in_range(&range) && all_match(r.event, &q.filters)) {
        let found = match q.order {
            FunnelOrder::Unordered => unordered(q, &rows, window),
            _ => {
                let mut search = Search::new(q, &rows, window);
                search.run();
                search.deepest()
            }
        };
        if let Some((depth, chain)) = found {
            let first = rows[chain[0]];
            let value = q.breakdown.as_ref().map_or(Value::Null, |b| {
                assert!(b.and.is_none(), "funnels break down by one property");
                breakdown_value(first.event, &b.property)
            });
            let times = chain.iter().map(|&i| rows[i].micros).collect();
            out.push(Outcome { person: person.to_owned(), depth, times, first, value });
        }
    }
    out
}

/// Unordered: for every anchor event (matching some step), the number of different steps with
/// a matching event in `[t, t + window]`; the earliest anchor reaching the most is the attempt.
fn unordered(q: &FunnelQuery, rows: &[&Row], window: i64) -> Option<(usize, Vec<usize>)> {
    let matches = |k: usize, r: &Row| matcher_matches(r.event, &q.steps[k]);
    let n = q.steps.len();
    let mut best: Option<(usize, Vec<usize>)> = None;
    for (i, anchor) in rows.iter().enumerate() {
        if !(0..n).any(|k| matches(k, anchor)) {
            continue;
        }
        let t = anchor.micros;
        let covered = (0..n)
            .filter(|&k| {
                rows.iter().any(|r| matches(k, r) && t <= r.micros && r.micros <= t + window)
            })
            .count();
        if best.as_ref().is_none_or(|(depth, _)| covered - 1 > *depth) {
            best = Some((covered - 1, vec![i]));
        }
    }
    best
}

/// Ordered and strict funnels: every valid attempt, depth-first.
struct Search<'s, 'r, 'a> {
    q: &'s FunnelQuery,
    rows: &'s [&'r Row<'a>],
    window: i64,
    /// `steps[k][i]`: whether event `i` matches step `k`.
    steps: Vec<Vec<bool>>,
    /// `exclusions[x][i]`: whether event `i` matches exclusion `x`.
    exclusions: Vec<Vec<bool>>,
    /// The preferred attempt of each depth so far.
    best: Vec<Option<Vec<usize>>>,
}

impl<'s, 'r, 'a> Search<'s, 'r, 'a> {
    fn new(q: &'s FunnelQuery, rows: &'s [&'r Row<'a>], window: i64) -> Self {
        let steps = q
            .steps
            .iter()
            .map(|m| rows.iter().map(|r| matcher_matches(r.event, m)).collect())
            .collect();
        let exclusions = q
            .exclusions
            .iter()
            .map(|x| {
                rows.iter()
                    .map(|r| event_matches(r.event, x.event.as_deref(), &x.filters))
                    .collect()
            })
            .collect();
        Search { q, rows, window, steps, exclusions, best: vec![None; q.steps.len()] }
    }

    fn run(&mut self) {
        for i in 0..self.rows.len() {
            if self.steps[0][i] {
                self.extend(&mut vec![i]);
            }
        }
    }

    /// Steps `k` and `k + 1` can match the same event type: the later must be strictly later.
    fn same_type(&self, k: usize) -> bool {
        match (&self.q.steps[k].event, &self.q.steps[k + 1].event) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }

    fn extend(&mut self, chain: &mut Vec<usize>) {
        self.offer(chain);
        let depth = chain.len() - 1;
        if depth + 1 == self.q.steps.len() {
            return;
        }
        let last = chain[depth];
        let (t0, t_last) = (self.rows[chain[0]].micros, self.rows[last].micros);
        for j in 0..self.rows.len() {
            let t = self.rows[j].micros;
            let ordered = t > t_last || (t == t_last && !self.same_type(depth));
            let strict_ok = self.q.order != FunnelOrder::Strict || j == last + 1;
            if !self.steps[depth + 1][j]
                || chain.contains(&j)
                || !ordered
                || t - t0 > self.window
                || !strict_ok
            {
                continue;
            }
            chain.push(j);
            if !self.void(chain) {
                self.extend(chain);
            }
            chain.pop();
        }
    }

    /// Whether an exclusion event happens strictly between the attempt's `from_step` and
    /// `to_step` events (`to_step` capped at the attempt's depth).
    fn void(&self, chain: &[usize]) -> bool {
        let depth = chain.len() - 1;
        self.q.exclusions.iter().enumerate().any(|(x, exclusion)| {
            let to = exclusion.to_step.min(depth);
            if exclusion.from_step >= to {
                return false;
            }
            let (a, b) =
                (self.rows[chain[exclusion.from_step]].micros, self.rows[chain[to]].micros);
            (0..self.rows.len()).any(|i| {
                self.exclusions[x][i] && a < self.rows[i].micros && self.rows[i].micros < b
            })
        })
    }

    /// Among attempts of one depth: the one ending earliest, then starting latest, then with
    /// the latest intermediate events. Ties (same times) go to the end event first in
    /// (time, insert_id) order, then the start event last in it.
    fn preference(&self, a: &[usize], b: &[usize]) -> Ordering {
        let time = |chain: &[usize], k: usize| self.rows[chain[k]].micros;
        let last = a.len() - 1;
        time(a, last)
            .cmp(&time(b, last))
            .then_with(|| time(b, 0).cmp(&time(a, 0)))
            .then_with(|| {
                let middle = |c: &[usize]| -> Vec<i64> {
                    c[1..last.max(1)].iter().map(|&i| self.rows[i].micros).collect()
                };
                middle(b).cmp(&middle(a))
            })
            .then_with(|| a[last].cmp(&b[last]))
            .then_with(|| b[0].cmp(&a[0]))
    }

    fn offer(&mut self, chain: &[usize]) {
        let depth = chain.len() - 1;
        let better = match &self.best[depth] {
            None => true,
            Some(current) => self.preference(chain, current) == Ordering::Less,
        };
        if better {
            self.best[depth] = Some(chain.to_vec());
        }
    }

    fn deepest(&self) -> Option<(usize, Vec<usize>)> {
        (0..self.best.len())
            .rev()
            .find_map(|d| self.best[d].as_ref().map(|chain| (d, chain.clone())))
    }
}

/// Outcomes with their breakdown group; people in dropped groups are left out.
fn grouped<'o, 'r, 'a>(
    q: &FunnelQuery,
    outcomes: &'o [Outcome<'r, 'a>],
) -> Vec<(Group, &'o Outcome<'r, 'a>)> {
    let selection =
        q.breakdown.as_ref().map(|b| Selection::new(outcomes.iter().map(|o| &o.value), b));
    outcomes
        .iter()
        .filter_map(|o| match &selection {
            None => Some((Group::Value(Value::Null), o)),
            Some(s) => s.group(&o.value).map(|g| (g, o)),
        })
        .collect()
}

pub(super) fn answer(q: &FunnelQuery, data: &Data, opts: &PlanOptions) -> FunnelResult {
    let (zone, range) = resolve(&q.date_range, q.timezone.as_deref(), opts);
    let all = outcomes(q, data, opts);
    let people = grouped(q, &all);
    let n = q.steps.len();
    let timed = q.order != FunnelOrder::Unordered;

    let mut groups: Vec<Group> = Vec::new();
    if q.breakdown.is_none() {
        groups.push(Group::Value(Value::Null));
    }
    for (g, _) in &people {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    let mut reported: Vec<(Group, Vec<FunnelStep>)> = groups
        .into_iter()
        .map(|g| {
            let members: Vec<&Outcome> =
                people.iter().filter(|(pg, _)| *pg == g).map(|(_, o)| *o).collect();
            let count = |k: usize| members.iter().filter(|o| o.depth >= k).count() as u64;
            let first = count(0);
            let steps = (0..n)
                .map(|k| {
                    let times: Vec<f64> = if timed && k > 0 {
                        members
                            .iter()
                            .filter(|o| o.depth >= k)
                            .map(|o| seconds(o.times[k - 1], o.times[k]))
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let previous = if k == 0 { first } else { count(k - 1) };
                    FunnelStep {
                        step: k,
                        label: q.steps[k].display(),
                        count: count(k),
                        conversion_from_previous: percent(count(k), previous),
                        conversion_overall: percent(count(k), first),
                        avg_seconds_from_previous: mean(&times).map(Num),
                        median_seconds_from_previous: quantile(&times, 0.5).map(Num),
                    }
                })
                .collect();
            (g, steps)
        })
        .collect();
    reported.sort_by(|(ga, a), (gb, b)| {
        (*ga == Group::Other)
            .cmp(&(*gb == Group::Other))
            .then_with(|| b[0].count.cmp(&a[0].count))
            .then_with(|| ga.order(gb))
    });

    let converted: Vec<f64> = people
        .iter()
        .filter(|(_, o)| timed && o.depth == n - 1)
        .map(|(_, o)| seconds(o.times[0], o.times[n - 1]))
        .collect();
    let time_to_convert = histogram(&converted, q.histogram_bins);

    let trend_buckets = buckets(q.interval, range, zone, opts);
    let mut entered = vec![0u64; trend_buckets.len()];
    let mut completed = vec![0u64; trend_buckets.len()];
    for (_, o) in &people {
        let bucket = bucket_of(q.interval, zone, o.first.time());
        if let Some(i) = trend_buckets.iter().position(|b| *b == bucket) {
            entered[i] += 1;
            completed[i] += u64::from(o.depth == n - 1);
        }
    }
    let rate = entered.iter().zip(&completed).map(|(&e, &c)| percent(c, e)).collect();

    FunnelResult {
        order: q.order,
        window_seconds: window_seconds(&q.window),
        from: zone.local_time(range.from),
        to: zone.local_time(range.to),
        groups: reported
            .into_iter()
            .map(|(g, steps)| FunnelGroup {
                breakdown_value: q.breakdown.is_some().then(|| g.to_json()),
                steps,
            })
            .collect(),
        time_to_convert,
        conversion_trend: ConversionTrend {
            interval: q.interval,
            buckets: trend_buckets.iter().map(|b| zone.label(*b)).collect(),
            entered,
            completed,
            rate,
        },
    }
}

/// `bins` equal bins from the minimum to the maximum (the maximum in the last bin); all in the
/// first bin when every value is the same.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn histogram(values: &[f64], bins: usize) -> Vec<HistogramBin> {
    if values.is_empty() || bins == 0 {
        return Vec::new();
    }
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = (high - low) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in values {
        let i = if width > 0.0 { ((v - low) / width).floor() as usize } else { 0 };
        counts[i.min(bins - 1)] += 1;
    }
    let at = |i: usize| Num(low + width * i as f64);
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| HistogramBin { from_seconds: at(i), to_seconds: Some(at(i + 1)), count })
        .collect()
}

pub(super) fn persons(
    q: &FunnelPersonsQuery,
    data: &Data,
    opts: &PlanOptions,
) -> FunnelPersonsResult {
    let all = outcomes(&q.funnel, data, opts);
    let after = q.cursor.as_deref().map(decode_cursor);
    let mut people: Vec<&str> = grouped(&q.funnel, &all)
        .into_iter()
        .filter(|(g, _)| q.breakdown_value.as_ref().is_none_or(|v| *v == g.to_json()))
        .filter(|(_, o)| match q.status {
            PersonStatus::Converted => o.depth >= q.step,
            PersonStatus::Dropped => q.step >= 1 && o.depth == q.step - 1,
        })
        .map(|(_, o)| o.person.as_str())
        .filter(|p| after.as_deref().is_none_or(|after| *p > after))
        .collect();
    people.sort_unstable();
    let limit = q.limit.unwrap_or(100);
    let more = people.len() > limit;
    people.truncate(limit);
    let next_cursor = match people.last() {
        Some(last) if more => Some(encode_cursor(last)),
        _ => None,
    };
    FunnelPersonsResult { persons: people.into_iter().map(str::to_owned).collect(), next_cursor }
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Cursors are the last person id, base64url without padding.
fn encode_cursor(person: &str) -> String {
    let mut out = String::new();
    for chunk in person.as_bytes().chunks(3) {
        let bits =
            chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[(bits >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn decode_cursor(cursor: &str) -> String {
    let mut bytes = Vec::new();
    for chunk in cursor.as_bytes().chunks(4) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, c)| {
            let v = BASE64URL.iter().position(|x| x == c).expect("a base64url cursor");
            acc | (v as u32) << (18 - 6 * i)
        });
        for i in 0..chunk.len() - 1 {
            bytes.push((bits >> (16 - 8 * i) & 255) as u8);
        }
    }
    String::from_utf8(bytes).unwrap()
}
