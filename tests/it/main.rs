//! Integration tests: drive the `hunt` binary over real HTTP against the built-in emulator.

// The `hunt` processes these tests drive run on the real clock, so the tests read it too.
#![allow(clippy::disallowed_methods)]

mod auth;
mod chaos;
mod delta;
mod deploy;
mod engines;
mod hostile;
mod incremental;
mod kql_oracle;
mod lake;
mod ledger;
mod library;
mod metrics;
mod print;
mod quota_sim;
mod readme;
mod resilience;
mod run;
mod schedule;
mod schedule_sim;
mod security;
mod sim;
mod streaming;
mod tenants;
mod tools;
mod util;
