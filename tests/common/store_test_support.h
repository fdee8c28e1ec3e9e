/* store_test_support.h - helpers shared by test_store.c and
 * test_store_growth.c: a store and a table opened or the test fails, and a
 * string written or checked in a transaction of its own.
 *
 * static inline so that each test file compiles only what it uses. */
#ifndef JM_STORE_TEST_SUPPORT_H
#define JM_STORE_TEST_SUPPORT_H

#include <errno.h>
#include <string.h>

#include "jm/store.h"
#include "jm_test.h"

#define KIB ((size_t) 1024)

static inline jm_store_t *
open_store(const char *dir, size_t map, size_t map_max)
{
    jm_store_opts opts = {
        .map_size = map, .map_size_max = map_max, .max_dbs = 8};
    jm_store_t *store = NULL;

    assert_int_equal(jm_store_open(&store, dir, &opts), 0);
    return store;
}

static inline jm_dbi
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

static inline int
put_kv(jm_txn_t *txn, void *arg)
{
    struct kv *kv = arg;

    return jm_txn_put(txn, kv->dbi, kv->key, strlen(kv->key), kv->value,
                      strlen(kv->value), 0);
}

static inline int
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

static inline void
put_str(jm_store_t *store, jm_dbi dbi, const char *key, const char *value)
{
    struct kv kv = {dbi, key, value, 0};

    assert_int_equal(jm_store_write(store, put_kv, &kv), 0);
}

/* Asserts key holds value, or is absent if value is NULL. */
static inline void
check_str(jm_store_t *store, jm_dbi dbi, const char *key, const char *value)
{
    struct kv kv = {dbi, key, value, 0};

    assert_int_equal(jm_store_read(store, get_kv, &kv), 0);
    assert_int_equal(kv.rc, value != NULL ? 0 : -ENOENT);
}

#endif
