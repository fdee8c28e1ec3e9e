/* bench_match.c - matching performance: the matcher's top-k kernel, a full
 * re-match of every open order, the assignment, and memory per citizen,
 * side by side with PostgreSQL 15 running the same scoring on the same
 * data (bench/run_match.sh makes the cluster; docs/benchmarks.md has the
 * figures).
 *
 * Before anything is timed, the answers are checked: for a sample of
 * orders the kernel's top-k must equal the exhaustive scan's
 * (matcher_topk_order_scan) and PostgreSQL's (same ids, same order, scores
 * equal to the last bit). A mismatch ends the program with exit 1: a fast
 * wrong answer is not a result.
 *
 *   bench_match [--profiles N] [--orders M] [--seed S] [--k K]
 *               [--skills zipf|esco] [--pg CONNINFO] [--pg-queries Q]
 *               [--check C] [--threads T] [--json]
 *
 * --threads: of the live lists' rebuild (the service's rebuild_threads;
 * default the machine's processors, at most 8), timed on one thread too. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "bench_util.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "matcher_analysis.h"
#include "matcher_live.h"
#include "matcher_par.h"

struct options {
    size_t profiles, orders, k, pg_queries, check, threads;
    uint64_t seed;
    const char *conninfo;
    bool json;
    jm_sample_skills skills;
};

struct results {
    char machine[256];
    double load_s, bytes_per_profile;
    size_t index_bytes_per_profile;
    double all_bytes_per_profile; /* with orders, dictionary, live lists */
    double kernel_p50_us, kernel_p99_us, kernel_mean_us, kernel_max_us;
    double rematch_s, live_s, live_par_s;
    double greedy_ms, exact_ms, greedy_total, exact_total, gap, gini;
    size_t proposals;
    unsigned max_per_citizen;
    double eligible_mean;
    size_t checked_scan, checked_pg;
    double pg_load_s, pg_p50_ms, pg_p99_ms, pg_mean_ms;
    char *pg_version;
};

static void
usage(void)
{
    fprintf(stderr, "usage: bench_match [--profiles N] [--orders M] [--seed S] "
                    "[--k K]\n"
                    "                   [--skills zipf|esco] [--pg CONNINFO] "
                    "[--pg-queries Q] [--check "
                    "C] [--threads T] [--json]\n");
    exit(2);
}

static void
parse(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (v == NULL)
            usage();
        if (strcmp(a, "--profiles") == 0)
            o->profiles = strtoul(v, NULL, 10);
        else if (strcmp(a, "--orders") == 0)
            o->orders = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--k") == 0)
            o->k = strtoul(v, NULL, 10);
        else if (strcmp(a, "--pg") == 0)
            o->conninfo = v;
        else if (strcmp(a, "--pg-queries") == 0)
            o->pg_queries = strtoul(v, NULL, 10);
        else if (strcmp(a, "--check") == 0)
            o->check = strtoul(v, NULL, 10);
        else if (strcmp(a, "--threads") == 0)
            o->threads = strtoul(v, NULL, 10);
        else if (strcmp(a, "--skills") == 0 && strcmp(v, "esco") == 0)
            o->skills = JM_SAMPLE_SKILLS_ESCO;
        else if (strcmp(a, "--skills") == 0 && strcmp(v, "zipf") == 0)
            o->skills = JM_SAMPLE_SKILLS_ZIPF;
        else
            usage();
        i++;
    }
    if (o->profiles == 0 || o->orders == 0 || o->k == 0 || o->k > 200 ||
        o->threads == 0 || o->threads > MATCHER_PAR_MAX)
        usage();
}

/* The orders checked and timed against PostgreSQL: spread evenly. */
static size_t
spread(size_t i, size_t count, size_t total)
{
    return count >= total ? i : i * total / count;
}

/* Same ids in the same order and bit-identical scores. */
static void
check_same(const char *what, size_t j, const bench_data *bd,
           const matcher_hit *a, size_t na, const uint32_t *ids,
           const double *scores, size_t nb)
{
    if (na != nb)
        bench_fail("order %zu: %zu candidates, %s found %zu", j, na, what, nb);
    for (size_t r = 0; r < na; r++) {
        uint32_t citizen = bench_data_citizen_of_slot(bd, a[r].slot);

        if (citizen != ids[r] || a[r].score != scores[r])
            bench_fail("order %zu rank %zu: matcher p%07u %.17g, %s p%07u "
                       "%.17g",
                       j, r, citizen, a[r].score, what, ids[r], scores[r]);
    }
}

static void
check_scan(bench_data *bd, const struct options *o, struct results *res)
{
    matcher_hit *a = jm_xcalloc(o->k, sizeof(*a));
    matcher_hit *b = jm_xcalloc(o->k, sizeof(*b));
    uint32_t *ids = jm_xcalloc(o->k, sizeof(*ids));
    double *scores = jm_xcalloc(o->k, sizeof(*scores));

    for (size_t i = 0; i < o->check && i < bd->orders; i++) {
        size_t j = spread(i, o->check, bd->orders), na, nb;
        const matcher_order *ord = bench_data_order(bd, j);

        na = matcher_topk_order(bd->ix, ord, &bd->ctx, o->k, a, NULL);
        nb = matcher_topk_order_scan(bd->ix, ord, &bd->ctx, o->k, b, NULL);
        for (size_t r = 0; r < nb; r++) {
            ids[r] = bench_data_citizen_of_slot(bd, b[r].slot);
            scores[r] = b[r].score;
        }
        check_same("the scan", j, bd, a, na, ids, scores, nb);
        res->checked_scan++;
    }
    free(a);
    free(b);
    free(ids);
    free(scores);
}

static void
time_kernel(bench_data *bd, const struct options *o, struct results *res)
{
    matcher_hit *hits = jm_xcalloc(o->k, sizeof(*hits));
    double *us = jm_xcalloc(bd->orders, sizeof(double));
    double sum = 0, eligible = 0;
    uint64_t start;

    /* One untimed pass warms the caches the way a running service has
     * them warm; the timed pass is then the full re-match. */
    for (size_t j = 0; j < bd->orders; j++)
        (void) matcher_topk_order(bd->ix, bench_data_order(bd, j), &bd->ctx,
                                  o->k, hits, NULL);
    start = bench_now_ns();
    for (size_t j = 0; j < bd->orders; j++) {
        matcher_topk_stats st = {0};
        uint64_t t0 = bench_now_ns();

        (void) matcher_topk_order(bd->ix, bench_data_order(bd, j), &bd->ctx,
                                  o->k, hits, &st);
        us[j] = (double) (bench_now_ns() - t0) / 1e3;
        sum += us[j];
        eligible += st.eligible;
    }
    res->rematch_s = (double) (bench_now_ns() - start) / 1e9;
    res->kernel_mean_us = sum / (double) bd->orders;
    res->eligible_mean = eligible / (double) bd->orders;
    res->kernel_p50_us = bench_percentile(us, bd->orders, 50);
    res->kernel_p99_us = bench_percentile(us, bd->orders, 99);
    res->kernel_max_us = us[bd->orders - 1];
    free(hits);
    free(us);
}

/* Every live list built from nothing on this many threads, the
 * service's way; returns the seconds and the lists in *live_p. */
static double
build_lists(bench_data *bd, size_t threads, matcher_live_t **live_p)
{
    matcher_live_opts lopts = {.threads = (unsigned) threads};
    uint64_t t0 = bench_now_ns();

    matcher_live_new(live_p, bd->ix, &lopts);
    /* In slices of the service's rebuild_slice_us (5,000 us) */
    while (matcher_live_work(*live_p, 5000))
        ;
    return (double) (bench_now_ns() - t0) / 1e9;
}

/* The service's way: live shortlists (matcher_live) built from scratch,
 * on one thread and on o->threads, then the assignment over them, greedy
 * and exact, as GetAssignment runs it for every open order (max 3
 * proposals per citizen, 2 per position). */
static void
time_live_and_assign(bench_data *bd, const struct options *o,
                     struct results *res)
{
    matcher_live_t *live = NULL;
    matcher_assign_opts aopts = {.max_per_citizen = 3, .factor = 2};
    matcher_assignment greedy = {0}, exact = {0};
    uint64_t t0;

    res->live_s = build_lists(bd, 1, &live);
    if (o->threads > 1) {
        matcher_live_destroy(&live);
        res->live_par_s = build_lists(bd, o->threads, &live);
    } else {
        res->live_par_s = res->live_s;
    }

    t0 = bench_now_ns();
    matcher_assign_run(bd->ix, live, &bd->ctx, &aopts, &greedy);
    res->greedy_ms = (double) (bench_now_ns() - t0) / 1e6;
    aopts.exact = true;
    t0 = bench_now_ns();
    matcher_assign_run(bd->ix, live, &bd->ctx, &aopts, &exact);
    res->exact_ms = (double) (bench_now_ns() - t0) / 1e6;
    {
        matcher_index_stats st;
        matcher_live_stats ls;

        matcher_index_get_stats(bd->ix, &st);
        matcher_live_get_stats(live, &ls);
        res->all_bytes_per_profile =
            (double) (st.total_bytes + ls.bytes) / (double) st.profiles;
    }
    res->greedy_total = greedy.total;
    res->exact_total = exact.total;
    res->gap = exact.gap;
    res->gini = exact.gini;
    res->proposals = exact.n;
    res->max_per_citizen = exact.max_per_citizen;
    free(greedy.proposals);
    free(exact.proposals);
    matcher_live_destroy(&live);
}

static void
run_pg(bench_data *bd, const struct options *o, struct results *res)
{
    bench_pg *pg = bench_pg_connect(o->conninfo);
    matcher_hit *a = jm_xcalloc(o->k, sizeof(*a));
    uint32_t *ids = jm_xcalloc(o->k, sizeof(*ids));
    double *scores = jm_xcalloc(o->k, sizeof(*scores));
    double *ms = jm_xcalloc(o->pg_queries + 1, sizeof(double)), sum = 0;

    res->pg_version = bench_pg_version(pg);
    res->pg_load_s = bench_data_pg_load(bd, pg);
    bench_data_pg_prepare_topk(pg);
    for (size_t i = 0; i < o->check && i < bd->orders; i++) {
        size_t j = spread(i, o->check, bd->orders), na, nb;

        na = matcher_topk_order(bd->ix, bench_data_order(bd, j), &bd->ctx, o->k,
                                a, NULL);
        nb = bench_data_pg_run(bd, pg, "topk", j, o->k, ids, scores);
        check_same("PostgreSQL", j, bd, a, na, ids, scores, nb);
        res->checked_pg++;
    }
    for (size_t i = 0; i < o->pg_queries; i++) {
        /* Other orders than the checked ones: no warm result cache. */
        size_t j = (spread(i, o->pg_queries, bd->orders) + 1) % bd->orders;
        uint64_t t0 = bench_now_ns();

        (void) bench_data_pg_run(bd, pg, "topk", j, o->k, ids, scores);
        ms[i] = (double) (bench_now_ns() - t0) / 1e6;
        sum += ms[i];
    }
    res->pg_mean_ms = o->pg_queries ? sum / (double) o->pg_queries : 0;
    res->pg_p50_ms = bench_percentile(ms, o->pg_queries, 50);
    res->pg_p99_ms = bench_percentile(ms, o->pg_queries, 99);
    bench_pg_close(pg);
    free(a);
    free(ids);
    free(scores);
    free(ms);
}

static void
report(const struct options *o, const struct results *r)
{
    if (o->json) {
        printf("{\"machine\":\"%s\",\"profiles\":%zu,\"orders\":%zu,"
               "\"k\":%zu,\"seed\":%llu,\"load_s\":%.3f,"
               "\"bytes_per_profile\":%.1f,\"index_bytes_per_profile\":%zu,"
               "\"all_bytes_per_profile\":%.1f,"
               "\"kernel_p50_us\":%.2f,\"kernel_p99_us\":%.2f,"
               "\"kernel_mean_us\":%.2f,\"kernel_max_us\":%.2f,"
               "\"eligible_mean\":%.1f,\"rematch_s\":%.3f,"
               "\"live_rebuild_s\":%.3f,\"threads\":%zu,"
               "\"live_rebuild_threads_s\":%.3f,\"assign_greedy_ms\":%.1f,"
               "\"assign_exact_ms\":%.1f,\"assign_gap\":%.5f,"
               "\"checked_scan\":%zu,\"checked_pg\":%zu,"
               "\"pg_load_s\":%.1f,\"pg_p50_ms\":%.2f,\"pg_p99_ms\":%.2f,"
               "\"pg_mean_ms\":%.2f}\n",
               r->machine, o->profiles, o->orders, o->k,
               (unsigned long long) o->seed, r->load_s, r->bytes_per_profile,
               r->index_bytes_per_profile, r->all_bytes_per_profile,
               r->kernel_p50_us, r->kernel_p99_us, r->kernel_mean_us,
               r->kernel_max_us, r->eligible_mean, r->rematch_s, r->live_s,
               o->threads, r->live_par_s, r->greedy_ms, r->exact_ms, r->gap,
               r->checked_scan, r->checked_pg, r->pg_load_s, r->pg_p50_ms,
               r->pg_p99_ms, r->pg_mean_ms);
        return;
    }
    printf("machine: %s\n", r->machine);
    printf("data: %zu citizens, %zu open orders, %s, seed %llu, top-%zu\n",
           o->profiles, o->orders,
           o->skills == JM_SAMPLE_SKILLS_ZIPF
               ? "skills Zipf over all ESCO skills (10-30 per citizen, 5-15 "
                 "essential per order)"
               : "skills from ESCO occupations (correlated)",
           (unsigned long long) o->seed, o->k);
    printf("index load             %8.3f s (records into the index)\n",
           r->load_s);
    if (r->bytes_per_profile > 0)
        printf("memory per citizen     %8.1f B (malloc delta), %zu B (index "
               "accounting)\n",
               r->bytes_per_profile, r->index_bytes_per_profile);
    else /* mallinfo2 sees nothing under ASan's allocator */
        printf("memory per citizen          n/a (malloc delta; a sanitizer "
               "build?), %zu B (index accounting)\n",
               r->index_bytes_per_profile);
    printf("checked                %zu orders against the scan, %zu against "
           "PostgreSQL: identical\n",
           r->checked_scan, r->checked_pg);
    printf("kernel top-%zu          p50 %.1f us  p99 %.1f us  mean %.1f us  "
           "max %.1f us  (eligible per order: %.0f)\n",
           o->k, r->kernel_p50_us, r->kernel_p99_us, r->kernel_mean_us,
           r->kernel_max_us, r->eligible_mean);
    printf("full re-match          %8.3f s (%zu orders, one thread)\n",
           r->rematch_s, o->orders);
    printf("live lists rebuilt     %8.3f s (every order's top 20, "
           "matcher_live, one thread)\n",
           r->live_s);
    if (o->threads > 1)
        printf("live lists rebuilt     %8.3f s (the same on %zu threads: the "
               "service's re-match)\n",
               r->live_par_s, o->threads);
    printf("memory per citizen     %8.1f B (everything: citizens, orders, "
           "dictionary, live lists; index accounting)\n",
           r->all_bytes_per_profile);
    printf("assignment greedy      %8.1f ms  exact %.1f ms  (totals %.3f / "
           "%.3f, gap %.4f %%; %zu proposals, max %u per citizen, Gini "
           "%.3f)\n",
           r->greedy_ms, r->exact_ms, r->greedy_total, r->exact_total,
           r->gap * 100, r->proposals, r->max_per_citizen, r->gini);
    if (r->pg_version != NULL) {
        printf("PostgreSQL             %s\n", r->pg_version);
        printf("PostgreSQL load        %8.1f s (COPY, indexes, ANALYZE)\n",
               r->pg_load_s);
        printf("PostgreSQL top-%zu      p50 %.2f ms  p99 %.2f ms  mean %.2f ms "
               "(%zu queries)\n",
               o->k, r->pg_p50_ms, r->pg_p99_ms, r->pg_mean_ms, o->pg_queries);
        printf("ratio (PostgreSQL / jobmatch)  p50 %.0fx  p99 %.0fx\n",
               r->pg_p50_ms * 1000 / r->kernel_p50_us,
               r->pg_p99_ms * 1000 / r->kernel_p99_us);
    }
}

int
main(int argc, char **argv)
{
    struct options o = {.profiles = 200000,
                        .orders = 13000,
                        .k = 20,
                        .seed = 1,
                        .pg_queries = 300,
                        .check = 200,
                        .threads = matcher_par_default_threads(8),
                        .skills = JM_SAMPLE_SKILLS_ZIPF};
    bench_data_opts dopts;
    struct results res = {0};
    matcher_index_stats st;
    bench_data bd;

    jm_log_set_level(JM_LOG_WARN);
    parse(argc, argv, &o);
    bench_machine(res.machine, sizeof(res.machine));
    dopts = (bench_data_opts){.profiles = o.profiles,
                              .orders = o.orders,
                              .seed = o.seed,
                              .skills = o.skills};
    if (!o.json)
        fprintf(stderr, "generating and indexing %zu citizens, %zu orders\n",
                o.profiles, o.orders);
    bench_data_build(&bd, &dopts);
    res.load_s = (double) bd.profile_load_ns / 1e9;
    res.bytes_per_profile =
        (double) bd.profile_heap_bytes / (double) o.profiles;
    matcher_index_get_stats(bd.ix, &st);
    res.index_bytes_per_profile = st.profile_bytes / o.profiles;

    check_scan(&bd, &o, &res);
    if (o.conninfo != NULL) {
        if (!o.json)
            fprintf(stderr, "loading PostgreSQL and checking %zu orders\n",
                    o.check);
        run_pg(&bd, &o, &res);
    }
    time_kernel(&bd, &o, &res);
    time_live_and_assign(&bd, &o, &res);
    report(&o, &res);
    free(res.pg_version);
    bench_data_free(&bd);
    return 0;
}
