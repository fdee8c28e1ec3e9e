/* bench_data.h - one generated data set, held twice: in the matcher's
 * in-memory index (matcher_core, exactly as the service holds it) and in a
 * PostgreSQL database with the same values, for the baselines.
 *
 * Citizens and orders come from jm_sample (common/include/jm/sample.h).
 * Both sides are fed from the matcher's compact records (matcher_record.h),
 * so they see the very same inputs: job kinds already limited by the
 * target group, licences as bits, coordinates as the records' floats,
 * progression as the records' 0-200 value, skill and occupation term ids.
 * The SQL therefore only has to implement the scoring, not the decoding.
 *
 * Ids: citizen i is "p%07u" (int i in SQL), order j "o%06u" (int j), so the
 * matcher's tie-break (id, byte order) is SQL's "ORDER BY id". */
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_pg.h"
#include "jm/esco.h"
#include "jm/sample.h"
#include "matcher_dict.h"
#include "matcher_index.h"
#include "matcher_score.h"
#include "matcher_topk.h"

typedef struct bench_data_opts {
    size_t profiles, orders;
    uint64_t seed;
    jm_sample_skills skills;
    size_t occupation_pool; /* jm_sample_opts.occupation_pool */
    bool whole_groups;      /* jm_sample_opts.whole_groups */
} bench_data_opts;

typedef struct bench_data {
    jm_esco_t *esco;
    jm_sample_t *sample;
    matcher_index_t *ix;
    matcher_ctx ctx;
    size_t profiles, orders;
    uint32_t *profile_slot;       /* citizen i -> index slot */
    uint32_t *order_slot;         /* order j -> index slot */
    uint32_t *profile_occupation; /* citizen i -> ESCO occupation drawn */
    uint32_t *order_occupation;
    /* Measured while building: */
    uint64_t profile_load_ns;  /* generating excluded */
    size_t profile_heap_bytes; /* malloc'd for the citizens (dict incl.) */
} bench_data;

/* Generates the data set and builds the index (fatal on error). */
void bench_data_build(bench_data *bd, const bench_data_opts *opts);
void bench_data_free(bench_data *bd);

/* The matcher_order of order j. */
const matcher_order *bench_data_order(const bench_data *bd, size_t j);

/* Citizen number of an index slot (parsed from its id). */
uint32_t bench_data_citizen_of_slot(const bench_data *bd, uint32_t slot);

/* Creates the tables, COPYs every citizen and order in, builds the
 * indexes and ANALYZEs; returns the seconds it took. */
double bench_data_pg_load(const bench_data *bd, bench_pg *pg);

/* Prepares "topk" ($1 order id, $2 today, $3 year, $4 k): the matcher's
 * candidates (a shared skill, occupation or ISCO group), hard filters and
 * weighted score in SQL, best first, ties by id; columns id, score. */
void bench_data_pg_prepare_topk(bench_pg *pg);

/* Prepares "overlap" ($1 order id, $2 today, $3 year, $4 k): the same
 * candidates and hard filters, ranked by the number of the order's skills
 * (essential and optional) the citizen holds, ties by id; columns id, overlap.
 */
void bench_data_pg_prepare_overlap(bench_pg *pg);

/* Runs a prepared query for order j; fills ids[] (citizen numbers) and
 * scores[] (may be NULL), returns the rows. */
size_t bench_data_pg_run(const bench_data *bd, bench_pg *pg, const char *name,
                         size_t j, size_t k, uint32_t *ids, double *scores);

#endif
