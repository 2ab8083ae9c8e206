//! The emulated service's own quota enforcement: it counts calls and execution time the naive
//! way (every call and interval kept, sums recomputed) and refuses with the service's 429
//! wording. It shares no code with hunt's ledger on purpose, so tests that see zero 429s from it
//! are checking hunt's pacing against an independent judge.

use crate::quota::Limits;

/// One tenant's spending as the service sees it. Times are milliseconds.
#[derive(Debug, Default)]
pub struct ServiceQuota {
    calls: Vec<i64>,
    intervals: Vec<(i64, i64)>,
    running: Vec<(u64, i64)>,
    next: u64,
}

/// A refusal: the 429 message and the `Retry-After` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The message, naming the limit.
    pub message: String,
    /// Seconds until a call may succeed.
    pub retry_after: f64,
}

impl ServiceQuota {
    fn exec_between(&self, from: i64, to: i64) -> i64 {
        let done: i64 = self.intervals.iter().map(|&(s, e)| (e.min(to) - s.max(from)).max(0)).sum();
        let running: i64 = self.running.iter().map(|&(_, s)| (to - s.max(from)).max(0)).sum();
        done + running
    }

    /// Admits a call arriving at `now`, or says why not.
    pub fn admit(&mut self, now: i64, limits: &Limits) -> Result<u64, Refusal> {
        for (span, limit, label) in [
            (60_000, limits.calls_per_minute, "00:01:00"),
            (3_600_000, limits.calls_per_hour, "01:00:00"),
        ] {
            let mut recent: Vec<i64> =
                self.calls.iter().copied().filter(|&t| t > now - span).collect();
            if recent.len() >= limit as usize {
                recent.sort_unstable();
                let frees_at = recent[recent.len() - limit as usize] + span;
                return Err(Refusal {
                    message: format!(
                        "API calls quota exceeded! maximum allowed {limit} per {label}"
                    ),
                    retry_after: ((frees_at - now) as f64 / 1000.0).max(0.001),
                });
            }
        }
        for (span, limit, what) in [
            (3_600_000, limits.exec_per_hour_ms(), "hour"),
            (86_400_000, limits.exec_per_day_ms(), "day"),
        ] {
            if self.exec_between(now - span, now) >= limit {
                // Step forward until enough has slid out (the service's answer is coarse too).
                let mut t = now;
                while self.exec_between(t - span, now) >= limit && t < now + span {
                    t += 1_000;
                }
                return Err(Refusal {
                    message: format!(
                        "You have exceeded processing resources allocated to this tenant \
                         (execution time per {what}). You can run queries again in {}s.",
                        (t - now) / 1000
                    ),
                    retry_after: (t - now) as f64 / 1000.0,
                });
            }
        }
        self.calls.push(now);
        self.next += 1;
        self.running.push((self.next, now));
        Ok(self.next)
    }

    /// The call `id` ended at `now`.
    pub fn finish(&mut self, id: u64, now: i64) {
        if let Some(i) = self.running.iter().position(|&(r, _)| r == id) {
            let (_, start) = self.running.swap_remove(i);
            self.intervals.push((start, now.max(start)));
        }
    }

    /// The most execution time any sliding window of `span` ending at a call's end has held
    /// (for tests: "no rolling hour spent more than…").
    pub fn max_exec_in_any_window(&self, span: i64) -> i64 {
        self.intervals.iter().map(|&(_, e)| self.exec_between_done(e - span, e)).max().unwrap_or(0)
    }

    fn exec_between_done(&self, from: i64, to: i64) -> i64 {
        self.intervals.iter().map(|&(s, e)| (e.min(to) - s.max(from)).max(0)).sum()
    }

    /// Calls admitted so far.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_46th_call_in_a_minute_with_the_legacy_wording() {
        let mut q = ServiceQuota::default();
        let l = Limits::default();
        for i in 0..45 {
            let id = q.admit(i, &l).unwrap();
            q.finish(id, i + 1);
        }
        let r = q.admit(1_000, &l).unwrap_err();
        assert_eq!(r.message, "API calls quota exceeded! maximum allowed 45 per 00:01:00");
        assert!((r.retry_after - 59.0).abs() < 0.01, "{r:?}");
        assert!(q.admit(60_000, &l).is_ok());
    }

    #[test]
    fn refuses_when_an_hour_of_execution_is_spent() {
        let mut q = ServiceQuota::default();
        let l = Limits { calls_per_minute: 1000, ..Limits::default() };
        let id = q.admit(0, &l).unwrap();
        q.finish(id, 600_000);
        let r = q.admit(600_000, &l).unwrap_err();
        assert!(r.message.contains("processing resources"), "{r:?}");
        assert!(r.retry_after > 0.0);
        assert_eq!(q.max_exec_in_any_window(3_600_000), 600_000);
    }
}
