#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages jobmatch builds and tests with.
# Safe to run again; skips apt when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libuv1-dev libzmq3-dev liblmdb-dev lmdb-utils
  libprotobuf-c-dev protobuf-c-compiler
  protobuf-compiler python3 python3-protobuf   # protoc --python_out check
  python3-yaml                                  # compose.yaml check (deploy_files)
  libcmocka-dev libjansson-dev libsodium-dev
  procps psmisc                                 # pgrep/pkill in smoke tests
  iproute2                                      # ip netns: test_remote_ticks
  clang-format                                  # the "format" test
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
