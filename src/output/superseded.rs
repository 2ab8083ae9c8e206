//! Removing the files of earlier runs that a window landed whole supersedes, in a folder or in an
//! object store. Which files those are is [`layout::is_superseded`]'s decision, the same for both.

use super::OutputError;
use super::layout;
use super::store::describe;
use super::temp::sync_dir;
use crate::timespan::Window;
use futures_util::TryStreamExt as _;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt as _};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Removes, under the query folder `dir`, the superseded files not in `kept`; returns their
/// paths. A missing folder is nothing to do.
pub(super) fn remove_local(
    dir: &Path,
    window: &Window,
    kept: &[PathBuf],
) -> Result<Vec<String>, OutputError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| OutputError::Io { path, source }
    };
    let mut removed = Vec::new();
    let days = match fs::read_dir(dir) {
        Ok(d) => d,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(io_err(dir)(e)),
    };
    for day in days {
        let day = day.map_err(io_err(dir))?.path();
        let Some(day_name) = day.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !day_name.starts_with("date=") || !day.is_dir() {
            continue;
        }
        let mut any = false;
        for file in fs::read_dir(&day).map_err(io_err(&day))? {
            let file = file.map_err(io_err(&day))?.path();
            let selected = file
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| layout::is_superseded(&day_name, n, window));
            if selected && !kept.contains(&file) {
                fs::remove_file(&file).map_err(io_err(&file))?;
                removed.push(file.display().to_string());
                any = true;
            }
        }
        if any {
            sync_dir(&day).map_err(io_err(&day))?;
        }
    }
    Ok(removed)
}

/// Removes, under the query prefix `dir` of `store`, the superseded objects not in `kept`;
/// returns their URLs (made by `url_of`).
pub(super) async fn remove_remote(
    store: &dyn ObjectStore,
    dir: &ObjPath,
    window: &Window,
    kept: &[ObjPath],
    url_of: impl Fn(&ObjPath) -> String,
) -> Result<Vec<String>, OutputError> {
    let store_err = |at: &ObjPath, e: object_store::Error| OutputError::Store {
        url: url_of(at),
        message: describe(&e),
    };
    let listed: Vec<object_store::ObjectMeta> =
        store.list(Some(dir)).try_collect().await.map_err(|e| store_err(dir, e))?;
    let mut removed = Vec::new();
    for meta in listed {
        let selected = meta.location.prefix_match(dir).is_some_and(|parts| {
            let parts: Vec<_> = parts.collect();
            matches!(parts.as_slice(), [day, name] if layout::is_superseded(day.as_ref(), name.as_ref(), window))
        });
        if selected && !kept.contains(&meta.location) {
            match store.delete(&meta.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_err(&meta.location, e)),
            }
            removed.push(url_of(&meta.location));
        }
    }
    Ok(removed)
}
