//! Tests of the operators that make or combine tables (`datatable`, `print`, `range`, `join`
//! of every kind, `lookup`, `union`), on small tables with hand-computed answers.

use super::tests::{err, run, s};
use crate::emulator::data::Cell;

fn i(v: i64) -> Cell {
    Cell::Int(v)
}

const L: &str = "let L = datatable(k: string, a: long) ['x', 1, 'y', 2, 'y', 3, 'z', 4, '', 5];";
const R: &str = "let R = datatable(k: string, b: string) ['y', 'r1', 'y', 'r2', 'w', 'r3'];";

fn join(kind: &str) -> (Vec<String>, Vec<Vec<Cell>>) {
    let (cols, rows) = run(&format!("{L}{R} L | join {kind} R on k"));
    (cols.into_iter().map(|c| c.0).collect(), rows)
}

#[test]
fn datatable_print_and_range() {
    let (cols, rows) = run(
        "datatable(s: string, n: long, r: real, b: bool, t: datetime, d: dynamic) \
         ['a', 1, 1.5, true, datetime(2026-11-20), dynamic([1]), \"b\", -2, 2, false, datetime(null), dynamic({\"x\":1})]",
    );
    let types: Vec<&str> = cols.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(types, ["String", "Int64", "Double", "Boolean", "DateTime", "Dynamic"]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][..4], [s("b"), i(-2), Cell::Real(2.0), Cell::Bool(false)]);
    assert_eq!(rows[1][4], Cell::Null);
    assert_eq!(rows[1][5], Cell::Dyn(serde_json::json!({"x": 1})));
    let (cols, rows) = run("print x = 1 + 2, 'a'");
    assert_eq!(cols, vec![("x".into(), "Int64".into()), ("print_1".into(), "String".into())]);
    assert_eq!(rows, vec![vec![i(3), s("a")]]);
    let (cols, rows) = run("range n from 1 to 10 step 3 | where n > 1");
    assert_eq!(cols, vec![("n".into(), "Int64".into())]);
    assert_eq!(rows, vec![vec![i(4)], vec![i(7)], vec![i(10)]]);
    assert!(
        err("externaldata(a: string) [@'https://example.com/x.csv'] with (format='csv')")
            .contains("no network")
    );
}

#[test]
fn join_kinds() {
    // innerunique (the default): one left row per key ('y' → a=2), times its right matches.
    let (cols, rows) = join("");
    assert_eq!(cols, ["k", "a", "k1", "b"]);
    assert_eq!(
        rows,
        vec![vec![s("y"), i(2), s("y"), s("r1")], vec![s("y"), i(2), s("y"), s("r2")]]
    );
    assert_eq!(join("kind=innerunique").1, rows);
    let (_, rows) = join("kind=inner");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[2], vec![s("y"), i(3), s("y"), s("r1")]);
    let (_, rows) = join("kind=leftouter");
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0], vec![s("x"), i(1), Cell::Null, Cell::Null]);
    let (_, rows) = join("kind=rightouter");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4], vec![Cell::Null, Cell::Null, s("w"), s("r3")]);
    assert_eq!(join("kind=fullouter").1.len(), 8);
    let (cols, rows) = join("kind=leftsemi");
    assert_eq!(cols, ["k", "a"]);
    assert_eq!(rows, vec![vec![s("y"), i(2)], vec![s("y"), i(3)]]);
    let (_, rows) = join("kind=leftanti");
    assert_eq!(rows, vec![vec![s("x"), i(1)], vec![s("z"), i(4)], vec![s(""), i(5)]]);
    let (cols, rows) = join("kind=rightsemi");
    assert_eq!(cols, ["k", "b"]);
    assert_eq!(rows, vec![vec![s("y"), s("r1")], vec![s("y"), s("r2")]]);
    assert_eq!(join("kind=rightanti").1, vec![vec![s("w"), s("r3")]]);
    // $left/$right conditions, and a parenthesised right side.
    let q = format!(
        "{L}{R} L | join kind=inner (R | where b != 'r2' | project-rename k2 = k) on $left.k == $right.k2"
    );
    assert_eq!(
        run(&q).1,
        vec![vec![s("y"), i(2), s("y"), s("r1")], vec![s("y"), i(3), s("y"), s("r1")]]
    );
    assert!(err(&format!("{L}{R} L | join kind=sideways R on k")).contains("unknown join kind"));
    assert!(err(&format!("{L}{R} L | join R on nope")).contains("'nope'"));
}

#[test]
fn lookup_and_union() {
    let (cols, rows) = run(&format!("{L}{R} L | lookup R on k"));
    let cols: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(cols, ["k", "a", "b"]);
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0], vec![s("x"), i(1), Cell::Null]);
    assert_eq!(rows[1], vec![s("y"), i(2), s("r1")]);
    let (cols, rows) = run(&format!("{L}{R} union withsource=T L, R | where k == 'y'"));
    let cols: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(cols, ["T", "k", "a", "b"]);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], vec![s("L"), s("y"), i(2), Cell::Null]);
    assert_eq!(rows[3], vec![s("R"), s("y"), Cell::Null, s("r2")]);
    let (cols, rows) = run(&format!("{L}{R} L | union kind=inner R"));
    assert_eq!(cols.len(), 1);
    assert_eq!(rows.len(), 8);
    assert_eq!(run("union AlertInfo, EmailEvents | where isnotempty(AlertId) or isnotempty(NetworkMessageId) | count").1, vec![vec![i(2 * 24 * 60)]]);
}

#[test]
fn keep_reorder_mv_expand_and_parse() {
    let t = "datatable(a: long, b: string, c: dynamic) [1, 'x=1;y=2', dynamic(['p', 'q']), 2, 'junk', dynamic({'k': 'v', 'l': 'w'})]";
    let (cols, _) = run(&format!("{t} | project-reorder c, b"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["c", "b", "a"]);
    let (cols, _) = run(&format!("{t} | project-keep c, a"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    // Arrays expand to their items, bags to one-entry bags; with_itemindex counts them.
    let (cols, rows) = run(&format!("{t} | mv-expand with_itemindex = i c | project a, c, i"));
    assert_eq!(cols[1], ("c".into(), "Dynamic".into()));
    let d = |v: serde_json::Value| Cell::Dyn(v);
    assert_eq!(
        rows,
        vec![
            vec![i(1), d(serde_json::json!("p")), i(0)],
            vec![i(1), d(serde_json::json!("q")), i(1)],
            vec![i(2), d(serde_json::json!({"k": "v"})), i(0)],
            vec![i(2), d(serde_json::json!({"l": "w"})), i(1)],
        ]
    );
    let (cols, rows) = run(
        "print n = dynamic([1, 2, 3]), m = dynamic(['a']) | mv-expand n to typeof(long), m limit 2",
    );
    assert_eq!(cols[0], ("n".into(), "Int64".into()));
    assert_eq!(
        rows,
        vec![vec![i(1), d(serde_json::json!("a"))], vec![i(2), d(serde_json::Value::Null)]]
    );
    // parse: simple patterns, typed columns, no match → nulls; parse-where drops those rows.
    let (cols, rows) = run(&format!("{t} | parse b with 'x=' X:long ';y=' Y | project a, X, Y"));
    assert_eq!(cols[1], ("X".into(), "Int64".into()));
    assert_eq!(rows, vec![vec![i(1), i(1), s("2")], vec![i(2), Cell::Null, Cell::Null]]);
    let (_, rows) = run(&format!("{t} | parse-where b with * '=' V ';' * | project V"));
    assert_eq!(rows, vec![vec![s("1")]]);
    let (_, rows) = run(&format!("{t} | parse kind=regex b with @'y=' Y:long | project Y"));
    assert_eq!(
        rows,
        vec![vec![Cell::Null], vec![Cell::Null]],
        "a regex pattern is anchored at the start"
    );
    let (_, rows) = run(&format!("{t} | parse kind=regex b with @'\\w=\\d;y=' Y:long | project Y"));
    assert_eq!(rows[0], vec![i(2)]);
}

#[test]
fn mv_apply_and_file_profile() {
    let t = "datatable(id: long, objs: dynamic) [1, dynamic([{'Name': 'Name', 'Value': 'r1'}, {'Name': 'X', 'Value': 'no'}]), 2, dynamic([{'Name': 'X', 'Value': 'no'}])]";
    let (cols, rows) = run(&format!(
        "{t} | mv-apply p = objs on (where p.Name == 'Name' | extend Rule = tostring(p.Value)) | project id, Rule"
    ));
    assert_eq!(cols[1], ("Rule".into(), "String".into()));
    assert_eq!(rows, vec![vec![i(1), s("r1")]]);
    let (cols, rows) = run(
        "datatable(SHA1: string) ['abc', ''] | invoke FileProfile(SHA1, 1000) | project SHA1, ProfileAvailability, GlobalPrevalence",
    );
    assert_eq!(cols[2], ("GlobalPrevalence".into(), "Int64".into()));
    assert_eq!(rows[0][1], s("Available"));
    assert!(matches!(rows[0][2], Cell::Int(_)));
    assert_eq!(rows[1][1..], [s("Error"), Cell::Null]);
    // The column may be named by a string, with the same answer.
    let q = "datatable(SHA256: string, SHA1: string) ['abc', 'zzz'] | invoke FileProfile(SHA1)";
    let by_name = run(q).1;
    let by_string = run(&q.replace("FileProfile(SHA1)", "FileProfile('SHA1', 10)")).1;
    assert_eq!(by_name, by_string);
    let other = run(&q.replace("FileProfile(SHA1)", "FileProfile('SHA256', 10)")).1;
    assert_ne!(by_name, other, "keyed by the other column");
}

#[test]
fn search_and_seen_by() {
    let lets = "let A = datatable(k: string, n: long) ['cmd run', 1, 'other', 2]; \
                let B = datatable(k: string, m: string) ['x', 'cmd'];";
    // A term is looked for in every string column, the table named in $table.
    let (cols, rows) = run(&format!("{lets} search in (A, B) 'cmd'"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["$table", "k", "n", "m"]);
    assert_eq!(
        rows,
        vec![
            vec![s("A"), s("cmd run"), i(1), Cell::Null],
            vec![s("B"), s("x"), Cell::Null, s("cmd")]
        ]
    );
    // A predicate on a column only A has matches nothing in B.
    let (_, rows) = run(&format!("{lets} search in (A, B) n > 1"));
    assert_eq!(rows, vec![vec![s("A"), s("other"), i(2), Cell::Null]]);
    let (cols, rows) = run(
        "datatable(DeviceId: string) [ 'd1' ] | invoke SeenBy() | mv-expand SeenBy | extend Seen = tostring(SeenBy.DeviceId)",
    );
    assert_eq!(cols.last().unwrap().0, "Seen");
    assert_eq!(rows.len(), 2);
    assert!(matches!(&rows[0][2], Cell::Str(id) if id.len() == 40));
}

/// `top-nested`: per state the sum of damage, the top 2 states; within each, the event type
/// with the most rows; by hand from the table below (CA 7+1+2 = 10, NY 4+5 = 9, TX 3).
#[test]
fn top_nested_levels_by_hand() {
    let t = "let T = datatable(State: string, Kind: string, Damage: long) \
             ['CA', 'flood', 7, 'CA', 'fire', 1, 'CA', 'fire', 2, 'NY', 'snow', 4, 'NY', 'wind', 5, \
              'TX', 'hail', 3];";
    let (cols, rows) = run(&format!(
        "{t} T | top-nested 2 of State by sum(Damage), top-nested 1 of Kind by count()"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["State", "aggregated_State", "Kind", "aggregated_Kind"]);
    assert_eq!(
        rows,
        vec![vec![s("CA"), i(10), s("fire"), i(2)], vec![s("NY"), i(9), s("snow"), i(1)]]
    );
    // Named aggregate, smallest first, and no count: every group.
    let (cols, rows) = run(&format!("{t} T | top-nested of State by Total = sum(Damage) asc"));
    assert_eq!(cols[1].0, "Total");
    assert_eq!(rows, vec![vec![s("TX"), i(3)], vec![s("NY"), i(9)], vec![s("CA"), i(10)]]);
    assert!(
        err(&format!("{t} T | top-nested 1 of State by sum(Damage), count()"))
            .contains("top-nested")
    );
}

#[test]
fn a_join_streams_its_product() {
    // 3,000 x 3,000 rows on one key: 9 million pairs. They stream to the operators after the
    // join: `take` stops early and `count` counts without holding them (materialized, these
    // rows took gigabytes).
    let q = "let A = range a from 1 to 3000 step 1 | extend k = 1;\n\
             let Z = range z from 1 to 3000 step 1 | extend k = 1;\n";
    let (_, rows) = run(&format!("{q}A | join kind=inner Z on k | take 3"));
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][0], i(1));
    assert_eq!(rows.iter().map(|r| r[2].clone()).collect::<Vec<_>>(), [i(1), i(2), i(3)]);
    let (_, rows) = run(&format!("{q}A | join kind=inner Z on k | where z == a | count"));
    assert_eq!(rows, vec![vec![i(3000)]]);
}
