//! The partition layout under a destination, the same on disk and in object stores:
//! `<query id>/[tenant=<t>/]date=YYYY-MM-DD/<window start>_<window end>[-<uuid>].parquet`.
//! Names are checked here (every component a single safe path segment), and the layout is read
//! back here: which files belong to an earlier run of a window (superseded) is decided by
//! [`is_superseded`], a pure function shared by the local and the object-store clean-up.

use crate::timespan::Window;
use chrono::NaiveDate;

/// Refuses a value that is not a single safe path component: empty, `.`, `..`, or holding a
/// separator, a NUL or other control character, or `:` (a drive or a stream on Windows).
pub fn check_component(what: &str, value: &str) -> Result<(), String> {
    let unsafe_ = value.is_empty()
        || value == "."
        || value == ".."
        || value.chars().any(|c| matches!(c, '/' | '\\' | ':') || c.is_control());
    if unsafe_ {
        return Err(format!("{what} {value:?} is not a safe path component"));
    }
    Ok(())
}

/// The folder of a query's files (and of one tenant's, when given), relative to the
/// destination: `<query>` or `<query>/tenant=<t>`, `/`-separated.
pub fn query_dir(query_id: &str, tenant: Option<&str>) -> Result<String, String> {
    check_component("query id", query_id)?;
    match tenant {
        Some(t) => {
            check_component("tenant", t)?;
            Ok(format!("{query_id}/tenant={t}"))
        }
        None => Ok(query_id.to_owned()),
    }
}

/// The partition folder of an event day: `date=YYYY-MM-DD`.
pub fn date_dir(date: NaiveDate) -> String {
    format!("date={}", date.format("%Y-%m-%d"))
}

/// The file name of a window's rows: `<start>_<end>.parquet`, or with a unique suffix
/// (`<start>_<end>-<uuid>.parquet`) for formats whose data files are never overwritten (Delta).
pub fn file_name(window: &Window, unique: bool) -> String {
    if unique {
        format!("{}-{}.parquet", window.file_stem(), uuid::Uuid::new_v4().simple())
    } else {
        format!("{}.parquet", window.file_stem())
    }
}

/// The window a file name (`START_END.parquet`) names; `None` for anything else (temporary
/// files, unique Delta names, foreign files).
pub fn window_of_file(name: &str) -> Option<Window> {
    let stem = name.strip_suffix(".parquet")?;
    let (a, b) = stem.split_once('_')?;
    let start = crate::timespan::parse_datetime(a).ok()?;
    let end = crate::timespan::parse_datetime(b).ok()?;
    (start < end).then_some(Window { start, end })
}

/// Whether the file `name` in the partition folder `date_dir` of a query belongs to an earlier
/// run of a window inside `window` (and so is superseded once `window` has landed whole, unless
/// this run wrote it). Files of other windows, other folders and other names are never selected.
pub fn is_superseded(date_dir: &str, name: &str, window: &Window) -> bool {
    let is_partition = date_dir
        .strip_prefix("date=")
        .is_some_and(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
    is_partition
        && window_of_file(name).is_some_and(|w| w.start >= window.start && w.end <= window.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn w(h0: u32, h1: u32) -> Window {
        Window {
            start: Utc.with_ymd_and_hms(2026, 11, 22, h0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, 22, h1, 0, 0).unwrap(),
        }
    }

    #[test]
    fn names_follow_the_layout() {
        assert_eq!(query_dir("q", None).unwrap(), "q");
        assert_eq!(query_dir("q", Some("contoso")).unwrap(), "q/tenant=contoso");
        assert_eq!(date_dir(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap()), "date=2026-01-02");
        assert_eq!(file_name(&w(10, 11), false), "20261122T100000Z_20261122T110000Z.parquet");
        let unique = file_name(&w(10, 11), true);
        assert!(unique.starts_with("20261122T100000Z_20261122T110000Z-"), "{unique}");
        assert_ne!(unique, file_name(&w(10, 11), true));
        assert_eq!(window_of_file(&file_name(&w(10, 11), false)), Some(w(10, 11)));
        assert_eq!(window_of_file(&unique), None);
        for bad in ["", ".", "..", "a/b", "a\\b", "C:", "a\nb"] {
            assert!(query_dir(bad, None).is_err(), "{bad:?}");
            assert!(query_dir("q", Some(bad)).unwrap_err().contains("tenant"), "{bad:?}");
        }
    }

    #[test]
    fn superseded_files_are_the_windows_inside_and_nothing_else() {
        let whole = w(10, 12);
        let name = |w: Window| file_name(&w, false);
        assert!(is_superseded("date=2026-11-22", &name(w(10, 11)), &whole));
        assert!(is_superseded("date=2026-11-23", &name(w(11, 12)), &whole));
        assert!(is_superseded("date=2026-11-22", &name(w(10, 12)), &whole));
        // Other windows, overlapping or outside.
        assert!(!is_superseded("date=2026-11-22", &name(w(9, 11)), &whole));
        assert!(!is_superseded("date=2026-11-22", &name(w(12, 13)), &whole));
        // Not a partition folder, not a window file, temporary and unique names.
        assert!(!is_superseded("tenant=x", &name(w(10, 11)), &whole));
        assert!(!is_superseded("date=someday", &name(w(10, 11)), &whole));
        assert!(!is_superseded("date=2026-11-22", "notes.txt", &whole));
        let tmp = format!(".{}.123.4.tmp", name(w(10, 11)));
        assert!(!is_superseded("date=2026-11-22", &tmp, &whole));
        assert!(!is_superseded("date=2026-11-22", &file_name(&w(10, 11), true), &whole));
    }
}
