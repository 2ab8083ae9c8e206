//! The emulator's HTTP side: the token endpoint (`POST /{tenant}/oauth2/v2.0/token`, secret or
//! certificate assertion), `POST /{v1.0|beta}/security/runHuntingQuery`, and
//! `GET /_emulator/stats`. Errors use the same envelopes as the real services.

use super::answer::{Job, Measured};
use super::kql::Context;
use super::{EmulatorConfig, Fault, State};
use crate::clock::{Clock, TokioClock};
use crate::quota::Limits;
use crate::timespan::Window;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

pub(super) type Shared = Arc<State>;

/// The emulator's routes.
pub(super) fn router(state: Shared) -> axum::Router {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(super::identity::device_code))
        .route("/metadata/identity/oauth2/token", get(super::identity::imds_token))
        .route("/msi/token", get(super::identity::app_service_token))
        .route("/{version}/security/runHuntingQuery", post(run_hunting_query))
        .route("/{version}/security/incidents", get(super::listing::list_incidents))
        .route("/{version}/security/incidents/{id}", get(super::listing::get_incident))
        .route("/{version}/security/alerts_v2", get(super::listing::list_alerts))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/faults", post(push_faults))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(AxState(state): AxState<Shared>) -> Response {
    graph_error(
        state.clock.now(),
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        "Resource not found for the segment.",
        None,
    )
}

async fn stats(AxState(state): AxState<Shared>) -> Json<super::Stats> {
    Json(state.stats())
}

/// Entra's error envelope, stamped `now`.
pub(super) fn entra_error(
    now: DateTime<Utc>,
    status: StatusCode,
    error: &str,
    code: u32,
    text: &str,
) -> Response {
    let trace = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\nTimestamp: {}", now.format("%Y-%m-%d %H:%M:%SZ")),
        "error_codes": [code],
        "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        "trace_id": trace,
        "correlation_id": trace,
    });
    (status, Json(body)).into_response()
}

async fn token(
    AxState(state): AxState<Shared>,
    Path(tenant): Path<String>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let cfg = &state.config;
    let now = state.clock.now();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let Some(index) = state.accounts.iter().position(|a| a.tenant.tenant_id == tenant) else {
        return entra_error(
            now,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    };
    let account = &state.accounts[index].tenant;
    match field("grant_type") {
        "urn:ietf:params:oauth:grant-type:device_code" => {
            return super::identity::device_code_grant(&state, index, field("device_code"));
        }
        "refresh_token" => {
            let audience = audience_of(&state, field("scope"));
            return super::identity::refresh_grant(
                &state,
                index,
                field("refresh_token"),
                &audience,
            );
        }
        _ => {}
    }
    if field("grant_type") != "client_credentials" {
        return entra_error(
            now,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if field("client_id") != account.client_id {
        return entra_error(
            now,
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{}' was not found in the directory '{tenant}'.",
                field("client_id")
            ),
        );
    }
    if !field("scope").ends_with("/.default") {
        return entra_error(
            now,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid.",
        );
    }
    let secret = field("client_secret");
    let assertion = field("client_assertion");
    if !secret.is_empty() {
        if secret != account.client_secret {
            return entra_error(
                now,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
            );
        }
    } else if !assertion.is_empty() && super::identity::is_federated(assertion) {
        if let Err(why) = super::identity::verify_federated(&state, assertion, now) {
            return entra_error(now, StatusCode::UNAUTHORIZED, "invalid_client", 700211, &why);
        }
    } else if !assertion.is_empty() {
        let audience = format!("{}/{tenant}/oauth2/v2.0/token", state.base_url());
        if let Err(why) = verify_assertion(cfg, &account.client_id, assertion, &audience, now) {
            return entra_error(
                now,
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                &format!("Client assertion failed signature validation. {why}"),
            );
        }
    } else {
        return entra_error(
            now,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let (access, secs) = mint(&state, index, false, &audience_of(&state, field("scope")));
    Json(json!({ "token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": access })).into_response()
}

/// Whether a token's audience is a resource other than Graph (storage): Graph refuses those.
/// (Graph's own root varies with how a test reaches the emulator: through a TLS front or a
/// proxy, so anything else counts as Graph.)
fn other_resource(audience: &str) -> bool {
    audience.trim_end_matches('/') == "https://storage.azure.com"
}

/// The resource a token request's `scope` names (`https://storage.azure.com/.default` asks for
/// storage): the first `…/.default` scope without that suffix, else the emulator's Graph root.
pub(super) fn audience_of(state: &Shared, scope: &str) -> String {
    scope
        .split_whitespace()
        .find_map(|s| s.strip_suffix("/.default"))
        .map_or_else(|| state.base_url(), str::to_owned)
}

/// A new access token for the tenant at `index` and the resource `audience`, and its lifetime
/// in seconds. `delegated`: a person's token (`upn`, `scp`) rather than an app's (`roles`).
pub(super) fn mint(state: &Shared, index: usize, delegated: bool, audience: &str) -> (String, u64) {
    let cfg = &state.config;
    // Shaped like Entra's: a JWT whose claims say the tenant, the app, the expiry and the
    // permissions granted (`roles`), and whose signature part is `emu` and 32 hex digits.
    let account = &state.accounts[index].tenant;
    let secs = cfg.token_lifetime.as_secs_f64().round() as u64;
    let exp = state.clock.now().timestamp() + secs as i64;
    let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let access = format!(
        "{}.{}.emu{}",
        enc(json!({ "typ": "JWT", "alg": "none" })),
        enc(if delegated {
            json!({
                "aud": audience, "iss": format!("https://sts.windows.net/{}/", account.tenant_id),
                "tid": account.tenant_id, "appid": account.client_id, "exp": exp,
                "upn": "hunter@contoso.com", "scp": cfg.roles.join(" "),
            })
        } else {
            json!({
                "aud": audience, "iss": format!("https://sts.windows.net/{}/", account.tenant_id),
                "tid": account.tenant_id, "appid": account.client_id, "exp": exp, "roles": cfg.roles,
            })
        }),
        uuid::Uuid::new_v4().simple()
    );
    let expiry = Instant::now() + cfg.actual_token_lifetime.unwrap_or(cfg.token_lifetime);
    if let Ok(mut tokens) = state.tokens.lock() {
        tokens.insert(access.clone(), (expiry, index, audience.to_owned()));
    }
    state.tokens_issued.fetch_add(1, Ordering::Relaxed);
    (access, secs)
}

/// Checks a client assertion the way Entra does at `now`: structure, claims, and the signature
/// against the registered certificate.
fn verify_assertion(
    cfg: &EmulatorConfig,
    client_id: &str,
    jwt: &str,
    audience: &str,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let cert = cfg.client_cert_der.as_ref().ok_or("No certificate is registered for this app.")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts[..] else {
        return Err("Malformed JWT.".into());
    };
    let decode = |p: &str| -> Result<Value, String> {
        let raw = URL_SAFE_NO_PAD.decode(p).map_err(|_| "Malformed JWT segment.".to_string())?;
        serde_json::from_slice(&raw).map_err(|_| "Malformed JWT segment.".to_string())
    };
    let (header, claims) = (decode(h)?, decode(c)?);
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| "Malformed signature.")?;
    let alg = match header["alg"].as_str() {
        Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        other => return Err(format!("Unsupported alg {other:?}.")),
    };
    let thumb = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, cert).as_ref());
    if header["x5t#S256"].as_str() != Some(thumb.as_str()) {
        return Err("The certificate thumbprint (x5t#S256) does not match a registered key.".into());
    }
    let now = now.timestamp();
    if claims["aud"].as_str() != Some(audience) {
        return Err(format!("The audience must be {audience}."));
    }
    if claims["iss"].as_str() != Some(client_id) || claims["sub"] != claims["iss"] {
        return Err("iss and sub must be the client id.".into());
    }
    let (nbf, exp) =
        (claims["nbf"].as_i64().unwrap_or(i64::MAX), claims["exp"].as_i64().unwrap_or(0));
    if nbf > now + 300 || exp < now {
        return Err("The assertion is expired or not yet valid.".into());
    }
    let der = rustls_pki_types::CertificateDer::from(cert.as_slice());
    let ee =
        webpki::EndEntityCert::try_from(&der).map_err(|e| format!("Bad certificate: {e:?}."))?;
    ee.verify_signature(alg, format!("{h}.{c}").as_bytes(), &sig)
        .map_err(|_| "The signature does not verify.".to_string())
}

/// Graph's error envelope, its `innerError.date` `now`.
pub(super) fn graph_error(
    now: DateTime<Utc>,
    status: StatusCode,
    code: &str,
    message: &str,
    client_request_id: Option<&str>,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut inner =
        json!({ "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(), "request-id": request_id });
    if let Some(c) = client_request_id {
        inner["client-request-id"] = json!(c);
    }
    let body = json!({ "error": { "code": code, "message": message, "innerError": inner } });
    let mut resp = (status, Json(body)).into_response();
    set_ids(resp.headers_mut(), &request_id, client_request_id);
    resp
}

pub(super) fn set_ids(h: &mut HeaderMap, request_id: &str, client_request_id: Option<&str>) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("request-id", v);
    }
    if let Some(v) = client_request_id.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert("client-request-id", v);
    }
}

async fn run_hunting_query(
    AxState(state): AxState<Shared>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived_ms = state.clock.now_ms();
    let (account, resp) = hunting_call(&state, &version, &headers, &body).await;
    let record = super::CallRecord {
        arrived_ms,
        answered_ms: state.clock.now_ms(),
        status: resp.status().as_u16(),
    };
    if let Ok(mut log) = state.log.lock() {
        log.push(record);
    }
    if let Some(Ok(mut log)) = account.map(|a| state.accounts[a].log.lock()) {
        log.push(record);
    }
    resp
}

/// The caller's `client-request-id`, echoed back.
pub(super) fn client_request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("client-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Checks the API version segment and the bearer token: the error response if they fail.
pub(super) fn refusal(
    state: &Shared,
    version: &str,
    headers: &HeaderMap,
    crid: Option<&str>,
) -> Option<Response> {
    authorize(state, version, headers, crid).err().map(|r| *r)
}

/// Checks the API version segment and the bearer token: the account the token was issued to,
/// or the error response.
fn authorize(
    state: &Shared,
    version: &str,
    headers: &HeaderMap,
    crid: Option<&str>,
) -> Result<usize, Box<Response>> {
    if version != "v1.0" && version != "beta" {
        let message = format!("Invalid version: {version}");
        return Err(Box::new(graph_error(
            state.clock.now(),
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &message,
            crid,
        )));
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = bearer.and_then(|t| state.tokens.lock().ok()?.get(t).cloned());
    match token {
        Some((expiry, account, aud)) if Instant::now() < expiry && !other_resource(&aud) => {
            Ok(account)
        }
        _ => {
            state.unauthorized.fetch_add(1, Ordering::Relaxed);
            let message = match token {
                // A token for another resource (storage, say), as Graph says of it.
                Some((_, _, aud)) if other_resource(&aud) => {
                    "Access token validation failure. Invalid audience."
                }
                _ => "Access token has expired or is not yet valid.",
            };
            let resp = graph_error(
                state.clock.now(),
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
                crid,
            );
            Err(Box::new(resp))
        }
    }
}

/// One hunting call: the account it was charged to (if its token was good) and the answer.
async fn hunting_call(
    state: &Shared,
    version: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> (Option<usize>, Response) {
    state.hunting_calls.fetch_add(1, Ordering::Relaxed);
    let crid = client_request_id(headers);
    let crid = crid.as_deref();
    let index = match authorize(state, version, headers, crid) {
        Ok(i) => i,
        Err(resp) => return (None, *resp),
    };
    // As Graph: a token without the permission is refused with 403.
    if !state.config.roles.iter().any(|r| r == "ThreatHunting.Read.All") {
        let message = "Insufficient privileges to complete the operation.";
        let resp =
            graph_error(state.clock.now(), StatusCode::FORBIDDEN, "Forbidden", message, crid);
        return (Some(index), resp);
    }
    let account = &state.accounts[index];
    let limits = account.tenant.limits.clone();
    let admitted = match &limits {
        Some(l) => match account.quota.lock().map(|mut q| q.admit(state.clock.now_ms(), l)) {
            Ok(Ok(id)) => Some(id),
            Ok(Err(refusal)) => {
                state.throttled.fetch_add(1, Ordering::Relaxed);
                return (
                    Some(index),
                    throttle(state.clock.now(), &refusal.message, Some(refusal.retry_after), crid),
                );
            }
            Err(_) => None,
        },
        None => None,
    };
    // Ends the call in the quota judge even if the client goes away mid-answer.
    let _running = admitted.map(|id| RunningCall { account, id, clock: &state.clock });
    (Some(index), answer(state, limits.as_ref(), account.seed, body, crid).await)
}

/// A call the quota judge counts as running until this is dropped.
struct RunningCall<'a> {
    account: &'a super::tenants::Account,
    id: u64,
    clock: &'a TokioClock,
}

impl Drop for RunningCall<'_> {
    fn drop(&mut self) {
        if let Ok(mut q) = self.account.quota.lock() {
            q.finish(self.id, self.clock.now_ms());
        }
    }
}

/// Posts more faults for the coming calls: a JSON list such as `[{"kind":"reset"}]`.
async fn push_faults(
    AxState(state): AxState<Shared>,
    Json(faults): Json<Vec<Fault>>,
) -> StatusCode {
    if let Ok(mut q) = state.faults.lock() {
        q.extend(faults);
    }
    StatusCode::NO_CONTENT
}

/// A 429 stamped `now`, with `Retry-After` if given.
pub(super) fn throttle(
    now: DateTime<Utc>,
    message: &str,
    retry_after: Option<f64>,
    crid: Option<&str>,
) -> Response {
    let mut resp =
        graph_error(now, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message, crid);
    if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&format!("{s:.3}")).ok()) {
        resp.headers_mut().insert("retry-after", v);
    }
    resp
}

/// A body that sends `prefix` and then fails, so the connection drops mid-response.
pub(super) fn broken_body(prefix: impl Into<Bytes>) -> axum::body::Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(prefix.into()),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "emulated reset")),
    ];
    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
}

/// Takes the next queued fault: the response it makes (503, 429, 504, a reset), or, for the
/// faults that still answer (none, slow, truncate), the fault after its delay.
pub(super) async fn next_fault(state: &Shared, crid: Option<&str>) -> Result<Fault, Response> {
    let queued = state.faults.lock().ok().and_then(|mut f| f.pop_front());
    let fault = queued.unwrap_or_else(|| chaos_fault(state));
    if fault != Fault::None {
        state.faults_injected.fetch_add(1, Ordering::Relaxed);
    }
    match fault {
        Fault::Unavailable { retry_after } => {
            let mut resp = graph_error(
                state.clock.now(),
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Service is temporarily unavailable.",
                crid,
            );
            if let Some(v) =
                retry_after.and_then(|s| HeaderValue::from_str(&format!("{s:.3}")).ok())
            {
                resp.headers_mut().insert("retry-after", v);
            }
            Err(resp)
        }
        Fault::Throttle { retry_after } => {
            Err(throttle(state.clock.now(), "Please retry again later.", retry_after, crid))
        }
        Fault::GatewayTimeout => Err(graph_error(
            state.clock.now(),
            StatusCode::GATEWAY_TIMEOUT,
            "UnknownError",
            "",
            crid,
        )),
        Fault::Slow { ms } => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            Ok(fault)
        }
        Fault::Reset => Err((StatusCode::OK, broken_body(Vec::new())).into_response()),
        Fault::None | Fault::Truncate => Ok(fault),
    }
}

/// A random fault (or none), at the configured chaos rate: the kinds the service and networks
/// really produce, with short delays so chaos tests stay quick.
fn chaos_fault(state: &Shared) -> Fault {
    let Ok(mut chaos) = state.chaos.lock() else { return Fault::None };
    let (rate, x) = &mut *chaos;
    if *rate <= 0.0 {
        return Fault::None;
    }
    let mut next = || {
        // xorshift64
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    };
    if (next() % 1_000_000) as f64 >= *rate * 1_000_000.0 {
        return Fault::None;
    }
    match next() % 6 {
        0 => Fault::Unavailable { retry_after: Some(0.2) },
        1 => Fault::Throttle { retry_after: Some(0.3) },
        2 => Fault::Reset,
        3 => Fault::Truncate,
        4 => Fault::GatewayTimeout,
        _ => Fault::Slow { ms: 300 },
    }
}

/// Everything after authentication and quota: faults, the query (over the data of the tenant
/// seeded `tenant`), the caps.
async fn answer(
    state: &Shared,
    limits: Option<&Limits>,
    tenant: u64,
    body: &[u8],
    crid: Option<&str>,
) -> Response {
    tokio::time::sleep(state.config.response_delay).await;
    let fault = match next_fault(state, crid).await {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    if let Some(canned) = &state.canned {
        // Canned mode: the file as it is (a cheap reference-counted clone), no KQL, no caps.
        return ok_json(canned.clone(), fault, crid);
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return graph_error(
            state.clock.now(),
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Invalid request body: not JSON.",
            crid,
        );
    };
    let pick = |a: &str, b: &str| {
        req.get(a).or_else(|| req.get(b)).and_then(Value::as_str).map(str::to_owned)
    };
    let Some(query) = pick("query", "Query") else {
        return graph_error(
            state.clock.now(),
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The 'query' parameter is required.",
            crid,
        );
    };
    let now = state.clock.now();
    let window = match pick("timespan", "Timespan") {
        Some(spec) => match Window::parse(&spec, now) {
            Ok(w) => w,
            Err(e) => {
                return graph_error(
                    now,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    &format!("Invalid timespan: {e}"),
                    crid,
                );
            }
        },
        None => Window::ending_at(now, chrono::Duration::days(30)),
    };
    // Like the service, nothing older than its retention exists.
    let window = match state.config.retention {
        Some(keep) => {
            let start = window.start.max(now - keep);
            Window { start, end: window.end.max(start) }
        }
        None => window,
    };
    let ctx = Context {
        window: (ticks(window.start), ticks(window.end)),
        now: ticks(now),
        events_per_hour: state.config.events_per_hour,
        externaldata: std::sync::Arc::new(state.config.externaldata.clone()),
        sentinel_streamed: state.config.sentinel_streamed,
        tenant,
    };
    let max_rows = limits.map_or(usize::MAX, |l| usize::try_from(l.max_rows).unwrap_or(usize::MAX));
    let job = Job {
        query,
        ctx,
        max_rows,
        base: state.base_url(),
        results_first: state.config.results_first,
    };
    let cap = limits.map_or(u64::MAX, |l| l.max_result_bytes);
    let measuring = job.clone();
    let measured = tokio::task::spawn_blocking(move || measuring.measure(cap)).await;
    let too_large = || {
        graph_error(
            state.clock.now(),
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again.",
            crid,
        )
    };
    match measured {
        Ok(Ok(Measured::Whole(json))) if json.len() as u64 > cap => too_large(),
        Ok(Ok(Measured::Whole(json))) => ok_json(Bytes::from(json), fault, crid),
        Ok(Ok(Measured::Large(len))) if len > cap => too_large(),
        Ok(Ok(Measured::Large(len))) => {
            // Generated again as it is sent: never held whole.
            let cut = (fault == Fault::Truncate).then_some(len / 2);
            ok_body(job.stream(cut), crid)
        }
        Ok(Err(e)) => {
            graph_error(state.clock.now(), StatusCode::BAD_REQUEST, "BadRequest", &e.message, crid)
        }
        Err(_) => graph_error(
            state.clock.now(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "UnknownError",
            "",
            crid,
        ),
    }
}

/// A 200 answer with `json` as the body (only its first half, then a dropped connection, under
/// the `truncate` fault).
fn ok_json(json: Bytes, fault: Fault, crid: Option<&str>) -> Response {
    let body = if fault == Fault::Truncate {
        let half = json.len() / 2;
        broken_body(json.slice(..half))
    } else {
        axum::body::Body::from(json)
    };
    ok_body(body, crid)
}

/// A 200 answer with `body`.
fn ok_body(body: axum::body::Body, crid: Option<&str>) -> Response {
    let mut resp = (
        StatusCode::OK,
        [("content-type", "application/json; odata.metadata=minimal; charset=utf-8")],
        body,
    )
        .into_response();
    set_ids(resp.headers_mut(), &uuid::Uuid::new_v4().to_string(), crid);
    resp
}

/// 100 ns ticks since the Unix epoch.
pub(super) fn ticks(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp() * 10_000_000 + i64::from(t.timestamp_subsec_nanos() / 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_formatting_trims_like_the_service() {
        let t = ticks(
            chrono::DateTime::parse_from_rfc3339("2024-03-26T09:39:50.7688641Z").unwrap().to_utc(),
        );
        assert_eq!(kql::format_datetime(t), "2024-03-26T09:39:50.7688641Z");
        assert_eq!(kql::format_datetime(t - 7_688_641 + 1_160_000), "2024-03-26T09:39:50.116Z");
        assert_eq!(kql::format_datetime(t - 7_688_641), "2024-03-26T09:39:50Z");
    }

    use crate::emulator::answer::render;
    use crate::emulator::data::Cell;
    use crate::emulator::kql;

    #[test]
    fn render_puts_annotations_and_honours_key_order() {
        let set = kql::ResultSet {
            columns: vec![("Id".into(), "Int64".into()), ("Name".into(), "String".into())],
            rows: Box::new(vec![vec![Cell::Int(7), Cell::Str("a\"b".into())]].into_iter()),
        };
        let out = String::from_utf8(render("http://x", set, true)).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["results"][0]["Id@odata.type"], "#Int64");
        assert_eq!(v["results"][0]["Name"], "a\"b");
        assert!(out.find("\"results\"").unwrap() < out.find("\"schema\"").unwrap());
        assert_eq!(v["schema"][1], json!({"name": "Name", "type": "String"}));
    }

    /// Canned mode serves the file byte for byte, over the caps, and still honours faults.
    #[tokio::test]
    async fn canned_response_is_served_byte_identical() {
        use crate::emulator::{Emulator, EmulatorConfig};
        use crate::graph::{GraphClient, Settings};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("canned.json");
        // Not what the query asks for, with unicode, escapes and bytes a re-serialiser would
        // change (spacing, key order), and larger than the result-size cap below.
        let mut canned = r#"{"results" : [{"A":"café \\ \"q\" \u00e9 ✓"}],"schema":[{"name":"A","type":"String"}], "pad":""#.as_bytes().to_vec();
        canned.extend(std::iter::repeat_n(b'x', 4096));
        canned.extend_from_slice(b"\"}\n");
        std::fs::write(&path, &canned).unwrap();
        let limits = Limits { max_rows: 1, max_result_bytes: 1024, ..Limits::default() };
        let config = EmulatorConfig {
            canned_response: Some(path),
            limits: Some(limits),
            faults: vec![Fault::None, Fault::None, Fault::Truncate],
            ..EmulatorConfig::default()
        };
        let emu = Emulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let env = emu.env();
        let var = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        let clock = TokioClock::new();
        let client = GraphClient::new(Settings::from_env(var).unwrap(), Arc::new(clock)).unwrap();
        let window = Window::parse("P1D", clock.now()).unwrap();
        for _ in 0..2 {
            let resp = client.run_hunting_query("NoSuchTable | take 5", &window).await.unwrap();
            assert_eq!(resp.body.into_bytes().await.unwrap().as_ref(), canned.as_slice());
        }
        // The third call's `truncate` fault cuts the canned body like any other.
        assert!(client.run_hunting_query("x", &window).await.is_err());
        assert_eq!(emu.stats().hunting_calls, 3);
    }

    /// A large answer is streamed: the same rows as the data, the size cap refuses it whole
    /// (400), and the `truncate` fault cuts it.
    #[tokio::test]
    async fn large_answers_stream_whole_and_keep_the_caps_and_faults() {
        use crate::emulator::{Emulator, EmulatorConfig, data};
        use crate::graph::{GraphClient, Settings};
        let start = async |limits: Limits, faults: Vec<Fault>| {
            let config =
                EmulatorConfig { limits: Some(limits), faults, ..EmulatorConfig::default() };
            Emulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
        };
        let clock = TokioClock::new();
        let client = |emu: &Emulator| {
            let env = emu.env();
            let var = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
            GraphClient::new(Settings::from_env(var).unwrap(), Arc::new(clock)).unwrap()
        };
        let window = Window::parse("2026-11-20T00:00:00Z/PT6H", clock.now()).unwrap();
        let want = data::rows("DeviceProcessEvents", ticks(window.start), ticks(window.end), 360)
            .unwrap()
            .count();
        let emu = start(Limits::default(), vec![Fault::None, Fault::Truncate]).await;
        let resp = client(&emu).run_hunting_query("DeviceProcessEvents", &window).await.unwrap();
        let body = resp.body.into_bytes().await.unwrap();
        assert!(body.len() > 4 * super::super::answer::WHOLE, "{}", body.len());
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["results"].as_array().unwrap().len(), want);
        assert_eq!(v["schema"][0]["name"], "Timestamp");
        let truncated = client(&emu).run_hunting_query("DeviceProcessEvents", &window).await;
        assert!(
            match truncated {
                Ok(r) => r.body.into_bytes().await.is_err(),
                Err(_) => true,
            },
            "the truncate fault cuts a streamed answer"
        );
        // Just under its size: refused whole, as before streaming.
        let cap = Limits { max_result_bytes: body.len() as u64 - 1, ..Limits::default() };
        let emu = start(cap, Vec::new()).await;
        let Err(err) = client(&emu).run_hunting_query("DeviceProcessEvents", &window).await else {
            panic!("an answer over the size cap was sent");
        };
        let err = err.to_string();
        assert!(err.contains("exceeded the allowed result size"), "{err}");
        let cap = Limits { max_result_bytes: body.len() as u64, ..Limits::default() };
        let emu = start(cap, Vec::new()).await;
        let resp = client(&emu).run_hunting_query("DeviceProcessEvents", &window).await.unwrap();
        // The same bytes after `@odata.context` (which names the emulator's own port).
        let again = resp.body.into_bytes().await.unwrap();
        let rest = |b: &[u8]| b.splitn(2, |&c| c == b',').nth(1).map(<[u8]>::to_vec);
        assert!(rest(&again) == rest(&body), "the same answer every time");
    }

    #[tokio::test]
    async fn unreadable_canned_file_fails_start() {
        let config = crate::emulator::EmulatorConfig {
            canned_response: Some("/nonexistent/canned.json".into()),
            ..Default::default()
        };
        let err = crate::emulator::Emulator::start(config, "127.0.0.1:0".parse().unwrap()).await;
        assert!(err.err().unwrap().to_string().contains("/nonexistent/canned.json"));
    }
}
