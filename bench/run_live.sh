#!/usr/bin/env bash
# run_live.sh - the matcher as a service, with the real intake and
# profiles (docs/benchmarks.md, "Matching performance"): order submitted
# -> shortlist published, and ready-with-correct-answers after kill -9.
#
# Starts intake and profiles on loopback (ephemeral ports, data in a
# temporary directory), loads CITIZENS citizens and ORDERS orders with
# Zipf-distributed skills through `jobmatch sample load` (defaults 200000
# and 13000, as in the issue), then runs bench_live, which starts, times,
# kills and restarts the matcher. Extra arguments go to bench_live.
source "$(dirname "$0")/bench_env.sh"
CITIZENS=${CITIZENS:-200000}
ORDERS=${ORDERS:-13000}
SEED=${SEED:-1}

bench_build bench_live jobmatch jobmatch-intake jobmatch-profiles \
  jobmatch-matcher
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jmbench-live.XXXXXX")
PIDS=()
# SIGTERM, and SIGKILL for whatever still runs 10 s later.
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start NAME BINARY ARGS...: runs it in the background (in this shell, so
# that cleanup knows its pid) and sets API to the api endpoint of its ready
# line. Its output goes to files: a command substitution would wait for a
# background child that holds its pipe.
start() {
  local name=$1; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
  PIDS+=($!)
  for _ in $(seq 300); do
    if grep -q ": ready " "$WORK/$name.log"; then
      API=$(grep ": ready " "$WORK/$name.log" | sed 's/.* api=\([^ ]*\).*/\1/')
      return 0
    fi
    sleep 0.1
  done
  echo "$name did not become ready; its log:" >&2
  cat "$WORK/$name.log" >&2
  return 1
}

start intake "$BUILD/services/intake/jobmatch-intake" \
  --data-dir "$WORK/intake" --api 'tcp://127.0.0.1:*'
INTAKE=$API
start profiles "$BUILD/services/profiles/jobmatch-profiles" \
  --data-dir "$WORK/profiles" --api 'tcp://127.0.0.1:*'
PROFILES=$API
echo "loading $CITIZENS citizens and $ORDERS orders (Zipf skills)" >&2
"$BUILD/services/cli/jobmatch" --intake "$INTAKE" --profiles "$PROFILES" \
  --timeout 30000 sample load --citizens "$CITIZENS" --orders "$ORDERS" \
  --skills zipf --seed "$SEED" --window 256
"$BUILD/bench/bench_live" --intake "$INTAKE" --profiles "$PROFILES" \
  --seed "$SEED" "$@" -- \
  "$BUILD/services/matcher/jobmatch-matcher" --data-dir "$WORK/matcher" \
  --api 'tcp://127.0.0.1:*' --source "$INTAKE" --source "$PROFILES"
