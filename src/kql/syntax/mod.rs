//! A parser for KQL queries as the service accepts them: statements, tabular operators and
//! the expression grammar, into a [`tree::Script`] with byte spans, or the first
//! [`SyntaxError`] with a message as useful as Microsoft's (`expected ')'`, `unknown query
//! operator 'summarise' — did you mean 'summarize'?`, `'where' needs a predicate`).
//!
//! It reads the tokens of [`crate::kql::lexer`]; what the lexer finds (unterminated strings,
//! unbalanced brackets, smart quotes) comes back as errors too. Nesting is bounded
//! ([`cursor::MAX_DEPTH`]): a query nested 10,000 deep is an error, never a stack overflow.
//! Microsoft's Kusto.Language parser is the reference (the differential test in
//! `tests/it/kql_oracle.rs` holds this parser against it).

mod cursor;
mod expr;
mod literals;
pub mod names;
mod ops;
mod stmt;
pub mod tree;

pub use cursor::MAX_DEPTH;

use crate::kql::lex;
use cursor::Cursor;

/// A syntax error: where (byte offset, 1-based line and column in characters) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct SyntaxError {
    /// Byte offset into the text.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl SyntaxError {
    /// An error at `offset`; line and column are filled in by [`parse`].
    pub(crate) fn at(offset: usize, message: impl Into<String>) -> Self {
        SyntaxError { offset, line: 0, col: 0, message: message.into() }
    }
}

/// What [`parse`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The tree, when the text parsed.
    pub script: Option<tree::Script>,
    /// The lexer's problems, then the parser's first error (none when the text parsed).
    pub errors: Vec<SyntaxError>,
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Parses one query. When the lexer finds problems, they are the errors (the parser's view of
/// a text with a broken string or bracket would only repeat them).
pub fn parse(text: &str) -> Parsed {
    let lexed = lex(text);
    if !lexed.errors.is_empty() {
        let errors = lexed
            .errors
            .iter()
            .map(|e| SyntaxError {
                offset: e.pos.offset,
                line: e.pos.line,
                col: e.pos.col,
                message: e.message.clone(),
            })
            .collect();
        return Parsed { script: None, errors };
    }
    let toks: Vec<_> = lexed.code().copied().collect();
    // Recursive descent: nesting is bounded by MAX_DEPTH, and the parse runs on a thread whose
    // stack holds the deepest nesting allowed whatever thread `parse` is called on (a tokio
    // worker's 2 MiB would not, in a debug build).
    let run = || Cursor::new(&toks, text.len()).statements(None);
    let result = std::thread::scope(|scope| {
        match std::thread::Builder::new().stack_size(PARSER_STACK).spawn_scoped(scope, run) {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(SyntaxError::at(0, "internal error: the KQL parser failed on this query"))
            }),
            Err(e) => Err(SyntaxError::at(0, format!("cannot start the KQL parser: {e}"))),
        }
    });
    match result {
        Ok(statements) => Parsed { script: Some(tree::Script { statements }), errors: Vec::new() },
        Err(mut e) => {
            (e.line, e.col) = line_col(text, e.offset);
            Parsed { script: None, errors: vec![e] }
        }
    }
}

/// The parser thread's stack: room for [`MAX_DEPTH`] levels in a debug build, many times over.
const PARSER_STACK: usize = 64 << 20;

#[cfg(test)]
mod tests;
