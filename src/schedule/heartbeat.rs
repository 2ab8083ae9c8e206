//! The daemon's own record in its state file: which process runs it (pid and the kernel's start
//! time of that pid, so a reused pid is not taken for it), since when, whether it stopped
//! cleanly, and the queries it schedules (id, cron, file), rewritten at each library load. `hunt
//! status` reads it to say `running` or `not running` and to show the daemon's queries rather
//! than whatever `./queries` holds.

use super::state::{Ctx, StateError, StateStore, from_ns};
use crate::quota::ledger::Owner;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A query as the daemon schedules it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledQuery {
    /// Its id.
    pub id: String,
    /// Its cron expression.
    pub schedule: String,
    /// The file it was read from.
    pub source: String,
}

/// The daemon that writes (or last wrote) a state file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonRecord {
    /// Its process id.
    pub pid: u32,
    /// The kernel's start time of that process (None where `/proc` is missing).
    pub process_start: Option<u64>,
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it stopped cleanly (None while it runs, or when it was killed).
    pub stopped: Option<DateTime<Utc>>,
    /// What it schedules, as of its last library load.
    pub queries: Vec<ScheduledQuery>,
}

/// Whether the recorded daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Its process is alive (same pid, same start time).
    Running,
    /// It stopped cleanly.
    Stopped,
    /// Its process is gone without a clean stop (killed, crashed, the machine restarted).
    Died,
}

impl DaemonRecord {
    /// Whether it runs, asking the kernel about its process.
    pub fn liveness(&self) -> Liveness {
        if self.stopped.is_some() {
            return Liveness::Stopped;
        }
        let alive = match self.process_start {
            Some(started) => crate::quota::process::is_alive(&Owner { pid: self.pid, started }),
            // No start time recorded (no /proc): the pid alone.
            None => std::path::Path::new(&format!("/proc/{}", self.pid)).exists(),
        };
        if alive { Liveness::Running } else { Liveness::Died }
    }
}

impl StateStore {
    /// Records this process as the file's daemon, started at `started`, scheduling `queries`
    /// (replacing any earlier record).
    pub fn record_daemon(
        &self,
        started: DateTime<Utc>,
        queries: &[ScheduledQuery],
    ) -> Result<(), StateError> {
        let me = crate::quota::process::this_process();
        let pid = me.map_or(std::process::id(), |o| o.pid);
        let process_start = me.and_then(|o| i64::try_from(o.started).ok());
        let started_ns = started.timestamp_nanos_opt().unwrap_or(0);
        let queries = serde_json::to_string(queries).unwrap_or_else(|_| "[]".to_owned());
        let conn = self.writer()?;
        conn.execute(
            "INSERT INTO daemon (id, pid, process_start, started_ns, stopped_ns, queries)
             VALUES (1, ?1, ?2, ?3, NULL, ?4)
             ON CONFLICT (id) DO UPDATE SET pid = ?1, process_start = ?2, started_ns = ?3,
                 stopped_ns = NULL, queries = ?4",
            params![pid, process_start, started_ns, queries],
        )
        .ctx(self.path(), "recording the daemon")?;
        Ok(())
    }

    /// Records that the daemon stopped cleanly at `at`.
    pub fn record_daemon_stopped(&self, at: DateTime<Utc>) -> Result<(), StateError> {
        let conn = self.writer()?;
        conn.execute(
            "UPDATE daemon SET stopped_ns = ?1 WHERE id = 1",
            [at.timestamp_nanos_opt().unwrap_or(0)],
        )
        .ctx(self.path(), "recording the daemon's stop")?;
        Ok(())
    }

    /// The file's daemon, if one ever ran on it.
    pub fn daemon(&self) -> Result<Option<DaemonRecord>, StateError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT pid, process_start, started_ns, stopped_ns, queries FROM daemon WHERE id = 1",
                [],
                |r| {
                    let pid: i64 = r.get(0)?;
                    let process_start: Option<i64> = r.get(1)?;
                    let stopped: Option<i64> = r.get(3)?;
                    let queries: String = r.get(4)?;
                    Ok((pid, process_start, r.get::<_, i64>(2)?, stopped, queries))
                },
            )
            .optional()
            .ctx(self.path(), "reading the daemon's record")?;
        Ok(row.map(|(pid, process_start, started, stopped, queries)| DaemonRecord {
            pid: u32::try_from(pid).unwrap_or(0),
            process_start: process_start.and_then(|s| u64::try_from(s).ok()),
            started: from_ns(started),
            stopped: stopped.map(from_ns),
            queries: serde_json::from_str(&queries).unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_daemon_record_round_trips_and_tells_running_from_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let store = StateStore::open(&path).unwrap();
        assert_eq!(store.daemon().unwrap(), None);
        let t = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let queries = vec![ScheduledQuery {
            id: "q".into(),
            schedule: "*/15 * * * *".into(),
            source: "queries/q.kql".into(),
        }];
        store.record_daemon(t, &queries).unwrap();
        // A reader (hunt status) sees it, and this process is alive.
        let reader = StateStore::open_read_only(&path).unwrap();
        let d = reader.daemon().unwrap().unwrap();
        assert_eq!((d.pid, d.started, d.stopped), (std::process::id(), t, None));
        assert_eq!(d.queries, queries);
        assert_eq!(d.liveness(), Liveness::Running);
        // A pid reused by another process, or gone: died.
        let other = DaemonRecord { process_start: d.process_start.map(|s| s + 1), ..d.clone() };
        assert_eq!(other.liveness(), Liveness::Died);
        store.record_daemon_stopped(t + chrono::Duration::hours(1)).unwrap();
        let d = reader.daemon().unwrap().unwrap();
        assert_eq!(d.stopped, Some(t + chrono::Duration::hours(1)));
        assert_eq!(d.liveness(), Liveness::Stopped);
        // A restart replaces the record and clears the stop.
        store.record_daemon(t + chrono::Duration::hours(2), &[]).unwrap();
        let d = reader.daemon().unwrap().unwrap();
        assert_eq!((d.stopped, d.queries.len()), (None, 0));
    }
}
