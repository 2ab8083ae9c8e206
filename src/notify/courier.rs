//! The courier: sends the outbox's due notifications, one POST each, and records how each went
//! (delivered, tried again later by the [`policy`](super::policy), or given up). It runs beside
//! the schedule's daemon, woken when a window queues messages, so a receiver that is slow or
//! down never holds up landing or the watermark; `hunt run` gives it a short while at the end.

use super::policy::{Attempt, Backoff, Decision};
use super::{Notifier, Notifiers};
use crate::clock::Clock;
use crate::schedule::state::outbox::{Note, NoteStatus};
use crate::schedule::state::{StateError, StateStore};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Days a delivered or given-up notification is kept in the outbox (a window re-run within
/// them is not told twice; `hunt status` shows the given-up ones meanwhile).
const KEEP_DAYS: i64 = 30;

/// Longest one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(30);

/// Told of each attempt: the notifier's name and `delivered`, `retried` or `failed`.
pub type OnAttempt = Arc<dyn Fn(&str, &'static str) + Send + Sync>;

/// Sends one tenant's notifications.
pub struct Courier {
    state: Arc<StateStore>,
    notifiers: Arc<Notifiers>,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    wake: Arc<Notify>,
    on_attempt: Option<OnAttempt>,
}

impl Courier {
    /// A courier sending the notes of `state` to `notifiers`.
    pub fn new(
        state: Arc<StateStore>,
        notifiers: Arc<Notifiers>,
        clock: Arc<dyn Clock>,
        backoff: Backoff,
    ) -> Result<Courier, crate::graph::ConfigError> {
        // hunt's one client setup: rustls, no redirects followed (a redirect would carry the
        // message, and the URL's key in a Referer-less re-send, wherever the peer points).
        let http = crate::graph::http_client(POST_TIMEOUT)?;
        let wake = Arc::new(Notify::new());
        Ok(Courier { state, notifiers, http, clock, backoff, wake, on_attempt: None })
    }

    /// Calls `f` after each attempt.
    pub fn on_attempt(mut self, f: OnAttempt) -> Courier {
        self.on_attempt = Some(f);
        self
    }

    /// Wakes the courier (new notes were queued).
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Sends every note due now; returns when the next pending one this process can send is
    /// due (`None`: none is pending).
    pub async fn pass(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let now = self.clock.now();
        let pending = self.state.notes(&[NoteStatus::Pending])?;
        let mut next: Option<DateTime<Utc>> = None;
        for note in pending {
            let Some(notifier) = self.notifiers.get(&note.notify) else {
                if !self.notifiers.configured(&note.notify) {
                    let why = format!(
                        "no [[notify]] table named {:?} in hunt.toml any more",
                        note.notify
                    );
                    tracing::error!(notify = %note.notify, query = %note.query_id, window = %note.window, "notification given up: {why}");
                    self.state.note_failed(note.id, now, &why)?;
                    self.count(&note.notify, "failed");
                }
                // Configured but not used by this process (its URL not read): another run sends it.
                continue;
            };
            if note.next > now {
                next = Some(next.map_or(note.next, |n| n.min(note.next)));
                continue;
            }
            let attempt = self.send(notifier, &note).await;
            let sent_at = self.clock.now();
            let failures = note.attempts.saturating_add(1);
            match self.backoff.decide(&attempt, failures, note.created, sent_at) {
                Decision::Done => {
                    tracing::info!(notify = %note.notify, query = %note.query_id, window = %note.window, "notification delivered");
                    self.state.note_delivered(note.id, sent_at)?;
                    self.count(&note.notify, "delivered");
                }
                Decision::RetryAt(at) => {
                    let error = error_of(&attempt);
                    tracing::warn!(
                        notify = %note.notify, query = %note.query_id, window = %note.window,
                        attempts = failures, retry_at = %crate::timespan::format_datetime(at),
                        "notification not delivered: {error}; tried again later"
                    );
                    self.state.note_retry(note.id, at, &error)?;
                    self.count(&note.notify, "retried");
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                Decision::GiveUp => {
                    let error = error_of(&attempt);
                    tracing::error!(
                        notify = %note.notify, query = %note.query_id, window = %note.window,
                        attempts = failures, "notification given up: {error}"
                    );
                    self.state.note_failed(note.id, sent_at, &error)?;
                    self.count(&note.notify, "failed");
                }
            }
        }
        Ok(next)
    }

    fn count(&self, notify: &str, status: &'static str) {
        if let Some(f) = &self.on_attempt {
            f(notify, status);
        }
    }

    /// Sends notes as they come due until `stopped` turns true.
    pub async fn run(&self, mut stopped: watch::Receiver<bool>) {
        let before = self.clock.now() - chrono::Duration::days(KEEP_DAYS);
        match self.state.prune_notes(before) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(removed = n, "notifications older than {KEEP_DAYS} days removed")
            }
            Err(e) => tracing::warn!("cannot remove old notifications: {e}"),
        }
        loop {
            if *stopped.borrow() {
                return;
            }
            let wait = match self.pass().await {
                Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO),
                Ok(None) => Duration::from_secs(3600),
                Err(e) => {
                    tracing::error!("notifications: {e}");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    }

    /// Sends what is due, waiting for retries, for at most `within`; returns the notes this
    /// process could send that are still pending.
    pub async fn drain(&self, within: Duration) -> Result<usize, StateError> {
        let deadline = self.clock.now()
            + chrono::Duration::from_std(within).unwrap_or(chrono::Duration::zero());
        loop {
            match self.pass().await? {
                Some(at) if at <= deadline => {
                    let wait = (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
                    tokio::time::sleep(wait).await;
                }
                _ => break,
            }
        }
        let pending = self.state.notes(&[NoteStatus::Pending])?;
        Ok(pending.iter().filter(|n| self.notifiers.get(&n.notify).is_some()).count())
    }

    /// One POST of `note` to `notifier`.
    async fn send(&self, notifier: &Notifier, note: &Note) -> Attempt {
        let masks = notifier.url.masks();
        let body = note.message.body(notifier.config.format);
        let id = note.message.notification_id(&note.window.to_string());
        let sent = self
            .http
            .post(notifier.url.url().clone())
            .header("x-hunt-notification-id", masks.clean(&id))
            .json(&body)
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                let e = e.without_url();
                let error = masks.clean(&crate::graph::describe_reqwest_error(&e));
                return if crate::graph::is_certificate_error(&e) {
                    Attempt::Refused { error }
                } else {
                    Attempt::Retryable { retry_after: None, throttled: false, error }
                };
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::graph::error::parse_retry_after(v, self.clock.now()));
        if resp.status().is_success() {
            return Attempt::Delivered;
        }
        if resp.status().is_redirection() {
            return Attempt::Refused {
                error: format!(
                    "the receiver answered HTTP {status}, a redirect, which hunt does not follow \
                     (check the webhook URL)"
                ),
            };
        }
        let text = resp.text().await.unwrap_or_default();
        let text = masks.clean(&text);
        let said =
            if text.trim().is_empty() { String::new() } else { format!(": {}", text.trim()) };
        let error = format!("the receiver answered HTTP {status}{said}");
        match status {
            429 => Attempt::Retryable { retry_after, throttled: true, error },
            408 | 500..=599 => Attempt::Retryable { retry_after, throttled: false, error },
            _ => Attempt::Refused { error },
        }
    }
}

fn error_of(attempt: &Attempt) -> String {
    match attempt {
        Attempt::Delivered => String::new(),
        Attempt::Retryable { error, .. } | Attempt::Refused { error } => error.clone(),
    }
}
