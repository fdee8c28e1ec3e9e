/* intake_keyset.c - an ordered set of short keys (see intake_keyset.h). */
#include "intake_keyset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"

#define LEAF_MAX 64

struct key {
    uint8_t size;
    uint8_t data[];
};

/* The first 16 bytes of a key, zero-padded, as two big-endian numbers:
 * comparing fences orders keys that differ in those bytes without
 * touching the keys. Finding a leaf is then a binary search over one
 * contiguous array instead of a pointer chase per step (a cache miss
 * each: it was 1.5 us of an order's 30 at 200,000 orders). */
struct fence {
    uint64_t hi, lo;
};

/* A leaf keeps each key's fence beside its pointer: a search within the
 * leaf compares fences, one contiguous array, and reads a key only when
 * two share their first 16 bytes (each key is an allocation of its own: a
 * cache miss per step, 5 % of intake's loop thread when it read them). */
struct leaf {
    size_t count;
    struct fence fences[LEAF_MAX];
    struct key *keys[LEAF_MAX];
};

struct intake_keyset {
    struct leaf **leaves; /* sorted; none is empty unless it is the only one */
    struct fence *fences; /* fences[i]: leaves[i]'s first key's */
    size_t n_leaves;
    size_t cap_leaves;
    size_t count;
};

static int
compare(const struct key *k, const void *data, size_t size)
{
    size_t n = k->size < size ? k->size : size;
    int c = n ? memcmp(k->data, data, n) : 0;

    if (c != 0)
        return c;
    return (k->size > size) - (k->size < size);
}

static struct fence
fence_of(const void *data, size_t size)
{
    uint8_t b[16] = {0};
    struct fence f = {0, 0};

    memcpy(b, data, size < 16 ? size : 16);
    for (int i = 0; i < 8; i++) {
        f.hi = f.hi << 8 | b[i];
        f.lo = f.lo << 8 | b[8 + i];
    }
    return f;
}

/* <0, 0, >0 as fence a orders before, with or after b (0: the keys'
 * first 16 bytes are the same, and only the keys can tell). */
static int
fence_cmp(const struct fence *a, const struct fence *b)
{
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return 0;
}

/* How key k, whose fence is kf, orders against (data, size), whose
 * fence is f: by the fences, and by the keys only when those tie. */
static int
order(const struct fence *kf, const struct key *k, const struct fence *f,
      const void *data, size_t size)
{
    int c = fence_cmp(kf, f);

    return c != 0 ? c : compare(k, data, size);
}

/* The first position in leaf whose key is >= (data, size), whose fence
 * is f. */
static size_t
lower_bound(const struct leaf *leaf, const void *data, size_t size,
            const struct fence *f)
{
    size_t lo = 0, hi = leaf->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (order(&leaf->fences[mid], leaf->keys[mid], f, data, size) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
set_fence(intake_keyset *set, size_t li)
{
    const struct leaf *leaf = set->leaves[li];

    set->fences[li] = leaf->count ? leaf->fences[0] : (struct fence){0, 0};
}

/* The leaf that holds (or would hold) the key: the last one whose first
 * key is <= it, or the first leaf. */
static size_t
find_leaf(const intake_keyset *set, const void *data, size_t size,
          const struct fence *f)
{
    size_t lo = 1, hi = set->n_leaves;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        /* leaves[mid]'s first key <= the key */
        if (order(&set->fences[mid], set->leaves[mid]->keys[0], f, data,
                  size) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

intake_keyset *
intake_keyset_new(void)
{
    intake_keyset *set = jm_xcalloc(1, sizeof(*set));

    set->cap_leaves = 16;
    set->leaves = jm_xcalloc(set->cap_leaves, sizeof(*set->leaves));
    set->fences = jm_xcalloc(set->cap_leaves, sizeof(*set->fences));
    set->leaves[0] = jm_xcalloc(1, sizeof(struct leaf));
    set->n_leaves = 1;
    return set;
}

void
intake_keyset_free(intake_keyset **set_p)
{
    intake_keyset *set;

    JM_ASSERT(set_p != NULL);
    set = *set_p;
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n_leaves; i++) {
        for (size_t j = 0; j < set->leaves[i]->count; j++)
            free(set->leaves[i]->keys[j]);
        free(set->leaves[i]);
    }
    free(set->leaves);
    free(set->fences);
    free(set);
    *set_p = NULL;
}

size_t
intake_keyset_count(const intake_keyset *set)
{
    JM_ASSERT(set != NULL);
    return set->count;
}

/* Where (data, size) is or would go: its leaf in *li, the position in
 * it returned, its fence in *f. */
static size_t
locate(const intake_keyset *set, const void *data, size_t size, size_t *li,
       struct fence *f)
{
    *f = fence_of(data, size);
    *li = find_leaf(set, data, size, f);
    return lower_bound(set->leaves[*li], data, size, f);
}

/* Splits leaf li in two. Keys arriving in order (time-ordered ids within a
 * municipality) go to the right edge, so a full leaf that is the last one
 * keeps most of its keys on the left: leaves fill up instead of staying
 * half empty. */
static void
split(intake_keyset *set, size_t li, size_t at)
{
    struct leaf *left = set->leaves[li], *right;
    size_t keep = at == LEAF_MAX ? LEAF_MAX - 8 : LEAF_MAX / 2;

    if (set->n_leaves == set->cap_leaves) {
        set->cap_leaves *= 2;
        set->leaves =
            jm_xrealloc(set->leaves, set->cap_leaves * sizeof(*set->leaves));
        set->fences =
            jm_xrealloc(set->fences, set->cap_leaves * sizeof(*set->fences));
    }
    right = jm_xcalloc(1, sizeof(*right));
    right->count = left->count - keep;
    memcpy(right->keys, left->keys + keep, right->count * sizeof(*right->keys));
    memcpy(right->fences, left->fences + keep,
           right->count * sizeof(*right->fences));
    left->count = keep;
    memmove(set->leaves + li + 2, set->leaves + li + 1,
            (set->n_leaves - li - 1) * sizeof(*set->leaves));
    memmove(set->fences + li + 2, set->fences + li + 1,
            (set->n_leaves - li - 1) * sizeof(*set->fences));
    set->leaves[li + 1] = right;
    set->n_leaves++;
    set_fence(set, li + 1);
}

bool
intake_keyset_add(intake_keyset *set, const void *key, size_t size)
{
    size_t li, at;
    struct leaf *leaf;
    struct key *k;
    struct fence f;

    JM_ASSERT(set != NULL);
    JM_ASSERT(size > 0 && size <= INTAKE_KEY_MAX);
    at = locate(set, key, size, &li, &f);
    leaf = set->leaves[li];
    if (at < leaf->count && compare(leaf->keys[at], key, size) == 0)
        return false;
    if (leaf->count == LEAF_MAX) {
        split(set, li, at);
        if (at > set->leaves[li]->count) {
            at -= set->leaves[li]->count;
            li++;
        }
        leaf = set->leaves[li];
    }
    k = jm_xmalloc(sizeof(*k) + size);
    k->size = (uint8_t) size;
    memcpy(k->data, key, size);
    memmove(leaf->keys + at + 1, leaf->keys + at,
            (leaf->count - at) * sizeof(*leaf->keys));
    memmove(leaf->fences + at + 1, leaf->fences + at,
            (leaf->count - at) * sizeof(*leaf->fences));
    leaf->keys[at] = k;
    leaf->fences[at] = f;
    leaf->count++;
    set->count++;
    if (at == 0)
        set_fence(set, li);
    return true;
}

bool
intake_keyset_del(intake_keyset *set, const void *key, size_t size)
{
    size_t li, at;
    struct leaf *leaf;
    struct fence f;

    JM_ASSERT(set != NULL);
    at = locate(set, key, size, &li, &f);
    leaf = set->leaves[li];
    if (at == leaf->count || compare(leaf->keys[at], key, size) != 0)
        return false;
    free(leaf->keys[at]);
    leaf->count--;
    memmove(leaf->keys + at, leaf->keys + at + 1,
            (leaf->count - at) * sizeof(*leaf->keys));
    memmove(leaf->fences + at, leaf->fences + at + 1,
            (leaf->count - at) * sizeof(*leaf->fences));
    set->count--;
    if (leaf->count == 0 && set->n_leaves > 1) {
        free(leaf);
        memmove(set->leaves + li, set->leaves + li + 1,
                (set->n_leaves - li - 1) * sizeof(*set->leaves));
        memmove(set->fences + li, set->fences + li + 1,
                (set->n_leaves - li - 1) * sizeof(*set->fences));
        set->n_leaves--;
    } else if (at == 0) {
        set_fence(set, li);
    }
    return true;
}

int
intake_keyset_scan(const intake_keyset *set, const void *start,
                   size_t start_size, jm_txn_scan_fn fn, void *arg)
{
    static const char empty[1];
    const jm_val val = {empty, 0};
    size_t li = 0, at = 0;

    JM_ASSERT(set != NULL);
    if (start_size > 0) {
        struct fence f;

        at = locate(set, start, start_size, &li, &f);
    }
    for (; li < set->n_leaves; li++, at = 0) {
        const struct leaf *leaf = set->leaves[li];

        for (; at < leaf->count; at++) {
            const jm_val key = {leaf->keys[at]->data, leaf->keys[at]->size};
            int rc = fn(&key, &val, arg);

            if (rc != 0)
                return rc < 0 ? rc : 0;
        }
    }
    return 0;
}
