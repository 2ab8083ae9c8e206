//! Temporary files: each file is written under a temporary name (`.NAME.PID.N.tmp`), beside its
//! final place for a local destination or in the spool folder for an object store, and removed
//! again unless it was put in place. Files left by hunt processes that were killed are recognised
//! by the PID in their name and removed at the next start.

pub use crate::fsutil::sync_dir;
use crate::fsutil::temp_path;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// A temporary file, removed when dropped unless disarmed.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file (it was renamed into place).
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Opens a new temporary file in `dir` (created if need be) for what will be called `name`:
/// `.NAME.PID.N.tmp`, removed again unless its guard is disarmed.
pub fn open_temp(dir: &Path, name: &str) -> io::Result<(File, TempFile)> {
    fs::create_dir_all(dir)?;
    let tmp = temp_path(dir, name);
    let file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
    Ok((file, TempFile { path: tmp, armed: true }))
}

/// Removes temporary files under `dir` left by hunt processes that no longer run (killed
/// mid-write): `.NAME.PID.N.tmp` whose PID is not alive. Returns how many were removed. Files of
/// live processes (this one included) are left alone.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let mut removed = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = temp_owner(&name) else { continue };
            if pid != std::process::id() && !process_alive(pid) && fs::remove_file(&path).is_ok() {
                tracing::info!(file = %path.display(), "removed a temporary file left by process {pid}");
                removed += 1;
            }
        }
    }
    removed
}

/// The PID in a hunt temporary file name `.NAME.PID.N.tmp`.
pub(crate) fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let _counter: u64 = parts.next()?.parse().ok()?;
    parts.next()?.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true // without a cheap check, keep the file
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("q/date=2026-11-20");
        fs::create_dir_all(&day).unwrap();
        // A PID that cannot be alive (above the kernel's maximum), this process, and a non-temp.
        let dead = day.join(".w.parquet.4194305.7.tmp");
        let mine = day.join(format!(".w.parquet.{}.1.tmp", std::process::id()));
        let data = day.join("w.parquet");
        for f in [&dead, &mine, &data] {
            fs::write(f, b"x").unwrap();
        }
        assert_eq!(remove_stale_temps(dir.path()), 1);
        assert!(!dead.exists() && mine.exists() && data.exists());
        assert_eq!(temp_owner(".a.b.parquet.123.4.tmp"), Some(123));
        assert_eq!(temp_owner("a.parquet"), None);
    }

    #[test]
    fn a_temp_file_goes_away_unless_disarmed() {
        let dir = tempfile::tempdir().unwrap();
        let (_, t) = open_temp(&dir.path().join("a/b"), "x.parquet").unwrap();
        let p = t.path().to_owned();
        assert!(p.exists());
        drop(t);
        assert!(!p.exists());
        let (_, mut t) = open_temp(dir.path(), "x.parquet").unwrap();
        t.disarm();
        let p = t.path().to_owned();
        drop(t);
        assert!(p.exists());
    }
}
