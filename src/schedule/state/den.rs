//! Defender Experts Notifications in the tenant's state file: each DEN's last state as the beta
//! incident carries it, a history row per change, and the watermark of the incidents read.
//!
//! [`StateStore::observe_dens`] records what a sync read in one `BEGIN IMMEDIATE` transaction:
//! for each DEN it reads the state kept, works out the lifecycle events
//! ([`crate::den::lifecycle`]), writes the new state and its history row, and queues the
//! events' notifications in the outbox, keyed by (notifier, incident, event,
//! `lastUpdateDateTime`). So a crash keeps all or nothing, a second process syncing the same
//! tenant (the daemon and a `hunt den sync`) sees the first one's state, and an event is queued
//! once whoever sees it.

use super::outbox::NewNote;
use super::{Ctx as _, StateError, StateStore, from_ns};
use crate::den::lifecycle::{self, DenEvent};
use crate::den::sync::{DenIncident, later};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension as _, TransactionBehavior, params};
use serde_json::Value;
use std::collections::BTreeMap;

/// A DEN as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptDen {
    /// Its last state.
    pub incident: DenIncident,
    /// When hunt first saw it.
    pub first_seen: DateTime<Utc>,
    /// When hunt last saw it change.
    pub seen: DateTime<Utc>,
}

/// One change of a DEN.
#[derive(Debug, Clone, PartialEq)]
pub struct DenChange {
    /// Its `lastUpdateDateTime`.
    pub last_update: String,
    /// When hunt saw it.
    pub seen: DateTime<Utc>,
    /// Field → [before, after].
    pub changes: BTreeMap<String, [Value; 2]>,
    /// The events it made.
    pub events: Vec<DenEvent>,
}

/// What one DEN of a sync made.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The incident id.
    pub incident_id: String,
    /// The events (empty: unchanged, older than what is kept, or seen on the first sync long
    /// after it changed).
    pub events: Vec<DenEvent>,
    /// Notifications queued.
    pub queued: usize,
}

/// Builds the notifications of a DEN's events: (state kept, state now, events).
pub type NotesOf<'a> = &'a dyn Fn(Option<&DenIncident>, &DenIncident, &[DenEvent]) -> Vec<NewNote>;

fn parse_den(text: &str) -> rusqlite::Result<DenIncident> {
    serde_json::from_str(text).map_err(|e| super::bad_value(2, format!("DEN state: {e}")))
}

impl StateStore {
    /// Records the DENs a sync read (and `watermark`, the latest update it read) at `now`.
    /// On the file's first sync, a DEN last updated before `quiet_before` is recorded without
    /// events (a first sync does not tell of every DEN of the past).
    pub fn observe_dens(
        &self,
        dens: &[DenIncident],
        watermark: Option<&str>,
        now: DateTime<Utc>,
        quiet_before: DateTime<Utc>,
        notes_of: NotesOf<'_>,
    ) -> Result<Vec<Observed>, StateError> {
        let path = &self.path;
        let at = self.ns("", "time", now)?;
        let mut conn = self.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(path, "locking it to record DENs")?;
        let synced: Option<Option<String>> = tx
            .query_row("SELECT watermark FROM den_sync WHERE id = 1", [], |r| r.get(0))
            .optional()
            .ctx(path, "reading the DEN watermark")?;
        let first_sync = synced.is_none();
        let mut out = Vec::new();
        for den in dens {
            let Some(updated) = den.last_update.clone() else {
                tracing::warn!(incident = %den.id, "a DEN without lastUpdateDateTime: not recorded");
                continue;
            };
            let kept: Option<DenIncident> = tx
                .query_row(
                    "SELECT incident_id, last_update, state FROM den_incidents WHERE incident_id = ?1",
                    params![den.id],
                    |r| parse_den(&r.get::<_, String>(2)?),
                )
                .optional()
                .ctx(path, "reading a DEN")?;
            let changes = lifecycle::changes(kept.as_ref(), den);
            let stale = kept
                .as_ref()
                .and_then(|k| k.last_update.as_deref())
                .is_some_and(|k| later(k, &updated));
            if stale || changes.is_empty() {
                continue;
            }
            let old = chrono::DateTime::parse_from_rfc3339(&updated)
                .is_ok_and(|t| t.to_utc() < quiet_before);
            let events = match first_sync && old {
                true => Vec::new(),
                false => lifecycle::events(kept.as_ref(), den),
            };
            let state = serde_json::to_string(den)
                .map_err(|e| self.invalid("", format!("DEN state: {e}")))?;
            tx.execute(
                "INSERT INTO den_incidents (incident_id, last_update, state, first_seen_ns, seen_ns)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (incident_id) DO UPDATE
                 SET last_update = ?2, state = ?3, seen_ns = ?4",
                params![den.id, updated, state, at],
            )
            .ctx(path, "recording a DEN")?;
            let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
            tx.execute(
                "INSERT INTO den_history (incident_id, last_update, seen_ns, changes, events)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    den.id,
                    updated,
                    at,
                    serde_json::to_string(&changes).unwrap_or_default(),
                    serde_json::to_string(&names).unwrap_or_default()
                ],
            )
            .ctx(path, "recording a DEN's change")?;
            let notes =
                if events.is_empty() { Vec::new() } else { notes_of(kept.as_ref(), den, &events) };
            let queued = self.enqueue_in(&tx, &notes, now)?;
            out.push(Observed { incident_id: den.id.clone(), events, queued });
        }
        let newest = match (synced.flatten(), watermark) {
            (Some(a), Some(b)) if later(&a, b) => Some(a),
            (a, b) => b.map(str::to_owned).or(a),
        };
        tx.execute(
            "INSERT INTO den_sync (id, watermark, synced_ns) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET watermark = ?1, synced_ns = ?2",
            params![newest, at],
        )
        .ctx(path, "recording the DEN watermark")?;
        tx.commit().ctx(path, "committing DENs")?;
        Ok(out)
    }

    /// The latest `lastUpdateDateTime` a DEN sync of this file read, if it ever synced.
    pub fn den_watermark(&self) -> Result<Option<String>, StateError> {
        let w: Option<Option<String>> = self
            .conn()
            .query_row("SELECT watermark FROM den_sync WHERE id = 1", [], |r| r.get(0))
            .optional()
            .ctx(&self.path, "reading the DEN watermark")?;
        Ok(w.flatten())
    }

    /// Every DEN kept, the latest update first.
    pub fn dens(&self) -> Result<Vec<KeptDen>, StateError> {
        let mut all: Vec<KeptDen> = self
            .conn()
            .prepare("SELECT state, first_seen_ns, seen_ns FROM den_incidents")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(KeptDen {
                        incident: parse_den(&r.get::<_, String>(0)?)?,
                        first_seen: from_ns(r.get(1)?),
                        seen: from_ns(r.get(2)?),
                    })
                })?
                .collect()
            })
            .ctx(&self.path, "reading DENs")?;
        all.sort_by(|a, b| {
            let (x, y) = (a.incident.last_update.as_deref(), b.incident.last_update.as_deref());
            match (x, y) {
                (Some(x), Some(y)) if later(x, y) => std::cmp::Ordering::Less,
                (Some(x), Some(y)) if later(y, x) => std::cmp::Ordering::Greater,
                _ => a.incident.id.cmp(&b.incident.id),
            }
        });
        Ok(all)
    }

    /// The changes of DEN `incident_id`, oldest first.
    pub fn den_history(&self, incident_id: &str) -> Result<Vec<DenChange>, StateError> {
        self.conn()
            .prepare(
                "SELECT last_update, seen_ns, changes, events FROM den_history
                 WHERE incident_id = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map(params![incident_id], |r| {
                    let changes: String = r.get(2)?;
                    let events: String = r.get(3)?;
                    let names: Vec<String> = serde_json::from_str(&events)
                        .map_err(|e| super::bad_value(3, format!("DEN events: {e}")))?;
                    Ok(DenChange {
                        last_update: r.get(0)?,
                        seen: from_ns(r.get(1)?),
                        changes: serde_json::from_str(&changes)
                            .map_err(|e| super::bad_value(2, format!("DEN changes: {e}")))?,
                        events: names.iter().filter_map(|n| DenEvent::parse(n)).collect(),
                    })
                })?
                .collect()
            })
            .ctx(&self.path, "reading a DEN's history")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::den::lifecycle::tests::den;
    use chrono::TimeZone as _;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn at(d: &mut DenIncident, min: i64) {
        d.last_update = Some(crate::timespan::format_datetime(t(min)));
    }

    fn notes(_: Option<&DenIncident>, cur: &DenIncident, events: &[DenEvent]) -> Vec<NewNote> {
        events
            .iter()
            .map(|e| {
                let n = crate::den::notice::DenNotice::of(*e, "t", None, cur);
                let when = chrono::DateTime::parse_from_rfc3339(&n.last_update).unwrap().to_utc();
                NewNote {
                    notify: "soc".into(),
                    query_id: format!("den:{}:{}", cur.id, e.as_str()),
                    window: crate::timespan::Window { start: when, end: when },
                    message: crate::notify::message::Message::den_event(n),
                }
            })
            .collect()
    }

    #[test]
    fn each_step_is_recorded_once_with_its_history_and_notes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let s = StateStore::open(&path).unwrap();
        let mut new = den("active", None);
        at(&mut new, 0);
        let w = new.last_update.clone();
        let o = s.observe_dens(&[new.clone()], w.as_deref(), t(1), t(-1440), &notes).unwrap();
        assert_eq!((o[0].events.as_slice(), o[0].queued), ([DenEvent::DenNew].as_slice(), 1));
        // The same state read again (a second process, or the next sync): nothing.
        assert!(s.observe_dens(&[new.clone()], None, t(2), t(-1440), &notes).unwrap().is_empty());
        let mut customer = den("awaitingAction", Some("Customer"));
        at(&mut customer, 5);
        let o = s.observe_dens(&[customer.clone()], None, t(6), t(-1440), &notes).unwrap();
        assert_eq!(o[0].events, [DenEvent::DenActionNeeded]);
        // An older state read late (a stale page) is ignored.
        assert!(s.observe_dens(&[new.clone()], None, t(7), t(-1440), &notes).unwrap().is_empty());
        drop(s);
        let s = StateStore::open(&path).unwrap();
        assert_eq!(s.den_watermark().unwrap(), w);
        let h = s.den_history("7").unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].changes["status"], [Value::from("active"), Value::from("awaitingAction")]);
        assert_eq!(s.dens().unwrap()[0].incident.status.as_deref(), Some("awaitingAction"));
        assert_eq!(s.notes(&[]).unwrap().len(), 2);
    }

    #[test]
    fn the_first_sync_tells_nothing_of_old_dens() {
        let dir = tempfile::tempdir().unwrap();
        let s = StateStore::open(&dir.path().join("s.sqlite")).unwrap();
        let mut old = den("awaitingAction", Some("Customer"));
        at(&mut old, -3000);
        let o = s.observe_dens(&[old.clone()], None, t(0), t(-1440), &notes).unwrap();
        assert!(o[0].events.is_empty());
        let mut resolved = den("resolved", Some("Customer"));
        at(&mut resolved, -2000);
        // After the first sync, every change is told, however old.
        let o = s.observe_dens(&[resolved], None, t(1), t(-1440), &notes).unwrap();
        assert_eq!(o[0].events, [DenEvent::DenResolved]);
    }
}
