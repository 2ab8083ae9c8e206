//! hunt against peers that misbehave on purpose: a token endpoint and a Graph, on loopback, that
//! redirect, echo the secrets they were sent, answer without end, print terminal escapes, or page
//! in a circle. Each test runs the binary against such a peer and checks what reached the peer,
//! the terminal and the files.

use crate::util::{Run, hunt_cmd};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "Hx7~SECRET.hostile-peer_0b9f3e+/=";
const TOKEN: &str = "tok-HOSTILE-PEER-0123456789abcdef";
const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";

/// One request as the peer saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: String,
    pub body: Vec<u8>,
}

/// An answer: status, headers, and a body that may be streamed without end.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

pub enum Body {
    Bytes(Vec<u8>),
    /// `prefix` then `len` bytes of `fill`, written as they go (the peer never holds them).
    Endless {
        prefix: Vec<u8>,
        fill: u8,
        len: u64,
    },
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::Bytes(body.into().into_bytes()),
        }
    }

    pub fn redirect(status: u16, location: &str) -> Answer {
        Answer {
            status,
            headers: vec![("location".into(), location.into())],
            body: Body::Bytes(Vec::new()),
        }
    }

    /// A token endpoint's good answer with [`TOKEN`].
    pub fn token() -> Answer {
        Answer::json(
            200,
            format!(r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{TOKEN}"}}"#),
        )
    }
}

/// A plain HTTP/1.1 server on loopback that answers each request with `respond` and closes the
/// connection, remembering every request.
pub struct Peer {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Peer {
    pub fn start(respond: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (seen, respond) = (Arc::clone(&requests), Arc::new(respond));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, respond) = (Arc::clone(&seen), Arc::clone(&respond));
                std::thread::spawn(move || serve(stream, &seen, &*respond));
            }
        });
        Peer { url, requests }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Request>>, respond: &dyn Fn(&Request) -> Answer) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) =
        (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut headers = String::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        headers.push_str(&h);
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Request { method, target, headers, body };
    seen.lock().unwrap().push(request.clone());
    let answer = respond(&request);
    let mut out = stream;
    let len = match &answer.body {
        Body::Bytes(b) => b.len() as u64,
        Body::Endless { prefix, len, .. } => prefix.len() as u64 + len,
    };
    let mut head = format!(
        "HTTP/1.1 {} Whatever\r\ncontent-length: {len}\r\nconnection: close\r\n",
        answer.status
    );
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if out.write_all(head.as_bytes()).is_err() {
        return;
    }
    match answer.body {
        Body::Bytes(b) => {
            let _ = out.write_all(&b);
        }
        Body::Endless { prefix, fill, len } => {
            if out.write_all(&prefix).is_err() {
                return;
            }
            let chunk = vec![fill; 1 << 16];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                if out.write_all(&chunk[..n]).is_err() {
                    return;
                }
                left -= n as u64;
            }
        }
    }
    let _ = out.flush();
}

/// A scratch folder with one query, and `hunt` pointed at `authority` and `graph`.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("queries")).unwrap();
        std::fs::write(dir.path().join("queries/q.kql"), "AlertInfo | take 5\n").unwrap();
        Scene { dir }
    }

    fn command(&self, authority: &str, graph: &str, args: &[&str]) -> std::process::Command {
        let mut cmd = hunt_cmd();
        cmd.current_dir(self.dir.path())
            .env("AZURE_TENANT_ID", "contoso.example")
            .env("AZURE_CLIENT_ID", "00000000-0000-0000-0000-00000000c11e")
            .env("AZURE_CLIENT_SECRET", SECRET)
            .env("AZURE_AUTHORITY_HOST", authority)
            .env("HUNT_GRAPH_URL", graph)
            .env("HUNT_STATE_DIR", self.dir.path().join("state"))
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .args(args);
        cmd
    }

    fn hunt(&self, authority: &str, graph: &str, args: &[&str]) -> Run {
        Run::from(self.command(authority, graph, args).output().unwrap())
    }

    fn run(&self, authority: &str, graph: &str, extra: &[&str]) -> Run {
        let mut args = vec!["run", "queries", "--out", "out", "--timespan", WINDOW];
        args.extend_from_slice(extra);
        self.hunt(authority, graph, &args)
    }
}

/// `text` holds neither the secret (raw or form-encoded) nor the token.
fn assert_no_secrets(what: &str, text: &str) {
    let form: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
    assert!(!text.contains(SECRET), "the client secret is in {what}: {text}");
    assert!(!text.contains(&form), "the form-encoded client secret is in {what}: {text}");
    assert!(!text.contains(TOKEN), "the access token is in {what}: {text}");
}

// ---------------------------------------------------------------------------------------------
// 1. Redirects

#[test]
fn a_token_endpoint_redirect_is_refused_and_the_secret_goes_nowhere() {
    let evil = Peer::start(|_| Answer::token());
    let steal = format!("{}/steal", evil.url);
    let authority = Peer::start(move |_| Answer::redirect(307, &steal));
    let graph = Peer::start(|_| Answer::json(200, r#"{"schema":[],"results":[]}"#));
    let scene = Scene::new();
    let run = scene.run(&authority.url, &graph.url, &[]);
    assert_eq!(run.code, 2, "a sign-in that cannot succeed stops the run: {run:?}");
    assert!(run.stderr.contains("redirect"), "{run:?}");
    assert!(run.stderr.contains(&format!("{}/steal", evil.url)), "names the target: {run:?}");
    assert!(evil.requests().is_empty(), "the redirect was followed: {:?}", evil.requests());
    let asked = authority.requests();
    assert_eq!(asked.len(), 1, "a redirect is not retried");
    assert_eq!(asked[0].method, "POST");
    assert!(graph.requests().is_empty());
    assert_no_secrets("stderr", &run.stderr);
}

#[test]
fn a_graph_redirect_is_refused_and_the_query_goes_nowhere() {
    let evil = Peer::start(|_| Answer::json(200, r#"{"schema":[],"results":[]}"#));
    let (steal, steal_302) = (format!("{}/steal", evil.url), format!("{}/found", evil.url));
    let authority = Peer::start(|_| Answer::token());
    let graph = Peer::start(move |r| {
        if r.target.contains("runHuntingQuery") && r.body.windows(5).any(|w| w == b"take ") {
            Answer::redirect(307, &steal)
        } else {
            Answer::redirect(302, &steal_302)
        }
    });
    let scene = Scene::new();
    let run = scene.run(&authority.url, &graph.url, &[]);
    assert_eq!(run.code, 1, "the query failed: {run:?}");
    assert!(run.stderr.contains(&format!("{}/steal", evil.url)), "names the target: {run:?}");
    assert!(run.stderr.contains("307"), "{run:?}");
    assert!(evil.requests().is_empty(), "the redirect was followed: {:?}", evil.requests());
    assert_eq!(graph.requests().len(), 1, "a refused redirect is not retried");
}

// ---------------------------------------------------------------------------------------------
// 5. A token answer without end

#[test]
fn an_endless_token_answer_is_cut_and_never_becomes_a_header() {
    let authority = Peer::start(|_| Answer {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Body::Endless {
            prefix: br#"{"token_type":"Bearer","expires_in":3599,"access_token":""#.to_vec(),
            fill: b'A',
            len: 2 << 30,
        },
    });
    let graph = Peer::start(|_| Answer::json(200, r#"{"schema":[],"results":[]}"#));
    let scene = Scene::new();
    let started = Instant::now();
    let mut cmd = std::process::Command::new("/usr/bin/time");
    cmd.arg("-f").arg("maxrss_kb=%M").arg(env!("CARGO_BIN_EXE_hunt"));
    let inner =
        scene.command(&authority.url, &graph.url, &["run", "queries", "--timespan", WINDOW]);
    cmd.current_dir(scene.dir.path());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.args(inner.get_args());
    let run = Run::from(cmd.output().unwrap());
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("larger than 64 KiB"), "{run:?}");
    assert!(graph.requests().is_empty(), "no call went out with that token");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    let rss_kb: u64 = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss: {run:?}"));
    assert!(rss_kb < 100 * 1024, "hunt peaked at {rss_kb} kB reading a 2 GB token answer");
}

// ---------------------------------------------------------------------------------------------
// 6. Secrets a peer echoes back

#[test]
fn a_token_endpoint_quoting_the_posted_form_does_not_print_the_secret() {
    let authority = Peer::start(|r| {
        let form = String::from_utf8_lossy(&r.body).into_owned();
        let body = serde_json::json!({
            "error": "invalid_client",
            "error_description": format!("AADSTS7000215: bad request body {form} (raw {SECRET})"),
            "error_codes": [7000215],
        });
        Answer::json(401, body.to_string())
    });
    let graph = Peer::start(|_| Answer::json(200, r#"{"schema":[],"results":[]}"#));
    let scene = Scene::new();
    for args in [&[][..], &["--json"][..]] {
        let run = scene.run(&authority.url, &graph.url, args);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains("client_secret=<redacted>"), "{run:?}");
        assert!(run.stderr.contains("AADSTS7000215"), "the rest of the message stays: {run:?}");
        assert_no_secrets("stderr", &run.stderr);
        assert_no_secrets("stdout", &run.stdout);
    }
}

fn echoing_graph() -> Peer {
    Peer::start(|r| {
        let auth = r.headers.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization"));
        let message = format!("Invalid header {}", auth.unwrap_or("none").trim());
        Answer::json(
            400,
            serde_json::json!({"error": {"code": "BadRequest", "message": message}}).to_string(),
        )
    })
}

#[test]
fn a_graph_error_quoting_the_bearer_token_is_masked_in_output_json_and_state() {
    let authority = Peer::start(|_| Answer::token());
    let graph = echoing_graph();
    let scene = Scene::new();
    let run = scene.run(&authority.url, &graph.url, &["--json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("Invalid header") && run.stdout.contains("<redacted>"), "{run:?}");
    assert_no_secrets("stderr", &run.stderr);
    assert_no_secrets("--json", &run.stdout);

    // The daemon records the failed window in its state: masked there too, and in status.
    std::fs::write(
        scene.dir.path().join("queries/q.kql"),
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n// ---\nAlertInfo | take 5\n",
    )
    .unwrap();
    let mut daemon = scene
        .command(&authority.url, &graph.url, &["schedule", "queries", "--out", "out"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        let status = scene.hunt(&authority.url, &graph.url, &["status", "--json"]);
        if status.stdout.contains("Invalid header") {
            break status;
        }
        assert!(Instant::now() < deadline, "no failed run recorded: {status:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = std::process::Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let mut stderr = String::new();
    daemon.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    daemon.wait().unwrap();
    assert!(status.stdout.contains("<redacted>"), "{status:?}");
    assert_no_secrets("hunt status --json", &status.stdout);
    assert_no_secrets("the daemon's stderr", &stderr);
    for f in crate::util::all_files(&scene.dir.path().join("state")) {
        let bytes = std::fs::read(&f).unwrap();
        assert_no_secrets(&f.display().to_string(), &String::from_utf8_lossy(&bytes));
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Service text printed raw

#[test]
fn service_text_cannot_drive_the_terminal_or_forge_lines() {
    let authority = Peer::start(|_| Answer::token());
    let graph = Peer::start(|_| {
        let message = format!(
            "bad\u{1b}]0;pwned\u{7}\u{1b}[2J\nerror: fake line\r\u{202e}{}",
            "x".repeat(100_000)
        );
        Answer::json(
            400,
            serde_json::json!({"error": {"code": "BadRequest", "message": message}}).to_string(),
        )
    });
    let scene = Scene::new();
    for args in [&[][..], &["--json"][..]] {
        let run = scene.run(&authority.url, &graph.url, args);
        assert_eq!(run.code, 1, "{run:?}");
        for (name, text) in [("stderr", &run.stderr), ("stdout", &run.stdout)] {
            assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{name}: {text:?}");
            assert!(!text.contains('\u{202e}'), "{name}: {text:?}");
            assert!(
                !text.lines().any(|l| l.starts_with("error: fake line")),
                "a forged line on {name}: {text:?}"
            );
            assert!(text.lines().all(|l| l.len() < 4_000), "a long line on {name}");
        }
        let all = format!("{}{}", run.stderr, run.stdout);
        assert!(all.contains("\\u{1b}]0;pwned"), "the text is shown escaped: {run:?}");
        assert!(all.contains("more characters]"), "the cut is said: {run:?}");
    }
}

#[test]
fn a_200_carrying_an_error_envelope_reports_the_service_message() {
    let authority = Peer::start(|_| Answer::token());
    let graph = Peer::start(|_| {
        Answer::json(
            200,
            r#"{"error":{"code":"BadRequest","message":"Semantic error: 'Nope' is not a table"}}"#,
        )
    });
    let scene = Scene::new();
    let run = scene.run(&authority.url, &graph.url, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("Semantic error: 'Nope' is not a table"), "{run:?}");
    assert!(!run.stderr.contains("no schema"), "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// 8. DEN paging that never ends

#[test]
fn den_sync_stops_at_a_next_link_that_points_back() {
    let authority = Peer::start(|_| Answer::token());
    let root = Arc::new(Mutex::new(String::new()));
    let root_seen = Arc::clone(&root);
    let graph = Peer::start(move |r| {
        let root = root_seen.lock().unwrap().clone();
        let path = r.target.split('?').next().unwrap_or("");
        let next = match path {
            // Page 1 → page 2 → page 1 again.
            "/beta/security/incidents" if r.target.contains("page=2") => {
                format!("{root}/beta/security/incidents?page=1")
            }
            "/beta/security/incidents" => format!("{root}/beta/security/incidents?page=2"),
            _ => return Answer::json(200, r#"{"value":[]}"#),
        };
        Answer::json(200, serde_json::json!({"value": [], "@odata.nextLink": next}).to_string())
    });
    *root.lock().unwrap() = graph.url.clone();
    let scene = Scene::new();
    let started = Instant::now();
    let run = scene.hunt(&authority.url, &graph.url, &["den", "sync", "--queries", "queries/den"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("points back to a page already read"), "{run:?}");
    assert!(graph.requests().len() <= 3, "{} requests", graph.requests().len());
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn den_sync_refuses_a_link_off_the_graph_root_at_once() {
    let authority = Peer::start(|_| Answer::token());
    let evil = Peer::start(|_| Answer::json(200, r#"{"value":[]}"#));
    let off = format!("{}/beta/security/incidents?page=2", evil.url);
    let graph = Peer::start(move |_| {
        Answer::json(200, serde_json::json!({"value": [], "@odata.nextLink": off}).to_string())
    });
    let scene = Scene::new();
    let started = Instant::now();
    let run = scene.hunt(&authority.url, &graph.url, &["den", "sync", "--queries", "queries/den"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("refusing to follow a link outside"), "{run:?}");
    assert!(!run.stderr.contains("retrying"), "a refusal is not retried: {run:?}");
    assert!(evil.requests().is_empty());
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}
