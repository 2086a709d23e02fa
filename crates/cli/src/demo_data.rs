//! Loading the synthetic workload into the stores: shared by `sextant demo`, `serve --demo`
//! and the benchmark.

use crate::runtime::Stores;
use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sextant_demo::{Demo, DemoConfig};
use sextant_store::{MetaStore, Project};
use std::time::Instant;

/// Events per append while loading; large batches keep DuckDB's appender efficient.
const LOAD_BATCH: usize = 100_000;

/// The start of the current hour: deterministic within the hour, and recent enough that
/// "last 7 days" queries see data.
pub fn default_end() -> DateTime<Utc> {
    let now = Utc::now();
    now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now)
}

/// Creates `name` in the default organization; refuses a project that already has events so
/// demo data never mixes with real data.
pub async fn new_demo_project(stores: &Stores, name: &str) -> anyhow::Result<Project> {
    if let Some(existing) = stores.meta.find_project(name).await? {
        let stats = stores.events.project_stats(&existing.id).await?;
        anyhow::ensure!(
            stats.events == 0,
            "project `{name}` already has {} events; pick another with --project",
            stats.events
        );
        return Ok(existing);
    }
    let org = stores.meta.ensure_org(sextant_http::DEFAULT_ORG).await?;
    Ok(stores.meta.create_project(&org.id, name).await?.0)
}

/// Generates on a blocking thread while the previous day is being appended.
pub async fn load(stores: &Stores, config: DemoConfig) -> anyhow::Result<()> {
    let total = config.events;
    let progress = ProgressBar::new(total).with_message("generating demo events");
    progress.set_style(
        ProgressStyle::with_template(
            "{msg} {wide_bar} {human_pos}/{human_len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let generator = tokio::task::spawn_blocking(move || {
        let mut demo = Demo::new(config);
        while let Some(day) = demo.next_day() {
            if tx.blocking_send(day).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    while let Some(mut day) = rx.recv().await {
        while !day.is_empty() {
            let rest = day.split_off(day.len().min(LOAD_BATCH));
            let n = day.len() as u64;
            stores.events.append(day).await.context("cannot store demo events")?;
            progress.inc(n);
            day = rest;
        }
    }
    generator.await.context("the demo generator failed")?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rate = total as f64 / seconds.max(1e-9);
    tracing::info!(events = total, seconds, events_per_second = rate.round(), "demo data loaded");
    Ok(())
}
