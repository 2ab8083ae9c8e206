//! Text helpers of the string functions: JSON paths (`extractjson`), URLs (`parse_url`),
//! IPv4 prefixes, regex rewrites (`replace_regex`) and Windows command lines.

use serde_json::{Map, Value, json};

use super::dynv;
use crate::emulator::kql::value::V;

/// `$.a.b[0]` on a JSON document.
pub(super) fn json_path<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = doc;
    let rest = path.trim().strip_prefix('$')?;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    key.push(n);
                    chars.next();
                }
                cur = cur.get(&key)?;
            }
            '[' => {
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    inner.push(n);
                }
                let inner = inner.trim();
                cur = match inner.parse::<usize>() {
                    Ok(i) => cur.get(i)?,
                    Err(_) => cur.get(inner.trim_matches(|c| c == '\'' || c == '"'))?,
                };
            }
            _ => return None,
        }
    }
    Some(cur)
}

/// `parse_url`: the parts of a URL as a property bag, as Kusto names them.
pub(super) fn parse_url(url: &str) -> V<'static> {
    let Ok(u) = url::Url::parse(url) else { return V::Null };
    let params: Map<String, Value> =
        u.query_pairs().map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect();
    dynv(json!({
        "Scheme": u.scheme(),
        "Host": u.host_str().unwrap_or(""),
        "Port": u.port().map_or(String::new(), |p| p.to_string()),
        "Path": u.path(),
        "Username": u.username(),
        "Password": u.password().unwrap_or(""),
        "Query Parameters": params,
        "Fragment": u.fragment().unwrap_or(""),
    }))
}

pub(super) fn ipv4(text: &str) -> Option<u32> {
    text.trim().parse::<std::net::Ipv4Addr>().ok().map(u32::from)
}

pub(super) fn in_prefix(ip: u32, net: u32, bits: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    ip & mask == net & mask
}

/// `$0`…`$9` and `\0`…`\9` in a `replace_regex` rewrite.
pub(super) fn expand(
    rewrite: &str,
    caps: &regex_automata::util::captures::Captures,
    text: &str,
) -> String {
    let mut out = String::new();
    let mut chars = rewrite.chars().peekable();
    while let Some(c) = chars.next() {
        if (c == '$' || c == '\\')
            && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
        {
            chars.next();
            if let Some(sp) = caps.get_group(d as usize) {
                out.push_str(&text[sp.start..sp.end]);
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// A Windows command line split into arguments (`CommandLineToArgvW` rules: whitespace
/// separates, double quotes group, `\"` is a quote).
pub(super) fn command_line(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
                any = true;
            }
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}
