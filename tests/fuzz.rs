//! Fuzzing, with proptest, of every parser that reads input hunt does not control: response
//! and error bodies from Graph and Entra, `Retry-After`, query files (front matter, Sentinel
//! YAML), KQL (lexer, parser, table finder, linter), cron and timespan text, and the emulator's KQL
//! evaluator. Each target feeds arbitrary input and mutations of real inputs (fixtures, the
//! corpus, `queries/`) and checks that nothing panics and that the output keeps its promises.
//!
//! `cargo test --test fuzz` runs 256 cases per target; `PROPTEST_CASES=20000 cargo test
//! --release --test fuzz <target>` runs longer. Crashes found are kept below as named
//! regression tests. See `tests/FUZZING.md` for the long runs.

use arrow_array::{Array, RecordBatch};
use chrono::{DateTime, TimeZone, Utc};
use hunt::decode::{self, DecodeOptions, Decoded};
use hunt::graph::error::{
    EntraError, MAX_RETRY_AFTER, ServiceError, parse_graph_envelope, parse_retry_after,
};
use hunt::graph::peer::{MAX_PEER_TEXT, Masks};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Configuration and inputs
// ---------------------------------------------------------------------------------------------

/// 256 cases per target, or `PROPTEST_CASES`. (`Config::with_cases` alone would override the
/// variable, which proptest only reads into its default.)
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    Config {
        cases,
        // Crashes are kept as named tests in this file, not in a proptest-regressions folder.
        failure_persistence: None,
        ..Config::default()
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> Vec<u8> {
    let p = root().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Files of `dir` (relative to the crate) whose name ends with one of `exts`, sorted.
fn files(dir: &str, exts: &[&str]) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().is_some_and(|s| exts.iter().any(|x| s.ends_with(x))))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no {exts:?} files in {dir}");
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The body of `every_type_and_its_mismatches` in `src/decode/tests.rs`: every service type
/// with values of every JSON type.
const EVERY_TYPE: &str = r#"{"schema":[
    {"name":"S","type":"String"},{"name":"G","type":"Guid"},{"name":"Span","type":"TimeSpan"},
    {"name":"Dec","type":"Decimal"},{"name":"T","type":"DateTime"},{"name":"L","type":"Int64"},
    {"name":"U32","type":"UInt32"},{"name":"I","type":"Int32"},{"name":"F","type":"Double"},
    {"name":"Sg","type":"Single"},{"name":"B","type":"Boolean"},{"name":"SB","type":"SByte"},
    {"name":"Dyn","type":"Dynamic"},{"name":"Obj","type":"Object"},{"name":"New","type":"Hyperloglog"}],
  "results":[
    {"S":"plain","G":"0b2c5d1e-0000-4000-8000-000000000001","Span":"1.02:03:04.5000000","Dec":"12.50",
     "T":"2024-03-26T09:39:50.7688641Z","L":9223372036854775807,"U32":4294967295,"I":-2147483648,
     "F":1.5,"Sg":-0.25,"B":true,"SB":1,
     "Dyn":{"a":[1,2,{"b":null}],"c":"d\"e"},"Obj":[1,"x",true],"New":"text value"},
    {"S":{"k":1},"G":42,"Span":true,"Dec":12345678901234567890.123456789,
     "T":"yesterday","L":"123","U32":1.0,"I":2147483648,
     "F":"NaN","Sg":"Infinity","B":"TRUE","SB":0,
     "Dyn":"a \"quoted\" string","Obj":12.50,"New":false},
    {"S":[1,2],"G":null,"Span":null,"Dec":1e400,
     "T":12,"L":"12x","U32":1.5,"I":"77","F":"-Infinity","Sg":"2.5e3","B":"false","SB":"1",
     "Dyn":-7,"Obj":null,"New":{"x":{}}},
    {"L":{"a":1},"I":[1],"F":true,"B":2,"SB":"yes","T":{"x":1},
     "Dyn":"","S":"","Dec":"-0.0"},
    {"L":18446744073709551615,"I":-2147483649,"F":"1e5","B":0,"L":-9223372036854775808}
  ]}"#;

/// Fragments worth splicing into any input: JSON and YAML syntax, escapes, lone surrogates,
/// extreme numbers and dates, KQL operators and front-matter markers.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "'",
    "\\",
    "\\u",
    "\\ud800",
    "\\udc00",
    "\\ud83d\\ude00",
    "\\u0000",
    "null",
    "true",
    "1e400",
    "-1e400",
    "-0",
    "NaN",
    "Infinity",
    "1e19",
    "18446744073709551616",
    "-9223372036854775809",
    "0.0000000000000000000001",
    "\"schema\":",
    "\"results\":",
    "\"Schema\":[]",
    "\"results\":[{}]",
    "\"name\":\"A\"",
    "\"type\":\"Dynamic\"",
    "\"@odata.type\":\"#x\"",
    "\u{FEFF}{",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "// ---\n",
    "---\n",
    "// ",
    "id: x\n",
    "schedule: \"*/5 * * * *\"\n",
    "query: |\n  ",
    "  ",
    "- ",
    "&a",
    "*a",
    "!!binary",
    "? ",
    "|",
    " | where ",
    " | summarize count() by ",
    " | join (",
    ")",
    "(",
    "datetime(",
    "ago(",
    "1d",
    "Timestamp",
    "TimeGenerated",
    "let x = ",
    ";",
    "@\"",
    "```",
    "\u{201C}",
    "\u{2019}",
    "['",
    "']",
    "$left",
    "..",
    "=~",
    "!in~",
    "9999-12-31T23:59:59.9999999Z",
    "0000-01-01",
    "262143-12-31",
    "P99999999D",
    "/",
    "*/0",
    "é",
    "\u{10FFFF}",
    "\u{FEFF}",
];

/// One edit of a byte string. Positions are taken modulo the length at the time of the edit.
#[derive(Debug, Clone)]
enum Op {
    /// XOR a byte with a mask.
    Flip(usize, u8),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Insert one of [`TOKENS`].
    Token(usize, usize),
    /// Delete up to `len` bytes.
    Delete(usize, usize),
    /// Cut the input at a place.
    Truncate(usize),
    /// Copy a range (start, len) to another place: repeats keys, rows, brackets.
    Dup(usize, usize, usize),
    /// Swap two ranges of the same length.
    Swap(usize, usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<usize>(), 1u8..).prop_map(|(i, m)| Op::Flip(i, m)),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Op::Insert(i, b)),
        4 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(i, t)| Op::Token(i, t)),
        2 => (any::<usize>(), 1usize..64).prop_map(|(i, n)| Op::Delete(i, n)),
        1 => any::<usize>().prop_map(Op::Truncate),
        2 => (any::<usize>(), 1usize..256, any::<usize>()).prop_map(|(s, n, d)| Op::Dup(s, n, d)),
        1 => (any::<usize>(), 1usize..64, any::<usize>()).prop_map(|(a, n, b)| Op::Swap(a, n, b)),
    ]
}

fn apply(seed: &[u8], ops: &[Op]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for op in ops {
        let len = v.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match op {
            Op::Flip(i, m) if len > 0 => v[i % len] ^= m,
            Op::Flip(..) => {}
            Op::Insert(i, b) => {
                let i = at(*i);
                v.splice(i..i, b.iter().copied());
            }
            Op::Token(i, t) => {
                let i = at(*i);
                v.splice(i..i, TOKENS[*t].bytes());
            }
            Op::Delete(i, n) => {
                let i = at(*i);
                let end = (i + n).min(len);
                v.drain(i..end);
            }
            Op::Truncate(i) => v.truncate(at(*i)),
            Op::Dup(s, n, d) => {
                let s = at(*s);
                let end = (s + n).min(len);
                let piece = v[s..end].to_vec();
                let d = at(*d);
                v.splice(d..d, piece);
            }
            Op::Swap(a, n, b) if len > 0 => {
                let n = (*n).min(len / 2);
                if n == 0 {
                    continue;
                }
                let a = a % (len - n + 1);
                let b = b % (len - n + 1);
                if a + n <= b || b + n <= a {
                    for k in 0..n {
                        v.swap(a + k, b + k);
                    }
                }
            }
            Op::Swap(..) => {}
        }
    }
    v
}

/// A seed from `seeds`, mutated by 1 to 8 edits.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (prop::sample::select(seeds), prop::collection::vec(op(), 1..8))
        .prop_map(|(seed, ops)| apply(&seed, &ops))
}

/// Like [`mutated`], as text (invalid UTF-8 replaced).
fn mutated_text(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = String> {
    mutated(seeds).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Arbitrary text biased towards the characters parsers care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..24)
            .prop_map(|v| v.concat()),
        "[ -~\n\t]{0,200}",
    ]
}

fn corpus_kql() -> Vec<Vec<u8>> {
    let mut v = files("tests/fixtures/corpus", &[".kql"]);
    v.extend(files("queries", &[".kql"]));
    v
}

fn corpus_yaml() -> Vec<Vec<u8>> {
    files("tests/fixtures/corpus", &[".yaml", ".yml"])
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap()
}

/// Any instant chrono can hold, or one near now.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    prop_oneof![
        (min..=max, 0u32..1_000_000_000),
        (1_700_000_000i64..1_900_000_000, 0u32..1_000_000_000),
    ]
    .prop_map(|(s, ns)| DateTime::from_timestamp(s, ns).unwrap_or_else(now))
}

// ---------------------------------------------------------------------------------------------
// 1. Response decoding
// ---------------------------------------------------------------------------------------------

/// JSON number and string texts that stress the cell readers; some are not valid JSON
/// (`NaN`) or not representable by serde_json's own tree (lone surrogates, `1e400`).
const JSON_ODD: &[&str] = &[
    "1e400",
    "-1e400",
    "1E-400",
    "-0",
    "-0.0",
    "0.1e1",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "4294967296",
    "2147483648",
    "123456789012345678901234567890.123456789",
    "1.7976931348623157e308",
    "\"\\ud800\"",
    "\"\\udc00 x\"",
    "\"\\ud800\\u0041\"",
    "\"\\ud83d\\ude00\"",
    "\"\\u0000\"",
    "\"2024-03-26T09:39:50.7688641Z\"",
    "\"9999-12-31T23:59:59.9999999Z\"",
    "\"0001-01-01T00:00:00Z\"",
    "\"+262143-12-31T00:00:00Z\"",
    "\"2024-02-30T00:00:00Z\"",
    "\"2024-03-26T24:00:00Z\"",
    "\"2024-03-26T09:39:50.12345678901234567890Z\"",
    "\"2024-03-26T09:39:50+99:99\"",
    "\"NaN\"",
    "\"-Infinity\"",
    "\"1e400\"",
    "\"TRUE\"",
    "\"\"",
    "\"10675199.02:48:05.4775807\"",
    "\"-10675199.02:48:05.4775808\"",
    "\"1.02:03\"",
    "NaN",
    "[]",
    "{}",
    "[[]]",
    "{\"\":{}}",
];

fn json_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() { format!("{f:?}") } else { "0".into() }),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        prop::sample::select(JSON_ODD.to_vec()).prop_map(str::to_owned),
    ]
}

/// Keys that rows use: schema names, case variants, annotations, escapes.
const KEYS: &[&str] =
    &["A", "a", "B", "Timestamp", "L", "Dyn", "A_2", "@odata.type", "A@odata.type", "\\u0041", ""];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
        1 => "[a-zA-Z@._ ]{0,6}",
    ]
}

fn json_value() -> impl Strategy<Value = String> {
    let nested = json_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key(), inner), 0..6).prop_map(|v| {
                let kv: Vec<String> = v.iter().map(|(k, x)| format!("\"{k}\":{x}")).collect();
                format!("{{{}}}", kv.join(","))
            }),
        ]
    });
    prop_oneof![
        8 => nested,
        // Deep nesting: up to 10,000 levels.
        1 => (0usize..=10_000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        1 => (0usize..=300).prop_map(|n| format!("{}1{}", "{\"k\":".repeat(n), "}".repeat(n))),
    ]
}

const SERVICE_TYPES: &[&str] = &[
    "String",
    "Guid",
    "TimeSpan",
    "Decimal",
    "DateTime",
    "Int64",
    "UInt32",
    "Int32",
    "Double",
    "Single",
    "Boolean",
    "SByte",
    "Dynamic",
    "Object",
    "Hyperloglog",
    "dynamic",
    "datetime",
    "long",
    "int",
    "real",
    "bool",
    "string",
    "",
];

/// A body of the right shape (schema entries with string names and types, an array of row
/// objects), with every variation the decoder claims to tolerate and any cell values.
fn shaped_body() -> impl Strategy<Value = String> {
    let entry = (
        prop::option::of(prop::sample::select(&KEYS[..9])),
        prop::option::of(prop::sample::select(SERVICE_TYPES.to_vec())),
        any::<bool>(),
    )
        .prop_map(|(name, ty, pascal)| {
            let (n, t) = if pascal { ("Name", "Type") } else { ("name", "type") };
            let mut kv = Vec::new();
            if let Some(ty) = ty {
                kv.push(format!("\"{t}\":\"{ty}\""));
            }
            if let Some(name) = name {
                kv.push(format!("\"{n}\":\"{name}\""));
            }
            format!("{{{}}}", kv.join(","))
        });
    let row = prop::collection::vec((key(), json_value()), 0..8).prop_map(|v| {
        let kv: Vec<String> = v.iter().map(|(k, x)| format!("\"{k}\":{x}")).collect();
        format!("{{{}}}", kv.join(","))
    });
    (
        prop::collection::vec(entry, 0..8),
        prop::collection::vec(row, 0..24),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(schema, rows, results_first, pascal, extra)| {
            let (sk, rk) = if pascal { ("Schema", "Results") } else { ("schema", "results") };
            let s = format!("\"{sk}\":[{}]", schema.join(","));
            let r = format!("\"{rk}\":[{}]", rows.join(","));
            let mut parts = if results_first { vec![r, s] } else { vec![s, r] };
            if extra {
                parts.insert(1, "\"@odata.context\":\"x\",\"Stats\":{\"a\":[1,{}]}".into());
            }
            format!("{{{}}}", parts.join(","))
        })
}

/// Every batch matches the schema, columns are as long as their batch, and the batches add
/// up to `rows`.
fn check_batches(d: &Decoded, batches: &[RecordBatch]) -> Result<(), TestCaseError> {
    prop_assert_eq!(d.columns.len(), d.schema.fields().len());
    let mut total = 0;
    for b in batches {
        prop_assert_eq!(b.schema(), d.schema.clone());
        prop_assert_eq!(b.num_columns(), d.columns.len());
        prop_assert!(b.num_rows() > 0, "empty batch");
        prop_assert!(b.num_rows() * b.num_columns().max(1) <= (1 << 20).max(b.num_rows()));
        for c in b.columns() {
            prop_assert_eq!(c.len(), b.num_rows());
            // Arrow's own invariants (offsets in range, valid UTF-8, validity length).
            c.to_data().validate_full().map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        total += b.num_rows();
    }
    prop_assert_eq!(total, d.rows);
    Ok(())
}

/// The body read by serde_json as a tree, when it is JSON (after a byte order mark).
fn as_json(body: &[u8]) -> Option<serde_json::Value> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(body).ok()
}

/// The decoding properties on one body: never a panic; `Ok` only for a JSON object with a
/// schema array and a results array of objects, whose row count it reports; batches sound;
/// `decode` and `decode_each` agree.
fn check_decode(body: &[u8], batch_rows: usize) -> Result<(), TestCaseError> {
    let opts = DecodeOptions { batch_rows };
    let whole = decode::decode(body, &opts);
    let mut streamed = Vec::new();
    let each = decode::decode_each(body, &opts, |b| {
        streamed.push(b);
        Ok(())
    });
    match (&whole, &each) {
        (Ok(d), Ok(e)) => {
            check_batches(d, &d.batches)?;
            check_batches(e, &streamed)?;
            prop_assert!(e.batches.is_empty());
            prop_assert_eq!(d.rows, e.rows);
            prop_assert_eq!(&d.batches, &streamed);
            prop_assert_eq!(d.mismatched_cells, e.mismatched_cells);
            // The decoder reads some bodies serde_json's tree refuses (lone surrogates,
            // numbers beyond f64); when the tree reads it, the shape must be right.
            if let Some(v) = as_json(body) {
                let obj = v.as_object();
                prop_assert!(obj.is_some(), "Ok for a body that is not an object");
                let obj = obj.unwrap();
                let schema = obj.get("schema").or(obj.get("Schema"));
                prop_assert!(schema.is_some_and(|s| s.is_array()), "Ok without a schema array");
                let results: Vec<_> =
                    ["results", "Results"].iter().filter_map(|k| obj.get(*k)).collect();
                prop_assert!(
                    results.iter().any(|r| r.as_array().is_some_and(|a| {
                        a.iter().all(|row| row.is_object()) && a.len() == d.rows
                    })),
                    "Ok, {} rows, without a results array of as many objects",
                    d.rows
                );
            }
        }
        (Err(_), Err(_)) => {}
        _ => prop_assert!(false, "decode {:?} but decode_each {:?}", whole.is_ok(), each.is_ok()),
    }
    check_streamed(body, &opts, &whole)
}

/// The streaming decoder, fed in chunks of a few bytes and cutting a segment at every row,
/// agrees with `decode`: the same batches, or an error for both. The one exception is what
/// only it refuses: a repeated `results`, or a schema repeated after the rows with other columns.
fn check_streamed(
    body: &[u8],
    opts: &DecodeOptions,
    whole: &Result<Decoded, decode::DecodeError>,
) -> Result<(), TestCaseError> {
    let spool = tempfile::tempdir().unwrap();
    let mut batches = Vec::new();
    let streamed = {
        let mut dec = decode::StreamDecoder::new(opts, spool.path().to_owned(), |b| {
            batches.push(b);
            Ok(())
        })
        .with_segment_bytes(1);
        body.chunks(opts.batch_rows + 2).try_for_each(|c| dec.feed(c)).and_then(|()| dec.finish())
    };
    prop_assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0, "a spool file was left");
    // The two-thread decoder hunt runs: exactly the single-thread outcome at the same (default)
    // segment size, error message and offset included.
    let one = {
        let mut dec = decode::StreamDecoder::new(opts, spool.path().to_owned(), |_| Ok(()));
        body.chunks(opts.batch_rows + 2).try_for_each(|c| dec.feed(c)).and_then(|()| dec.finish())
    };
    let mut two_batches = Vec::new();
    let mut parts = body.chunks(opts.batch_rows + 2);
    let next = move || parts.next().map_or(decode::Next::End, decode::Next::Chunk);
    let two = decode::decode_stream(opts, spool.path().to_owned(), next, |b| {
        two_batches.push(b);
        Ok(())
    });
    prop_assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0, "a spool file was left");
    match (&one, &two) {
        (Ok(s), Ok(t)) => {
            prop_assert_eq!((s.rows, s.mismatched_cells), (t.rows, t.mismatched_cells));
            if streamed.is_ok() {
                prop_assert_eq!(&batches, &two_batches);
            }
        }
        (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
        (a, b) => prop_assert!(false, "one thread {:?}, two threads {:?}", a.is_ok(), b.is_ok()),
    }
    match (whole, &streamed) {
        (Ok(d), Ok(s)) => {
            prop_assert_eq!(&d.batches, &batches);
            prop_assert_eq!((d.rows, d.mismatched_cells), (s.rows, s.mismatched_cells));
            prop_assert_eq!(&d.columns, &s.columns);
        }
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => {
            let m = e.to_string();
            prop_assert!(
                m.contains("repeats `results`") || m.contains("schema is repeated"),
                "decoded whole but not streamed: {m}"
            );
        }
        (Err(e), Ok(_)) => prop_assert!(false, "streamed but not decoded whole: {e}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decode_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512), n in 1usize..6) {
        check_decode(&body, n)?;
    }

    #[test]
    fn decode_mutated_responses(
        body in mutated(vec![
            read("tests/fixtures/graph/runHuntingQuery.v1.0.response.example1.json"),
            read("tests/fixtures/graph/runHuntingQuery.v1.0.response.example2-timespan.json"),
            read("tests/fixtures/graph/runHuntingQuery.v1.0.response.annotated-block-PascalCaseSchema.json"),
            EVERY_TYPE.as_bytes().to_vec(),
        ]),
        n in 1usize..6,
    ) {
        check_decode(&body, n)?;
    }

    /// Well-shaped bodies with any cells: always decoded, one row per result.
    #[test]
    fn decode_shaped_bodies(body in shaped_body(), n in 1usize..6) {
        check_decode(body.as_bytes(), n)?;
        if let Some(v) = as_json(body.as_bytes()) {
            let rows = v.get("results").or(v.get("Results")).and_then(|r| r.as_array()).map(Vec::len);
            match decode::decode(body.as_bytes(), &DecodeOptions { batch_rows: n }) {
                Ok(d) => prop_assert_eq!(Some(d.rows), rows),
                Err(e) => prop_assert!(false, "a well-shaped body was refused: {e}\n{body}"),
            }
        }
    }
}

#[test]
fn decode_deep_nesting_in_a_dynamic_cell() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for cell in [deep.clone(), format!("{deep},1"), "[".repeat(10_000), format!("{{\"x\":{deep}}}")]
    {
        let body = format!(
            r#"{{"schema":[{{"name":"D","type":"Dynamic"}},{{"name":"S","type":"String"}}],"results":[{{"D":{cell}}},{{"S":{cell}}}]}}"#
        );
        check_decode(body.as_bytes(), 1).unwrap();
    }
}

#[test]
fn decode_results_before_schema_and_swapped_values() {
    for body in [
        r#"{"results":[{"A":1}],"schema":[{"name":"A","type":"Int64"}]}"#,
        r#"{"schema":[{"A":1}],"results":[{"name":"A","type":"Int64"}]}"#,
        r#"{"results":[{"name":"A","type":"Int64"}],"schema":[{"A":1}]}"#,
        r#"{"schema":[],"results":[],"schema":{"name":"A"}}"#,
        r#"{"schema":[{"name":"A"}],"Schema":[],"results":[{}],"Results":[{},{}]}"#,
        r#"{"schema":[["A","Int64"]],"results":[{"A":1}]}"#,
    ] {
        check_decode(body.as_bytes(), 1).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Error bodies and Retry-After
// ---------------------------------------------------------------------------------------------

/// About a hundred years.
const CENTURY: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

fn error_fixtures() -> Vec<Vec<u8>> {
    let mut v = files("tests/fixtures/graph", &[".json"]);
    v.retain(|b| b.windows(7).any(|w| w == b"\"error\""));
    v.push(
        br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x","error_codes":[7000215],"timestamp":"2026-01-01 00:00:00Z","trace_id":"t","correlation_id":"c"}"#
            .to_vec(),
    );
    v.push(b"<html><body>502 Bad Gateway</body></html>".to_vec());
    v
}

fn check_errors(body: &[u8]) -> Result<(), TestCaseError> {
    let env = parse_graph_envelope(body);
    let e = ServiceError::from_response(429, body, Some("r"), None, None, &Masks::none());
    prop_assert_eq!(e.request_id.as_deref(), Some("r"));
    if env.code.is_none() && env.message.is_none() {
        // An excerpt: at most 300 characters and an ellipsis.
        prop_assert!(e.message.chars().filter(|c| *c != '\\').count() <= 301 * 8);
    }
    // Whatever the body, the texts shown are one line without control characters, and cut.
    let entra = EntraError::from_response(400, body, &Masks::none());
    for text in [e.to_string(), entra.to_string()] {
        prop_assert!(!text.chars().any(char::is_control), "{text:?}");
        prop_assert!(text.chars().count() < 4 * 12 * MAX_PEER_TEXT, "{}", text.len());
    }
    // A 429 is throttling whatever its body says.
    let throttled = matches!(e.kind(), hunt::graph::retry::Kind::Throttled { .. });
    prop_assert!(throttled, "{:?}", e.kind());
    let _ = entra.hint();
    Ok(())
}

#[allow(clippy::disallowed_methods)] // std's `Instant + Duration` must not panic either
fn check_retry_after(value: &str, now: DateTime<Utc>) -> Result<(), TestCaseError> {
    if let Some(d) = parse_retry_after(value, now) {
        prop_assert!(d <= CENTURY, "Retry-After {value:?} gave {d:?}");
        // Callers add it to an instant.
        let _ = std::time::Instant::now() + d;
        let _ = tokio::time::Instant::now() + d;
    }
    Ok(())
}

/// Retry-After values: decimal seconds of every size, HTTP dates of any year.
fn retry_after_value() -> impl Strategy<Value = String> {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    prop_oneof![
        any::<f64>().prop_map(|f| f.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u32..400).prop_map(|e| format!("1e{e}")),
        prop::sample::select(vec![
            "1e400",
            "-0",
            "-0.0",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "infinity",
            "1e19",
            "1.8e19",
            "18446744073709551615",
            "18446744073709551616",
            "0.0000000001",
            "-1",
            " 10 ",
            "",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "Wed, 21 Oct 2015 07:28:00 +9959",
        ])
        .prop_map(str::to_owned),
        (
            prop::sample::select(days.to_vec()),
            1u32..32,
            prop::sample::select(months.to_vec()),
            -300_000i32..300_000,
            0u32..24,
            0u32..60,
            0u32..61
        )
            .prop_map(|(wd, d, m, y, h, mi, s)| format!(
                "{wd}, {d:02} {m} {y} {h:02}:{mi:02}:{s:02} GMT"
            )),
        text(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn errors_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check_errors(&body)?;
    }

    #[test]
    fn errors_mutated_bodies(body in mutated(error_fixtures())) {
        check_errors(&body)?;
    }

    #[test]
    fn errors_retry_after(value in retry_after_value(), now in instant()) {
        check_retry_after(&value, now)?;
    }
}

/// Found by `errors_retry_after`: `1e19` seconds was a Duration that overflows
/// `Instant::now() + d` in the executor's 429 handling; and far-future HTTP dates gave
/// thousands of years.
#[test]
fn regression_retry_after_beyond_a_century() {
    for v in ["1e19", "1e10", "1e300", "18446744073709551616", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        check_retry_after(v, now()).unwrap();
        assert_eq!(
            parse_retry_after(v, now()),
            Some(MAX_RETRY_AFTER),
            "{v}: a long wait is still a wait"
        );
    }
    for v in ["1e400", "NaN", "-1", "inf"] {
        assert_eq!(parse_retry_after(v, now()), None, "{v}");
    }
    assert_eq!(parse_retry_after("-0", now()), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", now()), Some(Duration::ZERO));
}

// ---------------------------------------------------------------------------------------------
// 3. Query files
// ---------------------------------------------------------------------------------------------

fn check_position(text: &str, line: usize, col: usize, what: &str) -> Result<(), TestCaseError> {
    let lines = text.split('\n').count();
    prop_assert!(line >= 1 && col >= 1, "{what}: line {line} col {col}");
    prop_assert!(line <= lines + 1, "{what}: line {line} of {lines}");
    Ok(())
}

fn check_query_files(text: &str) -> Result<(), TestCaseError> {
    match hunt::library::parse_kql_file(text, Path::new("fuzz.kql")) {
        Ok(q) => {
            prop_assert!(!q.id.is_empty());
            let _ = hunt::lint::lint_text(Path::new("fuzz.kql"), &q.kql, Some(&q), now());
        }
        Err(e) => check_position(text, e.line, e.col, &e.message)?,
    }
    match hunt::library::sentinel::parse_sentinel_yaml(text, Path::new("fuzz.yaml")) {
        Ok(p) => {
            for w in &p.warnings {
                check_position(text, w.line, w.col, &w.message)?;
            }
        }
        Err(e) => check_position(text, e.line, e.col, &e.message)?,
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn query_files_arbitrary_text(text in text()) {
        check_query_files(&text)?;
    }

    #[test]
    fn query_files_mutated_corpus(text in mutated_text([corpus_kql(), corpus_yaml()].concat())) {
        check_query_files(&text)?;
    }
}

/// Found by `query_files_arbitrary_text`: the YAML parser counts a lone `\r` as a line break,
/// so the "not valid YAML" warning of this 2-line file pointed at line 4.
#[test]
fn regression_yaml_warning_line_with_lone_carriage_returns() {
    for text in ["query: |\n  \r\\", "a: 1\r\rb: [\r", "x:\r\n  - [\r\r\r\n"] {
        check_query_files(text).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// 4. KQL: lexer, tables, code_only, window-sensitive operators, lint
// ---------------------------------------------------------------------------------------------

/// The 1-based line and character column of byte `offset`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

fn check_kql(text: &str) -> Result<(), TestCaseError> {
    let lexed = hunt::kql::lex(text);
    let mut last_end = 0;
    for t in &lexed.tokens {
        prop_assert!(t.pos.offset >= last_end, "tokens overlap at {}", t.pos.offset);
        prop_assert!(t.end() <= text.len() && !t.text.is_empty());
        prop_assert!(text.is_char_boundary(t.pos.offset) && text.is_char_boundary(t.end()));
        prop_assert_eq!(&text[t.pos.offset..t.end()], t.text);
        prop_assert_eq!((t.pos.line, t.pos.col), line_col(text, t.pos.offset));
        last_end = t.end();
    }
    for e in &lexed.errors {
        prop_assert!(e.pos.offset <= text.len() && text.is_char_boundary(e.pos.offset));
        prop_assert_eq!((e.pos.line, e.pos.col), line_col(text, e.pos.offset));
    }
    for table in hunt::kql::tables(text) {
        prop_assert!(text.contains(table.as_str()), "table {table:?} is not in the text");
    }
    let code = hunt::kql::code_only(text);
    prop_assert!(code.len() <= 2 * text.len() + 2);
    if let Some(op) = hunt::kql::window_sensitive_operator(text) {
        // Operators are matched in any case (`Distinct`).
        prop_assert!(code.to_ascii_lowercase().contains(op), "{op} is not in the code");
    }
    let line_lengths: Vec<usize> = text.split('\n').map(|l| l.chars().count()).collect();
    for f in hunt::lint::lint_text(Path::new("fuzz.kql"), text, None, now()) {
        prop_assert!(f.line >= 1 && f.line <= line_lengths.len(), "{f}");
        prop_assert!(f.col >= 1 && f.col <= line_lengths[f.line - 1] + 1, "{f}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn kql_arbitrary_text(text in text()) {
        check_kql(&text)?;
    }

    #[test]
    fn kql_mutated_corpus(text in mutated_text(corpus_kql())) {
        check_kql(&text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// 4b. KQL parser (kql::syntax)
// ---------------------------------------------------------------------------------------------

/// Words and punctuation of KQL, for token soups that get further into the grammar than bytes.
const KQL_WORDS: [&str; 48] = [
    "T",
    "x",
    "|",
    "where",
    "summarize",
    "by",
    "project",
    "extend",
    "join",
    "kind=inner",
    "on",
    "mv-apply",
    "mv-expand",
    "union",
    "let",
    "=",
    ";",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "and",
    "or",
    "==",
    "!in",
    "~",
    "between",
    "..",
    "has_any",
    "'s'",
    "1",
    "1d",
    "datetime(",
    "dynamic(",
    "datatable(a:int)",
    "*",
    "-",
    ".",
    "$left",
    "sort",
    "top",
    "take",
    "print",
    "\n",
    ":",
];

/// A soup of up to 80 KQL words.
fn kql_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(KQL_WORDS.to_vec()), 0..80).prop_map(|v| v.join(" "))
}

/// Nesting of every kind the parser recurses on, up to 20,000 deep.
fn kql_deep() -> impl Strategy<Value = String> {
    (prop::sample::select(vec!["(", "-", "f(", "[", "(T | where ", "x in (", "{"]), 0usize..20_000)
        .prop_map(|(open, n)| format!("print {}1", open.repeat(n)))
}

fn check_syntax(text: &str) -> Result<(), TestCaseError> {
    let parsed = hunt::kql::syntax::parse(text);
    prop_assert!(parsed.script.is_some() == parsed.errors.is_empty());
    for e in &parsed.errors {
        prop_assert!(e.offset <= text.len(), "{e}");
        let mut at = e.offset;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        prop_assert_eq!((e.line, e.col), line_col(text, at), "{}", e);
        prop_assert!(!e.message.is_empty());
    }
    if let Some(script) = &parsed.script {
        for st in &script.statements {
            if let hunt::kql::syntax::tree::Statement::Query(q) = st {
                let span = q.span();
                prop_assert!(span.start <= span.end && span.end <= text.len());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn syntax_arbitrary_text(text in text()) {
        check_syntax(&text)?;
    }

    #[test]
    fn syntax_kql_soup(text in kql_soup()) {
        check_syntax(&text)?;
    }

    #[test]
    fn syntax_deep_nesting(text in kql_deep()) {
        check_syntax(&text)?;
    }

    #[test]
    fn syntax_mutated_corpus(text in mutated_text([corpus_kql(), corpus_yaml()].concat())) {
        check_syntax(&text)?;
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Cron and timespans
// ---------------------------------------------------------------------------------------------

fn cron_field() -> impl Strategy<Value = String> {
    let num = prop_oneof![0u64..100, any::<u64>()].prop_map(|n| n.to_string());
    let atom = prop_oneof![
        Just("*".to_owned()),
        Just("?".to_owned()),
        num.clone(),
        (num.clone(), num.clone()).prop_map(|(a, b)| format!("{a}-{b}")),
        prop::sample::select(vec![
            "L", "W", "#", "MON", "jan", "SUN-SAT", "15W", "5L", "5#3", "LW"
        ])
        .prop_map(str::to_owned),
    ];
    (atom, prop::option::of(num)).prop_map(|(a, step)| match step {
        Some(s) => format!("{a}/{s}"),
        None => a,
    })
}

fn cron_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(prop::collection::vec(cron_field(), 1..3).prop_map(|v| v.join(",")), 5..=6)
            .prop_map(|v| v.join(" ")),
        1 => prop::collection::vec(cron_field(), 0..8).prop_map(|v| v.join(" ")),
        1 => prop::sample::select(vec!["@hourly", "@DAILY", "@weekly", "@yearly", "@reboot", "@", "0 0 30 2 *", "0 0 31 */2 *", "0 0 29 2 1"])
            .prop_map(str::to_owned),
        1 => text(),
    ]
}

fn check_cron(expr: &str, t: DateTime<Utc>) -> Result<(), TestCaseError> {
    if let Ok(c) = hunt::cron::Cron::parse(expr) {
        prop_assert_eq!(c.as_str(), expr.trim());
        if let Some(next) = c.next_after(t) {
            prop_assert!(next > t);
            prop_assert!(c.next_after(next).is_none_or(|n| n > next));
        }
    }
    Ok(())
}

fn duration_text() -> impl Strategy<Value = String> {
    let n = prop_oneof![0u64..100, any::<u64>(), Just(99_999_999), Just(u64::MAX)];
    let unit = prop::sample::select(vec!["ns", "us", "ms", "s", "m", "h", "d", "w", "y", "M", ""]);
    let iso_unit = prop::sample::select(vec!["D", "W", "H", "M", "S", "Y", "T"]);
    prop_oneof![
        prop::collection::vec((n.clone(), unit), 1..4)
            .prop_map(|v| v.iter().map(|(n, u)| format!("{n}{u}")).collect::<String>()),
        (
            prop::option::of(Just("-")),
            prop::collection::vec((n.clone(), iso_unit, prop::option::of(0u32..1000)), 1..4)
        )
            .prop_map(|(neg, v)| {
                let body: String = v
                    .iter()
                    .map(|(n, u, frac)| match frac {
                        Some(f) => format!("{n}.{f}{u}"),
                        None => format!("{n}{u}"),
                    })
                    .collect();
                format!("{}P{body}", neg.unwrap_or(""))
            }),
        prop::sample::select(vec![
            "P99999999D",
            "PT9999999999999H",
            "P1DT",
            "PT",
            "P",
            "1h30m",
            "1d12h",
            "PT0.5S",
            "PT0S",
            "0",
            "P1W",
            "P-1D",
            "PT1.H",
            "1e9s",
            "P1D1D",
            "PT1H1H"
        ])
        .prop_map(str::to_owned),
    ]
}

fn datetime_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![0i64..10_000, -300_000i64..300_000],
        0u32..14,
        0u32..33,
        0u32..26,
        0u32..62,
        0u32..62,
        prop::option::of("[0-9]{0,12}"),
        prop::sample::select(vec!["Z", "", "+00:00", "-23:59", "+99:99", "+0530", "z", " "]),
        any::<bool>(),
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, zone, basic)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            if basic {
                format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}{frac}{zone}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
            }
        })
}

fn timespan_text() -> impl Strategy<Value = String> {
    prop_oneof![
        duration_text(),
        datetime_text(),
        (datetime_text(), datetime_text()).prop_map(|(a, b)| format!("{a}/{b}")),
        (datetime_text(), duration_text()).prop_map(|(a, b)| format!("{a}/{b}")),
        (duration_text(), datetime_text()).prop_map(|(a, b)| format!("{a}/{b}")),
        text(),
    ]
}

fn check_timespans(s: &str, now: DateTime<Utc>) -> Result<(), TestCaseError> {
    if let Ok(w) = hunt::timespan::Window::parse(s, now) {
        prop_assert!(w.start < w.end, "{s:?}: {w:?}");
        let _ = (w.to_graph(), w.file_stem(), w.len());
    }
    if let Ok(d) = hunt::timespan::parse_duration(s) {
        prop_assert!(d > chrono::Duration::zero(), "{s:?}: {d:?}");
        let _ = hunt::timespan::format_duration(d);
    }
    if let Ok(d) = hunt::timespan::parse_duration_allow_zero(s) {
        prop_assert!(d >= chrono::Duration::zero(), "{s:?}: {d:?}");
    }
    if let Ok(t) = hunt::timespan::parse_datetime(s) {
        let _ = (hunt::timespan::format_datetime(t), hunt::timespan::graph_datetime(t));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn cron_expressions(expr in cron_expr(), t in instant()) {
        check_cron(&expr, t)?;
    }

    #[test]
    fn timespans_structured(s in timespan_text(), now in instant()) {
        check_timespans(&s, now)?;
    }

    #[test]
    fn timespans_mutated(s in mutated_text(vec![
        b"P7D".to_vec(), b"PT6H".to_vec(), b"P1DT6H".to_vec(), b"1h30m".to_vec(),
        b"2026-11-01T00:00:00Z/2026-11-02T00:00:00Z".to_vec(),
        b"2026-11-22T10:00:00.1234567+00:00/P1D".to_vec(), b"P1D/20261122T100000Z".to_vec(),
    ]), now in instant()) {
        check_timespans(&s, now)?;
    }
}

// ---------------------------------------------------------------------------------------------
// 6. The emulator's KQL evaluator
// ---------------------------------------------------------------------------------------------

fn emulator_context() -> hunt::emulator::kql::Context {
    // One hour of 60 events per hour per table, "now" at its end.
    let start = hunt::emulator::kql::parse_datetime("2026-11-20").unwrap();
    let hour = 36_000_000_000;
    hunt::emulator::kql::Context {
        window: (start, start + hour),
        now: start + hour,
        events_per_hour: 60,
        externaldata: Default::default(),
        sentinel_streamed: false,
        tenant: 0,
    }
}

fn check_emulator(query: &str) -> Result<(), TestCaseError> {
    if let Ok(set) = hunt::emulator::kql::execute(query, &emulator_context()) {
        let width = set.columns.len();
        for row in set.rows.take(500) {
            prop_assert_eq!(row.len(), width);
        }
    }
    Ok(())
}

fn emulator_seeds() -> Vec<Vec<u8>> {
    let mut seeds = files("queries", &[".kql"]);
    seeds.extend(
        [
            "DeviceProcessEvents | where Timestamp > ago(1h) | summarize count(), dcount(DeviceName), min(Timestamp), max(Timestamp), avg(ProcessId), sum(ProcessId), countif(FileName == 'x') by DeviceName | order by count_ desc | top 3 by DeviceName",
            "DeviceNetworkEvents | project-rename R = RemotePort | extend X = R * 2 - 1 / 0 | project-away R | distinct X | take 5",
            "AlertInfo | where Severity in~ ('High','x') and Title has_any ('a') or not(isnull(Title)) | sort by Timestamp asc | limit 10 | count",
        ]
        .map(|q| q.as_bytes().to_vec()),
    );
    seeds
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn emulator_mutated_queries(query in mutated_text(emulator_seeds())) {
        check_emulator(&query)?;
    }

    #[test]
    fn emulator_arbitrary_text(query in text()) {
        check_emulator(&query)?;
    }
}

/// Found by a mutation that repeated `{}` rows under a schema repeated many times: an empty row
/// (`{}`, 3 bytes) costs a cell in every column, so a body of 20,000 columns and 20,000 empty
/// rows (709 KB) made 4,096-row batches of 667 MB (1.4 GB resident). Batches now hold at most
/// 2^20 cells; landing (`decode_each`) stays bounded whatever the body.
#[test]
fn regression_wide_and_tall_body_makes_small_batches() {
    let (cols, rows) = (4_000, 4_000);
    let schema: Vec<String> =
        (0..cols).map(|i| format!(r#"{{"name":"C{i}","type":"Int64"}}"#)).collect();
    let body = format!(
        r#"{{"schema":[{}],"results":[{}]}}"#,
        schema.join(","),
        vec!["{}"; rows].join(",")
    );
    let (mut largest, mut total) = (0, 0);
    let d = decode::decode_each(body.as_bytes(), &DecodeOptions::default(), |b| {
        assert!(b.num_rows() * b.num_columns() <= 1 << 20, "{} rows", b.num_rows());
        largest = largest.max(b.get_array_memory_size());
        total += b.num_rows();
        Ok(())
    })
    .unwrap();
    assert_eq!((d.rows, total), (rows, rows));
    assert!(largest <= 16 << 20, "a batch of {largest} bytes from a body of {}", body.len());
}
