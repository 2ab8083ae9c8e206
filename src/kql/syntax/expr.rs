//! Expressions: precedence `or` < `and` < comparison and string operators < additive <
//! multiplicative < unary, then member access, indexing and calls, over the literal forms.

use super::SyntaxError;
use super::cursor::{Cursor, PResult};
use super::tree::{Expr, LiteralKind, Span};
use crate::kql::TokenKind;

/// String and set operators written as words (each also negated with `!` where KQL allows).
const WORD_OPS: [&str; 27] = [
    "has",
    "has_cs",
    "hasprefix",
    "hasprefix_cs",
    "hassuffix",
    "hassuffix_cs",
    "contains",
    "contains_cs",
    "containscs",
    "notcontains",
    "notcontainscs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "like",
    "likecs",
    "notlike",
    "notlikecs",
    "notbetween",
    "has_any",
    "has_all",
    "in",
    "between",
    "matches",
    "notin",
    "notempty",
];

/// Operators written with punctuation at the comparison level.
const COMPARISONS: [&str; 9] = ["==", "!=", "<>", "<", "<=", ">", ">=", "=~", "!~"];

/// Words that never start an expression.
const NOT_EXPR_START: [&str; 3] = ["and", "or", "by"];

/// Literals written as a call whose argument is raw text: `datetime(2024-01-01 10:00)`.
fn raw_literal(word: &str) -> Option<LiteralKind> {
    match word {
        "datetime" | "date" => Some(LiteralKind::Datetime),
        "time" | "timespan" => Some(LiteralKind::Timespan),
        "guid" => Some(LiteralKind::Guid),
        "dynamic" => Some(LiteralKind::Dynamic),
        _ => None,
    }
}

impl Cursor<'_, '_> {
    /// Can the next token start an expression?
    pub fn can_start_expr(&self) -> bool {
        match self.peek(0) {
            None => false,
            Some(t) => match t.kind {
                TokenKind::Ident => !NOT_EXPR_START.contains(&t.text),
                TokenKind::BracketIdent
                | TokenKind::Number
                | TokenKind::Timespan
                | TokenKind::String => true,
                TokenKind::Open => true,
                TokenKind::Punct => matches!(t.text, "-" | "+" | "*"),
                TokenKind::Close | TokenKind::Comment => false,
            },
        }
    }

    /// An expression without `|`: what an operator's argument is.
    pub fn scalar(&mut self) -> PResult<Expr> {
        self.enter()?;
        let r = self.binary_or();
        self.leave();
        r
    }

    /// The operand after `and`/`or`/an operator, with a clear error when it is missing.
    fn operand_after(&mut self, op: &str, next: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        if !self.can_start_expr() {
            return Err(self
                .error(format!("'{op}' needs an expression after it, found {}", self.describe())));
        }
        next(self)
    }

    fn binary_or(&mut self) -> PResult<Expr> {
        let mut lhs = self.binary_and()?;
        while self.eat_word("or") {
            let rhs = self.operand_after("or", Self::binary_and)?;
            lhs = binary("or", lhs, rhs);
        }
        Ok(lhs)
    }

    fn binary_and(&mut self) -> PResult<Expr> {
        let mut lhs = self.comparison()?;
        while self.eat_word("and") {
            let rhs = self.operand_after("and", Self::comparison)?;
            lhs = binary("and", lhs, rhs);
        }
        Ok(lhs)
    }

    /// The comparison operator next, if any, with how many tokens it spans.
    fn comparison_op(&self) -> Option<(String, usize)> {
        let t = self.peek(0)?;
        if t.kind == TokenKind::Punct && COMPARISONS.contains(&t.text) {
            return Some((t.text.to_string(), 1));
        }
        if self.search && t.is(":") {
            return Some((":".to_owned(), 1));
        }
        let (neg, w) = if t.is("!") {
            (true, self.peek(1).filter(|n| n.kind == TokenKind::Ident)?)
        } else {
            (false, t)
        };
        if w.kind != TokenKind::Ident || !WORD_OPS.contains(&w.text) {
            return None;
        }
        let mut op = format!("{}{}", if neg { "!" } else { "" }, w.text);
        let mut n = usize::from(neg) + 1;
        if w.text == "in" && self.at_n(n, "~") {
            op.push('~');
            n += 1;
        }
        if w.text == "matches" {
            if !self.peek(n).is_some_and(|r| r.is_ident("regex")) {
                return None;
            }
            op.push_str(" regex");
            n += 1;
        }
        Some((op, n))
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let mut lhs = self.additive()?;
        while let Some((op, n)) = self.comparison_op() {
            for _ in 0..n {
                self.bump();
            }
            if op == "==" && self.at("=") {
                return Err(SyntaxError::at(
                    self.last_end() - 2,
                    "'===' is not a KQL operator: use '==' (or '=~' to ignore case)",
                ));
            }
            let base = op.trim_start_matches('!').trim_end_matches('~');
            let rhs = match base {
                "in" | "has_any" | "has_all" | "notin" => {
                    if !self.at("(") {
                        return Err(self.expected(&format!("'(' after '{op}'")));
                    }
                    self.primary()?
                }
                "between" | "notbetween" => self.between_range()?,
                _ => self.operand_after(&op, Self::additive)?,
            };
            lhs = binary(&op, lhs, rhs);
        }
        Ok(lhs)
    }

    /// `(low .. high)` after `between`.
    fn between_range(&mut self) -> PResult<Expr> {
        let start = self.offset();
        self.expect("(")?;
        let low = self.scalar()?;
        self.expect("..")?;
        let high = self.operand_after("..", Self::scalar)?;
        self.expect(")")?;
        Ok(Expr::Range { low: Box::new(low), high: Box::new(high), span: self.span_from(start) })
    }

    /// An expression of `+`/`-` and tighter: no comparison, `and` or `or` (the axis of
    /// `make-series … on axis in range(…)`).
    pub fn additive(&mut self) -> PResult<Expr> {
        let mut lhs = self.multiplicative()?;
        while let Some(op) = self.peek(0).filter(|t| t.is("+") || t.is("-")).map(|t| t.text) {
            self.bump();
            let rhs = self.operand_after(op, Self::multiplicative)?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some(op) =
            self.peek(0).filter(|t| t.is("*") || t.is("/") || t.is("%")).map(|t| t.text)
        {
            self.bump();
            let rhs = self.operand_after(op, Self::unary)?;
            lhs = binary(op, lhs, rhs);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        let start = self.offset();
        if let Some(op) = self.peek(0).filter(|t| t.is("-") || t.is("+")).map(|t| t.text) {
            self.bump();
            self.enter()?;
            let operand = self.operand_after(op, Self::unary);
            self.leave();
            let operand = operand?;
            return Ok(Expr::Unary {
                op: op.to_string(),
                operand: Box::new(operand),
                span: self.span_from(start),
            });
        }
        let e = self.primary()?;
        self.postfix(e, start)
    }

    /// `.name`, `[index]` and `(args)` after an expression.
    fn postfix(&mut self, mut e: Expr, start: usize) -> PResult<Expr> {
        loop {
            if self.at(".") && !self.at_n(1, ".") {
                self.bump();
                let Some(t) = self.peek(0).filter(|t| {
                    matches!(t.kind, TokenKind::Ident | TokenKind::BracketIdent | TokenKind::String)
                }) else {
                    return Err(self.expected("a name after '.'"));
                };
                self.bump();
                e = Expr::Member {
                    target: Box::new(e),
                    name: t.text.to_string(),
                    span: self.span_from(start),
                };
            } else if self.at("[") {
                self.bump();
                let index = self.pipe_expr()?;
                self.expect("]")?;
                e = Expr::Index {
                    target: Box::new(e),
                    index: Box::new(index),
                    span: self.span_from(start),
                };
            } else if self.peek(0).is_some_and(|t| t.kind == TokenKind::BracketIdent) {
                // `AdditionalFields['TO.GROUP']`: the lexer reads `['…']` as a quoted name.
                let at = self.offset();
                self.bump();
                e = Expr::Index {
                    target: Box::new(e),
                    index: Box::new(Expr::Opaque { span: self.span_from(at) }),
                    span: self.span_from(start),
                };
            } else if self.at("(") && matches!(e, Expr::Name { .. } | Expr::Member { .. }) {
                let args = self.bracketed_list("(", ")")?;
                e = Expr::Call { callee: Box::new(e), args, span: self.span_from(start) };
            } else {
                return Ok(e);
            }
        }
    }

    /// `open item, item, … close` where each item may be a subquery or `name = value`;
    /// `, ,` and a trailing `,` are errors.
    pub fn bracketed_list(&mut self, open: &str, close: &str) -> PResult<Vec<Expr>> {
        self.expect(open)?;
        let mut items = Vec::new();
        if !self.at(close) {
            self.comma_separated(|p| {
                // Not on the first item (the list is not empty): a `,` just before `close`.
                if p.at(close) {
                    return Err(
                        p.error(format!("expected an expression after ',', found '{close}'"))
                    );
                }
                let item = p.pipe_expr()?;
                items.push(p.assigned(item, Self::pipe_expr)?);
                Ok(())
            })?;
        }
        self.expect(close)?;
        Ok(items)
    }

    /// `lhs = value` when `=` follows `lhs`, else `lhs`.
    pub fn assigned(&mut self, lhs: Expr, value: fn(&mut Self) -> PResult<Expr>) -> PResult<Expr> {
        if !self.eat("=") {
            return Ok(lhs);
        }
        let rhs = self.operand_after("=", value)?;
        Ok(binary("=", lhs, rhs))
    }

    /// A literal, a name, a bracketed list or subquery, or `*`.
    pub fn primary(&mut self) -> PResult<Expr> {
        let start = self.offset();
        let Some(t) = self.peek(0) else {
            return Err(self.expected("an expression"));
        };
        let literal = |c: &Self, kind| Ok(Expr::Literal { kind, span: c.span_from(start) });
        match t.kind {
            TokenKind::Number => {
                self.bump();
                literal(self, LiteralKind::Number)
            }
            TokenKind::Timespan => {
                self.bump();
                literal(self, LiteralKind::Timespan)
            }
            TokenKind::String => {
                // Adjacent string literals are one string.
                while self.peek(0).is_some_and(|t| t.kind == TokenKind::String) {
                    self.bump();
                }
                literal(self, LiteralKind::String)
            }
            TokenKind::BracketIdent => {
                self.bump();
                Ok(Expr::Name { name: t.text.to_string(), span: self.span_from(start) })
            }
            TokenKind::Ident => self.word_primary(t.text, start),
            TokenKind::Open if t.text == "{" => {
                self.skip_balanced()?;
                Ok(Expr::Opaque { span: self.span_from(start) })
            }
            TokenKind::Open => {
                let close = if t.text == "(" { ")" } else { "]" };
                let mut items = self.bracketed_list(t.text, close)?;
                if t.text == "(" && items.len() == 1 {
                    return Ok(items.remove(0));
                }
                Ok(Expr::List { items, span: self.span_from(start) })
            }
            TokenKind::Punct if t.text == "*" => {
                self.bump();
                Ok(Expr::Wildcard { span: self.span_from(start) })
            }
            _ => Err(self.expected("an expression")),
        }
    }

    /// A primary that starts with a word: `true`, `null`, `datetime(…)`, `h"…"`,
    /// `datatable(…)[…]`, or a name.
    fn word_primary(&mut self, word: &str, start: usize) -> PResult<Expr> {
        if NOT_EXPR_START.contains(&word) {
            return Err(self.expected("an expression"));
        }
        self.bump();
        let literal = |c: &Self, kind| Ok(Expr::Literal { kind, span: c.span_from(start) });
        match word {
            "true" | "false" | "True" | "False" | "TRUE" | "FALSE" => {
                return literal(self, LiteralKind::Bool);
            }
            "null" => return literal(self, LiteralKind::Null),
            "h" | "H" if self.peek(0).is_some_and(|t| t.kind == TokenKind::String) => {
                self.bump();
                return literal(self, LiteralKind::String);
            }
            "datatable" | "externaldata" if self.at("(") => {
                return self.table_literal(word, start);
            }
            "dynamic" if self.at("(") => return self.dynamic_literal(start),
            _ => {}
        }
        if let Some(kind) = raw_literal(word)
            && self.at("(")
        {
            self.skip_balanced()?;
            return literal(self, kind);
        }
        Ok(Expr::Name { name: word.to_string(), span: self.span_from(start) })
    }
}

/// `lhs op rhs` with the span of both.
fn binary(op: &str, lhs: Expr, rhs: Expr) -> Expr {
    let span: Span = lhs.span().to(rhs.span());
    Expr::Binary { op: op.to_string(), lhs: Box::new(lhs), rhs: Box::new(rhs), span }
}
