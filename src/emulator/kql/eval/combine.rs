//! Operators that combine tables: `join` (every kind, `innerunique` by default, on common
//! columns or `$left.a == $right.b`) and `union` (outer or inner, `withsource`, wildcards).

use std::collections::HashMap;

use super::aggregate::{Key, key_of};
use super::scalar::B;
use super::tabular::{clause, glob, unique};
use super::{Eval, Rows, Schema, Table};
use crate::emulator::data::{self, Cell};
use crate::emulator::kql::literal::name_text;
use crate::emulator::kql::value::STRING;
use crate::emulator::kql::{KqlError, op_error};
use crate::kql::syntax::tree::{Expr, Operator};

/// The kinds of join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    InnerUnique,
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
    LeftSemi,
    LeftAnti,
    RightSemi,
    RightAnti,
}

fn kind(name: &str) -> Option<Kind> {
    Some(match name {
        "innerunique" => Kind::InnerUnique,
        "inner" => Kind::Inner,
        "leftouter" => Kind::LeftOuter,
        "rightouter" => Kind::RightOuter,
        "fullouter" | "outer" => Kind::FullOuter,
        "leftsemi" => Kind::LeftSemi,
        "leftanti" | "anti" | "leftantisemi" => Kind::LeftAnti,
        "rightsemi" => Kind::RightSemi,
        "rightanti" | "rightantisemi" => Kind::RightAnti,
        _ => return None,
    })
}

/// A bound join: the right table, the key columns on each side, and the output layout.
pub(crate) struct Join {
    kind: Kind,
    right: Table,
    left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    left_width: usize,
    /// The right columns that appear in the output (`lookup` leaves out its keys).
    right_keep: Vec<usize>,
    /// A `where` right after the join, tested on each pair before it is copied out.
    pub(crate) filter: Option<B>,
}

impl<'a> Eval<'a> {
    /// The option `name` of `op` as written (`kind=inner` → `inner`).
    fn option(&self, op: &Operator, name: &str) -> Option<&'a str> {
        op.options.iter().find(|(n, _)| n == name).map(|(_, v)| self.text(v.span()))
    }

    /// Binds `| join …` against the left `schema`, which becomes the output's.
    pub(crate) fn bind_join(
        &self,
        op: &'a Operator,
        schema: &mut Schema,
    ) -> Result<Join, KqlError> {
        let lookup = op.name == "lookup";
        let err = |m: String| op_error(&op.name, m);
        let kind = match self.option(op, "kind") {
            None if lookup => Kind::LeftOuter,
            None => Kind::InnerUnique,
            Some(k) => kind(k).ok_or_else(|| err(format!("unknown join kind '{k}'")))?,
        };
        let right_expr =
            clause(op, None).first().ok_or_else(|| err("needs a right table".into()))?;
        let right = self.tabular(right_expr)?;
        let (mut left_keys, mut right_keys) = (Vec::new(), Vec::new());
        let find = |s: &Schema, n: &str, side: &str| {
            s.iter().position(|(c, _)| c == n).ok_or_else(|| {
                err(format!("Failed to resolve column '{n}' on the {side} side of the join"))
            })
        };
        let mut conditions: Vec<&Expr> = clause(op, Some("on")).iter().collect();
        if conditions.is_empty() {
            return Err(err("needs 'on' with the columns to match".into()));
        }
        while let Some(c) = conditions.pop() {
            match c {
                Expr::Name { name, .. } => {
                    let n = name_text(name);
                    left_keys.push(find(schema, &n, "left")?);
                    right_keys.push(find(&right.schema, &n, "right")?);
                }
                Expr::Binary { op, lhs, rhs, .. } if op == "and" => {
                    conditions.push(lhs);
                    conditions.push(rhs);
                }
                Expr::Binary { op, lhs, rhs, .. } if op == "==" => {
                    let side = |e: &Expr| match e {
                        Expr::Member { target, name, .. } => match target.as_ref() {
                            Expr::Name { name: t, .. } if t == "$left" || t == "$right" => {
                                Some((t == "$left", name_text(name).into_owned()))
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    let (Some(a), Some(b)) = (side(lhs), side(rhs)) else {
                        return Err(err("only $left.column == $right.column conditions are \
                                        supported by the hunt emulator"
                            .into()));
                    };
                    let ((_, l), (_, r)) = if a.0 { (a, b) } else { (b, a) };
                    left_keys.push(find(schema, &l, "left")?);
                    right_keys.push(find(&right.schema, &r, "right")?);
                }
                other => {
                    return Err(err(format!(
                        "the condition '{}' is not supported by the hunt emulator",
                        self.text(other.span())
                    )));
                }
            }
        }
        let left_width = schema.len();
        let right_keep: Vec<usize> =
            (0..right.schema.len()).filter(|i| !(lookup && right_keys.contains(i))).collect();
        match kind {
            Kind::LeftSemi | Kind::LeftAnti => {}
            Kind::RightSemi | Kind::RightAnti => *schema = right.schema.clone(),
            _ => {
                for &i in &right_keep {
                    let (n, ty) = &right.schema[i];
                    let name = unique(schema, n);
                    schema.push((name, *ty));
                }
            }
        }
        Ok(Join { kind, right, left_keys, right_keys, left_width, right_keep, filter: None })
    }

    /// `union [kind=…] [withsource=C] T, …` over `first` (the piped-in table, if any).
    pub(crate) fn union(&self, op: &'a Operator, first: Option<Table>) -> Result<Table, KqlError> {
        let err = |m: String| op_error("union", m);
        let inner = match self.option(op, "kind") {
            None | Some("outer") => false,
            Some("inner") => true,
            Some(k) => return Err(err(format!("unknown union kind '{k}'"))),
        };
        let source_col = self.option(op, "withsource").map(|s| name_text(s).into_owned());
        let mut parts: Vec<(String, Table)> = Vec::new();
        if let Some(t) = first {
            parts.push((String::new(), t));
        }
        for item in clause(op, None) {
            match item {
                Expr::Wildcard { span } => {
                    let pattern = self.text(*span);
                    for def in data::tables().iter().filter(|d| glob(pattern, d.name)) {
                        let t = self.tabular_named(def.name)?;
                        parts.push((def.name.to_owned(), t));
                    }
                }
                Expr::Name { name, .. } => {
                    parts.push((name_text(name).into_owned(), self.tabular(item)?));
                }
                other => parts.push((String::new(), self.tabular(other)?)),
            }
        }
        Ok(merge(parts, source_col, inner))
    }

    /// A table by name (a `let` binding or a table of the data).
    pub(super) fn tabular_named(&self, name: &str) -> Result<Table, KqlError> {
        if let Some(t) = self.bound_table(name) {
            return t;
        }
        let def = data::table(name).ok_or_else(|| KqlError {
            message: format!("'' operator: Failed to resolve table expression named '{name}'"),
        })?;
        let (window, ctx) = (self.ctx.window, self.ctx);
        let mut rows =
            data::tenant_rows(def.name, window.0, window.1, ctx.events_per_hour, ctx.tenant)
                .unwrap_or_else(|| Box::new(std::iter::empty()));
        let mut schema: Schema = def
            .columns
            .iter()
            .map(|(n, t)| ((*n).to_owned(), crate::emulator::kql::value::intern(t)))
            .collect();
        if self.time_generated(def) {
            schema.push((
                "TimeGenerated".to_owned(),
                crate::emulator::kql::value::intern("DateTime"),
            ));
            rows = super::with_time_generated(rows);
        }
        Ok(Table { schema, rows })
    }
}

impl Join {
    /// Joins `left` with the right table. The right table is held (and indexed by key); the
    /// left rows stream through, so a join that matches many rows per key feeds the operators
    /// after it row by row instead of holding its whole product (a day of `AlertEvidence`
    /// joined to `DeviceNetworkEvents` on `DeviceId` is some 9 million rows).
    pub(crate) fn run(self, left: Rows) -> Rows {
        let Join { kind, right, left_keys, right_keys, left_width, right_keep, filter } = self;
        let right_rows: Vec<Vec<Cell>> = right.rows.collect();
        let mut index: HashMap<Vec<Key>, Vec<usize>> = HashMap::new();
        for (i, r) in right_rows.iter().enumerate() {
            if let Some(k) = join_key(r, &right_keys) {
                index.entry(k).or_default().push(i);
            }
        }
        let matched = vec![false; right_rows.len()];
        let right_keep_len = right_keep.len();
        let joined = Joined {
            kind,
            left,
            left_keys,
            left_width,
            right_keep,
            right_rows,
            index,
            matched,
            seen_left: std::collections::HashSet::new(),
            current: None,
            right_at: None,
            // The right cells the filter reads (all of them when it cannot tell): only those
            // are written before the test, the others once a pair passes.
            tested: filter.as_ref().and_then(|f| {
                let mut cols = Vec::new();
                f.columns(&mut cols).then(|| {
                    (0..right_keep_len).filter(|j| cols.contains(&(left_width + j))).collect()
                })
            }),
            filter: filter.clone(),
            scratch: Vec::new(),
        };
        match filter {
            // Pairs are tested as they are made; the rows without a partner here.
            Some(f) => Box::new(joined.filter(move |r| f.truthy(r))),
            None => Box::new(joined),
        }
    }
}

/// The key of a row over `cols`; none when a key cell is null (nulls never match).
fn join_key(r: &[Cell], cols: &[usize]) -> Option<Vec<Key>> {
    let k: Vec<Key> = cols.iter().map(|&i| key_of(r.get(i).unwrap_or(&Cell::Null))).collect();
    (!k.contains(&Key::Null)).then_some(k)
}

/// A join's rows, made as they are read: each left row with its right matches, then (for the
/// right kinds) the right rows that matched or did not.
struct Joined {
    kind: Kind,
    left: Rows,
    left_keys: Vec<usize>,
    left_width: usize,
    right_keep: Vec<usize>,
    right_rows: Vec<Vec<Cell>>,
    index: HashMap<Vec<Key>, Vec<usize>>,
    matched: Vec<bool>,
    seen_left: std::collections::HashSet<Vec<Key>>,
    /// The left row being paired, its key, and the next of its matches to pair it with.
    current: Option<(Vec<Cell>, Vec<Key>, usize)>,
    /// After the left rows: the next right row to look at.
    right_at: Option<usize>,
    /// The `where` that follows the join, if any.
    filter: Option<B>,
    /// The pair being tested: the current left row, then the right match's kept cells,
    /// overwritten in place for each match (copied out only when the pair passes).
    scratch: Vec<Cell>,
    /// Which of the right's kept cells the filter reads (`None`: all of them).
    tested: Option<Vec<usize>>,
}

/// `dst = src.clone()`, reusing `dst`'s text buffer when both are text.
fn assign(dst: &mut Cell, src: &Cell) {
    match (dst, src) {
        (Cell::Str(d), Cell::Str(s)) => d.clone_from(s),
        (d, s) => *d = s.clone(),
    }
}

impl Joined {
    fn kept(&self, h: usize) -> impl Iterator<Item = Cell> + '_ {
        let r = &self.right_rows[h];
        self.right_keep.iter().map(|&i| r.get(i).cloned().unwrap_or(Cell::Null))
    }
}

impl Iterator for Joined {
    type Item = Vec<Cell>;

    fn next(&mut self) -> Option<Vec<Cell>> {
        let pairs = !matches!(
            self.kind,
            Kind::LeftSemi | Kind::LeftAnti | Kind::RightSemi | Kind::RightAnti
        );
        loop {
            // The matches of the current left row, one at a time.
            if let Some((l, k, at)) = &mut self.current {
                let h = self.index.get(k).and_then(|hits| hits.get(*at)).copied();
                match h {
                    Some(h) => {
                        *at += 1;
                        let Some(f) = &self.filter else {
                            let mut row = l.clone();
                            row.extend(self.kept(h));
                            return Some(row);
                        };
                        // The left cells are in place since this left row began; the
                        // right ones the filter reads go in first, the rest if it passes.
                        let (r, lw) = (&self.right_rows[h], self.left_width);
                        let keep = &self.right_keep;
                        let put = |j: usize, scratch: &mut [Cell]| {
                            assign(&mut scratch[lw + j], r.get(keep[j]).unwrap_or(&Cell::Null));
                        };
                        match &self.tested {
                            Some(tested) => tested.iter().for_each(|&j| put(j, &mut self.scratch)),
                            None => (0..keep.len()).for_each(|j| put(j, &mut self.scratch)),
                        }
                        if !f.truthy(&self.scratch) {
                            continue;
                        }
                        if self.tested.is_some() {
                            (0..keep.len()).for_each(|j| put(j, &mut self.scratch));
                        }
                        return Some(self.scratch.clone());
                    }
                    None => self.current = None,
                }
            }
            if let Some(i) = self.right_at {
                // The right rows, after the left ones.
                let r = self.right_rows.get_mut(i)?;
                self.right_at = Some(i + 1);
                let matched = self.matched[i];
                let emit = match self.kind {
                    Kind::RightSemi => matched,
                    Kind::RightAnti => !matched,
                    Kind::RightOuter | Kind::FullOuter => !matched,
                    _ => return None,
                };
                if !emit {
                    continue;
                }
                if matches!(self.kind, Kind::RightSemi | Kind::RightAnti) {
                    return Some(std::mem::take(r));
                }
                let mut row: Vec<Cell> = std::iter::repeat_n(Cell::Null, self.left_width).collect();
                row.extend(self.kept(i));
                return Some(row);
            }
            let Some(l) = self.left.next() else {
                self.right_at = Some(0);
                continue;
            };
            let k = join_key(&l, &self.left_keys);
            if self.kind == Kind::InnerUnique
                && let Some(k) = &k
                && !self.seen_left.insert(k.clone())
            {
                continue;
            }
            let hits: &[usize] =
                k.as_ref().and_then(|k| self.index.get(k)).map_or(&[], Vec::as_slice);
            for &h in hits {
                self.matched[h] = true;
            }
            match self.kind {
                Kind::LeftSemi if !hits.is_empty() => return Some(l),
                Kind::LeftAnti if hits.is_empty() => return Some(l),
                _ if !pairs => {}
                Kind::LeftOuter | Kind::FullOuter if hits.is_empty() => {
                    let mut row = l;
                    row.extend(std::iter::repeat_n(Cell::Null, self.right_keep.len()));
                    return Some(row);
                }
                _ => {
                    if let Some(k) = k.filter(|_| !hits.is_empty()) {
                        if self.filter.is_some() {
                            let width = self.left_width + self.right_keep.len();
                            self.scratch.resize(width, Cell::Null);
                            for (d, s) in self.scratch.iter_mut().zip(&l) {
                                assign(d, s);
                            }
                        }
                        self.current = Some((l, k, 0));
                    }
                }
            }
        }
    }
}

/// Tables one after the other, columns matched by name (all of them, or with `inner` only
/// those every table has), with each row's table in `source_col` if asked.
pub(super) fn merge(parts: Vec<(String, Table)>, source_col: Option<String>, inner: bool) -> Table {
    let mut schema: Schema = Vec::new();
    if let Some(c) = &source_col {
        schema.push((c.clone(), STRING));
    }
    for (_, t) in &parts {
        for (n, ty) in &t.schema {
            if !schema.iter().any(|(x, _)| x == n) {
                schema.push((n.clone(), *ty));
            }
        }
    }
    if inner {
        schema.retain(|(n, _)| {
            source_col.as_deref() == Some(n.as_str())
                || parts.iter().all(|(_, t)| t.schema.iter().any(|(x, _)| x == n))
        });
    }
    let out_schema = schema.clone();
    let mut rows: Rows = Box::new(std::iter::empty());
    for (label, t) in parts {
        // Where each output column comes from in this part's rows.
        let from: Vec<Option<usize>> =
            out_schema.iter().map(|(n, _)| t.schema.iter().position(|(x, _)| x == n)).collect();
        let types = out_schema.clone();
        let with_source = source_col.is_some();
        let part = t.rows.map(move |r| {
            let mut out: Vec<Cell> = Vec::with_capacity(types.len());
            for (i, slot) in from.iter().enumerate() {
                out.push(match slot {
                    Some(j) => r.get(*j).cloned().unwrap_or(Cell::Null),
                    None if with_source && i == 0 => Cell::Str(label.clone()),
                    None => Cell::Null,
                });
            }
            out
        });
        rows = Box::new(rows.chain(part));
    }
    Table { schema: out_schema, rows }
}
