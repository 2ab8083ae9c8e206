//! `evaluate ipv4_lookup(LookupTable, SourceIP, IPRange [, return_unmatched = bool])`: each
//! row joined with the lookup rows whose IPv4 range (`a.b.c.d/bits` or an address) holds the
//! row's address; rows without a match are dropped, or kept with empty lookup columns when
//! `return_unmatched` is true.

use super::aggregate::split_alias;
use super::bind::Binder;
use super::scalar::B;
use super::tabular::unique;
use super::{Eval, Table};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::V;
use crate::kql::syntax::tree::Expr;

/// An IPv4 range: network and prefix length.
type Range = (u32, u32);

/// `a.b.c.d[/bits]` as (network, bits).
fn range(text: &str) -> Option<Range> {
    let (ip, bits) = match text.trim().split_once('/') {
        Some((ip, bits)) => (ip, bits.trim().parse::<u32>().ok().filter(|b| *b <= 32)?),
        None => (text.trim(), 32),
    };
    Some((u32::from(ip.trim().parse::<std::net::Ipv4Addr>().ok()?), bits))
}

fn contains((net, bits): Range, ip: u32) -> bool {
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    ip & mask == net & mask
}

impl<'a> Eval<'a> {
    pub(crate) fn ipv4_lookup(&self, args: &'a [Expr], input: Table) -> Result<Table, KqlError> {
        let b = Binder::new(self, "evaluate");
        let usage = || {
            b.error("ipv4_lookup(LookupTable, SourceIPColumn, IPRangeColumn [, return_unmatched = bool])")
        };
        let (
            Some(table),
            Some(Expr::Name { name: source, .. }),
            Some(Expr::Name { name: key, .. }),
        ) = (args.first(), args.get(1), args.get(2))
        else {
            return Err(usage());
        };
        let mut unmatched = false;
        for extra in args.iter().skip(3) {
            match split_alias(extra) {
                (Some(n), e) if n == "return_unmatched" => match b.bind(e, &Vec::new())?.0 {
                    B::Const(V::Bool(v)) => unmatched = v,
                    _ => return Err(usage()),
                },
                _ => return Err(usage()),
            }
        }
        let lookup = self.tabular(table)?;
        let (source, key) = (name_text(source), name_text(key));
        let s = input
            .schema
            .iter()
            .position(|(n, _)| *n == source)
            .ok_or_else(|| b.unresolved(&source))?;
        let k =
            lookup.schema.iter().position(|(n, _)| *n == key).ok_or_else(|| b.unresolved(&key))?;
        let ranges: Vec<(Option<Range>, Vec<Cell>)> = lookup
            .rows
            .map(|r| {
                let net = match r.get(k) {
                    Some(Cell::Str(t)) => range(t),
                    _ => None,
                };
                (net, r)
            })
            .collect();
        let mut schema = input.schema.clone();
        for (n, t) in &lookup.schema {
            schema.push((unique(&schema, n), *t));
        }
        let width = lookup.schema.len();
        let rows = input.rows.flat_map(move |row| {
            let ip = match row.get(s) {
                Some(Cell::Str(t)) => t.trim().parse::<std::net::Ipv4Addr>().ok().map(u32::from),
                _ => None,
            };
            let mut out: Vec<Vec<Cell>> = ranges
                .iter()
                .filter(|(net, _)| matches!((net, ip), (Some(net), Some(ip)) if contains(*net, ip)))
                .map(|(_, l)| row.iter().chain(l.iter()).cloned().collect())
                .collect();
            if out.is_empty() && unmatched {
                out.push(
                    row.iter().cloned().chain(std::iter::repeat_n(Cell::Null, width)).collect(),
                );
            }
            out
        });
        Ok(Table { schema, rows: Box::new(rows) })
    }
}
