//! One cell of a decoded batch as the service sent it: DateTime as ISO 8601 with 7 fractional
//! digits, Dynamic as the JSON value it holds, numbers and booleans as themselves.

use crate::decode::{SERVICE_TYPE_KEY, ServiceType};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int32Type, Int64Type, TimestampMicrosecondType, TimestampNanosecondType,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field, TimeUnit};
use serde_json::Value;

/// How a column's values are shown: its service type, read from the field's metadata (a column
/// without it is shown by its Arrow type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    dynamic: bool,
}

impl Column {
    /// The column of `field`.
    pub fn of(field: &Field) -> Column {
        let dynamic = field
            .metadata()
            .get(SERVICE_TYPE_KEY)
            .is_some_and(|t| ServiceType::from_service(t) == ServiceType::Json);
        Column { dynamic }
    }

    /// The value at `row` as JSON: the service's own value.
    pub fn json(&self, array: &ArrayRef, row: usize) -> Value {
        if array.is_null(row) {
            return Value::Null;
        }
        match array.data_type() {
            DataType::Utf8 => {
                let text = array.as_string::<i32>().value(row);
                if self.dynamic {
                    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
                } else {
                    Value::String(text.to_owned())
                }
            }
            DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(row)),
            DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(row)),
            DataType::Float64 => {
                let v = array.as_primitive::<Float64Type>().value(row);
                serde_json::Number::from_f64(v)
                    .map_or_else(|| Value::String(float_text(v)), Value::Number)
            }
            DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
            // DateTime as the service's ISO 8601 text, and anything else as its text.
            _ => Value::String(self.text(array, row)),
        }
    }

    /// The value at `row` as text: empty for null, JSON text for Dynamic.
    pub fn text(&self, array: &ArrayRef, row: usize) -> String {
        if array.is_null(row) {
            return String::new();
        }
        match array.data_type() {
            DataType::Utf8 => array.as_string::<i32>().value(row).to_owned(),
            DataType::Int64 => array.as_primitive::<Int64Type>().value(row).to_string(),
            DataType::Int32 => array.as_primitive::<Int32Type>().value(row).to_string(),
            DataType::Float64 => float_text(array.as_primitive::<Float64Type>().value(row)),
            DataType::Boolean => array.as_boolean().value(row).to_string(),
            DataType::Timestamp(unit, _) => {
                let ns = match unit {
                    TimeUnit::Nanosecond => {
                        array.as_primitive::<TimestampNanosecondType>().value(row)
                    }
                    TimeUnit::Microsecond => array
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(row)
                        .saturating_mul(1_000),
                    _ => return format!("{:?}", array.slice(row, 1)),
                };
                crate::timespan::graph_datetime(chrono::DateTime::from_timestamp_nanos(ns))
            }
            _ => format!("{:?}", array.slice(row, 1)),
        }
    }
}

/// A double as the service writes it: shortest round-trip text, `NaN`, `Infinity`, `-Infinity`.
fn float_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity".into() } else { "-Infinity".into() }
    } else {
        v.to_string()
    }
}
