/* intake_testlib.c - shared helpers of the intake tests (see
 * intake_testlib.h). */
#include "intake_testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/bus.h"
#include "jm/mem.h"
#include "jm/msg.h"
#include "jm_test.h"

void
it_order_init(it_order *o, const char *owner, const char *occupation)
{
    static const char *const uris[3] = {
        "http://data.europa.eu/esco/skill/078861f5-b901-48a5-951e-"
        "a3ad0a4fa0bd",
        "http://data.europa.eu/esco/skill/2cae39d6-78c2-4ce3-bee8-"
        "628504371463",
        "http://data.europa.eu/esco/skill/fd79b3c4-e264-41b5-bada-"
        "49ba5f317588",
    };

    memset(o, 0, sizeof(*o));
    jobmatch__v1__job_order__init(&o->order);
    jobmatch__v1__location__init(&o->workplace);
    for (int i = 0; i < 3; i++) {
        jobmatch__v1__skill_requirement__init(&o->skills[i]);
        o->skills[i].skill_uri = (char *) uris[i];
        o->skills[i].min_level = i < 2 ? 2 : 0;
    }
    o->essential[0] = &o->skills[0];
    o->essential[1] = &o->skills[1];
    o->optional[0] = &o->skills[2];
    jobmatch__v1__language_requirement__init(&o->language);
    o->language.language = "da";
    o->language.min_level = JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1;
    o->languages[0] = &o->language;
    o->licence = JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT;
    snprintf(o->owner, sizeof(o->owner), "%s", owner);

    o->order.cvr = "35610006";
    o->order.company_name = "Vestegnens Lager ApS";
    o->order.title = "Lagermedarbejder";
    o->order.occupation_uri =
        (char *) (occupation != NULL ? occupation : IT_OCC_WAREHOUSE);
    o->order.essential_skills = o->essential;
    o->order.n_essential_skills = 2;
    o->order.optional_skills = o->optional;
    o->order.n_optional_skills = 1;
    o->order.languages = o->languages;
    o->order.n_languages = 1;
    o->order.licences = &o->licence;
    o->order.n_licences = 1;
    o->order.kind = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    o->order.positions = 2;
    o->order.hours_per_week = 37;
    o->order.deadline = "2030-06-30";
    o->workplace.postcode = "2600";
    o->workplace.municipality_code = "161";
    o->order.workplace = &o->workplace;
    o->order.owner_municipality = o->owner;
    o->order.id = o->id;
}

/* ---- the synchronous client ---- */

struct it_client {
    uv_loop_t *loop;
    jm_bus_t *bus;
    jm_rpc_client_t *rpc;
    unsigned timeout_ms;
    jm_msg_t *last; /* the last reply */
    bool done;
    int status;
};

static it_client *
client_new(uv_loop_t *loop, const char *endpoint, unsigned timeout_ms,
           const jm_sock_opts *sock)
{
    it_client *c = jm_xcalloc(1, sizeof(*c));
    jm_rpc_client_opts opts = {.timeout_ms = timeout_ms, .tries = 1};

    if (sock != NULL)
        opts.sock = *sock;
    c->loop = loop;
    c->timeout_ms = timeout_ms;
    assert_int_equal(jm_bus_new(&c->bus, loop), 0);
    assert_int_equal(jm_rpc_client_new(&c->rpc, c->bus, &endpoint, 1, &opts),
                     0);
    return c;
}

it_client *
it_client_new(uv_loop_t *loop, const char *endpoint, unsigned timeout_ms)
{
    return client_new(loop, endpoint, timeout_ms, NULL);
}

it_client *
it_client_new_curve(uv_loop_t *loop, const char *endpoint, unsigned timeout_ms,
                    const char *server_key, const char *public_key,
                    const char *secret_key)
{
    jm_sock_opts sock = {
        .curve_server_key = server_key,
        .curve_public_key = public_key,
        .curve_secret_key = secret_key,
    };

    return client_new(loop, endpoint, timeout_ms, &sock);
}

void
it_client_destroy(it_client **client_p)
{
    it_client *c = *client_p;

    if (c == NULL)
        return;
    jm_rpc_client_destroy(&c->rpc);
    jm_bus_destroy(&c->bus);
    jm_msg_free(&c->last);
    free(c);
    *client_p = NULL;
}

static void
on_reply(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    it_client *c = arg;
    uint8_t *data = NULL;
    size_t size = 0;
    jm_error err = {0};

    c->done = true;
    c->status = status;
    if (status != 0)
        return;
    /* The reply is borrowed for this callback: keep a copy. */
    jm_msg_pack(&reply->base, &data, &size);
    assert_int_equal(jm_msg_unpack(&c->last, &jobmatch__v1__reply__descriptor,
                                   data, size, size + 1, &err),
                     0);
    free(data);
}

static bool
is_done(void *arg)
{
    return ((it_client *) arg)->done;
}

const Jobmatch__V1__Reply *
it_call_try(it_client *c, Jobmatch__V1__Request *req)
{
    jm_msg_free(&c->last);
    c->done = false;
    assert_int_equal(jm_rpc_client_call(c->rpc, req, on_reply, c), 0);
    assert_true(jm_test_run_until(c->loop, is_done, c, c->timeout_ms + 2000));
    if (c->status != 0)
        return NULL;
    return (const Jobmatch__V1__Reply *) jm_msg_get(c->last);
}

const Jobmatch__V1__Reply *
it_call(it_client *c, Jobmatch__V1__Request *req)
{
    const Jobmatch__V1__Reply *reply = it_call_try(c, req);

    if (reply == NULL)
        fail_msg("no reply: %d", c->status);
    return reply;
}

const Jobmatch__V1__Reply *
it_submit(it_client *c, Jobmatch__V1__JobOrder *o, const uint8_t *rid)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;

    body.order = o;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SUBMIT_ORDER;
    req.submit_order = &body;
    if (rid != NULL) {
        req.request_id.data = (uint8_t *) rid;
        req.request_id.len = 16;
    }
    return it_call(c, &req);
}

const Jobmatch__V1__Reply *
it_get(it_client *c, const char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrder body = JOBMATCH__V1__GET_ORDER__INIT;

    body.order_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    req.get_order = &body;
    return it_call(c, &req);
}

const Jobmatch__V1__Reply *
it_set_status(it_client *c, const char *id, int status, uint32_t hires,
              uint64_t expected_version)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetOrderStatus body = JOBMATCH__V1__SET_ORDER_STATUS__INIT;

    body.order_id = (char *) id;
    body.status = (Jobmatch__V1__OrderStatus) status;
    body.hires = hires;
    body.expected_version = expected_version;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_ORDER_STATUS;
    req.set_order_status = &body;
    return it_call(c, &req);
}

const Jobmatch__V1__Reply *
it_outcome(it_client *c, const char *id, const char *profile, int status)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__RecordOutcome body = JOBMATCH__V1__RECORD_OUTCOME__INIT;

    body.order_id = (char *) id;
    body.profile_id = (char *) profile;
    body.status = (Jobmatch__V1__CandidateStatus) status;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_RECORD_OUTCOME;
    req.record_outcome = &body;
    return it_call(c, &req);
}

uint64_t
it_head(it_client *c)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    const Jobmatch__V1__Reply *reply;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    reply = it_call(c, &req);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_PONG);
    return reply->pong->head_seq;
}

int
it_error_code(const Jobmatch__V1__Reply *reply)
{
    return reply->body_case == JOBMATCH__V1__REPLY__BODY_ERROR
               ? (int) reply->error->code
               : 0;
}

uint64_t
it_fetch_all(it_client *c, uint64_t after_seq, it_event_fn fn, void *arg)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Fetch fetch = JOBMATCH__V1__FETCH__INIT;
    uint64_t head;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH;
    req.fetch = &fetch;
    fetch.credit = 1000;
    for (;;) {
        const Jobmatch__V1__Reply *reply;
        const Jobmatch__V1__EventBatch *batch;

        fetch.after_seq = after_seq;
        reply = it_call(c, &req);
        assert_int_equal(reply->body_case,
                         JOBMATCH__V1__REPLY__BODY_EVENT_BATCH);
        batch = reply->event_batch;
        assert_false(batch->snapshot_required);
        head = batch->head_seq;
        for (size_t i = 0; i < batch->n_events; i++) {
            fn(batch->events[i], arg);
            after_seq = batch->events[i]->seq;
        }
        if (after_seq >= head || batch->n_events == 0)
            return head;
    }
}

uint32_t
it_order_count(it_client *c)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrderStats body = JOBMATCH__V1__GET_ORDER_STATS__INIT;
    const Jobmatch__V1__Reply *reply;
    uint32_t total = 0;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS;
    req.get_order_stats = &body;
    reply = it_call(c, &req);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ORDER_STATS);
    for (size_t i = 0; i < reply->order_stats->n_municipalities; i++) {
        const Jobmatch__V1__MunicipalityOrderStats *m =
            reply->order_stats->municipalities[i];

        total += m->open + m->filled + m->withdrawn + m->expired;
    }
    return total;
}

size_t
it_list_count(it_client *c, const char *municipality, int status)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__ListOrders body = JOBMATCH__V1__LIST_ORDERS__INIT;
    char token[512] = "";
    size_t n = 0;

    body.municipality_code = (char *) municipality;
    body.status = (Jobmatch__V1__OrderStatus) status;
    body.page_size = 500;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS;
    req.list_orders = &body;
    do {
        const Jobmatch__V1__Reply *r;

        body.page_token = token;
        r = it_call(c, &req);
        assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ORDER_LIST);
        for (size_t i = 0; i < r->order_list->n_orders; i++) {
            const Jobmatch__V1__JobOrder *o = r->order_list->orders[i];

            assert_string_equal(o->owner_municipality, municipality);
            if (status != 0)
                assert_int_equal(o->status, status);
        }
        n += r->order_list->n_orders;
        snprintf(token, sizeof(token), "%s", r->order_list->next_page_token);
    } while (token[0] != '\0');
    return n;
}

uint32_t
it_open_in(it_client *c, const char *municipality)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrderStats body = JOBMATCH__V1__GET_ORDER_STATS__INIT;
    const Jobmatch__V1__Reply *reply;

    body.municipality_code = (char *) municipality;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS;
    req.get_order_stats = &body;
    reply = it_call(c, &req);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ORDER_STATS);
    assert_int_equal(reply->order_stats->n_municipalities, 1);
    return reply->order_stats->municipalities[0]->open;
}
