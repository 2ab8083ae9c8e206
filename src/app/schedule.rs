//! `hunt schedule` (the daemon, with its signals) and `hunt status` (its state, read while it
//! runs).

use super::ledger_file;
use crate::cli::{ScheduleArgs, StatusArgs};
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::cron::Cron;
use crate::executor::Executor;
use crate::library;
use crate::quota::Governor;
use crate::schedule::daemon::{Daemon, DaemonOptions, status_line};
use crate::schedule::state::StateStore;
use crate::schedule::status::render_status;
use crate::timespan::parse_duration;
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The state file of a tenant's schedule (or of the emulator's).
pub(super) fn state_file(tenant_id: Option<&str>) -> PathBuf {
    let name = match tenant_id {
        Some(t) => crate::query::slug(&t.to_ascii_lowercase()),
        None => "emulator".to_owned(),
    };
    super::state_dir().join(format!("schedule-{name}.sqlite"))
}

pub(super) async fn schedule(args: ScheduleArgs, config: Config) -> anyhow::Result<ExitCode> {
    let grace = parse_duration(&args.grace).context("--grace")?.to_std()?;
    let reload = parse_duration(&args.reload).context("--reload")?.to_std()?;
    let dest = super::output::destination(args.out.as_deref(), args.format, &config).await?;
    let (settings, emulator) = super::connect(args.emulator, &config).await?;
    let tenant = emulator.is_none().then(|| settings.auth.tenant_id.clone());
    let path = state_file(tenant.as_deref());
    let state = Arc::new(
        StateStore::open(&path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let governor = match &tenant {
        Some(t) => Governor::shared(config.quota.clone(), Arc::clone(&clock), ledger_file(t)),
        None => Governor::new(config.quota.clone(), Arc::clone(&clock)),
    };
    let client = super::signed_in(settings).await?;
    let mut opts = config.exec_options().map_err(anyhow::Error::msg)?;
    if let Some(c) = args.concurrency {
        opts.concurrency = usize::from(c);
    }
    let concurrency = opts.concurrency;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let executor = Arc::new(
        Executor::new(Arc::new(client), governor, Arc::clone(&dest), opts)
            .with_stop(stopped.clone()),
    );
    let daemon_opts = DaemonOptions {
        paths: args.paths.clone(),
        reload_every: reload,
        grace,
        concurrency,
        ..DaemonOptions::default()
    };
    let terminal = std::io::stdout().is_terminal();
    let daemon = Daemon::new(daemon_opts, executor, state, clock).on_run(move |run| {
        if terminal {
            println!("{}", status_line(run));
        }
    });
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stop signal: finishing windows in flight");
        let _ = stop.send(true);
    });
    tracing::info!(state = %path.display(), out = %dest, "hunt schedule started");
    let summary = daemon.run(stopped).await;
    tracing::info!(
        landed = summary.landed,
        failed = summary.failed,
        abandoned = summary.abandoned,
        not_started = summary.not_started,
        "hunt schedule stopped"
    );
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub(super) fn status(args: StatusArgs) -> anyhow::Result<ExitCode> {
    let tenant = if args.emulator {
        None
    } else {
        Some(std::env::var("AZURE_TENANT_ID").context(
            "AZURE_TENANT_ID is not set: hunt status shows that tenant's schedule (or use --emulator)",
        )?)
    };
    let path = state_file(tenant.as_deref());
    let state = StateStore::open_read_only(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let states = state.summary()?;
    let now = chrono::Utc::now();
    let next: BTreeMap<String, Option<chrono::DateTime<chrono::Utc>>> = library::load(&args.paths)
        .queries
        .iter()
        .filter(|q| q.enabled)
        .filter_map(|q| {
            let cron = Cron::parse(q.schedule.as_deref()?).ok()?;
            Some((q.id.clone(), cron.next_after(now)))
        })
        .collect();
    render_status(&states, &next, &mut std::io::stdout().lock(), args.json)?;
    Ok(ExitCode::SUCCESS)
}
