#!/usr/bin/env bash
# test.sh - install dependencies, build the sanitized Debug configuration
# with warnings as errors, and run every test. Exits non-zero if anything
# fails. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh

build=${JM_BUILD_DIR:-build/ci}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DJM_WERROR=ON
cmake --build "$build" -j"$(nproc)"
# ASan's leak checker and abort-on-error make every leak or UB a failure.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j"$(nproc)" "$@"
