//! Datetime and `--timespan` text: reading the forms users type into a [`Window`] (durations
//! ending now, `START/END`, `START/DURATION`, `DURATION/END`, `START` alone), reading one
//! datetime, and writing instants back out (RFC 3339, Graph's 7 fractional digits, file stems).

use super::duration::parse_duration;
use super::{TimespanError, Window};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Timelike, Utc};

/// The `--timespan` forms, for error messages and help text.
pub const TIMESPAN_FORMS: &str = "accepted forms: a duration ending now (P7D, PT6H, P1DT6H, P1W, \
     or short 7d, 6h), START/END, START/P1D, P1D/END, or START alone (ending now); \
     datetimes in UTC such as 2026-11-22T10:00:00Z, 2026-11-22T10:00:00.1234567+00:00 or 2026-11-22";

/// Nanoseconds in one service tick (the service's precision is 100 ns).
const TICK_NANOS: u32 = 100;

fn timespan_err(input: &str, reason: impl Into<String>) -> TimespanError {
    TimespanError {
        what: "timespan",
        input: input.to_string(),
        reason: format!("{}; {TIMESPAN_FORMS}", reason.into()),
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
}

/// One instant as Graph writes it: RFC 3339 UTC with exactly 7 fractional digits (100 ns).
pub fn graph_datetime(t: DateTime<Utc>) -> String {
    let ticks = t.nanosecond() % 1_000_000_000 / TICK_NANOS;
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), ticks)
}

pub(super) fn stem_datetime(t: DateTime<Utc>) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{now, t, w};
    use super::*;

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
}
