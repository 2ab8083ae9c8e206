//! Quotas, throttling, faults and splitting over real HTTP against the emulator: every row
//! exactly once, inside the service's limits, or a plain account of what is missing.

use crate::util::{TestEnv, meta, parquet_files, read_parquet, ticks};
use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, TimestampNanosecondType};
use arrow_schema::{DataType, TimeUnit};
use hunt::emulator::data;
use hunt::emulator::{EmulatorConfig, Fault};
use hunt::quota::Limits;
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// `(Timestamp µs, ReportId)` of every row under `dir`, checking none repeats.
pub(crate) fn row_keys(dir: &Path) -> Vec<(i64, i64)> {
    batch_keys(parquet_files(dir).iter().flat_map(|f| read_parquet(f).0))
}

/// `(Timestamp µs, ReportId)` of every row of `batches` (timestamps in µs, the default, or in
/// ns, floored to µs), checking none repeats.
pub(crate) fn batch_keys(batches: impl IntoIterator<Item = RecordBatch>) -> Vec<(i64, i64)> {
    let mut keys = Vec::new();
    for b in batches {
        let schema = b.schema();
        let ts = b.column(schema.index_of("Timestamp").unwrap());
        let ns: Vec<Option<i64>> = match ts.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => ts
                .as_primitive::<TimestampNanosecondType>()
                .iter()
                .map(|ns| ns.map(|ns| ns.div_euclid(1_000)))
                .collect(),
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                ts.as_primitive::<TimestampMicrosecondType>().iter().collect()
            }
            other => panic!("Timestamp is {other}"),
        };
        let rid = b.column(schema.index_of("ReportId").unwrap());
        let rid = rid.as_primitive::<arrow_array::types::Int64Type>();
        for (i, t) in ns.into_iter().enumerate() {
            keys.push((t.expect("a Timestamp"), rid.value(i)));
        }
    }
    let unique: HashSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "a row landed twice");
    keys.sort_unstable();
    keys
}

/// The keys the emulator holds for DeviceProcessEvents in `[start, end)`.
pub(crate) fn expected_keys(start: &str, end: &str, eph: u32) -> Vec<(i64, i64)> {
    let def = data::tables().iter().find(|t| t.name == "DeviceProcessEvents").unwrap();
    let rid = def.columns.iter().position(|(n, _)| *n == "ReportId").unwrap();
    let mut keys: Vec<(i64, i64)> =
        data::rows("DeviceProcessEvents", ticks(start), ticks(end), eph)
            .unwrap()
            .map(|row| match (&row[0], &row[rid]) {
                (data::Cell::Time(t), data::Cell::Int(r)) => ((t * 100).div_euclid(1_000), *r),
                other => panic!("unexpected cells {other:?}"),
            })
            .collect();
    keys.sort_unstable();
    keys
}

fn config(env: &TestEnv, text: &str) {
    std::fs::write(env.path("hunt.toml"), text).unwrap();
}

const NARROW: &str = "DeviceProcessEvents | project Timestamp, DeviceId, ReportId";

#[test]
fn a_window_of_288000_rows_under_a_100000_row_cap_lands_every_row_once() {
    let env = TestEnv::with(EmulatorConfig { events_per_hour: 12_000, ..Default::default() });
    env.query("wide.kql", NARROW);
    let (start, end) = ("2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z");
    let run = env.hunt(
        &["run", "queries", "--out", "out", "--json", "--timespan", &format!("{start}/{end}")],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let expected = expected_keys(start, end, 12_000);
    assert_eq!(expected.len(), 288_000);
    assert_eq!(row_keys(&env.out()), expected);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["queries"][0]["rows"], 288_000);
    assert!(v["queries"][0]["parts"].as_u64().unwrap() >= 3, "{v}");
    for f in parquet_files(&env.out()) {
        let (_, kv) = read_parquet(&f);
        assert_eq!(meta(&kv, "hunt.complete"), "true");
    }
}

#[test]
fn a_result_too_large_for_the_size_cap_is_split_to_completion() {
    let limits = Limits { max_result_bytes: 300_000, ..Limits::default() };
    let env = TestEnv::with(EmulatorConfig { limits: Some(limits), ..Default::default() });
    env.query("big.kql", "DeviceProcessEvents");
    let (start, end) = ("2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z");
    let run = env.hunt(
        &["run", "queries", "--out", "out", "--json", "--timespan", &format!("{start}/{end}")],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(row_keys(&env.out()), expected_keys(start, end, 360));
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert!(v["queries"][0]["parts"].as_u64().unwrap() >= 8, "{v}");
    let refused = env.emu.calls().iter().filter(|c| c.status == 400).count();
    assert!(refused >= 1, "the emulator answered 400 for the full window");
}

#[test]
fn throttled_calls_wait_out_retry_after_and_pause_the_whole_tenant() {
    let env = TestEnv::new();
    for i in 0..6 {
        env.query(&format!("q{i}.kql"), "AlertInfo | take 2");
    }
    env.emu.push_faults([Fault::None, Fault::Throttle { retry_after: Some(1.5) }]);
    let run = env.hunt(
        &[
            "run",
            "queries",
            "--out",
            "out",
            "--concurrency",
            "2",
            "--timespan",
            "2026-11-20T00:00:00Z/PT1H",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let calls = env.emu.calls();
    let throttled = calls.iter().find(|c| c.status == 429).expect("a 429 was sent");
    // Every call sent once hunt has the 429 waits out its Retry-After. With two windows in
    // flight, the other one may already be on its way when the 429 is answered (hunt cannot
    // know of it yet): at most that one call arrives inside the pause.
    let early: Vec<i64> = calls
        .iter()
        .filter(|c| c.arrived_ms > throttled.answered_ms)
        .map(|c| c.arrived_ms - throttled.answered_ms)
        .filter(|after| *after < 1_500)
        .collect();
    assert!(
        early.len() <= 1,
        "calls arrived {early:?} ms after the 429, before its Retry-After of 1.5 s"
    );
    assert_eq!(calls.iter().filter(|c| c.status == 200).count(), 6, "the refused call was retried");
    assert_eq!(parquet_files(&env.out()).len(), 6);
    assert!(run.stdout.contains("waited out 1 throttling answers"), "{run:?}");
}

#[test]
fn unavailable_resets_and_cut_bodies_are_survived_with_nothing_lost_or_doubled() {
    let env = TestEnv::new();
    config(&env, "[run]\nbackoff_base = \"50ms\"\nbackoff_max = \"200ms\"\n");
    for i in 0..3 {
        env.query(&format!("q{i}.kql"), NARROW);
    }
    env.emu.push_faults([
        Fault::Unavailable { retry_after: Some(0.2) },
        Fault::Reset,
        Fault::None,
        Fault::Truncate,
        Fault::Unavailable { retry_after: None },
        Fault::None,
        Fault::Reset,
    ]);
    let (start, end) = ("2026-11-20T00:00:00Z", "2026-11-20T03:00:00Z");
    let run = env.hunt(
        &[
            "run",
            "queries",
            "--out",
            "out",
            "--json",
            "--concurrency",
            "1",
            "--timespan",
            &format!("{start}/{end}"),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let expected = expected_keys(start, end, 360);
    for i in 0..3 {
        assert_eq!(row_keys(&env.out().join(format!("q{i}"))), expected, "q{i}");
    }
    assert_eq!(env.emu.stats().faults_injected, 5);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let retried: u64 = (0..3).map(|i| v["queries"][i]["retried"].as_u64().unwrap()).sum();
    assert_eq!(retried, 5, "{v}");
}

#[test]
fn a_window_still_cut_at_the_minimum_is_kept_marked_incomplete_and_exits_1() {
    let limits = Limits { max_rows: 50, ..Limits::default() };
    let env = TestEnv::with(EmulatorConfig {
        limits: Some(limits.clone()),
        events_per_hour: 12_000,
        ..Default::default()
    });
    config(&env, "[quota]\nmax_rows = 50\n[run]\nmin_window = \"1m\"\n");
    env.query("dense.kql", NARROW);
    let run = env
        .hunt(&["run", "queries", "--out", "out", "--timespan", "2026-11-20T00:00:00Z/PT4M"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("INCOMPLETE"), "{run:?}");
    assert!(run.stderr.contains("could not be split further"), "{run:?}");
    let files = parquet_files(&env.out());
    assert!(!files.is_empty());
    for f in files {
        let (batches, kv) = read_parquet(&f);
        assert_eq!(meta(&kv, "hunt.complete"), "false");
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 50);
    }
}

#[test]
fn split_never_and_aggregations_are_explained() {
    let limits = Limits { max_rows: 100, ..Limits::default() };
    let env = TestEnv::with(EmulatorConfig { limits: Some(limits), ..Default::default() });
    config(&env, "[quota]\nmax_rows = 100\n");
    env.query("agg.kql", "DeviceProcessEvents | take 150");
    env.query("never.kql", "// ---\n// split: never\n// ---\nDeviceProcessEvents\n");
    let run = env
        .hunt(&["run", "queries", "--out", "out", "--timespan", "2026-11-20T00:00:00Z/PT2H"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("uses `take`") && run.stderr.contains("re-aggregating"), "{run:?}");
    assert!(run.stderr.contains("split: never"), "{run:?}");
}

#[test]
fn sixty_quick_queries_under_45_a_minute_take_about_a_minute_with_no_429() {
    let env = TestEnv::new();
    for i in 0..60 {
        env.query(&format!("q{i:02}.kql"), "AlertInfo | take 1");
    }
    let started = Instant::now();
    let run = env.hunt(
        &[
            "run",
            "queries",
            "--out",
            "out",
            "--concurrency",
            "4",
            "--timespan",
            "2026-11-20T00:00:00Z/PT1H",
        ],
        &[],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    let stats = env.emu.stats();
    println!(
        "60 queries at 45/min: {:.1} s, {} calls, {} refused",
        took.as_secs_f64(),
        stats.hunting_calls,
        stats.throttled
    );
    assert_eq!(stats.throttled, 0);
    assert_eq!(stats.hunting_calls, 60);
    // The quota requires 60 s (the 46th call waits for the first to age out).
    assert!(took >= Duration::from_secs(60) && took < Duration::from_secs(80), "{took:?}");
}

#[test]
fn two_processes_of_one_tenant_share_one_budget() {
    let env = TestEnv::new();
    for p in ["a", "b"] {
        for i in 0..30 {
            env.query(&format!("{p}/q{i:02}.kql"), "AlertInfo | take 1");
        }
    }
    let started = Instant::now();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            env.hunt(
                &["run", "queries/a", "--out", "out", "--timespan", "2026-11-20T00:00:00Z/PT1H"],
                &[],
            )
        });
        let b = s.spawn(|| {
            env.hunt(
                &["run", "queries/b", "--out", "out", "--timespan", "2026-11-20T00:00:00Z/PT1H"],
                &[],
            )
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    let took = started.elapsed();
    assert_eq!((a.code, b.code), (0, 0), "{a:?}\n{b:?}");
    let stats = env.emu.stats();
    println!("2 processes x 30 queries: {:.1} s, {} refused", took.as_secs_f64(), stats.throttled);
    assert_eq!(stats.throttled, 0, "the shared ledger kept both processes inside 45/min");
    assert!(took >= Duration::from_secs(60), "{took:?}");
    // The summary says how long the queries that waited for the minute's budget waited.
    assert!(format!("{}{}", a.stdout, b.stdout).contains("s for quota"), "{a:?}\n{b:?}");
    let quota = env.hunt(&["quota", "--json"], &[]);
    assert_eq!(quota.code, 0, "{quota:?}");
    let v: serde_json::Value = serde_json::from_str(quota.stdout.trim()).unwrap();
    assert_eq!(v["usage"]["calls_hour"], 60, "{v}");
}

#[test]
fn a_timed_out_window_is_answered_in_halves() {
    let env = TestEnv::new();
    env.query("slow.kql", NARROW);
    env.emu.push_faults([Fault::GatewayTimeout]);
    let (start, end) = ("2026-11-20T00:00:00Z", "2026-11-20T04:00:00Z");
    let run = env.hunt(
        &["run", "queries", "--out", "out", "--json", "--timespan", &format!("{start}/{end}")],
        &[],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(row_keys(&env.out()), expected_keys(start, end, 360));
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["queries"][0]["parts"], 2, "{v}");
    let statuses: Vec<u16> = env.emu.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![504, 200, 200]);
    assert_eq!(parquet_files(&env.out()).len(), 2);
    // Run again, answered whole this time: the halves are replaced, not kept beside it.
    let again =
        env.hunt(&["run", "queries", "--out", "out", "--timespan", &format!("{start}/{end}")], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(parquet_files(&env.out()).len(), 1);
    assert_eq!(row_keys(&env.out()), expected_keys(start, end, 360));
}
