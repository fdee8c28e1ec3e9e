/* matcher_gen.h - random citizens and open orders, straight into an index,
 * for the kernel's equality tests and the quick performance check.
 *
 * Skills are drawn from a vocabulary with Zipf-distributed popularity (a
 * few skills held by most citizens, a long tail held by few), homes and
 * workplaces at real Danish postcodes (jittered), travel ranges of 5-100
 * km, and every other field spread so that each hard filter excludes
 * some. A fixed seed gives the same population every time. */
#ifndef MATCHER_GEN_H
#define MATCHER_GEN_H

#include <stdint.h>

#include "jm/esco.h"
#include "matcher_index.h"

typedef struct gen_opts {
    unsigned profiles;
    unsigned orders;
    unsigned vocab;       /* distinct skills */
    unsigned occupations; /* distinct occupations (in 40 ISCO groups) */
    double zipf;          /* exponent of skill popularity */
    unsigned skills_min, skills_max;   /* per citizen */
    unsigned oskills_min, oskills_max; /* per order, essential + optional */
    unsigned clones; /* per mille of citizens copied under another id */
    uint64_t seed;
    /* With ESCO: every citizen and order belongs to an occupation (Zipf
     * over ESCO's occupations) and draws most skills from its essential
     * and optional skills, the rest from the global Zipf: skills are
     * correlated as in real data. NULL: independent draws. */
    const jm_esco_t *esco;
} gen_opts;

typedef struct gen {
    gen_opts opts;
    uint64_t state;
    double *cdf;     /* cumulative skill popularity */
    double *occ_cdf; /* cumulative occupation popularity (ESCO mode) */
    unsigned next_profile, next_order;
} gen_t;

void gen_init(gen_t *g, const gen_opts *opts);
void gen_release(gen_t *g);

uint64_t gen_next(gen_t *g);
/* Uniform in [0, n). */
unsigned gen_below(gen_t *g, unsigned n);

/* Adds a new random citizen / open order; returns the slot. */
uint32_t gen_profile(gen_t *g, matcher_index_t *ix);
uint32_t gen_order(gen_t *g, matcher_index_t *ix);

/* Adds opts.profiles citizens and opts.orders orders. */
void gen_populate(gen_t *g, matcher_index_t *ix);

/* The same the way the service loads its view at start: room reserved,
 * citizens in one bulk load (lists split and sorted once), then the
 * orders. For the benchmarks and checks at scale. */
void gen_populate_bulk(gen_t *g, matcher_index_t *ix);

/* Replaces the citizen in slot with a new random one under the same id. */
void gen_update_profile(gen_t *g, matcher_index_t *ix, uint32_t slot);

#endif
