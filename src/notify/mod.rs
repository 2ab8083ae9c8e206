//! Notifications on hits: when a window of a query that names a notifier lands with at least
//! the notifier's `min_rows` rows, hunt POSTs one message about it to the notifier's webhook
//! (hunt's JSON, a Teams card, or Slack blocks).
//!
//! * `config`: the `[[notify]]` tables of `hunt.toml`;
//! * `message`: what a message holds and how each receiver gets it;
//! * `policy`: when an undelivered message is tried again, pure;
//! * `courier`: the sender, running beside the schedule (never in the landing path).
//!
//! Exactly once per (notifier, tenant, query, window): messages are queued in the tenant's state
//! file in the transaction that moves the query's watermark (the outbox, see
//! [`crate::schedule::state::outbox`]), and marked delivered as soon as the receiver answers
//! 2xx. A receiver that stays down delays nothing but its own messages.
//!
//! A query names its notifiers in its front matter (`notify: soc-teams`, or a list; `notify: []`
//! for none); a query that does not notifies the `[[notify]]` tables marked `default = true`.
//! The webhook URL is a secret (it carries its own key): it is read from the variable the table
//! names, must be `https://` (plain `http://` only to loopback), is never followed through a
//! redirect, and is never printed, logged or stored: errors and `hunt status` name the notifier.

pub mod config;
pub mod courier;
pub mod message;
pub mod policy;

use crate::executor::Outcome;
use crate::query::Query;
use crate::schedule::state::outbox::NewNote;
use config::{NotifierConfig, NotifyFormat};
use message::Message;
use serde_yaml_ng::Value;
use std::collections::BTreeSet;

/// A notifier that cannot be used; never holds the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// A query names a notifier `hunt.toml` does not have, or names it badly.
    #[error("{}:{line}:{col}: notify: {message}", path.display())]
    Query {
        /// The query's file.
        path: std::path::PathBuf,
        /// 1-based line of its `notify:`.
        line: usize,
        /// 1-based column of its `notify:`'s value.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// The variable holding the URL is not set or empty.
    #[error(
        "notifier {name:?}: the environment variable {var} (its url_env) is not set: set it to \
         the webhook URL"
    )]
    MissingUrl {
        /// The notifier.
        name: String,
        /// The variable.
        var: String,
    },
    /// The URL is not one hunt sends to.
    #[error("notifier {name:?}: the webhook URL in {var} {reason}")]
    BadUrl {
        /// The notifier.
        name: String,
        /// The variable.
        var: String,
        /// Why (never the URL itself).
        reason: String,
    },
}

/// A webhook URL: a secret, so its `Debug` hides it and it has no `Display`.
#[derive(Clone)]
pub struct WebhookUrl(url::Url);

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl(<hidden>)")
    }
}

impl WebhookUrl {
    /// Checks `value` (from `var`, for notifier `name`): `https://`, or `http://` to a loopback
    /// host; no credentials in it are refused (a webhook's key is in its path or query).
    pub fn parse(name: &str, var: &str, value: &str) -> Result<WebhookUrl, NotifyError> {
        let bad = |reason: &str| NotifyError::BadUrl {
            name: name.to_owned(),
            var: var.to_owned(),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(value.trim()).map_err(|_| bad("is not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if crate::graph::is_loopback(&url) => {}
            "http" => {
                return Err(bad(
                    "uses plain http:// to a host that is not loopback: only https:// is \
                     allowed (the message and the URL's key would cross the network in clear)",
                ));
            }
            _ => return Err(bad("must be an https:// URL")),
        }
        if url.host().is_none() {
            return Err(bad("has no host"));
        }
        Ok(WebhookUrl(url))
    }

    /// The URL, for the HTTP client only.
    pub(crate) fn url(&self) -> &url::Url {
        &self.0
    }

    /// Masks for the URL as a peer or a library may quote it: whole, its path and query, and
    /// each path segment and query value long enough to be a key.
    pub fn masks(&self) -> crate::graph::peer::Masks {
        let url = &self.0;
        let mut values: Vec<String> =
            vec![url.as_str().to_owned(), url[url::Position::BeforePath..].to_owned()];
        values.extend(url.path_segments().into_iter().flatten().map(str::to_owned));
        values.extend(url.query_pairs().map(|(_, v)| v.into_owned()));
        crate::graph::peer::Masks::of(values.iter().map(String::as_str))
    }
}

/// A usable notifier: its settings and its URL.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// Its settings.
    pub config: NotifierConfig,
    /// Its URL (secret).
    pub url: WebhookUrl,
}

/// The notifiers of a process: every `[[notify]]` table, with the URL of each that has one.
#[derive(Debug, Clone, Default)]
pub struct Notifiers {
    configs: Vec<NotifierConfig>,
    usable: Vec<Notifier>,
}

impl Notifiers {
    /// The notifiers of `configs`, each with its URL read from the environment through `env`.
    /// Refuses a query of `queries` naming an unknown notifier (with the place of its
    /// `notify:`), and a notifier they use whose variable is unset or holds a URL hunt does not
    /// send to; a notifier none of them uses is usable when its variable holds a good URL (a
    /// query edited while the daemon runs may name it).
    pub fn resolve(
        configs: &[NotifierConfig],
        queries: &[&Query],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Notifiers, NotifyError> {
        let mut used = BTreeSet::new();
        for q in queries {
            used.extend(names_of(q, configs)?);
        }
        let mut usable = Vec::new();
        for c in configs {
            let value = env(&c.url_env).filter(|v| !v.trim().is_empty());
            let url = match value {
                Some(v) => WebhookUrl::parse(&c.name, &c.url_env, &v),
                None => {
                    Err(NotifyError::MissingUrl { name: c.name.clone(), var: c.url_env.clone() })
                }
            };
            match url {
                Ok(url) => usable.push(Notifier { config: c.clone(), url }),
                Err(e) if used.contains(&c.name) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(Notifiers { configs: configs.to_vec(), usable })
    }

    /// Whether no notifier can be sent to.
    pub fn is_empty(&self) -> bool {
        self.usable.is_empty()
    }

    /// Whether some query of `queries` notifies a notifier that can be sent to.
    pub fn used_by(&self, queries: &[&Query]) -> bool {
        queries.iter().any(|q| !self.of(q).is_empty())
    }

    /// The usable notifier called `name`.
    pub fn get(&self, name: &str) -> Option<&Notifier> {
        self.usable.iter().find(|n| n.config.name == name)
    }

    /// Whether `hunt.toml` has a `[[notify]]` table called `name` (usable here or not).
    pub fn configured(&self, name: &str) -> bool {
        self.configs.iter().any(|c| c.name == name)
    }

    /// The usable notifiers of `query` (a name it cannot use is logged).
    fn of(&self, query: &Query) -> Vec<&Notifier> {
        let names = match names_of(query, &self.configs) {
            Ok(names) => names,
            Err(e) => {
                tracing::error!(query = %query.id, "notifies no one: {e}");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for name in names {
            match self.get(&name) {
                Some(n) => out.push(n),
                None => tracing::error!(
                    query = %query.id, notify = %name,
                    "not notified: the notifier has no usable URL (its variable was not set, or \
                     not to an https:// URL, when hunt started)"
                ),
            }
        }
        out
    }

    /// How many sample rows `query`'s messages need (0: it notifies no one).
    pub fn sample_rows(&self, query: &Query) -> usize {
        self.of(query).iter().map(|n| n.config.sample_rows).max().unwrap_or(0)
    }

    /// The notifications of `outcome` (landed, with at least each notifier's `min_rows` rows)
    /// for the outbox; `tenant` names the tenant in the message.
    pub fn notes(&self, outcome: &Outcome, tenant: &str) -> Vec<NewNote> {
        if !outcome.failed.is_empty() || outcome.stopped {
            return Vec::new();
        }
        let q = &outcome.job.query;
        self.of(q)
            .into_iter()
            .filter(|n| outcome.rows as u64 >= n.config.min_rows)
            .map(|n| NewNote {
                notify: n.config.name.clone(),
                message: Message::of(outcome, tenant, &outcome.sample, n.config.sample_rows),
                query_id: q.id.clone(),
                window: outcome.job.window,
            })
            .collect()
    }

    /// The usable notifiers that asked for DEN lifecycle event `event` (`den_events`).
    pub fn den_targets(&self, event: crate::den::lifecycle::DenEvent) -> Vec<&Notifier> {
        self.usable.iter().filter(|n| n.config.den_events.contains(&event)).collect()
    }

    /// Whether some usable notifier asked for DEN lifecycle events.
    pub fn wants_den_events(&self) -> bool {
        self.usable.iter().any(|n| !n.config.den_events.is_empty())
    }

    /// The notifiers of `hunt.toml` that asked for DEN events but have no usable URL here.
    pub fn den_unusable(&self) -> Vec<&str> {
        self.configs
            .iter()
            .filter(|c| !c.den_events.is_empty() && self.get(&c.name).is_none())
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The format of notifier `name`'s messages.
    pub fn format(&self, name: &str) -> Option<NotifyFormat> {
        self.get(name).map(|n| n.config.format)
    }
}

/// The notifiers `query` names: its front matter's `notify` (a name, a comma-separated text or a
/// list; empty for none), else the `default = true` tables.
pub fn names_of(query: &Query, configs: &[NotifierConfig]) -> Result<Vec<String>, NotifyError> {
    let err = |message: String| {
        let (line, col) = std::fs::read_to_string(&query.source)
            .ok()
            .and_then(|t| {
                crate::library::front_matter::front_matter_key_position(&t, "notify")
                    .or_else(|| yaml_key_line(&t, "notify"))
            })
            .unwrap_or((1, 1));
        NotifyError::Query { path: query.source.clone(), line, col, message }
    };
    let names: Vec<String> = match query.extra.get("notify") {
        None => return Ok(configs.iter().filter(|c| c.default).map(|c| c.name.clone()).collect()),
        Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
        }
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.trim().to_owned()),
                _ => Err(err("each item must be a notifier's name".into())),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(err(
                "must be a notifier's name or a list of them, such as [soc-teams, soar]".into(),
            ));
        }
    };
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !configs.iter().any(|c| c.name == name) {
            let known: Vec<&str> = configs.iter().map(|c| c.name.as_str()).collect();
            let known = match known.is_empty() {
                true => "hunt.toml has no [[notify]] tables".to_owned(),
                false => format!("known: {}", known.join(", ")),
            };
            return Err(err(format!("no [[notify]] table named {name:?} in hunt.toml ({known})")));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// 1-based (line, col) of a top-level YAML `key:` (Sentinel files).
fn yaml_key_line(text: &str, key: &str) -> Option<(usize, usize)> {
    text.lines()
        .position(|l| l.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with(':')))
        .map(|i| (i + 1, 1))
}

#[cfg(test)]
mod tests;
