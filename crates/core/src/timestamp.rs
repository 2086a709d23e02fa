//! Timestamps: everything is UTC with microsecond precision, whatever the input looked like.

use chrono::{DateTime, NaiveDate, SubsecRound, TimeZone, Utc};

/// Drops sub-microsecond precision, the resolution every backend stores.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Microseconds since the Unix epoch back to a timestamp; `None` when out of range.
pub fn micros_to_datetime(micros: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_micros(micros).single()
}

/// Parses an RFC 3339 timestamp (any offset), or a bare `YYYY-MM-DD` date meaning its UTC
/// midnight. Returns `None` for anything else.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(truncate_to_micros(t.with_timezone(&Utc)));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_and_dates_to_utc_micros() {
        let t = parse_timestamp("2026-11-22T10:00:00.1234567+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T08:00:00.123456+00:00");
        let d = parse_timestamp("2026-11-22").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-11-22T00:00:00+00:00");
        assert!(parse_timestamp("22/11/2026").is_none());
        assert!(parse_timestamp("").is_none());
    }
}
