//! Defender Experts Notifications reach people and tickets, through the binary: the emulator
//! plays a DEN's lifecycle (new → Defender Experts → awaiting the customer → resolved), the
//! test moving its DEN time on step by step; `hunt schedule` (stopped with SIGTERM and started
//! again on the way) and a `hunt den sync` after it tell a loopback webhook receiver each step
//! exactly once, in order, while a receiver that is down holds up nothing.

use crate::hostile::{Answer, Peer, Request};
use crate::util::{TestEnv, sigterm, wait_until};
use hunt::emulator::EmulatorConfig;
use hunt::emulator::den_script::DenScript;
use hunt::schedule::state::StateStore;
use hunt::schedule::state::outbox::NoteStatus;
use serde_json::Value;
use std::time::Duration;

const KEY: &str = "SECRET-den-hook-7c1e";
const STEP: Duration = Duration::from_secs(3600);
const ALL: &str = "[\"den_new\", \"den_experts_assigned\", \"den_action_needed\", \"den_resolved\", \"den_queries_changed\"]";

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {:?}", r.body))
}

/// The URL of a loopback port nothing listens on.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/hooks/{KEY}")
}

#[test]
fn a_den_lifecycle_sends_four_messages_in_order_once_across_a_restart() {
    let env = TestEnv::with(EmulatorConfig {
        den_script: Some(DenScript::every(STEP)),
        ..Default::default()
    });
    let itsm = Peer::start(|_| Answer::json(200, "{}"));
    std::fs::write(
        env.path("hunt.toml"),
        format!(
            "[run]\nbackoff_base = \"1s\"\nbackoff_max = \"1s\"\n\
             [[notify]]\nname = \"itsm\"\nurl_env = \"ITSM_HOOK\"\nden_events = {ALL}\n\
             [[notify]]\nname = \"down\"\nurl_env = \"DOWN_HOOK\"\nden_events = {ALL}\n"
        ),
    )
    .unwrap();
    env.query("hourly.kql", "// ---\n// schedule: \"@hourly\"\n// ---\nAlertInfo | take 1\n");
    let hook = format!("{}/hooks/{KEY}", itsm.url);
    let down = closed_port();
    let extra = [("ITSM_HOOK", hook.as_str()), ("DOWN_HOOK", down.as_str())];
    let args = ["schedule", "queries", "--out", "out", "--grace", "5s", "--den-every", "1s"];
    let (log1, log2) = (env.path("first.log"), env.path("second.log"));
    let itsm_ref = &itsm;
    let got = |n: usize| move || itsm_ref.requests().len() >= n;
    let within = Duration::from_secs(60);

    let mut daemon = env.spawn_logged(&args, &extra, &log1);
    wait_until("den_new", within, got(1));
    env.emu.advance_den_time(STEP);
    wait_until("den_experts_assigned", within, got(2));
    assert_eq!(sigterm(&mut daemon), 0);

    // Stopped while the DEN moves on: the next daemon tells of it.
    env.emu.advance_den_time(STEP);
    let mut daemon = env.spawn_logged(&args, &extra, &log2);
    wait_until("den_action_needed", within, got(3));
    env.emu.advance_den_time(STEP);
    wait_until("den_resolved", within, got(4));
    // The receiver that is down was tried meanwhile, and is still owed its four.
    let state = || StateStore::open_read_only(&env.schedule_state()).unwrap();
    wait_until("the down receiver tried", within, || {
        state().notes(&[NoteStatus::Pending]).unwrap().iter().any(|n| n.attempts > 0)
    });
    assert_eq!(sigterm(&mut daemon), 0);

    // A `hunt den sync` after the daemon: the same state, nothing told twice.
    let sync = env.hunt(&["den", "sync", "--queries", "den", "--json"], &extra);
    assert_eq!(sync.code, 0, "{sync:?}");
    let summary: Value = serde_json::from_str(sync.stdout.trim()).unwrap();
    assert_eq!(summary["events"], serde_json::json!({}), "{summary}");

    let requests = itsm.requests();
    let messages: Vec<Value> = requests.iter().map(body).collect();
    let events: Vec<&str> = messages.iter().map(|m| m["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        ["den_new", "den_experts_assigned", "den_action_needed", "den_resolved"],
        "exactly the four steps, in order, each once (the built-in DENs of last month are old \
         news on a first sync): {messages:#?}"
    );
    for (r, m) in requests.iter().zip(&messages) {
        assert_eq!(m["incident_id"], "9100", "{m}");
        assert_eq!(m["severity"], "high");
        assert_eq!(m["recommended_queries"][0], DenScript::QUERY);
        assert!(m["incident_url"].as_str().unwrap().contains("/incidents/9100"), "{m}");
        assert!(m["summary"].as_str().is_some_and(|s| !s.is_empty()), "{m}");
        let key = m["dedupe_key"].as_str().unwrap();
        let update = m["last_update"].as_str().unwrap();
        assert!(key.ends_with(&format!(":9100:{}:{update}", m["event"].as_str().unwrap())));
        let id_header = format!("x-hunt-notification-id: {key}");
        assert!(r.headers.to_ascii_lowercase().contains(&id_header.to_ascii_lowercase()));
    }
    let keys: std::collections::BTreeSet<_> =
        messages.iter().map(|m| m["dedupe_key"].as_str()).collect();
    assert_eq!(keys.len(), 4);
    assert_eq!(
        (messages[0]["status"].as_str(), messages[0]["assigned_to"].as_str()),
        (Some("active"), None)
    );
    assert_eq!(messages[1]["assigned_to"], "Defender Experts");
    // The Prefer header is sent: awaitingAction, not unknownFutureValue.
    assert_eq!(messages[2]["status"], "awaitingAction");
    assert_eq!(messages[2]["assigned_to"], "Customer");
    assert!(messages[2]["recommended_actions"].as_str().is_some_and(|a| a.contains("Isolate")));
    assert_eq!(messages[2]["previous"]["assigned_to"], "Defender Experts");
    assert_eq!(messages[3]["status"], "resolved");
    assert_eq!(messages[3]["classification"], "truePositive");
    assert_eq!(messages[3]["determination"], "malware");

    // The down receiver's four wait in the outbox; the receiver that answered has none left.
    let notes = state().notes(&[]).unwrap();
    let pending: Vec<_> = notes.iter().filter(|n| n.status == NoteStatus::Pending).collect();
    assert_eq!(pending.len(), 4, "{notes:#?}");
    assert!(pending.iter().all(|n| n.notify == "down"));
    assert_eq!(notes.iter().filter(|n| n.status == NoteStatus::Delivered).count(), 4);

    // `hunt den list` and `hunt den show` tell the DEN's state and history.
    let list = env.hunt(&["den", "list", "--json"], &[]);
    assert_eq!(list.code, 0, "{list:?}");
    let list: Value = serde_json::from_str(list.stdout.trim()).unwrap();
    let den = list["dens"].as_array().unwrap().iter().find(|d| d["incident_id"] == "9100").unwrap();
    assert_eq!(
        (den["status"].as_str(), den["classification"].as_str()),
        (Some("resolved"), Some("truePositive"))
    );
    let show = env.hunt(&["den", "show", "9100", "--json"], &[]);
    assert_eq!(show.code, 0, "{show:?}");
    let show: Value = serde_json::from_str(show.stdout.trim()).unwrap();
    let history: Vec<&Value> = show["history"].as_array().unwrap().iter().collect();
    let told: Vec<Value> = history.iter().map(|h| h["events"].clone()).collect();
    assert_eq!(
        told,
        [
            serde_json::json!(["den_new"]),
            serde_json::json!(["den_experts_assigned"]),
            serde_json::json!(["den_action_needed"]),
            serde_json::json!(["den_resolved"])
        ]
    );
    // The new DEN's recommended query ran at once over its time frame: its rows landed, are
    // counted in the den_new message, and the run is recorded for `hunt den show`.
    let hunted = messages[0]["hunted"].as_array().unwrap();
    assert_eq!(hunted.len(), 1, "{}", messages[0]);
    assert_eq!(hunted[0]["status"], "ok", "{}", messages[0]);
    assert!(hunted[0]["rows"].as_u64().unwrap() > 0, "{}", messages[0]);
    let files = hunted[0]["files"].as_array().unwrap();
    assert!(!files.is_empty());
    for f in files {
        let f = std::path::Path::new(f.as_str().unwrap());
        let f = if f.is_absolute() { f.to_owned() } else { env.path(f.to_str().unwrap()) };
        assert!(f.exists(), "{} was not written", f.display());
    }
    let run = show["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["query_id"] == hunted[0]["query_id"])
        .unwrap_or_else(|| panic!("the run is not recorded: {show}"));
    assert_eq!((&run["rows"], &run["files"]), (&hunted[0]["rows"], &hunted[0]["files"]));
    assert!(messages[1..].iter().all(|m| m["hunted"].as_array().is_some_and(Vec::is_empty)));
    let text = env.hunt(&["den", "show", "9100"], &[]);
    assert!(text.stdout.contains("truePositive"), "{text:?}");
    for log in [&log1, &log2] {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(!text.contains(KEY), "the log shows a webhook URL:\n{text}");
    }
    assert!(!sync.stderr.contains(KEY) && !sync.stdout.contains(KEY), "{sync:?}");
}
