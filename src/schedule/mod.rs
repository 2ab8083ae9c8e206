//! `hunt schedule`: runs each query window after window on its cron schedule.
//!
//! * `planner`: what is due for a query, pure: windows that tile time from its watermark;
//! * `daemon`: the loop that runs what is due and records it;
//! * `retry`: when a query whose window failed runs again, pure;
//! * `state`: what has been covered, run and skipped, in a SQLite file that survives restarts and
//!   that `hunt status` and `hunt plan` read while the daemon writes;
//! * `status`: `hunt status`'s table and JSON.

pub mod daemon;
pub mod planner;
pub mod retry;
pub mod state;
pub mod status;
