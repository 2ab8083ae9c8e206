//! Removing the files of earlier runs that a window landed whole supersedes, in a folder or in an
//! object store. Which files those are is [`layout::is_superseded`]'s decision, the same for both.
//!
//! Only the date partitions the window can have written are looked at ([`partitions`]): the
//! days from its start to its end, and the days of the files this run wrote. A query folder that
//! holds years of windows is therefore never listed whole for every window (at MSSP scale that
//! would be thousands of list requests a day per query); the cost is that a file of an earlier
//! run whose rows were all dated outside the window (a query that rewrites `Timestamp`) is not
//! seen, and stays.

use super::OutputError;
use super::layout;
use super::store::describe;
use super::temp::sync_dir;
use crate::timespan::Window;
use chrono::NaiveDate;
use futures_util::TryStreamExt as _;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt as _};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The date partitions (`date=YYYY-MM-DD`) to look in for files superseded by `window`: every
/// day the window touches, and the days of the files written (`kept_days`), in order.
pub(super) fn partitions(window: &Window, kept_days: &[NaiveDate]) -> Vec<String> {
    let first = window.start.date_naive();
    let last = (window.end - chrono::Duration::nanoseconds(1)).date_naive().max(first);
    let mut days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    days.extend_from_slice(kept_days);
    days.sort_unstable();
    days.dedup();
    days.into_iter().map(layout::date_dir).collect()
}

/// Removes, in the partitions `days` of the query folder `dir`, the superseded files not in
/// `kept`; returns their paths. Missing folders are nothing to do.
pub(super) fn remove_local(
    dir: &Path,
    days: &[String],
    window: &Window,
    kept: &[PathBuf],
) -> Result<Vec<String>, OutputError> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| OutputError::Io { path, source }
    };
    let mut removed = Vec::new();
    for day_name in days {
        let day = dir.join(day_name);
        let files = match fs::read_dir(&day) {
            Ok(f) => f,
            Err(e)
                if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) =>
            {
                continue;
            }
            Err(e) => return Err(io_err(&day)(e)),
        };
        let mut any = false;
        for file in files {
            let file = file.map_err(io_err(&day))?.path();
            let selected = file
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| layout::is_superseded(day_name, n, window));
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

/// Removes, in the partitions `days` of the query prefix `dir` of `store`, the superseded
/// objects not in `kept`; returns their URLs (made by `url_of`).
pub(super) async fn remove_remote(
    store: &dyn ObjectStore,
    dir: &ObjPath,
    days: &[String],
    window: &Window,
    kept: &[ObjPath],
    url_of: impl Fn(&ObjPath) -> String,
) -> Result<Vec<String>, OutputError> {
    let store_err = |at: &ObjPath, e: object_store::Error| OutputError::Store {
        url: url_of(at),
        message: describe(&e),
    };
    let mut removed = Vec::new();
    for day in days {
        let day_dir = dir.clone().join(day.as_str());
        let listed: Vec<object_store::ObjectMeta> =
            store.list(Some(&day_dir)).try_collect().await.map_err(|e| store_err(&day_dir, e))?;
        for meta in listed {
            // Directly in the partition: `<dir>/date=…/<name>`.
            let name = meta.location.prefix_match(&day_dir).and_then(|parts| {
                let parts: Vec<_> = parts.collect();
                match parts.as_slice() {
                    [name] => Some(name.as_ref().to_owned()),
                    _ => None,
                }
            });
            let selected = name.is_some_and(|n| layout::is_superseded(day, &n, window));
            if selected && !kept.contains(&meta.location) {
                match store.delete(&meta.location).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(store_err(&meta.location, e)),
                }
                removed.push(url_of(&meta.location));
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_partitions_of_a_window_are_its_days_and_the_days_written() {
        let t = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let w = |a, b| Window { start: a, end: b };
        assert_eq!(partitions(&w(t(22, 10), t(22, 12)), &[]), ["date=2026-11-22"]);
        // Ending at midnight: the next day is not touched.
        assert_eq!(partitions(&w(t(22, 10), t(23, 0)), &[]), ["date=2026-11-22"]);
        assert_eq!(
            partitions(&w(t(21, 22), t(23, 2)), &[day(21)]),
            ["date=2026-11-21", "date=2026-11-22", "date=2026-11-23"]
        );
        // A file written on a day outside the window (a rewritten Timestamp) is looked at too.
        assert_eq!(
            partitions(&w(t(22, 10), t(22, 12)), &[day(1)]),
            ["date=2026-11-01", "date=2026-11-22"]
        );
    }
}
