//! The library commands and DEN sync end to end: `hunt den sync` against the emulator's
//! incidents and alerts over HTTP, and `hunt validate`, `hunt list`, `hunt plan` over real and
//! seeded query files.

use crate::util::{TestEnv, hunt_cmd};
use hunt::emulator::Fault;
use hunt::emulator::incidents::{DenKind, Incident};
use std::collections::HashSet;
use std::path::Path;

fn json(run: &crate::util::Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {run:?}"))
}

fn den_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn den_sync_finds_every_kind_saves_each_query_once_and_is_idempotent() {
    let env = TestEnv::new();
    // The second incidents page meets a 429 mid-sync.
    env.emu.push_faults([Fault::None, Fault::Throttle { retry_after: Some(0.3) }]);
    let sync = || env.hunt(&["den", "sync", "--queries", "queries/den", "--json"], &[]);
    let first = sync();
    assert_eq!(first.code, 0, "{first:?}");
    let v = json(&first);
    assert_eq!(v["dens"]["title_prefix"], 7, "{v}");
    assert_eq!(v["dens"]["system_tag"], 7, "{v}");
    assert_eq!(v["dens"]["experts_alert"], 6, "{v}");
    assert_eq!(v["incidents_seen"], 130);
    assert_eq!(v["throttled"], 1, "{v}");
    assert!(v["pages"].as_u64().unwrap() >= 3 + 3, "incidents and alerts both paged: {v}");
    // Five recommended queries, two of them the same but for whitespace: four files.
    let files = den_files(&env.path("queries/den"));
    assert_eq!(files.len(), 4, "{files:?}");
    let hashes: HashSet<String> = files
        .iter()
        .map(|f| {
            let q = hunt::library::read_query_file(f).unwrap();
            q.extra["den"]["kql_sha256"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(hashes.len(), 4);
    // The flattened one-liner is kept but disabled, and the loader takes every file.
    let loaded = hunt::library::load(&[env.path("queries/den")]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.queries.iter().filter(|q| !q.enabled).count(), 1);

    // 24 recommended queries in 20 DENs, 4 distinct: the 20 repeats are not "already there".
    assert_eq!(
        (v["queries_present"].as_u64(), v["queries_repeated"].as_u64()),
        (Some(0), Some(20)),
        "{v}"
    );

    let again = sync();
    assert_eq!(again.code, 0, "{again:?}");
    let v = json(&again);
    assert_eq!(v["queries_new"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(
        (v["queries_present"].as_u64(), v["queries_repeated"].as_u64()),
        (Some(1), Some(0)),
        "{v}"
    );
    assert_eq!(den_files(&env.path("queries/den")), files, "nothing added or renamed");
    let text = env.hunt(&["den", "sync", "--queries", "queries/den", "--full"], &[]);
    assert!(
        text.stdout
            .contains("0 new queries saved under queries/den, 24 already there, 0 repeating"),
        "{text:?}"
    );

    // validate agrees with what den sync saved: the disabled one-liner is a note, not an error
    // that would fail CI on the DEN folder; the other queries are checked.
    let v = env.hunt(&["validate", "queries/den"], &[]);
    assert_eq!(v.code, 0, "{v:?}");
    let notes: Vec<&str> = v.stdout.lines().filter(|l| l.contains(": info: ")).collect();
    assert!(
        notes.iter().any(|l| l.contains("query has no code, only comments: it is disabled")),
        "{v:?}"
    );
    assert!(!v.stdout.contains(": error: "), "{v:?}");
}

#[test]
fn den_sync_is_incremental_from_its_watermark() {
    let env = TestEnv::new();
    let first = env.hunt(&["den", "sync", "--queries", "den", "--json"], &[]);
    assert_eq!(first.code, 0, "{first:?}");
    let watermark = json(&first)["watermark"].as_str().unwrap().to_owned();
    let latest = env.emu.incidents().iter().map(|i| i.updated_ms).max().unwrap();
    env.emu.upsert_incident(Incident {
        id: 9001,
        title: "Defender Experts: new lateral movement on device-900".into(),
        created_ms: latest + 60_000,
        updated_ms: latest + 120_000,
        severity: "high",
        status: "awaitingAction",
        den: Some(DenKind::Title),
        assigned_to: None,
        verdict: ("unknown", "unknown"),
        queries: vec!["DeviceLogonEvents\n| where LogonType == \"RemoteInteractive\"".into()],
    });
    let second = env.hunt(&["den", "sync", "--queries", "den", "--json"], &[]);
    assert_eq!(second.code, 0, "{second:?}");
    let v = json(&second);
    assert_eq!(v["since"], watermark.as_str());
    assert!(v["incidents_seen"].as_u64().unwrap() <= 2, "only what changed: {v}");
    let new = v["queries_new"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{v}");
    assert!(new[0].as_str().unwrap().contains("den-9001-"), "{v}");
}

#[test]
fn incidents_top_over_50_is_refused_like_the_service() {
    let env = TestEnv::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = rt.block_on(async {
        let http = hunt::graph::http_client(std::time::Duration::from_secs(10)).unwrap();
        let base = env.emu.url();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", hunt::emulator::CLIENT_ID),
            ("client_secret", hunt::emulator::CLIENT_SECRET),
            ("scope", "x/.default"),
        ];
        let token: serde_json::Value = http
            .post(format!("{base}/{}/oauth2/v2.0/token", hunt::emulator::TENANT_ID))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let resp = http
            .get(format!("{base}/v1.0/security/incidents?$top=100"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    });
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "");
    assert!(v["error"]["message"].as_str().unwrap().contains("The limit of '50' for Top query"));
}

#[test]
fn validate_points_at_each_seeded_defect() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("unterminated.kql", "DeviceProcessEvents\n| where FileName == \"cmd.exe\n| take 5\n");
    write("brackets.kql", "DeviceProcessEvents\n| summarize count() by bin(Timestamp, 1h))\n");
    write("smart.kql", "DeviceProcessEvents\n| where FileName == “cmd.exe”\n");
    write(
        "flattened.kql",
        "//Run this query to identify devices  AlertInfo | where Title has 'x'\n",
    );
    write("cron.kql", "// ---\n// id: cron\n// schedule: \"*/61 * * * *\"\n// ---\nAlertInfo\n");
    write("sentinel.kql", "DeviceProcessEvents\n| where TimeGenerated > ago(1h)\n");
    // Syntax errors only a parser sees, at file positions (after front matter, inside YAML).
    write("summarise.kql", "// ---\n// id: s\n// ---\nDeviceEvents\n| summarise count() by A\n");
    write("pipe.kql", "DeviceEvents\n| where Timestamp > ago(1h)\n| \n");
    write("let.kql", "let n = 5\nDeviceEvents | take n\n");
    write("rule.yaml", "id: 1\nname: r\nquery: |\n  DeviceEvents\n  | where\n  | take 5\n");
    // Against the shipped schema: a misspelt table, a misspelt column, a Sentinel table.
    write("table.kql", "// c\nDeviceProcesEvents\n| where FileName == 'x'\n");
    write("column.kql", "DeviceProcessEvents\n| where ProcessComandLine has '-enc'\n");
    write("signin.kql", "SigninLogs\n| where ResultType != 0\n");
    let run = hunt_cmd().arg("validate").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    let has = |suffix: &str| stdout.lines().any(|l| l.ends_with(suffix) || l.contains(suffix));
    let p = |name: &str| dir.path().join(name).display().to_string();
    assert!(has(&format!("{}:2:21: error:", p("unterminated.kql"))), "{stdout}");
    assert!(has(&format!("{}:2:42: error:", p("brackets.kql"))), "{stdout}");
    assert!(has(&format!("{}:2:21: error:", p("smart.kql"))), "{stdout}");
    assert!(has(&format!("{}:1:1: error:", p("flattened.kql"))), "{stdout}");
    assert!(has(&format!("{}:3:4: error:", p("cron.kql"))), "{stdout}");
    assert!(has(&format!("{}:2:9: warning:", p("sentinel.kql"))), "{stdout}");
    assert!(
        has(&format!(
            "{}:5:3: error: unknown query operator 'summarise' — did you mean 'summarize'?",
            p("summarise.kql")
        )),
        "{stdout}"
    );
    assert!(has(&format!("{}:3:1: error: trailing '|'", p("pipe.kql"))), "{stdout}");
    assert!(has(&format!("{}:2:1: error: expected ';' after", p("let.kql"))), "{stdout}");
    assert!(has(&format!("{}:6:3: error: 'where' needs a predicate", p("rule.yaml"))), "{stdout}");
    assert!(
        has(&format!(
            "{}:2:1: error: unknown table 'DeviceProcesEvents' — did you mean 'DeviceProcessEvents'?",
            p("table.kql")
        )),
        "{stdout}"
    );
    assert!(
        has(&format!(
            "{}:2:9: warning: 'ProcessComandLine' is not a column of DeviceProcessEvents",
            p("column.kql")
        )),
        "{stdout}"
    );
    assert!(has("did you mean 'ProcessCommandLine'?"), "{stdout}");
    assert!(
        has(&format!(
            "{}:1:1: warning: 'SigninLogs' is not a Defender XDR advanced-hunting table",
            p("signin.kql")
        )),
        "{stdout}"
    );
}

#[test]
fn the_real_corpus_loads_lists_and_validates_without_errors() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corpus");
    let run = hunt_cmd().args(["validate", corpus]).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{}\n{stderr}", String::from_utf8_lossy(&run.stdout));
    assert!(stderr.contains("40 files, 79 queries: 0 errors"), "{stderr}");
    let run = hunt_cmd().args(["list", corpus, "--format", "json"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 79);
    let ids: HashSet<&str> = items.iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 79, "ids are unique");
    // Every query reads a table but one, which is a `print` statement.
    let tableless: Vec<&str> = items
        .iter()
        .filter(|q| q["tables"].as_array().unwrap().is_empty())
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        tableless,
        ["m365dhq__webcasts_trackingtheadversary_episode_3_-_summarizing_pivoting_and_joining-1"]
    );
}

#[test]
fn plan_tiles_each_schedule_from_a_given_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("q.kql"),
        "// ---\n// schedule: \"*/15 * * * *\"\n// lookback: 1h\n// delay: 5m\n// ---\nAlertInfo\n",
    )
    .unwrap();
    let run = hunt_cmd()
        .arg("plan")
        .arg(dir.path())
        .args(["--at", "2026-11-22T10:00:00Z", "--for", "1h", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let windows: Vec<&str> =
        v["fires"].as_array().unwrap().iter().map(|f| f["window"].as_str().unwrap()).collect();
    assert_eq!(
        windows,
        [
            "2026-11-22T08:55:00Z/2026-11-22T09:55:00Z",
            "2026-11-22T09:55:00Z/2026-11-22T10:10:00Z",
            "2026-11-22T10:10:00Z/2026-11-22T10:25:00Z",
            "2026-11-22T10:25:00Z/2026-11-22T10:40:00Z",
        ]
    );
}

#[test]
fn one_file_of_a_hundred_thousand_unclosed_brackets_prints_a_bounded_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("brackets.kql"),
        format!("AlertInfo | where {}", "(".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(dir.path().join("other.kql"), "AlertInfo\n| where Title == \"x\n").unwrap();
    let run = hunt_cmd().arg("validate").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stdout.lines().count() <= 53, "{} lines", stdout.lines().count());
    assert!(
        stdout.contains("more findings not shown"),
        "{}",
        &stdout[stdout.len().saturating_sub(500)..]
    );
    // The other file's finding is not buried.
    assert!(stdout.contains("other.kql:2:"), "{stdout}");
    // The summary still counts every finding.
    assert!(stderr.contains("errors"), "{stderr}");
}

#[test]
fn output_closed_by_its_reader_ends_quietly() {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corpus");
    let mut child = hunt_cmd()
        .args(["list", corpus, "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read 10 bytes, then close the pipe, as `| head -c 10` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_fifo_named_as_a_query_file_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("q.kql");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let started = std::time::Instant::now();
    let mut child = hunt_cmd()
        .arg("validate")
        .arg(&fifo)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = started + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hunt validate still waits on the FIFO after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(text.contains("not a regular file"), "{text}");
}

/// A path that does not exist is a usage error (exit 2) naming it, for every command that loads
/// a library, and a library with no query files is not run (or scheduled) empty.
#[test]
fn missing_paths_and_empty_libraries_are_usage_errors() {
    let env = crate::util::TestEnv::new();
    for args in [
        vec!["run", "q.kql"],
        vec!["validate", "q.kql"],
        vec!["list", "q.kql"],
        vec!["plan", "q.kql"],
        vec!["schedule", "q.kql"],
    ] {
        let run = env.hunt(&args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("error: no such file or folder: q.kql"), "{args:?}: {run:?}");
    }
    std::fs::create_dir_all(env.path("empty")).unwrap();
    for (args, want) in [
        (vec!["validate", "empty"], "no query files found in empty"),
        (vec!["schedule", "empty"], "no query files found in empty: nothing to schedule"),
        (vec!["run", "empty"], "no enabled queries found in empty"),
    ] {
        let run = env.hunt(&args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(want), "{args:?}: {run:?}");
    }
}

/// `hunt list` and `hunt validate` count the same errors, warnings and notes for one library:
/// warnings only the lint finds (an unknown key, a lookback past retention), one the loader
/// finds too (a second statement), and a query saved disabled (a note to both).
#[test]
fn list_and_validate_count_the_same_findings() {
    let env = TestEnv::new();
    env.query(
        "a.kql",
        "// ---\n// colour: red\n// lookback: 40d\n// ---\nDeviceProcessEvents | take 1\n",
    );
    env.query("b.kql", "// ---\n// enabled: false\n// ---\n// DeviceProcessEvents | take 1\n");
    env.query("c.kql", "AlertInfo | take 1;\nAlertEvidence | take 1\n");
    // "…: 0 errors, 3 warnings, 1 note…": the three counts of a summary line.
    let counts = |line: &str| -> Vec<String> {
        let tail = line.rsplit_once(": ").map_or(line, |(_, t)| t);
        tail.split(", ").map(|p| p.split(" (").next().unwrap_or(p).to_owned()).collect()
    };
    let list = env.hunt(&["list", "queries"], &[]);
    assert_eq!(list.code, 0, "{list:?}");
    let footer = list.stdout.lines().last().unwrap_or_default();
    let validate = env.hunt(&["validate", "queries"], &[]);
    let summary = validate.stderr.lines().last().unwrap_or_default();
    assert!(summary.contains("3 queries"), "{validate:?}");
    let want = counts(summary);
    assert_eq!(want.len(), 3, "{summary}");
    assert!(want[1] == "3 warnings" && want[2] == "3 notes", "{validate:?}");
    assert_eq!(counts(footer), want, "list: {footer}\nvalidate: {summary}");
    assert!(footer.starts_with("3 queries from 3 files"), "{list:?}");
    // The disabled query is a note on list's stderr too, as validate ranks it.
    assert!(list.stderr.contains("note: ") && list.stderr.contains("disabled"), "{list:?}");
}
