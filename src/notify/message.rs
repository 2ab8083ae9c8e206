//! The message a landed window sends, kept in the outbox as hunt's own JSON document, and
//! shaped for its receiver when it is sent: as it is (`json`), as an Adaptive Card (`teams`),
//! or as Slack Block Kit (`slack`).

use super::config::NotifyFormat;
use crate::executor::Outcome;
use crate::timespan::format_datetime;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One row of the sample: column → the service's value.
pub type Row = Map<String, Value>;

/// What hunt tells a receiver about one landed window of one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The query's id.
    pub query_id: String,
    /// The query's name.
    pub query_name: String,
    /// The tenant: its name in `hunt.toml`, else its id.
    pub tenant: String,
    /// The window's start (RFC 3339, UTC).
    pub window_start: String,
    /// The window's end (RFC 3339, UTC, exclusive).
    pub window_end: String,
    /// Rows landed.
    pub rows: u64,
    /// False when some part was cut at the service's row cap (`hunt.complete=false`).
    pub complete: bool,
    /// The files written: paths, or object URLs.
    pub files: Vec<String>,
    /// The service's request ids.
    pub request_ids: Vec<String>,
    /// The first rows (at most the notifier's `sample_rows`).
    pub sample: Vec<Row>,
    /// The Defender Experts Notification incident the query came from (its front matter's
    /// `den:`), else null.
    pub den: Option<Value>,
    /// Set when the message tells of a DEN's lifecycle event instead of a window: what is sent
    /// is then the notice (see [`crate::den::notice`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub den_event: Option<crate::den::notice::DenNotice>,
}

impl Message {
    /// The message of a landed `outcome` of `tenant`, with at most `sample_rows` of `sample`.
    pub fn of(outcome: &Outcome, tenant: &str, sample: &[Row], sample_rows: usize) -> Message {
        let q = &outcome.job.query;
        let den = q.extra.get("den").and_then(|v| serde_json::to_value(v).ok());
        Message {
            query_id: q.id.clone(),
            query_name: q.name.clone(),
            tenant: tenant.to_owned(),
            window_start: format_datetime(outcome.job.window.start),
            window_end: format_datetime(outcome.job.window.end),
            rows: outcome.rows as u64,
            complete: outcome.incomplete.is_empty(),
            files: outcome.files.iter().map(|f| f.location.clone()).collect(),
            request_ids: outcome.request_ids.clone(),
            sample: sample.iter().take(sample_rows).cloned().collect(),
            den,
            den_event: None,
        }
    }

    /// The message of a DEN lifecycle event: the outbox keys it by the incident, the event and
    /// its `lastUpdateDateTime` (see [`crate::den::watch`]).
    pub fn den_event(notice: crate::den::notice::DenNotice) -> Message {
        Message {
            query_id: format!("den:{}:{}", notice.incident_id, notice.event.as_str()),
            query_name: notice.title.clone(),
            tenant: notice.tenant.clone(),
            window_start: notice.last_update.clone(),
            window_end: notice.last_update.clone(),
            rows: 0,
            complete: true,
            files: Vec::new(),
            request_ids: Vec::new(),
            sample: Vec::new(),
            den: None,
            den_event: Some(notice),
        }
    }

    /// What identifies the message to its receiver (`x-hunt-notification-id`): a DEN event's
    /// dedupe key, else query/tenant/window.
    pub fn notification_id(&self, window: &str) -> String {
        match &self.den_event {
            Some(n) => n.dedupe_key.clone(),
            None => format!("{}/{}/{window}", self.query_id, self.tenant),
        }
    }

    /// The body to POST in `format`.
    pub fn body(&self, format: NotifyFormat) -> Value {
        if let Some(notice) = &self.den_event {
            return notice.body(format);
        }
        match format {
            NotifyFormat::Json => serde_json::to_value(self).unwrap_or(Value::Null),
            NotifyFormat::Teams => self.teams(),
            NotifyFormat::Slack => self.slack(),
        }
    }

    fn title(&self) -> String {
        let rows = if self.rows == 1 { "1 row".to_owned() } else { format!("{} rows", self.rows) };
        format!("hunt: {rows} from {}", self.query_name)
    }

    /// (label, value) pairs shown by the cards.
    fn facts(&self) -> Vec<(&'static str, String)> {
        let mut facts = vec![
            ("Query", self.query_id.clone()),
            ("Tenant", self.tenant.clone()),
            ("Window", format!("{} / {}", self.window_start, self.window_end)),
            ("Rows", self.rows.to_string()),
            (
                "Complete",
                if self.complete { "yes" } else { "no: some part hit the row cap" }.into(),
            ),
        ];
        if !self.request_ids.is_empty() {
            facts.push(("Request ids", cut(&self.request_ids.join(", "), 500)));
        }
        if !self.files.is_empty() {
            facts.push(("Files", cut(&self.files.join("\n"), 1500)));
        }
        if let Some(den) = &self.den {
            let field = |k: &str| den.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            facts.push(("DEN incident", format!("{} {}", field("incident_id"), field("title"))));
        }
        facts
    }

    /// The sample as JSON lines, cut to `max` characters.
    fn sample_text(&self, max: usize) -> Option<String> {
        if self.sample.is_empty() {
            return None;
        }
        let lines: Vec<String> =
            self.sample.iter().map(|r| serde_json::to_string(r).unwrap_or_default()).collect();
        Some(cut(&lines.join("\n"), max))
    }

    fn den_url(&self) -> Option<String> {
        let url = self.den.as_ref()?.get("url")?.as_str()?;
        url.starts_with("https://").then(|| url.to_owned())
    }

    /// An Adaptive Card (1.4) in a `message` with one attachment: what Teams Workflows
    /// ("when a Teams webhook request is received") and incoming webhooks both take.
    fn teams(&self) -> Value {
        let facts: Vec<Value> =
            self.facts().into_iter().map(|(k, v)| json!({ "title": k, "value": v })).collect();
        let mut body = vec![
            json!({ "type": "TextBlock", "size": "Large", "weight": "Bolder", "wrap": true,
                    "text": self.title() }),
            json!({ "type": "FactSet", "facts": facts }),
        ];
        if let Some(sample) = self.sample_text(12_000) {
            body.push(json!({ "type": "TextBlock", "weight": "Bolder", "wrap": true,
                              "text": format!("First {} rows", self.sample.len()) }));
            body.push(json!({ "type": "TextBlock", "wrap": true, "fontType": "Monospace",
                              "text": sample }));
        }
        let mut card = json!({
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": { "width": "Full" },
            "body": body,
        });
        if let Some(url) = self.den_url() {
            card["actions"] = json!([{ "type": "Action.OpenUrl", "title": "Open the incident",
                                       "url": url }]);
        }
        json!({
            "type": "message",
            "summary": self.title(),
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": card,
            }],
        })
    }

    /// Slack Block Kit: a header, the facts as fields, the sample as a code block; `text` is
    /// the notification's fallback.
    fn slack(&self) -> Value {
        // Slack: header text ≤ 150 characters, at most 10 fields of ≤ 2,000, section text ≤ 3,000.
        let fields: Vec<Value> = self
            .facts()
            .into_iter()
            .take(10)
            .map(|(k, v)| json!({ "type": "mrkdwn", "text": cut(&format!("*{k}*\n{}", escape_mrkdwn(&v)), 2000) }))
            .collect();
        let mut blocks = vec![
            json!({ "type": "header", "text": { "type": "plain_text", "text": cut(&self.title(), 150) } }),
            json!({ "type": "section", "fields": fields }),
        ];
        if let Some(sample) = self.sample_text(2_900) {
            let text = format!("```{}```", sample.replace("```", "'''"));
            blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }));
        }
        if let Some(url) = self.den_url() {
            blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn",
                "text": format!("<{}|Open the incident>", url.replace(['<', '>', '|'], "")) } }));
        }
        json!({ "text": self.title(), "blocks": blocks })
    }
}

/// `&`, `<` and `>` escaped as Slack's mrkdwn wants them.
pub(crate) fn escape_mrkdwn(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `s` cut to at most `max` characters, ending with `…` when cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        let mut row = Row::new();
        row.insert("DeviceName".into(), "pc-1".into());
        row.insert("Count".into(), 3.into());
        Message {
            query_id: "beacons".into(),
            query_name: "Beacons <&>".into(),
            tenant: "contoso".into(),
            window_start: "2026-11-22T10:00:00Z".into(),
            window_end: "2026-11-22T10:15:00Z".into(),
            rows: 2,
            complete: true,
            files: vec!["out/beacons/date=2026-11-22/a.parquet".into()],
            request_ids: vec!["req-1".into()],
            sample: vec![row.clone(), row],
            den: Some(json!({ "incident_id": "42", "title": "Worm",
                              "url": "https://security.microsoft.com/incidents/42" })),
            den_event: None,
        }
    }

    #[test]
    fn json_is_the_message_itself() {
        let m = message();
        let body = m.body(NotifyFormat::Json);
        assert_eq!(body["rows"], 2);
        assert_eq!(body["sample"][1]["DeviceName"], "pc-1");
        assert_eq!(body["den"]["incident_id"], "42");
        assert_eq!(serde_json::from_value::<Message>(body).unwrap(), m);
    }

    #[test]
    fn teams_is_an_adaptive_card_in_a_message() {
        let body = message().body(NotifyFormat::Teams);
        assert_eq!(body["type"], "message");
        let card = &body["attachments"][0]["content"];
        assert_eq!(
            body["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["body"][0]["text"], "hunt: 2 rows from Beacons <&>");
        assert_eq!(card["body"][1]["facts"][0]["value"], "beacons");
        assert!(card["body"][3]["text"].as_str().unwrap().contains("\"pc-1\""));
        assert_eq!(card["actions"][0]["url"], "https://security.microsoft.com/incidents/42");
    }

    #[test]
    fn slack_is_block_kit_within_its_limits() {
        let mut m = message();
        m.query_name = "x".repeat(400);
        m.sample = vec![m.sample[0].clone(); 100];
        m.sample[0].insert("Long".into(), "y".repeat(5000).into());
        let body = m.body(NotifyFormat::Slack);
        assert!(body["text"].as_str().unwrap().starts_with("hunt: 2 rows from x"));
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= 150);
        assert!(blocks[1]["fields"].as_array().unwrap().len() <= 10);
        let sample = blocks[2]["text"]["text"].as_str().unwrap();
        assert!(sample.starts_with("```") && sample.chars().count() <= 3000, "{}", sample.len());
        assert!(blocks[3]["text"]["text"].as_str().unwrap().contains("incidents/42|Open"));
    }
}
