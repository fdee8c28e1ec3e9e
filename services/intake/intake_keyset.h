/* intake_keyset.h - an ordered set of short byte keys in memory.
 *
 * intake keeps two of its indexes here instead of in LMDB: by municipality
 * and open orders by deadline. In LMDB every new order inserted into those
 * at one of ~98 places (a municipality, a deadline day), so each order of a
 * batch dirtied a page of its own, and writing those pages back was the
 * largest single cost of an acknowledged order (docs/benchmarks.md). In
 * memory an insert costs a binary search and a short memmove; the set is
 * rebuilt from the orders when the service starts.
 *
 * Keys are compared as LMDB compares them by default (memcmp over the
 * shorter length, then the shorter first), so that page tokens and scans
 * behave exactly as they did over the LMDB index. Keys are at most
 * INTAKE_KEY_MAX bytes.
 *
 * Layout: a sorted array of leaves, each a sorted array of up to 64 keys.
 * A lookup is two binary searches; an insert moves at most 63 pointers in
 * a leaf and, when the leaf splits, the leaf array's tail. */
#ifndef INTAKE_KEYSET_H
#define INTAKE_KEYSET_H

#include <stdbool.h>
#include <stddef.h>

#include "jm/store.h"

#define INTAKE_KEY_MAX 128

typedef struct intake_keyset intake_keyset;

intake_keyset *intake_keyset_new(void);
void intake_keyset_free(intake_keyset **set_p); /* safe on NULL */

/* True if key was not there and now is. */
bool intake_keyset_add(intake_keyset *set, const void *key, size_t size);

/* True if key was there and now is not. */
bool intake_keyset_del(intake_keyset *set, const void *key, size_t size);

size_t intake_keyset_count(const intake_keyset *set);

/* Calls fn for every key >= start (start_size 0: from the first), in
 * order, with an empty value, as jm_txn_scan does: fn returns 0 to go on,
 * anything else stops the scan and is returned (1 means "done": 0 is
 * returned then). The set must not change during the scan. */
int intake_keyset_scan(const intake_keyset *set, const void *start,
                       size_t start_size, jm_txn_scan_fn fn, void *arg);

#endif
