/* test_matcher_server.c - the matcher service in-process, following two
 * toy sources (an intake and a profiles stand-in built on jm_source) over
 * real sockets:
 *   - the pair of docs/examples makes a shortlist of one, explained;
 *   - a ShortlistChanged notification follows a change within the loop;
 *   - a closed order and an erased citizen disappear;
 *   - a restarted matcher answers as before, from its own store, before
 *     it has heard from its sources again;
 *   - two matchers on the same sources give byte-identical answers;
 *   - bodies it does not serve and bad fields get the right error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/json.h"
#include "jm/log.h"
#include "jm/rpc.h"
#include "jm_test.h"
#include "matcher_config.h"
#include "matcher_live.h"
#include "matcher_server.h"
#include "toy_sources.h"

struct fixture {
    uv_loop_t loop;
    char dirs[4][256]; /* intake, profiles, matcher, second matcher */
    toy_source_t *intake, *profiles;
    matcher_config config, config2;
    matcher_server_t *matcher, *matcher2;
    jm_bus_t *bus;
    jm_rpc_client_t *to_intake, *to_profiles, *to_matcher, *to_matcher2;
    /* A test's own clients: closed in teardown too, so that a failed
     * assertion ends the test, not the program. */
    jm_rpc_client_t *glostrup, *stranger, *monitor;
    jm_sock_t *sub;
    char last_changed[64];
    size_t last_changed_n;
    char last_changed_first[64];
    /* ShortlistChanged.seq: the first and last received, and how often
     * one was not the last plus one */
    uint64_t first_seq, last_seq;
    unsigned seq_gaps;
};

/* ---- calls ---- */

struct wait {
    bool done;
    int status;
    uint8_t *data;
    size_t size;
};

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct wait *w = arg;

    w->done = true;
    w->status = status;
    if (status == 0)
        jm_msg_pack(&reply->base, &w->data, &w->size);
}

static bool
done(void *arg)
{
    return ((struct wait *) arg)->done;
}

/* Sends req and returns the reply (caller frees with jm_msg_free). */
static jm_msg_t *
call(struct fixture *f, jm_rpc_client_t *client, Jobmatch__V1__Request *req)
{
    struct wait w = {0};
    jm_msg_t *msg = NULL;
    jm_error err = {0};

    req->request_id.len = 0;
    assert_int_equal(jm_rpc_client_call(client, req, on_reply, &w), 0);
    assert_true(jm_test_run_until(&f->loop, done, &w, 10000));
    assert_int_equal(w.status, 0);
    assert_int_equal(jm_msg_unpack(&msg, &jobmatch__v1__reply__descriptor,
                                   w.data, w.size, w.size + 1, &err),
                     0);
    free(w.data);
    return msg;
}

static const Jobmatch__V1__Reply *
reply_of(jm_msg_t *msg)
{
    return (const Jobmatch__V1__Reply *) jm_msg_get(msg);
}

static ProtobufCMessage *
example(const char *file, const ProtobufCMessageDescriptor *desc)
{
    char path[512], err[256];
    json_error_t jerr;
    json_t *json;
    ProtobufCMessage *msg = NULL;

    snprintf(path, sizeof(path), "%s/%s", JM_TEST_EXAMPLES_DIR, file);
    json = json_load_file(path, 0, &jerr);
    assert_non_null(json);
    if (jm_json_to_message(json, desc, &msg, err, sizeof(err)) != 0)
        fail_msg("%s: %s", file, err);
    json_decref(json);
    return msg;
}

static void
accepted(struct fixture *f, jm_rpc_client_t *client, Jobmatch__V1__Request *req)
{
    jm_msg_t *msg = call(f, client, req);

    assert_int_equal(reply_of(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    jm_msg_free(&msg);
}

static void
submit_example_order(struct fixture *f, const char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    Jobmatch__V1__JobOrder *order = (Jobmatch__V1__JobOrder *) example(
        "job-order.json", &jobmatch__v1__job_order__descriptor);
    char *old = order->id;

    order->id = (char *) id;
    submit.order = order;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &submit;
    accepted(f, f->to_intake, &req);
    order->id = old;
    jm_json_message_free(&order->base);
}

static void
put_example_profile(struct fixture *f, const char *id, const char *postcode)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__PutProfile *put = (Jobmatch__V1__PutProfile *) example(
        "profile.json", &jobmatch__v1__put_profile__descriptor);
    char *old = put->profile->id, *old_pc = put->profile->home->postcode;

    put->profile->id = (char *) id;
    if (postcode != NULL)
        put->profile->home->postcode = (char *) postcode;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    req.put_profile = put;
    accepted(f, f->to_profiles, &req);
    put->profile->id = old;
    put->profile->home->postcode = old_pc;
    jm_json_message_free(&put->base);
}

static jm_msg_t *
match_order(struct fixture *f, jm_rpc_client_t *client, const char *id,
            bool explain)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder m = JOBMATCH__V1__MATCH_ORDER__INIT;

    m.order_id = (char *) id;
    m.explain = explain;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &m;
    return call(f, client, &req);
}

/* The matcher has applied everything both sources have. */
struct caught_up {
    struct fixture *f;
    matcher_server_t *m;
};

static bool
is_caught_up(void *arg)
{
    struct caught_up *c = arg;

    return matcher_server_applied(c->m, 0) == toy_source_head(c->f->intake) &&
           matcher_server_applied(c->m, 1) == toy_source_head(c->f->profiles);
}

static void
catch_up(struct fixture *f, matcher_server_t *m)
{
    struct caught_up c = {f, m};

    assert_true(jm_test_run_until(&f->loop, is_caught_up, &c, 10000));
}

/* ---- fixture ---- */

static void
configure(matcher_config *c, const char *dir, const char *intake,
          const char *profiles)
{
    char err[256];

    jm_cfg_defaults(c, matcher_config_table);
    assert_int_equal(
        jm_cfg_set(c, matcher_config_table, "data_dir", dir, err, sizeof(err)),
        0);
    assert_int_equal(jm_cfg_set(c, matcher_config_table, "api",
                                "tcp://127.0.0.1:*", err, sizeof(err)),
                     0);
    assert_int_equal(
        jm_cfg_set(c, matcher_config_table, "source", intake, err, sizeof(err)),
        0);
    assert_int_equal(jm_cfg_set(c, matcher_config_table, "source", profiles,
                                err, sizeof(err)),
                     0);
    assert_int_equal(
        jm_cfg_set(c, matcher_config_table, "poll_ms", "100", err, sizeof(err)),
        0);
}

static jm_rpc_client_t *
client_to(struct fixture *f, const char *endpoint)
{
    jm_rpc_client_t *client;

    assert_int_equal(jm_rpc_client_new(&client, f->bus, &endpoint, 1, NULL), 0);
    return client;
}

static void
start_matcher(struct fixture *f)
{
    assert_int_equal(matcher_server_new(&f->matcher, &f->loop, &f->config), 0);
    f->to_matcher = client_to(f, matcher_server_api_endpoint(f->matcher));
}

static void
stop_matcher(struct fixture *f)
{
    jm_rpc_client_destroy(&f->to_matcher);
    matcher_server_destroy(&f->matcher);
    /* Let its handles close before the store is opened again. */
    uv_run(&f->loop, UV_RUN_NOWAIT);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    for (int i = 0; i < 4; i++)
        jm_test_tmpdir(f->dirs[i], sizeof(f->dirs[i]));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(toy_source_new(&f->intake, &f->loop, "orders", f->dirs[0]),
                     0);
    assert_int_equal(
        toy_source_new(&f->profiles, &f->loop, "profiles", f->dirs[1]), 0);
    assert_int_equal(jm_bus_new(&f->bus, &f->loop), 0);
    f->to_intake = client_to(f, toy_source_endpoint(f->intake));
    f->to_profiles = client_to(f, toy_source_endpoint(f->profiles));
    configure(&f->config, f->dirs[2], toy_source_endpoint(f->intake),
              toy_source_endpoint(f->profiles));
    start_matcher(f);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    jm_log_set_sink(NULL, NULL);
    jm_sock_close(&f->sub);
    jm_rpc_client_destroy(&f->to_intake);
    jm_rpc_client_destroy(&f->to_profiles);
    jm_rpc_client_destroy(&f->to_matcher);
    jm_rpc_client_destroy(&f->to_matcher2);
    jm_rpc_client_destroy(&f->glostrup);
    jm_rpc_client_destroy(&f->stranger);
    jm_rpc_client_destroy(&f->monitor);
    matcher_server_destroy(&f->matcher);
    matcher_server_destroy(&f->matcher2);
    jm_bus_destroy(&f->bus);
    toy_source_destroy(&f->intake);
    toy_source_destroy(&f->profiles);
    jm_test_close_loop(&f->loop, 5000);
    jm_cfg_release(&f->config, matcher_config_table);
    jm_cfg_release(&f->config2, matcher_config_table);
    for (int i = 0; i < 4; i++)
        jm_test_rmtree(f->dirs[i]);
    free(f);
    return 0;
}

/* ---- tests ---- */

static void
test_example_pair_makes_a_shortlist_of_one(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__CandidateList *list;
    const Jobmatch__V1__CandidateMatch *c;
    jm_msg_t *msg;

    submit_example_order(f, "order-1");
    put_example_profile(f, "citizen-1", NULL);
    catch_up(f, f->matcher);
    msg = match_order(f, f->to_matcher, "order-1", true);
    assert_int_equal(reply_of(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_CANDIDATES);
    list = reply_of(msg)->candidates;
    assert_int_equal(list->n_candidates, 1);
    assert_int_equal(list->eligible, 1);
    c = list->candidates[0];
    assert_string_equal(c->profile_id, "citizen-1");
    assert_non_null(c->parts);
    assert_true(c->score > 0.7 && c->score <= 1.0);
    assert_true(c->parts->occupation == 0.15); /* held = the order's */
    assert_true(c->parts->distance == 0.10);   /* both in 2600 */
    assert_string_equal(c->home_municipality, "161");
    /* Forklift at level 2 of 3: matched, below level; none missing. */
    assert_int_equal(c->n_missing_skills, 0);
    assert_int_equal(c->n_matched_skills, 6);
    assert_int_equal(c->matched_skills[4]->citizen_level, 2);
    assert_int_equal(c->matched_skills[4]->required_level, 3);
    jm_msg_free(&msg);
}

static jm_msg_t *
get_stats(struct fixture *f)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetMatcherStats get = JOBMATCH__V1__GET_MATCHER_STATS__INIT;
    jm_msg_t *msg;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS;
    req.get_matcher_stats = &get;
    msg = call(f, f->to_matcher, &req);
    assert_int_equal(reply_of(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_MATCHER_STATS);
    return msg;
}

/* The seq of the matcher's last notification, as its Pong says. */
static uint64_t
published_seq(struct fixture *f)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    jm_msg_t *msg;
    uint64_t seq;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    msg = call(f, f->to_matcher, &req);
    assert_int_equal(reply_of(msg)->body_case, JOBMATCH__V1__REPLY__BODY_PONG);
    seq = reply_of(msg)->pong->published_seq;
    jm_msg_free(&msg);
    return seq;
}

static void
on_shortlist(jm_sock_t *sock, const jm_sock_msg *m, void *arg)
{
    struct fixture *f = arg;
    Jobmatch__V1__ShortlistChanged *sc;

    (void) sock;
    assert_int_equal(m->topic_size, 9);
    assert_memory_equal(m->topic, "shortlist", 9);
    sc = jobmatch__v1__shortlist_changed__unpack(NULL, m->size, m->data);
    assert_non_null(sc);
    snprintf(f->last_changed, sizeof(f->last_changed), "%s", sc->order_id);
    f->last_changed_n = sc->n_profile_ids;
    snprintf(f->last_changed_first, sizeof(f->last_changed_first), "%s",
             sc->n_profile_ids ? sc->profile_ids[0] : "");
    if (f->first_seq == 0)
        f->first_seq = sc->seq;
    else if (sc->seq != f->last_seq + 1)
        f->seq_gaps++;
    f->last_seq = sc->seq;
    jobmatch__v1__shortlist_changed__free_unpacked(sc, NULL);
}

struct expect {
    struct fixture *f;
    size_t n;
};

static bool
notified(void *arg)
{
    struct expect *e = arg;

    return strcmp(e->f->last_changed, "order-1") == 0 &&
           e->f->last_changed_n == e->n;
}

static void
test_change_is_notified(void **state)
{
    struct fixture *f = *state;
    jm_sock_opts opts = {.subscribe = "shortlist"};
    char id[32];
    bool got = false;
    uint64_t before_subscribing;

    submit_example_order(f, "order-1");
    put_example_profile(f, "citizen-1", NULL);
    catch_up(f, f->matcher);
    /* What `matcher watch` asks before it subscribes (the lists of the
     * order and the citizen may or may not have been published yet: the
     * live lists are rebuilt in the background). */
    before_subscribing = published_seq(f);
    assert_int_equal(
        jm_sock_new(&f->sub, f->bus, JM_SOCK_SUB, &opts, on_shortlist, f), 0);
    assert_int_equal(
        jm_sock_connect(f->sub, matcher_server_publish_endpoint(f->matcher)),
        0);
    /* PUB drops what it sends before the subscription has arrived (and
     * by design): each round adds one more matching citizen, and waits
     * for the notification that the list grew to that many. */
    for (int round = 1; round <= 20 && !got; round++) {
        struct expect e = {f, (size_t) round + 1};

        snprintf(id, sizeof(id), "extra-%02d", round);
        put_example_profile(f, id, NULL);
        got = jm_test_run_until(&f->loop, notified, &e, 500);
    }
    assert_true(got);

    /* Numbered 1, 2, 3... over the matcher's run, as far as its count
     * in the stats, with no gap once subscribed: a subscriber that keeps
     * up on loopback loses nothing, so `matcher watch` reports no loss.
     * One more citizen, so that at least two numbers are seen. */
    {
        struct expect e = {f, f->last_changed_n + 1};
        uint64_t before = f->last_seq;
        jm_msg_t *msg;

        put_example_profile(f, "extra-last", NULL);
        assert_true(jm_test_run_until(&f->loop, notified, &e, 5000));
        assert_int_equal(f->last_seq, before + 1);
        msg = get_stats(f);
        assert_int_equal(f->last_seq,
                         reply_of(msg)->matcher_stats->shortlists_published);
        jm_msg_free(&msg);
        assert_int_equal(published_seq(f), f->last_seq);
    }
    /* Everything received came after the Pong asked before subscribing:
     * a watch counts first_seq - before_subscribing - 1 as missed while
     * it subscribed. */
    assert_true(f->first_seq > before_subscribing);
    assert_int_equal(f->seq_gaps, 0);
}

static void
test_closed_order_and_erased_citizen_disappear(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetOrderStatus st = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    Jobmatch__V1__EraseProfile er = JOBMATCH__V1__ERASE_PROFILE__INIT;
    jm_msg_t *msg;

    submit_example_order(f, "order-1");
    submit_example_order(f, "order-2");
    put_example_profile(f, "citizen-1", NULL);
    put_example_profile(f, "citizen-2", NULL);
    catch_up(f, f->matcher);

    er.profile_id = "citizen-1";
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE;
    req.erase_profile = &er;
    accepted(f, f->to_profiles, &req);
    st.order_id = "order-2";
    st.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_FILLED;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS;
    req.set_order_status = &st;
    accepted(f, f->to_intake, &req);
    catch_up(f, f->matcher);

    msg = match_order(f, f->to_matcher, "order-1", false);
    assert_int_equal(reply_of(msg)->candidates->n_candidates, 1);
    assert_string_equal(reply_of(msg)->candidates->candidates[0]->profile_id,
                        "citizen-2");
    jm_msg_free(&msg);
    msg = match_order(f, f->to_matcher, "order-2", false);
    assert_int_equal(reply_of(msg)->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(reply_of(msg)->error->code, JM_E_NOT_FOUND);
    jm_msg_free(&msg);
}

/* A reply's candidates (ids, scores, parts, explanations), packed one
 * after the other: equal bytes mean equal answers. The counts of the
 * search (eligible, considered) are left out: a list served from the live
 * shortlist carries those of its last recomputation. */
static void
body_bytes(jm_msg_t *msg, uint8_t **data, size_t *size)
{
    const Jobmatch__V1__CandidateList *list = reply_of(msg)->candidates;

    *data = NULL;
    *size = 0;
    assert_int_equal(reply_of(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_CANDIDATES);
    for (size_t i = 0; i < list->n_candidates; i++) {
        uint8_t *one;
        size_t n;

        jm_msg_pack(&list->candidates[i]->base, &one, &n);
        *data = realloc(*data, *size + n + 1);
        assert_non_null(*data);
        memcpy(*data + *size, one, n);
        *size += n;
        free(one);
    }
}

static void
test_restart_answers_as_before(void **state)
{
    struct fixture *f = *state;
    uint8_t *before, *after;
    size_t nb, na;
    jm_msg_t *msg;

    submit_example_order(f, "order-1");
    put_example_profile(f, "citizen-1", NULL);
    put_example_profile(f, "citizen-2", "2605"); /* Brøndby, nearby */
    catch_up(f, f->matcher);
    msg = match_order(f, f->to_matcher, "order-1", true);
    assert_int_equal(reply_of(msg)->candidates->n_candidates, 2);
    body_bytes(msg, &before, &nb);
    jm_msg_free(&msg);

    /* The sources go away: the restarted matcher answers from its own
     * store alone. */
    toy_source_destroy(&f->intake);
    toy_source_destroy(&f->profiles);
    stop_matcher(f);
    start_matcher(f);
    msg = match_order(f, f->to_matcher, "order-1", true);
    body_bytes(msg, &after, &na);
    jm_msg_free(&msg);
    assert_int_equal(na, nb);
    assert_memory_equal(before, after, nb);
    free(before);
    free(after);
}

static void
test_two_matchers_answer_the_same(void **state)
{
    struct fixture *f = *state;
    jm_msg_t *a, *b;
    uint8_t *da, *db;
    size_t na, nb;
    char id[32];

    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof(id), "order-%d", i);
        submit_example_order(f, id);
    }
    for (int i = 0; i < 12; i++) {
        snprintf(id, sizeof(id), "citizen-%02d", i);
        put_example_profile(f, id, i % 3 == 0 ? "2605" : NULL);
    }
    catch_up(f, f->matcher);
    /* The second starts later: it reads the whole logs at once. */
    configure(&f->config2, f->dirs[3], toy_source_endpoint(f->intake),
              toy_source_endpoint(f->profiles));
    assert_int_equal(matcher_server_new(&f->matcher2, &f->loop, &f->config2),
                     0);
    f->to_matcher2 = client_to(f, matcher_server_api_endpoint(f->matcher2));
    catch_up(f, f->matcher2);
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof(id), "order-%d", i);
        a = match_order(f, f->to_matcher, id, true);
        b = match_order(f, f->to_matcher2, id, true);
        assert_int_equal(reply_of(a)->candidates->n_candidates, 10);
        body_bytes(a, &da, &na);
        body_bytes(b, &db, &nb);
        assert_int_equal(na, nb);
        assert_memory_equal(da, db, na);
        free(da);
        free(db);
        jm_msg_free(&a);
        jm_msg_free(&b);
    }
}

/* k within the shortlist is served from the live list, k beyond it is
 * computed: the first k agree. */
static void
test_kept_list_equals_computed(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder m = JOBMATCH__V1__MATCH_ORDER__INIT;
    const Jobmatch__V1__CandidateList *a, *b;
    jm_msg_t *kept, *computed;
    char id[32];

    submit_example_order(f, "order-1");
    for (int i = 0; i < 30; i++) {
        snprintf(id, sizeof(id), "citizen-%02d", i);
        put_example_profile(f, id, i % 2 ? "2605" : NULL);
    }
    catch_up(f, f->matcher);
    while (matcher_live_pending(matcher_server_live(f->matcher)) > 0)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    m.order_id = "order-1";
    m.explain = true;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &m;
    m.top_k = 15;
    kept = call(f, f->to_matcher, &req);
    m.top_k = 25;
    computed = call(f, f->to_matcher, &req);
    a = reply_of(kept)->candidates;
    b = reply_of(computed)->candidates;
    assert_int_equal(a->n_candidates, 15);
    assert_int_equal(b->n_candidates, 25);
    for (size_t i = 0; i < 15; i++) {
        uint8_t *x, *y;
        size_t nx, ny;

        jm_msg_pack(&a->candidates[i]->base, &x, &nx);
        jm_msg_pack(&b->candidates[i]->base, &y, &ny);
        assert_int_equal(nx, ny);
        assert_memory_equal(x, y, nx);
        free(x);
        free(y);
    }
    jm_msg_free(&kept);
    jm_msg_free(&computed);
}

/* With CURVE, the caller is who its key says: a municipality sees its own
 * orders only and may not subscribe to the notifications; a monitoring
 * system gets the statistics and nothing else; an unknown key gets no
 * answer at all. */
static void
test_curve_principals(void **state)
{
    struct fixture *f = *state;
    char server_pub[JM_KEY_Z85_LEN + 1], server_sec[JM_KEY_Z85_LEN + 1];
    char glo_pub[JM_KEY_Z85_LEN + 1], glo_sec[JM_KEY_Z85_LEN + 1];
    char bad_pub[JM_KEY_Z85_LEN + 1], bad_sec[JM_KEY_Z85_LEN + 1];
    char gw_pub[JM_KEY_Z85_LEN + 1], gw_sec[JM_KEY_Z85_LEN + 1];
    char mon_pub[JM_KEY_Z85_LEN + 1], mon_sec[JM_KEY_Z85_LEN + 1];
    char key_file[300], allow_file[300], err[256];
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    Jobmatch__V1__SubmitOrder submit = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    Jobmatch__V1__GetMatcherStats stats = JOBMATCH__V1__GET_MATCHER_STATS__INIT;
    Jobmatch__V1__JobOrder *order;
    jm_rpc_client_opts opts = {.timeout_ms = 300, .tries = 1};
    const char *ep;
    struct wait w = {0};
    jm_msg_t *msg;
    FILE *allow;

    /* The matcher again, now with keys and an allow list. */
    stop_matcher(f);
    snprintf(key_file, sizeof(key_file), "%s/matcher.key", f->dirs[3]);
    snprintf(allow_file, sizeof(allow_file), "%s/allow", f->dirs[3]);
    assert_int_equal(jm_keys_generate(server_pub, server_sec), 0);
    assert_int_equal(jm_keys_save(key_file, server_pub, server_sec), 0);
    assert_int_equal(jm_keys_generate(glo_pub, glo_sec), 0);
    assert_int_equal(jm_keys_generate(bad_pub, bad_sec), 0);
    assert_int_equal(jm_keys_generate(gw_pub, gw_sec), 0);
    assert_int_equal(jm_keys_generate(mon_pub, mon_sec), 0);
    allow = fopen(allow_file, "w");
    assert_non_null(allow);
    fprintf(allow,
            "%s municipality:161\n%s service:gateway\n%s monitor:prometheus\n",
            glo_pub, gw_pub, mon_pub);
    fclose(allow);
    assert_int_equal(jm_cfg_set(&f->config, matcher_config_table, "key_file",
                                key_file, err, sizeof(err)),
                     0);
    assert_int_equal(jm_cfg_set(&f->config, matcher_config_table, "allow_file",
                                allow_file, err, sizeof(err)),
                     0);
    assert_int_equal(matcher_server_new(&f->matcher, &f->loop, &f->config), 0);
    ep = matcher_server_api_endpoint(f->matcher);
    opts.sock.curve_server_key = server_pub;
    opts.sock.curve_public_key = glo_pub;
    opts.sock.curve_secret_key = glo_sec;
    assert_int_equal(jm_rpc_client_new(&f->glostrup, f->bus, &ep, 1, &opts), 0);
    opts.sock.curve_public_key = bad_pub;
    opts.sock.curve_secret_key = bad_sec;
    assert_int_equal(jm_rpc_client_new(&f->stranger, f->bus, &ep, 1, &opts), 0);
    opts.sock.curve_public_key = mon_pub;
    opts.sock.curve_secret_key = mon_sec;
    assert_int_equal(jm_rpc_client_new(&f->monitor, f->bus, &ep, 1, &opts), 0);

    submit_example_order(f, "glostrup-order"); /* owner 161 */
    order = (Jobmatch__V1__JobOrder *) example(
        "job-order.json", &jobmatch__v1__job_order__descriptor);
    {
        char *old_id = order->id, *old_owner = order->owner_municipality;

        order->id = "albertslund-order";
        order->owner_municipality = "165";
        submit.order = order;
        req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
        req.submit_order = &submit;
        accepted(f, f->to_intake, &req);
        order->id = old_id;
        order->owner_municipality = old_owner;
    }
    jm_json_message_free(&order->base);
    put_example_profile(f, "citizen-1", NULL);
    catch_up(f, f->matcher);

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    msg = call(f, f->glostrup, &req);
    assert_string_equal(reply_of(msg)->pong->principal, "municipality:161");
    jm_msg_free(&msg);
    msg = match_order(f, f->glostrup, "glostrup-order", false);
    assert_int_equal(reply_of(msg)->candidates->n_candidates, 1);
    jm_msg_free(&msg);
    msg = match_order(f, f->glostrup, "albertslund-order", false);
    assert_int_equal(reply_of(msg)->error->code, JM_E_PERMISSION_DENIED);
    jm_msg_free(&msg);

    /* A monitoring system: the counts, and no order or citizen. */
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS;
    req.get_matcher_stats = &stats;
    msg = call(f, f->monitor, &req);
    assert_int_equal(reply_of(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_MATCHER_STATS);
    assert_int_equal(reply_of(msg)->matcher_stats->open_orders, 2);
    assert_int_equal(reply_of(msg)->matcher_stats->profiles, 1);
    jm_msg_free(&msg);
    msg = match_order(f, f->monitor, "glostrup-order", false);
    assert_int_equal(reply_of(msg)->error->code, JM_E_PERMISSION_DENIED);
    jm_msg_free(&msg);
    assert_false(jm_test_curve_admits(
        &f->loop, matcher_server_publish_endpoint(f->matcher), server_pub,
        JM_SOCK_SUB, mon_pub, mon_sec));
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;

    /* The notifications name every municipality's orders and candidates:
     * a service may subscribe, the municipality may not (it asks). */
    assert_false(jm_test_curve_admits(
        &f->loop, matcher_server_publish_endpoint(f->matcher), server_pub,
        JM_SOCK_SUB, glo_pub, glo_sec));
    assert_true(jm_test_curve_admits(
        &f->loop, matcher_server_publish_endpoint(f->matcher), server_pub,
        JM_SOCK_SUB, gw_pub, gw_sec));

    /* An unknown key: refused by ZAP, so no answer comes. */
    req.request_id.len = 0;
    assert_int_equal(jm_rpc_client_call(f->stranger, &req, on_reply, &w), 0);
    assert_true(jm_test_run_until(&f->loop, done, &w, 10000));
    assert_int_equal(w.status, -ETIMEDOUT);
}

static void
test_errors(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder m = JOBMATCH__V1__MATCH_ORDER__INIT;
    Jobmatch__V1__GetOrder g = JOBMATCH__V1__GET_ORDER__INIT;
    jm_msg_t *msg;

    g.order_id = "x";
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    req.get_order = &g;
    msg = call(f, f->to_matcher, &req);
    assert_int_equal(reply_of(msg)->error->code, JM_E_UNSUPPORTED);
    jm_msg_free(&msg);
    m.order_id = "order-1";
    m.top_k = 500;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &m;
    msg = call(f, f->to_matcher, &req);
    assert_int_equal(reply_of(msg)->error->code, JM_E_INVALID_FIELD);
    assert_string_equal(reply_of(msg)->error->field_path, "match_order.top_k");
    jm_msg_free(&msg);
    m.top_k = 5;
    m.order_id = "bad id!";
    msg = call(f, f->to_matcher, &req);
    assert_int_equal(reply_of(msg)->error->code, JM_E_INVALID_FIELD);
    jm_msg_free(&msg);
}

/* `jobmatch matcher stats`: the reply (MatcherStats asserted). */
/* What an operator reads with `jobmatch matcher stats`: the counts of the
 * view, each source's position against its head, and no shortlist left
 * to recompute once the matcher has caught up and its loop has had its
 * idle turns. */
static bool
no_stale_lists(void *arg)
{
    return matcher_live_pending(matcher_server_live(arg)) == 0;
}

static void
test_stats(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__MatcherStats *st;
    jm_msg_t *msg;

    submit_example_order(f, "order-1");
    submit_example_order(f, "order-2");
    put_example_profile(f, "citizen-1", NULL);
    catch_up(f, f->matcher);
    assert_true(jm_test_run_until(&f->loop, no_stale_lists, f->matcher, 10000));
    msg = match_order(f, f->to_matcher, "order-1", false);
    jm_msg_free(&msg);
    msg = get_stats(f);
    st = reply_of(msg)->matcher_stats;
    assert_int_equal(st->open_orders, 2);
    assert_int_equal(st->profiles, 1);
    assert_true(st->skills_indexed > 0);
    assert_true(st->queries >= 1);
    assert_int_equal(st->stale_shortlists, 0);
    assert_true(st->profiles_left_out == 0);
    assert_int_equal(st->n_sources, 2);
    for (size_t i = 0; i < st->n_sources; i++) {
        assert_true(st->sources[i]->connected);
        assert_true(st->sources[i]->applied_seq > 0);
        assert_int_equal(st->sources[i]->applied_seq, st->sources[i]->head_seq);
        /* Where its ticks are followed: the toy sources tick on loopback
         * (whether any came yet depends on when the SUB joined). */
        assert_true(strncmp(st->sources[i]->tick_endpoint,
                            "tcp://127.0.0.1:", 16) == 0);
    }
    assert_int_equal(st->sources[0]->applied_seq, toy_source_head(f->intake));
    assert_int_equal(st->sources[1]->applied_seq, toy_source_head(f->profiles));
    jm_msg_free(&msg);
}

static void
watch_refusal(int level, const char *component, const char *text, void *arg)
{
    if (level == JM_LOG_WARN && strcmp(component, "follower") == 0 &&
        strstr(text, "answers permission_denied") != NULL)
        *(bool *) arg = true;
}

static bool
is_set(void *arg)
{
    return *(bool *) arg;
}

/* A source that answers the matcher but refuses it the log (the
 * matcher's key listed there as "monitor", who may not read it, or taken
 * off the list) is not connected in `matcher stats`, which `jobmatch
 * metrics` gives as jobmatch_matcher_source_connected 0, the input of the
 * alert JobmatchMatcherCannotReachSource; the problem says why. */
static void
test_stats_say_a_refusing_source_is_not_connected(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__MatcherStats *st;
    bool refused = false;
    jm_msg_t *msg;

    submit_example_order(f, "order-1");
    catch_up(f, f->matcher);
    stop_matcher(f);
    jm_rpc_client_destroy(&f->to_intake);
    toy_source_destroy(&f->intake);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(toy_source_new_as(&f->intake, &f->loop, "orders",
                                       f->dirs[0], "monitor"),
                     0);
    jm_cfg_release(&f->config, matcher_config_table);
    configure(&f->config, f->dirs[2], toy_source_endpoint(f->intake),
              toy_source_endpoint(f->profiles));
    jm_log_set_sink(watch_refusal, &refused);
    start_matcher(f);
    assert_true(jm_test_run_until(&f->loop, is_set, &refused, 10000));
    jm_log_set_sink(NULL, NULL);
    msg = get_stats(f);
    st = reply_of(msg)->matcher_stats;
    assert_int_equal(st->n_sources, 2);
    assert_false(st->sources[0]->connected);
    assert_non_null(
        strstr(st->sources[0]->problem, "may not read the event log"));
    assert_int_equal(st->sources[0]->applied_seq, 1);
    jm_msg_free(&msg);
}

/* The matcher restarted with one setting changed. */
static void
restart_matcher_with(struct fixture *f, const char *key, const char *value)
{
    char err[256];

    stop_matcher(f);
    assert_int_equal(jm_cfg_set(&f->config, matcher_config_table, key, value,
                                err, sizeof(err)),
                     0);
    start_matcher(f);
    catch_up(f, f->matcher);
}

/* What `matcher stats` says of the citizens: held, and left out. */
static void
expect_citizens(struct fixture *f, uint32_t held, uint64_t left_out)
{
    jm_msg_t *msg = get_stats(f);
    const Jobmatch__V1__MatcherStats *st = reply_of(msg)->matcher_stats;

    assert_int_equal(st->profiles, held);
    assert_true(st->profiles_left_out == left_out);
    jm_msg_free(&msg);
}

/* A matcher with room for two citizens, sent three: the third is left out
 * of the answers and counted, and a restart with room takes them in. */
static void
test_citizens_past_the_limit(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__CandidateList *list;
    jm_msg_t *msg;

    restart_matcher_with(f, "max_citizens", "2");
    submit_example_order(f, "order-1");
    put_example_profile(f, "citizen-1", NULL);
    put_example_profile(f, "citizen-2", NULL);
    put_example_profile(f, "citizen-3", NULL);
    catch_up(f, f->matcher);
    expect_citizens(f, 2, 1);
    msg = match_order(f, f->to_matcher, "order-1", false);
    list = reply_of(msg)->candidates;
    assert_int_equal(list->n_candidates, 2);
    assert_string_equal(list->candidates[0]->profile_id, "citizen-1");
    assert_string_equal(list->candidates[1]->profile_id, "citizen-2");
    jm_msg_free(&msg);

    restart_matcher_with(f, "max_citizens", "2097151");
    expect_citizens(f, 3, 0);
    msg = match_order(f, f->to_matcher, "order-1", false);
    assert_int_equal(reply_of(msg)->candidates->n_candidates, 3);
    jm_msg_free(&msg);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_example_pair_makes_a_shortlist_of_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_is_notified, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_closed_order_and_erased_citizen_disappear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_answers_as_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_matchers_answer_the_same,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_list_equals_computed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_curve_principals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_stats_say_a_refusing_source_is_not_connected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_citizens_past_the_limit, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
