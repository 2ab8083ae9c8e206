//! The emulator's sign-in without a client secret: federated tokens (workload identity) at the
//! token endpoint, checked as Entra checks them (issuer trusted for the app, audience
//! `api://AzureADTokenExchange`, not expired; the emulator does not hold the issuer's signing
//! keys, so the signature is not checked), and the two managed-identity endpoints: the instance
//! metadata service's `GET /metadata/identity/oauth2/token` (`Metadata: true`) and App Service's
//! `GET /msi/token` (`X-IDENTITY-HEADER`), both issuing tokens of the default tenant.

use super::server::{Shared, entra_error, mint};
use axum::Json;
use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// The audience of federated tokens exchanged with Entra.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

fn claims(jwt: &str) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let (h, c) = (parts.next()?, parts.next()?);
    let decode = |p: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    };
    Some((decode(h)?, decode(c)?))
}

/// Whether a client assertion is a federated token (no certificate thumbprint in its header),
/// not one hunt signed with a certificate.
pub(super) fn is_federated(jwt: &str) -> bool {
    claims(jwt).is_some_and(|(h, _)| h.get("x5t#S256").is_none() && h.get("x5t").is_none())
}

/// Checks a federated token's issuer, audience and expiry at `now`, and counts it.
pub(super) fn verify_federated(
    state: &Shared,
    jwt: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let (_, c) = claims(jwt).ok_or("Malformed JWT.")?;
    let issuer = &state.config.federated_issuer;
    if c["iss"].as_str() != Some(issuer.as_str()) {
        return Err(format!(
            "No matching federated identity record found for presented assertion issuer '{}'.",
            c["iss"].as_str().unwrap_or("")
        ));
    }
    if c["aud"].as_str() != Some(FEDERATED_AUDIENCE) {
        return Err(format!(
            "No matching federated identity record found for presented assertion audience '{}'.",
            c["aud"].as_str().unwrap_or("")
        ));
    }
    if c["exp"].as_i64().is_none_or(|exp| exp <= now.timestamp()) {
        return Err("The presented assertion is expired.".into());
    }
    if let Ok(mut seen) = state.federated.lock() {
        seen.0 += 1;
        seen.1.insert(jwt.to_owned());
    }
    Ok(())
}

fn mi_error(status: StatusCode, error: &str, text: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": text }))).into_response()
}

/// A token answer of a managed-identity endpoint for the query's `resource` (numbers as
/// strings, as Azure sends them), or the refusal of a query without one.
fn mi_token(state: &Shared, q: &HashMap<String, String>) -> Response {
    let Some(resource) = q.get("resource").filter(|r| !r.is_empty()) else {
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        );
    };
    let (access, secs) = mint(state, 0, false, resource);
    state.managed_identity_tokens.fetch_add(1, Ordering::Relaxed);
    let on = crate::clock::Clock::now(&state.clock).timestamp() + secs as i64;
    Json(json!({
        "access_token": access,
        "expires_in": secs.to_string(),
        "expires_on": on.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
    .into_response()
}

/// `GET /metadata/identity/oauth2/token?api-version=…&resource=…` with `Metadata: true`.
pub(super) async fn imds_token(
    AxState(state): AxState<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if headers.get("Metadata").and_then(|v| v.to_str().ok()) != Some("true") {
        return mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    mi_token(&state, &q)
}

/// `GET /msi/token?api-version=2019-08-01&resource=…` with `X-IDENTITY-HEADER`.
pub(super) async fn app_service_token(
    AxState(state): AxState<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let header = headers.get("X-IDENTITY-HEADER").and_then(|v| v.to_str().ok());
    if header != Some(state.config.identity_header.as_str()) {
        return mi_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The X-IDENTITY-HEADER is missing or wrong",
        );
    }
    mi_token(&state, &q)
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`: a device code whose polls follow `device_flow`.
pub(super) async fn device_code(
    AxState(state): AxState<Shared>,
    axum::extract::Path(tenant): axum::extract::Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let now = crate::clock::Clock::now(&state.clock);
    let Some(account) = state.accounts.iter().find(|a| a.tenant.tenant_id == tenant) else {
        return entra_error(
            now,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            "Tenant not found.",
        );
    };
    if form.get("client_id").map(String::as_str) != Some(account.tenant.client_id.as_str()) {
        let text = "Application not found in the directory.";
        return entra_error(now, StatusCode::BAD_REQUEST, "unauthorized_client", 700016, text);
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let user_code = code[..8].to_ascii_uppercase();
    if let Ok(mut codes) = state.device_codes.lock() {
        codes.insert(code.clone(), state.config.device_flow.iter().cloned().collect());
    }
    let uri = format!("{}/devicelogin", state.base_url());
    Json(json!({
        "device_code": code,
        "user_code": user_code,
        "verification_uri": uri,
        "expires_in": 900,
        "interval": 1,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
    .into_response()
}

/// The device-code grant: the next step of the code's script.
pub(super) fn device_code_grant(state: &Shared, index: usize, device_code: &str) -> Response {
    let now = crate::clock::Clock::now(&state.clock);
    let step = state
        .device_codes
        .lock()
        .ok()
        .and_then(|mut codes| codes.get_mut(device_code).map(|s| s.pop_front()));
    let error = |code: &str, aadsts: u32, text: &str| {
        entra_error(now, StatusCode::BAD_REQUEST, code, aadsts, text)
    };
    match step.as_ref().map(|s| s.as_deref()) {
        None => error("invalid_grant", 70000, "The provided device code is not valid."),
        Some(Some("ok")) => tokens_for_person(state, index, &state.base_url()),
        Some(Some("authorization_pending")) => error(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        ),
        Some(Some("slow_down")) => error("slow_down", 70016, "Polling too often: slow down."),
        Some(Some("authorization_declined")) => {
            error("authorization_declined", 70015, "The user declined the sign-in.")
        }
        // The script ran out, or says so: the code expired.
        _ => error("expired_token", 70020, "This device code has expired."),
    }
}

/// A person's access token and a new refresh token.
fn tokens_for_person(state: &Shared, index: usize, audience: &str) -> Response {
    let (access, secs) = mint(state, index, true, audience);
    let refresh = format!("emurt.{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut tokens) = state.refresh_tokens.lock() {
        tokens.insert(refresh.clone(), index);
    }
    Json(json!({
        "token_type": "Bearer", "expires_in": secs, "access_token": access,
        "refresh_token": refresh, "scope": state.config.roles.join(" "),
    }))
    .into_response()
}

/// The refresh-token grant: a used refresh token is spent (rotated), as Entra may do.
pub(super) fn refresh_grant(
    state: &Shared,
    index: usize,
    refresh: &str,
    audience: &str,
) -> Response {
    let known = state.refresh_tokens.lock().ok().and_then(|mut t| t.remove(refresh));
    match known {
        Some(i) if i == index => tokens_for_person(state, index, audience),
        _ => entra_error(
            crate::clock::Clock::now(&state.clock),
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            700082,
            "The refresh token has expired or was revoked. Sign in again with `hunt login`.",
        ),
    }
}
