#!/usr/bin/env bash
# run_match.sh - matching performance, jobmatch and PostgreSQL 15 side by
# side on the same generated data (docs/benchmarks.md, "Matching
# performance"). Extra arguments go to bench_match, e.g. --profiles 20000
# for a quick run, --json for one machine-readable line.
source "$(dirname "$0")/bench_env.sh"
bench_deps
bench_build bench_match
bench_pg_start
"$BUILD/bench/bench_match" --pg "$PGCONN" "$@"
