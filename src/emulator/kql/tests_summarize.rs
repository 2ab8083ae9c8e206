//! Tests of `summarize` as Kusto names and computes it: the result names of Kusto.Language's
//! aggregates (`set_X`, `list_X`, `take_any(X)` keeping `X`, `max_X_arg1`, the obsolete
//! `argmax`), the statistics aggregates, and expressions over aggregates
//! (`tostring(make_list(x)[0])`, `countif(…) * 100 / count()`), and `mv-apply`'s subtable,
//! with hand-computed answers.

use serde_json::json;

use super::tests::{run, s};
use crate::emulator::data::Cell;

const T: &str = "let T = datatable(g: string, v: long, w: string) \
    ['a', 3, 'x', 'a', 1, 'y', 'a', 3, 'x', 'b', 5, 'z'];";

fn names(q: &str) -> Vec<String> {
    run(&format!("{T} {q}")).0.into_iter().map(|c| c.0).collect()
}

#[test]
fn aggregate_result_names_follow_kusto() {
    assert_eq!(
        names("T | summarize make_set(v), make_list(w), makeset(g), make_set_if(v, v > 1) by g"),
        ["g", "set_v", "list_w", "set_g", "set_v1"]
    );
    assert_eq!(
        names("T | summarize take_any(w), any(v), count(), countif(v > 1), dcount(w, 2)"),
        ["w", "any_v", "count_", "countif_", "dcount_w"]
    );
    assert_eq!(names("T | summarize take_any(w, v) by g"), ["g", "w", "v"]);
    // arg_max of an expression: `max_`; a returned expression: its own name, else
    // `max_<primary>_argN`.
    assert_eq!(names("T | summarize arg_max(v * 2, strlen(w)) by g"), ["g", "max_", "strlen_w"]);
    assert_eq!(names("T | summarize arg_min(v, tolower(w)) by g"), ["g", "v", "min_v_arg1"]);
    // The obsolete argmax prefixes every returned column with the primary's name.
    assert_eq!(names("T | summarize argmax(v, w) by g"), ["g", "max_v", "max_v_w"]);
    assert_eq!(names("T | summarize argmin(v * 2, strlen(w))"), ["min_", "min__strlen_w"]);
    assert_eq!(
        names("T | summarize max(strlen(w)), dcount(tolower(w))"),
        ["max_strlen_w", "dcount_"]
    );
}

#[test]
fn statistics_aggregates() {
    let (cols, rows) = run(&format!(
        "{T} T | summarize stdev(v), stdevp(v), variance(v), variancep(v), \
         stdevif(v, g == 'a'), count_distinctif(w, v > 1)"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        ["stdev_v", "stdevp_v", "variance_v", "variancep_v", "stdevif_v", "count_distinctif_w"]
    );
    // v = 3, 1, 3, 5: mean 3, squared deviations 0 + 4 + 0 + 4 = 8.
    let real = |c: &Cell| match c {
        Cell::Real(x) => *x,
        other => panic!("not a real: {other:?}"),
    };
    let got: Vec<f64> = rows[0][..5].iter().map(real).collect();
    let want = [(8.0f64 / 3.0).sqrt(), 2.0f64.sqrt(), 8.0 / 3.0, 2.0, (4.0f64 / 3.0).sqrt()];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-9, "{got:?} vs {want:?}");
    }
    // Rows with v > 1: w = x, x, z.
    assert_eq!(rows[0][5], Cell::Int(2));
}

#[test]
fn expressions_over_aggregates() {
    let (cols, rows) = run(&format!(
        "{T} T | summarize First = tostring(make_list(w)[0]), \
         Share = countif(v > 1) * 100 / count(), toint(avg(v)), n = count() by g"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "First", "Share", "avg_v", "n"]);
    assert_eq!(cols[1].1, "String");
    assert_eq!(cols[2].1, "Int64");
    assert_eq!(cols[3].1, "Int32");
    assert_eq!(
        rows,
        vec![
            vec![s("a"), s("x"), Cell::Int(66), Cell::Int(2), Cell::Int(3)],
            vec![s("b"), s("z"), Cell::Int(100), Cell::Int(5), Cell::Int(1)],
        ]
    );
    // A name given inside the call names the column (Kusto.Language: `C:int`).
    let (cols, rows) = run(&format!("{T} T | summarize toint(C = count()) by g"));
    assert_eq!(cols[1], ("C".to_owned(), "Int32".to_owned()));
    assert_eq!(rows, vec![vec![s("a"), Cell::Int(3)], vec![s("b"), Cell::Int(1)]]);
    // An item with no aggregate at all is still refused.
    let e = super::tests::err(&format!("{T} T | summarize strlen(g) by g"));
    assert!(e.contains("aggregation function"), "{e}");
    // Dynamic results of aggregates stay usable: the size of a set.
    let (_, rows) = run(&format!("{T} T | summarize n = array_length(make_set(w)) by g"));
    assert_eq!(rows, vec![vec![s("a"), Cell::Int(2)], vec![s("b"), Cell::Int(1)]]);
    assert_eq!(
        run(&format!("{T} T | summarize l = make_list(v) by g | where g == 'b'")).1,
        vec![vec![s("b"), Cell::Dyn(json!([5]))]]
    );
}

/// `mv-apply`: the row's unexpanded columns the subquery did not return come back before its
/// output, whatever the subquery projects.
#[test]
fn mv_apply_keeps_the_rows_other_columns() {
    let t = "datatable(id: long, words: dynamic) [1, dynamic(['net', 'user', 'bob']), 2, dynamic(['net'])]";
    let (cols, rows) = run(&format!(
        "{t} | mv-apply w = words on (where w !in ('net', 'user') | project w) | project-away words"
    ));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["id", "w"]);
    assert_eq!(rows, vec![vec![Cell::Int(1), Cell::Dyn(json!("bob"))]]);
    // The subquery reads the row's other columns too.
    let (_, rows) = run(&format!("{t} | mv-apply w = words on (where id > 1) | project id, w"));
    assert_eq!(rows, vec![vec![Cell::Int(2), Cell::Dyn(json!("net"))]]);
    // An unnamed expression expands into Kusto's implicit name: split's is its argument's.
    let (cols, rows) = run("print s = 'a,b' | mv-expand split(s, ',')");
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["s"]);
    assert_eq!(rows, vec![vec![Cell::Dyn(json!("a"))], vec![Cell::Dyn(json!("b"))]]);
    let (cols, _) = run("print s = 'a,b' | mv-expand pack_array(s, s)");
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["s", "Column1"]);
}

#[test]
fn partition_runs_the_subquery_per_value() {
    let (cols, rows) = run(&format!("{T} T | partition by g (top 1 by v | project g, w)"));
    let names: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["g", "w"]);
    assert_eq!(rows, vec![vec![s("a"), s("x")], vec![s("b"), s("z")]]);
    let (_, rows) = run(&format!("{T} T | partition hint.strategy=native by w (count)"));
    assert_eq!(rows, vec![vec![Cell::Int(2)], vec![Cell::Int(1)], vec![Cell::Int(1)]]);
}

/// A `where` right after a `join` is tested on each pair as the join makes it: the answer is
/// the one of the same `where` applied later, for every kind of join.
#[test]
fn a_where_after_a_join_gives_the_same_rows_as_later() {
    let l = "let L = datatable(k: string, a: long) ['x', 1, 'x', 2, 'y', 3, 'z', 4, '', 5];";
    let r = "let R = datatable(k: string, b: long) ['x', 10, 'x', 20, 'y', 30, 'w', 40];";
    for kind in [
        "innerunique",
        "inner",
        "leftouter",
        "rightouter",
        "fullouter",
        "leftanti",
        "leftsemi",
        "rightanti",
        "rightsemi",
    ] {
        let pred = if kind.starts_with("right") { "k1 != 'y' or isnull(a)" } else { "a != 2" };
        let pred =
            if kind.ends_with("anti") || kind.ends_with("semi") { "isnotempty(k)" } else { pred };
        let fused = run(&format!("{l}{r} L | join kind={kind} R on k | where {pred}"));
        let later = run(&format!(
            "{l}{r} L | join kind={kind} R on k | extend _z = 1 | where {pred} | project-away _z"
        ));
        assert_eq!(fused, later, "{kind}");
        assert!(!fused.1.is_empty(), "{kind}: the test should keep some rows");
    }
}
