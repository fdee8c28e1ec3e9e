/* jm_proc.h - running the real service binaries from tests: start one,
 * wait for its "ready" line (never sleeping: the wait is a poll() on its
 * stderr with a deadline), read the endpoints it bound, kill it with
 * SIGKILL or stop it with SIGTERM, and start it again on the same data.
 *
 * The child is started with posix_spawn, so nothing of the test process
 * (a ZeroMQ context, an LMDB environment) is used in a forked copy. Its
 * stderr goes through a pipe: jm_proc_start reads it until the ready line;
 * afterwards the test's loop keeps draining it into DIR/NAME.log (give a
 * loop to jm_proc_start), so a chatty child never blocks on a full pipe. */
#ifndef JM_PROC_H
#define JM_PROC_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

typedef struct jm_proc jm_proc_t;

/* Starts argv[0] with argv (NULL-terminated) and waits up to timeout_ms
 * for the line containing ": ready ". log_path receives everything the
 * child writes to stderr (appended across restarts). Returns 0, or -errno
 * (-ETIMEDOUT if no ready line came; the child is then killed). The child
 * is killed with SIGKILL if the test process exits first
 * (PR_SET_PDEATHSIG is not available through posix_spawn, so tests must
 * call jm_proc_destroy; a leftover child is reported by the smoke tests). */
int jm_proc_start(jm_proc_t **proc_p, uv_loop_t *loop, const char *const *argv,
                  const char *log_path, unsigned timeout_ms);

/* The endpoint the ready line gave for label ("api", "log", "tick", ...),
 * or NULL. Borrowed until the next restart or destroy. */
const char *jm_proc_endpoint(const jm_proc_t *proc, const char *label);

pid_t jm_proc_pid(const jm_proc_t *proc);

/* Sends sig and waits for the child to end (up to timeout_ms, then
 * SIGKILL). Returns the exit status as from waitpid. */
int jm_proc_signal_wait(jm_proc_t *proc, int sig, unsigned timeout_ms);

/* Starts the same argv again (after a kill) and waits for ready. */
int jm_proc_restart(jm_proc_t *proc, unsigned timeout_ms);

/* Runs argv[0] with argv (NULL-terminated) to its end, a command rather
 * than a service: its stdout into *out_p (NUL-terminated, the caller
 * frees it), its stderr to /dev/null. Reads to end-of-file, so the
 * command's own timeout bounds the wait. Returns its exit status (0-255),
 * or -errno if it could not be run or did not exit normally. */
int jm_proc_run(const char *const *argv, char **out_p);

/* Kills the child if it still runs (SIGKILL), reaps it, closes the pipe
 * (asynchronously: run the loop afterwards). Safe on NULL. */
void jm_proc_destroy(jm_proc_t **proc_p);

#endif
