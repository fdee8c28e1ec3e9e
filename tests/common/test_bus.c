/* test_bus.c - ZeroMQ sockets in a libuv loop: bursts, sends from timers,
 * REQ envelopes and odd shapes, the high-water mark, PUB/SUB, closing from
 * a callback, the size cap, bad options. (CURVE, ZAP, the self-test and
 * key files are in test_zap.c.)
 *
 * Everything runs on one loop with ephemeral tcp ports. Where a test must
 * play a client the API cannot make (a REQ socket, a peer that never
 * reads), it uses libzmq directly, in a context of its own: the rule "no
 * zmq outside bus.c" is for the product, and a test may act as a foreign
 * peer. */
#include <zmq.h>

#include "bus_test_support.h"

/* ---- a burst, both ways, complete and in order ---- */

#define BURST 100000

struct burst {
    jm_sock_t *server, *client;
    uint32_t next_send, next_request, next_reply;
    unsigned since_drained, max_per_turn, drained_calls;
    bool broken;
};

static void
burst_server_recv(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct burst *b = arg;
    uint32_t n;

    if (msg->size != sizeof(n) || msg->peer == NULL || msg->malformed) {
        b->broken = true;
        return;
    }
    memcpy(&n, msg->data, sizeof(n));
    if (n != b->next_request)
        b->broken = true;
    b->next_request = n + 1;
    b->since_drained++;
    if (jm_sock_send(sock, msg->peer, &n, sizeof(n)) != 0)
        b->broken = true;
}

static void
burst_server_drained(jm_sock_t *sock, void *arg)
{
    struct burst *b = arg;

    (void) sock;
    if (b->since_drained > b->max_per_turn)
        b->max_per_turn = b->since_drained;
    b->since_drained = 0;
    b->drained_calls++;
}

static void
burst_client_recv(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct burst *b = arg;
    uint32_t n;

    (void) sock;
    if (msg->size != sizeof(n) || msg->peer != NULL) {
        b->broken = true;
        return;
    }
    memcpy(&n, msg->data, sizeof(n));
    if (n != b->next_reply)
        b->broken = true;
    b->next_reply = n + 1;
}

/* Sends as fast as the socket takes them; -EAGAIN (still connecting, or
 * at the high-water mark) means "next loop turn". */
static void
burst_pump(uv_idle_t *idle)
{
    struct burst *b = idle->data;

    while (b->next_send < BURST) {
        int rc =
            jm_sock_send(b->client, NULL, &b->next_send, sizeof(b->next_send));

        if (rc == -EAGAIN)
            return;
        if (rc != 0) {
            b->broken = true;
            break;
        }
        b->next_send++;
    }
    uv_idle_stop(idle);
}

static bool
burst_done(void *arg)
{
    struct burst *b = arg;

    return b->broken || b->next_reply == BURST;
}

static void
test_burst_arrives_complete_and_in_order(void **state)
{
    struct fixture *f = *state;
    jm_sock_opts server_opts = {.drain_budget = 256};
    struct burst b = {0};
    uv_idle_t pump;

    assert_int_equal(jm_sock_new(&b.server, f->bus, JM_SOCK_ROUTER,
                                 &server_opts, burst_server_recv, &b),
                     0);
    jm_sock_set_drained_cb(b.server, burst_server_drained);
    assert_int_equal(jm_sock_bind(b.server, ANY_PORT), 0);
    assert_int_equal(jm_sock_new(&b.client, f->bus, JM_SOCK_DEALER, NULL,
                                 burst_client_recv, &b),
                     0);
    assert_int_equal(jm_sock_connect(b.client, jm_sock_endpoint(b.server)), 0);
    assert_int_equal(uv_idle_init(&f->loop, &pump), 0);
    pump.data = &b;
    assert_int_equal(uv_idle_start(&pump, burst_pump), 0);

    assert_true(jm_test_run_until(&f->loop, burst_done, &b, 60000));
    assert_false(b.broken);
    assert_int_equal(b.next_request, BURST);
    assert_int_equal(b.next_reply, BURST);
    /* on_drained came once per turn, and no turn delivered more than the
     * budget: at least BURST / 256 turns. */
    assert_true(b.max_per_turn <= 256);
    assert_true(b.drained_calls >= BURST / 256);

    close_handle(&f->loop, &pump);
    jm_sock_close(&b.client);
    jm_sock_close(&b.server);
    assert_null(b.client);
    f->finished = true;
}

/* ---- replies sent from a timer are not stalled ---- */

#define ROUNDS         100000
#define WINDOW         5000
#define FLUSH_DELAY_MS 5

/* The server, on the test's loop, answers nothing inline: it queues, and
 * a timer FLUSH_DELAY_MS later (when the server has drained all it had)
 * sends all queued replies, while the client keeps WINDOW requests in
 * flight (a new one for each reply). A send processes the socket's
 * commands when about a millisecond has passed since a send last did
 * (libzmq throttles it), so in a flush of thousands of replies some send
 * eats the fd's wake-up for the requests the client sent meanwhile.
 * Without the ZMQ_EVENTS re-check the loop then blocks with requests
 * waiting, and nothing wakes it: no fd edge, no timer. The client runs on
 * a loop of its own, in another thread, since on a shared loop its
 * wake-ups would hide the stall. (Checked: with the prepare and after-send
 * re-checks removed this test stalls.) */
struct deferred {
    jm_sock_t *server;
    uv_timer_t flush;

    struct {
        jm_peer peer;
        uint32_t n;
    } * queue;

    unsigned queued;
    uint32_t replied;
    bool broken;
};

static void
on_flush(uv_timer_t *timer)
{
    struct deferred *d = timer->data;

    for (unsigned i = 0; i < d->queued; i++) {
        if (jm_sock_send(d->server, &d->queue[i].peer, &d->queue[i].n,
                         sizeof(uint32_t)) != 0)
            d->broken = true;
        d->replied++;
    }
    d->queued = 0;
}

static void
deferred_server_recv(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct deferred *d = arg;

    (void) sock;
    if (d->queued == ROUNDS || msg->size != sizeof(uint32_t)) {
        d->broken = true;
        return;
    }
    d->queue[d->queued].peer = *msg->peer; /* copied: msg is borrowed */
    memcpy(&d->queue[d->queued].n, msg->data, sizeof(uint32_t));
    d->queued++;
    if (!uv_is_active((uv_handle_t *) &d->flush))
        uv_timer_start(&d->flush, on_flush, FLUSH_DELAY_MS, 0);
}

static bool
deferred_server_done(void *arg)
{
    struct deferred *d = arg;

    return d->broken || d->replied == ROUNDS;
}

/* The client thread. No cmocka asserts in it (they jump across threads):
 * it records, and the test asserts after joining. */
struct remote_client {
    char endpoint[256];
    jm_sock_t *sock;
    uint32_t sent, replies;
    int failure;    /* first unexpected return code */
    int loop_close; /* uv_loop_close() at the end */
};

static void
remote_send_next(struct remote_client *c)
{
    int rc = jm_sock_send(c->sock, NULL, &c->sent, sizeof(c->sent));

    if (rc == 0)
        c->sent++;
    else if (rc != -EAGAIN && c->failure == 0)
        c->failure = rc;
}

static void
remote_recv(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct remote_client *c = arg;

    (void) sock;
    (void) msg;
    c->replies++;
    if (c->sent < ROUNDS)
        remote_send_next(c);
}

static void
remote_pump(uv_idle_t *idle)
{
    struct remote_client *c = idle->data;

    /* The first WINDOW requests; -EAGAIN until connected. */
    while (c->sent < WINDOW && c->failure == 0) {
        uint32_t before = c->sent;

        remote_send_next(c);
        if (c->sent == before)
            return; /* next loop turn */
    }
    uv_idle_stop(idle);
}

static void
on_remote_deadline(uv_timer_t *timer)
{
    uv_stop(timer->loop);
}

static void
on_remote_reply_check(uv_idle_t *idle)
{
    struct remote_client *c = idle->data;

    if (c->replies == ROUNDS || c->failure != 0)
        uv_stop(idle->loop);
}

static void
remote_client_thread(void *arg)
{
    struct remote_client *c = arg;
    uv_loop_t loop;
    jm_bus_t *bus = NULL;
    uv_idle_t pump, check;
    uv_timer_t deadline;
    int rc;

    uv_loop_init(&loop);
    if ((rc = jm_bus_new(&bus, &loop)) != 0 ||
        (rc = jm_sock_new(&c->sock, bus, JM_SOCK_DEALER, NULL, remote_recv,
                          c)) != 0 ||
        (rc = jm_sock_connect(c->sock, c->endpoint)) != 0) {
        c->failure = rc;
    } else {
        uv_idle_init(&loop, &pump);
        pump.data = c;
        uv_idle_start(&pump, remote_pump);
        uv_idle_init(&loop, &check);
        check.data = c;
        uv_idle_start(&check, on_remote_reply_check);
        uv_timer_init(&loop, &deadline);
        uv_timer_start(&deadline, on_remote_deadline, 30000, 0);
        uv_run(&loop, UV_RUN_DEFAULT); /* until done or the deadline */
        uv_close((uv_handle_t *) &pump, NULL);
        uv_close((uv_handle_t *) &check, NULL);
        uv_close((uv_handle_t *) &deadline, NULL);
    }
    jm_sock_close(&c->sock);
    jm_bus_destroy(&bus);
    uv_run(&loop, UV_RUN_DEFAULT); /* close callbacks */
    c->loop_close = uv_loop_close(&loop);
}

static void
test_replies_from_a_timer_are_not_stalled(void **state)
{
    struct fixture *f = *state;
    struct deferred d = {0};
    /* On the heap: if an assertion fails, the thread outlives this frame
     * (and the memory is leaked rather than overwritten). */
    struct remote_client *c = calloc(1, sizeof(*c));
    uv_thread_t thread;

    assert_non_null(c);
    d.queue = calloc(ROUNDS, sizeof(*d.queue));
    assert_non_null(d.queue);

    assert_int_equal(jm_sock_new(&d.server, f->bus, JM_SOCK_ROUTER, NULL,
                                 deferred_server_recv, &d),
                     0);
    assert_int_equal(jm_sock_bind(d.server, ANY_PORT), 0);
    assert_int_equal(uv_timer_init(&f->loop, &d.flush), 0);
    d.flush.data = &d;
    snprintf(c->endpoint, sizeof(c->endpoint), "%s",
             jm_sock_endpoint(d.server));
    assert_int_equal(uv_thread_create(&thread, remote_client_thread, c), 0);

    /* 100,000 requests answered from a timer take a second or so here;
     * a stall waits for the deadline. */
    assert_true(jm_test_run_until(&f->loop, deferred_server_done, &d, 20000));
    assert_int_equal(uv_thread_join(&thread), 0);
    assert_false(d.broken);
    assert_int_equal(d.replied, ROUNDS);
    assert_int_equal(c->failure, 0);
    assert_int_equal(c->replies, ROUNDS);
    assert_int_equal(c->loop_close, 0);
    free(c);

    close_handle(&f->loop, &d.flush);
    jm_sock_close(&d.server);
    free(d.queue);
    f->finished = true;
}

/* ---- REQ envelopes, malformed shapes, gone peers ---- */

struct echo {
    struct seen seen;
    int send_rc;
};

static void
echo_recv(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct echo *e = arg;

    record(sock, msg, &e->seen);
    if (!msg->malformed)
        e->send_rc = jm_sock_send(sock, msg->peer, "pong", 4);
}

struct foreign_reply {
    void *sock;
    char buf[64];
    int size;
    int frames;
};

/* Reads one whole message from a foreign socket, without blocking. */
static bool
foreign_received(void *arg)
{
    struct foreign_reply *r = arg;
    int more = 1;
    size_t len = sizeof(more);

    while (more) {
        int n = zmq_recv(r->sock, r->buf, sizeof(r->buf) - 1, ZMQ_DONTWAIT);

        if (n < 0)
            return r->frames > 0;
        r->size = n;
        r->frames++;
        zmq_getsockopt(r->sock, ZMQ_RCVMORE, &more, &len);
    }
    return true;
}

static void
test_req_envelope_is_echoed_and_odd_shapes_flagged(void **state)
{
    struct fixture *f = *state;
    struct echo echo = {0};
    struct foreign_reply reply = {0};
    jm_peer nobody = {.id = "nobody", .id_len = 6};
    jm_sock_t *server;
    uv_timer_t tick;
    void *raw_ctx, *req, *dealer;
    int zero = 0;

    assert_int_equal(
        jm_sock_new(&server, f->bus, JM_SOCK_ROUTER, NULL, echo_recv, &echo),
        0);
    assert_int_equal(jm_sock_bind(server, ANY_PORT), 0);
    ticker_start(&f->loop, &tick);
    raw_ctx = zmq_ctx_new();

    /* A REQ client sends [delimiter, body]: the ROUTER sees [id, "",
     * body], and the reply must carry the delimiter back, or REQ drops
     * it. */
    req = zmq_socket(raw_ctx, ZMQ_REQ);
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(zmq_connect(req, jm_sock_endpoint(server)), 0);
    assert_int_equal(zmq_send(req, "ping", 4, ZMQ_DONTWAIT), 4);
    reply.sock = req;
    assert_true(jm_test_run_until(&f->loop, foreign_received, &reply, 10000));
    assert_int_equal(echo.seen.count, 1);
    assert_true(echo.seen.delimiter);
    assert_false(echo.seen.malformed);
    assert_int_equal(echo.seen.frames, 3);
    assert_string_equal(echo.seen.body, "ping");
    assert_int_equal(echo.send_rc, 0);
    assert_int_equal(reply.size, 4);
    assert_memory_equal(reply.buf, "pong", 4);
    zmq_close(req);

    /* [id, "a", "b"] and [id, "a", "b", "c"]: not a shape we speak. */
    dealer = zmq_socket(raw_ctx, ZMQ_DEALER);
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(zmq_connect(dealer, jm_sock_endpoint(server)), 0);
    zmq_send(dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "b", 1, 0);
    echo.seen.count = 0;
    assert_true(jm_test_run_until(&f->loop, seen_one, &echo.seen, 10000));
    assert_true(echo.seen.malformed);
    assert_int_equal(echo.seen.frames, 3);
    assert_string_equal(echo.seen.body, "b");
    zmq_send(dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "b", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "c", 1, 0);
    echo.seen.count = 0;
    assert_true(jm_test_run_until(&f->loop, seen_one, &echo.seen, 10000));
    assert_true(echo.seen.malformed);
    assert_int_equal(echo.seen.frames, 4);
    assert_string_equal(echo.seen.body, "c");
    zmq_close(dealer);

    /* ROUTER_MANDATORY: a reply to an unknown peer is an error. */
    assert_int_equal(jm_sock_send(server, &nobody, "x", 1), -EHOSTUNREACH);

    zmq_ctx_term(raw_ctx);
    close_handle(&f->loop, &tick);
    jm_sock_close(&server);
    f->finished = true;
}

static void
test_send_at_high_water_mark_is_eagain(void **state)
{
    struct fixture *f = *state;
    jm_sock_opts opts = {.send_hwm = 4};
    struct seen seen = {0};
    jm_sock_t *server;
    jm_peer peer = {.id = "slow", .id_len = 4};
    void *raw_ctx, *slow;
    int zero = 0, one = 1, rc = 0, sends = 0;
    size_t size = 64 * 1024;
    char *big = calloc(1, size);

    assert_non_null(big);
    assert_int_equal(
        jm_sock_new(&server, f->bus, JM_SOCK_ROUTER, &opts, record, &seen), 0);
    assert_int_equal(jm_sock_bind(server, ANY_PORT), 0);
    /* A peer that never reads: its queue and the kernel's buffers fill,
     * then our pipe, then the send says -EAGAIN (it never blocks). It says
     * hello first, so that the ROUTER knows it. */
    raw_ctx = zmq_ctx_new();
    slow = zmq_socket(raw_ctx, ZMQ_DEALER);
    zmq_setsockopt(slow, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(slow, ZMQ_RCVHWM, &one, sizeof(one));
    zmq_setsockopt(slow, ZMQ_ROUTING_ID, "slow", 4);
    assert_int_equal(zmq_connect(slow, jm_sock_endpoint(server)), 0);
    assert_int_equal(zmq_send(slow, "hello", 5, ZMQ_DONTWAIT), 5);
    assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    while (sends < 100000 && (rc = jm_sock_send(server, &peer, big, size)) == 0)
        sends++;
    assert_int_equal(rc, -EAGAIN);
    jm_sock_close(&server);
    zmq_close(slow);
    zmq_ctx_term(raw_ctx);
    free(big);
    f->finished = true;
}

/* ---- PUB/SUB ---- */

/* PUB drops until the subscription has reached it: publish on a timer
 * until something arrives. */
static void
on_publish(uv_timer_t *timer)
{
    jm_sock_t *pub = timer->data;

    assert_int_equal(jm_sock_publish(pub, "other", "x", 1), 0);
    assert_int_equal(jm_sock_publish(pub, "tick", "head=42", 7), 0);
}

static void
test_publish_reaches_subscriber(void **state)
{
    struct fixture *f = *state;
    jm_sock_opts sub_opts = {.subscribe = "tick"};
    struct seen seen = {0};
    jm_sock_t *pub, *sub;
    uv_timer_t again;

    assert_int_equal(jm_sock_new(&pub, f->bus, JM_SOCK_PUB, NULL, NULL, NULL),
                     0);
    assert_int_equal(jm_sock_bind(pub, ANY_PORT), 0);
    assert_int_equal(
        jm_sock_new(&sub, f->bus, JM_SOCK_SUB, &sub_opts, record, &seen), 0);
    assert_int_equal(jm_sock_connect(sub, jm_sock_endpoint(pub)), 0);
    assert_int_equal(uv_timer_init(&f->loop, &again), 0);
    again.data = pub;
    assert_int_equal(uv_timer_start(&again, on_publish, 0, 10), 0);
    assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    close_handle(&f->loop, &again);
    /* Drain what is in flight: the filter must have kept "other" out. */
    for (int i = 0; i < 10; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(seen.untopical, 0);
    assert_string_equal(seen.topic, "tick");
    assert_string_equal(seen.body, "head=42");
    assert_int_equal(seen.frames, 2);
    assert_false(seen.malformed);
    assert_int_equal(seen.peer_id_len, 0); /* no peer on a SUB */
    jm_sock_close(&sub);
    jm_sock_close(&pub);
    f->finished = true;
}

/* ---- closing a socket inside its own receive callback ---- */

struct self_closing {
    jm_sock_t *server;
    int received;
    int drained;
};

static void
close_on_first(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct self_closing *s = arg;

    (void) msg;
    s->received++;
    assert_ptr_equal(sock, s->server);
    jm_sock_close(&s->server);
}

static void
count_drained(jm_sock_t *sock, void *arg)
{
    (void) sock;
    ((struct self_closing *) arg)->drained++;
}

static bool
self_closing_done(void *arg)
{
    return ((struct self_closing *) arg)->received > 0;
}

static void
test_close_inside_own_callback_is_safe(void **state)
{
    struct fixture *f = *state;
    struct self_closing s = {0};
    struct retry_send retry = {0};
    jm_sock_t *client;
    int sent = 0;

    assert_int_equal(jm_sock_new(&s.server, f->bus, JM_SOCK_ROUTER, NULL,
                                 close_on_first, &s),
                     0);
    jm_sock_set_drained_cb(s.server, count_drained);
    assert_int_equal(jm_sock_bind(s.server, ANY_PORT), 0);
    assert_int_equal(
        jm_sock_new(&client, f->bus, JM_SOCK_DEALER, NULL, NULL, NULL), 0);
    assert_int_equal(jm_sock_connect(client, jm_sock_endpoint(s.server)), 0);
    /* Connected once the first send succeeds; then queue many more so
     * that the drain loop has work left when the callback closes. */
    retry_send_start(&f->loop, &retry, client, "first");
    assert_true(jm_test_run_until(&f->loop, retry_sent, &retry, 10000));
    while (sent < 1000 && jm_sock_send(client, NULL, "more", 4) == 0)
        sent++;
    assert_true(jm_test_run_until(&f->loop, self_closing_done, &s, 10000));
    /* Let the close callbacks and any stray wake-ups run. */
    for (int i = 0; i < 10; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(s.received, 1);
    assert_int_equal(s.drained, 0);
    assert_null(s.server);
    retry_send_stop(&f->loop, &retry);
    jm_sock_close(&client);
    f->finished = true;
}

/* ---- the transport size cap ---- */

static void
test_max_msg_size_drops_oversized_messages(void **state)
{
    struct fixture *f = *state;
    jm_sock_opts capped = {.max_msg_size = 1024};
    jm_sock_opts negative = {.max_msg_size = -1};
    struct seen seen = {0};
    struct retry_send retry = {0};
    jm_sock_t *server, *client, *bad = NULL;
    char big[4096] = {0};

    assert_int_equal(
        jm_sock_new(&bad, f->bus, JM_SOCK_ROUTER, &negative, NULL, NULL),
        -EINVAL);
    assert_null(bad);
    assert_int_equal(
        jm_sock_new(&server, f->bus, JM_SOCK_ROUTER, &capped, record, &seen),
        0);
    assert_int_equal(jm_sock_bind(server, ANY_PORT), 0);
    assert_int_equal(
        jm_sock_new(&client, f->bus, JM_SOCK_DEALER, NULL, NULL, NULL), 0);
    assert_int_equal(jm_sock_connect(client, jm_sock_endpoint(server)), 0);
    retry_send_start(&f->loop, &retry, client, "small");
    assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    assert_string_equal(seen.body, "small");

    /* Over the cap: libzmq drops the connection (no error anywhere) and
     * whatever was queued behind the big message on it. The DEALER
     * reconnects; a small message sent after that arrives. Had the cap
     * not been set (an int instead of an int64_t gives EINVAL), the big
     * message would have arrived first on the same connection. */
    assert_int_equal(jm_sock_send(client, NULL, big, sizeof(big)), 0);
    retry_send_stop(&f->loop, &retry);
    memset(&retry, 0, sizeof(retry));
    retry.forever = true;
    retry_send_start(&f->loop, &retry, client, "after");
    seen.count = 0;
    seen.body[0] = '\0';
    while (strcmp(seen.body, "after") != 0)
        assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    assert_true(seen.max_size <= 1024);
    retry_send_stop(&f->loop, &retry);
    jm_sock_close(&client);
    jm_sock_close(&server);
    f->finished = true;
}

/* ---- options ---- */

static void
test_bad_options_and_endpoints_are_refused(void **state)
{
    struct fixture *f = *state;
    struct keys k;
    jm_sock_opts no_domain, half_client, sub_on_dealer = {.subscribe = "x"};
    jm_sock_t *sock = NULL;

    make_keys(&k);
    no_domain = (jm_sock_opts){.curve_secret_key = k.secret_key};
    half_client = (jm_sock_opts){.curve_server_key = k.public_key,
                                 .curve_public_key = k.public_key};
    assert_int_equal(
        jm_sock_new(&sock, f->bus, JM_SOCK_ROUTER, &no_domain, NULL, NULL),
        -EINVAL);
    assert_int_equal(
        jm_sock_new(&sock, f->bus, JM_SOCK_DEALER, &half_client, NULL, NULL),
        -EINVAL);
    assert_int_equal(
        jm_sock_new(&sock, f->bus, JM_SOCK_DEALER, &sub_on_dealer, NULL, NULL),
        -EINVAL);
    assert_null(sock);
    assert_int_equal(
        jm_sock_new(&sock, f->bus, JM_SOCK_ROUTER, NULL, NULL, NULL), 0);
    assert_true(jm_sock_bind(sock, "nonsense") < 0);
    assert_int_equal(jm_sock_bind(sock, "tcp://127.0.0.1:notaport"), -EINVAL);
    assert_int_equal(jm_sock_bind(sock, ANY_PORT), 0);
    assert_true(strncmp(jm_sock_endpoint(sock), "tcp://127.0.0.1:", 16) == 0);
    jm_sock_close(&sock);
    jm_sock_close(&sock); /* safe on NULL */
    f->finished = true;
}

static void
check_via(const char *named, const char *via, const char *want)
{
    char *got = jm_endpoint_via(named, via);

    assert_string_equal(got, want);
    free(got);
}

/* A peer bound on every interface names its socket with a wildcard host,
 * which from here would mean this machine: the host we reached the peer
 * at is used instead (a matcher in one container, intake in another). */
static void
test_wildcard_endpoint_is_reached_at_the_peers_host(void **state)
{
    (void) state;
    check_via("tcp://0.0.0.0:7102", "tcp://intake-101:7101",
              "tcp://intake-101:7102");
    check_via("tcp://*:7302", "tcp://127.0.0.1:7301", "tcp://127.0.0.1:7302");
    check_via("tcp://[::]:7102", "tcp://[fd00::5]:7101",
              "tcp://[fd00::5]:7102");
    /* A named host is used as it is. */
    check_via("tcp://10.0.0.5:7102", "tcp://intake:7101",
              "tcp://10.0.0.5:7102");
    check_via("tcp://127.0.0.1:40000", "tcp://127.0.0.1:7101",
              "tcp://127.0.0.1:40000");
    check_via("ipc:///run/jm/tick", "tcp://intake:7101", "ipc:///run/jm/tick");
    /* Reached otherwise than by tcp://: the peer is on this machine. */
    check_via("tcp://0.0.0.0:7102", "ipc:///run/jm/api", "tcp://0.0.0.0:7102");
    check_via("tcp://0.0.0.0:7102", "tcp://nohost", "tcp://0.0.0.0:7102");
    check_via("", "tcp://intake:7101", "");
}

/* A peer reached at a non-loopback address naming a socket on its
 * loopback: out of reach if it is another machine (the follower warns). */
static void
test_remote_loopback_is_out_of_reach(void **state)
{
    (void) state;
    assert_true(jm_endpoint_on_remote_loopback("tcp://127.0.0.1:40000",
                                               "tcp://intake.example.dk:7101"));
    assert_true(jm_endpoint_on_remote_loopback("tcp://[::1]:40000",
                                               "tcp://10.0.0.5:7101"));
    assert_true(jm_endpoint_on_remote_loopback("tcp://localhost:40000",
                                               "tcp://10.0.0.5:7101"));
    /* Reached on loopback: the same machine. */
    assert_false(jm_endpoint_on_remote_loopback("tcp://127.0.0.1:40000",
                                                "tcp://127.0.0.1:7101"));
    assert_false(jm_endpoint_on_remote_loopback("tcp://127.0.0.1:40000",
                                                "tcp://localhost:7101"));
    /* Not loopback, or not tcp. */
    assert_false(jm_endpoint_on_remote_loopback("tcp://0.0.0.0:7102",
                                                "tcp://intake:7101"));
    assert_false(jm_endpoint_on_remote_loopback("tcp://1270.0.0.1:7102",
                                                "tcp://intake:7101"));
    assert_false(
        jm_endpoint_on_remote_loopback("ipc:///run/tick", "tcp://intake:7101"));
    assert_false(jm_endpoint_on_remote_loopback("tcp://127.0.0.1:40000",
                                                "ipc:///run/api"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_burst_arrives_complete_and_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_replies_from_a_timer_are_not_stalled, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_req_envelope_is_echoed_and_odd_shapes_flagged, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_send_at_high_water_mark_is_eagain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_reaches_subscriber, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_inside_own_callback_is_safe,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_max_msg_size_drops_oversized_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_options_and_endpoints_are_refused, setup, teardown),
        cmocka_unit_test(test_wildcard_endpoint_is_reached_at_the_peers_host),
        cmocka_unit_test(test_remote_loopback_is_out_of_reach),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
