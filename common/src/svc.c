/* svc.c - the life of a service process: stop on SIGINT/SIGTERM, reload
 * on SIGHUP, one housekeeping timer, and the "ready" line.
 *
 * Shutdown is cooperative: the first signal only calls the service's stop
 * function, which closes its sockets and handles so that uv_run returns and
 * main tears down in order (LMDB closed cleanly, nothing half-written). If
 * that hangs, an operator's second Ctrl-C (or systemd's second SIGTERM)
 * must still work, so the second signal ends the process at once with
 * _exit(1): no atexit handlers or stdio flushing that could hang too, and
 * the data is safe anyway because every acknowledged write was committed.
 *
 * Our handles are unref'd: they must not keep the loop alive by themselves,
 * or a service that closed everything else would never leave uv_run.
 *
 * SIGPIPE is ignored for the whole process: a service's stderr is often a
 * pipe or a socket (`jobmatch node`, journald), and when its reader is gone
 * (the node killed with kill -9, which then SIGTERMs its services) the default
 * action would end the service at its first log line, "SIGTERM received",
 * before it closed its store or logged "stopped". Ignored, the write fails with
 * EPIPE, the line is lost, and the stop goes on. libzmq sends with
 * MSG_NOSIGNAL, so nothing else relied on the signal.
 *
 * The ready line goes through jm__log directly rather than the jm_log
 * macro: the macro would drop it under a level filter stricter than
 * "notice", and supervisors and the smoke tests wait for exactly this line
 * whatever the level. */
#include "jm/svc.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jm/log.h"
#include "jm/mem.h"

struct jm_svc {
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_signal_t sighup;
    jm_svc_reload_fn reload;
    uv_timer_t housekeeping;
    char *name;
    jm_svc_tick_fn tick;
    jm_svc_stop_fn stop;
    void *arg;
    bool stopping;    /* the first signal has arrived */
    bool has_timer;   /* housekeeping was initialised */
    int open_handles; /* initialised, not yet closed: freed at zero */
};

static void
on_signal(uv_signal_t *handle, int signum)
{
    jm_svc_t *self = handle->data;

    if (self->stopping) {
        /* Async-signal safety is not an issue here: libuv runs this
         * callback from the loop, not from the signal handler. */
        jm_log(JM_LOG_WARN, self->name, "second %s, exiting now",
               signum == SIGINT ? "SIGINT" : "SIGTERM");
        fflush(stderr);
        _exit(1);
    }
    self->stopping = true;
    jm_log(JM_LOG_NOTICE, self->name, "%s received, stopping",
           signum == SIGINT ? "SIGINT" : "SIGTERM");
    if (self->stop != NULL)
        self->stop(self->arg);
}

/* SIGHUP: read again what may change without a restart (the service's
 * reload). Without a handler its default action would end the process
 * without the orderly stop: an operator's `kill -HUP` or `systemctl
 * reload` must not do that. */
static void
on_sighup(uv_signal_t *handle, int signum)
{
    jm_svc_t *self = handle->data;

    (void) signum;
    if (self->stopping)
        return;
    if (self->reload == NULL) {
        jm_log(JM_LOG_NOTICE, self->name,
               "SIGHUP received: nothing to read again");
        return;
    }
    jm_log(JM_LOG_NOTICE, self->name, "SIGHUP received, reloading");
    self->reload(self->arg);
}

static void
on_housekeeping(uv_timer_t *timer)
{
    jm_svc_t *self = timer->data;

    if (self->tick != NULL)
        self->tick(self->arg);
}

/* The struct embeds its handles, so it may be freed only after the last
 * close callback (libuv design.rst). */
static void
on_close(uv_handle_t *handle)
{
    jm_svc_t *self = handle->data;

    if (--self->open_handles == 0) {
        free(self->name);
        free(self);
    }
}

static void
close_handles(jm_svc_t *self)
{
    /* Nothing was initialised (jm_svc_new failed at once): no callback
     * will come to free the struct. */
    if (self->open_handles == 0) {
        free(self->name);
        free(self);
        return;
    }
    /* Close callbacks run later, from the loop, so self stays valid
     * through these calls even though the last callback frees it. */
    if (self->sigint.data != NULL)
        uv_close((uv_handle_t *) &self->sigint, on_close);
    if (self->sigterm.data != NULL)
        uv_close((uv_handle_t *) &self->sigterm, on_close);
    if (self->sighup.data != NULL)
        uv_close((uv_handle_t *) &self->sighup, on_close);
    if (self->has_timer)
        uv_close((uv_handle_t *) &self->housekeeping, on_close);
}

static int
start_signal(jm_svc_t *self, uv_loop_t *loop, uv_signal_t *handle, int signum,
             uv_signal_cb cb)
{
    int rc;

    if ((rc = uv_signal_init(loop, handle)) != 0)
        return rc;
    handle->data = self;
    self->open_handles++;
    if ((rc = uv_signal_start(handle, cb, signum)) != 0)
        return rc;
    uv_unref((uv_handle_t *) handle);
    return 0;
}

int
jm_svc_new(jm_svc_t **svc_p, uv_loop_t *loop, const char *name,
           uint64_t housekeeping_ms, jm_svc_tick_fn tick, jm_svc_stop_fn stop,
           void *arg)
{
    jm_svc_t *self;
    int rc;

    JM_ASSERT(svc_p != NULL && loop != NULL && name != NULL);
    /* Here because every service starts through here (see the file
     * comment); before this, a signal would end the process anyway. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return -errno;
    self = jm_xcalloc(1, sizeof(*self));
    self->name = jm_xstrdup(name);
    self->tick = tick;
    self->stop = stop;
    self->arg = arg;

    if ((rc = start_signal(self, loop, &self->sigint, SIGINT, on_signal)) != 0)
        goto fail;
    if ((rc = start_signal(self, loop, &self->sigterm, SIGTERM, on_signal)) !=
        0)
        goto fail;
    if ((rc = start_signal(self, loop, &self->sighup, SIGHUP, on_sighup)) != 0)
        goto fail;
    if (housekeeping_ms > 0) {
        if ((rc = uv_timer_init(loop, &self->housekeeping)) != 0)
            goto fail;
        self->housekeeping.data = self;
        self->has_timer = true;
        self->open_handles++;
        if ((rc = uv_timer_start(&self->housekeeping, on_housekeeping,
                                 housekeeping_ms, housekeeping_ms)) != 0)
            goto fail;
        uv_unref((uv_handle_t *) &self->housekeeping);
    }
    *svc_p = self;
    return 0;

fail:
    /* Handles already initialised are closed like in jm_svc_destroy: the
     * memory goes when the caller runs the loop, as main does on its
     * failure path anyway. */
    close_handles(self);
    *svc_p = NULL;
    return rc;
}

void
jm_svc_on_reload(jm_svc_t *svc, jm_svc_reload_fn reload)
{
    JM_ASSERT(svc != NULL);
    svc->reload = reload;
}

void
jm_svc_ready(jm_svc_t *svc, ...)
{
    char line[1024];
    size_t len;
    va_list ap;
    const char *label;

    JM_ASSERT(svc != NULL);
    len = (size_t) snprintf(line, sizeof(line), "ready");
    va_start(ap, svc);
    while ((label = va_arg(ap, const char *)) != NULL) {
        const char *endpoint = va_arg(ap, const char *);

        if (len < sizeof(line))
            len += (size_t) snprintf(line + len, sizeof(line) - len, " %s=%s",
                                     label, endpoint != NULL ? endpoint : "-");
    }
    va_end(ap);
    /* One call, one line: readers match the whole line at once. */
    jm__log(JM_LOG_NOTICE, svc->name, "%s", line);
    fflush(stderr);
}

void
jm_svc_destroy(jm_svc_t **svc_p)
{
    if (svc_p == NULL || *svc_p == NULL)
        return;
    close_handles(*svc_p);
    *svc_p = NULL;
}

int
jm_svc_finish(uv_loop_t *loop, const char *name, bool served, int status)
{
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        jm_log(JM_LOG_WARN, name, "a handle was left open at shutdown");
    if (served)
        jm_log(JM_LOG_NOTICE, name,
               status == 0 ? "stopped" : "stopped after a failure");
    return status;
}
