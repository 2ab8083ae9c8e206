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
mod builtins;
mod combine;
mod device_functions;
mod env;
mod external;
mod functions;
mod ipv4_lookup;
mod nested;
mod pivot;
mod reshape;
mod scalar;
mod search;
mod series;
mod sources;
mod tabular;

use std::cell::{Cell as Counter, RefCell};
use std::rc::Rc;

use super::literal::name_text;
use super::value::{Ty, intern};
use super::{Context, KqlError, ResultSet, unsupported};
use crate::emulator::data::{self, Cell};
use crate::kql::Token;
use crate::kql::syntax::tree::{Expr, Operator, Script, Span};
use env::{Binding, Scope};
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
    /// The `let` bindings visible now.
    env: RefCell<Scope<'a>>,
}

impl<'a> Eval<'a> {
    fn new(src: &'a str, ctx: &'a Context) -> Self {
        let toks = crate::kql::lex(src).code().copied().collect();
        Eval { src, toks, ctx, nodes: Counter::new(0), env: RefCell::new(Rc::new(Vec::new())) }
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
    pub(crate) fn tabular(&self, e: &'a Expr) -> Result<Table, KqlError> {
        match e {
            Expr::Call { callee, args, .. } => match (callee.as_ref(), args.as_slice()) {
                (Expr::Name { name, .. }, [inner]) if name == "materialize" => self.tabular(inner),
                (Expr::Name { name, .. }, _) => match self.lookup(&name_text(name)) {
                    Some(Binding::Function(params, body, scope)) => {
                        self.call_function(name, params, body, &scope, args, None)
                    }
                    None if device_functions::is_device_function(name) => {
                        self.device_function(name, args)
                    }
                    _ => Err(KqlError {
                        message: format!(
                            "'' operator: Failed to resolve table or function named '{}'",
                            name_text(name)
                        ),
                    }),
                },
                _ => Err(KqlError { message: "'' operator: expected a table".into() }),
            },
            Expr::Name { .. } => self.pipe(e, &[]),
            Expr::Pipe { source: Some(source), operators, .. } => self.pipe(source, operators),
            Expr::Pipe { source: None, operators, .. } => {
                let Some((first, rest)) = operators.split_first() else {
                    return Err(unsupported("", "operator"));
                };
                let t = match first.name.as_str() {
                    "union" => self.union(first, None)?,
                    "search" => self.search(first, None)?,
                    "find" => self.find(first, None)?,
                    "print" => self.print(first)?,
                    "range" => self.range(first)?,
                    other => return Err(unsupported(other, "operator")),
                };
                self.pipe_from(Base::Rows(t.rows), t.schema, rest)
            }
            Expr::Opaque { span } => self.table_literal(*span),
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
    fn pipe(&self, source: &'a Expr, operators: &'a [Operator]) -> Result<Table, KqlError> {
        let bound = match source {
            Expr::Name { name, .. } => self.bound_table(&name_text(name)).transpose()?,
            _ => None,
        };
        let (base, schema) = match (bound, source) {
            (Some(t), _) => (Base::Rows(t.rows), t.schema),
            (None, Expr::Name { name, .. }) => {
                let table = name_text(name);
                let def = data::table(&table).ok_or_else(|| KqlError {
                    message: format!(
                        "'' operator: Failed to resolve table or column expression named '{table}'"
                    ),
                })?;
                let mut schema: Schema =
                    def.columns.iter().map(|(n, t)| ((*n).to_owned(), intern(t))).collect();
                if self.time_generated(def) {
                    schema.push(("TimeGenerated".to_owned(), intern("DateTime")));
                }
                (Base::Generated(def.name), schema)
            }
            (None, other) => {
                let t = self.tabular(other)?;
                (Base::Rows(t.rows), t.schema)
            }
        };
        self.pipe_from(base, schema, operators)
    }

    /// Whether `def` gets a `TimeGenerated` column (see [`Context::sentinel_streamed`]).
    pub(crate) fn time_generated(&self, def: &data::TableDef) -> bool {
        self.ctx.sentinel_streamed
            && def.columns.first().is_some_and(|c| c.0 == "Timestamp")
            && !def.columns.iter().any(|c| c.0 == "TimeGenerated")
    }

    /// The operators of a pipe over `base` (with `schema`).
    pub(crate) fn pipe_from(
        &self,
        mut base: Base,
        mut schema: Schema,
        operators: &'a [Operator],
    ) -> Result<Table, KqlError> {
        let mut stages = Vec::with_capacity(operators.len());
        for op in operators {
            // The API returns a query's rows whatever chart `render` asks for; `as` names the
            // table for the service's client, which changes nothing here.
            if op.name == "render" || op.name == "as" {
                continue;
            }
            if matches!(
                op.name.as_str(),
                "invoke"
                    | "union"
                    | "mv-apply"
                    | "mvapply"
                    | "evaluate"
                    | "search"
                    | "find"
                    | "getschema"
                    | "partition"
            ) {
                let input = Table { schema, rows: self.realize(base, std::mem::take(&mut stages)) };
                let t = match op.name.as_str() {
                    "union" => self.union(op, Some(input))?,
                    "invoke" => self.invoke(op, input)?,
                    "evaluate" => self.evaluate(op, input)?,
                    "search" => self.search(op, Some(input))?,
                    "find" => self.find(op, Some(input))?,
                    "getschema" => getschema(&input.schema),
                    "partition" => self.partition(op, input)?,
                    _ => self.mv_apply(op, input)?,
                };
                (base, schema) = (Base::Rows(t.rows), t.schema);
                continue;
            }
            stages.push(self.bind_op(op, &mut schema)?);
        }
        Ok(Table { rows: self.realize(base, stages), schema })
    }

    /// The rows of `base` through `stages`; generated data only inside the window, narrowed
    /// by the leading `Timestamp` predicates.
    fn realize(&self, base: Base, stages: Vec<Stage>) -> Rows {
        let mut rows: Rows = match base {
            Base::Generated(table) => {
                let mut window = self.ctx.window;
                // Narrowing reads column 0 as the Timestamp: inventory tables have none.
                let timed = data::table(table).is_some_and(|d| d.columns[0].0 == "Timestamp");
                for stage in stages.iter().take_while(|_| timed) {
                    match stage {
                        Stage::Filter(b) => narrow(b, &mut window),
                        _ => break,
                    }
                }
                let rows = if window.0 < window.1 {
                    data::tenant_rows(
                        table,
                        window.0,
                        window.1,
                        self.ctx.events_per_hour,
                        self.ctx.tenant,
                    )
                    .unwrap_or_else(|| Box::new(std::iter::empty()))
                } else {
                    Box::new(std::iter::empty())
                };
                match data::table(table) {
                    Some(def) if self.time_generated(def) => with_time_generated(rows),
                    _ => rows,
                }
            }
            Base::Rows(rows) => rows,
        };
        let mut stages = stages.into_iter().peekable();
        while let Some(stage) = stages.next() {
            // A `where` right after a `join` is tested on each pair as it is made, so pairs
            // that fail it are never copied out (a day's join can make millions).
            let stage = match stage {
                Stage::Join(mut j) if matches!(stages.peek(), Some(Stage::Filter(_))) => {
                    if let Some(Stage::Filter(f)) = stages.next() {
                        j.filter = Some(f);
                    }
                    Stage::Join(j)
                }
                other => other,
            };
            rows = apply(stage, rows);
        }
        rows
    }

    /// `| invoke f(args)`: the function called with the table so far as its first argument.
    fn invoke(&self, op: &'a Operator, input: Table) -> Result<Table, KqlError> {
        let call = tabular::clause(op, None).first();
        let Some(Expr::Call { callee, args, .. }) = call else {
            return Err(KqlError { message: "'invoke' operator: expected a function call".into() });
        };
        let Expr::Name { name, .. } = callee.as_ref() else {
            return Err(KqlError { message: "'invoke' operator: expected a function call".into() });
        };
        match self.lookup(&name_text(name)) {
            Some(Binding::Function(params, body, scope)) => {
                self.call_function(name, params, body, &scope, args, Some(input))
            }
            None if name == "FileProfile" => self.file_profile(args, input),
            None if name == "SeenBy" => self.seen_by(input),
            _ => Err(KqlError {
                message: format!("'invoke' operator: Unknown function: '{}'", name_text(name)),
            }),
        }
    }
}

/// Where a pipe's rows come from.
pub(crate) enum Base {
    /// A table of the synthetic data, generated when the window is known.
    Generated(&'static str),
    /// Rows already flowing.
    Rows(Rows),
}

/// Evaluates `script` (parsed from `src`) over the synthetic data.
pub(crate) fn run<'a>(
    src: &'a str,
    script: &'a Script,
    ctx: &'a Context,
) -> Result<ResultSet, KqlError> {
    let ev = Eval::new(src, ctx);
    let table = ev.statements(&script.statements)?.ok_or_else(|| KqlError {
        message: "Syntax error: the query has no tabular expression to run (only 'let' or \
                  'set' statements)"
            .into(),
    })?;
    Ok(ResultSet {
        columns: table.schema.into_iter().map(|(n, t)| (n, t.to_owned())).collect(),
        rows: table.rows,
    })
}

/// `rows` with a last column `TimeGenerated` copied from `Timestamp` (column 0).
pub(crate) fn with_time_generated(rows: Rows) -> Rows {
    Box::new(rows.map(|mut r| {
        let t = r.first().cloned().unwrap_or(Cell::Null);
        r.push(t);
        r
    }))
}

/// `getschema`: a row per column of the input, as Kusto describes it (name, ordinal, .NET
/// type, Kusto type).
fn getschema(schema: &Schema) -> Table {
    use crate::emulator::kql::value::{INT, STRING};
    let rows: Vec<Vec<Cell>> = schema
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let (net, kusto) = match *ty {
                "String" => ("System.String", "string"),
                "Int64" => ("System.Int64", "long"),
                "Int32" => ("System.Int32", "int"),
                "Double" => ("System.Double", "real"),
                "Boolean" => ("System.SByte", "bool"),
                "DateTime" => ("System.DateTime", "datetime"),
                "TimeSpan" => ("System.TimeSpan", "timespan"),
                "Guid" => ("System.Guid", "guid"),
                "Decimal" => ("System.Data.SqlTypes.SqlDecimal", "decimal"),
                _ => ("System.Object", "dynamic"),
            };
            vec![
                Cell::Str(name.clone()),
                Cell::Int(i as i64),
                Cell::Str(net.to_owned()),
                Cell::Str(kusto.to_owned()),
            ]
        })
        .collect();
    let schema = vec![
        ("ColumnName".to_owned(), STRING),
        ("ColumnOrdinal".to_owned(), INT),
        ("DataType".to_owned(), STRING),
        ("ColumnType".to_owned(), STRING),
    ];
    Table { schema, rows: Box::new(rows.into_iter()) }
}
