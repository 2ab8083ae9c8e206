//! Defender Experts Notifications (DEN): the recommended hunting queries they carry, saved as
//! `.kql` files.

pub mod store;
