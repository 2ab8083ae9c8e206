//! The `hunt` binary: parses the command line and hands it to the library.

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = hunt::cli::Cli::parse();
    match hunt::app::run(cli) {
        Ok(code) => code,
        // A reader that stopped reading (`hunt status --json | head`) is not an error.
        Err(e) if hunt::app::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(hunt::app::EXIT_USAGE)
        }
    }
}
