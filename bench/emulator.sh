#!/usr/bin/env bash
# The emulator over the query corpus (issue 15):  bash bench/emulator.sh [PATHS…]
#
# 1. cargo build --release; the binary is copied so another build cannot swap it mid-run;
# 2. `hunt run tests/fixtures/corpus --emulator --timespan P1D` (or the PATHS given), output to a
#    scratch folder, under /usr/bin/time when present;
# 3. prints each query's time as hunt reports it, then the figures: queries run and refused, the
#    average and the slowest query's time (less any wait for the call budget, 45 a minute, which
#    the emulator enforces as the service does), and the run's wall time.
#
# The emulator refuses (400) what it cannot evaluate, so some queries fail by design: their time
# is still counted. A hunt.toml in the current folder is not read (the run uses --config with a
# file of its own, which maps the corpus's externaldata URLs to the local stand-ins the corpus
# test uses). $TARGET is $CARGO_TARGET_DIR, else ./target. Needs bash, awk and cargo. Not part
# of `cargo test`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case $TARGET in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac
WORK=$TARGET/bench-emulator
PATHS=("$@")
[ ${#PATHS[@]} -gt 0 ] || PATHS=(tests/fixtures/corpus)

say() { printf '== %s\n' "$*" >&2; }

say "cargo build --release"
cargo build --release --quiet --bin hunt
rm -rf "$WORK"
mkdir -p "$WORK/out"
cp "$TARGET/release/hunt" "$WORK/hunt"
# The corpus's externaldata URLs answered from the same local stand-ins as the corpus test.
FIX=$ROOT/tests/fixtures/externaldata
cat > "$WORK/hunt.toml" <<TOML
[emulator.externaldata]
"https://raw.githubusercontent.com/alexverboon/MDATP/master/AdvancedHunting/Exchange/exchnage_versions.csv" = "$FIX/exchange_versions.csv"
"https://raw.githubusercontent.com/stamparm/ipsum/master/levels/4.txt" = "$FIX/ipsum_level4.txt"
"https://bazaar.abuse.ch/export/txt/sha256/recent/" = "$FIX/bazaar_sha256_recent.txt"
"https://www.cisa.gov/sites/default/files/csv/known_exploited_vulnerabilities.csv" = "$FIX/known_exploited_vulnerabilities.csv"
"https://raw.githubusercontent.com/openphish/public_feed/refs/heads/main/feed.txt" = "$FIX/openphish_feed.txt"
TOML

say "hunt run ${PATHS[*]} --emulator --timespan P1D"
start=$(date +%s.%N)
# Exit status 1 (some queries refused) is expected; anything else is not.
set +e
HUNT_STATE_DIR="$WORK/state" "$WORK/hunt" run "${PATHS[@]}" --emulator --timespan P1D \
    --config "$WORK/hunt.toml" --out "$WORK/out" > "$WORK/table.txt" 2> "$WORK/stderr.txt"
status=$?
set -e
end=$(date +%s.%N)
if [ "$status" -gt 1 ]; then
    cat "$WORK/stderr.txt" >&2
    say "hunt run exited with $status"
    exit 1
fi
cat "$WORK/table.txt"
# The table: QUERY ROWS FILES TIME STATUS, TIME as 0.8s or 120ms.
awk -v wall="$(echo "$end - $start" | bc)" '
    $1 == "QUERY" { body = 1; next }
    body && NF >= 5 && ($4 ~ /^[0-9.]+(ms|s)$/) {
        t = $4; secs = (t ~ /ms$/) ? substr(t, 1, length(t) - 2) / 1000 : substr(t, 1, length(t) - 1)
        # Time spent waiting for the call budget (45 a minute, which the emulator
        # enforces too) is not evaluation: "ok, waited 52s for quota".
        if (match($0, /waited [0-9.]+s for quota/)) {
            w = substr($0, RSTART + 7, RLENGTH - 7); sub(/s for quota/, "", w)
            secs -= w; waited += w
            if (secs < 0) secs = 0
        }
        n++; sum += secs
        if ($5 == "ok" || $5 == "ok,") ok++
        if (secs > max) { max = secs; slowest = $1 }
    }
    END {
        if (n == 0) { print "no query times found" > "/dev/stderr"; exit 1 }
        printf "emulator bench: %d queries (%d ok, %d refused or failed) in %.2fs wall; ", n, ok, n - ok, wall
        printf "per query %.3fs on average, slowest %.3fs (%s); %.0fs waiting for quota not counted\n", sum / n, max, slowest, waited
    }' "$WORK/table.txt"
