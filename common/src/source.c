/* source.c - the skeleton of a source-of-truth service (see source.h).
 *
 * The design decision to know: a write is answered only from the group
 * commit's done callback, i.e. after mdb_txn_commit returned 0. Reads are
 * answered at once from their own read transaction. Duplicates (a request
 * id seen before) are recognised inside the write transaction, so two
 * copies of one request in the same batch are also caught. */
#include "jm/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "jm/clock.h"
#include "jm/err.h"
#include "jm/fs.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"
#include "jm/svc.h"

#define DEFAULT_IDEM_RETAIN_MS (24LL * 3600 * 1000)
#define IDEM_PRUNE_PER_TICK    2000

/* Memory for one request's reply, freed when it is answered. */
struct chunk {
    struct chunk *next;
    max_align_t data[];
};

struct item {
    jm_source_t *source;
    ProtobufCAllocator allocator; /* draws from chunks */
    jm_rpc_call_t *call;          /* NULL for jm_source_submit */
    jm_msg_t *own_req;            /* the copied request of jm_source_submit */
    jm_source_request r;
    Jobmatch__V1__Reply reply;
    struct chunk *chunks;
    uint8_t *stored; /* a duplicate's stored reply */
    size_t stored_size;
    uint8_t *packed; /* the reply as recorded for its request id */
    size_t packed_size;
};

struct jm_source {
    uv_loop_t *loop;
    jm_source_config config;
    char *data_dir;
    jm_source_ops ops;
    void *arg;
    jm_bus_t *bus;
    jm_store_t *store;
    jm_eventlog_t *log;
    jm_idem_t *idem;
    jm_commit_t *commit;
    jm_rpc_server_t *rpc;
    /* The separate log endpoint, if configured. Served here and not by the
     * log server, so that its Pong is the api's: a consumer that follows
     * it compares that head with its cursor (a head of 0 there looked
     * like a log restored from a backup, and it took a snapshot at each
     * poll). */
    jm_rpc_server_t *log_rpc;
    jm_logserver_t *logserver;
    jm_svc_t *svc;
    uint64_t head;
    int64_t batch_now;
    struct stopper *stopper; /* pending bus teardown after a stop */
    /* config.key_file's pair, loaded here; empty: plain (curve_on) */
    char public_key[JM_KEY_Z85_LEN + 1];
    char secret_key[JM_KEY_Z85_LEN + 1]; /* wiped when destroyed */
    bool stopped;
    bool failed;
};

/* Closes the bus one loop turn after the source stopped serving. The bus's
 * ZAP handler is a socket on the loop too: while it is open, uv_run never
 * returns, so a SIGTERM would stop serving but not end the process. It is
 * not closed at once because a stop can come from inside a bus callback
 * (the CURVE self-test's), which must not free the bus under itself. */
struct stopper {
    uv_timer_t timer;
    jm_source_t *source; /* NULL once the source is gone */
};

/* ---- request memory ---- */

void *
jm_source_alloc(jm_source_request *r, size_t size)
{
    struct item *item = r->internal;
    struct chunk *c = jm_xcalloc(1, sizeof(*c) + size);

    c->next = item->chunks;
    item->chunks = c;
    return c->data;
}

char *
jm_source_strdup(jm_source_request *r, const char *s)
{
    size_t len = strlen(s);
    char *copy = jm_source_alloc(r, len + 1);

    memcpy(copy, s, len);
    return copy;
}

static void *
allocator_alloc(void *data, size_t size)
{
    struct item *item = data;

    return jm_source_alloc(&item->r, size);
}

static void
allocator_free(void *data, void *ptr)
{
    /* Freed with the request's other memory. */
    (void) data;
    (void) ptr;
}

ProtobufCAllocator *
jm_source_allocator(jm_source_request *r)
{
    struct item *item = r->internal;

    return &item->allocator;
}

static struct item *
item_new(jm_source_t *source, jm_rpc_call_t *call,
         const Jobmatch__V1__Request *req, const char *principal)
{
    struct item *item = jm_xcalloc(1, sizeof(*item));

    item->source = source;
    item->call = call;
    item->r.req = req;
    item->r.principal = principal;
    item->r.internal = item;
    item->allocator.alloc = allocator_alloc;
    item->allocator.free = allocator_free;
    item->allocator.allocator_data = item;
    item->reply = (Jobmatch__V1__Reply) JOBMATCH__V1__REPLY__INIT;
    item->r.reply = &item->reply;
    return item;
}

static void
item_free(struct item *item)
{
    while (item->chunks != NULL) {
        struct chunk *next = item->chunks->next;

        free(item->chunks);
        item->chunks = next;
    }
    jm_msg_free(&item->own_req);
    free(item->stored);
    free(item->packed);
    free(item);
}

/* ---- the log ---- */

/* Makes event entry seq of this source, stamped with the batch's time. */
static void
stamp_event(const jm_source_t *source, Jobmatch__V1__Event *event, uint64_t seq)
{
    event->seq = seq;
    event->source = (char *) source->config.source_name;
    event->time_ms = source->batch_now;
}

/* Packs event as entry seq: what an append and a redaction both write.
 * Caller frees *data. */
static void
pack_event(const jm_source_t *source, Jobmatch__V1__Event *event, uint64_t seq,
           uint8_t **data, size_t *size)
{
    stamp_event(source, event, seq);
    jm_msg_pack(&event->base, data, size);
}

/* Appends data (freed here) as entry seq; *seq_out = seq if it went in. */
static int
append_packed_event(jm_source_t *source, jm_txn_t *txn, uint64_t seq,
                    uint8_t *data, size_t size, uint64_t *seq_out)
{
    int rc = jm_eventlog_append(source->log, txn, seq, data, size);

    free(data);
    if (rc == 0 && seq_out != NULL)
        *seq_out = seq;
    return rc;
}

int
jm_source_append(jm_source_t *source, jm_txn_t *txn, Jobmatch__V1__Event *event,
                 uint64_t *seq_out)
{
    uint8_t *data = NULL;
    size_t size = 0;
    uint64_t seq;
    int rc;

    if ((rc = jm_eventlog_next_seq(source->log, txn, &seq)) != 0)
        return rc;
    pack_event(source, event, seq, &data, &size);
    return append_packed_event(source, txn, seq, data, size, seq_out);
}

int
jm_source_append_packed(jm_source_t *source, jm_txn_t *txn, uint32_t body_field,
                        const void *body, size_t body_size, uint64_t *seq_out)
{
    Jobmatch__V1__Event head = JOBMATCH__V1__EVENT__INIT;
    uint8_t *data;
    size_t size;
    uint64_t seq;
    int rc;

    if ((rc = jm_eventlog_next_seq(source->log, txn, &seq)) != 0)
        return rc;
    /* The fields before the body (seq, source, time), packed by
     * protobuf-c, then the body's field: the bytes it would pack. */
    stamp_event(source, &head, seq);
    size = protobuf_c_message_get_packed_size(&head.base);
    data = jm_xmalloc(size + JM_WIRE_LEN_FIELD_MAX(body_size));
    protobuf_c_message_pack(&head.base, data);
    size += jm_wire_put_len_field(data + size, body_field, body, body_size);
    return append_packed_event(source, txn, seq, data, size, seq_out);
}

int
jm_source_redact(jm_source_t *source, jm_txn_t *txn, uint64_t seq,
                 Jobmatch__V1__Event *event)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;

    pack_event(source, event, seq, &data, &size);
    rc = jm_eventlog_replace(source->log, txn, seq, data, size);
    free(data);
    return rc;
}

int
jm_source_log_bounds(jm_source_t *source, jm_txn_t *txn, uint64_t *first,
                     uint64_t *head)
{
    return jm_eventlog_bounds(source->log, txn, first, head);
}

/* After a commit: the new head, and the Tick that announces it (in the
 * same read transaction, which the Tick's events are read through). */
static int
read_head_and_tick(jm_txn_t *txn, void *arg)
{
    jm_source_t *source = arg;
    uint64_t first, before = source->head;
    int rc = jm_eventlog_bounds(source->log, txn, &first, &source->head);

    if (rc == 0 && source->head != before && source->logserver != NULL)
        jm_logserver_notify(source->logserver, txn, before, source->head);
    return rc;
}

/* Just before a batch's commit: its events to the consumers as pending
 * (jm_logserver_announce), so that they can prepare while the fsync runs.
 * Only a hint: nothing is lost if it fails. */
static void
batch_prepared(jm_txn_t *txn, void *arg)
{
    jm_source_t *source = arg;

    if (source->logserver != NULL)
        jm_logserver_announce(source->logserver, txn, source->head);
}

/* ---- writes: group commit ---- */

_Static_assert(JM_RPC_DIGEST_LEN == JM_IDEM_DIGEST_LEN,
               "the idempotency records keep the rpc's request digests");

static int
apply_item(jm_txn_t *txn, void *ptr, void *arg)
{
    struct item *item = ptr;
    jm_source_t *source = arg;
    jm_val stored;
    int rc;

    /* Redo-safe: forget whatever a previous attempt of this batch left. */
    free(item->stored);
    item->stored = NULL;
    free(item->packed);
    item->packed = NULL;
    item->reply = (Jobmatch__V1__Reply) JOBMATCH__V1__REPLY__INIT;
    memset(&item->r.err, 0, sizeof(item->r.err));
    item->r.now_ms = source->batch_now;

    if (item->call != NULL) {
        rc = jm_idem_lookup(
            source->idem, txn, jm_rpc_call_request_id(item->call),
            item->r.principal, jm_rpc_call_request_digest(item->call), &stored);
        if (rc == 0) {
            item->stored = jm_xmalloc(stored.size);
            memcpy(item->stored, stored.data, stored.size);
            item->stored_size = stored.size;
            return 0;
        }
        if (rc == -EACCES) {
            jm_error_set(&item->r.err, JM_E_CONFLICT, "request_id",
                         "this request id was used by another caller");
            return 1;
        }
        /* A retry sends the same request again; another request under
         * the same id would get the first one's answer and be lost. */
        if (rc == -EEXIST) {
            jm_error_set(&item->r.err, JM_E_CONFLICT, "request_id",
                         "this request id was used for another request "
                         "(its first reply stands): give each request an id "
                         "of its own, and resend a request unchanged to "
                         "retry it");
            return 1;
        }
        if (rc != -ENOENT)
            return rc;
    }
    rc = source->ops.apply(txn, &item->r, source->arg);
    if (rc != 0 || item->call == NULL)
        return rc;
    /* Recorded in the same transaction as the write: a retry after a lost
     * reply finds it, and a crash loses both or neither. The same bytes
     * are the reply sent after the commit. */
    jm_rpc_pack_reply(item->call, &item->reply, &item->packed,
                      &item->packed_size);
    return jm_idem_record(source->idem, txn, jm_rpc_call_request_id(item->call),
                          item->r.principal,
                          jm_rpc_call_request_digest(item->call),
                          source->batch_now, item->packed, item->packed_size);
}

/* Right after each batch's transaction, before any reply: the service's
 * post-commit work (ops.committed). */
static void
batch_committed(int status, void *arg)
{
    jm_source_t *source = arg;

    source->ops.committed(source, status, source->arg);
}

/* At the start of each attempt at a batch's transaction (ops.begin). */
static void
batch_begin(void *arg)
{
    jm_source_t *source = arg;

    source->ops.begin(source, source->arg);
}

static void
done_item(void *ptr, int status, void *arg)
{
    struct item *item = ptr;
    jm_error err = {0};

    (void) arg;
    if (item->call == NULL) {
        if (status != 0)
            jm_log(JM_LOG_WARN, item->source->config.service,
                   "internal write not applied: %s",
                   status > 0 ? item->r.err.message : jm_strerror(status));
    } else if (status == 0 && item->stored != NULL) {
        jm_rpc_reply_stored(item->call, item->stored, item->stored_size);
    } else if (status == 0 && item->packed != NULL) {
        jm_rpc_reply_packed(item->call, item->packed, item->packed_size);
    } else if (status == 0) {
        jm_rpc_reply(item->call, &item->reply);
    } else if (status > 0) {
        jm_rpc_reply_error(item->call, &item->r.err);
    } else {
        jm_error_set(&err, JM_E_UNAVAILABLE, "",
                     "the change could not be stored (%s); send the same "
                     "request again",
                     jm_strerror(status));
        err.retryable = true;
        jm_rpc_reply_error(item->call, &err);
    }
    item_free(item);
}

static void
flush(jm_source_t *source)
{
    int rc;

    if (jm_commit_pending(source->commit) == 0)
        return;
    source->batch_now = jm_clock_now_ms();
    rc = jm_commit_flush(source->commit);
    if (rc < 0) {
        jm_log(JM_LOG_ERR, source->config.service, "batch failed: %s",
               jm_strerror(rc));
        return;
    }
    (void) jm_store_read(source->store, read_head_and_tick, source);
}

static void
on_drained(void *arg)
{
    flush(arg);
}

void
jm_source_submit(jm_source_t *source, const Jobmatch__V1__Request *req)
{
    jm_msg_t *copy = NULL;
    jm_error err = {0};
    uint8_t *data = NULL;
    size_t size = 0;
    struct item *item;

    jm_msg_pack(&req->base, &data, &size);
    if (jm_msg_unpack(&copy, &jobmatch__v1__request__descriptor, data, size,
                      size + 1, &err) != 0) {
        /* Our own request: failing to decode it is a programming error. */
        jm_log(JM_LOG_ERR, source->config.service,
               "internal request does not decode: %s", err.message);
        free(data);
        return;
    }
    free(data);
    item =
        item_new(source, NULL, (const Jobmatch__V1__Request *) jm_msg_get(copy),
                 JM_PRINCIPAL_SELF_NAME);
    item->own_req = copy;
    jm_commit_add(source->commit, item);
}

/* ---- requests ---- */

static void
reply_pong(jm_source_t *source, jm_rpc_call_t *call)
{
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__Pong pong = JOBMATCH__V1__PONG__INIT;

    pong.service = (char *) source->config.service;
    pong.version = JM_VERSION;
    pong.source = (char *) source->config.source_name;
    pong.head_seq = source->head;
    pong.principal = (char *) jm_rpc_call_principal(call);
    pong.log_id = (char *) jm_eventlog_id(source->log);
    pong.log_endpoint = (char *) jm_source_log_endpoint(source);
    pong.tick_endpoint = (char *) jm_source_tick_endpoint(source);
    reply.body_case = JOBMATCH__V1__REPLY__BODY_PONG;
    reply.pong = &pong;
    jm_rpc_reply(call, &reply);
}

struct read_ctx {
    jm_source_t *source;
    struct item *item;
    int status;
};

static int
read_txn(jm_txn_t *txn, void *arg)
{
    struct read_ctx *ctx = arg;

    ctx->status = ctx->source->ops.read(txn, &ctx->item->r, ctx->source->arg);
    return ctx->status < 0 ? ctx->status : 0;
}

static void
serve_read(jm_source_t *source, jm_rpc_call_t *call,
           const Jobmatch__V1__Request *req)
{
    struct item *item =
        item_new(source, call, req, jm_rpc_call_principal(call));
    struct read_ctx ctx = {source, item, 0};
    int rc;

    item->r.now_ms = jm_clock_now_ms();
    rc = jm_store_read(source->store, read_txn, &ctx);
    /* The reply is sent after the read transaction ended, but its memory
     * lives in the item's chunks, not in LMDB pages. */
    item->call = NULL;
    if (rc < 0) {
        jm_error_set(&item->r.err, JM_E_UNAVAILABLE, "",
                     "the store cannot be read now: %s", jm_strerror(rc));
        item->r.err.retryable = true;
        jm_rpc_reply_error(call, &item->r.err);
    } else if (ctx.status > 0) {
        jm_rpc_reply_error(call, &item->r.err);
    } else {
        jm_rpc_reply(call, &item->reply);
    }
    item_free(item);
}

/* What both endpoints answer alike: a stopping service, Ping, and the
 * log (Fetch, FetchSnapshot). Returns true if call was answered. */
static bool
answer_common(jm_source_t *source, jm_rpc_call_t *call,
              const Jobmatch__V1__Request *req)
{
    jm_error err = {0};

    if (source->stopped) {
        jm_error_set(&err, JM_E_UNAVAILABLE, "", "the service is stopping");
        err.retryable = true;
        jm_rpc_reply_error(call, &err);
        return true;
    }
    if (req->body_case == JOBMATCH__V1__REQUEST__BODY_PING) {
        reply_pong(source, call);
        return true;
    }
    return jm_logserver_handle(source->logserver, call, req);
}

static void
on_request(jm_rpc_call_t *call, const Jobmatch__V1__Request *req, void *arg)
{
    jm_source_t *source = arg;
    const char *principal = jm_rpc_call_principal(call);
    jm_error err = {0};

    if (answer_common(source, call, req))
        return;
    switch (source->ops.check(req, principal, &err, source->arg)) {
    case JM_SOURCE_READ:
        serve_read(source, call, req);
        break;
    case JM_SOURCE_WRITE:
        jm_commit_add(source->commit, item_new(source, call, req, principal));
        break;
    default:
        if (err.code == 0)
            jm_error_set(&err, JM_E_UNSUPPORTED, "",
                         "%s does not serve this request",
                         source->config.service);
        jm_rpc_reply_error(call, &err);
        break;
    }
}

/* The separate log endpoint: Ping, Fetch and FetchSnapshot, nothing
 * else. Served here, not by the log server, so that its Pong is the
 * api's (the head a consumer compares with its cursor). */
static void
on_log_request(jm_rpc_call_t *call, const Jobmatch__V1__Request *req, void *arg)
{
    jm_source_t *source = arg;
    jm_error err = {0};

    if (answer_common(source, call, req))
        return;
    jm_error_set(&err, JM_E_UNSUPPORTED, "",
                 "the log endpoint serves fetch, fetch_snapshot and ping");
    jm_rpc_reply_error(call, &err);
}

/* ---- housekeeping ---- */

struct prune_ctx {
    jm_source_t *source;
    int64_t idem_before;
    uint64_t log_upto;
    size_t removed;
};

static int
prune_txn(jm_txn_t *txn, void *arg)
{
    struct prune_ctx *p = arg;
    int rc;

    p->removed = 0;
    rc = jm_idem_prune(p->source->idem, txn, p->idem_before,
                       IDEM_PRUNE_PER_TICK, &p->removed);
    if (rc == 0 && p->log_upto > 0)
        rc = jm_eventlog_prune(p->source->log, txn, p->log_upto);
    return rc;
}

/* Duties, once per housekeeping_ms:
 *   - clear reader slots of dead processes (mdb_reader_check);
 *   - forget request ids older than idem_retain_ms (bounded per tick);
 *   - prune the log to the last log_retain events (consumers behind that
 *     take a snapshot);
 *   - the service's own duties (e.g. expiring orders), then commit them. */
static void
on_housekeeping(void *arg)
{
    jm_source_t *source = arg;
    struct prune_ctx p = {.source = source};
    int dead = 0, rc;

    if (source->stopped)
        return;
    jm_store_reader_check(source->store, &dead);
    if (dead > 0)
        jm_log(JM_LOG_NOTICE, source->config.service,
               "cleared %d stale LMDB reader slots", dead);
    p.idem_before = jm_clock_now_ms() - source->config.idem_retain_ms;
    if (source->config.log_retain > 0 &&
        source->head > (uint64_t) source->config.log_retain)
        p.log_upto = source->head - (uint64_t) source->config.log_retain;
    rc = jm_store_write(source->store, prune_txn, &p);
    if (rc != 0)
        jm_log(JM_LOG_WARN, source->config.service, "pruning failed: %s",
               jm_strerror(rc));
    if (source->ops.housekeeping != NULL)
        source->ops.housekeeping(source, source->arg);
    flush(source);
}

static void
free_stopper(uv_handle_t *handle)
{
    free(handle->data);
}

static void
on_stopped(uv_timer_t *timer)
{
    struct stopper *stopper = timer->data;

    if (stopper->source != NULL) {
        jm_bus_destroy(&stopper->source->bus);
        stopper->source->stopper = NULL;
    }
    uv_close((uv_handle_t *) timer, free_stopper);
}

static void
stop_serving(jm_source_t *source)
{
    if (source->stopped)
        return;
    source->stopped = true;
    if (source->commit != NULL) {
        jm_commit_stats st;

        /* For the operator: how well group commit batched (a batch per
         * request means the load never queued). */
        jm_commit_get_stats(source->commit, &st);
        jm_log(JM_LOG_INFO, source->config.service,
               "wrote %llu requests in %llu batches (largest %llu)",
               (unsigned long long) st.items, (unsigned long long) st.batches,
               (unsigned long long) st.largest_batch);
    }
    /* Answer what is queued (it was not committed) before the sockets go. */
    jm_commit_destroy(&source->commit);
    jm_rpc_server_destroy(&source->rpc);
    jm_rpc_server_destroy(&source->log_rpc);
    jm_logserver_destroy(&source->logserver);
    jm_svc_destroy(&source->svc);
    if (source->bus != NULL) {
        source->stopper = jm_xcalloc(1, sizeof(*source->stopper));
        source->stopper->source = source;
        uv_timer_init(source->loop, &source->stopper->timer);
        source->stopper->timer.data = source->stopper;
        uv_timer_start(&source->stopper->timer, on_stopped, 0, 0);
    }
}

static void
on_stop(void *arg)
{
    jm_source_t *source = arg;

    jm_log(JM_LOG_NOTICE, source->config.service, "stopping");
    stop_serving(source);
}

static void
announce_ready(jm_source_t *source)
{
    jm_svc_ready(source->svc, "api", jm_source_api_endpoint(source), "log",
                 jm_source_log_endpoint(source)[0]
                     ? jm_source_log_endpoint(source)
                     : jm_source_api_endpoint(source),
                 "tick", jm_source_tick_endpoint(source), NULL);
}

static void
on_selftest(int status, void *arg)
{
    jm_source_t *source = arg;

    /* The source is being destroyed before the self-test finished (the
     * bus cancels it): nothing failed, and nothing is left to stop. */
    if (status == -ECANCELED)
        return;
    if (status == 0) {
        jm_log(JM_LOG_INFO, source->config.service,
               "CURVE self-test: an unknown key was refused");
        announce_ready(source);
        return;
    }
    /* A CURVE socket that lets an unknown key in is worse than no
     * service: stop. */
    jm_log(JM_LOG_ERR, source->config.service,
           "CURVE self-test failed (%s): refusing to serve",
           jm_strerror(status));
    source->failed = true;
    stop_serving(source);
}

/* CURVE is on when the source loaded a key pair. */
static bool
curve_on(const jm_source_t *source)
{
    return source->secret_key[0] != '\0';
}

/* SIGHUP: the allow list again, so that an operator adds or revokes a
 * caseworker's key without a restart (docs/operations.md). */
static void
on_reload(void *arg)
{
    jm_source_t *source = arg;
    const jm_source_config *c = &source->config;

    jm_bus_allow_reload(source->bus, c->service, JM_CURVE_DOMAIN_API,
                        curve_on(source) ? c->allow_file : NULL,
                        JM_CURVE_DOMAIN_LOG, jm_principal_sees_all);
}

int
jm_source_new(jm_source_t **source_p, uv_loop_t *loop,
              const jm_source_config *config, const jm_source_ops *ops,
              int (*open_dbs)(jm_store_t *store, void *arg), void *arg)
{
    jm_source_t *source = jm_xcalloc(1, sizeof(*source));
    jm_store_opts store_opts = {0};
    jm_rpc_server_opts rpc_opts = {0};
    jm_logserver_opts log_opts = {0};
    jm_sock_opts curve = {0};
    int rc;

    JM_ASSERT(ops->check != NULL && ops->apply != NULL);
    source->loop = loop;
    source->config = *config;
    source->ops = *ops;
    source->arg = arg;
    if (source->config.source_name == NULL ||
        source->config.source_name[0] == '\0')
        source->config.source_name = config->service;
    if (source->config.idem_retain_ms <= 0)
        source->config.idem_retain_ms = DEFAULT_IDEM_RETAIN_MS;
    /* The key pair before anything is created: a key file that cannot be
     * read leaves no data directory behind. */
    if (config->key_file != NULL && config->key_file[0] != '\0') {
        if ((rc = jm_keys_load_logged(config->service, "the key pair",
                                      config->key_file, source->public_key,
                                      source->secret_key)) != 0)
            goto fail;
    }

    if ((rc = jm_fs_mkdirs(config->data_dir, config->data_dir_mode != 0
                                                 ? config->data_dir_mode
                                                 : 0750)) != 0) {
        jm_log(JM_LOG_ERR, config->service, "cannot create %s: %s",
               config->data_dir, jm_strerror(rc));
        goto fail;
    }
    if (ops->prepare != NULL && (rc = ops->prepare(arg)) != 0)
        goto fail;
    store_opts.map_size = config->map_size;
    if ((rc = jm_store_open(&source->store, config->data_dir, &store_opts)) !=
        0) {
        jm_log(JM_LOG_ERR, config->service, "cannot open store in %s: %s",
               config->data_dir, jm_strerror(rc));
        goto fail;
    }
    if (open_dbs != NULL && (rc = open_dbs(source->store, arg)) != 0)
        goto fail;
    if ((rc = jm_eventlog_open(&source->log, source->store, "log")) != 0 ||
        (rc = jm_idem_open(&source->idem, source->store, "requests")) != 0)
        goto fail;
    /* no logserver yet: the head only */
    if ((rc = jm_store_read(source->store, read_head_and_tick, source)) != 0)
        goto fail;
    rc = jm_commit_new(&source->commit, source->store, apply_item, done_item,
                       source);
    if (rc != 0)
        goto fail;
    if (ops->committed != NULL)
        jm_commit_on_committed(source->commit, batch_committed);
    if (ops->begin != NULL)
        jm_commit_on_begin(source->commit, batch_begin);
    if (config->announce_pending)
        jm_commit_on_prepared(source->commit, batch_prepared);

    if ((rc = jm_bus_new(&source->bus, loop)) != 0)
        goto fail;
    if (curve_on(source)) {
        curve.curve_public_key = source->public_key;
        curve.curve_secret_key = source->secret_key;
        curve.curve_domain = JM_CURVE_DOMAIN_API;
        if (config->allow_file != NULL && config->allow_file[0] != '\0' &&
            (rc = jm_bus_allow_load(source->bus, JM_CURVE_DOMAIN_API,
                                    config->allow_file, JM_CURVE_DOMAIN_LOG,
                                    jm_principal_sees_all, NULL)) != 0) {
            jm_log(JM_LOG_ERR, config->service, "cannot load allow list %s: %s",
                   config->allow_file, jm_strerror(rc));
            goto fail;
        }
    } else {
        jm_log(JM_LOG_WARN, config->service,
               "CURVE is off: every caller is '%s'. Use this only on "
               "loopback or ipc:// for development",
               config->plain_principal ? config->plain_principal : "local");
    }
    rpc_opts.name = config->service;
    rpc_opts.max_request_size = config->max_request_size;
    rpc_opts.plain_principal = config->plain_principal;
    rpc_opts.sock = curve;
    rc = jm_rpc_server_new(&source->rpc, source->bus, config->api_endpoint,
                           &rpc_opts, on_request, on_drained, source);
    if (rc != 0) {
        jm_log(JM_LOG_ERR, config->service, "cannot open the api on %s: %s",
               config->api_endpoint, jm_strerror(rc));
        goto fail;
    }
    /* No log_endpoint for the log server: the source serves that endpoint
     * itself (on_log_request). */
    log_opts.source = source->config.source_name;
    log_opts.tick_endpoint = config->tick_endpoint;
    log_opts.tick_sock = curve;
    if (curve_on(source))
        log_opts.tick_sock.curve_domain = JM_CURVE_DOMAIN_LOG;
    rc = jm_logserver_new(&source->logserver, source->bus, source->store,
                          source->log, &log_opts, ops->snapshot, arg);
    if (rc != 0)
        goto fail;
    if (config->log_endpoint != NULL && config->log_endpoint[0] != '\0') {
        jm_rpc_server_opts log_rpc_opts = rpc_opts;

        if (curve_on(source))
            log_rpc_opts.sock.curve_domain = JM_CURVE_DOMAIN_LOG;
        rc = jm_rpc_server_new(&source->log_rpc, source->bus,
                               config->log_endpoint, &log_rpc_opts,
                               on_log_request, NULL, source);
        if (rc != 0) {
            jm_log(JM_LOG_ERR, config->service,
                   "cannot open the log endpoint on %s: %s",
                   config->log_endpoint, jm_strerror(rc));
            goto fail;
        }
    }

    rc = jm_svc_new(&source->svc, loop, config->service,
                    config->housekeeping_ms ? config->housekeeping_ms : 1000,
                    on_housekeeping, on_stop, source);
    if (rc != 0)
        goto fail;
    jm_svc_on_reload(source->svc, on_reload);
    jm_log(JM_LOG_INFO, config->service,
           "jobmatch %s %s: store %s, log %s at seq %llu", config->service,
           JM_VERSION, config->data_dir, jm_eventlog_id(source->log),
           (unsigned long long) source->head);
    if (curve_on(source)) {
        rc = jm_bus_curve_selftest(source->bus, jm_source_api_endpoint(source),
                                   source->public_key, 5000, on_selftest,
                                   source);
        if (rc != 0)
            goto fail;
    } else {
        announce_ready(source);
    }
    *source_p = source;
    return 0;

fail:
    jm_source_destroy(&source);
    return rc;
}

void
jm_source_destroy(jm_source_t **source_p)
{
    jm_source_t *source = *source_p;

    if (source == NULL)
        return;
    stop_serving(source);
    if (source->stopper != NULL) {
        source->stopper->source = NULL;
        uv_timer_stop(&source->stopper->timer);
        uv_close((uv_handle_t *) &source->stopper->timer, free_stopper);
    }
    jm_bus_destroy(&source->bus);
    jm_idem_destroy(&source->idem);
    jm_eventlog_destroy(&source->log);
    jm_store_destroy(&source->store);
    sodium_memzero(source->secret_key, sizeof(source->secret_key));
    free(source);
    *source_p = NULL;
}

jm_store_t *
jm_source_store(jm_source_t *source)
{
    return source->store;
}

const char *
jm_source_api_endpoint(jm_source_t *source)
{
    return source->rpc ? jm_rpc_server_endpoint(source->rpc) : "";
}

const char *
jm_source_log_endpoint(jm_source_t *source)
{
    return source->log_rpc ? jm_rpc_server_endpoint(source->log_rpc) : "";
}

const char *
jm_source_tick_endpoint(jm_source_t *source)
{
    return source->logserver ? jm_logserver_tick_endpoint(source->logserver)
                             : "";
}

uint64_t
jm_source_head(const jm_source_t *source)
{
    return source->head;
}

bool
jm_source_failed(const jm_source_t *source)
{
    return source->failed;
}
