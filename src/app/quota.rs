//! `hunt quota`: a tenant's ledger as the next call would see it (every selected tenant's, with
//! `[[tenant]]` tables).

use super::ledger_file;
use crate::cli::QuotaArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::quota::Limits;
use crate::quota::ledger::Usage;
use crate::tenant::select::select;
use anyhow::Context as _;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

/// A ledger to show: the tenant's name (None: the environment's tenant), its id or why it is
/// not known, and its limits.
type Wanted = (Option<String>, Result<String, String>, Limits);

pub(super) fn show_quota(args: QuotaArgs, config: Config) -> anyhow::Result<ExitCode> {
    if args.emulator {
        return show_emulated(&args, &config);
    }
    let wanted: Vec<Wanted> = if let Some(id) = &args.tenant_id {
        vec![(None, Ok(id.clone()), config.quota.clone())]
    } else if config.multi_tenant() {
        let selection = select(&config.tenants, &args.select.tenants, args.select.shard)?;
        let var = |k: &str| std::env::var(k).ok();
        selection
            .tenants
            .iter()
            .map(|t| {
                let id = t.tenant_id(&var).map_err(|e| e.to_string());
                (Some(t.name().to_owned()), id, t.limits.clone())
            })
            .collect()
    } else {
        select(&config.tenants, &args.select.tenants, args.select.shard)?;
        let id = std::env::var("AZURE_TENANT_ID")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .context("which tenant? give --tenant-id ID or set AZURE_TENANT_ID")?;
        vec![(None, Ok(id), config.quota.clone())]
    };
    let multi = wanted.iter().any(|(name, _, _)| name.is_some());
    let now = TokioClock::new().now_ms();
    let mut out = std::io::stdout().lock();
    let (mut shown, mut failed, mut docs) = (0usize, 0usize, Vec::new());
    for (name, id, limits) in wanted {
        let id = match id {
            Ok(id) => id,
            Err(e) => {
                eprintln!("error: {e}");
                docs.push(json!({ "name": name, "error": e }));
                failed += 1;
                continue;
            }
        };
        let file = ledger_file(&id);
        // As the next call would see it: calls of processes that are gone are ended first.
        let mut ledger = file.load().unwrap_or_default();
        ledger.reap_dead(now, crate::quota::process::is_alive);
        let usage = ledger.usage(now);
        shown += 1;
        if args.json {
            let mut v =
                json!({ "tenant": id, "ledger": file.path(), "usage": usage, "limits": limits });
            if multi {
                v["name"] = json!(name);
            }
            docs.push(v);
            continue;
        }
        if shown > 1 {
            writeln!(out)?;
        }
        let heading = match &name {
            Some(n) => format!("tenant {n} ({id}, ledger {})", file.path().display()),
            None => format!("tenant {id} (ledger {})", file.path().display()),
        };
        write_usage(&mut out, &heading, &usage, &limits, now)?;
    }
    if args.json && multi {
        writeln!(out, "{}", json!({ "tenants": docs }))?;
    } else if let (true, Some(doc)) = (args.json, docs.first()) {
        writeln!(out, "{doc}")?;
    }
    Ok(super::tenants::exit_code(failed, shown, false))
}

fn write_usage(
    out: &mut impl Write,
    heading: &str,
    usage: &Usage,
    l: &Limits,
    now: i64,
) -> std::io::Result<()> {
    let mins = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
    writeln!(out, "{heading}")?;
    writeln!(out, "  calls this minute     {:>8} of {}", usage.calls_minute, l.calls_per_minute)?;
    writeln!(out, "  calls this hour       {:>8} of {}", usage.calls_hour, l.calls_per_hour)?;
    writeln!(
        out,
        "  execution this hour   {:>12} of {}",
        mins(usage.exec_hour_ms),
        mins(l.exec_per_hour_ms())
    )?;
    writeln!(
        out,
        "  execution this day    {:>12} of {}",
        mins(usage.exec_day_ms),
        mins(l.exec_per_day_ms())
    )?;
    writeln!(out, "  calls in flight       {:>8}", usage.in_flight)?;
    if let Some(until) = usage.paused_until_ms {
        writeln!(out, "  paused by a 429 for   {:>7.1}s", (until - now) as f64 / 1000.0)?;
    }
    Ok(())
}

/// `hunt quota --emulator`: the built-in emulator's budgets. Each `--emulator` process starts its
/// own emulator and governor in memory, so no ledger outlives or is shared between them.
fn show_emulated(args: &QuotaArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let note = "each `--emulator` process keeps its own quota ledger in memory, so there is no \
                shared ledger to read: these are the budgets every such run starts with";
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = json!({ "tenant": crate::emulator::TENANT_ID, "emulated": true,
                        "limits": config.quota, "usage": null, "note": note });
        writeln!(out, "{v}")?;
    } else {
        let l = &config.quota;
        let mins = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
        writeln!(out, "built-in emulator (tenant {})", crate::emulator::TENANT_ID)?;
        writeln!(out, "  calls a minute        {:>8}", l.calls_per_minute)?;
        writeln!(out, "  calls an hour         {:>8}", l.calls_per_hour)?;
        writeln!(out, "  execution an hour     {:>12}", mins(l.exec_per_hour_ms()))?;
        writeln!(out, "  execution a day       {:>12}", mins(l.exec_per_day_ms()))?;
        writeln!(out, "note: {note}")?;
    }
    Ok(ExitCode::SUCCESS)
}
