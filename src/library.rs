//! The query library on disk: walks files and folders, loads every query file it finds, and
//! reports what it could not load (with the place) and duplicate ids, so that one broken file
//! never hides the others.
//!
//! Rules: a folder is walked recursively in sorted (byte-wise file name) order, depth first, so
//! results are deterministic; names starting with `.` are skipped while walking; only `*.kql`
//! files (any case) are loaded from folders, but a path given explicitly as a file is loaded
//! whatever its extension (`.txt`, `.csl`, …). The same file reached twice is loaded once.
//! Symbolic links are followed, but a folder already being walked is not entered again.

use crate::query::{Query, QueryFileError, front_matter_key_position, read_query_file};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Queries that loaded, in path order; for a duplicated id only the first.
    pub queries: Vec<Query>,
    /// Files that did not load, and duplicate ids (as errors on the later file).
    pub errors: Vec<QueryFileError>,
}

impl Loaded {
    /// True when every file loaded and no id was duplicated.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// The query with this id, if loaded.
    pub fn get(&self, id: &str) -> Option<&Query> {
        self.queries.iter().find(|q| q.id == id)
    }
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

fn has_kql_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("kql"))
}

impl Loader {
    fn file(&mut self, path: &Path) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.seen_files.insert(key) {
            return;
        }
        let q = match read_query_file(path) {
            Ok(q) => q,
            Err(e) => {
                self.out.errors.push(e);
                return;
            }
        };
        if let Some(first) = self.ids.get(&q.id) {
            let (line, col) = front_matter_key_position(&q.kql, "id").unwrap_or((1, 1));
            self.out.errors.push(QueryFileError {
                path: path.to_path_buf(),
                line,
                col,
                message: format!(
                    "duplicate query id {:?}: {} already uses it, so this file is skipped \
                     (give one of them another `id:`)",
                    q.id,
                    first.display()
                ),
            });
            return;
        }
        self.ids.insert(q.id.clone(), path.to_path_buf());
        self.out.queries.push(q);
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
                Ok(m) if m.is_file() && has_kql_extension(&child) => self.file(&child),
                Ok(_) => {}
                Err(e) => {
                    if has_kql_extension(&child) {
                        self.out.errors.push(error(&child, format!("cannot be read: {e}")));
                    }
                }
            }
        }
        walking.pop();
    }
}

/// Loads `.kql` files from each path (a file, or a folder walked recursively, in sorted order).
/// A path that does not exist is an error in `errors`, not a panic.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loader =
        Loader { out: Loaded::default(), ids: HashMap::new(), seen_files: HashSet::new() };
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => loader.dir(path, &mut Vec::new()),
            Ok(_) => loader.file(path),
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

    /// Real public hunting queries (see tests/fixtures/corpus/MANIFEST.tsv and LICENSES/) all
    /// load, with ids from their file names.
    #[test]
    fn corpus_fixtures_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
        let l = load(std::slice::from_ref(&dir));
        assert!(l.is_clean(), "{:#?}", l.errors);
        assert!(l.queries.len() >= 6, "{}", l.queries.len());
        for q in &l.queries {
            assert!(q.kql.starts_with("// source: "), "{}", q.source.display());
            assert_eq!(q.id, crate::query::slug(q.source.file_stem().unwrap().to_str().unwrap()));
            assert!(q.enabled && q.schedule.is_none());
        }
        // Each fixture is listed in the manifest, and each listed file is present.
        let manifest = fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        let listed: Vec<&str> =
            manifest.lines().skip(1).filter_map(|l| l.split('\t').next()).collect();
        assert_eq!(listed.len(), l.queries.len());
        for q in &l.queries {
            let name = q.source.file_name().unwrap().to_str().unwrap();
            assert!(listed.contains(&name), "{name} not in MANIFEST.tsv");
        }
        assert!(dir.join("LICENSES").is_dir());
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
