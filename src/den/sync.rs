//! Finding Defender Experts Notifications through Graph: incidents on the beta endpoint (the
//! only one that carries `recommendedHuntingQueries`), newest changes since a saved watermark,
//! `$top` 50 and `@odata.nextLink` paging, recognised by title prefix or the `Defender Experts`
//! system tag; plus alerts_v2 whose `detectionSource` is `microsoftThreatExperts`, followed to
//! their incident. Throttling and transient failures are waited out and retried.

use crate::graph::retry::{Attempts, Decision, Jitter, Kind, Policy};
use crate::graph::{GraphClient, GraphError};
use serde_json::Value;
use std::collections::BTreeMap;

/// How an incident was recognised as a DEN.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Recognised {
    /// `displayName` starts with "Defender Experts".
    TitlePrefix,
    /// `systemTags` holds "Defender Experts".
    SystemTag,
    /// An alert of the incident has `detectionSource: microsoftThreatExperts`.
    ExpertsAlert,
}

/// A DEN incident as the beta endpoint carries it: what hunt keeps of it in the state store
/// (see [`crate::schedule::state::den`]) and tells receivers of its lifecycle.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DenIncident {
    /// Incident id.
    pub id: String,
    /// `displayName`.
    pub title: String,
    /// `incidentWebUrl`.
    pub url: Option<String>,
    /// `severity`.
    pub severity: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `createdDateTime`.
    pub created: Option<String>,
    /// `lastUpdateDateTime`.
    #[serde(default)]
    pub last_update: Option<String>,
    /// `assignedTo` (`Defender Experts`, `Customer`, a person).
    #[serde(default)]
    pub assigned_to: Option<String>,
    /// `classification`.
    #[serde(default)]
    pub classification: Option<String>,
    /// `determination`.
    #[serde(default)]
    pub determination: Option<String>,
    /// `description`: the executive summary Defender Experts write.
    #[serde(default)]
    pub description: Option<String>,
    /// `recommendedActions` (beta).
    #[serde(default)]
    pub recommended_actions: Option<String>,
    /// How it was recognised.
    pub recognised: Recognised,
    /// `recommendedHuntingQueries[].kqlText`.
    pub queries: Vec<String>,
    /// Recommended queries whose `kqlText` was not text (left out).
    #[serde(default)]
    pub skipped_queries: usize,
}

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Incidents listed.
    pub incidents_seen: usize,
    /// Alerts listed.
    pub alerts_seen: usize,
    /// DENs found, by incident id.
    pub dens: BTreeMap<String, DenIncident>,
    /// The latest `lastUpdateDateTime` seen (the next scan's watermark).
    pub watermark: Option<String>,
    /// Pages fetched.
    pub pages: usize,
    /// 429 answers waited out.
    pub throttled: u32,
    /// Pages whose `value` was not a list (nothing on them could be read).
    pub skipped_pages: usize,
}

/// Why a scan stopped.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct ScanError {
    /// What was being fetched.
    pub what: String,
    /// The failure.
    pub source: GraphError,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn recognise(incident: &Value) -> Option<Recognised> {
    let title = incident.get("displayName").and_then(Value::as_str).unwrap_or("");
    let tagged = incident
        .get("systemTags")
        .and_then(Value::as_array)
        .is_some_and(|tags| tags.iter().any(|t| t.as_str().is_some_and(is_experts_tag)));
    if title.trim_start().to_ascii_lowercase().starts_with("defender experts") {
        Some(Recognised::TitlePrefix)
    } else if tagged {
        Some(Recognised::SystemTag)
    } else {
        None
    }
}

fn is_experts_tag(tag: &str) -> bool {
    tag.trim().eq_ignore_ascii_case("defender experts")
}

fn den_from(incident: &Value, recognised: Recognised) -> Option<DenIncident> {
    let id = match incident.get("id")? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let recommended = incident.get("recommendedHuntingQueries").and_then(Value::as_array);
    let queries: Vec<String> =
        recommended.into_iter().flatten().filter_map(|q| text(q, "kqlText")).collect();
    let skipped_queries = recommended.map_or(0, Vec::len) - queries.len();
    if skipped_queries > 0 {
        tracing::warn!(incident = %id, skipped_queries, "recommended queries without a kqlText text: left out");
    }
    Some(DenIncident {
        id,
        title: text(incident, "displayName").unwrap_or_default(),
        url: text(incident, "incidentWebUrl"),
        severity: text(incident, "severity"),
        status: text(incident, "status"),
        created: text(incident, "createdDateTime"),
        last_update: text(incident, "lastUpdateDateTime"),
        assigned_to: text(incident, "assignedTo"),
        classification: text(incident, "classification"),
        determination: text(incident, "determination"),
        description: text(incident, "description"),
        recommended_actions: text(incident, "recommendedActions"),
        recognised,
        queries,
        skipped_queries,
    })
}

/// GET with patience, as the listing retry policy decides: 429s are waited out
/// (`Retry-After`, else backoff), 5xx, timeouts and transport failures retried a few times.
async fn get(client: &GraphClient, url: &str, scan: &mut Scan) -> Result<Value, ScanError> {
    let (mut attempts, mut jitter) = (Attempts::default(), Jitter::from_entropy());
    loop {
        let err = match client.get_json(url).await {
            Ok((v, _)) => {
                scan.pages += 1;
                return Ok(v);
            }
            Err(e) => e,
        };
        let kind = err.kind();
        let retry = match Policy::LISTING.decide(kind, &mut attempts, &mut jitter) {
            Decision::Wait(retry) => retry,
            Decision::Split | Decision::Fail => {
                return Err(ScanError { what: format!("GET {url}"), source: err });
            }
        };
        if matches!(kind, Kind::Throttled { .. }) {
            scan.throttled += 1;
        }
        tracing::warn!("{err}; retrying in {retry:?}");
        tokio::time::sleep(retry).await;
    }
}

/// Follows `@odata.nextLink` from `first`, handing each page's items to `each`.
async fn pages(
    client: &GraphClient,
    first: String,
    scan: &mut Scan,
    mut each: impl FnMut(&Value, &mut Scan),
) -> Result<(), ScanError> {
    let mut next = Some(first);
    let mut seen = std::collections::HashSet::new();
    while let Some(url) = next.take() {
        let refused = if seen.contains(&url) {
            Some("the service's @odata.nextLink points back to a page already read: stopping")
        } else if seen.len() >= MAX_PAGES {
            Some(
                "the listing goes on past 10,000 pages, far more than a tenant's incidents: stopping",
            )
        } else {
            None
        };
        if let Some(message) = refused {
            let url = crate::graph::peer::Masks::none().clean(&url);
            let what = format!("GET {url}");
            return Err(ScanError {
                what,
                source: GraphError::Refused { url, message: message.into() },
            });
        }
        let page = get(client, &url, scan).await?;
        seen.insert(url.clone());
        match page.get("value") {
            Some(Value::Array(items)) => items.iter().for_each(|item| each(item, scan)),
            _ => {
                scan.skipped_pages += 1;
                tracing::warn!(%url, "a page without a `value` list: nothing on it was read");
            }
        }
        next = text(&page, "@odata.nextLink");
    }
    Ok(())
}

/// The most pages one listing follows (`$top` 50 incidents a page: half a million incidents).
const MAX_PAGES: usize = 10_000;

fn list_url(root: &str, path: &str, top: u32, since: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("$top", &top.to_string());
    if let Some(since) = since {
        q.append_pair("$filter", &format!("lastUpdateDateTime ge {since}"));
    }
    q.append_pair("$orderby", "lastUpdateDateTime asc");
    format!("{root}/{path}?{}", q.finish())
}

/// Scans incidents and alerts changed since `since` (RFC 3339; `None`: everything).
pub async fn scan(client: &GraphClient, since: Option<&str>) -> Result<Scan, ScanError> {
    scan_knowing(client, since, &std::collections::BTreeSet::new()).await
}

/// [`scan`], with the ids of incidents already known to be DENs: a DEN recognised only through
/// its Defender Experts alert stays one when it changes later without its alert changing.
pub async fn scan_knowing(
    client: &GraphClient,
    since: Option<&str>,
    known: &std::collections::BTreeSet<String>,
) -> Result<Scan, ScanError> {
    let root = client.root().to_owned();
    let mut scan = Scan::default();
    let first = list_url(&root, "beta/security/incidents", 50, since);
    let mut others: BTreeMap<String, Value> = BTreeMap::new();
    pages(client, first, &mut scan, |inc, scan| {
        scan.incidents_seen += 1;
        if let Some(updated) = text(inc, "lastUpdateDateTime")
            && scan.watermark.as_ref().is_none_or(|w| later(&updated, w))
        {
            scan.watermark = Some(updated);
        }
        let known_den = || {
            let id = inc.get("id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            id.is_some_and(|id| known.contains(&id)).then_some(Recognised::ExpertsAlert)
        };
        match recognise(inc).or_else(known_den).and_then(|r| den_from(inc, r)) {
            Some(den) => {
                scan.dens.insert(den.id.clone(), den);
            }
            None => {
                if let Some(id) = text(inc, "id") {
                    others.insert(id, inc.clone());
                }
            }
        }
    })
    .await?;
    let mut via_alerts = Vec::new();
    let alerts = list_url(&root, "v1.0/security/alerts_v2", 100, since);
    pages(client, alerts, &mut scan, |alert, scan| {
        scan.alerts_seen += 1;
        let experts = text(alert, "detectionSource")
            .is_some_and(|s| s.eq_ignore_ascii_case("microsoftThreatExperts"));
        if let (true, Some(id)) = (experts, text(alert, "incidentId"))
            && !scan.dens.contains_key(&id)
            && !via_alerts.contains(&id)
        {
            via_alerts.push(id);
        }
    })
    .await?;
    for id in via_alerts {
        let incident = match others.remove(&id) {
            Some(inc) => inc,
            None => {
                let safe: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
                let url = format!("{root}/beta/security/incidents/{safe}");
                get(client, &url, &mut scan).await?
            }
        };
        if let Some(den) = den_from(&incident, Recognised::ExpertsAlert) {
            scan.dens.insert(den.id.clone(), den);
        }
    }
    Ok(scan)
}

/// Whether RFC 3339 time `a` is after `b` (textual order when either does not parse).
pub fn later(a: &str, b: &str) -> bool {
    match (chrono::DateTime::parse_from_rfc3339(a), chrono::DateTime::parse_from_rfc3339(b)) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
    }

    #[test]
    fn the_documented_den_is_recognised_by_its_system_tag() {
        let inc = fixture("incident.get.beta.recommendedHuntingQueries.json");
        assert_eq!(recognise(&inc), Some(Recognised::SystemTag));
        let den = den_from(&inc, Recognised::SystemTag).unwrap();
        assert_eq!(den.id, "2972395");
        assert_eq!(den.queries.len(), 1);
        assert!(den.queries[0].starts_with("AlertInfo"));
    }

    #[test]
    fn title_prefix_and_tags_are_matched_leniently() {
        let by_title = serde_json::json!({"id": 1, "displayName": "  defender experts: x", "systemTags": null});
        assert_eq!(recognise(&by_title), Some(Recognised::TitlePrefix));
        assert_eq!(den_from(&by_title, Recognised::TitlePrefix).unwrap().id, "1");
        let tagged =
            serde_json::json!({"id": "2", "displayName": "x", "systemTags": ["DEFENDER EXPERTS "]});
        assert_eq!(recognise(&tagged), Some(Recognised::SystemTag));
        let plain = serde_json::json!({"id": "3", "displayName": "Experts say", "systemTags": []});
        assert_eq!(recognise(&plain), None);
    }

    #[test]
    fn list_urls_filter_and_order_by_update_time() {
        let u = list_url("https://g", "beta/security/incidents", 50, Some("2026-11-01T00:00:00Z"));
        assert_eq!(
            u,
            "https://g/beta/security/incidents?%24top=50&%24filter=lastUpdateDateTime+ge+2026-11-01T00%3A00%3A00Z&%24orderby=lastUpdateDateTime+asc"
        );
        assert!(later("2026-11-01T00:00:01Z", "2026-11-01T00:00:00.999Z"));
    }
}
