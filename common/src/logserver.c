/* logserver.c - Fetch, FetchSnapshot and Tick for a service's event log.
 *
 * Every answer is built inside one short read transaction: the events are
 * read, decoded, put into the reply, the reply packed and sent, and only
 * then does the transaction end. Nothing borrowed from LMDB outlives it,
 * and the log can be served while writers commit (MVCC). */
#include "jm/logserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"

#define DEFAULT_CREDIT  256
#define MAX_CREDIT      4096
#define SNAPSHOT_CREDIT 256
#define MAX_SNAPSHOT    1024
/* Stop adding events to a batch past this many bytes: the consumer asks
 * again at once if the head is further on. */
#define BATCH_BYTES (4 * 1024 * 1024)
/* A commit's events ride on its Tick when there are at most this many
 * (log.proto): a consumer that is keeping up then needs no Fetch round
 * trip. Under load commits are large and consumers fetch, as before. */
#define TICK_EVENTS 16
#define TICK_BYTES  (64 * 1024)
/* Tick's repeated Event fields (log.proto): committed, or being committed. */
#define TICK_FIELD_EVENTS  5
#define TICK_FIELD_PENDING 6

struct jm_logserver {
    jm_store_t *store;
    jm_eventlog_t *log;
    char source[64];
    jm_sock_t *tick;
    jm_snapshot_fn snapshot;
    void *arg;
};

struct jm_snapshot_page {
    uint8_t **records; /* packed events */
    size_t *sizes;
    size_t count, cap;
    uint8_t *next_key;
    size_t next_size;
    bool has_next;
};

/* ---- Fetch ---- */

struct fetch {
    jm_logserver_t *server;
    jm_rpc_call_t *call;
    uint64_t after;
    size_t credit;
    Jobmatch__V1__Event **events;
    size_t count;
    size_t bytes;
};

static int
collect_event(uint64_t seq, const jm_val *entry, void *arg)
{
    struct fetch *f = arg;
    Jobmatch__V1__Event *event;

    /* The log holds what we packed ourselves, so plain unpack is enough;
     * a failure means a damaged store, which must not be papered over. */
    event = jobmatch__v1__event__unpack(NULL, entry->size, entry->data);
    if (event == NULL) {
        jm_log(JM_LOG_ERR, "log", "event %llu does not decode",
               (unsigned long long) seq);
        return -EIO;
    }
    f->events[f->count++] = event;
    f->bytes += entry->size;
    return f->bytes >= BATCH_BYTES ? 1 : 0;
}

static int
fetch_txn(jm_txn_t *txn, void *arg)
{
    struct fetch *f = arg;
    jm_logserver_t *server = f->server;
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__EventBatch batch = JOBMATCH__V1__EVENT_BATCH__INIT;
    uint64_t first, head;
    int rc;

    if ((rc = jm_eventlog_bounds(server->log, txn, &first, &head)) != 0)
        return rc;
    batch.source = server->source;
    batch.log_id = (char *) jm_eventlog_id(server->log);
    batch.head_seq = head;
    batch.first_seq = first;
    /* Entries up to first - 1 are gone: a consumer whose next event is
     * among them must start again from a snapshot. */
    if (f->after + 1 < first) {
        batch.snapshot_required = true;
    } else if (f->after < head) {
        size_t want = f->credit;

        if (want > head - f->after)
            want = (size_t) (head - f->after);
        f->events = jm_xcalloc(want, sizeof(*f->events));
        rc = jm_eventlog_read(server->log, txn, f->after, want, collect_event,
                              f);
        if (rc != 0)
            goto out;
        batch.events = f->events;
        batch.n_events = f->count;
    }
    reply.body_case = JOBMATCH__V1__REPLY__BODY_EVENT_BATCH;
    reply.event_batch = &batch;
    jm_rpc_reply(f->call, &reply);
    f->call = NULL;

out:
    for (size_t i = 0; i < f->count; i++)
        jobmatch__v1__event__free_unpacked(f->events[i], NULL);
    free(f->events);
    return rc;
}

static void
reply_unavailable(jm_rpc_call_t *call, int rc)
{
    jm_error err = {0};

    jm_error_set(&err, JM_E_UNAVAILABLE, "", "the log cannot be read now: %s",
                 jm_strerror(rc));
    err.retryable = true;
    jm_rpc_reply_error(call, &err);
}

static void
serve_fetch(jm_logserver_t *server, jm_rpc_call_t *call,
            const Jobmatch__V1__Fetch *fetch)
{
    struct fetch f = {.server = server, .call = call};
    int rc;

    f.after = fetch->after_seq;
    f.credit = fetch->credit ? fetch->credit : DEFAULT_CREDIT;
    if (f.credit > MAX_CREDIT)
        f.credit = MAX_CREDIT;
    rc = jm_store_read(server->store, fetch_txn, &f);
    if (f.call != NULL)
        reply_unavailable(f.call, rc ? rc : -EIO);
}

/* ---- snapshots ---- */

void
jm_snapshot_page_add(jm_snapshot_page_t *page, const Jobmatch__V1__Event *event)
{
    if (page->count == page->cap) {
        page->cap = page->cap ? page->cap * 2 : 64;
        page->records =
            jm_xrealloc(page->records, page->cap * sizeof(*page->records));
        page->sizes = jm_xrealloc(page->sizes, page->cap * sizeof(size_t));
    }
    jm_msg_pack(&event->base, &page->records[page->count],
                &page->sizes[page->count]);
    page->count++;
}

void
jm_snapshot_page_set_next(jm_snapshot_page_t *page, const void *key,
                          size_t size)
{
    free(page->next_key);
    page->next_key = jm_xmalloc(size);
    memcpy(page->next_key, key, size);
    page->next_size = size;
    page->has_next = true;
}

struct snapshot_scan {
    jm_snapshot_page_t *page;
    size_t limit, count;
    jm_snapshot_record_fn fn;
    void *arg;
};

static int
snapshot_scan_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct snapshot_scan *s = arg;

    if (s->count == s->limit) {
        jm_snapshot_page_set_next(s->page, key->data, key->size);
        return 1;
    }
    s->count++;
    return s->fn(key, val, s->page, s->arg);
}

int
jm_snapshot_scan(jm_txn_t *txn, jm_dbi dbi, const void *after_key,
                 size_t after_size, size_t limit, jm_snapshot_page_t *page,
                 jm_snapshot_record_fn fn, void *arg)
{
    struct snapshot_scan s = {page, limit, 0, fn, arg};

    return jm_txn_scan(txn, dbi, after_key, after_size, snapshot_scan_one, &s);
}

static void
page_release(jm_snapshot_page_t *page)
{
    for (size_t i = 0; i < page->count; i++)
        free(page->records[i]);
    free(page->records);
    free(page->sizes);
    free(page->next_key);
}

struct snapshot {
    jm_logserver_t *server;
    jm_rpc_call_t *call;
    const Jobmatch__V1__FetchSnapshot *req;
};

static int
snapshot_txn(jm_txn_t *txn, void *arg)
{
    struct snapshot *s = arg;
    jm_logserver_t *server = s->server;
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__SnapshotPage out = JOBMATCH__V1__SNAPSHOT_PAGE__INIT;
    jm_snapshot_page_t page = {0};
    Jobmatch__V1__Event **records = NULL;
    size_t limit = s->req->credit ? s->req->credit : SNAPSHOT_CREDIT;
    uint64_t first, head;
    size_t decoded = 0;
    int rc;

    if (limit > MAX_SNAPSHOT)
        limit = MAX_SNAPSHOT;
    if ((rc = jm_eventlog_bounds(server->log, txn, &first, &head)) != 0)
        return rc;
    rc = server->snapshot(txn, s->req->after_key.data, s->req->after_key.len,
                          limit, &page, server->arg);
    if (rc != 0)
        goto out;
    records = jm_xcalloc(page.count ? page.count : 1, sizeof(*records));
    for (; decoded < page.count; decoded++) {
        Jobmatch__V1__Event *ev = jobmatch__v1__event__unpack(
            NULL, page.sizes[decoded], page.records[decoded]);

        JM_ASSERT(ev != NULL); /* we packed it a moment ago */
        /* Every record of the page is "as of" the same seq. */
        ev->seq = head;
        records[decoded] = ev;
    }
    out.source = server->source;
    out.log_id = (char *) jm_eventlog_id(server->log);
    out.as_of_seq = head;
    out.records = records;
    out.n_records = page.count;
    if (page.has_next) {
        out.next_key.data = page.next_key;
        out.next_key.len = page.next_size;
    }
    out.done = !page.has_next;
    reply.body_case = JOBMATCH__V1__REPLY__BODY_SNAPSHOT_PAGE;
    reply.snapshot_page = &out;
    jm_rpc_reply(s->call, &reply);
    s->call = NULL;

out:
    for (size_t i = 0; i < decoded; i++)
        jobmatch__v1__event__free_unpacked(records[i], NULL);
    free(records);
    page_release(&page);
    return rc;
}

static void
serve_snapshot(jm_logserver_t *server, jm_rpc_call_t *call,
               const Jobmatch__V1__FetchSnapshot *req)
{
    struct snapshot s = {.server = server, .call = call, .req = req};
    int rc;

    if (server->snapshot == NULL) {
        jm_error err = {0};

        jm_error_set(&err, JM_E_UNSUPPORTED, "fetch_snapshot",
                     "this source does not serve snapshots");
        jm_rpc_reply_error(call, &err);
        return;
    }
    rc = jm_store_read(server->store, snapshot_txn, &s);
    if (s.call != NULL)
        reply_unavailable(s.call, rc ? rc : -EIO);
}

/* The log holds every record the service has, of every municipality: only
 * principals that see all of it may read it (jm_principal_sees_all). */
static bool
may_read(jm_rpc_call_t *call, const char *path)
{
    const char *principal = jm_rpc_call_principal(call);
    jm_error err = {0};

    if (jm_principal_sees_all(principal))
        return true;
    jm_error_set(&err, JM_E_PERMISSION_DENIED, path,
                 "'%s' may not read the event log: it is for admin and "
                 "service:<name> principals",
                 principal);
    jm_rpc_reply_error(call, &err);
    return false;
}

bool
jm_logserver_handle(jm_logserver_t *server, jm_rpc_call_t *call,
                    const Jobmatch__V1__Request *req)
{
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_FETCH:
        if (!may_read(call, "fetch"))
            return true;
        serve_fetch(server, call, req->fetch);
        return true;
    case JOBMATCH__V1__REQUEST__BODY_FETCH_SNAPSHOT:
        if (!may_read(call, "fetch_snapshot"))
            return true;
        serve_snapshot(server, call, req->fetch_snapshot);
        return true;
    default:
        return false;
    }
}

int
jm_logserver_new(jm_logserver_t **server_p, jm_bus_t *bus, jm_store_t *store,
                 jm_eventlog_t *log, const jm_logserver_opts *opts,
                 jm_snapshot_fn snapshot, void *arg)
{
    jm_logserver_t *server = jm_xcalloc(1, sizeof(*server));
    int rc = 0;

    server->store = store;
    server->log = log;
    server->snapshot = snapshot;
    server->arg = arg;
    snprintf(server->source, sizeof(server->source), "%s",
             opts->source ? opts->source : "source");
    if (opts->tick_endpoint != NULL && opts->tick_endpoint[0] != '\0') {
        rc = jm_sock_new(&server->tick, bus, JM_SOCK_PUB, &opts->tick_sock,
                         NULL, NULL);
        if (rc == 0)
            rc = jm_sock_bind(server->tick, opts->tick_endpoint);
        if (rc != 0) {
            jm_log(JM_LOG_ERR, "log", "cannot bind tick endpoint %s: %s",
                   opts->tick_endpoint, jm_strerror(rc));
            goto fail;
        }
    }
    *server_p = server;
    return 0;

fail:
    jm_sock_close(&server->tick);
    free(server);
    return rc;
}

/* A Tick being built: its packed fields, then the commit's events. */
struct tick_build {
    uint8_t *data;
    size_t size, cap;
    size_t limit; /* the packed fields plus TICK_BYTES */
    size_t want, count;
    unsigned field; /* the events' field: events, or pending */
};

/* Appends one event as the Tick's events or pending field. The
 * log holds each event packed, and a repeated message field is on the
 * wire just its tag, its length and those bytes, in any place after the
 * other fields: no unpacking and packing again. */
static int
tick_add_event(uint64_t seq, const jm_val *entry, void *arg)
{
    struct tick_build *t = arg;
    size_t need = t->size + JM_WIRE_LEN_FIELD_MAX(entry->size);

    (void) seq;
    if (need > t->limit)
        return 1; /* too much: the Tick goes without events */
    if (need > t->cap) {
        t->cap = need * 2 < t->limit ? need * 2 : t->limit;
        t->data = jm_xrealloc(t->data, t->cap);
    }
    t->size += jm_wire_put_len_field(t->data + t->size, t->field, entry->data,
                                     entry->size);
    t->count++;
    return 0;
}

/* Publishes a Tick saying head_seq, with the events after before_seq up
 * to to_seq (read through txn) as the repeated field `field`, if there are
 * few enough: all of them, or none. */
static void
publish_tick(jm_logserver_t *server, jm_txn_t *txn, uint64_t head_seq,
             unsigned field, uint64_t before_seq, uint64_t to_seq)
{
    Jobmatch__V1__Tick tick = JOBMATCH__V1__TICK__INIT;
    struct tick_build t = {0};
    size_t header;
    int rc;

    tick.source = server->source;
    tick.log_id = (char *) jm_eventlog_id(server->log);
    tick.head_seq = head_seq;
    tick.time_ms = jm_clock_now_ms();
    jm_msg_pack(&tick.base, &t.data, &t.size);
    t.cap = header = t.size;
    t.limit = header + TICK_BYTES;
    t.field = field;
    if (to_seq > before_seq && to_seq - before_seq <= TICK_EVENTS) {
        t.want = (size_t) (to_seq - before_seq);
        rc = jm_eventlog_read(server->log, txn, before_seq, t.want,
                              tick_add_event, &t);
        if (rc != 0 || t.count != t.want)
            t.size = header;
    }
    /* PUB drops at the high-water mark without telling anyone; a lost tick
     * only delays a consumer until its next poll. */
    rc = jm_sock_publish(server->tick, "tick", t.data, t.size);
    if (rc != 0)
        jm_log(JM_LOG_DEBUG, "log", "tick not sent: %s", jm_strerror(rc));
    free(t.data);
}

void
jm_logserver_notify(jm_logserver_t *server, jm_txn_t *txn, uint64_t before_seq,
                    uint64_t head_seq)
{
    if (server->tick == NULL)
        return;
    publish_tick(server, txn, head_seq, TICK_FIELD_EVENTS, before_seq,
                 head_seq);
}

void
jm_logserver_announce(jm_logserver_t *server, jm_txn_t *txn, uint64_t head_seq)
{
    uint64_t pending_seq;

    /* The head as txn sees it, the batch's events included (next_seq is
     * one past it): one lookup, where bounds would read the first too. */
    if (server->tick == NULL ||
        jm_eventlog_next_seq(server->log, txn, &pending_seq) != 0)
        return;
    pending_seq--;
    /* Only what is small enough to ride on a tick: a large batch gains
     * nothing from a consumer's head start. */
    if (pending_seq <= head_seq || pending_seq - head_seq > TICK_EVENTS)
        return;
    publish_tick(server, txn, head_seq, TICK_FIELD_PENDING, head_seq,
                 pending_seq);
}

const char *
jm_logserver_tick_endpoint(jm_logserver_t *server)
{
    return server->tick ? jm_sock_endpoint(server->tick) : "";
}

void
jm_logserver_destroy(jm_logserver_t **server_p)
{
    jm_logserver_t *server = *server_p;

    if (server == NULL)
        return;
    jm_sock_close(&server->tick);
    free(server);
    *server_p = NULL;
}
