//! Notifications on hits, through the binary: webhook receivers on loopback (the hostile
//! tests' [`Peer`]) told of the windows `hunt run` and `hunt schedule` land against the
//! emulator; a receiver that fails, a daemon stopped and started again, each message format, and
//! the webhook URL (a secret) never shown.

use crate::hostile::{Answer, Peer, Request};
use crate::util::{TestEnv, sigterm, wait_until};
use hunt::emulator::EmulatorConfig;
use hunt::schedule::state::StateStore;
use hunt::schedule::state::outbox::NoteStatus;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The secret part of every webhook URL here: it must never be shown.
const KEY: &str = "SECRET-webhook-key-5f2a9c";
const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";

/// A receiver that answers `first` to its first `n` POSTs and 200 after.
fn receiver(n: usize, first: u16) -> Peer {
    let seen = Arc::new(AtomicUsize::new(0));
    Peer::start(move |_| {
        let i = seen.fetch_add(1, Ordering::SeqCst);
        if i < n { Answer::json(first, "{\"error\":\"down\"}") } else { Answer::json(200, "ok") }
    })
}

fn url(peer: &Peer, name: &str) -> String {
    format!("{}/hooks/{name}/{KEY}?sig={KEY}", peer.url)
}

fn body(r: &Request) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {:?}", r.body))
}

/// (query, window start, window end) of a `json` message.
fn key(m: &serde_json::Value) -> (String, String, String) {
    let s = |k: &str| m[k].as_str().unwrap().to_owned();
    (s("query_id"), s("window_start"), s("window_end"))
}

fn no_secret(what: &str, text: &str) {
    assert!(!text.contains(KEY), "{what} shows the webhook URL's key:\n{text}");
    assert!(!text.contains("/hooks/"), "{what} shows the webhook URL:\n{text}");
}

#[test]
fn a_failing_receiver_gets_one_message_per_window_with_rows_across_a_sigterm_and_restart() {
    // Two events a second: nearly every 2 s window of `hits` has rows.
    let env = TestEnv::with(EmulatorConfig { events_per_hour: 7_200, ..Default::default() });
    let peer = receiver(1, 500);
    std::fs::write(
        env.path("hunt.toml"),
        "[run]\nbackoff_base = \"3s\"\nbackoff_max = \"3s\"\n\
         [[notify]]\nname = \"soc\"\nurl_env = \"SOC_HOOK\"\ndefault = true\n",
    )
    .unwrap();
    let every_2s = "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n";
    env.query("hits.kql", &format!("{every_2s}// ---\nAlertInfo | take 2\n"));
    env.query(
        "quiet.kql",
        &format!("{every_2s}// ---\nAlertInfo | where Severity == \"no such severity\"\n"),
    );
    let hook = url(&peer, "soc");
    let extra = [("SOC_HOOK", hook.as_str())];
    let args = ["schedule", "queries", "--out", "out", "--grace", "5s", "--reload", "1s"];
    let (log1, log2) = (env.path("first.log"), env.path("second.log"));

    // The first POST fails (500); the daemon is stopped before its retry is due (3 s later).
    let mut daemon = env.spawn_logged(&args, &extra, &log1);
    wait_until("a first POST", Duration::from_secs(60), || !peer.requests().is_empty());
    assert_eq!(sigterm(&mut daemon), 0);
    let failed_first = key(&body(&peer.requests()[0]));
    let state = || StateStore::open_read_only(&env.schedule_state()).unwrap();
    let pending = state().notes(&[NoteStatus::Pending]).unwrap();
    assert!(
        pending.iter().any(|n| key(&serde_json::to_value(&n.message).unwrap()) == failed_first),
        "the message refused with a 500 is still in the outbox after the stop: {pending:?}"
    );

    // Started again (with metrics): it delivers what was not delivered, and goes on.
    let before_restart = peer.requests().len();
    let with_metrics = [&args[..], &["--metrics", "127.0.0.1:0"]].concat();
    let mut daemon = env.spawn_logged(&with_metrics, &extra, &log2);
    let delivered = || {
        let all = peer.requests();
        all[1..].iter().map(body).map(|m| key(&m)).collect::<Vec<_>>()
    };
    wait_until("the refused message and three more delivered", Duration::from_secs(60), || {
        let got = delivered();
        got.contains(&failed_first) && got.len() >= 4
    });
    // hunt_notifications_total counts this process's deliveries, by notifier.
    let text = std::fs::read_to_string(&log2).unwrap();
    let url = text.lines().find_map(|l| l.strip_prefix("serving metrics on ")).unwrap().trim();
    let at_least = peer.requests().len() - before_restart;
    let (samples, _) = crate::metrics::scrape(url);
    let counted: f64 = samples
        .iter()
        .filter(|(name, labels, _)| {
            name == "hunt_notifications_total"
                && labels["notify"] == "soc"
                && labels["status"] == "delivered"
        })
        .map(|s| s.2)
        .sum();
    assert_eq!(sigterm(&mut daemon), 0);
    let at_most = peer.requests().len() - before_restart;
    assert!(
        (at_least as f64..=at_most as f64).contains(&counted),
        "{counted} delivered counted, {at_least}..={at_most} received"
    );

    let got = delivered();
    let unique: BTreeSet<_> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "a message was delivered twice: {got:?}");
    assert!(got.iter().all(|(q, _, _)| q == "hits"), "an empty window notified: {got:?}");
    // Every window of `hits` that landed rows has exactly one message, delivered or still in
    // the outbox; the quiet query's windows (no rows) have none.
    let state = state();
    let landed: BTreeSet<_> = state
        .history(Some("hits"), usize::MAX)
        .unwrap()
        .into_iter()
        .filter(|r| r.rows > 0 && r.status != hunt::schedule::state::RunStatus::Failed)
        .map(|r| {
            let f = hunt::timespan::format_datetime;
            ("hits".to_owned(), f(r.window.start), f(r.window.end))
        })
        .collect();
    let quiet = state.history(Some("quiet"), usize::MAX).unwrap();
    assert!(quiet.len() >= 2 && quiet.iter().all(|r| r.rows == 0), "{quiet:?}");
    let notes = state.notes(&[]).unwrap();
    let in_outbox: BTreeSet<_> =
        notes.iter().map(|n| key(&serde_json::to_value(&n.message).unwrap())).collect();
    assert_eq!(in_outbox, landed, "one note per window with rows, none for empty windows");
    let marked: BTreeSet<_> = notes
        .iter()
        .filter(|n| n.status == NoteStatus::Delivered)
        .map(|n| key(&serde_json::to_value(&n.message).unwrap()))
        .collect();
    assert_eq!(marked, unique, "the outbox marks delivered exactly what the receiver got");
    // The message holds what landed.
    let first = body(&peer.requests()[1]);
    let tenant = first["tenant"].as_str().unwrap();
    assert!(tenant.eq_ignore_ascii_case(hunt::emulator::TENANT_ID), "{first}");
    let (_, start, _) = key(&first);
    let run = state
        .history(Some("hits"), usize::MAX)
        .unwrap()
        .into_iter()
        .find(|r| hunt::timespan::format_datetime(r.window.start) == start && r.rows > 0)
        .unwrap();
    assert_eq!(first["rows"], run.rows);
    assert_eq!(first["sample"].as_array().unwrap().len() as u64, run.rows.min(10));
    assert_eq!(first["files"].as_array().unwrap().len(), run.files.len());
    assert!(first["sample"][0]["AlertId"].is_string(), "{first}");
    assert!(first["files"][0].as_str().unwrap().ends_with(".parquet"), "{first}");
    assert_eq!(first["complete"], true);
    assert!(!first["request_ids"].as_array().unwrap().is_empty());
    for log in [&log1, &log2] {
        let text = std::fs::read_to_string(log).unwrap();
        no_secret("the daemon's log", &text);
        assert!(text.contains("notification"), "the log says what became of them:\n{text}");
    }
    let failed_log = std::fs::read_to_string(&log1).unwrap();
    assert!(failed_log.contains("HTTP 500"), "{failed_log}");
}

#[test]
fn each_format_gets_its_message_once_per_window() {
    let env = TestEnv::new();
    let (json, teams, slack) = (receiver(0, 200), receiver(0, 200), receiver(0, 200));
    std::fs::write(
        env.path("hunt.toml"),
        "[[notify]]\nname = \"soar\"\nurl_env = \"SOAR_HOOK\"\nsample_rows = 3\n\
         [[notify]]\nname = \"teams\"\nurl_env = \"TEAMS_HOOK\"\nformat = \"teams\"\n\
         [[notify]]\nname = \"slack\"\nurl_env = \"SLACK_HOOK\"\nformat = \"slack\"\nmin_rows = 1000000\n",
    )
    .unwrap();
    env.query(
        "den.kql",
        "// ---\n// id: den-42\n// name: \"Defender Experts: worm\"\n// notify: [soar, teams, slack]\n\
         // den:\n//   incident_id: \"42\"\n//   title: \"Worm\"\n\
         //   url: \"https://security.microsoft.com/incidents/42\"\n// ---\nAlertInfo | take 5\n",
    );
    let hooks = [url(&json, "soar"), url(&teams, "teams"), url(&slack, "slack")];
    let extra = [
        ("SOAR_HOOK", hooks[0].as_str()),
        ("TEAMS_HOOK", hooks[1].as_str()),
        ("SLACK_HOOK", hooks[2].as_str()),
    ];
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW, "--json"], &extra);
    assert_eq!(run.code, 0, "{run:?}");
    no_secret("stdout", &run.stdout);
    no_secret("stderr", &run.stderr);

    let m = body(&json.requests()[0]);
    assert_eq!(json.requests().len(), 1);
    assert_eq!(
        key(&m),
        ("den-42".into(), "2026-11-20T00:00:00Z".into(), "2026-11-20T01:00:00Z".into())
    );
    assert_eq!(m["query_name"], "Defender Experts: worm");
    assert_eq!(m["rows"], 5);
    assert_eq!(m["sample"].as_array().unwrap().len(), 3, "sample_rows = 3");
    assert_eq!(m["den"]["incident_id"], "42");
    assert!(
        json.requests()[0].headers.to_ascii_lowercase().contains("content-type: application/json")
    );

    let t = body(&teams.requests()[0]);
    assert_eq!(t["type"], "message");
    let card = &t["attachments"][0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["body"][0]["text"], "hunt: 5 rows from Defender Experts: worm");
    assert_eq!(card["actions"][0]["url"], "https://security.microsoft.com/incidents/42");

    // min_rows = 1000000: five rows tell Slack nothing.
    assert!(slack.requests().is_empty());

    // The same window run again lands again, but is not told twice.
    let again = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &extra);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!((json.requests().len(), teams.requests().len()), (1, 1));

    // Slack's blocks, for a window with rows, and through run --incremental.
    std::fs::write(
        env.path("hunt.toml"),
        "[[notify]]\nname = \"slack\"\nurl_env = \"SLACK_HOOK\"\nformat = \"slack\"\ndefault = true\n",
    )
    .unwrap();
    env.query("den.kql", "// ---\n// id: inc\n// lookback: 1h\n// ---\nAlertInfo | take 4\n");
    let inc = env.hunt(&["run", "queries", "--out", "out", "--incremental"], &extra);
    assert_eq!(inc.code, 0, "{inc:?}");
    no_secret("stderr", &inc.stderr);
    assert_eq!(slack.requests().len(), 1);
    let s = body(&slack.requests()[0]);
    assert_eq!(s["text"], "hunt: 4 rows from inc");
    assert_eq!(s["blocks"][0]["type"], "header");
    assert_eq!(s["blocks"][1]["fields"][0]["text"], "*Query*\ninc");
    assert!(s["blocks"][2]["text"]["text"].as_str().unwrap().starts_with("```{"), "{s}");
}

#[test]
fn a_receiver_that_stays_down_shows_in_status_and_holds_up_nothing() {
    let env = TestEnv::new();
    // 503 asking for an hour: the run lands, keeps the message, and exits.
    let peer = Peer::start(|_| {
        let mut a = Answer::json(503, format!("{{\"error\":\"down\",\"echo\":\"{KEY}\"}}"));
        a.headers.push(("retry-after".into(), "3600".into()));
        a
    });
    std::fs::write(
        env.path("hunt.toml"),
        "[[notify]]\nname = \"soc\"\nurl_env = \"SOC_HOOK\"\ndefault = true\n",
    )
    .unwrap();
    env.query("q.kql", "AlertInfo | take 1\n");
    let hook = url(&peer, "soc");
    let extra = [("SOC_HOOK", hook.as_str())];
    let started = std::time::Instant::now();
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &extra);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(25), "the run waited for the receiver");
    assert_eq!(peer.requests().len(), 1);
    assert!(run.stderr.contains("1 notification(s) not delivered yet"), "{run:?}");
    no_secret("stderr", &run.stderr);
    assert!(!hunt_output_files(&env).is_empty(), "the window landed");

    let status = env.hunt(&["status"], &[]);
    assert_eq!(status.code, 0, "{status:?}");
    assert!(
        status.stdout.contains(&format!(
            "notification: soc of query q {WINDOW} pending (1 attempt, next at "
        )),
        "{status:?}"
    );
    assert!(status.stdout.contains("the receiver answered HTTP 503"), "{status:?}");
    no_secret("hunt status", &status.stdout);
    let json = env.hunt(&["status", "--json"], &[]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["notifications"][0]["notify"], "soc");
    assert_eq!(doc["notifications"][0]["status"], "pending");
    no_secret("hunt status --json", &json.stdout);
}

fn hunt_output_files(env: &TestEnv) -> Vec<std::path::PathBuf> {
    crate::util::parquet_files(&env.out())
}

#[test]
fn plain_http_to_another_host_and_unknown_notifiers_are_refused_before_anything_runs() {
    let env = TestEnv::new();
    std::fs::write(
        env.path("hunt.toml"),
        "[[notify]]\nname = \"soc\"\nurl_env = \"SOC_HOOK\"\ndefault = true\n",
    )
    .unwrap();
    env.query("q.kql", "AlertInfo | take 1\n");
    let hook = format!("http://hooks.example.com/workflows/{KEY}");
    let run = env.hunt(&["run", "queries", "--out", "out"], &[("SOC_HOOK", &hook)]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("notifier \"soc\": the webhook URL in SOC_HOOK uses plain http://"),
        "{run:?}"
    );
    no_secret("stderr", &run.stderr);
    assert!(!run.stderr.contains("hooks.example.com"), "{run:?}");
    // The daemon refuses it too, before it starts.
    env.query("s.kql", "// ---\n// schedule: \"@hourly\"\n// ---\nAlertInfo | take 1\n");
    let sched = env.hunt(&["schedule", "queries", "--out", "out"], &[("SOC_HOOK", &hook)]);
    no_secret("stderr", &sched.stderr);
    assert_eq!(sched.code, 2, "{sched:?}");
    assert!(sched.stderr.contains("uses plain http://"), "{sched:?}");
    let _ = std::fs::remove_file(env.path("queries/s.kql"));
    assert!(crate::util::parquet_files(&env.out()).is_empty(), "nothing ran");

    let unset = env.hunt(&["run", "queries", "--out", "out"], &[]);
    assert_eq!(unset.code, 2, "{unset:?}");
    assert!(unset.stderr.contains("SOC_HOOK (its url_env) is not set"), "{unset:?}");

    env.query("q.kql", "// ---\n// notify: [soc, scc]\n// ---\nAlertInfo | take 1\n");
    let run = env.hunt(&["run", "queries", "--out", "out"], &[("SOC_HOOK", "https://h.example/x")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "q.kql:2:12: notify: no [[notify]] table named \"scc\" in hunt.toml (known: soc)"
        ),
        "{run:?}"
    );
    // hunt validate says so too, as an error finding.
    let validate = env.hunt(&["validate", "queries"], &[]);
    assert_eq!(validate.code, 1, "{validate:?}");
    let finding = "q.kql:2:12: error: notify: no [[notify]] table named \"scc\"";
    assert!(validate.stdout.contains(finding), "{validate:?}");
}

#[test]
fn a_429_is_waited_out_as_its_retry_after_asks() {
    let env = TestEnv::new();
    // The first POST is throttled for 2 s; the second is taken.
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&times);
    let peer = Peer::start(move |_| {
        let mut seen = seen.lock().unwrap();
        seen.push(std::time::Instant::now());
        if seen.len() == 1 {
            let mut a = Answer::json(429, "{\"error\":\"slow down\"}");
            a.headers.push(("retry-after".into(), "2".into()));
            a
        } else {
            Answer::json(202, "")
        }
    });
    std::fs::write(
        env.path("hunt.toml"),
        "[run]\nbackoff_base = \"100ms\"\n[[notify]]\nname = \"soc\"\nurl_env = \"SOC_HOOK\"\n",
    )
    .unwrap();
    env.query("q.kql", "// ---\n// notify: soc\n// ---\nAlertInfo | take 1\n");
    let hook = url(&peer, "soc");
    let run = env.hunt(
        &["run", "queries", "--timespan", WINDOW, "--print", "jsonl"],
        &[("SOC_HOOK", &hook)],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("not delivered yet"), "{run:?}");
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 2, "one refusal, one delivery");
    let waited = times[1] - times[0];
    assert!(waited >= Duration::from_millis(1900), "retried after {waited:?}, not the 2 s asked");
    let m = body(&peer.requests()[1]);
    assert_eq!(m["rows"], 1);
    assert_eq!(m["files"], serde_json::json!([]), "--print alone writes no file");
    no_secret("stderr", &run.stderr);
}
