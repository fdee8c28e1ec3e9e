/* test_matcher_topk.c - the pruned top-k search returns exactly what an
 * exhaustive scan of every candidate returns (same citizens, same order,
 * bit-identical scores), over many random populations with Zipf skills,
 * cloned citizens (ties), updates and removals; and it does prune. The
 * orders-for-a-citizen search is checked against brute force too. */
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/mem.h"
#include "jm_test.h"
#include "matcher_gen.h"
#include "matcher_topk.h"

#define NOW_MS 1795435200000LL /* 2026-11-23 12:00 UTC */

static void
assert_same(matcher_index_t *ix, const matcher_order *o, const matcher_ctx *ctx,
            size_t k)
{
    matcher_hit *a = jm_xcalloc(k, sizeof(*a)), *b = jm_xcalloc(k, sizeof(*b));
    matcher_topk_stats sa, sb;
    size_t na = matcher_topk_order(ix, o, ctx, k, a, &sa);
    size_t nb = matcher_topk_order_scan(ix, o, ctx, k, b, &sb);

    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        if (a[i].slot != b[i].slot || a[i].score != b[i].score)
            fail_msg("order %.*s k=%zu: rank %zu differs: slot %u (%.17g) "
                     "vs %u (%.17g)",
                     (int) o->rec->id_len, matcher_order_id(o->rec), k, i,
                     a[i].slot, a[i].score, b[i].slot, b[i].score);
    }
    /* The pruned search never evaluates more than the candidates, and
     * finds every eligible one when fewer than k exist. */
    assert_true(sa.considered <= sb.considered);
    if (nb < k)
        assert_int_equal(sa.eligible, sb.eligible);
    free(a);
    free(b);
}

static void
check_all_orders(matcher_index_t *ix, const matcher_ctx *ctx)
{
    static const size_t ks[] = {1, 3, 10, 50};

    for (uint32_t s = 0; s < ix->oused; s++) {
        if (ix->orders[s].rec == NULL)
            continue;
        for (size_t i = 0; i < JM_COUNTOF(ks); i++)
            assert_same(ix, &ix->orders[s], ctx, ks[i]);
    }
}

static void
test_pruned_equals_exhaustive(void **state)
{
    matcher_ctx ctx;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        gen_opts opts = {
            .profiles = 1200,
            .orders = 25,
            .vocab = seed % 2 ? 150 : 600,
            .occupations = 60,
            .zipf = seed % 3 == 0 ? 0.8 : 1.1,
            .skills_min = 5,
            .skills_max = 25,
            .oskills_min = 1,
            .oskills_max = 15,
            .clones = 80,
            .seed = seed,
        };
        matcher_index_t *ix;
        gen_t g;

        matcher_index_new(&ix);
        gen_init(&g, &opts);
        gen_populate(&g, ix);
        check_all_orders(ix, &ctx);

        /* Live changes: remove some, replace some, add some. */
        for (unsigned i = 0; i < 150; i++) {
            uint32_t slot = gen_below(&g, ix->pused);
            size_t len;
            const char *id;

            if (ix->cold[slot] == NULL)
                continue;
            if (i % 2) {
                char copy[72];

                id = matcher_slot_id(ix, slot, &len);
                memcpy(copy, id, len);
                assert_int_equal(matcher_index_remove_profile(ix, copy, len),
                                 slot);
            } else {
                gen_update_profile(&g, ix, slot);
            }
        }
        for (unsigned i = 0; i < 100; i++)
            gen_profile(&g, ix);
        check_all_orders(ix, &ctx);
        gen_release(&g);
        matcher_index_destroy(&ix);
    }
    jm_clock_set_fake(0);
}

static void
test_pruning_skips_most_candidates(void **state)
{
    gen_opts opts = {
        .profiles = 20000,
        .orders = 40,
        .vocab = 3000,
        .occupations = 300,
        .zipf = 1.0,
        .skills_min = 10,
        .skills_max = 30,
        .oskills_min = 5,
        .oskills_max = 15,
        .seed = 7,
    };
    uint64_t considered = 0, candidates = 0;
    matcher_hit hits[20];
    matcher_index_t *ix;
    matcher_ctx ctx;
    gen_t g;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    matcher_index_compact(ix);
    for (uint32_t s = 0; s < ix->oused; s++) {
        matcher_topk_stats st, all;

        matcher_topk_order(ix, &ix->orders[s], &ctx, 20, hits, &st);
        matcher_topk_order_scan(ix, &ix->orders[s], &ctx, 20, hits, &all);
        assert_same(ix, &ix->orders[s], &ctx, 20); /* long, split lists */
        considered += st.considered;
        candidates += all.considered;
    }
    print_message("considered %llu of %llu candidates (%.1f%%)\n",
                  (unsigned long long) considered,
                  (unsigned long long) candidates,
                  100.0 * (double) considered / (double) candidates);
    assert_true(considered * 4 < candidates);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

/* Orders for a citizen, by brute force: every open order. */
static size_t
brute_profile(matcher_index_t *ix, uint32_t slot, const matcher_ctx *ctx,
              uint16_t owner, size_t k, matcher_hit *hits)
{
    matcher_heap heap;

    matcher_heap_init(&heap, ix, true, hits, k);
    for (uint32_t s = 0; s < ix->oused; s++) {
        const matcher_order *o = &ix->orders[s];
        double d;

        if (o->rec == NULL || !matcher_is_candidate(ix, o, slot) ||
            (owner != 0 && o->rec->owner_muni != owner))
            continue;
        if (matcher_filter(ix, o, slot, ctx, false, &d) != 0)
            continue;
        matcher_heap_push(&heap, s, matcher_score(ix, o, slot, ctx, d, NULL));
    }
    return matcher_heap_finish(&heap);
}

static void
test_orders_for_citizen_equal_brute_force(void **state)
{
    gen_opts opts = {
        .profiles = 400,
        .orders = 800,
        .vocab = 120,
        .occupations = 40,
        .zipf = 1.0,
        .skills_min = 5,
        .skills_max = 20,
        .oskills_min = 2,
        .oskills_max = 10,
        .seed = 11,
    };
    matcher_hit a[10], b[10];
    matcher_index_t *ix;
    matcher_ctx ctx;
    gen_t g;
    size_t found = 0;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    for (uint32_t slot = 0; slot < ix->pused; slot++) {
        uint16_t owner = slot % 3 == 0 ? ix->hot[slot].home_muni : 0;
        size_t na = matcher_topk_profile(ix, slot, &ctx, owner, 10, a, NULL);
        size_t nb = brute_profile(ix, slot, &ctx, owner, 10, b);

        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_int_equal(a[i].slot, b[i].slot);
            assert_true(a[i].score == b[i].score);
        }
        found += na;
    }
    /* The population is dense enough that most citizens find orders. */
    assert_true(found > ix->pused);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

/* The kernel's quick filter decides exactly as the full one, and the
 * distance bounds bracket the haversine. */
static void
test_quick_filter_and_distance_bounds(void **state)
{
    gen_opts opts = {
        .profiles = 3000,
        .orders = 200,
        .vocab = 100,
        .occupations = 20,
        .zipf = 1.0,
        .skills_min = 3,
        .skills_max = 10,
        .oskills_min = 1,
        .oskills_max = 5,
        .seed = 5,
    };
    matcher_index_t *ix;
    matcher_ctx ctx;
    gen_t g;
    unsigned passed = 0;

    (void) state;
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    for (uint32_t o = 0; o < ix->oused; o++) {
        const struct matcher_order_rec *r = ix->orders[o].rec;

        for (uint32_t p = 0; p < ix->pused; p++) {
            const matcher_hot *h = &ix->hot[p];
            double d, dq = -1,
                      hav = jm_geo_distance_km(r->lat, r->lon, h->lat, h->lon);
            unsigned full =
                matcher_filter(ix, &ix->orders[o], p, &ctx, false, &d);
            unsigned quick =
                matcher_filter_quick(ix, &ix->orders[o], p, &ctx, &dq);

            assert_true(matcher_min_km(ix, r->lat, r->lon, h->lat, h->lon) <=
                        hav);
            assert_true(matcher_max_km(ix, r->lat, r->lon, h->lat, h->lon) >=
                        hav);
            assert_int_equal(full == 0, quick == 0);
            if (quick == 0) {
                assert_true(dq <= hav + 1e-9);
                passed++;
            }
        }
        for (unsigned c = 0; c < MATCHER_CELL_ANY; c += 7) {
            double lat = MATCHER_GRID_LAT0 +
                         (c / MATCHER_GRID_COLS + 0.5) * MATCHER_GRID_DLAT;
            double lon = MATCHER_GRID_LON0 +
                         (c % MATCHER_GRID_COLS + 0.5) * MATCHER_GRID_DLON;

            assert_true(matcher_cell_min_km(c, r->lat, r->lon) <=
                        jm_geo_distance_km(r->lat, r->lon, lat, lon));
        }
    }
    assert_true(passed > 1000);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_clock_set_fake(0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pruned_equals_exhaustive),
        cmocka_unit_test(test_pruning_skips_most_candidates),
        cmocka_unit_test(test_orders_for_citizen_equal_brute_force),
        cmocka_unit_test(test_quick_filter_and_distance_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
