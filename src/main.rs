//! The `hunt` binary: parses the command line and hands it to the library.

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    limit_malloc_arenas();
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

/// glibc gives threads that allocate at once their own heap arenas (up to 8 per core), and memory
/// freed in one arena is not reused by another. Answers landing side by side allocate and free
/// their batches on decoder and writer threads, so with 50 tenants the arenas, not the data,
/// made most of the peak (`bench/tenants.sh 50 4`: 453 MB, 253 MB with two arenas). Two arenas
/// are enough for hunt's few busy threads; `MALLOC_ARENA_MAX`, when set, still decides.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it runs first, before any thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
