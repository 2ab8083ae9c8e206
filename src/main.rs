//! The `hunt` binary: parses the command line and hands it to the library.

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = hunt::cli::Cli::parse();
    match hunt::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(hunt::app::EXIT_USAGE)
        }
    }
}
