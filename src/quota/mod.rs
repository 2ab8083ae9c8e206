//! Quotas: the service's per-tenant budgets ([`Limits`]), the pure [`ledger`] that accounts for
//! them, the optional state file that shares one ledger among every hunt process of a tenant on
//! the machine ([`store`]), and the async [`Governor`] that makes callers wait for budget instead
//! of being refused, in turn (first come, first served), and pauses the whole tenant after a 429.

pub mod ledger;
pub mod process;
pub mod store;

use crate::clock::Clock;
use ledger::{Budget, Ledger, Owner, Usage, Wait};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::LedgerFile;
use tokio::sync::Notify;

/// The service's budgets for one tenant, and the result caps. Defaults are the documented
/// figures; Microsoft sizes some per tenant, so every one is configurable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Calls per sliding minute.
    pub calls_per_minute: u32,
    /// Calls per sliding hour.
    pub calls_per_hour: u32,
    /// Execution (request wall) time per sliding hour, e.g. `"10m"`.
    #[serde(with = "duration_text")]
    pub exec_per_hour: Duration,
    /// Execution time per sliding day, e.g. `"3h"`.
    #[serde(with = "duration_text")]
    pub exec_per_day: Duration,
    /// Rows the service returns at most in one result (more are cut).
    pub max_rows: u64,
    /// Largest result in bytes (beyond it the service answers 400).
    pub max_result_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            calls_per_minute: 45,
            calls_per_hour: 1500,
            exec_per_hour: Duration::from_secs(600),
            exec_per_day: Duration::from_secs(3 * 3600),
            max_rows: 100_000,
            max_result_bytes: 124 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// Refuses limits that could never admit a call.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            ("calls_per_minute", self.calls_per_minute == 0, "1 (a call)"),
            ("calls_per_hour", self.calls_per_hour == 0, "1 (a call)"),
            ("exec_per_hour", self.exec_per_hour < Duration::from_secs(1), "\"1s\""),
            ("exec_per_day", self.exec_per_day < Duration::from_secs(1), "\"1s\""),
            ("max_rows", self.max_rows == 0, "1 (a row)"),
            ("max_result_bytes", self.max_result_bytes < 1024, "1024 (bytes)"),
        ];
        match checks.iter().find(|(_, bad, _)| *bad) {
            Some((key, _, least)) => Err(format!(
                "[quota] {key} must be at least {least}: no call could ever be admitted"
            )),
            None => Ok(()),
        }
    }

    /// Execution budget per hour in ms.
    pub fn exec_per_hour_ms(&self) -> i64 {
        self.exec_per_hour.as_millis() as i64
    }

    /// Execution budget per day in ms.
    pub fn exec_per_day_ms(&self) -> i64 {
        self.exec_per_day.as_millis() as i64
    }
}

mod duration_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        let text = chrono::Duration::from_std(*d)
            .map(crate::timespan::format_duration)
            .unwrap_or_else(|_| format!("{}s", d.as_secs()));
        s.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        crate::timespan::parse_duration(&text)
            .map_err(serde::de::Error::custom)?
            .to_std()
            .map_err(serde::de::Error::custom)
    }
}

/// Makes calls to one tenant wait for budget.
pub struct Governor {
    limits: Limits,
    clock: Arc<dyn Clock>,
    ledger: Mutex<Ledger>,
    file: Option<LedgerFile>,
    queue: Mutex<WaitQueue>,
    changed: Notify,
    /// This process, when the ledger is shared with others (see [`process`]).
    owner: Option<Owner>,
    /// The last wait reported, so a caller that wakes early does not say it again.
    told: Mutex<Option<Wait>>,
    /// Told each wait's line when it starts, and `None` when a call goes out after one (a
    /// progress line on a terminal).
    listener: Mutex<Option<WaitListener>>,
}

/// Called with the line of a wait that starts ([`describe_wait`]), and with `None` when a call
/// goes out after it.
pub type WaitListener = Arc<dyn Fn(Option<&str>) + Send + Sync>;

/// The longest 429 pause recorded in the ledger.
pub const MAX_PAUSE: Duration = Duration::from_millis(ledger::MAX_PAUSE_MS as u64);

/// Waits at least this long are logged as warnings (shorter ones at info, seen with `-v`).
const LOUD_WAIT_MS: i64 = 10_000;

/// Quota did not come before the caller's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waited {
    /// The budget still spent at the deadline, if one was (else a 429 pause).
    pub budget: Option<Budget>,
    /// Still queued behind other callers at the deadline.
    pub queued: bool,
}

impl std::fmt::Display for Waited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.queued, self.budget) {
            (true, _) => f.write_str("still queued behind other queries of this tenant"),
            (false, Some(b)) => write!(f, "the {b:?} budget was still spent"),
            (false, None) => f.write_str("the tenant was still paused by the service's 429"),
        }
    }
}

/// How urgent a call is: higher is served first when budget is short.
pub type Priority = u8;

/// Priority of routine queries.
pub const ROUTINE: Priority = 0;
/// Priority of Defender Experts Notification queries.
pub const DEFENDER_EXPERTS: Priority = 10;

#[derive(Default)]
struct WaitQueue {
    next: u64,
    waiting: std::collections::BTreeSet<(std::cmp::Reverse<Priority>, u64)>,
}

/// A caller's place in the queue; leaving it lets the next caller try.
struct QueuePlace<'a> {
    governor: &'a Governor,
    key: (std::cmp::Reverse<Priority>, u64),
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        let mut q = self.governor.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.waiting.remove(&self.key);
        drop(q);
        self.governor.changed.notify_waiters();
    }
}

/// Permission to make one call; report its end with [`Permit::finish`] (dropping it counts the
/// call as finished at that moment).
pub struct Permit {
    governor: Arc<Governor>,
    ticket: Option<u64>,
}

impl Permit {
    /// The call ended now.
    pub fn finish(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let Some(t) = self.ticket.take() {
            let now = self.governor.clock.now_ms();
            self.governor.with_ledger(|l| l.finish(t, now));
            self.governor.changed.notify_waiters();
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.release();
    }
}

impl Governor {
    /// A governor with a private in-memory ledger.
    pub fn new(limits: Limits, clock: Arc<dyn Clock>) -> Arc<Governor> {
        Governor::build(limits, clock, None)
    }

    /// A governor whose ledger lives in `file`, shared with other processes.
    pub fn shared(limits: Limits, clock: Arc<dyn Clock>, file: LedgerFile) -> Arc<Governor> {
        Governor::build(limits, clock, Some(file))
    }

    fn build(limits: Limits, clock: Arc<dyn Clock>, file: Option<LedgerFile>) -> Arc<Governor> {
        let owner = file.as_ref().and_then(|_| process::this_process());
        Arc::new(Governor {
            limits,
            clock,
            ledger: Mutex::new(Ledger::new()),
            file,
            queue: Mutex::new(WaitQueue::default()),
            changed: Notify::new(),
            owner,
            told: Mutex::new(None),
            listener: Mutex::new(None),
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The clock it tells the time by (the tenant's clock, for whoever works under it).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Runs `f` on the ledger (the shared file's, read afresh, when there is one). A shared
    /// ledger first learns that this process is alive and ends the calls of dead ones.
    fn with_ledger<R>(&self, f: impl FnOnce(&mut Ledger) -> R) -> R {
        let mut ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        match &self.file {
            Some(file) => {
                let now = self.clock.now_ms();
                file.update(&mut ledger, |l| {
                    if let Some(me) = self.owner {
                        l.touch(me, now);
                    }
                    l.reap_dead(now, process::is_alive);
                    f(l)
                })
            }
            None => f(&mut ledger),
        }
    }

    /// Tells `listener` each wait as it starts and when it is over (see [`WaitListener`]).
    pub fn on_wait(&self, listener: WaitListener) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(listener);
    }

    fn listener(&self) -> Option<WaitListener> {
        self.listener.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Says why a call waits and until when, once per distinct wait: a warning when it is
    /// long, else at info level.
    fn tell_wait(&self, wait: Wait, usage: &Usage, now: i64) {
        {
            let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
            if *told == Some(wait) {
                return;
            }
            *told = Some(wait);
        }
        let text = describe_wait(wait, usage, &self.limits, now);
        if let Some(listen) = self.listener() {
            listen(Some(&text));
        }
        if wait.retry_at - now >= LOUD_WAIT_MS {
            tracing::warn!("{text}");
        } else {
            tracing::info!("{text}");
        }
    }

    /// Waits until a call expected to run `estimate` fits every budget, then returns a permit.
    /// Callers are served by `priority` (higher first: Defender Experts queries before routine
    /// ones), and in arrival order within a priority.
    pub async fn acquire(
        self: &Arc<Self>,
        estimate: Duration,
        priority: Priority,
        deadline: tokio::time::Instant,
    ) -> Result<Permit, Waited> {
        let key = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.next += 1;
            let key = (std::cmp::Reverse(priority), q.next);
            q.waiting.insert(key);
            key
        };
        // Leaves the queue however this future ends (served, or dropped while waiting).
        let _place = QueuePlace { governor: self, key };
        let estimate_ms = estimate.as_millis().min(i64::MAX as u128) as i64;
        loop {
            let changed = self.changed.notified();
            let first = {
                let q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                q.waiting.first() == Some(&key)
            };
            if !first {
                tokio::select! {
                    _ = changed => {}
                    _ = tokio::time::sleep_until(deadline) => return Err(Waited { budget: None, queued: true }),
                }
                continue;
            }
            let now = self.clock.now_ms();
            let limits = &self.limits;
            let owner = self.owner;
            // A refusal carries the usage it was judged on, read in the same pass over the
            // ledger, to say why the call waits.
            match self.with_ledger(|l| {
                l.reap(now, 15 * 60_000);
                let ticket =
                    l.try_start(now, estimate_ms, limits).map_err(|w| (w, l.usage(now)))?;
                if let Some(me) = owner {
                    l.own(ticket, me, now);
                }
                Ok(ticket)
            }) {
                Ok(ticket) => {
                    // A wait was told: it is over.
                    let waited = self.told.lock().unwrap_or_else(|p| p.into_inner()).take();
                    if waited.is_some()
                        && let Some(listen) = self.listener()
                    {
                        listen(None);
                    }
                    return Ok(Permit { governor: Arc::clone(self), ticket: Some(ticket) });
                }
                Err((wait, usage)) => {
                    self.tell_wait(wait, &usage, now);
                    let ms = (wait.retry_at - now).clamp(1, 3_600_000) as u64;
                    let wake = tokio::time::Instant::now() + Duration::from_millis(ms);
                    if wake > deadline {
                        return Err(Waited { budget: wait.budget, queued: false });
                    }
                    tokio::select! {
                        _ = tokio::time::sleep_until(wake) => {}
                        _ = changed => {}
                    }
                }
            }
        }
    }

    /// The service said 429: no call to this tenant before `pause` has passed, and the budget
    /// the message names is marked spent. Returns the pause applied.
    pub fn throttled(&self, pause: Duration, message: &str) -> Duration {
        // A pause beyond MAX_PAUSE is recorded as MAX_PAUSE: the shared ledger must never keep
        // every process of the tenant waiting on one odd answer.
        let pause = pause.min(MAX_PAUSE);
        let now = self.clock.now_ms();
        let until = now + pause.as_millis().min(i64::MAX as u128) as i64;
        let limits = &self.limits;
        self.with_ledger(|l| {
            l.pause_until(now, until);
            if let Some(budget) = Budget::from_message(message) {
                l.saturate(budget, now, limits);
            }
        });
        self.changed.notify_waiters();
        pause
    }

    /// Spending as of now.
    pub fn usage(&self) -> Usage {
        let now = self.clock.now_ms();
        self.with_ledger(|l| l.usage(now))
    }
}

/// One line on why a call waits and until when, e.g. `waiting for quota: calls this minute
/// 45/45; resumes 19:41:07 UTC (in 12s)`.
pub fn describe_wait(wait: Wait, usage: &Usage, limits: &Limits, now: i64) -> String {
    let mins = |ms: i64| format!("{:.1} min", ms as f64 / 60_000.0);
    let why = match wait.budget {
        None => "paused after the service's 429 (Retry-After)".to_owned(),
        Some(Budget::CallsPerMinute) => {
            format!("calls this minute {}/{}", usage.calls_minute, limits.calls_per_minute)
        }
        Some(Budget::CallsPerHour) => {
            format!("calls this hour {}/{}", usage.calls_hour, limits.calls_per_hour)
        }
        Some(Budget::ExecPerHour) => format!(
            "execution time this hour {} of {} ({} in flight)",
            mins(usage.exec_hour_ms),
            mins(limits.exec_per_hour_ms()),
            usage.in_flight
        ),
        Some(Budget::ExecPerDay) => format!(
            "execution time today {} of {} ({} in flight)",
            mins(usage.exec_day_ms),
            mins(limits.exec_per_day_ms()),
            usage.in_flight
        ),
    };
    let at = chrono::DateTime::from_timestamp_millis(wait.retry_at)
        .map_or_else(|| "later".to_owned(), |t| t.format("%H:%M:%S UTC").to_string());
    let secs = ((wait.retry_at - now).max(0) as u64).div_ceil(1000);
    format!("waiting for quota: {why}; resumes {at} (in {secs}s)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TokioClock;

    #[test]
    fn a_wait_says_which_budget_and_until_when() {
        let limits = Limits::default();
        let usage = Usage {
            calls_minute: 45,
            calls_hour: 45,
            exec_hour_ms: 90_000,
            exec_day_ms: 90_000,
            in_flight: 2,
            paused_until_ms: None,
        };
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-07T19:40:55Z").unwrap();
        let now = t.timestamp_millis();
        let w = Wait { retry_at: now + 12_000, budget: Some(Budget::CallsPerMinute) };
        assert_eq!(
            describe_wait(w, &usage, &limits, now),
            "waiting for quota: calls this minute 45/45; resumes 19:41:07 UTC (in 12s)"
        );
        let w = Wait { retry_at: now + 1, budget: Some(Budget::ExecPerHour) };
        let text = describe_wait(w, &usage, &limits, now);
        assert!(
            text.contains("execution time this hour 1.5 min of 10.0 min (2 in flight)"),
            "{text}"
        );
        let w = Wait { retry_at: now + 300_000, budget: None };
        assert!(describe_wait(w, &usage, &limits, now).contains("429"));
    }

    fn far() -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_secs(86_400 * 7)
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_gives_up_at_its_deadline() {
        let limits = Limits { calls_per_minute: 1, ..Limits::default() };
        let gov = Governor::new(limits, Arc::new(TokioClock::new()));
        gov.acquire(Duration::from_millis(1), ROUTINE, far()).await.unwrap().finish();
        let soon = tokio::time::Instant::now() + Duration::from_secs(10);
        let err = gov.acquire(Duration::from_millis(1), ROUTINE, soon).await.err().unwrap();
        assert_eq!(err.budget, Some(Budget::CallsPerMinute));
        assert!(tokio::time::Instant::now() <= soon);
    }

    #[test]
    fn zero_limits_are_refused() {
        assert!(Limits::default().validate().is_ok());
        let e = Limits { calls_per_minute: 0, ..Limits::default() }.validate().unwrap_err();
        assert!(e.contains("calls_per_minute"), "{e}");
        assert!(Limits { max_rows: 0, ..Limits::default() }.validate().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_callers_are_paced_and_served_in_order() {
        let clock = Arc::new(TokioClock::new());
        let gov = Governor::new(Limits::default(), clock.clone());
        let start = tokio::time::Instant::now();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..90 {
            let (gov, order) = (Arc::clone(&gov), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                let p = gov.acquire(Duration::from_millis(100), ROUTINE, far()).await.unwrap();
                order.lock().unwrap().push((i, tokio::time::Instant::now()));
                tokio::time::sleep(Duration::from_millis(100)).await;
                p.finish();
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        let ids: Vec<i32> = order.iter().map(|(i, _)| *i).collect();
        assert_eq!(ids, (0..90).collect::<Vec<_>>(), "first come, first served");
        // 45 in the first minute, the next 45 as soon as the first ones age out (plus the
        // one-second margin for the service's arrival clock).
        assert!(order[44].1 - start < Duration::from_secs(1));
        assert_eq!(order[45].1 - start, Duration::from_secs(61));
        assert!(order[89].1 - start <= Duration::from_secs(62));
    }

    #[tokio::test(start_paused = true)]
    async fn defender_experts_queries_go_first_when_budget_is_short() {
        let limits = Limits { calls_per_minute: 2, ..Limits::default() };
        let gov = Governor::new(limits, Arc::new(TokioClock::new()));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, prio) in
            [("r1", ROUTINE), ("r2", ROUTINE), ("r3", ROUTINE), ("den", DEFENDER_EXPERTS)]
        {
            let (gov, order) = (Arc::clone(&gov), Arc::clone(&order));
            tasks.push(tokio::spawn(async move {
                gov.acquire(Duration::from_millis(1), prio, far()).await.unwrap().finish();
                order.lock().unwrap().push(name);
            }));
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec!["r1", "r2", "den", "r3"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_every_caller_until_retry_after() {
        let gov = Governor::new(Limits::default(), Arc::new(TokioClock::new()));
        let start = tokio::time::Instant::now();
        gov.throttled(Duration::from_millis(2_128), "Please retry again later.");
        let p = gov.acquire(Duration::from_millis(1), ROUTINE, far()).await.unwrap();
        assert!(tokio::time::Instant::now() - start >= Duration::from_millis(2_128));
        p.finish();
        assert_eq!(gov.usage().calls_minute, 1);
    }

    #[test]
    fn limits_read_from_toml_text() {
        let l: Limits =
            serde_yaml_ng::from_str("calls_per_minute: 30\nexec_per_hour: 5m\n").unwrap();
        assert_eq!(l.calls_per_minute, 30);
        assert_eq!(l.exec_per_hour, Duration::from_secs(300));
        assert_eq!(l.calls_per_hour, 1500);
        assert!(serde_yaml_ng::from_str::<Limits>("calls_per_mnute: 3").is_err());
    }
}
