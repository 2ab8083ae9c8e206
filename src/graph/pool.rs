//! A cap on the hunting answers one process holds at once, shared by every tenant's client.
//!
//! Each answer being landed holds memory (a body segment, read-ahead chunks, a batch of column
//! buffers and a Parquet row group: a few MB, since answers are decoded as they stream), and
//! CPU, so with hundreds of tenants side by side the answers landing at once are bounded by the
//! process, not by each tenant. A client given the slots ([`super::GraphClient::with_slots`])
//! takes one once a successful answer's headers have arrived, before reading its body: calls
//! still waiting for quota or running on the service hold none, so slow queries on the service
//! side do not starve the others. The slot travels with the response body (whole, or still
//! streaming) and is given back when the body is dropped, that is once the answer has landed.

use bytes::Bytes;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots answers share.
pub type Slots = Arc<Semaphore>;

/// `slots` answers at once (at least one).
pub fn slots(n: usize) -> Slots {
    Arc::new(Semaphore::new(n.max(1)))
}

/// Waits for a slot. (The pool is never closed; were it, the answer would go ahead without.)
pub(super) async fn take(slots: &Slots) -> Option<OwnedSemaphorePermit> {
    Arc::clone(slots).acquire_owned().await.ok()
}

/// `body`, holding `slot` until the last reference to it (or to a slice of it) is dropped.
pub(super) fn hold(body: Bytes, slot: Option<OwnedSemaphorePermit>) -> Bytes {
    match slot {
        Some(slot) => Bytes::from_owner(Held { body, _slot: slot }),
        None => body,
    }
}

/// A response body and the slot it holds.
struct Held {
    body: Bytes,
    _slot: OwnedSemaphorePermit,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, TokioClock};
    use crate::emulator::{Emulator, EmulatorConfig};
    use crate::graph::{GraphClient, Settings};
    use crate::timespan::Window;
    use std::time::Duration;

    #[tokio::test]
    async fn a_slot_is_held_until_the_body_is_dropped() {
        let pool = slots(2);
        let a = hold(Bytes::from_static(b"{\"results\":[]}"), take(&pool).await);
        let copy = a.slice(2..4);
        let b = hold(Bytes::from_static(b"{}"), take(&pool).await);
        assert_eq!(pool.available_permits(), 0);
        assert_eq!(a.as_ref(), b"{\"results\":[]}");
        // A third answer waits until a body is gone, however it was sliced.
        let third = tokio::time::timeout(Duration::from_millis(50), take(&pool));
        assert!(third.await.is_err(), "no slot was free");
        drop(a);
        assert_eq!(pool.available_permits(), 0, "a slice still holds the body");
        drop(copy);
        assert_eq!(pool.available_permits(), 1);
        drop(b);
        assert_eq!(pool.available_permits(), 2);
    }

    /// Two clients sharing one slot, against an emulator that takes `delay` to answer.
    async fn two_clients(delay: Duration) -> (Emulator, GraphClient, GraphClient, Slots) {
        let config = EmulatorConfig { response_delay: delay, ..Default::default() };
        let emu = Emulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        let env = emu.env();
        let var = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone());
        let pool = slots(1);
        let client = || {
            let settings = Settings::from_env(var).unwrap();
            GraphClient::new(settings, Arc::new(TokioClock::new()))
                .unwrap()
                .with_slots(pool.clone())
        };
        let (a, b) = (client(), client());
        (emu, a, b, pool)
    }

    #[tokio::test]
    async fn a_call_on_the_service_holds_no_slot_and_an_answer_holds_one_until_dropped() {
        let delay = Duration::from_millis(800);
        let (emu, a, b, pool) = two_clients(delay).await;
        let w = Window::parse("PT1H", TokioClock::new().now()).unwrap();
        let first = a.run_hunting_query("AlertInfo | take 1", &w).await.unwrap();
        assert_eq!(pool.available_permits(), 0, "the answer holds the slot");
        // With the only slot held, a second call still goes out and runs on the service; its
        // answer waits for the slot.
        let second = tokio::spawn(async move {
            let w = Window::parse("PT1H", TokioClock::new().now()).unwrap();
            b.run_hunting_query("AlertInfo | take 1", &w).await.map(|r| (r, b))
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while emu.calls().len() < 2 {
            assert!(tokio::time::Instant::now() < deadline, "the second call was never sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Well after the service answered, the second answer still waits for the slot.
        tokio::time::sleep(delay * 4).await;
        assert!(!second.is_finished(), "an answer was read without a slot");
        drop(first);
        let (resp, _b) = second.await.unwrap().unwrap();
        assert_eq!(pool.available_permits(), 0);
        let body = resp.body.as_whole().expect("a small answer is read whole");
        assert!(body.starts_with(b"{"), "{:?}", String::from_utf8_lossy(body));
        // The time spent waiting for the slot is not counted as the service's.
        assert!(resp.elapsed < delay * 3, "elapsed {:?} includes the wait", resp.elapsed);
        drop(resp);
        assert_eq!(pool.available_permits(), 1);
    }
}
