//! What an access token says about itself, for `hunt auth`: its claims (read, never verified:
//! Graph verifies them), who it is for (an app, or a person), when it expires, and the
//! permissions it carries (`roles` app-only, `scp` delegated) against what each command needs.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What each command needs, as Graph names the permissions.
pub const NEEDS: [(&str, &str); 3] = [
    ("run, schedule", "ThreatHunting.Read.All"),
    ("den sync", "SecurityIncident.Read.All"),
    ("den sync", "SecurityAlert.Read.All"),
];

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenFacts {
    /// `tid`.
    pub tenant: Option<String>,
    /// `appid` or `azp`: the app the token was issued to.
    pub app: Option<String>,
    /// `upn`, `unique_name` or `preferred_username`: the person, for a delegated token.
    pub user: Option<String>,
    /// `exp`.
    pub expires: Option<DateTime<Utc>>,
    /// `roles` (app-only permissions).
    pub roles: Vec<String>,
    /// `scp` (delegated permissions), split on spaces.
    pub scopes: Vec<String>,
}

impl TokenFacts {
    /// The claims of `token`, when it is a JWT; `None` for an opaque token.
    pub fn read(token: &str) -> Option<TokenFacts> {
        let claims = token.split('.').nth(1)?;
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims.trim_end_matches('=')).ok()?)
                .ok()?;
        let text = |k: &str| claims[k].as_str().map(str::to_owned);
        let list = |v: &serde_json::Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        Some(TokenFacts {
            tenant: text("tid"),
            app: text("appid").or_else(|| text("azp")),
            user: text("upn")
                .or_else(|| text("unique_name"))
                .or_else(|| text("preferred_username")),
            expires: claims["exp"].as_i64().and_then(|e| DateTime::from_timestamp(e, 0)),
            roles: list(&claims["roles"]),
            scopes: text("scp")
                .map(|s| s.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }

    /// Whether the token carries `permission`, as a role or a scope.
    pub fn has(&self, permission: &str) -> bool {
        self.roles.iter().chain(&self.scopes).any(|p| p.eq_ignore_ascii_case(permission))
    }

    /// Whether it acts for a person (delegated) rather than for an app.
    pub fn delegated(&self) -> bool {
        self.user.is_some() || !self.scopes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let enc = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(serde_json::json!({"alg": "RS256"})), enc(claims))
    }

    #[test]
    fn app_and_delegated_tokens_read_their_permissions() {
        let app = TokenFacts::read(&jwt(serde_json::json!({
            "tid": "t", "appid": "a", "exp": 1_800_000_000,
            "roles": ["ThreatHunting.Read.All"]
        })))
        .unwrap();
        assert_eq!((app.tenant.as_deref(), app.app.as_deref()), (Some("t"), Some("a")));
        assert!(app.has("threathunting.read.all") && !app.has("SecurityAlert.Read.All"));
        assert!(!app.delegated());
        assert_eq!(app.expires.unwrap().timestamp(), 1_800_000_000);
        let person = TokenFacts::read(&jwt(serde_json::json!({
            "tid": "t", "azp": "cli", "upn": "hunter@contoso.com",
            "scp": "ThreatHunting.Read.All SecurityIncident.Read.All"
        })))
        .unwrap();
        assert!(person.delegated() && person.has("SecurityIncident.Read.All"));
        assert_eq!(person.user.as_deref(), Some("hunter@contoso.com"));
        assert_eq!(TokenFacts::read("opaque-token"), None);
    }
}
