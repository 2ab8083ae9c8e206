//! Delta Lake output: hunt writes the Delta transaction log itself (reader version 1, writer
//! version 2), over any `object_store` store. This part holds what data files need: the Delta
//! types of hunt's columns (with microsecond timestamps) and per-file statistics.

pub mod schema;
mod stats;

pub use schema::{DeltaSchema, DeltaType, SchemaError, data_schema, to_delta_batch};
pub use stats::StatsCollector;
