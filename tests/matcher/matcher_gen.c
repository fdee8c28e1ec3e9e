/* matcher_gen.c - random populations for tests (see matcher_gen.h). */
#include "matcher_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/dk.h"
#include "jm/mem.h"
#include "matcher_dict.h"

#define TODAY 20780 /* 2026-11-23 */

static const uint16_t ranges[] = {5, 10, 15, 20, 25, 30, 40, 50, 75, 100};

uint64_t
gen_next(gen_t *g)
{
    /* xorshift64*: fast, and good enough to spread test data. */
    g->state ^= g->state >> 12;
    g->state ^= g->state << 25;
    g->state ^= g->state >> 27;
    return g->state * 2685821657736338717ULL;
}

unsigned
gen_below(gen_t *g, unsigned n)
{
    return (unsigned) ((gen_next(g) >> 32) % n);
}

static double
gen_unit(gen_t *g)
{
    return (double) (gen_next(g) >> 11) / 9007199254740992.0;
}

void
gen_init(gen_t *g, const gen_opts *opts)
{
    double sum = 0.0;

    memset(g, 0, sizeof(*g));
    g->opts = *opts;
    g->state = opts->seed * 2654435761ULL + 88172645463325252ULL;
    g->cdf = jm_xmalloc(opts->vocab * sizeof(double));
    for (unsigned i = 0; i < opts->vocab; i++) {
        sum += 1.0 / pow(i + 1, opts->zipf);
        g->cdf[i] = sum;
    }
    for (unsigned i = 0; i < opts->vocab; i++)
        g->cdf[i] /= sum;
    if (opts->esco != NULL) {
        size_t n = jm_esco_occupation_count(opts->esco);

        g->occ_cdf = jm_xmalloc(n * sizeof(double));
        sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            sum += 1.0 / pow((double) (i + 1), opts->zipf);
            g->occ_cdf[i] = sum;
        }
        for (size_t i = 0; i < n; i++)
            g->occ_cdf[i] /= sum;
    }
}

void
gen_release(gen_t *g)
{
    free(g->cdf);
    free(g->occ_cdf);
    g->cdf = g->occ_cdf = NULL;
}

static unsigned
zipf_skill(gen_t *g)
{
    double u = gen_unit(g);
    unsigned lo = 0, hi = g->opts.vocab - 1;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (g->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* An ESCO occupation, Zipf over a fixed scramble of ESCO's order. */
static unsigned
esco_occupation(gen_t *g)
{
    size_t n = jm_esco_occupation_count(g->opts.esco);
    double u = gen_unit(g);
    size_t lo = 0, hi = n - 1;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (g->occ_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (unsigned) (lo * 7919 % n);
}

static uint16_t
esco_term(matcher_index_t *ix, const char *uri)
{
    int id = matcher_dict_find(ix->dict, uri, strlen(uri));

    if (id >= 0)
        return (uint16_t) id;
    id = (int) matcher_dict_count(ix->dict);
    JM_ASSERT(matcher_dict_add(ix->dict, (uint16_t) id, uri, strlen(uri)) == 0);
    return (uint16_t) id;
}

/* A skill of occupation occ (essential with probability 2/3 if it has
 * both kinds), or from the global Zipf if it has none. */
static uint16_t
esco_skill(gen_t *g, matcher_index_t *ix, unsigned occ, bool *essential)
{
    const uint32_t *ess, *opt;
    size_t ne = jm_esco_occupation_essential(g->opts.esco, occ, &ess);
    size_t no = jm_esco_occupation_optional(g->opts.esco, occ, &opt);
    uint32_t skill;

    if (ne + no == 0)
        skill = zipf_skill(g) % (unsigned) jm_esco_skill_count(g->opts.esco);
    else if (no == 0 || (ne > 0 && gen_below(g, 3) < 2))
        skill = ess[gen_below(g, (unsigned) ne)];
    else
        skill = opt[gen_below(g, (unsigned) no)];
    if (essential != NULL)
        *essential = ne > 0 && skill == ess[0];
    return esco_term(ix, jm_esco_skill_uri(g->opts.esco, skill));
}

static uint16_t
term(matcher_index_t *ix, const char *kind, unsigned n)
{
    char uri[96];
    int id;

    snprintf(uri, sizeof(uri),
             "http://data.europa.eu/esco/%s/%08x-0000-4000-8000-%012x", kind, n,
             n);
    id = matcher_dict_find(ix->dict, uri, strlen(uri));
    if (id >= 0)
        return (uint16_t) id;
    id = (int) matcher_dict_count(ix->dict);
    JM_ASSERT(matcher_dict_add(ix->dict, (uint16_t) id, uri, strlen(uri)) == 0);
    return (uint16_t) id;
}

static void
place(gen_t *g, float *lat, float *lon, uint16_t *muni)
{
    const jm_dk_postcode *pc;

    do {
        pc = jm_dk_postcode_at(gen_below(g, (unsigned) jm_dk_postcode_count()));
    } while (!pc->has_coordinates);
    *lat = (float) (pc->latitude + (gen_unit(g) - 0.5) * 0.04);
    *lon = (float) (pc->longitude + (gen_unit(g) - 0.5) * 0.06);
    *muni = (uint16_t) atoi(pc->municipality_code);
}

static int
pskill_cmp(const void *a, const void *b)
{
    const struct matcher_pskill *x = a, *y = b;

    return (x->term > y->term) - (x->term < y->term);
}

static uint32_t
make_profile(gen_t *g, matcher_index_t *ix, const char *id)
{
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    struct matcher_profile_rec *r = (struct matcher_profile_rec *) buf;
    struct matcher_pskill *skills = (struct matcher_pskill *) (r + 1);
    struct matcher_pocc *occs;
    struct matcher_lang *langs;
    unsigned n, m = 0, span = g->opts.skills_max - g->opts.skills_min + 1;
    unsigned occ;

    memset(r, 0, sizeof(*r));
    r->format = MATCHER_REC_PROFILE;
    /* Wage subsidy (kinds 2 and 3, private and public employer) goes by
     * the citizen's target group, not the employer: both or neither. */
    r->kinds = 1u << 1 | (gen_below(g, 2) ? 1u << 2 | 1u << 3 : 0) |
               (gen_below(g, 2) ? 1u << 4 : 0) |
               (gen_below(g, 10) == 0 ? 1u << 5 : 0);
    if (gen_below(g, 20) == 0)
        r->kinds = 1u << 5 | 1u << 4; /* flex job only */
    r->hours = (uint8_t) (15 + gen_below(g, 26));
    r->range_km = ranges[gen_below(g, JM_COUNTOF(ranges))];
    r->licences = (uint16_t) ((gen_below(g, 10) < 3 ? 1u << 1 : 0) |
                              (gen_below(g, 10) == 0 ? 1u << 8 : 0));
    place(g, &r->lat, &r->lon, &r->home_muni);
    r->flags = MATCHER_PF_LOCATION | (gen_below(g, 2) ? MATCHER_PF_CONSENT : 0);
    r->progression = gen_below(g, 10) < 7 ? MATCHER_PROGRESS_NONE
                                          : (uint8_t) gen_below(g, 201);
    r->available_from = gen_below(g, 10) < 7
                            ? MATCHER_DATE_NONE
                            : TODAY - 60 + (int32_t) gen_below(g, 120);
    n = g->opts.skills_min + gen_below(g, span);
    occ = g->opts.esco ? esco_occupation(g) : 0;
    for (unsigned i = 0; i < n; i++) {
        if (g->opts.esco != NULL && gen_below(g, 5) > 0) {
            /* From their occupation, at a working level. */
            skills[i].term = esco_skill(g, ix, occ, NULL);
            skills[i].level = (uint8_t) (2 + gen_below(g, 4));
        } else {
            skills[i].term = term(ix, "skill", zipf_skill(g));
            skills[i].level = (uint8_t) (1 + gen_below(g, 5));
        }
        skills[i].year =
            (uint8_t) (gen_below(g, 8) == 0 ? 0 : 110 + gen_below(g, 17));
    }
    qsort(skills, n, sizeof(*skills), pskill_cmp);
    for (unsigned i = 0; i < n; i++) {
        if (m == 0 || skills[m - 1].term != skills[i].term)
            skills[m++] = skills[i];
    }
    r->n_skills = (uint8_t) m;
    occs = (struct matcher_pocc *) (skills + m);
    r->n_occs = (uint8_t) gen_below(g, 3);
    for (unsigned i = 0; i < r->n_occs; i++) {
        unsigned o2 = gen_below(g, g->opts.occupations);

        if (g->opts.esco != NULL) {
            o2 = i == 0 ? occ : esco_occupation(g);
            occs[i].term =
                esco_term(ix, jm_esco_occupation_uri(g->opts.esco, o2));
            occs[i].isco =
                (uint16_t) atoi(jm_esco_occupation_isco(g->opts.esco, o2));
        } else {
            occs[i].term = term(ix, "occupation", o2);
            occs[i].isco = (uint16_t) (1000 + o2 % 40);
        }
        occs[i].held = (uint16_t) gen_below(g, 2);
    }
    if (r->n_occs == 2 && occs[0].term == occs[1].term)
        r->n_occs = 1;
    langs = (struct matcher_lang *) (occs + r->n_occs);
    if (gen_below(g, 10) < 9) {
        langs[r->n_langs].code[0] = 'd';
        langs[r->n_langs].code[1] = 'a';
        langs[r->n_langs++].level = (uint8_t) (2 + gen_below(g, 6));
    }
    if (gen_below(g, 2)) {
        langs[r->n_langs].code[0] = 'e';
        langs[r->n_langs].code[1] = 'n';
        langs[r->n_langs++].level = (uint8_t) (1 + gen_below(g, 7));
    }
    r->id_len = (uint8_t) strlen(id);
    memcpy(langs + r->n_langs, id, r->id_len);
    return matcher_index_put_profile(ix, r, matcher_profile_size(r));
}

uint32_t
gen_profile(gen_t *g, matcher_index_t *ix)
{
    char id[32];
    uint32_t slot;

    /* A clone: the same citizen under another id, so that scores tie. */
    if (g->next_profile > 0 && gen_below(g, 1000) < g->opts.clones) {
        uint32_t from = gen_below(g, ix->pused);

        if (matcher_slot_live(ix, from)) {
            _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
            struct matcher_profile_rec *r = (struct matcher_profile_rec *) buf;
            size_t size = matcher_index_profile_record(ix, from, buf);

            snprintf(id, sizeof(id), "p%07u", g->next_profile++);
            size -= r->id_len;
            r->id_len = (uint8_t) strlen(id);
            memcpy(buf + size, id, r->id_len);
            return matcher_index_put_profile(ix, r, size + r->id_len);
        }
    }
    snprintf(id, sizeof(id), "p%07u", g->next_profile++);
    slot = make_profile(g, ix, id);
    return slot;
}

void
gen_update_profile(gen_t *g, matcher_index_t *ix, uint32_t slot)
{
    char id[72];
    size_t len;
    const char *old = matcher_slot_id(ix, slot, &len);

    memcpy(id, old, len);
    id[len] = '\0';
    JM_ASSERT(make_profile(g, ix, id) == slot);
}

uint32_t
gen_order(gen_t *g, matcher_index_t *ix)
{
    _Alignas(8) uint8_t buf[MATCHER_ORDER_REC_MAX];
    struct matcher_order_rec *r = (struct matcher_order_rec *) buf;
    struct matcher_oskill *skills = (struct matcher_oskill *) (r + 1);
    struct matcher_lang *langs;
    unsigned span = g->opts.oskills_max - g->opts.oskills_min + 1;
    unsigned n = g->opts.oskills_min + gen_below(g, span), m = 0, ess;
    char id[32], *title;
    unsigned occ = gen_below(g, g->opts.occupations);

    memset(r, 0, sizeof(*r));
    r->format = MATCHER_REC_ORDER;
    r->kind = (uint8_t) (gen_below(g, 10) < 8 ? 1 : 2 + gen_below(g, 4));
    r->hours = (uint8_t) (10 + gen_below(g, 28));
    r->positions =
        (uint16_t) (1 + (gen_below(g, 4) == 0 ? gen_below(g, 4) : 0));
    place(g, &r->lat, &r->lon, &r->owner_muni);
    r->flags = MATCHER_OF_LOCATION;
    r->licences = (uint16_t) (gen_below(g, 10) == 0 ? 1u << 1 : 0);
    if (g->opts.esco != NULL) {
        occ = esco_occupation(g);
        r->occupation =
            esco_term(ix, jm_esco_occupation_uri(g->opts.esco, occ));
        r->isco = (uint16_t) atoi(jm_esco_occupation_isco(g->opts.esco, occ));
    } else {
        r->occupation = term(ix, "occupation", occ);
        r->isco = (uint16_t) (1000 + occ % 40);
    }
    r->start = gen_below(g, 2) ? MATCHER_DATE_NONE
                               : TODAY + (int32_t) gen_below(g, 90);
    for (unsigned i = 0; i < n; i++) {
        uint16_t t = g->opts.esco != NULL && gen_below(g, 10) > 0
                         ? esco_skill(g, ix, occ, NULL)
                         : term(ix, "skill", zipf_skill(g));
        unsigned j;

        for (j = 0; j < m && skills[j].term != t; j++)
            ;
        if (j < m)
            continue;
        skills[m].term = t;
        skills[m].min_level =
            (uint8_t) (g->opts.esco ? gen_below(g, 4) : gen_below(g, 6));
        m++;
    }
    /* About two thirds essential. */
    ess = m - m / 3;
    for (unsigned i = 0; i < m; i++)
        skills[i].essential = i < ess;
    r->n_ess = (uint8_t) ess;
    r->n_opt = (uint8_t) (m - ess);
    langs = (struct matcher_lang *) (skills + m);
    if (gen_below(g, 10) < 3) {
        langs[0].code[0] = 'd';
        langs[0].code[1] = 'a';
        langs[0].level = 3;
        r->n_langs = 1;
    }
    if (gen_below(g, 10) < 2) { /* English, at any level (0: any) */
        langs[r->n_langs].code[0] = 'e';
        langs[r->n_langs].code[1] = 'n';
        langs[r->n_langs++].level = (uint8_t) gen_below(g, 8);
    }
    snprintf(id, sizeof(id), "o%06u", g->next_order++);
    r->id_len = (uint8_t) strlen(id);
    memcpy(langs + r->n_langs, id, r->id_len);
    title = (char *) (langs + r->n_langs) + r->id_len;
    memcpy(title, "Job", 3);
    r->title_len = 3;
    return matcher_index_put_order(ix, r, matcher_order_size(r));
}

void
gen_populate(gen_t *g, matcher_index_t *ix)
{
    for (unsigned i = 0; i < g->opts.profiles; i++)
        gen_profile(g, ix);
    for (unsigned i = 0; i < g->opts.orders; i++)
        gen_order(g, ix);
}

void
gen_populate_bulk(gen_t *g, matcher_index_t *ix)
{
    matcher_index_reserve(ix, g->opts.profiles, g->opts.orders);
    matcher_index_bulk_begin(ix);
    for (unsigned i = 0; i < g->opts.profiles; i++)
        gen_profile(g, ix);
    matcher_index_bulk_end(ix);
    for (unsigned i = 0; i < g->opts.orders; i++)
        gen_order(g, ix);
}
