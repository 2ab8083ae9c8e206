//! `hunt validate`: checks a query library without calling any API.
//!
//! Each finding points into the file, `path:line:col: error|warning|info: message`. Errors are
//! what would make the service refuse the query (or hunt refuse the file); warnings are what
//! would run but probably not as meant; infos are worth knowing.

use crate::cron::Cron;
use crate::kql::{self, LexErrorKind};
use crate::library;
use crate::library::front_matter::front_matter_key_position;
use crate::query::{Query, SplitPolicy};
use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;
use std::path::{Path, PathBuf};

mod query;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// The query cannot run (or the file cannot be loaded).
    Error,
    /// It runs, but probably not as meant.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file.
    pub path: PathBuf,
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column in the file, in characters.
    pub col: usize,
    /// How bad.
    pub severity: Severity,
    /// A stable short name of the check (`unterminated-string`, `stale-datetime`, …).
    pub code: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.severity,
            self.message
        )
    }
}

/// How long the service keeps advanced-hunting data.
pub const RETENTION_DAYS: i64 = 30;

/// Front-matter keys hunt does not model but that are expected (DEN records, Sentinel keys; a
/// Sentinel YAML's GUID `id` is kept as `id`).
pub const KNOWN_EXTRA_KEYS: [&str; 17] = [
    "den",
    "id",
    "description",
    "description-detailed",
    "severity",
    "tactics",
    "relevantTechniques",
    "version",
    "requiredDataConnectors",
    "entityMappings",
    "metadata",
    "kind",
    "status",
    "queryFrequency",
    "queryPeriod",
    "triggerOperator",
    "triggerThreshold",
];

/// Where `window` reaches back past what the service keeps ([`RETENTION_DAYS`] before `now`):
/// the first instant that has data, for a warning that only that much exists.
pub fn beyond_retention(
    window: &crate::timespan::Window,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let oldest = now - chrono::Duration::days(RETENTION_DAYS);
    (window.start < oldest).then_some(oldest)
}

/// Maps a (line, col) in the KQL text to the file: `kql_at` is (file line where the KQL starts,
/// indent added to each line), `(1, 0)` for a `.kql` file whose text is the whole file.
fn to_file_pos(kql_at: (usize, usize), line: usize, col: usize) -> (usize, usize) {
    (kql_at.0 + line - 1, kql_at.1 + col)
}

/// Where the KQL of `query` starts in its file. `(1, 0)` for `.kql` files.
fn kql_at(query: Option<&Query>) -> (usize, usize) {
    query.map_or((1, 0), |q| q.kql_at)
}

/// Where front-matter `key` is written: the key itself (line, col), if found.
fn key_position(text: &str, key: &str) -> Option<(usize, usize)> {
    let Some((line, col)) = front_matter_key_position(text, key) else {
        // A YAML query file: the key at the start of a line.
        let line = text.lines().position(|l| {
            l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':'))
        })?;
        return Some((line + 1, 1));
    };
    let col = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find(key).map(|b| l[..b].chars().count() + 1))
        .unwrap_or(col);
    Some((line, col))
}

/// Reads the literal of `datetime(…)`: `2022-10-20 06:00:52.9644915`, `2026-11-01`, `"…"`.
fn datetime_literal(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    let s = s.strip_prefix('@').unwrap_or(s).trim_matches(|c| c == '"' || c == '\'').trim();
    if let Ok(t) = crate::timespan::parse_datetime(s) {
        return Some(t);
    }
    // Anything else that starts with a date (more than 9 fractional digits, odd zones):
    // the day is enough to judge staleness.
    let day = s.get(..10)?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(Default::default()).and_utc())
}

/// Lints one KQL text. Positions are mapped into the file (see `Query.kql_at`); `query`, when
/// given, adds the front-matter checks (schedule, unknown keys) with positions from its text.
pub fn lint_text(
    path: &Path,
    text: &str,
    query: Option<&Query>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let at = kql_at(query);
    let mut out = Vec::new();
    let mut push = |line: usize, col: usize, severity, code, message: String| {
        let (line, col) = to_file_pos(at, line, col);
        out.push(Finding { path: path.to_path_buf(), line, col, severity, code, message });
    };

    let lexed = kql::lex(text);
    for e in &lexed.errors {
        let code = match e.kind {
            LexErrorKind::UnterminatedString => "unterminated-string",
            LexErrorKind::UnbalancedBracket => "unbalanced-bracket",
            LexErrorKind::SmartQuote => "smart-quote",
        };
        push(e.pos.line, e.pos.col, Severity::Error, code, e.message.clone());
    }

    let code: Vec<_> = lexed.code().collect();
    // The grammar, once the tokens are sound (a broken string or bracket would only cascade).
    let parsed = (lexed.errors.is_empty() && !code.is_empty()).then(|| kql::syntax::parse(text));
    for e in parsed.iter().flat_map(|p| &p.errors) {
        push(e.line, e.col, Severity::Error, "syntax", e.message.clone());
    }
    if code.is_empty() {
        let trimmed = text.trim();
        let mut message = "query is empty once comments are removed".to_string();
        if !trimmed.is_empty() && !trimmed.contains('\n') && trimmed.starts_with("//") {
            message.push_str(
                ": the whole text is one `//` line; a Defender Experts notification query \
                 flattened onto one line is all comment. Break the line after the comment so \
                 the KQL starts on a line of its own",
            );
        } else {
            message.push_str(": add the KQL after the comments");
        }
        push(1, 1, Severity::Error, "empty-query", message);
    } else if let Some(script) = parsed.and_then(|p| p.script) {
        // The rest reads the tree: a query that does not parse has its syntax error above.
        let split_auto = query.is_none_or(|q| q.split == SplitPolicy::Auto);
        for hit in query::check(text, &script, now, split_auto) {
            let (line, col) = kql::syntax::line_col(text, hit.offset);
            push(line, col, hit.severity, hit.code, hit.message);
        }
    }

    if let Some(q) = query {
        // Front-matter keys live in the file, which is the KQL itself only for a whole .kql file.
        let whole_file = q.kql_at == (1, 0);
        let read =
            if whole_file { None } else { crate::library::kql_file::read_text(&q.source).ok() };
        let file_text = read.as_deref().unwrap_or(q.kql.as_str());
        if let Some(schedule) = &q.schedule
            && let Err(e) = Cron::parse(schedule)
        {
            let (line, col) = key_position(file_text, "schedule").unwrap_or((1, 1));
            out.push(Finding {
                path: path.to_path_buf(),
                line,
                col,
                severity: Severity::Error,
                code: "invalid-cron",
                message: format!("`schedule`: {e}"),
            });
        }
        if let Some(lookback) = q.lookback
            && lookback > chrono::Duration::days(RETENTION_DAYS)
        {
            let (line, col) = key_position(file_text, "lookback").unwrap_or((1, 1));
            out.push(Finding {
                path: path.to_path_buf(),
                line,
                col,
                severity: Severity::Warning,
                code: "lookback-retention",
                message: format!(
                    "`lookback` of {} days reaches past the {RETENTION_DAYS} days the service \
                     keeps: only the last {RETENTION_DAYS} days have data",
                    lookback.num_days()
                ),
            });
        }
        for key in q.extra.keys() {
            if KNOWN_EXTRA_KEYS.contains(&key.as_str()) {
                continue;
            }
            let (line, col) = key_position(file_text, key).unwrap_or((1, 1));
            out.push(Finding {
                path: path.to_path_buf(),
                line,
                col,
                severity: Severity::Warning,
                code: "unknown-key",
                message: format!(
                    "unknown front-matter key `{key}` (hunt reads id, name, description, \
                     schedule, lookback, delay, enabled, tags, split, severity): a typo?"
                ),
            });
        }
    }
    sort(&mut out);
    out
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (&a.path, a.line, a.col).cmp(&(&b.path, b.line, b.col)));
}

/// Loads the library at `paths` and lints every query; load problems and duplicate ids are
/// error findings. Sorted by path, line, column.
pub fn lint_paths(paths: &[PathBuf], now: DateTime<Utc>) -> Vec<Finding> {
    lint_loaded(&library::load(paths), now)
}

/// [`lint_paths`] over a library already loaded.
pub fn lint_loaded(loaded: &library::Loaded, now: DateTime<Utc>) -> Vec<Finding> {
    let mut out = Vec::new();
    for e in &loaded.errors {
        // An all-comment file: lint its text for the precise message (and the DEN hint).
        if e.message.starts_with("query is empty once comments are removed")
            && let Ok(text) = std::fs::read_to_string(&e.path)
        {
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            out.extend(
                lint_text(&e.path, text, None, now).into_iter().filter(|f| f.code == "empty-query"),
            );
            continue;
        }
        let code =
            if e.message.starts_with("duplicate query id") { "duplicate-id" } else { "load" };
        out.push(Finding {
            path: e.path.clone(),
            line: e.line,
            col: e.col,
            severity: Severity::Error,
            code,
            message: e.message.clone(),
        });
    }
    for w in &loaded.warnings {
        // A disabled all-comment query (as `hunt den sync` saves a flattened DEN) is a note.
        let disabled = w.message == library::NO_CODE_DISABLED;
        out.push(Finding {
            path: w.path.clone(),
            line: w.line,
            col: w.col,
            severity: if disabled { Severity::Info } else { Severity::Warning },
            code: if disabled { "disabled" } else { "load" },
            message: w.message.clone(),
        });
    }
    for q in &loaded.queries {
        if q.enabled {
            out.extend(lint_text(&q.source, &q.kql, Some(q), now));
            continue;
        }
        // Disabled queries do not run: they are noted, not checked (so a DEN folder with a
        // flattened query saved disabled does not fail CI). The all-comment ones have their
        // note from the loader already.
        if loaded
            .warnings
            .iter()
            .any(|w| w.path == q.source && w.message == library::NO_CODE_DISABLED)
        {
            continue;
        }
        let text = crate::library::kql_file::read_text(&q.source).unwrap_or_default();
        let (line, col) = key_position(&text, "enabled").unwrap_or((q.kql_at.0, q.kql_at.1 + 1));
        out.push(Finding {
            path: q.source.clone(),
            line,
            col,
            severity: Severity::Info,
            code: "disabled",
            message: format!("query {} is disabled (`enabled: false`): not run, not checked", q.id),
        });
    }
    sort(&mut out);
    out
}

/// The exit status of `hunt validate`: 1 if any finding is an error, else 0.
pub fn exit_code(findings: &[Finding]) -> u8 {
    u8::from(findings.iter().any(|f| f.severity == Severity::Error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    /// (line, col, code) of each finding of `text`.
    fn found(text: &str) -> Vec<(usize, usize, &'static str)> {
        lint_text(Path::new("q.kql"), text, None, now())
            .into_iter()
            .map(|f| (f.line, f.col, f.code))
            .collect()
    }

    fn errors(text: &str) -> Vec<(usize, usize, &'static str)> {
        lint_text(Path::new("q.kql"), text, None, now())
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.line, f.col, f.code))
            .collect()
    }

    #[test]
    fn unterminated_string_points_at_the_opening_quote() {
        let text = "// source: test\nDeviceProcessEvents\n| where ProcessCommandLine has \"-enc\n| where Timestamp > ago(1d)\n";
        assert_eq!(errors(text), [(3, 32, "unterminated-string")]);
        // Line 3 col 28, single quotes, and the next line still lexes (no cascade).
        let text = "DeviceEvents\n| where Timestamp > ago(1h)\n| where FileName =~ 'cmd.exe\n| project FileName, 'ok'\n";
        assert_eq!(errors(text), [(3, 21, "unterminated-string")]);
        let text =
            "DeviceEvents\n| where Timestamp > ago(1h)\n| where FolderPath has @'C:\\Windows\\\n";
        assert_eq!(errors(text), [(3, 24, "unterminated-string")]);
    }

    #[test]
    fn brackets() {
        // One `)` too many.
        let text = "DeviceEvents\n| where Timestamp > ago(1d))\n";
        let f = lint_text(Path::new("q.kql"), text, None, now());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].line, f[0].col, f[0].code), (2, 28, "unbalanced-bracket"));
        assert!(f[0].message.contains("no opening `(`"), "{}", f[0].message);
        // `]` closing a `(`.
        let text = "DeviceEvents\n| where Timestamp > ago(1d]\n";
        let f = lint_text(Path::new("q.kql"), text, None, now());
        // The `]` is reported, and the `(` it failed to close.
        assert_eq!(errors(text), [(2, 24, "unbalanced-bracket"), (2, 27, "unbalanced-bracket")]);
        let mismatched = f.iter().find(|f| f.message.contains("mismatched")).unwrap();
        assert_eq!((mismatched.line, mismatched.col), (2, 27));
        assert!(mismatched.message.contains("expected `)`"), "{}", mismatched.message);
        assert!(mismatched.message.contains("line 2 column 24"), "{}", mismatched.message);
        // An opening bracket never closed points at itself.
        let text =
            "DeviceEvents\n| where Timestamp > ago(1d)\n| summarize count() by bin(Timestamp, 1h\n";
        assert_eq!(errors(text), [(3, 27, "unbalanced-bracket")]);
        // Brackets inside strings and comments do not count.
        let text = "DeviceEvents // (\n| where Timestamp > ago(1d) and A has \")]\" and B == '['\n";
        assert_eq!(errors(text), []);
    }

    #[test]
    fn smart_quotes_outside_strings_and_comments() {
        let text = "DeviceEvents\n| where Timestamp > ago(1d)\n| where ActionType == \u{201C}DeviceBootAttestationInfo\u{201D}\n";
        let f = lint_text(Path::new("q.kql"), text, None, now());
        assert_eq!(errors(text), [(3, 23, "smart-quote")]);
        assert!(f[0].message.contains("U+201C"), "{}", f[0].message);
        // In a comment or a string they are fine.
        let text = "// the \u{201C}confidential\u{201D} folder\nDeviceEvents\n| where Timestamp > ago(1d) and A == \"it\u{2019}s\"\n";
        assert_eq!(errors(text), []);
    }

    #[test]
    fn stale_datetime_and_time_generated() {
        let text = "DeviceEvents\n| where Timestamp between (datetime(2026-10-01) .. datetime(2026-11-01))\n";
        assert_eq!(found(text), [(2, 28, "stale-datetime")]);
        let text = "DeviceEvents\n| where Timestamp > datetime(\"2025-01-01T00:00:00Z\")\n";
        assert_eq!(found(text), [(2, 21, "stale-datetime")]);
        // Recent enough: nothing.
        assert_eq!(found("DeviceEvents | where Timestamp > datetime(2026-11-01)"), []);
        let text = "DeviceProcessEvents\n| where TimeGenerated > ago(1d)\n| project TimeGenerated, DeviceName\n";
        assert_eq!(found(text), [(2, 9, "time-generated"), (3, 11, "time-generated")]);
        // Not on a Sentinel table, not in a comment or string.
        // Sentinel tables: no time-generated warning (the table itself is a warning of its own).
        assert_eq!(
            found("SigninLogs\n| where TimeGenerated > ago(1d)\n"),
            [(1, 1, "unknown-table")]
        );
        assert_eq!(
            found(
                "DeviceEvents // TimeGenerated\n| where Timestamp > ago(1d) and DeviceName == 'TimeGenerated'\n"
            ),
            []
        );
    }

    #[test]
    fn no_time_filter_is_fine() {
        // hunt sends the window as the query's timespan (queries/README.md says so): a query
        // needs no time filter of its own, and validate says nothing about it.
        assert_eq!(found("// c\nDeviceInfo\n| project DeviceName\n"), []);
        assert_eq!(found("let lookback = 7d;\nDeviceInfo | where Timestamp > ago(lookback)"), []);
    }

    #[test]
    fn empty_query_and_the_flattened_den_one_liner() {
        let f = lint_text(Path::new("q.kql"), "// nothing\n\n// here\n", None, now());
        assert_eq!(
            f.iter().map(|f| (f.line, f.col, f.code)).collect::<Vec<_>>(),
            [(1, 1, "empty-query")]
        );
        assert!(!f[0].message.contains("one `//` line"));

        let fixture = std::fs::read_to_string(
            "/work/shared/fixtures/graph-docs/incident.update.beta.response.recommendedHuntingQueries-leading-comment.json",
        )
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["recommendedHuntingQueries"][0]["kqlText"].as_str().map(str::to_string))
        .unwrap_or_else(|| "//Run this query to identify the devices having Raspberry Robin worm alerts  AlertInfo   | where Timestamp >= datetime(2022-10-20 06:00:52.9644915)   | where Title == 'Potential Raspberry Robin worm command'   | join AlertEvidence on AlertId   | distinct DeviceId".to_string());
        assert!(fixture.starts_with("//Run this query") && fixture.contains("AlertInfo"));
        let f = lint_text(Path::new("den.kql"), &fixture, None, now());
        assert_eq!(
            f.iter().map(|f| (f.line, f.col, f.code)).collect::<Vec<_>>(),
            [(1, 1, "empty-query")]
        );
        assert!(f[0].message.contains("one `//` line"), "{}", f[0].message);
        assert_eq!(exit_code(&f), 1);
        assert_eq!(f[0].to_string(), format!("den.kql:1:1: error: {}", f[0].message));

        // Once unflattened, the same query lints: its 2022 bound is stale.
        let fixed = "//Run this query to identify the devices having Raspberry Robin worm alerts\nAlertInfo\n| where Timestamp >= datetime(2022-10-20 06:00:52.9644915)\n| join AlertEvidence on AlertId\n";
        assert_eq!(found(fixed), [(3, 22, "stale-datetime"), (4, 3, "split-aggregates")]);
        assert_eq!(exit_code(&lint_text(Path::new("q.kql"), fixed, None, now())), 0);
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn front_matter_checks_through_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            "a.kql",
            "// ---\n// id: a\n// schedule: \"*/61 * * * *\"\n// sevrity: high\n// tactics: [Execution]\n// ---\nDeviceEvents\n| where Timestamp > ago(1h)\n",
        );
        write(d, "b.kql", "// ---\n// id: a\n// ---\nDeviceEvents | where Timestamp > ago(1h)\n");
        write(d, "c.kql", "//Run this query AlertInfo | where Timestamp > ago(1d)\n");
        write(
            d,
            "d.kql",
            "// ---\n// schedule: \"0 9 * * 1-5\"\n// den: {incident: 1}\n// ---\nDeviceEvents | where Timestamp > ago(1h)\n",
        );
        let f = lint_paths(&[d.to_path_buf()], now());
        let got: Vec<_> = f
            .iter()
            .map(|f| {
                (f.path.file_name().unwrap().to_string_lossy().into_owned(), f.line, f.col, f.code)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a.kql".to_string(), 3, 4, "invalid-cron"),
                ("a.kql".to_string(), 4, 4, "unknown-key"),
                ("b.kql".to_string(), 2, 8, "duplicate-id"),
                ("c.kql".to_string(), 1, 1, "empty-query"),
            ]
        );
        assert!(f[0].message.contains("minute field"), "{}", f[0].message);
        assert!(f[1].message.contains("`sevrity`"), "{}", f[1].message);
        assert!(f[3].message.contains("one `//` line"), "{}", f[3].message);
        assert_eq!(exit_code(&f), 1);
        assert!(f[0].to_string().ends_with(&format!("a.kql:3:4: error: {}", f[0].message)));
        assert_eq!(exit_code(&lint_paths(&[d.join("d.kql")], now())), 0);

        // A lookback past the service's 30 days.
        write(
            d,
            "f.kql",
            "// ---\n// id: f\n// lookback: 45d\n// ---\nDeviceEvents | where Timestamp > ago(45d)\n",
        );
        let f = lint_paths(&[d.join("f.kql")], now());
        assert_eq!(
            f.iter().map(|f| (f.line, f.col, f.severity, f.code)).collect::<Vec<_>>(),
            [(3, 4, Severity::Warning, "lookback-retention")]
        );
        assert!(f[0].message.contains("45 days reaches past the 30 days"), "{}", f[0].message);
        let w = crate::timespan::Window { start: now() - Duration::days(31), end: now() };
        assert_eq!(beyond_retention(&w, now()), Some(now() - Duration::days(30)));
        let w = crate::timespan::Window { start: now() - Duration::days(30), end: now() };
        assert_eq!(beyond_retention(&w, now()), None);

        // A disabled query is noted where it says so, and not checked.
        write(
            d,
            "e.kql",
            "// ---\n// id: e\n// enabled: false\n// ---\nDeviceEvents | summarise count()\n",
        );
        let f = lint_paths(&[d.join("e.kql")], now());
        assert_eq!(
            f.iter().map(|f| (f.line, f.col, f.severity, f.code)).collect::<Vec<_>>(),
            [(3, 4, Severity::Info, "disabled")]
        );
        assert!(f[0].message.contains("query e is disabled"), "{}", f[0].message);
    }
}

#[cfg(test)]
mod corpus_tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    /// Every real query of the fixtures lints without an error, unless its manifest notes a
    /// known defect. Prints what the linter says about them.
    #[test]
    fn corpus_fixtures_have_no_false_errors() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        let defective: Vec<&str> = manifest
            .lines()
            .skip(1)
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|c| {
                let notes = c.last().copied().unwrap_or("");
                ["missing comma", "invalid YAML", "as string delimiters"]
                    .iter()
                    .any(|d| notes.contains(d))
            })
            .map(|c| c[0])
            .collect();
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let findings = lint_paths(std::slice::from_ref(&dir), now);
        let files = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "kql"))
            .count();
        assert!(files >= 30, "{files}");
        let mut counts: BTreeMap<(Severity, &str), usize> = BTreeMap::new();
        for f in &findings {
            *counts.entry((f.severity, f.code)).or_default() += 1;
            println!("{f}");
            let name = f.path.file_name().unwrap().to_str().unwrap();
            if f.severity == Severity::Error {
                assert!(defective.contains(&name), "false error: {f}");
            }
            // Sentinel's own keys (a GUID `id`, `description-detailed`) are not typos.
            assert_ne!(f.code, "unknown-key", "{f}");
        }
        println!("{files} files, {} findings", findings.len());
        for ((sev, code), n) in &counts {
            println!("{sev:>7} {code:<20} {n}");
        }
    }
}
