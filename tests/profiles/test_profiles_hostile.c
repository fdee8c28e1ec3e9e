/* test_profiles_hostile.c - the real jobmatch-profiles binary fed hostile
 * frames on a raw DEALER: garbage, an oversized frame, wrong wire types,
 * an unknown body, another service's body, a bad request id, a bomb of
 * empty sub-messages, and well-formed requests with invalid fields (a bad
 * CPR number, a name that is not UTF-8, an unknown enum value, a job kind
 * the target group may not take). Each gets the error code the protocol
 * names (docs/protocol.md, validation order) with its field path; the
 * service keeps answering; the store is unchanged (same head seq, the
 * citizen put before still at version 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/msg.h"
#include "jm_proc.h"
#include "profiles_test_support.h"

#define MAX_REQUEST 65536

struct raw {
    struct pt t; /* t.loop, t.bus, t.clients[0]: a well-behaved client */
    jm_proc_t *proc;
    jm_sock_t *dealer;
    uint8_t *reply; /* the last reply frame */
    size_t reply_size;
    bool got;
    unsigned answered; /* hostile frames answered as expected */
    bool finished;
};

static void
on_raw(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    struct raw *r = arg;

    (void) sock;
    free(r->reply);
    r->reply = malloc(m->size + 1);
    memcpy(r->reply, m->data, m->size);
    r->reply_size = m->size;
    r->got = true;
}

static bool
got_reply(void *arg)
{
    return ((struct raw *) arg)->got;
}

/* Sends bytes as one frame and expects an Error with code and path. */
static void
expect_error(struct raw *r, const void *data, size_t size, int code,
             const char *path, const char *what)
{
    jm_msg_t *msg = NULL;
    jm_error err = {0};
    const Jobmatch__V1__Reply *reply;

    r->got = false;
    assert_int_equal(jm_sock_send(r->dealer, NULL, data, size), 0);
    if (!jm_test_run_until(&r->t.loop, got_reply, r, 10000))
        fail_msg("%s: no reply", what);
    assert_int_equal(jm_msg_unpack(&msg, &jobmatch__v1__reply__descriptor,
                                   r->reply, r->reply_size, r->reply_size + 1,
                                   &err),
                     0);
    reply = pt_reply(msg);
    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ERROR)
        fail_msg("%s: expected an error, got body %d", what, reply->body_case);
    if ((int) reply->error->code != code ||
        (path != NULL && strcmp(reply->error->field_path, path) != 0))
        fail_msg("%s: expected %s %s, got %s %s: %s", what,
                 jm_error_code_name(code), path ? path : "",
                 jm_error_code_name(reply->error->code),
                 reply->error->field_path, reply->error->message);
    jm_msg_free(&msg);
    r->answered++;
}

/* A packed Request around a PutProfile (request id set). */
static uint8_t *
pack_put(struct pt_put *p, size_t *size)
{
    static uint8_t rid[16] = {7, 7, 7};
    uint8_t *data = NULL;

    p->req.request_id.data = rid;
    p->req.request_id.len = 16;
    jm_msg_pack(&p->req.base, &data, size);
    return data;
}

/* Appends a varint. */
static size_t
varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;

    do {
        out[n] = (uint8_t) (v & 0x7f);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

static uint64_t
head_and_check_alive(struct raw *r)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    jm_msg_t *msg;
    uint64_t head;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    msg = pt_call(&r->t, "local", &req, NULL, NULL);
    assert_int_equal(pt_reply(msg)->body_case, JOBMATCH__V1__REPLY__BODY_PONG);
    head = pt_reply(msg)->pong->head_seq;
    jm_msg_free(&msg);
    return head;
}

static void
hostile_frames(struct raw *r)
{
    static const uint8_t rid_field[18] = {0x0a, 16, 1,  2,  3,  4,  5,  6,  7,
                                          8,    9,  10, 11, 12, 13, 14, 15, 16};
    uint8_t buf[256], *data, *big;
    size_t n, size;
    struct pt_put p;

    /* Not protobuf at all. */
    expect_error(r, "\xff\xff\xff\xff garbage", 12, JM_E_MALFORMED, NULL,
                 "garbage");
    /* Truncated: a length running past the end. */
    memcpy(buf, rid_field, 18);
    buf[18] = 0xf2; /* field 30 (put_profile), wire type 2 */
    buf[19] = 0x01;
    buf[20] = 100; /* 100 bytes promised, none there */
    expect_error(r, buf, 21, JM_E_MALFORMED, NULL, "truncated");
    /* Wrong wire types: request_id as a varint; put_profile as a varint. */
    buf[0] = 0x08;
    buf[1] = 5;
    expect_error(r, buf, 2, JM_E_MALFORMED, NULL, "request_id as varint");
    memcpy(buf, rid_field, 18);
    buf[18] = 0xf0; /* field 30, wire type 0 */
    buf[19] = 0x01;
    buf[20] = 1;
    expect_error(r, buf, 21, JM_E_MALFORMED, NULL, "put_profile as varint");
    /* The request id must be 16 bytes. */
    buf[0] = 0x0a;
    buf[1] = 3;
    buf[2] = buf[3] = buf[4] = 1;
    expect_error(r, buf, 5, JM_E_INVALID_FIELD, "request_id",
                 "3-byte request id");
    expect_error(r, "", 0, JM_E_INVALID_FIELD, "request_id", "empty frame");
    /* A body this build does not know (field 89, length-delimited). */
    memcpy(buf, rid_field, 18);
    n = 18 + varint(buf + 18, (89 << 3) | 2);
    buf[n++] = 2;
    buf[n++] = 0x08;
    buf[n++] = 0x01;
    expect_error(r, buf, n, JM_E_UNSUPPORTED, NULL, "unknown body");
    /* Another service's body (intake's GetOrder). */
    memcpy(buf, rid_field, 18);
    n = 18 + varint(buf + 18, (14 << 3) | 2);
    buf[n++] = 5;
    buf[n++] = 0x0a;
    buf[n++] = 3;
    memcpy(buf + n, "o-1", 3);
    n += 3;
    expect_error(r, buf, n, JM_E_UNSUPPORTED, NULL, "intake body");

    /* Too large: a name of 100 KB, over the 64 KiB limit. */
    big = malloc(100000);
    memset(big, 'a', 99999);
    big[99999] = '\0';
    pt_put_init(&p, "010190-1234", (char *) big, NULL);
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_TOO_LARGE, NULL, "oversized");
    free(data);
    free(big);
    /* Amplification: 20,000 empty skills (2 bytes each on the wire, a
     * struct and a pointer each once unpacked). */
    big = malloc(60000);
    memcpy(big, rid_field, 18);
    n = 18 + varint(big + 18, (30 << 3) | 2);
    {
        /* put_profile { profile (2) { skills (10) x 20000 } } */
        size_t inner = 20000 * 2, lenlen;
        uint8_t tmp[10];

        lenlen = varint(tmp, inner);
        n += varint(big + n, 1 + lenlen + inner);
        big[n++] = 0x12; /* profile */
        n += varint(big + n, inner);
        for (size_t i = 0; i < 20000; i++) {
            big[n++] = 0x52; /* skills, field 10 */
            big[n++] = 0x00;
        }
    }
    expect_error(r, big, n, JM_E_TOO_LARGE, NULL, "empty sub-message bomb");
    free(big);

    /* Well-formed requests with invalid fields. */
    pt_put_init(&p, "321390-1234", "Anders", NULL);
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_INVALID_FIELD, "put_profile.personal.cpr",
                 "bad CPR");
    free(data);
    pt_put_init(&p, "010190-1234", "Anders \xc3\x28", NULL);
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_INVALID_FIELD, "put_profile.personal.name",
                 "name not UTF-8");
    free(data);
    pt_put_init(&p, "010190-1234",
                "An\x01"
                "ders",
                NULL);
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_INVALID_FIELD, "put_profile.personal.name",
                 "control character");
    free(data);
    pt_put_init(&p, "010190-1234", "Anders", NULL);
    p.kinds[0] = (Jobmatch__V1__JobKind) 99;
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_INVALID_FIELD,
                 "put_profile.profile.job_kinds[0]", "unknown enum value");
    free(data);
    pt_put_init(&p, "010190-1234", "Anders", NULL);
    p.kinds[0] = JOBMATCH__V1__JOB_KIND__JOB_KIND_FLEX_JOB;
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_INVALID_FIELD,
                 "put_profile.profile.job_kinds[0]", "kind not allowed");
    free(data);
    pt_put_init(&p, "010190-1234", "Anders", NULL);
    p.profile.version = 9;
    data = pack_put(&p, &size);
    expect_error(r, data, size, JM_E_INVALID_FIELD,
                 "put_profile.profile.version", "service field set");
    free(data);
}

static void
test_hostile_input_is_answered_and_changes_nothing(void **state)
{
    struct raw *r = *state;
    jm_sock_opts opts = {.queue_while_connecting = true};
    jm_rpc_client_opts copts = {.timeout_ms = 10000, .tries = 1};
    char data_dir[320], log_path[320], max[16];
    const char *argv[10], *ep;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    uint64_t head;
    jm_msg_t *msg;

    jm_log_set_level(JM_LOG_ERR);
    jm_test_tmpdir(r->t.dir, sizeof(r->t.dir));
    snprintf(data_dir, sizeof(data_dir), "%s/data", r->t.dir);
    snprintf(log_path, sizeof(log_path), "%s/profiles.log", r->t.dir);
    snprintf(max, sizeof(max), "%d", MAX_REQUEST);
    argv[0] = PROFILES_BIN;
    argv[1] = "--data-dir";
    argv[2] = data_dir;
    argv[3] = "--api";
    argv[4] = "tcp://127.0.0.1:*";
    argv[5] = "--max-request-size";
    argv[6] = max;
    argv[7] = NULL;
    assert_int_equal(uv_loop_init(&r->t.loop), 0);
    assert_int_equal(jm_proc_start(&r->proc, &r->t.loop, argv, log_path, 20000),
                     0);
    ep = jm_proc_endpoint(r->proc, "api");
    assert_non_null(ep);
    assert_int_equal(jm_bus_new(&r->t.bus, &r->t.loop), 0);
    r->t.clients[0].principal = "local";
    r->t.n_clients = 1;
    assert_int_equal(
        jm_rpc_client_new(&r->t.clients[0].rpc, r->t.bus, &ep, 1, &copts), 0);
    assert_int_equal(
        jm_sock_new(&r->dealer, r->t.bus, JM_SOCK_DEALER, &opts, on_raw, r), 0);
    assert_int_equal(jm_sock_connect(r->dealer, ep), 0);

    /* One citizen before: the store must look the same afterwards. */
    pt_put_init(&p, "010190-1234", "Anders Testesen", NULL);
    assert_int_equal(pt_put_ok(&r->t, "local", &p, id), 1);
    head = head_and_check_alive(r);

    hostile_frames(r);
    printf("# %u hostile frames answered with the expected error\n",
           r->answered);
    assert_int_equal(r->answered, 16);

    assert_int_equal(head_and_check_alive(r), head);
    {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;

        get.profile_id = id;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROFILE;
        req.get_profile = &get;
        msg = pt_call(&r->t, "local", &req, NULL, NULL);
        assert_int_equal(pt_reply(msg)->body_case,
                         JOBMATCH__V1__REPLY__BODY_PROFILE);
        assert_int_equal(pt_reply(msg)->profile->profile->version, 1);
        assert_string_equal(pt_reply(msg)->profile->personal->name,
                            "Anders Testesen");
        jm_msg_free(&msg);
    }
    /* Still serving writes. */
    pt_put_init(&p, "020290-1234", "Bente Testesen", NULL);
    assert_int_equal(pt_put_ok(&r->t, "local", &p, NULL), head + 1);

    jm_sock_close(&r->dealer);
    pt_stop_binary(&r->t, &r->proc);
    r->finished = true;
}

static int
setup(void **state)
{
    *state = calloc(1, sizeof(struct raw));
    return 0;
}

static int
teardown(void **state)
{
    struct raw *r = *state;

    pt_kill_unfinished(r->proc, r->finished);
    free(r->reply);
    free(r);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_hostile_input_is_answered_and_changes_nothing, setup,
            teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
