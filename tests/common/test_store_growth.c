/* test_store_growth.c - map growth: a batch that does not fit the map
 * makes the store grow it and run the whole batch again, whether
 * MDB_MAP_FULL came from a put or from the commit, never past
 * map_size_max, and never with half a batch stored. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "jm/log.h"
#include "jm/store.h"
#include "jm_test.h"
#include "store_test_support.h"

/* ---- map growth ---- */

#define BATCH_ITEMS 300
#define BATCH_VALUE 1000

struct big_batch {
    jm_dbi dbi;
    unsigned calls;
    unsigned put_failures;
    uint8_t tag;        /* distinguishes this batch's values */
    bool ignore_errors; /* carry on after -ENOSPC, and return 0 */
};

static void
batch_value(uint8_t *value, unsigned i, uint8_t tag)
{
    unsigned j;

    for (j = 0; j < BATCH_VALUE; j++)
        value[j] = (uint8_t) (i * 7 + j + tag);
}

static int
write_big_batch(jm_txn_t *txn, void *arg)
{
    struct big_batch *b = arg;
    uint8_t key[8], value[BATCH_VALUE];
    unsigned i;
    int rc;

    b->calls++;
    for (i = 0; i < BATCH_ITEMS; i++) {
        jm_be64_put(key, i);
        batch_value(value, i, b->tag);
        /* NOOVERWRITE: a leftover from an earlier call would show here */
        rc = jm_txn_put(txn, b->dbi, key, 8, value, BATCH_VALUE,
                        JM_PUT_NOOVERWRITE);
        if (rc != 0) {
            assert_int_equal(rc, -ENOSPC);
            b->put_failures++;
            if (!b->ignore_errors)
                return rc;
        }
    }
    return 0;
}

struct batch_check {
    struct big_batch *b;
    unsigned count;
};

static int
check_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct batch_check *c = arg;
    uint8_t value[BATCH_VALUE];

    assert_int_equal(key->size, 8);
    assert_true(jm_be64_get(key->data) == c->count);
    batch_value(value, c->count, c->b->tag);
    assert_int_equal(val->size, BATCH_VALUE);
    assert_memory_equal(val->data, value, BATCH_VALUE);
    c->count++;
    return 0;
}

static int
check_big_batch(jm_txn_t *txn, void *arg)
{
    struct batch_check *c = arg;

    return jm_txn_scan(txn, c->b->dbi, NULL, 0, check_one, c);
}

/* 300 KB into a 64 KiB map: puts fail with -ENOSPC, the store grows the
 * map and calls the function again from the start, several times; in the
 * end the batch is there exactly once. */
static void
test_map_full_at_put_redoes_batch(void **state)
{
    struct big_batch b = {0, 0, 0, 1, false};
    struct batch_check c = {&b, 0};
    jm_store_t *store;
    size_t grown;
    char dir[256];

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 64 * KIB, 4 * KIB * KIB);
    assert_true(jm_store_map_size(store) == 64 * KIB);
    b.dbi = open_dbi(store, "big", false);
    assert_int_equal(jm_store_write(store, write_big_batch, &b), 0);
    assert_true(b.calls > 1);
    assert_int_equal(b.put_failures, b.calls - 1);
    assert_true(jm_store_growths(store) > 0);
    assert_true(jm_store_growths(store) >= b.calls - 1);
    grown = jm_store_map_size(store);
    assert_true(grown > (size_t) BATCH_ITEMS * BATCH_VALUE);
    assert_true(grown <= 4 * KIB * KIB);
    assert_int_equal(jm_store_read(store, check_big_batch, &c), 0);
    assert_int_equal(c.count, BATCH_ITEMS);
    jm_store_destroy(&store);

    /* reopened with the same small setting, the map keeps its size */
    store = open_store(dir, 64 * KIB, 4 * KIB * KIB);
    assert_true(jm_store_map_size(store) >= grown);
    assert_int_equal(jm_store_growths(store), 0);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

/* A function that ignores -ENOSPC and returns 0 cannot commit half a
 * batch: the transaction is marked, later calls on it say -ENOSPC too
 * (without logging errors), and the batch is redone all the same. */
static void
error_counter(int level, const char *component, const char *message, void *arg)
{
    if (level <= JM_LOG_ERR)
        (*(int *) arg)++;
}

static void
test_map_full_ignored_still_redoes(void **state)
{
    struct big_batch b = {0, 0, 0, 3, true};
    struct batch_check c = {&b, 0};
    jm_store_t *store;
    char dir[256];
    int errors = 0;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 64 * KIB, 4 * KIB * KIB);
    b.dbi = open_dbi(store, "big", false);
    jm_log_set_sink(error_counter, &errors);
    assert_int_equal(jm_store_write(store, write_big_batch, &b), 0);
    jm_log_set_sink(NULL, NULL);
    assert_int_equal(errors, 0);
    assert_true(b.calls > 1);
    assert_true(b.put_failures > b.calls - 1); /* the later puts, too */
    assert_int_equal(jm_store_read(store, check_big_batch, &c), 0);
    assert_int_equal(c.count, BATCH_ITEMS);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

/* Past map_size_max: -ENOSPC, nothing written, and the store still
 * works. */
static void
test_map_full_at_max_is_enospc(void **state)
{
    struct big_batch b = {0, 0, 0, 2, false};
    jm_store_t *store;
    char dir[256];
    jm_dbi dbi;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 64 * KIB, 128 * KIB);
    b.dbi = dbi = open_dbi(store, "big", false);
    assert_int_equal(jm_store_write(store, write_big_batch, &b), -ENOSPC);
    assert_int_equal(b.calls, 2); /* 64 KiB, then 128 KiB, then give up */
    assert_int_equal(jm_store_growths(store), 1);
    assert_true(jm_store_map_size(store) == 128 * KIB);
    put_str(store, dbi, "small", "fits");
    check_str(store, dbi, "small", "fits");
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

/* MDB_MAP_FULL from mdb_txn_commit: a transaction whose puts and deletes
 * all fit can still fail at commit, when LMDB writes the list of pages the
 * transaction freed (mdb_freelist_save) and finds no page left. Which batch
 * size ends exactly there depends on LMDB's page layout, so the test
 * searches for one: from a fresh store holding OLD small entries, one
 * transaction deletes them all and writes n new ones. The function itself
 * sees whether all its writes succeeded; if they did and it is called
 * again, the map was full at the commit. */
#define OLD_ENTRIES 100

struct refill {
    jm_dbi dbi;
    unsigned new_entries;
    unsigned calls;
    bool first_call_wrote_all;
};

static void
refill_key(uint8_t key[9], uint8_t tag, unsigned i)
{
    key[0] = tag;
    jm_be64_put(key + 1, i);
}

static int
write_old(jm_txn_t *txn, void *arg)
{
    struct refill *r = arg;
    uint8_t key[9];
    unsigned i;
    int rc;

    for (i = 0; i < OLD_ENTRIES; i++) {
        refill_key(key, 'o', i);
        if ((rc = jm_txn_put(txn, r->dbi, key, 9, "old-value-old-value-old", 24,
                             0)) != 0)
            return rc;
    }
    return 0;
}

static int
replace_all(jm_txn_t *txn, void *arg)
{
    struct refill *r = arg;
    uint8_t key[9];
    unsigned i;
    int rc;

    r->calls++;
    for (i = 0; i < OLD_ENTRIES; i++) {
        refill_key(key, 'o', i);
        if ((rc = jm_txn_del(txn, r->dbi, key, 9)) != 0)
            return rc;
    }
    for (i = 0; i < r->new_entries; i++) {
        refill_key(key, 'n', i);
        if ((rc = jm_txn_put(txn, r->dbi, key, 9, "new-value-new-value-new", 24,
                             JM_PUT_NOOVERWRITE)) != 0)
            return rc;
    }
    if (r->calls == 1)
        r->first_call_wrote_all = true;
    return 0;
}

static int
count_new(const jm_val *key, const jm_val *val, void *arg)
{
    unsigned *count = arg;
    const uint8_t *k = key->data;

    assert_int_equal(key->size, 9);
    assert_int_equal(k[0], 'n'); /* no old entry left */
    assert_true(jm_be64_get(k + 1) == *count);
    assert_int_equal(val->size, 24);
    (*count)++;
    return 0;
}

struct count_arg {
    jm_dbi dbi;
    unsigned count;
};

static int
count_all(jm_txn_t *txn, void *arg)
{
    struct count_arg *c = arg;

    return jm_txn_scan(txn, c->dbi, NULL, 0, count_new, &c->count);
}

/* One trial: 0 no growth, 1 growth after a failed put, 2 growth after a
 * failed commit. */
static int
refill_trial(unsigned new_entries)
{
    struct refill r = {0, new_entries, 0, false};
    struct count_arg c = {0, 0};
    jm_store_t *store;
    char dir[256];
    int outcome;

    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 64 * KIB, 1024 * KIB);
    r.dbi = c.dbi = open_dbi(store, "refill", false);
    assert_int_equal(jm_store_write(store, write_old, &r), 0);
    assert_int_equal(jm_store_growths(store), 0);
    assert_int_equal(jm_store_write(store, replace_all, &r), 0);
    outcome = r.calls == 1 ? 0 : r.first_call_wrote_all ? 2 : 1;
    if (outcome != 0)
        assert_true(jm_store_growths(store) > 0);
    /* whatever happened, the batch is there exactly once */
    assert_int_equal(jm_store_read(store, count_all, &c), 0);
    assert_int_equal(c.count, new_entries);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
    return outcome;
}

static void
test_map_full_at_commit_redoes_batch(void **state)
{
    unsigned low = 0, high = 4000, n;
    bool at_commit = false;

    (void) state;
    /* The smallest batch that needs growth is the one that filled the map
     * to the last page; bisect for it (growth is monotonic in n). */
    assert_int_equal(refill_trial(low), 0);
    assert_int_not_equal(refill_trial(high), 0);
    while (high - low > 1) {
        unsigned mid = low + (high - low) / 2;

        if (refill_trial(mid) == 0)
            low = mid;
        else
            high = mid;
    }
    /* Just above it, the puts fit and the commit's freelist does not. */
    for (n = high; n < high + 8 && !at_commit; n++)
        at_commit = refill_trial(n) == 2;
    assert_true(at_commit);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_full_at_put_redoes_batch),
        cmocka_unit_test(test_map_full_ignored_still_redoes),
        cmocka_unit_test(test_map_full_at_max_is_enospc),
        cmocka_unit_test(test_map_full_at_commit_redoes_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
