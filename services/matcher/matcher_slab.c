/* matcher_slab.c - see matcher_slab.h. */
#include "matcher_slab.h"

#include <stdlib.h>

#include "jm/log.h"
#include "jm/mem.h"

/* The region grows by at least this, or an eighth of what is live (the
 * index grows by eighths, not by thousands of small steps). */
#define GROW_MIN (64 * 1024)
#define REFS_MAX ((size_t) UINT32_MAX * 2)

static size_t
rounded(size_t size)
{
    return (size + 1) & ~(size_t) 1;
}

static void
resize(matcher_slab *a, size_t cap)
{
    if (cap > REFS_MAX) {
        jm_log(JM_LOG_ERR, "matcher",
               "more than %zu bytes of citizens' records", REFS_MAX);
        abort();
    }
    a->base = jm_xrealloc(a->base, cap);
    a->cap = cap;
    a->bytes = jm_heap_bytes(cap);
}

uint32_t
matcher_slab_alloc(matcher_slab *a, size_t size)
{
    size_t at = a->used;

    size = rounded(size);
    if (a->cap - a->used < size) {
        size_t grow = a->live / 8 > GROW_MIN ? a->live / 8 : GROW_MIN;

        resize(a, a->used + (grow > size ? grow : size));
    }
    a->used += size;
    a->live += size;
    return (uint32_t) (at / 2);
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
    a->base = NULL;
    a->cap = a->used = a->bytes = a->live = a->holes = 0;
    if (live > 0)
        resize(a, live);
}

void
matcher_slab_release(matcher_slab *a)
{
    free(a->base);
    a->base = NULL;
    a->cap = a->used = a->bytes = a->live = a->holes = 0;
}
