//! The searches across tables: `search` (terms, `Column:"term"`, `and`/`or`) and `find`
//! (`project` or `project-smart` with `pack_`), over the piped-in table, those named in
//! `in (…)`, or every table of the data.

use super::bind::Binder;
use super::combine::merge;
use super::scalar::B;
use super::tabular::{clause, glob};
use super::{Eval, Rows, Schema, Table};
use crate::emulator::data::{self, Cell};
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::{literal, name_text};
use crate::emulator::kql::value::{BinOp, DYN, STRING, StrOp, Ty, V, cell_value};
use crate::kql::syntax::tree::{Expr, LiteralKind, Operator};

impl<'a> Eval<'a> {
    /// `search [in (T, …)] predicate`: the rows of each table (all tables without `in`, the
    /// piped-in one after `|`) that match, with their table in `$table`. A string alone is a
    /// term looked for (`has`) in every string column; a predicate naming a column a table
    /// lacks matches nothing there.
    pub(crate) fn search(&self, op: &'a Operator, first: Option<Table>) -> Result<Table, KqlError> {
        let b = Binder::new(self, "search");
        let pred = clause(op, None).first().ok_or_else(|| b.error("needs a predicate"))?;
        let sources = self.tables_in(&b, op, first)?;
        let mut parts = Vec::new();
        for (label, t) in sources {
            let filter = self.search_predicate(&b, pred, &t.schema)?;
            let rows = super::tabular::apply(super::tabular::Stage::Filter(filter), t.rows);
            parts.push((label, Table { schema: t.schema, rows }));
        }
        Ok(merge(parts, Some("$table".to_owned()), false))
    }

    /// The tables `search` and `find` look in: the piped-in one, those of `in (T, …)` (with
    /// wildcards), or every table of the data.
    fn tables_in(
        &self,
        b: &Binder<'_, 'a>,
        op: &'a Operator,
        first: Option<Table>,
    ) -> Result<Vec<(String, Table)>, KqlError> {
        let mut sources: Vec<(String, Table)> = Vec::new();
        match (first, clause(op, Some("in"))) {
            (Some(t), _) => sources.push((String::new(), t)),
            (None, []) => {
                for def in data::tables() {
                    sources.push((def.name.to_owned(), self.tabular_named(def.name)?));
                }
            }
            (None, items) => {
                for item in items {
                    let pattern = match item {
                        Expr::Name { name, .. } => name_text(name).into_owned(),
                        Expr::Wildcard { span } => self.text(*span).to_owned(),
                        _ => return Err(b.error("expected table names after 'in'")),
                    };
                    if self.bound_table(&pattern).is_some() || !pattern.contains('*') {
                        sources.push((pattern.clone(), self.tabular_named(&pattern)?));
                        continue;
                    }
                    for def in data::tables().iter().filter(|d| glob(&pattern, d.name)) {
                        sources.push((def.name.to_owned(), self.tabular_named(def.name)?));
                    }
                }
            }
        }
        Ok(sources)
    }

    /// `find [withsource=Name] [in (T, …)] where predicate [project …]`: the matching rows of
    /// each table with their table in `source_`. With `project`, the listed columns (null
    /// where a table lacks one); otherwise (`project-smart`) the columns the predicate names
    /// and those every table has, the rest of each row packed into `pack_`.
    pub(crate) fn find(&self, op: &'a Operator, first: Option<Table>) -> Result<Table, KqlError> {
        let b = Binder::new(self, "find");
        let pred = clause(op, None).first().ok_or_else(|| b.error("needs a predicate"))?;
        let sources = self.tables_in(&b, op, first)?;
        let source_col =
            op.options.iter().find(|(n, _)| n == "withsource" || n == "with_source").map_or_else(
                || "source_".to_owned(),
                |(_, v)| name_text(self.text(v.span())).into_owned(),
            );
        let listed: Option<Vec<String>> = match clause(op, Some("project")) {
            [] => None,
            items => Some(
                items
                    .iter()
                    .map(|e| match e {
                        Expr::Name { name, .. } => Ok(name_text(name).into_owned()),
                        _ => Err(b.error("expected column names after 'project'")),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        let mut named = Vec::new();
        names_in(pred, &mut named);
        let keep: Vec<String> = match &listed {
            Some(l) => l.clone(),
            None => {
                let mut keep: Vec<String> = Vec::new();
                for (_, t) in &sources {
                    for (n, _) in &t.schema {
                        let common =
                            sources.iter().all(|(_, o)| o.schema.iter().any(|(x, _)| x == n));
                        if (common || named.contains(n)) && !keep.contains(n) {
                            keep.push(n.clone());
                        }
                    }
                }
                keep
            }
        };
        let mut parts = Vec::new();
        for (label, t) in sources {
            let filter = self.search_predicate(&b, pred, &t.schema)?;
            let rows = super::tabular::apply(super::tabular::Stage::Filter(filter), t.rows);
            // Each part reduced to the kept columns (and `pack_`), in the same order.
            let from: Vec<Option<usize>> =
                keep.iter().map(|n| t.schema.iter().position(|(x, _)| x == n)).collect();
            let mut schema: Schema = keep
                .iter()
                .zip(&from)
                .filter_map(|(n, f)| f.map(|i| (n.clone(), t.schema[i].1)))
                .collect();
            let rest: Vec<(usize, String)> = if listed.is_none() {
                schema.push(("pack_".to_owned(), DYN));
                (0..t.schema.len())
                    .filter(|i| !from.contains(&Some(*i)))
                    .map(|i| (i, t.schema[i].0.clone()))
                    .collect()
            } else {
                Vec::new()
            };
            let packed = listed.is_none();
            let kept: Vec<usize> = from.iter().flatten().copied().collect();
            let types: Vec<Ty> = t.schema.iter().map(|c| c.1).collect();
            let rows: Rows = Box::new(rows.map(move |r| {
                let mut out: Vec<Cell> =
                    kept.iter().map(|&i| r.get(i).cloned().unwrap_or(Cell::Null)).collect();
                if packed {
                    let mut bag = serde_json::Map::new();
                    for (i, n) in &rest {
                        let v = r.get(*i).map_or(V::Null, |c| cell_value(c, types[*i])).to_json();
                        if !(v.is_null() || v.as_str() == Some("")) {
                            bag.insert(n.clone(), v);
                        }
                    }
                    out.push(Cell::Dyn(serde_json::Value::Object(bag)));
                }
                out
            }));
            parts.push((label, Table { schema, rows }));
        }
        let mut t = merge(parts, Some(source_col), false);
        // `pack_` last, after every kept column of every table.
        if let Some(p) = t.schema.iter().position(|(n, _)| n == "pack_")
            && p + 1 < t.schema.len()
        {
            let c = t.schema.remove(p);
            t.schema.push(c);
            t.rows = Box::new(t.rows.map(move |mut r| {
                let v = r.remove(p);
                r.push(v);
                r
            }));
        }
        Ok(t)
    }

    /// `search`'s predicate over one table: a string alone is a term looked for (`has`) in
    /// every string column, `Column:"term"` in that column only (nothing where the table
    /// lacks it), combined with `and`/`or`; anything else binds as an ordinary predicate.
    fn search_predicate(
        &self,
        b: &Binder<'_, 'a>,
        pred: &'a Expr,
        schema: &Schema,
    ) -> Result<B, KqlError> {
        let has = |col: usize, term: &V<'static>| {
            let op = BinOp::Str(StrOp::Has, false, false);
            B::Bin(op, Box::new(B::Col(col, false)), Box::new(B::Const(term.clone())))
        };
        let term = |e: &Expr| -> Result<Option<V<'static>>, KqlError> {
            match e {
                Expr::Literal { kind: LiteralKind::String, span } => Ok(Some(
                    literal(self.src, LiteralKind::String, span.start, span.end, self.ctx.now)?.0,
                )),
                _ => Ok(None),
            }
        };
        Ok(match pred {
            Expr::Literal { kind: LiteralKind::String, .. } => {
                let t = term(pred)?.unwrap_or(V::Null);
                let cols = schema.iter().enumerate().filter(|(_, c)| c.1 == STRING);
                B::Or(cols.map(|(i, _)| has(i, &t)).collect())
            }
            Expr::Binary { op, lhs, rhs, .. } if op == ":" => {
                let Expr::Name { name, .. } = lhs.as_ref() else {
                    return Err(b.error("expected a column name before ':'"));
                };
                let Some(t) = term(rhs)? else {
                    return Err(b.error("expected a string after ':'"));
                };
                match schema.iter().position(|(n, _)| *n == name_text(name)) {
                    Some(i) => has(i, &t),
                    None => B::Const(V::Bool(false)),
                }
            }
            Expr::Binary { op, lhs, rhs, .. } if op == "and" || op == "or" => {
                let parts = vec![
                    self.search_predicate(b, lhs, schema)?,
                    self.search_predicate(b, rhs, schema)?,
                ];
                if op == "and" { B::And(parts) } else { B::Or(parts) }
            }
            _ => match b.bind(pred, schema) {
                Ok((f, _)) => f,
                // Its columns stay in the output; none of its rows match.
                Err(e) if e.message.contains("Failed to resolve scalar") => {
                    B::Const(V::Bool(false))
                }
                Err(e) => return Err(e),
            },
        })
    }
}

/// The names an expression reads (`find`'s predicate): not the functions it calls, nor any
/// inside a subquery.
fn names_in(e: &Expr, out: &mut Vec<String>) {
    let mut callees = Vec::new();
    crate::kql::walk::expr_while(e, &mut |x| match x {
        Expr::Call { callee, .. } => {
            callees.push(callee.span());
            true
        }
        Expr::Name { name, span } if !callees.contains(span) => {
            out.push(name_text(name).into_owned());
            true
        }
        Expr::Pipe { .. } => false,
        _ => true,
    });
}
