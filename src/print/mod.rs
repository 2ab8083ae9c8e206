//! `hunt run --print`: the rows of each landed window on stdout, as a table for people, CSV or
//! JSON lines for tools, straight from the decoded batches, so values are the service's own
//! (DateTime with its 100 ns, Dynamic as JSON). The summary and progress go to stderr.
//!
//! A window's rows are printed once it has landed (a part cut at the row cap and asked again in
//! halves is never printed twice). With several queries each row names its query: a first
//! `query` column (CSV, table) or a `query` field (JSON lines); CSV starts a new header, after a
//! blank line, whenever the columns change. The table shows at most `--limit` rows per query and
//! says how many more there were.

mod table;
mod value;

use arrow_array::RecordBatch;
use std::io::{self, Write};
use std::sync::Mutex;
use value::Column;

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrintFormat {
    /// A table that fits the terminal, long values cut with `…`, at most `--limit` rows a query.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per row.
    Jsonl,
}

/// Prints rows as windows land; safe to share between the tasks of a run.
pub struct Printer {
    format: PrintFormat,
    limit: usize,
    with_query: bool,
    width: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// CSV: the header last printed.
    header: Option<Vec<String>>,
    /// Table: rows kept and rows seen, by query, in the order queries first landed rows.
    tables: Vec<(String, table::Rows)>,
    /// Where stdout went away (a closed pipe): nothing more is printed.
    closed: bool,
}

impl Printer {
    /// A printer; `with_query` when rows of several queries are printed; `width` is the
    /// terminal's (tables only).
    pub fn new(format: PrintFormat, limit: usize, with_query: bool, width: usize) -> Printer {
        Printer { format, limit, with_query, width, state: Mutex::new(State::default()) }
    }

    /// The rows of one landed window (or part) of `query`.
    pub fn print(&self, query: &str, batches: &[RecordBatch]) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.closed {
            return Ok(());
        }
        let result = match self.format {
            PrintFormat::Table => {
                self.keep(&mut state, query, batches);
                Ok(())
            }
            PrintFormat::Csv => self.csv(&mut state, &mut io::stdout().lock(), query, batches),
            PrintFormat::Jsonl => self.jsonl(&mut io::stdout().lock(), query, batches),
        };
        closed_quietly(&mut state, result)
    }

    /// Prints what is kept until the end (the tables).
    pub fn finish(&self) -> io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.closed || self.format != PrintFormat::Table {
            return Ok(());
        }
        let tables = std::mem::take(&mut state.tables);
        let mut out = io::stdout().lock();
        let result = (|| {
            for (i, (query, rows)) in tables.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                if self.with_query || tables.len() > 1 {
                    writeln!(out, "{query}")?;
                }
                rows.write(&mut out, self.width)?;
            }
            out.flush()
        })();
        closed_quietly(&mut state, result)
    }

    fn keep(&self, state: &mut State, query: &str, batches: &[RecordBatch]) {
        let at = match state.tables.iter().position(|(q, _)| q == query) {
            Some(at) => at,
            None => {
                state.tables.push((query.to_owned(), table::Rows::new(self.limit)));
                state.tables.len() - 1
            }
        };
        let rows = &mut state.tables[at].1;
        for batch in batches {
            rows.add(batch);
        }
    }

    fn csv(
        &self,
        state: &mut State,
        out: &mut impl Write,
        query: &str,
        batches: &[RecordBatch],
    ) -> io::Result<()> {
        for batch in batches {
            let schema = batch.schema();
            let mut header: Vec<String> = Vec::new();
            if self.with_query {
                header.push("query".into());
            }
            header.extend(schema.fields().iter().map(|f| f.name().clone()));
            if state.header.as_ref() != Some(&header) {
                if state.header.is_some() {
                    writeln!(out)?;
                }
                write_csv_record(out, header.iter().map(String::as_str))?;
                state.header = Some(header);
            }
            let columns: Vec<Column> = schema.fields().iter().map(|f| Column::of(f)).collect();
            for row in 0..batch.num_rows() {
                let cells = columns.iter().zip(batch.columns()).map(|(c, a)| c.text(a, row));
                let cells: Vec<String> = if self.with_query {
                    std::iter::once(query.to_owned()).chain(cells).collect()
                } else {
                    cells.collect()
                };
                write_csv_record(out, cells.iter().map(String::as_str))?;
            }
        }
        out.flush()
    }

    fn jsonl(&self, out: &mut impl Write, query: &str, batches: &[RecordBatch]) -> io::Result<()> {
        for batch in batches {
            for row in row_objects(batch, usize::MAX) {
                let object = match self.with_query {
                    true => {
                        std::iter::once(("query".to_owned(), query.into())).chain(row).collect()
                    }
                    false => row,
                };
                serde_json::to_writer(&mut *out, &object)?;
                out.write_all(b"\n")?;
            }
        }
        out.flush()
    }
}

/// The first `limit` rows of `batch` as JSON objects with the service's own values (DateTime as
/// ISO 8601 with 7 fractional digits, Dynamic as JSON), keyed by column name: what `--print jsonl`
/// prints and what a notification's sample holds.
pub fn row_objects(
    batch: &RecordBatch,
    limit: usize,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let schema = batch.schema();
    let columns: Vec<Column> = schema.fields().iter().map(|f| Column::of(f)).collect();
    (0..batch.num_rows().min(limit))
        .map(|row| {
            schema
                .fields()
                .iter()
                .zip(&columns)
                .zip(batch.columns())
                .map(|((field, column), array)| (field.name().clone(), column.json(array, row)))
                .collect()
        })
        .collect()
}

/// A closed stdout (`| head`) ends printing quietly, as Unix tools do; other errors stand.
fn closed_quietly(state: &mut State, result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            state.closed = true;
            Ok(())
        }
        other => other,
    }
}

/// One CSV record, RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled;
/// records end with CRLF.
pub fn write_csv_record<'a>(
    out: &mut impl Write,
    fields: impl IntoIterator<Item = &'a str>,
) -> io::Result<()> {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.write_all(b"\"")?;
            out.write_all(field.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
        } else {
            out.write_all(field.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

/// The terminal's width for tables: stdout's, else `COLUMNS`, else 120.
pub fn terminal_width() -> usize {
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return usize::from(w);
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).unwrap_or(120)
}

#[cfg(test)]
mod tests;
