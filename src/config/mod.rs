//! `hunt.toml`: the optional configuration file. Today it holds the tenant's quota limits and
//! how hard a run tries; unknown keys are errors (with their line), so a typo never silently
//! falls back to a default.
//!
//! ```toml
//! [quota]                 # per tenant; defaults are the documented service figures
//! calls_per_minute = 45
//! calls_per_hour = 1500
//! exec_per_hour = "10m"
//! exec_per_day = "3h"
//! max_rows = 100000
//! max_result_bytes = 130023424
//!
//! [run]
//! concurrency = 3
//! min_window = "1m"       # smallest window a split may produce
//! max_retries = 4         # per call, after 5xx or transport failures
//! throttle_deadline = "6h" # how long a query may keep waiting out 429s
//! backoff_base = "2s"     # first wait after a 5xx or a dropped connection (doubles, jittered)
//! backoff_max = "2m"
//! request_timeout = "4m"  # one HTTP call, from sending to the last byte of the answer
//! max_in_flight = 8       # answers landing at once across all tenants (a few MB each)
//! tenant_retry = "1m"     # hunt schedule: first wait before a tenant that could not start tries
//!                         # again (doubles, at most 30m); the other tenants run meanwhile
//!
//! [output]
//! out = "az://lake/hunt"  # default for --out: a folder or an object-store URL
//! format = "parquet"      # default for --format: parquet or delta
//! timestamp_unit = "us"   # DateTime columns in Parquet: us (every engine) or ns (100 ns; not Spark)
//!
//! [auth]
//! kind = "workload-identity" # how to sign in when neither --auth nor HUNT_AUTH says: secret,
//!                         # certificate, workload-identity, managed-identity, azure-cli, device-code
//!
//! [emulator]              # the built-in emulator of --emulator and `hunt emulator`
//! sentinel_streamed = true # tables as streamed to Sentinel: TimeGenerated besides Timestamp
//! externaldata = { "https://example.com/iocs.csv" = "tests/iocs.csv" } # URL = local file
//!
//! [[tenant]]              # several tenants, each with its own credentials and quota
//! name = "contoso"
//! tenant_id_env = "CONTOSO_TENANT_ID"
//! client_id_env = "CONTOSO_CLIENT_ID"
//! client_secret_env = "CONTOSO_SECRET"
//! [tenant.quota]          # only what differs from [quota]
//! calls_per_minute = 30
//! ```
//!
//! The `[[tenant]]` tables are the [`tenant`](crate::tenant) module's; the `[[notify]]` tables
//! (webhooks told when a window lands rows) are the [`notify`](crate::notify) module's.

use crate::graph::auth::AuthKind;
use crate::lake_types::TimestampUnit;
use crate::notify::config::{FileNotifier, NotifierConfig};
use crate::output::{Format, Target};
use crate::quota::Limits;
use crate::tenant::TenantConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration, every value parsed, checked and typed once when the file is read.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Quota limits.
    pub quota: Limits,
    /// Run behaviour.
    pub run: RunConfig,
    /// Where results go.
    pub output: OutputConfig,
    /// `[auth]`: how the environment's tenant signs in when neither `--auth` nor `HUNT_AUTH`
    /// says.
    pub auth: AuthChoice,
    /// `[[tenant]]` tables, in file order (none: the one tenant of the environment).
    pub tenants: Vec<TenantConfig>,
    /// `[[notify]]` tables, in file order.
    pub notify: Vec<NotifierConfig>,
    /// `[emulator]`: what the built-in emulator models.
    pub emulator: EmulatorSection,
    /// Where the file was read from, if it was.
    pub source: Option<PathBuf>,
}

/// `[run]`, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Jobs in flight at once (1 to 16).
    pub concurrency: u16,
    /// Smallest window a split may produce.
    pub min_window: chrono::Duration,
    /// Retries per call after 5xx or transport failures.
    pub max_retries: u32,
    /// How long a job may keep waiting out 429s.
    pub throttle_deadline: Duration,
    /// First backoff step after a 5xx or transport failure (doubles, with jitter).
    pub backoff_base: Duration,
    /// Largest backoff step.
    pub backoff_max: Duration,
    /// Longest one HTTP call may take, from sending it to the last byte of the answer (at least
    /// a second; above the service's own 3-minute query limit by default).
    pub request_timeout: Duration,
    /// With several tenants: hunting calls answered or being landed at once by this process,
    /// across tenants (at least 1).
    pub max_in_flight: u16,
    /// `hunt schedule` with several tenants: the first wait before a tenant that could not
    /// start tries again (at least a second; doubling, at most 30 minutes).
    pub tenant_retry: Duration,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            concurrency: 3,
            min_window: chrono::Duration::minutes(1),
            max_retries: 4,
            throttle_deadline: Duration::from_secs(6 * 3600),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(120),
            request_timeout: Duration::from_secs(240),
            // Answers stream, so a slot holds a batch or two and a row group (up to ~40 MB for
            // the widest tables), not a body; landing is CPU-bound, so 8 at once keep the cores
            // busy (bench/README.md, "Many tenants").
            max_in_flight: 8,
            tenant_retry: Duration::from_secs(60),
        }
    }
}

/// `[auth]`: the way of signing in, below `--auth` and `HUNT_AUTH` (a `[[tenant]]` table says its
/// own with `auth`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthChoice {
    /// `secret`, `certificate`, `workload-identity`, `managed-identity`, `azure-cli` or
    /// `device-code`; none: the first source present (see [`crate::graph::Settings::from_env`]).
    pub kind: Option<AuthKind>,
}

/// `[emulator]`: how the built-in emulator (`--emulator`, `hunt emulator`) models the tenant, so
/// that a query library that needs it passes `hunt run --emulator` in CI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorSection {
    /// Defender XDR tables as in a tenant that streams them to Microsoft Sentinel: every table
    /// with `Timestamp` also has `TimeGenerated`.
    pub sentinel_streamed: bool,
    /// Files that answer `externaldata` over a URL (the emulator has no network); a relative
    /// path is read from the folder of hunt.toml.
    pub externaldata: std::collections::BTreeMap<String, PathBuf>,
}

/// `[output]`: defaults for `--out` and `--format`, typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputConfig {
    /// A folder or an object-store URL (`az://…`, `abfss://…`, `s3://…`, `gs://…`).
    pub out: Option<Target>,
    /// `parquet` or `delta`.
    pub format: Option<Format>,
    /// The unit of timestamp columns in Parquet files: `us` (default, read by every engine) or
    /// `ns` (the service's full 100 ns; Spark refuses it, Delta cannot hold it).
    pub timestamp_unit: TimestampUnit,
}

/// The file as written: what serde reads, before any value is interpreted.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    quota: Limits,
    run: FileRun,
    output: FileOutput,
    auth: AuthChoice,
    #[serde(rename = "tenant")]
    tenants: Vec<TenantConfig>,
    notify: Vec<FileNotifier>,
    emulator: EmulatorSection,
}

/// `[run]` as written (durations as text).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileRun {
    concurrency: Option<u16>,
    min_window: Option<String>,
    max_retries: Option<u32>,
    throttle_deadline: Option<String>,
    backoff_base: Option<String>,
    backoff_max: Option<String>,
    request_timeout: Option<String>,
    max_in_flight: Option<u16>,
    tenant_retry: Option<String>,
}

/// `[output]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileOutput {
    out: Option<String>,
    format: Option<Format>,
    timestamp_unit: TimestampUnit,
}

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ConfigFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (with line and column where the parser knows them).
    pub message: String,
}

impl Config {
    /// Reads `path`; with `required` false a missing file gives the defaults.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigFileError> {
        let err = |message: String| ConfigFileError { path: path.to_owned(), message };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                return Ok(Config::default());
            }
            Err(e) => return Err(err(e.to_string())),
        };
        let file: FileConfig = toml::from_str(&text).map_err(|e| {
            let at = e.span().map(|s| format!("{}: ", place(&text, s.start))).unwrap_or_default();
            err(format!("{at}{}", e.message()))
        })?;
        let mut config = Config::from_file(file, &text).map_err(err)?;
        let folder = path.parent().unwrap_or(Path::new(""));
        for file in config.emulator.externaldata.values_mut() {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
        config.source = Some(path.to_owned());
        Ok(config)
    }

    /// Interprets every value of `file` (read from `text`, for line numbers) once.
    fn from_file(file: FileConfig, text: &str) -> Result<Config, String> {
        let at = |section: &str, key: &str, message: String| match key_place(text, section, key) {
            Some(place) => format!("{place}: {message}"),
            None => message,
        };
        let FileConfig { quota, run, output, auth, mut tenants, notify, emulator } = file;
        if let Err(e) = quota.validate() {
            let key = e.split_whitespace().nth(1).unwrap_or("").to_owned();
            return Err(at("quota", &key, e));
        }
        let d = RunConfig::default();
        // A duration of [run] `key`, at least `least`, or the default.
        let duration = |key: &str, value: &Option<String>, default: Duration, least: Duration| {
            let Some(v) = value else { return Ok(default) };
            let parsed = crate::timespan::parse_duration(v)
                .map_err(|e| e.to_string())
                .and_then(|d| d.to_std().map_err(|e| e.to_string()))
                .map_err(|e| at("run", key, format!("[run] {key}: {e}")))?;
            if parsed < least {
                let least = crate::timespan::format_duration(
                    chrono::Duration::from_std(least).unwrap_or_default(),
                );
                return Err(at(
                    "run",
                    key,
                    format!("[run] {key} must be at least {least}, not {v:?}"),
                ));
            }
            Ok(parsed)
        };
        let (zero, second) = (Duration::ZERO, Duration::from_secs(1));
        let concurrency = run.concurrency.unwrap_or(d.concurrency);
        if !(1..=16).contains(&concurrency) {
            return Err(at(
                "run",
                "concurrency",
                format!(
                    "[run] concurrency must be between 1 and 16 (windows in flight at once), not \
                     {concurrency}"
                ),
            ));
        }
        let max_in_flight = run.max_in_flight.unwrap_or(d.max_in_flight);
        if max_in_flight == 0 {
            return Err(at(
                "run",
                "max_in_flight",
                "[run] max_in_flight must be at least 1".into(),
            ));
        }
        let min_window = match &run.min_window {
            None => d.min_window,
            Some(v) => crate::timespan::parse_duration(v)
                .map_err(|e| at("run", "min_window", format!("[run] min_window: {e}")))?,
        };
        let run = RunConfig {
            concurrency,
            min_window,
            max_retries: run.max_retries.unwrap_or(d.max_retries),
            throttle_deadline: duration(
                "throttle_deadline",
                &run.throttle_deadline,
                d.throttle_deadline,
                zero,
            )?,
            backoff_base: duration("backoff_base", &run.backoff_base, d.backoff_base, zero)?,
            backoff_max: duration("backoff_max", &run.backoff_max, d.backoff_max, zero)?,
            request_timeout: duration(
                "request_timeout",
                &run.request_timeout,
                d.request_timeout,
                second,
            )?,
            max_in_flight,
            tenant_retry: duration("tenant_retry", &run.tenant_retry, d.tenant_retry, second)?,
        };
        let out = output
            .out
            .as_deref()
            .map(|out| {
                Target::parse(out)
                    .map_err(|e| at("output", "out", format!("[output] out: {}", e.reason)))
            })
            .transpose()?;
        let output =
            OutputConfig { out, format: output.format, timestamp_unit: output.timestamp_unit };
        crate::tenant::check(&mut tenants, &quota, &|at| place(text, at))?;
        let notify = crate::notify::config::check(notify, &|at| place(text, at))?;
        Ok(Config { quota, run, output, auth, tenants, notify, emulator, source: None })
    }

    /// Whether the file names several tenants (`[[tenant]]` tables).
    pub fn multi_tenant(&self) -> bool {
        !self.tenants.is_empty()
    }
}

/// `line:col` (1-based, columns in bytes) of byte `offset` of `text`.
pub fn place(text: &str, offset: usize) -> String {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{line}:{col}")
}

/// `line:col` of `key` in the `[section]` table of `text`, if it is written there plainly.
fn key_place(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(header) = trimmed.strip_prefix('[') {
            current = header.split(']').next().unwrap_or("").trim().to_owned();
        } else if current == section
            && let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(place(text, offset + (line.len() - trimmed.len())));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tenant_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hunt.toml");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_quota_and_run_sections() {
        let (_d, p) = write(
            "[quota]\ncalls_per_minute = 30\nexec_per_hour = \"5m\"\n[run]\nmin_window = \"30s\"\n",
        );
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.quota.calls_per_minute, 30);
        assert_eq!(c.quota.exec_per_hour, std::time::Duration::from_secs(300));
        assert_eq!(c.quota.calls_per_hour, 1500);
        assert_eq!(c.run.min_window, chrono::Duration::seconds(30));
        assert_eq!(c.run.request_timeout, std::time::Duration::from_secs(240));
        assert_eq!(
            c.run,
            RunConfig { min_window: chrono::Duration::seconds(30), ..RunConfig::default() }
        );
        let (_d, p) = write("[run]\nrequest_timeout = \"2s\"\nbackoff_max = \"300ms\"\n");
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.run.request_timeout, std::time::Duration::from_secs(2));
        assert_eq!(c.run.backoff_max, std::time::Duration::from_millis(300));
    }

    #[test]
    fn request_timeout_must_be_a_usable_duration() {
        for bad in ["\"soon\"", "\"0s\"", "\"500ms\"", "\"-4m\""] {
            let (_d, p) = write(&format!("[run]\nrequest_timeout = {bad}\n"));
            let e = Config::load(&p, true).unwrap_err().to_string();
            assert!(e.contains("2:1: [run] request_timeout"), "{bad}: {e}");
        }
        // Not a string: the parser points at the value.
        let (_d, p) = write("[run]\nrequest_timeout = 4\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:19:"), "{e}");
    }

    #[test]
    fn typos_and_bad_values_are_errors_with_their_place() {
        let (_d, p) = write("[quota]\ncalls_per_mnute = 30\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("hunt.toml: 2:1:") && e.contains("calls_per_mnute"), "{e}");
        let (_d, p) = write("[run]\nmin_window = \"soon\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:1: [run] min_window"), "{e}");
    }

    #[test]
    fn auth_section_names_a_way_to_sign_in() {
        let (_d, p) = write("[auth]\nkind = \"workload-identity\"\n");
        assert_eq!(Config::load(&p, true).unwrap().auth.kind, Some(AuthKind::WorkloadIdentity));
        assert_eq!(Config::default().auth.kind, None);
        let (_d, p) = write("[auth]\nkind = \"password\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:8:") && e.contains("managed-identity"), "{e}");
        let (_d, p) = write("[auth]\nsecret = \"x\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:1:") && e.contains("secret"), "{e}");
    }

    #[test]
    fn output_section_gives_defaults_for_out_and_format() {
        let (_d, p) = write("[output]\nout = \"az://lake/hunt\"\nformat = \"delta\"\n");
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.output.out.as_ref().unwrap().to_string(), "az://lake/hunt");
        assert_eq!(c.output.format, Some(Format::Delta));
        let (_d, p) = write("[output]\nout = \"ftp://x/y\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:1: [output] out") && e.contains("unknown scheme"), "{e}");
        let (_d, p) = write("[output]\nformat = \"csv\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("csv"), "{e}");
        let (_d, p) = write("[output]\nfolder = \"x\"\n");
        assert!(Config::load(&p, true).is_err());
        assert_eq!(Config::default().output.out, None);
    }

    #[test]
    fn out_of_range_settings_name_their_line_and_the_allowed_range() {
        let (_d, p) = write("# limits\n[run]\nmin_window = \"1m\"\n  concurrency = 0\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("hunt.toml: 4:3: [run] concurrency must be between 1 and 16"), "{e}");
        let (_d, p) = write("[run]\nconcurrency = 17\n");
        assert!(Config::load(&p, true).unwrap_err().to_string().contains("not 17"));
        let (_d, p) = write("[run]\nconcurrency = 16\n");
        assert_eq!(Config::load(&p, true).unwrap().run.concurrency, 16);
        let (_d, p) = write("[quota]\nmax_rows = 5\ncalls_per_minute = 0\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(
            e.contains("hunt.toml: 3:1: [quota] calls_per_minute must be at least 1 (a call)"),
            "{e}"
        );
        assert!(!e.contains("KiB"), "{e}");
        let (_d, p) = write("[quota]\nexec_per_hour = \"500ms\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:1: [quota] exec_per_hour must be at least \"1s\""), "{e}");
    }

    #[test]
    fn notify_tables_are_typed_and_checked_with_their_place() {
        let (_d, p) = write(
            "[[notify]]\nname = \"soc\"\nurl_env = \"SOC_HOOK\"\nformat = \"teams\"\ndefault = true\n\
             [[notify]]\nname = \"soar\"\nurl_env = \"SOAR_HOOK\"\nmin_rows = 5\nsample_rows = 0\n",
        );
        let c = Config::load(&p, true).unwrap();
        let names: Vec<_> = c.notify.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["soc", "soar"]);
        assert_eq!(c.notify[0].format, crate::notify::config::NotifyFormat::Teams);
        assert_eq!(
            (c.notify[0].min_rows, c.notify[0].sample_rows, c.notify[0].default),
            (1, 10, true)
        );
        assert_eq!(
            (c.notify[1].min_rows, c.notify[1].sample_rows, c.notify[1].default),
            (5, 0, false)
        );
        let bad = [
            ("[[notify]]\nname = \"a\"\nurl_env = \"A\"\nformat = \"email\"\n", "4:10", "email"),
            ("[[notify]]\nname = \"a\"\n", "2:8", "needs url_env"),
            ("[[notify]]\nname = \"a\"\nurl = \"https://x\"\n", "3:1", "unknown field `url`"),
            (
                "[[notify]]\nname = \"a\"\nurl_env = \"https://x/y\"\n",
                "3:11",
                "must name an environment variable",
            ),
            (
                "[[notify]]\nname = \"a\"\nurl_env = \"A\"\n[[notify]]\nname = \"a\"\nurl_env = \"B\"\n",
                "5:8",
                "defined twice",
            ),
            (
                "[[notify]]\nname = \"a\"\nurl_env = \"A\"\nsample_rows = 1000\n",
                "4:15",
                "between 0 and 100",
            ),
            ("[[notify]]\nname = \"a\"\nurl_env = \"A\"\nmin_rows = -1\n", "4:12", "min_rows"),
        ];
        for (text, at, what) in bad {
            let (_d, p) = write(text);
            let e = Config::load(&p, true).unwrap_err().to_string();
            assert!(e.contains(&format!("hunt.toml: {at}: ")) && e.contains(what), "{text}: {e}");
            assert!(!e.contains("https://x"), "{e}");
        }
    }

    #[test]
    fn emulator_section_reads_files_next_to_hunt_toml() {
        let (d, p) = write(
            "[emulator]\nsentinel_streamed = true\n[emulator.externaldata]\n\
             \"https://x.test/a.csv\" = \"lists/a.csv\"\n\"https://x.test/b.csv\" = \"/abs/b.csv\"\n",
        );
        let c = Config::load(&p, true).unwrap();
        assert!(c.emulator.sentinel_streamed);
        let files: Vec<PathBuf> = c.emulator.externaldata.values().cloned().collect();
        assert_eq!(files, [d.path().join("lists/a.csv"), PathBuf::from("/abs/b.csv")]);
        let (_d, p) = write("[emulator]\nsentinel = true\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("2:1: unknown field `sentinel`"), "{e}");
    }

    #[test]
    fn a_missing_optional_file_gives_defaults() {
        let c = Config::load(Path::new("/nonexistent/hunt.toml"), false).unwrap();
        assert_eq!(c.quota, Limits::default());
        assert!(Config::load(Path::new("/nonexistent/hunt.toml"), true).is_err());
    }
}
