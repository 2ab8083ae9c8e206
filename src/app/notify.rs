//! Notifications as the commands set them up: the notifiers of `hunt.toml` with their URLs read
//! from the environment, and `hunt run`'s short delivery at its end.

use crate::clock::Clock;
use crate::config::Config;
use crate::notify::Notifiers;
use crate::notify::courier::Courier;
use crate::notify::policy::Backoff;
use crate::query::Query;
use crate::schedule::state::StateStore;
use crate::schedule::state::outbox::NewNote;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long `hunt run` keeps trying to deliver its notifications before it exits (what is left
/// is delivered by the next `hunt run` or `hunt schedule` of the tenant).
const RUN_DELIVERY: Duration = Duration::from_secs(30);

/// The notifiers of a command and how hard to try them.
#[derive(Clone)]
pub(super) struct Notify {
    /// The notifiers, with their URLs.
    pub notifiers: Arc<Notifiers>,
    /// Retries of undelivered messages: `[run] backoff_base` and `backoff_max`, given up after
    /// a day.
    pub backoff: Backoff,
}

impl Notify {
    /// The notifiers of `config` for `queries` (refusing unknown names and unusable URLs).
    pub fn new(config: &Config, queries: &[&Query]) -> anyhow::Result<Notify> {
        let env = |var: &str| std::env::var(var).ok();
        let notifiers = Arc::new(Notifiers::resolve(&config.notify, queries, &env)?);
        let base = config.run.backoff_base.max(Duration::from_millis(10));
        let backoff = Backoff { base, cap: config.run.backoff_max.max(base), ..Backoff::default() };
        Ok(Notify { notifiers, backoff })
    }

    /// [`Notify::new`], or `None` when no query of `queries` notifies anyone.
    pub fn used_by(config: &Config, queries: &[&Query]) -> anyhow::Result<Option<Notify>> {
        let notify = Notify::new(config, queries)?;
        Ok(notify.notifiers.used_by(queries).then_some(notify))
    }

    /// `hunt run`: queues `notes` in `state` (a plain run's; an incremental run queued its own
    /// with its windows), then delivers what the tenant's outbox holds for at most
    /// [`RUN_DELIVERY`]; says on stderr what is left, or what went wrong.
    pub async fn after_run(
        &self,
        state: anyhow::Result<Arc<StateStore>>,
        notes: &[NewNote],
        clock: Arc<dyn Clock>,
        who: &str,
    ) {
        let delivered = async {
            let state = state?;
            if !notes.is_empty() {
                state.enqueue(notes, clock.now())?;
            }
            let notifiers = Arc::clone(&self.notifiers);
            let courier = Courier::new(Arc::clone(&state), notifiers, clock, self.backoff)?;
            anyhow::Ok(courier.drain(RUN_DELIVERY).await?)
        };
        match delivered.await {
            Ok(0) => {}
            Ok(left) => eprintln!(
                "warning: {who}{left} notification(s) not delivered yet (see `hunt status`); \
                 the next hunt run or hunt schedule of this tenant tries again"
            ),
            Err(e) => eprintln!("error: {who}notifications: {e:#}"),
        }
    }
}

/// The state file at `path`, opened for writing.
pub(super) fn open_state(path: &Path) -> anyhow::Result<Arc<StateStore>> {
    use anyhow::Context as _;
    let state =
        StateStore::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Arc::new(state))
}
