/* test_intake_keyset.c - the in-memory ordered key set behind intake's
 * municipality and deadline indexes, against a plain sorted array: random
 * adds and deletes (in order, as time-ordered ids arrive, and at random
 * places), scans from every kind of start, and LMDB's order for keys of
 * different lengths (a key sorts after its own prefix). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "intake_keyset.h"
#include "jm_test.h"

#define N_REF 6000

struct ref {
    uint8_t key[32];
    size_t size;
};

static int
cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    size_t n = x->size < y->size ? x->size : y->size;
    int c = memcmp(x->key, y->key, n);

    return c != 0 ? c : (x->size > y->size) - (x->size < y->size);
}

/* The model: a sorted array of distinct keys. */
struct model {
    struct ref keys[N_REF];
    size_t count;
};

static long
model_find(const struct model *m, const struct ref *k)
{
    for (size_t i = 0; i < m->count; i++)
        if (cmp_ref(&m->keys[i], k) == 0)
            return (long) i;
    return -1;
}

static bool
model_add(struct model *m, const struct ref *k)
{
    if (model_find(m, k) >= 0)
        return false;
    m->keys[m->count++] = *k;
    qsort(m->keys, m->count, sizeof(*k), cmp_ref);
    return true;
}

static bool
model_del(struct model *m, const struct ref *k)
{
    long at = model_find(m, k);

    if (at < 0)
        return false;
    memmove(&m->keys[at], &m->keys[at + 1],
            (m->count - (size_t) at - 1) * sizeof(*k));
    m->count--;
    return true;
}

struct walk {
    const struct model *m;
    size_t next;  /* index in the model the next key must equal */
    size_t limit; /* stop after this many */
    size_t seen;
};

static int
walk_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct walk *w = arg;
    struct ref k;

    assert_int_equal(val->size, 0);
    assert_true(w->next < w->m->count);
    memcpy(k.key, key->data, key->size);
    k.size = key->size;
    assert_int_equal(cmp_ref(&k, &w->m->keys[w->next]), 0);
    w->next++;
    w->seen++;
    return w->seen == w->limit ? 1 : 0;
}

/* Scans from start and checks the keys seen are the model's from the
 * first key >= start, in order, all of them (or limit). */
static void
check_scan(const intake_keyset *set, const struct model *m,
           const struct ref *start, size_t limit)
{
    struct walk w = {m, 0, limit, 0};
    size_t want;

    while (start != NULL && w.next < m->count &&
           cmp_ref(&m->keys[w.next], start) < 0)
        w.next++;
    want = m->count - w.next;
    if (limit != 0 && limit < want)
        want = limit;
    assert_int_equal(intake_keyset_scan(set, start ? start->key : NULL,
                                        start ? start->size : 0, walk_one, &w),
                     0);
    assert_int_equal(w.seen, want);
}

/* A short random key, or (one in three) the same after a common 16-byte
 * head, so that the set's 16-byte fences tie and the keys decide. */
static void
random_key(struct ref *k, unsigned alphabet)
{
    static const char head[] = "0123456789abcdef";
    uint8_t r[16];
    size_t skip = 0;

    jm_test_random(r, sizeof(r));
    if (r[8] % 3 == 0) {
        memcpy(k->key, head, 16);
        skip = 16;
    }
    k->size = skip + 1 + r[0] % 6;
    for (size_t i = skip; i < k->size; i++)
        k->key[i] = (uint8_t) ('a' + r[i - skip + 1] % alphabet);
}

static void
test_random_against_model(void **state)
{
    static struct model m;
    intake_keyset *set = intake_keyset_new();

    (void) state;
    m.count = 0;
    for (int round = 0; round < 20000; round++) {
        struct ref k;
        uint8_t op;

        random_key(&k, 4); /* few letters: many repeats and prefixes */
        jm_test_random(&op, 1);
        if (op % 3 != 0 && m.count < N_REF)
            assert_int_equal(intake_keyset_add(set, k.key, k.size),
                             model_add(&m, &k));
        else
            assert_int_equal(intake_keyset_del(set, k.key, k.size),
                             model_del(&m, &k));
        assert_int_equal(intake_keyset_count(set), m.count);
        if (round % 997 == 0) {
            check_scan(set, &m, NULL, 0);
            random_key(&k, 4);
            check_scan(set, &m, &k, 0);
            check_scan(set, &m, &k, 5);
        }
    }
    check_scan(set, &m, NULL, 0);
    /* from every key present, and from just after it (its extension) */
    for (size_t i = 0; i < m.count; i += 7) {
        struct ref k = m.keys[i];

        check_scan(set, &m, &k, 3);
        k.key[k.size++] = 0;
        check_scan(set, &m, &k, 3);
    }
    intake_keyset_free(&set);
    assert_null(set);
    intake_keyset_free(&set); /* safe on NULL */
}

/* Keys arriving in order in many places at once, as time-ordered ids do
 * within 98 municipalities; then all deleted in another order. */
static void
test_interleaved_appends(void **state)
{
    static struct model m;
    intake_keyset *set = intake_keyset_new();

    (void) state;
    m.count = 0;
    for (unsigned seq = 0; seq < 50; seq++) {
        for (unsigned muni = 0; muni < 98; muni++) {
            struct ref k = {
                {(uint8_t) muni, (uint8_t) (seq >> 8), (uint8_t) seq}, 3};

            assert_true(intake_keyset_add(set, k.key, k.size));
            m.keys[m.count++] = k;
        }
    }
    qsort(m.keys, m.count, sizeof(m.keys[0]), cmp_ref);
    assert_int_equal(intake_keyset_count(set), 98 * 50);
    check_scan(set, &m, NULL, 0);
    {
        struct ref muni7 = {{7}, 1}; /* a municipality's prefix */

        check_scan(set, &m, &muni7, 50);
    }
    while (m.count > 0) {
        /* every 37th remaining key, wrapping: deletes in scattered order */
        struct ref k = m.keys[(m.count * 37 + 11) % m.count];

        assert_true(intake_keyset_del(set, k.key, k.size));
        assert_false(intake_keyset_del(set, k.key, k.size));
        model_del(&m, &k);
        if (m.count % 500 == 0)
            check_scan(set, &m, NULL, 0);
    }
    assert_int_equal(intake_keyset_count(set), 0);
    check_scan(set, &m, NULL, 0);
    intake_keyset_free(&set);
}

/* A scan stops when fn says so: 1 is "done" (0 returned), a negative
 * value is returned as it is. */
static int
stop_with(const jm_val *key, const jm_val *val, void *arg)
{
    (void) key;
    (void) val;
    return *(int *) arg;
}

static void
test_scan_stops(void **state)
{
    intake_keyset *set = intake_keyset_new();
    int verdict;

    (void) state;
    assert_true(intake_keyset_add(set, "b", 1));
    assert_true(intake_keyset_add(set, "a", 1));
    verdict = 1;
    assert_int_equal(intake_keyset_scan(set, NULL, 0, stop_with, &verdict), 0);
    verdict = -5;
    assert_int_equal(intake_keyset_scan(set, NULL, 0, stop_with, &verdict), -5);
    verdict = -5; /* nothing at or after "c": fn never runs */
    assert_int_equal(intake_keyset_scan(set, "c", 1, stop_with, &verdict), 0);
    intake_keyset_free(&set);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_interleaved_appends),
        cmocka_unit_test(test_scan_stops),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
