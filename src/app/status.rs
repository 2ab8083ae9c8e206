//! `hunt status`: the state of `hunt schedule` (watermarks, last runs, failures, next fires),
//! read while the daemon writes it; every selected tenant's with `[[tenant]]` tables.

use crate::cli::StatusArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::cron::Cron;
use crate::library;
use crate::schedule::state::outbox::{Note, NoteStatus};
use crate::schedule::state::{QueryState, StateStore};
use crate::schedule::status::render_status;
use crate::tenant::select::select;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn status(args: StatusArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let selection = select(&config.tenants, &args.select.tenants, args.select.shard)?;
    let now = TokioClock::new().now();
    let next: BTreeMap<String, Option<DateTime<Utc>>> = library::load(&args.paths)
        .queries
        .iter()
        .filter(|q| q.enabled)
        .filter_map(|q| {
            let cron = Cron::parse(q.schedule.as_deref()?).ok()?;
            Some((q.id.clone(), cron.next_after(now)))
        })
        .collect();
    if !config.multi_tenant() {
        let tenant = if args.emulator {
            String::new()
        } else {
            std::env::var("AZURE_TENANT_ID").context(
                "AZURE_TENANT_ID is not set: hunt status shows that tenant's schedule (or use --emulator)",
            )?
        };
        let path = super::tenants::state_file("schedule", None, args.emulator, &tenant, "sqlite");
        let (states, notes) = read(&path)?;
        render_status(&states, &next, &notes, &mut std::io::stdout().lock(), args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    let (mut shown, mut failed, mut docs) = (0usize, 0usize, Vec::new());
    for t in selection.tenants {
        let path =
            super::tenants::state_file("schedule", Some(t.name()), args.emulator, "", "sqlite");
        let (states, notes) = match read(&path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: tenant {}: {e:#}", t.name());
                failed += 1;
                continue;
            }
        };
        shown += 1;
        if args.json {
            let mut text = Vec::new();
            render_status(&states, &next, &notes, &mut text, true)?;
            let mut doc: serde_json::Value = serde_json::from_slice(&text)?;
            doc["name"] = t.name().into();
            docs.push(doc);
        } else {
            if shown > 1 {
                writeln!(out)?;
            }
            writeln!(out, "tenant {} ({})", t.name(), path.display())?;
            render_status(&states, &next, &notes, &mut out, false)?;
        }
    }
    if args.json {
        writeln!(out, "{}", serde_json::json!({ "tenants": docs }))?;
    }
    Ok(super::tenants::exit_code(failed, shown, false))
}

/// The summary of a state file, and its notifications not delivered.
fn read(path: &Path) -> anyhow::Result<(Vec<QueryState>, Vec<Note>)> {
    let state = StateStore::open_read_only(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let notes = state.notes(&[NoteStatus::Pending, NoteStatus::Failed])?;
    Ok((state.summary()?, notes))
}
