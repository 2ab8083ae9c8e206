//! The emulator's incidents and alerts: a deterministic set of Defender incidents among which
//! are Defender Experts Notifications of all three kinds hunt must recognise (title prefix,
//! `Defender Experts` system tag, and only through an alert whose `detectionSource` is
//! `microsoftThreatExperts`), with their beta-only `recommendedHuntingQueries`, served with the
//! list API's paging (`$top` at most 50, `@odata.nextLink`), `$filter` on the update time and
//! `$orderby`, in the v1.0 shape (no DEN fields) or the beta one.

use serde_json::{Value, json};

/// Incidents in the built-in set.
pub const INCIDENTS: u64 = 130;
/// Ids start here.
pub const FIRST_ID: u64 = 3000;
/// Where the built-in set starts: 2026-11-01T00:00:00Z in ms.
pub const ANCHOR_MS: i64 = 1_793_491_200_000;

/// How an incident shows it is a Defender Experts Notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenKind {
    /// Title starts with "Defender Experts".
    Title,
    /// `systemTags` holds "Defender Experts".
    Tag,
    /// Only an alert with `detectionSource: microsoftThreatExperts` says so.
    Alert,
}

/// One incident.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// Numeric id (sent as a string).
    pub id: u64,
    /// `displayName`.
    pub title: String,
    /// Created, ms.
    pub created_ms: i64,
    /// Last updated, ms.
    pub updated_ms: i64,
    /// `severity`.
    pub severity: &'static str,
    /// `status` (with the Prefer header; `awaitingAction` is hidden without it).
    pub status: &'static str,
    /// Whether and how it is a DEN.
    pub den: Option<DenKind>,
    /// `assignedTo` (`Defender Experts`, `Customer`), if assigned.
    pub assigned_to: Option<&'static str>,
    /// `classification` and `determination` (`unknown` until resolved).
    pub verdict: (&'static str, &'static str),
    /// `recommendedHuntingQueries[].kqlText` (beta only).
    pub queries: Vec<String>,
}

/// The hunting queries Defender Experts "recommend" in the built-in set. Two are the same
/// query with different whitespace; one arrived with its newlines flattened (all comment).
pub const DEN_QUERIES: [&str; 5] = [
    "AlertInfo\n| where Title == 'Potential Raspberry Robin worm command'\n| join AlertEvidence on AlertId\n| distinct DeviceId",
    "DeviceProcessEvents\n| where ProcessCommandLine has \"-enc\"\n| project Timestamp, DeviceName, ProcessCommandLine",
    "DeviceProcessEvents   | where ProcessCommandLine has \"-enc\"    | project Timestamp, DeviceName, ProcessCommandLine",
    "DeviceNetworkEvents\r\n| where InitiatingProcessFileName =~ \"rundll32.exe\"\r\n| where RemoteIPType == \"Public\"",
    "//Run this query to identify devices with the suspicious alerts  AlertInfo | where Title has 'Raspberry Robin' | join AlertEvidence on AlertId",
];

/// The built-in incidents.
pub fn built_in() -> Vec<Incident> {
    (0..INCIDENTS).map(incident).collect()
}

fn incident(i: u64) -> Incident {
    let created_ms = ANCHOR_MS + i as i64 * 2 * 3_600_000;
    let updated_ms = created_ms + ((i % 5) as i64 + 1) * 1_800_000;
    let den = match i % 20 {
        3 => Some(DenKind::Title),
        9 => Some(DenKind::Tag),
        15 => Some(DenKind::Alert),
        _ => None,
    };
    let title = match den {
        Some(DenKind::Title) => {
            format!("Defender Experts: Raspberry Robin worm activity on device-{i:03}")
        }
        Some(DenKind::Tag) => format!("Multi-stage incident involving Execution on device-{i:03}"),
        _ => format!(
            "{} on device-{i:03}",
            [
                "Suspicious PowerShell",
                "Malware detected",
                "Anomalous sign-in",
                "Phishing delivered"
            ][(i % 4) as usize]
        ),
    };
    let queries = match den {
        None => Vec::new(),
        Some(_) => {
            let first = DEN_QUERIES[(i / 20 % 5) as usize].to_owned();
            let second = DEN_QUERIES[((i / 20 + 1) % 5) as usize].to_owned();
            if i % 40 == 3 { vec![first, second] } else { vec![first] }
        }
    };
    Incident {
        id: FIRST_ID + i,
        title,
        created_ms,
        updated_ms,
        severity: ["low", "medium", "high", "informational"][(i % 4) as usize],
        status: if den.is_some() && i % 2 == 1 {
            "awaitingAction"
        } else {
            ["active", "resolved", "inProgress"][(i % 3) as usize]
        },
        den,
        assigned_to: None,
        verdict: ("unknown", "unknown"),
        queries,
    }
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An incident as JSON: `beta` adds the DEN fields; without `prefer_unknown` the
/// `awaitingAction` status shows as `unknownFutureValue`, as the service does.
pub fn incident_json(inc: &Incident, base: &str, beta: bool, prefer_unknown: bool) -> Value {
    let status = if inc.status == "awaitingAction" && !prefer_unknown {
        "unknownFutureValue"
    } else {
        inc.status
    };
    let tags: Vec<&str> =
        if inc.den == Some(DenKind::Tag) { vec!["Defender Experts"] } else { Vec::new() };
    let mut v = json!({
        "@odata.type": "#microsoft.graph.security.incident",
        "id": inc.id.to_string(),
        "incidentWebUrl": format!("{base}/incidents/{}?tid=emulator", inc.id),
        "redirectIncidentId": null,
        "displayName": inc.title,
        "tenantId": super::TENANT_ID,
        "createdDateTime": iso(inc.created_ms),
        "lastUpdateDateTime": iso(inc.updated_ms),
        "assignedTo": inc.assigned_to,
        "classification": inc.verdict.0,
        "determination": inc.verdict.1,
        "status": status,
        "severity": inc.severity,
        "customTags": [],
        "systemTags": tags,
        "description": if inc.den.is_some() { "Microsoft observed activity that Defender Experts investigated." } else { "" },
        "summary": null,
        "comments": [],
        "lastModifiedBy": "Automation",
    });
    if beta {
        v["recommendedActions"] = json!(if inc.den.is_some() {
            "Isolate the device and reset the account's credentials."
        } else {
            ""
        });
        v["recommendedHuntingQueries"] = inc
            .queries
            .iter()
            .map(|q| json!({"@odata.type": "#microsoft.graph.security.recommendedHuntingQuery", "kqlText": q}))
            .collect();
    }
    v
}

/// The incident's alerts (two each); a DEN of kind `Alert` has one from Defender Experts.
pub fn alerts_json(inc: &Incident, base: &str) -> Vec<Value> {
    (0..2)
        .map(|j| {
            let source = if inc.den == Some(DenKind::Alert) && j == 1 {
                "microsoftThreatExperts"
            } else {
                ["antivirus", "microsoftDefenderForEndpoint", "customDetection"]
                    [((inc.id + j) % 3) as usize]
            };
            json!({
                "@odata.type": "#microsoft.graph.security.alert",
                "id": format!("da{}_{j}", inc.id),
                "providerAlertId": format!("da{}_{j}", inc.id),
                "incidentId": inc.id.to_string(),
                "status": "new",
                "severity": inc.severity,
                "classification": null,
                "determination": null,
                "serviceSource": "microsoftDefenderForEndpoint",
                "detectionSource": source,
                "title": format!("Alert {j} of incident {}", inc.id),
                "alertWebUrl": format!("{base}/alerts/da{}_{j}", inc.id),
                "incidentWebUrl": format!("{base}/incidents/{}", inc.id),
                "createdDateTime": iso(inc.created_ms),
                "lastUpdateDateTime": iso(inc.updated_ms),
                "systemTags": [],
            })
        })
        .collect()
}

/// A parsed `$filter` on a date property: `prop ge|gt|le|lt <datetime>` joined by `and`.
pub fn parse_filter(filter: &str) -> Result<Vec<(String, String, i64)>, String> {
    let mut clauses = Vec::new();
    for clause in filter.split(" and ") {
        let parts: Vec<&str> = clause.split_whitespace().collect();
        let [prop, op, value] = parts[..] else {
            return Err(format!("Invalid filter clause: '{clause}'"));
        };
        if !matches!(prop, "lastUpdateDateTime" | "createdDateTime")
            || !matches!(op, "ge" | "gt" | "le" | "lt")
        {
            return Err(format!(
                "Invalid filter clause: '{clause}': only lastUpdateDateTime and createdDateTime with ge, gt, le, lt are supported by the emulator"
            ));
        }
        let t = chrono::DateTime::parse_from_rfc3339(value.trim_matches('\'')).map_err(|_| {
            format!("Invalid filter clause: the value '{value}' is not a DateTimeOffset")
        })?;
        clauses.push((prop.to_owned(), op.to_owned(), t.timestamp_millis()));
    }
    Ok(clauses)
}

/// Whether an item with these times passes the filter.
pub fn passes(clauses: &[(String, String, i64)], created_ms: i64, updated_ms: i64) -> bool {
    clauses.iter().all(|(prop, op, t)| {
        let v = if prop == "createdDateTime" { created_ms } else { updated_ms };
        match op.as_str() {
            "ge" => v >= *t,
            "gt" => v > *t,
            "le" => v <= *t,
            _ => v < *t,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_set_has_every_kind_of_den_among_ordinary_incidents() {
        let all = built_in();
        let count = |k| all.iter().filter(|i| i.den == Some(k)).count();
        assert_eq!((count(DenKind::Title), count(DenKind::Tag), count(DenKind::Alert)), (7, 7, 6));
        assert!(all.iter().filter(|i| i.den.is_none()).count() > 100);
        assert!(all.iter().all(|i| i.den.is_some() != i.queries.is_empty()));
        assert_eq!(
            chrono::DateTime::from_timestamp_millis(ANCHOR_MS).unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
    }

    #[test]
    fn v1_hides_den_fields_and_awaiting_action_needs_the_prefer_header() {
        let inc = incident(9);
        assert_eq!(inc.status, "awaitingAction");
        let v1 = incident_json(&inc, "https://x", false, false);
        assert!(v1.get("recommendedHuntingQueries").is_none());
        assert_eq!(v1["status"], "unknownFutureValue");
        let beta = incident_json(&inc, "https://x", true, true);
        assert_eq!(beta["status"], "awaitingAction");
        assert_eq!(beta["systemTags"][0], "Defender Experts");
        assert!(beta["recommendedHuntingQueries"][0]["kqlText"].is_string());
    }

    #[test]
    fn filters_on_update_time() {
        let f = parse_filter("lastUpdateDateTime ge 2026-11-02T00:00:00Z and createdDateTime lt 2026-11-03T00:00:00Z").unwrap();
        let day = 86_400_000;
        assert!(passes(&f, ANCHOR_MS + day, ANCHOR_MS + day));
        assert!(!passes(&f, ANCHOR_MS, ANCHOR_MS + 1));
        assert!(parse_filter("startswith(displayName,'Defender')").is_err());
    }
}
