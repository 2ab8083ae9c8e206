//! When a query whose window failed runs again, pure: at its next fire, and after repeated
//! failures not before a doubling backoff has passed. A window the service refuses (a 400, a
//! full disk) is then tried a handful of times an hour, not in a loop that spends the tenant's
//! calls and starves the queries beside it.

use crate::cron::Cron;
use chrono::{DateTime, Duration, Utc};

/// The backoff after the second failure in a row; it doubles with each further one.
const FIRST_BACKOFF: Duration = Duration::seconds(15);
/// The longest backoff.
const MAX_BACKOFF: Duration = Duration::hours(1);
/// When a schedule has no further fire, the shortest wait before trying again.
const NO_FIRE_WAIT: Duration = Duration::minutes(1);

/// How long after a window's `failures`-th failure in a row (1 for the first) its query may run
/// again, at the least: nothing after the first (the next fire is soon enough), then 15 s,
/// 30 s, 1 min, … up to an hour.
pub fn backoff(failures: u32) -> Duration {
    match failures {
        0 | 1 => Duration::zero(),
        n => {
            let doublings = (n - 2).min(16);
            (FIRST_BACKOFF * 2i32.pow(doublings)).min(MAX_BACKOFF)
        }
    }
}

/// When a query on `cron` whose window failed for the `failures`-th time in a row at `now` runs
/// again: its first fire after `now` plus [`backoff`].
pub fn retry_at(cron: &Cron, now: DateTime<Utc>, failures: u32) -> DateTime<Utc> {
    let earliest = now + backoff(failures);
    cron.next_after(earliest).unwrap_or(earliest + NO_FIRE_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::timespan::parse_datetime(s).unwrap()
    }

    #[test]
    fn a_first_failure_waits_for_the_next_fire() {
        let cron = Cron::parse("*/15 * * * *").unwrap();
        assert_eq!(retry_at(&cron, t("2026-11-22T10:07:00Z"), 1), t("2026-11-22T10:15:00Z"));
        let every_2s = Cron::parse("*/2 * * * * *").unwrap();
        assert_eq!(retry_at(&every_2s, t("2026-11-22T10:07:00.5Z"), 1), t("2026-11-22T10:07:02Z"));
    }

    #[test]
    fn repeated_failures_back_off_doubling_to_an_hour() {
        let backoffs: Vec<i64> = (1..=12).map(|n| backoff(n).num_seconds()).collect();
        assert_eq!(backoffs, [0, 15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
        let every_2s = Cron::parse("*/2 * * * * *").unwrap();
        let now = t("2026-11-22T10:00:00Z");
        assert_eq!(retry_at(&every_2s, now, 3), t("2026-11-22T10:00:32Z"));
        // An hourly query's next fire is later than any short backoff.
        let hourly = Cron::parse("@hourly").unwrap();
        assert_eq!(retry_at(&hourly, now, 4), t("2026-11-22T11:00:00Z"));
    }

    #[test]
    fn a_schedule_without_further_fires_still_waits() {
        let past = Cron::parse("0 0 31 2 *").unwrap();
        let now = t("2026-11-22T10:00:00Z");
        assert!(retry_at(&past, now, 1) >= now + NO_FIRE_WAIT);
    }
}
