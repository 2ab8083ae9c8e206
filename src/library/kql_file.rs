//! Reading one `.kql` file into a [`Query`]: its text decoded (UTF-8, or UTF-16 with a BOM),
//! its front matter (see [`super::front_matter`]) applied, the KQL kept exactly as written so
//! the file still runs unchanged in the Defender portal.

use super::front_matter::{apply_keys, find_front_matter, lines, parse_front_matter_yaml};
use crate::query::{Query, QueryFileError, file_err, slug};
use std::path::Path;

/// True when the text holds nothing but `//` comments and whitespace.
fn is_comments_only(all: &[&str]) -> bool {
    all.iter().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("//")
    })
}

/// Parses one `.kql` file's text.
pub fn parse_kql_file(text: &str, path: &std::path::Path) -> Result<Query, QueryFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let all = lines(text);
    let fm = find_front_matter(&all).map_err(|(line, msg)| file_err(path, line, 1, msg))?;

    let stem_id =
        || path.file_stem().map(|s| slug(&s.to_string_lossy())).unwrap_or_else(|| slug(""));
    let mut q = Query::unset(text.to_string(), (1, 0), path);

    if let Some(fm) = &fm {
        let map = parse_front_matter_yaml(fm, path)?;
        let pos = |key: &str| fm.key_position(key).unwrap_or_else(|| fm.to_file(1, 1));
        apply_keys(&mut q, map, &pos, path)?;
    }

    // A disabled query may be nothing but comments (e.g. a Defender Experts query whose line
    // breaks were lost, saved by `den sync` with `enabled: false` so it is kept but never run).
    if q.enabled && is_comments_only(&all) {
        return Err(file_err(
            path,
            1,
            1,
            "query is empty once comments are removed: add the KQL after the front matter",
        ));
    }
    if q.id.is_empty() {
        q.id = stem_id();
    }
    if q.name.is_empty() {
        q.name = q.id.clone();
    }
    Ok(q)
}

/// Reads and parses one query file (whatever its extension). Bytes that are not UTF-8 are an
/// error pointing at the first bad byte; a UTF-8 BOM is skipped; UTF-16 with a BOM is decoded.
pub fn read_query_file(path: &Path) -> Result<Query, QueryFileError> {
    parse_kql_file(&read_text(path)?, path)
}

/// Reads a text file the way query files are read: UTF-8 (a BOM is skipped later by the
/// parsers) or UTF-16 with a BOM; errors point at the first bad byte.
pub fn read_text(path: &Path) -> Result<String, QueryFileError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "does not exist".to_string(),
            _ => format!("cannot be read: {e}"),
        };
        file_err(path, 1, 1, what)
    })?;
    decode(&bytes).map_err(|(line, col)| {
        file_err(path, line, col, "file is not valid UTF-8 text: save it as UTF-8")
    })
}

/// UTF-8 (or UTF-16 with a BOM) to text; `Err((line, col))` of the first bad byte.
fn decode(bytes: &[u8]) -> Result<String, (usize, usize)> {
    let utf16 = |be: bool| -> Option<String> {
        let body = &bytes[2..];
        if !body.len().is_multiple_of(2) {
            return None;
        }
        let units = body.chunks_exact(2).map(|c| {
            if be { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) }
        });
        char::decode_utf16(units).collect::<Result<String, _>>().ok()
    };
    match bytes {
        [0xFF, 0xFE, ..] => return utf16(false).ok_or((1, 1)),
        [0xFE, 0xFF, ..] => return utf16(true).ok_or((1, 1)),
        _ => {}
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line = good.matches('\n').count() + 1;
            let col = good.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Err((line, col))
        }
    }
}

#[cfg(test)]
mod tests;
