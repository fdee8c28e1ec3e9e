/* idem.c - idempotency records: a client's request id -> the reply it got
 * the first time, so that a retried request is answered, not applied
 * twice.
 *
 * Database "<name>": 16-byte request id -> value
 *     [8-byte BE time ms][1-byte principal length][principal][digest][reply]
 * where the time's top bit (never set in a time: times are >= 0) says
 * that the request's digest (JM_IDEM_DIGEST_LEN bytes) is there; records
 * written before digests were kept have neither.
 * Database "<name>.time": [8-byte BE time ms][16-byte id] -> empty, so that
 *     prune walks the oldest records first without reading them all.
 * The principal (from the caller's CURVE key) is stored so that one client
 * cannot read another's reply by guessing or replaying its request id. */
#include "jm/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"

#define ID_SIZE       16
#define TIME_KEY_SIZE (8 + ID_SIZE)
#define HEADER_SIZE   ((size_t) 8 + 1)
#define HAS_DIGEST    0x80 /* in the time's first byte */

struct jm_idem {
    jm_store_t *store;
    jm_dbi ids;
    jm_dbi times;
};

int
jm_idem_open(jm_idem_t **idem_p, jm_store_t *store, const char *name)
{
    jm_idem_t *self = NULL;
    int rc;

    JM_ASSERT(idem_p != NULL);
    JM_ASSERT(store != NULL);
    JM_ASSERT(name != NULL);
    *idem_p = NULL;
    self = jm_xcalloc(1, sizeof(*self));
    self->store = store;
    rc = jm_store_dbi_pair(store, name, ".time", &self->ids, &self->times);
    if (rc != 0)
        goto fail;
    *idem_p = self;
    return 0;

fail:
    free(self);
    return rc;
}

void
jm_idem_destroy(jm_idem_t **idem_p)
{
    JM_ASSERT(idem_p != NULL);
    free(*idem_p);
    *idem_p = NULL;
}

int
jm_idem_lookup(jm_idem_t *idem, jm_txn_t *txn, const uint8_t id[16],
               const char *principal, const uint8_t digest[JM_IDEM_DIGEST_LEN],
               jm_val *reply)
{
    const uint8_t *p;
    size_t plen, stored_len, dlen;
    jm_val v;
    int rc;

    JM_ASSERT(idem != NULL);
    JM_ASSERT(txn != NULL);
    JM_ASSERT(id != NULL);
    JM_ASSERT(reply != NULL);
    reply->data = NULL;
    reply->size = 0;
    if (principal == NULL)
        principal = "";
    plen = strlen(principal);
    if ((rc = jm_txn_get(txn, idem->ids, id, ID_SIZE, &v)) != 0)
        return rc;
    p = v.data;
    if (v.size < HEADER_SIZE || v.size < HEADER_SIZE + (size_t) p[8]) {
        jm_log(JM_LOG_ERR, "store", "idempotency record of %zu bytes", v.size);
        return -EIO;
    }
    stored_len = p[8];
    dlen = p[0] & HAS_DIGEST ? JM_IDEM_DIGEST_LEN : 0;
    if (v.size < HEADER_SIZE + stored_len + dlen) {
        jm_log(JM_LOG_ERR, "store", "idempotency record of %zu bytes", v.size);
        return -EIO;
    }
    if (stored_len != plen || memcmp(p + HEADER_SIZE, principal, plen) != 0)
        return -EACCES;
    /* Only digests made with the same key can be compared: the first 8
     * bytes name it (jm_rpc_call_request_digest). */
    if (dlen != 0 && digest != NULL &&
        memcmp(p + HEADER_SIZE + stored_len, digest, 8) == 0 &&
        memcmp(p + HEADER_SIZE + stored_len + 8, digest + 8, dlen - 8) != 0)
        return -EEXIST;
    reply->data = p + HEADER_SIZE + stored_len + dlen;
    reply->size = v.size - HEADER_SIZE - stored_len - dlen;
    return 0;
}

int
jm_idem_record(jm_idem_t *idem, jm_txn_t *txn, const uint8_t id[16],
               const char *principal, const uint8_t digest[JM_IDEM_DIGEST_LEN],
               int64_t now_ms, const void *reply, size_t size)
{
    uint8_t time_key[TIME_KEY_SIZE];
    uint8_t *value = NULL;
    size_t plen, dlen = digest != NULL ? JM_IDEM_DIGEST_LEN : 0, vlen;
    int rc;

    JM_ASSERT(idem != NULL);
    JM_ASSERT(txn != NULL);
    JM_ASSERT(id != NULL);
    JM_ASSERT(reply != NULL || size == 0);
    if (principal == NULL)
        principal = "";
    plen = strlen(principal);
    /* A negative time would sort after every positive one (unsigned
     * big-endian) and never be pruned. */
    if (plen > JM_PRINCIPAL_MAX_LEN || now_ms < 0)
        return -EINVAL;
    vlen = HEADER_SIZE + plen + dlen + size;
    value = jm_xmalloc(vlen);
    jm_be64_put(value, (uint64_t) now_ms);
    memcpy(time_key, value, 8);
    memcpy(time_key + 8, id, ID_SIZE);
    value[8] = (uint8_t) plen;
    memcpy(value + HEADER_SIZE, principal, plen);
    if (dlen != 0) {
        value[0] |= HAS_DIGEST;
        memcpy(value + HEADER_SIZE + plen, digest, dlen);
    }
    if (size > 0)
        memcpy(value + HEADER_SIZE + plen + dlen, reply, size);
    /* NOOVERWRITE: the first reply is the one that counts; a second
     * record for the same id is the caller's bug or a race, and must not
     * leave a stale entry in the time index either. */
    if ((rc = jm_txn_put(txn, idem->ids, id, ID_SIZE, value, vlen,
                         JM_PUT_NOOVERWRITE)) != 0)
        goto fail;
    rc = jm_txn_put(txn, idem->times, time_key, sizeof(time_key), "", 0, 0);

fail:
    free(value);
    return rc;
}

struct oldest {
    uint8_t key[TIME_KEY_SIZE];
    bool found;
};

static int
take_first(const jm_val *key, const jm_val *val, void *arg)
{
    struct oldest *o = arg;

    (void) val;
    if (key->size != TIME_KEY_SIZE) {
        jm_log(JM_LOG_ERR, "store", "idempotency time key of %zu bytes",
               key->size);
        return -EIO;
    }
    memcpy(o->key, key->data, TIME_KEY_SIZE);
    o->found = true;
    return 1;
}

int
jm_idem_prune(jm_idem_t *idem, jm_txn_t *txn, int64_t before_ms, size_t limit,
              size_t *removed_out)
{
    size_t removed = 0;
    int rc = 0;

    JM_ASSERT(idem != NULL);
    JM_ASSERT(txn != NULL);
    /* Take the oldest entry, delete it by key, repeat: no cursor deletes
     * and no key list to allocate. Each round is one short B-tree walk. */
    while (removed < limit) {
        struct oldest o = {{0}, false};

        if ((rc = jm_txn_scan(txn, idem->times, NULL, 0, take_first, &o)) != 0)
            break;
        if (!o.found || before_ms <= 0 ||
            jm_be64_get(o.key) >= (uint64_t) before_ms)
            break;
        if ((rc = jm_txn_del(txn, idem->times, o.key, TIME_KEY_SIZE)) != 0)
            break;
        rc = jm_txn_del(txn, idem->ids, o.key + 8, ID_SIZE);
        if (rc != 0 && rc != -ENOENT)
            break;
        rc = 0;
        removed++;
    }
    if (removed_out != NULL)
        *removed_out = removed;
    return rc;
}
