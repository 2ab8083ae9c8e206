//! Sentinel hunting-query YAML (`.yaml` / `.yml`, any case), as published in Azure/Azure-Sentinel:
//!
//! ```yaml
//! id: f78255b6-8f91-4cf3-a25c-e1144b7b5425
//! name: C2-NamedPipe
//! description: |
//!   Detects the creation of a named pipe used by known APT malware.
//! tactics: [CommandAndControl]
//! relevantTechniques: [T1071]
//! query: |
//!   DeviceEvents
//!   | where ActionType == "NamedPipeEvent"
//! ```
//!
//! * `kql` is the `query` value. A block scalar (`|`, `|-`, `>`, …) is taken line by line from
//!   the file, dedented by the block's indentation, line breaks kept (also for `>`: KQL `//`
//!   comments would swallow the rest of a folded query), so [`Query::kql_at`] maps positions
//!   back into the file. A quoted or plain `query` value is taken as YAML reads it.
//! * **Id**: Sentinel ids are GUIDs, which make poor folder names and say nothing. A YAML `id`
//!   that looks like a GUID (only hex digits and `-`, at least 8 hex digits, braces allowed —
//!   malformed GUIDs included) is kept in `extra["id"]` and the query id is the `name`, slugged
//!   (else the file stem, slugged). Any other `id` (e.g. `encoded-powershell`) is the id, slugged.
//! * `tags` = explicit `tags` + `tactics` + `relevantTechniques` (nulls and non-text items
//!   dropped, duplicates removed); `tactics` and `relevantTechniques` are also kept in `extra`.
//! * `description`, or its misspelling `descritpion` (with a warning).
//! * hunt's own keys (`schedule`, `lookback`, `delay`, `enabled`, `tags`, `split`, `severity`)
//!   given as top-level keys mean what they mean in `.kql` front matter.
//! * Everything else (`version`, `requiredDataConnectors`, `entityMappings`, `metadata`, …) goes
//!   to `extra`.
//! * **Invalid YAML** (published files exist whose `query: |` block is not indented, and so on)
//!   is read leniently rather than refused, with a warning: the file is cut into top-level
//!   `key:` chunks; a `query` block runs until the next top-level `key:` line; every other chunk
//!   is parsed as YAML on its own, or taken as plain text. A file that yields no query is an
//!   error.

use super::front_matter::{apply_keys, scalar_text};
use crate::query::{Query, QueryFileError, file_err, slug};
use serde_yaml_ng::{Mapping, Value};
use std::path::Path;

/// A Sentinel YAML file read: the query, and what was tolerated on the way.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The query (one; the library may still split its KQL into several).
    pub query: Query,
    /// Problems that did not stop the file from loading (invalid YAML read leniently, a
    /// misspelled key, dropped tag items).
    pub warnings: Vec<QueryFileError>,
}

/// True for `.yaml` / `.yml`, any case.
pub fn is_yaml_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A top-level `key:` line.
#[derive(Debug, Clone)]
struct KeyLine {
    key: String,
    /// 0-based line index.
    line: usize,
    /// 1-based column of the value (or of the key when the value is on later lines).
    value_col: usize,
    /// The text after the colon, trimmed.
    rest: String,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Parses `line` as a top-level `key: value` line.
fn key_line(line: &str, idx: usize) -> Option<KeyLine> {
    if line.starts_with([' ', '\t', '#', '-', '[', '{', '|']) || line.trim().is_empty() {
        return None;
    }
    let (key, after) = if let Some(q) = line.strip_prefix(['"', '\'']) {
        let quote = line.chars().next()?;
        let end = q.find(quote)?;
        (q[..end].to_string(), q[end + 1..].trim_start_matches(' '))
    } else {
        let colon = line.find(':')?;
        let key = line[..colon].trim_end();
        let ok = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return None;
        }
        (key.to_string(), &line[colon..])
    };
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = value.trim();
    let before_value = line.chars().count() - value.chars().count();
    let value_col = if rest.is_empty() || rest.starts_with('#') {
        1
    } else {
        before_value + (value.chars().count() - value.trim_start().chars().count()) + 1
    };
    Some(KeyLine { key, line: idx, value_col, rest: rest.to_string() })
}

fn is_block_indicator(rest: &str) -> bool {
    let r = rest.split(" #").next().unwrap_or("").trim();
    (r.starts_with('|') || r.starts_with('>'))
        && r[1..].chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+')
}

/// A block scalar's lines: (dedented text, 0-based first line, indentation stripped).
/// `next_key` is the 0-based line of the next top-level key (or the line count).
fn block(lines: &[&str], key_line: usize, next_key: usize) -> (String, usize, usize) {
    let first = key_line + 1;
    let body = &lines[first.min(next_key)..next_key];
    let block_indent = body.iter().find(|l| !l.trim().is_empty()).map_or(0, |l| indent(l));
    // An indented block ends at the first non-blank line back at column 1.
    let mut end = body.len();
    if block_indent > 0
        && let Some(p) = body.iter().position(|l| !l.trim().is_empty() && indent(l) == 0)
    {
        end = p;
    }
    let mut taken: Vec<&str> = body[..end].to_vec();
    while taken.last().is_some_and(|l| l.trim().is_empty()) {
        taken.pop();
    }
    // Leading blank lines are not part of the text either.
    let lead = taken.iter().take_while(|l| l.trim().is_empty()).count();
    let mut text = String::new();
    for l in &taken[lead..] {
        let strip = indent(l).min(block_indent);
        text.push_str(&l[strip..]);
        text.push('\n');
    }
    (text, first + lead, block_indent)
}

fn looks_like_guid(s: &str) -> bool {
    let t = s.trim().trim_start_matches('{').trim_end_matches('}');
    let hex = t.chars().filter(char::is_ascii_hexdigit).count();
    !t.is_empty() && hex >= 8 && t.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Reads the file's top-level mapping leniently: each top-level chunk parsed on its own.
fn lenient_map(lines: &[&str], keys: &[KeyLine]) -> Mapping {
    let mut map = Mapping::new();
    for (n, k) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(lines.len(), |nk| nk.line);
        let key = Value::String(k.key.clone());
        if map.contains_key(&key) {
            continue;
        }
        let value = if is_block_indicator(&k.rest) {
            Value::String(block(lines, k.line, end).0)
        } else {
            let chunk = lines[k.line..end].join("\n");
            match serde_yaml_ng::from_str::<Value>(&chunk) {
                Ok(Value::Mapping(m)) if m.len() == 1 => {
                    m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)
                }
                _ if k.rest.is_empty() => Value::Null,
                _ => Value::String(unquote(&k.rest)),
            }
        };
        map.insert(key, value);
    }
    map
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

/// Maps a YAML parser (line, col), which counts `\n`, `\r\n` and a lone `\r` each as a line
/// break, to the file's (line, col), whose lines end at `\n` only. A lone `\r` made a warning
/// point past the last line (`query: |\n  \r\\`: line 4 of 2, found by `tests/fuzz.rs`).
fn yaml_pos_in_text(text: &str, line: usize, col: usize) -> (usize, usize) {
    let mut yaml_line = 1;
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while yaml_line < line {
        match chars.next() {
            Some((i, '\r')) => {
                start = i + 1;
                if chars.next_if(|&(_, c)| c == '\n').is_some() {
                    start += 1;
                }
                yaml_line += 1;
            }
            Some((i, '\n')) => {
                start = i + 1;
                yaml_line += 1;
            }
            Some(_) => {}
            None => {
                // Past the end: the end of the text.
                start = text.len();
                break;
            }
        }
    }
    let before = &text[..start];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = if yaml_line < line { 1 } else { col.max(1) };
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + col)
}

/// Parses one Sentinel hunting-query YAML file's text.
pub fn parse_sentinel_yaml(text: &str, path: &Path) -> Result<Parsed, QueryFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let keys: Vec<KeyLine> = lines.iter().enumerate().filter_map(|(i, l)| key_line(l, i)).collect();
    let pos = |key: &str| {
        keys.iter().find(|k| k.key == key).map_or((1, 1), |k| (k.line + 1, k.value_col))
    };
    let mut warnings = Vec::new();

    let map = match serde_yaml_ng::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => m,
        Ok(Value::Null) => Mapping::new(),
        Ok(_) => {
            return Err(file_err(
                path,
                1,
                1,
                "not a Sentinel hunting query: expected top-level `key: value` lines \
                 (name, description, query, …)",
            ));
        }
        Err(e) => {
            let (line, col) =
                e.location().map_or((1, 1), |l| yaml_pos_in_text(text, l.line(), l.column()));
            warnings.push(file_err(
                path,
                line,
                col,
                format!(
                    "not valid YAML ({e}); read leniently, line by line: check the query \
                     below and fix the file (e.g. indent the `query: |` block)"
                ),
            ));
            lenient_map(&lines, &keys)
        }
    };

    // The KQL.
    let qkey = keys.iter().position(|k| k.key == "query");
    let (kql, kql_at) = match qkey {
        Some(n) if is_block_indicator(&keys[n].rest) => {
            let next = keys.get(n + 1).map_or(lines.len(), |k| k.line);
            let (kql, first, ind) = block(&lines, keys[n].line, next);
            (kql, (first + 1, ind))
        }
        _ => match map.get("query") {
            Some(v) => match scalar_text(v) {
                Ok(Some(s)) => {
                    let (l, c) = pos("query");
                    let quoted = qkey.is_some_and(|n| keys[n].rest.starts_with(['"', '\'']));
                    (s, (l, c - 1 + usize::from(quoted)))
                }
                _ => {
                    let (l, c) = pos("query");
                    return Err(file_err(path, l, c, "`query` must be the KQL text"));
                }
            },
            None => {
                return Err(file_err(
                    path,
                    1,
                    1,
                    "no `query:` key: not a Sentinel hunting query (a query file needs the KQL \
                     under `query: |`)",
                ));
            }
        },
    };
    if kql.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("//")
    }) {
        let (l, c) = pos("query");
        return Err(file_err(path, l, c, "`query` is empty once comments are removed"));
    }

    let mut q = Query::unset(kql, kql_at, path);

    // Keys for apply_keys: all but query and id; descritpion → description.
    let mut hunt_keys = Mapping::new();
    let mut sentinel_id = None;
    let mut extra_tags: Vec<Value> = Vec::new();
    for (k, v) in &map {
        let key = scalar_text(k).ok().flatten().unwrap_or_default();
        match key.as_str() {
            "query" => {}
            "id" => sentinel_id = Some(v.clone()),
            "descritpion" => {
                let (l, c) = pos("descritpion");
                if map.contains_key("description") {
                    q.extra.insert(key.clone(), v.clone());
                } else {
                    warnings.push(file_err(
                        path,
                        l,
                        c,
                        "`descritpion` is misspelled: read as `description`",
                    ));
                    hunt_keys.insert(Value::String("description".into()), v.clone());
                }
            }
            "tags" => {
                // Sentinel analytics rules sometimes carry maps in `tags`: keep the text ones.
                let kept = match v {
                    Value::Sequence(items) => {
                        let (ok, dropped): (Vec<_>, Vec<_>) =
                            items.iter().cloned().partition(|i| scalar_text(i).is_ok());
                        if !dropped.is_empty() {
                            let (l, c) = pos("tags");
                            warnings.push(file_err(
                                path,
                                l,
                                c,
                                format!("{} `tags` item(s) are not text: ignored", dropped.len()),
                            ));
                            q.extra.insert("tags".into(), v.clone());
                        }
                        Value::Sequence(ok)
                    }
                    Value::Mapping(_) => {
                        let (l, c) = pos("tags");
                        warnings.push(file_err(path, l, c, "`tags` is a map: ignored"));
                        q.extra.insert("tags".into(), v.clone());
                        Value::Null
                    }
                    other => other.clone(),
                };
                hunt_keys.insert(k.clone(), kept);
            }
            "tactics" | "relevantTechniques" => {
                match v {
                    Value::Sequence(items) => extra_tags.extend(items.iter().cloned()),
                    Value::Mapping(_) => {}
                    other => extra_tags.push(other.clone()),
                }
                q.extra.insert(key.clone(), v.clone());
            }
            _ => {
                hunt_keys.insert(k.clone(), v.clone());
            }
        }
    }
    apply_keys(&mut q, hunt_keys, &pos, path)?;
    for t in extra_tags {
        if let Ok(Some(s)) = scalar_text(&t) {
            for part in s.split(',') {
                let part = part.trim();
                if !part.is_empty() && !q.tags.iter().any(|x| x == part) {
                    q.tags.push(part.to_string());
                }
            }
        }
    }

    let raw_id = sentinel_id.as_ref().and_then(|v| scalar_text(v).ok().flatten());
    match raw_id {
        Some(id) if !id.trim().is_empty() && !looks_like_guid(&id) => q.id = slug(id.trim()),
        _ => {
            if let Some(v) = sentinel_id {
                q.extra.insert("id".into(), v);
            }
            q.id = if q.name.trim().is_empty() {
                path.file_stem().map_or_else(|| slug(""), |s| slug(&s.to_string_lossy()))
            } else {
                slug(q.name.trim())
            };
        }
    }
    if q.name.is_empty() {
        q.name = q.id.clone();
    }
    Ok(Parsed { query: q, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::SplitPolicy;
    use chrono::Duration;
    use std::path::PathBuf;

    fn p() -> PathBuf {
        PathBuf::from("q/My Rule.yaml")
    }

    fn ok(text: &str) -> Parsed {
        parse_sentinel_yaml(text, &p()).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    const GOOD: &str = "id: f78255b6-8f91-4cf3-a25c-e1144b7b5425
name: C2-NamedPipe
description: |
  Detects a named pipe.
requiredDataConnectors:
  - connectorId: MicrosoftThreatProtection
    dataTypes:
      - DeviceEvents
tactics:
  - CommandAndControl
relevantTechniques:
  - T1071
  - null
query: |
  // lookback
  DeviceEvents
      | where ActionType == \"NamedPipeEvent\"

version: 1.0.0
";

    #[test]
    fn valid_sentinel_yaml() {
        let r = ok(GOOD);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let q = r.query;
        assert_eq!(q.id, "c2-namedpipe");
        assert_eq!(q.name, "C2-NamedPipe");
        assert_eq!(q.description.as_deref(), Some("Detects a named pipe."));
        assert_eq!(
            q.kql,
            "// lookback\nDeviceEvents\n    | where ActionType == \"NamedPipeEvent\"\n"
        );
        assert_eq!(q.kql_at, (15, 2));
        assert_eq!(q.tags, ["CommandAndControl", "T1071"]);
        assert_eq!(q.extra["id"].as_str(), Some("f78255b6-8f91-4cf3-a25c-e1144b7b5425"));
        assert!(q.extra.contains_key("version") && q.extra.contains_key("requiredDataConnectors"));
        assert!(q.extra.contains_key("tactics"));
        assert!(!q.extra.contains_key("query"));
        assert!(q.enabled && q.schedule.is_none());
        // kql_at maps a KQL position to the file: "DeviceEvents" is KQL line 2, col 1.
        let file: Vec<&str> = GOOD.lines().collect();
        assert!(file[q.kql_at.0 + 2 - 1 - 1][q.kql_at.1..].starts_with("DeviceEvents"));
    }

    #[test]
    fn hunt_keys_and_sensible_ids() {
        let r = ok("id: Encoded PowerShell\nname: Enc\nschedule: \"@hourly\"\nlookback: 1h\n\
                    delay: 5m\nenabled: false\ntags: [mine]\ntactics: Execution\nsplit: never\n\
                    severity: High\nquery: DeviceProcessEvents | take 1\n");
        let q = r.query;
        assert_eq!(q.id, "encoded-powershell");
        assert_eq!(q.schedule.as_deref(), Some("@hourly"));
        assert_eq!(q.lookback, Some(Duration::hours(1)));
        assert_eq!(q.delay, Some(Duration::minutes(5)));
        assert!(!q.enabled);
        assert_eq!(q.tags, ["mine", "Execution"]);
        assert_eq!(q.split, SplitPolicy::Never);
        assert_eq!(q.severity.as_deref(), Some("High"));
        assert_eq!(q.kql, "DeviceProcessEvents | take 1");
        assert_eq!(q.kql_at, (11, 7));
        assert!(!q.extra.contains_key("id"));
        // Invalid GUID and no name: the file stem.
        let q = ok("id: 1234abcd-zz\nquery: T\n").query;
        assert_eq!(q.id, "1234abcd-zz", "not GUID-like (z): sensible");
        let q = ok("id: 1234abcd-1234-12\nquery: T\n").query;
        assert_eq!(q.id, "my-rule");
        assert_eq!(q.name, "my-rule");
        assert!(q.extra.contains_key("id"));
        // Quoted one-line query: kql_at points after the quote.
        let q = ok("query: \"T | take 1\"\n").query;
        assert_eq!((q.kql.as_str(), q.kql_at), ("T | take 1", (1, 8)));
    }

    #[test]
    fn schema_quirks() {
        let r = ok("id: x-y\nname: N\ndescritpion: spelled wrong\ntactics: null\n\
                    relevantTechniques: [null]\nquery: |\n  T\n");
        assert_eq!(r.query.description.as_deref(), Some("spelled wrong"));
        assert!(r.query.tags.is_empty());
        assert_eq!(r.warnings.len(), 1);
        assert_eq!((r.warnings[0].line, r.warnings[0].col), (3, 14));
        assert!(r.warnings[0].message.contains("misspelled"));
        // Maps in tags are dropped with a warning.
        let r = ok("tags:\n  - a\n  - Schema: ASIM\nquery: |\n  T\n");
        assert_eq!(r.query.tags, ["a"]);
        assert_eq!(r.warnings.len(), 1);
    }

    #[test]
    fn unindented_query_block_is_read_leniently() {
        let text = "id: 0a1b2c3d-0000-0000-0000-000000000000\nname: Bad block\n\
                    description: |\n  words\nquery: |\nDeviceEvents\n| where x == 1\n\n\
                    | take 10\ntactics:\n  - Execution\nversion: 1.0.0\n";
        let r = ok(text);
        let q = &r.query;
        assert_eq!(q.kql, "DeviceEvents\n| where x == 1\n\n| take 10\n");
        assert_eq!(q.kql_at, (6, 0));
        assert_eq!(q.id, "bad-block");
        assert_eq!(q.tags, ["Execution"]);
        assert_eq!(q.description.as_deref(), Some("words"));
        assert_eq!(q.extra["version"].as_str(), Some("1.0.0"));
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].message.contains("not valid YAML"), "{}", r.warnings[0]);
        assert!(r.warnings[0].line >= 6, "{}", r.warnings[0]);
    }

    #[test]
    fn no_query_is_an_error() {
        let e = parse_sentinel_yaml("name: x\nversion: 1\n", &p()).unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        assert!(e.message.contains("no `query:`"), "{e}");
        let e = parse_sentinel_yaml("name: x\nquery: |\n  // nothing\n", &p()).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_sentinel_yaml("- a\n- b\n", &p()).unwrap_err();
        assert!(e.message.contains("top-level"), "{e}");
        let e = parse_sentinel_yaml("name: x\nquery: [a]\n", &p()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 8));
        let e = parse_sentinel_yaml("name: x\nlookback: banana\nquery: T\n", &p()).unwrap_err();
        assert_eq!((e.line, e.col), (2, 11));
    }

    #[test]
    fn crlf_and_bom() {
        let q = ok("\u{feff}name: W\r\nquery: |\r\n  T\r\n  | take 1\r\n").query;
        assert_eq!(q.kql, "T\n| take 1\n");
        assert_eq!(q.kql_at, (3, 2));
    }
}
