//! Response decoding: the JSON body of `runHuntingQuery` (`{schema:[{name,type}], results:[{…}]}`)
//! into Arrow record batches typed by the response's own schema, without building a JSON tree
//! for the rows. Tolerant of every variation the service shows: `results` before `schema`,
//! `Name`/`Type` or `name`/`type`, `@odata.type` annotation keys in rows, missing keys, and
//! values of another JSON type than declared (read as null or JSON text, never dropping a row).
//!
//! Bodies arriving over HTTP go through [`StreamDecoder`] (`stream`), which decodes them as
//! they arrive with the same row decoder and gives the same result; [`decode`] reads a whole
//! body in memory:
//!
//! Two phases, both serde over the buffered body: phase 1 reads the envelope (`schema` as a
//! list of columns, `results` kept as a borrowed raw slice, every other key ignored), so key
//! order does not matter; phase 2 runs a `DeserializeSeed` over that slice that appends each cell
//! straight into a per-column buffer (`rows`, `columns`), flushing a record batch every
//! `batch_rows` rows.
//!
//! Decisions worth knowing:
//! - Column names are case-sensitive (`LogonId` and `LogonID` are two columns). When the schema
//!   repeats a name exactly, the first column keeps it and later ones become `Name_2`, `Name_3`, …
//!   (skipping names already taken); their fields carry `hunt.service_name` with the name as
//!   sent, and the n-th occurrence of that key in a row fills the n-th such column.
//! - A schema entry without a name is skipped; one without a type is read as JSON text.
//! - A key repeated in a row keeps its last value.
//! - A row that is not a JSON object makes the body malformed; a cell never does.

mod columns;
mod datetime;
mod pipeline;
mod rows;
mod stream;
mod types;

pub use datetime::{civil_from_days, days_from_civil, parse_timestamp_nanos};
pub use pipeline::{IN_FLIGHT, Next, decode_stream};
pub use stream::{SEGMENT_BYTES, StreamDecoder};
pub use types::{EXTENSION_NAME_KEY, SERVICE_NAME_KEY, SERVICE_TYPE_KEY, ServiceType, arrow_type};

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use serde::Deserialize;
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How to decode.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Rows per record batch (and so per Parquet row group at most). Responses of more than 256
    /// columns get fewer, so that a batch never holds more than 2^20 cells.
    pub batch_rows: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { batch_rows: 4_096 }
    }
}

/// One column as the service declared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name, case preserved.
    pub name: String,
    /// The service's type string as sent (`DateTime`, `Int64`, `Dynamic`, …).
    pub service_type: String,
}

/// A decoded response.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The service's columns, in schema order.
    pub columns: Vec<Column>,
    /// Arrow schema derived from `columns` (field metadata records the service type).
    pub schema: SchemaRef,
    /// The rows, in response order.
    pub batches: Vec<RecordBatch>,
    /// Total rows.
    pub rows: usize,
    /// Cells whose JSON value did not fit the declared type and were stored as null
    /// (non-text columns) or as JSON text (text columns).
    pub mismatched_cells: u64,
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON, or JSON of the wrong shape; `offset` is the byte where it went wrong.
    #[error("malformed response at byte {offset}: {message}")]
    Malformed {
        /// Byte offset in the body.
        offset: usize,
        /// What the parser said.
        message: String,
    },
    /// The body has no `schema` (or `Schema`) array.
    #[error("response has no schema")]
    MissingSchema,
    /// The body has no `results` (or `Results`) array.
    #[error("response has no results")]
    MissingResults,
    /// The spool file of a `results` that came before its `schema` could not be written or
    /// read back.
    #[error("spooling the results: {0}")]
    Spool(std::io::Error),
    /// Building Arrow arrays failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Decodes a whole response body.
///
/// A leading UTF-8 byte order mark is skipped (offsets still count it).
pub fn decode(body: &[u8], opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    decode_inner(body, opts, None)
}

/// Decodes a whole response body, handing each batch to `on_batch` as soon as it is full
/// instead of keeping it: the returned [`Decoded`] has no batches. An error from `on_batch`
/// stops decoding and is returned as [`DecodeError::Arrow`].
pub fn decode_each<'a>(
    body: &'a [u8],
    opts: &DecodeOptions,
    on_batch: impl FnMut(RecordBatch) -> Result<(), arrow_schema::ArrowError> + 'a,
) -> Result<Decoded, DecodeError> {
    decode_inner(body, opts, Some(Box::new(on_batch)))
}

fn decode_inner<'a>(
    body: &'a [u8],
    opts: &DecodeOptions,
    on_batch: Option<rows::BatchSink<'a>>,
) -> Result<Decoded, DecodeError> {
    let bom = if body.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let envelope: Envelope<'_> =
        serde_json::from_slice(&body[bom..]).map_err(|e| malformed(&body[bom..], bom, &e))?;
    let entries = envelope.schema.ok_or(DecodeError::MissingSchema)?;
    let results = envelope.results.ok_or(DecodeError::MissingResults)?;
    let plan = Plan::of(&entries);

    // Phase 2 over the raw `results` slice, which lies inside `body`.
    let raw = results.get();
    let base = (raw.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize).min(body.len());
    let mut rows = plan.row_decoder(opts);
    rows.on_batch = on_batch;
    let mut de = serde_json::Deserializer::from_str(raw);
    let outcome = rows::RowsSeed(&mut rows).deserialize(&mut de).and_then(|()| de.end());
    if let Some(e) = rows.arrow_error.take() {
        return Err(DecodeError::Arrow(e));
    }
    outcome.map_err(|e| malformed(raw.as_bytes(), base, &e))?;
    plan.finish(rows)
}

/// The response envelope; every other key (`@odata.context`, `Stats`, …) is ignored. Only a
/// JSON object is accepted (serde's derive would also take an array); a repeated key keeps its
/// last value.
struct Envelope<'a> {
    schema: Option<Vec<SchemaEntry>>,
    results: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EnvelopeVisitor(std::marker::PhantomData))
    }
}

/// Visits the envelope object.
struct EnvelopeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> serde::de::Visitor<'de> for EnvelopeVisitor<'a> {
    type Value = Envelope<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a huntingQueryResults object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut env = Envelope { schema: None, results: None };
        while let Some(key) = map.next_key::<EnvelopeKey>()? {
            match key {
                EnvelopeKey::Schema => env.schema = map.next_value()?,
                EnvelopeKey::Results => env.results = map.next_value()?,
                EnvelopeKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(env)
    }
}

/// The envelope keys hunt reads.
enum EnvelopeKey {
    Schema,
    Results,
    Other,
}

impl<'de> Deserialize<'de> for EnvelopeKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(EnvelopeKeyVisitor)
    }
}

/// Reads an envelope key without allocating.
struct EnvelopeKeyVisitor;

impl serde::de::Visitor<'_> for EnvelopeKeyVisitor {
    type Value = EnvelopeKey;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<EnvelopeKey, E> {
        Ok(match key {
            "schema" | "Schema" => EnvelopeKey::Schema,
            "results" | "Results" => EnvelopeKey::Results,
            _ => EnvelopeKey::Other,
        })
    }
}

/// What a schema makes of the rows: the columns as written, their Arrow schema, and what the
/// row decoder matches keys against.
struct Plan {
    columns: Vec<Column>,
    schema: SchemaRef,
    /// The service's names (as sent) and types, in schema order.
    keys: Vec<(String, ServiceType)>,
}

impl Plan {
    /// Columns: entries without a name are skipped; names no reader could use are renamed (see
    /// `usable_name`), then exact duplicates.
    fn of(entries: &[SchemaEntry]) -> Plan {
        let named: Vec<(&str, &str)> = entries
            .iter()
            .filter_map(|e| Some((e.name.as_deref()?, e.service_type.as_deref().unwrap_or(""))))
            .collect();
        let usable: Vec<String> = named.iter().map(|(n, _)| usable_name(n)).collect();
        let final_names = unique_names(usable.iter().map(String::as_str));
        let columns: Vec<Column> = final_names
            .iter()
            .zip(&named)
            .map(|(name, (_, ty))| Column { name: name.clone(), service_type: (*ty).to_owned() })
            .collect();
        let fields: Vec<Field> =
            columns.iter().zip(&named).map(|(col, (sent, _))| field(col, sent)).collect();
        let keys = named
            .iter()
            .map(|(name, ty)| ((*name).to_owned(), ServiceType::from_service(ty)))
            .collect();
        Plan { columns, schema: Arc::new(Schema::new(fields)), keys }
    }

    /// The decoded response, once the last row is in: flushes the rows' last batch.
    fn finish(self, mut rows: rows::RowDecoder<'_>) -> Result<Decoded, DecodeError> {
        rows.flush()?;
        Ok(Decoded {
            columns: self.columns,
            schema: self.schema,
            batches: rows.batches,
            rows: rows.rows,
            mismatched_cells: rows.mismatched,
        })
    }

    /// A row decoder for this schema.
    fn row_decoder<'a>(&self, opts: &DecodeOptions) -> rows::RowDecoder<'a> {
        let keys: Vec<(&str, ServiceType)> =
            self.keys.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        rows::RowDecoder::new(&keys, self.schema.clone(), opts.batch_rows)
    }
}

/// One `schema` entry, `name`/`type` or `Name`/`Type`.
#[derive(Deserialize, PartialEq, Clone)]
struct SchemaEntry {
    #[serde(default, alias = "Name")]
    name: Option<String>,
    #[serde(default, rename = "type", alias = "Type")]
    service_type: Option<String>,
}

/// Makes names unique: later exact duplicates become `Name_2`, `Name_3`, … (never a name that is
/// already in the schema).
/// Partition folders hunt writes (`date=…`, `tenant=…`): a result column of the same name
/// (in any case, as Spark compares them) would clash with the partition column in Hive readers.
pub const PARTITION_COLUMNS: [&str; 2] = ["date", "tenant"];

/// The name a column is written under: an empty (or blank) name becomes `column`, and a name of
/// a partition column gets `_col` appended (`date` → `date_col`); the service's name is kept in
/// the field's `hunt.service_name` metadata.
fn usable_name(sent: &str) -> String {
    if sent.trim().is_empty() {
        "column".to_owned()
    } else if PARTITION_COLUMNS.iter().any(|p| p.eq_ignore_ascii_case(sent)) {
        format!("{sent}_col")
    } else {
        sent.to_owned()
    }
}

fn unique_names<'a>(names: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
    let mut taken: HashSet<String> = names.clone().map(str::to_owned).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut counters: HashMap<&str, usize> = HashMap::new();
    names
        .map(|name| {
            if seen.insert(name) {
                return name.to_owned();
            }
            let k = counters.entry(name).or_insert(1);
            loop {
                *k += 1;
                let candidate = format!("{name}_{k}");
                if taken.insert(candidate.clone()) {
                    return candidate;
                }
            }
        })
        .collect()
}

/// The Arrow field of a column: nullable, with the service type recorded. Dynamic columns are
/// plain Utf8 (no `arrow.json` extension type: Polars cannot use it as text, see
/// [`crate::lake_types`]).
fn field(col: &Column, sent_name: &str) -> Field {
    let st = ServiceType::from_service(&col.service_type);
    let mut meta = HashMap::from([(SERVICE_TYPE_KEY.to_owned(), col.service_type.clone())]);
    if col.name != sent_name {
        meta.insert(SERVICE_NAME_KEY.to_owned(), sent_name.to_owned());
    }
    Field::new(col.name.clone(), st.data_type(), true).with_metadata(meta)
}

/// A serde_json error as [`DecodeError::Malformed`], with the byte offset in the whole body:
/// `text` is the slice that was parsed and `base` its offset in the body. serde_json reports the
/// 1-based line and column of the last byte read; at end of input that is the end itself.
fn malformed(text: &[u8], base: usize, e: &serde_json::Error) -> DecodeError {
    let offset = if e.is_eof() {
        text.len()
    } else {
        let line_start: usize = if e.line() <= 1 {
            0
        } else {
            text.iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .nth(e.line() - 2)
                .map_or(text.len(), |(i, _)| i + 1)
        };
        (line_start + e.column().saturating_sub(1)).min(text.len())
    };
    DecodeError::Malformed { offset: base + offset, message: e.to_string() }
}

#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
