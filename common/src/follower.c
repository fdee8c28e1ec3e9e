/* follower.c - pull a source's event log into the consumer's LMDB.
 *
 * One request is in flight at a time (Ping, Fetch or FetchSnapshot), so
 * the follower is a small state machine driven by replies, ticks and a
 * poll timer:
 *
 *   HELLO --Pong--> FETCH --batch, more--> FETCH
 *                     |  --batch, at head--> IDLE --tick--> FETCH
 *                     |                        |  --poll--> HELLO
 *                     |  --snapshot_required / log id changed--> SNAPSHOT
 *   SNAPSHOT --page--> SNAPSHOT ... --last page--> FETCH
 *   any error --> IDLE (the poll timer tries again, with HELLO)
 *
 * Each batch or page is applied in one write transaction together with
 * the cursor, so a crash between two batches loses nothing and applies
 * nothing twice. */
#include "jm/follower.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"

#define DEFAULT_CREDIT  1024
#define DEFAULT_POLL_MS 1000
#define SNAPSHOT_CREDIT 512
/* How long the handshake of a probe (why is the source silent?) may take. */
#define PROBE_TIMEOUT_MS 2000

enum state { IDLE, HELLO, FETCH, SNAPSHOT };

struct jm_follower {
    jm_bus_t *bus;
    jm_store_t *store;
    uv_timer_t poll;
    jm_rpc_client_t *rpc;
    jm_sock_t *ticks;
    char *tick_named; /* the tick endpoint as the source last named it */
    char *ticks_at;   /* where f->ticks is connected (NULL: nowhere) */
    char *endpoint;
    char *cursor_name;
    jm_follower_opts opts;
    jm_follower_handler handler;
    void *arg;

    enum state state;
    bool met;       /* a Pong arrived */
    bool in_flight; /* a request is outstanding */
    bool closing;
    jm_cursor cursor; /* committed */
    char source[64];
    char log_id[33]; /* the source's, from its last answer */
    uint64_t head_seq;
    bool connected;
    /* The source's last answer to us that was not a Pong was an error.
     * A source may answer Ping to a key it refuses the log to, so a Pong
     * ends neither this nor the problem: the status would say "followed"
     * between each poll's Pong and its refused Fetch, and the journal
     * would get the problem and "answers again" at every poll. */
    bool answered_error;
    uint32_t snapshots;
    uint64_t events_applied;
    uint64_t ticks_applied; /* batches that came with a tick */
    uint64_t pending_told;  /* announced batches handed to pending */

    /* Why the source is not followed now, for the log (once per change)
     * and the status; "" while it answers. */
    char problem[320];
    struct probe *probe; /* in flight: why did it not answer? */

    /* Snapshot in progress. */
    uint8_t *snap_key;
    size_t snap_key_size;
    uint64_t snap_as_of;
    bool snap_started;
};

/* A probe outlives the follower if it is destroyed meanwhile: the probe
 * then finds f NULL and only frees itself. */
struct probe {
    jm_follower_t *f;
};

static void send_next(jm_follower_t *f);
static void on_batch(jm_follower_t *f, const Jobmatch__V1__EventBatch *batch);

static void
copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* ---- applying ---- */

struct apply_batch {
    jm_follower_t *f;
    Jobmatch__V1__Event *const *events;
    size_t count;
    bool reset;       /* snapshot's first page: forget the source first */
    bool prepared;    /* handler.prepared ran (an abort must be told) */
    jm_cursor cursor; /* to save with the batch */
};

static int
apply_txn(jm_txn_t *txn, void *arg)
{
    struct apply_batch *b = arg;
    jm_follower_t *f = b->f;
    int rc;

    if (b->reset && (rc = f->handler.reset(txn, f->arg)) != 0)
        return rc;
    for (size_t i = 0; i < b->count; i++) {
        if ((rc = f->handler.apply(txn, b->events[i], f->arg)) != 0)
            return rc;
    }
    if ((rc = jm_cursor_save(f->store, txn, f->cursor_name, &b->cursor)) != 0)
        return rc;
    if (f->handler.prepared == NULL)
        return 0;
    b->prepared = true;
    return f->handler.prepared(txn, b->cursor.seq, f->arg);
}

static int
apply_batch(jm_follower_t *f, struct apply_batch *b)
{
    int rc = jm_store_write(f->store, apply_txn, b);

    if (rc != 0) {
        jm_log(JM_LOG_ERR, "follower", "%s: applying %zu events failed: %s",
               f->endpoint, b->count, jm_strerror(rc));
        if (b->prepared && f->handler.aborted != NULL)
            f->handler.aborted(f->cursor.seq, f->arg);
        return rc;
    }
    f->cursor = b->cursor;
    f->events_applied += b->count;
    if (f->handler.committed != NULL)
        f->handler.committed(f->cursor.seq, f->arg);
    return 0;
}

/* ---- replies ---- */

static void
begin_snapshot(jm_follower_t *f, const char *why)
{
    jm_log(JM_LOG_NOTICE, "follower", "%s: taking a snapshot (%s)", f->endpoint,
           why);
    free(f->snap_key);
    f->snap_key = NULL;
    f->snap_key_size = 0;
    f->snap_started = false;
    f->state = SNAPSHOT;
}

/* Nothing being fetched or paged, and the source met: a tick's events
 * may be used. */
static bool
at_rest(const jm_follower_t *f)
{
    return f->state == IDLE && f->met && !f->in_flight;
}

/* Is the tick from the log our cursor is in? (protobuf-c gives an absent
 * string as "") */
static bool
tick_of_our_log(const jm_follower_t *f, const Jobmatch__V1__Tick *tick)
{
    return strcmp(tick->log_id, f->log_id) == 0 &&
           strcmp(f->cursor.log_id, f->log_id) == 0;
}

/* Does the tick carry the events right after our cursor, up to its head? */
static bool
tick_continues(const jm_follower_t *f, const Jobmatch__V1__Tick *tick)
{
    return tick->n_events > 0 && tick->events[0]->seq == f->cursor.seq + 1 &&
           tick->head_seq == f->cursor.seq + tick->n_events &&
           tick_of_our_log(f, tick);
}

/* Does the tick announce the events being committed right after our
 * cursor, which is at the head? */
static bool
tick_announces(const jm_follower_t *f, const Jobmatch__V1__Tick *tick)
{
    return tick->n_pending > 0 && tick->head_seq == f->cursor.seq &&
           tick->pending[0]->seq == f->cursor.seq + 1 &&
           tick_of_our_log(f, tick);
}

/* Such a tick is what a Fetch reply would be, without the round trip.
 * on_batch checks each seq again. */
static void
apply_tick(jm_follower_t *f, const Jobmatch__V1__Tick *tick)
{
    Jobmatch__V1__EventBatch batch = JOBMATCH__V1__EVENT_BATCH__INIT;

    batch.source = tick->source;
    batch.log_id = tick->log_id;
    batch.head_seq = tick->head_seq;
    batch.events = tick->events;
    batch.n_events = tick->n_events;
    f->ticks_applied++;
    on_batch(f, &batch);
}

static void
on_tick(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    jm_follower_t *f = arg;
    Jobmatch__V1__Tick *tick;

    (void) sock;
    /* Ticks come from the source we follow; still, decode defensively and
     * use them only as a hint to fetch now. */
    tick = jobmatch__v1__tick__unpack(NULL, m->size, m->data);
    if (tick == NULL)
        return;
    if (tick->head_seq > f->head_seq)
        f->head_seq = tick->head_seq;
    if (at_rest(f) && tick_continues(f, tick)) {
        apply_tick(f, tick);
    } else if (at_rest(f) && f->handler.pending != NULL &&
               tick_announces(f, tick)) {
        f->pending_told++;
        f->handler.pending(tick->pending, tick->n_pending, f->arg);
    }
    jobmatch__v1__tick__free_unpacked(tick, NULL);
    if (at_rest(f) && f->head_seq > f->cursor.seq) {
        f->state = FETCH;
        send_next(f);
    }
}

/* Follows the ticks of the endpoint a Pong names. The source names it as
 * it bound it: one bound on every interface (tcp://0.0.0.0:7102, as in a
 * container) is reached at the host we reach the source at
 * (jm_endpoint_via); connecting to 0.0.0.0 would reach this machine, and
 * the ticks would never come. A source restarted with its ticks on
 * another port (the default picks a free one) names the new one in the
 * next Pong (on_poll asks again): the old subscription is dropped. */
static void
follow_ticks(jm_follower_t *f, const char *named)
{
    jm_sock_opts opts = f->opts.rpc.sock;
    char *endpoint;
    int rc;

    if (named == NULL)
        named = "";
    if (f->tick_named != NULL && strcmp(f->tick_named, named) == 0)
        return;
    if (f->ticks != NULL) {
        jm_log(JM_LOG_NOTICE, "follower", "%s: ticks now from %s (were %s)",
               f->endpoint, named[0] ? named : "nowhere", f->tick_named);
        jm_sock_close(&f->ticks);
    }
    free(f->ticks_at);
    f->ticks_at = NULL;
    free(f->tick_named);
    f->tick_named = jm_xstrdup(named);
    if (named[0] == '\0')
        return;
    /* Subscribed all the same: the name may resolve to this machine
     * (Debian maps its own host name to 127.0.1.1), and then the ticks
     * come. If not, the warning and the stats' tick count of 0 say why. */
    if (jm_endpoint_on_remote_loopback(named, f->endpoint))
        jm_log(JM_LOG_WARN, "follower",
               "%s: it ticks on its loopback (%s): if it runs on another "
               "machine, no tick reaches this one and changes wait for a "
               "poll (poll_ms); bind its tick where this machine reaches it "
               "(tcp://0.0.0.0:PORT, or its address)",
               f->endpoint, named);
    endpoint = jm_endpoint_via(named, f->endpoint);
    opts.subscribe = "tick";
    rc = jm_sock_new(&f->ticks, f->bus, JM_SOCK_SUB, &opts, on_tick, f);
    if (rc == 0)
        rc = jm_sock_connect(f->ticks, endpoint);
    if (rc != 0) {
        /* Not fatal: polling alone is slower, not wrong. */
        jm_log(JM_LOG_WARN, "follower", "%s: no ticks from %s: %s", f->endpoint,
               endpoint, jm_strerror(rc));
        jm_sock_close(&f->ticks);
        free(endpoint);
        return;
    }
    if (strcmp(endpoint, named) != 0)
        jm_log(JM_LOG_INFO, "follower", "%s: ticks from %s (named %s)",
               f->endpoint, endpoint, named);
    f->ticks_at = endpoint;
}

/* The same log, but its head is before our cursor: the source's store was
 * restored from an older copy (the log id lives in the store, so a copy
 * keeps it). The seqs after the copy are gone and will be reused for other
 * events, so what we applied from them is wrong and our cursor would skip
 * the new ones: only a snapshot is right. */
static bool
went_back(const jm_follower_t *f)
{
    return f->cursor.log_id[0] != '\0' && f->head_seq < f->cursor.seq;
}

static void
on_pong(jm_follower_t *f, const Jobmatch__V1__Pong *pong)
{
    f->met = true;
    copy_str(f->source, sizeof(f->source), pong->source);
    copy_str(f->log_id, sizeof(f->log_id), pong->log_id);
    f->head_seq = pong->head_seq;
    follow_ticks(f, pong->tick_endpoint);
    /* A head behind our cursor is left to the Fetch to judge (on_batch),
     * whose head is read in the transaction that reads the events. A
     * Pong's head is only what the endpoint says: the separate log
     * endpoint of a source not yet upgraded says 0, and a snapshot at
     * every poll would follow, for nothing. One round trip more when the
     * log did go back. */
    if (f->cursor.log_id[0] != '\0' && strcmp(f->cursor.log_id, f->log_id) != 0)
        begin_snapshot(f, "the source's log was replaced");
    else
        f->state = FETCH;
}

static void
on_batch(jm_follower_t *f, const Jobmatch__V1__EventBatch *batch)
{
    jm_cursor cursor = f->cursor;
    struct apply_batch b = {.f = f};

    copy_str(f->log_id, sizeof(f->log_id), batch->log_id);
    f->head_seq = batch->head_seq;
    if (f->cursor.log_id[0] != '\0' &&
        strcmp(f->cursor.log_id, f->log_id) != 0) {
        begin_snapshot(f, "the source's log was replaced");
        return;
    }
    if (batch->snapshot_required) {
        begin_snapshot(f, "the events we need were pruned");
        return;
    }
    if (went_back(f)) {
        begin_snapshot(f, "the source's log went back (restored from a "
                          "backup?)");
        return;
    }
    /* Only contiguous events from our cursor on: anything else is a
     * source we do not understand, and applying it would skip changes. */
    for (size_t i = 0; i < batch->n_events; i++) {
        if (batch->events[i]->seq != f->cursor.seq + 1 + i) {
            jm_log(JM_LOG_ERR, "follower",
                   "%s: expected seq %llu, got %llu; not applying", f->endpoint,
                   (unsigned long long) (f->cursor.seq + 1 + i),
                   (unsigned long long) batch->events[i]->seq);
            f->state = IDLE;
            return;
        }
    }
    if (batch->n_events > 0 || cursor.log_id[0] == '\0') {
        copy_str(cursor.log_id, sizeof(cursor.log_id), batch->log_id);
        cursor.seq += batch->n_events;
        b.events = batch->events;
        b.count = batch->n_events;
        b.cursor = cursor;
        if (apply_batch(f, &b) != 0) {
            f->state = IDLE;
            return;
        }
    }
    f->state = f->cursor.seq < f->head_seq ? FETCH : IDLE;
}

static void
on_page(jm_follower_t *f, const Jobmatch__V1__SnapshotPage *page)
{
    struct apply_batch b = {.f = f};

    if (f->snap_started && strcmp(f->log_id, page->log_id) != 0) {
        begin_snapshot(f, "the source's log changed during the snapshot");
        return;
    }
    copy_str(f->log_id, sizeof(f->log_id), page->log_id);
    if (!f->snap_started) {
        /* Events from here on are replayed after the snapshot; events
         * carry full state, so changes made while we page are applied
         * again from the log (log.proto). */
        f->snap_as_of = page->as_of_seq;
        b.reset = true;
    }
    /* The cursor moves only with the last page. Until then a crash leaves
     * the old cursor, and the follower snapshots again (with a reset). */
    b.cursor = f->cursor;
    if (page->done) {
        copy_str(b.cursor.log_id, sizeof(b.cursor.log_id), page->log_id);
        b.cursor.seq = f->snap_as_of;
    }
    b.events = page->records;
    b.count = page->n_records;
    if (apply_batch(f, &b) != 0) {
        f->state = IDLE;
        return;
    }
    f->snap_started = true;
    if (page->done) {
        f->snapshots++;
        jm_log(JM_LOG_NOTICE, "follower",
               "%s: snapshot of %s complete at seq %llu", f->endpoint,
               f->source, (unsigned long long) f->snap_as_of);
        f->state = FETCH;
        return;
    }
    free(f->snap_key);
    f->snap_key = jm_xmalloc(page->next_key.len ? page->next_key.len : 1);
    memcpy(f->snap_key, page->next_key.data, page->next_key.len);
    f->snap_key_size = page->next_key.len;
}

/* ---- why a source is not followed ----
 *
 * A CURVE server drops a client it refuses without a word, so a source
 * that does not list our key, and one we hold the wrong public key of,
 * look like a source that is down. Each is a different fix for the
 * operator, so when the source is silent a probe (a second handshake with
 * our key, watched) tells them apart. What it found is logged once, as a
 * warning, when it changes; an answer ends it with a notice. */

static void set_problem(jm_follower_t *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_problem(jm_follower_t *f, const char *fmt, ...)
{
    char text[sizeof(f->problem)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (strcmp(text, f->problem) == 0)
        return;
    memcpy(f->problem, text, sizeof(text));
    jm_log(JM_LOG_WARN, "follower", "%s: %s", f->endpoint, f->problem);
}

static void
clear_problem(jm_follower_t *f)
{
    if (f->problem[0] == '\0')
        return;
    jm_log(JM_LOG_NOTICE, "follower", "%s: answers again (was: %s)",
           f->endpoint, f->problem);
    f->problem[0] = '\0';
}

static void
on_probe(int status, void *arg)
{
    struct probe *probe = arg;
    jm_follower_t *f = probe->f;
    const jm_sock_opts *keys;

    free(probe);
    if (f == NULL)
        return;
    f->probe = NULL;
    /* An answer came meanwhile: nothing to explain. */
    if (f->connected || status == -ECANCELED)
        return;
    keys = &f->opts.rpc.sock;
    switch (status) {
    case 0:
        set_problem(f,
                    "refuses our key (public %s): it is not on that source's "
                    "allow list; list it there as service:<name> and reload "
                    "the source (systemctl reload, SIGHUP)",
                    keys->curve_public_key);
        break;
    case -EPROTO:
        set_problem(f,
                    "the CURVE handshake failed before our key was checked: "
                    "is source_key (%s) that source's public key?",
                    keys->curve_server_key);
        break;
    case -EACCES:
        set_problem(f, "admits our key but did not answer in time");
        break;
    default:
        set_problem(f, "does not answer: not running, or not reachable from "
                       "here");
        break;
    }
}

/* The source did not answer a request: say why, once. */
static void
explain_silence(jm_follower_t *f)
{
    const jm_sock_opts *keys = &f->opts.rpc.sock;
    struct probe *probe;

    if (keys->curve_server_key == NULL) {
        set_problem(f, "does not answer: not running, not reachable from "
                       "here, or it uses CURVE (give its public key as "
                       "source_key)");
        return;
    }
    if (f->probe != NULL)
        return;
    probe = jm_xcalloc(1, sizeof(*probe));
    probe->f = f;
    if (jm_bus_curve_probe(f->bus, f->endpoint, keys->curve_server_key,
                           JM_SOCK_DEALER, keys->curve_public_key,
                           keys->curve_secret_key, PROBE_TIMEOUT_MS, on_probe,
                           probe) != 0) {
        free(probe);
        set_problem(f, "does not answer");
        return;
    }
    f->probe = probe;
}

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    jm_follower_t *f = arg;

    f->in_flight = false;
    if (f->closing)
        return;
    if (status != 0) {
        f->connected = false;
        jm_log(JM_LOG_INFO, "follower", "%s: no answer (%s)", f->endpoint,
               jm_strerror(status));
        explain_silence(f);
        f->state = IDLE;
        return;
    }
    if (reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR)
        f->answered_error = true;
    else if (reply->body_case != JOBMATCH__V1__REPLY__BODY_PONG)
        f->answered_error = false;
    /* Answering with an error is not being followed: a matcher's
     * jobmatch_matcher_source_connected says 0, as for a silent source. */
    f->connected = !f->answered_error;
    if (f->connected)
        clear_problem(f);
    switch (reply->body_case) {
    case JOBMATCH__V1__REPLY__BODY_PONG:
        on_pong(f, reply->pong);
        break;
    case JOBMATCH__V1__REPLY__BODY_EVENT_BATCH:
        on_batch(f, reply->event_batch);
        break;
    case JOBMATCH__V1__REPLY__BODY_SNAPSHOT_PAGE:
        on_page(f, reply->snapshot_page);
        break;
    case JOBMATCH__V1__REPLY__BODY_ERROR:
        /* Once per distinct error, not at every poll (a key taken off the
         * source's list gets PERMISSION_DENIED until it is put back). */
        set_problem(f, "answers %s: %s", jm_error_code_name(reply->error->code),
                    reply->error->message);
        f->state = IDLE;
        break;
    default:
        jm_log(JM_LOG_WARN, "follower", "%s: unexpected reply", f->endpoint);
        f->state = IDLE;
        break;
    }
    send_next(f);
}

/* ---- requests ---- */

static void
send_next(jm_follower_t *f)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    Jobmatch__V1__Fetch fetch = JOBMATCH__V1__FETCH__INIT;
    Jobmatch__V1__FetchSnapshot snap = JOBMATCH__V1__FETCH_SNAPSHOT__INIT;
    int rc;

    if (f->closing || f->in_flight)
        return;
    if (!f->met)
        f->state = HELLO;
    switch (f->state) {
    case IDLE:
        return;
    case HELLO:
        req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
        req.ping = &ping;
        break;
    case FETCH:
        fetch.after_seq = f->cursor.seq;
        fetch.credit = f->opts.credit;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH;
        req.fetch = &fetch;
        break;
    case SNAPSHOT:
        snap.after_key.data = f->snap_key;
        snap.after_key.len = f->snap_key_size;
        snap.credit = SNAPSHOT_CREDIT;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH_SNAPSHOT;
        req.fetch_snapshot = &snap;
        break;
    }
    rc = jm_rpc_client_call(f->rpc, &req, on_reply, f);
    if (rc != 0) {
        jm_log(JM_LOG_WARN, "follower", "%s: cannot send: %s", f->endpoint,
               jm_strerror(rc));
        f->state = IDLE;
        return;
    }
    f->in_flight = true;
}

static void
on_poll(uv_timer_t *timer)
{
    jm_follower_t *f = timer->data;

    if (f->in_flight)
        return;
    /* Ask who the source is before fetching: a restarted source may tick
     * from another port (follow_ticks), or have another log (on_pong). One
     * round trip a poll. */
    if (f->state == IDLE)
        f->state = HELLO;
    send_next(f);
}

static int
load_cursor(jm_txn_t *txn, void *arg)
{
    jm_follower_t *f = arg;
    int rc = jm_cursor_load(f->store, txn, f->cursor_name, &f->cursor);

    return rc == -ENOENT ? 0 : rc;
}

int
jm_follower_new(jm_follower_t **follower_p, jm_bus_t *bus, jm_store_t *store,
                const char *endpoint, const jm_follower_opts *opts,
                const jm_follower_handler *handler, void *arg)
{
    jm_follower_t *f = jm_xcalloc(1, sizeof(*f));
    int rc;

    JM_ASSERT(handler->apply != NULL && handler->reset != NULL);
    f->bus = bus;
    f->store = store;
    f->handler = *handler;
    f->arg = arg;
    if (opts != NULL)
        f->opts = *opts;
    if (f->opts.credit == 0)
        f->opts.credit = DEFAULT_CREDIT;
    if (f->opts.poll_ms == 0)
        f->opts.poll_ms = DEFAULT_POLL_MS;
    f->endpoint = jm_xstrdup(endpoint);
    f->cursor_name =
        jm_xstrdup(f->opts.cursor_name ? f->opts.cursor_name : endpoint);
    if ((rc = jm_store_read(store, load_cursor, f)) != 0)
        goto fail;
    rc = jm_rpc_client_new(&f->rpc, bus, (const char *const *) &f->endpoint, 1,
                           &f->opts.rpc);
    if (rc != 0)
        goto fail;
    uv_timer_init(jm_bus_loop(bus), &f->poll);
    f->poll.data = f;
    uv_timer_start(&f->poll, on_poll, f->opts.poll_ms, f->opts.poll_ms);
    f->state = HELLO;
    send_next(f);
    *follower_p = f;
    return 0;

fail:
    free(f->endpoint);
    free(f->cursor_name);
    free(f);
    return rc;
}

void
jm_follower_get_status(const jm_follower_t *f, jm_follower_status *out)
{
    memset(out, 0, sizeof(*out));
    out->endpoint = f->endpoint;
    out->source = f->source;
    out->log_id = f->cursor.log_id[0] ? f->cursor.log_id : f->log_id;
    out->applied_seq = f->cursor.seq;
    out->head_seq = f->head_seq;
    out->connected = f->connected;
    out->snapshotting = f->state == SNAPSHOT;
    out->snapshots = f->snapshots;
    out->events_applied = f->events_applied;
    out->tick_batches = f->ticks_applied;
    out->tick_endpoint = f->ticks_at != NULL ? f->ticks_at : "";
    out->pending_batches = f->pending_told;
    out->problem = f->problem;
}

static void
on_closed(uv_handle_t *handle)
{
    jm_follower_t *f = handle->data;

    free(f->snap_key);
    free(f->tick_named);
    free(f->ticks_at);
    free(f->endpoint);
    free(f->cursor_name);
    free(f);
}

void
jm_follower_destroy(jm_follower_t **follower_p)
{
    jm_follower_t *f = *follower_p;

    if (f == NULL)
        return;
    *follower_p = NULL;
    f->closing = true;
    if (f->probe != NULL)
        f->probe->f = NULL;
    jm_rpc_client_destroy(&f->rpc); /* an outstanding call: -ECANCELED */
    jm_sock_close(&f->ticks);
    uv_timer_stop(&f->poll);
    uv_close((uv_handle_t *) &f->poll, on_closed);
}
