#!/usr/bin/env bash
# Installs the real components the lake tests talk to, from the public registries, under
# target/test-tools/ (nothing global):
#   - Azurite, the Azure Storage emulator (npm), for object-store output;
#   - a Python venv with DuckDB, pyarrow, deltalake (delta-rs), Polars and pyspark (PyPI), the
#     engines that read hunt's Hive-partitioned Parquet and Delta tables back, and
#     prometheus-client, whose parser reads hunt schedule's /metrics, and pandas, which the
#     README's reading example uses;
#   - Kusto.Language, Microsoft's KQL parser compiled to JavaScript (npm
#     @kusto/language-service-next, MIT), under target/test-tools/kusto/, the oracle the KQL parser's
#     differential test holds hunt's parser against (run through tests/tools/kusto-syntax.js);
#   - a Java runtime for Spark: OpenJDK 17 from Debian (openjdk-17-jre-headless), only if no
#     Java 17 or newer is on PATH already.
# Idempotent: a second run checks versions and returns in a second or two.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=target/test-tools
mkdir -p "$dir"

AZURITE=3.37.0
KUSTO_LS=12.4.1
PY_PKGS=(duckdb==1.5.6 pyarrow==26.0.1 deltalake==1.6.6 polars==2.1.0 pyspark==4.3.0 prometheus-client==0.26.0 pandas==3.1.1)

if [ "$(cat "$dir/azurite.version" 2>/dev/null)" != "$AZURITE" ]; then
  echo "installing azurite $AZURITE (npm)"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --no-save "azurite@$AZURITE" >/dev/null)
  echo "$AZURITE" > "$dir/azurite.version"
fi
test -x "$dir/node_modules/.bin/azurite-blob"

if [ "$(cat "$dir/kusto.version" 2>/dev/null)" != "$KUSTO_LS" ]; then
  echo "installing @kusto/language-service-next $KUSTO_LS (npm)"
  mkdir -p "$dir/kusto"
  # its own package root, so npm does not install into a parent directory
  [ -f "$dir/kusto/package.json" ] || echo '{"private": true}' > "$dir/kusto/package.json"
  (cd "$dir/kusto" && npm install --no-audit --no-fund --loglevel=error --no-save "@kusto/language-service-next@$KUSTO_LS" >/dev/null)
  echo "$KUSTO_LS" > "$dir/kusto.version"
fi
test -f "$dir/kusto/node_modules/@kusto/language-service-next/Kusto.Language.Bridge.js"

if [ ! -x "$dir/venv/bin/python" ]; then
  python3 -m venv "$dir/venv"
fi
if [ "$(cat "$dir/venv.version" 2>/dev/null)" != "${PY_PKGS[*]}" ]; then
  echo "installing ${PY_PKGS[*]} (PyPI)"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "${PY_PKGS[@]}"
  echo "${PY_PKGS[*]}" > "$dir/venv.version"
fi
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1; }
if [ "$(java_major 2>/dev/null || echo 0)" -lt 17 ] 2>/dev/null || ! command -v java >/dev/null; then
  echo "installing openjdk-17-jre-headless (Debian) for Spark"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
echo "java $(java_major)"
"$dir/venv/bin/python" -c 'import importlib.metadata, duckdb, pyarrow, deltalake, polars, pyspark, prometheus_client, pandas; print("readers: duckdb", duckdb.__version__, "pandas", pandas.__version__, "pyarrow", pyarrow.__version__, "deltalake", deltalake.__version__, "polars", polars.__version__, "pyspark", pyspark.__version__, "prometheus-client", importlib.metadata.version("prometheus-client"))'
