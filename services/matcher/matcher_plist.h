/* matcher_plist.h - citizen posting lists of the index (the structure is
 * in matcher_index.h; these are its operations). */
#ifndef MATCHER_PLIST_H
#define MATCHER_PLIST_H

#include <stddef.h>
#include <stdint.h>

#include "matcher_index.h"

/* Adds posting (matcher_posting) of a citizen living in populated cell
 * pcell. The list splits itself when it reaches MATCHER_SPLIT_AT (by the
 * cells of ix's citizens). */
void matcher_plist_add(struct matcher_plist *pl, const matcher_index_t *ix,
                       uint32_t pcell, uint32_t posting);

/* Appends posting to an unsplit list, never splitting it (bulk loads:
 * matcher_plist_finish splits it afterwards if it is long). */
void matcher_plist_append(struct matcher_plist *pl, uint32_t posting);

/* After appends: splits the list if it is long, and packs it tight. */
void matcher_plist_finish(struct matcher_plist *pl, const matcher_index_t *ix);

/* Removes posting (the value it was added with). */
void matcher_plist_remove(struct matcher_plist *pl, uint32_t pcell,
                          uint32_t posting);

/* Splits an unsplit list by cell. */
void matcher_plist_split(struct matcher_plist *pl, const matcher_index_t *ix);

/* Sorts n postings as a split list's segment is kept: by value, largest
 * first. */
void matcher_plist_sort(uint32_t *items, uint32_t n);

/* The populated cells are numbered anew (old cell p is now renum[p], for
 * p < npcells): a split list's segment descriptors move with them. The
 * items stay where they are until the list is next packed. */
void matcher_plist_renumber_cells(struct matcher_plist *pl,
                                  const uint16_t *renum, uint32_t npcells);

/* Packs the items tight, without spare room (after a bulk load). */
void matcher_plist_compact(struct matcher_plist *pl);

void matcher_plist_release(struct matcher_plist *pl);

/* Heap bytes of the arrays (items allocated, segments). */
size_t matcher_plist_bytes(const struct matcher_plist *pl);

#endif
