//! Delta Lake conformance: tables whose log hunt writes (`hunt::delta`), with real Parquet data
//! files, read back by delta-rs (Python `deltalake`) from a local folder and from Azurite:
//! rows, types, partition values, versions, history, transaction ids, re-runs without
//! duplicates, schema drift, checkpoints both ways, and put-if-absent commits on Azure.

use crate::tools::{self, AZURITE_ACCOUNT, AZURITE_KEY, Azurite};
use arrow_schema::SchemaRef;
use chrono::NaiveDate;
use hunt::delta::{self, Committed, DeltaTable, NewFile, QueryMeta, StatsCollector};
use hunt::timespan::{Window, parse_datetime};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};
use parquet::arrow::ArrowWriter;
use serde_json::{Value, json};
use std::sync::Arc;

/// The reader: prints, as JSON, what delta-rs sees of the table at argv[1] (storage options as
/// JSON in argv[2], the `txn` app id to look up in argv[3]).
const READ: &str = r#"
import os, sys, json, datetime
import pyarrow as pa, pyarrow.compute as pc
from deltalake import DeltaTable
uri, opts, app = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
dt = DeltaTable(uri, storage_options=opts or None)
def cell(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return v
def rows(t):
    cols = t.column_names
    out = [{c: cell(v) for c, v in zip(cols, r)} for r in zip(*[t.column(c).to_pylist() for c in cols])]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))
t = dt.to_pyarrow_table()
adds = pa.table(dt.get_add_actions(flatten=True)).to_pylist()
out = {
    "version": dt.version(),
    "columns": [[f.name, str(f.type)] for f in t.schema],
    "partition_columns": dt.metadata().partition_columns,
    "rows": rows(t),
    "files": sorted(a["path"] for a in adds),
    "num_records": sorted(a["num_records"] for a in adds),
    "stats": {a["path"]: {k: cell(v) for k, v in a.items() if k.startswith(("min.", "max.", "null_count."))} for a in adds},
    "partitions": sorted(json.dumps(p, sort_keys=True) for p in dt.partitions()),
    "history": sorted([[h["version"], h["operation"], h.get("operationParameters", {}).get("mode")] for h in dt.history()]),
    "txn": dt.transaction_version(app),
    "protocol": [dt.protocol().min_reader_version, dt.protocol().min_writer_version],
}
# Partition pruning from the log, and a filtered scan.
if "tenant" in out["partition_columns"]:
    out["contoso"] = rows(dt.to_pyarrow_dataset().to_table(filter=pc.field("tenant") == "contoso"))
    out["contoso_files"] = len(dt.file_uris(file_pruning_predicate=[("tenant", "=", "contoso")]))
out["day_22"] = dt.to_pyarrow_dataset().to_table(filter=pc.field("date") == datetime.date(2026, 11, 22)).num_rows
out["day_22_files"] = len(dt.file_uris(file_pruning_predicate=[("date", "=", "2026-11-22")]))
if len(sys.argv) > 4:
    dt.load_as_version(int(sys.argv[4]))
    out["old_rows"] = rows(dt.to_pyarrow_table())
print(json.dumps(out, default=str), flush=True)
# Everything is read and printed. Skip the interpreter's teardown: with pyarrow scanner threads
# still parked, it aborts now and then ("terminate called without an active exception",
# delta-io/delta-rs#2184), which says nothing about the table.
os._exit(0)
"#;

fn read_delta(uri: &str, opts: &Value, app: &str, old: Option<u64>) -> Value {
    let opts = opts.to_string();
    let old = old.map(|v| v.to_string());
    let mut args = vec![uri, opts.as_str(), app];
    args.extend(old.as_deref());
    let env: Vec<(&str, String)> = match opts.contains("use_emulator") {
        true => Azurite::get().env(),
        false => vec![],
    };
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = tools::run_python(READ, &args, &env);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    parse_datetime(s).unwrap()
}

fn win(a: &str, b: &str) -> Window {
    Window { start: t(a), end: t(b) }
}

fn query() -> QueryMeta {
    QueryMeta {
        query_id: "encoded-powershell".into(),
        query_sha256: "ab".repeat(32),
        complete: true,
        request_ids: vec!["req-1".into()],
    }
}

/// A Graph answer with the given rows (`[timestamp, device, pid]`) and extra columns.
fn body(rows: &[(&str, &str, i64)], extra: Option<(&str, &str)>) -> String {
    let mut schema = vec![
        json!({"name": "Timestamp", "type": "DateTime"}),
        json!({"name": "DeviceName", "type": "String"}),
        json!({"name": "ProcessId", "type": "Int64"}),
        json!({"name": "AdditionalFields", "type": "Dynamic"}),
    ];
    if let Some((name, ty)) = extra {
        schema.push(json!({"name": name, "type": ty}));
    }
    let results: Vec<Value> = rows
        .iter()
        .map(|(ts, dev, pid)| {
            let mut r = json!({"Timestamp": ts, "DeviceName": dev, "ProcessId": pid, "AdditionalFields": {"k": [1, 2]}});
            if let Some((name, _)) = extra {
                r[name] = json!(format!("{dev}-{pid}"));
            }
            r
        })
        .collect();
    json!({"schema": schema, "results": results}).to_string()
}

/// Writes one part's rows (all on `date`) as a Delta data file under the table and returns it.
async fn put_part(
    store: &Arc<dyn ObjectStore>,
    root: &Path,
    tenant: Option<&str>,
    date: NaiveDate,
    part: Window,
    body: &str,
) -> (SchemaRef, NewFile) {
    let decoded = hunt::decode::decode(body.as_bytes(), &Default::default()).unwrap();
    let schema = delta::data_schema(&decoded.schema).unwrap();
    let mut stats = StatsCollector::new(schema.clone());
    let mut w = ArrowWriter::try_new(Vec::new(), schema, None).unwrap();
    for b in &decoded.batches {
        let b = delta::to_delta_batch(b).unwrap();
        stats.update(&b);
        w.write(&b).unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let rel = delta::data_file_path(tenant, date, &part);
    let mut location = root.clone();
    for p in rel.split('/') {
        location = location.join(p);
    }
    let size = bytes.len() as u64;
    store.put(&location, PutPayload::from(bytes)).await.unwrap();
    let file = NewFile {
        path: rel,
        size,
        rows: decoded.rows as u64,
        date,
        window: part,
        complete: true,
        stats: Some(stats.to_json()),
        modification_time: None,
    };
    (decoded.schema, file)
}

/// Lands a window answered in `parts` (each `(part window, day, rows)`), then commits it.
async fn land(
    table: &DeltaTable,
    store: &Arc<dyn ObjectStore>,
    root: &Path,
    tenant: Option<&str>,
    window: Window,
    parts: &[(Window, &str, String)],
) -> Committed {
    let mut files = Vec::new();
    let mut schema = None;
    for (part, day, body) in parts {
        let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        let (s, f) = put_part(store, root, tenant, date, *part, body).await;
        schema = Some(s);
        files.push(f);
    }
    table.commit_window(&schema.unwrap(), tenant, &window, &query(), files).await.unwrap()
}

fn local(dir: &std::path::Path) -> Arc<dyn ObjectStore> {
    Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir).unwrap())
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|x| x.to_string()).collect()
}

#[test]
fn delta_rs_reads_rows_types_partitions_versions_and_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let root = Path::from("encoded-powershell");
    let rt = rt();
    rt.block_on(async {
        let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
        let w = win("2026-11-21T22:00:00Z", "2026-11-22T02:00:00Z");
        let c = land(
            &table,
            &store,
            &root,
            Some("contoso"),
            w,
            &[(w, "2026-11-21", body(&[("2026-11-21T23:59:59.1234567Z", "pc1", 4780)], None))],
        )
        .await;
        assert_eq!(c.version, 0);
        // A window split at midnight into two parts, each its own day.
        let (a, b) = (
            win("2026-11-21T22:00:00Z", "2026-11-22T00:00:00Z"),
            win("2026-11-22T00:00:00Z", "2026-11-22T02:00:00Z"),
        );
        let c = land(
            &table,
            &store,
            &root,
            Some("fabrikam"),
            w,
            &[
                (a, "2026-11-21", body(&[("2026-11-21T22:30:00Z", "srv1", 1)], None)),
                (
                    b,
                    "2026-11-22",
                    body(
                        &[
                            ("2026-11-22T01:00:00.0000001Z", "srv2", 2),
                            ("2026-11-22T01:30:00Z", "srv3", 3),
                        ],
                        None,
                    ),
                ),
            ],
        )
        .await;
        assert_eq!((c.version, c.added, c.removed), (1, 2, 0));
    });
    let uri = dir.path().join("encoded-powershell");
    let r = read_delta(uri.to_str().unwrap(), &json!({}), "hunt/encoded-powershell/fabrikam", None);
    assert_eq!(r["version"], 1);
    assert_eq!(r["protocol"], json!([1, 2]));
    assert_eq!(r["partition_columns"], json!(["tenant", "date"]));
    assert_eq!(
        r["columns"],
        json!([
            ["Timestamp", "timestamp[us, tz=UTC]"],
            ["DeviceName", "string"],
            ["ProcessId", "int64"],
            ["AdditionalFields", "string"],
            ["tenant", "string"],
            ["date", "date32[day]"]
        ])
    );
    let row = |ts: &str, dev: &str, pid: i64, tenant: &str, date: &str| json!({"Timestamp": ts, "DeviceName": dev, "ProcessId": pid, "AdditionalFields": r#"{"k":[1,2]}"#, "tenant": tenant, "date": date});
    let want = json!([
        // The 100 ns digit is dropped: Delta timestamps are microseconds.
        row("2026-11-21T22:30:00+00:00", "srv1", 1, "fabrikam", "2026-11-21"),
        row("2026-11-21T23:59:59.123456+00:00", "pc1", 4780, "contoso", "2026-11-21"),
        row("2026-11-22T01:00:00+00:00", "srv2", 2, "fabrikam", "2026-11-22"),
        row("2026-11-22T01:30:00+00:00", "srv3", 3, "fabrikam", "2026-11-22"),
    ]);
    let mut got = r["rows"].as_array().unwrap().clone();
    got.sort_by_key(|r| r["Timestamp"].as_str().unwrap().to_owned());
    assert_eq!(Value::Array(got), want);
    assert_eq!(
        r["contoso"],
        json!([row("2026-11-21T23:59:59.123456+00:00", "pc1", 4780, "contoso", "2026-11-21")])
    );
    assert_eq!(r["contoso_files"], 1);
    assert_eq!(r["day_22"], 2);
    assert_eq!(r["day_22_files"], 1);
    assert_eq!(r["num_records"], json!([1, 1, 2]));
    assert_eq!(
        strs(&r["partitions"]),
        [
            r#""{\"date\": \"2026-11-21\", \"tenant\": \"contoso\"}""#,
            r#""{\"date\": \"2026-11-21\", \"tenant\": \"fabrikam\"}""#,
            r#""{\"date\": \"2026-11-22\", \"tenant\": \"fabrikam\"}""#,
        ]
    );
    let files: Vec<&str> =
        r["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert_eq!(files.len(), 3);
    assert!(
        files[0].starts_with("tenant=contoso/date=2026-11-21/20261121T220000Z_20261122T020000Z-"),
        "{files:?}"
    );
    assert!(
        files[2].starts_with("tenant=fabrikam/date=2026-11-22/20261122T000000Z_20261122T020000Z-"),
        "{files:?}"
    );
    assert_eq!(r["history"], json!([[0, "WRITE", "Append"], [1, "WRITE", "Append"]]));
    assert_eq!(r["txn"], t("2026-11-22T02:00:00Z").timestamp_millis());
    // delta-rs parses hunt's statistics: timestamps to the millisecond, the maximum rounded up.
    let stats = &r["stats"][files[0]];
    assert_eq!(stats["min.Timestamp"], "2026-11-21T23:59:59.123000+00:00", "{stats}");
    assert_eq!(stats["max.Timestamp"], "2026-11-21T23:59:59.124000+00:00", "{stats}");
    assert_eq!(stats["min.ProcessId"], 4780, "{stats}");
    assert_eq!(stats["max.DeviceName"], "pc1", "{stats}");
    assert_eq!(stats["null_count.DeviceName"], 0, "{stats}");
    let stats = &r["stats"][files[2]];
    assert_eq!(
        (stats["min.ProcessId"].as_i64(), stats["max.ProcessId"].as_i64()),
        (Some(2), Some(3)),
        "{stats}"
    );
}

#[test]
fn after_a_rerun_delta_rs_sees_each_row_once_and_time_travels_to_the_old_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let root = Path::from("q");
    let (h10, h11, h12) = ("2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z", "2026-11-21T12:00:00Z");
    let day = "2026-11-21";
    rt().block_on(async {
        let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
        // First run: [10,12) in two halves.
        land(
            &table,
            &store,
            &root,
            None,
            win(h10, h12),
            &[
                (win(h10, h11), day, body(&[("2026-11-21T10:10:00Z", "a", 1)], None)),
                (win(h11, h12), day, body(&[("2026-11-21T11:10:00Z", "b", 2)], None)),
            ],
        )
        .await;
        // Re-run, answered whole, with one more row (a late event).
        let rerun = [
            ("2026-11-21T10:10:00Z", "a", 1),
            ("2026-11-21T11:10:00Z", "b", 2),
            ("2026-11-21T11:50:00Z", "c", 3),
        ];
        let c = land(
            &table,
            &store,
            &root,
            None,
            win(h10, h12),
            &[(win(h10, h12), day, body(&rerun, None))],
        )
        .await;
        assert_eq!((c.version, c.added, c.removed), (1, 1, 2));
        // And the same again: still one copy.
        let c = land(
            &table,
            &store,
            &root,
            None,
            win(h10, h12),
            &[(win(h10, h12), day, body(&rerun, None))],
        )
        .await;
        assert_eq!((c.version, c.removed), (2, 1));
    });
    let r = read_delta(
        dir.path().join("q").to_str().unwrap(),
        &json!({}),
        "hunt/encoded-powershell",
        Some(0),
    );
    let pids: Vec<i64> =
        r["rows"].as_array().unwrap().iter().map(|r| r["ProcessId"].as_i64().unwrap()).collect();
    assert_eq!(pids, [1, 2, 3]);
    assert_eq!(r["files"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["history"],
        json!([[0, "WRITE", "Append"], [1, "WRITE", "Overwrite"], [2, "WRITE", "Overwrite"]])
    );
    let old: Vec<i64> = r["old_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ProcessId"].as_i64().unwrap())
        .collect();
    assert_eq!(old, [1, 2]);
}

#[test]
fn after_schema_drift_delta_rs_reads_old_rows_as_null_in_the_new_column() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let root = Path::from("q");
    let day = "2026-11-21";
    rt().block_on(async {
        let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
        let w1 = win("2026-11-21T10:00:00Z", "2026-11-21T11:00:00Z");
        land(
            &table,
            &store,
            &root,
            None,
            w1,
            &[(w1, day, body(&[("2026-11-21T10:10:00Z", "a", 1)], None))],
        )
        .await;
        let w2 = win("2026-11-21T11:00:00Z", "2026-11-21T12:00:00Z");
        let c = land(
            &table,
            &store,
            &root,
            None,
            w2,
            &[(
                w2,
                day,
                body(&[("2026-11-21T11:10:00Z", "b", 2)], Some(("AccountName", "String"))),
            )],
        )
        .await;
        assert_eq!(c.version, 1);
        // The same column with another type is refused, naming both types.
        let w3 = win("2026-11-21T12:00:00Z", "2026-11-21T13:00:00Z");
        let (schema, f) = put_part(
            &store,
            &root,
            None,
            NaiveDate::from_ymd_opt(2026, 11, 21).unwrap(),
            w3,
            &body(&[("2026-11-21T12:10:00Z", "c", 3)], Some(("AccountName", "Int64"))),
        )
        .await;
        let e = table.commit_window(&schema, None, &w3, &query(), vec![f]).await.unwrap_err();
        assert!(
            e.to_string().contains("`AccountName` is string in the table but long in this window"),
            "{e}"
        );
    });
    let r = read_delta(
        dir.path().join("q").to_str().unwrap(),
        &json!({}),
        "hunt/encoded-powershell",
        None,
    );
    assert_eq!(r["version"], 1);
    let cols: Vec<&str> =
        r["columns"].as_array().unwrap().iter().map(|c| c[0].as_str().unwrap()).collect();
    assert_eq!(
        cols,
        ["Timestamp", "DeviceName", "ProcessId", "AdditionalFields", "AccountName", "date"]
    );
    let accounts: Vec<Value> =
        r["rows"].as_array().unwrap().iter().map(|r| r["AccountName"].clone()).collect();
    let mut accounts: Vec<String> = accounts.iter().map(Value::to_string).collect();
    accounts.sort();
    assert_eq!(accounts, ["\"b-2\"", "null"]);
}

/// Lands one small window per hour from hour `from` on, `n` of them.
async fn land_hours(
    table: &DeltaTable,
    store: &Arc<dyn ObjectStore>,
    root: &Path,
    from: u32,
    n: u32,
) {
    for h in from..from + n {
        let start = t("2026-11-21T00:00:00Z") + chrono::Duration::hours(h.into());
        let w = Window { start, end: start + chrono::Duration::hours(1) };
        let ts = hunt::timespan::graph_datetime(start + chrono::Duration::minutes(5));
        let day = start.format("%Y-%m-%d").to_string();
        land(
            table,
            store,
            root,
            None,
            w,
            &[(w, day.as_str(), body(&[(ts.as_str(), "pc", i64::from(h))], None))],
        )
        .await;
    }
}

#[test]
fn delta_rs_reads_hunts_checkpoint_and_hunt_reads_delta_rs_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = local(dir.path());
    let root = Path::from("q");
    let uri = dir.path().join("q");
    let uri = uri.to_str().unwrap();
    let log = dir.path().join("q/_delta_log");

    rt().block_on(async {
        let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
        land_hours(&table, &store, &root, 0, 101).await;
        assert!(log.join("00000000000000000100.checkpoint.parquet").exists());
    });
    // Only the checkpoint is left for versions up to 100: delta-rs must start from it.
    for v in 0..100 {
        std::fs::remove_file(log.join(format!("{v:020}.json"))).unwrap();
    }
    let r = read_delta(uri, &json!({}), "hunt/encoded-powershell", None);
    assert_eq!(r["version"], 100);
    let pids: Vec<i64> =
        r["rows"].as_array().unwrap().iter().map(|r| r["ProcessId"].as_i64().unwrap()).collect();
    let mut pids = pids;
    pids.sort();
    assert_eq!(pids, (0..101).collect::<Vec<i64>>());
    assert_eq!(r["txn"], t("2026-11-25T05:00:00Z").timestamp_millis());

    // delta-rs writes a checkpoint of its own at version 102; hunt starts from that one.
    rt().block_on(async {
        let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
        land_hours(&table, &store, &root, 101, 2).await;
    });
    tools::run_python(
        "import sys\nfrom deltalake import DeltaTable\nDeltaTable(sys.argv[1]).create_checkpoint()",
        &[uri],
        &[],
    );
    assert!(log.join("00000000000000000102.checkpoint.parquet").exists());
    for v in 100..=102 {
        std::fs::remove_file(log.join(format!("{v:020}.json"))).unwrap();
    }
    rt().block_on(async {
        let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
        let s = table.snapshot().await.unwrap();
        assert_eq!((s.version, s.files.len()), (102, 103));
        assert_eq!(
            s.txns["hunt/encoded-powershell"].version,
            t("2026-11-25T07:00:00Z").timestamp_millis()
        );
        // Re-running hour 0 through the table read from delta-rs's checkpoint replaces it.
        land_hours(&table, &store, &root, 0, 1).await;
    });
    let r = read_delta(uri, &json!({}), "hunt/encoded-powershell", None);
    assert_eq!(r["version"], 103);
    assert_eq!(r["rows"].as_array().unwrap().len(), 103);
}

/// An object store on the shared Azurite, container `container` (created here).
fn azurite_store(container: &str) -> Arc<dyn ObjectStore> {
    // object_store's HTTP client is hunt's reqwest, built without a default TLS provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let az = Azurite::get();
    az.create_container(container);
    Arc::new(
        object_store::azure::MicrosoftAzureBuilder::new()
            .with_account(AZURITE_ACCOUNT)
            .with_access_key(AZURITE_KEY)
            .with_endpoint(az.url.clone())
            .with_allow_http(true)
            .with_container_name(container)
            .build()
            .unwrap(),
    )
}

#[test]
fn on_azurite_commits_are_put_if_absent_and_delta_rs_reads_them() {
    // A container of this run's own: an Azurite kept between runs would hold the last run's table.
    let container = format!("delta-it-{}", std::process::id());
    let store = azurite_store(&container);
    let url = format!("az://{container}/lake/encoded-powershell");
    let root = Path::from("lake/encoded-powershell");
    let rt = rt();
    rt.block_on(async {
        let table = DeltaTable::open_url(store.clone(), root.clone(), url.as_str()).await.unwrap();
        land_hours(&table, &store, &root, 0, 2).await;
        // A commit file that exists is never overwritten: Azure refuses the second create.
        let v1 = root.clone().join("_delta_log").join("00000000000000000001.json");
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        let e = store.put_opts(&v1, PutPayload::from("{}"), create).await.unwrap_err();
        assert!(matches!(e, object_store::Error::AlreadyExists { .. }), "{e}");
        // Four writers, each with its own handle, race on the table: every window lands once.
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..4u32 {
            let (store, root) = (store.clone(), root.clone());
            tasks.spawn(async move {
                let table = DeltaTable::open(store.clone(), root.clone()).await.unwrap();
                land_hours(&table, &store, &root, 2 + w * 3, 3).await;
                // And all of them re-run hour 0.
                land_hours(&table, &store, &root, 0, 1).await;
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
        let s = table.refresh().await.unwrap();
        assert_eq!(s, Some(17));
    });
    let opts = json!({"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY, "use_emulator": "true"});
    let r = read_delta(&url, &opts, "hunt/encoded-powershell", None);
    assert_eq!(r["version"], 17);
    let mut pids: Vec<i64> =
        r["rows"].as_array().unwrap().iter().map(|r| r["ProcessId"].as_i64().unwrap()).collect();
    pids.sort();
    assert_eq!(pids, (0..14).collect::<Vec<i64>>(), "every hour exactly once");
    assert_eq!(r["txn"], t("2026-11-21T14:00:00Z").timestamp_millis());
}

/// What delta-rs reads of a table hunt wrote (argv[1], storage options argv[2]), compared with a
/// Parquet run of the same window in the folder argv[3] (empty: no comparison), timestamps
/// truncated to microseconds as Delta stores them.
const COMPARE: &str = r#"
import os, sys, json
import pyarrow as pa, pyarrow.dataset as ds
from deltalake import DeltaTable
uri, opts, parquet = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
dt = DeltaTable(uri, storage_options=opts or None)
t = dt.to_pyarrow_table()
keys = [(c, "ascending") for c in t.column_names]
out = {
    "version": dt.version(),
    "rows": t.num_rows,
    "types": {f.name: str(f.type) for f in t.schema},
    "files": len(dt.file_uris()),
    "history": sorted([h["version"], h.get("operationParameters", {}).get("mode")] for h in dt.history()),
    "partition_columns": dt.metadata().partition_columns,
    "txn": dt.transaction_version("hunt/p"),
    "distinct_reports": len(set(t.column("ReportId").to_pylist())),
}
if parquet:
    part = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")
    p = ds.dataset(parquet, format="parquet", partitioning=part).to_table()
    p = p.select(t.column_names).cast(t.schema, safe=False)
    out["equal_to_parquet"] = t.sort_by(keys).equals(p.sort_by(keys))
dt.load_as_version(0)
out["v0_rows"] = dt.to_pyarrow_table().num_rows
out["v0_files"] = len(dt.file_uris())
print(json.dumps(out), flush=True)
os._exit(0)  # see READ
"#;

const E2E_WINDOW: &str = "2026-11-20T23:00:00Z/2026-11-21T01:00:00Z";
const E2E_QUERY: &str =
    "DeviceProcessEvents | project Timestamp, DeviceId, ReportId, ProcessId, AdditionalFields";

fn e2e_rows() -> usize {
    crate::run::expected_rows(
        "DeviceProcessEvents",
        "2026-11-20T23:00:00Z",
        "2026-11-21T01:00:00Z",
        360,
    )
    .len()
}

#[test]
fn hunt_run_format_delta_lands_a_table_that_delta_rs_reads_like_the_parquet_run() {
    let lake = tempfile::tempdir().unwrap();
    let table = lake.path().join("delta");
    let out = table.to_str().unwrap();
    // First a service that cuts results at 200 rows: the window lands in parts, one commit.
    let capped = hunt::quota::Limits { max_rows: 200, ..Default::default() };
    let small = crate::util::TestEnv::with(hunt::emulator::EmulatorConfig {
        limits: Some(capped),
        ..Default::default()
    });
    std::fs::write(small.path("hunt.toml"), "[quota]\nmax_rows = 200\n").unwrap();
    small.query("p.kql", E2E_QUERY);
    let args = ["run", "queries", "--format", "delta", "--out", out, "--timespan", E2E_WINDOW];
    let run = small.hunt(&args, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    // Then answered whole, twice: each run replaces the previous one in one commit.
    let whole = crate::util::TestEnv::new();
    whole.query("p.kql", E2E_QUERY);
    for _ in 0..2 {
        let run = whole.hunt(&args, &[]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    // And a Parquet run of the same window to compare with.
    let parquet = lake.path().join("parquet");
    let pq = parquet.to_str().unwrap();
    let run = whole.hunt(&["run", "queries", "--out", pq, "--timespan", E2E_WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");

    let files = std::fs::read_dir(table.join("p/_delta_log")).unwrap().count();
    assert_eq!(files, 3, "one commit per run");
    let r = tools::run_python(
        COMPARE,
        &[table.join("p").to_str().unwrap(), "{}", parquet.join("p").to_str().unwrap()],
        &[],
    );
    let v: Value = serde_json::from_str(r.trim()).unwrap();
    assert_eq!(v["version"], 2, "{v}");
    assert_eq!(v["rows"], e2e_rows(), "{v}");
    assert_eq!(v["distinct_reports"], e2e_rows(), "no row twice: {v}");
    assert_eq!(v["equal_to_parquet"], true, "{v}");
    assert_eq!(v["files"], 2, "one file per event day: {v}");
    assert_eq!(v["history"], json!([[0, "Append"], [1, "Overwrite"], [2, "Overwrite"]]), "{v}");
    assert_eq!(v["partition_columns"], json!(["date"]));
    assert_eq!(v["txn"], t("2026-11-21T01:00:00Z").timestamp_millis());
    assert_eq!(v["types"]["Timestamp"], "timestamp[us, tz=UTC]", "{v}");
    assert_eq!(v["types"]["ProcessId"], "int64", "{v}");
    assert_eq!(v["types"]["date"], "date32[day]", "{v}");
    // Version 0 is the split run: every row too, in more files.
    assert_eq!(v["v0_rows"], e2e_rows(), "{v}");
    assert!(v["v0_files"].as_u64().unwrap() >= 4, "{v}");
}

#[test]
fn hunt_run_format_delta_to_azurite_commits_and_delta_rs_reads_it_back() {
    let az = Azurite::get();
    let container = format!("delta-e2e-{}", std::process::id());
    az.create_container(&container);
    let vars = az.env();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env = crate::util::TestEnv::new();
    env.query("p.kql", E2E_QUERY);
    let url = format!("az://{container}/hunt");
    let args = ["run", "queries", "--format", "delta", "--out", &url, "--timespan", E2E_WINDOW];
    for _ in 0..2 {
        let run = env.hunt(&args, &vars);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let opts = json!({"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY, "use_emulator": "true"});
    let uri = format!("az://{container}/hunt/p");
    let env_vars = az.env();
    let env_vars: Vec<(&str, &str)> = env_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = tools::run_python(COMPARE, &[&uri, &opts.to_string(), ""], &env_vars);
    let v: Value = serde_json::from_str(r.trim()).unwrap();
    assert_eq!(v["version"], 1, "{v}");
    assert_eq!(v["rows"], e2e_rows(), "{v}");
    assert_eq!(v["distinct_reports"], e2e_rows(), "{v}");
    assert_eq!(v["files"], 2, "{v}");
    assert_eq!(v["history"], json!([[0, "Append"], [1, "Overwrite"]]), "{v}");
    assert_eq!(v["types"]["Timestamp"], "timestamp[us, tz=UTC]", "{v}");
    assert_eq!(v["v0_rows"], e2e_rows(), "{v}");
}

#[test]
fn hunt_schedule_format_delta_commits_each_window_once_in_order() {
    use hunt::schedule::state::{RunStatus, StateStore};
    let env = crate::util::TestEnv::new();
    env.query(
        "tick.kql",
        "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n// ---\nDeviceProcessEvents | project Timestamp, ReportId\n",
    );
    let args = ["schedule", "queries", "--format", "delta", "--out", "out", "--grace", "5s"];
    let mut daemon = env.spawn(&args);
    let runs = || {
        let state = StateStore::open_read_only(&env.schedule_state()).ok();
        state.and_then(|s| s.history(Some("tick"), usize::MAX).ok()).unwrap_or_default()
    };
    let within = std::time::Duration::from_secs(60);
    crate::util::wait_until("three windows committed", within, || runs().len() >= 3);
    assert_eq!(crate::util::sigterm(&mut daemon), 0, "exits 0 on SIGTERM");

    let state = StateStore::open_read_only(&env.schedule_state()).unwrap();
    let mut runs = state.history(Some("tick"), usize::MAX).unwrap();
    runs.sort_by_key(|r| r.window.start);
    assert!(!runs.is_empty());
    assert!(runs.iter().all(|r| r.status == RunStatus::Ok), "{runs:?}");
    // One commit per window the daemon recorded, in order, each naming its window.
    let log = env.out().join("tick/_delta_log");
    let committed: Vec<(String, String)> = (0..runs.len())
        .map(|v| {
            let text = std::fs::read_to_string(log.join(format!("{v:020}.json"))).unwrap();
            let info: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
            let h = &info["commitInfo"]["hunt"];
            (
                h["windowStart"].as_str().unwrap().to_owned(),
                h["windowEnd"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let recorded: Vec<(String, String)> = runs
        .iter()
        .map(|r| {
            let g = hunt::timespan::graph_datetime;
            (g(r.window.start), g(r.window.end))
        })
        .collect();
    assert_eq!(committed, recorded);
    assert!(!log.join(format!("{:020}.json", runs.len())).exists(), "no commit beyond the runs");
    let rows: u64 = runs.iter().map(|r| r.rows).sum();
    let out = env.out().join("tick");
    let r = read_delta(out.to_str().unwrap(), &json!({}), "hunt/tick", None);
    assert_eq!(r["version"], runs.len() - 1);
    assert_eq!(r["rows"].as_array().unwrap().len() as u64, rows);
    assert_eq!(r["txn"], runs.last().unwrap().window.end.timestamp_millis());
}
