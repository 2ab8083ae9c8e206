//! A query's claim on its next window: an exclusive lock on a small file in the state folder,
//! held while `hunt run --incremental` runs the window, so that two incremental runs started at
//! once (two cron jobs, a retry beside a slow run) never run the same window twice. The operating
//! system drops the lock when its process ends, so a killed run never leaves a claim behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// A held claim; dropping it releases the lock.
#[derive(Debug)]
pub struct QueryLock {
    _file: File,
    path: PathBuf,
}

impl QueryLock {
    /// Takes the claim at `path` if no other process holds it (`Ok(None)`: one does).
    pub fn try_take(path: &Path) -> std::io::Result<Option<QueryLock>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(QueryLock { _file: file, path: path.to_owned() })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/q.lock");
        let first = QueryLock::try_take(&path).unwrap().expect("free");
        assert_eq!(first.path(), path);
        assert!(QueryLock::try_take(&path).unwrap().is_none(), "held by the first");
        drop(first);
        assert!(QueryLock::try_take(&path).unwrap().is_some(), "released");
    }
}
