//! How hunt's columns are typed in the files it writes, Parquet and Delta data files alike, so
//! that the engines lakes run on read them with no option:
//!
//! - `DateTime` is INT64 `TIMESTAMP(MICROS, isAdjustedToUTC=true)` by default. Apache Spark 4
//!   (and so Databricks, Fabric, Synapse, EMR, Glue) refuses nanosecond Parquet timestamps
//!   outright (`Illegal Parquet type: INT64 (TIMESTAMP(NANOS,true))`) and Delta has no
//!   nanoseconds, so microseconds, floored, are the one rule for both. The service's full 100 ns
//!   is kept with `[output] timestamp_unit = "ns"` (Parquet only), for engines that read it
//!   (DuckDB, Polars, DataFusion, ClickHouse, pyarrow).
//! - `Dynamic` is plain Utf8 holding the JSON text; the service type stays in the field's
//!   `hunt.service_type` metadata (an `arrow.json` extension type made Polars fail).
//!
//! Decoding keeps nanoseconds; the conversion happens per batch as it is written.

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::Arc;

/// Key-value metadata keys every file carries.
pub mod keys {
    /// Query id.
    pub const QUERY_ID: &str = "hunt.query_id";
    /// SHA-256 of the query text, hex.
    pub const QUERY_SHA256: &str = "hunt.query_sha256";
    /// Window start, RFC 3339 with 7 fractional digits and `Z`.
    pub const WINDOW_START: &str = "hunt.window_start";
    /// Window end (exclusive), same form.
    pub const WINDOW_END: &str = "hunt.window_end";
    /// Tenant name, empty when none.
    pub const TENANT: &str = "hunt.tenant";
    /// Rows in this file.
    pub const ROWS: &str = "hunt.rows";
    /// Rows in the whole window's result (all files of the window together).
    pub const WINDOW_ROWS: &str = "hunt.window_rows";
    /// `true` or `false`: whether the result is known complete.
    pub const COMPLETE: &str = "hunt.complete";
    /// The service's request ids, comma-separated.
    pub const REQUEST_IDS: &str = "hunt.request_ids";
    /// hunt's version.
    pub const VERSION: &str = "hunt.version";
    /// The unit of the timestamp columns: `us` or `ns`.
    pub const TIMESTAMP_UNIT: &str = "hunt.timestamp_unit";
}

/// The unit `DateTime` columns are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
pub enum TimestampUnit {
    /// Microseconds (the default): read by every engine, Spark included.
    #[default]
    #[serde(rename = "us")]
    Micros,
    /// Nanoseconds, the service's full 100 ns; Spark refuses it and Delta cannot hold it.
    #[serde(rename = "ns")]
    Nanos,
}

impl TimestampUnit {
    /// `us` or `ns`, as written in hunt.toml and in each file's `hunt.timestamp_unit`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimestampUnit::Micros => "us",
            TimestampUnit::Nanos => "ns",
        }
    }

    fn arrow(self) -> TimeUnit {
        match self {
            TimestampUnit::Micros => TimeUnit::Microsecond,
            TimestampUnit::Nanos => TimeUnit::Nanosecond,
        }
    }
}

/// The schema of a file holding batches of `schema` (as decoded: nanosecond timestamps) with
/// timestamps in `unit`. Field metadata is kept.
pub fn file_schema(schema: &Schema, unit: TimestampUnit) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
                f.as_ref().clone().with_data_type(DataType::Timestamp(unit.arrow(), tz.clone()))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Nanosecond timestamps floored to microseconds (`…00.1234567Z` becomes `…00.123456Z`; a value
/// before 1970 goes to the earlier microsecond, so it stays in the same second and day).
pub fn floor_to_micros(
    ns: &arrow_array::PrimitiveArray<TimestampNanosecondType>,
) -> arrow_array::PrimitiveArray<TimestampMicrosecondType> {
    ns.unary::<_, TimestampMicrosecondType>(|v| v.div_euclid(1_000))
}

/// `batch` (as decoded) ready for a file of [`file_schema`]: timestamp columns in `unit`, other
/// columns shared, not copied.
pub fn file_batch(batch: &RecordBatch, unit: TimestampUnit) -> Result<RecordBatch, ArrowError> {
    if unit == TimestampUnit::Nanos {
        return Ok(batch.clone());
    }
    let schema = file_schema(&batch.schema(), unit);
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
                let micros = floor_to_micros(c.as_primitive::<TimestampNanosecondType>());
                Arc::new(micros.with_timezone_opt(tz.clone())) as ArrayRef
            }
            _ => c.clone(),
        })
        .collect();
    RecordBatch::try_new(schema, columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{StringArray, TimestampNanosecondArray};

    fn batch() -> RecordBatch {
        let ts = TimestampNanosecondArray::from(vec![
            Some(1_763_719_200_123_456_700), // 2025-11-21T10:00:00.1234567Z
            None,
            Some(-1), // 1969-12-31T23:59:59.999999999Z
        ])
        .with_timezone("UTC");
        let schema = Schema::new(vec![
            Field::new("Timestamp", arrow_array::Array::data_type(&ts).clone(), true)
                .with_metadata(std::collections::HashMap::from([(
                    "hunt.service_type".to_owned(),
                    "DateTime".to_owned(),
                )])),
            Field::new("Name", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(ts), Arc::new(StringArray::from(vec![Some("a"), None, Some("c")]))],
        )
        .unwrap()
    }

    #[test]
    fn microseconds_are_floored_and_metadata_kept() {
        let out = file_batch(&batch(), TimestampUnit::Micros).unwrap();
        let field = out.schema().field(0).clone();
        assert_eq!(
            field.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(field.metadata()["hunt.service_type"], "DateTime");
        let v: Vec<Option<i64>> =
            out.column(0).as_primitive::<TimestampMicrosecondType>().iter().collect();
        assert_eq!(v, [Some(1_763_719_200_123_456), None, Some(-1)]);
        assert_eq!(out.column(1).as_string::<i32>().value(2), "c");
    }

    #[test]
    fn nanoseconds_are_kept_as_they_are() {
        let b = batch();
        let out = file_batch(&b, TimestampUnit::Nanos).unwrap();
        assert_eq!(out, b);
        assert_eq!(file_schema(&b.schema(), TimestampUnit::Nanos), b.schema());
    }

    #[test]
    fn units_read_from_hunt_toml_spelling() {
        #[derive(serde::Deserialize)]
        struct T {
            u: TimestampUnit,
        }
        let t: T = toml::from_str("u = \"ns\"").unwrap();
        assert_eq!(t.u, TimestampUnit::Nanos);
        assert!(toml::from_str::<T>("u = \"ms\"").is_err());
        assert_eq!(TimestampUnit::default().as_str(), "us");
    }
}
