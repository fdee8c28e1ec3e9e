/* eventlog.c - the append-only event log of a source of truth (the
 * transactional outbox of DESIGN.md section 1).
 *
 * Database "<name>" maps seq (big-endian u64, so key order is seq order)
 * to the event bytes; appends use MDB_APPEND, which is both faster and a
 * check that seqs only grow. Database "<name>.meta" holds:
 *   "id"    32 lowercase hex characters, random, created on the first open.
 *           A consumer whose cursor names another id knows the store was
 *           replaced (restored, rebuilt) and that its seqs mean nothing.
 *   "first" the oldest kept seq (big-endian u64), written by prune; absent
 *           until the first prune, when the log starts at seq 1.
 * Prune always keeps the newest entry, so the head is simply the last key
 * and survives a restart even when everything else was pruned. */
#include "jm/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "jm/log.h"
#include "jm/mem.h"

#define META_ID    "id"
#define META_FIRST "first"
#define ID_LEN     32

struct jm_eventlog {
    jm_store_t *store;
    jm_dbi log;
    jm_dbi meta;
    char id[ID_LEN + 1];
};

static bool
id_valid(const void *data, size_t size)
{
    const char *s = data;
    size_t i;

    if (size != ID_LEN)
        return false;
    for (i = 0; i < size; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Copies the stored id into log->id; -ENOENT if there is none yet. */
static int
load_id(jm_txn_t *txn, void *arg)
{
    jm_eventlog_t *log = arg;
    jm_val v;
    int rc;

    if ((rc = jm_txn_get(txn, log->meta, META_ID, strlen(META_ID), &v)) != 0)
        return rc;
    if (!id_valid(v.data, v.size)) {
        jm_log(JM_LOG_ERR, "store", "event log id is corrupt (%zu bytes)",
               v.size);
        return -EIO;
    }
    memcpy(log->id, v.data, ID_LEN);
    log->id[ID_LEN] = '\0';
    return 0;
}

struct create_id {
    jm_eventlog_t *log;
    char candidate[ID_LEN + 1];
};

/* Stores the candidate id unless one exists already. Redo-safe: the
 * candidate was drawn before the transaction. */
static int
create_id(jm_txn_t *txn, void *arg)
{
    struct create_id *c = arg;
    int rc;

    rc = load_id(txn, c->log);
    if (rc != -ENOENT)
        return rc;
    if ((rc = jm_txn_put(txn, c->log->meta, META_ID, strlen(META_ID),
                         c->candidate, ID_LEN, JM_PUT_NOOVERWRITE)) != 0)
        return rc;
    memcpy(c->log->id, c->candidate, ID_LEN + 1);
    return 0;
}

int
jm_eventlog_open(jm_eventlog_t **log_p, jm_store_t *store, const char *name)
{
    static const char hex[] = "0123456789abcdef";
    jm_eventlog_t *self = NULL;
    struct create_id c;
    uint8_t random[ID_LEN / 2];
    size_t i;
    int rc;

    JM_ASSERT(log_p != NULL);
    JM_ASSERT(store != NULL);
    JM_ASSERT(name != NULL);
    *log_p = NULL;
    self = jm_xcalloc(1, sizeof(*self));
    self->store = store;
    rc = jm_store_dbi_pair(store, name, ".meta", &self->log, &self->meta);
    if (rc != 0)
        goto fail;
    /* Read first: only the very first open pays for a write (and fsync). */
    rc = jm_store_read(store, load_id, self);
    if (rc == -ENOENT) {
        /* uv_random with no loop is synchronous (getrandom(2)). */
        if ((rc = uv_random(NULL, NULL, random, sizeof(random), 0, NULL)) != 0)
            goto fail;
        for (i = 0; i < sizeof(random); i++) {
            c.candidate[2 * i] = hex[random[i] >> 4];
            c.candidate[2 * i + 1] = hex[random[i] & 0x0f];
        }
        c.candidate[ID_LEN] = '\0';
        c.log = self;
        rc = jm_store_write(store, create_id, &c);
    }
    if (rc != 0)
        goto fail;
    *log_p = self;
    return 0;

fail:
    free(self);
    return rc;
}

void
jm_eventlog_destroy(jm_eventlog_t **log_p)
{
    JM_ASSERT(log_p != NULL);
    /* The database handles stay with the environment (LMDB advises against
     * closing them); only our struct goes. */
    free(*log_p);
    *log_p = NULL;
}

const char *
jm_eventlog_id(const jm_eventlog_t *log)
{
    JM_ASSERT(log != NULL);
    return log->id;
}

/* The last key, or 0 for a log never appended to. */
static int
head_seq(jm_eventlog_t *log, jm_txn_t *txn, uint64_t *head)
{
    jm_val key;
    int rc;

    rc = jm_txn_last(txn, log->log, &key, NULL);
    if (rc == -ENOENT) {
        *head = 0;
        return 0;
    }
    if (rc != 0)
        return rc;
    if (key.size != 8) {
        jm_log(JM_LOG_ERR, "store", "event log key of %zu bytes", key.size);
        return -EIO;
    }
    *head = jm_be64_get(key.data);
    return 0;
}

/* The oldest kept seq as recorded by prune; 1 if never pruned. */
static int
first_seq(jm_eventlog_t *log, jm_txn_t *txn, uint64_t *first)
{
    jm_val v;
    int rc;

    rc = jm_txn_get(txn, log->meta, META_FIRST, strlen(META_FIRST), &v);
    if (rc == -ENOENT) {
        *first = 1;
        return 0;
    }
    if (rc != 0)
        return rc;
    if (v.size != 8) {
        jm_log(JM_LOG_ERR, "store", "event log first seq of %zu bytes", v.size);
        return -EIO;
    }
    *first = jm_be64_get(v.data);
    return 0;
}

int
jm_eventlog_next_seq(jm_eventlog_t *log, jm_txn_t *txn, uint64_t *seq)
{
    uint64_t head;
    int rc;

    JM_ASSERT(log != NULL);
    JM_ASSERT(txn != NULL);
    JM_ASSERT(seq != NULL);
    if ((rc = head_seq(log, txn, &head)) != 0)
        return rc;
    *seq = head + 1;
    return 0;
}

int
jm_eventlog_append(jm_eventlog_t *log, jm_txn_t *txn, uint64_t seq,
                   const void *data, size_t size)
{
    uint8_t key[8];
    uint64_t head;
    int rc;

    JM_ASSERT(log != NULL);
    JM_ASSERT(txn != NULL);
    if ((rc = head_seq(log, txn, &head)) != 0)
        return rc;
    /* Consumers read "everything after seq N": a gap or a repeat would
     * make them skip or apply an event twice. */
    if (seq != head + 1)
        return -EINVAL;
    jm_be64_put(key, seq);
    return jm_txn_put(txn, log->log, key, sizeof(key), data, size,
                      JM_PUT_APPEND);
}

int
jm_eventlog_replace(jm_eventlog_t *log, jm_txn_t *txn, uint64_t seq,
                    const void *data, size_t size)
{
    uint8_t key[8];
    jm_val old;
    int rc;

    JM_ASSERT(log != NULL);
    JM_ASSERT(txn != NULL);
    jm_be64_put(key, seq);
    if ((rc = jm_txn_get(txn, log->log, key, sizeof(key), &old)) != 0)
        return rc;
    return jm_txn_put(txn, log->log, key, sizeof(key), data, size, 0);
}

int
jm_eventlog_bounds(jm_eventlog_t *log, jm_txn_t *txn, uint64_t *first,
                   uint64_t *head)
{
    uint64_t f, h;
    int rc;

    JM_ASSERT(log != NULL);
    JM_ASSERT(txn != NULL);
    if ((rc = head_seq(log, txn, &h)) != 0)
        return rc;
    if ((rc = first_seq(log, txn, &f)) != 0)
        return rc;
    /* Empty log: first is 1 = head + 1. Pruned: f <= h, because prune
     * keeps the head. */
    if (first != NULL)
        *first = f;
    if (head != NULL)
        *head = h;
    return 0;
}

struct read_walk {
    jm_eventlog_fn fn;
    void *arg;
    size_t left;
};

static int
read_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct read_walk *w = arg;
    int rc;

    if (key->size != 8) {
        jm_log(JM_LOG_ERR, "store", "event log key of %zu bytes", key->size);
        return -EIO;
    }
    if ((rc = w->fn(jm_be64_get(key->data), val, w->arg)) != 0)
        return rc;
    return --w->left == 0 ? 1 : 0;
}

int
jm_eventlog_read(jm_eventlog_t *log, jm_txn_t *txn, uint64_t after,
                 size_t limit, jm_eventlog_fn fn, void *arg)
{
    struct read_walk w = {fn, arg, limit};
    uint8_t start[8];

    JM_ASSERT(log != NULL);
    JM_ASSERT(txn != NULL);
    JM_ASSERT(fn != NULL);
    if (limit == 0 || after == UINT64_MAX)
        return 0;
    jm_be64_put(start, after + 1);
    return jm_txn_scan(txn, log->log, start, sizeof(start), read_one, &w);
}

int
jm_eventlog_prune(jm_eventlog_t *log, jm_txn_t *txn, uint64_t upto)
{
    uint64_t first, head, last, seq;
    uint8_t key[8];
    int rc;

    JM_ASSERT(log != NULL);
    JM_ASSERT(txn != NULL);
    if ((rc = head_seq(log, txn, &head)) != 0)
        return rc;
    if ((rc = first_seq(log, txn, &first)) != 0)
        return rc;
    if (head == 0)
        return 0;
    last = upto < head ? upto : head - 1; /* the head entry stays */
    if (last < first)
        return 0;
    /* Deleting by key, one at a time: no cursor deletes (DESIGN.md: 0.9.24
     * has bugs there, if only on DUPSORT). */
    for (seq = first; seq <= last; seq++) {
        jm_be64_put(key, seq);
        rc = jm_txn_del(txn, log->log, key, sizeof(key));
        if (rc != 0 && rc != -ENOENT)
            return rc;
    }
    jm_be64_put(key, last + 1);
    return jm_txn_put(txn, log->meta, META_FIRST, strlen(META_FIRST), key,
                      sizeof(key), 0);
}
