//! The scheduler's state, one SQLite file per tenant (`<state dir>/schedule-<tenant>.sqlite`):
//! per query the *watermark* (where its next window starts: the end of the last landed window,
//! or where [`StateStore::begin_at`] said the first window starts), every run, and every span
//! skipped for good (a *gap*).
//!
//! Windows tile: the watermark only moves from `w` to `end` over a run or a gap `[w, end)`, in
//! the same transaction that records it, so a crash leaves either both or neither, and there is
//! never an overlap (rows landed twice) or a hole (rows never landed).
//!
//! The file is in WAL mode with `synchronous=FULL` (a committed run survives a power cut), so
//! `hunt status` and `hunt plan` read it ([`StateStore::open_read_only`]) while the daemon
//! writes it; writers wait for each other up to 5 s (`busy_timeout`) and take the write lock
//! when their transaction begins (`BEGIN IMMEDIATE`), so a check-then-write is never raced.
//!
//! Instants are stored as integer nanoseconds since the Unix epoch (`i64`, years 1677–2262), so
//! windows compare exactly at the service's 100 ns precision and beyond. To read one by hand:
//! `sqlite3 FILE "select query_id, datetime(until_ns / 1e9, 'unixepoch') from watermarks"`.
//!
//! The file also holds the outbox of notifications (see [`outbox`]): a landed window's messages
//! are recorded in the transaction that moves its watermark, and delivered beside the schedule.
//!
//! The file carries `PRAGMA application_id` 0x68756E74 ("hunt") and a `schema_version` table;
//! [`StateStore::open`] applies any newer migrations, and refuses files written by a newer
//! hunt, foreign SQLite databases and files that are not SQLite at all, naming the file.

pub mod den;
pub mod outbox;

use crate::timespan::{Window, format_datetime};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// `PRAGMA application_id` of hunt's schedule state files: "hunt" in ASCII.
const APPLICATION_ID: i32 = 0x6875_6E74;

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, one step per version: `MIGRATIONS[i]` takes version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: watermarks, runs, gaps.
    "CREATE TABLE schema_version (version INTEGER NOT NULL);
     INSERT INTO schema_version (version) VALUES (0);
     CREATE TABLE watermarks (
         query_id TEXT PRIMARY KEY NOT NULL,
         until_ns INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE runs (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         query_id TEXT NOT NULL,
         start_ns INTEGER NOT NULL,
         end_ns INTEGER NOT NULL,
         status TEXT NOT NULL CHECK (status IN ('ok', 'incomplete', 'failed')),
         rows INTEGER NOT NULL CHECK (rows >= 0),
         files TEXT NOT NULL,
         request_ids TEXT NOT NULL,
         started_ns INTEGER NOT NULL,
         seconds REAL NOT NULL,
         error TEXT,
         advanced INTEGER NOT NULL
     );
     CREATE INDEX runs_by_query ON runs (query_id, id);
     CREATE TABLE gaps (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         query_id TEXT NOT NULL,
         start_ns INTEGER NOT NULL,
         end_ns INTEGER NOT NULL,
         reason TEXT NOT NULL
     );
     CREATE INDEX gaps_by_query ON gaps (query_id, id);",
    // 2: the outbox of notifications (see `outbox`).
    "CREATE TABLE notifications (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         notify TEXT NOT NULL,
         query_id TEXT NOT NULL,
         start_ns INTEGER NOT NULL,
         end_ns INTEGER NOT NULL,
         message TEXT NOT NULL,
         status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
         attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
         created_ns INTEGER NOT NULL,
         next_ns INTEGER NOT NULL,
         done_ns INTEGER,
         last_error TEXT,
         UNIQUE (notify, query_id, start_ns, end_ns)
     );
     CREATE INDEX notifications_due ON notifications (status, next_ns);",
    // 3: the daemon that writes the file (see `heartbeat`): its process, start, clean stop and
    // the queries it schedules, so `hunt status` tells whether it runs and what it runs.
    "CREATE TABLE daemon (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         pid INTEGER NOT NULL,
         process_start INTEGER,
         started_ns INTEGER NOT NULL,
         stopped_ns INTEGER,
         queries TEXT NOT NULL
     );",
    // 4: Defender Experts Notifications (see `den`): each DEN's last state, its history of
    // changes, and how far the incidents were read.
    "CREATE TABLE den_incidents (
         incident_id TEXT PRIMARY KEY NOT NULL,
         last_update TEXT NOT NULL,
         state TEXT NOT NULL,
         first_seen_ns INTEGER NOT NULL,
         seen_ns INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE TABLE den_history (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         incident_id TEXT NOT NULL,
         last_update TEXT NOT NULL,
         seen_ns INTEGER NOT NULL,
         changes TEXT NOT NULL,
         events TEXT NOT NULL
     );
     CREATE INDEX den_history_by_incident ON den_history (incident_id, id);
     CREATE TABLE den_sync (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         watermark TEXT,
         synced_ns INTEGER NOT NULL
     );",
];

/// The schema version this hunt writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// What went wrong with a state file; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file system refused (creating the folder, reading the file's metadata).
    #[error("schedule state {}: {what}: {source}", .path.display())]
    Io {
        /// The state file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite refused (locked for longer than the busy timeout, disk full, read-only folder, …).
    #[error("schedule state {}: {what}: {source}", .path.display())]
    Sqlite {
        /// The state file.
        path: PathBuf,
        /// What was being done.
        what: String,
        /// The cause.
        source: rusqlite::Error,
    },
    /// Not a SQLite database, damaged, or holding values hunt never writes.
    #[error(
        "schedule state {} is corrupt or not a SQLite database ({detail}); move it aside to start \
         over (each query then begins again from its first window)",
        .path.display()
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// A SQLite database of something else: left untouched.
    #[error(
        "{} is a SQLite database but not a hunt schedule state file; refusing to touch it (move \
         it aside or use another state folder)",
        .path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer hunt.
    #[error(
        "schedule state {} has schema version {found}, newer than this hunt knows ({known}): \
         upgrade hunt",
        .path.display()
    )]
    TooNew {
        /// The state file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// This hunt's [`SCHEMA_VERSION`].
        known: u32,
    },
    /// Opened read-only but written by an older hunt: only a writer migrates.
    #[error(
        "schedule state {} has schema version {found}, older than this hunt's {known}; \
         `hunt schedule` upgrades it when it starts",
        .path.display()
    )]
    TooOld {
        /// The state file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// This hunt's [`SCHEMA_VERSION`].
        known: u32,
    },
    /// A run or gap that does not start at the watermark: recording it would overlap landed
    /// windows or leave a hole. Nothing was written.
    #[error(
        "schedule state {}: query {query_id}: refusing to advance over the {what} {window}: it \
         does not start at the watermark {} (windows must tile: no overlap, no hole)",
        .path.display(), format_datetime(*.watermark)
    )]
    NotContiguous {
        /// The state file.
        path: PathBuf,
        /// The query.
        query_id: String,
        /// "run" or "gap".
        what: &'static str,
        /// The window offered.
        window: Window,
        /// The query's watermark.
        watermark: DateTime<Utc>,
    },
    /// A record refused before touching the file (empty window, a failed run asked to advance,
    /// an instant out of the stored range, …). Nothing was written.
    #[error("schedule state {}: query {query_id}: {reason}", .path.display())]
    Invalid {
        /// The state file.
        path: PathBuf,
        /// The query.
        query_id: String,
        /// Why.
        reason: String,
    },
    /// The file cannot be used as hunt needs (say, SQLite cannot put it in WAL mode).
    #[error("schedule state {}: {reason}", .path.display())]
    Unsupported {
        /// The state file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A write through a store opened with [`StateStore::open_read_only`].
    #[error("schedule state {} is open read-only", .path.display())]
    ReadOnly {
        /// The state file.
        path: PathBuf,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// Every row landed.
    Ok,
    /// Landed, but some part was still cut at the minimum window (`hunt.complete=false`).
    Incomplete,
    /// Nothing (or not everything) landed; the window must run again.
    Failed,
}

impl RunStatus {
    /// `ok`, `incomplete` or `failed`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<RunStatus> {
        match s {
            "ok" => Some(RunStatus::Ok),
            "incomplete" => Some(RunStatus::Incomplete),
            "failed" => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run of one query over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The query.
    pub query_id: String,
    /// The window asked for.
    pub window: Window,
    /// How it ended.
    pub status: RunStatus,
    /// Rows landed.
    pub rows: u64,
    /// Files written.
    pub files: Vec<String>,
    /// The service's request ids.
    pub request_ids: Vec<String>,
    /// When it started (wall time).
    pub started: DateTime<Utc>,
    /// How long it took.
    pub seconds: f64,
    /// What went wrong, for failed and incomplete runs.
    pub error: Option<String>,
}

/// A span skipped for good (say, older than the service's 30 days of data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The span.
    pub window: Window,
    /// Why it was skipped.
    pub reason: String,
}

/// One query's state, for `hunt status`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryState {
    /// The query.
    pub query_id: String,
    /// Where its next window starts (covered until), if it has been seen.
    pub watermark: Option<DateTime<Utc>>,
    /// Its newest run.
    pub last_run: Option<RunRecord>,
    /// Failed runs since its last run that did not fail (so 0 when the last run did not fail).
    pub consecutive_failures: u64,
    /// Runs recorded.
    pub total_runs: u64,
    /// Rows landed over all its runs.
    pub total_rows: u64,
    /// Spans skipped for good, oldest first.
    pub gaps: Vec<Gap>,
}

/// The state file of one tenant's schedule.
///
/// One SQLite connection behind a mutex: `Send + Sync`, so a daemon shares one store (in an
/// `Arc`) among its tasks; calls are short and blocking (a commit waits for `fsync`), so async
/// callers may prefer `spawn_blocking`. Several stores may be open on one file, in one process
/// or several: SQLite serialises their writes.
#[derive(Debug)]
pub struct StateStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    read_only: bool,
}

/// `Result::map_err` to a [`StateError`] naming the file, sorting SQLite's "not a database" and
/// "corrupt" answers and undecodable values into [`StateError::Corrupt`].
pub(super) trait Ctx<T> {
    fn ctx(self, path: &Path, what: &str) -> Result<T, StateError>;
}

impl<T> Ctx<T> for rusqlite::Result<T> {
    fn ctx(self, path: &Path, what: &str) -> Result<T, StateError> {
        self.map_err(|source| {
            use rusqlite::ffi::ErrorCode;
            let corrupt = matches!(
                source.sqlite_error_code(),
                Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
            ) || matches!(
                source,
                rusqlite::Error::FromSqlConversionFailure(..)
                    | rusqlite::Error::InvalidColumnType(..)
                    | rusqlite::Error::IntegralValueOutOfRange(..)
            );
            if corrupt {
                StateError::Corrupt { path: path.to_owned(), detail: format!("{what}: {source}") }
            } else {
                StateError::Sqlite { path: path.to_owned(), what: what.to_owned(), source }
            }
        })
    }
}

pub(super) fn from_ns(ns: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(ns)
}

/// A value read from the file that hunt never writes.
fn bad_value(col: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, what.into())
}

const RUN_COLUMNS: &str =
    "query_id, start_ns, end_ns, status, rows, files, request_ids, started_ns, seconds, error";

fn run_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    let status: String = row.get(3)?;
    let rows: i64 = row.get(4)?;
    let list = |col: usize| -> rusqlite::Result<Vec<String>> {
        let text: String = row.get(col)?;
        serde_json::from_str(&text).map_err(|e| bad_value(col, format!("list {text:?}: {e}")))
    };
    Ok(RunRecord {
        query_id: row.get(0)?,
        window: Window { start: from_ns(row.get(1)?), end: from_ns(row.get(2)?) },
        status: RunStatus::parse(&status)
            .ok_or_else(|| bad_value(3, format!("run status {status:?}")))?,
        rows: u64::try_from(rows).map_err(|_| bad_value(4, format!("row count {rows}")))?,
        files: list(5)?,
        request_ids: list(6)?,
        started: from_ns(row.get(7)?),
        seconds: row.get(8)?,
        error: row.get(9)?,
    })
}

/// What a file holds before migrations: `None` for a blank file (new, or zero bytes), else
/// hunt's schema version. Refuses foreign, corrupt and too new files.
fn identify(conn: &Connection, path: &Path) -> Result<Option<u32>, StateError> {
    let app_id: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .ctx(path, "reading its header")?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .ctx(path, "listing its tables")?;
    if app_id == 0 && tables.is_empty() {
        return Ok(None);
    }
    if app_id != APPLICATION_ID || !tables.iter().any(|t| t == "schema_version") {
        return Err(StateError::Foreign { path: path.to_owned() });
    }
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM schema_version")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .ctx(path, "reading its schema version")?;
    let found = match versions[..] {
        [v] => u32::try_from(v).map_err(|_| StateError::Corrupt {
            path: path.to_owned(),
            detail: format!("schema version {v}"),
        })?,
        _ => {
            return Err(StateError::Corrupt {
                path: path.to_owned(),
                detail: format!("{} schema_version rows, expected 1", versions.len()),
            });
        }
    };
    if found > SCHEMA_VERSION {
        return Err(StateError::TooNew { path: path.to_owned(), found, known: SCHEMA_VERSION });
    }
    Ok(Some(found))
}

/// Brings the file to [`SCHEMA_VERSION`] in one `BEGIN IMMEDIATE` transaction (so two
/// processes opening a new file at once create it once).
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx(path, "locking it to set up its schema")?;
    let from = match identify(&tx, path)? {
        Some(v) => v,
        None => {
            tx.pragma_update(None, "application_id", APPLICATION_ID)
                .ctx(path, "marking it as hunt's")?;
            0
        }
    };
    if from == SCHEMA_VERSION {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(sql).ctx(path, &format!("migrating to schema version {}", i + 1))?;
        tx.execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])
            .ctx(path, "updating its schema version")?;
    }
    tx.commit().ctx(path, "committing its schema")
}

impl StateStore {
    /// Opens (creating the file, its folder and its schema, or migrating an older schema) the
    /// state file at `path` for reading and writing: WAL, `synchronous=FULL`, 5 s busy timeout.
    pub fn open(path: &Path) -> Result<StateStore, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
                path: path.to_owned(),
                what: "cannot create its folder",
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).ctx(path, "cannot open it")?;
        conn.busy_timeout(BUSY_TIMEOUT).ctx(path, "setting its busy timeout")?;
        // Refuse foreign and corrupt files before changing anything in them.
        identify(&conn, path)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .ctx(path, "switching it to WAL")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StateError::Unsupported {
                path: path.to_owned(),
                reason: format!(
                    "SQLite kept journal mode {mode:?} instead of WAL (is it on a network file \
                     system?)"
                ),
            });
        }
        conn.pragma_update(None, "synchronous", "FULL").ctx(path, "setting synchronous=FULL")?;
        migrate(&mut conn, path)?;
        Ok(StateStore { path: path.to_owned(), conn: Mutex::new(conn), read_only: false })
    }

    /// Opens the state file read-only, for `hunt status` and `hunt plan` while a daemon may be
    /// writing it: sees every committed transaction as of each call. A missing (or blank) file
    /// is an empty state. Writes through it fail with [`StateError::ReadOnly`].
    pub fn open_read_only(path: &Path) -> Result<StateStore, StateError> {
        let empty = || -> Result<StateStore, StateError> {
            let mut conn = Connection::open_in_memory().ctx(path, "opening an empty state")?;
            migrate(&mut conn, path)?;
            Ok(StateStore { path: path.to_owned(), conn: Mutex::new(conn), read_only: true })
        };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return empty(),
            Err(source) => {
                return Err(StateError::Io {
                    path: path.to_owned(),
                    what: "cannot read it",
                    source,
                });
            }
            Ok(_) => {}
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).ctx(path, "cannot open it")?;
        conn.busy_timeout(BUSY_TIMEOUT).ctx(path, "setting its busy timeout")?;
        match identify(&conn, path)? {
            None => empty(),
            Some(found) if found < SCHEMA_VERSION => {
                Err(StateError::TooOld { path: path.to_owned(), found, known: SCHEMA_VERSION })
            }
            Some(_) => {
                Ok(StateStore { path: path.to_owned(), conn: Mutex::new(conn), read_only: true })
            }
        }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no transaction open (a dropped transaction
        // rolls back), so the connection is still good.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn writer(&self) -> Result<MutexGuard<'_, Connection>, StateError> {
        if self.read_only {
            return Err(StateError::ReadOnly { path: self.path.clone() });
        }
        Ok(self.conn())
    }

    fn invalid(&self, query_id: &str, reason: String) -> StateError {
        StateError::Invalid { path: self.path.clone(), query_id: query_id.to_owned(), reason }
    }

    fn ns(&self, query_id: &str, what: &str, t: DateTime<Utc>) -> Result<i64, StateError> {
        t.timestamp_nanos_opt().ok_or_else(|| {
            self.invalid(
                query_id,
                format!("{what} {} is out of the stored range (1677–2262)", format_datetime(t)),
            )
        })
    }

    /// Where `query_id`'s next window starts: the end of its last landed window (or skipped
    /// gap), or its [`begin_at`](Self::begin_at) start; `None` for a query never seen.
    pub fn watermark(&self, query_id: &str) -> Result<Option<DateTime<Utc>>, StateError> {
        let conn = self.conn();
        let ns: Option<i64> = conn
            .query_row("SELECT until_ns FROM watermarks WHERE query_id = ?1", [query_id], |r| {
                r.get(0)
            })
            .optional()
            .ctx(&self.path, "reading a watermark")?;
        Ok(ns.map(from_ns))
    }

    /// Every query's watermark.
    pub fn watermarks(&self) -> Result<BTreeMap<String, DateTime<Utc>>, StateError> {
        let conn = self.conn();
        let pairs: Vec<(String, i64)> = conn
            .prepare("SELECT query_id, until_ns FROM watermarks")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .ctx(&self.path, "reading the watermarks")?;
        Ok(pairs.into_iter().map(|(q, ns)| (q, from_ns(ns))).collect())
    }

    /// Sets where `query_id`'s first window starts, only if it has no watermark yet. Returns
    /// whether it was set (false: the query was already known, nothing changed).
    pub fn begin_at(&self, query_id: &str, start: DateTime<Utc>) -> Result<bool, StateError> {
        let ns = self.ns(query_id, "start", start)?;
        let conn = self.writer()?;
        let changed = conn
            .execute(
                "INSERT INTO watermarks (query_id, until_ns) VALUES (?1, ?2)
                 ON CONFLICT (query_id) DO NOTHING",
                params![query_id, ns],
            )
            .ctx(&self.path, "setting a first window's start")?;
        Ok(changed == 1)
    }

    /// Records `run` and, when `advance_to` is `Some`, moves the query's watermark to it, in one
    /// transaction.
    ///
    /// Advancing is refused (an error, nothing written) unless the run tiles: `advance_to` must
    /// be `run.window.end`, the run must not have failed, and `run.window.start` must be the
    /// current watermark when the query has one ([`StateError::NotContiguous`]). A failed run
    /// (or any run with `advance_to = None`) is recorded without moving the watermark.
    pub fn record(
        &self,
        run: &RunRecord,
        advance_to: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        self.record_notifying(run, advance_to, &[], run.started)
    }

    /// [`record`](Self::record), putting `notes` in the outbox (each once per notifier, query
    /// and window: one already there is kept as it is) in the same transaction, at `now`: a
    /// window's notifications are never lost once its watermark has moved, nor recorded for a
    /// window that did not land.
    pub fn record_notifying(
        &self,
        run: &RunRecord,
        advance_to: Option<DateTime<Utc>>,
        notes: &[outbox::NewNote],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let q = run.query_id.as_str();
        if run.window.is_empty() {
            return Err(self.invalid(q, format!("the run's window {} is empty", run.window)));
        }
        if let Some(to) = advance_to {
            if run.status == RunStatus::Failed {
                return Err(self.invalid(
                    q,
                    format!("the failed run over {} cannot advance the watermark", run.window),
                ));
            }
            if to != run.window.end {
                return Err(self.invalid(
                    q,
                    format!(
                        "advancing to {} after a run over {}: the watermark can only move to \
                         the end of the window that landed",
                        format_datetime(to),
                        run.window
                    ),
                ));
            }
        }
        if !run.seconds.is_finite() {
            return Err(self.invalid(q, format!("run duration {} seconds", run.seconds)));
        }
        let start = self.ns(q, "window start", run.window.start)?;
        let end = self.ns(q, "window end", run.window.end)?;
        let started = self.ns(q, "start time", run.started)?;
        let rows = i64::try_from(run.rows)
            .map_err(|_| self.invalid(q, format!("row count {} is too large", run.rows)))?;
        let files = serde_json::to_string(&run.files).unwrap_or_else(|_| "[]".to_owned());
        let request_ids =
            serde_json::to_string(&run.request_ids).unwrap_or_else(|_| "[]".to_owned());

        let path = &self.path;
        let mut conn = self.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(path, "locking it to record a run")?;
        if advance_to.is_some() {
            self.check_contiguous(&tx, q, "run", run.window)?;
        }
        tx.execute(
            "INSERT INTO runs (query_id, start_ns, end_ns, status, rows, files, request_ids,
                               started_ns, seconds, error, advanced)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                q,
                start,
                end,
                run.status.as_str(),
                rows,
                files,
                request_ids,
                started,
                run.seconds,
                run.error,
                advance_to.is_some()
            ],
        )
        .ctx(path, "recording a run")?;
        if advance_to.is_some() {
            set_watermark(&tx, path, q, end)?;
        }
        self.enqueue_in(&tx, notes, now)?;
        tx.commit().ctx(path, "committing a run")
    }

    /// Records `gap`, a span of `query_id` that will never run, and moves the watermark past
    /// it, in one transaction. Like [`record`](Self::record), refused unless `gap.start` is the
    /// current watermark (when the query has one).
    pub fn record_gap(&self, query_id: &str, gap: Window, reason: &str) -> Result<(), StateError> {
        if gap.is_empty() {
            return Err(self.invalid(query_id, format!("the gap {gap} is empty")));
        }
        let start = self.ns(query_id, "gap start", gap.start)?;
        let end = self.ns(query_id, "gap end", gap.end)?;
        let path = &self.path;
        let mut conn = self.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx(path, "locking it to record a gap")?;
        self.check_contiguous(&tx, query_id, "gap", gap)?;
        tx.execute(
            "INSERT INTO gaps (query_id, start_ns, end_ns, reason) VALUES (?1, ?2, ?3, ?4)",
            params![query_id, start, end, reason],
        )
        .ctx(path, "recording a gap")?;
        set_watermark(&tx, path, query_id, end)?;
        tx.commit().ctx(path, "committing a gap")
    }

    fn check_contiguous(
        &self,
        conn: &Connection,
        query_id: &str,
        what: &'static str,
        window: Window,
    ) -> Result<(), StateError> {
        let current: Option<i64> = conn
            .query_row("SELECT until_ns FROM watermarks WHERE query_id = ?1", [query_id], |r| {
                r.get(0)
            })
            .optional()
            .ctx(&self.path, "reading a watermark")?;
        match current.map(from_ns) {
            Some(watermark) if watermark != window.start => Err(StateError::NotContiguous {
                path: self.path.clone(),
                query_id: query_id.to_owned(),
                what,
                window,
                watermark,
            }),
            _ => Ok(()),
        }
    }

    /// Up to `limit` runs, newest first, of one query or of all.
    pub fn history(
        &self,
        query_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RunRecord>, StateError> {
        let conn = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR query_id = ?1
             ORDER BY id DESC LIMIT ?2"
        ))
        .and_then(|mut s| s.query_map(params![query_id, limit], run_from_row)?.collect())
        .ctx(&self.path, "reading runs")
    }

    /// Every query the file knows (watermark, runs or gaps), by id, read in one snapshot.
    pub fn summary(&self) -> Result<Vec<QueryState>, StateError> {
        let path = &self.path;
        let mut conn = self.conn();
        let tx = conn.transaction().ctx(path, "beginning a read")?;
        let mut states: BTreeMap<String, QueryState> = BTreeMap::new();
        let what = "reading the summary";
        let marks: Vec<(String, i64)> = tx
            .prepare("SELECT query_id, until_ns FROM watermarks")
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .ctx(path, what)?;
        for (q, ns) in marks {
            entry(&mut states, q).watermark = Some(from_ns(ns));
        }
        let totals: Vec<(String, i64, i64)> = tx
            .prepare(
                "SELECT query_id, COUNT(*), COALESCE(SUM(rows), 0) FROM runs GROUP BY query_id",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
            .ctx(path, what)?;
        for (q, runs, rows) in totals {
            let s = entry(&mut states, q);
            s.total_runs = runs.max(0) as u64;
            s.total_rows = rows.max(0) as u64;
        }
        let last: Vec<RunRecord> = tx
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE id IN (SELECT MAX(id) FROM runs GROUP BY query_id)"
            ))
            .and_then(|mut s| s.query_map([], run_from_row)?.collect())
            .ctx(path, what)?;
        for run in last {
            let q = run.query_id.clone();
            entry(&mut states, q).last_run = Some(run);
        }
        let failures: Vec<(String, i64)> = tx
            .prepare(
                "SELECT r.query_id, COUNT(*) FROM runs r
                 WHERE r.status = 'failed' AND r.id > COALESCE(
                     (SELECT MAX(s.id) FROM runs s
                      WHERE s.query_id = r.query_id AND s.status <> 'failed'), 0)
                 GROUP BY r.query_id",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .ctx(path, what)?;
        for (q, n) in failures {
            entry(&mut states, q).consecutive_failures = n.max(0) as u64;
        }
        let gaps: Vec<(String, i64, i64, String)> = tx
            .prepare("SELECT query_id, start_ns, end_ns, reason FROM gaps ORDER BY id")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect()
            })
            .ctx(path, what)?;
        for (q, start, end, reason) in gaps {
            let window = Window { start: from_ns(start), end: from_ns(end) };
            entry(&mut states, q).gaps.push(Gap { window, reason });
        }
        tx.finish().ctx(path, "ending a read")?;
        Ok(states.into_values().collect())
    }
}

/// `query_id`'s entry in `states`, added blank when missing.
fn entry(states: &mut BTreeMap<String, QueryState>, query_id: String) -> &mut QueryState {
    states.entry(query_id.clone()).or_insert_with(|| QueryState {
        query_id,
        watermark: None,
        last_run: None,
        consecutive_failures: 0,
        total_runs: 0,
        total_rows: 0,
        gaps: Vec::new(),
    })
}

fn set_watermark(
    conn: &Connection,
    path: &Path,
    query_id: &str,
    ns: i64,
) -> Result<(), StateError> {
    conn.execute(
        "INSERT INTO watermarks (query_id, until_ns) VALUES (?1, ?2)
         ON CONFLICT (query_id) DO UPDATE SET until_ns = excluded.until_ns",
        params![query_id, ns],
    )
    .ctx(path, "moving a watermark")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use std::sync::Arc;

    /// 2026-11-22T10:00Z plus `min` minutes.
    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn w(start: i64, end: i64) -> Window {
        Window { start: t(start), end: t(end) }
    }

    fn run(q: &str, window: Window, status: RunStatus) -> RunRecord {
        RunRecord {
            query_id: q.to_owned(),
            window,
            status,
            rows: 42,
            files: vec![format!("out/{q}/date=2026-11-22/{}.parquet", window.file_stem())],
            request_ids: vec!["req-1".to_owned(), "req-2".to_owned()],
            started: window.end + chrono::Duration::nanoseconds(123_456_789),
            seconds: 1.25,
            error: (status != RunStatus::Ok).then(|| format!("{status} over {window}")),
        }
    }

    fn store() -> (tempfile::TempDir, PathBuf, StateStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/sub/schedule-t.sqlite");
        let store = StateStore::open(&path).unwrap();
        (dir, path, store)
    }

    #[test]
    fn runs_and_watermarks_round_trip_exactly() {
        let (_d, _p, s) = store();
        assert_eq!(s.watermark("a").unwrap(), None);
        // a bound with nanoseconds survives exactly
        let start = t(0) + chrono::Duration::nanoseconds(1);
        let first = run("a", Window { start, end: t(15) }, RunStatus::Ok);
        s.record(&first, Some(t(15))).unwrap();
        let second = run("a", w(15, 30), RunStatus::Incomplete);
        s.record(&second, Some(t(30))).unwrap();
        s.begin_at("b", t(-60)).unwrap();
        assert_eq!(s.watermark("a").unwrap(), Some(t(30)));
        assert_eq!(
            s.watermarks().unwrap(),
            BTreeMap::from([("a".to_owned(), t(30)), ("b".to_owned(), t(-60))])
        );
        assert_eq!(s.history(Some("a"), 10).unwrap(), vec![second.clone(), first.clone()]);
        assert_eq!(s.history(None, 1).unwrap(), vec![second]);
        assert_eq!(s.history(Some("b"), 10).unwrap(), vec![]);
    }

    #[test]
    fn record_advances_exactly_to_each_windows_end() {
        let (_d, _p, s) = store();
        assert!(s.begin_at("q", t(0)).unwrap());
        for i in 0..3 {
            let window = w(i * 10, i * 10 + 10);
            s.record(&run("q", window, RunStatus::Ok), Some(window.end)).unwrap();
            assert_eq!(s.watermark("q").unwrap(), Some(window.end));
        }
    }

    #[test]
    fn overlapping_or_gapped_advances_are_refused_and_change_nothing() {
        let (_d, _p, s) = store();
        s.record(&run("q", w(0, 10), RunStatus::Ok), Some(t(10))).unwrap();
        let one_ns = chrono::Duration::nanoseconds(1);
        let offers = [
            (w(5, 20), "overlap"),
            (w(11, 20), "hole"),
            (Window { start: t(10) - one_ns, end: t(20) }, "1 ns overlap"),
            (Window { start: t(10) + one_ns, end: t(20) }, "1 ns hole"),
        ];
        for (window, why) in offers {
            let err = s.record(&run("q", window, RunStatus::Ok), Some(window.end)).unwrap_err();
            assert!(matches!(err, StateError::NotContiguous { .. }), "{why}: {err}");
            assert!(err.to_string().contains("schedule-t.sqlite"), "{err}");
            let err = s.record_gap("q", window, "old").unwrap_err();
            assert!(matches!(err, StateError::NotContiguous { .. }), "{why}: {err}");
        }
        // advancing anywhere but the window's end
        let err = s.record(&run("q", w(10, 20), RunStatus::Ok), Some(t(15))).unwrap_err();
        assert!(matches!(err, StateError::Invalid { .. }), "{err}");
        let err = s.record(&run("q", w(10, 10), RunStatus::Ok), None).unwrap_err();
        assert!(matches!(err, StateError::Invalid { .. }), "{err}");
        assert_eq!(s.watermark("q").unwrap(), Some(t(10)));
        assert_eq!(s.history(None, 100).unwrap().len(), 1);
        assert!(s.summary().unwrap()[0].gaps.is_empty());
        // the exact continuation is still accepted
        s.record(&run("q", w(10, 20), RunStatus::Ok), Some(t(20))).unwrap();
        assert_eq!(s.watermark("q").unwrap(), Some(t(20)));
    }

    #[test]
    fn a_failed_run_is_recorded_without_advancing() {
        let (_d, _p, s) = store();
        s.begin_at("q", t(0)).unwrap();
        s.record(&run("q", w(0, 10), RunStatus::Failed), None).unwrap();
        assert_eq!(s.watermark("q").unwrap(), Some(t(0)));
        let err = s.record(&run("q", w(0, 10), RunStatus::Failed), Some(t(10))).unwrap_err();
        assert!(matches!(err, StateError::Invalid { .. }), "{err}");
        assert_eq!(s.watermark("q").unwrap(), Some(t(0)));
        let history = s.history(Some("q"), 10).unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].status, RunStatus::Failed);
        assert_eq!(
            history[0].error.as_deref(),
            Some("failed over 2026-11-22T10:00:00Z/2026-11-22T10:10:00Z")
        );
        // the retry of the same window then advances
        s.record(&run("q", w(0, 10), RunStatus::Ok), Some(t(10))).unwrap();
        assert_eq!(s.watermark("q").unwrap(), Some(t(10)));
    }

    #[test]
    fn begin_at_only_sets_new_queries() {
        let (_d, _p, s) = store();
        assert!(s.begin_at("q", t(0)).unwrap());
        assert!(!s.begin_at("q", t(-100)).unwrap());
        assert_eq!(s.watermark("q").unwrap(), Some(t(0)));
        s.record(&run("q", w(0, 5), RunStatus::Ok), Some(t(5))).unwrap();
        assert!(!s.begin_at("q", t(0)).unwrap());
        assert_eq!(s.watermark("q").unwrap(), Some(t(5)));
        // a query first seen through a run is not new either
        s.record(&run("r", w(3, 4), RunStatus::Ok), Some(t(4))).unwrap();
        assert!(!s.begin_at("r", t(0)).unwrap());
        assert_eq!(s.watermark("r").unwrap(), Some(t(4)));
    }

    #[test]
    fn gaps_are_recorded_and_move_the_watermark() {
        let (_d, _p, s) = store();
        s.begin_at("q", t(-100_000)).unwrap();
        s.record_gap("q", w(-100_000, -40_000), "older than the service's 30 days").unwrap();
        assert_eq!(s.watermark("q").unwrap(), Some(t(-40_000)));
        s.record(&run("q", w(-40_000, -39_000), RunStatus::Ok), Some(t(-39_000))).unwrap();
        let summary = s.summary().unwrap();
        assert_eq!(
            summary[0].gaps,
            vec![Gap {
                window: w(-100_000, -40_000),
                reason: "older than the service's 30 days".to_owned()
            }]
        );
        let err = s.record_gap("q", w(-40_000, -30_000), "x").unwrap_err();
        assert!(matches!(err, StateError::NotContiguous { .. }), "{err}");
    }

    #[test]
    fn summary_counts_runs_rows_and_consecutive_failures() {
        let (_d, _p, s) = store();
        s.record(&run("a", w(0, 10), RunStatus::Failed), None).unwrap();
        s.record(&run("a", w(0, 10), RunStatus::Ok), Some(t(10))).unwrap();
        s.record(&run("a", w(10, 20), RunStatus::Failed), None).unwrap();
        s.record(&run("b", w(0, 10), RunStatus::Ok), Some(t(10))).unwrap();
        s.record(&run("a", w(10, 20), RunStatus::Failed), None).unwrap();
        s.begin_at("c", t(0)).unwrap();
        let summary = s.summary().unwrap();
        let ids: Vec<_> = summary.iter().map(|q| q.query_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let a = &summary[0];
        assert_eq!((a.total_runs, a.total_rows, a.consecutive_failures), (4, 168, 2));
        assert_eq!(a.watermark, Some(t(10)));
        assert_eq!(a.last_run.as_ref().unwrap().status, RunStatus::Failed);
        let b = &summary[1];
        assert_eq!((b.total_runs, b.consecutive_failures), (1, 0));
        assert_eq!(b.last_run, Some(run("b", w(0, 10), RunStatus::Ok)));
        let c = &summary[2];
        assert_eq!((c.total_runs, c.last_run.is_none(), c.watermark), (0, true, Some(t(0))));
    }

    #[test]
    fn everything_survives_a_restart() {
        let (_d, path, s) = store();
        s.begin_at("q", t(-10)).unwrap();
        s.record_gap("q", w(-10, 0), "old").unwrap();
        s.record(&run("q", w(0, 10), RunStatus::Ok), Some(t(10))).unwrap();
        s.record(&run("q", w(10, 20), RunStatus::Failed), None).unwrap();
        let before = (s.watermarks().unwrap(), s.history(None, 100).unwrap(), s.summary().unwrap());
        drop(s);
        let s = StateStore::open(&path).unwrap();
        let after = (s.watermarks().unwrap(), s.history(None, 100).unwrap(), s.summary().unwrap());
        assert_eq!(before, after);
        assert_eq!(after.1.len(), 2);
        s.record(&run("q", w(10, 20), RunStatus::Ok), Some(t(20))).unwrap();
    }

    #[test]
    fn a_reader_sees_the_writers_commits_while_it_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schedule-t.sqlite");
        // no file yet: an empty state, and nothing created
        let empty = StateStore::open_read_only(&path).unwrap();
        assert!(empty.summary().unwrap().is_empty());
        assert!(matches!(empty.begin_at("q", t(0)), Err(StateError::ReadOnly { .. })));
        assert!(!path.exists());

        let writer = StateStore::open(&path).unwrap();
        let reader = StateStore::open_read_only(&path).unwrap();
        assert_eq!(reader.watermark("q").unwrap(), None);
        writer.record(&run("q", w(0, 10), RunStatus::Ok), Some(t(10))).unwrap();
        assert_eq!(reader.watermark("q").unwrap(), Some(t(10)));
        writer.record(&run("q", w(10, 20), RunStatus::Ok), Some(t(20))).unwrap();
        assert_eq!(reader.summary().unwrap()[0].total_runs, 2);
        assert_eq!(reader.history(None, 10).unwrap().len(), 2);
        let err = reader.record(&run("q", w(20, 30), RunStatus::Ok), Some(t(30))).unwrap_err();
        assert!(matches!(err, StateError::ReadOnly { .. }), "{err}");
        drop(reader);
        // and after the daemon has stopped (its -wal and -shm files gone)
        drop(writer);
        let reader = StateStore::open_read_only(&path).unwrap();
        assert_eq!(reader.watermark("q").unwrap(), Some(t(20)));
    }

    #[test]
    fn a_corrupt_or_foreign_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("schedule-garbage.sqlite");
        std::fs::write(&garbage, b"this is not a database, just some bytes\n".repeat(200)).unwrap();
        for result in [StateStore::open(&garbage), StateStore::open_read_only(&garbage)] {
            let err = result.unwrap_err();
            assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
            assert!(err.to_string().contains(&garbage.display().to_string()), "{err}");
        }

        let foreign = dir.path().join("schedule-foreign.sqlite");
        let conn = Connection::open(&foreign).unwrap();
        conn.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
        drop(conn);
        let bytes = std::fs::read(&foreign).unwrap();
        for result in [StateStore::open(&foreign), StateStore::open_read_only(&foreign)] {
            let err = result.unwrap_err();
            assert!(matches!(err, StateError::Foreign { .. }), "{err:?}");
            assert!(err.to_string().contains("schedule-foreign.sqlite"), "{err}");
        }
        assert_eq!(std::fs::read(&foreign).unwrap(), bytes, "left untouched");
    }

    #[test]
    fn schema_versions_are_checked() {
        let (_d, path, s) = store();
        drop(s);
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE schema_version SET version = 99", []).unwrap();
        drop(conn);
        let err = StateStore::open(&path).unwrap_err();
        assert!(matches!(err, StateError::TooNew { found: 99, .. }), "{err}");
        let conn = Connection::open(&path).unwrap();
        conn.execute("UPDATE schema_version SET version = 0", []).unwrap();
        drop(conn);
        let err = StateStore::open_read_only(&path).unwrap_err();
        assert!(matches!(err, StateError::TooOld { found: 0, .. }), "{err}");
    }

    #[test]
    fn concurrent_writers_are_serialised() {
        let (_d, path, shared) = store();
        let shared = Arc::new(shared);
        shared.begin_at("contested", t(0)).unwrap();
        // two threads on one store, two more each with its own connection (as two processes)
        let stores: Vec<Arc<StateStore>> = vec![
            shared.clone(),
            shared,
            Arc::new(StateStore::open(&path).unwrap()),
            Arc::new(StateStore::open(&path).unwrap()),
        ];
        let handles: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                std::thread::spawn(move || {
                    let mut advanced = 0;
                    for n in 0..10 {
                        let q = format!("q{i}");
                        s.record(&run(&q, w(n, n + 1), RunStatus::Ok), Some(t(n + 1))).unwrap();
                        // all race to advance one query: each from the watermark it read
                        let from = s.watermark("contested").unwrap().unwrap();
                        let window =
                            Window { start: from, end: from + chrono::Duration::minutes(1) };
                        match s.record(&run("contested", window, RunStatus::Ok), Some(window.end)) {
                            Ok(()) => advanced += 1,
                            Err(StateError::NotContiguous { .. }) => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                    advanced
                })
            })
            .collect();
        let advanced: i64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let s = StateStore::open_read_only(&path).unwrap();
        for i in 0..4 {
            assert_eq!(s.history(Some(&format!("q{i}")), 100).unwrap().len(), 10, "no lost run");
            assert_eq!(s.watermark(&format!("q{i}")).unwrap(), Some(t(10)));
        }
        // the contested query's runs tile exactly: one per minute, none twice
        let contested = s.history(Some("contested"), 100).unwrap();
        assert_eq!(contested.len() as i64, advanced);
        assert_eq!(s.watermark("contested").unwrap(), Some(t(advanced)));
        for (k, r) in contested.iter().rev().enumerate() {
            assert_eq!(r.window, w(k as i64, k as i64 + 1));
        }
    }
}
