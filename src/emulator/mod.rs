//! A local stand-in for the Microsoft identity platform token endpoint and the Graph security
//! API, serving synthetic Defender data over real HTTP on loopback.

pub mod data;
pub mod kql;
