/* matcher_layout.c - where citizens are, for the search: the grid and
 * the distance bounds (matcher_index.h), positions in the order of cells,
 * each cell's longest range, and the signatures (matcher_layout.h). */
#include "matcher_layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "matcher_plist.h"

#define KM_PER_DEGREE 111.1951 /* on a sphere of 6371.0088 km */
#define DEG           (3.14159265358979323846 / 180.0)

/* ---- geometry ---- */

unsigned
matcher_cell_of(double lat, double lon)
{
    double r = floor((lat - MATCHER_GRID_LAT0) / MATCHER_GRID_DLAT);
    double c = floor((lon - MATCHER_GRID_LON0) / MATCHER_GRID_DLON);

    if (r >= 0 && r < MATCHER_GRID_ROWS && c >= 0 && c < MATCHER_GRID_COLS)
        return (unsigned) r * MATCHER_GRID_COLS + (unsigned) c;
    return MATCHER_CELL_ANY;
}

/* hav(d) = hav(dphi) + cos(phi1) cos(phi2) hav(dlambda) >= hav(dphi) +
 * cos^2(phimax) hav(dlambda), and for the angles of Denmark (under 0.15
 * rad) 2 asin(sqrt(h)) >= 2 sqrt(h) and sin x >= x (1 - x^2/6): so the
 * planar distance at the higher latitude's scale, less 0.1%, never
 * exceeds the great-circle distance. */
static double
planar_min_km(double dlat, double dlon, double lat_max)
{
    double dy = dlat * KM_PER_DEGREE;
    double dx = dlon * KM_PER_DEGREE * cos(lat_max * DEG);

    return sqrt(dx * dx + dy * dy) * 0.999;
}

/* cos of lat from the table, rounded towards the pole (smaller) for
 * lower bounds or towards the equator (larger) for upper ones. */
static double
cos_at(const matcher_index_t *ix, double lat, bool larger)
{
    double x = (lat - 54.0) * 100.0;
    int i;

    if (x < 0.0 || x > 400.0)
        return cos(lat * DEG);
    i = larger ? (int) floor(x) : (int) ceil(x);
    return ix->cos_lat[i];
}

double
matcher_min_km(const matcher_index_t *ix, double lat1, double lon1, double lat2,
               double lon2)
{
    double dlat = lat1 > lat2 ? lat1 - lat2 : lat2 - lat1;
    double dlon = lon1 > lon2 ? lon1 - lon2 : lon2 - lon1;
    double dy = dlat * KM_PER_DEGREE;
    double dx =
        dlon * KM_PER_DEGREE * cos_at(ix, lat1 > lat2 ? lat1 : lat2, false);

    return sqrt(dx * dx + dy * dy) * 0.999;
}

/* hav(d) <= hav(dphi) + cos^2(phimin) hav(dlambda) <= (dphi^2 +
 * cos^2(phimin) dlambda^2) / 4, and 2 asin(sqrt(h)) <= 2 sqrt(h) x 1.0004
 * for the short distances of Denmark (h < 0.002). */
double
matcher_max_km(const matcher_index_t *ix, double lat1, double lon1, double lat2,
               double lon2)
{
    double dlat = lat1 > lat2 ? lat1 - lat2 : lat2 - lat1;
    double dlon = lon1 > lon2 ? lon1 - lon2 : lon2 - lon1;
    double dy = dlat * KM_PER_DEGREE;
    double dx =
        dlon * KM_PER_DEGREE * cos_at(ix, lat1 < lat2 ? lat1 : lat2, true);

    return sqrt(dx * dx + dy * dy) * 1.001;
}

double
matcher_cell_min_km(unsigned cell, double lat, double lon)
{
    double lat0, lat1, lon0, lon1, dlat, dlon;

    if (cell >= MATCHER_CELL_ANY)
        return 0.0;
    lat0 = MATCHER_GRID_LAT0 + (cell / MATCHER_GRID_COLS) * MATCHER_GRID_DLAT;
    lon0 = MATCHER_GRID_LON0 + (cell % MATCHER_GRID_COLS) * MATCHER_GRID_DLON;
    lat1 = lat0 + MATCHER_GRID_DLAT;
    lon1 = lon0 + MATCHER_GRID_DLON;
    dlat = lat < lat0 ? lat0 - lat : lat > lat1 ? lat - lat1 : 0.0;
    dlon = lon < lon0 ? lon0 - lon : lon > lon1 ? lon - lon1 : 0.0;
    /* Citizens' coordinates are floats: keep a few metres of margin. */
    return planar_min_km(dlat, dlon, lat > lat1 ? lat : lat1) * 0.9999;
}

/* From the histogram, not a running maximum: a maximum that only grows
 * would make the bound depend on history (citizens since erased), and two
 * matchers with the same data would prune differently. */
unsigned
matcher_index_max_progression(const matcher_index_t *ix)
{
    unsigned max = ix->progression_count[MATCHER_PROGRESS_NONE] > 0
                       ? MATCHER_PROGRESS_MAX / 2
                       : 0;

    for (unsigned v = MATCHER_PROGRESS_MAX; v > max; v--) {
        if (ix->progression_count[v] > 0)
            return v;
    }
    return max;
}

unsigned
matcher_index_max_range(const matcher_index_t *ix)
{
    for (unsigned r = MATCHER_RANGE_CAP; r > 0; r--) {
        if (ix->range_count[r] > 0)
            return r;
    }
    return 0;
}

/* Each populated cell's longest range and home municipalities, exactly
 * (after removals they may have been more). */
static void
cell_ranges(matcher_index_t *ix)
{
    for (uint32_t p = 0; p < ix->npcells; p++) {
        ix->pcell_range[p] = 0;
        memset(ix->pcell_munis[p], 0, sizeof(ix->pcell_munis[p]));
    }
    for (uint32_t i = 0; i < ix->npos; i++) {
        if (ix->slot_at[i] != MATCHER_NONE)
            matcher_pcell_note(ix, matcher_hot_pcell(ix, &ix->hot[i]),
                               &ix->hot[i]);
    }
}

/* ---- the populated cells ---- */

/* The n elements (of size bytes) of old, which has room for cap, moved
 * from p to renum[p] in a new array; old is freed. */
static void *
permute(void *old, const uint16_t *renum, uint32_t n, uint32_t cap, size_t size)
{
    char *to = jm_xmalloc((cap ? cap : 1) * size);

    for (uint32_t p = 0; p < n; p++)
        memcpy(to + renum[p] * size, (const char *) old + p * size, size);
    free(old);
    return to;
}

void
matcher_layout_cells(matcher_index_t *ix)
{
    uint32_t n = ix->npcells, cap = ix->pcellcap, moved = 0;
    uint16_t *renum = jm_xmalloc((n ? n : 1) * sizeof(uint16_t));

    /* cells_sorted holds the populated cells by cell number: the grid's
     * order is its order. */
    for (uint32_t q = 0; q < n; q++) {
        renum[ix->cell_pcell[ix->cells_sorted[q]]] = (uint16_t) q;
        moved += ix->cell_pcell[ix->cells_sorted[q]] != q;
    }
    if (moved == 0) { /* packed before, and no cell new since */
        free(renum);
        return;
    }
    ix->pcell_cell =
        permute(ix->pcell_cell, renum, n, cap, sizeof(*ix->pcell_cell));
    ix->pcell_count =
        permute(ix->pcell_count, renum, n, cap, sizeof(*ix->pcell_count));
    ix->pcell_range =
        permute(ix->pcell_range, renum, n, cap, sizeof(*ix->pcell_range));
    ix->pcell_munis =
        permute(ix->pcell_munis, renum, n, cap, sizeof(*ix->pcell_munis));
    for (uint32_t q = 0; q < n; q++)
        ix->cell_pcell[ix->pcell_cell[q]] = (uint16_t) q;
    for (uint32_t t = 0; t < ix->nterms; t++)
        matcher_plist_renumber_cells(&ix->skill_profiles[t], renum, n);
    for (uint32_t i = 0; i < ix->occs.n; i++)
        matcher_plist_renumber_cells(&ix->occs.lists[i].profiles, renum, n);
    for (uint32_t i = 0; i < ix->iscos.n; i++)
        matcher_plist_renumber_cells(&ix->iscos.lists[i].profiles, renum, n);
    free(renum);
}

/* ---- the hot records ---- */

matcher_hot *
matcher_hot_realloc(matcher_hot *old, uint32_t n, uint32_t cap)
{
    size_t size = ((size_t) cap * sizeof(matcher_hot) + 63) & ~(size_t) 63;
    matcher_hot *hot = aligned_alloc(64, size ? size : 64);

    JM_ASSERT(hot != NULL); /* out of memory aborts, as jm_xmalloc */
    if (n > 0)
        memcpy(hot, old, (size_t) n * sizeof(matcher_hot));
    free(old);
    return hot;
}

/* ---- signatures ---- */

uint64_t
matcher_layout_sig(const matcher_index_t *ix, const struct matcher_cold *p)
{
    const struct matcher_pskill *skills = matcher_cold_skills(p);
    uint64_t sig = 0;

    for (unsigned i = 0; i < p->n_skills; i++) {
        unsigned b = ix->sigbit[skills[i].term];

        if (b != MATCHER_SIG_NONE)
            sig |= 1ULL << b;
    }
    return sig;
}

static int
count_desc(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b; /* {count, term} */

    if (x[0] != y[0])
        return x[0] > y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Gives the MATCHER_SIG_BITS skills with the longest lists a bit each and
 * recomputes every citizen's signature. Which skills have bits only
 * changes how much the search can prune, never its answers, so it is
 * done when the index is packed (after a load), not as lists change. */
static void
assign_signature(matcher_index_t *ix)
{
    uint32_t(*order)[2] = jm_xmalloc((ix->nterms + 1) * sizeof(*order));
    uint32_t n = 0;

    for (uint32_t t = 0; t < ix->nterms; t++) {
        ix->sigbit[t] = MATCHER_SIG_NONE;
        if (ix->skill_profiles[t].count > 0) {
            order[n][0] = ix->skill_profiles[t].count;
            order[n++][1] = t;
        }
    }
    qsort(order, n, sizeof(*order), count_desc);
    for (uint32_t i = 0; i < n && i < MATCHER_SIG_BITS; i++)
        ix->sigbit[order[i][1]] = (uint8_t) i;
    free(order);
    for (uint32_t i = 0; i < ix->pused; i++) {
        if (matcher_slot_live(ix, i))
            ix->hot[ix->pos[i]].sig =
                matcher_layout_sig(ix, matcher_cold_of(ix, i));
    }
}

static int
u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}

/* Rewrites a list's postings for new positions (old -> renum[old]); a
 * split list's segments are sorted again. */
static void
renumber_list(struct matcher_plist *pl, const uint32_t *renum)
{
    for (uint32_t g = 0; g < matcher_plist_nsegs(pl); g++) {
        uint32_t len;
        uint32_t *items = matcher_plist_seg(pl, g, &len);

        for (uint32_t i = 0; i < len; i++)
            items[i] = (items[i] & ~MATCHER_SLOT_MASK) |
                       renum[items[i] & MATCHER_SLOT_MASK];
        if (matcher_plist_split_p(pl))
            matcher_plist_sort(items, len);
    }
}

/* Gives every citizen a new position: by populated cell, and within one
 * by posting key (the order a cell's segments are read in), so that a
 * search reading a cell reads a compact stretch of the hot records and
 * signatures. Holes left by removals close. */
void
matcher_layout_positions(matcher_index_t *ix)
{
    uint64_t *order = jm_xmalloc((ix->npos + 1) * sizeof(uint64_t));
    uint32_t *renum = jm_xmalloc((ix->npos + 1) * sizeof(uint32_t));
    matcher_hot *hot = matcher_hot_realloc(NULL, 0, ix->pcap);
    uint32_t *slot_at = jm_xmalloc(ix->pcap * sizeof(uint32_t));
    uint32_t n = 0;

    for (uint32_t p = 0; p < ix->npos; p++) {
        const matcher_hot *h = &ix->hot[p];
        uint32_t key;

        if (ix->slot_at[p] == MATCHER_NONE)
            continue;
        key = matcher_hot_key(h);
        order[n++] = (uint64_t) matcher_hot_pcell(ix, h)
                         << (32 + MATCHER_KEY_BITS) |
                     (uint64_t) ((1u << MATCHER_KEY_BITS) - 1 - key) << 32 | p;
    }
    qsort(order, n, sizeof(*order), u64_cmp);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = (uint32_t) order[i];

        renum[p] = i;
        hot[i] = ix->hot[p];
        slot_at[i] = ix->slot_at[p];
        ix->pos[slot_at[i]] = i;
    }
    free(ix->hot);
    free(ix->slot_at);
    ix->hot = hot;
    ix->slot_at = slot_at;
    ix->npos = n;
    ix->nposfree = 0;
    for (uint32_t t = 0; t < ix->nterms; t++) {
        renumber_list(&ix->skill_profiles[t], renum);
    }
    for (uint32_t i = 0; i < ix->occs.n; i++)
        renumber_list(&ix->occs.lists[i].profiles, renum);
    for (uint32_t i = 0; i < ix->iscos.n; i++)
        renumber_list(&ix->iscos.lists[i].profiles, renum);
    free(order);
    free(renum);
    /* Positions are in cells' order now: each block of them has one cell,
     * but for those where one cell ends and the next begins. */
    if (ix->block_pcell == NULL)
        return; /* no citizen ever */
    for (uint32_t b = 0; b < ix->block_pcell_n; b++)
        ix->block_pcell[b] = MATCHER_BLOCK_NONE;
    for (uint32_t p = 0; p < n; p++)
        matcher_block_note(ix, p,
                           (uint16_t) matcher_hot_pcell(ix, &ix->hot[p]));
}

void
matcher_layout_signatures(matcher_index_t *ix)
{
    assign_signature(ix);
    cell_ranges(ix);
}
