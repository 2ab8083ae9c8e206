//! The Microsoft Graph client: where to connect (from the environment, the Azure SDK's
//! variables), the HTTPS-except-loopback rule, and `POST /v1.0/security/runHuntingQuery`.
//!
//! It knows URLs, headers and envelopes, not queries or files: KQL text and a window go in, the
//! raw response body (plus its request-id) comes out.

pub mod auth;
pub mod body;
pub mod claims;
pub mod error;
pub mod identity;
pub mod login;
pub mod peer;
pub mod pool;
pub mod retry;

use crate::clock::Clock;
use crate::timespan::Window;
use auth::{AuthConfig, AuthError, AuthKind, Certificate, Credential, Secret, TokenSource};
pub use body::{Body, BodyStream};
use error::ServiceError;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The default Graph root.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.microsoft.com";
/// The default authority host.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";
/// The instance-metadata service, reached over plain HTTP on a link-local address (as Azure
/// documents it); `IMDS_ENDPOINT` overrides it.
pub const IMDS_ROOT: &str = "http://169.254.169.254";

/// A configuration problem found before any call was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Why a hunting call failed.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// No token could be had.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The service answered with an error status.
    #[error("{0}")]
    Service(ServiceError),
    /// The call did not complete (connection, timeout, cut body).
    #[error("request to {url} failed: {message} [client-request-id {client_request_id}]")]
    Transport {
        /// The URL called.
        url: String,
        /// What went wrong.
        message: String,
        /// The request was sent but no answer came in time (the query may be too slow for one
        /// call); false for connection failures, which say nothing about the query.
        timed_out: bool,
        /// The id hunt sent, to find the call in the service's logs.
        client_request_id: String,
    },
    /// hunt would not send or follow: a redirect (Graph does not redirect these calls, and
    /// following one would carry the request elsewhere), a link outside the Graph root, a
    /// paging link that loops. Never worth retrying.
    #[error("{message} ({url})")]
    Refused {
        /// The URL called.
        url: String,
        /// What was refused and why.
        message: String,
    },
    /// The response body was larger than allowed.
    #[error("response body exceeded {limit} bytes [client-request-id {client_request_id}]")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The id hunt sent.
        client_request_id: String,
    },
}

/// Where to connect and as whom, read from the environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Graph root without version, e.g. `https://graph.microsoft.com`.
    pub graph_url: String,
    /// Sign-in configuration.
    pub auth: AuthConfig,
    /// Request timeout for one hunting call (above the service's own 3-minute limit).
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Things worth telling the user that do not stop hunt (a credential file others can
    /// read), one line each, without the `warning: ` prefix.
    pub warnings: Vec<String>,
}

impl Settings {
    /// Reads the sign-in from the Azure SDK's variables through `var`: `AZURE_TENANT_ID`,
    /// `AZURE_CLIENT_ID`, and a credential: `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`,
    /// `AZURE_FEDERATED_TOKEN_FILE` (workload identity), a managed identity
    /// (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, else `IMDS_ENDPOINT` or the metadata address),
    /// or the Azure CLI (`HUNT_AZ`, else `az`). `HUNT_AUTH` chooses one by its
    /// [`AuthKind`] name; without it the first present of secret, certificate, federated token
    /// file, then the Azure CLI when it is installed (never a managed identity: probing the
    /// metadata address off Azure is a surprise and a wait). Also `AZURE_AUTHORITY_HOST` and
    /// `HUNT_GRAPH_URL`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let kind = match get("HUNT_AUTH") {
            Some(k) => Some(<AuthKind as clap::ValueEnum>::from_str(&k, true).map_err(|_| {
                ConfigError(format!(
                    "HUNT_AUTH (--auth) {k:?} is not a way to sign in: secret, certificate, \
                     workload-identity, managed-identity, azure-cli or device-code"
                ))
            })?),
            None => None,
        };
        let required = |name: &str, why: &str| {
            get(name).ok_or_else(|| {
                ConfigError(format!(
                    "{name} is not set{why}. hunt signs in as an app registration (AZURE_TENANT_ID, \
                     AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH), \
                     with workload identity (AZURE_FEDERATED_TOKEN_FILE), a managed identity \
                     (--auth managed-identity) or as you with the Azure CLI (`az login`, --auth \
                     azure-cli); or try it without a tenant with --emulator"
                ))
            })
        };
        let chosen = kind.or_else(|| {
            if get("AZURE_CLIENT_SECRET").is_some() {
                Some(AuthKind::Secret)
            } else if get("AZURE_CLIENT_CERTIFICATE_PATH").is_some() {
                Some(AuthKind::Certificate)
            } else if get("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                Some(AuthKind::WorkloadIdentity)
            } else {
                None
            }
        });
        let az = identity::az_program(&|k: &str| get(k));
        // A person's `hunt login` for this tenant, when there is one.
        let state_dir = crate::quota::store::default_state_dir(|k| get(k));
        let cached = get("AZURE_TENANT_ID")
            .map(|t| login::cache_path(&state_dir, &t))
            .filter(|p| p.exists());
        let chosen = chosen.or(cached.as_ref().map(|_| AuthKind::DeviceCode));
        // No credential in the environment: the Azure CLI's signed-in person, when there is one.
        let (chosen, cli_tenant) = match chosen {
            Some(k) => (k, None),
            None => match identity::azure_cli_tenant(&az) {
                Ok(t) => (AuthKind::AzureCli, Some(t)),
                Err(_) if get("AZURE_TENANT_ID").is_none() => {
                    return Err(required("AZURE_TENANT_ID", "")
                        .err()
                        .unwrap_or_else(|| ConfigError("no credential".into())));
                }
                Err(_) => {
                    return Err(ConfigError(
                        "neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH nor \
                         AZURE_FEDERATED_TOKEN_FILE is set, and the Azure CLI is not signed in: \
                         set one, run `az login`, or choose --auth managed-identity"
                            .into(),
                    ));
                }
            },
        };
        let tenant_id = match (get("AZURE_TENANT_ID"), chosen) {
            (Some(t), _) => t,
            (None, AuthKind::AzureCli) => match cli_tenant {
                Some(t) => t,
                None => identity::azure_cli_tenant(&az).map_err(|e| {
                    ConfigError(format!(
                        "AZURE_TENANT_ID is not set and the Azure CLI's tenant is unknown: {e}"
                    ))
                })?,
            },
            (None, _) => required("AZURE_TENANT_ID", "")?,
        };
        if !tenant_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return Err(ConfigError(format!(
                "AZURE_TENANT_ID {tenant_id:?} is not a tenant id (a GUID) or domain name"
            )));
        }
        let mut warnings = Vec::new();
        let (client_id, credential) = match chosen {
            AuthKind::Secret => {
                let secret = required("AZURE_CLIENT_SECRET", " (--auth secret)")?;
                (required("AZURE_CLIENT_ID", "")?, Credential::Secret(Secret::new(secret)))
            }
            AuthKind::Certificate => {
                let p = required("AZURE_CLIENT_CERTIFICATE_PATH", " (--auth certificate)")?;
                let path = std::path::Path::new(&p);
                let cert =
                    Certificate::from_pem_file(path).map_err(|e| ConfigError(e.to_string()))?;
                warnings.extend(loose_permissions(path, "AZURE_CLIENT_CERTIFICATE_PATH"));
                (required("AZURE_CLIENT_ID", "")?, Credential::Certificate(cert))
            }
            AuthKind::WorkloadIdentity => {
                let file = required("AZURE_FEDERATED_TOKEN_FILE", " (--auth workload-identity)")?;
                (required("AZURE_CLIENT_ID", "")?, Credential::FederatedToken(file.into()))
            }
            AuthKind::ManagedIdentity => {
                let endpoint = match (get("IDENTITY_ENDPOINT"), get("IDENTITY_HEADER")) {
                    (Some(endpoint), Some(header)) => {
                        let endpoint = checked_root("IDENTITY_ENDPOINT", &endpoint)?;
                        identity::ManagedIdentityEndpoint::AppService {
                            endpoint,
                            header: Secret::new(header),
                        }
                    }
                    _ => identity::ManagedIdentityEndpoint::Imds {
                        root: checked_root_plain(
                            "IMDS_ENDPOINT",
                            &get("IMDS_ENDPOINT").unwrap_or_else(|| IMDS_ROOT.into()),
                        )?,
                    },
                };
                let client_id = get("AZURE_CLIENT_ID");
                let shown = client_id.clone().unwrap_or_else(|| "system-assigned".into());
                (shown, Credential::ManagedIdentity { endpoint, client_id })
            }
            AuthKind::AzureCli => ("azure-cli".to_owned(), Credential::AzureCli(az)),
            AuthKind::DeviceCode => {
                let path = login::cache_path(&state_dir, &tenant_id);
                if !path.exists() {
                    return Err(ConfigError(format!(
                        "no `hunt login` sign-in for tenant {tenant_id} ({} is missing): run \
                         `hunt login`",
                        path.display()
                    )));
                }
                let client = login::read(&path).map_err(|e| ConfigError(e.to_string()))?.client_id;
                (client, Credential::CachedLogin(path))
            }
        };
        let graph_url = checked_root(
            "HUNT_GRAPH_URL",
            &get("HUNT_GRAPH_URL").unwrap_or_else(|| DEFAULT_GRAPH_URL.into()),
        )?;
        let authority_host = checked_root(
            "AZURE_AUTHORITY_HOST",
            &get("AZURE_AUTHORITY_HOST").unwrap_or_else(|| DEFAULT_AUTHORITY_HOST.into()),
        )?;
        Ok(Settings::new(graph_url, authority_host, tenant_id, client_id, credential, warnings))
    }

    /// Settings for signing in to `authority_host` as `client_id` of `tenant_id` and calling
    /// `graph_url` (its `.default` scope), with the default timeout and body limit (the run
    /// tunes both from hunt.toml).
    pub fn new(
        graph_url: String,
        authority_host: String,
        tenant_id: String,
        client_id: String,
        credential: Credential,
        warnings: Vec<String>,
    ) -> Settings {
        let scope = format!("{graph_url}/.default");
        Settings {
            auth: AuthConfig { authority_host, tenant_id, client_id, credential, scope },
            graph_url,
            timeout: Duration::from_secs(240),
            max_body_bytes: 256 << 20,
            warnings,
        }
    }
}

/// A warning when `path` (a file holding a private key or other secrets) can be read or
/// written by its group or by others (mode & 0o077 on unix; never on other systems).
/// `what` says what the file is (`AZURE_CLIENT_CERTIFICATE_PATH`, `hunt.toml`).
pub fn loose_permissions(path: &std::path::Path, what: &str) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then(|| {
            format!(
                "{what} {} can be read or changed by other users (mode {mode:04o}) and may \
                 hold secrets: chmod 600 {}",
                path.display(),
                path.display()
            )
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, what);
        None
    }
}

/// Validates a root URL: `https://`, or `http://` on a loopback host only. Returns it without a
/// trailing slash.
pub fn checked_root(name: &str, value: &str) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(value)
        .map_err(|e| ConfigError(format!("{name} {value:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError(format!(
                "{name} {value:?} uses plain http: only https is allowed, except for loopback \
                 hosts (the emulator)"
            )));
        }
        other => {
            return Err(ConfigError(format!("{name} {value:?}: unsupported scheme {other}")));
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError(format!("{name} {value:?} must not have a query or fragment")));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// [`checked_root`] for the instance-metadata service, which Azure serves over plain HTTP on
/// the link-local address 169.254.169.254 (never routed off the machine's host): that address,
/// loopback (tests), or https.
fn checked_root_plain(name: &str, value: &str) -> Result<String, ConfigError> {
    let link_local = value.trim_end_matches('/') == IMDS_ROOT;
    if link_local { Ok(IMDS_ROOT.to_owned()) } else { checked_root(name, value) }
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, `::1`): the one place plain
/// `http://` is allowed, for Graph and for object stores alike.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// One answer from `runHuntingQuery`.
#[derive(Debug)]
pub struct HuntResponse {
    /// The raw JSON body, whole or still arriving.
    pub body: Body,
    /// The service's `request-id` header, when sent.
    pub request_id: Option<String>,
    /// The `client-request-id` hunt sent.
    pub client_request_id: String,
    /// Wall time of the call (what the service's execution quota is measured by).
    pub elapsed: Duration,
}

/// The hunting API as the executor sees it; the seam where tests plug in fakes.
pub trait HuntApi: Send + Sync {
    /// Gets ready to call (signs in), so that a call admitted by quota goes out at once.
    fn ready(&self) -> BoxFuture<'_, Result<(), GraphError>> {
        Box::pin(async { Ok(()) })
    }

    /// Runs `kql` over `window`.
    fn run_hunting_query<'a>(
        &'a self,
        kql: &'a str,
        window: &'a Window,
    ) -> BoxFuture<'a, Result<HuntResponse, GraphError>>;
}

/// The Graph client.
pub struct GraphClient {
    http: reqwest::Client,
    settings: Settings,
    tokens: TokenSource,
    /// The time of `Retry-After` dates (durations follow tokio's monotonic clock).
    clock: Arc<dyn Clock>,
    /// Answer slots shared with other clients of this process (see [`pool`]).
    slots: Option<pool::Slots>,
}

/// Builds the one HTTP client hunt uses (rustls on ring, platform roots, proxies from the
/// environment, gzip).
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, ConfigError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("hunt/", env!("CARGO_PKG_VERSION")))
        // Neither Graph nor the token endpoint redirects these calls; following a redirect would
        // re-send a secret or a query to wherever a peer points (see `redirect_refused`).
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(30))
        .timeout(timeout)
        .build()
        .map_err(|e| ConfigError(format!("cannot set up HTTPS: {}", describe_reqwest_error(&e))))
}

impl GraphClient {
    /// A client for `settings`, telling the time by `clock`.
    pub fn new(settings: Settings, clock: Arc<dyn Clock>) -> Result<GraphClient, ConfigError> {
        let http = http_client(settings.timeout)?;
        let tokens = TokenSource::new(http.clone(), settings.auth.clone(), Arc::clone(&clock));
        Ok(GraphClient { http, settings, tokens, clock, slots: None })
    }

    /// A client whose successful answers each hold one of `slots` from the moment their
    /// headers arrive until their body is dropped, so that the process holds at most that many
    /// answers at once whatever the number of clients (tenants). Calls waiting on the service
    /// hold none.
    pub fn with_slots(mut self, slots: pool::Slots) -> GraphClient {
        self.slots = Some(slots);
        self
    }

    /// Gets a token now, so that bad credentials are reported before any query runs.
    pub async fn sign_in(&self) -> Result<(), AuthError> {
        self.tokens.token().await.map(drop)
    }

    /// The access token in use (for `hunt auth` to read its claims; never printed).
    pub async fn access_token(&self) -> Result<Secret, AuthError> {
        self.tokens.token().await
    }

    /// Where and as whom it signs in.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// `POST {root}/v1.0/security/runHuntingQuery` with `query` and an explicit `START/END`
    /// timespan. A 401 renews the token and retries once.
    pub async fn run_hunting_query(
        &self,
        kql: &str,
        window: &Window,
    ) -> Result<HuntResponse, GraphError> {
        let url = format!("{}/v1.0/security/runHuntingQuery", self.settings.graph_url);
        let body = serde_json::json!({ "query": kql, "timespan": window.to_graph() }).to_string();
        self.send(reqwest::Method::POST, &url, Some(body), true).await
    }

    /// `GET` of a Graph URL (an absolute URL under the Graph root, e.g. an `@odata.nextLink`)
    /// with `Prefer: include-unknown-enum-members`, parsed as JSON.
    pub async fn get_json(&self, url: &str) -> Result<(serde_json::Value, String), GraphError> {
        if !url.starts_with(&format!("{}/", self.settings.graph_url)) {
            // Never send the token anywhere but the configured Graph root.
            return Err(GraphError::Refused {
                url: peer::Masks::none().clean(url),
                message: format!("refusing to follow a link outside {}", self.settings.graph_url),
            });
        }
        let resp = self.send(reqwest::Method::GET, url, None, false).await?;
        let id = resp.request_id.clone().unwrap_or_else(|| resp.client_request_id.clone());
        let body = resp.body.into_bytes().await?;
        match serde_json::from_slice(&body) {
            Ok(v) => Ok((v, id)),
            Err(e) => Err(GraphError::Transport {
                url: url.to_owned(),
                message: format!("the response is not JSON: {e} [request-id {id}]"),
                timed_out: false,
                client_request_id: resp.client_request_id,
            }),
        }
    }

    /// The Graph root in use.
    pub fn root(&self) -> &str {
        &self.settings.graph_url
    }

    /// What a peer must never be quoted saying: the access token and the app's secret.
    fn masks(&self, token: &Secret) -> peer::Masks {
        let mut masks = peer::Masks::of([token.expose()]);
        if let Credential::Secret(s) = &self.settings.auth.credential {
            masks.add(s.expose());
        }
        masks
    }

    /// One call: token, ids, body read with the size limit, a single token renewal on 401,
    /// and an error for any non-2xx answer. With `stream`, a successful answer longer than
    /// [`body::WHOLE_BELOW`] is handed on still streaming (the size limit goes with it).
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<String>,
        stream: bool,
    ) -> Result<HuntResponse, GraphError> {
        let mut renewed = false;
        loop {
            let token = self.tokens.token().await?;
            let client_request_id = uuid::Uuid::new_v4().to_string();
            let transport = |e: reqwest::Error| GraphError::Transport {
                url: url.to_owned(),
                message: describe_reqwest_error(&e),
                timed_out: e.is_timeout() && !e.is_connect(),
                client_request_id: client_request_id.clone(),
            };
            let started = Instant::now();
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(token.expose())
                .header("client-request-id", &client_request_id)
                .header("return-client-request-id", "true")
                .header("prefer", "include-unknown-enum-members");
            if let Some(b) = &body {
                req = req.header("content-type", "application/json; charset=utf-8").body(b.clone());
            }
            let mut resp = req.send().await.map_err(transport)?;
            let masks = self.masks(&token);
            if let Some(message) = redirect_refused(&resp, "Graph", &masks) {
                return Err(GraphError::Refused { url: url.to_owned(), message });
            }
            let status = resp.status().as_u16();
            let header = |name: &str| {
                resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
            };
            let request_id = header("request-id");
            let retry_after =
                header("retry-after").and_then(|v| error::parse_retry_after(&v, self.clock.now()));
            // A successful answer (the large kind) waits for a slot before its body is read;
            // the wait is not the service's time.
            let waited = Instant::now();
            let slot = match &self.slots {
                Some(slots) if (200..300).contains(&status) => pool::take(slots).await,
                _ => None,
            };
            let waited = waited.elapsed();
            let limit = self.settings.max_body_bytes;
            // One allocation of the announced size: growing by doubling would copy the body and
            // briefly hold it twice.
            let stream = stream && (200..300).contains(&status);
            let mut announced = resp.content_length().unwrap_or(0).min(limit as u64) as usize;
            if stream {
                announced = announced.min(body::WHOLE_BELOW + (64 << 10));
            }
            let mut buf = bytes::BytesMut::with_capacity(announced);
            let mut ended = false;
            while !(stream && buf.len() > body::WHOLE_BELOW) {
                let Some(chunk) = resp.chunk().await.map_err(transport)? else {
                    ended = true;
                    break;
                };
                if buf.len() + chunk.len() > limit {
                    return Err(GraphError::TooLarge { limit, client_request_id });
                }
                buf.extend_from_slice(&chunk);
            }
            let elapsed = started.elapsed().saturating_sub(waited);
            if !ended {
                let first = buf.freeze();
                let rest = BodyStream::new(first, resp, limit, url, &client_request_id, slot);
                let body = Body::Stream(Box::new(rest));
                return Ok(HuntResponse { body, request_id, client_request_id, elapsed });
            }
            if status == 401 && !renewed {
                tracing::info!(%client_request_id, "401 from Graph: renewing the token once");
                self.tokens.invalidate(&token).await;
                renewed = true;
                continue;
            }
            // A 2xx whose small body is a Graph error envelope is an error too: reading it as
            // a result would lose the service's message ("response has no schema").
            let error_body = buf.len() <= 64 << 10
                && error::parse_graph_envelope(&buf) != error::GraphEnvelope::default();
            if !(200..300).contains(&status) || error_body {
                return Err(GraphError::Service(ServiceError::from_response(
                    status,
                    &buf,
                    request_id.as_deref(),
                    Some(&client_request_id),
                    retry_after,
                    &masks,
                )));
            }
            let body = Body::Whole(pool::hold(buf.freeze(), slot));
            return Ok(HuntResponse { body, request_id, client_request_id, elapsed });
        }
    }
}

impl HuntApi for GraphClient {
    fn ready(&self) -> BoxFuture<'_, Result<(), GraphError>> {
        Box::pin(async { self.sign_in().await.map_err(GraphError::from) })
    }

    fn run_hunting_query<'a>(
        &'a self,
        kql: &'a str,
        window: &'a Window,
    ) -> BoxFuture<'a, Result<HuntResponse, GraphError>> {
        Box::pin(GraphClient::run_hunting_query(self, kql, window))
    }
}

/// The refusal of a redirect answer (3xx), naming where it pointed, or `None` for any other
/// answer. `who` names the peer in the message (`Graph`, `the token endpoint`).
pub(crate) fn redirect_refused(
    resp: &reqwest::Response,
    who: &str,
    masks: &peer::Masks,
) -> Option<String> {
    if !resp.status().is_redirection() {
        return None;
    }
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|l| masks.clean(&String::from_utf8_lossy(l.as_bytes())))
        .unwrap_or_else(|| "nowhere (no Location header)".into());
    Some(format!(
        "{who} answered HTTP {} redirecting to {location}: hunt does not follow redirects, so \
         nothing was sent there",
        resp.status().as_u16()
    ))
}

/// A one-line account of a reqwest error with its causes, never including credentials (reqwest
/// errors carry the URL, which holds none in hunt).
pub fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut out = if e.is_connect() {
        "could not connect".to_owned()
    } else if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the response body was cut or unreadable".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    match certificate_error(e) {
        Some(rustls::CertificateError::UnknownIssuer) => out.push_str(
            " (the server's TLS certificate is not signed by a trusted CA; if a proxy or a \
             private CA signs this traffic, name that CA's certificate in SSL_CERT_FILE)",
        ),
        Some(_) => out.push_str(" (the server's TLS certificate was not accepted)"),
        None => {}
    }
    out
}

/// Whether `e` is a TLS certificate the client refused (unknown issuer, wrong name, expired…).
pub fn is_certificate_error(e: &reqwest::Error) -> bool {
    certificate_error(e).is_some()
}

/// Why the server's TLS certificate was refused, if that is what `e` is.
fn certificate_error(e: &reqwest::Error) -> Option<rustls::CertificateError> {
    fn find(err: &(dyn std::error::Error + 'static)) -> Option<rustls::CertificateError> {
        if let Some(rustls::Error::InvalidCertificate(c)) = err.downcast_ref::<rustls::Error>() {
            return Some(c.clone());
        }
        // io::Error's source() skips the error it wraps (itself often an io::Error wrapping
        // rustls' error): look inside it.
        err.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| find(inner))
            .or_else(|| err.source().and_then(find))
    }
    find(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `pairs` as the environment, with no Azure CLI (whatever this machine has installed).
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        map.entry("HUNT_AZ".into()).or_insert_with(|| "/nonexistent/az".into());
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 3] = [
        ("AZURE_TENANT_ID", "contoso.onmicrosoft.com"),
        ("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000001"),
        ("AZURE_CLIENT_SECRET", "s3cret-value"),
    ];

    #[test]
    fn defaults_are_the_global_cloud() {
        let s = Settings::from_env(env(&BASE)).unwrap();
        assert_eq!(s.graph_url, "https://graph.microsoft.com");
        assert_eq!(
            s.auth.token_url(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(s.auth.scope, "https://graph.microsoft.com/.default");
        assert!(!format!("{s:?}").contains("s3cret-value"));
    }

    #[test]
    fn national_clouds_set_scope_from_graph_url() {
        let mut pairs = BASE.to_vec();
        pairs.push(("HUNT_GRAPH_URL", "https://dod-graph.microsoft.us/"));
        pairs.push(("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"));
        let s = Settings::from_env(env(&pairs)).unwrap();
        assert_eq!(s.auth.scope, "https://dod-graph.microsoft.us/.default");
        assert!(s.auth.token_url().starts_with("https://login.microsoftonline.us/"));
    }

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://x.y"] {
            assert!(checked_root("HUNT_GRAPH_URL", ok).is_ok(), "{ok}");
        }
        for bad in ["http://graph.microsoft.com", "http://10.0.0.1", "ftp://x", "not a url"] {
            let e = checked_root("HUNT_GRAPH_URL", bad).unwrap_err().to_string();
            assert!(e.contains("HUNT_GRAPH_URL"), "{e}");
        }
        let e = checked_root("X", "http://127.0.0.2.nip.io").unwrap_err().to_string();
        assert!(e.contains("plain http"), "{e}");
    }

    #[test]
    fn debug_text_never_shows_the_secret() {
        let secret = "Zq8~distinctive.SECRET-value_42";
        let mut pairs = BASE.to_vec();
        pairs[2] = ("AZURE_CLIENT_SECRET", secret);
        let s = Settings::from_env(env(&pairs)).unwrap();
        for text in [
            format!("{s:?}"),
            format!("{s:#?}"),
            format!("{:?}", s.auth),
            format!("{:#?}", s.auth),
            format!("{:?}", s.auth.credential),
            format!("{:?}", s.clone()),
        ] {
            assert!(!text.contains(secret) && !text.contains("distinctive"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
        assert!(s.warnings.is_empty());
    }

    const PEM: &str = include_str!("../../tests/fixtures/auth/test-only-client.pem");

    fn cert_settings(mode: u32) -> (tempfile::TempDir, std::path::PathBuf, Settings) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.pem");
        std::fs::write(&path, PEM).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let _ = mode;
        let p = path.to_str().unwrap().to_owned();
        let mut pairs = BASE[..2].to_vec();
        pairs.push(("AZURE_CLIENT_CERTIFICATE_PATH", &p));
        let s = Settings::from_env(env(&pairs)).unwrap();
        (dir, path, s)
    }

    #[test]
    fn certificate_debug_shows_neither_key_nor_pem() {
        let (_d, _p, s) = cert_settings(0o600);
        let text = format!("{s:?} {:?} {:#?}", s.auth.credential, s.auth);
        assert!(!text.contains("PRIVATE KEY") && !text.contains("BEGIN"), "{text}");
        // No run of base64 as long as a line of the PEM's key block.
        let key_lines: Vec<&str> = PEM
            .lines()
            .skip_while(|l| !l.contains("PRIVATE KEY"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----"))
            .collect();
        assert!(!key_lines.is_empty());
        for l in key_lines {
            assert!(!text.contains(l), "{text}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_certificate_others_can_read_is_warned_about() {
        let (_d, path, s) = cert_settings(0o644);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        let w = &s.warnings[0];
        assert!(w.contains(&path.display().to_string()), "{w}");
        assert!(w.contains("chmod 600") && w.contains("0644"), "{w}");
        assert!(w.contains("AZURE_CLIENT_CERTIFICATE_PATH"), "{w}");
        for mode in [0o640, 0o604, 0o660, 0o620] {
            assert_eq!(cert_settings(mode).2.warnings.len(), 1, "{mode:o}");
        }
        for mode in [0o600, 0o400, 0o700] {
            assert!(cert_settings(mode).2.warnings.is_empty(), "{mode:o}");
        }
        assert_eq!(loose_permissions(std::path::Path::new("/nonexistent"), "x"), None);
    }

    /// A national cloud (GCC High here) is one pair of variables for every source: the
    /// authority signs in, and the Graph root is the scope, or the resource a managed identity
    /// and the Azure CLI are asked for.
    #[test]
    fn every_source_follows_a_national_cloud() {
        let cloud = [
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us"),
            ("HUNT_GRAPH_URL", "https://graph.microsoft.us"),
        ];
        let pem = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/auth/test-only-client.pem");
        let kinds: [(&str, (&str, &str)); 5] = [
            ("secret", ("AZURE_CLIENT_SECRET", "s")),
            ("certificate", ("AZURE_CLIENT_CERTIFICATE_PATH", pem)),
            ("workload-identity", ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token")),
            ("managed-identity", ("IMDS_ENDPOINT", "http://169.254.169.254")),
            ("azure-cli", ("HUNT_AZ", "/usr/bin/az")),
        ];
        for (kind, var) in kinds {
            let mut p = BASE[..2].to_vec();
            p.extend(cloud);
            p.extend([("HUNT_AUTH", kind), var]);
            let s = Settings::from_env(env(&p)).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(s.auth.credential.kind().as_str(), kind);
            assert_eq!(s.graph_url, "https://graph.microsoft.us", "{kind}");
            assert_eq!(s.auth.resource(), "https://graph.microsoft.us", "{kind}");
            assert_eq!(s.auth.scope, "https://graph.microsoft.us/.default", "{kind}");
            assert_eq!(
                s.auth.token_url(),
                "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token",
                "{kind}"
            );
        }
    }

    #[test]
    fn the_sign_in_source_is_chosen_in_order_or_by_hunt_auth() {
        let kind = |pairs: &[(&str, &str)]| {
            Settings::from_env(env(pairs)).map(|s| s.auth.credential.kind())
        };
        assert_eq!(kind(&BASE), Ok(AuthKind::Secret));
        let mut pairs = BASE[..2].to_vec();
        pairs.push((
            "AZURE_FEDERATED_TOKEN_FILE",
            "/var/run/secrets/azure/tokens/azure-identity-token",
        ));
        assert_eq!(kind(&pairs), Ok(AuthKind::WorkloadIdentity));
        // A secret wins over a federated token file, unless HUNT_AUTH says otherwise.
        let mut both = BASE.to_vec();
        both.push(pairs[2]);
        assert_eq!(kind(&both), Ok(AuthKind::Secret));
        both.push(("HUNT_AUTH", "workload-identity"));
        assert_eq!(kind(&both), Ok(AuthKind::WorkloadIdentity));
        // A managed identity only when chosen: the metadata address by default, else the
        // App Service endpoint; never plain http elsewhere.
        let mi = |extra: &[(&str, &str)]| {
            let mut p = vec![BASE[0], ("HUNT_AUTH", "managed-identity")];
            p.extend_from_slice(extra);
            Settings::from_env(env(&p)).map(|s| s.auth.credential)
        };
        assert!(matches!(
            mi(&[]),
            Ok(Credential::ManagedIdentity { endpoint: identity::ManagedIdentityEndpoint::Imds { ref root }, client_id: None }) if root == IMDS_ROOT
        ));
        assert!(matches!(
            mi(&[
                ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"),
                ("IDENTITY_HEADER", "h")
            ]),
            Ok(Credential::ManagedIdentity {
                endpoint: identity::ManagedIdentityEndpoint::AppService { .. },
                ..
            })
        ));
        let e = mi(&[("IMDS_ENDPOINT", "http://10.0.0.1")]).unwrap_err().to_string();
        assert!(e.contains("plain http"), "{e}");
        let mut bad = BASE.to_vec();
        bad.push(("HUNT_AUTH", "password"));
        let e = Settings::from_env(env(&bad)).unwrap_err().to_string();
        assert!(e.contains("\"password\" is not a way to sign in"), "{e}");
        // Chosen but missing: which variable, for which kind.
        let e = Settings::from_env(env(&[BASE[0], BASE[1], ("HUNT_AUTH", "secret")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("AZURE_CLIENT_SECRET is not set (--auth secret)"), "{e}");
    }

    #[test]
    fn missing_or_odd_variables_are_explained() {
        let e = Settings::from_env(env(&[])).unwrap_err().to_string();
        assert!(e.contains("AZURE_TENANT_ID is not set") && e.contains("--emulator"), "{e}");
        let e = Settings::from_env(env(&BASE[..2])).unwrap_err().to_string();
        assert!(e.contains("AZURE_CLIENT_SECRET"), "{e}");
        let mut pairs = BASE.to_vec();
        pairs[0] = ("AZURE_TENANT_ID", "../evil");
        let e = Settings::from_env(env(&pairs)).unwrap_err().to_string();
        assert!(e.contains("not a tenant id"), "{e}");
        let mut pairs = BASE[..2].to_vec();
        pairs.push(("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent.pem"));
        let e = Settings::from_env(env(&pairs)).unwrap_err().to_string();
        assert!(e.contains("/nonexistent.pem"), "{e}");
    }
}
