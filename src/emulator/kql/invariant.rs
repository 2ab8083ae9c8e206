//! Datetime strings in .NET's invariant culture, which Kusto falls back to for text that is
//! neither ISO 8601 nor RFC 822/850 (`datetime("01/16/2022 10:00:00")`, `todatetime("8:00 AM")`):
//! a date `M/d/yyyy`, `M/d/yy`, `yyyy/M/d` or `yyyy-M-d`, then optionally a time
//! `H:mm[:ss[.fffffff]]` with an optional `AM`/`PM`; or a time alone, which is that time today
//! (the UTC day of the query's "now"), as .NET's `DateTime.Parse` reads it. All UTC.

use crate::decode::days_from_civil;

const TICKS_PER_DAY: i64 = 864_000_000_000;

/// Ticks since the Unix epoch of `t` in one of the forms above; `now` (ticks) gives "today"
/// for a time alone (without it, such text does not parse).
pub(super) fn parse(t: &str, now: Option<i64>) -> Option<i64> {
    let mut words: Vec<&str> = t.split_whitespace().collect();
    // `AM`/`PM`, as a word of its own or stuck to the time (`8:00PM`).
    let mut half = None;
    if let Some(last) = words.last_mut() {
        for (suffix, pm) in [("am", false), ("pm", true)] {
            let cut = last.len().saturating_sub(2);
            if last.is_char_boundary(cut) && last[cut..].eq_ignore_ascii_case(suffix) {
                half = Some(pm);
                *last = &last[..cut];
            }
        }
        if last.is_empty() {
            words.pop();
        }
    }
    let (day, time) = match words[..] {
        [date, time] => (date_days(date)?, Some(time)),
        [one] if one.contains(':') => (now?.div_euclid(TICKS_PER_DAY), Some(one)),
        [date] => (date_days(date)?, None),
        _ => return None,
    };
    let time = match time {
        Some(time) => time_ticks(time, half)?,
        None if half.is_some() => return None,
        None => 0,
    };
    day.checked_mul(TICKS_PER_DAY)?.checked_add(time)
}

/// Digits only, `len` of them.
fn digits(s: &str, len: std::ops::RangeInclusive<usize>) -> Option<i64> {
    (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// Days since the epoch of `M/d/yyyy`, `M/d/yy` (00–49: 2000s, else 1900s, as .NET reads
/// it), `yyyy/M/d` or `yyyy-M-d`.
fn date_days(date: &str) -> Option<i64> {
    let parts: Vec<&str> = date.split(['/', '-']).collect();
    let [a, b, c] = parts[..] else { return None };
    let (y, m, d) = if a.len() == 4 {
        (digits(a, 4..=4)?, digits(b, 1..=2)?, digits(c, 1..=2)?)
    } else if date.contains('/') {
        let y = match c.len() {
            2 => digits(c, 2..=2).map(|y| if y <= 49 { 2000 + y } else { 1900 + y })?,
            _ => digits(c, 4..=4)?,
        };
        (y, digits(a, 1..=2)?, digits(b, 1..=2)?)
    } else {
        return None;
    };
    if !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let month_days =
        days_from_civil(y + (m == 12) as i64, m % 12 + 1, 1) - days_from_civil(y, m, 1);
    (d <= month_days).then(|| days_from_civil(y, m, d))
}

/// Ticks into the day of `H:mm[:ss[.fffffff]]`; with `AM`/`PM` (`half`: is PM) the hour is
/// 0–12 and 12 AM is midnight.
fn time_ticks(time: &str, half: Option<bool>) -> Option<i64> {
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (time, None),
    };
    let mut parts = hms.split(':');
    let mut h = digits(parts.next()?, 1..=2)?;
    let mi = digits(parts.next()?, 2..=2)?;
    let s = parts.next().map_or(Some(0), |s| digits(s, 2..=2))?;
    if parts.next().is_some() || mi > 59 || s > 59 || (frac.is_some() && hms.len() < 7) {
        return None;
    }
    match half {
        Some(_) if h > 12 => return None,
        Some(pm) => h = h % 12 + if pm { 12 } else { 0 },
        None if h > 23 => return None,
        None => {}
    }
    let frac = match frac {
        Some(f) => digits(f, 1..=7)? * 10i64.pow(7 - f.len() as u32),
        None => 0,
    };
    Some(((h * 60 + mi) * 60 + s) * 10_000_000 + frac)
}
