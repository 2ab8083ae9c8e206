//! hunt: runs Microsoft Defender XDR advanced-hunting queries through Microsoft Graph
//! `POST /security/runHuntingQuery` and lands the results as typed Parquet.
//!
//! Data flows one way:
//!
//! ```text
//! library (query files) ──Query──► app (plan a Window per query) ──Job──► executor
//!     executor ──► graph (auth, client: KQL + window in, response bytes out)
//!              ──► decode (bytes → Arrow RecordBatches, typed by the response schema)
//!              ──► output::sink (batches → Parquet files under temporary names, partitioned by
//!                                event day)
//!              ──► output::publish (a window's files put in place atomically: renamed in a
//!                                   folder or uploaded to an object store, then the earlier
//!                                   runs' files removed, or committed to a Delta table)
//! ```
//!
//! A landed window of a query that names a `[[notify]]` receiver queues a message in the
//! tenant's schedule state (in the transaction that moves its watermark); `notify`'s courier
//! sends it beside the run.
//!
//! `emulator` is a local stand-in for the token endpoint and the Graph security API, used by
//! `hunt emulator`, `hunt run --emulator` and the test suite.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod cron;
pub mod decode;
pub mod delta;
pub mod den;
pub mod emulator;
pub mod executor;
pub mod fsutil;
pub mod graph;
pub mod kql;
pub mod lake_types;
pub mod library;
pub mod lint;
pub mod metrics;
pub mod notify;
pub mod output;
pub mod print;
pub mod query;
pub mod quota;
pub mod report;
pub mod schedule;
pub mod tenant;
pub mod timespan;
