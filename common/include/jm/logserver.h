/* logserver.h - serving a service's event log to its consumers.
 *
 * intake and profiles keep a durable event log (jm_eventlog) written in the
 * same transaction as their records. The log server answers Fetch and
 * FetchSnapshot requests (on the service's api endpoint, through
 * jm_logserver_handle, and on an optional separate log endpoint) and
 * publishes a Tick with the head seq on a PUB socket after commits.
 *
 * Fetch{after_seq, credit}: the events after after_seq, at most credit
 * (default 256, at most 4096) and at most about 4 MiB, read in one short
 * read transaction. If after_seq is before the oldest kept seq - 1, the
 * reply says snapshot_required.
 *
 * FetchSnapshot{after_key, credit}: one page of live records from the
 * service's snapshot function, read in one read transaction, with the
 * head seq at that transaction as as_of_seq. See log.proto for how a
 * consumer combines pages and the log.
 *
 * The tick is a hint (PUB drops silently): consumers also poll. */
#ifndef JM_LOGSERVER_H
#define JM_LOGSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "jm/bus.h"
#include "jm/rpc.h"
#include "jm/store.h"
#include "jobmatch/v1/log.pb-c.h"

typedef struct jm_logserver jm_logserver_t;
typedef struct jm_snapshot_page jm_snapshot_page_t;

/* Adds the live records whose keys sort after after_key (empty: from the
 * start), at most limit of them, to page with jm_snapshot_page_add, and
 * sets the key to continue from with jm_snapshot_page_set_next (not
 * called: this was the last page). Runs inside txn (read-only). Returns 0
 * or -errno. */
typedef int (*jm_snapshot_fn)(jm_txn_t *txn, const void *after_key,
                              size_t after_size, size_t limit,
                              jm_snapshot_page_t *page, void *arg);

/* Copies event (packs it) into the page; its seq and source are set by
 * the page. */
void jm_snapshot_page_add(jm_snapshot_page_t *page,
                          const Jobmatch__V1__Event *event);
void jm_snapshot_page_set_next(jm_snapshot_page_t *page, const void *key,
                               size_t size);

/* One stored record as the event a consumer would have seen: adds it to
 * page with jm_snapshot_page_add. Returns 0 or -errno. */
typedef int (*jm_snapshot_record_fn)(const jm_val *key, const jm_val *val,
                                     jm_snapshot_page_t *page, void *arg);

/* The body of a jm_snapshot_fn whose live records are the values of one
 * database, one event each: scans dbi from after_key, calls fn for at most
 * limit records and sets the next key when more remain. */
int jm_snapshot_scan(jm_txn_t *txn, jm_dbi dbi, const void *after_key,
                     size_t after_size, size_t limit, jm_snapshot_page_t *page,
                     jm_snapshot_record_fn fn, void *arg);

typedef struct jm_logserver_opts {
    const char *source;        /* the source's name, e.g. "intake" */
    const char *tick_endpoint; /* NULL/empty: no ticks */
    jm_sock_opts tick_sock;    /* for the PUB socket */
} jm_logserver_opts;

/* Serves log from store. Caller owns *server_p. */
int jm_logserver_new(jm_logserver_t **server_p, jm_bus_t *bus,
                     jm_store_t *store, jm_eventlog_t *log,
                     const jm_logserver_opts *opts, jm_snapshot_fn snapshot,
                     void *arg);

/* Answers call if req is a Fetch or FetchSnapshot and returns true;
 * false leaves the call alone. Services call it from their api handler. */
bool jm_logserver_handle(jm_logserver_t *server, jm_rpc_call_t *call,
                         const Jobmatch__V1__Request *req);

/* A commit moved the head from before_seq to head_seq: publish a Tick (at
 * most one per loop turn), with the commit's events if they are few, read
 * through txn (a read transaction of the log's store, after the commit). */
void jm_logserver_notify(jm_logserver_t *server, jm_txn_t *txn,
                         uint64_t before_seq, uint64_t head_seq);

/* txn (a write transaction, before its commit) appended events after the
 * committed head head_seq: publish a Tick that still says head_seq, with
 * those events as `pending` if they are few (log.proto). Nothing if they
 * are not few, or none. A hint for consumers that prepare work while the
 * commit's fsync runs; they must never apply these events. */
void jm_logserver_announce(jm_logserver_t *server, jm_txn_t *txn,
                           uint64_t head_seq);

/* The bound tick endpoint (real port), or "" if not configured. Borrowed.
 * (A separate log endpoint is the source's: jm_source_log_endpoint.) */
const char *jm_logserver_tick_endpoint(jm_logserver_t *server);

/* Closes asynchronously. Safe on NULL. */
void jm_logserver_destroy(jm_logserver_t **server_p);

#endif
