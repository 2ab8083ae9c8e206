//! Table schemas: hunt's Arrow types as Delta types (the log's `schemaString`), the Arrow schema
//! of Delta data files, the conversion of hunt's batches for them, and schema drift.
//!
//! Delta `timestamp` is microseconds since the epoch, UTC. hunt decodes `DateTime` values to
//! nanoseconds (the service sends 100 ns ticks), so Delta data files hold the timestamp
//! truncated to the microsecond: [`to_delta_batch`] floors every value to the microsecond that
//! contains it, dropping the 100 ns digit (the portal shows milliseconds, so nothing a hunter
//! sees is lost; plain Parquet output keeps the full precision).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A column that does not fit Delta or the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(pub String);

/// A Delta column type. Types hunt never writes (nested ones) are kept as their JSON so a
/// schema read from the log is written back unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaType {
    /// `string`
    String,
    /// `long`
    Long,
    /// `integer`
    Integer,
    /// `short`
    Short,
    /// `byte`
    Byte,
    /// `float`
    Float,
    /// `double`
    Double,
    /// `boolean`
    Boolean,
    /// `binary`
    Binary,
    /// `date`
    Date,
    /// `timestamp` (microseconds, UTC)
    Timestamp,
    /// `timestamp_ntz` (microseconds, no time zone; needs a table feature hunt does not write)
    TimestampNtz,
    /// `decimal(precision,scale)`
    Decimal(u8, i8),
    /// Anything else, as it appears in the log (struct, array, map, variant, …).
    Other(Value),
}

impl DeltaType {
    /// The type as it appears in a `schemaString`.
    pub fn to_json(&self) -> Value {
        let name = match self {
            DeltaType::String => "string",
            DeltaType::Long => "long",
            DeltaType::Integer => "integer",
            DeltaType::Short => "short",
            DeltaType::Byte => "byte",
            DeltaType::Float => "float",
            DeltaType::Double => "double",
            DeltaType::Boolean => "boolean",
            DeltaType::Binary => "binary",
            DeltaType::Date => "date",
            DeltaType::Timestamp => "timestamp",
            DeltaType::TimestampNtz => "timestamp_ntz",
            DeltaType::Decimal(p, s) => return Value::String(format!("decimal({p},{s})")),
            DeltaType::Other(v) => return v.clone(),
        };
        Value::String(name.to_owned())
    }

    /// Reads a type from a `schemaString`.
    pub fn from_json(v: &Value) -> DeltaType {
        let Some(name) = v.as_str() else { return DeltaType::Other(v.clone()) };
        match name {
            "string" => DeltaType::String,
            "long" => DeltaType::Long,
            "integer" => DeltaType::Integer,
            "short" => DeltaType::Short,
            "byte" => DeltaType::Byte,
            "float" => DeltaType::Float,
            "double" => DeltaType::Double,
            "boolean" => DeltaType::Boolean,
            "binary" => DeltaType::Binary,
            "date" => DeltaType::Date,
            "timestamp" => DeltaType::Timestamp,
            "timestamp_ntz" => DeltaType::TimestampNtz,
            other => parse_decimal(other).unwrap_or_else(|| DeltaType::Other(v.clone())),
        }
    }

    /// The Delta type of an Arrow type hunt (or a caller) writes.
    pub fn from_arrow(dt: &DataType) -> Result<DeltaType, SchemaError> {
        Ok(match dt {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DeltaType::String,
            DataType::Int64 => DeltaType::Long,
            DataType::Int32 => DeltaType::Integer,
            DataType::Int16 => DeltaType::Short,
            DataType::Int8 => DeltaType::Byte,
            DataType::Float32 => DeltaType::Float,
            DataType::Float64 => DeltaType::Double,
            DataType::Boolean => DeltaType::Boolean,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView => DeltaType::Binary,
            DataType::Date32 => DeltaType::Date,
            DataType::Timestamp(_, Some(tz)) if is_utc(tz) => DeltaType::Timestamp,
            DataType::Decimal128(p, s) if *p <= 38 && *s >= 0 => DeltaType::Decimal(*p, *s),
            other => {
                return Err(SchemaError(format!(
                    "Arrow type {other} has no Delta equivalent hunt writes"
                )));
            }
        })
    }

    /// The Arrow type of this column in a Delta data file hunt writes, if hunt writes it.
    pub fn data_file_type(&self) -> Option<DataType> {
        Some(match self {
            DeltaType::String => DataType::Utf8,
            DeltaType::Long => DataType::Int64,
            DeltaType::Integer => DataType::Int32,
            DeltaType::Short => DataType::Int16,
            DeltaType::Byte => DataType::Int8,
            DeltaType::Float => DataType::Float32,
            DeltaType::Double => DataType::Float64,
            DeltaType::Boolean => DataType::Boolean,
            DeltaType::Binary => DataType::Binary,
            DeltaType::Date => DataType::Date32,
            DeltaType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            DeltaType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            DeltaType::TimestampNtz | DeltaType::Other(_) => return None,
        })
    }
}

impl std::fmt::Display for DeltaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.to_json() {
            Value::String(s) => f.write_str(&s),
            other => write!(f, "{other}"),
        }
    }
}

fn parse_decimal(s: &str) -> Option<DeltaType> {
    let inner = s.strip_prefix("decimal(")?.strip_suffix(')')?;
    let (p, sc) = inner.split_once(',')?;
    Some(DeltaType::Decimal(p.trim().parse().ok()?, sc.trim().parse().ok()?))
}

fn is_utc(tz: &str) -> bool {
    matches!(tz, "UTC" | "+00:00" | "Z" | "Etc/UTC" | "+0000")
}

/// One column of a table schema.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaField {
    /// Column name.
    pub name: String,
    /// Column type.
    pub data_type: DeltaType,
    /// Whether it may hold nulls (hunt's columns always may).
    pub nullable: bool,
    /// Column metadata, as in the log.
    pub metadata: Map<String, Value>,
}

impl DeltaField {
    /// A nullable column without metadata.
    pub fn new(name: impl Into<String>, data_type: DeltaType) -> DeltaField {
        DeltaField { name: name.into(), data_type, nullable: true, metadata: Map::new() }
    }
}

/// A table schema: the top-level struct of a `schemaString`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeltaSchema {
    /// Columns in order.
    pub fields: Vec<DeltaField>,
}

impl DeltaSchema {
    /// Parses a `schemaString`.
    pub fn parse(schema_string: &str) -> Result<DeltaSchema, SchemaError> {
        let v: Value = serde_json::from_str(schema_string)
            .map_err(|e| SchemaError(format!("schemaString is not JSON: {e}")))?;
        if v.get("type").and_then(Value::as_str) != Some("struct") {
            return Err(SchemaError("schemaString is not a struct type".into()));
        }
        let fields = v
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| SchemaError("schemaString has no `fields` array".into()))?;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            let name = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| SchemaError(format!("schema field without a name: {f}")))?;
            let ty = f
                .get("type")
                .ok_or_else(|| SchemaError(format!("schema field {name:?} has no type")))?;
            out.push(DeltaField {
                name: name.to_owned(),
                data_type: DeltaType::from_json(ty),
                nullable: f.get("nullable").and_then(Value::as_bool).unwrap_or(true),
                metadata: f.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default(),
            });
        }
        Ok(DeltaSchema { fields: out })
    }

    /// The `schemaString` (one line of JSON).
    pub fn to_schema_string(&self) -> String {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "type": f.data_type.to_json(),
                    "nullable": f.nullable,
                    "metadata": f.metadata,
                })
            })
            .collect();
        json!({"type": "struct", "fields": fields}).to_string()
    }

    /// The column called `name`, compared as Delta does: ignoring ASCII case.
    pub fn field(&self, name: &str) -> Option<&DeltaField> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The Delta columns of an Arrow schema (every column nullable). Column names must be
    /// unique ignoring case, as Delta requires.
    pub fn from_arrow(schema: &Schema) -> Result<DeltaSchema, SchemaError> {
        let mut fields: Vec<DeltaField> = Vec::with_capacity(schema.fields().len());
        for f in schema.fields() {
            if let Some(other) = fields.iter().find(|o| o.name.eq_ignore_ascii_case(f.name())) {
                return Err(SchemaError(format!(
                    "columns `{}` and `{}` differ only in case, which Delta does not allow",
                    other.name,
                    f.name()
                )));
            }
            let data_type = DeltaType::from_arrow(f.data_type())
                .map_err(|e| SchemaError(format!("column `{}`: {e}", f.name())))?;
            fields.push(DeltaField::new(f.name(), data_type));
        }
        Ok(DeltaSchema { fields })
    }
}

/// Merges the columns of a window (`window`, data columns only) into the table's schema.
/// Columns the table lacks are appended, nullable, after its last data column (partition
/// columns stay last); columns the window lacks stay (readers see them as null). A column
/// whose type differs is an error naming the column and both types. Returns the new schema
/// when it changed.
pub fn merge(
    table: &DeltaSchema,
    partition_columns: &[String],
    window: &DeltaSchema,
) -> Result<Option<DeltaSchema>, SchemaError> {
    let mut merged = table.clone();
    let mut changed = false;
    for f in &window.fields {
        match table.field(&f.name) {
            Some(t) if t.name != f.name => {
                return Err(SchemaError(format!(
                    "column `{}` differs only in case from the table's column `{}`",
                    f.name, t.name
                )));
            }
            Some(t) if t.data_type != f.data_type => {
                return Err(SchemaError(format!(
                    "column `{}` is {} in the table but {} in this window: hunt does not \
                     change a column's type (write this query to a new table, or rename the \
                     column in the query)",
                    f.name, t.data_type, f.data_type
                )));
            }
            Some(_) => {}
            None => {
                let at = merged
                    .fields
                    .iter()
                    .rposition(|m| !partition_columns.iter().any(|p| p == &m.name))
                    .map_or(0, |i| i + 1);
                merged.fields.insert(at, DeltaField::new(&f.name, f.data_type.clone()));
                changed = true;
            }
        }
    }
    Ok(changed.then_some(merged))
}

/// The Arrow schema of a Delta data file for batches of `schema`: timestamps become
/// microseconds (UTC), everything else is unchanged, field metadata included. Fails for a type
/// hunt cannot write to Delta.
pub fn data_schema(schema: &Schema) -> Result<SchemaRef, SchemaError> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let dt = DeltaType::from_arrow(f.data_type())
                .map_err(|e| SchemaError(format!("column `{}`: {e}", f.name())))?;
            Ok(match dt {
                DeltaType::Timestamp => f
                    .as_ref()
                    .clone()
                    .with_data_type(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))),
                _ => f.as_ref().clone(),
            })
        })
        .collect::<Result<_, SchemaError>>()?;
    Ok(Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone())))
}

/// Converts one of hunt's batches for a Delta data file of [`data_schema`]: timestamp columns
/// to microseconds, floored (`2026-11-21T10:00:00.1234567Z` becomes `…00.123456Z`; a value
/// before 1970 goes to the earlier microsecond, so it stays in the same day and the same
/// second). Other columns are shared, not copied.
pub fn to_delta_batch(batch: &RecordBatch) -> Result<RecordBatch, SchemaError> {
    let schema = data_schema(&batch.schema())?;
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| -> Result<ArrayRef, SchemaError> {
            let micros = match c.data_type() {
                DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                    crate::lake_types::floor_to_micros(c.as_primitive::<TimestampNanosecondType>())
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => c
                    .as_primitive::<TimestampMillisecondType>()
                    .try_unary::<_, TimestampMicrosecondType, _>(|ms| {
                        ms.checked_mul(1_000).ok_or(())
                    })
                    .map_err(|()| SchemaError("a timestamp is out of Delta's range".into()))?,
                DataType::Timestamp(TimeUnit::Second, _) => c
                    .as_primitive::<TimestampSecondType>()
                    .try_unary::<_, TimestampMicrosecondType, _>(|s| {
                        s.checked_mul(1_000_000).ok_or(())
                    })
                    .map_err(|()| SchemaError("a timestamp is out of Delta's range".into()))?,
                _ => return Ok(c.clone()),
            };
            Ok(Arc::new(micros.with_timezone("UTC")))
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new(schema, columns).map_err(|e| SchemaError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray, TimestampNanosecondArray};

    fn schema_of(cols: &[(&str, DataType)]) -> Schema {
        Schema::new(cols.iter().map(|(n, t)| Field::new(*n, t.clone(), true)).collect::<Vec<_>>())
    }

    fn ts_ns() -> DataType {
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    }

    #[test]
    fn hunt_types_map_to_delta_types_and_back() {
        let s = schema_of(&[
            ("Timestamp", ts_ns()),
            ("DeviceName", DataType::Utf8),
            ("ProcessId", DataType::Int64),
            ("Port", DataType::Int32),
            ("Score", DataType::Float64),
            ("IsAdmin", DataType::Boolean),
            ("Blob", DataType::Binary),
            ("Amount", DataType::Decimal128(18, 4)),
            ("Day", DataType::Date32),
        ]);
        let d = DeltaSchema::from_arrow(&s).unwrap();
        let names: Vec<String> = d.fields.iter().map(|f| f.data_type.to_string()).collect();
        assert_eq!(
            names,
            [
                "timestamp",
                "string",
                "long",
                "integer",
                "double",
                "boolean",
                "binary",
                "decimal(18,4)",
                "date"
            ]
        );
        assert!(d.fields.iter().all(|f| f.nullable));
        let text = d.to_schema_string();
        assert!(!text.contains('\n'));
        assert_eq!(DeltaSchema::parse(&text).unwrap(), d);
        assert_eq!(
            d.fields[0].data_type.data_file_type(),
            Some(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())))
        );
        assert_eq!(d.fields[7].data_type.data_file_type(), Some(DataType::Decimal128(18, 4)));
    }

    #[test]
    fn types_delta_cannot_hold_are_refused_with_the_column() {
        for (dt, what) in [
            (DataType::Timestamp(TimeUnit::Nanosecond, None), "Timestamp(ns)"),
            (DataType::UInt64, "UInt64"),
            (DataType::Timestamp(TimeUnit::Nanosecond, Some("+02:00".into())), "+02:00"),
        ] {
            let e = DeltaSchema::from_arrow(&schema_of(&[("X", dt)])).unwrap_err();
            assert!(e.0.contains("column `X`") && e.0.contains(what), "{e}");
        }
        let e =
            DeltaSchema::from_arrow(&schema_of(&[("a", DataType::Utf8), ("A", DataType::Utf8)]))
                .unwrap_err();
        assert!(e.0.contains("differ only in case"), "{e}");
    }

    #[test]
    fn a_schema_string_written_by_others_survives_a_round_trip() {
        let text = r#"{"type":"struct","fields":[{"name":"a","type":"integer","nullable":false,"metadata":{"comment":"x"}},{"name":"s","type":{"type":"struct","fields":[]},"nullable":true,"metadata":{}},{"name":"d","type":"decimal(10, 2)","nullable":true,"metadata":{}}]}"#;
        let d = DeltaSchema::parse(text).unwrap();
        assert_eq!(d.fields[0].data_type, DeltaType::Integer);
        assert!(!d.fields[0].nullable);
        assert_eq!(d.fields[0].metadata["comment"], "x");
        assert!(matches!(d.fields[1].data_type, DeltaType::Other(_)));
        assert_eq!(d.fields[2].data_type, DeltaType::Decimal(10, 2));
        assert_eq!(DeltaSchema::parse(&d.to_schema_string()).unwrap(), d);
        for bad in ["", "[]", r#"{"type":"struct"}"#, r#"{"type":"struct","fields":[{}]}"#] {
            assert!(DeltaSchema::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_columns_are_appended_before_the_partition_columns() {
        let parts = ["tenant".to_owned(), "date".to_owned()];
        let mut table =
            DeltaSchema::from_arrow(&schema_of(&[("a", DataType::Utf8), ("b", DataType::Int64)]))
                .unwrap();
        table.fields.push(DeltaField::new("tenant", DeltaType::String));
        table.fields.push(DeltaField::new("date", DeltaType::Date));
        let same =
            DeltaSchema::from_arrow(&schema_of(&[("b", DataType::Int64), ("a", DataType::Utf8)]))
                .unwrap();
        assert_eq!(merge(&table, &parts, &same).unwrap(), None);
        let fewer = DeltaSchema::from_arrow(&schema_of(&[("a", DataType::Utf8)])).unwrap();
        assert_eq!(merge(&table, &parts, &fewer).unwrap(), None);
        let more = DeltaSchema::from_arrow(&schema_of(&[
            ("a", DataType::Utf8),
            ("c", DataType::Float64),
            ("b", DataType::Int64),
        ]))
        .unwrap();
        let merged = merge(&table, &parts, &more).unwrap().unwrap();
        let names: Vec<&str> = merged.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "tenant", "date"]);
        assert!(merged.fields[2].nullable);
    }

    #[test]
    fn a_changed_type_names_the_column_and_both_types() {
        let table = DeltaSchema::from_arrow(&schema_of(&[("Port", DataType::Int64)])).unwrap();
        let window = DeltaSchema::from_arrow(&schema_of(&[("Port", DataType::Utf8)])).unwrap();
        let e = merge(&table, &[], &window).unwrap_err();
        assert!(e.0.contains("`Port` is long in the table but string in this window"), "{e}");
        let case = DeltaSchema::from_arrow(&schema_of(&[("port", DataType::Int64)])).unwrap();
        let e = merge(&table, &[], &case).unwrap_err();
        assert!(e.0.contains("differs only in case"), "{e}");
    }

    #[test]
    fn timestamps_are_floored_to_microseconds() {
        let s =
            Arc::new(schema_of(&[("T", ts_ns()), ("N", DataType::Int64), ("S", DataType::Utf8)]));
        let t = TimestampNanosecondArray::from(vec![
            Some(1_700_000_000_123_456_700),
            None,
            Some(-1),
            Some(-1_001),
            Some(999),
        ])
        .with_timezone("UTC");
        let batch = RecordBatch::try_new(
            s,
            vec![
                Arc::new(t),
                Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
                Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e"])),
            ],
        )
        .unwrap();
        let out = to_delta_batch(&batch).unwrap();
        assert_eq!(
            out.schema().field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        let us: Vec<Option<i64>> =
            out.column(0).as_primitive::<TimestampMicrosecondType>().iter().collect();
        assert_eq!(us, [Some(1_700_000_000_123_456), None, Some(-1), Some(-2), Some(0)]);
        assert!(Arc::ptr_eq(out.column(1), batch.column(1)));
        assert_eq!(out.schema(), data_schema(&batch.schema()).unwrap());
    }
}
