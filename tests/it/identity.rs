//! Sign-in without a client secret, end to end against the emulator over loopback HTTP:
//! workload identity (a federated token file rotated between two token requests), managed
//! identity (the instance-metadata endpoint and App Service's), and the Azure CLI (an `az`
//! program on PATH that answers as the CLI does, signed in and signed out). Nothing is ever sent
//! to the real metadata address: `IMDS_ENDPOINT` points at the emulator.

use crate::util::{TestEnv, parquet_files};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::path::Path;

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";

/// A federated token as a Kubernetes service account or GitHub would issue it (unsigned here:
/// the emulator checks issuer, audience and expiry, as it does not hold the issuer's keys).
pub(super) fn federated_jwt(issuer: &str, jti: &str) -> String {
    let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = chrono::Utc::now().timestamp() + 3600;
    format!(
        "{}.{}.{}",
        enc(serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": "k1" })),
        enc(serde_json::json!({ "iss": issuer, "aud": "api://AzureADTokenExchange",
                                "sub": "system:serviceaccount:hunt:hunt", "exp": exp, "jti": jti })),
        URL_SAFE_NO_PAD.encode(b"signature")
    )
}

/// The emulator's variables without its client secret.
const NO_SECRET: (&str, &str) = ("AZURE_CLIENT_SECRET", "");

#[test]
fn workload_identity_reads_the_token_file_at_every_request() {
    let env = TestEnv::with(hunt::emulator::EmulatorConfig {
        // Tokens die after a second: the second query needs a second token.
        token_lifetime: std::time::Duration::from_secs(1),
        ..Default::default()
    });
    env.query("a.kql", "AlertInfo | take 1");
    let file = env.path("token.jwt");
    std::fs::write(&file, federated_jwt(hunt::emulator::FEDERATED_ISSUER, "one")).unwrap();
    let file_s = file.to_str().unwrap();
    let vars = [NO_SECRET, ("AZURE_FEDERATED_TOKEN_FILE", file_s)];
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &vars);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!parquet_files(&env.out()).is_empty());
    assert_eq!(env.emu.stats().federated_sign_ins, 1);
    // The platform rotates the file; the next sign-in sends the new token.
    std::fs::write(&file, federated_jwt(hunt::emulator::FEDERATED_ISSUER, "two")).unwrap();
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &vars);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.emu.stats().federated_tokens_distinct, 2);
    // A token from an issuer the app does not trust is refused, naming the issuer.
    std::fs::write(&file, federated_jwt("https://evil.example", "three")).unwrap();
    let run =
        env.hunt(&["run", "queries", "--timespan", WINDOW, "--auth", "workload-identity"], &vars);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("AADSTS700211") && run.stderr.contains("evil.example"), "{run:?}");
    // A missing file says so.
    let gone = [NO_SECRET, ("AZURE_FEDERATED_TOKEN_FILE", "/nonexistent/token")];
    let run = env.hunt(&["run", "queries", "--timespan", WINDOW], &gone);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("cannot read AZURE_FEDERATED_TOKEN_FILE /nonexistent/token"),
        "{run:?}"
    );
}

#[test]
fn managed_identity_from_the_metadata_endpoint_and_app_services() {
    let env = TestEnv::new();
    env.query("a.kql", "AlertInfo | take 1");
    let url = env.emu.url();
    let imds = [NO_SECRET, ("AZURE_CLIENT_ID", ""), ("IMDS_ENDPOINT", url.as_str())];
    let args =
        ["run", "queries", "--out", "out", "--timespan", WINDOW, "--auth", "managed-identity"];
    let run = env.hunt(&args, &imds);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.emu.stats().managed_identity_tokens, 1);
    let endpoint = format!("{url}/msi/token");
    let app = [
        NO_SECRET,
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", hunt::emulator::IDENTITY_HEADER),
    ];
    let run = env.hunt(&args, &app);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(env.emu.stats().managed_identity_tokens, 2);
    // A wrong header: the endpoint's words, and the header never printed.
    let wrong =
        [NO_SECRET, ("IDENTITY_ENDPOINT", endpoint.as_str()), ("IDENTITY_HEADER", "not-it-42")];
    let run = env.hunt(&args, &wrong);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("managed identity") && run.stderr.contains("HTTP 401"), "{run:?}");
    assert!(!run.stderr.contains("not-it-42"), "{run:?}");
    // No endpoint answering: an error within seconds, not a hang.
    let dead = [NO_SECRET, ("IMDS_ENDPOINT", "http://127.0.0.1:9")];
    let started = std::time::Instant::now();
    let run = env.hunt(&args, &dead);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("did not answer"), "{run:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
}

/// An `az` that answers like the Azure CLI: signed in (with `token`) or signed out.
fn fake_az(dir: &Path, tenant: &str, token: Option<&str>) -> String {
    let path = dir.join("az");
    let script = match token {
        Some(token) => {
            let on = chrono::Utc::now().timestamp() + 3000;
            format!(
                "#!/bin/sh\ncase \"$2\" in\n  show) echo '{{\"tenantId\": \"{tenant}\", \"user\": {{\"name\": \"hunter@contoso.com\"}}}}' ;;\n  get-access-token) echo '{{\"accessToken\": \"{token}\", \"expiresOn\": \"2026-12-07 20:00:00.000000\", \"expires_on\": {on}, \"subscription\": \"s\", \"tenant\": \"{tenant}\", \"tokenType\": \"Bearer\"}}' ;;\nesac\n"
            )
        }
        None => "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n"
            .to_owned(),
    };
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_azure_cli_signs_in_as_the_person_and_says_when_it_cannot() {
    let env = TestEnv::new();
    env.query("a.kql", "AlertInfo | take 1");
    // The token `az` hands out, as the emulator issued it.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", hunt::emulator::CLIENT_ID),
        ("client_secret", hunt::emulator::CLIENT_SECRET),
        ("scope", &format!("{}/.default", env.emu.url())),
    ];
    let token_url = format!("{}/{}/oauth2/v2.0/token", env.emu.url(), hunt::emulator::TENANT_ID);
    let token: String = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let http = hunt::graph::http_client(std::time::Duration::from_secs(10)).unwrap();
        let resp = http.post(&token_url).form(&form).send().await.unwrap();
        let v: serde_json::Value = resp.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    });
    let dir = tempfile::tempdir().unwrap();
    let az = fake_az(dir.path(), hunt::emulator::TENANT_ID, Some(&token));
    // No credential in the environment, no tenant: the CLI's account and tenant.
    let vars =
        [NO_SECRET, ("AZURE_CLIENT_ID", ""), ("AZURE_TENANT_ID", ""), ("HUNT_AZ", az.as_str())];
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &vars);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!parquet_files(&env.out()).is_empty());
    assert!(!run.stderr.contains(&token) && !run.stdout.contains(&token), "{run:?}");
    // Signed out: the CLI's words and what to do.
    let az = fake_az(dir.path(), hunt::emulator::TENANT_ID, None);
    let vars = [NO_SECRET, ("HUNT_AZ", az.as_str())];
    let run = env.hunt(&["run", "queries", "--timespan", WINDOW, "--auth", "azure-cli"], &vars);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("Azure CLI") && run.stderr.contains("az login"), "{run:?}");
}

/// `hunt auth` names the source and the permissions the token carries against what each command
/// needs; a missing one is marked with its consent step (exit 1), and a hunting call then gets a
/// 403 that names the permissions.
#[test]
fn hunt_auth_shows_the_source_and_the_missing_permission() {
    let env = TestEnv::new();
    let run = env.hunt(&["auth"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("source       secret"), "{run:?}");
    assert!(run.stdout.contains(&format!("tenant       {}", hunt::emulator::TENANT_ID)), "{run:?}");
    assert!(
        run.stdout.contains("app 00000000-0000-0000-0000-0000000c0001 (application permissions)"),
        "{run:?}"
    );
    let ok = run.stdout.lines().filter(|l| l.trim_end().ends_with(" ok")).count();
    assert_eq!(ok, 3, "{run:?}");
    // Each source says its name.
    let file = env.path("token.jwt");
    std::fs::write(&file, federated_jwt(hunt::emulator::FEDERATED_ISSUER, "x")).unwrap();
    let vars = [NO_SECRET, ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap())];
    let run = env.hunt(&["auth", "--json"], &vars);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["source"], "workload-identity", "{v}");
    assert_eq!(v["token"]["roles"][0], "ThreatHunting.Read.All", "{v}");
    let url = env.emu.url();
    let imds = [NO_SECRET, ("IMDS_ENDPOINT", url.as_str())];
    let run = env.hunt(&["auth", "--json", "--auth", "managed-identity"], &imds);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["source"], "managed-identity", "{v}");
    assert!(!run.stdout.contains(".emu"), "the token is never printed: {run:?}");

    // An app without SecurityAlert.Read.All nor ThreatHunting.Read.All.
    let env = TestEnv::with(hunt::emulator::EmulatorConfig {
        roles: vec!["SecurityIncident.Read.All".into()],
        ..Default::default()
    });
    let run = env.hunt(&["auth"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("MISSING: add the application permission ThreatHunting.Read.All (Microsoft Graph) to the app registration and grant admin consent"),
        "{run:?}"
    );
    env.query("a.kql", "AlertInfo | take 1");
    let run = env.hunt(&["run", "queries", "--timespan", WINDOW, "--print", "csv"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("HTTP 403 Forbidden") && run.stderr.contains("ThreatHunting.Read.All"),
        "{run:?}"
    );
    assert!(run.stderr.contains("`hunt auth`"), "{run:?}");
}

/// `hunt login` runs the device-code flow (pending, slow down, success), keeps the refresh
/// token 0600 in the state folder, and later runs sign in with it as the person, rotating it;
/// an expired code and a declined sign-in say so; `hunt logout` removes it.
#[test]
fn hunt_login_keeps_a_persons_sign_in_until_logout() {
    use std::os::unix::fs::PermissionsExt as _;
    let steps = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let env = TestEnv::with(hunt::emulator::EmulatorConfig {
        device_flow: steps(&["authorization_pending", "slow_down", "ok"]),
        ..Default::default()
    });
    env.query("a.kql", "AlertInfo | take 1");
    let run = env.hunt(&["login"], &[NO_SECRET]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("/devicelogin and enter the code "), "{run:?}");
    assert!(run.stdout.contains("signed in as hunter@contoso.com"), "{run:?}");
    let cache = std::fs::read_dir(env.path("state"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("login-"))
        .expect("the kept sign-in");
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let kept = std::fs::read_to_string(&cache).unwrap();
    assert!(!run.stdout.contains("emurt.") && !run.stderr.contains("emurt."), "{run:?}");
    // A run with no secret signs in as the person with it, and the refresh token rotates.
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[NO_SECRET]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!parquet_files(&env.out()).is_empty());
    assert_ne!(std::fs::read_to_string(&cache).unwrap(), kept, "the rotated refresh token is kept");
    let run = env.hunt(&["auth"], &[NO_SECRET]);
    assert!(run.stdout.contains("source       device-code"), "{run:?}");
    assert!(run.stdout.contains("user hunter@contoso.com (delegated permissions)"), "{run:?}");
    // logout removes it; the next run says what to do.
    let run = env.hunt(&["logout"], &[]);
    assert!(run.stdout.starts_with("removed "), "{run:?}");
    assert!(!cache.exists());
    let run =
        env.hunt(&["run", "queries", "--timespan", WINDOW, "--auth", "device-code"], &[NO_SECRET]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("run `hunt login`"), "{run:?}");

    for (script, words) in [
        (steps(&["authorization_pending", "expired_token"]), "device code expired"),
        (steps(&["authorization_declined"]), "declined"),
    ] {
        let env = TestEnv::with(hunt::emulator::EmulatorConfig {
            device_flow: script,
            ..Default::default()
        });
        let run = env.hunt(&["login"], &[NO_SECRET]);
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stderr.contains(words), "{run:?}");
    }
}

/// hunt.toml chooses the source: `[auth] kind` for the environment's tenant (below `HUNT_AUTH`
/// and `--auth`), and `auth` per `[[tenant]]`, each tenant signing in its own way in one run.
#[test]
fn hunt_toml_chooses_the_source_for_the_environment_and_for_each_tenant() {
    let env = TestEnv::new();
    env.query("a.kql", "AlertInfo | take 1");
    let url = env.emu.url();
    std::fs::write(env.path("hunt.toml"), "[auth]\nkind = \"managed-identity\"\n").unwrap();
    let source = |vars: &[(&str, &str)], args: &[&str]| {
        let mut all = vec!["auth", "--json"];
        all.extend(args);
        let run = env.hunt(&all, vars);
        let v: serde_json::Value =
            serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {run:?}"));
        v["source"].as_str().unwrap_or_default().to_owned()
    };
    // The secret is there, but the file says managed identity.
    let imds = [("IMDS_ENDPOINT", url.as_str())];
    assert_eq!(source(&imds, &[]), "managed-identity");
    let var = [("IMDS_ENDPOINT", url.as_str()), ("HUNT_AUTH", "secret")];
    assert_eq!(source(&var, &[]), "secret");
    assert_eq!(source(&var, &["--auth", "managed-identity"]), "managed-identity");

    // Per tenant: workload identity for one, managed identity for the other.
    let file = env.path("token.jwt");
    std::fs::write(&file, federated_jwt(hunt::emulator::FEDERATED_ISSUER, "t")).unwrap();
    let common = format!(
        "tenant_id = \"{}\"\nauthority_host = \"{url}\"\ngraph_url = \"{url}\"\n",
        hunt::emulator::TENANT_ID
    );
    let toml = format!(
        "[[tenant]]\nname = \"wi\"\n{common}client_id = \"{}\"\nauth = \"workload-identity\"\n\
         federated_token_file = \"{}\"\n\n[[tenant]]\nname = \"mi\"\n{common}auth = \"managed-identity\"\n",
        hunt::emulator::CLIENT_ID,
        file.display()
    );
    std::fs::write(env.path("hunt.toml"), &toml).unwrap();
    let vars = [NO_SECRET, ("IMDS_ENDPOINT", url.as_str())];
    let (fed, mi) = (env.emu.stats().federated_sign_ins, env.emu.stats().managed_identity_tokens);
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW, "--json"], &vars);
    assert_eq!(run.code, 0, "{run:?}");
    let dirs = crate::tenants::tenant_dirs(&env.out());
    assert_eq!(dirs.into_iter().collect::<Vec<_>>(), ["mi", "wi"], "{run:?}");
    assert_eq!(env.emu.stats().federated_sign_ins, fed + 1);
    assert_eq!(env.emu.stats().managed_identity_tokens, mi + 1);
    let run = env.hunt(&["auth", "--json"], &vars);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sources: Vec<&str> =
        v["tenants"].as_array().unwrap().iter().map(|t| t["source"].as_str().unwrap()).collect();
    assert_eq!(sources, ["workload-identity", "managed-identity"], "{v}");

    // A tenant that signs in without a secret may not name one; the line says where.
    let bad = format!(
        "[[tenant]]\nname = \"x\"\n{common}auth = \"azure-cli\"\nclient_secret_env = \"S\"\n"
    );
    std::fs::write(env.path("hunt.toml"), bad).unwrap();
    let run = env.hunt(&["run", "queries", "--timespan", WINDOW], &vars);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("hunt.toml: 7:")
            && run.stderr.contains("auth = \"azure-cli\" signs in without a secret"),
        "{run:?}"
    );
}
