//! `hunt status`: each query's coverage, last run, failures and next fire time, as a table for
//! people or one JSON document for scripts.

use super::heartbeat::{DaemonRecord, Liveness};
use super::state::outbox::{Note, NoteStatus};
use super::state::{QueryState, RunRecord, RunStatus};
use crate::timespan::format_datetime;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Writes the status of `states`, with `next_fires` (query id → next fire time, `None` when it
/// will not fire: disabled or no schedule).
///
/// Every query of either argument gets a row, by id: a query in `next_fires` that never ran
/// shows `-` for its state; one with state but missing from `next_fires` (no longer in the
/// library) shows `-` as its next fire.
///
/// The table has the columns QUERY, COVERED UNTIL, LAST RUN (window and status), ROWS (over all
/// runs), FAILURES (consecutive failed runs) and NEXT FIRE, then one `error:` line per query
/// whose last run failed, with its last error, a `warning:` line per query whose last run was
/// incomplete, and a `gap:` line per span skipped for good. `json` writes one document instead:
/// `{"queries": [{"id", "covered_until", "next_fire", "last_run", "consecutive_failures",
/// "total_runs", "total_rows", "gaps"}]}`, instants in RFC 3339 UTC.
///
/// `daemon`, the state's daemon record, gives a first line (`daemon: running (pid …, since …)`,
/// `not running (stopped …)`, `not running: pid … ended without stopping`, or `daemon: never
/// ran on this state`) and a `daemon` object in JSON.
///
/// `notes` are the notifications not delivered (pending or given up): the table ends with a
/// `notification:` line for each pending one and an `error:` line for each given up, naming the
/// notifier (never its URL); the JSON lists them under `notifications` as `{"notify", "query",
/// "window", "status", "attempts", "next_attempt", "last_error"}`.
pub fn render_status(
    states: &[QueryState],
    daemon: Option<&DaemonRecord>,
    next_fires: &BTreeMap<String, Option<DateTime<Utc>>>,
    notes: &[Note],
    out: &mut impl Write,
    json: bool,
) -> io::Result<()> {
    let rows = merge(states, next_fires);
    if json {
        write_json(&rows, daemon, notes, out)
    } else {
        writeln!(out, "daemon: {}", daemon_line(daemon))?;
        write_table(&rows, out)?;
        write_notes(notes, out)
    }
}

/// Whether the daemon runs, in words.
fn daemon_line(daemon: Option<&DaemonRecord>) -> String {
    let Some(d) = daemon else { return "never ran on this state".to_owned() };
    match d.liveness() {
        Liveness::Running => {
            format!("running (pid {}, since {})", d.pid, format_datetime(d.started))
        }
        Liveness::Stopped => format!(
            "not running (stopped {}; it ran from {})",
            d.stopped.map(format_datetime).unwrap_or_default(),
            format_datetime(d.started)
        ),
        Liveness::Died => format!(
            "not running: pid {} (started {}) ended without stopping (killed, or the machine \
             restarted)",
            d.pid,
            format_datetime(d.started)
        ),
    }
}

fn liveness_word(l: Liveness) -> &'static str {
    match l {
        Liveness::Running => "running",
        Liveness::Stopped => "stopped",
        Liveness::Died => "died",
    }
}

/// One line per notification not delivered.
fn write_notes(notes: &[Note], out: &mut impl Write) -> io::Result<()> {
    if !notes.is_empty() {
        writeln!(out)?;
    }
    for n in notes {
        let error = n.last_error.as_deref().unwrap_or("not tried yet");
        let tries = match n.attempts {
            1 => "1 attempt".to_owned(),
            a => format!("{a} attempts"),
        };
        match n.status {
            NoteStatus::Failed => writeln!(
                out,
                "error: notification {} of query {} {} given up after {tries}: {error}",
                n.notify, n.query_id, n.window
            )?,
            _ => writeln!(
                out,
                "notification: {} of query {} {} pending ({tries}, next at {}): {error}",
                n.notify,
                n.query_id,
                n.window,
                format_datetime(n.next)
            )?,
        }
    }
    Ok(())
}

/// One line of the status: a query's state (if any) and its next fire time (if known).
struct Line<'a> {
    id: &'a str,
    state: Option<&'a QueryState>,
    next_fire: Option<DateTime<Utc>>,
}

fn merge<'a>(
    states: &'a [QueryState],
    next_fires: &'a BTreeMap<String, Option<DateTime<Utc>>>,
) -> Vec<Line<'a>> {
    let mut lines: BTreeMap<&str, Line<'a>> = BTreeMap::new();
    for s in states {
        lines.insert(&s.query_id, Line { id: &s.query_id, state: Some(s), next_fire: None });
    }
    for (id, next) in next_fires {
        lines.entry(id).or_insert(Line { id, state: None, next_fire: None }).next_fire = *next;
    }
    lines.into_values().collect()
}

fn or_dash(t: Option<DateTime<Utc>>) -> String {
    t.map(format_datetime).unwrap_or_else(|| "-".to_owned())
}

fn write_table(lines: &[Line<'_>], out: &mut impl Write) -> io::Result<()> {
    let header =
        ["QUERY", "COVERED UNTIL", "LAST RUN", "ROWS", "TOTAL ROWS", "FAILURES", "NEXT FIRE"];
    let cells: Vec<[String; 7]> = lines
        .iter()
        .map(|l| {
            let s = l.state;
            let last = s
                .and_then(|s| s.last_run.as_ref())
                .map(|r| format!("{} {}", r.window, r.status))
                .unwrap_or_else(|| "-".to_owned());
            [
                l.id.to_owned(),
                or_dash(s.and_then(|s| s.watermark)),
                last,
                s.and_then(|s| s.last_run.as_ref())
                    .map(|r| r.rows.to_string())
                    .unwrap_or_else(|| "-".to_owned()),
                s.map(|s| s.total_rows.to_string()).unwrap_or_else(|| "-".to_owned()),
                s.map(|s| s.consecutive_failures.to_string()).unwrap_or_else(|| "-".to_owned()),
                or_dash(l.next_fire),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, row: [&str; 7]| -> io::Result<()> {
        let [w0, w1, w2, w3, w4, w5, _] = widths;
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}  {}",
            row[0], row[1], row[2], row[3], row[4], row[5], row[6]
        )
    };
    line(out, header)?;
    for row in &cells {
        line(out, row.each_ref().map(String::as_str))?;
    }
    if lines.is_empty() {
        writeln!(out, "(no queries)")?;
    }
    let noted = |s: &QueryState| {
        !s.gaps.is_empty() || s.last_run.as_ref().is_some_and(|r| r.status != RunStatus::Ok)
    };
    if lines.iter().filter_map(|l| l.state).any(noted) {
        writeln!(out)?;
    }
    for l in lines {
        let Some(s) = l.state else { continue };
        if let Some(run) = &s.last_run {
            match run.status {
                RunStatus::Failed => writeln!(
                    out,
                    "error: query {}: {} consecutive failed run{}; last over {} at {}: {}",
                    l.id,
                    s.consecutive_failures,
                    if s.consecutive_failures == 1 { "" } else { "s" },
                    run.window,
                    format_datetime(run.started),
                    run.error.as_deref().unwrap_or("(no error recorded)")
                )?,
                RunStatus::Incomplete => writeln!(
                    out,
                    "warning: query {}: last run over {} incomplete: {}",
                    l.id,
                    run.window,
                    run.error.as_deref().unwrap_or("some part was cut at the minimum window")
                )?,
                RunStatus::Ok => {}
            }
        }
        for g in &s.gaps {
            writeln!(out, "gap: query {}: {} skipped: {}", l.id, g.window, g.reason)?;
        }
    }
    Ok(())
}

fn run_json(r: &RunRecord) -> serde_json::Value {
    json!({
        "window": { "start": format_datetime(r.window.start), "end": format_datetime(r.window.end) },
        "status": r.status.as_str(),
        "rows": r.rows,
        "files": r.files,
        "request_ids": r.request_ids,
        "started": format_datetime(r.started),
        "seconds": r.seconds,
        "error": r.error,
    })
}

fn write_json(
    lines: &[Line<'_>],
    daemon: Option<&DaemonRecord>,
    notes: &[Note],
    out: &mut impl Write,
) -> io::Result<()> {
    let queries: Vec<_> = lines
        .iter()
        .map(|l| {
            let s = l.state;
            json!({
                "id": l.id,
                "covered_until": s.and_then(|s| s.watermark).map(format_datetime),
                "next_fire": l.next_fire.map(format_datetime),
                "last_run": s.and_then(|s| s.last_run.as_ref()).map(run_json),
                "consecutive_failures": s.map_or(0, |s| s.consecutive_failures),
                "total_runs": s.map_or(0, |s| s.total_runs),
                "total_rows": s.map_or(0, |s| s.total_rows),
                "gaps": s.map(|s| s.gaps.iter().map(|g| json!({
                    "start": format_datetime(g.window.start),
                    "end": format_datetime(g.window.end),
                    "reason": g.reason,
                })).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    let daemon = daemon.map(|d| {
        json!({
            "state": liveness_word(d.liveness()),
            "pid": d.pid,
            "started": format_datetime(d.started),
            "stopped": d.stopped.map(format_datetime),
        })
    });
    let notes: Vec<_> = notes
        .iter()
        .map(|n| {
            json!({
                "notify": n.notify,
                "query": n.query_id,
                "window": { "start": format_datetime(n.window.start), "end": format_datetime(n.window.end) },
                "status": n.status.as_str(),
                "attempts": n.attempts,
                "next_attempt": (n.status == NoteStatus::Pending).then(|| format_datetime(n.next)),
                "last_error": n.last_error,
            })
        })
        .collect();
    let doc = json!({ "daemon": daemon, "queries": queries, "notifications": notes });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Writes `runs` (newest first) as a table (STARTED, QUERY, WINDOW, STATUS, ROWS, FILES,
/// SECONDS, REQUEST-IDS, then an `error:` line under each failed or incomplete run) or as one
/// JSON document `{"runs": [{"query", "window", "status", "rows", "files", "request_ids",
/// "started", "seconds", "error"}]}`.
pub fn render_history(runs: &[RunRecord], out: &mut impl Write, json: bool) -> io::Result<()> {
    if json {
        let runs: Vec<_> = runs
            .iter()
            .map(|r| {
                let mut v = run_json(r);
                v["query"] = r.query_id.clone().into();
                v
            })
            .collect();
        serde_json::to_writer(&mut *out, &json!({ "runs": runs }))?;
        return writeln!(out);
    }
    if runs.is_empty() {
        return writeln!(out, "(no runs recorded)");
    }
    let header =
        ["STARTED", "QUERY", "WINDOW", "STATUS", "ROWS", "FILES", "SECONDS", "REQUEST-IDS"];
    let cells: Vec<[String; 8]> = runs
        .iter()
        .map(|r| {
            [
                format_datetime(r.started),
                r.query_id.clone(),
                r.window.to_string(),
                r.status.to_string(),
                r.rows.to_string(),
                r.files.len().to_string(),
                format!("{:.1}", r.seconds),
                r.request_ids.join(","),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, row: [&str; 8]| -> io::Result<()> {
        let [w0, w1, w2, w3, w4, w5, w6, _] = widths;
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {:>w4$}  {:>w5$}  {:>w6$}  {}",
            row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
        )
    };
    line(out, header)?;
    for (row, run) in cells.iter().zip(runs) {
        line(out, row.each_ref().map(String::as_str))?;
        if let Some(e) = run.error.as_deref().filter(|_| run.status != RunStatus::Ok) {
            writeln!(out, "  {}: {e}", run.status)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::state::Gap;
    use crate::timespan::Window;
    use chrono::TimeZone as _;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn states() -> Vec<QueryState> {
        let run = |status: RunStatus, error: Option<&str>| RunRecord {
            query_id: String::new(),
            window: Window { start: t(0), end: t(15) },
            status,
            rows: 7,
            files: vec!["a.parquet".to_owned()],
            request_ids: vec!["req-9".to_owned()],
            started: t(16),
            seconds: 2.5,
            error: error.map(str::to_owned),
        };
        vec![
            QueryState {
                query_id: "beacons".to_owned(),
                watermark: Some(t(0)),
                last_run: Some(run(RunStatus::Failed, Some("BadRequest: syntax error"))),
                consecutive_failures: 3,
                total_runs: 5,
                total_rows: 120,
                gaps: vec![Gap {
                    window: Window { start: t(-50_000), end: t(-43_200) },
                    reason: "older than 30 days".to_owned(),
                }],
            },
            QueryState {
                query_id: "encoded-powershell".to_owned(),
                watermark: Some(t(15)),
                last_run: Some(run(RunStatus::Ok, None)),
                consecutive_failures: 0,
                total_runs: 1,
                total_rows: 7,
                gaps: vec![],
            },
            QueryState {
                query_id: "removed".to_owned(),
                watermark: Some(t(15)),
                last_run: None,
                consecutive_failures: 0,
                total_runs: 0,
                total_rows: 0,
                gaps: vec![],
            },
        ]
    }

    fn fires() -> BTreeMap<String, Option<DateTime<Utc>>> {
        BTreeMap::from([
            ("beacons".to_owned(), Some(t(30))),
            ("encoded-powershell".to_owned(), Some(t(45))),
            ("new-query".to_owned(), Some(t(60))),
            ("disabled".to_owned(), None),
        ])
    }

    #[test]
    fn the_table_shows_each_query_and_lists_failures_and_gaps() {
        let mut out = Vec::new();
        render_status(&states(), None, &fires(), &[], &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().next(), Some("daemon: never ran on this state"), "{text}");
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert!(lines[0].starts_with("QUERY"), "{text}");
        for h in ["COVERED UNTIL", "LAST RUN", "ROWS", "TOTAL ROWS", "FAILURES", "NEXT FIRE"] {
            assert!(lines[0].contains(h), "{text}");
        }
        let row = |id: &str| *lines.iter().find(|l| l.starts_with(id)).unwrap();
        let beacons = row("beacons ");
        assert!(beacons.contains("2026-11-22T10:00:00Z/2026-11-22T10:15:00Z failed"), "{text}");
        // ROWS is the last window's, TOTAL ROWS all runs'.
        let rows = lines[0].find("ROWS").unwrap();
        let total = lines[0].find("TOTAL ROWS").unwrap();
        assert_eq!(beacons[rows..total].trim(), "7", "{text}");
        assert!(beacons[total..].trim_start().starts_with("120 "), "{text}");
        assert!(beacons.contains(" 3 "), "{text}");
        assert!(beacons.ends_with("2026-11-22T10:30:00Z"), "{text}");
        assert!(row("encoded-powershell").contains("2026-11-22T10:15:00Z"), "{text}");
        assert!(row("new-query").ends_with("2026-11-22T11:00:00Z"), "{text}");
        assert!(row("disabled").trim_end().ends_with('-'), "{text}");
        assert!(row("removed").trim_end().ends_with('-'), "{text}");
        // columns line up: every row's COVERED UNTIL starts where the header's does
        let col = lines[0].find("COVERED UNTIL").unwrap();
        assert_eq!(&beacons[col..col + 10], "2026-11-22");
        assert!(
            text.contains(
                "error: query beacons: 3 consecutive failed runs; last over \
                 2026-11-22T10:00:00Z/2026-11-22T10:15:00Z at 2026-11-22T10:16:00Z: \
                 BadRequest: syntax error"
            ),
            "{text}"
        );
        assert!(text.contains("gap: query beacons: "), "{text}");
        assert!(text.contains("skipped: older than 30 days"), "{text}");
        assert!(!text.contains("error: query encoded-powershell"), "{text}");
    }

    #[test]
    fn the_json_form_holds_the_same() {
        let mut out = Vec::new();
        render_status(&states(), None, &fires(), &[], &mut out, true).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let queries = doc["queries"].as_array().unwrap();
        let ids: Vec<_> = queries.iter().map(|q| q["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["beacons", "disabled", "encoded-powershell", "new-query", "removed"]);
        assert!(doc["daemon"].is_null(), "{doc}");
        let b = &queries[0];
        assert_eq!(b["covered_until"], "2026-11-22T10:00:00Z");
        assert_eq!(b["next_fire"], "2026-11-22T10:30:00Z");
        assert_eq!(b["consecutive_failures"], 3);
        assert_eq!(b["total_rows"], 120);
        assert_eq!(b["last_run"]["status"], "failed");
        assert_eq!(b["last_run"]["error"], "BadRequest: syntax error");
        assert_eq!(b["last_run"]["window"]["end"], "2026-11-22T10:15:00Z");
        assert_eq!(b["last_run"]["request_ids"][0], "req-9");
        assert_eq!(b["gaps"][0]["reason"], "older than 30 days");
        assert!(queries[1]["next_fire"].is_null() && queries[1]["last_run"].is_null());
        assert!(queries[4]["next_fire"].is_null());
        assert_eq!(queries[4]["covered_until"], "2026-11-22T10:15:00Z");
    }

    #[test]
    fn history_lists_runs_newest_first_with_their_errors() {
        let runs: Vec<RunRecord> = states().into_iter().filter_map(|s| s.last_run).collect();
        let mut out = Vec::new();
        render_history(&runs, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for h in ["STARTED", "QUERY", "WINDOW", "STATUS", "ROWS", "FILES", "SECONDS", "REQUEST-IDS"]
        {
            assert!(lines[0].contains(h), "{text}");
        }
        assert!(lines[1].contains(" failed ") && lines[1].ends_with("req-9"), "{text}");
        assert_eq!(lines[2], "  failed: BadRequest: syntax error", "{text}");
        assert!(lines[3].contains(" ok ") && lines[3].contains(" 2.5 "), "{text}");
        let mut out = Vec::new();
        render_history(&runs, &mut out, true).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["runs"][0]["status"], "failed");
        assert_eq!(doc["runs"][0]["rows"], 7);
        assert_eq!(doc["runs"][0]["request_ids"][0], "req-9");
        let mut out = Vec::new();
        render_history(&[], &mut out, false).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "(no runs recorded)\n");
    }

    #[test]
    fn nothing_to_show_says_so() {
        let mut out = Vec::new();
        render_status(&[], None, &BTreeMap::new(), &[], &mut out, false).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("(no queries)"));
        let mut out = Vec::new();
        render_status(&[], None, &BTreeMap::new(), &[], &mut out, true).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["queries"], serde_json::json!([]));
        assert_eq!(doc["notifications"], serde_json::json!([]));
    }

    #[test]
    fn undelivered_notifications_are_listed_by_notifier() {
        let window = Window { start: t(0), end: t(15) };
        let message: crate::notify::message::Message = serde_json::from_value(serde_json::json!({
            "query_id": "beacons", "query_name": "b", "tenant": "t", "window_start": "a",
            "window_end": "b", "rows": 1, "complete": true, "files": [], "request_ids": [],
            "sample": [], "den": null
        }))
        .unwrap();
        let note = |status, attempts, error: &str| Note {
            id: 1,
            notify: "soc-teams".into(),
            query_id: "beacons".into(),
            window,
            message: message.clone(),
            status,
            attempts,
            created: t(15),
            next: t(20),
            done: None,
            last_error: Some(error.into()),
        };
        let notes = [
            note(NoteStatus::Pending, 2, "the receiver answered HTTP 503"),
            note(NoteStatus::Failed, 1, "HTTP 404"),
        ];
        let mut out = Vec::new();
        render_status(&states(), None, &fires(), &notes, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("notification: soc-teams of query beacons 2026-11-22T10:00:00Z/2026-11-22T10:15:00Z pending (2 attempts, next at 2026-11-22T10:20:00Z): the receiver answered HTTP 503"), "{text}");
        assert!(text.contains("error: notification soc-teams of query beacons 2026-11-22T10:00:00Z/2026-11-22T10:15:00Z given up after 1 attempt: HTTP 404"), "{text}");
        let mut out = Vec::new();
        render_status(&states(), None, &fires(), &notes, &mut out, true).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let n = &doc["notifications"];
        assert_eq!(n[0]["notify"], "soc-teams");
        assert_eq!(n[0]["status"], "pending");
        assert_eq!(n[0]["next_attempt"], "2026-11-22T10:20:00Z");
        assert_eq!(n[1]["status"], "failed");
        assert!(n[1]["next_attempt"].is_null());
    }
}
