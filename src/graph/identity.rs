//! Sign-in without a client secret: the token sources beside the client-credentials grant.
//!
//! * **Workload identity federation** (AKS, GitHub Actions OIDC): the JWT in
//!   `AZURE_FEDERATED_TOKEN_FILE` is the client assertion, read again at every token request
//!   because the platform rotates it ([`read_federated_token`]).
//! * **Managed identity**: App Service, Container Apps and Functions' endpoint
//!   (`IDENTITY_ENDPOINT` with the `IDENTITY_HEADER` secret), else the instance-metadata endpoint
//!   of VMs and AKS nodes (`IMDS_ENDPOINT`, default `http://169.254.169.254`), asked with a short
//!   timeout so that a workstation without one fails fast rather than hangs
//!   ([`managed_identity_token`]).
//! * **Azure CLI**: the person signed in with `az login`, through
//!   `az account get-access-token --resource … --tenant …` ([`azure_cli_token`]).
//!
//! Tokens never leave these functions except as [`Secret`]s; errors never quote them.

use super::auth::{AuthError, Secret, json_number, token_lifetime, usable};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Which managed-identity endpoint, from the environment (read once, when the settings are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManagedIdentityEndpoint {
    /// App Service / Container Apps / Functions: `IDENTITY_ENDPOINT`, and the header secret.
    AppService {
        /// `IDENTITY_ENDPOINT`.
        endpoint: String,
        /// `IDENTITY_HEADER` (sent as `X-IDENTITY-HEADER`; a secret).
        header: Secret,
    },
    /// The instance-metadata service: `IMDS_ENDPOINT` or `http://169.254.169.254`.
    Imds {
        /// Its root.
        root: String,
    },
}

/// How long a managed-identity endpoint may take: the metadata address does not answer at all
/// off Azure, and that must be an error in seconds, not a hang.
pub const MANAGED_IDENTITY_TIMEOUT: Duration = Duration::from_secs(5);

/// The federated token (a JWT) in `path`, trimmed.
pub fn read_federated_token(path: &Path) -> Result<Secret, AuthError> {
    let text = std::fs::read_to_string(path).map_err(|e| AuthError::Source {
        source_kind: "workload identity",
        message: format!("cannot read AZURE_FEDERATED_TOKEN_FILE {}: {e}", path.display()),
    })?;
    let token = text.trim();
    if token.split('.').count() != 3 {
        return Err(AuthError::Source {
            source_kind: "workload identity",
            message: format!(
                "AZURE_FEDERATED_TOKEN_FILE {} does not hold a JWT (three dot-separated parts)",
                path.display()
            ),
        });
    }
    Ok(Secret::new(token))
}

#[derive(Deserialize)]
struct MiResponse {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    expires_on: Option<serde_json::Value>,
}

/// A token for `resource` (the Graph root) from the managed identity at `endpoint`, of the
/// user-assigned identity `client_id` when given; its lifetime from `expires_in`, else from
/// `expires_on` (epoch seconds) and `now_epoch`.
pub async fn managed_identity_token(
    http: &reqwest::Client,
    endpoint: &ManagedIdentityEndpoint,
    resource: &str,
    client_id: Option<&str>,
    now_epoch: i64,
) -> Result<(Secret, Duration), AuthError> {
    let fail = |message: String| AuthError::Source { source_kind: "managed identity", message };
    let mut query: Vec<(&str, &str)> = vec![("resource", resource)];
    if let Some(id) = client_id {
        query.push(("client_id", id));
    }
    let with_query = |base: &str, query: &[(&str, &str)]| {
        reqwest::Url::parse_with_params(base, query)
            .map_err(|e| fail(format!("the managed-identity endpoint {base} is not a URL: {e}")))
    };
    let (url, request) = match endpoint {
        ManagedIdentityEndpoint::AppService { endpoint, header } => {
            query.push(("api-version", "2019-08-01"));
            let full = with_query(endpoint, &query)?;
            let r = http.get(full).header("X-IDENTITY-HEADER", header.expose());
            (endpoint.clone(), r)
        }
        ManagedIdentityEndpoint::Imds { root } => {
            query.push(("api-version", "2018-02-01"));
            let url = format!("{root}/metadata/identity/oauth2/token");
            let r = http.get(with_query(&url, &query)?).header("Metadata", "true");
            (url, r)
        }
    };
    let resp = request.timeout(MANAGED_IDENTITY_TIMEOUT).send().await.map_err(|e| {
        fail(format!(
            "the managed-identity endpoint {url} did not answer ({}): is hunt running on Azure \
             with a managed identity assigned?",
            super::describe_reqwest_error(&e)
        ))
    })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|e| fail(format!("{url}: {e}")))?;
    if body.len() > super::auth::MAX_TOKEN_RESPONSE {
        return Err(fail(format!("{url}: the answer is too large to be a token")));
    }
    if !status.is_success() {
        // The endpoint's own words (they name the identity problem), never a token.
        let text = String::from_utf8_lossy(&body);
        let text: String = text.chars().take(300).collect();
        return Err(fail(format!("{url} answered HTTP {}: {text}", status.as_u16())));
    }
    let parsed: MiResponse = serde_json::from_slice(&body)
        .map_err(|e| fail(format!("{url} answered something that is not a token: {e}")))?;
    let token = parsed.access_token.filter(|t| !t.is_empty());
    let token = token.ok_or_else(|| fail(format!("{url} answered without an access_token")))?;
    let lifetime = json_number(parsed.expires_in.as_ref())
        .or_else(|| json_number(parsed.expires_on.as_ref()).map(|on| on - now_epoch as f64))
        .filter(|s| usable(*s))
        .ok_or_else(|| fail(format!("{url} answered without a usable expiry")))?;
    Ok((Secret::new(token), token_lifetime(lifetime)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliToken {
    access_token: Option<String>,
    /// Epoch seconds (newer CLIs).
    #[serde(rename = "expires_on")]
    expires_on_epoch: Option<serde_json::Value>,
}

/// The program `hunt` runs as the Azure CLI: `HUNT_AZ` when set (tests), else `az`.
pub fn az_program(var: &dyn Fn(&str) -> Option<String>) -> String {
    var("HUNT_AZ").filter(|p| !p.is_empty()).unwrap_or_else(|| "az".to_owned())
}

/// The first line of the Azure CLI's complaint on stderr, trimmed.
fn first_complaint(stderr: &[u8]) -> String {
    let err = String::from_utf8_lossy(stderr);
    err.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_owned()
}

/// A token for `resource` of `tenant` from the Azure CLI's signed-in account.
pub async fn azure_cli_token(
    program: &str,
    resource: &str,
    tenant: &str,
    now_epoch: i64,
) -> Result<(Secret, Duration), AuthError> {
    let fail = |message: String| AuthError::Source { source_kind: "Azure CLI", message };
    let (program_owned, resource, tenant) =
        (program.to_owned(), resource.to_owned(), tenant.to_owned());
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&program_owned)
            .args(["account", "get-access-token", "--resource", &resource, "--tenant", &tenant])
            .args(["--output", "json"])
            .stdin(std::process::Stdio::null())
            .output()
    });
    let out =
        run.await.map_err(|e| fail(format!("cannot run `{program}`: {e}")))?.map_err(|e| {
            fail(format!(
                "cannot run `{program}` ({e}): install the Azure CLI, or choose another --auth"
            ))
        })?;
    if !out.status.success() {
        let first = first_complaint(&out.stderr);
        let says_login = String::from_utf8_lossy(&out.stderr).contains("az login");
        let hint = if says_login { "" } else { " (run `az login`)" };
        return Err(fail(format!("`az account get-access-token` failed: {first}{hint}")));
    }
    let parsed: CliToken = serde_json::from_slice(&out.stdout)
        .map_err(|e| fail(format!("`az account get-access-token` printed no token: {e}")))?;
    let token = parsed.access_token.filter(|t| !t.is_empty());
    let token =
        token.ok_or_else(|| fail("`az account get-access-token` printed no accessToken".into()))?;
    let lifetime = json_number(parsed.expires_on_epoch.as_ref())
        .map(|on| on - now_epoch as f64)
        .filter(|s| usable(*s))
        // Older CLIs print only a local-time `expiresOn`: take the Entra minimum, five minutes.
        .unwrap_or(300.0);
    Ok((Secret::new(token), token_lifetime(lifetime)))
}

/// The tenant the Azure CLI (`program`) is signed in to (`az account show`), for when
/// AZURE_TENANT_ID is not set.
pub fn azure_cli_tenant(program: &str) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .args(["account", "show", "--output", "json"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{program}` ({e})"))?;
    if !out.status.success() {
        let first = first_complaint(&out.stderr);
        return Err(format!("`az account show` failed: {first} (run `az login`)"));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("`az account show` printed no account: {e}"))?;
    v["tenantId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "`az account show` printed no tenantId".to_owned())
}
