//! Values during evaluation and the semantics of KQL's operators on them: comparison, the
//! string predicates (`has`, `contains`, …), arithmetic on numbers, datetimes and timespans,
//! and the conversions between cells and values.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::{format_datetime, format_timespan, parse_timespan};
use crate::emulator::data::Cell;

/// Binary operators: comparisons, string predicates and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    EqCi,
    NeCi,
    Lt,
    Le,
    Gt,
    Ge,
    /// A string predicate: which, case-sensitive, negated.
    Str(StrOp, bool, bool),
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// String predicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
}

/// A service type name (`String`, `Int64`, …).
pub(crate) type Ty = &'static str;

pub(crate) const STRING: Ty = "String";
pub(crate) const LONG: Ty = "Int64";
pub(crate) const INT: Ty = "Int32";
pub(crate) const REAL: Ty = "Double";
pub(crate) const BOOL: Ty = "Boolean";
pub(crate) const TIME: Ty = "DateTime";
pub(crate) const SPAN: Ty = "TimeSpan";
pub(crate) const GUID: Ty = "Guid";
pub(crate) const DECIMAL: Ty = "Decimal";
pub(crate) const DYN: Ty = "Dynamic";

/// The static name of a type string (unknown names read as `String`).
pub(crate) fn intern(ty: &str) -> Ty {
    [STRING, LONG, INT, REAL, BOOL, TIME, SPAN, GUID, DECIMAL, DYN]
        .into_iter()
        .find(|t| *t == ty)
        .unwrap_or(STRING)
}

/// A value during evaluation, borrowing from the row where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Real(f64),
    Bool(bool),
    Time(i64),
    Span(i64),
    Dyn(Cow<'a, Value>),
}

impl V<'_> {
    pub(crate) fn owned(self) -> V<'static> {
        match self {
            V::Null => V::Null,
            V::Str(s) => V::Str(Cow::Owned(s.into_owned())),
            V::Int(v) => V::Int(v),
            V::Real(v) => V::Real(v),
            V::Bool(v) => V::Bool(v),
            V::Time(v) => V::Time(v),
            V::Span(v) => V::Span(v),
            V::Dyn(v) => V::Dyn(Cow::Owned(v.into_owned())),
        }
    }

    /// A borrowed copy (cheap: no string or JSON is cloned).
    pub(crate) fn view(&self) -> V<'_> {
        match self {
            V::Str(s) => V::Str(Cow::Borrowed(s)),
            V::Dyn(v) => V::Dyn(Cow::Borrowed(v)),
            V::Null => V::Null,
            V::Int(v) => V::Int(*v),
            V::Real(v) => V::Real(*v),
            V::Bool(v) => V::Bool(*v),
            V::Time(v) => V::Time(*v),
            V::Span(v) => V::Span(*v),
        }
    }

    /// Dynamic scalars as plain values (strings, numbers, booleans, null).
    pub(crate) fn norm(self) -> Self {
        match self {
            V::Dyn(Cow::Borrowed(v)) => match v {
                Value::String(s) => V::Str(Cow::Borrowed(s)),
                _ => json_scalar(v).unwrap_or(V::Dyn(Cow::Borrowed(v))),
            },
            V::Dyn(Cow::Owned(v)) => match v {
                Value::String(s) => V::Str(Cow::Owned(s)),
                v => json_scalar(&v).unwrap_or(V::Dyn(Cow::Owned(v))),
            },
            v => v,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, V::Null) || matches!(self, V::Dyn(v) if v.is_null())
    }

    /// The value as text, the way `tostring()` writes it.
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            V::Null => Cow::Borrowed(""),
            V::Str(s) => Cow::Borrowed(s),
            V::Int(v) => Cow::Owned(v.to_string()),
            V::Real(v) => Cow::Owned(v.to_string()),
            V::Bool(v) => Cow::Borrowed(if *v { "true" } else { "false" }),
            V::Time(v) => Cow::Owned(format_datetime(*v)),
            V::Span(v) => Cow::Owned(format_timespan(*v)),
            V::Dyn(v) => match v.as_ref() {
                Value::String(s) => Cow::Borrowed(s),
                Value::Null => Cow::Borrowed(""),
                other => Cow::Owned(other.to_string()),
            },
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        match self {
            V::Null => Value::Null,
            V::Str(s) => Value::String(s.to_string()),
            V::Int(v) => Value::from(*v),
            V::Real(v) => serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
            V::Bool(v) => Value::Bool(*v),
            V::Time(_) | V::Span(_) => Value::String(self.text().into_owned()),
            V::Dyn(v) => v.as_ref().clone(),
        }
    }
}

pub(crate) fn json_scalar(v: &Value) -> Option<V<'static>> {
    Some(match v {
        Value::Null => V::Null,
        Value::Bool(b) => V::Bool(*b),
        Value::Number(n) => {
            n.as_i64().map_or_else(|| V::Real(n.as_f64().unwrap_or(f64::NAN)), V::Int)
        }
        _ => return None,
    })
}

/// The value of `cell` in a column of type `ty`.
pub(crate) fn cell_value<'a>(cell: &'a Cell, ty: Ty) -> V<'a> {
    match cell {
        Cell::Null => V::Null,
        Cell::Str(s) if ty == SPAN => parse_timespan(s).map_or(V::Null, V::Span),
        Cell::Str(s) => V::Str(Cow::Borrowed(s)),
        Cell::Time(v) => V::Time(*v),
        Cell::Int(v) => V::Int(*v),
        Cell::Real(v) => V::Real(*v),
        Cell::Bool(v) => V::Bool(*v),
        Cell::Dyn(v) => V::Dyn(Cow::Borrowed(v)),
    }
}

/// `v` as a cell of type `ty` (null when it does not fit), so cells always match their column.
pub(crate) fn to_cell(v: V<'_>, ty: Ty) -> Cell {
    if v.is_null() && ty != DYN {
        return Cell::Null;
    }
    match (ty, v.norm()) {
        (DYN, v) => Cell::Dyn(v.to_json()),
        (STRING | GUID | DECIMAL, v) => Cell::Str(v.text().into_owned()),
        (LONG | INT, V::Int(n)) => Cell::Int(n),
        (LONG | INT, V::Real(f)) if f.is_finite() => Cell::Int(f as i64),
        (REAL, V::Real(f)) if f.is_finite() => Cell::Real(f),
        (REAL, V::Int(n)) => Cell::Real(n as f64),
        (BOOL, V::Bool(b)) => Cell::Bool(b),
        (TIME, V::Time(t)) => Cell::Time(t),
        (SPAN, V::Span(t)) => Cell::Str(format_timespan(t)),
        _ => Cell::Null,
    }
}

/// `base.key` / `base[key]` on a dynamic value.
pub(crate) fn member<'a>(base: V<'a>, key: V<'_>) -> V<'a> {
    fn get<'v>(v: &'v Value, key: &V<'_>) -> Option<&'v Value> {
        match (v, key) {
            (Value::Object(m), V::Str(k)) => m.get(k.as_ref()),
            (Value::Array(a), V::Int(i)) => {
                let i = if *i < 0 { a.len() as i64 + i } else { *i };
                usize::try_from(i).ok().and_then(|i| a.get(i))
            }
            _ => None,
        }
    }
    match base {
        V::Dyn(Cow::Borrowed(v)) => get(v, &key).map_or(V::Null, |v| V::Dyn(Cow::Borrowed(v))),
        V::Dyn(Cow::Owned(v)) => get(&v, &key).map_or(V::Null, |v| V::Dyn(Cow::Owned(v.clone()))),
        V::Str(s) => match serde_json::from_str::<Value>(&s) {
            Ok(v) => get(&v, &key).map_or(V::Null, |v| V::Dyn(Cow::Owned(v.clone()))),
            Err(_) => V::Null,
        },
        _ => V::Null,
    }
}

/// Orders two values of compatible types (`None` when either is null or they do not compare).
pub(crate) fn compare(a: &V<'_>, b: &V<'_>) -> Option<Ordering> {
    match (a, b) {
        (V::Int(x), V::Int(y)) => Some(x.cmp(y)),
        (V::Int(x), V::Real(y)) => (*x as f64).partial_cmp(y),
        (V::Real(x), V::Int(y)) => x.partial_cmp(&(*y as f64)),
        (V::Real(x), V::Real(y)) => x.partial_cmp(y),
        (V::Time(x), V::Time(y)) | (V::Span(x), V::Span(y)) => Some(x.cmp(y)),
        (V::Str(x), V::Str(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        // Kusto compares a bool with a number as 0 or 1 (`IsLocalAdmin == 0`).
        (V::Bool(x), V::Int(y)) => Some(i64::from(*x).cmp(y)),
        (V::Int(x), V::Bool(y)) => Some(x.cmp(&i64::from(*y))),
        (V::Dyn(x), V::Dyn(y)) => (x == y).then_some(Ordering::Equal),
        _ => None,
    }
}

pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

pub(crate) fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b) || lower(a) == lower(b)
}

/// Kusto-style term matching: `needle` occurs in `hay` with non-alphanumeric characters (or
/// the ends) on the sides `kind` asks for.
pub(crate) fn has_term(hay: &str, needle: &str, kind: StrOp, cs: bool) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (hay, needle) =
        if cs { (Cow::Borrowed(hay), Cow::Borrowed(needle)) } else { (lower(hay), lower(needle)) };
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let check_left = kind != StrOp::HasSuffix && alnum(needle.chars().next());
    let check_right = kind != StrOp::HasPrefix && alnum(needle.chars().last());
    hay.match_indices(needle.as_ref()).any(|(i, m)| {
        let left_ok = !check_left || !alnum(hay[..i].chars().next_back());
        left_ok && (!check_right || !alnum(hay[i + m.len()..].chars().next()))
    })
}

pub(crate) fn string_op(op: StrOp, cs: bool, hay: &str, needle: &str) -> bool {
    match op {
        StrOp::Has | StrOp::HasPrefix | StrOp::HasSuffix => has_term(hay, needle, op, cs),
        StrOp::Contains if cs => hay.contains(needle),
        StrOp::Contains => lower(hay).contains(lower(needle).as_ref()),
        StrOp::StartsWith if cs => hay.starts_with(needle),
        StrOp::StartsWith => lower(hay).starts_with(lower(needle).as_ref()),
        StrOp::EndsWith if cs => hay.ends_with(needle),
        StrOp::EndsWith => lower(hay).ends_with(lower(needle).as_ref()),
    }
}

pub(crate) fn binary<'a>(op: BinOp, a: V<'a>, b: V<'_>) -> V<'a> {
    if a.is_null() || b.is_null() {
        return if matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod) {
            V::Null
        } else {
            V::Bool(false)
        };
    }
    let cmp = || compare(&a, &b);
    let r = match op {
        BinOp::Eq => cmp() == Some(Ordering::Equal),
        BinOp::Ne => cmp().is_some_and(Ordering::is_ne),
        BinOp::EqCi => eq_ci(&a.text(), &b.text()),
        BinOp::NeCi => !eq_ci(&a.text(), &b.text()),
        BinOp::Lt => cmp().is_some_and(Ordering::is_lt),
        BinOp::Le => cmp().is_some_and(Ordering::is_le),
        BinOp::Gt => cmp().is_some_and(Ordering::is_gt),
        BinOp::Ge => cmp().is_some_and(Ordering::is_ge),
        BinOp::Str(sop, cs, neg) => string_op(sop, cs, &a.text(), &b.text()) != neg,
        _ => return arith(op, &a, &b),
    };
    V::Bool(r)
}

pub(crate) fn arith(op: BinOp, a: &V<'_>, b: &V<'_>) -> V<'static> {
    let int = |x: i64, y: i64| match op {
        BinOp::Add => x.checked_add(y),
        BinOp::Sub => x.checked_sub(y),
        BinOp::Mul => x.checked_mul(y),
        BinOp::Div => x.checked_div(y),
        _ => x.checked_rem(y),
    };
    let real = |x: f64, y: f64| {
        let r = match op {
            BinOp::Add => x + y,
            BinOp::Sub => x - y,
            BinOp::Mul => x * y,
            BinOp::Div => x / y,
            _ => x % y,
        };
        if r.is_finite() { V::Real(r) } else { V::Null }
    };
    let opt = |r: Option<i64>, f: fn(i64) -> V<'static>| r.map_or(V::Null, f);
    match (a, b, op) {
        (V::Int(x), V::Int(y), _) => opt(int(*x, *y), V::Int),
        (V::Int(x), V::Real(y), _) => real(*x as f64, *y),
        (V::Real(x), V::Int(y), _) => real(*x, *y as f64),
        (V::Real(x), V::Real(y), _) => real(*x, *y),
        (V::Time(t), V::Span(s), BinOp::Add | BinOp::Sub) => opt(int(*t, *s), V::Time),
        (V::Span(s), V::Time(t), BinOp::Add) => opt(t.checked_add(*s), V::Time),
        (V::Time(x), V::Time(y), BinOp::Sub) => opt(x.checked_sub(*y), V::Span),
        (V::Span(x), V::Span(y), BinOp::Add | BinOp::Sub) => opt(int(*x, *y), V::Span),
        (V::Span(x), V::Span(y), BinOp::Div) if *y != 0 => V::Real(*x as f64 / *y as f64),
        (V::Span(x), V::Int(y), BinOp::Mul | BinOp::Div) => opt(int(*x, *y), V::Span),
        (V::Int(y), V::Span(x), BinOp::Mul) => opt(x.checked_mul(*y), V::Span),
        _ => V::Null,
    }
}
