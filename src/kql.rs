//! Light lexical knowledge of KQL, enough to reason about a query without a server: strip
//! comments and string literals (`"…"`, `'…'`, verbatim `@"…"`/`@'…'`, with escapes), and find the
//! tabular operators whose result depends on the whole window (so a split window's parts need
//! re-aggregating).

/// The query with `//` comments removed and every string literal replaced by `""`, so that
/// words inside them are never mistaken for operators. Unterminated strings run to the end.
pub fn code_only(kql: &str) -> String {
    let mut out = String::with_capacity(kql.len());
    let mut chars = kql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '@' if matches!(chars.peek(), Some('"') | Some('\'')) => {
                let quote = chars.next().unwrap_or('"');
                // Verbatim: no escapes; a doubled quote stands for one.
                while let Some(n) = chars.next() {
                    if n == quote {
                        if chars.peek() == Some(&quote) {
                            chars.next();
                            continue;
                        }
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            '"' | '\'' => {
                while let Some(n) = chars.next() {
                    if n == '\\' {
                        chars.next();
                    } else if n == c || n == '\n' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// The first operator in `kql` whose output depends on the whole window (`summarize`, `top`,
/// `distinct`, `count`, `take`, `join`, …), if any.
pub fn window_sensitive_operator(kql: &str) -> Option<&'static str> {
    const OPERATORS: [&str; 14] = [
        "summarize",
        "top",
        "top-nested",
        "top-hitters",
        "distinct",
        "count",
        "take",
        "limit",
        "sample",
        "sample-distinct",
        "make-series",
        "join",
        "lookup",
        "evaluate",
    ];
    let code = code_only(kql);
    let mut after_pipe = false;
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'|' {
            after_pipe = true;
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
            {
                i += 1;
            }
            let word = code[start..i].to_ascii_lowercase();
            if (after_pipe || word == "join" || word == "lookup")
                && let Some(op) = OPERATORS.iter().find(|op| **op == word)
            {
                return Some(op);
            }
            after_pipe = false;
            continue;
        }
        if !c.is_ascii_whitespace() {
            after_pipe = false;
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_strings_are_blanked() {
        assert_eq!(code_only("T // summarize\n| where a == \"| count\""), "T \n| where a == \"\"");
        assert_eq!(code_only(r#"x has @"c:\t" and y has 'a\'b'"#), r#"x has "" and y has """#);
        assert_eq!(code_only("x == \"unterminated"), "x == \"\"");
    }

    #[test]
    fn finds_operators_that_need_the_whole_window() {
        assert_eq!(window_sensitive_operator("T | summarize count() by A"), Some("summarize"));
        assert_eq!(window_sensitive_operator("T\n| top 10 by Timestamp"), Some("top"));
        assert_eq!(window_sensitive_operator("T | join kind=inner (U) on K"), Some("join"));
        assert_eq!(window_sensitive_operator("T | take 5"), Some("take"));
        assert_eq!(
            window_sensitive_operator("T | make-series n=count() on Timestamp"),
            Some("make-series")
        );
        assert_eq!(window_sensitive_operator("T | where Count > 3 | project Count"), None);
        assert_eq!(window_sensitive_operator("T // | summarize\n| where X has \"| count\""), None);
        assert_eq!(window_sensitive_operator("T | where A has 'x' | extend top = 1"), None);
    }
}
