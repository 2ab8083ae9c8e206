//! Tests of the emulator's KQL, against the synthetic data of `data`.

use super::*;
use crate::emulator::data::{self, Cell, TICKS_PER_HOUR, TICKS_PER_SECOND};

/// 2026-11-20T00:00:00Z.
fn t0() -> i64 {
    parse_datetime("2026-11-20").unwrap()
}

/// One day from `t0`, one event a minute per table, `now` at the window's end.
pub(super) fn ctx() -> Context {
    Context {
        window: (t0(), t0() + 24 * TICKS_PER_HOUR),
        now: t0() + 24 * TICKS_PER_HOUR,
        events_per_hour: 60,
        externaldata: Default::default(),
        sentinel_streamed: false,
        tenant: 0,
    }
}

pub(super) fn run(q: &str) -> (Vec<(String, String)>, Vec<Vec<Cell>>) {
    run_in(q, &ctx())
}

pub(super) fn run_in(q: &str, ctx: &Context) -> (Vec<(String, String)>, Vec<Vec<Cell>>) {
    match execute(q, ctx) {
        Ok(rs) => (rs.columns, rs.rows.collect()),
        Err(e) => panic!("{q}: {e}"),
    }
}

/// The single cell of `print x = <expr>`.
pub(super) fn eval(expr: &str) -> Cell {
    let rows = run(&format!("print x = {expr}")).1;
    assert_eq!(rows.len(), 1, "{expr}");
    rows[0][0].clone()
}

/// A text cell.
pub(super) fn s(v: &str) -> Cell {
    Cell::Str(v.into())
}

pub(super) fn err(q: &str) -> String {
    match execute(q, &ctx()) {
        Ok(_) => panic!("{q}: expected an error"),
        Err(e) => e.message,
    }
}

pub(super) fn count(q: &str) -> i64 {
    match run(&format!("{q} | count")).1.as_slice() {
        [row] => match row[..] {
            [Cell::Int(n)] => n,
            _ => panic!("{row:?}"),
        },
        other => panic!("{other:?}"),
    }
}

pub(super) fn names(cols: &[(String, String)]) -> Vec<&str> {
    cols.iter().map(|(n, _)| n.as_str()).collect()
}

/// All rows of `table` in the test window.
pub(super) fn all(table: &str) -> Vec<Vec<Cell>> {
    let c = ctx();
    data::rows(table, c.window.0, c.window.1, c.events_per_hour).unwrap().collect()
}

pub(super) fn col(table: &str, name: &str) -> usize {
    data::table(table).unwrap().columns.iter().position(|(n, _)| *n == name).unwrap()
}

pub(super) fn text(c: &Cell) -> &str {
    match c {
        Cell::Str(s) => s,
        _ => "",
    }
}

#[test]
fn take_returns_real_schema_and_rows_inside_window() {
    let (cols, rows) = run("DeviceProcessEvents | take 10");
    let def = data::table("DeviceProcessEvents").unwrap();
    let want: Vec<(String, String)> =
        def.columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    assert_eq!(cols, want);
    assert_eq!(rows.len(), 10);
    assert_eq!(rows, all("DeviceProcessEvents")[..10].to_vec());
    assert_eq!(run("DeviceProcessEvents | limit 3").1.len(), 3);
    assert_eq!(run("DeviceProcessEvents | take 0").1.len(), 0);
}

#[test]
fn window_bounds_everything() {
    assert_eq!(count("DeviceLogonEvents"), 24 * 60);
    assert_eq!(count("AlertInfo | where Timestamp > datetime(2020-01-01)"), 24 * 60);
    let c = Context { window: (t0() + 5, t0() + 5), ..ctx() };
    assert!(run_in("EmailEvents", &c).1.is_empty());
    // A huge window is lazy: take stops generation early.
    let big = Context { window: (0, t0()), events_per_hour: 1_000_000, ..ctx() };
    assert_eq!(run_in("DeviceProcessEvents | take 5", &big).1.len(), 5);
}

#[test]
fn timestamp_predicates_narrow_and_filter() {
    assert_eq!(
        count(
            "DeviceNetworkEvents | where Timestamp >= datetime(2026-11-20T10:00:00Z) and Timestamp < datetime(2026-11-20 11:00)"
        ),
        60
    );
    assert_eq!(count("DeviceNetworkEvents | where Timestamp > ago(1h)"), 60);
    assert_eq!(count("DeviceNetworkEvents | where ago(30m) <= Timestamp"), 30);
    assert_eq!(count("DeviceNetworkEvents | where Timestamp < datetime(2026-11-20) + 2h"), 120);
    assert_eq!(
        count("DeviceNetworkEvents | where Timestamp between (datetime(2026-11-20 01:00) .. 1h)"),
        60
    );
    assert_eq!(count("DeviceNetworkEvents | where Timestamp > now() - 7d"), 24 * 60);
    assert_eq!(count("DeviceNetworkEvents | where Timestamp > datetime(2030-01-01)"), 0);
    // An exact timestamp, with all seven fractional digits.
    let rows = all("DeviceNetworkEvents");
    let Cell::Time(t) = rows[17][0] else { panic!() };
    let q = format!("DeviceNetworkEvents | where Timestamp == datetime({})", format_datetime(t));
    assert_eq!(run(&q).1, vec![rows[17].clone()]);
}

/// `where <pred>` keeps exactly the rows `keep` accepts, and that is neither none nor all.
fn check_where(table: &str, pred: &str, keep: impl Fn(&[Cell]) -> bool) {
    let want: Vec<_> = all(table).into_iter().filter(|r| keep(r)).collect();
    let got = run(&format!("{table} | where {pred}")).1;
    assert_eq!(got.len(), want.len(), "{pred}");
    assert_eq!(got, want, "{pred}");
    assert!(!want.is_empty() && want.len() < 24 * 60, "{pred}: {} rows", want.len());
}

#[test]
fn where_operators_on_known_data() {
    let t = "DeviceProcessEvents";
    let file = col(t, "FileName");
    let cmd = col(t, "ProcessCommandLine");
    let pid = col(t, "ProcessId");
    let upn = col(t, "AccountUpn");
    let f = |r: &[Cell]| text(&r[file]).to_owned();
    let c = |r: &[Cell]| text(&r[cmd]).to_owned();
    let p = |r: &[Cell]| match r[pid] {
        Cell::Int(v) => v,
        _ => panic!(),
    };
    check_where(t, "FileName == 'cmd.exe'", |r| f(r) == "cmd.exe");
    check_where(t, "FileName != \"cmd.exe\"", |r| f(r) != "cmd.exe");
    check_where(t, "FileName =~ 'CMD.EXE'", |r| f(r) == "cmd.exe");
    check_where(t, "FileName !~ 'CMD.EXE'", |r| f(r) != "cmd.exe");
    check_where(t, "ProcessCommandLine has 'enc'", |r| c(r).contains(" -enc "));
    check_where(t, "ProcessCommandLine has '-EncodedCommand'", |r| {
        c(r).contains("-EncodedCommand")
    });
    check_where(t, "ProcessCommandLine !has 'ENC'", |r| !c(r).contains(" -enc "));
    check_where(t, "ProcessCommandLine has_cs 'MiniDump'", |r| c(r).contains("MiniDump"));
    check_where(t, "ProcessCommandLine contains 'minidu'", |r| c(r).contains("MiniDu"));
    check_where(t, "ProcessCommandLine !contains 'MINIDU'", |r| !c(r).contains("MiniDu"));
    check_where(t, "ProcessCommandLine contains_cs 'whoami'", |r| c(r).contains("whoami"));
    check_where(t, "FileName startswith 'CM'", |r| f(r).starts_with("cm"));
    check_where(t, "FileName !startswith 'cm'", |r| !f(r).starts_with("cm"));
    check_where(t, "FileName endswith '32.EXE'", |r| f(r).ends_with("32.exe"));
    check_where(t, "FileName in ('cmd.exe', 'net.exe')", |r| {
        ["cmd.exe", "net.exe"].contains(&f(r).as_str())
    });
    check_where(t, "FileName !in ('cmd.exe', 'net.exe')", |r| {
        !["cmd.exe", "net.exe"].contains(&f(r).as_str())
    });
    check_where(t, "FileName in~ ('CMD.exe', 'winword.exe')", |r| {
        ["cmd.exe", "WINWORD.EXE"].contains(&f(r).as_str())
    });
    check_where(t, "FileName in (dynamic(['cmd.exe']))", |r| f(r) == "cmd.exe");
    check_where(t, "FileName has_any ('cmd', 'rundll32')", |r| {
        ["cmd.exe", "rundll32.exe"].contains(&f(r).as_str())
    });
    check_where(t, "ProcessId < 30000", |r| p(r) < 30000);
    check_where(t, "ProcessId <= 30000", |r| p(r) <= 30000);
    check_where(t, "ProcessId > 30000.5", |r| p(r) > 30000);
    check_where(t, "ProcessId >= 30000", |r| p(r) >= 30000);
    check_where(t, "ProcessId between (100 .. 20000)", |r| (100..=20000).contains(&p(r)));
    check_where(t, "FileName == 'cmd.exe' or ProcessId < 1000", |r| {
        f(r) == "cmd.exe" || p(r) < 1000
    });
    check_where(t, "(FileName == 'cmd.exe' or FileName == 'net.exe') and ProcessId < 30000", |r| {
        (f(r) == "cmd.exe" || f(r) == "net.exe") && p(r) < 30000
    });
    check_where(t, "not(FileName == 'cmd.exe')", |r| f(r) != "cmd.exe");
    // Comparing a null cell yields false, whichever the operator.
    check_where(t, "AccountUpn != 'jsmith@contoso.com'", |r| {
        !matches!(r[upn], Cell::Null) && text(&r[upn]) != "jsmith@contoso.com"
    });
    check_where(t, "isnull(AccountUpn)", |r| matches!(r[upn], Cell::Null));
    check_where(t, "isnotempty(AccountUpn)", |r| !matches!(r[upn], Cell::Null));
}

#[test]
fn has_matches_whole_terms_case_insensitively() {
    let base = r#"AlertInfo | take 1 | extend S = "C:\\Windows\\System32\\cmd.exe /c Echo-Hello  wörld" | where "#;
    let hit = |pred: &str| run(&format!("{base}{pred}")).1.len() == 1;
    assert!(hit("S has 'system32'"));
    assert!(hit("S has 'CMD.EXE'"));
    assert!(hit("S has 'echo'"));
    assert!(hit("S has 'WÖRLD'"));
    assert!(!hit("S has 'cmd.ex'"));
    assert!(!hit("S has 'ystem32'"));
    assert!(hit("S !has 'ystem32'"));
    assert!(!hit("S has_cs 'echo'"));
    assert!(hit("S has_cs 'Echo'"));
    assert!(hit("S hasprefix 'syst'"));
    assert!(hit("S has_all ('cmd', 'hello')"));
    assert!(!hit("S has_all ('cmd', 'hell')"));
    assert!(hit("S contains 'ECHO-H'"));
    assert!(hit("S endswith 'RLD'"));
    assert!(hit("S startswith @'c:\\win'"));
    assert!(hit("strlen(S) == 48"));
}

#[test]
fn project_extend_and_friends() {
    let (cols, rows) = run(
        "DeviceProcessEvents | take 3 | project Timestamp, DeviceName, Pid = ProcessId, Cmd = ProcessCommandLine",
    );
    assert_eq!(
        cols,
        vec![
            ("Timestamp".into(), "DateTime".into()),
            ("DeviceName".into(), "String".into()),
            ("Pid".into(), "Int64".into()),
            ("Cmd".into(), "String".into())
        ]
    );
    let src = all("DeviceProcessEvents");
    assert_eq!(rows[2][0], src[2][0]);
    assert_eq!(rows[2][2], src[2][col("DeviceProcessEvents", "ProcessId")]);

    let (cols, _) = run("AlertInfo | project-away Title, Category | project-rename Sev = Severity");
    assert_eq!(
        names(&cols),
        ["Timestamp", "AlertId", "Sev", "ServiceSource", "DetectionSource", "AttackTechniques"]
    );

    let (cols, rows) = run(
        "AlertInfo | take 2 | extend Severity = strcat(Severity, '!'), Later = Timestamp + 1h | project Severity, Later, Timestamp",
    );
    assert_eq!(cols[1], ("Later".into(), "DateTime".into()));
    assert!(text(&rows[0][0]).ends_with('!'));
    let (Cell::Time(a), Cell::Time(b)) = (&rows[0][1], &rows[0][2]) else { panic!() };
    assert_eq!(a - b, TICKS_PER_HOUR);

    let (cols, rows) = run(
        "IdentityLogonEvents | take 50 | where AdditionalFields.Geo.City == 'Seattle' | project AdditionalFields, Lat = AdditionalFields['Geo'].Lat",
    );
    assert_eq!(cols[0].1, "Dynamic");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[1] == Cell::Dyn(serde_json::json!(47.6062))));
}

#[test]
fn extend_literal_types() {
    let q = "AlertInfo | take 1 | project Timestamp \
        | extend s = 'x', l = 5, i = int(5), r = real(1.5), r2 = 1.5, b = true, \
          d = datetime(2026-11-20 10:00:00.1234567), ts1 = timespan(1d), ts2 = 1h, ts3 = time(00:00:00.1234567), \
          g = guid(74BE27DE-1E4E-49D9-B579-FE0B331D3642), m = decimal(1.25), \
          o = dynamic({\"a\":[1,2]}), a = dynamic([1,\"x\"]), n = dynamic(null), neg = -2, nd = datetime(null)";
    let (cols, rows) = run(q);
    let want = [
        ("s", "String", Cell::Str("x".into())),
        ("l", "Int64", Cell::Int(5)),
        ("i", "Int32", Cell::Int(5)),
        ("r", "Double", Cell::Real(1.5)),
        ("r2", "Double", Cell::Real(1.5)),
        ("b", "Boolean", Cell::Bool(true)),
        ("d", "DateTime", Cell::Time(t0() + 10 * TICKS_PER_HOUR + 1_234_567)),
        ("ts1", "TimeSpan", Cell::Str("1.00:00:00".into())),
        ("ts2", "TimeSpan", Cell::Str("01:00:00".into())),
        ("ts3", "TimeSpan", Cell::Str("00:00:00.1234567".into())),
        ("g", "Guid", Cell::Str("74be27de-1e4e-49d9-b579-fe0b331d3642".into())),
        ("m", "Decimal", Cell::Str("1.25".into())),
        ("o", "Dynamic", Cell::Dyn(serde_json::json!({"a": [1, 2]}))),
        ("a", "Dynamic", Cell::Dyn(serde_json::json!([1, "x"]))),
        ("n", "Dynamic", Cell::Dyn(serde_json::Value::Null)),
        ("neg", "Int64", Cell::Int(-2)),
        ("nd", "DateTime", Cell::Null),
    ];
    assert_eq!(cols.len(), want.len() + 1);
    for (i, (name, ty, cell)) in want.into_iter().enumerate() {
        assert_eq!((cols[i + 1].0.as_str(), cols[i + 1].1.as_str()), (name, ty));
        assert_eq!(rows[0][i + 1], cell, "{name}");
    }
    // TimeSpan columns compare as durations.
    assert_eq!(run("AlertInfo | take 1 | extend t = 90m | where t > 1h").1.len(), 1);
}

#[test]
fn count_and_summarize() {
    let (cols, rows) = run("DeviceLogonEvents | count");
    assert_eq!(cols, vec![("Count".to_string(), "Int64".to_string())]);
    assert_eq!(rows, vec![vec![Cell::Int(1440)]]);

    let src = all("DeviceLogonEvents");
    let at = col("DeviceLogonEvents", "ActionType");
    let dn = col("DeviceLogonEvents", "DeviceName");
    let (cols, rows) = run("DeviceLogonEvents | summarize count() by ActionType, DeviceName");
    assert_eq!(
        cols,
        vec![
            ("ActionType".into(), "String".into()),
            ("DeviceName".into(), "String".into()),
            ("count_".into(), "Int64".into())
        ]
    );
    // Groups in order of first appearance, with exact counts.
    let mut want: Vec<(Cell, Cell, i64)> = Vec::new();
    for r in &src {
        match want.iter_mut().find(|w| w.0 == r[at] && w.1 == r[dn]) {
            Some(w) => w.2 += 1,
            None => want.push((r[at].clone(), r[dn].clone(), 1)),
        }
    }
    let want: Vec<Vec<Cell>> = want.into_iter().map(|(a, b, n)| vec![a, b, Cell::Int(n)]).collect();
    assert_eq!(rows, want);

    let (cols, rows) =
        run("DeviceLogonEvents | where ActionType == 'LogonFailed' | summarize Failures = count()");
    assert_eq!(names(&cols), ["Failures"]);
    let failed = src.iter().filter(|r| text(&r[at]) == "LogonFailed").count() as i64;
    assert_eq!(rows, vec![vec![Cell::Int(failed)]]);
    assert_eq!(
        run("DeviceLogonEvents | where 1 == 2 | summarize count()").1,
        vec![vec![Cell::Int(0)]]
    );
    assert!(run("DeviceLogonEvents | where 1 == 2 | summarize count() by DeviceName").1.is_empty());

    let (cols, rows) = run(
        "DeviceLogonEvents | summarize n = count(), f = countif(ActionType == 'LogonFailed'), d = dcount(DeviceName), \
         first = min(Timestamp), last = max(Timestamp), s = sum(RemotePort) by bin(Timestamp, 1d)",
    );
    assert_eq!(names(&cols), ["Timestamp", "n", "f", "d", "first", "last", "s"]);
    assert_eq!(cols[4].1, "DateTime");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], Cell::Time(t0()));
    assert_eq!(rows[0][1], Cell::Int(1440));
    assert_eq!(rows[0][2], Cell::Int(failed));
    assert_eq!(rows[0][4], src[0][0]);
    assert_eq!(rows[0][5], src[src.len() - 1][0]);

    let (cols, rows) = run("DeviceLogonEvents | distinct ActionType");
    assert_eq!(names(&cols), ["ActionType"]);
    assert_eq!(rows.len(), 2);
}

#[test]
fn order_and_top() {
    let (_, rows) = run("DeviceProcessEvents | order by Timestamp desc | take 3");
    let src = all("DeviceProcessEvents");
    let n = src.len();
    assert_eq!(rows, vec![src[n - 1].clone(), src[n - 2].clone(), src[n - 3].clone()]);
    let (_, rows) = run("DeviceProcessEvents | sort by Timestamp asc | take 2");
    assert_eq!(rows, src[..2].to_vec());
    let pid = col("DeviceProcessEvents", "ProcessId");
    let (_, rows) = run("DeviceProcessEvents | top 5 by ProcessId | project ProcessId");
    let mut pids: Vec<i64> =
        src.iter().map(|r| if let Cell::Int(v) = r[pid] { v } else { 0 }).collect();
    pids.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<i64> = rows.iter().map(|r| if let Cell::Int(v) = r[0] { v } else { 0 }).collect();
    assert_eq!(got, pids[..5]);
    let (_, rows) = run("DeviceProcessEvents | top 3 by ProcessId asc | project ProcessId");
    pids.reverse();
    let got: Vec<i64> = rows.iter().map(|r| if let Cell::Int(v) = r[0] { v } else { 0 }).collect();
    assert_eq!(got, pids[..3]);
    // Nulls last when descending.
    let (_, rows) = run("DeviceNetworkEvents | order by RemotePort desc | project RemotePort");
    assert_eq!(rows.last().unwrap()[0], Cell::Null);
    assert_ne!(rows[0][0], Cell::Null);
}

#[test]
fn comments_front_matter_and_semicolons() {
    let q = "// ---\n// id: encoded-powershell\n// name: Encoded PowerShell\n// ---\n\
             DeviceProcessEvents // the source\n\
             | where ProcessCommandLine has_any ('-enc', '-EncodedCommand') // flags\n\
             \t| project Timestamp, DeviceName, ProcessCommandLine\r\n| take 5;\n// trailing\n";
    let (cols, rows) = run(q);
    assert_eq!(names(&cols), ["Timestamp", "DeviceName", "ProcessCommandLine"]);
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .all(|r| text(&r[2]).contains("-enc") || text(&r[2]).contains("-EncodedCommand"))
    );
}

#[test]
fn error_messages() {
    assert_eq!(
        err("NoSuchTable | take 1"),
        "'' operator: Failed to resolve table or column expression named 'NoSuchTable'"
    );
    assert_eq!(
        err("deviceprocessevents"),
        "'' operator: Failed to resolve table or column expression named 'deviceprocessevents'"
    );
    assert_eq!(
        err("AlertInfo | where Foo == 1"),
        "'where' operator: Failed to resolve scalar expression named 'Foo'"
    );
    assert_eq!(
        err("AlertInfo | project Title, severity"),
        "'project' operator: Failed to resolve scalar expression named 'severity'"
    );
    assert_eq!(
        err("AlertInfo | extend X = Nope"),
        "'extend' operator: Failed to resolve scalar expression named 'Nope'"
    );
    assert_eq!(
        err("AlertInfo | summarize count() by Nope"),
        "'summarize' operator: Failed to resolve scalar expression named 'Nope'"
    );
    assert_eq!(
        err("AlertInfo | project Title | where Severity == 'High'"),
        "'where' operator: Failed to resolve scalar expression named 'Severity'"
    );
    assert_eq!(err("AlertInfo | where frob(Title)"), "'where' operator: Unknown function: 'frob'");
    // Syntax errors: Kusto's wording and position, then the parser's explanation.
    let syntax = |q: &str, at: &str| {
        let e = err(q);
        assert!(
            e.starts_with(&format!("Syntax error: Query could not be parsed at {at}")),
            "{q}: {e}"
        );
    };
    syntax("AlertInfo\n| where Title == 'x'\n|  wher Title", "'wher' on line [3,4]");
    assert!(err("AlertInfo\n|  wher Title").ends_with("did you mean 'where'?"));
    syntax("AlertInfo | where (Title == 'x'", "'(' on line [1,19]");
    syntax("AlertInfo | where Title == 'x')", "')' on line [1,31]");
    syntax("AlertInfo |", "'|' on line [1,11]");
    syntax("// c\n  渡辺 ===", "'==' on line [2,6]");
    syntax(
        "AlertInfo | take 1 | extend d = datetime(2026-13-01)",
        "'datetime(2026-13-01)' on line [1,33]",
    );
    let series = err("AlertInfo | sample 3");
    assert!(
        series.starts_with(
            "'sample' operator is not supported by the hunt emulator (supported: let, where"
        ),
        "{series}"
    );
    assert!(
        err("AlertInfo | top-nested 3 of Title with others = 'x' by count()")
            .contains("'with others' is not supported by the emulator")
    );
    assert!(
        err("AlertInfo | where Title like 'x'").starts_with("'like' operator is not supported")
    );
    assert_eq!(
        err("AlertInfo | summarize percentilesw_array(Title)"),
        "'summarize' operator: Unknown aggregation function: 'percentilesw_array'"
    );
    assert_eq!(
        err("AlertInfo | where Title + 1 == 2"),
        "'where' operator: Cannot apply '+' to String and Int64"
    );
}

#[test]
fn garbage_never_panics() {
    let seeds = [
        "DeviceProcessEvents | where ProcessCommandLine has 'x' and (FileName in~ ('a', \"b\") or not(ProcessId > 5)) | project A = FileName, Timestamp | summarize count() by A | top 3 by count_",
        "EmailEvents | extend d = dynamic({\"a\":[1,{\"b\":null}]}), t = datetime(2026-11-20 10:00:00.1234567) - 1h | order by t asc nulls first | take 2",
        "IdentityLogonEvents | where AdditionalFields.Geo['City'] =~ @'seattle' | project-away AdditionalFields | count",
        "let T = datatable(a: long, b: string) [1, 'x=1', 2, 'y']; let f = (n: long) { T | where a > n }; f(0) | join kind=leftouter (T | extend c = split(b, '=')) on a | mv-expand c | parse b with 'x=' v: long | summarize arg_max(a, *), make_set(c, 3) by b",
        "range t from datetime(2026-11-20) to datetime(2026-11-21) step 1h | extend s = startofday(t, -1), d = datetime_diff('hour', t, ago(1d)) | make-series n = count() default = 0 on t from datetime(2026-11-20) to datetime(2026-11-21) step 2h | mv-expand n to typeof(long)",
        "print x = extract(@'(\\d+)', 1, 'a12'), y = replace_regex('aaa', 'a', 'b'), z = format_datetime(now(), 'yyyy-MM-dd'), w = percentile_tdigest(1, 2) | union (search in (AlertInfo) 'High' | take 1 | evaluate bag_unpack(AttackTechniques))",
    ];
    let ctx = Context { window: (t0(), t0() + TICKS_PER_HOUR), ..ctx() };
    let mut state: u64 = 0x1234_5678;
    let mut next = || {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut tried = 0;
    for seed in seeds {
        let chars: Vec<char> = seed.chars().collect();
        for cut in 0..=chars.len() {
            let q: String = chars[..cut].iter().collect();
            if let Ok(rs) = execute(&q, &ctx) {
                rs.rows.take(3).for_each(drop);
            }
            tried += 1;
        }
        for _ in 0..300 {
            let mut c = chars.clone();
            for _ in 0..1 + next() % 4 {
                let i = next() % c.len();
                let pool = "()[]{}'\"@|,;.=!~<>-+*/ \n\\0123456789aZ_渡辺\u{0}\t";
                let pick = pool.chars().nth(next() % pool.chars().count()).unwrap_or(' ');
                match next() % 3 {
                    0 => c[i] = pick,
                    1 => c.insert(i, pick),
                    _ => {
                        c.remove(i);
                    }
                }
            }
            let q: String = c.into_iter().collect();
            if let Ok(rs) = execute(&q, &ctx) {
                rs.rows.take(3).for_each(drop);
            }
            tried += 1;
        }
    }
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..next() % 60).map(|_| (next() % 256) as u8).collect();
        let q = String::from_utf8_lossy(&bytes);
        if let Ok(rs) = execute(&q, &ctx) {
            rs.rows.take(3).for_each(drop);
        }
    }
    assert!(tried > 900);
    // Deep nesting and long chains are refused or evaluated, never overflow the stack.
    let deep = format!("AlertInfo | where {}true{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(execute(&deep, &ctx).err().is_some_and(|e| e.message.contains("nests more than")));
    let neg = format!("AlertInfo | extend x = {}1", "-".repeat(100_000));
    assert!(execute(&neg, &ctx).is_err());
    let long = format!("AlertInfo | where {}true", "Title != 'x' and ".repeat(450));
    assert_eq!(execute(&long, &ctx).map(|r| r.rows.count()).ok(), Some(60));
    let longer = format!("AlertInfo | where {}true", "Title != 'x' and ".repeat(100_000));
    assert!(execute(&longer, &ctx).is_err());
    let sum = format!("AlertInfo | extend x = {}1 | take 1", "1 + ".repeat(60));
    assert!(execute(&sum, &ctx).is_ok());
    let sum = format!("AlertInfo | extend x = {}1 | take 1", "1 + ".repeat(100_000));
    assert!(execute(&sum, &ctx).is_err());
    let member = format!(
        "IdentityLogonEvents | extend x = AdditionalFields{} | take 1",
        ".a".repeat(100_000)
    );
    assert!(execute(&member, &ctx).is_err());
    let nested = format!("AlertInfo | where {}true{} | take 1", "not(".repeat(60), ")".repeat(60));
    assert!(execute(&nested, &ctx).is_ok());
    let list = format!("AlertInfo | where Title in ({}'x')", "'a', ".repeat(5000));
    assert_eq!(execute(&list, &ctx).map(|r| r.rows.count()).ok(), Some(0));
    for q in [
        "",
        "   ",
        "//",
        ";",
        "|",
        "(",
        ")",
        "'",
        "\"",
        "@",
        "@'",
        "datetime(",
        "dynamic({",
        "AlertInfo | take -1",
        "AlertInfo | take 99999999999999999999",
        "AlertInfo | where Timestamp > ago(99999999d)",
        "AlertInfo | where 1/0 == 1 | take 1",
        "AlertInfo | where ProcessId",
    ] {
        if let Ok(rs) = execute(q, &ctx) {
            rs.rows.take(3).for_each(drop);
        }
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // reports the real time the evaluator takes
fn throughput_is_reasonable() {
    // 20,000 full-width rows through a filter and a projection, in a debug build.
    let c = Context { window: (t0(), t0() + TICKS_PER_HOUR), events_per_hour: 20_000, ..ctx() };
    let started = std::time::Instant::now();
    let n = run_in("DeviceProcessEvents | where ProcessCommandLine has 'powershell' or FileName =~ 'CMD.EXE' | project Timestamp, DeviceName", &c).1.len();
    assert!(n > 2_000, "{n}");
    eprintln!("throughput: {n} of 20000 rows in {:?}", started.elapsed());
}

#[test]
fn datetime_and_timespan_text() {
    assert_eq!(parse_datetime("1970-01-01"), Some(0));
    assert_eq!(parse_datetime("2026-11-20T10:00:00Z"), Some(t0() + 10 * TICKS_PER_HOUR));
    assert_eq!(
        parse_datetime("2024-02-29 00:00:01.5"),
        parse_datetime("2024-02-29T00:00:01.5000000Z")
    );
    assert_eq!(parse_datetime("2023-02-29"), None);
    assert_eq!(parse_datetime("2026-11-20T12:00:00+02:00"), Some(t0() + 10 * TICKS_PER_HOUR));
    assert_eq!(parse_datetime("2026-11-20T05:00:00-0500"), Some(t0() + 10 * TICKS_PER_HOUR));
    assert_eq!(parse_datetime("2026-11-20T05:00:00-05"), None);
    assert_eq!(parse_datetime("2026-11-20T05:00:00-渡辺"), None);
    assert_eq!(parse_datetime("2026-11-20T05:00:00-0渡"), None);
    assert_eq!(parse_datetime("2026-11-20T25:00:00"), None);
    assert_eq!(
        format_datetime(t0() + 10 * TICKS_PER_HOUR + 1_234_567),
        "2026-11-20T10:00:00.1234567Z"
    );
    assert_eq!(format_datetime(t0() + 1_160_000), "2026-11-20T00:00:00.116Z");
    assert_eq!(format_datetime(t0() + TICKS_PER_SECOND), "2026-11-20T00:00:01Z");
    assert_eq!(format_timespan(24 * TICKS_PER_HOUR), "1.00:00:00");
    assert_eq!(format_timespan(-90 * 60 * TICKS_PER_SECOND), "-01:30:00");
    assert_eq!(
        parse_timespan("1.02:03:04.5"),
        Some(((26 * 60 + 3) * 60 + 4) * TICKS_PER_SECOND + 5_000_000)
    );
    assert_eq!(parse_timespan("1.5h"), Some(TICKS_PER_HOUR * 3 / 2));
    assert_eq!(line_col("ab\ncd渡e", 8), (2, 4));
    assert_eq!(line_col("ab\ncd渡e", 9), (2, 5));
}
