/* matcher_index.h - the in-memory index of citizens and open job orders.
 *
 * A citizen has a slot and a position. The slot is their identity inside
 * the matcher (the id map, live shortlists and answers refer to it) and
 * never changes while they are indexed; it indexes their "cold" block
 * (matcher_cold in matcher_record.h: skills, occupations, languages, id),
 * kept in a slab (matcher_slab.h).
 * The position orders what the search reads for every posting, in dense
 * arrays: a 32-byte "hot" record with everything the hard filters need but
 * languages other than Danish (location, travel range, hours, kinds,
 * licences, home municipality, consent, Danish level, a bucket of their
 * English, progression) and an
 * 8-byte signature of what they hold (see matcher_hot): one read tells the
 * search both whether a citizen may enter and what they may score at
 * most. Positions follow
 * where citizens live (cell by cell, see below), so that a search reading
 * the lists of one cell reads one compact stretch of these arrays, not
 * cache lines all over memory; a citizen added later takes a free
 * position, and packing the index (bulk end, matcher_index_compact)
 * renumbers them all.
 *
 * The inverted index, never a scan. A posting is a 32-bit word: the
 * citizen's position in the low 21 bits and a key of what the search may
 * know without reading anything else (buckets of their travel range and
 * progression, consent, full time) in the high 11. Lists:
 *   - skill term -> citizens who hold it;
 *   - occupation term -> citizens who wish for or hold it;
 *   - ISCO-08 unit group -> citizens with an occupation in it;
 *   - and, for orders: skill, occupation and ISCO group -> open orders.
 * A citizen list that reaches MATCHER_SPLIT_AT postings is split by where
 * the citizens live: one segment per populated cell of a grid of 0.2
 * degree of latitude by 0.32 of longitude (about 22 x 20 km), each
 * segment sorted by key, longest range first. The search (matcher_topk)
 * then reads the cells nearest the workplace first, and stops reading a
 * cell's segment where the ranges become too short to reach the workplace
 * or to beat the current k-th score. Shorter lists stay one unsorted
 * segment: they are read whole.
 *
 * The structures are visible because the matching kernel (matcher_score,
 * matcher_topk) reads them in its inner loops; everything else goes
 * through the functions. Single-threaded, like the service. */
#ifndef MATCHER_INDEX_H
#define MATCHER_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/sharing.h"
#include "matcher_dict.h"
#include "matcher_idmap.h"
#include "matcher_record.h"
#include "matcher_slab.h"

#define MATCHER_NONE UINT32_MAX

/* Postings: a citizen's position and an 11-bit key in one word. The key is
 * what the search may know of a citizen without reading their record,
 * most significant first: a bucket of their travel range (7 bits, rounded
 * up: exact up to 63 km, then by 4 km to 191, by 10 km to 501; bucket 127
 * is "any distance"), a bucket of their progression (2 bits: up to 50,
 * 100, 150, 200 of MATCHER_PROGRESS_MAX; "no measurement" scores as 100),
 * whether they consent to other municipalities' orders (1 bit) and whether
 * they take MATCHER_HOURS_SPLIT hours a week or more (1 bit). The two
 * buckets are upper bounds, which is all a bound needs; the two flags
 * let the search pass over a group in which nobody can pass a filter
 * (those not consenting where none of the order's municipality live, the
 * part-timers for a full-time order) without reading it. At most 2^21 - 1
 * citizens (2.1 million) per matcher. */
#define MATCHER_SLOT_BITS   21
#define MATCHER_SLOT_MASK   ((1u << MATCHER_SLOT_BITS) - 1)
#define MATCHER_SLOTS_MAX   MATCHER_SLOT_MASK
#define MATCHER_KEY_BITS    (32 - MATCHER_SLOT_BITS)
#define MATCHER_KEY_CONSENT 2u /* the key's flags */
#define MATCHER_KEY_HOURS   1u
#define MATCHER_HOURS_SPLIT 30  /* hours a week: full time or near it */
#define MATCHER_RANGE_CAP   511 /* a longer range reaches all of Denmark */
#define MATCHER_RBUCKETS    128
#define MATCHER_RBUCKET_ANY (MATCHER_RBUCKETS - 1)

static inline unsigned
matcher_range_bucket(unsigned range_km)
{
    if (range_km < 64)
        return range_km;
    if (range_km < 192)
        return 64 + (range_km - 64) / 4;
    if (range_km < 502)
        return 96 + (range_km - 192) / 10;
    return MATCHER_RBUCKET_ANY;
}

/* The longest range in bucket b (MATCHER_RANGE_CAP: any distance). */
static inline unsigned
matcher_range_top(unsigned b)
{
    if (b < 64)
        return b;
    if (b < 96)
        return 64 + (b - 64) * 4 + 3;
    if (b < MATCHER_RBUCKET_ANY)
        return 192 + (b - 96) * 10 + 9;
    return MATCHER_RANGE_CAP;
}

/* Progression bucket 0-3 of a progression value (or PROGRESS_NONE); its
 * top is (bucket + 1) x 50. */
static inline unsigned
matcher_progress_bucket(unsigned progression)
{
    unsigned v = progression > MATCHER_PROGRESS_MAX ? MATCHER_PROGRESS_MAX / 2
                                                    : progression;

    return v <= 50 ? 0 : v <= 100 ? 1 : v <= 150 ? 2 : 3;
}

/* The key of a citizen with these values (see above). */
static inline uint32_t
matcher_key(unsigned range_km, unsigned progression, bool consent,
            unsigned hours)
{
    return matcher_range_bucket(range_km) << 4 |
           matcher_progress_bucket(progression) << 2 |
           (consent ? MATCHER_KEY_CONSENT : 0) |
           (hours >= MATCHER_HOURS_SPLIT ? MATCHER_KEY_HOURS : 0);
}

static inline uint32_t
matcher_posting(uint32_t pos, uint32_t key)
{
    return key << MATCHER_SLOT_BITS | pos;
}

/* The parts of a key, and of a posting. */
#define MATCHER_KEY_RBUCKET(k)     ((k) >> 4)
#define MATCHER_KEY_PBUCKET(k)     ((k) >> 2 & 3)
#define MATCHER_POSTING_KEY(p)     ((p) >> MATCHER_SLOT_BITS)
#define MATCHER_POSTING_RBUCKET(p) MATCHER_KEY_RBUCKET(MATCHER_POSTING_KEY(p))
#define MATCHER_POSTING_PBUCKET(p) MATCHER_KEY_PBUCKET(MATCHER_POSTING_KEY(p))

/* Lists this long are split by cell. */
#define MATCHER_SPLIT_AT 1024

/* The grid: 20 rows of 0.2 degree from 54.0 N, 25 columns of 0.32 degree
 * from 7.5 E, plus one cell for citizens without a usable location. */
#define MATCHER_GRID_LAT0  54.0
#define MATCHER_GRID_LON0  7.5
#define MATCHER_GRID_DLAT  0.2
#define MATCHER_GRID_DLON  0.32
#define MATCHER_GRID_ROWS  20
#define MATCHER_GRID_COLS  25
#define MATCHER_CELL_ANY   (MATCHER_GRID_ROWS * MATCHER_GRID_COLS)
#define MATCHER_CELLS      (MATCHER_CELL_ANY + 1)
#define MATCHER_ISCO_CODES MATCHER_ISCO_MAX

enum {
    MATCHER_HOT_DANISH = 7 << 2,  /* bits 2-4: Danish level (LanguageLevel) */
    MATCHER_HOT_ENGLISH = 3 << 5, /* bits 5-6: English (see below) */
    MATCHER_HOT_LIVE = 1 << 7,    /* the slot holds a citizen */
};

/* English, the language besides Danish that orders ask for most, as two
 * bits of the hot record: 0 none; then the bucket of their level: 1 up to
 * B1 (or no level given), 2 up to C1, 3 above. The bucket only bounds the
 * level from above (the cold record has it exactly, and is still
 * checked): an order that asks for English at level L passes over, from
 * the hot record alone, everyone whose bucket is below
 * matcher_english_bucket(L), instead of reading their cold record. */
static inline unsigned
matcher_english_bucket(unsigned level)
{
    return level <= 3 ? 1 : level <= 5 ? 2 : 3; /* B1, C1 */
}

/* A citizen's signature (matcher_hot.sig): bit b is set if they hold
 * the skill term whose sigbit is b (the index gives the MATCHER_SIG_BITS
 * most common skills a bit each). It tells the search which of an order's
 * common skills a citizen holds from 8 bytes in a dense array, before it
 * reads anything else of theirs. */
#define MATCHER_SIG_BITS 64
#define MATCHER_SIG_NONE 0xff

/* Positions per block of matcher_index_t.block_pcell, and its two values
 * that are not a populated cell. */
#define MATCHER_BLOCK_SHIFT 6
#define MATCHER_BLOCK_MIXED MATCHER_CELLS
#define MATCHER_BLOCK_NONE  (MATCHER_CELLS + 1)

/* Blocks of block_pcell for this many positions (one more than whole
 * blocks: never none). */
static inline uint32_t
matcher_blocks(uint32_t positions)
{
    return (positions >> MATCHER_BLOCK_SHIFT) + 1;
}

/* The cold record's reference is here, not in an array by slot: the
 * search has the hot record in hand when it wants the cold one. The
 * availability date is a day number from 1970 in 16 bits (0: now; dates
 * before 1970 are past, dates after 2149 are read as 2149-06-06), and the
 * populated cell is found from the place (matcher_hot_pcell). */
typedef struct matcher_hot {
    uint64_t sig; /* the signature: see MATCHER_SIG_BITS */
    float lat, lon;
    uint32_t cold_ref;  /* their cold record in the slab */
    uint16_t available; /* from this day (see above) */
    uint16_t range_km;
    uint16_t licences;
    uint16_t home_muni;
    uint8_t hours;
    uint8_t kinds;
    uint8_t flags; /* MATCHER_PF_*, MATCHER_HOT_* */
    uint8_t progression;
} matcher_hot; /* 32 bytes: two to a cache line (the array is aligned) */

static inline unsigned
matcher_hot_danish(const matcher_hot *h)
{
    return (h->flags & MATCHER_HOT_DANISH) >> 2;
}

static inline unsigned
matcher_hot_english(const matcher_hot *h)
{
    return (h->flags & MATCHER_HOT_ENGLISH) >> 5;
}

/* The key of a citizen's postings (matcher_key). */
static inline uint32_t
matcher_hot_key(const matcher_hot *h)
{
    return matcher_key(h->range_km, h->progression,
                       h->flags & MATCHER_PF_CONSENT, h->hours);
}

/* Postings items[start .. start+len) of one cell of a split list. rb is
 * the range bucket of its first posting, the longest (0 when empty): the
 * search decides whether to read a segment from its descriptor alone. */
struct matcher_seg {
    uint32_t start, len;
    uint32_t cap : 24;
    uint32_t rb : 8;
};

/* A citizen list. Unsplit (segs NULL): items[0 .. count), unsorted, room
 * for cap. Split: segs[p] is populated cell p's (p < nsegs; cells added
 * later have none yet); the segments share the items array, with holes
 * left by segments that moved when they grew, in use up to end. Most
 * lists are short and never split: they cost this header (32 bytes) and
 * their items, no segment. */
struct matcher_plist {
    uint32_t *items;
    struct matcher_seg *segs; /* split lists only */
    uint32_t count;           /* postings */
    uint32_t cap;             /* items allocated */
    uint32_t end;             /* split: items in use, holes included */
    uint32_t nsegs;           /* split: segments */
};

static inline bool
matcher_plist_split_p(const struct matcher_plist *pl)
{
    return pl->segs != NULL;
}

/* A list as segments, for code that reads every posting: an unsplit list
 * is one. Segment g's postings are matcher_plist_seg(pl, g, &len). */
static inline uint32_t
matcher_plist_nsegs(const struct matcher_plist *pl)
{
    return pl->segs != NULL ? pl->nsegs : 1;
}

static inline uint32_t *
matcher_plist_seg(const struct matcher_plist *pl, uint32_t g, uint32_t *len)
{
    if (pl->segs == NULL) {
        *len = pl->count;
        return pl->items;
    }
    *len = pl->segs[g].len;
    return pl->items + pl->segs[g].start;
}

struct matcher_vec {
    uint32_t *items;
    uint32_t len, cap;
};

/* The lists of one occupation or ISCO-08 unit group: the citizens who
 * wish for or hold it (one in it), the open orders for it. */
struct matcher_lists {
    struct matcher_plist profiles;
    struct matcher_vec orders;
};

/* Lists kept only for the codes in use: of the 16,900 terms some 3,000
 * are occupations, of the 10,000 ISCO codes some 430 are used; a header
 * for every code would cost more than the lists (at[code]: 1 + the
 * group's place in lists, or 0: none yet). */
typedef struct matcher_groups {
    uint16_t *at;
    uint32_t ncodes; /* at[] covers codes 0 .. ncodes - 1 */
    struct matcher_lists *lists;
    uint32_t n, cap;
} matcher_groups;

/* The lists of code, or NULL if nobody and no order has had it. */
static inline struct matcher_lists *
matcher_group(const matcher_groups *g, unsigned code)
{
    unsigned i = code < g->ncodes ? g->at[code] : 0;

    return i != 0 ? &g->lists[i - 1] : NULL;
}

/* An open order as the kernel sees it. */
struct matcher_oterm {
    uint16_t term;
    uint8_t min_level;
    uint8_t index; /* into matcher_order_skills(rec); < n_ess: essential */
};

typedef struct matcher_order {
    struct matcher_order_rec *rec; /* owned; the record as stored */
    struct matcher_oterm *sorted;  /* the skills sorted by term */
    /* Bit (term % 256) of each skill: the score looks up only a
     * citizen's skills whose bit is set (matcher_score_rec). */
    uint64_t skill_bits[4];
    const uint64_t *share; /* home municipalities allowed, or NULL */
    uint8_t danish;        /* Danish level required, 0: none */
    uint8_t english;       /* English asked: its bucket, 0: none */
    bool other_languages;  /* languages other than Danish required */
} matcher_order;

typedef struct matcher_index {
    matcher_dict_t *dict;

    /* citizens */
    matcher_slab cold_slab;      /* where the cold records are */
    uint32_t *pos;               /* by slot: position */
    matcher_hot *hot;            /* by position, 64-byte aligned */
    uint32_t *slot_at;           /* by position: slot, or NONE */
    uint32_t pcap, pused, plive; /* slots (and positions) */
    uint32_t pmax;               /* most slots: MATCHER_SLOTS_MAX, or less */
    uint32_t npos;               /* positions in use, with holes */
    uint32_t *posfree;           /* freed with the slots (pfree's room) */
    uint32_t nposfree;
    uint32_t *pfree;
    uint32_t npfree, pfreecap;
    matcher_idmap pmap;
    struct matcher_plist *skill_profiles; /* by term */
    uint32_t nterms;                      /* terms the arrays cover */
    uint32_t termcap;                     /* terms they have room for */
    uint8_t *sigbit; /* by term: its bit in matcher_hot.sig, or SIG_NONE */
    uint64_t *seen;  /* a bit per position: "met in this query" */
    /* By block of 64 positions (MATCHER_BLOCK_SHIFT): the populated cell
     * everyone living there lives in, MATCHER_BLOCK_MIXED when not one cell
     * (a citizen who came or moved between two packings; matcher_block_note),
     * MATCHER_BLOCK_NONE before anyone was. Packing puts a cell's citizens in a
     * row, so most blocks have one cell: a search can tell from a posting
     * alone, with a table that stays in the cache, that its citizen lives too
     * far away for their range (matcher_topk.c), instead of reading their hot
     * record. */
    uint16_t *block_pcell;
    uint32_t block_pcell_n;          /* blocks it has: matcher_blocks(pcap) */
    uint32_t progression_count[256]; /* citizens per progression */
    uint32_t range_count[MATCHER_RANGE_CAP + 1]; /* citizens per range */
    uint32_t kind_count[8]; /* citizens who may take each kind of job */
    uint32_t gen;           /* query generation for the orders' stamps */
    /* Changes whenever what an order's search reads besides the order
     * does: a citizen comes, changes or goes, an agreement is added. While
     * it stays, a search for the same order gives the same answer
     * (matcher_live's precomputed lists rely on it). */
    uint64_t citizens_gen;

    /* populated cells: numbered in order of first use, and again in the
     * grid's order when the index is packed (matcher_layout_cells) */
    uint16_t cell_pcell[MATCHER_CELLS]; /* 0xffff: none */
    uint16_t *pcell_cell;
    uint32_t *pcell_count; /* citizens living there */
    /* the longest travel range of anyone living there (capped): raised as
     * citizens come, lowered only when the index is packed, so always at
     * least the longest */
    uint16_t *pcell_range;
    /* the home municipalities of anyone living there, a bit per code
     * modulo 1024: set as citizens come, cleared only when the index is
     * packed, so always at least those */
    uint64_t (*pcell_munis)[16];
    uint16_t *cells_sorted; /* populated cells by cell number */
    uint32_t npcells, pcellcap;
    double cos_row[MATCHER_GRID_ROWS]; /* cos of each row's north edge */
    /* cos of latitudes 54.00, 54.01, ... 58.00: for lower bounds, the
     * table's value at or above a latitude is never too large */
    double cos_lat[402];

    /* open orders */
    matcher_order *orders;
    uint32_t ocap, oused, olive;
    uint32_t *ofree;
    uint32_t nofree, ofreecap;
    uint32_t *ostamp; /* as stamp, for orders */
    matcher_idmap omap;
    struct matcher_vec *skill_orders; /* by term */
    matcher_groups occs;              /* by occupation term */
    matcher_groups iscos; /* by ISCO-08 unit group (code 0: not known) */

    bool bulk; /* loading: postings appended, split and sorted at the end */
    /* While the lists are split at the end of a load: each position's
     * populated cell, found once instead of once per posting. */
    uint16_t *pcell_at;

    /* the sharing agreements (jm/sharing.h): none configured, all
     * sharing allowed */
    jm_sharing sharing;
} matcher_index_t;

void matcher_index_new(matcher_index_t **ix_p);

/* Makes room for this many citizens and orders (a bulk load knows how
 * many are coming: no slack from doubling). */
void matcher_index_reserve(matcher_index_t *ix, uint32_t profiles,
                           uint32_t orders);
void matcher_index_destroy(matcher_index_t **ix_p);

/* At most max citizens (1 .. MATCHER_SLOTS_MAX, the default): a new one
 * past it is logged and left out of the index (matcher_index_put_profile
 * returns MATCHER_NONE); those held stay. For tests of what happens at the
 * limit, which 2.1 million citizens would make slow. */
void matcher_index_set_max_profiles(matcher_index_t *ix, uint32_t max);

/* Orders owned by owner may be matched with consenting citizens living in
 * munis[0..n-1] (adds to what earlier calls allowed). Call before orders
 * are added. */
void matcher_index_add_agreement(matcher_index_t *ix, uint16_t owner,
                                 const uint16_t *munis, size_t n);

/* The citizen at pos lives in populated cell pcell: their block is that
 * cell's if it was nobody's or already that cell's, else mixed (until the
 * next packing sorts positions by cell again). */
static inline void
matcher_block_note(matcher_index_t *ix, uint32_t pos, uint16_t pcell)
{
    uint16_t *b = &ix->block_pcell[pos >> MATCHER_BLOCK_SHIFT];

    if (*b == MATCHER_BLOCK_NONE)
        *b = pcell;
    else if (*b != pcell)
        *b = MATCHER_BLOCK_MIXED;
}

/* What a populated cell knows of those living there (pcell_range,
 * pcell_munis): a citizen of hot record h lives in populated cell p. Only
 * ever raised; packing recomputes them (matcher_layout.c). */
static inline void
matcher_pcell_note(matcher_index_t *ix, unsigned p, const matcher_hot *h)
{
    unsigned range =
        h->range_km > MATCHER_RANGE_CAP ? MATCHER_RANGE_CAP : h->range_km;

    if (range > ix->pcell_range[p])
        ix->pcell_range[p] = (uint16_t) range;
    ix->pcell_munis[p][h->home_muni >> 6 & 15] |= 1ULL << (h->home_muni & 63);
}

/* May someone of municipality code live in populated cell p? (false:
 * nobody does) */
static inline bool
matcher_pcell_may_have_muni(const matcher_index_t *ix, unsigned p,
                            unsigned code)
{
    return ix->pcell_munis[p][code >> 6 & 15] >> (code & 63) & 1;
}

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
    if (!ix->sharing.any)
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

/* An order outside the index: *o becomes the kernel's form of rec (copied),
 * for a search (matcher_topk_order) without putting it in. False if rec
 * refers to terms the dictionary does not know. Release with
 * matcher_order_release. */
bool matcher_order_make(matcher_index_t *ix, matcher_order *o,
                        const struct matcher_order_rec *rec, size_t size);
void matcher_order_release(matcher_order *o);

/* Packs every posting list tight (after a bulk load). */
void matcher_index_compact(matcher_index_t *ix);

/* A bulk load: between begin and end, citizens' postings are only
 * appended; end splits the long lists by cell and sorts them, once, and
 * packs everything tight. Queries must wait for end. */
void matcher_index_bulk_begin(matcher_index_t *ix);
void matcher_index_bulk_end(matcher_index_t *ix);

/* The grid cell of a point (MATCHER_CELL_ANY outside the grid). */
unsigned matcher_cell_of(double lat, double lon);

/* The populated-cell number of where the citizen of h lives. */
static inline unsigned
matcher_hot_pcell(const matcher_index_t *ix, const matcher_hot *h)
{
    return ix->cell_pcell[(h->flags & MATCHER_PF_LOCATION)
                              ? matcher_cell_of(h->lat, h->lon)
                              : MATCHER_CELL_ANY];
}

/* The least distance in km from (lat, lon) to any point of cell; 0 for
 * MATCHER_CELL_ANY. A true lower bound on the haversine distance. */
double matcher_cell_min_km(unsigned cell, double lat, double lon);

/* Bounds on the haversine distance between two points, without
 * trigonometry for points in Denmark: planar at the higher latitude's
 * scale less 0.1% (lower), at the lower latitude's scale plus 0.1%
 * (upper). */
double matcher_min_km(const matcher_index_t *ix, double lat1, double lon1,
                      double lat2, double lon2);
double matcher_max_km(const matcher_index_t *ix, double lat1, double lon1,
                      double lat2, double lon2);

/* The longest travel range any citizen has, capped at MATCHER_RANGE_CAP
 * (which stands for "any distance"). */
unsigned matcher_index_max_range(const matcher_index_t *ix);

/* The largest progression value any citizen has (a citizen without
 * measurements counts as MATCHER_PROGRESS_MAX / 2). */
unsigned matcher_index_max_progression(const matcher_index_t *ix);

/* A new query generation for the orders' stamps (ostamp); never 0. */
uint32_t matcher_index_next_gen(matcher_index_t *ix);

/* The index's "seen" set, a bit per position, cleared: for a walk over
 * several lists that must meet each citizen once. Valid until the next
 * call; the index is single-threaded. */
uint64_t *matcher_index_seen(matcher_index_t *ix);

/* The words a "seen" set of the index's positions needs today (at least
 * one): for a caller's own set (matcher_topk_order_seeded_r). */
size_t matcher_index_seen_words(const matcher_index_t *ix);

typedef struct matcher_index_stats {
    uint32_t profiles, orders, terms;
    uint64_t postings;
    size_t profile_bytes; /* heap for citizens: records, hot, postings, ids */
    size_t order_bytes;
    size_t total_bytes;
} matcher_index_stats;

void matcher_index_get_stats(const matcher_index_t *ix,
                             matcher_index_stats *out);

/* The hot record of the citizen in slot. */
static inline const matcher_hot *
matcher_hot_of(const matcher_index_t *ix, uint32_t slot)
{
    return &ix->hot[ix->pos[slot]];
}

/* Does slot hold a citizen? */
static inline bool
matcher_slot_live(const matcher_index_t *ix, uint32_t slot)
{
    /* a freed slot's position may have gone to someone else */
    return slot < ix->pused && ix->pos[slot] < ix->npos &&
           ix->slot_at[ix->pos[slot]] == slot;
}

/* The cold record of the citizen whose hot record is h. Valid until the
 * index next changes. */
static inline const struct matcher_cold *
matcher_cold_at(const matcher_index_t *ix, const matcher_hot *h)
{
    return (const struct matcher_cold *) matcher_slab_at(&ix->cold_slab,
                                                         h->cold_ref);
}

/* The cold record of the citizen in slot (which must hold one). */
static inline const struct matcher_cold *
matcher_cold_of(const matcher_index_t *ix, uint32_t slot)
{
    return matcher_cold_at(ix, &ix->hot[ix->pos[slot]]);
}

/* The day a citizen is available from as the hot record keeps it. */
static inline uint16_t
matcher_hot_day(int32_t available_from)
{
    return available_from <= 0           ? 0
           : available_from > UINT16_MAX ? UINT16_MAX
                                         : (uint16_t) available_from;
}

static inline const char *
matcher_slot_id(const matcher_index_t *ix, uint32_t slot, size_t *len)
{
    const struct matcher_cold *c = matcher_cold_of(ix, slot);

    *len = c->id_len;
    return matcher_cold_id(c);
}

/* The whole record of the citizen in slot (as matcher_record_profile made
 * it: its hot and cold parts put together) into buf
 * (MATCHER_PROFILE_REC_MAX bytes); returns its size. */
size_t matcher_index_profile_record(const matcher_index_t *ix, uint32_t slot,
                                    void *buf);

#endif
