#!/usr/bin/env python3
"""The careful Python user of issue 6: a saved `runHuntingQuery` body to zstd Parquet.

    python bench/pyarrow_baseline.py RESPONSE.json OUT.parquet

`json.load` the whole body, then one pyarrow array per column typed from the response's own
`schema` (DateTime as timestamp[ns, UTC], Int64/Int32 as integers, Boolean as bool, Double as
float64, Dynamic/Object as JSON text, everything else as string), one zstd Parquet file. Prints
the row count and the time spent in each phase on stderr.
"""

import json
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc  # noqa: F401  (imported as a real user would; cast is used below)
import pyarrow.parquet as pq

SIMPLE = {
    "Int64": pa.int64(),
    "Int32": pa.int32(),
    "Double": pa.float64(),
    "Boolean": pa.bool_(),
    "String": pa.string(),
    "Guid": pa.string(),
}
TIMESTAMP = pa.timestamp("ns", tz="UTC")


def column(values, service_type):
    if service_type == "DateTime":
        # ISO 8601 with up to 7 fractional digits and Z: Arrow's string cast parses it.
        return pa.array(values, pa.string()).cast(TIMESTAMP)
    if service_type in ("Dynamic", "Object"):
        return pa.array(
            [None if v is None else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values],
            pa.string(),
        )
    return pa.array(values, SIMPLE.get(service_type, pa.string()))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    t0 = time.perf_counter()
    with open(src, "rb") as f:
        body = json.load(f)
    t1 = time.perf_counter()
    schema = body.get("schema") or body.get("Schema")
    rows = body.get("results") or body.get("Results") or []
    names, arrays = [], []
    for col in schema:
        name = col.get("name") or col.get("Name")
        ty = col.get("type") or col.get("Type")
        names.append(name)
        arrays.append(column([r.get(name) for r in rows], ty))
    table = pa.Table.from_arrays(arrays, names=names)
    t2 = time.perf_counter()
    pq.write_table(table, dst, compression="zstd")
    t3 = time.perf_counter()
    print(
        f"pyarrow baseline: {table.num_rows} rows; json.load {t1 - t0:.2f}s, "
        f"arrow {t2 - t1:.2f}s, parquet {t3 - t2:.2f}s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
