//! The `sextant` binary: parse flags, load settings, set up logging, run the command.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = sextant::cli::Cli::parse();
    let outcome = sextant::load_settings(&cli).and_then(|settings| {
        sextant::logging::init(&settings.log)?;
        sextant::run(cli.command, settings)
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
