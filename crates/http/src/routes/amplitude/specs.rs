//! Each Amplitude endpoint's request as Sextant query specs, plus what shaping the answer
//! needs to know. Pure; an error is the message of a 400.

use super::params::{Invalid, Params, breakdown, event};
use chrono::{Datelike, NaiveDate};
use sextant_query::{
    CohortType, EventMatcher, FunnelOrder, FunnelQuery, Interval, LifecycleQuery, Math,
    RetentionMode, RetentionQuery, Series, SessionsQuery, TrendsQuery,
};

/// Most funnel steps and retention periods Sextant answers.
const MAX_STEPS: usize = 20;
const MAX_PERIODS: usize = 100;
/// Most session length bins (Sextant's limit, counting the open-ended one past the last).
const MAX_BINS: usize = 100;
/// Amplitude's default conversion window: 30 days.
const DEFAULT_WINDOW_SECONDS: u64 = 2_592_000;
/// Amplitude's default session length bins, in seconds; sessions are at most a day.
const DEFAULT_BINS: [f64; 10] = [0.0, 3.0, 10.0, 30.0, 60.0, 180.0, 600.0, 1800.0, 3600.0, 86400.0];

/// `GET /funnels`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Funnel {
    pub(crate) query: FunnelQuery,
    pub(crate) grouped: bool,
}

pub(crate) const FUNNELS: &[&str] = &["e", "start", "end", "mode", "n", "s", "g", "cs", "limit"];

pub(crate) fn funnel(p: &Params) -> Result<Funnel, Invalid> {
    let steps = p
        .all("e")
        .into_iter()
        .map(|text| {
            let e = event(text, "e", &[])?;
            if !e.group_by.is_empty() {
                return Err("group_by inside funnel events is not supported; use `g`".to_owned());
            }
            Ok(e.matcher)
        })
        .collect::<Result<Vec<EventMatcher>, _>>()?;
    if !(2..=MAX_STEPS).contains(&steps.len()) {
        return Err(format!("a funnel takes 2 to {MAX_STEPS} events `e`, one per step, in order"));
    }
    let order = match p.one("mode")?.unwrap_or("ordered") {
        "ordered" => FunnelOrder::Ordered,
        "unordered" => FunnelOrder::Unordered,
        "sequential" => FunnelOrder::Strict,
        other => {
            return Err(format!("`mode` must be ordered, unordered or sequential, not `{other}`"));
        }
    };
    match p.one("n")? {
        None | Some("active") => {}
        Some("new") => return Err("`n=new` (new users only) is not supported".to_owned()),
        Some(other) => return Err(format!("`n` must be `active` or `new`, not `{other}`")),
    }
    let window = match p.one("cs")? {
        None => DEFAULT_WINDOW_SECONDS,
        Some(text) => text.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
            format!("`cs` (the conversion window) must be a number of seconds, not `{text}`")
        })?,
    };
    let breakdown = breakdown(p.group_by()?, p.limit()?, 1)?;
    let grouped = breakdown.is_some();
    let query = FunnelQuery {
        version: 1,
        steps,
        date_range: p.date_range()?,
        timezone: None,
        filters: p.segment()?,
        window: format!("{window}s"),
        order,
        exclusions: Vec::new(),
        breakdown,
        interval: Interval::Day,
        histogram_bins: 10,
    };
    Ok(Funnel { query, grouped })
}

impl Funnel {
    /// The funnel up to step `last`, without groups: its conversion trend counts, per day of
    /// entry, the people who reached step `last`.
    pub(crate) fn through(&self, last: usize) -> FunnelQuery {
        let mut query = self.query.clone();
        query.steps.truncate(last + 1);
        query.breakdown = None;
        query
    }
}

/// `GET /retention`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Retention {
    pub(crate) query: RetentionQuery,
    pub(crate) grouped: bool,
}

pub(crate) const RETENTION: &[&str] = &["se", "re", "rm", "rb", "start", "end", "i", "s", "g"];

pub(crate) fn retention(p: &Params) -> Result<Retention, Invalid> {
    let start = event(p.required("se")?, "se", &["_new"])?;
    let back = event(p.required("re")?, "re", &[])?;
    if !start.group_by.is_empty() || !back.group_by.is_empty() {
        return Err("group_by inside `se` or `re` is not supported; use `g`".to_owned());
    }
    // `_new`: people in the cohort of their first event ever.
    let cohort = if start.matcher.label.as_deref() == Some("_new") {
        CohortType::FirstTime
    } else {
        CohortType::Recurring
    };
    let period = p.interval(false)?;
    let (from, to) = p.dates()?;
    let mut intervals = (periods(from, to, period) + 1).clamp(2, MAX_PERIODS);
    let (mode, brackets) = match (p.one("rm")?.unwrap_or("n-day"), p.one("rb")?) {
        ("n-day" | "n_day" | "nday", None) => (RetentionMode::NDay, Vec::new()),
        ("rolling" | "unbounded", None) => (RetentionMode::Rolling, Vec::new()),
        ("bracket", Some(text)) => {
            let brackets = brackets(text)?;
            let needed = brackets.iter().map(|[_, hi]| *hi as usize + 1).max().unwrap_or(2);
            if needed > MAX_PERIODS {
                return Err(format!("`rb`: brackets end at most {} periods out", MAX_PERIODS - 1));
            }
            intervals = intervals.max(needed);
            (RetentionMode::Bracket, brackets)
        }
        ("bracket", None) => return Err("`rm=bracket` needs the brackets `rb`".to_owned()),
        ("n-day" | "n_day" | "nday" | "rolling" | "unbounded", Some(_)) => {
            return Err("`rb` only applies to `rm=bracket`".to_owned());
        }
        (other, _) => {
            return Err(format!("`rm` must be n-day, rolling or bracket, not `{other}`"));
        }
    };
    let breakdown = breakdown(p.group_by()?, 100, 1)?;
    let grouped = breakdown.is_some();
    let query = RetentionQuery {
        version: 1,
        date_range: p.date_range()?,
        timezone: None,
        filters: p.segment()?,
        start: EventMatcher { label: None, ..start.matcher },
        return_event: EventMatcher { label: None, ..back.matcher },
        period,
        intervals,
        cohort,
        mode,
        brackets,
        breakdown,
    };
    Ok(Retention { query, grouped })
}

/// Amplitude brackets `[[0, 5], [5, 10]]` (or one, `[1, 8]`): periods from the first number
/// up to, not including, the second. Sextant's brackets are inclusive and start at period 1.
fn brackets(text: &str) -> Result<Vec<[u32; 2]>, Invalid> {
    let pairs: Vec<[u32; 2]> = serde_json::from_str::<Vec<[u32; 2]>>(text)
        .or_else(|_| serde_json::from_str::<[u32; 2]>(text).map(|pair| vec![pair]))
        .map_err(|_| format!("`rb` must be brackets like [[1,2],[2,8]], not `{text}`"))?;
    pairs
        .into_iter()
        .map(|[from, until]| {
            if from == 0 {
                return Err("`rb`: brackets start at period 1 or later (Sextant's first value \
                            is the cohort itself)"
                    .to_owned());
            }
            if until <= from {
                return Err(format!("`rb`: the bracket [{from},{until}] is empty"));
            }
            Ok([from, until - 1])
        })
        .collect()
}

/// How many `period`s (ISO weeks, calendar months) the days `from..=to` touch.
fn periods(from: NaiveDate, to: NaiveDate, period: Interval) -> usize {
    let count = match period {
        Interval::Week => {
            let monday =
                |d: NaiveDate| d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()));
            (monday(to) - monday(from)).num_days() / 7 + 1
        }
        Interval::Month => {
            i64::from(to.year() - from.year()) * 12 + i64::from(to.month())
                - i64::from(from.month())
                + 1
        }
        _ => (to - from).num_days() + 1,
    };
    usize::try_from(count).unwrap_or(MAX_PERIODS)
}

/// `GET /users`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Users {
    /// Distinct people with any event, per interval.
    Active { query: TrendsQuery, grouped: bool },
    /// People whose first event ever falls in the interval.
    New(LifecycleQuery),
}

pub(crate) const USERS: &[&str] = &["m", "start", "end", "i", "s", "g"];

pub(crate) fn users(p: &Params) -> Result<Users, Invalid> {
    let interval = p.interval(false)?;
    let date_range = p.date_range()?;
    let filters = p.segment()?;
    let group_by = p.group_by()?;
    match p.one("m")?.unwrap_or("active") {
        "active" => {
            let breakdown = breakdown(group_by, 100, 1)?;
            let grouped = breakdown.is_some();
            let series = vec![Series {
                event: None,
                math: Math::UniqueUsers,
                property: None,
                filters: Vec::new(),
                label: Some("active users".to_owned()),
            }];
            let query = TrendsQuery {
                version: 1,
                series,
                interval,
                date_range,
                timezone: None,
                filters,
                breakdown,
                compare: None,
                formula: None,
                cumulative: false,
            };
            Ok(Users::Active { query, grouped })
        }
        "new" if !group_by.is_empty() => Err("`g` is not supported with `m=new`".to_owned()),
        "new" => Ok(Users::New(LifecycleQuery {
            version: 1,
            date_range,
            timezone: None,
            filters,
            activity: EventMatcher::default(),
            interval,
        })),
        other => Err(format!("`m` must be `active` or `new`, not `{other}`")),
    }
}

/// `GET /sessions/average`, `/sessions/peruser`, `/sessions/length`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sessions {
    pub(crate) query: SessionsQuery,
    /// Labels of the length bins asked for (`0s-3s`, ...); the query has one more bin, past
    /// the last, which is not reported.
    pub(crate) bins: Vec<String>,
}

pub(crate) const SESSIONS: &[&str] = &["start", "end", "s"];
pub(crate) const SESSION_LENGTH: &[&str] = &[
    "start",
    "end",
    "s",
    "timeHistogramConfigBinTimeUnit",
    "timeHistogramConfigBinMin",
    "timeHistogramConfigBinMax",
    "timeHistogramConfigBinSize",
];

pub(crate) fn sessions(p: &Params) -> Result<Sessions, Invalid> {
    let bounds = bin_bounds(p)?;
    let bins = bounds.windows(2).map(|w| format!("{}s-{}s", w[0], w[1])).collect();
    let query = SessionsQuery {
        version: 1,
        date_range: p.date_range()?,
        timezone: None,
        filters: p.segment()?,
        interval: Interval::Day,
        length_bins: bounds,
        routes: 1,
    };
    Ok(Sessions { query, bins })
}

/// The bounds of the length bins, in seconds: Amplitude's defaults, or `min` to `max` in steps
/// of `size` (default: 10 bins) of the time unit.
fn bin_bounds(p: &Params) -> Result<Vec<f64>, Invalid> {
    let names = ["TimeUnit", "Min", "Max", "Size"].map(|n| format!("timeHistogramConfigBin{n}"));
    let [unit, min, max, size] = [0, 1, 2, 3].map(|i| p.one(&names[i]));
    let (unit, min, max, size) = (unit?, min?, max?, size?);
    let (Some(unit), Some(min), Some(max)) = (unit, min, max) else {
        if unit.is_some() || min.is_some() || max.is_some() || size.is_some() {
            return Err("custom session length bins need timeHistogramConfigBinTimeUnit, \
                        timeHistogramConfigBinMin and timeHistogramConfigBinMax"
                .to_owned());
        }
        return Ok(DEFAULT_BINS.to_vec());
    };
    let scale = match unit {
        "seconds" => 1.0,
        "minutes" => 60.0,
        "hours" => 3600.0,
        other => {
            return Err(format!(
                "`timeHistogramConfigBinTimeUnit` must be hours, minutes or seconds, not `{other}`"
            ));
        }
    };
    let number = |name: &str, text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(|n| n * scale)
            .ok_or_else(|| format!("`{name}` must be a number of {unit}, not `{text}`"))
    };
    let (min, max) = (number(&names[1], min)?, number(&names[2], max)?);
    if max <= min {
        return Err("`timeHistogramConfigBinMax` must be above the minimum".to_owned());
    }
    let size = match size {
        Some(text) => number(&names[3], text)?,
        None => (max - min) / 10.0,
    };
    #[allow(clippy::cast_precision_loss)]
    let most = (MAX_BINS - 1) as f64;
    if size <= 0.0 || (max - min) / size >= most {
        return Err(format!("session length bins: 1 to {} bins of a positive size", MAX_BINS - 1));
    }
    let mut bounds: Vec<f64> = (0..MAX_BINS)
        .map(|k| min + size * f64::from(u32::try_from(k).unwrap_or(u32::MAX)))
        .take_while(|bound| *bound < max - size * 1e-9)
        .collect();
    bounds.push(max);
    Ok(bounds)
}

#[cfg(test)]
#[path = "specs_tests.rs"]
mod tests;
