//! Date ranges and time buckets, computed in Rust so every dialect labels buckets identically
//! and empty buckets still appear (as zeros) in results.

use crate::{DateRange, Interval, QueryError};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Timelike, Utc};
use sextant_core::parse_timestamp;

/// A resolved `[from, to)` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl DateRange {
    /// Resolves relative ends against `now`.
    pub fn resolve(&self, now: DateTime<Utc>) -> Result<TimeRange, QueryError> {
        let from = resolve_end(&self.from, now, false).ok_or_else(|| {
            QueryError::invalid(format!("date_range.from: cannot read `{}`", self.from))
        })?;
        let to = match &self.to {
            None => now,
            Some(to) => resolve_end(to, now, true)
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

fn resolve_end(text: &str, now: DateTime<Utc>, is_end: bool) -> Option<DateTime<Utc>> {
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
    if is_end && let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.succ_opt()?.and_hms_opt(0, 0, 0)?.and_utc());
    }
    parse_timestamp(text)
}

impl Interval {
    /// Start of the bucket containing `t`.
    pub fn truncate(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let day = t.date_naive();
        let start = match self {
            Interval::Minute => day.and_hms_opt(t.hour(), t.minute(), 0),
            Interval::Hour => day.and_hms_opt(t.hour(), 0, 0),
            Interval::Day => day.and_hms_opt(0, 0, 0),
            Interval::Week => {
                let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
                monday.and_hms_opt(0, 0, 0)
            }
            Interval::Month => day.with_day(1).and_then(|d| d.and_hms_opt(0, 0, 0)),
        };
        start.map_or(t, |naive| Utc.from_utc_datetime(&naive))
    }

    fn next(self, bucket: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Interval::Minute => bucket.checked_add_signed(Duration::minutes(1)),
            Interval::Hour => bucket.checked_add_signed(Duration::hours(1)),
            Interval::Day => bucket.checked_add_signed(Duration::days(1)),
            Interval::Week => bucket.checked_add_signed(Duration::weeks(1)),
            Interval::Month => bucket.checked_add_months(Months::new(1)),
        }
    }

    /// Bucket starts covering `range`; fails past `max` buckets.
    pub fn buckets(self, range: TimeRange, max: usize) -> Result<Vec<DateTime<Utc>>, QueryError> {
        let mut buckets = Vec::new();
        let mut bucket = self.truncate(range.from);
        while bucket < range.to {
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
        DateRange { from: from.into(), to: to.map(Into::into) }.resolve(t("2026-11-22T12:34:56Z"))
    }

    #[test]
    fn dates_are_inclusive_and_relative_ends_use_now() {
        let r = range("2026-11-01", Some("2026-11-03")).unwrap();
        assert_eq!((r.from, r.to), (t("2026-11-01T00:00:00Z"), t("2026-11-04T00:00:00Z")));
        let r = range("-7d", None).unwrap();
        assert_eq!((r.from, r.to), (t("2026-11-15T12:34:56Z"), t("2026-11-22T12:34:56Z")));
        let r = range("-90m", Some("now")).unwrap();
        assert_eq!(r.from, t("2026-11-22T11:04:56Z"));
        assert!(range("yesterday", None).unwrap_err().to_string().contains("date_range.from"));
        assert!(range("-7x", None).is_err());
        assert!(range("2026-11-05", Some("2026-11-01")).unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn buckets_cover_partial_ends_and_calendar_months() {
        let r = range("2026-01-30T10:00:00Z", Some("2026-04-01T00:00:00Z")).unwrap();
        let months = Interval::Month.buckets(r, 100).unwrap();
        assert_eq!(months, vec![t("2026-01-01"), t("2026-02-01"), t("2026-03-01")]);
        let r = range("2026-11-18", Some("2026-11-24")).unwrap();
        let weeks = Interval::Week.buckets(r, 100).unwrap();
        assert_eq!(weeks, vec![t("2026-11-16"), t("2026-11-23")], "weeks start on Monday");
        let hours = Interval::Hour.buckets(range("-3h", None).unwrap(), 100).unwrap();
        assert_eq!(hours.len(), 4, "09:34..12:34 touches 09, 10, 11 and 12");
    }

    #[test]
    fn too_many_buckets_is_a_clear_error() {
        let e = Interval::Minute.buckets(range("-7d", None).unwrap(), 5000).unwrap_err();
        assert_eq!(
            e.to_string(),
            "this range has more than 5000 minute buckets; use a coarser interval or a shorter range"
        );
    }
}
