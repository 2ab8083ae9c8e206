//! Scalar functions found missing when public hunting queries were run on the emulator:
//! `string_size`, `ipv4_is_match`, `format_bytes`, `datetime_part`, `has_any_index`,
//! `unicode_codepoints_from_string`, `set_intersect`, `set_difference`, `url_encode`,
//! `url_decode`, `gettype` and the math functions (`sin`, `cot`, `sqrt`, `log`, `pow`…), each as
//! Kusto documents it.

use std::borrow::Cow;

use serde_json::Value;

use super::DAY;
use super::calendar::civil;
use super::text::{in_prefix, ipv4};
use crate::emulator::kql::value::{
    BOOL, DECIMAL, DYN, GUID, INT, LONG, REAL, SPAN, STRING, TIME, Ty, V,
};

/// One of this module's functions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum More {
    StringSize,
    Ipv4IsMatch,
    FormatBytes,
    DatetimePart,
    HasAnyIndex,
    Codepoints,
    SetIntersect,
    SetDifference,
    UrlEncode,
    UrlDecode,
    /// `gettype(x)` of a value whose static type is this one.
    GetType(Ty),
    Math(fn(f64) -> f64),
    Pow,
    Atan2,
}

/// `(function, min args, max args, result type)` for `name`, if this module has it.
pub(crate) fn bind(name: &str, first: Option<Ty>) -> Option<(More, usize, usize, Ty)> {
    let math = |f: fn(f64) -> f64| (More::Math(f), 1, 1, REAL);
    Some(match name {
        "string_size" => (More::StringSize, 1, 1, LONG),
        "ipv4_is_match" => (More::Ipv4IsMatch, 2, 3, BOOL),
        "format_bytes" => (More::FormatBytes, 1, 3, STRING),
        "datetime_part" => (More::DatetimePart, 2, 2, INT),
        "has_any_index" => (More::HasAnyIndex, 2, 2, LONG),
        "unicode_codepoints_from_string" => (More::Codepoints, 1, 1, DYN),
        "set_intersect" => (More::SetIntersect, 2, 64, DYN),
        "set_difference" => (More::SetDifference, 2, 64, DYN),
        "url_encode" | "url_encode_component" => (More::UrlEncode, 1, 1, STRING),
        "url_decode" => (More::UrlDecode, 1, 1, STRING),
        "gettype" => (More::GetType(first.unwrap_or(DYN)), 1, 1, STRING),
        "sin" => math(f64::sin),
        "cos" => math(f64::cos),
        "tan" => math(f64::tan),
        "cot" => math(|x| 1.0 / x.tan()),
        "asin" => math(f64::asin),
        "acos" => math(f64::acos),
        "atan" => math(f64::atan),
        "sqrt" => math(f64::sqrt),
        "exp" => math(f64::exp),
        "exp2" => math(f64::exp2),
        "exp10" => math(|x| 10f64.powf(x)),
        "log" => math(f64::ln),
        "log2" => math(f64::log2),
        "log10" => math(f64::log10),
        "degrees" => math(f64::to_degrees),
        "radians" => math(f64::to_radians),
        "pow" => (More::Pow, 2, 2, REAL),
        "atan2" => (More::Atan2, 2, 2, REAL),
        _ => return None,
    })
}

fn real(v: &V<'_>) -> Option<f64> {
    match v {
        V::Int(i) => Some(*i as f64),
        V::Real(r) => Some(*r),
        _ => None,
    }
}

/// A finite result, else null (Kusto's NaN and infinities print as such; hunting queries
/// never rely on them, and a null is never mistaken for a number).
fn finite(x: f64) -> V<'static> {
    if x.is_finite() { V::Real(x) } else { V::Null }
}

fn array(v: &V<'_>) -> Option<Vec<Value>> {
    match v {
        V::Dyn(d) => match d.as_ref() {
            Value::Array(a) => Some(a.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Evaluates `f` on the (already evaluated) arguments.
pub(crate) fn call(f: More, args: &[V<'_>]) -> V<'static> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(V::Null);
    let text = |i: usize| arg(i).text().into_owned();
    let s = |t: String| V::Str(Cow::Owned(t));
    match f {
        More::StringSize => match arg(0) {
            V::Null => V::Null,
            v => V::Int(v.text().len() as i64),
        },
        More::Ipv4IsMatch => ipv4_is_match(&text(0), &text(1), args.get(2).and_then(real)),
        More::FormatBytes => match real(&arg(0)) {
            Some(n) => {
                let precision =
                    args.get(1).and_then(real).map_or(0, |p| p.clamp(0.0, 15.0) as usize);
                format_bytes(n, precision, args.get(2).map(|u| u.text().into_owned()))
                    .map_or(V::Null, s)
            }
            None => V::Null,
        },
        More::DatetimePart => match arg(1) {
            V::Time(t) => datetime_part(&text(0), t).map_or(V::Null, V::Int),
            _ => V::Null,
        },
        More::HasAnyIndex => {
            let source = text(0).to_lowercase();
            let Some(terms) = array(&arg(1)) else { return V::Null };
            let words: Vec<&str> =
                source.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
            let found = terms.iter().position(|t| {
                let t = match t {
                    Value::String(s) => s.to_lowercase(),
                    other => other.to_string(),
                };
                !t.is_empty() && has(&source, &words, &t)
            });
            V::Int(found.map_or(-1, |i| i as i64))
        }
        More::Codepoints => match arg(0) {
            V::Null => V::Null,
            v => V::Dyn(Cow::Owned(Value::Array(
                v.text().chars().map(|c| Value::from(c as u32)).collect(),
            ))),
        },
        More::SetIntersect | More::SetDifference => {
            let Some(first) = array(&arg(0)) else { return V::Null };
            let mut others = Vec::new();
            for i in 1..args.len() {
                match array(&arg(i)) {
                    Some(a) => others.push(a),
                    None => return V::Null,
                }
            }
            let keep_if_in = matches!(f, More::SetIntersect);
            let mut out: Vec<Value> = Vec::new();
            for v in first {
                if out.contains(&v) {
                    continue;
                }
                let kept = if keep_if_in {
                    others.iter().all(|o| o.contains(&v))
                } else {
                    !others.iter().any(|o| o.contains(&v))
                };
                if kept {
                    out.push(v);
                }
            }
            V::Dyn(Cow::Owned(Value::Array(out)))
        }
        More::UrlEncode => match arg(0) {
            V::Null => V::Null,
            v => s(url_encode(&v.text())),
        },
        More::UrlDecode => match arg(0) {
            V::Null => V::Null,
            v => url_decode(&v.text()).map_or(V::Null, s),
        },
        More::GetType(ty) => s(type_name(ty, &arg(0)).to_owned()),
        More::Math(f) => real(&arg(0)).map_or(V::Null, |x| finite(f(x))),
        More::Pow => match (real(&arg(0)), real(&arg(1))) {
            (Some(a), Some(b)) => finite(a.powf(b)),
            _ => V::Null,
        },
        More::Atan2 => match (real(&arg(0)), real(&arg(1))) {
            (Some(y), Some(x)) => finite(y.atan2(x)),
            _ => V::Null,
        },
    }
}

/// `has` of a lowercase term on lowercase `source` split into `words`: a whole word, or for a
/// term with non-word characters, a run of whole words.
fn has(source: &str, words: &[&str], term: &str) -> bool {
    if term.chars().all(char::is_alphanumeric) {
        return words.contains(&term);
    }
    source.match_indices(term).any(|(i, _)| {
        let before = source[..i].chars().next_back();
        let after = source[i + term.len()..].chars().next();
        let edge = |c: Option<char>, t: Option<char>| {
            !(c.is_some_and(char::is_alphanumeric) && t.is_some_and(char::is_alphanumeric))
        };
        edge(before, term.chars().next()) && edge(after, term.chars().next_back())
    })
}

/// `ipv4_is_match(a, b[, prefix])`: `a` and `b` (each optionally `/bits`) equal under the
/// shortest of their prefixes and `prefix`; null when either does not parse.
fn ipv4_is_match(a: &str, b: &str, prefix: Option<f64>) -> V<'static> {
    let parse = |t: &str| -> Option<(u32, u32)> {
        match t.trim().split_once('/') {
            Some((ip, bits)) => Some((ipv4(ip)?, bits.trim().parse().ok().filter(|b| *b <= 32)?)),
            None => Some((ipv4(t)?, 32)),
        }
    };
    let (Some((a, ab)), Some((b, bb))) = (parse(a), parse(b)) else { return V::Null };
    let mut bits = ab.min(bb);
    if let Some(p) = prefix {
        if !(0.0..=32.0).contains(&p) {
            return V::Null;
        }
        bits = bits.min(p as u32);
    }
    V::Bool(in_prefix(a, b, bits))
}

/// `format_bytes(n, precision, units)`: `564 Bytes`, `10.1 KB`, `19 MB` (powers of 1024).
fn format_bytes(n: f64, precision: usize, units: Option<String>) -> Option<String> {
    const UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
    let i = match units {
        Some(u) if !u.is_empty() => UNITS.iter().position(|x| x.eq_ignore_ascii_case(&u))?,
        _ => {
            let mut i = 0;
            while i + 1 < UNITS.len() && n.abs() >= 1024f64.powi(i as i32 + 1) {
                i += 1;
            }
            i
        }
    };
    Some(format!("{:.*} {}", precision, n / 1024f64.powi(i as i32), UNITS[i]))
}

/// `datetime_part(part, t)`.
fn datetime_part(part: &str, t: i64) -> Option<i64> {
    let days = t.div_euclid(DAY);
    let (y, m, d) = crate::decode::civil_from_days(days);
    let in_day = t.rem_euclid(DAY);
    Some(match part.to_ascii_lowercase().as_str() {
        "year" => y,
        "quarter" => (m - 1) / 3 + 1,
        "month" => m,
        "day" => d,
        "dayofyear" => (t - civil(y, 1, 1)).div_euclid(DAY) + 1,
        "hour" => in_day / 36_000_000_000,
        "minute" => in_day / 600_000_000 % 60,
        "second" => in_day / 10_000_000 % 60,
        "millisecond" => in_day / 10_000 % 1000,
        "microsecond" => in_day / 10 % 1_000_000,
        "nanosecond" => in_day % 10_000_000 * 100,
        // ISO 8601 week of the year: the week (Monday first) holding the year's first Thursday
        // is week 1.
        "week_of_year" | "weekofyear" => {
            let weekday = (days + 3).rem_euclid(7); // Monday 0
            let thursday = days - weekday + 3;
            let (ty, _, _) = crate::decode::civil_from_days(thursday);
            (thursday - crate::decode::days_from_civil(ty, 1, 1)) / 7 + 1
        }
        _ => return None,
    })
}

/// URL encoding as .NET's `HttpUtility.UrlEncode` writes it, which Kusto's documented example
/// shows (`https://www.bing.com/` → `https%3a%2f%2fwww.bing.com%2f`): lowercase hex, a space as
/// `+`, and `-_.!*()` kept.
fn url_encode(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for b in t.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!*()".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// `%XX` decoded (and `+` as a space); null when the bytes are not UTF-8.
fn url_decode(t: &str) -> Option<String> {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `gettype`'s name of a value of static type `ty` (dynamic values by their content).
fn type_name(ty: Ty, v: &V<'_>) -> &'static str {
    match ty {
        STRING => "string",
        INT => "int",
        LONG => "long",
        REAL => "real",
        BOOL => "bool",
        TIME => "datetime",
        SPAN => "timespan",
        GUID => "guid",
        DECIMAL => "decimal",
        _ => match v {
            V::Dyn(d) => match d.as_ref() {
                Value::Array(_) => "array",
                Value::Object(_) => "dictionary",
                Value::String(_) => "string",
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_f64() => "real",
                Value::Number(_) => "long",
                Value::Null => "null",
            },
            V::Null => "null",
            V::Str(_) => "string",
            V::Int(_) => "long",
            V::Real(_) => "real",
            V::Bool(_) => "bool",
            V::Time(_) => "datetime",
            V::Span(_) => "timespan",
        },
    }
}
