//! More built-in scalar functions, the ones hunting queries call most after the basics:
//! strings and regular expressions (`extract`, `split`, `substring`, `replace_regex`…),
//! dynamic values (`pack_array`, `bag_pack`, `extractjson`, `parse_url`…), datetimes
//! (`startofday`, `datetime_diff`, `format_datetime`…), IPs, hashes and bit operations.

use std::borrow::Cow;

use regex_automata::meta::Regex;
use serde_json::{Map, Value, json};

use super::scalar::B;
use crate::emulator::data::Cell;
use crate::emulator::kql::parse_datetime;
use crate::emulator::kql::value::{
    BOOL, DYN, INT, LONG, REAL, SPAN, STRING, TIME, Ty, V, compare, eq_ci,
};

mod calendar;
pub(crate) mod decompose;
mod extra;
mod hash;
mod more;
mod text;

use calendar::{DAY, civil, civil_add_days, datetime_add, datetime_diff, format_dt};
use text::{command_line, expand, in_prefix, ipv4, json_path, parse_url};

/// A function of this module, with what was prepared when it was bound (a compiled regex).
#[derive(Debug, Clone)]
pub(crate) enum Builtin {
    Coalesce,
    Case,
    MaxOf,
    MinOf,
    Abs,
    Round,
    Substring,
    Split,
    IndexOf,
    ReplaceString,
    /// The regex, and whether in the legacy `replace(regex, rewrite, text)` order.
    ReplaceRegex(Regex, bool),
    Trim(Regex, bool, bool),
    StrcatDelim,
    Countof,
    Extract(Regex),
    ExtractAll(Regex),
    Matches(Regex),
    ExtractJson,
    ParseUrl,
    Base64Decode,
    Base64DecodeArray,
    Base64Encode,
    ParseCommandLine,
    MakeString,
    HashSha256,
    PackArray,
    BagPack,
    /// `x matches regex p` with `p` read from the row: each pattern compiled once per thread.
    MatchesEach,
    /// `pack_all(true)`: `bag_pack` without the null and empty values.
    BagPackNonEmpty,
    SetHasElement,
    ArrayIndexOf,
    ArrayConcat,
    BagKeys,
    StartOf(Unit),
    EndOfDay,
    DatetimeDiff,
    DatetimeAdd,
    FormatDatetime,
    DayOfWeek,
    HourOfDay,
    DayOfMonth,
    Month,
    Year,
    Ipv4IsPrivate,
    Ipv4InRange,
    Bits(BitOp),
    /// `…, typeof(t)` or `to typeof(t)`: the value converted to `t`.
    Convert(Ty),
    /// A series analysis, and which of its outputs.
    Series(decompose::SeriesFn, usize),
    Hash,
    /// One of [`more`]'s functions.
    More(more::More),
    Extra(extra::Extra),
}

/// Calendar units of `startof…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Day,
    Week,
    Month,
    Year,
}

/// Bit operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BitOp {
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

/// Compiles a KQL (RE2-style) regular expression.
pub(crate) fn regex(pattern: &str) -> Result<Regex, String> {
    // RE2, which Kusto uses, reads `\0` and `\123` as octal character codes.
    Regex::builder()
        .syntax(regex_automata::util::syntax::Config::new().octal(true))
        .build(pattern)
        .map_err(|e| format!("invalid regular expression '{pattern}': {e}"))
}

/// The constant text of argument `i`, for the arguments that must be constants (patterns).
fn const_text(args: &[(B, Ty)], i: usize, name: &str) -> Result<String, String> {
    match args.get(i) {
        Some((B::Const(v), _)) => Ok(v.text().into_owned()),
        _ => Err(format!("function '{name}': argument {} must be a constant string", i + 1)),
    }
}

impl Builtin {
    /// Is each call's value its own (`rand()`), so never folded into a constant?
    pub(crate) fn volatile(&self) -> bool {
        matches!(self, Builtin::Extra(f) if f.volatile())
    }
}

/// Binds `name` if this module has it: the function, its argument count range and type.
pub(crate) fn bind(name: &str, args: &[(B, Ty)]) -> Option<Result<(Builtin, Ty), String>> {
    let n = args.len();
    let ty_of = |i: usize| args.get(i).map_or(STRING, |a| a.1);
    let arity = |min: usize, max: usize, f: Builtin, ty: Ty| {
        if (min..=max).contains(&n) {
            Ok((f, ty))
        } else {
            Err(format!("function '{name}' expects {min}..{max} argument(s), got {n}"))
        }
    };
    let re = |i: usize| const_text(args, i, name).and_then(|p| regex(&p));
    if matches!(name, "hash" | "hash_xxhash64") {
        if n >= 1 && !hash::hashable(ty_of(0)) {
            return Some(Err(format!(
                "function '{name}' of a {} value is not supported",
                ty_of(0)
            )));
        }
        return Some(arity(1, 2, Builtin::Hash, LONG));
    }
    if let Some((f, min, max, ty)) = more::bind(name, args.first().map(|a| a.1)) {
        return Some(arity(min, max, Builtin::More(f), ty));
    }
    if let Some((f, min, max, ty)) = extra::bind(name, args.first().map(|a| a.1)) {
        return Some(arity(min, max, Builtin::Extra(f), ty));
    }
    if let Some(f) = decompose::SeriesFn::of(name) {
        return Some(arity(1, f.max_args(), Builtin::Series(f, 0), DYN));
    }
    Some(match name {
        "coalesce" => arity(1, 64, Builtin::Coalesce, ty_of(0)),
        "case" => arity(3, 129, Builtin::Case, ty_of(1)),
        "max_of" => arity(1, 64, Builtin::MaxOf, ty_of(0)),
        "min_of" => arity(1, 64, Builtin::MinOf, ty_of(0)),
        "abs" => arity(1, 1, Builtin::Abs, ty_of(0)),
        "round" => arity(1, 2, Builtin::Round, REAL),
        "substring" => arity(2, 3, Builtin::Substring, STRING),
        "split" => arity(2, 3, Builtin::Split, DYN),
        "indexof" => arity(2, 5, Builtin::IndexOf, LONG),
        "replace_string" => arity(3, 3, Builtin::ReplaceString, STRING),
        "replace_regex" => re(1).and_then(|r| arity(3, 3, Builtin::ReplaceRegex(r, false), STRING)),
        "replace" => re(0).and_then(|r| arity(3, 3, Builtin::ReplaceRegex(r, true), STRING)),
        "trim" | "trim_start" | "trim_end" => {
            let p = const_text(args, 0, name);
            p.and_then(|p| {
                let (s, e) = (name != "trim_end", name != "trim_start");
                regex(&format!("^(?:{p})")).map(|r| (r, s, e))
            })
            .and_then(|(r, s, e)| arity(2, 2, Builtin::Trim(r, s, e), STRING))
        }
        "strcat_delim" => arity(2, 64, Builtin::StrcatDelim, STRING),
        "countof" => arity(2, 3, Builtin::Countof, LONG),
        "extract" => re(0).and_then(|r| arity(3, 3, Builtin::Extract(r), STRING)),
        "extract_all" => re(0).and_then(|r| arity(2, 3, Builtin::ExtractAll(r), DYN)),
        "extractjson" | "extract_json" => arity(2, 2, Builtin::ExtractJson, STRING),
        "parse_url" | "parseurl" => arity(1, 1, Builtin::ParseUrl, DYN),
        "base64_decode_tostring" | "base64_decodestring" => {
            arity(1, 1, Builtin::Base64Decode, STRING)
        }
        "base64_decode_toarray" => arity(1, 1, Builtin::Base64DecodeArray, DYN),
        "parse_command_line" => arity(2, 2, Builtin::ParseCommandLine, DYN),
        "make_string" => arity(1, 64, Builtin::MakeString, STRING),
        "base64_encode_tostring" | "base64_encodestring" => {
            arity(1, 1, Builtin::Base64Encode, STRING)
        }
        "hash_sha256" => arity(1, 1, Builtin::HashSha256, STRING),
        "pack_array" => arity(0, 1024, Builtin::PackArray, DYN),
        "bag_pack" | "pack" | "pack_dictionary" => arity(0, 128, Builtin::BagPack, DYN),
        "set_has_element" => arity(2, 2, Builtin::SetHasElement, BOOL),
        "array_index_of" => arity(2, 2, Builtin::ArrayIndexOf, LONG),
        "array_concat" => arity(1, 64, Builtin::ArrayConcat, DYN),
        "bag_keys" => arity(1, 1, Builtin::BagKeys, DYN),
        "startofday" => arity(1, 2, Builtin::StartOf(Unit::Day), TIME),
        "startofweek" => arity(1, 2, Builtin::StartOf(Unit::Week), TIME),
        "startofmonth" => arity(1, 2, Builtin::StartOf(Unit::Month), TIME),
        "startofyear" => arity(1, 2, Builtin::StartOf(Unit::Year), TIME),
        "endofday" => arity(1, 1, Builtin::EndOfDay, TIME),
        "datetime_diff" => arity(3, 3, Builtin::DatetimeDiff, LONG),
        "datetime_add" => arity(3, 3, Builtin::DatetimeAdd, TIME),
        "format_datetime" => arity(2, 2, Builtin::FormatDatetime, STRING),
        "dayofweek" => arity(1, 1, Builtin::DayOfWeek, SPAN),
        "hourofday" => arity(1, 1, Builtin::HourOfDay, INT),
        "dayofmonth" => arity(1, 1, Builtin::DayOfMonth, INT),
        "getmonth" | "monthofyear" => arity(1, 1, Builtin::Month, INT),
        "getyear" => arity(1, 1, Builtin::Year, INT),
        "ipv4_is_private" => arity(1, 1, Builtin::Ipv4IsPrivate, BOOL),
        "ipv4_is_in_range" => arity(2, 2, Builtin::Ipv4InRange, BOOL),
        "binary_and" => arity(2, 2, Builtin::Bits(BitOp::And), LONG),
        "binary_or" => arity(2, 2, Builtin::Bits(BitOp::Or), LONG),
        "binary_xor" => arity(2, 2, Builtin::Bits(BitOp::Xor), LONG),
        "binary_shift_left" => arity(2, 2, Builtin::Bits(BitOp::Shl), LONG),
        "binary_shift_right" => arity(2, 2, Builtin::Bits(BitOp::Shr), LONG),
        _ => return None,
    })
}

fn s(v: String) -> V<'static> {
    V::Str(Cow::Owned(v))
}

fn dynv(v: Value) -> V<'static> {
    V::Dyn(Cow::Owned(v))
}

/// Evaluates `f` on `args` for `row`.
pub(crate) fn call<'a>(f: &'a Builtin, args: &'a [B], row: &'a [Cell]) -> V<'a> {
    let arg = |i: usize| args.get(i).map_or(V::Null, |a| a.eval(row).norm());
    let int = |i: usize| match arg(i) {
        V::Int(v) => Some(v),
        V::Real(v) if v.is_finite() => Some(v as i64),
        _ => None,
    };
    match f {
        Builtin::Coalesce => {
            (0..args.len()).map(arg).find(|v| !v.is_null() && v.text() != "").unwrap_or(V::Null)
        }
        Builtin::Case => {
            let mut i = 0;
            while i + 1 < args.len() {
                if matches!(arg(i), V::Bool(true)) {
                    return arg(i + 1);
                }
                i += 2;
            }
            arg(args.len() - 1)
        }
        Builtin::MaxOf | Builtin::MinOf => {
            let want = if matches!(f, Builtin::MaxOf) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Less
            };
            let mut best = V::Null;
            for i in 0..args.len() {
                let v = arg(i);
                if !v.is_null() && (best.is_null() || compare(&v, &best) == Some(want)) {
                    best = v;
                }
            }
            best
        }
        Builtin::Abs => match arg(0) {
            V::Int(v) => V::Int(v.saturating_abs()),
            V::Real(v) => V::Real(v.abs()),
            V::Span(v) => V::Span(v.saturating_abs()),
            _ => V::Null,
        },
        Builtin::Round => {
            let x = match arg(0) {
                V::Int(v) => v as f64,
                V::Real(v) => v,
                _ => return V::Null,
            };
            let p = 10f64.powi(int(1).unwrap_or(0).clamp(-15, 15) as i32);
            V::Real((x * p).round() / p)
        }
        Builtin::Substring => {
            let text = arg(0);
            let chars: Vec<char> = text.text().chars().collect();
            let start = int(1).unwrap_or(0).clamp(0, chars.len() as i64) as usize;
            let len = int(2).map_or(chars.len() - start, |l| l.max(0) as usize);
            s(chars[start..].iter().take(len).collect())
        }
        Builtin::Split => {
            let (text, delim) = (arg(0), arg(1));
            let delim = delim.text();
            let parts: Vec<Value> = if delim.is_empty() {
                vec![Value::String(text.text().into_owned())]
            } else {
                text.text().split(delim.as_ref()).map(|p| Value::String(p.to_owned())).collect()
            };
            match int(2) {
                Some(i) => usize::try_from(i)
                    .ok()
                    .and_then(|i| parts.get(i))
                    .map_or(V::Null, |p| dynv(json!([p]))),
                None => dynv(Value::Array(parts)),
            }
        }
        Builtin::IndexOf => {
            let (hay, needle) = (arg(0), arg(1));
            let (hay, needle) = (hay.text(), needle.text());
            let start = int(2).unwrap_or(0).max(0) as usize;
            let chars: Vec<(usize, char)> = hay.char_indices().collect();
            let from = match chars.get(start) {
                Some(&(b, _)) => b,
                None if start == chars.len() => hay.len(),
                None => return V::Int(-1),
            };
            match hay[from..].find(needle.as_ref()) {
                Some(b) => V::Int(hay[..from + b].chars().count() as i64),
                None => V::Int(-1),
            }
        }
        Builtin::ReplaceString => {
            let (t, a, b) = (arg(0), arg(1), arg(2));
            if a.text().is_empty() {
                return s(t.text().into_owned());
            }
            s(t.text().replace(a.text().as_ref(), &b.text()))
        }
        Builtin::ReplaceRegex(re, legacy) => {
            let (t, rewrite) = if *legacy { (arg(2), arg(1)) } else { (arg(0), arg(2)) };
            let (t, rewrite) = (t.text(), rewrite.text());
            let mut out = String::new();
            let mut last = 0;
            let mut caps = re.create_captures();
            for m in re.find_iter(t.as_ref()) {
                re.captures(
                    regex_automata::Input::new(t.as_ref()).span(m.start()..t.len()),
                    &mut caps,
                );
                out.push_str(&t[last..m.start()]);
                out.push_str(&expand(&rewrite, &caps, &t));
                last = m.end();
            }
            out.push_str(&t[last..]);
            s(out)
        }
        Builtin::Trim(re, start, end) => {
            let t = arg(1);
            let mut t: &str = &t.text();
            let mut owned = String::new();
            if *start {
                while let Some(m) = re.find(t).filter(|m| m.start() == 0 && m.end() > 0) {
                    t = &t[m.end()..];
                }
            }
            if *end {
                // The longest suffix that the pattern matches whole.
                let mut cut = t.len();
                loop {
                    let found = t[..cut].char_indices().map(|(i, _)| i).find(|&i| {
                        re.find(&t[i..cut]).is_some_and(|m| m.start() == 0 && m.end() == cut - i)
                    });
                    match found {
                        Some(i) if i < cut => cut = i,
                        _ => break,
                    }
                }
                owned.push_str(&t[..cut]);
                return s(owned);
            }
            s(t.to_owned())
        }
        Builtin::StrcatDelim => {
            let d = arg(0).text().into_owned();
            s((1..args.len()).map(|i| arg(i).text().into_owned()).collect::<Vec<_>>().join(&d))
        }
        Builtin::Countof => {
            let (t, sub) = (arg(0), arg(1));
            let (t, sub) = (t.text(), sub.text());
            if sub.is_empty() {
                return V::Int(0);
            }
            V::Int(t.matches(sub.as_ref()).count() as i64)
        }
        Builtin::Extract(re) => {
            let t = arg(2);
            let t = t.text();
            let group = int(1).unwrap_or(0).max(0) as usize;
            let mut caps = re.create_captures();
            re.captures(t.as_ref(), &mut caps);
            match caps.get_group(group) {
                Some(sp) => s(t[sp.start..sp.end].to_owned()),
                None => V::Null,
            }
        }
        Builtin::ExtractAll(re) => {
            let t = arg(args.len() - 1);
            let t = t.text();
            let mut out = Vec::new();
            for caps in re.captures_iter(t.as_ref()) {
                let groups: Vec<Value> = (1..caps.group_len())
                    .filter_map(|g| caps.get_group(g))
                    .map(|sp| Value::String(t[sp.start..sp.end].to_owned()))
                    .collect();
                out.push(match groups.len() {
                    0 => caps
                        .get_group(0)
                        .map_or(Value::Null, |sp| Value::String(t[sp.start..sp.end].to_owned())),
                    1 => groups.into_iter().next().unwrap_or(Value::Null),
                    _ => Value::Array(groups),
                });
            }
            if out.is_empty() { V::Null } else { dynv(Value::Array(out)) }
        }
        Builtin::Matches(re) => {
            let t = arg(0);
            V::Bool(!t.is_null() && re.is_match(t.text().as_ref()))
        }
        Builtin::MatchesEach => {
            let (t, pattern) = (arg(0), arg(1));
            if t.is_null() || pattern.is_null() {
                return V::Bool(false);
            }
            match_each(&pattern.text(), &t.text())
        }
        Builtin::ExtractJson => {
            let (path, doc) = (arg(0), args.get(1).map_or(V::Null, |a| a.eval(row)));
            let doc = match doc {
                V::Dyn(d) => d.into_owned(),
                v => match serde_json::from_str::<Value>(&v.text()) {
                    Ok(d) => d,
                    Err(_) => return V::Null,
                },
            };
            match json_path(&doc, &path.text()) {
                Some(Value::String(v)) => s(v.clone()),
                Some(Value::Null) | None => V::Null,
                Some(v) => s(v.to_string()),
            }
        }
        Builtin::ParseUrl => parse_url(&arg(0).text()),
        Builtin::Base64Decode => {
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(arg(0).text().trim()) {
                Ok(bytes) => String::from_utf8(bytes).map_or(V::Null, s),
                Err(_) => V::Null,
            }
        }
        Builtin::Base64DecodeArray => {
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(arg(0).text().trim()) {
                Ok(bytes) => dynv(Value::Array(bytes.into_iter().map(Value::from).collect())),
                Err(_) => V::Null,
            }
        }
        Builtin::ParseCommandLine => dynv(Value::Array(
            command_line(&arg(0).text()).into_iter().map(Value::String).collect(),
        )),
        Builtin::MakeString => {
            // Code points, given one by one or as arrays of them.
            let mut out = String::new();
            for a in args {
                let v = a.eval(row);
                let points: Vec<i64> = match v {
                    V::Dyn(d) => match d.as_ref() {
                        Value::Array(items) => items.iter().filter_map(Value::as_i64).collect(),
                        other => other.as_i64().into_iter().collect(),
                    },
                    V::Int(i) => vec![i],
                    _ => Vec::new(),
                };
                for p in points {
                    match u32::try_from(p).ok().and_then(char::from_u32) {
                        Some(c) => out.push(c),
                        None => return V::Null,
                    }
                }
            }
            s(out)
        }
        Builtin::Base64Encode => {
            use base64::Engine;
            s(base64::engine::general_purpose::STANDARD.encode(arg(0).text().as_bytes()))
        }
        Builtin::HashSha256 => {
            let v = arg(0);
            if v.is_null() {
                return V::Null;
            }
            let d = ring::digest::digest(&ring::digest::SHA256, v.text().as_bytes());
            s(d.as_ref().iter().map(|b| format!("{b:02x}")).collect())
        }
        Builtin::PackArray => {
            dynv(Value::Array((0..args.len()).map(|i| arg(i).to_json()).collect()))
        }
        Builtin::BagPack | Builtin::BagPackNonEmpty => {
            let mut m = Map::new();
            let mut i = 0;
            while i + 1 < args.len() {
                let v = arg(i + 1).to_json();
                let empty = v.is_null() || v.as_str() == Some("");
                if !(empty && matches!(f, Builtin::BagPackNonEmpty)) {
                    m.insert(arg(i).text().into_owned(), v);
                }
                i += 2;
            }
            dynv(Value::Object(m))
        }
        Builtin::SetHasElement | Builtin::ArrayIndexOf => {
            let arr = args.first().map_or(V::Null, |a| a.eval(row));
            let needle = arg(1);
            let items = match &arr {
                V::Dyn(d) => d.as_array().cloned().unwrap_or_default(),
                _ => Vec::new(),
            };
            let pos = items.iter().position(|e| {
                let e = V::Dyn(Cow::Borrowed(e)).norm();
                compare(&e, &needle) == Some(std::cmp::Ordering::Equal)
            });
            match f {
                Builtin::SetHasElement => V::Bool(pos.is_some()),
                _ => V::Int(pos.map_or(-1, |p| p as i64)),
            }
        }
        Builtin::ArrayConcat => {
            let mut out = Vec::new();
            for a in args {
                if let V::Dyn(d) = a.eval(row)
                    && let Some(items) = d.as_array()
                {
                    out.extend(items.iter().cloned());
                }
            }
            dynv(Value::Array(out))
        }
        Builtin::BagKeys => match args.first().map(|a| a.eval(row)) {
            Some(V::Dyn(d)) => d.as_object().map_or(V::Null, |m| {
                dynv(Value::Array(m.keys().map(|k| Value::String(k.clone())).collect()))
            }),
            _ => V::Null,
        },
        Builtin::StartOf(unit) => {
            let V::Time(t) = arg(0) else { return V::Null };
            let offset = int(1).unwrap_or(0);
            if offset.abs() > 1_000_000 {
                return V::Null;
            }
            let days = t.div_euclid(DAY);
            let (y, m, _) = crate::decode::civil_from_days(days);
            let start = match unit {
                Unit::Day => civil_add_days(days * DAY, offset),
                // 1970-01-01 was a Thursday; weeks start on Sunday.
                Unit::Week => civil_add_days((days - (days + 4).rem_euclid(7)) * DAY, 7 * offset),
                Unit::Month => {
                    let total = y * 12 + (m - 1) + offset;
                    civil(total.div_euclid(12), total.rem_euclid(12) + 1, 1)
                }
                Unit::Year => civil(y + offset, 1, 1),
            };
            V::Time(start)
        }
        Builtin::EndOfDay => match arg(0) {
            V::Time(t) => V::Time(t - t.rem_euclid(DAY) + DAY - 1),
            _ => V::Null,
        },
        Builtin::DatetimeDiff => {
            let (part, a, b) = (arg(0), arg(1), arg(2));
            let (V::Time(a), V::Time(b)) = (a, b) else { return V::Null };
            datetime_diff(&part.text(), a, b).map_or(V::Null, V::Int)
        }
        Builtin::DatetimeAdd => {
            let (part, n, t) = (arg(0), int(1), arg(2));
            let (Some(n), V::Time(t)) = (n, t) else { return V::Null };
            datetime_add(&part.text(), n, t).map_or(V::Null, V::Time)
        }
        Builtin::FormatDatetime => match arg(0) {
            V::Time(t) => s(format_dt(t, &arg(1).text())),
            _ => V::Null,
        },
        Builtin::DayOfWeek => match arg(0) {
            V::Time(t) => V::Span((t.div_euclid(DAY) + 4).rem_euclid(7) * DAY),
            _ => V::Null,
        },
        Builtin::HourOfDay => match arg(0) {
            V::Time(t) => V::Int(t.rem_euclid(DAY) / 36_000_000_000),
            _ => V::Null,
        },
        Builtin::DayOfMonth | Builtin::Month | Builtin::Year => match arg(0) {
            V::Time(t) => {
                let (y, m, d) = crate::decode::civil_from_days(t.div_euclid(DAY));
                V::Int(match f {
                    Builtin::DayOfMonth => d,
                    Builtin::Month => m,
                    _ => y,
                })
            }
            _ => V::Null,
        },
        Builtin::Ipv4IsPrivate => match ipv4(&arg(0).text()) {
            Some(ip) => V::Bool(
                [(0x0A00_0000, 8), (0xAC10_0000, 12), (0xC0A8_0000, 16)]
                    .iter()
                    .any(|&(net, bits)| in_prefix(ip, net, bits)),
            ),
            None => V::Null,
        },
        Builtin::Ipv4InRange => {
            let (ip, range) = (arg(0), arg(1));
            let (ip, range) = (ip.text(), range.text());
            let (net, bits) = match range.split_once('/') {
                Some((n, b)) => (n, b.parse::<u32>().ok().filter(|b| *b <= 32)),
                None => (range.as_ref(), Some(32)),
            };
            match (ipv4(&ip), ipv4(net), bits) {
                (Some(ip), Some(net), Some(bits)) => V::Bool(in_prefix(ip, net, bits)),
                _ => V::Null,
            }
        }
        Builtin::Bits(op) => {
            let (Some(a), Some(b)) = (int(0), int(1)) else { return V::Null };
            V::Int(match op {
                BitOp::And => a & b,
                BitOp::Or => a | b,
                BitOp::Xor => a ^ b,
                BitOp::Shl => u32::try_from(b).ok().and_then(|b| a.checked_shl(b)).unwrap_or(0),
                BitOp::Shr => u32::try_from(b).ok().and_then(|b| a.checked_shr(b)).unwrap_or(0),
            })
        }
        Builtin::Convert(ty) => convert(arg(0), ty),
        Builtin::More(f) => more::call(*f, &(0..args.len()).map(arg).collect::<Vec<_>>()),
        Builtin::Extra(f) => extra::call(*f, &(0..args.len()).map(arg).collect::<Vec<_>>()),
        Builtin::Hash => {
            hash::hash(&arg(0), if args.len() > 1 { int(1).or(Some(0)) } else { None })
        }
        Builtin::Series(f, part) => {
            decompose::call(*f, *part, &(0..args.len()).map(arg).collect::<Vec<_>>())
        }
    }
}

/// `v` as a value of type `ty` (null when it does not convert).
/// `text matches regex pattern` for a pattern known only per row: compiled patterns are kept
/// (at most 256 per thread); a pattern that does not compile matches nothing.
fn match_each(pattern: &str, text: &str) -> V<'static> {
    thread_local! {
        static PATTERNS: std::cell::RefCell<std::collections::HashMap<String, Option<Regex>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    PATTERNS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= 256 {
                cache.clear();
            }
            cache.insert(pattern.to_owned(), regex(pattern).ok());
        }
        let re = cache.get(pattern).and_then(Option::as_ref);
        V::Bool(re.is_some_and(|re| re.is_match(text)))
    })
}

pub(crate) fn convert(v: V<'_>, ty: &Ty) -> V<'static> {
    if v.is_null() {
        return V::Null;
    }
    match *ty {
        STRING => s(v.text().into_owned()),
        LONG | INT => match v {
            V::Int(i) => V::Int(i),
            V::Real(r) if r.is_finite() => V::Int(r as i64),
            V::Bool(b) => V::Int(i64::from(b)),
            other => other.text().trim().parse().map_or(V::Null, V::Int),
        },
        REAL => match v {
            V::Int(i) => V::Real(i as f64),
            V::Real(r) => V::Real(r),
            other => other
                .text()
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map_or(V::Null, V::Real),
        },
        BOOL => match v {
            V::Bool(b) => V::Bool(b),
            V::Int(i) => V::Bool(i != 0),
            other if eq_ci(&other.text(), "true") => V::Bool(true),
            other if eq_ci(&other.text(), "false") => V::Bool(false),
            _ => V::Null,
        },
        TIME => match v {
            V::Time(t) => V::Time(t),
            other => parse_datetime(&other.text()).map_or(V::Null, V::Time),
        },
        DYN => match v {
            V::Dyn(d) => V::Dyn(Cow::Owned(d.into_owned())),
            V::Str(t) => dynv(serde_json::from_str(&t).unwrap_or(Value::String(t.into_owned()))),
            other => dynv(other.to_json()),
        },
        _ => v.owned(),
    }
}
