//! Tests of the functions a larger corpus of public hunting queries found missing
//! (`builtins::extra` and `pack_all`), with hand-computed answers.

use serde_json::json;

use super::tests::{eval, run, s};
use crate::emulator::data::Cell;

#[test]
fn format_timespan_specifiers() {
    let t = "time(29.09:00:05.12345)";
    assert_eq!(eval(&format!("format_timespan({t}, 'dd.hh:mm:ss:FF')")), s("29.09:00:05:12"));
    assert_eq!(
        eval(&format!("format_timespan({t}, 'ddd.h:mm:ss [fffffff]')")),
        s("029.9:00:05 [1234500]")
    );
    assert_eq!(eval(&format!("format_timespan({t}, 'FFFFFFF')")), s("12345"));
    assert_eq!(eval("format_timespan(time(1:02:03), 'hh\\'h\\' mm\\'m\\'')"), s("01h 02m"));
    assert_eq!(eval("format_timespan(time(-1:00:00), 'hh:mm')"), s("-01:00"));
    assert_eq!(eval("format_timespan(time(1:00:00), 'q')"), Cell::Null);
}

#[test]
fn parse_version_orders_versions() {
    assert_eq!(eval("parse_version('1.2.3.4')"), Cell::Real(1_00000002_00000003_00000004f64));
    assert_eq!(eval("parse_version('10')"), Cell::Real(1e25));
    assert_eq!(eval("parse_version('1.2.3.4.5')"), Cell::Null);
    assert_eq!(eval("parse_version('1.x')"), Cell::Null);
    assert_eq!(
        eval("parse_version('10.8040.1.0') > parse_version('10.3720.9.0')"),
        Cell::Bool(true)
    );
    assert_eq!(eval("parse_version('9.9') < parse_version('10.0')"), Cell::Bool(true));
}

#[test]
fn sets_trigonometry_and_ranges() {
    assert_eq!(eval("jaccard_index(dynamic([1, 2, 3]), dynamic([2, 3, 4, 4]))"), Cell::Real(0.5));
    assert_eq!(eval("jaccard_index(dynamic([]), dynamic([]))"), Cell::Real(0.0));
    let Cell::Real(c) = eval("cot(1.0)") else { panic!("cot is a real") };
    assert!((c - 1.0 / 1f64.tan()).abs() < 1e-12);
    assert_eq!(eval("range(1, 7, 3)"), Cell::Dyn(json!([1, 4, 7])));
    assert_eq!(eval("range(5, 1, -2)"), Cell::Dyn(json!([5, 3, 1])));
    assert_eq!(eval("range(1, 3)"), Cell::Dyn(json!([1, 2, 3])));
    assert_eq!(eval("range(1, 3, 0)"), Cell::Dyn(json!(null)));
    assert_eq!(
        eval("range(datetime(2026-11-20), datetime(2026-11-20 02:00), 1h)"),
        Cell::Dyn(json!(["2026-11-20T00:00:00Z", "2026-11-20T01:00:00Z", "2026-11-20T02:00:00Z"]))
    );
    assert_eq!(eval("array_length(range(1, 2000000))"), Cell::Null);
}

#[test]
fn geo_info_is_empty_for_private_addresses_and_stable_for_public_ones() {
    assert_eq!(eval("geo_info_from_ip_address('10.1.2.3')"), Cell::Dyn(json!({})));
    assert_eq!(eval("geo_info_from_ip_address('192.168.0.1')"), Cell::Dyn(json!({})));
    assert_eq!(eval("geo_info_from_ip_address('not an ip')"), Cell::Dyn(json!({})));
    let Cell::Dyn(a) = eval("geo_info_from_ip_address('20.53.203.50')") else { panic!() };
    for key in ["country", "state", "city", "latitude", "longitude"] {
        assert!(a.get(key).is_some(), "{key} in {a}");
    }
    assert_eq!(eval("geo_info_from_ip_address('20.53.203.50')"), Cell::Dyn(a.clone()));
    assert_eq!(
        eval("tostring(geo_info_from_ip_address('20.53.203.50').country)"),
        Cell::Str(a["country"].as_str().unwrap_or_default().into())
    );
}

#[test]
fn pack_all_packs_every_column() {
    let t = "datatable(a: string, b: long, c: string) ['x', 1, '', 'y', long(null), 'z']";
    // Each item of `extend` sees the ones before it, so q is packed before p is added.
    let (_, rows) = run(&format!(
        "{t} | extend q = pack_all(true) | extend p = pack_all() | project p = bag_remove_keys(p, dynamic(['q'])), q"
    ));
    assert_eq!(
        rows,
        vec![
            vec![
                Cell::Dyn(json!({"a": "x", "b": 1, "c": ""})),
                Cell::Dyn(json!({"a": "x", "b": 1}))
            ],
            vec![
                Cell::Dyn(json!({"a": "y", "b": null, "c": "z"})),
                Cell::Dyn(json!({"a": "y", "c": "z"}))
            ],
        ]
    );
    assert_eq!(
        eval("bag_remove_keys(dynamic({'a': 1, 'b': {'c': 2, 'd': 3}}), dynamic(['a', '$.b.c']))"),
        Cell::Dyn(json!({"b": {"d": 3}}))
    );
    // More than 64 values in one pack_array.
    let many = (0..70).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    assert_eq!(eval(&format!("array_length(pack_array({many}))")), Cell::Int(70));
}

#[test]
fn search_terms_and_column_terms() {
    let t = "let T = datatable(a: string, b: string) ['ntds dit', 'FileModified', 'ntds', 'FileCreated', 'x', 'ntds dit'];";
    let (_, rows) =
        run(&format!("{t} search in (T) \"ntds\" and \"dit\" and b:\"FileModified\" | project a"));
    assert_eq!(rows, vec![vec![s("ntds dit")]]);
    let (_, rows) = run(&format!("{t} T | search \"dit\" or b:\"FileCreated\" | project a"));
    assert_eq!(rows, vec![vec![s("ntds dit")], vec![s("ntds")], vec![s("x")]]);
    // A column the table lacks matches nothing.
    assert!(run(&format!("{t} T | search c:\"x\"")).1.is_empty());
}

#[test]
fn make_series_in_range() {
    let t = "datatable(t: datetime) [datetime(2026-11-20 00:10), datetime(2026-11-20 01:10), datetime(2026-11-20 01:20)]";
    let q = format!(
        "{t} | make-series n = count() on t in range(datetime(2026-11-20), datetime(2026-11-20 02:00), 1h)"
    );
    let (_, rows) = run(&q);
    assert_eq!(rows[0][0], Cell::Dyn(json!([1, 2])));
}

#[test]
fn bag_unpack_options_and_output_schema() {
    let t = "datatable(d: string, b: dynamic) ['dev1', dynamic({'d': 'x', 'v': '1.5', 'n': 7, 'skip': 1})]";
    let (cols, rows) = run(&format!(
        "{t} | evaluate bag_unpack(b, columnsConflict='keep_source', ignoredProperties=dynamic(['skip']))"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["d", "n", "v"]);
    assert_eq!(rows, vec![vec![s("dev1"), Cell::Dyn(json!(7)), Cell::Dyn(json!("1.5"))]]);
    let (_, rows) = run(&format!("{t} | evaluate bag_unpack(b, columnsConflict='replace_source')"));
    assert_eq!(rows[0][0], Cell::Dyn(json!("x")));
    // The output schema: those columns, typed, in that order; null where none was made.
    let (cols, rows) = run(&format!(
        "{t} | evaluate bag_unpack(b, 'p_') : (p_n: long, d: string, p_v: real, missing: string)"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["p_n", "d", "p_v", "missing"]);
    assert_eq!(cols[0].1, "Int64");
    assert_eq!(rows, vec![vec![Cell::Int(7), s("dev1"), Cell::Real(1.5), Cell::Null]]);
}

#[test]
fn find_across_tables() {
    let t = "let A = datatable(Timestamp: long, SHA1: string, x: string) [1, 'h', 'a1', 2, 'z', 'a2'];\
             let B = datatable(Timestamp: long, InitiatingProcessSHA1: string, y: string) [3, 'h', '', 4, 'q', 'b2'];";
    // project: the listed columns, null where a table lacks one, after source_.
    let (cols, rows) = run(&format!(
        "{t} find in (A, B) where SHA1 == 'h' or InitiatingProcessSHA1 == 'h' project Timestamp, x"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["source_", "Timestamp", "x"]);
    assert_eq!(
        rows,
        vec![vec![s("A"), Cell::Int(1), s("a1")], vec![s("B"), Cell::Int(3), Cell::Null]]
    );
    // project-smart: the predicate's columns and the common ones, the rest in pack_ (without
    // empty values).
    let (cols, rows) = run(&format!(
        "{t} find withsource=T in (A, B) where SHA1 == 'h' or InitiatingProcessSHA1 == 'h' | where Timestamp > 0"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["T", "Timestamp", "SHA1", "InitiatingProcessSHA1", "pack_"]);
    assert_eq!(rows[0][4], Cell::Dyn(json!({"x": "a1"})));
    assert_eq!(rows[1][4], Cell::Dyn(json!({})));
    assert_eq!(rows[1][3], s("h"));
}

#[test]
fn slices_scalar_toscalar_and_patterns_from_rows() {
    assert_eq!(eval("array_slice(dynamic([1, 2, 3, 4]), 1, 2)"), Cell::Dyn(json!([2, 3])));
    assert_eq!(eval("array_slice(dynamic([1, 2, 3, 4]), -2, -1)"), Cell::Dyn(json!([3, 4])));
    assert_eq!(eval("array_slice(dynamic([1, 2, 3, 4]), 3, 9)"), Cell::Dyn(json!([4])));
    assert_eq!(eval("array_slice(dynamic([1, 2]), 2, 1)"), Cell::Dyn(json!([])));
    let (_, rows) =
        run("let v = pack_array('a', 'b', 'c'); let n = toscalar(array_length(v)); print n");
    assert_eq!(rows, vec![vec![Cell::Int(3)]]);
    let t = "datatable(x: string, p: string) ['abc', 'b.', 'abc', '^b', 'x', '[']";
    let (_, rows) = run(&format!("{t} | where x matches regex p | project x, p"));
    assert_eq!(rows, vec![vec![s("abc"), s("b.")]]);
}

#[test]
fn hex_integers_in_typed_literals() {
    assert_eq!(eval("long(0xf090013d)"), Cell::Int(0xf090_013d));
    assert_eq!(eval("int(0x10) + 1"), Cell::Int(17));
}

#[test]
fn array_sorts() {
    assert_eq!(eval("array_sort_asc(dynamic([3, null, 1, 2]))"), Cell::Dyn(json!([1, 2, 3, null])));
    assert_eq!(
        eval("array_sort_desc(dynamic(['b', 'c', 'a']))"),
        Cell::Dyn(json!(["c", "b", "a"]))
    );
    assert_eq!(
        eval("array_sort_asc(dynamic([2, null, 1]), false)"),
        Cell::Dyn(json!([null, 1, 2]))
    );
}

#[test]
fn strcat_array_and_rand() {
    assert_eq!(eval("strcat_array(dynamic(['a', 1, 'b']), '\\\\')"), s("a\\1\\b"));
    // rand() is evaluated per row, within its range.
    let (_, rows) = run(
        "range i from 1 to 200 step 1 | extend r = rand(), n = rand(10) | summarize dcount(r), min(r), max(r), min(n), max(n)",
    );
    let [Cell::Int(distinct), Cell::Real(lo), Cell::Real(hi), Cell::Int(nlo), Cell::Int(nhi)] =
        rows[0][..]
    else {
        panic!("{rows:?}")
    };
    assert!(distinct > 150, "{distinct}");
    assert!((0.0..1.0).contains(&lo) && (0.0..1.0).contains(&hi) && lo < hi);
    assert!(nlo >= 0 && nhi < 10 && nlo < nhi);
}

#[test]
fn getschema_describes_the_columns() {
    let (cols, rows) =
        run("datatable(a: string, b: long, c: dynamic) ['x', 1, dynamic(null)] | getschema");
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["ColumnName", "ColumnOrdinal", "DataType", "ColumnType"]);
    assert_eq!(rows[1], vec![s("b"), Cell::Int(1), s("System.Int64"), s("long")]);
    assert_eq!(rows[2][3], s("dynamic"));
}

#[test]
fn time_generated_refusal_says_what_to_do() {
    let e = super::tests::err("datatable(a: long) [1] | where TimeGenerated > ago(1d)");
    assert!(e.contains("Failed to resolve scalar expression named 'TimeGenerated'"), "{e}");
    assert!(e.contains("use Timestamp") && e.contains("sentinel_streamed = true"), "{e}");
    let e = super::tests::err("datatable(a: long) [1] | where Other > 1");
    assert!(!e.contains("Sentinel"), "{e}");
}

#[test]
fn ipv4_lookup_joins_addresses_to_ranges() {
    let q = "let Nets = datatable(Net: string, Label: string) ['10.0.0.0/8', 'corp', '203.0.113.7', 'bad'];\
             datatable(ip: string) ['10.1.2.3', '203.0.113.7', '8.8.8.8', 'nope']";
    let (cols, rows) = run(&format!("{q} | evaluate ipv4_lookup(Nets, ip, Net)"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["ip", "Net", "Label"]);
    assert_eq!(
        rows,
        vec![
            vec![s("10.1.2.3"), s("10.0.0.0/8"), s("corp")],
            vec![s("203.0.113.7"), s("203.0.113.7"), s("bad")]
        ]
    );
    let (_, rows) = run(&format!(
        "{q} | evaluate ipv4_lookup(Nets, ip, Net, return_unmatched = true) | where isempty(Net)"
    ));
    assert_eq!(
        rows,
        vec![vec![s("8.8.8.8"), Cell::Null, Cell::Null], vec![s("nope"), Cell::Null, Cell::Null]]
    );
}

/// `where Col:"term"` is `has`; `where Name = predicate` names the predicate (Microsoft's
/// analyzer accepts both; a named non-Boolean is refused as it refuses it).
#[test]
fn where_column_terms_and_named_predicates() {
    let t = "datatable(a: string, n: long) ['ntds dit', 1, 'ntdsutil', 2]";
    assert_eq!(run(&format!("{t} | where a:\"dit\" | project n")).1, vec![vec![Cell::Int(1)]]);
    assert_eq!(run(&format!("{t} | where x = n > 1 | project n")).1, vec![vec![Cell::Int(2)]]);
    let e = super::tests::err(&format!("{t} | where x = a"));
    assert!(e.contains("must have the type bool"), "{e}");
}

#[test]
fn device_functions_look_up_the_tenants_devices() {
    let (cols, rows) =
        run("AssignedIPAddresses('dc01', datetime(2026-11-20)) | project IPAddress, IPType");
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["IPAddress", "IPType"]);
    assert_eq!(rows[0], vec![s("10.0.0.10"), s("Private")]);
    assert_eq!(rows[1][1], s("LinkLocal"));
    // And back: the device that had the address.
    let (_, rows) = run(
        "DeviceFromIP('10.0.0.10') | join kind=inner (AssignedIPAddresses('dc01.contoso.com')) on $left.IP == $right.IPAddress | project IP",
    );
    assert_eq!(rows, vec![vec![s("10.0.0.10")]]);
    assert!(run("DeviceFromIP('203.0.113.1')").1.is_empty());
}
