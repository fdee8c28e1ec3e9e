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
# The sample: the municipalities of greater Copenhagen (København,
# Frederiksberg, Ballerup, Brøndby, Dragør, Gentofte, Gladsaxe, Glostrup,
# Herlev, Albertslund, Hvidovre, Høje-Taastrup, Lyngby-Taarbæk, Rødovre,
# Ishøj, Tårnby, Vallensbæk, Furesø): neighbours sharing one matcher, close
# enough together that most job orders have candidates within reach.
exec "$build/services/cli/jobmatch" node start --data-dir ./node-data --sample \
  --citizens 2000 --orders 200 \
  --municipalities 101,147,151,153,155,157,159,161,163,165,167,169,173,175,183,185,187,190 \
  "$@"
