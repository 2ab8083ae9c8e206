//! The emulator's list and get endpoints for incidents and alerts_v2: OData `$top` (at most 50
//! for incidents, refused above with the service's own empty-code 400), `$skip`, `$filter` on
//! the update and creation times, `$orderby`, and `@odata.nextLink` paging. Faults queued for
//! the emulator apply here too, so a sync can meet a 429 mid-way.

use super::incidents::{self, Incident};
use super::server::{Shared, client_request_id, graph_error, next_fault, refusal, set_ids};
use crate::clock::Clock;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

type Params = HashMap<String, String>;

fn prefer_unknown(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("include-unknown-enum-members"))
}

/// The items of one page and the link to the next, if any (errors stamped `now`).
fn page(
    now: DateTime<Utc>,
    base: &str,
    path: &str,
    params: &Params,
    items: Vec<Value>,
    max_top: usize,
    crid: Option<&str>,
) -> Response {
    let top = match params.get("$top").map(|t| t.parse::<usize>()) {
        None => max_top,
        Some(Ok(t)) if t <= max_top => t.max(1),
        Some(Ok(t)) => {
            let message = format!(
                "The query specified in the URI is not valid. The limit of '{max_top}' for Top \
                 query has been exceeded. The value from the incoming request is '{t}'."
            );
            return graph_error(now, StatusCode::BAD_REQUEST, "", &message, crid);
        }
        Some(Err(_)) => {
            let message = "The query specified in the URI is not valid. $top must be a number.";
            return graph_error(now, StatusCode::BAD_REQUEST, "", message, crid);
        }
    };
    let skip: usize = params.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
    let mut body = json!({ "@odata.context": format!("{base}/$metadata#{path}"), "value": value });
    if skip + top < total {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if k != "$skip" && k != "$top" {
                next.append_pair(k, v);
            }
        }
        next.append_pair("$top", &top.to_string());
        next.append_pair("$skip", &(skip + top).to_string());
        body["@odata.nextLink"] = json!(format!("{base}/{path}?{}", next.finish()));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut resp = (StatusCode::OK, Json(body)).into_response();
    set_ids(resp.headers_mut(), &request_id, crid);
    resp
}

/// What every list or get call meets first: the version and token check, then a queued or
/// chaos fault. The response to send instead of an answer, if any.
async fn turned_away(
    state: &Shared,
    version: &str,
    headers: &HeaderMap,
    crid: Option<&str>,
) -> Option<Response> {
    if let Some(resp) = refusal(state, version, headers, crid) {
        return Some(resp);
    }
    next_fault(state, crid).await.err()
}

/// Incidents passing `$filter`, in `$orderby` order (default: newest first).
fn select(state: &Shared, params: &Params) -> Result<Vec<Incident>, String> {
    let clauses = match params.get("$filter") {
        Some(f) => incidents::parse_filter(f)?,
        None => Vec::new(),
    };
    let mut list: Vec<Incident> = state
        .incidents
        .lock()
        .map_err(|_| "internal error".to_string())?
        .iter()
        .cloned()
        .chain(state.scripted_den())
        .filter(|i| incidents::passes(&clauses, i.created_ms, i.updated_ms))
        .collect();
    match params.get("$orderby").map(String::as_str) {
        None => list.sort_by_key(|i| std::cmp::Reverse(i.created_ms)),
        Some("lastUpdateDateTime asc" | "lastUpdateDateTime") => list.sort_by_key(|i| i.updated_ms),
        Some("lastUpdateDateTime desc") => list.sort_by_key(|i| std::cmp::Reverse(i.updated_ms)),
        Some("createdDateTime asc" | "createdDateTime") => list.sort_by_key(|i| i.created_ms),
        Some("createdDateTime desc") => list.sort_by_key(|i| std::cmp::Reverse(i.created_ms)),
        Some(other) => return Err(format!("Invalid $orderby: '{other}'")),
    }
    Ok(list)
}

/// `GET /{version}/security/incidents`.
pub(super) async fn list_incidents(
    State(state): State<Shared>,
    Path(version): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let crid = client_request_id(&headers);
    let crid = crid.as_deref();
    if let Some(resp) = turned_away(&state, &version, &headers, crid).await {
        return resp;
    }
    let list = match select(&state, &params) {
        Ok(l) => l,
        Err(e) => {
            return graph_error(state.clock.now(), StatusCode::BAD_REQUEST, "BadRequest", &e, crid);
        }
    };
    let (base, beta, prefer) = (state.base_url(), version == "beta", prefer_unknown(&headers));
    let items = list.iter().map(|i| incidents::incident_json(i, &base, beta, prefer)).collect();
    let root = format!("{base}/{version}");
    page(state.clock.now(), &root, "security/incidents", &params, items, 50, crid)
}

/// `GET /{version}/security/incidents/{id}`.
pub(super) async fn get_incident(
    State(state): State<Shared>,
    Path((version, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let crid = client_request_id(&headers);
    let crid = crid.as_deref();
    if let Some(resp) = turned_away(&state, &version, &headers, crid).await {
        return resp;
    }
    let found = state
        .incidents
        .lock()
        .ok()
        .and_then(|l| l.iter().find(|i| i.id.to_string() == id).cloned())
        .or_else(|| state.scripted_den().filter(|i| i.id.to_string() == id));
    match found {
        Some(inc) => {
            let (beta, prefer) = (version == "beta", prefer_unknown(&headers));
            let mut v = incidents::incident_json(&inc, &state.base_url(), beta, prefer);
            v["@odata.context"] = json!(format!(
                "{}/{version}/$metadata#security/incidents/$entity",
                state.base_url()
            ));
            (StatusCode::OK, Json(v)).into_response()
        }
        None => graph_error(
            state.clock.now(),
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!("Incident '{id}' was not found."),
            crid,
        ),
    }
}

/// `GET /{version}/security/alerts_v2`.
pub(super) async fn list_alerts(
    State(state): State<Shared>,
    Path(version): Path<String>,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let crid = client_request_id(&headers);
    let crid = crid.as_deref();
    if let Some(resp) = turned_away(&state, &version, &headers, crid).await {
        return resp;
    }
    let list = match select(&state, &params) {
        Ok(l) => l,
        Err(e) => {
            return graph_error(state.clock.now(), StatusCode::BAD_REQUEST, "BadRequest", &e, crid);
        }
    };
    let base = state.base_url();
    let items = list.iter().flat_map(|i| incidents::alerts_json(i, &base)).collect();
    let root = format!("{base}/{version}");
    page(state.clock.now(), &root, "security/alerts_v2", &params, items, 2000, crid)
}
