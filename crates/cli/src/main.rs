//! The `sextant` binary: parse flags, load settings, set up logging, run the command.

use clap::Parser;
use std::process::ExitCode;

// Many small allocations on many threads (JSON values, events, strings): mimalloc is much
// cheaper than glibc's malloc here (measured in sextant-bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
