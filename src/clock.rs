//! Time, injectable: wall-clock time anchored once and advanced by tokio's monotonic clock, so
//! production reads the real time while tests under tokio's paused clock simulate hours in
//! milliseconds, and `now()` never disagrees with `tokio::time::sleep`.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// A source of "now".
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// Wall time at construction plus tokio's monotonic time since.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    mono: Instant,
}

impl TokioClock {
    /// Anchored at the system's current time.
    // The one read of the system's wall clock (see `clippy.toml`); everything else asks a `Clock`.
    #[allow(clippy::disallowed_methods)]
    pub fn new() -> TokioClock {
        TokioClock::anchored_at(Utc::now())
    }

    /// Anchored at `wall` (tests pick a fixed date).
    pub fn anchored_at(wall: DateTime<Utc>) -> TokioClock {
        TokioClock { wall, mono: Instant::now() }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.mono);
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_paused_tokio_time() {
        let start = DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap().to_utc();
        let clock = TokioClock::anchored_at(start);
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), start + chrono::Duration::hours(1));
        assert_eq!(clock.now_ms(), start.timestamp_millis() + 3_600_000);
    }
}
