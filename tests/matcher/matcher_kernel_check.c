/* matcher_kernel_check.c - a quick check of the matching kernel at scale:
 * builds a random population (matcher_gen: Zipf skills, real Danish
 * postcodes), reports the index's heap per citizen, the top-k latency
 * p50/p99 over every open order, the time of a full re-match, and checks
 * a sample of orders against the exhaustive scan.
 *
 *   matcher_kernel_check [PROFILES [ORDERS [VOCAB [ZIPF [K [esco|zipf
 *                        [full]]]]]]]
 *
 * Defaults are the targets of issue 5: 200,000 citizens with 10-30
 * skills, 13,000 orders with 5-15 skills, 13,896 skills (ESCO 1.1.1),
 * Zipf exponent 1.0, k = 20, skills drawn independently. "esco" draws
 * them from ESCO occupations instead (matcher_gen.h). "full" also builds
 * every live shortlist (a full re-match), runs the assignment (greedy and
 * exact) over all orders, and writes the population to an LMDB view and
 * times loading it (what a restart after kill -9 costs). Run it from a Release
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
#include "jm/store.h"
#include "matcher_analysis.h"
#include "matcher_gen.h"
#include "matcher_live.h"
#include "matcher_topk.h"
#include "matcher_view.h"

/* Writes the index's records and terms as matcher_view stores them. */
struct dump {
    matcher_index_t *ix;
    jm_dbi orders, profiles, terms;
};

static int
dump_txn(jm_txn_t *txn, void *arg)
{
    struct dump *d = arg;
    int rc;

    for (size_t t = 0; t < matcher_dict_count(d->ix->dict); t++) {
        uint8_t key[2] = {(uint8_t) (t >> 8), (uint8_t) t};
        const char *uri = matcher_dict_uri(d->ix->dict, (uint16_t) t);

        if ((rc = jm_txn_put(txn, d->terms, key, 2, uri, strlen(uri), 0)) != 0)
            return rc;
    }
    for (uint32_t i = 0; i < d->ix->pused; i++) {
        _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
        const struct matcher_profile_rec *r = (const void *) buf;
        size_t size;

        if (!matcher_slot_live(d->ix, i))
            continue;
        size = matcher_index_profile_record(d->ix, i, buf);
        if ((rc = jm_txn_put(txn, d->profiles, matcher_profile_id(r), r->id_len,
                             r, size, 0)) != 0)
            return rc;
    }
    for (uint32_t i = 0; i < d->ix->oused; i++) {
        const struct matcher_order_rec *r = d->ix->orders[i].rec;

        if (r != NULL &&
            (rc = jm_txn_put(txn, d->orders, matcher_order_id(r), r->id_len, r,
                             matcher_order_size(r), 0)) != 0)
            return rc;
    }
    return 0;
}

static void
check_load(matcher_index_t *ix)
{
    char dir[] = "/tmp/matcher-check-XXXXXX", cmd[64];
    matcher_view_opts opts = {.data_dir = dir, .sources = 1};
    struct dump d = {.ix = ix};
    matcher_index_t *copy;
    matcher_view_t *view;
    matcher_view_stats st;
    matcher_index_stats is;
    jm_store_t *store;

    if (mkdtemp(dir) == NULL)
        return;
    if (jm_store_open(&store, dir, NULL) != 0 ||
        jm_store_dbi(store, "orders", false, &d.orders) != 0 ||
        jm_store_dbi(store, "profiles", false, &d.profiles) != 0 ||
        jm_store_dbi(store, "terms", false, &d.terms) != 0 ||
        jm_store_write(store, dump_txn, &d) != 0) {
        printf("writing the view failed\n");
        return;
    }
    jm_store_destroy(&store);
    matcher_index_new(&copy);
    if (matcher_view_open(&view, copy, &opts) == 0) {
        matcher_view_get_stats(view, &st);
        matcher_index_get_stats(copy, &is);
        printf("restart: view of %u citizens, %u orders loaded in %.0f ms; "
               "citizen heap %.0f bytes each\n",
               is.profiles, is.orders, st.load_ms,
               (double) is.profile_bytes / is.profiles);
        matcher_view_destroy(&view);
    }
    matcher_index_destroy(&copy);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
}

static void
check_full(matcher_index_t *ix)
{
    matcher_assign_opts ao = {.max_per_citizen = 3, .factor = 2};
    matcher_assignment res;
    matcher_live_t *live;
    matcher_live_opts lo = {.shortlist_size = 20};
    matcher_ctx ctx;
    uint64_t t0;

    matcher_ctx_now(&ctx);
    t0 = uv_hrtime();
    matcher_live_new(&live, ix, &lo);
    while (matcher_live_work(live, 1000000))
        ;
    {
        matcher_live_stats ls;
        matcher_index_stats is;

        matcher_live_get_stats(live, &ls);
        matcher_index_get_stats(ix, &is);
        printf("live shortlists of every order (full re-match): %.0f ms; "
               "with them, heap per citizen %.0f bytes\n",
               (double) (uv_hrtime() - t0) / 1e6,
               (double) (is.total_bytes + ls.bytes) / is.profiles);
    }
    matcher_assign_run(ix, live, &ctx, &ao, &res);
    printf("assign greedy: %zu proposals, total %.1f, %.1f ms\n", res.n,
           res.total, res.elapsed_us / 1000.0);
    free(res.proposals);
    ao.exact = true;
    matcher_assign_run(ix, live, &ctx, &ao, &res);
    printf("assign exact: %zu proposals, total %.1f (greedy %.1f, gap "
           "%.3f%%), max %u per citizen, Gini %.3f, %.1f ms\n",
           res.n, res.exact_total, res.greedy_total, res.gap * 100.0,
           res.max_per_citizen, res.gini, res.elapsed_us / 1000.0);
    free(res.proposals);
    matcher_live_destroy(&live);
    check_load(ix);
}

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
    uint64_t *lat, t0, total = 0, considered = 0, eligible = 0, scored = 0,
                       reads = 0;
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
    gen_populate_bulk(&g, ix);
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
        reads += qs.reads;
    }
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("top-%zu over %zu orders: p50 %.1f us, p90 %.1f us, p99 %.1f us, "
           "max %.1f us; full re-match %.0f ms; mean considered %.0f, "
           "eligible %.0f, scored %.0f, postings read %.0f\n",
           k, n, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
           lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3, total / 1e6,
           (double) considered / n, (double) eligible / n, (double) scored / n,
           (double) reads / n);

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
    if (argc > 7 && strcmp(argv[7], "full") == 0)
        check_full(ix);
    free(lat);
    free(hits);
    free(ref);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_esco_destroy(&esco);
    return bad ? 1 : 0;
}
