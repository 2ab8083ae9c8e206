//! `evaluate pivot(PivotColumn [, aggregation [, GroupColumn …]])`: one row per group, one
//! column per distinct value of the pivot column (named by the value, in ascending order of
//! the values' text), holding the aggregation (default `count()`) of the group's rows with that
//! value; a group without such rows holds the aggregation of no rows (`count()` 0).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::aggregate::summarize;
use super::bind::Binder;
use super::scalar::B;
use super::{Eval, Schema, Table};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::name_text;
use crate::kql::syntax::tree::{Expr, Span};

/// `count()`, the default aggregation.
fn count() -> &'static Expr {
    static COUNT: OnceLock<Expr> = OnceLock::new();
    COUNT.get_or_init(|| {
        let span = Span { start: 0, end: 0 };
        let callee = Box::new(Expr::Name { name: "count".into(), span });
        Expr::Call { callee, args: Vec::new(), span }
    })
}

impl<'a> Eval<'a> {
    pub(crate) fn pivot(&self, args: &'a [Expr], input: Table) -> Result<Table, KqlError> {
        let b = Binder::new(self, "evaluate pivot");
        let column = |e: &Expr| -> Result<usize, KqlError> {
            let Expr::Name { name, .. } = e else {
                return Err(b.error("pivot: expected a column name"));
            };
            let name = name_text(name);
            input.schema.iter().position(|(n, _)| *n == name).ok_or_else(|| b.unresolved(&name))
        };
        let Some(first) = args.first() else {
            return Err(b.error("pivot needs the column to pivot on"));
        };
        let pivot = column(first)?;
        let groups: Vec<usize> = args.iter().skip(2).map(column).collect::<Result<_, _>>()?;
        let agg_expr = args.get(1).unwrap_or_else(|| count());
        let (agg, outputs) = b.agg(agg_expr, &input.schema, &[])?;
        let ty = outputs[0].1;
        let mut by: Vec<(B, super::super::value::Ty)> = groups
            .iter()
            .map(|&i| {
                (B::Col(i, input.schema[i].1 == super::super::value::SPAN), input.schema[i].1)
            })
            .collect();
        by.push((B::Col(pivot, false), input.schema[pivot].1));
        let summed = summarize(input.rows, &by, std::slice::from_ref(&agg));
        let k = groups.len();
        let text = |c: &Cell| match c {
            Cell::Null => String::new(),
            Cell::Str(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Real(r) => r.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Time(t) => crate::emulator::kql::format_datetime(*t),
            Cell::Dyn(d) => d.to_string(),
        };
        let mut values: Vec<String> = summed.iter().map(|r| text(&r[k])).collect();
        values.sort();
        values.dedup();
        let mut empty = Vec::new();
        agg.start().finish(&agg.types, &mut empty);
        let empty = empty.into_iter().next().unwrap_or(Cell::Null);
        let mut index: HashMap<Vec<String>, usize> = HashMap::new();
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        for r in summed {
            let key: Vec<String> = r[..k].iter().map(text).collect();
            let at = *index.entry(key).or_insert_with(|| {
                let mut row = r[..k].to_vec();
                row.extend(std::iter::repeat_n(empty.clone(), values.len()));
                rows.push(row);
                rows.len() - 1
            });
            if let Ok(v) = values.binary_search(&text(&r[k])) {
                rows[at][k + v] = r[k + 1].clone();
            }
        }
        let mut schema: Schema = groups.iter().map(|&i| input.schema[i].clone()).collect();
        for v in &values {
            schema.push((super::tabular::unique(&schema, v), ty));
        }
        Ok(Table { schema, rows: Box::new(rows.into_iter()) })
    }
}
