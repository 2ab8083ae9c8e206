//! Operators that make their own rows: `datatable(…)[…]`, `print`, `range` (and, through
//! [`super::external`], `externaldata`).

use super::aggregate::split_alias;
use super::bind::Binder;
use super::scalar::B;
use super::tabular::clause;
use super::{Eval, Schema, Table};
use crate::emulator::data::Cell;
use crate::emulator::kql::literal::{self, name_text};
use crate::emulator::kql::value::{
    BOOL, BinOp, DECIMAL, DYN, GUID, INT, LONG, REAL, SPAN, STRING, TIME, Ty, V, arith, compare,
    to_cell,
};
use crate::emulator::kql::{KqlError, op_error};
use crate::kql::syntax::tree::{Operator, Span};
use crate::kql::{Token, TokenKind};

/// The service type of a KQL type name (`string`, `long`, …).
/// The columns of a table schema `( name : type , … )` whose `(` is `toks[open]`, and the index
/// of its `)` (`datatable`, `externaldata`, a plugin's output schema).
pub(crate) fn schema_tokens(
    toks: &[Token<'_>],
    open: usize,
    op: &str,
) -> Result<(Schema, usize), KqlError> {
    let mut schema: Schema = Vec::new();
    let mut i = open + 1;
    while i + 2 < toks.len() && toks[i].text != ")" {
        let ty = type_of(toks[i + 2].text)
            .ok_or_else(|| op_error(op, format!("unknown type '{}'", toks[i + 2].text)))?;
        schema.push((name_text(toks[i].text).into_owned(), ty));
        i += 3;
        if toks.get(i).is_some_and(|t| t.text == ",") {
            i += 1;
        }
    }
    Ok((schema, i))
}

pub(crate) fn type_of(name: &str) -> Option<Ty> {
    Some(match name.to_ascii_lowercase().as_str() {
        "string" => STRING,
        "long" | "int64" => LONG,
        "int" | "int32" => INT,
        "real" | "double" => REAL,
        "bool" | "boolean" => BOOL,
        "datetime" | "date" => TIME,
        "timespan" | "time" => SPAN,
        "dynamic" => DYN,
        "guid" => GUID,
        "decimal" => DECIMAL,
        _ => return None,
    })
}

/// Most rows `range` makes.
const MAX_RANGE: usize = 1_000_000;

impl<'a> Eval<'a> {
    /// The code tokens inside `span`.
    pub(crate) fn tokens_in(&self, span: Span) -> &[Token<'a>] {
        let i = self.toks.partition_point(|t| t.pos.offset < span.start);
        let j = self.toks.partition_point(|t| t.pos.offset < span.end);
        &self.toks[i..j]
    }

    /// A table literal written at `span`: `datatable(…)[…]`, or a refused `externaldata`.
    pub(crate) fn table_literal(&self, span: Span) -> Result<Table, KqlError> {
        let toks = self.tokens_in(span);
        let word = toks.first().map_or("", |t| t.text);
        if word == "externaldata" {
            return super::external::externaldata(toks, &self.ctx.externaldata);
        }
        let bad = || op_error("datatable", "malformed table literal");
        // `datatable ( name : type , … ) [ values ]`
        let (schema, i) = schema_tokens(toks, 1, "datatable")?;
        if schema.is_empty() || toks.get(i + 1).map(|t| t.text) != Some("[") {
            return Err(bad());
        }
        let values = toks.get(i + 2..toks.len().saturating_sub(1)).unwrap_or(&[]);
        let mut cells = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (j, t) in values.iter().enumerate() {
            match t.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close => depth = depth.saturating_sub(1),
                TokenKind::Punct if t.text == "," && depth == 0 => {
                    cells.push(self.value(&values[start..j])?);
                    start = j + 1;
                }
                _ => {}
            }
        }
        if start < values.len() {
            cells.push(self.value(&values[start..])?);
        }
        let width = schema.len();
        if cells.len() % width != 0 {
            return Err(op_error(
                "datatable",
                format!("{} values do not fill rows of {width} columns", cells.len()),
            ));
        }
        let types: Vec<Ty> = schema.iter().map(|c| c.1).collect();
        let rows: Vec<Vec<Cell>> = cells
            .chunks(width)
            .map(|row| row.iter().zip(&types).map(|(v, ty)| to_cell(v.view(), ty)).collect())
            .collect();
        Ok(Table { schema, rows: Box::new(rows.into_iter()) })
    }

    /// One value of a table literal, from its tokens.
    fn value(&self, toks: &[Token<'a>]) -> Result<V<'static>, KqlError> {
        let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
            return Err(op_error("datatable", "empty value"));
        };
        let (start, end) = (first.pos.offset, last.end());
        let text = &self.src[start..end];
        let (neg, rest) = match first.text {
            "-" => (true, &toks[1..]),
            _ => (false, toks),
        };
        let v = match rest.first().map(|t| (t.kind, t.text)) {
            Some((TokenKind::String, _)) => {
                let (v, _) = literal::literal(self.src, kind_of(rest), start, end, self.ctx.now)?;
                v
            }
            Some((TokenKind::Number | TokenKind::Timespan, _)) => {
                let s = rest[0].pos.offset;
                literal::literal(self.src, kind_of(rest), s, rest[0].end(), self.ctx.now)?.0
            }
            Some((TokenKind::Ident, "true" | "false" | "True" | "False")) => {
                V::Bool(rest[0].text.eq_ignore_ascii_case("true"))
            }
            Some((TokenKind::Ident, "null")) => V::Null,
            Some((TokenKind::Ident, name)) if rest.len() >= 3 => {
                let inner_start = rest[1].end();
                let inner_end = last.pos.offset;
                let inner = self.src.get(inner_start..inner_end).unwrap_or("");
                literal::constructor(self.src, name, inner, start, end, self.ctx.now)?.0
            }
            _ => return Err(op_error("datatable", format!("unsupported value '{text}'"))),
        };
        Ok(if neg { arith(BinOp::Sub, &V::Int(0), &v) } else { v })
    }

    /// `print [name =] expr, …`: one row.
    pub(crate) fn print(&self, op: &'a Operator) -> Result<Table, KqlError> {
        let b = Binder::new(self, "print");
        let mut schema: Schema = Vec::new();
        let mut row = Vec::new();
        for (i, item) in clause(op, None).iter().enumerate() {
            let (alias, e) = split_alias(item);
            let (be, ty) = b.bind(e, &Vec::new())?;
            let name = alias.unwrap_or_else(|| format!("print_{i}"));
            schema.push((name, ty));
            row.push(to_cell(be.eval(&[]), ty));
        }
        Ok(Table { schema, rows: Box::new(std::iter::once(row)) })
    }

    /// `range name from a to b step s`: a column of values, lazily.
    pub(crate) fn range(&self, op: &'a Operator) -> Result<Table, KqlError> {
        let b = Binder::new(self, "range");
        let name = self.words_after(op.span.start).nth(1).map_or("Value", |w| w).to_owned();
        let get = |k: &str| -> Result<(V<'static>, Ty), KqlError> {
            let e = clause(op, Some(k)).first().ok_or_else(|| b.error(format!("needs '{k}'")))?;
            match b.bind(e, &Vec::new())? {
                (B::Const(v), ty) => Ok((v, ty)),
                _ => Err(b.error(format!("'{k}' must be a constant"))),
            }
        };
        let ((from, ty), (to, _), (step, _)) = (get("from")?, get("to")?, get("step")?);
        let ascending = compare(&arith(BinOp::Add, &from, &step), &from).is_some_and(|o| o.is_gt());
        if !ascending {
            return Err(b.error("the step must move from 'from' towards 'to'"));
        }
        let mut values = Vec::new();
        let mut v = from;
        while compare(&v, &to).is_some_and(|o| o.is_le()) {
            if values.len() >= MAX_RANGE {
                return Err(b.error(format!("more than {MAX_RANGE} rows")));
            }
            let next = arith(BinOp::Add, &v, &step);
            values.push(vec![to_cell(std::mem::replace(&mut v, next), ty)]);
        }
        Ok(Table { schema: vec![(name, ty)], rows: Box::new(values.into_iter()) })
    }
}

/// The literal kind of a value's first token.
fn kind_of(toks: &[Token<'_>]) -> crate::kql::syntax::tree::LiteralKind {
    use crate::kql::syntax::tree::LiteralKind;
    match toks.first().map(|t| t.kind) {
        Some(TokenKind::String) => LiteralKind::String,
        Some(TokenKind::Timespan) => LiteralKind::Timespan,
        _ => LiteralKind::Number,
    }
}
