//! The mapping from the service's column types (.NET type names) to Arrow types, in one place.

use arrow_schema::DataType;

/// The service types hunt distinguishes; everything else is `Json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    /// `String`, `Guid`, `TimeSpan`, `Decimal`: text as sent.
    Text,
    /// `DateTime`: timestamp, nanoseconds, UTC.
    DateTime,
    /// `Int64` (and smaller unsigned/signed kinds that fit).
    Int64,
    /// `Int32`.
    Int32,
    /// `Double`, `Single`.
    Double,
    /// `Boolean`, `SByte` (0/1).
    Boolean,
    /// `Dynamic`, `Object` and anything unknown: the value as JSON text.
    Json,
}

impl ServiceType {
    /// Classifies a service type string (case-insensitive).
    pub fn from_service(t: &str) -> ServiceType {
        let _ = t;
        todo!("helper C")
    }
}

/// The Arrow type a service type string maps to.
pub fn arrow_type(service_type: &str) -> DataType {
    let _ = service_type;
    todo!("helper C")
}
