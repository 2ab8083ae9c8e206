//! Statements: `let` (scalars, tabular expressions, functions with typed parameters and
//! defaults, views), `set`, `declare query_parameters`, `alias`/`pattern`/`restrict`, and the
//! query itself, separated by `;`.

use super::cursor::{Cursor, PResult};
use super::names;
use super::tree::{LetValue, Param, Statement};
use crate::kql::TokenKind;

/// Statements hunt reads past to their `;`.
const DIRECTIVES: [&str; 5] = ["set", "declare", "alias", "pattern", "restrict"];

impl Cursor<'_, '_> {
    /// Statements up to the end of the text, or up to `close` (`}` of a function body).
    pub fn statements(&mut self, close: Option<&str>) -> PResult<Vec<Statement>> {
        let mut out = Vec::new();
        let at_close = |c: &Self| c.at_end() || close.is_some_and(|s| c.at(s));
        while !at_close(self) {
            if self.at(";") {
                return Err(self.error("empty statement: remove the extra ';'"));
            }
            let st = self.statement()?;
            let needs_semicolon = !matches!(st, Statement::Query(_));
            let keyword = match &st {
                Statement::Let { .. } => "let",
                Statement::Directive { keyword, .. } => keyword.as_str(),
                Statement::Query(_) => "",
            }
            .to_string();
            out.push(st);
            if self.eat(";") || at_close(self) {
                continue;
            }
            if needs_semicolon {
                return Err(self.error(format!(
                    "expected ';' after the '{keyword}' statement, found {}",
                    self.describe()
                )));
            }
            return Err(match self.peek(0) {
                Some(t) if t.kind == TokenKind::Ident && names::is_operator(t.text) => {
                    self.error(format!("expected '|' before '{}'", t.text))
                }
                _ => self.error(format!("unexpected {}: expected '|' or ';'", self.describe())),
            });
        }
        Ok(out)
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.offset();
        match self.word() {
            Some("let") if self.peek(1).is_some_and(|t| t.kind != TokenKind::Punct) => {
                self.bump();
                self.let_statement(start)
            }
            Some(w) if DIRECTIVES.contains(&w) && !self.at_n(1, "|") => {
                self.bump();
                self.skip_to_pipe_end();
                Ok(Statement::Directive { keyword: w.to_string(), span: self.span_from(start) })
            }
            Some("materialize") if self.at_n(1, "(") => Err(self.error(
                "'materialize(…)' is only allowed as the value of a 'let' (let x = materialize(…);)",
            )),
            _ => Ok(Statement::Query(self.pipe_expr()?)),
        }
    }

    fn let_statement(&mut self, start: usize) -> PResult<Statement> {
        let Some(name) = self
            .peek(0)
            .filter(|t| matches!(t.kind, TokenKind::Ident | TokenKind::BracketIdent))
            .map(|t| t.text)
        else {
            return Err(self.expected("a name after 'let'"));
        };
        self.bump();
        self.expect("=")?;
        let fn_start = self.offset();
        let is_view = self.at_word("view") && self.at_n(1, "(");
        if is_view {
            self.bump();
        }
        let function = self.at("(")
            && (is_view
                || (self.at_n(1, ")") && self.at_n(2, "{"))
                || (self.peek(1).is_some_and(|t| {
                    matches!(t.kind, TokenKind::Ident | TokenKind::BracketIdent)
                }) && self.at_n(2, ":")));
        let value = if function {
            let params = self.params()?;
            self.expect("{")?;
            self.enter()?;
            let body = self.statements(Some("}"));
            self.leave();
            let body = body?;
            self.expect("}")?;
            LetValue::Function { params, body, span: self.span_from(fn_start) }
        } else {
            if !self.can_start_expr() {
                return Err(self.expected(&format!("a value for '{name}' after '='")));
            }
            LetValue::Expr(self.pipe_expr()?)
        };
        Ok(Statement::Let { name: name.to_string(), value, span: self.span_from(start) })
    }

    /// `(name: type [= default], T: (col: type, …), …)`.
    fn params(&mut self) -> PResult<Vec<Param>> {
        self.expect("(")?;
        let mut out = Vec::new();
        if self.eat(")") {
            return Ok(out);
        }
        self.comma_separated(|p| {
            let start = p.offset();
            let Some(name) = p
                .peek(0)
                .filter(|t| matches!(t.kind, TokenKind::Ident | TokenKind::BracketIdent))
                .map(|t| t.text)
            else {
                return Err(p.expected("a parameter name"));
            };
            p.bump();
            p.expect(":")?;
            let ty_start = p.offset();
            if p.at("(") {
                p.schema()?;
            } else if p.word().is_some() {
                p.bump();
            } else {
                return Err(p.expected(&format!("a type for parameter '{name}'")));
            }
            let ty = p.span_from(ty_start);
            let default = if p.eat("=") { Some(p.scalar()?) } else { None };
            out.push(Param { name: name.to_string(), ty, default, span: p.span_from(start) });
            Ok(())
        })?;
        self.expect(")")?;
        Ok(out)
    }
}
