//! The real outside components the lake tests use, installed by `bash tests/tools/setup.sh`
//! (which `.ci/run` runs) under `target/test-tools/`: Azurite, the Azure Storage emulator, a
//! Python with DuckDB, pyarrow and deltalake to read hunt's output back with real engines, and
//! Microsoft's KQL parser (Kusto.Language, npm) that hunt's parser is held against.
//!
//! Missing tools fail the test with the command that installs them: these tests never skip.

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Azurite's well-known development account and key.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// The development account's key (public, documented by Microsoft).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn tools_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-tools")
}

fn missing(what: &str) -> ! {
    panic!(
        "{what} is not installed: run `bash tests/tools/setup.sh` (it installs into target/test-tools/)"
    )
}

/// The test venv's Python (DuckDB, pyarrow and deltalake importable).
pub fn python() -> PathBuf {
    let py = tools_dir().join("venv/bin/python");
    if !py.exists() {
        missing("the readers' Python venv");
    }
    py
}

/// Runs `script` (Python source) with `args` in the readers' venv and `env`; returns stdout,
/// failing the test with stderr if the script fails.
pub fn run_python(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(script).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cannot start python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// An Azurite blob service on loopback, shared by the tests of this process: the one `.ci/run`
/// started (`HUNT_TEST_AZURITE_URL`), else one started here and stopped when this process exits.
pub struct Azurite {
    /// `http://127.0.0.1:PORT/devstoreaccount1`
    pub url: String,
    /// The blob endpoint's address.
    pub addr: SocketAddr,
}

impl Azurite {
    /// The shared instance, started on first use.
    pub fn get() -> &'static Azurite {
        static AZURITE: OnceLock<Azurite> = OnceLock::new();
        AZURITE.get_or_init(|| match std::env::var("HUNT_TEST_AZURITE_URL") {
            Ok(url) => {
                let addr = url
                    .trim_start_matches("http://")
                    .split('/')
                    .next()
                    .and_then(|a| a.parse().ok())
                    .expect("HUNT_TEST_AZURITE_URL is http://127.0.0.1:PORT[/devstoreaccount1]");
                wait_listening(addr, Duration::from_secs(30));
                Azurite { url: format!("http://{addr}/{AZURITE_ACCOUNT}"), addr }
            }
            Err(_) => start(),
        })
    }

    /// The environment that points object_store (and delta-rs) at this Azurite, e.g. for
    /// `hunt run --out az://CONTAINER/...`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
            ("AZURITE_BLOB_STORAGE_URL", format!("http://{}", self.addr)),
            ("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT.into()),
            ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY.into()),
            ("AZURE_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Creates a container (object_store cannot), with SharedKey authorisation.
    pub fn create_container(&self, name: &str) {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let version = "2021-12-02";
        let string_to_sign = format!(
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n\
             /{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{name}\nrestype:container"
        );
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &b64.decode(AZURITE_KEY).unwrap());
        let sig = b64.encode(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
        let resp = http::put_empty(
            &format!("{}/{name}?restype=container", self.url),
            &[
                ("x-ms-date", date.as_str()),
                ("x-ms-version", version),
                ("Authorization", &format!("SharedKey {AZURITE_ACCOUNT}:{sig}")),
            ],
        );
        assert!(resp == 201 || resp == 409, "creating container {name}: HTTP {resp}");
    }
}

/// A minimal blocking HTTP PUT with an empty body over a plain TCP socket (the tests' only
/// non-object_store call to Azurite), returning the status code.
mod http {
    use std::io::{Read as _, Write as _};

    pub fn put_empty(url: &str, headers: &[(&str, &str)]) -> u16 {
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
        let mut s = std::net::TcpStream::connect(host).unwrap();
        let mut req = format!(
            "PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n"
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
    }
}

/// Starts Azurite on a free loopback port under a watchdog shell that kills it once this test
/// process is gone (SIGKILL: it ignores SIGTERM, a background job ignores SIGINT, and its
/// storage is in memory, so there is nothing to lose).
fn start() -> Azurite {
    let bin = tools_dir().join("node_modules/.bin/azurite-blob");
    if !bin.exists() {
        missing("Azurite");
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let script = format!(
        "{bin} --blobHost 127.0.0.1 --blobPort {port} --inMemoryPersistence --silent \
         --skipApiVersionCheck --loose & a=$!; \
         while kill -0 {me} 2>/dev/null && kill -0 $a 2>/dev/null; do sleep 0.5; done; \
         kill -KILL $a 2>/dev/null; wait $a",
        bin = bin.display(),
        me = std::process::id()
    );
    let mut child: Child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start bash for Azurite");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("Azurite exited ({status}) before listening:\n{err}");
        }
        assert!(Instant::now() < deadline, "Azurite did not listen on {addr} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::mem::forget(child); // the watchdog outlives this handle and stops Azurite
    Azurite { url: format!("http://{addr}/{AZURITE_ACCOUNT}"), addr }
}

fn wait_listening(addr: SocketAddr, within: Duration) {
    let deadline = Instant::now() + within;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {addr}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn azurite_starts_and_creates_containers() {
    let az = Azurite::get();
    az.create_container("tools-selftest");
    // A second create of the same container is a 409, not a failure.
    az.create_container("tools-selftest");
    let out = run_python(
        "import sys, pyarrow.fs as f\n\
         fs = f.AzureFileSystem(account_name=sys.argv[1], account_key=sys.argv[2], \
         blob_storage_authority=sys.argv[3], dfs_storage_authority=sys.argv[3], blob_storage_scheme='http', dfs_storage_scheme='http')\n\
         print([i.path for i in fs.get_file_info(f.FileSelector('', recursive=False))])",
        &[AZURITE_ACCOUNT, AZURITE_KEY, &az.addr.to_string()],
        &[],
    );
    assert!(out.contains("tools-selftest"), "container not listed: {out}");
}

/// The folder Microsoft's KQL parser (npm `@kusto/language-service-next`) is installed in, for
/// `KUSTO_LS=… node tests/tools/kusto-syntax.js`.
pub fn kusto_ls() -> PathBuf {
    let dir = tools_dir().join("kusto");
    if !dir.join("node_modules/@kusto/language-service-next/Kusto.Language.Bridge.js").exists() {
        missing("Microsoft's KQL parser (@kusto/language-service-next)");
    }
    dir
}
