/* matcher_topk.c - top-k search with pruning (see matcher_topk.h).
 *
 * The score of a candidate is a sum over the order's "terms" (each skill,
 * the occupation, the ISCO group) plus parts that do not come from terms
 * (distance, recency, progression). Each term has a largest contribution:
 * the essential weight over the number of essential skills, the
 * occupation weight, ... The search (MaxScore, Turtle & Flood 1995) walks
 * the terms from the rarest (shortest postings) to the commonest and
 * evaluates each citizen fully the first time it meets them (their own
 * sorted skill list gives every other term at once). A citizen first met
 * at term t holds none of the earlier terms, so their score is at most
 * the sum of the largest contributions of terms t.. plus the other parts'
 * maxima. Once that bound is below the k-th best score so far, nobody new
 * can enter the top k: the remaining (common) postings are not read at
 * all. With Zipf-distributed skills those are the long lists that would
 * otherwise touch nearly every citizen.
 *
 * Postings of a skill are split by bucket (a grid cell and a travel-range
 * class). Per bucket the search knows the least distance from the
 * workplace to the cell: a bucket no citizen of which can reach the
 * workplace is skipped whole, and the best distance part any of its
 * citizens could get tightens the bound for that bucket.
 *
 * The result is exactly that of evaluating every candidate (the pruning
 * only skips citizens who provably cannot enter the top k; ties are
 * broken by id, and a citizen equal to the k-th score is never skipped:
 * the bound must be strictly lower). test_matcher_topk checks this
 * against matcher_topk_order_scan on many random instances. The decisions
 * to skip are taken per term and bucket, never in the middle of a
 * segment, so even the counts of considered citizens do not depend on the
 * order of citizens within a segment. */
#include "matcher_topk.h"

#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"

/* Bounds are sums of doubles; actual scores are sums in another order.
 * Skipping needs the bound to be clearly below the threshold. */
#define EPS 1e-9

/* ---- ranking ---- */

static int
id_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);

    return c != 0 ? c : (la > lb) - (la < lb);
}

bool
matcher_profile_before(const matcher_index_t *ix, uint32_t a, double sa,
                       uint32_t b, double sb)
{
    size_t la, lb;
    const char *ia, *ib;

    if (sa != sb)
        return sa > sb;
    ia = matcher_slot_id(ix, a, &la);
    ib = matcher_slot_id(ix, b, &lb);
    return id_cmp(ia, la, ib, lb) < 0;
}

static bool
order_before(const matcher_index_t *ix, uint32_t a, double sa, uint32_t b,
             double sb)
{
    const struct matcher_order_rec *ra, *rb;

    if (sa != sb)
        return sa > sb;
    ra = ix->orders[a].rec;
    rb = ix->orders[b].rec;
    return id_cmp(matcher_order_id(ra), ra->id_len, matcher_order_id(rb),
                  rb->id_len) < 0;
}

static bool
before(const matcher_heap *h, const matcher_hit *a, const matcher_hit *b)
{
    return h->orders ? order_before(h->ix, a->slot, a->score, b->slot, b->score)
                     : matcher_profile_before(h->ix, a->slot, a->score, b->slot,
                                              b->score);
}

/* ---- the heap: hits[0] is the worst of the k best ---- */

void
matcher_heap_init(matcher_heap *h, const matcher_index_t *ix, bool orders,
                  matcher_hit *hits, size_t k)
{
    JM_ASSERT(k >= 1);
    h->ix = ix;
    h->orders = orders;
    h->hits = hits;
    h->n = 0;
    h->k = k;
}

static void
sift_down(matcher_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        matcher_hit t;

        /* The parent must be ranked after (worse than) its children. */
        if (l < h->n && before(h, &h->hits[worst], &h->hits[l]))
            worst = l;
        if (r < h->n && before(h, &h->hits[worst], &h->hits[r]))
            worst = r;
        if (worst == i)
            return;
        t = h->hits[i];
        h->hits[i] = h->hits[worst];
        h->hits[worst] = t;
        i = worst;
    }
}

void
matcher_heap_push(matcher_heap *h, uint32_t slot, double score)
{
    matcher_hit x = {slot, score};

    if (h->n < h->k) {
        size_t i = h->n++;

        h->hits[i] = x;
        while (i > 0) {
            size_t parent = (i - 1) / 2;
            matcher_hit t;

            if (!before(h, &h->hits[parent], &h->hits[i]))
                break;
            t = h->hits[i];
            h->hits[i] = h->hits[parent];
            h->hits[parent] = t;
            i = parent;
        }
        return;
    }
    if (!before(h, &x, &h->hits[0]))
        return;
    h->hits[0] = x;
    sift_down(h, 0);
}

double
matcher_heap_threshold(const matcher_heap *h)
{
    return h->n < h->k ? -1.0 : h->hits[0].score;
}

size_t
matcher_heap_finish(matcher_heap *h)
{
    size_t n = h->n;

    /* Heap sort: pop the worst to the end, n times. */
    while (h->n > 1) {
        matcher_hit t = h->hits[0];

        h->hits[0] = h->hits[--h->n];
        h->hits[h->n] = t;
        sift_down(h, 0);
    }
    h->n = n;
    return n;
}

/* ---- candidates ---- */

bool
matcher_is_candidate(const matcher_index_t *ix, const matcher_order *o,
                     uint32_t slot)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_profile_rec *p = ix->cold[slot];
    const struct matcher_pocc *occs = matcher_profile_occs(p);

    for (unsigned i = 0; i < (unsigned) r->n_ess + r->n_opt; i++) {
        if (matcher_profile_level(p, o->sorted[i].term) > 0)
            return true;
    }
    for (unsigned i = 0; i < p->n_occs; i++) {
        if ((r->occupation != MATCHER_TERM_NONE &&
             occs[i].term == r->occupation) ||
            (r->isco != 0 && occs[i].isco == r->isco))
            return true;
    }
    return false;
}

/* ---- the search ---- */

enum term_kind { TERM_SKILL, TERM_OCCUPATION, TERM_ISCO };

struct term {
    enum term_kind kind;
    uint16_t term;
    uint32_t len;
    double max; /* largest contribution */
    const char *uri;
};

struct search {
    matcher_index_t *ix;
    const matcher_order *o;
    const matcher_ctx *ctx;
    matcher_heap heap;
    matcher_topk_stats stats;
    uint32_t gen;
};

static int
term_cmp(const void *a, const void *b)
{
    const struct term *x = a, *y = b;

    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->uri, y->uri);
}

static void
visit(struct search *s, uint32_t slot)
{
    double d, score;

    if (s->ix->stamp[slot] == s->gen)
        return;
    s->ix->stamp[slot] = s->gen;
    s->stats.considered++;
    if (matcher_filter(s->ix, s->o, slot, s->ctx, false, &d) != 0)
        return;
    s->stats.eligible++;
    score = matcher_score(s->ix, s->o, slot, s->ctx, d, NULL);
    matcher_heap_push(&s->heap, slot, score);
}

/* The terms of o with their postings' lengths and largest contributions;
 * returns how many (at most 128 skills + 2). */
static size_t
order_terms(const matcher_index_t *ix, const matcher_order *o,
            struct term *terms)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);
    size_t n = 0;

    for (unsigned i = 0; i < (unsigned) r->n_ess + r->n_opt; i++) {
        const struct matcher_plist *pl = &ix->skill_profiles[skills[i].term];

        if (pl->count == 0)
            continue;
        terms[n].kind = TERM_SKILL;
        terms[n].term = skills[i].term;
        terms[n].len = pl->count;
        terms[n].max = i < r->n_ess ? MATCHER_W_ESSENTIAL / r->n_ess
                                    : MATCHER_W_OPTIONAL / r->n_opt;
        terms[n].uri = matcher_dict_uri(ix->dict, skills[i].term);
        n++;
    }
    if (r->occupation != MATCHER_TERM_NONE &&
        ix->occ_profiles[r->occupation].len > 0) {
        terms[n].kind = TERM_OCCUPATION;
        terms[n].term = r->occupation;
        terms[n].len = ix->occ_profiles[r->occupation].len;
        terms[n].max = MATCHER_W_OCCUPATION;
        terms[n].uri = "";
        n++;
    }
    if (r->isco > 0 && r->isco < MATCHER_ISCO_CODES &&
        ix->isco_profiles[r->isco].len > 0) {
        terms[n].kind = TERM_ISCO;
        terms[n].term = 0;
        terms[n].len = ix->isco_profiles[r->isco].len;
        /* Exact matches are in this list too, scored at most once. */
        terms[n].max = MATCHER_W_OCCUPATION * 0.5;
        terms[n].uri = "";
        n++;
    }
    qsort(terms, n, sizeof(*terms), term_cmp);
    return n;
}

size_t
matcher_topk_order(matcher_index_t *ix, const matcher_order *o,
                   const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                   matcher_topk_stats *stats)
{
    const struct matcher_order_rec *r = o->rec;
    struct search s = {.ix = ix, .o = o, .ctx = ctx};
    struct term terms[130];
    double suffix[131], base, cell_min[MATCHER_CELLS];
    size_t n;
    bool located = (r->flags & MATCHER_OF_LOCATION) != 0;

    s.gen = matcher_index_next_gen(ix);
    matcher_heap_init(&s.heap, ix, false, hits, k);
    n = order_terms(ix, o, terms);
    suffix[n] = 0.0;
    for (size_t t = n; t-- > 0;)
        suffix[t] = suffix[t + 1] + terms[t].max;
    /* Parts that no term bounds: recency, progression, and the skill
     * parts of an order that lists no skill of that kind (full credit). */
    base = MATCHER_W_RECENCY +
           MATCHER_W_PROGRESSION * matcher_index_max_progression(ix) /
               MATCHER_PROGRESS_MAX +
           (r->n_ess == 0 ? MATCHER_W_ESSENTIAL : 0.0) +
           (r->n_opt == 0 ? MATCHER_W_OPTIONAL : 0.0);
    for (unsigned c = 0; c < MATCHER_CELLS; c++)
        cell_min[c] = -1.0; /* computed when first needed */

    for (size_t t = 0; t < n; t++) {
        const struct matcher_plist *pl;

        if (base + suffix[t] + MATCHER_W_DISTANCE + EPS <
            matcher_heap_threshold(&s.heap))
            break;
        if (terms[t].kind == TERM_OCCUPATION || terms[t].kind == TERM_ISCO) {
            const struct matcher_vec *v = terms[t].kind == TERM_OCCUPATION
                                              ? &ix->occ_profiles[terms[t].term]
                                              : &ix->isco_profiles[r->isco];

            for (uint32_t i = 0; i < v->len; i++)
                visit(&s, v->items[i]);
            continue;
        }
        pl = &ix->skill_profiles[terms[t].term];
        for (uint32_t g = 0; g < pl->nsegs; g++) {
            const struct matcher_seg *seg = &pl->segs[g];
            unsigned cell = seg->bucket / MATCHER_CLASSES;
            double range = matcher_bucket_range(seg->bucket), dist_max;
            const uint32_t *items;

            if (seg->len == 0)
                continue;
            if (located && cell_min[cell] < 0.0)
                cell_min[cell] = matcher_cell_min_km(cell, r->lat, r->lon);
            if (!located || cell_min[cell] > range)
                continue; /* nobody here can pass the distance filter */
            dist_max = MATCHER_W_DISTANCE * (1.0 - cell_min[cell] / range);
            if (base + suffix[t] + dist_max + EPS <
                matcher_heap_threshold(&s.heap))
                continue;
            items = pl->items + seg->start;
            for (uint32_t i = 0; i < seg->len; i++)
                visit(&s, items[i]);
        }
    }
    if (stats != NULL)
        *stats = s.stats;
    return matcher_heap_finish(&s.heap);
}

size_t
matcher_topk_order_scan(matcher_index_t *ix, const matcher_order *o,
                        const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                        matcher_topk_stats *stats)
{
    struct search s = {.ix = ix, .o = o, .ctx = ctx};

    s.gen = matcher_index_next_gen(ix);
    matcher_heap_init(&s.heap, ix, false, hits, k);
    for (uint32_t slot = 0; slot < ix->pused; slot++) {
        if (ix->cold[slot] != NULL && matcher_is_candidate(ix, o, slot))
            visit(&s, slot);
    }
    if (stats != NULL)
        *stats = s.stats;
    return matcher_heap_finish(&s.heap);
}

/* ---- orders for a citizen ---- */

static void
visit_order(matcher_index_t *ix, matcher_heap *heap, uint32_t gen,
            uint32_t slot, uint32_t oslot, const matcher_ctx *ctx,
            uint16_t owner, matcher_topk_stats *stats)
{
    const matcher_order *o = &ix->orders[oslot];
    double d;

    if (ix->ostamp[oslot] == gen)
        return;
    ix->ostamp[oslot] = gen;
    if (owner != 0 && o->rec->owner_muni != owner)
        return;
    stats->considered++;
    if (matcher_filter(ix, o, slot, ctx, false, &d) != 0)
        return;
    stats->eligible++;
    matcher_heap_push(heap, oslot, matcher_score(ix, o, slot, ctx, d, NULL));
}

size_t
matcher_topk_profile(matcher_index_t *ix, uint32_t slot, const matcher_ctx *ctx,
                     uint16_t owner, size_t k, matcher_hit *hits,
                     matcher_topk_stats *stats)
{
    const struct matcher_profile_rec *p = ix->cold[slot];
    const struct matcher_pskill *skills = matcher_profile_skills(p);
    const struct matcher_pocc *occs = matcher_profile_occs(p);
    matcher_topk_stats st = {0, 0};
    matcher_heap heap;
    uint32_t gen = matcher_index_next_gen(ix);

    matcher_heap_init(&heap, ix, true, hits, k);
    /* 13,000 open orders are few: the union of the citizen's lists is
     * evaluated in full, no pruning needed. */
    for (unsigned i = 0; i < p->n_skills; i++) {
        const struct matcher_vec *v = &ix->skill_orders[skills[i].term];

        for (uint32_t j = 0; j < v->len; j++)
            visit_order(ix, &heap, gen, slot, v->items[j], ctx, owner, &st);
    }
    for (unsigned i = 0; i < p->n_occs; i++) {
        const struct matcher_vec *v = &ix->occ_orders[occs[i].term];

        for (uint32_t j = 0; j < v->len; j++)
            visit_order(ix, &heap, gen, slot, v->items[j], ctx, owner, &st);
        if (occs[i].isco == 0 || occs[i].isco >= MATCHER_ISCO_CODES)
            continue;
        v = &ix->isco_orders[occs[i].isco];
        for (uint32_t j = 0; j < v->len; j++)
            visit_order(ix, &heap, gen, slot, v->items[j], ctx, owner, &st);
    }
    if (stats != NULL)
        *stats = st;
    return matcher_heap_finish(&heap);
}
