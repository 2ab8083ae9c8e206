//! A hunting query as hunt knows it: KQL text plus what its front matter says (id, name,
//! schedule, lookback, delay, enabled, tags), read from a `.kql` file whose leading `//` comment
//! block holds YAML between `// ---` fences. The KQL is kept exactly as written, so the file
//! still runs unchanged in the Defender portal.
//!
//! ```text
//! // source: licence header or other comments may come first
//! // ---
//! // id: encoded-powershell
//! // lookback: 1h
//! // ---
//! DeviceProcessEvents
//! | where ProcessCommandLine has "-enc"
//! ```
//!
//! The front matter is the lines between the fences with the leading `//` and one following
//! space (or tab) removed. Errors point into the file: 1-based line and column.

use crate::timespan::{parse_duration, parse_duration_allow_zero};
use chrono::Duration;
use serde_yaml_ng::{Mapping, Value};
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

/// One line of the front matter: its text with the `//` prefix removed, where it sits in the
/// file (0-based line index) and how many characters were removed before it.
#[derive(Debug)]
struct FmLine<'a> {
    text: &'a str,
    file_line: usize,
    prefix_chars: usize,
}

/// The front matter of a file, if it has one.
#[derive(Debug)]
struct FrontMatter<'a> {
    lines: Vec<FmLine<'a>>,
}

impl FrontMatter<'_> {
    fn yaml(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(l.text);
            s.push('\n');
        }
        s
    }

    /// Maps a 1-based (line, col) in the YAML block to 1-based (line, col) in the file.
    fn to_file(&self, yaml_line: usize, yaml_col: usize) -> (usize, usize) {
        match self.lines.get(yaml_line.saturating_sub(1)) {
            Some(l) => (l.file_line + 1, l.prefix_chars + yaml_col.max(1)),
            // Past the last line (end of input): the closing fence follows the last line.
            None => match self.lines.last() {
                Some(l) => (l.file_line + 2, 1),
                None => (1, 1),
            },
        }
    }

    /// Where top-level `key` is written: file (line, col) of its value (or of the key when the
    /// value is on later lines).
    fn key_position(&self, key: &str) -> Option<(usize, usize)> {
        self.key_positions(key).into_iter().next()
    }

    /// Every place top-level `key` is written (more than one only for a duplicated key).
    fn key_positions(&self, key: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for l in &self.lines {
            let t = l.text;
            if t.starts_with([' ', '\t', '#', '-']) {
                continue;
            }
            let after = [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
                .into_iter()
                .find_map(|k| t.strip_prefix(k.as_str()).map(str::to_string));
            let Some(after) = after else { continue };
            let after_trim = after.trim_start();
            let Some(value) = after_trim.strip_prefix(':') else {
                continue;
            };
            let key_chars = t.chars().count() - after.chars().count();
            let colon_col = key_chars + (after.chars().count() - after_trim.chars().count()) + 1;
            let value_trim = value.trim_start();
            let col = if value_trim.is_empty() || value_trim.starts_with('#') {
                1
            } else {
                colon_col + (value.chars().count() - value_trim.chars().count()) + 1
            };
            found.push((l.file_line + 1, l.prefix_chars + col));
        }
        found
    }
}

/// Splits `line` into (leading whitespace chars + `//` + one space/tab, rest) if it is a `//`
/// comment.
fn comment_body(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let lead = line.chars().count() - trimmed.chars().count();
    let rest = trimmed.strip_prefix("//")?;
    match rest.strip_prefix([' ', '\t']) {
        Some(r) => Some((lead + 3, r)),
        None => Some((lead + 2, rest)),
    }
}

fn is_fence(line: &str) -> bool {
    let t = line.trim();
    t.strip_prefix("//").is_some_and(|r| r.trim() == "---")
}

/// Lines of `text` without their line terminators (`\n` or `\r\n`).
fn lines(text: &str) -> Vec<&str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect()
}

/// Finds the front matter. `Err((line, message))` (1-based line) when the opening fence has no
/// closing fence.
fn find_front_matter<'a>(all: &[&'a str]) -> Result<Option<FrontMatter<'a>>, (usize, String)> {
    let mut open = None;
    for (i, l) in all.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        if is_fence(l) {
            open = Some(i);
            break;
        }
        if comment_body(l).is_none() {
            return Ok(None);
        }
    }
    let Some(open) = open else { return Ok(None) };
    let mut fm = Vec::new();
    for (i, l) in all.iter().enumerate().skip(open + 1) {
        if is_fence(l) {
            return Ok(Some(FrontMatter { lines: fm }));
        }
        if l.trim().is_empty() {
            fm.push(FmLine { text: "", file_line: i, prefix_chars: 0 });
            continue;
        }
        match comment_body(l) {
            Some((prefix_chars, text)) => fm.push(FmLine { text, file_line: i, prefix_chars }),
            None => break,
        }
    }
    Err((
        open + 1,
        "front matter opened by `// ---` has no closing `// ---` line before the query \
         (every front-matter line must start with `//`)"
            .to_string(),
    ))
}

/// Rewrites `line N column M` (positions in the YAML block) in a YAML error message to file
/// positions.
fn translate_positions(msg: &str, fm: &FrontMatter<'_>) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(idx) = rest.find("line ") {
        out.push_str(&rest[..idx]);
        let after = &rest[idx + 5..];
        let n_len = after.bytes().take_while(u8::is_ascii_digit).count();
        let tail = &after[n_len..];
        if n_len > 0 && tail.starts_with(" column ") {
            let c_tail = &tail[8..];
            let c_len = c_tail.bytes().take_while(u8::is_ascii_digit).count();
            if c_len > 0 {
                let yl: usize = after[..n_len].parse().unwrap_or(1);
                let yc: usize = c_tail[..c_len].parse().unwrap_or(1);
                let (fl, fc) = fm.to_file(yl, yc);
                out.push_str(&format!("line {fl} column {fc}"));
                rest = &c_tail[c_len..];
                continue;
            }
        }
        out.push_str("line ");
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A scalar as text (strings, numbers, booleans); `None` for null; `Err` for lists and maps.
pub(crate) fn scalar_text(v: &Value) -> Result<Option<String>, &'static str> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Tagged(t) => scalar_text(&t.value),
        Value::Sequence(_) => Err("a list"),
        Value::Mapping(_) => Err("a map"),
    }
}

fn key_text(k: &Value) -> String {
    match scalar_text(k) {
        Ok(Some(s)) => s,
        Ok(None) => "null".to_string(),
        Err(_) => serde_yaml_ng::to_string(k).unwrap_or_default().trim().to_string(),
    }
}

/// True when the text holds nothing but `//` comments and whitespace.
fn is_comments_only(all: &[&str]) -> bool {
    all.iter().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("//")
    })
}

/// Parses one `.kql` file's text.
pub fn parse_kql_file(text: &str, path: &std::path::Path) -> Result<Query, QueryFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let all = lines(text);
    let fm = find_front_matter(&all).map_err(|(line, msg)| file_err(path, line, 1, msg))?;

    let stem_id =
        || path.file_stem().map(|s| slug(&s.to_string_lossy())).unwrap_or_else(|| slug(""));
    let mut q = Query::unset(text.to_string(), (1, 0), path);

    if let Some(fm) = &fm {
        let map = parse_front_matter_yaml(fm, path)?;
        let pos = |key: &str| fm.key_position(key).unwrap_or_else(|| fm.to_file(1, 1));
        apply_keys(&mut q, map, &pos, path)?;
    }

    // A disabled query may be nothing but comments (e.g. a Defender Experts query whose line
    // breaks were lost, saved by `den sync` with `enabled: false` so it is kept but never run).
    if q.enabled && is_comments_only(&all) {
        return Err(file_err(
            path,
            1,
            1,
            "query is empty once comments are removed: add the KQL after the front matter",
        ));
    }
    if q.id.is_empty() {
        q.id = stem_id();
    }
    if q.name.is_empty() {
        q.name = q.id.clone();
    }
    Ok(q)
}

fn parse_front_matter_yaml(fm: &FrontMatter<'_>, path: &Path) -> Result<Mapping, QueryFileError> {
    let yaml = fm.yaml();
    let value: Value = match serde_yaml_ng::from_str(&yaml) {
        Ok(v) => v,
        Err(e) => {
            let (yl, yc) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
            let (mut line, mut col) = fm.to_file(yl, yc);
            // Duplicate keys: point at the second one rather than the start of the map.
            let text = e.to_string();
            if let Some(dup) = text
                .strip_prefix("duplicate entry with key \"")
                .and_then(|r| r.split_once('"'))
                .map(|(k, _)| k)
                && let Some(&(l, c)) = fm.key_positions(dup).get(1)
            {
                (line, col) = (l, c);
            }
            let mut message = format!(
                "front matter is not valid YAML: {}",
                translate_positions(&e.to_string(), fm)
            );
            // The most common slip: an unquoted cron (`*/15 ...`) or `@hourly`.
            if fm.lines.iter().any(|l| {
                l.text
                    .split_once(':')
                    .is_some_and(|(_, v)| v.trim_start().starts_with(['*', '@', '`', '%']))
            }) {
                message.push_str(
                    " (values starting with *, @, ` or % must be quoted, e.g. \
                     schedule: \"*/15 * * * *\" or schedule: \"@hourly\")",
                );
            }
            return Err(file_err(path, line, col, message));
        }
    };
    match value {
        Value::Null => Ok(Mapping::new()),
        Value::Mapping(m) => Ok(m),
        _ => {
            let first = fm.lines.iter().find(|l| !l.text.trim().is_empty());
            let (line, col) =
                first.map(|l| (l.file_line + 1, l.prefix_chars + 1)).unwrap_or((1, 1));
            Err(file_err(
                path,
                line,
                col,
                "front matter between `// ---` lines must be YAML `key: value` lines \
                 (id, name, description, schedule, lookback, delay, enabled, tags, split, severity)",
            ))
        }
    }
}

/// Applies front-matter keys (from a `.kql` front matter or top-level YAML keys) to `q`;
/// `pos(key)` is the file (line, col) to blame for a bad value of `key`. Keys not modelled by
/// [`Query`] go to `extra`.
pub(crate) fn apply_keys(
    q: &mut Query,
    map: Mapping,
    pos: &dyn Fn(&str) -> (usize, usize),
    path: &Path,
) -> Result<(), QueryFileError> {
    for (k, v) in map {
        let key = key_text(&k);
        let (line, col) = pos(&key);
        let err = |msg: String| file_err(path, line, col, msg);
        let text = |v: &Value| {
            scalar_text(v).map_err(|kind| err(format!("`{key}` must be text, not {kind}")))
        };
        match key.as_str() {
            "id" => {
                let raw = text(&v)?.unwrap_or_default();
                if raw.trim().is_empty() {
                    return Err(err(
                        "`id` is empty: give a short name such as `encoded-powershell`, or remove \
                         the key to use the file name"
                            .to_string(),
                    ));
                }
                q.id = slug(raw.trim());
            }
            "name" => q.name = text(&v)?.unwrap_or_default().trim().to_string(),
            "description" => {
                q.description = text(&v)?.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
            }
            "severity" => {
                q.severity = text(&v)?.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
            }
            "schedule" => {
                q.schedule = text(&v)?.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
            }
            "lookback" | "delay" => {
                let Some(s) = text(&v)? else { continue };
                let parsed =
                    if key == "delay" { parse_duration_allow_zero(&s) } else { parse_duration(&s) };
                let d = parsed.map_err(|e| err(format!("`{key}`: {e}")))?;
                if key == "delay" {
                    q.delay = Some(d);
                } else {
                    q.lookback = Some(d);
                }
            }
            "enabled" => match v {
                Value::Bool(b) => q.enabled = b,
                Value::Null => {}
                other => {
                    let shown = scalar_text(&other).ok().flatten().unwrap_or_default();
                    return Err(err(format!("`enabled` must be true or false, not {shown:?}")));
                }
            },
            "tags" => q.tags = tags(&v).map_err(err)?,
            "split" => {
                let s = text(&v)?.unwrap_or_default();
                q.split = match s.trim().to_ascii_lowercase().as_str() {
                    "auto" | "" => SplitPolicy::Auto,
                    "never" => SplitPolicy::Never,
                    _ => {
                        return Err(err(format!("`split` must be auto or never, not {s:?}")));
                    }
                };
            }
            _ => {
                q.extra.insert(key, v);
            }
        }
    }
    Ok(())
}

/// Tags from a YAML value: a list (nulls dropped) or a comma-separated text; de-duplicated.
pub(crate) fn tags(v: &Value) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        let s = s.trim();
        if !s.is_empty() && !out.iter().any(|t| t == s) {
            out.push(s.to_string());
        }
    };
    match v {
        Value::Null => {}
        Value::Sequence(items) => {
            for item in items {
                match scalar_text(item) {
                    Ok(Some(s)) => push(&s),
                    Ok(None) => {}
                    Err(kind) => return Err(format!("`tags` items must be text, not {kind}")),
                }
            }
        }
        Value::Mapping(_) => {
            return Err("`tags` must be a list such as [execution, T1059.001]".to_string());
        }
        other => {
            let s = scalar_text(other).ok().flatten().unwrap_or_default();
            for t in s.split(',') {
                push(t);
            }
        }
    }
    Ok(out)
}

/// Where top-level front-matter `key` is written in a query file's text: 1-based (line, col).
pub fn front_matter_key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let all = lines(text);
    let fm = find_front_matter(&all).ok()??;
    fm.key_position(key)
}

/// 0-based index of the first line after a `.kql` file's front matter (0 when it has none or
/// the front matter is unterminated).
pub fn body_start_line(text: &str) -> usize {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let all = lines(text);
    match find_front_matter(&all) {
        Ok(Some(fm)) => fm.lines.last().map_or_else(
            // Empty front matter: the opening fence is followed directly by the closing one.
            || all.iter().position(|l| is_fence(l)).map_or(0, |i| i + 2),
            |l| l.file_line + 2,
        ),
        _ => 0,
    }
}

/// Reads and parses one query file (whatever its extension). Bytes that are not UTF-8 are an
/// error pointing at the first bad byte; a UTF-8 BOM is skipped; UTF-16 with a BOM is decoded.
pub fn read_query_file(path: &Path) -> Result<Query, QueryFileError> {
    parse_kql_file(&read_text(path)?, path)
}

/// Reads a text file the way query files are read: UTF-8 (a BOM is skipped later by the
/// parsers) or UTF-16 with a BOM; errors point at the first bad byte.
pub fn read_text(path: &Path) -> Result<String, QueryFileError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            _ => format!("cannot be read: {e}"),
        };
        file_err(path, 1, 1, what)
    })?;
    decode(&bytes).map_err(|(line, col)| {
        file_err(path, line, col, "file is not valid UTF-8 text: save it as UTF-8")
    })
}

/// UTF-8 (or UTF-16 with a BOM) to text; `Err((line, col))` of the first bad byte.
fn decode(bytes: &[u8]) -> Result<String, (usize, usize)> {
    let utf16 = |be: bool| -> Option<String> {
        let body = &bytes[2..];
        if !body.len().is_multiple_of(2) {
            return None;
        }
        let units = body.chunks_exact(2).map(|c| {
            if be { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) }
        });
        char::decode_utf16(units).collect::<Result<String, _>>().ok()
    };
    match bytes {
        [0xFF, 0xFE, ..] => return utf16(false).ok_or((1, 1)),
        [0xFE, 0xFF, ..] => return utf16(true).ok_or((1, 1)),
        _ => {}
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line = good.matches('\n').count() + 1;
            let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err((line, col))
        }
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

    fn p() -> PathBuf {
        PathBuf::from("queries/test-file.kql")
    }

    fn parse(text: &str) -> Result<Query, QueryFileError> {
        parse_kql_file(text, &p())
    }

    fn ok(text: &str) -> Query {
        parse(text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    fn bad(text: &str) -> QueryFileError {
        match parse(text) {
            Ok(q) => panic!("parsed: {q:?}"),
            Err(e) => e,
        }
    }

    const FULL: &str = "// ---
// id: encoded-powershell
// name: Encoded PowerShell
// description: PowerShell started with an encoded command.
// schedule: \"*/15 * * * *\"
// lookback: 1h
// delay: 5m
// enabled: true
// tags: [execution, T1059.001]
// split: never
// severity: high
// den:
//   incident: 123
//   title: Something
// tactics: [Execution]
// ---
DeviceProcessEvents
| where ProcessCommandLine has \"-enc\"
";

    #[test]
    fn full_front_matter() {
        let q = ok(FULL);
        assert_eq!(q.id, "encoded-powershell");
        assert_eq!(q.name, "Encoded PowerShell");
        assert_eq!(q.description.as_deref(), Some("PowerShell started with an encoded command."));
        assert_eq!(q.schedule.as_deref(), Some("*/15 * * * *"));
        assert_eq!(q.lookback, Some(Duration::hours(1)));
        assert_eq!(q.delay, Some(Duration::minutes(5)));
        assert!(q.enabled);
        assert_eq!(q.tags, ["execution", "T1059.001"]);
        assert_eq!(q.split, SplitPolicy::Never);
        assert_eq!(q.severity.as_deref(), Some("high"));
        assert_eq!(q.kql, FULL, "the whole file is what runs");
        assert_eq!(q.source, p());
        assert_eq!(q.extra.len(), 2);
        let den = q.extra["den"].as_mapping().unwrap();
        assert_eq!(den.get("incident").and_then(Value::as_u64), Some(123));
        assert!(q.extra.contains_key("tactics"));
    }

    #[test]
    fn no_front_matter_uses_file_stem() {
        let q = ok("DeviceProcessEvents | take 10\n");
        assert_eq!(q.id, "test-file");
        assert_eq!(q.name, "test-file");
        assert!(q.enabled);
        assert_eq!(q.split, SplitPolicy::Auto);
        assert!(q.schedule.is_none() && q.lookback.is_none() && q.tags.is_empty());
        let q = parse_kql_file("T | take 1", Path::new("/x/My Hunt (v2).KQL")).unwrap();
        assert_eq!(q.id, "my-hunt-v2");
    }

    #[test]
    fn leading_comments_and_blank_lines_before_fence() {
        let text = "\n\n// Copyright (c) someone\n// Licensed MIT\n\n// ---\n// id: x\n// ---\nT\n";
        assert_eq!(ok(text).id, "x");
        // Indented comment lines and no space after //.
        let text = "  // ---\n  //id: y\n//\tlookback: 2h\n  // ---\nT";
        let q = ok(text);
        assert_eq!(q.id, "y");
        assert_eq!(q.lookback, Some(Duration::hours(2)));
    }

    #[test]
    fn fence_after_code_is_not_front_matter() {
        let text = "T\n// ---\n// id: z\n// ---\n";
        let q = ok(text);
        assert_eq!(q.id, "test-file");
        // A decorative dashed line is not a fence.
        let q = ok("// -------------------- //\n// id: nope\nT\n");
        assert_eq!(q.id, "test-file");
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}// ---\r\n// id: crlf\r\n// lookback: 1d\r\n// tags: a\r\n// ---\r\nT\r\n| take 1\r\n";
        let q = ok(text);
        assert_eq!(q.id, "crlf");
        assert_eq!(q.lookback, Some(Duration::days(1)));
        assert_eq!(q.tags, ["a"]);
        assert_eq!(q.kql, &text[3..], "BOM dropped, CRLF kept");
        let e = bad("\u{feff}// ---\r\n// id: x\r\n// lookback: banana\r\n// ---\r\nT\r\n");
        assert_eq!((e.line, e.col), (3, 14));
    }

    #[test]
    fn empty_front_matter() {
        assert_eq!(ok("// ---\n// ---\nT").id, "test-file");
        assert_eq!(ok("// ---\n//\n// ---\nT").id, "test-file");
        assert_eq!(ok("// ---\n// # just a comment\n// ---\nT").id, "test-file");
    }

    #[test]
    fn blank_line_inside_front_matter() {
        let q = ok("// ---\n// id: a\n\n// name: B\n// ---\nT");
        assert_eq!((q.id.as_str(), q.name.as_str()), ("a", "B"));
    }

    #[test]
    fn unterminated_front_matter_points_at_opening() {
        let e = bad("// licence\n// ---\n// id: x\nDeviceProcessEvents\n");
        assert_eq!((e.line, e.col), (2, 1));
        assert!(e.message.contains("no closing"), "{e}");
        let e = bad("// ---\n// id: x\n");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn invalid_yaml_points_into_file() {
        let e = bad("// ---\n// id: x\n// name: [unclosed\n// ---\nT");
        assert!(e.message.contains("not valid YAML"), "{e}");
        assert!(e.line >= 3 && e.line <= 4, "{e}");
        let e = bad("// ---\n// id: x\n//   bad: indent\n// ---\nT");
        assert_eq!(e.line, 3, "{e}");
        assert!(!e.message.contains("line 2 column"), "positions translated: {e}");
        // Unquoted cron gets a hint.
        let e = bad("// ---\n// schedule: */15 * * * *\n// ---\nT");
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("must be quoted"), "{e}");
        let e = bad("// ---\n// schedule: @hourly\n// ---\nT");
        assert_eq!((e.line, e.col), (2, 14), "{e}");
        assert!(e.message.contains("must be quoted"), "{e}");
        // Duplicate keys.
        let e = bad("// ---\n// id: a\n// id: b\n// ---\nT");
        assert!(e.message.contains("duplicate"), "{e}");
        assert_eq!((e.line, e.col), (3, 8), "{e}");
        // Not a map.
        let e = bad("// ---\n// just words\n// ---\nT");
        assert_eq!((e.line, e.col), (2, 4));
        assert!(e.message.contains("key: value"), "{e}");
    }

    #[test]
    fn bad_values_point_at_their_key() {
        let e = bad("// ---\n// id: x\n// lookback: banana\n// ---\nT");
        assert_eq!((e.line, e.col), (3, 14), "{e}");
        assert!(e.message.contains("lookback") && e.message.contains("1h30m"), "{e}");
        let e = bad("// ---\n// lookback: 1M\n// ---\nT");
        assert!(e.message.contains("use days"), "{e}");
        let e = bad("// ---\n// delay: -5m\n// ---\nT");
        assert_eq!(e.line, 2);
        let e = bad("// ---\n// id: x\n// enabled: maybe\n// ---\nT");
        assert_eq!((e.line, e.col), (3, 13), "{e}");
        assert!(e.message.contains("true or false"), "{e}");
        let e = bad("// ---\n// split: sometimes\n// ---\nT");
        assert!(e.message.contains("auto or never"), "{e}");
        let e = bad("// ---\n// name: [a, b]\n// ---\nT");
        assert!(e.message.contains("must be text"), "{e}");
        let e = bad("// ---\n// tags: {a: b}\n// ---\nT");
        assert!(e.message.contains("tags"), "{e}");
        let e = bad("// ---\n// \"lookback\": nope\n// ---\nT");
        assert_eq!((e.line, e.col), (2, 16), "{e}");
        let e = bad("// ---\n// lookback:\n//   nope\n// ---\nT");
        assert_eq!((e.line, e.col), (2, 4), "{e}");
    }

    #[test]
    fn ids() {
        assert_eq!(ok("// ---\n// id: My Hunt!\n// ---\nT").id, "my-hunt");
        assert_eq!(ok("// ---\n// id: 42\n// ---\nT").id, "42");
        let e = bad("// ---\n// id: \"\"\n// ---\nT");
        assert!(e.message.contains("`id` is empty"), "{e}");
        assert_eq!((e.line, e.col), (2, 8));
        let e = bad("// ---\n// id:\n// ---\nT");
        assert!(e.message.contains("`id` is empty"), "{e}");
        assert_eq!((e.line, e.col), (2, 4));
        let e = bad("// ---\n// id: '   '\n// ---\nT");
        assert!(e.message.contains("`id` is empty"), "{e}");
    }

    #[test]
    fn other_fields() {
        let q = ok(
            "// ---\n// enabled: false\n// tags: execution, T1059\n// delay: 0s\n// schedule: \"@hourly\"\n// ---\nT",
        );
        assert!(!q.enabled);
        assert_eq!(q.tags, ["execution", "T1059"]);
        assert_eq!(q.delay, Some(Duration::zero()));
        assert_eq!(q.schedule.as_deref(), Some("@hourly"));
        let q = ok("// ---\n// tags: [a, a, 1, null, ' b ']\n// name: ''\n// ---\nT");
        assert_eq!(q.tags, ["a", "1", "b"]);
        assert_eq!(q.name, "test-file");
        let q = ok("// ---\n// lookback: P1DT6H\n// unknown_key: 1\n// ---\nT");
        assert_eq!(q.lookback, Some(Duration::hours(30)));
        assert!(q.extra.contains_key("unknown_key"));
        let e = bad("// ---\n// lookback: 0s\n// ---\nT");
        assert!(e.message.contains("zero"), "{e}");
    }

    #[test]
    fn empty_queries() {
        for text in [
            "",
            "\n\n",
            "// only a comment\n",
            "// ---\n// id: x\n// ---\n",
            "// ---\n// id: x\n// ---\n\n   // commented out\n\t\n",
            "\u{a0}\n",
        ] {
            let e = bad(text);
            assert!(
                e.message.contains("query is empty once comments are removed"),
                "{text:?}: {e}"
            );
            assert_eq!((e.line, e.col), (1, 1));
        }
    }

    #[test]
    fn key_positions() {
        assert_eq!(front_matter_key_position(FULL, "id"), Some((2, 8)));
        assert_eq!(front_matter_key_position(FULL, "den"), Some((12, 4)));
        assert_eq!(front_matter_key_position(FULL, "incident"), None);
        assert_eq!(front_matter_key_position("T", "id"), None);
    }

    #[test]
    fn error_display() {
        let e = bad("// ---\n// enabled: maybe\n// ---\nT");
        assert_eq!(
            e.to_string(),
            "queries/test-file.kql:2:13: `enabled` must be true or false, not \"maybe\""
        );
    }

    #[test]
    fn reading_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("latin1.kql");
        std::fs::write(&f, b"// ---\n// id: x\n// ---\nT | where A == \"caf\xe9\"\n").unwrap();
        let e = read_query_file(&f).unwrap_err();
        assert_eq!((e.line, e.col), (4, 20), "{e}");
        assert!(e.message.contains("UTF-8"));
        let f = dir.path().join("utf16.kql");
        let mut bytes = vec![0xFF, 0xFE];
        for u in "// ---\n// id: wide\n// ---\nT\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(&f, bytes).unwrap();
        assert_eq!(read_query_file(&f).unwrap().id, "wide");
        let e = read_query_file(&dir.path().join("missing.kql")).unwrap_err();
        assert!(e.message.contains("does not exist"));
        assert_eq!((e.line, e.col), (1, 1));
    }

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
