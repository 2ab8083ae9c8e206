//! Durations: the short forms of query front matter (`90s`, `15m`, `1h30m`, `2d`, `1w`,
//! `500ms`) and ISO 8601 (`PT1H`, `P1DT6H`, `P1W`), read and written back in the short form.
//! Months and years have no fixed length and are refused (use days).

use super::TimespanError;
use chrono::Duration;

/// The duration forms, for error messages and help text.
pub const DURATION_FORMS: &str = "accepted forms: 90s, 15m, 1h, 2d, 1w, 500ms, combinations \
     such as 1h30m or 1d12h, or ISO 8601 PT1H, P1D, P1DT6H, PT90S, P1W";

fn duration_err(input: &str, reason: impl Into<String>) -> TimespanError {
    TimespanError {
        what: "duration",
        input: input.to_string(),
        reason: format!("{}; {DURATION_FORMS}", reason.into()),
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
