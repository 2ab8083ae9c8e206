//! `hunt schedule --metrics ADDR`: the daemon's counters and gauges as Prometheus text at
//! `/metrics` (OpenMetrics, which Prometheus scrapes natively) and `ok` at `/healthz`, so it can
//! be watched like every other service in a SOC.
//!
//! Counters are kept as runs are recorded and notifications sent; the quota and watermark gauges are read from each
//! tenant's governor and schedule state when scraped, so they are never stale. Served on
//! loopback unless an address says otherwise: the numbers say what is hunted, and when.

use crate::clock::Clock;
use crate::executor::Outcome;
use crate::quota::Governor;
use crate::schedule::state::{RunRecord, RunStatus, StateStore};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

type Labels = Vec<(&'static str, String)>;
type Ratio = Gauge<f64, AtomicU64>;

/// A tenant whose quota and watermarks are read at each scrape.
struct Watched {
    tenant: String,
    governor: Arc<Governor>,
    state: Arc<StateStore>,
}

/// The daemon's metrics, shared by every tenant's daemon in the process.
pub struct Metrics {
    registry: Registry,
    windows: Family<Labels, Counter>,
    rows: Family<Labels, Counter>,
    calls: Family<Labels, Counter>,
    throttled: Family<Labels, Counter<f64, AtomicU64>>,
    quota: Family<Labels, Ratio>,
    lag: Family<Labels, Ratio>,
    notifications: Family<Labels, Counter>,
    watched: Mutex<Vec<Watched>>,
    clock: Arc<dyn Clock>,
}

impl Metrics {
    /// Empty metrics, reading "now" from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Metrics {
        let mut registry = Registry::default();
        let windows = Family::<Labels, Counter>::default();
        let rows = Family::<Labels, Counter>::default();
        let calls = Family::<Labels, Counter>::default();
        let throttled = Family::<Labels, Counter<f64, AtomicU64>>::default();
        let quota = Family::<Labels, Ratio>::default();
        let lag = Family::<Labels, Ratio>::default();
        let notifications = Family::<Labels, Counter>::default();
        registry.register(
            "hunt_windows",
            "Windows run, by tenant, query and status (ok, incomplete, failed)",
            windows.clone(),
        );
        registry.register("hunt_rows", "Rows landed, by tenant and query", rows.clone());
        registry.register(
            "hunt_calls",
            "Calls to runHuntingQuery, by tenant and status (ok, throttled, retried, failed)",
            calls.clone(),
        );
        registry.register(
            "hunt_throttled_seconds",
            "Seconds the service's 429 answers asked the tenant to wait",
            throttled.clone(),
        );
        registry.register(
            "hunt_quota_used_ratio",
            "Share of each budget spent, by tenant and budget (calls_minute, calls_hour, \
             exec_hour, exec_day)",
            quota.clone(),
        );
        registry.register(
            "hunt_watermark_lag_seconds",
            "How far each query's covered time is behind now",
            lag.clone(),
        );
        registry.register(
            "hunt_notifications",
            "Notification attempts, by notifier and status (delivered, retried, failed: given up)",
            notifications.clone(),
        );
        Metrics {
            registry,
            windows,
            rows,
            calls,
            throttled,
            quota,
            lag,
            notifications,
            watched: Mutex::new(Vec::new()),
            clock,
        }
    }

    /// Reads `tenant`'s quota and watermarks at every scrape.
    pub fn watch(&self, tenant: &str, governor: Arc<Governor>, state: Arc<StateStore>) {
        let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        watched.push(Watched { tenant: tenant.to_owned(), governor, state });
    }

    /// Counts a recorded run of `tenant` and the calls its outcome made.
    pub fn record(&self, tenant: &str, run: &RunRecord, outcome: &Outcome) {
        let status = match run.status {
            RunStatus::Ok => "ok",
            RunStatus::Incomplete => "incomplete",
            RunStatus::Failed => "failed",
        };
        let t = || ("tenant", tenant.to_owned());
        let q = || ("query", run.query_id.clone());
        self.windows.get_or_create(&vec![t(), q(), ("status", status.into())]).inc();
        self.rows.get_or_create(&vec![t(), q()]).inc_by(run.rows);
        let calls = [
            ("ok", outcome.parts as u64),
            ("throttled", u64::from(outcome.throttled)),
            ("retried", u64::from(outcome.retried)),
            ("failed", outcome.failures.len() as u64),
        ];
        for (status, n) in calls {
            self.calls.get_or_create(&vec![t(), ("status", status.into())]).inc_by(n);
        }
        self.throttled.get_or_create(&vec![t()]).inc_by(outcome.throttle_wait.as_secs_f64());
    }

    /// Counts an attempt to deliver a notification of `notify` (by name: never its URL) that
    /// ended `status` (`delivered`, `retried` or `failed`).
    pub fn notified(&self, notify: &str, status: &str) {
        let labels = vec![("notify", notify.to_owned()), ("status", status.to_owned())];
        self.notifications.get_or_create(&labels).inc();
    }

    /// The metrics as OpenMetrics text.
    pub fn render(&self) -> String {
        let now = self.clock.now();
        let watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        for w in watched.iter() {
            let usage = w.governor.usage();
            let limits = w.governor.limits();
            let budgets = [
                ("calls_minute", f64::from(usage.calls_minute), f64::from(limits.calls_per_minute)),
                ("calls_hour", f64::from(usage.calls_hour), f64::from(limits.calls_per_hour)),
                ("exec_hour", usage.exec_hour_ms as f64, limits.exec_per_hour_ms() as f64),
                ("exec_day", usage.exec_day_ms as f64, limits.exec_per_day_ms() as f64),
            ];
            for (budget, used, limit) in budgets {
                let labels = vec![("tenant", w.tenant.clone()), ("budget", budget.to_owned())];
                self.quota.get_or_create(&labels).set(used / limit.max(1.0));
            }
            match w.state.watermarks() {
                Ok(marks) => {
                    for (query, mark) in marks {
                        let lag = (now - mark).num_milliseconds() as f64 / 1000.0;
                        let labels = vec![("tenant", w.tenant.clone()), ("query", query)];
                        self.lag.get_or_create(&labels).set(lag.max(0.0));
                    }
                }
                Err(e) => {
                    tracing::warn!(tenant = %w.tenant, "metrics: cannot read watermarks: {e}")
                }
            }
        }
        drop(watched);
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!("metrics: cannot encode: {e}");
        }
        text
    }
}

/// Where `--metrics` serves: `PORT` alone is loopback (`127.0.0.1:PORT`); anything else is an
/// address as written (`0.0.0.0:9464` to be scraped from elsewhere).
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.trim().parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not an address: give PORT (loopback) or IP:PORT"))
}

/// Serves `/metrics` and `/healthz` on `addr` until `stopped` turns true; returns the bound
/// address once listening.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = Arc::clone(&metrics);
                async move {
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }));
    let handle = tokio::spawn(async move {
        let stop = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
            tracing::error!("metrics server: {e}");
        }
    });
    Ok((bound, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_loopback_unless_said_otherwise() {
        assert_eq!(parse_addr("9464").unwrap().to_string(), "127.0.0.1:9464");
        assert_eq!(parse_addr("0.0.0.0:9464").unwrap().to_string(), "0.0.0.0:9464");
        assert_eq!(parse_addr("[::1]:9").unwrap().to_string(), "[::1]:9");
        assert!(parse_addr("localhost:x").is_err());
    }

    #[test]
    fn notifications_are_counted_by_notifier_and_status() {
        let m = Metrics::new(Arc::new(crate::clock::TokioClock::new()));
        m.notified("soc", "retried");
        m.notified("soc", "delivered");
        m.notified("soc", "delivered");
        let text = m.render();
        assert!(
            text.contains(r#"hunt_notifications_total{notify="soc",status="delivered"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"hunt_notifications_total{notify="soc",status="retried"} 1"#),
            "{text}"
        );
    }
}
