/* test_commit.c - group commit: one flush is one transaction, done comes
 * in order and only after the commit, a rejected item spares the others,
 * a failed batch fails every item and writes nothing, and a full map
 * redoes the whole batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "jm/store.h"
#include "jm_test.h"

#define KIB       ((size_t) 1024)
#define MAX_ITEMS 64

struct item {
    unsigned index;
    int verdict;       /* 0 apply, > 0 reject, < 0 fail the batch */
    size_t value_size; /* bytes apply writes */
    int status;        /* from done */
    unsigned done_calls;
};

struct ctx {
    char dir[256];
    jm_store_t *store;
    jm_dbi dbi;
    jm_commit_t *commit;
    struct item items[MAX_ITEMS];
    unsigned order[MAX_ITEMS * 2]; /* item indexes, in done order */
    unsigned done_calls;
    unsigned apply_calls;
    jm_txn_t *txns[MAX_ITEMS]; /* the transaction each item saw */
    struct item *requeue;      /* queued by the done of item 0 */
    unsigned hook_calls;       /* jm_commit_on_committed */
    unsigned begin_calls;      /* jm_commit_on_begin */
    unsigned applies_at_begin; /* apply_calls when begin last ran */
    int hook_status;
    unsigned done_before_hook; /* done calls seen when the hook ran */
    bool hook_saw_item0;       /* item 0 readable when the hook ran */
    jm_commit_stats stats;
};

static void
fill_value(uint8_t *value, size_t size, unsigned index)
{
    size_t i;

    for (i = 0; i < size; i++)
        value[i] = (uint8_t) (index + i);
}

static int
apply(jm_txn_t *txn, void *item_arg, void *arg)
{
    struct item *item = item_arg;
    struct ctx *c = arg;
    uint8_t key[8], *value;
    int rc;

    c->apply_calls++;
    c->txns[item->index] = txn;
    if (item->verdict != 0)
        return item->verdict; /* rejected or failing: writes nothing */
    jm_be64_put(key, item->index);
    value = jm_xmalloc(item->value_size);
    fill_value(value, item->value_size, item->index);
    /* NOOVERWRITE: a write left over from an earlier try would show */
    rc = jm_txn_put(txn, c->dbi, key, 8, value, item->value_size,
                    JM_PUT_NOOVERWRITE);
    free(value);
    return rc;
}

struct probe {
    struct ctx *c;
    unsigned index;
    bool found;
};

static int
probe_fn(jm_txn_t *txn, void *arg)
{
    struct probe *p = arg;
    struct item *item = &p->c->items[p->index];
    uint8_t key[8], *want;
    jm_val v;
    int rc;

    jm_be64_put(key, p->index);
    rc = jm_txn_get(txn, p->c->dbi, key, 8, &v);
    p->found = rc == 0;
    if (rc == 0) {
        want = jm_xmalloc(item->value_size);
        fill_value(want, item->value_size, p->index);
        assert_int_equal(v.size, item->value_size);
        assert_memory_equal(v.data, want, v.size);
        free(want);
    } else {
        assert_int_equal(rc, -ENOENT);
    }
    return 0;
}

/* Whether the committed state (a fresh read transaction) holds the
 * item. */
static bool
committed(struct ctx *c, unsigned index)
{
    struct probe p = {c, index, false};

    assert_int_equal(jm_store_read(c->store, probe_fn, &p), 0);
    return p.found;
}

static void
done(void *item_arg, int status, void *arg)
{
    struct item *item = item_arg;
    struct ctx *c = arg;

    item->status = status;
    item->done_calls++;
    c->order[c->done_calls++] = item->index;
    /* done runs after the commit returned: what was applied is already
     * visible to a new read transaction, the rest is not there at all */
    if (status == -ECANCELED)
        return; /* from destroy: the store may be gone */
    assert_int_equal(committed(c, item->index), status == 0);
    if (item->index == 0 && c->requeue != NULL) {
        jm_commit_add(c->commit, c->requeue);
        c->requeue = NULL;
    }
}

static int
setup_with(void **state, size_t map_size)
{
    jm_store_opts opts = {
        .map_size = map_size, .map_size_max = 16 * KIB * KIB, .max_dbs = 4};
    struct ctx *c = jm_xcalloc(1, sizeof(*c));
    unsigned i;

    jm_test_tmpdir(c->dir, sizeof(c->dir));
    assert_int_equal(jm_store_open(&c->store, c->dir, &opts), 0);
    assert_int_equal(jm_store_dbi(c->store, "items", false, &c->dbi), 0);
    assert_int_equal(jm_commit_new(&c->commit, c->store, apply, done, c), 0);
    for (i = 0; i < MAX_ITEMS; i++) {
        c->items[i].index = i;
        c->items[i].value_size = 16;
    }
    *state = c;
    return 0;
}

static int
setup(void **state)
{
    return setup_with(state, 0);
}

static int
setup_small_map(void **state)
{
    return setup_with(state, 64 * KIB);
}

static int
teardown(void **state)
{
    struct ctx *c = *state;

    jm_commit_destroy(&c->commit);
    jm_store_destroy(&c->store);
    jm_test_rmtree(c->dir);
    free(c);
    return 0;
}

static void
add_items(struct ctx *c, unsigned count)
{
    unsigned i;

    for (i = 0; i < count; i++)
        jm_commit_add(c->commit, &c->items[i]);
}

static void
test_one_flush_one_transaction(void **state)
{
    struct ctx *c = *state;
    unsigned i;

    assert_int_equal(jm_commit_flush(c->commit), 0); /* nothing queued */
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 0);

    add_items(c, 20);
    assert_int_equal(jm_commit_pending(c->commit), 20);
    assert_int_equal(c->done_calls, 0); /* nothing before the flush */
    assert_false(committed(c, 0));
    assert_int_equal(jm_commit_flush(c->commit), 0);
    assert_int_equal(jm_commit_pending(c->commit), 0);
    assert_int_equal(c->done_calls, 20);
    for (i = 0; i < 20; i++) {
        assert_int_equal(c->order[i], i);
        assert_int_equal(c->items[i].status, 0);
        assert_int_equal(c->items[i].done_calls, 1);
        assert_ptr_equal(c->txns[i], c->txns[0]); /* one transaction */
    }
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 1);
    assert_true(c->stats.items == 20);
    assert_true(c->stats.largest_batch == 20);
    assert_true(c->stats.redos == 0);
    assert_int_equal(c->apply_calls, 20);

    /* a second, smaller batch */
    jm_commit_add(c->commit, &c->items[30]);
    assert_int_equal(jm_commit_flush(c->commit), 0);
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 2);
    assert_true(c->stats.items == 21);
    assert_true(c->stats.largest_batch == 20);
}

static void
test_rejected_item_spares_others(void **state)
{
    struct ctx *c = *state;
    unsigned i;

    c->items[3].verdict = 1;
    c->items[7].verdict = 2;
    add_items(c, 10);
    assert_int_equal(jm_commit_flush(c->commit), 0);
    for (i = 0; i < 10; i++) {
        int want = i == 3 ? 1 : i == 7 ? 2 : 0;

        assert_int_equal(c->order[i], i);
        assert_int_equal(c->items[i].status, want);
        assert_int_equal(committed(c, i), want == 0);
    }
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 1);
}

static void
test_failed_batch_fails_every_item(void **state)
{
    struct ctx *c = *state;
    unsigned i;

    c->items[5].verdict = -EIO;
    add_items(c, 10);
    assert_int_equal(jm_commit_flush(c->commit), -EIO);
    assert_int_equal(c->done_calls, 10);
    for (i = 0; i < 10; i++) {
        assert_int_equal(c->order[i], i);
        assert_int_equal(c->items[i].status, -EIO);
        assert_false(committed(c, i)); /* items 0..4 were put, then lost */
    }
    assert_int_equal(c->apply_calls, 6); /* stopped at the failing item */

    /* the next batch is not affected */
    c->items[5].verdict = 0;
    c->done_calls = 0;
    add_items(c, 6);
    assert_int_equal(jm_commit_flush(c->commit), 0);
    for (i = 0; i < 6; i++)
        assert_int_equal(c->items[i].status, 0);
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 2);
    assert_true(c->stats.items == 16);
}

static void
test_items_queued_by_done_wait(void **state)
{
    struct ctx *c = *state;

    c->requeue = &c->items[40];
    add_items(c, 3);
    assert_int_equal(jm_commit_flush(c->commit), 0);
    assert_int_equal(c->done_calls, 3);
    assert_int_equal(jm_commit_pending(c->commit), 1);
    assert_int_equal(c->items[40].done_calls, 0);
    assert_false(committed(c, 40));
    assert_int_equal(jm_commit_flush(c->commit), 0);
    assert_int_equal(c->items[40].done_calls, 1);
    assert_int_equal(c->items[40].status, 0);
    assert_int_equal(c->order[3], 40);
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 2);
    assert_true(c->stats.items == 4);
}

static void
on_begin(void *arg)
{
    struct ctx *c = arg;

    c->begin_calls++;
    c->applies_at_begin = c->apply_calls;
}

/* 40 items of 4 KiB into a 64 KiB map: the batch is redone after growing
 * the map, and each item is there exactly once. The begin hook runs before
 * each attempt's first apply. */
static void
test_full_map_redoes_batch(void **state)
{
    struct ctx *c = *state;
    unsigned i;

    jm_commit_on_begin(c->commit, on_begin);
    for (i = 0; i < 40; i++)
        c->items[i].value_size = 4 * KIB;
    add_items(c, 40);
    assert_int_equal(jm_commit_flush(c->commit), 0);
    assert_true(jm_store_growths(c->store) > 0);
    assert_true(c->apply_calls > 40);
    assert_int_equal(c->done_calls, 40);
    for (i = 0; i < 40; i++) {
        assert_int_equal(c->order[i], i);
        assert_int_equal(c->items[i].status, 0);
        assert_true(committed(c, i));
    }
    jm_commit_get_stats(c->commit, &c->stats);
    assert_true(c->stats.batches == 1);
    assert_true(c->stats.redos == 1);
    /* one attempt, and one more after each growth of the map */
    assert_int_equal(c->begin_calls, jm_store_growths(c->store) + 1);
    /* the second attempt began after the first's applies, before its own */
    assert_int_equal(c->applies_at_begin, c->apply_calls - 40);
    assert_true(c->applies_at_begin > 0);
}

static void
test_destroy_cancels_pending(void **state)
{
    struct ctx *c = *state;

    add_items(c, 3);
    jm_commit_destroy(&c->commit);
    assert_null(c->commit);
    assert_int_equal(c->done_calls, 3);
    assert_int_equal(c->order[0], 0);
    assert_int_equal(c->order[2], 2);
    assert_int_equal(c->items[1].status, -ECANCELED);
    assert_false(committed(c, 0));
    jm_commit_destroy(&c->commit); /* idempotent */
}

/* The post-commit hook runs once per flush, after the transaction and
 * before the first done call, with the batch's status. */
static void
on_committed(int status, void *arg)
{
    struct ctx *c = arg;

    c->hook_calls++;
    c->hook_status = status;
    c->done_before_hook = c->done_calls;
    c->hook_saw_item0 = committed(c, 0);
}

static void
test_committed_hook_precedes_replies(void **state)
{
    struct ctx *c = *state;

    jm_commit_on_committed(c->commit, on_committed);
    jm_commit_on_begin(c->commit, on_begin);
    add_items(c, 4);
    assert_int_equal(jm_commit_flush(c->commit), 0);
    assert_int_equal(c->begin_calls, 1);
    assert_int_equal(c->applies_at_begin, 0);
    assert_int_equal(c->hook_calls, 1);
    assert_int_equal(c->hook_status, 0);
    assert_int_equal(c->done_before_hook, 0);
    assert_true(c->hook_saw_item0);
    assert_int_equal(c->done_calls, 4);

    /* a failed batch: the hook hears its -errno, still before any done */
    c->done_calls = 0;
    c->items[6].verdict = -EIO;
    for (unsigned i = 4; i < 8; i++) /* items not stored before */
        jm_commit_add(c->commit, &c->items[i]);
    assert_int_equal(jm_commit_flush(c->commit), -EIO);
    assert_int_equal(c->hook_calls, 2);
    assert_int_equal(c->hook_status, -EIO);
    assert_int_equal(c->done_before_hook, 0);

    /* nothing queued: no flush, no hook */
    assert_int_equal(jm_commit_flush(c->commit), 0);
    assert_int_equal(c->hook_calls, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_flush_one_transaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rejected_item_spares_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_fails_every_item,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_queued_by_done_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_map_redoes_batch,
                                        setup_small_map, teardown),
        cmocka_unit_test_setup_teardown(test_committed_hook_precedes_replies,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_cancels_pending, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
