//! Tests of what issue 15 added last, with hand-computed answers: `series_decompose_anomalies`
//! and `series_decompose` (and how their several outputs are named), `externaldata` read from
//! mapped local files, the RFC 822 / RFC 850 / sortable datetime formats and the
//! invariant-culture ones Kusto falls back to.

use serde_json::json;

use super::tests::{ctx, err, run, run_in};
use super::{Context, execute, parse_datetime, parse_datetime_at};
use crate::emulator::data::Cell;

fn names(cols: &[(String, String)]) -> Vec<&str> {
    cols.iter().map(|c| c.0.as_str()).collect()
}

#[test]
fn decompose_anomalies_flags_a_spike() {
    // y = nine 1s then 10; no period (every autocorrelation is negative), trend = mean = 1.9.
    // Residuals: nine −0.9 and 8.1. 10th percentile −0.9; 90th: −0.9 + 0.1·9 = 0, so the
    // spread is 0.9 and the spike scores (8.1 − 0) / 0.9 = 9 > 1.5: flag 1.
    let q = "print y = dynamic([1,1,1,1,1,1,1,1,1,10]) \
             | extend (flag, score, baseline) = series_decompose_anomalies(y)";
    let (cols, rows) = run(q);
    assert_eq!(names(&cols), ["y", "flag", "score", "baseline"]);
    assert_eq!(rows[0][1], Cell::Dyn(json!([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])));
    assert_eq!(rows[0][2], Cell::Dyn(json!([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 9.0])));
    assert_eq!(rows[0][3], Cell::Dyn(json!(vec![1.9; 10])));
    // A higher threshold (10) leaves it unflagged; one name takes the first output and the
    // rest are named after the function and its argument, as Kusto names them.
    let q = "print y = dynamic([1,1,1,1,1,1,1,1,1,10]) \
             | extend a = series_decompose_anomalies(y, 10.0)";
    let (cols, rows) = run(q);
    assert_eq!(
        names(&cols),
        [
            "y",
            "a",
            "series_decompose_anomalies_y_ad_score",
            "series_decompose_anomalies_y_baseline"
        ]
    );
    assert_eq!(rows[0][1], Cell::Dyn(json!(vec![0; 10])));
    // A dip is flagged −1: nine 5s then 0 → residuals 0.5 and −4.5, 10th percentile
    // −4.5 + 0.9·5 = 0, 90th 0.5: the dip scores (−4.5 − 0) / 0.5 = −9.
    let q = "print y = dynamic([5,5,5,5,5,5,5,5,5,0]) \
             | extend (f, s, b) = series_decompose_anomalies(y) | project f";
    assert_eq!(run(q).1[0][0], Cell::Dyn(json!([0, 0, 0, 0, 0, 0, 0, 0, 0, -1])));
    // In a where clause the function is its first output (the flags).
    let q = "print y = dynamic([1,1,1,1,1,1,1,1,1,10]) \
             | where series_decompose_anomalies(y)[9] == 1";
    assert_eq!(run(q).1.len(), 1);
    assert!(err("print y = 1 | extend (a, b) = strlen('x')").contains("several outputs"));
}

#[test]
fn decompose_finds_the_period() {
    // 1,3,1,3…: period 2 (detected, or given), seasonal ∓1 around the mean 2, no residual.
    for args in ["y", "y, 2", "y, -1, 'avg'"] {
        let q = format!(
            "print y = dynamic([1,3,1,3,1,3,1,3]) \
             | extend (b, s, t, r) = series_decompose({args}) | project-away y"
        );
        let (_, rows) = run(&q);
        assert_eq!(rows[0][0], Cell::Dyn(json!([1.0, 3.0, 1.0, 3.0, 1.0, 3.0, 1.0, 3.0])), "{q}");
        assert_eq!(rows[0][1], Cell::Dyn(json!([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0])));
        assert_eq!(rows[0][2], Cell::Dyn(json!(vec![2.0; 8])));
        assert_eq!(rows[0][3], Cell::Dyn(json!(vec![0.0; 8])));
    }
    // No seasonality and a fitted line: 1, 3, 5, 7 is exactly 1 + 2i.
    let q =
        "print y = dynamic([1,3,5,7]) | extend (b, s, t, r) = series_decompose(y, 0, 'linefit')";
    assert_eq!(run(q).1[0][4], Cell::Dyn(json!(vec![0.0; 4])));
    // Not an array: null outputs.
    let q = "print y = 5 | extend (b, s, t, r) = series_decompose(y)";
    assert!(matches!(run(q).1[0][1], Cell::Null | Cell::Dyn(serde_json::Value::Null)));
}

/// A context whose `externaldata` reads `files` (URL → contents) from a temporary folder.
fn with_files(tag: &str, files: &[(&str, &str)]) -> Context {
    let dir = std::env::temp_dir().join(format!("hunt-externaldata-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut map = std::collections::BTreeMap::new();
    for (i, (url, text)) in files.iter().enumerate() {
        let path = dir.join(format!("{i}.txt"));
        std::fs::write(&path, text).unwrap();
        map.insert((*url).to_owned(), path);
    }
    Context { externaldata: std::sync::Arc::new(map), ..ctx() }
}

#[test]
fn externaldata_reads_mapped_files() {
    let csv = "name,n,when\n\"Smith, J\",7,2024-01-02\nbob,x,not a date\n\n";
    let c = with_files("csv", &[("https://x/a.csv", csv), ("https://x/feed.txt", "#c\nA\n\nB\n")]);
    let q = "externaldata(name: string, n: long, when: datetime) [h@'https://x/a.csv'] \
             with (format='csv', ignoreFirstRecord=true)";
    let (cols, rows) = run_in(q, &c);
    assert_eq!(names(&cols), ["name", "n", "when"]);
    // The quoted comma stays in its field; what does not convert is null.
    let day = parse_datetime("2024-01-02").unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Cell::Str("Smith, J".into()), Cell::Int(7), Cell::Time(day)],
            vec![Cell::Str("bob".into()), Cell::Null, Cell::Null],
        ]
    );
    // txt: one record per non-empty line.
    let q = "externaldata(line: string) [ 'https://x/feed.txt' ] with (format='txt') \
             | where line !startswith '#'";
    assert_eq!(run_in(q, &c).1, vec![vec![Cell::Str("A".into())], vec![Cell::Str("B".into())]]);
    // `["url"]` with no space (one bracket-quoted token to the lexer) is a list of one URL.
    let q =
        "externaldata(line: string)[\"https://x/feed.txt\"] with (format='txt') | where line:\"A\"";
    assert_eq!(run_in(q, &c).1, vec![vec![Cell::Str("A".into())]]);
    // An unmapped URL is refused, naming it; so is a format the emulator does not read.
    let e = execute("externaldata(a: string) [ 'https://y/b.csv' ]", &c).err().unwrap().message;
    assert!(e.contains("https://y/b.csv") && e.contains("--externaldata"), "{e}");
    let q = "externaldata(a: string) [ 'https://x/a.csv' ] with (format='parquet')";
    assert!(execute(q, &c).err().unwrap().message.contains("parquet"));
}

#[test]
fn documented_datetime_formats() {
    let iso = |t: &str| parse_datetime(t).unwrap();
    let at = iso("2014-11-08T15:05:02Z");
    for rfc in [
        "Sat, 8 Nov 14 15:05:02 GMT",
        "Sat, 8 Nov 14 15:05:02",
        "8 Nov 14 15:05:02 GMT",
        "Saturday, 08-Nov-14 15:05:02 GMT",
        "08-Nov-14 15:05:02",
        "2014-11-08 15:05:02 GMT",
        "2014-11-08T15:05:02 UTC",
    ] {
        assert_eq!(parse_datetime(rfc), Some(at), "{rfc}");
    }
    assert_eq!(parse_datetime("08-Nov-14 15:05"), Some(iso("2014-11-08T15:05")));
    // Two-digit years: up to 49 in the 2000s, from 50 in the 1900s.
    assert_eq!(parse_datetime("1 Jan 99 00:00"), Some(iso("1999-01-01")));
    assert_eq!(parse_datetime("1 Jan 49 00:00"), Some(iso("2049-01-01")));
    for other in ["Sat, 8 Foo 14 15:05", "8 Nov 14"] {
        assert_eq!(parse_datetime(other), None, "{other}");
    }
    let (_, rows) = run("print d = datetime('Sat, 8 Nov 14 15:05:02 GMT')");
    assert_eq!(rows[0][0], Cell::Time(at));
}

/// The .NET invariant-culture forms Kusto falls back to: month first, slashes, AM/PM, and a
/// time alone meaning today (the UTC day of "now").
#[test]
fn invariant_culture_datetimes() {
    let iso = |t: &str| parse_datetime(t).unwrap();
    // 2022-01-16: 52 years of 365 days and 13 leap days from 1970 to 2022, then 15 days.
    let jan16 = (52 * 365 + 13 + 15) * 864_000_000_000i64;
    assert_eq!(parse_datetime("01/16/2022 00:00:00"), Some(jan16));
    assert_eq!(parse_datetime("1/16/2022"), Some(jan16));
    assert_eq!(parse_datetime("2022/01/16"), Some(jan16));
    assert_eq!(parse_datetime("1/16/22"), Some(jan16));
    assert_eq!(parse_datetime("01/16/2022 10:00:00"), Some(jan16 + 10 * 36_000_000_000));
    assert_eq!(parse_datetime("1/16/2022 5:30 PM"), Some(iso("2022-01-16T17:30:00Z")));
    assert_eq!(parse_datetime("2022-01-16 5:30:15PM"), Some(iso("2022-01-16T17:30:15Z")));
    assert_eq!(parse_datetime("1/16/2022 12:05 AM"), Some(iso("2022-01-16T00:05:00Z")));
    assert_eq!(parse_datetime("1/16/2022 12:05 pm"), Some(iso("2022-01-16T12:05:00Z")));
    assert_eq!(parse_datetime("1/16/2022 10:00:00.25"), Some(iso("2022-01-16T10:00:00.25Z")));
    // 1/16/99: a two-digit year from 50 is in the 1900s.
    assert_eq!(parse_datetime("1/16/99"), Some(iso("1999-01-16")));
    // A time alone is today: without a "now" it has no date.
    assert_eq!(parse_datetime("8:00:00 AM"), None);
    let now = iso("2026-11-20T13:45:00Z");
    let at = |t: &str| parse_datetime_at(t, Some(now));
    assert_eq!(at("8:00:00 AM"), Some(iso("2026-11-20T08:00:00Z")));
    assert_eq!(at("5:00 PM"), Some(iso("2026-11-20T17:00:00Z")));
    assert_eq!(at("23:59"), Some(iso("2026-11-20T23:59:00Z")));
    assert_eq!(at("2026-11-20T10:00:00Z"), Some(iso("2026-11-20T10:00:00Z")));
    for bad in [
        "16/01/2022",
        "02/30/2022",
        "1/2/3",
        "13:00 PM",
        "24:00",
        "8:0 AM",
        "1/16/2022 AM",
        "PM",
        "1/16/2022 10:00 PM extra",
        "10:00.5",
    ] {
        assert_eq!(at(bad), None, "{bad}");
    }
    // In a query: literals and todatetime() (now: the end of the test window, 2026-11-21).
    let q = "print a = datetime(\"01/16/2022 10:00:00\"), b = datetime(\"8:00:00 AM\"), \
             c = todatetime(\"5:00:00 PM\"), d = todatetime(\"Noon\")";
    let (_, rows) = run(q);
    assert_eq!(
        rows[0],
        vec![
            Cell::Time(jan16 + 10 * 36_000_000_000),
            Cell::Time(iso("2026-11-21T08:00:00Z")),
            Cell::Time(iso("2026-11-21T17:00:00Z")),
            Cell::Null,
        ]
    );
}

#[test]
fn time_generated_only_on_tables_streamed_to_sentinel() {
    let q = "DeviceProcessEvents | where TimeGenerated > ago(1h) | count";
    assert!(err(q).contains("'TimeGenerated'"));
    let c = Context { sentinel_streamed: true, ..ctx() };
    // One event a minute: the last hour holds 60, and TimeGenerated is Timestamp on every row.
    assert_eq!(run_in(q, &c).1, vec![vec![Cell::Int(60)]]);
    let q = "union DeviceLogonEvents, DeviceFileEvents | where TimeGenerated != Timestamp | count";
    assert_eq!(run_in(q, &c).1, vec![vec![Cell::Int(0)]]);
    // Inventory tables (no Timestamp) get none.
    assert!(execute("DeviceTvmSoftwareInventory | project TimeGenerated", &c).is_err());
}

#[test]
fn hash_as_kusto_documents_it() {
    // The documentation's own examples (hash_xxhash64()).
    let (_, rows) = run("print a = hash('World'), b = hash('World', 100), \
                         c = hash_xxhash64(datetime(2015-01-01)), d = hash('')");
    assert_eq!(
        rows[0][..3],
        [Cell::Int(1_846_988_464_401_551_951), Cell::Int(51), Cell::Int(1_380_966_698_541_616_202)]
    );
    // XXH64 of no bytes is 0xef46db3751d8e999, past i64::MAX: a long wraps to negative.
    assert_eq!(rows[0][3], Cell::Int(0xef46_db37_51d8_e999_u64 as i64));
    assert!(err("print hash(42)").contains("hash"));
}
