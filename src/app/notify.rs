//! Notifications as the commands set them up: the notifiers of `hunt.toml` with their URLs read
//! from the environment, and `hunt run`'s short delivery at its end.

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

/// The notifiers of `config` for `queries` (refusing unknown names and unusable URLs).
pub(super) fn notifiers(config: &Config, queries: &[&Query]) -> anyhow::Result<Notifiers> {
    Ok(Notifiers::resolve(&config.notify, queries, &|var| std::env::var(var).ok())?)
}

/// How hard notifications are tried: `[run] backoff_base` and `backoff_max`, given up after a
/// day.
pub(super) fn backoff(config: &Config) -> Backoff {
    let base = config.run.backoff_base.max(Duration::from_millis(10));
    Backoff { base, cap: config.run.backoff_max.max(base), ..Backoff::default() }
}

/// `hunt run`: queues `notes` (when `state` is not already holding them) and delivers what the
/// tenant's outbox holds for at most [`RUN_DELIVERY`]; says on stderr what is left.
pub(super) async fn deliver_after_run(
    state: Arc<StateStore>,
    notes: &[NewNote],
    queue: bool,
    notifiers: Arc<Notifiers>,
    backoff: Backoff,
    clock: Arc<dyn crate::clock::Clock>,
    who: &str,
) -> anyhow::Result<()> {
    if queue && !notes.is_empty() {
        state.enqueue(notes, clock.now())?;
    }
    let courier = Courier::new(Arc::clone(&state), notifiers, clock, backoff)?;
    let left = courier.drain(RUN_DELIVERY).await?;
    if left > 0 {
        eprintln!(
            "warning: {who}{left} notification(s) not delivered yet (see `hunt status`); the \
             next hunt run or hunt schedule of this tenant tries again"
        );
    }
    Ok(())
}

/// The state file at `path`, opened for writing.
pub(super) fn open_state(path: &Path) -> anyhow::Result<Arc<StateStore>> {
    use anyhow::Context as _;
    Ok(Arc::new(StateStore::open(path).with_context(|| format!("cannot open {}", path.display()))?))
}
