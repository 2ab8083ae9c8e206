//! The outbox: notifications of landed windows, one per (notifier, query, window), kept in the
//! tenant's state file until they are delivered or given up.
//!
//! A window's notifications are put here in the transaction that records its run and moves its
//! watermark ([`StateStore::record_notifying`]), so a crash either keeps both or neither; the
//! courier then sends what is due and marks each delivered at once. A notification is marked
//! only while pending: once delivered it is never sent again, whatever runs after (a restart,
//! a second process on the same file), and the (notifier, query, window) key means a window
//! landed again (a re-run) never queues a second one.
//!
//! The URL a notification goes to is not here: only the notifier's name (the URL is a secret,
//! read from the environment when it is sent).

use super::{Ctx as _, StateError, StateStore, bad_value, from_ns};
use crate::notify::message::Message;
use crate::timespan::Window;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior, params};

/// A notification to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNote {
    /// The notifier's name (`[[notify]] name`).
    pub notify: String,
    /// The message.
    pub message: Message,
    /// The query.
    pub query_id: String,
    /// The window it tells of.
    pub window: Window,
}

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteStatus {
    /// Not delivered yet: tried again at its next time.
    Pending,
    /// Delivered (a 2xx answer): never sent again.
    Delivered,
    /// Given up (refused for good, or not delivered before the deadline).
    Failed,
}

impl NoteStatus {
    /// `pending`, `delivered` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteStatus::Pending => "pending",
            NoteStatus::Delivered => "delivered",
            NoteStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<NoteStatus> {
        match s {
            "pending" => Some(NoteStatus::Pending),
            "delivered" => Some(NoteStatus::Delivered),
            "failed" => Some(NoteStatus::Failed),
            _ => None,
        }
    }
}

/// A notification in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Its row id.
    pub id: i64,
    /// The notifier's name.
    pub notify: String,
    /// The query.
    pub query_id: String,
    /// The window.
    pub window: Window,
    /// The message.
    pub message: Message,
    /// Where it stands.
    pub status: NoteStatus,
    /// POSTs tried that failed.
    pub attempts: u32,
    /// When it was queued.
    pub created: DateTime<Utc>,
    /// When it is tried next (pending).
    pub next: DateTime<Utc>,
    /// When it was delivered or given up.
    pub done: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

const NOTE_COLUMNS: &str = "id, notify, query_id, start_ns, end_ns, message, status, attempts, \
                            created_ns, next_ns, done_ns, last_error";

fn note_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Note> {
    let message: String = row.get(5)?;
    let status: String = row.get(6)?;
    let attempts: i64 = row.get(7)?;
    Ok(Note {
        id: row.get(0)?,
        notify: row.get(1)?,
        query_id: row.get(2)?,
        window: Window { start: from_ns(row.get(3)?), end: from_ns(row.get(4)?) },
        message: serde_json::from_str(&message)
            .map_err(|e| bad_value(5, format!("notification message: {e}")))?,
        status: NoteStatus::parse(&status)
            .ok_or_else(|| bad_value(6, format!("notification status {status:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created: from_ns(row.get(8)?),
        next: from_ns(row.get(9)?),
        done: row.get::<_, Option<i64>>(10)?.map(from_ns),
        last_error: row.get(11)?,
    })
}

impl StateStore {
    /// Queues `notes` at `now` in their own transaction; returns how many were new.
    pub fn enqueue(&self, notes: &[NewNote], now: DateTime<Utc>) -> Result<usize, StateError> {
        let path = &self.path;
        let mut conn = self.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(path, "locking it to queue notifications")?;
        let added = self.enqueue_in(&tx, notes, now)?;
        tx.commit().ctx(path, "committing notifications")?;
        Ok(added)
    }

    /// Queues `notes` through `conn` (inside the caller's transaction).
    pub(super) fn enqueue_in(
        &self,
        conn: &Connection,
        notes: &[NewNote],
        now: DateTime<Utc>,
    ) -> Result<usize, StateError> {
        let at = self.ns("", "notification time", now)?;
        let mut added = 0;
        for n in notes {
            let q = n.query_id.as_str();
            let start = self.ns(q, "window start", n.window.start)?;
            let end = self.ns(q, "window end", n.window.end)?;
            let message = serde_json::to_string(&n.message)
                .map_err(|e| self.invalid(q, format!("notification message: {e}")))?;
            added += conn
                .execute(
                    "INSERT INTO notifications (notify, query_id, start_ns, end_ns, message, status,
                                                attempts, created_ns, next_ns)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)
                     ON CONFLICT (notify, query_id, start_ns, end_ns) DO NOTHING",
                    params![n.notify, q, start, end, message, at],
                )
                .ctx(&self.path, "queueing a notification")?;
        }
        Ok(added)
    }

    /// Up to `limit` pending notifications due at `now`, the longest due first.
    pub fn due_notes(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Note>, StateError> {
        let at = self.ns("", "time", now)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.conn()
            .prepare(&format!(
                "SELECT {NOTE_COLUMNS} FROM notifications
                 WHERE status = 'pending' AND next_ns <= ?1 ORDER BY next_ns, id LIMIT ?2"
            ))
            .and_then(|mut s| s.query_map(params![at, limit], note_from_row)?.collect())
            .ctx(&self.path, "reading due notifications")
    }

    /// When the next pending notification is due, if any is pending.
    pub fn next_note_at(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let ns: Option<i64> = self
            .conn()
            .query_row("SELECT MIN(next_ns) FROM notifications WHERE status = 'pending'", [], |r| {
                r.get(0)
            })
            .ctx(&self.path, "reading the next notification's time")?;
        Ok(ns.map(from_ns))
    }

    /// Marks notification `id` delivered at `now` (if it is still pending).
    pub fn note_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StateError> {
        let at = self.ns("", "time", now)?;
        self.update_note(
            "UPDATE notifications SET status = 'delivered', done_ns = ?2
             WHERE id = ?1 AND status = 'pending'",
            params![id, at],
        )
    }

    /// Counts a failed attempt of notification `id` and sets its next try at `next`.
    pub fn note_retry(
        &self,
        id: i64,
        next: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StateError> {
        let at = self.ns("", "time", next)?;
        self.update_note(
            "UPDATE notifications SET attempts = attempts + 1, next_ns = ?2, last_error = ?3
             WHERE id = ?1 AND status = 'pending'",
            params![id, at, error],
        )
    }

    /// Counts a failed attempt of notification `id` and gives it up at `now`.
    pub fn note_failed(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<bool, StateError> {
        let at = self.ns("", "time", now)?;
        self.update_note(
            "UPDATE notifications SET status = 'failed', attempts = attempts + 1, done_ns = ?2,
                                      last_error = ?3
             WHERE id = ?1 AND status = 'pending'",
            params![id, at, error],
        )
    }

    fn update_note(&self, sql: &str, params: impl rusqlite::Params) -> Result<bool, StateError> {
        let changed =
            self.writer()?.execute(sql, params).ctx(&self.path, "updating a notification")?;
        Ok(changed == 1)
    }

    /// Removes the notifications delivered or given up before `before` (a pending one stays,
    /// however old); returns how many went. Keeps the file from growing with every window.
    pub fn prune_notes(&self, before: DateTime<Utc>) -> Result<usize, StateError> {
        let at = self.ns("", "time", before)?;
        self.writer()?
            .execute(
                "DELETE FROM notifications WHERE status <> 'pending' AND done_ns < ?1",
                params![at],
            )
            .ctx(&self.path, "removing old notifications")
    }

    /// Every notification with one of `statuses`, oldest first (all when empty).
    pub fn notes(&self, statuses: &[NoteStatus]) -> Result<Vec<Note>, StateError> {
        let all: Vec<Note> = self
            .conn()
            .prepare(&format!("SELECT {NOTE_COLUMNS} FROM notifications ORDER BY id"))
            .and_then(|mut s| s.query_map([], note_from_row)?.collect())
            .ctx(&self.path, "reading notifications")?;
        Ok(all
            .into_iter()
            .filter(|n| statuses.is_empty() || statuses.contains(&n.status))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{RunRecord, RunStatus};
    use super::*;
    use chrono::TimeZone as _;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn w(a: i64, b: i64) -> Window {
        Window { start: t(a), end: t(b) }
    }

    fn note(notify: &str, q: &str, window: Window) -> NewNote {
        let message = Message {
            query_id: q.into(),
            query_name: q.into(),
            tenant: "t".into(),
            window_start: window.start.to_rfc3339(),
            window_end: window.end.to_rfc3339(),
            rows: 3,
            complete: true,
            files: vec![],
            request_ids: vec!["r".into()],
            sample: vec![],
            den: None,
            den_event: None,
        };
        NewNote { notify: notify.into(), message, query_id: q.into(), window }
    }

    fn run(q: &str, window: Window, status: RunStatus) -> RunRecord {
        RunRecord {
            query_id: q.into(),
            window,
            status,
            rows: 3,
            files: vec![],
            request_ids: vec![],
            started: window.end,
            seconds: 1.0,
            error: None,
        }
    }

    fn store() -> (tempfile::TempDir, std::path::PathBuf, StateStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule-t.sqlite");
        let s = StateStore::open(&path).unwrap();
        (dir, path, s)
    }

    #[test]
    fn notes_are_queued_with_the_run_that_moves_the_watermark() {
        let (_d, _p, s) = store();
        let n = note("soc", "q", w(0, 10));
        s.record_notifying(
            &run("q", w(0, 10), RunStatus::Ok),
            Some(t(10)),
            std::slice::from_ref(&n),
            t(11),
        )
        .unwrap();
        let due = s.due_notes(t(11), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(
            (due[0].status, due[0].attempts, due[0].created),
            (NoteStatus::Pending, 0, t(11))
        );
        assert_eq!(due[0].message, n.message);
        // A run refused (not contiguous) queues nothing: the transaction is all or nothing.
        let refused = s.record_notifying(
            &run("q", w(20, 30), RunStatus::Ok),
            Some(t(30)),
            &[note("soc", "q", w(20, 30))],
            t(31),
        );
        assert!(matches!(refused, Err(StateError::NotContiguous { .. })));
        assert_eq!(s.notes(&[]).unwrap().len(), 1);
    }

    #[test]
    fn one_note_per_notifier_query_and_window() {
        let (_d, _p, s) = store();
        let notes =
            [note("soc", "q", w(0, 10)), note("soc", "q", w(0, 10)), note("ops", "q", w(0, 10))];
        assert_eq!(s.enqueue(&notes, t(10)).unwrap(), 2);
        // the same window landed again (a re-run) queues nothing more
        assert_eq!(s.enqueue(&[note("soc", "q", w(0, 10))], t(20)).unwrap(), 0);
        assert_eq!(s.enqueue(&[note("soc", "q", w(10, 20))], t(20)).unwrap(), 1);
        assert_eq!(s.notes(&[NoteStatus::Pending]).unwrap().len(), 3);
    }

    #[test]
    fn a_delivered_note_is_never_due_again_even_after_a_restart() {
        let (_d, path, s) = store();
        s.enqueue(&[note("soc", "a", w(0, 10)), note("soc", "b", w(0, 10))], t(10)).unwrap();
        let due = s.due_notes(t(10), 10).unwrap();
        let (a, b) = (due[0].id, due[1].id);
        // a fails once and waits; b is delivered
        assert!(s.note_retry(a, t(12), "HTTP 500").unwrap());
        assert!(s.note_delivered(b, t(10)).unwrap());
        assert!(s.due_notes(t(11), 10).unwrap().is_empty());
        assert_eq!(s.next_note_at().unwrap(), Some(t(12)));
        drop(s);
        let s = StateStore::open(&path).unwrap();
        let due = s.due_notes(t(12), 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].id, due[0].attempts), (a, 1));
        assert_eq!(due[0].last_error.as_deref(), Some("HTTP 500"));
        // marks only move a pending note
        assert!(!s.note_retry(b, t(50), "late").unwrap());
        assert!(!s.note_failed(b, t(50), "late").unwrap());
        assert!(s.note_failed(a, t(13), "HTTP 404").unwrap());
        assert!(!s.note_delivered(a, t(14)).unwrap());
        assert_eq!(s.next_note_at().unwrap(), None);
        let failed = s.notes(&[NoteStatus::Failed]).unwrap();
        assert_eq!((failed[0].id, failed[0].attempts, failed[0].done), (a, 2, Some(t(13))));
        let delivered = s.notes(&[NoteStatus::Delivered]).unwrap();
        assert_eq!(delivered[0].id, b);
    }

    #[test]
    fn old_delivered_and_given_up_notes_are_pruned_but_pending_ones_stay() {
        let (_d, _p, s) = store();
        let notes =
            [note("soc", "a", w(0, 10)), note("soc", "b", w(0, 10)), note("soc", "c", w(0, 10))];
        s.enqueue(&notes, t(0)).unwrap();
        let ids: Vec<i64> = s.notes(&[]).unwrap().iter().map(|n| n.id).collect();
        s.note_delivered(ids[0], t(1)).unwrap();
        s.note_failed(ids[1], t(5), "HTTP 404").unwrap();
        assert_eq!(s.prune_notes(t(1)).unwrap(), 0);
        assert_eq!(s.prune_notes(t(2)).unwrap(), 1);
        assert_eq!(s.prune_notes(t(100)).unwrap(), 1);
        let left = s.notes(&[]).unwrap();
        assert_eq!((left.len(), left[0].id, left[0].status), (1, ids[2], NoteStatus::Pending));
        // The key of a pruned note is gone: a re-run of its window would notify again, which
        // is why only notes a month old are pruned (the service keeps 30 days of data).
    }

    #[test]
    fn a_reader_sees_the_outbox() {
        let (_d, path, s) = store();
        s.enqueue(&[note("soc", "a", w(0, 10))], t(10)).unwrap();
        let r = StateStore::open_read_only(&path).unwrap();
        assert_eq!(r.notes(&[NoteStatus::Pending]).unwrap().len(), 1);
        assert!(matches!(r.enqueue(&[], t(1)), Err(StateError::ReadOnly { .. })));
    }
}
