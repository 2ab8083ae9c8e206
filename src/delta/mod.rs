//! Delta Lake output: hunt writes the Delta transaction log itself (reader version 1, writer
//! version 2: no deletion vectors, no column mapping), over any `object_store` store, one table
//! per query at `<dest>/<query>/`, partitioned by `date` (the event day) and, when output is per
//! tenant, by `tenant` first.
//!
//! The module only owns the log: the window's data files are written and uploaded by the output
//! layer (with [`data_schema`]/[`to_delta_batch`] for microsecond timestamps, [`StatsCollector`]
//! for statistics and [`data_file_path`] for unique names), and then [`DeltaTable::commit_window`]
//! makes them visible in one commit, together with the removal of every file of an earlier run of
//! a window inside this one. Readers therefore see whole windows, re-running a window replaces it,
//! and concurrent writers never lose or duplicate one: a commit is created only if its version
//! does not exist yet (`PutMode::Create`), and a writer beaten to a version re-reads the log,
//! plans its commit again on the newer state and tries the next version.
//!
//! Transaction identifiers: each commit records `txn { appId: "hunt/<query>[/<tenant>]",
//! version }` where `version` is the furthest window end (ms since the epoch) committed for that
//! query and tenant; re-running an older window keeps it where it is, so it never moves
//! backwards. It tells any reader how far hunt has landed a query, atomically with the data.
//! Idempotence does not rest on it (a re-run must replace a window's rows, not skip them): it
//! rests on the `remove`s, matched by the window each file's tags record.
//!
//! Layout: `action` (the log's JSON), `schema` (types, drift, microsecond conversion), `stats`,
//! `snapshot` (replay), `log` (reading the store), `checkpoint`, `commit` (planning one window),
//! `cache` (the open tables of a destination), and [`DeltaTable`] here (the cached snapshot and
//! the commit loop).

mod action;
mod cache;
pub mod checkpoint;
mod commit;
mod error;
mod log;
pub mod schema;
mod snapshot;
mod stats;

pub use action::{Action, Add, Metadata, Protocol, Remove, Txn};
pub use cache::TableCache;
pub use commit::{
    DATE_COLUMN, NewFile, QueryMeta, TENANT_COLUMN, app_id, data_file_path, partition_columns,
};
pub use error::DeltaError;
pub use schema::{DeltaSchema, DeltaType, SchemaError, data_schema, to_delta_batch};
pub use snapshot::Snapshot;
pub use stats::StatsCollector;

use crate::clock::{Clock, TokioClock};
use crate::timespan::Window;
use arrow_schema::Schema;
use object_store::path::Path;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use std::sync::Arc;

/// How many versions a commit tries before giving up (each failure means another writer
/// committed, so this bounds the writers racing on one table, not the time spent).
pub const MAX_ATTEMPTS: u32 = 64;

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The table version the window became.
    pub version: u64,
    /// Files added.
    pub added: usize,
    /// Files of earlier runs removed.
    pub removed: usize,
    /// Whether the commit created the table or widened its schema (a `metaData` action).
    pub schema_changed: bool,
    /// Versions tried (1 unless other writers got there first).
    pub attempts: u32,
    /// Whether a checkpoint was written after the commit.
    pub checkpointed: bool,
}

/// The cached state of the table.
#[derive(Debug, Default)]
struct State {
    /// Whether `snapshot` reflects a load of the log (`None` then means: no table yet).
    loaded: bool,
    snapshot: Option<Snapshot>,
}

/// One Delta table: its log location and a cached snapshot, brought up to date incrementally.
pub struct DeltaTable {
    log: log::Log,
    state: tokio::sync::Mutex<State>,
    /// The time of commits (and of the checkpoints' retention).
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DeltaTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaTable")
            .field("log", &self.log)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl DeltaTable {
    /// Opens the table at `root` in `store` (it need not exist yet: the first commit creates
    /// it) and reads its log. Errors name the table by `root`; see [`DeltaTable::open_url`].
    pub async fn open(store: Arc<dyn ObjectStore>, root: Path) -> Result<DeltaTable, DeltaError> {
        let url = format!("{store}/{root}");
        DeltaTable::open_url(store, root, url).await
    }

    /// [`DeltaTable::open`], naming the table `url` in errors (e.g. `az://lake/hunt/q`).
    pub async fn open_url(
        store: Arc<dyn ObjectStore>,
        root: Path,
        url: impl Into<String>,
    ) -> Result<DeltaTable, DeltaError> {
        let table = DeltaTable {
            log: log::Log { store, root, url: url.into() },
            state: tokio::sync::Mutex::new(State::default()),
            clock: Arc::new(TokioClock::new()),
        };
        {
            let mut state = table.state.lock().await;
            table.sync(&mut state).await?;
        }
        Ok(table)
    }

    /// The table, telling the time of its commits by `clock` (by default the system's time,
    /// advanced by tokio's clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> DeltaTable {
        self.clock = clock;
        self
    }

    /// The table's URL, as errors name it.
    pub fn url(&self) -> &str {
        &self.log.url
    }

    /// The cached snapshot (`None`: no table yet), as of the last open, refresh or commit.
    pub async fn snapshot(&self) -> Option<Snapshot> {
        self.state.lock().await.snapshot.clone()
    }

    /// Reads commits made since the cached version; returns the newest version.
    pub async fn refresh(&self) -> Result<Option<u64>, DeltaError> {
        let mut state = self.state.lock().await;
        self.sync(&mut state).await?;
        Ok(state.snapshot.as_ref().map(|s| s.version))
    }

    /// Commits one window: `files` (already in place under the table root) become visible, and
    /// every live file of an earlier run of a window inside `window` for the same tenant is
    /// removed, in one new table version. `schema` is the window's result schema (hunt's
    /// Arrow types; timestamps may be in any unit); new columns extend the table's schema, a
    /// changed type is an error. The first commit creates the table.
    pub async fn commit_window(
        &self,
        schema: &Schema,
        tenant: Option<&str>,
        window: &Window,
        query: &QueryMeta,
        files: Vec<NewFile>,
    ) -> Result<Committed, DeltaError> {
        let mut state = self.state.lock().await;
        // Cheap when nothing changed (one GET that finds nothing, one HEAD), and it keeps a
        // stale cache from ever committing behind a log cleaned up past it.
        self.sync(&mut state).await?;
        let version_now = state.snapshot.as_ref().map_or(0, |s| s.version);
        let req = commit::Request {
            schema: DeltaSchema::from_arrow(schema).map_err(|e| DeltaError::Schema {
                table: self.log.url.clone(),
                version: version_now,
                message: e.0,
            })?,
            tenant: tenant.map(str::to_owned),
            window: *window,
            query: query.clone(),
            files,
        };
        let txn_id = uuid::Uuid::new_v4().to_string();
        let mut version = 0;
        for attempt in 1..=MAX_ATTEMPTS {
            let now_ms = self.clock.now_ms();
            let plan = commit::plan(&self.log.url, state.snapshot.as_ref(), &req, &txn_id, now_ms)?;
            version = state.snapshot.as_ref().map_or(0, |s| s.version + 1);
            let body: String =
                plan.actions.iter().map(|a| a.to_line() + "\n").collect::<Vec<_>>().concat();
            let path = self.log.commit_path(version);
            let opts = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
            match self.log.store.put_opts(&path, PutPayload::from(body), opts).await {
                Ok(_) => {
                    let mut replay = match state.snapshot.take() {
                        Some(s) => snapshot::Replay::from_snapshot(s),
                        None => snapshot::Replay::default(),
                    };
                    replay.apply(version, plan.actions);
                    let snapshot = replay.finish().map_err(|message| DeltaError::Corrupt {
                        table: self.log.url.clone(),
                        message,
                    });
                    let snapshot = match snapshot {
                        Ok(Some(s)) => s,
                        other => {
                            state.loaded = false;
                            return Err(other.err().unwrap_or_else(|| DeltaError::Corrupt {
                                table: self.log.url.clone(),
                                message: "no snapshot after a commit".into(),
                            }));
                        }
                    };
                    let checkpointed = self.checkpoint_if_due(&snapshot, now_ms).await;
                    state.snapshot = Some(snapshot);
                    return Ok(Committed {
                        version,
                        added: plan.added,
                        removed: plan.removed,
                        schema_changed: plan.metadata,
                        attempts: attempt,
                        checkpointed,
                    });
                }
                Err(object_store::Error::AlreadyExists { .. }) => {
                    tracing::debug!(table = %self.log.url, version, attempt, "another writer committed first");
                    let applied = self.sync(&mut state).await?;
                    // A put that the store retried may have landed the first time.
                    if let Some((v, _)) =
                        applied.iter().find(|(_, id)| id.as_deref() == Some(txn_id.as_str()))
                    {
                        return Ok(Committed {
                            version: *v,
                            added: plan.added,
                            removed: plan.removed,
                            schema_changed: plan.metadata,
                            attempts: attempt,
                            checkpointed: false,
                        });
                    }
                }
                Err(e) => {
                    // The outcome is unknown: read the log afresh next time.
                    state.loaded = false;
                    return Err(self
                        .log
                        .store_err(format!("writing {}", self.log.relative(&path)))(
                        e
                    ));
                }
            }
        }
        Err(DeltaError::Contention { table: self.log.url.clone(), attempts: MAX_ATTEMPTS, version })
    }

    /// Brings the cached snapshot up to date; returns the commits applied.
    async fn sync(&self, state: &mut State) -> Result<Vec<log::Applied>, DeltaError> {
        let result = match (state.loaded, state.snapshot.take()) {
            (true, Some(s)) => self.log.update(s).await.map(|(s, a)| (Some(s), a)),
            _ => self.log.load().await,
        };
        match result {
            Ok((snapshot, applied)) => {
                state.snapshot = snapshot;
                state.loaded = true;
                Ok(applied)
            }
            Err(e) => {
                state.loaded = false;
                Err(e)
            }
        }
    }

    /// Writes a checkpoint when `snapshot`'s version is a multiple of the table's
    /// `delta.checkpointInterval` (default [`checkpoint::DEFAULT_INTERVAL`]). A failure is
    /// logged, not returned: the commit stands, readers replay a few more JSON files.
    async fn checkpoint_if_due(&self, snapshot: &Snapshot, now_ms: i64) -> bool {
        let interval = snapshot
            .metadata
            .configuration
            .get("delta.checkpointInterval")
            .and_then(|v| v.as_deref()?.parse::<u64>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(checkpoint::DEFAULT_INTERVAL);
        if snapshot.version == 0 || !snapshot.version.is_multiple_of(interval) {
            return false;
        }
        match checkpoint::write(&self.log, snapshot, now_ms).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests;
