//! Two-thread streaming decode: one thread receives the body and scans it ([`StreamDecoder`]
//! in forwarding mode: structure, skeleton, spool, segment cuts, UTF-8), the calling thread
//! decodes the segments into batches with the same row decoder and hands them to `on_batch`.
//! Scanning and decoding then overlap, as decoding and Parquet encoding already do.
//!
//! The outcome is the single-thread decoder's, value for value and error for error: segments
//! arrive in body order, a UTF-8 error travels with its segment, and when both sides fail the
//! row thread's error wins, because it concerns earlier bytes (the scanner is ahead). Memory
//! stays bounded: the channel holds [`IN_FLIGHT`] segments, and spent buffers go back to the
//! scanner for reuse.

use super::rows::RowDecoder;
use super::stream::{Piece, decode_text};
use super::{DecodeError, DecodeOptions, Decoded, Plan, StreamDecoder};
use arrow_array::RecordBatch;
use arrow_schema::ArrowError;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};

/// Segments queued between the two threads.
pub const IN_FLIGHT: usize = 2;

/// The next part of a body, as the receiving side sees it.
pub enum Next<B> {
    /// More bytes.
    Chunk(B),
    /// The body ended.
    End,
    /// The body was cut off (the connection failed or the transfer was abandoned).
    Cut,
}

/// Decodes a body whose parts `next` returns, scanning on a second thread and decoding on this
/// one; finished batches go to `on_batch`, so the returned [`Decoded`] has none.
pub fn decode_stream<B: AsRef<[u8]>>(
    opts: &DecodeOptions,
    spool_dir: PathBuf,
    next: impl FnMut() -> Next<B> + Send,
    on_batch: impl FnMut(RecordBatch) -> Result<(), ArrowError>,
) -> Result<Decoded, DecodeError> {
    decode_stream_with(opts, spool_dir, super::SEGMENT_BYTES, next, on_batch)
}

/// [`decode_stream`] with segments of `segment_bytes` (tests cut at every row this way).
pub(super) fn decode_stream_with<B: AsRef<[u8]>>(
    opts: &DecodeOptions,
    spool_dir: PathBuf,
    segment_bytes: usize,
    mut next: impl FnMut() -> Next<B> + Send,
    on_batch: impl FnMut(RecordBatch) -> Result<(), ArrowError>,
) -> Result<Decoded, DecodeError> {
    let (tx, rx) = sync_channel::<Piece>(IN_FLIGHT);
    let (back_tx, back_rx) = channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let scanner = scope.spawn(move || -> Result<Option<Decoded>, DecodeError> {
            let mut dec = StreamDecoder::forwarding(opts, spool_dir, tx, back_rx)
                .with_segment_bytes(segment_bytes);
            loop {
                match next() {
                    Next::Chunk(chunk) => dec.feed(chunk.as_ref())?,
                    Next::End => return dec.finish_scan(),
                    Next::Cut => {
                        return Err(DecodeError::Malformed {
                            offset: dec.fed() as usize,
                            message: "the body was cut off".to_owned(),
                        });
                    }
                }
            }
        });
        let rows = decode_pieces(opts, &rx, &back_tx, Box::new(on_batch));
        // The scanner may be blocked sending: let it fail instead.
        drop(rx);
        let scanned = match scanner.join() {
            Ok(scanned) => scanned,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let started = rows?;
        if let Some(whole) = scanned? {
            return Ok(whole);
        }
        let Some((plan, rows)) = started else {
            unreachable!("a scan that ends well has started the rows")
        };
        plan.finish(rows)
    })
}

/// The rows thread: decodes pieces until the scanner hangs up; the rows are not flushed (the
/// scan may yet fail).
fn decode_pieces<'s>(
    opts: &DecodeOptions,
    rx: &Receiver<Piece>,
    back: &Sender<Vec<u8>>,
    sink: super::rows::BatchSink<'s>,
) -> Result<Option<(Plan, RowDecoder<'s>)>, DecodeError> {
    let mut sink = Some(sink);
    let mut started: Option<(Plan, RowDecoder<'s>)> = None;
    for piece in rx {
        match piece {
            Piece::Start(entries) => {
                let plan = Plan::of(&entries);
                let mut rows = plan.row_decoder(opts);
                rows.on_batch = sink.take();
                started = Some((plan, rows));
            }
            Piece::Segment { text, base, must_hold_a_row } => {
                let text = text?;
                let Some((_, rows)) = started.as_mut() else {
                    unreachable!("the scanner sends the schema before the rows")
                };
                decode_text(rows, &text, base, must_hold_a_row)?;
                // The scanner may have finished and gone: then the buffer is just dropped.
                let _ = back.send(text.into_bytes());
            }
        }
    }
    Ok(started)
}
