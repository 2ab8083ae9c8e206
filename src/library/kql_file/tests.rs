//! Tests of reading `.kql` files: front matter, ids, errors pointing into the file, decoding.

use super::*;
use crate::library::front_matter::front_matter_key_position;
use crate::query::SplitPolicy;
use chrono::Duration;
use serde_yaml_ng::Value;
use std::path::PathBuf;

fn p() -> PathBuf {
    PathBuf::from("queries/test-file.kql")
}

fn parse(text: &str) -> Result<Query, QueryFileError> {
    parse_kql_file(text, &p())
}

fn ok(text: &str) -> Query {
    parse(text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn bad(text: &str) -> QueryFileError {
    match parse(text) {
        Ok(q) => panic!("parsed: {q:?}"),
        Err(e) => e,
    }
}

const FULL: &str = "// ---
// id: encoded-powershell
// name: Encoded PowerShell
// description: PowerShell started with an encoded command.
// schedule: \"*/15 * * * *\"
// lookback: 1h
// delay: 5m
// enabled: true
// tags: [execution, T1059.001]
// split: never
// severity: high
// den:
//   incident: 123
//   title: Something
// tactics: [Execution]
// ---
DeviceProcessEvents
| where ProcessCommandLine has \"-enc\"
";

#[test]
fn full_front_matter() {
    let q = ok(FULL);
    assert_eq!(q.id, "encoded-powershell");
    assert_eq!(q.name, "Encoded PowerShell");
    assert_eq!(q.description.as_deref(), Some("PowerShell started with an encoded command."));
    assert_eq!(q.schedule.as_deref(), Some("*/15 * * * *"));
    assert_eq!(q.lookback, Some(Duration::hours(1)));
    assert_eq!(q.delay, Some(Duration::minutes(5)));
    assert!(q.enabled);
    assert_eq!(q.tags, ["execution", "T1059.001"]);
    assert_eq!(q.split, SplitPolicy::Never);
    assert_eq!(q.severity.as_deref(), Some("high"));
    assert_eq!(q.kql, FULL, "the whole file is what runs");
    assert_eq!(q.source, p());
    assert_eq!(q.extra.len(), 2);
    let den = q.extra["den"].as_mapping().unwrap();
    assert_eq!(den.get("incident").and_then(Value::as_u64), Some(123));
    assert!(q.extra.contains_key("tactics"));
}

#[test]
fn no_front_matter_uses_file_stem() {
    let q = ok("DeviceProcessEvents | take 10\n");
    assert_eq!(q.id, "test-file");
    assert_eq!(q.name, "test-file");
    assert!(q.enabled);
    assert_eq!(q.split, SplitPolicy::Auto);
    assert!(q.schedule.is_none() && q.lookback.is_none() && q.tags.is_empty());
    let q = parse_kql_file("T | take 1", Path::new("/x/My Hunt (v2).KQL")).unwrap();
    assert_eq!(q.id, "my-hunt-v2");
}

#[test]
fn leading_comments_and_blank_lines_before_fence() {
    let text = "\n\n// Copyright (c) someone\n// Licensed MIT\n\n// ---\n// id: x\n// ---\nT\n";
    assert_eq!(ok(text).id, "x");
    // Indented comment lines and no space after //.
    let text = "  // ---\n  //id: y\n//\tlookback: 2h\n  // ---\nT";
    let q = ok(text);
    assert_eq!(q.id, "y");
    assert_eq!(q.lookback, Some(Duration::hours(2)));
}

#[test]
fn fence_after_code_is_not_front_matter() {
    let text = "T\n// ---\n// id: z\n// ---\n";
    let q = ok(text);
    assert_eq!(q.id, "test-file");
    // A decorative dashed line is not a fence.
    let q = ok("// -------------------- //\n// id: nope\nT\n");
    assert_eq!(q.id, "test-file");
}

#[test]
fn crlf_and_bom() {
    let text = "\u{feff}// ---\r\n// id: crlf\r\n// lookback: 1d\r\n// tags: a\r\n// ---\r\nT\r\n| take 1\r\n";
    let q = ok(text);
    assert_eq!(q.id, "crlf");
    assert_eq!(q.lookback, Some(Duration::days(1)));
    assert_eq!(q.tags, ["a"]);
    assert_eq!(q.kql, &text[3..], "BOM dropped, CRLF kept");
    let e = bad("\u{feff}// ---\r\n// id: x\r\n// lookback: banana\r\n// ---\r\nT\r\n");
    assert_eq!((e.line, e.col), (3, 14));
}

#[test]
fn empty_front_matter() {
    assert_eq!(ok("// ---\n// ---\nT").id, "test-file");
    assert_eq!(ok("// ---\n//\n// ---\nT").id, "test-file");
    assert_eq!(ok("// ---\n// # just a comment\n// ---\nT").id, "test-file");
}

#[test]
fn blank_line_inside_front_matter() {
    let q = ok("// ---\n// id: a\n\n// name: B\n// ---\nT");
    assert_eq!((q.id.as_str(), q.name.as_str()), ("a", "B"));
}

#[test]
fn unterminated_front_matter_points_at_opening() {
    let e = bad("// licence\n// ---\n// id: x\nDeviceProcessEvents\n");
    assert_eq!((e.line, e.col), (2, 1));
    assert!(e.message.contains("no closing"), "{e}");
    let e = bad("// ---\n// id: x\n");
    assert_eq!(e.line, 1);
}

#[test]
fn invalid_yaml_points_into_file() {
    let e = bad("// ---\n// id: x\n// name: [unclosed\n// ---\nT");
    assert!(e.message.contains("not valid YAML"), "{e}");
    assert!(e.line >= 3 && e.line <= 4, "{e}");
    let e = bad("// ---\n// id: x\n//   bad: indent\n// ---\nT");
    assert_eq!(e.line, 3, "{e}");
    assert!(!e.message.contains("line 2 column"), "positions translated: {e}");
    // Unquoted cron gets a hint.
    let e = bad("// ---\n// schedule: */15 * * * *\n// ---\nT");
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("must be quoted"), "{e}");
    let e = bad("// ---\n// schedule: @hourly\n// ---\nT");
    assert_eq!((e.line, e.col), (2, 14), "{e}");
    assert!(e.message.contains("must be quoted"), "{e}");
    // Duplicate keys.
    let e = bad("// ---\n// id: a\n// id: b\n// ---\nT");
    assert!(e.message.contains("duplicate"), "{e}");
    assert_eq!((e.line, e.col), (3, 8), "{e}");
    // Not a map.
    let e = bad("// ---\n// just words\n// ---\nT");
    assert_eq!((e.line, e.col), (2, 4));
    assert!(e.message.contains("key: value"), "{e}");
}

#[test]
fn bad_values_point_at_their_key() {
    let e = bad("// ---\n// id: x\n// lookback: banana\n// ---\nT");
    assert_eq!((e.line, e.col), (3, 14), "{e}");
    assert!(e.message.contains("lookback") && e.message.contains("1h30m"), "{e}");
    let e = bad("// ---\n// lookback: 1M\n// ---\nT");
    assert!(e.message.contains("use days"), "{e}");
    let e = bad("// ---\n// delay: -5m\n// ---\nT");
    assert_eq!(e.line, 2);
    let e = bad("// ---\n// id: x\n// enabled: maybe\n// ---\nT");
    assert_eq!((e.line, e.col), (3, 13), "{e}");
    assert!(e.message.contains("true or false"), "{e}");
    let e = bad("// ---\n// split: sometimes\n// ---\nT");
    assert!(e.message.contains("auto or never"), "{e}");
    let e = bad("// ---\n// name: [a, b]\n// ---\nT");
    assert!(e.message.contains("must be text"), "{e}");
    let e = bad("// ---\n// tags: {a: b}\n// ---\nT");
    assert!(e.message.contains("tags"), "{e}");
    let e = bad("// ---\n// \"lookback\": nope\n// ---\nT");
    assert_eq!((e.line, e.col), (2, 16), "{e}");
    let e = bad("// ---\n// lookback:\n//   nope\n// ---\nT");
    assert_eq!((e.line, e.col), (2, 4), "{e}");
}

#[test]
fn ids() {
    assert_eq!(ok("// ---\n// id: My Hunt!\n// ---\nT").id, "my-hunt");
    assert_eq!(ok("// ---\n// id: 42\n// ---\nT").id, "42");
    let e = bad("// ---\n// id: \"\"\n// ---\nT");
    assert!(e.message.contains("`id` is empty"), "{e}");
    assert_eq!((e.line, e.col), (2, 8));
    let e = bad("// ---\n// id:\n// ---\nT");
    assert!(e.message.contains("`id` is empty"), "{e}");
    assert_eq!((e.line, e.col), (2, 4));
    let e = bad("// ---\n// id: '   '\n// ---\nT");
    assert!(e.message.contains("`id` is empty"), "{e}");
}

#[test]
fn other_fields() {
    let q = ok(
        "// ---\n// enabled: false\n// tags: execution, T1059\n// delay: 0s\n// schedule: \"@hourly\"\n// ---\nT",
    );
    assert!(!q.enabled);
    assert_eq!(q.tags, ["execution", "T1059"]);
    assert_eq!(q.delay, Some(Duration::zero()));
    assert_eq!(q.schedule.as_deref(), Some("@hourly"));
    let q = ok("// ---\n// tags: [a, a, 1, null, ' b ']\n// name: ''\n// ---\nT");
    assert_eq!(q.tags, ["a", "1", "b"]);
    assert_eq!(q.name, "test-file");
    let q = ok("// ---\n// lookback: P1DT6H\n// unknown_key: 1\n// ---\nT");
    assert_eq!(q.lookback, Some(Duration::hours(30)));
    assert!(q.extra.contains_key("unknown_key"));
    let e = bad("// ---\n// lookback: 0s\n// ---\nT");
    assert!(e.message.contains("zero"), "{e}");
}

#[test]
fn empty_queries() {
    for text in [
        "",
        "\n\n",
        "// only a comment\n",
        "// ---\n// id: x\n// ---\n",
        "// ---\n// id: x\n// ---\n\n   // commented out\n\t\n",
        "\u{a0}\n",
    ] {
        let e = bad(text);
        assert!(e.message.contains("query is empty once comments are removed"), "{text:?}: {e}");
        assert_eq!((e.line, e.col), (1, 1));
    }
}

#[test]
fn key_positions() {
    assert_eq!(front_matter_key_position(FULL, "id"), Some((2, 8)));
    assert_eq!(front_matter_key_position(FULL, "den"), Some((12, 4)));
    assert_eq!(front_matter_key_position(FULL, "incident"), None);
    assert_eq!(front_matter_key_position("T", "id"), None);
}

#[test]
fn error_display() {
    let e = bad("// ---\n// enabled: maybe\n// ---\nT");
    assert_eq!(
        e.to_string(),
        "queries/test-file.kql:2:13: `enabled` must be true or false, not \"maybe\""
    );
}

#[test]
fn reading_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("latin1.kql");
    std::fs::write(&f, b"// ---\n// id: x\n// ---\nT | where A == \"caf\xe9\"\n").unwrap();
    let e = read_query_file(&f).unwrap_err();
    assert_eq!((e.line, e.col), (4, 20), "{e}");
    assert!(e.message.contains("UTF-8"));
    let f = dir.path().join("utf16.kql");
    let mut bytes = vec![0xFF, 0xFE];
    for u in "// ---\n// id: wide\n// ---\nT\n".encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(&f, bytes).unwrap();
    assert_eq!(read_query_file(&f).unwrap().id, "wide");
    let e = read_query_file(&dir.path().join("missing.kql")).unwrap_err();
    assert!(e.message.contains("does not exist"));
    assert_eq!((e.line, e.col), (1, 1));
}
