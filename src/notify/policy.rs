//! When a notification that was not delivered is tried again, pure: the result of an attempt,
//! the attempts so far and the times in, a [`Decision`] out. The courier only carries it out.
//!
//! 5xx, 408 and transport failures back off exponentially (`base` doubled per attempt, at most
//! `cap`, never shorter than the receiver's `Retry-After`); a 429 waits what its `Retry-After`
//! asks (else the backoff); anything else (a 4xx, a redirect) is final. A notification still
//! undelivered `give_up_after` its creation is given up: it shows as failed in `hunt status`.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How one POST went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// 2xx.
    Delivered,
    /// 5xx, 408, 429 or a transport failure: may pass later; with the receiver's `Retry-After`.
    Retryable {
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
        /// Whether it was a 429.
        throttled: bool,
        /// What happened (never the URL).
        error: String,
    },
    /// Refused for good (another 4xx, a redirect, a URL that cannot be used).
    Refused {
        /// What happened (never the URL).
        error: String,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It was delivered: never send it again.
    Done,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Stop trying: it failed for good.
    GiveUp,
}

/// The backoff of notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait after the first failure; doubles per failure.
    pub base: Duration,
    /// Longest wait between two attempts.
    pub cap: Duration,
    /// A notification still not delivered this long after it was created is given up.
    pub give_up_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(300),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row (1 for the first).
    pub fn step(&self, failures: u32) -> Duration {
        let doubled = self.base.saturating_mul(1u32 << failures.clamp(1, 20).saturating_sub(1));
        doubled.min(self.cap)
    }

    /// What to do after `attempt`, the `failures`-th failure in a row counting this one (when
    /// it failed), of a notification created at `created`, at `now`.
    pub fn decide(
        &self,
        attempt: &Attempt,
        failures: u32,
        created: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Decision {
        let (retry_after, throttled) = match attempt {
            Attempt::Delivered => return Decision::Done,
            Attempt::Refused { .. } => return Decision::GiveUp,
            Attempt::Retryable { retry_after, throttled, .. } => (*retry_after, *throttled),
        };
        let step = self.step(failures);
        let wait = match retry_after {
            // A 429 waits what it asks, however short (at least a second: never straight back).
            Some(r) if throttled => r.max(Duration::from_secs(1)),
            Some(r) => r.max(step),
            None => step,
        };
        let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX / 2);
        let deadline = created
            + chrono::Duration::from_std(self.give_up_after).unwrap_or(chrono::Duration::MAX / 2);
        if at > deadline { Decision::GiveUp } else { Decision::RetryAt(at) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap() + chrono::Duration::seconds(s)
    }

    fn failed(retry_after: Option<u64>, throttled: bool) -> Attempt {
        Attempt::Retryable {
            retry_after: retry_after.map(Duration::from_secs),
            throttled,
            error: "HTTP 503".into(),
        }
    }

    const POLICY: Backoff = Backoff {
        base: Duration::from_secs(2),
        cap: Duration::from_secs(60),
        give_up_after: Duration::from_secs(3600),
    };

    #[test]
    fn delivered_is_done_and_refused_gives_up_at_once() {
        assert_eq!(POLICY.decide(&Attempt::Delivered, 0, t(0), t(5)), Decision::Done);
        let refused = Attempt::Refused { error: "HTTP 404".into() };
        assert_eq!(POLICY.decide(&refused, 1, t(0), t(0)), Decision::GiveUp);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        let waits: Vec<_> = (1..=8)
            .map(|n| match POLICY.decide(&failed(None, false), n, t(0), t(100)) {
                Decision::RetryAt(at) => (at - t(100)).num_seconds(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(POLICY.step(0), POLICY.step(1));
        assert_eq!(POLICY.step(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn retry_after_is_honoured() {
        // A 429 waits what it asks, even less than the backoff, but at least a second.
        let at = |a: Attempt, n| POLICY.decide(&a, n, t(0), t(10));
        assert_eq!(at(failed(Some(30), true), 1), Decision::RetryAt(t(40)));
        assert_eq!(at(failed(Some(1), true), 5), Decision::RetryAt(t(11)));
        assert_eq!(at(failed(Some(0), true), 1), Decision::RetryAt(t(11)));
        // A 429 without one backs off; a 503 with one waits the longer of the two.
        assert_eq!(at(failed(None, true), 3), Decision::RetryAt(t(18)));
        assert_eq!(at(failed(Some(1), false), 3), Decision::RetryAt(t(18)));
        assert_eq!(at(failed(Some(45), false), 1), Decision::RetryAt(t(55)));
    }

    #[test]
    fn a_receiver_that_stays_down_is_given_up_after_the_deadline() {
        assert_eq!(
            POLICY.decide(&failed(None, false), 9, t(0), t(3500)),
            Decision::RetryAt(t(3560))
        );
        assert_eq!(POLICY.decide(&failed(None, false), 9, t(0), t(3550)), Decision::GiveUp);
        // A Retry-After past the deadline gives up now rather than holding on.
        assert_eq!(POLICY.decide(&failed(Some(7200), true), 1, t(0), t(0)), Decision::GiveUp);
    }
}
