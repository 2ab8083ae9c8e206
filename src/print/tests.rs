//! Printing the service's values: CSV that parses back to the same text, JSON lines with the
//! service's own values, a table cut to its width.

use super::*;
use crate::decode::{DecodeOptions, decode};

const BODY: &str = r#"{"schema":[
 {"name":"Timestamp","type":"DateTime"},{"name":"DeviceName","type":"String"},
 {"name":"N","type":"Int64"},{"name":"Small","type":"Int32"},{"name":"Ratio","type":"Double"},
 {"name":"Flag","type":"Boolean"},{"name":"AdditionalFields","type":"Dynamic"}],
 "results":[
 {"Timestamp":"2026-11-20T10:00:00.1234567Z","DeviceName":"pc, \"one\"\nnext ünïcode ✓",
  "N":9007199254740993,"Small":-3,"Ratio":0.1,"Flag":true,"AdditionalFields":{"a":[1,"x"],"b":null}},
 {"Timestamp":null,"DeviceName":null,"N":null,"Small":null,"Ratio":null,"Flag":null,
  "AdditionalFields":null}]}"#;

fn batches() -> Vec<RecordBatch> {
    decode(BODY.as_bytes(), &DecodeOptions::default()).unwrap().batches
}

/// A minimal RFC 4180 reader, to read back what the writer wrote.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    records
}

#[test]
fn csv_round_trips_every_type_with_quotes_commas_newlines_and_unicode() {
    let p = Printer::new(PrintFormat::Csv, 50, false, 80);
    let mut out = Vec::new();
    let mut state = State::default();
    p.csv(&mut state, &mut out, "q", &batches()).unwrap();
    let text = String::from_utf8(out).unwrap();
    let records = read_csv(&text);
    assert_eq!(
        records[0],
        ["Timestamp", "DeviceName", "N", "Small", "Ratio", "Flag", "AdditionalFields"]
    );
    assert_eq!(
        records[1],
        [
            "2026-11-20T10:00:00.1234567Z",
            "pc, \"one\"\nnext ünïcode ✓",
            "9007199254740993",
            "-3",
            "0.1",
            "true",
            r#"{"a":[1,"x"],"b":null}"#
        ]
    );
    assert_eq!(records[2], vec![String::new(); 7], "nulls are empty fields");
    assert_eq!(records.len(), 3);
}

#[test]
fn csv_with_several_queries_names_the_query_and_repeats_the_header_when_columns_change() {
    let p = Printer::new(PrintFormat::Csv, 50, true, 80);
    let (mut out, mut state) = (Vec::new(), State::default());
    p.csv(&mut state, &mut out, "a", &batches()).unwrap();
    p.csv(&mut state, &mut out, "b", &batches()).unwrap();
    let other = decode(
        br#"{"schema":[{"name":"X","type":"String"}],"results":[{"X":"y"}]}"#,
        &DecodeOptions::default(),
    )
    .unwrap()
    .batches;
    p.csv(&mut state, &mut out, "c", &other).unwrap();
    let text = String::from_utf8(out).unwrap();
    let records = read_csv(&text);
    assert_eq!(records[0][0], "query");
    assert_eq!(records[1][0], "a");
    assert_eq!(records[3][0], "b");
    assert_eq!(records[5], [""], "a blank line before a new header");
    assert_eq!(records[6], ["query", "X"]);
    assert_eq!(records[7], ["c", "y"]);
}

#[test]
fn jsonl_keeps_the_service_s_values() {
    let p = Printer::new(PrintFormat::Jsonl, 50, true, 80);
    let mut out = Vec::new();
    p.jsonl(&mut out, "q", &batches()).unwrap();
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(
        lines[0],
        serde_json::json!({
            "query": "q",
            "Timestamp": "2026-11-20T10:00:00.1234567Z",
            "DeviceName": "pc, \"one\"\nnext ünïcode ✓",
            "N": 9007199254740993i64,
            "Small": -3,
            "Ratio": 0.1,
            "Flag": true,
            "AdditionalFields": {"a": [1, "x"], "b": null}
        })
    );
    assert!(lines[1].as_object().unwrap().iter().all(|(k, v)| k == "query" || v.is_null()));
    assert_eq!(lines.len(), 2);
}

#[test]
fn a_table_fits_its_width_and_says_what_it_left_out() {
    let mut rows = table::Rows::new(1);
    for b in batches() {
        rows.add(&b);
    }
    let render = |width| {
        let mut out = Vec::new();
        rows.write(&mut out, width).unwrap();
        String::from_utf8(out).unwrap()
    };
    let wide = render(200);
    assert_eq!(wide.lines().count(), 4, "header, rule, one row, the note: {wide}");
    let row = wide.lines().nth(2).unwrap();
    assert!(
        row.starts_with("2026-11-20T10:00:00.1234567Z  pc, \"one\"\\nnext ünïcode ✓"),
        "{wide}"
    );
    assert!(wide.contains("(1 more row(s) not shown (--limit 1))"), "{wide}");
    let narrow = render(50);
    assert!(narrow.lines().all(|l| unicode_width::UnicodeWidthStr::width(l) <= 50), "{narrow}");
    assert!(narrow.lines().nth(2).unwrap().contains('…'), "{narrow}");
    let tiny = render(20);
    assert!(tiny.contains("column(s) left out for width"), "{tiny}");
    assert!(
        tiny.lines().all(|l| l.starts_with('(') || unicode_width::UnicodeWidthStr::width(l) <= 20),
        "{tiny}"
    );
}

#[test]
fn csv_records_quote_only_what_needs_it() {
    let mut out = Vec::new();
    write_csv_record(&mut out, ["a", "b,c", "d\"e", "f\ng", ""]).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "a,\"b,c\",\"d\"\"e\",\"f\ng\",\r\n");
}
