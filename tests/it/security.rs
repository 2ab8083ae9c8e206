//! hunt runs unattended with tenant-wide credentials and writes security data: secrets stay out
//! of every output and file, names from untrusted sources never leave the output folder, TLS is
//! verified (with `SSL_CERT_FILE` for private roots), proxies are honoured, and oversized or
//! endless answers are cut off.

use crate::util::{TestEnv, all_files, hunt_cmd, parquet_files, read_parquet, wait_until};
use hunt::emulator::{EmulatorConfig, Fault};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";
const ONE_MINUTE: &str = "2026-11-20T00:00:00Z/2026-11-20T00:01:00Z";
const TLS_CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
const TLS_SERVER: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/test-only-server.pem");

/// Where `needle` occurs in `hay`, if it does.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// An access token the emulator issues: a JWT whose signature part is `emu` and 32 hex digits.
fn find_token(hay: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(i) = find(&hay[from..], b".emu") {
        let at = from + i + 1;
        let rest = &hay[at + 3..];
        if rest.len() >= 32 && rest[..32].iter().all(u8::is_ascii_hexdigit) {
            return Some(String::from_utf8_lossy(&hay[at..at + 35]).into_owned());
        }
        from = at;
    }
    None
}

/// Asserts neither `secret` nor any access token is in `bytes` (`what` names them).
fn assert_clean(what: &str, bytes: &[u8], secret: &str) {
    assert!(find(bytes, secret.as_bytes()).is_none(), "the client secret is in {what}");
    if let Some(t) = find_token(bytes) {
        panic!("an access token ({t}) is in {what}");
    }
}

/// Every file under `dir` (output Parquet, the schedule's SQLite and its WAL, the quota ledger),
/// and each Parquet file's key-value metadata and values read back, hold neither.
fn assert_files_clean(dir: &Path, secret: &str) -> usize {
    let files = all_files(dir);
    for f in &files {
        assert_clean(&f.display().to_string(), &std::fs::read(f).unwrap(), secret);
    }
    for f in parquet_files(dir) {
        let (batches, kv) = read_parquet(&f);
        let text = format!("{kv:?} {batches:?}");
        assert_clean(&format!("{} read back", f.display()), text.as_bytes(), secret);
    }
    files.len()
}

#[test]
fn secrets_and_tokens_never_reach_output_logs_parquet_or_state() {
    let secret = "Hx7~SECRET.sentinel-value_0b9f3e";
    let env = TestEnv::with(EmulatorConfig { client_secret: secret.into(), ..Default::default() });
    env.query("alerts.kql", "AlertInfo | take 5");
    env.query("procs.kql", "DeviceProcessEvents | project Timestamp, DeviceId, ReportId");
    env.query(
        "tick.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n// ---\nAlertInfo | take 1\n",
    );
    let with = [("AZURE_CLIENT_SECRET", secret)];

    // A one-off run, as talkative as hunt gets: debug logs, then trace logs, and --json.
    let debug = env.hunt(&["-vv", "run", "queries", "--out", "out", "--timespan", WINDOW], &with);
    assert_eq!(debug.code, 0, "{debug:?}");
    assert!(debug.stderr.contains("DEBUG"), "debug logging is on: {debug:?}");
    let run = env.hunt(
        &["run", "queries", "--out", "out", "--timespan", WINDOW, "--json"],
        &[with[0], ("RUST_LOG", "trace")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.trim_start().starts_with('{'), "{run:?}");
    for r in [&debug, &run] {
        assert_clean("stdout", r.stdout.as_bytes(), secret);
        assert_clean("stderr", r.stderr.as_bytes(), secret);
    }
    assert!(env.emu.stats().tokens_issued >= 2);

    // The daemon, with its SQLite state, for a few fires.
    let mut cmd = hunt_cmd();
    cmd.current_dir(env.dir.path())
        .envs(env.emu.env())
        .env("AZURE_CLIENT_SECRET", secret)
        .env("HUNT_STATE_DIR", env.path("state"))
        .args(["-vv", "schedule", "queries/tick.kql", "--out", "out", "--grace", "2s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let daemon = cmd.spawn().unwrap();
    wait_until("two fires recorded", Duration::from_secs(60), || {
        let state = hunt::schedule::state::StateStore::open_read_only(&env.schedule_state()).ok();
        state.and_then(|s| s.history(Some("tick"), usize::MAX).ok()).is_some_and(|r| r.len() >= 2)
    });
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = daemon.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_clean("the daemon's stdout", &out.stdout, secret);
    assert_clean("the daemon's stderr", &out.stderr, secret);

    for args in [&["status", "--json"][..], &["quota", "--json"], &["-vv", "status"]] {
        let r = env.hunt(args, &with);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        assert_clean(&format!("hunt {args:?}"), format!("{r:?}").as_bytes(), secret);
    }

    let files = assert_files_clean(env.dir.path(), secret);
    let state: Vec<PathBuf> = all_files(&env.path("state"));
    assert!(state.iter().any(|p| p.to_string_lossy().contains("schedule-")), "{state:?}");
    assert!(state.iter().any(|p| p.to_string_lossy().contains("quota-")), "{state:?}");
    assert!(parquet_files(&env.out()).len() >= 3, "{files} files");

    // A wrong secret: refused, and the attempted secret is nowhere either.
    let wrong = "Wq2~WRONG.secret-value_77aa01";
    let run = env.hunt(
        &["-vv", "run", "queries", "--out", "out2", "--timespan", WINDOW, "--json"],
        &[("AZURE_CLIENT_SECRET", wrong), ("RUST_LOG", "trace")],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AADSTS7000215"), "{run:?}");
    assert_clean("stdout and stderr after a wrong secret", format!("{run:?}").as_bytes(), wrong);
    assert_clean("stdout and stderr after a wrong secret", format!("{run:?}").as_bytes(), secret);
    assert_files_clean(env.dir.path(), wrong);
}

// ---------------------------------------------------------------------------------------------
// Names from untrusted sources

/// Every path under `root`, files and folders, relative.
fn tree(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            found.push(p.strip_prefix(root).unwrap().to_owned());
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn hostile_query_ids_land_inside_the_output_folder_only() {
    let env = TestEnv::new();
    let ids = [
        "../../etc/x".to_string(),
        "/abs/olute".into(),
        "\"a\\0b\"".into(), // YAML escape: a NUL inside the id
        "x".repeat(1000),
        "日本語のクエリ".into(),
        "CON".into(),
        "LPT1.txt".into(),
        "C:\\\\Windows\\\\x".into(),
        "'..'".into(),
        "'.'".into(),
        "a/../../b".into(),
    ];
    for (i, id) in ids.iter().enumerate() {
        env.query(
            &format!("q{i}.kql"),
            &format!("// ---\n// id: {id}\n// ---\nAlertInfo | take 1\n"),
        );
    }
    env.query("sentinel.yaml", "id: ../../../sentinel\nname: S\nquery: AlertInfo | take 1\n");
    std::fs::create_dir_all(env.path("deep/a/b")).unwrap();
    let before = tree(env.dir.path());
    let run = env.hunt(&["run", "queries", "--out", "deep/a/b", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");

    let out = env.path("deep/a/b").canonicalize().unwrap();
    let written = parquet_files(&out);
    assert_eq!(written.len(), ids.len() + 1, "{written:?}");
    for f in &written {
        let real = f.canonicalize().unwrap();
        assert!(real.starts_with(&out), "{} is outside {}", real.display(), out.display());
        // OUT/<id>/date=…/<window>.parquet: the id is exactly one component.
        assert_eq!(real.strip_prefix(&out).unwrap().components().count(), 3, "{}", real.display());
    }
    // Besides the output folder, only the state folder (the quota ledger) is new.
    let after = tree(env.dir.path());
    let new: Vec<&PathBuf> = after
        .iter()
        .filter(|p| !before.contains(p))
        .filter(|p| !p.starts_with("deep/a/b") && !p.starts_with("state"))
        .collect();
    assert!(new.is_empty(), "created outside the output folder: {new:?}");
}

// ---------------------------------------------------------------------------------------------
// Transport

/// A TLS server on loopback with the test-only certificate (for `127.0.0.1`, `localhost`,
/// `graph.example.test`, `login.example.test`, signed by the test-only CA) that forwards each
/// connection, decrypted, to `upstream`.
struct TlsFront {
    addr: SocketAddr,
    handshakes: Arc<Mutex<Vec<Result<(), String>>>>,
    _rt: tokio::runtime::Runtime,
}

impl TlsFront {
    fn start(upstream: SocketAddr) -> TlsFront {
        TlsFront::on("127.0.0.1:0", upstream)
    }

    fn on(bind: &str, upstream: SocketAddr) -> TlsFront {
        use rustls_pki_types::pem::PemObject as _;
        let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(TLS_SERVER)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = rustls_pki_types::PrivateKeyDer::from_pem_file(TLS_SERVER).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind(bind)).unwrap();
        let addr = listener.local_addr().unwrap();
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let seen = handshakes.clone();
        rt.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let (acceptor, seen) = (acceptor.clone(), seen.clone());
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(mut tls) => {
                            seen.lock().unwrap().push(Ok(()));
                            let mut up = tokio::net::TcpStream::connect(upstream).await.unwrap();
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                        }
                        Err(e) => seen.lock().unwrap().push(Err(e.to_string())),
                    }
                });
            }
        });
        TlsFront { addr, handshakes, _rt: rt }
    }

    fn handshakes(&self) -> Vec<Result<(), String>> {
        self.handshakes.lock().unwrap().clone()
    }
}

fn emulator_addr(env: &TestEnv) -> SocketAddr {
    env.emu.url().trim_start_matches("http://").parse().unwrap()
}

/// The TLS-related variables of the calling environment removed, so the platform's roots
/// (which do not hold the test CA) are the only ones, unless a test sets its own.
fn without_tls_env(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for k in ["SSL_CERT_FILE", "SSL_CERT_DIR", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY"] {
        cmd.env_remove(k);
    }
    for k in ["http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        cmd.env_remove(k);
    }
    cmd
}

fn hunt_over(env: &TestEnv, root: &str, extra: &[(&str, &str)]) -> crate::util::Run {
    let mut cmd = hunt_cmd();
    without_tls_env(&mut cmd)
        .current_dir(env.dir.path())
        .envs(env.emu.env())
        .env("HUNT_STATE_DIR", env.path("state"))
        .env("HUNT_GRAPH_URL", root)
        .env("AZURE_AUTHORITY_HOST", root)
        .envs(extra.iter().copied())
        .args(["run", "queries", "--out", "out", "--timespan", WINDOW]);
    crate::util::Run::from(cmd.output().unwrap())
}

#[test]
fn tls_certificates_are_verified_and_ssl_cert_file_adds_a_private_root() {
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 3");
    let front = TlsFront::start(emulator_addr(&env));
    let root = format!("https://127.0.0.1:{}", front.addr.port());

    // Unknown issuer: refused before any credential is sent, at once (not retried).
    let started = Instant::now();
    let run = hunt_over(&env, &root, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("certificate"), "{run:?}");
    assert!(run.stderr.contains("nothing was run"), "{run:?}");
    assert!(run.stderr.contains("SSL_CERT_FILE"), "says how to trust a private CA: {run:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}: {run:?}", started.elapsed());
    assert_eq!(env.emu.stats().tokens_issued, 0);
    assert!(front.handshakes().iter().all(Result::is_err), "{:?}", front.handshakes());
    assert!(parquet_files(&env.out()).is_empty());

    // The same server, with its CA named by SSL_CERT_FILE: signed in and landed over TLS.
    let run = hunt_over(&env, &root, &[("SSL_CERT_FILE", TLS_CA)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(parquet_files(&env.out()).len(), 1);
    assert!(front.handshakes().iter().any(Result::is_ok), "{:?}", front.handshakes());
    assert_eq!(env.emu.stats().hunting_calls, 1);

    // A certificate for another name (it names 127.0.0.1, not 127.0.0.2) is refused even from
    // a trusted CA.
    let other = TlsFront::on("127.0.0.2:0", emulator_addr(&env));
    let root = format!("https://{}", other.addr);
    let run = hunt_over(&env, &root, &[("SSL_CERT_FILE", TLS_CA)]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("certificate") && run.stderr.contains("not valid for name"),
        "{run:?}"
    );
    assert!(other.handshakes().iter().all(Result::is_err), "{:?}", other.handshakes());
    assert_eq!(env.emu.stats().hunting_calls, 1);
}

/// A CONNECT proxy on loopback: records each request line, answers `200 Connection
/// established`, and tunnels to `upstream` whatever host was asked for.
fn connect_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_owned();
                log.lock().unwrap().push(line.clone());
                if !line.starts_with("CONNECT ") {
                    let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n");
                    return;
                }
                let Ok(up) = TcpStream::connect(upstream) else { return };
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
                let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
                let (mut c1, mut u1) = (client, up);
                let t = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut u2);
                    let _ = u2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut u1, &mut c1);
                let _ = c1.shutdown(std::net::Shutdown::Write);
                let _ = t.join();
            });
        }
    });
    (addr, seen)
}

#[test]
fn https_proxy_is_used_for_sign_in_and_graph_even_for_names_only_it_can_resolve() {
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 2");
    let front = TlsFront::start(emulator_addr(&env));
    let (proxy, seen) = connect_proxy(front.addr);
    let proxy_url = format!("http://{proxy}");
    let mut cmd = hunt_cmd();
    without_tls_env(&mut cmd)
        .current_dir(env.dir.path())
        .envs(env.emu.env())
        .env("HUNT_STATE_DIR", env.path("state"))
        .env("AZURE_AUTHORITY_HOST", "https://login.example.test")
        .env("HUNT_GRAPH_URL", "https://graph.example.test")
        .env("HTTPS_PROXY", &proxy_url)
        .env("SSL_CERT_FILE", TLS_CA)
        .args(["run", "queries", "--out", "out", "--timespan", WINDOW]);
    let run = crate::util::Run::from(cmd.output().unwrap());
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().any(|l| l.starts_with("CONNECT login.example.test:443 ")), "{seen:?}");
    assert!(seen.iter().any(|l| l.starts_with("CONNECT graph.example.test:443 ")), "{seen:?}");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(parquet_files(&env.out()).len(), 1);
}

#[test]
fn plain_http_to_a_remote_host_is_refused_by_the_binary_before_any_call() {
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 1");
    for (var, value) in [
        ("HUNT_GRAPH_URL", "http://graph.microsoft.com"),
        ("AZURE_AUTHORITY_HOST", "http://login.microsoftonline.com"),
        ("HUNT_GRAPH_URL", "http://127.0.0.1.nip.io:1"),
    ] {
        let run = env.hunt(&["run", "queries", "--timespan", WINDOW], &[(var, value)]);
        assert_eq!(run.code, 2, "{var}={value}: {run:?}");
        assert!(run.stderr.contains(var) && run.stderr.contains("only https"), "{run:?}");
    }
    assert_eq!(env.emu.stats().tokens_issued, 0);
    assert!(!env.out().exists());
}

// ---------------------------------------------------------------------------------------------
// Resource bounds

#[test]
fn an_oversized_answer_is_refused_without_holding_it() {
    let dir = tempfile::tempdir().unwrap();
    let canned = crate::util::huge_answer(dir.path());
    let env = TestEnv::with(EmulatorConfig { canned_response: Some(canned), ..Default::default() });
    std::fs::write(env.path("hunt.toml"), "[quota]\nmax_result_bytes = 4096\n").unwrap();
    env.query("q.kql", "AlertInfo");
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.arg("-f").arg("maxrss_kb=%M").arg(env!("CARGO_BIN_EXE_hunt"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AZURE_") || k.starts_with("HUNT_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let started = Instant::now();
    let out = cmd
        .current_dir(env.dir.path())
        .envs(env.emu.env())
        .env("HUNT_STATE_DIR", env.path("state"))
        .args(["run", "queries", "--out", "out", "--timespan", ONE_MINUTE])
        .output()
        .unwrap();
    let run = crate::util::Run::from(out);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("exceeded 8192 bytes"), "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let rss_kb: u64 = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss: {run:?}"));
    assert!(rss_kb < 60 * 1024, "hunt peaked at {rss_kb} kB for a 96 MB answer it refused");
    assert!(parquet_files(&env.out()).is_empty());
    assert_eq!(env.emu.stats().hunting_calls, 1, "at the minimum window: not split, not retried");
}

#[test]
fn an_answer_that_never_comes_ends_at_the_request_timeout() {
    let env = TestEnv::with(EmulatorConfig {
        faults: vec![Fault::Slow { ms: 120_000 }],
        ..Default::default()
    });
    std::fs::write(env.path("hunt.toml"), "[run]\nrequest_timeout = \"2s\"\n").unwrap();
    env.query("q.kql", "AlertInfo | take 1");
    let started = Instant::now();
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", ONE_MINUTE], &[]);
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("timed out"), "{run:?}");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(15), "{took:?}");
    assert_eq!(env.emu.stats().hunting_calls, 1);
}

#[cfg(unix)]
#[test]
fn a_private_key_others_can_read_gets_one_warning_line() {
    use std::os::unix::fs::PermissionsExt as _;
    let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth/test-only-client.pem");
    let der = {
        use rustls_pki_types::pem::PemObject as _;
        rustls_pki_types::CertificateDer::from_pem_file(cert).unwrap().to_vec()
    };
    let env = TestEnv::with(EmulatorConfig { client_cert_der: Some(der), ..Default::default() });
    env.query("q.kql", "AlertInfo | take 1");
    let pem = env.path("client key.pem");
    std::fs::copy(cert, &pem).unwrap();
    let pem_s = pem.to_str().unwrap();
    let args = ["run", "queries", "--out", "out", "--timespan", WINDOW];
    let creds = [("AZURE_CLIENT_SECRET", ""), ("AZURE_CLIENT_CERTIFICATE_PATH", pem_s)];
    for (mode, warned) in [(0o644, true), (0o600, false)] {
        std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(mode)).unwrap();
        let run = env.hunt(&args, &creds);
        assert_eq!(run.code, 0, "{run:?}");
        // (The fixed window draws a retention warning once it is 30 days old: not counted.)
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("warning:") && !l.contains("the service keeps"))
            .collect();
        if warned {
            assert_eq!(lines.len(), 1, "{run:?}");
            assert!(lines[0].contains(pem_s) && lines[0].contains("chmod 600"), "{run:?}");
        } else {
            assert!(lines.is_empty(), "{run:?}");
        }
    }
}

/// The token finder the checks above rely on finds the emulator's tokens.
#[test]
fn the_token_finder_finds_an_emulator_token() {
    let hay = format!(
        "noise eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ0In0.emu{} noise",
        "0123456789abcdef".repeat(2)
    );
    assert_eq!(find_token(hay.as_bytes()).as_deref(), Some(&hay[42..77]));
    assert!(find_token(b"the .emulator is not a token").is_none());
}
