//! Lexical knowledge of KQL, enough to reason about a query without a server:
//!
//! * [`lexer`]: tokens with positions, and the problems a lexer can see (unterminated strings,
//!   unbalanced brackets, smart quotes);
//! * [`syntax`]: a parser over those tokens: a syntax tree with spans, or the first syntax
//!   error (`unknown query operator 'summarise' — did you mean 'summarize'?`, a trailing `|`,
//!   a `where` without predicate, …), held against Microsoft's parser;
//! * [`schema`]: the Defender XDR advanced-hunting tables and their columns, shipped as data;
//! * [`walk`]: questions answered from the tree (tables read, names bound, operators);
//! * [`tables`]: the tables a query reads;
//! * [`code_only`]: the query without comments and string contents;
//! * [`window_sensitive_operator`]: the tabular operators whose result depends on the whole
//!   window (so a split window's parts need re-aggregating).

pub mod lexer;
pub mod schema;
pub mod syntax;
pub mod walk;

pub use lexer::{LexError, LexErrorKind, Lexed, Pos, Token, TokenKind, lex};

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
/// `distinct`, `count`, `take`, `join`, …), if any, read from the syntax tree
/// ([`walk::window_sensitive_operator`]); from the tokens when the parser rejects the text.
pub fn window_sensitive_operator(kql: &str) -> Option<&'static str> {
    match syntax::parse(kql).script {
        Some(script) => walk::window_sensitive_operator(&script),
        None => window_sensitive_by_tokens(kql),
    }
}

/// [`window_sensitive_operator`] for a text the parser rejects (the service may still accept
/// it): the first listed word after a `|`, or `join`/`lookup` anywhere in code.
fn window_sensitive_by_tokens(kql: &str) -> Option<&'static str> {
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
                && let Some(op) = walk::WINDOW_SENSITIVE.iter().find(|op| **op == word)
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

/// Words that start a statement or an expression but are not tables.
const NOT_TABLES: [&str; 18] = [
    "let",
    "set",
    "declare",
    "alias",
    "pattern",
    "restrict",
    "print",
    "range",
    "search",
    "find",
    "evaluate",
    "datatable",
    "externaldata",
    "materialize",
    "toscalar",
    "view",
    "true",
    "false",
];

/// The tables `kql` reads, in order of first appearance, without duplicates, read from the
/// syntax tree ([`walk::tables`]; bracket-quoted names unquoted). When the parser rejects the
/// text, the lexer's reading: the first name of each top-level statement's tabular expression
/// (including a `let x = Table | …` value), the names after `join`, `lookup` and `union` (also
/// inside their `( … )` subqueries), and any `(Table | …)` subquery. Names bound by `let` (and
/// tabular function parameters) and their uses are not tables; neither are function calls
/// (`externaldata(…)`, `datatable(…)`). Bracket-quoted names (`['My Table']`) are returned as
/// written.
pub fn tables(kql: &str) -> Vec<String> {
    match syntax::parse(kql).script {
        Some(script) => walk::tables(&script),
        None => tables_by_tokens(kql),
    }
}

/// [`tables`] for a text the parser rejects: the lexer's best reading of it.
fn tables_by_tokens(kql: &str) -> Vec<String> {
    let lexed = lex(kql);
    let toks: Vec<&Token<'_>> = lexed.code().collect();
    let mut locals: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let tok = |i: usize| toks.get(i).copied();

    // Is the token at `i` a table name in a position where a table may start?
    let take = |i: usize, locals: &[&str], out: &mut Vec<String>| {
        let Some(t) = tok(i) else { return };
        let name = match t.kind {
            TokenKind::Ident => t.text,
            TokenKind::BracketIdent => t.text,
            _ => return,
        };
        if NOT_TABLES.contains(&name) || locals.contains(&name) {
            return;
        }
        // A call (`f(…)`), an assignment (`x = …`), a parameter (`T:(…)`) or a member (`a.b`).
        if tok(i + 1).is_some_and(|n| n.is("(") || n.is("=") || n.is(":") || n.is(".")) {
            return;
        }
        // Keywords written before an expression (e.g. `union`, `join`) are handled by the caller.
        if ["union", "join", "lookup"].contains(&name) {
            return;
        }
        if !out.iter().any(|o| o == name) {
            out.push(name.to_string());
        }
    };

    let mut depth = 0usize;
    let mut statement_start = true;
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        // Files often hold several queries separated only by blank lines or comments: a name at
        // the start of a line, after a line without code, followed by `|`, starts a new one.
        if depth == 0 && i > 0 && !statement_start {
            let prev = toks[i - 1];
            let prev_line = prev.pos.line + prev.text.matches('\n').count();
            let first_on_line = t.pos.line > prev_line;
            let gap = t.pos.line > prev_line + 1;
            let next_is_pipe = tok(i + 1).is_none_or(|n| n.is("|") || n.is(";"));
            let name = matches!(t.kind, TokenKind::Ident | TokenKind::BracketIdent);
            if first_on_line && (t.is_ident("let") || (gap && name && next_is_pipe)) {
                statement_start = true;
            }
        }
        if statement_start {
            statement_start = false;
            if t.is_ident("let") {
                if let Some(name) = tok(i + 1).filter(|n| n.kind == TokenKind::Ident) {
                    locals.push(name.text);
                }
                // Tabular function parameters: `let f = (T:(A:string), n:int) { … }`.
                if tok(i + 2).is_some_and(|n| n.is("=")) && tok(i + 3).is_some_and(|n| n.is("(")) {
                    let mut d = 0usize;
                    let mut j = i + 3;
                    while let Some(p) = tok(j) {
                        if p.kind == TokenKind::Open {
                            d += 1;
                        } else if p.kind == TokenKind::Close {
                            d = d.saturating_sub(1);
                            if d == 0 {
                                break;
                            }
                        } else if d == 1
                            && p.kind == TokenKind::Ident
                            && tok(j + 1).is_some_and(|n| n.is(":"))
                        {
                            locals.push(p.text);
                        }
                        j += 1;
                    }
                }
                // `let x = Table | …` or `let x = Table;` (not `let n = a + 1;`).
                let value = i + 3;
                if tok(value + 1).is_none_or(|n| n.is("|") || n.is(";")) {
                    take(value, &locals, &mut out);
                }
                i = value;
                continue;
            }
            take(i, &locals, &mut out);
        }
        match t.kind {
            TokenKind::Open => {
                depth += 1;
                // `(Table | …)`, `{ Table | … }`, `materialize(Table …)`, `toscalar(Table …)`.
                let pipeline = tok(i + 2).is_some_and(|n| n.is("|") || n.is(";"));
                let wrapper = i > 0
                    && (toks[i - 1].is_ident("materialize") || toks[i - 1].is_ident("toscalar"));
                if t.is("{")
                    && tok(i + 1).is_some_and(|n| n.is_ident("let"))
                    && let Some(name) = tok(i + 2).filter(|n| n.kind == TokenKind::Ident)
                {
                    locals.push(name.text);
                }
                if pipeline || wrapper || t.is("{") {
                    take(i + 1, &locals, &mut out);
                }
            }
            TokenKind::Close => depth = depth.saturating_sub(1),
            TokenKind::Punct if t.is(";") => {
                statement_start = depth == 0;
                // `let` statements inside `{ … }` bodies bind names too.
                if depth > 0
                    && tok(i + 1).is_some_and(|n| n.is_ident("let"))
                    && let Some(name) = tok(i + 2).filter(|n| n.kind == TokenKind::Ident)
                {
                    locals.push(name.text);
                }
            }
            // `search in (A, B)`, `find in (A, B)`.
            TokenKind::Ident if t.text == "search" || t.text == "find" => {
                let mut j = i + 1;
                while tok(j).is_some_and(|n| !n.is_ident("in") && !n.is("|") && !n.is(";")) {
                    j += 1;
                }
                if tok(j).is_some_and(|n| n.is_ident("in")) && tok(j + 1).is_some_and(|n| n.is("("))
                {
                    j += 2;
                    while let Some(n) = tok(j) {
                        if n.kind == TokenKind::Close {
                            break;
                        }
                        if n.kind == TokenKind::Ident || n.kind == TokenKind::BracketIdent {
                            take(j, &locals, &mut out);
                        }
                        j += 1;
                    }
                }
            }
            TokenKind::Ident if t.text == "join" || t.text == "lookup" || t.text == "union" => {
                let is_union = t.text == "union";
                let mut j = i + 1;
                loop {
                    // Options: `kind=inner`, `hint.remote=auto`, `withsource=T`, `isfuzzy=true`.
                    while tok(j).is_some_and(|n| n.kind == TokenKind::Ident)
                        && (tok(j + 1).is_some_and(|n| n.is("=") || n.is(".")))
                    {
                        j += 1;
                        while tok(j).is_some_and(|n| n.is(".") || n.kind == TokenKind::Ident)
                            && !tok(j).is_some_and(|n| n.is("="))
                        {
                            j += 1;
                        }
                        j += 2; // `=` and the value
                    }
                    match tok(j) {
                        Some(n) if n.is("(") => take(j + 1, &locals, &mut out),
                        Some(_) => take(j, &locals, &mut out),
                        None => {}
                    }
                    if !is_union {
                        break;
                    }
                    // `union A, B, (C | …)`: skip to the comma after this item.
                    let mut d = 0usize;
                    while let Some(n) = tok(j) {
                        if n.kind == TokenKind::Open {
                            d += 1;
                        } else if n.kind == TokenKind::Close {
                            if d == 0 {
                                break;
                            }
                            d -= 1;
                        } else if d == 0 && (n.is("|") || n.is(";") || n.is(",")) {
                            break;
                        }
                        j += 1;
                    }
                    if tok(j).is_some_and(|n| n.is(",")) {
                        j += 1;
                    } else {
                        break;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
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

#[cfg(test)]
mod lexer_tests {
    use super::*;

    fn kinds(kql: &str) -> Vec<(TokenKind, &str)> {
        lex(kql).tokens.iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn zero_width_space_and_bom_are_whitespace() {
        use TokenKind::*;
        assert_eq!(
            kinds("\u{feff}T\n|\u{200b} take\u{200b}1"),
            [(Ident, "T"), (Punct, "|"), (Ident, "take"), (Number, "1")]
        );
    }

    #[test]
    fn tokens_with_positions() {
        use TokenKind::*;
        let l = lex(
            "T\n| project-away A, ['Logged on'] // x'\n| where B > 1h and C == @'C:\\p\\' and D has \"\\\\\"",
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let t: Vec<_> = l.tokens.iter().map(|t| (t.kind, t.text, t.pos.line, t.pos.col)).collect();
        assert_eq!(
            t[..8],
            [
                (Ident, "T", 1, 1),
                (Punct, "|", 2, 1),
                (Ident, "project-away", 2, 3),
                (Ident, "A", 2, 16),
                (Punct, ",", 2, 17),
                (BracketIdent, "['Logged on']", 2, 19),
                (Comment, "// x'", 2, 33),
                (Punct, "|", 3, 1),
            ]
        );
        assert!(t.contains(&(Timespan, "1h", 3, 13)));
        assert!(t.contains(&(String, "@'C:\\p\\'", 3, 25)));
        assert!(t.contains(&(String, "\"\\\\\"", 3, 44)));
        // Byte offsets, and columns in characters after non-ASCII text.
        let l = lex("print a = \"é\", b = 2");
        let b = l.tokens.iter().find(|t| t.text == "b").unwrap();
        assert_eq!((b.pos.col, b.pos.offset), (16, 16));
    }

    #[test]
    fn hyphens_only_after_a_pipe() {
        use TokenKind::*;
        assert_eq!(kinds("T | make-series x")[2], (Ident, "make-series"));
        assert_eq!(kinds("a-b")[..3], [(Ident, "a"), (Punct, "-"), (Ident, "b")]);
        let literals: Vec<_> = kinds("x=3rdPartyApp, y=30d, z=4hrs, w=1.5e3, v=0x1F, r=1..2")
            .into_iter()
            .filter(|(k, _)| matches!(k, Timespan | Number))
            .collect();
        assert_eq!(
            literals,
            [
                (Timespan, "30d"),
                (Timespan, "4hrs"),
                (Number, "1.5e3"),
                (Number, "0x1F"),
                (Number, "1"),
                (Number, "2")
            ]
        );
        assert!(kinds("x=3rdPartyApp").contains(&(Ident, "3rdPartyApp")));
    }

    #[test]
    fn strings_that_real_queries_use() {
        for ok in [
            r#"T | where A has_any ("a","b") and B == '\'' and C == "'''""#,
            r##"T | where FolderPath startswith @'C:\Users\' and X == @"say ""hi""""##,
            "T | where X == ```multi\nline```",
            "externaldata(url:string)[@'https://example.com/a.txt'] with(format='txt')",
            "T | extend a = dynamic(['x', 'y']), b = AdditionalFields.['@Subnet']",
            "let f = (T:(DeviceId:string)) { T | take 1 };\nf(DeviceInfo)",
        ] {
            assert!(lex(ok).errors.is_empty(), "{ok}: {:?}", lex(ok).errors);
        }
    }

    #[test]
    fn errors_as_data() {
        let l = lex("T\n| where A == \"x\n| where B == 'y'");
        assert_eq!(l.errors.len(), 1);
        assert_eq!(
            (l.errors[0].kind, l.errors[0].pos.line, l.errors[0].pos.col),
            (LexErrorKind::UnterminatedString, 2, 14)
        );
        let l = lex("T | where X == \u{2018}a\u{2019} // \u{201C}fine\u{201D}");
        assert_eq!(l.errors.len(), 1);
        assert_eq!((l.errors[0].kind, l.errors[0].pos.col), (LexErrorKind::SmartQuote, 16));
        let l = lex("f(a[1)]");
        let got: Vec<_> = l.errors.iter().map(|e| (e.kind, e.pos.col)).collect();
        assert_eq!(
            got,
            [(LexErrorKind::UnbalancedBracket, 6), (LexErrorKind::UnbalancedBracket, 7)]
        );
        assert!(l.errors[0].message.contains("expected `]`"), "{}", l.errors[0].message);
        let l = lex("T | where x == ```open");
        assert_eq!(l.errors[0].kind, LexErrorKind::UnterminatedString);
    }

    #[test]
    fn tables_read() {
        assert_eq!(tables("DeviceProcessEvents | where A"), ["DeviceProcessEvents"]);
        assert_eq!(
            tables(
                "let procs = DeviceProcessEvents | where A;\nlet n = 5;\nprocs\n| join kind=inner (DeviceNetworkEvents | where B) on DeviceId\n| lookup kind=leftouter DeviceInfo on DeviceId"
            ),
            ["DeviceProcessEvents", "DeviceNetworkEvents", "DeviceInfo"]
        );
        assert_eq!(
            tables(
                "union isfuzzy=true DeviceFileEvents, (DeviceEvents | where X), DeviceFileEvents"
            ),
            ["DeviceFileEvents", "DeviceEvents"]
        );
        assert_eq!(
            tables(
                "let ips = externaldata(ip:string)[@'https://x'];\nDeviceNetworkEvents | where RemoteIP in (ips) and DeviceId in ((DeviceInfo | where P | project DeviceId))"
            ),
            ["DeviceNetworkEvents", "DeviceInfo"]
        );
        assert_eq!(
            tables(
                "let f = (T:(DeviceId:string)) { T | join (IdentityInfo) on A };\nf(DeviceInfo)"
            ),
            ["IdentityInfo"]
        );
        assert_eq!(
            tables("let x = materialize(EmailEvents | take 1);\nx | join EmailUrlInfo on K"),
            ["EmailEvents", "EmailUrlInfo"]
        );
        assert_eq!(tables("// AlertInfo\nprint 1"), Vec::<std::string::String>::new());
    }

    /// On the real corpus, the tables found match the manifest's table column.
    #[test]
    fn tables_of_the_corpus_fixtures() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        let mut checked = 0;
        for line in manifest.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if !cols[0].ends_with(".kql") {
                continue;
            }
            let text = std::fs::read_to_string(dir.join(cols[0])).unwrap();
            let mut got = tables(&text);
            got.sort();
            let mut want: Vec<&str> = cols[8].split(',').collect();
            want.sort();
            assert_eq!(got, want, "{}", cols[0]);
            checked += 1;
        }
        assert!(checked >= 30, "{checked}");
    }
}
