/* matcher_dict.h - the matcher's vocabulary: ESCO URIs (skills and
 * occupations) <-> 16-bit term ids.
 *
 * Profiles hold 10-30 skills each; storing each as a 16-bit id instead of a
 * 60-byte URI is what keeps the index near 300 bytes per citizen. The ids
 * are the matcher's own: dense, assigned in order of first use, and made
 * durable in the matcher's LMDB (matcher_view) in the same transaction as
 * the first record that uses them, so the compact records on disk can
 * refer to them. They differ between matcher instances, so nothing that
 * leaves the process depends on them (answers use URIs, and ties are
 * broken by ids of records, never by term ids).
 *
 * At most MATCHER_TERMS_MAX distinct URIs (ESCO 1.1.1 has 13,896 skills and
 * 3,007 occupations); a record's terms beyond that are dropped with a
 * warning. */
#ifndef MATCHER_DICT_H
#define MATCHER_DICT_H

#include <stddef.h>
#include <stdint.h>

#define MATCHER_TERM_NONE 0xFFFFu
#define MATCHER_TERMS_MAX 0xFFF0u

typedef struct matcher_dict matcher_dict_t;

/* Caller owns *dict_p. */
void matcher_dict_new(matcher_dict_t **dict_p);
void matcher_dict_destroy(matcher_dict_t **dict_p);

/* The id of uri, or -ENOENT. */
int matcher_dict_find(const matcher_dict_t *dict, const char *uri, size_t len);

/* The URI of id (borrowed, lives as long as the dictionary), or "" for an
 * id not (yet) known. */
const char *matcher_dict_uri(const matcher_dict_t *dict, uint16_t id);

/* Number of ids: they are 0 .. count-1. */
size_t matcher_dict_count(const matcher_dict_t *dict);

/* Adds uri as id, which must be the next id (count). Returns -EINVAL if
 * it is not, -EEXIST if the URI already has an id, -ENOSPC when full. */
int matcher_dict_add(matcher_dict_t *dict, uint16_t id, const char *uri,
                     size_t len);

/* Forgets the ids count and above (they were learnt from a transaction
 * that did not commit): they will be given again, perhaps to other URIs.
 * Their text stays in its block until the dictionary is destroyed. */
void matcher_dict_truncate(matcher_dict_t *dict, size_t count);

/* Heap bytes held. */
size_t matcher_dict_bytes(const matcher_dict_t *dict);

#endif
