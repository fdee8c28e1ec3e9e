/* sample_citizen.c - one generated citizen: personal data, the pseudonymous
 * profile and a few progression measurements.
 *
 * The shares below (70 % full time, 65 % with a driving licence, ...) are
 * rough figures chosen to look like a Danish jobcentre's caseload, not
 * statistics; what matters is that the values are valid, varied and that
 * a citizen drawn from an occupation mostly fits that occupation's orders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/mem.h"
#include "sample_internal.h"

#define MAX_SKILLS 40 /* well under any service limit; 10-30 in zipf mode */

/* Target groups of the default list and how often each occurs; a code the
 * table does not know (a newer list) still occurs, rarely. */
static const struct {
    const char *code;
    unsigned weight;
} group_weights[] = {
    {"jobparat", 50},  {"aktivitetsparat", 18},
    {"sygemeldt", 10}, {"integration", 8},
    {"ung", 8},        {"fleksjobvisiteret", 6},
};

static const jm_dk_target_group *
draw_target_group(jm_sample_rng *rng)
{
    const char *list = jm_dk_target_group_default_list();
    const jm_dk_target_group *groups[32];
    unsigned weights[32];
    size_t count = 0;

    for (size_t i = 0; i < jm_dk_target_group_count() && count < 32; i++) {
        const jm_dk_target_group *g = jm_dk_target_group_at(i);

        if (strcmp(g->list, list) != 0)
            continue;
        weights[count] = 2;
        for (size_t k = 0; k < JM_COUNTOF(group_weights); k++) {
            if (strcmp(g->code, group_weights[k].code) == 0)
                weights[count] = group_weights[k].weight;
        }
        groups[count++] = g;
    }
    JM_ASSERT(count > 0);
    return groups[sample_weighted(rng, weights, count)];
}

/* A value of values[] drawn with the matching weights[]. */
#define DRAW(rng, values, weights) \
    ((values)[sample_weighted((rng), (weights), JM_COUNTOF(weights))])

static uint32_t
draw_year(const struct jm_sample *sample, jm_sample_rng *rng)
{
    static const unsigned ago[] = {40, 25, 15, 8, 5, 3, 1, 1, 1, 1};

    if (jm_sample_rng_percent(rng, 5))
        return 0; /* not known */
    return (uint32_t) (sample->today_year -
                       (int) sample_weighted(rng, ago, JM_COUNTOF(ago)));
}

/* The CPR number of citizen index: a distinct (birth date, serial) per
 * index below the space (sample_internal.h). Writes "DDMMYY-SSSS". */
static bool
make_cpr(const struct jm_sample *sample, uint64_t index, char cpr[32])
{
    uint64_t x = (sample->cpr_a * (index % sample->cpr_space) + sample->cpr_b) %
                 sample->cpr_space;
    unsigned serial = (unsigned) (x % 4000);
    char date[16];
    int year, month, day;

    jm_date_format(sample->birth_first + (int32_t) (x / 4000), date,
                   sizeof(date));
    year = atoi(date); /* "YYYY-MM-DD" */
    month = atoi(date + 5);
    day = atoi(date + 8);
    /* 7th digit 0-3: born 1900-1999; 5-8: born 2000-2057. */
    if (year >= 2000)
        serial += 5000;
    (void) snprintf(cpr, 32, "%02d%02d%02d-%04u", day, month, year % 100,
                    serial);
    return serial % 2 == 0; /* an even last digit: female */
}

static void
fill_personal(const struct jm_sample *sample, jm_sample_citizen *c,
              uint64_t index, jm_sample_rng *rng)
{
    char cpr[32], first_ascii[64], last_ascii[96];
    bool female = make_cpr(sample, index, cpr);
    const char *first = sample_first_name(rng, female);
    const char *last = sample_surname(rng);
    char *surname =
        jm_sample_rng_percent(rng, 10)
            ? sample_printf(c->arena, "%s %s", last, sample_surname(rng))
            : (char *) last;

    sample_ascii_fold(first, first_ascii, sizeof(first_ascii));
    sample_ascii_fold(surname, last_ascii, sizeof(last_ascii));
    for (char *p = last_ascii; *p; p++) {
        if (*p == ' ')
            *p = '.';
    }
    c->personal.cpr = sample_printf(c->arena, "%s", cpr);
    c->personal.name = sample_printf(c->arena, "%s %s", first, surname);
    /* example.dk is reserved for examples: no mail reaches anyone. */
    c->personal.email =
        sample_printf(c->arena, "%s.%s.%llu@example.dk", first_ascii,
                      last_ascii, (unsigned long long) index);
}

static void
add_skill(jm_sample_citizen *c, uint32_t skill, uint32_t level, uint32_t year,
          const jm_esco_t *esco)
{
    Jobmatch__V1__CitizenProfile *p = &c->profile;
    Jobmatch__V1__SkillLevel *s = sample_alloc(c->arena, sizeof(*s));

    jobmatch__v1__skill_level__init(s);
    s->skill_uri = (char *) jm_esco_skill_uri(esco, skill);
    s->level = level;
    s->last_used_year = year;
    c->skill_index[p->n_skills] = skill;
    p->skills[p->n_skills++] = s;
}

static void
fill_skills(const struct jm_sample *sample, jm_sample_citizen *c,
            jm_sample_rng *rng)
{
    static const uint32_t levels[] = {1, 2, 3, 4, 5};
    static const unsigned essential_w[] = {5, 20, 40, 25, 10};
    static const unsigned optional_w[] = {15, 35, 35, 15, 0};
    static const unsigned noise_w[] = {40, 40, 20, 0, 0};
    static const unsigned zipf_w[] = {10, 25, 35, 20, 10};
    const jm_esco_t *esco = sample->esco;
    uint32_t picked[MAX_SKILLS];
    const uint32_t *ess, *opt;
    size_t ne, no, k;

    c->profile.skills = sample_alloc(c->arena, MAX_SKILLS * sizeof(void *));
    c->skill_index = sample_alloc(c->arena, MAX_SKILLS * sizeof(uint32_t));
    if (sample->skills == JM_SAMPLE_SKILLS_ZIPF) {
        size_t want = (size_t) jm_sample_rng_range(rng, 10, 30);

        while (c->profile.n_skills < want) {
            uint32_t s = sample_zipf_skill(sample, rng);

            if (!sample_contains(c->skill_index, c->profile.n_skills, s))
                add_skill(c, s, DRAW(rng, levels, zipf_w),
                          draw_year(sample, rng), esco);
        }
        return;
    }
    /* Most of the occupation's essential skills (60-95 %, at most 28), a
     * few optional ones, and 0-4 unrelated skills as noise. */
    ne = jm_esco_occupation_essential(esco, c->occupation, &ess);
    no = jm_esco_occupation_optional(esco, c->occupation, &opt);
    k = (size_t) (ne * (size_t) jm_sample_rng_range(rng, 60, 95) + 50) / 100;
    k = k < 3 ? (ne < 3 ? ne : 3) : k > 28 ? 28 : k;
    sample_pick(rng, ess, ne, k, picked);
    for (size_t i = 0; i < k; i++)
        add_skill(c, picked[i], DRAW(rng, levels, essential_w),
                  draw_year(sample, rng), esco);
    k = (size_t) jm_sample_rng_range(rng, 0, 5);
    k = k > no ? no : k;
    sample_pick(rng, opt, no, k, picked);
    for (size_t i = 0; i < k; i++)
        add_skill(c, picked[i], DRAW(rng, levels, optional_w),
                  draw_year(sample, rng), esco);
    for (k = (size_t) jm_sample_rng_range(rng, 0, 4); k > 0; k--) {
        uint32_t s =
            (uint32_t) jm_sample_rng_below(rng, jm_esco_skill_count(esco));
        /* Noise is old: a hobby, a job long ago. */
        uint32_t year = (uint32_t) (sample->today_year -
                                    (int) jm_sample_rng_range(rng, 2, 12));

        if (!sample_contains(c->skill_index, c->profile.n_skills, s))
            add_skill(c, s, DRAW(rng, levels, noise_w), year, esco);
    }
}

static void
fill_occupations(const struct jm_sample *sample, jm_sample_citizen *c,
                 jm_sample_rng *rng)
{
    Jobmatch__V1__CitizenProfile *p = &c->profile;
    uint32_t related = sample_related_occupation(sample, c->occupation, rng);
    const jm_esco_t *esco = sample->esco;

    p->wished_occupations = sample_alloc(c->arena, 2 * sizeof(char *));
    p->held_occupations = sample_alloc(c->arena, 1 * sizeof(char *));
    if (jm_sample_rng_percent(rng, 85))
        p->wished_occupations[p->n_wished_occupations++] =
            (char *) jm_esco_occupation_uri(esco, c->occupation);
    if (related != c->occupation && jm_sample_rng_percent(rng, 20))
        p->wished_occupations[p->n_wished_occupations++] =
            (char *) jm_esco_occupation_uri(esco, related);
    if (jm_sample_rng_percent(rng, 75)) {
        uint32_t held =
            jm_sample_rng_percent(rng, 80) ? c->occupation : related;

        p->held_occupations[p->n_held_occupations++] =
            (char *) jm_esco_occupation_uri(esco, held);
    }
}

static void
add_language(jm_sample_citizen *c, const char *code,
             Jobmatch__V1__LanguageLevel level)
{
    Jobmatch__V1__LanguageSkill *l = sample_alloc(c->arena, sizeof(*l));

    jobmatch__v1__language_skill__init(l);
    l->language = (char *) code;
    l->level = level;
    c->profile.languages[c->profile.n_languages++] = l;
}

static void
fill_languages(jm_sample_citizen *c, bool newcomer, jm_sample_rng *rng)
{
    static const Jobmatch__V1__LanguageLevel danish[] = {
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_NATIVE,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_C2,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_C1,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B2,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_A2,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_A1,
    };
    static const unsigned resident_w[] = {80, 5, 7, 5, 3, 0, 0};
    static const unsigned newcomer_w[] = {0, 0, 0, 10, 30, 35, 25};
    static const Jobmatch__V1__LanguageLevel english[] = {
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B2,
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_C1,
    };
    static const unsigned english_w[] = {40, 40, 20};
    /* Mother tongues common among newcomers to Danish jobcentres. */
    static const char *const mother[] = {"ar", "uk", "fa", "so", "ti",
                                         "tr", "pl", "ro", "ur"};

    c->profile.languages = sample_alloc(c->arena, 3 * sizeof(void *));
    add_language(c, "da",
                 newcomer ? DRAW(rng, danish, newcomer_w)
                          : DRAW(rng, danish, resident_w));
    if (newcomer)
        add_language(c, mother[jm_sample_rng_below(rng, JM_COUNTOF(mother))],
                     JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_NATIVE);
    if (jm_sample_rng_percent(rng, newcomer ? 30 : 65))
        add_language(c, "en", DRAW(rng, english, english_w));
}

static void
add_licence(Jobmatch__V1__CitizenProfile *p, Jobmatch__V1__Licence licence)
{
    p->licences[p->n_licences++] = licence;
}

static void
fill_licences(const struct jm_sample *sample, jm_sample_citizen *c,
              jm_sample_rng *rng)
{
    const char *isco = jm_esco_occupation_isco(sample->esco, c->occupation);
    Jobmatch__V1__CitizenProfile *p = &c->profile;
    bool driver = strncmp(isco, "833", 3) == 0 || strcmp(isco, "8322") == 0;

    p->licences = sample_alloc(c->arena, 4 * sizeof(*p->licences));
    if (driver || jm_sample_rng_percent(rng, 65))
        add_licence(p, JOBMATCH__V1__LICENCE__LICENCE_DRIVING_B);
    if (strcmp(isco, "8332") == 0 && jm_sample_rng_percent(rng, 90))
        add_licence(p, jm_sample_rng_percent(rng, 55)
                           ? JOBMATCH__V1__LICENCE__LICENCE_DRIVING_CE
                           : JOBMATCH__V1__LICENCE__LICENCE_DRIVING_C);
    if (strcmp(isco, "8331") == 0 && jm_sample_rng_percent(rng, 85))
        add_licence(p, JOBMATCH__V1__LICENCE__LICENCE_DRIVING_D);
    if (sample_is_logistics(isco) ? jm_sample_rng_percent(rng, 55)
                                  : jm_sample_rng_percent(rng, 3))
        add_licence(p, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
}

static void
fill_progress(const struct jm_sample *sample, jm_sample_citizen *c,
              const char *initials, bool far_from_work, jm_sample_rng *rng)
{
    uint32_t dims[5] = {1, 2, 3, 4, 5}, picked[3];
    size_t count = (size_t) jm_sample_rng_range(rng, 1, 3);

    sample_pick(rng, dims, 5, count, picked);
    c->progress = sample_alloc(c->arena, count * sizeof(void *));
    for (size_t i = 0; i < count; i++) {
        Jobmatch__V1__ProgressMeasurement *m =
            sample_alloc(c->arena, sizeof(*m));
        char date[16];

        jobmatch__v1__progress_measurement__init(m);
        m->dimension = (Jobmatch__V1__ProgressDimension) picked[i];
        m->score = (uint32_t) (far_from_work ? jm_sample_rng_range(rng, 2, 6)
                                             : jm_sample_rng_range(rng, 4, 10));
        jm_date_format(sample->today -
                           (int32_t) jm_sample_rng_range(rng, 1, 300),
                       date, sizeof(date));
        m->date = sample_printf(c->arena, "%s", date);
        m->assessor = sample_printf(c->arena, "%s", initials);
        c->progress[c->progress_count++] = m;
    }
}

jm_sample_citizen *
jm_sample_citizen_new(const jm_sample_t *sample, uint64_t index)
{
    static const uint32_t travel[] = {10, 20, 30, 40, 50, 75, 100};
    static const unsigned travel_w[] = {15, 25, 25, 15, 10, 7, 3};
    static const uint32_t hours[] = {37, 30, 25, 20, 15};
    static const unsigned hours_w[] = {70, 10, 8, 7, 5};
    struct jm_sample_arena *arena = sample_arena_new();
    jm_sample_citizen *c = sample_alloc(arena, sizeof(*c));
    Jobmatch__V1__CitizenProfile *p = &c->profile;
    const jm_dk_target_group *group;
    Jobmatch__V1__Consent *consent;
    char date[16], initials[9];
    jm_sample_rng rng;
    bool flex, far;

    c->arena = arena;
    jobmatch__v1__personal_data__init(&c->personal);
    jobmatch__v1__citizen_profile__init(p);
    sample_item_rng(sample, STREAM_CITIZEN, index, &rng);
    c->occupation = sample_occupation(sample, &rng);
    group = draw_target_group(&rng);
    flex = strcmp(group->code, "fleksjobvisiteret") == 0;
    far = strcmp(group->code, "aktivitetsparat") == 0 ||
          strcmp(group->code, "sygemeldt") == 0;
    fill_personal(sample, c, index, &rng);

    p->home = sample_location(arena, sample_postcode(sample, &rng));
    p->max_travel_km = DRAW(&rng, travel, travel_w);
    p->hours_per_week = flex ? (uint32_t) jm_sample_rng_range(&rng, 10, 25)
                             : DRAW(&rng, hours, hours_w);
    if (jm_sample_rng_percent(&rng, 30)) {
        jm_date_format(sample->today +
                           (int32_t) jm_sample_rng_range(&rng, 1, 60),
                       date, sizeof(date));
        p->available_from = sample_printf(arena, "%s", date);
    }
    p->target_group = (char *) group->code;
    p->target_group_list = (char *) group->list;
    p->job_kinds = sample_alloc(arena, 8 * sizeof(*p->job_kinds));
    for (int kind = 1; kind < 8; kind++) {
        if (group->job_kinds & (UINT32_C(1) << kind))
            p->job_kinds[p->n_job_kinds++] = (Jobmatch__V1__JobKind) kind;
    }
    fill_skills(sample, c, &rng);
    fill_occupations(sample, c, &rng);
    fill_languages(c, strcmp(group->code, "integration") == 0, &rng);
    fill_licences(sample, c, &rng);

    consent = sample_alloc(arena, sizeof(*consent));
    jobmatch__v1__consent__init(consent);
    consent->neighbour_matching = jm_sample_rng_percent(&rng, 85);
    jm_date_format(sample->today - (int32_t) jm_sample_rng_range(&rng, 0, 365),
                   date, sizeof(date));
    consent->given_on = sample_printf(arena, "%s", date);
    p->consent = consent;
    p->caseworker = sample_staff(sample, arena, &rng, 'W',
                                 p->home->municipality_code, initials);
    if (jm_sample_rng_percent(&rng, 30))
        fill_progress(sample, c, initials, far, &rng);
    return c;
}

void
jm_sample_citizen_destroy(jm_sample_citizen **citizen_p)
{
    jm_sample_citizen *c = *citizen_p;

    if (c == NULL)
        return;
    /* The citizen itself lives in its arena. */
    sample_arena_free(c->arena);
    *citizen_p = NULL;
}
