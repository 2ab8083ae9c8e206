//! Name binding, typing and evaluation: the syntax tree becomes a chain of lazy iterator
//! stages over `data::rows`, with every column resolved to an index and every expression to a
//! service type name.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::parser::{Agg, BinOp, Expr, ListOp, Op, Query, SortKey, StrOp};
use super::value::{
    BOOL, DECIMAL, DYN, GUID, INT, LONG, REAL, SPAN, STRING, TIME, Ty, V, arith, binary,
    cell_value, compare, eq_ci, has_term, intern, member, to_cell,
};
use super::{Context, KqlError, ResultSet, op_error, parse_datetime, parse_timespan, syntax_error};
use crate::emulator::data::{self, Cell};

type Rows = Box<dyn Iterator<Item = Vec<Cell>> + Send>;
type Schema = Vec<(String, Ty)>;

/// Built-in scalar functions.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Func {
    Ago(i64),
    Now(i64),
    IsEmpty(bool),
    IsNull(bool),
    ToLower,
    ToUpper,
    ToString,
    StrLen,
    StrCat,
    Bin,
    Iff,
    ParseJson,
    ArrayLength,
    ToLong,
    ToDouble,
    ToDateTime,
    ToTimespan,
    ToBool,
}

/// A bound expression: columns are indices, types are known.
#[derive(Debug, Clone)]
enum B {
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
    Member(Box<B>, Box<B>),
}

impl B {
    fn has_col(&self) -> bool {
        match self {
            B::Col(..) => true,
            B::Const(_) => false,
            B::Not(a) | B::Neg(a) => a.has_col(),
            B::And(v) | B::Or(v) => v.iter().any(B::has_col),
            B::Bin(_, a, b) | B::Member(a, b) => a.has_col() || b.has_col(),
            B::List(a, l, _) => a.has_col() || l.iter().any(B::has_col),
            B::Between(a, b, c, _) => a.has_col() || b.has_col() || c.has_col(),
            B::Func(_, args) => args.iter().any(B::has_col),
        }
    }

    fn truthy(&self, row: &[Cell]) -> bool {
        matches!(self.eval(row).norm(), V::Bool(true))
    }

    fn eval<'a>(&'a self, row: &'a [Cell]) -> V<'a> {
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
            B::Func(f, args) => call(*f, args, row),
            B::Member(base, key) => member(base.eval(row), key.eval(row).norm()),
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

fn call<'a>(f: Func, args: &'a [B], row: &'a [Cell]) -> V<'a> {
    let arg = |i: usize| args.get(i).map_or(V::Null, |a| a.eval(row).norm());
    match f {
        Func::Ago(now) => match arg(0) {
            V::Span(s) => now.checked_sub(s).map_or(V::Null, V::Time),
            _ => V::Null,
        },
        Func::Now(now) => match arg(0) {
            V::Span(s) => now.checked_add(s).map_or(V::Null, V::Time),
            _ => V::Time(now),
        },
        Func::IsEmpty(neg) => {
            let v = arg(0);
            V::Bool((v.is_null() || matches!(&v, V::Str(s) if s.is_empty())) != neg)
        }
        Func::IsNull(neg) => V::Bool(arg(0).is_null() != neg),
        Func::ToLower => V::Str(Cow::Owned(arg(0).text().to_lowercase())),
        Func::ToUpper => V::Str(Cow::Owned(arg(0).text().to_uppercase())),
        Func::ToString => match arg(0) {
            V::Str(s) => V::Str(s),
            v => V::Str(Cow::Owned(v.text().into_owned())),
        },
        Func::StrLen => V::Int(arg(0).text().chars().count() as i64),
        Func::StrCat => {
            V::Str(Cow::Owned((0..args.len()).map(|i| arg(i).text().into_owned()).collect()))
        }
        Func::Bin => match (arg(0), arg(1)) {
            (V::Time(t), V::Span(s)) if s > 0 => V::Time(t - t.rem_euclid(s)),
            (V::Span(t), V::Span(s)) if s > 0 => V::Span(t - t.rem_euclid(s)),
            (V::Int(v), V::Int(s)) if s > 0 => V::Int(v - v.rem_euclid(s)),
            (V::Real(v), V::Real(s)) if s > 0.0 => V::Real((v / s).floor() * s),
            (V::Real(v), V::Int(s)) if s > 0 => V::Real((v / s as f64).floor() * s as f64),
            (V::Int(v), V::Real(s)) if s > 0.0 => V::Real((v as f64 / s).floor() * s),
            _ => V::Null,
        },
        Func::Iff => {
            if matches!(arg(0), V::Bool(true)) {
                arg(1)
            } else {
                arg(2)
            }
        }
        Func::ParseJson => match arg(0) {
            V::Str(s) => serde_json::from_str(&s).map_or_else(
                |_| V::Dyn(Cow::Owned(Value::String(s.into_owned()))),
                |v| V::Dyn(Cow::Owned(v)),
            ),
            v => V::Dyn(Cow::Owned(v.to_json())),
        },
        Func::ArrayLength => match args.first().map(|a| a.eval(row)) {
            Some(V::Dyn(d)) => d.as_array().map_or(V::Null, |a| V::Int(a.len() as i64)),
            _ => V::Null,
        },
        Func::ToLong => match arg(0) {
            V::Int(v) => V::Int(v),
            V::Real(v) if v.is_finite() => V::Int(v as i64),
            V::Bool(b) => V::Int(i64::from(b)),
            V::Time(t) | V::Span(t) => V::Int(t),
            V::Str(s) => s.trim().parse().map_or(V::Null, V::Int),
            _ => V::Null,
        },
        Func::ToDouble => match arg(0) {
            V::Int(v) => V::Real(v as f64),
            V::Real(v) => V::Real(v),
            V::Str(s) => {
                s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map_or(V::Null, V::Real)
            }
            _ => V::Null,
        },
        Func::ToDateTime => match arg(0) {
            V::Time(t) => V::Time(t),
            V::Str(s) => parse_datetime(&s).map_or(V::Null, V::Time),
            _ => V::Null,
        },
        Func::ToTimespan => match arg(0) {
            V::Span(t) => V::Span(t),
            V::Str(s) => parse_timespan(&s).map_or(V::Null, V::Span),
            _ => V::Null,
        },
        Func::ToBool => match arg(0) {
            V::Bool(b) => V::Bool(b),
            V::Int(v) => V::Bool(v != 0),
            V::Str(s) if s.eq_ignore_ascii_case("true") => V::Bool(true),
            V::Str(s) if s.eq_ignore_ascii_case("false") => V::Bool(false),
            _ => V::Null,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Binding

struct Binder<'a> {
    src: &'a str,
    ctx: &'a Context,
    op: &'static str,
}

impl Binder<'_> {
    fn unresolved(&self, name: &str) -> KqlError {
        op_error(self.op, format!("Failed to resolve scalar expression named '{name}'"))
    }

    /// Binds `e` against `schema`, folding constant subexpressions.
    fn bind(&self, e: &Expr, schema: &Schema) -> Result<(B, Ty), KqlError> {
        let (b, ty) = self.bind_inner(e, schema)?;
        if !matches!(b, B::Const(_)) && !b.has_col() {
            return Ok((B::Const(b.eval(&[]).owned()), ty));
        }
        Ok((b, ty))
    }

    fn bind_inner(&self, e: &Expr, schema: &Schema) -> Result<(B, Ty), KqlError> {
        let boxed = |e: &Expr| self.bind(e, schema).map(|(b, t)| (Box::new(b), t));
        Ok(match e {
            Expr::Col(name) => {
                let i = schema
                    .iter()
                    .position(|(n, _)| n == name)
                    .ok_or_else(|| self.unresolved(name))?;
                let ty = schema[i].1;
                (B::Col(i, ty == SPAN), ty)
            }
            Expr::Str(s) => (B::Const(V::Str(Cow::Owned(s.clone()))), STRING),
            Expr::Int(v) => (B::Const(V::Int(*v)), LONG),
            Expr::Real(v) => (B::Const(V::Real(*v)), REAL),
            Expr::Bool(v) => (B::Const(V::Bool(*v)), BOOL),
            Expr::Span(v) => (B::Const(V::Span(*v)), SPAN),
            Expr::Raw(name, text, pos) => self.literal(name, text, *pos)?,
            Expr::And(v) => (B::And(self.bind_all(v, schema)?), BOOL),
            Expr::Or(v) => (B::Or(self.bind_all(v, schema)?), BOOL),
            Expr::Neg(a) => {
                let (a, ty) = boxed(a)?;
                (B::Neg(a), ty)
            }
            Expr::Bin(op, a, b) => {
                let ((a, lt), (b, rt)) = (boxed(a)?, boxed(b)?);
                let ty = match op {
                    BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                        arith_type(*op, lt, rt).ok_or_else(|| {
                            op_error(
                                self.op,
                                format!("Cannot apply '{}' to {lt} and {rt}", sym(*op)),
                            )
                        })?
                    }
                    _ => BOOL,
                };
                (B::Bin(*op, a, b), ty)
            }
            Expr::List(a, items, op) => {
                let a = boxed(a)?.0;
                (B::List(a, self.bind_all(items, schema)?, *op), BOOL)
            }
            Expr::Between(x, lo, hi, neg) => {
                (B::Between(boxed(x)?.0, boxed(lo)?.0, boxed(hi)?.0, *neg), BOOL)
            }
            Expr::Member(base, key) => (B::Member(boxed(base)?.0, boxed(key)?.0), DYN),
            Expr::Call(name, args) => self.call(name, args, schema)?,
        })
    }

    fn bind_all(&self, exprs: &[Expr], schema: &Schema) -> Result<Vec<B>, KqlError> {
        exprs.iter().map(|e| self.bind(e, schema).map(|b| b.0)).collect()
    }

    fn call(&self, name: &str, args: &[Expr], schema: &Schema) -> Result<(B, Ty), KqlError> {
        let bound = args.iter().map(|a| self.bind(a, schema)).collect::<Result<Vec<_>, _>>()?;
        let arity = |min: usize, max: usize| {
            if (min..=max).contains(&bound.len()) {
                Ok(())
            } else {
                Err(op_error(
                    self.op,
                    format!(
                        "function '{name}' expects {min}..{max} argument(s), got {}",
                        bound.len()
                    ),
                ))
            }
        };
        let first_ty = bound.first().map_or(STRING, |b| b.1);
        let (f, ty) = match name {
            "ago" => (arity(1, 1).map(|_| Func::Ago(self.ctx.now))?, TIME),
            "now" => (arity(0, 1).map(|_| Func::Now(self.ctx.now))?, TIME),
            "isempty" | "isnotempty" => {
                (arity(1, 1).map(|_| Func::IsEmpty(name == "isnotempty"))?, BOOL)
            }
            "isnull" | "isnotnull" => {
                (arity(1, 1).map(|_| Func::IsNull(name == "isnotnull"))?, BOOL)
            }
            "not" => {
                arity(1, 1)?;
                let b = bound.into_iter().next().map(|b| b.0).unwrap_or(B::Const(V::Null));
                return Ok((B::Not(Box::new(b)), BOOL));
            }
            "tolower" => (arity(1, 1).map(|_| Func::ToLower)?, STRING),
            "toupper" => (arity(1, 1).map(|_| Func::ToUpper)?, STRING),
            "tostring" => (arity(1, 1).map(|_| Func::ToString)?, STRING),
            "strlen" => (arity(1, 1).map(|_| Func::StrLen)?, LONG),
            "strcat" => (arity(1, 64).map(|_| Func::StrCat)?, STRING),
            "bin" | "floor" => (arity(2, 2).map(|_| Func::Bin)?, first_ty),
            "iff" | "iif" => {
                (arity(3, 3).map(|_| Func::Iff)?, bound.get(1).map_or(STRING, |b| b.1))
            }
            "parse_json" | "todynamic" => (arity(1, 1).map(|_| Func::ParseJson)?, DYN),
            "array_length" => (arity(1, 1).map(|_| Func::ArrayLength)?, LONG),
            "tolong" => (arity(1, 1).map(|_| Func::ToLong)?, LONG),
            "toint" => (arity(1, 1).map(|_| Func::ToLong)?, INT),
            "todouble" | "toreal" => (arity(1, 1).map(|_| Func::ToDouble)?, REAL),
            "todatetime" => (arity(1, 1).map(|_| Func::ToDateTime)?, TIME),
            "totimespan" => (arity(1, 1).map(|_| Func::ToTimespan)?, SPAN),
            "tobool" | "toboolean" => (arity(1, 1).map(|_| Func::ToBool)?, BOOL),
            _ => return Err(op_error(self.op, format!("Unknown function: '{name}'"))),
        };
        Ok((B::Func(f, bound.into_iter().map(|b| b.0).collect()), ty))
    }

    /// A literal constructor: `datetime(…)`, `timespan(…)`, `dynamic(…)`, `guid(…)`, …
    fn literal(&self, name: &str, text: &str, pos: usize) -> Result<(B, Ty), KqlError> {
        let bad = || syntax_error(self.src, pos, &format!("{name}({text})"));
        let t = text.trim();
        let null = t == "null";
        let c = |v: V<'static>, ty: Ty| Ok((B::Const(v), ty));
        match name {
            "datetime" | "date" if null => c(V::Null, TIME),
            "datetime" | "date" => c(V::Time(parse_datetime(t).ok_or_else(bad)?), TIME),
            "timespan" | "time" if null => c(V::Null, SPAN),
            "timespan" | "time" => c(V::Span(parse_timespan(t).ok_or_else(bad)?), SPAN),
            "dynamic" => c(V::Dyn(Cow::Owned(parse_dynamic(t).ok_or_else(bad)?)), DYN),
            "guid" if null => c(V::Null, GUID),
            "guid" => {
                let g = t.trim_matches(|c| c == '"' || c == '\'');
                let shape = g.len() == 36
                    && g.char_indices().all(|(i, ch)| {
                        if [8, 13, 18, 23].contains(&i) {
                            ch == '-'
                        } else {
                            ch.is_ascii_hexdigit()
                        }
                    });
                if !shape {
                    return Err(bad());
                }
                c(V::Str(Cow::Owned(g.to_ascii_lowercase())), GUID)
            }
            "decimal" if null => c(V::Null, DECIMAL),
            "decimal" => {
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && !t.contains(['e', 'E', 'i', 'n', 'I', 'N']))
                    .ok_or_else(bad)?;
                c(V::Str(Cow::Owned(t.to_owned())), DECIMAL)
            }
            "int" if null => c(V::Null, INT),
            "int" => c(V::Int(i64::from(t.parse::<i32>().map_err(|_| bad())?)), INT),
            "long" if null => c(V::Null, LONG),
            "long" => c(V::Int(t.parse::<i64>().map_err(|_| bad())?), LONG),
            "real" | "double" if null => c(V::Null, REAL),
            "real" | "double" => {
                let f = t.parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(bad)?;
                c(V::Real(f), REAL)
            }
            "bool" | "boolean" if null => c(V::Null, BOOL),
            "bool" | "boolean" => match t {
                "true" | "1" => c(V::Bool(true), BOOL),
                "false" | "0" => c(V::Bool(false), BOOL),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

/// A `dynamic(…)` literal's JSON, also accepting KQL's single-quoted strings.
fn parse_dynamic(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str(text) {
        return Some(v);
    }
    let mut json = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '"' => {
                json.push('"');
                let mut escaped = false;
                for c in chars.by_ref() {
                    json.push(c);
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    }
                }
            }
            '\'' => {
                let mut s = String::new();
                let mut escaped = false;
                for c in chars.by_ref() {
                    if escaped {
                        s.push(match c {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            c => c,
                        });
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '\'' {
                        break;
                    } else {
                        s.push(c);
                    }
                }
                json.push_str(&Value::String(s).to_string());
            }
            c => json.push(c),
        }
    }
    serde_json::from_str(&json).ok()
}

fn sym(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        _ => "%",
    }
}

fn arith_type(op: BinOp, l: Ty, r: Ty) -> Option<Ty> {
    let num = |t: Ty| matches!(t, LONG | INT | REAL);
    Some(match (l, r) {
        (DYN, _) | (_, DYN) => DYN,
        (INT, INT) => INT,
        (LONG | INT, LONG | INT) => LONG,
        (a, b) if num(a) && num(b) => REAL,
        (TIME, SPAN) if matches!(op, BinOp::Add | BinOp::Sub) => TIME,
        (SPAN, TIME) if op == BinOp::Add => TIME,
        (TIME, TIME) if op == BinOp::Sub => SPAN,
        (SPAN, SPAN) if matches!(op, BinOp::Add | BinOp::Sub) => SPAN,
        (SPAN, SPAN) if op == BinOp::Div => REAL,
        (SPAN, LONG | INT) if matches!(op, BinOp::Mul | BinOp::Div) => SPAN,
        (LONG | INT, SPAN) if op == BinOp::Mul => SPAN,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Stages

/// An aggregate's running state.
#[derive(Debug, Clone)]
enum AggState {
    Count(i64),
    CountIf(i64),
    DCount(HashSet<Key>),
    Min(V<'static>),
    Max(V<'static>),
    Sum(V<'static>),
    Avg(f64, i64),
}

/// Replaces `best` by `v` when `v` is not null and `better(v vs best)`.
fn keep_best(best: &mut V<'static>, v: V<'_>, better: fn(Ordering) -> bool) {
    if !v.is_null() && (best.is_null() || compare(&v, best).is_some_and(better)) {
        *best = v.owned();
    }
}

/// A bound aggregate: function, argument, output type.
#[derive(Debug, Clone)]
struct BAgg {
    init: AggState,
    arg: Option<B>,
    ty: Ty,
}

/// A hashable image of a cell, for grouping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Null,
    Str(String),
    Int(i64),
    Real(u64),
    Bool(bool),
    Time(i64),
    Dyn(String),
}

fn key_of(c: &Cell) -> Key {
    match c {
        Cell::Null => Key::Null,
        Cell::Str(s) => Key::Str(s.clone()),
        Cell::Int(v) => Key::Int(*v),
        Cell::Real(v) => Key::Real(v.to_bits()),
        Cell::Bool(v) => Key::Bool(*v),
        Cell::Time(v) => Key::Time(*v),
        Cell::Dyn(v) => Key::Dyn(v.to_string()),
    }
}

impl AggState {
    fn add(&mut self, arg: Option<&B>, row: &[Cell]) {
        let v = || arg.map_or(V::Null, |a| a.eval(row).norm());
        match self {
            AggState::Count(n) => *n += 1,
            AggState::CountIf(n) => *n += i64::from(matches!(v(), V::Bool(true))),
            AggState::DCount(set) => {
                let v = v();
                if !v.is_null() {
                    set.insert(key_of(&to_cell(v, DYN)));
                }
            }
            AggState::Min(m) => keep_best(m, v(), Ordering::is_lt),
            AggState::Max(m) => keep_best(m, v(), Ordering::is_gt),
            AggState::Sum(s) => {
                let v = v();
                if !v.is_null() {
                    *s = if s.is_null() { v.owned() } else { arith(BinOp::Add, s, &v) };
                }
            }
            AggState::Avg(sum, n) => match v() {
                V::Int(x) => (*sum, *n) = (*sum + x as f64, *n + 1),
                V::Real(x) => (*sum, *n) = (*sum + x, *n + 1),
                _ => {}
            },
        }
    }

    fn finish(self, ty: Ty) -> Cell {
        match self {
            AggState::Count(n) | AggState::CountIf(n) => Cell::Int(n),
            AggState::DCount(set) => Cell::Int(set.len() as i64),
            AggState::Min(v) | AggState::Max(v) | AggState::Sum(v) => to_cell(v, ty),
            AggState::Avg(_, 0) => Cell::Null,
            AggState::Avg(sum, n) => Cell::Real(sum / n as f64),
        }
    }
}

/// A pipeline stage.
enum Stage {
    Filter(B),
    Project(Vec<(B, Ty)>),
    Extend(Vec<(Option<usize>, B, Ty)>),
    Take(usize),
    Count,
    Summarize { by: Vec<(B, Ty)>, aggs: Vec<BAgg> },
    Sort(Vec<(B, bool, bool)>, Option<usize>),
}

/// A fresh name not in `schema`: `base`, else `base1`, `base2`, …
fn unique(schema: &Schema, base: &str) -> String {
    if !schema.iter().any(|(n, _)| n == base) {
        return base.to_owned();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| !schema.iter().any(|(x, _)| x == n))
        .unwrap_or_default()
}

/// The implicit output name of an unnamed item: its column, or the column of `bin(Col, …)`,
/// else `Column1`, `Column2`, …
fn implicit_name(e: &Expr, out: &Schema) -> String {
    match e {
        Expr::Col(name) => name.clone(),
        Expr::Call(f, args)
            if (f == "bin" || f == "floor") && matches!(args.first(), Some(Expr::Col(_))) =>
        {
            let Some(Expr::Col(name)) = args.first() else { unreachable!() };
            name.clone()
        }
        _ => unique(out, "Column1"),
    }
}

/// Binds one operator, updating `schema`.
fn bind_op(
    b: &mut Binder<'_>,
    op: &Op,
    keyword: &'static str,
    schema: &mut Schema,
) -> Result<Stage, KqlError> {
    b.op = keyword;
    let stage = match op {
        Op::Where(e) => {
            let (e, ty) = b.bind(e, schema)?;
            if !matches!(ty, BOOL | DYN) {
                return Err(op_error(b.op, format!("Expected a Boolean predicate, got {ty}")));
            }
            Stage::Filter(e)
        }
        Op::Project(items) | Op::Distinct(items) => {
            let mut out: Schema = Vec::new();
            let mut exprs = Vec::new();
            for (alias, e) in items {
                let (be, ty) = b.bind(e, schema)?;
                let name = alias.clone().unwrap_or_else(|| implicit_name(e, &out));
                out.push((unique(&out, &name), ty));
                exprs.push((be, ty));
            }
            *schema = out;
            if matches!(op, Op::Distinct(_)) {
                return Ok(Stage::Summarize { by: exprs, aggs: Vec::new() });
            }
            Stage::Project(exprs)
        }
        Op::ProjectAway(names) => {
            for (name, _) in names {
                if !schema.iter().any(|(n, _)| n == name) {
                    return Err(b.unresolved(name));
                }
            }
            let keep: Vec<usize> = (0..schema.len())
                .filter(|i| !names.iter().any(|(n, _)| *n == schema[*i].0))
                .collect();
            let exprs = keep.iter().map(|&i| (B::Col(i, false), schema[i].1)).collect();
            *schema = keep.iter().map(|&i| schema[i].clone()).collect();
            Stage::Project(exprs)
        }
        Op::ProjectRename(pairs) => {
            for (new, old, _) in pairs {
                let i =
                    schema.iter().position(|(n, _)| n == old).ok_or_else(|| b.unresolved(old))?;
                schema[i].0 = new.clone();
            }
            Stage::Project((0..schema.len()).map(|i| (B::Col(i, false), schema[i].1)).collect())
        }
        Op::Extend(items) => {
            let mut out = Vec::new();
            for (alias, e) in items {
                let (be, ty) = b.bind(e, schema)?;
                let name = alias.clone().unwrap_or_else(|| match e {
                    Expr::Col(n) => n.clone(),
                    _ => unique(schema, "Column1"),
                });
                match schema.iter().position(|(n, _)| *n == name) {
                    Some(i) => {
                        schema[i].1 = ty;
                        out.push((Some(i), be, ty));
                    }
                    None => {
                        schema.push((name, ty));
                        out.push((None, be, ty));
                    }
                }
            }
            Stage::Extend(out)
        }
        Op::Take(n) => Stage::Take(b.count_arg(n, schema)?),
        Op::Count => {
            *schema = vec![("Count".to_owned(), LONG)];
            Stage::Count
        }
        Op::Summarize { aggs, by } => {
            let mut out: Schema = Vec::new();
            let mut bys = Vec::new();
            for (alias, e) in by {
                let (be, ty) = b.bind(e, schema)?;
                let name = alias.clone().unwrap_or_else(|| implicit_name(e, &out));
                out.push((unique(&out, &name), ty));
                bys.push((be, ty));
            }
            let mut baggs = Vec::new();
            for agg in aggs {
                let (bagg, name) = b.agg(agg, schema)?;
                out.push((unique(&out, &name), bagg.ty));
                baggs.push(bagg);
            }
            *schema = out;
            Stage::Summarize { by: bys, aggs: baggs }
        }
        Op::Sort(keys) => Stage::Sort(b.sort_keys(keys, schema)?, None),
        Op::Top { n, key } => {
            let n = b.count_arg(n, schema)?;
            Stage::Sort(b.sort_keys(std::slice::from_ref(key), schema)?, Some(n))
        }
    };
    Ok(stage)
}

impl Binder<'_> {
    /// A constant, non-negative row count (`take N`, `top N`).
    fn count_arg(&self, e: &Expr, schema: &Schema) -> Result<usize, KqlError> {
        match self.bind(e, schema)?.0 {
            B::Const(V::Int(n)) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Err(op_error(self.op, "Expected a non-negative constant integer row count")),
        }
    }

    fn sort_keys(
        &self,
        keys: &[SortKey],
        schema: &Schema,
    ) -> Result<Vec<(B, bool, bool)>, KqlError> {
        keys.iter().map(|k| Ok((self.bind(&k.expr, schema)?.0, k.desc, k.nulls_first))).collect()
    }

    fn agg(&self, agg: &Agg, schema: &Schema) -> Result<(BAgg, String), KqlError> {
        let f = agg.func.as_str();
        let want = if f == "count" { 0 } else { 1 };
        if agg.args.len() != want {
            let known = ["count", "countif", "dcount", "min", "max", "sum", "avg"].contains(&f);
            return Err(if known {
                op_error(
                    self.op,
                    format!("function '{f}' expects {want} argument(s), got {}", agg.args.len()),
                )
            } else {
                op_error(self.op, format!("Unknown aggregation function: '{f}'"))
            });
        }
        let arg = agg.args.first().map(|a| self.bind(a, schema)).transpose()?;
        let arg_ty = arg.as_ref().map_or(LONG, |a| a.1);
        let col = match agg.args.first() {
            Some(Expr::Col(n)) => n.as_str(),
            _ => "",
        };
        let (init, ty, default) = match f {
            "count" => (AggState::Count(0), LONG, "count_".to_owned()),
            "countif" => (AggState::CountIf(0), LONG, "countif_".to_owned()),
            "dcount" => (AggState::DCount(HashSet::new()), LONG, format!("dcount_{col}")),
            "min" => (AggState::Min(V::Null), arg_ty, format!("min_{col}")),
            "max" => (AggState::Max(V::Null), arg_ty, format!("max_{col}")),
            "sum" => {
                let ty = match arg_ty {
                    INT | LONG => LONG,
                    REAL => REAL,
                    SPAN => SPAN,
                    _ => {
                        return Err(op_error(
                            self.op,
                            format!("sum() of {arg_ty} is not supported"),
                        ));
                    }
                };
                (AggState::Sum(V::Null), ty, format!("sum_{col}"))
            }
            "avg" => (AggState::Avg(0.0, 0), REAL, format!("avg_{col}")),
            _ => {
                return Err(op_error(self.op, format!("Unknown aggregation function: '{f}'")));
            }
        };
        let name = agg.name.clone().unwrap_or(default);
        Ok((BAgg { init, arg: arg.map(|a| a.0), ty }, name))
    }
}

/// Applies `stage` to `rows`.
fn apply(stage: Stage, rows: Rows) -> Rows {
    match stage {
        Stage::Filter(b) => Box::new(rows.filter(move |r| b.truthy(r))),
        Stage::Project(exprs) => Box::new(rows.map(move |r| {
            exprs
                .iter()
                .map(|(e, ty)| match e {
                    B::Col(i, _) => r.get(*i).cloned().unwrap_or(Cell::Null),
                    e => to_cell(e.eval(&r), ty),
                })
                .collect()
        })),
        Stage::Extend(items) => Box::new(rows.map(move |mut r| {
            for (slot, e, ty) in &items {
                let cell = to_cell(e.eval(&r), ty);
                match slot {
                    Some(i) => r[*i] = cell,
                    None => r.push(cell),
                }
            }
            r
        })),
        Stage::Take(n) => Box::new(rows.take(n)),
        Stage::Count => {
            Box::new(std::iter::once_with(move || vec![Cell::Int(rows.count() as i64)]))
        }
        Stage::Summarize { by, aggs } => {
            Box::new(std::iter::once_with(move || summarize(rows, &by, &aggs)).flatten())
        }
        Stage::Sort(keys, limit) => {
            Box::new(std::iter::once_with(move || sort(rows, &keys, limit)).flatten())
        }
    }
}

fn summarize(rows: Rows, by: &[(B, Ty)], aggs: &[BAgg]) -> Vec<Vec<Cell>> {
    let mut index: HashMap<Vec<Key>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<Cell>, Vec<AggState>)> = Vec::new();
    for row in rows {
        let cells: Vec<Cell> = by.iter().map(|(e, ty)| to_cell(e.eval(&row), ty)).collect();
        let key: Vec<Key> = cells.iter().map(key_of).collect();
        let g = *index.entry(key).or_insert_with(|| {
            groups.push((cells, aggs.iter().map(|a| a.init.clone()).collect()));
            groups.len() - 1
        });
        for (state, agg) in groups[g].1.iter_mut().zip(aggs) {
            state.add(agg.arg.as_ref(), &row);
        }
    }
    if by.is_empty() && groups.is_empty() {
        groups.push((Vec::new(), aggs.iter().map(|a| a.init.clone()).collect()));
    }
    groups
        .into_iter()
        .map(|(mut cells, states)| {
            cells.extend(states.into_iter().zip(aggs).map(|(s, a)| s.finish(a.ty)));
            cells
        })
        .collect()
}

/// Sorts (stably) by `keys`; with `limit`, keeps only the first `limit` rows, in bounded memory.
fn sort(rows: Rows, keys: &[(B, bool, bool)], limit: Option<usize>) -> Vec<Vec<Cell>> {
    let order = |a: &(Vec<V<'static>>, Vec<Cell>), b: &(Vec<V<'static>>, Vec<Cell>)| {
        for ((x, y), (_, desc, nulls_first)) in a.0.iter().zip(&b.0).zip(keys) {
            let o = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if *nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if *nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                _ => {
                    let o = compare(x, y).unwrap_or_else(|| x.text().cmp(&y.text()));
                    if *desc { o.reverse() } else { o }
                }
            };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    };
    let mut buf: Vec<(Vec<V<'static>>, Vec<Cell>)> = Vec::new();
    let cap = limit.map(|n| n.max(1024).saturating_mul(2));
    for row in rows {
        if limit == Some(0) {
            break;
        }
        let k = keys.iter().map(|(e, _, _)| e.eval(&row).norm().owned()).collect();
        buf.push((k, row));
        if cap.is_some_and(|c| buf.len() >= c) {
            buf.sort_by(order);
            buf.truncate(limit.unwrap_or(usize::MAX));
        }
    }
    buf.sort_by(order);
    buf.truncate(limit.unwrap_or(usize::MAX));
    buf.into_iter().map(|(_, r)| r).collect()
}

/// Narrows `(start, end)` with the `Timestamp` (column 0) bounds of conjunct `b`.
fn narrow(b: &B, w: &mut (i64, i64)) {
    let time = |b: &B| match b {
        B::Const(V::Time(t)) => Some(*t),
        _ => None,
    };
    let is_ts = |b: &B| matches!(b, B::Col(0, false));
    match b {
        B::And(v) => v.iter().for_each(|b| narrow(b, w)),
        B::Bin(op, x, y) => {
            let (op, t) = match (is_ts(x), is_ts(y)) {
                (true, false) => (*op, time(y)),
                (false, true) => {
                    let flipped = match op {
                        BinOp::Lt => BinOp::Gt,
                        BinOp::Le => BinOp::Ge,
                        BinOp::Gt => BinOp::Lt,
                        BinOp::Ge => BinOp::Le,
                        o => *o,
                    };
                    (flipped, time(x))
                }
                _ => return,
            };
            let Some(t) = t else { return };
            match op {
                BinOp::Gt => w.0 = w.0.max(t.saturating_add(1)),
                BinOp::Ge => w.0 = w.0.max(t),
                BinOp::Lt => w.1 = w.1.min(t),
                BinOp::Le => w.1 = w.1.min(t.saturating_add(1)),
                BinOp::Eq => *w = (w.0.max(t), w.1.min(t.saturating_add(1))),
                _ => {}
            }
        }
        B::Between(x, lo, hi, false) if is_ts(x) => {
            let Some(lo) = time(lo) else { return };
            let hi = match hi.as_ref() {
                B::Const(V::Time(t)) => *t,
                B::Const(V::Span(s)) => lo.saturating_add(*s),
                _ => return,
            };
            *w = (w.0.max(lo), w.1.min(hi.saturating_add(1)));
        }
        _ => {}
    }
}

/// Binds and runs `q` over the synthetic data.
pub(crate) fn run(src: &str, q: &Query, ctx: &Context) -> Result<ResultSet, KqlError> {
    let (table, _) = &q.table;
    let def = data::table(table).ok_or_else(|| KqlError {
        message: format!(
            "'' operator: Failed to resolve table or column expression named '{table}'"
        ),
    })?;
    let mut schema: Schema =
        def.columns.iter().map(|(n, t)| ((*n).to_owned(), intern(t))).collect();
    let mut binder = Binder { src, ctx, op: "" };
    let mut stages = Vec::with_capacity(q.ops.len());
    for (op, keyword) in &q.ops {
        stages.push(bind_op(&mut binder, op, keyword, &mut schema)?);
    }
    let mut window = ctx.window;
    for stage in &stages {
        match stage {
            Stage::Filter(b) => narrow(b, &mut window),
            _ => break,
        }
    }
    let mut rows: Rows = if window.0 < window.1 {
        data::rows(table, window.0, window.1, ctx.events_per_hour)
            .unwrap_or_else(|| Box::new(std::iter::empty()))
    } else {
        Box::new(std::iter::empty())
    };
    for stage in stages {
        rows = apply(stage, rows);
    }
    Ok(ResultSet { columns: schema.into_iter().map(|(n, t)| (n, t.to_owned())).collect(), rows })
}
