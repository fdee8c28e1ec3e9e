/* bench_quality.c - matching quality: does the ranking find the citizens
 * who fit an order, and are proposals spread fairly?
 *
 * Ground truth comes from the generator (jm/sample.h, "esco" skill mode):
 * every citizen is drawn from one ESCO occupation (most of its essential
 * skills, some optional ones, a few unrelated skills as noise, levels 1-5),
 * every order from one occupation (5-15 of its essential skills). For an
 * order, the RELEVANT citizens are those drawn from the order's occupation
 * who pass the order's hard filters (kind, hours, availability, distance,
 * licences, languages, sharing): rankings differ only in how they order
 * the eligible citizens, so relevance is judged among those. Per order
 * with at least one relevant citizen:
 *   precision@10  relevant citizens in the top 10 / size of the top 10;
 *   recall@10     relevant citizens in the top 10 / min(10, relevant).
 * Both are averaged over those orders. Three rankings are compared:
 *   jobmatch            matcher_topk_order (the service's kernel);
 *   jobmatch, no occ.   the same score minus its occupation part (what the
 *                       skills, distance, recency and progression achieve
 *                       alone: the generator gives most citizens their own
 *                       occupation as wished or held, which is a strong
 *                       signal the baseline does not use);
 *   PostgreSQL overlap  the same candidates and hard filters in SQL, ranked
 *                       by the number of the order's skills held.
 *
 * Fairness: every order proposes positions x 2 citizens; per citizen
 * eligible for at least one order, count proposals; report the largest
 * count and the Gini coefficient. "Top-k per order" takes each order's
 * best, independently (what the overlap ranking gives, and jobmatch's
 * shortlists); the assignment (matcher_assign, greedy and exact) caps
 * proposals per citizen at 3 and serves the orders with fewest candidates
 * first.
 *
 *   bench_quality [--profiles N] [--orders M] [--occupations K] [--seed S]
 *                 [--pg CONNINFO] [--json] */
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

#define TOP        10
#define FACTOR     2 /* shortlist factor: proposals per position */
#define PER_PERSON 3 /* the assignment's cap per citizen */

enum { RANK_JOBMATCH, RANK_NO_OCCUPATION, RANK_OVERLAP, RANKS };

static const char *const rank_names[RANKS] = {
    "jobmatch", "jobmatch without occupation part", "PostgreSQL overlap count"};

struct options {
    size_t profiles, orders, occupations;
    uint64_t seed;
    const char *conninfo;
    bool json;
};

struct quality {
    double precision[RANKS], recall[RANKS];
    size_t judged; /* orders with at least one relevant citizen */
    double relevant_mean, eligible_mean;
};

struct fairness {
    const char *name;
    unsigned max;
    double gini;
    size_t proposals, citizens, proposed; /* proposed: with >= 1 */
};

/* Every eligible citizen of an order, best first by the matcher's score:
 * the kernel with k large enough to return them all. */
static size_t
eligible_of(bench_data *bd, size_t j, matcher_hit *hits)
{
    return matcher_topk_order(bd->ix, bench_data_order(bd, j), &bd->ctx,
                              bd->profiles, hits, NULL);
}

static int
compare_hit(const void *a, const void *b)
{
    const matcher_hit *x = a, *y = b;

    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The eligible list re-scored without the occupation part. */
static void
rerank_without_occupation(bench_data *bd, size_t j, matcher_hit *hits, size_t n)
{
    const matcher_order *o = bench_data_order(bd, j);

    for (size_t i = 0; i < n; i++) {
        matcher_parts parts;
        double km;

        (void) matcher_filter(bd->ix, o, hits[i].slot, &bd->ctx, true, &km);
        hits[i].score =
            matcher_score(bd->ix, o, hits[i].slot, &bd->ctx, km, &parts) -
            parts.occupation;
    }
    qsort(hits, n, sizeof(*hits), compare_hit);
}

static void
judge(struct quality *q, int rank, const bench_data *bd, size_t j,
      const uint32_t *top, size_t n, size_t relevant)
{
    size_t hits = 0;

    for (size_t i = 0; i < n; i++)
        hits += bd->profile_occupation[top[i]] == bd->order_occupation[j];
    q->precision[rank] += n ? (double) hits / (double) n : 0;
    q->recall[rank] +=
        (double) hits / (double) (relevant < TOP ? relevant : TOP);
}

static void
fairness_of(struct fairness *f, unsigned *count, const bool *eligible,
            size_t profiles)
{
    unsigned *list = jm_xcalloc(profiles + 1, sizeof(unsigned));
    size_t n = 0;

    f->max = 0;
    f->proposals = 0;
    f->proposed = 0;
    for (size_t i = 0; i < profiles; i++) {
        if (!eligible[i])
            continue;
        list[n++] = count[i];
        f->proposals += count[i];
        f->proposed += count[i] > 0;
        f->max = count[i] > f->max ? count[i] : f->max;
    }
    f->citizens = n;
    f->gini = bench_gini(list, n);
    free(list);
}

/* The matcher's assignment (live shortlists, then matcher_assign_run) and
 * its proposals per citizen. */
static void
assignment_fairness(bench_data *bd, bool exact, const bool *eligible,
                    struct fairness *f)
{
    matcher_live_opts lopts = {0};
    matcher_live_t *live = NULL;
    matcher_assign_opts aopts = {
        .max_per_citizen = PER_PERSON, .factor = FACTOR, .exact = exact};
    matcher_assignment res = {0};
    unsigned *count = jm_xcalloc(bd->profiles, sizeof(unsigned));

    matcher_live_new(&live, bd->ix, &lopts);
    matcher_live_rebuild(live, false);
    while (matcher_live_work(live, 1000000))
        ;
    matcher_assign_run(bd->ix, live, &bd->ctx, &aopts, &res);
    for (size_t i = 0; i < res.n; i++)
        count[bench_data_citizen_of_slot(bd, res.proposals[i].profile)]++;
    f->name =
        exact ? "jobmatch assignment, exact" : "jobmatch assignment, greedy";
    fairness_of(f, count, eligible, bd->profiles);
    free(res.proposals);
    free(count);
    matcher_live_destroy(&live);
}

static void
run(bench_data *bd, const struct options *o, struct quality *q,
    struct fairness *fair, size_t *nfair)
{
    matcher_hit *hits = jm_xcalloc(bd->profiles, sizeof(*hits));
    uint32_t top[TOP], *ids = jm_xcalloc(bd->profiles, sizeof(uint32_t));
    uint32_t *proposed = jm_xcalloc(bd->profiles, sizeof(uint32_t));
    bool *eligible = jm_xcalloc(bd->profiles, sizeof(bool));
    unsigned *by_score = jm_xcalloc(bd->profiles, sizeof(unsigned));
    unsigned *by_overlap = jm_xcalloc(bd->profiles, sizeof(unsigned));
    bench_pg *pg = NULL;
    double eligible_sum = 0, relevant_sum = 0;

    if (o->conninfo != NULL) {
        pg = bench_pg_connect(o->conninfo);
        (void) bench_data_pg_load(bd, pg);
        bench_data_pg_prepare_overlap(pg);
    }
    for (size_t j = 0; j < bd->orders; j++) {
        const matcher_order *ord = bench_data_order(bd, j);
        size_t n = eligible_of(bd, j, hits), relevant = 0, m;
        size_t want = (size_t) ord->rec->positions * FACTOR;

        for (size_t i = 0; i < n; i++) {
            uint32_t c = bench_data_citizen_of_slot(bd, hits[i].slot);

            eligible[c] = true;
            relevant += bd->profile_occupation[c] == bd->order_occupation[j];
            if (i < want)
                by_score[c]++;
            ids[i] = c;
        }
        eligible_sum += (double) n;
        if (pg != NULL) {
            want = want < bd->profiles ? want : bd->profiles;
            m = bench_data_pg_run(bd, pg, "overlap", j, want, proposed, NULL);
            for (size_t i = 0; i < m; i++)
                by_overlap[proposed[i]]++;
        }
        if (relevant == 0)
            continue;
        q->judged++;
        relevant_sum += (double) relevant;
        judge(q, RANK_JOBMATCH, bd, j, ids, n < TOP ? n : TOP, relevant);
        rerank_without_occupation(bd, j, hits, n);
        for (size_t i = 0; i < n && i < TOP; i++)
            top[i] = bench_data_citizen_of_slot(bd, hits[i].slot);
        judge(q, RANK_NO_OCCUPATION, bd, j, top, n < TOP ? n : TOP, relevant);
        if (pg != NULL) {
            m = bench_data_pg_run(bd, pg, "overlap", j, TOP, top, NULL);
            judge(q, RANK_OVERLAP, bd, j, top, m, relevant);
        }
    }
    for (int r = 0; r < RANKS; r++) {
        q->precision[r] /= q->judged ? (double) q->judged : 1;
        q->recall[r] /= q->judged ? (double) q->judged : 1;
    }
    q->eligible_mean = eligible_sum / (double) bd->orders;
    q->relevant_mean = q->judged ? relevant_sum / (double) q->judged : 0;

    fair[0].name = "jobmatch top-k per order";
    fairness_of(&fair[0], by_score, eligible, bd->profiles);
    *nfair = 1;
    if (pg != NULL) {
        fair[1].name = "PostgreSQL overlap top-k per order";
        fairness_of(&fair[1], by_overlap, eligible, bd->profiles);
        *nfair = 2;
    }
    assignment_fairness(bd, false, eligible, &fair[(*nfair)++]);
    assignment_fairness(bd, true, eligible, &fair[(*nfair)++]);
    bench_pg_close(pg);
    free(hits);
    free(ids);
    free(proposed);
    free(eligible);
    free(by_score);
    free(by_overlap);
}

static void
report(const struct options *o, const struct quality *q,
       const struct fairness *fair, size_t nfair, bool pg)
{
    char machine[256];

    bench_machine(machine, sizeof(machine));
    if (o->json) {
        printf("{\"profiles\":%zu,\"orders\":%zu,\"occupations\":%zu,"
               "\"seed\":%llu,\"judged\":%zu,\"relevant_mean\":%.1f,"
               "\"eligible_mean\":%.1f",
               o->profiles, o->orders, o->occupations,
               (unsigned long long) o->seed, q->judged, q->relevant_mean,
               q->eligible_mean);
        for (int r = 0; r < RANKS; r++) {
            if (r == RANK_OVERLAP && !pg)
                continue;
            printf(",\"precision_%d\":%.4f,\"recall_%d\":%.4f", r,
                   q->precision[r], r, q->recall[r]);
        }
        for (size_t f = 0; f < nfair; f++)
            printf(",\"fair_%zu\":{\"name\":\"%s\",\"max\":%u,"
                   "\"gini\":%.4f,\"proposals\":%zu,\"citizens\":%zu}",
                   f, fair[f].name, fair[f].max, fair[f].gini,
                   fair[f].proposals, fair[f].proposed);
        printf("}\n");
        return;
    }
    printf("machine: %s\n", machine);
    printf("data: %zu citizens and %zu orders from %zu ESCO occupations "
           "(whole ISCO-08 unit groups; seed %llu)\n",
           o->profiles, o->orders, o->occupations,
           (unsigned long long) o->seed);
    printf("orders judged: %zu (eligible citizens per order %.1f, relevant "
           "%.1f)\n\n",
           q->judged, q->eligible_mean, q->relevant_mean);
    printf("%-36s %12s %10s\n", "ranking", "precision@10", "recall@10");
    for (int r = 0; r < RANKS; r++) {
        if (r == RANK_OVERLAP && !pg)
            continue;
        printf("%-36s %12.3f %10.3f\n", rank_names[r], q->precision[r],
               q->recall[r]);
    }
    printf("\n%-36s %11s %6s %9s %9s %9s\n", "proposals (positions x 2)",
           "max/citizen", "Gini", "proposals", "citizens", "eligible");
    for (size_t f = 0; f < nfair; f++)
        printf("%-36s %11u %6.3f %9zu %9zu %9zu\n", fair[f].name, fair[f].max,
               fair[f].gini, fair[f].proposals, fair[f].proposed,
               fair[f].citizens);
}

int
main(int argc, char **argv)
{
    struct options o = {
        .profiles = 20000, .orders = 1000, .occupations = 100, .seed = 1};
    struct quality q = {0};
    struct fairness fair[4] = {{0}};
    size_t nfair = 0;
    bench_data_opts dopts;
    bench_data bd;

    jm_log_set_level(JM_LOG_WARN);
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";

        if (strcmp(argv[i], "--json") == 0) {
            o.json = true;
            continue;
        }
        if (strcmp(argv[i], "--profiles") == 0)
            o.profiles = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--orders") == 0)
            o.orders = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--occupations") == 0)
            o.occupations = strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            o.seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i], "--pg") == 0)
            o.conninfo = v;
        else
            bench_fail("usage: bench_quality [--profiles N] [--orders M] "
                       "[--occupations K] [--seed S] [--pg CONNINFO] "
                       "[--json]");
        i++;
    }
    if (o.profiles == 0 || o.orders == 0)
        bench_fail("--profiles and --orders must be positive");
    dopts = (bench_data_opts){.profiles = o.profiles,
                              .orders = o.orders,
                              .seed = o.seed,
                              .skills = JM_SAMPLE_SKILLS_ESCO,
                              .occupation_pool = o.occupations,
                              .whole_groups = true};
    bench_data_build(&bd, &dopts);
    {
        const uint32_t *pool;

        /* whole groups: the pool may be a little larger than asked */
        o.occupations = jm_sample_occupations(bd.sample, &pool);
    }
    run(&bd, &o, &q, fair, &nfair);
    report(&o, &q, fair, nfair, o.conninfo != NULL);
    bench_data_free(&bd);
    return 0;
}
