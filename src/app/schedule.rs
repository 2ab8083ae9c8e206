//! `hunt schedule`: the daemon (one per tenant served), with its signals.

use super::notify::Notify;
use super::tenants::Target;
use crate::cli::ScheduleArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::executor::{ExecOptions, Executor};
use crate::metrics::Metrics;
use crate::notify::courier::Courier;
use crate::output::Destination;
use crate::schedule::daemon::{Daemon, DaemonOptions, status_line};
use crate::schedule::state::StateStore;
use crate::timespan::parse_duration;
use anyhow::Context as _;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing::Instrument as _;

pub(super) async fn schedule(args: ScheduleArgs, config: Config) -> anyhow::Result<ExitCode> {
    let grace = parse_duration(&args.grace).context("--grace")?.to_std()?;
    super::check_paths(&args.paths)?;
    // A daemon with nothing to run would sit idle and exit 0 on SIGTERM: say so instead.
    let loaded = crate::library::load(&args.paths);
    if loaded.queries.is_empty() && loaded.errors.is_empty() {
        let shown: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        anyhow::bail!("no query files found in {}: nothing to schedule", shown.join(", "));
    }
    let scheduled: Vec<&crate::query::Query> =
        loaded.queries.iter().filter(|q| q.enabled && q.schedule.is_some()).collect();
    let notify = Notify::new(&config, &scheduled)?;
    let reload = parse_duration(&args.reload).context("--reload")?.to_std()?;
    let den_every = parse_duration(&args.den_every).context("--den-every")?.to_std()?;
    if den_every.is_zero() {
        anyhow::bail!("--den-every must be longer than 0s");
    }
    for name in notify.notifiers.den_unusable() {
        eprintln!(
            "warning: notifier {name:?} asks for DEN events but its variable (url_env) does not \
             hold a usable webhook URL: it is not told"
        );
    }
    let signer = super::output::environment_signer(args.emulator);
    let dest =
        super::output::destination(args.out.as_deref(), args.format, &config, &signer).await?;
    let targets = super::tenants::targets(&args.select, args.emulator, &config).await?;
    if targets.list.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let dests = targets.destinations(&dest, args.format, &config).await;
    let opts = super::settings::exec_options(&config, args.concurrency, args.no_validate);
    let daemon_opts = DaemonOptions {
        paths: args.paths.clone(),
        reload_every: reload,
        grace,
        concurrency: opts.concurrency,
        // The status line per run goes to stdout; when the log (stderr) is the same terminal,
        // the run's log event would repeat it.
        runs_shown: std::io::stdout().is_terminal() && std::io::stderr().is_terminal(),
        ..DaemonOptions::default()
    };
    let retry = config.run.tenant_retry;
    // One stop signal for every tenant's daemon.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics = match args.metrics {
        None => None,
        Some(addr) => {
            let metrics = Arc::new(Metrics::new(Arc::new(TokioClock::new())));
            let (bound, _server) =
                crate::metrics::serve(addr, Arc::clone(&metrics), stopped.clone())
                    .await
                    .with_context(|| format!("--metrics {addr}: cannot listen"))?;
            eprintln!("serving metrics on http://{bound}/metrics");
            Some(metrics)
        }
    };
    let starts = targets.list.iter().zip(dests).map(|(t, dest)| {
        let again = dest.as_ref().ok().cloned();
        let (opts, daemon_opts, metrics) = (opts.clone(), daemon_opts.clone(), metrics.clone());
        let notify = (notify.clone(), den_every);
        let start =
            start_daemon(t, dest, opts, daemon_opts, stopped.clone(), false, metrics, notify);
        async move { (t, again, t.reported(start).await) }
    });
    let mut daemons = Vec::new();
    let mut waiting = Vec::new();
    let mut not_run = 0;
    for (target, again, started) in futures_util::future::join_all(starts).await {
        match started {
            Ok(d) => daemons.push(d),
            // The environment's one tenant: nothing can run (exit 2).
            Err(e) if !targets.multi => return Err(e),
            Err(_) => {
                not_run += 1;
                // A tenant whose output opened tries again later (sign-in may recover: an
                // Entra outage, a certificate mounted or rotated late); one whose output did
                // not is a configuration error and does not.
                if let Some(dest) = again {
                    waiting.push((target, dest));
                }
            }
        }
    }
    if daemons.is_empty() {
        return Ok(super::tenants::exit_code(not_run, 0, false));
    }
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stop signal: finishing windows in flight");
        let _ = stop.send(true);
    });
    let running = daemons.len();
    let runs = daemons.into_iter().map(|started| {
        let span = started.target.span();
        serve(started, stopped.clone()).instrument(span)
    });
    let late = waiting.into_iter().map(|(target, dest)| {
        let (opts, daemon_opts, metrics) = (opts.clone(), daemon_opts.clone(), metrics.clone());
        let notify = (notify.clone(), den_every);
        let start = move |stopped| {
            let dest = Ok(Arc::clone(&dest));
            let (opts, daemon_opts) = (opts.clone(), daemon_opts.clone());
            let (metrics, notify) = (metrics.clone(), notify.clone());
            start_daemon(target, dest, opts, daemon_opts, stopped, true, metrics, notify)
        };
        start_later(target, start, retry, stopped.clone()).instrument(target.span())
    });
    let (_, late) = futures_util::future::join(
        futures_util::future::join_all(runs),
        futures_util::future::join_all(late),
    )
    .await;
    let started_late = late.into_iter().filter(|started| *started).count();
    Ok(super::tenants::exit_code(not_run - started_late, running + started_late, false))
}

/// Runs a started daemon until the stop signal, with a log line at each end.
async fn serve(mut started: Started<'_>, stopped: tokio::sync::watch::Receiver<bool>) {
    let den = started.den.take();
    let (path, dest) = (started.state.display(), &started.dest);
    tracing::info!(state = %path, out = %dest, "hunt schedule started");
    // Notifications go out beside the daemon: a receiver that is down holds up nothing.
    let courier = async {
        if let Some(courier) = &started.courier {
            courier.run(stopped.clone()).await;
        }
    };
    // DENs are read on their own cadence, outside the hunting quota.
    let dens = async {
        if let Some(den) = den {
            let waker = started.courier.as_ref().map(Courier::waker);
            den.run(waker, stopped.clone()).await;
        }
    };
    let (summary, (), ()) =
        futures_util::future::join3(started.daemon.run(stopped.clone()), courier, dens).await;
    tracing::info!(
        landed = summary.landed,
        failed = summary.failed,
        abandoned = summary.abandoned,
        not_started = summary.not_started,
        "hunt schedule stopped"
    );
}

/// Tries again to start a tenant that could not start, after `first` and then twice as long
/// each time (at most [`MAX_TENANT_RETRY`]), until it starts (then serves it and returns true)
/// or hunt is told to stop (false).
async fn start_later<'a, F, Fut>(
    target: &'a Target,
    start: F,
    first: std::time::Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> bool
where
    F: Fn(tokio::sync::watch::Receiver<bool>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Started<'a>>>,
{
    let mut wait = first;
    loop {
        let shown = crate::timespan::format_duration(
            chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
        );
        eprintln!("note: {}trying to start again in {shown}", target.who());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.wait_for(|stop| *stop) => return false,
        }
        match target.reported(start(stopped.clone())).await {
            Ok(started) => {
                eprintln!("note: {}started", target.who());
                serve(started, stopped).await;
                return true;
            }
            Err(_) => wait = (wait * 2).min(MAX_TENANT_RETRY),
        }
    }
}

/// The longest wait between two attempts to start a tenant.
const MAX_TENANT_RETRY: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A tenant's daemon, ready to run.
struct Started<'a> {
    target: &'a Target,
    daemon: Daemon,
    /// Its state file.
    state: PathBuf,
    /// Where its results go.
    dest: Arc<Destination>,
    /// Its notifications' sender, when some notifier can be sent to.
    courier: Option<Courier>,
    /// What its DEN watch needs, when some notifier asks for DEN events.
    den: Option<crate::den::watch::Watcher>,
}

/// One tenant's daemon, signed in and with its state open, ready to run (`again`: a later
/// attempt, with the credentials read afresh).
#[allow(clippy::too_many_arguments)]
async fn start_daemon(
    target: &Target,
    dest: anyhow::Result<Arc<Destination>>,
    opts: ExecOptions,
    daemon_opts: DaemonOptions,
    stopped: tokio::sync::watch::Receiver<bool>,
    again: bool,
    metrics: Option<Arc<Metrics>>,
    (notify, den_every): (Notify, std::time::Duration),
) -> anyhow::Result<Started<'_>> {
    let dest = dest?;
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    let (client, tenant_id) = target.sign_in(again, Arc::clone(&clock)).await?;
    let path = target.state_file("schedule", &tenant_id, "sqlite");
    let state = Arc::new(
        StateStore::open(&path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let governor = target.governor(&tenant_id, Arc::clone(&clock));
    // Metrics name a tenant of hunt.toml by its name, the environment's by its id.
    let label = target.name.clone().unwrap_or_else(|| tenant_id.clone());
    if let Some(m) = &metrics {
        m.watch(&label, Arc::clone(&governor), Arc::clone(&state));
    }
    let mut executor = Executor::new(target.api(client), governor, Arc::clone(&dest), opts)
        .with_tenant(target.name.clone())
        .with_stop(stopped);
    let courier = match notify.notifiers.is_empty() {
        true => None,
        false => {
            let n = Arc::clone(&notify.notifiers);
            executor = executor.with_sample(Arc::new(move |q| n.sample_rows(q)));
            let courier = Courier::new(
                Arc::clone(&state),
                Arc::clone(&notify.notifiers),
                Arc::clone(&clock),
                notify.backoff,
            )?;
            Some(match &metrics {
                Some(m) => {
                    let m = Arc::clone(m);
                    courier.on_attempt(Arc::new(move |name, status| m.notified(name, status)))
                }
                None => courier,
            })
        }
    };
    let executor = Arc::new(executor);
    // Its own client: DEN reads never take the hunting calls' answer slots.
    let den = match notify.notifiers.wants_den_events() {
        false => None,
        true => {
            let (client, _) = target.sign_in(again, Arc::clone(&clock)).await?;
            Some(crate::den::watch::Watcher {
                client,
                state: Arc::clone(&state),
                notifiers: Arc::clone(&notify.notifiers),
                tenant: label.clone(),
                clock: Arc::clone(&clock),
                every: den_every,
                executor: Some(Arc::clone(&executor)),
            })
        }
    };
    let terminal = std::io::stdout().is_terminal();
    let who = target.name.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
    let line_clock = Arc::clone(&clock);
    let tenant = label.clone();
    let mut daemon =
        Daemon::new(daemon_opts, executor, state, clock).on_run(move |run, outcome| {
            if terminal {
                println!("{who}{}", status_line(run, line_clock.now()));
            }
            if let Some(m) = &metrics {
                m.record(&label, run, outcome);
            }
        });
    if let Some(courier) = &courier {
        let notifiers = Arc::clone(&notify.notifiers);
        daemon = daemon.with_notes(move |o| notifiers.notes(o, &tenant), courier.waker());
    }
    Ok(Started { target, daemon, state: path, dest, courier, den })
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
