//! The emulator's synthetic data: several real Defender tables (real column names and types),
//! whose rows are a pure function of time, so any window returns exactly the rows inside it.

/// A cell value with its type, serialised by the server the way the service does.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// JSON null.
    Null,
    /// `String`, `Guid`, `TimeSpan` (`d.hh:mm:ss.fffffff`), `Decimal` as text.
    Str(String),
    /// `DateTime` in 100 ns ticks since the Unix epoch.
    Time(i64),
    /// `Int64` / `Int32`.
    Int(i64),
    /// `Double`.
    Real(f64),
    /// `Boolean`.
    Bool(bool),
    /// `Dynamic`: nested JSON.
    Dyn(serde_json::Value),
}

/// A table's definition.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// Table name, e.g. `DeviceProcessEvents`.
    pub name: &'static str,
    /// `(column, service type)`, e.g. `("ProcessId", "Int64")`.
    pub columns: Vec<(&'static str, &'static str)>,
}

/// The tables the emulator serves.
pub fn tables() -> &'static [TableDef] {
    todo!("helper A")
}

/// The rows of `table` whose `Timestamp` lies in `[start, end)` (ticks), in time order, at
/// `events_per_hour`. `None` for an unknown table.
pub fn rows(
    table: &str,
    start: i64,
    end: i64,
    events_per_hour: u32,
) -> Option<Box<dyn Iterator<Item = Vec<Cell>> + Send>> {
    let _ = (table, start, end, events_per_hour);
    todo!("helper A")
}
