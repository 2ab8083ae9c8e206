//! A KQL lexer good enough to lint a query without a server.
//!
//! It never fails: problems (an unterminated string, a bracket without its partner, a smart
//! quote where a quote is expected) come back as [`LexError`]s next to the tokens, and lexing
//! goes on after them, so one slip does not hide the next.
//!
//! Positions are 1-based lines and columns (columns count characters, not bytes) plus byte
//! offsets into the text. A `\r\n` line ending counts as one line break.

use std::fmt;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A name or keyword: `DeviceProcessEvents`, `where`, `$left`, and after a pipe the
    /// hyphenated operators `project-away`, `make-series`, `mv-expand`.
    Ident,
    /// A bracket-quoted name: `['Logged on Admins']`, `["x"]`.
    BracketIdent,
    /// A number: `42`, `3.5`, `1e6`, `0x1F`.
    Number,
    /// A timespan literal: `1h`, `30d`, `500ms`, `4hrs`.
    Timespan,
    /// A string literal: `"…"`, `'…'`, `@"…"`, `@'…'`, or a multi-line ```` ```…``` ````.
    String,
    /// A `//` comment, up to (not including) the end of its line.
    Comment,
    /// An operator or other punctuation: `|`, `==`, `=~`, `,`, `;`, `..`, …
    Punct,
    /// `(`, `[` or `{`.
    Open,
    /// `)`, `]` or `}`.
    Close,
}

/// A position in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// Byte offset of the character.
    pub offset: usize,
}

/// One token: its kind, its text as written, and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind,
    /// The text exactly as written (quotes, `@` and brackets included).
    pub text: &'a str,
    /// Where it starts.
    pub pos: Pos,
}

impl Token<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.pos.offset + self.text.len()
    }

    /// True for code tokens (everything but comments).
    pub fn is_code(&self) -> bool {
        self.kind != TokenKind::Comment
    }

    /// True when this is the punctuation or bracket `s`.
    pub fn is(&self, s: &str) -> bool {
        matches!(self.kind, TokenKind::Punct | TokenKind::Open | TokenKind::Close) && self.text == s
    }

    /// True when this is the identifier `word` (KQL keywords are case-sensitive).
    pub fn is_ident(&self, word: &str) -> bool {
        self.kind == TokenKind::Ident && self.text == word
    }
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LexErrorKind {
    /// A string literal without its closing quote on the same line (or, for ```` ``` ````,
    /// before the end of the text). Points at the opening quote.
    UnterminatedString,
    /// A closing bracket without an opening one, one that closes the wrong kind, or an
    /// opening bracket never closed. Points at the offending bracket.
    UnbalancedBracket,
    /// A typographic quote (U+201C U+201D U+2018 U+2019) where KQL expects `"` or `'`.
    SmartQuote,
}

/// A problem found while lexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    /// What kind of problem.
    pub kind: LexErrorKind,
    /// Where.
    pub pos: Pos,
    /// What is wrong, for a person.
    pub message: String,
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.pos.line, self.pos.col, self.message)
    }
}

/// Tokens and problems of one text.
#[derive(Debug, Clone, Default)]
pub struct Lexed<'a> {
    /// Every token in order, comments included.
    pub tokens: Vec<Token<'a>>,
    /// Problems in the order found (unclosed brackets come last).
    pub errors: Vec<LexError>,
}

impl<'a> Lexed<'a> {
    /// The tokens that are code (no comments).
    pub fn code(&self) -> impl Iterator<Item = &Token<'a>> {
        self.tokens.iter().filter(|t| t.is_code())
    }
}

/// Opening smart quotes and the straight quote each stands for.
fn smart_quote(c: char) -> Option<char> {
    match c {
        '\u{201C}' | '\u{201D}' => Some('"'),
        '\u{2018}' | '\u{2019}' => Some('\''),
        _ => None,
    }
}

fn closing_of(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// Timespan suffixes KQL accepts after a number (`1d`, `2h`, `30min`, `10sec`, `4hrs`, …).
const TIMESPAN_UNITS: [&str; 25] = [
    "d",
    "day",
    "days",
    "h",
    "hr",
    "hrs",
    "hour",
    "hours",
    "m",
    "min",
    "minute",
    "minutes",
    "s",
    "sec",
    "second",
    "seconds",
    "ms",
    "milli",
    "millis",
    "millisecond",
    "milliseconds",
    "microsecond",
    "microseconds",
    "tick",
    "ticks",
];

/// Two-character operators, longest match first.
const TWO_CHAR: [&str; 10] = ["==", "!=", "<>", "<=", ">=", "=~", "!~", "..", "=>", "->"];

struct Lexer<'a> {
    src: &'a str,
    /// Byte offset of the next character.
    i: usize,
    line: usize,
    col: usize,
    out: Lexed<'a>,
    /// Open brackets: the character and where it is.
    stack: Vec<(char, Pos)>,
}

impl<'a> Lexer<'a> {
    fn pos(&self) -> Pos {
        Pos { line: self.line, col: self.col, offset: self.i }
    }

    fn peek(&self) -> Option<char> {
        self.src[self.i..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.i..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn push(&mut self, kind: TokenKind, start: Pos) {
        let text = &self.src[start.offset..self.i];
        self.out.tokens.push(Token { kind, text, pos: start });
    }

    fn error(&mut self, kind: LexErrorKind, pos: Pos, message: String) {
        self.out.errors.push(LexError { kind, pos, message });
    }

    /// The last code token, if any.
    fn last_code(&self) -> Option<&Token<'a>> {
        self.out.tokens.iter().rev().find(|t| t.is_code())
    }

    /// Reads a quoted string whose opening quote `quote` has been consumed. Escapes with a
    /// backslash unless `verbatim` (then a doubled quote stands for one). Stops at the end of
    /// the line. Returns false when unterminated.
    fn string_body(&mut self, quote: char, verbatim: bool) -> bool {
        while let Some(c) = self.peek() {
            match c {
                '\n' | '\r' => return false,
                '\\' if !verbatim => {
                    self.bump();
                    if matches!(self.peek(), Some(n) if n != '\n' && n != '\r') {
                        self.bump();
                    }
                }
                c if c == quote => {
                    self.bump();
                    if verbatim && self.peek() == Some(quote) {
                        self.bump();
                        continue;
                    }
                    return true;
                }
                _ => {
                    self.bump();
                }
            }
        }
        false
    }

    /// A string starting at the current position (the opening quote, or `@` before it).
    fn string(&mut self) {
        let start = self.pos();
        let verbatim = self.peek() == Some('@');
        if verbatim {
            self.bump();
        }
        let quote = self.bump().unwrap_or('"');
        if !self.string_body(quote, verbatim) {
            let what = if verbatim { format!("@{quote}") } else { quote.to_string() };
            self.error(
                LexErrorKind::UnterminatedString,
                start,
                format!("unterminated string: the {what} opened here has no closing {quote} on this line"),
            );
        }
        self.push(TokenKind::String, start);
    }

    /// A ```` ```…``` ```` multi-line string.
    fn multiline_string(&mut self) {
        let start = self.pos();
        for _ in 0..3 {
            self.bump();
        }
        loop {
            if self.src[self.i..].starts_with("```") {
                for _ in 0..3 {
                    self.bump();
                }
                break;
            }
            if self.bump().is_none() {
                self.error(
                    LexErrorKind::UnterminatedString,
                    start,
                    "unterminated multi-line string: the ``` opened here is never closed"
                        .to_string(),
                );
                break;
            }
        }
        self.push(TokenKind::String, start);
    }

    /// A typographic quote in code: reported once, and, when its partner is on the same line,
    /// read as the string it was meant to be.
    fn smart_quoted(&mut self, c: char, straight: char) {
        let start = self.pos();
        self.bump();
        let rest_of_line = self.src[self.i..].split(['\n', '\r']).next().unwrap_or("");
        let closing = rest_of_line.find(|n: char| smart_quote(n) == Some(straight));
        let message = format!(
            "smart quote {c} (U+{:04X}) used as a quote: KQL needs a straight {straight} \
             (text pasted from a document or chat?)",
            c as u32
        );
        self.error(LexErrorKind::SmartQuote, start, message);
        if let Some(len) = closing {
            let end = self.i + len;
            while self.i < end {
                self.bump();
            }
            self.bump();
            self.push(TokenKind::String, start);
        } else {
            self.push(TokenKind::Punct, start);
        }
    }

    fn word_char(c: char) -> bool {
        c.is_alphanumeric() || c == '_'
    }

    fn ident(&mut self) {
        let start = self.pos();
        let after_pipe = self.last_code().is_some_and(|t| t.is("|"));
        self.bump();
        loop {
            match self.peek() {
                Some(c) if Self::word_char(c) => {
                    self.bump();
                }
                // `project-away`, `make-series`, `mv-expand` right after a pipe.
                Some('-') if after_pipe && self.peek_at(1).is_some_and(|n| n.is_alphabetic()) => {
                    self.bump();
                }
                _ => break,
            }
        }
        self.push(TokenKind::Ident, start);
    }

    fn number(&mut self) {
        let start = self.pos();
        if self.src[self.i..].starts_with("0x") || self.src[self.i..].starts_with("0X") {
            self.bump();
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.bump();
            }
            self.push(TokenKind::Number, start);
            return;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
        // A fraction, but not the `..` of a range.
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        // An exponent.
        if matches!(self.peek(), Some('e') | Some('E')) {
            let sign = matches!(self.peek_at(1), Some('+') | Some('-'));
            let digit_at = if sign { 2 } else { 1 };
            if self.peek_at(digit_at).is_some_and(|c| c.is_ascii_digit()) {
                for _ in 0..digit_at {
                    self.bump();
                }
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
            }
        }
        // A suffix: a timespan unit (`1h`), else a name that starts with a digit (`3rdParty`).
        let suffix_start = self.i;
        while self.peek().is_some_and(Self::word_char) {
            self.bump();
        }
        let suffix = &self.src[suffix_start..self.i];
        let kind = if suffix.is_empty() {
            TokenKind::Number
        } else if TIMESPAN_UNITS.contains(&suffix.to_ascii_lowercase().as_str()) {
            TokenKind::Timespan
        } else {
            TokenKind::Ident
        };
        self.push(kind, start);
    }

    fn open(&mut self, c: char) {
        let start = self.pos();
        // `['name']` / `["name"]`: a bracket-quoted identifier.
        if c == '['
            && let Some(q @ ('\'' | '"')) = self.peek_at(1)
        {
            let save = (self.i, self.line, self.col);
            self.bump();
            self.bump();
            if self.string_body(q, false) && self.peek() == Some(']') {
                self.bump();
                self.push(TokenKind::BracketIdent, start);
                return;
            }
            (self.i, self.line, self.col) = save;
        }
        self.bump();
        self.stack.push((c, start));
        self.push(TokenKind::Open, start);
    }

    fn close(&mut self, c: char) {
        let start = self.pos();
        self.bump();
        self.push(TokenKind::Close, start);
        match self.stack.last().copied() {
            Some((open, _)) if closing_of(open) == c => {
                self.stack.pop();
            }
            Some((open, at)) => {
                let expected = closing_of(open);
                self.error(
                    LexErrorKind::UnbalancedBracket,
                    start,
                    format!(
                        "mismatched bracket: `{c}` closes the `{open}` opened at line {} column \
                         {}; expected `{expected}`",
                        at.line, at.col
                    ),
                );
                // Recover: if an outer bracket matches, the inner ones were left open.
                if let Some(depth) = self.stack.iter().rposition(|(o, _)| closing_of(*o) == c) {
                    self.stack.truncate(depth);
                }
            }
            None => {
                self.error(
                    LexErrorKind::UnbalancedBracket,
                    start,
                    format!(
                        "unbalanced bracket: `{c}` has no opening `{}` before it",
                        match c {
                            ')' => '(',
                            ']' => '[',
                            _ => '{',
                        }
                    ),
                );
            }
        }
    }

    fn punct(&mut self) {
        let start = self.pos();
        let rest = &self.src[self.i..];
        let n = if TWO_CHAR.iter().any(|op| rest.starts_with(op)) { 2 } else { 1 };
        for _ in 0..n {
            self.bump();
        }
        self.push(TokenKind::Punct, start);
    }

    fn run(mut self) -> Lexed<'a> {
        while let Some(c) = self.peek() {
            match c {
                // A byte-order mark or zero-width space (pasted from web pages) is
                // whitespace to Microsoft's parser too.
                c if c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}') => {
                    self.bump();
                }
                '/' if self.peek_at(1) == Some('/') => {
                    let start = self.pos();
                    while self.peek().is_some_and(|n| n != '\n' && n != '\r') {
                        self.bump();
                    }
                    self.push(TokenKind::Comment, start);
                }
                '`' if self.src[self.i..].starts_with("```") => self.multiline_string(),
                '"' | '\'' => self.string(),
                '@' if matches!(self.peek_at(1), Some('"') | Some('\'')) => self.string(),
                c if smart_quote(c).is_some() => {
                    self.smart_quoted(c, smart_quote(c).unwrap_or('"'));
                }
                c if c.is_alphabetic() || c == '_' || c == '$' => self.ident(),
                c if c.is_ascii_digit() => self.number(),
                '(' | '[' | '{' => self.open(c),
                ')' | ']' | '}' => self.close(c),
                _ => self.punct(),
            }
        }
        for (open, at) in std::mem::take(&mut self.stack) {
            self.error(
                LexErrorKind::UnbalancedBracket,
                at,
                format!(
                    "unbalanced bracket: this `{open}` is never closed (expected `{}`)",
                    closing_of(open)
                ),
            );
        }
        self.out
    }
}

/// Splits `kql` into tokens, reporting problems as data.
pub fn lex(kql: &str) -> Lexed<'_> {
    Lexer { src: kql, i: 0, line: 1, col: 1, out: Lexed::default(), stack: Vec::new() }.run()
}
