//! Streaming decode: the body is pushed in chunks as it arrives ([`StreamDecoder::feed`]) and
//! rows become record batches while the rest is still on the wire, so memory is bounded by a
//! segment of the body and a batch of rows, not by the body.
//!
//! One byte scanner follows the JSON structure (depth, strings, escapes; `memchr` inside
//! strings). Everything outside the `results` array's contents is kept in a small *skeleton*
//! (`{"@odata.context":…,"schema":[…],"results":[]}`), which serde parses at the end exactly as
//! the buffered decoder parses the envelope: that validates it, and settles `schema`, missing
//! keys and repeated keys the same way. The contents of `results` are cut at row separators
//! (a comma at depth 2) into segments of about [`SEGMENT_BYTES`]; each segment, wrapped in
//! `[`…`]`, is checked for UTF-8 and goes through the same serde row decoder as the buffered
//! path (a `StrRead`, so cells are still borrowed, not copied), which validates it. A segment
//! before a cut must hold a row, so `[,{…}]` and `[{…},]` stay malformed.
//!
//! When `results` comes before `schema`, the rows cannot be typed yet: the contents are
//! spooled to a temporary file (`.results.json.PID.N.tmp` in the spool folder, removed when the
//! decoder is dropped) with the segment cuts noted, and decoded from there once the schema has
//! arrived. Memory stays bounded by a segment; disk by the body size cap.
//!
//! Differences from the buffered decoder, all on bodies the service does not send: a second
//! `results` array is refused (the buffered decoder keeps the last), as is a `schema` repeated
//! after the rows with other columns; a `results` that is not an array is reported by the
//! buffered decoder's own check. Error offsets inside `results` are those of the segment.

use super::rows::{RowDecoder, RowsSeed};
use super::{
    DecodeError, DecodeOptions, Decoded, Envelope, Plan, SchemaEntry, columns::unescape_into,
    malformed,
};
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use serde::de::DeserializeSeed;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender};

/// Bytes of `results` decoded at a time (the segment is cut at the next row boundary).
pub const SEGMENT_BYTES: usize = 512 << 10;

/// A consumer of finished batches.
type Sink<'a> = Box<dyn FnMut(RecordBatch) -> Result<(), ArrowError> + 'a>;

/// Where the contents of `results` go.
enum Target {
    /// Not inside `results`.
    None,
    /// Decoded segment by segment: `seg` holds `[` and the segment so far.
    Decode,
    /// Spooled to a file until the schema is known.
    Spool(Spool),
}

/// `results` contents waiting for the schema.
struct Spool {
    file: BufWriter<File>,
    temp: crate::output::TempFile,
    /// Bytes written.
    written: u64,
    /// End offset of every segment cut so far.
    cuts: Vec<u64>,
    /// Offset of the contents in the body.
    base: u64,
}

/// Which envelope key a value belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Schema,
    Results,
    Other,
}

/// Decodes a body pushed in chunks; see the module documentation.
pub struct StreamDecoder<'a> {
    opts: DecodeOptions,
    spool_dir: PathBuf,
    sink: Option<Sink<'a>>,
    /// Body bytes fed before the current chunk.
    fed: u64,
    depth: u32,
    in_str: bool,
    esc: bool,
    /// The first value of the body has begun; whether it is an object.
    started: bool,
    top_object: bool,
    /// At depth 1 of the top object, the next string is a key.
    expect_key: bool,
    in_key: bool,
    key_start: usize,
    key_end: usize,
    /// The key of the value being read at depth 1.
    key: Key,
    /// Where the value of a `schema` key starts in the skeleton.
    schema_from: Option<usize>,
    /// After `"results":`, before its first byte.
    results_pending: bool,
    skeleton: Vec<u8>,
    /// The skeleton offset where the `results` contents were taken out, and their length.
    hole: Option<(usize, u64)>,
    /// The latest schema seen, and the one rows were decoded with.
    entries: Option<Vec<SchemaEntry>>,
    plan: Option<Plan>,
    rows: Option<RowDecoder<'a>>,
    target: Target,
    seg: Vec<u8>,
    /// Body offset of the segment's first byte (after the `[` added in front).
    seg_base: u64,
    /// Bytes in the current segment.
    seg_len: usize,
    /// A segment was cut at a comma (so the next must hold a row).
    cut: bool,
    /// Bytes of `results` contents so far.
    contents_len: u64,
    /// Spooled contents waiting for the schema.
    spooled: Option<Spool>,
    /// Bytes of `results` per segment (before the cut at the next row boundary).
    segment_bytes: usize,
    /// Rows are decoded on another thread ([`super::pipeline`]): pieces go there.
    forward: Option<Forward>,
}

/// The scanner's side of a two-thread decode: where the pieces go, and segment buffers coming
/// back for reuse.
struct Forward {
    tx: SyncSender<Piece>,
    back: Receiver<Vec<u8>>,
    /// `Start` was sent.
    started: bool,
}

/// What the scanner hands to the rows thread, in body order.
pub(super) enum Piece {
    /// The schema the rows are decoded with.
    Start(Vec<SchemaEntry>),
    /// A segment `[…]` (already checked for UTF-8) whose contents start at body offset `base`.
    Segment { text: Result<String, DecodeError>, base: u64, must_hold_a_row: bool },
}

impl<'a> StreamDecoder<'a> {
    /// A decoder handing batches to `on_batch`; spooled `results` go under `spool_dir`.
    pub fn new(
        opts: &DecodeOptions,
        spool_dir: PathBuf,
        on_batch: impl FnMut(RecordBatch) -> Result<(), ArrowError> + 'a,
    ) -> Self {
        StreamDecoder {
            opts: opts.clone(),
            spool_dir,
            sink: Some(Box::new(on_batch)),
            fed: 0,
            depth: 0,
            in_str: false,
            esc: false,
            started: false,
            top_object: false,
            expect_key: false,
            in_key: false,
            key_start: 0,
            key_end: 0,
            key: Key::Other,
            schema_from: None,
            results_pending: false,
            skeleton: Vec::new(),
            hole: None,
            entries: None,
            plan: None,
            rows: None,
            target: Target::None,
            seg: Vec::new(),
            seg_base: 0,
            seg_len: 0,
            cut: false,
            contents_len: 0,
            spooled: None,
            segment_bytes: SEGMENT_BYTES,
            forward: None,
        }
    }

    /// A decoder that only scans: the schema and each segment go to `tx`, to be decoded on
    /// another thread ([`super::pipeline::decode_stream`]); spent segment buffers come back on
    /// `back`.
    pub(super) fn forwarding(
        opts: &DecodeOptions,
        spool_dir: PathBuf,
        tx: SyncSender<Piece>,
        back: Receiver<Vec<u8>>,
    ) -> Self {
        let mut dec = StreamDecoder::new(opts, spool_dir, |_| Ok(()));
        dec.sink = None;
        dec.forward = Some(Forward { tx, back, started: false });
        dec
    }

    /// Cuts `results` into segments of `bytes` (at least one row each) instead of
    /// [`SEGMENT_BYTES`]: tests cut at every row this way.
    pub fn with_segment_bytes(mut self, bytes: usize) -> Self {
        self.segment_bytes = bytes;
        self
    }

    /// Bytes fed so far.
    pub fn fed(&self) -> u64 {
        self.fed
    }

    /// Takes the next part of the body.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), DecodeError> {
        let n = chunk.len();
        let (mut i, mut span) = (0, 0);
        while i < n {
            if self.in_str {
                if self.esc {
                    self.esc = false;
                    i += 1;
                    continue;
                }
                // The next quote ends the string unless an odd run of backslashes precedes it.
                // A run never starts before `i`: `i` follows the opening quote, an escaped
                // byte, or an escaped quote.
                match memchr::memchr(b'"', &chunk[i..]) {
                    None => {
                        self.esc = backslashes_before(&chunk[i..]) % 2 == 1;
                        i = n;
                    }
                    Some(p) => {
                        let j = i + p;
                        if backslashes_before(&chunk[i..j]).is_multiple_of(2) {
                            self.in_str = false;
                            if self.in_key {
                                self.in_key = false;
                                self.key_end = self.skeleton.len() + (j - span);
                            }
                        }
                        i = j + 1;
                    }
                }
                continue;
            }
            let c = chunk[i];
            if !matches!(self.target, Target::None) {
                // Inside the contents of `results`.
                match c {
                    b'"' => self.in_str = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' if self.depth <= 2 => {
                        self.put(&chunk[span..i])?;
                        if c == b'}' {
                            return Err(self.malformed_at(i, "unexpected `}` in results"));
                        }
                        self.end_results()?;
                        self.depth = 1;
                        span = i;
                    }
                    b'}' | b']' => self.depth -= 1,
                    b',' if self.depth == 2 && self.seg_len + (i - span) >= self.segment_bytes => {
                        self.put(&chunk[span..i])?;
                        self.cut_segment()?;
                        span = i + 1;
                    }
                    _ => {}
                }
                i += 1;
                continue;
            }
            let top = self.depth == 1 && self.top_object;
            if self.results_pending && !c.is_ascii_whitespace() {
                self.results_pending = false;
                if c == b'[' {
                    self.depth = 2;
                    self.skeleton.extend_from_slice(&chunk[span..=i]);
                    span = i + 1;
                    self.begin_results(self.fed + span as u64)?;
                    i += 1;
                    continue;
                }
            }
            match c {
                b'"' => {
                    self.in_str = true;
                    if top && self.expect_key {
                        self.in_key = true;
                        self.key_start = self.skeleton.len() + (i - span) + 1;
                    }
                }
                b':' if top => {
                    self.skeleton.extend_from_slice(&chunk[span..=i]);
                    span = i + 1;
                    self.expect_key = false;
                    self.key = self.classify_key();
                    match self.key {
                        Key::Results => self.results_pending = true,
                        Key::Schema => self.schema_from = Some(self.skeleton.len()),
                        Key::Other => {}
                    }
                }
                b',' | b'}' if top => {
                    self.skeleton.extend_from_slice(&chunk[span..=i]);
                    span = i + 1;
                    self.end_value()?;
                    self.expect_key = c == b',';
                    if c == b'}' {
                        self.depth = 0;
                    }
                }
                b'{' | b'[' => {
                    if self.depth == 0 {
                        // A second top-level value is left to the skeleton's parse to refuse.
                        self.top_object = !self.started && c == b'{';
                        self.started = true;
                        self.expect_key = true;
                    }
                    self.depth += 1;
                }
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
            i += 1;
        }
        if span < n {
            if matches!(self.target, Target::None) {
                self.skeleton.extend_from_slice(&chunk[span..]);
            } else {
                self.put(&chunk[span..])?;
            }
        }
        self.fed += n as u64;
        Ok(())
    }

    /// The end of the body: the last rows and the result.
    pub fn finish(mut self) -> Result<Decoded, DecodeError> {
        if let Some(whole) = self.finish_scan()? {
            return Ok(whole);
        }
        let rows = self.rows.take().expect("rows started");
        self.plan.take().expect("plan made with the rows").finish(rows)
    }

    /// The end of the body: checks the envelope and decodes (or forwards) what was spooled.
    /// `Some` when the buffered decoder decided the whole outcome (a `results` that is not an
    /// array).
    pub(super) fn finish_scan(&mut self) -> Result<Option<Decoded>, DecodeError> {
        if !matches!(self.target, Target::None) {
            return Err(DecodeError::Malformed {
                offset: self.fed as usize,
                message: "EOF while parsing the results".to_owned(),
            });
        }
        let bom = if self.skeleton.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        let skeleton = std::mem::take(&mut self.skeleton);
        let envelope: Envelope<'_> = serde_json::from_slice(&skeleton[bom..]).map_err(|e| {
            let DecodeError::Malformed { offset, message } = malformed(&skeleton[bom..], bom, &e)
            else {
                unreachable!("malformed() makes Malformed")
            };
            let offset = match self.hole {
                Some((at, len)) if offset >= at => offset + len as usize,
                _ => offset,
            };
            DecodeError::Malformed { offset, message }
        })?;
        let entries = envelope.schema.ok_or(DecodeError::MissingSchema)?;
        envelope.results.ok_or(DecodeError::MissingResults)?;
        if self.hole.is_none() {
            // `results` was not an array: the buffered decoder says why.
            return super::decode(&skeleton[bom..], &self.opts).map(Some);
        }
        if !self.rows_started() {
            // Rows were spooled (or there were none): decode them now.
            self.start_rows(&entries)?;
            if let Some(spool) = self.spooled.take() {
                self.replay(spool)?;
            }
        } else if self.entries.as_ref() != Some(&entries) {
            return Err(self.schema_changed());
        }
        Ok(None)
    }

    fn rows_started(&self) -> bool {
        self.rows.is_some() || self.forward.as_ref().is_some_and(|f| f.started)
    }

    /// What the key just read (in the skeleton) is.
    fn classify_key(&self) -> Key {
        let raw = self.skeleton.get(self.key_start..self.key_end).unwrap_or_default();
        let mut key = Vec::with_capacity(raw.len());
        unescape_into(&String::from_utf8_lossy(raw), &mut key);
        match key.as_slice() {
            b"schema" | b"Schema" => Key::Schema,
            b"results" | b"Results" => Key::Results,
            _ => Key::Other,
        }
    }

    /// A value at depth 1 has ended (its `,` or `}` is the skeleton's last byte).
    fn end_value(&mut self) -> Result<(), DecodeError> {
        let Some(from) = self.schema_from.take() else { return Ok(()) };
        let text = &self.skeleton[from..self.skeleton.len() - 1];
        // A schema that does not parse fails the skeleton's parse at the end, with its offset.
        let Ok(entries) = serde_json::from_slice::<Option<Vec<SchemaEntry>>>(text) else {
            return Ok(());
        };
        if self.rows_started() && self.entries != entries {
            return Err(self.schema_changed());
        }
        self.entries = entries;
        Ok(())
    }

    fn schema_changed(&self) -> DecodeError {
        DecodeError::Malformed {
            offset: self.fed as usize,
            message: "the schema is repeated after the results, with other columns".to_owned(),
        }
    }

    fn start_rows(&mut self, entries: &[SchemaEntry]) -> Result<(), DecodeError> {
        if let Some(f) = &mut self.forward {
            f.tx.send(Piece::Start(entries.to_vec())).map_err(|_| stopped())?;
            f.started = true;
            return Ok(());
        }
        let plan = Plan::of(entries);
        let mut rows = plan.row_decoder(&self.opts);
        rows.on_batch = self.sink.take();
        self.plan = Some(plan);
        self.rows = Some(rows);
        Ok(())
    }

    /// `[` of the `results` array: its contents start at body offset `base`.
    fn begin_results(&mut self, base: u64) -> Result<(), DecodeError> {
        if self.hole.is_some() {
            return Err(DecodeError::Malformed {
                offset: base as usize,
                message: "the response repeats `results`".to_owned(),
            });
        }
        self.hole = Some((self.skeleton.len(), 0));
        self.seg_base = base;
        self.seg_len = 0;
        self.cut = false;
        match self.entries.take() {
            Some(entries) => {
                self.start_rows(&entries)?;
                self.entries = Some(entries);
                self.seg.clear();
                self.seg.push(b'[');
                self.target = Target::Decode;
            }
            None => {
                let (file, temp) = crate::output::open_temp(&self.spool_dir, "results.json")
                    .map_err(DecodeError::Spool)?;
                let file = BufWriter::with_capacity(1 << 20, file);
                self.target =
                    Target::Spool(Spool { file, temp, written: 0, cuts: Vec::new(), base });
            }
        }
        Ok(())
    }

    /// Contents of `results`.
    fn put(&mut self, bytes: &[u8]) -> Result<(), DecodeError> {
        self.seg_len += bytes.len();
        self.contents_len += bytes.len() as u64;
        match &mut self.target {
            Target::Decode => self.seg.extend_from_slice(bytes),
            Target::Spool(s) => {
                s.file.write_all(bytes).map_err(DecodeError::Spool)?;
                s.written += bytes.len() as u64;
            }
            Target::None => {}
        }
        Ok(())
    }

    /// A comma between rows after a full segment: decode (or note) the segment.
    fn cut_segment(&mut self) -> Result<(), DecodeError> {
        match &mut self.target {
            Target::Decode => self.decode_segment(true)?,
            Target::Spool(s) => s.cuts.push(s.written),
            Target::None => {}
        }
        self.cut = true;
        self.contents_len += 1;
        // The next segment starts after the comma.
        self.seg_base += self.seg_len as u64 + 1;
        self.seg_len = 0;
        Ok(())
    }

    /// `]` of the `results` array.
    fn end_results(&mut self) -> Result<(), DecodeError> {
        match std::mem::replace(&mut self.target, Target::None) {
            Target::Decode => {
                self.decode_segment(self.cut)?;
                self.seg = Vec::new();
            }
            Target::Spool(mut s) => {
                s.cuts.push(s.written);
                self.spooled = Some(s);
            }
            Target::None => {}
        }
        self.hole = self.hole.map(|(at, _)| (at, self.contents_len));
        Ok(())
    }

    /// Decodes `seg` (`[` + contents) as a JSON array of rows.
    fn decode_segment(&mut self, must_hold_a_row: bool) -> Result<(), DecodeError> {
        self.seg.push(b']');
        if let Some(f) = &self.forward {
            let mut next = f.back.try_recv().unwrap_or_else(|_| fresh_segment(self.segment_bytes));
            next.clear();
            next.push(b'[');
            let seg = std::mem::replace(&mut self.seg, next);
            return forward(f, seg, self.seg_base, must_hold_a_row);
        }
        let rows = self.rows.as_mut().expect("rows started before decoding");
        let result = decode_rows(rows, &self.seg, self.seg_base, must_hold_a_row);
        self.seg.clear();
        self.seg.push(b'[');
        result
    }

    /// Decodes the spooled contents, segment by segment.
    fn replay(&mut self, spool: Spool) -> Result<(), DecodeError> {
        let Spool { file, temp, cuts, base, .. } = spool;
        drop(file.into_inner().map_err(|e| DecodeError::Spool(e.into_error()))?);
        let mut file = File::open(temp.path()).map_err(DecodeError::Spool)?;
        let (mut start, last) = (0u64, cuts.len().saturating_sub(1));
        let mut seg = Vec::new();
        for (k, &end) in cuts.iter().enumerate() {
            if let Some(f) = &self.forward {
                seg = f.back.try_recv().unwrap_or_default();
            }
            seg.clear();
            seg.push(b'[');
            let len = usize::try_from(end - start).unwrap_or(usize::MAX);
            seg.resize(1 + len, 0);
            file.read_exact(&mut seg[1..]).map_err(DecodeError::Spool)?;
            seg.push(b']');
            let must_hold_a_row = k < last || last > 0;
            let at = base + start + k as u64;
            match &self.forward {
                Some(f) => forward(f, std::mem::take(&mut seg), at, must_hold_a_row)?,
                None => {
                    let rows = self.rows.as_mut().expect("rows started before replay");
                    decode_rows(rows, &seg, at, must_hold_a_row)?;
                }
            }
            start = end;
        }
        Ok(())
    }

    fn malformed_at(&self, i: usize, message: &str) -> DecodeError {
        DecodeError::Malformed { offset: (self.fed as usize) + i, message: message.to_owned() }
    }
}

/// How many backslashes end `bytes`.
fn backslashes_before(bytes: &[u8]) -> usize {
    bytes.iter().rev().take_while(|&&c| c == b'\\').count()
}

/// Runs the row decoder over `seg` (`[…]`, whose contents start at body offset `base`).
fn decode_rows(
    rows: &mut RowDecoder<'_>,
    seg: &[u8],
    base: u64,
    must_hold_a_row: bool,
) -> Result<(), DecodeError> {
    let seg = std::str::from_utf8(seg).map_err(|e| utf8_error(base, &e))?;
    decode_text(rows, seg, base, must_hold_a_row)
}

// UTF-8 is checked over the whole segment, as the buffered decoder's `RawValue` of `results`
// checks it: serde skips unknown keys' values without looking at their bytes.
fn utf8_error(base: u64, e: &std::str::Utf8Error) -> DecodeError {
    DecodeError::Malformed {
        offset: (base as usize + e.valid_up_to()).saturating_sub(1),
        message: format!("invalid UTF-8 in results: {e}"),
    }
}

/// Sends a segment (`[…]`, contents at body offset `base`) to the rows thread, checked for
/// UTF-8 here so that the check runs beside the decoding.
fn forward(f: &Forward, seg: Vec<u8>, base: u64, must_hold_a_row: bool) -> Result<(), DecodeError> {
    let text = if simdutf8::basic::from_utf8(&seg).is_ok() {
        // SAFETY: `simdutf8` has just checked that `seg` is valid UTF-8 (it is several times
        // faster than the standard check, which runs only to describe an invalid segment).
        Ok(unsafe { String::from_utf8_unchecked(seg) })
    } else {
        String::from_utf8(seg).map_err(|e| utf8_error(base, &e.utf8_error()))
    };
    f.tx.send(Piece::Segment { text, base, must_hold_a_row }).map_err(|_| stopped())
}

/// A buffer for a segment: room for the segment and the row that ends it, so that filling it
/// does not reallocate (and copy) on the way.
fn fresh_segment(segment_bytes: usize) -> Vec<u8> {
    Vec::with_capacity(segment_bytes.min(SEGMENT_BYTES) + (64 << 10))
}

/// The rows thread went away (it failed, and says why).
fn stopped() -> DecodeError {
    DecodeError::Arrow(ArrowError::ExternalError("the row decoder stopped".into()))
}

/// Runs the row decoder over `seg` (`[…]`, valid UTF-8, whose contents start at body offset
/// `base`).
pub(super) fn decode_text(
    rows: &mut RowDecoder<'_>,
    seg: &str,
    base: u64,
    must_hold_a_row: bool,
) -> Result<(), DecodeError> {
    let before = rows.rows;
    let mut de = serde_json::Deserializer::from_str(seg);
    let outcome = RowsSeed(rows).deserialize(&mut de).and_then(|()| de.end());
    if let Some(e) = rows.arrow_error.take() {
        return Err(DecodeError::Arrow(e));
    }
    // The `[` in front is not in the body.
    outcome.map_err(|e| malformed(seg.as_bytes(), (base as usize).saturating_sub(1), &e))?;
    if must_hold_a_row && rows.rows == before {
        return Err(DecodeError::Malformed {
            offset: base as usize,
            message: "expected a row between commas in results".to_owned(),
        });
    }
    Ok(())
}
