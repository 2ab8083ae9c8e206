//! Micro benchmark for issue 6: how fast hunt turns a saved `runHuntingQuery` body into Parquet,
//! phase by phase, next to the raw JSON-parse speed of the same bytes.
//!
//! ```sh
//! cargo run --release --example decode_bench -- RESPONSE.json
//! ```
//!
//! Each figure is the best of 3 runs, in MB/s of the response's JSON bytes (1 MB = 10^6 bytes),
//! so the phases compare directly:
//! - `parse (IgnoredAny)`: `serde_json` walking the bytes and discarding them: the parse limit;
//! - `parse (Value)`: `serde_json` building a full JSON tree (what `json.load` does);
//! - `hunt::decode::decode`: JSON to typed Arrow batches;
//! - `StreamDecoder (64 KB)`: the same, pushed in 64 KB chunks through the streaming decoder;
//! - `decode_stream, 2 threads`: the same, scanned on a second thread, as `hunt run` does;
//! - `hunt::output::sink::write`: those batches to zstd Parquet (in a temporary folder);
//! - `decode + write`: the two back to back (hunt's CPU work per response, HTTP aside).
//!
//! Not part of `cargo test`; `bash bench/run.sh` runs it.

// A benchmark measures real time.
#![allow(clippy::disallowed_methods)]

use hunt::decode::{DecodeOptions, Decoded, Next, StreamDecoder, decode, decode_stream};
use hunt::output::sink::{FileMeta, write};
use hunt::timespan::Window;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best: Option<(Duration, T)> = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = f();
        let took = t.elapsed();
        if best.as_ref().is_none_or(|(b, _)| took < *b) {
            best = Some((took, out));
        }
    }
    best.expect("RUNS > 0")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: decode_bench RESPONSE.json")?;
    let body = std::fs::read(&path)?;
    let mb = body.len() as f64 / 1e6;
    let scratch = tempfile::tempdir()?;
    let window = Window::parse("2026-05-01T00:00:00Z/2026-05-02T00:00:00Z", chrono::Utc::now())?;
    let meta = FileMeta {
        query_id: "bench".into(),
        query_hash: "0".repeat(64),
        window,
        tenant: None,
        complete: true,
        request_ids: vec!["bench".into()],
    };
    let opts = DecodeOptions::default();

    println!("decode_bench: {path}: {mb:.1} MB, best of {RUNS}");
    let line = |what: &str, took: Duration, note: String| {
        let s = took.as_secs_f64();
        println!("  {what:<24} {s:>7.3} s {:>8.0} MB/s  {note}", mb / s);
    };

    let (t, _) = best(|| serde_json::from_slice::<serde::de::IgnoredAny>(&body).map(drop));
    line("parse (IgnoredAny)", t, "the JSON-parse limit".into());
    let (t, _) = best(|| serde_json::from_slice::<serde_json::Value>(&body).map(drop));
    line("parse (Value)", t, "a full JSON tree, like json.load".into());

    let (t, decoded) = best(|| decode(&body, &opts));
    let decoded: Decoded = decoded?;
    let arrow: usize = decoded.batches.iter().map(|b| b.get_array_memory_size()).sum();
    line(
        "hunt::decode::decode",
        t,
        format!("{} rows, {:.1} MB of Arrow arrays", decoded.rows, arrow as f64 / 1e6),
    );

    // The streaming decoder over 64 KB chunks, batches dropped as they come (the scan, the
    // copy into segments and the same row decoder): what streaming costs over `decode`.
    let (t, rows) = best(|| -> Result<usize, Box<dyn std::error::Error>> {
        let mut dec = StreamDecoder::new(&opts, scratch.path().to_owned(), |b| {
            drop(b);
            Ok(())
        });
        for chunk in body.chunks(64 << 10) {
            dec.feed(chunk)?;
        }
        Ok(dec.finish()?.rows)
    });
    line("StreamDecoder (64 KB)", t, format!("{} rows, batches dropped", rows?));

    // What `hunt run` does: the scan on one thread, the row decoder on this one.
    let (t, rows) = best(|| -> Result<usize, Box<dyn std::error::Error>> {
        let mut chunks = body.chunks(64 << 10);
        let next = move || chunks.next().map_or(Next::End, Next::Chunk);
        Ok(decode_stream(&opts, scratch.path().to_owned(), next, |b| {
            drop(b);
            Ok(())
        })?
        .rows)
    });
    line("decode_stream, 2 threads", t, format!("{} rows, batches dropped", rows?));

    let mut run = 0;
    let mut next_dir = || {
        run += 1;
        scratch.path().join(format!("w{run}"))
    };
    let (t, written) = best(|| write(&next_dir(), &decoded, &meta));
    let written = written?;
    let parquet: u64 = written.iter().map(|w| w.bytes).sum();
    line(
        "hunt::output::sink::write",
        t,
        format!("{} file(s), {:.1} MB Parquet", written.len(), parquet as f64 / 1e6),
    );
    drop(decoded);

    let (t, rows) = best(|| -> Result<usize, Box<dyn std::error::Error>> {
        let d = decode(&body, &opts)?;
        write(&next_dir(), &d, &meta)?;
        Ok(d.rows)
    });
    line("decode + write", t, format!("{} rows", rows?));
    Ok(())
}
