//! Scalar functions found missing by a larger corpus of public hunting queries:
//! `geo_info_from_ip_address`, `format_timespan`, `parse_version`, `jaccard_index`,
//! `bag_remove_keys`, `array_slice`, `array_sort_asc`/`_desc`, `strcat_array`, `rand` and the
//! scalar `range(start, stop, step)`, each as Kusto documents it. Where the emulator has no
//! real data behind a function (the geolocation database), the answer is synthetic like the
//! rows: a pure function of the argument.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::text::ipv4;
use crate::emulator::kql::value::{DYN, LONG, REAL, STRING, Ty, V};

/// One of this module's functions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Extra {
    GeoInfo,
    FormatTimespan,
    ParseVersion,
    JaccardIndex,
    Range,
    BagRemoveKeys,
    ArraySlice,
    StrcatArray,
    Rand,
    /// `array_sort_asc` (true) or `array_sort_desc`.
    ArraySort(bool),
}

/// The most elements a scalar `range()` makes (Kusto's limit for arrays built in a query).
const MAX_RANGE: usize = 1_048_576;

impl Extra {
    /// Does each call give its own value?
    pub(crate) fn volatile(self) -> bool {
        matches!(self, Extra::Rand)
    }
}

/// `(function, min args, max args, result type)` for `name`, if this module has it.
pub(crate) fn bind(name: &str, first: Option<Ty>) -> Option<(Extra, usize, usize, Ty)> {
    Some(match name {
        "geo_info_from_ip_address" => (Extra::GeoInfo, 1, 1, DYN),
        "format_timespan" => (Extra::FormatTimespan, 2, 2, STRING),
        // Kusto answers a decimal; the emulator a real of the same value (order is kept for
        // versions whose parts fit the 15 significant digits of a double).
        "parse_version" => (Extra::ParseVersion, 1, 1, REAL),
        "jaccard_index" => (Extra::JaccardIndex, 2, 2, REAL),
        "range" => (Extra::Range, 2, 3, DYN),
        "bag_remove_keys" => (Extra::BagRemoveKeys, 2, 2, DYN),
        "array_slice" => (Extra::ArraySlice, 3, 3, DYN),
        "strcat_array" => (Extra::StrcatArray, 2, 2, STRING),
        "array_sort_asc" => (Extra::ArraySort(true), 1, 2, DYN),
        "array_sort_desc" => (Extra::ArraySort(false), 1, 2, DYN),
        // `rand()` a real in [0, 1), `rand(N)` a long in [0, N).
        "rand" => (Extra::Rand, 0, 1, if first.is_some() { LONG } else { REAL }),
        _ => return None,
    })
}

/// Evaluates `f` on the (already evaluated) arguments.
pub(crate) fn call(f: Extra, args: &[V<'_>]) -> V<'static> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(V::Null);
    match f {
        Extra::GeoInfo => match arg(0) {
            V::Null => V::Null,
            v => V::Dyn(Cow::Owned(geo_info(&v.text()))),
        },
        Extra::FormatTimespan => match (arg(0), arg(1)) {
            (V::Span(t), V::Str(fmt)) => {
                format_timespan(t, &fmt).map_or(V::Null, |s| V::Str(Cow::Owned(s)))
            }
            _ => V::Null,
        },
        Extra::ParseVersion => match arg(0) {
            V::Str(s) => parse_version(&s).map_or(V::Null, V::Real),
            _ => V::Null,
        },
        Extra::JaccardIndex => match (set(&arg(0)), set(&arg(1))) {
            (Some(a), Some(b)) => {
                let union = a.iter().chain(b.iter().filter(|v| !a.contains(v))).count();
                let common = a.iter().filter(|v| b.contains(v)).count();
                if union == 0 { V::Real(0.0) } else { V::Real(common as f64 / union as f64) }
            }
            _ => V::Null,
        },
        Extra::Range => range(&arg(0), &arg(1), args.get(2)),
        Extra::ArraySlice => match (arg(0), arg(1), arg(2)) {
            (V::Dyn(a), V::Int(start), V::Int(end)) if a.is_array() => {
                let items = a.as_array().map_or(&[][..], Vec::as_slice);
                let n = items.len() as i64;
                // Negative indices count from the end; `end` is inclusive.
                let at = |i: i64| if i < 0 { i + n } else { i };
                let (from, to) = (at(start).max(0), at(end).min(n - 1));
                let slice = if from > to {
                    Vec::new()
                } else {
                    items[from as usize..=to as usize].to_vec()
                };
                V::Dyn(Cow::Owned(Value::Array(slice)))
            }
            _ => V::Null,
        },
        Extra::StrcatArray => match (arg(0), arg(1)) {
            (V::Dyn(a), delim) if a.is_array() => {
                let items = a.as_array().map_or(&[][..], Vec::as_slice);
                let text: Vec<String> = items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .collect();
                V::Str(Cow::Owned(text.join(delim.text().as_ref())))
            }
            _ => V::Null,
        },
        Extra::ArraySort(asc) => match arg(0) {
            V::Dyn(a) if a.is_array() => {
                let mut items = a.as_array().cloned().unwrap_or_default();
                // Nulls last (`nulls_last` defaults to true), the others by value.
                let nulls_last = !matches!(arg(1), V::Bool(false));
                items.sort_by(|x, y| {
                    use std::cmp::Ordering;
                    match (x.is_null(), y.is_null()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => {
                            if nulls_last {
                                Ordering::Greater
                            } else {
                                Ordering::Less
                            }
                        }
                        (false, true) => {
                            if nulls_last {
                                Ordering::Less
                            } else {
                                Ordering::Greater
                            }
                        }
                        _ => {
                            let o = json_order(x, y);
                            if asc { o } else { o.reverse() }
                        }
                    }
                });
                V::Dyn(Cow::Owned(Value::Array(items)))
            }
            _ => V::Null,
        },
        Extra::Rand => {
            let x = next_random();
            match arg(0) {
                V::Int(n) if n > 0 => V::Int((x % n as u64) as i64),
                V::Null if args.is_empty() => V::Real((x >> 11) as f64 / (1u64 << 53) as f64),
                _ => V::Null,
            }
        }
        Extra::BagRemoveKeys => match (arg(0), set(&arg(1))) {
            (V::Dyn(bag), Some(keys)) if bag.is_object() => {
                let mut bag = bag.into_owned();
                for key in keys.iter().filter_map(Value::as_str) {
                    remove_path(&mut bag, key);
                }
                V::Dyn(Cow::Owned(bag))
            }
            _ => V::Null,
        },
    }
}

/// The next number of a per-thread pseudo-random sequence (splitmix64; `rand()` has no
/// reproducible answer to match, and the emulator reads no clock or entropy for it).
fn next_random() -> u64 {
    thread_local! {
        static STATE: std::cell::Cell<u64> = const { std::cell::Cell::new(0x853c_49e6_748f_ea9b) };
    }
    STATE.with(|s| {
        let mut z = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// Numbers by value, before text by ordinal, before anything else by its JSON text.
fn json_order(x: &Value, y: &Value) -> std::cmp::Ordering {
    match (x, y) {
        (Value::Number(a), Value::Number(b)) => {
            a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(std::cmp::Ordering::Equal)
        }
        (Value::Number(_), _) => std::cmp::Ordering::Less,
        (_, Value::Number(_)) => std::cmp::Ordering::Greater,
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::String(_), _) => std::cmp::Ordering::Less,
        (_, Value::String(_)) => std::cmp::Ordering::Greater,
        _ => x.to_string().cmp(&y.to_string()),
    }
}

/// The distinct elements of a dynamic array.
fn set(v: &V<'_>) -> Option<Vec<Value>> {
    let V::Dyn(d) = v else { return None };
    let Value::Array(items) = d.as_ref() else { return None };
    let mut out: Vec<Value> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    Some(out)
}

/// Removes `key` from `bag`: a top-level key, or a JSONPath `$.a.b` / `$['a']['b']`.
fn remove_path(bag: &mut Value, key: &str) {
    let path: Vec<String> = match key.strip_prefix('$') {
        Some(rest) => rest
            .split(['.', '['])
            .map(|p| p.trim_end_matches(']').trim_matches(['\'', '"']).to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        None => vec![key.to_owned()],
    };
    let Some((last, parents)) = path.split_last() else { return };
    let mut node = bag;
    for p in parents {
        match node.get_mut(p.as_str()) {
            Some(next) => node = next,
            None => return,
        }
    }
    if let Value::Object(m) = node {
        m.remove(last.as_str());
    }
}

/// Synthetic locations: `(country, state, city, latitude, longitude)`.
const PLACES: &[(&str, &str, &str, f64, f64)] = &[
    ("United States", "Washington", "Seattle", 47.6062, -122.3321),
    ("United States", "Virginia", "Ashburn", 39.0438, -77.4874),
    ("United Kingdom", "England", "London", 51.5074, -0.1278),
    ("Germany", "Hesse", "Frankfurt am Main", 50.1109, 8.6821),
    ("Netherlands", "North Holland", "Amsterdam", 52.3676, 4.9041),
    ("Japan", "Tokyo", "Tokyo", 35.6762, 139.6503),
    ("Russia", "Moscow", "Moscow", 55.7558, 37.6173),
    ("China", "Beijing", "Beijing", 39.9042, 116.4074),
    ("Brazil", "Sao Paulo", "Sao Paulo", -23.5505, -46.6333),
    ("Nigeria", "Lagos", "Lagos", 6.5244, 3.3792),
];

/// `geo_info_from_ip_address`: an empty bag for private, loopback, link-local and unreadable
/// addresses (no location), else a location drawn from the address.
fn geo_info(text: &str) -> Value {
    let text = text.trim();
    let key = match (ipv4(text), text.parse::<std::net::Ipv6Addr>()) {
        (Some(ip), _) => {
            let private = [(0x0a00_0000, 8), (0xac10_0000, 12), (0xc0a8_0000, 16)]
                .iter()
                .chain(&[(0x7f00_0000, 8), (0xa9fe_0000, 16), (0, 8)])
                .any(|&(net, bits)| super::text::in_prefix(ip, net, bits));
            if private {
                return json!({});
            }
            u64::from(ip)
        }
        (None, Ok(ip6)) => {
            let first = ip6.segments()[0];
            if ip6.is_loopback() || ip6.is_unspecified() || first & 0xfe00 == 0xfc00 {
                return json!({});
            }
            if first & 0xffc0 == 0xfe80 {
                return json!({});
            }
            (u128::from(ip6) >> 64) as u64
        }
        _ => return json!({}),
    };
    let h = key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    let (country, state, city, latitude, longitude) = PLACES[(h % PLACES.len() as u64) as usize];
    json!({"country": country, "state": state, "city": city,
        "latitude": latitude, "longitude": longitude})
}

/// `parse_version`: up to four dot-separated parts of at most 8 digits, as one number
/// (`a * 10^24 + b * 10^16 + c * 10^8 + d`); null when the text is not a version.
fn parse_version(text: &str) -> Option<f64> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut value: u128 = 0;
    for i in 0..4 {
        let part = match parts.get(i) {
            Some(p) if !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u128>().ok()?
            }
            Some(_) => return None,
            None => 0,
        };
        value = value * 100_000_000 + part;
    }
    Some(value as f64)
}

/// `format_timespan(t, format)` (ticks): `d`…`dddddddd` days, `h`/`hh` and `H`/`HH` hours,
/// `m`/`mm`, `s`/`ss`, `f`… fractions, `F`… fractions without trailing zeros, the separators
/// Kusto allows, and text in quotes or after `\`. Null for an unknown specifier.
fn format_timespan(ticks: i64, format: &str) -> Option<String> {
    const TICKS_PER_SECOND: i64 = 10_000_000;
    let negative = ticks < 0;
    let t = ticks.unsigned_abs();
    let second = TICKS_PER_SECOND as u64;
    let (days, hours) = (t / (86_400 * second), t / (3600 * second) % 24);
    let (minutes, seconds, fraction) = (t / (60 * second) % 60, t / second % 60, t % second);
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let chars: Vec<char> = format.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let run = chars[i..].iter().take_while(|&&x| x == c).count();
        match c {
            'd' => out.push_str(&format!("{days:0run$}")),
            'h' | 'H' if run <= 2 => out.push_str(&format!("{hours:0run$}")),
            'm' if run <= 2 => out.push_str(&format!("{minutes:0run$}")),
            's' if run <= 2 => out.push_str(&format!("{seconds:0run$}")),
            'f' | 'F' if run <= 7 => {
                let digits = format!("{fraction:07}");
                let kept = &digits[..run];
                if c == 'F' {
                    out.push_str(kept.trim_end_matches('0'));
                } else {
                    out.push_str(kept);
                }
            }
            '\'' | '"' => {
                let end = chars[i + 1..].iter().position(|&x| x == c)? + i + 1;
                out.extend(&chars[i + 1..end]);
                i = end + 1;
                continue;
            }
            '\\' => {
                out.push(*chars.get(i + 1)?);
                i += 2;
                continue;
            }
            ' ' | '/' | '-' | ':' | ',' | '.' | '_' | '[' | ']' => {
                out.extend(std::iter::repeat_n(c, run));
            }
            _ => return None,
        }
        i += run;
    }
    Some(out)
}

/// The scalar `range(start, stop [, step])`: the values from `start` to `stop` inclusive,
/// `step` apart (1 by default, or 1 hour for datetimes); null past Kusto's array limit.
fn range(start: &V<'_>, stop: &V<'_>, step: Option<&V<'_>>) -> V<'static> {
    let items: Option<Vec<Value>> = match (start, stop, step) {
        (V::Int(a), V::Int(b), None | Some(V::Int(_))) => {
            let s = match step {
                Some(V::Int(s)) => *s,
                _ => 1,
            };
            steps(*a as f64, *b as f64, s as f64)
                .map(|v| v.into_iter().map(|x| json!(x as i64)).collect())
        }
        (V::Int(_) | V::Real(_), V::Int(_) | V::Real(_), None | Some(V::Int(_) | V::Real(_))) => {
            let num = |v: &V<'_>| match v {
                V::Int(x) => *x as f64,
                V::Real(x) => *x,
                _ => 1.0,
            };
            steps(num(start), num(stop), step.map_or(1.0, num))
                .map(|v| v.into_iter().map(|x| json!(x)).collect())
        }
        (V::Time(a), V::Time(b), None | Some(V::Span(_))) => {
            let s = match step {
                Some(V::Span(s)) => *s,
                _ => 36_000_000_000,
            };
            steps(*a as f64, *b as f64, s as f64).map(|v| {
                v.into_iter()
                    .map(|x| json!(crate::emulator::kql::format_datetime(x as i64)))
                    .collect()
            })
        }
        _ => None,
    };
    items.map_or(V::Null, |a| V::Dyn(Cow::Owned(Value::Array(a))))
}

/// The points from `a` towards `b` inclusive, `step` apart; `None` when there would be more
/// than [`MAX_RANGE`], or the step is 0 or points away from `b` (unless `a == b`).
fn steps(a: f64, b: f64, step: f64) -> Option<Vec<f64>> {
    if a == b {
        return Some(vec![a]);
    }
    if step == 0.0 || !step.is_finite() || (b - a) * step < 0.0 {
        return None;
    }
    let n = ((b - a) / step).floor() as usize + 1;
    (n <= MAX_RANGE).then(|| (0..n).map(|i| a + i as f64 * step).collect())
}
