//! Time windows: the half-open `[start, end)` spans hunt asks the service for ([`Window`]), and
//! their text: the ISO 8601 `timespan` forms users type (`P7D`, `PT6H`, `START/END`,
//! `START/P1D`, `P1D/END`) and the datetimes in them (`parse`), the short durations of query
//! front matter (`1h`, `15m`, `2d`, in `duration`), and the explicit `START/END` text sent to
//! Graph.
//!
//! All arithmetic is on UTC instants, so there is no daylight-saving ambiguity: `P1D` is always
//! exactly 24 hours. Months and years have no fixed length and are refused (use days).

mod duration;
mod parse;

pub use duration::{DURATION_FORMS, format_duration, parse_duration, parse_duration_allow_zero};
pub use parse::{TIMESPAN_FORMS, format_datetime, graph_datetime, parse_datetime};

use chrono::{DateTime, Duration, Utc};
use parse::stem_datetime;

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

impl Window {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A UTC instant (shared with the text tests in `parse.rs`).
    pub(super) fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    /// The "now" the window tests read their specs at.
    pub(super) fn now() -> DateTime<Utc> {
        t(2026, 11, 22, 12, 0, 0)
    }

    /// `spec` parsed at [`now`].
    pub(super) fn w(spec: &str) -> Window {
        Window::parse(spec, now()).unwrap_or_else(|e| panic!("{spec}: {e}"))
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
}
