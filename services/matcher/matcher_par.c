/* matcher_par.c - fork and join on a few threads (matcher_par.h).
 *
 * One mutex and two condition variables: helpers sleep on "go" until the
 * run number changes, the caller sleeps on "done" until the last helper
 * has finished. The items are taken from an atomic counter; the mutex
 * orders everything else (the job's fields before the helpers read them,
 * the helpers' results before the caller returns). */
#include "matcher_par.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <uv.h>

#include "jm/mem.h"

struct helper {
    matcher_par_t *par;
    unsigned worker;
    uv_thread_t tid;
};

struct matcher_par {
    unsigned threads;
    struct helper *helpers; /* threads - 1 */
    uv_mutex_t mu;
    uv_cond_t go, done;
    uint64_t run;    /* which run the helpers should do; 0: none yet */
    unsigned active; /* helpers still in this run */
    bool quit;
    /* this run's job */
    size_t n;
    atomic_size_t next;
    matcher_par_fn fn;
    void *arg;
};

static void
work(matcher_par_t *par, unsigned worker)
{
    size_t i;

    while ((i = atomic_fetch_add_explicit(&par->next, 1,
                                          memory_order_relaxed)) < par->n)
        par->fn(par->arg, i, worker);
}

static void
helper_main(void *arg)
{
    struct helper *h = arg;
    matcher_par_t *par = h->par;
    uint64_t done_run = 0;

    uv_mutex_lock(&par->mu);
    for (;;) {
        while (par->run == done_run && !par->quit)
            uv_cond_wait(&par->go, &par->mu);
        if (par->quit)
            break;
        done_run = par->run;
        uv_mutex_unlock(&par->mu);
        work(par, h->worker);
        uv_mutex_lock(&par->mu);
        if (--par->active == 0)
            uv_cond_signal(&par->done);
    }
    uv_mutex_unlock(&par->mu);
}

static void
stop_helpers(matcher_par_t *par, unsigned started)
{
    uv_mutex_lock(&par->mu);
    par->quit = true;
    uv_cond_broadcast(&par->go);
    uv_mutex_unlock(&par->mu);
    for (unsigned i = 0; i < started; i++)
        uv_thread_join(&par->helpers[i].tid);
}

int
matcher_par_new(matcher_par_t **par_p, unsigned threads)
{
    matcher_par_t *par = jm_xcalloc(1, sizeof(*par));
    int rc;

    *par_p = NULL;
    if (threads == 0 || threads > MATCHER_PAR_MAX) {
        free(par);
        return -EINVAL;
    }
    par->threads = threads;
    atomic_init(&par->next, 0);
    if (uv_mutex_init(&par->mu) != 0) {
        free(par);
        return -ENOMEM;
    }
    if (uv_cond_init(&par->go) != 0) {
        uv_mutex_destroy(&par->mu);
        free(par);
        return -ENOMEM;
    }
    if (uv_cond_init(&par->done) != 0) {
        uv_cond_destroy(&par->go);
        uv_mutex_destroy(&par->mu);
        free(par);
        return -ENOMEM;
    }
    par->helpers = jm_xcalloc(threads, sizeof(*par->helpers));
    for (unsigned i = 0; i + 1 < threads; i++) {
        par->helpers[i].par = par;
        par->helpers[i].worker = i + 1;
        rc = uv_thread_create(&par->helpers[i].tid, helper_main,
                              &par->helpers[i]);
        if (rc != 0) {
            par->threads = i + 1;
            matcher_par_destroy(&par);
            return rc;
        }
    }
    *par_p = par;
    return 0;
}

void
matcher_par_destroy(matcher_par_t **par_p)
{
    matcher_par_t *par = *par_p;

    if (par == NULL)
        return;
    stop_helpers(par, par->threads - 1);
    uv_cond_destroy(&par->done);
    uv_cond_destroy(&par->go);
    uv_mutex_destroy(&par->mu);
    free(par->helpers);
    free(par);
    *par_p = NULL;
}

unsigned
matcher_par_threads(const matcher_par_t *par)
{
    return par->threads;
}

void
matcher_par_run(matcher_par_t *par, size_t n, matcher_par_fn fn, void *arg)
{
    unsigned helpers = par->threads - 1;

    if (n == 0)
        return;
    /* One item, or nobody to share with: no wake-up to pay for. */
    if (helpers == 0 || n == 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i, 0);
        return;
    }
    uv_mutex_lock(&par->mu);
    par->n = n;
    par->fn = fn;
    par->arg = arg;
    atomic_store_explicit(&par->next, 0, memory_order_relaxed);
    par->active = helpers;
    par->run++;
    uv_cond_broadcast(&par->go);
    uv_mutex_unlock(&par->mu);
    work(par, 0);
    uv_mutex_lock(&par->mu);
    while (par->active > 0)
        uv_cond_wait(&par->done, &par->mu);
    uv_mutex_unlock(&par->mu);
}

unsigned
matcher_par_default_threads(unsigned max)
{
    unsigned n = uv_available_parallelism();

    if (n < 1)
        n = 1;
    return n < max ? n : max;
}
