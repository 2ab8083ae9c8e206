//! The built-in scalar functions: which names exist, their arity and result type, and what
//! they compute on a row.

use std::borrow::Cow;

use serde_json::Value;

use super::scalar::B;
use crate::emulator::data::Cell;
use crate::emulator::kql::value::{BOOL, DYN, INT, LONG, REAL, SPAN, STRING, TIME, Ty, V};
use crate::emulator::kql::{parse_datetime_at, parse_timespan};

/// Built-in scalar functions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Func {
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
    /// `todatetime(text)`; "now" (ticks) dates a time alone.
    ToDateTime(i64),
    ToTimespan,
    ToBool,
}

impl Func {
    /// True when the result depends on the arguments only (so constant arguments fold).
    pub(crate) fn is_pure(&self) -> bool {
        true
    }
}

/// Binds a call of `name` on `args`; `Err` carries the message (`Unknown function: 'x'`).
pub(crate) fn bind(name: &str, args: Vec<(B, Ty)>, now: i64) -> Result<(B, Ty), String> {
    let n = args.len();
    let arity = |min: usize, max: usize| {
        if (min..=max).contains(&n) {
            Ok(())
        } else {
            Err(format!("function '{name}' expects {min}..{max} argument(s), got {n}"))
        }
    };
    let ty_of = |i: usize| args.get(i).map_or(STRING, |a| a.1);
    let (f, ty) = match name {
        "ago" => (arity(1, 1).map(|_| Func::Ago(now))?, TIME),
        "now" => (arity(0, 1).map(|_| Func::Now(now))?, TIME),
        // `notempty` is the legacy spelling of `isnotempty`.
        "isempty" | "isnotempty" | "notempty" => {
            (arity(1, 1).map(|_| Func::IsEmpty(name != "isempty"))?, BOOL)
        }
        "isnull" | "isnotnull" => (arity(1, 1).map(|_| Func::IsNull(name == "isnotnull"))?, BOOL),
        "not" => {
            arity(1, 1)?;
            let b = args.into_iter().next().map_or(B::Const(V::Null), |b| b.0);
            return Ok((B::Not(Box::new(b)), BOOL));
        }
        "tolower" => (arity(1, 1).map(|_| Func::ToLower)?, STRING),
        "toupper" => (arity(1, 1).map(|_| Func::ToUpper)?, STRING),
        "tostring" => (arity(1, 1).map(|_| Func::ToString)?, STRING),
        "strlen" => (arity(1, 1).map(|_| Func::StrLen)?, LONG),
        "strcat" => (arity(1, 64).map(|_| Func::StrCat)?, STRING),
        "bin" | "floor" => (arity(2, 2).map(|_| Func::Bin)?, ty_of(0)),
        "iff" | "iif" => (arity(3, 3).map(|_| Func::Iff)?, ty_of(1)),
        "parse_json" | "parsejson" | "todynamic" => (arity(1, 1).map(|_| Func::ParseJson)?, DYN),
        "array_length" => (arity(1, 1).map(|_| Func::ArrayLength)?, LONG),
        "tolong" => (arity(1, 1).map(|_| Func::ToLong)?, LONG),
        "toint" => (arity(1, 1).map(|_| Func::ToLong)?, INT),
        "todouble" | "toreal" => (arity(1, 1).map(|_| Func::ToDouble)?, REAL),
        "todatetime" => (arity(1, 1).map(|_| Func::ToDateTime(now))?, TIME),
        "totimespan" => (arity(1, 1).map(|_| Func::ToTimespan)?, SPAN),
        "tobool" | "toboolean" => (arity(1, 1).map(|_| Func::ToBool)?, BOOL),
        _ => return Err(format!("Unknown function: '{name}'")),
    };
    Ok((B::Func(f, args.into_iter().map(|b| b.0).collect()), ty))
}

/// Evaluates `f` on `args` for `row`.
pub(crate) fn call<'a>(f: &'a Func, args: &'a [B], row: &'a [Cell]) -> V<'a> {
    let arg = |i: usize| args.get(i).map_or(V::Null, |a| a.eval(row).norm());
    match *f {
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
        Func::ToDateTime(now) => match arg(0) {
            V::Time(t) => V::Time(t),
            V::Str(s) => parse_datetime_at(&s, Some(now)).map_or(V::Null, V::Time),
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
