//! A cap on the hunting answers one process holds at once, shared by every tenant's client.
//!
//! Each answer is held whole in memory while it is decoded and written (a full result is over
//! 100 MB of JSON), so with hundreds of tenants side by side memory must be bounded by the
//! process, not by each tenant. A [`Pooled`] client takes a slot once its call has been admitted
//! by the tenant's quota (a tenant waiting for quota holds none), and the slot travels with the
//! response body: it is given back when the last reference to the body is dropped, that is once
//! the answer has landed.

use super::{GraphError, HuntApi, HuntResponse};
use crate::timespan::Window;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The slots answers share.
pub type Slots = Arc<Semaphore>;

/// `slots` answers at once (at least one).
pub fn slots(n: usize) -> Slots {
    Arc::new(Semaphore::new(n.max(1)))
}

/// A hunting API whose answers take a slot from a shared pool.
pub struct Pooled<A> {
    inner: A,
    slots: Slots,
}

impl<A: HuntApi> Pooled<A> {
    /// `inner`, drawing on `slots`.
    pub fn new(inner: A, slots: Slots) -> Pooled<A> {
        Pooled { inner, slots }
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

impl<A: HuntApi> HuntApi for Pooled<A> {
    fn ready(&self) -> BoxFuture<'_, Result<(), GraphError>> {
        self.inner.ready()
    }

    fn run_hunting_query<'a>(
        &'a self,
        kql: &'a str,
        window: &'a Window,
    ) -> BoxFuture<'a, Result<HuntResponse, GraphError>> {
        Box::pin(async move {
            // The pool is never closed; were it, the call would go ahead without a slot.
            let slot = Arc::clone(&self.slots).acquire_owned().await.ok();
            let mut resp = self.inner.run_hunting_query(kql, window).await?;
            if let Some(slot) = slot {
                resp.body = Bytes::from_owner(Held { body: resp.body, _slot: slot });
            }
            Ok(resp)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Answers every call after `delay` with a small body.
    struct Fake {
        delay: Duration,
    }

    impl HuntApi for Fake {
        fn run_hunting_query<'a>(
            &'a self,
            _kql: &'a str,
            _window: &'a Window,
        ) -> BoxFuture<'a, Result<HuntResponse, GraphError>> {
            Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                Ok(HuntResponse {
                    body: Bytes::from_static(b"{\"results\":[]}"),
                    request_id: None,
                    client_request_id: "c".into(),
                    elapsed: self.delay,
                })
            })
        }
    }

    #[tokio::test]
    async fn a_slot_is_held_until_the_body_is_dropped() {
        let pool = slots(2);
        let a = Pooled::new(Fake { delay: Duration::ZERO }, Arc::clone(&pool));
        let b = Pooled::new(Fake { delay: Duration::ZERO }, Arc::clone(&pool));
        let w = Window::parse("P1D", chrono::Utc::now()).unwrap();
        let first = a.run_hunting_query("x", &w).await.unwrap();
        let copy = first.body.slice(2..4);
        let second = b.run_hunting_query("x", &w).await.unwrap();
        assert_eq!(pool.available_permits(), 0);
        assert_eq!(second.body.as_ref(), b"{\"results\":[]}");
        // A third call across tenants waits until a body is gone, however it was sliced.
        let third = tokio::time::timeout(Duration::from_millis(50), a.run_hunting_query("x", &w));
        assert!(third.await.is_err(), "no slot was free");
        drop(first);
        assert_eq!(pool.available_permits(), 0, "a slice still holds the body");
        drop(copy);
        assert_eq!(pool.available_permits(), 1);
        drop(second);
        assert!(a.run_hunting_query("x", &w).await.is_ok());
        assert_eq!(pool.available_permits(), 2);
    }
}
