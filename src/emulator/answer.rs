//! A hunting answer's body, generated when asked. The service's JSON (`schema` with
//! `name`/`type`, rows keyed by column, `@odata.type` annotations on Int64 cells, DateTime with
//! up to 7 fractional digits) is written a piece at a time by a [`Render`], so an answer is
//! never held whole unless it is small:
//!
//! - an answer up to [`WHOLE`] bytes is rendered at once and sent as it is;
//! - a larger one is first measured (rendered and thrown away a piece at a time, to apply the
//!   service's size cap exactly as before, and to know where a `truncate` fault cuts it), then
//!   evaluated again and sent as a stream, each piece generated when the connection takes
//!   the previous one. The data is a pure function of the query's context, so both passes
//!   produce the same bytes.
//!
//! An emulator serving many tenants whose clients read slowly thus holds a few pieces per
//! waiting answer instead of every answer whole.

use super::data::Cell;
use super::kql::{self, Context, KqlError};
use axum::body::{Body, Bytes};
use serde_json::Value;
use std::io::Write as _;

/// Answers up to this many bytes are sent from one rendering, held whole.
pub(super) const WHOLE: usize = 256 << 10;
/// The size of each piece of a streamed answer.
const PIECE: usize = 64 << 10;

/// What to evaluate and how to write it: enough to produce the same answer twice.
#[derive(Clone)]
pub(super) struct Job {
    pub(super) query: String,
    pub(super) ctx: Context,
    /// The service's row cap (it cuts without saying so).
    pub(super) max_rows: usize,
    /// The emulator's base URL, for `@odata.context`.
    pub(super) base: String,
    pub(super) results_first: bool,
}

/// The first rendering of an answer.
pub(super) enum Measured {
    /// All of it, at most [`WHOLE`] bytes.
    Whole(Vec<u8>),
    /// Its size, more than [`WHOLE`]; when over the cap, counting stopped soon after it, so
    /// this is only a lower bound.
    Large(u64),
}

impl Job {
    /// Evaluates the query: the renderer of its answer.
    fn render(&self) -> Result<Render, KqlError> {
        let mut set = kql::execute(&self.query, &self.ctx)?;
        set.rows = Box::new(set.rows.take(self.max_rows));
        Ok(Render::new(&self.base, set, self.results_first))
    }

    /// Evaluates and renders the answer once: whole if small, else only its size (counting
    /// stops past `cap`). Blocking: run it off the async threads.
    pub(super) fn measure(&self, cap: u64) -> Result<Measured, KqlError> {
        let mut r = self.render()?;
        let mut out = Vec::with_capacity(PIECE);
        let mut done = r.fill(&mut out, WHOLE + 1);
        if done && out.len() <= WHOLE {
            return Ok(Measured::Whole(out));
        }
        let mut total = out.len() as u64;
        while !done && total <= cap {
            out.clear();
            done = r.fill(&mut out, PIECE);
            total += out.len() as u64;
        }
        Ok(Measured::Large(total))
    }

    /// The answer evaluated again and sent a piece at a time as the connection takes them,
    /// each piece rendered off the async threads. With `cut`, the body stops after that many
    /// bytes and the connection drops (the `truncate` fault).
    pub(super) fn stream(self, cut: Option<u64>) -> Body {
        let step = Step::Start(Box::new(self), 0);
        let pieces = futures_util::stream::unfold(step, move |step| async move {
            let (producer, sent) = match step {
                Step::Done => return None,
                Step::Fail => return Some((Err(reset()), Step::Done)),
                Step::Start(job, sent) => (Producer::Pending(job), sent),
                Step::Going(render, sent) => (Producer::Ready(render), sent),
            };
            let work = tokio::task::spawn_blocking(move || {
                let mut render = match producer {
                    Producer::Ready(r) => r,
                    Producer::Pending(job) => Box::new(job.render().ok()?),
                };
                let mut piece = Vec::with_capacity(PIECE + 4096);
                let done = render.fill(&mut piece, PIECE);
                Some((render, piece, done))
            });
            let Ok(Some((render, mut piece, done))) = work.await else {
                // The query no longer evaluates, or its worker failed: drop the connection.
                return Some((Err(reset()), Step::Done));
            };
            let now = sent + piece.len() as u64;
            if let Some(cut) = cut.filter(|&c| now >= c) {
                piece.truncate(usize::try_from(cut - sent).unwrap_or(0));
                return Some((Ok(Bytes::from(piece)), Step::Fail));
            }
            let next = if done { Step::Done } else { Step::Going(render, now) };
            Some((Ok(Bytes::from(piece)), next))
        });
        Body::from_stream(pieces)
    }
}

/// Where a streamed answer stands, with the bytes sent so far.
enum Step {
    Start(Box<Job>, u64),
    Going(Box<Render>, u64),
    /// Cut short: the connection drops next.
    Fail,
    Done,
}

enum Producer {
    Pending(Box<Job>),
    Ready(Box<Render>),
}

fn reset() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "emulated reset")
}

/// Writes one answer a piece at a time: the envelope up to the rows, the rows, the rest.
pub(super) struct Render {
    /// Bytes before the first row (`{"@odata.context":…,"schema":[…],"results":[`), until sent.
    head: Option<Vec<u8>>,
    rows: Box<dyn Iterator<Item = Vec<Cell>> + Send>,
    /// Rows written so far.
    n: usize,
    /// Each column's key, as JSON.
    keys: Vec<String>,
    /// Each Int64 column's `@odata.type` key, as JSON.
    annotate: Vec<Option<String>>,
    /// Bytes after the last row (`]}` or `],"schema":[…]}`).
    tail: Vec<u8>,
}

impl Render {
    /// The renderer of `set`, with `results` before `schema` if `results_first`.
    pub(super) fn new(base: &str, set: kql::ResultSet, results_first: bool) -> Render {
        let mut schema = Vec::new();
        schema.push(b'[');
        for (i, (name, ty)) in set.columns.iter().enumerate() {
            if i > 0 {
                schema.push(b',');
            }
            let _ = write!(
                schema,
                "{{\"name\":{},\"type\":{}}}",
                Value::from(name.as_str()),
                Value::from(ty.as_str())
            );
        }
        schema.push(b']');
        let keys = set.columns.iter().map(|(n, _)| Value::from(n.as_str()).to_string()).collect();
        let annotate = set
            .columns
            .iter()
            .map(|(n, t)| {
                (t == "Int64").then(|| Value::from(format!("{n}@odata.type")).to_string())
            })
            .collect();
        let context = format!("{base}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults");
        let mut head = Vec::with_capacity(schema.len() + 200);
        let _ = write!(head, "{{\"@odata.context\":{},", Value::from(context));
        let mut tail = Vec::new();
        if results_first {
            head.extend_from_slice(b"\"results\":[");
            tail.extend_from_slice(b"],\"schema\":");
            tail.extend_from_slice(&schema);
            tail.push(b'}');
        } else {
            head.extend_from_slice(b"\"schema\":");
            head.extend_from_slice(&schema);
            head.extend_from_slice(b",\"results\":[");
            tail.extend_from_slice(b"]}");
        }
        Render { head: Some(head), rows: set.rows, n: 0, keys, annotate, tail }
    }

    /// Appends to `out` until it holds at least `target` bytes or the answer ends: true when
    /// it ended (then `out` ends with the answer's last byte).
    pub(super) fn fill(&mut self, out: &mut Vec<u8>, target: usize) -> bool {
        if let Some(head) = self.head.take() {
            out.extend_from_slice(&head);
        }
        while out.len() < target {
            let Some(row) = self.rows.next() else {
                out.extend_from_slice(&self.tail);
                return true;
            };
            if self.n > 0 {
                out.push(b',');
            }
            self.n += 1;
            out.push(b'{');
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let (Some(Some(a)), Cell::Int(_)) = (self.annotate.get(i), cell) {
                    let _ = write!(out, "{a}:\"#Int64\",");
                }
                if let Some(k) = self.keys.get(i) {
                    out.extend_from_slice(k.as_bytes());
                }
                out.push(b':');
                write_cell(out, cell);
            }
            out.push(b'}');
        }
        false
    }
}

/// Renders `set` whole.
#[cfg(test)]
pub(super) fn render(base: &str, set: kql::ResultSet, results_first: bool) -> Vec<u8> {
    let mut r = Render::new(base, set, results_first);
    let mut out = Vec::new();
    while !r.fill(&mut out, usize::MAX) {}
    out
}

fn write_cell(out: &mut Vec<u8>, cell: &Cell) {
    match cell {
        Cell::Null => out.extend_from_slice(b"null"),
        Cell::Str(s) => {
            let _ = serde_json::to_writer(&mut *out, s);
        }
        Cell::Time(t) => {
            out.push(b'"');
            out.extend_from_slice(kql::format_datetime(*t).as_bytes());
            out.push(b'"');
        }
        Cell::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Cell::Real(f) if f.is_finite() => {
            let _ = serde_json::to_writer(&mut *out, f);
        }
        Cell::Real(f) => {
            let text = if f.is_nan() {
                "NaN"
            } else if *f > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            };
            let _ = write!(out, "\"{text}\"");
        }
        Cell::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Cell::Dyn(v) => {
            let _ = serde_json::to_writer(&mut *out, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize) -> kql::ResultSet {
        kql::ResultSet {
            columns: vec![("Id".into(), "Int64".into()), ("Name".into(), "String".into())],
            rows: Box::new((0..n).map(|i| vec![Cell::Int(i as i64), Cell::Str(format!("r{i}"))])),
        }
    }

    #[test]
    fn pieces_join_to_the_whole_answer_in_both_key_orders() {
        for results_first in [false, true] {
            let whole = render("http://x", set(5000), results_first);
            let mut r = Render::new("http://x", set(5000), results_first);
            let (mut joined, mut pieces) = (Vec::new(), 0);
            loop {
                let mut piece = Vec::new();
                let done = r.fill(&mut piece, 1000);
                pieces += 1;
                joined.extend(piece);
                if done {
                    break;
                }
            }
            assert!(pieces > 50, "{pieces}");
            assert_eq!(joined, whole);
            let v: Value = serde_json::from_slice(&whole).unwrap();
            assert_eq!(v["results"].as_array().unwrap().len(), 5000);
            assert_eq!(v["results"][4999]["Name"], "r4999");
        }
        let empty = render("http://x", set(0), false);
        let v: Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["results"], serde_json::json!([]));
    }
}
