/* follower_test_support.h - what test_follower.c and
 * test_follower_sources.c share: a toy source service built on jm_source
 * (one database of job orders by id), a consumer that copies its log into
 * another store through jm_follower, and the fixture that runs them on one
 * loop. Functions are static inline, as in bus_test_support.h: each test
 * uses some of them. */
#ifndef FOLLOWER_TEST_SUPPORT_H
#define FOLLOWER_TEST_SUPPORT_H

#include "jm/err.h"
#include "jm/follower.h"
#include "jm/log.h"
#include "jm/rpc.h"
#include "jm/source.h"
#include "jm/store.h"
#include "jm_test.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the toy source: SubmitOrder stores order.id -> order ---- */

struct toy {
    jm_dbi orders;
    jm_source_t *source; /* set once jm_source_new returned */
};

static inline int
toy_open_dbs(jm_store_t *store, void *arg)
{
    struct toy *toy = arg;

    return jm_store_dbi(store, "orders", false, &toy->orders);
}

static inline jm_source_kind
toy_check(const Jobmatch__V1__Request *req, const char *principal,
          jm_error *err, void *arg)
{
    (void) principal;
    (void) arg;
    if (req->body_case == JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER) {
        if (req->submit_order->order == NULL ||
            !jm_check_id(err, "submit_order.order.id",
                         req->submit_order->order->id, true))
            return JM_SOURCE_REJECT;
        return JM_SOURCE_WRITE;
    }
    if (req->body_case == JOBMATCH__V1__REQUEST__BODY_GET_ORDER)
        return JM_SOURCE_READ;
    return JM_SOURCE_REJECT;
}

static inline int
toy_read(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    struct toy *toy = arg;
    const char *id = r->req->get_order->order_id;
    jm_val val;
    int rc = jm_txn_get(txn, toy->orders, id, strlen(id), &val);

    if (rc == -ENOENT) {
        jm_error_set(&r->err, JM_E_NOT_FOUND, "get_order.order_id",
                     "no order %s", id);
        return 1;
    }
    if (rc != 0)
        return rc;
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ORDER;
    r->reply->order = jobmatch__v1__job_order__unpack(jm_source_allocator(r),
                                                      val.size, val.data);
    return r->reply->order ? 0 : -EIO;
}

static inline int
toy_apply(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    struct toy *toy = arg;
    Jobmatch__V1__JobOrder *order = r->req->submit_order->order;
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__OrderChanged changed = JOBMATCH__V1__ORDER_CHANGED__INIT;
    Jobmatch__V1__Accepted *accepted;
    uint8_t buf[4096];
    size_t n = jobmatch__v1__job_order__pack(order, buf);
    uint64_t seq;
    int rc;

    if ((rc = jm_txn_put(txn, toy->orders, order->id, strlen(order->id), buf, n,
                         0)) != 0)
        return rc;
    changed.order = order;
    changed.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED;
    event.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
    event.order_changed = &changed;
    if ((rc = jm_source_append(toy->source, txn, &event, &seq)) != 0)
        return rc;
    accepted = jm_source_alloc(r, sizeof(*accepted));
    jobmatch__v1__accepted__init(accepted);
    accepted->id = jm_source_strdup(r, order->id);
    accepted->seq = seq;
    accepted->version = 1;
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ACCEPTED;
    r->reply->accepted = accepted;
    return 0;
}

/* One order record as a snapshot event. */
static inline int
snap_one(const jm_val *key, const jm_val *val, jm_snapshot_page_t *page,
         void *arg)
{
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__OrderChanged changed = JOBMATCH__V1__ORDER_CHANGED__INIT;
    Jobmatch__V1__JobOrder *order;

    (void) key;
    (void) arg;
    order = jobmatch__v1__job_order__unpack(NULL, val->size, val->data);
    if (order == NULL)
        return -EIO;
    changed.order = order;
    changed.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_SNAPSHOT;
    event.body_case = JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED;
    event.order_changed = &changed;
    jm_snapshot_page_add(page, &event);
    jobmatch__v1__job_order__free_unpacked(order, NULL);
    return 0;
}

/* Keys from after_key on, inclusive: next_key is the first key that did
 * not fit on this page. */
static inline int
toy_snapshot(jm_txn_t *txn, const void *after_key, size_t after_size,
             size_t limit, jm_snapshot_page_t *page, void *arg)
{
    struct toy *toy = arg;

    return jm_snapshot_scan(txn, toy->orders, after_key, after_size, limit,
                            page, snap_one, NULL);
}

static const jm_source_ops toy_ops = {
    .check = toy_check,
    .read = toy_read,
    .apply = toy_apply,
    .snapshot = toy_snapshot,
};

/* ---- the consumer: counts what it applies, copies ids into its store ---- */

struct consumer {
    jm_store_t *store;
    jm_dbi seen;
    int applied;
    int resets;
    int fail_prepared; /* fail this many batches in prepared */
    int aborts;
    uint64_t prepared, committed, aborted;
    /* the last batch announced as pending, and how many such announced
     * events were then applied as committed */
    char pending_id[32];
    uint64_t pending_seq;
    int pending_confirmed;
};

static inline int
consumer_apply(jm_txn_t *txn, const Jobmatch__V1__Event *event, void *arg)
{
    struct consumer *c = arg;
    const char *id;

    if (event->body_case != JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED)
        return 0;
    id = event->order_changed->order->id;
    c->applied++;
    if (event->seq == c->pending_seq && strcmp(id, c->pending_id) == 0)
        c->pending_confirmed++;
    return jm_txn_put(txn, c->seen, id, strlen(id), "", 0, 0);
}

static inline int
consumer_reset(jm_txn_t *txn, void *arg)
{
    struct consumer *c = arg;
    jm_val key, val;

    c->resets++;
    while (jm_txn_last(txn, c->seen, &key, &val) == 0) {
        char copy[128];
        size_t n = key.size < sizeof(copy) ? key.size : sizeof(copy);

        memcpy(copy, key.data, n);
        if (jm_txn_del(txn, c->seen, copy, n) != 0)
            return -EIO;
    }
    return 0;
}

static inline int
consumer_prepared(jm_txn_t *txn, uint64_t last_seq, void *arg)
{
    struct consumer *c = arg;

    (void) txn;
    c->prepared = last_seq;
    if (c->fail_prepared > 0) {
        c->fail_prepared--;
        return -EIO;
    }
    return 0;
}

static inline void
consumer_committed(uint64_t last_seq, void *arg)
{
    struct consumer *c = arg;

    /* prepared ran for exactly this batch, before its commit */
    assert_int_equal(c->prepared, last_seq);
    c->committed = last_seq;
}

static inline void
consumer_aborted(uint64_t last_seq, void *arg)
{
    struct consumer *c = arg;

    c->aborts++;
    c->aborted = last_seq;
}

static inline void
consumer_pending(Jobmatch__V1__Event *const *events, size_t n, void *arg)
{
    struct consumer *c = arg;

    /* Announced right after what this consumer has committed, before it
     * could have applied them. */
    assert_true(n > 0);
    assert_int_equal(events[0]->seq, c->committed + 1);
    assert_int_equal(events[0]->body_case,
                     JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED);
    snprintf(c->pending_id, sizeof(c->pending_id), "%s",
             events[0]->order_changed->order->id);
    c->pending_seq = events[0]->seq;
}

static const jm_follower_handler consumer_handler = {
    .apply = consumer_apply,
    .reset = consumer_reset,
    .prepared = consumer_prepared,
    .committed = consumer_committed,
    .aborted = consumer_aborted,
    .pending = consumer_pending,
};

/* ---- fixture ---- */

/* An endpoint in front of the source's api that answers Ping with a head
 * of 0, as the separate log endpoint of a source not yet upgraded does,
 * and passes every other request on. */
struct stale_pong {
    jm_rpc_server_t *server;
    jm_rpc_client_t *client; /* to the source's api */
    char log_id[64];
};

struct fixture {
    uv_loop_t loop;
    char src_dir[256], dst_dir[256];
    struct toy toy;
    jm_source_t *source;
    jm_bus_t *bus; /* the consumer side's */
    jm_rpc_client_t *client;
    struct consumer consumer;
    jm_follower_t *follower;
    struct stale_pong stale;
    jm_rpc_client_t *pinger; /* ping_at's */
    int answered;
    int errors;
    uint64_t last_seq;
    bool last_duplicate;
    bool no_pending; /* the source started without announce_pending */
    bool no_ticks;   /* the source started without a tick endpoint */
    bool log_apart;  /* the source serves its log on an endpoint of its own */
    char api[300];   /* the source's api endpoint if fixed (ipc), or "" */
    /* CURVE for the source, if set: its key-pair and allow-list files
     * (curve_source). */
    const char *key_file, *allow_file;
    char key_path[300];
    const char *plain_principal; /* the callers of a plain source */
    /* what the follower's status said each time the source refused a
     * request (test_follower_refused_stays_not_connected) */
    int refusals, refusals_seen_connected;
    int problems_logged, answers_again_logged;
};

/* The next start_source serves with CURVE: this key pair (written to a
 * file in dst_dir, as an operator gives it) and this allow list. */
static inline void
curve_source(struct fixture *f, const char *public_key, const char *secret_key,
             const char *allow_file)
{
    snprintf(f->key_path, sizeof(f->key_path), "%s/source.key", f->dst_dir);
    assert_int_equal(jm_keys_save(f->key_path, public_key, secret_key), 0);
    f->key_file = f->key_path;
    f->allow_file = allow_file;
}

static inline void
start_source(struct fixture *f, int64_t log_retain)
{
    jm_source_config config = {
        .service = "toy",
        .data_dir = f->src_dir,
        .api_endpoint = f->api[0] ? f->api : "tcp://127.0.0.1:*",
        .log_endpoint = f->log_apart ? "tcp://127.0.0.1:*" : NULL,
        .tick_endpoint = f->no_ticks ? "" : "tcp://127.0.0.1:*",
        .announce_pending = !f->no_pending,
        .log_retain = log_retain,
        .housekeeping_ms = 20,
        .key_file = f->key_file,
        .allow_file = f->allow_file,
        .plain_principal = f->plain_principal,
    };

    assert_int_equal(jm_source_new(&f->source, &f->loop, &config, &toy_ops,
                                   toy_open_dbs, &f->toy),
                     0);
    f->toy.source = f->source;
}

static inline void
stop_source(struct fixture *f)
{
    jm_source_destroy(&f->source);
    /* Let the closing handles finish before the store is reopened. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* The fixture's client, to the source as it is now (a restarted source
 * has another port). */
static inline void
connect_client(struct fixture *f)
{
    const char *ep = jm_source_api_endpoint(f->source);

    assert_int_equal(jm_rpc_client_new(&f->client, f->bus, &ep, 1, NULL), 0);
}

/* The source stopped and started again on its store, as the fixture now
 * says (no_pending, api), and the client connected to it anew. */
static inline void
restart_source(struct fixture *f)
{
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    start_source(f, 0);
    connect_client(f);
}

static inline int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    jm_test_tmpdir(f->src_dir, sizeof(f->src_dir));
    jm_test_tmpdir(f->dst_dir, sizeof(f->dst_dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    start_source(f, 0);
    assert_int_equal(jm_bus_new(&f->bus, &f->loop), 0);
    connect_client(f);
    assert_int_equal(jm_store_open(&f->consumer.store, f->dst_dir, NULL), 0);
    assert_int_equal(
        jm_store_dbi(f->consumer.store, "seen", false, &f->consumer.seen), 0);
    *state = f;
    return 0;
}

static inline int
teardown(void **state)
{
    struct fixture *f = *state;

    jm_log_set_sink(NULL, NULL);
    jm_follower_destroy(&f->follower);
    jm_rpc_client_destroy(&f->pinger);
    jm_rpc_client_destroy(&f->stale.client);
    jm_rpc_server_destroy(&f->stale.server);
    jm_rpc_client_destroy(&f->client);
    jm_bus_destroy(&f->bus);
    jm_source_destroy(&f->source);
    jm_test_close_loop(&f->loop, 5000);
    jm_store_destroy(&f->consumer.store);
    jm_test_rmtree(f->src_dir);
    jm_test_rmtree(f->dst_dir);
    free(f);
    return 0;
}

static inline void
on_answer(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct fixture *f = arg;

    assert_int_equal(status, 0);
    f->answered++;
    if (reply->body_case == JOBMATCH__V1__REPLY__BODY_ACCEPTED) {
        f->last_seq = reply->accepted->seq;
        f->last_duplicate = reply->duplicate;
    } else {
        f->errors++;
    }
}

static inline void
submit(struct fixture *f, const char *id, const uint8_t *request_id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    Jobmatch__V1__JobOrder order = JOBMATCH__V1__JOB_ORDER__INIT;

    order.id = (char *) id;
    order.title = "Lagermedarbejder";
    submit.order = &order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &submit;
    if (request_id != NULL) {
        req.request_id.data = (uint8_t *) request_id;
        req.request_id.len = 16;
    }
    assert_int_equal(jm_rpc_client_call(f->client, &req, on_answer, f), 0);
}

struct until {
    struct fixture *f;
    int answered;
    uint64_t committed;
};

static inline bool
answered(void *arg)
{
    struct until *u = arg;

    return u->f->answered >= u->answered;
}

static inline bool
caught_up(void *arg)
{
    struct until *u = arg;

    return u->f->consumer.committed >= u->committed;
}

static inline void
submit_many(struct fixture *f, int first, int count)
{
    struct until u = {f, f->answered + count, 0};
    char id[32];

    for (int i = first; i < first + count; i++) {
        snprintf(id, sizeof(id), "order-%04d", i);
        submit(f, id, NULL);
    }
    assert_true(jm_test_run_until(&f->loop, answered, &u, 10000));
    assert_int_equal(f->errors, 0);
}

static inline void
follow_at(struct fixture *f, const char *endpoint)
{
    jm_follower_opts opts = {.cursor_name = "toy", .poll_ms = 50, .credit = 16};

    assert_int_equal(jm_follower_new(&f->follower, f->bus, f->consumer.store,
                                     endpoint, &opts, &consumer_handler,
                                     &f->consumer),
                     0);
}

static inline void
follow(struct fixture *f)
{
    follow_at(f, jm_source_api_endpoint(f->source));
}

static inline uint64_t
tick_batches(const jm_follower_status *st)
{
    return st->tick_batches;
}

static inline uint64_t
pending_batches(const jm_follower_status *st)
{
    return st->pending_batches;
}

/* Writes orders (ids from first) one at a time, each applied before the
 * next, until count of the follower's status reaches target (at most 50
 * writes): the subscription joins at its own pace, and PUB drops before
 * that, so the first few may be fetched. u->committed follows. */
/* One write (order number n), and the follower caught up with it. */
static inline void
write_one_and_catch_up(struct fixture *f, struct until *u, int n)
{
    submit_many(f, n, 1);
    u->committed++;
    assert_true(jm_test_run_until(&f->loop, caught_up, u, 10000));
}

static inline void
write_one_at_a_time_until(struct fixture *f, struct until *u, int first,
                          uint64_t (*count)(const jm_follower_status *),
                          uint64_t target)
{
    jm_follower_status st;

    for (int i = 0; i < 50; i++) {
        jm_follower_get_status(f->follower, &st);
        if (count(&st) >= target)
            break;
        write_one_and_catch_up(f, u, first + i);
    }
    jm_follower_get_status(f->follower, &st);
    assert_true(count(&st) >= target);
    assert_int_equal(st.applied_seq, u->committed);
    assert_int_equal(f->consumer.applied, (int) u->committed);
}

#endif
