//! `hunt schedule` for real: a daemon against the emulator, stopped with SIGTERM and started
//! again, keeps each query's windows contiguous across the restart.

use crate::resilience::{expected_keys, row_keys};
use crate::util::{TestEnv, sigterm, wait_until};
use hunt::emulator::{EmulatorConfig, Fault};
use hunt::schedule::state::{RunStatus, StateStore};
use std::time::Duration;

#[test]
fn windows_stay_contiguous_across_a_sigterm_and_restart() {
    let env = TestEnv::new();
    env.query(
        "tick.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n// ---\nAlertInfo | take 1\n",
    );
    env.query("tock.kql", "// ---\n// schedule: \"*/3 * * * * *\"\n// lookback: 10s\n// delay: 1s\n// ---\nDeviceProcessEvents | count\n");
    let path = env.schedule_state();
    // The windows of `id` the daemon has recorded so far.
    let runs_of = |id: &str| {
        let state = StateStore::open_read_only(&path).ok();
        state.and_then(|s| s.history(Some(id), usize::MAX).ok()).unwrap_or_default()
    };
    let args = ["schedule", "queries", "--out", "out", "--grace", "5s", "--reload", "1s"];
    let mut daemon = env.spawn(&args);
    wait_until("two windows of each query before the stop", Duration::from_secs(60), || {
        ["tick", "tock"].iter().all(|id| runs_of(id).len() >= 2)
    });
    assert_eq!(sigterm(&mut daemon), 0, "exits 0 on SIGTERM");
    let stopped = chrono::Utc::now();
    std::thread::sleep(Duration::from_secs(6)); // down for a while: fires are missed
    let mut daemon = env.spawn(&args);
    let past_the_outage = stopped + chrono::Duration::seconds(1);
    wait_until("four windows of each query, one past the outage", Duration::from_secs(60), || {
        ["tick", "tock"].iter().all(|id| {
            let runs = runs_of(id);
            runs.len() >= 4 && runs.iter().any(|r| r.window.end >= past_the_outage)
        })
    });
    assert_eq!(sigterm(&mut daemon), 0);

    let state = StateStore::open_read_only(&path).unwrap();
    for id in ["tick", "tock"] {
        let mut runs = state.history(Some(id), usize::MAX).unwrap();
        runs.sort_by_key(|r| r.window.start);
        assert!(runs.iter().all(|r| r.status == RunStatus::Ok), "{id}: {runs:?}");
        assert!(runs.len() >= 4, "{id}: {} runs", runs.len());
        for pair in runs.windows(2) {
            assert_eq!(pair[0].window.end, pair[1].window.start, "{id}: windows tile");
        }
        // The first window after the restart picks up where the last one before the stop ended,
        // reaching over the time the daemon was down.
        let over = runs.iter().find(|r| {
            r.window.start <= stopped && r.window.end >= stopped + chrono::Duration::seconds(1)
        });
        assert!(
            over.is_some(),
            "{id}: no window spans the outage: {:?}",
            runs.iter().map(|r| r.window.to_string()).collect::<Vec<_>>()
        );
        assert_eq!(state.watermark(id).unwrap(), Some(runs.last().unwrap().window.end));
    }
}

#[test]
fn a_refused_window_waits_for_its_next_fire_and_the_query_beside_it_runs() {
    let env = TestEnv::new();
    let every_2s = "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n// ---\n";
    env.query("good.kql", &format!("{every_2s}AlertInfo | take 1\n"));
    // The service refuses this one with a 400 every time.
    env.query("bad.kql", &format!("{every_2s}AlertInfo | where Nope == 1\n"));
    let mut daemon = env.spawn(&["schedule", "queries", "--out", "out", "--reload", "1s"]);
    let count = |status: u16| env.emu.calls().iter().filter(|c| c.status == status).count();
    wait_until("six windows of the good query", Duration::from_secs(60), || count(200) >= 6);
    assert_eq!(sigterm(&mut daemon), 0);
    // Over the ~10 s the good query took for six windows, the refused one was tried at its
    // first fire, at the next one, and then not before 15 s had passed: never in a loop.
    let refused = count(400);
    assert!((2..=4).contains(&refused), "the refused window was tried {refused} times");
}

/// A first window split in halves whose second half fails (no crash): the run is recorded as
/// failed and the window runs again at the next fire, from the same start, so the half that
/// landed is replaced rather than kept beside a first window a few seconds later.
#[test]
fn a_first_window_with_a_failed_half_runs_again_from_its_start_and_lands_each_row_once() {
    const EPH: u32 = 3_600;
    let env = TestEnv::with(EmulatorConfig { events_per_hour: EPH, ..Default::default() });
    std::fs::write(env.path("hunt.toml"), "[run]\nmax_retries = 0\n").unwrap();
    env.query(
        "q.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 3h\n// ---\nDeviceProcessEvents | project Timestamp, DeviceId, ReportId\n",
    );
    // The whole window times out (split), its first half answers after 2.5 s (so the window
    // runs again at a later fire than its own), its second fails for good.
    env.emu.push_faults([
        Fault::GatewayTimeout,
        Fault::Slow { ms: 2_500 },
        Fault::Unavailable { retry_after: None },
    ]);
    let args = ["schedule", "queries", "--out", "out", "--grace", "5s", "--reload", "1s"];
    let mut daemon = env.spawn(&args);
    let state = || StateStore::open_read_only(&env.schedule_state()).unwrap();
    wait_until("a failed first window, then one that landed", Duration::from_secs(60), || {
        let runs = state().history(Some("q"), usize::MAX).unwrap();
        runs.iter().any(|r| r.status == RunStatus::Ok)
    });
    assert_eq!(sigterm(&mut daemon), 0);

    let mut runs = state().history(Some("q"), usize::MAX).unwrap();
    runs.reverse(); // oldest first
    assert_eq!(runs[0].status, RunStatus::Failed, "{runs:?}");
    let ok: Vec<_> = runs.iter().filter(|r| r.status == RunStatus::Ok).collect();
    for pair in ok.windows(2) {
        assert_eq!(pair[0].window.end, pair[1].window.start, "windows tile");
    }
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let (first, last) = (ok[0].window.start, ok.last().unwrap().window.end);
    assert_eq!(row_keys(&env.out().join("q")), expected_keys(&fmt(first), &fmt(last), EPH));
    assert_eq!(ok[0].window.start, runs[0].window.start, "the first window did not move");
    assert!(ok[0].window.end >= runs[0].window.end);
}

/// After `hunt schedule --emulator`, plain `hunt status` in the same folder (no tenant in the
/// environment) finds its state, says whether the daemon runs, shows the queries the daemon runs
/// (here from `lib/`, not `./queries`) with the last window's rows and the total; `hunt history`
/// lists the runs. A clean stop and a `kill -9` read differently.
#[test]
fn status_and_history_tell_the_truth_about_a_real_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(
        lib.join("tick.kql"),
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 1h\n// ---\nAlertInfo | take 1\n",
    )
    .unwrap();
    let state = dir.path().join("state");
    let hunt = |args: &[&str]| {
        let out = crate::util::hunt_cmd()
            .current_dir(dir.path())
            .env("HUNT_STATE_DIR", &state)
            .args(args)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // Before any schedule: said plainly, not a demand for AZURE_TENANT_ID.
    let (code, _, stderr) = hunt(&["status"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no schedule state in"), "{stderr}");
    assert!(!stderr.contains("AZURE_TENANT_ID is not set"), "{stderr}");

    let spawn = || {
        crate::util::hunt_cmd()
            .current_dir(dir.path())
            .env("HUNT_STATE_DIR", &state)
            .args(["schedule", "lib", "--emulator", "--out", "out"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut daemon = spawn();
    let runs = || {
        let (_, stdout, _) = hunt(&["history", "--json"]);
        serde_json::from_str::<serde_json::Value>(&stdout)
            .ok()
            .and_then(|v| v["runs"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    wait_until("two runs recorded", Duration::from_secs(60), || runs() >= 2);
    let (code, stdout, stderr) = hunt(&["status"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("daemon: running (pid {}", daemon.id())), "{stdout}");
    let row = stdout.lines().find(|l| l.starts_with("tick ")).expect("the daemon's query");
    // The next fire comes from the daemon's record (lib/), though ./queries does not exist.
    assert!(row.trim_end().ends_with('Z'), "{stdout}");
    let (_, json, _) = hunt(&["status", "--emulator", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["daemon"]["state"], "running", "{v}");
    assert_eq!(v["daemon"]["pid"], daemon.id(), "{v}");
    let (code, history, _) = hunt(&["history", "tick", "--limit", "1"]);
    assert_eq!(code, Some(0));
    assert_eq!(history.lines().count(), 2, "a header and one run: {history}");
    assert!(history.lines().nth(1).unwrap().contains(" tick ") && history.contains(" ok "));

    assert_eq!(sigterm(&mut daemon), 0);
    let (_, stdout, _) = hunt(&["status"]);
    assert!(stdout.starts_with("daemon: not running (stopped "), "{stdout}");
    // ROWS is the last window's, TOTAL ROWS every run's, as history records them.
    let (_, json, _) = hunt(&["history", "--json", "--limit", "1000"]);
    let all: serde_json::Value = serde_json::from_str(&json).unwrap();
    let all = all["runs"].as_array().unwrap();
    let sum: u64 = all.iter().map(|r| r["rows"].as_u64().unwrap()).sum();
    assert!(sum >= 1, "the first window (an hour) found an alert: {json}");
    let header = stdout.lines().nth(1).unwrap();
    let row = stdout.lines().find(|l| l.starts_with("tick ")).unwrap();
    let (rows, total) = (header.find("ROWS").unwrap(), header.find("TOTAL ROWS").unwrap());
    let failures = header.find("FAILURES").unwrap();
    assert_eq!(row[rows..total].trim(), all[0]["rows"].to_string(), "{stdout}");
    assert_eq!(row[total..failures].trim(), sum.to_string(), "{stdout}");

    // hunt plan starts each window at the daemon's watermark (--emulator, or found by itself).
    let (_, json, _) = hunt(&["status", "--json"]);
    let covered =
        serde_json::from_str::<serde_json::Value>(&json).unwrap()["queries"][0]["covered_until"]
            .as_str()
            .unwrap()
            .to_owned();
    for args in [
        &["plan", "lib", "--format", "json", "--for", "10s", "--emulator"][..],
        &["plan", "lib", "--format", "json", "--for", "10s"][..],
    ] {
        let (code, plan, stderr) = hunt(args);
        assert_eq!(code, Some(0), "{stderr}");
        let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
        let window = plan["fires"][0]["window"].as_str().unwrap();
        assert!(window.starts_with(&format!("{covered}/")), "{args:?}: {plan} vs {covered}");
        assert!(plan["calls_allowed"].is_u64(), "{plan}");
        assert!(!plan["at"].as_str().unwrap().contains('.'), "to the second: {plan}");
    }
    // hunt quota --emulator explains that each --emulator process has its own ledger.
    let (code, quota, _) = hunt(&["quota", "--emulator"]);
    assert_eq!(code, Some(0));
    assert!(quota.contains("calls a minute              45"), "{quota}");
    assert!(quota.contains("keeps its own quota ledger in memory"), "{quota}");

    // Killed: not running, and said so differently.
    let mut daemon = spawn();
    let pid = daemon.id();
    wait_until("the restarted daemon", Duration::from_secs(60), || {
        hunt(&["status"]).1.starts_with(&format!("daemon: running (pid {pid}"))
    });
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let (_, stdout, _) = hunt(&["status"]);
    assert!(stdout.starts_with(&format!("daemon: not running: pid {pid} (started ")), "{stdout}");
    assert!(stdout.contains("ended without stopping"), "{stdout}");
}

/// On a terminal each run shows once (its status line, not also its log event), and logs spell
/// a status as `--json` and the state do (`ok`).
#[test]
fn on_a_terminal_each_run_shows_once() {
    let env = TestEnv::new();
    env.query(
        "t.kql",
        "// ---\n// schedule: \"*/1 * * * * *\"\n// lookback: 10s\n// ---\nAlertInfo | take 1\n",
    );
    // The daemon runs for 4 s under a pseudo-terminal, then gets SIGTERM from `timeout`.
    let (_, text) = env.on_a_terminal("timeout -s TERM 4 ", "schedule queries --out out");
    let status_lines =
        text.lines().filter(|l| l.contains(" t 2026-") && l.contains(" ok ")).count();
    assert!(status_lines >= 2, "{text}");
    assert!(!text.contains("run query=t"), "a run's log event repeats its line: {text}");
    // Piped, the log has the event, spelled `status=ok`.
    let log = env.path("log.txt");
    let mut daemon = env.spawn_logged(&["schedule", "queries", "--out", "out2"], &[], &log);
    wait_until("a run in the log", Duration::from_secs(30), || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("run query=t"))
    });
    assert_eq!(sigterm(&mut daemon), 0);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("status=ok") && !log.contains("status=Ok"), "{log}");
}
