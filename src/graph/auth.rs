//! App-only authentication to Microsoft Graph: the OAuth 2.0 client-credentials grant with a
//! client secret or a certificate (a PS256-signed JWT client assertion), and a token cache that
//! renews shortly before expiry and on demand after a 401.
//!
//! Secrets live in [`Secret`], whose `Debug` and `Display` never show the value.

use super::error::EntraError;
use super::peer::Masks;
use super::retry::{Attempts, Decision, Jitter, Policy};
use crate::clock::Clock;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A secret string (client secret, access token). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How hunt proves who it is.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `AZURE_CLIENT_SECRET`.
    Secret(Secret),
    /// `AZURE_CLIENT_CERTIFICATE_PATH`: an RSA private key and its certificate in one PEM file.
    Certificate(Certificate),
    /// Workload identity federation: the JWT in this file (`AZURE_FEDERATED_TOKEN_FILE`) is the
    /// client assertion, read again for every token.
    FederatedToken(PathBuf),
    /// A managed identity (of `AZURE_CLIENT_ID` when user-assigned).
    ManagedIdentity {
        /// Where to ask.
        endpoint: super::identity::ManagedIdentityEndpoint,
        /// A user-assigned identity's client id.
        client_id: Option<String>,
    },
    /// The Azure CLI's signed-in account, through this program.
    AzureCli(String),
    /// A person's sign-in kept by `hunt login` (device code), in this file.
    CachedLogin(PathBuf),
}

impl Credential {
    /// Its kind, as `--auth` names it.
    pub fn kind(&self) -> AuthKind {
        match self {
            Credential::Secret(_) => AuthKind::Secret,
            Credential::Certificate(_) => AuthKind::Certificate,
            Credential::FederatedToken(_) => AuthKind::WorkloadIdentity,
            Credential::ManagedIdentity { .. } => AuthKind::ManagedIdentity,
            Credential::AzureCli(_) => AuthKind::AzureCli,
            Credential::CachedLogin(_) => AuthKind::DeviceCode,
        }
    }
}

/// A way of signing in, as `--auth` (or `HUNT_AUTH`, or `kind` under `[auth]` in hunt.toml, or
/// `auth` in a `[[tenant]]` table) chooses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// An app registration's client secret (`AZURE_CLIENT_SECRET`).
    Secret,
    /// An app registration's certificate (`AZURE_CLIENT_CERTIFICATE_PATH`).
    Certificate,
    /// Workload identity federation (`AZURE_FEDERATED_TOKEN_FILE`, AKS and GitHub OIDC).
    WorkloadIdentity,
    /// The platform's managed identity (App Service/Container Apps' `IDENTITY_ENDPOINT`, else
    /// the instance-metadata endpoint); only when chosen.
    ManagedIdentity,
    /// The person signed in with `az login`.
    AzureCli,
    /// The person signed in with `hunt login` (device code), kept in the state folder.
    DeviceCode,
}

impl AuthKind {
    /// Its name, as `--auth` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Secret => "secret",
            AuthKind::Certificate => "certificate",
            AuthKind::WorkloadIdentity => "workload-identity",
            AuthKind::ManagedIdentity => "managed-identity",
            AuthKind::AzureCli => "azure-cli",
            AuthKind::DeviceCode => "device-code",
        }
    }

    /// Whether a token of this kind acts for a person (delegated permissions, `scp`) rather
    /// than for an app (`roles`).
    pub fn is_delegated(self) -> bool {
        matches!(self, AuthKind::AzureCli | AuthKind::DeviceCode)
    }
}

/// An RSA key and the thumbprints of its certificate, ready to sign client assertions.
#[derive(Clone)]
pub struct Certificate {
    key: Arc<RsaKeyPair>,
    x5t_s256: String,
    x5t: String,
    path: PathBuf,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("path", &self.path)
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

impl Certificate {
    /// Reads a PEM file holding the private key (PKCS#8 or PKCS#1 RSA) and the certificate.
    pub fn from_pem_file(path: &Path) -> Result<Certificate, AuthError> {
        let pem = std::fs::read(path).map_err(|e| cert_error(path, format!("cannot read: {e}")))?;
        Certificate::from_pem(&pem, path)
    }

    /// Parses PEM text; `path` is only used in messages.
    pub fn from_pem(pem: &[u8], path: &Path) -> Result<Certificate, AuthError> {
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or_else(|| cert_error(path, "no CERTIFICATE block in the PEM file".into()))?
            .map_err(|e| cert_error(path, format!("unreadable CERTIFICATE block: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| cert_error(path, format!("no usable private key block: {e}")))?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(cert_error(
                    path,
                    "the private key must be RSA (PKCS#8 or PKCS#1)".into(),
                ));
            }
        }
        .map_err(|e| cert_error(path, format!("the private key is not a usable RSA key: {e}")))?;
        let sha256 = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
        Ok(Certificate {
            key: Arc::new(key),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256.as_ref()),
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            path: path.to_owned(),
        })
    }

    /// A signed client assertion for `audience` (the token endpoint URL), valid ten minutes
    /// from `now`.
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let now = now.timestamp();
        let header = serde_json::json!({
            "alg": "PS256", "typ": "JWT", "x5t#S256": self.x5t_s256, "x5t": self.x5t,
        });
        let claims = serde_json::json!({
            "aud": audience, "iss": client_id, "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "iat": now, "exp": now + 600,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PSS_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut sig)
            .map_err(|_| cert_error(&self.path, "signing the client assertion failed".into()))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// Whether a sign-in failure may pass if tried again.
fn cert_error(path: &Path, message: String) -> AuthError {
    AuthError::Certificate { path: path.to_owned(), message }
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint said no.
    #[error("sign-in refused by {url}: {error}")]
    Refused {
        /// Token endpoint.
        url: String,
        /// What it said.
        error: Box<EntraError>,
    },
    /// The token endpoint could not be reached or did not answer.
    #[error("cannot reach the token endpoint {url}: {message}")]
    Transport {
        /// Token endpoint.
        url: String,
        /// The transport error.
        message: String,
        /// The endpoint's TLS certificate was refused (not worth trying again).
        certificate: bool,
    },
    /// The token endpoint answered with a redirect, which hunt does not follow (the form holds
    /// the secret).
    #[error("sign-in refused: {message} ({url})")]
    Redirected {
        /// Token endpoint.
        url: String,
        /// Where it pointed.
        message: String,
    },
    /// The token endpoint answered 200 with something that is not a token.
    #[error("the token endpoint {url} answered without a usable token: {message}")]
    BadResponse {
        /// Token endpoint.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A token source other than the token endpoint failed (the Azure CLI, a managed-identity
    /// endpoint, a federated token file).
    #[error("sign-in with the {source_kind} failed: {message}")]
    Source {
        /// `Azure CLI`, `managed identity`, `workload identity`.
        source_kind: &'static str,
        /// What went wrong (never a token).
        message: String,
    },
    /// The certificate file could not be used.
    #[error("certificate {}: {message}", path.display())]
    Certificate {
        /// The PEM file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Where and as whom to sign in.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Authority host, e.g. `https://login.microsoftonline.com` (no trailing slash).
    pub authority_host: String,
    /// Tenant id (GUID) or domain.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// Secret or certificate.
    pub credential: Credential,
    /// `{graph root}/.default`.
    pub scope: String,
}

impl AuthConfig {
    /// The resource the scope names (`https://graph.microsoft.us` for `…us/.default`): what a
    /// managed-identity endpoint and the Azure CLI take instead of a scope.
    pub fn resource(&self) -> &str {
        self.scope.trim_end_matches("/.default")
    }

    /// The v2.0 token endpoint.
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.authority_host, self.tenant_id)
    }
}

/// The largest token-endpoint answer read: a token answer is a few KB, so anything beyond this is
/// not one (and must not become a gigabyte-long `Authorization` header).
pub const MAX_TOKEN_RESPONSE: usize = 64 << 10;

struct Cached {
    token: Secret,
    renew_at: Instant,
}

/// Hands out access tokens, fetching a new one when the cached one nears expiry.
pub struct TokenSource {
    http: reqwest::Client,
    config: AuthConfig,
    cache: Mutex<Option<Cached>>,
    /// The time of client assertions (renewal follows tokio's monotonic clock).
    clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
}

impl TokenSource {
    /// A token source using `http` for the token endpoint and `clock` for the time.
    pub fn new(http: reqwest::Client, config: AuthConfig, clock: Arc<dyn Clock>) -> TokenSource {
        TokenSource { http, config, cache: Mutex::new(None), clock }
    }

    /// The configuration in use.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// A valid access token: the cached one, or a new one.
    pub async fn token(&self) -> Result<Secret, AuthError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.renew_at
        {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = self.fetch_patiently().await?;
        // Renew a tenth of the lifetime early, at most five minutes early.
        let margin = (lifetime / 10).min(Duration::from_secs(300));
        *cache =
            Some(Cached { token: token.clone(), renew_at: Instant::now() + lifetime - margin });
        Ok(token)
    }

    /// Forgets `token` if it is the cached one (after the API refused it with 401).
    pub async fn invalidate(&self, token: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == token) {
            *cache = None;
        }
    }

    /// Fetches a token, retrying what may pass (unreachable endpoint, 5xx, 429, Entra's
    /// `temporarily_unavailable` and throttling codes) a few times with backoff; refusals of the
    /// credentials themselves are final at once.
    async fn fetch_patiently(&self) -> Result<(Secret, Duration), AuthError> {
        let (mut attempts, mut jitter) = (Attempts::default(), Jitter::from_entropy());
        loop {
            let e = match self.fetch().await {
                Err(e) => e,
                ok => return ok,
            };
            match Policy::SIGN_IN.decide(e.kind(), &mut attempts, &mut jitter) {
                Decision::Wait(pause) => {
                    tracing::warn!("sign-in failed ({e}); retrying in {pause:?}");
                    tokio::time::sleep(pause).await;
                }
                Decision::Split | Decision::Fail => return Err(e),
            }
        }
    }

    async fn fetch(&self) -> Result<(Secret, Duration), AuthError> {
        // The Graph root, as the resource of the sources that take one.
        let resource = self.config.resource();
        let now = self.clock.now().timestamp();
        match &self.config.credential {
            Credential::ManagedIdentity { endpoint, client_id } => {
                return super::identity::managed_identity_token(
                    &self.http,
                    endpoint,
                    resource,
                    client_id.as_deref(),
                    now,
                )
                .await;
            }
            Credential::CachedLogin(path) => {
                return super::login::refresh(
                    &self.http,
                    &self.config.authority_host,
                    &self.config.scope,
                    path,
                )
                .await;
            }
            Credential::AzureCli(program) => {
                return super::identity::azure_cli_token(
                    program,
                    resource,
                    &self.config.tenant_id,
                    now,
                )
                .await;
            }
            _ => {}
        }
        let url = self.config.token_url();
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", self.config.client_id.clone()),
            ("scope", self.config.scope.clone()),
        ];
        match &self.config.credential {
            Credential::Secret(s) => form.push(("client_secret", s.expose().to_owned())),
            Credential::Certificate(c) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push((
                    "client_assertion",
                    c.assertion(&self.config.client_id, &url, self.clock.now())?,
                ));
            }
            Credential::FederatedToken(path) => {
                // Read at every request: the platform rotates the file.
                let jwt = super::identity::read_federated_token(path)?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion", jwt.expose().to_owned()));
            }
            Credential::ManagedIdentity { .. }
            | Credential::AzureCli(_)
            | Credential::CachedLogin(_) => {}
        }
        let transport = |e: reqwest::Error| AuthError::Transport {
            url: url.clone(),
            message: super::describe_reqwest_error(&e),
            certificate: super::is_certificate_error(&e),
        };
        let mut resp = self.http.post(&url).form(&form).send().await.map_err(transport)?;
        // The endpoint may quote what was posted: mask the secret or the assertion.
        let masks = Masks::of(
            form.iter()
                .filter(|(k, _)| matches!(*k, "client_secret" | "client_assertion"))
                .map(|(_, v)| v.as_str()),
        );
        if let Some(message) = super::redirect_refused(&resp, "the token endpoint", &masks) {
            return Err(AuthError::Redirected { url, message });
        }
        let status = resp.status().as_u16();
        let bad = |message: String| AuthError::BadResponse { url: url.clone(), message };
        let mut body = Vec::new();
        let mut cut = false;
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
                cut = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        if status != 200 {
            // An error's first 64 KiB say what there is to say.
            return Err(AuthError::Refused {
                url,
                error: Box::new(EntraError::from_response(status, &body, &masks)),
            });
        }
        if cut {
            return Err(bad(format!(
                "the answer is larger than {} KiB, which no token is: refused unread",
                MAX_TOKEN_RESPONSE >> 10
            )));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| bad(format!("not JSON: {e}")))?;
        let token = parsed.access_token.filter(|t| !t.is_empty());
        let token = token.ok_or_else(|| bad("no access_token".into()))?;
        let lifetime = json_number(parsed.expires_in.as_ref())
            .filter(|s| usable(*s))
            .ok_or_else(|| bad("no usable expires_in".into()))?;
        Ok((Secret(token), token_lifetime(lifetime)))
    }
}

/// A number a token answer sends as a JSON number or as a string (`expires_in`, `expires_on`).
pub(super) fn json_number(v: Option<&serde_json::Value>) -> Option<f64> {
    match v {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether `seconds` can be a token's lifetime: finite and positive.
pub(super) fn usable(seconds: f64) -> bool {
    seconds.is_finite() && seconds > 0.0
}

/// A token's lifetime of `seconds`, at most a day (whatever an answer claims).
pub(super) fn token_lifetime(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.min(86_400.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::retry::Kind;

    const PEM: &str = include_str!("../../tests/fixtures/auth/test-only-client.pem");

    #[test]
    fn secret_is_never_shown() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        let c = Credential::Secret(s);
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn certificate_signs_a_verifiable_ps256_assertion() {
        let cert = Certificate::from_pem(PEM.as_bytes(), Path::new("test.pem")).unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap().to_utc();
        let jwt =
            cert.assertion("client-1", "https://login.example/t/oauth2/v2.0/token", now).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["x5t#S256"].as_str().unwrap().len(), 43);
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "https://login.example/t/oauth2/v2.0/token");
        assert!(claims["exp"].as_i64().unwrap() > claims["nbf"].as_i64().unwrap());
        assert_eq!(claims["nbf"], now.timestamp());
        assert_eq!(claims["exp"], now.timestamp() + 600);
        // The signature verifies against the certificate's public key.
        let der = CertificateDer::pem_slice_iter(PEM.as_bytes()).next().unwrap().unwrap();
        let ee = webpki::EndEntityCert::try_from(&der).unwrap();
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let msg = format!("{}.{}", parts[0], parts[1]);
        ee.verify_signature(
            webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            msg.as_bytes(),
            &sig,
        )
        .unwrap();
        assert!(
            ee.verify_signature(webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY, b"other", &sig)
                .is_err()
        );
    }

    #[test]
    fn only_passing_sign_in_failures_are_retried() {
        let refused = |status, error: &str, codes: Vec<i64>| AuthError::Refused {
            url: "u".into(),
            error: Box::new(EntraError {
                status,
                error: error.into(),
                description: String::new(),
                codes,
                trace_id: None,
                correlation_id: None,
            }),
        };
        let transient = |e: &AuthError| matches!(e.kind(), Kind::Transient { .. });
        assert!(transient(&refused(503, "", vec![])));
        assert!(transient(&refused(400, "temporarily_unavailable", vec![])));
        assert!(transient(&refused(400, "invalid_request", vec![90055])));
        assert!(!transient(&refused(401, "invalid_client", vec![7000215])));
        let transport = |certificate| AuthError::Transport {
            url: "u".into(),
            message: "m".into(),
            certificate,
        };
        assert!(transient(&transport(false)));
        assert!(!transient(&transport(true)));
    }

    #[test]
    fn bad_pem_files_say_what_is_wrong() {
        let p = Path::new("x.pem");
        let no_cert = PEM.split("-----BEGIN CERTIFICATE-----").next().unwrap();
        let e = Certificate::from_pem(no_cert.as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("no CERTIFICATE block"), "{e}");
        let cert_only = &PEM[PEM.find("-----BEGIN CERTIFICATE-----").unwrap()..];
        let e = Certificate::from_pem(cert_only.as_bytes(), p).unwrap_err().to_string();
        assert!(e.contains("private key"), "{e}");
        let e = Certificate::from_pem(b"garbage", p).unwrap_err().to_string();
        assert!(e.starts_with("certificate x.pem:"), "{e}");
        let e = Certificate::from_pem_file(Path::new("/nonexistent/x.pem")).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
