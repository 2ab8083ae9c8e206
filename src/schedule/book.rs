//! Booking windows in the schedule state, shared by the daemon and `hunt run --incremental`:
//! anchoring a query's first window before any part of it runs, and turning a job's outcome into
//! the run record that advances (or not) the query's watermark.

use super::planner::{self, Timing};
use super::state::{RunRecord, RunStatus, StateError, StateStore};
use crate::executor::Outcome;
use chrono::{DateTime, Utc};

/// The watermark a query never run plans from: the start of its first window, recorded before
/// any part of it runs (`None`: its schedule has not fired yet). Without it, a first window cut
/// short (SIGKILL, a failed part) would be planned afresh from a later fire, starting beside the
/// parts that landed instead of over them, and their rows would land twice.
pub fn anchor(
    state: &StateStore,
    id: &str,
    timing: Timing<'_>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StateError> {
    let Some(start) = planner::first_start(timing, now) else { return Ok(None) };
    if state.begin_at(id, start)? {
        return Ok(Some(start));
    }
    // Another writer of this state file anchored (or ran) it first: its watermark stands.
    state.watermark(id)
}

/// The run record of `outcome` (started at `started`), and the watermark it advances to: the
/// window's end when every part landed (some perhaps marked incomplete), else none.
pub fn run_record(outcome: &Outcome, started: DateTime<Utc>) -> (RunRecord, Option<DateTime<Utc>>) {
    let landed = outcome.failed.is_empty();
    let status = if !landed {
        RunStatus::Failed
    } else if outcome.incomplete.is_empty() {
        RunStatus::Ok
    } else {
        RunStatus::Incomplete
    };
    let run = RunRecord {
        query_id: outcome.job.query.id.clone(),
        window: outcome.job.window,
        status,
        rows: outcome.rows as u64,
        files: outcome.files.iter().map(|f| f.location.clone()).collect(),
        request_ids: outcome.request_ids.clone(),
        started,
        seconds: outcome.elapsed.as_secs_f64(),
        error: outcome.error(),
    };
    (run, landed.then_some(outcome.job.window.end))
}
