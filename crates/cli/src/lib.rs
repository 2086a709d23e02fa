//! The `sextant` application: wires settings, stores, ingestion and HTTP together and runs
//! the CLI commands. Everything here is glue; behaviour lives in the library crates.

pub mod cli;
mod commands;
pub mod demo_data;
pub mod logging;
pub mod runtime;

use anyhow::Context;
use cli::{Cli, Command};
use sextant_config::{Overrides, Settings};

/// Settings from file, env and the global flags (plus `serve --listen`).
pub fn load_settings(cli: &Cli) -> anyhow::Result<Settings> {
    let listen = match &cli.command {
        Command::Serve(args) => args.listen.clone(),
        _ => None,
    };
    let overrides =
        Overrides { listen, data_dir: cli.data_dir.clone(), log_level: cli.log_level.clone() };
    sextant_config::load(cli.config.as_deref(), &overrides).context("cannot load configuration")
}

/// Runs one command to completion on a fresh multi-threaded runtime.
pub fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("sextant").build()?;
    runtime.block_on(commands::dispatch(command, settings))
}
