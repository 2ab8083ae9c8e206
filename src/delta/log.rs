//! Reading a table's `_delta_log` from an object store: the full load (newest complete classic
//! checkpoint, found through `_last_checkpoint` or a listing, then the JSON commits after it)
//! and the incremental update of a cached snapshot (the commits after its version, fetched
//! until one is missing).

use super::action::{Action, parse_commit};
use super::checkpoint;
use super::error::DeltaError;
use super::snapshot::{Replay, Snapshot};
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Commits fetched at once while loading.
const FETCH_CONCURRENCY: usize = 8;

/// Where a table's log is and how to name it in errors.
#[derive(Debug, Clone)]
pub struct Log {
    /// The store holding the table.
    pub store: Arc<dyn ObjectStore>,
    /// The table root inside the store.
    pub root: Path,
    /// The table's URL, for messages.
    pub url: String,
}

/// What a listing of `_delta_log` found.
#[derive(Debug, Default)]
struct Listing {
    commits: BTreeSet<u64>,
    /// Classic checkpoints: version → parts found (`1 of 1` for a single file) and parts needed.
    checkpoints: BTreeMap<u64, (BTreeSet<u32>, u32)>,
    /// Versions that only have UUID-named (v2) checkpoints.
    v2_checkpoints: BTreeSet<u64>,
}

/// A commit applied by an update: its version and the `txnId` its `commitInfo` carried.
pub type Applied = (u64, Option<String>);

impl Log {
    /// `_delta_log/`
    pub fn dir(&self) -> Path {
        self.root.clone().join("_delta_log")
    }

    /// The commit file of `version`.
    pub fn commit_path(&self, version: u64) -> Path {
        self.dir().join(format!("{version:020}.json"))
    }

    /// A path inside the table as the user would see it in a message (`_delta_log/…`).
    pub fn relative(&self, path: &Path) -> String {
        path.prefix_match(&self.root)
            .map(|parts| parts.map(|p| p.as_ref().to_owned()).collect::<Vec<_>>().join("/"))
            .unwrap_or_else(|| path.to_string())
    }

    pub(crate) fn store_err(&self, what: String) -> impl FnOnce(object_store::Error) -> DeltaError {
        let table = self.url.clone();
        move |source| DeltaError::Store { table, what, source }
    }

    fn corrupt(&self, message: String) -> DeltaError {
        DeltaError::Corrupt { table: self.url.clone(), message }
    }

    /// Reads the commit of `version`; `None` if it does not exist.
    pub async fn read_commit(&self, version: u64) -> Result<Option<Vec<Action>>, DeltaError> {
        let path = self.commit_path(version);
        let bytes = match self.store.get(&path).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        let bytes = match bytes {
            Ok(b) => b,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.store_err(format!("reading {}", self.relative(&path)))(e)),
        };
        parse_commit(&bytes).map(Some).map_err(|(line, message)| DeltaError::Log {
            table: self.url.clone(),
            file: self.relative(&path),
            line,
            message,
        })
    }

    /// Loads the newest snapshot (`None` when the table has no log yet) and the JSON commits
    /// replayed on top of the checkpoint it started from.
    pub async fn load(&self) -> Result<(Option<Snapshot>, Vec<Applied>), DeltaError> {
        let hint = self.last_checkpoint().await?;
        let mut listing = self.list(hint).await?;
        if let Some(v) = hint
            && !listing.checkpoints.contains_key(&v)
        {
            // The hint names a checkpoint that is not there: trust the full listing instead.
            tracing::debug!(table = %self.url, "_last_checkpoint names a missing checkpoint {v}");
            listing = self.list(None).await?;
        }
        let last_commit = listing.commits.last().copied();
        let checkpoint = listing
            .checkpoints
            .iter()
            .rev()
            .find(|(v, (parts, of))| {
                parts.len() as u32 == *of && last_commit.is_none_or(|last| **v <= last)
            })
            .map(|(v, (_, of))| (*v, *of));
        let newest_v2 = listing.v2_checkpoints.last().copied();
        if let Some(v2) = newest_v2
            && checkpoint.is_none_or(|(c, _)| c < v2)
            && listing.commits.first().is_none_or(|first| *first > 0)
        {
            return Err(DeltaError::Unsupported {
                table: self.url.clone(),
                version: v2,
                message: "the log starts at a UUID-named (v2) checkpoint, which hunt does not \
                          read"
                    .into(),
            });
        }
        let (mut replay, start) = match checkpoint {
            Some((v, parts)) => (checkpoint::read(self, v, parts).await?, v + 1),
            None => match listing.commits.first() {
                None => return Ok((None, Vec::new())),
                Some(0) => (Replay::default(), 0),
                Some(first) => {
                    return Err(self.corrupt(format!(
                        "the log starts at version {first} and there is no checkpoint to start \
                         from (versions before it were removed)"
                    )));
                }
            },
        };
        let end = last_commit.unwrap_or(start.saturating_sub(1));
        if let Some(missing) = (start..=end).find(|v| !listing.commits.contains(v)) {
            return Err(self.corrupt(format!(
                "version {missing} is missing from the log (it holds versions up to {end})"
            )));
        }
        let mut fetched = futures_util::stream::iter(start..=end)
            .map(|v| async move { self.read_commit(v).await.map(|a| (v, a)) })
            .buffered(FETCH_CONCURRENCY);
        let mut applied = Vec::new();
        while let Some((v, actions)) = fetched.try_next().await? {
            let actions =
                actions.ok_or_else(|| self.corrupt(format!("version {v} disappeared")))?;
            applied.push((v, replay.apply(v, actions)));
        }
        // Commits that landed after the listing.
        let mut next = replay.version.map_or(0, |v| v + 1);
        while let Some(actions) = self.read_commit(next).await? {
            applied.push((next, replay.apply(next, actions)));
            next += 1;
        }
        Ok((replay.finish().map_err(|m| self.corrupt(m))?, applied))
    }

    /// Brings `snapshot` up to the newest version; returns it and the commits applied. When the
    /// log no longer holds the snapshot's own version (cleaned up behind a checkpoint), the
    /// table is loaded afresh.
    pub async fn update(&self, snapshot: Snapshot) -> Result<(Snapshot, Vec<Applied>), DeltaError> {
        let mut version = snapshot.version;
        let mut applied = Vec::new();
        let mut replay = Replay::from_snapshot(snapshot);
        while let Some(actions) = self.read_commit(version + 1).await? {
            version += 1;
            applied.push((version, replay.apply(version, actions)));
        }
        if applied.is_empty() {
            let path = self.commit_path(version);
            match self.store.head(&path).await {
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => {
                    tracing::info!(table = %self.url, "the log was cleaned up past version {version}: reloading");
                    let (fresh, applied) = self.load().await?;
                    let fresh = fresh.ok_or_else(|| {
                        self.corrupt("the log disappeared while hunt was writing it".into())
                    })?;
                    let applied = applied.into_iter().filter(|(v, _)| *v > version).collect();
                    return Ok((fresh, applied));
                }
                Err(e) => {
                    return Err(self.store_err(format!("checking {}", self.relative(&path)))(e));
                }
            }
        }
        let snapshot = replay
            .finish()
            .map_err(|m| self.corrupt(m))?
            .ok_or_else(|| self.corrupt("no version after replay".into()))?;
        Ok((snapshot, applied))
    }

    /// The version `_last_checkpoint` names, if the file exists and is readable.
    pub async fn last_checkpoint(&self) -> Result<Option<u64>, DeltaError> {
        let path = self.dir().join("_last_checkpoint");
        let bytes = match self.store.get(&path).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        };
        match bytes {
            Ok(b) => {
                let v: Option<u64> = serde_json::from_slice::<serde_json::Value>(&b)
                    .ok()
                    .and_then(|v| v.get("version")?.as_u64());
                if v.is_none() {
                    tracing::warn!(table = %self.url, "_delta_log/_last_checkpoint is not readable: listing the log instead");
                }
                Ok(v)
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.store_err("reading _delta_log/_last_checkpoint".into())(e)),
        }
    }

    /// Lists `_delta_log/`, from the checkpoint `from` on if given.
    async fn list(&self, from: Option<u64>) -> Result<Listing, DeltaError> {
        let dir = self.dir();
        let depth = dir.parts().count() + 1;
        let mut stream = match from {
            Some(v) => {
                self.store.list_with_offset(Some(&dir), &dir.clone().join(format!("{v:020}")))
            }
            None => self.store.list(Some(&dir)),
        };
        let mut listing = Listing::default();
        while let Some(meta) =
            stream.try_next().await.map_err(self.store_err("listing _delta_log".into()))?
        {
            if meta.location.parts().count() != depth {
                continue;
            }
            let Some(name) = meta.location.filename() else { continue };
            match classify(name) {
                Some(LogFile::Commit(v)) => {
                    listing.commits.insert(v);
                }
                Some(LogFile::Checkpoint { version, part, of }) => {
                    let entry =
                        listing.checkpoints.entry(version).or_insert_with(|| (BTreeSet::new(), of));
                    if entry.1 == of {
                        entry.0.insert(part);
                    }
                }
                Some(LogFile::V2Checkpoint(v)) => {
                    listing.v2_checkpoints.insert(v);
                }
                None => {}
            }
        }
        Ok(listing)
    }
}

/// A file of `_delta_log/` hunt recognises.
#[derive(Debug, PartialEq, Eq)]
enum LogFile {
    Commit(u64),
    Checkpoint { version: u64, part: u32, of: u32 },
    V2Checkpoint(u64),
}

fn classify(name: &str) -> Option<LogFile> {
    let (v, rest) = name.split_at_checked(20)?;
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u64 = v.parse().ok()?;
    if rest == ".json" {
        return Some(LogFile::Commit(v));
    }
    let rest = rest.strip_prefix(".checkpoint.")?;
    if rest == "parquet" {
        return Some(LogFile::Checkpoint { version: v, part: 1, of: 1 });
    }
    let parts: Vec<&str> = rest.split('.').collect();
    match parts.as_slice() {
        [o, p, "parquet"] if o.len() == 10 && p.len() == 10 && o.parse::<u32>().is_ok() => {
            Some(LogFile::Checkpoint { version: v, part: o.parse().ok()?, of: p.parse().ok()? })
        }
        [_, "json" | "parquet"] => Some(LogFile::V2Checkpoint(v)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_file_names() {
        let cases = [
            ("00000000000000000007.json", Some(LogFile::Commit(7))),
            (
                "00000000000000000010.checkpoint.parquet",
                Some(LogFile::Checkpoint { version: 10, part: 1, of: 1 }),
            ),
            (
                "00000000000000000010.checkpoint.0000000002.0000000003.parquet",
                Some(LogFile::Checkpoint { version: 10, part: 2, of: 3 }),
            ),
            (
                "00000000000000000010.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json",
                Some(LogFile::V2Checkpoint(10)),
            ),
            ("00000000000000000010.crc", None),
            ("00000000000000000004.00000000000000000006.compacted.json", None),
            ("0000000000000000007.json", None),
            ("_last_checkpoint", None),
            (".00000000000000000007.json.tmp", None),
            ("0000000000000000000x.json", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify(name), want, "{name}");
        }
    }
}
