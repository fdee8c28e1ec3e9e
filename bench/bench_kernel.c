/* bench_kernel.c - the matcher's top-k kernel alone, at the scale of
 * issue 5: builds a population in-process (tests/matcher/matcher_gen.c:
 * real Danish postcodes, Zipf-distributed skills), then prints the heap
 * per citizen, the latency of every open order's top-k (p50, p90, p99,
 * max, mean), what the search touched, and the time of a full re-match
 * of every open order the way the service does it (matcher_live built
 * from scratch, then rebuilt with the old lists in place), and checks a sample
 * of orders against the exhaustive scan (exit status 1 if one differs).
 *
 *   bench_kernel [-p PROFILES] [-o ORDERS] [-k K] [-s SEED] [-e]
 *                [-c CHECKS] [-r REPEAT] [-n] [-u] [-C] [-t THREADS]
 *
 *   -p, -o  citizens and open orders (200000, 13000)
 *   -k      shortlist size (20)
 *   -s      generator seed (42)
 *   -e      skills drawn from ESCO occupations (correlated) instead of
 *           independent Zipf draws over ESCO's 13,896 skills
 *   -c      orders checked against the exhaustive scan (50)
 *   -r      time every order this many times, keep each one's fastest
 *           (1: one cold pass, as the service meets them)
 *   -n      no full re-match (the kernel only)
 *   -u      time with this thread's CPU clock instead of the wall clock
 *           (comparisons on a machine others are busy on: it leaves out
 *           the time the process was not running, not the caches shared);
 *           the re-match is always timed with the wall clock
 *   -C      cold: evict the caches before every search (64 MiB written),
 *           as the service meets orders one at a time after idling; use
 *           with -o 1000 or so (each eviction takes a few milliseconds)
 *   -t      threads of the re-match (the service's rebuild_threads;
 *           default: the machine's processors, at most 8); it is timed
 *           with one thread too when this is more
 *
 * Build it Release without sanitizers for meaningful times:
 *   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release -DJM_SANITIZE=none
 *   cmake --build build-rel -j2 --target bench_kernel
 *   build-rel/bench/bench_kernel        (and again with -e) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "jm/clock.h"
#include "jm/esco.h"
#include "jm/mem.h"
#include "matcher_gen.h"
#include "matcher_live.h"
#include "matcher_par.h"
#include "matcher_topk.h"

#define NOW_MS 1795435200000LL /* 2026-11-23 12:00 UTC, as the tests */

struct args {
    unsigned profiles, orders, k, checks, repeat, threads;
    uint64_t seed;
    bool esco, no_rematch, cpu, cold;
};

static bool use_cpu_clock;

/* Nanoseconds, wall or this thread's CPU. */
static uint64_t
now_ns(void)
{
    struct timespec ts;

    if (!use_cpu_clock)
        return uv_hrtime();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}

static int
parse(int argc, char **argv, struct args *a)
{
    int c;

    *a = (struct args){200000, 13000, 20,    50,    1,    0,
                       42,     false, false, false, false};
    a->threads = matcher_par_default_threads(8);
    while ((c = getopt(argc, argv, "p:o:k:s:c:r:t:enuC")) != -1) {
        switch (c) {
        case 'p':
            a->profiles = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case 'o':
            a->orders = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case 'k':
            a->k = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case 's':
            a->seed = strtoull(optarg, NULL, 10);
            break;
        case 'c':
            a->checks = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case 'r':
            a->repeat = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case 't':
            a->threads = (unsigned) strtoul(optarg, NULL, 10);
            break;
        case 'e':
            a->esco = true;
            break;
        case 'n':
            a->no_rematch = true;
            break;
        case 'u':
            a->cpu = true;
            break;
        case 'C':
            a->cold = true;
            break;
        default:
            return -1;
        }
    }
    if (a->profiles == 0 || a->orders == 0 || a->k == 0 || a->repeat == 0 ||
        a->threads == 0 || a->threads > MATCHER_PAR_MAX)
        return -1;
    return 0;
}

/* More than the last-level cache: writing it all evicts the index. */
#define EVICT_BYTES (64u << 20)

static void
evict(unsigned char *buf, unsigned round)
{
    for (size_t i = 0; i < EVICT_BYTES; i += 64)
        buf[i] = (unsigned char) (round + i);
}

/* Every open order's top-k, timed one by one. */
static void
time_kernel(matcher_index_t *ix, const matcher_ctx *ctx, const struct args *a)
{
    matcher_hit *hits = jm_xcalloc(a->k, sizeof(*hits));
    uint64_t *lat = jm_xcalloc(ix->oused, sizeof(uint64_t));
    uint64_t total = 0, considered = 0, scored = 0, reads = 0;
    unsigned char *junk = a->cold ? jm_xmalloc(EVICT_BYTES) : NULL;
    size_t n = 0;

    for (uint32_t s = 0; s < ix->oused; s++) {
        matcher_topk_stats st;
        uint64_t best = UINT64_MAX;

        if (ix->orders[s].rec == NULL)
            continue;
        for (unsigned r = 0; r < a->repeat; r++) {
            uint64_t t;

            if (junk != NULL)
                evict(junk, s + r);
            t = now_ns();

            matcher_topk_order(ix, &ix->orders[s], ctx, a->k, hits, &st);
            t = now_ns() - t;
            best = t < best ? t : best;
        }
        lat[n++] = best;
        total += best;
        considered += st.considered;
        scored += st.scored;
        reads += st.reads;
    }
    qsort(lat, n, sizeof(*lat), cmp_u64);
    printf("top-%u of %zu orders: p50 %.1f us, p90 %.1f us, p99 %.1f us, "
           "max %.1f us, mean %.1f us (sum %.0f ms)\n",
           a->k, n, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
           lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3, total / 1e3 / n,
           total / 1e6);
    printf("  per order: %.0f postings read, %.0f citizens considered, "
           "%.0f scored\n",
           (double) reads / n, (double) considered / n, (double) scored / n);
    free(lat);
    free(hits);
    free(junk);
}

/* Every live list built from nothing on this many threads; returns the
 * milliseconds (wall clock) and the lists in *live_p. */
static double
build_lists(matcher_index_t *ix, unsigned k, unsigned threads,
            matcher_live_t **live_p)
{
    matcher_live_opts lo = {.shortlist_size = k, .threads = threads};
    uint64_t t0 = uv_hrtime();

    matcher_live_new(live_p, ix, &lo);
    /* In slices of the service's rebuild_slice_us (5,000 us) */
    while (matcher_live_work(*live_p, 5000))
        ;
    return (double) (uv_hrtime() - t0) / 1e6;
}

/* The service's full re-match: every live list rebuilt from scratch, on
 * one thread and on a->threads. */
static void
time_rematch(matcher_index_t *ix, const struct args *a)
{
    matcher_live_t *live;
    matcher_live_stats ls;
    matcher_index_stats is;
    uint64_t t0;

    if (a->threads > 1) {
        printf("full re-match of every open order (live lists), 1 thread: "
               "%.0f ms\n",
               build_lists(ix, a->k, 1, &live));
        matcher_live_destroy(&live);
    }
    printf("full re-match of every open order (live lists), %u thread%s: "
           "%.0f ms\n",
           a->threads, a->threads > 1 ? "s" : "",
           build_lists(ix, a->k, a->threads, &live));
    /* Again with the lists in place, as after a batch too large to
     * follow (matcher_live_rebuild): each search is seeded with its
     * order's old list. */
    t0 = uv_hrtime();
    matcher_live_rebuild(live, false);
    while (matcher_live_work(live, 5000))
        ;
    printf("  again, every list stale but in place: %.0f ms\n",
           (double) (uv_hrtime() - t0) / 1e6);
    matcher_live_get_stats(live, &ls);
    matcher_index_get_stats(ix, &is);
    printf("  heap per citizen with orders, dictionary and live lists: "
           "%.0f bytes\n",
           (double) (is.total_bytes + ls.bytes) / is.profiles);
    /* Where it goes, per citizen: what to shrink next. */
    printf("    citizens %.1f, orders %.1f, dictionary %.1f, live lists %.1f\n",
           (double) is.profile_bytes / is.profiles,
           (double) is.order_bytes / is.profiles,
           (double) (is.total_bytes - is.profile_bytes - is.order_bytes) /
               is.profiles,
           (double) ls.bytes / is.profiles);
    matcher_live_destroy(&live);
}

/* A sample of orders, spread over all of them, against the scan. */
static int
check(matcher_index_t *ix, const matcher_ctx *ctx, const struct args *a)
{
    matcher_hit *x = jm_xcalloc(a->k, sizeof(*x));
    matcher_hit *y = jm_xcalloc(a->k, sizeof(*y));
    unsigned checked = 0, bad = 0;

    for (uint32_t s = 0; a->checks > 0 && s < ix->oused;
         s += 1 + ix->oused / a->checks) {
        size_t nx, ny;

        if (ix->orders[s].rec == NULL)
            continue;
        nx = matcher_topk_order(ix, &ix->orders[s], ctx, a->k, x, NULL);
        ny = matcher_topk_order_scan(ix, &ix->orders[s], ctx, a->k, y, NULL);
        bad += nx != ny;
        for (size_t i = 0; nx == ny && i < nx; i++) {
            if (x[i].slot != y[i].slot || x[i].score != y[i].score) {
                bad++;
                break;
            }
        }
        checked++;
    }
    printf("%u orders against the exhaustive scan: %s\n", checked,
           bad ? "DIFFER" : "same");
    free(x);
    free(y);
    return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
    struct args a;
    gen_opts opts;
    jm_esco_t *esco = NULL;
    matcher_index_t *ix;
    matcher_index_stats st;
    matcher_ctx ctx;
    uint64_t t0;
    gen_t g;
    int rc;

    if (parse(argc, argv, &a) != 0) {
        fprintf(stderr,
                "usage: bench_kernel [-p PROFILES] [-o ORDERS] [-k K] "
                "[-s SEED] [-e] [-c CHECKS] [-r REPEAT] [-n] [-u] [-C]\n");
        return 2;
    }
    use_cpu_clock = a.cpu;
    if (a.esco && jm_esco_load(&esco, NULL) != 0) {
        fprintf(stderr, "bench_kernel: cannot load ESCO\n");
        return 2;
    }
    opts = (gen_opts){
        .profiles = a.profiles,
        .orders = a.orders,
        .vocab = 13896, /* ESCO 1.1.1's skills */
        .occupations = 3007,
        .zipf = 1.0,
        .skills_min = 10,
        .skills_max = 30,
        .oskills_min = 5,
        .oskills_max = 15,
        .seed = a.seed,
        .esco = esco,
    };
    jm_clock_set_fake(NOW_MS);
    matcher_ctx_now(&ctx);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    t0 = uv_hrtime();
    gen_populate_bulk(&g, ix); /* as the service's load at start */
    matcher_index_get_stats(ix, &st);
    printf("%u citizens, %u open orders, skills %s; built in %.0f ms\n",
           st.profiles, st.orders,
           a.esco ? "from ESCO occupations" : "independent Zipf",
           (double) (uv_hrtime() - t0) / 1e6);
    printf("heap per citizen, the index's citizens: %.1f bytes (%llu "
           "postings)\n",
           (double) st.profile_bytes / st.profiles,
           (unsigned long long) st.postings);
    time_kernel(ix, &ctx, &a);
    if (!a.no_rematch)
        time_rematch(ix, &a);
    rc = check(ix, &ctx, &a);
    gen_release(&g);
    matcher_index_destroy(&ix);
    jm_esco_destroy(&esco);
    return rc;
}
