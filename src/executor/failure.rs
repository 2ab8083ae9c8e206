//! Why a window did not land, typed until it is printed: each failure is one variant, so the
//! summary counts failures by kind and tests match variants, not words.

use crate::graph::error::ServiceError;
use crate::output::publish::PublishError;
use crate::quota::Waited;
use crate::timespan::Window;

/// Why a window (or a part of one) did not land.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    /// No token could be had.
    #[error("cannot sign in: {0}")]
    SignIn(String),
    /// Quota did not come before the job's deadline.
    #[error("gave up waiting for quota at the {deadline_secs}s deadline: {waited}")]
    QuotaDeadline {
        /// The deadline, in seconds.
        deadline_secs: u64,
        /// What was still spent.
        waited: Waited,
    },
    /// The service kept answering 429 past the job's deadline.
    #[error(
        "still throttled after waiting {times} times; the service asks for {asked_secs:.0}s \
         more, past the {deadline_secs}s deadline: {error}"
    )]
    ThrottleDeadline {
        /// 429s waited out.
        times: u32,
        /// The last `Retry-After`, in seconds.
        asked_secs: f64,
        /// The deadline, in seconds.
        deadline_secs: u64,
        /// The last answer.
        error: String,
    },
    /// The service refused the query (a 4xx): trying again would not help.
    #[error("the service refused the query: {0}")]
    Refused(Box<ServiceError>),
    /// hunt would not send or follow the request (a redirect, a link off the Graph root).
    #[error("{0}")]
    NotSent(String),
    /// Transient failures (5xx, dropped connections) outlasted the retries.
    #[error("failed {attempts} times, giving up: {error}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        error: String,
    },
    /// The answer was too much for one call and the window cannot be split further.
    #[error("{why}{hint}")]
    CannotSplit {
        /// Why it needed splitting.
        why: String,
        /// Why it cannot be (the minimum window, `split: never`).
        hint: String,
    },
    /// The answer could not be decoded (it will not decode better the next time).
    #[error("the response could not be decoded: {message} [request-id {request_id}]")]
    Decode {
        /// What was wrong.
        message: String,
        /// The answer's request-id.
        request_id: String,
    },
    /// The files could not be written, or put in place (`what`: written, uploaded).
    #[error("the results could not be {what}: {message}{}", at_request(request_id.as_deref()))]
    Write {
        /// `written` or `uploaded`.
        what: &'static str,
        /// What went wrong.
        message: String,
        /// The answer's request-id, once known.
        request_id: Option<String>,
    },
    /// The window's parts landed but could not be published (a Delta commit).
    #[error(transparent)]
    Publish(std::sync::Arc<PublishError>),
    /// hunt's KQL parser rejects the query: it was not sent (`--no-validate` sends it).
    #[error(
        "not sent: the query does not parse ({at}: {message}); `hunt validate` shows it, \
         `--no-validate` sends it anyway"
    )]
    Invalid {
        /// `file:line:col` of the error.
        at: String,
        /// What is wrong.
        message: String,
    },
    /// hunt was stopping before the call went out.
    #[error("not run: hunt is stopping")]
    Stopped,
    /// A bug: reported, never passed off as success.
    #[error("internal error, please report it: {0}")]
    Internal(String),
}

/// ` [request-id R]`, or nothing.
fn at_request(id: Option<&str>) -> String {
    id.map(|id| format!(" [request-id {id}]")).unwrap_or_default()
}

impl Failure {
    /// The same failure, naming the answer it came from.
    pub fn with_request_id(self, id: &str) -> Failure {
        match self {
            Failure::Decode { message, .. } => Failure::Decode { message, request_id: id.into() },
            Failure::Write { what, message, .. } => {
                Failure::Write { what, message, request_id: Some(id.into()) }
            }
            other => other,
        }
    }

    /// A short stable name of the kind, for counts and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::SignIn(_) => "sign_in",
            Failure::QuotaDeadline { .. } => "quota_deadline",
            Failure::ThrottleDeadline { .. } => "throttle_deadline",
            Failure::Refused(_) => "refused",
            Failure::NotSent(_) => "not_sent",
            Failure::GaveUp { .. } => "gave_up",
            Failure::CannotSplit { .. } => "cannot_split",
            Failure::Decode { .. } => "decode",
            Failure::Write { .. } => "write",
            Failure::Publish(_) => "publish",
            Failure::Invalid { .. } => "invalid",
            Failure::Stopped => "stopped",
            Failure::Internal(_) => "internal",
        }
    }
}

/// A failure and the window it befell.
#[derive(Debug, Clone, thiserror::Error)]
#[error("window {window}: {failure}")]
pub struct WindowFailure {
    /// The window (or part).
    pub window: Window,
    /// What happened.
    pub failure: Failure,
}
