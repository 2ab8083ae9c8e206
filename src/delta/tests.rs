//! Tests of the Delta table: log replay, commits, re-runs, conflicts between writers, schema
//! drift, checkpoints and broken logs, over `object_store`'s `InMemory` and `LocalFileSystem`.

use super::*;
use crate::timespan::parse_datetime;
use arrow_schema::{DataType, Field, TimeUnit};
use chrono::NaiveDate;
use object_store::memory::InMemory;
use object_store::{ObjectStoreExt as _, PutPayload};
use std::collections::BTreeSet;

fn mem() -> Arc<dyn ObjectStore> {
    Arc::new(InMemory::new())
}

fn root() -> Path {
    Path::from("lake/encoded-powershell")
}

/// The window `[h0:00, h1:00)` of 2026-11-21 (hours past 24 run into the next days).
fn win(h0: u32, h1: u32) -> Window {
    let t = |h: u32| {
        parse_datetime(&format!("2026-11-{:02}T{:02}:00:00Z", 21 + h / 24, h % 24)).unwrap()
    };
    Window { start: t(h0), end: t(h1) }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
}

fn schema(cols: &[(&str, DataType)]) -> Schema {
    Schema::new(cols.iter().map(|(n, t)| Field::new(*n, t.clone(), true)).collect::<Vec<_>>())
}

fn base_schema() -> Schema {
    schema(&[
        ("Timestamp", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))),
        ("DeviceName", DataType::Utf8),
        ("ProcessId", DataType::Int64),
    ])
}

fn query() -> QueryMeta {
    QueryMeta {
        query_id: "encoded-powershell".into(),
        query_sha256: "ab".repeat(32),
        complete: true,
        request_ids: vec!["req-1".into()],
    }
}

/// A new file for `part` on the first day (the log does not look at its bytes).
fn file(tenant: Option<&str>, part: Window) -> NewFile {
    NewFile {
        path: data_file_path(tenant, day(), &part),
        size: 1234,
        rows: 3,
        date: day(),
        window: part,
        complete: true,
        stats: None,
        modification_time: None,
    }
}

/// Live file paths.
async fn live(t: &DeltaTable) -> BTreeSet<String> {
    t.snapshot().await.map(|s| s.files.into_keys().collect()).unwrap_or_default()
}

async fn read(store: &Arc<dyn ObjectStore>, path: &str) -> String {
    let b = store.get(&Path::from(path)).await.unwrap().bytes().await.unwrap();
    String::from_utf8(b.to_vec()).unwrap()
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn the_first_commit_creates_the_table() {
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    assert!(t.snapshot().await.is_none());
    let f = file(Some("contoso"), win(10, 11));
    let c = t
        .commit_window(&base_schema(), Some("contoso"), &win(10, 11), &query(), vec![f.clone()])
        .await
        .unwrap();
    assert_eq!(
        c,
        Committed {
            version: 0,
            added: 1,
            removed: 0,
            schema_changed: true,
            attempts: 1,
            checkpointed: false
        }
    );

    let log =
        lines(&read(&store, "lake/encoded-powershell/_delta_log/00000000000000000000.json").await);
    let keys: Vec<&str> =
        log.iter().map(|l| l.as_object().unwrap().keys().next().unwrap().as_str()).collect();
    assert_eq!(keys, ["commitInfo", "protocol", "metaData", "txn", "add"]);
    assert_eq!(log[1]["protocol"], serde_json::json!({"minReaderVersion":1,"minWriterVersion":2}));
    let meta = &log[2]["metaData"];
    assert_eq!(meta["partitionColumns"], serde_json::json!(["tenant", "date"]));
    assert_eq!(meta["format"]["provider"], "parquet");
    let schema = DeltaSchema::parse(meta["schemaString"].as_str().unwrap()).unwrap();
    let cols: Vec<String> =
        schema.fields.iter().map(|f| format!("{}:{}", f.name, f.data_type)).collect();
    assert_eq!(
        cols,
        [
            "Timestamp:timestamp",
            "DeviceName:string",
            "ProcessId:long",
            "tenant:string",
            "date:date"
        ]
    );
    let end_ms = win(10, 11).end.timestamp_millis();
    assert_eq!(log[3]["txn"]["appId"], "hunt/encoded-powershell/contoso");
    assert_eq!(log[3]["txn"]["version"], end_ms);
    let add = &log[4]["add"];
    assert_eq!(add["path"], f.path.as_str());
    assert_eq!(add["partitionValues"], serde_json::json!({"tenant":"contoso","date":"2026-11-21"}));
    assert_eq!(add["size"], 1234);
    assert_eq!(add["dataChange"], true);
    assert_eq!(add["tags"]["hunt.window_start"], "2026-11-21T10:00:00.0000000Z");
    assert_eq!(add["tags"]["hunt.window_end"], "2026-11-21T11:00:00.0000000Z");
    assert_eq!(add["stats"], r#"{"numRecords":3}"#);
    let info = &log[0]["commitInfo"];
    assert_eq!(info["operation"], "WRITE");
    assert_eq!(info["operationParameters"]["mode"], "Append");
    assert_eq!(info["hunt"]["query"], "encoded-powershell");
    assert_eq!(info["hunt"]["requestIds"], serde_json::json!(["req-1"]));

    // Another process opening the table sees the same state.
    let again = DeltaTable::open(store, root()).await.unwrap();
    let s = again.snapshot().await.unwrap();
    assert_eq!(s.version, 0);
    assert_eq!(live(&again).await, live(&t).await);
    assert_eq!(s.txns["hunt/encoded-powershell/contoso"].version, end_ms);
}

#[tokio::test]
async fn a_rerun_replaces_its_window_whole_or_split_and_nothing_else() {
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    let s = base_schema();
    let q = query();
    // [10,12) answered in two halves, for two tenants; [12,13) for contoso.
    let halves = vec![file(Some("contoso"), win(10, 11)), file(Some("contoso"), win(11, 12))];
    t.commit_window(&s, Some("contoso"), &win(10, 12), &q, halves.clone()).await.unwrap();
    let fabrikam = file(Some("fabrikam"), win(10, 12));
    t.commit_window(&s, Some("fabrikam"), &win(10, 12), &q, vec![fabrikam.clone()]).await.unwrap();
    let later = file(Some("contoso"), win(12, 13));
    t.commit_window(&s, Some("contoso"), &win(12, 13), &q, vec![later.clone()]).await.unwrap();

    // Re-run of [10,12) answered whole: both halves go, nothing else does.
    let whole = file(Some("contoso"), win(10, 12));
    let c =
        t.commit_window(&s, Some("contoso"), &win(10, 12), &q, vec![whole.clone()]).await.unwrap();
    assert_eq!((c.version, c.added, c.removed), (3, 1, 2));
    let want: BTreeSet<String> =
        [&whole, &fabrikam, &later].iter().map(|f| f.path.clone()).collect();
    assert_eq!(live(&t).await, want);
    let log =
        lines(&read(&store, "lake/encoded-powershell/_delta_log/00000000000000000003.json").await);
    let removed: BTreeSet<&str> =
        log.iter().filter_map(|l| l.get("remove")?.get("path")?.as_str()).collect();
    assert_eq!(removed, halves.iter().map(|f| f.path.as_str()).collect());
    let r = log.iter().find_map(|l| l.get("remove")).unwrap();
    assert_eq!(r["dataChange"], true);
    assert_eq!(r["extendedFileMetadata"], true);
    assert_eq!(r["size"], 1234);
    assert_eq!(log[0]["commitInfo"]["operationParameters"]["mode"], "Overwrite");

    // And split again: the whole answer goes.
    let again = vec![file(Some("contoso"), win(10, 11)), file(Some("contoso"), win(11, 12))];
    let c = t.commit_window(&s, Some("contoso"), &win(10, 12), &q, again.clone()).await.unwrap();
    assert_eq!((c.added, c.removed), (2, 1));
    // A re-run of one half only touches that half.
    let half = file(Some("contoso"), win(10, 11));
    let c =
        t.commit_window(&s, Some("contoso"), &win(10, 11), &q, vec![half.clone()]).await.unwrap();
    assert_eq!((c.added, c.removed), (1, 1));
    let want: BTreeSet<String> =
        [&half, &again[1], &fabrikam, &later].iter().map(|f| f.path.clone()).collect();
    assert_eq!(live(&t).await, want);
    // A window that now has no rows still replaces the earlier run.
    let c = t.commit_window(&s, Some("contoso"), &win(12, 13), &q, vec![]).await.unwrap();
    assert_eq!((c.added, c.removed), (0, 1));
    assert!(!live(&t).await.contains(&later.path));
    // The state read back from the log agrees with the cached one.
    let fresh = DeltaTable::open(store, root()).await.unwrap();
    assert_eq!(live(&fresh).await, live(&t).await);
}

#[tokio::test]
async fn the_txn_version_is_the_furthest_window_end_and_never_moves_back() {
    let t = DeltaTable::open(mem(), root()).await.unwrap();
    let (s, q) = (base_schema(), query());
    let txn = |snap: Snapshot| snap.txns["hunt/encoded-powershell"].version;
    t.commit_window(&s, None, &win(10, 11), &q, vec![file(None, win(10, 11))]).await.unwrap();
    assert_eq!(txn(t.snapshot().await.unwrap()), win(10, 11).end.timestamp_millis());
    t.commit_window(&s, None, &win(11, 12), &q, vec![file(None, win(11, 12))]).await.unwrap();
    assert_eq!(txn(t.snapshot().await.unwrap()), win(11, 12).end.timestamp_millis());
    // Re-running an older window keeps the furthest end.
    t.commit_window(&s, None, &win(10, 11), &q, vec![file(None, win(10, 11))]).await.unwrap();
    assert_eq!(txn(t.snapshot().await.unwrap()), win(11, 12).end.timestamp_millis());
}

#[tokio::test]
async fn new_columns_extend_the_schema_and_a_changed_type_is_refused() {
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    let q = query();
    t.commit_window(&base_schema(), None, &win(10, 11), &q, vec![file(None, win(10, 11))])
        .await
        .unwrap();
    // A window with a new column: the commit carries the merged schema.
    let mut wider = base_schema().fields().to_vec();
    wider.insert(1, Arc::new(Field::new("AccountName", DataType::Utf8, true)));
    let wider = Schema::new(wider);
    t.commit_window(&wider, None, &win(11, 12), &q, vec![file(None, win(11, 12))]).await.unwrap();
    let log =
        lines(&read(&store, "lake/encoded-powershell/_delta_log/00000000000000000001.json").await);
    let meta = log.iter().find_map(|l| l.get("metaData")).expect("a metaData action");
    let s = DeltaSchema::parse(meta["schemaString"].as_str().unwrap()).unwrap();
    let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Timestamp", "DeviceName", "ProcessId", "AccountName", "date"]);
    let first =
        lines(&read(&store, "lake/encoded-powershell/_delta_log/00000000000000000000.json").await);
    let first_meta = first.iter().find_map(|l| l.get("metaData")).unwrap();
    assert_eq!(meta["id"], first_meta["id"], "the table keeps its id");
    assert_eq!(log[0]["commitInfo"]["isBlindAppend"], false);
    // Back to the old columns: no metadata change.
    let c = t
        .commit_window(&base_schema(), None, &win(12, 13), &q, vec![file(None, win(12, 13))])
        .await
        .unwrap();
    let log = lines(
        &read(&store, &format!("lake/encoded-powershell/_delta_log/{:020}.json", c.version)).await,
    );
    assert!(log.iter().all(|l| l.get("metaData").is_none()));

    // A column whose type changed: an error naming it and both types, and nothing committed.
    let changed = schema(&[("ProcessId", DataType::Utf8)]);
    let e = t
        .commit_window(&changed, None, &win(13, 14), &q, vec![file(None, win(13, 14))])
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, DeltaError::Schema { version: 2, .. }), "{msg}");
    assert!(msg.contains("`ProcessId` is long in the table but string in this window"), "{msg}");
    assert!(msg.contains("lake/encoded-powershell"), "{msg}");
    assert_eq!(t.refresh().await.unwrap(), Some(2));
}

#[tokio::test]
async fn partitioning_is_fixed_and_partition_names_are_reserved() {
    let t = DeltaTable::open(mem(), root()).await.unwrap();
    let q = query();
    t.commit_window(&base_schema(), Some("contoso"), &win(10, 11), &q, vec![]).await.unwrap();
    let e = t.commit_window(&base_schema(), None, &win(11, 12), &q, vec![]).await.unwrap_err();
    assert!(matches!(e, DeltaError::Partitioning { .. }), "{e}");
    assert!(e.to_string().contains(r#"["tenant", "date"]"#), "{e}");

    for name in ["date", "Date", "tenant"] {
        let s = schema(&[(name, DataType::Utf8)]);
        let e = t.commit_window(&s, Some("contoso"), &win(11, 12), &q, vec![]).await.unwrap_err();
        assert!(e.to_string().contains("partition column"), "{e}");
    }
    // Without a tenant, `tenant` is an ordinary column.
    let plain = DeltaTable::open(mem(), root()).await.unwrap();
    plain
        .commit_window(&schema(&[("tenant", DataType::Utf8)]), None, &win(10, 11), &q, vec![])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_file_already_in_the_table_or_with_a_bad_path_is_refused() {
    let t = DeltaTable::open(mem(), root()).await.unwrap();
    let (s, q) = (base_schema(), query());
    let f = file(None, win(10, 11));
    t.commit_window(&s, None, &win(10, 11), &q, vec![f.clone()]).await.unwrap();
    let e = t.commit_window(&s, None, &win(11, 12), &q, vec![f]).await.unwrap_err();
    assert!(
        matches!(e, DeltaError::File { .. }) && e.to_string().contains("already in the table"),
        "{e}"
    );
    let mut bad = file(None, win(11, 12));
    bad.path = "_delta_log/x.parquet".into();
    let e = t.commit_window(&s, None, &win(11, 12), &q, vec![bad]).await.unwrap_err();
    assert!(e.to_string().contains("hidden"), "{e}");
}

#[tokio::test]
async fn malformed_or_incomplete_logs_are_reported_precisely() {
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    t.commit_window(&base_schema(), None, &win(10, 11), &query(), vec![]).await.unwrap();
    let put = |v: u64, text: &'static str| {
        let store = store.clone();
        async move {
            let p = Path::from(format!("lake/encoded-powershell/_delta_log/{v:020}.json"));
            store.put(&p, PutPayload::from(text)).await.unwrap();
        }
    };
    put(1, "{\"txn\":{\"appId\":\"a\",\"version\":1}}\n{\"add\":{\"path\":5}}\n").await;
    let e = DeltaTable::open(store.clone(), root()).await.unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(&e, DeltaError::Log { file, line: 2, .. } if file == "_delta_log/00000000000000000001.json"),
        "{msg}"
    );
    // The cached table reports it on its next commit, too, and writes nothing.
    let e =
        t.commit_window(&base_schema(), None, &win(11, 12), &query(), vec![]).await.unwrap_err();
    assert!(matches!(e, DeltaError::Log { line: 2, .. }), "{e}");

    // A gap in the versions.
    let gap = mem();
    let t = DeltaTable::open(gap.clone(), root()).await.unwrap();
    for h in 10..13 {
        t.commit_window(&base_schema(), None, &win(h, h + 1), &query(), vec![]).await.unwrap();
    }
    gap.delete(&Path::from("lake/encoded-powershell/_delta_log/00000000000000000001.json"))
        .await
        .unwrap();
    let e = DeltaTable::open(gap.clone(), root()).await.unwrap_err();
    assert!(e.to_string().contains("version 1 is missing"), "{e}");
    gap.delete(&Path::from("lake/encoded-powershell/_delta_log/00000000000000000000.json"))
        .await
        .unwrap();
    let e = DeltaTable::open(gap, root()).await.unwrap_err();
    assert!(e.to_string().contains("starts at version 2 and there is no checkpoint"), "{e}");
}

#[tokio::test]
async fn tables_needing_more_than_hunt_implements_are_not_written() {
    let cases = [
        (
            r#"{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}"#,
            "reader version 3",
        ),
        (r#"{"protocol":{"minReaderVersion":1,"minWriterVersion":4}}"#, "writer version 4"),
    ];
    let meta = r#"{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"date\",\"type\":\"date\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":["date"],"configuration":{}}}"#;
    for (protocol, want) in cases {
        let store = mem();
        let p = Path::from("lake/encoded-powershell/_delta_log/00000000000000000000.json");
        store.put(&p, PutPayload::from(format!("{protocol}\n{meta}\n"))).await.unwrap();
        let t = DeltaTable::open(store, root()).await.unwrap();
        let e = t
            .commit_window(&base_schema(), None, &win(10, 11), &query(), vec![])
            .await
            .unwrap_err();
        assert!(matches!(e, DeltaError::Unsupported { .. }) && e.to_string().contains(want), "{e}");
    }
    // An append-only table accepts new windows but refuses to replace one.
    let store = mem();
    let append_only =
        meta.replace(r#""configuration":{}"#, r#""configuration":{"delta.appendOnly":"true"}"#);
    let p = Path::from("lake/encoded-powershell/_delta_log/00000000000000000000.json");
    store
        .put(
            &p,
            PutPayload::from(format!(
                "{}\n{append_only}\n",
                r#"{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}"#
            )),
        )
        .await
        .unwrap();
    let t = DeltaTable::open(store, root()).await.unwrap();
    let (s, q) = (base_schema(), query());
    t.commit_window(&s, None, &win(10, 11), &q, vec![file(None, win(10, 11))]).await.unwrap();
    let e = t
        .commit_window(&s, None, &win(10, 11), &q, vec![file(None, win(10, 11))])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_land_every_window_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> =
        Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    // Six writers (each its own table handle, like separate processes): each lands four
    // windows of its own, and all of them also land the shared window [0,1).
    let writers = 6u32;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let store = store.clone();
        tasks.spawn(async move {
            let t = DeltaTable::open(store, root()).await.unwrap();
            let mut attempts = 0;
            for i in 0..4 {
                let h = 1 + w * 4 + i;
                let c = t
                    .commit_window(
                        &base_schema(),
                        None,
                        &win(h, h + 1),
                        &query(),
                        vec![file(None, win(h, h + 1))],
                    )
                    .await
                    .unwrap();
                attempts += c.attempts;
            }
            let shared = file(None, win(0, 1));
            t.commit_window(&base_schema(), None, &win(0, 1), &query(), vec![shared.clone()])
                .await
                .unwrap();
            (attempts, shared.path)
        });
    }
    let mut shared_paths = BTreeSet::new();
    while let Some(r) = tasks.join_next().await {
        let (_, path) = r.unwrap();
        shared_paths.insert(path);
    }
    let t = DeltaTable::open(store, root()).await.unwrap();
    let s = t.snapshot().await.unwrap();
    // One version per commit, none lost.
    assert_eq!(s.version, u64::from(writers * 5) - 1);
    // Every own window once, and the shared window once (one writer's file, the last to commit).
    let mut windows: Vec<String> = s
        .files
        .values()
        .map(|a| {
            let tags = a.tags.as_ref().unwrap();
            tags["hunt.window_start"].as_deref().unwrap().to_owned()
        })
        .collect();
    windows.sort();
    let unique: BTreeSet<&String> = windows.iter().collect();
    assert_eq!(windows.len(), unique.len(), "a window landed twice: {windows:?}");
    assert_eq!(windows.len() as u32, writers * 4 + 1);
    let shared_live: Vec<&String> = s.files.keys().filter(|p| shared_paths.contains(*p)).collect();
    assert_eq!(shared_live.len(), 1);
    assert_eq!(s.tombstones.len() as u32, writers - 1);
}

/// What a [`Hooked`] store does to the first conditional (commit) write.
#[derive(Debug)]
enum Hook {
    /// It lands but the answer is "already exists", like a put the store client retried after
    /// the first try timed out.
    LandThenConflict,
    /// Another writer's commit (this text) lands at that version just before it.
    OtherWriterFirst(String),
}

/// An in-memory store with a hook on the first commit.
#[derive(Debug)]
struct Hooked {
    inner: Arc<dyn ObjectStore>,
    hook: std::sync::Mutex<Option<Hook>>,
}

impl std::fmt::Display for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooked")
    }
}

#[async_trait::async_trait]
impl ObjectStore for Hooked {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        let hook = if matches!(opts.mode, PutMode::Create) {
            self.hook.lock().unwrap().take()
        } else {
            None
        };
        match hook {
            None => self.inner.put_opts(location, payload, opts).await,
            Some(Hook::LandThenConflict) => {
                self.inner.put_opts(location, payload, opts).await?;
                Err(object_store::Error::AlreadyExists {
                    path: location.to_string(),
                    source: "retried".into(),
                })
            }
            Some(Hook::OtherWriterFirst(text)) => {
                self.inner.put(location, PutPayload::from(text)).await?;
                self.inner.put_opts(location, payload, opts).await
            }
        }
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        self.inner.get_opts(location, options).await
    }
    fn delete_stream(
        &self,
        locations: futures_util::stream::BoxStream<'static, object_store::Result<Path>>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(
        &self,
        prefix: Option<&Path>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
    {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(
        &self,
        prefix: Option<&Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// `inner` with `hook` on its next commit.
fn hooked(inner: Arc<dyn ObjectStore>, hook: Hook) -> Arc<dyn ObjectStore> {
    Arc::new(Hooked { inner, hook: std::sync::Mutex::new(Some(hook)) })
}

#[tokio::test]
async fn a_commit_that_landed_despite_a_conflict_answer_is_recognised() {
    let t = DeltaTable::open(hooked(mem(), Hook::LandThenConflict), root()).await.unwrap();
    let f = file(None, win(10, 11));
    let c = t
        .commit_window(&base_schema(), None, &win(10, 11), &query(), vec![f.clone()])
        .await
        .unwrap();
    assert_eq!((c.version, c.added), (0, 1));
    // Not committed a second time.
    assert_eq!(t.refresh().await.unwrap(), Some(0));
    assert_eq!(live(&t).await, BTreeSet::from([f.path]));
    let c = t.commit_window(&base_schema(), None, &win(11, 12), &query(), vec![]).await.unwrap();
    assert_eq!(c.version, 1);
}

#[tokio::test]
async fn a_writer_beaten_to_a_version_plans_again_on_the_newer_state() {
    // Another writer lands the same window [10,11) at version 1, between our read and our write.
    let other = r#"{"commitInfo":{"operation":"WRITE"}}
{"txn":{"appId":"hunt/encoded-powershell","version":1795258800000}}
{"add":{"path":"date=2026-11-21/other.parquet","partitionValues":{"date":"2026-11-21"},"size":9,"modificationTime":1,"dataChange":true,"tags":{"hunt.window_start":"2026-11-21T10:00:00Z","hunt.window_end":"2026-11-21T11:00:00Z"}}}
"#;
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    let (s, q) = (base_schema(), query());
    let first = file(None, win(10, 11));
    t.commit_window(&s, None, &win(10, 11), &q, vec![first]).await.unwrap();
    let t2 = DeltaTable::open(hooked(store, Hook::OtherWriterFirst(other.into())), root())
        .await
        .unwrap();
    let ours = file(None, win(10, 11));
    let c = t2.commit_window(&s, None, &win(10, 11), &q, vec![ours.clone()]).await.unwrap();
    // Version 1 went to the other writer; ours is 2 and replaces both earlier runs.
    assert_eq!((c.version, c.attempts, c.removed), (2, 2, 2));
    assert_eq!(live(&t2).await, BTreeSet::from([ours.path.clone()]));
    assert_eq!(t.refresh().await.unwrap(), Some(2));
    assert_eq!(live(&t).await, BTreeSet::from([ours.path]));
}

#[tokio::test]
async fn a_cached_table_catches_up_with_other_writers() {
    let store = mem();
    let a = DeltaTable::open(store.clone(), root()).await.unwrap();
    let b = DeltaTable::open(store.clone(), root()).await.unwrap();
    let (s, q) = (base_schema(), query());
    a.commit_window(&s, None, &win(10, 11), &q, vec![file(None, win(10, 11))]).await.unwrap();
    // b opened before the table existed: it reads a's commit first and replaces that run.
    let c =
        b.commit_window(&s, None, &win(10, 11), &q, vec![file(None, win(10, 11))]).await.unwrap();
    assert_eq!((c.version, c.attempts, c.removed), (1, 1, 1));
    assert_eq!(a.refresh().await.unwrap(), Some(1));
    assert_eq!(live(&a).await, live(&b).await);
}

#[tokio::test]
async fn checkpoints_are_written_every_hundred_commits_and_read_back() {
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    let (s, q) = (base_schema(), query());
    for h in 0..100 {
        let c = t
            .commit_window(
                &s,
                Some("contoso"),
                &win(h, h + 1),
                &q,
                vec![file(Some("contoso"), win(h, h + 1))],
            )
            .await
            .unwrap();
        assert!(!c.checkpointed, "version {}", c.version);
    }
    // A re-run leaves a tombstone; version 100 is checkpointed.
    let c = t
        .commit_window(&s, Some("contoso"), &win(0, 1), &q, vec![file(Some("contoso"), win(0, 1))])
        .await
        .unwrap();
    assert_eq!((c.version, c.checkpointed), (100, true));
    let last: serde_json::Value = serde_json::from_str(
        &read(&store, "lake/encoded-powershell/_delta_log/_last_checkpoint").await,
    )
    .unwrap();
    assert_eq!(last["version"], 100);
    assert_eq!(last["numOfAddFiles"], 100);
    // 1 protocol + 1 metaData + 1 txn + 100 adds + 1 tombstone.
    assert_eq!(last["size"], 104);
    let c = t.commit_window(&s, Some("contoso"), &win(100, 101), &q, vec![]).await.unwrap();
    assert_eq!(c.version, 101);

    // With the JSON commits before the checkpoint gone, a new reader starts from it.
    for v in 0..100u64 {
        let p = Path::from(format!("lake/encoded-powershell/_delta_log/{v:020}.json"));
        store.delete(&p).await.unwrap();
    }
    let fresh = DeltaTable::open(store.clone(), root()).await.unwrap();
    let (a, b) = (fresh.snapshot().await.unwrap(), t.snapshot().await.unwrap());
    assert_eq!(a.version, 101);
    assert_eq!(a.files, b.files);
    assert_eq!(a.txns, b.txns);
    assert_eq!(a.metadata, b.metadata);
    assert_eq!(a.protocol, b.protocol);
    assert_eq!(a.tombstones.keys().collect::<BTreeSet<_>>(), b.tombstones.keys().collect());
    // And it writes on from there.
    let c = fresh
        .commit_window(&s, Some("contoso"), &win(1, 2), &q, vec![file(Some("contoso"), win(1, 2))])
        .await
        .unwrap();
    assert_eq!((c.version, c.removed), (102, 1));

    // Without `_last_checkpoint` the listing finds the checkpoint too.
    store.delete(&Path::from("lake/encoded-powershell/_delta_log/_last_checkpoint")).await.unwrap();
    let listed = DeltaTable::open(store.clone(), root()).await.unwrap();
    assert_eq!(listed.snapshot().await.unwrap().version, 102);
    // A checkpoint that is not Parquet is reported by name.
    store
        .put(
            &Path::from(
                "lake/encoded-powershell/_delta_log/00000000000000000100.checkpoint.parquet",
            ),
            PutPayload::from("not parquet"),
        )
        .await
        .unwrap();
    let e = DeltaTable::open(store, root()).await.unwrap_err();
    assert!(
        matches!(&e, DeltaError::Checkpoint { file, .. } if file == "_delta_log/00000000000000000100.checkpoint.parquet"),
        "{e}"
    );
}

#[tokio::test]
async fn a_checkpoint_never_points_readers_back_to_an_older_one() {
    let store = mem();
    let t = DeltaTable::open(store.clone(), root()).await.unwrap();
    for h in 0..2 {
        t.commit_window(
            &base_schema(),
            None,
            &win(h, h + 1),
            &query(),
            vec![file(None, win(h, h + 1))],
        )
        .await
        .unwrap();
    }
    let last = Path::from("lake/encoded-powershell/_delta_log/_last_checkpoint");
    store.put(&last, PutPayload::from(r#"{"version":7,"size":1}"#)).await.unwrap();
    let snapshot = t.snapshot().await.unwrap();
    checkpoint::write(&t.log, &snapshot, 0).await.unwrap();
    assert_eq!(
        read(&store, "lake/encoded-powershell/_delta_log/_last_checkpoint").await,
        r#"{"version":7,"size":1}"#
    );
    assert!(
        store
            .head(&Path::from(
                "lake/encoded-powershell/_delta_log/00000000000000000001.checkpoint.parquet"
            ))
            .await
            .is_ok()
    );
    // A hint naming a checkpoint that does not exist falls back to listing the log.
    let again = DeltaTable::open(store, root()).await.unwrap();
    assert_eq!(again.snapshot().await.unwrap().files, snapshot.files);
}
