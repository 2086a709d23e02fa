//! Date ranges and time buckets, computed in Rust so every dialect labels buckets identically
//! and empty buckets still appear (as zeros) in results.

use crate::zone::Zone;
use crate::{DateRange, Interval, QueryError};
use chrono::{
    DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
};
use sextant_core::parse_timestamp;

/// A resolved `[from, to)` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TimeRange {
    pub fn duration(&self) -> Duration {
        self.to - self.from
    }
}

impl DateRange {
    /// Resolves relative ends against `now`, and dates and calendar periods in `zone`.
    pub fn resolve(&self, now: DateTime<Utc>, zone: Zone) -> Result<TimeRange, QueryError> {
        let (from, period_end) = match calendar_period(self.from.trim(), now, zone) {
            Some((from, end)) => (from, Some(end)),
            None => (
                resolve_end(&self.from, now, zone, false).ok_or_else(|| {
                    QueryError::invalid(format!(
                        "date_range.from: cannot read `{}`; use a date, an RFC 3339 time, `now`, `-7d`, or a period such as `this_month`",
                        self.from
                    ))
                })?,
                None,
            ),
        };
        let to = match (&self.to, period_end) {
            (None, Some(end)) => end.min(now),
            (None, None) => now,
            (Some(to), _) => resolve_end(to, now, zone, true)
                .ok_or_else(|| QueryError::invalid(format!("date_range.to: cannot read `{to}`")))?,
        };
        if from >= to {
            return Err(QueryError::invalid(format!(
                "date_range is empty: from {} is not before to {}",
                from.to_rfc3339(),
                to.to_rfc3339()
            )));
        }
        Ok(TimeRange { from, to })
    }
}

/// `[start, end)` of a named calendar period containing (or just before) `now`.
fn calendar_period(
    name: &str,
    now: DateTime<Utc>,
    zone: Zone,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (unit, back) = match name {
        "today" => (Interval::Day, 0),
        "yesterday" => (Interval::Day, 1),
        "this_week" => (Interval::Week, 0),
        "last_week" => (Interval::Week, 1),
        "this_month" => (Interval::Month, 0),
        "last_month" => (Interval::Month, 1),
        "this_year" => (Interval::Year, 0),
        "last_year" => (Interval::Year, 1),
        _ => return None,
    };
    let mut start = unit.truncate(zone.local(now));
    for _ in 0..back {
        start = unit.previous(start)?;
    }
    Some((zone.instant(start), zone.instant(unit.next(start)?)))
}

fn resolve_end(text: &str, now: DateTime<Utc>, zone: Zone, is_end: bool) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text == "now" {
        return Some(now);
    }
    if let Some(relative) = text.strip_prefix('-') {
        let (amount, unit) = relative.split_at(relative.len().checked_sub(1)?);
        let amount: i64 = amount.parse().ok()?;
        let span = match unit {
            "m" => Duration::try_minutes(amount)?,
            "h" => Duration::try_hours(amount)?,
            "d" => Duration::try_days(amount)?,
            "w" => Duration::try_weeks(amount)?,
            _ => return None,
        };
        return now.checked_sub_signed(span);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if is_end { date.succ_opt()? } else { date };
        return Some(zone.instant(day.and_time(NaiveTime::MIN)));
    }
    parse_timestamp(text)
}

/// `30m`, `12h`, `14d`, `2w` as a duration.
pub(crate) fn parse_span(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (amount, unit) = text.split_at(text.len().checked_sub(1)?);
    let amount: i64 = amount.parse().ok().filter(|a| *a > 0)?;
    match unit {
        "s" => Duration::try_seconds(amount),
        "m" => Duration::try_minutes(amount),
        "h" => Duration::try_hours(amount),
        "d" => Duration::try_days(amount),
        "w" => Duration::try_weeks(amount),
        _ => None,
    }
}

/// Position of each bucket by its start (local time as µs), to place result rows.
pub(crate) fn bucket_index(buckets: &[NaiveDateTime]) -> std::collections::HashMap<i64, usize> {
    buckets.iter().enumerate().map(|(i, b)| (b.and_utc().timestamp_micros(), i)).collect()
}

impl Interval {
    /// Start of the bucket containing the local time `t`.
    pub fn truncate(self, t: NaiveDateTime) -> NaiveDateTime {
        let day = t.date();
        let start = match self {
            Interval::Minute => day.and_hms_opt(t.hour(), t.minute(), 0),
            Interval::Hour => day.and_hms_opt(t.hour(), 0, 0),
            Interval::Day => day.and_hms_opt(0, 0, 0),
            Interval::Week => {
                let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                monday.and_hms_opt(0, 0, 0)
            }
            Interval::Month => day.with_day(1).and_then(|d| d.and_hms_opt(0, 0, 0)),
            Interval::Year => day.with_ordinal(1).and_then(|d| d.and_hms_opt(0, 0, 0)),
        };
        start.unwrap_or(t)
    }

    /// The next bucket's start, in local time.
    pub fn next(self, bucket: NaiveDateTime) -> Option<NaiveDateTime> {
        self.add(bucket, 1)
    }

    fn previous(self, bucket: NaiveDateTime) -> Option<NaiveDateTime> {
        self.add(bucket, -1)
    }

    /// `bucket` moved by `n` units (local calendar arithmetic).
    pub fn add(self, bucket: NaiveDateTime, n: i64) -> Option<NaiveDateTime> {
        let months = |m: i64| {
            let shift = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
            if m >= 0 { bucket.checked_add_months(shift) } else { bucket.checked_sub_months(shift) }
        };
        match self {
            Interval::Minute => bucket.checked_add_signed(Duration::try_minutes(n)?),
            Interval::Hour => bucket.checked_add_signed(Duration::try_hours(n)?),
            Interval::Day => bucket.checked_add_signed(Duration::try_days(n)?),
            Interval::Week => bucket.checked_add_signed(Duration::try_weeks(n)?),
            Interval::Month => months(n),
            Interval::Year => months(n.checked_mul(12)?),
        }
    }

    /// Whole units from bucket `a` to bucket `b` (both bucket starts).
    pub fn between(self, a: NaiveDateTime, b: NaiveDateTime) -> i64 {
        match self {
            Interval::Minute => (b - a).num_minutes(),
            Interval::Hour => (b - a).num_hours(),
            Interval::Day => (b.date() - a.date()).num_days(),
            Interval::Week => (b.date() - a.date()).num_days().div_euclid(7),
            Interval::Month => {
                i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month())
            }
            Interval::Year => i64::from(b.year() - a.year()),
        }
    }

    /// Local bucket starts covering `range` in `zone`; fails past `max` buckets.
    pub fn buckets(
        self,
        range: TimeRange,
        zone: Zone,
        max: usize,
    ) -> Result<Vec<NaiveDateTime>, QueryError> {
        let mut buckets = Vec::new();
        let mut bucket = self.truncate(zone.local(range.from));
        while zone.instant(bucket) < range.to {
            if buckets.len() == max {
                return Err(QueryError::invalid(format!(
                    "this range has more than {max} {} buckets; use a coarser interval or a shorter range",
                    self.name()
                )));
            }
            buckets.push(bucket);
            bucket = match self.next(bucket) {
                Some(next) => next,
                None => break,
            };
        }
        Ok(buckets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_timestamp(s).unwrap()
    }

    fn range(from: &str, to: Option<&str>) -> Result<TimeRange, QueryError> {
        DateRange { from: from.into(), to: to.map(Into::into) }
            .resolve(t("2026-11-22T12:34:56Z"), Zone::UTC)
    }

    fn utc(buckets: Vec<NaiveDateTime>) -> Vec<DateTime<Utc>> {
        buckets.into_iter().map(|b| b.and_utc()).collect()
    }

    #[test]
    fn dates_are_inclusive_and_relative_ends_use_now() {
        let r = range("2026-11-01", Some("2026-11-03")).unwrap();
        assert_eq!((r.from, r.to), (t("2026-11-01T00:00:00Z"), t("2026-11-04T00:00:00Z")));
        let r = range("-7d", None).unwrap();
        assert_eq!((r.from, r.to), (t("2026-11-15T12:34:56Z"), t("2026-11-22T12:34:56Z")));
        let r = range("-90m", Some("now")).unwrap();
        assert_eq!(r.from, t("2026-11-22T11:04:56Z"));
        assert!(range("someday", None).unwrap_err().to_string().contains("date_range.from"));
        assert!(range("-7x", None).is_err());
        assert!(range("2026-11-05", Some("2026-11-01")).unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn buckets_cover_partial_ends_and_calendar_months() {
        let r = range("2026-01-30T10:00:00Z", Some("2026-04-01T00:00:00Z")).unwrap();
        let months = utc(Interval::Month.buckets(r, Zone::UTC, 100).unwrap());
        assert_eq!(months, vec![t("2026-01-01"), t("2026-02-01"), t("2026-03-01")]);
        let r = range("2026-11-18", Some("2026-11-24")).unwrap();
        let weeks = utc(Interval::Week.buckets(r, Zone::UTC, 100).unwrap());
        assert_eq!(weeks, vec![t("2026-11-16"), t("2026-11-23")], "weeks start on Monday");
        let hours = Interval::Hour.buckets(range("-3h", None).unwrap(), Zone::UTC, 100).unwrap();
        assert_eq!(hours.len(), 4, "09:34..12:34 touches 09, 10, 11 and 12");
    }

    #[test]
    fn too_many_buckets_is_a_clear_error() {
        let e = Interval::Minute.buckets(range("-7d", None).unwrap(), Zone::UTC, 5000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "this range has more than 5000 minute buckets; use a coarser interval or a shorter range"
        );
    }

    #[test]
    fn calendar_periods_in_a_zone() {
        let now = t("2026-11-22T12:34:56Z");
        let resolve = |from: &str, zone: &str| {
            DateRange { from: from.into(), to: None }
                .resolve(now, Zone::parse(Some(zone)).unwrap())
                .unwrap()
        };
        let r = resolve("last_month", "UTC");
        assert_eq!((r.from, r.to), (t("2026-10-01T00:00:00Z"), t("2026-11-01T00:00:00Z")));
        let r = resolve("this_month", "Europe/Berlin");
        assert_eq!((r.from, r.to), (t("2026-10-31T23:00:00Z"), now));
        let r = resolve("yesterday", "America/New_York");
        assert_eq!((r.from, r.to), (t("2026-11-21T05:00:00Z"), t("2026-11-22T05:00:00Z")));
        let r = resolve("last_week", "UTC");
        assert_eq!((r.from, r.to), (t("2026-11-09T00:00:00Z"), t("2026-11-16T00:00:00Z")));
    }

    #[test]
    fn days_across_a_dst_change_are_calendar_days() {
        let berlin = Zone::parse(Some("Europe/Berlin")).unwrap();
        let r = DateRange { from: "2026-10-24".into(), to: Some("2026-10-26".into()) }
            .resolve(t("2026-11-22T00:00:00Z"), berlin)
            .unwrap();
        assert_eq!((r.from, r.to), (t("2026-10-23T22:00:00Z"), t("2026-10-26T23:00:00Z")));
        let days: Vec<_> = Interval::Day
            .buckets(r, berlin, 10)
            .unwrap()
            .into_iter()
            .map(|d| berlin.instant(d))
            .collect();
        assert_eq!(
            days,
            vec![t("2026-10-23T22:00:00Z"), t("2026-10-24T22:00:00Z"), t("2026-10-25T23:00:00Z")]
        );
    }

    #[test]
    fn spans_and_unit_distances() {
        assert_eq!(parse_span("14d"), Some(Duration::days(14)));
        assert_eq!(parse_span("0d"), None);
        assert_eq!(parse_span("3x"), None);
        let day =
            |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap().and_time(NaiveTime::MIN);
        assert_eq!(Interval::Month.between(day("2025-11-01"), day("2026-02-01")), 3);
        assert_eq!(Interval::Week.between(day("2026-11-02"), day("2026-11-16")), 2);
    }
}
