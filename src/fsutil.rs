//! Small file-system helpers shared by every module that writes local files: the one temporary
//! name scheme (`.NAME.PID.N.tmp`, beside the file it becomes), making a rename durable
//! ([`sync_dir`]) and replacing a small file whole ([`write_atomic`]; [`write_atomic_with`] for
//! a file that may skip the folder sync). The Parquet output keeps
//! its own temporary files (`output::temp`) but names them the same way, so a file left by a
//! killed process is recognised wherever it lies.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temporary name in `dir` for what will be called `name`: `.NAME.PID.N.tmp`, unique
/// between processes (the PID) and within one (a counter).
pub(crate) fn temp_path(dir: &Path, name: &str) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// Replaces `path` with `bytes`, whole or not at all: written under a unique temporary name in
/// the same folder (created if need be), synced, renamed over `path`, and the folder synced so
/// the rename survives a crash. A reader sees the old content or the new, never a mix; of two
/// writers racing, one wins whole. The temporary file is removed if anything fails; a leftover
/// one is never reused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, bytes, SyncDir::Yes)
}

/// Whether [`write_atomic_with`] syncs the folder after the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncDir {
    /// The rename survives a crash ([`write_atomic`]).
    Yes,
    /// The rename is atomic but a crash may undo it (the file then holds its previous content,
    /// whole): for a file rewritten on a hot path where the folder sync's cost matters more
    /// than losing the last write.
    No,
}

/// [`write_atomic`], choosing whether the folder is synced after the rename.
pub fn write_atomic_with(path: &Path, bytes: &[u8], sync: SyncDir) -> io::Result<()> {
    write(path, bytes, sync, false)
}

/// [`write_atomic`] for a file holding a secret (a cached sign-in): on unix it is created
/// readable and writable by its owner only (mode 0600) before a byte is written.
pub fn write_atomic_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write(path, bytes, SyncDir::Yes, true)
}

fn write(path: &Path, bytes: &[u8], sync: SyncDir, private: bool) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let Some(name) = name else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        ));
    };
    fs::create_dir_all(dir)?;
    // A name already taken (a file left by an earlier process with the same PID) is skipped.
    let (tmp, mut f) = loop {
        let tmp = temp_path(dir, &name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        match options.open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    };
    let result = (|| {
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    match sync {
        SyncDir::Yes => sync_dir(dir),
        SyncDir::No => Ok(()),
    }
}

/// Makes a rename or a removal in `dir` durable.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Directories cannot be synced portably elsewhere; the rename is still atomic.
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    #[test]
    fn the_content_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/ledger.json");
        write_atomic(&p, &vec![b'a'; 10_000]).unwrap();
        write_atomic(&p, b"short").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"short");
        write_atomic_with(&p, b"unsynced folder", SyncDir::No).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"unsynced folder");
        let names: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["ledger.json"]);
    }

    #[test]
    fn a_leftover_temporary_file_is_neither_read_nor_reused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("den-x.json");
        // What the old writers left after a crash: a fixed name, and a name like ours.
        let old = dir.path().join("den-x.json.tmp");
        let ours = dir.path().join(format!(".den-x.json.{}.0.tmp", std::process::id()));
        fs::write(&old, b"stale").unwrap();
        fs::write(&ours, b"stale").unwrap();
        write_atomic(&p, b"fresh").unwrap();
        write_atomic(&p, b"fresher").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"fresher");
        assert_eq!(fs::read(&old).unwrap(), b"stale");
        assert_eq!(fs::read(&ours).unwrap(), b"stale");
    }

    #[test]
    fn of_writers_racing_one_wins_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = Arc::new(dir.path().join("state.json"));
        let writers = 8;
        let barrier = Arc::new(Barrier::new(writers));
        let handles: Vec<_> = (0..writers)
            .map(|i| {
                let (p, barrier) = (Arc::clone(&p), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let bytes = vec![b'a' + i as u8; 64 * 1024];
                    barrier.wait();
                    for _ in 0..5 {
                        write_atomic(&p, &bytes).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let got = fs::read(&*p).unwrap();
        assert_eq!(got.len(), 64 * 1024);
        assert!(got.iter().all(|b| *b == got[0]), "bytes of two writers mixed");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "a temporary file stayed");
    }

    #[test]
    fn a_failed_write_leaves_the_old_content_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("target");
        fs::create_dir(&p).unwrap(); // a folder in the way: the rename fails
        assert!(write_atomic(&p, b"x").is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
