//! Hours of quota time in milliseconds: the executor and governor run under tokio's paused
//! clock against an in-process service that enforces the documented budgets with the emulator's
//! own (independent) quota judge and answers 429 when they are overspent.

use crate::sim::{SimService, local};
use hunt::clock::TokioClock;
use hunt::emulator::quota::ServiceQuota;
use hunt::executor::{ExecOptions, Executor, Job};
use hunt::quota::{Governor, Limits};
use hunt::timespan::Window;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

fn jobs(n: usize, start: chrono::DateTime<chrono::Utc>) -> Vec<Job> {
    (0..n)
        .map(|i| {
            let q = hunt::library::parse_kql_file(
                "DeviceProcessEvents | take 1",
                std::path::Path::new(&format!("q{i}.kql")),
            )
            .unwrap();
            Job { query: Arc::new(q), window: Window::ending_at(start, chrono::Duration::hours(1)) }
        })
        .collect()
}

/// Start times of `n` calls made as early as the judge allows: the best any client can do.
fn ideal_starts(n: usize, limits: &Limits, duration_ms: i64) -> Vec<i64> {
    let mut judge = ServiceQuota::default();
    let mut t = 0i64;
    let mut starts = Vec::new();
    while starts.len() < n {
        match judge.admit(t, limits) {
            Ok(id) => {
                judge.finish(id, t + duration_ms);
                starts.push(t);
            }
            Err(r) => t += (r.retry_after * 1000.0).ceil() as i64,
        }
    }
    starts
}

/// Runs `n` queries taking `duration` each through the executor under the documented budgets.
async fn simulate(
    n: usize,
    duration: Duration,
    concurrency: usize,
) -> (Arc<SimService>, Vec<hunt::executor::Outcome>, Duration) {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap().to_utc();
    let clock = Arc::new(TokioClock::anchored_at(start));
    let limits = Limits::default();
    let service = SimService::new(clock.clone(), limits.clone(), duration);
    let governor = Governor::new(limits, clock);
    let out = tempfile::tempdir().unwrap();
    let opts = ExecOptions { concurrency, ..ExecOptions::default() };
    let exec = Arc::new(Executor::new(service.clone(), governor, local(out.path()), opts));
    let began = tokio::time::Instant::now();
    let outcomes = exec.run_all(jobs(n, start), |_| {}).await;
    let took = tokio::time::Instant::now() - began;
    assert!(outcomes.iter().all(|o| o.is_ok()), "{:?}", outcomes.iter().find(|o| !o.is_ok()));
    assert_eq!(service.refused.load(Ordering::Relaxed), 0, "no call was refused with 429");
    (service, outcomes, took)
}

#[tokio::test(start_paused = true)]
async fn three_thousand_queries_run_at_the_permitted_rate_with_no_429() {
    let (service, _, _) = simulate(3000, Duration::from_millis(300), 4).await;
    let starts = service.starts.lock().unwrap().clone();
    assert_eq!(starts.len(), 3000);
    let span_actual = (starts[2999] - starts[0]) as f64;
    let ideal = ideal_starts(3000, &Limits::default(), 300);
    let span_ideal = (ideal[2999] - ideal[0]) as f64;
    let rate = span_ideal / span_actual;
    println!(
        "3000 calls: ideal span {:.1} min, hunt's span {:.1} min: {:.2}% of the permitted rate",
        span_ideal / 60_000.0,
        span_actual / 60_000.0,
        rate * 100.0
    );
    assert!(rate >= 0.98, "hunt ran at {:.2}% of the permitted call rate", rate * 100.0);
}

#[tokio::test(start_paused = true)]
async fn twenty_second_queries_never_spend_more_than_ten_minutes_in_a_rolling_hour() {
    let (service, _, took) = simulate(120, Duration::from_secs(20), 3).await;
    let max_hour = service.quota.lock().unwrap().max_exec_in_any_window(3_600_000);
    println!(
        "120 x 20 s queries: {:.1} h simulated, at most {:.1} min of execution in any rolling hour",
        took.as_secs_f64() / 3600.0,
        max_hour as f64 / 60_000.0
    );
    assert!(max_hour <= 600_000, "a rolling hour held {max_hour} ms of execution");
    // 2400 s of work at 600 s per hour: a bit over three hours, not much more.
    assert!(took < Duration::from_secs(4 * 3600), "took {took:?}");
}
