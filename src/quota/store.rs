//! The ledger on disk, shared by every hunt process of one tenant on the machine: a JSON file
//! replaced atomically, guarded by an exclusive lock on a sibling `.lock` file, so cron jobs
//! started back to back spend from one budget instead of each believing it has the whole quota.

use super::ledger::Ledger;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// A tenant's ledger file.
#[derive(Debug)]
pub struct LedgerFile {
    path: PathBuf,
    lock: PathBuf,
    warned: AtomicBool,
}

/// The folder for hunt's state: `HUNT_STATE_DIR`, else `$XDG_STATE_HOME/hunt`, else
/// `~/.local/state/hunt`, else `.hunt-state` in the working folder.
pub fn default_state_dir(var: impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(d) = var("HUNT_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = var("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Path::new(&d).join("hunt");
    }
    match var("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Path::new(&home).join(".local/state/hunt"),
        None => PathBuf::from(".hunt-state"),
    }
}

impl LedgerFile {
    /// The ledger of `tenant` (already a safe file-name component) under `dir`.
    pub fn new(dir: &Path, tenant: &str) -> LedgerFile {
        LedgerFile {
            path: dir.join(format!("quota-{tenant}.json")),
            lock: dir.join(format!("quota-{tenant}.lock")),
            warned: AtomicBool::new(false),
        }
    }

    /// The JSON file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the shared ledger into `mem`, applies `f`, saves it back, all under the lock. When
    /// the file cannot be used, warns once and carries on with `mem` alone.
    pub fn update<R>(&self, mem: &mut Ledger, f: impl FnOnce(&mut Ledger) -> R) -> R {
        match self.lock_file() {
            Ok(lock) => {
                if let Some(shared) = self.read() {
                    *mem = shared;
                }
                let out = f(mem);
                if let Err(e) = self.write(mem) {
                    self.warn(&e);
                }
                drop(lock);
                out
            }
            Err(e) => {
                self.warn(&e);
                f(mem)
            }
        }
    }

    /// Reads the ledger without locking for writing (for `hunt quota`).
    pub fn load(&self) -> Option<Ledger> {
        let _lock = self.lock_file().ok()?;
        self.read()
    }

    fn lock_file(&self) -> std::io::Result<File> {
        if let Some(dir) = self.lock.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let f = OpenOptions::new().create(true).truncate(false).write(true).open(&self.lock)?;
        f.lock()?;
        Ok(f)
    }

    fn read(&self) -> Option<Ledger> {
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn write(&self, ledger: &Ledger) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(ledger).map_err(std::io::Error::other)?;
        // The file is synced but not the folder, as before: the ledger is rewritten under its
        // lock for every call granted, finished or throttled, so a folder sync (one more journal
        // commit on a busy disk) would lengthen every call's wait for the lock. A crash can at
        // worst undo the last write, leaving the previous ledger whole.
        crate::fsutil::write_atomic_with(&self.path, &bytes, crate::fsutil::SyncDir::No)
    }

    fn warn(&self, e: &std::io::Error) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "quota ledger {} unusable ({e}); pacing this process alone",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::Limits;

    #[test]
    fn two_holders_of_one_file_share_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (LedgerFile::new(dir.path(), "t"), LedgerFile::new(dir.path(), "t"));
        let (mut ma, mut mb) = (Ledger::new(), Ledger::new());
        let limits = Limits::default();
        for i in 0..30 {
            a.update(&mut ma, |l| l.try_start(i, 1, &limits)).unwrap();
        }
        for i in 0..15 {
            b.update(&mut mb, |l| l.try_start(100 + i, 1, &limits)).unwrap();
        }
        let refused = a.update(&mut ma, |l| l.try_start(200, 1, &limits));
        assert!(refused.is_err(), "45 calls spent between the two processes");
        assert_eq!(b.load().unwrap().usage(200).calls_minute, 45);
    }

    #[test]
    fn an_unusable_folder_falls_back_to_memory() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        let f = LedgerFile::new(&blocker.join("sub"), "t");
        let mut mem = Ledger::new();
        assert!(f.update(&mut mem, |l| l.try_start(0, 1, &Limits::default())).is_ok());
        assert_eq!(mem.usage(0).calls_minute, 1);
    }

    #[test]
    fn state_dir_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(default_state_dir(env(&[("HUNT_STATE_DIR", "/s")])), PathBuf::from("/s"));
        assert_eq!(
            default_state_dir(env(&[("XDG_STATE_HOME", "/x"), ("HOME", "/h")])),
            PathBuf::from("/x/hunt")
        );
        assert_eq!(
            default_state_dir(env(&[("HOME", "/h")])),
            PathBuf::from("/h/.local/state/hunt")
        );
    }
}
