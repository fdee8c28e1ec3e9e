/* svc.h - the life of a service process: SIGINT/SIGTERM, SIGHUP, the
 * housekeeping timer, and the "ready" line.
 *
 * The ready line is how supervisors and tests know a service is serving:
 *   <5>intake: ready api=tcp://127.0.0.1:40123 log=tcp://127.0.0.1:40124
 * It is written whatever the log level, once, with every bound endpoint
 * (the real port when the config said "*"). */
#ifndef JM_SVC_H
#define JM_SVC_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct jm_svc jm_svc_t;

/* The housekeeping tick; the service's comment lists its duties. */
typedef void (*jm_svc_tick_fn)(void *arg);
/* SIGINT or SIGTERM arrived: the service closes its handles so that
 * uv_run returns. Called once; a second signal exits at once (status 1). */
typedef void (*jm_svc_stop_fn)(void *arg);

/* SIGHUP arrived: the service reads again what may change without a
 * restart (its allow list), and logs what it did. */
typedef void (*jm_svc_reload_fn)(void *arg);

/* name is the log component ("intake"). housekeeping_ms 0: no timer.
 * Caller owns *svc_p. The signal and timer handles do not keep the loop
 * alive on their own (uv_unref), so a service that closed everything
 * else lets uv_run return. It also ignores SIGPIPE for the process, so
 * that a log line written to a stderr pipe nobody reads any more fails
 * (EPIPE) instead of killing the service in the middle of its stop. */
int jm_svc_new(jm_svc_t **svc_p, uv_loop_t *loop, const char *name,
               uint64_t housekeeping_ms, jm_svc_tick_fn tick,
               jm_svc_stop_fn stop, void *arg);

/* Calls reload (with jm_svc_new's arg) at each SIGHUP. Without it a
 * SIGHUP is logged and otherwise ignored: it never ends the process. */
void jm_svc_on_reload(jm_svc_t *svc, jm_svc_reload_fn reload);

/* Writes the ready line: pairs of (label, endpoint), NULL-terminated:
 * jm_svc_ready(svc, "api", api_ep, "log", log_ep, NULL). */
void jm_svc_ready(jm_svc_t *svc, ...) __attribute__((sentinel));

/* Closes the handles (asynchronously: run the loop afterwards). Safe on
 * NULL; sets *svc_p to NULL. */
void jm_svc_destroy(jm_svc_t **svc_p);

/* The end of a service's main, after its server was destroyed: runs the
 * closing handles' callbacks, closes the loop (a warning if a handle was
 * left open) and, if the service had been serving, logs "stopped" (status
 * 0) or "stopped after a failure" (docs/operations.md: supervisors and
 * operators read the last line). Returns status. */
int jm_svc_finish(uv_loop_t *loop, const char *name, bool served, int status);

#endif
