//! What a run tells its user: a progress bar on a terminal (nothing when output is piped), the
//! end-of-run summary table, the same summary as JSON for machines, and one `error:` line per
//! failure with where it happened and the service's request-id. With several tenants each line
//! names its tenant, and a tenant that could not run at all is listed with why.

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

    /// What a wait for quota does to the bar: its line shows while the wait lasts
    /// ([`crate::quota::Governor::on_wait`]).
    pub fn wait_listener(&self) -> crate::quota::WaitListener {
        let bar = self.bar.clone();
        std::sync::Arc::new(move |line: Option<&str>| {
            bar.set_message(line.map(str::to_owned).unwrap_or_default());
        })
    }

    /// Marks one job done.
    pub fn done(&self, outcome: &Outcome) {
        let status = if outcome.is_ok() { "ok" } else { "FAILED" };
        self.bar.set_message(format!("{} {status}", outcome.job.query.id));
        self.bar.inc(1);
    }

    /// Marks one job that did not run (nothing new to hunt, or another run holds it).
    pub fn skipped(&self, query_id: &str) {
        self.bar.set_message(format!("{query_id} skipped"));
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// One tenant's part of a run.
#[derive(Debug, Clone)]
pub struct TenantRun {
    /// The tenant's name in hunt.toml; None for the one tenant of the environment.
    pub tenant: Option<String>,
    /// Its outcomes, in job order.
    pub outcomes: Vec<Outcome>,
    /// Why nothing ran for it (credentials, sign-in), if so.
    pub error: Option<String>,
}

impl TenantRun {
    /// The outcomes of the one tenant of the environment.
    pub fn single(outcomes: Vec<Outcome>) -> TenantRun {
        TenantRun { tenant: None, outcomes, error: None }
    }
}

/// Every outcome with its tenant.
fn tagged(runs: &[TenantRun]) -> impl Iterator<Item = (Option<&str>, &Outcome)> {
    runs.iter().flat_map(|r| r.outcomes.iter().map(move |o| (r.tenant.as_deref(), o)))
}

/// A load problem to list with the failures.
pub struct LoadFailure {
    /// `path:line:col: message`.
    pub text: String,
}

/// Totals over a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Tenants that could not run at all.
    pub tenants_failed: usize,
    /// Jobs that landed.
    pub ok: usize,
    /// Jobs that failed, plus files that did not load.
    pub failed: usize,
    /// Rows landed.
    pub rows: usize,
    /// Files written.
    pub files: usize,
    /// Windows that did not land, by the kind of failure ([`crate::executor::Failure::kind`]).
    pub failures: std::collections::BTreeMap<&'static str, usize>,
}

/// `n` and the noun that goes with it: `1 query`, `2 queries`, `0 files`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Sums outcomes, tenants that could not run, and load failures.
pub fn totals(runs: &[TenantRun], load_failures: usize) -> Totals {
    let outcomes: Vec<&Outcome> = tagged(runs).map(|(_, o)| o).collect();
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    Totals {
        tenants_failed: runs.iter().filter(|r| r.error.is_some()).count(),
        ok,
        failed: outcomes.len() - ok + load_failures,
        rows: outcomes.iter().map(|o| o.rows).sum(),
        files: outcomes.iter().map(|o| o.files.len()).sum(),
        failures: outcomes.iter().flat_map(|o| &o.failures).fold(
            std::collections::BTreeMap::new(),
            |mut by, f| {
                *by.entry(f.failure.kind()).or_insert(0) += 1;
                by
            },
        ),
    }
}

/// Writes the human summary table and totals (with a TENANT column when several tenants ran).
pub fn write_table(
    w: &mut impl Write,
    runs: &[TenantRun],
    load_failures: &[LoadFailure],
    out_dir: &str,
    wall: Duration,
) -> io::Result<()> {
    let multi = runs.iter().any(|r| r.tenant.is_some());
    let names = runs.iter().filter_map(|r| r.tenant.as_deref());
    let tw = names.map(str::len).max().unwrap_or(6).max(6);
    let tenant_cell =
        |t: Option<&str>| if multi { format!("{:<tw$}  ", t.unwrap_or("")) } else { String::new() };
    let width = tagged(runs).map(|(_, o)| o.job.query.id.len()).max().unwrap_or(5).max(5);
    writeln!(
        w,
        "{}{:<width$}  {:>10}  {:>5}  {:>8}  STATUS",
        tenant_cell(Some("TENANT")),
        "QUERY",
        "ROWS",
        "FILES",
        "TIME"
    )?;
    for r in runs.iter().filter(|r| r.error.is_some()) {
        writeln!(
            w,
            "{}{:<width$}  {:>10}  {:>5}  {:>8}  NOT RUN: the tenant could not start (see its error)",
            tenant_cell(r.tenant.as_deref()),
            "-",
            "-",
            "-",
            "-"
        )?;
    }
    for (tenant, o) in tagged(runs) {
        let mut status = if !o.incomplete.is_empty() {
            "INCOMPLETE".to_owned()
        } else if !o.failures.is_empty() {
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
        if o.quota_wait >= Duration::from_secs(1) {
            status.push_str(&format!(", waited {:.0}s for quota", o.quota_wait.as_secs_f64()));
        }
        if o.mismatched_cells > 0 {
            status.push_str(&format!(
                ", {} cells did not match their type (kept as null/JSON text)",
                o.mismatched_cells
            ));
        }
        writeln!(
            w,
            "{}{:<width$}  {:>10}  {:>5}  {:>7.1}s  {status}",
            tenant_cell(tenant),
            o.job.query.id,
            o.rows,
            o.files.len(),
            o.elapsed.as_secs_f64()
        )?;
    }
    let t = totals(runs, load_failures.len());
    let jobs = tagged(runs).count() + load_failures.len();
    let tenants = if multi {
        let failed = match t.tenants_failed {
            0 => String::new(),
            n => format!(" ({n} could not run)"),
        };
        format!(" for {} tenants{failed}", runs.len())
    } else {
        String::new()
    };
    writeln!(
        w,
        "\n{}{tenants}: {} ok, {} failed; {} in {} under {out_dir} ({:.1}s)",
        count(jobs, "query", "queries"),
        t.ok,
        t.failed,
        count(t.rows, "row", "rows"),
        count(t.files, "file", "files"),
        wall.as_secs_f64()
    )?;
    if !t.failures.is_empty() {
        let by: Vec<String> = t.failures.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(w, "windows not landed, by kind: {}", by.join(", "))?;
    }
    Ok(())
}

/// Writes one `error:` line per failure.
/// (A tenant that could not run is reported when it fails, not here.)
pub fn write_errors(
    w: &mut impl Write,
    runs: &[TenantRun],
    load_failures: &[LoadFailure],
) -> io::Result<()> {
    for f in load_failures {
        writeln!(w, "error: {}", f.text)?;
    }
    for (tenant, o) in tagged(runs) {
        let who = tenant.map(|t| format!("tenant {t}: ")).unwrap_or_default();
        for warning in &o.warnings {
            writeln!(w, "warning: {who}query {}: {warning}", o.job.query.id)?;
        }
        if let Some(e) = &o.error() {
            writeln!(
                w,
                "error: {who}query {} ({}), window {}: {e}",
                o.job.query.id,
                o.job.query.source.display(),
                o.job.window
            )?;
        }
    }
    Ok(())
}

/// The summary as one JSON document. With several tenants each query carries its `tenant`, and
/// `tenants` lists every tenant with its totals (and `error` if it could not run).
pub fn to_json(runs: &[TenantRun], load_failures: &[LoadFailure], wall: Duration) -> String {
    let t = totals(runs, load_failures.len());
    let multi = runs.iter().any(|r| r.tenant.is_some());
    let queries: Vec<_> = tagged(runs)
        .map(|(tenant, o)| {
            let mut q = json!({
                "id": o.job.query.id,
                "source": o.job.query.source,
                "window": { "start": rfc3339(o.job.window.start), "end": rfc3339(o.job.window.end) },
                "status": if o.is_ok() { "ok" } else if o.incomplete.is_empty() { "failed" } else { "incomplete" },
                "parts": o.parts,
                "throttled": o.throttled,
                "retried": o.retried,
                "quota_wait_seconds": o.quota_wait.as_secs_f64(),
                "incomplete_windows": o.incomplete.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                "warnings": o.warnings,
                "rows": o.rows,
                "files": o.files.iter().map(|f| &f.location).collect::<Vec<_>>(),
                "seconds": o.elapsed.as_secs_f64(),
                "request_ids": o.request_ids,
                "mismatched_cells": o.mismatched_cells,
                "error": o.error(),
                "failures": o.failures.iter().map(|f| json!({
                    "window": f.window.to_string(),
                    "kind": f.failure.kind(),
                    "message": f.failure.to_string(),
                })).collect::<Vec<_>>(),
            });
            if multi {
                q["tenant"] = json!(tenant);
            }
            q
        })
        .collect();
    let load_errors: Vec<_> = load_failures.iter().map(|f| &f.text).collect();
    let mut doc = json!({
        "queries": queries,
        "load_errors": load_errors,
        "totals": { "ok": t.ok, "failed": t.failed, "rows": t.rows, "files": t.files,
                    "seconds": wall.as_secs_f64(), "failures": t.failures },
    });
    if multi {
        let tenants: Vec<_> = runs
            .iter()
            .map(|r| {
                let one = totals(std::slice::from_ref(r), 0);
                let status = match (&r.error, one.failed) {
                    (Some(_), _) => "not run",
                    (None, 0) => "ok",
                    (None, _) => "failed",
                };
                json!({ "name": r.tenant, "status": status, "ok": one.ok, "failed": one.failed,
                        "rows": one.rows, "files": one.files, "error": r.error })
            })
            .collect();
        doc["tenants"] = json!(tenants);
        doc["totals"]["tenants_failed"] = json!(t.tenants_failed);
    }
    doc.to_string()
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(count(1, "query", "queries"), "1 query");
        assert_eq!(count(0, "file", "files"), "0 files");
        assert_eq!(count(2, "row", "rows"), "2 rows");
    }
}
