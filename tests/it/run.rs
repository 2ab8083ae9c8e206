//! `hunt run` end to end over HTTP against the emulator: rows in equal rows out with exact
//! types and values, partitions, failures that do not stop the others, and exit codes.

use crate::util::{TestEnv, meta, parquet_files, read_all, read_parquet, ticks};
use arrow_array::{Array, RecordBatch, cast::AsArray, types::*};
use arrow_schema::{DataType, TimeUnit};
use hunt::emulator::EmulatorConfig;
use hunt::emulator::data::{self, Cell};

const WINDOW: &str = "2026-11-20T00:00:00Z/2026-11-20T06:00:00Z";

/// True when `array[row]` holds exactly `cell`.
fn cell_matches(array: &dyn Array, row: usize, cell: &Cell) -> bool {
    if let Cell::Null = cell {
        return array.is_null(row);
    }
    if array.is_null(row) {
        return false;
    }
    match (array.data_type(), cell) {
        (DataType::Utf8, Cell::Str(s)) => array.as_string::<i32>().value(row) == s,
        (DataType::Utf8, Cell::Dyn(v)) => {
            let text = array.as_string::<i32>().value(row);
            match v {
                serde_json::Value::String(s) => text == s,
                _ => serde_json::from_str::<serde_json::Value>(text).ok().as_ref() == Some(v),
            }
        }
        (DataType::Timestamp(TimeUnit::Nanosecond, Some(tz)), Cell::Time(t)) => {
            (tz.as_ref() == "UTC" || tz.as_ref() == "+00:00")
                && array.as_primitive::<TimestampNanosecondType>().value(row) == t * 100
        }
        // Microseconds (the default, and Delta): the service's 100 ns digit floored.
        (DataType::Timestamp(TimeUnit::Microsecond, Some(tz)), Cell::Time(t)) => {
            (tz.as_ref() == "UTC" || tz.as_ref() == "+00:00")
                && array.as_primitive::<TimestampMicrosecondType>().value(row)
                    == (t * 100).div_euclid(1_000)
        }
        (DataType::Int64, Cell::Int(i)) => array.as_primitive::<Int64Type>().value(row) == *i,
        (DataType::Int32, Cell::Int(i)) => {
            i64::from(array.as_primitive::<Int32Type>().value(row)) == *i
        }
        (DataType::Float64, Cell::Real(f)) => array.as_primitive::<Float64Type>().value(row) == *f,
        (DataType::Boolean, Cell::Bool(b)) => array.as_boolean().value(row) == *b,
        _ => false,
    }
}

/// Asserts that `batches` hold exactly `expected` rows of `table`'s columns, in order.
pub(crate) fn assert_rows_equal(table: &str, batches: &[RecordBatch], expected: &[Vec<Cell>]) {
    let def = data::tables().iter().find(|t| t.name == table).unwrap();
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(total, expected.len(), "row count of {table}");
    let mut i = 0;
    for batch in batches {
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let want: Vec<&str> = def.columns.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, want, "columns of {table}");
        for r in 0..batch.num_rows() {
            for (c, cell) in expected[i].iter().enumerate() {
                assert!(
                    cell_matches(batch.column(c).as_ref(), r, cell),
                    "{table} row {i} column {}: parquet has {:?}, emulator sent {cell:?}",
                    want[c],
                    arrow_array::array::make_array(batch.column(c).slice(r, 1).to_data()),
                );
            }
            i += 1;
        }
    }
}

pub(crate) fn expected_rows(table: &str, start: &str, end: &str, eph: u32) -> Vec<Vec<Cell>> {
    data::rows(table, ticks(start), ticks(end), eph).unwrap().collect()
}

#[test]
fn every_row_of_every_table_lands_with_exact_types_and_values() {
    let env = TestEnv::new();
    let tables =
        ["DeviceProcessEvents", "DeviceNetworkEvents", "IdentityLogonEvents", "EmailEvents"];
    for t in tables {
        env.query(&format!("{t}.kql"), &format!("// all of {t}\n{t}\n"));
    }
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    for t in tables {
        let dir = env.out().join(hunt::query::slug(t));
        let files = parquet_files(&dir);
        assert_eq!(files.len(), 1, "{t}: one event day, one file: {files:?}");
        assert!(
            files[0].ends_with("date=2026-11-20/20261120T000000Z_20261120T060000Z.parquet"),
            "{files:?}"
        );
        let (batches, kv) = read_parquet(&files[0]);
        let expected = expected_rows(t, "2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z", 360);
        assert!(expected.len() > 1000, "{t}: {} rows", expected.len());
        assert_rows_equal(t, &batches, &expected);
        assert_eq!(meta(&kv, "hunt.rows"), expected.len().to_string());
        assert_eq!(meta(&kv, "hunt.complete"), "true");
        assert_eq!(meta(&kv, "hunt.window_start"), "2026-11-20T00:00:00.0000000Z");
        assert_eq!(meta(&kv, "hunt.window_end"), "2026-11-20T06:00:00.0000000Z");
        assert_eq!(meta(&kv, "hunt.query_id"), hunt::query::slug(t));
        assert_eq!(meta(&kv, "hunt.query_sha256").len(), 64);
        assert_eq!(meta(&kv, "hunt.request_ids").len(), 36, "a request-id GUID");
    }
    assert!(run.stdout.contains("4 queries: 4 ok, 0 failed"), "{run:?}");
}

#[test]
fn rows_arriving_before_the_schema_decode_the_same() {
    let env = TestEnv::with(EmulatorConfig { results_first: true, ..EmulatorConfig::default() });
    env.query("p.kql", "DeviceLogonEvents");
    let run = env.hunt(&["run", "queries/p.kql", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let expected =
        expected_rows("DeviceLogonEvents", "2026-11-20T00:00:00Z", "2026-11-20T06:00:00Z", 360);
    assert_rows_equal("DeviceLogonEvents", &read_all(&env.out()), &expected);
}

#[test]
fn every_service_type_maps_to_its_arrow_type() {
    let env = TestEnv::new();
    env.query(
        "types.kql",
        r#"DeviceProcessEvents
| take 2
| project Timestamp, DeviceName, ProcessId
| extend Real = real(1.5), Int = int(7), Long = 9007199254740993, Flag = true,
         Span = timespan(1d), Id = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), Money = decimal(1.25),
         Bag = dynamic({"a":[1,2,{"b":null}],"s":"x\"y"}), When = datetime(2026-11-20T01:02:03.1234567Z),
         Text = "Zoë 渡辺 ✓"
"#,
    );
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let batches = read_all(&env.out());
    let schema = batches[0].schema();
    let ty = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    // Microseconds by default (what Spark reads), the 100 ns digit floored.
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    assert_eq!(ty("Timestamp"), ts);
    assert_eq!(ty("When"), ts);
    assert_eq!(ty("DeviceName"), DataType::Utf8);
    assert_eq!(ty("ProcessId"), DataType::Int64);
    assert_eq!(ty("Real"), DataType::Float64);
    assert_eq!(ty("Int"), DataType::Int32);
    assert_eq!(ty("Long"), DataType::Int64);
    assert_eq!(ty("Flag"), DataType::Boolean);
    for text in ["Span", "Id", "Money", "Bag", "Text"] {
        assert_eq!(ty(text), DataType::Utf8, "{text}");
    }
    let b = &batches[0];
    let col = |name: &str| b.column(schema.index_of(name).unwrap()).clone();
    assert_eq!(col("Real").as_primitive::<Float64Type>().value(0), 1.5);
    assert_eq!(col("Int").as_primitive::<Int32Type>().value(1), 7);
    assert_eq!(col("Long").as_primitive::<Int64Type>().value(0), 9007199254740993);
    assert!(col("Flag").as_boolean().value(0));
    assert_eq!(col("Span").as_string::<i32>().value(0), "1.00:00:00");
    assert_eq!(col("Id").as_string::<i32>().value(0), "74be27de-1e4e-49d9-b579-fe0b331d3642");
    assert_eq!(col("Money").as_string::<i32>().value(0), "1.25");
    assert_eq!(col("Text").as_string::<i32>().value(0), "Zoë 渡辺 ✓");
    let bag: serde_json::Value =
        serde_json::from_str(col("Bag").as_string::<i32>().value(0)).unwrap();
    assert_eq!(bag, serde_json::json!({"a":[1,2,{"b":null}],"s":"x\"y"}));
    assert_eq!(
        col("When").as_primitive::<TimestampMicrosecondType>().value(0),
        ticks("2026-11-20T01:02:03.123456Z") / 10
    );
    let field = schema.field_with_name("Bag").unwrap();
    assert_eq!(field.metadata().get("hunt.service_type").map(String::as_str), Some("Dynamic"));
    assert_eq!(field.metadata().get("ARROW:extension:name"), None, "Dynamic is plain text");

    // `timestamp_unit = "ns"` keeps the service's 100 ns, and says so in each file.
    std::fs::write(env.path("hunt.toml"), "[output]\ntimestamp_unit = \"ns\"\n").unwrap();
    let run = env.hunt(&["run", "queries", "--out", "out-ns", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = parquet_files(&env.path("out-ns"));
    let (batches, kv) = crate::util::read_parquet(&files[0]);
    assert_eq!(crate::util::meta(&kv, "hunt.timestamp_unit"), "ns");
    let b = &batches[0];
    let when = b.column(b.schema().index_of("When").unwrap()).clone();
    assert_eq!(
        when.as_primitive::<TimestampNanosecondType>().value(0),
        ticks("2026-11-20T01:02:03.1234567Z") * 100
    );
    // Delta has no nanoseconds: refused before anything runs.
    let run = env.hunt(&["run", "queries", "--out", "out-d", "--format", "delta"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("timestamp_unit"), "{run:?}");
}

#[test]
fn a_window_across_midnight_lands_in_two_day_partitions() {
    let env = TestEnv::new();
    env.query("n.kql", "DeviceNetworkEvents");
    let window = "2026-11-20T22:00:00Z/2026-11-21T02:00:00Z";
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", window], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = parquet_files(&env.out());
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].to_string_lossy().contains("date=2026-11-20"), "{files:?}");
    assert!(files[1].to_string_lossy().contains("date=2026-11-21"), "{files:?}");
    let day1 =
        expected_rows("DeviceNetworkEvents", "2026-11-20T22:00:00Z", "2026-11-21T00:00:00Z", 360);
    let day2 =
        expected_rows("DeviceNetworkEvents", "2026-11-21T00:00:00Z", "2026-11-21T02:00:00Z", 360);
    assert_rows_equal("DeviceNetworkEvents", &read_parquet(&files[0]).0, &day1);
    assert_rows_equal("DeviceNetworkEvents", &read_parquet(&files[1]).0, &day2);
    // The same window again replaces, never duplicates.
    let again = env.hunt(&["run", "queries", "--out", "out", "--timespan", window], &[]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(crate::util::all_files(&env.out()), files, "no extra or temporary files");
}

#[test]
fn a_syntax_error_among_good_queries_fails_alone_without_a_call() {
    let env = TestEnv::new();
    env.query("a_good.kql", "DeviceProcessEvents | where ProcessCommandLine has \"-enc\" | take 5");
    env.query("b_bad.kql", "DeviceProcessEvents\n| where ProcessCommandLine has \"-enc\n| take 5");
    env.query("c_good.kql", "AlertInfo | summarize count() by Severity");
    env.query("d_bad.kql", "// a comment\nAlertInfo\n| summarise count() by Severity");
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("error: query b_bad"), "{run:?}");
    // The parser's message, at the file's line and column, and no call spent on it.
    assert!(run.stderr.contains("b_bad.kql:2:32: unterminated string"), "{run:?}");
    assert!(
        run.stderr.contains(
            "d_bad.kql:3:3: unknown query operator 'summarise' — did you mean 'summarize'?"
        ),
        "{run:?}"
    );
    assert!(run.stdout.contains("4 queries: 2 ok, 2 failed"), "{run:?}");
    // The window is named once, in its short form.
    let line = run.stderr.lines().find(|l| l.starts_with("error: query b_bad")).unwrap();
    assert_eq!(line.matches("2026-11-20T00:00:00").count(), 1, "{line}");
    assert!(line.contains(&format!("window {WINDOW}: not sent")), "{line}");
    assert!(run.stdout.contains("windows not landed, by kind: invalid 2"), "{run:?}");
    assert!(!parquet_files(&env.out().join("a_good")).is_empty());
    assert!(!parquet_files(&env.out().join("c_good")).is_empty());
    assert!(!env.out().join("b_bad").exists());
    // In --json each failure is typed: its window, its kind, its message; no request-id, as
    // nothing was sent.
    let run = env.hunt(&["run", "queries", "--out", "out", "--json", "--timespan", WINDOW], &[]);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("stdout is JSON");
    assert_eq!(v["totals"]["failures"], serde_json::json!({ "invalid": 2 }), "{v}");
    let bad = v["queries"].as_array().unwrap().iter().find(|q| q["id"] == "b_bad").unwrap();
    assert_eq!(bad["failures"][0]["kind"], "invalid", "{bad}");
    assert_eq!(bad["request_ids"], serde_json::json!([]), "{bad}");
    // --no-validate sends them: the service (here the emulator) refuses them with a 400 and
    // its request-id.
    let run =
        env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW, "--no-validate"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("HTTP 400 BadRequest"), "{run:?}");
    assert!(run.stderr.contains("request-id "), "the service's request-id is shown: {run:?}");
    assert!(run.stdout.contains("windows not landed, by kind: refused 2"), "{run:?}");
}

#[test]
fn json_summary_is_machine_readable() {
    let env = TestEnv::new();
    env.query("x.kql", "AlertInfo | take 3");
    let run = env.hunt(&["run", "queries", "--out", "out", "--json", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("stdout is JSON");
    assert_eq!(v["totals"]["rows"], 3);
    assert_eq!(v["queries"][0]["id"], "x");
    assert_eq!(v["queries"][0]["status"], "ok");
    assert_eq!(v["queries"][0]["window"]["start"], "2026-11-20T00:00:00Z");
}

#[test]
fn broken_query_files_are_reported_and_the_rest_still_run() {
    let env = TestEnv::new();
    env.query("ok.kql", "AlertInfo | take 1");
    env.query("broken.kql", "// ---\n// lookback: banana\n// ---\nAlertInfo\n");
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("broken.kql:2:"), "file:line of the problem: {run:?}");
    assert_eq!(parquet_files(&env.out()).len(), 1);
}

#[test]
fn default_window_is_the_lookback_ending_now() {
    let env = TestEnv::new();
    env.query("lb.kql", "// ---\n// lookback: 2h\n// ---\nDeviceProcessEvents | count\n");
    let run = env.hunt(&["run", "queries", "--out", "out", "--json"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let w = &v["queries"][0]["window"];
    let start = chrono::DateTime::parse_from_rfc3339(w["start"].as_str().unwrap()).unwrap();
    let end = chrono::DateTime::parse_from_rfc3339(w["end"].as_str().unwrap()).unwrap();
    assert_eq!(end - start, chrono::Duration::hours(2));
    assert!((chrono::Utc::now().fixed_offset() - end).num_seconds().abs() < 60);
}

/// Ad-hoc KQL as in the portal's query box: `-e KQL` (repeatable) and `-` (KQL on stdin), with
/// the same windows, output and printing as a file.
#[test]
fn ad_hoc_kql_from_the_command_line_and_from_stdin() {
    let env = TestEnv::new();
    let args = ["run", "-e", "AlertInfo | take 2", "-e", "AlertInfo | take 1", "--print", "jsonl"];
    let mut with_window = args.to_vec();
    with_window.extend(["--timespan", WINDOW]);
    let run = env.hunt(&with_window, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let rows: Vec<serde_json::Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let of = |q: &str| rows.iter().filter(|r| r["query"] == q).count();
    assert_eq!((of("adhoc"), of("adhoc-2"), rows.len()), (2, 1, 3), "{run:?}");
    assert!(!env.path("queries").exists() && !env.path("output").exists());
    let run = env.hunt_stdin(
        &["run", "-", "--out", "out", "--timespan", WINDOW],
        "// from a pipe\nAlertInfo | take 3\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("stdin"), "{run:?}");
    let files = parquet_files(&env.out().join("stdin"));
    assert_eq!(files.len(), 1, "{files:?}");
    let rows: usize = read_all(&env.out().join("stdin")).iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 3);
    // A syntax error the service refuses is that query's failure, as for a file.
    let run = env
        .hunt(&["run", "-e", "AlertInfo | where (", "--timespan", WINDOW, "--print", "csv"], &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("error: query adhoc"), "{run:?}");
}

/// A window reaching past the service's 30 days is run, with a warning that only 30 days of
/// data exist: once for `--timespan`, once per query for a lookback.
#[test]
fn a_window_past_the_services_30_days_is_a_warning() {
    let env = TestEnv::new();
    env.query("long.kql", "// ---\n// lookback: 45d\n// ---\nAlertInfo | take 1\n");
    env.query("short.kql", "// ---\n// lookback: 1d\n// ---\nAlertInfo | take 1\n");
    let run = env.hunt(&["run", "queries", "--print", "csv"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(
        warnings,
        [
            "warning: long: lookback 45d reaches past the 30 days the service keeps: only the last 30 days have data"
        ],
        "{run:?}"
    );
    let run = env.hunt(&["run", "queries", "--print", "csv", "--timespan", "P45D"], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let warnings: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{run:?}");
    assert!(warnings[0].starts_with("warning: --timespan starts at "), "{run:?}");
    assert!(warnings[0].contains("the service keeps 30 days: only data from "), "{run:?}");
    // The built-in emulator, like the service, has nothing older than 30 days (of its own
    // "now", which is after `before`).
    let before = chrono::Utc::now().fixed_offset();
    let run = crate::util::hunt_cmd()
        .current_dir(env.path("."))
        .env("HUNT_STATE_DIR", env.path("state"))
        .args(["run", "-e", "AlertInfo | summarize oldest = min(Timestamp), n = count()"])
        .args(["--emulator", "--timespan", "P45D", "--print", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let row: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let oldest = chrono::DateTime::parse_from_rfc3339(row["oldest"].as_str().unwrap()).unwrap();
    assert!(before - oldest <= chrono::Duration::days(30), "{row}");
    let age = chrono::Utc::now().fixed_offset() - oldest;
    assert!(age >= chrono::Duration::days(29) && row["n"].as_i64() > Some(0), "{row}");
}

/// On a terminal, the progress line says why hunt waits and until when (here a 429 with
/// `Retry-After: 3`), while the wait lasts. Run under `script`, which gives hunt a
/// pseudo-terminal for its output.
#[test]
fn a_wait_shows_on_the_progress_line_of_a_terminal() {
    use hunt::emulator::Fault;
    let env = TestEnv::new();
    env.query("q.kql", "AlertInfo | take 1");
    env.emu.push_faults([Fault::Throttle { retry_after: Some(3.0) }]);
    let (code, text) = env.on_a_terminal("", &format!("run queries --out out --timespan {WINDOW}"));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("waiting for quota: paused after the service's 429 (Retry-After); resumes "),
        "{text}"
    );
    assert!(text.contains("1 query: 1 ok"), "{text}");
    // Not on a pipe: the same run without a terminal draws no bar.
    env.emu.push_faults([Fault::Throttle { retry_after: Some(1.0) }]);
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("waiting for quota"), "{run:?}");
}

/// hunt.toml's `[emulator]` reaches the emulator that `--emulator` starts: without it a query
/// naming `TimeGenerated` on a Defender table or an `externaldata` URL is refused with a 400 that
/// names what is missing; with it (a relative file path, read from hunt.toml's folder) the same
/// query runs and returns the file's rows joined to synthetic events.
#[test]
fn emulator_section_of_hunt_toml_reaches_run_emulator() {
    let env = TestEnv::new();
    let lists = env.path("lists");
    std::fs::create_dir_all(&lists).unwrap();
    std::fs::write(
        lists.join("names.csv"),
        "FileName,Verdict\npowershell.exe,watch\ncmd.exe,watch\n",
    )
    .unwrap();
    let query = "let watch = externaldata(FileName: string, Verdict: string) \
                 [@'https://lists.example/names.csv'] with (format='csv', ignoreFirstRecord=true);\n\
                 DeviceProcessEvents | where TimeGenerated > ago(1d) | where FileName in (watch) \
                 | summarize n = count() by FileName";
    let run = |toml: Option<&str>| {
        let dir = env.path(if toml.is_some() { "with" } else { "without" });
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(text) = toml {
            std::fs::write(dir.join("hunt.toml"), text).unwrap();
        }
        crate::util::hunt_cmd()
            .current_dir(&dir)
            .env("HUNT_STATE_DIR", env.path("state"))
            .args(["run", "-e", query, "--emulator", "--timespan", "P1D", "--print", "jsonl"])
            .output()
            .unwrap()
    };
    let refused = run(None);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("TimeGenerated") || stderr.contains("externaldata"), "{stderr}");

    let toml = format!(
        "[emulator]\nsentinel_streamed = true\n[emulator.externaldata]\n\
         \"https://lists.example/names.csv\" = \"{}\"\n",
        "../lists/names.csv"
    );
    let ran = run(Some(&toml));
    assert_eq!(ran.status.code(), Some(0), "{ran:?}");
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&ran.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty(), "{ran:?}");
    for row in &rows {
        let name = row["FileName"].as_str().unwrap();
        assert!(["powershell.exe", "cmd.exe"].contains(&name), "{row}");
        assert!(row["n"].as_i64() > Some(0), "{row}");
    }
    // A file that is not there is named before anything runs.
    let missing = run(Some(&toml.replace("names.csv", "gone.csv")));
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("gone.csv") && stderr.contains("[emulator] externaldata"), "{stderr}");
}
