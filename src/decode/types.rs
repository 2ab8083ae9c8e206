//! The mapping from the service's column types (.NET type names) to Arrow types, in one place.

use arrow_schema::{DataType, TimeUnit};

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

/// Case-insensitive table of the type names hunt knows; the rest are [`ServiceType::Json`].
///
/// `UInt64` is deliberately absent: its values may not fit an `Int64`, and JSON text keeps them
/// exact.
const TABLE: &[(&str, ServiceType)] = &[
    ("String", ServiceType::Text),
    ("Guid", ServiceType::Text),
    ("TimeSpan", ServiceType::Text),
    ("Decimal", ServiceType::Text),
    ("DateTime", ServiceType::DateTime),
    ("Int64", ServiceType::Int64),
    ("UInt32", ServiceType::Int64),
    ("Int16", ServiceType::Int64),
    ("UInt16", ServiceType::Int64),
    ("Byte", ServiceType::Int64),
    ("Int32", ServiceType::Int32),
    ("Double", ServiceType::Double),
    ("Single", ServiceType::Double),
    ("Boolean", ServiceType::Boolean),
    ("SByte", ServiceType::Boolean),
];

/// Field metadata key holding the service's type string as sent.
pub const SERVICE_TYPE_KEY: &str = "hunt.service_type";
/// Field metadata key holding the service's column name, set only when hunt renamed a
/// duplicate column (`Name` → `Name_2`).
pub const SERVICE_NAME_KEY: &str = "hunt.service_name";
/// Arrow's extension-type key: hunt sets none (Dynamic columns are plain Utf8).
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";

impl ServiceType {
    /// Classifies a service type string (case-insensitive).
    pub fn from_service(t: &str) -> ServiceType {
        let t = t.trim();
        TABLE
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
            .map_or(ServiceType::Json, |&(_, st)| st)
    }

    /// The Arrow type values of this kind are stored as.
    pub fn data_type(self) -> DataType {
        match self {
            ServiceType::Text | ServiceType::Json => DataType::Utf8,
            ServiceType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            ServiceType::Int64 => DataType::Int64,
            ServiceType::Int32 => DataType::Int32,
            ServiceType::Double => DataType::Float64,
            ServiceType::Boolean => DataType::Boolean,
        }
    }
}

/// The Arrow type a service type string maps to.
pub fn arrow_type(service_type: &str) -> DataType {
    ServiceType::from_service(service_type).data_type()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_table() {
        let ts = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        let cases: &[(&str, ServiceType, DataType)] = &[
            ("String", ServiceType::Text, DataType::Utf8),
            ("string", ServiceType::Text, DataType::Utf8),
            ("Guid", ServiceType::Text, DataType::Utf8),
            ("TimeSpan", ServiceType::Text, DataType::Utf8),
            ("Decimal", ServiceType::Text, DataType::Utf8),
            ("DateTime", ServiceType::DateTime, ts.clone()),
            ("DATETIME", ServiceType::DateTime, ts),
            ("Int64", ServiceType::Int64, DataType::Int64),
            ("UInt32", ServiceType::Int64, DataType::Int64),
            ("Int16", ServiceType::Int64, DataType::Int64),
            ("UInt16", ServiceType::Int64, DataType::Int64),
            ("Byte", ServiceType::Int64, DataType::Int64),
            ("Int32", ServiceType::Int32, DataType::Int32),
            ("Double", ServiceType::Double, DataType::Float64),
            ("Single", ServiceType::Double, DataType::Float64),
            ("Boolean", ServiceType::Boolean, DataType::Boolean),
            ("boolean", ServiceType::Boolean, DataType::Boolean),
            ("SByte", ServiceType::Boolean, DataType::Boolean),
            ("Dynamic", ServiceType::Json, DataType::Utf8),
            ("Object", ServiceType::Json, DataType::Utf8),
            ("UInt64", ServiceType::Json, DataType::Utf8),
            ("SomethingNew", ServiceType::Json, DataType::Utf8),
            ("", ServiceType::Json, DataType::Utf8),
        ];
        for (name, st, dt) in cases {
            assert_eq!(ServiceType::from_service(name), *st, "{name}");
            assert_eq!(&arrow_type(name), dt, "{name}");
        }
    }
}
