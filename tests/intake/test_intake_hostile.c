/* test_intake_hostile.c - the real jobmatch-intake against a client that
 * sends whatever it likes: garbage frames, multi-frame garbage, an
 * oversized request, a frame above the transport cap, wrong protobuf wire
 * types, truncation, unknown bodies, invalid fields, strings that are not
 * UTF-8 or hold a NUL, unknown enum values, a memory-amplifying message,
 * and a REQ socket. Each gets its error reply with the right code (the
 * frame above the transport cap cannot: libzmq drops that connection), the
 * service stays up (Ping), and the store is unchanged: head seq, order
 * count and the one stored order are as before.
 *
 * This test talks ZeroMQ directly (zmq.h) to act as a foreign client; no
 * other code outside bus.c does. Usage: test_intake_hostile INTAKE_BINARY */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <zmq.h>

#include "intake_testlib.h"
#include "jm/mem.h"
#include "jm/msg.h"
#include "jm_proc.h"
#include "jm_test.h"

#define MAX_REQUEST (64 * 1024)

static const char *intake_binary;

struct hostile {
    uv_loop_t loop;
    char dir[256];
    jm_proc_t *proc;
    char api[128];
    void *ctx;
    it_client *good;
    char order_id[64];
    uint8_t *order_before;
    size_t order_before_size;
};

static struct hostile *H;

/* ---- a raw client ---- */

static void *
raw_socket(int type)
{
    void *s = zmq_socket(H->ctx, type);
    int linger = 0, timeout = 5000;

    assert_non_null(s);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    assert_int_equal(zmq_connect(s, H->api), 0);
    return s;
}

/* Sends the frames, then receives one reply (the last frame of it) and
 * decodes it as a Reply. NULL if nothing came within the socket's
 * timeout. The service's log pipe is drained in between. */
static jm_msg_t *
exchange(void *s, const void *const *frames, const size_t *sizes, int n)
{
    zmq_msg_t part;
    jm_msg_t *reply = NULL;
    jm_error err = {0};
    int more = 1;

    for (int i = 0; i < n; i++)
        assert_true(
            zmq_send(s, frames[i], sizes[i], i + 1 < n ? ZMQ_SNDMORE : 0) >= 0);
    zmq_msg_init(&part);
    while (more) {
        if (zmq_msg_recv(&part, s, 0) < 0) {
            zmq_msg_close(&part);
            return NULL;
        }
        more = zmq_msg_more(&part);
    }
    assert_int_equal(jm_msg_unpack(&reply, &jobmatch__v1__reply__descriptor,
                                   zmq_msg_data(&part), zmq_msg_size(&part),
                                   64 << 20, &err),
                     0);
    zmq_msg_close(&part);
    uv_run(&H->loop, UV_RUN_NOWAIT);
    return reply;
}

static jm_msg_t *
send_one(const void *data, size_t size)
{
    void *s = raw_socket(ZMQ_DEALER);
    const void *frames[1] = {data};
    jm_msg_t *reply = exchange(s, frames, &size, 1);

    zmq_close(s);
    return reply;
}

/* The reply must be an Error with code (and path, if not NULL). */
static void
expect(jm_msg_t *msg, int code, const char *path, const char *what)
{
    const Jobmatch__V1__Reply *r;

    if (msg == NULL)
        fail_msg("%s: no reply", what);
    r = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if (r->body_case != JOBMATCH__V1__REPLY__BODY_ERROR)
        fail_msg("%s: not an error (body %d)", what, r->body_case);
    if ((int) r->error->code != code)
        fail_msg("%s: code %s, expected %s (%s)", what,
                 jm_error_code_name(r->error->code), jm_error_code_name(code),
                 r->error->message);
    if (path != NULL && strcmp(r->error->field_path, path) != 0)
        fail_msg("%s: path '%s', expected '%s'", what, r->error->field_path,
                 path);
    assert_true(r->error->message[0] != '\0');
    jm_msg_free(&msg);
}

/* ---- building requests ---- */

static uint8_t rid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

/* A packed SubmitOrder request of o. Caller frees. */
static uint8_t *
pack_submit(Jobmatch__V1__JobOrder *o, size_t *size)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    uint8_t *data = NULL;

    body.order = o;
    req.request_id.data = rid;
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &body;
    jm_msg_pack(&req.base, &data, size);
    return data;
}

/* The 18 bytes of field 1 (request_id) followed by extra. */
static size_t
with_rid(uint8_t *out, const uint8_t *extra, size_t n)
{
    out[0] = 0x0a;
    out[1] = 16;
    memcpy(out + 2, rid, 16);
    if (n > 0)
        memcpy(out + 18, extra, n);
    return 18 + n;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
    struct hostile *h = jm_xcalloc(1, sizeof(*h));
    char data[300], log_path[300], max[32];
    const char *argv[10];
    const Jobmatch__V1__Reply *r;
    it_order o;

    H = h;
    jm_test_tmpdir(h->dir, sizeof(h->dir));
    assert_int_equal(uv_loop_init(&h->loop), 0);
    snprintf(data, sizeof(data), "%s/data", h->dir);
    snprintf(log_path, sizeof(log_path), "%s/intake.log", h->dir);
    snprintf(max, sizeof(max), "%d", MAX_REQUEST);
    argv[0] = intake_binary;
    argv[1] = "--data-dir";
    argv[2] = data;
    argv[3] = "--api";
    argv[4] = "tcp://127.0.0.1:*";
    argv[5] = "--max-request-size";
    argv[6] = max;
    argv[7] = NULL;
    assert_int_equal(jm_proc_start(&h->proc, &h->loop, argv, log_path, 30000),
                     0);
    snprintf(h->api, sizeof(h->api), "%s", jm_proc_endpoint(h->proc, "api"));
    h->ctx = zmq_ctx_new();
    assert_non_null(h->ctx);
    h->good = it_client_new(&h->loop, h->api, 5000);
    /* One order that must come through all of it unchanged. */
    it_order_init(&o, "161", NULL);
    r = it_submit(h->good, &o.order, NULL);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    snprintf(h->order_id, sizeof(h->order_id), "%s", r->accepted->id);
    r = it_get(h->good, h->order_id);
    jm_msg_pack(&r->order->base, &h->order_before, &h->order_before_size);
    *state = h;
    return 0;
}

/* The service is up and nothing changed. */
static void
assert_unchanged(struct hostile *h)
{
    const Jobmatch__V1__Reply *r;
    uint8_t *now = NULL;
    size_t size = 0;

    assert_int_equal(it_head(h->good), 1);
    assert_int_equal(it_order_count(h->good), 1);
    r = it_get(h->good, h->order_id);
    jm_msg_pack(&r->order->base, &now, &size);
    assert_int_equal(size, h->order_before_size);
    assert_memory_equal(now, h->order_before, size);
    free(now);
}

static int
teardown(void **state)
{
    struct hostile *h = *state;
    int status;

    assert_unchanged(h);
    status = jm_proc_signal_wait(h->proc, SIGTERM, 10000);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    it_client_destroy(&h->good);
    zmq_ctx_term(h->ctx);
    jm_proc_destroy(&h->proc);
    jm_test_close_loop(&h->loop, 5000);
    jm_test_rmtree(h->dir);
    free(h->order_before);
    free(h);
    return 0;
}

/* ---- the cases ---- */

static void
test_garbage_frames(void **state)
{
    struct hostile *h = *state;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
    void *s = raw_socket(ZMQ_DEALER);
    const void *three[3] = {"a", "b", "c"};
    size_t three_sizes[3] = {1, 1, 1};
    const void *two[2] = {"x", junk};
    size_t two_sizes[2] = {1, sizeof(junk)};

    expect(send_one(junk, sizeof(junk)), JM_E_MALFORMED, NULL, "junk");
    /* [id, a, b, c] and [id, "x", body]: not an envelope's frames. */
    expect(exchange(s, three, three_sizes, 3), JM_E_MALFORMED, "",
           "three frames");
    expect(exchange(s, two, two_sizes, 2), JM_E_MALFORMED, "",
           "a non-empty delimiter");
    /* An empty frame decodes as an empty Request: no request id. */
    expect(send_one("", 0), JM_E_INVALID_FIELD, "request_id", "empty frame");
    zmq_close(s);
    for (int i = 0; i < 50; i++) {
        uint8_t random[256];

        jm_test_random(random, sizeof(random));
        random[0] = 0xff; /* never a valid start: field 31, wire type 7 */
        expect(send_one(random, sizeof(random)), JM_E_MALFORMED, NULL,
               "random bytes");
    }
    assert_unchanged(h);
}

static void
test_oversized(void **state)
{
    struct hostile *h = *state;
    size_t size = MAX_REQUEST + 1;
    uint8_t *big = jm_xcalloc(1, size);
    jm_msg_t *reply;
    const Jobmatch__V1__Reply *r;

    /* The request id leads, so the error can name it. */
    with_rid(big, (const uint8_t *) "", 0);
    reply = send_one(big, size);
    assert_non_null(reply);
    r = (const Jobmatch__V1__Reply *) jm_msg_get(reply);
    assert_int_equal(r->request_id.len, 16);
    assert_memory_equal(r->request_id.data, rid, 16);
    expect(reply, JM_E_TOO_LARGE, "", "one byte over the limit");
    free(big);
    assert_unchanged(h);
}

/* Above the transport cap (64 MiB), libzmq drops the connection and
 * nothing can answer; the service must simply go on. */
static void
test_above_transport_cap(void **state)
{
    struct hostile *h = *state;
    size_t size = (64u << 20) + 1024;
    uint8_t *huge = jm_xcalloc(1, size);
    void *s = raw_socket(ZMQ_DEALER);
    int timeout = 1000;
    const void *frames[1] = {huge};

    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    assert_null(exchange(s, frames, &size, 1));
    zmq_close(s);
    free(huge);
    assert_unchanged(h);
}

static void
test_wrong_wire_types(void **state)
{
    struct hostile *h = *state;
    static const uint8_t rid_varint[] = {0x08, 0x01};
    static const uint8_t body_varint[] = {0x52 & ~0x07, 0x01}; /* 10, varint */
    /* submit_order { order = fixed32 } */
    static const uint8_t order_fixed[] = {0x52, 0x05, 0x0d, 1, 2, 3, 4};
    /* submit_order { order { positions = "string" } } */
    static const uint8_t positions_bytes[] = {0x52, 0x05, 0x0a, 0x03,
                                              0x82, 0x01, 0x00};
    uint8_t buf[64];
    uint8_t *valid;
    size_t size;
    it_order o;

    expect(send_one(rid_varint, sizeof(rid_varint)), JM_E_MALFORMED, NULL,
           "request_id as varint");
    expect(send_one(buf, with_rid(buf, body_varint, sizeof(body_varint))),
           JM_E_MALFORMED, NULL, "body as varint");
    expect(send_one(buf, with_rid(buf, order_fixed, sizeof(order_fixed))),
           JM_E_MALFORMED, NULL, "order as fixed32");
    expect(
        send_one(buf, with_rid(buf, positions_bytes, sizeof(positions_bytes))),
        JM_E_MALFORMED, NULL, "positions as bytes");
    /* A valid request cut short. */
    it_order_init(&o, "161", NULL);
    valid = pack_submit(&o.order, &size);
    for (size_t cut = 19; cut < size; cut += 37)
        expect(send_one(valid, cut), JM_E_MALFORMED, NULL, "truncated");
    free(valid);
    assert_unchanged(h);
}

static void
test_unknown_bodies(void **state)
{
    struct hostile *h = *state;
    static const uint8_t unknown[] = {0xc2, 0x0c, 0x00}; /* field 200, "" */
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProfile gp = JOBMATCH__V1__GET_PROFILE__INIT;
    uint8_t buf[64], *data = NULL;
    size_t size;

    expect(send_one(buf, with_rid(buf, unknown, sizeof(unknown))),
           JM_E_UNSUPPORTED, NULL, "a body of a newer client");
    expect(send_one(buf, with_rid(buf, NULL, 0)), JM_E_MALFORMED, NULL,
           "no body");
    /* Another service's body. */
    req.request_id.data = rid;
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROFILE;
    req.get_profile = &gp;
    gp.profile_id = "p-1";
    jm_msg_pack(&req.base, &data, &size);
    expect(send_one(data, size), JM_E_UNSUPPORTED, NULL, "a profiles body");
    free(data);
    assert_unchanged(h);
}

/* Packs o, applies edit to the bytes, sends, expects code at path. */
static void
send_edited(Jobmatch__V1__JobOrder *o, const char *marker, uint8_t value,
            int code, const char *path, const char *what)
{
    size_t size;
    uint8_t *data = pack_submit(o, &size);

    if (marker != NULL) {
        size_t n = strlen(marker), at = 0;

        while (at + n <= size && memcmp(data + at, marker, n) != 0)
            at++;
        assert_true(at + n <= size);
        data[at] = value;
    }
    expect(send_one(data, size), code, path, what);
    free(data);
}

static void
test_invalid_fields(void **state)
{
    struct hostile *h = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    uint8_t short_id[8] = {0}, *data = NULL;
    size_t size;
    it_order o;

    req.request_id.data = short_id;
    req.request_id.len = sizeof(short_id);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    jm_msg_pack(&req.base, &data, &size);
    expect(send_one(data, size), JM_E_INVALID_FIELD, "request_id",
           "an 8-byte request id");
    free(data);

    it_order_init(&o, "161", NULL);
    o.order.title = "Lager@@medarbejder";
    send_edited(&o.order, "@@", 0xc3, JM_E_INVALID_FIELD,
                "submit_order.order.title", "not UTF-8");
    send_edited(&o.order, "@@", 0x00, JM_E_INVALID_FIELD,
                "submit_order.order.title", "an embedded NUL");
    it_order_init(&o, "161", NULL);
    o.order.kind = (Jobmatch__V1__JobKind) 99;
    send_edited(&o.order, NULL, 0, JM_E_INVALID_FIELD,
                "submit_order.order.kind", "an unknown enum value");
    it_order_init(&o, "161", NULL);
    o.order.cvr = "35610007";
    send_edited(&o.order, NULL, 0, JM_E_INVALID_FIELD, "submit_order.order.cvr",
                "a CVR failing modulus 11");
    it_order_init(&o, "161", NULL);
    o.order.deadline = "2001-01-01";
    send_edited(&o.order, NULL, 0, JM_E_INVALID_FIELD,
                "submit_order.order.deadline", "a deadline in the past");
    it_order_init(&o, "161", NULL);
    o.order.version = 7;
    send_edited(&o.order, NULL, 0, JM_E_INVALID_FIELD,
                "submit_order.order.version", "a service field");
    assert_unchanged(h);
}

/* Empty sub-messages cost ~50 times their wire size once unpacked: the
 * decoder's cap turns that into TOO_LARGE, not an allocation storm. */
static void
test_amplification(void **state)
{
    struct hostile *h = *state;
    size_t n = (MAX_REQUEST - 64) / 2, len = 2 * n, size = 0;
    uint8_t *buf = jm_xmalloc(MAX_REQUEST);
    uint8_t body[16];
    size_t b = 0;

    /* submit_order (10) { order (1) { essential_skills (11) {} x n } } */
    body[b++] = 0x52;
    body[b++] = (uint8_t) (0x80 | ((len + 4) & 0x7f));
    body[b++] = (uint8_t) (0x80 | (((len + 4) >> 7) & 0x7f));
    body[b++] = (uint8_t) ((len + 4) >> 14);
    body[b++] = 0x0a;
    body[b++] = (uint8_t) (0x80 | (len & 0x7f));
    body[b++] = (uint8_t) (0x80 | ((len >> 7) & 0x7f));
    body[b++] = (uint8_t) (len >> 14);
    size = with_rid(buf, body, b);
    for (size_t i = 0; i < n; i++) {
        buf[size++] = 0x5a;
        buf[size++] = 0x00;
    }
    assert_true(size <= MAX_REQUEST);
    expect(send_one(buf, size), JM_E_TOO_LARGE, NULL, "amplification");
    free(buf);
    assert_unchanged(h);
}

/* A REQ client: its empty delimiter frame is accepted and echoed. */
static void
test_req_socket(void **state)
{
    struct hostile *h = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    uint8_t *data = NULL;
    size_t size;
    void *s = raw_socket(ZMQ_REQ);
    const void *frames[1];
    jm_msg_t *reply;

    req.request_id.data = rid;
    req.request_id.len = 16;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    jm_msg_pack(&req.base, &data, &size);
    frames[0] = data;
    reply = exchange(s, frames, &size, 1);
    assert_non_null(reply);
    assert_int_equal(
        ((const Jobmatch__V1__Reply *) jm_msg_get(reply))->body_case,
        JOBMATCH__V1__REPLY__BODY_PONG);
    jm_msg_free(&reply);
    frames[0] = "\xff\xff";
    size = 2;
    expect(exchange(s, frames, &size, 1), JM_E_MALFORMED, NULL,
           "garbage on REQ");
    zmq_close(s);
    free(data);
    assert_unchanged(h);
}

int
main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_frames),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_above_transport_cap),
        cmocka_unit_test(test_wrong_wire_types),
        cmocka_unit_test(test_unknown_bodies),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_amplification),
        cmocka_unit_test(test_req_socket),
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH_TO_JOBMATCH_INTAKE\n", argv[0]);
        return 2;
    }
    intake_binary = argv[1];
    /* One service for all cases: it must survive every one of them. */
    return cmocka_run_group_tests(tests, setup, teardown);
}
