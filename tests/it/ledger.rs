//! The quota ledger shared by every hunt process of a tenant survives processes that die: a
//! call of a process killed with SIGKILL is charged only while it can have run, a `Retry-After`
//! of years or a pause far ahead in the file is clamped to five minutes, and every wait for
//! budget says why and until when.

use crate::util::{TestEnv, wait_until};
use hunt::emulator::Fault;
use std::time::{Duration, Instant};

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T00:10:00Z";

fn ledger_path(env: &TestEnv) -> std::path::PathBuf {
    let tenant = hunt::query::slug(&hunt::emulator::TENANT_ID.to_ascii_lowercase());
    env.path(&format!("state/quota-{tenant}.json"))
}

fn ledger(env: &TestEnv) -> serde_json::Value {
    std::fs::read(ledger_path(env))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn quota_usage(env: &TestEnv) -> serde_json::Value {
    let q = env.hunt(&["quota", "--json"], &[]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    let v: serde_json::Value = serde_json::from_str(q.stdout.trim()).unwrap();
    v["usage"].clone()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Defect: a call of a killed process stayed "in flight" and was charged as running until the
/// ledger was next read (reaped only after 15 minutes), so the execution budget read as spent
/// and the next run waited without a word.
#[test]
fn a_killed_run_s_call_is_charged_only_while_it_can_have_run() {
    let env = TestEnv::new();
    // 12 s of execution an hour: the dead call charged for its 5 s estimate leaves room for the
    // next call's 5 s; charged as still running 6.5 s on, it would not.
    std::fs::write(
        env.path("hunt.toml"),
        "[quota]\nexec_per_hour = \"12s\"\n[run]\nthrottle_deadline = \"3s\"\n",
    )
    .unwrap();
    let q = env.query("q.kql", "DeviceProcessEvents | take 5");
    let q = q.to_str().unwrap();
    env.emu.push_faults([Fault::Slow { ms: 120_000 }]);
    let mut first = env.spawn(&["run", q, "--timespan", WINDOW, "--out", "out"]);
    let mut started = 0;
    wait_until("the first run's call in flight", Duration::from_secs(30), || {
        let v = ledger(&env);
        match v["in_flight"].as_object().and_then(|m| m.values().next()) {
            Some(call) => {
                started = call["start"].as_i64().unwrap();
                true
            }
            None => false,
        }
    });
    assert!(
        ledger(&env)["in_flight"].as_object().unwrap().values().all(|c| c["owner"].is_object())
    );
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    wait_until("6.5 s since the killed call started", Duration::from_secs(30), || {
        now_ms() >= started + 6_500
    });
    let usage = quota_usage(&env);
    assert_eq!(usage["in_flight"], 0, "hunt quota still counts the dead call: {usage}");
    let charged = usage["exec_hour_ms"].as_i64().unwrap();
    assert!((5_000..6_500).contains(&charged), "charged {charged} ms for a 5 s estimate");

    let t = Instant::now();
    let second = env.hunt(&["run", q, "--timespan", WINDOW, "--out", "out"], &[]);
    assert_eq!(second.code, 0, "the next run waited on a dead call: {}", second.stderr);
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    assert!(!second.stderr.contains("waiting for quota"), "{}", second.stderr);
}

/// Defect: waits for budget were silent at every verbosity; now each says which budget and
/// until when, and a run that gives up names it too.
#[test]
fn a_wait_for_budget_says_which_budget_and_until_when() {
    let env = TestEnv::new();
    std::fs::write(
        env.path("hunt.toml"),
        "[quota]\ncalls_per_minute = 1\n[run]\nthrottle_deadline = \"2s\"\n",
    )
    .unwrap();
    let q = env.query("q.kql", "DeviceProcessEvents | take 5");
    let q = q.to_str().unwrap();
    let first = env.hunt(&["run", q, "--timespan", WINDOW, "--out", "out"], &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = env.hunt(&["run", q, "--timespan", WINDOW, "--out", "out"], &[]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    let line = second
        .stderr
        .lines()
        .find(|l| l.contains("waiting for quota"))
        .unwrap_or_else(|| panic!("no wait explained: {}", second.stderr));
    assert!(line.contains("calls this minute 1/1; resumes "), "{line}");
    assert!(line.contains(" UTC (in "), "{line}");
    let secs: i64 = line.rsplit("(in ").next().unwrap().trim_end_matches("s)").parse().unwrap();
    assert!((55..=62).contains(&secs), "{line}");
    assert!(
        second.stdout.contains("gave up waiting for quota")
            || second.stderr.contains("gave up waiting for quota")
    );
}

/// Defect: a 429 with `Retry-After: 1000000000` stored a pause of about an hour for every later
/// process, and a `paused_until` far ahead in the file was kept as it was.
#[test]
fn pauses_in_the_shared_ledger_are_clamped_to_five_minutes() {
    let env = TestEnv::new();
    let q = env.query("q.kql", "DeviceProcessEvents | take 5");
    let q = q.to_str().unwrap();
    env.emu.push_faults([Fault::Throttle { retry_after: Some(1e9) }]);
    let before = now_ms();
    let run = env.hunt(&["run", q, "--timespan", WINDOW, "--out", "out"], &[]);
    assert_eq!(run.code, 1, "a 31-year Retry-After fails the query: {}", run.stderr);
    let paused = quota_usage(&env)["paused_until_ms"].as_i64().unwrap();
    assert!(paused <= now_ms() + 300_000 && paused >= before + 290_000, "paused until {paused}");

    // A pause ten days ahead written by anything else is read as at most five minutes.
    let mut v = ledger(&env);
    v["paused_until"] = serde_json::json!(now_ms() + 10 * 86_400_000);
    std::fs::write(ledger_path(&env), v.to_string()).unwrap();
    let paused = quota_usage(&env)["paused_until_ms"].as_i64().unwrap();
    assert!(paused <= now_ms() + 300_000, "paused until {paused}");
    std::fs::write(env.path("hunt.toml"), "[run]\nthrottle_deadline = \"2s\"\n").unwrap();
    let run = env.hunt(&["run", q, "--timespan", WINDOW, "--out", "out"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run.stderr.lines().find(|l| l.contains("waiting for quota")).unwrap_or_default();
    assert!(line.contains("paused after the service's 429"), "{}", run.stderr);
    let secs: i64 = line.rsplit("(in ").next().unwrap().trim_end_matches("s)").parse().unwrap();
    assert!(secs <= 300, "{line}");
}
