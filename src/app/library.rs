//! The library commands, which call no API: `hunt validate`, `hunt list` and `hunt plan`.

use crate::cli::{Format, ListArgs, PlanArgs, ValidateArgs};
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::cron::Cron;
use crate::library;
use crate::lint::{self, Severity};
use crate::query::Query;
use crate::schedule::planner::{self, Step, Timing};
use crate::schedule::state::StateStore;
use crate::timespan::{self, Window, format_duration};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

/// The paths as the user gave them, for a message.
fn shown(paths: &[std::path::PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Findings `hunt validate` prints for one file; the rest are counted.
const MAX_FINDINGS_PER_FILE: usize = 50;

pub(super) fn validate(
    args: ValidateArgs,
    config: &crate::config::Config,
) -> anyhow::Result<ExitCode> {
    super::check_paths(&args.paths)?;
    let loaded = library::load(&args.paths);
    if loaded.queries.is_empty() && loaded.errors.is_empty() {
        anyhow::bail!("no query files found in {}", shown(&args.paths));
    }
    let findings = findings(&loaded, config);
    let mut out = std::io::stdout().lock();
    // One broken file (a hundred thousand unclosed brackets) must not bury the others.
    let mut shown: std::collections::HashMap<&std::path::Path, usize> = Default::default();
    for f in &findings {
        let n = shown.entry(&f.path).or_default();
        *n += 1;
        if *n <= MAX_FINDINGS_PER_FILE {
            writeln!(out, "{f}")?;
        }
    }
    let mut over: Vec<_> = shown.into_iter().filter(|(_, n)| *n > MAX_FINDINGS_PER_FILE).collect();
    over.sort();
    for (path, n) in over {
        writeln!(
            out,
            "{}: {} more findings not shown (the first {MAX_FINDINGS_PER_FILE} of each file are)",
            path.display(),
            n - MAX_FINDINGS_PER_FILE
        )?;
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let n = crate::report::count;
    eprintln!(
        "{}, {}: {}, {}, {}",
        n(loaded.files.len(), "file", "files"),
        n(loaded.queries.len(), "query", "queries"),
        n(count(Severity::Error), "error", "errors"),
        n(count(Severity::Warning), "warning", "warnings"),
        n(count(Severity::Info), "note", "notes")
    );
    Ok(ExitCode::from(lint::exit_code(&findings)))
}

/// What `hunt validate` finds in `loaded` (and `hunt list` counts): the lint's findings and
/// each `notify:` naming no `[[notify]]` table of hunt.toml (it would be refused at run time).
fn findings(loaded: &library::Loaded, config: &Config) -> Vec<lint::Finding> {
    let mut findings = lint::lint_loaded(loaded, TokioClock::new().now());
    for q in &loaded.queries {
        if let Err(crate::notify::NotifyError::Query { path, line, col, message }) =
            crate::notify::names_of(q, &config.notify)
        {
            findings.push(lint::Finding {
                path,
                line,
                col,
                severity: Severity::Error,
                code: "unknown-notifier",
                message: format!("notify: {message}"),
            });
        }
    }
    findings
}

/// The next fire of a query's schedule after `after`, if it has a valid one.
fn next_fire(q: &Query, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Cron::parse(q.schedule.as_deref()?).ok()?.next_after(after)
}

pub(super) fn list(args: ListArgs, config: &Config) -> anyhow::Result<ExitCode> {
    super::check_paths(&args.paths)?;
    let loaded = library::load(&args.paths);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    for w in &loaded.warnings {
        // As validate ranks it: a query saved disabled is a note.
        let kind = if w.message == library::NO_CODE_DISABLED { "note" } else { "warning" };
        eprintln!("{kind}: {w}");
    }
    let now = TokioClock::new().now();
    // The footer counts what `hunt validate` finds in the same library, not only the loader's
    // own messages, so the two commands never disagree on how many warnings there are.
    let findings = findings(&loaded, config);
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let mut out = std::io::stdout().lock();
    let rows: Vec<_> =
        loaded.queries.iter().map(|q| (q, next_fire(q, now), crate::kql::tables(&q.kql))).collect();
    match args.format {
        Format::Json => {
            let items: Vec<_> = rows
                .iter()
                .map(|(q, next, tables)| {
                    json!({
                        "id": q.id, "name": q.name, "source": q.source, "enabled": q.enabled,
                        "schedule": q.schedule, "next_run": next.map(timespan::format_datetime),
                        "lookback": q.lookback.map(format_duration), "delay": q.delay.map(format_duration),
                        "split": q.split.as_str(), "tags": q.tags, "tables": tables,
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::Value::Array(items))?;
        }
        Format::Table => {
            let w = rows.iter().map(|(q, ..)| q.id.len()).max().unwrap_or(2).max(2);
            writeln!(
                out,
                "{:<w$}  {:<14}  {:<20}  {:<40}  SOURCE",
                "ID", "SCHEDULE", "NEXT RUN", "TABLES"
            )?;
            for (q, next, tables) in &rows {
                let schedule = match (&q.schedule, q.enabled) {
                    (_, false) => "(disabled)".to_owned(),
                    (Some(s), true) => s.clone(),
                    (None, true) => "-".to_owned(),
                };
                let next = next
                    .filter(|_| q.enabled)
                    .map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M:%SZ").to_string());
                let tables = tables.join(",");
                writeln!(
                    out,
                    "{:<w$}  {schedule:<14}  {next:<20}  {tables:<40}  {}",
                    q.id,
                    q.source.display()
                )?;
            }
            let n = crate::report::count;
            writeln!(
                out,
                "\n{} from {}: {}, {}, {} (`hunt validate` shows them)",
                n(rows.len(), "query", "queries"),
                n(loaded.files.len(), "file", "files"),
                n(count(Severity::Error), "error", "errors"),
                n(count(Severity::Warning), "warning", "warnings"),
                n(count(Severity::Info), "note", "notes"),
            )?;
        }
    }
    Ok(if loaded.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

pub(super) fn plan(args: PlanArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let at = match &args.at {
        Some(t) => timespan::parse_datetime(t).with_context(|| format!("--at {t}"))?,
        // To the second: the plan's times are read by people.
        None => {
            let now = TokioClock::new().now();
            DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now)
        }
    };
    let span = timespan::parse_duration(&args.span).context("--for")?;
    super::check_paths(&args.paths)?;
    let loaded = library::load(&args.paths);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    // The schedule states to plan from (one per selected tenant); none found: lookbacks only.
    let sources = match super::status::sources(&args.select, args.emulator, config) {
        Ok(s) => s,
        Err(e) if !config.multi_tenant() => {
            eprintln!("note: {e:#}; each query plans from its lookback");
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let several = sources.len() > 1;
    let mut docs = Vec::new();
    let mut out = std::io::stdout().lock();
    let plans: Vec<(Option<String>, Option<std::path::PathBuf>)> = if sources.is_empty() {
        vec![(None, None)]
    } else {
        sources.into_iter().map(|s| (s.name, Some(s.path))).collect()
    };
    for (i, (name, path)) in plans.into_iter().enumerate() {
        let watermarks = match &path {
            Some(p) => StateStore::open_read_only(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .watermarks()?,
            None => Default::default(),
        };
        let doc = plan_one(&loaded, &watermarks, at, span, config, args.format, &mut out, i > 0)?;
        if let Some(mut doc) = doc {
            doc["name"] = name.clone().into();
            doc["state"] = path.map(|p| p.display().to_string()).into();
            docs.push(doc);
        }
    }
    if args.format == Format::Json {
        let v = if several { json!({ "tenants": docs }) } else { docs.remove(0) };
        writeln!(out, "{v}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan of one tenant from its `watermarks`: the table written to `out` (after a blank
/// line when `gap`), or the JSON document returned.
#[allow(clippy::too_many_arguments)]
fn plan_one(
    loaded: &library::Loaded,
    watermarks: &BTreeMap<String, DateTime<Utc>>,
    at: DateTime<Utc>,
    span: chrono::Duration,
    config: &Config,
    format: Format,
    out: &mut impl Write,
    gap: bool,
) -> anyhow::Result<Option<serde_json::Value>> {
    // Every fire in [at, at + span) and the window the scheduler's planner gives it, from the
    // watermarks of the schedule state.
    let mut fires: Vec<(DateTime<Utc>, &Query, Window)> = Vec::new();
    for q in loaded.queries.iter().filter(|q| q.enabled) {
        let Some(cron) = q.schedule.as_deref().and_then(|s| Cron::parse(s).ok()) else {
            continue;
        };
        let timing = Timing {
            cron: &cron,
            lookback: q.lookback.unwrap_or(chrono::Duration::days(1)),
            delay: q.delay.unwrap_or_default(),
        };
        let mut covered = watermarks.get(&q.id).copied();
        let mut after = at - chrono::Duration::nanoseconds(1);
        while let Some(t) = cron.next_after(after).filter(|t| *t < at + span) {
            if let Step::Run { window, .. } =
                planner::step(timing, covered, t, chrono::Duration::days(30))
            {
                if window.start < window.end {
                    fires.push((t, q, window));
                }
                covered = Some(window.end);
            }
            after = t;
        }
    }
    fires.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let per_hour = f64::from(config.quota.calls_per_hour) * span.num_seconds() as f64 / 3600.0;
    let allowed = per_hour.floor() as u64;
    match format {
        Format::Json => {
            let items: Vec<_> = fires
                .iter()
                .map(|(t, q, w)| json!({"query": q.id, "fires_at": timespan::format_datetime(*t), "window": w.to_string(), "calls": 1}))
                .collect();
            return Ok(Some(
                json!({"at": timespan::format_datetime(at), "for": format_duration(span), "fires": items,
                           "calls": fires.len(), "calls_allowed": allowed}),
            ));
        }
        Format::Table => {
            if gap {
                writeln!(out)?;
            }
            let w = fires.iter().map(|(_, q, _)| q.id.len()).max().unwrap_or(5).max(5);
            writeln!(out, "{:<20}  {:<w$}  WINDOW", "FIRES AT", "QUERY")?;
            for (t, q, win) in &fires {
                writeln!(out, "{:<20}  {:<w$}  {win}", t.format("%Y-%m-%d %H:%M:%SZ"), q.id)?;
            }
            writeln!(
                out,
                "\n{} windows in the {} from {}: at least {} calls of the {:.0} the tenant allows \
                 in that time (more if a result must be split); each window starts where the \
                 query's previous one ended (its watermark in the schedule state), or is its \
                 lookback for a query never run",
                fires.len(),
                format_duration(span),
                timespan::format_datetime(at),
                fires.len(),
                allowed
            )?;
        }
    }
    Ok(None)
}
