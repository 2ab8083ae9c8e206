//! A local stand-in for the Microsoft identity platform token endpoint and the Graph security
//! API, serving synthetic Defender data over real HTTP on loopback: `hunt emulator`,
//! `hunt run --emulator`, and the test suite all talk to it exactly as to the real service.
//! It can serve many tenants at once ([`EmulatorTenant`]), each with its own credentials and
//! its own budgets in the quota judge.

mod answer;
pub mod data;
pub mod den_script;
mod identity;
pub mod incidents;
pub mod kql;
mod listing;
pub mod quota;
mod server;
mod tenants;

pub use tenants::EmulatorTenant;

use crate::clock::{Clock as _, TokioClock};
use crate::quota::Limits;

use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The tenant id the emulator answers to by default.
pub const TENANT_ID: &str = "00000000-0000-0000-0000-0000000e0001";
/// What `hunt emulator` and `--emulator` keep, as the service does.
pub const RETENTION_DAYS: i64 = 30;
/// The issuer of federated tokens the emulator trusts by default (workload identity).
pub const FEDERATED_ISSUER: &str = "https://oidc.hunt-emulator.test";
/// The managed-identity endpoint's `IDENTITY_HEADER` by default.
pub const IDENTITY_HEADER: &str = "hunt-emulator-identity-header";
/// The app (client) id the emulator answers to by default.
pub const CLIENT_ID: &str = "00000000-0000-0000-0000-0000000c0001";
/// The client secret the emulator accepts by default (a well-known test value, like Azurite's).
pub const CLIENT_SECRET: &str = "hunt-emulator-secret";

/// How the emulator behaves.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Tenant id accepted in the token URL.
    pub tenant_id: String,
    /// Client id accepted.
    pub client_id: String,
    /// Client secret accepted.
    pub client_secret: String,
    /// DER certificate whose key may sign client assertions, if any.
    pub client_cert_der: Option<Vec<u8>>,
    /// The issuer whose tokens are trusted as federated credentials of every app served
    /// (workload identity): assertions with this `iss` and the audience
    /// `api://AzureADTokenExchange` sign in.
    pub federated_issuer: String,
    /// The `IDENTITY_HEADER` secret of the managed-identity endpoint at `/msi/token` (App
    /// Service, Container Apps); the metadata endpoint at `/metadata/identity/oauth2/token`
    /// needs `Metadata: true`. Both issue tokens of the default tenant.
    pub identity_header: String,
    /// How far back data exists, as the service's 30 days: a window reaching further is answered
    /// from its last `retention` only. `None` (tests' fixed windows) keeps every instant.
    pub retention: Option<chrono::Duration>,
    /// The application permissions its tokens carry (`roles`; `scp` for a person's).
    pub roles: Vec<String>,
    /// How the person answers a device-code sign-in, one step per poll of the token endpoint:
    /// `authorization_pending`, `slow_down`, `expired_token`, `authorization_declined`, or `ok`
    /// (signed in: tokens for `hunter@contoso.com` with a refresh token).
    pub device_flow: Vec<String>,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
    /// Synthetic events per hour per table.
    pub events_per_hour: u32,
    /// Put `results` before `schema` in responses (as some real responses do).
    pub results_first: bool,
    /// When set, tokens stop working after this long although `expires_in` says
    /// `token_lifetime` (a revoked or early-expired token: the client must renew on 401).
    pub actual_token_lifetime: Option<Duration>,
    /// Added to every hunting call before it answers (a slow service).
    pub response_delay: Duration,
    /// The service's budgets and result caps, enforced per tenant (None: unlimited).
    pub limits: Option<Limits>,
    /// More tenants to serve besides the default one above, each with its own credentials and
    /// its own budgets (one account per tenant in the quota judge).
    pub tenants: Vec<EmulatorTenant>,
    /// Faults for the next calls, one per call in order (more can be queued at run time with
    /// `POST /_emulator/faults`).
    pub faults: Vec<Fault>,
    /// Chaos: when the queue is empty, each call meets a random fault with this probability
    /// (0 to 1), drawn from a generator seeded with `chaos_seed` so a run can be replayed.
    pub chaos: f64,
    /// Seed of the chaos generator.
    pub chaos_seed: u64,
    /// Canned-response mode (benchmarks): when set, every `runHuntingQuery` call that passes
    /// authentication, quota and faults is answered 200 with this file's bytes instead of
    /// evaluating its KQL. The file is read once by [`Emulator::start`] and served without a copy
    /// per request. The body is served as it is: the result caps (`max_rows`,
    /// `max_result_bytes`) are not applied to it; the call budgets still are.
    pub canned_response: Option<std::path::PathBuf>,
    /// A DEN with a scripted lifecycle served among the incidents (see [`den_script`]).
    pub den_script: Option<den_script::DenScript>,
    /// The local files `externaldata` reads, by the URL the query names (the emulator has no
    /// network): each is read when a query names its URL; a URL not listed is refused with 400.
    pub externaldata: std::collections::BTreeMap<String, std::path::PathBuf>,
    /// Tables as in a tenant whose Defender XDR tables are streamed to Microsoft Sentinel: a
    /// `TimeGenerated` column besides `Timestamp` (see `kql::Context::sentinel_streamed`).
    pub sentinel_streamed: bool,
}

/// A fault the emulator can inject into one hunting call.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer normally.
    None,
    /// 503 Service Unavailable, with `Retry-After` seconds if given.
    Unavailable {
        /// `Retry-After` in seconds.
        retry_after: Option<f64>,
    },
    /// 429 Too Many Requests (a throttle the quota did not cause), with `Retry-After` if given.
    Throttle {
        /// `Retry-After` in seconds.
        retry_after: Option<f64>,
    },
    /// 504 Gateway Timeout with an empty `UnknownError`, as the service sends for slow queries.
    GatewayTimeout,
    /// Wait this long before answering normally.
    Slow {
        /// Milliseconds.
        ms: u64,
    },
    /// Send the status line and headers, then drop the connection.
    Reset,
    /// Send half of the real body, then drop the connection.
    Truncate,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            tenant_id: TENANT_ID.into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            client_cert_der: None,
            federated_issuer: FEDERATED_ISSUER.into(),
            identity_header: IDENTITY_HEADER.into(),
            roles: [
                "ThreatHunting.Read.All",
                "SecurityIncident.Read.All",
                "SecurityAlert.Read.All",
            ]
            .map(String::from)
            .to_vec(),
            device_flow: vec!["authorization_pending".into(), "ok".into()],
            retention: None,
            token_lifetime: Duration::from_secs(3599),
            events_per_hour: 360,
            results_first: false,
            actual_token_lifetime: None,
            response_delay: Duration::ZERO,
            limits: Some(Limits::default()),
            tenants: Vec::new(),
            faults: Vec::new(),
            chaos: 0.0,
            chaos_seed: 1,
            canned_response: None,
            den_script: None,
            externaldata: std::collections::BTreeMap::new(),
            sentinel_streamed: false,
        }
    }
}

/// One hunting call as the emulator saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallRecord {
    /// Arrival, ms since the Unix epoch.
    pub arrived_ms: i64,
    /// When the answer was ready, ms since the Unix epoch.
    pub answered_ms: i64,
    /// HTTP status sent.
    pub status: u16,
}

/// Counters, for tests and curious users (`GET /_emulator/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// Tokens issued.
    pub tokens_issued: u64,
    /// `runHuntingQuery` calls received.
    pub hunting_calls: u64,
    /// Calls refused with 401.
    pub unauthorized: u64,
    /// Calls refused with 429 because a quota was spent.
    pub throttled: u64,
    /// Faults injected.
    pub faults_injected: u64,
    /// Most execution milliseconds spent in any sliding hour so far.
    pub max_exec_hour_ms: i64,
    /// Sign-ins with a federated token (workload identity).
    pub federated_sign_ins: u64,
    /// Distinct federated tokens seen (a rotated token file shows as a new one).
    pub federated_tokens_distinct: u64,
    /// Tokens issued by the managed-identity endpoints.
    pub managed_identity_tokens: u64,
}

pub(crate) struct State {
    config: EmulatorConfig,
    addr: SocketAddr,
    /// Issued tokens: when each stops working, the account it was issued to, and its audience
    /// (the Graph root, or another resource such as storage).
    tokens: Mutex<HashMap<String, (tokio::time::Instant, usize, String)>>,
    tokens_issued: AtomicU64,
    federated: Mutex<(u64, std::collections::HashSet<String>)>,
    /// Device codes handed out, with the steps left of their script.
    device_codes: Mutex<HashMap<String, VecDeque<String>>>,
    /// Refresh tokens that work, and the account each belongs to (a used one stops working).
    refresh_tokens: Mutex<HashMap<String, usize>>,
    managed_identity_tokens: AtomicU64,
    hunting_calls: AtomicU64,
    unauthorized: AtomicU64,
    throttled: AtomicU64,
    faults_injected: AtomicU64,
    /// One per tenant served, the default tenant first.
    accounts: Vec<tenants::Account>,
    faults: Mutex<VecDeque<Fault>>,
    log: Mutex<Vec<CallRecord>>,
    chaos: Mutex<(f64, u64)>,
    incidents: Mutex<Vec<incidents::Incident>>,
    /// The canned response body, when `config.canned_response` is set.
    canned: Option<bytes::Bytes>,
    /// The service's time (its token expiry follows tokio's monotonic clock).
    clock: TokioClock,
    /// When it started, and how far its DEN time was moved on ([`Emulator::advance_den_time`]).
    den_time: (i64, std::sync::atomic::AtomicI64),
}

impl State {
    fn stats(&self) -> Stats {
        Stats {
            tokens_issued: self.tokens_issued.load(Ordering::Relaxed),
            hunting_calls: self.hunting_calls.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            faults_injected: self.faults_injected.load(Ordering::Relaxed),
            max_exec_hour_ms: self
                .accounts
                .iter()
                .filter_map(|a| a.quota.lock().ok().map(|q| q.max_exec_in_any_window(3_600_000)))
                .max()
                .unwrap_or_default(),
            federated_sign_ins: self.federated.lock().map_or(0, |f| f.0),
            federated_tokens_distinct: self.federated.lock().map_or(0, |f| f.1.len() as u64),
            managed_identity_tokens: self.managed_identity_tokens.load(Ordering::Relaxed),
        }
    }

    /// The scripted DEN as it stands now, if one is configured and has begun.
    pub(super) fn scripted_den(&self) -> Option<incidents::Incident> {
        let script = self.config.den_script.as_ref()?;
        let now = self.clock.now_ms() + self.den_time.1.load(Ordering::SeqCst);
        script.at(self.den_time.0, now)
    }

    pub(super) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Binds `addr` (use port 0 for any free port) and serves in the background. Fails if the
    /// canned response file (if any) cannot be read.
    pub async fn start(config: EmulatorConfig, addr: SocketAddr) -> std::io::Result<Emulator> {
        let canned = match &config.canned_response {
            Some(path) => {
                Some(bytes::Bytes::from(tokio::fs::read(path).await.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
                })?))
            }
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let faults = Mutex::new(config.faults.iter().cloned().collect());
        let (chaos_rate, chaos_seed) = (config.chaos, config.chaos_seed.max(1));
        let accounts = tenants::accounts(&config);
        let clock = TokioClock::new();
        let state = Arc::new(State {
            config,
            faults,
            accounts,
            log: Mutex::new(Vec::new()),
            chaos: Mutex::new((chaos_rate, chaos_seed)),
            incidents: Mutex::new(incidents::built_in()),
            throttled: AtomicU64::new(0),
            faults_injected: AtomicU64::new(0),
            addr: listener.local_addr()?,
            tokens: Mutex::new(HashMap::new()),
            tokens_issued: AtomicU64::new(0),
            federated: Mutex::new((0, Default::default())),
            device_codes: Mutex::new(HashMap::new()),
            refresh_tokens: Mutex::new(HashMap::new()),
            managed_identity_tokens: AtomicU64::new(0),
            hunting_calls: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            canned,
            clock,
            den_time: (clock.now_ms(), std::sync::atomic::AtomicI64::new(0)),
        });
        let app = server::router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("emulator stopped: {e}");
            }
        });
        Ok(Emulator { state, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.state.addr
    }

    /// `http://127.0.0.1:PORT`: both the Graph root and the authority host.
    pub fn url(&self) -> String {
        self.state.base_url()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// Every hunting call so far, in arrival order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The hunting calls charged to `tenant_id` (those with its token), in arrival order; None
    /// for a tenant not served.
    pub fn calls_of(&self, tenant_id: &str) -> Option<Vec<CallRecord>> {
        let account = self.state.accounts.iter().find(|a| a.tenant.tenant_id == tenant_id)?;
        Some(account.log.lock().map(|l| l.clone()).unwrap_or_default())
    }

    /// The emulator's record of the tokens it issued: how a loopback resource server in a test
    /// (a storage account, say) checks a bearer token, as the real one asks Entra's keys.
    pub fn issued_tokens(&self) -> IssuedTokens {
        IssuedTokens(Arc::clone(&self.state))
    }

    /// The data seed of the served tenant `tenant_id` (`data::tenant_seed`, 0 for the default
    /// tenant), to compute what it should answer with `data::tenant_rows`.
    pub fn data_seed(&self, tenant_id: &str) -> Option<u64> {
        self.state.accounts.iter().find(|a| a.tenant.tenant_id == tenant_id).map(|a| a.seed)
    }

    /// The tenants served, the default one first.
    pub fn tenants(&self) -> Vec<EmulatorTenant> {
        self.state.accounts.iter().map(|a| a.tenant.clone()).collect()
    }

    /// Adds (or, with an existing id, replaces) an incident.
    pub fn upsert_incident(&self, incident: incidents::Incident) {
        if let Ok(mut list) = self.state.incidents.lock() {
            list.retain(|i| i.id != incident.id);
            list.push(incident);
        }
    }

    /// Moves the time of the scripted DEN's lifecycle on by `by` (the rest of the emulator keeps
    /// its own time): tests reach its next step at once.
    pub fn advance_den_time(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(0);
        self.state.den_time.1.fetch_add(ms, Ordering::SeqCst);
    }

    /// The incidents served.
    pub fn incidents(&self) -> Vec<incidents::Incident> {
        self.state.incidents.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Changes the chaos rate (0 turns it off).
    pub fn set_chaos(&self, rate: f64) {
        if let Ok(mut c) = self.state.chaos.lock() {
            c.0 = rate;
        }
    }

    /// Queues faults for the coming calls (hunting and listing alike).
    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        if let Ok(mut q) = self.state.faults.lock() {
            q.extend(faults);
        }
    }

    /// The environment that points hunt at this emulator with its default credentials.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let c = &self.state.config;
        let primary = EmulatorTenant {
            tenant_id: c.tenant_id.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            limits: None,
        };
        self.env_for(&primary)
    }

    /// The environment that points hunt at this emulator as `tenant`.
    pub fn env_for(&self, tenant: &EmulatorTenant) -> Vec<(&'static str, String)> {
        tenant.env(&self.url())
    }
}

/// The tokens an emulator issued (see [`Emulator::issued_tokens`]).
#[derive(Clone)]
pub struct IssuedTokens(Arc<State>);

impl IssuedTokens {
    /// The tenant id and audience of `token` if the emulator issued it and it still works.
    pub fn holder(&self, token: &str) -> Option<(String, String)> {
        let (expiry, index, aud) = self.0.tokens.lock().ok()?.get(token).cloned()?;
        (tokio::time::Instant::now() < expiry)
            .then(|| (self.0.accounts[index].tenant.tenant_id.clone(), aud))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
