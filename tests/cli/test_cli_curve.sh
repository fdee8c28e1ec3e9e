#!/usr/bin/env bash
# test_cli_curve.sh - the CLI against services that use CURVE, without a
# node directory (as under systemd): --key FILE (the caller's pair) and
# --intake-key / --matcher-key (each service's public key, as text or as a
# file).
#   - an allowed key gets answers, with its principal's rights (admin
#     submits an order; a municipality key is refused another's order),
#     and matcher watch's notifications (a caseworker's key is told that
#     it may not subscribe: exit 1, where the watch used to wait for ever);
#   - no key, a key not on the allow list, or the wrong service key gets no
#     answer (exit 3), and a line that says which;
#   - the same keys and endpoints from the environment (JOBMATCH_KEY,
#     JOBMATCH_INTAKE_KEY, JOBMATCH_INTAKE), the line's options winning;
#   - a service key without --key, --key without a service key, a key file
#     others may read, a malformed service key: usage errors (exit 2),
#     each saying what is wrong;
#   - node keygen makes its file's directories and ignores the client's
#     variables;
#   - SIGHUP reads the allow list again (intake and matcher): a key added
#     is answered, a key removed is refused (on a connection made before
#     too: the matcher's fetches), a bad file keeps the old list.
# Usage: test_cli_curve.sh JOBMATCH INTAKE MATCHER PROFILES SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
matcher=$3
profiles=$4
src=$5
. "$(dirname "$0")/services.sh"

keygen() { "$jobmatch" node keygen "$dir/$1.key"; }
intake_pub=$(keygen intake)
matcher_pub=$(keygen matcher)
admin_pub=$(keygen admin)
muni_pub=$(keygen muni147)
stranger_pub=$(keygen stranger)
# keygen needs no key of its own, also with a shell profile's variables
# set, and makes its file's directories (the docs' ~/.jobmatch/admin.key).
JOBMATCH_INTAKE_KEY=x "$jobmatch" node keygen "$dir/new/dir/extra.key" \
    >/dev/null || fail "keygen with JOBMATCH_INTAKE_KEY set, in a new directory"
[ "$(stat -c %a "$dir/new/dir/extra.key")" = 600 ] || fail "extra.key not 0600"
printf '%s admin\n%s municipality:147\n%s service:matcher\n' \
    "$admin_pub" "$muni_pub" "$matcher_pub" >"$dir/allow"
printf 'public %s\n' "$intake_pub" >"$dir/intake.pub"

start intake "$intake" --api 'tcp://127.0.0.1:*' \
    --key-file "$dir/intake.key" --allow-file "$dir/allow"
intake_api=$api intake_pid=$pid
# The matcher follows intake with its own key (service:matcher); the same
# allow list lets admin in.
start matcher "$matcher" --api 'tcp://127.0.0.1:*' \
    --key-file "$dir/matcher.key" --allow-file "$dir/allow" \
    --source "$intake_api" --source-key "$dir/intake.pub"
matcher_api=$api matcher_pid=$pid

j() { "$jobmatch" --intake "$intake_api" --matcher "$matcher_api" \
    --timeout 2000 "$@"; }
expect() { # expect STATUS MESSAGE_PART COMMAND...: exit status and stderr
    local want=$1 part=$2 rc=0 err
    shift 2
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = "$want" ] || fail "$* exited $rc, not $want: $err"
    case $err in *"$part"*) ;; *) fail "$*: no '$part' in: $err" ;; esac
}

# Allowed: the public key as text, or as a file.
out=$(j --key "$dir/admin.key" --intake-key "$intake_pub" ping intake) ||
    fail "ping with the admin key exited $?: $out"
case $out in *"you are 'admin'"*) ;; *) fail "ping as admin: $out" ;; esac
out=$(j --key "$dir/admin.key" --intake-key "$dir/intake.pub" \
    --matcher-key "$matcher_pub" ping matcher) ||
    fail "ping matcher with the admin key exited $?: $out"
case $out in *"you are 'admin'"*) ;; *) fail "ping matcher: $out" ;; esac

# Rights follow the key: admin submits the example order (Glostrup, 161);
# the key of municipality 147 may not read it.
id=$(j --key "$dir/admin.key" --intake-key "$intake_pub" order submit \
    "$src/docs/examples/job-order.json" --json |
    sed -n 's/^ *"id": "\([^"]*\)".*/\1/p')
[ -n "$id" ] || fail "admin could not submit the example order"
j --key "$dir/admin.key" --intake-key "$intake_pub" order get "$id" \
    >/dev/null || fail "admin cannot read order $id"
expect 1 permission_denied j --key "$dir/muni147.key" \
    --intake-key "$intake_pub" order get "$id"

# matcher watch subscribes with the same keys: orders are submitted until
# it prints one (a SUB misses what is published while it joins; each read
# waits at most two seconds, nothing sleeps).
mkfifo "$dir/watch.out"
"$jobmatch" --matcher "$matcher_api" --key "$dir/admin.key" \
    --matcher-key "$matcher_pub" matcher watch --json \
    >"$dir/watch.out" 2>>"$dir/watch.log" &
pids+=("$!")
exec {watch}<"$dir/watch.out"
line=
for _ in $(seq 20); do
    j --key "$dir/admin.key" --intake-key "$intake_pub" order submit \
        "$src/docs/examples/job-order.json" >/dev/null
    if IFS= read -r -t 2 line <&"$watch"; then break; fi
done
case $line in '{"order_id":'*) ;; *) fail "matcher watch with --key: '$line'" ;; esac

# Refused during the handshake: no answer (ZeroMQ says nothing), then the
# CLI's look at the handshake says which key is wrong.
expect 3 "if the service uses CURVE" j --timeout 500 ping intake
expect 3 "refused your key" j --timeout 500 --key "$dir/stranger.key" \
    --intake-key "$intake_pub" ping intake
# The right pair but another service's key.
expect 3 "is --intake-key" j --timeout 500 --key "$dir/admin.key" \
    --intake-key "$matcher_pub" ping intake

# The same from the environment, as an operator's shell profile would set
# it: endpoints and keys as variables, an option on the line winning.
out=$(env JOBMATCH_INTAKE="$intake_api" JOBMATCH_KEY="$dir/admin.key" \
    JOBMATCH_INTAKE_KEY="$dir/intake.pub" "$jobmatch" ping intake) ||
    fail "ping with the keys in the environment exited $?: $out"
case $out in *"you are 'admin'"*) ;; *) fail "ping from the environment: $out" ;; esac
expect 3 "refused your key" env JOBMATCH_KEY="$dir/admin.key" \
    JOBMATCH_INTAKE_KEY="$intake_pub" "$jobmatch" --intake "$intake_api" \
    --timeout 500 --key "$dir/stranger.key" ping intake
expect 2 "JOBMATCH_INTAKE_KEY needs --key FILE (or JOBMATCH_KEY)" \
    env JOBMATCH_INTAKE_KEY="$intake_pub" "$jobmatch" --intake "$intake_api" \
    ping intake

# Usage errors, each naming the problem.
expect 2 "needs --key" j --intake-key "$intake_pub" ping intake
expect 2 "needs the public key of a service" j --key "$dir/admin.key" \
    ping intake
chmod 0640 "$dir/admin.key"
expect 2 "chmod 0600" j --key "$dir/admin.key" --intake-key "$intake_pub" \
    ping intake
chmod 0600 "$dir/admin.key"
expect 2 "neither a public key" j --key "$dir/admin.key" \
    --intake-key "not-a-key" ping intake
# SIGHUP (systemctl reload) reads the allow list again, without a
# restart: the stranger's key added as a caseworker of 147, the
# municipality's removed (refused from its next connection); a file with a
# bad line leaves the list as it was. The reload is awaited in the log.
# reloaded NAME TEXT COUNT: waits (a bounded loop, nothing sleeps) until
# NAME's log holds TEXT COUNT times.
reloaded() {
    for _ in $(seq 2000); do
        [ "$(grep -cF "$2" "$dir/$1.log")" -ge "$3" ] && return 0
    done
    fail "$1 did not log '$2' $3 time(s)"
}
as_stranger() { j --key "$dir/stranger.key" --intake-key "$intake_pub" \
    --matcher-key "$matcher_pub" "$@"; }
printf '%s admin\n%s caseworker:147\n%s service:matcher\n' \
    "$admin_pub" "$stranger_pub" "$matcher_pub" >"$dir/allow"
kill -HUP "$intake_pid"
reloaded intake "allow list $dir/allow read again: 3 keys" 1
out=$(as_stranger ping intake) || fail "the stranger's key after the reload: $out"
case $out in *"you are 'caseworker:147'"*) ;; *) fail "after the reload: $out" ;; esac
expect 3 "refused your key" j --timeout 500 --key "$dir/muni147.key" \
    --intake-key "$intake_pub" ping intake
# metrics with a key an allow list lacks: down, and the journal says why.
expect 3 "refused the key $muni_pub: add it to that service's allow list as 'monitor'" \
    j --timeout 500 --key "$dir/muni147.key" --intake-key "$intake_pub" metrics
# The matcher the same way (its notifications' socket follows).
expect 3 "refused your key" j --timeout 500 --key "$dir/stranger.key" \
    --matcher-key "$matcher_pub" ping matcher
kill -HUP "$matcher_pid"
reloaded matcher "allow list $dir/allow read again: 3 keys" 1
out=$(as_stranger ping matcher) || fail "the stranger at the matcher: $out"
case $out in *"you are 'caseworker:147'"*) ;; *) fail "matcher after the reload: $out" ;; esac
# A caseworker may ask the matcher, but not subscribe to its notifications:
# the watch says so and ends (it waited for ever, the key silently dropped).
expect 1 "does not let your key" timeout 20 "$jobmatch" \
    --matcher "$matcher_api" --timeout 2000 --key "$dir/stranger.key" \
    --matcher-key "$matcher_pub" matcher watch --count 1
# A bad line: refused, logged, the list loaded before stays (intake still
# answers the stranger and the matcher, whose source it is, still follows).
printf '%s caseworker:147\n%s\n' "$stranger_pub" "$muni_pub" >"$dir/allow"
kill -HUP "$intake_pid"
reloaded intake "not read again, the one loaded before stays" 1
out=$(as_stranger ping intake) || fail "the stranger after a bad reload: $out"
case $out in *"you are 'caseworker:147'"*) ;; *) fail "after a bad reload: $out" ;; esac
kill -0 "$intake_pid" "$matcher_pid" || fail "a SIGHUP ended a service"

# A key taken off the list is refused on a connection it made before, too
# (ZeroMQ keeps one as long as the peer likes): the matcher's, at its next
# fetch; and its subscription to the ticks, which a PUB cannot refuse per
# message, is dropped (it would go on receiving a small commit's events).
# Put back, it follows again.
as_admin() { j --key "$dir/admin.key" --intake-key "$intake_pub" \
    --matcher-key "$matcher_pub" "$@"; }
printf '%s admin\n%s caseworker:147\n' "$admin_pub" "$stranger_pub" \
    >"$dir/allow"
kill -HUP "$intake_pid"
reloaded intake "allow list $dir/allow read again: 2 keys" 1
reloaded intake "a key was taken off allow list jobmatch.log: 1 subscriber connection(s)" 1
as_admin order submit "$src/docs/examples/job-order.json" >/dev/null ||
    fail "admin could not submit an order"
reloaded intake "rejected request from a key no longer on the allow list" 1
reloaded matcher "your key is no longer on this service's allow list" 1
printf '%s admin\n%s caseworker:147\n%s service:matcher\n' \
    "$admin_pub" "$stranger_pub" "$matcher_pub" >"$dir/allow"
kill -HUP "$intake_pid"
reloaded intake "allow list $dir/allow read again: 3 keys" 2
head=$(as_admin ping intake | sed -n 's/.*head seq \([0-9]*\).*/\1/p')
[ -n "$head" ] || fail "ping intake gave no head seq"
for _ in $(seq 500); do
    applied=$(as_admin matcher stats --json |
        sed -n 's/^ *"applied_seq": \([0-9]*\).*/\1/p')
    [ "$applied" = "$head" ] && break
done
[ "$applied" = "$head" ] ||
    fail "the matcher, listed again, applied $applied of intake's $head events"
echo "test_cli_curve: ok"
