//! Integration tests: drive the `hunt` binary over real HTTP against the built-in emulator.

mod auth;
mod chaos;
mod delta;
mod engines;
mod hostile;
mod incremental;
mod lake;
mod ledger;
mod library;
mod quota_sim;
mod readme;
mod resilience;
mod run;
mod schedule;
mod schedule_sim;
mod security;
mod sim;
mod tenants;
mod tools;
mod util;
