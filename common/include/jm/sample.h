/* sample.h - deterministic sample data: citizens and job orders drawn from
 * real reference data (the ESCO occupations and their skills, the Danish
 * postcodes, municipalities and target groups).
 *
 * Used by `jobmatch sample load` (demo data for a node) and by the
 * benchmarks in bench/ (matching quality and performance), so it must be
 * exactly reproducible: a seed gives the same data on every machine. The
 * generator therefore has its own PRNG (xoshiro256** seeded by splitmix64,
 * never rand()), draws with integer arithmetic only, and derives item i
 * from (seed, kind, i) alone: citizen 17 is the same whether or not
 * citizens 0-16 were generated, and in any order. Dates are relative to
 * opts.today, so "the same data" means the same for the same day.
 *
 * Everything generated passes the services' validation (docs/protocol.md):
 * valid CVR (modulus 11) and CPR (a real, past birth date; unique for
 * citizen indexes below JM_SAMPLE_CPR_SPACE within one seed), postcodes
 * from the Danish list, ESCO URIs, levels and counts within the limits, a
 * deadline after today. Names are fake but plausible (common Danish first
 * names and surnames), e-mail addresses are at example.dk.
 *
 * Two skill modes:
 *   JM_SAMPLE_SKILLS_ESCO: a citizen has most essential skills of one ESCO
 *     occupation, some of its optional ones, and a few unrelated "noise"
 *     skills; an order asks for 5-15 of its occupation's essential skills.
 *     The citizen's occupation is the ground truth for the quality bench.
 *   JM_SAMPLE_SKILLS_ZIPF: skills drawn Zipf-distributed over all ESCO
 *     skills (the rank order is a seeded permutation): 10-30 per citizen,
 *     5-15 essential per order. For the performance bench.
 *
 * Ownership: every item is one allocation arena. The item and everything
 * it points to belong to the caller until jm_sample_*_destroy, EXCEPT the
 * ESCO URIs and the Danish code strings, which are borrowed from the
 * jm_esco_t table and the compiled-in tables: the esco table must outlive
 * the items, and nothing in an item may be modified through those
 * pointers (protobuf-c's char * is not const). Items are independent of
 * the generator: they may outlive it. */
#ifndef JM_SAMPLE_H
#define JM_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/esco.h"
#include "jobmatch/v1/intake.pb-c.h"
#include "jobmatch/v1/profiles.pb-c.h"

/* ---- the PRNG (public so that benchmarks draw reproducibly too) ---- */

typedef struct jm_sample_rng {
    uint64_t s[4];
} jm_sample_rng;

/* xoshiro256** state from a 64-bit seed through splitmix64 (never the
 * all-zero state). */
void jm_sample_rng_seed(jm_sample_rng *rng, uint64_t seed);
uint64_t jm_sample_rng_next(jm_sample_rng *rng);
/* Uniform in [0, n), without modulo bias; n > 0. */
uint64_t jm_sample_rng_below(jm_sample_rng *rng, uint64_t n);
/* Uniform in [lo, hi] (inclusive); lo <= hi. */
int64_t jm_sample_rng_range(jm_sample_rng *rng, int64_t lo, int64_t hi);
/* True with probability percent / 100. */
bool jm_sample_rng_percent(jm_sample_rng *rng, unsigned percent);

/* One splitmix64 step as a hash: mixes x into 64 well-spread bits. */
uint64_t jm_sample_mix(uint64_t x);

/* ---- the generator ---- */

typedef enum jm_sample_skills {
    JM_SAMPLE_SKILLS_ESCO = 0,
    JM_SAMPLE_SKILLS_ZIPF = 1,
} jm_sample_skills;

typedef struct jm_sample_opts {
    uint64_t seed;
    jm_sample_skills skills;
    /* Zipf exponent s (P(rank k) ~ 1/k^s); 0 means 1.0. Any s other than
     * 1.0 goes through libm's pow(), which is reproducible where pow() is
     * correctly rounded (glibc >= 2.28), not guaranteed elsewhere. */
    double zipf_exponent;
    /* Homes and workplaces only in these municipality codes ("101");
     * NULL or 0: all of Denmark. */
    const char *const *municipalities;
    size_t municipality_count;
    /* Draw occupations from a pool of this many (chosen from the seed,
     * favouring occupations common in jobcentre orders); 0: every ESCO
     * occupation with at least 5 essential skills, all equally likely. A
     * small pool makes orders with many fitting citizens. Armed forces
     * occupations (ISCO major group 0) are never drawn. */
    size_t occupation_pool;
    /* With a pool: every occupation drawn brings the other (eligible)
     * occupations of its ISCO-08 unit group, so the pool holds close
     * neighbours that share many skills (the hard case for a ranking; the
     * pool may then exceed occupation_pool by the last group's size). */
    bool whole_groups;
    /* Days since the epoch that dates are relative to; 0: today. */
    int32_t today;
} jm_sample_opts;

/* Citizen indexes below this get distinct CPR numbers (one seed). */
#define JM_SAMPLE_CPR_SPACE 60000000u

typedef struct jm_sample jm_sample_t;

/* A generator over esco (borrowed: it must outlive the generator and every
 * item). Caller owns *sample_p. Errors: -EINVAL for an unknown
 * municipality code, a pool larger than the eligible occupations, or a
 * negative exponent (*sample_p untouched). */
int jm_sample_new(jm_sample_t **sample_p, const jm_esco_t *esco,
                  const jm_sample_opts *opts);

/* Safe on NULL; sets *sample_p to NULL. Items stay valid. */
void jm_sample_destroy(jm_sample_t **sample_p);

/* The occupations items are drawn from (ESCO indexes, ascending): the pool
 * of opts.occupation_pool. Borrowed from the generator. */
size_t jm_sample_occupations(const jm_sample_t *sample,
                             const uint32_t **occupations);

/* A citizen: what a caseworker's system sends in PutProfile. */
typedef struct jm_sample_citizen {
    Jobmatch__V1__PersonalData personal;
    /* id, version, progress and the times are left empty: the service
     * sets them. */
    Jobmatch__V1__CitizenProfile profile;
    /* Measurements to send with RecordProgress once the profile exists
     * (profile.progress is service-set); often none. */
    Jobmatch__V1__ProgressMeasurement **progress;
    size_t progress_count;
    /* The ESCO occupation it was drawn from, and the ESCO index of each
     * profile.skills[i] (for benchmarks that index without URI look-ups). */
    uint32_t occupation;
    uint32_t *skill_index;
    struct jm_sample_arena *arena; /* private */
} jm_sample_citizen;

/* A job order: what a jobcentre's system sends in SubmitOrder. id is
 * "sample-<seed>-<index>", so loading one seed twice names the same
 * orders; the service fields are left empty. */
typedef struct jm_sample_order {
    Jobmatch__V1__JobOrder order;
    uint32_t occupation;
    uint32_t *essential_index; /* ESCO index of order.essential_skills[i] */
    uint32_t *optional_index;
    struct jm_sample_arena *arena; /* private */
} jm_sample_order;

/* Citizen (resp. order) number index of the generator's seed. Never fails
 * (out of memory aborts). Caller owns the item. */
jm_sample_citizen *jm_sample_citizen_new(const jm_sample_t *sample,
                                         uint64_t index);
jm_sample_order *jm_sample_order_new(const jm_sample_t *sample, uint64_t index);

/* Free the item and everything it owns; safe on NULL; NULL the pointer. */
void jm_sample_citizen_destroy(jm_sample_citizen **citizen_p);
void jm_sample_order_destroy(jm_sample_order **order_p);

#endif
