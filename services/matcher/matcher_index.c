/* matcher_index.c - the in-memory index (see matcher_index.h).
 *
 * Postings of a skill are segments, one per bucket, living in one array.
 * A segment that fills up moves to the end of the array with twice the
 * room, leaving a hole; when holes make up half the array it is rebuilt
 * tight. Removal swaps the last item of the segment into the gap, so the
 * order of citizens within a segment means nothing (the kernel's results
 * do not depend on it: see matcher_topk.c). */
#include "matcher_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/mem.h"

#define EARTH_RADIUS_KM 6371.0088

static const uint16_t class_limit[MATCHER_CLASSES] = {15, 30, 60, 300, 65535};

/* ---- small vectors ---- */

static void
vec_push(struct matcher_vec *v, uint32_t value)
{
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 4;
        v->items = jm_xrealloc(v->items, v->cap * sizeof(uint32_t));
    }
    v->items[v->len++] = value;
}

static void
vec_remove(struct matcher_vec *v, uint32_t value)
{
    for (uint32_t i = 0; i < v->len; i++) {
        if (v->items[i] == value) {
            v->items[i] = v->items[--v->len];
            return;
        }
    }
}

static void
vec_shrink(struct matcher_vec *v)
{
    if (v->len == v->cap)
        return;
    if (v->len == 0) {
        free(v->items);
        v->items = NULL;
        v->cap = 0;
        return;
    }
    v->items = jm_xrealloc(v->items, v->len * sizeof(uint32_t));
    v->cap = v->len;
}

/* ---- segmented posting lists ---- */

static struct matcher_seg *
seg_find(struct matcher_plist *pl, uint16_t bucket, bool create)
{
    uint32_t lo = 0, hi = pl->nsegs;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (pl->segs[mid].bucket < bucket)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < pl->nsegs && pl->segs[lo].bucket == bucket)
        return &pl->segs[lo];
    if (!create)
        return NULL;
    if (pl->nsegs == pl->segcap) {
        pl->segcap = pl->segcap ? pl->segcap * 2 : 2;
        pl->segs = jm_xrealloc(pl->segs, pl->segcap * sizeof(*pl->segs));
    }
    memmove(&pl->segs[lo + 1], &pl->segs[lo],
            (pl->nsegs - lo) * sizeof(*pl->segs));
    pl->nsegs++;
    memset(&pl->segs[lo], 0, sizeof(pl->segs[lo]));
    pl->segs[lo].bucket = bucket;
    pl->segs[lo].start = pl->end;
    return &pl->segs[lo];
}

/* Rebuilds the items array tight, giving each segment extra room
 * (slack(len)); drops empty segments. */
static void
plist_pack(struct matcher_plist *pl, bool slack)
{
    uint32_t total = 0, n = 0, at = 0;
    uint32_t *items;

    for (uint32_t i = 0; i < pl->nsegs; i++) {
        uint32_t len = pl->segs[i].len;

        if (len > 0)
            total += len + (slack ? len / 4 + 2 : 0);
    }
    items = total ? jm_xmalloc(total * sizeof(uint32_t)) : NULL;
    for (uint32_t i = 0; i < pl->nsegs; i++) {
        struct matcher_seg s = pl->segs[i];

        if (s.len == 0)
            continue;
        memcpy(items + at, pl->items + s.start, s.len * sizeof(uint32_t));
        s.start = at;
        s.cap = s.len + (slack ? s.len / 4 + 2 : 0);
        at += s.cap;
        pl->segs[n++] = s;
    }
    free(pl->items);
    pl->items = items;
    pl->nsegs = n;
    pl->end = pl->cap = total;
    if (!slack && pl->segcap > n) {
        if (n == 0) {
            free(pl->segs);
            pl->segs = NULL;
        } else {
            pl->segs = jm_xrealloc(pl->segs, n * sizeof(*pl->segs));
        }
        pl->segcap = n;
    }
}

static void
plist_add(struct matcher_plist *pl, uint16_t bucket, uint32_t slot)
{
    struct matcher_seg *s = seg_find(pl, bucket, true);

    if (s->len == s->cap) {
        uint32_t cap = s->cap < 2 ? 4 : s->cap * 2;

        if (pl->end + cap > pl->cap) {
            /* Holes are everything allocated that no segment holds. */
            uint32_t holes = pl->end - pl->count;

            if (holes > pl->end / 2 && holes >= cap) {
                uint16_t b = s->bucket;

                plist_pack(pl, true);
                s = seg_find(pl, b, true);
                if (s->len < s->cap)
                    goto store;
            }
            if (pl->end + cap > pl->cap) {
                pl->cap =
                    pl->end + cap > pl->cap * 2 ? pl->end + cap : pl->cap * 2;
                pl->items = jm_xrealloc(pl->items, pl->cap * sizeof(uint32_t));
            }
        }
        memcpy(pl->items + pl->end, pl->items + s->start,
               s->len * sizeof(uint32_t));
        s->start = pl->end;
        s->cap = cap;
        pl->end += cap;
    }
store:
    pl->items[s->start + s->len++] = slot;
    pl->count++;
}

static void
plist_remove(struct matcher_plist *pl, uint16_t bucket, uint32_t slot)
{
    struct matcher_seg *s = seg_find(pl, bucket, false);
    uint32_t *items;

    if (s == NULL)
        return;
    items = pl->items + s->start;
    for (uint32_t i = 0; i < s->len; i++) {
        if (items[i] == slot) {
            items[i] = items[--s->len];
            pl->count--;
            return;
        }
    }
}

static void
plist_release(struct matcher_plist *pl)
{
    free(pl->segs);
    free(pl->items);
    memset(pl, 0, sizeof(*pl));
}

/* ---- geometry ---- */

uint16_t
matcher_bucket_of(const matcher_hot *h)
{
    unsigned cell = MATCHER_CELL_ANY, cls = 0;

    if (h->flags & MATCHER_PF_LOCATION) {
        double r = floor((h->lat - MATCHER_GRID_LAT0) / MATCHER_GRID_DLAT);
        double c = floor((h->lon - MATCHER_GRID_LON0) / MATCHER_GRID_DLON);

        if (r >= 0 && r < MATCHER_GRID_ROWS && c >= 0 && c < MATCHER_GRID_COLS)
            cell = (unsigned) r * MATCHER_GRID_COLS + (unsigned) c;
    }
    while (cls < MATCHER_CLASSES - 1 && h->range_km > class_limit[cls])
        cls++;
    return (uint16_t) (cell * MATCHER_CLASSES + cls);
}

double
matcher_cell_min_km(unsigned cell, double lat, double lon)
{
    const double rad = 3.14159265358979323846 / 180.0;
    double lat0, lat1, lon0, lon1, dlat, dlon, phi, a;

    if (cell >= MATCHER_CELL_ANY)
        return 0.0;
    lat0 = MATCHER_GRID_LAT0 + (cell / MATCHER_GRID_COLS) * MATCHER_GRID_DLAT;
    lon0 = MATCHER_GRID_LON0 + (cell % MATCHER_GRID_COLS) * MATCHER_GRID_DLON;
    lat1 = lat0 + MATCHER_GRID_DLAT;
    lon1 = lon0 + MATCHER_GRID_DLON;
    dlat = lat < lat0 ? lat0 - lat : lat > lat1 ? lat - lat1 : 0.0;
    dlon = lon < lon0 ? lon0 - lon : lon > lon1 ? lon - lon1 : 0.0;
    /* hav(d) = hav(dphi) + cos(phi1) cos(phi2) hav(dlambda), and both
     * cosines are at least cos of the larger latitude involved: so this
     * is never more than the distance to the nearest point of the cell. */
    phi = (lat > lat1 ? lat : lat1) * rad;
    a = sin(dlat * rad / 2) * sin(dlat * rad / 2) +
        cos(phi) * cos(phi) * sin(dlon * rad / 2) * sin(dlon * rad / 2);
    if (a > 1.0)
        a = 1.0;
    /* A hair less, for the float coordinates of the citizens. */
    return 2.0 * EARTH_RADIUS_KM * asin(sqrt(a)) * 0.9999;
}

uint16_t
matcher_bucket_range(unsigned bucket)
{
    return class_limit[bucket % MATCHER_CLASSES];
}

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

uint32_t
matcher_index_next_gen(matcher_index_t *ix)
{
    if (++ix->gen == 0) {
        memset(ix->stamp, 0, ix->pcap * sizeof(uint32_t));
        memset(ix->ostamp, 0, ix->ocap * sizeof(uint32_t));
        ix->gen = 1;
    }
    return ix->gen;
}

/* ---- life ---- */

static const char *
profile_key(void *ctx, uint32_t slot, size_t *len)
{
    return matcher_slot_id(ctx, slot, len);
}

static const char *
order_key(void *ctx, uint32_t slot, size_t *len)
{
    const matcher_index_t *ix = ctx;
    const struct matcher_order_rec *r = ix->orders[slot].rec;

    *len = r->id_len;
    return matcher_order_id(r);
}

void
matcher_index_new(matcher_index_t **ix_p)
{
    matcher_index_t *ix = jm_xcalloc(1, sizeof(*ix));

    matcher_dict_new(&ix->dict);
    matcher_idmap_init(&ix->pmap, profile_key, ix);
    matcher_idmap_init(&ix->omap, order_key, ix);
    ix->isco_profiles =
        jm_xcalloc(MATCHER_ISCO_CODES, sizeof(struct matcher_vec));
    ix->isco_orders =
        jm_xcalloc(MATCHER_ISCO_CODES, sizeof(struct matcher_vec));
    *ix_p = ix;
}

void
matcher_index_destroy(matcher_index_t **ix_p)
{
    matcher_index_t *ix = *ix_p;

    if (ix == NULL)
        return;
    for (uint32_t i = 0; i < ix->pused; i++)
        free(ix->cold[i]);
    for (uint32_t i = 0; i < ix->oused; i++) {
        free(ix->orders[i].rec);
        free(ix->orders[i].sorted);
    }
    for (uint32_t t = 0; t < ix->nterms; t++) {
        plist_release(&ix->skill_profiles[t]);
        free(ix->occ_profiles[t].items);
        free(ix->skill_orders[t].items);
        free(ix->occ_orders[t].items);
    }
    for (unsigned i = 0; i < MATCHER_ISCO_CODES; i++) {
        free(ix->isco_profiles[i].items);
        free(ix->isco_orders[i].items);
    }
    for (unsigned i = 0; i < 1000; i++)
        free(ix->agreements[i]);
    free(ix->skill_profiles);
    free(ix->occ_profiles);
    free(ix->skill_orders);
    free(ix->occ_orders);
    free(ix->isco_profiles);
    free(ix->isco_orders);
    free(ix->hot);
    free(ix->cold);
    free(ix->stamp);
    free(ix->pfree);
    free(ix->orders);
    free(ix->ofree);
    free(ix->ostamp);
    matcher_idmap_release(&ix->pmap);
    matcher_idmap_release(&ix->omap);
    matcher_dict_destroy(&ix->dict);
    free(ix);
    *ix_p = NULL;
}

void
matcher_index_add_agreement(matcher_index_t *ix, uint16_t owner,
                            const uint16_t *munis, size_t n)
{
    JM_ASSERT(owner < 1000);
    ix->has_agreements = true;
    if (ix->agreements[owner] == NULL)
        ix->agreements[owner] = jm_xcalloc(16, sizeof(uint64_t));
    for (size_t i = 0; i < n; i++) {
        if (munis[i] < 1000)
            ix->agreements[owner][munis[i] >> 6] |= 1ULL << (munis[i] & 63);
    }
}

/* Makes the per-term arrays cover every term of the dictionary. */
static void
cover_terms(matcher_index_t *ix)
{
    uint32_t n = (uint32_t) matcher_dict_count(ix->dict);
    uint32_t cap = ix->nterms;

    if (n <= ix->nterms)
        return;
    while (cap < n)
        cap = cap ? cap * 2 : 1024;
    ix->skill_profiles =
        jm_xrealloc(ix->skill_profiles, cap * sizeof(struct matcher_plist));
    ix->occ_profiles =
        jm_xrealloc(ix->occ_profiles, cap * sizeof(struct matcher_vec));
    ix->skill_orders =
        jm_xrealloc(ix->skill_orders, cap * sizeof(struct matcher_vec));
    ix->occ_orders =
        jm_xrealloc(ix->occ_orders, cap * sizeof(struct matcher_vec));
    memset(ix->skill_profiles + ix->nterms, 0,
           (cap - ix->nterms) * sizeof(struct matcher_plist));
    memset(ix->occ_profiles + ix->nterms, 0,
           (cap - ix->nterms) * sizeof(struct matcher_vec));
    memset(ix->skill_orders + ix->nterms, 0,
           (cap - ix->nterms) * sizeof(struct matcher_vec));
    memset(ix->occ_orders + ix->nterms, 0,
           (cap - ix->nterms) * sizeof(struct matcher_vec));
    ix->nterms = cap;
}

/* ---- citizens ---- */

static void
profile_postings(matcher_index_t *ix, uint32_t slot, bool add)
{
    const struct matcher_profile_rec *p = ix->cold[slot];
    const struct matcher_pskill *skills = matcher_profile_skills(p);
    const struct matcher_pocc *occs = matcher_profile_occs(p);
    uint16_t bucket = ix->hot[slot].bucket;

    for (unsigned i = 0; i < p->n_skills; i++) {
        struct matcher_plist *pl = &ix->skill_profiles[skills[i].term];

        if (add)
            plist_add(pl, bucket, slot);
        else
            plist_remove(pl, bucket, slot);
    }
    for (unsigned i = 0; i < p->n_occs; i++) {
        struct matcher_vec *v = &ix->occ_profiles[occs[i].term];
        bool dup_isco = false;

        if (add)
            vec_push(v, slot);
        else
            vec_remove(v, slot);
        /* One entry per ISCO group even if two occupations share it. */
        for (unsigned j = 0; j < i; j++)
            dup_isco |= occs[j].isco == occs[i].isco;
        if (occs[i].isco == 0 || occs[i].isco >= MATCHER_ISCO_CODES || dup_isco)
            continue;
        if (add)
            vec_push(&ix->isco_profiles[occs[i].isco], slot);
        else
            vec_remove(&ix->isco_profiles[occs[i].isco], slot);
    }
    if (add) {
        ix->bucket_count[bucket]++;
        ix->progression_count[p->progression]++;
    } else {
        ix->bucket_count[bucket]--;
        ix->progression_count[p->progression]--;
    }
}

static bool
profile_terms_known(const matcher_index_t *ix,
                    const struct matcher_profile_rec *p)
{
    size_t n = matcher_dict_count(ix->dict);

    for (unsigned i = 0; i < p->n_skills; i++) {
        if (matcher_profile_skills(p)[i].term >= n)
            return false;
    }
    for (unsigned i = 0; i < p->n_occs; i++) {
        if (matcher_profile_occs(p)[i].term >= n)
            return false;
    }
    return true;
}

static uint32_t
new_profile_slot(matcher_index_t *ix)
{
    if (ix->npfree > 0)
        return ix->pfree[--ix->npfree];
    if (ix->pused == ix->pcap) {
        uint32_t cap = ix->pcap ? ix->pcap * 2 : 1024;

        ix->hot = jm_xrealloc(ix->hot, cap * sizeof(matcher_hot));
        ix->cold = jm_xrealloc(ix->cold, cap * sizeof(*ix->cold));
        ix->stamp = jm_xrealloc(ix->stamp, cap * sizeof(uint32_t));
        memset(ix->stamp + ix->pcap, 0, (cap - ix->pcap) * sizeof(uint32_t));
        ix->pcap = cap;
    }
    return ix->pused++;
}

uint32_t
matcher_index_put_profile(matcher_index_t *ix,
                          const struct matcher_profile_rec *rec, size_t size)
{
    const char *id = matcher_profile_id(rec);
    uint32_t slot = matcher_idmap_find(&ix->pmap, id, rec->id_len);
    struct matcher_profile_rec *copy;
    matcher_hot *h;

    if (!profile_terms_known(ix, rec)) {
        jm_log(JM_LOG_ERR, "matcher", "profile %.*s: unknown term id",
               (int) rec->id_len, id);
        return MATCHER_NONE;
    }
    cover_terms(ix);
    copy = jm_xmalloc(size);
    memcpy(copy, rec, size);
    if (slot != MATCHER_IDMAP_NONE) {
        /* Same id, same slot: the id map and live shortlists keep
         * pointing at it. */
        profile_postings(ix, slot, false);
        free(ix->cold[slot]);
    } else {
        slot = new_profile_slot(ix);
        ix->plive++;
    }
    ix->cold[slot] = copy;
    h = &ix->hot[slot];
    h->lat = rec->lat;
    h->lon = rec->lon;
    h->available_from = rec->available_from;
    h->range_km = rec->range_km;
    h->licences = rec->licences;
    h->home_muni = rec->home_muni;
    h->hours = rec->hours;
    h->kinds = rec->kinds;
    h->flags = (uint8_t) (rec->flags | MATCHER_HOT_LIVE);
    h->progression = rec->progression;
    h->bucket = matcher_bucket_of(h);
    profile_postings(ix, slot, true);
    if (matcher_idmap_find(&ix->pmap, id, rec->id_len) == MATCHER_IDMAP_NONE)
        matcher_idmap_put(&ix->pmap, slot);
    return slot;
}

uint32_t
matcher_index_remove_profile(matcher_index_t *ix, const char *id, size_t len)
{
    uint32_t slot = matcher_idmap_find(&ix->pmap, id, len);

    if (slot == MATCHER_IDMAP_NONE)
        return MATCHER_NONE;
    profile_postings(ix, slot, false);
    matcher_idmap_del(&ix->pmap, id, len);
    free(ix->cold[slot]);
    ix->cold[slot] = NULL;
    memset(&ix->hot[slot], 0, sizeof(ix->hot[slot]));
    if (ix->npfree == ix->pfreecap) {
        ix->pfreecap = ix->pfreecap ? ix->pfreecap * 2 : 64;
        ix->pfree = jm_xrealloc(ix->pfree, ix->pfreecap * sizeof(uint32_t));
    }
    ix->pfree[ix->npfree++] = slot;
    ix->plive--;
    return slot;
}

uint32_t
matcher_index_find_profile(const matcher_index_t *ix, const char *id,
                           size_t len)
{
    uint32_t slot = matcher_idmap_find(&ix->pmap, id, len);

    return slot == MATCHER_IDMAP_NONE ? MATCHER_NONE : slot;
}

/* ---- orders ---- */

static int
oterm_cmp(const void *a, const void *b)
{
    const struct matcher_oterm *x = a, *y = b;

    return (x->term > y->term) - (x->term < y->term);
}

static void
order_postings(matcher_index_t *ix, uint32_t slot, bool add)
{
    const matcher_order *o = &ix->orders[slot];
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);

    for (unsigned i = 0; i < (unsigned) r->n_ess + r->n_opt; i++) {
        if (add)
            vec_push(&ix->skill_orders[skills[i].term], slot);
        else
            vec_remove(&ix->skill_orders[skills[i].term], slot);
    }
    if (r->occupation != MATCHER_TERM_NONE) {
        if (add)
            vec_push(&ix->occ_orders[r->occupation], slot);
        else
            vec_remove(&ix->occ_orders[r->occupation], slot);
    }
    if (r->isco > 0 && r->isco < MATCHER_ISCO_CODES) {
        if (add)
            vec_push(&ix->isco_orders[r->isco], slot);
        else
            vec_remove(&ix->isco_orders[r->isco], slot);
    }
}

uint32_t
matcher_index_put_order(matcher_index_t *ix,
                        const struct matcher_order_rec *rec, size_t size)
{
    const char *id = matcher_order_id(rec);
    uint32_t slot = matcher_idmap_find(&ix->omap, id, rec->id_len);
    size_t n = (size_t) rec->n_ess + rec->n_opt;
    size_t terms = matcher_dict_count(ix->dict);
    bool known =
        rec->occupation == MATCHER_TERM_NONE || rec->occupation < terms;
    matcher_order *o;

    for (size_t i = 0; i < n; i++)
        known = known && matcher_order_skills(rec)[i].term < terms;
    if (!known) {
        jm_log(JM_LOG_ERR, "matcher", "order %.*s: unknown term id",
               (int) rec->id_len, id);
        return MATCHER_NONE;
    }
    cover_terms(ix);
    if (slot != MATCHER_IDMAP_NONE) {
        order_postings(ix, slot, false);
        free(ix->orders[slot].rec);
        free(ix->orders[slot].sorted);
    } else if (ix->nofree > 0) {
        slot = ix->ofree[--ix->nofree];
        ix->olive++;
    } else {
        if (ix->oused == ix->ocap) {
            uint32_t cap = ix->ocap ? ix->ocap * 2 : 256;

            ix->orders = jm_xrealloc(ix->orders, cap * sizeof(matcher_order));
            ix->ostamp = jm_xrealloc(ix->ostamp, cap * sizeof(uint32_t));
            memset(ix->ostamp + ix->ocap, 0,
                   (cap - ix->ocap) * sizeof(uint32_t));
            ix->ocap = cap;
        }
        slot = ix->oused++;
        ix->olive++;
    }
    o = &ix->orders[slot];
    o->rec = jm_xmalloc(size);
    memcpy(o->rec, rec, size);
    o->sorted = jm_xmalloc((n ? n : 1) * sizeof(struct matcher_oterm));
    for (size_t i = 0; i < n; i++) {
        o->sorted[i].term = matcher_order_skills(rec)[i].term;
        o->sorted[i].min_level = matcher_order_skills(rec)[i].min_level;
        o->sorted[i].index = (uint8_t) i;
    }
    qsort(o->sorted, n, sizeof(*o->sorted), oterm_cmp);
    o->share = rec->owner_muni < 1000 ? ix->agreements[rec->owner_muni] : NULL;
    order_postings(ix, slot, true);
    if (matcher_idmap_find(&ix->omap, id, rec->id_len) == MATCHER_IDMAP_NONE)
        matcher_idmap_put(&ix->omap, slot);
    return slot;
}

uint32_t
matcher_index_remove_order(matcher_index_t *ix, const char *id, size_t len)
{
    uint32_t slot = matcher_idmap_find(&ix->omap, id, len);

    if (slot == MATCHER_IDMAP_NONE)
        return MATCHER_NONE;
    order_postings(ix, slot, false);
    matcher_idmap_del(&ix->omap, id, len);
    free(ix->orders[slot].rec);
    free(ix->orders[slot].sorted);
    memset(&ix->orders[slot], 0, sizeof(matcher_order));
    if (ix->nofree == ix->ofreecap) {
        ix->ofreecap = ix->ofreecap ? ix->ofreecap * 2 : 64;
        ix->ofree = jm_xrealloc(ix->ofree, ix->ofreecap * sizeof(uint32_t));
    }
    ix->ofree[ix->nofree++] = slot;
    ix->olive--;
    return slot;
}

uint32_t
matcher_index_find_order(const matcher_index_t *ix, const char *id, size_t len)
{
    uint32_t slot = matcher_idmap_find(&ix->omap, id, len);

    return slot == MATCHER_IDMAP_NONE ? MATCHER_NONE : slot;
}

/* ---- maintenance and accounting ---- */

void
matcher_index_compact(matcher_index_t *ix)
{
    for (uint32_t t = 0; t < ix->nterms; t++) {
        plist_pack(&ix->skill_profiles[t], false);
        vec_shrink(&ix->occ_profiles[t]);
    }
    for (unsigned i = 0; i < MATCHER_ISCO_CODES; i++)
        vec_shrink(&ix->isco_profiles[i]);
}

/* What malloc really takes for a block of size bytes (glibc: 8 bytes of
 * header, 16-byte granules, 32 at least). */
static size_t
heap_size(size_t size)
{
    size_t n = (size + 8 + 15) & ~(size_t) 15;

    return n < 32 ? 32 : n;
}

void
matcher_index_get_stats(const matcher_index_t *ix, matcher_index_stats *out)
{
    size_t p = 0, o = 0;

    memset(out, 0, sizeof(*out));
    out->profiles = ix->plive;
    out->orders = ix->olive;
    out->terms = (uint32_t) matcher_dict_count(ix->dict);
    for (uint32_t i = 0; i < ix->pused; i++) {
        if (ix->cold[i] != NULL)
            p += heap_size(matcher_profile_size(ix->cold[i]));
    }
    p += ix->pcap * (sizeof(matcher_hot) + sizeof(void *) + sizeof(uint32_t));
    p += matcher_idmap_bytes(&ix->pmap);
    for (uint32_t t = 0; t < ix->nterms; t++) {
        const struct matcher_plist *pl = &ix->skill_profiles[t];

        out->postings += pl->count;
        if (pl->cap)
            p += heap_size(pl->cap * sizeof(uint32_t));
        if (pl->segcap)
            p += heap_size(pl->segcap * sizeof(struct matcher_seg));
        if (ix->occ_profiles[t].cap)
            p += heap_size(ix->occ_profiles[t].cap * sizeof(uint32_t));
        if (ix->skill_orders[t].cap)
            o += heap_size(ix->skill_orders[t].cap * sizeof(uint32_t));
        if (ix->occ_orders[t].cap)
            o += heap_size(ix->occ_orders[t].cap * sizeof(uint32_t));
    }
    p += ix->nterms * sizeof(struct matcher_plist);
    for (unsigned i = 0; i < MATCHER_ISCO_CODES; i++) {
        if (ix->isco_profiles[i].cap)
            p += heap_size(ix->isco_profiles[i].cap * sizeof(uint32_t));
        if (ix->isco_orders[i].cap)
            o += heap_size(ix->isco_orders[i].cap * sizeof(uint32_t));
    }
    for (uint32_t i = 0; i < ix->oused; i++) {
        if (ix->orders[i].rec != NULL)
            o += heap_size(matcher_order_size(ix->orders[i].rec)) +
                 heap_size((size_t) (ix->orders[i].rec->n_ess +
                                     ix->orders[i].rec->n_opt) *
                           sizeof(struct matcher_oterm));
    }
    o += ix->ocap * (sizeof(matcher_order) + sizeof(uint32_t)) +
         matcher_idmap_bytes(&ix->omap);
    out->profile_bytes = p;
    out->order_bytes = o;
    out->total_bytes = p + o + matcher_dict_bytes(ix->dict);
}
