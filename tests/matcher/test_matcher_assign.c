/* test_matcher_assign.c - assignment on small random candidate graphs:
 * the exact min-cost flow equals brute force (every subset of edges that
 * respects the capacities), greedy never beats it, both respect every
 * capacity; and greedy serves scarce orders first. */
#include <stdlib.h>
#include <string.h>

#include "jm_test.h"
#include "matcher_assign.h"

static uint64_t rng = 88172645463325252ULL;

static unsigned
below(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned) (rng % n);
}

static bool
feasible(const matcher_assign_problem *p, const uint8_t *chosen)
{
    uint32_t load[16] = {0};

    for (uint32_t o = 0; o < p->norders; o++) {
        uint32_t n = 0;

        for (uint32_t e = p->orders[o].first;
             e < p->orders[o].first + p->orders[o].count; e++) {
            if (chosen[e]) {
                n++;
                load[p->edges[e].citizen]++;
            }
        }
        if (n > p->orders[o].capacity)
            return false;
    }
    for (uint32_t c = 0; c < p->ncitizens; c++) {
        if (load[c] > p->max_per_citizen)
            return false;
    }
    return true;
}

static int64_t
total(const matcher_assign_problem *p, const uint8_t *chosen)
{
    int64_t t = 0;

    for (uint32_t e = 0; e < p->nedges; e++) {
        if (chosen[e])
            t += matcher_assign_points(p->edges[e].score);
    }
    return t;
}

static int64_t
brute_force(const matcher_assign_problem *p)
{
    uint8_t chosen[32];
    int64_t best = 0;

    for (uint32_t mask = 0; mask < (1u << p->nedges); mask++) {
        for (uint32_t e = 0; e < p->nedges; e++)
            chosen[e] = (uint8_t) (mask >> e & 1);
        if (feasible(p, chosen) && total(p, chosen) > best)
            best = total(p, chosen);
    }
    return best;
}

static void
test_exact_equals_brute_force(void **state)
{
    unsigned beaten = 0;

    (void) state;
    for (unsigned round = 0; round < 3000; round++) {
        matcher_assign_order orders[5];
        matcher_assign_edge edges[16];
        uint8_t greedy[16], exact[16];
        matcher_assign_problem p = {.orders = orders, .edges = edges};
        int64_t g, x, b;

        p.norders = 1 + below(5);
        p.ncitizens = 1 + below(6);
        p.max_per_citizen = 1 + below(3);
        for (uint32_t o = 0; o < p.norders; o++) {
            uint32_t want = below(p.ncitizens + 1);

            orders[o].capacity = 1 + below(3);
            orders[o].first = p.nedges;
            orders[o].count = 0;
            orders[o].scarcity = below(4);
            /* Distinct citizens, best first, some scores tied. */
            for (uint32_t c = 0; c < p.ncitizens && p.nedges < 14; c++) {
                if (below(p.ncitizens) >= want)
                    continue;
                edges[p.nedges].citizen = c;
                edges[p.nedges].score = (below(8) + 1) / 8.0 - below(3) * 0.01;
                p.nedges++;
                orders[o].count++;
            }
            for (uint32_t i = orders[o].first + 1; i < p.nedges; i++) {
                for (uint32_t j = i;
                     j > orders[o].first && edges[j].score > edges[j - 1].score;
                     j--) {
                    matcher_assign_edge t = edges[j];

                    edges[j] = edges[j - 1];
                    edges[j - 1] = t;
                }
            }
        }
        g = matcher_assign_greedy(&p, greedy);
        x = matcher_assign_exact(&p, exact);
        b = brute_force(&p);
        assert_true(feasible(&p, greedy));
        assert_true(feasible(&p, exact));
        assert_int_equal(g, total(&p, greedy));
        assert_int_equal(x, total(&p, exact));
        if (x != b)
            fail_msg("round %u: exact %lld, brute force %lld", round,
                     (long long) x, (long long) b);
        assert_true(g <= x);
        beaten += g < x;
    }
    /* The instances are hard enough that greedy is sometimes beaten. */
    assert_true(beaten > 30);
}

static void
test_greedy_serves_scarce_orders_first(void **state)
{
    /* One citizen; order 0 has many candidates, order 1 only this one.
     * Order 1 is scarcer, so it gets her even though 0 scores her
     * higher. */
    matcher_assign_order orders[2] = {
        {.capacity = 1, .first = 0, .count = 3, .scarcity = 3},
        {.capacity = 1, .first = 3, .count = 1, .scarcity = 1},
    };
    matcher_assign_edge edges[4] = {{0, 0.9}, {1, 0.5}, {2, 0.4}, {0, 0.6}};
    matcher_assign_problem p = {orders, 2, edges, 4, 3, 1};
    uint8_t chosen[4];

    (void) state;
    assert_int_equal(matcher_assign_greedy(&p, chosen), 1100000);
    assert_int_equal(chosen[3], 1); /* order 1 got citizen 0 */
    assert_int_equal(chosen[1], 1); /* order 0 its next best */
    /* The exact solution agrees here (0.5 + 0.6 = 1.1 > 0.9 + 0). */
    assert_int_equal(matcher_assign_exact(&p, chosen), 1100000);
}

static void
test_exact_on_a_larger_graph_beats_or_ties_greedy(void **state)
{
    /* 300 orders, 400 citizens, 12 candidates each: no brute force, but
     * the flow must be feasible and at least as good as greedy. */
    uint32_t no = 300, nc = 400, per = 12;
    matcher_assign_order *orders = calloc(no, sizeof(*orders));
    matcher_assign_edge *edges = calloc(no * per, sizeof(*edges));
    uint8_t *greedy = malloc(no * per), *exact = malloc(no * per);
    matcher_assign_problem p = {orders, no, edges, no * per, nc, 2};
    uint32_t load[400] = {0};

    (void) state;
    for (uint32_t o = 0; o < no; o++) {
        orders[o].capacity = 1 + below(3);
        orders[o].first = o * per;
        orders[o].count = per;
        orders[o].scarcity = below(50);
        for (uint32_t i = 0; i < per; i++) {
            edges[o * per + i].citizen = (o * 7 + i * 13 + below(5)) % nc;
            edges[o * per + i].score = 0.9 - i * 0.05 - below(100) / 1e4;
        }
    }
    assert_true(matcher_assign_greedy(&p, greedy) <=
                matcher_assign_exact(&p, exact));
    for (uint32_t e = 0; e < p.nedges; e++)
        load[edges[e].citizen] += exact[e];
    for (uint32_t c = 0; c < nc; c++)
        assert_true(load[c] <= 2);
    free(orders);
    free(edges);
    free(greedy);
    free(exact);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_equals_brute_force),
        cmocka_unit_test(test_greedy_serves_scarce_orders_first),
        cmocka_unit_test(test_exact_on_a_larger_graph_beats_or_ties_greedy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
