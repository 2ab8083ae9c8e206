//! What one window's commit holds, worked out from the snapshot it will follow: `add`s for the
//! window's new files, `remove`s for every live file of an earlier run of a window inside this
//! one (same tenant), the application's `txn`, `commitInfo`, and for a new table (or a schema
//! that grew) `protocol`/`metaData`. Pure: the same snapshot and request give the same actions,
//! so after losing a race the commit is simply planned again on the newer snapshot.

use super::action::{
    Action, Add, Format, Metadata, NullableMap, Protocol, Remove, Txn, encode_path,
};
use super::error::DeltaError;
use super::schema::{self, DeltaField, DeltaSchema, DeltaType};
use super::snapshot::Snapshot;
use crate::lake_types::keys;
use crate::timespan::{Window, graph_datetime, parse_datetime};
use chrono::NaiveDate;
use serde_json::json;

/// The partition column of the tenant, first when present.
pub const TENANT_COLUMN: &str = "tenant";
/// The partition column of the event day (Delta type `date`).
pub const DATE_COLUMN: &str = "date";
/// The reader version hunt writes and reads.
pub const READER_VERSION: i32 = 1;
/// The writer version hunt writes and implements (append-only tables and column invariants are
/// refused rather than silently broken).
pub const WRITER_VERSION: i32 = 2;

/// A data file of the window, already in place under the table root.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    /// Path relative to the table root, `/`-separated, e.g.
    /// `tenant=x/date=2026-11-21/20261121T100000Z_20261121T110000Z-<uuid>.parquet`
    /// (see [`data_file_path`]). Must be unique: Delta data files are never overwritten.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Rows in the file.
    pub rows: u64,
    /// The event day of its rows (the `date` partition value).
    pub date: NaiveDate,
    /// The (part of the) window its rows answer; recorded in the file's tags.
    pub window: Window,
    /// Whether that answer is known complete.
    pub complete: bool,
    /// Statistics JSON ([`super::StatsCollector::to_json`]); `None` records only the row count.
    pub stats: Option<String>,
    /// When the file was written, ms since the epoch (`None`: now).
    pub modification_time: Option<i64>,
}

/// About the query whose window is committed (for `txn` and `commitInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryMeta {
    /// Query id.
    pub query_id: String,
    /// SHA-256 of the query text, hex.
    pub query_sha256: String,
    /// Whether every part of the window is known complete.
    pub complete: bool,
    /// The service's request ids.
    pub request_ids: Vec<String>,
}

/// One window to commit.
#[derive(Debug, Clone)]
pub struct Request {
    /// The window's data columns.
    pub schema: DeltaSchema,
    /// Tenant, when output is per tenant.
    pub tenant: Option<String>,
    /// The whole window (a split window's parts are in its files).
    pub window: Window,
    /// The query.
    pub query: QueryMeta,
    /// The new files.
    pub files: Vec<NewFile>,
}

/// A planned commit.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The actions, `commitInfo` first.
    pub actions: Vec<Action>,
    /// Files added.
    pub added: usize,
    /// Files removed.
    pub removed: usize,
    /// Whether the commit changes the schema (or creates the table).
    pub metadata: bool,
}

/// The partition columns of output with or without a tenant.
pub fn partition_columns(tenant: Option<&str>) -> Vec<String> {
    match tenant {
        Some(_) => vec![TENANT_COLUMN.into(), DATE_COLUMN.into()],
        None => vec![DATE_COLUMN.into()],
    }
}

/// The `txn` application id of a query (and tenant): `hunt/<query>[/<tenant>]`.
pub fn app_id(query_id: &str, tenant: Option<&str>) -> String {
    match tenant {
        Some(t) => format!("hunt/{query_id}/{t}"),
        None => format!("hunt/{query_id}"),
    }
}

/// A fresh, unique data file path for rows of `part` on `date`:
/// `[tenant=<t>/]date=YYYY-MM-DD/<start>_<end>-<uuid>.parquet`.
pub fn data_file_path(tenant: Option<&str>, date: NaiveDate, part: &Window) -> String {
    let mut p = String::new();
    if let Some(t) = tenant {
        p.push_str(&format!("{TENANT_COLUMN}={t}/"));
    }
    p.push_str(&format!(
        "{DATE_COLUMN}={}/{}-{}.parquet",
        date.format("%Y-%m-%d"),
        part.file_stem(),
        uuid::Uuid::new_v4().simple()
    ));
    p
}

/// Plans the commit of `req` after `snapshot` (`None`: the table does not exist yet).
pub fn plan(
    table: &str,
    snapshot: Option<&Snapshot>,
    req: &Request,
    txn_id: &str,
    now_ms: i64,
) -> Result<Plan, DeltaError> {
    let version = snapshot.map_or(0, |s| s.version);
    let schema_err = |message: String| DeltaError::Schema { table: table.into(), version, message };
    let unsupported =
        |message: String| DeltaError::Unsupported { table: table.into(), version, message };
    let partitions = partition_columns(req.tenant.as_deref());
    for f in &req.schema.fields {
        if let Some(p) = partitions.iter().find(|p| p.eq_ignore_ascii_case(&f.name)) {
            return Err(schema_err(format!(
                "the result has a column `{}`, which is the name of the table's partition column \
                 `{p}`: rename it in the query (`project-rename`)",
                f.name
            )));
        }
    }
    for f in &req.files {
        check_file_path(&f.path).map_err(|message| DeltaError::File {
            table: table.into(),
            path: f.path.clone(),
            message,
        })?;
    }
    let mut actions = Vec::new();
    let mut removes = Vec::new();
    let new_metadata = match snapshot {
        None => {
            actions.push(Action::Protocol(Protocol {
                min_reader_version: READER_VERSION,
                min_writer_version: WRITER_VERSION,
                reader_features: None,
                writer_features: None,
            }));
            let mut fields = req.schema.fields.clone();
            if req.tenant.is_some() {
                fields.push(DeltaField::new(TENANT_COLUMN, DeltaType::String));
            }
            fields.push(DeltaField::new(DATE_COLUMN, DeltaType::Date));
            Some(Metadata {
                id: uuid::Uuid::new_v4().to_string(),
                name: None,
                description: None,
                format: Format { provider: "parquet".into(), options: NullableMap::new() },
                schema_string: DeltaSchema { fields }.to_schema_string(),
                partition_columns: partitions.clone(),
                created_time: Some(now_ms),
                configuration: NullableMap::new(),
            })
        }
        Some(s) => {
            check_protocol(s).map_err(unsupported)?;
            if s.metadata.partition_columns != partitions {
                return Err(DeltaError::Partitioning {
                    table: table.into(),
                    version,
                    table_columns: s.metadata.partition_columns.clone(),
                    wanted: partitions,
                });
            }
            if let Some(f) = req.files.iter().find(|f| s.files.contains_key(&f.path)) {
                return Err(DeltaError::File {
                    table: table.into(),
                    path: f.path.clone(),
                    message: format!(
                        "already in the table at version {version}: data files are never overwritten, give each a new name"
                    ),
                });
            }
            removes = superseded(s, req, now_ms);
            if !removes.is_empty() && is_true(&s.metadata.configuration, "delta.appendOnly") {
                return Err(unsupported(format!(
                    "the table is append-only (delta.appendOnly=true) but re-running window {} \
                     replaces {} file(s)",
                    req.window,
                    removes.len()
                )));
            }
            schema::merge(&s.schema, &partitions, &req.schema).map_err(|e| schema_err(e.0))?.map(
                |merged| Metadata {
                    schema_string: merged.to_schema_string(),
                    ..s.metadata.clone()
                },
            )
        }
    };
    let metadata = new_metadata.is_some();
    actions.extend(new_metadata.map(Action::Metadata));
    let app_id = app_id(&req.query.query_id, req.tenant.as_deref());
    let end_ms = req.window.end.timestamp_millis();
    let txn_version =
        snapshot.and_then(|s| s.txns.get(&app_id)).map_or(end_ms, |t| t.version.max(end_ms));
    actions.push(Action::Txn(Txn { app_id, version: txn_version, last_updated: Some(now_ms) }));
    let (added, removed) = (req.files.len(), removes.len());
    actions.extend(removes.into_iter().map(Action::Remove));
    for f in &req.files {
        actions.push(Action::Add(add_of(f, req.tenant.as_deref(), now_ms)));
    }
    let rows: u64 = req.files.iter().map(|f| f.rows).sum();
    let bytes: u64 = req.files.iter().map(|f| f.size).sum();
    let info = json!({
        "timestamp": now_ms,
        "operation": "WRITE",
        "operationParameters": {
            "mode": if removed > 0 { "Overwrite" } else { "Append" },
            "partitionBy": serde_json::to_string(&partition_columns(req.tenant.as_deref())).unwrap_or_default(),
            "window": req.window.to_string(),
        },
        "operationMetrics": {
            "numFiles": added,
            "numOutputRows": rows,
            "numOutputBytes": bytes,
            "numRemovedFiles": removed,
        },
        "isBlindAppend": removed == 0 && !metadata,
        "clientVersion": concat!("hunt-", env!("CARGO_PKG_VERSION")),
        "txnId": txn_id,
        "hunt": {
            "query": req.query.query_id,
            "querySha256": req.query.query_sha256,
            "tenant": req.tenant,
            "windowStart": graph_datetime(req.window.start),
            "windowEnd": graph_datetime(req.window.end),
            "complete": req.query.complete,
            "requestIds": req.query.request_ids,
        },
    });
    actions.insert(0, Action::CommitInfo(info));
    Ok(Plan { actions, added, removed, metadata })
}

/// Refuses tables that need more than hunt implements.
fn check_protocol(s: &Snapshot) -> Result<(), String> {
    let p = &s.protocol;
    if p.min_reader_version > READER_VERSION || p.min_writer_version > WRITER_VERSION {
        let features: Vec<&String> =
            p.reader_features.iter().chain(&p.writer_features).flatten().collect();
        return Err(format!(
            "the table needs Delta reader version {} and writer version {}{}; hunt writes \
             reader {READER_VERSION} / writer {WRITER_VERSION} tables",
            p.min_reader_version,
            p.min_writer_version,
            if features.is_empty() { String::new() } else { format!(" (features {features:?})") }
        ));
    }
    if let Some(f) = s.schema.fields.iter().find(|f| f.metadata.contains_key("delta.invariants")) {
        return Err(format!(
            "column `{}` has a column invariant (delta.invariants), which hunt cannot check",
            f.name
        ));
    }
    Ok(())
}

fn is_true(config: &NullableMap, key: &str) -> bool {
    config.get(key).and_then(|v| v.as_deref()).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The window a file's tags record.
fn tagged_window(add: &Add) -> Option<Window> {
    let tags = add.tags.as_ref()?;
    let get = |k: &str| tags.get(k)?.as_deref().and_then(|v| parse_datetime(v).ok());
    let (start, end) = (get(keys::WINDOW_START)?, get(keys::WINDOW_END)?);
    (start < end).then_some(Window { start, end })
}

/// `remove`s for the live files of the same tenant whose recorded window lies inside the
/// request's window: earlier runs of this window or of parts of it. Files without hunt's tags
/// (written by others) and files of other windows or tenants are never touched.
fn superseded(s: &Snapshot, req: &Request, now_ms: i64) -> Vec<Remove> {
    let mut out: Vec<Remove> = s
        .files
        .values()
        .filter(|a| {
            let tenant = a.partition_values.get(TENANT_COLUMN).cloned().flatten();
            tenant.as_deref() == req.tenant.as_deref()
                && tagged_window(a)
                    .is_some_and(|w| w.start >= req.window.start && w.end <= req.window.end)
        })
        .map(|a| Remove {
            path: a.path.clone(),
            deletion_timestamp: Some(now_ms),
            data_change: true,
            extended_file_metadata: Some(true),
            partition_values: Some(a.partition_values.clone()),
            size: Some(a.size),
            tags: a.tags.clone(),
            deletion_vector: None,
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn add_of(f: &NewFile, tenant: Option<&str>, now_ms: i64) -> Add {
    let mut partition_values = NullableMap::new();
    if let Some(t) = tenant {
        partition_values.insert(TENANT_COLUMN.into(), Some(t.into()));
    }
    partition_values.insert(DATE_COLUMN.into(), Some(f.date.format("%Y-%m-%d").to_string()));
    let tags = NullableMap::from([
        (keys::WINDOW_START.to_owned(), Some(graph_datetime(f.window.start))),
        (keys::WINDOW_END.to_owned(), Some(graph_datetime(f.window.end))),
        (keys::COMPLETE.to_owned(), Some(f.complete.to_string())),
    ]);
    Add {
        path: encode_path(&f.path),
        partition_values,
        size: i64::try_from(f.size).unwrap_or(i64::MAX),
        modification_time: f.modification_time.unwrap_or(now_ms),
        data_change: true,
        stats: Some(f.stats.clone().unwrap_or_else(|| json!({"numRecords": f.rows}).to_string())),
        tags: Some(tags),
        deletion_vector: None,
    }
}

/// A data file path must be relative, inside the table, not hidden (no part starting with `_`
/// or `.`, which readers skip), and made of parts object stores keep as they are.
fn check_file_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.starts_with('/') {
        return Err("not a relative path".into());
    }
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err("has an empty, `.` or `..` part".into());
        }
        if part.starts_with('_') || part.starts_with('.') {
            return Err(format!("part {part:?} is hidden (starts with `_` or `.`)"));
        }
        let kept = object_store::path::PathPart::from(part);
        if kept.as_ref() != part {
            return Err(format!("part {part:?} holds characters object stores encode"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths() {
        let ok = [
            "date=2026-11-21/a.parquet",
            "tenant=contoso/date=2026-11-21/20261121T100000Z_20261121T110000Z-x.parquet",
            "tenant=a b/x.parquet",
            "a.parquet",
        ];
        for p in ok {
            assert_eq!(check_file_path(p), Ok(()), "{p}");
        }
        let bad = [
            "",
            "/abs.parquet",
            "a//b.parquet",
            "../x.parquet",
            "./x.parquet",
            "_delta_log/00000000000000000000.json",
            "date=x/.hidden.parquet",
            "tenant=a%b/x.parquet",
            "x?.parquet",
        ];
        for p in bad {
            assert!(check_file_path(p).is_err(), "{p}");
        }
    }

    #[test]
    fn data_file_paths_are_unique_and_partitioned() {
        let w = Window {
            start: parse_datetime("2026-11-21T10:00:00Z").unwrap(),
            end: parse_datetime("2026-11-21T11:00:00Z").unwrap(),
        };
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        let a = data_file_path(Some("contoso"), d, &w);
        let b = data_file_path(Some("contoso"), d, &w);
        assert_ne!(a, b);
        assert!(
            a.starts_with("tenant=contoso/date=2026-11-21/20261121T100000Z_20261121T110000Z-"),
            "{a}"
        );
        assert!(a.ends_with(".parquet"));
        assert_eq!(check_file_path(&a), Ok(()));
        assert!(data_file_path(None, d, &w).starts_with("date=2026-11-21/"));
        assert_eq!(app_id("q", Some("t")), "hunt/q/t");
        assert_eq!(app_id("q", None), "hunt/q");
    }
}
