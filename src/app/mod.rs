//! The composition root: one function per subcommand, wiring library → windows → executor →
//! report, DEN sync, and the emulator. Everything here speaks `anyhow`; exit codes are decided
//! here.

mod auth;
mod den;
mod den_show;
mod emulator;
mod incremental;
mod library;
mod notify;
mod output;
mod quota;
mod run;
mod schedule;
mod settings;
mod status;
mod tenants;

use crate::cli::{Cli, Command, LogFormat};
use crate::clock::Clock;
use crate::config::Config;
use crate::emulator::{Emulator, EmulatorConfig};
use crate::graph::{GraphClient, Settings};
use crate::quota::Limits;
use crate::quota::store::{LedgerFile, default_state_dir};
use anyhow::Context as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// An error that means "nothing ran": usage, configuration or sign-in (exit code 2).
pub const EXIT_USAGE: u8 = 2;

/// Whether `e` is standard output closed by its reader (a pipe into `head`): hunt then stops
/// quietly, as Unix tools do.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `--auth` (or `HUNT_AUTH`), as the command line gave it.
static AUTH: std::sync::OnceLock<Option<crate::graph::auth::AuthKind>> = std::sync::OnceLock::new();

/// `[auth] kind` of hunt.toml, below `--auth` and `HUNT_AUTH`.
static FILE_AUTH: std::sync::OnceLock<Option<crate::graph::auth::AuthKind>> =
    std::sync::OnceLock::new();

/// The environment as sign-in reads it: the process's variables, with `HUNT_AUTH` from `--auth`,
/// else the variable, else hunt.toml's `[auth] kind`.
pub(super) fn environment(k: &str) -> Option<String> {
    if k == "HUNT_AUTH" {
        if let Some(Some(kind)) = AUTH.get() {
            return Some(kind.as_str().to_owned());
        }
        let set = std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        return set.or_else(|| FILE_AUTH.get().copied().flatten().map(|k| k.as_str().to_owned()));
    }
    std::env::var(k).ok()
}

/// The built-in emulator's retention when a person runs it (`--emulator`, `hunt emulator`): the
/// service's 30 days, so a window reaching further is answered as the service would.
fn retention() -> chrono::Duration {
    chrono::Duration::days(crate::emulator::RETENTION_DAYS)
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // A daemon's runs are worth logging by default; one-off commands stay quiet.
    let daemon = matches!(cli.command, Command::Schedule(_));
    init_logging(cli.verbose, cli.log_format, daemon);
    let _ = AUTH.set(cli.auth);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let config = match &cli.config {
        Some(path) => Config::load(path, true)?,
        None => Config::load(std::path::Path::new("hunt.toml"), false)?,
    };
    let _ = FILE_AUTH.set(config.auth.kind);
    rt.block_on(async move {
        match cli.command {
            Command::Run(args) => run::run_queries(args, config).await,
            Command::Schedule(args) => schedule::schedule(args, config).await,
            Command::Status(args) => status::status(args, &config),
            Command::History(args) => status::history(args, &config),
            Command::Auth(args) => auth::auth(args, config).await,
            Command::Login => auth::login().await,
            Command::Logout => auth::logout(),
            Command::Validate(args) => library::validate(args, &config),
            Command::List(args) => library::list(args, &config),
            Command::Plan(args) => library::plan(args, &config),
            Command::Den(args) => den::den(args, config).await,
            Command::Quota(args) => quota::show_quota(args, config),
            Command::Emulator(args) => emulator::serve_emulator(args, &config).await,
        }
    })
}

fn init_logging(verbose: u8, format: LogFormat, daemon: bool) {
    // -v: hunt's own events (waits, splits, retries, runs) without the libraries' chatter;
    // -vv: everything at debug; -vvv: trace.
    let default = match (verbose, daemon) {
        (0, false) => "warn",
        (0, true) | (1, _) => "warn,hunt=info",
        (2, _) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Query paths named on the command line must exist: a typo is a usage error (exit 2), not a
/// failed query.
fn check_paths(paths: &[PathBuf]) -> anyhow::Result<()> {
    for p in paths {
        if std::fs::symlink_metadata(p).is_err() {
            anyhow::bail!("no such file or folder: {}", p.display());
        }
    }
    Ok(())
}

/// The folder for hunt's state files.
fn state_dir() -> PathBuf {
    default_state_dir(|k| std::env::var(k).ok())
}

/// The files of the state folder named `{prefix}…{suffix}` (`schedule-….sqlite`), sorted; none
/// when the folder cannot be read.
fn state_files(prefix: &str, suffix: &str) -> Vec<PathBuf> {
    let named = |p: &PathBuf| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix) && n.ends_with(suffix))
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(state_dir())
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(named).collect())
        .unwrap_or_default();
    found.sort();
    found
}

/// The ledger file of a tenant.
fn ledger_file(tenant_id: &str) -> LedgerFile {
    LedgerFile::new(&state_dir(), &crate::query::slug(&tenant_id.to_ascii_lowercase()))
}

/// Where to connect: the environment's tenant, or a private emulator started here (returned so
/// that it lives as long as the caller needs it).
async fn connect(emulator: bool, config: &Config) -> anyhow::Result<(Settings, Option<Emulator>)> {
    let (mut settings, emu) = if emulator {
        let emu_config = emulator::modelled(
            EmulatorConfig { retention: Some(retention()), ..EmulatorConfig::default() },
            config,
        )?;
        let emu = Emulator::start(emu_config, (Ipv4Addr::LOCALHOST, 0).into())
            .await
            .context("cannot start the built-in emulator")?;
        eprintln!("using the built-in emulator at {} (synthetic data, no tenant)", emu.url());
        let env = emu.env();
        let var = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        (Settings::from_env(var)?, Some(emu))
    } else {
        (Settings::from_env(environment)?, None)
    };
    tune(&mut settings, &config.quota, config);
    for w in &settings.warnings {
        eprintln!("warning: {w}");
    }
    Ok((settings, emu))
}

/// Applies hunt.toml's request timeout and the body cap of the tenant's `limits`.
fn tune(settings: &mut Settings, limits: &Limits, config: &Config) {
    // The service refuses results over max_result_bytes; its JSON is allowed twice that before
    // hunt stops reading, so a runaway body cannot exhaust memory.
    settings.max_body_bytes =
        usize::try_from(limits.max_result_bytes.saturating_mul(2)).unwrap_or(usize::MAX);
    settings.timeout = config.run.request_timeout;
}

/// A signed-in Graph client; sign-in failures mean nothing ran.
async fn signed_in(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<GraphClient> {
    let client = GraphClient::new(settings, clock)?;
    client.sign_in().await.context("cannot sign in; nothing was run")?;
    Ok(client)
}
