//! Opening the object store a [`RemoteUrl`] names, with object_store's builders configured from
//! the environment the way its `from_env` constructors do (`AZURE_*`, `AWS_*`, `GOOGLE_*`), plus
//! hunt's rules on top: bounded retries with exponential backoff, connect and request timeouts,
//! TLS certificates always verified, and plain `http://` endpoints only on loopback hosts (an
//! emulator such as Azurite); any other `http://` endpoint is refused before anything is sent.

use super::credential::SharedCredential;
use super::target::{RemoteUrl, StoreKind};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};
use std::sync::Arc;
use std::time::Duration;

/// Retries per request (uploads of a part, listings, deletions) after a 5xx, a 429 or a
/// transport failure.
const MAX_RETRIES: usize = 6;
/// No request is retried past this long after it was first sent.
const RETRY_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest one request may take, from sending it to the end of the answer (a part of at most
/// 16 MiB: at least ~140 kB/s).
const REQUEST_TIMEOUT: &str = "120s";
/// Longest a connection may take to open.
const CONNECT_TIMEOUT: &str = "10s";

/// Azurite's well-known development account and key (public, documented by Microsoft), used
/// with `AZURE_STORAGE_USE_EMULATOR` when no credential is given.
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The retry policy of every store: 0.5 s, 1 s, 2 s, … up to 15 s between attempts.
fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        },
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_TIMEOUT,
    }
}

/// The client settings hunt fixes, applied before the environment's (so `AZURE_TIMEOUT` and
/// the like still win) except the two it enforces after: `allow_http` and certificate checks.
const CLIENT_DEFAULTS: [(ClientConfigKey, &str); 2] = [
    (ClientConfigKey::Timeout, REQUEST_TIMEOUT),
    (ClientConfigKey::ConnectTimeout, CONNECT_TIMEOUT),
];

/// Opens the store of `remote` with the variables in `env`. Errors are one line, for a usage
/// error (exit 2): nothing has been sent yet.
pub(super) fn open(
    remote: &RemoteUrl,
    env: &[(String, String)],
    shared: Option<SharedCredential>,
) -> Result<Arc<dyn ObjectStore>, String> {
    // object_store's HTTP client is reqwest on rustls without a built-in provider: ring, as for
    // Graph (installing twice is harmless).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let var = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let prefixed = |p: &'static str| env.iter().filter(move |(k, _)| k.starts_with(p));
    let store: Arc<dyn ObjectStore> = match remote.kind {
        StoreKind::Azure => {
            Arc::new(azure_builder(remote, env, shared)?.build().map_err(|e| describe(&e))?)
        }
        StoreKind::S3 => {
            let mut b = AmazonS3Builder::new();
            for (k, v) in CLIENT_DEFAULTS {
                b = b.with_config(AmazonS3ConfigKey::Client(k), v);
            }
            for (k, v) in prefixed("AWS_") {
                if let Ok(key) = k.to_ascii_lowercase().parse() {
                    b = b.with_config(key, v.clone());
                }
            }
            b = b.with_url(remote.base.clone()).with_retry(retry_config());
            let endpoints: Vec<(&str, String)> = [
                ("AWS_ENDPOINT", AmazonS3ConfigKey::Endpoint),
                ("AWS_ENDPOINT_URL_S3", AmazonS3ConfigKey::S3Endpoint),
                ("AWS_ENDPOINT_URL_STS", AmazonS3ConfigKey::StsEndpoint),
            ]
            .into_iter()
            .filter_map(|(name, key)| Some((name, b.get_config_value(&key)?)))
            .collect();
            let allow_http = http_rule(&endpoints)?;
            for (k, v) in enforced(allow_http) {
                b = b.with_config(AmazonS3ConfigKey::Client(k), v);
            }
            Arc::new(b.build().map_err(|e| describe(&e))?)
        }
        StoreKind::Gcs => {
            let mut b = GoogleCloudStorageBuilder::new();
            for (k, v) in CLIENT_DEFAULTS {
                b = b.with_config(GoogleConfigKey::Client(k), v);
            }
            if let Some(path) = var("SERVICE_ACCOUNT") {
                b = b.with_service_account_path(path);
            }
            for (k, v) in prefixed("GOOGLE_") {
                if let Ok(key) = k.to_ascii_lowercase().parse() {
                    b = b.with_config(key, v.clone());
                }
            }
            b = b.with_url(remote.base.clone()).with_retry(retry_config());
            let endpoints: Vec<(&str, String)> = b
                .get_config_value(&GoogleConfigKey::BaseUrl)
                .map(|u| ("GOOGLE_BASE_URL", u))
                .into_iter()
                .collect();
            let allow_http = http_rule(&endpoints)?;
            for (k, v) in enforced(allow_http) {
                b = b.with_config(GoogleConfigKey::Client(k), v);
            }
            Arc::new(b.build().map_err(|e| describe(&e))?)
        }
    };
    Ok(store)
}

/// The Azure builder for `remote` and `env`, with hunt's rules applied (not built yet).
fn azure_builder(
    remote: &RemoteUrl,
    env: &[(String, String)],
    shared: Option<SharedCredential>,
) -> Result<MicrosoftAzureBuilder, String> {
    let var = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let prefixed = |p: &'static str| env.iter().filter(move |(k, _)| k.starts_with(p));
    let mut b = MicrosoftAzureBuilder::new();
    for (k, v) in CLIENT_DEFAULTS {
        b = b.with_config(AzureConfigKey::Client(k), v);
    }
    // `AZURE_CLIENT_ID` and `AZURE_STORAGE_CLIENT_ID` (and the like) set the same
    // thing: the storage-specific one wins, whatever the environment's order.
    let mut azure: Vec<&(String, String)> = prefixed("AZURE_").collect();
    azure.sort_by_key(|(k, _)| k.starts_with("AZURE_STORAGE_"));
    for (k, v) in azure {
        if let Ok(key) = k.to_ascii_lowercase().parse() {
            b = b.with_config(key, v.clone());
        }
    }
    if let Some(msi) = var("IDENTITY_ENDPOINT") {
        b = b.with_msi_endpoint(msi);
    }
    b = b.with_url(remote.base.clone()).with_retry(retry_config());
    let emulator = b.get_config_value(&AzureConfigKey::UseEmulator).is_some_and(|v| truthy(&v));
    let endpoints = if emulator {
        // Azurite, addressed path-style as an explicit endpoint (what object_store's
        // emulator mode does, but from `env` rather than the process's variables).
        let url =
            var("AZURITE_BLOB_STORAGE_URL").unwrap_or_else(|| "http://127.0.0.1:10000".into());
        let account = b
            .get_config_value(&AzureConfigKey::AccountName)
            .unwrap_or_else(|| AZURITE_ACCOUNT.into());
        let credential = [AzureConfigKey::AccessKey, AzureConfigKey::SasKey, AzureConfigKey::Token]
            .iter()
            .any(|k| b.get_config_value(k).is_some());
        b = b
            .with_config(AzureConfigKey::UseEmulator, "false")
            .with_endpoint(format!("{}/{account}", url.trim_end_matches('/')))
            .with_account(account);
        if !credential {
            b = b.with_access_key(AZURITE_KEY);
        }
        vec![("AZURITE_BLOB_STORAGE_URL", url)]
    } else {
        // No credential of storage's own: hunt's sign-in, for a storage token.
        if let Some(shared) = shared
            && !storage_credential(&b, env)
        {
            b = b.with_credentials(Arc::new(shared));
        }
        let e = b.get_config_value(&AzureConfigKey::Endpoint);
        e.into_iter().map(|u| ("AZURE_STORAGE_ENDPOINT", u)).collect()
    };
    let allow_http = http_rule(&endpoints)?;
    for (k, v) in enforced(allow_http) {
        b = b.with_config(AzureConfigKey::Client(k), v);
    }
    Ok(b)
}

/// Whether `env` gives Azure storage a credential of its own: a key, a SAS, a bearer token, or
/// a sign-in under `AZURE_STORAGE_*` names (a storage app, a token file, the CLI), which then
/// wins over hunt's Graph sign-in.
fn storage_credential(b: &MicrosoftAzureBuilder, env: &[(String, String)]) -> bool {
    const OWN: [&str; 8] = [
        "AZURE_STORAGE_CLIENT_ID",
        "AZURE_STORAGE_CLIENT_SECRET",
        "AZURE_STORAGE_TENANT_ID",
        "AZURE_STORAGE_AUTHORITY_ID",
        "AZURE_STORAGE_FEDERATED_TOKEN_FILE",
        "AZURE_STORAGE_USE_AZURE_CLI",
        "AZURE_USE_AZURE_CLI",
        "AZURE_STORAGE_MSI_ENDPOINT",
    ];
    [AzureConfigKey::AccessKey, AzureConfigKey::SasKey, AzureConfigKey::Token]
        .iter()
        .any(|k| b.get_config_value(k).is_some())
        || env.iter().any(|(k, v)| OWN.contains(&k.as_str()) && !v.trim().is_empty())
}

/// The client settings hunt enforces whatever the environment says.
fn enforced(allow_http: bool) -> [(ClientConfigKey, &'static str); 2] {
    [
        (ClientConfigKey::AllowHttp, if allow_http { "true" } else { "false" }),
        (ClientConfigKey::AllowInvalidCertificates, "false"),
    ]
}

/// Checks the endpoints the store will talk to: `https://` anywhere, `http://` only on a
/// loopback host. Returns whether plain http must be allowed (a loopback endpoint uses it).
fn http_rule(endpoints: &[(&str, String)]) -> Result<bool, String> {
    let mut allow = false;
    for (name, value) in endpoints {
        let url = url::Url::parse(value)
            .map_err(|e| format!("{name} {:?} is not a URL: {e}", cut_query(value)))?;
        match url.scheme() {
            "https" => {}
            "http" if crate::graph::is_loopback(&url) => allow = true,
            "http" => {
                return Err(format!(
                    "{name} {:?} uses plain http: only https is allowed, except for loopback \
                     hosts (an emulator such as Azurite)",
                    cut_query(value)
                ));
            }
            other => {
                return Err(format!("{name} {:?}: unsupported scheme {other}", cut_query(value)));
            }
        }
    }
    Ok(allow)
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes" | "y")
}

fn cut_query(value: &str) -> &str {
    value.find(['?', '#']).map_or(value, |i| &value[..i])
}

/// An error and its sources as one line, with any URL's query string (a SAS token's signature,
/// say) cut out.
pub(super) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    one_line(&redact_queries(&text))
}

/// `text` on one line, with a storage service's XML error document (Azure's and S3's
/// `<Error><Code>…</Code><Message>…</Message></Error>`) shown as `Code: message`.
fn one_line(text: &str) -> String {
    let tag = |name: &str, from: &str| -> Option<String> {
        let start = from.find(&format!("<{name}>"))? + name.len() + 2;
        let end = from[start..].find(&format!("</{name}>"))? + start;
        Some(from[start..end].lines().next().unwrap_or_default().trim().to_owned())
    };
    let mut text = text.to_owned();
    if let Some(xml) = text.find("<?xml").or_else(|| text.find("<Error>")) {
        let doc = text[xml..].to_owned();
        let end = doc.find("</Error>").map_or(doc.len(), |i| i + "</Error>".len());
        let summary = match (tag("Code", &doc), tag("Message", &doc)) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c,
            _ => doc[..end].to_owned(),
        };
        text.replace_range(xml..xml + end, &summary);
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` with the query string of every `http(s)://` URL in it removed.
pub(super) fn redact_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i);
        out.push_str(head);
        let end =
            tail.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '>' | ','));
        let end = end.unwrap_or(tail.len());
        let url = &tail[..end];
        match url.find('?') {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push_str("?…");
            }
            None => out.push_str(url),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::target::Target;

    fn remote(s: &str) -> RemoteUrl {
        match Target::parse(s).unwrap() {
            Target::Remote(r) => r,
            Target::Local(_) => panic!("{s}"),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let azurite = |url: &str| {
            env(&[
                ("AZURE_STORAGE_USE_EMULATOR", "true"),
                ("AZURITE_BLOB_STORAGE_URL", url),
                ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY),
            ])
        };
        for ok in ["http://127.0.0.1:10000", "http://localhost:1", "http://[::1]:2", "https://x.y"]
        {
            assert!(open(&remote("az://c/p"), &azurite(ok), None).is_ok(), "{ok}");
        }
        let e = open(&remote("az://c/p"), &azurite("http://10.1.2.3:10000"), None).unwrap_err();
        assert!(e.contains("AZURITE_BLOB_STORAGE_URL") && e.contains("plain http"), "{e}");
        // The emulator's default address is loopback.
        let only_flag = env(&[("AZURE_STORAGE_USE_EMULATOR", "1")]);
        assert!(open(&remote("az://c/p"), &only_flag, None).is_ok());
        let endpoint = env(&[
            ("AZURE_STORAGE_ACCOUNT_NAME", "acct"),
            ("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY),
            ("AZURE_STORAGE_ENDPOINT", "http://storage.example.com"),
            ("AZURE_ALLOW_HTTP", "true"),
        ]);
        let e = open(&remote("az://c/p"), &endpoint, None).unwrap_err();
        assert!(e.contains("AZURE_STORAGE_ENDPOINT"), "{e}");
        let s3 = |url: &str| {
            env(&[
                ("AWS_ACCESS_KEY_ID", "k"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ENDPOINT", url),
                ("AWS_ALLOW_HTTP", "true"),
            ])
        };
        assert!(open(&remote("s3://b/p"), &s3("http://127.0.0.1:5000"), None).is_ok());
        let e = open(&remote("s3://b/p"), &s3("http://minio.internal:9000"), None).unwrap_err();
        assert!(e.contains("AWS_ENDPOINT") && e.contains("plain http"), "{e}");
        let gcs = env(&[("GOOGLE_BASE_URL", "http://gcs.example.com")]);
        let e = open(&remote("gs://b/p"), &gcs, None).unwrap_err();
        assert!(e.contains("GOOGLE_BASE_URL"), "{e}");
    }

    #[test]
    fn missing_settings_are_reported_without_secrets() {
        // No account name: object_store says so.
        let e =
            open(&remote("az://c/p"), &env(&[("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY)]), None)
                .unwrap_err();
        assert!(e.to_lowercase().contains("account"), "{e}");
        assert!(!e.contains(AZURITE_KEY), "{e}");
        // A key that is not base64 is refused without echoing it.
        let bad = env(&[
            ("AZURE_STORAGE_ACCOUNT_NAME", "acct"),
            ("AZURE_STORAGE_ACCOUNT_KEY", "NOT-BASE64-SECRET!"),
        ]);
        let e = open(&remote("az://c/p"), &bad, None).unwrap_err();
        assert!(!e.contains("NOT-BASE64-SECRET"), "{e}");
        // abfss with an account in the URL needs no account variable.
        let with_key = env(&[("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY)]);
        assert!(open(&remote("abfss://c@acct.dfs.core.windows.net/p"), &with_key, None).is_ok());
    }

    #[test]
    fn storage_specific_azure_variables_win_over_the_generic_ones() {
        // The generic client id is hunt's Graph app; the storage one is used, in either order.
        for reversed in [false, true] {
            let mut e = env(&[
                ("AZURE_CLIENT_ID", "graph-app"),
                ("AZURE_STORAGE_CLIENT_ID", "storage-app"),
                ("AZURE_AUTHORITY_HOST", "https://graph.example"),
                ("AZURE_STORAGE_AUTHORITY_HOST", "https://storage.example"),
            ]);
            if reversed {
                e.reverse();
            }
            let b = azure_builder(&remote("az://c/p"), &e, None).unwrap();
            assert_eq!(b.get_config_value(&AzureConfigKey::ClientId).unwrap(), "storage-app");
            let host = b.get_config_value(&AzureConfigKey::AuthorityHost).unwrap();
            assert_eq!(host, "https://storage.example");
        }
        // Alone, the generic ones are used (the Graph app signs in to storage).
        let b = azure_builder(&remote("az://c/p"), &env(&[("AZURE_CLIENT_ID", "graph-app")]), None);
        assert_eq!(b.unwrap().get_config_value(&AzureConfigKey::ClientId).unwrap(), "graph-app");
    }

    #[test]
    fn query_strings_are_cut_from_messages() {
        assert_eq!(
            redact_queries("PUT http://h/c/x?sig=SECRET&comp=block failed (http://a/b?x)"),
            "PUT http://h/c/x?… failed (http://a/b?…)"
        );
        assert_eq!(redact_queries("no url here?"), "no url here?");
    }

    #[test]
    fn xml_error_documents_become_one_line() {
        let text = "list failed: 404 Not Found: <?xml version=\"1.0\"?>\n<Error>\n  <Code>ContainerNotFound</Code>\n  <Message>The specified container does not exist.\nRequestId:1</Message>\n</Error>\n";
        assert_eq!(
            one_line(text),
            "list failed: 404 Not Found: ContainerNotFound: The specified container does not exist."
        );
        assert_eq!(one_line("a\n  b"), "a b");
    }
}
