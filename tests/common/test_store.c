/* test_store.c - the LMDB environment: one open per directory, key/value
 * semantics, big-endian keys, transactions and copy. (Map growth:
 * test_store_growth.c; a full disk and damaged or cut-short files:
 * test_store_disk.c; stale reader slots need processes that die:
 * test_eventlog.c, with the other kill -9 test.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jm/mem.h"
#include "jm/store.h"
#include "jm_test.h"
#include "store_test_support.h"

/* ---- one open per directory ---- */

static void
test_open_twice_is_busy(void **state)
{
    char dir[256], link[300];
    jm_store_t *a = NULL, *b = NULL;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    a = open_store(dir, 0, 0);
    assert_int_equal(jm_store_open(&b, dir, NULL), -EBUSY);
    assert_null(b);
    /* Another path to the same directory is the same environment. */
    snprintf(link, sizeof(link), "%s/alias", dir);
    assert_int_equal(symlink(dir, link), 0);
    assert_int_equal(jm_store_open(&b, link, NULL), -EBUSY);
    jm_store_destroy(&a);
    assert_null(a);
    jm_store_destroy(&a); /* idempotent */
    assert_int_equal(jm_store_open(&b, link, NULL), 0);
    jm_store_destroy(&b);
    jm_test_rmtree(dir);
}

/* In a child forked before anything was opened (so it holds no lock
 * inherited from the parent): at each byte on go, jm_store_open on dir, and its
 * result (0 or -errno, as an int) on answer; the store closed again at once.
 * Ends when go is closed. */
static void
child_opens(const char *dir, int go, int answer)
{
    char c;

    while (read(go, &c, 1) == 1) {
        jm_store_t *store = NULL;
        int rc = jm_store_open(&store, dir, NULL);

        jm_store_destroy(&store);
        if (write(answer, &rc, sizeof(rc)) != (ssize_t) sizeof(rc))
            _exit(1);
    }
    _exit(0);
}

static int
ask_child(int go, int answer)
{
    int rc = 1;

    assert_int_equal(write(go, "?", 1), 1);
    assert_int_equal(read(answer, &rc, sizeof(rc)), (ssize_t) sizeof(rc));
    return rc;
}

/* A second process on the same directory: -EBUSY while the first has it
 * open (LMDB would let it in, and a second service on one directory
 * corrupts what each keeps in memory), and welcome once it closed. */
static void
test_open_in_another_process_is_busy(void **state)
{
    char dir[256];
    jm_store_t *a = NULL;
    int go[2], answer[2], status;
    pid_t child;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(answer), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(go[1]);
        close(answer[0]);
        child_opens(dir, go[0], answer[1]);
    }
    close(go[0]);
    close(answer[1]);
    assert_int_equal(ask_child(go[1], answer[0]), 0); /* nobody has it */
    a = open_store(dir, 0, 0);
    assert_int_equal(ask_child(go[1], answer[0]), -EBUSY);
    jm_store_destroy(&a);
    assert_int_equal(ask_child(go[1], answer[0]), 0);
    close(go[1]); /* the child ends */
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(answer[0]);
    jm_test_rmtree(dir);
}

/* A refetchable store (the matcher's view) commits with one sync instead
 * of two; what it committed is there after a reopen, with either setting
 * (the flag belongs to an open, not to the files). */
static void
test_refetchable_store_keeps_its_commits(void **state)
{
    jm_store_opts opts = {.refetchable = true};
    char dir[256];
    jm_store_t *store = NULL;
    jm_dbi dbi;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    assert_int_equal(jm_store_dbi(store, "view", false, &dbi), 0);
    put_str(store, dbi, "order-1", "open");
    put_str(store, dbi, "order-1", "closed");
    jm_store_destroy(&store);
    assert_int_equal(jm_store_open(&store, dir, NULL), 0);
    assert_int_equal(jm_store_dbi(store, "view", false, &dbi), 0);
    check_str(store, dbi, "order-1", "closed");
    put_str(store, dbi, "order-2", "open");
    jm_store_destroy(&store);
    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    assert_int_equal(jm_store_dbi(store, "view", false, &dbi), 0);
    check_str(store, dbi, "order-2", "open");
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

static void
test_open_bad_arguments(void **state)
{
    jm_store_opts opts = {.map_size = 4 * KIB * KIB,
                          .map_size_max = 1 * KIB * KIB};
    char dir[256], missing[300];
    jm_store_t *store = NULL;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(missing, sizeof(missing), "%s/nope", dir);
    assert_int_equal(jm_store_open(&store, missing, NULL), -ENOENT);
    assert_int_equal(jm_store_open(&store, dir, &opts), -EINVAL);
    assert_null(store);
    /* a maximum alone, below the default start: start there */
    opts.map_size = 0;
    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    assert_true(jm_store_map_size(store) == 1 * KIB * KIB);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

/* ---- keys and values ---- */

static void
test_be64_order(void **state)
{
    uint64_t values[130];
    uint8_t a[8], b[8];
    size_t i, j, n = 0;

    (void) state;
    jm_be64_put(a, 0x0102030405060708ull);
    assert_memory_equal(a, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    /* every power of two, one less and one more: all the carries */
    for (i = 0; i < 64; i++) {
        values[n++] = (1ull << i) - 1;
        values[n++] = (1ull << i) + 1;
    }
    values[n++] = UINT64_MAX - 1;
    values[n++] = UINT64_MAX;
    for (i = 0; i < n; i++) {
        jm_be64_put(a, values[i]);
        assert_true(jm_be64_get(a) == values[i]);
        for (j = 0; j < n; j++) {
            int cmp;

            jm_be64_put(b, values[j]);
            cmp = memcmp(a, b, 8);
            assert_true((cmp < 0) == (values[i] < values[j]));
            assert_true((cmp == 0) == (values[i] == values[j]));
        }
    }
}

struct ops {
    jm_dbi plain;
    jm_dbi dups;
};

static int
ops_fn(jm_txn_t *txn, void *arg)
{
    struct ops *o = arg;
    char big[600];
    jm_val v;

    memset(big, 'k', sizeof(big));
    assert_true(jm_txn_is_write(txn));
    assert_non_null(jm_txn_store(txn));
    /* put, overwrite, refuse to overwrite */
    assert_int_equal(jm_txn_put(txn, o->plain, "a", 1, "1", 1, 0), 0);
    assert_int_equal(jm_txn_put(txn, o->plain, "a", 1, "2", 1, 0), 0);
    assert_int_equal(
        jm_txn_put(txn, o->plain, "a", 1, "3", 1, JM_PUT_NOOVERWRITE), -EEXIST);
    assert_int_equal(jm_txn_get(txn, o->plain, "a", 1, &v), 0);
    assert_int_equal(v.size, 1);
    assert_memory_equal(v.data, "2", 1);
    /* APPEND: only after the last key */
    assert_int_equal(jm_txn_put(txn, o->plain, "m", 1, "", 0, JM_PUT_APPEND),
                     0);
    assert_int_equal(jm_txn_put(txn, o->plain, "c", 1, "", 0, JM_PUT_APPEND),
                     -EEXIST);
    /* key sizes: 1..511, checked before LMDB sees them */
    assert_int_equal(jm_txn_put(txn, o->plain, big, 511, "x", 1, 0), 0);
    assert_int_equal(jm_txn_get(txn, o->plain, big, 511, &v), 0);
    assert_int_equal(jm_txn_put(txn, o->plain, big, 512, "x", 1, 0), -EINVAL);
    assert_int_equal(jm_txn_get(txn, o->plain, big, 512, &v), -EINVAL);
    assert_int_equal(jm_txn_del(txn, o->plain, big, 512), -EINVAL);
    assert_int_equal(jm_txn_put(txn, o->plain, "", 0, "x", 1, 0), -EINVAL);
    /* plain values may be large; DUPSORT values are keys, <= 511 */
    assert_int_equal(jm_txn_put(txn, o->plain, "big", 3, big, 600, 0), 0);
    assert_int_equal(jm_txn_put(txn, o->dups, "d", 1, big, 512, 0), -EINVAL);
    assert_int_equal(jm_txn_put(txn, o->dups, "d", 1, "v1", 2, 0), 0);
    assert_int_equal(jm_txn_put(txn, o->dups, "d", 1, "v2", 2, 0), 0);
    /* del */
    assert_int_equal(jm_txn_del(txn, o->plain, "a", 1), 0);
    assert_int_equal(jm_txn_get(txn, o->plain, "a", 1, &v), -ENOENT);
    assert_null(v.data);
    assert_int_equal(jm_txn_del(txn, o->plain, "a", 1), -ENOENT);
    return 0;
}

struct walk {
    char seen[16][8];
    size_t count;
    size_t stop_after; /* 0: never */
    int stop_with;
};

static int
walk_fn(const jm_val *key, const jm_val *val, void *arg)
{
    struct walk *w = arg;

    assert_true(w->count < JM_COUNTOF(w->seen));
    snprintf(w->seen[w->count], sizeof(w->seen[0]), "%.*s=%.*s",
             (int) key->size, (const char *) key->data, (int) val->size,
             (const char *) val->data);
    w->count++;
    return w->stop_after != 0 && w->count == w->stop_after ? w->stop_with : 0;
}

static int
dups_fn(jm_txn_t *txn, void *arg)
{
    struct ops *o = arg;
    struct walk w = {{{0}}, 0, 0, 0};
    jm_val k, v;

    /* a scan visits every value of a DUPSORT key, in value order */
    assert_int_equal(jm_txn_scan(txn, o->dups, NULL, 0, walk_fn, &w), 0);
    assert_int_equal(w.count, 2);
    assert_string_equal(w.seen[0], "d=v1");
    assert_string_equal(w.seen[1], "d=v2");
    assert_int_equal(jm_txn_last(txn, o->dups, &k, &v), 0);
    assert_memory_equal(v.data, "v2", 2);
    /* del removes all values of the key */
    assert_int_equal(jm_txn_del(txn, o->dups, "d", 1), 0);
    assert_int_equal(jm_txn_last(txn, o->dups, &k, &v), -ENOENT);
    return 0;
}

static void
test_put_get_del(void **state)
{
    char dir[256];
    jm_store_t *store;
    struct ops o;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 0, 0);
    o.plain = open_dbi(store, "plain", false);
    o.dups = open_dbi(store, "dups", true);
    assert_int_equal(jm_store_write(store, ops_fn, &o), 0);
    check_str(store, o.plain, "a", NULL);
    check_str(store, o.plain, "m", "");
    assert_int_equal(jm_store_write(store, dups_fn, &o), 0);
    /* the same name again is the same database */
    assert_int_equal(open_dbi(store, "plain", false), o.plain);
    assert_int_equal(jm_store_dbi(store, "", false, &o.plain), -EINVAL);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

static int
fill_numbers(jm_txn_t *txn, void *arg)
{
    /* out of order on purpose: the store sorts by bytes */
    static const unsigned order[] = {7, 3, 10, 1, 5, 9, 2, 8, 4, 6, 300};
    const jm_dbi *dbi = arg;
    char value[8];
    uint8_t key[8];
    size_t i;

    for (i = 0; i < JM_COUNTOF(order); i++) {
        jm_be64_put(key, order[i]);
        snprintf(value, sizeof(value), "%u", order[i]);
        assert_int_equal(jm_txn_put(txn, *dbi, key, 8, value, strlen(value), 0),
                         0);
    }
    return 0;
}

struct numbers {
    uint64_t seen[16];
    size_t count;
    size_t stop_after;
    int stop_with;
};

static int
number_fn(const jm_val *key, const jm_val *val, void *arg)
{
    struct numbers *n = arg;

    (void) val;
    assert_int_equal(key->size, 8);
    assert_true(n->count < JM_COUNTOF(n->seen));
    n->seen[n->count++] = jm_be64_get(key->data);
    return n->stop_after != 0 && n->count == n->stop_after ? n->stop_with : 0;
}

static int
scan_checks(jm_txn_t *txn, void *arg)
{
    const jm_dbi *dbi = arg;
    struct numbers all = {{0}, 0, 0, 0}, from5 = all, two = all, fail = all;
    uint8_t start[8];
    uint64_t count;
    jm_val k, v;
    size_t i;

    assert_false(jm_txn_is_write(txn));
    /* from the start: numeric order thanks to big-endian keys */
    assert_int_equal(jm_txn_scan(txn, *dbi, NULL, 0, number_fn, &all), 0);
    assert_int_equal(all.count, 11);
    for (i = 0; i < 10; i++)
        assert_true(all.seen[i] == i + 1);
    assert_true(all.seen[10] == 300);
    /* from a key: that key and everything after it */
    jm_be64_put(start, 5);
    assert_int_equal(jm_txn_scan(txn, *dbi, start, 8, number_fn, &from5), 0);
    assert_int_equal(from5.count, 7);
    assert_true(from5.seen[0] == 5 && from5.seen[6] == 300);
    /* from a key that is absent: the next one */
    jm_be64_put(start, 11);
    from5.count = 0;
    assert_int_equal(jm_txn_scan(txn, *dbi, start, 8, number_fn, &from5), 0);
    assert_int_equal(from5.count, 1);
    assert_true(from5.seen[0] == 300);
    /* 1 stops the walk, and the scan returns 0 */
    two.stop_after = 2;
    two.stop_with = 1;
    assert_int_equal(jm_txn_scan(txn, *dbi, NULL, 0, number_fn, &two), 0);
    assert_int_equal(two.count, 2);
    /* a negative value stops it and is returned */
    fail.stop_after = 3;
    fail.stop_with = -EPROTO;
    assert_int_equal(jm_txn_scan(txn, *dbi, NULL, 0, number_fn, &fail),
                     -EPROTO);
    assert_int_equal(fail.count, 3);
    /* past the end: nothing */
    jm_be64_put(start, 301);
    fail.count = 0;
    fail.stop_after = 0;
    assert_int_equal(jm_txn_scan(txn, *dbi, start, 8, number_fn, &fail), 0);
    assert_int_equal(fail.count, 0);
    /* count: the eleven numbers */
    assert_int_equal(jm_txn_count(txn, *dbi, &count), 0);
    assert_true(count == 11);
    /* last */
    assert_int_equal(jm_txn_last(txn, *dbi, &k, &v), 0);
    assert_true(jm_be64_get(k.data) == 300);
    assert_int_equal(v.size, 3);
    assert_memory_equal(v.data, "300", 3);
    return 0;
}

static int
empty_checks(jm_txn_t *txn, void *arg)
{
    const jm_dbi *dbi = arg;
    struct numbers n = {{0}, 0, 0, 0};
    jm_val k, v;
    uint64_t count = 1;

    assert_int_equal(jm_txn_last(txn, *dbi, &k, &v), -ENOENT);
    assert_int_equal(jm_txn_scan(txn, *dbi, NULL, 0, number_fn, &n), 0);
    assert_int_equal(n.count, 0);
    assert_int_equal(jm_txn_count(txn, *dbi, &count), 0);
    assert_true(count == 0);
    return 0;
}

static void
test_scan_and_last(void **state)
{
    jm_dbi numbers, empty;
    jm_store_t *store;
    char dir[256];

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 0, 0);
    numbers = open_dbi(store, "numbers", false);
    empty = open_dbi(store, "empty", false);
    assert_int_equal(jm_store_write(store, fill_numbers, &numbers), 0);
    assert_int_equal(jm_store_read(store, scan_checks, &numbers), 0);
    assert_int_equal(jm_store_read(store, empty_checks, &empty), 0);
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

/* ---- transactions ---- */

static int
put_then_fail(jm_txn_t *txn, void *arg)
{
    struct kv *kv = arg;

    assert_int_equal(put_kv(txn, kv), 0);
    return -ECONNRESET;
}

static int
fail_read(jm_txn_t *txn, void *arg)
{
    (void) txn;
    (void) arg;
    return -EPROTO;
}

struct nested {
    jm_store_t *store;
    struct kv kv;
};

/* A read transaction inside a write one sees the last committed state,
 * not the write's own changes (MVCC), and two reads may be open at once
 * in one thread (MDB_NOTLS). */
static int
inner_read(jm_txn_t *txn, void *arg)
{
    struct nested *n = arg;

    assert_int_equal(get_kv(txn, &n->kv), 0);
    assert_int_equal(n->kv.rc, 0); /* "old" */
    return 0;
}

static int
outer_read(jm_txn_t *txn, void *arg)
{
    struct nested *n = arg;

    return jm_store_read(n->store, inner_read, n);
}

static int
write_with_reads(jm_txn_t *txn, void *arg)
{
    struct nested *n = arg;
    struct kv mine = {n->kv.dbi, "k", "new", 0};

    assert_int_equal(put_kv(txn, &mine), 0);
    assert_int_equal(get_kv(txn, &mine), 0);
    assert_int_equal(mine.rc, 0);
    return jm_store_read(n->store, outer_read, n);
}

static void
test_transactions(void **state)
{
    struct nested n;
    jm_store_t *store;
    char dir[256];

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    store = open_store(dir, 0, 0);
    n.store = store;
    n.kv.dbi = open_dbi(store, "t", false);
    /* an error from the function aborts: nothing is written */
    n.kv.key = "k";
    n.kv.value = "lost";
    assert_int_equal(jm_store_write(store, put_then_fail, &n.kv), -ECONNRESET);
    check_str(store, n.kv.dbi, "k", NULL);
    /* the read function's result comes back */
    assert_int_equal(jm_store_read(store, fail_read, NULL), -EPROTO);
    put_str(store, n.kv.dbi, "k", "old");
    n.kv.value = "old";
    assert_int_equal(jm_store_write(store, write_with_reads, &n), 0);
    check_str(store, n.kv.dbi, "k", "new");
    jm_store_destroy(&store);
    jm_test_rmtree(dir);
}

/* ---- copy ---- */

static void
test_copy(void **state)
{
    char dir[256], backup[256];
    jm_store_t *store, *copy;
    jm_dbi dbi;
    int i;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    jm_test_tmpdir(backup, sizeof(backup));
    store = open_store(dir, 0, 0);
    dbi = open_dbi(store, "data", false);
    for (i = 0; i < 20; i++) {
        char key[16];

        snprintf(key, sizeof(key), "key%02d", i);
        put_str(store, dbi, key, i % 2 ? "odd" : "even");
    }
    put_str(store, dbi, "key03", "changed");
    /* not onto ourselves, and not into a directory holding a copy */
    assert_int_equal(jm_store_copy(store, dir), -EBUSY);
    assert_int_equal(jm_store_copy(store, backup), 0);
    assert_int_equal(jm_store_copy(store, backup), -EEXIST);
    /* the source stays in use */
    put_str(store, dbi, "after", "copy");

    copy = open_store(backup, 0, 0);
    dbi = open_dbi(copy, "data", false);
    check_str(copy, dbi, "key00", "even");
    check_str(copy, dbi, "key03", "changed");
    check_str(copy, dbi, "key19", "odd");
    check_str(copy, dbi, "after", NULL);
    jm_store_destroy(&copy);
    jm_store_destroy(&store);
    jm_test_rmtree(backup);
    jm_test_rmtree(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_twice_is_busy),
        cmocka_unit_test(test_open_in_another_process_is_busy),
        cmocka_unit_test(test_open_bad_arguments),
        cmocka_unit_test(test_refetchable_store_keeps_its_commits),
        cmocka_unit_test(test_be64_order),
        cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_scan_and_last),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_copy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
