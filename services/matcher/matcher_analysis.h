/* matcher_analysis.h - the questions a caseworker or a company consultant
 * asks beyond "who fits best": which skills would open most doors for a
 * citizen, which requirements of an order narrow its pool, and how to
 * propose citizens across all open positions at once. */
#ifndef MATCHER_ANALYSIS_H
#define MATCHER_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher_index.h"
#include "matcher_live.h"
#include "matcher_score.h"

/* ---- skill gaps ---- */

#define MATCHER_GAP_ORDERS 20 /* order ids listed per skill */

typedef struct matcher_gap {
    uint16_t term;
    uint32_t unlocked;    /* orders for which it is the only skill missing */
    uint32_t improved;    /* orders where it is one of those missing */
    uint8_t level_needed; /* highest minimum level among the unlocked;
                           * among the improved when none is */
    uint32_t orders[MATCHER_GAP_ORDERS]; /* unlocked order slots, by id */
    uint32_t norders;
} matcher_gap;

typedef struct matcher_gaps {
    matcher_gap *gaps; /* best first; caller frees */
    size_t n;
    uint32_t in_reach; /* open orders passing every hard filter */
    uint32_t matched;  /* of those, with every essential skill covered */
} matcher_gaps;

/* Among the open orders within the citizen's reach (every hard filter
 * passes; skills are not hard filters), the essential skills they lack
 * (or hold below the order's minimum), ranked by the orders each would
 * unlock, then by the orders where it is one of several missing, then by
 * URI. owner 0: all orders; else only that municipality's. At most k. */
void matcher_gaps_compute(matcher_index_t *ix, uint32_t slot,
                          const matcher_ctx *ctx, uint16_t owner, size_t k,
                          matcher_gaps *out);

/* ---- bottlenecks ---- */

typedef struct matcher_bottleneck {
    char requirement[40]; /* JobOrder field path: "essential_skills[2]" */
    char detail[160];     /* the skill URI, "forklift", "da >= b1", ... */
    uint32_t pool_without;
} matcher_bottleneck;

typedef struct matcher_bottlenecks {
    matcher_bottleneck *items; /* largest pool_without first, ties by
                                * requirement (indexes by number); caller
                                * frees */
    size_t n;
    uint32_t pool; /* candidates meeting every requirement now, essential
                    * skills included: at most as many as pass the hard
                    * filters (CandidateList.eligible) */
} matcher_bottlenecks;

/* For the order in oslot: among its candidates (citizens sharing a skill,
 * its occupation or ISCO group) whom sharing allows, how many meet every
 * requirement (each essential skill at its level, each licence, each
 * language, hours, distance, availability, job kind), and for each
 * requirement how many would if it were dropped. */
void matcher_bottlenecks_compute(matcher_index_t *ix, uint32_t oslot,
                                 const matcher_ctx *ctx,
                                 matcher_bottlenecks *out);

/* ---- assignment across orders ---- */

typedef struct matcher_assign_opts {
    const uint16_t *munis; /* the orders of these municipalities; */
    size_t nmunis;         /* none: every open order */
    bool exact;
    unsigned max_per_citizen; /* >= 1 */
    unsigned factor;          /* capacity = positions x factor, >= 1 */
} matcher_assign_opts;

typedef struct matcher_proposal {
    uint32_t order; /* slots */
    uint32_t profile;
    double score;
} matcher_proposal;

typedef struct matcher_assignment {
    matcher_proposal *proposals; /* by order id, best first; caller frees */
    size_t n;
    double total, greedy_total, exact_total, gap;
    uint32_t orders, served, citizens, max_per_citizen;
    double gini; /* of proposals per candidate citizen */
    int64_t elapsed_us;
} matcher_assignment;

/* Builds the candidate graph (each order's best 5 x capacity candidates,
 * at most its live shortlist's length: the live list itself, or computed
 * the same way while it is being rebuilt) and solves it greedily, and
 * exactly if asked. */
void matcher_assign_run(matcher_index_t *ix, matcher_live_t *live,
                        const matcher_ctx *ctx, const matcher_assign_opts *opts,
                        matcher_assignment *out);

/* Gini coefficient of counts[0..n) (0: equal; near 1: concentrated). */
double matcher_gini(const uint32_t *counts, size_t n);

#endif
