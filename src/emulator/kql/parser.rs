//! The syntax tree of one tabular expression statement (`Table | op | op …`), built by
//! recursive descent over the lexer's tokens. Names are resolved later, in `eval`.

use super::lexer::{Tok, Token};
use super::{KqlError, syntax_error, unsupported};

/// A parsed query.
#[derive(Debug)]
pub(crate) struct Query {
    /// The source table and its offset.
    pub table: (String, usize),
    /// The piped operators, in order, each with its keyword as written (`where`, `filter`, …).
    pub ops: Vec<(Op, &'static str)>,
}

/// A sort key: expression, descending, nulls first.
#[derive(Debug)]
pub(crate) struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: bool,
}

/// One aggregate of `summarize`: output name (if given), function, arguments, offset.
#[derive(Debug)]
pub(crate) struct Agg {
    pub name: Option<String>,
    pub func: String,
    pub args: Vec<Expr>,
}

/// A piped operator.
#[derive(Debug)]
pub(crate) enum Op {
    Where(Expr),
    Project(Vec<(Option<String>, Expr)>),
    ProjectAway(Vec<(String, usize)>),
    ProjectRename(Vec<(String, String, usize)>),
    Extend(Vec<(Option<String>, Expr)>),
    Take(Expr),
    Count,
    Summarize { aggs: Vec<Agg>, by: Vec<(Option<String>, Expr)> },
    Distinct(Vec<(Option<String>, Expr)>),
    Sort(Vec<SortKey>),
    Top { n: Expr, key: SortKey },
}

/// Binary operators: comparisons, string predicates and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    EqCi,
    NeCi,
    Lt,
    Le,
    Gt,
    Ge,
    /// A string predicate: which, case-sensitive, negated.
    Str(StrOp, bool, bool),
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// String predicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrOp {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
}

/// An expression.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Col(String),
    Str(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    Span(i64),
    /// A literal constructor with raw text (`datetime(…)`, `dynamic(…)`, …) and its offset.
    Raw(String, String, usize),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `in`/`!in`/`in~`/`!in~`/`has_any`/`has_all` lists: operand, list, kind.
    List(Box<Expr>, Vec<Expr>, ListOp),
    /// `between`: operand, low, high, negated.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    Call(String, Vec<Expr>),
    /// `base.key` or `base[index]`.
    Member(Box<Expr>, Box<Expr>),
}

/// List predicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListOp {
    /// `in` variants: case-insensitive, negated.
    In(bool, bool),
    HasAny,
    HasAll,
}

/// The operator keywords the emulator evaluates.
const KEYWORDS: &[&str] = &[
    "where",
    "filter",
    "project",
    "project-away",
    "project-rename",
    "extend",
    "take",
    "limit",
    "count",
    "summarize",
    "distinct",
    "order",
    "sort",
    "top",
];

/// Real Kusto operators the emulator does not evaluate.
const UNSUPPORTED_OPS: &[&str] = &[
    "join",
    "union",
    "mv-expand",
    "mv-apply",
    "parse",
    "parse-where",
    "parse-kv",
    "render",
    "invoke",
    "lookup",
    "evaluate",
    "make-series",
    "serialize",
    "sample",
    "sample-distinct",
    "search",
    "getschema",
    "as",
    "facet",
    "fork",
    "partition",
    "scan",
    "reduce",
    "find",
    "top-nested",
    "top-hitters",
    "project-keep",
    "project-reorder",
    "consume",
    "range",
    "print",
    "datatable",
    "externaldata",
    "extend-columns",
    "lookup",
    "graph-match",
    "make-graph",
];

/// Real Kusto sources (first words) the emulator does not evaluate.
const UNSUPPORTED_SOURCES: &[&str] =
    &["union", "search", "find", "print", "datatable", "externaldata", "range", "evaluate"];

/// Parses `tokens` of `src` into a query.
pub(crate) fn parse(src: &str, tokens: &[Token]) -> Result<Query, KqlError> {
    let mut p = Parser { src, t: tokens, i: 0, nodes: 0, depth: 0 };
    while p.eat_sym(";") {}
    let q = p.query()?;
    while p.eat_sym(";") {}
    if !matches!(p.peek(), Tok::Eof) {
        return Err(p.error());
    }
    Ok(q)
}

/// Bounds on expression size and nesting, so evaluation's recursion stays shallow whatever
/// the input.
const MAX_NODES: usize = 1000;
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    src: &'a str,
    t: &'a [Token],
    i: usize,
    /// Operator nodes built so far.
    nodes: usize,
    /// Current nesting of expressions.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.t[self.i.min(self.t.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.t[(self.i + n).min(self.t.len() - 1)].tok
    }

    fn pos(&self) -> usize {
        self.t[self.i.min(self.t.len() - 1)].pos
    }

    fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.i < self.t.len() - 1 {
            self.i += 1;
        }
        tok
    }

    /// A syntax error at the current token.
    fn error(&self) -> KqlError {
        let tok = &self.t[self.i.min(self.t.len() - 1)];
        let text: String = self.src[tok.pos..tok.end].chars().take(64).collect();
        syntax_error(self.src, tok.pos, &text)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Tok::Sym(x) if *x == s) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), KqlError> {
        if self.eat_sym(s) { Ok(()) } else { Err(self.error()) }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), KqlError> {
        if self.eat_word(w) { Ok(()) } else { Err(self.error()) }
    }

    /// A name: an identifier or `['quoted name']`.
    fn name(&mut self) -> Result<(String, usize), KqlError> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Ident(w) if !w.starts_with('!') && !w.contains('-') && !w.ends_with('~') => {
                self.bump();
                Ok((w, pos))
            }
            Tok::Sym("[") => {
                if let (Tok::Str(s), Tok::Sym("]")) = (self.peek_at(1).clone(), self.peek_at(2)) {
                    self.i += 3;
                    Ok((s, pos))
                } else {
                    Err(self.error())
                }
            }
            _ => Err(self.error()),
        }
    }

    fn query(&mut self) -> Result<Query, KqlError> {
        if self.is_word("let") || self.is_word("set") || self.is_word("declare") {
            let Tok::Ident(w) = self.peek().clone() else { unreachable!() };
            return Err(unsupported(&w, "statement"));
        }
        if let Tok::Ident(w) = self.peek()
            && UNSUPPORTED_SOURCES.contains(&w.as_str())
            && !matches!(self.peek_at(1), Tok::Sym("|" | ";") | Tok::Eof)
        {
            return Err(unsupported(w, "operator"));
        }
        let table = self.name()?;
        let mut ops = Vec::new();
        while self.eat_sym("|") {
            let kw = match self.peek() {
                Tok::Ident(w) => KEYWORDS.iter().find(|k| **k == w).copied().unwrap_or(""),
                _ => "",
            };
            ops.push((self.op()?, kw));
        }
        Ok(Query { table, ops })
    }

    fn op(&mut self) -> Result<Op, KqlError> {
        let Tok::Ident(word) = self.peek().clone() else {
            return Err(self.error());
        };
        if UNSUPPORTED_OPS.contains(&word.as_str()) {
            return Err(unsupported(&word, "operator"));
        }
        let op = match word.as_str() {
            "where" | "filter" => {
                self.bump();
                Op::Where(self.expr()?)
            }
            "project" => {
                self.bump();
                Op::Project(self.items()?)
            }
            "extend" => {
                self.bump();
                Op::Extend(self.items()?)
            }
            "distinct" => {
                self.bump();
                Op::Distinct(self.items()?)
            }
            "project-away" => {
                self.bump();
                let mut names = vec![self.name()?];
                while self.eat_sym(",") {
                    names.push(self.name()?);
                }
                Op::ProjectAway(names)
            }
            "project-rename" => {
                self.bump();
                let mut names = Vec::new();
                loop {
                    let (new, _) = self.name()?;
                    self.expect_sym("=")?;
                    let (old, pos) = self.name()?;
                    names.push((new, old, pos));
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                Op::ProjectRename(names)
            }
            "take" | "limit" => {
                self.bump();
                Op::Take(self.expr()?)
            }
            "count" => {
                self.bump();
                Op::Count
            }
            "summarize" => {
                self.bump();
                self.summarize()?
            }
            "order" | "sort" => {
                self.bump();
                self.expect_word("by")?;
                let mut keys = vec![self.sort_key()?];
                while self.eat_sym(",") {
                    keys.push(self.sort_key()?);
                }
                Op::Sort(keys)
            }
            "top" => {
                self.bump();
                let n = self.additive()?;
                self.expect_word("by")?;
                Op::Top { n, key: self.sort_key()? }
            }
            _ => return Err(self.error()),
        };
        Ok(op)
    }

    fn summarize(&mut self) -> Result<Op, KqlError> {
        let mut aggs = Vec::new();
        if !self.is_word("by") {
            loop {
                let name = self.alias()?;
                let pos = self.pos();
                let Tok::Ident(func) = self.bump() else {
                    return Err(self.err_at(pos));
                };
                if !matches!(self.peek(), Tok::Sym("(")) {
                    return Err(self.error());
                }
                let args = self.args()?;
                aggs.push(Agg { name, func, args });
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        let by = if self.eat_word("by") { self.items()? } else { Vec::new() };
        if aggs.is_empty() && by.is_empty() {
            return Err(self.error());
        }
        Ok(Op::Summarize { aggs, by })
    }

    fn err_at(&self, pos: usize) -> KqlError {
        let tok = self.t.iter().find(|t| t.pos == pos);
        let text: String = tok.map_or("", |t| &self.src[t.pos..t.end]).chars().take(64).collect();
        syntax_error(self.src, pos, &text)
    }

    /// `Name =` in front of an item, if present.
    fn alias(&mut self) -> Result<Option<String>, KqlError> {
        let is_name = matches!(self.peek(), Tok::Ident(_)) || matches!(self.peek(), Tok::Sym("["));
        if !is_name {
            return Ok(None);
        }
        let save = self.i;
        if let Ok((name, _)) = self.name()
            && self.eat_sym("=")
        {
            return Ok(Some(name));
        }
        self.i = save;
        Ok(None)
    }

    /// `[Name =] expr, …`
    fn items(&mut self) -> Result<Vec<(Option<String>, Expr)>, KqlError> {
        let mut items = Vec::new();
        loop {
            let alias = self.alias()?;
            items.push((alias, self.expr()?));
            if !self.eat_sym(",") {
                return Ok(items);
            }
        }
    }

    fn sort_key(&mut self) -> Result<SortKey, KqlError> {
        let expr = self.expr()?;
        let desc = if self.eat_word("asc") {
            false
        } else {
            self.eat_word("desc");
            true
        };
        let mut nulls_first = !desc;
        if self.eat_word("nulls") {
            if self.eat_word("first") {
                nulls_first = true;
            } else {
                self.expect_word("last")?;
                nulls_first = false;
            }
        }
        Ok(SortKey { expr, desc, nulls_first })
    }

    /// `( expr, … )`
    fn args(&mut self) -> Result<Vec<Expr>, KqlError> {
        self.expect_sym("(")?;
        let mut args = Vec::new();
        if self.eat_sym(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat_sym(")") {
                return Ok(args);
            }
            self.expect_sym(",")?;
        }
    }

    /// Counts one more operator node.
    fn grow(&mut self) -> Result<(), KqlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || self.depth > MAX_DEPTH {
            return Err(self.too_complex());
        }
        Ok(())
    }

    fn too_complex(&self) -> KqlError {
        KqlError {
            message: format!(
                "Query is too complex for the hunt emulator (more than {MAX_NODES} operators \
                 or {MAX_DEPTH} nesting levels in its expressions)"
            ),
        }
    }

    fn expr(&mut self) -> Result<Expr, KqlError> {
        self.depth += 1;
        let e = if self.depth > MAX_DEPTH { Err(self.too_complex()) } else { self.or() };
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> Result<Expr, KqlError> {
        let first = self.and()?;
        if !self.is_word("or") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.eat_word("or") {
            self.grow()?;
            terms.push(self.and()?);
        }
        Ok(Expr::Or(terms))
    }

    fn and(&mut self) -> Result<Expr, KqlError> {
        let first = self.comparison()?;
        if !self.is_word("and") {
            return Ok(first);
        }
        let mut terms = vec![first];
        while self.eat_word("and") {
            self.grow()?;
            terms.push(self.comparison()?);
        }
        Ok(Expr::And(terms))
    }

    fn comparison(&mut self) -> Result<Expr, KqlError> {
        let left = self.additive()?;
        let op = match self.peek().clone() {
            Tok::Sym("==") => BinOp::Eq,
            Tok::Sym("!=" | "<>") => BinOp::Ne,
            Tok::Sym("=~") => BinOp::EqCi,
            Tok::Sym("!~") => BinOp::NeCi,
            Tok::Sym("<") => BinOp::Lt,
            Tok::Sym("<=") => BinOp::Le,
            Tok::Sym(">") => BinOp::Gt,
            Tok::Sym(">=") => BinOp::Ge,
            Tok::Ident(w) => {
                if let Some(list) = list_op(&w) {
                    self.bump();
                    let items = self.list()?;
                    self.grow()?;
                    return Ok(Expr::List(Box::new(left), items, list));
                }
                if w == "between" || w == "!between" {
                    self.bump();
                    self.expect_sym("(")?;
                    let lo = self.additive()?;
                    self.expect_sym("..")?;
                    let hi = self.additive()?;
                    self.expect_sym(")")?;
                    let neg = w.starts_with('!');
                    self.grow()?;
                    return Ok(Expr::Between(Box::new(left), Box::new(lo), Box::new(hi), neg));
                }
                if matches!(w.as_str(), "matches" | "like" | "notlike" | "has_any_index") {
                    return Err(unsupported(&w, "operator"));
                }
                match str_op(&w) {
                    Some(op) => op,
                    None => return Ok(left),
                }
            }
            _ => return Ok(left),
        };
        self.bump();
        let right = self.additive()?;
        self.grow()?;
        Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
    }

    /// `( item, … )` of `in`, `has_any`, …
    fn list(&mut self) -> Result<Vec<Expr>, KqlError> {
        if !matches!(self.peek(), Tok::Sym("(")) {
            return Err(self.error());
        }
        self.args()
    }

    fn additive(&mut self) -> Result<Expr, KqlError> {
        let saved = self.depth;
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("+") => BinOp::Add,
                Tok::Sym("-") => BinOp::Sub,
                _ => {
                    self.depth = saved;
                    return Ok(left);
                }
            };
            self.bump();
            self.depth += 1;
            let right = self.multiplicative()?;
            self.grow()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, KqlError> {
        let saved = self.depth;
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym("*") => BinOp::Mul,
                Tok::Sym("/") => BinOp::Div,
                Tok::Sym("%") => BinOp::Mod,
                _ => {
                    self.depth = saved;
                    return Ok(left);
                }
            };
            self.bump();
            self.depth += 1;
            let right = self.unary()?;
            self.grow()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, KqlError> {
        if self.eat_sym("-") {
            self.depth += 1;
            let e = self.grow().and_then(|_| self.unary());
            self.depth -= 1;
            return Ok(match e? {
                Expr::Int(v) => Expr::Int(v.wrapping_neg()),
                Expr::Real(v) => Expr::Real(-v),
                Expr::Span(v) => Expr::Span(v.wrapping_neg()),
                e => Expr::Neg(Box::new(e)),
            });
        }
        if self.eat_sym("+") {
            self.depth += 1;
            let e = self.grow().and_then(|_| self.unary());
            self.depth -= 1;
            return e;
        }
        let saved = self.depth;
        let mut e = self.primary()?;
        loop {
            self.depth += 1;
            if self.eat_sym(".") {
                let (key, _) = self.name()?;
                self.grow()?;
                e = Expr::Member(Box::new(e), Box::new(Expr::Str(key)));
            } else if matches!(self.peek(), Tok::Sym("[")) {
                self.bump();
                let idx = self.expr()?;
                self.expect_sym("]")?;
                self.grow()?;
                e = Expr::Member(Box::new(e), Box::new(idx));
            } else {
                self.depth = saved;
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, KqlError> {
        let pos = self.pos();
        let e = match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                let mut s = s;
                // Adjacent string literals concatenate.
                while let Tok::Str(more) = self.peek().clone() {
                    self.bump();
                    s.push_str(&more);
                }
                Expr::Str(s)
            }
            Tok::Int(v) => {
                self.bump();
                Expr::Int(v)
            }
            Tok::Real(v) => {
                self.bump();
                Expr::Real(v)
            }
            Tok::Span(v) => {
                self.bump();
                Expr::Span(v)
            }
            Tok::Raw { name, text } => {
                self.bump();
                Expr::Raw(name, text, pos)
            }
            Tok::Sym("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_sym(")")?;
                e
            }
            Tok::Sym("[") => Expr::Col(self.name()?.0),
            Tok::Ident(w) if matches!(w.as_str(), "and" | "or" | "by" | "asc" | "desc") => {
                return Err(self.error());
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.bump();
                Expr::Bool(w == "true")
            }
            Tok::Ident(_) => {
                let (name, _) = self.name()?;
                if matches!(self.peek(), Tok::Sym("(")) {
                    Expr::Call(name, self.args()?)
                } else {
                    Expr::Col(name)
                }
            }
            _ => return Err(self.error()),
        };
        Ok(e)
    }
}

fn list_op(w: &str) -> Option<ListOp> {
    Some(match w {
        "in" => ListOp::In(false, false),
        "!in" => ListOp::In(false, true),
        "in~" => ListOp::In(true, false),
        "!in~" => ListOp::In(true, true),
        "has_any" => ListOp::HasAny,
        "has_all" => ListOp::HasAll,
        _ => return None,
    })
}

fn str_op(w: &str) -> Option<BinOp> {
    let (neg, w) = match w.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let (cs, w) = match w.strip_suffix("_cs") {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let op = match w {
        "has" => StrOp::Has,
        "hasprefix" => StrOp::HasPrefix,
        "hassuffix" => StrOp::HasSuffix,
        "contains" => StrOp::Contains,
        "startswith" => StrOp::StartsWith,
        "endswith" => StrOp::EndsWith,
        _ => return None,
    };
    Some(BinOp::Str(op, cs, neg))
}
