#!/usr/bin/env bash
# test_matcher_watch.sh - `jobmatch matcher watch` against the real intake,
# profiles and matcher:
#   - it prints the notification of an order submitted through intake (one
#     JSON object per line with --json, numbered by its seq);
#   - the matcher killed with SIGKILL and started again on the same api
#     endpoint publishes on another (ephemeral) port: the watch follows it
#     and prints the next order's notification;
#   - SIGINT ends it with status 0;
#   - a SUB misses what is published while it joins, so orders are
#     submitted until one is seen; the watch counts those it missed so
#     (it asked the matcher for its last seq, 0 here, before subscribing):
#     when the first it prints is seq N > 1, its stderr says "missed N-1
#     notifications (published while this watch subscribed)", and when it
#     is 1, it says nothing of the kind.
# Every wait is a bounded read on a FIFO (nothing sleeps).
# Usage: test_matcher_watch.sh JOBMATCH INTAKE PROFILES MATCHER SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
profiles=$3
matcher=$4
example=$5/docs/examples/job-order.json
. "$(dirname "$0")/services.sh"

start intake "$intake" --api 'tcp://127.0.0.1:*'
intake_api=$api
start profiles "$profiles" --api 'tcp://127.0.0.1:*'
profiles_api=$api
start matcher "$matcher" --api 'tcp://127.0.0.1:*' \
    --source "$intake_api" --source "$profiles_api"
matcher_api=$api matcher_pid=$pid first_publish=$publish
j() { "$jobmatch" --intake "$intake_api" --profiles "$profiles_api" \
    --matcher "$matcher_api" --timeout 10000 "$@"; }

# The watch, its output and its messages read through FIFOs.
mkfifo "$dir/watch.out" "$dir/watch.err"
# (the program itself in the background, not the function j: $! must be
# its pid for the SIGINT at the end)
"$jobmatch" --matcher "$matcher_api" --timeout 10000 matcher watch --json \
    >"$dir/watch.out" 2>"$dir/watch.err" &
watch=$!
pids+=("$watch")
exec {out}<"$dir/watch.out" {err}<"$dir/watch.err"
IFS= read -r -t 30 line <&"$err" || fail "matcher watch said nothing"
case $line in
"watching shortlist changes at $first_publish"*) ;;
*) fail "matcher watch said: $line" ;;
esac
cat <&"$err" >>"$dir/watch.err.log" &
err_reader=$!
first_seq=

# see: submits orders until the watch prints one of them (each waited for
# up to two seconds, twenty at most).
see() {
    local ids=" " id line
    for _ in $(seq 20); do
        id=$(j order submit "$example" --json |
            sed -n 's/^ *"id": "\([^"]*\)".*/\1/p')
        [ -n "$id" ] || fail "order submit gave no id"
        ids="$ids$id "
        while IFS= read -r -t 2 line <&"$out"; do
            echo "$line" >>"$dir/watch.log"
            id=$(echo "$line" | sed -n 's/^{"order_id":"\([^"]*\)".*/\1/p')
            case $ids in *" $id "*)
                [ -n "$id" ] || continue
                # numbered: the matcher's count of notifications so far
                grep -q '"seq":"*[1-9][0-9]*"*[,}]' <<<"$line" ||
                    fail "$1: a notification without its seq: $line"
                [ -n "$first_seq" ] || first_seq=$(echo "$line" |
                    sed -n 's/.*"seq":"*\([0-9]*\)"*[,}].*/\1/p')
                return 0 ;;
            esac
        done
    done
    fail "$1: none of the submitted orders was seen:$ids"
}
see "before the restart"

# The matcher killed and started again on the same api endpoint: its
# publish port is a new ephemeral one, which the watch finds by asking.
kill -KILL "$matcher_pid"
wait "$matcher_pid" 2>/dev/null || true
start matcher "$matcher" --api "$matcher_api" \
    --source "$intake_api" --source "$profiles_api"
[ "$api" = "$matcher_api" ] || fail "restarted on $api, not $matcher_api"
echo "publish endpoint: $first_publish, then $publish" >>"$dir/watch.log"
see "after the restart"

kill -INT "$watch"
status=0
wait "$watch" || status=$?
[ "$status" = 0 ] || fail "matcher watch exited $status after SIGINT"
wait "$err_reader" || true
cat "$dir/watch.err.log" >>"$dir/watch.log"
# What the first subscription missed while it joined: the lines before the
# watch followed the restarted matcher.
sed '/the matcher publishes at/,$d' "$dir/watch.err.log" >"$dir/first.err"
joined="published while this watch subscribed"
if [ "$first_seq" -gt 1 ]; then
    grep -q "missed $((first_seq - 1)) notifications* ($joined)" \
        "$dir/first.err" ||
        fail "first notification seq $first_seq, but the watch did not say" \
            "it missed $((first_seq - 1)): $(cat "$dir/first.err")"
else
    ! grep -q "$joined" "$dir/first.err" ||
        fail "first notification seq 1, yet: $(cat "$dir/first.err")"
fi
echo "first notification seen: seq $first_seq" >>"$dir/watch.log"
echo "ok: matcher watch followed the matcher from $first_publish to $publish;" \
    "its first notification was seq $first_seq"
