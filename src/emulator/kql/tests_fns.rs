//! Tests of the scalar functions and aggregations hunting queries call, on small tables with
//! hand-computed answers.

use super::parse_datetime;
use super::tests::{err, eval, run, s};
use crate::emulator::data::Cell;

#[test]
fn string_and_regex_functions() {
    assert_eq!(eval("extract(@'(\\d+)\\.(\\d+)', 2, 'v 10.25 x')"), s("25"));
    assert_eq!(eval("extract('z(\\\\d)', 1, 'abc')"), Cell::Null);
    assert_eq!(eval("extract(@'port=(\\d+)', 1, 'port=443', typeof(long))"), Cell::Int(443));
    assert_eq!(eval("split('a,b,,c', ',')"), Cell::Dyn(serde_json::json!(["a", "b", "", "c"])));
    assert_eq!(eval("split('a,b,c', ',', 1)"), Cell::Dyn(serde_json::json!(["b"])));
    assert_eq!(eval("substring('abcdef', 2, 3)"), s("cde"));
    assert_eq!(eval("substring('zoë', 1)"), s("oë"));
    assert_eq!(eval("indexof('hello world', 'o')"), Cell::Int(4));
    assert_eq!(eval("indexof('hello', 'z')"), Cell::Int(-1));
    assert_eq!(eval("replace_string('a-b-c', '-', '+')"), s("a+b+c"));
    assert_eq!(
        eval("replace_regex('user=bob;id=7', @'(\\w+)=(\\w+)', @'\\2:\\1')"),
        s("bob:user;7:id")
    );
    assert_eq!(eval("trim(@'\\s+', '  x y  ')"), s("x y"));
    assert_eq!(eval("trim_start('a', 'aabca')"), s("bca"));
    assert_eq!(eval("strcat_delim('-', 'a', 1, true)"), s("a-1-true"));
    assert_eq!(eval("countof('abcabc', 'bc')"), Cell::Int(2));
    assert_eq!(eval("'cmd.exe /c whoami' matches regex @'^cmd\\.exe\\s'"), Cell::Bool(true));
    assert_eq!(eval("'powershell' matches regex 'cmd'"), Cell::Bool(false));
    assert_eq!(eval("base64_decode_tostring('aGVsbG8=')"), s("hello"));
    assert_eq!(
        eval("hash_sha256('abc')"),
        s("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(eval("coalesce('', 'b', 'c')"), s("b"));
    assert_eq!(eval("notempty('x')"), Cell::Bool(true));
    assert_eq!(eval("case(1 > 2, 'a', 2 > 1, 'b', 'c')"), s("b"));
    assert!(err("print x = extract('(', 1, 'a')").contains("invalid regular expression"));
}

#[test]
fn dynamic_datetime_ip_and_bits() {
    assert_eq!(eval("pack_array(1, 'a', true)"), Cell::Dyn(serde_json::json!([1, "a", true])));
    assert_eq!(
        eval("bag_pack('k', 1, 'v', 'x')"),
        Cell::Dyn(serde_json::json!({"k": 1, "v": "x"}))
    );
    assert_eq!(eval("set_has_element(dynamic(['a', 'b']), 'b')"), Cell::Bool(true));
    assert_eq!(eval("array_index_of(dynamic([3, 4]), 4)"), Cell::Int(1));
    assert_eq!(eval("extractjson('$.a.b[1]', '{\"a\":{\"b\":[5,6]}}', typeof(int))"), Cell::Int(6));
    assert_eq!(eval("extractjson('$.name', dynamic({\"name\": \"x\"}))"), s("x"));
    assert_eq!(
        eval("parse_url('https://h.example:8443/p/q?a=1#f')"),
        Cell::Dyn(serde_json::json!({"Scheme": "https", "Host": "h.example", "Port": "8443",
            "Path": "/p/q", "Username": "", "Password": "", "Query Parameters": {"a": "1"},
            "Fragment": "f"}))
    );
    let t = |text: &str| Cell::Time(parse_datetime(text).unwrap());
    assert_eq!(eval("startofday(datetime(2026-11-20 13:14))"), t("2026-11-20"));
    assert_eq!(eval("startofday(datetime(2026-11-20 13:14), -1)"), t("2026-11-19"));
    assert_eq!(eval("startofweek(datetime(2026-11-20))"), t("2026-11-15"));
    assert_eq!(eval("startofmonth(datetime(2026-11-20))"), t("2026-11-01"));
    assert_eq!(
        eval("datetime_diff('day', datetime(2026-11-20), datetime(2026-11-01 23:00))"),
        Cell::Int(19)
    );
    assert_eq!(
        eval("datetime_diff('month', datetime(2026-11-20), datetime(2025-12-31))"),
        Cell::Int(11)
    );
    assert_eq!(eval("datetime_add('month', 1, datetime(2026-01-31))"), t("2026-02-28"));
    assert_eq!(
        eval("format_datetime(datetime(2026-11-20 07:08:09), 'yyyy-MM-dd HH:mm:ss')"),
        s("2026-11-20 07:08:09")
    );
    assert_eq!(eval("hourofday(datetime(2026-11-20 07:08))"), Cell::Int(7));
    assert_eq!(eval("dayofweek(datetime(2026-11-20))"), s("5.00:00:00"));
    assert_eq!(eval("ipv4_is_private('10.1.2.3')"), Cell::Bool(true));
    assert_eq!(eval("ipv4_is_private('52.96.165.18')"), Cell::Bool(false));
    assert_eq!(eval("ipv4_is_in_range('192.168.1.7', '192.168.1.0/24')"), Cell::Bool(true));
    assert_eq!(eval("binary_and(12, 10)"), Cell::Int(8));
    assert_eq!(eval("binary_shift_left(1, 4)"), Cell::Int(16));
    assert_eq!(eval("round(2.345, 2)"), Cell::Real(2.35));
    assert_eq!(eval("max_of(3, 9, 4)"), Cell::Int(9));
}

const T: &str = "let T = datatable(g: string, v: long, t: datetime) \
    ['a', 3, datetime(2026-11-20 01:00), 'a', 1, datetime(2026-11-20 03:00), \
     'b', 5, datetime(2026-11-20 02:00), 'a', 3, datetime(2026-11-20 02:00), 'b', long(null), datetime(2026-11-20 04:00)];";

#[test]
fn aggregations() {
    let q = format!(
        "{T} T | summarize set = make_set(v), list = make_list(v), n = dcountif(v, v > 1), \
         s = sumif(v, g == 'a'), any = take_any(g), c = count_distinct(v) by g"
    );
    let (cols, rows) = run(&q);
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "set", "list", "n", "s", "any", "c"]);
    assert_eq!(cols[1].1, "Dynamic");
    assert_eq!(
        rows[0][1..],
        [
            Cell::Dyn(serde_json::json!([3, 1])),
            Cell::Dyn(serde_json::json!([3, 1, 3])),
            Cell::Int(1),
            Cell::Int(7),
            s("a"),
            Cell::Int(2),
        ]
    );
    assert_eq!(
        rows[1][1..4],
        [Cell::Dyn(serde_json::json!([5])), Cell::Dyn(serde_json::json!([5])), Cell::Int(1)]
    );
    assert_eq!(rows[1][4], Cell::Null, "sumif with no row kept is null");
    // arg_max: the row of the largest v per group (first such row on ties), with *.
    let (cols, rows) = run(&format!("{T} T | summarize arg_max(v, *) by g"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "v", "t"]);
    let t = |h: i64| Cell::Time(parse_datetime("2026-11-20").unwrap() + h * 36_000_000_000);
    assert_eq!(rows, vec![vec![s("a"), Cell::Int(3), t(1)], vec![s("b"), Cell::Int(5), t(2)]]);
    let (cols, rows) = run(&format!("{T} T | summarize arg_min(t, v) by g"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "t", "v"]);
    assert_eq!(rows, vec![vec![s("a"), t(1), Cell::Int(3)], vec![s("b"), t(2), Cell::Int(5)]]);
    // `(A, B) = arg_max(…)` names each output column in turn.
    let (cols, rows) =
        run(&format!("{T} T | summarize (V, Last) = arg_max(v, t), n = count() by g"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "V", "Last", "n"]);
    assert_eq!(
        rows,
        vec![
            vec![s("a"), Cell::Int(3), t(1), Cell::Int(3)],
            vec![s("b"), Cell::Int(5), t(2), Cell::Int(2)]
        ]
    );
    let e = err(&format!("{T} T | summarize (a, b, c) = arg_max(t, v)"));
    assert!(e.contains("2 output column(s), but 3 name(s)"), "{e}");
    assert_eq!(
        run(&format!("{T} T | summarize make_set(g, 1)")).1,
        vec![vec![Cell::Dyn(serde_json::json!(["a"]))]]
    );
    assert!(
        err(&format!("{T} T | summarize percentilesw(v)")).contains("Unknown aggregation function")
    );
}

#[test]
fn command_lines_and_bytes() {
    assert_eq!(
        eval(r#"parse_command_line(@'"C:\Program Files\x.exe" -a "b c" d', 'windows')"#),
        Cell::Dyn(serde_json::json!([r"C:\Program Files\x.exe", "-a", "b c", "d"]))
    );
    assert_eq!(eval("base64_decode_toarray('AQID')"), Cell::Dyn(serde_json::json!([1, 2, 3])));
    assert_eq!(eval("make_string(dynamic([104, 105]), 33)"), s("hi!"));
    // RE2's octal escapes: `\0` is NUL (UTF-16 text decoded byte by byte has them).
    assert_eq!(eval("replace(@'\0', '', make_string(dynamic([104, 0, 105, 0])))"), s("hi"));
}

#[test]
fn percentiles_and_bags() {
    // Nearest rank over 1..10: p50 → rank 5, p95 → rank 10, p0 → the smallest.
    let (cols, rows) = run(
        "range x from 1 to 10 step 1 | summarize percentiles(x, 0, 50, 95), p = percentile(x, 30)",
    );
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["percentile_x_0", "percentile_x_50", "percentile_x_95", "p"]);
    assert_eq!(rows, vec![vec![Cell::Int(1), Cell::Int(5), Cell::Int(10), Cell::Int(3)]]);
    let (_, rows) = run(
        "datatable(b: dynamic) [dynamic({'a': 1}), dynamic({'a': 2, 'b': 3})] | summarize make_bag(b)",
    );
    assert_eq!(rows, vec![vec![Cell::Dyn(serde_json::json!({"a": 1, "b": 3}))]]);
    let (cols, rows) = run(
        "datatable(id: long, b: dynamic) [1, dynamic({'a': 1}), 2, dynamic({'c': 'x', 'a': 2})] | evaluate bag_unpack(b)",
    );
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["id", "a", "c"]);
    assert_eq!(rows[0], vec![Cell::Int(1), Cell::Dyn(serde_json::json!(1)), Cell::Null]);
    assert_eq!(
        rows[1],
        vec![Cell::Int(2), Cell::Dyn(serde_json::json!(2)), Cell::Dyn(serde_json::json!("x"))]
    );
    assert!(
        err("print x = 1 | evaluate autocluster()")
            .contains("'evaluate autocluster' plugin is not supported")
    );
}

#[test]
fn make_series() {
    // Hours 0..4 from 00:00; a: v at 01:00 (3), 02:00 (3), 03:00 (1); b: 02:00 (5), 04:00 (null).
    let q = format!(
        "{T} T | make-series n = count(), s = sum(v) default = -1 on t \
         from datetime(2026-11-20) to datetime(2026-11-20 05:00) step 1h by g"
    );
    let (cols, rows) = run(&q);
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "n", "s", "t"]);
    assert!(cols[1..].iter().all(|c| c.1 == "Dynamic"));
    let j = |v: serde_json::Value| Cell::Dyn(v);
    assert_eq!(
        rows[0][..3],
        [s("a"), j(serde_json::json!([0, 1, 1, 1, 0])), j(serde_json::json!([-1, 3, 3, 1, -1]))]
    );
    assert_eq!(rows[1][..2], [s("b"), j(serde_json::json!([0, 0, 1, 0, 1]))]);
    assert_eq!(
        rows[0][3],
        j(serde_json::json!([
            "2026-11-20T00:00:00Z",
            "2026-11-20T01:00:00Z",
            "2026-11-20T02:00:00Z",
            "2026-11-20T03:00:00Z",
            "2026-11-20T04:00:00Z"
        ]))
    );
}

#[test]
fn serialize_row_number_prev_and_next() {
    let (cols, rows) = run(
        "range x from 10 to 40 step 10 | serialize n = row_number() | extend p = prev(x), q = prev(x, 2, -1), r = row_number(0)",
    );
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["x", "n", "p", "q", "r"]);
    let i = Cell::Int;
    assert_eq!(
        rows,
        vec![
            vec![i(10), i(1), Cell::Null, i(-1), i(0)],
            vec![i(20), i(2), i(10), i(-1), i(1)],
            vec![i(30), i(3), i(20), i(10), i(2)],
            vec![i(40), i(4), i(30), i(20), i(3)],
        ]
    );
    assert!(err("range x from 1 to 3 step 1 | where row_number() > 1").contains("not supported"));
    // next(): the row ahead, or the default past the end; several offsets in one operator.
    let (_, rows) =
        run("range x from 10 to 40 step 10 | serialize | extend a = next(x), b = next(x, 2, -1), \
         c = x + next(x, 1, 0), d = prev(x)");
    assert_eq!(
        rows,
        vec![
            vec![i(10), i(20), i(30), i(30), Cell::Null],
            vec![i(20), i(30), i(40), i(50), i(10)],
            vec![i(30), i(40), i(-1), i(70), i(20)],
            vec![i(40), Cell::Null, i(-1), i(40), i(30)],
        ]
    );
    // Then filtered: every row still sees the row after it in the operator's input.
    let (_, rows) = run("range x from 1 to 5 step 1 | extend n = next(x) | where x % 2 == 0");
    assert_eq!(rows, vec![vec![i(2), i(3)], vec![i(4), i(5)]]);
    assert!(err("range x from 1 to 3 step 1 | where next(x) > 1").contains("not supported"));
}
