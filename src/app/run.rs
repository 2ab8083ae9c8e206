//! `hunt run`: one-off runs of query files, each over its window, for every tenant served.

use super::notify::Notify;
use super::tenants::Target;
use crate::cli::RunArgs;
use crate::clock::{Clock, TokioClock};
use crate::config::Config;
use crate::executor::{ExecOptions, Executor, Job};
use crate::library;
use crate::output::Destination;
use crate::print::{PrintFormat, Printer};
use crate::report::{self, LoadFailure, Progress, TenantRun};
use crate::schedule::state::outbox::NewNote;
use crate::timespan::Window;
use anyhow::{Context as _, bail};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::time::Instant;

pub(super) async fn run_queries(args: RunArgs, config: Config) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::new());
    // A one-off run's "now" is on a whole second, so file names stay short and readable.
    let now = chrono::DateTime::from_timestamp(clock.now().timestamp(), 0)
        .context("the system clock is out of range")?;
    let fixed_window = match &args.timespan {
        Some(spec) => Some(Window::parse(spec, now)?),
        None => None,
    };
    // --print without --out writes nothing: no destination is opened.
    let printing_only = args.print.is_some() && args.out.is_none();
    if printing_only && args.incremental {
        bail!(
            "--print with --incremental needs --out: an incremental run records its windows as \
             landed, so they must land somewhere"
        );
    }
    let loaded = gather(&args)?;
    let dest = match printing_only {
        true => None,
        false => {
            let signer = super::output::environment_signer(args.emulator);
            Some(
                super::output::destination(args.out.as_deref(), args.format, &config, &signer)
                    .await?,
            )
        }
    };
    let load_failures: Vec<LoadFailure> =
        loaded.errors.iter().map(|e| LoadFailure { text: e.to_string() }).collect();
    let (enabled, disabled): (Vec<_>, Vec<_>) = loaded.queries.into_iter().partition(|q| q.enabled);
    for q in &disabled {
        eprintln!("note: {} ({}) is disabled (enabled: false); skipped", q.id, q.source.display());
    }
    if enabled.is_empty() && load_failures.is_empty() {
        let mut shown: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        if shown.is_empty() {
            shown.push(if args.execute.is_empty() { "queries" } else { "-e" }.to_owned());
        }
        bail!("no enabled queries found in {}", shown.join(", "));
    }
    let jobs: Vec<Job> = enabled
        .into_iter()
        .map(|q| {
            let window = fixed_window.unwrap_or_else(|| {
                Window::ending_at(now, q.lookback.unwrap_or_else(|| chrono::Duration::days(1)))
            });
            Job { query: Arc::new(q), window }
        })
        .collect();
    // The service keeps 30 days: say so once for --timespan, once per query for lookbacks.
    if let Some(w) = fixed_window.filter(|_| !args.incremental)
        && let Some(oldest) = crate::lint::beyond_retention(&w, now)
    {
        eprintln!(
            "warning: --timespan starts at {}, but the service keeps {} days: only data from \
             {} on exists",
            w.start.format("%Y-%m-%dT%H:%M:%SZ"),
            crate::lint::RETENTION_DAYS,
            oldest.format("%Y-%m-%dT%H:%M:%SZ")
        );
    } else if fixed_window.is_none() && !args.incremental {
        for job in &jobs {
            if crate::lint::beyond_retention(&job.window, now).is_some() {
                eprintln!(
                    "warning: {}: lookback {} reaches past the {} days the service keeps: only \
                     the last {} days have data",
                    job.query.id,
                    crate::timespan::format_duration(job.window.end - job.window.start),
                    crate::lint::RETENTION_DAYS,
                    crate::lint::RETENTION_DAYS
                );
            }
        }
    }
    let queries: Vec<&crate::query::Query> = jobs.iter().map(|j| &*j.query).collect();
    let notify = Notify::used_by(&config, &queries)?;
    drop(queries);
    // Incremental: each tenant's windows come from its state, once it is signed in.
    let plan = if args.incremental { Plan::Incremental { now } } else { Plan::Fixed };

    let targets = super::tenants::targets(&args.select, args.emulator, &config).await?;
    if targets.list.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let dests: Vec<anyhow::Result<Option<Arc<Destination>>>> = match &dest {
        Some(dest) => targets
            .destinations(dest, args.format, &config)
            .await
            .into_iter()
            .map(|d| d.map(Some))
            .collect(),
        None => targets.list.iter().map(|_| Ok(None)).collect(),
    };
    let printer = args.print.map(|format| {
        let queries: std::collections::HashSet<&str> =
            jobs.iter().map(|j| j.query.id.as_str()).collect();
        let several = queries.len() > 1 || targets.multi;
        Arc::new(Printer::new(format, args.limit, several, crate::print::terminal_width()))
    });
    let opts = super::settings::exec_options(&config, args.concurrency, args.no_validate);
    // Rows streamed to a terminal (csv, jsonl) would be torn by a progress bar redrawing there;
    // a table is printed at the end, after the bar is gone.
    let streaming = matches!(args.print, Some(PrintFormat::Csv | PrintFormat::Jsonl));
    let progress = Progress::new(jobs.len() * targets.list.len(), !args.json && !streaming);
    // Every tenant at once, each under its own quota.
    let each = targets.list.iter().zip(dests).map(|(t, dest)| {
        let clock = Arc::clone(&clock);
        let printer = printer.clone();
        let notify = notify.clone();
        let run = run_tenant(
            t,
            dest,
            jobs.clone(),
            plan,
            opts.clone(),
            &progress,
            clock,
            printer,
            notify,
        );
        tracing::Instrument::instrument(run, t.span())
    });
    let mut runs = Vec::new();
    for (target, run) in targets.list.iter().zip(futures_util::future::join_all(each).await) {
        let tenant = target.name.clone();
        match run {
            Ok(outcomes) => runs.push(TenantRun { tenant, outcomes, error: None }),
            // The environment's one tenant: nothing ran (exit 2).
            Err(e) if !targets.multi => return Err(e),
            Err(e) => {
                runs.push(TenantRun { tenant, outcomes: Vec::new(), error: Some(format!("{e:#}")) })
            }
        }
    }
    progress.finish();
    drop(targets);

    if let Some(p) = &printer {
        p.finish().context("cannot print the rows")?;
    }
    let wall = started.elapsed();
    report::write_errors(&mut std::io::stderr().lock(), &runs, &load_failures)?;
    let where_ = dest.as_ref().map_or_else(|| "(printed only)".to_owned(), |d| d.to_string());
    if args.json {
        writeln!(std::io::stdout().lock(), "{}", report::to_json(&runs, &load_failures, wall))?;
    } else if printer.is_some() {
        // The rows own stdout; the summary goes to stderr.
        report::write_table(&mut std::io::stderr().lock(), &runs, &load_failures, &where_, wall)?;
    } else {
        report::write_table(&mut std::io::stdout().lock(), &runs, &load_failures, &where_, wall)?;
    }
    let t = report::totals(&runs, load_failures.len());
    let ran = runs.len() - t.tenants_failed;
    Ok(super::tenants::exit_code(t.tenants_failed, ran, t.failed > 0))
}

/// The queries of a run: files and folders, `-` (KQL on stdin, id `stdin`), and each `-e KQL`
/// (ids `adhoc`, `adhoc-2`, …); `queries/` when none is given.
fn gather(args: &RunArgs) -> anyhow::Result<library::Loaded> {
    let is_stdin = |p: &PathBuf| p.as_os_str() == "-";
    let stdin = args.paths.iter().any(is_stdin);
    let mut files: Vec<PathBuf> = args.paths.iter().filter(|p| !is_stdin(p)).cloned().collect();
    if files.is_empty() && !stdin && args.execute.is_empty() {
        files.push(PathBuf::from("queries"));
    }
    super::check_paths(&files)?;
    let mut loaded = library::load(&files);
    let mut texts: Vec<(String, String)> = Vec::new();
    if stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read KQL from stdin")?;
        texts.push(("stdin".to_owned(), text));
    }
    for (i, kql) in args.execute.iter().enumerate() {
        let name = if i == 0 { "adhoc".to_owned() } else { format!("adhoc-{}", i + 1) };
        texts.push((name, kql.clone()));
    }
    for (name, text) in texts {
        match library::parse_kql_file(&text, std::path::Path::new(&name)) {
            Ok(q) => loaded.queries.push(q),
            Err(e) => loaded.errors.push(e),
        }
    }
    Ok(loaded)
}

/// How a run's windows are chosen.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Each job's own window (`--timespan`, else the query's lookback ending now).
    Fixed,
    /// Each query from its watermark in the tenant's schedule state up to `now` minus its delay.
    Incremental {
        /// The run's time, on a whole second.
        now: chrono::DateTime<chrono::Utc>,
    },
}

/// One tenant's run: sign in, then every job under its own quota, into its destination (none:
/// rows are only printed).
#[allow(clippy::too_many_arguments)]
async fn run_tenant(
    target: &Target,
    dest: anyhow::Result<Option<Arc<Destination>>>,
    jobs: Vec<Job>,
    plan: Plan,
    opts: ExecOptions,
    progress: &Progress,
    clock: Arc<dyn Clock>,
    printer: Option<Arc<Printer>>,
    notify: Option<Notify>,
) -> anyhow::Result<Vec<crate::executor::Outcome>> {
    let (client, tenant_id, dest) = target
        .reported(async {
            let dest = dest?;
            let (client, tenant_id) = target.sign_in(false, Arc::clone(&clock)).await?;
            Ok((client, tenant_id, dest))
        })
        .await?;
    let governor = target.governor(&tenant_id, Arc::clone(&clock));
    // A wait for quota shows on the progress line while it lasts.
    governor.on_wait(progress.wait_listener());
    let tenant = target.name.clone();
    let mut executor = match &dest {
        Some(dest) => Executor::new(target.api(client), governor, Arc::clone(dest), opts),
        None => Executor::new_without_files(target.api(client), governor, opts),
    }
    .with_tenant(tenant.clone());
    if let Some(n) = &notify {
        let n = Arc::clone(&n.notifiers);
        executor = executor.with_sample(Arc::new(move |q| n.sample_rows(q)));
    }
    if let Some(printer) = printer {
        let who = tenant.clone();
        executor = executor.with_tap(Arc::new(move |query, batches| {
            let label = match &who {
                Some(t) => format!("{t}/{}", query.id),
                None => query.id.clone(),
            };
            if let Err(e) = printer.print(&label, batches) {
                tracing::error!("cannot print the rows of {label}: {e}");
            }
        }));
    }
    let executor = Arc::new(executor);
    match plan {
        Plan::Fixed => {
            let overlaps = match &dest {
                Some(dest) => super::incremental::overlaps(dest, tenant.as_deref(), &jobs).await,
                None => Default::default(),
            };
            let mut outcomes = executor.run_all(jobs, |o| progress.done(o)).await;
            for o in &mut outcomes {
                o.warnings.extend(overlaps.get(&o.job.query.id).cloned());
            }
            if let Some(n) = notify {
                // A plain run has no watermark: its windows' notes go to the outbox now.
                let label = tenant.clone().unwrap_or_else(|| tenant_id.clone());
                let notes: Vec<NewNote> =
                    outcomes.iter().flat_map(|o| n.notifiers.notes(o, &label)).collect();
                let state =
                    super::notify::open_state(&target.state_file("schedule", &tenant_id, "sqlite"));
                n.after_run(state, &notes, clock, &target.who()).await;
            }
            Ok(outcomes)
        }
        Plan::Incremental { now } => {
            let path = target.state_file("schedule", &tenant_id, "sqlite");
            let claimed =
                super::incremental::claim(target, &tenant_id, &path, jobs, now, progress)?;
            let outcomes = executor.run_all(claimed.jobs.clone(), |o| progress.done(o)).await;
            let label = tenant.clone().unwrap_or_else(|| tenant_id.clone());
            let notes = |o: &crate::executor::Outcome| match &notify {
                Some(n) => n.notifiers.notes(o, &label),
                None => Vec::new(),
            };
            claimed.record(&outcomes, now, &notes, clock.now());
            if let Some(n) = notify {
                n.after_run(Ok(Arc::clone(&claimed.state)), &[], clock, &target.who()).await;
            }
            Ok(outcomes)
        }
    }
}
