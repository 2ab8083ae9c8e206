//! `summarize`: the aggregation functions (their binding, default output names and running
//! state) and the grouping of rows by their `by` values.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::bind::Binder;
use super::scalar::B;
use super::tabular::inferred_name;
use super::{Rows, Schema};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::{
    BinOp, DYN, INT, LONG, REAL, SPAN, Ty, V, arith, compare, to_cell,
};
use crate::kql::syntax::tree::Expr;
use serde_json::Value;

/// An aggregate's running state.
#[derive(Debug, Clone)]
pub(crate) enum AggState {
    Count(i64),
    CountIf(i64),
    DCount(HashSet<Key>),
    Min(V<'static>),
    Max(V<'static>),
    Sum(V<'static>),
    Avg(f64, i64),
    /// `make_set`: the values in first-seen order, the keys seen, the cap.
    MakeSet(Vec<Value>, HashSet<Key>, usize),
    /// `make_list`: the values, the cap.
    MakeList(Vec<Value>, usize),
    /// `take_any`: the first non-null value.
    Any(V<'static>),
    /// `arg_max`/`arg_min`: the best value so far and the outputs of its row.
    Arg(V<'static>, Vec<Cell>, bool),
    /// `percentile(s)`: the values, and the percentages asked for.
    Values(Vec<V<'static>>, Vec<f64>),
    /// `make_bag`: the merged property bag, and its cap.
    Bag(serde_json::Map<String, Value>, usize),
    /// `stdev`, `variance` and their population forms: count, sum, sum of squares, and
    /// whether the result is a population (`…p`) and a standard deviation (not a variance).
    Moments(f64, f64, f64, bool, bool),
    /// `take_any(a, b, …)`: the outputs of the first row.
    First(Option<Vec<Cell>>),
}

/// Replaces `best` by `v` when `v` is not null and `better(v vs best)`.
fn keep_best(best: &mut V<'static>, v: V<'_>, better: fn(Ordering) -> bool) {
    if !v.is_null() && (best.is_null() || compare(&v, best).is_some_and(better)) {
        *best = v.owned();
    }
}

/// A bound aggregate: its state, argument, predicate (`…if`), the outputs of `arg_max`, and
/// the types of its output columns.
#[derive(Debug, Clone)]
pub(crate) struct BAgg {
    init: AggState,
    arg: Option<B>,
    pred: Option<B>,
    outputs: Vec<(B, Ty)>,
    pub(crate) types: Vec<Ty>,
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
    pub(crate) fn add(&mut self, agg: &BAgg, row: &[Cell]) {
        if let Some(p) = &agg.pred
            && !p.truthy(row)
        {
            return;
        }
        let v = || agg.arg.as_ref().map_or(V::Null, |a| a.eval(row).norm());
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
            AggState::MakeSet(items, seen, cap) => {
                let v = agg.arg.as_ref().map_or(V::Null, |a| a.eval(row));
                for item in spread(v) {
                    if items.len() < *cap && seen.insert(key_of(&Cell::Dyn(item.clone()))) {
                        items.push(item);
                    }
                }
            }
            AggState::MakeList(items, cap) => {
                let v = agg.arg.as_ref().map_or(V::Null, |a| a.eval(row));
                for item in spread(v) {
                    if items.len() < *cap {
                        items.push(item);
                    }
                }
            }
            AggState::Any(best) => {
                if best.is_null() {
                    *best = v().owned();
                }
            }
            AggState::Values(values, _) => {
                let v = v();
                if !v.is_null() {
                    values.push(v.owned());
                }
            }
            AggState::Bag(bag, cap) => {
                if let Some(V::Dyn(d)) = agg.arg.as_ref().map(|a| a.eval(row))
                    && let Value::Object(m) = d.as_ref()
                {
                    for (k, v) in m {
                        if bag.len() < *cap && !bag.contains_key(k) {
                            bag.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            AggState::Moments(n, sum, squares, ..) => {
                let x = match v() {
                    V::Int(x) => x as f64,
                    V::Real(x) => x,
                    _ => return,
                };
                (*n, *sum, *squares) = (*n + 1.0, *sum + x, *squares + x * x);
            }
            AggState::First(cells) => {
                if cells.is_none() {
                    *cells =
                        Some(agg.outputs.iter().map(|(e, ty)| to_cell(e.eval(row), ty)).collect());
                }
            }
            AggState::Arg(best, cells, max) => {
                let v = v();
                let better = if *max { Ordering::is_gt } else { Ordering::is_lt };
                if !v.is_null() && (best.is_null() || compare(&v, best).is_some_and(better)) {
                    *best = v.owned();
                    *cells = agg.outputs.iter().map(|(e, ty)| to_cell(e.eval(row), ty)).collect();
                }
            }
        }
    }

    pub(crate) fn finish(self, types: &[Ty], out: &mut Vec<Cell>) {
        let ty = types.first().copied().unwrap_or(DYN);
        let cell = match self {
            AggState::Count(n) | AggState::CountIf(n) => Cell::Int(n),
            AggState::DCount(set) => Cell::Int(set.len() as i64),
            AggState::Min(v) | AggState::Max(v) | AggState::Sum(v) | AggState::Any(v) => {
                to_cell(v, ty)
            }
            AggState::Avg(_, 0) => Cell::Null,
            AggState::Avg(sum, n) => Cell::Real(sum / n as f64),
            AggState::MakeSet(items, ..) | AggState::MakeList(items, _) => {
                Cell::Dyn(Value::Array(items))
            }
            AggState::Bag(bag, _) => Cell::Dyn(Value::Object(bag)),
            AggState::Moments(n, ..) if n < 1.0 => Cell::Null,
            AggState::Moments(n, sum, squares, population, root) => {
                let mean = sum / n;
                let deviations = (squares - n * mean * mean).max(0.0);
                let divisor = if population { n } else { (n - 1.0).max(1.0) };
                let variance = deviations / divisor;
                Cell::Real(if root { variance.sqrt() } else { variance })
            }
            AggState::First(cells) => {
                let n = types.len();
                out.extend(
                    cells
                        .unwrap_or_default()
                        .into_iter()
                        .chain(std::iter::repeat(Cell::Null))
                        .take(n),
                );
                return;
            }
            AggState::Values(mut values, percents) => {
                // Nearest rank: the value at rank ceil(p/100 * n), the smallest for p = 0.
                values.sort_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal));
                for p in percents {
                    let n = values.len();
                    let rank = ((p / 100.0) * n as f64).ceil() as usize;
                    let v = values.get(rank.clamp(1, n.max(1)) - 1).cloned().unwrap_or(V::Null);
                    out.push(to_cell(v, ty));
                }
                return;
            }
            AggState::Arg(best, cells, _) => {
                out.push(to_cell(best, ty));
                let n = types.len() - 1;
                out.extend(cells.into_iter().chain(std::iter::repeat(Cell::Null)).take(n));
                return;
            }
        };
        out.push(cell);
    }
}

/// The elements of a value for `make_set`/`make_list`: an array's items, else the value.
fn spread(v: V<'_>) -> Vec<Value> {
    match v {
        V::Dyn(d) => match d.as_ref() {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        },
        v if v.is_null() => Vec::new(),
        v => vec![v.to_json()],
    }
}

impl BAgg {
    /// A fresh running state.
    pub(crate) fn start(&self) -> AggState {
        self.init.clone()
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
            state.add(agg, &row);
        }
    }
    if by.is_empty() && groups.is_empty() {
        groups.push((Vec::new(), aggs.iter().map(|a| a.init.clone()).collect()));
    }
    groups
        .into_iter()
        .map(|(mut cells, states)| {
            for (state, agg) in states.into_iter().zip(aggs) {
                state.finish(&agg.types, &mut cells);
            }
            cells
        })
        .collect()
}

impl<'a> Binder<'_, 'a> {
    /// Binds one aggregate item of `summarize` (`[Name =] f(args)`): its state, arguments and
    /// output columns (one, or several for `arg_max`). `by` are the names of the group keys.
    pub(crate) fn agg(
        &self,
        item: &'a Expr,
        schema: &Schema,
        by: &[String],
    ) -> Result<(BAgg, Vec<(String, Ty)>), KqlError> {
        // `(A, B) = arg_max(X, Y)`: one name for each of the aggregate's output columns.
        let (names, item) = match item {
            Expr::Binary { op, lhs, rhs, .. } if op == "=" => match lhs.as_ref() {
                Expr::List { items, .. } => {
                    let names = items.iter().map(|n| match n {
                        Expr::Name { name, .. } => Ok(name_text(name).into_owned()),
                        _ => Err(self.error("expected a column name in '(…) ='")),
                    });
                    (Some(names.collect::<Result<Vec<_>, _>>()?), rhs.as_ref())
                }
                _ => (None, item),
            },
            _ => (None, item),
        };
        let (alias, e) = split_alias(item);
        let Expr::Call { callee, args, .. } = e else {
            return Err(self.error("expected an aggregation function call, like count()"));
        };
        let Expr::Name { name, .. } = callee.as_ref() else {
            return Err(self.error("expected an aggregation function call, like count()"));
        };
        let f = name.as_str();
        let Some((min, max)) = arity(f) else {
            return Err(self.error(format!("Unknown aggregation function: '{f}'")));
        };
        if !(min..=max).contains(&args.len()) {
            return Err(self.error(format!(
                "function '{f}' expects {min}..{max} argument(s), got {}",
                args.len()
            )));
        }
        let arg = match args.first() {
            Some(a) if !matches!(a, Expr::Wildcard { .. }) => Some(self.bind(a, schema)?),
            _ => None,
        };
        let arg_ty = arg.as_ref().map_or(LONG, |a| a.1);
        // Kusto's result name (`set_X` for `make_set(X)`, `count_` for `count()`).
        let col = args.first().and_then(|a| inferred_name(a, self.ev.src)).unwrap_or_default();
        let named = || call_name(f, args.first(), self.ev.src).unwrap_or_default();
        let cap = |i: usize| -> Result<usize, KqlError> {
            match args.get(i) {
                None => Ok(1_048_576),
                Some(e) => match self.bind(e, schema)?.0 {
                    B::Const(V::Int(n)) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
                    _ => Err(self.error(format!("the limit of '{f}' must be a constant"))),
                },
            }
        };
        let pred = |i: usize| -> Result<Option<B>, KqlError> {
            args.get(i).map(|e| self.bind(e, schema).map(|b| b.0)).transpose()
        };
        let sum_ty = || match arg_ty {
            INT | LONG => Ok(LONG),
            REAL => Ok(REAL),
            SPAN => Ok(SPAN),
            _ => Err(self.error(format!("{f}() of {arg_ty} is not supported"))),
        };
        let mut p = None;
        let mut outputs = Vec::new();
        let mut columns = Vec::new();
        let (init, ty, default) = match f {
            "count" if args.is_empty() => (AggState::Count(0), LONG, named()),
            // count(x): the rows where x is not null.
            "count" => {
                p = arg
                    .as_ref()
                    .map(|(b, _)| B::Func(super::functions::Func::IsNull(true), vec![b.clone()]));
                (AggState::Count(0), LONG, named())
            }
            "countif" => (AggState::CountIf(0), LONG, named()),
            "dcount" | "count_distinct" => (AggState::DCount(HashSet::new()), LONG, named()),
            "dcountif" | "count_distinctif" => {
                p = pred(1)?;
                (AggState::DCount(HashSet::new()), LONG, named())
            }
            "stdev" | "stdevp" | "variance" | "variancep" => {
                let state =
                    AggState::Moments(0.0, 0.0, 0.0, f.ends_with('p'), f.starts_with("stdev"));
                (state, REAL, named())
            }
            "stdevif" | "varianceif" | "variancepif" => {
                p = pred(1)?;
                let state = AggState::Moments(0.0, 0.0, 0.0, f == "variancepif", f == "stdevif");
                (state, REAL, named())
            }
            "min" => (AggState::Min(V::Null), arg_ty, named()),
            "max" => (AggState::Max(V::Null), arg_ty, named()),
            "minif" | "maxif" => {
                p = pred(1)?;
                let init =
                    if f == "minif" { AggState::Min(V::Null) } else { AggState::Max(V::Null) };
                (init, arg_ty, named())
            }
            "sum" => (AggState::Sum(V::Null), sum_ty()?, named()),
            "sumif" => {
                p = pred(1)?;
                (AggState::Sum(V::Null), sum_ty()?, named())
            }
            "avg" => (AggState::Avg(0.0, 0), REAL, named()),
            "avgif" => {
                p = pred(1)?;
                (AggState::Avg(0.0, 0), REAL, named())
            }
            // `take_any(X)` keeps X's name; the obsolete `any(X)` is `any_X`.
            "take_any" if args.len() == 1 && !matches!(args[0], Expr::Wildcard { .. }) => {
                let name = if col.is_empty() { "any_arg0".to_owned() } else { col.clone() };
                (AggState::Any(V::Null), arg_ty, name)
            }
            "take_any" | "any" if args.len() > 1 || matches!(args[0], Expr::Wildcard { .. }) => {
                let mut named_outputs = Vec::new();
                self.row_outputs(args, schema, by, None, &mut outputs, &mut named_outputs)?;
                let mut names = named_outputs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, t))| (n.unwrap_or_else(|| format!("any_arg{i}")), t));
                let Some(first) = names.next() else {
                    return Err(self.error(format!("'{f}' has no column to return")));
                };
                columns.extend(names);
                (AggState::First(None), first.1, first.0)
            }
            "any" => (AggState::Any(V::Null), arg_ty, named()),
            "take_anyif" | "anyif" => {
                p = pred(1)?;
                (AggState::Any(V::Null), arg_ty, named())
            }
            "make_set" | "makeset" => {
                (AggState::MakeSet(Vec::new(), HashSet::new(), cap(1)?), DYN, named())
            }
            "make_list" | "makelist" => (AggState::MakeList(Vec::new(), cap(1)?), DYN, named()),
            "make_set_if" => {
                p = pred(1)?;
                let init = AggState::MakeSet(Vec::new(), HashSet::new(), cap(2)?);
                (init, DYN, named())
            }
            "make_list_if" => {
                p = pred(1)?;
                (AggState::MakeList(Vec::new(), cap(2)?), DYN, named())
            }
            "make_bag" => (AggState::Bag(serde_json::Map::new(), cap(1)?), DYN, named()),
            "make_bag_if" => {
                p = pred(1)?;
                (AggState::Bag(serde_json::Map::new(), cap(2)?), DYN, named())
            }
            "percentile" | "percentiles" => {
                let mut percents = Vec::new();
                for e in &args[1..] {
                    match self.bind(e, schema)?.0 {
                        B::Const(V::Int(p)) => percents.push(p as f64),
                        B::Const(V::Real(p)) => percents.push(p),
                        _ => {
                            return Err(
                                self.error(format!("the percentages of '{f}' must be constants"))
                            );
                        }
                    }
                }
                if percents.iter().any(|p| !(0.0..=100.0).contains(p)) {
                    return Err(self.error("a percentage must be between 0 and 100"));
                }
                let label =
                    |p: f64| format!("percentile_{col}_{}", p.to_string().replace('.', "_"));
                let first = label(percents[0]);
                for p in &percents[1..] {
                    columns.push((label(*p), arg_ty));
                }
                (AggState::Values(Vec::new(), percents), arg_ty, first)
            }
            "arg_max" | "arg_min" | "argmax" | "argmin" => {
                let (prefix, deprecated) = (&f[f.len() - 3..], !f.contains('_'));
                // Kusto.Language: `arg_max(X, …)` keeps X's name (`max_` for an expression);
                // the obsolete `argmax(X, …)` is `max_X`, its other columns `max_X_<name>`.
                let best = if deprecated || col.is_empty() {
                    format!("{prefix}_{col}")
                } else {
                    col.clone()
                };
                let mut extra = Vec::new();
                let primary = matches!(args[0], Expr::Name { .. }).then_some(col.as_str());
                self.row_outputs(&args[1..], schema, by, primary, &mut outputs, &mut extra)?;
                for (i, (name, ty)) in extra.into_iter().enumerate() {
                    // Unnamed expressions: `max_X_arg1` (`X_arg1` for the obsolete forms);
                    // the obsolete forms prefix every returned column with the primary's name.
                    let name = match name {
                        Some(n) if deprecated => format!("{best}_{n}"),
                        Some(n) => n,
                        None if deprecated => format!("{best}_arg{}", i + 1),
                        None => format!("{prefix}_{col}_arg{}", i + 1),
                    };
                    columns.push((name, ty));
                }
                (AggState::Arg(V::Null, Vec::new(), prefix == "max"), arg_ty, best)
            }
            _ => return Err(self.error(format!("Unknown aggregation function: '{f}'"))),
        };
        let first = alias.unwrap_or(default);
        columns.insert(0, (first, ty));
        if let Some(names) = names {
            if names.len() != columns.len() {
                return Err(self.error(format!(
                    "'{f}' has {} output column(s), but {} name(s) are given",
                    columns.len(),
                    names.len()
                )));
            }
            for (c, n) in columns.iter_mut().zip(names) {
                c.0 = n;
            }
        }
        let types = columns.iter().map(|c| c.1).collect();
        Ok((BAgg { init, arg: arg.map(|a| a.0), pred: p, outputs, types }, columns))
    }
}

impl<'a> Binder<'_, 'a> {
    /// The values an aggregate returns from one row (`arg_max(X, a, b = c, *)`,
    /// `take_any(a, b)`): each bound, with its name (`None` for an unnamed expression). `*` is
    /// every column not already returned and not a group key.
    fn row_outputs(
        &self,
        args: &'a [Expr],
        schema: &Schema,
        by: &[String],
        primary: Option<&str>,
        outputs: &mut Vec<(B, Ty)>,
        columns: &mut Vec<(Option<String>, Ty)>,
    ) -> Result<(), KqlError> {
        let star = args.iter().any(|a| matches!(a, Expr::Wildcard { .. }));
        for arg in args {
            if matches!(arg, Expr::Wildcard { .. }) {
                for (i, (n, t)) in schema.iter().enumerate() {
                    let taken = primary == Some(n.as_str())
                        || columns.iter().any(|c| c.0.as_deref() == Some(n.as_str()));
                    if !taken && !by.contains(n) {
                        outputs.push((B::Col(i, false), *t));
                        columns.push((Some(n.clone()), *t));
                    }
                }
                continue;
            }
            let (alias, e) = split_alias(arg);
            let name = alias.or_else(|| inferred_name(e, self.ev.src));
            if star && name.as_ref().is_some_and(|n| by.contains(n)) {
                continue;
            }
            let (b, t) = self.bind(e, schema)?;
            outputs.push((b, t));
            columns.push((name, t));
        }
        Ok(())
    }
}

/// The result name of an aggregate call `f(first, …)`, as Kusto.Language names it: the
/// function's prefix and the first argument's name (`set_X`, `count_`), or for `take_any` and
/// `arg_max` the first argument's own name.
pub(crate) fn call_name(f: &str, first: Option<&Expr>, src: &str) -> Option<String> {
    let arg = || first.and_then(|a| inferred_name(a, src)).unwrap_or_default();
    let prefix = match f {
        "make_set" | "makeset" | "make_set_if" => "set",
        "make_list" | "makelist" | "make_list_if" => "list",
        "make_bag" | "make_bag_if" => "bag",
        "take_any" | "take_anyif" | "arg_max" | "arg_min" => {
            return first.and_then(|a| inferred_name(a, src));
        }
        f if arity(f).is_some() => f,
        _ => return None,
    };
    Some(format!("{prefix}_{}", arg()))
}

/// Is `e` (an item of `summarize`, without its `Name =`) an expression over aggregates
/// (`tostring(make_set(x)[0])`, `countif(a) * 100 / count()`) rather than one aggregate call?
pub(crate) fn is_composite(e: &Expr) -> bool {
    match e {
        Expr::Call { callee, .. } => match callee.as_ref() {
            Expr::Name { name, .. } => arity(name).is_none(),
            _ => true,
        },
        Expr::Binary { op, lhs, .. } if op == "=" => !matches!(lhs.as_ref(), Expr::List { .. }),
        _ => true,
    }
}

/// The name of a named expression inside `e` (`toint(C = count())` is `C`), if any.
pub(crate) fn inner_alias(e: &Expr) -> Option<String> {
    match e {
        Expr::Binary { op, lhs, .. } if op == "=" => match lhs.as_ref() {
            Expr::Name { name, .. } => Some(name_text(name).into_owned()),
            _ => None,
        },
        Expr::Call { args, .. } => args.iter().find_map(inner_alias),
        Expr::Unary { operand, .. } => inner_alias(operand),
        _ => None,
    }
}

/// The aggregate calls inside `e`, outermost first (not those nested in another's arguments,
/// nor any inside a subquery).
pub(crate) fn calls<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    crate::kql::walk::expr_while(e, &mut |x| match x {
        Expr::Call { callee, .. } if matches!(callee.as_ref(), Expr::Name { name, .. } if arity(name).is_some()) =>
        {
            out.push(x);
            false
        }
        Expr::Pipe { .. } => false,
        _ => true,
    });
}

/// The argument counts of the aggregation functions.
fn arity(f: &str) -> Option<(usize, usize)> {
    Some(match f {
        "count" => (0, 1),
        "countif" | "count_distinct" | "min" | "max" | "sum" | "avg" | "stdev" | "stdevp"
        | "variance" | "variancep" => (1, 1),
        "dcount" => (1, 2),
        "take_any" | "any" => (1, 64),
        "minif" | "maxif" | "sumif" | "avgif" | "count_distinctif" | "stdevif" | "varianceif"
        | "variancepif" | "take_anyif" | "anyif" => (2, 2),
        "dcountif" => (2, 3),
        "make_set" | "makeset" | "make_list" | "makelist" | "make_bag" => (1, 2),
        "make_set_if" | "make_list_if" | "make_bag_if" => (2, 3),
        "arg_max" | "arg_min" | "argmax" | "argmin" => (1, 64),
        "percentiles" => (2, 64),
        "percentile" => (2, 2),
        _ => return None,
    })
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
