/* test_follower.c - a toy source service built on jm_source (one database
 * of job orders by id) and a follower that copies its log into another
 * store. Shows: writes are answered after commit with contiguous seqs; a
 * duplicate request id changes nothing; the follower applies every event
 * once, resumes from its cursor, and takes a snapshot when the events it
 * needs were pruned or the source's store was replaced. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/err.h"
#include "jm/follower.h"
#include "jm/log.h"
#include "jm/rpc.h"
#include "jm/source.h"
#include "jm/store.h"
#include "jm_test.h"

/* ---- the toy source: SubmitOrder stores order.id -> order ---- */

struct toy {
    jm_dbi orders;
    jm_source_t *source; /* set once jm_source_new returned */
};

static int
toy_open_dbs(jm_store_t *store, void *arg)
{
    struct toy *toy = arg;

    return jm_store_dbi(store, "orders", false, &toy->orders);
}

static jm_source_kind
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

static int
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

static int
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
static int
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
static int
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

static int
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

static int
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

static int
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

static void
consumer_committed(uint64_t last_seq, void *arg)
{
    struct consumer *c = arg;

    /* prepared ran for exactly this batch, before its commit */
    assert_int_equal(c->prepared, last_seq);
    c->committed = last_seq;
}

static void
consumer_aborted(uint64_t last_seq, void *arg)
{
    struct consumer *c = arg;

    c->aborts++;
    c->aborted = last_seq;
}

static void
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
    /* CURVE for the source, if set: its pair and allow-list file. */
    const char *curve_public_key, *curve_secret_key, *allow_file;
    const char *plain_principal; /* the callers of a plain source */
    /* what the follower's status said each time the source refused a
     * request (test_follower_refused_stays_not_connected) */
    int refusals, refusals_seen_connected;
    int problems_logged, answers_again_logged;
};

static void
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
        .curve_public_key = f->curve_public_key,
        .curve_secret_key = f->curve_secret_key,
        .allow_file = f->allow_file,
        .plain_principal = f->plain_principal,
    };

    assert_int_equal(jm_source_new(&f->source, &f->loop, &config, &toy_ops,
                                   toy_open_dbs, &f->toy),
                     0);
    f->toy.source = f->source;
}

static void
stop_source(struct fixture *f)
{
    jm_source_destroy(&f->source);
    /* Let the closing handles finish before the store is reopened. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* The fixture's client, to the source as it is now (a restarted source
 * has another port). */
static void
connect_client(struct fixture *f)
{
    const char *ep = jm_source_api_endpoint(f->source);

    assert_int_equal(jm_rpc_client_new(&f->client, f->bus, &ep, 1, NULL), 0);
}

/* The source stopped and started again on its store, as the fixture now
 * says (no_pending, api), and the client connected to it anew. */
static void
restart_source(struct fixture *f)
{
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    start_source(f, 0);
    connect_client(f);
}

static int
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

static int
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

static void
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

static void
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

static bool
answered(void *arg)
{
    struct until *u = arg;

    return u->f->answered >= u->answered;
}

static bool
caught_up(void *arg)
{
    struct until *u = arg;

    return u->f->consumer.committed >= u->committed;
}

static void
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

static void
follow_at(struct fixture *f, const char *endpoint)
{
    jm_follower_opts opts = {.cursor_name = "toy", .poll_ms = 50, .credit = 16};

    assert_int_equal(jm_follower_new(&f->follower, f->bus, f->consumer.store,
                                     endpoint, &opts, &consumer_handler,
                                     &f->consumer),
                     0);
}

static void
follow(struct fixture *f)
{
    follow_at(f, jm_source_api_endpoint(f->source));
}

static uint64_t
tick_batches(const jm_follower_status *st)
{
    return st->tick_batches;
}

static uint64_t
pending_batches(const jm_follower_status *st)
{
    return st->pending_batches;
}

/* Writes orders (ids from first) one at a time, each applied before the
 * next, until count of the follower's status reaches target (at most 50
 * writes): the subscription joins at its own pace, and PUB drops before
 * that, so the first few may be fetched. u->committed follows. */
static void
write_one_at_a_time_until(struct fixture *f, struct until *u, int first,
                          uint64_t (*count)(const jm_follower_status *),
                          uint64_t target)
{
    jm_follower_status st;

    for (int i = 0; i < 50; i++) {
        jm_follower_get_status(f->follower, &st);
        if (count(&st) >= target)
            break;
        submit_many(f, first + i, 1);
        u->committed++;
        assert_true(jm_test_run_until(&f->loop, caught_up, u, 10000));
    }
    jm_follower_get_status(f->follower, &st);
    assert_true(count(&st) >= target);
    assert_int_equal(st.applied_seq, u->committed);
    assert_int_equal(f->consumer.applied, (int) u->committed);
}

static void
test_writes_get_contiguous_seqs_and_duplicates_change_nothing(void **state)
{
    struct fixture *f = *state;
    uint8_t rid[16] = {42};
    struct until u = {f, 0, 0};

    submit_many(f, 0, 200); /* all in flight at once: group commit */
    assert_int_equal(f->last_seq, 200);
    assert_int_equal(jm_source_head(f->source), 200);

    submit(f, "order-x", rid);
    u.answered = f->answered + 1;
    assert_true(jm_test_run_until(&f->loop, answered, &u, 5000));
    assert_int_equal(f->last_seq, 201);
    assert_false(f->last_duplicate);
    /* The same request id again, even with another body: the first
     * reply, marked duplicate, and no new event. */
    submit(f, "order-y", rid);
    u.answered = f->answered + 1;
    assert_true(jm_test_run_until(&f->loop, answered, &u, 5000));
    assert_int_equal(f->last_seq, 201);
    assert_true(f->last_duplicate);
    assert_int_equal(jm_source_head(f->source), 201);
}

static void
test_follower_applies_each_event_once_and_resumes(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 100};

    submit_many(f, 0, 100);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.applied, 100);
    assert_int_equal(f->consumer.resets, 0);

    /* Live: new writes arrive through ticks and fetches. */
    submit_many(f, 100, 20);
    u.committed = 120;
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.applied, 120);

    /* Writes made one at a time by a consumer that keeps up come with
     * their tick, no Fetch needed. */
    write_one_at_a_time_until(f, &u, 1000, tick_batches, 3);

    /* A new follower on the same store resumes from the saved cursor. */
    jm_follower_destroy(&f->follower);
    submit_many(f, 120, 5);
    follow(f);
    u.committed += 5;
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.applied, (int) u.committed);
}

/* A small commit's events are announced before it commits (Tick.pending):
 * a consumer at the head is told of them, and then applies the same
 * events when the commit's tick or a Fetch brings them. */
static void
test_small_commit_is_announced_before_it_commits(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 1};

    submit_many(f, 0, 1);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    write_one_at_a_time_until(f, &u, 100, pending_batches, 3);
    /* every announced event was the one then applied under its seq */
    assert_true(f->consumer.pending_confirmed >= 3);
}

/* A source that does not announce (profiles: nobody prepares for it)
 * still ticks each commit's events, and never a pending one. */
static void
test_source_without_announcements_ticks_only_commits(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 1};
    jm_follower_status st;

    f->no_pending = true;
    restart_source(f);
    submit_many(f, 0, 1);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    write_one_at_a_time_until(f, &u, 100, tick_batches, 3);
    jm_follower_get_status(f->follower, &st);
    assert_true(st.pending_batches == 0);
    assert_int_equal(f->consumer.pending_confirmed, 0);
}

/* A source restarted at the same api endpoint ticks from another port
 * (the default picks a free one). The follower, which kept its place,
 * learns the new port from the Pong its next poll asks for, and commits
 * come with their ticks again instead of waiting for polls from then on.
 * (The api is an ipc:// path here, so that the restarted source is found
 * at the same endpoint without a fixed port.) */
static void
test_follower_finds_the_ticks_of_a_restarted_source(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 1};
    jm_follower_status st;

    snprintf(f->api, sizeof(f->api), "ipc://%s/api", f->dst_dir);
    restart_source(f);
    submit_many(f, 0, 1);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    write_one_at_a_time_until(f, &u, 100, tick_batches, 3);

    restart_source(f);
    jm_follower_get_status(f->follower, &st);
    write_one_at_a_time_until(f, &u, 200, tick_batches, st.tick_batches + 3);
}

static int
count_seen(const jm_val *key, const jm_val *val, void *arg)
{
    (void) key;
    (void) val;
    (*(int *) arg)++;
    return 0;
}

static int
count_seen_txn(jm_txn_t *txn, void *arg)
{
    struct consumer *c = arg;
    int n = 0;
    int rc = jm_txn_scan(txn, c->seen, NULL, 0, count_seen, &n);

    c->applied = n;
    return rc;
}

/* A batch that fails in prepared is not committed: aborted is told, with
 * the cursor where it was, and the batch is fetched and applied again. */
static void
test_batch_failing_before_commit_is_aborted_and_redone(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 40};

    submit_many(f, 0, 40);
    f->consumer.fail_prepared = 1;
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    assert_int_equal(f->consumer.aborts, 1);
    assert_int_equal(f->consumer.aborted, 0);
    assert_int_equal(f->consumer.committed, 40);
    assert_int_equal(
        jm_store_read(f->consumer.store, count_seen_txn, &f->consumer), 0);
    assert_int_equal(f->consumer.applied, 40);
}

struct snapshots {
    struct fixture *f;
    uint32_t want;
    uint64_t committed;
};

static bool
snapshot_done(void *arg)
{
    struct snapshots *s = arg;
    jm_follower_status st;

    jm_follower_get_status(s->f->follower, &st);
    return st.snapshots >= s->want && st.applied_seq >= s->committed &&
           !st.snapshotting;
}

/* Housekeeping prunes on its own timer; wait until the log reports a
 * first seq past the start (observed through a Fetch from seq 0). */
struct prune_probe {
    struct fixture *f;
    bool done;
    bool required;
};

static void
on_probe(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct prune_probe *p = arg;

    p->done = true;
    p->required = status == 0 &&
                  reply->body_case == JOBMATCH__V1__REPLY__BODY_EVENT_BATCH &&
                  reply->event_batch->snapshot_required;
}

static bool
probe_done(void *arg)
{
    return ((struct prune_probe *) arg)->done;
}

static void
wait_pruned(struct fixture *f)
{
    for (int i = 0; i < 200; i++) {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__Fetch fetch = JOBMATCH__V1__FETCH__INIT;
        struct prune_probe p = {f, false, false};

        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH;
        req.fetch = &fetch;
        assert_int_equal(jm_rpc_client_call(f->client, &req, on_probe, &p), 0);
        assert_true(jm_test_run_until(&f->loop, probe_done, &p, 5000));
        if (p.required)
            return;
    }
    fail_msg("the log was never pruned");
}

static void
test_snapshot_when_log_pruned(void **state)
{
    struct fixture *f = *state;
    struct snapshots s = {f, 1, 60};

    /* A source that keeps only the last 10 events. */
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    start_source(f, 10);
    connect_client(f);
    submit_many(f, 0, 60);
    /* Housekeeping (every 20 ms) prunes to the last 10. */
    wait_pruned(f);

    follow(f);
    assert_true(jm_test_run_until(&f->loop, snapshot_done, &s, 10000));
    assert_int_equal(f->consumer.resets, 1);
    /* 60 live records (the snapshot), possibly plus events replayed after
     * its as_of seq; never fewer. */
    assert_true(f->consumer.applied >= 60);
}

static void
test_snapshot_when_source_replaced(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 30};
    struct snapshots s = {f, 1, 5};

    submit_many(f, 0, 30);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));

    /* The source's store is wiped and restarted: a new log id. */
    jm_follower_destroy(&f->follower);
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    jm_test_rmtree(f->src_dir);
    start_source(f, 0);
    connect_client(f);
    submit_many(f, 500, 5);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, snapshot_done, &s, 10000));
    assert_int_equal(f->consumer.resets, 1);
}

/* A source restored from an older backup keeps its log id, but its log
 * went back: the seqs after the backup are gone and will be reused for
 * other events. A follower whose cursor is past the restored head must
 * notice and take a snapshot, or it would skip the new events and keep
 * the lost ones. */
static void
test_snapshot_when_source_restored_from_backup(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 30};
    struct snapshots s = {f, 1, 15};
    char backup[256];

    submit_many(f, 0, 10);
    jm_test_tmpdir(backup, sizeof(backup));
    assert_int_equal(jm_store_copy(jm_source_store(f->source), backup), 0);
    submit_many(f, 10, 20);
    follow(f);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));

    /* Restore: the backup replaces the source's store. */
    jm_follower_destroy(&f->follower);
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    jm_test_rmtree(f->src_dir);
    assert_int_equal(rename(backup, f->src_dir), 0);
    start_source(f, 0);
    assert_int_equal(jm_source_head(f->source), 10);
    connect_client(f);
    submit_many(f, 500, 5); /* seqs 11..15 again, other records */
    follow(f);
    assert_true(jm_test_run_until(&f->loop, snapshot_done, &s, 10000));
    assert_int_equal(f->consumer.resets, 1);
}

/* ---- a log served on an endpoint of its own ---- */

struct pong_wait {
    bool done;
    uint64_t head_seq;
    char service[32], log_id[64];
};

static void
on_pong(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct pong_wait *p = arg;

    assert_int_equal(status, 0);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_PONG);
    p->done = true;
    p->head_seq = reply->pong->head_seq;
    snprintf(p->service, sizeof(p->service), "%s", reply->pong->service);
    snprintf(p->log_id, sizeof(p->log_id), "%s", reply->pong->log_id);
}

static bool
pong_done(void *arg)
{
    return ((struct pong_wait *) arg)->done;
}

/* What a Ping at endpoint answers (`jobmatch ping` prints it). */
static void
ping_at(struct fixture *f, const char *endpoint, struct pong_wait *p)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;

    memset(p, 0, sizeof(*p));
    assert_int_equal(jm_rpc_client_new(&f->pinger, f->bus, &endpoint, 1, NULL),
                     0);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    assert_int_equal(jm_rpc_client_call(f->pinger, &req, on_pong, p), 0);
    assert_true(jm_test_run_until(&f->loop, pong_done, p, 5000));
    jm_rpc_client_destroy(&f->pinger);
}

/* A source with a separate log endpoint (the `log` key of intake and
 * profiles) answers a Ping there as on its api: the same head. A follower
 * of that endpoint (a matcher whose source is it) then keeps its view
 * from write to write. The source has no ticks, so that every write
 * after the first fetch reaches the follower through a poll's Ping: a
 * head reported wrong there shows as a snapshot at once. */
static void
test_follower_of_a_separate_log_endpoint_keeps_its_view(void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 5};
    struct pong_wait api, log;
    jm_follower_status st;

    f->log_apart = true;
    f->no_ticks = true;
    restart_source(f);
    assert_string_not_equal(jm_source_log_endpoint(f->source), "");
    submit_many(f, 0, 5);
    follow_at(f, jm_source_log_endpoint(f->source));
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    for (int i = 0; i < 5; i++) {
        submit_many(f, 100 + i, 1);
        u.committed++;
        assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    }
    jm_follower_get_status(f->follower, &st);
    assert_int_equal(st.snapshots, 0);
    assert_int_equal(f->consumer.resets, 0);
    assert_int_equal(f->consumer.applied, 10);
    assert_int_equal(st.head_seq, 10);

    ping_at(f, jm_source_api_endpoint(f->source), &api);
    ping_at(f, jm_source_log_endpoint(f->source), &log);
    assert_int_equal(api.head_seq, 10);
    assert_int_equal(log.head_seq, api.head_seq);
    assert_string_equal(log.log_id, api.log_id);
    assert_string_equal(log.service, api.service);
}

static void
on_passed_on(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    jm_rpc_call_t *call = arg;
    Jobmatch__V1__Reply copy;
    jm_error err = {0};

    if (status != 0) {
        jm_error_set(&err, JM_E_UNAVAILABLE, "", "%s", jm_strerror(status));
        jm_rpc_reply_error(call, &err);
        return;
    }
    /* jm_rpc_reply writes the call's request id into what it sends: into
     * a copy, not into the client's reply. */
    copy = *reply;
    jm_rpc_reply(call, &copy);
}

static void
on_stale_request(jm_rpc_call_t *call, const Jobmatch__V1__Request *req,
                 void *arg)
{
    struct stale_pong *p = arg;
    Jobmatch__V1__Request copy = *req;

    if (req->body_case == JOBMATCH__V1__REQUEST__BODY_PING) {
        Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
        Jobmatch__V1__Pong pong = JOBMATCH__V1__PONG__INIT;

        pong.service = "log";
        pong.source = "toy";
        pong.log_id = p->log_id;
        reply.body_case = JOBMATCH__V1__REPLY__BODY_PONG;
        reply.pong = &pong;
        jm_rpc_reply(call, &reply);
        return;
    }
    assert_int_equal(jm_rpc_client_call(p->client, &copy, on_passed_on, call),
                     0);
}

/* A follower keeps its view although a Pong says a head behind its
 * cursor, for as long as the Fetches say the head is where it was: the
 * Fetch reads its head with the events, and the Pong of a source's
 * separate log endpoint before the fix said 0 (a matcher upgraded before
 * its sources took a snapshot at every poll). A log that did go back is
 * still found by the Fetch (test_snapshot_when_source_restored_from_backup).
 */
static void
test_follower_keeps_its_view_when_only_a_pong_says_the_log_went_back(
    void **state)
{
    struct fixture *f = *state;
    struct until u = {f, 0, 5};
    struct stale_pong *p = &f->stale;
    struct pong_wait api;
    const char *api_endpoint = jm_source_api_endpoint(f->source);
    jm_follower_status st;

    submit_many(f, 0, 5);
    ping_at(f, api_endpoint, &api);
    snprintf(p->log_id, sizeof(p->log_id), "%s", api.log_id);
    assert_int_equal(
        jm_rpc_client_new(&p->client, f->bus, &api_endpoint, 1, NULL), 0);
    assert_int_equal(jm_rpc_server_new(&p->server, f->bus, "tcp://127.0.0.1:*",
                                       &(jm_rpc_server_opts){0},
                                       on_stale_request, NULL, p),
                     0);
    /* The Pong names no ticks: each write after the first fetch reaches
     * the follower through a poll, which asks for a Pong first. */
    follow_at(f, jm_rpc_server_endpoint(p->server));
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    for (int i = 0; i < 3; i++) {
        submit_many(f, 100 + i, 1);
        u.committed++;
        assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
    }
    jm_follower_get_status(f->follower, &st);
    assert_int_equal(st.snapshots, 0);
    assert_int_equal(f->consumer.resets, 0);
    assert_int_equal(f->consumer.applied, 8);
}

/* ---- a source that does not answer, and why ---- */

struct problem_wait {
    jm_follower_t *follower;
    const char *part; /* the status's problem holds it; "": no problem */
};

static bool
problem_is(void *arg)
{
    const struct problem_wait *w = arg;
    jm_follower_status st;

    jm_follower_get_status(w->follower, &st);
    if (w->part[0] == '\0')
        return st.connected && st.problem[0] == '\0';
    return strstr(st.problem, w->part) != NULL;
}

static void
wait_problem(struct fixture *f, jm_follower_t *follower, const char *part)
{
    struct problem_wait w = {follower, part};
    jm_follower_status st;

    if (!jm_test_run_until(&f->loop, problem_is, &w, 15000)) {
        jm_follower_get_status(follower, &st);
        fail_msg("the follower's problem is \"%s\", not one with \"%s\"",
                 st.problem, part);
    }
}

/* ZeroMQ drops a CURVE client the server refuses without a word, so a
 * source that does not list the follower's key, one whose public key the
 * follower holds wrong, and one that is down all look alike: the follower
 * tells them apart (its status and one log line each) and forgets the
 * problem once the source answers. */
static void
test_follower_says_why_a_curve_source_is_silent(void **state)
{
    struct fixture *f = *state;
    char source_public[41], source_secret[41], our_public[41], our_secret[41];
    char other_public[41], other_secret[41], allow[300], text[256];
    jm_follower_opts opts = {.poll_ms = 20, .rpc.timeout_ms = 200};
    jm_follower_t *wrong_key = NULL, *plain = NULL;
    jm_follower_status st;

    assert_int_equal(jm_keys_generate(source_public, source_secret), 0);
    assert_int_equal(jm_keys_generate(our_public, our_secret), 0);
    assert_int_equal(jm_keys_generate(other_public, other_secret), 0);
    snprintf(allow, sizeof(allow), "%s/allow", f->dst_dir);
    snprintf(text, sizeof(text), "%s admin\n", other_public);
    jm_test_write_file(allow, text);
    /* The source again, with CURVE, at an endpoint that stays its own. */
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    snprintf(f->api, sizeof(f->api), "ipc://%s/api", f->dst_dir);
    f->curve_public_key = source_public;
    f->curve_secret_key = source_secret;
    f->allow_file = allow;
    start_source(f, 0);

    opts.rpc.sock.curve_server_key = source_public;
    opts.rpc.sock.curve_public_key = our_public;
    opts.rpc.sock.curve_secret_key = our_secret;
    assert_int_equal(jm_follower_new(&f->follower, f->bus, f->consumer.store,
                                     f->api, &opts, &consumer_handler,
                                     &f->consumer),
                     0);
    wait_problem(f, f->follower, "refuses our key");
    jm_follower_get_status(f->follower, &st);
    assert_false(st.connected);
    assert_non_null(strstr(st.problem, our_public));

    /* The source's public key held wrong. */
    opts.cursor_name = "wrong key";
    opts.rpc.sock.curve_server_key = other_public;
    assert_int_equal(jm_follower_new(&wrong_key, f->bus, f->consumer.store,
                                     f->api, &opts, &consumer_handler,
                                     &f->consumer),
                     0);
    wait_problem(f, wrong_key, "failed before our key was checked");
    jm_follower_destroy(&wrong_key);

    /* No CURVE on our side at all. */
    opts.cursor_name = "plain";
    memset(&opts.rpc.sock, 0, sizeof(opts.rpc.sock));
    assert_int_equal(jm_follower_new(&plain, f->bus, f->consumer.store, f->api,
                                     &opts, &consumer_handler, &f->consumer),
                     0);
    wait_problem(f, plain, "or it uses CURVE");
    jm_follower_destroy(&plain);

    /* Listed (the source started again with the list; a SIGHUP does the
     * same in the services): followed, no problem. */
    snprintf(text, sizeof(text), "%s admin\n%s service:consumer\n",
             other_public, our_public);
    jm_test_write_file(allow, text);
    stop_source(f);
    start_source(f, 0);
    wait_problem(f, f->follower, "");

    /* Down: the probe's handshake never ends. */
    stop_source(f);
    wait_problem(f, f->follower, "not running, or not reachable");
    start_source(f, 0);
    wait_problem(f, f->follower, "");
}

/* A source that takes the follower's key off its allow list and reloads
 * (SIGHUP) answers all it sends PERMISSION_DENIED. The follower is then
 * not connected (a matcher's jobmatch_matcher_source_connected is 0, and
 * the alert on it fires) and says why; listed again, it follows again and
 * gets what was written meanwhile. */
static void
test_follower_refused_after_a_reload_is_not_connected(void **state)
{
    struct fixture *f = *state;
    char source_public[41], source_secret[41], our_public[41], our_secret[41];
    char admin_public[41], admin_secret[41], allow[300], text[256];
    jm_follower_opts opts = {.poll_ms = 20, .rpc.timeout_ms = 500};
    jm_rpc_client_opts admin = {0};
    struct until u = {f, 0, 3};
    const char *ep = f->api;
    jm_follower_status st;

    assert_int_equal(jm_keys_generate(source_public, source_secret), 0);
    assert_int_equal(jm_keys_generate(our_public, our_secret), 0);
    assert_int_equal(jm_keys_generate(admin_public, admin_secret), 0);
    snprintf(allow, sizeof(allow), "%s/allow", f->dst_dir);
    snprintf(text, sizeof(text), "%s admin\n%s service:consumer\n",
             admin_public, our_public);
    jm_test_write_file(allow, text);
    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    snprintf(f->api, sizeof(f->api), "ipc://%s/api", f->dst_dir);
    f->curve_public_key = source_public;
    f->curve_secret_key = source_secret;
    f->allow_file = allow;
    start_source(f, 0);
    admin.sock.curve_server_key = source_public;
    admin.sock.curve_public_key = admin_public;
    admin.sock.curve_secret_key = admin_secret;
    assert_int_equal(jm_rpc_client_new(&f->client, f->bus, &ep, 1, &admin), 0);
    opts.rpc.sock.curve_server_key = source_public;
    opts.rpc.sock.curve_public_key = our_public;
    opts.rpc.sock.curve_secret_key = our_secret;
    assert_int_equal(jm_follower_new(&f->follower, f->bus, f->consumer.store,
                                     f->api, &opts, &consumer_handler,
                                     &f->consumer),
                     0);
    submit_many(f, 0, 3);
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));

    snprintf(text, sizeof(text), "%s admin\n", admin_public);
    jm_test_write_file(allow, text);
    assert_int_equal(raise(SIGHUP), 0);
    wait_problem(f, f->follower, "answers permission_denied");
    jm_follower_get_status(f->follower, &st);
    assert_false(st.connected);
    submit_many(f, 3, 2);

    snprintf(text, sizeof(text), "%s admin\n%s service:consumer\n",
             admin_public, our_public);
    jm_test_write_file(allow, text);
    assert_int_equal(raise(SIGHUP), 0);
    wait_problem(f, f->follower, "");
    u.committed = 5;
    assert_true(jm_test_run_until(&f->loop, caught_up, &u, 10000));
}

/* Each request the source refuses is logged, after the follower sent it:
 * what the follower's status says then is what a scrape could read. */
static void
watch_log(int level, const char *component, const char *text, void *arg)
{
    struct fixture *f = arg;
    jm_follower_status st;

    if (f->follower == NULL)
        return;
    if (strcmp(component, "toy") == 0 && strstr(text, "refused from") != NULL) {
        jm_follower_get_status(f->follower, &st);
        /* The first is logged before the follower heard of it. */
        if (f->refusals++ > 0 && st.connected)
            f->refusals_seen_connected++;
    } else if (strcmp(component, "follower") == 0 && level == JM_LOG_WARN) {
        f->problems_logged++;
    } else if (strcmp(component, "follower") == 0 &&
               strstr(text, "answers again") != NULL) {
        f->answers_again_logged++;
    }
}

static bool
refused_often(void *arg)
{
    return ((struct fixture *) arg)->refusals >= 5;
}

/* A source that answers the follower's Ping but refuses its Fetch (its
 * key listed as a principal that may not read the log, here "monitor"):
 * once refused, the follower is not connected, also right after each
 * poll's Pong, and it says so once, not at every poll. */
static void
test_follower_refused_stays_not_connected(void **state)
{
    struct fixture *f = *state;
    jm_follower_opts opts = {.cursor_name = "toy", .poll_ms = 20};
    jm_follower_status st;

    jm_rpc_client_destroy(&f->client);
    stop_source(f);
    f->plain_principal = "monitor";
    start_source(f, 0);
    jm_log_set_sink(watch_log, f);
    assert_int_equal(jm_follower_new(&f->follower, f->bus, f->consumer.store,
                                     jm_source_api_endpoint(f->source), &opts,
                                     &consumer_handler, &f->consumer),
                     0);
    assert_true(jm_test_run_until(&f->loop, refused_often, f, 10000));
    jm_log_set_sink(NULL, NULL);
    jm_follower_get_status(f->follower, &st);
    assert_false(st.connected);
    assert_non_null(strstr(st.problem, "may not read the event log"));
    assert_int_equal(f->refusals_seen_connected, 0);
    assert_int_equal(f->problems_logged, 1);
    assert_int_equal(f->answers_again_logged, 0);
}

static void
on_watchdog(uv_timer_t *timer)
{
    (void) timer;
    fail_msg("uv_run did not return after SIGTERM: the source left a handle "
             "open");
}

/* A stop signal ends the loop: the source closes everything it opened on
 * it, the bus (and its ZAP handler) included, so that main's uv_run
 * returns and the process exits. */
static void
test_stop_signal_ends_the_loop(void **state)
{
    uv_loop_t loop;
    uv_timer_t watchdog;
    char dir[256];
    struct toy toy = {0};
    jm_source_t *source = NULL;
    jm_source_config config = {
        .service = "toy",
        .data_dir = dir,
        .api_endpoint = "tcp://127.0.0.1:*",
        .tick_endpoint = "tcp://127.0.0.1:*",
        .announce_pending = true,
    };

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(
        jm_source_new(&source, &loop, &config, &toy_ops, toy_open_dbs, &toy),
        0);
    toy.source = source;
    /* Unref'd: it fires only if something else keeps the loop running. */
    uv_timer_init(&loop, &watchdog);
    uv_timer_start(&watchdog, on_watchdog, 10000, 0);
    uv_unref((uv_handle_t *) &watchdog);
    assert_int_equal(raise(SIGTERM), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *) &watchdog, NULL);
    jm_source_destroy(&source);
    jm_test_close_loop(&loop, 5000);
    jm_test_rmtree(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_writes_get_contiguous_seqs_and_duplicates_change_nothing,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_small_commit_is_announced_before_it_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_source_without_announcements_ticks_only_commits, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_batch_failing_before_commit_is_aborted_and_redone, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_applies_each_event_once_and_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_when_log_pruned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_finds_the_ticks_of_a_restarted_source, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_when_source_replaced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_snapshot_when_source_restored_from_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_of_a_separate_log_endpoint_keeps_its_view, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_keeps_its_view_when_only_a_pong_says_the_log_went_back,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_says_why_a_curve_source_is_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_refused_after_a_reload_is_not_connected, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_refused_stays_not_connected, setup, teardown),
        cmocka_unit_test(test_stop_signal_ends_the_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
