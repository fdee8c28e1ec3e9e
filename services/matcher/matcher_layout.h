/* matcher_layout.h - the index's internal layout for the search
 * (matcher_index.c calls these; nothing else should).
 *
 * Positions: a citizen's position orders the dense arrays the search reads
 * (hot records, signatures, seen bits) by populated cell and, within one,
 * by posting key, so that reading a cell's postings reads a compact
 * stretch of memory. Signatures: the MATCHER_SIG_BITS skills with the
 * longest lists get a bit each, and a citizen's signature has the bits of
 * the skills they hold. Both only change how fast the search is, never
 * what it answers, so they are redone when the index is packed (after a
 * bulk load, matcher_index_compact), not as citizens change. */
#ifndef MATCHER_LAYOUT_H
#define MATCHER_LAYOUT_H

#include <stdint.h>

#include "matcher_index.h"

/* The signature of record p with the index's current bits. */
uint64_t matcher_layout_sig(const matcher_index_t *ix,
                            const struct matcher_cold *p);

/* An array of cap hot records, 64-byte aligned (two records to a cache
 * line, never one across two), holding the first n of old (freed). */
matcher_hot *matcher_hot_realloc(matcher_hot *old, uint32_t n, uint32_t cap);

/* Numbers the populated cells in the grid's order, row by row (they were
 * numbered in the order citizens first came to them). A search reads
 * the cells around a workplace, and each list's segment descriptors and
 * items are in the order of these numbers: cells next to each other on the
 * map then have theirs next to each other in memory. Call before the
 * lists are packed or split, which lay out the items in that order. */
void matcher_layout_cells(matcher_index_t *ix);

/* Gives every citizen a new position (cell, then key), closes the holes
 * of removals and rewrites every posting (split segments sorted again). */
void matcher_layout_positions(matcher_index_t *ix);

/* Gives the signature bits to the commonest skills and recomputes every
 * signature; recomputes each cell's longest range exactly. */
void matcher_layout_signatures(matcher_index_t *ix);

#endif
