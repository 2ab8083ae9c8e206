//! Streaming decoder tests beyond the buffered decoder's (each of which also runs the streaming
//! decoder, see `tests::decode`): large bodies in both key orders at awkward chunk and segment
//! sizes, cuts at every byte, and the cases where the streaming decoder must refuse a body.

use super::tests::{decode_both as decode, many_rows_of_every_type, same_outcome, stream_decode};
use super::*;

/// `body` with `results` moved after `schema`.
fn schema_first(body: &str) -> String {
    let at = body.find(r#"],"schema":"#).expect("results first");
    let results = &body[r#"{"results":"#.len()..=at];
    let schema = &body[at + r#"],"schema":"#.len()..body.len() - 1];
    format!(r#"{{"@odata.context":"x","schema":{schema},"results":{results}}}"#)
}

#[test]
fn large_bodies_in_both_orders_stream_to_the_same_values() {
    let results_first = many_rows_of_every_type(3_000);
    let schema_first = schema_first(&results_first);
    let opts = DecodeOptions { batch_rows: 100 };
    for body in [&results_first, &schema_first] {
        let whole = super::decode(body.as_bytes(), &opts);
        assert_eq!(whole.as_ref().unwrap().rows, 3_000);
        for (chunk, segment) in [(1, 1), (1, 4_096), (13, 777), (8_192, 1), (8_192, SEGMENT_BYTES)]
        {
            let streamed = stream_decode(body.as_bytes(), &opts, chunk, segment);
            same_outcome(&whole, &streamed, &format!("{chunk}/{segment}"), body.as_bytes());
        }
    }
}

#[test]
fn a_cut_body_fails_at_every_byte_in_both_orders() {
    let results_first = many_rows_of_every_type(12);
    let schema_first = schema_first(&results_first);
    let opts = DecodeOptions { batch_rows: 4 };
    for body in [results_first.as_bytes(), schema_first.as_bytes()] {
        for cut in 0..body.len() {
            for segment in [1, 200] {
                let r = stream_decode(&body[..cut], &opts, 5, segment);
                assert!(r.is_err(), "cut at {cut} of {} (segments {segment}) decoded", body.len());
            }
        }
    }
}

#[test]
fn empty_elements_between_commas_are_malformed_at_any_segment_size() {
    for body in [
        r#"{"schema":[{"name":"A","type":"Int64"}],"results":[{"A":1},]}"#,
        r#"{"schema":[{"name":"A","type":"Int64"}],"results":[,{"A":1}]}"#,
        r#"{"schema":[{"name":"A","type":"Int64"}],"results":[{"A":1},,{"A":2}]}"#,
        r#"{"results":[{"A":1},  ,{"A":2}],"schema":[{"name":"A","type":"Int64"}]}"#,
        r#"{"results":[{"A":1} {"A":2}],"schema":[{"name":"A","type":"Int64"}]}"#,
        r#"{"schema":[{"name":"A","type":"Int64"}],"results":[{"A":1}}]}"#,
    ] {
        for segment in [0, 1, 5, 1_000] {
            for chunk in [1, 4, 1_000] {
                let r = stream_decode(body.as_bytes(), &DecodeOptions::default(), chunk, segment);
                assert!(matches!(r, Err(DecodeError::Malformed { .. })), "{body} {segment}: {r:?}");
            }
        }
    }
}

#[test]
fn what_only_the_streaming_decoder_refuses() {
    // A second `results` (the buffered decoder keeps the last), and a schema repeated after
    // streamed rows with other columns: refused, whatever the chunking.
    for body in [
        r#"{"schema":[{"name":"A","type":"Int64"}],"results":[{"A":1}],"results":[{"A":2}]}"#,
        r#"{"schema":[{"name":"A","type":"Int64"}],"results":[{"A":1}],"schema":[{"name":"A","type":"String"}]}"#,
    ] {
        for chunk in [1, 1_000] {
            let r = stream_decode(body.as_bytes(), &DecodeOptions::default(), chunk, 1);
            assert!(matches!(r, Err(DecodeError::Malformed { .. })), "{body}: {r:?}");
        }
    }
    // The same schema repeated is fine.
    let body = r#"{"schema":[{"name":"A","type":"Int64"}],"results":[{"A":1}],"schema":[{"name":"A","type":"Int64"}]}"#;
    let d = stream_decode(body.as_bytes(), &DecodeOptions::default(), 3, 1).unwrap();
    assert_eq!(d.rows, 1);
}

#[test]
fn strings_that_look_like_structure_do_not_confuse_the_scanner() {
    let body = r#"{"odd\"key":"],\"results\":[{","schema":[{"name":"A\",[{","type":"String"}],
        "results":[{"A\",[{":"a ] } , [ { \\\" \\","x":"\\"},{"A\",[{":"\u005d,\u007b"}]}"#;
    let d = decode(body.as_bytes(), &DecodeOptions::default()).unwrap();
    assert_eq!(d.rows, 2);
}

#[test]
fn invalid_utf8_under_a_skipped_key_is_malformed_as_in_the_buffered_decoder() {
    // Found by tests/fuzz.rs: serde skips an unknown key's value without checking its bytes.
    let body = b"{\"schema\":[{\"name\":\"A\",\"type\":\"String\"}],\"results\":[{\"A\":\"x\"},{\" A\":\"\xff\"}]}";
    assert!(matches!(
        super::decode(body, &DecodeOptions::default()),
        Err(DecodeError::Malformed { .. })
    ));
    for (chunk, segment) in [(1, 1), (7, 1_000), (1_000, SEGMENT_BYTES)] {
        let r = stream_decode(body, &DecodeOptions::default(), chunk, segment);
        assert!(matches!(r, Err(DecodeError::Malformed { .. })), "{chunk}/{segment}: {r:?}");
    }
}

#[test]
fn two_threads_report_a_cut_body_where_it_was_cut() {
    let body = many_rows_of_every_type(50);
    let spool = tempfile::tempdir().unwrap();
    let mut parts = vec![&body.as_bytes()[..1_000]].into_iter();
    let next = move || parts.next().map_or(Next::Cut, Next::Chunk);
    let r = decode_stream(&DecodeOptions::default(), spool.path().to_owned(), next, |_| Ok(()));
    match r {
        Err(DecodeError::Malformed { offset, message }) => {
            assert_eq!((offset, message.as_str()), (1_000, "the body was cut off"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0, "the spool file is removed");
}

#[test]
fn two_threads_stop_when_the_batch_consumer_fails() {
    // The consumer (the Parquet writer) fails on the second batch: its error comes back, and the
    // scanning thread, blocked on a full channel, stops instead of waiting forever.
    for body in [many_rows_of_every_type(3_000), schema_first(&many_rows_of_every_type(3_000))] {
        let spool = tempfile::tempdir().unwrap();
        let mut parts = body.as_bytes().chunks(512);
        let next = move || parts.next().map_or(Next::End, Next::Chunk);
        let mut seen = 0;
        let opts = DecodeOptions { batch_rows: 10 };
        let r =
            super::pipeline::decode_stream_with(&opts, spool.path().to_owned(), 64, next, |_| {
                seen += 1;
                if seen == 2 {
                    Err(arrow_schema::ArrowError::ExternalError("disk full".into()))
                } else {
                    Ok(())
                }
            });
        assert!(
            matches!(&r, Err(DecodeError::Arrow(e)) if e.to_string().contains("disk full")),
            "{r:?}"
        );
        assert_eq!(seen, 2);
        assert_eq!(
            std::fs::read_dir(spool.path()).unwrap().count(),
            0,
            "the spool file is removed"
        );
    }
}

#[test]
fn escaped_quotes_at_every_offset_of_a_chunk() {
    // Runs of 1 to 6 backslashes before quotes and structure, shifted one byte at a time so that
    // each lands on every position of a chunk, its edges included (the scanner carries an odd
    // run of backslashes from one chunk to the next).
    let cells = [r#"a\"],[{\"b"#, r#"\\"#, r#"\\\"{"#, r#"x\\\\\"]"#, r#"\\\\\\"#, r#"\u0022,\\"#];
    for pad in 0..70 {
        let rows: Vec<String> = (0..12)
            .map(|r| {
                let cell = cells[r % cells.len()];
                format!(r#"{{"A":"{}{cell}","B":[{r},{{"c":"{cell}"}}]}}"#, "p".repeat(pad))
            })
            .collect();
        let body = format!(
            r#"{{"schema":[{{"name":"A","type":"String"}},{{"name":"B","type":"Dynamic"}}],"results":[{}]}}"#,
            rows.join(",")
        );
        let whole = super::decode(body.as_bytes(), &DecodeOptions::default());
        assert_eq!(whole.as_ref().unwrap().rows, 12, "{body}");
        for chunk in [64, 65, 100, 1_000, usize::MAX] {
            for segment in [1, 300, SEGMENT_BYTES] {
                let streamed =
                    stream_decode(body.as_bytes(), &DecodeOptions::default(), chunk, segment);
                same_outcome(
                    &whole,
                    &streamed,
                    &format!("pad {pad}, {chunk}/{segment}"),
                    body.as_bytes(),
                );
            }
        }
    }
}
