//! Test harness: a real emulator on loopback, a temporary work folder, the `hunt` binary run
//! as a child process against them, and readers for the Parquet it writes.

use arrow_array::RecordBatch;
use hunt::emulator::{Emulator, EmulatorConfig};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An emulator on its own runtime plus a scratch folder.
pub struct TestEnv {
    pub emu: Emulator,
    pub dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv::with(EmulatorConfig::default())
    }

    pub fn with(config: EmulatorConfig) -> TestEnv {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let emu = rt.block_on(Emulator::start(config, "127.0.0.1:0".parse().unwrap())).unwrap();
        TestEnv { emu, dir: tempfile::tempdir().unwrap(), _rt: rt }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// Writes a query file under `queries/`.
    pub fn query(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(&format!("queries/{name}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `hunt ARGS` with the emulator's environment, overridden by `extra`.
    pub fn hunt(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        Run::from(self.command(args, extra).output().unwrap())
    }

    /// `hunt ARGS` with `stdin` as its standard input.
    pub fn hunt_stdin(&self, args: &[&str], stdin: &str) -> Run {
        use std::io::Write as _;
        let mut cmd = self.command(args, &[]);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// `hunt ARGS` started in the background (output discarded).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.spawn_with(args, &[])
    }

    /// [`TestEnv::spawn`] with `extra` variables.
    pub fn spawn_with(&self, args: &[&str], extra: &[(&str, &str)]) -> std::process::Child {
        let mut cmd = self.command(args, extra);
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        cmd.spawn().unwrap()
    }

    /// [`TestEnv::spawn_with`] with stderr written to the file `stderr`.
    pub fn spawn_logged(
        &self,
        args: &[&str],
        extra: &[(&str, &str)],
        stderr: &Path,
    ) -> std::process::Child {
        let mut cmd = self.command(args, extra);
        let log = std::fs::File::create(stderr).unwrap();
        cmd.stdout(std::process::Stdio::null()).stderr(log);
        cmd.spawn().unwrap()
    }

    /// `{before}hunt {args}` run by `script` (util-linux), so that hunt's output is a
    /// pseudo-terminal, against this emulator; its exit status and everything it wrote.
    pub fn on_a_terminal(&self, before: &str, args: &str) -> (Option<i32>, String) {
        let line = format!("{before}{} {args}", env!("CARGO_BIN_EXE_hunt"));
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"]).current_dir(self.dir.path());
        without_callers_settings(&mut cmd);
        cmd.envs(self.emu.env()).env("HUNT_STATE_DIR", self.path("state")).env("TERM", "xterm");
        let out = cmd.output().expect("script (util-linux) gives hunt a pseudo-terminal");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The schedule state file `hunt schedule` keeps for the emulator's tenant.
    pub fn schedule_state(&self) -> PathBuf {
        let tenant = hunt::query::slug(&hunt::emulator::TENANT_ID.to_ascii_lowercase());
        self.path(&format!("state/schedule-{tenant}.sqlite"))
    }

    fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut cmd = hunt_cmd();
        cmd.current_dir(self.dir.path());
        for (k, v) in self.emu.env() {
            cmd.env(k, v);
        }
        cmd.env("HUNT_STATE_DIR", self.path("state"));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.args(args);
        cmd
    }
}

/// Sends SIGTERM to `child` and returns its exit code (-1 if a signal ended it).
pub fn sigterm(child: &mut std::process::Child) -> i32 {
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    child.wait().unwrap().code().unwrap_or(-1)
}

/// Checks `ready` every 50 ms until it holds; panics naming `what` after `within`.
pub fn wait_until(what: &str, within: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "waited {within:?} for {what} in vain");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The `hunt` binary with no Azure or hunt variables from the calling environment.
pub fn hunt_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hunt"));
    without_callers_settings(&mut cmd);
    cmd
}

/// Removes the Azure and hunt variables (and RUST_LOG) of the calling environment from `cmd`.
pub fn without_callers_settings(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AZURE_") || k.starts_with("HUNT_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
}

/// A finished run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Every `.parquet` file under `dir`, sorted.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    all_files(dir).into_iter().filter(|p| p.extension().is_some_and(|x| x == "parquet")).collect()
}

/// Every file (any name) under `dir`, sorted.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// A Parquet file's batches and key-value metadata.
pub fn read_parquet(path: &Path) -> (Vec<RecordBatch>, Vec<(String, String)>) {
    let file = std::fs::File::open(path).unwrap();
    let builder =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| kv.iter().map(|e| (e.key.clone(), e.value.clone().unwrap_or_default())).collect())
        .unwrap_or_default();
    let batches = builder.build().unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    (batches, kv)
}

/// All rows of all files under `dir`, as one batch per file.
pub fn read_all(dir: &Path) -> Vec<RecordBatch> {
    parquet_files(dir).iter().flat_map(|p| read_parquet(p).0).collect()
}

pub fn meta<'a>(kv: &'a [(String, String)], key: &str) -> &'a str {
    kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {key}"))
}

/// 100 ns ticks of an RFC 3339 time.
pub fn ticks(s: &str) -> i64 {
    let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
    t.timestamp() * 10_000_000 + i64::from(t.timestamp_subsec_nanos() / 100)
}

/// A 96 MB well-formed answer in `dir` (one row whose text fills it), for the size-cap tests.
pub fn huge_answer(dir: &Path) -> PathBuf {
    use std::io::Write as _;
    let canned = dir.join("huge.json");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&canned).unwrap());
    f.write_all(br#"{"schema":[{"name":"A","type":"String"}],"results":[{"A":""#).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..96 {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(br#""}]}"#).unwrap();
    f.flush().unwrap();
    canned
}
