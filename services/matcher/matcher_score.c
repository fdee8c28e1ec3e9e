/* matcher_score.c - hard filters and the score (see matcher_score.h).
 *
 * These two functions are the inner loop of every query, so the filters
 * run cheapest first, on the citizen's 24-byte hot record (which holds the
 * Danish level, the language most orders require), and the distance is
 * first bounded from below without trigonometry (matcher_min_km) before
 * the haversine. */
#include "matcher_score.h"

#include <math.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"

#define KM_PER_DEGREE_LAT 111.19 /* a hair under 2 pi R / 360 */

void
matcher_ctx_now(matcher_ctx *ctx)
{
    char date[16];

    ctx->today = jm_clock_today();
    jm_date_format(ctx->today, date, sizeof(date));
    ctx->year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 +
                (date[2] - '0') * 10 + (date[3] - '0');
}

static bool
languages_ok(const struct matcher_order_rec *r, const struct matcher_cold *p)
{
    const struct matcher_lang *need = matcher_order_langs(r);
    const struct matcher_lang *have = matcher_cold_langs(p);

    for (unsigned i = 0; i < r->n_langs; i++) {
        bool found = false;

        for (unsigned j = 0; j < p->n_langs && !found; j++) {
            found = have[j].code[0] == need[i].code[0] &&
                    have[j].code[1] == need[i].code[1] &&
                    have[j].level >= need[i].level;
        }
        if (!found)
            return false;
    }
    return true;
}

/* Every filter but distance and languages other than Danish: the hot
 * record alone, cheapest checks first. */
static inline unsigned
hot_filters(const matcher_index_t *ix, const matcher_order *o,
            const matcher_hot *h, const matcher_ctx *ctx)
{
    const struct matcher_order_rec *r = o->rec;
    unsigned fails = 0;
    int32_t start;

    if (h->hours < r->hours)
        fails |= MATCHER_FAIL_HOURS;
    if (r->kind == 0 || !(h->kinds >> r->kind & 1))
        fails |= MATCHER_FAIL_KIND;
    if ((r->licences & h->licences) != r->licences)
        fails |= MATCHER_FAIL_LICENCE;
    start = r->start == MATCHER_DATE_NONE || r->start < ctx->today ? ctx->today
                                                                   : r->start;
    if ((int32_t) h->available > start)
        fails |= MATCHER_FAIL_AVAILABILITY;
    if (!matcher_share_ok(ix, r->owner_muni, o->share, h))
        fails |= MATCHER_FAIL_SHARING;
    if (o->danish > matcher_hot_danish(h) ||
        o->english > matcher_hot_english(h))
        fails |= MATCHER_FAIL_LANGUAGE;
    return fails;
}

static inline bool
located(const matcher_order *o, const matcher_hot *h)
{
    return (o->rec->flags & MATCHER_OF_LOCATION) &&
           (h->flags & MATCHER_PF_LOCATION);
}

unsigned
matcher_filter(const matcher_index_t *ix, const matcher_order *o, uint32_t slot,
               const matcher_ctx *ctx, bool all, double *distance_km)
{
    const struct matcher_order_rec *r = o->rec;
    const matcher_hot *h = matcher_hot_of(ix, slot);
    unsigned fails = hot_filters(ix, o, h, ctx);

    *distance_km = -1.0;
    if (fails != 0 && !all)
        return fails;
    if (!located(o, h)) {
        fails |= MATCHER_FAIL_DISTANCE;
    } else if (!all && matcher_min_km(ix, r->lat, r->lon, h->lat, h->lon) >
                           h->range_km) {
        /* Out of reach for sure: no trigonometry needed. */
        return fails | MATCHER_FAIL_DISTANCE;
    } else {
        *distance_km = jm_geo_distance_km(r->lat, r->lon, h->lat, h->lon);
        if (*distance_km > h->range_km)
            fails |= MATCHER_FAIL_DISTANCE;
    }
    if (fails != 0 && !all)
        return fails;
    /* Languages other than Danish are only in the cold record (the English
     * bucket above is a bound, not the level). */
    if (o->other_languages && !(fails & MATCHER_FAIL_LANGUAGE) &&
        !languages_ok(r, matcher_cold_of(ix, slot)))
        fails |= MATCHER_FAIL_LANGUAGE;
    return fails;
}

void
matcher_qorder_init(matcher_qorder *q, const matcher_index_t *ix,
                    const matcher_order *o, const matcher_ctx *ctx)
{
    const struct matcher_order_rec *r = o->rec;

    q->ix = ix;
    q->o = o;
    q->start = r->start == MATCHER_DATE_NONE || r->start < ctx->today
                   ? ctx->today
                   : r->start;
    q->licences = r->licences;
    q->owner = r->owner_muni;
    q->hours = r->hours;
    q->kind = r->kind;
    q->danish = o->danish;
    q->english = o->english;
    q->located = (r->flags & MATCHER_OF_LOCATION) != 0;
    q->other_languages = o->other_languages;
    q->lat = r->lat;
    q->lon = r->lon;
}

/* cos of a latitude from the index's table, at a table point on the side
 * that keeps a bound a bound: towards the pole (smaller) for lower
 * bounds, towards the equator (larger) for upper ones. No libm call: the
 * table covers Denmark; elsewhere the exact cosine. */
static inline double
cos_lower(const matcher_index_t *ix, double lat)
{
    double x = (lat - 54.0) * 100.0;

    if (x >= 0.0 && x < 400.0)
        return ix->cos_lat[(int) x + 1];
    return cos(lat * 3.14159265358979323846 / 180.0);
}

static inline double
cos_upper(const matcher_index_t *ix, double lat)
{
    double x = (lat - 54.0) * 100.0;

    if (x >= 0.0 && x < 401.0)
        return ix->cos_lat[(int) x];
    return cos(lat * 3.14159265358979323846 / 180.0);
}

unsigned
matcher_qfilter(const matcher_qorder *q, uint32_t slot, double *distance_min)
{
    return matcher_qfilter_hot(q, matcher_hot_of(q->ix, slot), slot,
                               distance_min);
}

unsigned
matcher_qfilter_hot(const matcher_qorder *q, const matcher_hot *h,
                    uint32_t slot, double *distance_min)
{
    unsigned fails = matcher_qfilter_place(q, h, distance_min);

    return fails != 0 ? fails : matcher_qfilter_languages(q, slot);
}

unsigned
matcher_qfilter_languages(const matcher_qorder *q, uint32_t slot)
{
    if (q->other_languages &&
        !languages_ok(q->o->rec, matcher_cold_of(q->ix, slot)))
        return MATCHER_FAIL_LANGUAGE;
    return 0;
}

unsigned
matcher_qfilter_place(const matcher_qorder *q, const matcher_hot *h,
                      double *distance_min)
{
    const matcher_index_t *ix = q->ix;
    double dy, dlon, lo, hi, range2;

    if (h->hours < q->hours)
        return MATCHER_FAIL_HOURS;
    if (q->kind == 0 || !(h->kinds >> q->kind & 1))
        return MATCHER_FAIL_KIND;
    if ((q->licences & h->licences) != q->licences)
        return MATCHER_FAIL_LICENCE;
    if ((int32_t) h->available > q->start)
        return MATCHER_FAIL_AVAILABILITY;
    if (!matcher_share_ok(ix, q->owner, q->o->share, h))
        return MATCHER_FAIL_SHARING;
    if (q->danish > matcher_hot_danish(h) ||
        q->english > matcher_hot_english(h))
        return MATCHER_FAIL_LANGUAGE;
    if (!q->located || !(h->flags & MATCHER_PF_LOCATION))
        return MATCHER_FAIL_DISTANCE;
    /* Squared bounds first (matcher_min_km, matcher_max_km): no square
     * root for those out of reach, no trigonometry for most in reach. */
    dy = ((double) h->lat - q->lat) * 111.1951;
    dlon = ((double) h->lon - q->lon) * 111.1951;
    range2 = (double) h->range_km * h->range_km;
    lo = dlon * cos_lower(ix, h->lat > q->lat ? h->lat : q->lat);
    lo = (lo * lo + dy * dy) * (0.999 * 0.999);
    if (lo > range2)
        return MATCHER_FAIL_DISTANCE;
    hi = dlon * cos_upper(ix, h->lat < q->lat ? h->lat : q->lat);
    hi = (hi * hi + dy * dy) * (1.001 * 1.001);
    if (hi <= range2) {
        *distance_min = sqrt(lo);
    } else {
        *distance_min = jm_geo_distance_km(q->lat, q->lon, h->lat, h->lon);
        if (*distance_min > h->range_km)
            return MATCHER_FAIL_DISTANCE;
    }
    return 0;
}

unsigned
matcher_filter_quick(const matcher_index_t *ix, const matcher_order *o,
                     uint32_t slot, const matcher_ctx *ctx,
                     double *distance_min)
{
    matcher_qorder q;

    matcher_qorder_init(&q, ix, o, ctx);
    return matcher_qfilter(&q, slot, distance_min);
}

double
matcher_occupation_part(const struct matcher_order_rec *r,
                        const struct matcher_cold *p)
{
    const struct matcher_cocc *occs = matcher_cold_occs(p);
    double part = 0.0;

    for (unsigned i = 0; i < p->n_occs; i++) {
        if (r->occupation != MATCHER_TERM_NONE && occs[i].term == r->occupation)
            return MATCHER_W_OCCUPATION;
        if (r->isco != 0 && occs[i].isco == r->isco)
            part = MATCHER_W_OCCUPATION * 0.5;
    }
    return part;
}

double
matcher_score(const matcher_index_t *ix, const matcher_order *o, uint32_t slot,
              const matcher_ctx *ctx, double distance_km, matcher_parts *parts)
{
    return matcher_score_rec(o, matcher_cold_of(ix, slot),
                             matcher_hot_of(ix, slot), ctx, distance_km, parts);
}

double
matcher_score_rec(const matcher_order *o, const struct matcher_cold *p,
                  const matcher_hot *h, const matcher_ctx *ctx,
                  double distance_km, matcher_parts *parts)
{
    unsigned range = h->range_km;
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_pskill *skills = matcher_cold_skills(p);
    const struct matcher_oterm *want = o->sorted;
    unsigned nw = (unsigned) r->n_ess + r->n_opt, ns = p->n_skills;
    unsigned ess = 0, opt = 0, rec = 0;
    matcher_parts x;

    /* For each of the citizen's skills the order may ask for (its bit is
     * set: about one in five of the others passes too), the first of the
     * order's skills with that term, as a merge of the two sorted lists
     * would pair them. Most skills are rejected by the bit test, a branch
     * that is rarely taken, instead of a merge's branch taken either way
     * at random. */
    for (unsigned j = 0; j < ns; j++) {
        unsigned t = skills[j].term, lo = 0, hi = nw;

        if (!(o->skill_bits[t >> 6 & 3] >> (t & 63) & 1))
            continue;
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2;

            if (want[mid].term < t)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < nw && want[lo].term == t) {
            unsigned credit =
                matcher_credit(skills[j].level, want[lo].min_level);

            if (want[lo].index < r->n_ess)
                ess += credit;
            else
                opt += credit;
            rec += matcher_recency(skills[j].year, ctx->year);
        }
    }
    x.essential =
        MATCHER_W_ESSENTIAL *
        (r->n_ess ? (double) ess / (MATCHER_CREDIT_FULL * r->n_ess) : 1.0);
    x.optional =
        MATCHER_W_OPTIONAL *
        (r->n_opt ? (double) opt / (MATCHER_CREDIT_FULL * r->n_opt) : 1.0);
    x.occupation = matcher_occupation_part(r, p);
    x.distance = 0.0;
    if (range > 0 && distance_km >= 0.0 && distance_km <= range)
        x.distance = MATCHER_W_DISTANCE * (1.0 - distance_km / range);
    x.recency = nw ? MATCHER_W_RECENCY * ((double) rec / (10.0 * nw))
                   : MATCHER_W_RECENCY;
    x.progression = MATCHER_W_PROGRESSION *
                    (h->progression == MATCHER_PROGRESS_NONE
                         ? 0.5
                         : (double) h->progression / MATCHER_PROGRESS_MAX);
    if (parts != NULL)
        *parts = x;
    return x.essential + x.optional + x.occupation + x.distance + x.recency +
           x.progression;
}

unsigned
matcher_cold_level(const struct matcher_cold *p, uint16_t term)
{
    const struct matcher_pskill *skills = matcher_cold_skills(p);
    unsigned lo = 0, hi = p->n_skills;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (skills[mid].term < term)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->n_skills && skills[lo].term == term ? skills[lo].level : 0;
}

bool
matcher_shares_term(const matcher_index_t *ix, uint32_t slot,
                    const struct matcher_order_rec *rec)
{
    const struct matcher_cold *c = matcher_cold_of(ix, slot);
    const struct matcher_cocc *occs = matcher_cold_occs(c);
    const struct matcher_oskill *asked = matcher_order_skills(rec);

    for (unsigned i = 0; i < c->n_occs; i++) {
        if ((rec->occupation != MATCHER_TERM_NONE &&
             occs[i].term == rec->occupation) ||
            (rec->isco != 0 && occs[i].isco == rec->isco))
            return true;
    }
    /* A skill held has a level of 1 to 5. */
    for (unsigned k = 0; k < (unsigned) rec->n_ess + rec->n_opt; k++)
        if (matcher_cold_level(c, asked[k].term) > 0)
            return true;
    return false;
}

void
matcher_explain(const matcher_index_t *ix, const matcher_order *o,
                uint32_t slot, matcher_skill_match *matched, size_t *n_matched,
                matcher_skill_match *missing, size_t *n_missing)
{
    const struct matcher_order_rec *r = o->rec;
    const struct matcher_oskill *skills = matcher_order_skills(r);

    *n_matched = *n_missing = 0;
    for (unsigned i = 0; i < (unsigned) r->n_ess + r->n_opt; i++) {
        matcher_skill_match m = {
            .term = skills[i].term,
            .required_level = skills[i].min_level,
            .citizen_level = (uint8_t) matcher_cold_level(
                matcher_cold_of(ix, slot), skills[i].term),
            .essential = i < r->n_ess,
        };

        if (m.citizen_level > 0)
            matched[(*n_matched)++] = m;
        else if (m.essential)
            missing[(*n_missing)++] = m;
    }
}
