/* test_matcher_score.c - the match model on hand-made cases: every hard
 * filter excludes what it must (one case per filter), every part of the
 * score moves the way docs/matching.md says, and the explanation lists
 * matched and missing skills with their levels. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"
#include "matcher_fixture.h"
#include "matcher_score.h"
#include "matcher_topk.h"

#define NOW_MS 1795435200000LL /* 2026-11-23 12:00 UTC */

/* cmocka 1.1 compares floats only; the parts need doubles. */
#define assert_double_equal(a, b, eps) assert_near((a), (b), (eps), #a)

static void
assert_near(double a, double b, double eps, const char *what)
{
    if (fabs(a - b) > eps)
        fail_msg("%s = %.15g, expected %.15g", what, a, b);
}

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

/* The pair of docs/examples: job-order.json and profile.json. */
static void
example_order(fx_order *o, const char *id)
{
    fx_order_init(o, id);
    fx_order_skill(o, FX_OPERATE_WAREHOUSE, 2, true);
    fx_order_skill(o, FX_RECEIVE_GOODS, 2, true);
    fx_order_skill(o, FX_STACK_GOODS, 2, true);
    fx_order_skill(o, FX_PICK_ORDERS, 3, true);
    fx_order_skill(o, FX_FORKLIFT, 3, true);
    fx_order_skill(o, FX_BARCODE, 0, false);
    fx_order_skill(o, FX_WMS, 0, false);
    fx_order_language(o, "da", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1);
    fx_order_licence(o, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    o->o.positions = 2;
    o->o.start_date = "2027-01-04";
}

static void
example_profile(fx_profile *p, const char *id)
{
    fx_profile_init(p, id);
    fx_profile_kind(p, JOBMATCH__V1__JOB_KIND__JOB_KIND_WAGE_SUBSIDY_PRIVATE);
    fx_profile_kind(p, JOBMATCH__V1__JOB_KIND__JOB_KIND_INTERNSHIP);
    p->p.available_from = "2026-12-01";
    fx_profile_skill(p, FX_OPERATE_WAREHOUSE, 3, 2026);
    fx_profile_skill(p, FX_RECEIVE_GOODS, 3, 2026);
    fx_profile_skill(p, FX_STACK_GOODS, 4, 2025);
    fx_profile_skill(p, FX_PICK_ORDERS, 3, 2025);
    fx_profile_skill(p, FX_FORKLIFT, 2, 2023);
    fx_profile_skill(p, FX_BARCODE, 3, 2026);
    fx_profile_occupation(p, FX_FORKLIFT_OPERATOR, false);
    fx_profile_occupation(p, FX_WAREHOUSE_WORKER, true);
    fx_profile_language(p, "da",
                        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_C1);
    fx_profile_language(p, "en",
                        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1);
    fx_profile_licence(p, JOBMATCH__V1__LICENCE__LICENCE_DRIVING_B);
    fx_profile_licence(p, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    p->consent.neighbour_matching = true;
}

/* Filters of order slot o for citizen slot c, all of them. */
static unsigned
fails(struct fixture *f, uint32_t o, uint32_t c)
{
    double d;

    return matcher_filter(f->ix, fx_order_at(f->ix, o), c, &f->ctx, true, &d);
}

static double
score(struct fixture *f, uint32_t o, uint32_t c, matcher_parts *parts)
{
    double d;

    matcher_filter(f->ix, fx_order_at(f->ix, o), c, &f->ctx, true, &d);
    return matcher_score(f->ix, fx_order_at(f->ix, o), c, &f->ctx, d, parts);
}

static void
test_example_pair_passes_every_filter(void **state)
{
    struct fixture *f = *state;
    fx_order o;
    fx_profile p;
    matcher_parts parts;
    uint32_t os, ps;
    double s;

    example_order(&o, "order-1");
    example_profile(&p, "citizen-1");
    os = fx_put_order(f->ix, &o);
    ps = fx_put_profile(f->ix, &p);
    assert_int_equal(fails(f, os, ps), 0);
    s = score(f, os, ps, &parts);
    /* Essential: 4 x full + forklift 2 of 3 (0.5 x 2/3) = 4.333 / 5. */
    assert_double_equal(parts.essential, 0.45 * (4 + 1.0 / 3) / 5, 1e-12);
    /* Optional: barcode held, warehouse system not. */
    assert_double_equal(parts.optional, 0.10 * 0.5, 1e-12);
    /* Held occupation = the order's. */
    assert_double_equal(parts.occupation, 0.15, 1e-12);
    /* Both in 2600: the same point. */
    assert_double_equal(parts.distance, 0.10, 1e-12);
    /* Ages 0,0,1,1,3,0 -> 1,1,1,1,0.8,1; the warehouse system (not
     * held) counts 0: the mean over the order's 7 skills. */
    assert_double_equal(parts.recency, 0.10 * 5.8 / 7, 1e-12);
    assert_double_equal(parts.progression, 0.05, 1e-12);
    assert_double_equal(s,
                        parts.essential + parts.optional + parts.occupation +
                            parts.distance + parts.recency + parts.progression,
                        1e-12);
}

static void
test_each_filter_excludes(void **state)
{
    struct fixture *f = *state;
    fx_order o;
    fx_profile p;
    uint32_t os;

    example_order(&o, "order-1");
    os = fx_put_order(f->ix, &o);

    /* KIND: the citizen takes only internships. */
    example_profile(&p, "kind");
    p.p.n_job_kinds = 0;
    fx_profile_kind(&p, JOBMATCH__V1__JOB_KIND__JOB_KIND_INTERNSHIP);
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_KIND);
    /* KIND via the target group: flex-job citizens take no ordinary job,
     * whatever their own list says. */
    example_profile(&p, "group");
    p.p.target_group = "fleksjobvisiteret";
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_KIND);
    /* HOURS. */
    example_profile(&p, "hours");
    p.p.hours_per_week = 20;
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_HOURS);
    /* AVAILABILITY: free only after the start date. */
    example_profile(&p, "availability");
    p.p.available_from = "2027-02-01";
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_AVAILABILITY);
    /* DISTANCE: Aarhus is 160 km from Glostrup. */
    example_profile(&p, "distance");
    fx_profile_home(&p, "8000", "161", 0, 0);
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_DISTANCE);
    /* LICENCE: no forklift certificate. */
    example_profile(&p, "licence");
    p.p.n_licences = 1;
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_LICENCE);
    /* LANGUAGE: Danish below B1, and no Danish at all. */
    example_profile(&p, "language");
    p.lang[0].level = JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_A2;
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_LANGUAGE);
    example_profile(&p, "language-2");
    p.lang[0].language = "de";
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_LANGUAGE);
    /* SHARING: lives in 165 (Albertslund, next door) without consent. */
    example_profile(&p, "sharing");
    p.home.municipality_code = "165";
    p.consent.neighbour_matching = false;
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_SHARING);
    /* With consent, and no agreements configured, sharing is allowed. */
    p.consent.neighbour_matching = true;
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)), 0);
}

/* English: an order that asks for it at level L takes exactly the
 * citizens who speak it at L or above, for every pair of levels and for
 * those without English, in the full filter and the search's quick one
 * (the hot record's bucket decides some, the cold record the rest). */
static void
test_english_levels(void **state)
{
    struct fixture *f = *state;
    char id[32];

    for (unsigned want = 0; want <= 7; want++) {
        fx_order o;
        uint32_t os;

        snprintf(id, sizeof(id), "english-%u", want);
        example_order(&o, id);
        fx_order_language(&o, "en", want);
        os = fx_put_order(f->ix, &o);
        for (int have = -1; have <= 7; have++) { /* -1: no English */
            unsigned expect = have >= (int) want ? 0 : MATCHER_FAIL_LANGUAGE;
            fx_profile p;
            uint32_t ps;
            double d;

            snprintf(id, sizeof(id), "speaks-%u-%d", want, have);
            example_profile(&p, id);
            p.p.n_languages = 1; /* Danish; the example's English goes */
            if (have >= 0)
                fx_profile_language(&p, "en", (unsigned) have);
            ps = fx_put_profile(f->ix, &p);
            assert_int_equal(fails(f, os, ps), expect);
            assert_int_equal(matcher_filter_quick(f->ix, fx_order_at(f->ix, os),
                                                  ps, &f->ctx, &d),
                             expect);
        }
    }
}

static void
test_availability_counts_from_today_when_start_passed(void **state)
{
    struct fixture *f = *state;
    fx_order o;
    fx_profile p;
    uint32_t os;

    fx_order_init(&o, "past-start");
    o.o.start_date = "2026-01-05"; /* already passed */
    os = fx_put_order(f->ix, &o);
    fx_profile_init(&p, "free-next-week");
    p.p.available_from = "2026-11-30";
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_AVAILABILITY);
    fx_profile_init(&p, "free-today");
    p.p.available_from = "2026-11-23";
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)), 0);
    fx_profile_init(&p, "no-date");
    assert_int_equal(fails(f, os, fx_put_profile(f->ix, &p)), 0);
}

static void
test_sharing_agreements(void **state)
{
    struct fixture *f = *state;
    const uint16_t albertslund[] = {165};
    fx_order o;
    fx_profile p;
    uint32_t os, own, neighbour, far, no_consent;

    /* Glostrup (161) may see consenting citizens of Albertslund (165),
     * not of Copenhagen (101). */
    matcher_index_add_agreement(f->ix, 161, albertslund, 1);
    fx_order_init(&o, "o");
    os = fx_put_order(f->ix, &o);
    fx_profile_init(&p, "own");
    p.consent.neighbour_matching = false;
    own = fx_put_profile(f->ix, &p);
    fx_profile_init(&p, "neighbour");
    p.home.municipality_code = "165";
    p.consent.neighbour_matching = true;
    neighbour = fx_put_profile(f->ix, &p);
    fx_profile_init(&p, "copenhagen");
    p.home.municipality_code = "101";
    p.consent.neighbour_matching = true;
    far = fx_put_profile(f->ix, &p);
    fx_profile_init(&p, "no-consent");
    p.home.municipality_code = "165";
    no_consent = fx_put_profile(f->ix, &p);
    assert_int_equal(fails(f, os, own), 0);
    assert_int_equal(fails(f, os, neighbour), 0);
    assert_int_equal(fails(f, os, far), MATCHER_FAIL_SHARING);
    assert_int_equal(fails(f, os, no_consent), MATCHER_FAIL_SHARING);
}

static void
test_order_kinds_and_unknown_target_group(void **state)
{
    struct fixture *f = *state;
    fx_order o;
    fx_profile p;
    uint32_t flex, ordinary;

    fx_order_init(&o, "flex");
    o.o.kind = JOBMATCH__V1__JOB_KIND__JOB_KIND_FLEX_JOB;
    flex = fx_put_order(f->ix, &o);
    fx_order_init(&o, "ordinary");
    ordinary = fx_put_order(f->ix, &o);
    /* No list of their own: whatever the target group allows. */
    fx_profile_init(&p, "flexjob");
    p.p.n_job_kinds = 0;
    p.p.target_group = "fleksjobvisiteret";
    assert_int_equal(fails(f, flex, fx_put_profile(f->ix, &p)), 0);
    assert_int_equal(fails(f, ordinary, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_KIND);
    /* A target group this build does not know allows nothing. */
    fx_profile_init(&p, "unknown-group");
    p.p.target_group = "no-such-group";
    assert_int_equal(fails(f, ordinary, fx_put_profile(f->ix, &p)),
                     MATCHER_FAIL_KIND);
}

static void
test_essential_coverage_is_level_aware(void **state)
{
    struct fixture *f = *state;
    matcher_parts full, below, missing, extra;
    fx_order o;
    fx_profile p;
    uint32_t os;

    fx_order_init(&o, "o");
    fx_order_skill(&o, FX_FORKLIFT, 4, true);
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    os = fx_put_order(f->ix, &o);
    fx_profile_init(&p, "full");
    fx_profile_skill(&p, FX_FORKLIFT, 5, 2026);
    fx_profile_skill(&p, FX_STACK_GOODS, 1, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &full);
    fx_profile_init(&p, "below");
    fx_profile_skill(&p, FX_FORKLIFT, 2, 2026);
    fx_profile_skill(&p, FX_STACK_GOODS, 1, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &below);
    fx_profile_init(&p, "missing");
    fx_profile_skill(&p, FX_STACK_GOODS, 1, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &missing);
    /* Skills the order does not ask for change nothing. */
    fx_profile_init(&p, "extra");
    fx_profile_skill(&p, FX_STACK_GOODS, 1, 2026);
    fx_profile_skill(&p, FX_BARCODE, 5, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &extra);

    assert_double_equal(full.essential, 0.45, 1e-12);
    /* Level 2 of 4: half of half credit. */
    assert_double_equal(below.essential, 0.45 * (1 + 0.25) / 2, 1e-12);
    assert_double_equal(missing.essential, 0.45 * 0.5, 1e-12);
    assert_double_equal(extra.essential, missing.essential, 1e-12);
    assert_true(full.essential > below.essential);
    assert_true(below.essential > missing.essential);
}

static void
test_optional_and_occupation_parts(void **state)
{
    struct fixture *f = *state;
    matcher_parts with, without, exact, group, other;
    fx_order o;
    fx_profile p;
    uint32_t os;

    fx_order_init(&o, "o");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    fx_order_skill(&o, FX_BARCODE, 2, false);
    os = fx_put_order(f->ix, &o);

    fx_profile_init(&p, "with");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_skill(&p, FX_BARCODE, 3, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &with);
    fx_profile_init(&p, "without");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &without);
    assert_double_equal(with.optional, 0.10, 1e-12);
    assert_double_equal(without.optional, 0.0, 1e-12);

    /* Wished occupation = the order's: full; same ISCO group (materials
     * handler, 9333 like warehouse worker): half; forklift operator
     * (8344): nothing. */
    fx_profile_init(&p, "exact");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_occupation(&p, FX_WAREHOUSE_WORKER, false);
    score(f, os, fx_put_profile(f->ix, &p), &exact);
    fx_profile_init(&p, "group");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_occupation(&p, FX_MATERIALS_HANDLER, true);
    score(f, os, fx_put_profile(f->ix, &p), &group);
    fx_profile_init(&p, "other");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_occupation(&p, FX_FORKLIFT_OPERATOR, true);
    score(f, os, fx_put_profile(f->ix, &p), &other);
    assert_double_equal(exact.occupation, 0.15, 1e-12);
    assert_double_equal(group.occupation, 0.075, 1e-12);
    assert_double_equal(other.occupation, 0.0, 1e-12);
}

static void
test_distance_recency_progression_parts(void **state)
{
    struct fixture *f = *state;
    matcher_parts near, far, fresh, stale, unknown, none, high, low;
    fx_order o;
    fx_profile p;
    uint32_t os;

    fx_order_init(&o, "o");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    os = fx_put_order(f->ix, &o);

    /* Closer is better within the range: Glostrup itself vs Copenhagen Ø
     * (about 11 km away), both with a 25 km range. */
    fx_profile_init(&p, "near");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &near);
    fx_profile_init(&p, "far");
    fx_profile_home(&p, "2100", "161", 0, 0);
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &far);
    assert_double_equal(near.distance, 0.10, 1e-12);
    assert_true(far.distance > 0.04 && far.distance < 0.07);

    /* Recency: used this year, five years ago, unknown. */
    fx_profile_init(&p, "fresh");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &fresh);
    fx_profile_init(&p, "stale");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2021);
    score(f, os, fx_put_profile(f->ix, &p), &stale);
    fx_profile_init(&p, "unknown");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 0);
    score(f, os, fx_put_profile(f->ix, &p), &unknown);
    assert_double_equal(fresh.recency, 0.10, 1e-12);
    assert_double_equal(stale.recency, 0.06, 1e-12);
    assert_double_equal(unknown.recency, 0.05, 1e-12);

    /* Progression: neutral without measurements; the mean of the latest
     * scores otherwise (10 and 10 -> 1; 1 and 4 -> 1/6). */
    fx_profile_init(&p, "none");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    score(f, os, fx_put_profile(f->ix, &p), &none);
    fx_profile_init(&p, "high");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_progress(&p, 10);
    fx_profile_progress(&p, 10);
    score(f, os, fx_put_profile(f->ix, &p), &high);
    fx_profile_init(&p, "low");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_progress(&p, 1);
    fx_profile_progress(&p, 4);
    score(f, os, fx_put_profile(f->ix, &p), &low);
    assert_double_equal(none.progression, 0.05, 1e-12);
    assert_double_equal(high.progression, 0.10, 1e-12);
    /* 1.5 / 9 of the way, rounded to 1/200: 33/200. */
    assert_double_equal(low.progression, 0.10 * 33 / 200, 1e-12);
}

static void
test_explanation_lists(void **state)
{
    struct fixture *f = *state;
    matcher_skill_match matched[16], missing[16];
    size_t n_matched, n_missing;
    fx_order o;
    fx_profile p;
    uint32_t os, ps;
    const matcher_dict_t *dict;

    example_order(&o, "order-1");
    example_profile(&p, "citizen-1");
    /* Drop "pick orders" (essential) from the citizen. */
    memmove(&p.skill[3], &p.skill[4], 2 * sizeof(p.skill[0]));
    p.p.n_skills--;
    os = fx_put_order(f->ix, &o);
    ps = fx_put_profile(f->ix, &p);
    dict = f->ix->dict;
    matcher_explain(f->ix, fx_order_at(f->ix, os), ps, matched, &n_matched,
                    missing, &n_missing);
    /* In the order's order: 4 essential held, then the barcode scanner. */
    assert_int_equal(n_matched, 5);
    assert_string_equal(matcher_dict_uri(dict, matched[3].term), FX_FORKLIFT);
    assert_int_equal(matched[3].required_level, 3);
    assert_int_equal(matched[3].citizen_level, 2); /* held, below level */
    assert_true(matched[3].essential);
    assert_string_equal(matcher_dict_uri(dict, matched[4].term), FX_BARCODE);
    assert_false(matched[4].essential);
    /* Missing: essential ones only (the warehouse system is optional). */
    assert_int_equal(n_missing, 1);
    assert_string_equal(matcher_dict_uri(dict, missing[0].term),
                        FX_PICK_ORDERS);
    assert_int_equal(missing[0].required_level, 3);
    assert_int_equal(missing[0].citizen_level, 0);
}

static void
test_candidates_share_a_term(void **state)
{
    struct fixture *f = *state;
    matcher_hit hits[10];
    matcher_topk_stats st;
    fx_order o;
    fx_profile p;
    uint32_t os;
    size_t n;

    fx_order_init(&o, "o");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    os = fx_put_order(f->ix, &o);
    /* Passes every filter, shares nothing: never a candidate. */
    fx_profile_init(&p, "nothing-shared");
    fx_profile_skill(&p, FX_BARCODE, 5, 2026);
    fx_put_profile(f->ix, &p);
    /* Shares only the ISCO group of the order's occupation. */
    fx_profile_init(&p, "group-only");
    fx_profile_occupation(&p, FX_MATERIALS_HANDLER, false);
    fx_put_profile(f->ix, &p);
    fx_profile_init(&p, "skill");
    fx_profile_skill(&p, FX_STACK_GOODS, 1, 2020);
    fx_put_profile(f->ix, &p);
    n = matcher_topk_order(f->ix, fx_order_at(f->ix, os), &f->ctx, 10, hits,
                           &st);
    assert_int_equal(n, 2);
    assert_int_equal(st.considered, 2);
    assert_int_equal(st.eligible, 2);
}

static void
test_ties_are_broken_by_id(void **state)
{
    struct fixture *f = *state;
    matcher_hit hits[10];
    fx_order o;
    fx_profile p;
    uint32_t os;
    const char *ids[] = {"m", "b", "z", "a", "k"};
    size_t n, len;

    fx_order_init(&o, "o");
    fx_order_skill(&o, FX_STACK_GOODS, 0, true);
    os = fx_put_order(f->ix, &o);
    for (size_t i = 0; i < 5; i++) {
        fx_profile_init(&p, ids[i]);
        fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
        fx_put_profile(f->ix, &p);
    }
    n = matcher_topk_order(f->ix, fx_order_at(f->ix, os), &f->ctx, 3, hits,
                           NULL);
    assert_int_equal(n, 3);
    assert_memory_equal(matcher_slot_id(f->ix, hits[0].slot, &len), "a", 1);
    assert_memory_equal(matcher_slot_id(f->ix, hits[1].slot, &len), "b", 1);
    assert_memory_equal(matcher_slot_id(f->ix, hits[2].slot, &len), "k", 1);
}

/* An intern function of a full dictionary that writes its out-parameter
 * before failing (as one may): the encoder must use only what it gives. */
static int
intern_full(void *arg, const char *uri, uint16_t *id)
{
    (void) arg;
    (void) uri;
    *id = 4321;
    return -ENOSPC;
}

/* With the dictionary full, a new order's and citizen's terms are dropped,
 * the rest of the record kept: the order still enters the index (found
 * while fuzzing: the order's occupation took the failed call's 4321, and
 * the index refused the record for its unknown term). */
static void
test_full_dictionary_drops_terms(void **state)
{
    struct fixture *f = *state;
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    matcher_encoder enc = {fx_esco(), intern_full, NULL};
    const struct matcher_order_rec *rec;
    const struct matcher_profile_rec *prec;
    fx_order o;
    fx_profile p;
    int n;

    fx_order_init(&o, "o");
    fx_order_skill(&o, FX_STACK_GOODS, 2, true);
    o.o.occupation_uri = FX_WAREHOUSE_WORKER;
    n = matcher_record_order(&enc, &o.o, 0, buf);
    assert_true(n > 0);
    assert_true(matcher_record_order_valid(buf, (size_t) n));
    rec = (const struct matcher_order_rec *) (const void *) buf;
    assert_int_equal(rec->occupation, MATCHER_TERM_NONE);
    assert_int_equal(rec->n_ess, 0);
    assert_int_not_equal(matcher_index_put_order(f->ix, rec, (size_t) n),
                         MATCHER_NONE);

    fx_profile_init(&p, "p");
    fx_profile_skill(&p, FX_STACK_GOODS, 3, 2026);
    fx_profile_occupation(&p, FX_WAREHOUSE_WORKER, true);
    n = matcher_record_profile(&enc, &p.p, 0, buf);
    assert_true(n > 0);
    assert_true(matcher_record_profile_valid(buf, (size_t) n));
    prec = (const struct matcher_profile_rec *) (const void *) buf;
    assert_int_equal(prec->n_skills, 0);
    assert_int_equal(prec->n_occs, 0);
    assert_int_not_equal(matcher_index_put_profile(f->ix, prec, (size_t) n),
                         MATCHER_NONE);
}

/* A record read back from the store is taken only as the encoder makes
 * them: each field the index or the score relies on, damaged alone, makes
 * the check refuse the record (found while fuzzing: an order of kind 114
 * read back made the filter shift by 114). */
static void
test_record_check_refuses_damaged_fields(void **state)
{
    struct fixture *f = *state;
    _Alignas(8) uint8_t good[MATCHER_PROFILE_REC_MAX],
        bad[MATCHER_PROFILE_REC_MAX];
    matcher_encoder enc = {fx_esco(), fx_intern, f->ix->dict};
    struct matcher_order_rec *o = (struct matcher_order_rec *) (void *) bad;
    struct matcher_profile_rec *p = (struct matcher_profile_rec *) (void *) bad;
    struct matcher_pskill *sk = (struct matcher_pskill *) (void *) (p + 1);
    fx_order fo;
    fx_profile fp;
    int n;

    fx_order_init(&fo, "o");
    fx_order_skill(&fo, FX_STACK_GOODS, 2, true);
    fx_order_skill(&fo, FX_FORKLIFT, 3, true);
    fx_order_language(&fo, "en", 3);
    n = matcher_record_order(&enc, &fo.o, 0, good);
    assert_true(n > 0 && matcher_record_order_valid(good, (size_t) n));
#define ORDER_REFUSED(change)                                      \
    do {                                                           \
        memcpy(bad, good, (size_t) n);                             \
        change;                                                    \
        assert_false(matcher_record_order_valid(bad, (size_t) n)); \
    } while (0)
    /* What a source sends is made into a record the check takes: an ISCO
     * code that is not four digits is not one (atoi took "-123" as 65413,
     * which the check refuses). */
    fo.o.isco_code = "-123";
    n = matcher_record_order(&enc, &fo.o, 0, bad);
    assert_true(n > 0 && matcher_record_order_valid(bad, (size_t) n));
    fo.o.isco_code = "";
    ORDER_REFUSED(o->kind = 114);
    ORDER_REFUSED(o->owner_muni = 1000);
    ORDER_REFUSED(o->isco = 10000);
    ORDER_REFUSED(o->flags |= 0x80);
    ORDER_REFUSED(o->lat = NAN);
    ORDER_REFUSED(o->lon = INFINITY);
    ORDER_REFUSED(((struct matcher_oskill *) (void *) (o + 1))[0].min_level =
                      6);
    ORDER_REFUSED(((struct matcher_oskill *) (void *) (o + 1))[1].term =
                      ((struct matcher_oskill *) (void *) (o + 1))[0].term);
    ORDER_REFUSED(
        ((struct matcher_lang
              *) (void *) ((struct matcher_oskill *) (void *) (o + 1) + 2))[0]
            .code[0] = 'E');
    ORDER_REFUSED(((char *) matcher_order_id(o))[0] = (char) 0xff);
#undef ORDER_REFUSED

    fx_profile_init(&fp, "p");
    fx_profile_skill(&fp, FX_STACK_GOODS, 3, 2026);
    fx_profile_skill(&fp, FX_FORKLIFT, 2, 2020);
    fx_profile_occupation(&fp, FX_WAREHOUSE_WORKER, true);
    fx_profile_occupation(&fp, FX_MATERIALS_HANDLER, false);
    fx_profile_language(&fp, "en", 4);
    n = matcher_record_profile(&enc, &fp.p, 0, good);
    assert_true(n > 0 && matcher_record_profile_valid(good, (size_t) n));
    assert_int_equal(((struct matcher_profile_rec *) (void *) good)->n_skills,
                     2);
#define PROFILE_REFUSED(change)                                      \
    do {                                                             \
        memcpy(bad, good, (size_t) n);                               \
        change;                                                      \
        assert_false(matcher_record_profile_valid(bad, (size_t) n)); \
    } while (0)
    PROFILE_REFUSED(p->kinds |= 1);
    PROFILE_REFUSED(p->home_muni = 1000);
    PROFILE_REFUSED(p->flags |= 0x80);
    PROFILE_REFUSED(p->progression = MATCHER_PROGRESS_MAX + 1);
    PROFILE_REFUSED(p->flags |= MATCHER_PF_LOCATION; p->lat = NAN);
    PROFILE_REFUSED(sk[0].level = 0);
    PROFILE_REFUSED(sk[1].level = 6);
    PROFILE_REFUSED(sk[1].term = sk[0].term);
    PROFILE_REFUSED(uint16_t t = sk[0].term; sk[0].term = sk[1].term;
                    sk[1].term = t);
    PROFILE_REFUSED(((struct matcher_pocc *) (void *) (sk + 2))[0].held = 2);
    PROFILE_REFUSED(((struct matcher_pocc *) (void *) (sk + 2))[1].isco =
                        10000);
    PROFILE_REFUSED(((struct matcher_pocc *) (void *) (sk + 2))[1].term =
                        ((struct matcher_pocc *) (void *) (sk + 2))[0].term);
    PROFILE_REFUSED(
        ((struct matcher_lang
              *) (void *) ((struct matcher_pocc *) (void *) (sk + 2) + 2))[0]
            .code[1] = '1');
    PROFILE_REFUSED(((char *) matcher_profile_id(p))[0] = (char) 0xc3);
#undef PROFILE_REFUSED
    /* And the record unchanged is still taken (the copies above did not
     * touch good). */
    assert_true(matcher_record_profile_valid(good, (size_t) n));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_example_pair_passes_every_filter,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_filter_excludes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_english_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_availability_counts_from_today_when_start_passed, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_sharing_agreements, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_order_kinds_and_unknown_target_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_essential_coverage_is_level_aware,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_optional_and_occupation_parts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_distance_recency_progression_parts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_explanation_lists, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_candidates_share_a_term, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_full_dictionary_drops_terms, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_record_check_refuses_damaged_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ties_are_broken_by_id, setup,
                                        teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    fx_esco_release();
    return rc;
}
