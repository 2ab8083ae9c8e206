//! Tests of what running the public hunting queries found missing, with hand-computed
//! answers: the functions of `builtins::more`, `parsejson`, `(A, B) = arg_max(…)` and
//! dynamic literals written across lines with comments.

use serde_json::json;

use super::tests::{eval, run, s};
use crate::emulator::data::Cell;

#[test]
fn sizes_ips_and_bytes() {
    assert_eq!(eval("string_size('abc')"), Cell::Int(3));
    // é is two bytes in UTF-8.
    assert_eq!(eval("string_size('é')"), Cell::Int(2));
    assert_eq!(eval("ipv4_is_match('192.168.1.1', '192.168.1.255')"), Cell::Bool(false));
    assert_eq!(eval("ipv4_is_match('192.168.1.1/24', '192.168.1.255')"), Cell::Bool(true));
    assert_eq!(eval("ipv4_is_match('192.168.1.1', '192.168.1.255', 24)"), Cell::Bool(true));
    assert_eq!(eval("ipv4_is_match('192.168.1.1', '192.168.2.1', 24)"), Cell::Bool(false));
    assert_eq!(eval("ipv4_is_match('nope', '192.168.2.1')"), Cell::Null);
    assert_eq!(eval("format_bytes(564)"), s("564 Bytes"));
    // 10332 / 1024 = 10.09; 20010332 / 1024² = 19.08.
    assert_eq!(eval("format_bytes(10332, 1)"), s("10.1 KB"));
    assert_eq!(eval("format_bytes(20010332)"), s("19 MB"));
    assert_eq!(eval("format_bytes(20010332, 2)"), s("19.08 MB"));
    assert_eq!(eval("format_bytes(2048, 0, 'Bytes')"), s("2048 Bytes"));
}

#[test]
fn datetime_parts() {
    let at = "datetime(2026-11-20 13:45:10.5)";
    assert_eq!(eval(&format!("datetime_part('hour', {at})")), Cell::Int(13));
    assert_eq!(eval(&format!("datetime_part('Minute', {at})")), Cell::Int(45));
    assert_eq!(eval(&format!("datetime_part('millisecond', {at})")), Cell::Int(500));
    assert_eq!(eval(&format!("datetime_part('quarter', {at})")), Cell::Int(4));
    // 304 days in January–October 2026, then 20.
    assert_eq!(eval(&format!("datetime_part('dayofyear', {at})")), Cell::Int(324));
    // 2026-01-01 is a Thursday, so ISO week 1 starts 2025-12-29; Thursday 2026-11-19 is
    // 322 days after 2026-01-01: week 47.
    assert_eq!(eval(&format!("datetime_part('week_of_year', {at})")), Cell::Int(47));
    assert_eq!(eval(&format!("datetime_part('fortnight', {at})")), Cell::Null);
}

#[test]
fn strings_sets_and_urls() {
    let q = "has_any_index('this is an example', dynamic(['what', 'example']))";
    assert_eq!(eval(q), Cell::Int(1));
    assert_eq!(eval("has_any_index('this is an example', dynamic(['amp', 'x']))"), Cell::Int(-1));
    assert_eq!(eval("unicode_codepoints_from_string('Aé')"), Cell::Dyn(json!([65, 233])));
    let q = "set_intersect(dynamic([1, 2, 3, 2]), dynamic([2, 3, 4]))";
    assert_eq!(eval(q), Cell::Dyn(json!([2, 3])));
    let q = "set_difference(dynamic([1, 2, 3]), dynamic([2]), dynamic([3, 4]))";
    assert_eq!(eval(q), Cell::Dyn(json!([1])));
    assert_eq!(eval("url_encode('https://www.bing.com/')"), s("https%3a%2f%2fwww.bing.com%2f"));
    assert_eq!(eval("url_encode('a b')"), s("a+b"));
    assert_eq!(eval("url_decode('https%3a%2f%2fwww.bing.com%2f')"), s("https://www.bing.com/"));
    assert_eq!(eval("url_decode('%E2%82%AC+1%')"), s("€ 1%"));
    assert_eq!(eval("parsejson('{\"a\": 1}').a"), Cell::Dyn(json!(1)));
}

#[test]
fn types_and_math() {
    assert_eq!(eval("gettype(1)"), s("long"));
    assert_eq!(eval("gettype('a')"), s("string"));
    assert_eq!(eval("gettype(1.5)"), s("real"));
    assert_eq!(eval("gettype(1h)"), s("timespan"));
    assert_eq!(eval("gettype(now())"), s("datetime"));
    assert_eq!(eval("gettype(dynamic([1]))"), s("array"));
    assert_eq!(eval("gettype(dynamic({'a': 1}))"), s("dictionary"));
    assert_eq!(eval("gettype(parse_json('5'))"), s("long"));
    assert_eq!(eval("sin(0)"), Cell::Real(0.0));
    assert_eq!(eval("sqrt(16)"), Cell::Real(4.0));
    assert_eq!(eval("pow(2, 10)"), Cell::Real(1024.0));
    assert_eq!(eval("log10(1000)"), Cell::Real(3.0));
    assert_eq!(eval("sqrt(-1)"), Cell::Null);
}

/// A dynamic literal as written in public queries: strings on several lines, comments, and two
/// strings with no comma between them, which Kusto joins into one.
#[test]
fn dynamic_literals_across_lines() {
    let q = "print d = dynamic([\n  \"a\", // first\n  \"b\" // no comma: joined with the next\n  \"c\",\n  @'C:\\x'\n])";
    assert_eq!(run(q).1[0][0], Cell::Dyn(json!(["a", "bc", "C:\\x"])));
}

#[test]
fn column_ifexists_takes_the_column_or_the_default() {
    let t = "datatable(a: long) [1, 2]";
    let q = format!("{t} | project x = column_ifexists('a', 0), y = column_ifexists('b', 'none')");
    assert_eq!(run(&q).1, vec![vec![Cell::Int(1), s("none")], vec![Cell::Int(2), s("none")]]);
}

/// `evaluate pivot`: a column per value of the pivot column (ascending), a row per group.
#[test]
fn pivot_counts_and_aggregates_per_value() {
    let t = "datatable(u: string, a: string, n: long) \
             ['x', 'Logon', 1, 'x', 'Logon', 2, 'x', 'Fail', 5, 'y', 'Fail', 7]";
    let (cols, rows) = run(&format!("{t} | evaluate pivot(a, count(), u)"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["u", "Fail", "Logon"]);
    let i = Cell::Int;
    assert_eq!(rows, vec![vec![s("x"), i(1), i(2)], vec![s("y"), i(1), i(0)]]);
    let rows = run(&format!("{t} | evaluate pivot(a, sum(n), u)")).1;
    assert_eq!(rows, vec![vec![s("x"), i(5), i(3)], vec![s("y"), i(7), Cell::Null]]);
    let (cols, rows) = run(&format!("{t} | evaluate pivot(a)"));
    assert_eq!(cols.len(), 2);
    assert_eq!(rows, vec![vec![i(2), i(2)]]);
    let e = super::execute(&format!("{t} | evaluate pivot(b)"), &super::tests::ctx());
    assert!(e.err().unwrap().message.contains("'b'"));
}

/// Implicit column names as Microsoft's analyzer (Kusto.Language) infers them: `x.a` is
/// `x_a`, a conversion or `bin` keeps its argument's name, anything else is `Column1`.
#[test]
fn implicit_names_of_conversions_and_members() {
    let t = "datatable(x: dynamic, y: long) [dynamic({'a': {'b': 1}, 'c': 'k'}), 5]";
    let (cols, rows) = run(&format!("{t} | summarize count() by tostring(x.c), bin(y, 2)"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["x_c", "y", "count_"]);
    assert_eq!(rows, vec![vec![s("k"), Cell::Int(4), Cell::Int(1)]]);
    let (cols, rows) = run(&format!("{t} | extend todouble(y), x.a"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["x", "y", "x_a"]);
    assert_eq!(rows[0][1..], [Cell::Real(5.0), Cell::Dyn(json!({"b": 1}))]);
    let (cols, _) = run(&format!("{t} | project tostring(x['c']), x.a.b, tolower('A'), y"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["x_c", "x_a_b", "Column1", "y"]);
    // Names of function calls, as Microsoft's analyzer gives them.
    let (cols, _) = run("datatable(w: string, d: dynamic) ['a,b', dynamic([2, 1])] \
         | extend strlen(w), gettype(w), array_sort_asc(d), startofday(now()), column_ifexists('w', '') \
         | extend split(w, ',')");
    let names: Vec<(&str, &str)> = cols.iter().map(|c| (c.0.as_str(), c.1.as_str())).collect();
    assert_eq!(
        names,
        [
            ("w", "Dynamic"),
            ("d", "Dynamic"),
            ("strlen_w", "Int64"),
            ("type_w", "String"),
            ("d_sorted", "Dynamic"),
            ("Column1", "DateTime")
        ]
    );
    // A second unnamed expression is Column2 (not Column11).
    let (cols, _) = run("datatable(a: long) [1] | extend tolower('A'), toupper('b'), 3");
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["a", "Column1", "Column2", "Column3"]);
}
