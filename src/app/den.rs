//! `hunt den sync`: Defender Experts Notifications in, one query file per distinct recommended
//! hunting query out, incrementally from a saved watermark; with `[[tenant]]` tables, every
//! selected tenant in turn, each into `QUERIES/<name>/`.

use super::tenants::Target;
use crate::cli::{DenCommand, DenSyncArgs};
use crate::clock::TokioClock;
use crate::config::Config;
use crate::cron::Cron;
use crate::den::store::{DenQuery, DenStore, Saved};
use crate::den::sync::{self, Recognised};
use anyhow::Context as _;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

pub(super) async fn den(command: DenCommand, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        DenCommand::Sync(args) => den_sync(args, config).await,
        DenCommand::List(args) => super::den_show::list(args, config),
        DenCommand::Show(args) => super::den_show::show(args, config),
    }
}

/// The latest `lastUpdateDateTime` already synced, from a tenant's watermark file
/// (`den-<tenant>.json` in the state folder).
fn read_watermark(path: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v.get("last_update").and_then(|w| w.as_str()).map(str::to_owned)
}

fn write_watermark(path: &Path, watermark: &str) -> std::io::Result<()> {
    crate::fsutil::write_atomic(path, json!({ "last_update": watermark }).to_string().as_bytes())
}

async fn den_sync(args: DenSyncArgs, config: Config) -> anyhow::Result<ExitCode> {
    if let Some(s) = &args.schedule {
        Cron::parse(s).with_context(|| format!("--schedule {s:?}"))?;
    }
    let targets = super::tenants::targets(&args.select, args.emulator, &config).await?;
    // DEN lifecycle events go to the [[notify]] tables that ask for them (den_events).
    let notify = super::notify::Notify::new(&config, &[])?;
    for name in notify.notifiers.den_unusable() {
        eprintln!(
            "warning: notifier {name:?} asks for DEN events but its variable (url_env) does not \
             hold a usable webhook URL: it is not told"
        );
    }
    let (mut ran, mut not_run, mut failures, mut docs) = (0usize, 0usize, false, Vec::new());
    let mut out = std::io::stdout().lock();
    // One tenant after the other: each saves under its own folder, with its own watermark.
    for t in &targets.list {
        let queries = match &t.name {
            Some(n) => args.queries.join(n),
            None => args.queries.clone(),
        };
        let synced = match t.reported(sync_tenant(t, &args, &queries, &notify)).await {
            Ok(s) => s,
            // The environment's one tenant: nothing can run (exit 2).
            Err(e) if !targets.multi => return Err(e),
            Err(e) => {
                not_run += 1;
                docs.push(json!({ "name": t.name, "error": format!("{e:#}") }));
                continue;
            }
        };
        ran += 1;
        let Some(synced) = synced else {
            failures = true;
            continue;
        };
        failures |= synced.failed > 0;
        if args.json {
            let mut doc = synced.to_json();
            if targets.multi {
                doc["name"] = json!(t.name);
                docs.push(doc);
            } else {
                writeln!(out, "{doc}")?;
            }
        } else {
            synced.write_text(&mut out, &t.who(), &queries)?;
        }
    }
    if args.json && targets.multi {
        writeln!(out, "{}", json!({ "tenants": docs }))?;
    }
    Ok(super::tenants::exit_code(not_run, ran, failures))
}

/// What one tenant's sync did.
struct Synced {
    since: Option<String>,
    scan: sync::Scan,
    kinds: BTreeMap<Recognised, usize>,
    new: Vec<PathBuf>,
    /// Already in the folder before this sync.
    present: usize,
    /// The same query as one this sync saved (DENs repeat their recommendations).
    repeated: usize,
    failed: usize,
    /// The lifecycle events recorded: incident id → events.
    events: BTreeMap<String, Vec<&'static str>>,
    /// Notifications not delivered yet (tried again by the next sync or `hunt schedule`).
    undelivered: usize,
}

/// Syncs one tenant's DENs into `queries`; None when the scan stopped (reported: nothing
/// saved, the watermark kept).
async fn sync_tenant(
    target: &Target,
    args: &DenSyncArgs,
    queries: &Path,
    notify: &super::notify::Notify,
) -> anyhow::Result<Option<Synced>> {
    let clock: Arc<dyn crate::clock::Clock> = Arc::new(TokioClock::new());
    let (client, tenant_id) = target.sign_in(false, Arc::clone(&clock)).await?;
    let state = super::notify::open_state(&target.state_file("schedule", &tenant_id, "sqlite"))?;
    let known = state.dens()?.into_iter().map(|d| d.incident.id).collect();
    // A private emulator starts empty: its watermark must not be confused with a tenant's.
    let watermark_path = (!target.emulated).then(|| target.state_file("den", &tenant_id, "json"));
    let since = match (&watermark_path, args.full) {
        (Some(p), false) => read_watermark(p),
        _ => None,
    };
    let scan = match sync::scan_knowing(&client, since.as_deref(), &known).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "error: {}DEN sync stopped, nothing saved and the watermark kept: {e}",
                target.who()
            );
            return Ok(None);
        }
    };
    let store = DenStore::new(queries);
    let mut synced = Synced {
        since,
        scan,
        kinds: BTreeMap::new(),
        new: Vec::new(),
        present: 0,
        repeated: 0,
        failed: 0,
        events: BTreeMap::new(),
        undelivered: 0,
    };
    // Each DEN's state and lifecycle events, queued for the notifiers that ask for them.
    let label = target.name.clone().unwrap_or_else(|| tenant_id.clone());
    let observed = crate::den::watch::record(
        &state,
        &synced.scan,
        &notify.notifiers,
        &label,
        clock.as_ref(),
        &BTreeMap::new(),
    )
    .context("cannot record the DENs")?;
    for o in observed.into_iter().filter(|o| !o.events.is_empty()) {
        synced.events.insert(o.incident_id, o.events.iter().map(|e| e.as_str()).collect());
    }
    if notify.notifiers.wants_den_events() {
        let courier = crate::notify::courier::Courier::new(
            Arc::clone(&state),
            Arc::clone(&notify.notifiers),
            Arc::clone(&clock),
            notify.backoff,
        )?;
        synced.undelivered = courier.drain(std::time::Duration::from_secs(30)).await?;
        if synced.undelivered > 0 {
            eprintln!(
                "warning: {}{} notification(s) not delivered yet (see `hunt status`); the next \
                 hunt den sync or hunt schedule of this tenant tries again",
                target.who(),
                synced.undelivered
            );
        }
    }
    for den in synced.scan.dens.values() {
        *synced.kinds.entry(den.recognised).or_default() += 1;
        for kql in &den.queries {
            let q = DenQuery::of(den, kql);
            match store.save(&q, args.schedule.as_deref()) {
                Ok(Saved::New(path)) => synced.new.push(path),
                Ok(Saved::AlreadyPresent(path)) if synced.new.contains(&path) => {
                    synced.repeated += 1
                }
                Ok(Saved::AlreadyPresent(_)) => synced.present += 1,
                Err(e) => {
                    synced.failed += 1;
                    eprintln!(
                        "error: {}incident {}: cannot save its query: {e}",
                        target.who(),
                        den.id
                    );
                }
            }
        }
    }
    // The watermark moves only once everything up to it is saved.
    if synced.failed == 0
        && let (Some(path), Some(w)) = (&watermark_path, &synced.scan.watermark)
    {
        write_watermark(path, w).with_context(|| format!("cannot save {}", path.display()))?;
    }
    Ok(Some(synced))
}

impl Synced {
    fn kind(&self, k: Recognised) -> usize {
        self.kinds.get(&k).copied().unwrap_or(0)
    }

    fn to_json(&self) -> serde_json::Value {
        let scan = &self.scan;
        json!({
            "since": self.since, "watermark": scan.watermark,
            "incidents_seen": scan.incidents_seen, "alerts_seen": scan.alerts_seen,
            "pages": scan.pages, "throttled": scan.throttled,
            "pages_unreadable": scan.skipped_pages,
            "queries_unreadable": scan.dens.values().map(|d| d.skipped_queries).sum::<usize>(),
            "dens": { "title_prefix": self.kind(Recognised::TitlePrefix),
                      "system_tag": self.kind(Recognised::SystemTag),
                      "experts_alert": self.kind(Recognised::ExpertsAlert) },
            "queries_new": self.new, "queries_present": self.present,
            "queries_repeated": self.repeated,
            "queries_failed": self.failed,
            "events": self.events,
            "notifications_undelivered": self.undelivered,
        })
    }

    fn write_text(&self, out: &mut impl Write, who: &str, queries: &Path) -> std::io::Result<()> {
        for p in &self.new {
            writeln!(out, "new  {}", p.display())?;
        }
        writeln!(
            out,
            "{who}{} incidents and {} alerts read{}: {} DENs ({} by title, {} by system tag, {} \
             through a Defender Experts alert); {} saved under {}, {} already there, {} \
             repeating one saved in this sync",
            self.scan.incidents_seen,
            self.scan.alerts_seen,
            self.since.as_deref().map(|s| format!(" (changed since {s})")).unwrap_or_default(),
            self.scan.dens.len(),
            self.kind(Recognised::TitlePrefix),
            self.kind(Recognised::SystemTag),
            self.kind(Recognised::ExpertsAlert),
            crate::report::count(self.new.len(), "new query", "new queries"),
            queries.display(),
            self.present,
            self.repeated
        )?;
        for (id, events) in &self.events {
            writeln!(out, "{who}DEN {id}: {}", events.join(", "))?;
        }
        let unreadable: usize = self.scan.dens.values().map(|d| d.skipped_queries).sum();
        if self.scan.skipped_pages + unreadable > 0 {
            writeln!(
                out,
                "warning: {who}{} pages without a `value` list and {unreadable} recommended queries \
                 without a kqlText text were left out",
                self.scan.skipped_pages
            )?;
        }
        Ok(())
    }
}
