//! Questions answered from the syntax tree: which tables a query reads, which names its `let`s
//! bind, which operator makes a split window's parts need re-aggregating. Each walks every
//! expression of the [`Script`], in let values, function bodies and subqueries too.

use super::syntax::tree::{Expr, LetValue, Operator, Script, Span, Statement};

/// Calls `f` on every expression of `script`, outer before inner, in text order.
pub fn each_expr<'a>(script: &'a Script, f: &mut impl FnMut(&'a Expr)) {
    for s in &script.statements {
        statement(s, f);
    }
}

fn statement<'a>(s: &'a Statement, f: &mut impl FnMut(&'a Expr)) {
    match s {
        Statement::Let { value: LetValue::Expr(e), .. } | Statement::Query(e) => expr(e, f),
        Statement::Let { value: LetValue::Function { params, body, .. }, .. } => {
            for p in params {
                if let Some(d) = &p.default {
                    expr(d, f);
                }
            }
            for s in body {
                statement(s, f);
            }
        }
        Statement::Directive { .. } => {}
    }
}

/// Calls `f` on `e` and every expression inside it.
pub fn expr<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr)) {
    expr_while(e, &mut |x| {
        f(x);
        true
    });
}

/// Calls `f` on `e`, then on the expressions inside it (callee, arguments, operands, the
/// operators of a subquery) only when `f` returned true, outer before inner: a caller stops
/// at what it has handled (an aggregate call, a subquery).
pub fn expr_while<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr) -> bool) {
    if !f(e) {
        return;
    }
    match e {
        Expr::Literal { .. } | Expr::Name { .. } | Expr::Wildcard { .. } | Expr::Opaque { .. } => {}
        Expr::Unary { operand, .. } => expr_while(operand, f),
        Expr::Binary { lhs, rhs, .. } => {
            expr_while(lhs, f);
            expr_while(rhs, f);
        }
        Expr::Range { low, high, .. } => {
            expr_while(low, f);
            expr_while(high, f);
        }
        Expr::Call { callee, args, .. } => {
            expr_while(callee, f);
            args.iter().for_each(|a| expr_while(a, f));
        }
        Expr::Member { target, .. } => expr_while(target, f),
        Expr::Index { target, index, .. } => {
            expr_while(target, f);
            expr_while(index, f);
        }
        Expr::List { items, .. } => items.iter().for_each(|i| expr_while(i, f)),
        Expr::Pipe { source, operators, .. } => {
            if let Some(s) = source {
                expr_while(s, f);
            }
            for o in operators {
                o.options.iter().for_each(|(_, v)| expr_while(v, f));
                o.clauses.iter().flat_map(|c| &c.items).for_each(|i| expr_while(i, f));
            }
        }
    }
}

/// Every operator of `script`, in text order.
pub fn operators(script: &Script) -> Vec<&Operator> {
    let mut out: Vec<&Operator> = Vec::new();
    each_expr(script, &mut |e| {
        if let Expr::Pipe { operators, .. } = e {
            out.extend(operators);
        }
    });
    out.sort_by_key(|o| o.span.start);
    out
}

/// The names `let` binds anywhere in `script` (scalars, tabular values, functions) and the
/// parameters of its functions: names that are never tables or columns.
pub fn bound_names(script: &Script) -> Vec<&str> {
    fn collect<'a>(statements: &'a [Statement], out: &mut Vec<&'a str>) {
        for s in statements {
            if let Statement::Let { name, value, .. } = s {
                out.push(name);
                if let LetValue::Function { params, body, .. } = value {
                    out.extend(params.iter().map(|p| p.name.as_str()));
                    collect(body, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    collect(&script.statements, &mut out);
    // `let`s inside `{ … }` bodies of lambdas reached through expressions are rare; the
    // function bodies above cover `let f = () { let x = …; … }`.
    out
}

/// A name as the query means it: `['My Table']` and `["x"]` without their quoting.
pub fn unquoted(name: &str) -> &str {
    name.strip_prefix("['")
        .and_then(|n| n.strip_suffix("']"))
        .or_else(|| name.strip_prefix("[\"").and_then(|n| n.strip_suffix("\"]")))
        .unwrap_or(name)
}

/// A table the query reads, where it is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// The table's name, unquoted.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// The tables `script` reads, each time it names one, in text order: the source of each pipe
/// (`T | …`), a statement or `let` value that is just a name, the right side of `join` and
/// `lookup`, the names `union`, `search in (…)` and `find in (…)` list, and the argument of
/// `materialize(T)`. Names bound by `let` (and function parameters) are not tables; neither
/// are calls (`FileProfile()`, `externaldata(…)`).
pub fn table_refs(script: &Script) -> Vec<TableRef> {
    let bound = bound_names(script);
    let mut out = Vec::new();
    let take = |e: &Expr, out: &mut Vec<TableRef>| {
        if let Expr::Name { name, span } = e
            && !name.starts_with('$')
            && !bound.contains(&name.as_str())
        {
            out.push(TableRef { name: unquoted(name).to_string(), span: *span });
        }
    };
    fn statement_values(statements: &[Statement], take: &mut impl FnMut(&Expr)) {
        for s in statements {
            match s {
                Statement::Query(e) | Statement::Let { value: LetValue::Expr(e), .. } => take(e),
                Statement::Let { value: LetValue::Function { body, .. }, .. } => {
                    statement_values(body, take)
                }
                Statement::Directive { .. } => {}
            }
        }
    }
    statement_values(&script.statements, &mut |e| take(e, &mut out));
    each_expr(script, &mut |e| match e {
        Expr::Pipe { source, operators, .. } => {
            if let Some(source) = source {
                take(source, &mut out);
            }
            for o in operators {
                let listed = match o.name.as_str() {
                    "join" | "lookup" | "union" => {
                        o.clauses.first().filter(|c| c.keyword.is_none())
                    }
                    "search" | "find" => {
                        o.clauses.iter().find(|c| c.keyword.as_deref() == Some("in"))
                    }
                    _ => None,
                };
                for item in listed.iter().flat_map(|c| &c.items) {
                    take(item, &mut out);
                }
            }
        }
        Expr::Call { callee, args, .. } if matches!(&**callee, Expr::Name { name, .. } if name == "materialize") =>
        {
            args.iter().for_each(|a| take(a, &mut out));
        }
        _ => {}
    });
    out.sort_by_key(|t| t.span.start);
    out.dedup_by_key(|t| t.span.start);
    out
}

/// The distinct tables of [`table_refs`], in order of first appearance.
pub fn tables(script: &Script) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in table_refs(script) {
        if !out.contains(&t.name) {
            out.push(t.name);
        }
    }
    out
}

/// The tabular operators whose output depends on the whole window, so that the parts of a split
/// window need re-aggregating.
pub const WINDOW_SENSITIVE: [&str; 14] = [
    "summarize",
    "top",
    "top-nested",
    "top-hitters",
    "distinct",
    "count",
    "take",
    "limit",
    "sample",
    "sample-distinct",
    "make-series",
    "join",
    "lookup",
    "evaluate",
];

/// The first operator of `script` (subqueries included) in [`WINDOW_SENSITIVE`], if any: its
/// name as listed there, and the operator.
pub fn window_sensitive(script: &Script) -> Option<(&'static str, &Operator)> {
    operators(script).into_iter().find_map(|o| {
        WINDOW_SENSITIVE.iter().find(|w| o.name.eq_ignore_ascii_case(w)).map(|w| (*w, o))
    })
}

/// The name of [`window_sensitive`]'s operator.
pub fn window_sensitive_operator(script: &Script) -> Option<&'static str> {
    window_sensitive(script).map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kql::syntax::parse;

    fn script(text: &str) -> Script {
        let parsed = parse(text);
        parsed.script.unwrap_or_else(|| panic!("{text}: {:?}", parsed.errors))
    }

    #[test]
    fn tables_of_pipes_joins_unions_and_lets() {
        let s = script(
            "let recent = DeviceProcessEvents | where Timestamp > ago(1d);\n\
             let f = (T:(DeviceId:string)) { T | take 1 };\n\
             let ids = materialize(DeviceInfo);\n\
             recent\n\
             | join kind=inner (DeviceNetworkEvents | where RemotePort == 443) on DeviceId\n\
             | lookup DeviceLogonEvents on DeviceId\n\
             | join ['EmailEvents'] on $left.A == $right.B\n\
             | where DeviceId in ((union AlertInfo, AlertEvidence | distinct DeviceId))\n\
             | invoke f()",
        );
        assert_eq!(
            tables(&s),
            [
                "DeviceProcessEvents",
                "DeviceInfo",
                "DeviceNetworkEvents",
                "DeviceLogonEvents",
                "EmailEvents",
                "AlertInfo",
                "AlertEvidence"
            ]
        );
        let refs = table_refs(&s);
        assert_eq!((refs[0].span.start, refs[0].span.end), (13, 32));
        // Calls and bare scalars are not tables.
        let s = script("print x = 1 | extend y = x");
        assert!(tables(&s).is_empty());
        let s = script("FileProfile(\"abc\") | take 1");
        assert!(tables(&s).is_empty());
        let s = script("SigninLogs");
        assert_eq!(tables(&s), ["SigninLogs"]);
    }

    #[test]
    fn window_sensitive_operators_anywhere() {
        let first = |t: &str| window_sensitive_operator(&script(t));
        assert_eq!(first("DeviceEvents | where A == 1 | project A"), None);
        assert_eq!(first("DeviceEvents | summarize count() by A | take 5"), Some("summarize"));
        assert_eq!(
            first("DeviceEvents | where A in ((DeviceInfo | distinct A)) | project A"),
            Some("distinct")
        );
        assert_eq!(first("DeviceEvents | join (DeviceInfo) on A"), Some("join"));
        // A word in a string or comment is not an operator.
        assert_eq!(first("DeviceEvents // | summarize\n| where A == '| take 1'"), None);
    }

    #[test]
    fn names_bound_by_let_and_parameters() {
        let s = script(
            "let a = 1;\nlet f = (x:long, T:(*)) { let inner = 2; T | take x };\nf(a, DeviceInfo)",
        );
        assert_eq!(bound_names(&s), ["a", "f", "x", "T", "inner"]);
        assert_eq!(unquoted("['My Table']"), "My Table");
        assert_eq!(unquoted("[\"x\"]"), "x");
        assert_eq!(unquoted("Plain"), "Plain");
    }
}
