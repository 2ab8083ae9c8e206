//! A table's state at one version, built by replaying the log's actions in order (the
//! protocol's action reconciliation): the latest `protocol` and `metaData`, the live files, the
//! tombstones (`remove`s, kept for checkpoints), and the latest `txn` per application.

use super::action::{Action, Add, Metadata, Protocol, Remove, Txn, decode_path};
use super::schema::DeltaSchema;
use serde_json::Value;
use std::collections::HashMap;

/// The table at one version.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The version this state is at.
    pub version: u64,
    /// The protocol in force.
    pub protocol: Protocol,
    /// The metadata in force.
    pub metadata: Metadata,
    /// The parsed schema of `metadata`.
    pub schema: DeltaSchema,
    /// Live files by decoded path.
    pub files: HashMap<String, Add>,
    /// Removed files by decoded path (until a checkpoint drops expired ones).
    pub tombstones: HashMap<String, Remove>,
    /// Latest transaction identifier per application.
    pub txns: HashMap<String, Txn>,
}

/// State gathered while replaying, before `protocol` and `metaData` are known.
#[derive(Debug, Default, Clone)]
pub struct Replay {
    /// The last version applied.
    pub version: Option<u64>,
    protocol: Option<Protocol>,
    metadata: Option<Metadata>,
    files: HashMap<String, Add>,
    tombstones: HashMap<String, Remove>,
    txns: HashMap<String, Txn>,
}

impl Replay {
    /// Continues a replay from a snapshot.
    pub fn from_snapshot(s: Snapshot) -> Replay {
        Replay {
            version: Some(s.version),
            protocol: Some(s.protocol),
            metadata: Some(s.metadata),
            files: s.files,
            tombstones: s.tombstones,
            txns: s.txns,
        }
    }

    /// Applies one version's actions; returns the `commitInfo.txnId` hunt wrote, if any.
    pub fn apply(&mut self, version: u64, actions: Vec<Action>) -> Option<String> {
        let mut txn_id = None;
        for action in actions {
            match action {
                Action::Add(a) => {
                    let path = decode_path(&a.path);
                    self.tombstones.remove(&path);
                    self.files.insert(path, a);
                }
                Action::Remove(r) => {
                    let path = decode_path(&r.path);
                    self.files.remove(&path);
                    self.tombstones.insert(path, r);
                }
                Action::Metadata(m) => self.metadata = Some(m),
                Action::Protocol(p) => self.protocol = Some(p),
                Action::Txn(t) => {
                    self.txns.insert(t.app_id.clone(), t);
                }
                Action::CommitInfo(v) => {
                    txn_id = v.get("txnId").and_then(Value::as_str).map(str::to_owned);
                }
            }
        }
        self.version = Some(version);
        txn_id
    }

    /// The snapshot, once a version, a protocol and a metadata have been seen.
    pub fn finish(self) -> Result<Option<Snapshot>, String> {
        let Some(version) = self.version else { return Ok(None) };
        let protocol =
            self.protocol.ok_or_else(|| format!("no protocol action up to version {version}"))?;
        let metadata =
            self.metadata.ok_or_else(|| format!("no metaData action up to version {version}"))?;
        let schema = DeltaSchema::parse(&metadata.schema_string)
            .map_err(|e| format!("version {version}: {e}"))?;
        Ok(Some(Snapshot {
            version,
            protocol,
            metadata,
            schema,
            files: self.files,
            tombstones: self.tombstones,
            txns: self.txns,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delta::action::parse_commit;

    #[test]
    fn the_newest_action_wins() {
        let v0 = br#"{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}
{"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[]}}
{"add":{"path":"a%20b.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}
{"add":{"path":"c.parquet","partitionValues":{},"size":1,"modificationTime":1,"dataChange":true}}
{"txn":{"appId":"hunt/q","version":10}}"#;
        let v1 = br#"{"remove":{"path":"a%20b.parquet","dataChange":true}}
{"txn":{"appId":"hunt/q","version":20}}
{"commitInfo":{"txnId":"t-1"}}"#;
        let mut r = Replay::default();
        assert_eq!(r.apply(0, parse_commit(v0).unwrap()), None);
        assert_eq!(r.apply(1, parse_commit(v1).unwrap()).as_deref(), Some("t-1"));
        let s = r.finish().unwrap().unwrap();
        assert_eq!(s.version, 1);
        assert_eq!(s.files.keys().collect::<Vec<_>>(), ["c.parquet"]);
        assert!(s.tombstones.contains_key("a b.parquet"));
        assert_eq!(s.txns["hunt/q"].version, 20);
        // A re-added file leaves the tombstones.
        let mut r = Replay::from_snapshot(s);
        r.apply(2, parse_commit(&v0[..]).unwrap());
        let s = r.finish().unwrap().unwrap();
        assert!(s.tombstones.is_empty());
        assert_eq!(s.files.len(), 2);
    }

    #[test]
    fn a_log_without_protocol_or_metadata_is_refused() {
        let mut r = Replay::default();
        r.apply(0, parse_commit(br#"{"txn":{"appId":"a","version":1}}"#).unwrap());
        assert!(r.clone().finish().unwrap_err().contains("no protocol"));
        assert!(Replay::default().finish().unwrap().is_none());
    }
}
