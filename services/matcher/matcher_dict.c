/* matcher_dict.c - URI <-> 16-bit term id (see matcher_dict.h). */
#include "matcher_dict.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "matcher_idmap.h"

/* The URIs' text sits in blocks that never move (an URI's address lives
 * as long as the dictionary), one after the other: one malloc per URI
 * would add a header and rounding to each 60-byte URI. */
#define BLOCK_SIZE (64 * 1024)

struct block {
    struct block *next;
    size_t room, used;
    char text[];
};

struct matcher_dict {
    char **uris;
    uint16_t *lens;
    size_t count, cap;
    struct block *blocks; /* newest first */
    size_t bytes;         /* heap of the blocks */
    matcher_idmap map;
};

/* A NUL-terminated copy of uri[0..len) in the newest block (or a new
 * one; one of its own for a URI longer than a block). */
static char *
copy_text(matcher_dict_t *dict, const char *uri, size_t len)
{
    struct block *b = dict->blocks;
    size_t need = len + 1;
    char *to;

    if (b == NULL || b->room - b->used < need) {
        size_t room = need > BLOCK_SIZE ? need : BLOCK_SIZE;

        b = jm_xmalloc(offsetof(struct block, text) + room);
        b->room = room;
        b->used = 0;
        b->next = dict->blocks;
        dict->blocks = b;
        dict->bytes += jm_heap_bytes(offsetof(struct block, text) + room);
    }
    to = b->text + b->used;
    b->used += need;
    memcpy(to, uri, len);
    to[len] = '\0';
    return to;
}

static const char *
dict_key(void *ctx, uint32_t value, size_t *len)
{
    matcher_dict_t *dict = ctx;

    *len = dict->lens[value];
    return dict->uris[value];
}

void
matcher_dict_new(matcher_dict_t **dict_p)
{
    matcher_dict_t *dict = jm_xcalloc(1, sizeof(*dict));

    matcher_idmap_init(&dict->map, dict_key, dict);
    *dict_p = dict;
}

void
matcher_dict_destroy(matcher_dict_t **dict_p)
{
    matcher_dict_t *dict = *dict_p;

    if (dict == NULL)
        return;
    while (dict->blocks != NULL) {
        struct block *b = dict->blocks;

        dict->blocks = b->next;
        free(b);
    }
    free(dict->uris);
    free(dict->lens);
    matcher_idmap_release(&dict->map);
    free(dict);
    *dict_p = NULL;
}

int
matcher_dict_find(const matcher_dict_t *dict, const char *uri, size_t len)
{
    uint32_t v = matcher_idmap_find(&dict->map, uri, len);

    return v == MATCHER_IDMAP_NONE ? -ENOENT : (int) v;
}

const char *
matcher_dict_uri(const matcher_dict_t *dict, uint16_t id)
{
    return id < dict->count ? dict->uris[id] : "";
}

size_t
matcher_dict_count(const matcher_dict_t *dict)
{
    return dict->count;
}

int
matcher_dict_add(matcher_dict_t *dict, uint16_t id, const char *uri, size_t len)
{
    if (id != dict->count)
        return -EINVAL;
    if (dict->count >= MATCHER_TERMS_MAX)
        return -ENOSPC;
    if (len > UINT16_MAX)
        return -EINVAL;
    if (matcher_dict_find(dict, uri, len) >= 0)
        return -EEXIST;
    if (dict->count == dict->cap) {
        /* by a quarter: the dictionary is long-lived and grows slowly */
        dict->cap = dict->cap ? dict->cap + dict->cap / 4 : 1024;
        dict->uris = jm_xrealloc(dict->uris, dict->cap * sizeof(char *));
        dict->lens = jm_xrealloc(dict->lens, dict->cap * sizeof(uint16_t));
    }
    dict->uris[id] = copy_text(dict, uri, len);
    dict->lens[id] = (uint16_t) len;
    dict->count++;
    matcher_idmap_put(&dict->map, id);
    return 0;
}

void
matcher_dict_truncate(matcher_dict_t *dict, size_t count)
{
    while (dict->count > count) {
        size_t id = dict->count - 1;

        matcher_idmap_del(&dict->map, dict->uris[id], dict->lens[id]);
        dict->count = id;
    }
}

size_t
matcher_dict_bytes(const matcher_dict_t *dict)
{
    return dict->bytes + jm_heap_bytes(dict->cap * sizeof(char *)) +
           jm_heap_bytes(dict->cap * sizeof(uint16_t)) +
           matcher_idmap_bytes(&dict->map);
}
