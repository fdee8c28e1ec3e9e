/* test_matcher_par.c - fork and join (matcher_par): every item runs
 * exactly once per run, on a worker number in range, through many runs
 * of every size around the number of threads; the helpers really work
 * beside the caller; one thread runs everything on the caller's; bad
 * thread counts are refused. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "jm_test.h"
#include "matcher_par.h"

#define ITEMS 200

struct count_job {
    atomic_uint runs[ITEMS];
    atomic_uint bad_worker;
    unsigned threads;
};

static void
count_item(void *arg, size_t i, unsigned worker)
{
    struct count_job *job = arg;

    atomic_fetch_add(&job->runs[i], 1);
    if (worker >= job->threads)
        atomic_fetch_add(&job->bad_worker, 1);
}

static void
test_every_item_once(void **state)
{
    (void) state;
    for (unsigned threads = 1; threads <= 4; threads++) {
        matcher_par_t *par = NULL;

        assert_int_equal(matcher_par_new(&par, threads), 0);
        assert_int_equal(matcher_par_threads(par), threads);
        /* Sizes below, at and above the thread count, many runs in a row
         * (a helper late for one run must not miss or repeat the next). */
        for (size_t n = 0; n <= ITEMS; n += n < 10 ? 1 : 37) {
            for (unsigned rep = 0; rep < 20; rep++) {
                struct count_job job = {.threads = threads};

                for (size_t i = 0; i < ITEMS; i++)
                    atomic_init(&job.runs[i], 0);
                atomic_init(&job.bad_worker, 0);
                matcher_par_run(par, n, count_item, &job);
                for (size_t i = 0; i < ITEMS; i++)
                    assert_int_equal(atomic_load(&job.runs[i]), i < n ? 1 : 0);
                assert_int_equal(atomic_load(&job.bad_worker), 0);
            }
        }
        matcher_par_destroy(&par);
        assert_null(par);
    }
}

/* Each of two items waits until both have started: finishes only if two
 * threads run them at the same time (a pool that left the work to the
 * caller would hang here, and ctest's timeout fails it). */
struct meet_job {
    atomic_uint started;
    atomic_uint by_helper;
};

static void
meet_item(void *arg, size_t i, unsigned worker)
{
    struct meet_job *job = arg;

    (void) i;
    atomic_fetch_add(&job->started, 1);
    if (worker != 0)
        atomic_fetch_add(&job->by_helper, 1);
    while (atomic_load(&job->started) < 2)
        ; /* the other thread is on its way: no sleep, no lost wake-up */
}

static void
test_helpers_work_beside_the_caller(void **state)
{
    matcher_par_t *par = NULL;

    (void) state;
    assert_int_equal(matcher_par_new(&par, 2), 0);
    for (unsigned rep = 0; rep < 50; rep++) {
        struct meet_job job;

        atomic_init(&job.started, 0);
        atomic_init(&job.by_helper, 0);
        matcher_par_run(par, 2, meet_item, &job);
        assert_int_equal(atomic_load(&job.started), 2);
        assert_int_equal(atomic_load(&job.by_helper), 1);
    }
    matcher_par_destroy(&par);
}

/* One thread: the caller runs every item, in order. */
struct order_job {
    size_t next;
    unsigned in_order;
};

static void
order_item(void *arg, size_t i, unsigned worker)
{
    struct order_job *job = arg;

    job->in_order += i == job->next && worker == 0;
    job->next = i + 1;
}

static void
test_one_thread_is_the_caller(void **state)
{
    matcher_par_t *par = NULL;
    struct order_job job = {0};

    (void) state;
    assert_int_equal(matcher_par_new(&par, 1), 0);
    matcher_par_run(par, 100, order_item, &job);
    assert_int_equal(job.in_order, 100);
    matcher_par_destroy(&par);
    matcher_par_destroy(&par); /* NULL: nothing */
}

static void
test_bad_thread_counts(void **state)
{
    int dummy;
    matcher_par_t *par = (matcher_par_t *) &dummy; /* set to NULL on error */

    (void) state;
    assert_int_equal(matcher_par_new(&par, 0), -EINVAL);
    assert_null(par);
    assert_int_equal(matcher_par_new(&par, MATCHER_PAR_MAX + 1), -EINVAL);
    assert_null(par);
    assert_true(matcher_par_default_threads(8) >= 1);
    assert_true(matcher_par_default_threads(8) <= 8);
    assert_int_equal(matcher_par_default_threads(1), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_item_once),
        cmocka_unit_test(test_helpers_work_beside_the_caller),
        cmocka_unit_test(test_one_thread_is_the_caller),
        cmocka_unit_test(test_bad_thread_counts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
