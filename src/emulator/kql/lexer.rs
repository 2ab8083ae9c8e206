//! Tokens of the emulator's KQL subset, each with its byte offset in the original text so
//! errors can name the line and column Kusto-style.

use super::{KqlError, syntax_error};

/// A token's kind and payload.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An identifier or keyword, including dashed operator names (`project-away`) and negated
    /// or case-insensitive operator words (`!has`, `in~`, `!in~`).
    Ident(String),
    /// A string literal, escapes resolved.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A real literal.
    Real(f64),
    /// A timespan literal (`1h`, `7d`, `1.5s`), in ticks.
    Span(i64),
    /// A literal constructor whose argument is raw text: `datetime(…)`, `dynamic(…)`,
    /// `guid(…)`, `int(…)`, … (`name` lowercased as written, `text` between the parentheses).
    Raw { name: String, text: String },
    /// Punctuation or an operator symbol.
    Sym(&'static str),
    /// End of input.
    Eof,
}

/// A token and where it starts and ends (byte offsets).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub end: usize,
}

/// Literal constructors whose argument is read as raw text.
const RAW_CALLS: &[&str] = &[
    "datetime", "date", "dynamic", "guid", "timespan", "time", "decimal", "int", "long", "real",
    "double", "bool", "boolean",
];

/// Operator-name prefixes that join a dashed suffix into one word (`project-away`, `mv-expand`).
const DASHED: &[&str] = &["project", "mv", "make", "top", "parse", "make_series"];

const SYMBOLS: &[&str] = &[
    "==", "=~", "!=", "!~", "<>", "<=", ">=", "..", "|", ",", "(", ")", "[", "]", "{", "}", ";",
    "=", "<", ">", "+", "-", "*", "/", "%", ".", ":", "!", "~", "?", "@", "$", "#",
];

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

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `src` into tokens, ending with `Eof`.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, KqlError> {
    let mut out = Vec::new();
    let b = src.as_bytes();
    let mut i = 0;
    let char_at = |i: usize| src[i..].chars().next();
    while i < src.len() {
        let c = char_at(i).unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        if src[i..].starts_with("//") {
            i = src[i..].find('\n').map_or(src.len(), |n| i + n);
            continue;
        }
        let start = i;
        // Strings: '…', "…", @'…', @"…", h'…' (obfuscated), H@"…".
        let (verbatim, prefix) = string_prefix(&src[i..]);
        if let Some(quote) = src[i + prefix..].chars().next().filter(|q| *q == '"' || *q == '\'')
            && (prefix > 0 || c == quote)
        {
            let (text, end) = read_string(src, i + prefix, quote, verbatim)?;
            out.push(Token { tok: Tok::Str(text), pos: start, end });
            i = end;
            continue;
        }
        if c.is_ascii_digit() {
            let (tok, end) = read_number(src, i)?;
            out.push(Token { tok, pos: start, end });
            i = end;
            continue;
        }
        if is_ident_start(c) {
            let mut end = i;
            while let Some(ch) = char_at(end).filter(|ch| is_ident_char(*ch)) {
                end += ch.len_utf8();
            }
            let mut word = src[i..end].to_owned();
            // project-away, mv-expand, …
            if DASHED.contains(&word.as_str())
                && b.get(end) == Some(&b'-')
                && char_at(end + 1).is_some_and(is_ident_start)
            {
                end += 1;
                while let Some(ch) = char_at(end).filter(|ch| is_ident_char(*ch)) {
                    end += ch.len_utf8();
                }
                word = src[i..end].to_owned();
            }
            if word == "in" && b.get(end) == Some(&b'~') {
                end += 1;
                word.push('~');
            }
            // Literal constructors with raw arguments.
            let lower = word.to_ascii_lowercase();
            if RAW_CALLS.contains(&lower.as_str()) {
                let mut j = end;
                while let Some(ch) = char_at(j).filter(|ch| ch.is_whitespace()) {
                    j += ch.len_utf8();
                }
                if b.get(j) == Some(&b'(') {
                    let close = matching_paren(src, j).ok_or_else(|| syntax_error(src, j, "("))?;
                    out.push(Token {
                        tok: Tok::Raw { name: lower, text: src[j + 1..close].to_owned() },
                        pos: start,
                        end: close + 1,
                    });
                    i = close + 1;
                    continue;
                }
            }
            out.push(Token { tok: Tok::Ident(word), pos: start, end });
            i = end;
            continue;
        }
        // `!has`, `!contains`, `!in~`, … as single words.
        if c == '!' && char_at(i + 1).is_some_and(is_ident_start) {
            let mut end = i + 1;
            while let Some(ch) = char_at(end).filter(|ch| is_ident_char(*ch)) {
                end += ch.len_utf8();
            }
            let mut word = src[i..end].to_owned();
            if word == "!in" && b.get(end) == Some(&b'~') {
                end += 1;
                word.push('~');
            }
            out.push(Token { tok: Tok::Ident(word), pos: start, end });
            i = end;
            continue;
        }
        match SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            Some(sym) => {
                out.push(Token { tok: Tok::Sym(sym), pos: start, end: i + sym.len() });
                i += sym.len();
            }
            None => return Err(syntax_error(src, i, &c.to_string())),
        }
    }
    out.push(Token { tok: Tok::Eof, pos: src.len(), end: src.len() });
    Ok(out)
}

/// `(verbatim, prefix length)` for a string starting at `s`: `@`, `h`, `H`, `h@`, `H@`.
fn string_prefix(s: &str) -> (bool, usize) {
    let quoted = |n: usize| s[n..].starts_with(['"', '\'']);
    if s.starts_with('@') && quoted(1) {
        (true, 1)
    } else if (s.starts_with("h@") || s.starts_with("H@")) && quoted(2) {
        (true, 2)
    } else if (s.starts_with('h') || s.starts_with('H')) && quoted(1) {
        (false, 1)
    } else {
        (false, 0)
    }
}

/// Reads a string whose opening quote is at `open`; returns the text and the offset after it.
fn read_string(
    src: &str,
    open: usize,
    quote: char,
    verbatim: bool,
) -> Result<(String, usize), KqlError> {
    let mut text = String::new();
    let mut it = src[open + 1..].char_indices().peekable();
    while let Some((off, ch)) = it.next() {
        let at = open + 1 + off;
        if ch == quote {
            if verbatim && it.peek().is_some_and(|(_, n)| *n == quote) {
                it.next();
                text.push(quote);
                continue;
            }
            return Ok((text, at + 1));
        }
        if ch == '\n' && !verbatim {
            break;
        }
        if ch == '\\' && !verbatim {
            let Some((_, e)) = it.next() else { break };
            match e {
                'n' => text.push('\n'),
                't' => text.push('\t'),
                'r' => text.push('\r'),
                '0' => text.push('\0'),
                '\\' | '\'' | '"' => text.push(e),
                'u' => {
                    let hex: String = (0..4).filter_map(|_| it.next().map(|(_, h)| h)).collect();
                    let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    text.push(ch.ok_or_else(|| syntax_error(src, at, "\\u"))?);
                }
                _ => return Err(syntax_error(src, at, &format!("\\{e}"))),
            }
            continue;
        }
        text.push(ch);
    }
    Err(syntax_error(src, open, &quote.to_string()))
}

/// Reads a number or timespan literal at `i`.
fn read_number(src: &str, i: usize) -> Result<(Tok, usize), KqlError> {
    let b = src.as_bytes();
    let digits = |mut j: usize| {
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        j
    };
    let mut end = digits(i);
    let mut real = false;
    if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = digits(end + 1);
        real = true;
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            end = digits(j);
            real = true;
        }
    }
    // A unit directly after the number makes a timespan.
    let mut unit_end = end;
    while src[unit_end..].chars().next().is_some_and(is_ident_char) {
        unit_end += src[unit_end..].chars().next().map_or(1, char::len_utf8);
    }
    let bad = || syntax_error(src, i, &src[i..unit_end]);
    if unit_end > end {
        let span = parse_span_literal(&src[i..unit_end]).ok_or_else(bad)?;
        return Ok((Tok::Span(span), unit_end));
    }
    let text = &src[i..end];
    let tok = if real {
        Tok::Real(text.parse().map_err(|_| bad())?)
    } else {
        Tok::Int(text.parse().map_err(|_| bad())?)
    };
    Ok((tok, end))
}

/// The offset of the `)` matching the `(` at `open`, skipping quoted strings.
fn matching_paren(src: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (off, ch) in src[open..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '"' | '\'' => quote = Some(ch),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + off);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_symbols_and_literals() {
        assert_eq!(
            toks("T | where A !has 'x' and B in~ (\"y\") // c\n| project-away C;"),
            vec![
                Tok::Ident("T".into()),
                Tok::Sym("|"),
                Tok::Ident("where".into()),
                Tok::Ident("A".into()),
                Tok::Ident("!has".into()),
                Tok::Str("x".into()),
                Tok::Ident("and".into()),
                Tok::Ident("B".into()),
                Tok::Ident("in~".into()),
                Tok::Sym("("),
                Tok::Str("y".into()),
                Tok::Sym(")"),
                Tok::Sym("|"),
                Tok::Ident("project-away".into()),
                Tok::Ident("C".into()),
                Tok::Sym(";"),
                Tok::Eof,
            ]
        );
        assert_eq!(
            toks(r#"1 2.5 1h 7d 30m 10s 1ms 1.5h @"C:\x" 'a\'b\tc' @'it''s' h"hid""#),
            vec![
                Tok::Int(1),
                Tok::Real(2.5),
                Tok::Span(36_000_000_000),
                Tok::Span(7 * 864_000_000_000),
                Tok::Span(18_000_000_000),
                Tok::Span(100_000_000),
                Tok::Span(10_000),
                Tok::Span(54_000_000_000),
                Tok::Str(r"C:\x".into()),
                Tok::Str("a'b\tc".into()),
                Tok::Str("it's".into()),
                Tok::Str("hid".into()),
                Tok::Eof,
            ]
        );
        assert_eq!(
            toks("datetime(2026-11-20 10:00) dynamic({\"a\":\")\"})"),
            vec![
                Tok::Raw { name: "datetime".into(), text: "2026-11-20 10:00".into() },
                Tok::Raw { name: "dynamic".into(), text: "{\"a\":\")\"}".into() },
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn errors_point_at_the_offence() {
        let e = lex("T\n| where x == 'open").unwrap_err();
        assert_eq!(e.message, "Syntax error: Query could not be parsed at ''' on line [2,14]");
        let e = lex("T | where 12abc").unwrap_err();
        assert_eq!(e.message, "Syntax error: Query could not be parsed at '12abc' on line [1,11]");
        assert!(lex("datetime(2026").is_err());
        assert!(lex("x ^ y").is_err());
    }
}
