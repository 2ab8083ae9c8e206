//! `hunt run`: one-off runs of query files, each over its window.

use super::ledger_file;
use crate::cli::RunArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::executor::{Executor, Job};
use crate::library;
use crate::quota::Governor;
use crate::report::{self, LoadFailure, Progress};
use crate::timespan::Window;
use anyhow::{Context as _, bail};
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

pub(super) async fn run_queries(args: RunArgs, config: Config) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // A one-off run's "now" is on a whole second, so file names stay short and readable.
    let now = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0)
        .context("the system clock is out of range")?;
    let fixed_window = match &args.timespan {
        Some(spec) => Some(Window::parse(spec, now)?),
        None => None,
    };
    let dest = super::output::destination(args.out.as_deref(), args.format, &config).await?;
    let loaded = library::load(&args.paths);
    let load_failures: Vec<LoadFailure> =
        loaded.errors.iter().map(|e| LoadFailure { text: e.to_string() }).collect();
    let (enabled, disabled): (Vec<_>, Vec<_>) = loaded.queries.into_iter().partition(|q| q.enabled);
    for q in &disabled {
        eprintln!("note: {} ({}) is disabled (enabled: false); skipped", q.id, q.source.display());
    }
    if enabled.is_empty() && load_failures.is_empty() {
        let shown: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no enabled queries found in {}", shown.join(", "));
    }
    let jobs: Vec<Job> = enabled
        .into_iter()
        .map(|q| {
            let window = fixed_window.unwrap_or_else(|| {
                Window::ending_at(now, q.lookback.unwrap_or_else(|| chrono::Duration::days(1)))
            });
            Job { query: Arc::new(q), window }
        })
        .collect();

    let (settings, emulator) = super::connect(args.emulator, &config).await?;
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    // The emulator is private to this process; a real tenant's ledger is shared on the machine.
    let governor = match &emulator {
        Some(_) => Governor::new(config.quota.clone(), clock),
        None => {
            Governor::shared(config.quota.clone(), clock, ledger_file(&settings.auth.tenant_id))
        }
    };
    let client = super::signed_in(settings).await?;

    let mut opts = config.exec_options().map_err(anyhow::Error::msg)?;
    if let Some(c) = args.concurrency {
        opts.concurrency = usize::from(c);
    }
    let executor = Arc::new(Executor::new(Arc::new(client), governor, Arc::clone(&dest), opts));
    let progress = Progress::new(jobs.len(), !args.json);
    let outcomes = executor.run_all(jobs, |o| progress.done(o)).await;
    progress.finish();

    let wall = started.elapsed();
    report::write_errors(&mut std::io::stderr().lock(), &outcomes, &load_failures)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", report::to_json(&outcomes, &load_failures, wall))?;
    } else {
        report::write_table(&mut stdout, &outcomes, &load_failures, &dest.to_string(), wall)?;
    }
    let failed = report::totals(&outcomes, load_failures.len()).failed;
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
