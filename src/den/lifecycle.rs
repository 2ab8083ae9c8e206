//! A DEN's lifecycle as hunt tells it: the events between the state hunt kept of an incident
//! and the state Graph now returns, and the fields that changed. Pure: the state store calls
//! it inside the transaction that records the new state.
//!
//! * `den_new`: a DEN hunt had not seen;
//! * `den_experts_assigned`: now assigned to Defender Experts (an analyst is on it);
//! * `den_action_needed`: now assigned to the Customer, or in status `awaitingAction` (the
//!   SOC must act on the recommended actions); also with `den_new` when a DEN is first seen so;
//! * `den_resolved`: now resolved (with its classification and determination);
//! * `den_queries_changed`: its recommended hunting queries changed.

use super::sync::DenIncident;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A lifecycle event of a DEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenEvent {
    /// First seen.
    DenNew,
    /// Assigned to Defender Experts.
    DenExpertsAssigned,
    /// Assigned to the Customer, or awaiting the customer's action.
    DenActionNeeded,
    /// Resolved.
    DenResolved,
    /// Its recommended hunting queries changed.
    DenQueriesChanged,
}

impl DenEvent {
    /// Every event, in lifecycle order.
    pub const ALL: [DenEvent; 5] = [
        DenEvent::DenNew,
        DenEvent::DenExpertsAssigned,
        DenEvent::DenActionNeeded,
        DenEvent::DenResolved,
        DenEvent::DenQueriesChanged,
    ];

    /// `den_new`, `den_experts_assigned`, …
    pub fn as_str(self) -> &'static str {
        match self {
            DenEvent::DenNew => "den_new",
            DenEvent::DenExpertsAssigned => "den_experts_assigned",
            DenEvent::DenActionNeeded => "den_action_needed",
            DenEvent::DenResolved => "den_resolved",
            DenEvent::DenQueriesChanged => "den_queries_changed",
        }
    }

    /// The event called `s`.
    pub fn parse(s: &str) -> Option<DenEvent> {
        DenEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// What a person reads for it.
    pub fn label(self) -> &'static str {
        match self {
            DenEvent::DenNew => "New Defender Experts Notification",
            DenEvent::DenExpertsAssigned => "Defender Experts are investigating",
            DenEvent::DenActionNeeded => "Your action is needed",
            DenEvent::DenResolved => "Resolved",
            DenEvent::DenQueriesChanged => "Recommended hunting queries changed",
        }
    }
}

fn is(v: &Option<String>, what: &str) -> bool {
    v.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case(what))
}

/// Assigned to Defender Experts.
pub fn experts_assigned(d: &DenIncident) -> bool {
    d.assigned_to.as_deref().is_some_and(|a| a.to_ascii_lowercase().contains("defender experts"))
}

/// Resolved.
pub fn resolved(d: &DenIncident) -> bool {
    is(&d.status, "resolved")
}

/// Not resolved, and assigned to the Customer or awaiting the customer's action.
pub fn action_needed(d: &DenIncident) -> bool {
    !resolved(d) && (is(&d.assigned_to, "customer") || is(&d.status, "awaitingAction"))
}

/// The recommended queries, whitespace ignored, as a set.
fn query_set(d: &DenIncident) -> std::collections::BTreeSet<String> {
    d.queries.iter().map(|q| q.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

/// The events from `prev` (None: never seen) to `cur`, in lifecycle order.
pub fn events(prev: Option<&DenIncident>, cur: &DenIncident) -> Vec<DenEvent> {
    let Some(prev) = prev else {
        let mut out = vec![DenEvent::DenNew];
        if action_needed(cur) {
            out.push(DenEvent::DenActionNeeded);
        }
        return out;
    };
    let mut out = Vec::new();
    if experts_assigned(cur) && !experts_assigned(prev) {
        out.push(DenEvent::DenExpertsAssigned);
    }
    if action_needed(cur) && !action_needed(prev) {
        out.push(DenEvent::DenActionNeeded);
    }
    if resolved(cur) && !resolved(prev) {
        out.push(DenEvent::DenResolved);
    }
    if query_set(cur) != query_set(prev) {
        out.push(DenEvent::DenQueriesChanged);
    }
    out
}

/// The fields kept of a DEN (not how it was recognised), as JSON.
fn kept(d: &DenIncident) -> BTreeMap<String, Value> {
    let mut v = match serde_json::to_value(d) {
        Ok(Value::Object(m)) => m.into_iter().collect::<BTreeMap<_, _>>(),
        _ => BTreeMap::new(),
    };
    v.remove("recognised");
    v.remove("skipped_queries");
    v
}

/// The fields that differ from `prev` to `cur`: field → [before, after].
pub fn changes(prev: Option<&DenIncident>, cur: &DenIncident) -> BTreeMap<String, [Value; 2]> {
    let before = prev.map(kept).unwrap_or_default();
    kept(cur)
        .into_iter()
        .filter_map(|(k, after)| {
            let was = before.get(&k).cloned().unwrap_or(Value::Null);
            (was != after).then_some((k, [was, after]))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn den(status: &str, assigned: Option<&str>) -> DenIncident {
        DenIncident {
            id: "7".into(),
            title: "Defender Experts: worm".into(),
            url: None,
            severity: Some("high".into()),
            status: Some(status.into()),
            created: None,
            last_update: Some("2026-12-07T10:00:00Z".into()),
            assigned_to: assigned.map(str::to_owned),
            classification: None,
            determination: None,
            description: None,
            recommended_actions: None,
            recognised: super::super::sync::Recognised::TitlePrefix,
            queries: vec!["T | take 1".into()],
            skipped_queries: 0,
        }
    }

    #[test]
    fn the_scripted_lifecycle_gives_one_event_per_step() {
        let new = den("active", None);
        let experts = den("active", Some("Defender Experts"));
        let customer = den("awaitingAction", Some("Customer"));
        let resolved = den("resolved", Some("Customer"));
        assert_eq!(events(None, &new), [DenEvent::DenNew]);
        assert_eq!(events(Some(&new), &experts), [DenEvent::DenExpertsAssigned]);
        assert_eq!(events(Some(&experts), &customer), [DenEvent::DenActionNeeded]);
        assert_eq!(events(Some(&customer), &resolved), [DenEvent::DenResolved]);
        assert!(events(Some(&resolved), &resolved).is_empty());
        // Seen for the first time already awaiting the customer: both.
        assert_eq!(events(None, &customer), [DenEvent::DenNew, DenEvent::DenActionNeeded]);
        // A step missed between two syncs: what holds now is told.
        assert_eq!(events(Some(&new), &customer), [DenEvent::DenActionNeeded]);
    }

    #[test]
    fn queries_changed_ignores_whitespace() {
        let a = den("active", None);
        let mut b = a.clone();
        b.queries = vec!["T  |\n take 1".into()];
        assert!(events(Some(&a), &b).is_empty());
        b.queries.push("U".into());
        assert_eq!(events(Some(&a), &b), [DenEvent::DenQueriesChanged]);
        let c = changes(Some(&a), &b);
        assert_eq!(c.keys().collect::<Vec<_>>(), ["queries"]);
        assert_eq!(DenEvent::parse("den_resolved"), Some(DenEvent::DenResolved));
        assert_eq!(DenEvent::parse("den_x"), None);
    }
}
