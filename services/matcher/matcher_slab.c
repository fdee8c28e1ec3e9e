/* matcher_slab.c - see matcher_slab.h. */
#include "matcher_slab.h"

#include <stdint.h>
#include <stdlib.h>

#include "jm/mem.h"

/* A new block when the newest is full: at least this, or an eighth of
 * what is live (the index grows by eighths, not by thousands of small
 * blocks). */
#define BLOCK_MIN (64 * 1024)

struct matcher_slab_block {
    struct matcher_slab_block *next;
    size_t cap, used;
    _Alignas(8) unsigned char data[];
};

static size_t
rounded(size_t size)
{
    return (size + 1) & ~(size_t) 1;
}

static struct matcher_slab_block *
new_block(matcher_slab *a, size_t cap)
{
    struct matcher_slab_block *b = jm_xmalloc(sizeof(*b) + cap);

    b->cap = cap;
    b->used = 0;
    b->next = a->blocks;
    a->blocks = b;
    /* malloc's header and rounding, as matcher_index counts the heap */
    a->bytes += (sizeof(*b) + cap + 8 + 15) & ~(size_t) 15;
    return b;
}

void *
matcher_slab_alloc(matcher_slab *a, size_t size)
{
    struct matcher_slab_block *b = a->blocks;
    void *p;

    size = rounded(size);
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = a->live / 8 > BLOCK_MIN ? a->live / 8 : BLOCK_MIN;

        b = new_block(a, cap > size ? cap : size);
    }
    p = b->data + b->used;
    b->used += size;
    a->live += size;
    return p;
}

void
matcher_slab_free(matcher_slab *a, size_t size)
{
    size = rounded(size);
    a->live -= size;
    a->holes += size;
}

bool
matcher_slab_should_pack(const matcher_slab *a)
{
    return a->holes > 4096 && a->holes > a->live / 4;
}

void
matcher_slab_pack_begin(matcher_slab *a, matcher_slab *old)
{
    size_t live = a->live;

    *old = *a;
    a->blocks = NULL;
    a->bytes = a->live = a->holes = 0;
    if (live > 0)
        new_block(a, live);
}

void
matcher_slab_release(matcher_slab *a)
{
    while (a->blocks != NULL) {
        struct matcher_slab_block *b = a->blocks;

        a->blocks = b->next;
        free(b);
    }
    a->bytes = a->live = a->holes = 0;
}
