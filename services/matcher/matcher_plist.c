/* matcher_plist.c - citizen posting lists (struct matcher_plist in
 * matcher_index.h): append and remove, splitting by cell, packing.
 *
 * An unsplit list is one array, unsorted (it is always read whole), that
 * doubles when full. A split list's segments share one items array. A
 * segment that fills up moves to the end of the array with twice the
 * room, leaving a hole; when holes and spare room make up half the array
 * it is rebuilt tight (with a little room per segment). A split list's
 * segments are sorted by posting value, largest
 * first: by key (range bucket, longest first, then progression bucket,
 * then the flags), then position (matcher_posting). Each segment's descriptor
 * keeps the range bucket of its first posting, for the search to decide without
 * reading the items. */
#include "matcher_plist.h"

#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"

static int
desc_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return (x < y) - (x > y);
}

void
matcher_plist_sort(uint32_t *items, uint32_t n)
{
    qsort(items, n, sizeof(uint32_t), desc_u32);
}

/* Keeps a split list's segment's rb (matcher_seg) after a change. */
static void
head(const struct matcher_plist *pl, struct matcher_seg *s)
{
    s->rb = s->len ? MATCHER_POSTING_RBUCKET(pl->items[s->start]) : 0;
}

/* Rebuilds items tight: each segment gets len + slack(len) room. */
static void
pack(struct matcher_plist *pl, bool slack)
{
    uint32_t total = 0, at = 0;
    uint32_t *items;

    for (uint32_t i = 0; i < pl->nsegs; i++) {
        uint32_t len = pl->segs[i].len;

        total += len + (slack && len ? len / 4 + 2 : 0);
    }
    items = total ? jm_xmalloc(total * sizeof(uint32_t)) : NULL;
    for (uint32_t i = 0; i < pl->nsegs; i++) {
        struct matcher_seg *s = &pl->segs[i];
        uint32_t room = s->len + (slack && s->len ? s->len / 4 + 2 : 0);

        if (s->len > 0)
            memcpy(items + at, pl->items + s->start, s->len * sizeof(uint32_t));
        s->start = at;
        s->cap = room;
        at += room;
    }
    free(pl->items);
    pl->items = items;
    pl->end = pl->cap = total;
}

/* Makes room for one more item in segment s (which may move). Returns
 * the segment, re-found after a pack. */
static struct matcher_seg *
make_room(struct matcher_plist *pl, uint32_t seg)
{
    struct matcher_seg *s = &pl->segs[seg];
    uint32_t cap;

    if (s->len < s->cap)
        return s;
    cap = s->cap < 2 ? 4 : s->cap * 2;
    if (pl->end + cap > pl->cap) {
        if ((pl->end - pl->count) * 2 > pl->end) {
            pack(pl, true);
            s = &pl->segs[seg];
            if (s->len < s->cap)
                return s;
        }
        if (pl->end + cap > pl->cap) {
            uint32_t want = pl->end + cap;

            pl->cap = want > pl->cap * 2 ? want : pl->cap * 2;
            pl->items = jm_xrealloc(pl->items, pl->cap * sizeof(uint32_t));
        }
    }
    if (s->len > 0)
        memcpy(pl->items + pl->end, pl->items + s->start,
               s->len * sizeof(uint32_t));
    s->start = pl->end;
    s->cap = cap;
    pl->end += cap;
    return s;
}

/* Room for one more posting in an unsplit list. */
static void
grow_unsplit(struct matcher_plist *pl)
{
    if (pl->count < pl->cap)
        return;
    pl->cap = pl->cap < 2 ? 4 : pl->cap * 2;
    pl->items = jm_xrealloc(pl->items, pl->cap * sizeof(uint32_t));
}

/* A segment with no items and no room, at the end of the list's items
 * (where the first item it gets will go). */
static struct matcher_seg
empty_seg(const struct matcher_plist *pl)
{
    return (struct matcher_seg){.start = pl->end, .len = 0, .cap = 0, .rb = 0};
}

/* Segments for cells up to npcells - 1 (new ones empty). */
static void
cover_cells(struct matcher_plist *pl, uint32_t npcells)
{
    if (pl->nsegs >= npcells)
        return;
    pl->segs = jm_xrealloc(pl->segs, npcells * sizeof(*pl->segs));
    for (uint32_t i = pl->nsegs; i < npcells; i++)
        pl->segs[i] = empty_seg(pl);
    pl->nsegs = npcells;
}

/* The populated cell of a posting's citizen (found once per position at
 * the end of a load: matcher_index_bulk_end). */
static unsigned
pcell_of(const matcher_index_t *ix, uint32_t posting)
{
    uint32_t pos = posting & MATCHER_SLOT_MASK;

    return ix->pcell_at != NULL ? ix->pcell_at[pos]
                                : matcher_hot_pcell(ix, &ix->hot[pos]);
}

void
matcher_plist_split(struct matcher_plist *pl, const matcher_index_t *ix)
{
    uint32_t npcells = ix->npcells;
    struct matcher_seg *segs = jm_xcalloc(npcells, sizeof(*segs));
    uint32_t *items =
        pl->count ? jm_xmalloc(pl->count * sizeof(uint32_t)) : NULL;
    const uint32_t *old = pl->items;
    uint32_t at = 0;

    JM_ASSERT(pl->segs == NULL && npcells > 0);
    for (uint32_t i = 0; i < pl->count; i++)
        segs[pcell_of(ix, old[i])].len++;
    for (uint32_t p = 0; p < npcells; p++) {
        segs[p].start = at;
        at += segs[p].len;
        segs[p].cap = segs[p].len;
        segs[p].len = 0;
    }
    for (uint32_t i = 0; i < pl->count; i++) {
        struct matcher_seg *s = &segs[pcell_of(ix, old[i])];

        items[s->start + s->len++] = old[i];
    }
    for (uint32_t p = 0; p < npcells; p++)
        qsort(items + segs[p].start, segs[p].len, sizeof(uint32_t), desc_u32);
    free(pl->items);
    pl->segs = segs;
    pl->items = items;
    for (uint32_t p = 0; p < npcells; p++)
        head(pl, &segs[p]);
    pl->nsegs = npcells;
    pl->end = pl->cap = pl->count;
}

void
matcher_plist_add(struct matcher_plist *pl, const matcher_index_t *ix,
                  uint32_t pcell, uint32_t posting)
{
    struct matcher_seg *s;
    uint32_t lo, hi, *items;

    if (pl->segs == NULL) {
        grow_unsplit(pl);
        pl->items[pl->count] = posting;
        if (++pl->count >= MATCHER_SPLIT_AT)
            matcher_plist_split(pl, ix);
        return;
    }
    cover_cells(pl, pcell + 1);
    s = make_room(pl, pcell);
    items = pl->items + s->start;
    /* Keep the segment sorted, largest first. */
    lo = 0;
    hi = s->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (items[mid] > posting)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(items + lo + 1, items + lo, (s->len - lo) * sizeof(uint32_t));
    items[lo] = posting;
    s->len++;
    pl->count++;
    head(pl, s);
}

void
matcher_plist_append(struct matcher_plist *pl, uint32_t posting)
{
    JM_ASSERT(pl->segs == NULL);
    grow_unsplit(pl);
    pl->items[pl->count++] = posting;
}

void
matcher_plist_finish(struct matcher_plist *pl, const matcher_index_t *ix)
{
    if (pl->segs == NULL && pl->count >= MATCHER_SPLIT_AT)
        matcher_plist_split(pl, ix);
    matcher_plist_compact(pl);
}

void
matcher_plist_remove(struct matcher_plist *pl, uint32_t pcell, uint32_t posting)
{
    struct matcher_seg *s;
    uint32_t *items, lo, hi;

    if (pl->segs == NULL) {
        for (uint32_t i = 0; i < pl->count; i++) {
            if (pl->items[i] == posting) {
                pl->items[i] = pl->items[--pl->count];
                return;
            }
        }
        return;
    }
    if (pcell >= pl->nsegs)
        return;
    s = &pl->segs[pcell];
    items = pl->items + s->start;
    lo = 0;
    hi = s->len;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;

        if (items[mid] > posting)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->len && items[lo] == posting) {
        memmove(items + lo, items + lo + 1,
                (s->len - lo - 1) * sizeof(uint32_t));
        s->len--;
        pl->count--;
        head(pl, s);
    }
}

void
matcher_plist_renumber_cells(struct matcher_plist *pl, const uint16_t *renum,
                             uint32_t npcells)
{
    struct matcher_seg *segs;

    if (pl->segs == NULL)
        return;
    segs = jm_xmalloc(npcells * sizeof(*segs));
    for (uint32_t q = 0; q < npcells; q++)
        segs[q] = empty_seg(pl);
    for (uint32_t p = 0; p < pl->nsegs; p++)
        segs[renum[p]] = pl->segs[p];
    free(pl->segs);
    pl->segs = segs;
    pl->nsegs = npcells;
}

void
matcher_plist_compact(struct matcher_plist *pl)
{
    if (pl->count == 0) {
        matcher_plist_release(pl);
        return;
    }
    if (pl->segs != NULL) {
        pack(pl, false);
    } else if (pl->cap > pl->count) {
        pl->items = jm_xrealloc(pl->items, pl->count * sizeof(uint32_t));
        pl->cap = pl->count;
    }
}

void
matcher_plist_release(struct matcher_plist *pl)
{
    free(pl->segs);
    free(pl->items);
    memset(pl, 0, sizeof(*pl));
}

size_t
matcher_plist_bytes(const struct matcher_plist *pl)
{
    return pl->cap * sizeof(uint32_t) +
           (pl->segs != NULL ? pl->nsegs * sizeof(struct matcher_seg) : 0);
}
