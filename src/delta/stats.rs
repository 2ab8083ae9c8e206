//! Per-file statistics for `add` actions (`numRecords`, and per column `nullCount`,
//! `minValues`, `maxValues`), gathered batch by batch while a data file is written, so readers
//! can skip files by value as well as by partition.
//!
//! Bounds are only ever wide, never wrong: timestamps are written to the millisecond (the
//! protocol's precision for statistics) with the minimum floored and the maximum ceiled;
//! strings longer than [`STRING_PREFIX`] characters keep a truncated minimum and no maximum;
//! float columns holding NaN or infinities get no bounds; booleans, binaries and decimals get
//! only a null count.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value, json};

/// Longest string bound kept, in characters.
pub const STRING_PREFIX: usize = 32;

/// The running bounds of one column.
#[derive(Debug, Clone)]
enum Bounds {
    Int(Option<(i64, i64)>),
    Float {
        range: Option<(f64, f64)>,
        poisoned: bool,
    },
    Str(Option<(String, String)>),
    /// Timestamp values in `unit` per second.
    Time {
        per_second: i64,
        range: Option<(i64, i64)>,
    },
    Date(Option<(i32, i32)>),
    None,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    nulls: u64,
    bounds: Bounds,
}

/// Gathers the statistics of one data file from the batches written to it.
#[derive(Debug, Clone)]
pub struct StatsCollector {
    schema: SchemaRef,
    rows: u64,
    columns: Vec<Column>,
}

impl StatsCollector {
    /// A collector for batches of `schema`.
    pub fn new(schema: SchemaRef) -> StatsCollector {
        let columns = schema
            .fields()
            .iter()
            .map(|f| Column {
                name: f.name().clone(),
                nulls: 0,
                bounds: match f.data_type() {
                    DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                        Bounds::Int(None)
                    }
                    DataType::Float32 | DataType::Float64 => {
                        Bounds::Float { range: None, poisoned: false }
                    }
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Bounds::Str(None),
                    DataType::Timestamp(unit, _) => Bounds::Time {
                        per_second: match unit {
                            TimeUnit::Second => 1,
                            TimeUnit::Millisecond => 1_000,
                            TimeUnit::Microsecond => 1_000_000,
                            TimeUnit::Nanosecond => 1_000_000_000,
                        },
                        range: None,
                    },
                    DataType::Date32 => Bounds::Date(None),
                    _ => Bounds::None,
                },
            })
            .collect();
        StatsCollector { schema, rows: 0, columns }
    }

    /// Rows seen so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Takes a batch of the collector's schema into account (columns matched by position).
    pub fn update(&mut self, batch: &RecordBatch) {
        self.rows += batch.num_rows() as u64;
        for (col, array) in self.columns.iter_mut().zip(batch.columns()) {
            col.nulls += array.null_count() as u64;
            update_bounds(&mut col.bounds, array.as_ref());
        }
    }

    /// The `stats` JSON text of an `add` action.
    pub fn to_json(&self) -> String {
        let (mut mins, mut maxs, mut nulls) = (Map::new(), Map::new(), Map::new());
        for c in &self.columns {
            nulls.insert(c.name.clone(), json!(c.nulls));
            if let Some((lo, hi)) = bounds_json(&c.bounds) {
                mins.insert(c.name.clone(), lo);
                if let Some(hi) = hi {
                    maxs.insert(c.name.clone(), hi);
                }
            }
        }
        json!({
            "numRecords": self.rows,
            "minValues": mins,
            "maxValues": maxs,
            "nullCount": nulls,
        })
        .to_string()
    }

    /// The schema the collector was made for.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

fn widen<T: PartialOrd + Copy>(range: &mut Option<(T, T)>, v: T) {
    match range {
        None => *range = Some((v, v)),
        Some((lo, hi)) => {
            if v < *lo {
                *lo = v;
            }
            if v > *hi {
                *hi = v;
            }
        }
    }
}

fn update_bounds(bounds: &mut Bounds, array: &dyn Array) {
    match bounds {
        Bounds::Int(range) => {
            let values: Box<dyn Iterator<Item = Option<i64>>> = match array.data_type() {
                DataType::Int8 => {
                    Box::new(array.as_primitive::<Int8Type>().iter().map(|v| v.map(i64::from)))
                }
                DataType::Int16 => {
                    Box::new(array.as_primitive::<Int16Type>().iter().map(|v| v.map(i64::from)))
                }
                DataType::Int32 => {
                    Box::new(array.as_primitive::<Int32Type>().iter().map(|v| v.map(i64::from)))
                }
                _ => Box::new(array.as_primitive::<Int64Type>().iter()),
            };
            values.flatten().for_each(|v| widen(range, v));
        }
        Bounds::Float { range, poisoned } => {
            let values: Box<dyn Iterator<Item = Option<f64>>> = match array.data_type() {
                DataType::Float32 => {
                    Box::new(array.as_primitive::<Float32Type>().iter().map(|v| v.map(f64::from)))
                }
                _ => Box::new(array.as_primitive::<Float64Type>().iter()),
            };
            for v in values.flatten() {
                if v.is_finite() {
                    widen(range, v);
                } else {
                    *poisoned = true;
                }
            }
        }
        Bounds::Str(range) => {
            let mut each = |s: &str| match range {
                None => *range = Some((s.to_owned(), s.to_owned())),
                Some((lo, hi)) => {
                    if s < lo.as_str() {
                        *lo = s.to_owned();
                    }
                    if s > hi.as_str() {
                        *hi = s.to_owned();
                    }
                }
            };
            match array.data_type() {
                DataType::LargeUtf8 => {
                    array.as_string::<i64>().iter().flatten().for_each(&mut each)
                }
                DataType::Utf8View => array.as_string_view().iter().flatten().for_each(&mut each),
                _ => array.as_string::<i32>().iter().flatten().for_each(&mut each),
            }
        }
        Bounds::Time { range, .. } => {
            let values: Box<dyn Iterator<Item = Option<i64>>> = match array.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    Box::new(array.as_primitive::<TimestampSecondType>().iter())
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    Box::new(array.as_primitive::<TimestampMillisecondType>().iter())
                }
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    Box::new(array.as_primitive::<TimestampMicrosecondType>().iter())
                }
                _ => Box::new(array.as_primitive::<TimestampNanosecondType>().iter()),
            };
            values.flatten().for_each(|v| widen(range, v));
        }
        Bounds::Date(range) => {
            array.as_primitive::<Date32Type>().iter().flatten().for_each(|v| widen(range, v))
        }
        Bounds::None => {}
    }
}

/// `(min, max)` of a column as JSON; `max` may be absent where a bound cannot be kept exact.
fn bounds_json(b: &Bounds) -> Option<(Value, Option<Value>)> {
    match b {
        Bounds::Int(Some((lo, hi))) => Some((json!(lo), Some(json!(hi)))),
        Bounds::Float { range: Some((lo, hi)), poisoned: false } => {
            Some((json!(lo), Some(json!(hi))))
        }
        Bounds::Str(Some((lo, hi))) => {
            let lo: String = lo.chars().take(STRING_PREFIX).collect();
            let hi = (hi.chars().count() <= STRING_PREFIX).then(|| json!(hi));
            Some((json!(lo), hi))
        }
        Bounds::Time { per_second, range: Some((lo, hi)) } => {
            let per_ms = (per_second / 1_000).max(1);
            let (lo_ms, hi_ms) = if *per_second >= 1_000 {
                (lo.div_euclid(per_ms), hi.div_euclid(per_ms) + i64::from(hi % per_ms != 0))
            } else {
                (lo * 1_000, hi * 1_000)
            };
            let fmt = |ms: i64| {
                DateTime::from_timestamp_millis(ms)
                    .map(|t| json!(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
            };
            Some((fmt(lo_ms)?, Some(fmt(hi_ms)?)))
        }
        Bounds::Date(Some((lo, hi))) => {
            let fmt = |d: i32| {
                NaiveDate::from_ymd_opt(1970, 1, 1)?
                    .checked_add_signed(chrono::Duration::days(i64::from(d)))
                    .map(|d| json!(d.format("%Y-%m-%d").to_string()))
            };
            Some((fmt(*lo)?, Some(fmt(*hi)?)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        BooleanArray, Float64Array, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{Field, Schema};
    use std::sync::Arc;

    #[test]
    fn bounds_null_counts_and_rows_over_several_batches() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let schema = Arc::new(Schema::new(vec![
            Field::new("T", ts, true),
            Field::new("S", DataType::Utf8, true),
            Field::new("N", DataType::Int64, true),
            Field::new("I", DataType::Int32, true),
            Field::new("F", DataType::Float64, true),
            Field::new("B", DataType::Boolean, true),
            Field::new("Nan", DataType::Float64, true),
            Field::new("Long", DataType::Utf8, true),
        ]));
        let long = "x".repeat(40);
        let batch = |t: Vec<Option<i64>>,
                     s: Vec<Option<&str>>,
                     n: Vec<Option<i64>>,
                     f: Vec<Option<f64>>| {
            let len = t.len();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(TimestampMicrosecondArray::from(t).with_timezone("UTC")),
                    Arc::new(StringArray::from(s)),
                    Arc::new(Int64Array::from(n)),
                    Arc::new(Int32Array::from(vec![Some(7); len])),
                    Arc::new(Float64Array::from(f)),
                    Arc::new(BooleanArray::from(vec![Some(true); len])),
                    Arc::new(Float64Array::from(vec![f64::NAN; len])),
                    Arc::new(StringArray::from(vec![Some(long.as_str()); len])),
                ],
            )
            .unwrap()
        };
        let mut c = StatsCollector::new(schema.clone());
        // 2026-11-21T10:00:00.000500Z and 10:00:01.000000Z
        c.update(&batch(
            vec![Some(1_795_255_200_000_500), None],
            vec![Some("pc2"), None],
            vec![Some(5), Some(-3)],
            vec![Some(0.5), None],
        ));
        c.update(&batch(
            vec![Some(1_795_255_201_000_000)],
            vec![Some("pc1")],
            vec![None],
            vec![Some(2.5)],
        ));
        assert_eq!(c.rows(), 3);
        let v: Value = serde_json::from_str(&c.to_json()).unwrap();
        assert_eq!(v["numRecords"], 3);
        assert_eq!(v["minValues"]["T"], "2026-11-21T10:00:00.000Z");
        assert_eq!(v["maxValues"]["T"], "2026-11-21T10:00:01.000Z");
        assert_eq!(v["minValues"]["S"], "pc1");
        assert_eq!(v["maxValues"]["S"], "pc2");
        assert_eq!(v["minValues"]["N"], -3);
        assert_eq!(v["maxValues"]["N"], 5);
        assert_eq!(v["minValues"]["I"], 7);
        assert_eq!(v["maxValues"]["F"], 2.5);
        assert_eq!(v["minValues"]["Long"], "x".repeat(32));
        assert!(v["maxValues"].get("Long").is_none());
        for absent in ["B", "Nan"] {
            assert!(v["minValues"].get(absent).is_none(), "{absent}");
            assert!(v["maxValues"].get(absent).is_none(), "{absent}");
        }
        assert_eq!(v["nullCount"]["T"], 1);
        assert_eq!(v["nullCount"]["S"], 1);
        assert_eq!(v["nullCount"]["N"], 1);
        assert_eq!(v["nullCount"]["B"], 0);
    }

    #[test]
    fn the_timestamp_maximum_is_rounded_up_to_the_millisecond() {
        let b = Bounds::Time { per_second: 1_000_000, range: Some((-1, 1_500)) };
        let (lo, hi) = bounds_json(&b).unwrap();
        assert_eq!(lo, "1969-12-31T23:59:59.999Z");
        assert_eq!(hi.unwrap(), "1970-01-01T00:00:00.002Z");
        let empty = StatsCollector::new(Arc::new(Schema::new(vec![Field::new(
            "T",
            DataType::Int64,
            true,
        )])));
        let v: Value = serde_json::from_str(&empty.to_json()).unwrap();
        assert_eq!(v["numRecords"], 0);
        assert_eq!(v["minValues"], json!({}));
        assert_eq!(v["nullCount"]["T"], 0);
    }
}
