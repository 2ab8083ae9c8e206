#!/usr/bin/env bash
# Installs the real components the lake tests talk to, from the public registries, under
# target/test-tools/ (nothing global):
#   - Azurite, the Azure Storage emulator (npm), for object-store output;
#   - a Python venv with DuckDB, pyarrow and deltalake (delta-rs) (PyPI), the engines that read
#     hunt's Hive-partitioned Parquet and Delta tables back.
# Idempotent: a second run checks versions and returns in a second or two.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=target/test-tools
mkdir -p "$dir"

AZURITE=3.37.0
PY_PKGS=(duckdb==1.5.6 pyarrow==26.0.1 deltalake==1.6.6)

if [ "$(cat "$dir/azurite.version" 2>/dev/null)" != "$AZURITE" ]; then
  echo "installing azurite $AZURITE (npm)"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save "azurite@$AZURITE" >/dev/null)
  echo "$AZURITE" > "$dir/azurite.version"
fi
test -x "$dir/node_modules/.bin/azurite-blob"

if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
fi
if [ "$(cat "$dir/venv.version" 2>/dev/null)" != "${PY_PKGS[*]}" ]; then
  echo "installing ${PY_PKGS[*]} (PyPI)"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "${PY_PKGS[@]}"
  echo "${PY_PKGS[*]}" > "$dir/venv.version"
fi
"$dir/venv/bin/python" -c 'import duckdb, pyarrow, deltalake; print("readers: duckdb", duckdb.__version__, "pyarrow", pyarrow.__version__, "deltalake", deltalake.__version__)'
