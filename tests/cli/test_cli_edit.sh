#!/usr/bin/env bash
# test_cli_edit.sh - what `get --json` prints can be edited and sent back,
# as the README says, against the real intake and profiles:
#   - an order: `order get --json`, the title edited, `order update` takes
#     it (the service's own fields are dropped, the file's version is the
#     expected version); the same file again is a conflict (exit 1), not a
#     silent overwrite of the change made since;
#   - a file saved by a Windows editor (a UTF-8 byte order mark) reads;
#   - another order's output without its id submits as a new order;
#   - a citizen: `profile get --json`, edited, `profile put` takes it; the
#     same file again is a conflict; --expected-version wins over the file;
#   - the profile's occupations carry their ESCO labels in --json output;
#   - a URI the shipped ESCO does not know is sent, with a warning;
#   - --request-id: a script that timed out sends the same command again
#     and the write is applied once (the same id, "already done"; with
#     --json "duplicate": true, for orders and profiles); the id with
#     another write is a conflict; a command of several writes refuses it;
#   - a citizen's file that is not JSON is refused with its line and
#     column, never with the text where the parser stopped (a CPR number).
# Usage: test_cli_edit.sh JOBMATCH INTAKE PROFILES SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
profiles=$3
src=$4
. "$(dirname "$0")/services.sh"

start intake "$intake" --api 'tcp://127.0.0.1:*'
intake_api=$api
start profiles "$profiles" --api 'tcp://127.0.0.1:*'
profiles_api=$api
j() { "$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --timeout 10000 "$@"; }
expect_exit() { # CODE WHAT COMMAND...
    local want=$1 what=$2 rc=0
    shift 2
    "$@" >"$dir/out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || fail "$what: exit $rc, not $want: $(cat "$dir/out")"
}

# An order, read back, edited, sent back.
id=$(j order submit "$src/docs/examples/job-order.json" --json \
    2>"$dir/submit.err" | sed -n 's/^ *"id": "\(.*\)".*/\1/p')
[ -n "$id" ] || fail "no id from submit"
[ ! -s "$dir/submit.err" ] || fail "the example warned: $(cat "$dir/submit.err")"
j order get "$id" --json >"$dir/order.json"
grep -q '"version": 1' "$dir/order.json" || fail "get --json: no version 1"
grep -q '"status": "ORDER_STATUS_OPEN"' "$dir/order.json" ||
    fail "get --json: no status"
sed 's/"title": "[^"]*"/"title": "Edited title"/' "$dir/order.json" \
    >"$dir/edited.json"
expect_exit 0 "update from get --json" j order update "$id" "$dir/edited.json"
grep -q "version 2" "$dir/out" || fail "update did not make version 2: $(cat "$dir/out")"
j order get "$id" | grep -q "title: *Edited title" || fail "title not changed"

# The same file again: made from version 1, the order is at 2.
expect_exit 1 "a stale file" j order update "$id" "$dir/edited.json"
grep -q "conflict" "$dir/out" || fail "stale file: $(cat "$dir/out")"
j order get "$id" --json | grep -q '"version": 2' ||
    fail "the stale update changed the order"

# With a byte order mark in front, from version 2.
j order get "$id" --json |
    sed 's/"title": "[^"]*"/"title": "Title from Notepad"/' >"$dir/plain.json"
printf '\xef\xbb\xbf' | cat - "$dir/plain.json" >"$dir/bom.json"
expect_exit 0 "a file with a BOM" j order update "$id" "$dir/bom.json"
j order get "$id" | grep -q "title: *Title from Notepad" ||
    fail "BOM file not applied"

# Another order's output as a template for a new one.
grep -v '^  "id": ' "$dir/order.json" >"$dir/template.json"
expect_exit 0 "submit from a template" j order submit "$dir/template.json"
n=$(j order list --json | grep -c '"id": "') || true
[ "$n" = 2 ] || fail "the template made $n orders in all, not 2"

# A skill URI the shipped ESCO does not know (a mistyped UUID): sent, as
# the services accept other ESCO versions' URIs, but pointed out.
sed '0,/"skill_uri": "[^"]*"/s||"skill_uri": "http://data.europa.eu/esco/skill/00000000-0000-4000-8000-000000000000"|' \
    "$dir/template.json" >"$dir/typo.json"
expect_exit 0 "an unknown skill URI" j order submit "$dir/typo.json"
grep -q "warning: .*skill_uri: .*00000000-0000-4000-8000-000000000000 is not in the ESCO" \
    "$dir/out" || fail "no warning for an unknown URI: $(cat "$dir/out")"

# A citizen, read back, edited, sent back.
pid=$(j profile put "$src/docs/examples/profile.json" --json |
    sed -n 's/^ *"id": "\(.*\)".*/\1/p')
[ -n "$pid" ] || fail "no id from profile put"
j profile get "$pid" --json >"$dir/profile.json"
grep -q '"wished_occupation_labels": \[' "$dir/profile.json" ||
    fail "no labels for the wished occupations: $(cat "$dir/profile.json")"
grep -q '"held_occupation_labels": \[' "$dir/profile.json" ||
    fail "no labels for the held occupations"
sed 's/"max_travel_km": [0-9]*/"max_travel_km": 40/' "$dir/profile.json" \
    >"$dir/profile-edited.json"
expect_exit 0 "profile put from get --json" \
    j profile put "$dir/profile-edited.json"
j profile get "$pid" --json | grep -q '"max_travel_km": 40' ||
    fail "travel range not changed"
expect_exit 1 "a stale profile file" j profile put "$dir/profile-edited.json"
grep -q "conflict" "$dir/out" || fail "stale profile: $(cat "$dir/out")"
# --expected-version names the version the change is made against.
expect_exit 0 "--expected-version 2" \
    j profile put "$dir/profile-edited.json" --expected-version 2
expect_exit 2 "--expected-version 0" \
    j profile put "$dir/profile-edited.json" --expected-version 0

# A script's retry after a timeout: the same command with its request id.
rid=6f1c2a5e-3b7d-4c8e-9a0f-1d2e3f4a5b6c
expect_exit 0 "submit with --request-id" \
    j --request-id "$rid" order submit "$src/docs/examples/job-order.json"
first=$(sed -n 's/^submitted order \([^:]*\): .*/\1/p' "$dir/out")
[ -n "$first" ] || fail "no order id: $(cat "$dir/out")"
grep -q "already done" "$dir/out" && fail "first try marked done: $(cat "$dir/out")"
expect_exit 0 "the same again" \
    j --request-id "$rid" order submit "$src/docs/examples/job-order.json"
grep -q "^submitted order $first: .*(already done: this is the first answer)$" \
    "$dir/out" || fail "the retry: $(cat "$dir/out")"
expect_exit 1 "the id with another write" \
    j --request-id "$rid" order close "$first" --withdrawn
grep -q "request_id" "$dir/out" || fail "reused id: $(cat "$dir/out")"
j order get "$first" | grep -q "OPEN\|open" || fail "the reused id closed $first"
# With --json a script tells the same by "duplicate": false for the write
# made, true for the retry, whose answer is otherwise the first one's; the
# same for a profile's write.
close_rid=0b4e7d2c-9a1f-4e3b-8c5d-6f7a8b9c0d1e
j --json --request-id "$close_rid" order close "$first" --withdrawn \
    >"$dir/first.json"
j --json --request-id "$close_rid" order close "$first" --withdrawn \
    >"$dir/retry.json"
grep -q '"duplicate": false' "$dir/first.json" ||
    fail "close --json: $(cat "$dir/first.json")"
grep -q '"duplicate": true' "$dir/retry.json" ||
    fail "close --json, the retry: $(cat "$dir/retry.json")"
diff <(grep -v '"duplicate"' "$dir/first.json") \
    <(grep -v '"duplicate"' "$dir/retry.json") >/dev/null ||
    fail "the retry's answer is not the first: $(cat "$dir/retry.json")"
grep -q '"seq": ' "$dir/first.json" && grep -q '"version": ' "$dir/first.json" ||
    fail "close --json without seq or version: $(cat "$dir/first.json")"
consent_rid=3c9d1e2f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
j --json --request-id "$consent_rid" profile consent "$pid" \
    --neighbour-matching no >"$dir/first.json"
j --json --request-id "$consent_rid" profile consent "$pid" \
    --neighbour-matching no >"$dir/retry.json"
grep -q "\"id\": \"$pid\"" "$dir/first.json" &&
    grep -q '"duplicate": false' "$dir/first.json" ||
    fail "consent --json: $(cat "$dir/first.json")"
grep -q '"duplicate": true' "$dir/retry.json" ||
    fail "consent --json, the retry: $(cat "$dir/retry.json")"
# A profile's write says so in its readable line too, as an order's.
assess_rid=5e2a7c9d-1b3f-4d6a-8c0e-2f4a6b8d0c1e
expect_exit 0 "assess with --request-id" j --request-id "$assess_rid" \
    profile assess "$pid" --dimension health --score 3
grep -q "already done" "$dir/out" && fail "first assess marked done: $(cat "$dir/out")"
expect_exit 0 "the same assess again" j --request-id "$assess_rid" \
    profile assess "$pid" --dimension health --score 3
grep -q "^measurement recorded for $pid .*(already done: this is the first answer)$" \
    "$dir/out" || fail "the assess retry: $(cat "$dir/out")"
expect_exit 2 "--request-id with sample load" \
    j --request-id "$rid" sample load --citizens 1 --orders 1
expect_exit 2 "--request-id of 8 bytes" \
    j --request-id 0123456789abcdef order get "$first"

# A control character after a CPR number: where, not what.
printf '{"personal": {"cpr": "0703851234\a", "name": "Zyx"}}' >"$dir/bad.json"
expect_exit 2 "a file that is not JSON" j profile put "$dir/bad.json"
grep -q "bad.json:1:[0-9]*: control character" "$dir/out" ||
    fail "not JSON: $(cat "$dir/out")"
grep -q "0703851234" "$dir/out" && fail "the CPR number was printed: $(cat "$dir/out")"
echo "ok"
