//! [`Destination`]: a folder or an object-store prefix, opened, with the operations the
//! executor (and the Delta log writer) need: where temporary files go, putting staged files in
//! place, removing superseded files, and the store and paths for anything that writes through
//! `object_store` itself.

use super::credential::SharedCredential;
use super::{
    Format, OutputError, PART_SIZE_VAR, Staged, Staging, Target, UploadOptions, Written, layout,
    object_under, rel_path, remove_stale_temps, store, superseded, sync_dir, upload,
};
use crate::lake_types::TimestampUnit;
use crate::timespan::Window;
use futures_util::TryStreamExt as _;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A local folder, also seen as an object-store location (for writers that go through the
/// store).
#[derive(Debug, Clone)]
pub(super) struct LocalRoot {
    root: PathBuf,
    prefix: ObjPath,
}

/// How files reach the destination.
#[derive(Debug, Clone)]
pub(super) enum Place {
    /// Renamed into this folder.
    Local(LocalRoot),
    /// Uploaded to this object-store location.
    Remote(super::RemoteUrl),
}

/// Where results go: the parsed target, its store, and how files reach it.
pub struct Destination {
    pub(super) target: Target,
    pub(super) format: Format,
    pub(super) timestamp_unit: TimestampUnit,
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) prefix: ObjPath,
    pub(super) staging: Staging,
    pub(super) place: Place,
    pub(super) upload: UploadOptions,
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
        Destination::open_signed(target, format, spool, env, None)
    }

    /// [`Destination::open`], with hunt's own sign-in (`shared`) for an Azure store that `env`
    /// gives no storage credential of its own.
    pub fn open_signed(
        target: Target,
        format: Format,
        spool: &Path,
        env: &[(String, String)],
        shared: Option<SharedCredential>,
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
                let store = store::open(remote, env, shared).map_err(config_err)?;
                let (prefix, place) = (remote.prefix.clone(), Place::Remote(remote.clone()));
                Ok(Destination {
                    prefix,
                    target,
                    format,
                    timestamp_unit: TimestampUnit::default(),
                    store,
                    staging: Staging::Spool(spool.to_owned()),
                    place,
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
            timestamp_unit: TimestampUnit::default(),
            store: Arc::new(LocalFileSystem::new()),
            prefix: prefix.clone(),
            staging: Staging::Beside(root.clone()),
            place: Place::Local(LocalRoot { root, prefix }),
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

    /// The unit of timestamp columns in Parquet files written here (Delta's are microseconds).
    pub fn timestamp_unit(&self) -> TimestampUnit {
        self.timestamp_unit
    }

    /// Writes Parquet timestamps in `unit`; refused for Delta, which has no nanoseconds.
    pub fn with_timestamp_unit(mut self, unit: TimestampUnit) -> Result<Destination, OutputError> {
        if self.format == Format::Delta && unit == TimestampUnit::Nanos {
            return Err(OutputError::Config {
                target: self.target.to_string(),
                message: "timestamp_unit \"ns\" cannot be used with Delta, whose timestamps are \
                          microseconds: remove it or write Parquet"
                    .into(),
            });
        }
        self.timestamp_unit = unit;
        Ok(self)
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
        matches!(self.place, Place::Local(_))
    }

    /// The store path of `rel` (`/`-separated, relative to the destination).
    pub fn object_of(&self, rel: &str) -> ObjPath {
        object_under(&self.prefix, rel)
    }

    /// The root of a query's files (a Delta table's root): `<prefix>/<query>`.
    pub fn query_root(&self, query_id: &str) -> ObjPath {
        self.prefix.clone().join(query_id)
    }

    /// The object `object` of this destination's store for people: a local path, or a URL with
    /// no credentials (`az://container/prefix/q/…`).
    pub fn url_of(&self, object: &ObjPath) -> String {
        match &self.place {
            Place::Local(l) => match object.prefix_match(&l.prefix) {
                Some(parts) => rel_path(
                    &l.root,
                    &parts.map(|p| p.as_ref().to_owned()).collect::<Vec<_>>().join("/"),
                )
                .display()
                .to_string(),
                // Not under the folder: shown as the absolute path it is.
                None => format!("/{object}"),
            },
            Place::Remote(r) => r.url_of(object),
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
        if let Place::Local(local) = &self.place {
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
            // The spool file goes with `s`.
            written.push(s.into_written(url, object));
        }
        Ok(written)
    }

    /// [`Destination::publish`] for a local folder, on this (blocking) thread.
    pub fn publish_local(&self, staged: Vec<Staged>) -> Result<Vec<Written>, OutputError> {
        match &self.place {
            Place::Local(local) => local.put_in_place(staged),
            Place::Remote(_) => Err(OutputError::Config {
                target: self.to_string(),
                message: "not a local folder".into(),
            }),
        }
    }

    /// The windows of the files already landed for `query_id` (and `tenant`) in the date
    /// partitions `window` touches: what a new run of `window` would sit beside.
    pub async fn landed_windows(
        &self,
        query_id: &str,
        tenant: Option<&str>,
        window: &Window,
    ) -> Result<Vec<Window>, OutputError> {
        let dir = layout::query_dir(query_id, tenant)
            .map_err(|message| OutputError::Config { target: self.to_string(), message })?;
        let dir = self.object_of(&dir);
        let mut windows = Vec::new();
        for day in superseded::partitions(window, &[]) {
            let day_dir = dir.clone().join(day.as_str());
            let listed: Vec<object_store::ObjectMeta> =
                match self.store.list(Some(&day_dir)).try_collect().await {
                    Ok(l) => l,
                    Err(object_store::Error::NotFound { .. }) => continue,
                    Err(e) => {
                        let (url, message) = (self.url_of(&day_dir), store::describe(&e));
                        return Err(OutputError::Store { url, message });
                    }
                };
            windows.extend(
                listed
                    .iter()
                    .filter_map(|m| m.location.filename().and_then(layout::window_of_file)),
            );
        }
        windows.sort_by_key(|w| (w.start, w.end));
        windows.dedup();
        Ok(windows)
    }

    /// After a job has landed every part of `window`, removes the query's files from earlier
    /// runs whose window lies inside `window` and that this run did not write (`kept`): the
    /// parts of an earlier split answered whole this time, or days that no longer have rows.
    /// Only the date partitions the window touches (and those of `kept`) are looked at.
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
        let days = superseded::partitions(window, &kept.iter().map(|w| w.date).collect::<Vec<_>>());
        if let Place::Local(local) = &self.place {
            let (root, window) = (local.root.clone(), *window);
            let kept: Vec<PathBuf> = kept.iter().map(|w| rel_path(&root, &w.rel)).collect();
            return tokio::task::spawn_blocking(move || {
                superseded::remove_local(&rel_path(&root, &dir), &days, &window, &kept)
            })
            .await
            .unwrap_or_else(|e| {
                Err(OutputError::Io { path: PathBuf::new(), source: std::io::Error::other(e) })
            });
        }
        let kept: Vec<ObjPath> = kept.iter().map(|w| w.object.clone()).collect();
        let dir = self.object_of(&dir);
        superseded::remove_remote(self.store.as_ref(), &dir, &days, window, &kept, |o| {
            self.url_of(o)
        })
        .await
    }
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
            let object = object_under(&self.prefix, &s.rel);
            written.push(s.into_written(path.display().to_string(), object));
        }
        Ok(written)
    }
}
