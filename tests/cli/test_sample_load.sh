#!/usr/bin/env bash
# test_sample_load.sh - `jobmatch sample load` against the real intake and
# profiles:
#   - it loads what it says (--json summary; the orders are there, in the
#     municipalities asked for, with their ESCO occupation and valid CVR);
#   - loading the same options again creates nothing (all already loaded);
#   - exit codes: usage 2, unreachable 3; --help 0 with the attribution.
# Usage: test_sample_load.sh JOBMATCH INTAKE PROFILES
set -euo pipefail

jobmatch=$1
intake=$2
profiles=$3
. "$(dirname "$0")/services.sh"

start intake "$intake" --api 'tcp://127.0.0.1:*'
intake_api=$api
start profiles "$profiles" --api 'tcp://127.0.0.1:*'
profiles_api=$api
j() { "$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --timeout 10000 "$@"; }
field() { echo "$1" | sed -n "s/^ *\"$2\": \\([0-9]*\\).*/\\1/p"; }

# A load: the summary counts everything, nothing failed.
out=$(j sample load --citizens 60 --orders 15 --json) ||
    fail "sample load exited $?: $out"
[ "$(field "$out" citizens)" = 60 ] || fail "citizens in: $out"
[ "$(field "$out" orders)" = 15 ] || fail "orders in: $out"
[ "$(field "$out" failed)" = 0 ] || fail "failed in: $out"
[ "$(field "$out" already_loaded)" = 0 ] || fail "already_loaded in: $out"

# The same options again: every request is a duplicate, nothing new.
out=$(j sample load --citizens 60 --orders 15 --json) ||
    fail "second load exited $?: $out"
[ "$(field "$out" already_loaded)" = 75 ] || fail "not all duplicates: $out"
[ "$(field "$out" failed)" = 0 ] || fail "failed in: $out"

# Another seed, one municipality: its orders are there, and in it.
j sample load --citizens 5 --orders 3 --seed 2 --municipalities 147 \
    >/dev/null || fail "load in 147 exited $?"
for i in 0 1 2; do
    order=$(j order get "sample-2-$i" --json) || fail "order sample-2-$i"
    grep -q '"owner_municipality": "147"' <<<"$order" ||
        fail "sample-2-$i not in 147: $order"
    grep -q '"occupation_uri": "http://data.europa.eu/esco/occupation/' <<<"$order" ||
        fail "sample-2-$i has no ESCO occupation"
done
# Without a terminal there is no bar: one summary line.
out=$(j sample load --citizens 1 --orders 1 --seed 3 2>&1) ||
    fail "plain load exited $?"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "more than a summary line: $out"
grep -q '^loaded 1 citizens' <<<"$out" || fail "summary: $out"

# Exit codes.
set +e
j sample load --municipalities 999 >/dev/null 2>&1
[ $? = 2 ] || fail "unknown municipality is not a usage error"
j sample load --citizens >/dev/null 2>&1
[ $? = 2 ] || fail "missing value is not a usage error"
j sample frobnicate >/dev/null 2>&1
[ $? = 2 ] || fail "unknown subcommand is not a usage error"
"$jobmatch" --profiles tcp://127.0.0.1:1 --timeout 300 sample load \
    --citizens 1 --orders 0 >/dev/null 2>&1
[ $? = 3 ] || fail "unreachable service is not exit 3"
set -e
help=$("$jobmatch" sample load --help) || fail "--help exited $?"
grep -q "ESCO classification of the European Commission" <<<"$help" ||
    fail "no attribution in --help"
echo "ok"
