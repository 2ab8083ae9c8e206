//! Saving Defender Experts Notification (DEN) hunting queries as `.kql` files: pure file logic,
//! used by `hunt den sync` (which fetches the incidents).
//!
//! Each distinct query (by [`normalised_hash`]: whitespace variants of the same KQL are one
//! query) is one file `den-<incident id>-<hash8>.kql` whose front matter records the incident:
//!
//! ```text
//! // ---
//! // id: den-2972395-1a2b3c4d
//! // name: "Defender Experts: Raspberry Robin worm activity"
//! // description: "Recommended hunting query from Defender Experts Notification 2972395"
//! // lookback: 1d
//! // tags: [defender-experts]
//! // den:
//! //   incident_id: "2972395"
//! //   title: "Defender Experts: Raspberry Robin worm activity"
//! //   url: "https://security.microsoft.com/incidents/2972395?tid=…"
//! //   severity: "high"
//! //   status: "active"
//! //   created: "2022-10-20T07:00:00.123Z"
//! //   kql_sha256: "…"
//! // ---
//! AlertInfo | where …
//! ```
//!
//! Every text value is written as a YAML double-quoted string with escapes, so titles holding
//! `:`, `#`, quotes, newlines or any other character read back exactly. A query that is nothing
//! but `//` comments (DENs sometimes arrive with their line breaks flattened, so a leading
//! comment swallows the whole query) is saved with `enabled: false` and a comment saying why,
//! rather than as a query that would run and return nothing.

use crate::library::front_matter::body_start_line;
use crate::library::parse_kql_file;
use crate::query::slug_within;
use serde_yaml_ng::Value;
use std::collections::{HashMap, HashSet};
use std::io;
use std::path::PathBuf;

/// One recommended hunting query of one DEN incident.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DenQuery {
    /// Incident id (`"2972395"`).
    pub incident_id: String,
    /// Incident `displayName`.
    pub title: String,
    /// `incidentWebUrl`.
    pub url: Option<String>,
    /// Incident severity as sent (`high`, `Medium`, …).
    pub severity: Option<String>,
    /// Incident status as sent.
    pub status: Option<String>,
    /// `createdDateTime` as sent.
    pub created: Option<String>,
    /// `recommendedHuntingQueries[].kqlText`.
    pub kql: String,
}

impl DenQuery {
    /// The recommended query `kql` of `den`, with the incident's fields its file records.
    pub fn of(den: &super::sync::DenIncident, kql: &str) -> DenQuery {
        DenQuery {
            incident_id: den.id.clone(),
            title: den.title.clone(),
            url: den.url.clone(),
            severity: den.severity.clone(),
            status: den.status.clone(),
            created: den.created.clone(),
            kql: kql.to_owned(),
        }
    }
}

/// SHA-256 (lower-case hex) of `kql` with every run of whitespace made one space and the ends
/// trimmed, so that re-flowed copies of the same query have the same hash.
pub fn normalised_hash(kql: &str) -> String {
    let norm = kql.split_whitespace().collect::<Vec<_>>().join(" ");
    let d = ring::digest::digest(&ring::digest::SHA256, norm.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The file stem (and query id) for `q`: `den-<incident id slug>-<first 8 hex of the hash>`.
/// The incident's part is cut so that the whole stem fits a slug's 100 bytes: loading the saved
/// query (which slugs its `id`) then gives the id back unchanged, however long the incident id.
fn stem(q: &DenQuery, hash: &str) -> String {
    let room = 100 - "den--".len() - hash.len();
    format!("den-{}-{hash}", slug_within(&q.incident_id, room))
}

/// `den-<incident id slug>-<first 8 hex of hash>.kql`: one safe path component whatever the id.
pub fn file_name(q: &DenQuery) -> String {
    format!("{}.kql", stem(q, &normalised_hash(&q.kql)[..8]))
}

/// `s` as a YAML double-quoted scalar on one line.
fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}') => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "null".to_string(), yaml_str)
}

/// True when `kql` holds nothing but `//` comments and whitespace: it parses, to no statement.
fn is_dead(kql: &str) -> bool {
    crate::kql::syntax::parse(kql).script.is_some_and(|s| s.statements.is_empty())
}

/// The `.kql` file for `q`: front matter, then the KQL as received.
pub fn render(q: &DenQuery, schedule: Option<&str>) -> String {
    let hash = normalised_hash(&q.kql);
    let title = if q.title.trim().is_empty() {
        format!("Defender Experts Notification {}", q.incident_id)
    } else {
        q.title.clone()
    };
    let dead = is_dead(&q.kql);
    let mut fm = vec![
        "---".to_string(),
        format!("id: {}", stem(q, &hash[..8])),
        format!("name: {}", yaml_str(&title)),
        format!(
            "description: {}",
            yaml_str(&format!(
                "Recommended hunting query from Defender Experts Notification {}",
                q.incident_id
            ))
        ),
        "lookback: 1d".to_string(),
        "tags: [defender-experts]".to_string(),
    ];
    if let Some(s) = schedule {
        fm.push(format!("schedule: {}", yaml_str(s)));
    }
    if dead {
        fm.push(
            "# Disabled by hunt den sync: the query is nothing but a // comment (its line breaks \
             were probably lost),"
                .to_string(),
        );
        fm.push(
            "# so it would run and return nothing. Restore the line breaks, then remove \
             `enabled: false`."
                .to_string(),
        );
        fm.push("enabled: false".to_string());
    }
    fm.extend([
        "den:".to_string(),
        format!("  incident_id: {}", yaml_str(&q.incident_id)),
        format!("  title: {}", yaml_str(&q.title)),
        format!("  url: {}", opt(&q.url)),
        format!("  severity: {}", opt(&q.severity)),
        format!("  status: {}", opt(&q.status)),
        format!("  created: {}", opt(&q.created)),
        format!("  kql_sha256: {}", yaml_str(&hash)),
        "---".to_string(),
    ]);
    let mut out = String::new();
    for l in fm {
        out.push_str("// ");
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&q.kql);
    if !q.kql.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// What [`DenStore::save`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// A new file was written.
    New(PathBuf),
    /// A file with the same query (by normalised hash) was already there: nothing written.
    AlreadyPresent(PathBuf),
}

/// The folder DEN queries are saved in (`queries/den/` by default).
#[derive(Debug, Clone)]
pub struct DenStore {
    /// The folder.
    pub dir: PathBuf,
}

impl DenStore {
    /// A store saving into `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DenStore { dir: dir.into() }
    }

    /// hash → file, for every `.kql` file directly in `dir`: `den.kql_sha256` from its front
    /// matter, or when absent (or unreadable front matter) the hash of the text after it.
    fn index(&self) -> HashMap<String, PathBuf> {
        let mut out = HashMap::new();
        let Ok(rd) = std::fs::read_dir(&self.dir) else { return out };
        let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let is_kql = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("kql"));
            let hidden = p.file_name().is_some_and(|n| n.as_encoded_bytes().starts_with(b"."));
            if !is_kql || hidden || !p.is_file() {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else { continue };
            let recorded = parse_kql_file(&text, &p).ok().and_then(|q| {
                let den = q.extra.get("den")?.as_mapping()?.clone();
                let v = den.get(Value::String("kql_sha256".into()))?;
                v.as_str().map(|s| s.trim().to_ascii_lowercase())
            });
            let hash = recorded.unwrap_or_else(|| {
                let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                let body: Vec<&str> = text.split('\n').skip(body_start_line(text)).collect();
                normalised_hash(&body.join("\n"))
            });
            out.entry(hash).or_insert(p);
        }
        out
    }

    /// The normalised hashes of the queries already saved in `dir`.
    pub fn existing_hashes(&self) -> HashSet<String> {
        self.index().into_keys().collect()
    }

    /// Saves `q` unless the same query (by normalised hash) is already in `dir`. Written
    /// atomically ([`crate::fsutil::write_atomic`]).
    pub fn save(&self, q: &DenQuery, schedule: Option<&str>) -> io::Result<Saved> {
        let hash = normalised_hash(&q.kql);
        if let Some(p) = self.index().remove(&hash) {
            return Ok(Saved::AlreadyPresent(p));
        }
        std::fs::create_dir_all(&self.dir)?;
        let mut path = self.dir.join(file_name(q));
        if path.exists() {
            // Another query with the same 8 hex digits: use the whole hash.
            path = self.dir.join(format!("{}.kql", stem(q, &hash)));
        }
        let text = render(q, schedule);
        crate::fsutil::write_atomic(&path, text.as_bytes())?;
        Ok(Saved::New(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;
    use std::path::Path;

    fn den(id: &str, title: &str, kql: &str) -> DenQuery {
        DenQuery {
            incident_id: id.into(),
            title: title.into(),
            url: Some(format!("https://security.microsoft.com/incidents/{id}?tid=x")),
            severity: Some("high".into()),
            status: Some("active".into()),
            created: Some("2022-10-20T07:00:00.123Z".into()),
            kql: kql.into(),
        }
    }

    fn reparse(q: &DenQuery) -> Query {
        let text = render(q, Some("@hourly"));
        parse_kql_file(&text, Path::new("queries/den/x.kql"))
            .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    fn den_field(q: &Query, key: &str) -> Option<String> {
        let den = q.extra["den"].as_mapping().unwrap();
        den.get(Value::String(key.into())).and_then(|v| v.as_str().map(str::to_string))
    }

    #[test]
    fn hash_ignores_whitespace_variants() {
        let a = normalised_hash("AlertInfo | where X == 1\n| take 1");
        assert_eq!(a, normalised_hash("  AlertInfo   |  where X == 1 | take 1\r\n\n"));
        assert_eq!(a, normalised_hash("AlertInfo\t| where X == 1\n\n| take 1"));
        assert_ne!(a, normalised_hash("AlertInfo | where X == 2 | take 1"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn render_round_trips() {
        let d = den("2972395", "Defender Experts: Raspberry Robin", "AlertInfo\n| take 1");
        let q = reparse(&d);
        let hash = normalised_hash(&d.kql);
        assert_eq!(q.id, format!("den-2972395-{}", &hash[..8]));
        assert_eq!(q.name, d.title);
        assert_eq!(q.lookback, Some(chrono::Duration::days(1)));
        assert_eq!(q.tags, ["defender-experts"]);
        assert_eq!(q.schedule.as_deref(), Some("@hourly"));
        assert!(q.enabled);
        assert!(q.description.as_deref().unwrap().contains("2972395"));
        assert_eq!(den_field(&q, "incident_id").as_deref(), Some("2972395"));
        assert_eq!(den_field(&q, "url"), d.url);
        assert_eq!(den_field(&q, "severity"), d.severity);
        assert_eq!(den_field(&q, "status"), d.status);
        assert_eq!(den_field(&q, "created"), d.created);
        assert_eq!(den_field(&q, "kql_sha256"), Some(hash));
        assert!(q.kql.ends_with("AlertInfo\n| take 1\n"));
        // No schedule, missing optional fields.
        let d = DenQuery { incident_id: "1".into(), kql: "T".into(), ..Default::default() };
        let text = render(&d, None);
        let q = parse_kql_file(&text, Path::new("x.kql")).unwrap();
        assert!(q.schedule.is_none());
        assert_eq!(q.name, "Defender Experts Notification 1");
        assert_eq!(den_field(&q, "url"), None);
    }

    #[test]
    fn a_long_incident_id_keeps_its_query_id_when_loaded_again() {
        let d = den(&"Incident-".repeat(20), "Defender Experts: long", "AlertInfo | take 1");
        let q = reparse(&d);
        let name = file_name(&d);
        assert_eq!(format!("{}.kql", q.id), name, "the id is re-slugged on load");
        assert!(q.id.len() <= 100, "{}", q.id);
        assert_eq!(q.id, crate::query::slug(&q.id));
    }

    #[test]
    fn yaml_hostile_titles_survive() {
        for title in [
            "Defender Experts: a: b # not a comment",
            "quotes \" and ' and \\ backslash",
            "new\nline and\r\ncrlf and\ttab",
            "- looks like a list",
            "[not, a, list]",
            "{not: a map}",
            "*alias &anchor !tag %directive @at `tick`",
            "null",
            "true",
            "123",
            "",
            "   padded   ",
            "unicode ☃ 日本語 \u{2028} line sep \u{85} nel \u{feff} bom \u{0} nul \u{7f}",
            "// ---",
            "---",
        ] {
            let d = den("42", title, "T | take 1");
            let q = reparse(&d);
            assert_eq!(den_field(&q, "title").as_deref(), Some(title), "{title:?}");
            if !title.trim().is_empty() {
                assert_eq!(q.name, title.trim(), "{title:?}");
            }
            // One front-matter line per field: nothing leaks into the KQL.
            assert!(q.kql.ends_with("// ---\nT | take 1\n"), "{title:?}");
        }
    }

    #[test]
    fn file_names_are_safe() {
        let kql = "T";
        let h8 = &normalised_hash(kql)[..8];
        for (id, want) in [
            ("2972395", "den-2972395".to_string()),
            ("../../etc/passwd", "den-etc-passwd".to_string()),
            ("a/b\\c\0d", "den-a-b-c-d".to_string()),
            ("", "den-query".to_string()),
        ] {
            let name = file_name(&den(id, "t", kql));
            assert_eq!(name, format!("{want}-{h8}.kql"));
        }
        for id in ["日本語", "..", ".", &"x".repeat(5000), &"é".repeat(300)] {
            let name = file_name(&den(id, "t", kql));
            assert!(name.starts_with("den-") && name.ends_with(&format!("-{h8}.kql")), "{name}");
            assert!(name.len() <= 120, "{name}");
            assert!(!name.contains('/') && !name.contains('\\') && !name.contains('\0'));
            assert!(!name.contains(".."), "{name}");
            assert_eq!(Path::new(&name).components().count(), 1);
        }
        assert_ne!(file_name(&den("日本語", "t", kql)), file_name(&den("中文", "t", kql)));
    }

    #[test]
    fn hostile_incident_ids_and_titles_never_write_outside_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let store = DenStore::new(root.path().join("queries").join("den"));
        let long = "9".repeat(1000);
        let ids = [
            "../../x",
            "/abs",
            "a\\b",
            "a\0b",
            "..",
            ".",
            "",
            "C:\\x",
            "CON",
            "日本語",
            &long,
            "x/../../../y",
            "\u{202e}lnk.kql",
        ];
        for (i, id) in ids.iter().enumerate() {
            let title = format!("../../{id}\n// ---\n// id: ../../evil\0");
            let d = den(id, &title, &format!("AlertInfo | take {i}"));
            let Saved::New(p) = store.save(&d, Some("@hourly")).unwrap() else { panic!("{id}") };
            let q = crate::library::read_query_file(&p).unwrap();
            assert!(q.id.starts_with("den-"), "{id}: {}", q.id);
            assert_eq!(Path::new(&q.id).components().count(), 1, "{id}");
        }
        let folder = store.dir.canonicalize().unwrap();
        let mut seen = 0;
        let mut stack = vec![root.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let real = p.canonicalize().unwrap();
                if p.is_dir() {
                    assert!(folder.starts_with(&real), "unexpected folder {}", p.display());
                    stack.push(p);
                } else {
                    assert_eq!(real.parent(), Some(folder.as_path()), "{}", real.display());
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, ids.len(), "one file per query, no temporary files left");
    }

    #[test]
    fn flattened_one_liner_is_saved_disabled() {
        let kql =
            "//Run this query to identify the devices  AlertInfo   | where Timestamp >= ago(1d)";
        let d = den("2972395", "t", kql);
        let text = render(&d, None);
        assert!(text.contains("enabled: false"));
        assert!(text.contains("line breaks"), "{text}");
        let q = parse_kql_file(&text, Path::new("x.kql")).unwrap();
        assert!(!q.enabled);
        // The library loads it (disabled, with a warning), so the linter can report it.
        let dir = tempfile::tempdir().unwrap();
        let store = DenStore::new(dir.path());
        let Saved::New(p) = store.save(&d, None).unwrap() else { panic!() };
        let l = crate::library::load(&[p]);
        assert!(l.is_clean(), "{:?}", l.errors);
        assert!(!l.queries[0].enabled);
        assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
        // A normal query is enabled.
        assert!(!render(&den("1", "t", "T // comment"), None).contains("enabled: false"));
    }

    #[test]
    fn save_is_idempotent_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = DenStore::new(dir.path().join("den"));
        assert!(store.existing_hashes().is_empty(), "missing folder: nothing saved yet");
        let d = den("7", "t", "AlertInfo\n| where A == 1\n| take 1");
        let Saved::New(p) = store.save(&d, None).unwrap() else { panic!() };
        assert_eq!(p, dir.path().join("den").join(file_name(&d)));
        let first = std::fs::read(&p).unwrap();
        // Same KQL, re-flowed, even from another incident: nothing written.
        let again = den("8", "other", "  AlertInfo | where A == 1   | take 1 ");
        assert_eq!(store.save(&again, None).unwrap(), Saved::AlreadyPresent(p.clone()));
        assert_eq!(store.save(&d, Some("@daily")).unwrap(), Saved::AlreadyPresent(p.clone()));
        assert_eq!(std::fs::read(&p).unwrap(), first);
        let names: Vec<_> = std::fs::read_dir(dir.path().join("den"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [file_name(&d)], "no temporary files left");
        assert_eq!(store.existing_hashes(), HashSet::from([normalised_hash(&d.kql)]));
        // Another query: a second file.
        let other = den("7", "t", "AlertInfo | take 2");
        assert!(matches!(store.save(&other, None).unwrap(), Saved::New(_)));
        assert_eq!(store.existing_hashes().len(), 2);
    }

    #[test]
    fn existing_hashes_without_den_front_matter() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hand.kql"), "// ---\n// id: hand\n// ---\nT\n| take 1\n")
            .unwrap();
        std::fs::write(dir.path().join("plain.kql"), "U | take 1").unwrap();
        std::fs::write(dir.path().join("broken.kql"), "// ---\n// id: [\n// ---\nV\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "W").unwrap();
        let store = DenStore::new(dir.path());
        let h = store.existing_hashes();
        assert_eq!(
            h,
            HashSet::from([
                normalised_hash("T | take 1"),
                normalised_hash("U | take 1"),
                normalised_hash("V"),
            ])
        );
        let d = den("1", "t", "T\n  | take 1");
        assert_eq!(
            store.save(&d, None).unwrap(),
            Saved::AlreadyPresent(dir.path().join("hand.kql"))
        );
        // A user edit of a saved query's KQL does not bring the original back.
        let d = den("2", "t", "X | take 3");
        let Saved::New(p) = store.save(&d, None).unwrap() else { panic!() };
        let edited = std::fs::read_to_string(&p).unwrap().replace("take 3", "take 30");
        std::fs::write(&p, edited).unwrap();
        assert!(matches!(store.save(&d, None).unwrap(), Saved::AlreadyPresent(_)));
    }

    /// The documented beta `Get incident` example: its one recommended query saves, loads and
    /// dedupes.
    #[test]
    fn graph_docs_fixture() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph");
        for (file, dead) in [
            ("incident.get.beta.recommendedHuntingQueries.json", false),
            ("incident.update.beta.response.recommendedHuntingQueries-leading-comment.json", true),
        ] {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
            let s = |k: &str| v[k].as_str().map(str::to_string);
            let out = tempfile::tempdir().unwrap();
            let store = DenStore::new(out.path());
            let queries = v["recommendedHuntingQueries"].as_array().unwrap();
            assert_eq!(queries.len(), 1);
            for rq in queries {
                let d = DenQuery {
                    incident_id: s("id").unwrap(),
                    title: s("displayName").unwrap(),
                    url: s("incidentWebUrl"),
                    severity: s("severity"),
                    status: s("status"),
                    created: s("createdDateTime"),
                    kql: rq["kqlText"].as_str().unwrap().to_string(),
                };
                let Saved::New(p) = store.save(&d, None).unwrap() else { panic!() };
                assert!(p.file_name().unwrap().to_str().unwrap().starts_with("den-2972395-"));
                let l = crate::library::load(&[out.path().to_path_buf()]);
                assert!(l.is_clean(), "{:?}", l.errors);
                assert_eq!(l.queries.len(), 1);
                let q = &l.queries[0];
                assert_eq!(q.enabled, !dead, "{file}");
                assert!(q.name.contains("Initial access & Command and control"));
                assert_eq!(den_field(q, "url"), d.url);
                assert_eq!(den_field(q, "severity").as_deref(), Some("Medium"));
                assert_eq!(store.save(&d, None).unwrap(), Saved::AlreadyPresent(p));
            }
        }
    }
}
