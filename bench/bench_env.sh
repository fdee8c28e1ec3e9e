# bench_env.sh - sourced by the run_*.sh scripts: a Release build of the
# benchmark programs and a throw-away PostgreSQL cluster, stopped and
# removed when the script exits.
#
#   bench_deps              install libpq-dev and postgresql-15 if missing
#   bench_build TARGET...   configure build/bench-release (Release, no
#                           tests; as run_ingest.sh), build
#   bench_pg_start          start the cluster; sets PGCONN
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD:-$ROOT/build/bench-release}
PGDIR=""

# libpq-dev for the baselines, postgresql-15 for the server: benchmark
# machines only (CI needs neither).
bench_deps() {
  local missing=()
  for p in libpq-dev postgresql-15; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

bench_build() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target "$@" >/dev/null
}

bench_pg_stop() {
  if [ -n "$PGDIR" ]; then
    "$ROOT/bench/pg_cluster.sh" stop "$PGDIR" || true
    rm -rf "$PGDIR"
  fi
}

bench_pg_start() {
  PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/jmbench-pg.XXXXXX")
  trap bench_pg_stop EXIT
  PGCONN=$("$ROOT/bench/pg_cluster.sh" start "$PGDIR")
}
