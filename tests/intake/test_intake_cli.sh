#!/usr/bin/env bash
# test_intake_cli.sh - the real jobmatch-intake and the real jobmatch CLI:
# the contract outside checks rely on (README, issue 3).
#   - `jobmatch-intake --data-dir DIR --api ENDPOINT` runs with nothing else;
#   - `order submit docs/examples/job-order.json --json` prints one object
#     with id and seq; get, list, close, stats work;
#   - exit codes: a bad file 2, an invalid order 1 (field path on stderr),
#     an unreachable service 3;
#   - an id that exists: the service's message and a hint naming the CLI's
#     `order update`; an update of no order names update_order.order.id,
#     not the GetOrder the CLI sends first;
#   - SIGTERM stops the service with status 0.
# Usage: test_intake_cli.sh INTAKE_BINARY JOBMATCH_BINARY SOURCE_DIR
set -euo pipefail

intake=$1
jobmatch=$2
src=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/jmtest-cli-XXXXXX")
pid=
fail() {
    echo "FAIL: $*" >&2
    echo "--- service log:" >&2
    cat "$dir/intake.log" >&2 || true
    exit 1
}
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

# Start with an ephemeral port and read the ready line through a FIFO
# (read -t bounds the wait; nothing sleeps).
mkfifo "$dir/err"
"$intake" --data-dir "$dir/data" --api 'tcp://127.0.0.1:*' 2>"$dir/err" &
pid=$!
exec 3<"$dir/err"
api=
while IFS= read -r -t 30 line <&3; do
    echo "$line" >>"$dir/intake.log"
    case $line in
    *": ready "*)
        api=$(echo "$line" | sed -n 's/.* api=\([^ ]*\).*/\1/p')
        break
        ;;
    esac
done
[ -n "$api" ] || fail "no ready line"
cat <&3 >>"$dir/intake.log" &

j() { "$jobmatch" --intake "$api" --timeout 5000 "$@"; }

# submit --json: one object with id and seq
out=$(j order submit "$src/docs/examples/job-order.json" --json) ||
    fail "submit exited $?"
id=$(echo "$out" | sed -n 's/^ *"id": "\([^"]*\)".*/\1/p')
seq=$(echo "$out" | sed -n 's/^ *"seq": \([0-9]*\).*/\1/p')
[ -n "$id" ] || fail "no id in: $out"
[ "$seq" = 1 ] || fail "seq is not 1 in: $out"
[ "$(echo "$out" | head -c1)" = "{" ] || fail "not one object: $out"

# each submit of the example makes a new order
out=$(j --json order submit "$src/docs/examples/job-order.json")
echo "$out" | grep -q '"seq": 2' || fail "second submit: $out"
echo "$out" | grep -q "\"id\": \"$id\"" && fail "the same id twice"

# stdin works too, and the readable form names id and seq
out=$(j order submit - <"$src/docs/examples/job-order.json")
echo "$out" | grep -q "seq 3" || fail "readable submit: $out"

# get: readable with ESCO labels, and --json
out=$(j order get "$id") || fail "get exited $?"
echo "$out" | grep -q "$id" || fail "get: $out"
echo "$out" | grep -q "warehouse worker" || fail "no ESCO label: $out"
out=$(j order get "$id" --json)
echo "$out" | grep -q '"status": "ORDER_STATUS_OPEN"' || fail "get --json: $out"
# --json shows the ESCO label beside every URI, and such output reads back
# (the labels are dropped; any other unknown key is still refused)
echo "$out" | grep -q '"occupation_label": "warehouse worker"' ||
    fail "no occupation_label in get --json: $out"
[ "$(echo "$out" | grep -c '"skill_label": ')" = \
  "$(echo "$out" | grep -c '"skill_uri": ')" ] ||
    fail "not every skill_uri has its skill_label: $out"
sed 's/^{/{"occupation_label": "any text",/' \
    "$src/docs/examples/job-order.json" >"$dir/labelled.json"
j order submit "$dir/labelled.json" >/dev/null ||
    fail "a file with labels beside its URIs was refused"
sed 's/^{/{"occupation_labelx": "x",/' \
    "$src/docs/examples/job-order.json" >"$dir/unknown.json"
set +e
j order submit "$dir/unknown.json" 2>"$dir/unknown.err"
rc=$?
set -e
[ $rc = 2 ] || fail "an unknown key gave exit $rc, not 2"
grep -q "occupation_labelx" "$dir/unknown.err" || fail "unknown key not named"

# list, close, outcome, stats
j order list | grep -q "$id" || fail "list"
j order list --status open --municipality 161 --limit 2 | grep -q "2 orders" ||
    fail "list --limit"
j order outcome "$id" --profile p-abcdefghijklmnopqrst --status presented \
    >/dev/null || fail "outcome"
# Nothing in 161 has closed yet: fill rate and median are undefined, a dash
# (not a 0 that would read as "none filled" or "filled the same day").
j order stats | awk '$1 == "161" { print $(NF-1), $NF }' | grep -qx -- "- -" ||
    fail "stats before a close: $(j order stats | grep 161)"
j order close "$id" --filled 1 >/dev/null || fail "close"
j order stats | awk '$1 == "161" { print $(NF-1), $NF }' | grep -qx "100% 0.0" ||
    fail "stats after a fill: $(j order stats | grep 161)"
j order get "$id" | grep -q "filled" || fail "not filled"
# Orders in a second municipality: a last row 'all' sums both (OPEN is the
# second column there, the third in a municipality's "CODE NAME" row).
sed -e 's/"postcode": "2600", "municipality_code": "161"/"postcode": "1050", "municipality_code": "101"/' \
    -e 's/"owner_municipality": "161"/"owner_municipality": "101"/' \
    "$src/docs/examples/job-order.json" >"$dir/kbh.json"
j order submit "$dir/kbh.json" >/dev/null || fail "an order of 101 refused"
open161=$(j order stats | awk '$1 == "161" { print $3 }')
j order stats | awk '$1 == "all" { print $2, $(NF-1), $NF }' |
    grep -qx "$((open161 + 1)) 100% 0.0" ||
    fail "stats' last row is not both together: $(j order stats)"
j order stats --municipality 161 | grep -q "^all" &&
    fail "a sum under one municipality's row"

# exit codes
set +e
j order submit "$dir/no-such-file.json" 2>/dev/null
[ $? = 2 ] || fail "a missing file must exit 2"
echo '{"title": 5}' | j order submit - 2>/dev/null
[ $? = 2 ] || fail "a bad JSON type must exit 2"
sed 's/"35610006"/"35610007"/' "$src/docs/examples/job-order.json" |
    j order submit - 2>"$dir/stderr"
[ $? = 1 ] || fail "an invalid order must exit 1"
grep -q "submit_order.order.cvr" "$dir/stderr" ||
    fail "no field path on stderr: $(cat "$dir/stderr")"
grep -q "hint:" "$dir/stderr" && fail "a hint for a CVR: $(cat "$dir/stderr")"
# An id that exists: the service's words (for API clients) stay, and the
# CLI names its own command, which then takes the same file.
sed 's/^{/{"id": "taken-1",/' "$src/docs/examples/job-order.json" \
    >"$dir/taken.json"
j order submit "$dir/taken.json" >/dev/null || fail "submit of taken-1"
j order submit "$dir/taken.json" 2>"$dir/stderr"
[ $? = 1 ] || fail "an id that exists must exit 1"
grep -q "conflict submit_order.order.id: .*change it with update_order" \
    "$dir/stderr" || fail "the service's message changed: $(cat "$dir/stderr")"
grep -qF "hint: change it with 'jobmatch order update taken-1 $dir/taken.json'" \
    "$dir/stderr" || fail "no hint for the CLI: $(cat "$dir/stderr")"
# From standard input the file cannot be named: FILE stands for it.
j order submit - <"$dir/taken.json" 2>"$dir/stderr"
[ $? = 1 ] || fail "an id that exists, from stdin, must exit 1"
grep -qF "hint: change it with 'jobmatch order update taken-1 FILE'" \
    "$dir/stderr" || fail "the hint from stdin: $(cat "$dir/stderr")"
j order update taken-1 "$dir/taken.json" >/dev/null ||
    fail "the hint's command did not take the file"
# Updating an order that does not exist: the error names the update's
# field, which the ID fills, as with --expected-version (the update sent at
# once), not the GetOrder the CLI sends first to learn the version.
sed 's/^{/{"id": "no-such-order",/' "$src/docs/examples/job-order.json" \
    >"$dir/missing.json"
for version in "" "--expected-version 1"; do
    j order update no-such-order "$dir/missing.json" $version 2>"$dir/stderr"
    [ $? = 1 ] || fail "an update of no order ($version) must exit 1"
    grep -q "not_found update_order.order.id: " "$dir/stderr" ||
        fail "update of no order ($version): $(cat "$dir/stderr")"
done
j --json order update no-such-order "$dir/missing.json" >"$dir/stdout" 2>/dev/null
[ $? = 1 ] || fail "an update of no order with --json must exit 1"
grep -q '"field_path": "update_order.order.id"' "$dir/stdout" ||
    fail "update of no order, --json: $(cat "$dir/stdout")"
j order close "$id" --withdrawn 2>/dev/null
[ $? = 1 ] || fail "closing a closed order must exit 1"
j order outcome "$id" --profile notapid --status hired 2>"$dir/stderr"
[ $? = 1 ] || fail "an outcome for a malformed profile id must exit 1"
grep -q "record_outcome.profile_id" "$dir/stderr" ||
    fail "no field path for the profile id: $(cat "$dir/stderr")"
# A workplace whose municipality is not its postcode's (2600 is Glostrup's,
# 161), and one near Aalborg with Glostrup's postcode.
sed 's/"municipality_code": "161"}/"municipality_code": "101"}/' \
    "$src/docs/examples/job-order.json" | j order submit - 2>"$dir/stderr"
[ $? = 1 ] || fail "a workplace in the wrong municipality must exit 1"
grep -q "workplace.municipality_code" "$dir/stderr" ||
    fail "no field path for the municipality: $(cat "$dir/stderr")"
sed 's/"municipality_code": "161"}/"municipality_code": "161", "latitude": 57.0, "longitude": 9.9}/' \
    "$src/docs/examples/job-order.json" | j order submit - 2>"$dir/stderr"
[ $? = 1 ] || fail "a workplace far from its postcode must exit 1"
grep -q "workplace.latitude" "$dir/stderr" ||
    fail "no field path for the coordinates: $(cat "$dir/stderr")"
# A title that would turn the terminal's text around in `order list`.
sed 's/"title": "[^"]*"/"title": "Lager\\u202emedarbejder"/' \
    "$src/docs/examples/job-order.json" | j order submit - 2>"$dir/stderr"
[ $? = 1 ] || fail "a right-to-left override in the title must exit 1"
grep -q "submit_order.order.title.*U+202E" "$dir/stderr" ||
    fail "the title's character not named: $(cat "$dir/stderr")"
j order frobnicate 2>"$dir/stderr"
[ $? = 2 ] || fail "an unknown command must exit 2"
grep -q "did you mean" "$dir/stderr" &&
    fail "a suggestion for a word like no command: $(cat "$dir/stderr")"
# A word of the same meaning, or a typing error, names the command meant.
for case in "order lsit:order list" "order show:order get" \
    "order delete:order close" "profile submit:profile put" \
    "profile delete:profile erase" "ordr:order"; do
    j ${case%%:*} 2>"$dir/stderr"
    [ $? = 2 ] || fail "'${case%%:*}' must exit 2"
    grep -qF "did you mean '${case#*:}'?" "$dir/stderr" ||
        fail "'${case%%:*}' did not suggest '${case#*:}': $(cat "$dir/stderr")"
done
"$jobmatch" --intake tcp://127.0.0.1:1 --timeout 200 order get "$id" 2>/dev/null
[ $? = 3 ] || fail "an unreachable service must exit 3"
set -e

j order --help | grep -q "usage: jobmatch order" || fail "order --help"
j order submit --help | grep -q "usage: jobmatch order submit" ||
    fail "submit --help"

# SIGTERM: the service stops and exits 0.
kill -TERM "$pid"
set +e
wait "$pid"
status=$?
set -e
pid=
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
echo "ok"
