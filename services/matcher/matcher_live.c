/* matcher_live.c - live shortlists (see matcher_live.h).
 *
 * Two maps are kept in step: order slot -> its list (slots and scores,
 * best first), and citizen slot -> the orders whose lists hold them. The
 * second is what lets a change of a citizen touch only the lists it is
 * in, and an erased citizen's slot never linger in a list (it could be
 * reused by someone else). */
#include "matcher_live.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "jm/mem.h"
#include "matcher_par.h"

#define DEFAULT_SIZE      20
#define DEFAULT_BATCH     256
#define DEFAULT_IMMEDIATE 64
/* Orders' lists computed ahead (matcher_live_precompute) kept at once:
 * one source commit of up to 16 events each, a few sources. */
#define PRECOMPUTED_MAX 32

/* Order o's list is hits_of(live, o)[0 .. n). Of its search's counts
 * only those an answer reports are kept (12 bytes a list). */
struct slist {
    uint32_t considered, eligible; /* as matcher_topk_stats */
    uint16_t n;
    bool current : 1; /* equal to a fresh computation */
    bool queued : 1;  /* in the queue of stale lists */
    bool changed : 1; /* ids changed in this commit: publish at its end */
    bool lost : 1;    /* a member was erased: its ids changed */
    bool listed : 1;  /* computed since the order came: the first list
                         is news even when it is empty */
};

struct matcher_live {
    matcher_index_t *ix;
    matcher_live_opts opts;
    struct slist *lists; /* by order slot */
    uint32_t nlists;
    /* Every list's hits, shortlist_size by order slot, in one array (not
     * one malloc per list: 16 bytes of malloc's per order saved). */
    matcher_hit *hits;
    uint32_t *queue; /* stale lists, a ring */
    size_t qhead, qlen, qcap;
    uint32_t *changed; /* lists to publish at the end of the commit */
    size_t nchanged, changedcap;
    /* Stale lists are recomputed a chunk at a time: the searches on the
     * threads of par (each with its own "seen" set), then each result
     * applied in queue order on the caller's thread. */
    matcher_par_t *par;
    uint64_t **seen; /* per thread */
    size_t seen_words;
    uint32_t *chunk; /* order slots */
    size_t nchunk, chunk_cap;
    matcher_hit *chunk_hits; /* chunk_cap lists of shortlist_size */
    uint64_t list_ns;        /* what a list costs one thread (running mean; 0:
                                not measured yet) */

    struct result {
        size_t n;
        matcher_topk_stats stats;
    } * chunk_res;

    /* Lists computed ahead for orders being committed, a ring: each with
     * the record and everything else its search read (citizens_gen, the
     * day), so that it is used only if a search now would find the
     * same. */
    struct precomputed {
        struct matcher_order_rec *rec; /* copy; NULL: an empty place */
        size_t size;
        uint64_t citizens_gen;
        bool touched; /* the citizen changing now is one of its candidates */
        matcher_ctx ctx;
        size_t n;
        matcher_topk_stats stats;
        matcher_hit *hits; /* shortlist_size */
    } pre[PRECOMPUTED_MAX];

    unsigned pre_next;
    unsigned pre_held; /* places with a record */

    const matcher_ctx *chunk_ctx;
    bool big;      /* this commit rebuilds everything */
    bool announce; /* publish what recomputations find */
    bool quiet;    /* the first build: announce once it is done */
    uint64_t cause_seq;
    matcher_live_stats stats;
};

/* ---- the lists ---- */

/* The index grows its order slots on its own; the lists follow before
 * every use. New entries are empty lists, not current. */
static void
cover(matcher_live_t *live)
{
    if (live->ix->oused > live->nlists) {
        uint32_t n = live->ix->ocap;

        live->lists = jm_xrealloc(live->lists, n * sizeof(*live->lists));
        memset(live->lists + live->nlists, 0,
               (n - live->nlists) * sizeof(*live->lists));
        live->hits =
            jm_xrealloc(live->hits, (size_t) n * live->opts.shortlist_size *
                                        sizeof(matcher_hit));
        live->nlists = n;
    }
}

static matcher_hit *
hits_of(const matcher_live_t *live, uint32_t o)
{
    return live->hits + (size_t) o * live->opts.shortlist_size;
}

/* Marks a list stale and queues it once. The queue is a ring, so that
 * rebuilding 13,000 lists in slices does not shift an array. */
static void
enqueue(matcher_live_t *live, uint32_t o)
{
    struct slist *L = &live->lists[o];

    L->current = false;
    if (L->queued)
        return;
    if (live->qlen == live->qcap) {
        size_t cap = live->qcap ? live->qcap * 2 : 256;
        uint32_t *q = jm_xmalloc(cap * sizeof(uint32_t));

        for (size_t i = 0; i < live->qlen; i++)
            q[i] = live->queue[(live->qhead + i) % live->qcap];
        free(live->queue);
        live->queue = q;
        live->qcap = cap;
        live->qhead = 0;
    }
    live->queue[(live->qhead + live->qlen++) % live->qcap] = o;
    L->queued = true;
}

/* Lists changed incrementally during a commit are published once, at
 * its end, whatever number of citizens entered them. */
static void
mark_changed(matcher_live_t *live, uint32_t o)
{
    if (live->lists[o].changed)
        return;
    live->lists[o].changed = true;
    if (live->nchanged == live->changedcap) {
        live->changedcap = live->changedcap ? live->changedcap * 2 : 64;
        live->changed =
            jm_xrealloc(live->changed, live->changedcap * sizeof(uint32_t));
    }
    live->changed[live->nchanged++] = o;
}

/* ---- publishing ---- */

static void
publish(matcher_live_t *live, uint32_t o)
{
    const struct matcher_order_rec *r = live->ix->orders[o].rec;

    if (live->opts.publish == NULL || r == NULL)
        return;
    live->stats.published++;
    live->opts.publish(live->opts.arg, matcher_order_id(r), r->id_len,
                       hits_of(live, o), live->lists[o].n, live->cause_seq);
}

static void
publish_changed(matcher_live_t *live)
{
    for (size_t i = 0; i < live->nchanged; i++) {
        uint32_t o = live->changed[i];

        live->lists[o].changed = false;
        /* A list that went stale again is published when recomputed. */
        if (live->lists[o].current && live->announce)
            publish(live, o);
    }
    live->nchanged = 0;
}

/* ---- recomputing one list ---- */

static bool
holds(const matcher_hit *hits, size_t n, uint32_t slot)
{
    for (size_t i = 0; i < n; i++) {
        if (hits[i].slot == slot)
            return true;
    }
    return false;
}

/* A fresh computation of the list of chunk[i], into its place in the
 * chunk's results (matcher_par_fn: on any of the threads; the index and
 * the lists are only read). The list as it was (stale, but mostly still
 * right) seeds the search: its k-th score is high from the start. */
static void
search_one(void *arg, size_t i, unsigned worker)
{
    matcher_live_t *live = arg;
    uint32_t o = live->chunk[i];
    const struct slist *L = &live->lists[o];
    size_t size = live->opts.shortlist_size;

    live->chunk_res[i].n = matcher_topk_order_seeded_r(
        live->ix, &live->ix->orders[o], live->chunk_ctx, size,
        live->chunk_hits + i * size, &live->chunk_res[i].stats,
        hits_of(live, o), L->n, live->seen[worker], live->seen_words);
}

/* The fresh list of order o (hits[0..n)) replaces its old one; the ids
 * are published if they changed. */
static void
apply(matcher_live_t *live, uint32_t o, const matcher_hit *hits, size_t n,
      const matcher_topk_stats *stats)
{
    struct slist *L = &live->lists[o];
    bool changed;

    /* A new order's first list is published even when nobody qualifies:
     * a subscriber following new orders learns that none has candidates
     * instead of waiting for a list that never changes. */
    changed = !L->listed || L->lost || n != L->n;
    for (size_t i = 0; !changed && i < n; i++)
        changed = hits[i].slot != hits_of(live, o)[i].slot;
    memcpy(hits_of(live, o), hits, n * sizeof(matcher_hit));
    L->n = (uint16_t) n;
    L->current = true;
    L->lost = false;
    L->listed = true;
    L->considered = stats->considered;
    L->eligible = stats->eligible;
    live->stats.recomputed++;
    if (changed && live->announce)
        publish(live, o);
}

/* The index may have grown since the last chunk: every thread's "seen"
 * set follows. */
static void
cover_seen(matcher_live_t *live)
{
    size_t words = matcher_index_seen_words(live->ix);

    if (words <= live->seen_words)
        return;
    for (unsigned w = 0; w < matcher_par_threads(live->par); w++)
        live->seen[w] = jm_xrealloc(live->seen[w], words * sizeof(uint64_t));
    live->seen_words = words;
}

/* ---- a citizen scored against the lists it could enter ---- */

/* The citizen passed the filters with this score: they enter the list
 * if it is not full or they rank before its last, which then drops out.
 * Exact because nothing else about the list changed. */
static void
try_enter(matcher_live_t *live, uint32_t o, uint32_t p, double score)
{
    struct slist *L = &live->lists[o];
    matcher_hit *H = hits_of(live, o);
    size_t size = live->opts.shortlist_size, at;

    if (L->n == size &&
        !matcher_profile_before(live->ix, p, score, H[L->n - 1].slot,
                                H[L->n - 1].score))
        return;
    if (L->n == size)
        L->n--;
    for (at = L->n;
         at > 0 && matcher_profile_before(live->ix, p, score, H[at - 1].slot,
                                          H[at - 1].score);
         at--)
        H[at] = H[at - 1];
    H[at].slot = p;
    H[at].score = score;
    L->n++;
    live->stats.entered++;
    mark_changed(live, o);
}

/* The citizen in p, added or changed, scored against o's list. */
static void
consider(matcher_live_t *live, uint32_t p, uint32_t o, const matcher_ctx *ctx)
{
    matcher_index_t *ix = live->ix;
    double d;

    /* Stale lists are recomputed anyway. */
    if (!live->lists[o].current)
        return;
    /* The list's counts grow with those scored since it was computed
     * (diagnostics: a citizen changed twice counts twice). */
    live->lists[o].considered++;
    if (matcher_filter(ix, &ix->orders[o], p, ctx, false, &d) != 0)
        return;
    live->lists[o].eligible++;
    try_enter(live, o, p, matcher_score(ix, &ix->orders[o], p, ctx, d, NULL));
}

typedef void (*visit_fn)(matcher_live_t *live, uint32_t p, uint32_t o,
                         const matcher_ctx *ctx);

/* visit() for each order of v not stamped with gen yet (and stamps it). */
static void
visit_orders(matcher_live_t *live, const struct matcher_vec *v, uint32_t gen,
             uint32_t p, visit_fn visit, const matcher_ctx *ctx)
{
    uint32_t *stamp = live->ix->ostamp;

    for (uint32_t j = 0; j < v->len; j++) {
        if (stamp[v->items[j]] != gen) {
            stamp[v->items[j]] = gen;
            visit(live, p, v->items[j], ctx);
        }
    }
}

/* Calls visit(live, p, o, ctx) once for every open order o sharing a
 * term (skill, occupation, ISCO group) with the citizen in slot p as the
 * index holds them now: the orders whose lists they may be on. */
static void
each_order_sharing(matcher_live_t *live, uint32_t p, visit_fn visit,
                   const matcher_ctx *ctx)
{
    matcher_index_t *ix = live->ix;
    const struct matcher_cold *r = matcher_cold_of(ix, p);
    const struct matcher_pskill *skills = matcher_cold_skills(r);
    const struct matcher_cocc *occs = matcher_cold_occs(r);
    uint32_t gen = matcher_index_next_gen(ix);

    for (unsigned i = 0; i < r->n_skills; i++)
        visit_orders(live, &ix->skill_orders[skills[i].term], gen, p, visit,
                     ctx);
    for (unsigned i = 0; i < r->n_occs; i++) {
        const struct matcher_lists *occ =
            matcher_group(&ix->occs, occs[i].term);
        const struct matcher_lists *g = matcher_group(&ix->iscos, occs[i].isco);

        if (occ != NULL)
            visit_orders(live, &occ->orders, gen, p, visit, ctx);
        if (g != NULL)
            visit_orders(live, &g->orders, gen, p, visit, ctx);
    }
}

/* A citizen added or changed: every current list sharing a term with
 * them may gain them (scored now). The lists they were on were queued
 * before the change (profile_changing). */
static void
profile_put(matcher_live_t *live, uint32_t p)
{
    matcher_ctx ctx;

    if (live->big)
        return;
    matcher_ctx_now(&ctx);
    each_order_sharing(live, p, consider, &ctx);
}

/* Takes p out of o's list if it holds them: the list is then stale and
 * its ids changed (lost). */
static void
drop_from(matcher_live_t *live, uint32_t p, uint32_t o, const matcher_ctx *ctx)
{
    struct slist *L = &live->lists[o];
    uint16_t k = 0;

    (void) ctx;
    for (uint16_t i = 0; i < L->n; i++) {
        if (hits_of(live, o)[i].slot != p)
            hits_of(live, o)[k++] = hits_of(live, o)[i];
    }
    if (k == L->n)
        return; /* not on it */
    L->n = k;
    L->lost = true;
    enqueue(live, o);
}

/* Queues o's list if it is current and holds p: their place in it may
 * change. */
static void
requeue_holding(matcher_live_t *live, uint32_t p, uint32_t o,
                const matcher_ctx *ctx)
{
    const struct slist *L = &live->lists[o];

    (void) ctx;
    if (L->current && holds(hits_of(live, o), L->n, p))
        enqueue(live, o);
}

/* Which lists hold a citizen is not kept (a map of citizen -> orders
 * cost 18 bytes per citizen): it is found from their record, before it
 * changes. A current list holds only candidates of its order under their
 * record at the time, and a change of the record queues every current
 * list holding them (below): so every current list holding p shares a
 * term with p's record as the index holds it now. Stale lists may hold
 * anyone: they are looked through whole when a citizen goes. */

/* The citizen in p is about to change: the current lists they are on
 * are recomputed (their place may change). */
static void
profile_changing(matcher_live_t *live, uint32_t p)
{
    if (live->big)
        return; /* every list is queued already */
    each_order_sharing(live, p, requeue_holding, NULL);
}

/* The citizen in p is about to go: out of every list now, since the slot
 * may be given to someone else in the same commit. */
static void
profile_leaving(matcher_live_t *live, uint32_t p)
{
    each_order_sharing(live, p, drop_from, NULL);
    for (uint32_t o = 0; o < live->nlists; o++) {
        if (!live->lists[o].current && live->lists[o].n > 0)
            drop_from(live, p, o, NULL);
    }
}

static void
order_removed(matcher_live_t *live, uint32_t o, const char *id, size_t len)
{
    struct slist *L = &live->lists[o];

    L->n = 0;
    L->current = false;
    L->lost = false;
    L->listed = false; /* the slot's next order is news */
    /* Still queued: the queue skips slots without an order. */
    if (live->announce && live->opts.publish != NULL) {
        live->stats.published++;
        live->opts.publish(live->opts.arg, id, len, NULL, 0, live->cause_seq);
    }
}

/* The queue is empty: if that ends the first build, changes are news
 * from now on. */
static void
drained(matcher_live_t *live)
{
    if (live->qlen == 0 && live->quiet) {
        live->quiet = false;
        live->announce = true;
    }
}

/* ---- lists computed ahead, and citizens changing meanwhile ----
 *
 * Every change of a citizen raises the index's citizens_gen, which a list
 * computed ahead must still see to be used. But a citizen who is not a
 * candidate of an order, before the change or after it, cannot be in its
 * list nor enter it: such a change carries the list's generation along.
 * Without this, profiles streaming beside orders made every list computed
 * ahead useless. Anything else that raises the generation (agreements, a
 * load, packing the index) still makes them stale. */

/* The citizen in p is about to change or go: the lists computed ahead
 * that they may be in are marked. */
static void
pre_before(matcher_live_t *live, uint32_t p)
{
    for (unsigned i = 0; i < PRECOMPUTED_MAX && live->pre_held > 0; i++) {
        struct precomputed *e = &live->pre[i];

        if (e->rec != NULL && e->citizens_gen == live->ix->citizens_gen &&
            matcher_shares_term(live->ix, p, e->rec))
            e->touched = true;
    }
}

/* The citizen in p changed, came (p their slot now) or went (removed):
 * one step of the generation, which the lists computed ahead that were
 * exact before it and have p as a candidate neither before nor after
 * take along. */
static void
pre_after(matcher_live_t *live, uint32_t p, bool removed)
{
    for (unsigned i = 0; i < PRECOMPUTED_MAX && live->pre_held > 0; i++) {
        struct precomputed *e = &live->pre[i];

        if (e->rec == NULL)
            continue;
        if (!e->touched && e->citizens_gen + 1 == live->ix->citizens_gen &&
            (removed || !matcher_shares_term(live->ix, p, e->rec)))
            e->citizens_gen = live->ix->citizens_gen;
        e->touched = false;
    }
}

static void
pre_clear(matcher_live_t *live, struct precomputed *p)
{
    if (p->rec == NULL)
        return;
    free(p->rec);
    p->rec = NULL;
    live->pre_held--;
}

void
matcher_live_precompute(matcher_live_t *live,
                        const struct matcher_order_rec *rec, size_t size)
{
    struct precomputed *p = &live->pre[live->pre_next];
    matcher_order o;

    if (!matcher_order_make(live->ix, &o, rec, size))
        return;
    live->pre_next = (live->pre_next + 1) % PRECOMPUTED_MAX;
    pre_clear(live, p);
    if (p->hits == NULL)
        p->hits = jm_xmalloc(live->opts.shortlist_size * sizeof(matcher_hit));
    matcher_ctx_now(&p->ctx);
    p->citizens_gen = live->ix->citizens_gen;
    p->touched = false;
    p->n = matcher_topk_order(live->ix, &o, &p->ctx, live->opts.shortlist_size,
                              p->hits, &p->stats);
    p->size = size;
    p->rec = o.rec; /* the block starts with the record as given */
    o.rec = NULL;
    live->pre_held++;
    live->stats.precomputed++;
}

/* If order o's list was computed ahead from the same record, and nothing
 * else that search read has changed since, it is o's list now: applied,
 * and true. A list computed ahead from the same record is used up either
 * way (it would never become valid again). */
static bool
use_precomputed(matcher_live_t *live, uint32_t o, const matcher_ctx *ctx)
{
    const struct matcher_order_rec *rec = live->ix->orders[o].rec;
    size_t size;

    if (live->pre_held == 0)
        return false; /* a rebuild's 13,000 lists look no further */
    size = matcher_order_size(rec);
    for (unsigned i = 0; i < PRECOMPUTED_MAX; i++) {
        struct precomputed *p = &live->pre[i];
        bool valid;

        if (p->rec == NULL || p->size != size || memcmp(p->rec, rec, size) != 0)
            continue;
        valid = p->citizens_gen == live->ix->citizens_gen &&
                p->ctx.today == ctx->today && p->ctx.year == ctx->year;
        if (valid) {
            apply(live, o, p->hits, p->n, &p->stats);
            live->stats.precomputed_used++;
        }
        pre_clear(live, p);
        return valid;
    }
    return false;
}

/* ---- recomputing stale lists ---- */

/* Takes up to max stale lists off the queue (skipping those whose order
 * closed or that became current meanwhile) and recomputes them. */
static void
recompute_chunk(matcher_live_t *live, const matcher_ctx *ctx, size_t max)
{
    size_t size = live->opts.shortlist_size;
    unsigned threads = matcher_par_threads(live->par);
    uint64_t t0;

    live->nchunk = 0;
    while (live->qlen > 0 && live->nchunk < max) {
        uint32_t o = live->queue[live->qhead];

        live->qhead = (live->qhead + 1) % live->qcap;
        live->qlen--;
        live->lists[o].queued = false;
        if (live->ix->orders[o].rec != NULL && !live->lists[o].current &&
            !use_precomputed(live, o, ctx))
            live->chunk[live->nchunk++] = o;
    }
    cover_seen(live);
    live->chunk_ctx = ctx;
    t0 = uv_hrtime();
    matcher_par_run(live->par, live->nchunk, search_one, live);
    if (live->nchunk >= threads) {
        uint64_t per_list = (uv_hrtime() - t0) * threads / live->nchunk;

        live->list_ns =
            live->list_ns == 0 ? per_list : (3 * live->list_ns + per_list) / 4;
    }
    for (size_t i = 0; i < live->nchunk; i++)
        apply(live, live->chunk[i], live->chunk_hits + i * size,
              live->chunk_res[i].n, &live->chunk_res[i].stats);
    live->nchunk = 0;
}

/* ---- the view's events ---- */

void
matcher_live_begin(matcher_live_t *live, size_t touched, uint64_t cause_seq)
{
    cover(live);
    live->cause_seq = cause_seq;
    live->big = touched > live->opts.batch_limit;
    if (live->big)
        matcher_live_rebuild(live, live->announce);
}

void
matcher_live_before(matcher_live_t *live, const matcher_change *ch)
{
    cover(live);
    if (ch->order)
        return;
    pre_before(live, ch->slot);
    if (ch->removed)
        profile_leaving(live, ch->slot);
    else
        profile_changing(live, ch->slot);
}

void
matcher_live_change(matcher_live_t *live, const matcher_change *ch)
{
    cover(live);
    if (!ch->order)
        pre_after(live, ch->slot, ch->removed);
    if (ch->order && ch->removed)
        order_removed(live, ch->slot, ch->id, ch->id_len);
    else if (ch->order)
        enqueue(live, ch->slot);
    else if (!ch->removed)
        profile_put(live, ch->slot);
    /* a citizen removed: out of the lists before (profile_leaving) */
}

void
matcher_live_end(matcher_live_t *live)
{
    matcher_ctx ctx;

    publish_changed(live);
    if (live->big || live->qlen > live->opts.immediate)
        return; /* the background takes them */
    matcher_ctx_now(&ctx);
    while (live->qlen > 0)
        recompute_chunk(live, &ctx, live->chunk_cap);
    drained(live);
}

/* ---- the background ---- */

/* Every open order, by the grid cell of its workplace: orders computed
 * one after the other then read the same cells' postings and citizens,
 * which are still in the cache from the one before. */
static void
enqueue_all(matcher_live_t *live)
{
    const matcher_index_t *ix = live->ix;
    uint32_t count[MATCHER_CELLS + 1] = {0}, *order;

    order = jm_xmalloc((ix->oused + 1) * sizeof(uint32_t));
    for (uint32_t o = 0; o < ix->oused; o++) {
        const struct matcher_order_rec *r = ix->orders[o].rec;

        if (r != NULL)
            count[matcher_cell_of(r->lat, r->lon) + 1]++;
    }
    for (unsigned c = 1; c <= MATCHER_CELLS; c++)
        count[c] += count[c - 1];
    for (uint32_t o = 0; o < ix->oused; o++) {
        const struct matcher_order_rec *r = ix->orders[o].rec;

        if (r != NULL)
            order[count[matcher_cell_of(r->lat, r->lon)]++] = o;
    }
    for (uint32_t i = 0; i < count[MATCHER_CELLS - 1]; i++)
        enqueue(live, order[i]);
    free(order);
}

void
matcher_live_rebuild(matcher_live_t *live, bool announce)
{
    cover(live);
    live->announce = announce;
    live->quiet = !announce;
    live->stats.rebuilds++;
    enqueue_all(live);
    drained(live);
}

/* How many lists the threads can recompute in about ns: one at a time
 * on one thread (as before threads); on more, as many as fit (each chunk
 * ends by waiting for its slowest list, so few large chunks waste less
 * than many small ones), at least one per thread. */
static size_t
chunk_for(const matcher_live_t *live, uint64_t ns)
{
    unsigned threads = matcher_par_threads(live->par);
    uint64_t n;

    if (threads == 1 || live->list_ns == 0)
        return threads; /* one each until a chunk has been timed */
    n = ns * threads / live->list_ns;
    return n < threads ? threads : n > live->chunk_cap ? live->chunk_cap : n;
}

bool
matcher_live_work(matcher_live_t *live, uint64_t budget_us)
{
    uint64_t now = uv_hrtime(), until = now + budget_us * 1000;
    matcher_ctx ctx;

    cover(live);
    matcher_ctx_now(&ctx);
    while (live->qlen > 0) {
        recompute_chunk(live, &ctx, chunk_for(live, until - now));
        now = uv_hrtime();
        if (now >= until)
            break;
    }
    drained(live);
    return live->qlen > 0;
}

size_t
matcher_live_pending(const matcher_live_t *live)
{
    return live->qlen;
}

const matcher_hit *
matcher_live_shortlist(const matcher_live_t *live, uint32_t o, size_t *n,
                       matcher_topk_stats *stats)
{
    const struct slist *L;

    if (o >= live->nlists || !live->lists[o].current)
        return NULL;
    L = &live->lists[o];
    *n = L->n;
    if (stats != NULL)
        *stats = (matcher_topk_stats){.considered = L->considered,
                                      .eligible = L->eligible};
    return hits_of(live, o);
}

unsigned
matcher_live_size(const matcher_live_t *live)
{
    return live->opts.shortlist_size;
}

void
matcher_live_get_stats(const matcher_live_t *live, matcher_live_stats *out)
{
    *out = live->stats;
    out->bytes =
        live->nlists * (sizeof(*live->lists) +
                        live->opts.shortlist_size * sizeof(matcher_hit)) +
        live->qcap * sizeof(uint32_t);
}

/* ---- life ---- */

void
matcher_live_new(matcher_live_t **live_p, matcher_index_t *ix,
                 const matcher_live_opts *opts)
{
    matcher_live_t *live = jm_xcalloc(1, sizeof(*live));

    live->ix = ix;
    if (opts != NULL)
        live->opts = *opts;
    if (live->opts.shortlist_size == 0)
        live->opts.shortlist_size = DEFAULT_SIZE;
    if (live->opts.batch_limit == 0)
        live->opts.batch_limit = DEFAULT_BATCH;
    if (live->opts.immediate == 0)
        live->opts.immediate = DEFAULT_IMMEDIATE;
    if (live->opts.threads == 0)
        live->opts.threads = 1;
    if (live->opts.threads > MATCHER_PAR_MAX)
        live->opts.threads = MATCHER_PAR_MAX;
    /* Without threads to start, one thread: the lists are the same. */
    if (matcher_par_new(&live->par, live->opts.threads) != 0) {
        int rc;

        live->opts.threads = 1;
        rc = matcher_par_new(&live->par, 1); /* starts no thread */
        JM_ASSERT(rc == 0);
    }
    live->seen = jm_xcalloc(live->opts.threads, sizeof(*live->seen));
    /* One list at a time on one thread, as before threads; with more, up
     * to 32 per thread in a chunk (chunk_for sizes them to the slice). */
    live->chunk_cap = live->opts.threads == 1 ? 1 : 32 * live->opts.threads;
    live->chunk = jm_xmalloc(live->chunk_cap * sizeof(uint32_t));
    live->chunk_res = jm_xmalloc(live->chunk_cap * sizeof(*live->chunk_res));
    live->chunk_hits = jm_xmalloc(live->chunk_cap * live->opts.shortlist_size *
                                  sizeof(matcher_hit));
    matcher_live_rebuild(live, false);
    *live_p = live;
}

void
matcher_live_destroy(matcher_live_t **live_p)
{
    matcher_live_t *live = *live_p;

    if (live == NULL)
        return;
    free(live->hits);
    free(live->lists);
    free(live->queue);
    free(live->changed);
    matcher_par_destroy(&live->par);
    for (unsigned w = 0; w < live->opts.threads; w++)
        free(live->seen[w]);
    free(live->seen);
    free(live->chunk);
    free(live->chunk_res);
    free(live->chunk_hits);
    for (unsigned i = 0; i < PRECOMPUTED_MAX; i++) {
        pre_clear(live, &live->pre[i]);
        free(live->pre[i].hits);
    }
    free(live);
    *live_p = NULL;
}
