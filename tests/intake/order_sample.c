/* order_sample.c - the valid order and the frozen day of the order tests
 * (see order_sample.h). */
#include "order_sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"

jm_esco_t *esco;

void
sample_init(struct sample *s)
{
    Jobmatch__V1__JobOrder *o = &s->order;

    memset(s, 0, sizeof(*s));
    jobmatch__v1__job_order__init(o);
    jobmatch__v1__location__init(&s->workplace);
    for (size_t i = 0; i <= INTAKE_SKILLS_MAX; i++) {
        jobmatch__v1__skill_requirement__init(&s->ess[i]);
        jobmatch__v1__skill_requirement__init(&s->opt[i]);
        snprintf(s->uris[2 * i], sizeof(s->uris[0]),
                 "http://data.europa.eu/esco/skill/00000000-0000-4000-8000-"
                 "%012zu",
                 2 * i);
        snprintf(s->uris[2 * i + 1], sizeof(s->uris[0]),
                 "http://data.europa.eu/esco/skill/00000000-0000-4000-8000-"
                 "%012zu",
                 2 * i + 1);
        s->ess[i].skill_uri = s->uris[2 * i];
        s->opt[i].skill_uri = s->uris[2 * i + 1];
        s->ess_p[i] = &s->ess[i];
        s->opt_p[i] = &s->opt[i];
    }
    for (size_t i = 0; i <= INTAKE_LANGUAGES_MAX; i++) {
        static const char *const codes[] = {"da", "en", "de", "sv", "no", "fr",
                                            "es", "pl", "uk", "ar", "tr", "so",
                                            "fa", "ur", "ro", "lt", "it"};

        jobmatch__v1__language_requirement__init(&s->lang[i]);
        snprintf(s->lang_codes[i], 3, "%s", codes[i]);
        s->lang[i].language = s->lang_codes[i];
        s->lang[i].min_level = JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1;
        s->lang_p[i] = &s->lang[i];
    }
    for (size_t i = 0; i <= INTAKE_LICENCES_MAX; i++)
        s->licences[i] = (Jobmatch__V1__Licence) (1 + i % 9);
    jobmatch__v1__candidate_outcome__init(&s->cand);
    s->cand_p[0] = &s->cand;

    o->cvr = "35610006";
    o->p_number = "1012345678";
    o->company_name = "Vestegnens Lager ApS";
    o->title = "Lagermedarbejder";
    o->description = "Plukning og pakning.\nDagvagt.";
    o->occupation_uri = OCC_WAREHOUSE;
    o->isco_code = "9333";
    o->disco_code = "933310";
    o->essential_skills = s->ess_p;
    o->n_essential_skills = 3;
    o->optional_skills = s->opt_p;
    o->n_optional_skills = 2;
    o->languages = s->lang_p;
    o->n_languages = 2;
    o->licences = s->licences;
    o->n_licences = 1;
    o->kind = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    o->positions = 2;
    o->hours_per_week = 37;
    o->start_date = "2027-04-01";
    o->deadline = "2027-06-30";
    s->workplace.postcode = "2600";
    s->workplace.municipality_code = "161";
    o->workplace = &s->workplace;
    o->owner_municipality = "161";
    o->consultant = "Mette Hansen";
}

intake_rules
sample_rules(void)
{
    intake_rules r = {esco, jm_clock_today()};

    return r;
}

int
sample_group_setup(void **state)
{
    char *dir = jm_esco_default_dir();

    (void) state;
    assert_int_equal(jm_esco_load(&esco, dir), 0);
    free(dir);
    jm_clock_set_fake(NOW_MS);
    return 0;
}

int
sample_group_teardown(void **state)
{
    (void) state;
    jm_esco_destroy(&esco);
    jm_clock_set_fake(0);
    return 0;
}

void
expect_error(const jm_error *err, int code, const char *path)
{
    if (err->code != code || strcmp(err->field_path, path) != 0)
        fail_msg("expected %s at '%s', got %s at '%s': %s",
                 jm_error_code_name(code), path, jm_error_code_name(err->code),
                 err->field_path, err->message);
}