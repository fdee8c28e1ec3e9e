/* test_intake_server.c - the intake server in-process, on a private loop
 * with ephemeral endpoints and a temporary LMDB: every operation over the
 * wire (submit, duplicates, update against versions, status transitions,
 * expiry by housekeeping under a fake clock, outcomes, get, list with
 * filters and paging, stats), the events each change leaves in the log,
 * the snapshot, rights of a municipal caller, and that a rejected request
 * changes nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/msg.h"
#include "jm_test.h"
#include "server_fixture.h"

/* ---- submit, get, duplicates ---- */

static void
test_submit_and_get(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    it_order o;
    char id[80];

    it_order_init(&o, "161", NULL);
    r = it_submit(f->c, &o.order, NULL);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_false(r->duplicate);
    assert_int_equal(r->accepted->seq, 1);
    assert_int_equal(r->accepted->version, 1);
    assert_int_equal(strncmp(r->accepted->id, "jo-", 3), 0);
    assert_int_equal(strlen(r->accepted->id), 23);
    snprintf(id, sizeof(id), "%s", r->accepted->id);

    r = it_get(f->c, id);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ORDER);
    assert_string_equal(r->order->id, id);
    assert_int_equal(r->order->version, 1);
    assert_int_equal(r->order->status, OPEN);
    assert_string_equal(r->order->title, "Lagermedarbejder");
    assert_string_equal(r->order->isco_code, "9333"); /* from ESCO */
    assert_true(fabs(r->order->workplace->latitude - 55.6813) < 1e-6);
    assert_int_equal(r->order->n_essential_skills, 2);
    assert_true(r->order->created_at_ms > 0);

    /* A client-chosen id; the same id again is a conflict. */
    snprintf(o.id, sizeof(o.id), "ORD-2027:17");
    r = it_submit(f->c, &o.order, NULL);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_string_equal(r->accepted->id, "ORD-2027:17");
    assert_int_equal(r->accepted->seq, 2);
    r = it_submit(f->c, &o.order, NULL);
    fx_expect_error(r, JM_E_CONFLICT, "submit_order.order.id");
    assert_int_equal(fx_head(f), 2);

    r = it_get(f->c, "no-such-order");
    fx_expect_error(r, JM_E_NOT_FOUND, "get_order.order_id");
}

static void
test_duplicate_request_id(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    uint8_t rid[16];
    it_order o;
    char id[80];
    char *title;
    uint64_t seq;

    jm_test_random(rid, sizeof(rid));
    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, NULL, 0);
    r = it_submit(f->c, &o.order, rid);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_false(r->duplicate);
    seq = r->accepted->seq;
    snprintf(id, sizeof(id), "%s", r->accepted->id);
    assert_int_equal(seq, 2);

    /* The same request id, the same request: the first answer, marked
     * duplicate, no new order and no new seq. */
    for (int i = 0; i < 2; i++) {
        r = it_submit(f->c, &o.order, rid);
        assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
        assert_true(r->duplicate);
        assert_int_equal(r->accepted->seq, seq);
        assert_string_equal(r->accepted->id, id);
    }
    /* The same request id with another request is no retry: its answer
     * would be the first request's, and the second would be lost without
     * a word. CONFLICT, and nothing changes; the first request sent again
     * still gets its answer. */
    title = o.order.title;
    o.order.title = "Something else";
    r = it_submit(f->c, &o.order, rid);
    fx_expect_error(r, JM_E_CONFLICT, "request_id");
    assert_non_null(strstr(r->error->message, "used for another request"));
    assert_int_equal(fx_head(f), 2);
    assert_int_equal(it_order_count(f->c), 2);
    o.order.title = title;
    r = it_submit(f->c, &o.order, rid);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_true(r->duplicate);
    assert_string_equal(r->accepted->id, id);
}

/* ---- update ---- */

static void
test_update_with_versions(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__UpdateOrder body = JOBMATCH__V1__UPDATE_ORDER__INIT;
    const Jobmatch__V1__Reply *r;
    it_order o, u;
    char id[80];

    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, id, sizeof(id));
    it_order_init(&u, "161", IT_OCC_FORKLIFT);
    snprintf(u.id, sizeof(u.id), "%s", id);
    u.order.title = "Truckfører";
    u.order.positions = 4;
    body.order = &u.order;
    body.expected_version = 1;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER;
    req.update_order = &body;
    r = it_call(f->c, &req);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_int_equal(r->accepted->version, 2);
    assert_int_equal(r->accepted->seq, 2);

    /* The same expected version again (a new request): stale. */
    req.request_id.len = 0;
    r = it_call(f->c, &req);
    fx_expect_error(r, JM_E_CONFLICT, "update_order.expected_version");

    r = it_get(f->c, id);
    assert_int_equal(r->order->version, 2);
    assert_string_equal(r->order->title, "Truckfører");
    assert_string_equal(r->order->isco_code, "8344");
    assert_int_equal(r->order->positions, 4);

    snprintf(u.id, sizeof(u.id), "nope");
    body.expected_version = 2;
    r = it_call(f->c, &req);
    fx_expect_error(r, JM_E_NOT_FOUND, "update_order.order.id");
    assert_int_equal(fx_head(f), 2);
}

/* ---- status ---- */

static void
test_status_transitions(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    it_order o;
    char a[80], b[80];

    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, a, sizeof(a));
    fx_submit_ok(f, &o, b, sizeof(b));

    fx_expect_error(it_set_status(f->c, a, FILLED, 3, 0), JM_E_INVALID_FIELD,
                    "set_order_status.hires");
    fx_expect_error(it_set_status(f->c, a, FILLED, 2, 7), JM_E_CONFLICT,
                    "set_order_status.expected_version");
    fx_expect_error(it_set_status(f->c, a, EXPIRED, 0, 0), JM_E_INVALID_FIELD,
                    "set_order_status.status");
    r = it_set_status(f->c, a, FILLED, 2, 1);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_int_equal(r->accepted->version, 2);
    /* Closed: no other status, no update. */
    fx_expect_error(it_set_status(f->c, a, WITHDRAWN, 0, 0), JM_E_CONFLICT,
                    "set_order_status.order_id");
    r = it_set_status(f->c, b, WITHDRAWN, 0, 0);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    fx_expect_error(it_outcome(f->c, b, FX_PROFILE_A, PROPOSED), JM_E_CONFLICT,
                    "record_outcome.order_id");
    fx_expect_error(it_set_status(f->c, "nope", WITHDRAWN, 0, 0),
                    JM_E_NOT_FOUND, "set_order_status.order_id");

    r = it_get(f->c, a);
    assert_int_equal(r->order->status, FILLED);
    assert_int_equal(r->order->hires, 2);
    assert_true(r->order->closed_at_ms > 0);
    r = it_get(f->c, b);
    assert_int_equal(r->order->status, WITHDRAWN);
    assert_int_equal(fx_head(f), 4);
}

/* ---- outcomes ---- */

static void
test_outcomes(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    it_order o;
    char id[80];

    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, id, sizeof(id));
    r = it_outcome(f->c, id, FX_PROFILE_A, PROPOSED);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_int_equal(r->accepted->version, 2);
    it_outcome(f->c, id, FX_PROFILE_B, PRESENTED);
    r = it_outcome(f->c, id, FX_PROFILE_A, HIRED);
    assert_int_equal(r->accepted->version, 4);
    /* A filled order still records outcomes. */
    it_set_status(f->c, id, FILLED, 1, 0);
    r = it_outcome(f->c, id, FX_PROFILE_B, REJECTED);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    r = it_get(f->c, id);
    assert_int_equal(r->order->n_candidates, 2);
    assert_string_equal(r->order->candidates[0]->profile_id, FX_PROFILE_A);
    assert_int_equal(r->order->candidates[0]->status, HIRED);
    assert_int_equal(r->order->candidates[1]->status, REJECTED);
    assert_int_equal(r->order->version, 6);
    fx_expect_error(it_outcome(f->c, "nope", FX_PROFILE_A, HIRED),
                    JM_E_NOT_FOUND, "record_outcome.order_id");
    /* Not a profile id (the form profiles gives them): refused before the
     * order is looked at. */
    fx_expect_error(it_outcome(f->c, id, "notapid", HIRED), JM_E_INVALID_FIELD,
                    "record_outcome.profile_id");
    /* Two positions: a second hire fits, a third does not. */
    r = it_outcome(f->c, id, FX_PROFILE_B, HIRED);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    fx_expect_error(it_outcome(f->c, id, FX_PROFILE_C, HIRED), JM_E_CONFLICT,
                    "record_outcome.status");
    assert_int_equal(it_get(f->c, id)->order->n_candidates, 2);
}

/* ---- expiry ---- */

struct expired {
    struct fixture *f;
    const char *id;
};

static bool
is_expired(void *arg)
{
    struct expired *e = arg;

    /* Read the store directly: a request here would run the loop inside
     * the loop. */
    return jm_source_head(intake_server_source(e->f->server)) >= 3;
}

static void
test_expiry_by_housekeeping(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    struct expired e = {f, NULL};
    it_order o;
    char due[80], later[80];

    fx_stop(f);
    jm_clock_set_fake(T0_MS);
    fx_start(f, "local", "20");
    it_order_init(&o, "161", NULL);
    o.order.deadline = "2027-03-01"; /* today: still open all day */
    fx_submit_ok(f, &o, due, sizeof(due));
    o.order.deadline = "2027-03-02";
    fx_submit_ok(f, &o, later, sizeof(later));
    jm_clock_set_fake(T0_MS + DAY_MS); /* the next day */
    e.id = due;
    assert_true(jm_test_run_until(&f->loop, is_expired, &e, 5000));
    r = it_get(f->c, due);
    assert_int_equal(r->order->status, EXPIRED);
    assert_int_equal(r->order->version, 2);
    assert_int_equal(r->order->closed_at_ms, T0_MS + DAY_MS);
    r = it_get(f->c, later);
    assert_int_equal(r->order->status, OPEN);
    /* Expired is closed: it changes no more. */
    fx_expect_error(it_set_status(f->c, due, WITHDRAWN, 0, 0), JM_E_CONFLICT,
                    "set_order_status.order_id");
    assert_int_equal(fx_head(f), 3);
}

/* ---- list ---- */

static int
list_ids(struct fixture *f, const char *municipality, int status,
         const char *occupation, unsigned page_size, char ids[][80], int max)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__ListOrders body = JOBMATCH__V1__LIST_ORDERS__INIT;
    char token[512] = "";
    int n = 0, pages = 0;

    body.municipality_code = (char *) municipality;
    body.status = (Jobmatch__V1__OrderStatus) status;
    body.occupation_uri = (char *) occupation;
    body.page_size = page_size;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS;
    req.list_orders = &body;
    do {
        const Jobmatch__V1__Reply *r;

        body.page_token = token;
        req.request_id.len = 0;
        r = it_call(f->c, &req);
        assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ORDER_LIST);
        assert_true(r->order_list->n_orders <= page_size);
        /* Only the last page may be short. */
        if (r->order_list->next_page_token[0] != '\0')
            assert_int_equal(r->order_list->n_orders, page_size);
        for (size_t i = 0; i < r->order_list->n_orders; i++) {
            const Jobmatch__V1__JobOrder *o = r->order_list->orders[i];

            assert_true(n < max);
            if (municipality[0])
                assert_string_equal(o->owner_municipality, municipality);
            if (status)
                assert_int_equal(o->status, status);
            if (occupation[0])
                assert_string_equal(o->occupation_uri, occupation);
            snprintf(ids[n++], 80, "%s", o->id);
        }
        snprintf(token, sizeof(token), "%s", r->order_list->next_page_token);
        pages++;
        assert_true(pages < 100);
    } while (token[0] != '\0');
    for (int i = 0; i < n; i++)
        for (int k = 0; k < i; k++)
            assert_string_not_equal(ids[i], ids[k]);
    return n;
}

static void
test_list_filters_and_paging(void **state)
{
    struct fixture *f = *state;
    static char ids[64][80];
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__ListOrders body = JOBMATCH__V1__LIST_ORDERS__INIT;
    const Jobmatch__V1__Reply *r;
    it_order o;
    char id[80];

    /* 30 orders: municipality 101/161/751 by i % 3, forklift every 4th,
     * every 5th filled. */
    for (int i = 0; i < 30; i++) {
        static const char *const codes[3] = {"101", "161", "751"};

        it_order_init(&o, codes[i % 3], i % 4 == 0 ? IT_OCC_FORKLIFT : NULL);
        snprintf(o.id, sizeof(o.id), "order-%02d", i);
        fx_submit_ok(f, &o, id, sizeof(id));
        if (i % 5 == 0)
            it_set_status(f->c, id, FILLED, 1, 0);
    }
    assert_int_equal(list_ids(f, "", 0, "", 7, ids, 64), 30);
    /* Without filters the order is the id order. */
    for (int i = 0; i < 30; i++) {
        snprintf(id, sizeof(id), "order-%02d", i);
        assert_string_equal(ids[i], id);
    }
    assert_int_equal(list_ids(f, "", 0, "", 30, ids, 64), 30);
    assert_int_equal(list_ids(f, "", 0, "", 500, ids, 64), 30);
    assert_int_equal(list_ids(f, "161", 0, "", 3, ids, 64), 10);
    assert_int_equal(list_ids(f, "161", OPEN, "", 3, ids, 64), 8);
    assert_int_equal(list_ids(f, "", FILLED, "", 4, ids, 64), 6);
    assert_int_equal(list_ids(f, "", 0, IT_OCC_FORKLIFT, 2, ids, 64), 8);
    assert_int_equal(list_ids(f, "", OPEN, IT_OCC_FORKLIFT, 2, ids, 64), 6);
    /* forklift in 101: i = 0, 12, 24 */
    assert_int_equal(list_ids(f, "101", 0, IT_OCC_FORKLIFT, 1, ids, 64), 3);
    assert_int_equal(list_ids(f, "101", FILLED, IT_OCC_FORKLIFT, 1, ids, 64),
                     1);
    assert_int_equal(list_ids(f, "851", 0, "", 5, ids, 64), 0);

    /* Tokens are checked: garbage, and a token of another query. */
    req.body_case = JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS;
    req.list_orders = &body;
    body.page_size = 2;
    body.page_token = "zz";
    fx_expect_error(it_call(f->c, &req), JM_E_INVALID_FIELD,
                    "list_orders.page_token");
    body.page_token = "";
    body.municipality_code = "161";
    r = it_call(f->c, &req);
    snprintf(id, sizeof(id), "%s", r->order_list->next_page_token);
    assert_true(id[0] != '\0');
    body.municipality_code = "101";
    body.page_token = id;
    req.request_id.len = 0;
    fx_expect_error(it_call(f->c, &req), JM_E_INVALID_FIELD,
                    "list_orders.page_token");
    body.municipality_code = "";
    req.request_id.len = 0;
    fx_expect_error(it_call(f->c, &req), JM_E_INVALID_FIELD,
                    "list_orders.page_token");
}

/* ---- stats ---- */

static const Jobmatch__V1__MunicipalityOrderStats *
stats_of(const Jobmatch__V1__Reply *r, const char *code)
{
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ORDER_STATS);
    for (size_t i = 0; i < r->order_stats->n_municipalities; i++) {
        if (strcmp(r->order_stats->municipalities[i]->municipality_code,
                   code) == 0)
            return r->order_stats->municipalities[i];
    }
    return NULL;
}

static void
test_stats_fill_rate_and_median(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrderStats body = JOBMATCH__V1__GET_ORDER_STATS__INIT;
    const Jobmatch__V1__MunicipalityOrderStats *s;
    const Jobmatch__V1__Reply *r;
    char ids[7][80];
    it_order o;

    /* In 161, created at T0: filled after 1, 2 and 6 days, one withdrawn,
     * two open (2 positions each). In 101: one open, one filled after 10
     * days. Together: filled after 1, 2, 6 and 10 days, median 4 (not the
     * median of the medians, 2 and 10). */
    jm_clock_set_fake(T0_MS);
    it_order_init(&o, "161", NULL);
    for (int i = 0; i < 6; i++)
        fx_submit_ok(f, &o, ids[i], sizeof(ids[i]));
    it_order_init(&o, "101", NULL);
    fx_submit_ok(f, &o, NULL, 0);
    fx_submit_ok(f, &o, ids[6], sizeof(ids[6]));
    jm_clock_set_fake(T0_MS + 1 * DAY_MS);
    it_set_status(f->c, ids[0], FILLED, 1, 0);
    jm_clock_set_fake(T0_MS + 2 * DAY_MS);
    it_set_status(f->c, ids[1], FILLED, 2, 0);
    it_set_status(f->c, ids[3], WITHDRAWN, 0, 0);
    jm_clock_set_fake(T0_MS + 6 * DAY_MS);
    it_set_status(f->c, ids[2], FILLED, 2, 0);
    jm_clock_set_fake(T0_MS + 10 * DAY_MS);
    it_set_status(f->c, ids[6], FILLED, 1, 0);

    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER_STATS;
    req.get_order_stats = &body;
    r = it_call(f->c, &req);
    assert_int_equal(r->order_stats->n_municipalities, 2);
    assert_string_equal(r->order_stats->municipalities[0]->municipality_code,
                        "101");
    s = stats_of(r, "161");
    assert_non_null(s);
    assert_int_equal(s->open, 2);
    assert_int_equal(s->filled, 3);
    assert_int_equal(s->withdrawn, 1);
    assert_int_equal(s->expired, 0);
    assert_int_equal(s->positions_open, 4);
    assert_int_equal(s->hires, 5);
    assert_true(fabs(s->fill_rate - 0.75) < 1e-9);
    assert_true(fabs(s->median_days_to_fill - 2.0) < 1e-9);
    s = stats_of(r, "101");
    assert_int_equal(s->open, 1);
    assert_int_equal(s->filled, 1);
    assert_true(fabs(s->fill_rate - 1.0) < 1e-9);
    assert_true(fabs(s->median_days_to_fill - 10.0) < 1e-9);
    s = r->order_stats->total;
    assert_non_null(s);
    assert_string_equal(s->municipality_code, "");
    assert_int_equal(s->open, 3);
    assert_int_equal(s->filled, 4);
    assert_int_equal(s->withdrawn, 1);
    assert_int_equal(s->expired, 0);
    assert_int_equal(s->positions_open, stats_of(r, "161")->positions_open +
                                            stats_of(r, "101")->positions_open);
    assert_int_equal(s->hires, 6);
    assert_true(fabs(s->fill_rate - 0.8) < 1e-9);
    assert_true(fabs(s->median_days_to_fill - 4.0) < 1e-9);

    body.municipality_code = "161";
    req.request_id.len = 0;
    r = it_call(f->c, &req);
    assert_int_equal(r->order_stats->n_municipalities, 1);
    assert_int_equal(stats_of(r, "161")->filled, 3);
    /* One municipality asked for: the total is its row. */
    assert_int_equal(r->order_stats->total->filled, 3);
    assert_int_equal(r->order_stats->total->open, 2);
    assert_true(fabs(r->order_stats->total->median_days_to_fill - 2.0) < 1e-9);
    body.municipality_code = "851"; /* no orders: zeros */
    req.request_id.len = 0;
    r = it_call(f->c, &req);
    assert_int_equal(r->order_stats->n_municipalities, 1);
    assert_int_equal(stats_of(r, "851")->open, 0);
}

/* ---- the log ---- */

struct seen {
    uint64_t next_seq;
    int kinds[16];
    uint64_t versions[16];
    char ids[16][80];
    int count;
};

static void
collect(const Jobmatch__V1__Event *ev, void *arg)
{
    struct seen *s = arg;

    assert_int_equal(ev->seq, s->next_seq);
    s->next_seq++;
    assert_string_equal(ev->source, "intake");
    assert_true(ev->time_ms > 0);
    assert_int_equal(ev->body_case, JOBMATCH__V1__EVENT__BODY_ORDER_CHANGED);
    assert_true(s->count < 16);
    s->kinds[s->count] = ev->order_changed->change;
    s->versions[s->count] = ev->order_changed->order->version;
    snprintf(s->ids[s->count], 80, "%s", ev->order_changed->order->id);
    /* Full state in every event. */
    assert_string_equal(ev->order_changed->order->cvr, "35610006");
    s->count++;
}

static void
test_events_in_the_log(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__UpdateOrder body = JOBMATCH__V1__UPDATE_ORDER__INIT;
    Jobmatch__V1__FetchSnapshot snap = JOBMATCH__V1__FETCH_SNAPSHOT__INIT;
    struct seen s = {.next_seq = 1};
    const Jobmatch__V1__Reply *r;
    it_order o;
    char a[80], b[80];
    static const int expected[] = {
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED,
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED,
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_UPDATED,
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_OUTCOME_RECORDED,
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_STATUS_CHANGED,
        JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_STATUS_CHANGED,
    };

    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, a, sizeof(a));
    fx_submit_ok(f, &o, b, sizeof(b));
    snprintf(o.id, sizeof(o.id), "%s", a);
    body.order = &o.order;
    body.expected_version = 1;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER;
    req.update_order = &body;
    it_call(f->c, &req);
    it_outcome(f->c, a, FX_PROFILE_C, PROPOSED);
    it_set_status(f->c, a, FILLED, 1, 0);
    it_set_status(f->c, b, WITHDRAWN, 0, 0);
    /* A rejected change leaves no event. */
    it_set_status(f->c, b, WITHDRAWN, 0, 0);

    assert_int_equal(it_fetch_all(f->c, 0, collect, &s), 6);
    assert_int_equal(s.count, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(s.kinds[i], expected[i]);
    assert_string_equal(s.ids[2], a);
    assert_int_equal(s.versions[2], 2);
    assert_int_equal(s.versions[3], 3);
    assert_int_equal(s.versions[4], 4);
    assert_string_equal(s.ids[5], b);
    assert_int_equal(s.versions[5], 2);

    /* The snapshot: every order, in id order, as of the head. */
    req = (Jobmatch__V1__Request) JOBMATCH__V1__REQUEST__INIT;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH_SNAPSHOT;
    req.fetch_snapshot = &snap;
    snap.credit = 1;
    r = it_call(f->c, &req);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_SNAPSHOT_PAGE);
    assert_int_equal(r->snapshot_page->as_of_seq, 6);
    assert_int_equal(r->snapshot_page->n_records, 1);
    assert_false(r->snapshot_page->done);
    assert_int_equal(r->snapshot_page->records[0]->order_changed->change,
                     JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_SNAPSHOT);
    snap.credit = 10;
    snap.after_key = r->snapshot_page->next_key;
    snap.after_key.data = malloc(snap.after_key.len);
    memcpy(snap.after_key.data, r->snapshot_page->next_key.data,
           snap.after_key.len);
    req.request_id.len = 0;
    r = it_call(f->c, &req);
    free(snap.after_key.data);
    assert_int_equal(r->snapshot_page->n_records, 1);
    assert_true(r->snapshot_page->done);
}

/* ---- nothing changes on rejection ---- */

static uint8_t *
packed_order(struct fixture *f, const char *id, size_t *size)
{
    const Jobmatch__V1__Reply *r = it_get(f->c, id);
    uint8_t *data = NULL;

    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ORDER);
    jm_msg_pack(&r->order->base, &data, size);
    return data;
}

static void
test_rejected_requests_change_nothing(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__UpdateOrder body = JOBMATCH__V1__UPDATE_ORDER__INIT;
    Jobmatch__V1__GetProfile gp = JOBMATCH__V1__GET_PROFILE__INIT;
    uint8_t *before, *after;
    size_t before_size, after_size;
    it_order o, bad;
    char id[80];

    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, id, sizeof(id));
    it_outcome(f->c, id, FX_PROFILE_A, PROPOSED);
    before = packed_order(f, id, &before_size);
    assert_int_equal(fx_head(f), 2);

    it_order_init(&bad, "161", NULL);
    bad.order.cvr = "12345678";
    fx_expect_error(it_submit(f->c, &bad.order, NULL), JM_E_INVALID_FIELD,
                    "submit_order.order.cvr");
    snprintf(bad.id, sizeof(bad.id), "%s", id);
    bad.order.cvr = "35610006";
    bad.order.title = "Changed";
    body.order = &bad.order;
    body.expected_version = 1; /* stale: it is at 2 */
    req.body_case = JOBMATCH__V1__REQUEST__BODY_UPDATE_ORDER;
    req.update_order = &body;
    fx_expect_error(it_call(f->c, &req), JM_E_CONFLICT,
                    "update_order.expected_version");
    fx_expect_error(it_submit(f->c, &bad.order, NULL), JM_E_CONFLICT,
                    "submit_order.order.id");
    fx_expect_error(it_set_status(f->c, id, FILLED, 9, 0), JM_E_INVALID_FIELD,
                    "set_order_status.hires");
    fx_expect_error(it_outcome(f->c, id, "", HIRED), JM_E_INVALID_FIELD,
                    "record_outcome.profile_id");
    req = (Jobmatch__V1__Request) JOBMATCH__V1__REQUEST__INIT;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROFILE;
    req.get_profile = &gp;
    gp.profile_id = "x";
    fx_expect_error(it_call(f->c, &req), JM_E_UNSUPPORTED, NULL);

    assert_int_equal(fx_head(f), 2);
    assert_int_equal(it_head(f->c), 2);
    assert_int_equal(it_order_count(f->c), 1);
    after = packed_order(f, id, &after_size);
    assert_int_equal(after_size, before_size);
    assert_memory_equal(after, before, before_size);
    free(before);
    free(after);
}

/* Everything is still there after a restart, duplicates included. */
static void
test_restart_keeps_orders_and_request_ids(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    uint8_t rid[16];
    it_order o;
    char id[80];

    jm_test_random(rid, sizeof(rid));
    it_order_init(&o, "161", NULL);
    r = it_submit(f->c, &o.order, rid);
    snprintf(id, sizeof(id), "%s", r->accepted->id);
    fx_stop(f);
    fx_start(f, "local", "3600000");
    assert_int_equal(fx_head(f), 1);
    assert_int_equal(it_get(f->c, id)->order->version, 1);
    r = it_submit(f->c, &o.order, rid);
    assert_true(r->duplicate);
    assert_string_equal(r->accepted->id, id);
    assert_int_equal(r->accepted->seq, 1);
    assert_int_equal(fx_head(f), 1);
    /* The key of the requests' digests lived in the stopped process's
     * memory only (a digest of a citizen's request must not be checkable
     * by whoever reads the store): after a restart another request under
     * that id can no longer be told from a retry, and gets the first
     * reply, as before digests were kept. Nothing new is written. */
    o.order.title = "Another title";
    r = it_submit(f->c, &o.order, rid);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_true(r->duplicate);
    assert_int_equal(fx_head(f), 1);
}

/* Listing and statistics by municipality and expiry use indexes kept in
 * memory; a restart rebuilds them from the orders, and they agree with
 * what was there before. */
static bool
head_reached(void *arg)
{
    struct fixture *f = arg;

    return jm_source_head(intake_server_source(f->server)) >= 8;
}

static void
test_restart_rebuilds_indexes(void **state)
{
    struct fixture *f = *state;
    it_order o;
    char a[80], b[80], c[80], d[80];

    fx_stop(f);
    jm_clock_set_fake(T0_MS);
    fx_start(f, "local", "3600000");
    it_order_init(&o, "161", NULL);
    o.order.deadline = "2027-03-01"; /* due the next day */
    fx_submit_ok(f, &o, a, sizeof(a));
    fx_submit_ok(f, &o, b, sizeof(b));
    fx_submit_ok(f, &o, c, sizeof(c));
    it_order_init(&o, "101", NULL);
    o.order.deadline = "2027-06-01";
    fx_submit_ok(f, &o, d, sizeof(d));
    fx_submit_ok(f, &o, d, sizeof(d)); /* two in 101 */
    assert_int_equal(it_set_status(f->c, b, FILLED, 1, 0)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_int_equal(it_list_count(f->c, "161", OPEN), 2);
    assert_int_equal(it_list_count(f->c, "161", FILLED), 1);
    assert_int_equal(it_list_count(f->c, "161", 0), 3);
    assert_int_equal(it_list_count(f->c, "101", OPEN), 2);
    assert_int_equal(it_open_in(f->c, "161"), 2);

    fx_stop(f);
    jm_clock_set_fake(T0_MS + DAY_MS);
    fx_start(f, "local", "20");
    /* The rebuilt deadline index finds a and c due: two expiries. */
    assert_true(jm_test_run_until(&f->loop, head_reached, f, 5000));
    assert_int_equal(fx_head(f), 8);
    assert_int_equal(it_get(f->c, a)->order->status, EXPIRED);
    assert_int_equal(it_get(f->c, c)->order->status, EXPIRED);
    assert_int_equal(it_list_count(f->c, "161", OPEN), 0);
    assert_int_equal(it_list_count(f->c, "161", EXPIRED), 2);
    assert_int_equal(it_list_count(f->c, "161", FILLED), 1);
    assert_int_equal(it_list_count(f->c, "161", 0), 3);
    assert_int_equal(it_list_count(f->c, "101", OPEN), 2);
    assert_int_equal(it_open_in(f->c, "161"), 0);
    assert_int_equal(it_open_in(f->c, "101"), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_submit_and_get, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_request_id, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_with_versions, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_status_transitions, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry_by_housekeeping, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_and_paging, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_stats_fill_rate_and_median,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_events_in_the_log, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_rejected_requests_change_nothing,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_restart_keeps_orders_and_request_ids, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_rebuilds_indexes, fx_setup,
                                        fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
