//! `hunt status` and `hunt history`: the state of `hunt schedule` (whether its daemon runs,
//! watermarks, last runs, failures, next fires; the runs it recorded), read while the daemon
//! writes it; every selected tenant's with `[[tenant]]` tables.

use crate::cli::{HistoryArgs, StatusArgs, TenantArgs};
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::cron::Cron;
use crate::library;
use crate::schedule::heartbeat::DaemonRecord;
use crate::schedule::state::outbox::{Note, NoteStatus};
use crate::schedule::state::{QueryState, StateStore};
use crate::schedule::status::{render_history, render_status};
use crate::tenant::select::select;
use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One schedule state to show: the tenant's name (with `[[tenant]]` tables) and its file.
pub(super) struct Source {
    /// The `[[tenant]]`'s name.
    pub name: Option<String>,
    /// Its state file.
    pub path: PathBuf,
}

/// The state files the command shows: every selected `[[tenant]]`'s; else the emulator's with
/// `--emulator`; else AZURE_TENANT_ID's; else the only schedule state in the state folder.
pub(super) fn sources(
    select_args: &TenantArgs,
    emulator: bool,
    config: &Config,
) -> anyhow::Result<Vec<Source>> {
    if config.multi_tenant() {
        let selection = select(&config.tenants, &select_args.tenants, select_args.shard)?;
        return Ok(selection
            .tenants
            .iter()
            .map(|t| Source {
                name: Some(t.name().to_owned()),
                path: super::tenants::state_file(
                    "schedule",
                    Some(t.name()),
                    emulator,
                    "",
                    "sqlite",
                ),
            })
            .collect());
    }
    let one = |tenant: &str, emulated: bool| {
        vec![Source {
            name: None,
            path: super::tenants::state_file("schedule", None, emulated, tenant, "sqlite"),
        }]
    };
    if emulator {
        return Ok(one("", true));
    }
    if let Ok(tenant) = std::env::var("AZURE_TENANT_ID") {
        return Ok(one(&tenant, false));
    }
    let dir = super::state_dir();
    let mut found = super::state_files("schedule-", ".sqlite");
    match found.len() {
        0 => bail!(
            "no schedule state in {}: `hunt schedule` has not run with this state folder \
             (HUNT_STATE_DIR)",
            dir.display()
        ),
        1 => Ok(vec![Source { name: None, path: found.remove(0) }]),
        _ => bail!(
            "{} schedule states in {} ({}): say which with --emulator, or AZURE_TENANT_ID",
            found.len(),
            dir.display(),
            found
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub(super) fn status(args: StatusArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let sources = sources(&args.select, args.emulator, config)?;
    let now = TokioClock::new().now();
    let mut out = std::io::stdout().lock();
    let (mut shown, mut failed, mut docs) = (0usize, 0usize, Vec::new());
    let several = config.multi_tenant();
    for source in sources {
        let (states, daemon, notes) = match read(&source.path) {
            Ok(s) => s,
            Err(e) if several => {
                eprintln!("error: tenant {}: {e:#}", source.name.as_deref().unwrap_or("-"));
                failed += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let next = next_fires(&args.paths, daemon.as_ref(), now);
        shown += 1;
        if args.json && several {
            let mut text = Vec::new();
            render_status(&states, daemon.as_ref(), &next, &notes, &mut text, true)?;
            let mut doc: serde_json::Value = serde_json::from_slice(&text)?;
            doc["name"] = source.name.clone().into();
            docs.push(doc);
            continue;
        }
        if several {
            if shown > 1 {
                writeln!(out)?;
            }
            let name = source.name.as_deref().unwrap_or("-");
            writeln!(out, "tenant {name} ({})", source.path.display())?;
        }
        render_status(&states, daemon.as_ref(), &next, &notes, &mut out, args.json)?;
    }
    if args.json && several {
        writeln!(out, "{}", serde_json::json!({ "tenants": docs }))?;
    }
    Ok(super::tenants::exit_code(failed, shown, false))
}

pub(super) fn history(args: HistoryArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let sources = sources(&args.select, args.emulator, config)?;
    let mut out = std::io::stdout().lock();
    let several = config.multi_tenant();
    let mut docs = Vec::new();
    for source in sources {
        let store = StateStore::open_read_only(&source.path)
            .with_context(|| format!("cannot read {}", source.path.display()))?;
        let runs = store.history(args.query.as_deref(), args.limit)?;
        if args.json {
            let mut text = Vec::new();
            render_history(&runs, &mut text, true)?;
            let mut doc: serde_json::Value = serde_json::from_slice(&text)?;
            if several {
                doc["name"] = source.name.clone().into();
                docs.push(doc);
            } else {
                writeln!(out, "{doc}")?;
            }
            continue;
        }
        if several {
            writeln!(out, "tenant {}", source.name.as_deref().unwrap_or("-"))?;
        }
        render_history(&runs, &mut out, false)?;
    }
    if args.json && several {
        writeln!(out, "{}", serde_json::json!({ "tenants": docs }))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Each query's next fire: the daemon's own queries when it recorded them (what it really
/// runs), unless paths are given; else the library at `paths` (default `queries/`).
fn next_fires(
    paths: &[PathBuf],
    daemon: Option<&DaemonRecord>,
    now: DateTime<Utc>,
) -> BTreeMap<String, Option<DateTime<Utc>>> {
    let next = |schedule: &str| Cron::parse(schedule).ok().and_then(|c| c.next_after(now));
    if paths.is_empty()
        && let Some(d) = daemon
    {
        return d.queries.iter().map(|q| (q.id.clone(), next(&q.schedule))).collect();
    }
    let default = [PathBuf::from("queries")];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    library::load(paths)
        .queries
        .iter()
        .filter(|q| q.enabled)
        .filter_map(|q| Some((q.id.clone(), next(q.schedule.as_deref()?))))
        .collect()
}

/// The summary of a state file, its daemon's record, and its notifications not delivered.
fn read(path: &Path) -> anyhow::Result<(Vec<QueryState>, Option<DaemonRecord>, Vec<Note>)> {
    let state = StateStore::open_read_only(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let notes = state.notes(&[NoteStatus::Pending, NoteStatus::Failed])?;
    Ok((state.summary()?, state.daemon()?, notes))
}
