//! `make-series`: aggregates per group and per step of an axis (usually `Timestamp`), each
//! as an array with one element per step, empty steps holding the default (0 unless given).

use std::collections::HashMap;

use serde_json::Value;

use super::aggregate::{AggState, BAgg, Key, key_of, split_alias};
use super::bind::Binder;
use super::scalar::B;
use super::tabular::{clause, unique};
use super::{Eval, Rows, Schema};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::value::{BinOp, DYN, V, arith, compare, to_cell};
use crate::kql::syntax::tree::{Expr, Operator};

/// One aggregate's running states, by step.
type Bins = HashMap<i64, AggState>;

/// Most steps one series may have.
const MAX_STEPS: i64 = 100_000;

/// A bound `make-series`.
pub(crate) struct MakeSeries {
    aggs: Vec<(BAgg, Option<V<'static>>)>,
    axis: B,
    from: Option<V<'static>>,
    to: Option<V<'static>>,
    step: V<'static>,
    by: Vec<(B, crate::emulator::kql::value::Ty)>,
}

impl<'a> Eval<'a> {
    pub(crate) fn bind_make_series(
        &self,
        b: &Binder<'_, 'a>,
        op: &'a Operator,
        schema: &mut Schema,
    ) -> Result<MakeSeries, KqlError> {
        let constant = |e: &'a Expr| -> Result<V<'static>, KqlError> {
            match b.bind(e, schema)?.0 {
                B::Const(v) => Ok(v),
                _ => Err(b.error("from, to, step and default must be constants")),
            }
        };
        let opt = |k: &str| clause(op, Some(k)).first().map(constant).transpose();
        let from = opt("from")?;
        let to = opt("to")?;
        let step = opt("step")?.ok_or_else(|| b.error("needs 'step'"))?;
        let axis_expr = clause(op, Some("on")).first().ok_or_else(|| b.error("needs 'on'"))?;
        let (axis, _) = b.bind(axis_expr, schema)?;
        let axis_name = match axis_expr {
            Expr::Name { name, .. } => crate::emulator::kql::literal::name_text(name).into_owned(),
            _ => "Axis".to_owned(),
        };
        let mut out: Schema = Vec::new();
        let mut by = Vec::new();
        for item in clause(op, Some("by")) {
            let (alias, e) = split_alias(item);
            let (be, ty) = b.bind(e, schema)?;
            let name = alias.unwrap_or_else(|| match e {
                Expr::Name { name, .. } => {
                    crate::emulator::kql::literal::name_text(name).into_owned()
                }
                _ => super::tabular::column_n(&out),
            });
            out.push((unique(&out, &name), ty));
            by.push((be, ty));
        }
        let by_names: Vec<String> = out.iter().map(|c| c.0.clone()).collect();
        let mut aggs: Vec<(BAgg, Option<V<'static>>)> = Vec::new();
        for item in clause(op, None) {
            let is_agg = matches!(split_alias(item).1, Expr::Call { .. });
            if !is_agg {
                // `default = v` of the aggregate before it.
                let v = constant(item)?;
                match aggs.last_mut() {
                    Some(last) => last.1 = Some(v),
                    None => return Err(b.error("expected an aggregation")),
                }
                continue;
            }
            let (agg, columns) = b.agg(item, schema, &by_names)?;
            if columns.len() != 1 {
                return Err(b.error("only single-column aggregations make series"));
            }
            out.push((unique(&out, &columns[0].0), DYN));
            aggs.push((agg, None));
        }
        out.push((unique(&out, &axis_name), DYN));
        *schema = out;
        Ok(MakeSeries { aggs, axis, from, to, step, by })
    }
}

impl MakeSeries {
    pub(crate) fn run(self, rows: Rows) -> Vec<Vec<Cell>> {
        let rows: Vec<Vec<Cell>> = rows.collect();
        let axis_of = |r: &[Cell]| self.axis.eval(r).norm().owned();
        // The axis's range: as given, else the data's.
        let mut lo = self.from.clone();
        let mut hi = self.to.clone();
        if lo.is_none() || hi.is_none() {
            for r in &rows {
                let v = axis_of(r);
                if v.is_null() {
                    continue;
                }
                if self.from.is_none()
                    && lo.as_ref().is_none_or(|l| compare(&v, l).is_some_and(|o| o.is_lt()))
                {
                    lo = Some(v.clone());
                }
                if self.to.is_none() {
                    let next = arith(BinOp::Add, &v, &self.step);
                    if hi.as_ref().is_none_or(|h| compare(&next, h).is_some_and(|o| o.is_gt())) {
                        hi = Some(next);
                    }
                }
            }
        }
        let (Some(lo), Some(hi)) = (lo, hi) else { return Vec::new() };
        // The index of `v`'s step, if inside [lo, hi).
        let index = |v: &V<'_>| -> Option<i64> {
            let (a, s, b) = (number(v)?, number(&self.step)?, number(&lo)?);
            if s <= 0 || a < b || compare(v, &hi).is_some_and(|o| o.is_ge()) {
                return None;
            }
            Some(a.saturating_sub(b) / s)
        };
        let steps = match (number(&lo), number(&hi), number(&self.step)) {
            (Some(a), Some(b), Some(s)) if s > 0 && b > a => {
                (b.saturating_sub(a).saturating_add(s - 1) / s).min(MAX_STEPS)
            }
            _ => return Vec::new(),
        };
        let mut groups: HashMap<Vec<Key>, usize> = HashMap::new();
        let mut states: Vec<(Vec<Cell>, Vec<Bins>)> = Vec::new();
        for r in &rows {
            let Some(i) = index(&axis_of(r)) else { continue };
            if i >= steps {
                continue;
            }
            let cells: Vec<Cell> = self.by.iter().map(|(e, ty)| to_cell(e.eval(r), ty)).collect();
            let key: Vec<Key> = cells.iter().map(key_of).collect();
            let g = *groups.entry(key).or_insert_with(|| {
                states.push((cells, self.aggs.iter().map(|_| HashMap::new()).collect()));
                states.len() - 1
            });
            for ((agg, _), bins) in self.aggs.iter().zip(states[g].1.iter_mut()) {
                bins.entry(i).or_insert_with(|| agg.start()).add(agg, r);
            }
        }
        let axis: Vec<Value> = (0..steps)
            .map(|i| {
                let t = arith(BinOp::Add, &lo, &arith(BinOp::Mul, &self.step, &V::Int(i)));
                t.to_json()
            })
            .collect();
        states
            .into_iter()
            .map(|(mut cells, bins)| {
                for ((agg, default), mut bins) in self.aggs.iter().zip(bins) {
                    let series: Vec<Value> = (0..steps)
                        .map(|i| match bins.remove(&i) {
                            Some(state) => {
                                let mut out = Vec::new();
                                state.finish(&agg.types, &mut out);
                                let v = out.into_iter().next().unwrap_or(Cell::Null);
                                crate::emulator::kql::value::cell_value(&v, agg.types[0]).to_json()
                            }
                            None => default.as_ref().map_or(Value::from(0), V::to_json),
                        })
                        .collect();
                    cells.push(Cell::Dyn(Value::Array(series)));
                }
                cells.push(Cell::Dyn(Value::Array(axis.clone())));
                cells
            })
            .collect()
    }
}

/// A datetime, timespan or integer as a number of its units (ticks for times).
fn number(v: &V<'_>) -> Option<i64> {
    match v {
        V::Time(t) | V::Span(t) | V::Int(t) => Some(*t),
        V::Real(r) if r.is_finite() => Some(*r as i64),
        _ => None,
    }
}
