#!/usr/bin/env bash
# test_cli_analysis.sh - the readable output and arguments of `match order
# --explain`, `match bottlenecks`, `gaps profile` and `assign`, against the
# real intake, profiles and matcher, with docs/examples' order and citizen
# (the worked example of docs/matching.md):
#   - --explain says "needs any level" for a skill the order gives no
#     minimum level (0 = any), never "needs 0", and shows the example's
#     "operate forklift - level 2, needs 3" as docs/matching.md quotes it;
#   - gaps says "1 open order within reach", assign "1 proposal" and "1
#     citizen" (singular);
#   - assign prints a run shorter than 1 ms in microseconds, not "0.0 ms";
#   - assign refuses an empty --municipality list or code (an unset shell
#     variable, a stray comma) with a usage error (2) naming it: the
#     matcher reads no codes as "every municipality";
#   - the bottlenecks' pool counts those meeting every essential skill as
#     well, so it can be below match order's count of who passes the hard
#     filters (the citizen holds forklift at 2 of 3: 1 candidate, pool 0).
# Usage: test_cli_analysis.sh JOBMATCH INTAKE PROFILES MATCHER SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
profiles=$3
matcher=$4
src=$5
. "$(dirname "$0")/services.sh"

start intake "$intake" --api 'tcp://127.0.0.1:*'
intake_api=$api
start profiles "$profiles" --api 'tcp://127.0.0.1:*'
profiles_api=$api
start matcher "$matcher" --api 'tcp://127.0.0.1:*' \
    --source "$intake_api" --source "$profiles_api"
matcher_api=$api
j() { "$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --matcher "$matcher_api" --timeout 10000 "$@"; }
# expect_exit CODE WHAT CMD...: runs CMD, its output in $dir/out.
expect_exit() {
    local want=$1 what=$2 got=0
    shift 2
    "$@" >"$dir/out" 2>&1 || got=$?
    [ "$got" = "$want" ] ||
        fail "$what: exit $got, expected $want: $(cat "$dir/out")"
}

oid=$(j order submit "$src/docs/examples/job-order.json" --json |
    sed -n 's/^ *"id": "\(.*\)".*/\1/p')
[ -n "$oid" ] || fail "no id from order submit"
pid=$(j profile put "$src/docs/examples/profile.json" --json |
    sed -n 's/^ *"id": "\(.*\)".*/\1/p')
[ -n "$pid" ] || fail "no id from profile put"
# The matcher follows both logs: ask until it has applied them (bounded).
for _ in $(seq 500); do
    j match order "$oid" --json | grep -q "\"profile_id\": \"$pid\"" && break
done
j match order "$oid" --json | grep -q "\"profile_id\": \"$pid\"" ||
    fail "the matcher never listed $pid for $oid"

# --explain: the optional barcode scanner has no minimum level.
expect_exit 0 "match order --explain" j match order "$oid" --explain
grep -q "needs 0" "$dir/out" && fail "explain says 'needs 0': $(cat "$dir/out")"
grep -q "use barcode scanning equipment (optional) - level 3, needs any level$" \
    "$dir/out" || fail "explain of a skill at any level: $(cat "$dir/out")"
grep -q "operate forklift - level 2, needs 3" "$dir/out" ||
    fail "explain differs from docs/matching.md's example: $(cat "$dir/out")"
grep -q "^order $oid: 1 candidate, every citizen who passes the hard filters$" \
    "$dir/out" || fail "match order count: $(cat "$dir/out")"

# Bottlenecks: the pool also asks every essential skill at its level.
expect_exit 0 "match bottlenecks" j match bottlenecks "$oid"
grep -q "^order $oid: 0 candidates meet every requirement$" "$dir/out" ||
    fail "bottlenecks pool: $(cat "$dir/out")"
grep -q "^essential_skills\[4\] .*(level >= 3) *1$" "$dir/out" ||
    fail "bottlenecks without the forklift level: $(cat "$dir/out")"

# gaps: one order within reach, in the singular.
expect_exit 0 "gaps profile" j gaps profile "$pid"
grep -q "^citizen $pid: 1 open order within reach, 0 fully covered$" \
    "$dir/out" || fail "gaps summary: $(cat "$dir/out")"

# assign: one order and one citizen take microseconds, shown as such (a
# run of a millisecond or more keeps milliseconds).
expect_exit 0 "assign" j assign --municipality 161
# (and one proposal, one citizen, in the singular)
grep -q "^greedy: 1 proposal to 1 of 1 orders, 1 citizen; total [0-9.]*$" \
    "$dir/out" || fail "assign summary: $(cat "$dir/out")"
grep -q "^at most 1 proposal per citizen, " "$dir/out" ||
    fail "assign fairness line: $(cat "$dir/out")"
grep -Eq ", Gini [0-9.]+, ([0-9]{1,3} us|[1-9][0-9]*\.[0-9] ms)$" "$dir/out" ||
    fail "assign elapsed time: $(cat "$dir/out")"
expect_exit 0 "assign of two codes" j assign --municipality 161,147

# assign: an empty list or code is a usage error, not "everywhere".
unset no_such_variable
expect_exit 2 "--municipality from an unset variable" \
    j assign --municipality "${no_such_variable:-}"
grep -q "empty" "$dir/out" || fail "empty list: $(cat "$dir/out")"
for codes in 161,,147 161, ,161 ,; do
    expect_exit 2 "--municipality '$codes'" j assign --municipality "$codes"
    grep -q "is empty" "$dir/out" || fail "'$codes': $(cat "$dir/out")"
done
expect_exit 2 "--municipality without a value" j assign --municipality
echo "ok"
