//! Every command example of README.md, run as written: the lines of its `sh` blocks and its
//! inline `` `hunt …` `` examples are extracted from the file, and each must be listed in
//! [`EXAMPLES`] with how it is run (or why not), so a new example fails this test until it is
//! classified, and a classified example that left the README fails it too.
//!
//! They run in README order with `sh -c`, in a temporary folder holding a copy of `queries/`
//! and `q.kql` (a copy of a shipped query), with `hunt` first on PATH and an emulator's
//! credentials in the environment, standing in for the reader's tenant. The few textual changes
//! (a folder under the test's own, a free port) are listed with their reason.

use crate::util::{TestEnv, wait_until, without_callers_settings};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How one example is run.
enum How {
    /// As written; the exit code it must end with.
    Run(i32),
    /// With `from` replaced by `to` first (`why`); the exit code it must end with.
    Edit { from: &'static str, to: &'static str, why: &'static str, code: i32 },
    /// A server or daemon (with `edit` applied, if any): started, waited for until `ready`,
    /// kept running for the next `during` examples, then stopped with `signal` (SIGTERM for
    /// hunt's daemon, SIGINT for the emulator, which stops on Ctrl-C); it must exit 0.
    Serve {
        edit: Option<(&'static str, &'static str, &'static str)>,
        ready: Ready,
        during: usize,
        signal: &'static str,
    },
    /// Not run, with why.
    Skip(&'static str),
}

/// What shows a server is ready.
#[derive(Clone, Copy)]
enum Ready {
    /// Its stdout holds this.
    Says(&'static str),
    /// This file exists and is not empty.
    File(&'static str),
    /// `hunt history QUERY --json` lists a run.
    Ran(&'static str),
    /// `hunt status` says a daemon is running (an earlier one has stopped by then).
    Running,
}

const LAKE: (&str, &str, &str) =
    ("/data/lake", "lake", "a folder of the test's own instead of /data");
const FREE_PORT: &str = "8410 may be taken on a shared machine: any free port";

/// Every example of the README, keyed by its text as written (comments removed).
const EXAMPLES: &[(&str, How)] = &[
    (
        "cargo run --release -- run queries/ --emulator",
        How::Edit {
            from: "cargo run --release --",
            to: "hunt",
            why: "the binary cargo built for this test, not a second release build",
            code: 0,
        },
    ),
    (
        "cargo run --release -- run queries/encoded-powershell.kql --emulator --print table",
        How::Edit {
            from: "cargo run --release --",
            to: "hunt",
            why: "the binary cargo built for this test, not a second release build",
            code: 0,
        },
    ),
    ("hunt run q.kql --print table --limit 200 --timespan P7D", How::Run(0)),
    (
        "hunt run queries/ --print jsonl | jq 'select(.query == \"encoded-powershell\")'",
        How::Run(0),
    ),
    ("hunt run q.kql --print csv > rows.csv", How::Run(0)),
    (
        "hunt run q.kql --print jsonl --out /data/lake",
        How::Edit { from: LAKE.0, to: LAKE.1, why: LAKE.2, code: 0 },
    ),
    ("hunt run -e 'DeviceProcessEvents | take 10' --print table", How::Run(0)),
    (
        "pbpaste | hunt run - --print csv",
        How::Edit {
            from: "pbpaste",
            to: "cat q.kql",
            why: "pbpaste is macOS's clipboard: the KQL comes from a file instead",
            code: 0,
        },
    ),
    ("hunt validate queries/", How::Run(0)),
    ("hunt list queries/", How::Run(0)),
    ("hunt plan queries/ --emulator --for 1h", How::Run(0)),
    ("hunt den sync --emulator --queries den", How::Run(0)),
    ("bash tests/tools/setup.sh && cargo test", How::Skip("the test suite itself")),
    ("az login", How::Skip("the Azure CLI signs in to a real tenant over the network")),
    ("hunt auth", How::Run(0)),
    (
        "export AZURE_TENANT_ID=... AZURE_CLIENT_ID=...",
        How::Skip("placeholders for a real public-client app: the test sets the emulator's"),
    ),
    ("hunt login", How::Run(0)),
    ("hunt run q.kql --print table", How::Run(0)),
    (
        "hunt schedule /etc/hunt/queries --out az://lake/hunt",
        How::Skip("AKS workload identity and Azure storage: a real cluster and account"),
    ),
    (
        "AZURE_TENANT_ID=... hunt --auth managed-identity schedule /etc/hunt/queries",
        How::Skip("an Azure managed identity's endpoint, and a placeholder tenant"),
    ),
    (
        "export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...",
        How::Skip("placeholders for a real tenant's credentials: the test sets the emulator's"),
    ),
    ("hunt run queries/", How::Run(0)),
    ("hunt run q.kql --timespan P7D", How::Run(0)),
    (
        "hunt run q.kql --timespan 2026-11-01T00:00:00Z/2026-11-02T00:00:00Z --out /data/lake",
        How::Edit { from: LAKE.0, to: LAKE.1, why: LAKE.2, code: 0 },
    ),
    ("hunt run queries/ --json", How::Run(0)),
    (
        "hunt schedule queries/ --out /data/lake",
        How::Serve {
            edit: Some(LAKE),
            ready: Ready::Ran("encoded-powershell"),
            during: 2,
            signal: "TERM",
        },
    ),
    ("hunt status", How::Run(0)),
    ("hunt history encoded-powershell", How::Run(0)),
    (
        "*/10 * * * * hunt run queries/ --incremental --out /data/lake",
        How::Edit {
            from: "*/10 * * * * hunt run queries/ --incremental --out /data/lake",
            to: "hunt run queries/ --incremental --out lake",
            why: "a crontab line: its command, with a folder of the test's own",
            code: 0,
        },
    ),
    (
        "hunt run --incremental",
        How::Skip("the flag named in prose (it needs --out): the crontab example runs it"),
    ),
    ("hunt schedule --metrics", How::Skip("the flag named in prose, before its example")),
    (
        "hunt schedule --metrics 9464",
        How::Skip("binds port 9464 on a shared machine; tests/it/metrics.rs scrapes the metrics"),
    ),
    (
        "hunt schedule --shard %i/3",
        How::Skip("a systemd template's line: %i is the unit's instance"),
    ),
    (
        "hunt run queries/ --incremental --shard $((JOB_COMPLETION_INDEX+1))/N",
        How::Skip("a Kubernetes Job's line: the index variable and N are the Job's"),
    ),
    (
        "hunt emulator --tenants 50 --hunt-toml t.toml",
        How::Serve {
            edit: Some((
                "--tenants 50",
                "--tenants 3 --port 0",
                "3 tenants show the same (50 are bench/tenants.sh's); and 8410 may be taken",
            )),
            ready: Ready::File("t.toml"),
            during: 1,
            signal: "INT",
        },
    ),
    ("hunt run queries/ --emulator", How::Run(0)),
    ("hunt --config t.toml run queries/", How::Run(0)),
    (
        "hunt den sync --emulator --queries /tmp/den",
        How::Edit { from: "/tmp/den", to: "den", why: "a folder of the test's own", code: 0 },
    ),
    (
        "hunt run queries/ --format delta --out /data/lake",
        How::Edit { from: LAKE.0, to: LAKE.1, why: LAKE.2, code: 0 },
    ),
    (
        "hunt schedule queries/ --format delta --out az://lake/hunt",
        How::Skip("an Azure storage account"),
    ),
    (
        "pip install duckdb pandas pyarrow",
        How::Skip("the network: the test tools' venv has them (tools/setup.sh)"),
    ),
    (
        "python3 - <<'PY'",
        How::Skip("run as written by reading_results_as_the_readme_shows, with the venv's python"),
    ),
    (
        "curl -X POST http://127.0.0.1:8410/_emulator/faults -H 'content-type: application/json' -d '[{\"kind\":\"unavailable\",\"retry_after\":1.5},{\"kind\":\"reset\"},{\"kind\":\"truncate\"},{\"kind\":\"slow\",\"ms\":5000},{\"kind\":\"gateway_timeout\"},{\"kind\":\"throttle\"}]'",
        How::Edit {
            from: "127.0.0.1:8410",
            to: "EMULATOR",
            why: "a test emulator of its own (the faults would hit the other examples)",
            code: 0,
        },
    ),
    (
        "curl http://127.0.0.1:8410/_emulator/stats",
        How::Edit {
            from: "127.0.0.1:8410",
            to: "EMULATOR",
            why: "a test emulator of its own (the faults would hit the other examples)",
            code: 0,
        },
    ),
    (
        "hunt emulator --chaos 0.3 --chaos-seed 7",
        How::Serve {
            edit: Some(("--chaos-seed 7", "--chaos-seed 7 --port 0", FREE_PORT)),
            ready: Ready::Says("listening on"),
            during: 0,
            signal: "INT",
        },
    ),
    (
        "export HUNT_TEAMS_WEBHOOK='https://…'",
        How::Skip("a real Teams webhook; tests/it/den_events.rs posts to a loopback receiver"),
    ),
    (
        "hunt schedule queries/",
        How::Serve { edit: None, ready: Ready::Running, during: 0, signal: "TERM" },
    ),
    (
        "hunt emulator --den-lifecycle 1m",
        How::Serve {
            edit: Some(("--den-lifecycle 1m", "--den-lifecycle 1m --port 0", FREE_PORT)),
            ready: Ready::Says("listening on"),
            during: 0,
            signal: "INT",
        },
    ),
    ("hunt --help", How::Run(0)),
    ("hunt run --help", How::Run(0)),
];

/// The command examples of `readme`, in order: each line of a `sh` block (continuations
/// joined, comments removed, a here-document kept as its first line), and each inline
/// `` `hunt …` `` span with flags or paths and no placeholders (`[`, `…`, `...`, `|`).
fn examples(readme: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut in_sh = false;
    let mut in_other = false;
    let mut heredoc: Option<String> = None;
    let mut pending = String::new();
    for (n, line) in readme.lines().enumerate() {
        let t = line.trim();
        if let Some(end) = &heredoc {
            if t == end {
                heredoc = None;
            }
            continue;
        }
        if t.starts_with("```") {
            if in_sh || in_other {
                (in_sh, in_other) = (false, false);
            } else if t == "```sh" {
                in_sh = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if in_other {
            continue;
        }
        if in_sh {
            let code = uncommented(t);
            if code.is_empty() {
                continue;
            }
            if let Some(head) = code.strip_suffix('\\') {
                pending.push_str(head.trim_end());
                pending.push(' ');
                continue;
            }
            let full = format!("{pending}{code}");
            pending.clear();
            if let Some((_, tag)) = full.split_once("<<'") {
                heredoc = tag.split('\'').next().map(str::to_owned);
            }
            found.push((n, full));
            continue;
        }
        for span in line.split('`').skip(1).step_by(2) {
            let placeholder = ["[", "…", "...", "\\|"].iter().any(|p| span.contains(p));
            // An example has flags or paths; `hunt den sync` alone names a command.
            let example = span.contains(" -") || span.contains('/');
            if span.starts_with("hunt ") && example && !placeholder {
                found.push((n, span.to_owned()));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.into_iter().map(|(_, s)| s).filter(|s| seen.insert(s.clone())).collect()
}

/// A line of shell without its comment (a `#` after a space, outside quotes).
fn uncommented(line: &str) -> &str {
    let (mut single, mut double, mut prev) = (false, false, ' ');
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return line[..i].trim_end(),
            _ => {}
        }
        prev = c;
    }
    line.trim_end()
}

/// `sh -c line` in `dir`, hunt first on PATH, the emulator's credentials set.
fn shell(dir: &Path, env: &TestEnv, line: &str) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_hunt")).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("sh");
    cmd.args(["-c", line]).current_dir(dir);
    without_callers_settings(&mut cmd);
    cmd.envs(env.emu.env()).env("HUNT_STATE_DIR", dir.join("state")).env("PATH", path);
    cmd
}

fn ready(dir: &Path, env: &TestEnv, ready: Ready, log: &Path) -> bool {
    match ready {
        Ready::Says(text) => std::fs::read_to_string(log).is_ok_and(|s| s.contains(text)),
        Ready::File(name) => std::fs::metadata(dir.join(name)).is_ok_and(|m| m.len() > 0),
        Ready::Ran(query) => {
            let out = shell(dir, env, &format!("hunt history {query} --json")).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            out.status.success() && text.contains(query)
        }
        Ready::Running => {
            let out = shell(dir, env, "hunt status").output().unwrap();
            String::from_utf8_lossy(&out.stdout).contains("daemon: running (pid")
        }
    }
}

fn stop(mut child: Child, signal: &str, what: &str) {
    let sent =
        Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{what} after SIG{signal}: {status:?}");
}

#[test]
fn every_readme_example_runs_as_written() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let found = examples(&readme);
    // Every example is classified, and every classified example is still in the README.
    let unlisted: Vec<&String> =
        found.iter().filter(|e| !EXAMPLES.iter().any(|(k, _)| k == *e)).collect();
    assert!(unlisted.is_empty(), "README examples not in EXAMPLES: {unlisted:#?}");
    for (k, _) in EXAMPLES {
        assert!(found.iter().any(|e| e == k), "no longer in the README: {k}");
    }
    assert!(found.len() >= 30, "{found:#?}");

    let env = TestEnv::new();
    let faults = TestEnv::new();
    let dir = env.path("reader");
    std::fs::create_dir_all(dir.join("queries")).unwrap();
    for f in std::fs::read_dir(repo.join("queries")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join("queries").join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(repo.join("queries/encoded-powershell.kql"), dir.join("q.kql")).unwrap();

    let mut serving: Vec<(Child, usize, &str, &str)> = Vec::new();
    let (mut ran, mut skipped) = (0, 0);
    for e in &found {
        let how = &EXAMPLES.iter().find(|(k, _)| k == e).unwrap().1;
        let emulator = faults.emu.url().trim_start_matches("http://").to_owned();
        let edited = |from: &str, to: &str| {
            assert!(e.contains(from), "{e}: no {from}");
            e.replace(from, &to.replace("EMULATOR", &emulator))
        };
        match how {
            How::Skip(why) => {
                assert!(!why.is_empty());
                skipped += 1;
            }
            How::Run(code) | How::Edit { code, .. } => {
                let line = match how {
                    How::Edit { from, to, why, .. } => {
                        assert!(!why.is_empty());
                        edited(from, to)
                    }
                    _ => e.clone(),
                };
                let out = shell(&dir, &env, &line).output().unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(*code),
                    "{line}\nstdout: {}\nstderr: {}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                ran += 1;
                for s in &mut serving {
                    s.1 = s.1.saturating_sub(1);
                }
            }
            How::Serve { edit, ready: r, during, signal } => {
                let line = edit.map_or(e.clone(), |(from, to, _)| edited(from, to));
                let log = dir.join(format!("serve-{ran}.log"));
                let child = shell(&dir, &env, &format!("exec {line}"))
                    .stdout(std::fs::File::create(&log).unwrap())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                wait_until(&line, Duration::from_secs(90), || ready(&dir, &env, *r, &log));
                serving.push((child, *during, signal, e));
                ran += 1;
            }
        }
        // Servers whose examples are done stop, and must stop cleanly.
        let (done, going): (Vec<_>, Vec<_>) = serving.drain(..).partition(|s| s.1 == 0);
        serving = going;
        for (child, _, signal, what) in done {
            stop(child, signal, what);
        }
    }
    assert!(serving.is_empty());
    assert!(ran > skipped, "ran {ran}, skipped {skipped}");
    eprintln!("README examples: {ran} run, {skipped} skipped with their reason");
    assert!(dir.join("rows.csv").exists() && dir.join("lake").is_dir());
}
