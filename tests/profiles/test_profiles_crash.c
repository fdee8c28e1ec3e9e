/* test_profiles_crash.c - the real jobmatch-profiles binary killed with
 * SIGKILL at random moments while several clients put thousands of new
 * citizens, and restarted each time on the same data directory.
 *
 * Every put has its own request id, kept across resends: a put whose
 * reply was lost in a kill is sent again with the same id until some
 * answer comes (Accepted, fresh or marked duplicate). Afterwards:
 *   - every acknowledged put is in the store, with the id and seq it was
 *     acknowledged with, and its personal data still opens (the citizen's
 *     key was durable before the commit that referenced it);
 *   - the log's seqs are 1..head without a gap, and every citizen was
 *     created exactly once (one CREATED event per CPR number);
 *   - sending the same request ids again gives "duplicate" with the first
 *     seq, and the head does not move.
 * The service runs on an ipc:// endpoint, which survives restarts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/msg.h"
#include "jm_proc.h"
#include "profiles_test_support.h"

#define PUTS     3000
#define CLIENTS  4
#define WINDOW   24 /* puts in flight per client */
#define KILLS    6
#define DEADLINE 240000

struct item {
    uint8_t rid[16];
    char cpr[12];
    char name[32];
    bool acked;
    bool in_flight;
    char id[PROFILES_ID_LEN + 1];
    uint64_t seq;
};

struct run {
    struct pt t; /* t.loop, t.bus, and t.clients[0]: the checking client */
    char data[300], api[320], log_path[320];
    jm_proc_t *proc;
    jm_rpc_client_t *clients[CLIENTS];
    struct item *items;
    size_t next;       /* next item never sent */
    size_t acked;      /* items acknowledged */
    size_t duplicates; /* acks marked duplicate: replies lost in a kill */
    int kills;
    size_t next_kill_at;
    uv_timer_t killer;
    bool finished;
};

struct call {
    struct run *run;
    size_t item;
    int client;
};

static void send_item(struct run *r, int client, size_t index);

static void
on_put(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct call *c = arg;
    struct run *r = c->run;
    struct item *it = &r->items[c->item];

    if (status == -ECANCELED) { /* the client is closing */
        free(c);
        return;
    }
    if (status == 0 && reply->body_case == JOBMATCH__V1__REPLY__BODY_ACCEPTED) {
        assert_false(it->acked);
        it->acked = true;
        it->in_flight = false;
        snprintf(it->id, sizeof(it->id), "%s", reply->accepted->id);
        it->seq = reply->accepted->seq;
        r->acked++;
        r->duplicates += reply->duplicate;
        /* Keep the window full with new puts. */
        if (r->next < PUTS)
            send_item(r, c->client, r->next++);
    } else if (status == 0 && reply->error->code != JM_E_UNAVAILABLE) {
        fail_msg("put %zu refused: %s %s: %s", c->item,
                 jm_error_code_name(reply->error->code),
                 reply->error->field_path, reply->error->message);
    } else {
        /* Timed out (killed before it answered) or UNAVAILABLE (killed
         * while stopping): the same request id again. */
        send_item(r, c->client, c->item);
    }
    free(c);
}

static void
send_item(struct run *r, int client, size_t index)
{
    struct item *it = &r->items[index];
    struct call *c = calloc(1, sizeof(*c));
    struct pt_put p;

    c->run = r;
    c->item = index;
    c->client = client;
    pt_put_init(&p, it->cpr, it->name, NULL);
    p.req.request_id.data = it->rid;
    p.req.request_id.len = 16;
    it->in_flight = true;
    assert_int_equal(jm_rpc_client_call(r->clients[client], &p.req, on_put, c),
                     0);
}

/* Kills after a random number of acknowledgements, so that each kill
 * lands in the middle of the traffic. */
static void
on_killer(uv_timer_t *timer)
{
    struct run *r = timer->data;
    uint32_t random;

    if (r->kills >= KILLS || r->acked < r->next_kill_at)
        return;
    assert_int_equal(jm_proc_restart(r->proc, 20000), 0);
    r->kills++;
    jm_test_random(&random, sizeof(random));
    /* Spacing below (PUTS - 200) / KILLS keeps every kill before the
     * last put is acknowledged. */
    r->next_kill_at = r->acked + 100 + random % ((PUTS - 200) / KILLS - 100);
}

static bool
all_acked(void *arg)
{
    struct run *r = arg;

    return r->acked == PUTS && r->kills >= KILLS;
}

static void
start_clients(struct run *r)
{
    const char *ep = r->api;
    jm_rpc_client_opts opts = {.timeout_ms = 1500, .tries = 1};
    jm_rpc_client_opts checker = {.timeout_ms = 10000, .tries = 1};

    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(
            jm_rpc_client_new(&r->clients[i], r->t.bus, &ep, 1, &opts), 0);
    r->t.clients[0].principal = "local";
    assert_int_equal(
        jm_rpc_client_new(&r->t.clients[0].rpc, r->t.bus, &ep, 1, &checker), 0);
    r->t.n_clients = 1;
}

/* ---- verification ---- */

struct created {
    struct run *run;
    uint64_t *seq_of_item; /* the CREATED event's seq, per item */
    size_t created;
};

static void
on_event(const Jobmatch__V1__Event *event, void *arg)
{
    struct created *c = arg;
    const char *id;

    assert_int_equal(event->body_case,
                     JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED);
    assert_int_equal(event->profile_changed->change,
                     JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED);
    c->created++;
    id = event->profile_changed->profile->id;
    for (size_t i = 0; i < PUTS; i++) {
        if (strcmp(c->run->items[i].id, id) == 0) {
            assert_int_equal(c->seq_of_item[i], 0); /* created once */
            c->seq_of_item[i] = event->seq;
        }
    }
}

static uint64_t
ping_head(struct run *r)
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
verify(struct run *r)
{
    struct created created = {r, calloc(PUTS, sizeof(uint64_t)), 0};
    uint64_t head;

    /* The log: 1..head without gaps (pt_replay_log checks), one CREATED
     * per citizen, at the seq each put was acknowledged with. */
    head = pt_replay_log(&r->t, "local", on_event, NULL, &created);
    assert_int_equal(head, PUTS);
    assert_int_equal(created.created, PUTS);
    for (size_t i = 0; i < PUTS; i++) {
        assert_true(r->items[i].acked);
        assert_int_equal(created.seq_of_item[i], r->items[i].seq);
    }
    free(created.seq_of_item);

    /* Every citizen is there, and its personal data opens: its key was
     * on disk before the commit that pointed at it. */
    for (size_t i = 0; i < PUTS; i++) {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;
        const Jobmatch__V1__Reply *reply;
        jm_msg_t *msg;

        get.profile_id = r->items[i].id;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROFILE;
        req.get_profile = &get;
        msg = pt_call(&r->t, "local", &req, NULL, NULL);
        reply = pt_reply(msg);
        if (reply->body_case != JOBMATCH__V1__REPLY__BODY_PROFILE)
            fail_msg("acknowledged put %zu (%s) is missing: %s", i,
                     r->items[i].id, reply->error->message);
        assert_non_null(reply->profile->personal);
        assert_string_equal(reply->profile->personal->name, r->items[i].name);
        jm_msg_free(&msg);
    }

    /* The same request ids again: the first answers, marked duplicate,
     * and not one new seq. */
    for (size_t i = 0; i < PUTS; i += 7) {
        struct pt_put p;
        const Jobmatch__V1__Reply *reply;
        jm_msg_t *msg;

        pt_put_init(&p, r->items[i].cpr, r->items[i].name, NULL);
        p.req.request_id.data = r->items[i].rid;
        p.req.request_id.len = 16;
        msg = pt_call(&r->t, "local", &p.req, NULL, NULL);
        reply = pt_reply(msg);
        assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
        assert_true(reply->duplicate);
        assert_string_equal(reply->accepted->id, r->items[i].id);
        assert_int_equal(reply->accepted->seq, r->items[i].seq);
        jm_msg_free(&msg);
    }
    assert_int_equal(ping_head(r), PUTS);
}

static void
test_sigkill_loses_no_acknowledged_put(void **state)
{
    struct run *r = *state;
    const char *argv[8];

    jm_log_set_level(JM_LOG_ERR);
    r->items = calloc(PUTS, sizeof(*r->items));
    for (size_t i = 0; i < PUTS; i++) {
        struct item *it = &r->items[i];

        jm_test_random(it->rid, sizeof(it->rid));
        /* Distinct valid CPR numbers: serials 1000-3999 (1900s). */
        snprintf(it->cpr, sizeof(it->cpr), "%02zu%02zu%02zu-%04zu", 1 + i % 28,
                 1 + (i / 28) % 12, 40 + (i / 336) % 50, 1000 + i);
        snprintf(it->name, sizeof(it->name), "Borger %zu", i);
    }
    jm_test_tmpdir(r->t.dir, sizeof(r->t.dir));
    snprintf(r->data, sizeof(r->data), "%s/data", r->t.dir);
    snprintf(r->api, sizeof(r->api), "ipc://%s/api.sock", r->t.dir);
    snprintf(r->log_path, sizeof(r->log_path), "%s/profiles.log", r->t.dir);
    argv[0] = PROFILES_BIN;
    argv[1] = "--data-dir";
    argv[2] = r->data;
    argv[3] = "--api";
    argv[4] = r->api;
    argv[5] = "--log-level";
    argv[6] = "warn";
    argv[7] = NULL;
    assert_int_equal(uv_loop_init(&r->t.loop), 0);
    assert_int_equal(
        jm_proc_start(&r->proc, &r->t.loop, argv, r->log_path, 20000), 0);
    assert_int_equal(jm_bus_new(&r->t.bus, &r->t.loop), 0);
    start_clients(r);

    r->next_kill_at = 100;
    uv_timer_init(&r->t.loop, &r->killer);
    r->killer.data = r;
    uv_timer_start(&r->killer, on_killer, 5, 5);
    for (int c = 0; c < CLIENTS; c++) {
        for (int w = 0; w < WINDOW; w++)
            send_item(r, c, r->next++);
    }
    assert_true(jm_test_run_until(&r->t.loop, all_acked, r, DEADLINE));
    uv_timer_stop(&r->killer);
    printf("# %zu puts acknowledged through %d kills (%zu answered as "
           "duplicates of a lost reply)\n",
           r->acked, r->kills, r->duplicates);

    verify(r);
    /* And once more after a last kill: nothing acknowledged goes. */
    assert_int_equal(jm_proc_restart(r->proc, 20000), 0);
    verify(r);

    uv_close((uv_handle_t *) &r->killer, NULL);
    for (int c = 0; c < CLIENTS; c++)
        jm_rpc_client_destroy(&r->clients[c]);
    pt_stop_binary(&r->t, &r->proc);
    r->finished = true;
}

static int
setup(void **state)
{
    *state = calloc(1, sizeof(struct run));
    return 0;
}

static int
teardown(void **state)
{
    struct run *r = *state;

    pt_kill_unfinished(r->proc, r->finished);
    free(r->items);
    free(r);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigkill_loses_no_acknowledged_put,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
