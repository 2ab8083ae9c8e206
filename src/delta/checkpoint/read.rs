//! Reading a classic checkpoint into a replay: each row's non-null action column becomes an
//! action. Columns are found by name and types are read leniently (32- or 64-bit integers, any
//! string layout), so checkpoints of other writers read as well as hunt's own.

use crate::delta::action::{Action, Add, Format, Metadata, NullableMap, Protocol, Remove, Txn};
use crate::delta::error::DeltaError;
use crate::delta::log::Log;
use crate::delta::snapshot::Replay;
use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_schema::DataType;
use object_store::ObjectStoreExt as _;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Reads the checkpoint of `version` (in `parts` files) into a replay at that version.
pub async fn read(log: &Log, version: u64, parts: u32) -> Result<Replay, DeltaError> {
    let names: Vec<String> = if parts <= 1 {
        vec![super::file_name(version)]
    } else {
        (1..=parts)
            .map(|o| format!("{version:020}.checkpoint.{o:010}.{parts:010}.parquet"))
            .collect()
    };
    let mut actions = Vec::new();
    for name in names {
        let path = log.dir().join(name.as_str());
        let file = log.relative(&path);
        let bytes = match log.store.get(&path).await {
            Ok(r) => r.bytes().await,
            Err(e) => Err(e),
        }
        .map_err(log.store_err(format!("reading {file}")))?;
        let err = |message: String| DeltaError::Checkpoint {
            table: log.url.clone(),
            file: file.clone(),
            message,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .and_then(|b| b.build())
            .map_err(|e| err(e.to_string()))?;
        let mut row = 0;
        for batch in reader {
            let batch = batch.map_err(|e| err(e.to_string()))?;
            actions_of(&batch, &mut actions)
                .map_err(|(r, m)| err(format!("row {}: {m}", row + r)))?;
            row += batch.num_rows();
        }
    }
    let mut replay = Replay::default();
    replay.apply(version, actions);
    Ok(replay)
}

/// A struct column of `batch`, if present.
fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a StructArray> {
    batch.column_by_name(name)?.as_struct_opt()
}

/// Appends the actions of `batch`'s rows; errors carry the row within the batch.
fn actions_of(batch: &RecordBatch, out: &mut Vec<Action>) -> Result<(), (usize, String)> {
    let add = column(batch, "add");
    let remove = column(batch, "remove");
    let meta = column(batch, "metaData");
    let protocol = column(batch, "protocol");
    let txn = column(batch, "txn");
    for row in 0..batch.num_rows() {
        let at = |m: String| (row, m);
        if let Some(s) = add.filter(|s| s.is_valid(row)) {
            let f = Fields { s, row };
            out.push(Action::Add(Add {
                path: f.req_string("add", "path").map_err(at)?,
                partition_values: f.map("partitionValues").unwrap_or_default(),
                size: f.req_int("add", "size").map_err(at)?,
                modification_time: f.int("modificationTime").unwrap_or(0),
                data_change: f.bool("dataChange").unwrap_or(false),
                stats: f.string("stats"),
                tags: f.map("tags"),
                deletion_vector: f.present("deletionVector").then(|| serde_json::json!({})),
            }));
        }
        if let Some(s) = remove.filter(|s| s.is_valid(row)) {
            let f = Fields { s, row };
            out.push(Action::Remove(Remove {
                path: f.req_string("remove", "path").map_err(at)?,
                deletion_timestamp: f.int("deletionTimestamp"),
                data_change: f.bool("dataChange").unwrap_or(false),
                extended_file_metadata: f.bool("extendedFileMetadata"),
                partition_values: f.map("partitionValues"),
                size: f.int("size"),
                tags: f.map("tags"),
                deletion_vector: f.present("deletionVector").then(|| serde_json::json!({})),
            }));
        }
        if let Some(s) = meta.filter(|s| s.is_valid(row)) {
            let f = Fields { s, row };
            let format = f.child("format");
            out.push(Action::Metadata(Metadata {
                id: f.req_string("metaData", "id").map_err(at)?,
                name: f.string("name"),
                description: f.string("description"),
                format: Format {
                    provider: format
                        .as_ref()
                        .and_then(|g| g.string("provider"))
                        .unwrap_or_else(|| "parquet".into()),
                    options: format.and_then(|g| g.map("options")).unwrap_or_default(),
                },
                schema_string: f.req_string("metaData", "schemaString").map_err(at)?,
                partition_columns: f.list("partitionColumns").unwrap_or_default(),
                created_time: f.int("createdTime"),
                configuration: f.map("configuration").unwrap_or_default(),
            }));
        }
        if let Some(s) = protocol.filter(|s| s.is_valid(row)) {
            let f = Fields { s, row };
            let version = |name| -> Result<i32, (usize, String)> {
                let v = f.req_int("protocol", name).map_err(at)?;
                i32::try_from(v).map_err(|_| at(format!("protocol.{name} {v} is out of range")))
            };
            out.push(Action::Protocol(Protocol {
                min_reader_version: version("minReaderVersion")?,
                min_writer_version: version("minWriterVersion")?,
                reader_features: f.list("readerFeatures"),
                writer_features: f.list("writerFeatures"),
            }));
        }
        if let Some(s) = txn.filter(|s| s.is_valid(row)) {
            let f = Fields { s, row };
            out.push(Action::Txn(Txn {
                app_id: f.req_string("txn", "appId").map_err(at)?,
                version: f.req_int("txn", "version").map_err(at)?,
                last_updated: f.int("lastUpdated"),
            }));
        }
    }
    Ok(())
}

/// The fields of one row of a struct column.
struct Fields<'a> {
    s: &'a StructArray,
    row: usize,
}

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a dyn Array> {
        let a = self.s.column_by_name(name)?;
        a.is_valid(self.row).then_some(a.as_ref())
    }

    fn present(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn string(&self, name: &str) -> Option<String> {
        let a = self.get(name)?;
        let s = match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().value(self.row),
            DataType::LargeUtf8 => a.as_string::<i64>().value(self.row),
            DataType::Utf8View => a.as_string_view().value(self.row),
            _ => return None,
        };
        Some(s.to_owned())
    }

    fn req_string(&self, action: &str, name: &str) -> Result<String, String> {
        self.string(name).ok_or_else(|| format!("{action} without a string `{name}`"))
    }

    fn int(&self, name: &str) -> Option<i64> {
        let a = self.get(name)?;
        match a.data_type() {
            DataType::Int64 => {
                Some(a.as_primitive::<arrow_array::types::Int64Type>().value(self.row))
            }
            DataType::Int32 => {
                Some(a.as_primitive::<arrow_array::types::Int32Type>().value(self.row).into())
            }
            _ => None,
        }
    }

    fn req_int(&self, action: &str, name: &str) -> Result<i64, String> {
        self.int(name).ok_or_else(|| format!("{action} without an integer `{name}`"))
    }

    fn bool(&self, name: &str) -> Option<bool> {
        Some(self.get(name)?.as_boolean_opt()?.value(self.row))
    }

    fn child(&self, name: &str) -> Option<Fields<'a>> {
        Some(Fields { s: self.get(name)?.as_struct_opt()?, row: self.row })
    }

    fn map(&self, name: &str) -> Option<NullableMap> {
        let m = self.get(name)?.as_map_opt()?;
        let entries = m.value(self.row);
        let (keys, values) = (entries.column(0), entries.column(1));
        let mut out = NullableMap::new();
        for i in 0..entries.len() {
            let key = Fields::string_of(keys.as_ref(), i)?;
            out.insert(key, Fields::string_of(values.as_ref(), i));
        }
        Some(out)
    }

    fn string_of(a: &dyn Array, i: usize) -> Option<String> {
        if a.is_null(i) {
            return None;
        }
        Some(match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().value(i).to_owned(),
            DataType::LargeUtf8 => a.as_string::<i64>().value(i).to_owned(),
            DataType::Utf8View => a.as_string_view().value(i).to_owned(),
            _ => return None,
        })
    }

    fn list(&self, name: &str) -> Option<Vec<String>> {
        let a = self.get(name)?;
        let values = match a.data_type() {
            DataType::List(_) => a.as_list::<i32>().value(self.row),
            DataType::LargeList(_) => a.as_list::<i64>().value(self.row),
            _ => return None,
        };
        (0..values.len()).map(|i| Fields::string_of(values.as_ref(), i)).collect()
    }
}
