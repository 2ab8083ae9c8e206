//! Tabular operators: each operator of the tree is bound against the schema flowing into it
//! (a [`Stage`] with its output schema), then applied as a lazy stage over the rows.

use std::cmp::Ordering;

use super::aggregate::{BAgg, split_alias, summarize};
use super::bind::Binder;
use super::scalar::B;
use super::{Eval, Rows, Schema};
use crate::emulator::data::Cell;
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::{BOOL, BinOp, DYN, LONG, Ty, V, compare, to_cell};
use crate::emulator::kql::{KqlError, unsupported};
use crate::kql::syntax::tree::{Expr, Operator};

/// A pipeline stage.
pub(crate) enum Stage {
    Filter(B),
    Project(Vec<(B, Ty)>),
    Extend(Vec<(Option<usize>, B, Ty)>),
    Take(usize),
    Count,
    Summarize {
        by: Vec<(B, Ty)>,
        aggs: Vec<BAgg>,
        /// The output columns, when some are expressions over the aggregates.
        post: Option<Vec<(B, Ty)>>,
    },
    Sort(Vec<(B, bool, bool)>, Option<usize>),
    Join(super::combine::Join),
    MvExpand(super::reshape::MvExpand),
    Parse(super::reshape::Parse),
    Series(super::series::MakeSeries),
    TopNested(super::nested::TopNested),
    /// A stage whose expressions call `next()`: the rows it reads ahead, and how many.
    Ahead(Box<Stage>, super::bind::Lookahead, usize),
}

/// A fresh name not in `schema`: `base`, else `base1`, `base2`, …
pub(crate) fn unique(schema: &Schema, base: &str) -> String {
    if !schema.iter().any(|(n, _)| n == base) {
        return base.to_owned();
    }
    (1..)
        .map(|i| format!("{base}{i}"))
        .find(|n| !schema.iter().any(|(x, _)| x == n))
        .unwrap_or_default()
}

/// The implicit output name of an unnamed item, as Kusto infers it (checked against
/// Microsoft's analyzer, Kusto.Language, `KustoCode.ParseAndAnalyze(…).ResultType`): a column
/// keeps its name, `a.b` and `a['b']` are `a_b`, the functions that pass their first
/// argument's name on (conversions, `bin`, `split`, `startofday`, math…) take it, a few prefix
/// it (`strlen_X`, `type_X`) or suffix it (`X_sorted`); anything else is `Column1`, `Column2`…
pub(crate) fn implicit_name(e: &Expr, out: &Schema, src: &str) -> String {
    inferred_name(e, src).unwrap_or_else(|| column_n(out))
}

/// `Column1`, else `Column2`, …: the first such name `schema` does not have.
pub(crate) fn column_n(schema: &Schema) -> String {
    (1..)
        .map(|i| format!("Column{i}"))
        .find(|n| !schema.iter().any(|(x, _)| x == n))
        .unwrap_or_default()
}

/// The functions whose result takes their first argument's name, as Kusto.Language has it.
const PASS: &[&str] = &[
    "bin",
    "bin_at",
    "floor",
    "round",
    "ceiling",
    "abs",
    "sqrt",
    "log",
    "log2",
    "log10",
    "exp",
    "exp2",
    "exp10",
    "pow",
    "binary_and",
    "binary_or",
    "binary_xor",
    "binary_not",
    "binary_shift_left",
    "binary_shift_right",
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "todatetime",
    "totimespan",
    "tobool",
    "toboolean",
    "todynamic",
    "todecimal",
    "toguid",
    "tohex",
    "parse_json",
    "split",
    "startofday",
    "format_datetime",
    "format_bytes",
];

pub(crate) fn inferred_name(e: &Expr, src: &str) -> Option<String> {
    match e {
        Expr::Name { name, .. } => Some(name_text(name).into_owned()),
        Expr::Member { target, name, .. } => {
            Some(format!("{}_{}", inferred_name(target, src)?, name_text(name)))
        }
        Expr::Index { target, index, .. } => {
            let key = match index.as_ref() {
                Expr::Literal { span, .. } => {
                    let text = src.get(span.start..span.end)?;
                    crate::emulator::kql::literal::unquote(text).unwrap_or_else(|| text.to_owned())
                }
                // `x['c']`, lexed as a bracket-quoted name.
                Expr::Opaque { span } => name_text(src.get(span.start..span.end)?).into_owned(),
                _ => return None,
            };
            Some(format!("{}_{key}", inferred_name(target, src)?))
        }
        Expr::Call { callee, args, .. } => {
            let Expr::Name { name, .. } = callee.as_ref() else { return None };
            let first = || inferred_name(args.first()?, src);
            match name.as_str() {
                f if PASS.contains(&f) => first(),
                "strlen" | "string_size" | "dcount_hll" | "percentile_tdigest" => {
                    Some(format!("{name}_{}", first()?))
                }
                "gettype" => Some(format!("type_{}", first()?)),
                "array_sort_asc" | "array_sort_desc" => Some(format!("{}_sorted", first()?)),
                // `column_ifexists('Name', default)`: the column it names.
                "column_ifexists" => match args.first()? {
                    Expr::Literal { span, .. } => {
                        crate::emulator::kql::literal::unquote(src.get(span.start..span.end)?)
                    }
                    _ => None,
                },
                f => super::aggregate::call_name(f, args.first(), src),
            }
        }
        _ => None,
    }
}

/// The items of the clause with `keyword` (`None`: the main list).
pub(crate) fn clause<'o>(op: &'o Operator, keyword: Option<&str>) -> &'o [Expr] {
    op.clauses.iter().find(|c| c.keyword.as_deref() == keyword).map_or(&[], |c| c.items.as_slice())
}

/// Does the glob `pattern` (`*` for any run of characters) match `name`?
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, rest)) => {
            let Some(tail) = name.strip_prefix(head) else { return false };
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

impl<'a> Eval<'a> {
    /// The columns of `schema` that name list `items` (names or `Device*` wildcards) selects,
    /// in schema order, each item required to match something.
    pub(crate) fn select(
        &self,
        b: &Binder<'_, '_>,
        items: &[Expr],
        schema: &Schema,
    ) -> Result<Vec<bool>, KqlError> {
        let mut keep = vec![false; schema.len()];
        for item in items {
            let pattern = match item {
                Expr::Name { name, .. } => name_text(name).into_owned(),
                Expr::Wildcard { span } => self.text(*span).to_owned(),
                _ => return Err(b.error("expected a column name")),
            };
            let mut hit = false;
            for (i, (n, _)) in schema.iter().enumerate() {
                if glob(&pattern, n) {
                    keep[i] = true;
                    hit = true;
                }
            }
            if !hit && !pattern.contains('*') {
                return Err(b.unresolved(&pattern));
            }
        }
        Ok(keep)
    }

    /// Binds one operator, updating `schema`.
    pub(crate) fn bind_op(&self, op: &'a Operator, schema: &mut Schema) -> Result<Stage, KqlError> {
        let b = Binder::new(self, &op.name);
        let main = clause(op, None);
        let stage = match op.name.as_str() {
            "where" | "filter" => {
                let pred = main.first().ok_or_else(|| b.error("needs a predicate"))?;
                // `where Name = predicate` names the predicate (Kusto.Language reads it so):
                // the rows kept are those where the predicate holds.
                let (_, pred) = split_alias(pred);
                let (e, ty) = b.bind(pred, schema)?;
                if !matches!(ty, BOOL | DYN) {
                    return Err(b.error(format!(
                        "Expected a Boolean predicate, got {ty} (The expression must have the type bool)"
                    )));
                }
                Stage::Filter(e)
            }
            "project" | "distinct" => {
                let mut out: Schema = Vec::new();
                let mut exprs = Vec::new();
                for item in main {
                    if matches!(item, Expr::Wildcard { .. }) {
                        for (i, (n, ty)) in schema.iter().enumerate() {
                            out.push((unique(&out, n), *ty));
                            exprs.push((B::Col(i, false), *ty));
                        }
                        continue;
                    }
                    let (alias, e) = split_alias(item);
                    let (be, ty) = b.bind(e, schema)?;
                    let name = alias.unwrap_or_else(|| implicit_name(e, &out, self.src));
                    out.push((unique(&out, &name), ty));
                    exprs.push((be, ty));
                }
                *schema = out;
                if op.name == "distinct" {
                    return Ok(Stage::Summarize { by: exprs, aggs: Vec::new(), post: None });
                }
                Stage::Project(exprs)
            }
            "project-away" => {
                let drop = self.select(&b, main, schema)?;
                let keep: Vec<usize> = (0..schema.len()).filter(|i| !drop[*i]).collect();
                let exprs = keep.iter().map(|&i| (B::Col(i, false), schema[i].1)).collect();
                *schema = keep.iter().map(|&i| schema[i].clone()).collect();
                Stage::Project(exprs)
            }
            "project-rename" => {
                for item in main {
                    let (Some(new), Expr::Name { name: old, .. }) = split_alias(item) else {
                        return Err(b.error("expected NewName = ExistingName"));
                    };
                    let old = name_text(old);
                    let i = schema
                        .iter()
                        .position(|(n, _)| *n == old)
                        .ok_or_else(|| b.unresolved(&old))?;
                    schema[i].0 = new;
                }
                Stage::Project((0..schema.len()).map(|i| (B::Col(i, false), schema[i].1)).collect())
            }
            "extend" | "serialize" => {
                let mut out = Vec::new();
                for item in main {
                    if let Some(columns) = multi_output(&b, item, schema)? {
                        for (name, be, ty) in columns {
                            let i = schema.iter().position(|(n, _)| *n == name);
                            match i {
                                Some(i) => schema[i].1 = ty,
                                None => schema.push((name, ty)),
                            }
                            out.push((i, be, ty));
                        }
                        continue;
                    }
                    let (alias, e) = split_alias(item);
                    let (be, ty) = b.bind(e, schema)?;
                    let name = alias.unwrap_or_else(|| implicit_name(e, schema, self.src));
                    match schema.iter().position(|(n, _)| *n == name) {
                        Some(i) => {
                            schema[i].1 = ty;
                            out.push((Some(i), be, ty));
                        }
                        None => {
                            schema.push((name, ty));
                            out.push((None, be, ty));
                        }
                    }
                }
                Stage::Extend(out)
            }
            "take" | "limit" => Stage::Take(self.count_arg(&b, main.first(), schema)?),
            "count" => {
                *schema = vec![("Count".to_owned(), LONG)];
                Stage::Count
            }
            "summarize" => {
                let mut out: Schema = Vec::new();
                let mut bys = Vec::new();
                for item in clause(op, Some("by")) {
                    let (alias, e) = split_alias(item);
                    let (be, ty) = b.bind(e, schema)?;
                    let name = alias.unwrap_or_else(|| implicit_name(e, &out, self.src));
                    out.push((unique(&out, &name), ty));
                    bys.push((be, ty));
                }
                let mut aggs = Vec::new();
                let by_names: Vec<String> = out.iter().map(|c| c.0.clone()).collect();
                // The summarized row (keys, then every aggregate's columns), and the items
                // that are expressions over aggregates, computed from it afterwards.
                let mut inner = out.clone();
                // Where each output column comes from: a column of the summarized row, or an
                // expression over it.
                let mut post: Vec<Result<usize, &'a Expr>> = (0..out.len()).map(Ok).collect();
                for item in main {
                    let (alias, e) = split_alias(item);
                    if !super::aggregate::is_composite(e) {
                        let (bagg, columns) = b.agg(item, schema, &by_names)?;
                        for (name, ty) in columns {
                            out.push((unique(&out, &name), ty));
                            post.push(Ok(inner.len()));
                            inner.push((format!("\u{1}{}", inner.len()), ty));
                        }
                        aggs.push(bagg);
                        continue;
                    }
                    let mut calls = Vec::new();
                    super::aggregate::calls(e, &mut calls);
                    if calls.is_empty() {
                        return Err(b.error(match e {
                            Expr::Call { callee, .. } => match callee.as_ref() {
                                Expr::Name { name, .. } => {
                                    format!("Unknown aggregation function: '{name}'")
                                }
                                _ => "expected an aggregation function call, like count()".into(),
                            },
                            _ => "expected an aggregation function call, like count()".into(),
                        }));
                    }
                    for call in calls {
                        let (bagg, columns) = b.agg(call, schema, &by_names)?;
                        let [(_, ty)] = columns[..] else {
                            return Err(b.error(
                                "an aggregate with several results cannot be part of an expression",
                            ));
                        };
                        b.aggregates.borrow_mut().push((call.span(), inner.len(), ty));
                        inner.push((format!("\u{1}{}", inner.len()), ty));
                        aggs.push(bagg);
                    }
                    let name = alias
                        .or_else(|| super::aggregate::inner_alias(e))
                        .unwrap_or_else(|| implicit_name(e, &out, self.src));
                    out.push((unique(&out, &name), DYN));
                    post.push(Err(e));
                }
                let post = if post.iter().all(Result::is_ok) {
                    None
                } else {
                    let mut exprs = Vec::new();
                    for (i, src) in post.into_iter().enumerate() {
                        let bound = match src {
                            Ok(c) => (B::Col(c, false), out[i].1),
                            Err(e) => b.bind(e, &inner)?,
                        };
                        out[i].1 = bound.1;
                        exprs.push(bound);
                    }
                    Some(exprs)
                };
                *schema = out;
                Stage::Summarize { by: bys, aggs, post }
            }
            "sort" | "order" => {
                Stage::Sort(self.sort_keys(&b, clause(op, Some("by")), schema)?, None)
            }
            "top" => {
                let n = self.count_arg(&b, main.first(), schema)?;
                Stage::Sort(self.sort_keys(&b, clause(op, Some("by")), schema)?, Some(n))
            }
            "top-nested" => Stage::TopNested(super::nested::bind(&b, op, schema)?),
            "join" | "lookup" => Stage::Join(self.bind_join(op, schema)?),
            "project-keep" | "project-reorder" => self.bind_keep_reorder(&b, op, schema)?,
            "mv-expand" | "mvexpand" => Stage::MvExpand(self.bind_mv_expand(&b, op, schema)?),
            "parse" | "parse-where" => Stage::Parse(self.bind_parse(&b, op, schema)?),
            "make-series" => Stage::Series(self.bind_make_series(&b, op, schema)?),
            other => return Err(unsupported(other, "operator")),
        };
        Ok(match b.lookahead.take() {
            Some((shared, n)) => Stage::Ahead(Box::new(stage), shared, n),
            None => stage,
        })
    }

    /// A constant, non-negative row count (`take N`, `top N`).
    fn count_arg(
        &self,
        b: &Binder<'_, 'a>,
        e: Option<&'a Expr>,
        schema: &Schema,
    ) -> Result<usize, KqlError> {
        let bound = match e {
            Some(e) => b.bind(e, schema)?.0,
            None => B::Const(V::Null),
        };
        match bound {
            B::Const(V::Int(n)) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Err(b.error("Expected a non-negative constant integer row count")),
        }
    }

    /// Sort keys with their direction (`desc` unless `asc`) and null placement (nulls first
    /// when ascending unless `nulls last`), read from the words after each key.
    fn sort_keys(
        &self,
        b: &Binder<'_, 'a>,
        items: &'a [Expr],
        schema: &Schema,
    ) -> Result<Vec<(B, bool, bool)>, KqlError> {
        items
            .iter()
            .map(|item| {
                let (e, _) = b.bind(item, schema)?;
                let mut words = self.words_after(item.span().end);
                let mut next = words.next();
                let desc = match next {
                    Some("asc" | "granny-asc") => {
                        next = words.next();
                        false
                    }
                    Some("desc" | "granny-desc") => {
                        next = words.next();
                        true
                    }
                    _ => true,
                };
                let nulls_first = match (next, words.next()) {
                    (Some("nulls"), Some("first")) => true,
                    (Some("nulls"), Some("last")) => false,
                    _ => !desc,
                };
                Ok((e, desc, nulls_first))
            })
            .collect()
    }
}

/// Applies `stage` to `rows`.
pub(crate) fn apply(stage: Stage, rows: Rows) -> Rows {
    match stage {
        Stage::Ahead(inner, shared, n) => apply(*inner, Box::new(Ahead { rows, shared, n })),
        Stage::Filter(b) => Box::new(rows.filter(move |r| b.truthy(r))),
        Stage::Project(exprs) => Box::new(rows.map(move |r| {
            exprs
                .iter()
                .map(|(e, ty)| match e {
                    B::Col(i, _) => r.get(*i).cloned().unwrap_or(Cell::Null),
                    e => to_cell(e.eval(&r), ty),
                })
                .collect()
        })),
        Stage::Extend(items) => Box::new(rows.map(move |mut r| {
            for (slot, e, ty) in &items {
                let cell = to_cell(e.eval(&r), ty);
                match slot {
                    Some(i) => r[*i] = cell,
                    None => r.push(cell),
                }
            }
            r
        })),
        Stage::Take(n) => Box::new(rows.take(n)),
        Stage::Count => {
            Box::new(std::iter::once_with(move || vec![Cell::Int(rows.count() as i64)]))
        }
        Stage::Summarize { by, aggs, post: None } => {
            Box::new(std::iter::once_with(move || summarize(rows, &by, &aggs)).flatten())
        }
        Stage::Summarize { by, aggs, post: Some(post) } => Box::new(
            std::iter::once_with(move || summarize(rows, &by, &aggs))
                .flatten()
                .map(move |row| post.iter().map(|(e, ty)| to_cell(e.eval(&row), ty)).collect()),
        ),
        Stage::Sort(keys, limit) => {
            Box::new(std::iter::once_with(move || sort(rows, &keys, limit)).flatten())
        }
        Stage::Join(j) => Box::new(std::iter::once_with(move || j.run(rows)).flatten()),
        Stage::TopNested(t) => Box::new(std::iter::once_with(move || t.run(rows)).flatten()),
        Stage::MvExpand(m) => m.apply(rows),
        Stage::Parse(p) => p.apply(rows),
        Stage::Series(m) => Box::new(std::iter::once_with(move || m.run(rows)).flatten()),
    }
}

/// Sorts (stably) by `keys`; with `limit`, keeps only the first `limit` rows, in bounded memory.
fn sort(rows: Rows, keys: &[(B, bool, bool)], limit: Option<usize>) -> Vec<Vec<Cell>> {
    let order = |a: &(Vec<V<'static>>, Vec<Cell>), b: &(Vec<V<'static>>, Vec<Cell>)| {
        for ((x, y), (_, desc, nulls_first)) in a.0.iter().zip(&b.0).zip(keys) {
            let o = match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if *nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if *nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                _ => {
                    let o = compare(x, y).unwrap_or_else(|| x.text().cmp(&y.text()));
                    if *desc { o.reverse() } else { o }
                }
            };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    };
    let mut buf: Vec<(Vec<V<'static>>, Vec<Cell>)> = Vec::new();
    let cap = limit.map(|n| n.max(1024).saturating_mul(2));
    for row in rows {
        if limit == Some(0) {
            break;
        }
        let k = keys.iter().map(|(e, _, _)| e.eval(&row).norm().owned()).collect();
        buf.push((k, row));
        if cap.is_some_and(|c| buf.len() >= c) {
            buf.sort_by(order);
            buf.truncate(limit.unwrap_or(usize::MAX));
        }
    }
    buf.sort_by(order);
    buf.truncate(limit.unwrap_or(usize::MAX));
    buf.into_iter().map(|(_, r)| r).collect()
}

/// Narrows `(start, end)` with the `Timestamp` (column 0) bounds of conjunct `b`.
pub(crate) fn narrow(b: &B, w: &mut (i64, i64)) {
    let time = |b: &B| match b {
        B::Const(V::Time(t)) => Some(*t),
        _ => None,
    };
    let is_ts = |b: &B| matches!(b, B::Col(0, false));
    match b {
        B::And(v) => v.iter().for_each(|b| narrow(b, w)),
        B::Bin(op, x, y) => {
            let (op, t) = match (is_ts(x), is_ts(y)) {
                (true, false) => (*op, time(y)),
                (false, true) => {
                    let flipped = match op {
                        BinOp::Lt => BinOp::Gt,
                        BinOp::Le => BinOp::Ge,
                        BinOp::Gt => BinOp::Lt,
                        BinOp::Ge => BinOp::Le,
                        o => *o,
                    };
                    (flipped, time(x))
                }
                _ => return,
            };
            let Some(t) = t else { return };
            match op {
                BinOp::Gt => w.0 = w.0.max(t.saturating_add(1)),
                BinOp::Ge => w.0 = w.0.max(t),
                BinOp::Lt => w.1 = w.1.min(t),
                BinOp::Le => w.1 = w.1.min(t.saturating_add(1)),
                BinOp::Eq => *w = (w.0.max(t), w.1.min(t.saturating_add(1))),
                _ => {}
            }
        }
        B::Between(x, lo, hi, false) if is_ts(x) => {
            let Some(lo) = time(lo) else { return };
            let hi = match hi.as_ref() {
                B::Const(V::Time(t)) => *t,
                B::Const(V::Span(s)) => lo.saturating_add(*s),
                _ => return,
            };
            *w = (w.0.max(lo), w.1.min(hi.saturating_add(1)));
        }
        _ => {}
    }
}

/// A column an `extend` item adds: its name, expression and type.
type NewColumn = (String, B, Ty);

/// The columns of an `extend` item whose function has several outputs
/// (`(flag, score, baseline) = series_decompose_anomalies(x)`), named as written and the rest
/// `function_argument_output` as Kusto names them; `None` for any other item.
fn multi_output<'a>(
    b: &Binder<'_, 'a>,
    item: &'a Expr,
    schema: &Schema,
) -> Result<Option<Vec<NewColumn>>, KqlError> {
    use super::builtins::Builtin;
    use super::builtins::decompose::SeriesFn;
    let (names, e): (Vec<String>, &Expr) = match item {
        Expr::Binary { op, lhs, rhs, .. } if op == "=" => match lhs.as_ref() {
            Expr::List { items, .. } => {
                let mut names = Vec::new();
                for n in items {
                    match n {
                        Expr::Name { name, .. } => names.push(name_text(name).into_owned()),
                        _ => return Err(b.error("a tuple of names must hold names only")),
                    }
                }
                (names, rhs.as_ref())
            }
            Expr::Name { name, .. } => (vec![name_text(name).into_owned()], rhs.as_ref()),
            _ => return Ok(None),
        },
        e => (Vec::new(), e),
    };
    let f = match e {
        Expr::Call { callee, args, .. } => match callee.as_ref() {
            Expr::Name { name, .. } => SeriesFn::of(name).map(|f| (f, name, args)),
            _ => None,
        },
        _ => None,
    };
    let Some((f, fname, args)) = f.filter(|f| f.0.outputs().len() > 1) else {
        if names.len() > 1 {
            return Err(b.error("only a function with several outputs fills a tuple of names"));
        }
        return Ok(None);
    };
    let outputs = f.outputs();
    if names.len() > outputs.len() {
        return Err(b.error(format!("{fname}() has {} outputs", outputs.len())));
    }
    let (be, ty) = b.bind(e, schema)?;
    let B::Builtin(Builtin::Series(..), bound) = be else {
        return Err(b.error(format!("{fname}() did not bind")));
    };
    let stem = match args.first() {
        Some(Expr::Name { name, .. }) => format!("{fname}_{}", name_text(name)),
        _ => fname.to_owned(),
    };
    Ok(Some(
        outputs
            .iter()
            .enumerate()
            .map(|(part, out)| {
                let name = names.get(part).cloned().unwrap_or_else(|| format!("{stem}_{out}"));
                (name, B::Builtin(Builtin::Series(f, part), bound.clone()), ty)
            })
            .collect(),
    ))
}

/// Yields each row with the `n` rows after it held in `shared`, for `next()` to read.
struct Ahead {
    rows: Rows,
    shared: super::bind::Lookahead,
    n: usize,
}

impl Iterator for Ahead {
    type Item = Vec<Cell>;

    fn next(&mut self) -> Option<Vec<Cell>> {
        let mut ahead = self.shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = match ahead.pop_front() {
            Some(r) => r,
            None => self.rows.next()?,
        };
        while ahead.len() < self.n {
            match self.rows.next() {
                Some(r) => ahead.push_back(r),
                None => break,
            }
        }
        Some(current)
    }
}
