//! The command line: clap definitions and their help text. No logic lives here.

use crate::output::Format as OutputFormat;
use crate::tenant::select::Shard;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Runs Microsoft Defender XDR advanced-hunting queries through Microsoft Graph and lands the
/// results as typed Parquet.
#[derive(Debug, Parser)]
#[command(name = "hunt", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// More log output on stderr: -v hunt's own events (waits for quota, splits, retries), -vv
    /// debug from everything, -vvv trace. RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Log format on stderr: text for people, json for log collectors.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Configuration file (tenants, quota limits, retries, splitting). Default: ./hunt.toml if
    /// present.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// How to sign in to Graph. Default: the first present of AZURE_CLIENT_SECRET,
    /// AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE, then the Azure CLI's
    /// signed-in account (`az login`); a managed identity only when chosen.
    #[arg(long, global = true, value_enum, env = "HUNT_AUTH", value_name = "KIND")]
    pub auth: Option<crate::graph::auth::AuthKind>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const AFTER_HELP: &str = "\
Sign-in (--auth): an app registration with the ThreatHunting.Read.All application permission
  (AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH),
  workload identity (AZURE_FEDERATED_TOKEN_FILE, AKS and GitHub OIDC), a managed identity
  (--auth managed-identity), or you, signed in with `az login` (delegated permissions);
  AZURE_AUTHORITY_HOST and HUNT_GRAPH_URL for national clouds.
Many tenants: [[tenant]] tables in hunt.toml (name, tenant_id or tenant_id_env, client_id or
  client_id_env, client_secret_env or certificate, out, [tenant.quota]); all run side by side,
  each under its own quota; --tenant NAME picks some, --shard I/N splits them among machines.
Try it without a tenant: hunt run queries/ --emulator

Exit codes: 0 all went well; 1 some query failed (the others still ran and landed);
2 usage, configuration or sign-in error (nothing ran).";

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run queries once and write their results as Parquet.
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Run every scheduled query window after window until SIGINT/SIGTERM.
    #[command(after_help = SCHEDULE_HELP)]
    Schedule(ScheduleArgs),
    /// Show the scheduler's state: watermarks, last runs, failures, next fires.
    #[command(after_help = STATUS_HELP)]
    Status(StatusArgs),
    /// Show who hunt signs in as: the source (--auth), tenant, app or person, token expiry, and
    /// the permissions the token carries against what each command needs (exit 1 if one is
    /// missing).
    Auth(AuthArgs),
    /// Sign in as yourself with a device code (AZURE_TENANT_ID, and AZURE_CLIENT_ID of an app
    /// registration that allows public client flows, with delegated ThreatHunting.Read.All);
    /// later runs use it until `hunt logout`.
    Login,
    /// Remove the sign-in `hunt login` kept for AZURE_TENANT_ID (or every one).
    Logout,
    /// List the runs the scheduler recorded (window, status, rows, files, request-ids,
    /// duration), newest first: of one query or of all.
    History(HistoryArgs),
    /// Check query files without calling any API: `path:line:col: severity: message`.
    #[command(after_help = VALIDATE_HELP)]
    Validate(ValidateArgs),
    /// List the library as loaded: id, name, schedule, next run, tables, source.
    List(ListArgs),
    /// Show what `hunt schedule` would run next: fire times, windows, quota.
    Plan(PlanArgs),
    /// Defender Experts Notifications: save their recommended hunting queries as query files.
    #[command(subcommand)]
    Den(DenCommand),
    /// Show the tenant's quota ledger: calls this minute and hour, execution this hour and day.
    #[command(after_help = QUOTA_HELP)]
    Quota(QuotaArgs),
    /// Serve a local stand-in for the Graph security API and its token endpoint.
    #[command(after_help = EMULATOR_HELP)]
    Emulator(EmulatorArgs),
}

const QUOTA_HELP: &str = "\
The ledger is shared by every hunt process of the tenant on this machine (a state file under
HUNT_STATE_DIR, else $XDG_STATE_HOME/hunt, else ~/.local/state/hunt), so runs started back to back
spend from one budget. Limits come from hunt.toml [quota] (defaults: the documented figures).
With [[tenant]] tables: the ledger of every selected tenant (--tenant, --shard), each with its
own limits ([tenant.quota] over [quota]).";

const STATUS_HELP: &str = "\
Reads the state file of `hunt schedule` while it runs. With [[tenant]] tables in hunt.toml: the
state of every selected tenant's schedule (--tenant, --shard), one after the other.";

const VALIDATE_HELP: &str = "\
Errors (exit 1): unterminated strings, unbalanced brackets, smart quotes used as quotes, queries
that are empty once comments are removed, invalid cron schedules, files that do not load.
Warnings: TimeGenerated on Defender tables, datetime() bounds older than the 30-day horizon,
unknown front-matter keys. Info: no time filter (the window comes from the run's timespan).";

const SCHEDULE_HELP: &str = "\
Each query with a `schedule` (5-field cron, 6-field with seconds, @hourly…, UTC) runs at every fire
time T over [where its previous window ended, T - delay); its first window is its `lookback` before
the latest fire. Windows tile time with no gap and no overlap, across restarts and outages: a
missed stretch is caught up as one window (split if the service needs). State (watermarks and run
history) is kept in an SQLite file in the state folder; `hunt status` reads it while this runs.
Query files are re-read when they change. On SIGINT/SIGTERM hunt stops taking work, lets windows
in flight finish (--grace), saves, and exits 0.
With [[tenant]] tables in hunt.toml: one schedule per selected tenant (--tenant, --shard) in this
process, each with its own sign-in, quota ledger and state file (schedule-tenant-<name>.sqlite),
landing under OUT/<query id>/tenant=<name>/; one stop signal stops them all. A tenant that cannot
sign in is reported and the others run (exit 1 at the end; exit 2 if none could start).";

/// `--tenant` and `--shard`: which `[[tenant]]` tables of hunt.toml a command serves.
#[derive(Debug, Clone, Default, Args)]
pub struct TenantArgs {
    /// Only this tenant of hunt.toml (repeat, or separate names with commas; default: every
    /// [[tenant]]).
    #[arg(long = "tenant", value_name = "NAME", value_delimiter = ',')]
    pub tenants: Vec<String>,

    /// Only shard I of N (1-based, e.g. 2/3) of the selected tenants: N machines, each with its
    /// own I, share the tenants with no coordination (a stable hash of each name).
    #[arg(long, value_name = "I/N", env = "HUNT_SHARD")]
    pub shard: Option<Shard>,
}

/// `hunt schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Query files or folders.
    #[arg(default_value = "queries")]
    pub paths: Vec<PathBuf>,

    /// Where results go: a folder or an object-store URL (see `hunt run --help`). Default:
    /// hunt.toml [output] out, else output/.
    // Taken as is and parsed by hunt (`output::Target`), so that a refused value is never echoed
    // with a secret in it; a path that is not UTF-8 is a folder.
    #[arg(long, value_name = "DIR|URL")]
    pub out: Option<std::ffi::OsString>,

    /// Output format: parquet or delta. Default: hunt.toml [output] format, else parquet.
    #[arg(long, value_name = "FORMAT", value_parser = parse_output_format)]
    pub format: Option<OutputFormat>,

    /// How long windows in flight may take to finish after a stop signal, e.g. 30s.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub grace: String,

    /// How often to look for changed query files, e.g. 10s.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub reload: String,

    /// How often to read Defender Experts Notifications, when some [[notify]] table asks for
    /// DEN events (den_events); Microsoft advises every minute.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub den_every: String,

    /// Windows in flight at once (default: hunt.toml [run] concurrency, else 3).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub concurrency: Option<u16>,

    /// Send queries that hunt's KQL parser rejects. By default such a query fails locally with
    /// the parser's message and place (as `hunt validate` prints it), spending no call.
    #[arg(long)]
    pub no_validate: bool,

    /// Serve Prometheus metrics at http://ADDR/metrics (and /healthz): PORT alone is loopback
    /// (127.0.0.1:PORT); give IP:PORT (e.g. 0.0.0.0:9464) to be scraped from elsewhere.
    #[arg(long, value_name = "ADDR", value_parser = crate::metrics::parse_addr)]
    pub metrics: Option<std::net::SocketAddr>,

    /// Run against a built-in emulator with synthetic data instead of a tenant.
    #[arg(long)]
    pub emulator: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Query files or folders, for next fire times. Default: the queries the daemon recorded in
    /// its state (what it really runs), else queries/.
    pub paths: Vec<PathBuf>,

    /// The state of `hunt schedule --emulator`. Default: AZURE_TENANT_ID's state, else the one
    /// schedule state in the state folder.
    #[arg(long)]
    pub emulator: bool,

    /// Print as JSON.
    #[arg(long)]
    pub json: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this query's runs.
    pub query: Option<String>,

    /// How many runs, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,

    /// The state of `hunt schedule --emulator`. Default: AZURE_TENANT_ID's state, else the one
    /// schedule state in the state folder.
    #[arg(long)]
    pub emulator: bool,

    /// Print as JSON.
    #[arg(long)]
    pub json: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt auth`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// Sign in to the built-in emulator.
    #[arg(long)]
    pub emulator: bool,

    /// Print as JSON.
    #[arg(long)]
    pub json: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Query files or folders.
    #[arg(default_value = "queries")]
    pub paths: Vec<PathBuf>,
}

/// Output format of listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON document for scripts.
    Json,
}

/// `hunt list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Query files or folders.
    #[arg(default_value = "queries")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// `hunt plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Query files or folders.
    #[arg(default_value = "queries")]
    pub paths: Vec<PathBuf>,

    /// Plan from this time (RFC 3339, UTC) instead of now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// How far ahead to plan, e.g. 1h, 1d.
    #[arg(long = "for", value_name = "DURATION", default_value = "1h")]
    pub span: String,

    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,

    /// Plan from the watermarks of `hunt schedule --emulator`'s state. Default: AZURE_TENANT_ID's
    /// state, else the one schedule state in the state folder, else each query's lookback.
    #[arg(long)]
    pub emulator: bool,

    /// Which tenants of hunt.toml (each planned from its own state).
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt den …`.
#[derive(Debug, Subcommand)]
pub enum DenCommand {
    /// Pull Defender Experts Notifications and save each distinct recommended hunting query.
    #[command(after_help = DEN_SYNC_HELP)]
    Sync(DenSyncArgs),
    /// List the DENs hunt keeps (from `hunt den sync` and `hunt schedule`), with their state.
    List(DenListArgs),
    /// One DEN: its state, its history of changes, and what hunt ran for it.
    Show(DenShowArgs),
}

/// `hunt den list`.
#[derive(Debug, Args)]
pub struct DenListArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    /// Read what `hunt den sync --emulator` kept.
    #[arg(long)]
    pub emulator: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt den show`.
#[derive(Debug, Args)]
pub struct DenShowArgs {
    /// The incident id.
    pub id: String,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,

    /// Read what `hunt den sync --emulator` kept.
    #[arg(long)]
    pub emulator: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

const DEN_SYNC_HELP: &str = "\
DENs are incidents whose title starts with \"Defender Experts\", or that carry the \"Defender
Experts\" system tag, or that an alert from Microsoft Threat Experts (detectionSource
microsoftThreatExperts) belongs to. Their recommendedHuntingQueries are only on Graph beta; the
app needs SecurityIncident.Read.All and SecurityAlert.Read.All. Each distinct query (whitespace
ignored) is saved once; running sync again adds only what is new since the last sync.
With [[tenant]] tables in hunt.toml: every selected tenant (--tenant, --shard) in turn, each
saving under QUERIES/<name>/ with its own watermark.";

/// `hunt den sync`.
#[derive(Debug, Args)]
pub struct DenSyncArgs {
    /// Where the query files go.
    #[arg(long, value_name = "DIR", default_value = "queries/den")]
    pub queries: PathBuf,

    /// Give new DEN queries this cron schedule (e.g. "@hourly"); default: none.
    #[arg(long, value_name = "CRON")]
    pub schedule: Option<String>,

    /// Look at every incident, not only those changed since the last sync.
    #[arg(long)]
    pub full: bool,

    /// Sync from a built-in emulator with synthetic incidents instead of a tenant.
    #[arg(long)]
    pub emulator: bool,

    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,

    /// Which tenants of hunt.toml (each tenant's queries go under QUERIES/<name>/).
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt quota`.
#[derive(Debug, Args)]
pub struct QuotaArgs {
    /// Tenant id; default AZURE_TENANT_ID (or, with [[tenant]] tables, every selected tenant).
    #[arg(long, value_name = "ID", conflicts_with_all = ["tenants", "shard"])]
    pub tenant_id: Option<String>,

    /// The built-in emulator's budgets. Each `--emulator` process keeps its own in memory (no
    /// ledger is shared), so this shows the limits and says so.
    #[arg(long, conflicts_with = "tenant_id")]
    pub emulator: bool,

    /// Print as JSON.
    #[arg(long)]
    pub json: bool,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

const RUN_HELP: &str = "\
Examples:
  hunt run queries/                         every .kql file under queries/, each over its lookback
  hunt run q.kql --timespan P7D             the last 7 days
  hunt run q.kql --timespan 2026-11-01T00:00:00Z/2026-11-02T00:00:00Z
  hunt run queries/ --emulator --json       against the built-in emulator, summary as JSON
  hunt run queries/ --tenant contoso,adatum two of the [[tenant]] tables of hunt.toml
  hunt run queries/ --shard 2/3             this machine's share of the tenants (of 3 machines)

Results land in OUT/<query id>/date=YYYY-MM-DD/<window>.parquet, one file per event day;
running the same window again replaces its files. OUT may be an object store:
  hunt run queries/ --out az://lake/hunt         Azure Blob / ADLS Gen2 (AZURE_STORAGE_ACCOUNT_NAME,
                                                 AZURE_STORAGE_ACCOUNT_KEY or another credential)
  hunt run queries/ --out abfss://lake@acct.dfs.core.windows.net/hunt
  hunt run queries/ --out s3://bucket/hunt       AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
  hunt run queries/ --out gs://bucket/hunt       GOOGLE_SERVICE_ACCOUNT (a key file)
Each file is uploaded whole or not at all (multipart above 8 MiB, aborted on failure).
With [[tenant]] tables in hunt.toml every selected tenant runs at the same time, each with its
own sign-in and quota, into OUT/<query id>/tenant=<name>/date=… (a tenant's own `out` replaces
OUT); a tenant that cannot sign in is reported and the others still run (exit 1; exit 2 only if
none could run).";

const EMULATOR_HELP: &str = "\
Point hunt at it from another shell with the variables it prints, e.g.:
  export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
  export AZURE_AUTHORITY_HOST=http://127.0.0.1:PORT HUNT_GRAPH_URL=http://127.0.0.1:PORT
  hunt run queries/
Many tenants (benchmarks, trying [[tenant]] tables):
  hunt emulator --tenants 50 --hunt-toml /tmp/hunt.toml
  hunt --config /tmp/hunt.toml run queries/
Their secrets are the emulator's well-known test values, so the tables hold them inline (with
allow_inline_secret = true); never do that with a real tenant's secret.";

/// `hunt run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Query files (.kql, Sentinel .yaml) or folders, walked recursively; `-` reads KQL from
    /// stdin. Default: queries/ (unless -e or - is given).
    pub paths: Vec<PathBuf>,

    /// Run this KQL, as in the portal's query box (repeat for several; ids adhoc, adhoc-2, …).
    /// Front matter comments work as in a file.
    #[arg(short = 'e', long = "execute", value_name = "KQL")]
    pub execute: Vec<String>,

    /// Window to run over, in the service's forms: P7D, PT6H, START/END, START/P1D, P1D/END
    /// (UTC, Z). Default: each query's `lookback`, else P1D, ending now.
    #[arg(long, value_name = "ISO8601", conflicts_with = "incremental")]
    pub timespan: Option<String>,

    /// Continue each query from where its previous incremental run (or hunt schedule) ended, up
    /// to now minus its `delay`: windows tile time with no gap and no overlap, so a cron job
    /// running `hunt run --incremental` every few minutes lands every row once. A query's first
    /// run covers its `lookback`. Shares hunt schedule's state; two incremental runs of a query
    /// at once never run the same window (the second skips it).
    #[arg(long)]
    pub incremental: bool,

    /// Where results go: a folder (default output/, or hunt.toml [output] out), or an
    /// object-store URL: az://CONTAINER/PREFIX, abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PREFIX,
    /// s3://BUCKET/PREFIX, gs://BUCKET/PREFIX (credentials from the environment).
    // Taken as is and parsed by hunt (`output::Target`), so that a refused value is never echoed
    // with a secret in it; a path that is not UTF-8 is a folder.
    #[arg(long, value_name = "DIR|URL")]
    pub out: Option<std::ffi::OsString>,

    /// Output format: parquet (Hive-partitioned files) or delta (a Delta table per query).
    /// Default: hunt.toml [output] format, else parquet.
    #[arg(long, value_name = "FORMAT", value_parser = parse_output_format)]
    pub format: Option<OutputFormat>,

    /// Run against a built-in emulator with synthetic data instead of a tenant.
    #[arg(long)]
    pub emulator: bool,

    /// Queries in flight at once (default: hunt.toml [run] concurrency, else 3).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub concurrency: Option<u16>,

    /// Send queries that hunt's KQL parser rejects. By default such a query fails locally with
    /// the parser's message and place (as `hunt validate` prints it), spending no call.
    #[arg(long)]
    pub no_validate: bool,

    /// Print the summary as JSON on stdout (no progress bar, no table).
    #[arg(long, conflicts_with = "print")]
    pub json: bool,

    /// Print the rows on stdout as they land: table (fits the terminal, at most --limit rows a
    /// query), csv (RFC 4180, header row) or jsonl (one object per row, the service's values:
    /// DateTime with 7 fractional digits, Dynamic as JSON). The summary goes to stderr. Nothing
    /// is written to disk unless --out is given too (then rows are printed and landed; with
    /// --incremental, --out is required). With several queries each row names its query.
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub print: Option<crate::print::PrintFormat>,

    /// With --print table: rows shown per query (the rest are counted).
    #[arg(long, value_name = "N", default_value_t = 50, requires = "print")]
    pub limit: usize,

    /// Which tenants of hunt.toml.
    #[command(flatten)]
    pub select: TenantArgs,
}

/// `hunt emulator`.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8410)]
    pub port: u16,

    /// Synthetic events per hour in each table.
    #[arg(long, default_value_t = 360, value_parser = clap::value_parser!(u32).range(1..))]
    pub events_per_hour: u32,

    /// Lifetime of issued tokens, in seconds.
    #[arg(long, default_value_t = 3599, value_parser = clap::value_parser!(u64).range(1..))]
    pub token_lifetime: u64,

    /// PEM certificate whose key may sign client assertions (certificate sign-in).
    #[arg(long, value_name = "PEM")]
    pub client_cert: Option<PathBuf>,

    /// Answer every hunting query with this file's bytes (a canned response, for benchmarks):
    /// read once at start, served as is, with no KQL evaluation and no result-size or row cap.
    #[arg(long, value_name = "PATH")]
    pub serve_file: Option<PathBuf>,

    /// Chaos: fail this share of calls (0 to 1) at random with 503, 429, 504, resets, cut bodies
    /// or slow answers.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = chaos_rate)]
    pub chaos: f64,

    /// Seed of the chaos generator (the same seed replays the same faults).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub chaos_seed: u64,

    /// Also serve N more tenants, tenant-001 to tenant-N, each with its own made-up
    /// credentials and its own quota; prints the [[tenant]] tables that point hunt at them.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub tenants: u32,

    /// With --tenants: write those [[tenant]] tables to this file (mode 600) instead of
    /// printing them.
    #[arg(long, value_name = "FILE", requires = "tenants")]
    pub hunt_toml: Option<PathBuf>,

    /// Also serve a Defender Experts Notification (incident 9100) that moves one step every
    /// STEP (e.g. "1m"): new, assigned to Defender Experts, awaiting the customer's action,
    /// resolved.
    #[arg(long, value_name = "STEP")]
    pub den_lifecycle: Option<String>,
    /// Answer `externaldata` over URL with the local file PATH (the emulator has no network;
    /// an unmapped URL is refused with 400). Repeatable.
    #[arg(long, value_name = "URL=PATH", value_parser = url_file)]
    pub externaldata: Vec<(String, PathBuf)>,

    /// Serve tables as a tenant whose Defender XDR tables are streamed to Microsoft Sentinel:
    /// each table with a Timestamp also has TimeGenerated (equal to it), as in the unified
    /// Defender portal. Off: TimeGenerated is unknown, as in a tenant without Sentinel.
    #[arg(long)]
    pub sentinel_streamed: bool,
}

fn parse_output_format(s: &str) -> Result<OutputFormat, String> {
    s.parse()
}

fn url_file(s: &str) -> Result<(String, PathBuf), String> {
    match s.rsplit_once('=') {
        Some((url, path)) if !url.is_empty() && !path.is_empty() => {
            Ok((url.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("{s:?} is not URL=PATH")),
    }
}

fn chaos_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!("{s:?} is not a rate between 0 and 1")),
    }
}
