//! The emulator over the corpus of real public hunting queries (`tests/fixtures/corpus`, split
//! into queries the way hunt loads them): how many it answers, how many of those with rows, and
//! why it refuses the rest. Prints the figures (issue 15's measure) and holds a floor.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use hunt::emulator::kql::{Context, execute, parse_datetime};

/// Queries that must run (of 79), and of those with rows: raised as the emulator learns more.
const FLOOR_RUN: usize = 53;
const FLOOR_ROWS: usize = 31;

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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let loaded = hunt::library::load(std::slice::from_ref(&dir.to_path_buf()));
    let start = parse_datetime("2026-11-20").unwrap();
    let day = 24 * 36_000_000_000;
    // P1D at the emulator's default density.
    let ctx =
        Context { window: (start, start + day), now: start + day, events_per_hour: 360, tenant: 0 };
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
    println!(
        "emulator corpus: {ran} of {total} queries run, {with_rows} with rows, in {:.2?} (slowest {:.3}s: {})",
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
    assert!(total >= 79, "{total} queries loaded");
    assert!(ran >= FLOOR_RUN, "{ran} of {total} ran, floor {FLOOR_RUN}");
    assert!(with_rows >= FLOOR_ROWS, "{with_rows} with rows, floor {FLOOR_ROWS}");
}
