//! The composition root: one function per subcommand, wiring library → windows → executor →
//! report, and the emulator. Everything here speaks `anyhow`; exit codes are decided here.

use crate::cli::{Cli, Command, EmulatorArgs, QuotaArgs, RunArgs};
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::emulator::{Emulator, EmulatorConfig};
use crate::executor::{Executor, Job};
use crate::graph::{GraphClient, Settings};
use crate::library;
use crate::quota::Governor;
use crate::quota::store::{LedgerFile, default_state_dir};
use crate::report::{self, LoadFailure, Progress};
use crate::timespan::Window;
use anyhow::{Context as _, bail};
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An error that means "nothing ran": usage, configuration or sign-in (exit code 2).
pub const EXIT_USAGE: u8 = 2;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    init_logging(cli.verbose);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let config = match &cli.config {
        Some(path) => Config::load(path, true)?,
        None => Config::load(std::path::Path::new("hunt.toml"), false)?,
    };
    rt.block_on(async move {
        match cli.command {
            Command::Run(args) => run_queries(args, config).await,
            Command::Quota(args) => show_quota(args, config),
            Command::Emulator(args) => serve_emulator(args).await,
        }
    })
}

/// The ledger file of a tenant.
fn ledger_file(tenant_id: &str) -> LedgerFile {
    let dir = default_state_dir(|k| std::env::var(k).ok());
    LedgerFile::new(&dir, &crate::query::slug(tenant_id))
}

fn show_quota(args: QuotaArgs, config: Config) -> anyhow::Result<ExitCode> {
    let file = ledger_file(&args.tenant_id);
    let now = TokioClock::new().now_ms();
    let usage = file.load().unwrap_or_default().usage(now);
    let l = &config.quota;
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({ "tenant": args.tenant_id, "ledger": file.path(), "usage": usage, "limits": l });
        writeln!(out, "{v}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mins = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
    writeln!(out, "tenant {} (ledger {})", args.tenant_id, file.path().display())?;
    writeln!(out, "  calls this minute     {:>8} of {}", usage.calls_minute, l.calls_per_minute)?;
    writeln!(out, "  calls this hour       {:>8} of {}", usage.calls_hour, l.calls_per_hour)?;
    writeln!(
        out,
        "  execution this hour   {:>12} of {}",
        mins(usage.exec_hour_ms),
        mins(l.exec_per_hour_ms())
    )?;
    writeln!(
        out,
        "  execution this day    {:>12} of {}",
        mins(usage.exec_day_ms),
        mins(l.exec_per_day_ms())
    )?;
    writeln!(out, "  calls in flight       {:>8}", usage.in_flight)?;
    if let Some(until) = usage.paused_until_ms {
        writeln!(out, "  paused by a 429 for   {:>7.1}s", (until - now) as f64 / 1000.0)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

async fn run_queries(args: RunArgs, config: Config) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // A one-off run's "now" is on a whole second, so file names stay short and readable.
    let now = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0)
        .context("the system clock is out of range")?;
    let fixed_window = match &args.timespan {
        Some(spec) => Some(Window::parse(spec, now)?),
        None => None,
    };
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

    let (settings, _emulator) = if args.emulator {
        let emu = Emulator::start(EmulatorConfig::default(), (Ipv4Addr::LOCALHOST, 0).into())
            .await
            .context("cannot start the built-in emulator")?;
        eprintln!("using the built-in emulator at {} (synthetic data, no tenant)", emu.url());
        let env = emu.env();
        let var = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        (Settings::from_env(var)?, Some(emu))
    } else {
        (Settings::from_env(|k| std::env::var(k).ok())?, None)
    };
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    // The emulator is private to this process; a real tenant's ledger is shared on the machine.
    let governor = match &_emulator {
        Some(_) => Governor::new(config.quota.clone(), clock),
        None => {
            Governor::shared(config.quota.clone(), clock, ledger_file(&settings.auth.tenant_id))
        }
    };
    // The service refuses results over max_result_bytes; its JSON is allowed twice that before
    // hunt stops reading, so a runaway body cannot exhaust memory.
    let mut settings = settings;
    settings.max_body_bytes =
        usize::try_from(config.quota.max_result_bytes.saturating_mul(2)).unwrap_or(usize::MAX);
    let client = GraphClient::new(settings)?;
    client.sign_in().await.context("cannot sign in; no query was run")?;

    let mut opts = config.exec_options().map_err(anyhow::Error::msg)?;
    if let Some(c) = args.concurrency {
        opts.concurrency = usize::from(c);
    }
    let executor = Arc::new(Executor::new(Arc::new(client), governor, args.out.clone(), opts));
    let progress = Progress::new(jobs.len(), !args.json);
    let outcomes = executor.run_all(jobs, |o| progress.done(o)).await;
    progress.finish();

    let wall = started.elapsed();
    report::write_errors(&mut std::io::stderr().lock(), &outcomes, &load_failures)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        writeln!(stdout, "{}", report::to_json(&outcomes, &load_failures, wall))?;
    } else {
        let out = args.out.display().to_string();
        report::write_table(&mut stdout, &outcomes, &load_failures, &out, wall)?;
    }
    let failed = report::totals(&outcomes, load_failures.len()).failed;
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn serve_emulator(args: EmulatorArgs) -> anyhow::Result<ExitCode> {
    let mut config = EmulatorConfig {
        events_per_hour: args.events_per_hour,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        ..EmulatorConfig::default()
    };
    if let Some(path) = &args.client_cert {
        use rustls_pki_types::pem::PemObject as _;
        let der = rustls_pki_types::CertificateDer::from_pem_file(path)
            .with_context(|| format!("cannot read a certificate from {}", path.display()))?;
        config.client_cert_der = Some(der.to_vec());
    }
    let addr: SocketAddr = (Ipv4Addr::LOCALHOST, args.port).into();
    let emu =
        Emulator::start(config, addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "hunt emulator listening on {}", emu.url())?;
    writeln!(out, "point hunt at it with:")?;
    for (k, v) in emu.env() {
        writeln!(out, "  export {k}={v}")?;
    }
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(ExitCode::SUCCESS)
}
