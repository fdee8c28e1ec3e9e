/* matcher_dict.c - URI <-> 16-bit term id (see matcher_dict.h). */
#include "matcher_dict.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"
#include "matcher_idmap.h"

struct matcher_dict {
    char **uris;
    uint16_t *lens;
    size_t count, cap;
    size_t bytes;
    matcher_idmap map;
};

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
    for (size_t i = 0; i < dict->count; i++)
        free(dict->uris[i]);
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
        dict->cap = dict->cap ? dict->cap * 2 : 1024;
        dict->uris = jm_xrealloc(dict->uris, dict->cap * sizeof(char *));
        dict->lens = jm_xrealloc(dict->lens, dict->cap * sizeof(uint16_t));
    }
    dict->uris[id] = jm_xstrndup(uri, len);
    dict->lens[id] = (uint16_t) len;
    dict->bytes += len + 1;
    dict->count++;
    matcher_idmap_put(&dict->map, id);
    return 0;
}

size_t
matcher_dict_bytes(const matcher_dict_t *dict)
{
    return dict->bytes + dict->cap * (sizeof(char *) + sizeof(uint16_t)) +
           matcher_idmap_bytes(&dict->map);
}
