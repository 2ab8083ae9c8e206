//! `hunt run --incremental` and the overlap check of a plain `hunt run`.
//!
//! Incremental: each query's window runs from its watermark in the tenant's schedule state (the
//! same file and rules as `hunt schedule`) to the run's time minus the query's `delay`, as if
//! its schedule fired now: a first run covers its `lookback` (anchored before it runs, so a
//! killed first run is re-run whole), a stretch past the service's 30 days is recorded as a gap,
//! and a query another incremental run holds is skipped. Landed windows advance the watermark.
//!
//! Plain runs: a window that overlaps, without equalling or containing, a window already landed
//! for the query in the same output stores the overlap's rows twice; the run says so.

use super::tenants::Target;
use crate::cron::Cron;
use crate::executor::{Job, Outcome};
use crate::output::{Destination, Format};
use crate::report::Progress;
use crate::schedule::book;
use crate::schedule::daemon::DaemonOptions;
use crate::schedule::lock::QueryLock;
use crate::schedule::planner::{self, Step, Timing};
use crate::schedule::state::StateStore;
use crate::schedule::state::outbox::NewNote;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::Path;

/// The windows an incremental run claimed, with their locks and the state to record them in.
pub(super) struct Claimed {
    /// One job per query whose window is due.
    pub jobs: Vec<Job>,
    /// The tenant's schedule state.
    pub state: std::sync::Arc<StateStore>,
    _locks: Vec<QueryLock>,
}

impl Claimed {
    /// Records each outcome in the state; a landed window advances its query's watermark and
    /// queues its `notes` in the same transaction. Returns whether any note was queued.
    pub fn record(
        &self,
        outcomes: &[Outcome],
        started: DateTime<Utc>,
        notes: &dyn Fn(&Outcome) -> Vec<NewNote>,
        now: DateTime<Utc>,
    ) -> bool {
        let mut queued = false;
        for o in outcomes.iter().filter(|o| !o.stopped) {
            let (run, advance) = book::run_record(o, started);
            let notes = if advance.is_some() { notes(o) } else { Vec::new() };
            queued |= !notes.is_empty();
            if let Err(e) = self.state.record_notifying(&run, advance, &notes, now) {
                eprintln!(
                    "error: {}: cannot record its window {} in {}: {e}; the next incremental run \
                     runs it again",
                    run.query_id,
                    run.window,
                    self.state.path().display()
                );
            }
        }
        queued
    }
}

/// Claims each query's next window for `target` at `now`, from the state at `path`.
pub(super) fn claim(
    target: &Target,
    tenant_id: &str,
    path: &Path,
    queries: Vec<Job>,
    now: DateTime<Utc>,
    progress: &Progress,
) -> anyhow::Result<Claimed> {
    let state =
        StateStore::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // An incremental run is a fire of every query's schedule at `now`.
    let every_second = Cron::parse("* * * * * *").map_err(|e| anyhow::anyhow!("{e}"))?;
    let horizon = DaemonOptions::default().horizon;
    let who = target.who();
    let (mut jobs, mut locks) = (Vec::new(), Vec::new());
    for job in queries {
        let q = job.query;
        let lock_path = target.state_file(&format!("run-{}", q.id), tenant_id, "lock");
        let Some(lock) = QueryLock::try_take(&lock_path)
            .with_context(|| format!("cannot lock {}", lock_path.display()))?
        else {
            eprintln!("note: {who}{}: another incremental run holds it; skipped", q.id);
            progress.skipped(&q.id);
            continue;
        };
        let timing = Timing {
            cron: &every_second,
            lookback: q.lookback.unwrap_or(chrono::Duration::days(1)),
            delay: q.delay.unwrap_or_default(),
        };
        let watermark = match state.watermark(&q.id)? {
            Some(w) => Some(w),
            None => book::anchor(&state, &q.id, timing, now)?,
        };
        match planner::step(timing, watermark, now, horizon) {
            Step::Run { window, gap, .. } => {
                if let Some(gap) = gap {
                    let reason =
                        "older than the service keeps: these events can no longer be hunted";
                    eprintln!("warning: {who}{}: {gap} is {reason}", q.id);
                    state.record_gap(&q.id, gap, reason)?;
                }
                if window.start < window.end {
                    jobs.push(Job { query: q, window });
                    locks.push(lock);
                    continue;
                }
            }
            Step::Idle { .. } => {}
        }
        eprintln!("note: {who}{}: nothing new since its last window; skipped", q.id);
        progress.skipped(&q.id);
    }
    Ok(Claimed { jobs, state: std::sync::Arc::new(state), _locks: locks })
}

/// For each job whose window overlaps a window already landed for its query in `dest` (and
/// neither equals nor contains it: those are replaced), the warning to give. Parquet only;
/// a listing that fails says nothing (the run itself will report the destination's trouble).
pub(super) async fn overlaps(
    dest: &Destination,
    tenant: Option<&str>,
    jobs: &[Job],
) -> HashMap<String, String> {
    let mut found = HashMap::new();
    if dest.format() != Format::Parquet {
        return found;
    }
    for job in jobs {
        let Ok(landed) = dest.landed_windows(&job.query.id, tenant, &job.window).await else {
            continue;
        };
        let w = job.window;
        let clash = landed.iter().find(|l| {
            let overlap = l.start < w.end && w.start < l.end;
            let replaced = l.start >= w.start && l.end <= w.end;
            overlap && !replaced
        });
        if let Some(l) = clash {
            found.insert(
                job.query.id.clone(),
                format!(
                    "its window {w} overlaps {l}, already landed in {dest}: rows in the overlap are \
                     now stored twice; `hunt run --incremental` continues where the last run ended"
                ),
            );
        }
    }
    found
}
