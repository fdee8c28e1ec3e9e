#!/usr/bin/env bash
# test_remote_ticks.sh - a matcher on another machine than its source gets
# the source's ticks when the source binds them on every interface (as in
# a container, or any multi-host node): two network namespaces joined by a
# veth pair stand for the two machines.
#   - intake in "machine A" binds api and tick on tcp://0.0.0.0 (ports
#     picked free); its Pong names the tick as tcp://0.0.0.0:PORT;
#   - the matcher in "machine B" follows it at A's address: it must follow
#     the ticks at A's address too (not at 0.0.0.0, its own machine), so
#     `matcher stats` shows tick batches once orders are submitted, and
#     where it follows them.
# Needs root and iproute2 (ip netns); exits 77 (skipped) where they are not
# allowed.
# Usage: test_remote_ticks.sh JOBMATCH INTAKE MATCHER SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
matcher=$3
example=$4/docs/examples/job-order.json
. "$(dirname "$0")/services.sh"

ns_a="jmtA$$" ns_b="jmtB$$"
addr_a=10.201.$(($$ % 250)).1 addr_b=10.201.$(($$ % 250)).2
trap 'cleanup; ip link del "va$$" 2>/dev/null || true; ip netns del "$ns_a" 2>/dev/null || true; ip netns del "$ns_b" 2>/dev/null || true' EXIT
# The two machines; where any step is not allowed (not root, a container
# without CAP_SYS_ADMIN, no iproute2) the test is skipped, not failed.
machines() {
    ip netns add "$ns_a" && ip netns add "$ns_b" &&
        ip link add "va$$" type veth peer name "vb$$" &&
        ip link set "va$$" netns "$ns_a" && ip link set "vb$$" netns "$ns_b" &&
        ip -n "$ns_a" addr add "$addr_a/24" dev "va$$" &&
        ip -n "$ns_b" addr add "$addr_b/24" dev "vb$$" &&
        ip -n "$ns_a" link set lo up && ip -n "$ns_b" link set lo up &&
        ip -n "$ns_a" link set "va$$" up && ip -n "$ns_b" link set "vb$$" up
}
if ! machines 2>"$dir/netns.err"; then
    echo "test_remote_ticks: skipped (network namespaces: $(head -1 "$dir/netns.err"))"
    exit 77
fi

# The programs, each run inside its machine (services.sh's start passes
# --data-dir and the arguments after the program).
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns_a" "$intake" \
    >"$dir/intake-on-a"
printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns_b" "$matcher" \
    >"$dir/matcher-on-b"
chmod +x "$dir/intake-on-a" "$dir/matcher-on-b"

start intake "$dir/intake-on-a" --api 'tcp://0.0.0.0:*' --tick 'tcp://0.0.0.0:*'
port=${api##*:}
start matcher "$dir/matcher-on-b" --api 'tcp://127.0.0.1:*' \
    --source "tcp://$addr_a:$port"
matcher_api=$api
on_a() { ip netns exec "$ns_a" "$jobmatch" --intake "tcp://127.0.0.1:$port" \
    --timeout 10000 "$@"; }
stats() { ip netns exec "$ns_b" "$jobmatch" --matcher "$matcher_api" \
    --timeout 10000 matcher stats --json; }
field() { echo "$1" | sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\).*/\1/p"; }

# Orders one at a time until one came with a tick (the SUB joins at its own
# pace: the first may come by a poll); each waited for in the matcher.
ticks=0
for i in $(seq 30); do
    on_a order submit "$example" >/dev/null || fail "order submit on A"
    for _ in $(seq 200); do
        out=$(stats) || fail "matcher stats on B"
        [ "$(field "$out" applied_seq)" = "$i" ] && break
    done
    [ "$(field "$out" applied_seq)" = "$i" ] || fail "order $i never applied"
    ticks=$(field "$out" tick_batches)
    [ "${ticks:-0}" -gt 0 ] && break
done
at=$(field "$out" tick_endpoint)
[ "$at" = "tcp://$addr_a:${at##*:}" ] ||
    fail "the matcher follows ticks at '$at', not at A's address $addr_a"
[ "${ticks:-0}" -gt 0 ] ||
    fail "no batch came with a tick in 30 orders (ticks at $at): $out"
echo "test_remote_ticks: ok ($ticks batches with a tick, followed at $at)"
