/* matcher_slab.h - the citizens' cold records (matcher_cold), packed
 * one after the other in one region of memory.
 *
 * 200,000 citizens with a record of about 100 bytes each: one malloc per
 * record would add malloc's 8-byte header and up to 15 bytes of rounding
 * to each (about 15 bytes per citizen, 5 % of the index), and a pointer
 * per citizen to find it (8 bytes). The slab puts records one after the
 * other into one region instead, and names each by a 32-bit reference:
 * its offset in 2-byte units (records are 2-byte aligned), so up to 8 GiB
 * of records. The region grows by realloc (by an eighth of what is live,
 * at least 64 KiB): a record's address changes when it grows, its
 * reference never; so nobody keeps an address across an allocation.
 *
 * A freed record leaves a hole, counted; when holes pass a quarter of
 * what is live, the owner packs the live records into a new region
 * (matcher_index.c), which it also does at the end of a bulk load, so
 * that a loaded index holds exactly its records. */
#ifndef MATCHER_SLAB_H
#define MATCHER_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct matcher_slab {
    unsigned char *base; /* the region */
    size_t cap, used;    /* its size, and the bytes handed out */
    size_t bytes;        /* heap held (with malloc's header and rounding) */
    size_t live;         /* bytes of live records */
    size_t holes;        /* bytes of freed records */
} matcher_slab;

/* A reference to room for a record of size bytes (aborts when memory or
 * the 8 GiB of references are exhausted, as jm_xmalloc does). Addresses
 * of records given before may change. */
uint32_t matcher_slab_alloc(matcher_slab *a, size_t size);

/* The address of a record (valid until the next allocation). */
static inline void *
matcher_slab_at(const matcher_slab *a, uint32_t ref)
{
    return a->base + (size_t) ref * 2;
}

/* The record of size bytes at its place is no longer used. */
void matcher_slab_free(matcher_slab *a, size_t size);

/* Are the holes worth packing the records again? */
bool matcher_slab_should_pack(const matcher_slab *a);

/* Moves the region of a into old (released by the caller once it has
 * copied the live records) and gives a a region with room for exactly
 * the records that were live. */
void matcher_slab_pack_begin(matcher_slab *a, matcher_slab *old);

void matcher_slab_release(matcher_slab *a);

#endif
