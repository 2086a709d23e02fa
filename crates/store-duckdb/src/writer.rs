//! The single writer: one thread owns the write connection, so appends never contend with each
//! other and never run on async executor threads. Each append is one transaction; DuckDB
//! fsyncs its WAL on commit, which is what makes an acknowledged append durable.

use crate::links;
use crate::persons;
use crate::rollup;
use crate::{convert, error};
use duckdb::Connection;
use sextant_core::{Event, ProjectId};
use sextant_query::TimeRange;
use sextant_store::dedup::RecentIds;
use sextant_store::identity::{self, KnownLinks, NewLinks, PersonUpdates};
use sextant_store::{Appended, StoreError};
use std::sync::mpsc;
use std::time::Instant;
use tokio::sync::oneshot;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// Appends between two rollup compactions (each appends a few partial rows).
const COMPACT_EVERY: u32 = 500;

pub(crate) enum Command {
    Append {
        events: Vec<Event>,
        reply: Reply<Appended>,
    },
    Delete {
        project: ProjectId,
        range: TimeRange,
        reply: Reply<u64>,
    },
    /// Answers at once: proves the writer thread is alive and not stuck.
    Ping {
        reply: Reply<()>,
    },
    Close {
        reply: Reply<()>,
    },
}

/// Runs until `Close` (checkpoints first) or until every sender is gone.
pub(crate) fn run(
    conn: Connection,
    mut recent: RecentIds,
    mut links: KnownLinks,
    commands: mpsc::Receiver<Command>,
) {
    let mut commits_since_compaction = 0u32;
    let mut touched = rollup::Touched::default();
    while let Ok(command) = commands.recv() {
        match command {
            Command::Append { events, reply } => {
                let started = Instant::now();
                let received = events.len();
                let (fresh, duplicates) = recent.fresh(events);
                let new_links = links.new_links(&fresh.events);
                let people = identity::person_updates(&fresh.events);
                let result =
                    append(&conn, &fresh.events, &new_links, &people, &mut touched).map(|()| {
                        recent.record(&fresh);
                        links.record(new_links);
                        Appended { stored: fresh.events.len(), duplicates }
                    });
                tracing::debug!(
                    events = received,
                    duplicates,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    ok = result.is_ok(),
                    "append committed"
                );
                let _ = reply.send(result);
                commits_since_compaction += 1;
                if commits_since_compaction >= COMPACT_EVERY {
                    commits_since_compaction = 0;
                    if let Err(e) = rollup::compact(&conn, &mut touched) {
                        // Harmless: partial rows stay correct, only more numerous.
                        tracing::warn!(error = %e, "rollup compaction failed");
                    }
                }
            }
            Command::Delete { project, range, reply } => {
                let _ = reply.send(delete(&conn, &project, range));
            }
            Command::Ping { reply } => {
                let _ = reply.send(Ok(()));
            }
            Command::Close { reply } => {
                let result = conn.execute_batch("CHECKPOINT").map_err(error::internal);
                drop(conn);
                let _ = reply.send(result);
                return;
            }
        }
    }
}

fn append(
    conn: &Connection,
    events: &[Event],
    links: &NewLinks,
    people: &PersonUpdates,
    touched: &mut rollup::Touched,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    conn.execute_batch("BEGIN TRANSACTION").map_err(error::internal)?;
    let written = (|| {
        let mut appender = conn.appender("events")?;
        for event in events {
            convert::append_event(&mut appender, event)?;
        }
        appender.flush()?;
        links::insert(conn, links)?;
        rollup::add(conn, events, touched)?;
        persons::apply(conn, people)
    })();
    match written.and_then(|()| conn.execute_batch("COMMIT")) {
        Ok(()) => Ok(()),
        Err(e) => {
            // The transaction may already be gone if COMMIT itself failed.
            let _ = conn.execute_batch("ROLLBACK");
            Err(error::internal(e))
        }
    }
}

fn delete(conn: &Connection, project: &ProjectId, range: TimeRange) -> Result<u64, StoreError> {
    let params = [
        convert::param_value(&sextant_query::Param::Text(project.to_string())),
        convert::param_value(&sextant_query::Param::Timestamp(range.from)),
        convert::param_value(&sextant_query::Param::Timestamp(range.to)),
    ];
    // One transaction: the rollup never disagrees with the events, even after a crash.
    conn.execute_batch("BEGIN TRANSACTION").map_err(error::internal)?;
    let deleted = conn
        .execute(
            "DELETE FROM events WHERE project_id = $1 AND timestamp >= $2 AND timestamp < $3",
            duckdb::params_from_iter(params),
        )
        .and_then(|deleted| {
            rollup::rebuild(
                conn,
                project.as_str(),
                range.from.timestamp_micros(),
                range.to.timestamp_micros(),
            )?;
            Ok(deleted)
        });
    match deleted.and_then(|deleted| conn.execute_batch("COMMIT").map(|()| deleted)) {
        Ok(deleted) => Ok(deleted as u64),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(error::internal(e))
        }
    }
}
