//! Landing tests: decoding while writing, whole or streamed bodies, cuts and the row cap.
use super::*;

fn body(rows: usize) -> String {
    let rows: Vec<String> = (0..rows)
        .map(|i| {
            // Rows over two days, so two files.
            let day = 20 + i % 2;
            format!(r#"{{"Timestamp":"2026-11-{day}T10:00:00.{i:07}Z","N":{i},"S":"r{i}"}}"#)
        })
        .collect();
    format!(
        r#"{{"schema":[{{"name":"Timestamp","type":"DateTime"}},{{"name":"N","type":"Int64"}},{{"name":"S","type":"String"}}],"results":[{}]}}"#,
        rows.join(",")
    )
}

fn meta() -> FileMeta {
    let t = |s| crate::timespan::parse_datetime(s).unwrap();
    FileMeta {
        query_id: "q".into(),
        query_hash: "0".repeat(64),
        window: Window { start: t("2026-11-20T00:00:00Z"), end: t("2026-11-22T00:00:00Z") },
        tenant: None,
        complete: true,
        request_ids: vec!["r".into()],
    }
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() { stack.push(e.path()) } else { found.push(e.path()) }
        }
    }
    found.sort();
    found
}

/// What landing in a local folder made of a body.
enum Local {
    Cut(usize),
    Files { rows: usize, files: Vec<crate::output::Written>, complete: bool },
}

/// How [`land_in`] hands the body over.
#[derive(Clone, Copy)]
enum Feed {
    Whole,
    /// Streamed in chunks of this size.
    Chunks(usize),
    /// Streamed in chunks of this size, and the stream ends without its end mark (cut).
    CutChunks(usize),
}

fn land_in(
    out: &std::path::Path,
    body: &[u8],
    opts: &DecodeOptions,
    max_rows: u64,
    splittable: bool,
) -> Result<Local, Failure> {
    land_fed(out, body, Feed::Whole, opts, max_rows, splittable)
}

/// [`decode_and_write`] into the folder `out`, and the staged files put in place.
fn land_fed(
    out: &std::path::Path,
    body: &[u8],
    feed: Feed,
    opts: &DecodeOptions,
    max_rows: u64,
    splittable: bool,
) -> Result<Local, Failure> {
    let dest = Destination::local(out).unwrap();
    let sink_opts = sink::SinkOptions::default();
    let meta = meta();
    let to = Writing {
        staging: Some(dest.staging()),
        sink_opts: &sink_opts,
        meta: &meta,
        keep: false,
        sample: 0,
    };
    let spool = out.join("spool");
    let source = match feed {
        Feed::Whole => Source::Whole(body),
        Feed::Chunks(size) | Feed::CutChunks(size) => {
            let pieces: Vec<&[u8]> = body.chunks(size).collect();
            let (tx, rx) = tokio::sync::mpsc::channel(pieces.len() + 1);
            for piece in pieces {
                tx.try_send(Some(bytes::Bytes::copy_from_slice(piece))).unwrap();
            }
            if matches!(feed, Feed::Chunks(_)) {
                tx.try_send(None).unwrap();
            }
            Source::Chunks { rx, spool }
        }
    };
    match decode_and_write(source, opts, &to, max_rows, splittable)? {
        Landed::Cut { rows } => Ok(Local::Cut(rows)),
        Landed::Staged { rows, staged, complete, .. } => {
            Ok(Local::Files { rows, files: dest.publish_local(staged).unwrap(), complete })
        }
    }
}

#[test]
fn decoding_while_writing_lands_what_decoding_then_writing_lands() {
    let body = body(10_000);
    let opts = DecodeOptions { batch_rows: 256 };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let streamed = match land_in(a.path(), body.as_bytes(), &opts, 100_000, true) {
        Ok(Local::Files { rows, files, complete: true }) => (rows, files),
        _ => panic!("not landed"),
    };
    let decoded = decode::decode(body.as_bytes(), &opts).unwrap();
    let whole = sink::write(b.path(), &decoded, &meta()).unwrap();
    assert_eq!(streamed.0, 10_000);
    assert_eq!(streamed.1.len(), 2);
    let read = |p: &std::path::Path| -> Vec<arrow_array::RecordBatch> {
        let f = std::fs::File::open(p).unwrap();
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    for (s, w) in streamed.1.iter().zip(&whole) {
        assert_eq!((s.date, s.rows), (w.date, w.rows));
        let concat = |bs: Vec<arrow_array::RecordBatch>| {
            arrow_select::concat::concat_batches(&bs[0].schema(), &bs).unwrap()
        };
        let path = |w: &crate::output::Written| std::path::PathBuf::from(&w.location);
        assert_eq!(concat(read(&path(s))), concat(read(&path(w))));
    }
}

#[test]
fn a_cut_or_capped_response_leaves_no_file_behind() {
    let body = body(2_000);
    let opts = DecodeOptions { batch_rows: 100 };
    let out = tempfile::tempdir().unwrap();
    for cut in (0..body.len()).step_by(997) {
        let r = land_in(out.path(), &body.as_bytes()[..cut], &opts, 100_000, true);
        assert!(matches!(r, Err(Failure::Decode { .. })), "cut at {cut}");
    }
    // At the row cap and still splittable: nothing kept.
    let r = land_in(out.path(), body.as_bytes(), &opts, 2_000, true);
    assert!(matches!(r, Ok(Local::Cut(2_000))));
    assert_eq!(files(out.path()), Vec::<std::path::PathBuf>::new());
    // At the row cap and not splittable: kept, marked incomplete.
    let r = land_in(out.path(), body.as_bytes(), &opts, 2_000, false);
    assert!(matches!(r, Ok(Local::Files { complete: false, .. })));
    assert_eq!(files(out.path()).len(), 2);
}

/// The file bytes under `dir`, by relative path.
fn contents(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    files(dir)
        .into_iter()
        .map(|p| (p.strip_prefix(dir).unwrap().to_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn a_streamed_body_lands_the_same_files_as_a_whole_one_in_both_orders() {
    let schema_first = body(3_000);
    let (head, rest) = schema_first.split_once(r#","results":"#).unwrap();
    let results_first = format!(r#"{{"results":{},{}}}"#, &rest[..rest.len() - 1], &head[1..]);
    let opts = DecodeOptions { batch_rows: 256 };
    for body in [&schema_first, &results_first] {
        let whole = tempfile::tempdir().unwrap();
        assert!(matches!(
            land_in(whole.path(), body.as_bytes(), &opts, 100_000, true),
            Ok(Local::Files { rows: 3_000, complete: true, .. })
        ));
        for size in [1, 4_099, 1 << 20] {
            let streamed = tempfile::tempdir().unwrap();
            let r = land_fed(
                streamed.path(),
                body.as_bytes(),
                Feed::Chunks(size),
                &opts,
                100_000,
                true,
            );
            assert!(matches!(r, Ok(Local::Files { rows: 3_000, complete: true, .. })));
            assert_eq!(contents(streamed.path()), contents(whole.path()), "chunks of {size}");
        }
        // At the row cap, splittable: nothing kept, as from a whole body.
        let out = tempfile::tempdir().unwrap();
        let r = land_fed(out.path(), body.as_bytes(), Feed::Chunks(777), &opts, 3_000, true);
        assert!(matches!(r, Ok(Local::Cut(3_000))));
        assert!(files(out.path()).is_empty());
    }
}

#[test]
fn a_stream_that_ends_without_its_end_leaves_no_file() {
    let schema_first = body(2_000);
    let (head, rest) = schema_first.split_once(r#","results":"#).unwrap();
    let results_first = format!(r#"{{"results":{},{}}}"#, &rest[..rest.len() - 1], &head[1..]);
    let opts = DecodeOptions { batch_rows: 64 };
    let out = tempfile::tempdir().unwrap();
    for body in [&schema_first, &results_first] {
        for cut in (0..=body.len()).step_by(1_999) {
            let r = land_fed(
                out.path(),
                &body.as_bytes()[..cut],
                Feed::CutChunks(500),
                &opts,
                100_000,
                true,
            );
            assert!(matches!(r, Err(Failure::Decode { .. })), "cut at {cut}");
            // Even the whole body, without the end mark, is not taken as complete.
            let r =
                land_fed(out.path(), body.as_bytes(), Feed::CutChunks(500), &opts, 100_000, true);
            assert!(matches!(r, Err(Failure::Decode { .. })));
        }
    }
    assert_eq!(files(out.path()), Vec::<std::path::PathBuf>::new());
}
