/* intake_repo.h - the intake service's records in its LMDB environment:
 * job orders by id and the indexes that listing, statistics and expiry
 * need. The layout (services/intake/README.md, "LMDB layout"):
 *
 *   orders            id -> packed JobOrder
 *   by_status         [status: 1][id] -> ""
 *
 * and in memory (intake_keyset.h: rebuilt from the orders at start,
 * changed when a batch commits; in LMDB each new order dirtied a page of
 * its own in them, the largest cost of an acknowledged order):
 *
 *   by_municipality   [owner code: 3][status: 1][id]
 *   open_by_deadline  [deadline day: be32][id]   (OPEN orders only)
 *
 * There is no occupation index: occupations are many (3,000), so such an
 * index would dirty one more random page per new order; listing by
 * occupation filters whatever index the other criteria pick.
 *
 * The event log, the request ids and the cursors are jm_source's own
 * databases in the same environment. Every write here happens inside
 * jm_source's group-commit transaction, together with the order's event.
 *
 * Everything runs inside a transaction the caller owns; orders read are
 * unpacked with the caller's allocator (request memory), so nothing
 * borrowed from LMDB outlives the transaction. Functions return 0 or
 * -errno (-ENOENT: no such order; -EIO: a stored order does not decode). */
#ifndef INTAKE_REPO_H
#define INTAKE_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "jm/logserver.h"
#include "jm/msg.h"
#include "jm/store.h"
#include "jobmatch/v1/envelope.pb-c.h"

typedef struct intake_keyset intake_keyset;
struct intake_index_change;

typedef struct intake_repo {
    jm_dbi orders;
    jm_dbi by_status;
    intake_keyset *by_municipality;
    intake_keyset *open_by_deadline;
    /* The in-memory index changes of the batch being written. */
    struct intake_index_change *pending;
    size_t n_pending;
    size_t cap_pending;
} intake_repo;

/* Opens (creating) the databases and builds the in-memory indexes from
 * the orders. Call from jm_source's open_dbs. */
int intake_repo_open(intake_repo *repo, jm_store_t *store);

/* Frees the in-memory indexes. Safe after a failed open. */
void intake_repo_close(intake_repo *repo);

/* The write transaction's bracket: begin at the start of every attempt
 * (a redo after growing the map starts again), committed once the
 * transaction committed (status 0: the batch's index changes take effect)
 * or failed (-errno: they are dropped). The in-memory indexes then always
 * show the last commit, as a read transaction does. */
void intake_repo_begin(intake_repo *repo);
void intake_repo_committed(intake_repo *repo, int status);

/* Reads order id into *out, unpacked with alloc. */
int intake_repo_get(const intake_repo *repo, jm_txn_t *txn, const char *id,
                    ProtobufCAllocator *alloc, Jobmatch__V1__JobOrder **out);

/* 0 if order id exists, -ENOENT if not. */
int intake_repo_exists(const intake_repo *repo, jm_txn_t *txn, const char *id);

/* Stores order (packed: data, size) and moves its index entries from
 * those of old (the order as stored before; NULL for a new order). */
int intake_repo_put(intake_repo *repo, jm_txn_t *txn,
                    const Jobmatch__V1__JobOrder *old,
                    const Jobmatch__V1__JobOrder *order, const void *data,
                    size_t size);

/* One page of orders matching q (its municipality_code replaced by
 * municipality, which a municipal caller's rights may force; "" = any).
 * Orders and the token are allocated with alloc. Returns 0, 1 with err
 * (a page token that is not one of this query's), or -errno. */
int intake_repo_list(const intake_repo *repo, jm_txn_t *txn,
                     const Jobmatch__V1__ListOrders *q,
                     const char *municipality, ProtobufCAllocator *alloc,
                     Jobmatch__V1__OrderList *out, jm_error *err);

/* Statistics per municipality (municipality "" = every municipality that
 * has orders, in code order; else just that one, zeros if it has none).
 * Scans the orders: fine up to about 100,000 orders (see the README).
 * out's arrays are allocated with alloc. */
int intake_repo_stats(const intake_repo *repo, jm_txn_t *txn,
                      const char *municipality, ProtobufCAllocator *alloc,
                      Jobmatch__V1__OrderStats *out);

/* Calls fn with the id of each OPEN order whose deadline day is before
 * today, in deadline order, at most limit of them. fn returns 0 to go
 * on. The id is borrowed for the call. */
typedef int (*intake_repo_id_fn)(const char *id, void *arg);
int intake_repo_due(const intake_repo *repo, int32_t today, size_t limit,
                    intake_repo_id_fn fn, void *arg);

/* The jm_snapshot_fn of intake: all orders in id order, from after_key
 * (inclusive) on; arg is the repo. */
int intake_repo_snapshot(jm_txn_t *txn, const void *after_key,
                         size_t after_size, size_t limit,
                         jm_snapshot_page_t *page, void *arg);

#endif
