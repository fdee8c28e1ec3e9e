/* matcher_fixture.c - builders of test citizens and orders (see
 * matcher_fixture.h). */
#include "matcher_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jm_test.h"
#include "matcher_dict.h"

static jm_esco_t *esco;

const jm_esco_t *
fx_esco(void)
{
    if (esco == NULL)
        assert_int_equal(jm_esco_load(&esco, NULL), 0);
    return esco;
}

void
fx_esco_release(void)
{
    jm_esco_destroy(&esco);
}

const char *
fx_skill_uri(char *buf, size_t size, unsigned n)
{
    snprintf(buf, size,
             "http://data.europa.eu/esco/skill/%08x-0000-4000-8000-%012x", n,
             n);
    return buf;
}

static char *
keep(char (*uris)[96], unsigned *n, unsigned max, const char *s)
{
    assert_true(*n < max);
    snprintf(uris[*n], 96, "%s", s);
    return uris[(*n)++];
}

void
fx_profile_init(fx_profile *f, const char *id)
{
    memset(f, 0, sizeof(*f));
    jobmatch__v1__citizen_profile__init(&f->p);
    jobmatch__v1__location__init(&f->home);
    jobmatch__v1__consent__init(&f->consent);
    snprintf(f->id, sizeof(f->id), "%s", id);
    f->p.id = f->id;
    f->home.postcode = "2600";
    f->home.municipality_code = "161";
    f->p.home = &f->home;
    f->p.consent = &f->consent;
    f->p.max_travel_km = 25;
    f->p.hours_per_week = 37;
    f->p.target_group = "jobparat";
    f->p.target_group_list = "2025";
    f->p.skills = f->skillp;
    f->p.wished_occupations = f->wished;
    f->p.held_occupations = f->held;
    f->p.languages = f->langp;
    f->p.licences = f->licences;
    f->p.job_kinds = f->kinds;
    f->p.progress = f->progressp;
    fx_profile_kind(f, JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY);
}

void
fx_profile_skill(fx_profile *f, const char *uri, unsigned level, unsigned year)
{
    size_t i = f->p.n_skills++;

    assert_true(i < FX_MAX);
    jobmatch__v1__skill_level__init(&f->skill[i]);
    f->skill[i].skill_uri = keep(f->uris, &f->nuris, FX_MAX + 16, uri);
    f->skill[i].level = level;
    f->skill[i].last_used_year = year;
    f->skillp[i] = &f->skill[i];
}

void
fx_profile_occupation(fx_profile *f, const char *uri, bool held)
{
    char *s = keep(f->uris, &f->nuris, FX_MAX + 16, uri);

    if (held)
        f->held[f->p.n_held_occupations++] = s;
    else
        f->wished[f->p.n_wished_occupations++] = s;
}

void
fx_profile_language(fx_profile *f, const char *code, unsigned level)
{
    size_t i = f->p.n_languages++;

    jobmatch__v1__language_skill__init(&f->lang[i]);
    f->lang[i].language = keep(f->uris, &f->nuris, FX_MAX + 16, code);
    f->lang[i].level = (Jobmatch__V1__LanguageLevel) level;
    f->langp[i] = &f->lang[i];
}

void
fx_profile_licence(fx_profile *f, Jobmatch__V1__Licence licence)
{
    f->licences[f->p.n_licences++] = licence;
}

void
fx_profile_kind(fx_profile *f, Jobmatch__V1__JobKind kind)
{
    f->kinds[f->p.n_job_kinds++] = kind;
}

void
fx_profile_progress(fx_profile *f, unsigned score)
{
    size_t i = f->p.n_progress++;

    jobmatch__v1__progress_measurement__init(&f->progress[i]);
    f->progress[i].dimension = (Jobmatch__V1__ProgressDimension) (i + 1);
    f->progress[i].score = score;
    f->progress[i].date = "2026-01-01";
    f->progressp[i] = &f->progress[i];
}

void
fx_profile_home(fx_profile *f, const char *postcode, const char *muni,
                double lat, double lon)
{
    f->home.postcode = keep(f->uris, &f->nuris, FX_MAX + 16, postcode);
    f->home.municipality_code = keep(f->uris, &f->nuris, FX_MAX + 16, muni);
    f->home.latitude = lat;
    f->home.longitude = lon;
}

void
fx_order_init(fx_order *f, const char *id)
{
    memset(f, 0, sizeof(*f));
    jobmatch__v1__job_order__init(&f->o);
    jobmatch__v1__location__init(&f->workplace);
    snprintf(f->id, sizeof(f->id), "%s", id);
    f->o.id = f->id;
    f->o.title = "Lagermedarbejder";
    f->o.occupation_uri = FX_WAREHOUSE_WORKER;
    f->o.kind = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    f->o.positions = 1;
    f->o.hours_per_week = 37;
    f->o.owner_municipality = "161";
    f->o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
    f->workplace.postcode = "2600";
    f->workplace.municipality_code = "161";
    f->o.workplace = &f->workplace;
    f->o.essential_skills = f->essp;
    f->o.optional_skills = f->optp;
    f->o.languages = f->langp;
    f->o.licences = f->licences;
}

void
fx_order_skill(fx_order *f, const char *uri, unsigned min_level, bool essential)
{
    Jobmatch__V1__SkillRequirement *s;

    if (essential) {
        s = &f->ess[f->o.n_essential_skills];
        f->essp[f->o.n_essential_skills++] = s;
    } else {
        s = &f->opt[f->o.n_optional_skills];
        f->optp[f->o.n_optional_skills++] = s;
    }
    jobmatch__v1__skill_requirement__init(s);
    s->skill_uri = keep(f->uris, &f->nuris, 2 * FX_MAX + 4, uri);
    s->min_level = min_level;
}

void
fx_order_language(fx_order *f, const char *code, unsigned level)
{
    size_t i = f->o.n_languages++;

    jobmatch__v1__language_requirement__init(&f->lang[i]);
    f->lang[i].language = keep(f->uris, &f->nuris, 2 * FX_MAX + 4, code);
    f->lang[i].min_level = (Jobmatch__V1__LanguageLevel) level;
    f->langp[i] = &f->lang[i];
}

void
fx_order_licence(fx_order *f, Jobmatch__V1__Licence licence)
{
    f->licences[f->o.n_licences++] = licence;
}

void
fx_order_workplace(fx_order *f, const char *postcode, const char *muni,
                   double lat, double lon)
{
    f->workplace.postcode = keep(f->uris, &f->nuris, 2 * FX_MAX + 4, postcode);
    f->workplace.municipality_code =
        keep(f->uris, &f->nuris, 2 * FX_MAX + 4, muni);
    f->workplace.latitude = lat;
    f->workplace.longitude = lon;
}

int
fx_intern(void *arg, const char *uri, uint16_t *id)
{
    matcher_dict_t *dict = arg;
    int found = matcher_dict_find(dict, uri, strlen(uri));

    if (found >= 0) {
        *id = (uint16_t) found;
        return 0;
    }
    found = matcher_dict_add(dict, (uint16_t) matcher_dict_count(dict), uri,
                             strlen(uri));
    if (found == 0)
        *id = (uint16_t) (matcher_dict_count(dict) - 1);
    return found;
}

uint32_t
fx_put_profile(matcher_index_t *ix, const fx_profile *f)
{
    _Alignas(8) uint8_t buf[MATCHER_PROFILE_REC_MAX];
    matcher_encoder enc = {fx_esco(), fx_intern, ix->dict};
    int n = matcher_record_profile(&enc, &f->p, 0, buf);

    assert_true(n > 0);
    assert_true(matcher_record_profile_valid(buf, (size_t) n));
    return matcher_index_put_profile(
        ix, (const struct matcher_profile_rec *) (const void *) buf,
        (size_t) n);
}

uint32_t
fx_put_order(matcher_index_t *ix, const fx_order *f)
{
    _Alignas(8) uint8_t buf[MATCHER_ORDER_REC_MAX];
    matcher_encoder enc = {fx_esco(), fx_intern, ix->dict};
    int n = matcher_record_order(&enc, &f->o, 0, buf);

    assert_true(n > 0);
    assert_true(matcher_record_order_valid(buf, (size_t) n));
    return matcher_index_put_order(
        ix, (const struct matcher_order_rec *) (const void *) buf, (size_t) n);
}

const matcher_order *
fx_order_at(const matcher_index_t *ix, uint32_t slot)
{
    assert_true(slot < ix->oused && ix->orders[slot].rec != NULL);
    return &ix->orders[slot];
}
