/* test_rpc.c - the envelope layer: every validation step answers with its
 * own code before the handler runs; replies can be deferred; stored
 * replies come back marked duplicate; the client fails over to the next
 * endpoint and times out when none answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "jm/bus.h"
#include "jm/log.h"
#include "jm/msg.h"
#include "jm/principal.h"
#include "jm/rpc.h"
#include "jm_test.h"

struct fixture {
    uv_loop_t loop;
    jm_bus_t *bus;
    jm_rpc_server_t *server;
    jm_sock_t *raw; /* a DEALER that sends whatever bytes a test wants */
    int handled;
    /* what the raw socket received */
    uint8_t last[4096];
    size_t last_size;
    int received;
    /* deferred reply */
    jm_rpc_call_t *held;
    uv_timer_t timer;
    uint8_t *stored;
    size_t stored_size;
};

static void
handler(jm_rpc_call_t *call, const Jobmatch__V1__Request *req, void *arg)
{
    struct fixture *f = arg;
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__Accepted accepted = JOBMATCH__V1__ACCEPTED__INIT;

    f->handled++;
    switch (req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_PING: {
        Jobmatch__V1__Pong pong = JOBMATCH__V1__PONG__INIT;

        pong.service = "test";
        pong.principal = (char *) jm_rpc_call_principal(call);
        reply.body_case = JOBMATCH__V1__REPLY__BODY_PONG;
        reply.pong = &pong;
        jm_rpc_reply(call, &reply);
        break;
    }
    case JOBMATCH__V1__REQUEST__BODY_GET_ORDER:
        /* Keep the call; a timer answers it (the group-commit shape). */
        f->held = call;
        break;
    case JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER:
        /* Answer with a stored reply, as a duplicate request would get. */
        accepted.id = "order-1";
        accepted.seq = 7;
        reply.body_case = JOBMATCH__V1__REPLY__BODY_ACCEPTED;
        reply.accepted = &accepted;
        if (f->stored == NULL) {
            jm_rpc_pack_reply(call, &reply, &f->stored, &f->stored_size);
            jm_rpc_reply(call, &reply);
        } else {
            jm_rpc_reply_stored(call, f->stored, f->stored_size);
        }
        break;
    case JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS: {
        /* What a source answers when its disk is full. */
        jm_error err = {0};

        jm_error_set(&err, JM_E_UNAVAILABLE, "",
                     "the change could not be stored (No space left on "
                     "device); send the same request again");
        jm_rpc_reply_error(call, &err);
        break;
    }
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE: {
        jm_error err = {0};

        jm_error_set(&err, JM_E_PERMISSION_DENIED, "", "not yours");
        jm_rpc_reply_error(call, &err);
        break;
    }
    default: {
        jm_error err = {0};

        jm_error_set(&err, JM_E_UNSUPPORTED, "", "not here");
        jm_rpc_reply_error(call, &err);
        break;
    }
    }
}

static void
on_raw(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    struct fixture *f = arg;

    (void) sock;
    f->received++;
    f->last_size = m->size < sizeof(f->last) ? m->size : sizeof(f->last);
    memcpy(f->last, m->data, f->last_size);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    jm_rpc_server_opts opts = {.name = "test", .max_request_size = 4096};

    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(jm_bus_new(&f->bus, &f->loop), 0);
    assert_int_equal(jm_rpc_server_new(&f->server, f->bus, "tcp://127.0.0.1:*",
                                       &opts, handler, NULL, f),
                     0);
    assert_int_equal(
        jm_sock_new(&f->raw, f->bus, JM_SOCK_DEALER, NULL, on_raw, f), 0);
    assert_int_equal(jm_sock_connect(f->raw, jm_rpc_server_endpoint(f->server)),
                     0);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    jm_sock_close(&f->raw);
    jm_rpc_server_destroy(&f->server);
    jm_bus_destroy(&f->bus);
    jm_test_close_loop(&f->loop, 5000);
    free(f->stored);
    free(f);
    return 0;
}

static bool
raw_received(void *arg)
{
    return ((struct fixture *) arg)->received > 0;
}

/* Sends bytes on the raw DEALER and decodes the single reply. Retries the
 * send until the connection is up (IMMEDIATE refuses to queue before). */
static Jobmatch__V1__Reply *
raw_roundtrip(struct fixture *f, const void *data, size_t size)
{
    f->received = 0;
    for (int i = 0; i < 200 && f->received == 0; i++) {
        if (jm_sock_send(f->raw, NULL, data, size) == 0) {
            jm_test_run_until(&f->loop, raw_received, f, 2000);
            break;
        }
        jm_test_run_until(&f->loop, raw_received, f, 10);
    }
    assert_int_equal(f->received, 1);
    return jobmatch__v1__reply__unpack(NULL, f->last_size, f->last);
}

static void
expect_error(struct fixture *f, const void *data, size_t size, int code,
             const char *path)
{
    Jobmatch__V1__Reply *reply = raw_roundtrip(f, data, size);

    assert_non_null(reply);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(reply->error->code, code);
    if (path != NULL)
        assert_string_equal(reply->error->field_path, path);
    jobmatch__v1__reply__free_unpacked(reply, NULL);
}

static size_t
pack_request(Jobmatch__V1__Request *req, uint8_t *buf)
{
    return jobmatch__v1__request__pack(req, buf);
}

static void
test_each_bad_envelope_gets_its_own_code(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrder get = JOBMATCH__V1__GET_ORDER__INIT;
    uint8_t id[16] = {1, 2, 3};
    uint8_t buf[8192];
    size_t n;

    /* Garbage: a wire type 7 tag. */
    expect_error(f, "\xff\xff\xff", 3, JM_E_MALFORMED, NULL);
    /* Over the server's 4096-byte limit. */
    memset(buf, 0, sizeof(buf));
    expect_error(f, buf, 5000, JM_E_TOO_LARGE, NULL);
    /* A request id of the wrong length. */
    req.request_id.data = id;
    req.request_id.len = 3;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    req.get_order = &get;
    n = pack_request(&req, buf);
    expect_error(f, buf, n, JM_E_INVALID_FIELD, "request_id");
    /* No body at all. */
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY__NOT_SET;
    n = pack_request(&req, buf);
    expect_error(f, buf, n, JM_E_MALFORMED, NULL);
    /* A body from the future: field 89, length-delimited. */
    buf[n++] = ((89 << 3 | 2) & 0x7f) | 0x80;
    buf[n++] = (89 << 3 | 2) >> 7;
    buf[n++] = 0;
    expect_error(f, buf, n, JM_E_UNSUPPORTED, NULL);
    /* Invalid UTF-8 in a string field reaches no handler. */
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    get.order_id = "\xc3\x28";
    n = pack_request(&req, buf);
    expect_error(f, buf, n, JM_E_INVALID_FIELD, "get_order.order_id");
    assert_int_equal(f->handled, 0);
}

/* A client that sends two frames (its own id as a frame, then the
 * request) is told it sent two: the ROUTER's routing id is not counted
 * (the message said 3, which a client cannot find in what it sent). */
static void
test_frames_counted_as_the_client_sent_them(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    Jobmatch__V1__Reply *reply = NULL;
    uint8_t id[16] = {7}, buf[256], got[512];
    void *ctx = zmq_ctx_new(), *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, n = -1;
    size_t size;

    req.request_id.data = id;
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    size = pack_request(&req, buf);
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
    assert_int_equal(zmq_connect(dealer, jm_rpc_server_endpoint(f->server)), 0);
    assert_int_equal(zmq_send(dealer, "x", 1, ZMQ_SNDMORE), 1);
    assert_int_equal(zmq_send(dealer, buf, size, 0), (int) size);
    /* The server runs on the loop, the client is a plain socket: turn the
     * loop and look for the reply, for at most 10 s. */
    for (uint64_t end = uv_hrtime() + 10000000000ULL;
         n < 0 && uv_hrtime() < end;) {
        zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};

        uv_run(&f->loop, UV_RUN_NOWAIT);
        if (zmq_poll(&item, 1, 1) == 1)
            n = zmq_recv(dealer, got, sizeof(got), 0);
    }
    assert_true(n > 0);
    assert_non_null(reply = jobmatch__v1__reply__unpack(NULL, (size_t) n, got));
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(reply->error->code, JM_E_MALFORMED);
    if (strstr(reply->error->message, "got 2 frames") == NULL)
        fail_msg("\"%s\"", reply->error->message);
    jobmatch__v1__reply__free_unpacked(reply, NULL);
    zmq_close(dealer);
    zmq_ctx_term(ctx);
}

static void
test_error_reply_carries_request_id(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrder get = JOBMATCH__V1__GET_ORDER__INIT;
    Jobmatch__V1__Reply *reply;
    uint8_t id[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
    uint8_t buf[256];
    size_t n;

    req.request_id.data = id;
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    get.order_id = "a\xff";
    req.get_order = &get;
    n = pack_request(&req, buf);
    reply = raw_roundtrip(f, buf, n);
    assert_non_null(reply);
    assert_int_equal(reply->request_id.len, 16);
    assert_memory_equal(reply->request_id.data, id, 16);
    jobmatch__v1__reply__free_unpacked(reply, NULL);
}

struct levels {
    int count;
    int level[8];
    char message[8][512];
};

static void
keep_lines(int level, const char *component, const char *message, void *arg)
{
    struct levels *l = arg;

    if (strcmp(component, "test") != 0 || l->count == 8)
        return;
    l->level[l->count] = level;
    snprintf(l->message[l->count++], sizeof(l->message[0]), "%s", message);
}

/* A request turned down for the client's reasons (no right, a bad value)
 * is the client's business: info. "unavailable" is the service failing
 * (a full disk, a store it cannot write), which an operator must see in
 * `journalctl -p warning`: warn. docs/operations.md, "Logs", says so. */
static void
test_unavailable_is_a_warning_refusal_is_info(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetOrderStatus status = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    Jobmatch__V1__EraseProfile erase = JOBMATCH__V1__ERASE_PROFILE__INIT;
    struct levels lines = {0};
    uint8_t id[16] = {4, 2};
    uint8_t buf[256];
    size_t n;

    req.request_id.data = id;
    req.request_id.len = 16;
    jm_log_set_sink(keep_lines, &lines);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS;
    req.set_order_status = &status;
    n = pack_request(&req, buf);
    expect_error(f, buf, n, JM_E_UNAVAILABLE, NULL);
    id[0]++;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE;
    req.erase_profile = &erase;
    n = pack_request(&req, buf);
    expect_error(f, buf, n, JM_E_PERMISSION_DENIED, NULL);
    jm_log_set_sink(NULL, NULL);

    assert_int_equal(lines.count, 2);
    assert_int_equal(lines.level[0], JM_LOG_WARN);
    assert_non_null(strstr(lines.message[0],
                           "unavailable from local: unavailable: the change "
                           "could not be stored (No space left on device)"));
    assert_int_equal(lines.level[1], JM_LOG_INFO);
    assert_non_null(strstr(lines.message[1], "refused from local: "
                                             "permission_denied: not yours"));
}

/* ---- client ---- */

struct result {
    bool done;
    int status;
    int body;
    bool duplicate;
    char principal[JM_PRINCIPAL_MAX_LEN + 1];
};

static void
on_result(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct result *r = arg;

    r->done = true;
    r->status = status;
    if (reply != NULL) {
        r->body = reply->body_case;
        r->duplicate = reply->duplicate;
        if (reply->body_case == JOBMATCH__V1__REPLY__BODY_PONG)
            snprintf(r->principal, sizeof(r->principal), "%s",
                     reply->pong->principal);
    }
}

static bool
result_done(void *arg)
{
    return ((struct result *) arg)->done;
}

static void
call(struct fixture *f, jm_rpc_client_t *client, int body_case,
     struct result *r)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    Jobmatch__V1__GetOrder get = JOBMATCH__V1__GET_ORDER__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;

    req.body_case = body_case;
    if (body_case == JOBMATCH__V1__REQUEST__BODY_PING)
        req.ping = &ping;
    else if (body_case == JOBMATCH__V1__REQUEST__BODY_GET_ORDER)
        req.get_order = &get;
    else
        req.submit_order = &submit;
    memset(r, 0, sizeof(*r));
    assert_int_equal(jm_rpc_client_call(client, &req, on_result, r), 0);
    (void) f;
}

static void
test_client_roundtrip_plain_principal(void **state)
{
    struct fixture *f = *state;
    const char *ep = jm_rpc_server_endpoint(f->server);
    jm_rpc_client_t *client = NULL;
    struct result r;

    assert_int_equal(jm_rpc_client_new(&client, f->bus, &ep, 1, NULL), 0);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_PING, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body, JOBMATCH__V1__REPLY__BODY_PONG);
    assert_string_equal(r.principal, "local");
    jm_rpc_client_destroy(&client);
}

/* The plain principal is checked like an allow list's (jm_principal_problem):
 * "service" would give every plain caller the service's own rights. One of
 * the longest length reaches the handler whole. */
static void
test_plain_principal_checked_and_kept_whole(void **state)
{
    struct fixture *f = *state;
    char longest[JM_PRINCIPAL_MAX_LEN + 1];
    jm_rpc_server_opts opts = {.name = "plain", .plain_principal = "service"};
    jm_rpc_server_t *server = NULL;
    jm_rpc_client_t *client = NULL;
    const char *ep;
    struct result r;

    assert_int_equal(jm_rpc_server_new(&server, f->bus, "tcp://127.0.0.1:*",
                                       &opts, handler, NULL, f),
                     -EINVAL);
    assert_null(server);
    opts.plain_principal = "admin\n";
    assert_int_equal(jm_rpc_server_new(&server, f->bus, "tcp://127.0.0.1:*",
                                       &opts, handler, NULL, f),
                     -EINVAL);

    memset(longest, 'x', sizeof(longest));
    memcpy(longest, "service:", 8);
    longest[JM_PRINCIPAL_MAX_LEN] = '\0';
    opts.plain_principal = longest;
    assert_int_equal(jm_rpc_server_new(&server, f->bus, "tcp://127.0.0.1:*",
                                       &opts, handler, NULL, f),
                     0);
    ep = jm_rpc_server_endpoint(server);
    assert_int_equal(jm_rpc_client_new(&client, f->bus, &ep, 1, NULL), 0);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_PING, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.status, 0);
    assert_string_equal(r.principal, longest);
    jm_rpc_client_destroy(&client);
    jm_rpc_server_destroy(&server);
}

static void
on_hold_timer(uv_timer_t *timer)
{
    struct fixture *f = timer->data;
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__JobOrder order = JOBMATCH__V1__JOB_ORDER__INIT;

    order.id = "late";
    reply.body_case = JOBMATCH__V1__REPLY__BODY_ORDER;
    reply.order = &order;
    if (f->held != NULL) {
        jm_rpc_reply(f->held, &reply);
        f->held = NULL;
    } else {
        uv_timer_start(timer, on_hold_timer, 5, 0);
    }
}

static void
test_deferred_reply_and_duplicate(void **state)
{
    struct fixture *f = *state;
    const char *ep = jm_rpc_server_endpoint(f->server);
    jm_rpc_client_t *client = NULL;
    struct result r;

    assert_int_equal(jm_rpc_client_new(&client, f->bus, &ep, 1, NULL), 0);
    uv_timer_init(&f->loop, &f->timer);
    f->timer.data = f;
    uv_timer_start(&f->timer, on_hold_timer, 20, 0);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_GET_ORDER, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.status, 0);
    assert_int_equal(r.body, JOBMATCH__V1__REPLY__BODY_ORDER);
    uv_close((uv_handle_t *) &f->timer, NULL);

    call(f, client, JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.body, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_false(r.duplicate);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.body, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_true(r.duplicate);
    jm_rpc_client_destroy(&client);
}

static void
test_client_fails_over_and_times_out(void **state)
{
    struct fixture *f = *state;
    jm_rpc_client_opts opts = {.timeout_ms = 200};
    jm_rpc_client_t *client = NULL;
    jm_sock_t *silent = NULL;
    const char *eps[2];
    struct result r;

    /* A ROUTER that never answers stands for a hung server. */
    assert_int_equal(
        jm_sock_new(&silent, f->bus, JM_SOCK_ROUTER, NULL, NULL, NULL), 0);
    assert_int_equal(jm_sock_bind(silent, "tcp://127.0.0.1:*"), 0);
    eps[0] = jm_sock_endpoint(silent);
    eps[1] = jm_rpc_server_endpoint(f->server);
    assert_int_equal(jm_rpc_client_new(&client, f->bus, eps, 2, &opts), 0);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_PING, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.status, 0);
    assert_string_equal(jm_rpc_client_endpoint(client), eps[1]);
    jm_rpc_client_destroy(&client);

    /* Only the silent one: the call ends with -ETIMEDOUT after its tries. */
    opts.tries = 2;
    assert_int_equal(jm_rpc_client_new(&client, f->bus, eps, 1, &opts), 0);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_PING, &r);
    assert_true(jm_test_run_until(&f->loop, result_done, &r, 5000));
    assert_int_equal(r.status, -ETIMEDOUT);
    jm_rpc_client_destroy(&client);
    jm_sock_close(&silent);
}

static void
test_destroy_cancels_calls_in_flight(void **state)
{
    struct fixture *f = *state;
    const char *ep = jm_rpc_server_endpoint(f->server);
    jm_rpc_client_t *client = NULL;
    struct result r;

    assert_int_equal(jm_rpc_client_new(&client, f->bus, &ep, 1, NULL), 0);
    call(f, client, JOBMATCH__V1__REQUEST__BODY_GET_ORDER, &r); /* held */
    jm_rpc_client_destroy(&client);
    assert_true(r.done);
    assert_int_equal(r.status, -ECANCELED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_each_bad_envelope_gets_its_own_code, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_frames_counted_as_the_client_sent_them, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_unavailable_is_a_warning_refusal_is_info, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_reply_carries_request_id,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_plain_principal_checked_and_kept_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_roundtrip_plain_principal,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_reply_and_duplicate,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_fails_over_and_times_out,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_destroy_cancels_calls_in_flight,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
