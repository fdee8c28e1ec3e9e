#!/usr/bin/env bash
# test.sh - install dependencies, build the sanitized Debug configuration
# with warnings as errors, and run every test; then the tests of the code
# with threads of its own again under ThreadSanitizer. Exits non-zero if
# anything fails. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh

build=${JM_BUILD_DIR:-build/ci}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DJM_WERROR=ON
cmake --build "$build" -j"$(nproc)"
# ASan's leak checker and abort-on-error make every leak or UB a failure.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd "$build" && ctest --output-on-failure -j"$(nproc)" "$@")

# The tests of the code that runs threads of its own (the matcher's
# parallel re-match, matcher_par; the bus used from a second thread) again
# under ThreadSanitizer. Not the whole suite: the services' tests time
# their answers, and TSan slows them past it. tests/tsan.supp says why
# libzmq's own threads are not checked. JM_TSAN=0 leaves this out.
if [ "${JM_TSAN:-1}" != 0 ]; then
  tsan_tests="test_matcher_par test_matcher_live test_bus"
  tsan=${build}-tsan
  cmake -S . -B "$tsan" -DCMAKE_BUILD_TYPE=Debug -DJM_WERROR=ON \
    -DJM_SANITIZE=thread > /dev/null
  # shellcheck disable=SC2086 # one target each
  cmake --build "$tsan" -j"$(nproc)" --target $tsan_tests
  export TSAN_OPTIONS=${TSAN_OPTIONS:-suppressions=$PWD/tests/tsan.supp:halt_on_error=1}
  (cd "$tsan" && ctest --output-on-failure -R "^(${tsan_tests// /|})\$")
fi
