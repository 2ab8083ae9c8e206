//! Sign-in end to end: wrong secrets, certificates, expiring and revoked tokens, and the
//! configuration checks that keep hunt from running at all (exit 2).

use crate::util::{TestEnv, hunt_cmd, parquet_files};
use hunt::emulator::EmulatorConfig;
use rustls_pki_types::pem::PemObject as _;
use std::time::Duration;

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";
const CERT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth/test-only-client.pem");

#[test]
fn wrong_secret_exits_2_shows_the_aadsts_code_and_never_the_secret() {
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 1");
    let secret = "Wr0ng~Secret.value-8Q";
    let run = env.hunt(
        &["run", "queries", "--out", "out", "--timespan", WINDOW],
        &[("AZURE_CLIENT_SECRET", secret)],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AADSTS7000215"), "{run:?}");
    assert!(run.stderr.contains("invalid_client"), "{run:?}");
    assert!(run.stderr.contains("nothing was run"), "{run:?}");
    assert!(!run.stderr.contains(secret) && !run.stdout.contains(secret), "{run:?}");
    assert_eq!(env.emu.stats().hunting_calls, 0);
    assert!(!env.out().exists());
}

#[test]
fn wrong_client_id_names_the_app_problem() {
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 1");
    let run = env.hunt(&["run", "queries", "--timespan", WINDOW], &[("AZURE_CLIENT_ID", "nope")]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AADSTS700016"), "{run:?}");
    assert!(run.stderr.contains("check AZURE_CLIENT_ID"), "{run:?}");
}

fn cert_der() -> Vec<u8> {
    rustls_pki_types::CertificateDer::from_pem_file(CERT).unwrap().to_vec()
}

#[test]
fn certificate_sign_in_works_and_an_unregistered_certificate_is_refused() {
    let env =
        TestEnv::with(EmulatorConfig { client_cert_der: Some(cert_der()), ..Default::default() });
    env.query("q.kql", "AlertInfo | take 2");
    let args = ["run", "queries", "--out", "out", "--timespan", WINDOW];
    let run =
        env.hunt(&args, &[("AZURE_CLIENT_SECRET", ""), ("AZURE_CLIENT_CERTIFICATE_PATH", CERT)]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(parquet_files(&env.out()).len(), 1);

    let other = TestEnv::new(); // no certificate registered
    other.query("q.kql", "AlertInfo | take 2");
    let run =
        other.hunt(&args, &[("AZURE_CLIENT_SECRET", ""), ("AZURE_CLIENT_CERTIFICATE_PATH", CERT)]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AADSTS700027"), "{run:?}");
    assert!(!run.stderr.contains("PRIVATE KEY"), "{run:?}");
}

#[test]
fn tokens_are_renewed_before_they_expire() {
    let env = TestEnv::with(EmulatorConfig {
        token_lifetime: Duration::from_secs(2),
        response_delay: Duration::from_millis(600),
        ..Default::default()
    });
    for i in 0..6 {
        env.query(&format!("q{i}.kql"), "AlertInfo | take 1");
    }
    let run = env
        .hunt(&["run", "queries", "--out", "out", "--concurrency", "1", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let stats = env.emu.stats();
    assert_eq!(stats.hunting_calls, 6);
    assert_eq!(stats.unauthorized, 0, "renewed before expiry, never refused");
    assert!(stats.tokens_issued >= 2, "{stats:?}");
}

#[test]
fn a_token_refused_with_401_is_renewed_once_and_the_call_retried() {
    let env = TestEnv::with(EmulatorConfig {
        actual_token_lifetime: Some(Duration::from_millis(300)),
        response_delay: Duration::from_millis(400),
        ..Default::default()
    });
    for i in 0..3 {
        env.query(&format!("q{i}.kql"), "AlertInfo | take 1");
    }
    let run = env
        .hunt(&["run", "queries", "--out", "out", "--concurrency", "1", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let stats = env.emu.stats();
    assert!(stats.unauthorized >= 1, "{stats:?}");
    assert_eq!(stats.hunting_calls, 3 + stats.unauthorized, "each 401 retried exactly once");
    assert_eq!(parquet_files(&env.out()).len(), 3);
}

#[test]
fn no_credentials_and_plain_http_are_configuration_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q.kql"), "AlertInfo").unwrap();
    let out = hunt_cmd().current_dir(dir.path()).args(["run", "q.kql"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("AZURE_TENANT_ID is not set") && stderr.contains("--emulator"),
        "{stderr}"
    );

    let out = hunt_cmd()
        .current_dir(dir.path())
        .args(["run", "q.kql"])
        .envs([
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("HUNT_GRAPH_URL", "http://graph.example.com"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only https is allowed"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let out = hunt_cmd().args(["run", "--timespan", "P1M"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = hunt_cmd().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
