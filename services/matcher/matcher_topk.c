/* matcher_topk.c - the top-k search for an order, with pruning (see
 * matcher_topk.h; ranking, the heap and the other searches are in
 * matcher_rank.c).
 *
 * The score of a candidate is a sum over the order's "terms" (each skill:
 * its essential or optional credit and its share of recency; the
 * occupation; the ISCO group) plus two parts that come from the citizen
 * and the place (distance, progression). Each term has a largest
 * contribution. The search (MaxScore, Turtle & Flood 1995) takes the terms
 * from the rarest (shortest list) to the commonest. A citizen first met at
 * term t holds none of the earlier terms (or was found unable to enter
 * there), so their score is at most the largest contributions of the
 * terms t.. they may hold, plus the best distance and progression parts
 * they could have. Three bounds, each tighter and each dearer than the one
 * before, decide who goes on:
 *   - a group of postings (one cell's segment of a long list, one key):
 *     all terms t.., the cell's least distance to the workplace, the
 *     buckets' tops; a group that cannot beat the k-th score is not read,
 *     nor is the rest of its segment when the range bucket no longer can,
 *     nor a group whose key's flags rule out everyone in it;
 *   - a posting (the sieve): the hard filters the hot record decides
 *     alone (all but the distance and languages other than Danish), then
 *     the terms t.. their signature allows (matcher_index.h: the 64
 *     commonest skills exactly, the others at their largest), same
 *     distance and buckets; the sieve reads only the hot records (the
 *     signature is in them) and the seen bits, without branches;
 *   - the survivors: the distance, then their own distance and
 *     progression; only those still able to beat the k-th score have
 *     their record read, the languages other than Danish checked (they
 *     are in the record) and scored.
 * A search may be seeded (a live list's old members): they are scored
 * first and marked seen, which raises the k-th score before any list.
 * Long lists are split by cell: the search goes cell by cell, nearest to
 * the workplace first (which makes the k-th score rise early and far
 * cells cheap), skips cells whose longest range cannot reach or beat it,
 * and within a cell goes term by term. Short lists (below
 * MATCHER_SPLIT_AT) are read before the cells, whole but for the postings
 * whose block of positions lies in a cell too far away for the range in
 * their key (within_reach: no hot record read for them). Memory is what it
 * costs: postings are read in blocks, the hot records and records of the
 * survivors are asked for ahead of their use, and positions (the order of
 * the dense arrays) follow cells, so one cell's citizens are near each
 * other in memory.
 *
 * The result is exactly that of evaluating every candidate: only citizens
 * who provably cannot enter the top k are skipped, ties are broken by id,
 * and a citizen equal to the k-th score is never skipped (a bound must be
 * below it by EPS, which covers adding the same parts in another order).
 * test_matcher_topk checks this against matcher_topk_order_scan on many
 * random populations, packed and not, through changes. The counts of
 * considered and eligible citizens depend on the order in which citizens
 * are met (the k-th score when a block is sieved): diagnostics, which two
 * matchers with the same data may report differently (docs/protocol.md).
 */
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

/* ---- the search ---- */

enum term_kind { TERM_SKILL, TERM_OCCUPATION, TERM_ISCO };

struct term {
    const struct matcher_plist *pl;
    enum term_kind kind;
    bool essential;
    uint16_t id; /* skill term */
    uint32_t len;
    double max; /* largest contribution */
    const char *uri;
};

/* An order has at most 128 skills, an occupation and an ISCO group. */
#define MAXTERMS 130

/* Citizens waiting to be scored: their records are fetched into the
 * cache together, instead of one miss after another. */
#define BATCH 16

struct pending {
    uint32_t slot, pos;
    double bound;
    double occupation; /* of which the occupation and ISCO terms */
};

/* What the sieve needs of the order's hard filters, ready to compare with
 * a hot record's fields. */
struct hotfilter {
    int32_t start; /* availability: citizens free by then */
    uint16_t licences, owner;
    uint8_t hours, kind;
    uint8_t danish;    /* the level, where matcher_hot.flags has it */
    uint8_t english;   /* the bucket, where matcher_hot.flags has it */
    unsigned any_muni; /* no agreements: consent lets anyone see them */
    /* home municipalities whose consenting citizens the order may see */
    uint64_t allow[16];
};

struct search {
    const matcher_index_t *ix;
    const matcher_order *o;
    const matcher_ctx *ctx;
    matcher_qorder q;
    struct hotfilter f;
    matcher_heap heap;
    matcher_topk_stats stats;
    uint64_t *seen;   /* citizens met: a bit per position, cleared */
    double fixed;     /* parts no term or citizen changes */
    double pbound[4]; /* largest progression part of each bucket */
    double pmax;      /* of anyone */
    /* Over terms t..n-1: the largest contributions of all, and of those
     * without a bit in the signatures (matcher_hot.sig); the signature
     * bits of the essential and optional skills among them, and what one
     * of each can give. */
    double suffix[MAXTERMS + 1], sparse[MAXTERMS + 1];
    /* Over terms t..n-1: the largest contributions of the occupation and
     * ISCO terms (the record tells what the citizen gets of them). */
    double occ_suffix[MAXTERMS + 1];
    uint64_t ess[MAXTERMS + 1], opt[MAXTERMS + 1];
    double ess_max, opt_max;
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

/* Scores the pending citizens (the k-th score may have risen since they
 * were queued) who speak the order's languages other than Danish: both
 * need the cold record, read here for those who can still enter. */
static void
flush(struct search *s)
{
    const struct matcher_order_rec *r = s->o->rec;

    /* The records' addresses were asked for when queued: now the records,
     * all at once. */
    for (unsigned i = 0; i < s->nbatch; i++) {
        const char *p =
            (const char *) matcher_cold_at(s->ix, &s->ix->hot[s->batch[i].pos]);

        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
        __builtin_prefetch(p + 128); /* 20 skills and an id: ~130 bytes */
    }
    for (unsigned i = 0; i < s->nbatch; i++) {
        uint32_t slot = s->batch[i].slot;
        const matcher_hot *h = &s->ix->hot[s->batch[i].pos];
        const struct matcher_cold *p = matcher_cold_at(s->ix, h);
        double bound = s->batch[i].bound, occ = s->batch[i].occupation, d;

        if (below(s, bound))
            continue;
        /* The bound counted the occupation and ISCO terms at their
         * largest; the record says what they give (one exact match of
         * the order's occupation: its part, not the ISCO group's too). */
        if (occ > 0.0) {
            double part = matcher_occupation_part(r, p);

            if (part < occ && below(s, bound - (occ - part)))
                continue;
        }
        if (s->q.other_languages) {
            if (matcher_qfilter_languages(&s->q, slot) != 0)
                continue;
            s->stats.eligible++;
        }
        d = jm_geo_distance_km(r->lat, r->lon, h->lat, h->lon);
        s->stats.scored++;
        matcher_heap_push(&s->heap, slot,
                          matcher_score_rec(s->o, p, h, s->ctx, d, NULL));
    }
    s->nbatch = 0;
}

/* Bits set in x: no POPCNT instruction in the baseline x86-64 set, but
 * GCC turns this into one where it may (see sieve). */
static inline unsigned
popcount64(uint64_t x)
{
    x = x - (x >> 1 & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + (x >> 2 & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (unsigned) ((x * 0x0101010101010101ULL) >> 56);
}

/* The largest contribution of the terms t.. that a citizen with signature
 * sig can hold: every term without a signature bit, and those with one
 * that they hold. */
static inline double
term_bound(const struct search *s, uint64_t sig, size_t t)
{
    return s->sparse[t] + s->ess_max * popcount64(sig & s->ess[t]) +
           s->opt_max * popcount64(sig & s->opt[t]);
}

/* Postings are read in blocks of at most this many: the bound each
 * block is sieved with is the k-th score when it starts. */
#define BLOCK 128

/* Postings are read this far ahead of their signatures. */
#define AHEAD 16

/* The sieve: the citizens of items[0..n) (postings of term t) met for
 * the first time who pass the hard filters their hot record decides alone
 * (all but distance and languages other than Danish) and whose terms'
 * bound (their signature's) reaches need[], into out (their positions);
 * returns how many. need[] holds what the terms must give for each
 * progression bucket, and at 4 + bucket for range bucket 0 (no distance
 * part). A citizen met for the first time holds none of the terms before
 * t, or was found unable to enter there, so the bound is theirs. No branch
 * but the loop's: a block of postings is a stream of loads and
 * arithmetic (one 32-byte record each, in position order within a cell),
 * and the few survivors go on (check). Most citizens fail a filter (the
 * kinds of job their target group allows, the hours, consent): rejecting
 * them here costs a few instructions instead of a mispredicted branch.
 * Hot records are asked for AHEAD postings ahead, past n up to avail (the
 * postings that follow, most often read next). */
/* Twice compiled: with POPCNT for the processors that have it (chosen
 * when the program loads, by an ifunc resolver), and for the baseline.
 * Not under ThreadSanitizer: the resolver runs while the dynamic linker
 * relocates, before TSan's runtime is up, and its instrumented entry
 * crashes every program that links the matcher. */
#if defined(__SANITIZE_THREAD__)
#define SIEVE_CLONES
#else
#define SIEVE_CLONES __attribute__((target_clones("popcnt", "default")))
#endif

SIEVE_CLONES static uint32_t
sieve(struct search *s, const uint32_t *items, uint32_t n, uint32_t avail,
      size_t t, const double *need, uint32_t *out)
{
    const matcher_hot *hot = s->ix->hot;
    const struct hotfilter *f = &s->f;
    uint64_t *seen = s->seen, em = s->ess[t], om = s->opt[t];
    double base = s->sparse[t], a = s->ess_max, b = s->opt_max;
    uint32_t m = 0;

    /* The loop asks AHEAD postings ahead: the first ones now. */
    for (uint32_t i = 0; i < n && i < AHEAD; i++)
        __builtin_prefetch(&hot[items[i] & MATCHER_SLOT_MASK]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = items[i], pos = p & MATCHER_SLOT_MASK;
        uint64_t bit = 1ULL << (pos & 63), old = seen[pos >> 6];
        const matcher_hot *h = &hot[pos];
        uint64_t sig = h->sig;
        unsigned key = MATCHER_POSTING_KEY(p), home = h->home_muni;
        double tb = base + a * popcount64(sig & em) + b * popcount64(sig & om);
        unsigned ok, share;

        if (i + AHEAD < avail)
            __builtin_prefetch(&hot[items[i + AHEAD] & MATCHER_SLOT_MASK]);
        ok = (unsigned) (h->hours >= f->hours) & (h->kinds >> f->kind & 1u) &
             (unsigned) ((h->licences & f->licences) == f->licences) &
             (unsigned) ((int32_t) h->available <= f->start) &
             (unsigned) ((h->flags & MATCHER_HOT_DANISH) >= f->danish) &
             (unsigned) ((h->flags & MATCHER_HOT_ENGLISH) >= f->english) &
             (unsigned) (h->flags >> 1 & 1); /* MATCHER_PF_LOCATION */
        share = (unsigned) (home == f->owner) |
                ((unsigned) (h->flags & MATCHER_PF_CONSENT) &
                 (unsigned) (f->allow[home >> 6 & 15] >> (home & 63)) &
                 ((unsigned) (home < 1024) | f->any_muni));
        seen[pos >> 6] = old | bit;
        out[m] = pos;
        m += (unsigned) ((old & bit) == 0) & ok & share &
             (unsigned) (tb >= need[(MATCHER_KEY_RBUCKET(key) == 0) << 2 |
                                    MATCHER_KEY_PBUCKET(key)]);
    }
    s->stats.reads += n;
    return m;
}

/* The survivors of a sieve of term t: their hot records all asked for at
 * once, then the filters, and their own distance and progression in the
 * bound; those that can still beat the k-th score are queued for
 * scoring. */
#define CHECK_AHEAD 8

static void
check(struct search *s, const uint32_t *cand, uint32_t m, size_t t)
{
    for (uint32_t i = 0; i < m && i < CHECK_AHEAD; i++)
        __builtin_prefetch(&s->ix->hot[cand[i]]);
    for (uint32_t i = 0; i < m; i++) {
        uint32_t pos = cand[i], slot;
        const matcher_hot *h = &s->ix->hot[pos];
        double d, bound;

        if (i + CHECK_AHEAD < m)
            __builtin_prefetch(&s->ix->hot[cand[i + CHECK_AHEAD]]);
        s->stats.considered++;
        if (matcher_qfilter_place(&s->q, h, &d) != 0)
            continue;
        /* With languages other than Danish to check, counted once they
         * are (flush). */
        s->stats.eligible += !s->q.other_languages;
        /* d is at most the distance: still an upper bound. */
        bound = s->fixed + term_bound(s, h->sig, t) +
                (h->range_km > 0 ? MATCHER_W_DISTANCE * (1.0 - d / h->range_km)
                                 : 0.0) +
                MATCHER_W_PROGRESSION *
                    (h->progression == MATCHER_PROGRESS_NONE
                         ? 0.5
                         : (double) h->progression / MATCHER_PROGRESS_MAX);
        if (below(s, bound))
            continue;
        /* Only now the slot (another array in random order) and the
         * record: most survivors of the sieve end above. */
        slot = s->ix->slot_at[pos];
        __builtin_prefetch(matcher_cold_at(s->ix, h));
        s->batch[s->nbatch].slot = slot;
        s->batch[s->nbatch].pos = pos;
        s->batch[s->nbatch].bound = bound;
        s->batch[s->nbatch].occupation = s->occ_suffix[t];
        if (++s->nbatch == BATCH)
            flush(s);
    }
}

static void
hotfilter_init(struct hotfilter *f, const matcher_index_t *ix,
               const matcher_order *o, const matcher_qorder *q)
{
    memset(f, 0, sizeof(*f));
    f->start = q->start;
    f->licences = q->licences;
    f->owner = q->owner;
    f->hours = q->hours;
    f->kind = q->kind;
    f->danish = (uint8_t) (q->danish > 7 ? 0xff : q->danish << 2);
    f->english = (uint8_t) (q->english << 5);
    f->any_muni = !ix->sharing.any;
    /* As matcher_share_ok: with agreements, only the municipalities the
     * owner's name (below 1000); without, all. */
    for (unsigned w = 0; w < 16; w++) {
        f->allow[w] = !ix->sharing.any   ? ~0ULL
                      : o->share != NULL ? o->share[w]
                                         : 0;
    }
    f->allow[15] &= ix->sharing.any ? (1ULL << (1000 - 960)) - 1 : ~0ULL;
}

/* What the terms must give, per bucket (sieve's need[]), for a citizen
 * whose distance part is at most dpart (dpart0 in range bucket 0) to beat
 * the k-th score; nothing while fewer than k are found. The margin makes
 * up for adding the same parts in another order. */
static void
needs(const struct search *s, double dpart, double dpart0, double *need)
{
    double theta = matcher_heap_threshold(&s->heap);

    for (unsigned b = 0; b < 4; b++) {
        need[b] = theta < 0.0
                      ? -1.0
                      : theta - 2 * EPS - s->fixed - dpart - s->pbound[b];
        need[4 + b] = theta < 0.0
                          ? -1.0
                          : theta - 2 * EPS - s->fixed - dpart0 - s->pbound[b];
    }
}

/* Reads postings items[0..n) of term t in blocks: sieve, then check
 * (items[n..avail) may be asked for ahead). */
static void
read_postings(struct search *s, const uint32_t *items, uint32_t n,
              uint32_t avail, size_t t, double dpart, double dpart0)
{
    uint32_t cand[BLOCK];
    double need[8];

    for (uint32_t from = 0; from < n; from += BLOCK) {
        uint32_t len = n - from < BLOCK ? n - from : BLOCK;

        needs(s, dpart, dpart0, need);
        check(s, cand, sieve(s, items + from, len, avail - from, t, need, cand),
              t);
    }
}

/* The terms of o that someone holds, with their lists and largest
 * contributions; returns how many (at most 128 skills + 2). */
static size_t
order_terms(const matcher_index_t *ix, const matcher_order *o,
            struct term *terms)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);
    const struct matcher_lists *occ = matcher_group(&ix->occs, r->occupation);
    const struct matcher_lists *isco = matcher_group(&ix->iscos, r->isco);
    unsigned nw = (unsigned) r->n_ess + r->n_opt;
    size_t n = 0;

    for (unsigned i = 0; i < nw; i++) {
        const struct matcher_plist *pl = &ix->skill_profiles[skills[i].term];

        if (pl->count == 0)
            continue;
        terms[n].pl = pl;
        terms[n].kind = TERM_SKILL;
        terms[n].essential = i < r->n_ess;
        terms[n].id = skills[i].term;
        terms[n].len = pl->count;
        terms[n].max = (i < r->n_ess ? MATCHER_W_ESSENTIAL / r->n_ess
                                     : MATCHER_W_OPTIONAL / r->n_opt) +
                       MATCHER_W_RECENCY / nw;
        terms[n].uri = matcher_dict_uri(ix->dict, skills[i].term);
        n++;
    }
    if (occ != NULL && occ->profiles.count > 0) {
        terms[n].pl = &occ->profiles;
        terms[n].kind = TERM_OCCUPATION;
        terms[n].essential = false;
        terms[n].id = 0;
        terms[n].len = terms[n].pl->count;
        terms[n].max = MATCHER_W_OCCUPATION;
        terms[n].uri = "";
        n++;
    }
    if (isco != NULL && isco->profiles.count > 0) {
        terms[n].pl = &isco->profiles;
        terms[n].kind = TERM_ISCO;
        terms[n].essential = false;
        terms[n].id = 0;
        terms[n].len = terms[n].pl->count;
        /* Exact matches are in this list too: the two bounds add up to
         * more than either can give, which is still a bound. */
        terms[n].max = MATCHER_W_OCCUPATION * 0.5;
        terms[n].uri = "";
        n++;
    }
    return n;
}

/* The bounds of the sorted terms. A skill gets its signature bit unless
 * another of the order's skills has it (an order may list a skill twice,
 * and a popcount would count it once). */
static void
prepare(struct search *s, const struct term *terms, size_t n)
{
    const struct matcher_order_rec *r = s->o->rec;
    const uint8_t *sigbit = s->ix->sigbit;
    unsigned nw = (unsigned) r->n_ess + r->n_opt;
    uint64_t used = 0;
    bool sig[MAXTERMS];

    for (size_t t = 0; t < n; t++) {
        unsigned b = terms[t].kind == TERM_SKILL ? sigbit[terms[t].id]
                                                 : MATCHER_SIG_NONE;

        sig[t] = b != MATCHER_SIG_NONE && !(used >> b & 1);
        if (sig[t])
            used |= 1ULL << b;
    }
    s->suffix[n] = s->sparse[n] = s->occ_suffix[n] = 0.0;
    s->ess[n] = s->opt[n] = 0;
    for (size_t t = n; t-- > 0;) {
        uint64_t bit = sig[t] ? 1ULL << sigbit[terms[t].id] : 0;

        s->suffix[t] = s->suffix[t + 1] + terms[t].max;
        s->sparse[t] = s->sparse[t + 1] + (sig[t] ? 0.0 : terms[t].max);
        s->occ_suffix[t] = s->occ_suffix[t + 1] +
                           (terms[t].kind == TERM_SKILL ? 0.0 : terms[t].max);
        s->ess[t] = s->ess[t + 1] | (terms[t].essential ? bit : 0);
        s->opt[t] = s->opt[t + 1] | (terms[t].essential ? 0 : bit);
    }
    s->ess_max = r->n_ess
                     ? MATCHER_W_ESSENTIAL / r->n_ess + MATCHER_W_RECENCY / nw
                     : 0.0;
    s->opt_max =
        r->n_opt ? MATCHER_W_OPTIONAL / r->n_opt + MATCHER_W_RECENCY / nw : 0.0;
    s->fixed = (r->n_ess == 0 ? MATCHER_W_ESSENTIAL : 0.0) +
               (r->n_opt == 0 ? MATCHER_W_OPTIONAL : 0.0) +
               (nw == 0 ? MATCHER_W_RECENCY : 0.0);
    for (unsigned b = 0; b < 4; b++)
        s->pbound[b] =
            MATCHER_W_PROGRESSION * (b + 1) * 50.0 / MATCHER_PROGRESS_MAX;
    s->pmax = MATCHER_W_PROGRESSION * matcher_index_max_progression(s->ix) /
              MATCHER_PROGRESS_MAX;
}

struct qcell {
    uint16_t pcell;
    uint16_t range; /* the longest of anyone living there */
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
        unsigned p = cell == MATCHER_CELL_ANY ? 0 : ix->cell_pcell[cell];
        double lat0, lat1, lon0, lon1, dlat, dlon, dy, dx, c, dmin;

        if (cell == MATCHER_CELL_ANY || ix->pcell_count[p] == 0)
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
        if (dmin > reach || dmin > ix->pcell_range[p])
            continue;
        tmp[n].pcell = (uint16_t) p;
        tmp[n].range = ix->pcell_range[p];
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

/* What a posting of a short list (not split by cell) is passed over by,
 * without its hot record: by the populated cell of its block of positions
 * (matcher_index_t.block_pcell), the least range bucket that reaches the
 * workplace from there (above every bucket where nobody can), and the key's
 * flags a citizen there needs (as the long lists' segments, read_segment).
 * A mixed block's citizens are all read. Most holders of a rare skill live
 * too far away for their range: they were the larger part of the postings
 * read, each a hot record somewhere in memory. */
struct block_reach {
    uint8_t rbucket[MATCHER_CELLS + 2];
    uint8_t flags[MATCHER_CELLS + 2];
};

/* The flag every citizen needs in their key: for a full-time order, the
 * hours. */
static unsigned
order_needs(const struct search *s)
{
    return s->f.hours >= MATCHER_HOURS_SPLIT ? MATCHER_KEY_HOURS : 0;
}

/* The flags a citizen of populated cell p needs in their key to pass the
 * filters: consent, unless some of the order's own municipality live
 * there; and the order's own (order_needs). */
static unsigned
cell_needs(const struct search *s, unsigned p)
{
    return (matcher_pcell_may_have_muni(s->ix, p, s->f.owner)
                ? 0
                : MATCHER_KEY_CONSENT) |
           order_needs(s);
}

static void
reach_init(const struct search *s, const struct qcell *cells, size_t ncells,
           struct block_reach *rc)
{
    memset(rc->rbucket, 0xff, sizeof(rc->rbucket));
    memset(rc->flags, 0, sizeof(rc->flags));
    for (size_t c = 0; c < ncells; c++) {
        unsigned p = cells[c].pcell;

        /* The first bucket whose top is at least dmin: a range in a bucket
         * below is shorter than dmin (bucket tops are whole km). */
        rc->rbucket[p] =
            (uint8_t) matcher_range_bucket((unsigned) ceil(cells[c].dmin));
        rc->flags[p] = (uint8_t) cell_needs(s, p);
    }
    for (unsigned v = MATCHER_BLOCK_MIXED; v <= MATCHER_BLOCK_NONE; v++) {
        rc->rbucket[v] = 0;
        rc->flags[v] = (uint8_t) order_needs(s);
    }
}

/* The postings of items[0..n) whose citizens may reach the workplace and
 * pass the key's filters, into out; returns how many. No branch but the
 * loop's. */
static uint32_t
within_reach(const matcher_index_t *ix, const struct block_reach *rc,
             const uint32_t *items, uint32_t n, uint32_t *out)
{
    const uint16_t *block = ix->block_pcell;
    uint32_t m = 0;

    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = items[i], key = MATCHER_POSTING_KEY(p);
        unsigned c = block[(p & MATCHER_SLOT_MASK) >> MATCHER_BLOCK_SHIFT];

        out[m] = p;
        m += (unsigned) (MATCHER_KEY_RBUCKET(key) >= rc->rbucket[c]) &
             (unsigned) ((key & rc->flags[c]) == rc->flags[c]);
    }
    return m;
}

/* The segments of the next cells are in random places: ask for them
 * early (descriptors eight cells ahead, first items two cells ahead). */
static void
prefetch_cells(const struct term *terms, size_t n, const struct qcell *cells,
               size_t ncells, size_t c)
{
    for (size_t t = 0; t < n; t++) {
        const struct matcher_plist *pl = terms[t].pl;

        if (c + 8 < ncells && cells[c + 8].pcell < pl->nsegs)
            __builtin_prefetch(&pl->segs[cells[c + 8].pcell]);
        if (c + 2 < ncells && cells[c + 2].pcell < pl->nsegs)
            __builtin_prefetch(pl->items + pl->segs[cells[c + 2].pcell].start);
    }
}

/* The first of items[i..len) below limit (postings are sorted by value,
 * largest first: by key, then position). The groups of a key are short
 * (eight postings on average at 200,000 citizens), so the answer is most
 * often a few postings on, in the cache line just read: it is looked for
 * in steps that double (1, 2, 4, ...), and then by halves within the last
 * step, instead of by halves of the whole rest of the segment, whose
 * first probes land in lines far away. */
static uint32_t
next_below(const uint32_t *items, uint32_t i, uint32_t len, uint32_t limit)
{
    uint32_t step = 1;

    while (i + step < len && items[i + step] >= limit) {
        i += step;
        step *= 2;
    }
    /* items[i] >= limit (the caller's i is); the first below is in
     * (i, min(i + step, len)]. */
    len = i + step < len ? i + step : len;
    i++;
    while (i < len) {
        uint32_t mid = i + (len - i) / 2;

        if (items[mid] >= limit)
            i = mid + 1;
        else
            len = mid;
    }
    return i;
}

/* Reads the segment of term t for a cell at least dmin km away, range
 * bucket by range bucket, while its postings can still beat the k-th
 * score: within a range bucket, the progression bucket that cannot skips
 * the rest of it (the progression buckets below are lower still), and the
 * segment ends where the range bucket no longer reaches the workplace or
 * cannot beat it even at the best progression. A group of postings whose
 * key lacks a flag in need (matcher_key: consent where none of the order's
 * municipality live, hours for a full-time order) holds nobody who passes
 * the filters: it is passed over unread. The groups are small (eight
 * postings on average at 200,000 citizens): those in a row that are read
 * go to the sieve together (it tells their progression buckets apart),
 * and those passed over are stepped over, not searched. */
static void
read_segment(struct search *s, const uint32_t *items, uint32_t len, size_t t,
             double dmin, unsigned need)
{
    uint32_t i = 0;
    unsigned rb_known = ~0u; /* the range bucket dpart is of */
    double dpart = 0.0;

    while (i < len) {
        uint32_t k = MATCHER_POSTING_KEY(items[i]), end, run = ~0u;
        unsigned rb = MATCHER_KEY_RBUCKET(k), top = matcher_range_top(rb);
        double db;
        bool take = false;

        /* A division: once per range bucket, not once per group. */
        if (rb != rb_known) {
            dpart = distance_bound(dmin, top);
            rb_known = rb;
        }
        db = s->fixed + s->suffix[t] + dpart;

        if (top < dmin || below(s, db + s->pbound[3]))
            return;
        /* The postings from i on that are read: their keys in this range
         * bucket, each with the flags and able to beat the k-th score. */
        for (end = i; end < len; end++) {
            uint32_t k2 = MATCHER_POSTING_KEY(items[end]);

            if (k2 != run) {
                if (MATCHER_KEY_RBUCKET(k2) != rb)
                    break;
                run = k2;
                take = (k2 & need) == need &&
                       !below(s, db + s->pbound[MATCHER_KEY_PBUCKET(k2)]);
            }
            if (!take)
                break;
        }
        if (end > i) {
            read_postings(s, items + i, end - i, len - i, t, dpart, dpart);
            i = end;
        } else if ((k & need) != need) {
            while (i < len && MATCHER_POSTING_KEY(items[i]) == k)
                i++;
        } else {
            i = next_below(items, i, len, matcher_posting(0, rb << 4));
        }
    }
}

/* The seeds scored first: each one a candidate passing every filter is
 * pushed with its exact score, and all are marked seen, so the lists
 * skip them (a seed in the heap is evaluated; one failing is out). */
static void
seed_heap(struct search *s, const matcher_hit *seed, size_t nseed)
{
    const matcher_index_t *ix = s->ix;

    for (size_t i = 0; i < nseed; i++) {
        uint32_t slot = seed[i].slot, pos;
        double d;

        if (slot >= ix->pused || !matcher_slot_live(ix, slot))
            continue;
        pos = ix->pos[slot];
        if (s->seen[pos >> 6] >> (pos & 63) & 1 ||
            !matcher_is_candidate(ix, s->o, slot))
            continue;
        s->seen[pos >> 6] |= 1ULL << (pos & 63);
        s->stats.considered++;
        if (matcher_filter(ix, s->o, slot, s->ctx, false, &d) != 0)
            continue;
        s->stats.eligible++;
        s->stats.scored++;
        matcher_heap_push(&s->heap, slot,
                          matcher_score(ix, s->o, slot, s->ctx, d, NULL));
    }
}

size_t
matcher_topk_order(matcher_index_t *ix, const matcher_order *o,
                   const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                   matcher_topk_stats *stats)
{
    return matcher_topk_order_seeded(ix, o, ctx, k, hits, stats, NULL, 0);
}

size_t
matcher_topk_order_seeded(matcher_index_t *ix, const matcher_order *o,
                          const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                          matcher_topk_stats *stats, const matcher_hit *seed,
                          size_t nseed)
{
    /* The index's own set: cleared by the search itself. */
    return matcher_topk_order_seeded_r(ix, o, ctx, k, hits, stats, seed, nseed,
                                       ix->seen, matcher_index_seen_words(ix));
}

size_t
matcher_topk_order_seeded_r(const matcher_index_t *ix, const matcher_order *o,
                            const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                            matcher_topk_stats *stats, const matcher_hit *seed,
                            size_t nseed, uint64_t *seen, size_t seen_words)
{
    const struct matcher_order_rec *r = o->rec;
    struct search s = {.ix = ix, .o = o, .ctx = ctx};
    struct term terms[MAXTERMS];
    struct qcell cells[MATCHER_CELLS];
    struct block_reach rc;
    uint32_t near[MATCHER_SPLIT_AT];
    size_t n, nshort = 0, ncells;
    unsigned reach;

    matcher_qorder_init(&s.q, ix, o, ctx);
    matcher_heap_init(&s.heap, ix, false, hits, k);
    if (!(r->flags & MATCHER_OF_LOCATION) || ix->pused == 0)
        goto done; /* nobody can pass the distance filter */
    if (r->kind == 0 || r->kind >= 8 || ix->kind_count[r->kind] == 0)
        goto done; /* nobody may take such a job: no list to read */
    hotfilter_init(&s.f, ix, o, &s.q);
    JM_ASSERT(seen_words >= matcher_index_seen_words(ix));
    memset(seen, 0, matcher_index_seen_words(ix) * sizeof(uint64_t));
    s.seen = seen;
    seed_heap(&s, seed, nseed);
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
        JM_ASSERT(matcher_plist_split_p(
            terms[i].pl)); /* lists split when they grow long */
    qsort(terms, nshort, sizeof(*terms), term_cmp);
    qsort(terms + nshort, n - nshort, sizeof(*terms), term_cmp);
    prepare(&s, terms, n);
    reach = matcher_index_max_range(ix);
    ncells = near_cells(ix, r->lat, r->lon, reach, cells);
    if (nshort > 0)
        reach_init(&s, cells, ncells, &rc);

    for (size_t t = 0; t < nshort; t++) {
        const struct matcher_plist *pl = terms[t].pl;

        flush(&s);
        if (below(&s, s.fixed + s.suffix[t] + MATCHER_W_DISTANCE + s.pmax))
            goto done;
        /* Not split: the citizens' cells are their blocks' (block_reach); the
         * distance bound is that of range 0. */
        for (uint32_t g = 0; g < matcher_plist_nsegs(pl); g++) {
            uint32_t len;
            const uint32_t *items = matcher_plist_seg(pl, g, &len);

            for (uint32_t from = 0; from < len; from += MATCHER_SPLIT_AT) {
                uint32_t m = within_reach(ix, &rc, items + from,
                                          len - from < MATCHER_SPLIT_AT
                                              ? len - from
                                              : MATCHER_SPLIT_AT,
                                          near);

                read_postings(&s, near, m, m, t, MATCHER_W_DISTANCE, 0.0);
            }
        }
    }
    flush(&s);
    if (nshort == n)
        goto done;
    if (below(&s,
              s.fixed + s.suffix[nshort] + distance_bound(0.0, reach) + s.pmax))
        goto done;
    for (size_t c = 0; c < ncells; c++) {
        double dmin = cells[c].dmin;
        uint32_t p = cells[c].pcell;
        /* The key's flags a citizen of this cell needs to pass (see
         * read_segment). */
        unsigned need = cell_needs(&s, p);

        prefetch_cells(terms + nshort, n - nshort, cells, ncells, c);
        /* Every later cell is at least as far. */
        if (below(&s, s.fixed + s.suffix[nshort] + distance_bound(dmin, reach) +
                          s.pmax))
            break;
        for (size_t t = nshort; t < n; t++) {
            const struct matcher_plist *pl = terms[t].pl;
            const uint32_t *items;
            unsigned longest;

            if (p >= pl->nsegs || pl->segs[p].len == 0)
                continue;
            items = pl->items + pl->segs[p].start;
            longest = matcher_range_top(pl->segs[p].rb);
            if (longest < dmin ||
                below(&s, s.fixed + s.suffix[t] +
                              distance_bound(dmin, longest) + s.pmax))
                continue;
            read_segment(&s, items, pl->segs[p].len, t, dmin, need);
            flush(&s);
        }
    }
done:
    flush(&s);
    if (stats != NULL)
        *stats = s.stats;
    return matcher_heap_finish(&s.heap);
}
