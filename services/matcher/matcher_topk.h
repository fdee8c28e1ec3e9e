/* matcher_topk.h - the best k citizens for an order, and the best k open
 * orders for a citizen.
 *
 * Results are ranked by score, highest first, ties by id ascending (byte
 * order), so that every matcher with the same data gives the same list.
 *
 * A citizen is a candidate for an order only if they hold at least one of
 * its skills (essential or optional), or wish for or hold its occupation
 * or an occupation of its ISCO-08 group. Citizens with none of these are
 * never considered, whatever their other merits: docs/matching.md. */
#ifndef MATCHER_TOPK_H
#define MATCHER_TOPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher_index.h"
#include "matcher_score.h"

/* 12 bytes, not 16: 13,000 live shortlists of 20 hold 260,000 of them.
 * Packed to 4-byte alignment (x86-64 and AArch64 read an unaligned
 * double as fast; GCC reads it correctly where they are not). */
typedef struct __attribute__((packed, aligned(4))) matcher_hit {
    uint32_t slot; /* citizen slot (or order slot, for a citizen's query) */
    double score;
} matcher_hit;

typedef struct matcher_topk_stats {
    uint32_t considered; /* candidates the search evaluated */
    uint32_t eligible;   /* of those, the ones passing every hard filter */
    uint32_t scored;     /* of those, the ones whose record was read */
    uint32_t reads;      /* postings read (a citizen may be in several) */
} matcher_topk_stats;

/* The best k (>= 1) candidates for order o into hits[0..k), best first;
 * returns how many were found. With pruning the search stops evaluating
 * citizens who cannot beat the k-th best, so stats count only what it
 * evaluated (eligible is exact when fewer than k were found). */
size_t matcher_topk_order(matcher_index_t *ix, const matcher_order *o,
                          const matcher_ctx *ctx, size_t k, matcher_hit *hits,
                          matcher_topk_stats *stats);

/* The same, scoring the citizens in seed[0..nseed) first (only their
 * slots are read: typically the order's previous list, which raises the
 * k-th score before any list is read). Any slots will do, even of
 * citizens gone or changed since: each is filtered and scored afresh, so
 * the answer is matcher_topk_order's. seed may alias nothing in hits. */
size_t matcher_topk_order_seeded(matcher_index_t *ix, const matcher_order *o,
                                 const matcher_ctx *ctx, size_t k,
                                 matcher_hit *hits, matcher_topk_stats *stats,
                                 const matcher_hit *seed, size_t nseed);

/* The same, reentrant: with the caller's "seen" set (seen_words words,
 * at least matcher_index_seen_words(ix); cleared here) instead of the
 * index's. Searches on several threads at once, each with its own set,
 * over an index nobody changes meanwhile (matcher_live's rebuild). */
size_t matcher_topk_order_seeded_r(const matcher_index_t *ix,
                                   const matcher_order *o,
                                   const matcher_ctx *ctx, size_t k,
                                   matcher_hit *hits, matcher_topk_stats *stats,
                                   const matcher_hit *seed, size_t nseed,
                                   uint64_t *seen, size_t seen_words);

/* The same result by evaluating every candidate, with no pruning and no
 * index (a scan of all citizens). For tests and checks only. */
size_t matcher_topk_order_scan(matcher_index_t *ix, const matcher_order *o,
                               const matcher_ctx *ctx, size_t k,
                               matcher_hit *hits, matcher_topk_stats *stats);

/* Does the citizen in slot share a skill, occupation or ISCO group with
 * o? */
bool matcher_is_candidate(const matcher_index_t *ix, const matcher_order *o,
                          uint32_t slot);

/* The best k open orders for the citizen in slot (orders sharing a skill,
 * occupation or ISCO group with them, passing every hard filter), ids
 * ascending on ties. owner (a municipality code) limits them to orders of
 * that municipality; 0: all. stats->eligible counts all that pass. */
size_t matcher_topk_profile(matcher_index_t *ix, uint32_t slot,
                            const matcher_ctx *ctx, uint16_t owner, size_t k,
                            matcher_hit *hits, matcher_topk_stats *stats);

/* ---- ranking helpers, shared with the live shortlists ---- */

/* Is citizen a (score sa) ranked before citizen b (score sb)? */
bool matcher_profile_before(const matcher_index_t *ix, uint32_t a, double sa,
                            uint32_t b, double sb);

/* A bounded heap keeping the k best hits. */
typedef struct matcher_heap {
    const matcher_index_t *ix;
    bool orders; /* slots are orders, not citizens */
    matcher_hit *hits;
    size_t n, k;
} matcher_heap;

void matcher_heap_init(matcher_heap *h, const matcher_index_t *ix, bool orders,
                       matcher_hit *hits, size_t k);
void matcher_heap_push(matcher_heap *h, uint32_t slot, double score);

/* The k-th best score so far, or -1 while fewer than k are held (inline:
 * the search asks for it at every group of postings and survivor). */
static inline double
matcher_heap_threshold(const matcher_heap *h)
{
    return h->n < h->k ? -1.0 : h->hits[0].score;
}

/* Sorts the hits best first; returns how many. */
size_t matcher_heap_finish(matcher_heap *h);

#endif
