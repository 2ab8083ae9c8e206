//! Watching DENs: one pass reads the incidents changed since the state file's DEN watermark,
//! records each DEN's state in the tenant's state file and queues a message for every
//! lifecycle event to the `[[notify]]` targets that ask for it (`den_events`). `hunt schedule`
//! runs a pass on its own cadence (every minute by default, as Microsoft advises for DENs),
//! `hunt den sync` one per run; both share the state, so an event is told once.

use super::hunt::Hunted;
use super::lifecycle::DenEvent;
use super::notice::DenNotice;
use super::sync::{self, DenIncident, Scan, ScanError};
use crate::clock::Clock;
use crate::executor::Executor;
use crate::graph::GraphClient;
use crate::notify::Notifiers;
use crate::notify::message::Message;
use crate::schedule::state::den::Observed;
use crate::schedule::state::outbox::NewNote;
use crate::schedule::state::{StateError, StateStore};
use crate::timespan::Window;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A first sync tells only of DENs changed within this long (older ones are recorded quietly).
pub const FIRST_SYNC_QUIET: chrono::Duration = chrono::Duration::hours(24);

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Reading incidents failed.
    #[error("DEN sync: {0}")]
    Scan(#[from] ScanError),
    /// The state file refused.
    #[error("DEN sync: {0}")]
    State(#[from] StateError),
}

/// The notes of `events` of `cur` for the notifiers asking for them.
pub fn notes_of(
    notifiers: &Notifiers,
    tenant: &str,
    hunted: &BTreeMap<String, Vec<Hunted>>,
    prev: Option<&DenIncident>,
    cur: &DenIncident,
    events: &[DenEvent],
) -> Vec<NewNote> {
    let Some(when) = cur
        .last_update
        .as_deref()
        .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
        .map(|t| t.to_utc())
    else {
        tracing::warn!(incident = %cur.id, "a DEN whose lastUpdateDateTime is not a time: not notified");
        return Vec::new();
    };
    let mut out = Vec::new();
    for event in events {
        for n in notifiers.den_targets(*event) {
            let mut notice = DenNotice::of(*event, tenant, prev, cur);
            if *event == DenEvent::DenNew {
                notice.hunted = hunted.get(&cur.id).cloned().unwrap_or_default();
            }
            out.push(NewNote {
                notify: n.config.name.clone(),
                query_id: format!("den:{}:{}", cur.id, event.as_str()),
                window: Window { start: when, end: when },
                message: Message::den_event(notice),
            });
        }
    }
    out
}

/// Records the DENs of `scan` in `state` and queues their events' messages (a `den_new` with
/// what `hunted` says its queries found).
pub fn record(
    state: &StateStore,
    scan: &Scan,
    notifiers: &Notifiers,
    tenant: &str,
    clock: &dyn Clock,
    hunted: &BTreeMap<String, Vec<Hunted>>,
) -> Result<Vec<Observed>, StateError> {
    let dens: Vec<DenIncident> = scan.dens.values().cloned().collect();
    let now = clock.now();
    let notes = |prev: Option<&DenIncident>, cur: &DenIncident, events: &[DenEvent]| {
        notes_of(notifiers, tenant, hunted, prev, cur, events)
    };
    state.observe_dens(&dens, scan.watermark.as_deref(), now, now - FIRST_SYNC_QUIET, &notes)
}

/// One pass: incidents changed since the state's DEN watermark (those already known as DENs
/// are recognised whatever changed), the queries of new ones run with `executor` (if any),
/// recorded. Returns the scan and what it made.
pub async fn pass(
    client: &GraphClient,
    state: &StateStore,
    notifiers: &Notifiers,
    tenant: &str,
    clock: &dyn Clock,
    executor: Option<&Executor>,
) -> Result<(Scan, Vec<Observed>), WatchError> {
    let since = state.den_watermark()?;
    let known: BTreeSet<String> = state.dens()?.into_iter().map(|d| d.incident.id).collect();
    let scan = sync::scan_knowing(client, since.as_deref(), &known).await?;
    let mut hunted = BTreeMap::new();
    if let Some(executor) = executor {
        let now = clock.now();
        // Not the DENs a first sync records quietly.
        let quiet = |d: &DenIncident| {
            since.is_none()
                && d.last_update
                    .as_deref()
                    .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
                    .is_some_and(|t| t.to_utc() < now - FIRST_SYNC_QUIET)
        };
        for den in scan.dens.values().filter(|d| !known.contains(&d.id) && !quiet(d)) {
            hunted.insert(den.id.clone(), super::hunt::run(executor, state, den, now).await);
        }
    }
    let observed = record(state, &scan, notifiers, tenant, clock, &hunted)?;
    Ok((scan, observed))
}

/// What a DEN watch of one tenant needs.
pub struct Watcher {
    /// Its own client (DEN reads never take the hunting calls' answer slots).
    pub client: GraphClient,
    /// The tenant's state file.
    pub state: Arc<StateStore>,
    /// The notifiers.
    pub notifiers: Arc<Notifiers>,
    /// The tenant as messages name it.
    pub tenant: String,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// How often to read.
    pub every: std::time::Duration,
    /// The daemon's executor: a new DEN's queries run with it at once.
    pub executor: Option<Arc<Executor>>,
}

impl Watcher {
    /// Runs a pass every `every` until `stopped`, waking `courier` when messages were queued.
    pub async fn run(
        self,
        courier: Option<Arc<tokio::sync::Notify>>,
        mut stopped: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if *stopped.borrow() {
                return;
            }
            let done = pass(
                &self.client,
                &self.state,
                &self.notifiers,
                &self.tenant,
                self.clock.as_ref(),
                self.executor.as_deref(),
            )
            .await;
            match done {
                Ok((_, observed)) => {
                    let queued: usize = observed.iter().map(|o| o.queued).sum();
                    for o in observed.iter().filter(|o| !o.events.is_empty()) {
                        let events: Vec<&str> = o.events.iter().map(|e| e.as_str()).collect();
                        tracing::info!(incident = %o.incident_id, events = %events.join(","), "DEN changed");
                    }
                    if queued > 0
                        && let Some(w) = &courier
                    {
                        w.notify_one();
                    }
                }
                Err(e) => tracing::warn!("{e}; tried again at the next DEN sync"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    }
}
