//! The message a DEN lifecycle event sends: hunt's JSON document, with everything an ITSM
//! integration (ServiceNow, Jira, PagerDuty) needs to open, update or close a ticket and a
//! stable `dedupe_key`; or a readable card for Teams and Slack (title, severity, summary,
//! recommended actions, link).

use super::lifecycle::DenEvent;
use super::sync::DenIncident;
use crate::notify::config::NotifyFormat;
use crate::notify::message::{cut, escape_mrkdwn};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What hunt tells a receiver about one lifecycle event of one DEN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenNotice {
    /// `den_new`, `den_experts_assigned`, `den_action_needed`, `den_resolved` or
    /// `den_queries_changed`.
    pub event: DenEvent,
    /// `hunt:den:<tenant>:<incident>:<event>:<lastUpdateDateTime>`: the same for every delivery
    /// of this event, different for any other (an ITSM deduplicates on it).
    pub dedupe_key: String,
    /// The tenant: its name in `hunt.toml`, else its id.
    pub tenant: String,
    /// The incident id.
    pub incident_id: String,
    /// `incidentWebUrl`.
    pub incident_url: Option<String>,
    /// `displayName`.
    pub title: String,
    /// `severity`.
    pub severity: Option<String>,
    /// `status` (`active`, `inProgress`, `awaitingAction`, `resolved`).
    pub status: Option<String>,
    /// `assignedTo`.
    pub assigned_to: Option<String>,
    /// `classification`.
    pub classification: Option<String>,
    /// `determination`.
    pub determination: Option<String>,
    /// `description`: the executive summary.
    pub summary: Option<String>,
    /// `recommendedActions`.
    pub recommended_actions: Option<String>,
    /// `recommendedHuntingQueries[].kqlText`.
    pub recommended_queries: Vec<String>,
    /// `createdDateTime`.
    pub created: Option<String>,
    /// `lastUpdateDateTime`.
    pub last_update: String,
    /// The status and assignment before this event (null for `den_new`).
    pub previous: Option<Value>,
    /// `den_new` from `hunt schedule`: what the DEN's recommended queries found, run at once
    /// over its time frame (see [`crate::den::hunt`]); else empty.
    #[serde(default)]
    pub hunted: Vec<super::hunt::Hunted>,
}

impl DenNotice {
    /// The notice of `event` of `cur` (coming from `prev`) in `tenant`.
    pub fn of(
        event: DenEvent,
        tenant: &str,
        prev: Option<&DenIncident>,
        cur: &DenIncident,
    ) -> DenNotice {
        let last_update = cur.last_update.clone().unwrap_or_default();
        DenNotice {
            event,
            dedupe_key: format!("hunt:den:{tenant}:{}:{}:{last_update}", cur.id, event.as_str()),
            tenant: tenant.to_owned(),
            incident_id: cur.id.clone(),
            incident_url: cur.url.clone(),
            title: cur.title.clone(),
            severity: cur.severity.clone(),
            status: cur.status.clone(),
            assigned_to: cur.assigned_to.clone(),
            classification: cur.classification.clone(),
            determination: cur.determination.clone(),
            summary: cur.description.clone(),
            recommended_actions: cur.recommended_actions.clone(),
            recommended_queries: cur.queries.clone(),
            created: cur.created.clone(),
            last_update,
            previous: prev.map(|p| json!({ "status": p.status, "assigned_to": p.assigned_to })),
            hunted: Vec::new(),
        }
    }

    /// The body to POST in `format`.
    pub fn body(&self, format: NotifyFormat) -> Value {
        match format {
            NotifyFormat::Json => {
                let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
                v["source"] = json!("hunt");
                v
            }
            NotifyFormat::Teams => self.teams(),
            NotifyFormat::Slack => self.slack(),
        }
    }

    /// "Your action is needed: Defender Experts: worm".
    pub fn title_line(&self) -> String {
        format!("{}: {}", self.event.label(), self.title)
    }

    fn facts(&self) -> Vec<(&'static str, String)> {
        let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let mut facts = vec![
            ("Incident", self.incident_id.clone()),
            ("Tenant", self.tenant.clone()),
            ("Severity", or(&self.severity)),
            ("Status", or(&self.status)),
            ("Assigned to", or(&self.assigned_to)),
        ];
        if self.event == DenEvent::DenResolved || self.classification.is_some() {
            facts.push(("Classification", or(&self.classification)));
            facts.push(("Determination", or(&self.determination)));
        }
        facts.push(("Updated", self.last_update.clone()));
        if !self.hunted.is_empty() {
            let rows: u64 = self.hunted.iter().map(|h| h.rows).sum();
            let files: usize = self.hunted.iter().map(|h| h.files.len()).sum();
            let failed = self.hunted.iter().filter(|h| h.status == "failed").count();
            let mut text = format!(
                "{rows} rows, {files} files from {} recommended queries",
                self.hunted.len()
            );
            if failed > 0 {
                text.push_str(&format!(" ({failed} failed)"));
            }
            facts.push(("Hunted", text));
        }
        facts
    }

    fn link(&self) -> Option<&str> {
        self.incident_url
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    }

    fn teams(&self) -> Value {
        let facts: Vec<Value> =
            self.facts().into_iter().map(|(k, v)| json!({ "title": k, "value": v })).collect();
        let mut body = vec![
            json!({ "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
                    "text": cut(&self.title_line(), 500) }),
            json!({ "type": "FactSet", "facts": facts }),
        ];
        for (head, text) in
            [("Summary", &self.summary), ("Recommended actions", &self.recommended_actions)]
        {
            if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
                body.push(json!({ "type": "TextBlock", "weight": "Bolder", "text": head }));
                body.push(json!({ "type": "TextBlock", "wrap": true, "text": cut(text, 8_000) }));
            }
        }
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard", "version": "1.4", "msteams": { "width": "Full" },
            "body": body,
        });
        if let Some(url) = self.link() {
            card["actions"] =
                json!([{ "type": "Action.OpenUrl", "title": "Open the incident", "url": url }]);
        }
        json!({
            "type": "message",
            "summary": cut(&self.title_line(), 200),
            "attachments": [{ "contentType": "application/vnd.microsoft.card.adaptive",
                              "contentUrl": null, "content": card }],
        })
    }

    fn slack(&self) -> Value {
        let fields: Vec<Value> = self
            .facts()
            .into_iter()
            .take(10)
            .map(|(k, v)| json!({ "type": "mrkdwn", "text": cut(&format!("*{k}*\n{}", escape_mrkdwn(&v)), 2000) }))
            .collect();
        let mut blocks = vec![
            json!({ "type": "header", "text": { "type": "plain_text", "text": cut(&self.title_line(), 150) } }),
            json!({ "type": "section", "fields": fields }),
        ];
        for (head, text) in
            [("Summary", &self.summary), ("Recommended actions", &self.recommended_actions)]
        {
            if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
                let text = cut(&format!("*{head}*\n{}", escape_mrkdwn(text)), 3000);
                blocks
                    .push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }));
            }
        }
        if let Some(url) = self.link() {
            blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn",
                "text": format!("<{}|Open the incident>", url.replace(['<', '>', '|'], "")) } }));
        }
        json!({ "text": self.title_line(), "blocks": blocks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(event: DenEvent) -> DenNotice {
        let mut d = crate::den::lifecycle::tests::den("awaitingAction", Some("Customer"));
        d.url = Some("https://security.microsoft.com/incidents/7".into());
        d.description = Some("Raspberry Robin on pc-1 <&>".into());
        d.recommended_actions = Some("Isolate pc-1.".into());
        let prev = crate::den::lifecycle::tests::den("active", Some("Defender Experts"));
        DenNotice::of(event, "contoso", Some(&prev), &d)
    }

    #[test]
    fn json_carries_what_an_itsm_needs_and_a_stable_key() {
        let n = notice(DenEvent::DenActionNeeded);
        let v = n.body(NotifyFormat::Json);
        assert_eq!(v["event"], "den_action_needed");
        assert_eq!(v["dedupe_key"], "hunt:den:contoso:7:den_action_needed:2026-12-07T10:00:00Z");
        assert_eq!(v["incident_url"], "https://security.microsoft.com/incidents/7");
        assert_eq!(v["recommended_actions"], "Isolate pc-1.");
        assert_eq!(v["previous"]["assigned_to"], "Defender Experts");
        assert_eq!(v["recommended_queries"][0], "T | take 1");
        assert_eq!(notice(DenEvent::DenActionNeeded).dedupe_key, n.dedupe_key);
    }

    #[test]
    fn teams_and_slack_get_a_readable_card() {
        let n = notice(DenEvent::DenActionNeeded);
        let t = n.body(NotifyFormat::Teams);
        let card = &t["attachments"][0]["content"];
        assert_eq!(card["body"][0]["text"], "Your action is needed: Defender Experts: worm");
        assert_eq!(card["body"][3]["text"], "Raspberry Robin on pc-1 <&>");
        assert_eq!(card["actions"][0]["url"], "https://security.microsoft.com/incidents/7");
        let s = n.body(NotifyFormat::Slack);
        assert_eq!(s["blocks"][0]["type"], "header");
        assert!(s["blocks"][2]["text"]["text"].as_str().unwrap().contains("&lt;&amp;&gt;"));
        assert!(s["blocks"][4]["text"]["text"].as_str().unwrap().contains("|Open the incident>"));
    }
}
