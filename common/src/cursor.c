/* cursor.c - a consumer's position in each source's event log, stored in
 * the consumer's own LMDB in the same transaction as what it derived from
 * the events (exactly-once effect over at-least-once delivery).
 *
 * Database "cursors" (opened by jm_store_open, see store_internal.h):
 *     source name -> [32-char log id][8-byte BE seq]
 * The log id travels with the seq: a seq is only meaningful for the log
 * that issued it. */
#include "jm/store.h"

#include <errno.h>
#include <string.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "store_internal.h"

#define ID_LEN     32
#define VALUE_SIZE (ID_LEN + 8)

static bool
source_ok(const char *source)
{
    size_t len = strlen(source);

    return len > 0 && len <= JM__STORE_KEY_MAX;
}

int
jm_cursor_load(jm_store_t *store, jm_txn_t *txn, const char *source,
               jm_cursor *out)
{
    const uint8_t *p;
    jm_val v;
    size_t i;
    int rc;

    JM_ASSERT(store != NULL);
    JM_ASSERT(txn != NULL && jm_txn_store(txn) == store);
    JM_ASSERT(source != NULL);
    JM_ASSERT(out != NULL);
    memset(out, 0, sizeof(*out));
    if (!source_ok(source))
        return -EINVAL;
    if ((rc = jm_txn_get(txn, jm__store_cursors_dbi(store), source,
                         strlen(source), &v)) != 0)
        return rc;
    p = v.data;
    if (v.size != VALUE_SIZE) {
        jm_log(JM_LOG_ERR, "store", "cursor %s: value of %zu bytes", source,
               v.size);
        return -EIO;
    }
    for (i = 0; i < ID_LEN; i++) {
        if (p[i] == '\0') {
            jm_log(JM_LOG_ERR, "store", "cursor %s: bad log id", source);
            return -EIO;
        }
    }
    memcpy(out->log_id, p, ID_LEN);
    out->log_id[ID_LEN] = '\0';
    out->seq = jm_be64_get(p + ID_LEN);
    return 0;
}

int
jm_cursor_save(jm_store_t *store, jm_txn_t *txn, const char *source,
               const jm_cursor *cursor)
{
    uint8_t value[VALUE_SIZE];

    JM_ASSERT(store != NULL);
    JM_ASSERT(txn != NULL && jm_txn_store(txn) == store);
    JM_ASSERT(source != NULL);
    JM_ASSERT(cursor != NULL);
    if (!source_ok(source))
        return -EINVAL;
    /* Log ids are always 32 characters (jm_eventlog_id); anything else
     * would not load back. */
    if (strnlen(cursor->log_id, sizeof(cursor->log_id)) != ID_LEN)
        return -EINVAL;
    memcpy(value, cursor->log_id, ID_LEN);
    jm_be64_put(value + ID_LEN, cursor->seq);
    return jm_txn_put(txn, jm__store_cursors_dbi(store), source, strlen(source),
                      value, sizeof(value), 0);
}

int
jm_cursor_forget(jm_store_t *store, jm_txn_t *txn, const char *source)
{
    int rc;

    JM_ASSERT(store != NULL);
    JM_ASSERT(txn != NULL && jm_txn_store(txn) == store);
    JM_ASSERT(source != NULL);
    if (!source_ok(source))
        return -EINVAL;
    rc = jm_txn_del(txn, jm__store_cursors_dbi(store), source, strlen(source));
    return rc == -ENOENT ? 0 : rc;
}
