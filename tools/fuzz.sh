#!/usr/bin/env bash
# fuzz.sh - runs the fuzz targets (tests/fuzz/README.md) with libFuzzer.
#
#   bash tools/fuzz.sh [SECONDS] [TARGET...]    (default 300 s each; all)
#
# Builds build/fuzz with clang (address, undefined and libFuzzer's
# coverage in every file of ours) and build/ (the replay programs, which
# write each target's seeds), then fuzzes each target in turn from its
# seeds and its committed corpus, keeping what it learns in
# build/fuzz/corpus/<target>. An input that fails is left in
# build/fuzz/crash/<target>/: copy it into tests/fuzz/corpus/<target>/
# once fixed, and ctest replays it from then on. Exit status 1 if any
# target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request json config record keys search)

command -v clang >/dev/null || { echo "fuzz.sh: clang is not installed" >&2; exit 2; }
CC=clang cmake -S . -B build/fuzz -DJM_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
  -DJM_SANITIZE="address,undefined,fuzzer-no-link" \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" >/dev/null
cmake -S . -B build >/dev/null
failed=0
for t in "${targets[@]}"; do
  cmake --build build/fuzz -j"$(nproc)" --target "fuzz_$t" >/dev/null
  cmake --build build -j"$(nproc)" --target "fuzz_$t" >/dev/null
  corpus=build/fuzz/corpus/$t crash=build/fuzz/crash/$t
  mkdir -p "$corpus" "$crash"
  "build/tests/fuzz/fuzz_$t" --write-seeds "$corpus" >/dev/null 2>&1
  extra=()
  [ -d "tests/fuzz/corpus/$t" ] && extra=("tests/fuzz/corpus/$t")
  echo "fuzz_$t: $seconds s"
  if ! "build/fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
       -artifact_prefix="$crash/" -print_final_stats=1 "$corpus" \
       "${extra[@]}" > "build/fuzz/$t.log" 2>&1; then
    echo "fuzz_$t: FAILED, see build/fuzz/$t.log and $crash/"
    failed=1
  fi
  grep -E "^stat::number_of_executed_units|cov:" "build/fuzz/$t.log" | tail -n 2
done
exit $failed
