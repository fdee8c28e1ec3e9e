#!/usr/bin/env bash
# run_quality.sh - matching quality and fairness, jobmatch against a
# PostgreSQL baseline that ranks by overlapping skills (docs/benchmarks.md,
# "Matching quality"). Extra arguments go to bench_quality.
source "$(dirname "$0")/bench_env.sh"
bench_deps
bench_build bench_quality
bench_pg_start
"$BUILD/bench/bench_quality" --pg "$PGCONN" "$@"
