/* follower.h - consuming a source's event log, exactly once in effect.
 *
 * A follower pulls one source (an intake or a profiles service) by seq
 * with credit, and applies each batch to the consumer's own LMDB in ONE
 * write transaction together with the source's cursor (jm_cursor): an
 * event is applied once in effect even though it may be delivered twice.
 *
 * It starts by asking the source (Ping) for its name, log id and tick
 * endpoint, then Fetches from its cursor. It fetches again at once while
 * the source has more, after a Tick on the source's PUB socket, and on a
 * poll timer (ticks are hints and PUB drops). A Tick that carries the
 * events right after the cursor up to the head (a small commit) is
 * applied like a Fetch reply, without the round trip; one that announces
 * the events a commit is writing right after the cursor goes to the
 * consumer's pending callback, if it has one. If the source answers
 * snapshot_required, or its log id differs from the cursor's (the source's
 * store was replaced), it calls reset, pages through a snapshot, applying
 * each page in its own transaction, and continues from the first page's
 * as_of_seq. Until a snapshot is complete, the consumer's view of that
 * source is partial. */
#ifndef JM_FOLLOWER_H
#define JM_FOLLOWER_H

#include <stdbool.h>
#include <stdint.h>

#include "jm/bus.h"
#include "jm/rpc.h"
#include "jm/store.h"
#include "jobmatch/v1/log.pb-c.h"

typedef struct jm_follower jm_follower_t;

typedef struct jm_follower_handler {
    /* Apply one event (or snapshot record) inside txn. Return 0, or -errno
     * to fail the batch (nothing from it is committed; it is fetched again
     * later). */
    int (*apply)(jm_txn_t *txn, const Jobmatch__V1__Event *event, void *arg);
    /* Forget everything from this source: a snapshot begins. Inside the
     * transaction of the first page. */
    int (*reset)(jm_txn_t *txn, void *arg);
    /* Inside the batch's transaction, after its events and the cursor were
     * written, just before the commit; last_seq is the cursor to be. For a
     * consumer that acts on the batch before it is durable (the matcher
     * publishes from it: its store only holds what can be fetched again).
     * It may run twice for one batch (the map grew and the batch is redone
     * from the start). Return 0, or -errno to fail the batch. May be NULL. */
    int (*prepared)(jm_txn_t *txn, uint64_t last_seq, void *arg);
    /* After a batch committed; last_seq is the new cursor. May be NULL. */
    void (*committed)(uint64_t last_seq, void *arg);
    /* The batch whose prepared ran did not commit after all: undo what
     * prepared did outside the transaction. last_seq is the cursor, which
     * stayed where it was. May be NULL. */
    void (*aborted)(uint64_t last_seq, void *arg);
    /* The source announced the events it is committing right after our
     * cursor (a Tick's `pending`, log.proto): not committed, and they may
     * never be. Never to be applied; for work the consumer prepares and
     * checks against the committed events when they come through apply.
     * Borrowed for the call. May be NULL. */
    void (*pending)(Jobmatch__V1__Event *const *events, size_t n, void *arg);
} jm_follower_handler;

typedef struct jm_follower_opts {
    /* The cursor's key in the consumer's store; default: the endpoint. */
    const char *cursor_name;
    unsigned credit;        /* events per Fetch; default 1024 */
    unsigned poll_ms;       /* fetch at least this often; default 1000 */
    jm_rpc_client_opts rpc; /* CURVE client keys, timeouts */
} jm_follower_opts;

/* Follows the source at endpoint (its api or log endpoint), applying into
 * store. Caller owns *follower_p. */
int jm_follower_new(jm_follower_t **follower_p, jm_bus_t *bus,
                    jm_store_t *store, const char *endpoint,
                    const jm_follower_opts *opts,
                    const jm_follower_handler *handler, void *arg);

typedef struct jm_follower_status {
    const char *endpoint; /* borrowed */
    const char *source;   /* "" until the source answered */
    const char *log_id;
    uint64_t applied_seq;
    uint64_t head_seq; /* last head the source reported */
    /* The source answers, and not with an error: false while it refuses
     * us (e.g. our key taken off its allow list), though it may still
     * answer Ping. */
    bool connected;
    bool snapshotting;
    uint32_t snapshots;
    uint64_t events_applied;
    uint64_t tick_batches;     /* batches applied from a tick, no Fetch */
    const char *tick_endpoint; /* where ticks are followed; "" if nowhere */
    uint64_t pending_batches;  /* announced batches handed to pending */
    /* Why the source is not followed now ("" while it answers): it does
     * not answer (down, unreachable), refuses our key, or the handshake
     * failed before our key was checked (a wrong source key), or it
     * answers with an error. */
    const char *problem;
} jm_follower_status;

/* Strings borrowed until the next loop turn. */
void jm_follower_get_status(const jm_follower_t *follower,
                            jm_follower_status *out);

/* Closes asynchronously. Safe on NULL. */
void jm_follower_destroy(jm_follower_t **follower_p);

#endif
