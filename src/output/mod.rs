//! Where results go: a [`Destination`] is a local folder or an object-store prefix (Azure Blob /
//! ADLS Gen2, S3, GCS, through `object_store`), with the format its files take ([`Format`]).
//!
//! The Parquet writer (`sink`) writes each file under a temporary name ([`Staging`]: beside its
//! final place for a folder, in a spool folder for an object store) and hands the closed files
//! over as [`Staged`]; [`Destination::publish`] then puts them in place: a rename on disk, an
//! upload to an object store (one PUT for a small file, a multipart upload streamed from the
//! file for a large one, whose uncommitted parts are invisible and aborted on failure). Either
//! way no reader ever sees half a file under its final name. [`Destination::remove_superseded`]
//! removes earlier runs' files that a window landed whole replaces, on disk or in the store.
//!
//! The layout is the same everywhere (see [`layout`]):
//! `<dest>/<query>/[tenant=<t>/]date=YYYY-MM-DD/<start>_<end>.parquet`. Credentials come from
//! the environment (`AZURE_*`, `AWS_*`, `GOOGLE_*`, see [`store`]), never from the URL, and no
//! message shows a key or a query string.

pub mod credential;
mod destination;
pub mod layout;
pub mod publish;
pub mod sink;
mod store;
mod superseded;
mod target;
mod temp;
mod upload;

pub use credential::SharedCredential;
pub use destination::Destination;
pub use target::{ACCEPTED_FORMS, RemoteUrl, StoreKind, Target, TargetError};
pub use temp::{TempFile, open_temp, remove_stale_temps, sync_dir};

use crate::timespan::Window;
use chrono::NaiveDate;
use object_store::path::Path as ObjPath;
use std::fmt;
use std::path::{Path, PathBuf};

/// The format of a destination's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Hive-partitioned Parquet files, one per query, window and event day, named from the
    /// window (a re-run replaces them).
    #[default]
    Parquet,
    /// A Delta Lake table per query (`<dest>/<query>/_delta_log/`): the same Parquet files with
    /// unique names, committed to the table's log per window.
    Delta,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Format::Parquet),
            "delta" => Ok(Format::Delta),
            _ => Err(format!("unknown output format {s:?}: parquet or delta")),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Parquet => "parquet",
            Format::Delta => "delta",
        })
    }
}

/// The hidden knob for the multipart part size in bytes (tests and benchmarks; S3 needs at
/// least 5 MiB).
pub const PART_SIZE_VAR: &str = "HUNT_UPLOAD_PART_SIZE";

/// How files are uploaded to an object store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadOptions {
    /// Files up to this size go in one PUT; larger ones in parts of this size.
    pub part_size: usize,
    /// Parts uploading at once (memory: about `part_size × (parts_in_flight + 1)`).
    pub parts_in_flight: usize,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions { part_size: 8 << 20, parts_in_flight: 3 }
    }
}

/// Why output could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// `--out` is not a value hunt accepts.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The destination cannot be used as configured (nothing was sent).
    #[error("{target}: {message}")]
    Config {
        /// The destination.
        target: String,
        /// What is wrong.
        message: String,
    },
    /// An object-store operation failed after its retries, on the object (or prefix) at `url`.
    #[error("{url}: {message}")]
    Store {
        /// The object's URL (no credentials).
        url: String,
        /// What the store said (query strings cut out).
        message: String,
    },
    /// File system trouble, with the path involved.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Where the Parquet writer puts its temporary files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staging {
    /// Beside their final place under this folder: a local destination, put in place by rename.
    Beside(PathBuf),
    /// All in this spool folder: an object store, uploaded from there.
    Spool(PathBuf),
}

impl Staging {
    /// The folder for the temporary file of `rel_dir` (a folder relative to the destination).
    pub fn temp_dir(&self, rel_dir: &str) -> PathBuf {
        match self {
            Staging::Beside(root) => rel_path(root, rel_dir),
            Staging::Spool(dir) => dir.clone(),
        }
    }
}

/// A file written, synced and closed under a temporary name, not yet in place (dropped, it is
/// removed).
#[derive(Debug)]
pub struct Staged {
    /// The temporary file.
    pub temp: TempFile,
    /// Its final path relative to the destination, `/`-separated:
    /// `<query>/[tenant=<t>/]date=YYYY-MM-DD/<name>.parquet`.
    pub rel: String,
    /// Its event day.
    pub date: NaiveDate,
    /// Rows in it.
    pub rows: usize,
    /// Its size in bytes.
    pub bytes: u64,
    /// The window (or split part of one) its rows answer.
    pub window: Window,
    /// Whether that answer is known complete.
    pub complete: bool,
    /// The file's statistics as its Delta `add` action carries them (Delta output only).
    pub stats: Option<String>,
}

/// A file in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Where it is, for people: a local path, or the object's URL (no credentials).
    pub location: String,
    /// Its path in [`Destination::store`].
    pub object: ObjPath,
    /// Its path relative to the destination (`<query>/…/<name>.parquet`).
    pub rel: String,
    /// Its event day.
    pub date: NaiveDate,
    /// Rows in it.
    pub rows: usize,
    /// Its size in bytes.
    pub bytes: u64,
    /// The window (or split part of one) its rows answer.
    pub window: Window,
    /// Whether that answer is known complete.
    pub complete: bool,
    /// The file's statistics as its Delta `add` action carries them (Delta output only).
    pub stats: Option<String>,
}

impl Staged {
    /// The file once in place at `location` (`object` in the store). Its temporary file goes
    /// with it: removed, unless it was disarmed because it became the file itself.
    fn into_written(self, location: String, object: ObjPath) -> Written {
        Written {
            location,
            object,
            rel: self.rel,
            date: self.date,
            rows: self.rows,
            bytes: self.bytes,
            window: self.window,
            complete: self.complete,
            stats: self.stats,
        }
    }
}

/// `root` joined with a `/`-separated relative path.
fn rel_path(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(root.to_path_buf(), |p, c| p.join(c))
}

/// `prefix` joined with a `/`-separated relative path.
fn object_under(prefix: &ObjPath, rel: &str) -> ObjPath {
    rel.split('/').fold(prefix.clone(), |p, part| p.join(part))
}

impl Written {
    /// Its path relative to its query's folder (a Delta table's root):
    /// `[tenant=<t>/]date=YYYY-MM-DD/<name>.parquet`.
    pub fn table_path(&self) -> &str {
        self.rel.split_once('/').map_or(self.rel.as_str(), |(_, rest)| rest)
    }
}

#[cfg(test)]
mod tests;
