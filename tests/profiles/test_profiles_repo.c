/* test_profiles_repo.c - the notes of which log events carry a citizen's
 * profile: an erasure takes them all, and the housekeeping walk forgets
 * the notes of events pruned from the log, a bounded slice at a time,
 * without touching the notes of events the log still holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "jm/store.h"
#include "jm_test.h"
#include "profiles_repo.h"

#define CITIZENS 3
#define EVENTS   4 /* per citizen: seqs i+1, i+1+CITIZENS, ... */

struct fixture {
    char dir[256];
    jm_store_t *store;
    profiles_repo repo;
    char ids[CITIZENS][PROFILES_ID_LEN + 1];
};

static int
note_all(jm_txn_t *txn, void *arg)
{
    struct fixture *f = arg;

    for (int e = 0; e < EVENTS; e++)
        for (int c = 0; c < CITIZENS; c++) {
            uint64_t seq = (uint64_t) (e * CITIZENS + c + 1);
            int rc = profiles_repo_note_event(&f->repo, txn, f->ids[c], seq);

            if (rc != 0)
                return rc;
        }
    return 0;
}

static void
setup(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    jm_test_tmpdir(f->dir, sizeof(f->dir));
    assert_int_equal(jm_store_open(&f->store, f->dir, NULL), 0);
    assert_int_equal(profiles_repo_open(&f->repo, f->store), 0);
    for (int c = 0; c < CITIZENS; c++) {
        /* 22 characters, in key order by c. */
        snprintf(f->ids[c], sizeof(f->ids[c]), "cz%020d", c);
        assert_int_equal(strlen(f->ids[c]), PROFILES_ID_LEN);
    }
    assert_int_equal(jm_store_write(f->store, note_all, f), 0);
}

static void
teardown(struct fixture *f)
{
    jm_store_destroy(&f->store);
    jm_test_rmtree(f->dir);
}

struct trim_call {
    struct fixture *f;
    uint64_t first;
    size_t limit;
    profiles_event_walk *walk;
    size_t removed;
};

static int
trim_txn(jm_txn_t *txn, void *arg)
{
    struct trim_call *t = arg;

    return profiles_repo_trim_events(&t->f->repo, txn, t->first, t->limit,
                                     t->walk, &t->removed);
}

struct take_call {
    struct fixture *f;
    const char *id;
    uint64_t *seqs;
    size_t n;
};

static int
take_txn(jm_txn_t *txn, void *arg)
{
    struct take_call *t = arg;

    return profiles_repo_take_events(&t->f->repo, txn, t->id, &t->seqs, &t->n);
}

/* The seqs still noted for citizen c (and forgets them). */
static size_t
take(struct fixture *f, int c, uint64_t *out, size_t cap)
{
    struct take_call t = {f, f->ids[c], NULL, 0};

    assert_int_equal(jm_store_write(f->store, take_txn, &t), 0);
    assert_true(t.n <= cap);
    if (t.n > 0)
        memcpy(out, t.seqs, t.n * sizeof(*out));
    free(t.seqs);
    return t.n;
}

/* A walk of slices of 5 over the 12 notes, the log keeping seqs 6..:
 * three calls to go round (5 + 5 + 2), the notes of seqs 1-5 gone, the
 * others untouched; a second round finds nothing more. */
static void
test_trim_forgets_pruned_events_only(void **state)
{
    struct fixture f;
    profiles_event_walk walk = {0};
    struct trim_call t = {&f, 6, 5, &walk, 0};
    size_t removed = 0, calls = 0;
    uint64_t seqs[EVENTS];

    (void) state;
    setup(&f);
    do {
        assert_int_equal(jm_store_write(f.store, trim_txn, &t), 0);
        /* A slice visits at most limit notes, so removes at most that. */
        assert_true(t.removed <= t.limit);
        removed += t.removed;
        calls++;
    } while (walk.started);
    assert_int_equal(calls, 3);
    assert_int_equal(removed, 5);

    /* Around again: nothing left below the first kept seq. */
    do {
        assert_int_equal(jm_store_write(f.store, trim_txn, &t), 0);
        assert_int_equal(t.removed, 0);
    } while (walk.started);

    /* Citizen 0 had 1, 4, 7, 10; citizen 1: 2, 5, 8, 11; 2: 3, 6, 9, 12. */
    assert_int_equal(take(&f, 0, seqs, EVENTS), 2);
    assert_int_equal(seqs[0], 7);
    assert_int_equal(seqs[1], 10);
    assert_int_equal(take(&f, 1, seqs, EVENTS), 2);
    assert_int_equal(seqs[0], 8);
    assert_int_equal(seqs[1], 11);
    assert_int_equal(take(&f, 2, seqs, EVENTS), 3);
    assert_int_equal(seqs[0], 6);
    assert_int_equal(seqs[2], 12);
    teardown(&f);
}

/* A log that was never pruned (first kept seq 1) loses no note, and a
 * slice larger than the notes goes round in one call. */
static void
test_trim_keeps_everything_of_an_unpruned_log(void **state)
{
    struct fixture f;
    profiles_event_walk walk = {0};
    struct trim_call t = {&f, 1, 1000, &walk, 0};
    uint64_t seqs[EVENTS];

    (void) state;
    setup(&f);
    assert_int_equal(jm_store_write(f.store, trim_txn, &t), 0);
    assert_int_equal(t.removed, 0);
    assert_false(walk.started);
    for (int c = 0; c < CITIZENS; c++)
        assert_int_equal(take(&f, c, seqs, EVENTS), EVENTS);
    teardown(&f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_forgets_pruned_events_only),
        cmocka_unit_test(test_trim_keeps_everything_of_an_unpruned_log),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
