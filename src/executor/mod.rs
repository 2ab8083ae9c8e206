//! The executor: the one place where the quota governor, the Graph client, the decoder and the
//! sink meet. It runs jobs (a query and its window) a few at a time and turns each into an
//! [`Outcome`]: rows and files landed, or what went wrong, where, with the service's request-id.
//!
//! Every call waits for quota first. A 429 pauses the whole tenant for `Retry-After` and the call
//! is retried (never dropped) until a deadline; 5xx answers and transport failures get bounded
//! retries with backoff. A result cut at the row cap, refused as too large, or timed out is
//! re-asked as two half windows (half-open, no overlap), recursively down to a minimum window,
//! so every row lands exactly once, or the outcome says plainly what is missing.
//!
//! Once every part of a window is in, the destination's [`Publisher`] finishes it (removing the
//! files of earlier runs it supersedes, or committing it to a Delta table); the executor does
//! not know which format it writes.

mod failure;

pub use failure::{Failure, WindowFailure};

use crate::decode::{self, DecodeOptions};
use crate::graph::retry::{Attempts, Decision, Jitter, Kind, Policy};
use crate::graph::{Body, GraphError, HuntApi, HuntResponse};
use crate::output::publish::{Publisher, WindowParts};
use crate::output::sink::{self, FileMeta};
use crate::output::{Destination, Staged, Staging, Written};
use crate::query::{Query, SplitPolicy};
use crate::quota::{DEFENDER_EXPERTS, Governor, Priority, ROUTINE};
use crate::timespan::Window;
use arrow_schema::SchemaRef;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Receives the decoded rows of each window part once it has landed.
pub type RowTap = Arc<dyn Fn(&Query, &[arrow_array::RecordBatch]) + Send + Sync>;

/// How many of a query's first rows its outcome keeps as JSON objects (`Outcome::sample`), for
/// the notifications of its window; 0 for most queries.
pub type SampleRows = Arc<dyn Fn(&Query) -> usize + Send + Sync>;

/// One row as JSON: column → the service's value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// A query to run over a window.
#[derive(Debug, Clone)]
pub struct Job {
    /// The query.
    pub query: Arc<Query>,
    /// The window of event time to ask for.
    pub window: Window,
}

/// What became of a job.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The job.
    pub job: Job,
    /// Rows landed.
    pub rows: usize,
    /// Files written.
    pub files: Vec<Written>,
    /// Windows the job was answered in (1 unless split).
    pub parts: usize,
    /// Wall time of the whole job.
    pub elapsed: Duration,
    /// The service's request-id(s), or hunt's client-request-id where the service sent none.
    pub request_ids: Vec<String>,
    /// Cells that did not fit their declared type (kept as null or JSON text).
    pub mismatched_cells: u64,
    /// 429 answers met (each waited out and retried).
    pub throttled: u32,
    /// What those 429 answers asked the tenant to wait, in all.
    pub throttle_wait: Duration,
    /// Time spent waiting for quota (budgets and 429 pauses) before calls went out.
    pub quota_wait: Duration,
    /// Calls retried after a 5xx or transport failure.
    pub retried: u32,
    /// Windows whose result is known to be cut (kept, marked incomplete).
    pub incomplete: Vec<Window>,
    /// Windows that did not land at all (their rows are missing).
    pub failed: Vec<Window>,
    /// The executor was stopped before every call went out (the job should run again later).
    pub stopped: bool,
    /// Things the user should know that are not failures.
    pub warnings: Vec<String>,
    /// Why windows (or parts) of the job did not land, each typed.
    pub failures: Vec<WindowFailure>,
    /// The row cap in force (to say why `incomplete` windows are cut).
    pub row_cap: u64,
    /// The first rows landed, as JSON objects, as many as the executor's [`SampleRows`] asks
    /// for the query (none without it).
    pub sample: Vec<Row>,
}

impl Outcome {
    /// A job's outcome before anything happened.
    pub fn new(job: Job) -> Outcome {
        Outcome {
            job,
            rows: 0,
            files: Vec::new(),
            parts: 0,
            elapsed: Duration::ZERO,
            request_ids: Vec::new(),
            mismatched_cells: 0,
            throttled: 0,
            throttle_wait: Duration::ZERO,
            quota_wait: Duration::ZERO,
            retried: 0,
            incomplete: Vec::new(),
            failed: Vec::new(),
            stopped: false,
            warnings: Vec::new(),
            failures: Vec::new(),
            row_cap: 0,
            sample: Vec::new(),
        }
    }

    /// True when the job landed everything, complete.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty() && self.incomplete.is_empty()
    }

    /// Why the job (or part of it) failed or is incomplete, as one line for people; `None`
    /// when it landed whole.
    pub fn error(&self) -> Option<String> {
        // The job's window is named by whoever prints this; a part of it is named here.
        let mut texts: Vec<String> = self
            .failures
            .iter()
            .map(|f| match f.window == self.job.window {
                true => f.failure.to_string(),
                false => format!("part {}: {}", f.window, f.failure),
            })
            .collect();
        if !self.incomplete.is_empty() {
            texts.push(format!(
                "{} window(s) returned the row cap ({} rows) and could not be split further: \
                 their rows are kept but incomplete (hunt.complete=false): {}",
                self.incomplete.len(),
                self.row_cap,
                self.incomplete.iter().map(Window::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
        (!texts.is_empty()).then(|| texts.join("; "))
    }

    fn fail(&mut self, window: Window, failure: Failure) {
        self.failed.push(window);
        self.failures.push(WindowFailure { window, failure });
    }
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// Jobs in flight at once.
    pub concurrency: usize,
    /// Smallest window a split may produce.
    pub min_window: chrono::Duration,
    /// Retries after 5xx or transport failures, per call.
    pub max_retries: u32,
    /// How long a job may keep waiting out 429s before it is reported failed.
    pub throttle_deadline: Duration,
    /// First backoff step (doubles per attempt, with jitter).
    pub backoff_base: Duration,
    /// Largest backoff step.
    pub backoff_max: Duration,
    /// Expected duration of a query never seen before (for execution-time pacing).
    pub default_estimate: Duration,
    /// Send queries that hunt's KQL parser rejects (`--no-validate`); by default they fail
    /// locally, without spending a call.
    pub send_invalid: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            concurrency: 3,
            min_window: chrono::Duration::minutes(1),
            max_retries: 4,
            throttle_deadline: Duration::from_secs(6 * 3600),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(120),
            default_estimate: Duration::from_secs(5),
            send_invalid: false,
        }
    }
}

/// Runs jobs against a hunting API and puts what comes back in a [`Destination`].
pub struct Executor {
    api: Arc<dyn HuntApi>,
    governor: Arc<Governor>,
    publisher: Publisher,
    tap: Option<RowTap>,
    sample_rows: Option<SampleRows>,
    opts: ExecOptions,
    decode: DecodeOptions,
    tenant: Option<String>,
    estimates: Mutex<HashMap<String, Duration>>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

/// Why a single call gave no usable result.
enum CallFailure {
    /// The window should be split: result too large, cut, or timed out.
    Split(String),
    /// Final for this window.
    Failed(Failure),
    /// The executor was told to stop before the call went out.
    Stopped,
}

impl Executor {
    /// An executor putting results in `dest`.
    pub fn new(
        api: Arc<dyn HuntApi>,
        governor: Arc<Governor>,
        dest: Arc<Destination>,
        opts: ExecOptions,
    ) -> Executor {
        let publisher = Publisher::new(dest, Arc::clone(governor.clock()));
        Executor::with_publisher(api, governor, publisher, opts)
    }

    /// An executor that writes no files at all: rows only reach its tap (`hunt run --print`
    /// without `--out`).
    pub fn new_without_files(
        api: Arc<dyn HuntApi>,
        governor: Arc<Governor>,
        opts: ExecOptions,
    ) -> Executor {
        Executor::with_publisher(api, governor, Publisher::Discard, opts)
    }

    fn with_publisher(
        api: Arc<dyn HuntApi>,
        governor: Arc<Governor>,
        publisher: Publisher,
        opts: ExecOptions,
    ) -> Executor {
        Executor {
            api,
            governor,
            publisher,
            tap: None,
            sample_rows: None,
            opts,
            decode: DecodeOptions::default(),
            tenant: None,
            estimates: Mutex::new(HashMap::new()),
            stop: None,
        }
    }

    /// Puts `tenant=<name>/` in every output path and the name in every file's metadata (when
    /// hunt serves several tenants).
    pub fn with_tenant(mut self, tenant: Option<String>) -> Executor {
        self.tenant = tenant;
        self
    }

    /// Hands the rows of every window part that lands to `tap`, in the order parts land (a part
    /// cut at the row cap and asked again in halves is not handed over).
    pub fn with_tap(mut self, tap: RowTap) -> Executor {
        self.tap = Some(tap);
        self
    }

    /// Keeps the first `rows(query)` rows of each job's window in its outcome's `sample`.
    pub fn with_sample(mut self, rows: SampleRows) -> Executor {
        self.sample_rows = Some(rows);
        self
    }

    /// Calls not yet sent when `stop` turns true are not sent: their jobs end `stopped`.
    pub fn with_stop(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Executor {
        self.stop = Some(stop);
        self
    }

    /// Runs every job; calls `on_done` as each finishes; returns outcomes in job order.
    pub async fn run_all(
        self: &Arc<Self>,
        jobs: Vec<Job>,
        on_done: impl Fn(&Outcome),
    ) -> Vec<Outcome> {
        let permits = Arc::new(Semaphore::new(self.opts.concurrency.max(1)));
        let mut set = tokio::task::JoinSet::new();
        let mut by_task = HashMap::new();
        for (i, job) in jobs.into_iter().enumerate() {
            let me = Arc::clone(self);
            let permits = Arc::clone(&permits);
            let task = job.clone();
            // The caller's span (e.g. its tenant) follows the job into its task, so log lines
            // say whose window they are about.
            let span = tracing::Span::current();
            let handle = set.spawn(tracing::Instrument::instrument(
                async move {
                    let _permit = permits.acquire_owned().await;
                    (i, me.run_one(job).await)
                },
                span,
            ));
            by_task.insert(handle.id(), (i, task));
        }
        let mut done = Vec::new();
        while let Some(joined) = set.join_next_with_id().await {
            let (i, outcome) = match joined {
                Ok((_, (i, outcome))) => (i, outcome),
                // A bug must not pass for success: the job is reported failed.
                Err(e) => match by_task.remove(&e.id()) {
                    Some((i, job)) => {
                        let mut o = Outcome::new(job);
                        o.fail(o.job.window, Failure::Internal(e.to_string()));
                        (i, o)
                    }
                    None => continue,
                },
            };
            on_done(&outcome);
            done.push((i, outcome));
        }
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, o)| o).collect()
    }

    /// Runs one job: its window, or its parts when the service cannot answer it whole.
    pub async fn run_one(&self, job: Job) -> Outcome {
        let started = tokio::time::Instant::now();
        let deadline = tokio::time::Instant::now() + self.opts.throttle_deadline;
        let mut o = Outcome::new(job.clone());
        o.row_cap = self.governor.limits().max_rows;
        let query = &job.query;
        // A query the service would refuse as a syntax error costs a call of the tenant's 45 a
        // minute (and a failed window at every fire): it fails here instead.
        if !self.opts.send_invalid
            && let Some(e) = crate::kql::syntax::parse(&query.kql).errors.into_iter().next()
        {
            let (line, col) = (query.kql_at.0 + e.line - 1, query.kql_at.1 + e.col);
            let at = format!("{}:{line}:{col}", query.source.display());
            o.fail(job.window, Failure::Invalid { at, message: e.message });
            return o;
        }
        // The result schema of each part landed (for the Delta table's schema).
        let mut schemas: Vec<SchemaRef> = Vec::new();
        // Depth first, earliest part first: the stack holds later parts below earlier ones.
        let mut stack = vec![job.window];
        while let Some(window) = stack.pop() {
            let splittable = self.halves(query, &window);
            match self.call(query, &window, splittable.is_some(), deadline, &mut o).await {
                Ok(Landing::Landed(schema)) => schemas.push(schema),
                Ok(Landing::Cut(rows)) => {
                    if let Some((a, b)) = splittable {
                        tracing::info!(query = %query.id, %window, rows, "row cap reached: splitting");
                        stack.push(b);
                        stack.push(a);
                    }
                }
                Ok(Landing::Failed(failure)) => o.fail(window, failure),
                Ok(Landing::Broken(e)) => o.fail(window, Failure::Internal(e.to_string())),
                Err(CallFailure::Split(why)) => match self.halves(query, &window) {
                    Some((a, b)) => {
                        tracing::info!(query = %query.id, %window, "{why}: splitting");
                        stack.push(b);
                        stack.push(a);
                    }
                    None => {
                        let hint = self.why_no_split(query);
                        o.fail(window, Failure::CannotSplit { why, hint });
                    }
                },
                Err(CallFailure::Failed(failure)) => o.fail(window, failure),
                Err(CallFailure::Stopped) => {
                    o.stopped = true;
                    o.fail(window, Failure::Stopped);
                    o.failed.append(&mut stack);
                }
            }
        }
        if o.parts > 1
            && let Some(op) = crate::kql::window_sensitive_operator(&query.kql)
        {
            o.warnings.push(format!(
                "the window was answered in {} parts and the query uses `{op}`, whose results \
                 depend on the whole window: each part holds its own results, which need \
                 re-aggregating across parts (set `split: never` to refuse splitting)",
                o.parts
            ));
        }
        let query_sha256 = sha256_hex(query.kql.as_bytes());
        let parts = WindowParts {
            query_id: &query.id,
            query_sha256: &query_sha256,
            tenant: self.tenant.as_deref(),
            window: &job.window,
            files: &o.files,
            schemas: &schemas,
            all_landed: o.failed.is_empty(),
            complete: o.incomplete.is_empty(),
            request_ids: &o.request_ids,
        };
        if let Err(why) = self.publisher.finish(&parts).await {
            o.fail(job.window, Failure::Publish(Arc::new(why)));
        }
        o.elapsed = started.elapsed();
        o
    }

    fn why_no_split(&self, query: &Query) -> String {
        if query.split == SplitPolicy::Never {
            " (not split: the query says `split: never`)".into()
        } else {
            format!(
                " (not split further: the window is at the minimum of {})",
                crate::timespan::format_duration(self.opts.min_window)
            )
        }
    }

    /// The two halves of `window`, if the query may be split and the halves are not below the
    /// minimum window. The midpoint is on a whole 100 ns tick, the service's precision.
    fn halves(&self, query: &Query, window: &Window) -> Option<(Window, Window)> {
        if query.split == SplitPolicy::Never {
            return None;
        }
        let half = (window.end - window.start) / 2;
        if half < self.opts.min_window {
            return None;
        }
        let half_ns = half.num_nanoseconds()?;
        let mid = window.start + chrono::Duration::nanoseconds(half_ns - half_ns.rem_euclid(100));
        (mid > window.start && mid < window.end).then_some((
            Window { start: window.start, end: mid },
            Window { start: mid, end: window.end },
        ))
    }

    /// Expected duration of the next call of query `id`: what it took before, else what calls
    /// have taken lately, else the configured default.
    fn estimate(&self, id: &str) -> Duration {
        let e = self.estimates.lock().unwrap_or_else(|p| p.into_inner());
        e.get(id).or_else(|| e.get("")).copied().unwrap_or(self.opts.default_estimate)
    }

    fn learn(&self, id: &str, elapsed: Duration) {
        let mut e = self.estimates.lock().unwrap_or_else(|p| p.into_inner());
        // Lean towards the larger of the last and the running figure: pacing that guesses
        // long spends a little time; guessing short risks the service's own refusal. The
        // entry "" is the figure across all queries, for queries not seen yet.
        for key in [id, ""] {
            let old = e.get(key).copied().unwrap_or(elapsed);
            e.insert(key.to_owned(), elapsed.max((old + elapsed) / 2));
        }
    }

    /// One window: waits for quota, calls, lands the answer as it arrives, retries what is
    /// worth retrying (an answer whose body breaks off while streaming included).
    async fn call(
        &self,
        query: &Query,
        window: &Window,
        splittable: bool,
        deadline: tokio::time::Instant,
        o: &mut Outcome,
    ) -> Result<Landing, CallFailure> {
        let policy =
            Policy::hunting(self.opts.max_retries, self.opts.backoff_base, self.opts.backoff_max);
        let (mut attempts, mut jitter) = (Attempts::default(), Jitter::from_entropy());
        loop {
            // Sign-in first, so the call goes out as soon as quota admits it.
            if let Err(e) = self.api.ready().await {
                return Err(CallFailure::Failed(Failure::SignIn(e.to_string())));
            }
            let estimate = self.estimate(&query.id);
            let acquire = self.governor.acquire(estimate, priority(query), deadline);
            let mut stop = self.stop.clone();
            let stopping = async {
                match &mut stop {
                    Some(rx) => {
                        let _ = rx.wait_for(|stopped| *stopped).await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let asked = tokio::time::Instant::now();
            let admitted = tokio::select! {
                admitted = acquire => admitted,
                _ = stopping => return Err(CallFailure::Stopped),
            };
            o.quota_wait += asked.elapsed();
            let permit = match admitted {
                Ok(p) => p,
                Err(waited) => {
                    return Err(CallFailure::Failed(Failure::QuotaDeadline {
                        deadline_secs: self.opts.throttle_deadline.as_secs(),
                        waited,
                    }));
                }
            };
            let result = self.api.run_hunting_query(&query.kql, window).await;
            permit.finish();
            let err = match result {
                Ok(resp) => {
                    self.learn(&query.id, resp.elapsed);
                    match self.land(query, window, resp, splittable, o).await {
                        // The body broke off (or outgrew the cap) while streaming: as if the
                        // call had failed so.
                        Landing::Broken(e) => e,
                        landing => return Ok(landing),
                    }
                }
                Err(e) => e,
            };
            let message = match &err {
                GraphError::Service(s) => {
                    o.request_ids.extend(s.request_id.clone());
                    s.message.as_str()
                }
                _ => "",
            };
            let kind = err.kind();
            match (kind, policy.decide(kind, &mut attempts, &mut jitter)) {
                (Kind::Throttled { .. }, Decision::Wait(pause)) => {
                    o.throttled += 1;
                    // The governor holds every call to the tenant until the pause has passed;
                    // never longer than the job may wait.
                    if tokio::time::Instant::now() + pause > deadline {
                        self.governor.throttled(pause.min(self.opts.throttle_deadline), message);
                        return Err(CallFailure::Failed(Failure::ThrottleDeadline {
                            times: o.throttled,
                            asked_secs: pause.as_secs_f64(),
                            deadline_secs: self.opts.throttle_deadline.as_secs(),
                            error: err.to_string(),
                        }));
                    }
                    o.throttle_wait += self.governor.throttled(pause, message);
                    tracing::warn!(query = %query.id, "429: every call to this tenant waits {pause:?}");
                }
                (_, Decision::Wait(pause)) => {
                    if let Kind::Transient { retry_after: Some(asked) } = kind {
                        self.governor.throttled(asked, "");
                    }
                    o.retried += 1;
                    tracing::warn!(query = %query.id, "{err}; retrying in {pause:?}");
                    tokio::time::sleep(pause).await;
                }
                (_, Decision::Split) => return Err(CallFailure::Split(split_reason(&err))),
                (_, Decision::Fail) => {
                    return Err(CallFailure::Failed(failure_of(kind, err, attempts.failed)));
                }
            }
        }
    }

    /// Decodes one window's response and writes its rows, at the same time: the decoder hands
    /// each batch to a writer thread as soon as it is full, so decoding and Parquet encoding share
    /// the cores and finished batches do not pile up. A result at the row cap that may still be
    /// split is not kept (`Cut`); one that may not is kept, marked incomplete.
    async fn land(
        &self,
        query: &Query,
        window: &Window,
        resp: HuntResponse,
        splittable: bool,
        o: &mut Outcome,
    ) -> Landing {
        let id = response_id(&resp);
        let meta = FileMeta {
            query_id: query.id.clone(),
            query_hash: sha256_hex(query.kql.as_bytes()),
            window: *window,
            tenant: self.tenant.clone(),
            complete: true,
            request_ids: vec![id.clone()],
        };
        let dest = self.publisher.destination();
        let staging = dest.map(|d| d.staging().clone());
        let (opts, max_rows) = (self.decode.clone(), self.governor.limits().max_rows);
        let sink_opts = self.publisher.sink_options();
        let keep = self.tap.is_some();
        let sample =
            self.sample_rows.as_ref().map_or(0, |f| f(query)).saturating_sub(o.sample.len());
        // A `results` before its `schema` is spooled beside the output's temporary files.
        let spool = staging.as_ref().map_or_else(std::env::temp_dir, |s| s.temp_dir(""));
        let (whole, mut stream, chunks) = match resp.body {
            Body::Whole(b) => (Some(b), None, None),
            Body::Stream(s) => {
                let (tx, rx) = tokio::sync::mpsc::channel::<Option<bytes::Bytes>>(CHUNKS_AHEAD);
                (None, Some((s, tx)), Some(rx))
            }
        };
        let landing = tokio::task::spawn_blocking(move || {
            let to = Writing {
                staging: staging.as_ref(),
                sink_opts: &sink_opts,
                meta: &meta,
                keep,
                sample,
            };
            let source = match (&whole, chunks) {
                (Some(body), _) => Source::Whole(body),
                (None, Some(rx)) => Source::Chunks { rx, spool },
                (None, None) => Source::Whole(&[]),
            };
            decode_and_write(source, &opts, &to, max_rows, splittable)
        });
        // The body is read here and decoded on the blocking thread as it arrives; a decoder
        // that stops (malformed body) closes the channel, which stops the reading.
        let mut broken = None;
        if let Some((body, tx)) = &mut stream {
            loop {
                match body.next_chunk().await {
                    Ok(Some(chunk)) => {
                        if tx.send(Some(chunk)).await.is_err() {
                            break;
                        }
                    }
                    Ok(None) => {
                        let _ = tx.send(None).await;
                        break;
                    }
                    Err(e) => {
                        broken = Some(e);
                        break;
                    }
                }
            }
        }
        let body = stream.map(|(body, _)| body);
        let landed = landing
            .await
            .unwrap_or_else(|e| Err(Failure::Internal(format!("while landing the results: {e}"))));
        drop(body);
        if let Some(e) = broken {
            // The decoder saw the body end early and kept nothing.
            return Landing::Broken(e);
        }
        let (rows, mismatched, staged, complete, schema, batches, sample) = match landed {
            Ok(Landed::Cut { rows }) => return Landing::Cut(rows),
            Ok(Landed::Staged { rows, mismatched, staged, complete, schema, batches, sample }) => {
                (rows, mismatched, staged, complete, schema, batches, sample)
            }
            // A body that does not decode will not decode better the next time: not retried.
            Err(failure) => return Landing::Failed(failure.with_request_id(&id)),
        };
        // Uploads were retried by the store's client already; the window fails, the other
        // queries go on.
        let files = match dest {
            None => Vec::new(),
            Some(dest) => match dest.publish(staged).await {
                Ok(files) => files,
                Err(e) => {
                    let what = if dest.is_local() { "written" } else { "uploaded" };
                    let message = e.to_string();
                    return Landing::Failed(Failure::Write { what, message, request_id: Some(id) });
                }
            },
        };
        if let Some(tap) = &self.tap {
            tap(query, &batches);
        }
        o.parts += 1;
        o.request_ids.push(id);
        o.rows += rows;
        o.mismatched_cells += mismatched;
        o.files.extend(files);
        o.sample.extend(sample);
        if !complete {
            o.incomplete.push(*window);
        }
        Landing::Landed(schema)
    }
}

/// What became of one window's response.
enum Landing {
    /// Its rows are in place; the result had this schema.
    Landed(SchemaRef),
    /// It came back at the row cap with this many rows and should be asked again in halves.
    Cut(usize),
    /// It could not be decoded or written.
    Failed(Failure),
    /// Its body broke off while streaming (nothing kept): the call is retried or split as if
    /// it had failed with this error.
    Broken(GraphError),
}

/// Body chunks read ahead of the decoder (hyper hands over up to some 400 KB at a time).
const CHUNKS_AHEAD: usize = 4;

/// What [`decode_and_write`] decodes.
enum Source<'a> {
    /// A whole body.
    Whole(&'a [u8]),
    /// A body arriving in chunks; `None` marks its end (a closed channel without it: cut).
    Chunks { rx: tokio::sync::mpsc::Receiver<Option<bytes::Bytes>>, spool: std::path::PathBuf },
}

/// What [`decode_and_write`] did.
enum Landed {
    /// At the row cap and splittable: nothing kept.
    Cut { rows: usize },
    /// Written and closed under temporary names, to be put in place (nothing staged without
    /// files); `batches` holds the decoded rows when they are kept for a tap.
    Staged {
        rows: usize,
        mismatched: u64,
        staged: Vec<Staged>,
        complete: bool,
        schema: SchemaRef,
        batches: Vec<arrow_array::RecordBatch>,
        /// The first rows as JSON objects (as many as asked).
        sample: Vec<Row>,
    },
}

/// Where [`decode_and_write`] puts the batches.
struct Writing<'a> {
    /// Temporary files' place; none: no files are written.
    staging: Option<&'a Staging>,
    sink_opts: &'a sink::SinkOptions,
    meta: &'a FileMeta,
    /// Keep the decoded batches (for a tap).
    keep: bool,
    /// Keep this many first rows as JSON objects (for notifications).
    sample: usize,
}

/// Decodes `body` on this thread and writes its batches on another (blocking code), into
/// temporary files in `to.staging` (none: no files), keeping them too when `to.keep`.
fn decode_and_write(
    source: Source<'_>,
    opts: &DecodeOptions,
    to: &Writing<'_>,
    max_rows: u64,
    splittable: bool,
) -> Result<Landed, Failure> {
    // A rendezvous: the decoder hands a batch over when the writer is ready for it, so an answer
    // holds the batch being written and the one being filled, no more.
    let (tx, rx) = std::sync::mpsc::sync_channel::<arrow_array::RecordBatch>(0);
    let (sink_opts, meta) = (to.sink_opts, to.meta);
    std::thread::scope(|scope| {
        let writer = to.staging.map(|staging| {
            scope.spawn(move || -> Result<Option<sink::StreamWriter>, sink::SinkError> {
                let mut writer: Option<sink::StreamWriter> = None;
                for batch in rx {
                    let w = match &mut writer {
                        Some(w) => w,
                        None => writer.insert(sink::StreamWriter::new(
                            staging,
                            batch.schema(),
                            meta,
                            sink_opts,
                        )?),
                    };
                    w.write(&batch)?;
                }
                Ok(writer)
            })
        });
        let tx = writer.is_some().then_some(tx);
        let mut kept = Vec::new();
        let mut sample: Vec<Row> = Vec::new();
        let on_batch = |batch: arrow_array::RecordBatch| {
            if to.keep {
                kept.push(batch.clone());
            }
            if sample.len() < to.sample {
                sample.extend(crate::print::row_objects(&batch, to.sample - sample.len()));
            }
            match &tx {
                Some(tx) => tx.send(batch).map_err(|_| {
                    arrow_schema::ArrowError::ExternalError("the Parquet writer stopped".into())
                }),
                None => Ok(()),
            }
        };
        let decoded = match source {
            Source::Whole(body) => decode::decode_each(body, opts, on_batch),
            Source::Chunks { mut rx, spool } => {
                // The body is scanned on a thread of its own as it arrives; this thread decodes.
                let next = move || match rx.blocking_recv() {
                    Some(Some(chunk)) => decode::Next::Chunk(chunk),
                    Some(None) => decode::Next::End,
                    None => decode::Next::Cut,
                };
                decode::decode_stream(opts, spool, next, on_batch)
            }
        };
        drop(tx);
        let write_failed = |e: &dyn std::fmt::Display| Failure::Write {
            what: "written",
            message: e.to_string(),
            request_id: None,
        };
        let writer = match writer {
            Some(w) => w
                .join()
                .map_err(|_| Failure::Internal("the Parquet writer panicked".to_owned()))?
                // A writer error explains a decode that stopped because the writer went away.
                .map_err(|e| write_failed(&e))?,
            None => None,
        };
        // The request-id is filled in by the caller, which knows it.
        let decoded = decoded
            .map_err(|e| Failure::Decode { message: e.to_string(), request_id: String::new() })?;
        let cut = decoded.rows as u64 >= max_rows;
        if cut && splittable {
            // Dropping the writer removes its temporary files.
            return Ok(Landed::Cut { rows: decoded.rows });
        }
        let staged = match writer {
            Some(w) => w.finish(!cut).map_err(|e| write_failed(&e))?,
            None => Vec::new(),
        };
        Ok(Landed::Staged {
            rows: decoded.rows,
            mismatched: decoded.mismatched_cells,
            staged,
            complete: !cut,
            schema: decoded.schema,
            batches: kept,
            sample,
        })
    })
}

/// Queries saved from Defender Experts Notifications go first when quota is short.
fn priority(query: &Query) -> Priority {
    if query.is_defender_experts() { DEFENDER_EXPERTS } else { ROUTINE }
}

fn response_id(resp: &HuntResponse) -> String {
    resp.request_id.clone().unwrap_or_else(|| resp.client_request_id.clone())
}

/// Why a window is asked again in halves.
fn split_reason(err: &GraphError) -> String {
    match err {
        GraphError::Service(s) if s.kind() == Kind::TooLarge => {
            format!("the result is too large: {s}")
        }
        GraphError::Service(s) => format!("the query timed out: {s}"),
        GraphError::Transport { message, client_request_id, .. } => {
            format!("the call timed out ({message}) [client-request-id {client_request_id}]")
        }
        GraphError::TooLarge { limit, client_request_id } => {
            format!("the response exceeded {limit} bytes [client-request-id {client_request_id}]")
        }
        other => other.to_string(),
    }
}

/// Why a window failed, typed, from the last answer and the attempts made.
fn failure_of(kind: Kind, err: GraphError, failed: u32) -> Failure {
    match (kind, err) {
        (Kind::Permanent, GraphError::Service(s)) => Failure::Refused(Box::new(s)),
        (Kind::Permanent, GraphError::Auth(e)) => Failure::SignIn(e.to_string()),
        (Kind::Permanent, other) => Failure::NotSent(other.to_string()),
        (_, other) => Failure::GaveUp { attempts: failed, error: other.to_string() },
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
