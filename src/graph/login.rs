//! A person's sign-in with the device-code flow (`hunt login`), kept for later runs.
//!
//! `hunt login` asks Entra for a device code, prints where to enter it, polls the token
//! endpoint (`authorization_pending`: keep polling; `slow_down`: five seconds more between
//! polls; `expired_token`, `authorization_declined`: stop and say so), and keeps the refresh
//! token in the state folder (`login-<tenant>.json`, created mode 0600, never printed). Later runs
//! exchange it for access tokens ([`refresh`]), keeping the rotated refresh token Entra returns;
//! `hunt logout` removes the file.

use super::auth::{AuthError, Secret};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What `hunt login` keeps.
#[derive(Serialize, Deserialize)]
pub struct CachedLogin {
    /// The tenant signed in to.
    pub tenant_id: String,
    /// The public client app used.
    pub client_id: String,
    /// The person, as the token named them.
    pub user: Option<String>,
    /// The refresh token (a secret).
    refresh_token: String,
}

impl std::fmt::Debug for CachedLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedLogin")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The cache file of `tenant_id` in `state_dir`.
pub fn cache_path(state_dir: &Path, tenant_id: &str) -> PathBuf {
    state_dir.join(format!("login-{}.json", crate::query::slug(&tenant_id.to_ascii_lowercase())))
}

/// Reads a cached login.
pub fn read(path: &Path) -> Result<CachedLogin, AuthError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(format!("cannot read the cached sign-in {}: {e} (run `hunt login`)", path.display()))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        fail(format!("the cached sign-in {} is damaged ({e}): run `hunt login`", path.display()))
    })
}

fn fail(message: String) -> AuthError {
    AuthError::Source { source_kind: "cached sign-in (hunt login)", message }
}

fn write(path: &Path, login: &CachedLogin) -> Result<(), AuthError> {
    let text = serde_json::to_vec_pretty(login).map_err(|e| fail(e.to_string()))?;
    crate::fsutil::write_atomic_private(path, &text)
        .map_err(|e| fail(format!("cannot keep the sign-in in {}: {e}", path.display())))
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    error: Option<String>,
    error_description: Option<String>,
}

/// An answer's lifetime: its `expires_in`, else the Entra minimum of five minutes.
fn lifetime(v: &Option<serde_json::Value>) -> Duration {
    let secs = super::auth::json_number(v.as_ref()).filter(|s| super::auth::usable(*s));
    super::auth::token_lifetime(secs.unwrap_or(300.0))
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<TokenAnswer, AuthError> {
    let resp = http.post(url).form(form).send().await.map_err(|e| AuthError::Transport {
        url: url.to_owned(),
        message: super::describe_reqwest_error(&e),
        certificate: super::is_certificate_error(&e),
    })?;
    if resp.status().is_redirection() {
        return Err(fail(format!("{url} answered with a redirect, which hunt does not follow")));
    }
    let body = resp.bytes().await.map_err(|e| fail(format!("{url}: {e}")))?;
    if body.len() > super::auth::MAX_TOKEN_RESPONSE {
        return Err(fail(format!("{url}: the answer is too large to be a token")));
    }
    serde_json::from_slice(&body)
        .map_err(|e| fail(format!("{url} answered something else than JSON: {e}")))
}

/// An access token from the cached login at `path`, keeping the refresh token Entra rotates.
pub async fn refresh(
    http: &reqwest::Client,
    authority_host: &str,
    scope: &str,
    path: &Path,
) -> Result<(Secret, Duration), AuthError> {
    let mut login = read(path)?;
    let url = format!("{authority_host}/{}/oauth2/v2.0/token", login.tenant_id);
    let scope = format!("{scope} offline_access");
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", login.client_id.as_str()),
        ("refresh_token", login.refresh_token.as_str()),
        ("scope", scope.as_str()),
    ];
    let answer = post(http, &url, &form).await?;
    let Some(token) = answer.access_token.filter(|t| !t.is_empty()) else {
        let why = answer.error_description.or(answer.error).unwrap_or_default();
        let first = why.lines().next().unwrap_or("").to_owned();
        return Err(fail(format!(
            "the cached sign-in no longer works ({first}): run `hunt login` again"
        )));
    };
    if let Some(rotated) = answer.refresh_token.filter(|t| !t.is_empty()) {
        login.refresh_token = rotated;
        write(path, &login)?;
    }
    Ok((Secret::new(token), lifetime(&answer.expires_in)))
}

#[derive(Deserialize)]
struct DeviceCode {
    device_code: String,
    message: Option<String>,
    verification_uri: Option<String>,
    user_code: Option<String>,
    interval: Option<u64>,
    expires_in: Option<u64>,
}

/// Signs a person in with the device-code flow and keeps the result at `path`; `tell` shows
/// the instructions (where to go, which code). Returns the person's name when the token says.
pub async fn device_code_login(
    http: &reqwest::Client,
    authority_host: &str,
    tenant_id: &str,
    client_id: &str,
    scope: &str,
    path: &Path,
    tell: impl Fn(&str),
) -> Result<Option<String>, AuthError> {
    let scope = format!("{scope} offline_access");
    let code_url = format!("{authority_host}/{tenant_id}/oauth2/v2.0/devicecode");
    let resp = http
        .post(&code_url)
        .form(&[("client_id", client_id), ("scope", scope.as_str())])
        .send()
        .await
        .map_err(|e| fail(format!("{code_url}: {}", super::describe_reqwest_error(&e))))?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| fail(format!("{code_url}: {e}")))?;
    if !status.is_success() {
        let e =
            super::error::EntraError::from_response(status.as_u16(), &body, &Default::default());
        return Err(AuthError::Refused { url: code_url, error: Box::new(e) });
    }
    let code: DeviceCode = serde_json::from_slice(&body)
        .map_err(|e| fail(format!("{code_url} answered without a device code: {e}")))?;
    tell(&code.message.clone().unwrap_or_else(|| {
        format!(
            "To sign in, open {} and enter the code {}",
            code.verification_uri.as_deref().unwrap_or("https://microsoft.com/devicelogin"),
            code.user_code.as_deref().unwrap_or("?")
        )
    }));
    let token_url = format!("{authority_host}/{tenant_id}/oauth2/v2.0/token");
    let mut interval = Duration::from_secs(code.interval.unwrap_or(5).clamp(1, 60));
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(code.expires_in.unwrap_or(900));
    loop {
        tokio::time::sleep(interval).await;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id),
            ("device_code", code.device_code.as_str()),
        ];
        let answer = post(http, &token_url, &form).await?;
        if let (Some(access), Some(refresh)) = (answer.access_token, answer.refresh_token) {
            let user = super::claims::TokenFacts::read(&access).and_then(|f| f.user);
            let login = CachedLogin {
                tenant_id: tenant_id.to_owned(),
                client_id: client_id.to_owned(),
                user: user.clone(),
                refresh_token: refresh,
            };
            write(path, &login)?;
            return Ok(user);
        }
        match answer.error.as_deref() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            Some("expired_token") => {
                return Err(fail("the device code expired before the sign-in was completed: run `hunt login` again".into()));
            }
            Some("authorization_declined") => {
                return Err(fail("the sign-in was declined in the browser".into()));
            }
            other => {
                let why = answer.error_description.unwrap_or_default();
                let first = why.lines().next().unwrap_or("");
                return Err(fail(format!("sign-in failed: {} {first}", other.unwrap_or("?"))));
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(fail(
                "the device code expired before the sign-in was completed: run `hunt login` again"
                    .into(),
            ));
        }
    }
}
