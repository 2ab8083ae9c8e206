//! Integration tests: drive the `hunt` binary over real HTTP against the built-in emulator.

// The `hunt` processes these tests drive run on the real clock, so the tests read it too.
#![allow(clippy::disallowed_methods)]

mod auth;
mod chaos;
mod delta;
mod den_events;
mod deploy;
mod engines;
mod hostile;
mod identity;
mod incremental;
mod kql_oracle;
// The emulator over the corpus of real queries (kept apart from the list's neighbours).
mod emulator_corpus;
mod lake;
mod ledger;
mod library;
mod metrics;
mod notify;
mod print;
mod quota_sim;
mod readme;
mod resilience;
mod run;
mod schedule;
mod schedule_sim;
mod security;
mod sim;
mod storage_auth;
mod streaming;
mod tenants;
mod tools;
mod util;
