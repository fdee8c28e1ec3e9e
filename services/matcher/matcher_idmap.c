/* matcher_idmap.c - string key -> uint32 value (see matcher_idmap.h).
 *
 * Linear probing over a power-of-two table, at most 80% full. Deletion leaves a
 * tombstone so that probe chains stay intact; the table is rebuilt when live
 * entries plus tombstones pass half of it, which also clears the tombstones. */
#include "matcher_idmap.h"

#include <stdint.h>

#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"

#define TOMB     (MATCHER_IDMAP_NONE - 1)
#define VALUE(s) ((s) &0xffffffu)
#define PRINT(h) ((uint32_t) ((h) >> 56) << 24)
#define LIVE(s)  ((s) != MATCHER_IDMAP_NONE && (s) != TOMB)

uint64_t
matcher_idmap_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) key[i];
        h *= 1099511628211ULL;
    }
    /* FNV's low bits mix poorly for short keys: fold the high half in. */
    return h ^ (h >> 29);
}

void
matcher_idmap_init(matcher_idmap *map, matcher_idmap_key_fn key, void *ctx)
{
    memset(map, 0, sizeof(*map));
    map->key = key;
    map->ctx = ctx;
}

void
matcher_idmap_release(matcher_idmap *map)
{
    free(map->slots);
    map->slots = NULL;
    map->cap = map->count = map->used = 0;
}

static int
key_equal(const matcher_idmap *map, uint32_t value, const char *key, size_t len)
{
    size_t klen;
    const char *k = map->key(map->ctx, value, &klen);

    return klen == len && memcmp(k, key, len) == 0;
}

/* The table position holding key, or SIZE_MAX: the probe find and del
 * share. */
static size_t
probe(const matcher_idmap *map, const char *key, size_t len)
{
    size_t mask, i;
    uint64_t h;
    uint32_t print;

    if (map->cap == 0)
        return SIZE_MAX;
    mask = map->cap - 1;
    h = matcher_idmap_hash(key, len);
    print = PRINT(h);
    i = (size_t) h & mask;
    for (;;) {
        uint32_t v = map->slots[i];

        if (v == MATCHER_IDMAP_NONE)
            return SIZE_MAX;
        if (LIVE(v) && (v & 0xff000000u) == print &&
            key_equal(map, VALUE(v), key, len))
            return i;
        i = (i + 1) & mask;
    }
}

uint32_t
matcher_idmap_find(const matcher_idmap *map, const char *key, size_t len)
{
    size_t i = probe(map, key, len);

    return i == SIZE_MAX ? MATCHER_IDMAP_NONE : VALUE(map->slots[i]);
}

static void
insert_raw(matcher_idmap *map, uint32_t value)
{
    size_t len, mask = map->cap - 1;
    const char *key = map->key(map->ctx, value, &len);
    uint64_t h = matcher_idmap_hash(key, len);
    size_t i = (size_t) h & mask;

    while (LIVE(map->slots[i]))
        i = (i + 1) & mask;
    if (map->slots[i] == MATCHER_IDMAP_NONE)
        map->used++;
    map->slots[i] = PRINT(h) | value;
    map->count++;
}

static void
rebuild(matcher_idmap *map, size_t cap)
{
    uint32_t *old = map->slots;
    size_t old_cap = map->cap;

    map->slots = jm_xmalloc(cap * sizeof(uint32_t));
    memset(map->slots, 0xff, cap * sizeof(uint32_t));
    map->cap = cap;
    map->count = map->used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (LIVE(old[i]))
            insert_raw(map, VALUE(old[i]));
    }
    free(old);
}

void
matcher_idmap_reserve(matcher_idmap *map, size_t n)
{
    size_t cap = map->cap ? map->cap : 16;

    /* Up to the 80% that put allows: a loaded map is not much used for
     * inserting afterwards. */
    while (n * 5 > cap * 4)
        cap *= 2;
    if (cap > map->cap)
        rebuild(map, cap);
}

void
matcher_idmap_put(matcher_idmap *map, uint32_t value)
{
    JM_ASSERT(value <= MATCHER_IDMAP_VALUE_MAX);
    /* At most 80% of the slots used (live or tombstone): linear probing
     * stays short, and 200,000 ids fit in 2^18 slots (1 MiB). */
    if ((map->used + 1) * 5 > map->cap * 4) {
        size_t cap = map->cap ? map->cap : 16;

        /* Grow if live entries fill 60%; otherwise the rebuild just sweeps
         * tombstones away. */
        while ((map->count + 1) * 5 > cap * 3)
            cap *= 2;
        rebuild(map, cap);
    }
    insert_raw(map, value);
}

uint32_t
matcher_idmap_del(matcher_idmap *map, const char *key, size_t len)
{
    size_t i = probe(map, key, len);
    uint32_t value;

    if (i == SIZE_MAX)
        return MATCHER_IDMAP_NONE;
    value = VALUE(map->slots[i]);
    map->slots[i] = TOMB;
    map->count--;
    return value;
}

size_t
matcher_idmap_bytes(const matcher_idmap *map)
{
    return map->cap * sizeof(uint32_t);
}
