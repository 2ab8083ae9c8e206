//! `hunt run --incremental` through the binary against the emulator: runs that follow one another
//! ask for windows that tile time and land every row once; a killed run's window is re-run whole;
//! two runs at once never run the same window; and a plain `hunt run` whose window overlaps one
//! already landed says so.

use crate::resilience::{expected_keys, row_keys};
use crate::util::{TestEnv, wait_until};
use hunt::emulator::{EmulatorConfig, Fault};
use hunt::schedule::state::{RunStatus, StateStore};
use std::time::Duration;

const EPH: u32 = 3_600;
const QUERY: &str = "// ---\n// lookback: 1h\n// ---\nDeviceProcessEvents | project Timestamp, DeviceId, ReportId\n";

fn env() -> TestEnv {
    let env = TestEnv::with(EmulatorConfig { events_per_hour: EPH, ..Default::default() });
    env.query("q.kql", QUERY);
    env
}

fn fmt(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Waits until the wall clock has moved at least two whole seconds past `t`.
fn two_seconds_after(t: chrono::DateTime<chrono::Utc>) {
    wait_until("two seconds to pass", Duration::from_secs(10), || {
        chrono::Utc::now() >= t + chrono::Duration::seconds(2)
    });
}

#[test]
fn incremental_runs_tile_time_and_land_every_row_once() {
    let env = env();
    let args = ["run", "queries", "--out", "out", "--incremental", "--json"];
    for _ in 0..3 {
        let before = chrono::Utc::now();
        let run = env.hunt(&args, &[]);
        assert_eq!(run.code, 0, "{run:?}");
        two_seconds_after(before);
    }
    let state = StateStore::open_read_only(&env.schedule_state()).unwrap();
    let mut runs = state.history(Some("q"), usize::MAX).unwrap();
    runs.sort_by_key(|r| r.window.start);
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.iter().all(|r| r.status == RunStatus::Ok), "{runs:?}");
    // The first covers the lookback; each later one starts exactly where the last one ended.
    assert_eq!(runs[0].window.end - runs[0].window.start, chrono::Duration::hours(1));
    for pair in runs.windows(2) {
        assert_eq!(pair[0].window.end, pair[1].window.start, "windows tile: {runs:?}");
    }
    let (first, last) = (runs[0].window.start, runs[2].window.end);
    assert_eq!(state.watermark("q").unwrap(), Some(last));
    assert_eq!(env.emu.stats().hunting_calls, 3, "one call per run");
    assert_eq!(row_keys(&env.out().join("q")), expected_keys(&fmt(first), &fmt(last), EPH));
}

#[test]
fn a_killed_incremental_run_is_run_again_whole_and_a_second_run_at_once_skips_its_query() {
    let env = env();
    // The first call hangs for a minute.
    env.emu.push_faults([Fault::Slow { ms: 60_000 }]);
    let args = ["run", "queries", "--out", "out", "--incremental"];
    let mut first = env.spawn(&args);
    let state = env.schedule_state();
    wait_until("the first window anchored and asked", Duration::from_secs(30), || {
        env.emu.stats().faults_injected == 1
            && StateStore::open_read_only(&state).is_ok_and(|s| s.watermark("q").unwrap().is_some())
    });
    let anchor = StateStore::open_read_only(&state).unwrap().watermark("q").unwrap().unwrap();

    // A second incremental run while the first holds the query: skipped, no call.
    let calls = env.emu.stats().hunting_calls;
    let second = env.hunt(&args, &[]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(second.stderr.contains("another incremental run holds it"), "{second:?}");
    assert_eq!(env.emu.stats().hunting_calls, calls, "the second run asked for nothing");

    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    assert!(StateStore::open_read_only(&state).unwrap().history(Some("q"), 10).unwrap().is_empty());

    // Run again: the window starts at the anchor, whole, and every row lands once.
    let run = env.hunt(&args, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let s = StateStore::open_read_only(&state).unwrap();
    let runs = s.history(Some("q"), usize::MAX).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].window.start, anchor, "the first window did not move");
    assert_eq!(
        row_keys(&env.out().join("q")),
        expected_keys(&fmt(anchor), &fmt(runs[0].window.end), EPH)
    );
}

#[test]
fn a_plain_run_overlapping_a_landed_window_says_so() {
    let env = env();
    let run_over = |span: &str| {
        env.hunt(&["run", "queries", "--out", "out", "--timespan", span, "--json"], &[])
    };
    let run = run_over("2026-11-20T00:00:00Z/2026-11-20T02:00:00Z");
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("overlaps"), "{run:?}");
    // The same window again, or one containing it: replaced, nothing to say.
    for span in
        ["2026-11-20T00:00:00Z/2026-11-20T02:00:00Z", "2026-11-19T23:00:00Z/2026-11-20T02:00:00Z"]
    {
        let run = run_over(span);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(!run.stdout.contains("overlaps"), "{span}: {run:?}");
    }
    // A window overlapping it without containing it: its overlap is stored twice; said in the
    // JSON summary and in the table.
    let run = run_over("2026-11-20T01:00:00Z/2026-11-20T03:00:00Z");
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let warnings = v["queries"][0]["warnings"].to_string();
    assert!(warnings.contains("overlaps") && warnings.contains("--incremental"), "{v}");
    let run = env.hunt(
        &[
            "run",
            "queries",
            "--out",
            "out",
            "--timespan",
            "2026-11-20T01:30:00Z/2026-11-20T04:00:00Z",
        ],
        &[],
    );
    assert!(format!("{}{}", run.stdout, run.stderr).contains("overlaps"), "{run:?}");
}
