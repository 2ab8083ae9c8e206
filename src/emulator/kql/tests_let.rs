//! Tests of `let`: scalars, tabular values, functions (scalar and tabular, with defaults),
//! `materialize`, `toscalar`, `in (table)` and `invoke`, against hand-computed answers.

use super::tests::{all, col, count, err, run, text};
use crate::emulator::data::Cell;

#[test]
fn scalar_and_tabular_lets() {
    assert_eq!(run("let n = 5; AlertInfo | take n").1.len(), 5);
    assert_eq!(run("let n = 2 + 3; let m = n * 2; AlertInfo | take m").1.len(), 10);
    let sev = col("AlertInfo", "Severity");
    let high = all("AlertInfo").iter().filter(|r| text(&r[sev]) == "High").count() as i64;
    assert!(high > 0);
    assert_eq!(count("let s = 'High'; AlertInfo | where Severity == s"), high);
    assert_eq!(count("let T = AlertInfo | where Severity == 'High'; T"), high);
    assert_eq!(count("let T = materialize(AlertInfo | where Severity == 'High'); T"), high);
    // A later binding of the same name shadows the earlier one.
    assert_eq!(run("let n = 1; let n = 3; AlertInfo | take n").1.len(), 3);
}

#[test]
fn functions_with_parameters() {
    let sev = col("AlertInfo", "Severity");
    let high = all("AlertInfo").iter().filter(|r| text(&r[sev]) == "High").count() as i64;
    let f = "let bySev = (s: string) { AlertInfo | where Severity == s };";
    assert_eq!(count(&format!("{f} bySev('High')")), high);
    let d = "let bySev = (s: string = 'High') { AlertInfo | where Severity == s };";
    assert_eq!(count(&format!("{d} bySev()")), high);
    let (cols, rows) =
        run("let twice = (x: long) { x * 2 }; AlertInfo | take 1 | project y = twice(21)");
    assert_eq!(cols, vec![("y".to_string(), "Int64".to_string())]);
    assert_eq!(rows, vec![vec![Cell::Int(42)]]);
    // A scalar function over a column of the caller's row.
    let (_, rows) =
        run("let isHigh = (s: string) { s == 'High' }; AlertInfo | where isHigh(Severity) | count");
    assert_eq!(rows, vec![vec![Cell::Int(high)]]);
    // A tabular parameter and `invoke`.
    let t = "let firstTwo = (T: (*)) { T | take 2 };";
    assert_eq!(run(&format!("{t} AlertInfo | invoke firstTwo()")).1.len(), 2);
    assert_eq!(run(&format!("{t} firstTwo(AlertInfo)")).1.len(), 2);
    // Lexical scope: the function sees the `n` of its definition.
    let q = "let n = 2; let f = () { AlertInfo | take n }; let n = 7; f()";
    assert_eq!(run(q).1.len(), 2);
}

#[test]
fn toscalar_and_in_a_table() {
    let sev = col("AlertInfo", "Severity");
    let high = all("AlertInfo").iter().filter(|r| text(&r[sev]) == "High").count() as i64;
    let q = "let n = toscalar(AlertInfo | where Severity == 'High' | count); AlertInfo | take 1 | project n";
    assert_eq!(run(q).1, vec![vec![Cell::Int(high)]]);
    let q = "let sevs = AlertInfo | where Severity == 'High' | distinct Severity; \
             AlertInfo | where Severity in (sevs)";
    assert_eq!(count(q), high);
    assert_eq!(
        count(
            "AlertInfo | where Severity !in (AlertInfo | where Severity == 'High' | project Severity)"
        ),
        60 * 24 - high
    );
}

#[test]
fn let_refusals_name_the_problem() {
    assert!(
        err("let x = AlertInfo; AlertInfo | extend y = x").contains("not a scalar"),
        "{}",
        err("let x = AlertInfo; AlertInfo | extend y = x")
    );
    assert!(
        err("let f = (a: long) { a }; AlertInfo | extend y = f(1, 2)")
            .contains("too many arguments")
    );
    assert!(err("let n = 1;").contains("no tabular expression"));
}

#[test]
fn schema_tables_are_served_with_real_columns() {
    let (cols, rows) = run("DeviceFileEvents | where ActionType == 'FileCreated' | take 3");
    assert_eq!(rows.len(), 3);
    assert_eq!(cols[0], ("Timestamp".to_string(), "DateTime".to_string()));
    assert!(cols.iter().any(|c| c.0 == "SHA256"));
    // Inventory tables have no Timestamp and are still generated in the window.
    assert!(count("DeviceTvmSoftwareVulnerabilities") > 0);
    // Devices line up across tables, so joins on them can match.
    let names = |q: &str| -> std::collections::BTreeSet<String> {
        run(q).1.iter().map(|r| text(&r[0]).to_owned()).collect()
    };
    let a = names("DeviceEvents | distinct DeviceName");
    let b = names("DeviceProcessEvents | distinct DeviceName");
    assert!(!a.is_empty() && a == b, "{a:?} vs {b:?}");
    // Row k of AlertEvidence is evidence of alert k of AlertInfo; emails' ids line up too.
    let n = count("AlertEvidence | join kind=inner AlertInfo on AlertId");
    assert_eq!(n, count("AlertEvidence"));
    let n = count("EmailUrlInfo | join kind=inner (EmailEvents) on NetworkMessageId");
    assert_eq!(n, count("EmailUrlInfo"));
}
