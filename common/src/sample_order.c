/* sample_order.c - one generated job order and the company behind it.
 *
 * The order is cut from an ESCO occupation: its label is the title, 5-15
 * of its essential skills are required (with a minimum level), a few of its
 * optional skills are welcome, and the occupation's ISCO group decides the
 * licences (drivers, forklift work) and the company's trade word. As for
 * citizens, the shares are plausible choices, not statistics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/mem.h"
#include "sample_internal.h"

#define DRAW(rng, values, weights) \
    ((values)[sample_weighted((rng), (weights), JM_COUNTOF(weights))])

/* A Danish trade word by ISCO-08 prefix; the longest prefix wins. */
static const struct {
    const char *prefix, *word;
} trades[] = {
    {"1", "Consult"},         {"21", "Teknik"},     {"22", "Sundhed"},
    {"23", "Uddannelse"},     {"24", "Rådgivning"}, {"25", "IT"},
    {"26", "Kommunikation"},  {"3", "Teknik"},      {"32", "Klinik"},
    {"33", "Administration"}, {"35", "Data"},       {"4", "Kontorservice"},
    {"5", "Service"},         {"512", "Køkken"},    {"513", "Restaurant"},
    {"514", "Frisør"},        {"52", "Handel"},     {"53", "Omsorg"},
    {"54", "Sikkerhed"},      {"6", "Landbrug"},    {"71", "Byg"},
    {"72", "Metal"},          {"73", "Håndværk"},   {"74", "El"},
    {"75", "Fødevarer"},      {"8", "Industri"},    {"83", "Transport"},
    {"9", "Service"},         {"91", "Rengøring"},  {"92", "Gartneri"},
    {"93", "Lager"},          {"94", "Køkken"},
};

static const char *
trade_word(const char *isco)
{
    const char *word = "Service";
    size_t best = 0;

    for (size_t i = 0; i < JM_COUNTOF(trades); i++) {
        size_t len = strlen(trades[i].prefix);

        if (len > best && strncmp(isco, trades[i].prefix, len) == 0) {
            best = len;
            word = trades[i].word;
        }
    }
    return word;
}

/* The town part of a postcode name: "København K" -> "København", "Ålborg
 * SØ" -> "Ålborg" (a trailing district of capitals is dropped). */
static char *
town_name(struct jm_sample_arena *arena, const char *postcode_name)
{
    const char *space = strrchr(postcode_name, ' ');
    size_t len = strlen(postcode_name);

    if (space != NULL && strlen(space + 1) <= 4) {
        bool district = true;

        for (const char *p = space + 1; *p; p++) {
            if (*p >= 'a' && *p <= 'z')
                district = false;
        }
        if (district)
            len = (size_t) (space - postcode_name);
    }
    return sample_printf(arena, "%.*s", (int) len, postcode_name);
}

/* A CVR number that passes the modulus-11 check: weights 2,7,6,5,4,3,2,1
 * sum to a multiple of 11, so the last digit is whatever makes it so (and
 * a number whose check digit would be 10 is skipped). */
static char *
make_cvr(struct jm_sample_arena *arena, jm_sample_rng *rng)
{
    static const int weights[7] = {2, 7, 6, 5, 4, 3, 2};
    int digits[7], sum, check;

    do {
        sum = 0;
        for (int i = 0; i < 7; i++) {
            digits[i] = (int) (i == 0 ? jm_sample_rng_range(rng, 1, 9)
                                      : jm_sample_rng_range(rng, 0, 9));
            sum += weights[i] * digits[i];
        }
        check = (11 - sum % 11) % 11;
    } while (check == 10);
    return sample_printf(arena, "%d%d%d%d%d%d%d%d", digits[0], digits[1],
                         digits[2], digits[3], digits[4], digits[5], digits[6],
                         check);
}

static char *
company_name(struct jm_sample_arena *arena, const char *isco, const char *town,
             jm_sample_rng *rng)
{
    const char *trade = trade_word(isco);
    const char *surname = sample_surname(rng);

    switch (jm_sample_rng_below(rng, 6)) {
    case 0:
        return sample_printf(arena, "%s %s ApS", surname, trade);
    case 1:
        return sample_printf(arena, "%s %s A/S", town, trade);
    case 2:
        return sample_printf(arena, "%s & Søn ApS", surname);
    case 3:
        return sample_printf(
            arena, "%s %s A/S",
            jm_sample_rng_percent(rng, 50) ? "Nordisk" : "Dansk", trade);
    case 4:
        return sample_printf(arena, "%s & %s I/S", surname,
                             sample_surname(rng));
    default:
        return sample_printf(arena, "%s %s %s ApS", town, surname, trade);
    }
}

static Jobmatch__V1__SkillRequirement *
requirement(struct jm_sample_arena *arena, const jm_esco_t *esco,
            uint32_t skill, uint32_t min_level)
{
    Jobmatch__V1__SkillRequirement *r = sample_alloc(arena, sizeof(*r));

    jobmatch__v1__skill_requirement__init(r);
    r->skill_uri = (char *) jm_esco_skill_uri(esco, skill);
    r->min_level = min_level;
    return r;
}

/* Draws count distinct Zipf skills not in avoid[0..avoid_count-1]. */
static void
zipf_distinct(const struct jm_sample *sample, jm_sample_rng *rng,
              const uint32_t *avoid, size_t avoid_count, size_t count,
              uint32_t *out)
{
    size_t n = 0;

    while (n < count) {
        uint32_t s = sample_zipf_skill(sample, rng);

        if (!sample_contains(out, n, s) &&
            !sample_contains(avoid, avoid_count, s))
            out[n++] = s;
    }
}

static void
fill_skills(const struct jm_sample *sample, jm_sample_order *o,
            jm_sample_rng *rng)
{
    static const uint32_t levels[] = {0, 1, 2, 3, 4};
    static const unsigned essential_w[] = {10, 20, 40, 25, 5};
    static const unsigned optional_w[] = {60, 20, 20, 0, 0};
    const jm_esco_t *esco = sample->esco;
    Jobmatch__V1__JobOrder *order = &o->order;
    const uint32_t *ess, *opt;
    size_t ne, no, k_ess, k_opt;

    ne = jm_esco_occupation_essential(esco, o->occupation, &ess);
    no = jm_esco_occupation_optional(esco, o->occupation, &opt);
    if (sample->skills == JM_SAMPLE_SKILLS_ZIPF) {
        k_ess = (size_t) jm_sample_rng_range(rng, 5, 15);
        k_opt = (size_t) jm_sample_rng_range(rng, 0, 3);
    } else {
        /* The pool holds occupations with >= 5 essential skills. */
        k_ess =
            (size_t) jm_sample_rng_range(rng, 5, ne < 15 ? (int64_t) ne : 15);
        k_opt = (size_t) jm_sample_rng_range(rng, 0, no < 5 ? (int64_t) no : 5);
    }
    o->essential_index = sample_alloc(o->arena, k_ess * sizeof(uint32_t));
    o->optional_index = sample_alloc(o->arena, k_opt * sizeof(uint32_t));
    if (sample->skills == JM_SAMPLE_SKILLS_ZIPF) {
        zipf_distinct(sample, rng, NULL, 0, k_ess, o->essential_index);
        zipf_distinct(sample, rng, o->essential_index, k_ess, k_opt,
                      o->optional_index);
    } else {
        sample_pick(rng, ess, ne, k_ess, o->essential_index);
        sample_pick(rng, opt, no, k_opt, o->optional_index);
    }
    order->essential_skills = sample_alloc(o->arena, k_ess * sizeof(void *));
    order->optional_skills = sample_alloc(o->arena, k_opt * sizeof(void *));
    for (size_t i = 0; i < k_ess; i++)
        order->essential_skills[order->n_essential_skills++] =
            requirement(o->arena, esco, o->essential_index[i],
                        DRAW(rng, levels, essential_w));
    for (size_t i = 0; i < k_opt; i++)
        order->optional_skills[order->n_optional_skills++] =
            requirement(o->arena, esco, o->optional_index[i],
                        DRAW(rng, levels, optional_w));
}

static void
add_language(jm_sample_order *o, const char *code,
             Jobmatch__V1__LanguageLevel level)
{
    Jobmatch__V1__LanguageRequirement *l = sample_alloc(o->arena, sizeof(*l));

    jobmatch__v1__language_requirement__init(l);
    l->language = (char *) code;
    l->min_level = level;
    o->order.languages[o->order.n_languages++] = l;
}

static void
fill_requirements(jm_sample_order *o, const char *isco, jm_sample_rng *rng)
{
    Jobmatch__V1__JobOrder *order = &o->order;
    bool trainee = order->kind == JOBMATCH__V1__JOB_KIND__JOB_KIND_IGU ||
                   order->kind == JOBMATCH__V1__JOB_KIND__JOB_KIND_INTERNSHIP;
    unsigned r = (unsigned) jm_sample_rng_below(rng, 100);

    order->languages = sample_alloc(o->arena, 2 * sizeof(void *));
    if (trainee && r < 30)
        add_language(o, "da", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_A2);
    else if (!trainee && r < 35)
        add_language(o, "da", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1);
    else if (!trainee && r < 55)
        add_language(o, "da", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B2);
    if (isco[0] >= '1' && isco[0] <= '3' && jm_sample_rng_percent(rng, 30))
        add_language(o, "en", JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B2);

    order->licences = sample_alloc(o->arena, 2 * sizeof(*order->licences));
    if (strcmp(isco, "8322") == 0 ||
        (strncmp(isco, "833", 3) != 0 && jm_sample_rng_percent(rng, 8)))
        order->licences[order->n_licences++] =
            JOBMATCH__V1__LICENCE__LICENCE_DRIVING_B;
    if (strcmp(isco, "8332") == 0)
        order->licences[order->n_licences++] =
            jm_sample_rng_percent(rng, 50)
                ? JOBMATCH__V1__LICENCE__LICENCE_DRIVING_C
                : JOBMATCH__V1__LICENCE__LICENCE_DRIVING_CE;
    if (strcmp(isco, "8331") == 0)
        order->licences[order->n_licences++] =
            JOBMATCH__V1__LICENCE__LICENCE_DRIVING_D;
    if (sample_is_logistics(isco) && jm_sample_rng_percent(rng, 40))
        order->licences[order->n_licences++] =
            JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT;
}

jm_sample_order *
jm_sample_order_new(const jm_sample_t *sample, uint64_t index)
{
    static const Jobmatch__V1__JobKind kinds[] = {
        JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY,
        JOBMATCH__V1__JOB_KIND__JOB_KIND_WAGE_SUBSIDY_PRIVATE,
        JOBMATCH__V1__JOB_KIND__JOB_KIND_WAGE_SUBSIDY_PUBLIC,
        JOBMATCH__V1__JOB_KIND__JOB_KIND_INTERNSHIP,
        JOBMATCH__V1__JOB_KIND__JOB_KIND_FLEX_JOB,
        JOBMATCH__V1__JOB_KIND__JOB_KIND_IGU,
        JOBMATCH__V1__JOB_KIND__JOB_KIND_ADULT_APPRENTICE,
    };
    static const unsigned kinds_w[] = {70, 8, 5, 8, 4, 2, 3};
    static const uint32_t positions[] = {1, 2, 3, 4, 5, 8, 10};
    static const unsigned positions_w[] = {70, 15, 5, 4, 2, 2, 2};
    static const uint32_t hours[] = {37, 30, 25, 20};
    static const unsigned hours_w[] = {75, 10, 8, 7};
    struct jm_sample_arena *arena = sample_arena_new();
    jm_sample_order *o = sample_alloc(arena, sizeof(*o));
    Jobmatch__V1__JobOrder *order = &o->order;
    const jm_dk_postcode *place;
    const jm_dk_municipality *m;
    const char *isco, *label;
    int32_t deadline;
    char date[16];
    jm_sample_rng rng;

    o->arena = arena;
    jobmatch__v1__job_order__init(order);
    sample_item_rng(sample, STREAM_ORDER, index, &rng);
    o->occupation = sample_occupation(sample, &rng);
    isco = jm_esco_occupation_isco(sample->esco, o->occupation);
    label = jm_esco_occupation_label(sample->esco, o->occupation);
    order->id = sample_printf(arena, "sample-%llu-%llu",
                              (unsigned long long) sample->seed,
                              (unsigned long long) index);
    order->kind = DRAW(&rng, kinds, kinds_w);
    place = sample_postcode(sample, &rng);
    m = jm_dk_municipality_find(place->municipality_code);
    order->workplace = sample_location(arena, place);
    order->owner_municipality = (char *) place->municipality_code;
    order->cvr = make_cvr(arena, &rng);
    if (jm_sample_rng_percent(&rng, 50))
        order->p_number = sample_printf(
            arena, "1%09llu",
            (unsigned long long) jm_sample_rng_below(&rng, 1000000000));
    order->company_name =
        order->kind == JOBMATCH__V1__JOB_KIND__JOB_KIND_WAGE_SUBSIDY_PUBLIC
            ? sample_printf(arena, "%s Kommune", m->name)
            : company_name(arena, isco, town_name(arena, place->name), &rng);
    /* ESCO labels are lower case ("warehouse worker"); a title is not. */
    order->title = sample_printf(
        arena, "%c%s",
        label[0] >= 'a' && label[0] <= 'z' ? label[0] - 'a' + 'A' : label[0],
        label + 1);
    order->description =
        sample_printf(arena,
                      "Eksempel-jobordre (sample data), dannet ud fra "
                      "ESCO-stillingsbetegnelsen \"%s\" (ISCO-08 %s).",
                      label, isco);
    order->occupation_uri =
        (char *) jm_esco_occupation_uri(sample->esco, o->occupation);
    order->isco_code = (char *) isco;
    fill_skills(sample, o, &rng);
    fill_requirements(o, isco, &rng);
    order->positions = DRAW(&rng, positions, positions_w);
    order->hours_per_week =
        order->kind == JOBMATCH__V1__JOB_KIND__JOB_KIND_FLEX_JOB
            ? (uint32_t) jm_sample_rng_range(&rng, 10, 20)
            : DRAW(&rng, hours, hours_w);
    deadline = sample->today + (int32_t) jm_sample_rng_range(&rng, 14, 75);
    jm_date_format(deadline, date, sizeof(date));
    order->deadline = sample_printf(arena, "%s", date);
    if (jm_sample_rng_percent(&rng, 70)) {
        jm_date_format(deadline + (int32_t) jm_sample_rng_range(&rng, 7, 45),
                       date, sizeof(date));
        order->start_date = sample_printf(arena, "%s", date);
    }
    order->consultant =
        sample_staff(sample, arena, &rng, 'K', order->owner_municipality, NULL);
    return o;
}

void
jm_sample_order_destroy(jm_sample_order **order_p)
{
    jm_sample_order *o = *order_p;

    if (o == NULL)
        return;
    sample_arena_free(o->arena);
    *order_p = NULL;
}
