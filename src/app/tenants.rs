//! The tenants a command serves, ready to connect: the one tenant of the `AZURE_*` environment
//! (no `[[tenant]]` tables: exactly as hunt always did), or the `[[tenant]]` tables picked by
//! `--tenant` and `--shard`, each with its own credentials (or made-up ones on one shared
//! emulator), quota limits, output location and state files.

use super::{ledger_file, state_dir};
use crate::cli::TenantArgs;
use crate::clock::Clock;
use crate::config::Config;
use crate::emulator::{Emulator, EmulatorConfig, EmulatorTenant};
use crate::graph::pool::{self, Slots};
use crate::graph::{GraphClient, HuntApi, Settings};
use crate::output::{Destination, Format};
use crate::quota::{Governor, Limits};
use crate::tenant::TenantConfig;
use crate::tenant::select::select;
use anyhow::Context as _;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// One tenant to serve.
pub(super) struct Target {
    /// Its name in hunt.toml; None for the one tenant of the environment.
    pub name: Option<String>,
    /// Where and as whom it signs in, or why it cannot (the others still run).
    pub settings: Result<Settings, String>,
    /// Reads the tenant's credentials and endpoints again (a `[[tenant]]` of a real tenant), for
    /// a later attempt to start it: a certificate may have been mounted or rotated since.
    pub resolve: Option<Resolve>,
    /// Its quota limits.
    pub limits: Limits,
    /// Its own output location (`out` in its table); None: the command's.
    pub out: Option<String>,
    /// A tenant of a private emulator: its ledger and state are not the machine's.
    pub emulated: bool,
    /// With several tenants, the process's answer slots they share ([run] max_in_flight).
    pub slots: Option<Slots>,
}

/// The tenants of a command, and the emulator they may live in (kept alive while they run).
pub(super) struct Targets {
    /// In hunt.toml's order.
    pub list: Vec<Target>,
    /// Several tenants (`[[tenant]]` tables) rather than the environment's one.
    pub multi: bool,
    /// The private emulator of `--emulator`, kept alive as long as the tenants.
    pub _emulator: Option<Emulator>,
}

impl Targets {
    /// Each tenant's destination, in order: `default` (the command's), or the tenant's own `out`
    /// in `format`, each distinct one opened once. A tenant's own that cannot be opened is that
    /// tenant's failure.
    pub async fn destinations(
        &self,
        default: &Arc<Destination>,
        format: Option<Format>,
        config: &Config,
    ) -> Vec<anyhow::Result<Arc<Destination>>> {
        let mut opened: HashMap<&str, Result<Arc<Destination>, String>> = HashMap::new();
        let mut dests = Vec::new();
        for t in &self.list {
            let Some(out) = t.out.as_deref() else {
                dests.push(Ok(Arc::clone(default)));
                continue;
            };
            let dest = match opened.get(out) {
                Some(d) => d.clone(),
                None => {
                    // The tenant's own store signs in as the tenant does.
                    let settings = t.settings.as_ref().ok().filter(|_| !t.emulated).cloned();
                    let signer = move || settings.clone();
                    let d =
                        super::output::destination(Some(OsStr::new(out)), format, config, &signer)
                            .await
                            .map_err(|e| format!("its out {out:?}: {e:#}"));
                    opened.insert(out, d.clone());
                    d
                }
            };
            dests.push(dest.map_err(anyhow::Error::msg));
        }
        dests
    }
}

impl Target {
    /// A log span naming the tenant (none for the environment's one tenant), so every line
    /// logged for its work says whose it is.
    pub fn span(&self) -> tracing::Span {
        match &self.name {
            Some(name) => tracing::info_span!("tenant", name = %name),
            None => tracing::Span::none(),
        }
    }

    /// `"tenant NAME: "` before a message about this tenant (nothing for the single tenant).
    pub fn who(&self) -> String {
        self.name.as_deref().map(|n| format!("tenant {n}: ")).unwrap_or_default()
    }

    /// The hunting API of `client` as this tenant's executor uses it: drawing on the answer
    /// slots shared by every tenant, when there are several.
    pub fn api(&self, client: GraphClient) -> Arc<dyn HuntApi> {
        match &self.slots {
            Some(slots) => Arc::new(client.with_slots(Arc::clone(slots))),
            None => Arc::new(client),
        }
    }

    /// A signed-in client telling the time by `clock`, and the tenant id, or why not. `again`:
    /// a later attempt, which reads the credentials afresh where they can change.
    pub async fn sign_in(
        &self,
        again: bool,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<(GraphClient, String)> {
        let settings = match (&self.resolve, again) {
            (Some(resolve), true) => resolve(),
            _ => self.settings.clone(),
        };
        let settings = settings.map_err(anyhow::Error::msg)?;
        let tenant_id = settings.auth.tenant_id.clone();
        if self.name.is_none() {
            return Ok((super::signed_in(settings, clock).await?, tenant_id));
        }
        let client = GraphClient::new(settings, clock)?;
        client.sign_in().await.context("cannot sign in; nothing was run for this tenant")?;
        Ok((client, tenant_id))
    }

    /// Awaits `work` for this tenant. A `[[tenant]]`'s failure is reported on stderr at once
    /// (the other tenants go on); the environment's tenant's is left to the caller (nothing
    /// can run: exit 2).
    pub async fn reported<T>(
        &self,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let result = work.await;
        if let Err(e) = &result
            && self.name.is_some()
        {
            eprintln!("error: {}{e:#}", self.who());
        }
        result
    }

    /// The quota governor of the tenant `tenant_id`: shared with every hunt process of it on
    /// this machine, or private to this process for an emulator.
    pub fn governor(&self, tenant_id: &str, clock: Arc<dyn Clock>) -> Arc<Governor> {
        if self.emulated {
            Governor::new(self.limits.clone(), clock)
        } else {
            Governor::shared(self.limits.clone(), clock, ledger_file(tenant_id))
        }
    }

    /// A state file of this tenant (see [`state_file`]).
    pub fn state_file(&self, kind: &str, tenant_id: &str, ext: &str) -> PathBuf {
        state_file(kind, self.name.as_deref(), self.emulated, tenant_id, ext)
    }
}

/// The tenants `select` picks, connected as `emulator` says. Without `[[tenant]]` tables a
/// connection problem is an error (nothing can run); with them it is recorded on its tenant.
pub(super) async fn targets(
    select_args: &TenantArgs,
    emulator: bool,
    config: &Config,
) -> anyhow::Result<Targets> {
    let selection = select(&config.tenants, &select_args.tenants, select_args.shard)?;
    if !config.multi_tenant() {
        let (settings, emu) = super::connect(emulator, config).await?;
        let target = Target {
            name: None,
            settings: Ok(settings),
            resolve: None,
            limits: config.quota.clone(),
            out: None,
            emulated: emu.is_some(),
            slots: None,
        };
        return Ok(Targets { list: vec![target], multi: false, _emulator: emu });
    }
    let emu = if emulator && !selection.tenants.is_empty() {
        let tenants = config.tenants.iter().map(fabricated).collect::<Vec<EmulatorTenant>>();
        let emu_config = super::emulator::modelled(
            EmulatorConfig {
                tenants,
                retention: Some(super::retention()),
                ..EmulatorConfig::default()
            },
            config,
        )?;
        let emu = Emulator::start(emu_config, (Ipv4Addr::LOCALHOST, 0).into())
            .await
            .context("cannot start the built-in emulator")?;
        eprintln!(
            "using the built-in emulator at {} for {} tenants (synthetic data, made-up credentials)",
            emu.url(),
            selection.tenants.len()
        );
        Some(emu)
    } else {
        None
    };
    let slots = pool::slots(usize::from(config.run.max_in_flight));
    let mut list = Vec::new();
    for t in selection.tenants {
        let (settings, resolve) = match &emu {
            Some(e) => {
                let env = e.env_for(&fabricated(t));
                let var = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
                let settings = Settings::from_env(var).map_err(|e| e.to_string());
                (settings.and_then(|s| tuned(s, &t.limits, config)), None)
            }
            None => {
                let (t, config) = ((*t).clone(), config.clone());
                let resolve: Resolve = Arc::new(move || {
                    let var = |k: &str| std::env::var(k).ok();
                    let settings = t.settings(&var, config.source.as_deref());
                    settings.map_err(|e| e.to_string()).and_then(|s| tuned(s, &t.limits, &config))
                });
                (resolve(), Some(resolve))
            }
        };
        list.push(Target {
            name: Some(t.name().to_owned()),
            settings,
            resolve,
            limits: t.limits.clone(),
            out: t.out.as_ref().map(|o| o.get_ref().clone()),
            emulated: emu.is_some(),
            slots: Some(Arc::clone(&slots)),
        });
    }
    if list.is_empty()
        && let Some(shard) = select_args.shard
    {
        eprintln!(
            "shard {shard} has none of the {} selected tenants: nothing to do",
            selection.selected
        );
    }
    Ok(Targets { list, multi: true, _emulator: emu })
}

/// A state file: `<kind>-<key>.<ext>` in the state folder, keyed by the tenant id for the
/// environment's tenant (as always), by name for a `[[tenant]]`, and `emulator` for a private
/// emulator.
pub(super) fn state_file(
    kind: &str,
    name: Option<&str>,
    emulated: bool,
    tenant_id: &str,
    ext: &str,
) -> PathBuf {
    let key = match (name, emulated) {
        (None, true) => "emulator".to_owned(),
        (None, false) => crate::query::slug(&tenant_id.to_ascii_lowercase()),
        (Some(n), true) => format!("emulator-{n}"),
        (Some(n), false) => format!("tenant-{n}"),
    };
    state_dir().join(format!("{kind}-{key}.{ext}"))
}

/// The made-up credentials of a tenant on the built-in emulator, with its own limits.
fn fabricated(t: &TenantConfig) -> EmulatorTenant {
    EmulatorTenant::fabricated(t.name(), Some(t.limits.clone()))
}

/// The exit code of a command over several tenants: 2 when none could run at all, 1 when one
/// could not or something else failed, 0 otherwise.
pub(super) fn exit_code(not_run: usize, ran: usize, failures: bool) -> ExitCode {
    if ran == 0 && not_run > 0 {
        ExitCode::from(super::EXIT_USAGE)
    } else if not_run > 0 || failures {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Reads a tenant's settings again.
pub(super) type Resolve = Arc<dyn Fn() -> Result<Settings, String> + Send + Sync>;

/// `settings` with the run's limits applied, its warnings shown once.
fn tuned(mut settings: Settings, limits: &Limits, config: &Config) -> Result<Settings, String> {
    super::tune(&mut settings, limits, config);
    for w in &settings.warnings {
        warn_once(w);
    }
    Ok(settings)
}

/// Prints `warning: {text}` unless this process printed the same warning already (one
/// `hunt.toml` read for fifty tenants warns about its permissions once).
fn warn_once(text: &str) {
    static SHOWN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut shown = SHOWN.lock().unwrap_or_else(|p| p.into_inner());
    if !shown.iter().any(|s| s == text) {
        eprintln!("warning: {text}");
        shown.push(text.to_owned());
    }
}
