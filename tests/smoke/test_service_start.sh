#!/usr/bin/env bash
# test_service_start.sh - the three service binaries at start and stop, as
# an operator following docs/operations.md meets them:
#   - allow_file without key_file is a config error (exit 2, "allow_file
#     needs key_file: ..."), not a plain service where every caller is
#     'local' and the allow list is ignored;
#   - a key pair file others may read (0640) stops the start (exit 1) with
#     the chmod that cures it, said once, not followed by a second line
#     ending "Operation not permitted"; a key file that is not there says
#     so, and no service leaves a data directory behind;
#   - a data.mdb cut short (intake's, the matcher's) stops the start (exit
#     1) with the file, its size and "cut short: restore it from a backup",
#     where LMDB alone dies of SIGBUS (exit 135) without a word;
#   - a service whose stderr reader went away (a `jobmatch node` killed
#     with kill -9) still stops at SIGTERM with status 0: writing "SIGTERM
#     received" to the dead pipe fails instead of killing it (SIGPIPE).
# Nothing sleeps: every wait is a read with a deadline on the service's
# stderr, or the service's end.
# Usage: test_service_start.sh JOBMATCH INTAKE PROFILES MATCHER SOURCE_DIR
set -euo pipefail

jobmatch=$1
intake=$2
profiles=$3
matcher=$4
src=$5
. "$src/tests/cli/services.sh"

# run_to_end NAME BINARY ARGS...: runs a service that is expected not to
# start; its stderr into $dir/NAME.out, its exit status in $status. If it
# says ready after all, it is killed and the test fails at once (rather
# than at ctest's timeout).
run_to_end() {
    local name=$1 bin=$2 line fifo fd p started=no
    shift 2
    fifo="$dir/$name.$RANDOM.end"
    mkfifo "$fifo"
    "$bin" "$@" 2>"$fifo" >/dev/null &
    p=$!
    pids+=("$p")
    exec {fd}<"$fifo"
    : >"$dir/$name.out"
    while IFS= read -r -t 60 line <&"$fd"; do
        echo "$line" >>"$dir/$name.out"
        case $line in
        *": ready "*)
            started=yes
            kill -KILL "$p"
            break
            ;;
        esac
    done
    exec {fd}<&-
    status=0
    wait "$p" || status=$?
    [ "$started" = no ] || fail "$name started: $(cat "$dir/$name.out")"
}

# expect_out NAME STATUS TEXT: run_to_end's status and a part of stderr.
expect_out() {
    [ "$status" = "$2" ] ||
        fail "$1: exit $status, not $2: $(cat "$dir/$1.out")"
    grep -qF -- "$3" "$dir/$1.out" ||
        fail "$1: no \"$3\" in: $(cat "$dir/$1.out")"
}

# stop_with_reader_gone NAME PID FD: closes our end of the service's
# stderr (the only reader), sends SIGTERM, and expects exit status 0.
stop_with_reader_gone() {
    local name=$1 p=$2 fd=$3 st=0
    exec {fd}<&-
    kill -TERM "$p"
    wait "$p" || st=$?
    [ "$st" = 0 ] || fail "$name with its stderr reader gone: exit $st at" \
        "SIGTERM (141 is SIGPIPE), not 0"
}

# expect_once NAME TEXT: TEXT in exactly one line of NAME's stderr.
expect_once() {
    local n
    n=$(grep -cF -- "$2" "$dir/$1.out" || true)
    [ "$n" = 1 ] || fail "$1: \"$2\" in $n lines, not 1: $(cat "$dir/$1.out")"
}

# start_reader NAME BINARY ARGS...: services.sh's start, but the stderr
# FIFO stays ours alone (no drain after ready): sets api, pid and fd.
start_reader() { keep_stderr=1 start "$@"; }

any='tcp://127.0.0.1:*'
none="ipc://$dir/nobody" # a source that never answers

# ---- allow_file without key_file: refused, by all three ----
printf 'rq:rM>}U?@Lns47E1%%kR.o@n%%FcmmsL/@{H8]yf7 admin\n' >"$dir/x.allow"
run_to_end intake-allow "$intake" --data-dir "$dir/ia" --api "$any" \
    --allow-file "$dir/x.allow"
expect_out intake-allow 2 "jobmatch-intake: allow_file needs key_file: "
run_to_end profiles-allow "$profiles" --data-dir "$dir/pa" --api "$any" \
    --allow-file "$dir/x.allow"
expect_out profiles-allow 2 "jobmatch-profiles: allow_file needs key_file: "
printf 'allow_file %s\n' "$dir/x.allow" >"$dir/matcher.conf"
run_to_end matcher-allow "$matcher" -c "$dir/matcher.conf" \
    --data-dir "$dir/ma" --api "$any" --source "$none"
expect_out matcher-allow 2 "jobmatch-matcher: allow_file needs key_file: "

# ---- a key pair file group-readable ----
"$jobmatch" node keygen "$dir/k640.key" >/dev/null
chmod 0640 "$dir/k640.key"
run_to_end intake-k640 "$intake" --data-dir "$dir/ik" --api "$any" \
    --key-file "$dir/k640.key" --allow-file "$dir/x.allow"
expect_out intake-k640 1 "$dir/k640.key: group or others may read it (mode 0640): it must be readable by its owner only: chmod 600"
run_to_end profiles-k640 "$profiles" --data-dir "$dir/pk" --api "$any" \
    --key-file "$dir/k640.key" --allow-file "$dir/x.allow"
expect_out profiles-k640 1 "chmod 600"
run_to_end matcher-k640 "$matcher" --data-dir "$dir/mk" --api "$any" \
    --key-file "$dir/k640.key" --source "$none"
expect_out matcher-k640 1 "chmod 600"
for svc in intake profiles matcher; do
    expect_once "$svc-k640" "$dir/k640.key"
done
run_to_end intake-nokey "$intake" --data-dir "$dir/ik-none" --api "$any" \
    --key-file "$dir/none.key" --allow-file "$dir/x.allow"
expect_out intake-nokey 1 "intake: cannot read the key pair $dir/none.key: No such file or directory"
[ ! -e "$dir/ik-none" ] || fail "intake made $dir/ik-none with no key to serve with"
run_to_end profiles-nokey "$profiles" --data-dir "$dir/pk-none" --api "$any" \
    --key-file "$dir/none.key" --allow-file "$dir/x.allow"
expect_out profiles-nokey 1 "profiles: cannot read the key pair $dir/none.key: No such file or directory"
[ ! -e "$dir/pk-none" ] || fail "profiles made $dir/pk-none (its node secret) with no key to serve with"
"$jobmatch" node keygen "$dir/k600.key" >/dev/null
run_to_end matcher-nokey "$matcher" --data-dir "$dir/mk-none" --api "$any" \
    --key-file "$dir/k600.key" --source "$none" --source-key "$dir/none.pub"
expect_out matcher-nokey 1 "matcher: cannot read the source key $dir/none.pub: No such file or directory"
[ ! -e "$dir/mk-none" ] || fail "the matcher made $dir/mk-none with a key it cannot read"

# ---- the stderr reader gone, then SIGTERM; and stores cut short ----
# intake serves the matcher; both are stopped with nobody reading their
# stderr any more.
start_reader intake "$intake" --api "$any"
intake_pid=$pid intake_fd=$fd intake_api=$api
start_reader matcher "$matcher" --api "$any" --source "$intake_api"
stop_with_reader_gone matcher "$pid" "$fd"
stop_with_reader_gone intake "$intake_pid" "$intake_fd"
start_reader profiles "$profiles" --api "$any"
stop_with_reader_gone profiles "$pid" "$fd"

# The services stopped cleanly above; now their files are cut to half,
# as a copy that ran out of room leaves them.
cut_half() {
    size=$(stat -c %s "$1")
    truncate -s $((size / 2)) "$1"
    want="store: $1 is $((size / 2)) bytes long"
}
cut_half "$dir/intake/data.mdb"
run_to_end intake-cut "$intake" --data-dir "$dir/intake" --api "$any"
expect_out intake-cut 1 "$want"
expect_out intake-cut 1 "cut short: restore it from a backup"
cut_half "$dir/matcher/data.mdb"
run_to_end matcher-cut "$matcher" --data-dir "$dir/matcher" --api "$any" \
    --source "$none"
expect_out matcher-cut 1 "$want"
expect_out matcher-cut 1 "cut short: restore it from a backup"

echo PASS
