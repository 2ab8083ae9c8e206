//! `[[notify]]` tables of `hunt.toml`, as written and as checked: each names a webhook by the
//! environment variable holding its URL (the URL carries its secret, so it is never in the file).
//!
//! ```toml
//! [[notify]]
//! name = "soc-teams"            # what queries name in `notify:` and what logs and status show
//! url_env = "HUNT_TEAMS_WEBHOOK" # the variable holding the webhook URL (https://, or loopback)
//! format = "teams"              # json (default) | teams | slack
//! min_rows = 1                  # windows with fewer rows send nothing
//! sample_rows = 10              # rows shown in the message
//! default = true                # queries without `notify:` in their front matter notify here
//! den_events = ["den_new", "den_action_needed"] # DEN lifecycle events sent here (default none)
//! ```

use serde::Deserialize;
use toml::Spanned;

/// The most rows a message may show (webhook receivers cap message sizes: Teams at 28 KB,
/// Slack at 50 blocks of 3,000 characters).
pub const SAMPLE_ROWS_MAX: usize = 100;

/// How a message is shaped for its receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// hunt's own JSON document (for a SOAR, a Logic App, a script).
    #[default]
    Json,
    /// An Adaptive Card in a `message`, as Teams Workflows and incoming webhooks take it.
    Teams,
    /// Slack Block Kit, as Slack incoming webhooks take it.
    Slack,
}

impl NotifyFormat {
    /// `json`, `teams` or `slack`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyFormat::Json => "json",
            NotifyFormat::Teams => "teams",
            NotifyFormat::Slack => "slack",
        }
    }
}

/// One `[[notify]]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileNotifier {
    name: Spanned<String>,
    url_env: Option<Spanned<String>>,
    #[serde(default)]
    format: NotifyFormat,
    min_rows: Option<Spanned<i64>>,
    sample_rows: Option<Spanned<i64>>,
    #[serde(default)]
    default: bool,
    den_events: Option<Spanned<Vec<String>>>,
}

/// One notifier, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifierConfig {
    /// Its name, unique in the file.
    pub name: String,
    /// The environment variable holding its webhook URL.
    pub url_env: String,
    /// How its messages are shaped.
    pub format: NotifyFormat,
    /// Windows with fewer rows send nothing (default 1).
    pub min_rows: u64,
    /// Rows shown in a message (default 10, at most [`SAMPLE_ROWS_MAX`]).
    pub sample_rows: usize,
    /// Queries without `notify:` notify here.
    pub default: bool,
    /// The Defender Experts Notification lifecycle events sent here (see [`crate::den`]).
    pub den_events: Vec<crate::den::lifecycle::DenEvent>,
}

/// Whether `name` may name a notifier or an environment variable: 1 to 64 ASCII letters,
/// digits, `.`, `_` or `-`, starting with a letter or digit.
fn plain_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().all(ok)
}

/// Checks the `[[notify]]` tables of one file; `locate` turns a byte offset of the file into
/// `line:col`, and errors start with it.
pub fn check(
    tables: Vec<FileNotifier>,
    locate: &dyn Fn(usize) -> String,
) -> Result<Vec<NotifierConfig>, String> {
    let place = |at: usize, e: String| format!("{}: {e}", locate(at));
    let mut out: Vec<NotifierConfig> = Vec::new();
    for t in tables {
        let at = t.name.span().start;
        let name = t.name.into_inner();
        if !plain_name(&name) {
            return Err(place(
                at,
                format!(
                    "[[notify]] name {name:?} must be 1 to 64 letters, digits, '.', '_' or '-'"
                ),
            ));
        }
        if out.iter().any(|n| n.name == name) {
            return Err(place(at, format!("[[notify]] {name:?} is defined twice")));
        }
        let Some(url_env) = t.url_env else {
            return Err(place(
                at,
                format!(
                    "[[notify]] {name:?} needs url_env: the name of the environment variable \
                     holding its webhook URL (the URL is a secret: it is never in hunt.toml)"
                ),
            ));
        };
        let env_at = url_env.span().start;
        let url_env = url_env.into_inner();
        if !plain_name(&url_env) || url_env.contains(['.', '-']) {
            return Err(place(
                env_at,
                // Not shown: it may be the URL itself, pasted in the wrong place.
                format!(
                    "[[notify]] {name:?}: url_env must name an environment variable (letters, \
                     digits and '_'), such as \"HUNT_TEAMS_WEBHOOK\"; the URL itself goes in \
                     that variable, never in hunt.toml"
                ),
            ));
        }
        let count = |key: &str, v: Option<Spanned<i64>>, default: u64, max: u64| {
            let Some(v) = v else { return Ok(default) };
            let (at, n) = (v.span().start, *v.get_ref());
            u64::try_from(n).ok().filter(|n| *n <= max).ok_or_else(|| {
                place(
                    at,
                    format!("[[notify]] {name:?}: {key} must be between 0 and {max}, not {n}"),
                )
            })
        };
        let min_rows = count("min_rows", t.min_rows, 1, i64::MAX as u64)?;
        let sample_rows = count("sample_rows", t.sample_rows, 10, SAMPLE_ROWS_MAX as u64)? as usize;
        let mut den_events = Vec::new();
        if let Some(events) = t.den_events {
            let at = events.span().start;
            for e in events.into_inner() {
                let Some(event) = crate::den::lifecycle::DenEvent::parse(e.trim()) else {
                    let known: Vec<&str> =
                        crate::den::lifecycle::DenEvent::ALL.iter().map(|e| e.as_str()).collect();
                    return Err(place(
                        at,
                        format!(
                            "[[notify]] {name:?}: den_events: no event {e:?} (known: {})",
                            known.join(", ")
                        ),
                    ));
                };
                if !den_events.contains(&event) {
                    den_events.push(event);
                }
            }
        }
        out.push(NotifierConfig {
            den_events,
            name,
            url_env,
            format: t.format,
            min_rows,
            sample_rows,
            default: t.default,
        });
    }
    Ok(out)
}
