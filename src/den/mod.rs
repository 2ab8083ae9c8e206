//! Defender Experts Notifications: finding them through Graph (`sync`) and keeping their
//! recommended hunting queries as query files (`store`).

pub mod store;
pub mod sync;
