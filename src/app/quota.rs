//! `hunt quota`: the tenant's ledger as the next call would see it.

use super::ledger_file;
use crate::cli::QuotaArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use std::io::Write as _;
use std::process::ExitCode;

pub(super) fn show_quota(args: QuotaArgs, config: Config) -> anyhow::Result<ExitCode> {
    let file = ledger_file(&args.tenant_id);
    let now = TokioClock::new().now_ms();
    let usage = file.load().unwrap_or_default().usage(now);
    let l = &config.quota;
    let mut out = std::io::stdout().lock();
    if args.json {
        let v = serde_json::json!({ "tenant": args.tenant_id, "ledger": file.path(), "usage": usage, "limits": l });
        writeln!(out, "{v}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mins = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
    writeln!(out, "tenant {} (ledger {})", args.tenant_id, file.path().display())?;
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
    Ok(ExitCode::SUCCESS)
}
