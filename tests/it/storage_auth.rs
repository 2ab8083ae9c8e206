//! One credential for Graph and storage: `--out az://…` with no storage credential of its own
//! signs in to Azure storage the way hunt signs in to Graph (a secret, workload identity, a
//! managed identity), with a token whose audience is storage. The storage account is a loopback
//! server speaking the Blob REST calls hunt makes (list, put), which accepts only a bearer token
//! the emulator issued for `https://storage.azure.com` (Azurite takes bearer tokens only over
//! TLS, so the shared-key Azurite tests cannot cover this).

use crate::util::TestEnv;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hunt::emulator::IssuedTokens;
use std::sync::{Arc, Mutex};

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";
const STORAGE: &str = "https://storage.azure.com";

/// What the storage account saw: each request's method and path, and the refusals.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, String)>,
    refused: Vec<String>,
}

struct Account {
    tokens: IssuedTokens,
    tenant: String,
    seen: Mutex<Seen>,
}

async fn blob(
    State(acct): State<Arc<Account>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let holder = bearer.and_then(|t| acct.tokens.holder(t));
    let mut seen = acct.seen.lock().unwrap();
    if holder != Some((acct.tenant.clone(), STORAGE.to_owned())) {
        seen.refused.push(format!("{method} {uri}: {holder:?}"));
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Server failed to authenticate the request.</Message></Error>";
        return (StatusCode::FORBIDDEN, xml).into_response();
    }
    seen.requests.push((method.to_string(), uri.path().to_owned()));
    let query = uri.query().unwrap_or_default();
    match method {
        Method::GET if query.contains("comp=list") => (
            StatusCode::OK,
            [("content-type", "application/xml")],
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs></Blobs><NextMarker /></EnumerationResults>",
        )
            .into_response(),
        Method::PUT => (StatusCode::CREATED, [("etag", "\"0x1\""), ("last-modified", "Mon, 07 Dec 2026 20:00:00 GMT")]).into_response(),
        Method::DELETE => StatusCode::ACCEPTED.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A storage account on loopback that trusts `env`'s emulator's storage tokens; its endpoint.
fn storage_account(env: &TestEnv, rt: &tokio::runtime::Runtime) -> (String, Arc<Account>) {
    let acct = Arc::new(Account {
        tokens: env.emu.issued_tokens(),
        tenant: hunt::emulator::TENANT_ID.to_owned(),
        seen: Mutex::default(),
    });
    let app = axum::Router::new().fallback(blob).with_state(Arc::clone(&acct));
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/devstoreaccount1"), acct)
}

#[test]
fn an_azure_store_signs_in_with_hunts_own_credential() {
    let env = TestEnv::new();
    env.query("a.kql", "AlertInfo | take 2");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (endpoint, acct) = storage_account(&env, &rt);
    let store = [
        ("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1"),
        ("AZURE_STORAGE_ENDPOINT", endpoint.as_str()),
    ];
    let file = env.path("token.jwt");
    std::fs::write(&file, crate::identity::federated_jwt(hunt::emulator::FEDERATED_ISSUER, "s"))
        .unwrap();
    let url = env.emu.url();
    let sources: [(&str, Vec<(&str, &str)>); 3] = [
        ("secret", vec![]),
        (
            "workload-identity",
            vec![
                ("AZURE_CLIENT_SECRET", ""),
                ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap()),
            ],
        ),
        (
            "managed-identity",
            vec![
                ("AZURE_CLIENT_SECRET", ""),
                ("AZURE_CLIENT_ID", ""),
                ("IMDS_ENDPOINT", url.as_str()),
                ("HUNT_AUTH", "managed-identity"),
            ],
        ),
    ];
    for (kind, vars) in sources {
        let prefix = format!("lake/{kind}");
        let mut all: Vec<(&str, &str)> = store.to_vec();
        all.extend(vars);
        let out = format!("az://{prefix}");
        let run = env.hunt(&["run", "queries", "--out", &out, "--timespan", WINDOW], &all);
        assert_eq!(run.code, 0, "{kind}: {run:?}");
        let seen = acct.seen.lock().unwrap();
        assert!(seen.refused.is_empty(), "{kind}: {:?}", seen.refused);
        let puts: Vec<&String> = seen
            .requests
            .iter()
            .filter(|(m, p)| {
                m == "PUT"
                    && p.starts_with(&format!("/devstoreaccount1/{prefix}/a/date=2026-11-20/"))
            })
            .map(|(_, p)| p)
            .collect();
        assert_eq!(puts.len(), 1, "{kind}: {:?}", seen.requests);
        assert!(puts[0].ends_with(".parquet"), "{kind}: {puts:?}");
    }
    // A storage key of its own wins: the account refuses it here (no bearer token), and says so.
    let mut keyed: Vec<(&str, &str)> = store.to_vec();
    keyed.push(("AZURE_STORAGE_ACCOUNT_KEY", "a2V5"));
    let run =
        env.hunt(&["run", "queries", "--out", "az://lake/keyed", "--timespan", WINDOW], &keyed);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("InvalidAuthenticationInfo"), "{run:?}");
    assert!(!acct.seen.lock().unwrap().refused.is_empty());
}
