/* test_matcher_bounds.c - the bounds the top-k search prunes with,
 * checked on their own (the search as a whole is checked against the
 * exhaustive scan in test_matcher_topk.c): the availability day of the hot
 * record, the range and progression buckets of the posting keys, and the
 * quick filter and distance bounds of the kernel against the full filter
 * and the haversine. */
#include "jm/clock.h"
#include "jm/dk.h"
#include "jm_test.h"
#include "matcher_gen.h"
#include "matcher_topk.h"

#define NOW_MS 1795435200000LL /* 2026-11-23 12:00 UTC */

/* The hot record keeps the availability date in 16 bits: "now" and past
 * dates are 0, real dates themselves, and dates past 2149 the last day
 * (still later than any order's start). */
static void
test_availability_day_bounds(void **state)
{
    (void) state;
    assert_int_equal(matcher_hot_day(MATCHER_DATE_NONE), 0);
    assert_int_equal(matcher_hot_day(-5), 0);
    assert_int_equal(matcher_hot_day(0), 0);
    assert_int_equal(matcher_hot_day(20461), 20461); /* 2026-01-08 */
    assert_int_equal(matcher_hot_day(UINT16_MAX), UINT16_MAX);
    assert_int_equal(matcher_hot_day(70000), UINT16_MAX);
}

/* The buckets in postings are upper bounds, ordered as the values. */
static void
test_posting_buckets_bound(void **state)
{
    unsigned prev = 0;

    (void) state;
    for (unsigned r = 0; r <= 2000; r++) {
        unsigned b = matcher_range_bucket(r);

        assert_true(b < MATCHER_RBUCKETS);
        assert_true(b >= prev); /* longer range, never a lower bucket */
        assert_true(matcher_range_top(b) >=
                    (r > MATCHER_RANGE_CAP ? MATCHER_RANGE_CAP : r));
        if (b > 0)
            assert_true(matcher_range_top(b - 1) < r);
        prev = b;
    }
    assert_int_equal(matcher_range_bucket(MATCHER_RANGE_CAP),
                     MATCHER_RBUCKET_ANY);
    for (unsigned p = 0; p <= 255; p++) {
        unsigned b = matcher_progress_bucket(p);
        unsigned v = p > MATCHER_PROGRESS_MAX ? MATCHER_PROGRESS_MAX / 2 : p;

        assert_true(b < 4);
        assert_true((b + 1) * 50 >= v);
    }
    /* A posting's key is above its position bits, and orders postings by
     * range first, then progression, then the two flags. */
    assert_true(
        matcher_posting(5, matcher_key(40, 0, false, 1)) >
        matcher_posting(MATCHER_SLOT_MASK, matcher_key(39, 200, true, 80)));
    assert_true(
        matcher_posting(5, matcher_key(40, 120, false, 1)) >
        matcher_posting(MATCHER_SLOT_MASK, matcher_key(40, 90, true, 80)));
    assert_true(
        matcher_posting(5, matcher_key(40, 120, true, 1)) >
        matcher_posting(MATCHER_SLOT_MASK, matcher_key(40, 120, false, 80)));
    assert_int_equal(matcher_posting(77, matcher_key(40, 120, true, 30)) &
                         MATCHER_SLOT_MASK,
                     77);
    assert_int_equal(MATCHER_POSTING_RBUCKET(
                         matcher_posting(77, matcher_key(40, 120, 0, 0))),
                     matcher_range_bucket(40));
    assert_int_equal(MATCHER_POSTING_PBUCKET(
                         matcher_posting(77, matcher_key(40, 120, 1, 0))),
                     2);
    /* The flags: consent, and hours at or above the split. */
    assert_int_equal(matcher_key(0, 0, true, MATCHER_HOURS_SPLIT - 1),
                     MATCHER_KEY_CONSENT);
    assert_int_equal(matcher_key(0, 0, false, MATCHER_HOURS_SPLIT),
                     MATCHER_KEY_HOURS);
    assert_int_equal(MATCHER_POSTING_KEY(matcher_posting(
                         MATCHER_SLOT_MASK, (1u << MATCHER_KEY_BITS) - 1)),
                     (1u << MATCHER_KEY_BITS) - 1);
    assert_int_equal(matcher_key(MATCHER_RANGE_CAP, 200, true, 80),
                     (1u << MATCHER_KEY_BITS) - 1);
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
            const matcher_hot *h = matcher_hot_of(ix, p);
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
        cmocka_unit_test(test_availability_day_bounds),
        cmocka_unit_test(test_posting_buckets_bound),
        cmocka_unit_test(test_quick_filter_and_distance_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
