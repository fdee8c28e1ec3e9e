# services.sh - what the CLI tests share (sourced): a temporary directory,
# starting the real service binaries on ephemeral ports, failing with their
# logs, and killing what was started at exit.
#
# The caller sets nothing; after sourcing, $dir is the test's directory and
# `start NAME BINARY ARGS...` starts one service: its stderr goes through a
# FIFO until the ready line (read -t bounds the wait; nothing sleeps), which
# sets api, publish (the matcher's), pid and fd; the rest goes to
# $dir/NAME.log. `fail MESSAGE` prints the logs and exits 1.
dir=$(mktemp -d "${TMPDIR:-/tmp}/jmtest-cli-XXXXXX")
pids=()
fail() {
    echo "FAIL: $*" >&2
    for f in "$dir"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
    exit 1
}
cleanup() {
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT

start() {
    local name=$1 bin=$2 line fifo
    shift 2
    fifo="$dir/$name.$RANDOM.err"
    mkfifo "$fifo"
    "$bin" --data-dir "$dir/$name" "$@" 2>"$fifo" &
    pid=$!
    pids+=("$pid")
    exec {fd}<"$fifo"
    api= publish=
    while IFS= read -r -t 30 line <&"$fd"; do
        echo "$line" >>"$dir/$name.log"
        case $line in
        *": ready "*)
            api=$(echo "$line" | sed -n 's/.* api=\([^ ]*\).*/\1/p')
            publish=$(echo "$line" | sed -n 's/.* publish=\([^ ]*\).*/\1/p')
            break
            ;;
        esac
    done
    [ -n "$api" ] || fail "$name: no ready line"
    # keep_stderr=1 start ...: the caller keeps the FIFO (fd) as the only
    # reader, to close it itself (test_service_start.sh).
    if [ -z "${keep_stderr:-}" ]; then
        cat <&"$fd" >>"$dir/$name.log" &
    fi
}
