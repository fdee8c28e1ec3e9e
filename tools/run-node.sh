#!/usr/bin/env bash
# run-node.sh - the README's first command: install the Debian packages,
# build the Release configuration into build/release, and start a whole
# node (intake, profiles, matcher) with sample data in ./node-data. The
# first start loads the sample; every start prints one explained shortlist.
# Ctrl-C stops the node. Arguments go to `jobmatch node start`, e.g.
#   bash tools/run-node.sh --foreground          (show the services' logs)
#   bash tools/run-node.sh --citizens 5000 --orders 400   (first start only)
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh

build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
cmake --build "$build" -j"$(nproc)"
exec "$build/services/cli/jobmatch" node start --data-dir ./node-data --sample "$@"
