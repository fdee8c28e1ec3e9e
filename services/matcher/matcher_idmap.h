/* matcher_idmap.h - string key -> uint32 value, open addressing.
 *
 * The matcher keeps hundreds of thousands of ids (profiles, orders, ESCO
 * URIs). Storing a copy of each key in the map would double their memory,
 * so the map stores only the 32-bit values and asks its owner for a
 * value's key when it must compare or rehash (key_fn). 4 bytes per slot,
 * 60-80% of the slots used: 5-7 bytes per entry. */
#ifndef MATCHER_IDMAP_H
#define MATCHER_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define MATCHER_IDMAP_NONE UINT32_MAX
/* Values are at most 24 bits (the rest of a slot holds a hash print). */
#define MATCHER_IDMAP_VALUE_MAX 0xfffffdu

/* The key of value; *len gets its length. Borrowed. */
typedef const char *(*matcher_idmap_key_fn)(void *ctx, uint32_t value,
                                            size_t *len);

typedef struct matcher_idmap {
    uint32_t *slots;
    size_t cap;   /* a power of two, or 0 */
    size_t count; /* live entries */
    size_t used;  /* live entries + tombstones */
    matcher_idmap_key_fn key;
    void *ctx;
} matcher_idmap;

void matcher_idmap_init(matcher_idmap *map, matcher_idmap_key_fn key,
                        void *ctx);
void matcher_idmap_release(matcher_idmap *map);

/* Makes room for n entries in all, so that loading them never rehashes. */
void matcher_idmap_reserve(matcher_idmap *map, size_t n);

/* The value stored under key, or MATCHER_IDMAP_NONE. */
uint32_t matcher_idmap_find(const matcher_idmap *map, const char *key,
                            size_t len);

/* Adds value (at most MATCHER_IDMAP_VALUE_MAX) under its own key
 * (key_fn(value)); the key must not be in the map yet (the caller has
 * looked it up). */
void matcher_idmap_put(matcher_idmap *map, uint32_t value);

/* Removes the entry of key; returns its value or MATCHER_IDMAP_NONE. */
uint32_t matcher_idmap_del(matcher_idmap *map, const char *key, size_t len);

/* Bytes of heap the map holds. */
size_t matcher_idmap_bytes(const matcher_idmap *map);

/* The FNV-1a hash the map uses (exposed for tests). */
uint64_t matcher_idmap_hash(const char *key, size_t len);

#endif
