//! The literal forms with a grammar of their own: `datatable(schema)[values]`,
//! `externaldata(schema)[urls] with(options)`, table schemas `(name: type, …)` and the JSON
//! inside `dynamic(…)`.

use super::cursor::{Cursor, PResult};
use super::tree::{Expr, LiteralKind};
use crate::kql::TokenKind;

impl Cursor<'_, '_> {
    /// `(name: type, …)` or `(*)`: the columns of a table literal or a tabular parameter.
    pub fn schema(&mut self) -> PResult<()> {
        self.expect("(")?;
        if self.eat("*") {
            return self.expect(")");
        }
        if self.eat(")") {
            return Ok(());
        }
        self.comma_separated(|p| {
            if !p
                .peek(0)
                .is_some_and(|t| matches!(t.kind, TokenKind::Ident | TokenKind::BracketIdent))
            {
                return Err(p.expected("a column name"));
            }
            p.bump();
            p.expect(":")?;
            if p.word().is_none() {
                return Err(p.expected("a column type"));
            }
            p.bump();
            Ok(())
        })?;
        self.expect(")")
    }

    /// After `datatable` or `externaldata`: the schema, the values (or URLs) in `[…]`, and for
    /// `externaldata` the `with (…)` options.
    pub fn table_literal(&mut self, word: &str, start: usize) -> PResult<Expr> {
        self.schema()?;
        let quoted_list = self.peek(0).is_some_and(|t| {
            t.kind == TokenKind::BracketIdent
                && (t.text.starts_with("[\"") || t.text.starts_with("['"))
        });
        if quoted_list {
            // `["https://…"]` with no space: the lexer reads one bracket-quoted name, which
            // here is a list of one string (Microsoft's parser reads it so).
            self.bump();
        } else {
            if !self.at("[") {
                return Err(self.expected(&format!("'[' with the rows of '{word}'")));
            }
            self.bump();
            self.values_until("]")?;
            self.expect("]")?;
        }
        if self.at_word("with") && self.at_n(1, "(") {
            self.bump();
            self.bracketed_list("(", ")")?;
        }
        Ok(Expr::Opaque { span: self.span_from(start) })
    }

    /// Values separated by `,` up to `close` (a trailing `,` is allowed, as in `datatable`).
    fn values_until(&mut self, close: &str) -> PResult<()> {
        while !self.at(close) {
            if self.at(",") {
                return Err(self.error("empty element in the list: remove the extra ','"));
            }
            self.scalar()?;
            if !self.eat(",") {
                break;
            }
        }
        Ok(())
    }

    /// With `(` next (after `dynamic`): checks the JSON-like value inside and skips past `)`.
    pub fn dynamic_literal(&mut self, start: usize) -> PResult<Expr> {
        let open_at = self.offset();
        self.bump();
        // What the previous token was: a value (a string), a separator (`,` `:`), or an opening
        // bracket.
        #[derive(PartialEq)]
        enum Prev {
            Open,
            Value,
            Str,
            Separator,
        }
        let mut prev = Prev::Open;
        let mut depth = 0usize;
        loop {
            let Some(t) = self.peek(0) else {
                return Err(super::SyntaxError::at(open_at, "this bracket is never closed"));
            };
            match t.kind {
                TokenKind::Open => {
                    if matches!(prev, Prev::Value | Prev::Str) {
                        return Err(self.expected("',' between the values of dynamic(…)"));
                    }
                    depth += 1;
                    prev = Prev::Open;
                }
                TokenKind::Close => {
                    if prev == Prev::Separator {
                        return Err(self.error("missing value in dynamic(…): remove the extra ','"));
                    }
                    if depth == 0 {
                        self.bump();
                        break;
                    }
                    depth -= 1;
                    prev = Prev::Value;
                }
                TokenKind::Punct if t.text == "," || t.text == ":" => {
                    if !matches!(prev, Prev::Value | Prev::Str) {
                        return Err(
                            self.error(format!("missing value in dynamic(…) before '{}'", t.text))
                        );
                    }
                    prev = Prev::Separator;
                }
                // Signs and anything else unusual are left to the service.
                TokenKind::Punct => {}
                // Adjacent strings are one string, as everywhere in KQL.
                TokenKind::String if prev == Prev::Str => {}
                _ => {
                    if matches!(prev, Prev::Value | Prev::Str) {
                        return Err(self.expected("',' between the values of dynamic(…)"));
                    }
                    prev = if t.kind == TokenKind::String { Prev::Str } else { Prev::Value };
                }
            }
            self.bump();
        }
        Ok(Expr::Literal { kind: LiteralKind::Dynamic, span: self.span_from(start) })
    }
}
