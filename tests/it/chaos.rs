//! Chaos and crash safety: `hunt schedule` against an emulator that fails a third of its calls at
//! random (503, 429, 504, resets, cut bodies, slow answers, tokens that die early), and a daemon
//! killed with SIGKILL at arbitrary moments (and in the middle of a first window split in halves)
//! and started again. Afterwards every window is present exactly once: the rows on disk are
//! exactly the emulator's rows of the covered span, the schedule state tiles, and no
//! half-written file remains.

use crate::lake::Lake;
use crate::resilience::{batch_keys, expected_keys, row_keys};
use crate::util::{TestEnv, all_files, parquet_files, read_parquet, sigterm, wait_until};
use hunt::delta::DeltaTable;
use hunt::emulator::{EmulatorConfig, Fault};
use hunt::output::layout::window_of_file;
use hunt::schedule::state::{RunStatus, StateStore};
use hunt::timespan::Window;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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

/// Whether every query has landed three windows and at least one of them started at or after
/// `since` (the schedule state, read while the daemon writes it).
fn landed_since(env: &TestEnv, since: chrono::DateTime<chrono::Utc>) -> bool {
    let Ok(state) = StateStore::open_read_only(&env.schedule_state()) else { return false };
    QUERIES.iter().all(|(id, _)| {
        let runs = state.history(Some(id), usize::MAX).unwrap_or_default();
        let ok: Vec<_> = runs.iter().filter(|r| r.status == RunStatus::Ok).collect();
        ok.len() >= 3 && ok.iter().any(|r| r.started >= since)
    })
}

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
    std::thread::sleep(Duration::from_secs(secs)); // the chaos lasts this long
    env.emu.set_chaos(0.0); // let the last windows land cleanly
    let calm = chrono::Utc::now();
    wait_until("a clean window of each query", Duration::from_secs(60), || {
        landed_since(&env, calm)
    });
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
        std::thread::sleep(Duration::from_millis(ms)); // the moment of the kill
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
    }
    let restarted = chrono::Utc::now();
    let mut daemon = env.spawn(&args);
    wait_until("a window of each query after the last kill", Duration::from_secs(60), || {
        landed_since(&env, restarted)
    });
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
        std::thread::sleep(Duration::from_millis(ms)); // the moment of the kill
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

/// Where a daemon under test writes: its work folder's `out/`, or `hunt/` in an Azurite
/// container.
enum Out {
    Folder(PathBuf),
    Lake(Box<Lake>),
}

impl Out {
    /// `--out`.
    fn arg(&self) -> String {
        match self {
            Out::Folder(dir) => dir.display().to_string(),
            Out::Lake(lake) => lake.url("hunt"),
        }
    }

    /// The variables hunt needs to reach it.
    fn vars(&self) -> Vec<(&str, &str)> {
        match self {
            Out::Folder(_) => Vec::new(),
            Out::Lake(lake) => lake.vars(),
        }
    }

    /// The data files of `query` (a Delta log's own are left out): paths or object keys, sorted.
    fn files(&self, query: &str) -> Vec<String> {
        let all = match self {
            Out::Folder(dir) => {
                parquet_files(&dir.join(query)).iter().map(|p| p.display().to_string()).collect()
            }
            Out::Lake(lake) => lake.keys(&format!("hunt/{query}")),
        };
        all.into_iter().filter(|f| f.ends_with(".parquet") && !f.contains("_delta_log")).collect()
    }

    /// The rows of `files`, as `(Timestamp ns, ReportId)`, checking none repeats.
    fn keys(&self, files: &[String]) -> Vec<(i64, i64)> {
        batch_keys(files.iter().flat_map(|f| match self {
            Out::Folder(_) => read_parquet(Path::new(f)).0,
            Out::Lake(lake) => lake.read(f).0,
        }))
    }
}

/// The window a part file answers: `<start>_<end>.parquet`, or `<start>_<end>-<uuid>.parquet`
/// in a Delta table.
fn part_window(file: &str) -> Window {
    let name = file.rsplit('/').next().unwrap();
    let stem = name.trim_end_matches(".parquet").split('-').next().unwrap();
    window_of_file(&format!("{stem}.parquet")).unwrap_or_else(|| panic!("not a part: {file}"))
}

/// The case, in `format`, to a folder or to `lake`: a query's first window (3 h, under
/// a per-2-seconds schedule) times out whole and is split in halves; the daemon is killed with
/// SIGKILL once the first half's file has landed, while the second half is still being
/// answered, so no run is recorded. Started again at a later fire, the daemon must not leave
/// that half beside a new first window: every event read back from the output is there exactly
/// once.
fn sigkill_in_a_split_first_window(format: &str, lake: Option<Lake>) {
    const EPH: u32 = 10_000; // 30,000 rows in the window, 15,000 in each half
    let env = TestEnv::with(EmulatorConfig { events_per_hour: EPH, ..Default::default() });
    env.query(
        "q.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 3h\n// ---\nDeviceProcessEvents | project Timestamp, DeviceId, ReportId\n",
    );
    // The whole window times out (split), its first half answers, its second hangs for a minute.
    env.emu.push_faults([Fault::GatewayTimeout, Fault::None, Fault::Slow { ms: 60_000 }]);
    let out = lake.map_or_else(|| Out::Folder(env.out()), |lake| Out::Lake(Box::new(lake)));
    let dest = out.arg();
    let args = [
        "schedule", "queries", "--format", format, "--out", &dest, "--grace", "5s", "--reload",
        "1s",
    ];

    let mut daemon = env.spawn_with(&args, &out.vars());
    wait_until("the first half landed and the second half asked", Duration::from_secs(60), || {
        !out.files("q").is_empty() && env.emu.stats().faults_injected == 2
    });
    daemon.kill().unwrap(); // SIGKILL
    daemon.wait().unwrap();
    let killed = out.files("q");
    let half = part_window(&killed[0]);
    assert!(killed.iter().all(|f| part_window(f) == half), "one part landed: {killed:?}");
    let state = StateStore::open_read_only(&env.schedule_state()).unwrap();
    assert!(state.history(Some("q"), 10).unwrap().is_empty(), "no run recorded");

    // Restart once the schedule has fired again (as after any real crash: the first window's
    // fire was `half.start + 3h`, the next one 2 s later).
    let next_fire = half.start + chrono::Duration::hours(3) + chrono::Duration::seconds(2);
    wait_until("the schedule's next fire", Duration::from_secs(10), || {
        chrono::Utc::now() >= next_fire
    });
    let mut daemon = env.spawn_with(&args, &out.vars());
    wait_until("a window landed after the restart", Duration::from_secs(90), || {
        let runs = state.history(Some("q"), usize::MAX).unwrap();
        runs.iter().any(|r| r.status == RunStatus::Ok)
    });
    assert_eq!(sigterm(&mut daemon), 0);

    let mut runs: Vec<_> = state
        .history(Some("q"), usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|r| r.status == RunStatus::Ok)
        .collect();
    runs.sort_by_key(|r| r.window.start);
    for pair in runs.windows(2) {
        assert_eq!(pair[0].window.end, pair[1].window.start, "windows tile");
    }
    let (first, last) = (runs[0].window.start, runs.last().unwrap().window.end);
    assert_eq!(state.watermark("q").unwrap(), Some(last));
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let expected = expected_keys(&fmt(first), &fmt(last), EPH);
    // Every row read back: the files in place (Parquet), or the table's live files (Delta).
    let on_disk = if format == "delta" {
        let live = live_delta_files(&env.out().join("q"));
        for f in &killed {
            assert!(!live.contains(f), "the killed attempt's part was never committed: {f}");
        }
        out.keys(&live)
    } else {
        out.keys(&out.files("q"))
    };
    assert_eq!(on_disk.len(), expected.len(), "rows read back vs rows in [{first}, {last})");
    assert_eq!(on_disk, expected);
    // The first window ran again from where the killed attempt began, and replaced its part.
    assert_eq!(first, half.start, "the first window did not move");
    if format == "parquet" {
        let now = out.files("q");
        for f in &killed {
            assert!(!now.contains(f), "the killed attempt's part is still there: {f}");
        }
    }
}

/// The live data files of the local Delta table at `table`, as its log says.
fn live_delta_files(table: &Path) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store: Arc<dyn object_store::ObjectStore> =
        Arc::new(object_store::local::LocalFileSystem::new());
    let root = object_store::path::Path::from_absolute_path(table).unwrap();
    let snapshot = rt
        .block_on(async { DeltaTable::open(store, root).await.unwrap().snapshot().await })
        .expect("a Delta table");
    let mut files: Vec<String> =
        snapshot.files.keys().map(|p| table.join(p).display().to_string()).collect();
    files.sort();
    files
}

#[test]
fn sigkill_in_a_split_first_window_then_restart_lands_each_row_once() {
    sigkill_in_a_split_first_window("parquet", None);
}

#[test]
fn sigkill_in_a_split_first_window_then_restart_lands_each_object_once_in_azurite() {
    sigkill_in_a_split_first_window("parquet", Some(Lake::new("crash-first-window")));
}

#[test]
fn sigkill_in_a_split_first_window_then_restart_commits_each_row_once_to_delta() {
    sigkill_in_a_split_first_window("delta", None);
}
