//! Tabular operators: `source | op | op …`, each operator's grammar (strict for the common
//! ones, so a missing `|` or a dangling `by` is caught; read past for the rare ones), and the
//! "unknown operator, did you mean" error.

use super::SyntaxError;
use super::cursor::{Cursor, PResult};
use super::names;
use super::tree::{Clause, Expr, Operator};
use crate::kql::TokenKind;

/// Operators that make their own rows, so may start a query.
const SOURCES: [&str; 6] = ["print", "range", "union", "search", "find", "evaluate"];

/// Options of operators that take `name=value` options (any `hint.*` is accepted too).
const OPTIONS: [&str; 8] = [
    "kind",
    "withsource",
    "isfuzzy",
    "bagexpansion",
    "with_itemindex",
    "flags",
    "decodeblocks",
    "with_source",
];

impl Cursor<'_, '_> {
    /// `source | operator | …`: a tabular expression (or a scalar, when no `|` follows). (Its
    /// nesting is counted by [`Cursor::scalar`], which every way back here goes through.)
    pub fn pipe_expr(&mut self) -> PResult<Expr> {
        let start = self.offset();
        let mut operators = Vec::new();
        let source = match self.word() {
            Some(w)
                if SOURCES.contains(&w)
                    && !self.peek(1).is_some_and(|n| {
                        n.is("=") || n.is(".") || n.is(",") || n.is(")") || n.is("|")
                            // `range(1, 10, 1)`: the scalar function, not the operator.
                            || (w == "range" && n.is("("))
                    }) =>
            {
                operators.push(self.operator()?);
                None
            }
            _ => Some(Box::new(self.scalar()?)),
        };
        while self.eat("|") {
            operators.push(self.operator()?);
        }
        match source {
            Some(s) if operators.is_empty() => Ok(*s),
            source => Ok(Expr::Pipe { source, operators, span: self.span_from(start) }),
        }
    }

    /// One operator after `|` (or a query-starting one).
    fn operator(&mut self) -> PResult<Operator> {
        let start = self.offset();
        let Some(t) = self.peek(0) else {
            return Err(SyntaxError::at(
                self.last_end().saturating_sub(1),
                "trailing '|': a query operator must follow it (or remove the '|')",
            ));
        };
        if t.kind != TokenKind::Ident {
            if t.is("|") || t.is(";") || t.kind == TokenKind::Close {
                return Err(SyntaxError::at(
                    self.last_end().saturating_sub(1),
                    format!(
                        "'|' is followed by {} instead of a query operator: remove the '|' or \
                         add the operator",
                        self.describe()
                    ),
                ));
            }
            return Err(self.expected("a query operator after '|'"));
        }
        let name = t.text;
        if !names::is_operator(name) {
            let hint = names::did_you_mean(name)
                .map(|m| format!(" — did you mean '{m}'?"))
                .unwrap_or_default();
            return Err(self.error(format!("unknown query operator '{name}'{hint}")));
        }
        self.bump();
        let mut op = Operator {
            name: name.to_string(),
            options: Vec::new(),
            clauses: Vec::new(),
            span: self.span_from(start),
        };
        let strict = self.operator_body(&mut op)?;
        if strict {
            self.operator_end(name)?;
        }
        op.span = self.span_from(start);
        Ok(op)
    }

    /// After an operator read strictly: only `|`, `;`, a closing bracket or the end may follow.
    fn operator_end(&self, name: &str) -> PResult<()> {
        let Some(t) = self.peek(0) else { return Ok(()) };
        if t.is("|") || t.is(";") || t.kind == TokenKind::Close {
            return Ok(());
        }
        if t.kind == TokenKind::Ident && names::is_operator(t.text) {
            return Err(self.error(format!(
                "expected '|' before '{}' (the '{name}' operator ends here)",
                t.text
            )));
        }
        Err(self.error(format!("unexpected {} after the '{name}' operator", self.describe())))
    }

    /// Reads the operator's options and clauses into `op`; true when read strictly (so what
    /// follows must end it), false when read past.
    fn operator_body(&mut self, op: &mut Operator) -> PResult<bool> {
        let name = op.name.clone();
        let main = |items| Clause { keyword: None, items };
        match name.as_str() {
            "where" | "filter" => {
                op.options = self.options(&[])?;
                if !self.can_start_expr() {
                    return Err(self
                        .error(format!("'{name}' needs a predicate, found {}", self.describe())));
                }
                // `Name = predicate` is a named predicate (Microsoft's parser takes it).
                let pred = self.search_predicate()?;
                let pred = self.assigned(pred, Self::scalar)?;
                op.clauses.push(main(vec![pred]));
            }
            "project" | "extend" | "project-rename" | "serialize" | "distinct" => {
                op.options = self.options(&[])?;
                let items = self.item_list(false)?;
                op.clauses.push(main(items));
            }
            "print" => {
                let items = self.item_list(true)?;
                op.clauses.push(main(items));
            }
            "project-away" | "project-keep" | "project-reorder" => {
                let items = self.name_list()?;
                op.clauses.push(main(items));
            }
            "summarize" => {
                op.options = self.options(&[])?;
                if !self.at_word("by") && self.can_start_expr() {
                    let items = self.item_list(false)?;
                    op.clauses.push(main(items));
                }
                if self.eat_word("by") {
                    if !self.can_start_expr() {
                        return Err(self.error(format!(
                            "'by' needs at least one column, found {}",
                            self.describe()
                        )));
                    }
                    let items = self.item_list(true)?;
                    op.clauses.push(Clause { keyword: Some("by".into()), items });
                }
            }
            "sort" | "order" => {
                op.options = self.options(&[])?;
                if !self.eat_word("by") {
                    return Err(self.expected(&format!("'by' after '{name}'")));
                }
                let items = self.sort_list()?;
                op.clauses.push(Clause { keyword: Some("by".into()), items });
            }
            "top" => {
                op.options = self.options(&[])?;
                let n = self.scalar()?;
                op.clauses.push(main(vec![n]));
                if !self.eat_word("by") {
                    return Err(self.expected("'by' after the count of 'top'"));
                }
                let items = self.sort_list()?;
                op.clauses.push(Clause { keyword: Some("by".into()), items });
            }
            "top-nested" => self.top_nested(op)?,
            "take" | "limit" | "sample" => {
                op.options = self.options(&[])?;
                let n = self.scalar()?;
                op.clauses.push(main(vec![n]));
            }
            "count" | "getschema" => {}
            "as" => {
                op.options = self.options(&[])?;
                let n = self.primary()?;
                op.clauses.push(main(vec![n]));
            }
            "invoke" => {
                let call = self.scalar()?;
                op.clauses.push(main(vec![call]));
            }
            "join" | "lookup" => {
                op.options = self.options(&OPTIONS)?;
                let right = self.scalar()?;
                op.clauses.push(main(vec![right]));
                if self.eat_word("on") {
                    let items = self.item_list(true)?;
                    op.clauses.push(Clause { keyword: Some("on".into()), items });
                }
            }
            "union" => {
                op.options = self.options(&OPTIONS)?;
                let items = self.name_list()?;
                op.clauses.push(main(items));
            }
            "mv-expand" | "mvexpand" => {
                op.options = self.options(&OPTIONS)?;
                self.expansions(op)?;
            }
            "mv-apply" | "mvapply" => {
                op.options = self.options(&OPTIONS)?;
                self.expansions(op)?;
                if !self.eat_word("on") {
                    return Err(self.expected("'on (subquery)' after the columns of 'mv-apply'"));
                }
                let sub = self.sub_pipe()?;
                op.clauses.push(Clause { keyword: Some("on".into()), items: vec![sub] });
            }
            "search" => {
                op.options = self.options(&OPTIONS)?;
                self.in_tables(op)?;
                let pred = self.search_predicate()?;
                op.clauses.push(main(vec![pred]));
            }
            "find" => {
                // `find [withsource=Name] [in (T, …)] where predicate
                //  [project-smart | project Name[: type], …]`
                op.options = self.options(&OPTIONS)?;
                // `where` may be left out only without `in (…)`, as Microsoft's parser has it.
                if self.in_tables(op)? {
                    if !self.eat_word("where") {
                        return Err(self.expected("'where' and a predicate in 'find'"));
                    }
                } else {
                    let _ = self.eat_word("where");
                }
                let pred = self.scalar()?;
                op.clauses.push(main(vec![pred]));
                if self.eat_word("project") {
                    let mut items = Vec::new();
                    self.comma_separated(|p| {
                        items.push(p.scalar()?);
                        // `Name: type` declares the column's type.
                        if p.eat(":") && p.word().is_some() {
                            p.bump();
                        }
                        Ok(())
                    })?;
                    op.clauses.push(Clause { keyword: Some("project".into()), items });
                } else {
                    let _ = self.eat_word("project-smart");
                }
            }
            "range" => {
                if self.word().is_none() {
                    return Err(self.expected("a column name after 'range'"));
                }
                self.bump();
                for word in ["from", "to", "step"] {
                    if !self.eat_word(word) {
                        return Err(self.expected(&format!("'{word}' in 'range'")));
                    }
                    let v = self.scalar()?;
                    op.clauses.push(Clause { keyword: Some(word.into()), items: vec![v] });
                }
            }
            "sample-distinct" | "top-hitters" => {
                op.options = self.options(&[])?;
                let n = self.scalar()?;
                if !self.eat_word("of") {
                    return Err(self.expected(&format!("'of' after the count of '{name}'")));
                }
                let of = self.scalar()?;
                op.clauses.push(main(vec![n, of]));
                if name == "top-hitters" && self.eat_word("by") {
                    let by = self.scalar()?;
                    op.clauses.push(Clause { keyword: Some("by".into()), items: vec![by] });
                }
            }
            "reduce" => {
                op.options = self.options(&[])?;
                if !self.eat_word("by") {
                    return Err(self.expected("'by' after 'reduce'"));
                }
                let by = self.scalar()?;
                op.clauses.push(Clause { keyword: Some("by".into()), items: vec![by] });
                if self.eat_word("with") {
                    let items = self.item_list(true)?;
                    op.clauses.push(Clause { keyword: Some("with".into()), items });
                }
            }
            "parse-kv" => {
                let source = self.scalar()?;
                op.clauses.push(main(vec![source]));
                if !self.eat_word("as") {
                    return Err(self.expected("'as (columns)' after the source of 'parse-kv'"));
                }
                self.schema()?;
                if self.eat_word("with") {
                    let props = self.bracketed_list("(", ")")?;
                    op.clauses.push(Clause { keyword: Some("with".into()), items: props });
                }
            }
            "fork" => {
                let mut branches = Vec::new();
                loop {
                    if self.word().is_some() && self.at_n(1, "=") {
                        self.bump();
                        self.bump();
                    }
                    branches.push(self.sub_pipe()?);
                    if !(self.at("(") || (self.word().is_some() && self.at_n(1, "="))) {
                        break;
                    }
                }
                op.clauses.push(main(branches));
            }
            "facet" => {
                if !self.eat_word("by") {
                    return Err(self.expected("'by' after 'facet'"));
                }
                let items = self.name_list()?;
                op.clauses.push(Clause { keyword: Some("by".into()), items });
                if self.eat_word("with") {
                    let sub = self.sub_pipe()?;
                    op.clauses.push(Clause { keyword: Some("with".into()), items: vec![sub] });
                }
            }
            "partition" => {
                op.options = self.options(&OPTIONS)?;
                if !self.eat_word("by") {
                    return Err(self.expected("'by' after 'partition'"));
                }
                // A column, not a call: the `(` that follows opens the subquery.
                let by = self.primary()?;
                op.clauses.push(Clause { keyword: Some("by".into()), items: vec![by] });
                if self.at("(") {
                    let sub = self.sub_pipe()?;
                    op.clauses.push(main(vec![sub]));
                } else if self.at("{") {
                    self.skip_balanced()?;
                } else {
                    return Err(self.expected("'(' or '{' with the subquery of 'partition'"));
                }
            }
            "make-series" => {
                op.options = self.options(&OPTIONS)?;
                self.make_series(op)?;
            }
            "parse" | "parse-where" => {
                op.options = self.options(&OPTIONS)?;
                let source = self.scalar()?;
                op.clauses.push(main(vec![source]));
                if !self.eat_word("with") {
                    return Err(self.expected(&format!("'with' and a pattern after '{name}'")));
                }
                self.parse_pattern()?;
            }
            "render" => {
                if self.word().is_none() {
                    return Err(self.expected("a chart type after 'render'"));
                }
                self.bump();
                if self.eat_word("with") {
                    let props = self.bracketed_list("(", ")")?;
                    op.clauses.push(Clause { keyword: Some("with".into()), items: props });
                }
            }
            "evaluate" => {
                op.options = self.options(&OPTIONS)?;
                let call = self.scalar()?;
                op.clauses.push(main(vec![call]));
                // `evaluate plugin(…) : (name: type, …)`: the output schema.
                if self.eat(":") {
                    let start = self.offset();
                    self.schema()?;
                    let schema = Expr::Opaque { span: self.span_from(start) };
                    op.clauses.push(Clause { keyword: Some("schema".into()), items: vec![schema] });
                }
            }
            _ => {
                self.skip_to_pipe_end();
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `top-nested [N] of [name =] expr [with others = v] by [name =] aggregate [asc|desc]`,
    /// then `, top-nested …` for each further level. Each level is the clauses `top-nested`
    /// (N, or none for all), `of`, `others` (if given) and `by` (or `by asc`).
    fn top_nested(&mut self, op: &mut Operator) -> PResult<()> {
        loop {
            let n = if self.at_word("of") { Vec::new() } else { vec![self.scalar()?] };
            if !self.eat_word("of") {
                return Err(self.expected("'of' and a column after the count of 'top-nested'"));
            }
            let of = self.scalar()?;
            let of = self.assigned(of, Self::scalar)?;
            op.clauses.push(Clause { keyword: Some("top-nested".into()), items: n });
            op.clauses.push(Clause { keyword: Some("of".into()), items: vec![of] });
            if self.eat_word("with") {
                if !(self.eat_word("others") && self.eat("=")) {
                    return Err(self.expected("'others =' after 'with' in 'top-nested'"));
                }
                let others = self.scalar()?;
                op.clauses.push(Clause { keyword: Some("others".into()), items: vec![others] });
            }
            if !self.eat_word("by") {
                return Err(self.expected("'by' and an aggregation in 'top-nested'"));
            }
            let agg = self.scalar()?;
            let agg = self.assigned(agg, Self::scalar)?;
            let by = if self.eat_word("asc") { "by asc" } else { "by" };
            let _ = self.eat_word("desc");
            op.clauses.push(Clause { keyword: Some(by.into()), items: vec![agg] });
            // The next level: after a comma the lexer reads `top-nested` as `top - nested`
            // (it joins hyphenated operator names only after a `|`).
            let word = |p: &Self, i: usize, w: &str| p.peek(i).is_some_and(|t| t.is_ident(w));
            let tokens = if !self.at(",") {
                0
            } else if word(self, 1, "top-nested") {
                2
            } else if word(self, 1, "top")
                && self.peek(2).is_some_and(|t| t.is("-"))
                && word(self, 3, "nested")
            {
                4
            } else {
                0
            };
            if tokens == 0 {
                return Ok(());
            }
            for _ in 0..tokens {
                self.bump();
            }
        }
    }

    /// The columns of `mv-expand`/`mv-apply`: `[name =] expr [to typeof(type)], …` then
    /// `limit n`.
    fn expansions(&mut self, op: &mut Operator) -> PResult<()> {
        let mut items = Vec::new();
        self.comma_separated(|p| {
            let item = p.scalar()?;
            items.push(p.assigned(item, Self::scalar)?);
            if p.eat_word("to") {
                items.push(p.scalar()?);
            }
            Ok(())
        })?;
        op.clauses.push(Clause { keyword: None, items });
        if self.eat_word("limit") {
            let n = self.scalar()?;
            op.clauses.push(Clause { keyword: Some("limit".into()), items: vec![n] });
        }
        Ok(())
    }

    /// `make-series`: `[name =] aggregate [default = v], … on axis [in range(…) | [from a] [to b]
    /// step s] [by columns]`.
    fn make_series(&mut self, op: &mut Operator) -> PResult<()> {
        let mut items = Vec::new();
        self.comma_separated(|p| {
            let item = p.scalar()?;
            items.push(p.assigned(item, Self::scalar)?);
            if p.eat_word("default") {
                p.expect("=")?;
                items.push(p.scalar()?);
            }
            Ok(())
        })?;
        op.clauses.push(Clause { keyword: None, items });
        if !self.eat_word("on") {
            return Err(self.expected("'on' and the axis column in 'make-series'"));
        }
        // `in` after the axis starts its range, not a set test.
        let axis = self.additive()?;
        op.clauses.push(Clause { keyword: Some("on".into()), items: vec![axis] });
        if self.eat_word("in") {
            // `in range(start, stop, step)`: the older spelling of `from … to … step …`.
            if let Expr::Call { callee, args, .. } = self.scalar()?
                && matches!(callee.as_ref(), Expr::Name { name, .. } if name == "range")
                && args.len() == 3
            {
                for (word, v) in ["from", "to", "step"].into_iter().zip(args) {
                    op.clauses.push(Clause { keyword: Some(word.into()), items: vec![v] });
                }
            }
        } else {
            for word in ["from", "to", "step"] {
                if self.eat_word(word) {
                    let v = self.scalar()?;
                    op.clauses.push(Clause { keyword: Some(word.into()), items: vec![v] });
                }
            }
        }
        if self.eat_word("by") {
            if !self.can_start_expr() {
                return Err(self
                    .error(format!("'by' needs at least one column, found {}", self.describe())));
            }
            let items = self.item_list(true)?;
            op.clauses.push(Clause { keyword: Some("by".into()), items });
        }
        Ok(())
    }

    /// The pattern of `parse … with`: `*`, string literals and `name[: type]`.
    fn parse_pattern(&mut self) -> PResult<()> {
        let mut any = false;
        while let Some(t) = self.peek(0) {
            match t.kind {
                TokenKind::String | TokenKind::BracketIdent => {
                    self.bump();
                }
                TokenKind::Punct if t.text == "*" => {
                    self.bump();
                }
                TokenKind::Ident => {
                    self.bump();
                    if self.eat(":") && self.word().is_some() {
                        self.bump();
                    }
                }
                _ => break,
            }
            any = true;
        }
        if !any {
            return Err(self.expected("a pattern after 'with'"));
        }
        Ok(())
    }

    /// `( operator | operator … )`: a bracketed subquery without a source.
    fn sub_pipe(&mut self) -> PResult<Expr> {
        self.expect("(")?;
        self.enter()?;
        let sub = self.operator_pipe();
        self.leave();
        let sub = sub?;
        self.expect(")")?;
        Ok(sub)
    }

    /// `operator | operator …` without a source: the subquery of `mv-apply … on (…)`.
    fn operator_pipe(&mut self) -> PResult<Expr> {
        let start = self.offset();
        let mut operators = vec![self.operator()?];
        while self.eat("|") {
            operators.push(self.operator()?);
        }
        Ok(Expr::Pipe { source: None, operators, span: self.span_from(start) })
    }

    /// `name=value` options: the names in `allowed`, and any `hint.*`.
    fn options(&mut self, allowed: &[&str]) -> PResult<Vec<(String, Expr)>> {
        let mut out = Vec::new();
        while let Some(w) = self.word() {
            let hint = w == "hint" && self.at_n(1, ".");
            if !(hint || (allowed.contains(&w) && self.at_n(1, "="))) {
                break;
            }
            self.bump();
            let mut name = w.to_string();
            while self.eat(".") {
                let Some(part) = self.word() else {
                    return Err(self.expected("an option name after '.'"));
                };
                self.bump();
                name.push('.');
                name.push_str(part);
            }
            self.expect("=")?;
            let value = self.primary()?;
            out.push((name, value));
        }
        Ok(out)
    }

    /// `in (T, …)` after `search` or `find`, if there: its tables as the `in` clause of `op`.
    fn in_tables(&mut self, op: &mut Operator) -> PResult<bool> {
        if !self.eat_word("in") {
            return Ok(false);
        }
        self.expect("(")?;
        let tables = self.name_list()?;
        self.expect(")")?;
        op.clauses.push(Clause { keyword: Some("in".into()), items: tables });
        Ok(true)
    }

    /// The predicate of `where` or `search`, where `Column:"term"` is an operator.
    fn search_predicate(&mut self) -> PResult<Expr> {
        self.search = true;
        let pred = self.scalar();
        self.search = false;
        pred
    }

    /// `item, item, …` where each item is `expr` or `name = expr`; `required` when the list
    /// may not be empty.
    fn item_list(&mut self, required: bool) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        if !required && !self.can_start_expr() && !self.at(",") {
            return Ok(items);
        }
        self.comma_separated(|p| {
            if !p.can_start_expr() {
                return Err(p.expected("an expression"));
            }
            let item = p.scalar()?;
            items.push(p.assigned(item, Self::scalar)?);
            Ok(())
        })?;
        Ok(items)
    }

    /// `expr [asc|desc] [nulls first|last], …` after `by`.
    fn sort_list(&mut self) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        self.comma_separated(|p| {
            if !p.can_start_expr() {
                return Err(
                    p.error(format!("'by' needs at least one column, found {}", p.describe()))
                );
            }
            items.push(p.scalar()?);
            if !(p.eat_word("asc") || p.eat_word("desc")) {
                let _ = p.eat_word("granny-asc") || p.eat_word("granny-desc");
            }
            if p.eat_word("nulls") && !(p.eat_word("first") || p.eat_word("last")) {
                return Err(p.expected("'first' or 'last' after 'nulls'"));
            }
            Ok(())
        })?;
        Ok(items)
    }

    /// Names that may end in `*` (`Device*`), or expressions, for `project-away`, `union` and
    /// the like; `asc`/`desc` after each is allowed (`project-reorder`).
    fn name_list(&mut self) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        self.comma_separated(|p| {
            let start = p.offset();
            let name_then_star = matches!(
                p.peek(0).map(|t| t.kind),
                Some(TokenKind::Ident | TokenKind::BracketIdent)
            ) && p.at_n(1, "*")
                && p.adjacent(0);
            if name_then_star || p.at("*") {
                p.bump();
                while p.peek(0).is_some_and(|t| {
                    matches!(t.kind, TokenKind::Ident | TokenKind::Number) || t.is("*")
                }) && p.peek(0).is_some_and(|t| t.pos.offset == p.last_end())
                {
                    p.bump();
                }
                items.push(Expr::Wildcard { span: p.span_from(start) });
            } else {
                if !p.can_start_expr() {
                    return Err(p.expected("a name"));
                }
                let item = p.scalar()?;
                items.push(p.assigned(item, Self::scalar)?);
            }
            let _ = p.eat_word("asc") || p.eat_word("desc");
            Ok(())
        })?;
        Ok(items)
    }
}
