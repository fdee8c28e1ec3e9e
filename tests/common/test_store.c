/* test_store.c - the LMDB environment: one open per directory, key/value
 * semantics, big-endian keys, copy, and map growth that redoes the whole
 * batch whether MDB_MAP_FULL came from a put or from the commit. (Stale
 * reader slots need processes that die: test_eventlog.c, with the other
 * kill -9 test.) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "jm/store.h"
#include "jm_test.h"

#define KIB ((size_t) 1024)

/* ---- helpers ---- */

static jm_store_t *
open_store(const char *dir, size_t map, size_t map_max)
{
    jm_store_opts opts = {
        .map_size = map, .map_size_max = map_max, .max_dbs = 8};
    jm_store_t *store = NULL;

    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    return store;
}

static jm_dbi
open_dbi(jm_store_t *store, const char *name, bool dupsort)
{
    jm_dbi dbi = 0;

    assert_int_equal(jm_store_dbi(store, name, dupsort, &dbi), 0);
    return dbi;
}

/* A key/value pair to write or check; value NULL means "absent". */
struct kv {
    jm_dbi dbi;
    const char *key;
    const char *value;
    int rc;
};

static int
put_kv(jm_txn_t *txn, void *arg)
{
    struct kv *kv = arg;

    return jm_txn_put(txn, kv->dbi, kv->key, strlen(kv->key), kv->value,
                      strlen(kv->value), 0);
}

static int
get_kv(jm_txn_t *txn, void *arg)
{
    struct kv *kv = arg;
    jm_val v;

    kv->rc = jm_txn_get(txn, kv->dbi, kv->key, strlen(kv->key), &v);
    if (kv->rc == 0) {
        assert_non_null(kv->value);
        assert_int_equal(v.size, strlen(kv->value));
        assert_memory_equal(v.data, kv->value, v.size);
    }
    return 0;
}

static void
put_str(jm_store_t *store, jm_dbi dbi, const char *key, const char *value)
{
    struct kv kv = {dbi, key, value, 0};

    assert_int_equal(jm_store_write(store, put_kv, &kv), 0);
}

/* Asserts key holds value, or is absent if value is NULL. */
static void
check_str(jm_store_t *store, jm_dbi dbi, const char *key, const char *value)
{
    struct kv kv = {dbi, key, value, 0};

    assert_int_equal(jm_store_read(store, get_kv, &kv), 0);
    assert_int_equal(kv.rc, value != NULL ? 0 : -ENOENT);
}

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

/* ---- a data file cut short ---- */

struct log_line {
    char text[1024];
};

static void
keep_last_error(int level, const char *component, const char *message,
                void *arg)
{
    struct log_line *line = arg;

    if (level <= JM_LOG_ERR)
        snprintf(line->text, sizeof(line->text), "%s: %s", component, message);
}

/* Opens dir in a child, so that a crash (LMDB reading a page past the
 * end of the mapped file is SIGBUS) fails this test rather than ending
 * the whole run: the child sends back the return code and the last error
 * line logged. */
static int
open_in_child(const char *dir, char *logged, size_t logged_size)
{
    int fds[2], status = 0, rc = 1;
    pid_t child;
    ssize_t got, n;

    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct log_line line = {""};
        jm_store_t *store = NULL;

        /* cmocka's handlers would catch the crash here and run the rest
         * of the tests in this copy of the process. */
        signal(SIGBUS, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        close(fds[0]);
        jm_log_set_sink(keep_last_error, &line);
        rc = jm_store_open(&store, dir, NULL);
        jm_store_destroy(&store);
        if (write(fds[1], &rc, sizeof(rc)) != (ssize_t) sizeof(rc) ||
            write(fds[1], line.text, strlen(line.text)) < 0)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    got = read(fds[0], &rc, sizeof(rc));
    n = read(fds[0], logged, logged_size - 1);
    logged[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("opening a cut-short store killed the process (signal %d)",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    assert_int_equal(got, (ssize_t) sizeof(rc));
    return rc;
}

/* A backup (the compact copy mdb_copy -c makes) cut to half its size, as
 * a full disk or an interrupted transfer leaves it: LMDB maps the file
 * and would read past its end (SIGBUS, no message). The open must refuse
 * it instead, naming the file, its size, the size it needs and the cure;
 * the same for the store's own data file cut short. */
static void
test_open_cut_short_file(void **state)
{
    char dir[256], backup[256], path[300], logged[1024], want[400];
    const char *dirs[2] = {backup, dir};
    jm_store_t *store;
    jm_dbi dbi;
    struct stat st;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    jm_test_tmpdir(backup, sizeof(backup));
    store = open_store(dir, 0, 0);
    dbi = open_dbi(store, "data", false);
    for (int i = 0; i < 200; i++) {
        char key[16], value[1000];

        snprintf(key, sizeof(key), "key%03d", i);
        memset(value, 'a' + i % 26, sizeof(value) - 1);
        value[sizeof(value) - 1] = '\0';
        put_str(store, dbi, key, value);
    }
    assert_int_equal(jm_store_copy(store, backup), 0);
    jm_store_destroy(&store);

    for (int i = 0; i < 2; i++) {
        off_t full;

        snprintf(path, sizeof(path), "%s/data.mdb", dirs[i]);
        assert_int_equal(stat(path, &st), 0);
        full = st.st_size;
        assert_int_equal(truncate(path, full / 2), 0);
        assert_int_equal(open_in_child(dirs[i], logged, sizeof(logged)), -EIO);
        snprintf(want, sizeof(want), "store: %s is %lld bytes long", path,
                 (long long) (full / 2));
        if (strstr(logged, want) == NULL ||
            strstr(logged, "cut short: restore it from a backup") == NULL ||
            strstr(logged, "docs/operations.md") == NULL)
            fail_msg("logged \"%s\"", logged);
        if (i == 0) {
            /* A compact copy is exactly as long as the store it holds. */
            snprintf(want, sizeof(want), "needs %lld (", (long long) full);
            if (strstr(logged, want) == NULL)
                fail_msg("logged \"%s\", not \"%s\"", logged, want);
        }
    }
    jm_test_rmtree(backup);
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
        cmocka_unit_test(test_open_twice_is_busy),
        cmocka_unit_test(test_open_in_another_process_is_busy),
        cmocka_unit_test(test_open_bad_arguments),
        cmocka_unit_test(test_open_cut_short_file),
        cmocka_unit_test(test_refetchable_store_keeps_its_commits),
        cmocka_unit_test(test_be64_order),
        cmocka_unit_test(test_put_get_del),
        cmocka_unit_test(test_scan_and_last),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_map_full_at_put_redoes_batch),
        cmocka_unit_test(test_map_full_ignored_still_redoes),
        cmocka_unit_test(test_map_full_at_max_is_enospc),
        cmocka_unit_test(test_map_full_at_commit_redoes_batch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
