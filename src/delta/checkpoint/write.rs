//! Writing a classic single-part checkpoint of a snapshot: `protocol`, `metaData`, every `txn`,
//! every live `add` (with its statistics as JSON) and the tombstones not yet expired, one per
//! row, then `_last_checkpoint`. The checkpoint is written whole (one PUT), so a reader never
//! sees half of one; two writers racing write the same content.

use crate::delta::action::{Add, Metadata, NullableMap, Protocol, Remove, Txn};
use crate::delta::error::DeltaError;
use crate::delta::log::Log;
use crate::delta::snapshot::Snapshot;
use arrow_array::builder::{ListBuilder, MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{Field, Fields, Schema};
use object_store::{ObjectStoreExt as _, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

/// One row of the checkpoint.
enum Row<'a> {
    Protocol(&'a Protocol),
    Metadata(&'a Metadata),
    Txn(&'a Txn),
    Add(&'a Add),
    Remove(&'a Remove),
}

/// Writes the checkpoint of `snapshot` and points `_last_checkpoint` at it. `now_ms` decides
/// which tombstones have expired.
pub async fn write(log: &Log, snapshot: &Snapshot, now_ms: i64) -> Result<(), DeltaError> {
    let name = super::file_name(snapshot.version);
    let path = log.dir().join(name.as_str());
    let file = log.relative(&path);
    let err = |message: String| DeltaError::Checkpoint {
        table: log.url.clone(),
        file: file.clone(),
        message,
    };
    let retention = snapshot
        .metadata
        .configuration
        .get("delta.deletedFileRetentionDuration")
        .and_then(|v| v.as_deref())
        .and_then(super::parse_interval_ms)
        .unwrap_or(super::DEFAULT_TOMBSTONE_RETENTION_MS);
    let mut rows = vec![Row::Protocol(&snapshot.protocol), Row::Metadata(&snapshot.metadata)];
    let mut txns: Vec<&Txn> = snapshot.txns.values().collect();
    txns.sort_by(|a, b| a.app_id.cmp(&b.app_id));
    rows.extend(txns.into_iter().map(Row::Txn));
    let mut adds: Vec<&Add> = snapshot.files.values().collect();
    adds.sort_by(|a, b| a.path.cmp(&b.path));
    let files = adds.len();
    rows.extend(adds.into_iter().map(Row::Add));
    let mut removes: Vec<&Remove> = snapshot
        .tombstones
        .values()
        .filter(|r| r.deletion_timestamp.is_none_or(|t| t.saturating_add(retention) > now_ms))
        .collect();
    removes.sort_by(|a, b| a.path.cmp(&b.path));
    rows.extend(removes.into_iter().map(Row::Remove));

    let batch = batch(&rows).map_err(|e| err(e.to_string()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))
        .map_err(|e| err(e.to_string()))?;
    writer.write(&batch).map_err(|e| err(e.to_string()))?;
    let bytes = writer.into_inner().map_err(|e| err(e.to_string()))?;
    let size = bytes.len();
    log.store
        .put(&path, PutPayload::from(bytes))
        .await
        .map_err(log.store_err(format!("writing {file}")))?;
    let last = serde_json::json!({
        "version": snapshot.version,
        "size": rows.len(),
        "sizeInBytes": size,
        "numOfAddFiles": files,
    });
    // Never point readers back to an older checkpoint another writer has already passed.
    if log.last_checkpoint().await?.is_some_and(|v| v > snapshot.version) {
        return Ok(());
    }
    let last_path = log.dir().join("_last_checkpoint");
    log.store
        .put(&last_path, PutPayload::from(last.to_string()))
        .await
        .map_err(log.store_err("writing _delta_log/_last_checkpoint".into()))?;
    Ok(())
}

fn strings<'a>(v: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(v.collect::<StringArray>())
}

fn longs(v: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(v.collect::<Int64Array>())
}

fn ints(v: impl Iterator<Item = Option<i32>>) -> ArrayRef {
    Arc::new(v.collect::<Int32Array>())
}

fn bools(v: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    Arc::new(v.collect::<BooleanArray>())
}

/// `map<string,string>` in the layout Spark and delta-rs write (`key_value`, `key`, `value`).
fn maps<'a>(v: impl Iterator<Item = Option<&'a NullableMap>>) -> ArrayRef {
    let names =
        MapFieldNames { entry: "key_value".into(), key: "key".into(), value: "value".into() };
    let mut b = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
    for m in v {
        if let Some(m) = m {
            for (k, val) in m {
                b.keys().append_value(k);
                b.values().append_option(val.as_deref());
            }
        }
        // Appending to a MapBuilder only fails when keys and values differ in length.
        let _ = b.append(m.is_some());
    }
    Arc::new(b.finish())
}

fn lists<'a>(v: impl Iterator<Item = Option<&'a [String]>>) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for l in v {
        match l {
            Some(items) => {
                for s in items {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }
    Arc::new(b.finish())
}

/// A nullable struct column; children all nullable.
fn strukt(
    children: Vec<(&str, ArrayRef)>,
    valid: Vec<bool>,
) -> Result<ArrayRef, arrow_schema::ArrowError> {
    let fields: Fields =
        children.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    let arrays = children.into_iter().map(|(_, a)| a).collect();
    Ok(Arc::new(StructArray::try_new(fields, arrays, Some(NullBuffer::from(valid)))?))
}

fn batch(rows: &[Row<'_>]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let pick = |f: fn(&Row<'_>) -> bool| rows.iter().map(f).collect::<Vec<bool>>();
    let protocol: Vec<Option<&Protocol>> =
        rows.iter().map(|r| if let Row::Protocol(p) = r { Some(*p) } else { None }).collect();
    let meta: Vec<Option<&Metadata>> =
        rows.iter().map(|r| if let Row::Metadata(m) = r { Some(*m) } else { None }).collect();
    let txn: Vec<Option<&Txn>> =
        rows.iter().map(|r| if let Row::Txn(t) = r { Some(*t) } else { None }).collect();
    let add: Vec<Option<&Add>> =
        rows.iter().map(|r| if let Row::Add(a) = r { Some(*a) } else { None }).collect();
    let remove: Vec<Option<&Remove>> =
        rows.iter().map(|r| if let Row::Remove(x) = r { Some(*x) } else { None }).collect();

    let txn_col = strukt(
        vec![
            ("appId", strings(txn.iter().map(|t| t.map(|t| t.app_id.as_str())))),
            ("version", longs(txn.iter().map(|t| t.map(|t| t.version)))),
            ("lastUpdated", longs(txn.iter().map(|t| t.and_then(|t| t.last_updated)))),
        ],
        pick(|r| matches!(r, Row::Txn(_))),
    )?;
    let add_col = strukt(
        vec![
            ("path", strings(add.iter().map(|a| a.map(|a| a.path.as_str())))),
            ("partitionValues", maps(add.iter().map(|a| a.map(|a| &a.partition_values)))),
            ("size", longs(add.iter().map(|a| a.map(|a| a.size)))),
            ("modificationTime", longs(add.iter().map(|a| a.map(|a| a.modification_time)))),
            ("dataChange", bools(add.iter().map(|a| a.map(|a| a.data_change)))),
            ("stats", strings(add.iter().map(|a| a.and_then(|a| a.stats.as_deref())))),
            ("tags", maps(add.iter().map(|a| a.and_then(|a| a.tags.as_ref())))),
        ],
        pick(|r| matches!(r, Row::Add(_))),
    )?;
    let remove_col = strukt(
        vec![
            ("path", strings(remove.iter().map(|r| r.map(|r| r.path.as_str())))),
            (
                "deletionTimestamp",
                longs(remove.iter().map(|r| r.and_then(|r| r.deletion_timestamp))),
            ),
            ("dataChange", bools(remove.iter().map(|r| r.map(|r| r.data_change)))),
            (
                "extendedFileMetadata",
                bools(remove.iter().map(|r| r.and_then(|r| r.extended_file_metadata))),
            ),
            (
                "partitionValues",
                maps(remove.iter().map(|r| r.and_then(|r| r.partition_values.as_ref()))),
            ),
            ("size", longs(remove.iter().map(|r| r.and_then(|r| r.size)))),
        ],
        pick(|r| matches!(r, Row::Remove(_))),
    )?;
    let is_meta = pick(|r| matches!(r, Row::Metadata(_)));
    let format_col = strukt(
        vec![
            ("provider", strings(meta.iter().map(|m| m.map(|m| m.format.provider.as_str())))),
            ("options", maps(meta.iter().map(|m| m.map(|m| &m.format.options)))),
        ],
        is_meta.clone(),
    )?;
    let meta_col = strukt(
        vec![
            ("id", strings(meta.iter().map(|m| m.map(|m| m.id.as_str())))),
            ("name", strings(meta.iter().map(|m| m.and_then(|m| m.name.as_deref())))),
            ("description", strings(meta.iter().map(|m| m.and_then(|m| m.description.as_deref())))),
            ("format", format_col),
            ("schemaString", strings(meta.iter().map(|m| m.map(|m| m.schema_string.as_str())))),
            (
                "partitionColumns",
                lists(meta.iter().map(|m| m.map(|m| m.partition_columns.as_slice()))),
            ),
            ("createdTime", longs(meta.iter().map(|m| m.and_then(|m| m.created_time)))),
            ("configuration", maps(meta.iter().map(|m| m.map(|m| &m.configuration)))),
        ],
        is_meta,
    )?;
    let protocol_col = strukt(
        vec![
            ("minReaderVersion", ints(protocol.iter().map(|p| p.map(|p| p.min_reader_version)))),
            ("minWriterVersion", ints(protocol.iter().map(|p| p.map(|p| p.min_writer_version)))),
        ],
        pick(|r| matches!(r, Row::Protocol(_))),
    )?;
    let columns = [
        ("txn", txn_col),
        ("add", add_col),
        ("remove", remove_col),
        ("metaData", meta_col),
        ("protocol", protocol_col),
    ];
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect())
}
