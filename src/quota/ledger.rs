//! The quota ledger: pure bookkeeping of one tenant's spending against the service's budgets
//! (calls per minute and per hour, execution time per hour and per day, all sliding windows),
//! deciding whether a call may start now or when it may. No clock, no sleeping, no I/O: times
//! are milliseconds since the Unix epoch given by the caller, so the ledger can be saved to a
//! file shared by processes and replayed over simulated hours in tests.

use super::Limits;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// Calls count against the sliding minute and hour this much longer than the window, because
/// the service clocks a call when it arrives, a little after hunt sends it, and the delay varies:
/// without a margin, a call sent exactly 60 s after another may arrive 59.99 s after it.
const SLACK: i64 = 1_000;

/// Which budget a 429 (or the ledger) says is exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Budget {
    /// Calls per minute.
    CallsPerMinute,
    /// Calls per hour.
    CallsPerHour,
    /// Execution time per hour.
    ExecPerHour,
    /// Execution time per day.
    ExecPerDay,
}

impl Budget {
    /// Reads which budget a throttling message names (legacy and Graph wordings).
    pub fn from_message(message: &str) -> Option<Budget> {
        let m = message.to_ascii_lowercase();
        if m.contains("per 00:01:00") || m.contains("per minute") {
            Some(Budget::CallsPerMinute)
        } else if m.contains("per 01:00:00") || m.contains("per hour") && m.contains("call") {
            Some(Budget::CallsPerHour)
        } else if m.contains("per day") || m.contains("per 1.00:00:00") {
            Some(Budget::ExecPerDay)
        } else if m.contains("processing resources")
            || m.contains("cpu")
            || m.contains("execution time")
        {
            Some(Budget::ExecPerHour)
        } else {
            None
        }
    }
}

/// The longest pause after a 429 the ledger keeps, in ms (five minutes). A `Retry-After` of
/// years, or a `paused_until` far ahead in a shared file, must not stall every later process of
/// the tenant: the budget a 429 names is marked spent separately and paced by its own window.
pub const MAX_PAUSE_MS: i64 = 5 * MINUTE;

/// The process that made a call: its pid and when the kernel started that pid, so a pid reused
/// by another program is not mistaken for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// The process's start time as the kernel counts it (clock ticks since boot).
    pub started: u64,
}

/// When an owner last touched the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    owner: Owner,
    at: i64,
}

/// One call in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct InFlight {
    start: i64,
    estimate: i64,
    /// The process making it, when the ledger is shared between processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<Owner>,
}

/// What has been spent, as of a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Calls started in the last minute.
    pub calls_minute: u32,
    /// Calls started in the last hour.
    pub calls_hour: u32,
    /// Execution milliseconds in the last hour (in-flight calls counted as far as they ran).
    pub exec_hour_ms: i64,
    /// Execution milliseconds in the last day.
    pub exec_day_ms: i64,
    /// Calls in flight.
    pub in_flight: u32,
    /// No call may start before this time (a 429's `Retry-After`), if in the future.
    pub paused_until_ms: Option<i64>,
}

/// The ledger of one tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    /// Call start times within the last hour, oldest first.
    calls: VecDeque<i64>,
    /// Finished calls' execution intervals `(start, end)` within the last day, by end.
    done: VecDeque<(i64, i64)>,
    /// Calls in flight by ticket.
    in_flight: BTreeMap<u64, InFlight>,
    next_ticket: u64,
    paused_until: i64,
    /// When each process with calls in flight last touched the ledger.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<Seen>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger::new()
    }
}

/// Admission refused until `retry_at` (ms), because of `budget` (None: a 429 pause).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Earliest time worth asking again.
    pub retry_at: i64,
    /// The budget that said no; `None` for a pause after a 429.
    pub budget: Option<Budget>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Ledger {
        Ledger {
            calls: VecDeque::new(),
            done: VecDeque::new(),
            in_flight: BTreeMap::new(),
            next_ticket: 1,
            paused_until: i64::MIN,
            seen: Vec::new(),
        }
    }

    fn prune(&mut self, now: i64) {
        while self.calls.front().is_some_and(|&t| t <= now - HOUR - SLACK) {
            self.calls.pop_front();
        }
        while self.done.front().is_some_and(|&(_, e)| e <= now - DAY) {
            self.done.pop_front();
        }
    }

    /// Execution time within `[from, now]`: finished calls' overlap plus in-flight calls as far
    /// as they ran.
    fn exec_since(&self, from: i64, now: i64) -> i64 {
        let done: i64 = self.done.iter().map(|&(s, e)| (e.min(now) - s.max(from)).max(0)).sum();
        let running: i64 = self.in_flight.values().map(|f| (now - f.start.max(from)).max(0)).sum();
        done + running
    }

    /// What in-flight calls are still expected to spend beyond `now`. A call already past its
    /// estimate is expected to run a quarter of it more: it is still spending.
    fn committed_ahead(&self, now: i64) -> i64 {
        self.in_flight.values().map(|f| (f.start + f.estimate - now).max(f.estimate / 4)).sum()
    }

    /// Asks to start a call expected to run `estimate_ms`. On success returns a ticket to pass
    /// to [`Ledger::finish`]; otherwise when to ask again.
    pub fn try_start(&mut self, now: i64, estimate_ms: i64, limits: &Limits) -> Result<u64, Wait> {
        self.prune(now);
        self.paused_until = self.paused_until.min(now.saturating_add(MAX_PAUSE_MS));
        if now < self.paused_until {
            return Err(Wait { retry_at: self.paused_until, budget: None });
        }
        let mut wait: Option<Wait> = None;
        let mut consider = |retry_at: i64, budget: Budget| {
            if wait.is_none_or(|w| retry_at > w.retry_at) {
                wait = Some(Wait { retry_at, budget: Some(budget) });
            }
        };
        let per_minute = limits.calls_per_minute as usize;
        let in_minute = self.calls.iter().rev().take_while(|&&t| t > now - MINUTE - SLACK).count();
        if in_minute >= per_minute {
            // The call that must age out of the minute before one more fits.
            let idx = self.calls.len() - in_minute + (in_minute - per_minute);
            consider(self.calls[idx] + MINUTE + SLACK, Budget::CallsPerMinute);
        }
        let per_hour = limits.calls_per_hour as usize;
        if self.calls.len() >= per_hour {
            consider(self.calls[self.calls.len() - per_hour] + HOUR + SLACK, Budget::CallsPerHour);
        }
        for (span, budget, limit) in [
            (HOUR, Budget::ExecPerHour, limits.exec_per_hour_ms()),
            (DAY, Budget::ExecPerDay, limits.exec_per_day_ms()),
        ] {
            let estimate = estimate_ms.clamp(1, limit.max(1));
            let needed = self.exec_since(now - span, now) + self.committed_ahead(now) + estimate;
            if needed > limit {
                consider(self.exec_fits_at(now, span, needed - limit), budget);
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.calls.push_back(now);
        let call = InFlight { start: now, estimate: estimate_ms.max(1), owner: None };
        self.in_flight.insert(ticket, call);
        Ok(ticket)
    }

    /// The earliest time after `now` at which `excess` ms of finished execution will have slid
    /// out of a window of `span`. When in-flight calls hold the excess, a second from now (their
    /// end frees it, and waiting callers are woken then anyway).
    fn exec_fits_at(&self, now: i64, span: i64, excess: i64) -> i64 {
        let w0 = now - span;
        // The finished time inside [w, now] falls as the window start w moves right, at a rate
        // equal to the number of finished intervals covering w: sweep their starts and ends.
        let mut points: Vec<(i64, i64)> = self
            .done
            .iter()
            .filter(|&&(_, e)| e > w0)
            .flat_map(|&(s, e)| [(s.max(w0), 1), (e, -1)])
            .collect();
        points.sort_unstable();
        let (mut w, mut active, mut freed) = (w0, 0i64, 0i64);
        for (x, delta) in points {
            if x > w && active > 0 {
                let gain = active * (x - w);
                if freed + gain >= excess {
                    let dx = (excess - freed + active - 1) / active;
                    return w + dx + span;
                }
                freed += gain;
            }
            w = w.max(x);
            active += delta;
        }
        now + 1_000
    }

    /// Records that call `ticket` finished at `now`.
    pub fn finish(&mut self, ticket: u64, now: i64) {
        if let Some(f) = self.in_flight.remove(&ticket) {
            let end = now.max(f.start);
            let at = self.done.partition_point(|&(_, e)| e <= end);
            self.done.insert(at, (f.start, end));
        }
    }

    /// No call before `until` (a 429's `Retry-After`), at most [`MAX_PAUSE_MS`] after `now`.
    pub fn pause_until(&mut self, now: i64, until: i64) {
        let until = until.min(now.saturating_add(MAX_PAUSE_MS));
        self.paused_until = self.paused_until.max(until);
    }

    /// The service says `budget` is spent although the ledger thought otherwise (another client
    /// shares the tenant): mark it full as of `now` so pacing backs off for its window.
    pub fn saturate(&mut self, budget: Budget, now: i64, limits: &Limits) {
        self.prune(now);
        match budget {
            Budget::CallsPerMinute => {
                let in_minute = self.calls.iter().rev().take_while(|&&t| t > now - MINUTE).count();
                let missing = (limits.calls_per_minute as usize).saturating_sub(in_minute);
                self.record_phantom_calls(now, missing);
            }
            Budget::CallsPerHour => {
                let missing = (limits.calls_per_hour as usize).saturating_sub(self.calls.len());
                self.record_phantom_calls(now, missing);
            }
            Budget::ExecPerHour | Budget::ExecPerDay => {
                let (span, limit) = match budget {
                    Budget::ExecPerHour => (HOUR, limits.exec_per_hour_ms()),
                    _ => (DAY, limits.exec_per_day_ms()),
                };
                let missing = limit - self.exec_since(now - span, now);
                if missing > 0 {
                    self.finish_phantom(now - missing, now);
                }
            }
        }
    }

    fn record_phantom_calls(&mut self, now: i64, n: usize) {
        for _ in 0..n {
            let at = self.calls.partition_point(|&t| t <= now);
            self.calls.insert(at, now);
        }
    }

    fn finish_phantom(&mut self, start: i64, end: i64) {
        let at = self.done.partition_point(|&(_, e)| e <= end);
        self.done.insert(at, (start, end));
    }

    /// Spending as of `now`.
    pub fn usage(&self, now: i64) -> Usage {
        Usage {
            calls_minute: self.calls.iter().filter(|&&t| t > now - MINUTE && t <= now).count()
                as u32,
            calls_hour: self.calls.iter().filter(|&&t| t > now - HOUR && t <= now).count() as u32,
            exec_hour_ms: self.exec_since(now - HOUR, now),
            exec_day_ms: self.exec_since(now - DAY, now),
            in_flight: self.in_flight.len() as u32,
            paused_until_ms: (self.paused_until > now)
                .then_some(self.paused_until.min(now.saturating_add(MAX_PAUSE_MS))),
        }
    }

    /// Marks call `ticket` as made by `owner`, a process that shares this ledger.
    pub fn own(&mut self, ticket: u64, owner: Owner, now: i64) {
        if let Some(f) = self.in_flight.get_mut(&ticket) {
            f.owner = Some(owner);
        }
        self.touch(owner, now);
    }

    /// `owner` is alive at `now` (it is using the ledger).
    pub fn touch(&mut self, owner: Owner, now: i64) {
        match self.seen.iter_mut().find(|s| s.owner == owner) {
            Some(s) => s.at = s.at.max(now),
            None => self.seen.push(Seen { owner, at: now }),
        }
    }

    /// Ends the calls of processes that are gone (`alive` says no). A dead process's call is
    /// charged up to when it can have run: until its expected end, or later if the process was
    /// seen alive later, and never past `now`; not, as a live call is, until whenever the
    /// ledger is next read. Owners with no call left in flight are forgotten.
    pub fn reap_dead(&mut self, now: i64, alive: impl Fn(&Owner) -> bool) {
        let seen = |o: &Owner| self.seen.iter().find(|s| s.owner == *o).map_or(i64::MIN, |s| s.at);
        let dead: Vec<(u64, i64)> = self
            .in_flight
            .iter()
            .filter_map(|(&k, f)| {
                let o = f.owner.filter(|o| !alive(o))?;
                Some((k, now.min((f.start + f.estimate).max(seen(&o)))))
            })
            .collect();
        for (k, end) in dead {
            self.finish(k, end);
        }
        let in_flight = &self.in_flight;
        self.seen.retain(|s| in_flight.values().any(|f| f.owner == Some(s.owner)));
    }

    /// Forgets in-flight calls older than `max_age` ms (a process that died mid-call), counting
    /// them as having run until now.
    pub fn reap(&mut self, now: i64, max_age: i64) {
        let stale: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, f)| now - f.start > max_age)
            .map(|(&k, _)| k)
            .collect();
        for k in stale {
            self.finish(k, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn forty_five_calls_a_minute_then_wait_for_the_oldest_to_age_out() {
        let l = limits();
        let mut led = Ledger::new();
        for i in 0..45 {
            let t = led.try_start(i * 100, 10, &l).unwrap();
            led.finish(t, i * 100 + 10);
        }
        let w = led.try_start(4_500, 10, &l).unwrap_err();
        assert_eq!(w, Wait { retry_at: MINUTE + SLACK, budget: Some(Budget::CallsPerMinute) });
        assert!(led.try_start(MINUTE + SLACK - 1, 10, &l).is_err());
        assert!(led.try_start(MINUTE + SLACK, 10, &l).is_ok());
        assert_eq!(led.usage(MINUTE - 1).calls_minute, 45);
    }

    #[test]
    fn fifteen_hundred_an_hour() {
        let l = limits();
        let mut led = Ledger::new();
        let mut now = 0;
        let mut started = 0;
        while now < HOUR {
            match led.try_start(now, 1, &l) {
                Ok(t) => {
                    led.finish(t, now + 1);
                    started += 1;
                }
                Err(w) => now = w.retry_at,
            }
        }
        assert_eq!(started, 1500);
        assert_eq!(led.usage(HOUR - 1).calls_hour, 1500);
    }

    #[test]
    fn execution_budget_counts_running_and_promised_time() {
        let l = Limits { calls_per_minute: 1000, calls_per_hour: 100_000, ..limits() };
        let mut led = Ledger::new();
        // 29 calls of 20 s fit in 10 min (580 s); the 30th would need 600 s exactly: allowed.
        let mut tickets = Vec::new();
        for _ in 0..30 {
            tickets.push(led.try_start(0, 20_000, &l).unwrap());
        }
        let w = led.try_start(0, 20_000, &l).unwrap_err();
        assert_eq!(w.budget, Some(Budget::ExecPerHour));
        for t in tickets {
            led.finish(t, 20_000);
        }
        assert_eq!(led.usage(20_000).exec_hour_ms, 600_000);
        // The window slides: 20 s of budget frees up once the calls' first 20 s leave the hour.
        let w = led.try_start(20_000, 20_000, &l).unwrap_err();
        assert_eq!(w.retry_at, HOUR + 667);
        assert!(led.try_start(w.retry_at, 20_000, &l).is_ok());
    }

    #[test]
    fn pause_after_429_blocks_everything_until_it_passes() {
        let l = limits();
        let mut led = Ledger::new();
        led.pause_until(0, 5_000);
        assert_eq!(led.try_start(0, 1, &l).unwrap_err(), Wait { retry_at: 5_000, budget: None });
        assert!(led.try_start(5_000, 1, &l).is_ok());
    }

    #[test]
    fn saturating_a_budget_backs_off_for_its_window() {
        let l = limits();
        let mut led = Ledger::new();
        led.saturate(Budget::CallsPerMinute, 1_000, &l);
        assert_eq!(led.usage(1_000).calls_minute, 45);
        assert_eq!(led.try_start(1_000, 1, &l).unwrap_err().retry_at, 61_000 + SLACK);
        led.saturate(Budget::ExecPerHour, 100_000, &l);
        assert_eq!(led.usage(100_000).exec_hour_ms, 600_000);
        assert_eq!(
            led.try_start(100_000, 1_000, &l).unwrap_err().budget,
            Some(Budget::ExecPerHour)
        );
    }

    #[test]
    fn budgets_named_in_throttling_messages() {
        assert_eq!(
            Budget::from_message("API calls quota exceeded! maximum allowed 45 per 00:01:00"),
            Some(Budget::CallsPerMinute)
        );
        assert_eq!(
            Budget::from_message("API calls quota exceeded! maximum allowed 1500 per 01:00:00"),
            Some(Budget::CallsPerHour)
        );
        assert_eq!(
            Budget::from_message(
                "You have exceeded processing resources allocated to this tenant."
            ),
            Some(Budget::ExecPerHour)
        );
        assert_eq!(Budget::from_message("Please retry again later."), None);
    }

    #[test]
    fn a_pause_is_never_longer_than_the_maximum() {
        let l = limits();
        let mut led = Ledger::new();
        led.pause_until(1_000, i64::MAX);
        let w = led.try_start(1_000, 1, &l).unwrap_err();
        assert_eq!(w.retry_at, 1_000 + MAX_PAUSE_MS);
        // A far-future pause read from a shared file is clamped once, then stays put.
        let mut led: Ledger = serde_json::from_str(
            r#"{"calls":[],"done":[],"in_flight":{},"next_ticket":1,"paused_until":9000000000000000}"#,
        )
        .unwrap();
        assert_eq!(led.usage(0).paused_until_ms, Some(MAX_PAUSE_MS));
        assert_eq!(led.try_start(0, 1, &l).unwrap_err().retry_at, MAX_PAUSE_MS);
        assert_eq!(led.try_start(60_000, 1, &l).unwrap_err().retry_at, MAX_PAUSE_MS);
        assert!(led.try_start(MAX_PAUSE_MS, 1, &l).is_ok());
    }

    #[test]
    fn a_dead_process_s_call_is_charged_only_while_it_can_have_run() {
        let l = limits();
        let (a, b) = (Owner { pid: 10, started: 1 }, Owner { pid: 11, started: 1 });
        let mut led = Ledger::new();
        let ta = led.try_start(0, 5_000, &l).unwrap();
        led.own(ta, a, 0);
        let tb = led.try_start(0, 5_000, &l).unwrap();
        led.own(tb, b, 0);
        led.touch(b, 8_000);
        // Much later, both are gone: a's call ran at most its estimate, b's until b was last seen.
        led.reap_dead(600_000, |_| false);
        let u = led.usage(600_000);
        assert_eq!(u.in_flight, 0);
        assert_eq!(u.exec_hour_ms, 5_000 + 8_000);
        assert!(led.seen.is_empty(), "owners with nothing in flight are forgotten");
        // A live owner's call stays in flight; a dead one killed early is charged until now.
        let tc = led.try_start(600_000, 5_000, &l).unwrap();
        led.own(tc, a, 600_000);
        led.reap_dead(601_000, |_| true);
        assert_eq!(led.usage(601_000).in_flight, 1);
        led.reap_dead(602_000, |_| false);
        assert_eq!(led.usage(602_000).exec_hour_ms, 13_000 + 2_000);
    }

    #[test]
    fn ledgers_written_before_owners_still_load() {
        let led: Ledger = serde_json::from_str(
            r#"{"calls":[5],"done":[],"in_flight":{"1":{"start":5,"estimate":7}},"next_ticket":2,"paused_until":0}"#,
        )
        .unwrap();
        assert_eq!(led.usage(10).in_flight, 1);
    }

    #[test]
    fn stale_in_flight_calls_are_reaped() {
        let l = limits();
        let mut led = Ledger::new();
        led.try_start(0, 1_000, &l).unwrap();
        led.reap(500_000, 300_000);
        assert_eq!(led.usage(500_000).in_flight, 0);
        assert_eq!(led.usage(500_000).exec_hour_ms, 500_000);
    }
}
