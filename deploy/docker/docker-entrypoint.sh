#!/bin/sh
# docker-entrypoint.sh - what a jobmatch container runs.
#
#   intake|profiles|matcher [ARGS...]
#       runs jobmatch-<service> with /etc/jobmatch/<service>.conf if it is
#       there (mount your own), else with its data in
#       /var/lib/jobmatch/<service>; ARGS override the config
#       (--api tcp://0.0.0.0:7101, --source ..., see deploy/config/).
#   jobmatch ARGS...      the CLI
#   anything else         run as given (sh, mdb_copy, ...)
#
# exec: the service is PID 1 and receives `docker stop`'s SIGTERM itself;
# it handles it (finishes the commit in progress, closes its store).
set -eu

case "${1:-}" in
intake|profiles|matcher)
    service=$1
    shift
    conf=/etc/jobmatch/$service.conf
    if [ -f "$conf" ]; then
        exec "jobmatch-$service" -c "$conf" "$@"
    fi
    exec "jobmatch-$service" --data-dir "/var/lib/jobmatch/$service" "$@"
    ;;
--help|-h|"")
    sed -n '2,13p' "$0"
    exit 0
    ;;
esac
exec "$@"
