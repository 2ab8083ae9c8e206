//! Finishing a window once every part of it is in: the one place that knows what "landed"
//! means for each format, so the executor runs windows and never asks which format it writes.
//!
//! - **Files** (Hive-partitioned Parquet): each part's files are already in place under their
//!   final names; once the window has landed whole and complete, the files of earlier runs it
//!   supersedes (an earlier split's parts, days without rows now) are removed.
//! - **Delta**: the parts' files are uniquely named and invisible until committed; once every
//!   part has landed (complete, or cut at the minimum window and marked so), the window is
//!   committed to its query's table in one commit that also removes the earlier runs' files. A
//!   window with a part missing is not committed at all, and fails, so it runs again.

use super::sink::SinkOptions;
use super::{Destination, Format, Written};
use crate::clock::Clock;
use crate::delta::{NewFile, QueryMeta, TableCache};
use crate::timespan::Window;
use arrow_schema::{Schema, SchemaRef};
use std::sync::Arc;

/// Why a window's parts could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The query's Delta table could not be opened or committed to.
    #[error(transparent)]
    Delta(#[from] crate::delta::DeltaError),
    /// The parts answered with columns that cannot be one table schema.
    #[error("the parts of the window answered with different columns: {0}")]
    Columns(arrow_schema::ArrowError),
}

/// What a window's parts left, for its publisher to finish.
#[derive(Debug)]
pub struct WindowParts<'a> {
    /// The query's id.
    pub query_id: &'a str,
    /// SHA-256 of its text, hex.
    pub query_sha256: &'a str,
    /// The tenant's name, with several tenants.
    pub tenant: Option<&'a str>,
    /// The whole window.
    pub window: &'a Window,
    /// Every file its parts wrote.
    pub files: &'a [Written],
    /// The result schema of each part landed.
    pub schemas: &'a [SchemaRef],
    /// Every part landed (none failed).
    pub all_landed: bool,
    /// No part is known to be cut.
    pub complete: bool,
    /// The service's request ids of the parts.
    pub request_ids: &'a [String],
}

/// Finishes the windows written to one destination, as its format requires.
pub enum Publisher {
    /// Parquet files in a folder or object store.
    Files(Arc<Destination>),
    /// Delta tables, one per query, kept open between windows.
    Delta(Arc<Destination>, TableCache),
    /// No files at all (`hunt run --print` without `--out`): rows are only printed.
    Discard,
}

impl Publisher {
    /// The publisher for `dest`'s format; Delta commits take their time from `clock`.
    pub fn new(dest: Arc<Destination>, clock: Arc<dyn Clock>) -> Publisher {
        match dest.format() {
            Format::Parquet => Publisher::Files(dest),
            Format::Delta => {
                let tables = TableCache::new(dest.store(), clock);
                Publisher::Delta(dest, tables)
            }
        }
    }

    /// Where files are written; none when they are not.
    pub fn destination(&self) -> Option<&Arc<Destination>> {
        match self {
            Publisher::Files(d) | Publisher::Delta(d, _) => Some(d),
            Publisher::Discard => None,
        }
    }

    /// How the Parquet writer encodes and names files for this destination.
    pub fn sink_options(&self) -> SinkOptions {
        SinkOptions {
            delta: matches!(self, Publisher::Delta(..)),
            timestamp_unit: self.destination().map(|d| d.timestamp_unit()).unwrap_or_default(),
            ..SinkOptions::default()
        }
    }

    /// Finishes a window. An error means the window did not land (its rows are not visible and
    /// it must run again); what merely could not be tidied is logged.
    pub async fn finish(&self, w: &WindowParts<'_>) -> Result<(), PublishError> {
        match self {
            Publisher::Files(dest) => {
                if w.all_landed && w.complete {
                    remove_superseded(dest, w).await;
                }
                Ok(())
            }
            Publisher::Delta(dest, tables) if w.all_landed => commit(dest, tables, w).await,
            Publisher::Delta(..) | Publisher::Discard => Ok(()),
        }
    }
}

/// Files of earlier runs of the same window that this run did not rewrite would duplicate or
/// contradict it: remove them. A failure leaves them and warns.
async fn remove_superseded(dest: &Destination, w: &WindowParts<'_>) {
    match dest.remove_superseded(w.query_id, w.tenant, w.window, w.files).await {
        Ok(files) if !files.is_empty() => {
            tracing::info!(query = %w.query_id, "removed {} superseded file(s)", files.len())
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(query = %w.query_id, "superseded files not removed: {e}"),
    }
}

/// Commits a window's files to its query's Delta table, with the removal of earlier runs' files
/// of windows inside it, in one commit.
async fn commit(
    dest: &Destination,
    tables: &TableCache,
    w: &WindowParts<'_>,
) -> Result<(), PublishError> {
    let root = dest.query_root(w.query_id);
    let table = tables.get(&root, &dest.url_of(&root)).await?;
    let schema = Schema::try_merge(w.schemas.iter().map(|s| s.as_ref().clone()))
        .map_err(PublishError::Columns)?;
    let files = w
        .files
        .iter()
        .map(|f| NewFile {
            path: f.table_path().to_owned(),
            size: f.bytes,
            rows: f.rows as u64,
            date: f.date,
            window: f.window,
            complete: f.complete,
            stats: f.stats.clone(),
            modification_time: None,
        })
        .collect();
    let query = QueryMeta {
        query_id: w.query_id.to_owned(),
        query_sha256: w.query_sha256.to_owned(),
        complete: w.complete,
        request_ids: w.request_ids.to_vec(),
    };
    let c = table.commit_window(&schema, w.tenant, w.window, &query, files).await?;
    tracing::info!(
        query = %w.query_id,
        version = c.version,
        added = c.added,
        removed = c.removed,
        "committed to the Delta table {}",
        table.url()
    );
    Ok(())
}
