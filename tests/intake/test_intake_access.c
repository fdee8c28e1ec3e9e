/* test_intake_access.c - who may do what, in-process: a municipal caller
 * (as the plain principal), callers identified by their CURVE keys through
 * the allow list (key_file, allow_file), an unknown key refused; and the
 * service without its ESCO data (ISCO checks off, URI syntax still on). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/bus.h"
#include "jm_test.h"
#include "server_fixture.h"

/* ---- the event log ---- */

/* The answer to a Fetch from c (or to a FetchSnapshot). */
static const Jobmatch__V1__Reply *
fetch(it_client *c, bool snapshot)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Fetch body = JOBMATCH__V1__FETCH__INIT;
    Jobmatch__V1__FetchSnapshot page = JOBMATCH__V1__FETCH_SNAPSHOT__INIT;

    if (snapshot) {
        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH_SNAPSHOT;
        req.fetch_snapshot = &page;
    } else {
        req.body_case = JOBMATCH__V1__REQUEST__BODY_FETCH;
        req.fetch = &body;
    }
    return it_call(c, &req);
}

/* ---- a municipal caller ---- */

static void
test_municipal_caller_rights(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__ListOrders body = JOBMATCH__V1__LIST_ORDERS__INIT;
    const Jobmatch__V1__Reply *r;
    it_order o;
    char theirs[80], ours[80];

    it_order_init(&o, "161", NULL);
    fx_submit_ok(f, &o, theirs, sizeof(theirs));
    fx_stop(f);
    fx_start(f, "municipality:101", "3600000");

    it_order_init(&o, "161", NULL);
    fx_expect_error(it_submit(f->c, &o.order, NULL), JM_E_PERMISSION_DENIED,
                    "submit_order.order.owner_municipality");
    it_order_init(&o, "101", NULL);
    fx_submit_ok(f, &o, ours, sizeof(ours));
    fx_expect_error(it_get(f->c, theirs), JM_E_PERMISSION_DENIED,
                    "get_order.order_id");
    fx_expect_error(it_set_status(f->c, theirs, WITHDRAWN, 0, 0),
                    JM_E_PERMISSION_DENIED, "set_order_status.order_id");
    fx_expect_error(it_outcome(f->c, theirs, FX_PROFILE_A, PROPOSED),
                    JM_E_PERMISSION_DENIED, "record_outcome.order_id");
    assert_int_equal(it_get(f->c, ours)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ORDER);
    /* Without a filter, a municipality lists and counts its own. */
    req.body_case = JOBMATCH__V1__REQUEST__BODY_LIST_ORDERS;
    req.list_orders = &body;
    r = it_call(f->c, &req);
    assert_int_equal(r->order_list->n_orders, 1);
    assert_string_equal(r->order_list->orders[0]->id, ours);
    assert_int_equal(it_order_count(f->c), 1);
    /* Nor may it read the log, which holds the other municipalities'. */
    fx_expect_error(fetch(f->c, false), JM_E_PERMISSION_DENIED, "fetch");
    assert_int_equal(fx_head(f), 2);
}

/* ---- CURVE: the principal comes from the client's key ---- */

struct key {
    char pub[JM_KEY_Z85_LEN + 1];
    char sec[JM_KEY_Z85_LEN + 1];
};

static const char *
pong_principal(it_client *c)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    const Jobmatch__V1__Reply *r;

    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    r = it_call(c, &req);
    assert_int_equal(r->body_case, JOBMATCH__V1__REPLY__BODY_PONG);
    return r->pong->principal;
}

static void
test_curve_principals(void **state)
{
    struct fixture *f = *state;
    struct key server, muni, matcher, stranger;
    char key_file[300], allow_file[300];
    const char *extra[5];
    const char *ep, *tick;
    it_client *a, *b, *x;
    FILE *allow;
    it_order o;
    char id[80];

    fx_stop(f);
    assert_int_equal(jm_keys_generate(server.pub, server.sec), 0);
    assert_int_equal(jm_keys_generate(muni.pub, muni.sec), 0);
    assert_int_equal(jm_keys_generate(matcher.pub, matcher.sec), 0);
    assert_int_equal(jm_keys_generate(stranger.pub, stranger.sec), 0);
    snprintf(key_file, sizeof(key_file), "%s.key", f->dir);
    snprintf(allow_file, sizeof(allow_file), "%s.allow", f->dir);
    assert_int_equal(jm_keys_save(key_file, server.pub, server.sec), 0);
    allow = fopen(allow_file, "w");
    assert_non_null(allow);
    fprintf(allow,
            "# intake's callers\n%s municipality:101\n%s service:matcher\n",
            muni.pub, matcher.pub);
    fclose(allow);
    extra[0] = "key_file";
    extra[1] = key_file;
    extra[2] = "allow_file";
    extra[3] = allow_file;
    extra[4] = NULL;
    f->extra = extra;
    fx_start(f, "local", "3600000");
    ep = jm_source_api_endpoint(intake_server_source(f->server));
    a = it_client_new_curve(&f->loop, ep, 3000, server.pub, muni.pub, muni.sec);
    b = it_client_new_curve(&f->loop, ep, 3000, server.pub, matcher.pub,
                            matcher.sec);
    x = it_client_new_curve(&f->loop, ep, 500, server.pub, stranger.pub,
                            stranger.sec);

    assert_string_equal(pong_principal(a), "municipality:101");
    assert_string_equal(pong_principal(b), "service:matcher");
    it_order_init(&o, "101", NULL);
    assert_int_equal(it_submit(a, &o.order, NULL)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    snprintf(id, sizeof(id), "%s", it_submit(a, &o.order, NULL)->accepted->id);
    it_order_init(&o, "161", NULL);
    fx_expect_error(it_submit(a, &o.order, NULL), JM_E_PERMISSION_DENIED,
                    "submit_order.order.owner_municipality");
    /* A service reads, and writes nothing. */
    assert_int_equal(it_get(b, id)->body_case, JOBMATCH__V1__REPLY__BODY_ORDER);
    fx_expect_error(it_set_status(b, id, WITHDRAWN, 0, 0),
                    JM_E_PERMISSION_DENIED, NULL);
    /* Its kind is what may not write: no field is named. */
    fx_expect_error(it_submit(b, &o.order, NULL), JM_E_PERMISSION_DENIED, "");
    /* The log and its ticks hold every municipality's orders: a service
     * reads them, a municipality does not (it lists its own). */
    fx_expect_error(fetch(a, false), JM_E_PERMISSION_DENIED, "fetch");
    fx_expect_error(fetch(a, true), JM_E_PERMISSION_DENIED, "fetch_snapshot");
    assert_int_equal(fetch(b, false)->event_batch->n_events, 2);
    assert_int_equal(fetch(b, true)->snapshot_page->n_records, 2);
    tick = jm_source_tick_endpoint(intake_server_source(f->server));
    assert_false(jm_test_curve_admits(&f->loop, tick, server.pub, JM_SOCK_SUB,
                                      muni.pub, muni.sec));
    assert_true(jm_test_curve_admits(&f->loop, tick, server.pub, JM_SOCK_SUB,
                                     matcher.pub, matcher.sec));
    /* A key not in the allow list gets no answer at all (ZAP refuses the
     * handshake), and a plain client neither. */
    {
        Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
        Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
        it_client *plain = it_client_new(&f->loop, ep, 500);

        req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
        req.ping = &ping;
        assert_null(it_call_try(x, &req));
        req.request_id.len = 0;
        assert_null(it_call_try(plain, &req));
        it_client_destroy(&plain);
    }
    assert_int_equal(fx_head(f), 2);
    it_client_destroy(&a);
    it_client_destroy(&b);
    it_client_destroy(&x);
    remove(key_file);
    remove(allow_file);
}

/* ---- without the ESCO data ---- */

static void
test_without_esco_data(void **state)
{
    struct fixture *f = *state;
    const Jobmatch__V1__Reply *r;
    char empty[300];
    it_order o;
    char id[80];

    fx_stop(f);
    snprintf(empty, sizeof(empty), "%s/no-data", f->dir);
    setenv("JOBMATCH_DATA_DIR", empty, 1);
    fx_start(f, "local", "3600000");
    unsetenv("JOBMATCH_DATA_DIR");
    /* Another occupation's ISCO group is not noticed, and an empty one is
     * not filled; a malformed URI is still refused. */
    it_order_init(&o, "161", NULL);
    o.order.isco_code = "8344";
    fx_submit_ok(f, &o, id, sizeof(id));
    assert_string_equal(it_get(f->c, id)->order->isco_code, "8344");
    o.order.isco_code = "";
    fx_submit_ok(f, &o, id, sizeof(id));
    r = it_get(f->c, id);
    assert_string_equal(r->order->isco_code, "");
    o.order.occupation_uri = "http://data.europa.eu/esco/occupation/x";
    fx_expect_error(it_submit(f->c, &o.order, NULL), JM_E_INVALID_FIELD,
                    "submit_order.order.occupation_uri");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_municipal_caller_rights, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_curve_principals, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_without_esco_data, fx_setup,
                                        fx_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
