/* matcher_rank.c - ranking, the bounded heap, candidates, and the
 * searches that need no pruning: the exhaustive scan the pruned search is
 * checked against, and the best orders for a citizen (see matcher_topk.h;
 * the pruned search is matcher_topk.c). */
#include <string.h>

#include "jm/mem.h"
#include "matcher_topk.h"

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
    const struct matcher_cold *p = matcher_cold_of(ix, slot);
    const struct matcher_cocc *occs = matcher_cold_occs(p);

    for (unsigned i = 0; i < (unsigned) r->n_ess + r->n_opt; i++) {
        if (matcher_cold_level(p, o->sorted[i].term) > 0)
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

/* Every candidate through the full filter and the score: no bound, no
 * posting list, nothing shared with the search above but the heap. */
size_t
matcher_topk_order_scan(matcher_index_t *ix, const matcher_order *o,
                        const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                        matcher_topk_stats *stats)
{
    matcher_topk_stats st = {0, 0, 0, 0};
    matcher_heap heap;

    matcher_heap_init(&heap, ix, false, hits, k);
    for (uint32_t slot = 0; slot < ix->pused; slot++) {
        double d;

        if (!matcher_slot_live(ix, slot) || !matcher_is_candidate(ix, o, slot))
            continue;
        st.considered++;
        if (matcher_filter(ix, o, slot, ctx, false, &d) != 0)
            continue;
        st.eligible++;
        st.scored++;
        matcher_heap_push(&heap, slot,
                          matcher_score(ix, o, slot, ctx, d, NULL));
    }
    if (stats != NULL)
        *stats = st;
    return matcher_heap_finish(&heap);
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
    const struct matcher_cold *p = matcher_cold_of(ix, slot);
    const struct matcher_pskill *skills = matcher_cold_skills(p);
    const struct matcher_cocc *occs = matcher_cold_occs(p);
    matcher_topk_stats st = {0, 0, 0, 0};
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
        const struct matcher_lists *g[2] = {
            matcher_group(&ix->occs, occs[i].term),
            matcher_group(&ix->iscos, occs[i].isco),
        };

        for (unsigned w = 0; w < 2; w++) {
            for (uint32_t j = 0; g[w] != NULL && j < g[w]->orders.len; j++)
                visit_order(ix, &heap, gen, slot, g[w]->orders.items[j], ctx,
                            owner, &st);
        }
    }
    if (stats != NULL)
        *stats = st;
    return matcher_heap_finish(&heap);
}
