#!/usr/bin/env bash
# Many tenants in one `hunt run` (issue 7):  bash bench/tenants.sh [TENANTS] [QUERIES]
#
# 1. cargo build --release; the binary is copied so another build cannot swap it mid-run;
# 2. a hunt.toml with TENANTS (default 50) [[tenant]] tables and QUERIES (default 4) query files,
#    each reading a whole table of the emulator over one day (8,640 rows at the emulator's
#    default 360 events an hour), or its first $BENCH_TAKE rows when set (small answers: the cost
#    per call rather than per row);
# 3. (a) `hunt run --emulator`: one process, the emulator registering every tenant and hunt
#        running them all side by side;
#    (b) `hunt emulator --tenants N` in its own process and `hunt run --config` against it, so
#        the figures are hunt's alone;
#    each under /usr/bin/time -v, best of $BENCH_RUNS (default 1) by wall time, with
#    [run] max_in_flight = $BENCH_IN_FLIGHT when set (answers landing at once; default 8);
# 4. every run checked: every tenant ok, every query landed, the expected rows; then the figures:
#    wall, queries/s, rows/s, peak RSS; and the emulator's own peak RSS in (b) (its VmHWM).
#
# BENCH_HUNT=PATH runs that hunt binary instead of the one built (e.g. main's, to compare).
# $TARGET is $CARGO_TARGET_DIR, else ./target. Needs bash, jq, /usr/bin/time and cargo. Not part
# of `cargo test`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
TENANTS=${1:-50}
QUERIES=${2:-4}
RUNS=${BENCH_RUNS:-1}
WORK=$TARGET/bench-tenants
WINDOW=2026-11-20T00:00:00Z/P1D
TABLES=(DeviceProcessEvents DeviceNetworkEvents DeviceLogonEvents AlertInfo EmailEvents IdentityLogonEvents)

say() { printf '== %s\n' "$*" >&2; }

say "cargo build --release"
cargo build --release --quiet --bin hunt
rm -rf "$WORK"
mkdir -p "$WORK/queries"
cp "${BENCH_HUNT:-$TARGET/release/hunt}" "$WORK/hunt"
HUNT=$WORK/hunt

# The query files: whole tables, round robin.
for ((i = 0; i < QUERIES; i++)); do
    table=${TABLES[i % ${#TABLES[@]}]}
    take=${BENCH_TAKE:+ | take $BENCH_TAKE}
    printf '// %s\n%s%s\n' "$table" "$table" "$take" >"$WORK/queries/q$((i + 1))-$table.kql"
done
# (a)'s hunt.toml: names are enough, --emulator makes up the credentials.
for ((t = 1; t <= TENANTS; t++)); do
    printf '[[tenant]]\nname = "tenant-%03d"\n\n' "$t"
done >"$WORK/names.toml"
# in_flight FILE: appends [run] max_in_flight when $BENCH_IN_FLIGHT is set.
in_flight() {
    if [[ -n ${BENCH_IN_FLIGHT:-} ]]; then
        printf '\n[run]\nmax_in_flight = %s\n' "$BENCH_IN_FLIGHT" >>"$1"
    fi
}
in_flight "$WORK/names.toml"

# measure LABEL ARGS...: runs hunt under /usr/bin/time -v in $WORK; prints the figures.
measure() {
    local label=$1
    shift
    local best_wall= best_line=
    for ((r = 1; r <= RUNS; r++)); do
        rm -rf "$WORK/out" "$WORK/state"
        (cd "$WORK" && HUNT_STATE_DIR="$WORK/state" /usr/bin/time -v "$HUNT" "$@" \
            --out out --timespan "$WINDOW" --json >"$WORK/summary.json" 2>"$WORK/time.txt")
        local wall rss queries rows ok files
        wall=$(jq '.totals.seconds' "$WORK/summary.json")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
        queries=$(jq '.queries | length' "$WORK/summary.json")
        rows=$(jq '.totals.rows' "$WORK/summary.json")
        files=$(jq '.totals.files' "$WORK/summary.json")
        ok=$(jq '[.tenants[] | select(.status == "ok")] | length' "$WORK/summary.json")
        if [[ $ok != "$TENANTS" || $queries != $((TENANTS * QUERIES)) ]]; then
            say "$label: only $ok of $TENANTS tenants ok, $queries queries"
            jq -c '.tenants[] | select(.status != "ok")' "$WORK/summary.json" | head -5 >&2
            exit 1
        fi
        local line
        line=$(awk -v l="$label" -v w="$wall" -v q="$queries" -v r="$rows" -v f="$files" \
            -v m="$rss" -v t="$TENANTS" 'BEGIN {
                printf "%-44s %4d tenants %5d queries %9d rows %5d files  wall %6.2f s  %7.1f queries/s  %9.0f rows/s  peak RSS %6.1f MB\n",
                    l, t, q, r, f, w, q / w, r / w, m / 1024 }')
        if [[ -z $best_wall ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
            best_wall=$wall
            best_line=$line
        fi
    done
    echo "$best_line"
}

say "(a) hunt run --emulator: $TENANTS tenants x $QUERIES queries, one process"
A=$(measure "hunt run --emulator (emulator in-process)" --config names.toml run queries --emulator)

say "(b) hunt emulator --tenants $TENANTS in its own process; hunt run --config against it"
"$HUNT" emulator --port 0 --tenants "$TENANTS" --hunt-toml "$WORK/emulator.toml" >"$WORK/emulator.log" 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s $WORK/emulator.toml ]] && break; sleep 0.1; done
in_flight "$WORK/emulator.toml"
B=$(measure "hunt run --config (emulator in its own process)" --config emulator.toml run queries)
# The emulator's own figure: its peak RSS over (b) (VmHWM), and what it holds idle afterwards.
EMU_PEAK=$(awk '/^VmHWM:/ {print $2}' "/proc/$EMU/status")
EMU_NOW=$(awk '/^VmRSS:/ {print $2}' "/proc/$EMU/status")
C=$(awk -v p="$EMU_PEAK" -v n="$EMU_NOW" -v t="$TENANTS" 'BEGIN {
    printf "%-44s %4d tenants  peak RSS %6.1f MB (%5.2f MB a tenant), %6.1f MB after the run\n",
        "hunt emulator --tenants (its own process)", t, p / 1024, p / 1024 / t, n / 1024 }')
kill $EMU 2>/dev/null || true

echo
echo "$A"
echo "$B"
echo "$C"
echo "($(nproc) cores, $(date -u +%F), max_in_flight ${BENCH_IN_FLIGHT:-8}; each query reads ${BENCH_TAKE:-all} rows of one table over $WINDOW)"
