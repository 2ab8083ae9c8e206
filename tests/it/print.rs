//! `hunt run --print`: rows on stdout as CSV, JSON lines or a table, straight from the service's
//! answer, compared value for value with the emulator's generator; the summary on stderr; and
//! nothing written to disk without `--out`.

use crate::run::expected_rows;
use crate::tools::run_python;
use crate::util::TestEnv;
use hunt::emulator::data::{self, Cell};
use serde_json::Value;

const START: &str = "2026-11-20T00:00:00Z";
const END: &str = "2026-11-20T01:00:00Z";
const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T01:00:00Z";
/// Tables whose columns hold every service type: DateTime, String, Int64, Int32, Double,
/// Boolean and Dynamic.
const TABLES: [&str; 4] =
    ["DeviceProcessEvents", "DeviceNetworkEvents", "IdentityLogonEvents", "EmailEvents"];

/// 100 ns ticks as the service writes them: ISO 8601 with 7 fractional digits.
fn iso(ticks: i64) -> String {
    hunt::timespan::graph_datetime(chrono::DateTime::from_timestamp_nanos(ticks * 100))
}

/// The cell as the service's JSON value.
fn json_of(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Str(s) => Value::String(s.clone()),
        Cell::Time(t) => Value::String(iso(*t)),
        Cell::Int(i) => Value::from(*i),
        Cell::Real(r) => Value::from(*r),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Dyn(v) => v.clone(),
    }
}

fn columns(table: &str) -> Vec<&'static str> {
    data::tables().iter().find(|t| t.name == table).unwrap().columns.iter().map(|c| c.0).collect()
}

/// Nothing but the query files: no output folder, no Parquet.
fn assert_nothing_written(env: &TestEnv) {
    for dir in ["output", "out"] {
        assert!(!env.path(dir).exists(), "--print without --out wrote {dir}/");
    }
    let parquet: Vec<_> = crate::util::all_files(env.dir.path())
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert!(parquet.is_empty(), "{parquet:?}");
}

#[test]
fn jsonl_round_trips_every_column_type_with_the_service_s_values() {
    let env = TestEnv::new();
    for t in TABLES {
        let q = env.query(&format!("{t}.kql"), &format!("{t}\n"));
        let run =
            env.hunt(&["run", q.to_str().unwrap(), "--print", "jsonl", "--timespan", WINDOW], &[]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("1 query: 1 ok, 0 failed"), "summary on stderr: {run:?}");
        let expected = expected_rows(t, START, END, 360);
        let lines: Vec<Value> =
            run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), expected.len(), "{t}: rows");
        let names = columns(t);
        for (i, (line, row)) in lines.iter().zip(&expected).enumerate() {
            let object = line.as_object().unwrap();
            assert_eq!(
                object.keys().count(),
                names.len(),
                "{t} row {i}: no query field for one query"
            );
            for (name, cell) in names.iter().zip(row) {
                assert_eq!(object[*name], json_of(cell), "{t} row {i} column {name}");
            }
        }
    }
    assert_nothing_written(&env);
}

const READ_CSV: &str = r#"
import csv, io, json, sys
rows = list(csv.reader(io.StringIO(sys.stdin.read(), newline="")))
print(json.dumps(rows))
"#;

#[test]
fn csv_round_trips_every_column_type_through_python_s_csv_reader() {
    let env = TestEnv::new();
    let mut expected_by_query = Vec::new();
    for t in TABLES {
        env.query(&format!("{t}.kql"), &format!("{t}\n"));
        expected_by_query.push((hunt::query::slug(t), t, expected_rows(t, START, END, 360)));
    }
    let run = env.hunt(&["run", "queries", "--print", "csv", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let path = env.path("printed.csv");
    std::fs::write(&path, &run.stdout).unwrap();
    let script = format!(
        "import sys; sys.stdin = open({:?}, encoding='utf-8', newline='')\n{READ_CSV}",
        path.display().to_string()
    );
    let records: Vec<Vec<String>> = serde_json::from_str(&run_python(&script, &[], &[])).unwrap();
    // Several queries: a header per change of columns (after a blank line), each row naming
    // its query first. Queries run concurrently, so sections come in any order.
    let mut header: Vec<String> = Vec::new();
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for record in records {
        if record.is_empty() {
            continue;
        }
        if record[0] == "query" {
            header = record;
            continue;
        }
        let (_, table, expected) =
            expected_by_query.iter().find(|(id, _, _)| *id == record[0]).unwrap();
        let names = columns(table);
        assert_eq!(header[1..], names[..], "{table}: header");
        let i = seen.entry(record[0].clone()).or_default();
        let want = &expected[*i];
        *i += 1;
        for ((name, cell), got) in names.iter().zip(want).zip(&record[1..]) {
            let ok = match cell {
                Cell::Null => got.is_empty(),
                Cell::Str(s) => got == s,
                Cell::Time(t) => *got == iso(*t),
                Cell::Int(v) => *got == v.to_string(),
                Cell::Real(r) => got.parse::<f64>().ok() == Some(*r),
                Cell::Bool(b) => *got == b.to_string(),
                Cell::Dyn(v) => serde_json::from_str::<Value>(got).ok().as_ref() == Some(v),
            };
            assert!(ok, "{table} row {} column {name}: printed {got:?}, sent {cell:?}", *i - 1);
        }
    }
    for (id, table, expected) in &expected_by_query {
        assert_eq!(seen.get(id).copied().unwrap_or(0), expected.len(), "{table}: rows");
    }
    assert_nothing_written(&env);
}

#[test]
fn a_table_fits_a_fixed_width_and_counts_the_rows_it_does_not_show() {
    let env = TestEnv::new();
    let q = env.query(
        "recent.kql",
        "DeviceProcessEvents | project Timestamp, DeviceName, FileName, ProcessCommandLine\n",
    );
    let args =
        ["run", q.to_str().unwrap(), "--print", "table", "--limit", "3", "--timespan", WINDOW];
    let run = env.hunt(&args, &[("COLUMNS", "80")]);
    assert_eq!(run.code, 0, "{run:?}");
    let total = expected_rows("DeviceProcessEvents", START, END, 360).len();
    let snapshot = run.stdout.lines().map(str::trim_end).collect::<Vec<_>>();
    assert_eq!(snapshot.len(), 6, "header, rule, 3 rows, the note: {}", run.stdout);
    assert!(
        snapshot.iter().all(|l| unicode_width::UnicodeWidthStr::width(*l) <= 80),
        "{}",
        run.stdout
    );
    assert_eq!(
        snapshot[0].split_whitespace().collect::<Vec<_>>(),
        ["Timestamp", "DeviceName", "FileName", "ProcessCommandLine"]
    );
    assert_eq!(snapshot[5], format!("({} more row(s) not shown (--limit 3))", total - 3));
    // The first row's values, cut to their columns.
    let first = &expected_rows("DeviceProcessEvents", START, END, 360)[0];
    let Cell::Time(t) = first[0] else { panic!("{first:?}") };
    assert!(snapshot[2].starts_with(&format!("{}…", &iso(t)[..20])), "{}", run.stdout);
    // The snapshot, at 80 columns: the widest columns give way first, evenly.
    let want = "\
Timestamp              DeviceName             FileName      ProcessCommandLine
---------------------  ---------------------  ------------  --------------------
2026-11-20T00:00:00.…  laptop-zoë.contoso.c…  svchost.exe   C:\\Windows\\System32…
2026-11-20T00:00:12.…  ws-hr-0007.contoso.c…  cmd.exe       cmd.exe /c whoami /…
2026-11-20T00:00:27.…  dc01.contoso.com       rundll32.exe  rundll32.exe shell3…";
    assert_eq!(snapshot[..5].join("\n"), want, "{}", run.stdout);
    assert_nothing_written(&env);
}

#[test]
fn with_out_rows_are_printed_and_landed_and_a_failing_query_still_fails() {
    let env = TestEnv::new();
    env.query("good.kql", "AlertInfo | take 3\n");
    env.query("bad.kql", "AlertInfo | where (\n");
    let run = env
        .hunt(&["run", "queries", "--print", "jsonl", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(lines.iter().all(|l| l["query"] == "good"), "each row names its query: {lines:?}");
    assert!(run.stderr.contains("error: query bad"), "{run:?}");
    assert!(!crate::util::parquet_files(&env.out().join("good")).is_empty(), "landed too");
    // --incremental needs somewhere to land.
    let run = env.hunt(&["run", "queries", "--print", "csv", "--incremental"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--print with --incremental needs --out"), "{run:?}");
}
