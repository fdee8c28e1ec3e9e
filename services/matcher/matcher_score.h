/* matcher_score.h - the match model: hard filters, then a score made of
 * weighted parts (docs/matching.md is the prose version of this file).
 *
 * Hard filters (a citizen failing any is not a candidate):
 *   KIND          the order's kind is among the kinds the citizen may take
 *                 (their list, limited by their target group);
 *   HOURS         citizen's hours per week >= the order's;
 *   AVAILABILITY  citizen available from <= the order's start (an order
 *                 without a start, or whose start has passed: today);
 *   DISTANCE      haversine(workplace, home) <= the citizen's travel range;
 *   LICENCE       every licence the order requires is held;
 *   LANGUAGE      every language the order requires at >= its level;
 *   SHARING       the citizen lives in the order's municipality, or has
 *                 consented to neighbour matching and a sharing agreement
 *                 lets the order's municipality see their municipality.
 *
 * The score is the sum of six parts, each its weight times a value in
 * [0, 1], so the score is in [0, 1]:
 *   essential    mean credit over the order's essential skills: 1 at or
 *                above the minimum level, 0.5 x level/minimum below it, 0
 *                when missing (1 if the order lists none);
 *   optional     the same over optional skills;
 *   occupation   1 if the order's occupation is one the citizen wishes for
 *                or has held, 0.5 if one of theirs is in the same ISCO-08
 *                unit group, else 0;
 *   distance     1 - distance / the citizen's range;
 *   recency      mean over the order's skills (essential and optional) of
 *                how recently the citizen used it: 1 within the last year,
 *                falling by 0.1 a year to 0 at eleven years, 0.5 when the
 *                year is unknown, 0 for a skill they lack (1 if the order
 *                lists no skills);
 *   progression  mean latest progression score (1-10 mapped to 0-1); 0.5
 *                when there are no measurements.
 * Credits and recency are summed as integers, so that the score does not
 * depend on the order of summation: two matchers give bit-identical
 * scores. */
#ifndef MATCHER_SCORE_H
#define MATCHER_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher_index.h"

#define MATCHER_W_ESSENTIAL   0.45
#define MATCHER_W_OPTIONAL    0.10
#define MATCHER_W_OCCUPATION  0.15
#define MATCHER_W_DISTANCE    0.10
#define MATCHER_W_RECENCY     0.10
#define MATCHER_W_PROGRESSION 0.10

/* Credit of one skill in integer units: full credit is 120, which every
 * level ratio 60 x c / m (m in 1..5) divides exactly. */
#define MATCHER_CREDIT_FULL 120

enum matcher_fail {
    MATCHER_FAIL_KIND = 1 << 0,
    MATCHER_FAIL_HOURS = 1 << 1,
    MATCHER_FAIL_AVAILABILITY = 1 << 2,
    MATCHER_FAIL_DISTANCE = 1 << 3,
    MATCHER_FAIL_LICENCE = 1 << 4,
    MATCHER_FAIL_LANGUAGE = 1 << 5,
    MATCHER_FAIL_SHARING = 1 << 6,
};

/* The moment a query is answered at. */
typedef struct matcher_ctx {
    int32_t today; /* days since the epoch */
    int year;
} matcher_ctx;

/* ctx for now (jm_clock, so tests can freeze it). */
void matcher_ctx_now(matcher_ctx *ctx);

typedef struct matcher_parts {
    double essential, optional, occupation, distance, recency, progression;
} matcher_parts;

/* Hard filters of order o for the citizen in slot: 0 if every one passes,
 * else MATCHER_FAIL_* bits (all of them if all is true, else the first
 * found). *distance_km gets the distance (-1 when a location is
 * unknown). */
unsigned matcher_filter(const matcher_index_t *ix, const matcher_order *o,
                        uint32_t slot, const matcher_ctx *ctx, bool all,
                        double *distance_km);

/* matcher_filter's verdict, the first failure found, without the
 * haversine when bounds decide: *distance_min (set when 0 is returned)
 * is a lower bound of the distance, or the distance itself. For the
 * kernel, which needs the exact distance only for citizens it scores. */
unsigned matcher_filter_quick(const matcher_index_t *ix, const matcher_order *o,
                              uint32_t slot, const matcher_ctx *ctx,
                              double *distance_min);

/* An order prepared for many quick filters (what does not depend on the
 * citizen, computed once). */
typedef struct matcher_qorder {
    const matcher_index_t *ix;
    const matcher_order *o;
    int32_t start; /* availability: citizens free by then */
    uint16_t licences;
    uint16_t owner;
    uint8_t hours;
    uint8_t kind;
    uint8_t danish;
    uint8_t english; /* as matcher_order.english */
    bool located;
    bool other_languages;
    double lat, lon;
} matcher_qorder;

void matcher_qorder_init(matcher_qorder *q, const matcher_index_t *ix,
                         const matcher_order *o, const matcher_ctx *ctx);

/* The quick filter for a prepared order (the kernel's inner loop). */
unsigned matcher_qfilter(const matcher_qorder *q, uint32_t slot,
                         double *distance_min);

/* The same given the citizen's hot record (h is matcher_hot_of(slot)). */
unsigned matcher_qfilter_hot(const matcher_qorder *q, const matcher_hot *h,
                             uint32_t slot, double *distance_min);

/* The filters the hot record decides alone: every one but the languages
 * other than Danish (the search checks those when it reads the cold record
 * to score, and only for citizens who can still enter; the English bucket
 * has already ruled out those whose English is too low). */
unsigned matcher_qfilter_place(const matcher_qorder *q, const matcher_hot *h,
                               double *distance_min);

/* The languages other than Danish (MATCHER_FAIL_LANGUAGE or 0). */
unsigned matcher_qfilter_languages(const matcher_qorder *q, uint32_t slot);

/* The score of the citizen in slot for o, given the distance that
 * matcher_filter found; parts (may be NULL) gets every part. */
double matcher_score(const matcher_index_t *ix, const matcher_order *o,
                     uint32_t slot, const matcher_ctx *ctx, double distance_km,
                     matcher_parts *parts);

/* The occupation part of the score: MATCHER_W_OCCUPATION if the citizen
 * wishes for or holds the order's occupation, half of it for another in
 * its ISCO group, else 0. */
double matcher_occupation_part(const struct matcher_order_rec *r,
                               const struct matcher_cold *p);

/* The same from the citizen's cold and hot records (what the kernel has
 * at hand: no look-up by slot). */
double matcher_score_rec(const matcher_order *o, const struct matcher_cold *p,
                         const matcher_hot *h, const matcher_ctx *ctx,
                         double distance_km, matcher_parts *parts);

/* Credit of a skill held at level for a minimum of min_level. */
static inline unsigned
matcher_credit(unsigned level, unsigned min_level)
{
    if (level == 0)
        return 0;
    if (min_level == 0 || level >= min_level)
        return MATCHER_CREDIT_FULL;
    return MATCHER_CREDIT_FULL / 2 * level / min_level;
}

/* Recency of a skill last used in year (minus 1900; 0 unknown), in
 * tenths. */
static inline unsigned
matcher_recency(unsigned year, int now)
{
    int age;

    if (year == 0)
        return 5;
    age = now - (int) (year + 1900);
    if (age <= 1)
        return 10;
    return age >= 11 ? 0 : (unsigned) (11 - age);
}

/* The level at which the citizen holds term, 0 if not. */
unsigned matcher_cold_level(const struct matcher_cold *p, uint16_t term);

/* Whether the citizen in slot, as the index holds them now, is a
 * candidate of the order rec: holds one of its skills, or its occupation,
 * or an occupation of its ISCO group (docs/matching.md section 1). No one
 * else can be in its list, whatever else about them changes. */
bool matcher_shares_term(const matcher_index_t *ix, uint32_t slot,
                         const struct matcher_order_rec *rec);

/* One line of an explanation. */
typedef struct matcher_skill_match {
    uint16_t term;
    uint8_t required_level;
    uint8_t citizen_level; /* 0: missing */
    bool essential;
} matcher_skill_match;

/* Splits the order's skills into those the citizen holds (matched, any
 * level, in the order's order) and the essential ones they lack
 * (missing). Arrays of n_ess + n_opt entries. */
void matcher_explain(const matcher_index_t *ix, const matcher_order *o,
                     uint32_t slot, matcher_skill_match *matched,
                     size_t *n_matched, matcher_skill_match *missing,
                     size_t *n_missing);

#endif
