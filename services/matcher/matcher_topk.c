/* matcher_topk.c - top-k search with pruning (see matcher_topk.h).
 *
 * The score of a candidate is a sum over the order's "terms" (each skill:
 * its essential or optional credit and its share of recency; the
 * occupation; the ISCO group) plus two parts that come from the citizen
 * and the place (distance, progression). Each term has a largest
 * contribution. The search (MaxScore, Turtle & Flood 1995) takes the terms
 * from the rarest (shortest list) to the commonest and evaluates each
 * citizen fully the first time it meets them: their own sorted skill list
 * gives every other term at once. A citizen first met at term t holds none
 * of the earlier terms, so their score is at most the sum of the largest
 * contributions of terms t.. plus the best distance and progression parts
 * they could have. Once that bound is below the k-th best score so far,
 * nobody new can enter the top k. With Zipf-distributed skills the common
 * terms' long lists, which would touch nearly every citizen, are where
 * this stops.
 *
 * Long lists are split by cell (matcher_index.h) and sorted by travel
 * range within a cell. For them the search goes cell by cell, nearest to
 * the workplace first, and within a cell term by term. A cell's least
 * distance to the workplace bounds the distance part of everyone in it
 * (1 - d/range <= 1 - dmin/range), so: a segment whose longest range does
 * not reach the workplace is skipped, a segment is read only down to the
 * ranges that reach it, and only while the bound with that range can
 * still beat the k-th score. Nearest cells first make the k-th score rise
 * early, which makes the far cells cheap. Short lists (below
 * MATCHER_SPLIT_AT) are read whole, before the cells.
 *
 * The result is exactly that of evaluating every candidate: only citizens
 * who provably cannot enter the top k are skipped, ties are broken by id,
 * and a citizen equal to the k-th score is never skipped (a bound must be
 * strictly below it). test_matcher_topk checks this against
 * matcher_topk_order_scan on many random populations. Every decision to
 * skip is taken at a boundary between groups of equal travel range, never
 * inside one, so even the counts of considered and eligible citizens
 * depend only on the data, not on the order of slots (two matchers with
 * the same data answer the same, counts included). */
#include "matcher_topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/dk.h"
#include "jm/mem.h"

/* Bounds are sums of doubles; actual scores are sums in another order.
 * Skipping needs the bound to be clearly below the threshold. */
#define EPS 1e-9

/* Cells are taken nearest first in bins of this many km. */
#define BIN_KM 2.0
#define NBINS  ((MATCHER_RANGE_CAP + 1) / 2 + 1)

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
    const struct matcher_plist *pl;
    enum term_kind kind;
    uint32_t len;
    double max; /* largest contribution */
    const char *uri;
};

/* Citizens waiting to be scored: their records are fetched into the
 * cache together, instead of one miss after another. */
#define BATCH 16

struct pending {
    uint32_t slot;
    double bound;
};

struct search {
    matcher_index_t *ix;
    const matcher_order *o;
    const matcher_ctx *ctx;
    matcher_qorder q;
    matcher_heap heap;
    matcher_topk_stats stats;
    uint32_t gen;
    double fixed; /* parts no term or citizen changes */
    struct pending batch[BATCH];
    unsigned nbatch;
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

/* The best distance part a citizen with this range could get at least
 * dmin km away (a capped range stands for "any": no bound). */
static inline double
distance_bound(double dmin, unsigned range)
{
    if (range >= MATCHER_RANGE_CAP)
        return MATCHER_W_DISTANCE;
    if (range == 0)
        return 0.0;
    return MATCHER_W_DISTANCE * (1.0 - dmin / range);
}

static inline bool
below(const struct search *s, double bound)
{
    return bound + EPS < matcher_heap_threshold(&s->heap);
}

/* terms_max: the largest contribution of the terms this citizen could
 * hold (they were first met at a term whose suffix this is). */
/* Scores the pending citizens. Called before every decision that reads
 * the k-th score, so that each decision sees every citizen visited so far
 * (the counts then depend only on the data). */
static void
flush(struct search *s)
{
    const struct matcher_order_rec *r = s->o->rec;

    for (unsigned i = 0; i < s->nbatch; i++) {
        uint32_t slot = s->batch[i].slot;
        const matcher_hot *h = &s->ix->hot[slot];
        double d;

        if (below(s, s->batch[i].bound))
            continue; /* the k-th score rose meanwhile */
        d = jm_geo_distance_km(r->lat, r->lon, h->lat, h->lon);
        s->stats.scored++;
        matcher_heap_push(&s->heap, slot,
                          matcher_score(s->ix, s->o, slot, s->ctx, d, NULL));
    }
    s->nbatch = 0;
}

static void
visit(struct search *s, uint32_t slot, double terms_max)
{
    matcher_index_t *ix = s->ix;
    matcher_hot *h = &ix->hot[slot];
    const struct matcher_profile_rec *p;
    double d, bound;

    s->stats.reads++;
    if (h->stamp == s->gen)
        return;
    h->stamp = s->gen;
    s->stats.considered++;
    if (matcher_qfilter(&s->q, slot, &d) != 0)
        return;
    s->stats.eligible++;
    /* Before reading their record: could they beat the k-th at all? (d
     * is at most the distance, so this is an upper bound.) */
    bound =
        s->fixed + terms_max +
        (h->range_km > 0 ? MATCHER_W_DISTANCE * (1.0 - d / h->range_km) : 0.0) +
        MATCHER_W_PROGRESSION *
            (h->progression == MATCHER_PROGRESS_NONE
                 ? 0.5
                 : (double) h->progression / MATCHER_PROGRESS_MAX);
    if (below(s, bound))
        return;
    p = ix->cold[slot];
    __builtin_prefetch(p);
    __builtin_prefetch((const char *) p + 64);
    s->batch[s->nbatch].slot = slot;
    s->batch[s->nbatch].bound = bound;
    if (++s->nbatch == BATCH)
        flush(s);
}

/* Reads postings, fetching the hot records of those a little ahead into
 * the cache: their slots are random, so each would otherwise wait for
 * memory in turn. */
#define AHEAD 12

static inline void
ahead(const matcher_index_t *ix, const uint32_t *items, uint32_t i,
      uint32_t len)
{
    if (i + AHEAD < len)
        __builtin_prefetch(&ix->hot[items[i + AHEAD] & MATCHER_SLOT_MASK], 1);
}

/* The terms of o that someone holds, with their lists and largest
 * contributions; returns how many (at most 128 skills + 2). */
static size_t
order_terms(const matcher_index_t *ix, const matcher_order *o,
            struct term *terms)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);
    unsigned nw = (unsigned) r->n_ess + r->n_opt;
    size_t n = 0;

    for (unsigned i = 0; i < nw; i++) {
        const struct matcher_plist *pl = &ix->skill_profiles[skills[i].term];

        if (pl->count == 0)
            continue;
        terms[n].pl = pl;
        terms[n].kind = TERM_SKILL;
        terms[n].len = pl->count;
        terms[n].max = (i < r->n_ess ? MATCHER_W_ESSENTIAL / r->n_ess
                                     : MATCHER_W_OPTIONAL / r->n_opt) +
                       MATCHER_W_RECENCY / nw;
        terms[n].uri = matcher_dict_uri(ix->dict, skills[i].term);
        n++;
    }
    if (r->occupation != MATCHER_TERM_NONE &&
        ix->occ_profiles[r->occupation].count > 0) {
        terms[n].pl = &ix->occ_profiles[r->occupation];
        terms[n].kind = TERM_OCCUPATION;
        terms[n].len = terms[n].pl->count;
        terms[n].max = MATCHER_W_OCCUPATION;
        terms[n].uri = "";
        n++;
    }
    if (r->isco > 0 && r->isco < MATCHER_ISCO_CODES &&
        ix->isco_profiles[r->isco].count > 0) {
        terms[n].pl = &ix->isco_profiles[r->isco];
        terms[n].kind = TERM_ISCO;
        terms[n].len = terms[n].pl->count;
        /* Exact matches are in this list too: the two bounds add up to
         * more than either can give, which is still a bound. */
        terms[n].max = MATCHER_W_OCCUPATION * 0.5;
        terms[n].uri = "";
        n++;
    }
    return n;
}

struct qcell {
    uint16_t pcell;
    float dmin;
};

/* The populated cells any citizen could reach the workplace from, nearest
 * first (by bins of BIN_KM; within a bin by cell number, so the order
 * depends only on the data). Returns how many. */
static size_t
near_cells(const matcher_index_t *ix, double lat, double lon, unsigned reach,
           struct qcell *out)
{
    struct qcell tmp[MATCHER_CELLS];
    uint32_t bins[NBINS + 1];
    double cos_here = cos(lat * 3.14159265358979323846 / 180.0);
    size_t n = 0;

    memset(bins, 0, sizeof(bins));
    for (uint32_t i = 0; i < ix->npcells; i++) {
        unsigned cell = ix->cells_sorted[i];
        unsigned row = cell / MATCHER_GRID_COLS;
        double lat0, lat1, lon0, lon1, dlat, dlon, dy, dx, c, dmin;

        if (cell == MATCHER_CELL_ANY ||
            ix->pcell_count[ix->cell_pcell[cell]] == 0)
            continue;
        lat0 = MATCHER_GRID_LAT0 + row * MATCHER_GRID_DLAT;
        lon0 =
            MATCHER_GRID_LON0 + (cell % MATCHER_GRID_COLS) * MATCHER_GRID_DLON;
        lat1 = lat0 + MATCHER_GRID_DLAT;
        lon1 = lon0 + MATCHER_GRID_DLON;
        dlat = lat < lat0 ? lat0 - lat : lat > lat1 ? lat - lat1 : 0.0;
        dlon = lon < lon0 ? lon0 - lon : lon > lon1 ? lon - lon1 : 0.0;
        /* As matcher_cell_min_km, with the cosines at hand. */
        c = lat > lat1 ? cos_here : ix->cos_row[row];
        dy = dlat * 111.1951;
        dx = dlon * 111.1951 * c;
        dmin = sqrt(dx * dx + dy * dy) * 0.999 * 0.9999;
        if (dmin > reach)
            continue;
        tmp[n].pcell = ix->cell_pcell[cell];
        tmp[n].dmin = (float) dmin;
        bins[(unsigned) (dmin / BIN_KM) + 1]++;
        n++;
    }
    for (unsigned b = 1; b <= NBINS; b++)
        bins[b] += bins[b - 1];
    for (size_t i = 0; i < n; i++)
        out[bins[(unsigned) (tmp[i].dmin / BIN_KM)]++] = tmp[i];
    return n;
}

/* The segments of the next cells are in random places: ask for them
 * early (descriptors two cells ahead, first items one cell ahead). */
static void
prefetch_cells(const struct search *s, const struct term *terms, size_t n,
               const struct qcell *cells, size_t ncells, size_t c)
{
    for (size_t t = 0; t < n; t++) {
        const struct matcher_plist *pl = terms[t].pl;

        if (c + 2 < ncells && cells[c + 2].pcell < pl->nsegs)
            __builtin_prefetch(&pl->segs[cells[c + 2].pcell]);
        if (c + 1 < ncells && cells[c + 1].pcell < pl->nsegs)
            __builtin_prefetch(pl->items + pl->segs[cells[c + 1].pcell].start);
    }
    (void) s;
}

/* Reads one segment of a long list for cell c, down to the ranges that
 * reach and can still beat the k-th score. */
static void
read_segment(struct search *s, const uint32_t *items, uint32_t len, double dmin,
             double terms_max, double pmax)
{
    unsigned prev = MATCHER_RANGE_CAP + 1;

    for (uint32_t i = 0; i < len; i++) {
        unsigned range = items[i] >> MATCHER_SLOT_BITS;

        if (range != prev) {
            flush(s);
            if (range < dmin ||
                below(s, s->fixed + terms_max + distance_bound(dmin, range) +
                             pmax))
                return;
            prev = range;
        }
        ahead(s->ix, items, i, len);
        visit(s, items[i] & MATCHER_SLOT_MASK, terms_max);
    }
}

size_t
matcher_topk_order(matcher_index_t *ix, const matcher_order *o,
                   const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                   matcher_topk_stats *stats)
{
    const struct matcher_order_rec *r = o->rec;
    struct search s = {.ix = ix, .o = o, .ctx = ctx};
    struct term terms[130];
    struct qcell cells[MATCHER_CELLS];
    double suffix[131], pmax;
    size_t n, nshort = 0, ncells;
    unsigned nw = (unsigned) r->n_ess + r->n_opt, reach;

    s.gen = matcher_index_next_gen(ix);
    matcher_qorder_init(&s.q, ix, o, ctx);
    matcher_heap_init(&s.heap, ix, false, hits, k);
    if (!(r->flags & MATCHER_OF_LOCATION))
        goto done; /* nobody can pass the distance filter */
    n = order_terms(ix, o, terms);
    /* Short lists first (read whole), then the long ones (by cell); each
     * group rarest first. */
    for (size_t i = 0; i < n; i++) {
        if (terms[i].len < MATCHER_SPLIT_AT) {
            struct term t = terms[i];

            terms[i] = terms[nshort];
            terms[nshort++] = t;
        }
    }
    for (size_t i = nshort; i < n; i++)
        JM_ASSERT(terms[i].pl->split); /* lists split when they grow long */
    qsort(terms, nshort, sizeof(*terms), term_cmp);
    qsort(terms + nshort, n - nshort, sizeof(*terms), term_cmp);
    suffix[n] = 0.0;
    for (size_t t = n; t-- > 0;)
        suffix[t] = suffix[t + 1] + terms[t].max;
    s.fixed = (r->n_ess == 0 ? MATCHER_W_ESSENTIAL : 0.0) +
              (r->n_opt == 0 ? MATCHER_W_OPTIONAL : 0.0) +
              (nw == 0 ? MATCHER_W_RECENCY : 0.0);
    pmax = MATCHER_W_PROGRESSION * matcher_index_max_progression(ix) /
           MATCHER_PROGRESS_MAX;

    for (size_t t = 0; t < nshort; t++) {
        const struct matcher_plist *pl = terms[t].pl;

        flush(&s);
        if (below(&s, s.fixed + suffix[t] + MATCHER_W_DISTANCE + pmax))
            goto done;
        for (uint32_t g = 0; g < pl->nsegs; g++) {
            const uint32_t *items = pl->items + pl->segs[g].start;

            for (uint32_t i = 0; i < pl->segs[g].len; i++) {
                ahead(ix, items, i, pl->segs[g].len);
                visit(&s, items[i] & MATCHER_SLOT_MASK, suffix[t]);
            }
        }
    }
    flush(&s);
    if (nshort == n)
        goto done;
    reach = matcher_index_max_range(ix);
    if (below(&s, s.fixed + suffix[nshort] + distance_bound(0.0, reach) + pmax))
        goto done;
    ncells = near_cells(ix, r->lat, r->lon, reach, cells);
    for (size_t c = 0; c < ncells; c++) {
        double dmin = cells[c].dmin;
        uint32_t p = cells[c].pcell;

        prefetch_cells(&s, terms + nshort, n - nshort, cells, ncells, c);
        /* Every later cell is at least as far. */
        if (below(&s, s.fixed + suffix[nshort] + distance_bound(dmin, reach) +
                          pmax))
            break;
        for (size_t t = nshort; t < n; t++) {
            const struct matcher_plist *pl = terms[t].pl;
            const struct matcher_seg *seg;
            const uint32_t *items;
            unsigned longest;

            if (p >= pl->nsegs || pl->segs[p].len == 0)
                continue;
            seg = &pl->segs[p];
            items = pl->items + seg->start;
            longest = items[0] >> MATCHER_SLOT_BITS;
            if (longest < dmin ||
                below(&s, s.fixed + suffix[t] + distance_bound(dmin, longest) +
                              pmax))
                continue;
            read_segment(&s, items, seg->len, dmin, suffix[t], pmax);
            flush(&s);
        }
    }
done:
    flush(&s);
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
    matcher_qorder_init(&s.q, ix, o, ctx);
    matcher_heap_init(&s.heap, ix, false, hits, k);
    for (uint32_t slot = 0; slot < ix->pused; slot++) {
        if (ix->cold[slot] != NULL && matcher_is_candidate(ix, o, slot))
            visit(&s, slot, 2.0); /* no bound: score everyone */
    }
    flush(&s);
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
