//! The tree checks on small queries: each finding's place, code and words.

use super::*;
use crate::kql::syntax::{line_col, parse};
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

/// (line, col, code, message) of each finding of `text`, in text order.
fn hits(text: &str) -> Vec<(usize, usize, &'static str, String)> {
    let parsed = parse(text);
    let script = parsed.script.unwrap_or_else(|| panic!("{text}: {:?}", parsed.errors));
    let mut out: Vec<_> = check(text, &script, now(), false)
        .into_iter()
        .map(|h| {
            let (l, c) = line_col(text, h.offset);
            (l, c, h.code, h.message)
        })
        .collect();
    out.sort();
    out
}

fn codes(text: &str) -> Vec<(usize, usize, &'static str)> {
    hits(text).into_iter().map(|(l, c, code, _)| (l, c, code)).collect()
}

#[test]
fn a_misspelt_table_is_an_error_with_the_real_name() {
    let h = hits("DeviceProcesEvents\n| where Timestamp > ago(1d)");
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].0, h[0].1, h[0].2), (1, 1, "unknown-table"));
    assert_eq!(h[0].3, "unknown table 'DeviceProcesEvents' — did you mean 'DeviceProcessEvents'?");
    let f =
        check("x", &parse("deviceinfo | where Timestamp > ago(1d)").script.unwrap(), now(), false);
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].message.contains("did you mean 'DeviceInfo'"), "{}", f[0].message);
    // In a join's subquery, after a let.
    let text = "let t = 1d;\nDeviceInfo\n| where Timestamp > ago(t)\n| join (DeviceNetworkEvent | where Timestamp > ago(t)) on DeviceId";
    assert_eq!(codes(text), [(4, 9, "unknown-table")]);
}

#[test]
fn a_table_the_schema_does_not_know_is_a_warning() {
    let text = "SigninLogs\n| where TimeGenerated > ago(1d)";
    let f = check(text, &parse(text).script.unwrap(), now(), false);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].severity, f[0].code), (Severity::Warning, "unknown-table"));
    assert!(f[0].message.contains("Sentinel workspace"), "{}", f[0].message);
    assert!(f[0].message.contains("schema of 2026-12-03"), "{}", f[0].message);
    // Let-bound names and function parameters are not tables.
    let text = "let T = DeviceInfo | where Timestamp > ago(1d);\nlet f = (X:(DeviceId:string)) { X | take 1 };\nT | invoke f()";
    assert_eq!(codes(text), []);
}

#[test]
fn unknown_columns_are_warnings_with_suggestions() {
    let h = hits(
        "DeviceProcessEvents\n| where Timestamp > ago(1d)\n| where ProcessComandLine has '-enc'",
    );
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].0, h[0].1, h[0].2), (3, 9, "unknown-column"));
    assert!(
        h[0].3.contains("'ProcessComandLine' is not a column of DeviceProcessEvents"),
        "{}",
        h[0].3
    );
    assert!(h[0].3.contains("did you mean 'ProcessCommandLine'?"), "{}", h[0].3);
    // Names are case-sensitive.
    let h = hits("DeviceEvents | where Timestamp > ago(1d) | project devicename");
    assert_eq!(h.len(), 1, "{h:?}");
    assert!(h[0].3.contains("did you mean 'DeviceName'?"), "{}", h[0].3);
    // Reported once per name.
    let text = "DeviceEvents | where Timestamp > ago(1d) | where Foo == 1 or Foo == 2";
    assert_eq!(codes(text), [(1, 50, "unknown-column")]);
}

#[test]
fn columns_made_by_operators_are_known() {
    let ok = [
        "DeviceEvents | where Timestamp > ago(1d) | extend Cmd = tolower(ProcessCommandLine) | where Cmd has 'x'",
        "DeviceEvents | where Timestamp > ago(1d) | project Name = DeviceName, Timestamp | where Name has 'x' | sort by Timestamp desc",
        "DeviceEvents | where Timestamp > ago(1d) | project-rename Name = DeviceName | where Name has 'x'",
        "DeviceEvents | where Timestamp > ago(1d) | extend P = parse_json(AdditionalFields) | where P.Command has 'x' | extend n = toint(P['n'])",
        "let names = dynamic(['a']);\nDeviceEvents | where Timestamp > ago(1d) and DeviceName has_any (names)",
        "DeviceEvents | where Timestamp > ago(1d) | extend x = extract('a(b)', 1, DeviceName, typeof(string))",
        // After summarize (not modelled), nothing is checked.
        "DeviceEvents | where Timestamp > ago(1d) | summarize c = count() by DeviceName | where c > 5",
        // A subquery has its own columns.
        "DeviceEvents | where Timestamp > ago(1d) | where DeviceId in ((DeviceInfo | where Timestamp > ago(1d) | distinct DeviceId))",
        "DeviceEvents | where Timestamp > ago(1d) | join kind=inner (DeviceInfo | where Timestamp > ago(1d)) on $left.DeviceId == $right.DeviceId | where OSPlatform == 'Windows'",
    ];
    for text in ok {
        assert_eq!(codes(text), [], "{text}");
    }
    // What a project drops is unknown afterwards; a summarize's arguments are checked.
    let text =
        "DeviceEvents | where Timestamp > ago(1d) | project DeviceName | where ActionType == 'x'";
    assert_eq!(codes(text), [(1, 71, "unknown-column")]);
    let text = "DeviceEvents | where Timestamp > ago(1d) | project-away DeviceName | where DeviceName == 'x'";
    assert_eq!(codes(text), [(1, 76, "unknown-column")]);
    let text = "DeviceEvents | where Timestamp > ago(1d) | summarize count() by DeviceNme";
    assert_eq!(codes(text), [(1, 65, "unknown-column")]);
}

#[test]
fn time_checks_read_the_tree() {
    // TimeGenerated on a Defender table, each use; a string or comment does not count.
    let text = "DeviceProcessEvents // TimeGenerated\n| where TimeGenerated > ago(1d)\n| project TimeGenerated, DeviceName, Note = 'TimeGenerated'";
    let got: Vec<_> = codes(text).into_iter().filter(|c| c.2 == "time-generated").collect();
    assert_eq!(got, [(2, 9, "time-generated"), (3, 11, "time-generated")]);
    // A stale bound, with the literal's text in the message.
    let h = hits(
        "DeviceEvents\n| where Timestamp between (datetime(2026-10-01) .. datetime(2026-11-01))",
    );
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!((h[0].0, h[0].1, h[0].2), (2, 28, "stale-datetime"));
    assert!(h[0].3.starts_with("datetime(2026-10-01) is more than 30 days"), "{}", h[0].3);
    // No time filter is fine: hunt sends the window as the query's timespan.
    assert_eq!(
        codes("// c\nlet n = 5;\nDeviceInfo | project DeviceName | where DeviceName != ''"),
        []
    );
    assert_eq!(codes("DeviceInfo | where Timestamp between (ago(2d) .. ago(1d))"), []);
}

#[test]
fn an_aggregation_in_a_query_that_may_be_split_is_an_info() {
    let text = "DeviceEvents\n| where Timestamp > ago(1d)\n| summarize count() by DeviceName";
    let script = parse(text).script.unwrap();
    let f = check(text, &script, now(), true);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].severity, f[0].code), (Severity::Info, "split-aggregates"));
    assert_eq!(line_col(text, f[0].offset), (3, 3));
    assert!(
        f[0].message.starts_with("`summarize` depends on the whole window"),
        "{}",
        f[0].message
    );
    // `split: never`: nothing to say; no aggregation: nothing either.
    assert!(check(text, &script, now(), false).is_empty());
    let text = "DeviceEvents | where Timestamp > ago(1d) | project DeviceName";
    assert!(check(text, &parse(text).script.unwrap(), now(), true).is_empty());
}
