//! `externaldata(schema) [urls] with (options)`: the emulator has no network, so a URL is read
//! from the local file mapped to it (`hunt emulator --externaldata URL=PATH`), and a URL with no
//! file is refused with a message naming it. The formats hunting queries use are read as Kusto
//! reads them: `csv` (the default), `tsv`, `scsv`, `psv` and `txt` (each line one record of one
//! column), with `ignoreFirstRecord` skipping the first record of each file. A value that does
//! not convert to its column's type is null, as in Kusto ingestion.

use super::Table;
use super::builtins::convert;
use crate::emulator::data::Cell;
use crate::emulator::kql::literal::unquote;
use crate::emulator::kql::value::{Ty, V, to_cell};
use crate::emulator::kql::{ExternalData, KqlError, op_error};
use crate::kql::{Token, TokenKind};

/// Most bytes read from one mapped file.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// How the records of a file are delimited.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    /// One field separator, with `"` quoting (`csv` `,`, `tsv` tab, `scsv` `;`, `psv` `|`).
    Separated(char),
    /// Each line is one record of a single column.
    Txt,
}

/// Evaluates an `externaldata` literal from its tokens (`externaldata ( … ) [ … ] with ( … )`).
pub(crate) fn externaldata(toks: &[Token<'_>], files: &ExternalData) -> Result<Table, KqlError> {
    let bad = |what: &str| op_error("externaldata", what.to_owned());
    // The schema: `( name : type , … )`.
    let (schema, mut i) = super::sources::schema_tokens(toks, 1, "externaldata")?;
    if schema.is_empty() {
        return Err(bad("malformed schema"));
    }
    let mut urls = Vec::new();
    match toks.get(i + 1) {
        // `["url"]`, a single URL with no space after `[`, is lexed as one bracket-quoted name.
        Some(t) if t.kind == TokenKind::BracketIdent => {
            let url = t.text.get(1..t.text.len() - 1).and_then(unquote);
            urls.push(url.ok_or_else(|| bad("malformed URL string"))?);
            i += 1;
        }
        Some(t) if t.text == "[" => {
            // The URLs: string literals up to `]`.
            i += 2;
            while let Some(t) = toks.get(i).filter(|t| t.text != "]") {
                let obfuscated = t.text.eq_ignore_ascii_case("h")
                    && toks.get(i + 1).is_some_and(|n| n.kind == TokenKind::String);
                if obfuscated {
                    // `h@'…'`: an obfuscated string, lexed as `h` then the string.
                } else if t.kind == TokenKind::String {
                    urls.push(unquote(t.text).ok_or_else(|| bad("malformed URL string"))?);
                } else if t.text != "," {
                    return Err(bad(&format!("a URL must be a string literal, not '{}'", t.text)));
                }
                i += 1;
            }
        }
        _ => return Err(bad("malformed schema")),
    }
    if urls.is_empty() {
        return Err(bad("no URL in '[…]'"));
    }
    // The options: `with ( key = value , … )`.
    let (mut format, mut skip_first) = (Format::Separated(','), false);
    let opts = toks.get(i + 1..).unwrap_or(&[]);
    for w in opts.windows(3).filter(|w| w[1].text == "=") {
        let key = w[0].text.to_ascii_lowercase();
        let value = unquote(w[2].text).unwrap_or_else(|| w[2].text.to_owned());
        match key.as_str() {
            "format" => {
                format = match value.to_ascii_lowercase().as_str() {
                    "csv" => Format::Separated(','),
                    "tsv" | "tsve" => Format::Separated('\t'),
                    "scsv" => Format::Separated(';'),
                    "psv" => Format::Separated('|'),
                    "txt" => Format::Txt,
                    other => {
                        return Err(bad(&format!(
                            "format '{other}' is not supported by the hunt emulator \
                             (supported: csv, tsv, scsv, psv, txt)"
                        )));
                    }
                }
            }
            "ignorefirstrecord" => skip_first = value.eq_ignore_ascii_case("true"),
            _ => {}
        }
    }
    let types: Vec<Ty> = schema.iter().map(|c| c.1).collect();
    let mut rows = Vec::new();
    for url in &urls {
        let text = read(url, files)?;
        let records = match format {
            Format::Txt => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| vec![l.trim_end_matches('\r').to_owned()])
                .collect(),
            Format::Separated(sep) => separated(&text, sep),
        };
        for record in records.into_iter().skip(usize::from(skip_first)) {
            let row: Vec<Cell> = types
                .iter()
                .enumerate()
                .map(|(c, ty)| match record.get(c) {
                    Some(field) => to_cell(convert(V::Str(field.as_str().into()), ty), ty),
                    None => Cell::Null,
                })
                .collect();
            rows.push(row);
        }
    }
    Ok(Table { schema, rows: Box::new(rows.into_iter()) })
}

/// The text of the file mapped to `url`, or the refusal naming the URL.
fn read(url: &str, files: &ExternalData) -> Result<String, KqlError> {
    let Some(path) = files.get(url) else {
        return Err(KqlError {
            message: format!(
                "'externaldata' operator cannot read '{url}': the hunt emulator has no network \
                 access; map the URL to a local file with `hunt emulator --externaldata URL=PATH`"
            ),
        });
    };
    let refuse = |e: String| KqlError {
        message: format!(
            "'externaldata' operator cannot read '{url}' from {}: {e}",
            path.display()
        ),
    };
    let size = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?.len();
    if size > MAX_FILE_BYTES {
        return Err(refuse(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| refuse(e.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The records of a delimited text (RFC 4180 quoting: `"a ""b"", c"`), empty lines skipped.
fn separated(text: &str, sep: char) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut any) = (false, false);
    let mut it = text.chars().peekable();
    while let Some(ch) = it.next() {
        if quoted {
            match ch {
                '"' if it.peek() == Some(&'"') => {
                    it.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match ch {
            '"' if field.is_empty() => quoted = true,
            c if c == sep => record.push(std::mem::take(&mut field)),
            '\r' if it.peek() == Some(&'\n') => {}
            '\n' => {
                if any || !field.is_empty() || !record.is_empty() {
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                any = false;
                continue;
            }
            c => field.push(c),
        }
        any = true;
    }
    if any || !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[cfg(test)]
mod tests {
    use super::separated;

    #[test]
    fn csv_records_with_quotes_and_blank_lines() {
        let text = "a,\"b, c\",\"say \"\"hi\"\"\"\r\n\n1,,3\nlast";
        assert_eq!(
            separated(text, ','),
            vec![
                vec!["a".to_owned(), "b, c".into(), "say \"hi\"".into()],
                vec!["1".into(), String::new(), "3".into()],
                vec!["last".into()],
            ]
        );
        assert_eq!(separated("x;y\n", ';'), vec![vec!["x".to_owned(), "y".into()]]);
    }
}
