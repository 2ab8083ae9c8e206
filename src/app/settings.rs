//! Flags over the file, in one place: what a command line says wins over `hunt.toml`, which wins
//! over the defaults. [`crate::config::Config`] holds the file's values already typed; the
//! commands ask here for what they run with instead of each merging flags on its own (ripgrep's
//! low-level arguments to high-level settings).

use crate::config::Config;
use crate::executor::ExecOptions;
use crate::output::{Format, Target};
use std::ffi::OsStr;

/// The folder results go to when neither `--out` nor `[output] out` says.
const DEFAULT_OUT: &str = "output";

/// How hard the executor tries: `[run]`, with `--concurrency` over it.
/// `no_validate`: send queries the parser rejects (`--no-validate`).
pub(super) fn exec_options(
    config: &Config,
    concurrency: Option<u16>,
    no_validate: bool,
) -> ExecOptions {
    let run = &config.run;
    ExecOptions {
        concurrency: usize::from(concurrency.unwrap_or(run.concurrency).max(1)),
        min_window: run.min_window,
        max_retries: run.max_retries,
        throttle_deadline: run.throttle_deadline,
        backoff_base: run.backoff_base,
        backoff_max: run.backoff_max,
        send_invalid: no_validate,
        ..ExecOptions::default()
    }
}

/// Where results go: `--out`, else `[output] out`, else `output/`. A `--out` that is not UTF-8
/// can only be a folder.
pub(super) fn target(out: Option<&OsStr>, config: &Config) -> anyhow::Result<Target> {
    Ok(match out {
        Some(out) => match out.to_str() {
            Some(text) => Target::parse(text)?,
            None => Target::Local(out.into()),
        },
        None => config.output.out.clone().unwrap_or_else(|| Target::Local(DEFAULT_OUT.into())),
    })
}

/// The files' format: `--format`, else `[output] format`, else Parquet.
pub(super) fn format(flag: Option<Format>, config: &Config) -> Format {
    flag.or(config.output.format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;

    /// `[run]`'s defaults (config) and the executor's own are written in two places, because
    /// config may not depend on the executor: they must say the same.
    #[test]
    fn the_file_s_defaults_are_the_executor_s() {
        let (from_file, own) =
            (exec_options(&Config::default(), None, false), ExecOptions::default());
        assert_eq!(from_file.concurrency, own.concurrency);
        assert_eq!(from_file.min_window, own.min_window);
        assert_eq!(from_file.max_retries, own.max_retries);
        assert_eq!(from_file.throttle_deadline, own.throttle_deadline);
        assert_eq!(from_file.backoff_base, own.backoff_base);
        assert_eq!(from_file.backoff_max, own.backoff_max);
        assert_eq!(from_file.default_estimate, own.default_estimate);
    }

    #[test]
    fn a_flag_beats_the_file_which_beats_the_default() {
        let mut config = Config::default();
        assert_eq!(exec_options(&config, None, false).concurrency, 3);
        config.run = RunConfig { concurrency: 7, ..RunConfig::default() };
        assert_eq!(exec_options(&config, None, false).concurrency, 7);
        assert_eq!(exec_options(&config, Some(2), false).concurrency, 2);
        assert_eq!(format(None, &config), Format::Parquet);
        config.output.format = Some(Format::Delta);
        assert_eq!(format(None, &config), Format::Delta);
        assert_eq!(format(Some(Format::Parquet), &config), Format::Parquet);
        assert_eq!(target(None, &config).unwrap().to_string(), "output");
        config.output.out = Some(Target::parse("az://lake/hunt").unwrap());
        assert_eq!(target(None, &config).unwrap().to_string(), "az://lake/hunt");
        let flag = OsStr::new("/data/x");
        assert_eq!(target(Some(flag), &config).unwrap().to_string(), "/data/x");
    }
}
