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

pub mod layout;
mod store;
mod superseded;
mod target;
mod temp;
mod upload;

pub use target::{ACCEPTED_FORMS, RemoteUrl, StoreKind, Target, TargetError};
pub use temp::{TempFile, open_temp, remove_stale_temps, sync_dir};

use crate::timespan::Window;
use chrono::NaiveDate;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
            Staging::Beside(root) => rel_dir.split('/').fold(root.clone(), |p, c| p.join(c)),
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
}

impl Written {
    /// Its path relative to its query's folder (a Delta table's root):
    /// `[tenant=<t>/]date=YYYY-MM-DD/<name>.parquet`.
    pub fn table_path(&self) -> &str {
        self.rel.split_once('/').map_or(self.rel.as_str(), |(_, rest)| rest)
    }
}

/// A local folder as an object-store location too (for formats that go through the store).
#[derive(Debug, Clone)]
struct LocalRoot {
    root: PathBuf,
    prefix: ObjPath,
}

/// Where results go: the parsed target, its store, and how files reach it.
pub struct Destination {
    target: Target,
    format: Format,
    store: Arc<dyn ObjectStore>,
    prefix: ObjPath,
    staging: Staging,
    local: Option<LocalRoot>,
    upload: UploadOptions,
}

impl fmt::Debug for Destination {
    /// The target and format only: the store's configuration holds credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destination")
            .field("target", &self.target.to_string())
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Destination {
    /// The folder, or the URL without credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.target.fmt(f)
    }
}

impl Destination {
    /// Opens `target` for `format`: a folder as is; an object store with the credentials and
    /// endpoints in `env` (the process environment, as pairs), its temporary files in `spool`.
    /// Nothing is sent yet (see [`Destination::check`]).
    pub fn open(
        target: Target,
        format: Format,
        spool: &Path,
        env: &[(String, String)],
    ) -> Result<Destination, OutputError> {
        let config_err =
            |message: String| OutputError::Config { target: target.to_string(), message };
        match &target {
            Target::Local(root) => {
                let mut d = Destination::local(root)?;
                d.format = format;
                Ok(d)
            }
            Target::Remote(remote) => {
                let mut upload = UploadOptions::default();
                if let Some((_, v)) = env.iter().find(|(k, _)| k == PART_SIZE_VAR) {
                    upload.part_size =
                        v.parse::<usize>().ok().filter(|n| *n >= 1024).ok_or_else(|| {
                            config_err(format!("{PART_SIZE_VAR} {v:?}: not a size in bytes ≥ 1024"))
                        })?;
                }
                let store = store::open(remote, env).map_err(config_err)?;
                Ok(Destination {
                    prefix: remote.prefix.clone(),
                    target,
                    format,
                    store,
                    staging: Staging::Spool(spool.to_owned()),
                    local: None,
                    upload,
                })
            }
        }
    }

    /// A local folder, Parquet format.
    pub fn local(root: impl Into<PathBuf>) -> Result<Destination, OutputError> {
        let root = root.into();
        let io = |source| OutputError::Io { path: root.clone(), source };
        let absolute = std::path::absolute(&root).map_err(io)?;
        let prefix = ObjPath::from_absolute_path(&absolute).map_err(|e| OutputError::Config {
            target: root.display().to_string(),
            message: format!("this folder cannot be used as an object-store path: {e}"),
        })?;
        Ok(Destination {
            target: Target::Local(root.clone()),
            format: Format::Parquet,
            store: Arc::new(LocalFileSystem::new()),
            prefix: prefix.clone(),
            staging: Staging::Beside(root.clone()),
            local: Some(LocalRoot { root, prefix }),
            upload: UploadOptions::default(),
        })
    }

    /// With these upload settings.
    pub fn with_upload(mut self, upload: UploadOptions) -> Destination {
        self.upload = upload;
        self
    }

    /// What `--out` said.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The files' format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The store the files are in (for a local folder, the file system).
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// The destination's path in [`Destination::store`]; files are under it.
    pub fn prefix(&self) -> &ObjPath {
        &self.prefix
    }

    /// Where the Parquet writer puts temporary files.
    pub fn staging(&self) -> &Staging {
        &self.staging
    }

    /// True for a local folder.
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    /// The store path of `rel` (`/`-separated, relative to the destination).
    pub fn object_of(&self, rel: &str) -> ObjPath {
        rel.split('/').fold(self.prefix.clone(), |p, part| p.join(part))
    }

    /// The root of a query's files (a Delta table's root): `<prefix>/<query>`.
    pub fn query_root(&self, query_id: &str) -> ObjPath {
        self.prefix.clone().join(query_id)
    }

    /// The object `object` of this destination's store for people: a local path, or a URL with
    /// no credentials (`az://container/prefix/q/…`).
    pub fn url_of(&self, object: &ObjPath) -> String {
        match (&self.target, &self.local) {
            (_, Some(l)) => match object.prefix_match(&l.prefix) {
                Some(parts) => {
                    parts.fold(l.root.clone(), |p, c| p.join(c.as_ref())).display().to_string()
                }
                None => format!("/{object}"),
            },
            (Target::Remote(r), None) => r.url_of(object),
            (Target::Local(root), None) => root.display().to_string(),
        }
    }

    /// Removes temporary files of dead hunt processes (in the folder, or in the spool). Returns
    /// how many.
    pub fn remove_stale_temps(&self) -> usize {
        match &self.staging {
            Staging::Beside(root) | Staging::Spool(root) => remove_stale_temps(root),
        }
    }

    /// Makes sure an object store answers (a listing of the prefix), so a wrong container,
    /// bucket or credential is reported before any query runs. A folder is not checked (it is
    /// created as files land).
    pub async fn check(&self) -> Result<(), OutputError> {
        if self.is_local() {
            return Ok(());
        }
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        self.store
            .list_with_delimiter(prefix)
            .await
            .map(drop)
            .map_err(|e| OutputError::Store { url: self.to_string(), message: store::describe(&e) })
    }

    /// Puts `staged` files in place: renamed into the folder, or uploaded to the store (and
    /// their spool files removed). Files are returned in the order given.
    pub async fn publish(&self, staged: Vec<Staged>) -> Result<Vec<Written>, OutputError> {
        if let Some(local) = &self.local {
            let local = local.clone();
            return tokio::task::spawn_blocking(move || local.put_in_place(staged))
                .await
                .unwrap_or_else(|e| {
                    Err(OutputError::Io { path: PathBuf::new(), source: std::io::Error::other(e) })
                });
        }
        let mut written = Vec::with_capacity(staged.len());
        for s in staged {
            let object = self.object_of(&s.rel);
            let url = self.url_of(&object);
            upload::upload_file(self.store.as_ref(), s.temp.path(), s.bytes, &object, self.upload)
                .await
                .map_err(|message| OutputError::Store { url: url.clone(), message })?;
            written.push(Written {
                location: url,
                object,
                rel: s.rel,
                date: s.date,
                rows: s.rows,
                bytes: s.bytes,
                window: s.window,
                complete: s.complete,
            });
            // `s.temp` is dropped here: the spool file goes.
        }
        Ok(written)
    }

    /// [`Destination::publish`] for a local folder, on this (blocking) thread.
    pub fn publish_local(&self, staged: Vec<Staged>) -> Result<Vec<Written>, OutputError> {
        match &self.local {
            Some(local) => local.put_in_place(staged),
            None => Err(OutputError::Config {
                target: self.to_string(),
                message: "not a local folder".into(),
            }),
        }
    }

    /// After a job has landed every part of `window`, removes the query's files from earlier
    /// runs whose window lies inside `window` and that this run did not write (`kept`): the
    /// parts of an earlier split answered whole this time, or days that no longer have rows.
    /// Returns where the removed files were. Files of other windows are never touched.
    pub async fn remove_superseded(
        &self,
        query_id: &str,
        tenant: Option<&str>,
        window: &Window,
        kept: &[Written],
    ) -> Result<Vec<String>, OutputError> {
        let dir = layout::query_dir(query_id, tenant)
            .map_err(|message| OutputError::Config { target: self.to_string(), message })?;
        if let Some(local) = &self.local {
            let (root, window) = (local.root.clone(), *window);
            let kept: Vec<PathBuf> = kept.iter().map(|w| rel_path(&root, &w.rel)).collect();
            return tokio::task::spawn_blocking(move || {
                superseded::remove_local(&rel_path(&root, &dir), &window, &kept)
            })
            .await
            .unwrap_or_else(|e| {
                Err(OutputError::Io { path: PathBuf::new(), source: std::io::Error::other(e) })
            });
        }
        let kept: Vec<ObjPath> = kept.iter().map(|w| w.object.clone()).collect();
        let dir = self.object_of(&dir);
        superseded::remove_remote(self.store.as_ref(), &dir, window, &kept, |o| self.url_of(o))
            .await
    }
}

/// `root` joined with a `/`-separated relative path.
fn rel_path(root: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(root.to_path_buf(), |p, c| p.join(c))
}

impl LocalRoot {
    /// Renames each temporary file to its final name and syncs its folder.
    fn put_in_place(&self, staged: Vec<Staged>) -> Result<Vec<Written>, OutputError> {
        let mut written = Vec::with_capacity(staged.len());
        for mut s in staged {
            let path = rel_path(&self.root, &s.rel);
            std::fs::rename(s.temp.path(), &path)
                .map_err(|source| OutputError::Io { path: path.clone(), source })?;
            s.temp.disarm();
            if let Some(dir) = path.parent() {
                sync_dir(dir).map_err(|source| OutputError::Io { path: dir.to_owned(), source })?;
            }
            let object = s.rel.split('/').fold(self.prefix.clone(), |p, c| p.join(c));
            written.push(Written {
                location: path.display().to_string(),
                object,
                rel: s.rel,
                date: s.date,
                rows: s.rows,
                bytes: s.bytes,
                window: s.window,
                complete: s.complete,
            });
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests;
