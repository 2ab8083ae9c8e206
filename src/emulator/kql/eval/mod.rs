//! Evaluation of a parsed query (the tree of [`crate::kql::syntax`]): the statements, the
//! tabular expression of the query, and for each operator a lazy iterator stage over
//! `data::rows`, with every column resolved to an index and every expression to a service type
//! name.
//!
//! Split into [`bind`] (scalar expressions against a schema), [`scalar`] (their evaluation),
//! [`functions`] (built-in scalar functions), [`aggregate`] (`summarize`) and [`tabular`] (the
//! operators).

mod aggregate;
mod bind;
mod functions;
mod scalar;
mod tabular;

use std::cell::Cell as Counter;

use super::literal::name_text;
use super::value::{Ty, intern};
use super::{Context, KqlError, ResultSet, unsupported};
use crate::emulator::data::{self, Cell};
use crate::kql::Token;
use crate::kql::syntax::tree::{Expr, Operator, Script, Span, Statement};
use tabular::{Stage, apply, narrow};

pub(crate) type Rows = Box<dyn Iterator<Item = Vec<Cell>> + Send>;
pub(crate) type Schema = Vec<(String, Ty)>;

/// A tabular value: its columns and (lazy) rows.
pub(crate) struct Table {
    pub schema: Schema,
    pub rows: Rows,
}

/// One query's evaluation: its text, tokens (for what the tree does not keep, like `asc`) and
/// context.
pub(crate) struct Eval<'a> {
    pub src: &'a str,
    toks: Vec<Token<'a>>,
    pub ctx: &'a Context,
    /// Expression nodes bound so far (bounded by `bind::MAX_NODES`).
    pub nodes: Counter<usize>,
}

impl<'a> Eval<'a> {
    fn new(src: &'a str, ctx: &'a Context) -> Self {
        let toks = crate::kql::lex(src).code().copied().collect();
        Eval { src, toks, ctx, nodes: Counter::new(0) }
    }

    /// The text of `span`.
    pub(crate) fn text(&self, span: Span) -> &'a str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    /// The code words (and punctuation) starting at or after byte `offset`.
    pub(crate) fn words_after(&self, offset: usize) -> impl Iterator<Item = &'a str> + '_ {
        let i = self.toks.partition_point(|t| t.pos.offset < offset);
        self.toks[i..].iter().map(|t| t.text)
    }

    /// Evaluates a tabular expression.
    fn tabular(&self, e: &Expr) -> Result<Table, KqlError> {
        match e {
            Expr::Name { .. } => self.pipe(e, &[]),
            Expr::Pipe { source: Some(source), operators, .. } => self.pipe(source, operators),
            Expr::Pipe { source: None, operators, .. } => {
                let name = operators.first().map_or("", |o| o.name.as_str());
                Err(unsupported(name, "operator"))
            }
            Expr::Opaque { span } => {
                let word = self.text(*span).split(['(', ' ']).next().unwrap_or("").to_owned();
                Err(unsupported(&word, "operator"))
            }
            _ => Err(KqlError {
                message: format!(
                    "'' operator: '{}' is not a tabular expression",
                    self.text(e.span()).chars().take(64).collect::<String>()
                ),
            }),
        }
    }

    /// `source | operators…`: a table of the synthetic data is generated only inside the
    /// window and the bounds of leading `Timestamp` predicates.
    fn pipe(&self, source: &Expr, operators: &[Operator]) -> Result<Table, KqlError> {
        let (generated, mut schema, rows) = match source {
            Expr::Name { name, .. } => {
                let table = name_text(name);
                let def = data::table(&table).ok_or_else(|| KqlError {
                    message: format!(
                        "'' operator: Failed to resolve table or column expression named '{table}'"
                    ),
                })?;
                let schema =
                    def.columns.iter().map(|(n, t)| ((*n).to_owned(), intern(t))).collect();
                (Some(def.name), schema, None)
            }
            other => {
                let t = self.tabular(other)?;
                (None, t.schema, Some(t.rows))
            }
        };
        let mut stages = Vec::with_capacity(operators.len());
        for op in operators {
            stages.push(self.bind_op(op, &mut schema)?);
        }
        let mut rows: Rows = match (generated, rows) {
            (Some(table), _) => {
                let mut window = self.ctx.window;
                for stage in &stages {
                    match stage {
                        Stage::Filter(b) => narrow(b, &mut window),
                        _ => break,
                    }
                }
                if window.0 < window.1 {
                    data::rows(table, window.0, window.1, self.ctx.events_per_hour)
                        .unwrap_or_else(|| Box::new(std::iter::empty()))
                } else {
                    Box::new(std::iter::empty())
                }
            }
            (None, Some(rows)) => rows,
            (None, None) => Box::new(std::iter::empty()),
        };
        for stage in stages {
            rows = apply(stage, rows);
        }
        Ok(Table { schema, rows })
    }
}

/// Evaluates `script` (parsed from `src`) over the synthetic data.
pub(crate) fn run(src: &str, script: &Script, ctx: &Context) -> Result<ResultSet, KqlError> {
    let ev = Eval::new(src, ctx);
    let mut result = None;
    for st in &script.statements {
        match st {
            Statement::Let { .. } => return Err(unsupported("let", "statement")),
            Statement::Directive { keyword, .. } => return Err(unsupported(keyword, "statement")),
            Statement::Query(e) => {
                if result.is_some() {
                    return Err(KqlError {
                        message: "A query with more than one result table is not supported by \
                                  the hunt emulator"
                            .into(),
                    });
                }
                result = Some(ev.tabular(e)?);
            }
        }
    }
    let table = result.ok_or_else(|| super::syntax_error(src, src.len(), ""))?;
    Ok(ResultSet {
        columns: table.schema.into_iter().map(|(n, t)| (n, t.to_owned())).collect(),
        rows: table.rows,
    })
}
