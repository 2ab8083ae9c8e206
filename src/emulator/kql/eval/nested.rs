//! `top-nested`: a hierarchy of top-N aggregations. Each level groups the rows of its parent
//! group by its `of` expression, aggregates each group, and keeps the N groups with the
//! largest (or, with `asc`, smallest) aggregate; the output has one row per leaf, with each
//! level's value and aggregate (`aggregated_<Name>` unless named) side by side.
//!
//! `with others = v` (a row per level for the groups left out) is refused by name rather
//! than answered without it.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::aggregate::{BAgg, Key, key_of, split_alias};
use super::bind::Binder;
use super::scalar::B;
use super::{Rows, Schema};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::{Ty, V, cell_value, compare, to_cell};
use crate::kql::syntax::tree::{Expr, Operator};

/// One level: how many groups it keeps (all: None), what it groups by, its aggregate and
/// whether the smallest come first.
pub(crate) struct Level {
    n: Option<usize>,
    of: (B, Ty),
    agg: BAgg,
    agg_ty: Ty,
    asc: bool,
}

/// A bound `top-nested`.
pub(crate) struct TopNested {
    levels: Vec<Level>,
}

/// Binds the levels of `op` over `schema`, which becomes the output's: per level, its value
/// column and its aggregate column.
pub(crate) fn bind<'a>(
    b: &Binder<'_, 'a>,
    op: &'a Operator,
    schema: &mut Schema,
) -> Result<TopNested, KqlError> {
    let mut out: Schema = Vec::new();
    let mut levels = Vec::new();
    let mut clauses = op.clauses.iter().peekable();
    while let Some(head) = clauses.next() {
        if head.keyword.as_deref() != Some("top-nested") {
            return Err(b.error("expected 'top-nested'"));
        }
        let n = match head.items.first() {
            None => None,
            Some(e) => match b.bind(e, schema)?.0 {
                B::Const(V::Int(n)) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Err(b.error("Expected a non-negative constant integer count")),
            },
        };
        let of = clauses.next().and_then(|c| c.items.first());
        let Some(of) = of else { return Err(b.error("expected 'of'")) };
        let (alias, e) = split_alias(of);
        let (of_b, of_ty) = b.bind(e, schema)?;
        let name = match (alias, e) {
            (Some(a), _) => a,
            (None, Expr::Name { name, .. }) => name_text(name).into_owned(),
            (None, _) => format!("Column{}", levels.len() + 1),
        };
        if clauses.peek().is_some_and(|c| c.keyword.as_deref() == Some("others")) {
            return Err(b.error("'with others' is not supported by the emulator"));
        }
        let by =
            clauses.next().filter(|c| c.keyword.as_deref().is_some_and(|k| k.starts_with("by")));
        let Some(by) = by else { return Err(b.error("expected 'by' and an aggregation")) };
        let item = by.items.first().ok_or_else(|| b.error("expected an aggregation"))?;
        let (agg_alias, _) = split_alias(item);
        let (agg, columns) = b.agg(item, schema, &[])?;
        let [(_, agg_ty)] = columns[..] else {
            return Err(b.error("the aggregation of a 'top-nested' level gives one column"));
        };
        out.push((name.clone(), of_ty));
        out.push((agg_alias.unwrap_or_else(|| format!("aggregated_{name}")), agg_ty));
        let asc = by.keyword.as_deref() == Some("by asc");
        levels.push(Level { n, of: (of_b, of_ty), agg, agg_ty, asc });
    }
    if levels.is_empty() {
        return Err(b.error("expected 'top-nested N of … by …'"));
    }
    *schema = out;
    Ok(TopNested { levels })
}

impl TopNested {
    /// The rows of the hierarchy over `rows`.
    pub(crate) fn run(self, rows: Rows) -> Vec<Vec<Cell>> {
        let rows: Vec<Vec<Cell>> = rows.collect();
        nest(rows, &self.levels)
    }
}

/// The leaves under `rows` for `levels`, each as its cells from this level down.
fn nest(rows: Vec<Vec<Cell>>, levels: &[Level]) -> Vec<Vec<Cell>> {
    let Some((level, below)) = levels.split_first() else { return vec![Vec::new()] };
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut groups: Vec<(Cell, Vec<Vec<Cell>>)> = Vec::new();
    for row in rows {
        let cell = to_cell(level.of.0.eval(&row), level.of.1);
        let g = *index.entry(key_of(&cell)).or_insert_with(|| {
            groups.push((cell, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(row);
    }
    let mut scored: Vec<(Cell, Cell, Vec<Vec<Cell>>)> = groups
        .into_iter()
        .map(|(value, members)| {
            let mut state = level.agg.start();
            for row in &members {
                state.add(&level.agg, row);
            }
            let mut agg = Vec::with_capacity(1);
            state.finish(&level.agg.types, &mut agg);
            (value, agg.pop().unwrap_or(Cell::Null), members)
        })
        .collect();
    // Largest first (smallest with `asc`); nulls last either way; ties keep first appearance.
    scored.sort_by(|a, b| {
        let (x, y) = (cell_value(&a.1, level.agg_ty), cell_value(&b.1, level.agg_ty));
        match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let o = compare(&x, &y).unwrap_or(Ordering::Equal);
                if level.asc { o } else { o.reverse() }
            }
        }
    });
    scored.truncate(level.n.unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for (value, agg, members) in scored {
        for leaf in nest(members, below) {
            let mut row = Vec::with_capacity(2 + leaf.len());
            row.push(value.clone());
            row.push(agg.clone());
            row.extend(leaf);
            out.push(row);
        }
    }
    out
}
