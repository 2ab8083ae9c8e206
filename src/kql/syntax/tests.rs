//! Unit tests of the KQL parser: the forms real queries use parse, and each common mistake is
//! an error at the right place with a useful message.

use super::tree::{Expr, LetValue, Statement};
use super::*;

fn ok(text: &str) -> tree::Script {
    let p = parse(text);
    assert!(p.errors.is_empty(), "{text:?}: {:?}", p.errors);
    p.script.unwrap()
}

/// (line, col, message) of the first error of `text`.
fn err(text: &str) -> (usize, usize, String) {
    let p = parse(text);
    let e = p.errors.first().unwrap_or_else(|| panic!("{text:?} parsed"));
    (e.line, e.col, e.message.clone())
}

#[test]
fn statements_and_operators() {
    for text in [
        "DeviceProcessEvents | where Timestamp > ago(1d) | take 10",
        "let x = 1;\nlet T2 = materialize(T | where a == x);\nT2 | count",
        "let f = (a:string, b:int = 3, T:(x:int), U:(*)) { T | take 1 }; f(\"a\")",
        "let v = view () { T }; v",
        "set query_now = datetime(2024-01-01);\ndeclare query_parameters(n:long = 10);\nT | take n",
        "T | summarize count(), arg_max(Timestamp, *) by bin(Timestamp, 1h), A",
        "T | summarize by A | sort by A asc nulls last, B desc | top 5 by A",
        "T | join kind=leftouter hint.strategy=shuffle (U | where b) on $left.a == $right.b, c",
        "T | lookup kind=inner U on K | union isfuzzy=true (V), W*, X",
        "T | mv-expand with_itemindex=i x = y to typeof(string) limit 10",
        "T | mv-apply p = todynamic(A) on (where p.Name == 'x' | extend v = p.Value)",
        "T | parse A with * 'x=' X:int * | parse-where B with 'y' Y | make-series n=count() on T step 1h",
        "T | project-away A*, B | project-keep C | project-reorder D asc | project-rename E = F",
        "T | distinct * | sample 3 | serialize n = row_number() | getschema | as X | invoke f()",
        "range x from 1 to 10 step 1 | extend (a, b) = f(x)",
        "print a = 1, b = 'x' | render timechart with (title='t')",
        "datatable(a:int, b:string)[1, 'x', 2, 'y',] | evaluate bag_unpack(b)",
        "externaldata(u:string)[@'https://x/a.csv'] with (format='csv', ignoreFirstRecord=true)",
        "search in (T, U*) 'x' and a == 1 | find 'y' | fork (take 1) (count) | facet by a",
        "T | top-nested 3 of A by count() | sort by A",
        "T | top-nested 2 of A with others = 'rest' by n = sum(b) asc, top-nested of B by max(c) desc",
        "T | make-series avg(b) on Timestamp in range(ago(1d), now(), 1h)",
        "T | partition by a (take 1) | fork (take 1) n = (count) | facet by a, b with (take 1)",
        "T | sample-distinct 3 of a | top-hitters 3 of a by b | reduce by a with threshold = 0.1",
        "T | parse-kv a as (k:string, v:long) with (pair_delimiter=',', kv_delimiter='=')",
        "find withsource=S in (T, U*) where a == 1 project a, b: string | take 1",
        "find where a == 1 project-smart",
        "search in (T) 'ntds' and \"dit\" and ActionType:\"FileModified\"",
        "T | evaluate bag_unpack(d, columnsConflict='keep_source') : (a: string, b: long)",
        "print x = array_length(range(1, 5, 1))",
        "externaldata(u: string)[\"https://x/a.txt\"] with (format='txt') | where u:\"a\"",
        "datatable(a: bool)[true] | where isAudit = a",
    ] {
        ok(text);
    }
    // As Microsoft's parser has it: `find in (…)` needs `where`.
    assert!(err("find in (T) 'y'").2.contains("'where'"));
}

#[test]
fn expressions_and_literals() {
    for text in [
        "T | where a in~ ('x', 'y') and b !in (1) and c !in~ ('z') and d has_any (l) and e has_all ('q')",
        "T | where a between (1 .. 2) and b !between (ago(1d) .. now()) and c matches regex @'\\d+'",
        "T | where a !has_cs 'x' or b =~ 'y' and c !~ 'z' and d !contains 'w' and e startswith_cs 'v'",
        "T | where x == -1 and y == +2 and z != 3 * (4 + 5) % 6 / 7 - 8",
        "T | extend a = datetime(2020-01-01 10:00), b = time(1.02:03:04), c = timespan(1d), d = 1.5d",
        "T | extend a = dynamic(['a', 'b' 'c']), b = dynamic({\"k\": [1, -2, null]}), c = dynamic(null)",
        "T | extend a = guid(00000000-0000-0000-0000-000000000000), b = int(null), c = h'secret'",
        "T | extend a = @\"c:\\x\" 'y', b = ```multi\nline```, c = ['a b'], d = [\"c\"], e = x.['y'].z[0]",
        "T | extend a = AdditionalFields['TO.GROUP'], b = tostring(p.Value)[1], c = true, d = False",
        "T | where a in ((U | project a)) and toscalar(U | count) > 0",
    ] {
        ok(text);
    }
}

#[test]
fn the_tree_has_spans() {
    let s = ok("let n = 5;\nT | where a > n");
    assert_eq!(s.statements.len(), 2);
    let Statement::Let { name, value: LetValue::Expr(Expr::Literal { span, .. }), .. } =
        &s.statements[0]
    else {
        panic!("{:?}", s.statements[0]);
    };
    assert_eq!((name.as_str(), span.start, span.end), ("n", 8, 9));
    let Statement::Query(Expr::Pipe { source, operators, span }) = &s.statements[1] else {
        panic!("{:?}", s.statements[1]);
    };
    assert!(matches!(source.as_deref(), Some(Expr::Name { name, .. }) if name == "T"));
    assert_eq!(operators[0].name, "where");
    assert_eq!((span.start, span.end), (11, 26));
    assert_eq!((operators[0].span.start, operators[0].span.end), (15, 26));
}

#[test]
fn mistakes_are_errors_with_useful_messages() {
    let cases: [(&str, (usize, usize), &str); 23] = [
        ("T | summarize count() by\n\n// end\n", (1, 25), "'by' needs at least one column"),
        ("range i from 1 to 3 step 1 take 5", (1, 28), "expected '|' before 'take'"),
        ("let f = (a:int, , b:int) { a }; f(1, 2)", (1, 17), "empty element in the list"),
        ("let x = 1;\nmaterialize(T)", (2, 1), "only allowed as the value of a 'let'"),
        (
            "T | make-series n = count() on Timestamp step 1h\n  extend a = 1",
            (2, 3),
            "expected '|' before 'extend'",
        ),
        (
            "T | parse A with * 'x' X:int take 1",
            (1, 35),
            "unexpected '1' after the 'parse' operator",
        ),
        ("T | render timechart where", (1, 22), "expected '|' before 'where'"),
        (
            "T | summarise count()",
            (1, 5),
            "unknown query operator 'summarise' — did you mean 'summarize'?",
        ),
        ("T | extnd a = 1", (1, 5), "did you mean 'extend'?"),
        ("T\n| where a == 1\n| ", (3, 1), "trailing '|'"),
        ("T\n| where\n| take 1", (3, 1), "'where' needs a predicate"),
        ("T | where a == 1 and\n| take 1", (2, 1), "'and' needs an expression after it"),
        ("T | where a == 1 or", (1, 20), "'or' needs an expression after it"),
        ("let x = 1\nT | take x", (2, 1), "expected ';' after the 'let' statement"),
        ("T | summarize count() by\n| take 1", (2, 1), "'by' needs at least one column"),
        ("T | project a, , b", (1, 16), "empty element in the list"),
        ("T | where a == 1 project a", (1, 18), "expected '|' before 'project'"),
        ("T | where f(a, b", (1, 12), "unbalanced bracket"),
        ("T | where a == (1", (1, 16), "unbalanced bracket"),
        ("T | where a === 1", (1, 13), "'===' is not a KQL operator: use '=='"),
        ("T | where a in 'x'", (1, 16), "expected '(' after 'in'"),
        ("T | take 1;;", (1, 12), "empty statement"),
        ("T | extend a = dynamic(['x',])", (1, 29), "missing value in dynamic"),
    ];
    for (text, (line, col), want) in cases {
        let (l, c, message) = err(text);
        assert!(message.contains(want), "{text:?}: {message}");
        assert_eq!((l, c), (line, col), "{text:?}: {message}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("print {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let (_, _, message) = err(&deep);
    assert!(message.contains("nests more than"), "{message}");
    let deep = format!("print {}1", "-".repeat(10_000));
    assert!(err(&deep).2.contains("nests more than"));
    let deep = format!("print {}1{}", "f(".repeat(10_000), ")".repeat(10_000));
    assert!(err(&deep).2.contains("nests more than"));
    let deep = format!("print x{}", "[0]".repeat(10_000));
    ok(&deep);
    // Real nesting (calls in calls, subqueries in subqueries) is well within the bound, and the
    // deepest nesting allowed parses, from any thread (the parser runs on its own stack).
    ok(&format!("print {}1{}", "iff(a, b, ".repeat(200), ")".repeat(200)));
    ok(&format!("T | where a in ({}U{})", "(U | where b in (".repeat(100), "))".repeat(100)));
    // (`dynamic(…)` is read without recursion, so it has no bound to find.)
    let pairs =
        [("(", ")"), ("f(", ")"), ("-", ""), ("(T | where ", ")"), ("x in (", ")"), ("[", "]")];
    for (open, close) in pairs {
        let nested = |n: usize| format!("print {}1{}", open.repeat(n), close.repeat(n));
        let nests = |n: usize| parse(&nested(n)).errors.iter().any(|e| e.message.contains("nests"));
        let deepest = (1..2 * MAX_DEPTH).find(|&n| nests(n)).expect("a bound") - 1;
        assert!(deepest >= MAX_DEPTH / 2, "{open:?}: only {deepest} deep");
        let small = std::thread::Builder::new().stack_size(256 << 10);
        let text = nested(deepest);
        let on_small_stack = small.spawn(move || parse(&text).errors).unwrap().join().unwrap();
        assert_eq!(on_small_stack, [], "{open:?} {deepest} deep");
    }
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    assert_eq!(line_col("ab", 99), (1, 3));
}
