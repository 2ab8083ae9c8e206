//! Errors from the Graph API and the token endpoint, and the parsers for their envelopes.
//!
//! Graph errors arrive as `{"error":{"code","message","innerError":{"request-id",…}}}` with every
//! variation the service has shown: `innerError` or `innererror`, `request-id` or `requestId`,
//! empty `code` or `message`, the legacy `{code,message,target}` shape, or no JSON at all (a
//! gateway's HTML page). Entra (token) errors are `{"error","error_description","error_codes",…}`.
//! Every parser here accepts anything and keeps what it can; none of them fails.

use super::peer::Masks;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// A non-success answer from Graph, with everything needed to report or retry it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// `error.code` (may be empty: the service sends `""` for some 400s).
    pub code: String,
    /// `error.message` (may be empty: 500/504 `UnknownError`). For a body that is not a Graph
    /// envelope, the start of the body.
    pub message: String,
    /// The service's `request-id` (header, else `innerError`).
    pub request_id: Option<String>,
    /// The `client-request-id` hunt sent (echoed by the service).
    pub client_request_id: Option<String>,
    /// `innerError.date`, when given.
    pub date: Option<String>,
    /// `Retry-After`, when the service sent one.
    pub retry_after: Option<Duration>,
}

impl ServiceError {
    /// Builds a `ServiceError` from a status, the body, and the relevant headers. Every text
    /// taken from the body is cleaned by `masks` (secrets hunt sent masked, control characters
    /// escaped, long texts cut).
    pub fn from_response(
        status: u16,
        body: &[u8],
        request_id_header: Option<&str>,
        client_request_id: Option<&str>,
        retry_after: Option<Duration>,
        masks: &Masks,
    ) -> ServiceError {
        let env = parse_graph_envelope(body);
        let message = match env.message {
            Some(m) => m,
            None if env.code.is_none() => body_excerpt(body),
            None => String::new(),
        };
        let clean = |s: String| masks.clean(&s);
        ServiceError {
            status,
            code: clean(env.code.unwrap_or_default()),
            message: clean(message),
            request_id: request_id_header.map(str::to_owned).or(env.request_id.map(clean)),
            client_request_id: client_request_id
                .map(str::to_owned)
                .or(env.client_request_id.map(clean)),
            date: env.date.map(clean),
            retry_after,
        }
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.code.is_empty() {
            write!(f, " {}", self.code)?;
        }
        if self.message.is_empty() {
            write!(f, " (the service gave no message)")?;
        } else {
            write!(f, ": {}", self.message)?;
        }
        if self.status == 403 {
            write!(
                f,
                " (the token lacks a permission: hunting needs ThreatHunting.Read.All, DEN sync \
                 SecurityIncident.Read.All and SecurityAlert.Read.All; `hunt auth` shows what it \
                 carries)"
            )?;
        }
        match (&self.request_id, &self.client_request_id) {
            (Some(r), Some(c)) => write!(f, " [request-id {r}, client-request-id {c}]"),
            (Some(r), None) => write!(f, " [request-id {r}]"),
            (None, Some(c)) => write!(f, " [client-request-id {c}]"),
            (None, None) => Ok(()),
        }
    }
}

/// What could be read from a Graph error body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GraphEnvelope {
    /// `error.code` (a number in the legacy shape is kept as text).
    pub code: Option<String>,
    /// `error.message`.
    pub message: Option<String>,
    /// `innerError.request-id` / `requestId`, or the legacy `target`.
    pub request_id: Option<String>,
    /// `innerError.client-request-id`.
    pub client_request_id: Option<String>,
    /// `innerError.date`.
    pub date: Option<String>,
}

#[derive(Deserialize)]
struct RawEnvelope {
    error: Option<RawError>,
}

#[derive(Deserialize)]
struct RawError {
    code: Option<serde_json::Value>,
    message: Option<serde_json::Value>,
    target: Option<String>,
    #[serde(rename = "innerError", alias = "innererror", alias = "InnerError")]
    inner: Option<RawInner>,
}

#[derive(Deserialize)]
struct RawInner {
    #[serde(rename = "request-id", alias = "requestId")]
    request_id: Option<String>,
    #[serde(rename = "client-request-id", alias = "clientRequestId")]
    client_request_id: Option<String>,
    date: Option<String>,
}

fn value_text(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Parses a Graph error body; anything unreadable yields an empty envelope.
pub fn parse_graph_envelope(body: &[u8]) -> GraphEnvelope {
    let Ok(RawEnvelope { error: Some(e) }) = serde_json::from_slice::<RawEnvelope>(body) else {
        return GraphEnvelope::default();
    };
    let (request_id, client_request_id, date) = match e.inner {
        Some(i) => (i.request_id, i.client_request_id, i.date),
        None => (None, None, None),
    };
    GraphEnvelope {
        code: value_text(e.code),
        message: value_text(e.message),
        request_id: request_id.or(e.target),
        client_request_id,
        date,
    }
}

/// The first 300 characters of a body that is not a Graph envelope, on one line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// The longest `Retry-After` hunt reads; longer asks (`1e19`, a date in the year 9999) are read
/// as this. No service means more, and callers add the pause to an `Instant`, which panics on
/// overflow (`1e19` seconds did, found by `tests/fuzz.rs`).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Reads `Retry-After`: decimal seconds (`10`, `2.128`) or an HTTP date. Negative or unreadable
/// values (`-1`, `NaN`, `1e400`) give `None`; a date in the past gives zero; anything beyond
/// [`MAX_RETRY_AFTER`] gives that.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        if !secs.is_finite() {
            return None;
        }
        // `try_from_secs_f64` refuses values past u64 seconds, which are still a long wait.
        return Duration::try_from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64()))
            .ok()
            .map(|d| d.min(MAX_RETRY_AFTER));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

/// A refusal from the Microsoft identity platform token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraError {
    /// HTTP status.
    pub status: u16,
    /// OAuth `error` (`invalid_client`, `unauthorized_client`, …).
    pub error: String,
    /// `error_description`'s first line (`AADSTS7000215: Invalid client secret provided. …`).
    pub description: String,
    /// `error_codes` (AADSTS numbers).
    pub codes: Vec<i64>,
    /// `trace_id`.
    pub trace_id: Option<String>,
    /// `correlation_id`.
    pub correlation_id: Option<String>,
}

#[derive(Deserialize)]
struct RawEntra {
    error: Option<String>,
    error_description: Option<String>,
    error_codes: Option<Vec<i64>>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
}

impl EntraError {
    /// Parses a token-endpoint error body; a body that is not JSON becomes its excerpt. Every
    /// text is cleaned by `masks` (a peer may quote the posted form, secret included).
    pub fn from_response(status: u16, body: &[u8], masks: &Masks) -> EntraError {
        let clean = |s: &str| masks.clean(s);
        match serde_json::from_slice::<RawEntra>(body) {
            Ok(raw) => EntraError {
                status,
                error: clean(&raw.error.unwrap_or_default()),
                description: clean(
                    raw.error_description
                        .as_deref()
                        .and_then(|d| d.lines().next())
                        .unwrap_or("")
                        .trim(),
                ),
                codes: raw.error_codes.unwrap_or_default(),
                trace_id: raw.trace_id.as_deref().map(clean),
                correlation_id: raw.correlation_id.as_deref().map(clean),
            },
            Err(_) => EntraError {
                status,
                error: String::new(),
                description: clean(&body_excerpt(body)),
                codes: Vec::new(),
                trace_id: None,
                correlation_id: None,
            },
        }
    }

    /// A hint for the AADSTS codes users meet most.
    pub fn hint(&self) -> Option<&'static str> {
        let hint = match self.codes.first()? {
            7000215 => "the client secret is wrong: use the secret's Value, not its ID",
            7000222 => "the client secret has expired: create a new one in the app registration",
            700016 => {
                "no such application in this tenant: check AZURE_CLIENT_ID and AZURE_TENANT_ID"
            }
            90002 => "tenant not found: check AZURE_TENANT_ID and AZURE_AUTHORITY_HOST (cloud)",
            700027 | 50012 => {
                "the certificate assertion was refused: is this certificate uploaded to the app registration?"
            }
            70011 => {
                "invalid scope: check HUNT_GRAPH_URL matches the cloud of AZURE_AUTHORITY_HOST"
            }
            53003 => "blocked by Conditional Access",
            _ => return None,
        };
        Some(hint)
    }
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.error.is_empty() {
            write!(f, " {}", self.error)?;
        }
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        if let Some(h) = self.hint() {
            write!(f, " (hint: {h})")?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, " [trace-id {t}")?;
            match &self.correlation_id {
                Some(c) => write!(f, ", correlation-id {c}]")?,
                None => write!(f, "]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::retry::Kind;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/graph/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn graph_429_envelope_with_inner_error() {
        let e = ServiceError::from_response(
            429,
            &fixture("error.graph.429-TooManyRequests.json"),
            None,
            None,
            parse_retry_after("2.128", chrono::DateTime::UNIX_EPOCH),
            &Masks::none(),
        );
        assert_eq!(e.code, "TooManyRequests");
        assert_eq!(e.message, "Please retry again later.");
        assert_eq!(e.request_id.as_deref(), Some("94fb3b52-452a-4535-a601-69e0a90e3aa2"));
        assert_eq!(e.date.as_deref(), Some("2020-08-18T12:51:51"));
        assert_eq!(e.retry_after, Some(Duration::from_millis(2128)));
    }

    #[test]
    fn request_id_spellings_and_header_precedence() {
        let new =
            parse_graph_envelope(&fixture("error.graph.example-invalidRange.request-id.json"));
        let old = parse_graph_envelope(&fixture(
            "error.graph.example-invalidRange.requestId-older-version.json",
        ));
        assert_eq!(new.request_id.as_deref(), Some("request-id"));
        assert_eq!(old.request_id.as_deref(), Some("request-id"));
        assert_eq!(new.code.as_deref(), Some("invalidRange"));
        let body = br#"{"error":{"code":"x","message":"m","innererror":{"request-id":"in-body"}}}"#;
        assert_eq!(parse_graph_envelope(body).request_id.as_deref(), Some("in-body"));
        let e = ServiceError::from_response(
            400,
            body,
            Some("from-header"),
            Some("mine"),
            None,
            &Masks::none(),
        );
        assert_eq!(e.request_id.as_deref(), Some("from-header"));
        assert_eq!(e.client_request_id.as_deref(), Some("mine"));
    }

    #[test]
    fn empty_message_and_empty_code_are_kept_and_shown_plainly() {
        let e = ServiceError::from_response(
            500,
            &fixture("derived.error.runHuntingQuery.500-UnknownError-empty-message.json"),
            None,
            None,
            None,
            &Masks::none(),
        );
        assert_eq!(e.code, "UnknownError");
        assert_eq!(e.message, "");
        assert!(e.to_string().contains("the service gave no message"), "{e}");
        assert!(e.to_string().contains("client-request-id 00000000"), "{e}");
        let top = br#"{"error":{"code":"","message":"The limit of '50' for Top query has been exceeded.","details":[],"innerError":{"request-id":"r"}}}"#;
        let e = ServiceError::from_response(400, top, None, None, None, &Masks::none());
        assert_eq!(e.code, "");
        assert_eq!(
            e.to_string(),
            "HTTP 400: The limit of '50' for Top query has been exceeded. [request-id r]"
        );
    }

    #[test]
    fn legacy_and_non_json_bodies() {
        let e = ServiceError::from_response(
            429,
            &fixture("derived.error.legacy-MDE-AH-API.429-quota.json"),
            None,
            None,
            None,
            &Masks::none(),
        );
        assert_eq!(e.code, "429");
        assert!(e.message.contains("maximum allowed 45 per 00:01:00"));
        assert_eq!(e.request_id.as_deref(), Some("00000000-0000-0000-0000-000000000000"));
        let e = ServiceError::from_response(
            502,
            b"<html>\n<body>Bad   Gateway</body></html>",
            None,
            None,
            None,
            &Masks::none(),
        );
        assert_eq!(e.message, "<html> <body>Bad Gateway</body></html>");
        let e = ServiceError::from_response(500, b"", None, None, None, &Masks::none());
        assert_eq!(e.message, "");
        let e = ServiceError::from_response(
            400,
            br#"{"error":"nope"}"#,
            None,
            None,
            None,
            &Masks::none(),
        );
        assert_eq!(e.message, r#"{"error":"nope"}"#);
    }

    #[test]
    fn result_size_400_is_recognised() {
        let e = ServiceError::from_response(
            400,
            br#"{"error":{"code":"BadRequest","message":"Query execution has exceeded the allowed result size. Optimize your query by limiting the number of results and try again."}}"#,
            None,
            None,
            None, &Masks::none(),);
        assert_eq!(e.kind(), Kind::TooLarge);
        let e = ServiceError::from_response(
            400,
            &fixture("derived.error.runHuntingQuery.400-BadRequest-query-limits.json"),
            None,
            None,
            None,
            &Masks::none(),
        );
        assert_ne!(e.kind(), Kind::TooLarge);
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap().to_utc();
        assert_eq!(parse_retry_after("10", now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after(" 2.128 ", now), Some(Duration::from_millis(2128)));
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("Sun, 22 Nov 2026 09:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("inf", now), None);
        assert_eq!(parse_retry_after("1e400", now), None, "infinite");
        // Longer than a day, even beyond a Duration or an Instant, reads as a day.
        for long in ["86401", "1e19", "1e20", "Fri, 31 Dec 9999 23:59:59 GMT"] {
            assert_eq!(parse_retry_after(long, now), Some(MAX_RETRY_AFTER), "{long}");
        }
    }

    #[test]
    fn entra_error_shows_code_description_hint_and_ids() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: t1\r\nCorrelation ID: c1\r\nTimestamp: 2026-11-22 10:00:00Z","error_codes":[7000215],"timestamp":"2026-11-22 10:00:00Z","trace_id":"t1","correlation_id":"c1"}"#;
        let e = EntraError::from_response(401, body, &Masks::none());
        assert_eq!(e.codes, vec![7000215]);
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."
            ),
            "{shown}"
        );
        assert!(!shown.contains("Trace ID: t1\r"), "{shown}");
        assert!(shown.contains("hint: the client secret is wrong"), "{shown}");
        assert!(shown.contains("[trace-id t1, correlation-id c1]"), "{shown}");
        let e = EntraError::from_response(503, b"Service Unavailable", &Masks::none());
        assert_eq!(e.description, "Service Unavailable");
    }
}
