//! Parquet encoding: writes decoded batches as zstd Parquet files laid out as
//! `<query id>/[tenant=<t>/]date=YYYY-MM-DD/<window>.parquet`, one file per event day (the UTC
//! day of each row's `Timestamp`; the window's start day for rows without one), each under a
//! temporary name until it is closed and synced, and named from the window so that running the
//! same window again replaces rather than duplicates. Putting the closed files in place (a
//! rename, or an upload to an object store) is the `output` module's job.
//!
//! Column types follow [`crate::lake_types`]: timestamps in microseconds unless
//! [`SinkOptions::timestamp_unit`] asks for nanoseconds, Dynamic as plain text.
//!
//! For Delta output ([`SinkOptions::delta`]) the files are Delta data files: uniquely named
//! (never overwritten), timestamps in microseconds ([`crate::delta::to_delta_batch`]), and with
//! the statistics their `add` action will carry; committing them is the executor's job.

use super::{Destination, OutputError, Staged, Staging, TempFile, layout, open_temp};
use crate::decode::Decoded;
use crate::delta::{self, StatsCollector};
use crate::lake_types::{self, TimestampUnit, keys};
use crate::timespan::Window;
use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::SchemaRef;
use arrow_schema::{DataType, TimeUnit};
use chrono::{Datelike, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub use crate::output::Written;

/// What goes into each file's key-value metadata (keys prefixed `hunt.`).
#[derive(Debug, Clone)]
pub struct FileMeta {
    /// Query id (already a safe path component).
    pub query_id: String,
    /// SHA-256 of the query text, hex.
    pub query_hash: String,
    /// The window the rows were asked for.
    pub window: Window,
    /// Tenant name, when several tenants are configured (safe path component).
    pub tenant: Option<String>,
    /// Whether the result is known complete (not cut by a service limit).
    pub complete: bool,
    /// The service's request-id(s) for the call(s) that produced the rows.
    pub request_ids: Vec<String>,
}

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// File system trouble, with the path involved.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path being written.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Parquet encoding failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow (row selection) failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A column Delta data files cannot hold.
    #[error("delta: {0}")]
    Delta(#[from] crate::delta::SchemaError),
    /// The files could not be put in place.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// How Parquet files are encoded and named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkOptions {
    /// zstd level (1–22).
    pub zstd_level: i32,
    /// Most rows per row group.
    pub row_group_rows: usize,
    /// Write Delta data files: a unique name (`<window>-<uuid>.parquet`) instead of the
    /// window's own (Delta data files are never overwritten), timestamps in microseconds, and
    /// each file's statistics gathered for the Delta log.
    pub delta: bool,
    /// The unit of timestamp columns in Parquet files (Delta data files are always in
    /// microseconds).
    pub timestamp_unit: TimestampUnit,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            zstd_level: 1,
            row_group_rows: 8_192,
            delta: false,
            timestamp_unit: TimestampUnit::default(),
        }
    }
}

/// Writes `decoded` into the folder `out`, one file per event day, and renames the files into
/// place. Zero rows writes nothing.
pub fn write(out: &Path, decoded: &Decoded, meta: &FileMeta) -> Result<Vec<Written>, SinkError> {
    write_with(out, decoded, meta, &SinkOptions::default())
}

/// [`write`] with explicit encoding options.
pub fn write_with(
    out: &Path,
    decoded: &Decoded,
    meta: &FileMeta,
    opts: &SinkOptions,
) -> Result<Vec<Written>, SinkError> {
    let dest = Destination::local(out)?;
    let mut writer = StreamWriter::new(dest.staging(), decoded.schema.clone(), meta, opts)?;
    for batch in &decoded.batches {
        writer.write(batch)?;
    }
    Ok(dest.publish_local(writer.finish(meta.complete)?)?)
}

/// Writes a window's batches as they come, one temporary file per event day, closed and synced
/// at [`StreamWriter::finish`] and handed over to be put in place; dropped unfinished, it leaves
/// nothing behind. This lets decoding and encoding run at the same time without holding all the
/// rows.
pub struct StreamWriter {
    staging: Staging,
    dir: String,
    /// The files' schema: the results', or its Delta data-file form.
    file_schema: SchemaRef,
    meta: FileMeta,
    opts: SinkOptions,
    ts_col: Option<usize>,
    fallback_day: i64,
    days: BTreeMap<NaiveDate, DayFile>,
    rows: usize,
}

/// One event day's file being written.
struct DayFile {
    rel: String,
    temp: TempFile,
    writer: ArrowWriter<File>,
    rows: usize,
    /// Delta statistics, for Delta data files.
    stats: Option<StatsCollector>,
}

impl StreamWriter {
    /// A writer for `meta`'s window of rows with `schema`, its temporary files in `staging`.
    pub fn new(
        staging: &Staging,
        schema: SchemaRef,
        meta: &FileMeta,
        opts: &SinkOptions,
    ) -> Result<StreamWriter, SinkError> {
        let dir = layout::query_dir(&meta.query_id, meta.tenant.as_deref()).map_err(|e| {
            let root = staging.temp_dir("");
            SinkError::Io { path: root, source: io::Error::new(io::ErrorKind::InvalidInput, e) }
        })?;
        let fallback = meta.window.start.date_naive();
        let file_schema = if opts.delta {
            delta::data_schema(&schema)?
        } else {
            lake_types::file_schema(&schema, opts.timestamp_unit)
        };
        Ok(StreamWriter {
            staging: staging.clone(),
            dir,
            ts_col: timestamp_column(&schema),
            file_schema,
            meta: meta.clone(),
            opts: opts.clone(),
            fallback_day: i64::from(fallback.num_days_from_ce()) - UNIX_EPOCH_CE_DAYS,
            days: BTreeMap::new(),
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Appends a batch, each row to its event day's file.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), SinkError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        for (date, part) in split_batch(batch, self.ts_col, self.fallback_day)? {
            let day = match self.days.entry(date) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let day_dir = format!("{}/{}", self.dir, layout::date_dir(date));
                    let name = layout::file_name(&self.meta.window, self.opts.delta);
                    let temp_dir = self.staging.temp_dir(&day_dir);
                    let (file, temp) = open_temp(&temp_dir, &name)
                        .map_err(|source| SinkError::Io { path: temp_dir, source })?;
                    let props = properties(&self.opts, &self.meta, &part)?;
                    let writer = ArrowWriter::try_new(file, self.file_schema.clone(), Some(props))?;
                    let stats =
                        self.opts.delta.then(|| StatsCollector::new(self.file_schema.clone()));
                    let rel = format!("{day_dir}/{name}");
                    e.insert(DayFile { rel, temp, writer, rows: 0, stats })
                }
            };
            let part = if self.opts.delta {
                delta::to_delta_batch(&part)?
            } else {
                lake_types::file_batch(&part, self.opts.timestamp_unit)?
            };
            if let Some(stats) = &mut day.stats {
                stats.update(&part);
            }
            day.rows += part.num_rows();
            day.writer.write(&part)?;
        }
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Closes every file with its row counts and `complete` in its metadata and syncs it, ready
    /// to be put in place ([`Destination::publish`]). Files are returned in date order.
    pub fn finish(self, complete: bool) -> Result<Vec<Staged>, SinkError> {
        let window_rows = self.rows;
        let mut staged = Vec::with_capacity(self.days.len());
        for (date, mut day) in self.days {
            for (k, v) in [
                (keys::ROWS, day.rows.to_string()),
                (keys::WINDOW_ROWS, window_rows.to_string()),
                (keys::COMPLETE, complete.to_string()),
            ] {
                day.writer.append_key_value_metadata(KeyValue::new(k.to_owned(), v));
            }
            let file = day.writer.into_inner()?;
            let io_err = |source| SinkError::Io { path: day.temp.path().to_owned(), source };
            file.sync_all().map_err(io_err)?;
            let bytes = file.metadata().map_err(io_err)?.len();
            drop(file);
            staged.push(Staged {
                temp: day.temp,
                rel: day.rel,
                date,
                rows: day.rows,
                bytes,
                window: self.meta.window,
                complete,
                stats: day.stats.map(|s| s.to_json()),
            });
        }
        Ok(staged)
    }
}

/// The column whose UTC day partitions the rows: literally `Timestamp`, of DateTime type.
fn timestamp_column(schema: &SchemaRef) -> Option<usize> {
    let i = schema.index_of("Timestamp").ok()?;
    matches!(schema.field(i).data_type(), DataType::Timestamp(TimeUnit::Nanosecond, _)).then_some(i)
}

/// Nanoseconds in a day.
const DAY_NANOS: i64 = 86_400_000_000_000;

/// Days from 0001-01-01 (chrono's CE day 1) to 1970-01-01.
const UNIX_EPOCH_CE_DAYS: i64 = 719_163;

/// A batch's rows by event day, in date order (rows keep their order within a day); rows
/// without a timestamp (or all rows, without a `Timestamp` column) go to `fallback_day`.
fn split_batch(
    batch: &RecordBatch,
    ts_col: Option<usize>,
    fallback_day: i64,
) -> Result<Vec<(NaiveDate, RecordBatch)>, SinkError> {
    let Some(ts_col) = ts_col else {
        return Ok(vec![(date_of_epoch_day(fallback_day), batch.clone())]);
    };
    let ts = batch.column(ts_col).as_primitive::<TimestampNanosecondType>();
    let day_of: Vec<i64> = (0..ts.len())
        .map(|i| if ts.is_null(i) { fallback_day } else { ts.value(i).div_euclid(DAY_NANOS) })
        .collect();
    let mut distinct: Vec<i64> = day_of.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let mut parts = Vec::with_capacity(distinct.len());
    for day in distinct {
        let part = if day_of.iter().all(|&d| d == day) {
            batch.clone()
        } else {
            let mask: BooleanArray = day_of.iter().map(|&d| Some(d == day)).collect();
            arrow_select::filter::filter_record_batch(batch, &mask)?
        };
        parts.push((date_of_epoch_day(day), part));
    }
    Ok(parts)
}

/// The calendar date of a day count since 1970-01-01 (always in range for `i64` nanoseconds).
fn date_of_epoch_day(day: i64) -> NaiveDate {
    i32::try_from(day + UNIX_EPOCH_CE_DAYS)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(NaiveDate::MIN)
}

/// Writer properties: zstd, dictionary and statistics on, and the file's key-value metadata.
/// (The row counts and completeness are appended at [`StreamWriter::finish`].) `first`, the
/// file's first rows, turns the dictionary off for text columns whose values are mostly distinct
/// (see [`mostly_distinct`]).
fn properties(
    opts: &SinkOptions,
    meta: &FileMeta,
    first: &RecordBatch,
) -> Result<WriterProperties, SinkError> {
    let unit = if opts.delta { TimestampUnit::Micros } else { opts.timestamp_unit };
    let kv = [
        (keys::QUERY_ID, meta.query_id.clone()),
        (keys::QUERY_SHA256, meta.query_hash.clone()),
        (keys::WINDOW_START, crate::timespan::graph_datetime(meta.window.start)),
        (keys::WINDOW_END, crate::timespan::graph_datetime(meta.window.end)),
        (keys::TENANT, meta.tenant.clone().unwrap_or_default()),
        (keys::REQUEST_IDS, meta.request_ids.join(",")),
        (keys::VERSION, env!("CARGO_PKG_VERSION").to_owned()),
        (keys::TIMESTAMP_UNIT, unit.as_str().to_owned()),
    ];
    let mut builder = WriterProperties::builder();
    for name in mostly_distinct(first) {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(name), false);
    }
    Ok(builder
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(opts.zstd_level)?))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)))
        .set_created_by(format!("hunt {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(
            kv.into_iter().map(|(k, v)| KeyValue::new(k.to_owned(), v)).collect(),
        ))
        .build())
}

/// Text columns whose values are mostly distinct in the first rows (command lines, hashes,
/// ids): a dictionary cannot hold them, and the writer would build one in every row group only
/// to give it up at its size limit (1 MB), hashing and copying each value on the way.
fn mostly_distinct(first: &RecordBatch) -> Vec<String> {
    const SAMPLE: usize = 1_024;
    let schema = first.schema();
    schema
        .fields()
        .iter()
        .zip(first.columns())
        .filter_map(|(field, col)| {
            let text = col.as_string_opt::<i32>()?;
            let present: Vec<&str> = (0..text.len().min(SAMPLE))
                .filter(|&i| text.is_valid(i))
                .map(|i| text.value(i))
                .collect();
            let distinct = present.iter().collect::<std::collections::HashSet<_>>().len();
            (present.len() >= 64 && distinct * 2 > present.len()).then(|| field.name().clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DecodeOptions, decode};
    use arrow_array::types::{Float64Type, Int64Type};
    use chrono::TimeZone;
    use chrono::{DateTime, Utc};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::collections::HashMap;
    use std::fs;

    /// A written file's local path.
    fn path(w: &Written) -> PathBuf {
        PathBuf::from(&w.location)
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn meta(start: DateTime<Utc>, end: DateTime<Utc>, tenant: Option<&str>) -> FileMeta {
        FileMeta {
            query_id: "encoded-powershell".into(),
            query_hash: "ab".repeat(32),
            window: Window { start, end },
            tenant: tenant.map(str::to_owned),
            complete: true,
            request_ids: vec!["req-1".into(), "req-2".into()],
        }
    }

    fn decoded(body: &str, batch_rows: usize) -> Decoded {
        decode(body.as_bytes(), &DecodeOptions { batch_rows }).unwrap()
    }

    /// What a written file holds.
    struct ReadBack {
        schema: arrow_schema::SchemaRef,
        batch: RecordBatch,
        kv: HashMap<String, String>,
        row_groups: usize,
    }

    fn read_back(path: &Path) -> ReadBack {
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap()
            .iter()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        let row_groups = builder.metadata().num_row_groups();
        for rg in builder.metadata().row_groups() {
            for col in rg.columns() {
                assert!(matches!(col.compression(), Compression::ZSTD(_)));
            }
        }
        let schema = builder.schema().clone();
        let batches: Vec<RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
        let batch = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
        ReadBack { schema, batch, kv, row_groups }
    }

    /// Every file under `dir`, relative, sorted.
    fn tree(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(base, &path, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut out = Vec::new();
        if dir.exists() {
            walk(dir, dir, &mut out);
        }
        out.sort();
        out
    }

    const BODY: &str = r#"{"schema":[{"name":"Timestamp","type":"DateTime"},{"name":"DeviceName","type":"String"},
        {"name":"ProcessId","type":"Int64"},{"name":"Score","type":"Double"},{"name":"AdditionalFields","type":"Dynamic"}],
      "results":[
        {"Timestamp":"2026-11-22T10:00:00.0000001Z","DeviceName":"pc1","ProcessId":4780,"Score":0.5,"AdditionalFields":{"a":[1,2]}},
        {"Timestamp":"2026-11-22T10:30:00.5Z","DeviceName":"pc2","ProcessId":null,"Score":1.5,"AdditionalFields":"s"},
        {"Timestamp":"2026-11-22T10:59:59.9999999Z","DeviceName":null,"ProcessId":7,"Score":null}]}"#;

    #[test]
    fn delta_data_files_are_unique_in_microseconds_and_carry_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let d = decoded(BODY, 2);
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        let opts = SinkOptions { delta: true, ..SinkOptions::default() };
        let first = write_with(dir.path(), &d, &m, &opts).unwrap();
        let second = write_with(dir.path(), &d, &m, &opts).unwrap();
        assert_eq!((first.len(), second.len()), (1, 1));
        // Never the same name twice: Delta data files are not overwritten.
        assert_ne!(first[0].rel, second[0].rel);
        assert_eq!(tree(dir.path()).len(), 2);
        let name = first[0].rel.rsplit('/').next().unwrap();
        assert!(name.starts_with("20261122T100000Z_20261122T110000Z-"), "{name}");
        let r = read_back(Path::new(&first[0].location));
        assert_eq!(
            r.schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        let base = utc(2026, 11, 22, 10, 0, 0).timestamp_micros();
        let us: Vec<Option<i64>> = r
            .batch
            .column(0)
            .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
            .iter()
            .collect();
        // 100 ns digits dropped.
        assert_eq!(us, [Some(base), Some(base + 1_800_500_000), Some(base + 3_599_999_999)]);
        let stats: serde_json::Value =
            serde_json::from_str(first[0].stats.as_deref().unwrap()).unwrap();
        assert_eq!(stats["numRecords"], 3);
        assert_eq!(stats["nullCount"]["DeviceName"], 1);
        assert_eq!(stats["minValues"]["ProcessId"], 7);
        assert_eq!(stats["maxValues"]["Timestamp"], "2026-11-22T11:00:00.000Z");
        // Plain Parquet output has none.
        assert!(write(dir.path(), &d, &m).unwrap()[0].stats.is_none());
    }

    #[test]
    fn round_trip_values_types_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let d = decoded(BODY, 2);
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        let written = write(dir.path(), &d, &m).unwrap();
        assert_eq!(written.len(), 1);
        let w = &written[0];
        assert_eq!(w.rows, 3);
        assert_eq!(w.date, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
        assert_eq!(
            path(w),
            dir.path().join(
                "encoded-powershell/date=2026-11-22/20261122T100000Z_20261122T110000Z.parquet"
            )
        );
        assert_eq!(tree(dir.path()).len(), 1);

        let r = read_back(&path(w));
        assert_eq!(r.batch.num_rows(), 3);
        assert_eq!(r.schema.fields().len(), 5);
        // Microseconds by default: what Spark reads.
        assert_eq!(
            r.schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(r.schema.field(1).data_type(), &DataType::Utf8);
        assert_eq!(r.schema.field(2).data_type(), &DataType::Int64);
        assert_eq!(r.schema.field(3).data_type(), &DataType::Float64);
        let dynamic = r.schema.field(4);
        assert_eq!(dynamic.metadata().get("hunt.service_type").unwrap(), "Dynamic");
        assert_eq!(dynamic.data_type(), &DataType::Utf8);
        assert_eq!(dynamic.metadata().get("ARROW:extension:name"), None);
        assert_eq!(r.schema.field(2).metadata().get("hunt.service_type").unwrap(), "Int64");

        let base = utc(2026, 11, 22, 10, 0, 0).timestamp_micros();
        let ts: Vec<Option<i64>> = r
            .batch
            .column(0)
            .as_primitive::<arrow_array::types::TimestampMicrosecondType>()
            .iter()
            .collect();
        // The 100 ns digit is floored away.
        assert_eq!(ts, [Some(base), Some(base + 1_800_500_000), Some(base + 3_599_999_999)]);
        let names: Vec<Option<&str>> = r.batch.column(1).as_string::<i32>().iter().collect();
        assert_eq!(names, [Some("pc1"), Some("pc2"), None]);
        let pids: Vec<Option<i64>> = r.batch.column(2).as_primitive::<Int64Type>().iter().collect();
        assert_eq!(pids, [Some(4780), None, Some(7)]);
        let scores: Vec<Option<f64>> =
            r.batch.column(3).as_primitive::<Float64Type>().iter().collect();
        assert_eq!(scores, [Some(0.5), Some(1.5), None]);
        let extra: Vec<Option<&str>> = r.batch.column(4).as_string::<i32>().iter().collect();
        assert_eq!(extra, [Some(r#"{"a":[1,2]}"#), Some("s"), None]);

        let expect = [
            ("hunt.query_id", "encoded-powershell".to_owned()),
            ("hunt.query_sha256", "ab".repeat(32)),
            ("hunt.window_start", "2026-11-22T10:00:00.0000000Z".to_owned()),
            ("hunt.window_end", "2026-11-22T11:00:00.0000000Z".to_owned()),
            ("hunt.tenant", String::new()),
            ("hunt.rows", "3".to_owned()),
            ("hunt.window_rows", "3".to_owned()),
            ("hunt.complete", "true".to_owned()),
            ("hunt.request_ids", "req-1,req-2".to_owned()),
            ("hunt.version", env!("CARGO_PKG_VERSION").to_owned()),
            ("hunt.timestamp_unit", "us".to_owned()),
        ];
        for (k, v) in expect {
            assert_eq!(r.kv.get(k), Some(&v), "{k}");
        }
        assert!(r.kv.contains_key("ARROW:schema"));
    }

    #[test]
    fn nanoseconds_keep_the_services_100_ns_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let d = decoded(BODY, 2);
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        let opts = SinkOptions { timestamp_unit: TimestampUnit::Nanos, ..SinkOptions::default() };
        let written = write_with(dir.path(), &d, &m, &opts).unwrap();
        let r = read_back(&path(&written[0]));
        assert_eq!(
            r.schema.field(0).data_type(),
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
        let base = utc(2026, 11, 22, 10, 0, 0).timestamp_nanos_opt().unwrap();
        let ts: Vec<Option<i64>> =
            r.batch.column(0).as_primitive::<TimestampNanosecondType>().iter().collect();
        assert_eq!(
            ts,
            [Some(base + 100), Some(base + 1_800_500_000_000), Some(base + 3_599_999_999_900)]
        );
        assert_eq!(r.kv.get("hunt.timestamp_unit").map(String::as_str), Some("ns"));
    }

    #[test]
    fn mostly_distinct_text_is_written_without_a_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<String> = (0..300)
            .map(|i| format!(r#"{{"Cmd":"powershell -enc {i:05}","Action":"A{}"}}"#, i % 3))
            .collect();
        let body = format!(
            r#"{{"schema":[{{"name":"Cmd","type":"String"}},{{"name":"Action","type":"String"}}],"results":[{}]}}"#,
            rows.join(",")
        );
        let d = decoded(&body, 4_096);
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        let written = write(dir.path(), &d, &m).unwrap();
        let file = File::open(path(&written[0])).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        use parquet::file::reader::FileReader as _;
        let group = reader.metadata().row_group(0);
        let dictionary = |i: usize| group.column(i).dictionary_page_offset().is_some();
        assert!(!dictionary(0), "300 distinct command lines: no dictionary");
        assert!(dictionary(1), "3 distinct actions: a dictionary");
        assert_eq!(read_back(&path(&written[0])).batch.num_rows(), 300);
    }

    #[test]
    fn row_groups_follow_options() {
        let dir = tempfile::tempdir().unwrap();
        let d = decoded(BODY, 100);
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        let opts = SinkOptions { zstd_level: 1, row_group_rows: 2, ..SinkOptions::default() };
        let written = write_with(dir.path(), &d, &m, &opts).unwrap();
        let r = read_back(&path(&written[0]));
        assert_eq!(r.row_groups, 2);
        assert_eq!(r.batch.num_rows(), 3);
        let bad = SinkOptions { zstd_level: 99, row_group_rows: 2, ..SinkOptions::default() };
        assert!(matches!(write_with(dir.path(), &d, &m, &bad), Err(SinkError::Parquet(_))));
        assert_eq!(tree(dir.path()).len(), 1);
    }

    #[test]
    fn window_spanning_midnight_lands_in_two_partitions() {
        let dir = tempfile::tempdir().unwrap();
        let body = r#"{"schema":[{"name":"N","type":"Int64"},{"name":"Timestamp","type":"DateTime"}],"results":[
            {"N":1,"Timestamp":"2026-11-22T23:59:59.9999999Z"},
            {"N":2,"Timestamp":"2026-11-23T00:00:00Z"},
            {"N":3,"Timestamp":null},
            {"N":4,"Timestamp":"2026-11-23T00:30:00Z"},
            {"N":5},
            {"N":6,"Timestamp":"2026-11-22T23:00:00Z"}]}"#;
        // Batches of 4 so that one batch holds both days and the other a mix too.
        let d = decoded(body, 4);
        let m = meta(utc(2026, 11, 22, 23, 0, 0), utc(2026, 11, 23, 1, 0, 0), Some("contoso"));
        let written = write(dir.path(), &d, &m).unwrap();
        let dates: Vec<String> = written.iter().map(|w| w.date.to_string()).collect();
        assert_eq!(dates, ["2026-11-22", "2026-11-23"]);
        assert_eq!(
            tree(dir.path()),
            [
                "encoded-powershell/tenant=contoso/date=2026-11-22/20261122T230000Z_20261123T010000Z.parquet",
                "encoded-powershell/tenant=contoso/date=2026-11-23/20261122T230000Z_20261123T010000Z.parquet",
            ]
        );
        let ns = |w: &Written| -> Vec<i64> {
            let r = read_back(&path(w));
            assert_eq!(r.kv["hunt.rows"], w.rows.to_string());
            assert_eq!(r.kv["hunt.window_rows"], "6");
            assert_eq!(r.kv["hunt.tenant"], "contoso");
            r.batch.column(0).as_primitive::<Int64Type>().values().to_vec()
        };
        // Null and missing timestamps go to the window's start day.
        assert_eq!(ns(&written[0]), [1, 3, 5, 6]);
        assert_eq!(written[0].rows, 4);
        assert_eq!(ns(&written[1]), [2, 4]);
        assert_eq!(written[1].rows, 2);
    }

    #[test]
    fn without_timestamp_column_the_window_start_day() {
        let dir = tempfile::tempdir().unwrap();
        // A `Timestamp` of another type does not count, nor does `timestamp`.
        let body = r#"{"schema":[{"name":"Timestamp","type":"String"},{"name":"timestamp","type":"DateTime"}],"results":[
            {"Timestamp":"2020-01-01T00:00:00Z","timestamp":"2020-01-01T00:00:00Z"},{"Timestamp":"x"}]}"#;
        let d = decoded(body, 1);
        let start = utc(2026, 11, 22, 23, 30, 0) + chrono::Duration::nanoseconds(500_000_000);
        let end = utc(2026, 11, 23, 0, 30, 0) + chrono::Duration::nanoseconds(1_234_500);
        let written = write(dir.path(), &d, &meta(start, end, None)).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].rows, 2);
        assert_eq!(
            tree(dir.path()),
            [
                "encoded-powershell/date=2026-11-22/20261122T233000.5Z_20261123T003000.0012345Z.parquet"
            ]
        );
        let r = read_back(&path(&written[0]));
        assert_eq!(r.batch.num_rows(), 2);
        assert_eq!(r.kv["hunt.window_start"], "2026-11-22T23:30:00.5000000Z");
        assert_eq!(r.kv["hunt.window_end"], "2026-11-23T00:30:00.0012345Z");
    }

    #[test]
    fn rerun_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        let first = write(dir.path(), &decoded(BODY, 10), &m).unwrap();
        let before = tree(dir.path());
        let fewer = r#"{"schema":[{"name":"Timestamp","type":"DateTime"}],"results":[{"Timestamp":"2026-11-22T10:10:00Z"}]}"#;
        let second = write(dir.path(), &decoded(fewer, 10), &m).unwrap();
        assert_eq!(first[0].location, second[0].location);
        assert_eq!(tree(dir.path()), before);
        assert!(before.iter().all(|p| !p.contains(".tmp")));
        let r = read_back(&path(&second[0]));
        assert_eq!(r.batch.num_rows(), 1);
        assert_eq!(r.kv["hunt.rows"], "1");
    }

    #[test]
    fn failed_write_removes_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        // A directory where the file should go makes the rename fail.
        let target = dir
            .path()
            .join("encoded-powershell/date=2026-11-22/20261122T100000Z_20261122T110000Z.parquet");
        fs::create_dir_all(target.join("occupied")).unwrap();
        let err = write(dir.path(), &decoded(BODY, 10), &m).unwrap_err();
        assert!(matches!(err, SinkError::Output(OutputError::Io { .. })), "{err}");
        let left: Vec<String> =
            tree(dir.path()).into_iter().filter(|p| p.contains(".tmp")).collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn zero_rows_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = decoded(r#"{"schema":[{"name":"Timestamp","type":"DateTime"}],"results":[]}"#, 10);
        let m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
        assert_eq!(write(dir.path(), &d, &m).unwrap(), vec![]);
        assert!(tree(dir.path()).is_empty());
        assert!(!dir.path().join("encoded-powershell").exists());
    }

    #[test]
    fn unsafe_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = decoded(BODY, 10);
        for bad in ["", ".", "..", "a/b", "../x", "a\\b", "nul\0l", "C:", "x:stream", "a\nb"] {
            let mut m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), None);
            m.query_id = bad.into();
            let tenant = meta(m.window.start, m.window.end, Some(bad));
            for (what, m) in [("query id", m), ("tenant", tenant)] {
                match write(dir.path(), &d, &m) {
                    Err(SinkError::Io { source, .. }) => {
                        assert_eq!(source.kind(), io::ErrorKind::InvalidInput);
                        let msg = source.to_string();
                        assert!(msg.contains(what) && msg.contains(&format!("{bad:?}")), "{msg}");
                    }
                    other => panic!("{what} {bad:?}: {other:?}"),
                }
            }
        }
        assert!(tree(dir.path()).is_empty());
        // Dots inside a name are fine.
        let mut m = meta(utc(2026, 11, 22, 10, 0, 0), utc(2026, 11, 22, 11, 0, 0), Some("a.b"));
        m.query_id = "x..y".into();
        assert_eq!(write(dir.path(), &d, &m).unwrap().len(), 1);
    }

    /// Every path under `root`, relative, files and folders.
    fn everything(root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                found.push(p.strip_prefix(root).unwrap().to_path_buf());
                if p.is_dir() {
                    stack.push(p);
                }
            }
        }
        found
    }

    #[test]
    fn hostile_ids_and_tenants_never_write_outside_the_output_folder() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        fs::create_dir(&out).unwrap();
        let d = decoded(BODY, 10);
        let long = "x".repeat(1000);
        let names = [
            "../../x",
            "/abs",
            "a\\b",
            "a\0b",
            "..",
            ".",
            "",
            "C:",
            "C:\\x",
            "con",
            "NUL",
            "lpt1",
            "日本語",
            "x/../../y",
            "tenant=../..",
            &long,
            "\u{202e}txt.exe",
            " ",
            "a\rb",
        ];
        let mut written = Vec::new();
        for name in names {
            let start = utc(2026, 11, 22, 10, 0, 0);
            let mut by_id = meta(start, utc(2026, 11, 22, 11, 0, 0), None);
            by_id.query_id = name.into();
            let by_tenant = meta(start, utc(2026, 11, 22, 11, 0, 0), Some(name));
            for m in [by_id, by_tenant] {
                let files: Vec<PathBuf> =
                    write(&out, &d, &m).map(|f| f.iter().map(path).collect()).unwrap_or_default();
                written.extend(files);
            }
        }
        assert!(!written.is_empty(), "the harmless names were written");
        let real_out = out.canonicalize().unwrap();
        for p in &written {
            let real = p.canonicalize().unwrap();
            assert!(real.starts_with(&real_out), "{}", real.display());
        }
        for p in everything(root.path()) {
            assert!(p.starts_with("out"), "created outside the output folder: {}", p.display());
            let real = root.path().join(&p).canonicalize().unwrap();
            assert!(real.starts_with(&real_out), "{}", real.display());
        }
    }
}
