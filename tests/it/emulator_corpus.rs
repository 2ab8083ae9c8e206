//! The emulator over the corpus of real public hunting queries (`tests/fixtures/corpus`, split
//! into queries the way hunt loads them): how many it answers, how many of those with rows, and
//! why it refuses the rest. Prints the figures (issue 15's measure) and holds a floor.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use hunt::emulator::kql::{Context, execute, parse_datetime};

/// Queries that must run (of 79), and of those with rows: raised as the emulator learns more.
const FLOOR_RUN: usize = 70;
const FLOOR_ROWS: usize = 40;
/// The same on tables as streamed to Microsoft Sentinel (`hunt emulator --sentinel-streamed`:
/// `TimeGenerated` besides `Timestamp`), which many public queries written for Sentinel use.
const FLOOR_RUN_STREAMED: usize = 78;
const FLOOR_ROWS_STREAMED: usize = 43;

/// The corpus's `externaldata` URLs, each answered from a small local stand-in under
/// `tests/fixtures/externaldata/` (as `hunt emulator --externaldata URL=PATH` does).
fn externaldata() -> BTreeMap<String, std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/externaldata");
    [
        (
            "https://raw.githubusercontent.com/alexverboon/MDATP/master/AdvancedHunting/Exchange/exchnage_versions.csv",
            "exchange_versions.csv",
        ),
        ("https://raw.githubusercontent.com/stamparm/ipsum/master/levels/4.txt", "ipsum_level4.txt"),
        ("https://bazaar.abuse.ch/export/txt/sha256/recent/", "bazaar_sha256_recent.txt"),
        (
            "https://www.cisa.gov/sites/default/files/csv/known_exploited_vulnerabilities.csv",
            "known_exploited_vulnerabilities.csv",
        ),
        (
            "https://raw.githubusercontent.com/openphish/public_feed/refs/heads/main/feed.txt",
            "openphish_feed.txt",
        ),
    ]
    .into_iter()
    .map(|(url, file)| (url.to_owned(), dir.join(file)))
    .collect()
}

/// A refusal's reason without what varies from query to query (the list of what is supported).
fn reason(message: &str) -> String {
    let m = message.split(" (supported:").next().unwrap_or(message);
    let m = match m.find(" on line [") {
        Some(i) => &m[..i],
        None => m,
    };
    m.chars().take(110).collect()
}

#[test]
fn corpus_queries_on_the_emulator() {
    let (ran, with_rows, total) = measure(false);
    assert!(total >= 79, "{total} queries loaded");
    assert!(ran >= FLOOR_RUN, "{ran} of {total} ran, floor {FLOOR_RUN}");
    assert!(with_rows >= FLOOR_ROWS, "{with_rows} with rows, floor {FLOOR_ROWS}");
    let (ran, with_rows, _) = measure(true);
    assert!(ran >= FLOOR_RUN_STREAMED, "streamed: {ran} of {total} ran");
    assert!(with_rows >= FLOOR_ROWS_STREAMED, "streamed: {with_rows} with rows");
}

/// Runs the corpus, prints the figures and refusals; (ran, with rows, queries).
fn measure(sentinel_streamed: bool) -> (usize, usize, usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let loaded = hunt::library::load(std::slice::from_ref(&dir.to_path_buf()));
    let start = parse_datetime("2026-11-20").unwrap();
    let day = 24 * 36_000_000_000;
    // P1D at the emulator's default density.
    let ctx = Context {
        window: (start, start + day),
        now: start + day,
        events_per_hour: 360,
        externaldata: std::sync::Arc::new(externaldata()),
        sentinel_streamed,
        tenant: 0,
    };
    let (mut ran, mut with_rows) = (0, 0);
    let mut empty = Vec::new();
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let started = Instant::now();
    let mut slowest = (0.0f64, String::new());
    for q in &loaded.queries {
        let t = Instant::now();
        match execute(&q.kql, &ctx) {
            Ok(set) => {
                ran += 1;
                if set.rows.take(100_000).count() > 0 {
                    with_rows += 1;
                } else {
                    empty.push(q.id.clone());
                }
            }
            Err(e) => reasons.entry(reason(&e.message)).or_default().push(q.id.clone()),
        }
        let secs = t.elapsed().as_secs_f64();
        if secs > slowest.0 {
            slowest = (secs, q.id.clone());
        }
    }
    let total = loaded.queries.len();
    let tables = if sentinel_streamed { "tables streamed to Sentinel" } else { "default tables" };
    println!(
        "emulator corpus ({tables}): {ran} of {total} queries run, {with_rows} with rows, in {:.2?} (slowest {:.3}s: {})",
        started.elapsed(),
        slowest.0,
        slowest.1
    );
    println!("  ran without rows: {}", empty.join(", "));
    let mut by_count: Vec<_> = reasons.into_iter().collect();
    by_count.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    for (reason, ids) in &by_count {
        let more = if ids.len() > 3 { ", …" } else { "" };
        println!("  {:>3}  {reason}   [{}{more}]", ids.len(), ids[..ids.len().min(3)].join(", "));
    }
    (ran, with_rows, total)
}

/// `externaldata` over HTTP: a URL mapped to a local file (`hunt emulator --externaldata`) is
/// answered from it; an unmapped one is a 400 that names the URL.
#[test]
fn externaldata_is_read_from_the_mapped_file() {
    use crate::util::TestEnv;
    use hunt::emulator::EmulatorConfig;
    let url = "https://raw.githubusercontent.com/stamparm/ipsum/master/levels/4.txt";
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/externaldata/ipsum_level4.txt");
    let config = EmulatorConfig {
        externaldata: [(url.to_owned(), file)].into_iter().collect(),
        ..EmulatorConfig::default()
    };
    let env = TestEnv::with(config);
    // The file: a comment line (skipped by ignoreFirstRecord), then 4 addresses.
    env.query(
        "feed.kql",
        &format!("externaldata(ip: string) [@'{url}'] with (format='txt', ignoreFirstRecord=true)"),
    );
    let window = "2026-11-20T00:00:00Z/PT1H";
    let run = env.hunt(&["run", "queries/feed.kql", "--out", "out", "--timespan", window], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows = run
        .stdout
        .lines()
        .find(|l| l.starts_with("feed"))
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned());
    assert_eq!(rows.as_deref(), Some("4"), "{run:?}");
    env.query("other.kql", "externaldata(ip: string) [@'https://example.com/other.txt']");
    let run = env.hunt(&["run", "queries/other.kql", "--out", "out", "--timespan", window], &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(format!("{run:?}").contains("https://example.com/other.txt"), "{run:?}");
}
