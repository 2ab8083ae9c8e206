//! The emulator's KQL: queries are parsed by hunt's one KQL parser ([`crate::kql::syntax`])
//! and the tree is evaluated over the synthetic tables of `data`. Anything it does not
//! evaluate is refused with a Kusto-style message naming the construct, which the server
//! returns as 400 `BadRequest`: it never answers a query it did not evaluate.
//!
//! Supported: a table name as the source, then `where`/`filter`, `project`, `project-away`,
//! `project-rename`, `extend`, `take`/`limit`, `count`, `summarize … [by …]` (count, countif,
//! dcount, min, max, sum, avg), `distinct`, `order by`/`sort by` and `top N by`. The query's
//! `timespan` window always applies, and leading `Timestamp` predicates narrow the generated
//! range further, so nothing outside them is ever produced.
//!
//! The work is split into [`literal`] (the values of literals), [`eval`] (name binding, typing
//! and the lazy row pipeline) and [`value`] (the operators' semantics on values).

mod eval;
mod invariant;
mod literal;
mod value;

use super::data::Cell;
use crate::decode::{civil_from_days, days_from_civil};

/// A result: columns with their service type names, and rows (produced lazily).
pub struct ResultSet {
    /// `(name, service type)` in output order, e.g. `("Timestamp", "DateTime")`.
    pub columns: Vec<(String, String)>,
    /// The rows, each with one cell per column.
    pub rows: Box<dyn Iterator<Item = Vec<Cell>> + Send>,
}

/// A query the emulator refuses, with a message in the service's style.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KqlError {
    /// e.g. `Syntax error: Query could not be parsed at 'x' on line [1,5]`.
    pub message: String,
}

/// Local files that stand in for `externaldata` URLs: URL as written in the query → file.
pub type ExternalData = std::sync::Arc<std::collections::BTreeMap<String, std::path::PathBuf>>;

/// Where and how densely to evaluate.
#[derive(Debug, Clone)]
pub struct Context {
    /// The `timespan` window, in 100 ns ticks since the Unix epoch, half-open.
    pub window: (i64, i64),
    /// "now" for `ago()`, in ticks.
    pub now: i64,
    /// Synthetic events per hour per table (the configured density: a tenant's own volume
    /// is applied by `data::tenant_rows`).
    pub events_per_hour: u32,
    /// The files `externaldata` reads instead of its URLs (the emulator has no network); a URL
    /// without one is refused.
    pub externaldata: ExternalData,
    /// Model a tenant whose Defender XDR tables are streamed to a Microsoft Sentinel workspace
    /// and queried in the unified Defender portal: every table with a `Timestamp` also has a
    /// `TimeGenerated` (equal to it here). Microsoft documents that column only for streamed
    /// tables ("Advanced hunting with Microsoft Sentinel data in Microsoft Defender portal",
    /// learn.microsoft.com/defender-xdr/advanced-hunting-microsoft-defender, Known issues), so
    /// it is off by default, as in a tenant without Sentinel.
    pub sentinel_streamed: bool,
    /// The data seed of the tenant whose tables are read (`data::tenant_seed`; 0: the
    /// default tenant).
    pub tenant: u64,
}

/// Parses and evaluates `query`. Parsing and binding run on a thread with a large stack: a
/// syntax tree thousands of levels deep (`a and a and …`) is built, bound and dropped there,
/// and only the bound, shallow plan comes back.
pub fn execute(query: &str, ctx: &Context) -> Result<ResultSet, KqlError> {
    let work = || {
        let parsed = crate::kql::syntax::parse(query);
        let Some(script) = parsed.script else {
            let e = parsed.errors.into_iter().next();
            return Err(match e {
                Some(e) => parse_error(query, e.offset, &e.message),
                None => syntax_error(query, query.len(), ""),
            });
        };
        eval::run(query, &script, ctx)
    };
    std::thread::scope(|scope| {
        match std::thread::Builder::new().stack_size(EVAL_STACK).spawn_scoped(scope, work) {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(KqlError {
                    message: "internal error: the emulator failed on this query".into(),
                })
            }),
            Err(e) => {
                Err(KqlError { message: format!("cannot start the emulator's evaluator: {e}") })
            }
        }
    })
}

/// The stack of the thread that parses and binds a query.
const EVAL_STACK: usize = 64 << 20;

/// A parse error, Kusto-style, with the parser's explanation: `Syntax error: Query could not
/// be parsed at '<token>' on line [L,C]: <what>`.
fn parse_error(src: &str, offset: usize, what: &str) -> KqlError {
    let lexed = crate::kql::lex(src);
    let token = lexed
        .code()
        .find(|t| t.end() > offset)
        .filter(|t| t.pos.offset <= offset)
        .map_or(String::new(), |t| t.text.chars().take(64).collect());
    let mut e = syntax_error(src, offset, &token);
    e.message.push_str(": ");
    e.message.push_str(what);
    e
}

/// The operators the emulator evaluates, as listed in its refusals.
pub const SUPPORTED_OPERATORS: &str = "let, where, project, project-away, project-keep, \
     project-rename, project-reorder, extend, take, limit, count, summarize [by], distinct, \
     order by, sort by, top, join, lookup, union, mv-expand, mv-apply, parse, parse-where, \
     make-series, search, find, getschema, partition, serialize, invoke, evaluate bag_unpack, evaluate pivot, evaluate ipv4_lookup, datatable, print, range, render";

const TICKS_PER_DAY: i64 = 864_000_000_000;

/// `Syntax error: Query could not be parsed at '<token>' on line [L,C]` for the token at byte
/// offset `pos` of `src` (1-based line and column, columns counted in characters).
pub fn syntax_error(src: &str, pos: usize, token: &str) -> KqlError {
    let (line, col) = line_col(src, pos);
    KqlError {
        message: format!(
            "Syntax error: Query could not be parsed at '{token}' on line [{line},{col}]"
        ),
    }
}

/// 1-based line and column (in characters) of byte offset `pos`.
pub fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let mut pos = pos.min(src.len());
    while !src.is_char_boundary(pos) {
        pos -= 1;
    }
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A semantic error: `'<op>' operator: <what>`.
fn op_error(op: &str, what: impl std::fmt::Display) -> KqlError {
    KqlError { message: format!("'{op}' operator: {what}") }
}

/// The refusal of a real Kusto operator or statement the emulator does not implement.
fn unsupported(what: &str, kind: &str) -> KqlError {
    KqlError {
        message: format!(
            "'{what}' {kind} is not supported by the hunt emulator (supported: {SUPPORTED_OPERATORS})"
        ),
    }
}

/// Parses a KQL datetime literal's text: `2026-11-20`, `2026-11-20T10:00:00Z`,
/// `2026-11-20 10:00:00.1234567`, `2026-11-20T10:00Z` (UTC; optional quotes), RFC 822/850,
/// and the invariant-culture dates Kusto falls back to (`01/16/2022 10:00:00`). Ticks since
/// the Unix epoch. A time alone (`8:00 AM`) needs a "now": see [`parse_datetime_at`].
pub fn parse_datetime(text: &str) -> Option<i64> {
    parse_datetime_at(text, None)
}

/// [`parse_datetime`], where a time alone (`8:00:00 AM`, `17:30`) is that time on the UTC day
/// of `now` (ticks), as .NET's `DateTime.Parse` reads it.
pub fn parse_datetime_at(text: &str, now: Option<i64>) -> Option<i64> {
    let t = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    iso_or_rfc(t).or_else(|| invariant::parse(t, now))
}

/// ISO 8601 or RFC 822/850 text (quotes already removed), in ticks.
fn iso_or_rfc(t: &str) -> Option<i64> {
    // The `%Z` of the RFC 822, RFC 850 and sortable formats: a named UTC zone.
    let t = ["GMT", "UTC"]
        .iter()
        .find_map(|z| {
            let cut = t.len().checked_sub(z.len())?;
            (t.is_char_boundary(cut) && t[cut..].eq_ignore_ascii_case(z))
                .then(|| t[..cut].trim_end())
        })
        .unwrap_or(t);
    if let Some(iso) = rfc_date(t) {
        return iso_or_rfc(&iso);
    }
    let t = t.strip_suffix(['Z', 'z']).unwrap_or(t);
    let (date, time) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], t[i + 1..].trim()),
        None => (t, ""),
    };
    let num = |s: &str, min: usize, max: usize| -> Option<i64> {
        (s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut dp = date.split('-');
    let y = num(dp.next()?, 4, 4)?;
    let m = num(dp.next()?, 1, 2)?;
    let d = num(dp.next()?, 1, 2)?;
    if dp.next().is_some() || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let month_days =
        days_from_civil(y + (m == 12) as i64, m % 12 + 1, 1) - days_from_civil(y, m, 1);
    if d > month_days {
        return None;
    }
    let mut ticks = days_from_civil(y, m, d) * TICKS_PER_DAY;
    // A trailing UTC offset: `+02:00`, `-0530`.
    let (time, offset) = match time.rfind(['+', '-']) {
        Some(i) => {
            let zone = &time[i + 1..];
            let (hh, mm) = match zone.split_once(':') {
                Some(parts) => parts,
                None if zone.len() == 4 && zone.is_ascii() => zone.split_at(2),
                None => return None,
            };
            let minutes = num(hh, 2, 2)? * 60 + num(mm, 2, 2)?;
            let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
            (time[..i].trim(), sign * minutes * 600_000_000)
        }
        None => (time, 0),
    };
    ticks -= offset;
    if !time.is_empty() {
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let mut tp = hms.split(':');
        let h = num(tp.next()?, 1, 2)?;
        let mi = num(tp.next()?, 1, 2)?;
        let s = tp.next().map_or(Some(0), |s| num(s, 1, 2))?;
        if tp.next().is_some() || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        ticks += ((h * 60 + mi) * 60 + s) * 10_000_000;
        if let Some(f) = frac {
            let f = num(f, 1, 9)?;
            let digits = frac.map_or(0, str::len) as u32;
            ticks +=
                if digits <= 7 { f * 10i64.pow(7 - digits) } else { f / 10i64.pow(digits - 7) };
        }
    }
    Some(ticks)
}

/// An RFC 822 (`Sat, 8 Nov 14 15:05:02`) or RFC 850 (`Saturday, 08-Nov-14 15:05`) datetime,
/// its zone already removed, rewritten as ISO 8601 (`2014-11-08 15:05:02`). These are the
/// formats Kusto documents besides ISO 8601 ("The datetime data type", Supported formats,
/// learn.microsoft.com/kusto/query/scalar-data-types/datetime); a two-digit year is 2000–2049
/// up to 49, else 1950–1999, as .NET reads it.
fn rfc_date(t: &str) -> Option<String> {
    let rest = match t.split_once(',') {
        Some((day, rest)) if day.trim().chars().all(|c| c.is_ascii_alphabetic()) => rest.trim(),
        Some(_) => return None,
        None => t,
    };
    let mut words = rest.split_whitespace();
    let first = words.next()?;
    let (d, mon, y) = match first.split('-').collect::<Vec<_>>()[..] {
        [d, mon, y] => (d, mon, y),
        [d] => (d, words.next()?, words.next()?),
        _ => return None,
    };
    let time = words.next()?;
    if words.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let m = MONTHS.iter().position(|n| mon.len() >= 3 && n.eq_ignore_ascii_case(&mon[..3]))? + 1;
    let digits = |s: &str, n: std::ops::RangeInclusive<usize>| {
        (n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())?
    };
    let d = digits(d, 1..=2)?;
    let y = match y.len() {
        2 => digits(y, 2..=2).map(|y| if y <= 49 { 2000 + y } else { 1900 + y })?,
        _ => digits(y, 4..=4)?,
    };
    Some(format!("{y:04}-{m:02}-{d:02} {time}"))
}

/// `2026-11-20T10:00:00.1234567Z` with trailing fractional zeros removed (no fraction at all
/// on a whole second), as the service writes datetimes.
pub fn format_datetime(ticks: i64) -> String {
    let days = ticks.div_euclid(TICKS_PER_DAY);
    let rem = ticks.rem_euclid(TICKS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 10_000_000;
    let frac = rem % 10_000_000;
    let mut out =
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        let f = format!(".{frac:07}");
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// .NET `TimeSpan` text: `[-][d.]hh:mm:ss[.fffffff]`, e.g. `1.00:00:00`, `01:00:00`,
/// `00:00:00.1234567`.
pub fn format_timespan(ticks: i64) -> String {
    let neg = ticks < 0;
    let t = ticks.unsigned_abs();
    let day = TICKS_PER_DAY as u64;
    let (d, rem) = (t / day, t % day);
    let secs = rem / 10_000_000;
    let frac = rem % 10_000_000;
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if d > 0 {
        out.push_str(&format!("{d}."));
    }
    out.push_str(&format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
    if frac != 0 {
        out.push_str(&format!(".{frac:07}"));
    }
    out
}

/// Parses .NET `TimeSpan` text (`[-][d.]hh:mm[:ss[.fffffff]]`) or a KQL timespan literal
/// (`1d`, `1.5h`, `30m`), in ticks.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let t = text.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if let Some(v) = literal::parse_span_literal(t) {
        return Some(v);
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut parts = t.split(':');
    let first = parts.next()?;
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (num(d)?, num(h)?),
        None => (0, num(first)?),
    };
    let minutes = num(parts.next()?)?;
    let (secs, frac) = match parts.next() {
        Some(s) => match s.split_once('.') {
            Some((s, f)) if f.len() <= 7 => (num(s)?, num(f)? * 10i64.pow(7 - f.len() as u32)),
            Some(_) => return None,
            None => (num(s)?, 0),
        },
        None => (0, 0),
    };
    if parts.next().is_some() || hours > 23 || minutes > 59 || secs > 59 {
        return None;
    }
    let v = days
        .checked_mul(TICKS_PER_DAY)?
        .checked_add(((hours * 60 + minutes) * 60 + secs) * 10_000_000 + frac)?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_extra;
#[cfg(test)]
mod tests_fns;
#[cfg(test)]
mod tests_let;
#[cfg(test)]
mod tests_more;
#[cfg(test)]
mod tests_ops;
#[cfg(test)]
mod tests_series;
#[cfg(test)]
mod tests_summarize;
