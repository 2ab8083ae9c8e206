//! What can go wrong with a Delta table: every error names the table, and where it applies the
//! log file (and line) or the version involved, so a broken or foreign table is reported
//! precisely instead of being written over.

/// Why a Delta table could not be read or committed to.
#[derive(Debug, thiserror::Error)]
pub enum DeltaError {
    /// The object store failed (listing, reading or writing).
    #[error("delta table {table}: {what}: {source}")]
    Store {
        /// The table's URL.
        table: String,
        /// What was being done, with the object involved.
        what: String,
        /// The store's error.
        source: object_store::Error,
    },
    /// A log file that does not hold valid Delta actions.
    #[error("delta table {table}: {file}:{line}: {message}")]
    Log {
        /// The table's URL.
        table: String,
        /// The log file, relative to the table root (`_delta_log/…`).
        file: String,
        /// 1-based line of the action (0: the file as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The log as a whole is not usable: versions missing, no commit to start from.
    #[error("delta table {table}: {message}")]
    Corrupt {
        /// The table's URL.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// The table needs a protocol or feature hunt's writer does not implement.
    #[error("delta table {table} (version {version}): {message}")]
    Unsupported {
        /// The table's URL.
        table: String,
        /// The table version read.
        version: u64,
        /// What is not supported.
        message: String,
    },
    /// The window's columns do not fit the table (collision, type change, unsupported type).
    #[error("delta table {table} (version {version}): {message}")]
    Schema {
        /// The table's URL.
        table: String,
        /// The table version the window was checked against (0 for a new table).
        version: u64,
        /// What does not fit.
        message: String,
    },
    /// The table is partitioned differently from what this window needs.
    #[error(
        "delta table {table} (version {version}): the table is partitioned by {table_columns:?} \
         but this window needs {wanted:?} (a table holds either tenant-partitioned or \
         untenanted output, fixed when it is created)"
    )]
    Partitioning {
        /// The table's URL.
        table: String,
        /// The table version read.
        version: u64,
        /// The table's partition columns.
        table_columns: Vec<String>,
        /// The partition columns this window needs.
        wanted: Vec<String>,
    },
    /// A new data file that cannot be committed as given.
    #[error("delta table {table}: data file {path:?}: {message}")]
    File {
        /// The table's URL.
        table: String,
        /// The file's path relative to the table root.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Every attempt to commit met another writer's commit first.
    #[error(
        "delta table {table}: gave up after {attempts} attempts, each beaten by another writer \
         (last tried version {version})"
    )]
    Contention {
        /// The table's URL.
        table: String,
        /// Attempts made.
        attempts: u32,
        /// The version last tried.
        version: u64,
    },
    /// A checkpoint could not be read or written.
    #[error("delta table {table}: checkpoint {file}: {message}")]
    Checkpoint {
        /// The table's URL.
        table: String,
        /// The checkpoint file, relative to the table root.
        file: String,
        /// What is wrong.
        message: String,
    },
}
