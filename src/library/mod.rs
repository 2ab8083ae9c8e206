//! The query library on disk: walks files and folders, loads every query file it finds, and
//! reports what it could not load (with the place) and duplicate ids, so that one broken file
//! never hides the others, plus what it tolerated (warnings) and what it did with each file.
//!
//! Rules: a folder is walked recursively in sorted (byte-wise file name) order, depth first, so
//! results are deterministic; names starting with `.` are skipped while walking. While walking,
//! `*.kql` and `*.csl` files (KQL, with optional `//` front matter) and `*.yaml` / `*.yml`
//! (Sentinel hunting queries, see [`sentinel`]) are loaded, any case. `*.txt` is loaded only
//! when named explicitly: folders of queries often hold READMEs and notes as `.txt`. A path given
//! explicitly as a file is loaded whatever its extension (`.yaml`/`.yml` as Sentinel YAML, any
//! other as KQL). The same file reached twice is loaded once. Symbolic links are followed, but a
//! folder already being walked is not entered again.
//!
//! **Several queries in one file** (see [`split`]): a file holding several independent queries
//! separated by blank lines (a portal "notebook") is split: its queries load as `<id>-1`,
//! `<id>-2`, … (names `<name> (1/N)`, …), each with its own lines as `kql` and its own
//! `kql_at`, every front-matter setting copied to each; text between them that is not KQL is
//! left out. A query with several `;`-separated tabular statements is not split (a later
//! statement may use the `let`s of an earlier one) but *flagged*: loaded with `enabled = false`,
//! since the service answers with one table and the rest would silently not run. Both are
//! reported as warnings, and per file in [`Loaded::files`].

pub mod front_matter;
pub mod kql_file;
pub mod sentinel;
pub mod split;

pub use kql_file::{parse_kql_file, read_query_file};

use crate::query::{Query, QueryFileError};
use front_matter::front_matter_key_position;
use kql_file::read_text;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Queries that loaded, in path order; for a duplicated id only the first.
    pub queries: Vec<Query>,
    /// Files that did not load, and duplicate ids (as errors on the later file).
    pub errors: Vec<QueryFileError>,
    /// What was tolerated or changed while loading, file by file: invalid YAML read leniently,
    /// misspelled keys, a file split into several queries, text left out, a query disabled
    /// because only part of it would run. A warning never stops a query from loading.
    pub warnings: Vec<QueryFileError>,
    /// One entry per file tried, in order: what came of it.
    pub files: Vec<FileReport>,
}

impl Loaded {
    /// True when every file loaded and no id was duplicated (warnings allowed).
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The query with this id, if loaded.
    pub fn get(&self, id: &str) -> Option<&Query> {
        self.queries.iter().find(|q| q.id == id)
    }
}

/// How a file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// KQL with optional `//` front matter (`.kql`, `.csl`, `.txt`, …).
    Kql,
    /// Sentinel hunting-query YAML (`.yaml`, `.yml`).
    SentinelYaml,
}

/// What came of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// One query.
    Single,
    /// Several independent queries, loaded as `<id>-1` … `<id>-N` (N given).
    Split(usize),
    /// Loaded, but disabled: only part of it would run (see the warnings).
    Flagged,
    /// Not loaded (see the errors).
    Failed,
}

/// One file's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// How it was read.
    pub format: Format,
    /// What came of it.
    pub outcome: Outcome,
    /// Ids of the queries loaded from it.
    pub ids: Vec<String>,
    /// How many warnings it produced.
    pub warnings: usize,
}

/// One file, parsed (and split) but not yet checked against the rest of the library.
#[derive(Debug, Clone)]
pub struct FileLoad {
    /// How it was read.
    pub format: Format,
    /// Its queries (several when split).
    pub queries: Vec<Query>,
    /// What was tolerated.
    pub warnings: Vec<QueryFileError>,
    /// `Single`, `Split` or `Flagged`.
    pub outcome: Outcome,
}

/// The format a file is read in, from its extension.
pub fn format_of(path: &Path) -> Format {
    if sentinel::is_yaml_path(path) { Format::SentinelYaml } else { Format::Kql }
}

/// The loader's note on a disabled query that is nothing but comments (a DEN query whose line
/// breaks were lost, saved disabled by `hunt den sync`).
pub const NO_CODE_DISABLED: &str = "query has no code, only comments: it is disabled";

/// Reads one query file (whatever its extension), splitting it when it holds several queries.
pub fn load_file(path: &Path) -> Result<FileLoad, QueryFileError> {
    let text = read_text(path)?;
    let format = format_of(path);
    let (q, mut warnings) = match format {
        Format::SentinelYaml => {
            let p = sentinel::parse_sentinel_yaml(&text, path)?;
            (p.query, p.warnings)
        }
        Format::Kql => (parse_kql_file(&text, path)?, Vec::new()),
    };
    if !q.enabled && !q.kql.lines().any(|l| !l.trim().is_empty() && !l.trim().starts_with("//")) {
        warnings.push(at(&q, 0, NO_CODE_DISABLED));
        return Ok(FileLoad { format, queries: vec![q], warnings, outcome: Outcome::Flagged });
    }
    let (queries, outcome) = split_query(q, &mut warnings);
    Ok(FileLoad { format, queries, warnings, outcome })
}

/// A warning at 0-based line `line` of `q.kql`.
fn at(q: &Query, line: usize, message: impl Into<String>) -> QueryFileError {
    QueryFileError {
        path: q.source.clone(),
        line: q.kql_at.0 + line,
        col: q.kql_at.1 + 1,
        message: message.into(),
    }
}

/// Byte offsets of the start of each line of `text` (and `text.len()` at the end).
fn line_offsets(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    v.push(text.len());
    v
}

/// Splits `q` into its independent queries (see the module docs), adding warnings.
pub fn split_query(q: Query, warnings: &mut Vec<QueryFileError>) -> (Vec<Query>, Outcome) {
    // A text that parses as one tabular statement (after its `let`s) is one query, whatever
    // its blank lines look like: the parser, not the line heuristics, has the last word.
    let tabular = |s: &crate::kql::syntax::tree::Script| {
        s.statements
            .iter()
            .filter(|s| matches!(s, crate::kql::syntax::tree::Statement::Query(_)))
            .count()
    };
    if crate::kql::syntax::parse(&q.kql).script.is_some_and(|s| tabular(&s) <= 1) {
        return (vec![q], Outcome::Single);
    }
    let seg = split::segments(&q.kql);
    let flag = |part: &mut Query, first: usize, warnings: &mut Vec<QueryFileError>| {
        part.enabled = false;
        warnings.push(at(
            &q,
            first,
            "a second tabular statement after `;`: the service returns one table, so part of \
             this query would silently not run; the query is disabled (put each query in its \
             own file, or remove the `;`)",
        ));
    };
    if seg.is_single() {
        let mut q2 = q.clone();
        let outcome = match seg.extra_statements.first() {
            Some(&first) => {
                flag(&mut q2, first, warnings);
                Outcome::Flagged
            }
            None => Outcome::Single,
        };
        return (vec![q2], outcome);
    }
    let offsets = line_offsets(&q.kql);
    let n_lines = offsets.len() - 1;
    for &(s, e) in &seg.stray {
        let last = e.min(n_lines).max(s + 1);
        let place = if last == s + 1 {
            format!("line {}", q.kql_at.0 + s)
        } else {
            format!("lines {}-{}", q.kql_at.0 + s, q.kql_at.0 + last - 1)
        };
        warnings.push(at(
            &q,
            s,
            format!("{place}: text that is not KQL, between queries: left out of every query"),
        ));
    }
    let n = seg.parts.len();
    let mut out = Vec::with_capacity(n);
    let mut flagged = false;
    for (i, &(s, e)) in seg.parts.iter().enumerate() {
        let mut part = q.clone();
        let end = offsets[e.min(n_lines)];
        part.kql = q.kql[offsets[s]..end].to_string();
        part.kql_at = (q.kql_at.0 + s, q.kql_at.1);
        if n > 1 {
            part.id = format!("{}-{}", q.id, i + 1);
            part.name = format!("{} ({}/{n})", q.name, i + 1);
        }
        if let Some(&first) = seg.extra_statements.iter().find(|&&l| l >= s && l < e) {
            flag(&mut part, first, warnings);
            flagged = true;
        }
        out.push(part);
    }
    if n > 1 {
        let starts: Vec<String> =
            seg.parts.iter().map(|(s, _)| (q.kql_at.0 + s).to_string()).collect();
        warnings.push(at(
            &q,
            0,
            format!(
                "holds {n} independent queries (starting at lines {}): loaded as {}-1 … {}-{n}",
                starts.join(", "),
                q.id,
                q.id
            ),
        ));
    }
    let outcome = if n > 1 {
        Outcome::Split(n)
    } else if flagged {
        Outcome::Flagged
    } else {
        Outcome::Single
    };
    (out, outcome)
}

struct Loader {
    out: Loaded,
    /// id → source of the first query with that id.
    ids: HashMap<String, PathBuf>,
    /// Canonical paths of files already loaded (or attempted).
    seen_files: HashSet<PathBuf>,
}

fn error(path: &Path, message: impl Into<String>) -> QueryFileError {
    QueryFileError { path: path.to_path_buf(), line: 1, col: 1, message: message.into() }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// Files loaded while walking a folder: `.kql`, `.csl`, `.yaml`, `.yml` (any case).
fn is_walked_query_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["kql", "csl", "yaml", "yml"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

impl Loader {
    fn file(&mut self, path: &Path) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.seen_files.insert(key) {
            return;
        }
        let mut report = FileReport {
            path: path.to_path_buf(),
            format: format_of(path),
            outcome: Outcome::Failed,
            ids: Vec::new(),
            warnings: 0,
        };
        let loaded = match load_file(path) {
            Ok(l) => l,
            Err(e) => {
                self.out.errors.push(e);
                self.out.files.push(report);
                return;
            }
        };
        report.warnings = loaded.warnings.len();
        report.outcome = loaded.outcome;
        self.out.warnings.extend(loaded.warnings);
        for q in loaded.queries {
            if let Some(first) = self.ids.get(&q.id) {
                let (line, col) = match report.format {
                    Format::Kql => std::fs::read_to_string(path)
                        .ok()
                        .and_then(|t| front_matter_key_position(&t, "id"))
                        .unwrap_or((1, 1)),
                    Format::SentinelYaml => (1, 1),
                };
                self.out.errors.push(QueryFileError {
                    path: path.to_path_buf(),
                    line,
                    col,
                    message: format!(
                        "duplicate query id {:?}: {} already uses it, so this query is skipped \
                         (give one of them another `id:`)",
                        q.id,
                        first.display()
                    ),
                });
                continue;
            }
            self.ids.insert(q.id.clone(), path.to_path_buf());
            report.ids.push(q.id.clone());
            self.out.queries.push(q);
        }
        if report.ids.is_empty() {
            report.outcome = Outcome::Failed;
        }
        self.out.files.push(report);
    }

    fn dir(&mut self, path: &Path, walking: &mut Vec<PathBuf>) {
        let canon = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if walking.contains(&canon) {
            return; // a symlink back into a folder being walked
        }
        let entries = match std::fs::read_dir(path) {
            Ok(rd) => rd.collect::<Result<Vec<_>, _>>(),
            Err(e) => Err(e),
        };
        let mut entries = match entries {
            Ok(v) => v,
            Err(e) => {
                self.out.errors.push(error(path, format!("folder cannot be read: {e}")));
                return;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        walking.push(canon);
        for entry in entries {
            let name = entry.file_name();
            if is_hidden(&name) {
                continue;
            }
            let child = entry.path();
            // Follow symlinks: metadata of the target.
            match std::fs::metadata(&child) {
                Ok(m) if m.is_dir() => self.dir(&child, walking),
                Ok(m) if m.is_file() && is_walked_query_file(&child) => self.file(&child),
                Ok(_) => {}
                Err(e) => {
                    if is_walked_query_file(&child) {
                        self.out.errors.push(error(&child, format!("cannot be read: {e}")));
                    }
                }
            }
        }
        walking.pop();
    }
}

/// Loads query files from each path (a file, or a folder walked recursively, in sorted order;
/// see the module docs for which files).
/// A path that does not exist is an error in `errors`, not a panic.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loader =
        Loader { out: Loaded::default(), ids: HashMap::new(), seen_files: HashSet::new() };
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => loader.dir(path, &mut Vec::new()),
            Ok(m) if m.is_file() => loader.file(path),
            // A FIFO or a device would block the read, or never end.
            Ok(_) => loader.out.errors.push(error(path, "is not a regular file or a folder")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                loader.out.errors.push(error(path, "does not exist"));
            }
            Err(e) => loader.out.errors.push(error(path, format!("cannot be read: {e}"))),
        }
    }
    loader.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }

    fn ids(l: &Loaded) -> Vec<&str> {
        l.queries.iter().map(|q| q.id.as_str()).collect()
    }

    #[test]
    fn walks_sorted_recursive_skipping_hidden() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(root, "b.kql", "T");
        write(root, "a.kql", "T");
        write(root, "sub/c.KQL", "T");
        write(root, "sub/deeper/d.kql", "T");
        write(root, "aa/e.kql", "T");
        write(root, "notes.txt", "not a query");
        write(root, "README.md", "# x");
        write(root, ".hidden.kql", "T");
        write(root, ".git/f.kql", "T");
        write(root, "sub/.secret/g.kql", "T");
        let l = load(&[root.to_path_buf()]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["a", "e", "b", "c", "d"]);
        // Deterministic.
        let again = load(&[root.to_path_buf()]);
        assert_eq!(ids(&again), ids(&l));
        assert_eq!(l.get("c").unwrap().source, root.join("sub/c.KQL"));
    }

    #[test]
    fn explicit_files_load_whatever_the_extension() {
        let d = tempfile::tempdir().unwrap();
        let txt = write(d.path(), "hunt.txt", "T | take 1");
        let csl = write(d.path(), "other.csl", "T | take 1");
        let hidden = write(d.path(), ".dot.kql", "T");
        let l = load(&[txt, csl, hidden]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["hunt", "other", "dot"]);
    }

    #[test]
    fn explicit_hidden_folder_is_walked() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), ".q/x.kql", "T");
        let l = load(&[d.path().join(".q")]);
        assert_eq!(ids(&l), ["x"]);
    }

    #[test]
    fn missing_path_is_an_error_not_a_panic() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "ok.kql", "T");
        let missing = d.path().join("nope");
        let l = load(&[missing.clone(), d.path().to_path_buf()]);
        assert_eq!(ids(&l), ["ok"]);
        assert_eq!(l.errors.len(), 1);
        let e = &l.errors[0];
        assert_eq!((e.path.as_path(), e.line, e.col), (missing.as_path(), 1, 1));
        assert!(e.message.contains("does not exist"));
        assert!(!l.is_clean());
    }

    #[test]
    fn broken_files_do_not_hide_others() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "1.kql", "// ---\n// lookback: banana\n// ---\nT");
        write(d.path(), "2.kql", "// ---\n// id: fine\n// ---\nT");
        write(d.path(), "3.kql", "// only comments");
        fs::write(d.path().join("4.kql"), b"T | where x == \"\xff\"").unwrap();
        let l = load(&[d.path().to_path_buf()]);
        assert_eq!(ids(&l), ["fine"]);
        let places: Vec<_> = l
            .errors
            .iter()
            .map(|e| (e.path.file_name().unwrap().to_str().unwrap(), e.line, e.col))
            .collect();
        assert_eq!(places, [("1.kql", 2, 14), ("3.kql", 1, 1), ("4.kql", 1, 17)]);
    }

    #[test]
    fn duplicate_ids_keep_the_first() {
        let d = tempfile::tempdir().unwrap();
        let a = write(d.path(), "a/q.kql", "// ---\n// name: first\n// ---\nT");
        let b =
            write(d.path(), "b/x.kql", "// licence\n// ---\n// name: second\n// id: q\n// ---\nT");
        let l = load(&[d.path().to_path_buf()]);
        assert_eq!(ids(&l), ["q"]);
        assert_eq!(l.queries[0].name, "first");
        assert_eq!(l.errors.len(), 1);
        let e = &l.errors[0];
        assert_eq!(e.path, b);
        assert_eq!((e.line, e.col), (4, 8));
        assert!(e.message.contains("duplicate query id \"q\""), "{e}");
        assert!(e.message.contains(&a.display().to_string()), "{e}");
        // Without an id key the error is at 1:1.
        let c = write(d.path(), "c/q.kql", "T");
        let l = load(&[d.path().to_path_buf()]);
        assert_eq!(l.errors.len(), 2);
        assert_eq!((l.errors[1].path.clone(), l.errors[1].line), (c, 1));
    }

    #[test]
    fn same_file_twice_loads_once() {
        let d = tempfile::tempdir().unwrap();
        let f = write(d.path(), "x.kql", "T");
        let l = load(&[d.path().to_path_buf(), f.clone(), f]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["x"]);
    }

    #[test]
    fn disabled_queries_are_returned() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "off.kql", "// ---\n// enabled: false\n// ---\nT");
        let l = load(&[d.path().to_path_buf()]);
        assert_eq!(ids(&l), ["off"]);
        assert!(!l.queries[0].enabled);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_terminate() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "sub/a.kql", "T");
        std::os::unix::fs::symlink(d.path(), d.path().join("sub/loop")).unwrap();
        let l = load(&[d.path().to_path_buf()]);
        assert_eq!(ids(&l), ["a"]);
        assert!(l.is_clean(), "{:?}", l.errors);
    }

    #[test]
    fn empty_input_and_empty_folder() {
        assert!(load(&[]).queries.is_empty());
        let d = tempfile::tempdir().unwrap();
        let l = load(&[d.path().to_path_buf()]);
        assert!(l.is_clean() && l.queries.is_empty());
    }

    #[test]
    fn walks_yaml_and_csl_but_not_txt() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.csl", "T");
        write(d.path(), "b.YML", "name: B rule\nquery: |\n  T\n");
        write(d.path(), "c.yaml", "id: 00000000-0000-0000-0000-000000000000\nquery: T\n");
        write(d.path(), "notes.txt", "T");
        let l = load(&[d.path().to_path_buf()]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["a", "b-rule", "c"]);
        let formats: Vec<Format> = l.files.iter().map(|f| f.format).collect();
        assert_eq!(formats, [Format::Kql, Format::SentinelYaml, Format::SentinelYaml]);
        // A YAML file without a query is an error, not skipped silently.
        write(d.path(), "d.yaml", "name: not a query\n");
        let l = load(&[d.path().to_path_buf()]);
        assert_eq!(l.errors.len(), 1);
        assert_eq!(l.files.last().unwrap().outcome, Outcome::Failed);
    }

    #[test]
    fn yaml_query_holding_two_queries_is_split() {
        let d = tempfile::tempdir().unwrap();
        let text = "name: Two\ntactics: [Execution]\nquery: |\n  DeviceEvents\n  | take 1\n\n  \
                    DeviceProcessEvents\n  | take 2\nversion: 1.0.0\n";
        let f = write(d.path(), "two.yaml", text);
        let l = load(std::slice::from_ref(&f));
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["two-1", "two-2"]);
        let (a, b) = (&l.queries[0], &l.queries[1]);
        assert_eq!((a.kql.as_str(), a.kql_at), ("DeviceEvents\n| take 1\n", (4, 2)));
        assert_eq!((b.kql.as_str(), b.kql_at), ("DeviceProcessEvents\n| take 2\n", (7, 2)));
        assert_eq!((a.name.as_str(), b.name.as_str()), ("Two (1/2)", "Two (2/2)"));
        assert_eq!(b.tags, ["Execution"]);
        assert_eq!(l.files[0].outcome, Outcome::Split(2));
        assert_eq!(l.warnings.len(), 1);
        assert_eq!((l.warnings[0].line, l.warnings[0].col), (4, 3));
        assert!(l.warnings[0].message.contains("lines 4, 7"), "{}", l.warnings[0]);
    }

    #[test]
    fn kql_notebook_split_keeps_front_matter_settings() {
        let d = tempfile::tempdir().unwrap();
        let text = "// ---\n// id: nb\n// lookback: 2h\n// ---\nT\n| take 1\n\n// second\nU\n\n\
                    ----\n\nV\n";
        write(d.path(), "nb.kql", text);
        let l = load(&[d.path().to_path_buf()]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["nb-1", "nb-2", "nb-3"]);
        assert!(l.queries.iter().all(|q| q.lookback == Some(chrono::Duration::hours(2))));
        assert_eq!(l.queries[0].kql, "// ---\n// id: nb\n// lookback: 2h\n// ---\nT\n| take 1\n");
        assert_eq!((l.queries[1].kql.as_str(), l.queries[1].kql_at), ("// second\nU\n", (8, 0)));
        assert_eq!((l.queries[2].kql.as_str(), l.queries[2].kql_at), ("V\n", (13, 0)));
        assert_eq!(l.warnings.len(), 2);
        assert!(
            l.warnings[0].message.contains("line 11: text that is not KQL"),
            "{:?}",
            l.warnings
        );
        assert_eq!(l.warnings[0].line, 11);
    }

    #[test]
    fn semicolon_separated_statements_are_flagged() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "semi.kql", "// c\nlet a = 1;\nT | take a;\nU | take 1\n");
        let l = load(&[d.path().to_path_buf()]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert_eq!(ids(&l), ["semi"]);
        assert!(!l.queries[0].enabled);
        assert_eq!(l.files[0].outcome, Outcome::Flagged);
        assert_eq!((l.warnings[0].line, l.warnings[0].col), (4, 1));
        assert!(l.warnings[0].message.contains("disabled"));
    }

    /// Every file of a corpus folder, with what came of it: one line per file.
    fn report(l: &Loaded) -> String {
        let mut out = String::new();
        for f in &l.files {
            let name = f.path.file_name().unwrap().to_string_lossy();
            out.push_str(&format!(
                "{:?}\t{}\twarnings={}\t{name}\n",
                f.outcome,
                f.ids.len(),
                f.warnings
            ));
        }
        for w in &l.warnings {
            out.push_str(&format!("  warning: {w}\n"));
        }
        out
    }

    /// Checks a loaded corpus folder: nothing failed, ids come from the file names (split
    /// files: `-1` … `-N`), KQL files keep their `// source:` header in their first query.
    fn check_corpus(dir: &Path, l: &Loaded) {
        assert!(l.is_clean(), "{:#?}", l.errors);
        for f in &l.files {
            assert_ne!(f.outcome, Outcome::Failed, "{}", f.path.display());
            let stem = crate::query::slug(f.path.file_stem().unwrap().to_str().unwrap());
            let first = l.get(&f.ids[0]).unwrap();
            match (f.format, &f.outcome) {
                (Format::Kql, Outcome::Split(n)) => {
                    let want: Vec<String> = (1..=*n).map(|i| format!("{stem}-{i}")).collect();
                    assert_eq!(f.ids, want);
                }
                (Format::Kql, _) => assert_eq!(f.ids, [stem]),
                (Format::SentinelYaml, _) => {
                    assert!(first.extra.contains_key("id"), "{}", f.path.display());
                    assert_eq!(f.ids, [crate::query::slug(&first.name)]);
                }
            }
            if f.format == Format::Kql {
                assert!(first.kql.starts_with("// source: "), "{}", f.path.display());
                assert_eq!(first.kql_at, (1, 0));
            }
        }
        // Each file is listed in a manifest, and each listed file is present.
        let mut listed = Vec::new();
        for m in ["MANIFEST.tsv", "MANIFEST-yaml.tsv"] {
            if let Ok(text) = fs::read_to_string(dir.join(m)) {
                assert!(text.starts_with("file\tsource_repo\t"), "{m} header");
                listed.extend(
                    text.lines().skip(1).filter_map(|l| l.split('\t').next()).map(str::to_string),
                );
            }
        }
        let present: Vec<String> = l
            .files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_str().unwrap().to_string())
            .collect();
        let mut a = listed.clone();
        let mut b = present.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b, "manifest lines vs files");
        assert!(dir.join("LICENSES").is_dir());
        assert!(dir.join("LICENSES/Azure__Azure-Sentinel.LICENSE.txt").is_file());
    }

    /// Real public hunting queries (see tests/fixtures/corpus/MANIFEST*.tsv and LICENSES/) all
    /// load: Sentinel YAML with ids from their names, KQL with ids from their file names.
    #[test]
    fn corpus_fixtures_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
        let l = load(std::slice::from_ref(&dir));
        println!("{}", report(&l));
        check_corpus(&dir, &l);
        assert!(l.files.len() >= 16, "{}", l.files.len());
        let yaml = l.files.iter().filter(|f| f.format == Format::SentinelYaml).count();
        assert_eq!(yaml, 9);
        let q = l.get("hunt-for-email-bombing-attacks").unwrap();
        assert_eq!(q.tags, ["InitialAccess", "T1566"]);
        assert!(q.kql.starts_with("EmailEvents\n| where EmailDirection"));
        assert_eq!(q.kql_at, (17, 2));
        assert_eq!(q.extra["id"].as_str(), Some("dd4a480b-aa24-4b62-b1f3-f538d8abbdfb"));
        let q = l.get("automated-email-notifications-and-suspicious-sign-in-activity").unwrap();
        assert_eq!(q.kql_at.1, 1, "block indented by one space");
        assert!(q.kql.starts_with("let usersWithSuspiciousEmails = EmailEvents\n| where"));
    }

    /// The whole real corpus (40 files, beside the repository at `../shared/corpus`) loads with
    /// zero errors; the files holding several queries are split or flagged, never half-run.
    #[test]
    fn real_corpus_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        if !dir.is_dir() {
            println!("note: {} is absent: real corpus test skipped", dir.display());
            return;
        }
        let l = load(std::slice::from_ref(&dir));
        println!("{}", report(&l));
        check_corpus(&dir, &l);
        assert_eq!(l.files.len(), 40);
        let outcome = |name: &str| {
            l.files.iter().find(|f| f.path.file_name().unwrap() == name).unwrap().outcome.clone()
        };
        assert_eq!(
            outcome("alexverboon__AdvancedHunting_Exchange_exchange_server_version.kql"),
            Outcome::Split(3)
        );
        assert_eq!(
            outcome("reprise99__Defender_for_Cloud_Apps_DCA-SuspiciousMailboxRuleCreated.kql"),
            Outcome::Split(2)
        );
        assert!(matches!(
            outcome("m365dhq__General_queries_insider-threat-detection-queries__b0.kql"),
            Outcome::Split(n) if n > 5
        ));
        assert!(matches!(
            outcome("m365dhq__Webcasts_TrackingTheAdversary_Episode_3_-_Summarizing_Pivoting_and_Joining.kql"),
            Outcome::Split(n) if n > 10
        ));
        let split = l.files.iter().filter(|f| matches!(f.outcome, Outcome::Split(_))).count();
        assert_eq!(split, 4, "only the 4 files flagged in MANIFEST.tsv hold several queries");
    }

    /// The example library shipped in `queries/` loads cleanly, and every query is scheduled.
    #[test]
    fn shipped_queries_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let l = load(&[dir]);
        assert!(l.is_clean(), "{:#?}", l.errors);
        assert!(l.queries.len() >= 4);
        for q in &l.queries {
            assert!(q.schedule.is_some(), "{}", q.id);
            assert!(q.lookback.is_some(), "{}", q.id);
            assert!(q.description.is_some(), "{}", q.id);
            assert!(!q.tags.is_empty(), "{}", q.id);
            assert_ne!(q.name, q.id);
        }
    }
}
