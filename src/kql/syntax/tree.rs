//! The syntax tree the KQL parser produces: statements, tabular operators and expressions, each
//! with the byte span of the text it was read from.

/// A byte range `start..end` of the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte.
    pub end: usize,
}

impl Span {
    /// The span from the start of `self` to the end of `other`.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start, end: other.end.max(self.start) }
    }
}

/// A whole query: its `;`-separated statements.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// `let name = value`.
    Let {
        /// The name bound.
        name: String,
        /// What it is bound to.
        value: LetValue,
        /// The whole statement.
        span: Span,
    },
    /// `set`, `declare query_parameters(…)`, `alias`, `pattern`, `restrict`: a statement hunt
    /// reads past without modelling, named by its keyword.
    Directive {
        /// `set`, `declare`, …
        keyword: String,
        /// The whole statement.
        span: Span,
    },
    /// A tabular (or scalar) expression: the query's result.
    Query(Expr),
}

/// The value of a `let`.
#[derive(Debug, Clone, PartialEq)]
pub enum LetValue {
    /// A scalar or tabular expression (`materialize(…)` included).
    Expr(Expr),
    /// A function or `view`: `(params) { statements }`.
    Function {
        /// The parameters.
        params: Vec<Param>,
        /// The body's statements; the last is its value.
        body: Vec<Statement>,
        /// The whole function.
        span: Span,
    },
}

/// A function parameter: `name: type [= default]`, `T: (col: type, …)` or `T: (*)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The name.
    pub name: String,
    /// Where the declared type is written (`string`, `(DeviceId: string)`).
    pub ty: Span,
    /// The default value, if any.
    pub default: Option<Expr>,
    /// The whole parameter.
    pub span: Span,
}

/// One tabular operator: `where …`, `summarize … by …`, `join kind=… (…) on …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operator {
    /// The operator's name as written (`where`, `project-away`, `mv-expand`).
    pub name: String,
    /// `name=value` options (`kind=inner`, `hint.strategy=shuffle`).
    pub options: Vec<(String, Expr)>,
    /// Its parts: the main list (keyword `None`), then `by`, `on`, `with` … lists.
    pub clauses: Vec<Clause>,
    /// The whole operator.
    pub span: Span,
}

/// A part of an operator: an optional keyword and the expressions after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// `by`, `on`, `with`, … or `None` for the operator's main list.
    pub keyword: Option<String>,
    /// The expressions.
    pub items: Vec<Expr>,
}

/// What kind of literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// `42`, `1.5e3`, `0x1F`.
    Number,
    /// `1d`, `10m`, `time(…)`, `timespan(…)`.
    Timespan,
    /// `"…"`, `'…'`, `@"…"`, ```` ```…``` ````, `h"…"`, and adjacent strings joined.
    String,
    /// `true`, `false`.
    Bool,
    /// `datetime(…)`.
    Datetime,
    /// `dynamic(…)`.
    Dynamic,
    /// `guid(…)`.
    Guid,
    /// `null`.
    Null,
}

/// An expression (scalar or tabular).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal.
    Literal {
        /// Which kind.
        kind: LiteralKind,
        /// Where.
        span: Span,
    },
    /// A name: `DeviceId`, `['Logged on']`, `$left`.
    Name {
        /// As written.
        name: String,
        /// Where.
        span: Span,
    },
    /// `*` (in `arg_max(Timestamp, *)`, `distinct *`) or a wildcard name (`Device*`).
    Wildcard {
        /// Where.
        span: Span,
    },
    /// `-x`, `+x`.
    Unary {
        /// `-` or `+`.
        op: String,
        /// The operand.
        operand: Box<Expr>,
        /// Where.
        span: Span,
    },
    /// `a op b`: arithmetic, comparison, string operators (`has_cs`, `!in~`, `matches regex`),
    /// `and`, `or`, `between` (with a [`Expr::Range`] on the right), and `=` (assignment in
    /// `extend`, `project`, named arguments).
    Binary {
        /// The operator as normalised (`!contains`, `in~`, `matches regex`).
        op: String,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
        /// Where.
        span: Span,
    },
    /// `a .. b`, the operand of `between`.
    Range {
        /// Lower bound.
        low: Box<Expr>,
        /// Upper bound.
        high: Box<Expr>,
        /// Where.
        span: Span,
    },
    /// `f(args)`.
    Call {
        /// The function.
        callee: Box<Expr>,
        /// The arguments.
        args: Vec<Expr>,
        /// Where.
        span: Span,
    },
    /// `a.b`.
    Member {
        /// The left side.
        target: Box<Expr>,
        /// The member's name.
        name: String,
        /// Where.
        span: Span,
    },
    /// `a[i]`.
    Index {
        /// The left side.
        target: Box<Expr>,
        /// The index.
        index: Box<Expr>,
        /// Where.
        span: Span,
    },
    /// `(a, b, …)` or `[a, b, …]`.
    List {
        /// The elements.
        items: Vec<Expr>,
        /// Where.
        span: Span,
    },
    /// `source | op | op …`, or a query-starting operator (`print`, `range`, `union`, …) as the
    /// source with `source` absent.
    Pipe {
        /// What the pipe reads, absent when the first operator makes its own rows.
        source: Option<Box<Expr>>,
        /// The operators, in order.
        operators: Vec<Operator>,
        /// Where.
        span: Span,
    },
    /// Text read past without modelling (the columns of `datatable`, an operator hunt does not
    /// model in detail).
    Opaque {
        /// Where.
        span: Span,
    },
}

impl Expr {
    /// Where this expression is in the text.
    pub fn span(&self) -> Span {
        match self {
            Expr::Literal { span, .. }
            | Expr::Name { span, .. }
            | Expr::Wildcard { span }
            | Expr::Unary { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Range { span, .. }
            | Expr::Call { span, .. }
            | Expr::Member { span, .. }
            | Expr::Index { span, .. }
            | Expr::List { span, .. }
            | Expr::Pipe { span, .. }
            | Expr::Opaque { span } => *span,
        }
    }
}
