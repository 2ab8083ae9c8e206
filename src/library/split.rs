//! Finds the independent queries in one KQL text.
//!
//! Many public hunting files are "notebooks" written for the portal's query editor, which runs
//! the block around the cursor: several complete queries one after another, separated by blank
//! lines and comments, sometimes with prose or a `-----` rule between them. Sent to the service
//! whole, such a text is a syntax error at best. This module finds where one query ends and the
//! next begins, with a light lexer (strings, verbatim strings, multi-line ```` ``` ```` strings,
//! `//` comments, bracket depth, top-level `;`), never guessing inside a statement:
//!
//! The caller asks the KQL parser first: a text that parses as a single tabular statement is
//! one query and never reaches these heuristics, which only read texts the parser rejects or
//! that hold several tabular statements.
//!
//! * **Blank-line boundary** (the file is split there): a line at bracket depth 0, after at least
//!   one blank line since the previous code line, which starts a statement (a `let`/`print`/
//!   `union`/… keyword, or a table-like identifier followed by nothing, `|`, `(`, `;` or a
//!   comment), when the statement before it is a complete tabular expression, ended with `;`
//!   or not (not a `let` waiting for its `;`, and its last code line does not end with `,`,
//!   `(`, `=`, `and`, `by`, …). A line starting with `|` always continues the statement
//!   before it.
//! * **Stray text**: at such a boundary, a line that is neither a statement start nor a
//!   plausible continuation (a `-----` rule, a sentence of prose) is kept out of every query, up
//!   to the next blank line; the code after it starts a new query.
//! * **`;`-separated tabular statements** with no blank line between (`T1 | …; T2 | …`): valid KQL, but the service answers
//!   with one table, so one of them would silently not run. They are not split (a later
//!   statement may use the `let`s of an earlier one); the caller flags the query instead.

/// Where the queries in a text are: line ranges, 0-based, end exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segments {
    /// One range per independent query, in order. Leading comments and blank lines belong to
    /// the query they precede; the last query runs to the end of the text.
    pub parts: Vec<(usize, usize)>,
    /// Line ranges of stray text between queries, part of no query.
    pub stray: Vec<(usize, usize)>,
    /// 0-based lines where a tabular statement starts after an earlier tabular statement of
    /// the same query ended with `;`.
    pub extra_statements: Vec<usize>,
}

impl Segments {
    /// True when the text is one query with nothing left out.
    pub fn is_single(&self) -> bool {
        self.parts.len() <= 1 && self.stray.is_empty()
    }
}

/// Statement keywords that do not produce a table.
const NON_TABULAR: &[&str] = &["let", "set", "declare", "alias", "pattern", "restrict"];

/// Keywords that start a tabular statement.
const TABULAR_START: &[&str] = &[
    "print",
    "union",
    "range",
    "datatable",
    "search",
    "find",
    "externaldata",
    "evaluate",
    "materialize",
    "cluster",
    "database",
    "table",
    "view",
];

/// Words that end a line whose statement goes on on the next line.
const OPEN_END_WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "by",
    "on",
    "with",
    "kind",
    "to",
    "from",
    "step",
    "in",
    "of",
    "between",
    "has",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "where",
    "as",
    "hint",
];

/// Words that start a line continuing the statement before it.
const CONTINUATION_WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "by",
    "on",
    "with",
    "kind",
    "to",
    "from",
    "step",
    "in",
    "of",
    "asc",
    "desc",
    "nulls",
    "between",
    "has",
    "contains",
    "startswith",
    "endswith",
    "matches",
    "where",
    "as",
    "hint",
    "then",
    "else",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stmt {
    /// No code yet since the last `;` (or the start of the part).
    None,
    /// A `let`-like statement, which must end with `;`.
    NonTabular,
    /// A tabular expression.
    Tabular,
}

/// What one line holds, once strings and comments are accounted for.
#[derive(Debug, Default)]
struct LineInfo {
    /// The line has code (not only whitespace and comments).
    has_code: bool,
    /// The code of the line with string contents replaced by `_` and comments removed.
    code: String,
}

struct Lexer {
    depth: usize,
    /// Inside a ```` ``` ```` multi-line string.
    in_ml: bool,
}

impl Lexer {
    /// Lexes one line; `on_code(byte_offset_in_code, event)` for statement starts and `;`.
    fn line(&mut self, line: &str, mut event: impl FnMut(Event<'_>)) -> LineInfo {
        let mut info = LineInfo::default();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if self.in_ml {
                if chars[i..].starts_with(&['`', '`', '`']) {
                    self.in_ml = false;
                    info.code.push_str("```");
                    i += 3;
                } else {
                    info.code.push('_');
                    i += 1;
                }
                continue;
            }
            if c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if chars[i..].starts_with(&['`', '`', '`']) {
                self.in_ml = true;
                info.has_code = true;
                info.code.push_str("```");
                i += 3;
                continue;
            }
            let verbatim = (c == '@') && matches!(chars.get(i + 1), Some('"' | '\''));
            if c == '"' || c == '\'' || verbatim {
                let q = if verbatim { chars[i + 1] } else { c };
                let start = i;
                i += if verbatim { 2 } else { 1 };
                while i < chars.len() {
                    if !verbatim && chars[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    if chars[i] == q {
                        if verbatim && chars.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                if !info.has_code {
                    event(Event::Start(""));
                }
                info.has_code = true;
                info.code.push(chars[start]);
                info.code.push('_');
                info.code.push(q);
                continue;
            }
            if c.is_whitespace() {
                info.code.push(' ');
                i += 1;
                continue;
            }
            // Code.
            let at_start_of_statement = !info.has_code || info.code.trim_end().ends_with(';');
            info.has_code = true;
            match c {
                '(' | '[' | '{' => self.depth += 1,
                ')' | ']' | '}' => self.depth = self.depth.saturating_sub(1),
                ';' if self.depth == 0 => event(Event::Semicolon),
                _ => {}
            }
            if at_start_of_statement && c != ';' {
                let word: String =
                    chars[i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
                event(Event::Start(&word));
            }
            info.code.push(c);
            i += 1;
        }
        info
    }
}

enum Event<'a> {
    /// Code starts (on a new line, or after a `;`) with this word (empty if not a word).
    Start(&'a str),
    /// A `;` at bracket depth 0.
    Semicolon,
}

fn first_word(code: &str) -> &str {
    let t = code.trim_start();
    let end = t.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(t.len());
    &t[..end]
}

/// Does this (code of a) line start a new statement?
fn starts_statement(code: &str) -> bool {
    let t = code.trim_start();
    if t.starts_with("['") || t.starts_with("[\"") {
        return true;
    }
    let word = first_word(t);
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let lower = word.to_ascii_lowercase();
    if NON_TABULAR.contains(&lower.as_str()) || TABULAR_START.contains(&lower.as_str()) {
        return true;
    }
    if CONTINUATION_WORDS.contains(&lower.as_str()) {
        return false;
    }
    let rest = t[word.len()..].trim_start();
    rest.is_empty() || rest.starts_with(['|', '(', ';'])
}

/// Is this line, found where a new statement could start, text that is not KQL at all?
fn is_stray(line: &str, code: &str) -> bool {
    let t = line.trim();
    // A rule such as `-----` or `=====`.
    if t.len() >= 3 && t.chars().all(|c| matches!(c, '-' | '=' | '*' | '#' | '_' | '~')) {
        return true;
    }
    // A sentence: at least three words of letters, no operator or bracket.
    let words = code.split_whitespace().count();
    words >= 3
        && code.chars().all(|c| c.is_alphanumeric() || c.is_whitespace() || ".,'!?:-".contains(c))
        && !starts_statement(code)
}

/// Does a statement whose last code line is `code` go on on the next line?
fn ends_open(code: &str) -> bool {
    let t = code.trim_end();
    if t.ends_with([',', '(', '[', '{', '=', '|', '<', '>', '+', '-', '*', '/', '!', '~', '.']) {
        return true;
    }
    let last = t.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
    OPEN_END_WORDS.contains(&last.to_ascii_lowercase().as_str())
}

/// Finds the independent queries in `text`.
pub fn segments(text: &str) -> Segments {
    let lines: Vec<&str> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
    let mut out = Segments::default();
    let mut lx = Lexer { depth: 0, in_ml: false };
    let mut stmt = Stmt::None;
    // A tabular statement of the current part has ended with `;`.
    let mut tabular_done = false;
    let mut part_start = 0usize;
    // Last line with code in the current part, and whether its statement is left open.
    let mut last_code: Option<usize> = None;
    let mut last_open = false;
    let mut blank_since_code = false;
    // Inside stray text (from this line), until a blank line.
    let mut stray_from: Option<usize> = None;
    // After stray text: the next code starts a new part.
    let mut after_stray = false;

    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            if let Some(s) = stray_from.take() {
                out.stray.push((s, i));
                after_stray = true;
            }
            blank_since_code = true;
            continue;
        }
        if stray_from.is_some() {
            continue;
        }
        // Lex a copy first to see the line's code without committing state.
        let boundary_possible = !lx.in_ml
            && lx.depth == 0
            && blank_since_code
            // A tabular statement in progress, or one just ended with `;`.
            && (stmt == Stmt::Tabular || (stmt == Stmt::None && tabular_done))
            && !last_open
            && last_code.is_some();
        if boundary_possible || after_stray {
            let mut probe = Lexer { depth: 0, in_ml: false };
            let info = probe.line(line, |_| {});
            if info.has_code {
                let code = info.code.as_str();
                let new_part = after_stray || starts_statement(code);
                if !after_stray && !new_part && is_stray(line, code) {
                    close_part(&mut out, part_start, last_code);
                    stray_from = Some(i);
                    continue;
                }
                if new_part {
                    if !after_stray {
                        close_part(&mut out, part_start, last_code);
                    }
                    // Leading comments belong to the new part.
                    let prev_end = if after_stray {
                        out.stray.last().map_or(0, |s| s.1)
                    } else {
                        last_code.map_or(0, |l| l + 1)
                    };
                    part_start = (prev_end..i).find(|&j| !lines[j].trim().is_empty()).unwrap_or(i);
                    after_stray = false;
                    stmt = Stmt::None;
                    tabular_done = false;
                }
            }
        }
        let mut events = Vec::new();
        let info = lx.line(line, |e| {
            events.push(match e {
                Event::Start(w) => Some(w.to_ascii_lowercase()),
                Event::Semicolon => None,
            })
        });
        for e in events {
            match e {
                Some(word) => {
                    if stmt == Stmt::None {
                        stmt = if NON_TABULAR.contains(&word.as_str()) {
                            Stmt::NonTabular
                        } else {
                            if tabular_done {
                                out.extra_statements.push(i);
                            }
                            Stmt::Tabular
                        };
                    }
                }
                None => {
                    if stmt == Stmt::Tabular {
                        tabular_done = true;
                    }
                    stmt = Stmt::None;
                }
            }
        }
        if info.has_code {
            last_code = Some(i);
            last_open = ends_open(&info.code);
            blank_since_code = false;
        }
    }
    if let Some(s) = stray_from.take() {
        out.stray.push((s, lines.len()));
    } else if !after_stray {
        out.parts.push((part_start, lines.len()));
    }
    // else: only blank lines and comments after stray text.
    out
}

fn close_part(out: &mut Segments, start: usize, last_code: Option<usize>) {
    if let Some(l) = last_code
        && l >= start
    {
        out.parts.push((start, l + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Vec<(usize, usize)> {
        segments(text).parts
    }

    #[test]
    fn one_query_is_one_part() {
        let t = "// c\nT\n| where x\n\n| take 1\n";
        let s = segments(t);
        assert!(s.is_single(), "{s:?}");
        assert_eq!(s.parts, [(0, 6)]);
        // A let waiting for its `;` across a blank line.
        assert!(segments("let x = T\n\n| where a;\n\nx\n").is_single());
        assert!(segments("let x = 1;\n\nT\n| where a > x\n").is_single());
        // Open lines and brackets.
        assert!(segments("T\n| where a ==\n\nb\n").is_single());
        assert!(segments("T\n| where a in (\n\nFoo\n)\n").is_single());
        assert!(segments("T\n| join (\n\nU\n| where b\n) on X\n").is_single());
        // A table name inside a string or comment.
        assert!(segments("T\n| where a == \"x\n\nU\"\n").is_single());
        assert!(segments("T\n\n// U\n").is_single());
        assert!(segments("T\n| extend s = ```\n\nU\n```\n").is_single());
        // Continuation keywords.
        assert!(segments("T\n| join U\n\non X\n").is_single());
    }

    #[test]
    fn blank_line_separated_queries_split() {
        let t = "// header\nT\n| take 1\n\n// second\nU\n| take 2\n\n\nprint 1\n";
        let s = segments(t);
        assert_eq!(s.parts, [(0, 3), (4, 7), (9, 11)]);
        assert!(s.stray.is_empty() && s.extra_statements.is_empty());
        // Indented table name, and a let-led second query.
        assert_eq!(parts("T\n\n U\n\nlet a = 1;\nV\n"), [(0, 1), (2, 3), (4, 7)]);
        // Bracket-quoted table.
        assert_eq!(parts("T\n\n['My Table']\n").len(), 2);
        // Sort order words end a statement; a `;` after a query before a blank line too.
        assert_eq!(parts("T\n| top 1 by X desc\n\nU\n").len(), 2);
        assert_eq!(parts("T\n| order by X asc\n\nU\n").len(), 2);
        let s = segments("let a = 1;\nT | take a;\n\nlet b = 2;\nU\n");
        assert_eq!(s.parts, [(0, 2), (3, 6)]);
        assert!(s.extra_statements.is_empty());
    }

    #[test]
    fn stray_text_is_left_out() {
        let t = "T\n\n-----\n\nU\n\nnot very precise but can help.\n\nlet p = 1;\nV\n";
        let s = segments(t);
        assert_eq!(s.parts, [(0, 1), (4, 5), (8, 11)]);
        assert_eq!(s.stray, [(2, 3), (6, 7)]);
        let s = segments("T\n\nthe end of it\n");
        assert_eq!((s.parts.clone(), s.stray.clone()), (vec![(0, 1)], vec![(2, 3)]));
        assert!(!s.is_single());
    }

    #[test]
    fn semicolon_separated_tabular_statements_are_reported() {
        let s = segments("let a = 1;\nT | take a;\nU | take 1\n");
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.extra_statements, [2]);
        assert_eq!(segments("T; U").extra_statements, [0]);
        assert!(segments("T | take 1;\n").extra_statements.is_empty());
        assert!(segments("let f = (x:long) { T | take x; };\nf(1)").extra_statements.is_empty());
    }

    #[test]
    fn verbatim_and_escaped_strings() {
        assert!(segments("T\n| where a == @\"C:\\\"\n\n| take 1\n").is_single());
        assert!(segments("T\n| where a == 'it''s' and b == \"q\\\"(\"\n").is_single());
        assert_eq!(parts("T\n| where a == @\"C:\\\"\n\nU\n").len(), 2);
    }
}
