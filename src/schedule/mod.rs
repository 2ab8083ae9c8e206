//! `hunt schedule`: runs each query window after window on its cron schedule.
//!
//! * `lock`: a query's claim on its next window, so that incremental runs never overlap;
//! * `planner`: what is due for a query, pure: windows that tile time from its watermark;
//! * `book`: anchoring a first window and recording an outcome in the state (daemon and
//!   `hunt run --incremental` alike);
//! * `daemon`: the loop that runs what is due and records it;
//! * `heartbeat`: the daemon's own record in the state (its process, its queries), so that
//!   `hunt status` can tell whether one runs and what it schedules;
//! * `retry`: when a query whose window failed runs again, pure;
//! * `state`: what has been covered, run and skipped, in a SQLite file that survives restarts and
//!   that `hunt status` and `hunt plan` read while the daemon writes, with the outbox of
//!   notifications (`state::outbox`);
//! * `status`: `hunt status`'s table and JSON.

pub mod book;
pub mod daemon;
pub mod heartbeat;
pub mod lock;
pub mod planner;
pub mod retry;
pub mod state;
pub mod status;
