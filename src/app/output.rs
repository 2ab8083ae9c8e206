//! The destination of `hunt run` and `hunt schedule`: `--out`/`--format`, else hunt.toml
//! `[output]`, else `output/` as Parquet; opened with the process environment's storage
//! credentials, cleaned of dead processes' temporary files, and checked before anything runs.

use crate::config::Config;
use crate::output::{Destination, Format};
use anyhow::Context as _;
use std::ffi::OsStr;
use std::sync::Arc;

/// Opens the destination; every error here means nothing ran (exit 2). A refused `--out` is
/// shown without its query string or password.
pub(super) async fn destination(
    out: Option<&OsStr>,
    format: Option<Format>,
    config: &Config,
) -> anyhow::Result<Arc<Destination>> {
    let target = super::settings::target(out, config)?;
    let format = super::settings::format(format, config);
    // Variables that are not UTF-8 cannot be storage settings: they are skipped.
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let spool = super::state_dir().join("spool");
    let dest = Destination::open(target, format, &spool, &env)?
        .with_timestamp_unit(config.output.timestamp_unit)
        .context("[output] timestamp_unit")?;
    dest.remove_stale_temps();
    dest.check().await.context("the destination does not answer; nothing was run")?;
    Ok(Arc::new(dest))
}
