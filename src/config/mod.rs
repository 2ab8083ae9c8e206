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
//! max_in_flight = 32      # answers held at once across all tenants (each is held whole)
//! tenant_retry = "1m"     # hunt schedule: first wait before a tenant that could not start tries
//!                         # again (doubles, at most 30m); the other tenants run meanwhile
//!
//! [output]
//! out = "az://lake/hunt"  # default for --out: a folder or an object-store URL
//! format = "parquet"      # default for --format: parquet or delta
//! timestamp_unit = "us"   # DateTime columns in Parquet: us (every engine) or ns (100 ns; not Spark)
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
//! The `[[tenant]]` tables are the [`tenant`](crate::tenant) module's.

use crate::executor::ExecOptions;
use crate::output::{Format, Target};
use crate::quota::Limits;
use crate::tenant::TenantConfig;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The parsed file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Quota limits.
    pub quota: Limits,
    /// Run behaviour.
    pub run: RunConfig,
    /// Where results go.
    pub output: OutputConfig,
    /// `[[tenant]]` tables, in file order (none: the one tenant of the environment).
    #[serde(rename = "tenant")]
    pub tenants: Vec<TenantConfig>,
    /// Where the file was read from, if it was.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[run]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// Jobs in flight at once.
    pub concurrency: u16,
    /// Smallest split window, e.g. `"1m"`.
    pub min_window: String,
    /// Retries per call after 5xx or transport failures.
    pub max_retries: u32,
    /// How long to keep waiting out 429s, e.g. `"6h"`.
    pub throttle_deadline: String,
    /// First backoff step after a 5xx or transport failure (doubles, with jitter), e.g. `"2s"`.
    pub backoff_base: String,
    /// Largest backoff step, e.g. `"2m"`.
    pub backoff_max: String,
    /// Longest one HTTP call may take, from sending it to the last byte of the answer, e.g.
    /// `"4m"` (above the service's own 3-minute query limit).
    pub request_timeout: String,
    /// With several tenants: hunting calls answered or being landed at once by this process,
    /// across tenants (each answer is held whole in memory while it lands).
    pub max_in_flight: u16,
    /// `hunt schedule` with several tenants: the first wait before a tenant that could not
    /// start (sign-in, state) tries again, e.g. `"1m"` (doubling, at most 30 minutes).
    pub tenant_retry: String,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            concurrency: 3,
            min_window: "1m".into(),
            max_retries: 4,
            throttle_deadline: "6h".into(),
            backoff_base: "2s".into(),
            backoff_max: "2m".into(),
            request_timeout: "4m".into(),
            max_in_flight: 32,
            tenant_retry: "1m".into(),
        }
    }
}

/// `[output]`: defaults for `--out` and `--format`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// A folder or an object-store URL (`az://…`, `abfss://…`, `s3://…`, `gs://…`).
    pub out: Option<String>,
    /// `parquet` or `delta`.
    pub format: Option<Format>,
    /// The unit of timestamp columns in Parquet files: `us` (default, read by every engine) or
    /// `ns` (the service's full 100 ns; Spark refuses it, Delta cannot hold it).
    pub timestamp_unit: crate::lake_types::TimestampUnit,
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
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            let at = e.span().map(|s| format!("{}: ", place(&text, s.start))).unwrap_or_default();
            err(format!("{at}{}", e.message()))
        })?;
        let at = |section: &str, key: &str, message: String| match key_place(&text, section, key) {
            Some(place) => err(format!("{place}: {message}")),
            None => err(message),
        };
        if let Err(e) = config.quota.validate() {
            let key = e.split_whitespace().nth(1).unwrap_or("").to_owned();
            return Err(at("quota", &key, e));
        }
        if !(1..=16).contains(&config.run.concurrency) {
            return Err(at(
                "run",
                "concurrency",
                format!(
                    "[run] concurrency must be between 1 and 16 (windows in flight at once), not {}",
                    config.run.concurrency
                ),
            ));
        }
        crate::tenant::check(&mut config.tenants, &config.quota, &|at| place(&text, at))
            .map_err(err)?;
        config.exec_options().map_err(err)?;
        config.request_timeout().map_err(err)?;
        config.output_target().map_err(err)?;
        config.tenant_retry().map_err(err)?;
        if config.run.max_in_flight == 0 {
            return Err(at(
                "run",
                "max_in_flight",
                "[run] max_in_flight must be at least 1".into(),
            ));
        }
        config.source = Some(path.to_owned());
        Ok(config)
    }

    /// Whether the file names several tenants (`[[tenant]]` tables).
    pub fn multi_tenant(&self) -> bool {
        !self.tenants.is_empty()
    }

    /// `[run] request_timeout`: at least a second.
    pub fn request_timeout(&self) -> Result<std::time::Duration, String> {
        at_least_a_second("[run] request_timeout", &self.run.request_timeout)
    }

    /// `[run] tenant_retry`: at least a second.
    pub fn tenant_retry(&self) -> Result<std::time::Duration, String> {
        at_least_a_second("[run] tenant_retry", &self.run.tenant_retry)
    }

    /// `[output] out`, parsed.
    pub fn output_target(&self) -> Result<Option<Target>, String> {
        self.output
            .out
            .as_deref()
            .map(|out| Target::parse(out).map_err(|e| format!("[output] out: {}", e.reason)))
            .transpose()
    }

    /// The executor options this file asks for.
    pub fn exec_options(&self) -> Result<ExecOptions, String> {
        let duration = |key: &str, v: &str| {
            crate::timespan::parse_duration(v).map_err(|e| format!("[run] {key}: {e}"))
        };
        let std = |key: &str, v: &str| -> Result<std::time::Duration, String> {
            duration(key, v)?.to_std().map_err(|e| format!("[run] {key}: {e}"))
        };
        let deadline = std("throttle_deadline", &self.run.throttle_deadline)?;
        Ok(ExecOptions {
            concurrency: usize::from(self.run.concurrency.max(1)),
            min_window: duration("min_window", &self.run.min_window)?,
            max_retries: self.run.max_retries,
            throttle_deadline: deadline,
            backoff_base: std("backoff_base", &self.run.backoff_base)?,
            backoff_max: std("backoff_max", &self.run.backoff_max)?,
            ..ExecOptions::default()
        })
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

/// A duration setting `key` of at least one second.
fn at_least_a_second(key: &str, value: &str) -> Result<std::time::Duration, String> {
    let d = crate::timespan::parse_duration(value)
        .map_err(|e| format!("{key}: {e}"))?
        .to_std()
        .map_err(|e| format!("{key}: {e}"))?;
    if d < std::time::Duration::from_secs(1) {
        return Err(format!("{key} must be at least 1s, not {value:?}"));
    }
    Ok(d)
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
        assert_eq!(c.exec_options().unwrap().min_window, chrono::Duration::seconds(30));
        assert_eq!(c.request_timeout().unwrap(), std::time::Duration::from_secs(240));
        let (_d, p) = write("[run]\nrequest_timeout = \"2s\"\n");
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.request_timeout().unwrap(), std::time::Duration::from_secs(2));
    }

    #[test]
    fn request_timeout_must_be_a_usable_duration() {
        for bad in ["\"soon\"", "\"0s\"", "\"500ms\"", "\"-4m\""] {
            let (_d, p) = write(&format!("[run]\nrequest_timeout = {bad}\n"));
            let e = Config::load(&p, true).unwrap_err().to_string();
            assert!(e.contains("request_timeout"), "{bad}: {e}");
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
        assert!(e.contains("min_window"), "{e}");
    }

    #[test]
    fn output_section_gives_defaults_for_out_and_format() {
        let (_d, p) = write("[output]\nout = \"az://lake/hunt\"\nformat = \"delta\"\n");
        let c = Config::load(&p, true).unwrap();
        assert_eq!(c.output_target().unwrap().unwrap().to_string(), "az://lake/hunt");
        assert_eq!(c.output.format, Some(Format::Delta));
        let (_d, p) = write("[output]\nout = \"ftp://x/y\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("[output] out") && e.contains("unknown scheme"), "{e}");
        let (_d, p) = write("[output]\nformat = \"csv\"\n");
        let e = Config::load(&p, true).unwrap_err().to_string();
        assert!(e.contains("csv"), "{e}");
        let (_d, p) = write("[output]\nfolder = \"x\"\n");
        assert!(Config::load(&p, true).is_err());
        assert_eq!(Config::default().output_target().unwrap(), None);
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
    fn a_missing_optional_file_gives_defaults() {
        let c = Config::load(Path::new("/nonexistent/hunt.toml"), false).unwrap();
        assert_eq!(c.quota, Limits::default());
        assert!(Config::load(Path::new("/nonexistent/hunt.toml"), true).is_err());
    }
}
