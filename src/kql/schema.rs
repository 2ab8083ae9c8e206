//! The Defender XDR advanced-hunting schema: every table and built-in function with its columns
//! and types, shipped as data (`defender-xdr-schema.json`, read from Microsoft's public schema
//! pages on the date in [`Schema::extracted`]). `hunt validate` uses it to call an unknown table
//! an error when it is a near miss of a real one ("did you mean") and to warn about a column a
//! known table does not have.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The schema file, as shipped.
const DEFENDER_XDR: &str = include_str!("defender-xdr-schema.json");

/// Whether an entry is a table or a function that returns one (`FileProfile()`, `SeenBy()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A table.
    Table,
    /// A built-in function.
    Function,
}

/// One column.
#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    /// Its name, exactly (KQL names are case-sensitive).
    pub name: String,
    /// Its type as the docs write it (`string`, `datetime`, `dynamic`, …).
    #[serde(rename = "type")]
    pub ty: String,
}

/// One table or function.
#[derive(Debug, Clone, Deserialize)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Table or function.
    pub kind: Kind,
    /// `ga`, `preview` or `deprecated`.
    pub status: String,
    /// Its columns, in the documented order.
    pub columns: Vec<Column>,
}

impl Table {
    /// The column named exactly `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// The tables and functions of advanced hunting.
#[derive(Debug, Clone, Deserialize)]
pub struct Schema {
    /// When it was read from Microsoft's pages (`2026-12-03`).
    pub extracted: String,
    tables: Vec<Table>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// The schema shipped with hunt.
pub fn defender_xdr() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The file is part of the build and checked by a test: it cannot fail to parse.
        let mut schema: Schema = serde_json::from_str(DEFENDER_XDR).unwrap_or_else(|_| Schema {
            extracted: String::new(),
            tables: Vec::new(),
            index: HashMap::new(),
        });
        schema.index = schema.tables.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        schema
    })
}

impl Schema {
    /// The table or function named exactly `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.index.get(name).map(|&i| &self.tables[i])
    }

    /// Every table and function.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter()
    }

    /// The table `name` was probably meant to be, when it is not one: a case variant or the
    /// nearest name by edit distance (within 2, or 3 for names longer than 12 characters).
    pub fn did_you_mean(&self, name: &str) -> Option<&str> {
        nearest(name, self.tables.iter().map(|t| t.name.as_str()))
    }
}

/// The candidate nearest to `word`: a case variant first, else the nearest by edit distance
/// within 2 (1 for words of four characters or fewer, 3 for words over 12).
pub fn nearest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    if let Some(same) = candidates.clone().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    let len = word.chars().count();
    let limit = match len {
        0..=4 => 1,
        5..=12 => 2,
        _ => 3,
    };
    candidates
        .map(|c| (super::syntax::names::distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_schema_loads_whole() {
        let s = defender_xdr();
        assert_eq!(s.extracted, "2026-12-03");
        assert!(s.tables().count() >= 70, "{}", s.tables().count());
        let t = s.table("DeviceProcessEvents").expect("DeviceProcessEvents");
        assert_eq!(t.kind, Kind::Table);
        assert_eq!(t.column("ProcessCommandLine").map(|c| c.ty.as_str()), Some("string"));
        assert_eq!(t.column("Timestamp").map(|c| c.ty.as_str()), Some("datetime"));
        assert!(t.column("processcommandline").is_none(), "names are case-sensitive");
        assert_eq!(s.table("FileProfile").map(|t| t.kind), Some(Kind::Function));
        assert!(s.table("SigninLogs").is_none());
    }

    #[test]
    fn near_misses_are_suggested() {
        let s = defender_xdr();
        assert_eq!(s.did_you_mean("DeviceProcesEvents"), Some("DeviceProcessEvents"));
        assert_eq!(s.did_you_mean("deviceprocessevents"), Some("DeviceProcessEvents"));
        assert_eq!(s.did_you_mean("DeviceNetworkEvent"), Some("DeviceNetworkEvents"));
        assert_eq!(s.did_you_mean("EmailEvent"), Some("EmailEvents"));
        assert_eq!(s.did_you_mean("SigninLogs"), None);
        assert_eq!(s.did_you_mean("SecurityEvent"), None);
        let cols = ["DeviceName", "DeviceId", "Timestamp"];
        assert_eq!(nearest("DeviceNme", cols.iter().copied()), Some("DeviceName"));
        assert_eq!(nearest("devicename", cols.iter().copied()), Some("DeviceName"));
        assert_eq!(nearest("Folder", cols.iter().copied()), None);
    }
}
