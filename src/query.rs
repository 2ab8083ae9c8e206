//! A hunting query as hunt knows it: KQL text plus what its front matter says (id, name,
//! schedule, lookback, delay, enabled, tags), where it came from, the error a query file can
//! fail with, and the slugs that make ids and names safe as path components. Reading query files
//! (`.kql` front matter, Sentinel YAML, folders) is `crate::library`'s work.

use chrono::Duration;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether a long window may be split into smaller calls when a result would be too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SplitPolicy {
    /// Split when the service's row or size limits would truncate the result (default).
    #[default]
    Auto,
    /// Never split: the query's results depend on the whole window (e.g. `summarize` over it).
    Never,
}

impl Query {
    /// A query of `kql` from `source` with nothing set yet (no id, name, schedule, tags…), for
    /// the file readers to fill in from front matter or YAML keys.
    pub(crate) fn unset(kql: String, kql_at: (usize, usize), source: &Path) -> Query {
        Query {
            id: String::new(),
            name: String::new(),
            kql,
            kql_at,
            source: source.to_path_buf(),
            schedule: None,
            lookback: None,
            delay: None,
            enabled: true,
            tags: Vec::new(),
            description: None,
            severity: None,
            split: SplitPolicy::Auto,
            extra: BTreeMap::new(),
        }
    }

    /// A query saved from a Defender Experts Notification (front matter `den:` or the tag
    /// `defender-experts`): served first when quota is short.
    pub fn is_defender_experts(&self) -> bool {
        self.extra.contains_key("den") || self.tags.iter().any(|t| t == "defender-experts")
    }
}

impl SplitPolicy {
    /// `auto` or `never`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SplitPolicy::Auto => "auto",
            SplitPolicy::Never => "never",
        }
    }
}

/// One query, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Stable id: front-matter `id`, else the file stem slugged. Safe as a path component.
    pub id: String,
    /// Human name: front-matter `name`, else the id.
    pub name: String,
    /// The KQL text sent to the service: for a `.kql` file the whole file (front matter
    /// included, as comments); for Sentinel YAML the `query` block, dedented; for one part of a
    /// file split into several queries, that part's lines.
    pub kql: String,
    /// Where `kql` sits in `source`: (1-based file line of the first line of `kql`, number of
    /// columns of indentation stripped from each of its lines). A position (line `l`, column
    /// `c`, both 1-based) inside `kql` is at file line `kql_at.0 + l - 1`, column
    /// `c + kql_at.1`. `.kql` files: `(1, 0)`; a YAML `query: |` block whose first line is file
    /// line 13, indented 2: `(13, 2)`.
    pub kql_at: (usize, usize),
    /// Where it came from.
    pub source: PathBuf,
    /// Cron expression as written, if scheduled.
    pub schedule: Option<String>,
    /// First window of a schedule and default window of a one-off run.
    pub lookback: Option<Duration>,
    /// How far behind "now" a scheduled window ends.
    pub delay: Option<Duration>,
    /// `enabled: false` keeps the query in the library but out of runs.
    pub enabled: bool,
    /// Free tags (tactics, techniques).
    pub tags: Vec<String>,
    /// Front-matter `description`, if any.
    pub description: Option<String>,
    /// Front-matter `severity` as written (e.g. `high`), if any.
    pub severity: Option<String>,
    /// Front-matter `split`: `auto` (default) or `never`.
    pub split: SplitPolicy,
    /// Every front-matter key not modelled above (`den:`, Sentinel keys, unknown keys), as
    /// written, so nothing is lost.
    pub extra: BTreeMap<String, Value>,
}

/// A query file that could not be read, with the place of the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}:{col}: {message}", path.display())]
pub struct QueryFileError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub col: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

pub(crate) fn file_err(
    path: &Path,
    line: usize,
    col: usize,
    message: impl Into<String>,
) -> QueryFileError {
    QueryFileError {
        path: path.to_path_buf(),
        line: line.max(1),
        col: col.max(1),
        message: message.into(),
    }
}

/// Longest slug, in bytes.
const SLUG_MAX: usize = 100;

/// First 8 hex digits of SHA-256 of `s`.
fn hash8(s: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, s.as_bytes());
    d.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case ASCII slug of `s` (`[a-z0-9._-]`, runs of anything else become `-`), never empty,
/// never `.` or `..`, at most 100 bytes: safe as one path component.
///
/// Details: runs of `-` collapse to one; leading and trailing `-` and `.` are trimmed (so no
/// hidden files); a text with nothing left becomes `query` (empty input) or `query-<hash8>` (so
/// that distinct non-ASCII names stay distinct); longer than 100 bytes is cut and gets
/// `-<hash8>` (first 8 hex digits of SHA-256 of `s`); Windows device names (`con`, `nul`, …)
/// get `-query` appended.
pub fn slug(s: &str) -> String {
    slug_within(s, SLUG_MAX)
}

/// [`slug`] cut to at most `max` bytes (at least 10) instead of 100, the same way.
pub fn slug_within(s: &str, max: usize) -> String {
    let max = max.max(10);
    let mut out = String::with_capacity(s.len().min(max + 10));
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        let keep = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_';
        let ch = if keep { c } else { '-' };
        if ch == '-' && out.ends_with('-') {
            continue;
        }
        out.push(ch);
    }
    let trimmed = out.trim_matches(['-', '.']);
    if trimmed.is_empty() {
        return if s.trim().is_empty() {
            "query".to_string()
        } else {
            format!("query-{}", hash8(s))
        };
    }
    let mut out = trimmed.to_string();
    if out.len() > max {
        out.truncate(max - 9);
        let cut = out.trim_end_matches(['-', '.']).len();
        out.truncate(cut);
        out.push('-');
        out.push_str(&hash8(s));
    }
    let base = out.split('.').next().unwrap_or("");
    let reserved = matches!(base, "con" | "prn" | "aux" | "nul")
        || (base.len() == 4
            && (base.starts_with("com") || base.starts_with("lpt"))
            && base.as_bytes()[3].is_ascii_digit());
    if reserved {
        out = format!("{base}-query{}", &out[base.len()..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Encoded PowerShell"), "encoded-powershell");
        assert_eq!(slug("encoded-powershell"), "encoded-powershell");
        assert_eq!(slug("0xFF-0035 Defender_tampering.v2"), "0xff-0035-defender_tampering.v2");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("/etc/passwd"), "etc-passwd");
        assert_eq!(slug("C:\\Windows\\System32"), "c-windows-system32");
        assert_eq!(slug("a\0b"), "a-b");
        assert_eq!(slug("a -- b"), "a-b");
        assert_eq!(slug(".hidden"), "hidden");
        assert_eq!(slug("trailing."), "trailing");
        assert_eq!(slug(""), "query");
        assert_eq!(slug("   "), "query");
        assert_eq!(slug("."), format!("query-{}", hash8(".")));
        assert_eq!(slug(".."), format!("query-{}", hash8("..")));
        assert_eq!(slug("Café Crème"), "caf-cr-me");
        assert_eq!(slug("日本語"), format!("query-{}", hash8("日本語")));
        assert_ne!(slug("日本語"), slug("中文"));
        assert_eq!(slug("con"), "con-query");
        assert_eq!(slug("NUL.txt"), "nul-query.txt");
        assert_eq!(slug("com1"), "com1-query");
        assert_eq!(slug("console"), "console");
        let long = "x".repeat(1000);
        let s = slug(&long);
        assert_eq!(s.len(), 100);
        assert_eq!(s, format!("{}-{}", "x".repeat(91), hash8(&long)));
        assert_ne!(slug(&"x".repeat(999)), s);
        let long_unicode = "é".repeat(1000) + "abc";
        assert_eq!(slug(&long_unicode), "abc");
        let mixed = "ab-".repeat(400);
        let s = slug(&mixed);
        assert!(s.len() <= 100, "{s}");
        assert!(!s.contains("--"), "{s}");
        for input in ["../../etc/passwd", "/abs/path", "a\0b", &long, "日本語", ".", "..", "x/../y"]
        {
            let s = slug(input);
            assert!(!s.is_empty() && s != "." && s != ".." && s.len() <= 100, "{input}: {s}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)),
                "{input}: {s}"
            );
            assert!(!s.starts_with(['.', '-']) && !s.ends_with(['.', '-']), "{input}: {s}");
            assert_eq!(slug(&s), s, "idempotent: {input}");
        }
    }
}
