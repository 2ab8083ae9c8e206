//! `let`: the names a query binds (scalars, tabular expressions, functions with parameters,
//! `materialize`) and how a reference to one is evaluated. Scoping is lexical: a tabular
//! binding or a function keeps the bindings that were visible where it was defined.

use std::rc::Rc;
use std::sync::Arc;

use super::bind::Binder;
use super::{Eval, Rows, Schema, Table};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::{Ty, V};
use crate::kql::syntax::tree::{Expr, LetValue, Param, Statement};

/// The bindings visible at one point, innermost last.
pub(crate) type Scope<'a> = Rc<Vec<(String, Binding<'a>)>>;

/// What a `let` name stands for.
#[derive(Clone)]
pub(crate) enum Binding<'a> {
    /// A constant.
    Scalar(V<'static>, Ty),
    /// A tabular expression, evaluated (lazily, again) at each reference in its own scope.
    Tabular(&'a Expr, Scope<'a>),
    /// A table already computed (a function's tabular argument, the input of `invoke`).
    Rows(Arc<(Schema, Vec<Vec<Cell>>)>),
    /// A function: parameters, body, the scope it was defined in.
    Function(&'a [Param], &'a [Statement], Scope<'a>),
}

/// A table's rows, cloned from a computed table.
fn rows_of(t: &Arc<(Schema, Vec<Vec<Cell>>)>) -> Table {
    let data = Arc::clone(t);
    let n = data.1.len();
    let rows: Rows = Box::new((0..n).map(move |i| data.1[i].clone()));
    Table { schema: t.0.clone(), rows }
}

impl<'a> Eval<'a> {
    /// The binding of `name`, innermost first.
    pub(crate) fn lookup(&self, name: &str) -> Option<Binding<'a>> {
        self.env.borrow().iter().rev().find(|(n, _)| n == name).map(|(_, b)| b.clone())
    }

    /// The current scope, to keep with a definition.
    fn snapshot(&self) -> Scope<'a> {
        Rc::clone(&self.env.borrow())
    }

    /// Runs `f` with `scope` (plus `extra`) as the visible bindings, then restores them.
    fn within<T>(
        &self,
        scope: &Scope<'a>,
        extra: Vec<(String, Binding<'a>)>,
        f: impl FnOnce() -> Result<T, KqlError>,
    ) -> Result<T, KqlError> {
        let mut inner = (**scope).clone();
        inner.extend(extra);
        let saved = self.env.replace(Rc::new(inner));
        let r = f();
        self.env.replace(saved);
        r
    }

    fn define(&self, name: String, b: Binding<'a>) {
        let mut env = self.env.borrow_mut();
        Rc::make_mut(&mut env).push((name, b));
    }

    /// Binds a `let` statement.
    pub(crate) fn let_statement(&self, name: &str, value: &'a LetValue) -> Result<(), KqlError> {
        let name = name_text(name).into_owned();
        let b = match value {
            LetValue::Function { params, body, .. } => {
                Binding::Function(params, body, self.snapshot())
            }
            LetValue::Expr(e) if self.is_tabular(e) => Binding::Tabular(e, self.snapshot()),
            LetValue::Expr(e) => {
                let binder = Binder::new(self, "let");
                match binder.bind(e, &Vec::new())? {
                    (super::scalar::B::Const(v), ty) => Binding::Scalar(v, ty),
                    _ => {
                        return Err(
                            binder.error(format!("the value of '{name}' is not a constant"))
                        );
                    }
                }
            }
        };
        self.define(name, b);
        Ok(())
    }

    /// Does `e` stand for a table (rather than a scalar)?
    pub(crate) fn is_tabular(&self, e: &Expr) -> bool {
        match e {
            Expr::Pipe { .. } | Expr::Opaque { .. } => true,
            Expr::Name { name, .. } => {
                let name = name_text(name);
                match self.lookup(&name) {
                    Some(Binding::Scalar(..)) => false,
                    Some(Binding::Function(params, body, _)) => {
                        params.is_empty() && self.body_is_tabular(params, body)
                    }
                    Some(_) => true,
                    None => crate::emulator::data::table(&name).is_some(),
                }
            }
            Expr::Call { callee, .. } => match callee.as_ref() {
                Expr::Name { name, .. } if name == "materialize" || name == "view" => true,
                Expr::Name { name, .. } => match self.lookup(&name_text(name)) {
                    Some(Binding::Function(params, body, _)) => self.body_is_tabular(params, body),
                    _ => false,
                },
                _ => false,
            },
            _ => false,
        }
    }

    /// Is the value of a function body (its last statement) a table? A name is one when it
    /// is a tabular parameter (`T:(*)`) or a table.
    fn body_is_tabular(&self, params: &[Param], body: &[Statement]) -> bool {
        let Some(Statement::Query(last)) = body.last() else { return false };
        if let Expr::Name { name, .. } = last
            && let Some(p) = params.iter().find(|p| p.name == *name)
        {
            return self.text(p.ty).trim_start().starts_with('(');
        }
        let locals: Vec<&str> = body
            .iter()
            .filter_map(|s| match s {
                Statement::Let { name, value: LetValue::Expr(e), .. } if self.is_tabular(e) => {
                    Some(name.as_str())
                }
                _ => None,
            })
            .collect();
        match last {
            Expr::Name { name, .. } if locals.contains(&name.as_str()) => true,
            e => self.is_tabular(e),
        }
    }

    /// A reference to a bound table, if `name` is one.
    pub(crate) fn bound_table(&self, name: &str) -> Option<Result<Table, KqlError>> {
        match self.lookup(name)? {
            Binding::Tabular(e, scope) => Some(self.within(&scope, Vec::new(), || self.tabular(e))),
            Binding::Rows(t) => Some(Ok(rows_of(&t))),
            Binding::Function(params, body, scope) if params.is_empty() => {
                Some(self.call_function(name, params, body, &scope, &[], None))
            }
            _ => None,
        }
    }

    /// Calls a tabular function: parameters bound to the arguments (or their defaults), then
    /// the body's statements; its last is the value. `input` is the table piped into `invoke`.
    pub(crate) fn call_function(
        &self,
        name: &str,
        params: &'a [Param],
        body: &'a [Statement],
        scope: &Scope<'a>,
        args: &'a [Expr],
        input: Option<Table>,
    ) -> Result<Table, KqlError> {
        let mut input = input;
        let mut bound = Vec::new();
        let mut args = args.iter();
        for (i, p) in params.iter().enumerate() {
            let tabular = self.text(p.ty).trim_start().starts_with('(');
            let b = if tabular {
                let t = if i == 0 && input.is_some() {
                    input.take_table()
                } else {
                    match args.next() {
                        Some(a) => self.tabular(a)?,
                        None => return Err(self.arity(name)),
                    }
                };
                let rows: Vec<Vec<Cell>> = t.rows.collect();
                Binding::Rows(Arc::new((t.schema, rows)))
            } else {
                let arg = args.next().or(p.default.as_ref()).ok_or_else(|| self.arity(name))?;
                let binder = Binder::new(self, "invoke");
                match binder.bind(arg, &Vec::new())? {
                    (super::scalar::B::Const(v), ty) => Binding::Scalar(v, ty),
                    _ => {
                        return Err(binder.error(format!(
                            "the argument '{}' of '{name}' must be a constant",
                            p.name
                        )));
                    }
                }
            };
            bound.push((name_text(&p.name).into_owned(), b));
        }
        if args.next().is_some() {
            return Err(self.arity(name));
        }
        self.within(scope, bound, || {
            self.statements(body)?.ok_or_else(|| KqlError {
                message: format!("the function '{name}' has no tabular result"),
            })
        })
    }

    fn arity(&self, name: &str) -> KqlError {
        KqlError { message: format!("function '{name}': wrong number of arguments") }
    }

    /// Runs statements (a query's, or a function body's): `let`s bind, the query is the value.
    pub(crate) fn statements(&self, body: &'a [Statement]) -> Result<Option<Table>, KqlError> {
        let mut result = None;
        for st in body {
            match st {
                Statement::Let { name, value, .. } => self.let_statement(name, value)?,
                Statement::Directive { keyword, .. } if keyword == "set" => {}
                Statement::Directive { keyword, .. } => {
                    return Err(crate::emulator::kql::unsupported(keyword, "statement"));
                }
                Statement::Query(e) => {
                    if result.is_some() {
                        return Err(KqlError {
                            message: "A query with more than one result table is not supported \
                                      by the hunt emulator"
                                .into(),
                        });
                    }
                    result = Some(self.tabular(e)?);
                }
            }
        }
        Ok(result)
    }
}

/// Taking the piped-in table of `invoke` out of its option, once.
trait TakeTable {
    fn take_table(&mut self) -> Table;
}

impl TakeTable for Option<Table> {
    fn take_table(&mut self) -> Table {
        self.take()
            .unwrap_or_else(|| Table { schema: Vec::new(), rows: Box::new(std::iter::empty()) })
    }
}
