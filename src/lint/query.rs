//! The checks `hunt validate` computes from a query's syntax tree: Sentinel's `TimeGenerated`
//! on Defender tables, hard-coded datetimes older than the service keeps, an aggregation whose result a split window would cut in parts, and, against the shipped Defender XDR schema ([`crate::kql::schema`]), tables that do not
//! exist and columns a known table does not have.

use super::{RETENTION_DAYS, Severity, datetime_literal};
use crate::kql::schema::{self, Schema};
use crate::kql::syntax::tree::{Expr, LiteralKind, Script, Span};
use crate::kql::walk::{self, unquoted};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;

/// A finding at a byte offset of the query text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hit {
    /// Byte offset into the query text.
    pub offset: usize,
    /// How bad.
    pub severity: Severity,
    /// The check's short name.
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// Every check of this module on `script`, the tree of `text`.
/// `split_auto`: the query lets hunt split a window that is too large (front matter `split`).
pub(super) fn check(text: &str, script: &Script, now: DateTime<Utc>, split_auto: bool) -> Vec<Hit> {
    let schema = schema::defender_xdr();
    let mut out = Vec::new();
    if split_auto {
        split_aggregates(script, &mut out);
    }
    time_generated(script, schema, &mut out);
    stale_datetimes(text, script, now, &mut out);
    tables(script, schema, &mut out);
    columns(script, schema, &mut out);
    out
}

/// Every expression of `script` that is the name `name` (quoted or not).
fn names<'a>(script: &'a Script, name: &str) -> Vec<&'a Expr> {
    let mut out = Vec::new();
    walk::each_expr(script, &mut |e| {
        if let Expr::Name { name: n, .. } = e
            && unquoted(n) == name
        {
            out.push(e);
        }
    });
    out
}

/// An operator whose result depends on the whole window, in a query hunt may split: each part
/// of a split window holds its own result.
fn split_aggregates(script: &Script, out: &mut Vec<Hit>) {
    let Some((name, op)) = walk::window_sensitive(script) else { return };
    out.push(Hit {
        offset: op.span.start,
        severity: Severity::Info,
        code: "split-aggregates",
        message: format!(
            "`{name}` depends on the whole window: if a window has to be split (over the \
             service's 100,000 rows or 124 MB), each part holds its own `{name}` result, to \
             re-aggregate across parts; `split: never` in the front matter refuses splitting \
             instead"
        ),
    });
}

/// `TimeGenerated` (Sentinel's time column) in a query that reads a Defender table.
fn time_generated(script: &Script, schema: &Schema, out: &mut Vec<Hit>) {
    let tables = walk::tables(script);
    let Some(table) = tables
        .iter()
        .find(|t| schema.table(t).is_some_and(|t| t.column("TimeGenerated").is_none()))
    else {
        return;
    };
    for e in names(script, "TimeGenerated") {
        out.push(Hit {
            offset: e.span().start,
            severity: Severity::Warning,
            code: "time-generated",
            message: format!(
                "TimeGenerated is a Sentinel column; Defender advanced hunting uses Timestamp — \
                 fails unless the tenant's Sentinel workspace is connected (the query reads \
                 {table})"
            ),
        });
    }
}

/// `datetime(…)` literals older than the service keeps.
fn stale_datetimes(text: &str, script: &Script, now: DateTime<Utc>, out: &mut Vec<Hit>) {
    let oldest = now - Duration::days(RETENTION_DAYS);
    walk::each_expr(script, &mut |e| {
        let Expr::Literal { kind: LiteralKind::Datetime, span } = e else { return };
        let Some(written) = text.get(span.start..span.end) else { return };
        let (Some(open), Some(close)) = (written.find('('), written.rfind(')')) else { return };
        let raw = &written[open + 1..close];
        let Some(when) = datetime_literal(raw) else { return };
        if when < oldest {
            out.push(Hit {
                offset: span.start,
                severity: Severity::Warning,
                code: "stale-datetime",
                message: format!(
                    "datetime({}) is more than {RETENTION_DAYS} days before now ({}): the \
                     service keeps {RETENTION_DAYS} days: this bound returns nothing older",
                    raw.trim(),
                    now.format("%Y-%m-%d")
                ),
            });
        }
    });
}

/// Tables that are not in the schema: an error when a real one is a near miss (a typo the
/// service refuses), else a warning (a Sentinel or custom table runs only where the tenant's
/// workspace provides it).
fn tables(script: &Script, schema: &Schema, out: &mut Vec<Hit>) {
    let mut seen = HashSet::new();
    for r in walk::table_refs(script) {
        if schema.table(&r.name).is_some() || !seen.insert(r.name.clone()) {
            continue;
        }
        let (severity, message) = match schema.did_you_mean(&r.name) {
            Some(near) => {
                (Severity::Error, format!("unknown table '{}' — did you mean '{near}'?", r.name))
            }
            None => (
                Severity::Warning,
                format!(
                    "'{}' is not a Defender XDR advanced-hunting table (schema of {}): it runs \
                     only where the tenant's Sentinel workspace or a custom table provides it",
                    r.name, schema.extracted
                ),
            ),
        };
        out.push(Hit { offset: r.span.start, severity, code: "unknown-table", message });
    }
}

/// Columns that a pipe starting at a known table uses but that neither the table nor an
/// earlier operator of the pipe provides. Warnings: the service adds columns over time. The
/// columns are followed through `where`, `extend`, `project` and its variants, `sort`, `top`,
/// `take` and `distinct`; after an operator whose output columns are not modelled here
/// (`summarize`, `join`, `mv-expand`, `parse`, …) the rest of the pipe is not checked.
fn columns(script: &Script, schema: &Schema, out: &mut Vec<Hit>) {
    let bound = walk::bound_names(script);
    let mut reported: HashSet<String> = HashSet::new();
    walk::each_expr(script, &mut |e| {
        let Expr::Pipe { source: Some(source), operators, .. } = e else { return };
        let Expr::Name { name, .. } = &**source else { return };
        if bound.contains(&name.as_str()) {
            return;
        }
        let Some(table) = schema.table(unquoted(name)) else { return };
        let mut pipe = Columns {
            table: &table.name,
            extracted: &schema.extracted,
            known: table.columns.iter().map(|c| c.name.clone()).collect(),
            bound: &bound,
            reported: &mut reported,
            out,
        };
        for op in operators {
            if !pipe.operator(&op.name, op.clauses.iter().flat_map(|c| &c.items)) {
                break;
            }
        }
    });
}

/// The columns of one pipe as its operators go by.
struct Columns<'a, 'o> {
    table: &'a str,
    extracted: &'a str,
    known: Vec<String>,
    bound: &'a [&'a str],
    reported: &'o mut HashSet<String>,
    out: &'o mut Vec<Hit>,
}

impl Columns<'_, '_> {
    /// Checks one operator's items and updates the columns; false when what comes out is not
    /// modelled (the rest of the pipe is then not checked).
    fn operator<'e>(&mut self, name: &str, items: impl Iterator<Item = &'e Expr>) -> bool {
        let items: Vec<&Expr> = items.collect();
        match name {
            "where" | "filter" | "take" | "limit" | "sample" | "sort" | "order" | "top" | "as"
            | "render" => {
                items.iter().for_each(|i| self.uses(i));
                true
            }
            "extend" | "serialize" => {
                let mut modelled = true;
                for item in items {
                    match assignment(item) {
                        Some((new, value)) => {
                            self.uses(value);
                            self.known.push(new.to_string());
                        }
                        None => {
                            self.uses(item);
                            modelled = false;
                        }
                    }
                }
                modelled
            }
            "project" | "distinct" => {
                let mut next = Vec::new();
                let mut modelled = true;
                for item in items {
                    match (assignment(item), item) {
                        (Some((new, value)), _) => {
                            self.uses(value);
                            next.push(new.to_string());
                        }
                        (None, Expr::Name { name, .. }) => {
                            self.uses(item);
                            next.push(unquoted(name).to_string());
                        }
                        (None, _) => {
                            self.uses(item);
                            modelled = false;
                        }
                    }
                }
                self.known = next;
                modelled
            }
            "project-away" => {
                let mut modelled = true;
                for item in items {
                    match item {
                        Expr::Name { name, .. } => {
                            self.uses(item);
                            self.known.retain(|k| k != unquoted(name));
                        }
                        _ => modelled = false,
                    }
                }
                modelled
            }
            "project-rename" => {
                for item in items {
                    if let Some((new, old)) = assignment(item) {
                        self.uses(old);
                        if let Expr::Name { name, .. } = old {
                            let old = unquoted(name);
                            self.known.retain(|k| k != old);
                        }
                        self.known.push(new.to_string());
                    }
                }
                true
            }
            "project-keep" | "project-reorder" | "summarize" => {
                items.iter().for_each(|i| self.uses(i));
                name == "project-reorder"
            }
            _ => false,
        }
    }

    /// Checks the column names `e` uses (not inside subqueries, not called functions, not
    /// names bound by `let`).
    fn uses(&mut self, e: &Expr) {
        match e {
            Expr::Name { name, span } => self.name(name, *span),
            Expr::Pipe { .. }
            | Expr::Literal { .. }
            | Expr::Wildcard { .. }
            | Expr::Opaque { .. } => {}
            Expr::Call { callee, args, .. } => {
                // `typeof(long)` names a type, not a column.
                if !matches!(&**callee, Expr::Name { name, .. } if name == "typeof") {
                    args.iter().for_each(|a| self.uses(a));
                }
            }
            Expr::Binary { op, lhs, rhs, .. } => {
                // `name = value` inside an aggregation list names a new column.
                if op != "=" {
                    self.uses(lhs);
                }
                self.uses(rhs);
            }
            Expr::Unary { operand, .. } => self.uses(operand),
            Expr::Range { low, high, .. } => {
                self.uses(low);
                self.uses(high);
            }
            Expr::Member { target, .. } => self.uses(target),
            Expr::Index { target, index, .. } => {
                self.uses(target);
                self.uses(index);
            }
            Expr::List { items, .. } => items.iter().for_each(|i| self.uses(i)),
        }
    }

    fn name(&mut self, written: &str, span: Span) {
        let name = unquoted(written);
        // `TimeGenerated` has a check of its own.
        if name.starts_with('$')
            || name == "TimeGenerated"
            || self.bound.contains(&written)
            || self.known.iter().any(|k| k == name)
            || !self.reported.insert(name.to_string())
        {
            return;
        }
        let hint = schema::nearest(name, self.known.iter().map(String::as_str))
            .map(|n| format!(" — did you mean '{n}'?"))
            .unwrap_or_default();
        self.out.push(Hit {
            offset: span.start,
            severity: Severity::Warning,
            code: "unknown-column",
            message: format!(
                "'{name}' is not a column of {} nor made earlier in the query{hint} (hunt's \
                 schema, of {}, may lack a newer column)",
                self.table, self.extracted
            ),
        });
    }
}

/// `name = value`: the new column's name and its value.
fn assignment(e: &Expr) -> Option<(&str, &Expr)> {
    match e {
        Expr::Binary { op, lhs, rhs, .. } if op == "=" => match &**lhs {
            Expr::Name { name, .. } => Some((unquoted(name), rhs)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
