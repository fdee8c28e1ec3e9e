#!/usr/bin/env bash
# test_compose_keys.sh - deploy/docker/compose-keys.sh (compose.curve.yaml's
# `keys` service) outside a container, with the real services reading what
# it writes:
#   - one pair per service volume (0600), one monitor pair in all of them,
#     every service's public key in each, the public keys printed;
#   - the allow lists: monitor everywhere, the matcher as service:matcher
#     on intake only, which the real intake and matcher accept (the matcher
#     follows intake with its key; the health check's ping answers
#     'monitor'; a key not listed is refused);
#   - run again with a client: the keys stay, the client is on every list,
#     and after a SIGHUP the same processes answer it; a third run keeps it;
#   - a malformed client line: exit 2, nothing changed.
# Usage: test_compose_keys.sh JOBMATCH INTAKE MATCHER SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
matcher=$3
src=$4
. "$(dirname "$0")/services.sh"

keys_script=$src/deploy/docker/compose-keys.sh
keys=$dir/keys
mkdir -p "$keys/intake-101" "$keys/matcher"
make_keys() {
    PATH="$(dirname "$jobmatch"):$PATH" JOBMATCH_KEYS_DIR="$keys" \
        JOBMATCH_KEYS_USER="$(id -un)" sh "$keys_script" "$@"
}
mode() { stat -c %a "$1"; }
public_of() { sed -n 's/^public //p' "$1"; }

printed=$(make_keys) || fail "compose-keys.sh exited $?"
want=$(printf 'intake-101 %s\nmatcher %s' \
    "$(public_of "$keys/intake-101/self.key")" \
    "$(public_of "$keys/matcher/self.key")")
[ "$printed" = "$want" ] || fail "printed '$printed', not '$want'"
for svc in intake-101 matcher; do
    for f in self.key monitor.key; do
        [ "$(mode "$keys/$svc/$f")" = 600 ] ||
            fail "$svc/$f has mode $(mode "$keys/$svc/$f")"
    done
    cmp -s "$keys/intake-101/monitor.key" "$keys/$svc/monitor.key" ||
        fail "$svc has another monitor pair"
    for other in intake-101 matcher; do
        [ "$(public_of "$keys/$svc/$other.pub")" = \
            "$(public_of "$keys/$other/self.key")" ] ||
            fail "$svc/$other.pub is not $other's public key"
    done
done
monitor_line="$(public_of "$keys/matcher/monitor.key") monitor"
matcher_line="$(public_of "$keys/matcher/self.key") service:matcher"
[ "$(cat "$keys/intake-101/allow")" = "$monitor_line
$matcher_line" ] || fail "intake's allow list: $(cat "$keys/intake-101/allow")"
[ "$(cat "$keys/matcher/allow")" = "$monitor_line" ] ||
    fail "the matcher's allow list: $(cat "$keys/matcher/allow")"

start intake "$intake" --api 'tcp://127.0.0.1:*' \
    --key-file "$keys/intake-101/self.key" \
    --allow-file "$keys/intake-101/allow"
intake_api=$api intake_pid=$pid
start matcher "$matcher" --api 'tcp://127.0.0.1:*' \
    --key-file "$keys/matcher/self.key" --allow-file "$keys/matcher/allow" \
    --source "$intake_api" --source-key "$keys/matcher/intake-101.pub"
matcher_api=$api matcher_pid=$pid

# As compose.curve.yaml's health checks ping.
as() { # as KEYFILE ARGS...
    local key=$1
    shift
    "$jobmatch" --intake "$intake_api" --matcher "$matcher_api" \
        --key "$key" --intake-key "$keys/intake-101/self.pub" \
        --matcher-key "$keys/matcher/self.pub" --timeout 2000 "$@"
}
for pair in intake:intake-101 matcher:matcher; do
    out=$(as "$keys/${pair#*:}/monitor.key" ping "${pair%%:*}" 2>&1) ||
        fail "the health check's ping of ${pair%%:*}: $out"
    case $out in *"you are 'monitor'"*) ;; *) fail "ping $pair: $out" ;; esac
done

"$jobmatch" node keygen "$dir/admin.key" >"$dir/admin.pub"
admin_line="$(cat "$dir/admin.pub") admin"
rc=0
as "$dir/admin.key" ping intake >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "a key on no allow list: ping exited $rc, not 3"

# Again with a client: the same keys, the client on both lists.
before=$(cat "$keys"/*/self.key "$keys"/*/monitor.key)
printed_again=$(make_keys "$admin_line") || fail "second run exited $?"
[ "$printed_again" = "$printed" ] || fail "second run printed other keys"
[ "$(cat "$keys"/*/self.key "$keys"/*/monitor.key)" = "$before" ] ||
    fail "a second run changed a pair"
for svc in intake-101 matcher; do
    [ "$(tail -n 1 "$keys/$svc/allow")" = "$admin_line" ] ||
        fail "$svc's allow list lacks the client: $(cat "$keys/$svc/allow")"
done
[ "$(wc -l <"$keys/intake-101/allow")" = 3 ] ||
    fail "intake's list: $(cat "$keys/intake-101/allow")"

kill -HUP "$intake_pid" "$matcher_pid"
# The admin key is answered once each service has read its list again; the
# services log the reload before they answer again, and a ping is one try.
for svc in intake matcher; do
    for _ in $(seq 1 50); do
        out=$(as "$dir/admin.key" ping "$svc" 2>/dev/null) && break
    done
    case $out in *"you are 'admin'"*) ;; *) fail "admin's ping of $svc: $out" ;; esac
done
kill -0 "$intake_pid" "$matcher_pid" || fail "a service stopped at SIGHUP"

# The matcher follows intake as service:matcher: an order submitted
# through intake is counted by the matcher.
as "$dir/admin.key" order submit "$src/docs/examples/job-order.json" \
    >/dev/null || fail "admin could not submit an order"
for _ in $(seq 1 200); do
    open=$(as "$dir/admin.key" matcher stats --json |
        sed -n 's/^ *"open_orders": \([0-9]*\).*/\1/p')
    [ "$open" = 1 ] && break
done
[ "$open" = 1 ] || fail "the matcher did not follow intake (open_orders '$open')"

# A third run without clients keeps the one given before.
make_keys >/dev/null || fail "third run exited $?"
grep -qxF "$admin_line" "$keys/matcher/allow" || fail "the client was lost"

# A malformed line: refused, every file as it was.
snapshot=$(cat "$keys"/*/*)
rc=0
err=$(make_keys "not-a-key caseworker:101" 2>&1 >/dev/null) || rc=$?
[ "$rc" = 2 ] || fail "a malformed client line: exit $rc, not 2"
case $err in *"PUBLIC_KEY principal"*) ;; *) fail "malformed line: $err" ;; esac
[ "$(cat "$keys"/*/*)" = "$snapshot" ] || fail "a refused run changed a file"
echo "PASS: compose-keys.sh"
