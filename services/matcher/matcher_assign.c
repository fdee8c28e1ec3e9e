/* matcher_assign.c - greedy and exact assignment on a candidate graph
 * (see matcher_assign.h).
 *
 * The exact algorithm works on the residual graph of a flow whose arcs
 * are: order -> citizen for each candidate edge not taken (cost -w),
 * citizen -> order for each taken (cost +w), citizen -> sink while the
 * citizen has room (cost 0), and order -> sink, the "empty slot" (cost
 * 0). Node numbering: orders 0..no-1, citizens no..no+nc-1, sink last.
 * Reduced costs c(u,v) + pi(u) - pi(v) stay >= 0 throughout, which is what
 * lets Dijkstra find shortest paths in a graph with negative costs. */
#include "matcher_assign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jm/mem.h"

int64_t
matcher_assign_points(double score)
{
    return (int64_t) llround(score * MATCHER_ASSIGN_SCALE);
}

/* ---- greedy ---- */

struct by_scarcity {
    const matcher_assign_order *orders;
    uint32_t index;
};

/* Scarcer orders first; equal scarcity in input order (orders come
 * sorted by id), so both algorithms are deterministic. */
static int
scarcity_cmp(const void *a, const void *b)
{
    const struct by_scarcity *x = a, *y = b;
    uint32_t sx = x->orders[x->index].scarcity,
             sy = y->orders[y->index].scarcity;

    if (sx != sy)
        return sx < sy ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

int64_t
matcher_assign_greedy(const matcher_assign_problem *p, uint8_t *chosen)
{
    struct by_scarcity *order =
        jm_xmalloc((p->norders ? p->norders : 1) * sizeof(*order));
    uint32_t *load =
        jm_xcalloc(p->ncitizens ? p->ncitizens : 1, sizeof(uint32_t));
    int64_t total = 0;

    memset(chosen, 0, p->nedges);
    for (uint32_t i = 0; i < p->norders; i++) {
        order[i].orders = p->orders;
        order[i].index = i;
    }
    qsort(order, p->norders, sizeof(*order), scarcity_cmp);
    for (uint32_t i = 0; i < p->norders; i++) {
        const matcher_assign_order *o = &p->orders[order[i].index];
        uint32_t taken = 0;

        for (uint32_t e = o->first;
             e < o->first + o->count && taken < o->capacity; e++) {
            uint32_t c = p->edges[e].citizen;

            if (load[c] >= p->max_per_citizen)
                continue;
            load[c]++;
            chosen[e] = 1;
            taken++;
            total += matcher_assign_points(p->edges[e].score);
        }
    }
    free(order);
    free(load);
    return total;
}

/* ---- exact: successive shortest paths ---- */

enum via { VIA_TAKE, VIA_GIVE_BACK, VIA_ROOM, VIA_EMPTY };

struct heap_item {
    int64_t dist;
    uint32_t node;
};

struct flow {
    const matcher_assign_problem *p;
    uint32_t no, nc, sink, nodes;
    uint8_t *x;           /* edge taken */
    uint32_t *load;       /* per citizen */
    uint32_t *taken;      /* per citizen: its taken edges (max_per_citizen) */
    uint32_t *edge_order; /* edge -> its order */
    int64_t *pi, *dist;
    uint32_t *seen; /* Dijkstra generation per node */
    uint32_t *done; /* settled generation per node */
    uint32_t gen;
    uint32_t *parent; /* edge (or order, for VIA_EMPTY) */
    uint8_t *via;
    uint32_t *settled;
    uint32_t nsettled;
    struct heap_item *heap;
    uint32_t nheap, heapcap;
};

static int64_t
weight(const struct flow *f, uint32_t e)
{
    return matcher_assign_points(f->p->edges[e].score);
}

/* A binary heap of (distance, node), ties by node: Dijkstra visits nodes
 * in the same order every time. Entries are not decreased in place; a
 * node popped with an outdated distance is skipped. */
static void
heap_push(struct flow *f, int64_t dist, uint32_t node)
{
    uint32_t i;

    if (f->nheap == f->heapcap) {
        f->heapcap = f->heapcap ? f->heapcap * 2 : 256;
        f->heap = jm_xrealloc(f->heap, f->heapcap * sizeof(*f->heap));
    }
    i = f->nheap++;
    while (i > 0) {
        uint32_t up = (i - 1) / 2;

        if (f->heap[up].dist < dist ||
            (f->heap[up].dist == dist && f->heap[up].node <= node))
            break;
        f->heap[i] = f->heap[up];
        i = up;
    }
    f->heap[i].dist = dist;
    f->heap[i].node = node;
}

static struct heap_item
heap_pop(struct flow *f)
{
    struct heap_item top = f->heap[0], last = f->heap[--f->nheap];
    uint32_t i = 0;

    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const struct heap_item *best = &last;

        if (l < f->nheap &&
            (f->heap[l].dist < best->dist ||
             (f->heap[l].dist == best->dist && f->heap[l].node < best->node))) {
            m = l;
            best = &f->heap[l];
        }
        if (r < f->nheap &&
            (f->heap[r].dist < best->dist ||
             (f->heap[r].dist == best->dist && f->heap[r].node < best->node)))
            m = r;
        if (m == i)
            break;
        f->heap[i] = f->heap[m];
        i = m;
    }
    if (f->nheap > 0)
        f->heap[i] = last;
    return top;
}

/* Tentative distance d to node through parent/via. */
static void
relax(struct flow *f, uint32_t node, int64_t d, uint32_t parent, uint8_t via)
{
    if (f->done[node] == f->gen)
        return;
    if (f->seen[node] == f->gen && f->dist[node] <= d)
        return;
    f->seen[node] = f->gen;
    f->dist[node] = d;
    f->parent[node] = parent;
    f->via[node] = via;
    heap_push(f, d, node);
}

/* Dijkstra from order src on reduced costs, until the sink is settled.
 * Returns the sink's distance. */
static int64_t
shortest(struct flow *f, uint32_t src)
{
    const matcher_assign_problem *p = f->p;

    f->gen++;
    f->nheap = 0;
    f->nsettled = 0;
    relax(f, src, 0, src, VIA_EMPTY);
    while (f->nheap > 0) {
        struct heap_item it = heap_pop(f);
        uint32_t u = it.node;

        if (f->done[u] == f->gen || it.dist != f->dist[u])
            continue;
        f->done[u] = f->gen;
        f->settled[f->nsettled++] = u;
        if (u == f->sink)
            return it.dist;
        if (u < f->no) {
            const matcher_assign_order *o = &p->orders[u];

            for (uint32_t e = o->first; e < o->first + o->count; e++) {
                uint32_t c = f->no + p->edges[e].citizen;

                if (!f->x[e])
                    relax(f, c, it.dist - weight(f, e) + f->pi[u] - f->pi[c], e,
                          VIA_TAKE);
            }
            /* The slot may stay empty. */
            relax(f, f->sink, it.dist + f->pi[u] - f->pi[f->sink], u,
                  VIA_EMPTY);
        } else {
            uint32_t c = u - f->no;

            for (uint32_t i = 0; i < f->load[c]; i++) {
                uint32_t e = f->taken[c * p->max_per_citizen + i];
                uint32_t o = f->edge_order[e];

                relax(f, o, it.dist + weight(f, e) + f->pi[u] - f->pi[o], e,
                      VIA_GIVE_BACK);
            }
            if (f->load[c] < p->max_per_citizen)
                relax(f, f->sink, it.dist + f->pi[u] - f->pi[f->sink], c,
                      VIA_ROOM);
        }
    }
    JM_ASSERT(!"the empty slot always reaches the sink");
    return 0;
}

/* A citizen's taken edges are a small array (max_per_citizen long):
 * giving one back swaps the last into its place. */
static void
untake(struct flow *f, uint32_t c, uint32_t e)
{
    uint32_t *t = &f->taken[c * f->p->max_per_citizen];

    for (uint32_t i = 0; i < f->load[c]; i++) {
        if (t[i] == e) {
            t[i] = t[--f->load[c]];
            return;
        }
    }
    JM_ASSERT(!"a taken edge is in its citizen's list");
}

/* Flips the arcs of the path found to the sink. Returns false if the path
 * was the source's own empty slot (nothing to change). */
static bool
augment(struct flow *f, uint32_t src)
{
    uint32_t v = f->sink;

    if (f->via[v] == VIA_EMPTY && f->parent[v] == src)
        return false;
    while (v != src) {
        uint32_t e = f->parent[v];

        switch (f->via[v]) {
        case VIA_EMPTY: /* an order gives up a citizen: its slot empties */
            v = e;
            break;
        case VIA_ROOM: /* the citizen takes one more proposal */
            v = f->no + e;
            break;
        case VIA_TAKE: {
            uint32_t c = v - f->no;

            f->x[e] = 1;
            f->taken[c * f->p->max_per_citizen + f->load[c]++] = e;
            v = f->edge_order[e];
            break;
        }
        case VIA_GIVE_BACK: {
            uint32_t c = f->p->edges[e].citizen;

            f->x[e] = 0;
            untake(f, c, e);
            v = f->no + c;
            break;
        }
        }
    }
    return true;
}

int64_t
matcher_assign_exact(const matcher_assign_problem *p, uint8_t *chosen)
{
    struct flow f = {.p = p};
    struct by_scarcity *order;
    int64_t total = 0, lowest = 0;

    f.no = p->norders;
    f.nc = p->ncitizens;
    f.sink = f.no + f.nc;
    f.nodes = f.sink + 1;
    f.x = chosen;
    memset(chosen, 0, p->nedges);
    f.load = jm_xcalloc(f.nc + 1, sizeof(uint32_t));
    f.taken = jm_xcalloc((size_t) (f.nc + 1) * (p->max_per_citizen + 1),
                         sizeof(uint32_t));
    f.edge_order = jm_xmalloc((p->nedges + 1) * sizeof(uint32_t));
    f.pi = jm_xcalloc(f.nodes, sizeof(int64_t));
    f.dist = jm_xcalloc(f.nodes, sizeof(int64_t));
    f.seen = jm_xcalloc(f.nodes, sizeof(uint32_t));
    f.done = jm_xcalloc(f.nodes, sizeof(uint32_t));
    f.parent = jm_xcalloc(f.nodes, sizeof(uint32_t));
    f.via = jm_xcalloc(f.nodes, 1);
    f.settled = jm_xcalloc(f.nodes, sizeof(uint32_t));
    for (uint32_t o = 0; o < f.no; o++) {
        for (uint32_t e = p->orders[o].first;
             e < p->orders[o].first + p->orders[o].count; e++)
            f.edge_order[e] = o;
    }
    /* Potentials that make every arc's reduced cost >= 0 at the start:
     * a citizen at minus their best score, the sink below everyone. */
    for (uint32_t e = 0; e < p->nedges; e++) {
        uint32_t c = f.no + p->edges[e].citizen;

        if (-weight(&f, e) < f.pi[c])
            f.pi[c] = -weight(&f, e);
        if (f.pi[c] < lowest)
            lowest = f.pi[c];
    }
    f.pi[f.sink] = lowest;

    order = jm_xmalloc((f.no ? f.no : 1) * sizeof(*order));
    for (uint32_t i = 0; i < f.no; i++) {
        order[i].orders = p->orders;
        order[i].index = i;
    }
    qsort(order, f.no, sizeof(*order), scarcity_cmp);
    for (uint32_t i = 0; i < f.no; i++) {
        uint32_t src = order[i].index;

        for (uint32_t slot = 0; slot < p->orders[src].capacity; slot++) {
            int64_t d = shortest(&f, src);

            /* Settled nodes move by their distance; the rest stay, which
             * keeps every reduced cost >= 0. */
            for (uint32_t k = 0; k < f.nsettled; k++) {
                uint32_t v = f.settled[k];

                f.pi[v] += f.dist[v] - d;
            }
            /* Once the best is to leave the slot empty, so it is for the
             * order's remaining slots. */
            if (!augment(&f, src))
                break;
        }
    }
    for (uint32_t e = 0; e < p->nedges; e++) {
        if (chosen[e])
            total += weight(&f, e);
    }
    free(order);
    free(f.load);
    free(f.taken);
    free(f.edge_order);
    free(f.pi);
    free(f.dist);
    free(f.seen);
    free(f.done);
    free(f.parent);
    free(f.via);
    free(f.settled);
    free(f.heap);
    return total;
}
