//! Chaos and crash safety: `hunt schedule` against an emulator that fails a third of its calls at
//! random (503, 429, 504, resets, cut bodies, slow answers, tokens that die early), and a daemon
//! killed with SIGKILL at arbitrary moments and started again. Afterwards every window is present
//! exactly once: the rows on disk are exactly the emulator's rows of the covered span, the
//! schedule state tiles, and no half-written file remains.

use crate::resilience::{expected_keys, row_keys};
use crate::util::{TestEnv, all_files, sigterm};
use hunt::emulator::EmulatorConfig;
use hunt::schedule::state::{RunStatus, StateStore};
use std::time::Duration;

const QUERIES: [(&str, &str); 2] = [
    (
        "fast",
        "// ---\n// schedule: \"* * * * * *\"\n// lookback: 5s\n// ---\nDeviceProcessEvents | project Timestamp, DeviceId, ReportId\n",
    ),
    (
        "slow",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 5s\n// delay: 1s\n// ---\nDeviceProcessEvents | project Timestamp, DeviceId, ReportId\n",
    ),
];
const EPH: u32 = 36_000;

/// Checks every query: the state's windows tile, and the rows on disk are exactly the
/// emulator's rows from the first window's start to the watermark, each once. Returns rows.
fn check_exactly_once(env: &TestEnv) -> usize {
    let tenant = hunt::query::slug(&hunt::emulator::TENANT_ID.to_ascii_lowercase());
    let state =
        StateStore::open_read_only(&env.path(&format!("state/schedule-{tenant}.sqlite"))).unwrap();
    let mut rows = 0;
    for (id, _) in QUERIES {
        let mut runs: Vec<_> = state
            .history(Some(id), usize::MAX)
            .unwrap()
            .into_iter()
            .filter(|r| r.status == RunStatus::Ok)
            .collect();
        runs.sort_by_key(|r| r.window.start);
        assert!(runs.len() >= 3, "{id}: {} windows landed", runs.len());
        for pair in runs.windows(2) {
            assert_eq!(pair[0].window.end, pair[1].window.start, "{id}: windows tile");
        }
        let (first, last) = (runs[0].window.start, runs.last().unwrap().window.end);
        assert_eq!(state.watermark(id).unwrap(), Some(last));
        let fmt = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
        };
        let expected = expected_keys(&fmt(first), &fmt(last), EPH);
        let on_disk = row_keys(&env.out().join(id));
        assert_eq!(
            on_disk.len(),
            expected.len(),
            "{id}: rows on disk vs rows in [{first}, {last})"
        );
        assert_eq!(on_disk, expected, "{id}");
        let recorded: u64 = runs.iter().map(|r| r.rows).sum();
        assert!(recorded >= expected.len() as u64, "{id}: the state counts every landed row");
        rows += on_disk.len();
    }
    let leftovers: Vec<_> = all_files(&env.out())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "half-written files left: {leftovers:?}");
    rows
}

#[test]
fn a_schedule_under_random_faults_lands_every_window_exactly_once() {
    let env = TestEnv::with(EmulatorConfig {
        chaos: 0.35,
        chaos_seed: 20261122,
        events_per_hour: EPH,
        actual_token_lifetime: Some(Duration::from_secs(4)),
        ..Default::default()
    });
    std::fs::write(
        env.path("hunt.toml"),
        "[run]\nbackoff_base = \"50ms\"\nbackoff_max = \"300ms\"\nmax_retries = 6\n",
    )
    .unwrap();
    for (id, text) in QUERIES {
        env.query(&format!("{id}.kql"), text);
    }
    let mut daemon =
        env.spawn(&["schedule", "queries", "--out", "out", "--grace", "10s", "--reload", "1s"]);
    // CHAOS_SECS=600 for a long run (the default keeps CI quick).
    let secs = std::env::var("CHAOS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    std::thread::sleep(Duration::from_secs(secs));
    env.emu.set_chaos(0.0); // let the last windows land cleanly
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(sigterm(&mut daemon), 0);
    let stats = env.emu.stats();
    let rows = check_exactly_once(&env);
    println!(
        "chaos: {secs} s, {} calls, {} faults injected, {} tokens issued, {rows} rows checked exactly once",
        stats.hunting_calls, stats.faults_injected, stats.tokens_issued
    );
    assert!(stats.faults_injected >= 5, "{stats:?}");
}

#[test]
fn sigkill_at_arbitrary_moments_loses_and_duplicates_nothing() {
    let env = TestEnv::with(EmulatorConfig { events_per_hour: EPH, ..Default::default() });
    for (id, text) in QUERIES {
        env.query(&format!("{id}.kql"), text);
    }
    let args = ["schedule", "queries", "--out", "out", "--grace", "10s", "--reload", "1s"];
    // Kill -9 after irregular delays (a fixed sequence, so a failure can be replayed).
    for ms in [700u64, 1900, 450, 2600, 1300, 900] {
        let mut daemon = env.spawn(&args);
        std::thread::sleep(Duration::from_millis(ms));
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
    }
    let mut daemon = env.spawn(&args);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(sigterm(&mut daemon), 0);
    let rows = check_exactly_once(&env);
    println!("kill -9: 6 kills, {rows} rows checked exactly once");
}

#[test]
fn a_one_off_run_killed_mid_way_and_run_again_lands_every_row_once() {
    let env = TestEnv::with(EmulatorConfig {
        events_per_hour: EPH,
        limits: Some(hunt::quota::Limits {
            max_rows: 500,
            calls_per_minute: 1000,
            calls_per_hour: 10_000,
            ..Default::default()
        }),
        ..Default::default()
    });
    std::fs::write(
        env.path("hunt.toml"),
        "[quota]\nmax_rows = 500\ncalls_per_minute = 1000\ncalls_per_hour = 10000\n\
         [run]\nmin_window = \"1s\"\n",
    )
    .unwrap();
    env.query("q.kql", QUERIES[0].1);
    let (start, end) = ("2026-11-20T00:00:00Z", "2026-11-20T00:10:00Z");
    let args = ["run", "queries", "--out", "out", "--timespan", "2026-11-20T00:00:00Z/PT10M"];
    // 6,000 rows under a 500-row cap: the window is answered in many parts, one file each.
    for ms in [150u64, 400, 250] {
        let mut run = env.spawn(&args);
        std::thread::sleep(Duration::from_millis(ms));
        run.kill().unwrap();
        run.wait().unwrap();
    }
    let done = env.hunt(&args, &[]);
    assert_eq!(done.code, 0, "{done:?}");
    assert_eq!(row_keys(&env.out().join("q")), expected_keys(start, end, EPH));
    let temps =
        all_files(&env.out()).into_iter().filter(|p| p.to_string_lossy().ends_with(".tmp")).count();
    assert_eq!(temps, 0);
}
