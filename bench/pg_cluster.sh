#!/usr/bin/env bash
# pg_cluster.sh - a throw-away PostgreSQL 15 cluster for the baselines.
#
#   bench/pg_cluster.sh start DIR   initdb in DIR/data, start postgres on a
#                                   Unix socket in DIR (no TCP), create the
#                                   database "bench"; prints the conninfo
#   bench/pg_cluster.sh stop DIR    stop it (DIR is left for the caller)
#
# Settings favour the baseline's query speed and a fast load, not
# durability (the data is generated and thrown away): fsync, synchronous
# commit and full-page writes off, 1 GB shared buffers, 64 MB work_mem,
# JIT off (it costs milliseconds per query on plans like these). Parallel
# query stays at PostgreSQL's default.
#
# PostgreSQL refuses to run as root; as root the server runs as the
# "postgres" user of the Debian package, which must own DIR.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg_cluster.sh start|stop DIR}
dir=${2:?usage: pg_cluster.sh start|stop DIR}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
start)
  [ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL 15 in $PGBIN (apt-get install postgresql-15)" >&2; exit 2; }
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$PGBIN/initdb" -D "$dir/data" -U bench -A trust -E UTF8 \
    --locale=C --no-sync >"$dir/initdb.log" 2>&1
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
    -o "-c listen_addresses='' -k $dir -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off \
        -c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB \
        -c max_wal_size=8GB -c jit=off" start >/dev/null
  "$PGBIN/createdb" -h "$dir" -U bench bench
  echo "host=$dir dbname=bench user=bench"
  ;;
stop)
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  echo "usage: pg_cluster.sh start|stop DIR" >&2
  exit 2
  ;;
esac
