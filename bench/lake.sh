#!/usr/bin/env bash
# Output to an object store against local disk (issue 7), in one command:  bash bench/lake.sh
#
# `hunt run` of bench/run.sh's ~124 MB response (99,999 rows), served by
# `hunt emulator --serve-file`, landing (a) in a local folder and (b) in Azurite over loopback
# (`--out az://bench/...`, a multipart upload of the ~20 MB Parquet file in 8 MiB parts), each
# under /usr/bin/time -v, best wall time and highest peak RSS of $BENCH_RUNS (default 3). The
# object is read back from Azurite with pyarrow to check its rows.
#
# Needs what bench/run.sh needs, plus Azurite and the readers' venv from tests/tools/setup.sh
# (installed here if missing). $TARGET is $CARGO_TARGET_DIR, else ./target. Not part of
# `cargo test`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
BENCH=$TARGET/bench
RUNS=${BENCH_RUNS:-3}
ROWS=99999
TOOLS=$ROOT/target/test-tools
mkdir -p "$BENCH"

say() { printf '== %s\n' "$*" >&2; }

bash tests/tools/setup.sh >&2
PY=$TOOLS/venv/bin/python

say "cargo build --release"
cargo build --release --quiet --bin hunt
cp "$TARGET/release/hunt" "$BENCH/.copy" && mv -f "$BENCH/.copy" "$BENCH/hunt-lake"
HUNT=$BENCH/hunt-lake

RESP=$BENCH/response.json
if [[ ! -s $RESP || bench/gen_response.py -nt $RESP ]]; then
    say "generating $RESP"
    python3 bench/gen_response.py "$RESP.tmp" --rows "$ROWS" --seed 6
    mv "$RESP.tmp" "$RESP"
fi

WORK=$(mktemp -d "$BENCH/lake.XXXXXX")
EMU_PID= AZ_PID=
cleanup() {
    [[ -n $EMU_PID ]] && { kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; }
    # Azurite ignores SIGTERM, and a background job ignores SIGINT; its storage is in memory.
    [[ -n $AZ_PID ]] && { kill -KILL "$AZ_PID" 2>/dev/null || true; wait "$AZ_PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT

# Azurite on a free loopback port.
port=10100
while (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
"$TOOLS/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
    --inMemoryPersistence --silent --skipApiVersionCheck --loose &
AZ_PID=$!
for _ in $(seq 1 120); do (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.5; done
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZFS="import pyarrow.fs as f
fs = f.AzureFileSystem(account_name='devstoreaccount1', account_key='$KEY',
    blob_storage_authority='127.0.0.1:$port', dfs_storage_authority='127.0.0.1:$port',
    blob_storage_scheme='http', dfs_storage_scheme='http')"
"$PY" -c "$AZFS
fs.create_dir('bench')"
say "Azurite on 127.0.0.1:$port (pid $AZ_PID)"

# The emulator serving the response.
"$HUNT" emulator --port 0 --serve-file "$RESP" >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
EMU_PID=$!
for _ in $(seq 1 100); do
    grep -q '^  export HUNT_GRAPH_URL=' "$WORK/emulator.out" 2>/dev/null && break
    kill -0 "$EMU_PID" 2>/dev/null || { cat "$WORK/emulator.err" >&2; exit 1; }
    sleep 0.1
done
while read -r _ kv; do export "${kv?}"; done < <(grep '^  export ' "$WORK/emulator.out")
export HUNT_STATE_DIR=$WORK/state AZURE_STORAGE_USE_EMULATOR=true \
    AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:$port

mkdir -p "$WORK/queries"
printf '%s\n' '// The emulator answers every query with the canned response.' \
    'DeviceProcessEvents' >"$WORK/queries/bench.kql"

# run NAME OUT i
run() {
    (cd "$WORK" && /usr/bin/time -v -o "$WORK/$1.time.$3" "$HUNT" run queries/bench.kql \
        --out "$2" --timespan P1D >"$WORK/$1.log.$3" 2>&1) || { cat "$WORK/$1.log.$3" >&2; exit 1; }
}
for i in $(seq 1 "$RUNS"); do
    say "run $i/$RUNS: local disk"
    rm -rf "$WORK/out"
    run local "$WORK/out" "$i"
    say "run $i/$RUNS: Azurite"
    run azurite "az://bench/run$i" "$i"
done

"$PY" - "$WORK" "$RUNS" "$RESP" <<PY
import glob, os, re, sys
import pyarrow.parquet as pq
$AZFS
work, runs, resp = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def timing(path):
    text = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    wall = sum(float(p) * 60 ** i for i, p in enumerate(reversed(m.group(1).split(":"))))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024
    return wall, rss

size = os.path.getsize(resp)
print(f"\nresponse: {size / 1e6:.1f} MB, {int($ROWS):,} rows; wall = best of {runs}, RSS = max of {runs}")
print(f"{'':<22}{'wall s':>8}{'peak RSS MB':>13}{'RSS/response':>14}   all runs (s)")
for name, label in [("local", "hunt run → local disk"), ("azurite", "hunt run → Azurite")]:
    t = [timing(os.path.join(work, f"{name}.time.{i}")) for i in range(1, runs + 1)]
    wall, rss = min(w for w, _ in t), max(r for _, r in t)
    print(f"{label:<22}{wall:>8.2f}{rss / 1e6:>13.0f}{rss / size:>14.2f}   {' '.join(f'{w:.2f}' for w, _ in t)}")
local = glob.glob(os.path.join(work, "out", "**", "*.parquet"), recursive=True)
objs = [i for i in fs.get_file_info(f.FileSelector("bench/run1", recursive=True)) if i.type == f.FileType.File]
rows = sum(pq.ParquetFile(fs.open_input_file(o.path)).metadata.num_rows for o in objs)
lrows = sum(pq.ParquetFile(p).metadata.num_rows for p in local)
print(f"local: {len(local)} file(s), {sum(map(os.path.getsize, local)) / 1e6:.1f} MB, {lrows:,} rows; "
      f"Azurite: {len(objs)} object(s), {sum(o.size for o in objs) / 1e6:.1f} MB, {rows:,} rows")
sys.exit(0 if rows == lrows == $ROWS else 1)
PY
