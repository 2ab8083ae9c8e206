//! A hunting answer's body: whole (small answers, error envelopes, test fakes) or still
//! streaming from the connection, so that a large answer is decoded while it arrives and is
//! never whole in memory.
//!
//! A streaming body enforces the size cap as it goes: past the cap it stops with
//! [`GraphError::TooLarge`] (the executor then splits the window), and a connection cut midway
//! stops it with [`GraphError::Transport`], as a whole read would have.

use super::GraphError;
use super::describe_reqwest_error;
use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

/// Bytes of a successful answer read before it is handed on: a body that ends within them is
/// kept whole (and checked for a Graph error envelope), a longer one streams.
pub const WHOLE_BELOW: usize = 64 << 10;

/// An answer's body.
#[derive(Debug)]
pub enum Body {
    /// All of it.
    Whole(Bytes),
    /// The rest is still on the wire.
    Stream(Box<BodyStream>),
}

impl Body {
    /// The body, when it is whole.
    pub fn as_whole(&self) -> Option<&[u8]> {
        match self {
            Body::Whole(b) => Some(b),
            Body::Stream(_) => None,
        }
    }

    /// The whole body, reading the rest of a streaming one.
    pub async fn into_bytes(self) -> Result<Bytes, GraphError> {
        match self {
            Body::Whole(b) => Ok(b),
            Body::Stream(mut s) => {
                let mut all = bytes::BytesMut::new();
                while let Some(chunk) = s.next_chunk().await? {
                    all.extend_from_slice(&chunk);
                }
                Ok(all.freeze())
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body::Whole(b)
    }
}

/// A body being read from its connection.
pub struct BodyStream {
    /// What was read before the body was handed on.
    first: Option<Bytes>,
    resp: Option<reqwest::Response>,
    read: usize,
    limit: usize,
    url: String,
    client_request_id: String,
    /// The answer slot, held until the body has been read and dropped.
    _slot: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyStream").field("read", &self.read).field("limit", &self.limit).finish()
    }
}

impl BodyStream {
    pub(super) fn new(
        first: Bytes,
        resp: reqwest::Response,
        limit: usize,
        url: &str,
        client_request_id: &str,
        slot: Option<OwnedSemaphorePermit>,
    ) -> BodyStream {
        BodyStream {
            read: first.len(),
            first: Some(first),
            resp: Some(resp),
            limit,
            url: url.to_owned(),
            client_request_id: client_request_id.to_owned(),
            _slot: slot,
        }
    }

    /// The next piece of the body; `None` at its end.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, GraphError> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        let Some(resp) = &mut self.resp else { return Ok(None) };
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                self.read += chunk.len();
                if self.read > self.limit {
                    // Abandoned: the connection goes with the response.
                    self.resp = None;
                    return Err(GraphError::TooLarge {
                        limit: self.limit,
                        client_request_id: self.client_request_id.clone(),
                    });
                }
                Ok(Some(chunk))
            }
            Ok(None) => {
                self.resp = None;
                Ok(None)
            }
            Err(e) => {
                self.resp = None;
                Err(GraphError::Transport {
                    url: self.url.clone(),
                    message: describe_reqwest_error(&e),
                    timed_out: e.is_timeout() && !e.is_connect(),
                    client_request_id: self.client_request_id.clone(),
                })
            }
        }
    }
}
