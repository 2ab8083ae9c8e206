//! `[[tenant]]` tables in hunt.toml: what loads, what is refused and where, and how
//! credentials resolve.

use super::Config;
use crate::graph::auth::Credential;
use crate::tenant::{TenantConfig, credentials};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

fn load(text: &str) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hunt.toml");
    std::fs::write(&p, text).unwrap();
    Config::load(&p, true).map_err(|e| e.to_string())
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> =
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |k: &str| map.get(k).cloned()
}

const TWO: &str = r#"
[quota]
calls_per_minute = 40

[[tenant]]
name = "contoso"
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id_env = "CONTOSO_CLIENT_ID"
client_secret_env = "CONTOSO_SECRET"
out = "/data/contoso"
[tenant.quota]
calls_per_minute = 6
exec_per_hour = "5m"

[[tenant]]
name = "fabrikam.eu_2"
tenant_id_env = "FABRIKAM_TENANT"
client_id = "app-2"
certificate_env = "FABRIKAM_PEM"
graph_url = "https://graph.microsoft.us"
authority_host = "https://login.microsoftonline.us/"
"#;

#[test]
fn tenants_load_in_order_with_their_quota_over_the_top_level_one() {
    let c = load(TWO).unwrap();
    assert!(c.multi_tenant());
    let names: Vec<&str> = c.tenants.iter().map(TenantConfig::name).collect();
    assert_eq!(names, ["contoso", "fabrikam.eu_2"]);
    let (a, b) = (&c.tenants[0], &c.tenants[1]);
    assert_eq!(a.limits.calls_per_minute, 6);
    assert_eq!(a.limits.exec_per_hour, Duration::from_secs(300));
    assert_eq!(a.limits.calls_per_hour, 1500);
    assert_eq!(b.limits, c.quota);
    assert_eq!(b.limits.calls_per_minute, 40);
    assert_eq!(a.out.as_ref().map(|o| o.get_ref().as_str()), Some("/data/contoso"));
    assert!(b.out.is_none());
    assert!(!load("[quota]\n").unwrap().multi_tenant());
}

#[test]
fn credentials_resolve_from_the_file_and_the_variables_it_names() {
    let c = load(TWO).unwrap();
    let vars = env(&[("CONTOSO_CLIENT_ID", " app-1 "), ("CONTOSO_SECRET", "s3cret-value")]);
    let s = c.tenants[0].settings(&vars, None).unwrap();
    assert_eq!(s.auth.tenant_id, "11111111-1111-1111-1111-111111111111");
    assert_eq!(s.auth.client_id, "app-1");
    assert!(matches!(&s.auth.credential, Credential::Secret(x) if x.expose() == "s3cret-value"));
    assert_eq!(s.graph_url, crate::graph::DEFAULT_GRAPH_URL);
    // Endpoints not in the table come from the environment, as for one tenant.
    let vars = env(&[
        ("CONTOSO_CLIENT_ID", "app-1"),
        ("CONTOSO_SECRET", "x"),
        ("HUNT_GRAPH_URL", "http://127.0.0.1:9"),
        ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9"),
    ]);
    let s = c.tenants[0].settings(&vars, None).unwrap();
    assert_eq!(
        (s.graph_url.as_str(), s.auth.authority_host.as_str()),
        ("http://127.0.0.1:9", "http://127.0.0.1:9")
    );
    assert_eq!(s.auth.scope, "http://127.0.0.1:9/.default");

    let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth/test-only-client.pem");
    let vars = env(&[("FABRIKAM_TENANT", "fabrikam.onmicrosoft.com"), ("FABRIKAM_PEM", pem)]);
    let s = c.tenants[1].settings(&vars, None).unwrap();
    assert_eq!(s.auth.tenant_id, "fabrikam.onmicrosoft.com");
    assert_eq!(s.auth.authority_host, "https://login.microsoftonline.us");
    assert_eq!(s.graph_url, "https://graph.microsoft.us");
    assert!(matches!(s.auth.credential, Credential::Certificate(_)));
}

#[test]
fn a_missing_variable_names_the_tenant_and_the_variable_and_never_a_value() {
    let c = load(TWO).unwrap();
    let e = c.tenants[0].settings(&env(&[("CONTOSO_CLIENT_ID", "app-1")]), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "tenant \"contoso\": client_secret_env names the environment variable CONTOSO_SECRET, \
         which is not set"
    );
    let e = c.tenants[0].settings(&env(&[("CONTOSO_SECRET", "hidden-1")]), None).unwrap_err();
    assert!(e.to_string().contains("CONTOSO_CLIENT_ID"), "{e}");
    assert!(!format!("{e} {e:?}").contains("hidden-1"));
    let e = c.tenants[1].tenant_id(&env(&[("FABRIKAM_TENANT", "  ")])).unwrap_err();
    assert!(
        matches!(e, credentials::CredentialError::MissingVariable { var, .. } if var == "FABRIKAM_TENANT")
    );
    let e = c.tenants[1].tenant_id(&env(&[("FABRIKAM_TENANT", "a/../b")])).unwrap_err();
    assert!(e.to_string().contains("is not a tenant id"), "{e}");
    let bare = load("[[tenant]]\nname = \"x\"\n").unwrap();
    let e = bare.tenants[0].settings(&env(&[]), None).unwrap_err().to_string();
    assert_eq!(
        e,
        "tenant \"x\" has no tenant id: add tenant_id or tenant_id_env to its [[tenant]] table"
    );
    let e = c.tenants[1]
        .settings(&env(&[("FABRIKAM_TENANT", "t"), ("FABRIKAM_PEM", "/nonexistent.pem")]), None)
        .unwrap_err();
    assert!(e.to_string().contains("/nonexistent.pem"), "{e}");
}

const INLINE: &str = "[[tenant]]\nname = \"lab\"\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret = \"inline-Secret-42\"\n";

#[test]
fn an_inline_secret_is_refused_at_its_line_unless_allowed() {
    let e = load(INLINE).unwrap_err();
    assert!(
        e.contains(
            "hunt.toml: 5:17: tenant \"lab\": a client_secret written in hunt.toml is refused"
        ),
        "{e}"
    );
    assert!(e.contains("client_secret_env") && e.contains("allow_inline_secret = true"), "{e}");
    assert!(!e.contains("inline-Secret-42"), "{e}");
    let allowed = format!("{INLINE}allow_inline_secret = true\n");
    let c = load(&allowed).unwrap();
    assert!(!format!("{c:?}").contains("inline-Secret-42"), "Debug shows no secret");
    let s = c.tenants[0].settings(&env(&[]), None).unwrap();
    assert!(
        matches!(&s.auth.credential, Credential::Secret(x) if x.expose() == "inline-Secret-42")
    );
}

#[cfg(unix)]
#[test]
fn an_allowed_inline_secret_in_a_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("hunt.toml");
    std::fs::write(&p, format!("{INLINE}allow_inline_secret = true\n")).unwrap();
    let c = Config::load(&p, true).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = c.tenants[0].settings(&env(&[]), Some(&p)).unwrap();
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert!(s.warnings[0].contains("chmod 600") && s.warnings[0].contains("client_secret"));
    assert!(!s.warnings[0].contains("inline-Secret-42"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(c.tenants[0].settings(&env(&[]), Some(&p)).unwrap().warnings.is_empty());
    assert!(
        c.tenants[0]
            .settings(&env(&[]), Some(Path::new("/nonexistent")))
            .unwrap()
            .warnings
            .is_empty()
    );
}

#[test]
fn bad_tables_are_refused_with_their_line() {
    let cases: &[(&str, &str)] = &[
        (
            "[[tenant]]\nname = \"a\"\nclient_secert_env = \"X\"\n",
            "3:1: unknown field `client_secert_env`",
        ),
        (
            "[[tenant]]\nname = \"a\"\n[tenant.quota]\ncalls_per_mnute = 3\n",
            "4:1: unknown field `calls_per_mnute`",
        ),
        (
            "[[tenant]]\nname = \"a\"\n[[tenant]]\nname = \"b\"\n[[tenant]]\nname = \"A\"\n",
            "6:8: tenant \"A\" is defined twice (first at 2:8)",
        ),
        ("[[tenant]]\nname = \"../x\"\n", "2:8: tenant name \"../x\" must be letters"),
        ("[[tenant]]\nname = \"\"\n", "2:8: tenant name \"\" must be 1 to 64"),
        ("[[tenant]]\nname = \"a b\"\n", "must be letters"),
        ("[[tenant]]\nname = \".hidden\"\n", "must be letters"),
        ("[[tenant]]\ntenant_id = \"t\"\n", "missing field `name`"),
        (
            "[[tenant]]\nname = \"a\"\nclient_secret_env = \"S\"\ncertificate = \"/c.pem\"\n",
            "4:15: tenant \"a\": give its credential once, not as client_secret_env and certificate",
        ),
        (
            "[[tenant]]\nname = \"a\"\ntenant_id = \"t\"\ntenant_id_env = \"T\"\n",
            "give its tenant id once",
        ),
        (
            "[[tenant]]\nname = \"a\"\ngraph_url = \"http://graph.example.com\"\n",
            "3:13: tenant \"a\": graph_url \"http://graph.example.com\" uses plain http",
        ),
        (
            "[[tenant]]\nname = \"a\"\n[tenant.quota]\ncalls_per_minute = 0\n",
            "2:8: tenant \"a\": [tenant.quota] calls_per_minute must be at least 1 (a call)",
        ),
        ("[[tenant]]\nname = \"a\"\n[tenant.quota]\nexec_per_day = \"lots\"\n", "4:16:"),
        ("[tenant]\nname = \"a\"\n", "1:1:"),
        (
            "[[tenant]]\nname = \"a\"\nout = \"ftp://x/y\"\n",
            "3:7: tenant \"a\": out: unknown scheme",
        ),
    ];
    for (text, want) in cases {
        let e = load(text).unwrap_err();
        assert!(e.contains(want), "{text:?}\n  want {want:?}\n  got  {e}");
    }
}
