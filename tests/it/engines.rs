//! The engines most lakes run on read hunt's output with no option: Apache Spark (pyspark on
//! OpenJDK 17) reads the Parquet folder, its `timestamp` column, `date` partitions (pruned) and,
//! with `mergeSchema`, windows whose columns drifted; Polars reads the Parquet and the Delta
//! table and uses a Dynamic column as text. Values are compared with the emulator's rows
//! (IdentityLogonEvents, whose AdditionalFields is Dynamic).

use crate::run::expected_rows;
use crate::tools::run_python;
use crate::util::{TestEnv, ticks};
use hunt::emulator::data::{self, Cell};

const START: &str = "2026-11-20T22:00:00Z";
const END: &str = "2026-11-21T02:00:00Z";
const WINDOW: &str = "2026-11-20T22:00:00Z/2026-11-21T02:00:00Z";

const TABLE: &str = "IdentityLogonEvents";

/// What the emulator holds for IdentityLogonEvents in the window, keyed by ReportId: the
/// Timestamp in microseconds since the epoch (the 100 ns digit floored) and AdditionalFields as
/// JSON.
fn expected() -> std::collections::BTreeMap<String, (i64, serde_json::Value)> {
    let def = data::tables().iter().find(|t| t.name == TABLE).unwrap();
    let col = |name: &str| def.columns.iter().position(|(n, _)| *n == name).unwrap();
    let (rid, extra) = (col("ReportId"), col("AdditionalFields"));
    expected_rows(TABLE, START, END, 360)
        .into_iter()
        .map(|row| {
            let (Cell::Time(t), Cell::Str(r), Cell::Dyn(json)) = (&row[0], &row[rid], &row[extra])
            else {
                panic!("{row:?}")
            };
            (r.clone(), ((t * 100).div_euclid(1_000), json.clone()))
        })
        .collect()
}

/// Rows whose AdditionalFields text holds `needle`.
fn expected_containing(needle: &str) -> usize {
    expected().values().filter(|(_, j)| j.to_string().contains(needle)).count()
}

/// Reads what a reader printed as `{"rows": [[ReportId, micros, AdditionalFields text], …]}`
/// and compares it, value for value, with the emulator's rows.
fn assert_rows(reader: &str, v: &serde_json::Value) {
    let want = expected();
    let rows = v["rows"].as_array().unwrap_or_else(|| panic!("{reader}: {v}"));
    assert_eq!(rows.len(), want.len(), "{reader}: row count");
    for row in rows {
        let rid = row[0].as_str().unwrap();
        let (micros, json) = &want[rid];
        assert_eq!(row[1].as_i64(), Some(*micros), "{reader}: Timestamp of ReportId {rid}");
        let text = row[2].as_str().unwrap_or_else(|| panic!("{reader}: not text: {row}"));
        let got: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(&got, json, "{reader}: AdditionalFields of ReportId {rid}");
    }
}

const SPARK_READ: &str = r#"
import sys, json
from pyspark.sql import SparkSession, functions as F
root = sys.argv[1]
spark = (SparkSession.builder.master("local[1]").appName("hunt-test")
         .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
out = {}
# No option at all: Spark infers the schema and the `date` partitions.
df = spark.read.parquet(f"{root}/logons")
out["types"] = {f.name: f.dataType.simpleString() for f in df.schema.fields}
rows = df.select("ReportId", F.unix_micros("Timestamp"), "AdditionalFields").collect()
out["rows"] = [[r[0], r[1], r[2]] for r in rows]
late = df.filter(F.col("date") == F.lit("2026-11-21").cast("date"))
out["late_rows"] = late.count()
plan = late._jdf.queryExecution().executedPlan().toString()
out["pruned"] = "PartitionFilters: [isnotnull(date" in plan
# Dynamic text is usable with Spark's JSON functions.
out["json_count"] = df.where(F.get_json_object("AdditionalFields", "$.Count").isNotNull()).count()
# Drift: the second window has one more column; mergeSchema unions them.
d = spark.read.option("mergeSchema", "true").parquet(f"{root}/drift")
out["drift"] = {"rows": d.count(), "nulls": d.where("FileName is null").count(), "columns": d.columns}
print(json.dumps(out))
"#;

#[test]
fn spark_reads_the_parquet_with_no_option_timestamps_partitions_and_drift() {
    let env = TestEnv::new();
    env.query("logons.kql", TABLE);
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    // A query whose second window has one more column.
    let q = env.query("drift.kql", "DeviceProcessEvents | project Timestamp, DeviceId, ReportId");
    std::fs::remove_file(env.path("queries/logons.kql")).unwrap();
    let first = "2026-11-20T00:00:00Z/2026-11-20T02:00:00Z";
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", first], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    std::fs::write(&q, "DeviceProcessEvents | project Timestamp, DeviceId, ReportId, FileName")
        .unwrap();
    let second = "2026-11-20T02:00:00Z/2026-11-20T03:00:00Z";
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", second], &[]);
    assert_eq!(run.code, 0, "{run:?}");

    let report = run_python(SPARK_READ, &[&env.out().display().to_string()], &[]);
    let v: serde_json::Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
    let types = &v["types"];
    assert_eq!(types["Timestamp"], "timestamp", "{types}");
    assert_eq!(types["date"], "date", "{types}");
    assert_eq!(types["Port"], "int", "{types}"); // Int32 in the service's schema
    assert_eq!(types["AdditionalFields"], "string", "{types}");
    assert_rows("spark", &v);
    let midnight = ticks("2026-11-21T00:00:00Z");
    let late = expected_rows(TABLE, START, END, 360)
        .iter()
        .filter(|r| matches!(r[0], Cell::Time(t) if t >= midnight))
        .count();
    assert_eq!(v["late_rows"], late, "{v}");
    assert_eq!(v["pruned"], true, "the date filter prunes partitions: {v}");
    let with_count = expected().values().filter(|(_, j)| j.get("Count").is_some()).count();
    assert!(with_count > 0);
    assert_eq!(v["json_count"], with_count, "get_json_object on the Dynamic column: {v}");
    let old =
        expected_rows("DeviceProcessEvents", "2026-11-20T00:00:00Z", "2026-11-20T02:00:00Z", 360);
    let new =
        expected_rows("DeviceProcessEvents", "2026-11-20T02:00:00Z", "2026-11-20T03:00:00Z", 360);
    assert_eq!(v["drift"]["rows"], old.len() + new.len(), "{v}");
    assert_eq!(v["drift"]["nulls"], old.len(), "{v}");
    let cols = v["drift"]["columns"].as_array().unwrap();
    for c in ["Timestamp", "DeviceId", "ReportId", "FileName", "date"] {
        assert!(cols.iter().any(|x| x == c), "{c} missing from {cols:?}");
    }
}

const POLARS_READ: &str = r#"
import sys, json, polars as pl
parquet, delta = sys.argv[1], sys.argv[2]
out = {}
def rows(df):
    df = df.sort("ReportId")
    micros = df["Timestamp"].dt.epoch("us").to_list()
    return [[r, t, a] for r, t, a in zip(df["ReportId"].to_list(), micros, df["AdditionalFields"].to_list())]
p = pl.scan_parquet(f"{parquet}/logons/**/*.parquet", hive_partitioning=True).collect()
out["parquet"] = {"rows": rows(p), "types": {k: str(v) for k, v in p.schema.items()},
                  "contains": p.filter(pl.col("AdditionalFields").str.contains("Kerberos", literal=True)).height,
                  "dates": sorted(str(x) for x in p["date"].unique().to_list())}
d = pl.read_delta(f"{delta}/logons")
out["delta"] = {"rows": rows(d), "types": {k: str(v) for k, v in d.schema.items()},
                "contains": d.filter(pl.col("AdditionalFields").str.contains("Kerberos", literal=True)).height}
print(json.dumps(out))
"#;

#[test]
fn polars_reads_the_parquet_and_the_delta_table_and_uses_dynamic_as_text() {
    let env = TestEnv::new();
    env.query("logons.kql", TABLE);
    let run = env.hunt(&["run", "queries", "--out", "out", "--timespan", WINDOW], &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let args = ["run", "queries", "--out", "delta", "--format", "delta", "--timespan", WINDOW];
    let run = env.hunt(&args, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let report = run_python(
        POLARS_READ,
        &[&env.out().display().to_string(), &env.path("delta").display().to_string()],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    let kerberos = expected_containing("Kerberos");
    assert!(kerberos > 0);
    for reader in ["parquet", "delta"] {
        let r = &v[reader];
        assert_rows(&format!("polars {reader}"), r);
        assert_eq!(r["types"]["Timestamp"], "Datetime(time_unit='us', time_zone='UTC')", "{r}");
        assert_eq!(r["types"]["AdditionalFields"], "String", "{r}");
        assert_eq!(r["contains"], kerberos, "polars {reader}: str.contains on Dynamic");
    }
    assert_eq!(v["parquet"]["dates"], serde_json::json!(["2026-11-20", "2026-11-21"]), "{v}");
}
