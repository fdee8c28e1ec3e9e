/* matcher_kernel_check.c - a quick check of the matching kernel at scale:
 * builds a random population (matcher_gen: Zipf skills, real Danish
 * postcodes), reports the index's heap per citizen, the top-k latency
 * p50/p99 over every open order, the time of a full re-match, and checks
 * a sample of orders against the exhaustive scan.
 *
 *   matcher_kernel_check [PROFILES [ORDERS [VOCAB [ZIPF [K [esco]]]]]]
 *
 * Defaults are the targets of issue 5: 200,000 citizens with 10-30
 * skills, 13,000 orders with 5-15 skills, 13,896 skills (ESCO 1.1.1),
 * Zipf exponent 1.0, k = 20, skills drawn independently. "esco" draws
 * them from ESCO occupations instead (matcher_gen.h). Run it from a Release
 * build (-DJM_SANITIZE= none) for meaningful times; ctest runs a small instance
 * for the equality check only. Exit status 1 if a sample differs from the scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "jm/clock.h"
#include "jm/mem.h"
#include "matcher_gen.h"
#include "matcher_topk.h"

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    gen_opts opts = {
        .profiles = argc > 1 ? (unsigned) atoi(argv[1]) : 200000,
        .orders = argc > 2 ? (unsigned) atoi(argv[2]) : 13000,
        .vocab = argc > 3 ? (unsigned) atoi(argv[3]) : 13896,
        .occupations = 3007,
        .zipf = argc > 4 ? atof(argv[4]) : 1.0,
        .skills_min = 10,
        .skills_max = 30,
        .oskills_min = 5,
        .oskills_max = 15,
        .seed = 42,
    };
    size_t k = argc > 5 ? (size_t) atoi(argv[5]) : 20;
    jm_esco_t *esco = NULL;
    matcher_hit *hits = jm_xcalloc(k, sizeof(*hits));
    matcher_hit *ref = jm_xcalloc(k, sizeof(*ref));
    matcher_index_t *ix;
    matcher_index_stats st;
    matcher_ctx ctx;
    uint64_t *lat, t0, total = 0, considered = 0, eligible = 0, scored = 0;
    size_t n = 0, rss;
    int bad = 0;
    gen_t g;

    if (argc > 6 && strcmp(argv[6], "esco") == 0) {
        if (jm_esco_load(&esco, NULL) != 0)
            return 2;
        opts.esco = esco;
    }
    jm_clock_set_fake(1795435200000LL);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    t0 = uv_hrtime();
    matcher_index_reserve(ix, opts.profiles, opts.orders);
    gen_populate(&g, ix);
    matcher_index_compact(ix);
    printf("populated %u citizens, %u orders in %.0f ms\n", opts.profiles,
           opts.orders, (double) (uv_hrtime() - t0) / 1e6);
    matcher_index_get_stats(ix, &st);
    uv_resident_set_memory(&rss);
    printf("index: %llu postings, %u terms; citizen heap %.0f bytes each, "
           "orders %.1f MB, total %.1f MB (RSS %.1f MB)\n",
           (unsigned long long) st.postings, st.terms,
           (double) st.profile_bytes / st.profiles, st.order_bytes / 1e6,
           st.total_bytes / 1e6, rss / 1e6);

    lat = jm_xcalloc(ix->oused, sizeof(uint64_t));
    for (uint32_t s = 0; s < ix->oused; s++) {
        matcher_topk_stats qs;
        uint64_t t;

        if (ix->orders[s].rec == NULL)
            continue;
        t = uv_hrtime();
        matcher_topk_order(ix, &ix->orders[s], &ctx, k, hits, &qs);
        lat[n] = uv_hrtime() - t;
        total += lat[n++];
        considered += qs.considered;
        eligible += qs.eligible;
        scored += qs.scored;
    }
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("top-%zu over %zu orders: p50 %.1f us, p90 %.1f us, p99 %.1f us, "
           "max %.1f us; full re-match %.0f ms; mean considered %.0f, "
           "eligible %.0f, scored %.0f\n",
           k, n, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
           lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3, total / 1e6,
           (double) considered / n, (double) eligible / n, (double) scored / n);

    /* The exhaustive scan is slow: a sample. */
    for (uint32_t s = 0, checked = 0; s < ix->oused && checked < 25;
         s += 1 + ix->oused / 25) {
        size_t a, b;

        if (ix->orders[s].rec == NULL)
            continue;
        a = matcher_topk_order(ix, &ix->orders[s], &ctx, k, hits, NULL);
        b = matcher_topk_order_scan(ix, &ix->orders[s], &ctx, k, ref, NULL);
        bad |= a != b;
        for (size_t i = 0; i < a && i < b; i++)
            bad |= hits[i].slot != ref[i].slot || hits[i].score != ref[i].score;
        checked++;
    }
    printf("sample against the exhaustive scan: %s\n",
           bad ? "DIFFERS" : "same");
    free(lat);
    free(hits);
    free(ref);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_esco_destroy(&esco);
    return bad ? 1 : 0;
}
