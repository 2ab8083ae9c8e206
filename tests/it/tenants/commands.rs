//! The long-running and bookkeeping commands over several tenants: one `hunt schedule` process
//! running a daemon per tenant until one SIGTERM, `hunt status` and `hunt quota` per tenant,
//! `hunt den sync` into a folder per tenant, and `hunt emulator --tenants N` for manual use.

use super::{WINDOW, hunt_with, json, many, tenant_dirs, tenant_statuses};
use crate::util::{TestEnv, sigterm};
use hunt::schedule::state::{RunStatus, StateStore};
use std::collections::BTreeSet;
use std::io::BufRead as _;
use std::time::Duration;

#[test]
fn one_schedule_process_runs_a_daemon_per_tenant_and_reports_the_one_that_cannot_sign_in() {
    // Tenant c's secret is wrong: a and b run, the process ends with exit 1.
    let (env, mut vars) = many(&["a", "b", "c"]);
    vars.retain(|(k, _)| k != "C_SECRET");
    vars.push(("C_SECRET".into(), "not-the-secret".into()));
    env.query(
        "tick.kql",
        // An hour's first window always holds AlertInfo rows, so each tenant writes a folder.
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 1h\n// ---\nAlertInfo | take 1\n",
    );
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let log = env.path("schedule.log");
    let args = ["schedule", "queries", "--out", "out", "--grace", "5s", "--reload", "1s"];
    let mut daemon = env.spawn_logged(&args, &extra, &log);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(sigterm(&mut daemon), 1, "{}", std::fs::read_to_string(&log).unwrap());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("error: tenant c: cannot sign in") && log.contains("AADSTS7000215"),
        "{log}"
    );
    assert!(!log.contains("not-the-secret"), "{log}");

    for name in ["a", "b"] {
        let path = env.path(&format!("state/schedule-tenant-{name}.sqlite"));
        let state = StateStore::open_read_only(&path).unwrap();
        let mut runs = state.history(Some("tick"), usize::MAX).unwrap();
        runs.sort_by_key(|r| r.window.start);
        assert!(runs.len() >= 2, "{name}: {runs:?}");
        assert!(runs.iter().all(|r| r.status == RunStatus::Ok), "{name}: {runs:?}");
        for pair in runs.windows(2) {
            assert_eq!(pair[0].window.end, pair[1].window.start, "{name}: windows tile");
        }
        assert!(
            runs.iter().all(|r| r.files.iter().all(|f| f.contains(&format!("/tenant={name}/"))))
        );
    }
    assert!(!env.path("state/schedule-tenant-c.sqlite").exists());
    assert_eq!(tenant_dirs(&env.out()), BTreeSet::from(["a".to_owned(), "b".to_owned()]));

    // hunt status: every tenant's schedule, or the ones asked for; c never ran.
    let status = hunt_with(&env, &["status", "--json", "--tenant", "a,b"], &vars);
    assert_eq!(status.code, 0, "{status:?}");
    let v = json(&status);
    for (i, name) in ["a", "b"].iter().enumerate() {
        assert_eq!(v["tenants"][i]["name"], *name, "{v}");
        assert!(v["tenants"][i]["queries"][0]["total_runs"].as_u64().unwrap() >= 2, "{v}");
    }
    let status = hunt_with(&env, &["status"], &vars);
    assert_eq!(status.code, 0, "{status:?}");
    let c = status.stdout.split("tenant c (").nth(1).unwrap_or_else(|| panic!("{status:?}"));
    assert!(status.stdout.contains("tenant b (") && c.contains("tick   -"), "{status:?}");

    // hunt quota: each tenant's own ledger, with its own calls.
    let quota = hunt_with(&env, &["quota", "--json", "--tenant", "a,b,c"], &vars);
    assert_eq!(quota.code, 0, "{quota:?}");
    let v = json(&quota);
    let calls = |i: usize| v["tenants"][i]["usage"]["calls_hour"].as_u64().unwrap();
    assert_eq!(v["tenants"][0]["name"], "a");
    assert_eq!(v["tenants"][1]["name"], "b");
    assert!(calls(0) >= 2 && calls(1) >= 2, "{v}");
    assert_eq!(calls(2), 0, "c never called: {v}");
    assert_eq!(v["tenants"][2]["limits"]["calls_per_minute"], 45);
    let quota = hunt_with(&env, &["quota", "--tenant", "b"], &vars);
    assert!(quota.stdout.starts_with("tenant b ("), "{quota:?}");
}

#[test]
fn den_sync_saves_each_tenants_queries_in_its_own_folder() {
    let env = TestEnv::new();
    std::fs::write(env.path("hunt.toml"), "[[tenant]]\nname = \"x\"\n[[tenant]]\nname = \"y\"\n")
        .unwrap();
    let run = env.hunt(&["den", "sync", "--emulator", "--queries", "qd", "--json"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let v = json(&run);
    for (i, name) in ["x", "y"].iter().enumerate() {
        assert_eq!(v["tenants"][i]["name"], *name, "{v}");
        assert_eq!(v["tenants"][i]["queries_new"].as_array().unwrap().len(), 4, "{v}");
        let saved = std::fs::read_dir(env.path(&format!("qd/{name}"))).unwrap().count();
        assert_eq!(saved, 4, "{name}");
    }
    let text = env.hunt(&["den", "sync", "--emulator", "--queries", "qd", "--tenant", "y"], &[]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("tenant y: ") && text.stdout.contains("qd/y"), "{text:?}");
}

#[test]
fn the_emulator_serves_n_tenants_and_writes_their_tables() {
    let env = TestEnv::new();
    env.query("alerts.kql", "AlertInfo | take 4");
    let tables = env.path("emu.toml");
    let mut cmd = crate::util::hunt_cmd();
    cmd.args(["emulator", "--port", "0", "--tenants", "3", "--hunt-toml"]).arg(&tables);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    let mut emu = cmd.spawn().unwrap();
    let mut lines = std::io::BufReader::new(emu.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("hunt emulator listening on http://127.0.0.1:"), "{first}");
    let said: Vec<String> = lines.by_ref().take_while(|l| l.is_ok()).flatten().take(7).collect();
    assert!(said.iter().any(|l| l.contains("--config")), "{said:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&tables).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let config = tables.to_str().unwrap();
    let run =
        env.hunt(&["--config", config, "run", "queries", "--timespan", WINDOW, "--json"], &[]);
    let _ = emu.kill();
    let _ = emu.wait();
    assert_eq!(run.code, 0, "{run:?}");
    let names: Vec<String> = tenant_statuses(&json(&run)).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["tenant-001", "tenant-002", "tenant-003"]);
    assert!(!run.stderr.contains("chmod 600"), "a file only its owner reads: {run:?}");
    assert_eq!(env.emu.stats().hunting_calls, 0, "the test's own emulator was not used");
}

/// Reads a Delta table with delta-rs: its version, partition columns and rows per tenant.
const READ_DELTA: &str = r#"
import json, os, sys
import pyarrow.compute as pc
from deltalake import DeltaTable
dt = DeltaTable(sys.argv[1])
t = dt.to_pyarrow_table()
rows = {}
for name in sorted(set(t.column("tenant").to_pylist())):
    rows[name] = int(pc.sum(pc.cast(pc.equal(t.column("tenant"), name), "int64")).as_py())
print(json.dumps({"version": dt.version(), "partition_columns": dt.metadata().partition_columns,
                  "rows": rows, "total": t.num_rows}), flush=True)
os._exit(0)  # delta-io/delta-rs#2184: skip the teardown (see tests/it/delta.rs)
"#;

#[test]
fn tenants_commit_side_by_side_to_one_delta_table_that_delta_rs_reads() {
    let env = TestEnv::new();
    let names = ["n1", "n2", "n3", "n4"];
    let toml: String = names.iter().map(|n| format!("[[tenant]]\nname = \"{n}\"\n")).collect();
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    env.query("alerts.kql", "AlertInfo");
    let args = [
        "-v",
        "run",
        "queries",
        "--emulator",
        "--format",
        "delta",
        "--out",
        "lake",
        "--timespan",
        WINDOW,
    ];
    let run = env.hunt(&args, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    // Each tenant's log lines say whose work they are about.
    for n in names {
        let line = run.stderr.lines().find(|l| {
            l.contains(&format!("tenant{{name={n}}}")) && l.contains("committed to the Delta table")
        });
        assert!(line.is_some(), "no commit logged for tenant {n}: {run:?}");
    }
    let table = env.path("lake/alerts");
    let out = crate::tools::run_python(READ_DELTA, &[table.to_str().unwrap()], &[]);
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    // Four tenants committed at the same time: four versions, no commit lost.
    assert_eq!(v["version"], 3, "{v}");
    assert_eq!(v["partition_columns"], serde_json::json!(["tenant", "date"]), "{v}");
    // `--emulator` makes up each tenant's credentials from its name, and its data from them.
    let want = |n: &str| {
        super::rows_in_window("AlertInfo", &hunt::emulator::EmulatorTenant::fabricated(n, None))
    };
    for n in names {
        assert_eq!(v["rows"][n], want(n), "{n}: {v}");
    }
    assert_eq!(v["total"], names.iter().map(|n| want(n)).sum::<usize>(), "{v}");
}

#[test]
fn a_tenant_that_cannot_sign_in_at_start_tries_again_and_joins_when_it_can() {
    // Tenant c signs in with a certificate that is not there yet (a secret volume mounted late,
    // say); a runs from the start. Once the file appears, c starts without a restart.
    let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth/test-only-client.pem");
    let der = {
        use rustls_pki_types::pem::PemObject as _;
        rustls_pki_types::CertificateDer::from_pem_file(cert).unwrap().to_vec()
    };
    let a = super::tenant("a", 45);
    let env = TestEnv::with(hunt::emulator::EmulatorConfig {
        tenants: vec![a.clone()],
        client_cert_der: Some(der),
        ..Default::default()
    });
    let url = env.emu.url();
    let c_pem = env.path("c.pem");
    let toml = format!(
        "[run]\ntenant_retry = \"1s\"\n\n{}\
         [[tenant]]\nname = \"c\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\ncertificate = \"{}\"\n\
         authority_host = \"{url}\"\ngraph_url = \"{url}\"\n",
        super::table(&env, "a", &a, ""),
        hunt::emulator::TENANT_ID,
        hunt::emulator::CLIENT_ID,
        c_pem.display()
    );
    std::fs::write(env.path("hunt.toml"), toml).unwrap();
    // A first window of an hour holds AlertInfo rows whatever the moment (ten seconds held none
    // about one time in five, and then no tenant folder was written).
    env.query(
        "tick.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 1h\n// ---\nAlertInfo | take 1\n",
    );
    let vars = super::vars(&[("a", &a)]);
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let log = env.path("schedule.log");
    let args = ["schedule", "queries", "--out", "out", "--grace", "5s", "--reload", "1s"];
    let mut daemon = env.spawn_logged(&args, &extra, &log);
    std::thread::sleep(Duration::from_secs(3));
    std::fs::copy(cert, &c_pem).unwrap();
    // c's next attempts come 4 s and 8 s after its first ones: wait (at most a minute, for a
    // loaded machine) until it has landed a window.
    let c_state = env.path("state/schedule-tenant-c.sqlite");
    let c_ran = || {
        StateStore::open_read_only(&c_state)
            .ok()
            .and_then(|s| s.history(Some("tick"), usize::MAX).ok())
            .is_some_and(|runs| !runs.is_empty())
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !c_ran() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    // Both tenants ran by the end: exit 0.
    assert_eq!(sigterm(&mut daemon), 0, "{}", std::fs::read_to_string(&log).unwrap());
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("error: tenant c: "), "{log}");
    assert!(log.contains("note: tenant c: trying to start again in 1s"), "{log}");
    assert!(log.contains("note: tenant c: started"), "{log}");
    for name in ["a", "c"] {
        let path = env.path(&format!("state/schedule-tenant-{name}.sqlite"));
        let state = StateStore::open_read_only(&path).unwrap();
        let mut runs = state.history(Some("tick"), usize::MAX).unwrap();
        runs.sort_by_key(|r| r.window.start);
        assert!(!runs.is_empty(), "{name} never ran: {log}");
        assert!(runs.iter().all(|r| r.status == RunStatus::Ok), "{name}: {runs:?}");
        for pair in runs.windows(2) {
            assert_eq!(pair[0].window.end, pair[1].window.start, "{name}: windows tile");
        }
    }
    assert_eq!(tenant_dirs(&env.out()), BTreeSet::from(["a".to_owned(), "c".to_owned()]));
}
