#!/bin/sh
# compose-keys.sh - the CURVE keys and allow lists of compose.curve.yaml
# (in the image as jobmatch-compose-keys; its `keys` service runs it).
#
#   jobmatch-compose-keys ['PUBLIC_KEY principal']...
#
# Every directory under /keys is one service's key volume, named after the
# service (intake-101, profiles-147, matcher, ...; a name that starts with
# intake or profiles is a source of the matcher). In each it makes once
#   self.key     the service's own pair (0600, the jobmatch user's)
#   monitor.key  the pair of the health checks (one for all; principal
#                monitor: Ping and statistics, nothing about an order or a
#                citizen)
# and writes every time
#   self.pub, NAME.pub   the service's own and every service's public key
#                        (the health check's and the matcher's source keys)
#   clients      the lines given here, kept from earlier runs
#   allow        the allow list: monitor; intake's and profiles' also the
#                matcher as service:matcher; then every line of clients
# A key made before is kept, so run it again to add a client (a caseworker,
# a jobcentre's system) and then `docker-compose kill -s HUP` the services:
# they read their allow lists again without a restart. A client given here
# goes into every service's list; for finer lists edit clients in a volume
# and run it again. Prints each service's public key, "NAME KEY" a line.
#
# JOBMATCH_KEYS_DIR (default /keys) and JOBMATCH_KEYS_USER (default jobmatch,
# who owns the pairs) are for tests/cli/test_compose_keys.sh, which runs it
# outside a container.
set -eu

keys=${JOBMATCH_KEYS_DIR:-/keys}
user=${JOBMATCH_KEYS_USER:-jobmatch}
monitor_principal=monitor

fail() {
    echo "jobmatch-compose-keys: $*" >&2
    exit 2
}

public_of() { sed -n 's/^public //p' "$1"; }

# write_file PATH MODE: stdin to PATH through a rename, so that a service
# reading it at a SIGHUP sees the old file or the new, never half of one.
write_file() {
    cat > "$1.tmp"
    chmod "$2" "$1.tmp"
    mv -f "$1.tmp" "$1"
}

services=""
for dir in "$keys"/*/; do
    [ -d "$dir" ] || continue
    services="$services $(basename "$dir")"
done
[ -n "$services" ] || fail "no key volume mounted under $keys"

# The clients given: 'KEY principal', a Z85 key of 40 characters. The
# services check the principal's form when they read the list (and refuse a
# bad list whole); this catches a line pasted wrong before it gets there.
for line in "$@"; do
    key=${line%% *}
    principal=${line#* }
    if [ "$key" = "$line" ] || [ ${#key} -ne 40 ] || [ -z "$principal" ]; then
        fail "\"$line\": want 'PUBLIC_KEY principal' (the 40 characters" \
             "jobmatch node keygen printed, a space, e.g. caseworker:101)"
    fi
done

# One monitor pair for every health check: reuse the one a volume holds.
monitor_source=""
for svc in $services; do
    if [ -f "$keys/$svc/monitor.key" ]; then
        monitor_source=$keys/$svc/monitor.key
        break
    fi
done
if [ -z "$monitor_source" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    monitor_source=$tmp/monitor.key
    jobmatch node keygen "$monitor_source" > /dev/null
fi

for svc in $services; do
    dir=$keys/$svc
    chgrp "$(id -gn "$user")" "$dir"
    chmod 0750 "$dir"
    if [ ! -f "$dir/self.key" ]; then
        jobmatch node keygen "$dir/self.key" > /dev/null
        chown "$user:" "$dir/self.key"
    fi
    if [ ! -f "$dir/monitor.key" ]; then
        cp "$monitor_source" "$dir/monitor.key"
        chmod 0600 "$dir/monitor.key"
        chown "$user:" "$dir/monitor.key"
    fi
    touch "$dir/clients"
    for line in "$@"; do
        grep -qxF -- "$line" "$dir/clients" || printf '%s\n' "$line" >> "$dir/clients"
    done
done

for svc in $services; do
    public=$(public_of "$keys/$svc/self.key")
    for dir in $services; do
        printf 'public %s\n' "$public" | write_file "$keys/$dir/$svc.pub" 0644
    done
    printf 'public %s\n' "$public" | write_file "$keys/$svc/self.pub" 0644
done

matcher_public=""
for svc in $services; do
    case $svc in matcher*) matcher_public=$(public_of "$keys/$svc/self.key") ;; esac
done

for svc in $services; do
    dir=$keys/$svc
    {
        printf '%s %s\n' "$(public_of "$dir/monitor.key")" "$monitor_principal"
        case $svc in
        intake*|profiles*)
            [ -z "$matcher_public" ] || printf '%s service:matcher\n' "$matcher_public"
            ;;
        esac
        cat "$dir/clients"
    } | write_file "$dir/allow" 0644
done

for svc in $services; do
    printf '%s %s\n' "$svc" "$(public_of "$keys/$svc/self.key")"
done
