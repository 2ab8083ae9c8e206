//! Column buffers: one growable buffer per response column, filled cell by cell and turned
//! into an Arrow array per record batch. Unlike Arrow's builders they can drop their last value,
//! which is how a key repeated within a row ends up with its last value.

use super::datetime::parse_timestamp_nanos;
use super::types::ServiceType;
use arrow_array::builder::{BooleanBufferBuilder, NullBufferBuilder, OffsetBufferBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampNanosecondArray,
};
use arrow_schema::ArrowError;
use serde::Deserializer;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;

/// Values of a fixed-width column plus validity.
#[derive(Debug)]
pub(crate) struct Prim<T> {
    values: Vec<T>,
    nulls: NullBufferBuilder,
}

impl<T: Default + Copy> Prim<T> {
    fn new(capacity: usize) -> Self {
        Prim { values: Vec::with_capacity(capacity), nulls: NullBufferBuilder::new(capacity) }
    }

    fn push(&mut self, v: T) {
        self.values.push(v);
        self.nulls.append_non_null();
    }

    fn push_null(&mut self) {
        self.values.push(T::default());
        self.nulls.append_null();
    }

    fn pop(&mut self) {
        if self.values.pop().is_some() {
            self.nulls.truncate(self.values.len());
        }
    }

    /// The values so far; the buffer starts over with the same capacity. Take the validity
    /// with `nulls.finish()` alongside.
    fn take_values(&mut self) -> Vec<T> {
        let cap = self.values.capacity();
        std::mem::replace(&mut self.values, Vec::with_capacity(cap))
    }
}

/// UTF-8 text (plain or JSON) plus validity.
#[derive(Debug)]
pub(crate) struct Text {
    /// End offset of every value so far (the start of the first is 0).
    ends: Vec<usize>,
    data: Vec<u8>,
    nulls: NullBufferBuilder,
}

/// What a raw JSON value turned out to be when stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawKind {
    Null,
    String,
    Other,
}

impl Text {
    fn new(capacity: usize) -> Self {
        Text {
            ends: Vec::with_capacity(capacity),
            data: Vec::new(),
            nulls: NullBufferBuilder::new(capacity),
        }
    }

    fn close_value(&mut self) {
        self.ends.push(self.data.len());
        self.nulls.append_non_null();
    }

    fn push_null(&mut self) {
        self.ends.push(self.data.len());
        self.nulls.append_null();
    }

    fn pop(&mut self) {
        if self.ends.pop().is_some() {
            self.data.truncate(self.ends.last().copied().unwrap_or(0));
            self.nulls.truncate(self.ends.len());
        }
    }

    /// Stores a raw JSON value: `null` as null, a string as its contents (unescaped), anything
    /// else as its JSON text exactly as sent.
    fn push_raw(&mut self, raw: &str) -> RawKind {
        let b = raw.as_bytes();
        if raw == "null" {
            self.push_null();
            RawKind::Null
        } else if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
            unescape_into(&raw[1..raw.len() - 1], &mut self.data);
            self.close_value();
            RawKind::String
        } else {
            self.data.extend_from_slice(b);
            self.close_value();
            RawKind::Other
        }
    }

    fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        let mut offsets = OffsetBufferBuilder::<i32>::new(self.ends.len());
        let mut start = 0;
        for &end in &self.ends {
            offsets.try_push_length(end - start).map_err(|_| {
                ArrowError::ComputeError("text column exceeds 2 GiB in one batch".into())
            })?;
            start = end;
        }
        let data = std::mem::take(&mut self.data);
        self.data.reserve(data.len());
        self.ends.clear();
        let (offsets, nulls) = (offsets.finish(), self.nulls.finish());
        // Debug builds (every test) check what release builds rely on.
        #[cfg(debug_assertions)]
        let array = StringArray::try_new(offsets, data.into(), nulls)?;
        // SAFETY: the offsets only grow (they are the running sum of lengths, checked above to
        // fit i32), and `data` is valid UTF-8: it is made only of whole `&str` slices (cut at
        // ASCII backslashes) and encoded `char`s, see `push_raw` and `unescape_into`. Arrow's
        // own check of the same was 3% of an answer's CPU time.
        #[cfg(not(debug_assertions))]
        let array = unsafe { StringArray::new_unchecked(offsets, data.into(), nulls) };
        Ok(Arc::new(array))
    }
}

/// Appends the contents of a JSON string literal (without its quotes) to `out`, unescaped.
/// Lone surrogates become U+FFFD; a malformed escape (which the parser already rejects) is copied
/// as is rather than panicking.
pub(crate) fn unescape_into(s: &str, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\\', &b[i..]) {
        let j = i + p;
        out.extend_from_slice(&b[i..j]);
        let simple = match b.get(j + 1) {
            Some(b'"') => Some(b'"'),
            Some(b'\\') => Some(b'\\'),
            Some(b'/') => Some(b'/'),
            Some(b'b') => Some(0x08),
            Some(b'f') => Some(0x0c),
            Some(b'n') => Some(b'\n'),
            Some(b'r') => Some(b'\r'),
            Some(b't') => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i = j + 2;
            continue;
        }
        if b.get(j + 1) == Some(&b'u')
            && let Some(u) = hex4(b, j + 2)
        {
            let mut next = j + 6;
            let c = if (0xD800..0xDC00).contains(&u) {
                match (b.get(next), b.get(next + 1), hex4(b, next + 2)) {
                    (Some(b'\\'), Some(b'u'), Some(lo)) if (0xDC00..0xE000).contains(&lo) => {
                        next += 6;
                        char::from_u32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00))
                    }
                    _ => None,
                }
            } else {
                char::from_u32(u)
            };
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            i = next;
            continue;
        }
        // Not a valid escape: keep the backslash literally.
        out.push(b'\\');
        i = j + 1;
    }
    out.extend_from_slice(&b[i..]);
}

/// Four hex digits at `at`, if present.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    let mut v = 0u32;
    for &c in s {
        v = v * 16 + (c as char).to_digit(16)?;
    }
    Some(v)
}

/// One column's buffer, by kind.
#[derive(Debug)]
pub(crate) enum ColBuf {
    /// `String`, `Guid`, `TimeSpan`, `Decimal`.
    Text(Text),
    /// Dynamic and unknown: JSON text.
    Json(Text),
    /// Nanoseconds since the epoch.
    DateTime(Prim<i64>),
    Int64(Prim<i64>),
    Int32(Prim<i32>),
    Double(Prim<f64>),
    Boolean(Prim<bool>),
}

impl ColBuf {
    pub(crate) fn new(ty: ServiceType, capacity: usize) -> Self {
        match ty {
            ServiceType::Text => ColBuf::Text(Text::new(capacity)),
            ServiceType::Json => ColBuf::Json(Text::new(capacity)),
            ServiceType::DateTime => ColBuf::DateTime(Prim::new(capacity)),
            ServiceType::Int64 => ColBuf::Int64(Prim::new(capacity)),
            ServiceType::Int32 => ColBuf::Int32(Prim::new(capacity)),
            ServiceType::Double => ColBuf::Double(Prim::new(capacity)),
            ServiceType::Boolean => ColBuf::Boolean(Prim::new(capacity)),
        }
    }

    pub(crate) fn push_null(&mut self) {
        match self {
            ColBuf::Text(t) | ColBuf::Json(t) => t.push_null(),
            ColBuf::DateTime(p) | ColBuf::Int64(p) => p.push_null(),
            ColBuf::Int32(p) => p.push_null(),
            ColBuf::Double(p) => p.push_null(),
            ColBuf::Boolean(p) => p.push_null(),
        }
    }

    /// Drops the last value (a repeated key in a row replaces the earlier value).
    pub(crate) fn pop(&mut self) {
        match self {
            ColBuf::Text(t) | ColBuf::Json(t) => t.pop(),
            ColBuf::DateTime(p) | ColBuf::Int64(p) => p.pop(),
            ColBuf::Int32(p) => p.pop(),
            ColBuf::Double(p) => p.pop(),
            ColBuf::Boolean(p) => p.pop(),
        }
    }

    /// Reads one cell from `d` and appends it; returns whether it did not fit the type.
    pub(crate) fn push_cell<'de, D: Deserializer<'de>>(&mut self, d: D) -> Result<bool, D::Error> {
        match self {
            ColBuf::Text(t) => {
                let raw = <&RawValue as de::Deserialize>::deserialize(d)?;
                Ok(t.push_raw(raw.get()) == RawKind::Other)
            }
            ColBuf::Json(t) => {
                let raw = <&RawValue as de::Deserialize>::deserialize(d)?;
                t.push_raw(raw.get());
                Ok(false)
            }
            ColBuf::DateTime(p) => store(p, d, to_timestamp),
            ColBuf::Int64(p) => store(p, d, to_i64),
            ColBuf::Int32(p) => store(p, d, |s| to_i64(s).and_then(|v| i32::try_from(v).ok())),
            ColBuf::Double(p) => store(p, d, to_f64),
            ColBuf::Boolean(p) => store(p, d, to_bool),
        }
    }

    /// Turns the values so far into an array and starts over.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        Ok(match self {
            ColBuf::Text(t) | ColBuf::Json(t) => t.finish()?,
            ColBuf::DateTime(p) => {
                let (v, nulls) = (p.take_values(), p.nulls.finish());
                Arc::new(TimestampNanosecondArray::new(v.into(), nulls).with_timezone("UTC"))
            }
            ColBuf::Int64(p) => {
                let (v, nulls) = (p.take_values(), p.nulls.finish());
                Arc::new(Int64Array::new(v.into(), nulls))
            }
            ColBuf::Int32(p) => {
                let (v, nulls) = (p.take_values(), p.nulls.finish());
                Arc::new(Int32Array::new(v.into(), nulls))
            }
            ColBuf::Double(p) => {
                let (v, nulls) = (p.take_values(), p.nulls.finish());
                Arc::new(Float64Array::new(v.into(), nulls))
            }
            ColBuf::Boolean(p) => {
                let (v, nulls) = (p.take_values(), p.nulls.finish());
                let mut bits = BooleanBufferBuilder::new(v.len());
                bits.append_slice(&v);
                Arc::new(BooleanArray::new(bits.finish(), nulls))
            }
        })
    }
}

/// Reads one cell with `f` into `p`; returns whether it was a mismatch (non-null, not convertible).
fn store<'de, D, T, F>(p: &mut Prim<T>, d: D, f: F) -> Result<bool, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Copy,
    F: Fn(&Scalar<'_>) -> Option<T>,
{
    Ok(match d.deserialize_any(Conv(f))? {
        Outcome::Null => {
            p.push_null();
            false
        }
        Outcome::Value(v) => {
            p.push(v);
            false
        }
        Outcome::Mismatch => {
            p.push_null();
            true
        }
    })
}

/// A JSON value as far as a non-text column cares.
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(&'a str),
}

/// What became of one non-text cell.
enum Outcome<T> {
    Null,
    Value(T),
    Mismatch,
}

/// Lowest `f64` that converts to `i64` exactly, and the first one above `i64::MAX`.
const I64_MIN_F: f64 = -9_223_372_036_854_775_808.0;
const I64_END_F: f64 = 9_223_372_036_854_775_808.0;

/// An integral `f64` as `i64`, when it fits.
fn f64_to_i64(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (I64_MIN_F..I64_END_F).contains(&f)).then_some(f as i64)
}

/// Int64 cells: integers, integral floats, and integers sent as strings (`"123"`, `"1e3"`).
fn to_i64(s: &Scalar<'_>) -> Option<i64> {
    match *s {
        Scalar::I64(v) => Some(v),
        Scalar::U64(v) => i64::try_from(v).ok(),
        Scalar::F64(f) => f64_to_i64(f),
        Scalar::Str(t) => {
            let t = t.trim();
            t.parse::<i64>().ok().or_else(|| {
                // Only decimal number text may take the float route (not "inf" or "NaN").
                let numeric =
                    !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit() || b".-+eE".contains(&c));
                numeric.then(|| t.parse::<f64>().ok().and_then(f64_to_i64)).flatten()
            })
        }
        Scalar::Bool(_) => None,
    }
}

/// Double cells: numbers, and strings such as `"NaN"`, `"Infinity"`, `"-Infinity"`, `"1.5"`.
fn to_f64(s: &Scalar<'_>) -> Option<f64> {
    match *s {
        Scalar::I64(v) => Some(v as f64),
        Scalar::U64(v) => Some(v as f64),
        Scalar::F64(f) => Some(f),
        Scalar::Str(t) => t.trim().parse::<f64>().ok(),
        Scalar::Bool(_) => None,
    }
}

/// Boolean cells: `true`/`false`, `0`/`1`, and those as strings (case-insensitive).
fn to_bool(s: &Scalar<'_>) -> Option<bool> {
    match *s {
        Scalar::Bool(b) => Some(b),
        Scalar::I64(0) | Scalar::U64(0) => Some(false),
        Scalar::U64(1) => Some(true),
        Scalar::F64(0.0) => Some(false),
        Scalar::F64(1.0) => Some(true),
        Scalar::Str(t) => {
            let t = t.trim();
            if t.eq_ignore_ascii_case("true") || t == "1" {
                Some(true)
            } else if t.eq_ignore_ascii_case("false") || t == "0" {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// DateTime cells: strings in the forms [`parse_timestamp_nanos`] reads.
fn to_timestamp(s: &Scalar<'_>) -> Option<i64> {
    match *s {
        Scalar::Str(t) => parse_timestamp_nanos(t),
        _ => None,
    }
}

/// Converts whatever JSON value comes with `F`, without allocating: strings that needed
/// unescaping are converted while still borrowed from the parser's scratch buffer; objects and
/// arrays are skipped and count as mismatches.
struct Conv<F>(F);

impl<F> Conv<F> {
    fn apply<T>(&self, s: Scalar<'_>) -> Outcome<T>
    where
        F: Fn(&Scalar<'_>) -> Option<T>,
    {
        match (self.0)(&s) {
            Some(v) => Outcome::Value(v),
            None => Outcome::Mismatch,
        }
    }
}

impl<'de, T, F: Fn(&Scalar<'_>) -> Option<T>> Visitor<'de> for Conv<F> {
    type Value = Outcome<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Outcome::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Outcome::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.apply(Scalar::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.apply(Scalar::I64(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.apply(Scalar::U64(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.apply(Scalar::F64(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.apply(Scalar::Str(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Outcome::Mismatch)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Outcome::Mismatch)
    }
}

/// Reads one cell into a column: the seed handed to `MapAccess::next_value_seed`.
pub(crate) struct CellSeed<'a>(pub(crate) &'a mut ColBuf);

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    /// Whether the cell did not fit the column's type.
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        self.0.push_cell(d)
    }
}
