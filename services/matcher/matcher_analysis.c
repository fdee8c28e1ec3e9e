/* matcher_analysis.c - skill gaps, bottlenecks and assignment over the
 * index (see matcher_analysis.h).
 *
 * None of these is in the hot path of matching, so they favour being
 * plainly correct: gaps look at every open order (there are some
 * thousands, and each check is a few hard filters), bottlenecks at every
 * candidate of one order. Everything they return is ordered by ids, not
 * slots, so that every matcher answers the same. */
#include "matcher_analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "jm/clock.h"
#include "jm/json.h"
#include "jm/mem.h"
#include "jobmatch/v1/types.pb-c.h"
#include "matcher_assign.h"
#include "matcher_topk.h"

/* qsort passes no context, so what comparators need travels with the
 * elements: an order's id, a skill's URI. */
struct order_key {
    uint32_t slot;
    const char *id;
    size_t len;
};

static int
key_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    int c = memcmp(a, b, la < lb ? la : lb);

    return c != 0 ? c : (la > lb) - (la < lb);
}

static struct order_key
order_key(const matcher_index_t *ix, uint32_t slot)
{
    const struct matcher_order_rec *r = ix->orders[slot].rec;
    struct order_key k = {slot, matcher_order_id(r), r->id_len};

    return k;
}

static int
order_key_cmp(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;

    return key_cmp(x->id, x->len, y->id, y->len);
}

/* ---- skill gaps ---- */

struct gap_hit {
    uint16_t term;
    uint8_t min_level;
    bool only; /* the only essential missing for this order */
    struct order_key order;
};

struct ranked_gap {
    matcher_gap gap;
    const char *uri;
};

static int
gap_hit_cmp(const void *a, const void *b)
{
    const struct gap_hit *x = a, *y = b;

    if (x->term != y->term)
        return x->term < y->term ? -1 : 1;
    if (x->only != y->only)
        return x->only ? -1 : 1;
    return order_key_cmp(&x->order, &y->order);
}

static int
gap_cmp(const void *a, const void *b)
{
    const struct ranked_gap *x = a, *y = b;

    if (x->gap.unlocked != y->gap.unlocked)
        return x->gap.unlocked > y->gap.unlocked ? -1 : 1;
    if (x->gap.improved != y->gap.improved)
        return x->gap.improved > y->gap.improved ? -1 : 1;
    return strcmp(x->uri, y->uri);
}

void
matcher_gaps_compute(matcher_index_t *ix, uint32_t slot, const matcher_ctx *ctx,
                     uint16_t owner, size_t k, matcher_gaps *out)
{
    const struct matcher_cold *p = matcher_cold_of(ix, slot);
    struct gap_hit *hits = NULL;
    size_t nhits = 0, caphits = 0, ngaps = 0;
    struct ranked_gap *ranked = NULL;

    memset(out, 0, sizeof(*out));
    for (uint32_t o = 0; o < ix->oused; o++) {
        const matcher_order *ord = &ix->orders[o];
        const struct matcher_oskill *skills;
        unsigned missing = 0;
        size_t first = nhits;
        double d;

        if (ord->rec == NULL || (owner != 0 && ord->rec->owner_muni != owner))
            continue;
        if (matcher_filter(ix, ord, slot, ctx, false, &d) != 0)
            continue;
        out->in_reach++;
        skills = matcher_order_skills(ord->rec);
        for (unsigned i = 0; i < ord->rec->n_ess; i++) {
            unsigned need = skills[i].min_level ? skills[i].min_level : 1;

            if (matcher_cold_level(p, skills[i].term) >= need)
                continue;
            if (nhits == caphits) {
                caphits = caphits ? caphits * 2 : 256;
                hits = jm_xrealloc(hits, caphits * sizeof(*hits));
            }
            hits[nhits].term = skills[i].term;
            hits[nhits].min_level = skills[i].min_level;
            hits[nhits].order = order_key(ix, o);
            nhits++;
            missing++;
        }
        if (missing == 0)
            out->matched++;
        for (size_t i = first; i < nhits; i++)
            hits[i].only = missing == 1;
    }
    if (nhits > 1)
        qsort(hits, nhits, sizeof(*hits), gap_hit_cmp);
    for (size_t i = 0; i < nhits;) {
        struct ranked_gap r = {.gap.term = hits[i].term};
        uint8_t level_improved = 0;

        r.uri = matcher_dict_uri(ix->dict, r.gap.term);
        for (; i < nhits && hits[i].term == r.gap.term; i++) {
            r.gap.improved++;
            if (hits[i].min_level > level_improved)
                level_improved = hits[i].min_level;
            if (!hits[i].only)
                continue;
            r.gap.unlocked++;
            if (hits[i].min_level > r.gap.level_needed)
                r.gap.level_needed = hits[i].min_level;
            if (r.gap.norders < MATCHER_GAP_ORDERS)
                r.gap.orders[r.gap.norders++] = hits[i].order.slot;
        }
        /* A skill that unlocks nothing still has a level to learn it to:
         * the highest the orders it is missing in ask for, not "any". */
        if (r.gap.unlocked == 0)
            r.gap.level_needed = level_improved;
        ranked = jm_xrealloc(ranked, (ngaps + 1) * sizeof(*ranked));
        ranked[ngaps++] = r;
    }
    if (ngaps > 1)
        qsort(ranked, ngaps, sizeof(*ranked), gap_cmp);
    free(hits);
    out->n = ngaps < k ? ngaps : k;
    out->gaps = jm_xcalloc(out->n + 1, sizeof(*out->gaps));
    for (size_t i = 0; i < out->n; i++)
        out->gaps[i] = ranked[i].gap;
    free(ranked);
}

/* ---- bottlenecks ---- */

enum {
    REQ_HOURS,
    REQ_DISTANCE,
    REQ_AVAILABILITY,
    REQ_KIND,
    REQ_FIXED, /* then licences, languages, essential skills */
};

struct requirements {
    unsigned n, licences, languages;
    uint8_t licence_bit[16];
    matcher_bottleneck *items;
};

/* The order's requirements: four fixed ones, then licences, languages
 * and essential skills, each named by its JobOrder field path (which
 * orders ties in the reply: bottleneck_cmp) and described for a person. */
static void
describe(const matcher_index_t *ix, const matcher_order *o,
         struct requirements *req)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);
    const struct matcher_lang *langs = matcher_order_langs(r);
    matcher_bottleneck *b;
    char date[16];
    const char *name;

    req->n = REQ_FIXED;
    for (unsigned bit = 1; bit < 16; bit++) {
        if (r->licences >> bit & 1)
            req->licence_bit[req->licences++] = (uint8_t) bit;
    }
    req->languages = r->n_langs;
    req->n += req->licences + req->languages + r->n_ess;
    req->items = b = jm_xcalloc(req->n, sizeof(*b));
    snprintf(b[REQ_HOURS].requirement, sizeof(b->requirement),
             "hours_per_week");
    snprintf(b[REQ_HOURS].detail, sizeof(b->detail), "%u hours a week",
             r->hours);
    snprintf(b[REQ_DISTANCE].requirement, sizeof(b->requirement), "workplace");
    snprintf(b[REQ_DISTANCE].detail, sizeof(b->detail),
             "within the citizen's travel range");
    snprintf(b[REQ_AVAILABILITY].requirement, sizeof(b->requirement),
             "start_date");
    if (r->start == MATCHER_DATE_NONE) {
        snprintf(b[REQ_AVAILABILITY].detail, sizeof(b->detail),
                 "available now");
    } else {
        jm_date_format(r->start, date, sizeof(date));
        snprintf(b[REQ_AVAILABILITY].detail, sizeof(b->detail),
                 "available by %s", date);
    }
    snprintf(b[REQ_KIND].requirement, sizeof(b->requirement), "kind");
    name =
        jm_json_enum_short_name(&jobmatch__v1__job_kind__descriptor, r->kind);
    snprintf(b[REQ_KIND].detail, sizeof(b->detail), "%s",
             name ? name : "unknown");
    b += REQ_FIXED;
    for (unsigned j = 0; j < req->licences; j++, b++) {
        name = jm_json_enum_short_name(&jobmatch__v1__licence__descriptor,
                                       req->licence_bit[j]);
        snprintf(b->requirement, sizeof(b->requirement), "licences[%u]", j);
        snprintf(b->detail, sizeof(b->detail), "%s", name ? name : "?");
    }
    for (unsigned j = 0; j < req->languages; j++, b++) {
        name = jm_json_enum_short_name(
            &jobmatch__v1__language_level__descriptor, langs[j].level);
        snprintf(b->requirement, sizeof(b->requirement), "languages[%u]", j);
        snprintf(b->detail, sizeof(b->detail), "%c%c >= %s", langs[j].code[0],
                 langs[j].code[1], name ? name : "?");
    }
    for (unsigned i = 0; i < r->n_ess; i++, b++) {
        snprintf(b->requirement, sizeof(b->requirement), "essential_skills[%u]",
                 i);
        if (skills[i].min_level > 0)
            snprintf(b->detail, sizeof(b->detail), "%s (level >= %u)",
                     matcher_dict_uri(ix->dict, skills[i].term),
                     skills[i].min_level);
        else
            snprintf(b->detail, sizeof(b->detail), "%s",
                     matcher_dict_uri(ix->dict, skills[i].term));
    }
}

/* The requirements the citizen misses: returns how many (stops at 2),
 * the first in *which. -1: sharing does not allow them at all. */
static int
misses(matcher_index_t *ix, const matcher_order *o, uint32_t slot,
       const matcher_ctx *ctx, const struct requirements *req, unsigned *which)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_cold *p = matcher_cold_of(ix, slot);
    const struct matcher_oskill *skills = matcher_order_skills(r);
    const struct matcher_lang *langs = matcher_order_langs(r);
    const struct matcher_lang *have = matcher_cold_langs(p);
    unsigned n = 0, base = REQ_FIXED;
    double d;
    unsigned f = matcher_filter(ix, o, slot, ctx, true, &d);

#define MISS(i)           \
    do {                  \
        if (n++ == 0)     \
            *which = (i); \
        if (n == 2)       \
            return 2;     \
    } while (0)

    if (f & MATCHER_FAIL_SHARING)
        return -1;
    if (f & MATCHER_FAIL_HOURS)
        MISS(REQ_HOURS);
    if (f & MATCHER_FAIL_DISTANCE)
        MISS(REQ_DISTANCE);
    if (f & MATCHER_FAIL_AVAILABILITY)
        MISS(REQ_AVAILABILITY);
    if (f & MATCHER_FAIL_KIND)
        MISS(REQ_KIND);
    for (unsigned j = 0; j < req->licences; j++) {
        if (!(matcher_hot_of(ix, slot)->licences >> req->licence_bit[j] & 1))
            MISS(base + j);
    }
    base += req->licences;
    for (unsigned j = 0; j < req->languages; j++) {
        bool ok = false;

        for (unsigned i = 0; i < p->n_langs && !ok; i++)
            ok = have[i].code[0] == langs[j].code[0] &&
                 have[i].code[1] == langs[j].code[1] &&
                 have[i].level >= langs[j].level;
        if (!ok)
            MISS(base + j);
    }
    base += req->languages;
    for (unsigned i = 0; i < r->n_ess; i++) {
        unsigned need = skills[i].min_level ? skills[i].min_level : 1;

        if (matcher_cold_level(p, skills[i].term) < need)
            MISS(base + i);
    }
#undef MISS
    return (int) n;
}

/* Field paths in the order a person reads them: names by bytes, but an
 * index by its number, so that essential_skills[2] comes before
 * essential_skills[10] (as bytes, "1" < "2" would put [10] first). Only
 * the paths themselves decide, never slots or term ids, so every matcher
 * lists ties alike. */
static int
field_path_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            char *a_end, *b_end;
            unsigned long na = strtoul(a, &a_end, 10);
            unsigned long nb = strtoul(b, &b_end, 10);

            if (na != nb)
                return na < nb ? -1 : 1;
            a = a_end;
            b = b_end;
            continue;
        }
        if (*a != *b)
            return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
        a++;
        b++;
    }
    return (*a != '\0') - (*b != '\0');
}

static int
bottleneck_cmp(const void *a, const void *b)
{
    const matcher_bottleneck *x = a, *y = b;

    if (x->pool_without != y->pool_without)
        return x->pool_without > y->pool_without ? -1 : 1;
    return field_path_cmp(x->requirement, y->requirement);
}

/* Walks one list of the order's candidates; a citizen in several lists
 * is counted once (the seen bits). */
static void
count_list(matcher_index_t *ix, const struct matcher_plist *pl, uint64_t *seen,
           const matcher_order *o, const matcher_ctx *ctx,
           const struct requirements *req, uint32_t *pool, uint32_t *single)
{
    for (uint32_t g = 0; g < matcher_plist_nsegs(pl); g++) {
        uint32_t len;
        const uint32_t *items = matcher_plist_seg(pl, g, &len);

        for (uint32_t i = 0; i < len; i++) {
            uint32_t pos = items[i] & MATCHER_SLOT_MASK;
            unsigned which = 0;
            int n;

            if (seen[pos >> 6] >> (pos & 63) & 1)
                continue;
            seen[pos >> 6] |= 1ULL << (pos & 63);
            n = misses(ix, o, ix->slot_at[pos], ctx, req, &which);
            if (n == 0)
                (*pool)++;
            else if (n == 1)
                single[which]++;
        }
    }
}

void
matcher_bottlenecks_compute(matcher_index_t *ix, uint32_t oslot,
                            const matcher_ctx *ctx, matcher_bottlenecks *out)
{
    const matcher_order *o = &ix->orders[oslot];
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);
    const struct matcher_lists *occ = matcher_group(&ix->occs, r->occupation);
    const struct matcher_lists *isco = matcher_group(&ix->iscos, r->isco);
    struct requirements req = {0};
    uint32_t *single;
    uint64_t *seen = matcher_index_seen(ix);

    memset(out, 0, sizeof(*out));
    describe(ix, o, &req);
    single = jm_xcalloc(req.n, sizeof(uint32_t));
    for (unsigned i = 0; i < (unsigned) r->n_ess + r->n_opt; i++)
        count_list(ix, &ix->skill_profiles[skills[i].term], seen, o, ctx, &req,
                   &out->pool, single);
    if (occ != NULL)
        count_list(ix, &occ->profiles, seen, o, ctx, &req, &out->pool, single);
    if (isco != NULL)
        count_list(ix, &isco->profiles, seen, o, ctx, &req, &out->pool, single);
    for (unsigned i = 0; i < req.n; i++)
        req.items[i].pool_without = out->pool + single[i];
    qsort(req.items, req.n, sizeof(*req.items), bottleneck_cmp);
    free(single);
    out->items = req.items;
    out->n = req.n;
}

/* ---- assignment ---- */

double
matcher_gini(const uint32_t *counts, size_t n)
{
    uint64_t total = 0, weighted = 0, rank = 0;
    uint32_t max = 0;
    uint64_t *hist;

    if (n == 0)
        return 0.0;
    for (size_t i = 0; i < n; i++)
        max = counts[i] > max ? counts[i] : max;
    /* Counts are small (at most max_per_citizen): sorting them is
     * counting them. */
    hist = jm_xcalloc((size_t) max + 1, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++)
        hist[counts[i]]++;
    for (uint32_t v = 0; v <= max; v++) {
        /* Ranks rank+1 .. rank+hist[v] all hold v. */
        uint64_t k = hist[v];

        weighted += (uint64_t) v * (k * rank + k * (k + 1) / 2);
        total += (uint64_t) v * k;
        rank += k;
    }
    free(hist);
    if (total == 0)
        return 0.0;
    /* G = 2 sum(i x_i) / (n sum x) - (n + 1) / n, x ascending, i from 1. */
    return 2.0 * (double) weighted / ((double) n * (double) total) -
           (double) (n + 1) / (double) n;
}

static bool
wanted(const matcher_assign_opts *opts, uint16_t owner)
{
    if (opts->nmunis == 0)
        return true;
    for (size_t i = 0; i < opts->nmunis; i++) {
        if (opts->munis[i] == owner)
            return true;
    }
    return false;
}

void
matcher_assign_run(matcher_index_t *ix, matcher_live_t *live,
                   const matcher_ctx *ctx, const matcher_assign_opts *opts,
                   matcher_assignment *out)
{
    uint64_t t0 = uv_hrtime();
    struct order_key *orders = jm_xmalloc((ix->oused + 1) * sizeof(*orders));
    uint32_t *index = jm_xmalloc((ix->pused + 1) * sizeof(uint32_t));
    uint32_t *citizens = jm_xmalloc((ix->pused + 1) * sizeof(uint32_t));
    uint32_t *load;
    matcher_assign_order *aorders;
    matcher_assign_edge *edges = NULL;
    matcher_hit *hits = NULL;
    size_t nhitcap = 0, nedges = 0, edgecap = 0;
    matcher_assign_problem p = {.max_per_citizen = opts->max_per_citizen};
    uint8_t *greedy, *exact = NULL;
    uint32_t no = 0, nc = 0;

    memset(out, 0, sizeof(*out));
    memset(index, 0xff, (ix->pused + 1) * sizeof(uint32_t));
    for (uint32_t o = 0; o < ix->oused; o++) {
        if (ix->orders[o].rec != NULL &&
            wanted(opts, ix->orders[o].rec->owner_muni))
            orders[no++] = order_key(ix, o);
    }
    qsort(orders, no, sizeof(*orders), order_key_cmp);
    aorders = jm_xcalloc(no + 1, sizeof(*aorders));

    for (uint32_t i = 0; i < no; i++) {
        const matcher_order *o = &ix->orders[orders[i].slot];
        uint64_t cap = (uint64_t) o->rec->positions * opts->factor;
        size_t want, n = 0;
        const matcher_hit *kept;

        if (cap == 0)
            cap = 1;
        if (cap > 200)
            cap = 200;
        want = (size_t) cap * 5;
        kept = matcher_live_shortlist(live, orders[i].slot, &n, NULL);
        if (kept == NULL) {
            /* Not current yet (a rebuild is under way): compute. */
            if (want > matcher_live_size(live))
                want = matcher_live_size(live);
            if (nhitcap < want) {
                nhitcap = want;
                hits = jm_xrealloc(hits, nhitcap * sizeof(*hits));
            }
            n = matcher_topk_order(ix, o, ctx, want, hits, NULL);
            kept = hits;
        } else if (n > want) {
            n = want;
        }
        aorders[i].capacity = (uint32_t) cap;
        aorders[i].first = (uint32_t) nedges;
        aorders[i].count = (uint32_t) n;
        aorders[i].scarcity = (uint32_t) n;
        if (nedges + n > edgecap) {
            edgecap = (nedges + n) * 2;
            edges = jm_xrealloc(edges, edgecap * sizeof(*edges));
        }
        for (size_t j = 0; j < n; j++) {
            uint32_t slot = kept[j].slot;

            if (index[slot] == UINT32_MAX) {
                citizens[nc] = slot;
                index[slot] = nc++;
            }
            edges[nedges].citizen = index[slot];
            edges[nedges].score = kept[j].score;
            nedges++;
        }
    }
    p.orders = aorders;
    p.norders = no;
    p.edges = edges;
    p.nedges = (uint32_t) nedges;
    p.ncitizens = nc;
    greedy = jm_xmalloc(nedges + 1);
    out->greedy_total =
        (double) matcher_assign_greedy(&p, greedy) / MATCHER_ASSIGN_SCALE;
    out->total = out->greedy_total;
    if (opts->exact) {
        exact = jm_xmalloc(nedges + 1);
        out->exact_total =
            (double) matcher_assign_exact(&p, exact) / MATCHER_ASSIGN_SCALE;
        out->total = out->exact_total;
        out->gap =
            out->exact_total > 0
                ? (out->exact_total - out->greedy_total) / out->exact_total
                : 0.0;
    }

    load = jm_xcalloc(nc + 1, sizeof(uint32_t));
    out->proposals = jm_xmalloc((nedges + 1) * sizeof(*out->proposals));
    for (uint32_t i = 0; i < no; i++) {
        bool served = false;

        for (uint32_t e = aorders[i].first;
             e < aorders[i].first + aorders[i].count; e++) {
            if (!(exact ? exact[e] : greedy[e]))
                continue;
            out->proposals[out->n].order = orders[i].slot;
            out->proposals[out->n].profile = citizens[edges[e].citizen];
            out->proposals[out->n].score = edges[e].score;
            out->n++;
            if (load[edges[e].citizen]++ == 0)
                out->citizens++;
            if (load[edges[e].citizen] > out->max_per_citizen)
                out->max_per_citizen = load[edges[e].citizen];
            served = true;
        }
        out->served += served;
    }
    out->orders = no;
    out->gini = matcher_gini(load, nc);
    out->elapsed_us = (int64_t) ((uv_hrtime() - t0) / 1000);
    free(load);
    free(greedy);
    free(exact);
    free(citizens);
    free(edges);
    free(hits);
    free(aorders);
    free(index);
    free(orders);
}
