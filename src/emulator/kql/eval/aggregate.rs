//! `summarize`: the aggregation functions (their binding, default output names and running
//! state) and the grouping of rows by their `by` values.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::bind::Binder;
use super::scalar::B;
use super::{Rows, Schema};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::{
    BinOp, DYN, INT, LONG, REAL, SPAN, Ty, V, arith, compare, to_cell,
};
use crate::kql::syntax::tree::Expr;

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
pub(crate) struct BAgg {
    init: AggState,
    arg: Option<B>,
    pub(crate) ty: Ty,
}

/// A hashable image of a cell, for grouping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Null,
    Str(String),
    Int(i64),
    Real(u64),
    Bool(bool),
    Time(i64),
    Dyn(String),
}

pub(crate) fn key_of(c: &Cell) -> Key {
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

pub(crate) fn summarize(rows: Rows, by: &[(B, Ty)], aggs: &[BAgg]) -> Vec<Vec<Cell>> {
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

impl<'a> Binder<'_, 'a> {
    /// Binds one aggregate item of `summarize` (`[Name =] f(args)`): its state, argument, type
    /// and output name.
    pub(crate) fn agg(&self, item: &'a Expr, schema: &Schema) -> Result<(BAgg, String), KqlError> {
        let (alias, e) = split_alias(item);
        let Expr::Call { callee, args, .. } = e else {
            return Err(self.error("expected an aggregation function call, like count()"));
        };
        let Expr::Name { name, .. } = callee.as_ref() else {
            return Err(self.error("expected an aggregation function call, like count()"));
        };
        let f = name.as_str();
        let want = if f == "count" { 0 } else { 1 };
        if args.len() != want {
            let known = ["count", "countif", "dcount", "min", "max", "sum", "avg"].contains(&f);
            return Err(if known {
                self.error(format!("function '{f}' expects {want} argument(s), got {}", args.len()))
            } else {
                self.error(format!("Unknown aggregation function: '{f}'"))
            });
        }
        let arg = args.first().map(|a| self.bind(a, schema)).transpose()?;
        let arg_ty = arg.as_ref().map_or(LONG, |a| a.1);
        let col = match args.first() {
            Some(Expr::Name { name, .. }) => name_text(name).into_owned(),
            _ => String::new(),
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
                    _ => return Err(self.error(format!("sum() of {arg_ty} is not supported"))),
                };
                (AggState::Sum(V::Null), ty, format!("sum_{col}"))
            }
            "avg" => (AggState::Avg(0.0, 0), REAL, format!("avg_{col}")),
            _ => return Err(self.error(format!("Unknown aggregation function: '{f}'"))),
        };
        let name = alias.unwrap_or(default);
        Ok((BAgg { init, arg: arg.map(|a| a.0), ty }, name))
    }
}

/// `Name = expr` as `(Some(Name), expr)`, anything else as `(None, item)`.
pub(crate) fn split_alias(item: &Expr) -> (Option<String>, &Expr) {
    match item {
        Expr::Binary { op, lhs, rhs, .. } if op == "=" => match lhs.as_ref() {
            Expr::Name { name, .. } => (Some(name_text(name).into_owned()), rhs),
            _ => (None, item),
        },
        _ => (None, item),
    }
}
