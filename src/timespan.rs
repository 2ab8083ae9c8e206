//! Time windows: the half-open `[start, end)` spans hunt asks the service for, the ISO 8601
//! `timespan` forms users type (`P7D`, `PT6H`, `START/END`, `START/P1D`, `P1D/END`), the short
//! durations of query front matter (`1h`, `15m`, `2d`), and the explicit `START/END` text sent
//! to Graph.

use chrono::{DateTime, Duration, Utc};

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
    /// Parses the forms the service accepts, relative to `now` where a form needs it.
    pub fn parse(spec: &str, now: DateTime<Utc>) -> Result<Window, TimespanError> {
        let _ = (spec, now);
        todo!("helper B")
    }

    /// The window ending at `now` and `len` long.
    pub fn ending_at(now: DateTime<Utc>, len: Duration) -> Window {
        Window {
            start: now - len,
            end: now,
        }
    }

    /// `START/END` as sent to Graph: RFC 3339 UTC with 7 fractional digits and `Z`.
    pub fn to_graph(&self) -> String {
        todo!("helper B")
    }

    /// A compact form safe in file names: `20261122T113000Z` (more digits only when needed).
    pub fn file_stem(&self) -> String {
        todo!("helper B")
    }
}

/// Parses a duration: short forms `90s`, `15m`, `1h`, `2d`, `1w` (and combinations such as
/// `1h30m`) or ISO 8601 `PT1H`, `P1D`, `P1DT6H`.
pub fn parse_duration(s: &str) -> Result<Duration, TimespanError> {
    let _ = s;
    todo!("helper B")
}
