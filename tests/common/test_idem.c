/* test_idem.c - idempotency records: a repeated request id gets the first
 * reply (also after a restart), only for the principal that sent it and
 * only for the same request (its digest), and prune forgets old records
 * only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "jm/store.h"
#include "jm_test.h"

struct fixture {
    char dir[256];
    jm_store_t *store;
    jm_idem_t *idem;
};

static void
fixture_open(struct fixture *f)
{
    assert_int_equal(jm_store_open(&f->store, f->dir, NULL), 0);
    assert_int_equal(jm_idem_open(&f->idem, f->store, "requests"), 0);
}

static void
fixture_close(struct fixture *f)
{
    jm_idem_destroy(&f->idem);
    assert_null(f->idem);
    jm_idem_destroy(&f->idem);
    jm_store_destroy(&f->store);
}

static int
setup(void **state)
{
    struct fixture *f = jm_xcalloc(1, sizeof(*f));

    jm_test_tmpdir(f->dir, sizeof(f->dir));
    fixture_open(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    fixture_close(f);
    jm_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void
make_id(uint8_t id[16], uint8_t n)
{
    memset(id, 0xa5, 16);
    id[15] = n;
}

/* One lookup or record, run inside a transaction. */
struct call {
    jm_idem_t *idem;
    uint8_t id[16];
    const char *principal;
    int64_t now_ms;
    const char *reply;     /* to record, or expected from lookup */
    const uint8_t *digest; /* of the request; NULL: none */
    int rc;
};

static int
record_fn(jm_txn_t *txn, void *arg)
{
    struct call *c = arg;

    return jm_idem_record(c->idem, txn, c->id, c->principal, c->digest,
                          c->now_ms, c->reply, c->reply ? strlen(c->reply) : 0);
}

static int
lookup_fn(jm_txn_t *txn, void *arg)
{
    struct call *c = arg;
    jm_val reply;

    c->rc =
        jm_idem_lookup(c->idem, txn, c->id, c->principal, c->digest, &reply);
    if (c->rc == 0) {
        assert_non_null(c->reply);
        assert_int_equal(reply.size, strlen(c->reply));
        assert_memory_equal(reply.data, c->reply, reply.size);
    } else {
        assert_null(reply.data);
        assert_int_equal(reply.size, 0);
    }
    return 0;
}

static int
record(struct fixture *f, uint8_t n, const char *principal, int64_t now_ms,
       const char *reply)
{
    struct call c = {f->idem, {0}, principal, now_ms, reply, NULL, 0};

    make_id(c.id, n);
    return jm_store_write(f->store, record_fn, &c);
}

/* The lookup's result; on 0 the reply equals `expect`. */
static int
lookup(struct fixture *f, uint8_t n, const char *principal, const char *expect)
{
    struct call c = {f->idem, {0}, principal, 0, expect, NULL, 0};

    make_id(c.id, n);
    assert_int_equal(jm_store_read(f->store, lookup_fn, &c), 0);
    return c.rc;
}

static size_t prune(struct fixture *f, int64_t before_ms, size_t limit);

/* The same with the request's digest. */
static int
record_digest(struct fixture *f, uint8_t n, const char *digest, int64_t now_ms,
              const char *reply)
{
    struct call c = {f->idem, {0}, "p", now_ms, reply, (const uint8_t *) digest,
                     0};

    make_id(c.id, n);
    return jm_store_write(f->store, record_fn, &c);
}

static int
lookup_digest(struct fixture *f, uint8_t n, const char *digest,
              const char *expect)
{
    struct call c = {f->idem, {0}, "p", 0, expect, (const uint8_t *) digest, 0};

    make_id(c.id, n);
    assert_int_equal(jm_store_read(f->store, lookup_fn, &c), 0);
    return c.rc;
}

/* A request id sent again with another request (another digest under
 * the same key) is not a retry: -EEXIST, and the first reply is not
 * given. A digest under another key (a restart made a new one: the key
 * lives in memory only), a lookup without a digest, or a record made
 * without one (before digests were kept) is not compared. Prune takes
 * records with a digest as any other. */
static void
test_other_request_is_refused(void **state)
{
    struct fixture *f = *state;
    /* 8 bytes of key id, then 8 of hash (jm_rpc_call_request_digest) */
    static const char a[] = "key-1---hash-AAA", b[] = "key-1---hash-BBB",
                      later[] = "key-2---hash-BBB";

    assert_int_equal(record_digest(f, 1, a, 100, "accepted seq 7"), 0);
    assert_int_equal(lookup_digest(f, 1, a, "accepted seq 7"), 0);
    assert_int_equal(lookup_digest(f, 1, b, NULL), -EEXIST);
    assert_int_equal(lookup_digest(f, 1, later, "accepted seq 7"), 0);
    assert_int_equal(lookup_digest(f, 1, NULL, "accepted seq 7"), 0);
    assert_int_equal(lookup(f, 1, "other", NULL), -EACCES);

    assert_int_equal(record(f, 2, "p", 200, "an old record"), 0);
    assert_int_equal(lookup_digest(f, 2, b, "an old record"), 0);

    /* after a reopen of the store, too */
    fixture_close(f);
    fixture_open(f);
    assert_int_equal(lookup_digest(f, 1, b, NULL), -EEXIST);
    assert_int_equal(lookup_digest(f, 1, a, "accepted seq 7"), 0);
    assert_int_equal(prune(f, 150, 10), 1);
    assert_int_equal(lookup_digest(f, 1, a, NULL), -ENOENT);
    assert_int_equal(lookup_digest(f, 2, a, "an old record"), 0);
}

static void
test_duplicate_gets_first_reply(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(lookup(f, 1, "municipality:101", NULL), -ENOENT);
    assert_int_equal(record(f, 1, "municipality:101", 1000, "accepted seq 7"),
                     0);
    assert_int_equal(lookup(f, 1, "municipality:101", "accepted seq 7"), 0);
    /* the first reply counts: a second record is refused */
    assert_int_equal(record(f, 1, "municipality:101", 2000, "accepted seq 8"),
                     -EEXIST);
    assert_int_equal(lookup(f, 1, "municipality:101", "accepted seq 7"), 0);
    assert_int_equal(lookup(f, 2, "municipality:101", NULL), -ENOENT);

    /* after a restart, too */
    fixture_close(f);
    fixture_open(f);
    assert_int_equal(lookup(f, 1, "municipality:101", "accepted seq 7"), 0);
}

static void
test_other_principal_is_refused(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(record(f, 1, "municipality:101", 1000, "mine"), 0);
    assert_int_equal(lookup(f, 1, "municipality:147", NULL), -EACCES);
    assert_int_equal(lookup(f, 1, "municipality:10", NULL), -EACCES);
    assert_int_equal(lookup(f, 1, "municipality:1011", NULL), -EACCES);
    assert_int_equal(lookup(f, 1, NULL, NULL), -EACCES);
    /* NULL is "" both ways; an empty reply is a reply */
    assert_int_equal(record(f, 2, NULL, 1000, ""), 0);
    assert_int_equal(lookup(f, 2, "", ""), 0);
    assert_int_equal(lookup(f, 2, NULL, ""), 0);
    assert_int_equal(lookup(f, 2, "municipality:101", NULL), -EACCES);
}

static void
test_bad_records_are_refused(void **state)
{
    struct fixture *f = *state;
    char principal[300];
    jm_idem_t *idem = NULL;

    memset(principal, 'p', sizeof(principal));
    principal[256] = '\0'; /* 256 characters: one too many */
    assert_int_equal(record(f, 1, principal, 1000, "x"), -EINVAL);
    principal[255] = '\0';
    assert_int_equal(record(f, 1, principal, 1000, "x"), 0);
    assert_int_equal(lookup(f, 1, principal, "x"), 0);
    assert_int_equal(record(f, 2, "a", -1, "x"), -EINVAL);
    assert_int_equal(lookup(f, 2, "a", NULL), -ENOENT);
    assert_int_equal(jm_idem_open(&idem, f->store, ""), -EINVAL);
    assert_null(idem);
}

struct prune_call {
    jm_idem_t *idem;
    int64_t before_ms;
    size_t limit;
    size_t removed;
    bool null_out; /* pass NULL for removed_out */
};

static int
prune_fn(jm_txn_t *txn, void *arg)
{
    struct prune_call *p = arg;

    return jm_idem_prune(p->idem, txn, p->before_ms, p->limit,
                         p->null_out ? NULL : &p->removed);
}

static size_t
prune(struct fixture *f, int64_t before_ms, size_t limit)
{
    struct prune_call p = {f->idem, before_ms, limit, 99, false};

    assert_int_equal(jm_store_write(f->store, prune_fn, &p), 0);
    return p.removed;
}

static void
test_prune_removes_old_only(void **state)
{
    struct fixture *f = *state;
    struct prune_call null_out = {f->idem, 450, 10, 0, true};
    uint8_t n;

    assert_int_equal(prune(f, 1000, 10), 0); /* nothing recorded */
    /* ids 1..6 at times 600, 500, ..., 100: id order is not time order */
    for (n = 1; n <= 6; n++)
        assert_int_equal(record(f, n, "p", 700 - 100 * (int64_t) n, "r"), 0);
    assert_int_equal(prune(f, 100, 10), 0); /* strictly older than */
    assert_int_equal(prune(f, 0, 10), 0);
    assert_int_equal(prune(f, 350, 0), 0); /* limit 0: nothing */
    assert_int_equal(prune(f, 350, 1), 1); /* the oldest: id 6 (100) */
    assert_int_equal(lookup(f, 6, "p", NULL), -ENOENT);
    assert_int_equal(lookup(f, 5, "p", "r"), 0);
    assert_int_equal(prune(f, 350, 10), 2); /* ids 5 and 4 */
    assert_int_equal(lookup(f, 5, "p", NULL), -ENOENT);
    assert_int_equal(lookup(f, 4, "p", NULL), -ENOENT);
    assert_int_equal(lookup(f, 3, "p", "r"), 0); /* 400: kept */
    assert_int_equal(prune(f, 350, 10), 0);
    /* a forgotten id may be used again */
    assert_int_equal(record(f, 6, "p", 800, "again"), 0);
    assert_int_equal(lookup(f, 6, "p", "again"), 0);
    assert_int_equal(jm_store_write(f->store, prune_fn, &null_out), 0);
    assert_int_equal(lookup(f, 3, "p", NULL), -ENOENT);
    assert_int_equal(lookup(f, 2, "p", "r"), 0);

    /* the time index survives a restart with the records */
    fixture_close(f);
    fixture_open(f);
    assert_int_equal(prune(f, 10000, 100), 3); /* ids 2, 1, 6 */
    for (n = 1; n <= 6; n++)
        assert_int_equal(lookup(f, n, "p", NULL), -ENOENT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_duplicate_gets_first_reply, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_principal_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_other_request_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_records_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prune_removes_old_only, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
