/* fuzz_index.c - what the matcher's fuzz targets share (fuzz_index.h). */
#include "fuzz_index.h"

#include <stdio.h>

#include "fuzz.h"
#include "jm/clock.h"
#include "matcher_fixture.h"
#include "matcher_topk.h"

/* Aborts unless hits[0..n) are scan[0..ns), bit for bit. */
static void
same_hits(const matcher_hit *hits, size_t n, const matcher_hit *scan, size_t ns)
{
    fuzz_check(n == ns);
    for (size_t i = 0; i < n; i++)
        fuzz_check(hits[i].slot == scan[i].slot &&
                   hits[i].score == scan[i].score);
}

void
fuzz_search_equals_scan(matcher_index_t *ix, const matcher_order *o, size_t k)
{
    matcher_ctx ctx;
    matcher_hit scan[FUZZ_KMAX], hits[FUZZ_KMAX];
    size_t ns, n;

    fuzz_check(k <= FUZZ_KMAX);
    matcher_ctx_now(&ctx);
    ns = matcher_topk_order_scan(ix, o, &ctx, k, scan, NULL);
    n = matcher_topk_order(ix, o, &ctx, k, hits, NULL);
    same_hits(hits, n, scan, ns);
    n = matcher_topk_order_seeded(ix, o, &ctx, k, hits, NULL, scan + ns / 2,
                                  ns - ns / 2);
    same_hits(hits, n, scan, ns);
}

/* A few orders and citizens the queries can find (ids "o1".., "p1"..),
 * in Glostrup (161) and Albertslund (165), which share. */
void
fuzz_index(matcher_index_t **ix_p, matcher_live_t **live_p,
           const jm_esco_t **esco_p)
{
    static const char *const skills[] = {FX_OPERATE_WAREHOUSE, FX_RECEIVE_GOODS,
                                         FX_STACK_GOODS, FX_PICK_ORDERS,
                                         FX_FORKLIFT};
    const uint16_t albertslund[] = {165};
    matcher_index_t *ix;

    jm_clock_set_fake(FUZZ_NOW_MS);
    *esco_p = fx_esco();
    matcher_index_new(&ix);
    matcher_index_add_agreement(ix, 161, albertslund, 1);
    for (unsigned i = 0; i < 6; i++) {
        fx_order o;
        char id[8];

        snprintf(id, sizeof(id), "o%u", i + 1);
        fx_order_init(&o, id);
        for (unsigned s = 0; s <= i % 5; s++)
            fx_order_skill(&o, skills[s], s % 3, s % 2 == 0);
        if (i % 2)
            o.o.owner_municipality = "165";
        fx_put_order(ix, &o);
    }
    for (unsigned i = 0; i < 12; i++) {
        fx_profile p;
        char id[8];

        snprintf(id, sizeof(id), "p%u", i + 1);
        fx_profile_init(&p, id);
        for (unsigned s = 0; s < 5; s++) {
            if ((i >> s & 1) == 0)
                fx_profile_skill(&p, skills[s], 1 + (i + s) % 5, 2020 + s);
        }
        if (i % 3 == 0) {
            p.home.municipality_code = "165";
            p.consent.neighbour_matching = i % 2 == 0;
        }
        fx_put_profile(ix, &p);
    }
    matcher_live_new(live_p, ix, NULL);
    *ix_p = ix;
}
