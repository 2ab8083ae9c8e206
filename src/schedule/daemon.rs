//! The scheduling daemon: the one loop of `hunt schedule`. It reloads the library when files
//! change, asks the planner what is due for each scheduled query, hands due windows to the
//! executor (Defender Experts queries first, then the most overdue; the quota governor paces
//! them), records each outcome in the state store, advancing a query's watermark only once its
//! window has landed (and queueing its notifications in the same transaction, for the courier
//! that runs beside it), and sleeps until the next fire. On shutdown it stops taking work, lets
//! in-flight windows finish within a grace period, and returns.

use super::heartbeat::ScheduledQuery;
use super::planner::{self, Step, Timing};
use super::state::outbox::NewNote;
use super::state::{RunRecord, RunStatus, StateStore};
use crate::clock::Clock;
use crate::cron::Cron;
use crate::executor::{Executor, Job, Outcome};
use crate::library;
use crate::query::Query;
use crate::timespan::Window;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How the daemon behaves.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Where the query library is.
    pub paths: Vec<PathBuf>,
    /// How often to look for changed query files.
    pub reload_every: Duration,
    /// How long in-flight windows may take to finish after a shutdown signal.
    pub grace: Duration,
    /// How much history the service keeps (older spans are reported as gaps).
    pub horizon: chrono::Duration,
    /// Windows in flight at once.
    pub concurrency: usize,
    /// Each run is shown to a person already (a status line on the terminal the log goes to):
    /// its log event is then at debug level, so it is not shown twice.
    pub runs_shown: bool,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        DaemonOptions {
            paths: vec![PathBuf::from("queries")],
            reload_every: Duration::from_secs(10),
            grace: Duration::from_secs(30),
            horizon: chrono::Duration::days(30),
            concurrency: 3,
            runs_shown: false,
        }
    }
}

/// What a daemon run did, for its last words and for tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSummary {
    /// Windows that landed.
    pub landed: usize,
    /// Windows that failed (to be retried at their query's next fire).
    pub failed: usize,
    /// Windows still running at the end of the grace period (their files are replaced when they
    /// run again).
    pub abandoned: usize,
    /// Windows due but not started when the daemon stopped (they run at the next start).
    pub not_started: usize,
}

/// A window task's end.
enum Finished {
    /// It ran (landed or not), having started at this time.
    Ran(Box<Outcome>, DateTime<Utc>),
    /// Shutdown came before it started.
    NotStarted(String),
}

/// A window due, and the fire time it belongs to.
struct DueJob {
    job: Job,
    fire: DateTime<Utc>,
}

/// A scheduled query as the daemon keeps it.
struct Scheduled {
    query: Arc<Query>,
    cron: Cron,
}

/// A query whose last window failed: it is not due again before `retry_at`.
struct Failing {
    /// Failures in a row.
    failures: u32,
    /// When it may run again (see [`super::retry`]).
    retry_at: DateTime<Utc>,
    /// Its text when it failed: an edited query is tried at once.
    kql: String,
}

/// The daemon.
pub struct Daemon {
    opts: DaemonOptions,
    executor: Arc<Executor>,
    state: Arc<StateStore>,
    clock: Arc<dyn Clock>,
    /// Called with each recorded run and the outcome it records (the terminal's one-line
    /// status, metrics).
    on_run: Box<OnRun>,
    /// The notifications of a landed window, queued with its run; and who to wake then.
    notes: Option<(Box<Notes>, Arc<tokio::sync::Notify>)>,
}

/// What [`Daemon::with_notes`] is given: the notifications of a landed window's outcome.
type Notes = dyn Fn(&Outcome) -> Vec<NewNote> + Send + Sync;

/// What [`Daemon::on_run`] is given: each recorded run and the outcome it records.
type OnRun = dyn Fn(&RunRecord, &Outcome) + Send + Sync;

/// Fingerprint of the library on disk: changes when a file is added, removed or edited.
fn fingerprint(paths: &[PathBuf]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    let mut entries = Vec::new();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else { continue };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else {
            entries.push((p, meta.len(), meta.modified().ok()));
        }
    }
    entries.sort();
    entries.hash(&mut h);
    h.finish()
}

impl Daemon {
    /// A daemon running `opts.paths` through `executor`, remembering in `state`.
    pub fn new(
        opts: DaemonOptions,
        executor: Arc<Executor>,
        state: Arc<StateStore>,
        clock: Arc<dyn Clock>,
    ) -> Daemon {
        Daemon { opts, executor, state, clock, on_run: Box::new(|_, _| {}), notes: None }
    }

    /// Calls `f` with every run recorded and its outcome.
    pub fn on_run(mut self, f: impl Fn(&RunRecord, &Outcome) + Send + Sync + 'static) -> Daemon {
        self.on_run = Box::new(f);
        self
    }

    /// Queues `notes(outcome)` in the outbox with each landed window's run (in the transaction
    /// that moves the watermark), then wakes `courier`.
    pub fn with_notes(
        mut self,
        notes: impl Fn(&Outcome) -> Vec<NewNote> + Send + Sync + 'static,
        courier: Arc<tokio::sync::Notify>,
    ) -> Daemon {
        self.notes = Some((Box::new(notes), courier));
        self
    }

    /// Loads the library and records it, with this process, as the state's daemon (started at
    /// `started`), for `hunt status`.
    fn load(&self, started: DateTime<Utc>) -> BTreeMap<String, Scheduled> {
        let loaded = library::load(&self.opts.paths);
        for e in &loaded.errors {
            tracing::error!("{e}");
        }
        let mut scheduled = BTreeMap::new();
        for q in loaded.queries.into_iter().filter(|q| q.enabled) {
            let Some(expr) = q.schedule.clone() else { continue };
            match Cron::parse(&expr) {
                Ok(cron) => {
                    scheduled.insert(q.id.clone(), Scheduled { query: Arc::new(q), cron });
                }
                Err(e) => tracing::error!(query = %q.id, "not scheduled: {e}"),
            }
        }
        tracing::info!(queries = scheduled.len(), "library loaded");
        let record: Vec<ScheduledQuery> = scheduled
            .values()
            .map(|s| ScheduledQuery {
                id: s.query.id.clone(),
                schedule: s.query.schedule.clone().unwrap_or_default(),
                source: s.query.source.display().to_string(),
            })
            .collect();
        if let Err(e) = self.state.record_daemon(started, &record) {
            tracing::warn!("{e}");
        }
        scheduled
    }

    /// The windows due now, best first: Defender Experts queries, then the most overdue.
    fn due(
        &self,
        library: &BTreeMap<String, Scheduled>,
        busy: &HashSet<String>,
        failing: &HashMap<String, Failing>,
        now: DateTime<Utc>,
    ) -> (Vec<DueJob>, Option<DateTime<Utc>>) {
        let watermarks = match self.state.watermarks() {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("cannot read the schedule state: {e}");
                return (Vec::new(), Some(now + chrono::Duration::seconds(5)));
            }
        };
        let mut due = Vec::new();
        let mut next_fire: Option<DateTime<Utc>> = None;
        for (id, s) in library.iter().filter(|(id, _)| !busy.contains(*id)) {
            if let Some(f) = failing.get(id).filter(|f| f.retry_at > now) {
                next_fire = Some(next_fire.map_or(f.retry_at, |n| n.min(f.retry_at)));
                continue;
            }
            let q = &s.query;
            let timing = Timing {
                cron: &s.cron,
                lookback: q.lookback.unwrap_or(chrono::Duration::days(1)),
                delay: q.delay.unwrap_or_default(),
            };
            let watermark = match watermarks.get(id) {
                Some(w) => Some(*w),
                None => match super::book::anchor(&self.state, id, timing, now) {
                    Ok(w) => w,
                    Err(e) => {
                        let what = "cannot record where its first window starts";
                        tracing::error!(query = %id, "{what}: {e}");
                        continue;
                    }
                },
            };
            match planner::step(timing, watermark, now, self.opts.horizon) {
                Step::Run { window, fire, gap } => {
                    if let Some(gap) = gap {
                        let reason =
                            "older than the service keeps: these events can no longer be hunted";
                        tracing::warn!(query = %id, %gap, "{reason}");
                        if let Err(e) = self.state.record_gap(id, gap, reason) {
                            tracing::error!(query = %id, "cannot record a gap: {e}");
                            continue;
                        }
                    }
                    if window.start < window.end {
                        due.push(DueJob { job: Job { query: Arc::clone(q), window }, fire });
                    }
                }
                Step::Idle { next_fire: Some(t) } => {
                    next_fire = Some(next_fire.map_or(t, |n| n.min(t)));
                }
                Step::Idle { next_fire: None } => {}
            }
        }
        due.sort_by(|a, b| {
            let (qa, qb) = (&a.job.query, &b.job.query);
            let den = |q: &Query| q.is_defender_experts();
            den(qb).cmp(&den(qa)).then(a.fire.cmp(&b.fire)).then(qa.id.cmp(&qb.id))
        });
        (due, next_fire)
    }

    /// Records an outcome; returns whether the window landed.
    fn record(&self, outcome: &Outcome, started: DateTime<Utc>) -> bool {
        let (run, advance) = super::book::run_record(outcome, started);
        let landed = advance.is_some();
        let notes = match &self.notes {
            Some((notes, _)) if landed => notes(outcome),
            _ => Vec::new(),
        };
        if let Err(e) = self.state.record_notifying(&run, advance, &notes, self.clock.now()) {
            tracing::error!(query = %run.query_id, window = %run.window, "cannot record the run: {e}");
            return false;
        }
        if let Some((_, courier)) = self.notes.as_ref().filter(|_| !notes.is_empty()) {
            courier.notify_one();
        }
        // One spelling of a status everywhere (`ok`, as in --json and the state). When a line
        // per run goes to the terminal the log is on, the event is debug: each run shows once.
        macro_rules! run_event {
            ($level:ident) => {
                tracing::$level!(
                    query = %run.query_id, window = %run.window, status = %run.status,
                    rows = run.rows, files = run.files.len(), seconds = run.seconds,
                    error = run.error.as_deref().unwrap_or(""), "run"
                )
            };
        }
        if self.opts.runs_shown {
            run_event!(debug);
        } else {
            run_event!(info);
        }
        (self.on_run)(&run, outcome);
        landed
    }

    /// Books a finished task.
    fn finished(
        &self,
        finished: Finished,
        busy: &mut HashSet<String>,
        tasks: &mut HashMap<String, tokio::task::AbortHandle>,
        failing: &mut HashMap<String, Failing>,
        library: &BTreeMap<String, Scheduled>,
        summary: &mut DaemonSummary,
    ) {
        match finished {
            Finished::Ran(outcome, _) if outcome.stopped => {
                busy.remove(&outcome.job.query.id);
                tasks.remove(&outcome.job.query.id);
                summary.not_started += 1;
            }
            Finished::Ran(outcome, started) => {
                let id = &outcome.job.query.id;
                busy.remove(id);
                tasks.remove(id);
                if self.record(&outcome, started) {
                    summary.landed += 1;
                    failing.remove(id);
                } else {
                    summary.failed += 1;
                    self.back_off(&outcome.job.query, failing, library);
                }
            }
            Finished::NotStarted(id) => {
                busy.remove(&id);
                tasks.remove(&id);
                summary.not_started += 1;
            }
        }
    }

    /// Holds back a query whose window failed until its next fire, later after repeated
    /// failures.
    fn back_off(
        &self,
        query: &Query,
        failing: &mut HashMap<String, Failing>,
        library: &BTreeMap<String, Scheduled>,
    ) {
        let Some(scheduled) = library.get(&query.id) else { return };
        let failures = failing.get(&query.id).map_or(0, |f| f.failures).saturating_add(1);
        let retry_at = super::retry::retry_at(&scheduled.cron, self.clock.now(), failures);
        tracing::warn!(
            query = %query.id, failures, retry_at = %retry_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "the window failed: it is tried again then"
        );
        failing.insert(query.id.clone(), Failing { failures, retry_at, kql: query.kql.clone() });
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> DaemonSummary {
        let mut summary = DaemonSummary::default();
        let permits = Arc::new(tokio::sync::Semaphore::new(self.opts.concurrency.max(1)));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Finished>();
        let mut busy: HashSet<String> = HashSet::new();
        let mut tasks: HashMap<String, tokio::task::AbortHandle> = HashMap::new();
        let mut failing: HashMap<String, Failing> = HashMap::new();
        let started = self.clock.now();
        let mut library = self.load(started);
        let mut print = fingerprint(&self.opts.paths);
        let mut next_reload = tokio::time::Instant::now() + self.opts.reload_every;
        loop {
            if *shutdown.borrow() {
                break;
            }
            if tokio::time::Instant::now() >= next_reload {
                let now_print = fingerprint(&self.opts.paths);
                if now_print != print {
                    library = self.load(started);
                    print = now_print;
                    // An edited query is tried again at once.
                    failing.retain(|id, f| library.get(id).is_some_and(|s| s.query.kql == f.kql));
                }
                next_reload = tokio::time::Instant::now() + self.opts.reload_every;
            }
            let now = self.clock.now();
            let (due, next_fire) = self.due(&library, &busy, &failing, now);
            for DueJob { job, .. } in due {
                let id = job.query.id.clone();
                let (exec, tx, permits, clock) = (
                    Arc::clone(&self.executor),
                    tx.clone(),
                    Arc::clone(&permits),
                    Arc::clone(&self.clock),
                );
                busy.insert(id.clone());
                let handle = tokio::spawn(async move {
                    // Closed at shutdown: a window that has not started yet does not start.
                    let Ok(_permit) = permits.acquire_owned().await else {
                        let _ = tx.send(Finished::NotStarted(job.query.id.clone()));
                        return;
                    };
                    let started = clock.now();
                    let outcome = exec.run_one(job).await;
                    let _ = tx.send(Finished::Ran(Box::new(outcome), started));
                });
                tasks.insert(id, handle.abort_handle());
            }
            let wake = next_fire.map_or(Duration::from_secs(3600), |t| {
                (t - self.clock.now()).to_std().unwrap_or(Duration::ZERO)
            });
            let until = (tokio::time::Instant::now() + wake).min(next_reload);
            tokio::select! {
                Some(finished) = rx.recv() => self.finished(finished, &mut busy, &mut tasks, &mut failing, &library, &mut summary),
                _ = tokio::time::sleep_until(until) => {}
                _ = shutdown.changed() => {}
            }
        }
        // Shutdown: no new work, windows not yet started are dropped, windows in flight get the
        // grace period.
        permits.close();
        tracing::info!(queued_or_running = busy.len(), "shutting down");
        let deadline = tokio::time::Instant::now() + self.opts.grace;
        while !busy.is_empty() {
            tokio::select! {
                Some(finished) = rx.recv() => self.finished(finished, &mut busy, &mut tasks, &mut failing, &library, &mut summary),
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        for (id, task) in tasks {
            tracing::warn!(query = %id, "abandoned at shutdown: the window runs again next time");
            task.abort();
            summary.abandoned += 1;
        }
        if let Err(e) = self.state.record_daemon_stopped(self.clock.now()) {
            tracing::warn!("{e}");
        }
        summary
    }
}

/// The one-line status of a run, for a terminal, printed at `now`.
pub fn status_line(run: &RunRecord, now: DateTime<Utc>) -> String {
    let status = match run.status {
        RunStatus::Ok => "ok",
        RunStatus::Incomplete => "INCOMPLETE",
        RunStatus::Failed => "FAILED",
    };
    let mut line = format!(
        "{} {} {} {status} {} rows {} files {:.1}s",
        now.format("%H:%M:%S"),
        run.query_id,
        Window::to_string(&run.window),
        run.rows,
        run.files.len(),
        run.seconds
    );
    if let Some(e) = &run.error {
        line.push_str(": ");
        line.push_str(e);
    }
    line
}
