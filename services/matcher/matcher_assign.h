/* matcher_assign.h - proposing citizens to open positions: each order may
 * get up to its capacity of proposals (positions x shortlist factor),
 * each citizen at most max_per_citizen, and the total score is to be as
 * high as possible.
 *
 * The problem is given as a candidate graph: per order its candidates
 * (best first) with their scores. The matcher restricts each order to its
 * best 5 x capacity candidates (docs/matching.md), so "exact" means exact
 * on that graph.
 *
 *   greedy  orders with the fewest candidates first (scarcity: an order
 *           that few can fill should not lose them to one that many can),
 *           each taking its best candidates still available;
 *   exact   a min-cost flow: source -> order (capacity) -> citizen (1) ->
 *           sink (max_per_citizen), costs -score in integer micro-points,
 *           solved by successive shortest paths with potentials, one
 *           order slot at a time (each slot may also stay empty at cost
 *           0, so a slot is filled only if that raises the total). After
 *           every slot the flow is of minimum cost for the slots so far,
 *           which makes the final one optimal; Dijkstra stops at the sink
 *           and only the nodes it settled get new potentials, so each
 *           slot costs about the size of the alternating tree it grows.
 *
 * Both are deterministic for a given graph. */
#ifndef MATCHER_ASSIGN_H
#define MATCHER_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Scores are compared and summed as integers of this resolution. */
#define MATCHER_ASSIGN_SCALE 1000000.0

typedef struct matcher_assign_edge {
    uint32_t citizen; /* 0 .. ncitizens-1 */
    double score;
} matcher_assign_edge;

typedef struct matcher_assign_order {
    uint32_t capacity;
    uint32_t first, count; /* edges[first .. first+count), best first */
    uint32_t scarcity;     /* smaller is served first by greedy */
} matcher_assign_order;

typedef struct matcher_assign_problem {
    const matcher_assign_order *orders;
    uint32_t norders;
    const matcher_assign_edge *edges;
    uint32_t nedges;
    uint32_t ncitizens;
    uint32_t max_per_citizen;
} matcher_assign_problem;

/* chosen[e] is set to 1 for each edge taken, 0 otherwise (nedges bytes).
 * Returns the total in integer micro-points (sum of rounded scores). */
int64_t matcher_assign_greedy(const matcher_assign_problem *p, uint8_t *chosen);
int64_t matcher_assign_exact(const matcher_assign_problem *p, uint8_t *chosen);

/* A score in integer micro-points, as both algorithms count it. */
int64_t matcher_assign_points(double score);

#endif
