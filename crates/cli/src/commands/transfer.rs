//! `sextant import` / `sextant export`: NDJSON in and out, with progress bars. An export
//! imports back unchanged.

use crate::cli::{ExportArgs, ImportArgs};
use crate::commands::find_project;
use crate::runtime::Stores;
use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use sextant_config::Settings;
use sextant_core::{Event, EventInput, InputMode};
use sextant_query::DateRange;
use sextant_store::StoreError;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::sync::{Arc, Mutex};

const IMPORT_BATCH: usize = 50_000;

fn bar(len: u64, message: &'static str, unit: &str) -> ProgressBar {
    let template = format!("{{msg}} {{wide_bar}} {{{unit}}} ({{per_sec}}, eta {{eta}})");
    let style =
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len).with_message(message).with_style(style)
}

pub(crate) async fn import(args: ImportArgs, settings: Settings) -> anyhow::Result<()> {
    let (reader, size): (Box<dyn Read + Send>, u64) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), 0)
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let size = file.metadata().map_or(0, |m| m.len());
        (Box::new(file), size)
    };
    let stores = Stores::open(&settings).await?;
    let outcome = async {
        let project = find_project(stores.meta.as_ref(), &args.project).await?;
        let progress = bar(size, "importing", "binary_bytes");
        // Reading and parsing on a blocking thread, appending here: the two overlap.
        let (batches, mut received) = tokio::sync::mpsc::channel(2);
        let parser = {
            let (project_id, limits, progress) =
                (project.id.clone(), settings.ingest.limits.clone(), progress.clone());
            tokio::task::spawn_blocking(move || {
                let input = EventInput {
                    project_id: &project_id,
                    received_at: Utc::now(),
                    limits: &limits,
                    mode: InputMode::Import,
                };
                parse_lines(progress.wrap_read(reader), &input, &progress, &batches)
            })
        };
        let (mut imported, mut duplicates) = (0, 0);
        while let Some(batch) = received.recv().await {
            let appended = stores.events.append(batch).await?;
            imported += appended.stored;
            duplicates += appended.duplicates;
        }
        let rejected = parser.await??;
        progress.finish_and_clear();
        println!("imported {imported} events into {} ({})", project.name, project.id);
        if duplicates > 0 {
            println!("skipped {duplicates} events already stored (same insert_id)");
        }
        anyhow::ensure!(
            rejected == 0,
            "{rejected} lines were rejected (listed above); the other {imported} were imported"
        );
        anyhow::Ok(())
    }
    .await;
    stores.close().await?;
    outcome
}

/// Parses NDJSON into batches of events; reports bad lines by number and returns how many.
fn parse_lines(
    reader: impl Read,
    input: &EventInput<'_>,
    progress: &ProgressBar,
    batches: &tokio::sync::mpsc::Sender<Vec<Event>>,
) -> anyhow::Result<u64> {
    let mut rejected = 0;
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    for (index, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.context("cannot read the input")?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed =
            serde_json::from_str(&line).map_err(|e| format!("not JSON: {e}")).and_then(|value| {
                input.parse(value).map_err(|errors| {
                    let described: Vec<String> =
                        errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
                    described.join("; ")
                })
            });
        match parsed {
            Ok(event) => batch.push(event),
            Err(message) => {
                rejected += 1;
                progress.suspend(|| eprintln!("line {}: {message}", index + 1));
            }
        }
        if batch.len() == IMPORT_BATCH {
            batches.blocking_send(std::mem::take(&mut batch)).context("the import stopped")?;
        }
    }
    if !batch.is_empty() {
        batches.blocking_send(batch).context("the import stopped")?;
    }
    Ok(rejected)
}

pub(crate) async fn export(args: ExportArgs, settings: Settings) -> anyhow::Result<()> {
    let stores = Stores::open(&settings).await?;
    let outcome = async {
        let project = find_project(stores.meta.as_ref(), &args.project).await?;
        let range = match (&args.from, &args.to) {
            (None, None) => None,
            (from, to) => Some(
                DateRange {
                    from: from.clone().unwrap_or_else(|| "1970-01-01".into()),
                    to: to.clone(),
                }
                .resolve(Utc::now(), sextant_query::Zone::UTC)
                .map_err(|e| anyhow::anyhow!("--from/--to: {e}"))?,
            ),
        };
        let total = stores.events.project_stats(&project.id).await?.events;
        let progress = bar(total, "exporting", "human_pos");
        let out: Box<dyn Write + Send> = match &args.output {
            Some(path) => Box::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            ),
            None => Box::new(std::io::stdout()),
        };
        let writer = Arc::new(Mutex::new(BufWriter::with_capacity(1 << 20, out)));
        let sink_writer = Arc::clone(&writer);
        let sink_progress = progress.clone();
        // Runs on the store's reader thread: blocking writes are fine there.
        stores
            .events
            .export(
                &project.id,
                range,
                Box::new(move |event| {
                    let mut w = sink_writer
                        .lock()
                        .map_err(|_| StoreError::Internal("export writer poisoned".into()))?;
                    serde_json::to_writer(&mut *w, &event)
                        .map_err(|e| StoreError::Internal(format!("cannot write: {e}")))?;
                    w.write_all(b"\n")
                        .map_err(|e| StoreError::Internal(format!("cannot write: {e}")))?;
                    sink_progress.inc(1);
                    Ok(())
                }),
            )
            .await?;
        writer
            .lock()
            .map_err(|_| anyhow::anyhow!("export writer poisoned"))?
            .flush()
            .context("cannot write the export")?;
        progress.finish_and_clear();
        eprintln!("exported {} events from {} ({})", progress.position(), project.name, project.id);
        anyhow::Ok(())
    }
    .await;
    stores.close().await?;
    outcome
}
