//! A simulated day of `hunt schedule` under tokio's paused clock: 100 queries on varied crons,
//! quota pressure, and an outage in the middle (the daemon stopped, time passing, a new daemon
//! on the same state file). Every query's windows must tile its span exactly, with no overlap
//! and no gap, and the service must never have had to say 429.

use crate::sim::{SimService, local};
use hunt::clock::TokioClock;
use hunt::executor::{ExecOptions, Executor};
use hunt::quota::{Governor, Limits};
use hunt::schedule::daemon::{Daemon, DaemonOptions, DaemonSummary};
use hunt::schedule::state::{RunStatus, StateStore};
use hunt::timespan::Window;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

const CRONS: [&str; 8] = [
    "*/15 * * * *",
    "@hourly",
    "0 */2 * * *",
    "*/30 * * * *",
    "5,35 * * * *",
    "0 */3 * * *",
    "*/20 * * * *",
    "0 9-17 * * *",
];

fn write_library(dir: &std::path::Path) {
    for i in 0..100 {
        let cron = CRONS[i % CRONS.len()];
        let text = format!(
            "// ---\n// id: q{i:03}\n// schedule: \"{cron}\"\n// lookback: 1h\n// delay: {}m\n// ---\n\
             DeviceProcessEvents | where ReportId != {i}\n",
            i % 3 * 5
        );
        std::fs::write(dir.join(format!("q{i:03}.kql")), text).unwrap();
    }
}

/// Runs a daemon over `library` until `hours` of simulated time have passed.
async fn run_daemon_for(
    hours: u64,
    library: &std::path::Path,
    state_path: &std::path::Path,
    out: &std::path::Path,
    service: &Arc<SimService>,
    governor: &Arc<Governor>,
    clock: &Arc<TokioClock>,
) -> DaemonSummary {
    let state = Arc::new(StateStore::open(state_path).unwrap());
    let opts = ExecOptions { concurrency: 4, ..ExecOptions::default() };
    let executor = Arc::new(Executor::new(service.clone(), Arc::clone(governor), local(out), opts));
    let daemon_opts = DaemonOptions {
        paths: vec![library.to_owned()],
        concurrency: 4,
        reload_every: Duration::from_secs(60),
        ..DaemonOptions::default()
    };
    let daemon = Daemon::new(daemon_opts, executor, state, clock.clone());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(hours * 3600)).await;
        let _ = stop.send(true);
    });
    let summary = daemon.run(stopped).await;
    stopper.await.unwrap();
    summary
}

#[tokio::test(start_paused = true)]
async fn a_day_of_100_queries_with_an_outage_tiles_every_window_with_no_429() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").unwrap().to_utc();
    let clock = Arc::new(TokioClock::anchored_at(start));
    // Quota pressure: the budget is below what the schedules would spend.
    let limits = Limits { calls_per_minute: 8, calls_per_hour: 150, ..Limits::default() };
    let service = SimService::new(clock.clone(), limits.clone(), Duration::from_secs(3));
    let governor = Governor::new(limits, clock.clone());
    let dir = tempfile::tempdir().unwrap();
    let library = dir.path().join("queries");
    std::fs::create_dir_all(&library).unwrap();
    write_library(&library);
    let state_path = dir.path().join("state.sqlite");
    let out = dir.path().join("out");

    let first = run_daemon_for(10, &library, &state_path, &out, &service, &governor, &clock).await;
    tokio::time::sleep(Duration::from_secs(3 * 3600)).await; // the outage
    let second = run_daemon_for(11, &library, &state_path, &out, &service, &governor, &clock).await;
    println!("before the outage: {first:?}; after: {second:?}");

    assert_eq!(service.refused.load(Ordering::Relaxed), 0, "no call was refused with 429");
    let state = StateStore::open(&state_path).unwrap();
    let history = state.history(None, usize::MAX).unwrap();
    let mut by_query: BTreeMap<String, Vec<Window>> = BTreeMap::new();
    for run in history.iter().filter(|r| r.status == RunStatus::Ok) {
        by_query.entry(run.query_id.clone()).or_default().push(run.window);
    }
    assert_eq!(by_query.len(), 100, "every query ran");
    let watermarks = state.watermarks().unwrap();
    let mut total = 0;
    for (id, windows) in &mut by_query {
        windows.sort();
        for pair in windows.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "{id}: {} then {}", pair[0], pair[1]);
        }
        assert_eq!(windows.last().unwrap().end, watermarks[id], "{id}");
        total += windows.len();
        // The outage was caught up: the query covered past its end.
        let outage_end = start + chrono::Duration::hours(13);
        assert!(
            watermarks[id] > outage_end - chrono::Duration::hours(3),
            "{id} covered {}",
            watermarks[id]
        );
    }
    // What landed is what the service answered; the only answers not recorded are windows in
    // flight when a daemon stopped (they run again, replacing their files).
    let answered = service.answered.lock().unwrap();
    for (id, windows) in &by_query {
        let number: usize = id[1..].parse().unwrap();
        let text = format!("ReportId != {number}\n");
        for w in windows {
            let n = answered.iter().filter(|(kql, aw)| kql.ends_with(&text) && aw == w).count();
            assert_eq!(n, 1, "{id} {w} answered {n} times");
        }
    }
    assert!(answered.len() - total <= 8, "{} answers never recorded", answered.len() - total);
    println!("{total} windows over 100 queries, {} calls", service.starts.lock().unwrap().len());
}
