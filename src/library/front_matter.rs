//! The front matter of a `.kql` file: the leading `//` comment block holding YAML between
//! `// ---` fences, found, parsed with errors pointing into the file (1-based line and column),
//! and its keys applied to a [`Query`] (shared with Sentinel YAML's top-level keys).
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
//! space (or tab) removed.

use crate::query::{Query, QueryFileError, SplitPolicy, file_err, slug};
use crate::timespan::{parse_duration, parse_duration_allow_zero};
use serde_yaml_ng::{Mapping, Value};
use std::path::Path;

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
pub(super) struct FrontMatter<'a> {
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
    pub(super) fn to_file(&self, yaml_line: usize, yaml_col: usize) -> (usize, usize) {
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
    pub(super) fn key_position(&self, key: &str) -> Option<(usize, usize)> {
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
pub(super) fn lines(text: &str) -> Vec<&str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect()
}

/// Finds the front matter. `Err((line, message))` (1-based line) when the opening fence has no
/// closing fence.
pub(super) fn find_front_matter<'a>(
    all: &[&'a str],
) -> Result<Option<FrontMatter<'a>>, (usize, String)> {
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

pub(super) fn parse_front_matter_yaml(
    fm: &FrontMatter<'_>,
    path: &Path,
) -> Result<Mapping, QueryFileError> {
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
