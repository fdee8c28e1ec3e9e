/* matcher_par.h - fork and join on a few threads: run fn(arg, i, worker)
 * for every i in [0, n) and return when all are done. The caller's
 * thread is worker 0 and works too; helpers 1..threads-1 wait between
 * runs. Items are handed out one at a time from a shared counter, so a
 * slow item (an order with long lists) does not leave a thread idle.
 *
 * Why not libuv's thread pool (uv_queue_work): its completions come back
 * on a later loop turn, and between the two the loop would apply the
 * sources' batches to the index the searches are reading. Here the loop
 * thread is inside the run until every item is done: nothing changes the
 * index meanwhile, and the items only read it. */
#ifndef MATCHER_PAR_H
#define MATCHER_PAR_H

#include <stddef.h>

typedef struct matcher_par matcher_par_t;

typedef void (*matcher_par_fn)(void *arg, size_t i, unsigned worker);

/* threads: 1 runs everything on the caller's thread (no helper is
 * started); at most MATCHER_PAR_MAX. Returns 0, or a negative errno if a
 * thread could not be started (none is left running). */
#define MATCHER_PAR_MAX 64
int matcher_par_new(matcher_par_t **par_p, unsigned threads);
void matcher_par_destroy(matcher_par_t **par_p);

unsigned matcher_par_threads(const matcher_par_t *par);

/* Not reentrant: one run at a time, from one thread. */
void matcher_par_run(matcher_par_t *par, size_t n, matcher_par_fn fn,
                     void *arg);

/* What a machine offers: uv_available_parallelism(), at most max. */
unsigned matcher_par_default_threads(unsigned max);

#endif
