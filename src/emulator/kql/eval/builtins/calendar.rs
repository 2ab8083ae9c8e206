//! Calendar arithmetic of the datetime functions: `datetime_diff`, `datetime_add`,
//! `format_datetime` and day/month helpers, on 100 ns ticks since the Unix epoch.

use crate::emulator::kql::format_datetime;

pub(super) const DAY: i64 = 864_000_000_000;

/// Ticks of a calendar date.
pub(super) fn civil(y: i64, m: i64, d: i64) -> i64 {
    crate::decode::days_from_civil(y, m, d) * DAY
}

pub(super) fn civil_add_days(t: i64, days: i64) -> i64 {
    t.saturating_add(days.saturating_mul(DAY))
}

pub(super) fn datetime_diff(part: &str, a: i64, b: i64) -> Option<i64> {
    let (ya, ma, _) = crate::decode::civil_from_days(a.div_euclid(DAY));
    let (yb, mb, _) = crate::decode::civil_from_days(b.div_euclid(DAY));
    let unit = |u: i64| a.div_euclid(u) - b.div_euclid(u);
    Some(match part.to_ascii_lowercase().as_str() {
        "year" => ya - yb,
        "quarter" => (ya * 4 + (ma - 1) / 3) - (yb * 4 + (mb - 1) / 3),
        "month" => (ya * 12 + ma) - (yb * 12 + mb),
        "week" => (a.div_euclid(DAY) + 4).div_euclid(7) - (b.div_euclid(DAY) + 4).div_euclid(7),
        _ if ya.abs() > 1_000_000 || yb.abs() > 1_000_000 => return None,
        "day" => unit(DAY),
        "hour" => unit(36_000_000_000),
        "minute" => unit(600_000_000),
        "second" => unit(10_000_000),
        "millisecond" => unit(10_000),
        "microsecond" => unit(10),
        "nanosecond" => a.checked_sub(b)?.checked_mul(100)?,
        _ => return None,
    })
}

pub(super) fn datetime_add(part: &str, n: i64, t: i64) -> Option<i64> {
    let step = match part.to_ascii_lowercase().as_str() {
        "year" => return datetime_add("month", n.checked_mul(12)?, t),
        "quarter" => return datetime_add("month", n.checked_mul(3)?, t),
        "month" => {
            let days = t.div_euclid(DAY);
            let (y, m, d) = crate::decode::civil_from_days(days);
            let total = y * 12 + (m - 1) + n;
            let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) + 1);
            let last = crate::decode::days_from_civil(ny + (nm == 12) as i64, nm % 12 + 1, 1)
                - crate::decode::days_from_civil(ny, nm, 1);
            return Some(civil(ny, nm, d.min(last)) + t.rem_euclid(DAY));
        }
        "week" => 7 * DAY,
        "day" => DAY,
        "hour" => 36_000_000_000,
        "minute" => 600_000_000,
        "second" => 10_000_000,
        "millisecond" => 10_000,
        "microsecond" => 10,
        _ => return None,
    };
    t.checked_add(n.checked_mul(step)?)
}

/// `format_datetime` with the .NET-style specifiers hunting queries use (`yyyy-MM-dd HH:mm:ss`).
pub(super) fn format_dt(t: i64, fmt: &str) -> String {
    let iso = format_datetime(t);
    let (y, mo, d) = crate::decode::civil_from_days(t.div_euclid(DAY));
    let rem = t.rem_euclid(DAY);
    let (h, mi, sec, frac) =
        (rem / 36_000_000_000, rem / 600_000_000 % 60, rem / 10_000_000 % 60, rem % 10_000_000);
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let piece = match (c, n) {
            ('y', 4) => format!("{y:04}"),
            ('y', 2) => format!("{:02}", y % 100),
            ('M', 2) => format!("{mo:02}"),
            ('M', 1) => mo.to_string(),
            ('d', 2) => format!("{d:02}"),
            ('d', 1) => d.to_string(),
            ('H', 2) => format!("{h:02}"),
            ('H', 1) => h.to_string(),
            ('h', 2) => format!("{:02}", (h + 11) % 12 + 1),
            ('h', 1) => ((h + 11) % 12 + 1).to_string(),
            ('m', 2) => format!("{mi:02}"),
            ('m', 1) => mi.to_string(),
            ('s', 2) => format!("{sec:02}"),
            ('s', 1) => sec.to_string(),
            ('f', k) if k <= 7 => format!("{frac:07}")[..k].to_owned(),
            ('t', 2) => (if h < 12 { "AM" } else { "PM" }).to_owned(),
            _ => chars[i..i + n].iter().collect(),
        };
        out.push_str(&piece);
        i += n;
    }
    if fmt.is_empty() { iso } else { out }
}
