/* test_matcher_analysis.c - skill gaps, bottlenecks and assignment over a
 * hand-made index: the counts a caseworker and a consultant would expect,
 * and an assignment that respects every capacity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"
#include "matcher_analysis.h"
#include "matcher_fixture.h"
#include "matcher_gen.h"

#define NOW_MS  1795435200000LL
#define SKILL_C FX_WMS
#define SKILL_D FX_BARCODE

struct fixture {
    matcher_index_t *ix;
    matcher_ctx ctx;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    jm_clock_set_fake(NOW_MS);
    matcher_index_new(&f->ix);
    matcher_ctx_now(&f->ctx);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    matcher_index_destroy(&f->ix);
    jm_clock_set_fake(0);
    free(f);
    return 0;
}

static uint32_t
order_with(struct fixture *f, const char *id, const char *s1, unsigned m1,
           const char *s2)
{
    fx_order o;

    fx_order_init(&o, id);
    fx_order_skill(&o, s1, m1, true);
    if (s2 != NULL)
        fx_order_skill(&o, s2, 0, true);
    return fx_put_order(f->ix, &o);
}

static const char *
oid(struct fixture *f, uint32_t slot)
{
    static char buf[72];
    const struct matcher_order_rec *r = f->ix->orders[slot].rec;

    memcpy(buf, matcher_order_id(r), r->id_len);
    buf[r->id_len] = '\0';
    return buf;
}

static void
test_gaps_rank_skills_by_orders_unlocked(void **state)
{
    struct fixture *f = *state;
    matcher_gaps g;
    fx_profile p;
    fx_order far;
    uint32_t slot;
    const char *first;

    fx_profile_init(&p, "citizen");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);   /* A */
    fx_profile_skill(&p, FX_RECEIVE_GOODS, 3, 2026); /* B */
    slot = fx_put_profile(f->ix, &p);
    order_with(f, "o1", FX_STACK_GOODS, 0, FX_RECEIVE_GOODS); /* covered */
    order_with(f, "o2", FX_STACK_GOODS, 0, SKILL_C);          /* C unlocks */
    order_with(f, "o3", SKILL_C, 0, SKILL_D);                 /* C, D improve */
    order_with(f, "o5", SKILL_D, 0, NULL);                    /* D unlocks */
    order_with(f, "o6", FX_STACK_GOODS, 5, NULL);             /* A at level 5 */
    /* Out of reach: in Aarhus. */
    fx_order_init(&far, "o4");
    fx_order_skill(&far, SKILL_C, 0, true);
    fx_order_workplace(&far, "8000", "751", 0, 0);
    far.o.owner_municipality = "751";
    fx_put_order(f->ix, &far);

    matcher_gaps_compute(f->ix, slot, &f->ctx, 0, 10, &g);
    assert_int_equal(g.in_reach, 5);
    assert_int_equal(g.matched, 1);
    assert_int_equal(g.n, 3);
    /* C and D both unlock one order and improve two; then by URI. */
    first = strcmp(SKILL_C, SKILL_D) < 0 ? SKILL_C : SKILL_D;
    assert_string_equal(matcher_dict_uri(f->ix->dict, g.gaps[0].term), first);
    assert_int_equal(g.gaps[0].unlocked, 1);
    assert_int_equal(g.gaps[0].improved, 2);
    assert_int_equal(g.gaps[1].unlocked, 1);
    assert_int_equal(g.gaps[1].improved, 2);
    assert_string_equal(matcher_dict_uri(f->ix->dict, g.gaps[2].term),
                        FX_STACK_GOODS);
    assert_int_equal(g.gaps[2].unlocked, 1);
    assert_int_equal(g.gaps[2].level_needed, 5);
    assert_int_equal(g.gaps[2].norders, 1);
    assert_string_equal(oid(f, g.gaps[2].orders[0]), "o6");
    free(g.gaps);

    /* Only Glostrup's orders (all of those in reach are). */
    matcher_gaps_compute(f->ix, slot, &f->ctx, 751, 10, &g);
    assert_int_equal(g.in_reach, 0);
    assert_int_equal(g.n, 0);
    free(g.gaps);
}

/* A skill missing only beside others unlocks nothing, but a caseworker
 * planning the course still needs the level those orders ask for. */
static void
test_gaps_name_the_level_of_a_skill_that_unlocks_nothing(void **state)
{
    struct fixture *f = *state;
    matcher_gaps g;
    fx_profile p;
    uint32_t slot;

    fx_profile_init(&p, "citizen");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    slot = fx_put_profile(f->ix, &p);
    order_with(f, "o1", SKILL_C, 2, SKILL_D); /* both missing */
    order_with(f, "o2", SKILL_C, 4, SKILL_D);

    matcher_gaps_compute(f->ix, slot, &f->ctx, 0, 10, &g);
    assert_int_equal(g.n, 2);
    for (size_t i = 0; i < g.n; i++) {
        const char *uri = matcher_dict_uri(f->ix->dict, g.gaps[i].term);

        assert_int_equal(g.gaps[i].unlocked, 0);
        assert_int_equal(g.gaps[i].improved, 2);
        /* C: the higher of 2 and 4; D: no minimum in either. */
        assert_int_equal(g.gaps[i].level_needed,
                         strcmp(uri, SKILL_C) == 0 ? 4 : 0);
    }
    free(g.gaps);
}

static void
test_bottlenecks_count_the_pool_without_each(void **state)
{
    struct fixture *f = *state;
    matcher_bottlenecks b;
    fx_order o;
    fx_profile p;
    uint32_t os;

    fx_order_init(&o, "order");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    fx_order_skill(&o, FX_FORKLIFT, 3, true);
    fx_order_licence(&o, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    fx_order_language(&o, "da",
                      JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1);
    os = fx_put_order(f->ix, &o);

#define CITIZEN(id)                                                  \
    fx_profile_init(&p, id);                                         \
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);                   \
    fx_profile_skill(&p, FX_FORKLIFT, 4, 2026);                      \
    fx_profile_licence(&p, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT); \
    fx_profile_language(&p, "da",                                    \
                        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_C1)

    CITIZEN("ok");
    fx_put_profile(f->ix, &p);
    CITIZEN("no-licence");
    p.p.n_licences = 0;
    fx_put_profile(f->ix, &p);
    CITIZEN("forklift-2");
    p.skill[1].level = 2;
    fx_put_profile(f->ix, &p);
    CITIZEN("part-time");
    p.p.hours_per_week = 20;
    fx_put_profile(f->ix, &p);
    CITIZEN("two-missing");
    p.p.n_licences = 0;
    p.skill[1].level = 1;
    fx_put_profile(f->ix, &p);
    CITIZEN("far");
    fx_profile_home(&p, "8000", "161", 0, 0);
    fx_put_profile(f->ix, &p);
    CITIZEN("no-sharing");
    p.home.municipality_code = "165";
    fx_put_profile(f->ix, &p);
#undef CITIZEN

    matcher_bottlenecks_compute(f->ix, os, &f->ctx, &b);
    assert_int_equal(b.pool, 1);
    /* 4 fixed + 1 licence + 1 language + 2 skills. */
    assert_int_equal(b.n, 8);
    for (size_t i = 0; i < b.n; i++) {
        const char *r = b.items[i].requirement;
        uint32_t want = strcmp(r, "licences[0]") == 0 ||
                                strcmp(r, "essential_skills[1]") == 0 ||
                                strcmp(r, "hours_per_week") == 0 ||
                                strcmp(r, "workplace") == 0
                            ? 2
                            : 1;

        if (b.items[i].pool_without != want)
            fail_msg("%s: %u, expected %u", r, b.items[i].pool_without, want);
    }
    /* Largest first, ties by field path. */
    assert_string_equal(b.items[0].requirement, "essential_skills[1]");
    assert_true(strstr(b.items[0].detail, "(level >= 3)") != NULL);
    assert_string_equal(b.items[4].requirement, "essential_skills[0]");
    free(b.items);
}

/* Ties list essential_skills[2] before [10]: the index is a number, not
 * text (as text, [10] and [11] came between [1] and [2]). */
static void
test_bottleneck_ties_order_indexes_by_number(void **state)
{
    static const char *const fixed[] = {"hours_per_week", "kind", "start_date",
                                        "workplace"};
    struct fixture *f = *state;
    matcher_bottlenecks b;
    fx_order o;
    char uri[96], want[40];
    uint32_t os;

    fx_order_init(&o, "twelve-skills");
    for (unsigned i = 0; i < 12; i++)
        fx_order_skill(&o, fx_skill_uri(uri, sizeof(uri), 900 + i), 0, true);
    os = fx_put_order(f->ix, &o);

    /* Nobody: every requirement ties at a pool_without of 0. */
    matcher_bottlenecks_compute(f->ix, os, &f->ctx, &b);
    assert_int_equal(b.pool, 0);
    assert_int_equal(b.n, 16);
    for (unsigned i = 0; i < 12; i++) {
        snprintf(want, sizeof(want), "essential_skills[%u]", i);
        assert_string_equal(b.items[i].requirement, want);
    }
    for (unsigned i = 0; i < 4; i++)
        assert_string_equal(b.items[12 + i].requirement, fixed[i]);
    free(b.items);
}

static void
test_assignment_respects_capacities(void **state)
{
    struct fixture *f = *state;
    gen_opts opts = {
        .profiles = 2000,
        .orders = 150,
        .vocab = 80,
        .occupations = 20,
        .zipf = 1.0,
        .skills_min = 5,
        .skills_max = 15,
        .oskills_min = 2,
        .oskills_max = 8,
        .seed = 3,
    };
    matcher_assign_opts ao = {.max_per_citizen = 2, .factor = 2};
    matcher_assignment g, x;
    matcher_live_t *live;
    gen_t gen;
    uint32_t *per = calloc(8192, sizeof(uint32_t));

    gen_init(&gen, &opts);
    gen_populate(&gen, f->ix);
    matcher_live_new(&live, f->ix, NULL);
    while (matcher_live_work(live, 100000))
        ;
    matcher_assign_run(f->ix, live, &f->ctx, &ao, &g);
    ao.exact = true;
    matcher_assign_run(f->ix, live, &f->ctx, &ao, &x);
    assert_true(g.n > 50);
    assert_true(x.exact_total >= x.greedy_total);
    assert_true(x.greedy_total == g.greedy_total);
    assert_true(x.gap >= 0.0 && x.gap < 0.5);
    assert_true(x.max_per_citizen <= 2);
    for (size_t i = 0; i < x.n; i++)
        per[x.proposals[i].profile]++;
    for (size_t i = 0; i < 8192; i++)
        assert_true(per[i] <= 2);
    /* Grouped by order, best first within an order. */
    for (size_t i = 1; i < x.n; i++) {
        if (x.proposals[i].order == x.proposals[i - 1].order)
            assert_true(x.proposals[i].score <= x.proposals[i - 1].score);
    }
    assert_true(x.gini >= 0.0 && x.gini <= 1.0);
    free(g.proposals);
    free(x.proposals);
    free(per);
    matcher_live_destroy(&live);
    gen_release(&gen);
}

static void
test_gini(void **state)
{
    uint32_t equal[4] = {2, 2, 2, 2}, one[4] = {0, 0, 0, 8};

    (void) state;
    assert_true(matcher_gini(equal, 4) == 0.0);
    assert_true(matcher_gini(one, 4) > 0.74 && matcher_gini(one, 4) < 0.76);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_gaps_rank_skills_by_orders_unlocked, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_gaps_name_the_level_of_a_skill_that_unlocks_nothing, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_bottlenecks_count_the_pool_without_each, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bottleneck_ties_order_indexes_by_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assignment_respects_capacities,
                                        setup, teardown),
        cmocka_unit_test(test_gini),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    fx_esco_release();
    return rc;
}
