//! Operators that reshape rows: `project-keep`, `project-reorder`, `mv-expand` (arrays and
//! bags, several columns in parallel, `to typeof(…)`, `with_itemindex`, `limit`) and
//! `parse`/`parse-where` (simple and regex patterns, typed columns).

use std::borrow::Cow;

use regex_automata::meta::Regex;
use serde_json::Value;

use super::aggregate::split_alias;
use super::bind::Binder;
use super::builtins::{convert, regex};
use super::scalar::B;
use super::sources::type_of;
use super::tabular::{Stage, clause};
use super::{Eval, Rows, Schema};
use crate::emulator::data::Cell;
use crate::emulator::kql::KqlError;
use crate::emulator::kql::literal::{name_text, unquote};
use crate::emulator::kql::value::{DYN, LONG, STRING, Ty, V, cell_value, to_cell};
use crate::kql::TokenKind;
use crate::kql::syntax::tree::{Expr, LiteralKind, Operator, Span};

/// A bound `mv-expand`.
pub(crate) struct MvExpand {
    /// Per expanded column: where its value goes (an existing column, or appended), what is
    /// expanded, and the type of the output.
    cols: Vec<(Option<usize>, B, Ty)>,
    /// Append the item's index as a column.
    index: bool,
    /// Most rows per input row.
    limit: usize,
}

/// A bound `parse`: the source, the pattern, and the columns it fills.
pub(crate) struct Parse {
    source: B,
    re: Regex,
    /// Per capture group: where it goes and its type.
    cols: Vec<(Option<usize>, Ty)>,
    /// `parse-where`: drop the rows that do not match.
    filter: bool,
}

/// Sets `name` (type `ty`) in `schema`: its slot when it exists (retyped), else appended.
fn slot(schema: &mut Schema, name: String, ty: Ty) -> Option<usize> {
    match schema.iter().position(|(n, _)| *n == name) {
        Some(i) => {
            schema[i].1 = ty;
            Some(i)
        }
        None => {
            schema.push((name, ty));
            None
        }
    }
}

impl<'a> Eval<'a> {
    /// `project-keep` and `project-reorder`.
    pub(crate) fn bind_keep_reorder(
        &self,
        b: &Binder<'_, 'a>,
        op: &'a Operator,
        schema: &mut Schema,
    ) -> Result<Stage, KqlError> {
        let items = clause(op, None);
        let order: Vec<usize> = if op.name == "project-keep" {
            let keep = self.select(b, items, schema)?;
            (0..schema.len()).filter(|i| keep[*i]).collect()
        } else {
            let mut order = Vec::new();
            for item in items {
                let keep = self.select(b, std::slice::from_ref(item), schema)?;
                let hits: Vec<usize> =
                    (0..schema.len()).filter(|i| keep[*i] && !order.contains(i)).collect();
                order.extend(hits);
            }
            order.extend((0..schema.len()).filter(|i| !order.contains(i)).collect::<Vec<_>>());
            order
        };
        let exprs = order.iter().map(|&i| (B::Col(i, false), schema[i].1)).collect();
        *schema = order.iter().map(|&i| schema[i].clone()).collect();
        Ok(Stage::Project(exprs))
    }

    /// `mv-expand [bagexpansion=…] [with_itemindex=Name] [Name =] expr [to typeof(t)], … [limit n]`.
    pub(crate) fn bind_mv_expand(
        &self,
        b: &Binder<'_, 'a>,
        op: &'a Operator,
        schema: &mut Schema,
    ) -> Result<MvExpand, KqlError> {
        let items = clause(op, None);
        let mut bound = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let (alias, e) = split_alias(&items[i]);
            let ty = match items.get(i + 1) {
                Some(Expr::Call { callee, args, .. }) if matches!(callee.as_ref(), Expr::Name { name, .. } if name == "typeof") =>
                {
                    i += 1;
                    let text = args.first().map_or("", |t| self.text(t.span()));
                    type_of(text).ok_or_else(|| b.error(format!("unknown type '{text}'")))?
                }
                _ => DYN,
            };
            // `mv-expand todynamic(Col)` expands into `Col`.
            let name = alias.or_else(|| match e {
                Expr::Name { name, .. } => Some(name_text(name).into_owned()),
                Expr::Call { args, .. } => match args.as_slice() {
                    [Expr::Name { name, .. }] => Some(name_text(name).into_owned()),
                    _ => None,
                },
                _ => None,
            });
            // Any other expression: Kusto's implicit name (`Column1`, …).
            let name = name.unwrap_or_else(|| super::tabular::implicit_name(e, schema, self.src));
            let (expr, _) = b.bind(e, schema)?;
            bound.push((name, expr, ty));
            i += 1;
        }
        let mut cols = Vec::new();
        for (name, expr, ty) in bound {
            cols.push((slot(schema, name, ty), expr, ty));
        }
        let index = match op.options.iter().find(|(n, _)| n == "with_itemindex") {
            Some((_, v)) => {
                schema.push((name_text(self.text(v.span())).into_owned(), LONG));
                true
            }
            None => false,
        };
        let limit = match clause(op, Some("limit")).first() {
            Some(e) => match b.bind(e, schema)?.0 {
                B::Const(V::Int(n)) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(b.error("the limit must be a constant")),
            },
            None => usize::MAX,
        };
        Ok(MvExpand { cols, index, limit })
    }

    /// `parse [kind=regex|simple] source with pattern` (or `parse-where`).
    pub(crate) fn bind_parse(
        &self,
        b: &Binder<'_, 'a>,
        op: &'a Operator,
        schema: &mut Schema,
    ) -> Result<Parse, KqlError> {
        let src = clause(op, None).first().ok_or_else(|| b.error("needs a source"))?;
        let (source, _) = b.bind(src, schema)?;
        let kind = op.options.iter().find(|(n, _)| n == "kind").map(|(_, v)| self.text(v.span()));
        let is_regex = match kind {
            None | Some("simple") | Some("relaxed") => false,
            Some("regex") => true,
            Some(k) => return Err(b.error(format!("unknown kind '{k}'"))),
        };
        // The pattern's tokens: after `with`, to the end of the operator.
        let toks: Vec<_> = self
            .tokens_between(src.span().end, op.span.end)
            .iter()
            .skip_while(|t| t.text != "with")
            .skip(1)
            .copied()
            .collect();
        let mut pattern = String::from("^");
        let mut new_cols: Vec<(String, Ty)> = Vec::new();
        let mut j = 0;
        while j < toks.len() {
            let t = toks[j];
            match t.kind {
                TokenKind::String => {
                    let lit =
                        unquote(t.text).ok_or_else(|| b.error("bad string in the pattern"))?;
                    if is_regex {
                        pattern.push_str(&lit);
                    } else {
                        pattern.push_str(&escape(&lit));
                    }
                }
                TokenKind::Punct if t.text == "*" => pattern.push_str("(?s:.*?)"),
                TokenKind::Ident | TokenKind::BracketIdent => {
                    let name = name_text(t.text).into_owned();
                    let mut ty = STRING;
                    if toks.get(j + 1).is_some_and(|n| n.text == ":") {
                        let tn = toks.get(j + 2).map_or("", |n| n.text);
                        ty = type_of(tn).ok_or_else(|| b.error(format!("unknown type '{tn}'")))?;
                        j += 2;
                    }
                    let last = j + 1 >= toks.len();
                    pattern.push_str(if last { "((?s:.*))" } else { "((?s:.*?))" });
                    new_cols.push((name, ty));
                }
                _ => return Err(b.error(format!("unexpected '{}' in the pattern", t.text))),
            }
            j += 1;
        }
        let re = regex(&pattern).map_err(|m| b.error(m))?;
        let cols = new_cols.into_iter().map(|(n, ty)| (slot(schema, n, ty), ty)).collect();
        Ok(Parse { source, re, cols, filter: op.name == "parse-where" })
    }

    /// `mv-apply … on (subquery)`: for each row, the subquery over the rows it expands to;
    /// the row's unexpanded columns the subquery did not return are added back before its
    /// output, as Kusto documents it (so `project x` inside keeps the row's other columns).
    pub(crate) fn mv_apply(
        &self,
        op: &'a Operator,
        input: super::Table,
    ) -> Result<super::Table, KqlError> {
        let b = Binder::new(self, "mv-apply");
        let source = input.schema.len();
        let mut inner = input.schema.clone();
        let expand = self.bind_mv_expand(&b, op, &mut inner)?;
        let Some(Expr::Pipe { source: None, operators, .. }) = clause(op, Some("on")).first()
        else {
            return Err(b.error("expected 'on (subquery)'"));
        };
        // The subquery's columns over no rows, and the row's columns to add back.
        let empty: Rows = Box::new(std::iter::empty());
        let sub = self.pipe_from(super::Base::Rows(empty), inner.clone(), operators)?.schema;
        let kept: Vec<usize> = (0..source)
            .filter(|&i| !expand.cols.iter().any(|c| c.0 == Some(i)))
            .filter(|&i| !sub.iter().any(|(n, _)| *n == input.schema[i].0))
            .collect();
        let mut schema: Schema = kept.iter().map(|&i| input.schema[i].clone()).collect();
        schema.extend(sub);
        let mut out = Vec::new();
        for row in input.rows {
            let rows: Rows = Box::new(expand.expand(&row).into_iter());
            let t = self.pipe_from(super::Base::Rows(rows), inner.clone(), operators)?;
            for r in t.rows {
                let mut cells: Vec<Cell> = kept.iter().map(|&i| row[i].clone()).collect();
                cells.extend(r);
                out.push(cells);
            }
        }
        Ok(super::Table { schema, rows: Box::new(out.into_iter()) })
    }

    /// `partition by Column (subquery)`: the subquery over the rows of each value of the
    /// column, in order of first appearance, and the union of the results.
    pub(crate) fn partition(
        &self,
        op: &'a Operator,
        input: super::Table,
    ) -> Result<super::Table, KqlError> {
        let b = Binder::new(self, "partition");
        let Some(Expr::Name { name, .. }) = clause(op, Some("by")).first() else {
            return Err(b.error("expected a column after 'by'"));
        };
        let Some(Expr::Pipe { source: None, operators, .. }) = clause(op, None).first() else {
            return Err(crate::emulator::kql::unsupported(
                "partition with a { … } subquery",
                "form",
            ));
        };
        let key = name_text(name);
        let at =
            input.schema.iter().position(|(n, _)| *n == key).ok_or_else(|| b.unresolved(&key))?;
        let mut groups: Vec<(super::aggregate::Key, Vec<Vec<Cell>>)> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for row in input.rows {
            let k = row.get(at).map_or(super::aggregate::Key::Null, super::aggregate::key_of);
            let g = *index.entry(k.clone()).or_insert_with(|| {
                groups.push((k, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(row);
        }
        let empty: Rows = Box::new(std::iter::empty());
        let schema =
            self.pipe_from(super::Base::Rows(empty), input.schema.clone(), operators)?.schema;
        let mut out = Vec::new();
        for (_, rows) in groups {
            let t = self.pipe_from(
                super::Base::Rows(Box::new(rows.into_iter())),
                input.schema.clone(),
                operators,
            )?;
            out.extend(t.rows);
        }
        Ok(super::Table { schema, rows: Box::new(out.into_iter()) })
    }

    /// `invoke FileProfile([column], [limit])`: the file's profile (prevalence, signer…)
    /// appended to each row, keyed by the hash in `column` (SHA1 by default).
    pub(crate) fn file_profile(
        &self,
        args: &'a [Expr],
        mut input: super::Table,
    ) -> Result<super::Table, KqlError> {
        let b = Binder::new(self, "invoke");
        let key = match args.first() {
            Some(Expr::Name { name, .. }) => name_text(name).into_owned(),
            // `FileProfile('SHA256', 1000)`: the column named by a string, as public queries
            // also write it.
            Some(Expr::Literal { kind: LiteralKind::String, span }) => {
                match crate::emulator::kql::literal::literal(
                    self.src,
                    LiteralKind::String,
                    span.start,
                    span.end,
                    self.ctx.now,
                )? {
                    (V::Str(s), _) => s.into_owned(),
                    _ => return Err(b.error("FileProfile's first argument must be a column")),
                }
            }
            Some(_) => return Err(b.error("FileProfile's first argument must be a column")),
            None => "SHA1".to_owned(),
        };
        let k =
            input.schema.iter().position(|(n, _)| *n == key).ok_or_else(|| b.unresolved(&key))?;
        let fields = PROFILE
            .iter()
            .filter(|(n, _)| !input.schema.iter().any(|(x, _)| x == n))
            .copied()
            .collect::<Vec<_>>();
        input.schema.extend(fields.iter().map(|(n, t)| ((*n).to_owned(), *t)));
        let now = self.ctx.now;
        let rows = input.rows.map(move |mut row| {
            let text = match row.get(k) {
                Some(Cell::Str(s)) => s.clone(),
                _ => String::new(),
            };
            row.extend(fields.iter().map(|(n, _)| profile_field(n, &text, now)));
            row
        });
        Ok(super::Table { schema: input.schema, rows: Box::new(rows) })
    }

    /// `invoke SeenBy()`: the onboarded devices that saw each device, as a `SeenBy` array of
    /// `{DeviceId, LastEncountered}` (two devices, a pure function of the row's `DeviceId`).
    pub(crate) fn seen_by(&self, mut input: super::Table) -> Result<super::Table, KqlError> {
        let b = Binder::new(self, "invoke");
        let k = input
            .schema
            .iter()
            .position(|(n, _)| n == "DeviceId")
            .ok_or_else(|| b.unresolved("DeviceId"))?;
        input.schema.push((super::tabular::unique(&input.schema, "SeenBy"), DYN));
        let (now, tenant) = (self.ctx.now, self.ctx.tenant);
        let rows = input.rows.map(move |mut row| {
            let ids = crate::emulator::data::device_ids_of(tenant);
            let id = match row.get(k) {
                Some(Cell::Str(s)) => s.clone(),
                _ => String::new(),
            };
            let h = id.bytes().fold(7u64, |h, c| h.wrapping_mul(31).wrapping_add(u64::from(c)));
            let seen: Vec<Value> = (0..2u64)
                .map(|i| {
                    let other = &ids[((h + i) % ids.len() as u64) as usize];
                    let when = now - ((h >> 8) % 86_400 + i * 3600) as i64 * 10_000_000;
                    serde_json::json!({
                        "DeviceId": other,
                        "LastEncountered": crate::emulator::kql::format_datetime(when),
                    })
                })
                .collect();
            row.push(Cell::Dyn(Value::Array(seen)));
            row
        });
        Ok(super::Table { schema: input.schema, rows: Box::new(rows) })
    }

    /// The code tokens starting in `start..end`.
    fn tokens_between(&self, start: usize, end: usize) -> &[crate::kql::Token<'a>] {
        let i = self.toks.partition_point(|t| t.pos.offset < start);
        let j = self.toks.partition_point(|t| t.pos.offset < end);
        &self.toks[i..j]
    }
}

/// A literal text as a regular expression.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The items `v` expands to: an array's elements, a bag's `{key: value}` pairs, else itself.
fn items(v: V<'_>) -> Vec<Value> {
    match v {
        V::Dyn(d) => match d.into_owned() {
            Value::Array(a) => a,
            Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| Value::Object(std::iter::once((k, v)).collect()))
                .collect(),
            other => vec![other],
        },
        V::Str(s) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Array(a)) => a,
            _ => vec![Value::String(s.into_owned())],
        },
        V::Null => vec![Value::Null],
        other => vec![other.to_json()],
    }
}

impl MvExpand {
    pub(crate) fn apply(self, rows: Rows) -> Rows {
        Box::new(rows.flat_map(move |row| self.expand(&row)))
    }

    /// The rows one input row expands to.
    pub(crate) fn expand(&self, row: &[Cell]) -> Vec<Vec<Cell>> {
        {
            let lists: Vec<Vec<Value>> =
                self.cols.iter().map(|(_, e, _)| items(e.eval(row))).collect();
            let n = lists.iter().map(Vec::len).max().unwrap_or(0).min(self.limit);
            let mut out = Vec::with_capacity(n);
            for k in 0..n {
                let mut r = row.to_vec();
                for ((slot, _, ty), list) in self.cols.iter().zip(&lists) {
                    let v = list.get(k).cloned().unwrap_or(Value::Null);
                    let cell = to_cell(convert(V::Dyn(Cow::Owned(v)), ty), ty);
                    match slot {
                        Some(i) => r[*i] = cell,
                        None => r.push(cell),
                    }
                }
                if self.index {
                    r.push(Cell::Int(k as i64));
                }
                out.push(r);
            }
            out
        }
    }
}

impl Parse {
    pub(crate) fn apply(self, rows: Rows) -> Rows {
        Box::new(rows.filter_map(move |mut row| {
            let text = self.source.eval(&row).text().into_owned();
            let mut caps = self.re.create_captures();
            self.re.captures(text.as_str(), &mut caps);
            let matched = caps.is_match();
            if self.filter && !matched {
                return None;
            }
            for (g, (slot, ty)) in self.cols.iter().enumerate() {
                let cell = match caps.get_group(g + 1) {
                    Some(sp) => {
                        let v = V::Str(Cow::Borrowed(&text[sp.start..sp.end]));
                        to_cell(convert(v, ty), ty)
                    }
                    None => Cell::Null,
                };
                match slot {
                    Some(i) => row[*i] = cell,
                    None => row.push(cell),
                }
            }
            Some(row)
        }))
    }
}

/// FileProfile's columns (from the schema reference).
const PROFILE: &[(&str, Ty)] = &[
    ("SHA1", STRING),
    ("SHA256", STRING),
    ("MD5", STRING),
    ("FileSize", crate::emulator::kql::value::INT),
    ("GlobalPrevalence", LONG),
    ("GlobalFirstSeen", crate::emulator::kql::value::TIME),
    ("GlobalLastSeen", crate::emulator::kql::value::TIME),
    ("Signer", STRING),
    ("Issuer", STRING),
    ("SignerHash", STRING),
    ("IsCertificateValid", crate::emulator::kql::value::BOOL),
    ("IsRootSignerMicrosoft", crate::emulator::kql::value::BOOL),
    ("SignatureState", STRING),
    ("IsExecutable", crate::emulator::kql::value::BOOL),
    ("ThreatName", STRING),
    ("Publisher", STRING),
    ("SoftwareName", STRING),
    ("ProfileAvailability", STRING),
];

/// One profile field of the file with hash `key`: a pure function of the hash.
fn profile_field(name: &str, key: &str, now: i64) -> Cell {
    let h = key
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    if key.is_empty() {
        return if name == "ProfileAvailability" { Cell::Str("Error".into()) } else { Cell::Null };
    }
    let signed = h % 3 != 0;
    let day = 864_000_000_000i64;
    match name {
        "GlobalPrevalence" => Cell::Int([3, 42, 1_250, 98_000][(h % 4) as usize]),
        "GlobalFirstSeen" => Cell::Time(now - (h % 900) as i64 * day),
        "GlobalLastSeen" => Cell::Time(now - (h % 3) as i64 * day),
        "FileSize" => Cell::Int((h % 5_000_000) as i64),
        "Signer" | "Publisher" if signed => Cell::Str("Microsoft Corporation".into()),
        "Issuer" if signed => Cell::Str("Microsoft Code Signing PCA 2011".into()),
        "Signer" | "Publisher" | "Issuer" => Cell::Str(String::new()),
        "SignerHash" if signed => Cell::Str(format!("{h:016x}")),
        "IsCertificateValid" | "IsRootSignerMicrosoft" => Cell::Bool(signed),
        "SignatureState" => Cell::Str(if signed { "SignedValid" } else { "Unsigned" }.into()),
        "IsExecutable" => Cell::Bool(true),
        "ThreatName" => Cell::Str(if h % 7 == 0 { "Trojan:Win32/Wacatac.B!ml" } else { "" }.into()),
        "ProfileAvailability" => Cell::Str("Available".into()),
        _ => Cell::Null,
    }
}

impl<'a> Eval<'a> {
    /// `evaluate bag_unpack(column [, prefix])`: the keys of a dynamic column become columns
    /// (in first-seen order), the column itself goes. The rows are read first: the output's
    /// columns depend on them.
    pub(crate) fn evaluate(
        &self,
        op: &'a Operator,
        input: super::Table,
    ) -> Result<super::Table, KqlError> {
        let b = Binder::new(self, "evaluate");
        let call = clause(op, None).first();
        let Some(Expr::Call { callee, args, .. }) = call else {
            return Err(b.error("expected a plugin call"));
        };
        let name = match callee.as_ref() {
            Expr::Name { name, .. } => name.as_str(),
            _ => "",
        };
        if name == "pivot" {
            return self.pivot(args, input);
        }
        if name == "ipv4_lookup" {
            return self.ipv4_lookup(args, input);
        }
        if name != "bag_unpack" {
            return Err(crate::emulator::kql::unsupported(&format!("evaluate {name}"), "plugin"));
        }
        let col = match args.first() {
            Some(Expr::Name { name, .. }) => name_text(name).into_owned(),
            _ => return Err(b.error("bag_unpack needs a column")),
        };
        // `bag_unpack(col [, prefix] [, columnsConflict = …] [, ignoredProperties = …])`.
        let (mut prefix, mut conflict, mut ignored) = (String::new(), String::new(), Vec::new());
        for e in args.iter().skip(1) {
            let (name, e) = split_alias(e);
            let v = match b.bind(e, &Vec::new())?.0 {
                B::Const(v) => v,
                _ => return Err(b.error("bag_unpack's arguments must be constants")),
            };
            match name.as_deref() {
                None => prefix = v.text().into_owned(),
                Some("columnsConflict") => conflict = v.text().into_owned(),
                Some("ignoredProperties") => {
                    if let V::Dyn(d) = &v
                        && let Value::Array(names) = d.as_ref()
                    {
                        ignored =
                            names.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect();
                    }
                }
                Some(other) => return Err(b.error(format!("bag_unpack has no argument '{other}'"))),
            }
        }
        let at =
            input.schema.iter().position(|(n, _)| *n == col).ok_or_else(|| b.unresolved(&col))?;
        let rows: Vec<Vec<Cell>> = input.rows.collect();
        let mut keys: Vec<String> = Vec::new();
        for r in &rows {
            if let Some(Cell::Dyn(Value::Object(m))) = r.get(at) {
                for k in m.keys() {
                    if !keys.contains(k) && !ignored.contains(k) {
                        keys.push(k.clone());
                    }
                }
            }
        }
        let mut schema: Schema = input.schema.clone();
        schema.remove(at);
        // A key named like a column: `keep_source` keeps the column, `replace_source` the
        // key's values (in the column's place); by default the key gets a fresh name.
        let mut replaced: Vec<(usize, String)> = Vec::new();
        keys.retain(|k| {
            let name = format!("{prefix}{k}");
            match schema.iter().position(|(n, _)| *n == name) {
                Some(_) if conflict == "keep_source" => false,
                Some(i) if conflict == "replace_source" => {
                    schema[i].1 = DYN;
                    replaced.push((i, k.clone()));
                    false
                }
                _ => true,
            }
        });
        for k in &keys {
            schema.push((super::tabular::unique(&schema, &format!("{prefix}{k}")), DYN));
        }
        let out: Vec<Vec<Cell>> = rows
            .into_iter()
            .map(|mut r| {
                let bag = r.remove(at);
                for (i, k) in &replaced {
                    r[*i] = match &bag {
                        Cell::Dyn(Value::Object(m)) => {
                            m.get(k).cloned().map_or(Cell::Null, Cell::Dyn)
                        }
                        _ => Cell::Null,
                    };
                }
                for k in &keys {
                    r.push(match &bag {
                        Cell::Dyn(Value::Object(m)) => {
                            m.get(k).cloned().map_or(Cell::Null, Cell::Dyn)
                        }
                        _ => Cell::Null,
                    });
                }
                r
            })
            .collect();
        let table = super::Table { schema, rows: Box::new(out.into_iter()) };
        match clause(op, Some("schema")).first() {
            Some(declared) => self.conform(table, declared.span()),
            None => Ok(table),
        }
    }

    /// The output of a plugin called with an output schema (`: (name: type, …)`): exactly
    /// those columns, in that order, each converted to its type (null where the plugin made
    /// no such column).
    fn conform(&self, table: super::Table, span: Span) -> Result<super::Table, KqlError> {
        let (declared, _) = super::sources::schema_tokens(self.tokens_in(span), 0, "evaluate")?;
        let from: Vec<Option<usize>> =
            declared.iter().map(|(n, _)| table.schema.iter().position(|(x, _)| x == n)).collect();
        let types: Vec<Ty> = declared.iter().map(|c| c.1).collect();
        let rows = table.rows.map(move |row| {
            from.iter()
                .zip(&types)
                .map(|(i, ty)| match i.and_then(|i| row.get(i)) {
                    Some(c) => to_cell(convert(cell_value(c, DYN), ty), ty),
                    None => Cell::Null,
                })
                .collect()
        });
        Ok(super::Table { schema: declared, rows: Box::new(rows) })
    }
}
