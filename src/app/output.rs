//! The destination of `hunt run` and `hunt schedule`: `--out`/`--format`, else hunt.toml
//! `[output]`, else `output/` as Parquet; opened with the process environment's storage
//! credentials (else hunt's own sign-in, for Azure), cleaned of dead processes' temporary files, and checked before anything runs.

use crate::config::Config;
use crate::graph::Settings;
use crate::output::{Destination, Format, SharedCredential, StoreKind, Target};
use anyhow::Context as _;
use std::ffi::OsStr;
use std::sync::Arc;

/// Opens the destination; every error here means nothing ran (exit 2). A refused `--out` is
/// shown without its query string or password. `signer` gives the Graph sign-in that an Azure
/// store without a credential of its own uses too (asked only for an Azure store).
pub(super) async fn destination(
    out: Option<&OsStr>,
    format: Option<Format>,
    config: &Config,
    signer: &dyn Fn() -> Option<Settings>,
) -> anyhow::Result<Arc<Destination>> {
    let target = super::settings::target(out, config)?;
    let shared = match &target {
        Target::Remote(r) if r.kind == StoreKind::Azure => signer().and_then(|s| {
            SharedCredential::for_storage(&s, Arc::new(crate::clock::TokioClock::new())).ok()
        }),
        _ => None,
    };
    let format = super::settings::format(format, config);
    // Variables that are not UTF-8 cannot be storage settings: they are skipped.
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let spool = super::state_dir().join("spool");
    let dest = Destination::open_signed(target, format, &spool, &env, shared)?
        .with_timestamp_unit(config.output.timestamp_unit)
        .context("[output] timestamp_unit")?;
    dest.remove_stale_temps();
    dest.check().await.context("the destination does not answer; nothing was run")?;
    Ok(Arc::new(dest))
}

/// The environment's Graph sign-in, unless the Graph side is an emulator (whose made-up
/// credentials mean nothing to a real store): what an Azure store without a credential of its
/// own signs in with.
pub(super) fn environment_signer(emulator: bool) -> impl Fn() -> Option<Settings> {
    move || (!emulator).then(|| Settings::from_env(super::environment).ok()).flatten()
}
