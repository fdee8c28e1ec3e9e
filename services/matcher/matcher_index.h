/* matcher_index.h - the in-memory index of citizens and open job orders.
 *
 * Citizens live in slots (uint32): a 24-byte "hot" record with everything
 * the cheap hard filters need (location, travel range, hours, kinds,
 * licences, home municipality, consent), in one array so that the first
 * look at a candidate is one cache line, and a "cold" block (the compact
 * record of matcher_record.h) with skills, occupations, languages and id.
 *
 * The inverted index, never a scan:
 *   - skill term -> citizens, split into buckets by where they live (a
 *     grid cell of half a degree of latitude by 0.8 of longitude, about
 *     55 x 50 km) and how far they travel (5 classes). A query computes,
 *     per bucket, the least distance from the workplace to the cell; a
 *     bucket whose citizens cannot reach the workplace is skipped whole,
 *     and the bucket's best possible distance score feeds the pruning
 *     bound (matcher_topk.c);
 *   - occupation term -> citizens who wish for or hold it; ISCO-08 unit
 *     group -> the same citizens;
 *   - for orders: skill term, occupation term and ISCO group -> open
 *     orders (for "orders for a citizen" and live updates).
 *
 * The structures are visible because the matching kernel (matcher_score,
 * matcher_topk) reads them in its inner loops; everything else goes
 * through the functions. Single-threaded, like the service. */
#ifndef MATCHER_INDEX_H
#define MATCHER_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher_dict.h"
#include "matcher_idmap.h"
#include "matcher_record.h"

#define MATCHER_NONE UINT32_MAX

/* The grid: rows of 0.5 degrees from 54.0 N, columns of 0.8 degrees from
 * 7.5 E, plus one "anywhere" cell for citizens without a usable location. */
#define MATCHER_GRID_LAT0  54.0
#define MATCHER_GRID_LON0  7.5
#define MATCHER_GRID_DLAT  0.5
#define MATCHER_GRID_DLON  0.8
#define MATCHER_GRID_ROWS  8
#define MATCHER_GRID_COLS  10
#define MATCHER_CELL_ANY   (MATCHER_GRID_ROWS * MATCHER_GRID_COLS)
#define MATCHER_CELLS      (MATCHER_CELL_ANY + 1)
#define MATCHER_CLASSES    5 /* travel range <= 15, 30, 60, 300 km, more */
#define MATCHER_BUCKETS    (MATCHER_CELLS * MATCHER_CLASSES)
#define MATCHER_ISCO_CODES 10000

enum {
    MATCHER_HOT_LIVE = 1 << 7, /* the slot holds a citizen */
};

typedef struct matcher_hot {
    float lat, lon;
    int32_t available_from; /* MATCHER_DATE_NONE: now */
    uint16_t range_km;
    uint16_t licences;
    uint16_t home_muni;
    uint16_t bucket;
    uint8_t hours;
    uint8_t kinds;
    uint8_t flags; /* MATCHER_PF_* | MATCHER_HOT_LIVE */
    uint8_t progression;
} matcher_hot;

/* The citizens of one bucket in a skill's postings. */
struct matcher_seg {
    uint16_t bucket;
    uint16_t unused;
    uint32_t start, len, cap; /* items[start .. start+len) */
};

/* One skill's postings: segments sorted by bucket, their items in one
 * array (with holes left by segments that moved when they grew). */
struct matcher_plist {
    struct matcher_seg *segs;
    uint32_t *items;
    uint32_t nsegs, segcap;
    uint32_t end, cap; /* items in use up to end, allocated up to cap */
    uint32_t count;    /* postings */
};

struct matcher_vec {
    uint32_t *items;
    uint32_t len, cap;
};

/* An open order as the kernel sees it. */
struct matcher_oterm {
    uint16_t term;
    uint8_t min_level;
    uint8_t index; /* into matcher_order_skills(rec); < n_ess: essential */
};

typedef struct matcher_order {
    struct matcher_order_rec *rec; /* owned; the record as stored */
    struct matcher_oterm *sorted;  /* the skills sorted by term */
    const uint64_t *share;         /* home municipalities allowed, or NULL */
} matcher_order;

typedef struct matcher_index {
    matcher_dict_t *dict;

    /* citizens */
    matcher_hot *hot;
    struct matcher_profile_rec **cold;
    uint32_t *stamp; /* "seen in query n" marks of matcher_topk */
    uint32_t pcap, pused, plive;
    uint32_t *pfree;
    uint32_t npfree, pfreecap;
    matcher_idmap pmap;
    struct matcher_plist *skill_profiles; /* by term */
    struct matcher_vec *occ_profiles;     /* by term */
    struct matcher_vec *isco_profiles;    /* [MATCHER_ISCO_CODES] */
    uint32_t nterms;                      /* terms the arrays cover */
    uint32_t bucket_count[MATCHER_BUCKETS];
    uint32_t progression_count[256]; /* citizens per progression value */
    uint32_t gen;                    /* query generation for stamp */

    /* open orders */
    matcher_order *orders;
    uint32_t ocap, oused, olive;
    uint32_t *ofree;
    uint32_t nofree, ofreecap;
    uint32_t *ostamp; /* as stamp, for orders */
    matcher_idmap omap;
    struct matcher_vec *skill_orders; /* by term */
    struct matcher_vec *occ_orders;   /* by term */
    struct matcher_vec *isco_orders;  /* [MATCHER_ISCO_CODES] */

    /* sharing agreements: owner municipality -> bit set of home
     * municipalities (1000 bits); none configured: all sharing allowed */
    uint64_t *agreements[1000];
    bool has_agreements;
} matcher_index_t;

void matcher_index_new(matcher_index_t **ix_p);
void matcher_index_destroy(matcher_index_t **ix_p);

/* Orders owned by owner may be matched with consenting citizens living in
 * munis[0..n-1] (adds to what earlier calls allowed). Call before orders
 * are added. */
void matcher_index_add_agreement(matcher_index_t *ix, uint16_t owner,
                                 const uint16_t *munis, size_t n);

/* May a citizen (hot) be matched with orders of owner? Their own
 * municipality always; another only with consent and, if agreements are
 * configured, an agreement of owner naming their municipality. */
static inline bool
matcher_share_ok(const matcher_index_t *ix, uint16_t owner,
                 const uint64_t *share, const matcher_hot *h)
{
    if (h->home_muni == owner)
        return true;
    if (!(h->flags & MATCHER_PF_CONSENT))
        return false;
    if (!ix->has_agreements)
        return true;
    return share != NULL && h->home_muni < 1000 &&
           (share[h->home_muni >> 6] >> (h->home_muni & 63) & 1);
}

/* Adds or replaces (same id: same slot) the citizen of record (copied).
 * Returns the slot, or MATCHER_NONE for a record that refers to terms the
 * dictionary does not know (a bug; logged). */
uint32_t matcher_index_put_profile(matcher_index_t *ix,
                                   const struct matcher_profile_rec *rec,
                                   size_t size);

/* Removes the citizen; returns the slot it had, or MATCHER_NONE. */
uint32_t matcher_index_remove_profile(matcher_index_t *ix, const char *id,
                                      size_t len);

uint32_t matcher_index_find_profile(const matcher_index_t *ix, const char *id,
                                    size_t len);

/* The same for open orders. */
uint32_t matcher_index_put_order(matcher_index_t *ix,
                                 const struct matcher_order_rec *rec,
                                 size_t size);
uint32_t matcher_index_remove_order(matcher_index_t *ix, const char *id,
                                    size_t len);
uint32_t matcher_index_find_order(const matcher_index_t *ix, const char *id,
                                  size_t len);

/* Packs every posting list tight (after a bulk load). */
void matcher_index_compact(matcher_index_t *ix);

/* The bucket of a citizen. */
uint16_t matcher_bucket_of(const matcher_hot *h);

/* The largest travel range of a bucket's class. The limits are fixed (not
 * the largest range seen) so that every bound the kernel derives from the
 * index depends only on the data, never on its history: two matchers with
 * the same data prune identically. */
uint16_t matcher_bucket_range(unsigned bucket);

/* The largest progression value any citizen has (a citizen without
 * measurements counts as MATCHER_PROGRESS_MAX / 2). */
unsigned matcher_index_max_progression(const matcher_index_t *ix);

/* The least distance in km from (lat, lon) to any point of cell; 0 for
 * MATCHER_CELL_ANY. A true lower bound on the haversine distance. */
double matcher_cell_min_km(unsigned cell, double lat, double lon);

/* A new query generation for the stamp array; never 0. */
uint32_t matcher_index_next_gen(matcher_index_t *ix);

typedef struct matcher_index_stats {
    uint32_t profiles, orders, terms;
    uint64_t postings;
    size_t profile_bytes; /* heap for citizens: records, hot, postings, ids */
    size_t order_bytes;
    size_t total_bytes;
} matcher_index_stats;

void matcher_index_get_stats(const matcher_index_t *ix,
                             matcher_index_stats *out);

static inline const char *
matcher_slot_id(const matcher_index_t *ix, uint32_t slot, size_t *len)
{
    const struct matcher_profile_rec *p = ix->cold[slot];

    *len = p->id_len;
    return matcher_profile_id(p);
}

#endif
