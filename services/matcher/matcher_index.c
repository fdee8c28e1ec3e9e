/* matcher_index.c - the in-memory index (see matcher_index.h).
 *
 * Every change of a citizen goes through put/remove, which keep the
 * posting lists, the id map, the populated cells and the progression
 * histogram in step. A citizen's postings are removed with the values they
 * were added with (their old travel range and cell), so a put of a
 * changed citizen first removes, then replaces the record, then adds. */
#include "matcher_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "matcher_layout.h"
#include "matcher_plist.h"

#define DEG (3.14159265358979323846 / 180.0)

/* ---- small vectors ---- */

/* Order lists are short (thousands of orders in all): plain vectors,
 * doubling, removal by swapping the last item in. */
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

/* The stamps save clearing a "seen" set per query: an order is seen in
 * this query when its stamp equals the generation. After 2^32 queries the
 * stamps are cleared once. */
uint32_t
matcher_index_next_gen(matcher_index_t *ix)
{
    if (++ix->gen == 0) {
        memset(ix->ostamp, 0, ix->ocap * sizeof(uint32_t));
        ix->gen = 1;
    }
    return ix->gen;
}

/* ---- life ---- */

/* The id maps keep only slots; these give a slot's id back to them. */
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

/* The lists of code in g, made when first needed (code < g->ncodes). The
 * address is good until the next group is made. */
static struct matcher_lists *
group_lists(matcher_groups *g, unsigned code)
{
    JM_ASSERT(code < g->ncodes);
    if (g->at[code] == 0) {
        if (g->n == g->cap) {
            g->cap = g->cap ? g->cap * 2 : 64;
            g->lists = jm_xrealloc(g->lists, g->cap * sizeof(*g->lists));
        }
        memset(&g->lists[g->n], 0, sizeof(*g->lists));
        g->at[code] = (uint16_t) ++g->n;
    }
    return &g->lists[g->at[code] - 1];
}

static void
groups_release(matcher_groups *g)
{
    for (uint32_t i = 0; i < g->n; i++) {
        matcher_plist_release(&g->lists[i].profiles);
        free(g->lists[i].orders.items);
    }
    free(g->lists);
    free(g->at);
    memset(g, 0, sizeof(*g));
}

void
matcher_index_new(matcher_index_t **ix_p)
{
    matcher_index_t *ix = jm_xcalloc(1, sizeof(*ix));

    matcher_dict_new(&ix->dict);
    matcher_idmap_init(&ix->pmap, profile_key, ix);
    matcher_idmap_init(&ix->omap, order_key, ix);
    ix->seen = jm_xcalloc(1, sizeof(uint64_t));
    ix->pmax = MATCHER_SLOTS_MAX;
    ix->iscos.at = jm_xcalloc(MATCHER_ISCO_CODES, sizeof(uint16_t));
    ix->iscos.ncodes = MATCHER_ISCO_CODES;
    memset(ix->cell_pcell, 0xff, sizeof(ix->cell_pcell));
    for (unsigned r = 0; r < MATCHER_GRID_ROWS; r++)
        ix->cos_row[r] =
            cos((MATCHER_GRID_LAT0 + (r + 1) * MATCHER_GRID_DLAT) * DEG);
    for (unsigned i = 0; i < JM_COUNTOF(ix->cos_lat); i++)
        ix->cos_lat[i] = cos((54.0 + i / 100.0) * DEG);
    *ix_p = ix;
}

void
matcher_index_set_max_profiles(matcher_index_t *ix, uint32_t max)
{
    JM_ASSERT(max >= 1 && max <= MATCHER_SLOTS_MAX);
    ix->pmax = max;
}

void
matcher_index_destroy(matcher_index_t **ix_p)
{
    matcher_index_t *ix = *ix_p;

    if (ix == NULL)
        return;
    matcher_slab_release(&ix->cold_slab);
    for (uint32_t i = 0; i < ix->oused; i++) {
        free(ix->orders[i].rec);
    }
    for (uint32_t t = 0; t < ix->nterms; t++) {
        matcher_plist_release(&ix->skill_profiles[t]);
        free(ix->skill_orders[t].items);
    }
    groups_release(&ix->occs);
    groups_release(&ix->iscos);
    free(ix->pcell_cell);
    free(ix->pcell_count);
    free(ix->pcell_range);
    free(ix->pcell_munis);
    free(ix->cells_sorted);
    jm_sharing_release(&ix->sharing);
    free(ix->skill_profiles);
    free(ix->skill_orders);
    free(ix->hot);
    free(ix->seen);
    free(ix->block_pcell);
    free(ix->pos);
    free(ix->slot_at);
    free(ix->posfree);
    free(ix->sigbit);
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

/* One bit per municipality code (101..860 fit in 1000 bits): the check
 * in the inner loop is a shift and a mask. Who may be matched with whom
 * changes: every list is stale. */
void
matcher_index_add_agreement(matcher_index_t *ix, uint16_t owner,
                            const uint16_t *munis, size_t n)
{
    jm_sharing_add_codes(&ix->sharing, owner, munis, n);
    ix->citizens_gen++;
}

/* The per-term arrays with room for cap terms (new entries empty). */
static void
resize_terms(matcher_index_t *ix, uint32_t cap)
{
    ix->skill_profiles =
        jm_xrealloc(ix->skill_profiles, cap * sizeof(struct matcher_plist));
    ix->skill_orders =
        jm_xrealloc(ix->skill_orders, cap * sizeof(struct matcher_vec));
    ix->occs.at = jm_xrealloc(ix->occs.at, cap * sizeof(uint16_t));
    ix->sigbit = jm_xrealloc(ix->sigbit, cap);
    if (cap > ix->termcap) {
        uint32_t n = cap - ix->termcap;

        memset(ix->sigbit + ix->termcap, MATCHER_SIG_NONE, n);
        memset(ix->skill_profiles + ix->termcap, 0,
               n * sizeof(struct matcher_plist));
        memset(ix->occs.at + ix->termcap, 0, n * sizeof(uint16_t));
        memset(ix->skill_orders + ix->termcap, 0,
               n * sizeof(struct matcher_vec));
    }
    ix->termcap = cap;
    ix->occs.ncodes = cap;
}

/* Makes the per-term arrays cover every term of the dictionary (room
 * doubles; matcher_index_compact gives the slack back). */
static void
cover_terms(matcher_index_t *ix)
{
    uint32_t n = (uint32_t) matcher_dict_count(ix->dict);
    uint32_t cap = ix->termcap;

    if (n <= ix->nterms)
        return;
    if (n > cap) {
        while (cap < n)
            cap = cap ? cap * 2 : 1024;
        resize_terms(ix, cap);
    }
    ix->nterms = n;
}

uint64_t *
matcher_index_seen(matcher_index_t *ix)
{
    memset(ix->seen, 0, (ix->npos + 63) / 64 * sizeof(uint64_t));
    return ix->seen;
}

size_t
matcher_index_seen_words(const matcher_index_t *ix)
{
    return (ix->npos + 63) / 64 + 1;
}

/* Positions never outnumber slots (each citizen has one of each, and
 * both are freed together): the arrays of both grow together. */
static void
grow_profiles(matcher_index_t *ix, uint32_t cap)
{
    ix->pos = jm_xrealloc(ix->pos, cap * sizeof(uint32_t));
    ix->hot = matcher_hot_realloc(ix->hot, ix->pcap, cap);
    ix->slot_at = jm_xrealloc(ix->slot_at, cap * sizeof(uint32_t));
    /* a word more than needed: never NULL, even for no citizens */
    ix->seen = jm_xrealloc(ix->seen, ((cap + 63) / 64 + 1) * sizeof(uint64_t));
    ix->block_pcell =
        jm_xrealloc(ix->block_pcell, matcher_blocks(cap) * sizeof(uint16_t));
    for (uint32_t b = ix->block_pcell_n; b < matcher_blocks(cap); b++)
        ix->block_pcell[b] = MATCHER_BLOCK_NONE;
    ix->block_pcell_n = matcher_blocks(cap);
    ix->pcap = cap;
}

static void
grow_orders(matcher_index_t *ix, uint32_t cap)
{
    ix->orders = jm_xrealloc(ix->orders, cap * sizeof(matcher_order));
    ix->ostamp = jm_xrealloc(ix->ostamp, cap * sizeof(uint32_t));
    memset(ix->ostamp + ix->ocap, 0, (cap - ix->ocap) * sizeof(uint32_t));
    ix->ocap = cap;
}

void
matcher_index_reserve(matcher_index_t *ix, uint32_t profiles, uint32_t orders)
{
    if (profiles > ix->pcap)
        grow_profiles(ix, profiles);
    if (orders > ix->ocap)
        grow_orders(ix, orders);
    matcher_idmap_reserve(&ix->pmap, profiles);
    matcher_idmap_reserve(&ix->omap, orders);
}

/* ---- citizens ---- */

/* The populated-cell number of cell, made if it is new. */
static uint16_t
pcell_of(matcher_index_t *ix, unsigned cell)
{
    uint32_t p = ix->cell_pcell[cell], i;

    if (p != 0xffff)
        return (uint16_t) p;
    if (ix->npcells == ix->pcellcap) {
        ix->pcellcap = ix->pcellcap ? ix->pcellcap * 2 : 64;
        ix->pcell_cell =
            jm_xrealloc(ix->pcell_cell, ix->pcellcap * sizeof(uint16_t));
        ix->pcell_count =
            jm_xrealloc(ix->pcell_count, ix->pcellcap * sizeof(uint32_t));
        ix->pcell_range =
            jm_xrealloc(ix->pcell_range, ix->pcellcap * sizeof(uint16_t));
        ix->pcell_munis = jm_xrealloc(ix->pcell_munis,
                                      ix->pcellcap * sizeof(*ix->pcell_munis));
        ix->cells_sorted =
            jm_xrealloc(ix->cells_sorted, ix->pcellcap * sizeof(uint16_t));
    }
    p = ix->npcells++;
    ix->pcell_cell[p] = (uint16_t) cell;
    ix->pcell_count[p] = 0;
    ix->pcell_range[p] = 0;
    memset(ix->pcell_munis[p], 0, sizeof(ix->pcell_munis[p]));
    ix->cell_pcell[cell] = (uint16_t) p;
    for (i = p; i > 0 && ix->cells_sorted[i - 1] > cell; i--)
        ix->cells_sorted[i] = ix->cells_sorted[i - 1];
    ix->cells_sorted[i] = (uint16_t) cell;
    return (uint16_t) p;
}

static void
plist_change(matcher_index_t *ix, struct matcher_plist *pl, uint32_t pos,
             bool add)
{
    const matcher_hot *h = &ix->hot[pos];
    uint32_t posting = matcher_posting(pos, matcher_hot_key(h));

    if (add && ix->bulk)
        matcher_plist_append(pl, posting);
    else if (add)
        matcher_plist_add(pl, ix, matcher_hot_pcell(ix, h), posting);
    else
        matcher_plist_remove(pl, matcher_hot_pcell(ix, h), posting);
}

/* Every list a citizen is in, added or removed in one place so that the
 * two can never disagree. Removal needs the values the postings were
 * added with: call it before the hot record changes. */
static void
profile_postings(matcher_index_t *ix, uint32_t slot, bool add)
{
    const struct matcher_cold *p = matcher_cold_of(ix, slot);
    const struct matcher_pskill *skills = matcher_cold_skills(p);
    const struct matcher_cocc *occs = matcher_cold_occs(p);
    uint32_t pos = ix->pos[slot];
    const matcher_hot *h = &ix->hot[pos];
    unsigned range, pcell = matcher_hot_pcell(ix, h);

    for (unsigned i = 0; i < p->n_skills; i++)
        plist_change(ix, &ix->skill_profiles[skills[i].term], pos, add);
    for (unsigned i = 0; i < p->n_occs; i++) {
        bool dup_isco = false;

        plist_change(ix, &group_lists(&ix->occs, occs[i].term)->profiles, pos,
                     add);
        /* One entry per ISCO group even if two occupations share it. */
        for (unsigned j = 0; j < i; j++)
            dup_isco |= occs[j].isco == occs[i].isco;
        if (occs[i].isco != 0 && occs[i].isco < MATCHER_ISCO_CODES && !dup_isco)
            plist_change(ix, &group_lists(&ix->iscos, occs[i].isco)->profiles,
                         pos, add);
    }
    range = h->range_km > MATCHER_RANGE_CAP ? MATCHER_RANGE_CAP : h->range_km;
    if (add) {
        ix->pcell_count[pcell]++;
        matcher_pcell_note(ix, pcell, h);
        ix->progression_count[h->progression]++;
        ix->range_count[range]++;
        for (unsigned b = 0; b < 8; b++)
            ix->kind_count[b] += h->kinds >> b & 1;
    } else {
        for (unsigned b = 0; b < 8; b++)
            ix->kind_count[b] -= h->kinds >> b & 1;
        ix->pcell_count[pcell]--;
        ix->progression_count[h->progression]--;
        ix->range_count[range]--;
    }
}

/* A record refers to terms by id; an id the dictionary does not know
 * would index past the lists. It cannot happen after matcher_view has
 * synced the dictionary, so this is a guard, logged as an error. */
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

/* ---- cold records ---- */

static void
cold_free(matcher_index_t *ix, uint32_t slot)
{
    matcher_slab_free(&ix->cold_slab,
                      matcher_cold_size(matcher_cold_of(ix, slot)));
}

/* Every live cold record copied into a new region of the slab, in the
 * order of positions (where citizens live: the search reads the records
 * of one cell from one stretch), the holes of the freed ones left behind
 * with the old region. */
static void
cold_pack(matcher_index_t *ix)
{
    matcher_slab old;

    matcher_slab_pack_begin(&ix->cold_slab, &old);
    for (uint32_t p = 0; p < ix->npos; p++) {
        matcher_hot *h = &ix->hot[p];
        const void *from;
        size_t size;

        if (ix->slot_at[p] == MATCHER_NONE)
            continue;
        from = matcher_slab_at(&old, h->cold_ref);
        size = matcher_cold_size(from);
        h->cold_ref = matcher_slab_alloc(&ix->cold_slab, size);
        memcpy(matcher_slab_at(&ix->cold_slab, h->cold_ref), from, size);
    }
    matcher_slab_release(&old);
}

static void
cold_maybe_pack(matcher_index_t *ix)
{
    if (matcher_slab_should_pack(&ix->cold_slab))
        cold_pack(ix);
}

size_t
matcher_index_profile_record(const matcher_index_t *ix, uint32_t slot,
                             void *buf)
{
    const struct matcher_cold *c = matcher_cold_of(ix, slot);
    const matcher_hot *h = matcher_hot_of(ix, slot);
    struct matcher_profile_rec r = {
        .format = MATCHER_REC_PROFILE,
        .source = c->source,
        .kinds = h->kinds,
        .hours = h->hours,
        .range_km = h->range_km,
        .licences = h->licences,
        .home_muni = h->home_muni,
        .flags =
            (uint8_t) (h->flags & (MATCHER_PF_CONSENT | MATCHER_PF_LOCATION)),
        .progression = h->progression,
        .available_from =
            h->available == 0 ? MATCHER_DATE_NONE : (int32_t) h->available,
        .lat = h->lat,
        .lon = h->lon,
        .n_skills = c->n_skills,
        .n_occs = c->n_occs,
        .n_langs = c->n_langs,
        .id_len = c->id_len,
    };
    struct matcher_pskill *skills =
        (struct matcher_pskill *) (void *) ((struct matcher_profile_rec *) buf +
                                            1);
    struct matcher_pocc *occs =
        (struct matcher_pocc *) (void *) (skills + c->n_skills);
    const struct matcher_cocc *cocc = matcher_cold_occs(c);
    const char *rest = (const char *) matcher_cold_langs(c);
    size_t nrest = c->n_langs * sizeof(struct matcher_lang) + c->id_len;

    memcpy(buf, &r, sizeof(r));
    memcpy(skills, matcher_cold_skills(c),
           c->n_skills * sizeof(struct matcher_pskill));
    for (unsigned i = 0; i < c->n_occs; i++) {
        occs[i].term = cocc[i].term;
        occs[i].isco = cocc[i].isco;
        occs[i].held = cocc[i].held;
    }
    memcpy(occs + c->n_occs, rest, nrest);
    return (size_t) ((char *) (occs + c->n_occs) - (char *) buf) + nrest;
}

/* The cold size of a profile record: occupations shrink to 4 bytes. */
static size_t
cold_size_of(const struct matcher_profile_rec *rec)
{
    return sizeof(struct matcher_cold) +
           rec->n_skills * sizeof(struct matcher_pskill) +
           rec->n_occs * sizeof(struct matcher_cocc) +
           rec->n_langs * sizeof(struct matcher_lang) + rec->id_len;
}

/* The cold record of rec into c (cold_size_of(rec) bytes): the header,
 * the arrays and the id; the fields the hot record holds are not copied.
 * An ISCO code too large for 15 bits is not one (codes are below
 * MATCHER_ISCO_CODES): it is kept as 0, not known, which is how the index
 * treats it anyway. */
static void
cold_fill(struct matcher_cold *c, const struct matcher_profile_rec *rec)
{
    struct matcher_pskill *skills = (struct matcher_pskill *) (void *) (c + 1);
    struct matcher_cocc *occs =
        (struct matcher_cocc *) (void *) (skills + rec->n_skills);
    const struct matcher_pocc *from = matcher_profile_occs(rec);

    c->source = rec->source;
    c->n_skills = rec->n_skills;
    c->n_occs = rec->n_occs;
    c->n_langs = rec->n_langs;
    c->id_len = rec->id_len;
    c->pad = 0;
    memcpy(skills, matcher_profile_skills(rec),
           rec->n_skills * sizeof(struct matcher_pskill));
    for (unsigned i = 0; i < rec->n_occs; i++) {
        occs[i].term = from[i].term;
        occs[i].isco = from[i].isco < 0x8000 ? from[i].isco : 0;
        occs[i].held = from[i].held != 0;
    }
    memcpy(occs + rec->n_occs, matcher_profile_langs(rec),
           rec->n_langs * sizeof(struct matcher_lang) + rec->id_len);
}

/* Freed slots are reused first, so the arrays stay as long as the most
 * citizens ever held; so are freed positions (a citizen added between two
 * packings of the index takes whatever position is free, wherever they
 * live). */
static uint32_t
new_profile_slot(matcher_index_t *ix)
{
    uint32_t slot, pos;

    if (ix->npfree > 0) {
        slot = ix->pfree[--ix->npfree];
    } else {
        if (ix->pused == ix->pcap)
            grow_profiles(ix, ix->pcap ? ix->pcap * 2 : 1024);
        slot = ix->pused++;
    }
    pos = ix->nposfree > 0 ? ix->posfree[--ix->nposfree] : ix->npos++;
    JM_ASSERT(pos < ix->pcap);
    ix->pos[slot] = pos;
    ix->slot_at[pos] = slot;
    return slot;
}

uint32_t
matcher_index_put_profile(matcher_index_t *ix,
                          const struct matcher_profile_rec *rec, size_t size)
{
    const char *id = matcher_profile_id(rec);
    uint32_t slot = matcher_idmap_find(&ix->pmap, id, rec->id_len);
    bool known = slot != MATCHER_IDMAP_NONE;
    struct matcher_cold *copy;
    matcher_hot *h;

    JM_ASSERT(size == matcher_profile_size(rec));
    /* plive is pused when no slot is free: at the default this is the
     * 21-bit slot space. */
    if (slot == MATCHER_IDMAP_NONE && ix->plive >= ix->pmax) {
        jm_log(JM_LOG_ERR, "matcher", "more than %u citizens: %.*s left out",
               ix->pmax, (int) rec->id_len, id);
        return MATCHER_NONE;
    }
    if (!profile_terms_known(ix, rec)) {
        jm_log(JM_LOG_ERR, "matcher", "profile %.*s: unknown term id",
               (int) rec->id_len, id);
        return MATCHER_NONE;
    }
    cover_terms(ix);
    cold_maybe_pack(ix);
    ix->citizens_gen++;
    if (slot != MATCHER_IDMAP_NONE) {
        /* Same id, same slot: the id map and live shortlists keep
         * pointing at it. */
        profile_postings(ix, slot, false);
        cold_free(ix, slot);
    } else {
        slot = new_profile_slot(ix);
        ix->plive++;
    }
    h = &ix->hot[ix->pos[slot]];
    h->cold_ref = matcher_slab_alloc(&ix->cold_slab, cold_size_of(rec));
    copy = matcher_slab_at(&ix->cold_slab, h->cold_ref);
    cold_fill(copy, rec);
    h->sig = matcher_layout_sig(ix, copy);
    h->lat = rec->lat;
    h->lon = rec->lon;
    h->available = matcher_hot_day(rec->available_from);
    h->range_km = rec->range_km;
    h->licences = rec->licences;
    h->home_muni = rec->home_muni;
    h->hours = rec->hours;
    h->kinds = rec->kinds;
    h->flags =
        (uint8_t) ((rec->flags & (MATCHER_PF_CONSENT | MATCHER_PF_LOCATION)) |
                   MATCHER_HOT_LIVE);
    for (unsigned i = 0; i < rec->n_langs; i++) {
        const struct matcher_lang *l = &matcher_profile_langs(rec)[i];

        if (matcher_lang_is(l, "da") && l->level <= 7 &&
            l->level > matcher_hot_danish(h))
            h->flags =
                (uint8_t) ((h->flags & ~MATCHER_HOT_DANISH) | l->level << 2);
        if (matcher_lang_is(l, "en") &&
            matcher_english_bucket(l->level) > matcher_hot_english(h))
            h->flags = (uint8_t) ((h->flags & ~MATCHER_HOT_ENGLISH) |
                                  matcher_english_bucket(l->level) << 5);
    }
    h->progression = rec->progression;
    /* the cell becomes a populated one (matcher_hot_pcell finds it) */
    matcher_block_note(ix, ix->pos[slot],
                       pcell_of(ix, (rec->flags & MATCHER_PF_LOCATION)
                                        ? matcher_cell_of(rec->lat, rec->lon)
                                        : MATCHER_CELL_ANY));
    profile_postings(ix, slot, true);
    if (!known)
        matcher_idmap_put(&ix->pmap, slot);
    return slot;
}

uint32_t
matcher_index_remove_profile(matcher_index_t *ix, const char *id, size_t len)
{
    uint32_t slot = matcher_idmap_find(&ix->pmap, id, len), pos;

    if (slot == MATCHER_IDMAP_NONE)
        return MATCHER_NONE;
    cold_maybe_pack(ix);
    ix->citizens_gen++;
    pos = ix->pos[slot];
    profile_postings(ix, slot, false);
    matcher_idmap_del(&ix->pmap, id, len);
    cold_free(ix, slot);
    memset(&ix->hot[pos], 0, sizeof(ix->hot[pos]));
    ix->slot_at[pos] = MATCHER_NONE;
    if (ix->npfree == ix->pfreecap) {
        ix->pfreecap = ix->pfreecap ? ix->pfreecap * 2 : 64;
        ix->pfree = jm_xrealloc(ix->pfree, ix->pfreecap * sizeof(uint32_t));
        ix->posfree = jm_xrealloc(ix->posfree, ix->pfreecap * sizeof(uint32_t));
    }
    ix->pfree[ix->npfree++] = slot;
    ix->posfree[ix->nposfree++] = pos;
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

/* As profile_postings, for an order in the order-side lists that "orders
 * for a citizen" and live updates read. */
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
            vec_push(&group_lists(&ix->occs, r->occupation)->orders, slot);
        else
            vec_remove(&group_lists(&ix->occs, r->occupation)->orders, slot);
    }
    if (r->isco > 0 && r->isco < MATCHER_ISCO_CODES) {
        if (add)
            vec_push(&group_lists(&ix->iscos, r->isco)->orders, slot);
        else
            vec_remove(&group_lists(&ix->iscos, r->isco)->orders, slot);
    }
}

/* An order's block: its record, padded to the alignment of the sorted
 * skills that follow it. */
static size_t
order_rec_room(size_t size)
{
    size_t align = _Alignof(struct matcher_oterm);

    return (size + align - 1) / align * align;
}

static size_t
order_block_size(size_t size, size_t nskills)
{
    return order_rec_room(size) + nskills * sizeof(struct matcher_oterm);
}

static bool
order_terms_known(const matcher_index_t *ix,
                  const struct matcher_order_rec *rec)
{
    size_t n = (size_t) rec->n_ess + rec->n_opt;
    size_t terms = matcher_dict_count(ix->dict);
    bool known =
        rec->occupation == MATCHER_TERM_NONE || rec->occupation < terms;

    for (size_t i = 0; i < n; i++)
        known = known && matcher_order_skills(rec)[i].term < terms;
    return known;
}

/* Makes *o the kernel's form of rec (copied). */
static void
order_fill(const matcher_index_t *ix, matcher_order *o,
           const struct matcher_order_rec *rec, size_t size)
{
    size_t n = (size_t) rec->n_ess + rec->n_opt;

    /* The record and its sorted skills in one block. */
    o->rec = jm_xmalloc(order_block_size(size, n));
    memcpy(o->rec, rec, size);
    o->sorted = (struct matcher_oterm *) (void *) ((char *) o->rec +
                                                   order_rec_room(size));
    for (size_t i = 0; i < n; i++) {
        o->sorted[i].term = matcher_order_skills(rec)[i].term;
        o->sorted[i].min_level = matcher_order_skills(rec)[i].min_level;
        o->sorted[i].index = (uint8_t) i;
    }
    qsort(o->sorted, n, sizeof(*o->sorted), oterm_cmp);
    memset(o->skill_bits, 0, sizeof(o->skill_bits));
    for (size_t i = 0; i < n; i++)
        o->skill_bits[o->sorted[i].term >> 6 & 3] |=
            1ULL << (o->sorted[i].term & 63);
    o->share =
        rec->owner_muni < 1000 ? ix->sharing.allow[rec->owner_muni] : NULL;
    o->danish = 0;
    o->english = 0;
    o->other_languages = false;
    for (unsigned i = 0; i < rec->n_langs; i++) {
        const struct matcher_lang *l = &matcher_order_langs(rec)[i];

        if (matcher_lang_is(l, "da") && l->level <= 7) {
            if (l->level > o->danish)
                o->danish = l->level;
        } else {
            o->other_languages = true;
        }
        if (matcher_lang_is(l, "en") &&
            matcher_english_bucket(l->level) > o->english)
            o->english = (uint8_t) matcher_english_bucket(l->level);
    }
}

uint32_t
matcher_index_put_order(matcher_index_t *ix,
                        const struct matcher_order_rec *rec, size_t size)
{
    const char *id = matcher_order_id(rec);
    uint32_t slot = matcher_idmap_find(&ix->omap, id, rec->id_len);

    if (!order_terms_known(ix, rec)) {
        jm_log(JM_LOG_ERR, "matcher", "order %.*s: unknown term id",
               (int) rec->id_len, id);
        return MATCHER_NONE;
    }
    cover_terms(ix);
    if (slot != MATCHER_IDMAP_NONE) {
        order_postings(ix, slot, false);
        free(ix->orders[slot].rec);
    } else if (ix->nofree > 0) {
        slot = ix->ofree[--ix->nofree];
        ix->olive++;
    } else {
        if (ix->oused == ix->ocap)
            grow_orders(ix, ix->ocap ? ix->ocap * 2 : 256);
        slot = ix->oused++;
        ix->olive++;
    }
    order_fill(ix, &ix->orders[slot], rec, size);
    order_postings(ix, slot, true);
    if (matcher_idmap_find(&ix->omap, id, rec->id_len) == MATCHER_IDMAP_NONE)
        matcher_idmap_put(&ix->omap, slot);
    return slot;
}

bool
matcher_order_make(matcher_index_t *ix, matcher_order *o,
                   const struct matcher_order_rec *rec, size_t size)
{
    if (!order_terms_known(ix, rec))
        return false;
    cover_terms(ix);
    order_fill(ix, o, rec, size);
    return true;
}

void
matcher_order_release(matcher_order *o)
{
    free(o->rec);
    memset(o, 0, sizeof(*o));
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
matcher_index_bulk_begin(matcher_index_t *ix)
{
    ix->bulk = true;
}

void
matcher_index_bulk_end(matcher_index_t *ix)
{
    ix->bulk = false;
    ix->citizens_gen++;
    matcher_layout_cells(ix);     /* before lists are split */
    matcher_layout_positions(ix); /* before lists are split and sorted */
    cold_pack(ix);                /* one block of exactly the records */
    ix->pcell_at = jm_xmalloc((ix->npos ? ix->npos : 1) * sizeof(uint16_t));
    for (uint32_t p = 0; p < ix->npos; p++)
        ix->pcell_at[p] = ix->slot_at[p] == MATCHER_NONE
                              ? 0
                              : (uint16_t) matcher_hot_pcell(ix, &ix->hot[p]);
    for (uint32_t t = 0; t < ix->nterms; t++)
        matcher_plist_finish(&ix->skill_profiles[t], ix);
    for (uint32_t i = 0; i < ix->occs.n; i++)
        matcher_plist_finish(&ix->occs.lists[i].profiles, ix);
    for (uint32_t i = 0; i < ix->iscos.n; i++)
        matcher_plist_finish(&ix->iscos.lists[i].profiles, ix);
    free(ix->pcell_at);
    ix->pcell_at = NULL;
    if (ix->nterms > 0)
        resize_terms(ix, ix->nterms);
    matcher_layout_signatures(ix);
}

void
matcher_index_compact(matcher_index_t *ix)
{
    matcher_layout_cells(ix); /* before the lists are packed */
    for (uint32_t t = 0; t < ix->nterms; t++) {
        matcher_plist_compact(&ix->skill_profiles[t]);
    }
    for (uint32_t i = 0; i < ix->occs.n; i++)
        matcher_plist_compact(&ix->occs.lists[i].profiles);
    for (uint32_t i = 0; i < ix->iscos.n; i++)
        matcher_plist_compact(&ix->iscos.lists[i].profiles);
    ix->citizens_gen++;
    matcher_layout_positions(ix);
    cold_pack(ix);
    /* The doubling's slack of the per-term arrays back (new terms double
     * it again). */
    if (ix->nterms > 0)
        resize_terms(ix, ix->nterms);
    matcher_layout_signatures(ix);
}

static size_t
list_bytes(const struct matcher_plist *pl)
{
    size_t n = 0;

    if (pl->cap)
        n += jm_heap_bytes(pl->cap * sizeof(uint32_t));
    if (pl->segs != NULL)
        n += jm_heap_bytes(pl->nsegs * sizeof(struct matcher_seg));
    return n;
}

/* Heap of g's lists: headers, map, postings (citizens), orders' items
 * (added to *orders). */
static size_t
groups_bytes(const matcher_groups *g, size_t *orders)
{
    size_t n = g->ncodes * sizeof(uint16_t) + g->cap * sizeof(*g->lists);

    for (uint32_t i = 0; i < g->n; i++) {
        n += list_bytes(&g->lists[i].profiles);
        if (g->lists[i].orders.cap)
            *orders += jm_heap_bytes(g->lists[i].orders.cap * sizeof(uint32_t));
    }
    return n;
}

/* Counts what the heap really holds for citizens and orders (the
 * capacity of every array, malloc's rounding), which is what the
 * "300 bytes per citizen" target is about. */
void
matcher_index_get_stats(const matcher_index_t *ix, matcher_index_stats *out)
{
    size_t p = 0, o = 0;

    memset(out, 0, sizeof(*out));
    out->profiles = ix->plive;
    out->orders = ix->olive;
    out->terms = (uint32_t) matcher_dict_count(ix->dict);
    p += ix->cold_slab.bytes;
    p += ix->pcap * (sizeof(uint32_t) + sizeof(matcher_hot) + sizeof(uint32_t));
    p += ix->pfreecap * 2 * sizeof(uint32_t);
    p += matcher_idmap_bytes(&ix->pmap);
    for (uint32_t t = 0; t < ix->nterms; t++) {
        out->postings += ix->skill_profiles[t].count;
        p += list_bytes(&ix->skill_profiles[t]);
        if (ix->skill_orders[t].cap)
            o += jm_heap_bytes(ix->skill_orders[t].cap * sizeof(uint32_t));
    }
    p += ix->termcap * sizeof(struct matcher_plist);
    o += ix->termcap * sizeof(struct matcher_vec);
    /* the groups' headers are counted with the citizens' */
    p += groups_bytes(&ix->occs, &o) + groups_bytes(&ix->iscos, &o);
    if (ix->seen != NULL)
        p += jm_heap_bytes(((ix->pcap + 63) / 64 + 1) * sizeof(uint64_t));
    if (ix->block_pcell != NULL)
        p += jm_heap_bytes(ix->block_pcell_n * sizeof(uint16_t));
    p += ix->termcap; /* sigbit */
    /* the populated cells' arrays */
    p += ix->pcellcap *
         (3 * sizeof(uint16_t) + sizeof(uint32_t) + sizeof(*ix->pcell_munis));
    for (uint32_t i = 0; i < ix->oused; i++) {
        const struct matcher_order_rec *r = ix->orders[i].rec;

        if (r != NULL)
            o += jm_heap_bytes(order_block_size(matcher_order_size(r),
                                                (size_t) r->n_ess + r->n_opt));
    }
    o += ix->ocap * (sizeof(matcher_order) + sizeof(uint32_t)) +
         matcher_idmap_bytes(&ix->omap);
    out->profile_bytes = p;
    out->order_bytes = o;
    out->total_bytes = p + o + matcher_dict_bytes(ix->dict);
}
