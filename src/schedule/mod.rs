//! Scheduling: the pure planner that tiles each query's windows, the daemon that runs them, and
//! the state store that remembers how far each query has covered.

pub mod planner;
