//! Time zones: calendar units (days, weeks, months) in the query's zone, computed in Rust from
//! the tz database so every dialect buckets identically, even without time-zone support in the
//! engine. SQL gets local time as `timestamp + <offset>`, with the offset piecewise constant
//! between the zone's transitions inside the scanned range.

use crate::QueryError;
use crate::results::LocalTime;
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The IANA zone `name`, or UTC.
    pub fn parse(name: Option<&str>) -> Result<Zone, QueryError> {
        match name {
            None => Ok(Zone::UTC),
            Some(name) => name.parse::<Tz>().map(Zone).map_err(|_| {
                QueryError::invalid(format!(
                    "unknown time zone `{name}`; use an IANA name such as `Europe/Berlin`"
                ))
            }),
        }
    }

    pub fn local(self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.0).naive_local()
    }

    /// The instant a local time names. In a gap (clocks jumped forward) the first instant
    /// after it; when ambiguous (clocks went back) the earlier one.
    pub fn instant(self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..=180 {
            match self.0.from_local_datetime(&probe) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => probe += Duration::minutes(1),
            }
        }
        local.and_utc()
    }

    pub fn local_time(self, t: DateTime<Utc>) -> LocalTime {
        LocalTime(t.with_timezone(&self.0).fixed_offset())
    }

    /// The local time `local` as reported: its instant, with the offset there.
    pub fn label(self, local: NaiveDateTime) -> LocalTime {
        self.local_time(self.instant(local))
    }

    fn offset_seconds(self, t: DateTime<Utc>) -> i64 {
        i64::from(self.0.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc())
    }

    /// The UTC offset over `[from, to)`: the first offset, then each change as
    /// `(instant, new offset)`. Offsets change at most a few times a year; they are found day
    /// by day, then to the second by bisection.
    pub fn offsets(
        self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> (i64, Vec<(DateTime<Utc>, i64)>) {
        let first = self.offset_seconds(from);
        let mut changes = Vec::new();
        if self.0 == Tz::UTC {
            return (first, changes);
        }
        let (mut at, mut current) = (from, first);
        while at < to {
            let next = (at + Duration::days(1)).min(to);
            let offset = self.offset_seconds(next);
            if offset != current {
                // Transitions fall on whole seconds: bisect over seconds.
                let (mut low, mut high) = (at.timestamp(), next.timestamp());
                let offset_at =
                    |s: i64| DateTime::from_timestamp(s, 0).map(|t| self.offset_seconds(t));
                while high - low > 1 {
                    let mid = low + (high - low) / 2;
                    if offset_at(mid) == Some(current) { low = mid } else { high = mid }
                }
                let high = DateTime::from_timestamp(high, 0).unwrap_or(next);
                changes.push((high, offset));
                current = offset;
            }
            at = next;
        }
        (first, changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sextant_core::parse_timestamp;

    fn t(s: &str) -> DateTime<Utc> {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn finds_dst_changes_to_the_second() {
        let berlin = Zone::parse(Some("Europe/Berlin")).unwrap();
        let (first, changes) = berlin.offsets(t("2026-10-01T00:00:00Z"), t("2026-11-01T00:00:00Z"));
        assert_eq!(first, 7200);
        assert_eq!(changes, vec![(t("2026-10-25T01:00:00Z"), 3600)]);
        assert_eq!(Zone::UTC.offsets(t("2026-10-01"), t("2026-11-01")), (0, vec![]));
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let berlin = Zone::parse(Some("Europe/Berlin")).unwrap();
        let gap =
            NaiveDateTime::parse_from_str("2026-03-29 02:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(berlin.instant(gap), t("2026-03-29T01:00:00Z"));
        let fold =
            NaiveDateTime::parse_from_str("2026-10-25 02:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(berlin.instant(fold), t("2026-10-25T00:30:00Z"));
        let label = serde_json::to_string(&berlin.local_time(t("2026-10-26T23:00:00Z"))).unwrap();
        assert_eq!(label, "\"2026-10-27T00:00:00+01:00\"");
        assert!(Zone::parse(Some("Mars/Olympus")).unwrap_err().to_string().contains("IANA"));
    }
}
