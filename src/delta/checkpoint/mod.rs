//! Classic (V1 spec) checkpoints: `_delta_log/NNNNNNNNNNNNNNNNNNNN.checkpoint.parquet`, a
//! Parquet file holding the reconciled state of the table at one version (one action per row, a
//! struct column per action type), plus `_delta_log/_last_checkpoint` pointing at the newest.
//! Readers start from the newest checkpoint instead of replaying every JSON commit.
//!
//! hunt reads single- and multi-part classic checkpoints (written by itself, Spark or delta-rs)
//! and writes a single-part one every `delta.checkpointInterval` commits (default
//! [`DEFAULT_INTERVAL`]).

mod read;
mod write;

pub use read::read;
pub use write::write;

/// Commits between checkpoints when the table does not set `delta.checkpointInterval`.
pub const DEFAULT_INTERVAL: u64 = 100;

/// How long removed files stay in checkpoints as tombstones (for `VACUUM`) when the table does
/// not set `delta.deletedFileRetentionDuration`: the protocol's default, one week.
pub const DEFAULT_TOMBSTONE_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

/// The checkpoint file of a single-part checkpoint at `version`.
pub fn file_name(version: u64) -> String {
    format!("{version:020}.checkpoint.parquet")
}

/// Parses a Delta interval property (`interval 1 week`, `interval 168 hours`) to milliseconds.
pub fn parse_interval_ms(s: &str) -> Option<i64> {
    let mut words = s.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("interval") {
        return None;
    }
    let n: i64 = words.next()?.parse().ok()?;
    let unit = words.next()?.to_ascii_lowercase();
    let ms = match unit.trim_end_matches('s') {
        "millisecond" => 1,
        "second" => 1_000,
        "minute" => 60_000,
        "hour" => 3_600_000,
        "day" => 86_400_000,
        "week" => 7 * 86_400_000,
        _ => return None,
    };
    if words.next().is_some() {
        return None;
    }
    n.checked_mul(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval_ms("interval 1 week"), Some(DEFAULT_TOMBSTONE_RETENTION_MS));
        assert_eq!(parse_interval_ms("INTERVAL 2 days"), Some(2 * 86_400_000));
        assert_eq!(parse_interval_ms("interval 30 seconds"), Some(30_000));
        for bad in ["", "1 week", "interval x days", "interval 1 fortnight", "interval 1 day x"] {
            assert_eq!(parse_interval_ms(bad), None, "{bad}");
        }
        assert_eq!(file_name(10), "00000000000000000010.checkpoint.parquet");
    }
}
