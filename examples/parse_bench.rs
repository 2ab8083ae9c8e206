//! Benchmark for issue 14: how long hunt's KQL parser takes over the corpus of real hunting
//! queries (`tests/fixtures/corpus`, split into its independent queries as `hunt` loads them),
//! and how long `hunt validate`'s checks take on top.
//!
//! ```sh
//! cargo run --release --example parse_bench [-- PATH…]
//! ```
//!
//! Prints the number of queries and bytes, then the best and median of 20 passes over all of
//! them for `kql::syntax::parse` alone and for `lint::lint_loaded` (parse, tree checks, schema
//! checks). The goal is under 50 ms a pass. Not part of `cargo test`.

// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

const PASSES: usize = 20;

fn passes(mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..PASSES)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[PASSES / 2])
}

fn main() {
    let mut paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        paths.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus"));
    }
    let loaded = hunt::library::load(&paths);
    let bytes: usize = loaded.queries.iter().map(|q| q.kql.len()).sum();
    let rejected =
        loaded.queries.iter().filter(|q| hunt::kql::syntax::parse(&q.kql).script.is_none()).count();
    println!(
        "{} queries, {} KB of KQL ({rejected} the parser rejects)",
        loaded.queries.len(),
        bytes / 1024
    );
    let (best, median) = passes(|| {
        for q in &loaded.queries {
            std::hint::black_box(hunt::kql::syntax::parse(&q.kql));
        }
    });
    println!(
        "parse, all queries:          best {:>6.2} ms, median {:>6.2} ms (goal: under 50 ms)",
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3
    );
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_default();
    let (best, median) = passes(|| {
        std::hint::black_box(hunt::lint::lint_loaded(&loaded, now));
    });
    println!(
        "validate checks, all queries: best {:>6.2} ms, median {:>6.2} ms",
        best.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3
    );
}
