//! Time windows: the half-open `[start, end)` spans hunt asks the service for, the ISO 8601
//! `timespan` forms users type (`P7D`, `PT6H`, `START/END`, `START/P1D`, `P1D/END`), the short
//! durations of query front matter (`1h`, `15m`, `2d`), and the explicit `START/END` text sent
//! to Graph.
//!
//! All arithmetic is on UTC instants, so there is no daylight-saving ambiguity: `P1D` is always
//! exactly 24 hours. Months and years have no fixed length and are refused (use days).

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};

/// A half-open window of event time, `[start, end)`, in UTC with nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// A timespan or duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct TimespanError {
    /// "timespan" or "duration".
    pub what: &'static str,
    /// The text as given.
    pub input: String,
    /// Why it was refused, with the expected forms.
    pub reason: String,
}

/// The `--timespan` forms, for error messages and help text.
pub const TIMESPAN_FORMS: &str = "accepted forms: a duration ending now (P7D, PT6H, P1DT6H, P1W, \
     or short 7d, 6h), START/END, START/P1D, P1D/END, or START alone (ending now); \
     datetimes in UTC such as 2026-11-22T10:00:00Z, 2026-11-22T10:00:00.1234567+00:00 or 2026-11-22";

/// The duration forms, for error messages and help text.
pub const DURATION_FORMS: &str = "accepted forms: 90s, 15m, 1h, 2d, 1w, 500ms, combinations \
     such as 1h30m or 1d12h, or ISO 8601 PT1H, P1D, P1DT6H, PT90S, P1W";

/// Nanoseconds in one service tick (the service's precision is 100 ns).
const TICK_NANOS: u32 = 100;

fn timespan_err(input: &str, reason: impl Into<String>) -> TimespanError {
    TimespanError {
        what: "timespan",
        input: input.to_string(),
        reason: format!("{}; {TIMESPAN_FORMS}", reason.into()),
    }
}

fn duration_err(input: &str, reason: impl Into<String>) -> TimespanError {
    TimespanError {
        what: "duration",
        input: input.to_string(),
        reason: format!("{}; {DURATION_FORMS}", reason.into()),
    }
}

fn datetime_err(input: &str, reason: impl Into<String>) -> TimespanError {
    TimespanError {
        what: "datetime",
        input: input.to_string(),
        reason: format!(
            "{}; expected RFC 3339 / ISO 8601 such as 2026-11-22T10:00:00Z, \
             2026-11-22T10:00:00.1234567+00:00, 20261122T100000Z or a date 2026-11-22 (midnight UTC)",
            reason.into()
        ),
    }
}

impl Window {
    /// Parses the forms the service accepts, relative to `now` where a form needs it.
    ///
    /// * a duration, ending at `now`: `P7D`, `PT6H`, `P1DT6H`, `P1W` (and the short forms of
    ///   [`parse_duration`], e.g. `7d`);
    /// * `START/END`, `START/DURATION`, `DURATION/END`;
    /// * `START` alone: from `START` to `now`.
    ///
    /// Datetimes are RFC 3339 / ISO 8601 (see [`parse_datetime`]). The window must not be empty.
    pub fn parse(spec: &str, now: DateTime<Utc>) -> Result<Window, TimespanError> {
        let s = spec.trim();
        if s.is_empty() {
            return Err(timespan_err(spec, "it is empty"));
        }
        let window = if let Some((left, right)) = s.split_once('/') {
            if right.contains('/') {
                return Err(timespan_err(spec, "it has more than one '/'"));
            }
            let (left, right) = (left.trim(), right.trim());
            if left.is_empty() || right.is_empty() {
                return Err(timespan_err(spec, "one side of '/' is empty"));
            }
            match (looks_like_duration(left), looks_like_duration(right)) {
                (true, true) => {
                    return Err(timespan_err(
                        spec,
                        "both sides are durations; one side must be a datetime",
                    ));
                }
                (false, false) => {
                    let start = parse_datetime(left).map_err(|e| timespan_err(spec, e.reason))?;
                    let end = parse_datetime(right).map_err(|e| timespan_err(spec, e.reason))?;
                    Window { start, end }
                }
                (false, true) => {
                    let start = parse_datetime(left).map_err(|e| timespan_err(spec, e.reason))?;
                    let len = parse_duration(right).map_err(|e| timespan_err(spec, e.reason))?;
                    let end = start
                        .checked_add_signed(len)
                        .ok_or_else(|| timespan_err(spec, "the end is out of range"))?;
                    Window { start, end }
                }
                (true, false) => {
                    let len = parse_duration(left).map_err(|e| timespan_err(spec, e.reason))?;
                    let end = parse_datetime(right).map_err(|e| timespan_err(spec, e.reason))?;
                    let start = end
                        .checked_sub_signed(len)
                        .ok_or_else(|| timespan_err(spec, "the start is out of range"))?;
                    Window { start, end }
                }
            }
        } else if looks_like_duration(s) {
            let len = parse_duration(s).map_err(|e| timespan_err(spec, e.reason))?;
            let start = now
                .checked_sub_signed(len)
                .ok_or_else(|| timespan_err(spec, "the start is out of range"))?;
            Window { start, end: now }
        } else {
            let start = parse_datetime(s).map_err(|e| timespan_err(spec, e.reason))?;
            if start >= now {
                return Err(timespan_err(
                    spec,
                    format!(
                        "a start alone means START/now, but it is not before now ({})",
                        format_datetime(now)
                    ),
                ));
            }
            Window { start, end: now }
        };
        if window.end <= window.start {
            return Err(timespan_err(
                spec,
                format!(
                    "the end ({}) is not after the start ({})",
                    format_datetime(window.end),
                    format_datetime(window.start)
                ),
            ));
        }
        Ok(window)
    }

    /// The window `[start, end)`, refused when empty or reversed.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Window, TimespanError> {
        if end <= start {
            return Err(TimespanError {
                what: "timespan",
                input: format!("{}/{}", format_datetime(start), format_datetime(end)),
                reason: "the end is not after the start".to_string(),
            });
        }
        Ok(Window { start, end })
    }

    /// The window ending at `now` and `len` long.
    pub fn ending_at(now: DateTime<Utc>, len: Duration) -> Window {
        Window { start: now - len, end: now }
    }

    /// `end - start`.
    pub fn len(&self) -> Duration {
        self.end - self.start
    }

    /// True when the window holds no instant (`end <= start`); never true for parsed windows.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// True when `t` is in `[start, end)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// `START/END` as sent to Graph: RFC 3339 UTC with 7 fractional digits and `Z`, e.g.
    /// `2026-11-22T10:00:00.0000000Z/2026-11-22T11:00:00.0000000Z`.
    ///
    /// The service's precision is 100 ns; windows hunt builds are always on whole ticks. Any
    /// sub-tick nanoseconds are truncated (both bounds), never rounded.
    pub fn to_graph(&self) -> String {
        format!("{}/{}", graph_datetime(self.start), graph_datetime(self.end))
    }

    /// A compact form safe in file names: `20261122T100000Z_20261122T110000Z`. A bound with
    /// sub-second parts gets them, trailing zeros trimmed (`20261122T100000.5Z`), so distinct
    /// windows never share a stem. Only `[0-9TZ._]` appear.
    pub fn file_stem(&self) -> String {
        format!("{}_{}", stem_datetime(self.start), stem_datetime(self.end))
    }
}

impl std::fmt::Display for Window {
    /// `START/END` in RFC 3339 with as many fractional digits as needed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", format_datetime(self.start), format_datetime(self.end))
    }
}

/// One instant as Graph writes it: RFC 3339 UTC with exactly 7 fractional digits (100 ns).
pub fn graph_datetime(t: DateTime<Utc>) -> String {
    let ticks = t.nanosecond() % 1_000_000_000 / TICK_NANOS;
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), ticks)
}

fn stem_datetime(t: DateTime<Utc>) -> String {
    format!("{}{}Z", t.format("%Y%m%dT%H%M%S"), fraction(t))
}

/// `.5`, `.1234567`, or empty for whole seconds (leap-second nanos folded in).
fn fraction(t: DateTime<Utc>) -> String {
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos == 0 {
        return String::new();
    }
    let digits = format!("{nanos:09}");
    format!(".{}", digits.trim_end_matches('0'))
}

/// RFC 3339 in UTC with `Z` and only the fractional digits needed: `2026-11-22T10:00:00Z`,
/// `2026-11-22T10:00:00.5Z`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    format!("{}{}Z", t.format("%Y-%m-%dT%H:%M:%S"), fraction(t))
}

/// Parses one datetime: RFC 3339 / ISO 8601 extended (`2026-11-22T10:00:00Z`,
/// `2026-11-22T10:00:00.123456789+02:00`, `2026-11-22 10:00Z`), basic (`20261122T100000Z`,
/// the form of [`Window::file_stem`]), or a bare date `2026-11-22` (midnight UTC). Offsets other
/// than UTC are converted to UTC; a datetime without an offset is taken as UTC (as Kusto does).
/// Up to 9 fractional digits.
pub fn parse_datetime(s: &str) -> Result<DateTime<Utc>, TimespanError> {
    let input = s;
    let s = s.trim();
    if s.is_empty() {
        return Err(datetime_err(input, "it is empty"));
    }
    if !s.is_ascii() {
        return Err(datetime_err(input, "it has non-ASCII characters"));
    }
    let b = s.as_bytes();
    // Date: YYYY-MM-DD or YYYYMMDD.
    let (y, m, d, rest) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        (num(&s[0..4]), num(&s[5..7]), num(&s[8..10]), &s[10..])
    } else if b.len() >= 8 && b[..8].iter().all(u8::is_ascii_digit) {
        (num(&s[0..4]), num(&s[4..6]), num(&s[6..8]), &s[8..])
    } else {
        return Err(datetime_err(input, "it does not start with a date YYYY-MM-DD"));
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(datetime_err(input, "the date is not YYYY-MM-DD"));
    };
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)
        .ok_or_else(|| datetime_err(input, "no such date"))?;
    if rest.is_empty() {
        return Ok(date.and_time(NaiveTime::MIN).and_utc());
    }
    let rest = match rest.as_bytes()[0] {
        b'T' | b't' | b' ' => &rest[1..],
        _ => return Err(datetime_err(input, "expected 'T' between date and time")),
    };
    // Time: HH:MM[:SS[.frac]] or HHMM[SS[.frac]].
    let rb = rest.as_bytes();
    let digits_at = |i: usize| rb.len() >= i + 2 && rb[i..i + 2].iter().all(u8::is_ascii_digit);
    if !digits_at(0) {
        return Err(datetime_err(input, "expected the hour as two digits"));
    }
    let hour = num(&rest[0..2]).unwrap_or(99);
    let mut i = 2;
    let extended = rb.get(i) == Some(&b':');
    if extended {
        i += 1;
    }
    if !digits_at(i) {
        return Err(datetime_err(input, "expected the minutes as two digits"));
    }
    let minute = num(&rest[i..i + 2]).unwrap_or(99);
    i += 2;
    let mut second = 0;
    let has_seconds = if extended { rb.get(i) == Some(&b':') } else { digits_at(i) };
    if has_seconds {
        if extended {
            i += 1;
        }
        if !digits_at(i) {
            return Err(datetime_err(input, "expected the seconds as two digits"));
        }
        second = num(&rest[i..i + 2]).unwrap_or(99);
        i += 2;
    }
    let mut nanos = 0u32;
    if has_seconds && matches!(rb.get(i), Some(b'.') | Some(b',')) {
        i += 1;
        let start = i;
        while i < rb.len() && rb[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &rest[start..i];
        if frac.is_empty() {
            return Err(datetime_err(input, "expected digits after the decimal point"));
        }
        if frac.len() > 9 {
            return Err(datetime_err(
                input,
                "more than 9 fractional digits (nanoseconds are the finest precision)",
            ));
        }
        nanos = format!("{frac:0<9}").parse().unwrap_or(0);
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .filter(|_| second < 60)
        .ok_or_else(|| datetime_err(input, "no such time of day"))?;
    let naive = date.and_time(time);
    // Offset: Z, +HH:MM, +HHMM, +HH, or none (UTC).
    let off = &rest[i..];
    let offset_secs: i64 = match off {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match off.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => {
                    return Err(datetime_err(input, format!("unexpected {off:?} after the time")));
                }
            };
            let o = &off[1..];
            let (hh, mm) = match o.len() {
                2 => (num(o), Some(0)),
                4 => (num(&o[0..2]), num(&o[2..4])),
                5 if o.as_bytes()[2] == b':' => (num(&o[0..2]), num(&o[3..5])),
                _ => (None, None),
            };
            match (hh, mm) {
                (Some(h), Some(m)) if h < 24 && m < 60 => sign * (h as i64 * 3600 + m as i64 * 60),
                _ => {
                    return Err(datetime_err(
                        input,
                        format!("bad UTC offset {off:?}; use Z or +HH:MM"),
                    ));
                }
            }
        }
    };
    naive
        .and_utc()
        .checked_sub_signed(Duration::seconds(offset_secs))
        .ok_or_else(|| datetime_err(input, "out of range"))
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A side of a timespan is a duration when it starts with `P` (ISO) or a digit and is not a
/// date (short forms: `7d`).
fn looks_like_duration(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(b'P' | b'p' | b'-' | b'+') => true,
        Some(c) if c.is_ascii_digit() => {
            // Dates start with 4 digits then '-' or are 8 digits; short durations have a unit
            // letter before that.
            let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
            lead < b.len() && b[lead].is_ascii_alphabetic() && !(lead >= 8 && b[lead] == b'T')
        }
        _ => false,
    }
}

/// Parses a duration: short forms `90s`, `15m`, `1h`, `2d`, `1w` (and combinations such as
/// `1h30m`; also `ms`, `us`, `ns`) or ISO 8601 `PT1H`, `P1D`, `P1DT6H`, `PT90S`, `P1W`,
/// `PT0.5S`. Zero, negative, months and years are refused.
pub fn parse_duration(s: &str) -> Result<Duration, TimespanError> {
    let d = parse_duration_allow_zero(s)?;
    if d.is_zero() {
        return Err(duration_err(s, "it is zero; a duration must be positive"));
    }
    Ok(d)
}

/// [`parse_duration`], but `0s`/`PT0S`/`0` are accepted (e.g. a `delay` of nothing).
pub fn parse_duration_allow_zero(s: &str) -> Result<Duration, TimespanError> {
    let input = s;
    let s = s.trim();
    if s.is_empty() {
        return Err(duration_err(input, "it is empty"));
    }
    if s.starts_with('-') {
        return Err(duration_err(input, "it is negative; a duration must be positive"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(Duration::zero());
    }
    if s.starts_with('P') || s.starts_with('p') {
        parse_iso_duration(input, &s[1..])
    } else {
        parse_short_duration(input, s)
    }
}

fn checked_total(input: &str, parts: &[(u64, i64)], nanos: u64) -> Result<Duration, TimespanError> {
    // Sum in nanoseconds as i128 to detect overflow, then build a Duration.
    let mut total: i128 = nanos as i128;
    for &(n, unit_nanos) in parts {
        total += n as i128 * unit_nanos as i128;
    }
    let secs = total / 1_000_000_000;
    let sub = (total % 1_000_000_000) as u32;
    i64::try_from(secs)
        .ok()
        .and_then(|secs| Duration::new(secs, sub))
        // Keep well inside DateTime arithmetic: at most 100,000 years.
        .filter(|d| d.num_days() <= 36_524_250)
        .ok_or_else(|| duration_err(input, "it is too long"))
}

const NS: i64 = 1;
const US: i64 = 1_000;
const MS: i64 = 1_000_000;
const SEC: i64 = 1_000_000_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;

fn parse_short_duration(input: &str, s: &str) -> Result<Duration, TimespanError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut parts = Vec::new();
    let mut last_unit = i64::MAX;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(duration_err(input, format!("expected a number at {:?}", &s[start..])));
        }
        let digits = &s[start..i];
        if b.get(i) == Some(&b'.') {
            return Err(duration_err(
                input,
                "fractions are not accepted in short forms; combine units instead (1h30m, not 1.5h)",
            ));
        }
        let ustart = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[ustart..i];
        let unit_nanos = match unit {
            "w" => WEEK,
            "d" => DAY,
            "h" => HOUR,
            "m" => MIN,
            "s" => SEC,
            "ms" => MS,
            "us" | "µs" => US,
            "ns" => NS,
            "" => {
                return Err(duration_err(
                    input,
                    format!("{digits:?} has no unit (s, m, h, d, w, ms)"),
                ));
            }
            "M" | "mo" | "mon" | "month" | "months" | "y" | "Y" | "yr" | "year" | "years" => {
                return Err(duration_err(
                    input,
                    "months and years have no fixed length; use days (30d, 365d)",
                ));
            }
            other => {
                return Err(duration_err(
                    input,
                    format!("unknown unit {other:?} (use s, m, h, d, w or ms; lowercase)"),
                ));
            }
        };
        if unit_nanos >= last_unit {
            return Err(duration_err(
                input,
                "units must go from largest to smallest, each at most once (1d12h, not 12h1d)",
            ));
        }
        last_unit = unit_nanos;
        let n: u64 = digits.parse().map_err(|_| duration_err(input, "the number is too large"))?;
        parts.push((n, unit_nanos));
    }
    checked_total(input, &parts, 0)
}

fn parse_iso_duration(input: &str, body: &str) -> Result<Duration, TimespanError> {
    if body.is_empty() {
        return Err(duration_err(input, "nothing follows 'P'"));
    }
    let mut parts = Vec::new();
    let mut frac_nanos: u64 = 0;
    let mut in_time = false;
    let mut saw_t_part = false;
    let mut last_rank = 0u8; // ordering of designators
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'T' || b[i] == b't' {
            if in_time {
                return Err(duration_err(input, "'T' appears twice"));
            }
            in_time = true;
            i += 1;
            if i == b.len() {
                return Err(duration_err(input, "nothing follows 'T'"));
            }
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &body[start..i];
        let mut frac: Option<&str> = None;
        if i < b.len() && (b[i] == b'.' || b[i] == b',') {
            i += 1;
            let fs = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac = Some(&body[fs..i]);
        }
        if int_part.is_empty() {
            return Err(duration_err(input, format!("expected a number at {:?}", &body[start..])));
        }
        let Some(&designator) = b.get(i) else {
            return Err(duration_err(
                input,
                format!("{int_part:?} has no unit designator (W, D, H, M, S)"),
            ));
        };
        i += 1;
        let d = designator.to_ascii_uppercase();
        let (rank, unit_nanos) = match (in_time, d) {
            (false, b'Y') | (false, b'M') => {
                return Err(duration_err(
                    input,
                    "months and years have no fixed length; use days (P30D, P365D)",
                ));
            }
            (false, b'W') => (1, WEEK),
            (false, b'D') => (2, DAY),
            (true, b'H') => (3, HOUR),
            (true, b'M') => (4, MIN),
            (true, b'S') => (5, SEC),
            (false, b'H' | b'S') => {
                return Err(duration_err(
                    input,
                    "hours, minutes and seconds go after 'T' (PT6H, P1DT6H)",
                ));
            }
            (true, b'D' | b'W') => {
                return Err(duration_err(input, "days and weeks go before 'T' (P1DT6H)"));
            }
            _ => {
                return Err(duration_err(
                    input,
                    format!("unknown unit designator {:?}", designator as char),
                ));
            }
        };
        if rank <= last_rank {
            return Err(duration_err(
                input,
                "designators must go from largest to smallest, each at most once",
            ));
        }
        last_rank = rank;
        if in_time {
            saw_t_part = true;
        }
        let n: u64 =
            int_part.parse().map_err(|_| duration_err(input, "the number is too large"))?;
        parts.push((n, unit_nanos));
        if let Some(f) = frac {
            if d != b'S' || i != b.len() {
                return Err(duration_err(
                    input,
                    "only the seconds, as the last part, may have a fraction (PT0.5S)",
                ));
            }
            if f.is_empty() || f.len() > 9 {
                return Err(duration_err(input, "the fraction must have 1 to 9 digits"));
            }
            frac_nanos = format!("{f:0<9}").parse().unwrap_or(0);
        }
    }
    if in_time && !saw_t_part {
        return Err(duration_err(input, "nothing follows 'T'"));
    }
    checked_total(input, &parts, frac_nanos)
}

/// Renders a duration compactly in the short form [`parse_duration`] reads: `1h30m`, `2d`,
/// `90s` → `1m30s`, `500ms`; zero is `0s`; negative durations get a leading `-`.
pub fn format_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_string();
    }
    let neg = d < Duration::zero();
    // i128 nanoseconds: every chrono Duration fits.
    let secs = d.num_seconds() as i128;
    let sub = d.subsec_nanos() as i128;
    let mut total = (secs * SEC as i128 + sub).unsigned_abs();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    for (unit, name) in
        [(DAY, "d"), (HOUR, "h"), (MIN, "m"), (SEC, "s"), (MS, "ms"), (US, "us"), (NS, "ns")]
    {
        let unit = unit as u128;
        let n = total / unit;
        if n > 0 {
            out.push_str(&format!("{n}{name}"));
            total %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn now() -> DateTime<Utc> {
        t(2026, 11, 22, 12, 0, 0)
    }

    fn w(spec: &str) -> Window {
        Window::parse(spec, now()).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn err(spec: &str) -> String {
        match Window::parse(spec, now()) {
            Ok(w) => panic!("{spec:?} parsed as {w:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn durations_ending_now() {
        assert_eq!(w("P7D"), Window { start: t(2026, 11, 15, 12, 0, 0), end: now() });
        assert_eq!(w("PT6H"), Window { start: t(2026, 11, 22, 6, 0, 0), end: now() });
        assert_eq!(w("P1DT6H"), Window { start: t(2026, 11, 21, 6, 0, 0), end: now() });
        assert_eq!(w("P1W"), Window { start: t(2026, 11, 15, 12, 0, 0), end: now() });
        assert_eq!(w("PT30M"), Window { start: t(2026, 11, 22, 11, 30, 0), end: now() });
        assert_eq!(w("  p1d "), Window { start: t(2026, 11, 21, 12, 0, 0), end: now() });
        assert_eq!(w("7d"), w("P7D"));
        assert_eq!(w("1h30m"), w("PT1H30M"));
    }

    #[test]
    fn start_end_forms() {
        let x = w("2026-11-22T10:00:00Z/2026-11-22T11:00:00Z");
        assert_eq!(x, Window { start: t(2026, 11, 22, 10, 0, 0), end: t(2026, 11, 22, 11, 0, 0) });
        assert_eq!(w("2026-11-22T10:00:00Z/PT1H"), x);
        assert_eq!(w("PT1H/2026-11-22T11:00:00Z"), x);
        assert_eq!(w("2026-11-22T10:00:00+00:00/2026-11-22T11:00:00+00:00"), x);
        assert_eq!(w("2026-11-22T11:00:00+01:00/2026-11-22T12:00:00+01:00"), x);
        assert_eq!(w("2026-11-22T05:00:00-05:00/PT1H"), x);
        assert_eq!(w("20261122T100000Z/20261122T110000Z"), x);
        assert_eq!(
            w("2026-11-20/2026-11-22"),
            Window { start: t(2026, 11, 20, 0, 0, 0), end: t(2026, 11, 22, 0, 0, 0) }
        );
        assert_eq!(
            w("2026-11-20/P1D"),
            Window { start: t(2026, 11, 20, 0, 0, 0), end: t(2026, 11, 21, 0, 0, 0) }
        );
        assert_eq!(
            w("P1D/2026-11-20"),
            Window { start: t(2026, 11, 19, 0, 0, 0), end: t(2026, 11, 20, 0, 0, 0) }
        );
    }

    #[test]
    fn bare_start_ends_now() {
        assert_eq!(
            w("2026-11-22T10:00:00Z"),
            Window { start: t(2026, 11, 22, 10, 0, 0), end: now() }
        );
        assert_eq!(w("2026-11-20"), Window { start: t(2026, 11, 20, 0, 0, 0), end: now() });
        assert!(err("2026-11-23").contains("not before now"));
        assert!(err("2026-11-22T12:00:00Z").contains("not before now"));
    }

    #[test]
    fn fractional_seconds() {
        let x = w("2026-11-22T10:00:00.1234567Z/2026-11-22T10:00:01.123456789Z");
        assert_eq!(x.start.nanosecond(), 123_456_700);
        assert_eq!(x.end.nanosecond(), 123_456_789);
        assert_eq!(
            x.to_graph(),
            "2026-11-22T10:00:00.1234567Z/2026-11-22T10:00:01.1234567Z",
            "sub-tick nanos are truncated"
        );
        let comma = w("2026-11-22T10:00:00,5Z/PT1S");
        assert_eq!(comma.start.nanosecond(), 500_000_000);
        assert!(err("2026-11-22T10:00:00.1234567890Z/PT1H").contains("9 fractional digits"));
        assert!(err("2026-11-22T10:00:00.Z/PT1H").contains("digits after the decimal point"));
    }

    #[test]
    fn datetime_forms() {
        let x = t(2026, 11, 22, 10, 0, 0);
        for s in [
            "2026-11-22T10:00:00Z",
            "2026-11-22t10:00:00z",
            "2026-11-22 10:00:00Z",
            "2026-11-22T10:00Z",
            "2026-11-22T10:00:00",
            "2026-11-22T12:00:00+02:00",
            "2026-11-22T12:00:00+0200",
            "2026-11-22T12:00:00+02",
            "2026-11-22T00:30:00-09:30",
            "20261122T100000Z",
            "20261122T1000Z",
        ] {
            assert_eq!(parse_datetime(s).unwrap_or_else(|e| panic!("{s}: {e}")), x, "{s}");
        }
        // Offsets crossing midnight and a leap day.
        assert_eq!(parse_datetime("2028-03-01T01:00:00+02:00").unwrap(), t(2028, 2, 29, 23, 0, 0));
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:60:00Z",
            "2026-11-22T10:00:60Z",
            "2026-11-22T10:00:00+25:00",
            "2026-11-22T10:00:00 UTC",
            "2026-11-22X10:00:00Z",
            "22/11/2026",
            "yesterday",
            "2026-11-22T1:00:00Z",
        ] {
            let e = parse_datetime(bad).unwrap_err();
            assert!(e.reason.contains("2026-11-22T10:00:00Z"), "{bad}: {e}");
        }
    }

    #[test]
    fn refusals_name_input_and_forms() {
        for (spec, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("P1M", "use days"),
            ("P1Y", "use days"),
            ("1mo", "use days"),
            ("-P1D", "negative"),
            ("P0D", "zero"),
            ("PT0S", "zero"),
            ("P", "nothing follows"),
            ("PT", "nothing follows"),
            ("P1DT", "nothing follows"),
            ("P1H", "after 'T'"),
            ("PT1D", "before 'T'"),
            ("P1X", "unknown unit"),
            ("5q", "unknown unit"),
            ("banana", "date"),
            ("P1D/P2D", "both sides are durations"),
            ("2026-11-22/", "empty"),
            ("/P1D", "empty"),
            ("a/b/c", "more than one"),
            ("2026-11-22T11:00:00Z/2026-11-22T10:00:00Z", "not after the start"),
            ("2026-11-22T10:00:00Z/2026-11-22T10:00:00Z", "not after the start"),
            ("P99999999999999999999D", "too large"),
            ("P999999999D", "too long"),
        ] {
            let e = err(spec);
            assert!(e.contains(why), "{spec:?}: {e}");
            assert!(e.contains(&format!("{spec:?}")), "{spec:?}: names input: {e}");
            assert!(e.contains("START/END"), "{spec:?}: lists forms: {e}");
        }
    }

    #[test]
    fn graph_text() {
        let x = Window { start: t(2026, 11, 22, 10, 0, 0), end: t(2026, 11, 22, 11, 0, 0) };
        assert_eq!(x.to_graph(), "2026-11-22T10:00:00.0000000Z/2026-11-22T11:00:00.0000000Z");
        assert_eq!(x.to_string(), "2026-11-22T10:00:00Z/2026-11-22T11:00:00Z");
        // The Graph text parses back to the same window.
        assert_eq!(Window::parse(&x.to_graph(), now()).unwrap(), x);
        let odd = Window {
            start: t(2026, 11, 22, 10, 0, 0) + Duration::nanoseconds(100),
            end: t(2026, 11, 22, 10, 0, 0) + Duration::nanoseconds(1_000_000_199),
        };
        assert_eq!(odd.to_graph(), "2026-11-22T10:00:00.0000001Z/2026-11-22T10:00:01.0000001Z");
    }

    #[test]
    fn file_stems() {
        let x = Window { start: t(2026, 11, 22, 10, 0, 0), end: t(2026, 11, 22, 11, 0, 0) };
        assert_eq!(x.file_stem(), "20261122T100000Z_20261122T110000Z");
        let half = Window { start: x.start + Duration::milliseconds(500), end: x.end };
        assert_eq!(half.file_stem(), "20261122T100000.5Z_20261122T110000Z");
        let tick = Window { start: x.start, end: x.end + Duration::nanoseconds(100) };
        assert_eq!(tick.file_stem(), "20261122T100000Z_20261122T110000.0000001Z");
        for s in [x, half, tick] {
            let stem = s.file_stem();
            assert!(stem.chars().all(|c| c.is_ascii_digit() || "TZ._".contains(c)), "{stem}");
            // Round trip: the stem, with '/' for '_', parses back to the window.
            assert_eq!(Window::parse(&stem.replace('_', "/"), now()).unwrap(), s);
        }
        // Distinct windows never collide.
        let mut stems: Vec<String> = (0..1000)
            .map(|i| {
                let start = x.start + Duration::nanoseconds(i * 100);
                Window { start, end: start + Duration::hours(1) }.file_stem()
            })
            .collect();
        stems.sort();
        stems.dedup();
        assert_eq!(stems.len(), 1000);
    }

    #[test]
    fn utc_arithmetic_has_no_dst() {
        // 2026-03-29 is the EU DST switch, 2026-11-01 the US one: P1D is still 24 h.
        for day in [t(2026, 3, 29, 0, 0, 0), t(2026, 11, 1, 0, 0, 0)] {
            let x = Window::parse("P1D", day).unwrap();
            assert_eq!(x.len(), Duration::hours(24));
            assert_eq!(x.end - x.start, Duration::days(1));
        }
        // Across a leap day.
        let x = w("2028-02-28T00:00:00Z/P2D");
        assert_eq!(x.end, t(2028, 3, 1, 0, 0, 0));
        // Across a year boundary.
        let x = w("PT1H/2027-01-01T00:30:00Z");
        assert_eq!(x.start, t(2026, 12, 31, 23, 30, 0));
    }

    #[test]
    fn window_helpers() {
        let x = w("2026-11-22T10:00:00Z/PT1H");
        assert_eq!(x.len(), Duration::hours(1));
        assert!(!x.is_empty());
        assert!(x.contains(x.start));
        assert!(!x.contains(x.end));
        assert!(Window::new(x.end, x.start).is_err());
        assert_eq!(Window::new(x.start, x.end).unwrap(), x);
        assert_eq!(Window::ending_at(x.end, Duration::hours(1)), x);
    }

    #[test]
    fn short_durations() {
        for (s, d) in [
            ("90s", Duration::seconds(90)),
            ("15m", Duration::minutes(15)),
            ("1h", Duration::hours(1)),
            ("2d", Duration::days(2)),
            ("1w", Duration::weeks(1)),
            ("1h30m", Duration::minutes(90)),
            ("1d12h", Duration::hours(36)),
            ("500ms", Duration::milliseconds(500)),
            ("1s500ms", Duration::milliseconds(1500)),
            ("2w3d4h5m6s7ms", Duration::milliseconds(((17 * 24 + 4) * 60 + 5) * 60_000 + 6007)),
            (" 5m ", Duration::minutes(5)),
            ("10us", Duration::microseconds(10)),
            ("100ns", Duration::nanoseconds(100)),
        ] {
            assert_eq!(parse_duration(s).unwrap_or_else(|e| panic!("{s}: {e}")), d, "{s}");
        }
    }

    #[test]
    fn iso_durations() {
        for (s, d) in [
            ("PT1H", Duration::hours(1)),
            ("P1D", Duration::days(1)),
            ("P1DT6H", Duration::hours(30)),
            ("PT90S", Duration::seconds(90)),
            ("P1W", Duration::weeks(1)),
            ("PT1H30M", Duration::minutes(90)),
            ("PT0.5S", Duration::milliseconds(500)),
            ("PT1.0000001S", Duration::nanoseconds(1_000_000_100)),
            ("P1DT1H1M1S", Duration::seconds(90061)),
            ("pt15m", Duration::minutes(15)),
        ] {
            assert_eq!(parse_duration(s).unwrap_or_else(|e| panic!("{s}: {e}")), d, "{s}");
        }
    }

    #[test]
    fn duration_refusals() {
        for (s, why) in [
            ("", "empty"),
            ("0s", "zero"),
            ("0", "zero"),
            ("PT0S", "zero"),
            ("-1h", "negative"),
            ("-PT1H", "negative"),
            ("1", "no unit"),
            ("h", "expected a number"),
            ("1.5h", "fractions"),
            ("1M", "use days"),
            ("1y", "use days"),
            ("P1M", "use days"),
            ("P1Y", "use days"),
            ("1H", "unknown unit"),
            ("1x", "unknown unit"),
            ("30m1h", "largest to smallest"),
            ("1h1h", "largest to smallest"),
            ("PT1M1H", "largest to smallest"),
            ("PT1.5M", "only the seconds"),
            ("PT0.5S1", "only the seconds"),
            ("PT1", "no unit designator"),
            ("1 h", "no unit"),
            ("banana", "expected a number"),
            ("99999999999999999999s", "too large"),
            ("99999999999w", "too long"),
        ] {
            let e = parse_duration(s).map(|d| panic!("{s:?} parsed as {d}")).unwrap_err();
            let text = e.to_string();
            assert_eq!(e.what, "duration");
            assert!(text.contains(why), "{s:?}: {text}");
            assert!(text.contains(&format!("{s:?}")), "{s:?}: {text}");
            assert!(text.contains("1h30m") && text.contains("PT1H"), "{s:?}: {text}");
        }
        assert_eq!(parse_duration_allow_zero("0s").unwrap(), Duration::zero());
        assert_eq!(parse_duration_allow_zero("0").unwrap(), Duration::zero());
        assert_eq!(parse_duration_allow_zero("PT0S").unwrap(), Duration::zero());
        assert!(parse_duration_allow_zero("-1s").is_err());
    }

    #[test]
    fn format_round_trips() {
        for (d, s) in [
            (Duration::minutes(90), "1h30m"),
            (Duration::days(2), "2d"),
            (Duration::seconds(90), "1m30s"),
            (Duration::weeks(1), "7d"),
            (Duration::milliseconds(1500), "1s500ms"),
            (Duration::nanoseconds(100), "100ns"),
            (Duration::nanoseconds(1_001_000_100), "1s1ms100ns"),
            (Duration::hours(36), "1d12h"),
            (Duration::zero(), "0s"),
            (Duration::minutes(-5), "-5m"),
        ] {
            assert_eq!(format_duration(d), s);
            if d > Duration::zero() {
                assert_eq!(parse_duration(s).unwrap(), d, "{s}");
            }
        }
        for s in ["90s", "15m", "1h", "2d", "1w", "1h30m", "1d12h", "PT1H", "P1DT6H", "PT90S"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{s}");
        }
        assert_eq!(format_duration(Duration::MAX).chars().next(), Some('1'));
        assert!(format_duration(Duration::MIN).starts_with('-'));
    }
}
