//! The Delta log's actions, as they appear in commit files (one JSON object per line, keyed by
//! the action's name), and the parsing of a commit file. Unknown actions and fields are ignored,
//! as the protocol requires; a line that is not a JSON object or an action with a wrong field
//! type is reported with its line number.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A string map whose values may be null (partition values, tags, configuration).
pub type NullableMap = BTreeMap<String, Option<String>>;

/// `protocol`: the versions a reader and a writer must implement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Protocol {
    /// Minimum reader version.
    pub min_reader_version: i32,
    /// Minimum writer version.
    pub min_writer_version: i32,
    /// Reader features (reader version 3 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_features: Option<Vec<String>>,
    /// Writer features (writer version 7 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer_features: Option<Vec<String>>,
}

/// `metaData.format`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Format {
    /// Always `parquet` for hunt.
    pub provider: String,
    /// Format options (none).
    #[serde(default)]
    pub options: NullableMap,
}

/// `metaData`: the table's identity, schema, partitioning and configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Unique table id (a UUID).
    pub id: String,
    /// Optional name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// File format.
    pub format: Format,
    /// The schema, as JSON text.
    pub schema_string: String,
    /// Partition columns, in order.
    pub partition_columns: Vec<String>,
    /// Creation time, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<i64>,
    /// Table properties.
    #[serde(default)]
    pub configuration: NullableMap,
}

/// `add`: a data file joins the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Add {
    /// Path relative to the table root, URI-encoded (see [`encode_path`]).
    pub path: String,
    /// Partition values as strings.
    pub partition_values: NullableMap,
    /// File size in bytes.
    pub size: i64,
    /// When the file was written, ms since the epoch.
    pub modification_time: i64,
    /// Whether the file changes the table's data.
    pub data_change: bool,
    /// Statistics, as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<String>,
    /// File tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<NullableMap>,
    /// A deletion vector (hunt never writes one; a table that has one is not hunt's to write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_vector: Option<Value>,
}

/// `remove`: a data file leaves the table (it stays in storage until `VACUUM`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Remove {
    /// Path as in the file's `add`.
    pub path: String,
    /// When it was removed, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<i64>,
    /// Whether the removal changes the table's data.
    pub data_change: bool,
    /// Whether `partitionValues`, `size` and `tags` are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_file_metadata: Option<bool>,
    /// Partition values of the removed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_values: Option<NullableMap>,
    /// Size of the removed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Tags of the removed file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<NullableMap>,
    /// The removed file's deletion vector, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_vector: Option<Value>,
}

/// `txn`: an application's progress, recorded atomically with its data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Txn {
    /// The application.
    pub app_id: String,
    /// Its version (for hunt: the furthest window end committed, ms since the epoch).
    pub version: i64,
    /// When it was recorded, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<i64>,
}

/// One line of a commit file: at most one known action, or something to ignore.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    add: Option<Add>,
    remove: Option<Remove>,
    meta_data: Option<Metadata>,
    protocol: Option<Protocol>,
    txn: Option<Txn>,
    commit_info: Option<Value>,
}

/// A parsed action.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `add`
    Add(Add),
    /// `remove`
    Remove(Remove),
    /// `metaData`
    Metadata(Metadata),
    /// `protocol`
    Protocol(Protocol),
    /// `txn`
    Txn(Txn),
    /// `commitInfo` (free-form)
    CommitInfo(Value),
}

impl Action {
    /// The action as one line of a commit file (no newline).
    pub fn to_line(&self) -> String {
        let (key, value) = match self {
            Action::Add(a) => ("add", serde_json::to_value(a)),
            Action::Remove(r) => ("remove", serde_json::to_value(r)),
            Action::Metadata(m) => ("metaData", serde_json::to_value(m)),
            Action::Protocol(p) => ("protocol", serde_json::to_value(p)),
            Action::Txn(t) => ("txn", serde_json::to_value(t)),
            Action::CommitInfo(v) => ("commitInfo", Ok(v.clone())),
        };
        // These types serialise to JSON objects without fail (string keys, no floats).
        let value = value.unwrap_or(Value::Null);
        serde_json::json!({ key: value }).to_string()
    }
}

/// Parses a commit file. Errors carry the 1-based line.
pub fn parse_commit(text: &[u8]) -> Result<Vec<Action>, (usize, String)> {
    let text = std::str::from_utf8(text).map_err(|e| (0, format!("not UTF-8: {e}")))?;
    let mut actions = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let parsed: Line = serde_json::from_str(line).map_err(|e| (i + 1, e.to_string()))?;
        let before = actions.len();
        actions.extend(parsed.add.map(Action::Add));
        actions.extend(parsed.remove.map(Action::Remove));
        actions.extend(parsed.meta_data.map(Action::Metadata));
        actions.extend(parsed.protocol.map(Action::Protocol));
        actions.extend(parsed.txn.map(Action::Txn));
        actions.extend(parsed.commit_info.map(Action::CommitInfo));
        if actions.len() > before + 1 {
            return Err((i + 1, "more than one action on one line".into()));
        }
    }
    Ok(actions)
}

/// Characters left as they are in a log path: RFC 2396 unreserved ones plus the separators of
/// Hive-style partition folders.
const PATH_KEEP: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/').remove(b'=');

/// A relative file path as the log stores it: URI-encoded (RFC 2396).
pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH_KEEP).to_string()
}

/// The file path a log path names (URI-decoded).
pub fn decode_path(path: &str) -> String {
    percent_decode_str(path).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_written_by_spark_parses() {
        let text = br#"{"commitInfo":{"timestamp":1515491537026,"operation":"WRITE","operationParameters":{"mode":"Append"}}}
{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}
{"metaData":{"id":"af23c9d7-fff1-4a5a-a2c8-55c59bd782aa","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":["date"],"configuration":{"appendOnly":"true"},"createdTime":1}}
{"add":{"path":"date=2017-12-10/part-000.c000.gz.parquet","partitionValues":{"date":"2017-12-10"},"size":841454,"modificationTime":1512909768000,"dataChange":true,"baseRowId":4071,"stats":"{\"numRecords\":1}"}}
{"remove":{"path":"part-00001.snappy.parquet","deletionTimestamp":1515488792485,"dataChange":true}}
{"txn":{"appId":"3ba13872","version":364475}}
{"domainMetadata":{"domain":"x","configuration":"{}","removed":false}}

"#;
        let actions = parse_commit(text).unwrap();
        assert_eq!(actions.len(), 6);
        match &actions[3] {
            Action::Add(a) => {
                assert_eq!(a.size, 841454);
                assert_eq!(a.partition_values["date"].as_deref(), Some("2017-12-10"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&actions[5], Action::Txn(t) if t.version == 364475));
        // Written back, an action reads the same.
        for a in &actions {
            assert_eq!(&parse_commit(a.to_line().as_bytes()).unwrap()[0], a);
        }
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let cases: &[(&[u8], usize)] = &[
            (b"{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{not json}\n", 2),
            (b"\n\n{\"add\":{\"path\":1}}", 3),
            (b"{\"txn\":{\"appId\":\"a\",\"version\":1},\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}", 1),
            (b"[1,2]", 1),
            (b"\xff\xfe", 0),
        ];
        for (text, line) in cases {
            let (l, msg) = parse_commit(text).unwrap_err();
            assert_eq!(l, *line, "{msg}");
        }
    }

    #[test]
    fn paths_are_uri_encoded_in_the_log() {
        let p = "tenant=a b/date=2026-11-21/20261121T100000Z_20261121T110000Z-ab12.parquet";
        let e = encode_path(p);
        assert_eq!(
            e,
            "tenant=a%20b/date=2026-11-21/20261121T100000Z_20261121T110000Z-ab12.parquet"
        );
        assert_eq!(decode_path(&e), p);
        assert_eq!(decode_path(&encode_path("é%#?")), "é%#?");
    }
}
