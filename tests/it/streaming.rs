//! Answers decoded while they stream (issue 17), over real HTTP against the emulator: a body
//! cut midway is retried and lands once, a body past the size cap is abandoned as it streams,
//! and `results` before `schema` lands the same rows as the usual order, spooled and cleaned up.

use crate::resilience::{expected_keys, row_keys};
use crate::util::{TestEnv, all_files, parquet_files, read_all};
use hunt::emulator::{EmulatorConfig, Fault};
use std::time::{Duration, Instant};

/// Six hours of DeviceProcessEvents: 2,160 rows, megabytes of JSON, so the body streams.
const WIDE: &str = "DeviceProcessEvents";
const SIX_HOURS: (&str, &str) = ("2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z");

/// Files under the test folder whose name marks them temporary.
fn temp_files(env: &TestEnv) -> Vec<std::path::PathBuf> {
    all_files(env.dir.path())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with(".tmp")))
        .collect()
}

fn run(env: &TestEnv) -> crate::util::Run {
    let (start, end) = SIX_HOURS;
    env.hunt(
        &["run", "queries", "--out", "out", "--json", "--timespan", &format!("{start}/{end}")],
        &[],
    )
}

#[test]
fn a_body_cut_while_streaming_is_asked_again_and_lands_once() {
    let env = TestEnv::new();
    std::fs::write(env.path("hunt.toml"), "[run]\nbackoff_base = \"50ms\"\n").unwrap();
    env.query("wide.kql", WIDE);
    env.emu.push_faults([Fault::Truncate]);
    let run = run(&env);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.emu.stats().faults_injected, 1);
    assert_eq!(row_keys(&env.out()), expected_keys(SIX_HOURS.0, SIX_HOURS.1, 360));
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["queries"][0]["retried"], 1, "{v}");
    assert_eq!(v["queries"][0]["parts"], 1, "{v}");
    assert!(temp_files(&env).is_empty(), "{:?}", temp_files(&env));
}

#[test]
fn results_before_schema_land_the_same_rows_and_leave_no_spool_file() {
    let usual = TestEnv::new();
    let reordered = TestEnv::with(EmulatorConfig { results_first: true, ..Default::default() });
    let mut landed = Vec::new();
    for env in [&usual, &reordered] {
        env.query("wide.kql", WIDE);
        let run = run(env);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(temp_files(env).is_empty(), "{:?}", temp_files(env));
        landed.push(read_all(&env.out()));
    }
    assert_eq!(row_keys(&reordered.out()), expected_keys(SIX_HOURS.0, SIX_HOURS.1, 360));
    assert_eq!(landed[0], landed[1], "the same values in either order");
}

#[test]
fn a_body_past_the_size_cap_is_abandoned_as_it_streams() {
    let dir = tempfile::tempdir().unwrap();
    let canned = crate::util::huge_answer(dir.path());
    let env = TestEnv::with(EmulatorConfig { canned_response: Some(canned), ..Default::default() });
    // A cap of 400 KB of JSON: well past the 64 KB read before the body is handed on.
    std::fs::write(env.path("hunt.toml"), "[quota]\nmax_result_bytes = 200000\n").unwrap();
    env.query("q.kql", "AlertInfo");
    let started = Instant::now();
    let run = env
        .hunt(&["run", "queries", "--out", "out", "--timespan", "2026-11-20T00:00:00Z/PT1M"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("exceeded 400000 bytes"), "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(parquet_files(&env.out()).is_empty());
    assert!(temp_files(&env).is_empty(), "{:?}", temp_files(&env));
    assert_eq!(env.emu.stats().hunting_calls, 1, "at the minimum window: not split, not retried");
}
