//! `sextant-bench`: measures ingest throughput over HTTP loopback and query latency on demo
//! data, and runs the same queries as hand-written SQL directly in DuckDB on the same file, so
//! the overhead of our layers is a ratio from one run. Writes a Markdown report.

mod ingest;
mod queries;

use anyhow::Context;
use clap::Parser;
use ingest::Wire;
use sextant::runtime::{self, Stores};
use sextant_store::MetaStore;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The same allocator as the `sextant` binary, so figures match what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(about = "Benchmark Sextant: ingest over HTTP and trends latency against raw DuckDB")]
struct Args {
    /// Demo events to query (loaded once; a reused --data-dir skips loading); 0 measures
    /// ingestion only.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Keep data here to reuse it across runs (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Seconds per ingest scenario.
    #[arg(long, default_value_t = 10)]
    ingest_seconds: u64,
    /// Timed runs per query (after two warm-up runs).
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Also write the report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Measure queries only (no ingest scenarios).
    #[arg(long)]
    queries_only: bool,
    /// Measure only the queries whose name contains one of these texts (repeatable).
    #[arg(long)]
    only: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(run(&args))?;
    println!("{report}");
    if let Some(path) = &args.report {
        std::fs::write(path, &report)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

async fn run(args: &Args) -> anyhow::Result<String> {
    let temp = tempfile::tempdir()?;
    let data_dir = args.data_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let settings = sextant_config::load(
        None,
        &sextant_config::Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(data_dir.clone()),
            log_level: None,
        },
    )?;
    let mut report = String::new();
    writeln!(report, "# Sextant benchmark\n")?;
    writeln!(
        report,
        "- machine: {} cores; client and server share them (loopback, same process)",
        std::thread::available_parallelism().map_or(0, usize::from)
    )?;
    writeln!(report, "- demo events: {}; data: {}\n", args.events, data_dir.display())?;

    let stores = Stores::open(&settings).await?;
    let project = match stores.meta.find_project("bench").await? {
        Some(p) if stores.events.project_stats(&p.id).await?.events == args.events => p,
        Some(_) => anyhow::bail!(
            "project `bench` in {} holds a different number of events than --events; use another --data-dir",
            data_dir.display()
        ),
        None => {
            let project = sextant::demo_data::new_demo_project(&stores, "bench").await?;
            let end = sextant_core::parse_timestamp("2026-11-22T00:00:00Z").context("fixed end")?;
            let started = Instant::now();
            let config = sextant_demo::DemoConfig {
                project_id: project.id.clone(),
                events: args.events,
                days: 30,
                end,
                seed: 42,
            };
            sextant::demo_data::load(&stores, config).await?;
            let seconds = started.elapsed().as_secs_f64();
            let rate = args.events as f64 / seconds;
            writeln!(
                report,
                "Demo load: {} events in {seconds:.1} s ({rate:.0} events/s, generation and appends)\n",
                args.events
            )?;
            project
        }
    };
    // Measure a checkpointed store, as a server finds it after a restart (and as the direct
    // DuckDB run below does).
    stores.close().await?;
    let stores = Stores::open(&settings).await?;
    let org = stores.meta.ensure_org("bench").await?;
    let ingest_project = stores
        .meta
        .create_project(&org.id, &format!("ingest-{}", chrono::Utc::now().timestamp_micros()))
        .await?;
    let secret = stores
        .meta
        .create_key(sextant_store::NewKey {
            kind: sextant_store::KeyKind::Secret,
            project_id: Some(project.id.clone()),
            name: "bench".into(),
            role: Some(sextant_core::Role::Analyst),
        })
        .await?;

    let listener = runtime::bind(&settings).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let settings = settings.clone();
        let stores = Stores { meta: stores.meta.clone(), events: stores.events.clone() };
        tokio::spawn(async move {
            runtime::serve(&settings, &stores, listener, async {
                let _ = stopped.await;
            })
            .await
        })
    };

    // `--events 0` measures ingestion only.
    let mut specs = if args.events > 0 { queries::specs(&project.id) } else { Vec::new() };
    if !args.only.is_empty() {
        specs.retain(|s| args.only.iter().any(|only| s.name.contains(only.as_str())));
    }
    // On ClickHouse a failed query (a memory limit, the server killed) is reported and the
    // others still measured; on DuckDB every query must answer.
    let on_duckdb = settings.storage.events == sextant_config::EventsBackend::DuckDb;
    let mut http_medians = Vec::new();
    for spec in &specs {
        let median = queries::over_http(&url, &secret.secret, spec, args.runs).await;
        http_medians.push(match median {
            Err(e) if on_duckdb => return Err(e),
            other => other.map_err(|e| format!("{e:#}")),
        });
    }
    // On ClickHouse, the rollups' gain: the same answers from the store with and without them.
    let mut rollup_medians = Vec::new();
    if !on_duckdb {
        for spec in &specs {
            rollup_medians.push(match rollup_gain(&*stores.events, spec, args.runs).await {
                Ok(Some((with, without))) => format!(
                    "{:.1} ms | {:.1} ms | {:.1}x",
                    with * 1e3,
                    without * 1e3,
                    without / with
                ),
                Ok(None) => "same plan | |".to_owned(),
                Err(e) => format!("failed: {} | |", format!("{e:#}").replace('\n', " ")),
            });
        }
    }
    let duration = Duration::from_secs(args.ingest_seconds);
    if !args.queries_only {
        writeln!(report, "## Ingest over HTTP ({} s each)\n", args.ingest_seconds)?;
        writeln!(
            report,
            "| wire | scenario | clients | events/s | requests/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|"
        )?;
        let scenarios = [
            (Wire::Native, 1000, 4),
            (Wire::NativeVisitors, 1000, 4),
            (Wire::PostHogServer, 1000, 4),
            (Wire::PostHogBrowser, 1000, 4),
            (Wire::Native, 1, 64),
        ];
        for (wire, batch, clients) in scenarios {
            let r =
                ingest::run(&url, &ingest_project.1.secret, wire, batch, clients, duration).await?;
            writeln!(
                report,
                "| {} | batches of {batch} | {clients} | {:.0} | {:.0} | {:.2} | {:.2} |",
                wire.label(),
                r.events_per_second,
                r.requests_per_second,
                r.p50_ms,
                r.p99_ms
            )?;
        }
    }

    let _ = stop.send(());
    server.await??;
    stores.close().await?;

    if specs.is_empty() {
        return Ok(report);
    }
    // With the events in ClickHouse (SEXTANT_STORAGE__EVENTS=clickhouse) there is no DuckDB
    // file to compare with: the API's latency alone.
    if !on_duckdb {
        writeln!(
            report,
            "\n## Query latency on {} demo events in ClickHouse (median of {} runs)\n\n| query | via HTTP API | store, rollups | store, no rollups | gain |\n|---|---|---|---|---|",
            args.events, args.runs
        )?;
        for ((spec, http), rollups) in specs.iter().zip(&http_medians).zip(&rollup_medians) {
            match http {
                Ok(seconds) => {
                    writeln!(report, "| {} | {:.1} ms | {rollups} |", spec.name, seconds * 1e3)?;
                }
                Err(e) => writeln!(
                    report,
                    "| {} | failed: {} | {rollups} |",
                    spec.name,
                    e.replace('\n', " ")
                )?,
            }
        }
        return Ok(report);
    }
    let file = data_dir.join(sextant_store_duckdb::EVENTS_FILE);
    let direct = tokio::task::spawn_blocking({
        let specs = specs.clone();
        let runs = args.runs;
        move || queries::direct(&file, &specs, runs)
    })
    .await??;
    writeln!(
        report,
        "\n## Query latency on {} demo events (median of {} runs)\n",
        args.events, args.runs
    )?;
    writeln!(
        report,
        "| query | via HTTP API | directly in DuckDB | baseline | ratio | planned without rollups (direct) |\n|---|---|---|---|---|---|"
    )?;
    let http_medians: Vec<f64> =
        http_medians.into_iter().collect::<Result<_, _>>().map_err(anyhow::Error::msg)?;
    for ((spec, http), (direct, without)) in specs.iter().zip(&http_medians).zip(&direct) {
        let without = without.map_or_else(
            || "same plan".to_owned(),
            |s| format!("{:.1} ms ({:.2}x the API)", s * 1e3, s / http),
        );
        writeln!(
            report,
            "| {} | {:.1} ms | {:.1} ms | {} | {:.2}x | {without} |",
            spec.name,
            http * 1e3,
            direct * 1e3,
            spec.baseline(),
            http / direct
        )?;
    }
    writeln!(
        report,
        "\nRatios include HTTP, JSON, authentication, planning and result shaping. Hand-written SQL computes the same numbers independently; planned SQL is the server's own statements run on the same file."
    )?;
    Ok(report)
}

/// Median seconds of `spec` from the store with and without rollups, or `None` when rollups
/// do not change its plan.
async fn rollup_gain(
    events: &dyn sextant_store::EventStore,
    spec: &queries::Spec,
    runs: usize,
) -> anyhow::Result<Option<(f64, f64)>> {
    if !queries::rollups_change_plan(spec, events.dialect())? {
        return Ok(None);
    }
    let with = queries::through_store(events, spec, runs, true).await?;
    let without = queries::through_store(events, spec, runs, false).await?;
    Ok(Some((with, without)))
}
