/* test_matcher_query.c - who sees what: every principal's scope, and the
 * queries' answers for a municipality's principal (its orders only, its
 * citizens and those shared with it), for one that is not allowed at all,
 * and the order of validation (field, then rights, then state). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"
#include "matcher_fixture.h"
#include "matcher_query.h"

#define NOW_MS 1795435200000LL

struct fixture {
    matcher_index_t *ix;
    matcher_live_t *live;
    matcher_query_ctx q;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const uint16_t albertslund[] = {165};
    fx_order o;
    fx_profile p;

    assert_non_null(f);
    jm_clock_set_fake(NOW_MS);
    matcher_index_new(&f->ix);
    /* Glostrup (161) may see consenting citizens of Albertslund (165). */
    matcher_index_add_agreement(f->ix, 161, albertslund, 1);
    fx_order_init(&o, "glostrup-order");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    fx_put_order(f->ix, &o);
    fx_order_init(&o, "albertslund-order");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    o.o.owner_municipality = "165";
    fx_put_order(f->ix, &o);
    fx_profile_init(&p, "glostrup-citizen");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_put_profile(f->ix, &p);
    fx_profile_init(&p, "shared-citizen");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    p.home.municipality_code = "165";
    p.consent.neighbour_matching = true;
    fx_put_profile(f->ix, &p);
    fx_profile_init(&p, "private-citizen");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    p.home.municipality_code = "165";
    fx_put_profile(f->ix, &p);
    matcher_live_new(&f->live, f->ix, NULL);
    f->q.ix = f->ix;
    f->q.live = f->live;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    matcher_live_destroy(&f->live);
    matcher_index_destroy(&f->ix);
    jm_clock_set_fake(0);
    free(f);
    return 0;
}

static void
test_scopes(void **state)
{
    matcher_scope s;

    (void) state;
    assert_true(matcher_scope_of("local", &s) && s.all);
    assert_true(matcher_scope_of("admin", &s) && s.all);
    assert_true(matcher_scope_of("service:matcher-2", &s) && s.all);
    assert_true(matcher_scope_of("municipality:161", &s) && !s.all &&
                s.owner == 161);
    assert_true(matcher_scope_of("consultant:101", &s) && s.owner == 101);
    assert_true(matcher_scope_of("caseworker:165", &s) && s.owner == 165);
    assert_false(matcher_scope_of("municipality:999", &s));
    assert_false(matcher_scope_of("municipality:", &s));
    assert_false(matcher_scope_of("citizen:161", &s));
    assert_false(matcher_scope_of("", &s));
}

/* Runs a query; returns the reply body case, or the error code (< 0). */
static int
ask(struct fixture *f, const char *principal, Jobmatch__V1__Request *req,
    size_t *n)
{
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    matcher_arena arena = {NULL};
    jm_error err = {0};
    int rc = matcher_query(&f->q, principal, req, &arena, &reply, &err);

    *n = 0;
    if (rc == 0 && reply.body_case == JOBMATCH__V1__REPLY__BODY_CANDIDATES)
        *n = reply.candidates->n_candidates;
    if (rc == 0 && reply.body_case == JOBMATCH__V1__REPLY__BODY_ORDER_MATCHES)
        *n = reply.order_matches->n_orders;
    if (rc == 0 && reply.body_case == JOBMATCH__V1__REPLY__BODY_ASSIGNMENT)
        *n = reply.assignment->n_proposals;
    rc = rc == 0 ? (int) reply.body_case : -err.code;
    matcher_arena_release(&arena);
    return rc;
}

static int
match_order(struct fixture *f, const char *principal, const char *id, size_t *n)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchOrder m = JOBMATCH__V1__MATCH_ORDER__INIT;

    m.order_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_ORDER;
    req.match_order = &m;
    return ask(f, principal, &req, n);
}

static int
match_profile(struct fixture *f, const char *principal, const char *id,
              size_t *n)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__MatchProfile m = JOBMATCH__V1__MATCH_PROFILE__INIT;

    m.profile_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_MATCH_PROFILE;
    req.match_profile = &m;
    return ask(f, principal, &req, n);
}

static void
test_municipality_sees_its_own(void **state)
{
    struct fixture *f = *state;
    size_t n;

    /* Glostrup's order: its own citizen and the consenting neighbour. */
    assert_int_equal(match_order(f, "municipality:161", "glostrup-order", &n),
                     JOBMATCH__V1__REPLY__BODY_CANDIDATES);
    assert_int_equal(n, 2);
    /* Albertslund's order is not Glostrup's to see. */
    assert_int_equal(match_order(f, "consultant:161", "albertslund-order", &n),
                     -JM_E_PERMISSION_DENIED);
    assert_int_equal(match_order(f, "local", "albertslund-order", &n),
                     JOBMATCH__V1__REPLY__BODY_CANDIDATES);
    /* Citizens: Glostrup sees its own and the shared one, not the one who
     * did not consent; and only its own orders for them. */
    assert_int_equal(match_profile(f, "caseworker:161", "shared-citizen", &n),
                     JOBMATCH__V1__REPLY__BODY_ORDER_MATCHES);
    assert_int_equal(n, 1);
    assert_int_equal(match_profile(f, "caseworker:161", "private-citizen", &n),
                     -JM_E_PERMISSION_DENIED);
    assert_int_equal(match_profile(f, "caseworker:165", "private-citizen", &n),
                     JOBMATCH__V1__REPLY__BODY_ORDER_MATCHES);
    assert_int_equal(n, 1); /* Albertslund's own order */
    /* Someone with no scope at all. */
    assert_int_equal(match_order(f, "citizen:161", "glostrup-order", &n),
                     -JM_E_PERMISSION_DENIED);
}

static void
test_validation_order(void **state)
{
    struct fixture *f = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Assign a = JOBMATCH__V1__ASSIGN__INIT;
    char *codes[] = {"161", "165"}, *bad[] = {"16x"};
    size_t n;

    /* A bad id is an invalid field even for an order one may not see. */
    assert_int_equal(match_order(f, "municipality:161", "bad id", &n),
                     -JM_E_INVALID_FIELD);
    assert_int_equal(match_order(f, "municipality:161", "no-such", &n),
                     -JM_E_NOT_FOUND);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ASSIGN;
    req.assign = &a;
    a.municipality_codes = bad;
    a.n_municipality_codes = 1;
    assert_int_equal(ask(f, "local", &req, &n), -JM_E_INVALID_FIELD);
    /* A municipality assigns only its own orders... */
    a.municipality_codes = codes;
    a.n_municipality_codes = 2;
    assert_int_equal(ask(f, "municipality:161", &req, &n),
                     -JM_E_PERMISSION_DENIED);
    /* ... and by default those are what it gets. */
    a.n_municipality_codes = 0;
    assert_int_equal(ask(f, "municipality:161", &req, &n),
                     JOBMATCH__V1__REPLY__BODY_ASSIGNMENT);
    assert_int_equal(n, 2); /* 1 position x factor 2, both its candidates */
    a.n_municipality_codes = 2;
    assert_int_equal(ask(f, "admin", &req, &n),
                     JOBMATCH__V1__REPLY__BODY_ASSIGNMENT);
    /* Bodies that are not queries are not the query layer's. */
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    {
        Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
        matcher_arena arena = {NULL};
        jm_error err = {0};

        assert_int_equal(
            matcher_query(&f->q, "local", &req, &arena, &reply, &err),
            -ENOTSUP);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scopes),
        cmocka_unit_test_setup_teardown(test_municipality_sees_its_own, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_validation_order, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    fx_esco_release();
    return rc;
}
