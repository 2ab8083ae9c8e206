//! One retry policy for every call hunt makes, to Graph and to the token endpoint.
//!
//! Errors are classified once into a [`Kind`] (as object_store's `RetryError` does), here next to
//! the errors themselves; a pure [`Policy`] turns a kind and the attempts so far into a
//! [`Decision`]: wait this long and try again, split the window, or give up. The callers (the
//! executor's hunting calls, DEN sync's pages, sign-in) hold no backoff formula of their own and
//! only carry the decision out. The jitter comes from a [`Jitter`] that tests seed.

use super::GraphError;
use super::auth::AuthError;
use super::error::ServiceError;
use std::time::Duration;

/// What a failed call says about trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 429: the tenant is throttled; the service's `Retry-After`, if it sent one.
    Throttled {
        /// `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// May pass on its own: 5xx (but 504), 408, a dropped connection, Entra's
    /// `temporarily_unavailable`; with the service's `Retry-After`, if any (the wait is the
    /// longer of it and the backoff).
    Transient {
        /// `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// The query ran out of time (504, the service's timeout message, no answer within the
    /// request timeout): a smaller window may pass.
    TimedOut,
    /// The result is larger than the service (400 "result size") or hunt (the body limit) allow.
    TooLarge,
    /// Refused for good: any other 4xx, a redirect, a refused credential or certificate.
    Permanent,
}

impl ServiceError {
    /// The kind of this answer.
    pub fn kind(&self) -> Kind {
        let m = self.message.to_ascii_lowercase();
        let retry_after = self.retry_after;
        match self.status {
            429 => Kind::Throttled { retry_after },
            400 if m.contains("exceeded the allowed result size")
                || m.contains("result size limit") =>
            {
                Kind::TooLarge
            }
            504 => Kind::TimedOut,
            _ if m.contains("exceeded the timeout") || m.contains("timed out") => Kind::TimedOut,
            s if s >= 500 || s == 408 => Kind::Transient { retry_after },
            _ => Kind::Permanent,
        }
    }
}

impl GraphError {
    /// The kind of this failure. Sign-in failures are final here: the token source has already
    /// retried what it could.
    pub fn kind(&self) -> Kind {
        match self {
            GraphError::Service(s) => s.kind(),
            GraphError::Transport { timed_out: true, .. } => Kind::TimedOut,
            GraphError::Transport { .. } => Kind::Transient { retry_after: None },
            GraphError::TooLarge { .. } => Kind::TooLarge,
            GraphError::Refused { .. } | GraphError::Auth(_) => Kind::Permanent,
        }
    }
}

impl AuthError {
    /// The kind of this sign-in failure: an unreachable endpoint, a 5xx or 429, Entra's
    /// `temporarily_unavailable` and its throttling codes may pass; a refused credential or a
    /// certificate the client refuses stays refused.
    pub fn kind(&self) -> Kind {
        match self {
            AuthError::Transport { certificate: false, .. } => {
                Kind::Transient { retry_after: None }
            }
            AuthError::Refused { error, .. } if error.status == 429 => {
                Kind::Throttled { retry_after: None }
            }
            AuthError::Refused { error, .. }
                if error.status >= 500
                    || error.error == "temporarily_unavailable"
                    || error.codes.iter().any(|c| matches!(c, 90055 | 90024)) =>
            {
                Kind::Transient { retry_after: None }
            }
            _ => Kind::Permanent,
        }
    }
}

/// What to do about a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this long.
    Wait(Duration),
    /// Ask again for the two halves of the window.
    Split,
    /// Give up on this call.
    Fail,
}

/// Failures of one call so far, by what the policy counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    /// 429s.
    pub throttled: u32,
    /// Transient failures (and, where nothing splits, timeouts).
    pub failed: u32,
}

/// How hard to try one kind of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Transient failures retried per call; the next one fails.
    pub max_retries: u32,
    /// 429s waited out per call; the next one fails (the executor bounds them by a deadline
    /// instead, with `u32::MAX` here).
    pub max_throttles: u32,
    /// First backoff step; doubles per attempt, jittered between 50% and 100% of the step.
    pub base: Duration,
    /// Largest backoff step.
    pub cap: Duration,
    /// The shortest wait after a 429, whatever `Retry-After` says (never straight back).
    pub min_throttle_pause: Duration,
    /// Whether a timed-out or too-large answer splits the window (hunting calls); elsewhere a
    /// timeout is transient and too large is final.
    pub splits: bool,
}

impl Policy {
    /// Hunting calls: retries with `base`, `cap` and `max_retries` from `[run]`; 429s until the
    /// job's deadline; timeouts and too-large results split.
    pub fn hunting(max_retries: u32, base: Duration, cap: Duration) -> Policy {
        Policy {
            max_retries,
            max_throttles: u32::MAX,
            base,
            cap,
            min_throttle_pause: Duration::from_millis(500),
            splits: true,
        }
    }

    /// Listing calls (DEN sync's pages): 4 retries from 2 s, 20 waited-out 429s.
    pub const LISTING: Policy = Policy {
        max_retries: 4,
        max_throttles: 20,
        base: Duration::from_secs(2),
        cap: Duration::from_secs(64),
        min_throttle_pause: Duration::from_millis(500),
        splits: false,
    };

    /// Sign-in: 3 retries from 1 s (1, 2, 4 s), 429s included.
    pub const SIGN_IN: Policy = Policy {
        max_retries: 3,
        max_throttles: 3,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(8),
        min_throttle_pause: Duration::from_millis(500),
        splits: false,
    };

    /// Decides what to do about a failure of `kind`, counting it in `attempts`.
    pub fn decide(&self, kind: Kind, attempts: &mut Attempts, jitter: &mut Jitter) -> Decision {
        match kind {
            Kind::Permanent => Decision::Fail,
            Kind::TooLarge | Kind::TimedOut if self.splits => Decision::Split,
            Kind::TooLarge => Decision::Fail,
            Kind::Throttled { retry_after } => {
                attempts.throttled = attempts.throttled.saturating_add(1);
                if attempts.throttled > self.max_throttles {
                    return Decision::Fail;
                }
                let asked = retry_after.unwrap_or_else(|| self.backoff(attempts.throttled, jitter));
                Decision::Wait(asked.max(self.min_throttle_pause))
            }
            // A timeout where nothing splits is transient, with no `Retry-After`.
            Kind::Transient { .. } | Kind::TimedOut => {
                attempts.failed = attempts.failed.saturating_add(1);
                if attempts.failed > self.max_retries {
                    return Decision::Fail;
                }
                let step = self.backoff(attempts.failed, jitter);
                let retry_after = match kind {
                    Kind::Transient { retry_after } => retry_after,
                    _ => None,
                };
                Decision::Wait(retry_after.map_or(step, |r| r.max(step)))
            }
        }
    }

    /// The `attempt`-th backoff (1 for the first): `base` doubled `attempt - 1` times, at most
    /// `cap`, then jittered over its upper half.
    pub fn backoff(&self, attempt: u32, jitter: &mut Jitter) -> Duration {
        let exp = self.base.saturating_mul(1u32 << attempt.clamp(1, 17).saturating_sub(1));
        exp.min(self.cap).mul_f64(0.5 + 0.5 * jitter.unit())
    }
}

/// A small pseudo-random source for backoff jitter (SplitMix64): seeded from the system's
/// randomness in production, from a fixed number in tests.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    /// Seeded with `seed`: the same seed gives the same waits.
    pub fn seeded(seed: u64) -> Jitter {
        Jitter(seed)
    }

    /// Seeded from the system's random source.
    pub fn from_entropy() -> Jitter {
        let mut bytes = [0u8; 8];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        Jitter(u64::from_le_bytes(bytes))
    }

    /// A number in `[0, 1]`.
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / ((1u64 << 53) - 1) as f64
    }
}

#[cfg(test)]
mod tests;
