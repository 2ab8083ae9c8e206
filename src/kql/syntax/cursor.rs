//! The parser's reading head over the lexer's code tokens: looking ahead, consuming, spans,
//! the nesting bound, and errors that point at a token.

use super::SyntaxError;
use super::tree::Span;
use crate::kql::{Token, TokenKind};

/// How deeply expressions, brackets and subqueries may nest before the parser gives up with an
/// error (instead of running out of stack): one level per bracket, call, subquery or sign.
/// [`super::parse`] runs on a stack sized for it.
pub const MAX_DEPTH: usize = 256;

/// The result of one parsing step.
pub type PResult<T> = Result<T, SyntaxError>;

/// Tokens and the position of the next one.
pub struct Cursor<'t, 'a> {
    toks: &'t [Token<'a>],
    i: usize,
    text_len: usize,
    depth: usize,
    /// In `search`'s predicate, where `Column:"term"` is an operator.
    pub search: bool,
}

impl<'t, 'a> Cursor<'t, 'a> {
    /// A cursor at the first of `toks` (code tokens only) of a text `text_len` bytes long.
    pub fn new(toks: &'t [Token<'a>], text_len: usize) -> Self {
        Cursor { toks, i: 0, text_len, depth: 0, search: false }
    }

    /// The token `n` ahead of the next one (0: the next).
    pub fn peek(&self, n: usize) -> Option<&'t Token<'a>> {
        self.toks.get(self.i + n)
    }

    /// True when every token is consumed.
    pub fn at_end(&self) -> bool {
        self.i >= self.toks.len()
    }

    /// Consumes the next token.
    pub fn bump(&mut self) -> Option<&'t Token<'a>> {
        let t = self.toks.get(self.i);
        if t.is_some() {
            self.i += 1;
        }
        t
    }

    /// Is the next token the punctuation or bracket `s`?
    pub fn at(&self, s: &str) -> bool {
        self.peek(0).is_some_and(|t| t.is(s))
    }

    /// Is the token `n` ahead the punctuation or bracket `s`?
    pub fn at_n(&self, n: usize, s: &str) -> bool {
        self.peek(n).is_some_and(|t| t.is(s))
    }

    /// Is the next token the word `w`?
    pub fn at_word(&self, w: &str) -> bool {
        self.peek(0).is_some_and(|t| t.is_ident(w))
    }

    /// Consumes the punctuation `s` if it is next.
    pub fn eat(&mut self, s: &str) -> bool {
        let yes = self.at(s);
        if yes {
            self.i += 1;
        }
        yes
    }

    /// Consumes the word `w` if it is next.
    pub fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.at_word(w);
        if yes {
            self.i += 1;
        }
        yes
    }

    /// The word next, if the next token is a name.
    pub fn word(&self) -> Option<&'a str> {
        self.peek(0).filter(|t| t.kind == TokenKind::Ident).map(|t| t.text)
    }

    /// Byte offset where the next token starts; after the last, just past it (so an error at
    /// the end points at the code, not at trailing blank lines or comments).
    pub fn offset(&self) -> usize {
        match self.peek(0) {
            Some(t) => t.pos.offset,
            None if self.i > 0 => self.last_end(),
            None => self.text_len,
        }
    }

    /// Byte offset just past the last consumed token.
    pub fn last_end(&self) -> usize {
        self.i.checked_sub(1).and_then(|i| self.toks.get(i)).map_or(0, |t| t.end())
    }

    /// The span from `start` to the end of the last consumed token.
    pub fn span_from(&self, start: usize) -> Span {
        Span { start, end: self.last_end().max(start) }
    }

    /// Do the next two tokens touch (no space or comment between)?
    pub fn adjacent(&self, n: usize) -> bool {
        match (self.peek(n), self.peek(n + 1)) {
            (Some(a), Some(b)) => a.end() == b.pos.offset,
            _ => false,
        }
    }

    /// The next token as a person reads it: `'where'`, or "the end of the query".
    pub fn describe(&self) -> String {
        match self.peek(0) {
            Some(t) => format!("'{}'", t.text),
            None => "the end of the query".to_string(),
        }
    }

    /// An error at the next token (or the end of the text).
    pub fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError::at(self.offset(), message)
    }

    /// Items separated by `,`, each read by `item`, until one is not followed by `,`: the one
    /// loop every comma list of the grammar shares, so `, ,` is the same error everywhere.
    pub fn comma_separated(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<()>,
    ) -> PResult<()> {
        loop {
            if self.at(",") {
                return Err(self.error("empty element in the list: remove the extra ','"));
            }
            item(self)?;
            if !self.eat(",") {
                return Ok(());
            }
        }
    }

    /// `expected X` at the next token, naming what was found.
    pub fn expected(&self, what: &str) -> SyntaxError {
        self.error(format!("expected {what}, found {}", self.describe()))
    }

    /// Consumes `s` or fails with `expected 's'`.
    pub fn expect(&mut self, s: &str) -> PResult<()> {
        if self.eat(s) { Ok(()) } else { Err(self.expected(&format!("'{s}'"))) }
    }

    /// Enters one level of nesting, failing past [`MAX_DEPTH`].
    pub fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "the query nests more than {MAX_DEPTH} levels deep (brackets, operators or \
                 subqueries): simplify it"
            )));
        }
        Ok(())
    }

    /// Leaves one level of nesting.
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips tokens up to (not including) the next `|`, `;`, or unmatched closing bracket at
    /// this level, keeping brackets balanced. For operators read without a detailed grammar.
    pub fn skip_to_pipe_end(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.peek(0) {
            match t.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close if depth == 0 => return,
                TokenKind::Close => depth -= 1,
                TokenKind::Punct if depth == 0 && (t.text == "|" || t.text == ";") => return,
                _ => {}
            }
            self.i += 1;
        }
    }

    /// With an opening bracket next, skips to just past its partner.
    pub fn skip_balanced(&mut self) -> PResult<()> {
        let open_at = self.offset();
        let mut depth = 0usize;
        while let Some(t) = self.bump() {
            match t.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(SyntaxError::at(open_at, "this bracket is never closed"))
    }
}
