/* source.h - the skeleton of a service that is a source of truth.
 *
 * intake (job orders) and profiles (citizens) are built the same way: an
 * api ROUTER; writes validated, then group-committed with their event and
 * their idempotency record in one LMDB transaction, and answered only after
 * the commit; reads answered from a short read transaction; the event log
 * served to consumers with Fetch, snapshots and ticks; a housekeeping
 * timer. jm_source is that skeleton, written once. A service supplies its
 * domain as a table of operations (jm_source_ops) and never touches the
 * socket, the commit or the log directly.
 *
 * The flow of one request:
 *   rpc (envelope checks) -> Ping / Fetch / FetchSnapshot answered here
 *   -> ops.check (the body's fields and the principal's rights; reply
 *      with an error, or classify as read or write)
 *   -> read: ops.read in a read transaction, reply at once
 *   -> write: queued; at the end of the loop turn one write transaction:
 *        a request id seen before -> the stored reply, marked duplicate;
 *        else ops.apply (reads state, may reject without writing, else
 *        writes records and appends events with jm_source_append and
 *        fills the reply); the reply is stored under the request id;
 *      commit (fsync); then every reply is sent and a Tick published. */
#ifndef JM_SOURCE_H
#define JM_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "jm/bus.h"
#include "jm/logserver.h"
#include "jm/msg.h"
#include "jm/rpc.h"
#include "jm/store.h"
#include "jobmatch/v1/envelope.pb-c.h"

typedef struct jm_source jm_source_t;

/* What ops.check decided. */
typedef enum jm_source_kind {
    JM_SOURCE_REJECT = 0, /* err is filled: reply with it */
    JM_SOURCE_READ,
    JM_SOURCE_WRITE,
} jm_source_kind;

/* One request being answered (a read) or applied (a write). */
typedef struct jm_source_request {
    const Jobmatch__V1__Request *req; /* borrowed from the call */
    const char *principal;
    int64_t now_ms; /* one clock reading per batch */
    /* Fill on success. Memory the body points to must outlive the
     * callback: take it from jm_source_alloc. Reset before every apply
     * (including a redo). */
    Jobmatch__V1__Reply *reply;
    /* Fill on rejection, and return a positive value. */
    jm_error err;
    void *internal; /* jm_source's own */
} jm_source_request;

typedef struct jm_source_ops {
    /* Checks the request's body (steps 6-7 of docs/protocol.md): field
     * formats, ranges, code lists, the principal's rights. Must not touch
     * the store. Returns READ or WRITE, or REJECT with err filled. A body
     * the service does not serve is REJECT with JM_E_UNSUPPORTED. */
    jm_source_kind (*check)(const Jobmatch__V1__Request *req,
                            const char *principal, jm_error *err, void *arg);

    /* Answers a read from txn (read-only): fill r->reply and return 0, or
     * fill r->err and return a positive value, or return -errno
     * (UNAVAILABLE). */
    int (*read)(jm_txn_t *txn, jm_source_request *r, void *arg);

    /* Applies one write in the batch's transaction. Returns 0 (applied:
     * r->reply filled), a positive value (rejected: r->err filled, and
     * NOTHING was written), or -errno (the batch fails; all its requests
     * get UNAVAILABLE, retryable). Must be redo-safe: after -ENOSPC the
     * whole batch is applied again from the start. */
    int (*apply)(jm_txn_t *txn, jm_source_request *r, void *arg);

    /* Lists live records for a snapshot page (see jm_snapshot_fn). */
    jm_snapshot_fn snapshot;

    /* Optional: called from the housekeeping timer, outside any
     * transaction (e.g. to queue expiries with jm_source_submit). */
    void (*housekeeping)(jm_source_t *source, void *arg);

    /* Optional: called once per batch of writes, outside any transaction,
     * after the batch's commit returned: status 0 (committed; rejected
     * items wrote nothing) or -errno (nothing of the batch was stored).
     * It runs BEFORE any reply of the batch is sent, so work done here
     * precedes every "accepted" (profiles overwrites an erased citizen's
     * key here: it must follow the commit that removed the record, and
     * the client must not hear "erased" before the key is gone). */
    void (*committed)(jm_source_t *source, int status, void *arg);

    /* Optional: called at the start of each attempt at a batch's
     * transaction, before its first apply; again if the batch is redone.
     * With committed, it brackets state a service keeps beside the store
     * (intake's in-memory indexes): forget what an earlier attempt
     * prepared here, make it take effect in committed. */
    void (*begin)(jm_source_t *source, void *arg);

    /* Optional: called once by jm_source_new, after the key pair was read
     * and the data directory exists, before the store opens: for files a
     * service keeps beside its store (profiles' node secret and key file),
     * so that a key file that cannot be read leaves nothing behind and such
     * a file that cannot be used leaves no store behind. Returns 0, or
     * -errno (the start fails; it logs why). */
    int (*prepare)(void *arg);
} jm_source_ops;

typedef struct jm_source_config {
    const char *service;     /* "intake" (log component, Pong) */
    const char *source_name; /* the log's source name; default service */
    const char *data_dir;    /* LMDB directory (created if missing) */
    unsigned data_dir_mode;  /* of the directory if created; 0: 0750 */
    const char *api_endpoint;
    /* Optional separate log ROUTER: Ping (the api's Pong), Fetch and
     * FetchSnapshot. */
    const char *log_endpoint;
    const char *tick_endpoint; /* PUB for Tick; "" = none */
    /* Announce each small commit's events on a Tick of their own just
     * before the commit (Tick.pending: a consumer may prepare, as the
     * matcher searches a new order's shortlist while intake's fsync runs).
     * Off, no such Tick is sent: a source nobody prepares for (profiles)
     * saves the read and the message per commit. */
    bool announce_pending;
    size_t max_request_size;  /* 0: 1 MiB */
    size_t map_size;          /* 0: 1 GiB */
    int64_t log_retain;       /* events kept after pruning; 0: all */
    int64_t idem_retain_ms;   /* request ids remembered; 0: 24 h */
    unsigned housekeeping_ms; /* 0: 1000 */
    /* CURVE: the file of this server's key pair (read by jm_source_new
     * alone, which logs why when it cannot be) and the allow-list file
     * ("KEY principal" lines). Both NULL/empty: plain sockets, loopback
     * only. */
    const char *key_file;
    const char *allow_file;
    const char *plain_principal; /* default "local" */
} jm_source_config;

/* Opens the store (creating data_dir if needed), the log, the idempotency
 * records, binds the sockets, runs the CURVE self-test if CURVE is on, and
 * writes the ready line when serving. The service opens its own databases
 * in open_dbs (called once, right after the store opened, before anything
 * else uses it; may be NULL). Caller owns *source_p. */
int jm_source_new(jm_source_t **source_p, uv_loop_t *loop,
                  const jm_source_config *config, const jm_source_ops *ops,
                  int (*open_dbs)(jm_store_t *store, void *arg), void *arg);

/* Stops serving: pending writes are answered UNAVAILABLE, handles close
 * asynchronously (run the loop afterwards), the store closes when they
 * have. Safe on NULL. */
void jm_source_destroy(jm_source_t **source_p);

/* The store, for the service's own reads outside requests. Borrowed. */
jm_store_t *jm_source_store(jm_source_t *source);

/* Bound endpoints (real ports). Borrowed. */
const char *jm_source_api_endpoint(jm_source_t *source);
const char *jm_source_log_endpoint(jm_source_t *source);
const char *jm_source_tick_endpoint(jm_source_t *source);

/* The log's first kept seq and its head (jm_eventlog_bounds), in any
 * transaction of the source's store. */
int jm_source_log_bounds(jm_source_t *source, jm_txn_t *txn, uint64_t *first,
                         uint64_t *head);

/* Inside apply: appends event (seq, source and time are set here) to the
 * log in txn. *seq_out (may be NULL) gets its seq. */
int jm_source_append(jm_source_t *source, jm_txn_t *txn,
                     Jobmatch__V1__Event *event, uint64_t *seq_out);

/* jm_source_append with the event's body already packed: body is the
 * packed message of the Event field body_field (e.g. a packed
 * OrderChanged for field 10). The stored bytes are those jm_source_append
 * would store for the same event; the record's bytes are not packed a
 * second time inside the event. */
int jm_source_append_packed(jm_source_t *source, jm_txn_t *txn,
                            uint32_t body_field, const void *body,
                            size_t body_size, uint64_t *seq_out);

/* Inside apply: replaces the event at seq (still kept in the log) with
 * event, which gets that seq, this source and the batch's time: how
 * profiles redacts an erased citizen's earlier events. -ENOENT if seq
 * was pruned (nothing left to redact). */
int jm_source_redact(jm_source_t *source, jm_txn_t *txn, uint64_t seq,
                     Jobmatch__V1__Event *event);

/* Zeroed memory that lives until the request is answered (reply bodies
 * built in read/apply). Never fails. */
void *jm_source_alloc(jm_source_request *r, size_t size);

/* A copy of s in the request's memory. */
char *jm_source_strdup(jm_source_request *r, const char *s);

/* A protobuf-c allocator drawing from the request's memory: unpack a
 * stored record with it (jobmatch__v1__job_order__unpack(alloc, ...)) and
 * put it in the reply; it is freed with the request, never by hand. */
ProtobufCAllocator *jm_source_allocator(jm_source_request *r);

/* Queues a write that did not come from a client (housekeeping: an order
 * expiring). req is copied; principal is "service". It is applied in the
 * next batch; there is no reply. */
void jm_source_submit(jm_source_t *source, const Jobmatch__V1__Request *req);

/* Head seq after the last commit. */
uint64_t jm_source_head(const jm_source_t *source);

/* True if the source stopped itself because it must not serve (the CURVE
 * self-test let an unknown key in). main exits non-zero. */
bool jm_source_failed(const jm_source_t *source);

#endif
