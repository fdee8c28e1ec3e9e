/* test_follower_sources.c - a follower against sources that are not
 * plain: a log served on an endpoint of its own (its Pong is the api's, and
 * a Pong's head alone never makes a snapshot), a CURVE source that is
 * silent (the follower says why), and a source that refuses the follower's
 * key (not connected while it answers with an error). The toy source and
 * the fixture: follower_test_support.h. */
#include "follower_test_support.h"

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
        write_one_and_catch_up(f, &u, 100 + i);
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
        write_one_and_catch_up(f, &u, 100 + i);
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
    curve_source(f, source_public, source_secret, allow);
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
    curve_source(f, source_public, source_secret, allow);
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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_follower_keeps_its_view_when_only_a_pong_says_the_log_went_back,
            setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_of_a_separate_log_endpoint_keeps_its_view, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_says_why_a_curve_source_is_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_refused_after_a_reload_is_not_connected, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_follower_refused_stays_not_connected, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
