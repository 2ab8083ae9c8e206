//! The values of literals as the KQL parser leaves them (a kind and a span of text): strings
//! with their escapes, numbers, timespans (`1h`, `time(…)`), `datetime(…)`, `dynamic(…)`,
//! `guid(…)` and the typed constructors `int(…)`, `real(…)`, `decimal(…)`, `bool(…)`, plus
//! quoted names (`['Logged on']`).

use std::borrow::Cow;

use serde_json::Value;

use super::value::{BOOL, DECIMAL, DYN, GUID, INT, LONG, REAL, SPAN, STRING, TIME, Ty, V};
use super::{KqlError, parse_datetime_at, parse_timespan, syntax_error};
use crate::kql::syntax::tree::LiteralKind;
use crate::kql::{TokenKind, lex};

/// Timespan units and their length in ticks.
fn unit_ticks(unit: &str) -> Option<i64> {
    Some(match unit {
        "d" | "day" | "days" => 864_000_000_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 36_000_000_000,
        "m" | "min" | "minute" | "minutes" => 600_000_000,
        "s" | "sec" | "second" | "seconds" => 10_000_000,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 10_000,
        "microsecond" | "microseconds" => 10,
        "tick" | "ticks" => 1,
        _ => return None,
    })
}

/// Parses a timespan literal such as `1h`, `1.5d` or `30m` (`None` if it is not one).
pub(crate) fn parse_span_literal(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let ticks = unit_ticks(&unit.to_ascii_lowercase())?;
    if num.is_empty() {
        return None;
    }
    if let Ok(n) = num.parse::<i64>() {
        return n.checked_mul(ticks);
    }
    let v = num.parse::<f64>().ok()? * ticks as f64;
    (v.is_finite() && v.abs() < 9.2e18).then(|| v.round() as i64)
}

/// The text of one string token (`"…"`, `'…'`, `@"…"`, `h'…'`, ```` ```…``` ````) unquoted,
/// escapes resolved; `None` for a malformed escape.
pub(crate) fn unquote(token: &str) -> Option<String> {
    let t = token.strip_prefix(['h', 'H']).unwrap_or(token);
    if let Some(body) = t.strip_prefix("```") {
        return Some(body.strip_suffix("```").unwrap_or(body).to_owned());
    }
    let (verbatim, t) = match t.strip_prefix('@') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let quote = t.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let body = &t[1..];
    let body = body.strip_suffix(quote).unwrap_or(body);
    let mut out = String::with_capacity(body.len());
    let mut it = body.chars().peekable();
    while let Some(ch) = it.next() {
        if verbatim {
            if ch == quote && it.peek() == Some(&quote) {
                it.next();
            }
            out.push(ch);
            continue;
        }
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match it.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            e @ ('\\' | '\'' | '"') => out.push(e),
            'u' => {
                let hex: String = (0..4).filter_map(|_| it.next()).collect();
                out.push(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A name as written (`DeviceId`, `['Logged on']`, `["x"]`) without its brackets and quotes.
pub(crate) fn name_text(written: &str) -> Cow<'_, str> {
    match written.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        Some(inner) => unquote(inner.trim()).map_or(Cow::Borrowed(written), Cow::Owned),
        None => Cow::Borrowed(written),
    }
}

/// The text between the first `(` and the last `)` of `text` (`datetime(…)`).
fn inner(text: &str) -> Option<&str> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    (close > open).then(|| text[open + 1..close].trim())
}

/// The value and type of the literal of `kind` written at `start..end` of `src`.
pub(crate) fn literal(
    src: &str,
    kind: LiteralKind,
    start: usize,
    end: usize,
    now: i64,
) -> Result<(V<'static>, Ty), KqlError> {
    let text = src.get(start..end).unwrap_or("");
    let bad = || syntax_error(src, start, &text.chars().take(64).collect::<String>());
    Ok(match kind {
        LiteralKind::Null => (V::Null, DYN),
        LiteralKind::Bool => (V::Bool(text.eq_ignore_ascii_case("true")), BOOL),
        LiteralKind::String => {
            let mut s = String::new();
            let lexed = lex(text);
            for t in lexed.tokens.iter().filter(|t| t.kind == TokenKind::String) {
                s.push_str(&unquote(t.text).ok_or_else(bad)?);
            }
            (V::Str(Cow::Owned(s)), STRING)
        }
        LiteralKind::Number => number(text).ok_or_else(bad)?,
        LiteralKind::Timespan if text.contains('(') => {
            return constructor(src, "timespan", inner(text).unwrap_or(""), start, end, now);
        }
        LiteralKind::Timespan => (V::Span(parse_span_literal(text).ok_or_else(bad)?), SPAN),
        LiteralKind::Datetime => {
            return constructor(src, "datetime", inner(text).unwrap_or(""), start, end, now);
        }
        LiteralKind::Dynamic => {
            return constructor(src, "dynamic", inner(text).unwrap_or(""), start, end, now);
        }
        LiteralKind::Guid => {
            return constructor(src, "guid", inner(text).unwrap_or(""), start, end, now);
        }
    })
}

/// A number literal: `42` (long), `1.5`, `1e3` (real), `0x1F` (long).
fn number(text: &str) -> Option<(V<'static>, Ty)> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|v| (V::Int(v), LONG));
    }
    if text.contains(['.', 'e', 'E']) {
        let f = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
        return Some((V::Real(f), REAL));
    }
    text.parse::<i64>().ok().map(|v| (V::Int(v), LONG))
}

/// A literal constructor, `name(text)`: `datetime`, `timespan`, `dynamic`, `guid`, `int`,
/// `long`, `real`, `decimal`, `bool`; `start..end` is the whole literal, for errors.
pub(crate) fn constructor(
    src: &str,
    name: &str,
    text: &str,
    start: usize,
    end: usize,
    now: i64,
) -> Result<(V<'static>, Ty), KqlError> {
    let whole = src.get(start..end).unwrap_or("");
    let bad = || syntax_error(src, start, &whole.chars().take(64).collect::<String>());
    let t = text.trim();
    let null = t == "null";
    let c = |v: V<'static>, ty: Ty| Ok((v, ty));
    match name.to_ascii_lowercase().as_str() {
        "datetime" | "date" if null => c(V::Null, TIME),
        "datetime" | "date" => c(V::Time(parse_datetime_at(t, Some(now)).ok_or_else(bad)?), TIME),
        "timespan" | "time" if null => c(V::Null, SPAN),
        "timespan" | "time" => c(V::Span(parse_timespan(t).ok_or_else(bad)?), SPAN),
        "dynamic" => c(V::Dyn(Cow::Owned(parse_dynamic(t).ok_or_else(bad)?)), DYN),
        "guid" if null => c(V::Null, GUID),
        "guid" => {
            let g = t.trim_matches(|c| c == '"' || c == '\'');
            let shape = g.len() == 36
                && g.char_indices().all(|(i, ch)| {
                    if [8, 13, 18, 23].contains(&i) { ch == '-' } else { ch.is_ascii_hexdigit() }
                });
            if !shape {
                return Err(bad());
            }
            c(V::Str(Cow::Owned(g.to_ascii_lowercase())), GUID)
        }
        "decimal" if null => c(V::Null, DECIMAL),
        "decimal" => {
            t.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && !t.contains(['e', 'E', 'i', 'n', 'I', 'N']))
                .ok_or_else(bad)?;
            c(V::Str(Cow::Owned(t.to_owned())), DECIMAL)
        }
        "int" if null => c(V::Null, INT),
        // Decimal or hex (`long(0xf090013d)`), as Kusto reads them.
        "int" => {
            let v = integer(t).and_then(|v| i32::try_from(v).ok()).ok_or_else(bad)?;
            c(V::Int(i64::from(v)), INT)
        }
        "long" if null => c(V::Null, LONG),
        "long" => c(V::Int(integer(t).ok_or_else(bad)?), LONG),
        "real" | "double" if null => c(V::Null, REAL),
        "real" | "double" => {
            let f = t.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(bad)?;
            c(V::Real(f), REAL)
        }
        "bool" | "boolean" if null => c(V::Null, BOOL),
        "bool" | "boolean" => match t {
            "true" | "1" => c(V::Bool(true), BOOL),
            "false" | "0" => c(V::Bool(false), BOOL),
            _ => Err(bad()),
        },
        "string" => c(V::Str(Cow::Owned(t.to_owned())), STRING),
        _ => Err(bad()),
    }
}

/// An integer written in decimal or in hex after `0x`.
fn integer(t: &str) -> Option<i64> {
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => t.parse::<i64>().ok(),
    }
}

/// The typed constructors written like calls (`int(5)`), which the parser reads as calls.
pub(crate) const CONSTRUCTORS: [&str; 8] =
    ["int", "long", "real", "double", "decimal", "bool", "boolean", "string"];

/// A `dynamic(…)` literal's JSON, also accepting KQL's single-quoted strings.
pub(crate) fn parse_dynamic(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let mut json = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => {
                json.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    json.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                let mut s = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        s.push(match c {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            c => c,
                        });
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '\'' {
                        break;
                    } else {
                        s.push(c);
                    }
                }
                json.push_str(&Value::String(s).to_string());
            }
            c => json.push(c),
        }
    }
    serde_json::from_str(&json).ok().or_else(|| dynamic_tokens(text))
}

/// A `dynamic` literal read token by token, as Kusto reads it: comments skipped, adjacent
/// strings joined (`["a" // note` newline `"b"]` is `["ab"]`), every string form (`@'…'`).
fn dynamic_tokens(text: &str) -> Option<Value> {
    let lexed = lex(text);
    let mut json = String::with_capacity(text.len());
    let mut pending: Option<String> = None;
    for t in lexed.code() {
        if t.kind == TokenKind::String {
            pending.get_or_insert_with(String::new).push_str(&unquote(t.text)?);
            continue;
        }
        if let Some(s) = pending.take() {
            json.push_str(&Value::String(s).to_string());
        }
        match (t.kind, t.text) {
            (TokenKind::Number, n) => json.push_str(&number(n)?.0.to_json().to_string()),
            (TokenKind::Ident, w @ ("true" | "false" | "null")) => json.push_str(w),
            (TokenKind::Punct, p @ ("," | ":" | "-")) | (TokenKind::Open | TokenKind::Close, p) => {
                json.push_str(p)
            }
            _ => return None,
        }
    }
    if let Some(s) = pending {
        json.push_str(&Value::String(s).to_string());
    }
    serde_json::from_str(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_numbers_and_spans() {
        assert_eq!(unquote(r#""a\'b\tc""#).as_deref(), Some("a'b\tc"));
        assert_eq!(unquote("@'it''s'").as_deref(), Some("it's"));
        assert_eq!(unquote(r#"@"C:\x""#).as_deref(), Some(r"C:\x"));
        assert_eq!(unquote("h\"hid\"").as_deref(), Some("hid"));
        assert_eq!(unquote("```a\nb```").as_deref(), Some("a\nb"));
        assert_eq!(unquote(r#""\q""#), None);
        assert_eq!(name_text("['Logged on']"), "Logged on");
        assert_eq!(name_text("Plain"), "Plain");
        assert_eq!(number("42"), Some((V::Int(42), LONG)));
        assert_eq!(number("2.5"), Some((V::Real(2.5), REAL)));
        assert_eq!(number("0x1F"), Some((V::Int(31), LONG)));
        assert_eq!(number("99999999999999999999"), None);
        assert_eq!(parse_span_literal("1.5h"), Some(54_000_000_000));
        assert_eq!(parse_span_literal("10ms"), Some(100_000));
        // A dynamic literal as Kusto reads it: comments, adjacent strings, verbatim strings.
        let d = "[\"a\", // note\n \"b\" \n \"c\", @'C:\\x', 1, -2.5, true, {'k': null}]";
        assert_eq!(
            parse_dynamic(d),
            Some(serde_json::json!(["a", "bc", r"C:\x", 1, -2.5, true, {"k": null}]))
        );
        assert_eq!(parse_dynamic("[\"a\" b]"), None);
        let src = "'a' // c\n \"b\"";
        assert_eq!(
            literal(src, LiteralKind::String, 0, src.len(), 0).unwrap(),
            (V::Str(Cow::Owned("ab".into())), STRING)
        );
    }
}
