/* sample_internal.h - what sample.c (the generator, citizens) shares with
 * sample_order.c (job orders, companies). Not installed, not for services.
 */
#ifndef JM_SAMPLE_INTERNAL_H
#define JM_SAMPLE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/dk.h"
#include "jm/sample.h"

/* Streams: each kind of draw has its own, so that adding draws of one kind
 * never shifts another (citizen 5 does not change when orders change). */
enum {
    STREAM_CITIZEN = 0x43, /* 'C' */
    STREAM_ORDER = 0x4f,   /* 'O' */
    STREAM_POOL = 0x50,    /* 'P' */
    STREAM_ZIPF = 0x5a,    /* 'Z' */
    STREAM_CPR = 0x4e,     /* 'N' */
    STREAM_STAFF = 0x57,   /* 'W': caseworkers and consultants */
};

/* Postcodes that share a name ("København K" has dozens) form one town, and
 * towns are drawn uniformly: a rough stand-in for population that keeps
 * Copenhagen's street-level postcodes from swamping the country. */
struct sample_town {
    uint32_t first, count; /* a slice of jm_sample.postcodes */
};

struct jm_sample {
    const jm_esco_t *esco;
    uint64_t seed;
    jm_sample_skills skills;
    int32_t today;
    int today_year;

    uint32_t *pool; /* occupations drawn from, ascending */
    size_t pool_count;
    uint32_t *by_isco; /* every occupation, sorted by (ISCO code, index) */
    size_t occupation_count;

    uint32_t *postcodes; /* jm_dk_postcode_at indexes, grouped by town */
    struct sample_town *towns;
    size_t town_count;

    /* Zipf: zipf_skill[rank] and the cumulative integer weights. */
    uint32_t *zipf_skill;
    uint64_t *zipf_cum;
    size_t zipf_count;

    /* CPR: citizen index -> (a * i + b) mod cpr_space, a bijection. */
    uint64_t cpr_a, cpr_b, cpr_space;
    int32_t birth_first; /* oldest birth date, days since the epoch */
};

/* ---- the arena every item lives in ---- */

struct jm_sample_arena;

struct jm_sample_arena *sample_arena_new(void);
void sample_arena_free(struct jm_sample_arena *arena);
/* Zeroed, aligned memory that lives as long as the arena. */
void *sample_alloc(struct jm_sample_arena *arena, size_t size);
char *sample_printf(struct jm_sample_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- draws shared by citizens and orders ---- */

/* The PRNG of item index in stream. */
void sample_item_rng(const struct jm_sample *sample, int stream, uint64_t index,
                     jm_sample_rng *rng);

/* An index into weights[] drawn with probability weights[i] / sum. */
size_t sample_weighted(jm_sample_rng *rng, const unsigned *weights,
                       size_t count);

/* Another occupation of the same ISCO-08 unit group (may be the same). */
uint32_t sample_related_occupation(const struct jm_sample *sample,
                                   uint32_t occupation, jm_sample_rng *rng);

uint32_t sample_occupation(const struct jm_sample *sample, jm_sample_rng *rng);
const jm_dk_postcode *sample_postcode(const struct jm_sample *sample,
                                      jm_sample_rng *rng);
/* A Zipf-distributed skill index. */
uint32_t sample_zipf_skill(const struct jm_sample *sample, jm_sample_rng *rng);

/* Picks count distinct entries of from[0..n-1] (count <= n) into out[]. */
void sample_pick(jm_sample_rng *rng, const uint32_t *from, size_t n,
                 size_t count, uint32_t *out);

bool sample_contains(const uint32_t *list, size_t count, uint32_t value);

/* A plausible Danish name; female selects the first-name list. */
const char *sample_first_name(jm_sample_rng *rng, bool female);
const char *sample_surname(jm_sample_rng *rng);

/* Lower-case ASCII for an e-mail local part (æ -> ae, ø -> oe, å -> aa;
 * other non-ASCII dropped), into out[size]. */
void sample_ascii_fold(const char *in, char *out, size_t size);

/* "Firstname Surname, Jobcenter <municipality>": one of a few fixed staff
 * members of that jobcentre (kind 'W' caseworkers, 'K' consultants),
 * chosen with rng; initials (may be NULL) gets e.g. "SL". */
char *sample_staff(const struct jm_sample *sample,
                   struct jm_sample_arena *arena, jm_sample_rng *rng, int kind,
                   const char *municipality_code, char initials[9]);

/* The postcode as a Location (coordinates from the postcode). */
Jobmatch__V1__Location *sample_location(struct jm_sample_arena *arena,
                                        const jm_dk_postcode *postcode);

/* True for occupations whose ISCO group handles goods (forklift work). */
bool sample_is_logistics(const char *isco);

#endif
