#!/usr/bin/env bash
# The benchmark of issue 6, in one command:  bash bench/run.sh
#
# 1. a Python venv with pyarrow under $TARGET/bench-venv (created once);
# 2. cargo build --release (hunt and the decode_bench example);
# 3. the ~120 MB response, generated once from a seed into $TARGET/bench/response.json;
# 4. `hunt emulator --port 0 --serve-file` serving it; `hunt run` against it, end to end (process
#    start, sign-in, HTTP, decode, Parquet), and the pyarrow baseline on the same file, each under
#    /usr/bin/time -v, best of $BENCH_RUNS (default 3); `hunt run` also against two controls (the
#    same bytes without rows, and a tiny body) to split its time;
# 5. both outputs checked for 99,999 rows; the micro figures (decode alone, write alone, raw parse).
#
# BENCH_HUNT=PATH times that hunt binary instead of the one built (e.g. main's, to compare).
# $TARGET is $CARGO_TARGET_DIR, else ./target. Needs bash, python3 (with venv), /usr/bin/time,
# cargo and network access to PyPI the first time. Not part of `cargo test`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
BENCH=$TARGET/bench
VENV=$TARGET/bench-venv
RUNS=${BENCH_RUNS:-3}
ROWS=99999
mkdir -p "$BENCH"

say() { printf '== %s\n' "$*" >&2; }

# 1. pyarrow
if ! "$VENV/bin/python" -c 'import pyarrow' 2>/dev/null; then
    say "creating $VENV with pyarrow"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check pyarrow
fi
PY=$VENV/bin/python

# 2. build; the binary is copied so that another build into a shared target folder cannot swap
# it mid-run.
say "cargo build --release"
cargo build --release --quiet --bin hunt --example decode_bench
for bin in release/hunt release/examples/decode_bench; do
    cp "$TARGET/$bin" "$BENCH/.copy" && mv -f "$BENCH/.copy" "$BENCH/$(basename "$bin")"
done
# BENCH_HUNT=PATH times another hunt binary instead (an older build, for a comparison).
HUNT=${BENCH_HUNT:-$BENCH/hunt}

# 3. the response (regenerated only when the generator changes)
RESP=$BENCH/response.json
if [[ ! -s $RESP || bench/gen_response.py -nt $RESP ]]; then
    say "generating $RESP"
    python3 bench/gen_response.py "$RESP.tmp" --rows "$ROWS" --seed 6
    mv "$RESP.tmp" "$RESP"
fi
RESP_BYTES=$(stat -c %s "$RESP")
# The same response with `results` before `schema`, as some real answers have it (hunt spools the
# rows until the schema arrives).
RESP_RF=$BENCH/response-results-first.json
if [[ ! -s $RESP_RF || $RESP -nt $RESP_RF ]]; then
    python3 - "$RESP" "$RESP_RF" <<'PY'
import sys
body = open(sys.argv[1], "rb").read()
at = body.index(b',"results":[')
head, results = body[:at], body[at + 1 : body.rindex(b"}")]
assert head.startswith(b"{") and b'"schema":' in head
open(sys.argv[2], "wb").write(b"{" + results + b"," + head[1:] + b"}")
PY
fi

# Two controls for where hunt's time goes: a body of the same size whose rows are moved into one
# ignored string (process start, sign-in, HTTP, buffering, envelope parse; no decode, no write),
# and a tiny body (process start and sign-in only).
if [[ ! -s $BENCH/norows.json || $RESP -nt $BENCH/norows.json ]]; then
    python3 - "$RESP" "$BENCH" <<'PY'
import sys
body = open(sys.argv[1], "rb").read()
head = body[: body.index(b'"results":[')]
pad = len(body) - len(head) - len(b'"results":[],"pad":""}')
open(sys.argv[2] + "/norows.json", "wb").write(head + b'"results":[],"pad":"' + b"x" * pad + b'"}')
open(sys.argv[2] + "/tiny.json", "wb").write(head + b'"results":[]}')
PY
fi

# 4. the emulator, serving a file
WORK=$(mktemp -d "$BENCH/run.XXXXXX")
EMU_PID=
stop_emulator() {
    if [[ -n $EMU_PID ]]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
    EMU_PID=
}
cleanup() { stop_emulator; rm -rf "$WORK"; }
trap cleanup EXIT
serve() {
    stop_emulator
    "$HUNT" emulator --port 0 --serve-file "$1" >"$WORK/emulator.out" 2>"$WORK/emulator.err" &
    EMU_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^  export HUNT_GRAPH_URL=' "$WORK/emulator.out" 2>/dev/null && break
        kill -0 "$EMU_PID" 2>/dev/null || { cat "$WORK/emulator.err" >&2; exit 1; }
        sleep 0.1
    done
    grep -q '^  export HUNT_GRAPH_URL=' "$WORK/emulator.out" || { say "the emulator did not start"; exit 1; }
    say "$(head -n 2 "$WORK/emulator.out" | tr '\n' ' ')"
    # The printed `export K=V` lines, applied to this shell (AZURE_* and HUNT_GRAPH_URL).
    while read -r _ kv; do export "${kv?}"; done < <(grep '^  export ' "$WORK/emulator.out")
}
export HUNT_STATE_DIR=$WORK/state
# hunt run NAME.i: the query against the emulator, timed, in $WORK/NAME.time.i
hunt_run() {
    rm -rf "$WORK/hunt-out"
    (cd "$WORK" && /usr/bin/time -v -o "$WORK/$1.time.$2" "$HUNT" run queries/bench.kql \
        --out "$WORK/hunt-out" --timespan P1D >"$WORK/$1.log.$2" 2>&1) ||
        { cat "$WORK/$1.log.$2" >&2; exit 1; }
}

mkdir -p "$WORK/queries"
cat >"$WORK/queries/bench.kql" <<'KQL'
// The emulator answers every query with the canned response; the text is for the record.
DeviceProcessEvents
| project Timestamp, DeviceId, DeviceName, ActionType, FileName, SHA1, FileSize, ProcessId,
    ProcessCommandLine, ProcessCreationTime, AccountName, InitiatingProcessFileName,
    InitiatingProcessId, InitiatingProcessCommandLine, ReportId, IsInitiatingProcessRemoteSession,
    AdditionalFields
KQL

for control in tiny norows; do
    serve "$BENCH/$control.json"
    for i in $(seq 1 "$RUNS"); do hunt_run "$control" "$i"; done
done
serve "$RESP"
for i in $(seq 1 "$RUNS"); do
    say "run $i/$RUNS: hunt run"
    hunt_run hunt "$i"
    say "run $i/$RUNS: pyarrow baseline"
    rm -f "$WORK/pyarrow.parquet"
    /usr/bin/time -v -o "$WORK/py.time.$i" "$PY" bench/pyarrow_baseline.py "$RESP" \
        "$WORK/pyarrow.parquet" 2>"$WORK/py.log.$i"
done
serve "$RESP_RF"
for i in $(seq 1 "$RUNS"); do
    say "run $i/$RUNS: hunt run, results before schema"
    hunt_run hunt-rf "$i"
done
stop_emulator

# 5. report
"$PY" - "$WORK" "$RUNS" "$RESP_BYTES" "$ROWS" <<'PY'
import glob, os, re, sys
import pyarrow.parquet as pq

work, runs, resp, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def timing(path):
    text = open(path).read()
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text)
    parts = [float(p) for p in m.group(1).split(":")]
    wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) * 1024
    return wall, rss

def best(prefix):
    runs_ = [timing(os.path.join(work, f"{prefix}.time.{i}")) for i in range(1, runs + 1)]
    return min(w for w, _ in runs_), max(r for _, r in runs_), [w for w, _ in runs_]

hw, hr, hall = best("hunt")
fw, fr, fall = best("hunt-rf")
pw, pr, pall = best("py")
hunt_files = glob.glob(os.path.join(work, "hunt-out", "**", "*.parquet"), recursive=True)
hunt_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in hunt_files)
py_rows = pq.ParquetFile(os.path.join(work, "pyarrow.parquet")).metadata.num_rows
mb = lambda b: b / 1e6
tw, tr, _ = best("tiny")
nw, nr, _ = best("norows")
ratio = hw / pw
print()
print(f"response: {mb(resp):.1f} MB ({resp:,} bytes), {want:,} rows; wall = best of {runs}, RSS = max of {runs}")
print(f"{'':<18}{'wall s':>8}{'peak RSS MB':>13}{'RSS/response':>14}   all runs (s)")
print(f"{'hunt run':<18}{hw:>8.2f}{mb(hr):>13.0f}{hr / resp:>14.2f}   {' '.join(f'{w:.2f}' for w in hall)}")
print(f"{'hunt, results 1st':<18}{fw:>8.2f}{mb(fr):>13.0f}{fr / resp:>14.2f}   {' '.join(f'{w:.2f}' for w in fall)}")
print(f"{'pyarrow baseline':<18}{pw:>8.2f}{mb(pr):>13.0f}{pr / resp:>14.2f}   {' '.join(f'{w:.2f}' for w in pall)}")
print(f"{'  control: no rows':<18}{nw:>8.2f}{mb(nr):>13.0f}{nr / resp:>14.2f}   same-size body, rows in one ignored string: start, sign-in, HTTP, envelope")
print(f"{'  control: tiny':<18}{tw:>8.2f}{mb(tr):>13.0f}{'':>14}   {os.path.getsize(os.path.join(os.path.dirname(work), 'tiny.json'))}-byte body: process start and sign-in")
print(f"ratio hunt/pyarrow: {ratio:.2f} (wall), {hr / pr:.2f} (RSS); results first: {fw / pw:.2f} (wall), {fr / pr:.2f} (RSS)")
for name, w, r in [("schema first", hw, hr), ("results first", fw, fr)]:
    print(f"goal ({name}): wall <= 0.10 x pyarrow, hunt RSS <= 0.5 x response ({mb(0.5 * resp):.0f} MB): "
          f"wall {'MET' if w / pw <= 0.10 else 'NOT MET'} ({w / pw:.2f}), memory {'MET' if r <= 0.5 * resp else 'NOT MET'} ({r / resp:.2f})")
ok = hunt_rows == want and py_rows == want
print(f"rows: hunt {hunt_rows:,} in {len(hunt_files)} file(s), pyarrow {py_rows:,}: "
      f"{'both have all ' + format(want, ',') + ' rows' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
PY
echo
sed -n 's/^/  /p' "$WORK/py.log.1"
"$BENCH/decode_bench" "$RESP"
