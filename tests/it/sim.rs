//! An in-process stand-in for the hunting API for tests under tokio's paused clock: calls take
//! a set time, are judged by the emulator's independent quota judge (429 when overspent), and
//! are logged with their query text and window.

use futures_util::future::BoxFuture;
use hunt::clock::{Clock, TokioClock};
use hunt::emulator::quota::ServiceQuota;
use hunt::graph::error::ServiceError;
use hunt::graph::{GraphError, HuntApi, HuntResponse};
use hunt::quota::Limits;
use hunt::timespan::Window;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A service whose calls take `duration` and whose quotas are those of `limits`.
pub struct SimService {
    clock: Arc<TokioClock>,
    limits: Limits,
    duration: Duration,
    pub quota: Mutex<ServiceQuota>,
    pub refused: AtomicU64,
    pub starts: Mutex<Vec<i64>>,
    /// Every answered call: the query text and its window.
    pub answered: Mutex<Vec<(String, Window)>>,
}

impl SimService {
    pub fn new(clock: Arc<TokioClock>, limits: Limits, duration: Duration) -> Arc<SimService> {
        Arc::new(SimService {
            clock,
            limits,
            duration,
            quota: Mutex::new(ServiceQuota::default()),
            refused: AtomicU64::new(0),
            starts: Mutex::new(Vec::new()),
            answered: Mutex::new(Vec::new()),
        })
    }
}

const EMPTY: &[u8] = br#"{"schema":[{"name":"Timestamp","type":"DateTime"}],"results":[]}"#;

impl HuntApi for SimService {
    fn run_hunting_query<'a>(
        &'a self,
        kql: &'a str,
        window: &'a Window,
    ) -> BoxFuture<'a, Result<HuntResponse, GraphError>> {
        Box::pin(async move {
            let now = self.clock.now_ms();
            let admitted = self.quota.lock().unwrap().admit(now, &self.limits);
            let id = match admitted {
                Ok(id) => id,
                Err(r) => {
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    return Err(GraphError::Service(ServiceError {
                        status: 429,
                        code: "TooManyRequests".into(),
                        message: r.message,
                        request_id: None,
                        client_request_id: None,
                        date: None,
                        retry_after: Some(Duration::from_secs_f64(r.retry_after)),
                    }));
                }
            };
            self.starts.lock().unwrap().push(now);
            tokio::time::sleep(self.duration).await;
            self.quota.lock().unwrap().finish(id, self.clock.now_ms());
            self.answered.lock().unwrap().push((kql.to_owned(), *window));
            Ok(HuntResponse {
                body: bytes::Bytes::from_static(EMPTY).into(),
                request_id: Some("sim".into()),
                client_request_id: "sim".into(),
                elapsed: self.duration,
            })
        })
    }
}

/// A local folder as the executor's destination.
pub fn local(out: &std::path::Path) -> Arc<hunt::output::Destination> {
    Arc::new(hunt::output::Destination::local(out).unwrap())
}
