//! The executor: the one place where the Graph client, the decoder and the sink meet. It runs
//! jobs (a query and its window) a few at a time, and turns each into an [`Outcome`]: rows and
//! files landed, or what went wrong, where, with the service's request-id. One failing job never
//! stops the others.

use crate::decode::{self, DecodeOptions};
use crate::graph::{GraphError, HuntApi};
use crate::query::Query;
use crate::sink::{self, FileMeta, Written};
use crate::timespan::Window;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

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
    /// Wall time of the whole job.
    pub elapsed: Duration,
    /// The service's request-id(s), or hunt's client-request-id where the service sent none.
    pub request_ids: Vec<String>,
    /// Cells that did not fit their declared type (kept as null or JSON text).
    pub mismatched_cells: u64,
    /// Why the job failed, if it did.
    pub error: Option<String>,
}

impl Outcome {
    /// True when the job landed everything.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Runs jobs against a hunting API and writes what comes back under `out`.
pub struct Executor {
    api: Arc<dyn HuntApi>,
    out: PathBuf,
    concurrency: usize,
    decode: DecodeOptions,
    tenant: Option<String>,
}

impl Executor {
    /// An executor writing under `out`, running at most `concurrency` calls at once.
    pub fn new(api: Arc<dyn HuntApi>, out: PathBuf, concurrency: usize) -> Executor {
        Executor {
            api,
            out,
            concurrency: concurrency.max(1),
            decode: DecodeOptions::default(),
            tenant: None,
        }
    }

    /// Runs every job; calls `on_done` as each finishes; returns outcomes in job order.
    pub async fn run_all(
        self: &Arc<Self>,
        jobs: Vec<Job>,
        on_done: impl Fn(&Outcome),
    ) -> Vec<Outcome> {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut set = tokio::task::JoinSet::new();
        for (i, job) in jobs.into_iter().enumerate() {
            let me = Arc::clone(self);
            let permits = Arc::clone(&permits);
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (i, me.run_one(job).await)
            });
        }
        let mut done = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, outcome)) => {
                    on_done(&outcome);
                    done.push((i, outcome));
                }
                Err(e) => tracing::error!("a job task failed: {e}"),
            }
        }
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, o)| o).collect()
    }

    /// Runs one job: call, decode, write.
    pub async fn run_one(&self, job: Job) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome {
            job: job.clone(),
            rows: 0,
            files: Vec::new(),
            elapsed: Duration::ZERO,
            request_ids: Vec::new(),
            mismatched_cells: 0,
            error: None,
        };
        let span =
            tracing::info_span!("job", query = %job.query.id, window = %job.window.to_graph());
        let _enter = span.enter();
        match self
            .api
            .run_hunting_query(&job.query.kql, &job.window)
            .await
        {
            Err(e) => {
                if let GraphError::Service(s) = &e {
                    outcome.request_ids.extend(s.request_id.clone());
                }
                outcome.error = Some(format!("the service refused the query: {e}"));
            }
            Ok(resp) => {
                let id = resp
                    .request_id
                    .clone()
                    .unwrap_or(resp.client_request_id.clone());
                outcome.request_ids.push(id.clone());
                let meta = FileMeta {
                    query_id: job.query.id.clone(),
                    query_hash: sha256_hex(job.query.kql.as_bytes()),
                    window: job.window,
                    tenant: self.tenant.clone(),
                    complete: true,
                    request_ids: vec![id.clone()],
                };
                let (out, opts) = (self.out.clone(), self.decode.clone());
                let landed = tokio::task::spawn_blocking(move || {
                    let decoded = decode::decode(&resp.body, &opts)
                        .map_err(|e| format!("the response could not be decoded: {e}"))?;
                    let files = sink::write(&out, &decoded, &meta)
                        .map_err(|e| format!("the results could not be written: {e}"))?;
                    Ok::<_, String>((decoded.rows, decoded.mismatched_cells, files))
                })
                .await
                .unwrap_or_else(|e| Err(format!("internal error while landing results: {e}")));
                match landed {
                    Ok((rows, mismatched, files)) => {
                        outcome.rows = rows;
                        outcome.mismatched_cells = mismatched;
                        outcome.files = files;
                    }
                    Err(e) => outcome.error = Some(format!("{e} [request-id {id}]")),
                }
            }
        }
        outcome.elapsed = started.elapsed();
        outcome
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}
