//! `hunt schedule --metrics`: Prometheus' own text parser (the Python `prometheus-client`)
//! reads `/metrics`, whose window and row counts equal what the schedule state recorded, with
//! quota and watermark gauges per tenant; `/healthz` answers.

use crate::tools::run_python;
use crate::util::{TestEnv, sigterm, wait_until};
use hunt::schedule::state::StateStore;
use std::time::Duration;

const SCRAPE: &str = r#"
import json, sys, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
health = urllib.request.urlopen(sys.argv[1].replace("/metrics", "/healthz"), timeout=10).read().decode()
samples = [[s.name, s.labels, s.value] for f in text_string_to_metric_families(text) for s in f.samples]
print(json.dumps({"samples": samples, "health": health}))
"#;

/// Every sample as (name, labels, value).
pub fn scrape(url: &str) -> (Vec<(String, serde_json::Value, f64)>, String) {
    let v: serde_json::Value = serde_json::from_str(&run_python(SCRAPE, &[url], &[])).unwrap();
    let samples = v["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s[0].as_str().unwrap().to_owned(), s[1].clone(), s[2].as_f64().unwrap()))
        .collect();
    (samples, v["health"].as_str().unwrap().to_owned())
}

fn sum(samples: &[(String, serde_json::Value, f64)], name: &str) -> f64 {
    samples.iter().filter(|s| s.0 == name).map(|s| s.2).sum()
}

#[test]
fn metrics_parse_with_prometheus_own_parser_and_count_what_landed() {
    let env = TestEnv::new();
    env.query(
        "tick.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 1h\n// ---\nDeviceProcessEvents | take 3\n",
    );
    let log = env.path("schedule.log");
    let args = ["schedule", "queries", "--out", "out", "--metrics", "127.0.0.1:0"];
    let mut daemon = env.spawn_logged(&args, &[], &log);
    let mut url = String::new();
    wait_until("the metrics address in the log", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        match text.lines().find_map(|l| l.strip_prefix("serving metrics on ")) {
            Some(u) => {
                url = u.trim().to_owned();
                true
            }
            None => false,
        }
    });
    let state_path = env.schedule_state();
    let runs = || -> Vec<(u64, String)> {
        StateStore::open_read_only(&state_path)
            .ok()
            .and_then(|s| s.history(Some("tick"), usize::MAX).ok())
            .map(|h| h.iter().map(|r| (r.rows, r.status.to_string())).collect())
            .unwrap_or_default()
    };
    wait_until("two recorded windows", Duration::from_secs(60), || runs().len() >= 2);
    // A scrape, the state, a scrape: when both scrapes agree, the state read between them is
    // what they count.
    let mut checked = false;
    for _ in 0..20 {
        let (before, health) = scrape(&url);
        let recorded = runs();
        let (after, _) = scrape(&url);
        let windows = sum(&before, "hunt_windows_total");
        if windows != sum(&after, "hunt_windows_total") || windows != recorded.len() as f64 {
            continue;
        }
        assert_eq!(health, "ok\n");
        let rows: u64 = recorded.iter().map(|(r, _)| r).sum();
        assert!(rows > 0, "{recorded:?}");
        assert_eq!(sum(&before, "hunt_rows_total"), rows as f64, "rows landed");
        let ok = recorded.iter().filter(|(_, s)| s == "ok").count();
        let ok_windows: f64 = before
            .iter()
            .filter(|s| s.0 == "hunt_windows_total" && s.1["status"] == "ok")
            .map(|s| s.2)
            .sum();
        assert_eq!(ok_windows, ok as f64);
        assert!(
            before.iter().any(|s| s.0 == "hunt_windows_total" && s.1["query"] == "tick"),
            "{before:?}"
        );
        let calls_ok: f64 = before
            .iter()
            .filter(|s| s.0 == "hunt_calls_total" && s.1["status"] == "ok")
            .map(|s| s.2)
            .sum();
        assert!(calls_ok >= recorded.len() as f64, "a call per window at least: {before:?}");
        let budgets: Vec<&str> = before
            .iter()
            .filter(|s| s.0 == "hunt_quota_used_ratio")
            .map(|s| s.1["budget"].as_str().unwrap())
            .collect();
        assert_eq!(budgets.len(), 4, "{before:?}");
        let calls_minute = before
            .iter()
            .find(|s| s.0 == "hunt_quota_used_ratio" && s.1["budget"] == "calls_minute")
            .unwrap();
        assert!(calls_minute.2 > 0.0 && calls_minute.2 <= 1.0, "{calls_minute:?}");
        let lag = before.iter().find(|s| s.0 == "hunt_watermark_lag_seconds").unwrap();
        assert_eq!(lag.1["query"], "tick");
        assert!((0.0..60.0).contains(&lag.2), "{lag:?}");
        checked = true;
        break;
    }
    assert!(checked, "no two scrapes agreed with the state in 20 tries");
    assert_eq!(sigterm(&mut daemon), 0, "{}", std::fs::read_to_string(&log).unwrap());
}
