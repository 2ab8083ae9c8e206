//! What a run tells its user: a progress bar on a terminal (nothing when output is piped), the
//! end-of-run summary table, the same summary as JSON for machines, and one `error:` line per
//! failure with where it happened and the service's request-id.

use crate::executor::Outcome;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

/// A progress bar over jobs, drawn on stderr only when it is a terminal.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `total` jobs; hidden unless `show` and stderr is a terminal.
    pub fn new(total: usize, show: bool) -> Progress {
        let target = if show && io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} queries {msg}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// Marks one job done.
    pub fn done(&self, outcome: &Outcome) {
        let status = if outcome.is_ok() { "ok" } else { "FAILED" };
        self.bar.set_message(format!("{} {status}", outcome.job.query.id));
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A load problem to list with the failures.
pub struct LoadFailure {
    /// `path:line:col: message`.
    pub text: String,
}

/// Totals over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Jobs that landed.
    pub ok: usize,
    /// Jobs that failed, plus files that did not load.
    pub failed: usize,
    /// Rows landed.
    pub rows: usize,
    /// Files written.
    pub files: usize,
}

/// Sums outcomes and load failures.
pub fn totals(outcomes: &[Outcome], load_failures: usize) -> Totals {
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    Totals {
        ok,
        failed: outcomes.len() - ok + load_failures,
        rows: outcomes.iter().map(|o| o.rows).sum(),
        files: outcomes.iter().map(|o| o.files.len()).sum(),
    }
}

/// Writes the human summary table and totals.
pub fn write_table(
    w: &mut impl Write,
    outcomes: &[Outcome],
    load_failures: &[LoadFailure],
    out_dir: &str,
    wall: Duration,
) -> io::Result<()> {
    let width = outcomes.iter().map(|o| o.job.query.id.len()).max().unwrap_or(5).max(5);
    writeln!(w, "{:<width$}  {:>10}  {:>5}  {:>8}  STATUS", "QUERY", "ROWS", "FILES", "TIME")?;
    for o in outcomes {
        let mut status = if !o.incomplete.is_empty() {
            "INCOMPLETE".to_owned()
        } else if o.error.is_some() {
            "FAILED".to_owned()
        } else {
            "ok".to_owned()
        };
        if o.parts > 1 {
            status.push_str(&format!(", {} parts", o.parts));
        }
        if o.throttled > 0 {
            status.push_str(&format!(", waited out {} throttling answers", o.throttled));
        }
        if o.mismatched_cells > 0 {
            status.push_str(&format!(
                ", {} cells did not match their type (kept as null/JSON text)",
                o.mismatched_cells
            ));
        }
        writeln!(
            w,
            "{:<width$}  {:>10}  {:>5}  {:>7.1}s  {status}",
            o.job.query.id,
            o.rows,
            o.files.len(),
            o.elapsed.as_secs_f64()
        )?;
    }
    let t = totals(outcomes, load_failures.len());
    writeln!(
        w,
        "\n{} queries: {} ok, {} failed; {} rows in {} files under {out_dir} ({:.1}s)",
        outcomes.len() + load_failures.len(),
        t.ok,
        t.failed,
        t.rows,
        t.files,
        wall.as_secs_f64()
    )
}

/// Writes one `error:` line per failure.
pub fn write_errors(
    w: &mut impl Write,
    outcomes: &[Outcome],
    load_failures: &[LoadFailure],
) -> io::Result<()> {
    for f in load_failures {
        writeln!(w, "error: {}", f.text)?;
    }
    for o in outcomes {
        for warning in &o.warnings {
            writeln!(w, "warning: query {}: {warning}", o.job.query.id)?;
        }
        if let Some(e) = &o.error {
            writeln!(
                w,
                "error: query {} ({}), window {}: {e}",
                o.job.query.id,
                o.job.query.source.display(),
                o.job.window.to_graph()
            )?;
        }
    }
    Ok(())
}

/// The summary as one JSON document.
pub fn to_json(outcomes: &[Outcome], load_failures: &[LoadFailure], wall: Duration) -> String {
    let t = totals(outcomes, load_failures.len());
    let queries: Vec<_> = outcomes
        .iter()
        .map(|o| {
            json!({
                "id": o.job.query.id,
                "source": o.job.query.source,
                "window": { "start": rfc3339(o.job.window.start), "end": rfc3339(o.job.window.end) },
                "status": if o.is_ok() { "ok" } else if o.incomplete.is_empty() { "failed" } else { "incomplete" },
                "parts": o.parts,
                "throttled": o.throttled,
                "retried": o.retried,
                "incomplete_windows": o.incomplete.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                "warnings": o.warnings,
                "rows": o.rows,
                "files": o.files.iter().map(|f| &f.location).collect::<Vec<_>>(),
                "seconds": o.elapsed.as_secs_f64(),
                "request_ids": o.request_ids,
                "mismatched_cells": o.mismatched_cells,
                "error": o.error,
            })
        })
        .collect();
    let load_errors: Vec<_> = load_failures.iter().map(|f| &f.text).collect();
    json!({
        "queries": queries,
        "load_errors": load_errors,
        "totals": { "ok": t.ok, "failed": t.failed, "rows": t.rows, "files": t.files,
                    "seconds": wall.as_secs_f64() },
    })
    .to_string()
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
