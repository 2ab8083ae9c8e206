//! Output to object stores for real: the `hunt` binary against the emulator, writing to a real
//! Azurite over loopback, read back with pyarrow (from Azurite) and DuckDB (from disk), compared
//! value by value with the emulator's rows and with a local run of the same window; re-runs
//! replace, whole windows remove their earlier parts, a run killed mid-upload leaves no partial
//! object, an upload cut mid-way is retried, and bad URLs are usage errors.

use crate::run::{assert_rows_equal, expected_rows};
use crate::tools::{AZURITE_ACCOUNT, AZURITE_KEY, Azurite, run_python};
use crate::util::{TestEnv, parquet_files, read_parquet};
use arrow_array::RecordBatch;
use hunt::emulator::EmulatorConfig;
use hunt::output::{Destination, Format, Target};
use hunt::quota::Limits;
use object_store::ObjectStoreExt as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A container of the shared Azurite, private to one test, and its store as hunt opens it.
pub(crate) struct Lake {
    az: &'static Azurite,
    container: String,
    env: Vec<(&'static str, String)>,
    rt: tokio::runtime::Runtime,
    _spool: tempfile::TempDir,
    dest: Destination,
}

impl Lake {
    pub(crate) fn new(name: &str) -> Lake {
        let az = Azurite::get();
        let container = format!("{name}-{}", std::process::id());
        az.create_container(&container);
        let env = az.env();
        let pairs: Vec<(String, String)> =
            env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let spool = tempfile::tempdir().unwrap();
        let target = Target::parse(&format!("az://{container}")).unwrap();
        let dest = Destination::open(target, Format::Parquet, spool.path(), &pairs).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Lake { az, container, env, rt, _spool: spool, dest }
    }

    /// `az://CONTAINER/prefix`.
    pub(crate) fn url(&self, prefix: &str) -> String {
        format!("az://{}/{prefix}", self.container)
    }

    /// The variables hunt needs to reach this Azurite.
    pub(crate) fn vars(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// Every object under `prefix`, relative to the container, sorted.
    pub(crate) fn keys(&self, prefix: &str) -> Vec<String> {
        use futures_util::TryStreamExt as _;
        let store = self.dest.store();
        let prefix = object_store::path::Path::from(prefix);
        let mut keys: Vec<String> = self.rt.block_on(async {
            store
                .list(Some(&prefix))
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .unwrap()
        });
        keys.sort();
        keys
    }

    fn get(&self, key: &str) -> bytes::Bytes {
        let store = self.dest.store();
        let path = object_store::path::Path::from(key);
        self.rt.block_on(async { store.get(&path).await.unwrap().bytes().await.unwrap() })
    }

    /// An object's batches and key-value metadata.
    pub(crate) fn read(&self, key: &str) -> (Vec<RecordBatch>, Vec<(String, String)>) {
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(self.get(key))
                .unwrap();
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|kv| {
                kv.iter().map(|e| (e.key.clone(), e.value.clone().unwrap_or_default())).collect()
            })
            .unwrap_or_default();
        (builder.build().unwrap().collect::<Result<Vec<_>, _>>().unwrap(), kv)
    }

    /// Runs `script` with: account, key, `host:port`, container, then `args`.
    fn python(&self, script: &str, args: &[&str]) -> String {
        let authority = self.az.addr.to_string();
        let mut all = vec![AZURITE_ACCOUNT, AZURITE_KEY, authority.as_str(), &self.container];
        all.extend_from_slice(args);
        run_python(script, &all, &[])
    }
}

fn kv<'a>(kv: &'a [(String, String)], key: &str) -> &'a str {
    kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {key}"))
}

/// pyarrow's view of a dataset per query: from Azurite (`az`) and from a local folder, with hive
/// partitioning; whether both hold the same rows (sorted by every column).
const PYARROW_COMPARE: &str = r#"
import sys, json
import pyarrow.dataset as ds, pyarrow.fs as pafs
acct, key, auth, container, prefix, local = sys.argv[1:7]
fs = pafs.AzureFileSystem(account_name=acct, account_key=key, blob_storage_authority=auth,
    dfs_storage_authority=auth, blob_storage_scheme='http', dfs_storage_scheme='http')
out = {}
for q in sys.argv[7:]:
    remote = ds.dataset(f"{container}/{prefix}/{q}", filesystem=fs, format="parquet", partitioning="hive")
    t = remote.to_table()
    l = ds.dataset(f"{local}/{q}", format="parquet", partitioning="hive").to_table()
    keys = [(c, "ascending") for c in t.column_names]
    out[q] = {
        "rows": t.num_rows,
        "files": len(remote.files),
        "types": {f.name: str(f.type) for f in t.schema},
        "dates": sorted({str(d) for d in t.column("date").to_pylist()}),
        "equal_to_local": t.sort_by(keys).equals(l.sort_by(keys)),
    }
print(json.dumps(out))
"#;

const WINDOW: &str = "2026-11-20T22:00:00Z/2026-11-21T02:00:00Z";
const START: &str = "2026-11-20T22:00:00Z";
const END: &str = "2026-11-21T02:00:00Z";

#[test]
fn a_run_to_azurite_lands_what_the_emulator_sent_and_reads_back_with_pyarrow() {
    let lake = Lake::new("lake-run");
    let env = TestEnv::new();
    env.query("procs.kql", "DeviceProcessEvents");
    env.query("net.kql", "DeviceNetworkEvents");
    // No Timestamp column: lands under the window's start day.
    env.query("counts.kql", "DeviceLogonEvents\n| summarize count() by ActionType");
    let remote = env
        .hunt(&["run", "queries", "--out", &lake.url("hunt"), "--timespan", WINDOW], &lake.vars());
    assert_eq!(remote.code, 0, "{remote:?}");
    assert!(
        remote.stdout.contains(&format!("files under {}", lake.url("hunt"))),
        "the summary says where the files went: {remote:?}"
    );
    let local = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(local.code, 0, "{local:?}");

    let stem = "20261120T220000Z_20261121T020000Z.parquet";
    let mut want = Vec::new();
    for q in ["net", "procs"] {
        for day in ["2026-11-20", "2026-11-21"] {
            want.push(format!("hunt/{q}/date={day}/{stem}"));
        }
    }
    want.insert(0, format!("hunt/counts/date=2026-11-20/{stem}"));
    assert_eq!(lake.keys("hunt"), want, "objects and partitions");

    // Value by value against the emulator's generator, in date order.
    for (q, table) in [("procs", "DeviceProcessEvents"), ("net", "DeviceNetworkEvents")] {
        let mut batches = Vec::new();
        for day in ["2026-11-20", "2026-11-21"] {
            let key = format!("hunt/{q}/date={day}/{stem}");
            let (b, meta) = lake.read(&key);
            let rows: usize = b.iter().map(RecordBatch::num_rows).sum();
            assert_eq!(kv(&meta, "hunt.rows"), rows.to_string(), "{key}");
            assert_eq!(kv(&meta, "hunt.query_id"), q);
            assert_eq!(kv(&meta, "hunt.window_start"), "2026-11-20T22:00:00.0000000Z");
            assert_eq!(kv(&meta, "hunt.window_end"), "2026-11-21T02:00:00.0000000Z");
            assert_eq!(kv(&meta, "hunt.complete"), "true");
            assert_eq!(kv(&meta, "hunt.query_sha256").len(), 64);
            assert_eq!(kv(&meta, "hunt.version"), env!("CARGO_PKG_VERSION"));
            batches.extend(b);
        }
        assert_rows_equal(table, &batches, &expected_rows(table, START, END, 360));
    }
    // The uploaded files hold what the local run wrote, file by file.
    for key in &want {
        let local = env.out().join(key.strip_prefix("hunt/").unwrap());
        let (remote_batches, _) = lake.read(key);
        let (local_batches, _) = read_parquet(&local);
        assert_eq!(remote_batches, local_batches, "{key}");
    }

    // pyarrow reads the Hive-partitioned objects from Azurite: rows, types and partitions.
    let out = env.out().display().to_string();
    let report = lake.python(PYARROW_COMPARE, &["hunt", &out, "procs", "net", "counts"]);
    let v: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    let procs = expected_rows("DeviceProcessEvents", START, END, 360).len();
    let net = expected_rows("DeviceNetworkEvents", START, END, 360).len();
    assert_eq!(v["procs"]["rows"], procs, "{v}");
    assert_eq!(v["net"]["rows"], net, "{v}");
    for q in ["procs", "net", "counts"] {
        assert_eq!(v[q]["equal_to_local"], true, "{q}: {v}");
    }
    assert_eq!(v["procs"]["dates"], serde_json::json!(["2026-11-20", "2026-11-21"]), "{v}");
    assert_eq!(v["counts"]["dates"], serde_json::json!(["2026-11-20"]), "{v}");
    assert_eq!(v["procs"]["files"], 2);
    let types = &v["procs"]["types"];
    assert_eq!(types["Timestamp"], "timestamp[us, tz=UTC]", "{types}");
    assert_eq!(types["ProcessId"], "int64", "{types}");
    assert_eq!(types["DeviceName"], "string", "{types}");
    // Dynamic is plain text.
    assert_eq!(types["AdditionalFields"], "string", "{types}");
    assert_eq!(types["date"], "string", "{types}");
    assert_eq!(v["counts"]["types"]["count_"], "int64", "{v}");
}

/// DuckDB's view of a local folder per query, with hive partitioning: rows per date and column
/// types.
const DUCKDB_READ: &str = r#"
import sys, json, duckdb
root = sys.argv[1]
out = {}
for q in sys.argv[2:]:
    src = f"read_parquet('{root}/{q}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
    con = duckdb.connect()
    days = con.sql(f"select cast(date as varchar), count(*) from {src} group by 1 order by 1").fetchall()
    types = {r[0]: r[1] for r in con.sql(f"describe select * from {src}").fetchall()}
    out[q] = {"days": [[d, n] for d, n in days], "types": types}
print(json.dumps(out))
"#;

#[test]
fn a_local_run_reads_back_with_duckdb_partitions_and_types() {
    let env = TestEnv::new();
    env.query("procs.kql", "DeviceProcessEvents");
    env.query("counts.kql", "DeviceLogonEvents\n| summarize count() by ActionType");
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let report =
        run_python(DUCKDB_READ, &[&env.out().display().to_string(), "procs", "counts"], &[]);
    let v: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    let rows = expected_rows("DeviceProcessEvents", START, END, 360);
    let ts = |row: &Vec<hunt::emulator::data::Cell>| match row[0] {
        hunt::emulator::data::Cell::Time(t) => t,
        _ => panic!("Timestamp first"),
    };
    let midnight = crate::util::ticks("2026-11-21T00:00:00Z");
    let before = rows.iter().filter(|r| ts(r) < midnight).count();
    assert_eq!(
        v["procs"]["days"],
        serde_json::json!([["2026-11-20", before], ["2026-11-21", rows.len() - before]]),
        "{v}"
    );
    let types = &v["procs"]["types"];
    assert_eq!(types["date"], "DATE", "{types}");
    assert_eq!(types["Timestamp"], "TIMESTAMP WITH TIME ZONE", "{types}");
    assert_eq!(types["ProcessId"], "BIGINT", "{types}");
    assert_eq!(types["DeviceName"], "VARCHAR", "{types}");
    let groups = data_groups("DeviceLogonEvents");
    assert_eq!(v["counts"]["days"], serde_json::json!([["2026-11-20", groups]]), "{v}");
    assert_eq!(v["counts"]["types"]["count_"], "BIGINT", "{v}");
}

/// How many distinct ActionTypes `table` has in the test window.
fn data_groups(table: &str) -> usize {
    let def = hunt::emulator::data::tables().iter().find(|t| t.name == table).unwrap();
    let col = def.columns.iter().position(|(n, _)| *n == "ActionType").unwrap();
    let mut seen: Vec<String> =
        expected_rows(table, START, END, 360).iter().map(|r| format!("{:?}", r[col])).collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

/// Both readers over a query folder whose second window has one more column: DuckDB with
/// `union_by_name`, pyarrow with the files' unified schema. Prints rows, null count of the new
/// column, and the column list, for each reader.
const DRIFT_READ: &str = r#"
import sys, json, duckdb, pyarrow as pa, pyarrow.dataset as ds, pyarrow.parquet as pq
root = sys.argv[1]
src = f"read_parquet('{root}/**/*.parquet', hive_partitioning=true, union_by_name=true)"
con = duckdb.connect()
d_rows, d_nulls = con.sql(f"select count(*), count(*) - count(FileName) from {src}").fetchone()
d_cols = [r[0] for r in con.sql(f"describe select * from {src}").fetchall()]
part = ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive")
files = ds.dataset(root, format="parquet", partitioning=part).files
schema = pa.unify_schemas([pq.read_schema(f) for f in files] + [part.schema])
t = ds.dataset(root, schema=schema, format="parquet", partitioning=part).to_table()
print(json.dumps({
    "duckdb": {"rows": d_rows, "nulls": d_nulls, "columns": d_cols},
    "pyarrow": {"rows": t.num_rows, "nulls": t.column("FileName").null_count, "columns": t.column_names},
}))
"#;

#[test]
fn schema_drift_between_windows_reads_with_union_by_name_and_unified_schemas() {
    let env = TestEnv::new();
    let q = env.query("drift.kql", "DeviceProcessEvents | project Timestamp, DeviceId, ReportId");
    let first = "2026-11-20T00:00:00Z/2026-11-20T02:00:00Z";
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", first], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    // The service adds a column (here: the query asks for one more).
    std::fs::write(&q, "DeviceProcessEvents | project Timestamp, DeviceId, ReportId, FileName")
        .unwrap();
    let second = "2026-11-20T02:00:00Z/2026-11-20T03:00:00Z";
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", second], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let files = parquet_files(&env.out().join("drift"));
    assert_eq!(files.len(), 2, "{files:?}");
    let old =
        expected_rows("DeviceProcessEvents", "2026-11-20T00:00:00Z", "2026-11-20T02:00:00Z", 360);
    let new =
        expected_rows("DeviceProcessEvents", "2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z", 360);
    let report = run_python(DRIFT_READ, &[&env.out().join("drift").display().to_string()], &[]);
    let v: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    for reader in ["duckdb", "pyarrow"] {
        assert_eq!(v[reader]["rows"], old.len() + new.len(), "{reader}: {v}");
        assert_eq!(v[reader]["nulls"], old.len(), "{reader}: the old window has no FileName: {v}");
        let cols: Vec<&str> =
            v[reader]["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        for c in ["Timestamp", "DeviceId", "ReportId", "FileName", "date"] {
            assert!(cols.contains(&c), "{reader}: {c} missing from {cols:?}");
        }
    }
}

#[test]
fn a_rerun_replaces_objects_and_a_whole_window_removes_its_earlier_parts() {
    let lake = Lake::new("lake-rerun");
    let url = lake.url("hunt");
    let window = "2026-11-20T23:00:00Z/2026-11-21T01:00:00Z";
    let query = "DeviceProcessEvents | project Timestamp, DeviceId, ReportId";
    // First, a service that cuts results at 200 rows: the window lands in parts.
    let capped = Limits { max_rows: 200, ..Limits::default() };
    let small = TestEnv::with(EmulatorConfig { limits: Some(capped), ..Default::default() });
    std::fs::write(small.path("hunt.toml"), "[quota]\nmax_rows = 200\n").unwrap();
    small.query("p.kql", query);
    let run = small.hunt(&["run", "queries", "--out", &url, "--timespan", window], &lake.vars());
    assert_eq!(run.code, 0, "{run:?}");
    let parts = lake.keys("hunt");
    assert!(parts.len() >= 4, "the split window's parts: {parts:?}");
    // Then the same window answered whole: its files replace the parts, which are removed.
    let whole = TestEnv::new();
    whole.query("p.kql", query);
    let args = ["run", "queries", "--out", &url, "--timespan", window];
    let run = whole.hunt(&args, &lake.vars());
    assert_eq!(run.code, 0, "{run:?}");
    let stem = "20261120T230000Z_20261121T010000Z.parquet";
    let want = [format!("hunt/p/date=2026-11-20/{stem}"), format!("hunt/p/date=2026-11-21/{stem}")];
    assert_eq!(lake.keys("hunt"), want);
    let rows: usize = want.iter().flat_map(|k| lake.read(k).0).map(|b| b.num_rows()).sum::<usize>();
    let expected =
        expected_rows("DeviceProcessEvents", "2026-11-20T23:00:00Z", "2026-11-21T01:00:00Z", 360);
    assert_eq!(rows, expected.len());
    // Running it again replaces the objects: same names, no duplicates.
    let run = whole.hunt(&args, &lake.vars());
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(lake.keys("hunt"), want);
    let again: usize =
        want.iter().flat_map(|k| lake.read(k).0).map(|b| b.num_rows()).sum::<usize>();
    assert_eq!(again, expected.len());
}

/// A loopback TCP proxy in front of Azurite that counts (and can throttle, or cut once) the
/// bytes hunt sends.
struct Proxy {
    addr: SocketAddr,
    sent: Arc<AtomicU64>,
    cut: Arc<AtomicBool>,
}

impl Proxy {
    /// Forwards to `upstream`; hunt→Azurite at most `rate` bytes/s per connection (0: as fast
    /// as it comes); with `cut_at`, the connection that carries the total past that many bytes
    /// is dropped, once.
    fn start(upstream: SocketAddr, rate: u64, cut_at: Option<u64>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = Arc::new(AtomicU64::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let (counter, cut_done) = (Arc::clone(&sent), Arc::clone(&cut));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let (sent, cut_done) = (Arc::clone(&counter), Arc::clone(&cut_done));
                let (mut c_read, mut s_write) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_read, &mut c_write);
                    let _ = c_write.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    loop {
                        let n = match c_read.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                        if cut_at.is_some_and(|at| total >= at)
                            && !cut_done.swap(true, Ordering::SeqCst)
                        {
                            break; // dropped mid-request
                        }
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        if rate > 0 {
                            std::thread::sleep(Duration::from_secs_f64(n as f64 / rate as f64));
                        }
                    }
                    let _ = s_write.shutdown(std::net::Shutdown::Both);
                    let _ = c_read.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy { addr, sent, cut }
    }

    fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// The Azurite variables, pointed at this proxy.
    fn vars<'a>(&self, lake: &'a Lake) -> Vec<(&'a str, String)> {
        lake.env
            .iter()
            .map(|(k, v)| match *k {
                "AZURITE_BLOB_STORAGE_URL" => (*k, format!("http://{}", self.addr)),
                _ => (*k, v.clone()),
            })
            .collect()
    }
}

/// A service with enough rows for a Parquet file of several upload parts.
fn big_env() -> TestEnv {
    let env = TestEnv::with(EmulatorConfig { events_per_hour: 40_000, ..Default::default() });
    env.query("big.kql", "DeviceProcessEvents");
    env
}

const BIG_WINDOW: &str = "2026-11-20T01:00:00Z/2026-11-20T02:00:00Z";
const PART: u64 = 64 * 1024;

#[test]
fn a_run_killed_mid_upload_leaves_no_partial_object_and_a_rerun_lands_it_whole() {
    let lake = Lake::new("lake-kill");
    let env = big_env();
    // The file's size, from a local run of the same window.
    let local = env.hunt(&["run", "queries", "--out", "out", "--timespan", BIG_WINDOW], &[]);
    assert_eq!(local.code, 0, "{local:?}");
    let files = parquet_files(&env.out());
    assert_eq!(files.len(), 1);
    let size = std::fs::metadata(&files[0]).unwrap().len();
    assert!(size > 12 * PART, "a file of many parts: {size} bytes");

    // hunt uploads through a proxy at 512 kB/s a connection and is killed once half the file
    // has gone through (several parts sent, the upload not committed).
    let proxy = Proxy::start(lake.az.addr, 512 * 1024, None);
    let mut vars = proxy.vars(&lake);
    vars.push(("HUNT_UPLOAD_PART_SIZE", PART.to_string()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = lake.url("hunt");
    let args = ["run", "queries", "--out", &url, "--timespan", BIG_WINDOW];
    let mut child = env.spawn_with(&args, &vars);
    let deadline = Instant::now() + Duration::from_secs(120);
    while proxy.sent() < size / 2 {
        assert!(child.try_wait().unwrap().is_none(), "hunt finished before it was killed");
        assert!(Instant::now() < deadline, "the upload never got half way: {} bytes", proxy.sent());
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(proxy.sent() < size, "killed before the whole file went through");

    // Nothing visible under a final name: the parts sent are uncommitted blocks.
    assert_eq!(lake.keys("hunt"), Vec::<String>::new());
    let spool = env.path("state/spool");
    let temps =
        |d: &std::path::Path| std::fs::read_dir(d).map_or(0, |r| r.filter(|e| e.is_ok()).count());
    assert_eq!(temps(&spool), 1, "the killed run's spool file is still there");

    // Run again (directly): the file lands whole and the dead run's spool file is cleaned up.
    let run = env.hunt(&args, &lake.vars());
    assert_eq!(run.code, 0, "{run:?}");
    let keys = lake.keys("hunt");
    assert_eq!(keys, ["hunt/big/date=2026-11-20/20261120T010000Z_20261120T020000Z.parquet"]);
    let (batches, meta) = lake.read(&keys[0]);
    let (local_batches, _) = read_parquet(&files[0]);
    assert_eq!(batches, local_batches);
    assert_eq!(kv(&meta, "hunt.complete"), "true");
    assert_eq!(temps(&spool), 0, "spool files are removed");
}

#[test]
fn an_upload_cut_mid_way_is_retried_and_lands_whole() {
    let lake = Lake::new("lake-retry");
    let env = big_env();
    // The connection that carries the upload past 300 kB is dropped mid-request (once).
    let proxy = Proxy::start(lake.az.addr, 0, Some(300 * 1024));
    let mut vars = proxy.vars(&lake);
    vars.push(("HUNT_UPLOAD_PART_SIZE", PART.to_string()));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let url = lake.url("hunt");
    let run = env.hunt(&["run", "queries", "--out", &url, "--timespan", BIG_WINDOW], &vars);
    assert_eq!(run.code, 0, "{run:?}");
    let keys = lake.keys("hunt");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let (batches, meta) = lake.read(&keys[0]);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 40_000);
    assert_eq!(kv(&meta, "hunt.rows"), "40000");
    assert!(proxy.cut.load(Ordering::SeqCst), "a connection was cut mid-upload");
}

#[test]
fn the_schedule_daemon_and_hunt_toml_write_to_the_object_store() {
    let lake = Lake::new("lake-sched");
    let env = TestEnv::new();
    env.query("tick.kql", "// ---\n// schedule: \"*/2 * * * * *\"\n// lookback: 10s\n// ---\nDeviceProcessEvents | take 3\n");
    std::fs::write(env.path("hunt.toml"), format!("[output]\nout = \"{}\"\n", lake.url("daemon")))
        .unwrap();
    let mut daemon = env.spawn_with(&["schedule", "queries", "--grace", "5s"], &lake.vars());
    let deadline = Instant::now() + Duration::from_secs(60);
    while lake.keys("daemon").is_empty() {
        assert!(daemon.try_wait().unwrap().is_none(), "the daemon exited");
        assert!(Instant::now() < deadline, "nothing landed in {}", lake.url("daemon"));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(crate::util::sigterm(&mut daemon), 0);
    let tenant = hunt::query::slug(&hunt::emulator::TENANT_ID.to_ascii_lowercase());
    let state = hunt::schedule::state::StateStore::open_read_only(
        &env.path(&format!("state/schedule-{tenant}.sqlite")),
    )
    .unwrap();
    let runs = state.history(Some("tick"), usize::MAX).unwrap();
    let files: Vec<&String> = runs.iter().flat_map(|r| &r.files).collect();
    assert!(!files.is_empty(), "{runs:?}");
    let prefix = format!("{}/tick/date=", lake.url("daemon"));
    assert!(files.iter().all(|f| f.starts_with(&prefix)), "state records object URLs: {files:?}");
    for key in lake.keys("daemon") {
        assert!(key.starts_with("daemon/tick/date="), "{key}");
        assert_eq!(kv(&lake.read(&key).1, "hunt.query_id"), "tick");
    }
}

#[test]
fn bad_urls_and_plain_http_off_loopback_are_usage_errors() {
    let env = TestEnv::new();
    env.query("q.kql", "DeviceProcessEvents | take 1");
    for bad in ["ftp://host/x", "http://127.0.0.1:10000/c", "memory:///x", "az://c/p?sig=SECRET"] {
        let run = env.hunt(&["run", "queries", "--out", bad], &[]);
        assert_eq!(run.code, 2, "{bad}: {run:?}");
        assert!(!run.stderr.contains("SECRET"), "{run:?}");
        assert!(run.stderr.contains("--out"), "{run:?}");
    }
    let run = env.hunt(&["run", "queries", "--out", "ftp://host/x"], &[]);
    assert!(
        run.stderr.contains("az://CONTAINER/PREFIX") && run.stderr.contains("s3://"),
        "{run:?}"
    );
    let run = env.hunt(&["schedule", "queries", "--out", "hdfs://nn/x"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    // A storage endpoint over plain http off loopback is refused before anything is sent (the
    // address is TEST-NET-1: nothing listens there).
    let off = [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", "http://192.0.2.1:10000"),
    ];
    let run = env.hunt(&["run", "queries", "--out", "az://c/p"], &off);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("plain http") && run.stderr.contains("192.0.2.1"), "{run:?}");
    let s3 = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "SECRETEXAMPLEKEY"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT", "http://192.0.2.1:9000"),
        ("AWS_ALLOW_HTTP", "true"),
    ];
    let run = env.hunt(&["run", "queries", "--out", "s3://bucket/p"], &s3);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("AWS_ENDPOINT") && !run.stderr.contains("SECRETEXAMPLEKEY"),
        "{run:?}"
    );
    // A container that does not exist is reported before any query runs.
    let az = Azurite::get();
    let vars = az.env();
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = env.hunt(&["run", "queries", "--out", "az://no-such-container/p"], &vars);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("ContainerNotFound") && run.stderr.contains("nothing was run"),
        "{run:?}"
    );
    assert!(!run.stderr.contains(AZURITE_KEY), "{run:?}");
    assert!(env.emu.calls().is_empty(), "no query ran");
}
