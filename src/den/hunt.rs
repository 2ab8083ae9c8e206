//! A new DEN's recommended hunting queries, run at once by `hunt schedule` over the DEN's time
//! frame (its creation to its last update, widened by [`MARGIN`] before and an hour after, up to
//! now), through the daemon's executor (so within the tenant's quota, landing where the
//! schedule lands); their rows and files go into the `den_new` message, and each run is
//! recorded in the state file under the query's `den-<incident>-<hash8>` id (`hunt den show`).

use super::store::{DenQuery, file_name, normalised_hash, render};
use super::sync::DenIncident;
use crate::executor::{Executor, Job};
use crate::schedule::state::StateStore;
use crate::timespan::{Window, format_datetime};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How far before a DEN's creation its queries look (the activity it tells of came first).
pub const MARGIN: chrono::Duration = chrono::Duration::hours(24);

/// What one recommended query of a new DEN found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hunted {
    /// The query's id (`den-<incident>-<hash8>`).
    pub query_id: String,
    /// The window's start (RFC 3339, UTC).
    pub window_start: String,
    /// The window's end (RFC 3339, UTC, exclusive).
    pub window_end: String,
    /// `ok`, `incomplete` or `failed`.
    pub status: String,
    /// Rows landed.
    pub rows: u64,
    /// Files written.
    pub files: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

fn time(s: &Option<String>) -> Option<DateTime<Utc>> {
    chrono::DateTime::parse_from_rfc3339(s.as_deref()?).ok().map(|t| t.to_utc())
}

/// The window `den`'s queries run over at `now`.
pub fn window(den: &DenIncident, now: DateTime<Utc>) -> Option<Window> {
    let created = time(&den.created).or_else(|| time(&den.last_update))?;
    let last = time(&den.last_update).unwrap_or(created).max(created);
    let end = (last + chrono::Duration::hours(1)).min(now);
    let start = created - MARGIN;
    (start < end).then_some(Window { start, end })
}

/// Runs each distinct recommended query of `den` once over its window, recording each run.
pub async fn run(
    executor: &Executor,
    state: &StateStore,
    den: &DenIncident,
    now: DateTime<Utc>,
) -> Vec<Hunted> {
    let Some(window) = window(den, now) else { return Vec::new() };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for kql in &den.queries {
        if !seen.insert(normalised_hash(kql)) {
            continue;
        }
        let q = DenQuery::of(den, kql);
        let name = file_name(&q);
        let query = match crate::library::kql_file::parse_kql_file(
            &render(&q, None),
            std::path::Path::new(&name),
        ) {
            Ok(query) if query.enabled => query,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(incident = %den.id, "a recommended query hunt cannot run: {e}");
                continue;
            }
        };
        let outcome = executor.run_one(Job { query: Arc::new(query), window }).await;
        let (run, _) = crate::schedule::book::run_record(&outcome, now);
        if let Err(e) = state.record(&run, None) {
            tracing::warn!(incident = %den.id, query = %run.query_id, "cannot record the run: {e}");
        }
        out.push(Hunted {
            query_id: run.query_id.clone(),
            window_start: format_datetime(window.start),
            window_end: format_datetime(window.end),
            status: run.status.as_str().to_owned(),
            rows: run.rows,
            files: run.files.clone(),
            error: run.error.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_spans_the_den_widened_and_never_passes_now() {
        let mut d = crate::den::lifecycle::tests::den("active", None);
        d.created = Some("2026-12-07T08:00:00Z".into());
        d.last_update = Some("2026-12-07T10:00:00Z".into());
        let now = time(&Some("2026-12-07T10:30:00Z".into())).unwrap();
        let w = window(&d, now).unwrap();
        assert_eq!(format_datetime(w.start), "2026-12-06T08:00:00Z");
        assert_eq!(w.end, now);
        d.created = None;
        d.last_update = None;
        assert_eq!(window(&d, now), None);
    }
}
