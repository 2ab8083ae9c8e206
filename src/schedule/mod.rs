//! `hunt schedule`: runs each query window after window on its cron schedule.
//!
//! * `state`: what has been covered, run and skipped, in a SQLite file that survives restarts and
//!   that `hunt status` and `hunt plan` read while the daemon writes;
//! * `status`: `hunt status`'s table and JSON.

pub mod state;
pub mod status;
