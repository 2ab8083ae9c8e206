//! Bound scalar expressions ([`B`]: columns resolved to indices, constants folded) and their
//! evaluation on one row.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::builtins::Builtin;
use super::functions::{Func, call};
use crate::emulator::data::Cell;
use crate::emulator::kql::parse_timespan;
use crate::emulator::kql::value::{
    BinOp, STRING, StrOp, V, binary, cell_value, compare, eq_ci, has_term,
};

/// List predicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListOp {
    /// `in` variants: case-insensitive, negated.
    In(bool, bool),
    HasAny,
    HasAll,
}

/// A bound expression: columns are indices, types are known.
#[derive(Debug, Clone)]
pub(crate) enum B {
    /// Column index, and whether its text is a .NET `TimeSpan`.
    Col(usize, bool),
    Const(V<'static>),
    Not(Box<B>),
    And(Vec<B>),
    Or(Vec<B>),
    Neg(Box<B>),
    Bin(BinOp, Box<B>, Box<B>),
    List(Box<B>, Vec<B>, ListOp),
    Between(Box<B>, Box<B>, Box<B>, bool),
    Func(Func, Vec<B>),
    Builtin(Builtin, Vec<B>),
    Member(Box<B>, Box<B>),
    /// `row_number([start])` in a serialized stream: the next number on each evaluation.
    RowNumber(std::cell::Cell<i64>),
    /// `prev(expr, n, default)`: the value `expr` had `n` rows before (the last `n` kept).
    Prev(Box<B>, usize, Box<B>, std::cell::RefCell<std::collections::VecDeque<V<'static>>>),
    /// `next(expr, n, default)`: `expr` on the row `n` ahead, which the stage keeps.
    Next(Box<B>, usize, Box<B>, super::bind::Lookahead),
}

impl B {
    /// The columns this expression reads, added to `out`; `false` when it cannot tell (a
    /// window function reads rows besides this one).
    pub(crate) fn columns(&self, out: &mut Vec<usize>) -> bool {
        match self {
            B::Col(i, _) => {
                out.push(*i);
                true
            }
            B::Const(_) => true,
            B::Not(a) | B::Neg(a) => a.columns(out),
            B::And(v) | B::Or(v) | B::Func(_, v) | B::Builtin(_, v) => {
                v.iter().all(|b| b.columns(out))
            }
            B::Bin(_, a, b) | B::Member(a, b) => a.columns(out) && b.columns(out),
            B::List(a, l, _) => a.columns(out) && l.iter().all(|b| b.columns(out)),
            B::Between(a, b, c, _) => a.columns(out) && b.columns(out) && c.columns(out),
            B::RowNumber(_) | B::Prev(..) | B::Next(..) => false,
        }
    }

    pub(crate) fn has_col(&self) -> bool {
        match self {
            B::Col(..) => true,
            B::Const(_) => false,
            B::Not(a) | B::Neg(a) => a.has_col(),
            B::And(v) | B::Or(v) => v.iter().any(B::has_col),
            B::Bin(_, a, b) | B::Member(a, b) => a.has_col() || b.has_col(),
            B::List(a, l, _) => a.has_col() || l.iter().any(B::has_col),
            B::Between(a, b, c, _) => a.has_col() || b.has_col() || c.has_col(),
            B::Func(f, args) => !f.is_pure() || args.iter().any(B::has_col),
            B::Builtin(f, args) => f.volatile() || args.iter().any(B::has_col),
            B::RowNumber(_) | B::Prev(..) | B::Next(..) => true,
        }
    }

    pub(crate) fn truthy(&self, row: &[Cell]) -> bool {
        matches!(self.eval(row).norm(), V::Bool(true))
    }

    pub(crate) fn eval<'a>(&'a self, row: &'a [Cell]) -> V<'a> {
        match self {
            B::Col(i, span) => match row.get(*i) {
                Some(Cell::Str(s)) if *span => parse_timespan(s).map_or(V::Null, V::Span),
                Some(c) => cell_value(c, STRING),
                None => V::Null,
            },
            B::Const(v) => v.view(),
            B::Not(a) => match a.eval(row).norm() {
                V::Bool(b) => V::Bool(!b),
                _ => V::Null,
            },
            B::And(v) => V::Bool(v.iter().all(|b| b.truthy(row))),
            B::Or(v) => V::Bool(v.iter().any(|b| b.truthy(row))),
            B::Neg(a) => match a.eval(row).norm() {
                V::Int(v) => v.checked_neg().map_or(V::Null, V::Int),
                V::Real(v) => V::Real(-v),
                V::Span(v) => v.checked_neg().map_or(V::Null, V::Span),
                _ => V::Null,
            },
            B::Bin(op, a, b) => binary(*op, a.eval(row).norm(), b.eval(row).norm()),
            B::List(a, items, op) => list(*op, a.eval(row).norm(), items, row),
            B::Between(x, lo, hi, neg) => {
                let x = x.eval(row).norm();
                let lo = lo.eval(row).norm();
                let hi = match (&lo, hi.eval(row).norm()) {
                    (V::Time(t), V::Span(s)) => V::Time(t.saturating_add(s)),
                    (_, hi) => hi,
                };
                match (compare(&x, &lo), compare(&x, &hi)) {
                    (Some(a), Some(b)) => V::Bool((a.is_ge() && b.is_le()) != *neg),
                    _ => V::Bool(false),
                }
            }
            B::Func(f, args) => call(f, args, row),
            B::Builtin(f, args) => super::builtins::call(f, args, row),
            B::RowNumber(next) => {
                let n = next.get();
                next.set(n.saturating_add(1));
                V::Int(n)
            }
            B::Prev(e, n, default, seen) => {
                let now = e.eval(row).norm().owned();
                let mut seen = seen.borrow_mut();
                let out = if seen.len() == *n {
                    seen.pop_front().unwrap_or(V::Null)
                } else {
                    default.eval(row).norm().owned()
                };
                seen.push_back(now);
                out
            }
            B::Member(base, key) => {
                crate::emulator::kql::value::member(base.eval(row), key.eval(row).norm())
            }
            B::Next(e, n, default, ahead) => {
                let ahead = ahead.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                match ahead.get(n - 1) {
                    Some(later) => e.eval(later).norm().owned(),
                    None => default.eval(row).norm().owned(),
                }
            }
        }
    }
}

fn list<'a>(op: ListOp, x: V<'a>, items: &'a [B], row: &'a [Cell]) -> V<'a> {
    if x.is_null() {
        return V::Bool(false);
    }
    // Items, with dynamic arrays spread.
    let mut values: Vec<V<'_>> = Vec::with_capacity(items.len());
    for item in items {
        match item.eval(row) {
            V::Dyn(d) if d.is_array() => {
                for e in d.as_array().into_iter().flatten() {
                    values.push(V::Dyn(Cow::Owned(e.clone())).norm());
                }
            }
            v => values.push(v.norm()),
        }
    }
    let r = match op {
        ListOp::In(ci, neg) => {
            let hit = values.iter().any(|v| {
                if ci {
                    eq_ci(&x.text(), &v.text())
                } else {
                    compare(&x, v) == Some(Ordering::Equal)
                }
            });
            hit != neg
        }
        ListOp::HasAny => values.iter().any(|v| has_term(&x.text(), &v.text(), StrOp::Has, false)),
        ListOp::HasAll => values.iter().all(|v| has_term(&x.text(), &v.text(), StrOp::Has, false)),
    };
    V::Bool(r)
}
