//! `hunt den sync`: Defender Experts Notifications in, one query file per distinct recommended
//! hunting query out, incrementally from a saved watermark.

use crate::cli::{DenCommand, DenSyncArgs};
use crate::config::Config;
use crate::cron::Cron;
use crate::den::store::{DenQuery, DenStore, Saved};
use crate::den::sync::{self, Recognised};
use anyhow::Context as _;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) async fn den(command: DenCommand, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        DenCommand::Sync(args) => den_sync(args, config).await,
    }
}

/// The watermark file of a tenant: the latest `lastUpdateDateTime` already synced.
fn watermark_file(tenant_id: &str) -> PathBuf {
    let tenant = crate::query::slug(&tenant_id.to_ascii_lowercase());
    super::state_dir().join(format!("den-{tenant}.json"))
}

fn read_watermark(path: &PathBuf) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v.get("last_update").and_then(|w| w.as_str()).map(str::to_owned)
}

fn write_watermark(path: &PathBuf, watermark: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json!({ "last_update": watermark }).to_string())?;
    std::fs::rename(&tmp, path)
}

async fn den_sync(args: DenSyncArgs, config: Config) -> anyhow::Result<ExitCode> {
    if let Some(s) = &args.schedule {
        Cron::parse(s).with_context(|| format!("--schedule {s:?}"))?;
    }
    let (settings, emulator) = super::connect(args.emulator, &config).await?;
    // A private emulator starts empty: its watermark must not be confused with a tenant's.
    let watermark_path = match &emulator {
        Some(_) => None,
        None => Some(watermark_file(&settings.auth.tenant_id)),
    };
    let client = super::signed_in(settings).await?;
    let since = match (&watermark_path, args.full) {
        (Some(p), false) => read_watermark(p),
        _ => None,
    };
    let scan = match sync::scan(&client, since.as_deref()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: DEN sync stopped, nothing saved and the watermark kept: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let store = DenStore::new(&args.queries);
    let (mut new, mut present, mut failed) = (Vec::new(), 0usize, 0usize);
    let mut kinds: BTreeMap<Recognised, usize> = BTreeMap::new();
    for den in scan.dens.values() {
        *kinds.entry(den.recognised).or_default() += 1;
        for kql in &den.queries {
            let q = DenQuery {
                incident_id: den.id.clone(),
                title: den.title.clone(),
                url: den.url.clone(),
                severity: den.severity.clone(),
                status: den.status.clone(),
                created: den.created.clone(),
                kql: kql.clone(),
            };
            match store.save(&q, args.schedule.as_deref()) {
                Ok(Saved::New(path)) => new.push(path),
                Ok(Saved::AlreadyPresent(_)) => present += 1,
                Err(e) => {
                    failed += 1;
                    eprintln!("error: incident {}: cannot save its query: {e}", den.id);
                }
            }
        }
    }
    // The watermark moves only once everything up to it is saved.
    if failed == 0
        && let (Some(path), Some(w)) = (&watermark_path, &scan.watermark)
    {
        write_watermark(path, w).with_context(|| format!("cannot save {}", path.display()))?;
    }
    let kind = |k| kinds.get(&k).copied().unwrap_or(0);
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({
            "since": since, "watermark": scan.watermark,
            "incidents_seen": scan.incidents_seen, "alerts_seen": scan.alerts_seen,
            "pages": scan.pages, "throttled": scan.throttled,
            "dens": { "title_prefix": kind(Recognised::TitlePrefix), "system_tag": kind(Recognised::SystemTag),
                      "experts_alert": kind(Recognised::ExpertsAlert) },
            "queries_new": new, "queries_present": present, "queries_failed": failed,
        });
        writeln!(out, "{v}")?;
    } else {
        for p in &new {
            writeln!(out, "new  {}", p.display())?;
        }
        writeln!(
            out,
            "{} incidents and {} alerts read{}: {} DENs ({} by title, {} by system tag, {} through \
             a Defender Experts alert); {} new queries saved under {}, {} already there",
            scan.incidents_seen,
            scan.alerts_seen,
            since.as_deref().map(|s| format!(" (changed since {s})")).unwrap_or_default(),
            scan.dens.len(),
            kind(Recognised::TitlePrefix),
            kind(Recognised::SystemTag),
            kind(Recognised::ExpertsAlert),
            new.len(),
            args.queries.display(),
            present
        )?;
    }
    Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
