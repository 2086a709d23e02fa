//! Deleting a project's events in a time range. Partitions are (month, project), so the
//! months a range covers whole are dropped as partitions — instant, no rewrite — and only the
//! partial months at its ends are deleted row by row with a mutation (18.16 has no
//! synchronous mutations, so we wait for ours to finish). The rollups, partitioned the same
//! way, lose the same partitions; in partial months, the hours the range touches are deleted
//! and recomputed from the events left.

use crate::http::{Client, Mode};
use crate::literal::{literal, quote};
use crate::rollups::ROLLUPS;
use chrono::{DateTime, Datelike, DurationRound, NaiveDate, TimeDelta, TimeZone, Utc};
use sextant_core::ProjectId;
use sextant_query::{Param, TimeRange};
use sextant_store::StoreError;
use std::time::Duration;

/// How long to wait for a row-deleting mutation before reporting failure.
const MUTATION_WAIT: Duration = Duration::from_secs(600);

pub(crate) async fn delete_range(
    client: &Client,
    project: &ProjectId,
    range: TimeRange,
) -> Result<u64, StoreError> {
    let p = quote(project.as_str());
    let (from, to) = (literal(&Param::Timestamp(range.from)), literal(&Param::Timestamp(range.to)));
    let counted = client
        .all_rows(
            &format!(
                "SELECT toYYYYMM(day) AS month, count() FROM events_local WHERE project_id = {p} AND timestamp >= {from} AND timestamp < {to} GROUP BY month"
            ),
            Mode::Internal,
        )
        .await?;
    let mut deleted = 0u64;
    let mut partial = Vec::new();
    for row in counted {
        let (Some(month), Some(n)) = (row.first().and_then(|c| c.as_i64()), row.get(1)) else {
            continue;
        };
        deleted += n.as_count();
        if covers_month(range, month) {
            for table in tables() {
                client
                    .execute(&format!("ALTER TABLE {table} DROP PARTITION ({month}, {p})"))
                    .await?;
            }
        } else {
            partial.push(month.to_string());
        }
    }
    if !partial.is_empty() {
        client
            .execute(&format!(
                "ALTER TABLE events_local DELETE WHERE project_id = {p} AND toYYYYMM(day) IN ({}) AND timestamp >= {from} AND timestamp < {to}",
                partial.join(", ")
            ))
            .await?;
        wait_for_mutations(client).await?;
        refill_hours(client, &p, range).await?;
    }
    Ok(deleted)
}

/// `events_local` and every rollup's local table.
fn tables() -> impl Iterator<Item = String> {
    std::iter::once("events_local".to_owned())
        .chain(ROLLUPS.iter().map(|r| format!("{}_local", r.name)))
}

/// Recomputes the rollups' hours that `range` touches from the events left in them.
async fn refill_hours(client: &Client, project: &str, range: TimeRange) -> Result<(), StoreError> {
    let hour = TimeDelta::hours(1);
    let first = range.from.duration_trunc(hour).unwrap_or(range.from);
    let end = range.to.duration_trunc(hour).unwrap_or(range.to);
    let end = if end < range.to { end + hour } else { end };
    let (from, to) = (literal(&Param::Timestamp(first)), literal(&Param::Timestamp(end)));
    for rollup in &ROLLUPS {
        client
            .execute(&format!(
                "ALTER TABLE {}_local DELETE WHERE project_id = {project} AND hour >= {from} AND hour < {to}",
                rollup.name
            ))
            .await?;
    }
    wait_for_mutations(client).await?;
    for rollup in &ROLLUPS {
        let events = format!("project_id = {project} AND timestamp >= {from} AND timestamp < {to}");
        client.execute(&rollup.fill(Some(&events))).await?;
    }
    Ok(())
}

/// Whether `range` holds all of month `yyyymm` (as `day`, a UTC date, partitions it).
fn covers_month(range: TimeRange, yyyymm: i64) -> bool {
    let start = |year: i64, month: i64| -> Option<DateTime<Utc>> {
        let date =
            NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, u32::try_from(month).ok()?, 1)?;
        Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
    };
    let (year, month) = (yyyymm / 100, yyyymm % 100);
    let next = if month == 12 { start(year + 1, 1) } else { start(year, month + 1) };
    match (start(year, month), next) {
        // `day` clamps times before 1970 into January 1970: never drop that partition whole.
        (Some(first), Some(next)) => first.year() > 1970 && range.from <= first && next <= range.to,
        _ => false,
    }
}

async fn wait_for_mutations(client: &Client) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    loop {
        let rows = client
            .all_rows(
                "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0",
                Mode::Internal,
            )
            .await?;
        if rows.first().and_then(|r| r.first()).map_or(0, sextant_query::Cell::as_count) == 0 {
            return Ok(());
        }
        if started.elapsed() > MUTATION_WAIT {
            return Err(StoreError::Unavailable(format!(
                "clickhouse did not finish deleting within {MUTATION_WAIT:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        sextant_core::parse_timestamp(text).unwrap()
    }

    #[test]
    fn only_months_inside_the_range_are_dropped_whole() {
        let range = TimeRange { from: at("2026-01-15T00:00:00Z"), to: at("2026-04-01T00:00:00Z") };
        assert!(!covers_month(range, 202601));
        assert!(covers_month(range, 202602));
        assert!(covers_month(range, 202603));
        assert!(!covers_month(range, 202604));
    }
}
