//! The emulator's sign-in without a client secret: federated tokens (workload identity) at the
//! token endpoint, checked as Entra checks them (issuer trusted for the app, audience
//! `api://AzureADTokenExchange`, not expired; the emulator does not hold the issuer's signing
//! keys, so the signature is not checked), and the two managed-identity endpoints: the instance
//! metadata service's `GET /metadata/identity/oauth2/token` (`Metadata: true`) and App Service's
//! `GET /msi/token` (`X-IDENTITY-HEADER`), both issuing tokens of the default tenant.

use super::server::{Shared, mint};
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

/// A token answer of a managed-identity endpoint (numbers as strings, as Azure sends them).
fn mi_token(state: &Shared, resource: &str) -> Response {
    let (access, secs) = mint(state, 0);
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
    match q.get("resource").filter(|r| !r.is_empty()) {
        Some(r) => mi_token(&state, r),
        None => mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        ),
    }
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
    match q.get("resource").filter(|r| !r.is_empty()) {
        Some(r) => mi_token(&state, r),
        None => mi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        ),
    }
}
