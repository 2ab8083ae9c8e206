//! `hunt den list` and `hunt den show ID`: the Defender Experts Notifications kept in the
//! tenant's state file (by `hunt den sync` and `hunt schedule`), with their state, their history
//! of changes and the windows hunt ran of their recommended queries.

use super::status::{Source, sources};
use crate::cli::{DenListArgs, DenShowArgs};
use crate::config::Config;
use crate::den::sync::DenIncident;
use crate::schedule::state::StateStore;
use crate::schedule::state::den::{DenChange, KeptDen};
use crate::schedule::state::{RunRecord, StateError};
use crate::timespan::format_datetime;
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::ExitCode;

fn open(source: &Source) -> anyhow::Result<StateStore> {
    StateStore::open_read_only(&source.path)
        .with_context(|| format!("cannot read {}", source.path.display()))
}

fn den_json(d: &KeptDen) -> Value {
    let i = &d.incident;
    json!({
        "incident_id": i.id, "title": i.title, "severity": i.severity, "status": i.status,
        "assigned_to": i.assigned_to, "classification": i.classification,
        "determination": i.determination, "summary": i.description,
        "recommended_actions": i.recommended_actions, "recommended_queries": i.queries,
        "incident_url": i.url, "created": i.created, "last_update": i.last_update,
        "recognised": i.recognised, "first_seen": format_datetime(d.first_seen),
        "seen": format_datetime(d.seen),
    })
}

fn change_json(c: &DenChange) -> Value {
    json!({
        "last_update": c.last_update, "seen": format_datetime(c.seen),
        "changes": c.changes, "events": c.events,
    })
}

fn run_json(r: &RunRecord) -> Value {
    json!({
        "query_id": r.query_id, "window_start": format_datetime(r.window.start),
        "window_end": format_datetime(r.window.end), "status": r.status.as_str(),
        "rows": r.rows, "files": r.files,
    })
}

/// The runs of the queries saved from DEN `id` (`den-<id>-<hash>`), newest first.
fn runs_of(state: &StateStore, id: &str) -> Result<Vec<RunRecord>, StateError> {
    let prefix = format!("den-{}-", crate::query::slug_within(id, 87));
    Ok(state
        .history(None, usize::MAX)?
        .into_iter()
        .filter(|r| r.query_id.starts_with(&prefix))
        .collect())
}

fn or(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

/// `hunt den list`.
pub(super) fn list(args: DenListArgs, config: Config) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let mut docs = Vec::new();
    for source in sources(&args.select, args.emulator, &config)? {
        let dens = open(&source)?.dens()?;
        if args.json {
            docs.extend(dens.iter().map(|d| {
                let mut v = den_json(d);
                v["tenant"] = json!(source.name);
                v
            }));
            continue;
        }
        let who = source.name.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
        for d in &dens {
            let i: &DenIncident = &d.incident;
            writeln!(
                out,
                "{who}{:<10} {:<14} {:<16} {:<8} {}  {}",
                i.id,
                or(&i.status),
                or(&i.assigned_to),
                or(&i.severity),
                or(&i.last_update),
                i.title
            )?;
        }
        if dens.is_empty() {
            writeln!(
                out,
                "{who}no DENs kept yet (hunt den sync, or hunt schedule with den_events)"
            )?;
        }
    }
    if args.json {
        writeln!(out, "{}", json!({ "dens": docs }))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `hunt den show ID`.
pub(super) fn show(args: DenShowArgs, config: Config) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    for source in sources(&args.select, args.emulator, &config)? {
        let state = open(&source)?;
        let Some(d) = state.dens()?.into_iter().find(|d| d.incident.id == args.id) else {
            continue;
        };
        let history = state.den_history(&args.id)?;
        let runs = runs_of(&state, &args.id)?;
        if args.json {
            let mut v = den_json(&d);
            v["tenant"] = json!(source.name);
            v["history"] = history.iter().map(change_json).collect();
            v["runs"] = runs.iter().map(run_json).collect();
            writeln!(out, "{v}")?;
            return Ok(ExitCode::SUCCESS);
        }
        let i = &d.incident;
        writeln!(out, "DEN {}: {}", i.id, i.title)?;
        for (k, v) in [
            ("severity", &i.severity),
            ("status", &i.status),
            ("assigned to", &i.assigned_to),
            ("classification", &i.classification),
            ("determination", &i.determination),
            ("created", &i.created),
            ("last update", &i.last_update),
            ("url", &i.url),
        ] {
            writeln!(out, "  {k:<15} {}", or(v))?;
        }
        for (k, v) in [("summary", &i.description), ("actions", &i.recommended_actions)] {
            if let Some(v) = v {
                writeln!(out, "  {k:<15} {v}")?;
            }
        }
        writeln!(out, "  queries         {}", i.queries.len())?;
        writeln!(out, "history:")?;
        for c in &history {
            let fields: Vec<&str> = c.changes.keys().map(String::as_str).collect();
            let events: Vec<&str> = c.events.iter().map(|e| e.as_str()).collect();
            writeln!(
                out,
                "  {}  changed: {}{}",
                c.last_update,
                fields.join(", "),
                if events.is_empty() {
                    String::new()
                } else {
                    format!("  events: {}", events.join(", "))
                }
            )?;
        }
        writeln!(out, "runs:")?;
        if runs.is_empty() {
            writeln!(out, "  none yet")?;
        }
        for r in &runs {
            writeln!(
                out,
                "  {} {} {} rows, {} files ({})",
                r.query_id,
                r.window,
                r.rows,
                r.files.len(),
                r.status.as_str()
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    bail!("no DEN {:?} is kept (hunt den list shows those that are)", args.id)
}
