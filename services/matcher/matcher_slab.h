/* matcher_slab.h - the citizens' cold records (matcher_cold), packed
 * into large blocks.
 *
 * 200,000 citizens with a record of about 100 bytes each: one malloc per
 * record would add malloc's 8-byte header and up to 15 bytes of rounding
 * to each (about 15 bytes per citizen, 5 % of the index). The slab puts
 * records one after the other into blocks instead. A freed record leaves
 * a hole, counted; when holes pass a quarter of what is live, the owner
 * packs the live records into one new block (matcher_index.c), which it
 * also does at the end of a bulk load, so that a loaded index holds one
 * block of exactly its records. Records are 2-byte aligned. */
#ifndef MATCHER_SLAB_H
#define MATCHER_SLAB_H

#include <stdbool.h>
#include <stddef.h>

struct matcher_slab_block;

typedef struct matcher_slab {
    struct matcher_slab_block *blocks; /* newest first: it has the room */
    size_t bytes;                      /* heap held by all blocks */
    size_t live;                       /* bytes of live records */
    size_t holes;                      /* bytes of freed records */
} matcher_slab;

/* Room for a record of size bytes (never NULL: aborts when memory is
 * exhausted, as jm_xmalloc). */
void *matcher_slab_alloc(matcher_slab *a, size_t size);

/* The record of size bytes at its place is no longer used. */
void matcher_slab_free(matcher_slab *a, size_t size);

/* Are the holes worth packing the records again? */
bool matcher_slab_should_pack(const matcher_slab *a);

/* Moves every block of a into old (released by the caller once it has
 * copied the live records) and gives a one block with room for exactly
 * the records that were live. */
void matcher_slab_pack_begin(matcher_slab *a, matcher_slab *old);

void matcher_slab_release(matcher_slab *a);

#endif
