//! Binding a scalar expression of the syntax tree against a row schema: names become column
//! indices, literals become values, operators get their semantics and a result type, and
//! constant subexpressions are folded. What the emulator cannot evaluate is refused here, by
//! name.

use std::borrow::Cow;
use std::cell::{Cell as Counter, RefCell};

use super::builtins::{self, Builtin};
use super::env::Binding;
use super::scalar::{B, ListOp};
use super::{Eval, Schema, functions};
use crate::emulator::kql::literal::{self, CONSTRUCTORS, name_text};
use crate::emulator::kql::value::{
    BOOL, BinOp, DYN, INT, LONG, REAL, SPAN, STRING, StrOp, TIME, Ty, V,
};
use crate::emulator::kql::{KqlError, op_error, unsupported};
use crate::kql::syntax::tree::Expr;

/// Most expression nodes one query may bind, and their deepest nesting (`and`/`or` chains
/// count as one level), so evaluation's recursion stays shallow whatever the input.
const MAX_NODES: usize = 50_000;
const MAX_DEPTH: usize = 200;

/// Binds the expressions of one operator.
pub(crate) struct Binder<'e, 'a> {
    pub ev: &'e Eval<'a>,
    /// The operator's name, for errors (`'where' operator: …`).
    pub op: String,
    depth: Counter<usize>,
    /// The parameters of the user functions being inlined, bound to their arguments.
    params: RefCell<Vec<(String, B, Ty)>>,
    /// The rows after the current one that `next()` reads, shared with the operator's stage
    /// (which keeps that many rows ahead), if the operator calls `next()`.
    pub lookahead: RefCell<Option<(Lookahead, usize)>>,
    /// Aggregate calls inside a `summarize` expression (`tostring(make_set(x)[0])`), each
    /// standing for the column of the summarized row that holds its result.
    pub aggregates: RefCell<Vec<(crate::kql::syntax::tree::Span, usize, Ty)>>,
}

/// The rows following the current one, kept by a stage for `next()`.
pub(crate) type Lookahead =
    std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Vec<crate::emulator::data::Cell>>>>;

impl<'e, 'a> Binder<'e, 'a> {
    pub(crate) fn new(ev: &'e Eval<'a>, op: &str) -> Self {
        Binder {
            ev,
            op: op.to_owned(),
            depth: Counter::new(0),
            params: RefCell::new(Vec::new()),
            lookahead: RefCell::new(None),
            aggregates: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn error(&self, what: impl std::fmt::Display) -> KqlError {
        op_error(&self.op, what)
    }

    pub(crate) fn unresolved(&self, name: &str) -> KqlError {
        // The service's words, and for the Sentinel column what the emulator models.
        let hint = if name == "TimeGenerated" && !self.ev.ctx.sentinel_streamed {
            " (TimeGenerated exists only in tenants whose Defender tables are streamed to \
             Microsoft Sentinel: use Timestamp, or model such a tenant with [emulator] \
             sentinel_streamed = true in hunt.toml or --sentinel-streamed)"
        } else {
            ""
        };
        self.error(format!("Failed to resolve scalar expression named '{name}'{hint}"))
    }

    fn too_complex(&self) -> KqlError {
        KqlError {
            message: format!(
                "Query is too complex for the hunt emulator (more than {MAX_NODES} operators \
                 or {MAX_DEPTH} nesting levels in its expressions)"
            ),
        }
    }

    /// Binds `e` against `schema`, folding constant subexpressions.
    pub(crate) fn bind(&self, e: &'a Expr, schema: &Schema) -> Result<(B, Ty), KqlError> {
        let nodes = self.ev.nodes.get() + 1;
        self.ev.nodes.set(nodes);
        let depth = self.depth.get() + 1;
        if nodes > MAX_NODES || depth > MAX_DEPTH {
            return Err(self.too_complex());
        }
        self.depth.set(depth);
        let r = self.bind_inner(e, schema);
        self.depth.set(depth - 1);
        let (b, ty) = r?;
        if !matches!(b, B::Const(_)) && !b.has_col() {
            return Ok((B::Const(b.eval(&[]).owned()), ty));
        }
        Ok((b, ty))
    }

    pub(crate) fn bind_all(&self, exprs: &[&'a Expr], schema: &Schema) -> Result<Vec<B>, KqlError> {
        exprs.iter().map(|e| self.bind(e, schema).map(|b| b.0)).collect()
    }

    fn bind_inner(&self, e: &'a Expr, schema: &Schema) -> Result<(B, Ty), KqlError> {
        let src = self.ev.src;
        let boxed = |e: &'a Expr| self.bind(e, schema).map(|(b, t)| (Box::new(b), t));
        if let Expr::Call { span, .. } = e
            && let Some(&(_, i, ty)) = self.aggregates.borrow().iter().find(|a| a.0 == *span)
        {
            return Ok((B::Col(i, ty == SPAN), ty));
        }
        Ok(match e {
            Expr::Name { name, .. } => {
                let name = name_text(name);
                if let Some((_, b, ty)) = self.params.borrow().iter().rev().find(|p| p.0 == name) {
                    return Ok((b.clone(), ty));
                }
                if let Some(i) = schema.iter().position(|(n, _)| *n == name) {
                    let ty = schema[i].1;
                    return Ok((B::Col(i, ty == SPAN), ty));
                }
                match self.ev.lookup(&name) {
                    Some(Binding::Scalar(v, ty)) => (B::Const(v), ty),
                    Some(_) => {
                        return Err(self.error(format!(
                            "'{name}' is a table or function, not a scalar (use toscalar())"
                        )));
                    }
                    None => return Err(self.unresolved(&name)),
                }
            }
            Expr::Literal { kind, span } => {
                let (v, ty) = literal::literal(src, *kind, span.start, span.end, self.ev.ctx.now)?;
                (B::Const(v), ty)
            }
            Expr::Unary { op, operand, .. } => {
                let (a, ty) = boxed(operand)?;
                if op == "-" { (B::Neg(a), ty) } else { (*a, ty) }
            }
            Expr::Binary { op, lhs, rhs, .. } => self.binary(op, e, lhs, rhs, schema)?,
            Expr::Call { callee, args, span } => self.call(callee, args, *span, schema)?,
            Expr::Member { target, name, .. } => {
                let key = B::Const(V::Str(Cow::Owned(name_text(name).into_owned())));
                (B::Member(boxed(target)?.0, Box::new(key)), DYN)
            }
            Expr::Index { target, index, .. } => {
                let key = match index.as_ref() {
                    // `x['key']` read by the lexer as a quoted name.
                    Expr::Opaque { span } => {
                        let text = src.get(span.start..span.end).unwrap_or("");
                        B::Const(V::Str(Cow::Owned(name_text(text).into_owned())))
                    }
                    other => self.bind(other, schema)?.0,
                };
                (B::Member(boxed(target)?.0, Box::new(key)), DYN)
            }
            Expr::List { .. } => {
                return Err(self.error("a list '(…)' is only supported after in, has_any, has_all"));
            }
            Expr::Wildcard { .. } => return Err(self.error("'*' is not supported here")),
            Expr::Range { .. } => return Err(self.error("'..' is only supported in between")),
            Expr::Pipe { .. } => {
                return Err(unsupported("tabular subquery in a scalar expression", "construct"));
            }
            Expr::Opaque { span } => {
                let text: String =
                    src.get(span.start..span.end).unwrap_or("").chars().take(20).collect();
                let word = text.split(['(', ' ']).next().unwrap_or("");
                return Err(unsupported(word, "operator"));
            }
        })
    }

    fn binary(
        &self,
        op: &str,
        whole: &'a Expr,
        lhs: &'a Expr,
        rhs: &'a Expr,
        schema: &Schema,
    ) -> Result<(B, Ty), KqlError> {
        let boxed = |e: &'a Expr| self.bind(e, schema).map(|(b, t)| (Box::new(b), t));
        if op == "and" || op == "or" {
            let terms = chain(whole, op);
            let bound = self.bind_all(&terms, schema)?;
            return Ok((if op == "and" { B::And(bound) } else { B::Or(bound) }, BOOL));
        }
        let cmp = match op {
            "==" => Some(BinOp::Eq),
            "!=" | "<>" => Some(BinOp::Ne),
            "=~" => Some(BinOp::EqCi),
            "!~" => Some(BinOp::NeCi),
            "<" => Some(BinOp::Lt),
            "<=" => Some(BinOp::Le),
            ">" => Some(BinOp::Gt),
            ">=" => Some(BinOp::Ge),
            _ => str_op(op),
        };
        if let Some(cmp) = cmp {
            return Ok((B::Bin(cmp, boxed(lhs)?.0, boxed(rhs)?.0), BOOL));
        }
        if let Some(list) = list_op(op) {
            let items: Vec<&'a Expr> = match rhs {
                Expr::List { items, .. } => items.iter().collect(),
                one => vec![one],
            };
            let a = boxed(lhs)?.0;
            let mut bound = Vec::with_capacity(items.len());
            for item in items {
                bound.push(if self.ev.is_tabular(item) {
                    B::Const(self.column_values(item)?)
                } else {
                    self.bind(item, schema)?.0
                });
            }
            return Ok((B::List(a, bound, list), BOOL));
        }
        match op {
            "between" | "!between" | "notbetween" => {
                let Expr::Range { low, high, .. } = rhs else {
                    return Err(self.error("'between' needs a range (low .. high)"));
                };
                let neg = op != "between";
                Ok((B::Between(boxed(lhs)?.0, boxed(low)?.0, boxed(high)?.0, neg), BOOL))
            }
            "+" | "-" | "*" | "/" | "%" => {
                let bop = match op {
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    _ => BinOp::Mod,
                };
                let ((a, lt), (b, rt)) = (boxed(lhs)?, boxed(rhs)?);
                let ty = arith_type(bop, lt, rt)
                    .ok_or_else(|| self.error(format!("Cannot apply '{op}' to {lt} and {rt}")))?;
                Ok((B::Bin(bop, a, b), ty))
            }
            "matches regex" => {
                let (a, _) = self.bind(lhs, schema)?;
                let pattern = match self.bind(rhs, schema)?.0 {
                    B::Const(v) => v.text().into_owned(),
                    // A pattern from the row (`extend r = @'…' | where x matches regex r`).
                    b => return Ok((B::Builtin(Builtin::MatchesEach, vec![a, b]), BOOL)),
                };
                let re = builtins::regex(&pattern).map_err(|m| self.error(m))?;
                Ok((B::Builtin(Builtin::Matches(re), vec![a]), BOOL))
            }
            "=" if matches!(lhs, Expr::List { .. }) => {
                // The call's own refusal first (`series_decompose_anomalies`), if any.
                self.bind(rhs, schema)?;
                Err(unsupported("(a, b, …) = …", "assignment of several columns"))
            }
            // `toint(C = count())` in `summarize`: a named expression inside a call is its
            // value (the name goes to the output column; Kusto.Language reads it so).
            "=" if self.op == "summarize" && matches!(lhs, Expr::Name { .. }) => {
                self.bind(rhs, schema)
            }
            "=" => Err(self.error("an assignment '=' is not allowed here")),
            other => Err(unsupported(other, "operator")),
        }
    }

    fn call(
        &self,
        callee: &'a Expr,
        args: &'a [Expr],
        span: crate::kql::syntax::tree::Span,
        schema: &Schema,
    ) -> Result<(B, Ty), KqlError> {
        let Expr::Name { name, .. } = callee else {
            return Err(self.error("only named functions can be called"));
        };
        let name = name.as_str();
        // `column_ifexists('Name', default)`: the column when the input has it, else the default.
        if name == "column_ifexists" {
            let [column, default] = args else {
                return Err(self.error("function 'column_ifexists' expects 2 argument(s)"));
            };
            let wanted = match self.bind(column, schema)?.0 {
                B::Const(V::Str(s)) => s.into_owned(),
                _ => return Err(self.error("column_ifexists: the column name must be a constant")),
            };
            if let Some(i) = schema.iter().position(|(n, _)| *n == wanted) {
                let ty = schema[i].1;
                return Ok((B::Col(i, ty == SPAN), ty));
            }
            return self.bind(default, schema);
        }
        if CONSTRUCTORS.contains(&name) {
            let text = match args {
                [one] => self.ev.src.get(one.span().start..one.span().end).unwrap_or(""),
                _ => "",
            };
            let (v, ty) = literal::constructor(
                self.ev.src,
                name,
                text,
                span.start,
                span.end,
                self.ev.ctx.now,
            )?;
            return Ok((B::Const(v), ty));
        }
        if matches!(name, "row_number" | "prev" | "next") {
            return self.window(name, args, schema);
        }
        if name == "toscalar" {
            let [arg] = args else { return Err(self.error("toscalar() takes one argument")) };
            return self.to_scalar(arg);
        }
        // A trailing `typeof(t)` (extract, extractjson, …) converts the result to `t`.
        let (args, convert) = match args.split_last() {
            Some((Expr::Call { callee, args: targs, .. }, rest)) if matches!(callee.as_ref(), Expr::Name { name, .. } if name == "typeof") =>
            {
                let text = targs.first().map_or("", |t| self.ev.text(t.span()));
                let ty = super::sources::type_of(text)
                    .ok_or_else(|| self.error(format!("unknown type '{text}'")))?;
                (rest, Some(ty))
            }
            _ => (args, None),
        };
        let bound = args.iter().map(|a| self.bind(a, schema)).collect::<Result<Vec<_>, _>>()?;
        let (b, ty) = self.function(name, bound, schema)?;
        Ok(match convert {
            Some(t) => (B::Builtin(Builtin::Convert(t), vec![b]), t),
            None => (b, ty),
        })
    }

    /// A call of `name` on bound arguments: a user function, `ingestion_time()`, or a
    /// built-in.
    fn function(
        &self,
        name: &str,
        bound: Vec<(B, Ty)>,
        schema: &Schema,
    ) -> Result<(B, Ty), KqlError> {
        if let Some(Binding::Function(params, body, _)) = self.ev.lookup(name) {
            return self.inline(name, params, body, bound);
        }
        if name == "ingestion_time" && bound.is_empty() {
            // The emulator's rows are ingested as they happen.
            return Ok(match schema.iter().position(|(n, t)| n == "Timestamp" && *t == TIME) {
                Some(i) => (B::Col(i, false), TIME),
                None => (B::Const(V::Null), TIME),
            });
        }
        if name == "pack_all" {
            // Every column of the row, by name; `pack_all(true)` leaves out null and empty ones.
            let skip_empty = match bound.first() {
                None => false,
                Some((B::Const(V::Bool(b)), _)) => *b,
                Some(_) => return Err(self.error("pack_all's argument must be a constant bool")),
            };
            let mut args = Vec::new();
            for (i, (n, t)) in schema.iter().enumerate() {
                args.push(B::Const(V::Str(n.clone().into())));
                args.push(B::Col(i, *t == SPAN));
            }
            let f = if skip_empty { Builtin::BagPackNonEmpty } else { Builtin::BagPack };
            return Ok((B::Builtin(f, args), DYN));
        }
        match builtins::bind(name, &bound) {
            Some(Ok((f, ty))) => Ok((B::Builtin(f, bound.into_iter().map(|b| b.0).collect()), ty)),
            Some(Err(m)) => Err(self.error(m)),
            None => functions::bind(name, bound, self.ev.ctx.now).map_err(|m| self.error(m)),
        }
    }

    /// `row_number([start])`, `prev(expr [, n [, default]])` and `next(…)`: evaluated once per
    /// row, in order, so only in `extend`, `project` and `serialize`; for `next` the stage keeps
    /// the rows ahead that it reads.
    fn window(&self, name: &str, args: &'a [Expr], schema: &Schema) -> Result<(B, Ty), KqlError> {
        if !matches!(self.op.as_str(), "extend" | "project" | "serialize") {
            return Err(unsupported(&format!("{name}() in '{}'", self.op), "function"));
        }
        let constant = |i: usize, or: i64| -> Result<i64, KqlError> {
            match args.get(i).map(|e| self.bind(e, schema)).transpose()? {
                None => Ok(or),
                Some((B::Const(V::Int(n)), _)) => Ok(n),
                _ => {
                    Err(self.error(format!("the arguments of {name}() must be constant integers")))
                }
            }
        };
        if name == "row_number" {
            if args.len() > 1 {
                return Err(unsupported("row_number() with a restart condition", "function"));
            }
            return Ok((B::RowNumber(std::cell::Cell::new(constant(0, 1)?)), LONG));
        }
        let Some(first) = args.first() else {
            return Err(self.error(format!("{name}() needs an expression")));
        };
        let (e, ty) = self.bind(first, schema)?;
        let n = usize::try_from(constant(1, 1)?).ok().filter(|n| (1..=10_000).contains(n));
        let n =
            n.ok_or_else(|| self.error(format!("{name}()'s offset must be between 1 and 10000")))?;
        let default = match args.get(2) {
            Some(d) => self.bind(d, schema)?.0,
            None => B::Const(V::Null),
        };
        if name == "next" {
            let mut slot = self.lookahead.borrow_mut();
            let (shared, most) = slot.get_or_insert_with(Default::default);
            *most = (*most).max(n);
            return Ok((B::Next(Box::new(e), n, Box::new(default), shared.clone()), ty));
        }
        let state = std::cell::RefCell::new(std::collections::VecDeque::new());
        Ok((B::Prev(Box::new(e), n, Box::new(default), state), ty))
    }

    /// A call of a user scalar function: its body's value with the parameters standing for
    /// the bound arguments (or their defaults).
    fn inline(
        &self,
        name: &str,
        params: &'a [crate::kql::syntax::tree::Param],
        body: &'a [crate::kql::syntax::tree::Statement],
        args: Vec<(B, Ty)>,
    ) -> Result<(B, Ty), KqlError> {
        use crate::kql::syntax::tree::Statement;
        let [Statement::Query(value)] = body else {
            return Err(self.error(format!(
                "the function '{name}' is not supported as a scalar function (only a body of one \
                 expression is)"
            )));
        };
        if args.len() > params.len() {
            return Err(self.error(format!("function '{name}': too many arguments")));
        }
        let mut frame = Vec::new();
        let mut args = args.into_iter();
        for p in params {
            let (b, ty) = match (args.next(), &p.default) {
                (Some(a), _) => a,
                (None, Some(d)) => self.bind(d, &Vec::new())?,
                (None, None) => {
                    return Err(self.error(format!("function '{name}': missing argument")));
                }
            };
            frame.push((name_text(&p.name).into_owned(), b, ty));
        }
        let mark = self.params.borrow().len();
        self.params.borrow_mut().extend(frame);
        // Names in the body that are not parameters resolve against the caller's row.
        let r = self.bind(value, &Vec::new());
        self.params.borrow_mut().truncate(mark);
        r
    }

    /// `toscalar(T)`: the first column of the first row of a table, evaluated now.
    fn to_scalar(&self, e: &'a Expr) -> Result<(B, Ty), KqlError> {
        let t = match self.ev.tabular(e) {
            Ok(t) => t,
            // `toscalar(array_length(Verses))`: a scalar expression is its own value.
            Err(err) if !matches!(e, Expr::Pipe { .. } | Expr::Name { .. }) => {
                return self.bind(e, &Vec::new()).map_err(|_| err);
            }
            Err(err) => return Err(err),
        };
        let ty = t.schema.first().map_or(STRING, |c| c.1);
        let mut rows = t.rows;
        let v = match rows.next().and_then(|r| r.into_iter().next()) {
            Some(c) => crate::emulator::kql::value::cell_value(&c, ty).owned(),
            None => V::Null,
        };
        Ok((B::Const(v), ty))
    }

    /// The values of the first column of table `e`, as a dynamic array (for `in (T)`).
    fn column_values(&self, e: &'a Expr) -> Result<V<'static>, KqlError> {
        let t = self.ev.tabular(e)?;
        let ty = t.schema.first().map_or(STRING, |c| c.1);
        let values = t
            .rows
            .filter_map(|r| r.into_iter().next())
            .map(|c| crate::emulator::kql::value::cell_value(&c, ty).to_json())
            .collect();
        Ok(V::Dyn(Cow::Owned(serde_json::Value::Array(values))))
    }
}

/// The operands of a chain `a op b op c …` (left-nested), walked without recursion.
fn chain<'x>(e: &'x Expr, op: &str) -> Vec<&'x Expr> {
    let mut out = Vec::new();
    let mut cur = e;
    while let Expr::Binary { op: o, lhs, rhs, .. } = cur {
        if o != op {
            break;
        }
        out.push(rhs.as_ref());
        cur = lhs;
    }
    out.push(cur);
    out.reverse();
    out
}

fn list_op(op: &str) -> Option<ListOp> {
    Some(match op {
        "in" => ListOp::In(false, false),
        "!in" | "notin" => ListOp::In(false, true),
        "in~" => ListOp::In(true, false),
        "!in~" => ListOp::In(true, true),
        "has_any" => ListOp::HasAny,
        "has_all" => ListOp::HasAll,
        _ => return None,
    })
}

fn str_op(op: &str) -> Option<BinOp> {
    let op = match op {
        "notcontains" => "!contains",
        "notcontainscs" => "!contains_cs",
        "containscs" => "contains_cs",
        // `Column:"term"` (in `where` and `search`): the term in that column, as `has`.
        ":" => "has",
        o => o,
    };
    let (neg, w) = match op.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, op),
    };
    let (cs, w) = match w.strip_suffix("_cs") {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let sop = match w {
        "has" => StrOp::Has,
        "hasprefix" => StrOp::HasPrefix,
        "hassuffix" => StrOp::HasSuffix,
        "contains" => StrOp::Contains,
        "startswith" => StrOp::StartsWith,
        "endswith" => StrOp::EndsWith,
        _ => return None,
    };
    Some(BinOp::Str(sop, cs, neg))
}

/// The result type of arithmetic `op` on `l` and `r` (`None`: not defined).
pub(crate) fn arith_type(op: BinOp, l: Ty, r: Ty) -> Option<Ty> {
    let num = |t: Ty| matches!(t, LONG | INT | REAL);
    Some(match (l, r) {
        (DYN, _) | (_, DYN) => DYN,
        (INT, INT) => INT,
        (LONG | INT, LONG | INT) => LONG,
        (a, b) if num(a) && num(b) => REAL,
        (TIME, SPAN) if matches!(op, BinOp::Add | BinOp::Sub) => TIME,
        (SPAN, TIME) if op == BinOp::Add => TIME,
        (TIME, TIME) if op == BinOp::Sub => SPAN,
        (SPAN, SPAN) if matches!(op, BinOp::Add | BinOp::Sub) => SPAN,
        (SPAN, SPAN) if op == BinOp::Div => REAL,
        (SPAN, LONG | INT) if matches!(op, BinOp::Mul | BinOp::Div) => SPAN,
        (LONG | INT, SPAN) if op == BinOp::Mul => SPAN,
        (STRING, _) | (_, STRING) => return None,
        _ => return None,
    })
}
