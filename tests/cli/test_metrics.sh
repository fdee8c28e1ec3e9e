#!/usr/bin/env bash
# test_metrics.sh - `jobmatch metrics` against the real intake, profiles
# and matcher, checked as a monitoring system reads it:
#   - the text is the Prometheus format: every family has one HELP and one
#     TYPE line before its samples, every sample line parses, no family is
#     split;
#   - the numbers are the services' own: intake's log head and orders per
#     municipality and status, the matcher's orders, citizens and lag
#     (followed to 0), a closed order counted as withdrawn with its fill
#     rate;
#   - --out FILE replaces FILE whole (no FILE.tmp left, readable by the
#     agent); --json gives the same families;
#   - a service killed: jobmatch_up 0 for it, 1 for the others, their
#     numbers still there, exit status 3, and FILE still written.
# Waits are bounded loops over requests; nothing sleeps.
# Usage: test_metrics.sh JOBMATCH INTAKE PROFILES MATCHER
set -euo pipefail

jobmatch=$1
intake=$2
profiles=$3
matcher=$4
. "$(dirname "$0")/services.sh"

start intake "$intake" --api 'tcp://127.0.0.1:*'
intake_api=$api
start profiles "$profiles" --api 'tcp://127.0.0.1:*'
profiles_api=$api profiles_pid=$pid
start matcher "$matcher" --api 'tcp://127.0.0.1:*' \
    --source "$intake_api" --source "$profiles_api"
matcher_api=$api
j() { "$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --matcher "$matcher_api" --timeout 10000 "$@"; }

# value NAME LABELS: the value of the sample NAME{LABELS} in $out ("" if
# none); LABELS as printed, e.g. 'service="intake",endpoint="..."'.
value() {
    local line
    line=$(echo "$out" | grep -F -- "$1{$2} " || true)
    echo "${line##* }"
}
# sum NAME PATTERN: the sum of NAME's samples whose labels hold PATTERN.
sum() {
    echo "$out" | grep -E "^$1\{[^}]*$2" | awk '{ s += $NF } END { print s + 0 }'
}
# well_formed: the exposition format, as a scraper parses it.
well_formed() {
    echo "$1" | awk '
        /^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* ./ { help[$3]++; next }
        /^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (gauge|counter)$/ {
            if (typed[$3]++) { print "two TYPE lines for " $3; bad = 1 }
            if (!help[$3]) { print "TYPE before HELP for " $3; bad = 1 }
            family = $3; next
        }
        /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9][0-9.e+-]*$/ {
            name = $0; sub(/[{ ].*/, "", name)
            if (name != family) { print "sample outside its family: " $0; bad = 1 }
            n++; next
        }
        { print "not the format: " $0; bad = 1 }
        END { if (n == 0) { print "no samples"; bad = 1 } exit bad }'
}

m="endpoint=\"$matcher_api\""
# await ORDERS CITIZENS: asks until the matcher has applied both logs to
# their heads and holds that many (it follows them on its own).
await() {
    for _ in $(seq 500); do
        out=$(j metrics) || fail "metrics exited $? with every service up"
        if [ "$(value jobmatch_matcher_source_lag_events "$m,source=\"intake\",source_endpoint=\"$intake_api\"")" = 0 ] &&
            [ "$(value jobmatch_matcher_source_lag_events "$m,source=\"profiles\",source_endpoint=\"$profiles_api\"")" = 0 ] &&
            [ "$(value jobmatch_matcher_open_orders "$m")" = "$1" ] &&
            [ "$(value jobmatch_matcher_profiles "$m")" = "$2" ]; then
            return 0
        fi
    done
    fail "the matcher never held $1 orders and $2 citizens: $out"
}

j sample load --citizens 30 --orders 8 --municipalities 101,147 >/dev/null ||
    fail "sample load exited $?"
await 8 30
problems=$(well_formed "$out") || fail "not the Prometheus format: $problems
$out"
# Prometheus' own linter too, where Debian's prometheus is installed.
if command -v promtool >/dev/null; then
    problems=$(echo "$out" | promtool check metrics 2>&1) ||
        fail "promtool check metrics: $problems"
fi
for s in intake profiles matcher; do
    ep_var=${s}_api
    [ "$(value jobmatch_up "service=\"$s\",endpoint=\"${!ep_var}\"")" = 1 ] ||
        fail "$s is not up: $out"
done
[ "$(value jobmatch_matcher_source_applied_seq "$m,source=\"intake\",source_endpoint=\"$intake_api\"")" = 8 ] ||
    fail "intake's applied seq: $out"
# intake: one event per order so far, and the orders by municipality.
[ "$(value jobmatch_log_head_seq "service=\"intake\",endpoint=\"$intake_api\"")" = 8 ] ||
    fail "intake's head: $out"
[ "$(sum jobmatch_orders 'status="open"')" = 8 ] || fail "open orders: $out"
[ "$(sum jobmatch_orders 'municipality="(101|147)"')" = 8 ] ||
    fail "orders outside 101 and 147: $out"
grep -q '^jobmatch_fill_rate' <<<"$out" && fail "a fill rate before any order closed"

# An order withdrawn: counted so, and the fill rate of its municipality
# is now defined (0: none filled).
owner=$(j order get sample-1-0 --json | sed -n 's/^ *"owner_municipality": "\([0-9]*\)".*/\1/p')
[ -n "$owner" ] || fail "order sample-1-0 has no owner"
j order close sample-1-0 --withdrawn >/dev/null || fail "order close exited $?"
await 7 30
[ "$(value jobmatch_orders "municipality=\"$owner\",status=\"withdrawn\"")" = 1 ] ||
    fail "the withdrawn order in $owner: $out"
[ "$(value jobmatch_fill_rate "municipality=\"$owner\"")" = 0 ] ||
    fail "the fill rate of $owner: $out"
[ "$(sum jobmatch_orders 'status="open"')" = 7 ] || fail "open after close: $out"

# --out: the same text in the file, replaced whole.
j metrics --out "$dir/jobmatch.prom" >"$dir/stdout" || fail "--out exited $?"
[ -s "$dir/stdout" ] && fail "--out printed to stdout too"
[ -e "$dir/jobmatch.prom.tmp" ] && fail "--out left its temporary file"
[ "$(stat -c %a "$dir/jobmatch.prom")" = 644 ] ||
    fail "the file is mode $(stat -c %a "$dir/jobmatch.prom"), not 644"
problems=$(well_formed "$(cat "$dir/jobmatch.prom")") ||
    fail "the file is not the format: $problems"
grep -q "^jobmatch_orders{municipality=\"$owner\",status=\"withdrawn\"} 1$" \
    "$dir/jobmatch.prom" || fail "the file lacks the withdrawn order"
# --json: the same families.
json=$(j --json metrics 2>"$dir/json.err") ||
    fail "--json exited $?: $(cat "$dir/json.err")"
for name in jobmatch_up jobmatch_orders jobmatch_matcher_source_lag_events; do
    # (Once, under TSan, jobmatch_orders was missing with exit 0; all that
    # was seen then is kept here for the next time: the families there
    # were, stderr, and intake's own answer.)
    grep -q "\"name\": \"$name\"" <<<"$json" ||
        fail "--json lacks $name; it has: $(grep -o '"name": "[a-z_]*"' <<<"$json" |
            tr '\n' ' '); stderr: $(cat "$dir/json.err"); order stats now: $(j order stats 2>&1)"
done

# profiles killed: reported down, the rest still there, exit 3, and the
# file written all the same.
kill -KILL "$profiles_pid"
wait "$profiles_pid" 2>/dev/null || true
set +e
out=$("$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --matcher "$matcher_api" --timeout 500 metrics 2>"$dir/err")
rc=$?
"$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --matcher "$matcher_api" --timeout 500 metrics --out "$dir/jobmatch.prom" \
    2>/dev/null
rc_out=$?
set -e
[ "$rc" = 3 ] || fail "exit $rc with profiles down, not 3"
[ "$rc_out" = 3 ] || fail "exit $rc_out with --out and profiles down, not 3"
grep -q "profiles service at $profiles_api did not answer" "$dir/err" ||
    fail "nothing said of profiles: $(cat "$dir/err")"
[ "$(value jobmatch_up "service=\"profiles\",endpoint=\"$profiles_api\"")" = 0 ] ||
    fail "profiles not reported down: $out"
[ "$(value jobmatch_up "service=\"intake\",endpoint=\"$intake_api\"")" = 1 ] ||
    fail "intake not reported up: $out"
[ "$(value jobmatch_matcher_open_orders "$m")" = 7 ] ||
    fail "the matcher's numbers are gone: $out"
problems=$(well_formed "$out") || fail "not the format with a service down: $problems"
grep -q "^jobmatch_up{service=\"profiles\",endpoint=\"$profiles_api\"} 0$" \
    "$dir/jobmatch.prom" || fail "the file does not say profiles is down"

# Usage.
set +e
j metrics --bogus >/dev/null 2>&1
[ $? = 2 ] || fail "an unknown option is not a usage error"
j metrics --out >/dev/null 2>&1
[ $? = 2 ] || fail "--out without a file is not a usage error"
set -e
j metrics --help | grep -q "Prometheus text format" || fail "--help"
echo "ok"
