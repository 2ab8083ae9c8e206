//! Phase 2 of decoding: a `DeserializeSeed` chain over the raw `results` array that appends
//! each cell straight into its column buffer. Keys are matched to columns without allocating;
//! `@`-annotation and unknown keys are skipped; missing keys become nulls; a key repeated in a
//! row keeps its last value (or, when the schema itself repeats a name, fills the next column of
//! that name first).

use super::columns::{CellSeed, ColBuf};
use super::types::ServiceType;
use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, SchemaRef};
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashMap;
use std::fmt;

/// Maps row keys to column indexes.
struct Lookup {
    /// The service's column names (before any renaming of duplicates).
    names: Vec<String>,
    /// For each column, the first column with the same service name.
    first: Vec<usize>,
    /// For each column, the next column with the same service name.
    next_same: Vec<Option<usize>>,
    /// Name → first column with that name.
    map: HashMap<String, usize>,
}

impl Lookup {
    fn new(names: Vec<String>) -> Self {
        let mut map: HashMap<String, usize> = HashMap::with_capacity(names.len());
        let mut last: HashMap<&str, usize> = HashMap::new();
        let mut first = Vec::with_capacity(names.len());
        let mut next_same = vec![None; names.len()];
        for (i, name) in names.iter().enumerate() {
            first.push(*map.entry(name.clone()).or_insert(i));
            if let Some(prev) = last.insert(name.as_str(), i) {
                next_same[prev] = Some(i);
            }
        }
        Lookup { names, first, next_same, map }
    }

    /// The first column named `key`; `hint` (the column after the previous key) is tried first
    /// because rows usually list keys in schema order.
    fn find(&self, key: &str, hint: usize) -> Option<usize> {
        match self.names.get(hint) {
            Some(name) if name == key => Some(self.first[hint]),
            _ => self.map.get(key).copied(),
        }
    }
}

/// The most cells (rows × columns) one record batch holds, whatever `batch_rows` asks: 2^20, so
/// 4,096-row batches up to 256 columns; wider responses get fewer rows per batch.
pub(crate) const CELLS_PER_BATCH: usize = 1 << 20;

/// The state of phase 2: column buffers, per-row bookkeeping and the batches made so far.
pub(crate) struct RowDecoder<'s> {
    lookup: Lookup,
    cols: Vec<ColBuf>,
    /// The row number (1-based) in which each column last received a value.
    stamp: Vec<u64>,
    /// Whether the value each column received in the current row was a mismatch.
    cell_mismatch: Vec<bool>,
    /// The current row number, 1-based.
    row: u64,
    hint: usize,
    rows_in_batch: usize,
    batch_rows: usize,
    schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) rows: usize,
    pub(crate) mismatched: u64,
    /// An Arrow failure while flushing, reported after serde unwinds.
    pub(crate) arrow_error: Option<ArrowError>,
    /// Where finished batches go instead of `batches`, when streaming.
    pub(crate) on_batch: Option<BatchSink<'s>>,
}

/// A consumer of finished batches (a Parquet writer on another thread, say).
pub(crate) type BatchSink<'s> = Box<dyn FnMut(RecordBatch) -> Result<(), ArrowError> + 's>;

impl<'s> RowDecoder<'s> {
    /// `columns` are the service's names and types in schema order; `schema` the Arrow schema
    /// derived from them (same order and length).
    pub(crate) fn new(
        columns: &[(&str, ServiceType)],
        schema: SchemaRef,
        batch_rows: usize,
    ) -> Self {
        // A batch holds at most CELLS_PER_BATCH cells: an empty row (`{}`, 3 bytes) costs a cell
        // in every column, so without a bound a body of many columns and many rows made batches
        // of hundreds of megabytes (709 KB → 667 MB, found by `tests/fuzz.rs`).
        let batch_rows = batch_rows.max(1).min((CELLS_PER_BATCH / columns.len().max(1)).max(1));
        let capacity = batch_rows.min(8192);
        RowDecoder {
            lookup: Lookup::new(columns.iter().map(|c| c.0.to_owned()).collect()),
            cols: columns.iter().map(|c| ColBuf::new(c.1, capacity)).collect(),
            stamp: vec![0; columns.len()],
            cell_mismatch: vec![false; columns.len()],
            row: 0,
            hint: 0,
            rows_in_batch: 0,
            batch_rows,
            schema,
            batches: Vec::new(),
            rows: 0,
            mismatched: 0,
            arrow_error: None,
            on_batch: None,
        }
    }

    /// Fills the columns the row did not mention with nulls; flushes a full batch.
    fn end_row(&mut self) -> Result<(), ArrowError> {
        for (col, &stamp) in self.cols.iter_mut().zip(&self.stamp) {
            if stamp != self.row {
                col.push_null();
            }
        }
        self.rows_in_batch += 1;
        self.rows += 1;
        if self.rows_in_batch >= self.batch_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Turns the buffered rows into a record batch (nothing when there are none).
    pub(crate) fn flush(&mut self) -> Result<(), ArrowError> {
        if self.rows_in_batch == 0 {
            return Ok(());
        }
        let arrays = self.cols.iter_mut().map(ColBuf::finish).collect::<Result<Vec<_>, _>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows_in_batch));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)?;
        match &mut self.on_batch {
            Some(sink) => sink(batch)?,
            None => self.batches.push(batch),
        }
        self.rows_in_batch = 0;
        Ok(())
    }
}

/// Seed for the `results` array.
pub(crate) struct RowsSeed<'a, 's>(pub(crate) &'a mut RowDecoder<'s>);

impl<'de> DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of row objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RowSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// Seed for one row object.
struct RowSeed<'a, 's>(&'a mut RowDecoder<'s>);

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let dec = self.0;
        dec.row += 1;
        let row = dec.row;
        while let Some(key) = map.next_key_seed(KeySeed { lookup: &dec.lookup, hint: dec.hint })? {
            let Some(mut i) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            // A name the schema repeats: the n-th occurrence in the row fills the n-th column.
            while dec.stamp[i] == row {
                match dec.lookup.next_same[i] {
                    Some(next) => i = next,
                    None => break,
                }
            }
            if dec.stamp[i] == row {
                // A key repeated in the row: the last value wins.
                dec.cols[i].pop();
                if dec.cell_mismatch[i] {
                    dec.mismatched -= 1;
                }
            }
            let mismatch = map.next_value_seed(CellSeed(&mut dec.cols[i]))?;
            dec.stamp[i] = row;
            dec.cell_mismatch[i] = mismatch;
            dec.mismatched += u64::from(mismatch);
            dec.hint = i + 1;
        }
        if let Err(e) = dec.end_row() {
            let message = e.to_string();
            dec.arrow_error = Some(e);
            return Err(A::Error::custom(message));
        }
        Ok(())
    }
}

/// Seed for a row key: the column index, or `None` for keys to skip. Never allocates: escaped
/// keys arrive borrowed from the parser's scratch buffer through `visit_str`.
struct KeySeed<'a> {
    lookup: &'a Lookup,
    hint: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.lookup.find(key, self.hint))
    }
}
