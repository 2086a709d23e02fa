//! One module per command family.

mod accounts;
mod admin;
mod demo;
mod query;
mod serve;
mod transfer;

use crate::cli::Command;
use anyhow::Context;
use sextant_config::Settings;
use sextant_store::{MetaStore, Project};

pub(crate) async fn dispatch(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args, settings).await,
        Command::Demo(args) => demo::run(args, settings).await,
        Command::Query(args) => query::run(args, settings).await,
        Command::Import(args) => transfer::import(args, settings).await,
        Command::Export(args) => transfer::export(args, settings).await,
        Command::Project(command) => admin::project(command, settings).await,
        Command::Key(command) => admin::key(command, settings).await,
        Command::User(command) => accounts::user(command, settings).await,
        Command::Audit(args) => accounts::audit(args, settings).await,
        Command::Retention => retention(settings).await,
    }
}

async fn retention(settings: Settings) -> anyhow::Result<()> {
    let stores = crate::runtime::Stores::open(&settings).await?;
    let metrics = sextant_telemetry::Metrics::new();
    let outcome = sextant_jobs::enforce_retention(
        stores.meta.as_ref(),
        stores.events.as_ref(),
        chrono::Utc::now(),
        settings.audit.retention_days,
        &metrics,
    )
    .await;
    stores.close().await?;
    let report = outcome.context("retention failed")?;
    println!(
        "retention: {} projects checked, {} old events deleted, {} old audit records deleted",
        report.projects, report.deleted_events, report.deleted_audit_records
    );
    Ok(())
}

/// A project by id or name, with a hint when it does not exist.
pub(crate) async fn find_project(
    meta: &dyn MetaStore,
    id_or_name: &str,
) -> anyhow::Result<Project> {
    meta.find_project(id_or_name).await.context("cannot look up the project")?.ok_or_else(|| {
        anyhow::anyhow!(
            "no project `{id_or_name}`; create it with `sextant project create {id_or_name}`"
        )
    })
}
