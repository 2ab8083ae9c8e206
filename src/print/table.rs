//! The `table` format: rows kept up to a limit, then laid out to fit a width, each value on one
//! line (control characters shown escaped) and long values cut with `…`.

use super::value::Column;
use arrow_array::RecordBatch;
use std::io::{self, Write};
use unicode_width::UnicodeWidthChar;

/// The narrowest a column is cut to before columns are left out instead.
const MIN_COLUMN: usize = 6;
/// The widest a column is shown, whatever the room.
const MAX_COLUMN: usize = 60;
/// Between columns.
const GAP: &str = "  ";

/// The rows of one query, up to a limit.
pub struct Rows {
    limit: usize,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    seen: u64,
}

impl Rows {
    /// No rows yet; at most `limit` will be kept.
    pub fn new(limit: usize) -> Rows {
        Rows { limit, header: Vec::new(), rows: Vec::new(), seen: 0 }
    }

    /// Counts `batch`'s rows and keeps those that fit under the limit. Columns are matched by
    /// name; a column first seen in a later batch is added (empty in earlier rows).
    pub fn add(&mut self, batch: &RecordBatch) {
        let schema = batch.schema();
        let at: Vec<usize> = schema
            .fields()
            .iter()
            .map(|f| match self.header.iter().position(|h| h == f.name()) {
                Some(i) => i,
                None => {
                    self.header.push(f.name().clone());
                    self.header.len() - 1
                }
            })
            .collect();
        let columns: Vec<Column> = schema.fields().iter().map(|f| Column::of(f)).collect();
        for row in 0..batch.num_rows() {
            self.seen += 1;
            if self.rows.len() >= self.limit {
                continue;
            }
            let mut cells = vec![String::new(); self.header.len()];
            for ((column, array), &i) in columns.iter().zip(batch.columns()).zip(&at) {
                cells[i] = one_line(&column.text(array, row));
            }
            self.rows.push(cells);
        }
    }

    /// Writes the table in at most `width` columns of text.
    pub fn write(&self, out: &mut impl Write, width: usize) -> io::Result<()> {
        if self.header.is_empty() {
            return writeln!(out, "(no rows)");
        }
        let natural: Vec<usize> = (0..self.header.len())
            .map(|c| {
                let cells = self.rows.iter().map(|r| r.get(c).map_or(0, |v| text_width(v)));
                cells.chain([text_width(&self.header[c])]).max().unwrap_or(0).min(MAX_COLUMN)
            })
            .collect();
        let (widths, left_out) = fit(&natural, width);
        let shown = widths.len();
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(c, &w)| pad(&cut(cells.get(c).map_or("", String::as_str), w), w))
                .collect();
            parts.join(GAP).trim_end().to_owned()
        };
        writeln!(out, "{}", line(&self.header))?;
        writeln!(out, "{}", line(&widths.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>()))?;
        for row in &self.rows {
            writeln!(out, "{}", line(row))?;
        }
        let more = self.seen - self.rows.len() as u64;
        let mut notes = Vec::new();
        if more > 0 {
            notes.push(format!("{more} more row(s) not shown (--limit {})", self.limit));
        }
        if left_out > 0 {
            let names = self.header[shown..].join(", ");
            notes.push(format!("{left_out} column(s) left out for width: {names}"));
        }
        if self.seen == 0 {
            notes.push("no rows".into());
        }
        for n in notes {
            writeln!(out, "({n})")?;
        }
        Ok(())
    }
}

/// Column widths that fit `width`: the widest columns are narrowed first, down to
/// [`MIN_COLUMN`]; if that is still too wide, the last columns are left out. Returns the widths
/// of the columns shown and how many were left out.
fn fit(natural: &[usize], width: usize) -> (Vec<usize>, usize) {
    let mut widths = natural.to_vec();
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP.len() * w.len().saturating_sub(1);
    // Narrow the widest column one cell at a time (so columns end up evenly cut), and once all
    // are at the minimum, leave out the last.
    while total(&widths) > width {
        let Some((i, &widest)) = widths.iter().enumerate().max_by_key(|&(_, w)| *w) else {
            break;
        };
        if widest > MIN_COLUMN {
            widths[i] -= 1;
        } else if widths.len() > 1 {
            widths.pop();
        } else {
            break;
        }
    }
    let left_out = natural.len() - widths.len();
    (widths, left_out)
}

/// Display width of `s` in terminal cells.
fn text_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `s` cut to `w` cells, ending in `…` when cut.
fn cut(s: &str, w: usize) -> String {
    if text_width(s) <= w {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw + 1 > w {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// `s` padded with spaces to `w` cells.
fn pad(s: &str, w: usize) -> String {
    let fill = w.saturating_sub(text_width(s));
    format!("{s}{}", " ".repeat(fill))
}

/// A value on one line: control characters (newlines, tabs, escapes) shown escaped.
fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_shrink_widest_first_then_columns_go() {
        assert_eq!(fit(&[10, 40, 5], 100), (vec![10, 40, 5], 0));
        let (w, out) = fit(&[10, 40, 5], 40);
        assert_eq!(out, 0);
        assert_eq!(w, [10, 21, 5], "the widest gives way first");
        let (w, _) = fit(&[30, 30, 5], 40);
        assert_eq!(w, [16, 15, 5], "evenly cut");
        let (w, out) = fit(&[30; 20], 40);
        assert!(out > 0 && w.iter().all(|&x| x == MIN_COLUMN), "{w:?}");
        assert!(w.iter().sum::<usize>() + 2 * (w.len() - 1) <= 40);
    }

    #[test]
    fn long_and_wide_values_are_cut_to_their_cells() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(text_width(&cut("日本語テキスト", 6)), 5);
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(pad("ab", 4), "ab  ");
    }
}
