//! Hand-rolled parsing of the service's timestamps into nanoseconds since the Unix epoch, kept
//! out of chrono because it runs once per cell: `YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|±hh:mm]`, with a
//! space accepted for `T` and a missing zone read as UTC.

/// Parses a timestamp to nanoseconds since 1970-01-01T00:00:00Z, or `None` when it is not one
/// of the accepted forms or falls outside the `i64` nanosecond range (years 1677–2262).
pub fn parse_timestamp_nanos(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut frac: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        frac = digits(&b[start..i])?;
        frac *= 10i64.pow((9 - n) as u32);
    }
    let offset_secs: i64 = match &b[i..] {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])?;
            let m = digits(&[*m1, *m2])?;
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    secs.checked_mul(1_000_000_000)?.checked_add(frac)
}

/// The value of a run of ASCII digits, `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days in a month of the proleptic Gregorian calendar.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate};

    /// Reference value through chrono.
    fn chrono_nanos(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_nanos_opt().unwrap()
    }

    #[test]
    fn fractions_of_every_length() {
        let base = chrono_nanos("2024-03-26T09:39:50Z");
        let cases = [
            ("2024-03-26T09:39:50Z", 0),
            ("2024-03-26T09:39:50.7Z", 700_000_000),
            ("2024-03-26T09:39:50.116Z", 116_000_000),
            ("2024-03-26T09:39:50.7688641Z", 768_864_100),
            ("2024-03-26T09:39:50.000000100Z", 100),
            ("2024-03-26T09:39:50.123456789Z", 123_456_789),
            ("2024-03-26T09:39:50.0000001Z", 100),
        ];
        for (s, frac) in cases {
            assert_eq!(parse_timestamp_nanos(s), Some(base + frac), "{s}");
        }
    }

    #[test]
    fn zones_and_separators() {
        let z = chrono_nanos("2024-03-26T09:39:50.5Z");
        assert_eq!(parse_timestamp_nanos("2024-03-26T09:39:50.5+00:00"), Some(z));
        assert_eq!(parse_timestamp_nanos("2024-03-26 09:39:50.5"), Some(z));
        assert_eq!(parse_timestamp_nanos("2024-03-26T09:39:50.5"), Some(z));
        assert_eq!(parse_timestamp_nanos("2024-03-26T11:39:50.5+02:00"), Some(z));
        assert_eq!(parse_timestamp_nanos("2024-03-26T04:09:50.5-05:30"), Some(z));
        assert_eq!(
            parse_timestamp_nanos("2024-03-26T11:39:50.5+02:00"),
            Some(chrono_nanos("2024-03-26T11:39:50.5+02:00"))
        );
    }

    #[test]
    fn matches_chrono_across_the_calendar() {
        let mut d = NaiveDate::from_ymd_opt(1677, 9, 22).unwrap();
        let end = NaiveDate::from_ymd_opt(2262, 4, 10).unwrap();
        while d < end {
            let s = format!("{}T23:59:59.9999999Z", d.format("%Y-%m-%d"));
            assert_eq!(parse_timestamp_nanos(&s), Some(chrono_nanos(&s)), "{s}");
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "2024-03-26",
            "2024-03-26T09:39",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-03-26T24:00:00Z",
            "2024-03-26T09:60:00Z",
            "2024-03-26T09:39:60Z",
            "2024-03-26T09:39:50.Z",
            "2024-03-26T09:39:50.1234567890Z",
            "2024-03-26T09:39:50ZZ",
            "2024-03-26T09:39:50+0200",
            "2024-03-26T09:39:50+24:00",
            "2024-03-26X09:39:50Z",
            "2024/03/26T09:39:50Z",
            "20x4-03-26T09:39:50Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z",
            "not a date at all",
            "2024-03-26T09:39:5é",
        ] {
            assert_eq!(parse_timestamp_nanos(s), None, "{s}");
        }
        assert_eq!(
            parse_timestamp_nanos("2024-02-29T00:00:00Z"),
            Some(chrono_nanos("2024-02-29T00:00:00Z"))
        );
        assert_eq!(parse_timestamp_nanos("1969-12-31T23:59:59.9999999Z"), Some(-100));
    }
}
