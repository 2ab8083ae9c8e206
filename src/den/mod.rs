//! Defender Experts Notifications: finding them through Graph (`sync`), keeping their
//! recommended hunting queries as query files (`store`), and following their lifecycle
//! (`lifecycle`, `notice`, `watch`): each DEN's state in the tenant's state file, and a message
//! to the `[[notify]]` targets that ask for it at each step.

pub mod hunt;
pub mod lifecycle;
pub mod notice;
pub mod store;
pub mod sync;
pub mod watch;
