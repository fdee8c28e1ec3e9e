/* test_profiles_profile.c - every validation rule of a citizen's profile,
 * each with the field path it must report, the principals' rights, and
 * docs/examples/profile.json passing as it is.
 *
 * Each case starts from a valid PutProfile built in C (the example
 * citizen), changes one field and checks the first error's code and path.
 * The clock is frozen (2026-11-23) so that "not in the future" rules do
 * not depend on when the test runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/json.h"
#include "jm_test.h"
#include "profiles_profile.h"

#define TODAY_MS 1795435200000LL /* 2026-11-23 12:00 UTC */

#define SKILL_A \
    "http://data.europa.eu/esco/skill/078861f5-b901-48a5-951e-a3ad0a4fa0bd"
#define SKILL_B \
    "http://data.europa.eu/esco/skill/2cae39d6-78c2-4ce3-bee8-628504371463"
#define OCC_A                                \
    "http://data.europa.eu/esco/occupation/" \
    "eeac6251-1974-42f5-91ed-513c6c883755"
#define OCC_B                                \
    "http://data.europa.eu/esco/occupation/" \
    "bea705fe-06ac-4147-b8e0-6e8ac1208d8f"
#define P "put_profile.profile"

/* A valid PutProfile with all its parts in one struct, so that a case can
 * change any field without allocating. */
struct fx {
    Jobmatch__V1__Request req;
    Jobmatch__V1__PutProfile put;
    Jobmatch__V1__PersonalData personal;
    Jobmatch__V1__CitizenProfile profile;
    Jobmatch__V1__Location home;
    Jobmatch__V1__JobKind kinds[3];
    Jobmatch__V1__SkillLevel skill[3];
    Jobmatch__V1__SkillLevel *skills[PROFILES_SKILLS_MAX + 1];
    char *wished[PROFILES_OCCUPATIONS_MAX + 1];
    char *held[1];
    Jobmatch__V1__LanguageSkill language[2];
    Jobmatch__V1__LanguageSkill *languages[2];
    Jobmatch__V1__Licence licences[2];
    Jobmatch__V1__Consent consent;
    Jobmatch__V1__ProgressMeasurement measurement;
    Jobmatch__V1__ProgressMeasurement *progress[1];
    char long_text[512];
};

static struct fx *
fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));

    jobmatch__v1__request__init(&f->req);
    jobmatch__v1__put_profile__init(&f->put);
    jobmatch__v1__personal_data__init(&f->personal);
    jobmatch__v1__citizen_profile__init(&f->profile);
    jobmatch__v1__location__init(&f->home);
    jobmatch__v1__consent__init(&f->consent);
    jobmatch__v1__progress_measurement__init(&f->measurement);
    f->req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    f->req.put_profile = &f->put;
    f->put.personal = &f->personal;
    f->put.profile = &f->profile;

    f->personal.cpr = "010190-1234";
    f->personal.name = "Anders Testesen";
    f->personal.email = "anders.testesen@example.dk";
    f->personal.phone = "+45 12 34 56 78";

    f->home.postcode = "2600";
    f->home.municipality_code = "161";
    f->profile.home = &f->home;
    f->profile.max_travel_km = 25;
    f->profile.hours_per_week = 37;
    f->profile.available_from = "2026-12-01";
    f->profile.target_group = "jobparat";
    f->profile.target_group_list = "2025";
    f->kinds[0] = JOBMATCH__V1__JOB_KIND__JOB_KIND_ORDINARY;
    f->kinds[1] = JOBMATCH__V1__JOB_KIND__JOB_KIND_WAGE_SUBSIDY_PRIVATE;
    f->kinds[2] = JOBMATCH__V1__JOB_KIND__JOB_KIND_INTERNSHIP;
    f->profile.job_kinds = f->kinds;
    f->profile.n_job_kinds = 3;
    for (int i = 0; i < 3; i++) {
        jobmatch__v1__skill_level__init(&f->skill[i]);
        f->skill[i].level = 3;
        f->skill[i].last_used_year = 2026;
        f->skills[i] = &f->skill[i];
    }
    f->skill[0].skill_uri = SKILL_A;
    f->skill[1].skill_uri = SKILL_B;
    f->skill[2].skill_uri = "http://data.europa.eu/esco/skill/"
                            "3d086228-d7fc-4c23-972a-22b7d44a6173";
    f->profile.skills = f->skills;
    f->profile.n_skills = 3;
    f->wished[0] = OCC_A;
    f->profile.wished_occupations = f->wished;
    f->profile.n_wished_occupations = 1;
    f->held[0] = OCC_B;
    f->profile.held_occupations = f->held;
    f->profile.n_held_occupations = 1;
    for (int i = 0; i < 2; i++) {
        jobmatch__v1__language_skill__init(&f->language[i]);
        f->languages[i] = &f->language[i];
    }
    f->language[0].language = "da";
    f->language[0].level = JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_C1;
    f->language[1].language = "en";
    f->language[1].level = JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_B1;
    f->profile.languages = f->languages;
    f->profile.n_languages = 2;
    f->licences[0] = JOBMATCH__V1__LICENCE__LICENCE_DRIVING_B;
    f->licences[1] = JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT;
    f->profile.licences = f->licences;
    f->profile.n_licences = 2;
    f->consent.neighbour_matching = true;
    f->consent.given_on = "2026-11-02";
    f->profile.consent = &f->consent;
    f->profile.caseworker = "Sofie Larsen, Jobcenter Glostrup";
    return f;
}

/* Checks the request and expects the first error at path (NULL: valid). */
static void
expect(struct fx *f, const char *path)
{
    jm_error err = {0};
    bool ok = profiles_profile_check_request(&f->req, jm_clock_today(), &err);

    if (path == NULL) {
        if (!ok)
            fail_msg("expected valid, got %s: %s", err.field_path, err.message);
    } else {
        if (ok)
            fail_msg("expected an error at %s, got none", path);
        assert_int_equal(err.code, JM_E_INVALID_FIELD);
        if (strcmp(err.field_path, path) != 0)
            fail_msg("expected %s, got %s (%s)", path, err.field_path,
                     err.message);
    }
    free(f);
}

static int
freeze_clock(void **state)
{
    (void) state;
    jm_clock_set_fake(TODAY_MS);
    return 0;
}

static int
thaw_clock(void **state)
{
    (void) state;
    jm_clock_set_fake(0);
    return 0;
}

static void
test_valid_put_passes(void **state)
{
    struct fx *f;

    (void) state;
    expect(fx_new(), NULL);
    /* With an id, personal is optional. */
    f = fx_new();
    f->profile.id = "p-abcdefghijklmnopqrst";
    f->put.personal = NULL;
    expect(f, NULL);
}

static void
test_example_file_is_valid(void **state)
{
    ProtobufCMessage *msg = NULL;
    json_error_t jerr;
    json_t *json = json_load_file(PROFILES_EXAMPLE, 0, &jerr);
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    jm_error err = {0};
    char text[256];

    (void) state;
    assert_non_null(json);
    assert_int_equal(jm_json_to_message(json,
                                        &jobmatch__v1__put_profile__descriptor,
                                        &msg, text, sizeof(text)),
                     0);
    json_decref(json);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE;
    req.put_profile = (Jobmatch__V1__PutProfile *) msg;
    if (!profiles_profile_check_request(&req, jm_clock_today(), &err))
        fail_msg("%s: %s", err.field_path, err.message);
    /* It carries the personal data the erasure tests look for. */
    assert_non_null(req.put_profile->personal);
    assert_string_equal(req.put_profile->personal->cpr, "010190-1234");
    jm_json_message_free(msg);
}

static void
test_required_parts(void **state)
{
    struct fx *f;

    (void) state;
    f = fx_new();
    f->put.profile = NULL;
    expect(f, "put_profile.profile");
    f = fx_new();
    f->put.personal = NULL; /* no id: the CPR must identify the citizen */
    expect(f, "put_profile.personal");
}

static void
test_cpr(void **state)
{
    static const char *const bad[] = {
        "",            /* required */
        "0101901234x", /* not digits */
        "010190+1234", /* wrong separator */
        "3202901234",  /* 32 February */
        "290201-1234", /* 29 February 1901: not a leap year */
        "01019012345", /* 11 digits */
        "010130-4234", /* 2030 by the century table: in the future */
    };
    struct fx *f;

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f = fx_new();
        f->personal.cpr = (char *) bad[i];
        expect(f, "put_profile.personal.cpr");
    }
    f = fx_new();
    f->personal.cpr = "0101901234"; /* without the dash */
    expect(f, NULL);
}

static void
test_name_email_phone(void **state)
{
    static const char *const bad_email[] = {
        "anders",   "anders@",  "@example.dk", "a..b@x.dk",  ".a@x.dk",
        "a.@x.dk",  "a@x",      "a@-x.dk",     "a@x-.dk",    "a@x..dk",
        "a b@x.dk", "a@b@x.dk", "a@x.dk.",     "\"a\"@x.dk",
    };
    struct fx *f;

    (void) state;
    f = fx_new();
    f->personal.name = "";
    expect(f, "put_profile.personal.name");
    f = fx_new();
    memset(f->long_text, 'a', PROFILES_NAME_MAX + 1);
    f->personal.name = f->long_text;
    expect(f, "put_profile.personal.name");
    f = fx_new();
    memset(f->long_text, 'a', PROFILES_NAME_MAX);
    f->personal.name = f->long_text;
    expect(f, NULL);
    f = fx_new();
    f->personal.name = "Anders\tTestesen";
    expect(f, "put_profile.personal.name");

    for (size_t i = 0; i < sizeof(bad_email) / sizeof(bad_email[0]); i++) {
        assert_false(profiles_email_valid(bad_email[i]));
        f = fx_new();
        f->personal.email = (char *) bad_email[i];
        expect(f, "put_profile.personal.email");
    }
    f = fx_new();
    memset(f->long_text, 'a', 64);
    strcpy(f->long_text + 64, "@");
    for (int i = 0; i < 4; i++)
        strcat(f->long_text,
               "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.");
    strcat(f->long_text, "dk"); /* 64 + 1 + 4 * 59 + 2 = 303 bytes */
    f->personal.email = f->long_text;
    expect(f, "put_profile.personal.email");
    assert_true(profiles_email_valid("o'brien+jobs@mail.example-kommune.dk"));
    f = fx_new();
    f->personal.email = ""; /* optional */
    expect(f, NULL);

    f = fx_new();
    f->personal.phone = "call me";
    expect(f, "put_profile.personal.phone");
    f = fx_new();
    f->personal.phone = "12345"; /* too few digits */
    expect(f, "put_profile.personal.phone");
    f = fx_new();
    f->personal.phone = "12+345678";
    expect(f, "put_profile.personal.phone");
    f = fx_new();
    f->personal.phone = "(+45) 1234-5678";
    expect(f, NULL);
}

static void
test_id_and_service_fields(void **state)
{
    struct fx *f;

    (void) state;
    assert_true(profiles_id_valid("p-abcdefghijklmnopqrst"));
    assert_true(profiles_id_valid("p-234567abcdefghijklmn"));
    assert_false(profiles_id_valid("p-abcdefghijklmnopqrs"));   /* short */
    assert_false(profiles_id_valid("p-abcdefghijklmnopqrstu")); /* long */
    assert_false(profiles_id_valid("p-abcdefghijklmnopqrs1"));  /* not b32 */
    assert_false(profiles_id_valid("p-ABCDEFGHIJKLMNOPQRST"));
    assert_false(profiles_id_valid("q-abcdefghijklmnopqrst"));
    f = fx_new();
    f->profile.id = "0101901234";
    expect(f, P ".id");
    f = fx_new();
    f->profile.version = 3;
    expect(f, P ".version");
    f = fx_new();
    f->progress[0] = &f->measurement;
    f->profile.progress = f->progress;
    f->profile.n_progress = 1;
    expect(f, P ".progress");
    f = fx_new();
    f->profile.created_at_ms = 1;
    expect(f, P ".created_at_ms");
    f = fx_new();
    f->profile.updated_at_ms = 1;
    expect(f, P ".updated_at_ms");
}

static void
test_home(void **state)
{
    struct fx *f;

    (void) state;
    f = fx_new();
    f->profile.home = NULL;
    expect(f, P ".home");
    f = fx_new();
    f->home.postcode = "26000";
    expect(f, P ".home.postcode");
    f = fx_new();
    f->home.postcode = "0001"; /* four digits, not a postcode */
    expect(f, P ".home.postcode");
    f = fx_new();
    f->home.municipality_code = "";
    expect(f, P ".home.municipality_code");
    f = fx_new();
    f->home.municipality_code = "999";
    expect(f, P ".home.municipality_code");
    f = fx_new();
    f->home.municipality_code = "101"; /* 2600 Glostrup lies in 161 */
    expect(f, P ".home.municipality_code");
    f = fx_new();
    f->home.latitude = 48.85; /* Paris */
    f->home.longitude = 2.35;
    expect(f, P ".home.latitude");
    f = fx_new();
    f->home.latitude = 55.68;
    f->home.longitude = 12.40;
    expect(f, NULL);
    /* Far from 2600 but in Denmark: accepted, unlike a workplace's, for
     * the home is stored at the postcode's centre whatever is sent. */
    f = fx_new();
    f->home.latitude = 57.72; /* Skagen */
    f->home.longitude = 10.58;
    expect(f, NULL);
}

static void
test_travel_hours_availability(void **state)
{
    static const uint32_t bad_km[] = {0, 301, 100000};
    static const uint32_t bad_hours[] = {0, 81};
    struct fx *f;

    (void) state;
    for (size_t i = 0; i < 3; i++) {
        f = fx_new();
        f->profile.max_travel_km = bad_km[i];
        expect(f, P ".max_travel_km");
    }
    f = fx_new();
    f->profile.max_travel_km = 300;
    expect(f, NULL);
    for (size_t i = 0; i < 2; i++) {
        f = fx_new();
        f->profile.hours_per_week = bad_hours[i];
        expect(f, P ".hours_per_week");
    }
    f = fx_new();
    f->profile.hours_per_week = 80;
    expect(f, NULL);
    f = fx_new();
    f->profile.available_from = "2026-02-30";
    expect(f, P ".available_from");
    f = fx_new();
    f->profile.available_from = ""; /* now */
    expect(f, NULL);
}

static void
test_target_group_and_job_kinds(void **state)
{
    struct fx *f;

    (void) state;
    f = fx_new();
    f->profile.target_group = "";
    expect(f, P ".target_group");
    f = fx_new();
    f->profile.target_group = "nope";
    expect(f, P ".target_group");
    f = fx_new();
    f->profile.target_group_list = "1999";
    expect(f, P ".target_group_list");
    f = fx_new();
    f->profile.target_group_list = ""; /* the default list (2025) */
    expect(f, NULL);
    f = fx_new();
    f->profile.target_group = "dagpenge"; /* only in the 2019 list */
    expect(f, P ".target_group");
    f = fx_new();
    f->profile.target_group = "dagpenge";
    f->profile.target_group_list = "2019";
    expect(f, NULL);

    f = fx_new();
    f->profile.n_job_kinds = 0;
    expect(f, P ".job_kinds");
    f = fx_new();
    f->kinds[1] = JOBMATCH__V1__JOB_KIND__JOB_KIND_FLEX_JOB; /* not jobparat */
    expect(f, P ".job_kinds[1]");
    f = fx_new();
    f->kinds[2] = JOBMATCH__V1__JOB_KIND__JOB_KIND_IGU; /* integration only */
    expect(f, P ".job_kinds[2]");
    f = fx_new();
    f->kinds[0] = JOBMATCH__V1__JOB_KIND__JOB_KIND_UNSPECIFIED;
    expect(f, P ".job_kinds[0]");
    f = fx_new();
    f->kinds[0] = (Jobmatch__V1__JobKind) 99;
    expect(f, P ".job_kinds[0]");
    f = fx_new();
    f->kinds[2] = f->kinds[0];
    expect(f, P ".job_kinds[2]");
    f = fx_new();
    f->profile.target_group = "fleksjobvisiteret";
    f->kinds[0] = JOBMATCH__V1__JOB_KIND__JOB_KIND_FLEX_JOB;
    f->profile.n_job_kinds = 1;
    expect(f, NULL);
}

static void
test_skills(void **state)
{
    struct fx *f;

    (void) state;
    f = fx_new();
    f->skill[1].skill_uri = "";
    expect(f, P ".skills[1].skill_uri");
    f = fx_new();
    f->skill[1].skill_uri = OCC_A; /* an occupation, not a skill */
    expect(f, P ".skills[1].skill_uri");
    f = fx_new();
    f->skill[1].skill_uri = "http://data.europa.eu/esco/skill/"
                            "2CAE39D6-78C2-4CE3-BEE8-628504371463";
    expect(f, P ".skills[1].skill_uri");
    f = fx_new();
    f->skill[2].skill_uri = SKILL_A;
    expect(f, P ".skills[2].skill_uri"); /* repeats skills[0] */
    f = fx_new();
    f->skill[0].level = 0;
    expect(f, P ".skills[0].level");
    f = fx_new();
    f->skill[0].level = 6;
    expect(f, P ".skills[0].level");
    f = fx_new();
    f->skill[2].last_used_year = 1949;
    expect(f, P ".skills[2].last_used_year");
    f = fx_new();
    f->skill[2].last_used_year = 2027; /* next year */
    expect(f, P ".skills[2].last_used_year");
    f = fx_new();
    f->skill[2].last_used_year = 0; /* not known */
    f->skill[1].last_used_year = 1950;
    expect(f, NULL);

    f = fx_new();
    for (int i = 0; i <= PROFILES_SKILLS_MAX; i++)
        f->skills[i] = &f->skill[0];
    f->profile.n_skills = PROFILES_SKILLS_MAX + 1;
    expect(f, P ".skills");
}

static void
test_occupations(void **state)
{
    struct fx *f;

    (void) state;
    f = fx_new();
    f->wished[0] = SKILL_A;
    expect(f, P ".wished_occupations[0]");
    f = fx_new();
    f->held[0] = "http://example.org/occupation/x";
    expect(f, P ".held_occupations[0]");
    f = fx_new();
    f->wished[1] = OCC_A;
    f->profile.n_wished_occupations = 2;
    expect(f, P ".wished_occupations[1]");
    f = fx_new();
    for (int i = 0; i <= PROFILES_OCCUPATIONS_MAX; i++)
        f->wished[i] = OCC_A;
    f->profile.n_wished_occupations = PROFILES_OCCUPATIONS_MAX + 1;
    expect(f, P ".wished_occupations");
}

static void
test_languages_licences_consent_caseworker(void **state)
{
    struct fx *f;

    (void) state;
    f = fx_new();
    f->language[0].language = "DA";
    expect(f, P ".languages[0].language");
    f = fx_new();
    f->language[1].language = "dan";
    expect(f, P ".languages[1].language");
    f = fx_new();
    f->language[1].language = "da";
    expect(f, P ".languages[1].language"); /* twice */
    f = fx_new();
    f->language[0].level =
        JOBMATCH__V1__LANGUAGE_LEVEL__LANGUAGE_LEVEL_UNSPECIFIED;
    expect(f, P ".languages[0].level");
    f = fx_new();
    f->language[0].level = (Jobmatch__V1__LanguageLevel) 8;
    expect(f, P ".languages[0].level");

    f = fx_new();
    f->licences[0] = JOBMATCH__V1__LICENCE__LICENCE_UNSPECIFIED;
    expect(f, P ".licences[0]");
    f = fx_new();
    f->licences[1] = (Jobmatch__V1__Licence) 42;
    expect(f, P ".licences[1]");
    f = fx_new();
    f->licences[1] = f->licences[0];
    expect(f, P ".licences[1]");

    f = fx_new();
    f->consent.given_on = "2026-11-24"; /* tomorrow */
    expect(f, P ".consent.given_on");
    f = fx_new();
    f->consent.given_on = "2.11.2026";
    expect(f, P ".consent.given_on");
    f = fx_new();
    f->profile.consent = NULL;
    expect(f, NULL);

    f = fx_new();
    memset(f->long_text, 'x', PROFILES_CASEWORKER_MAX + 1);
    f->profile.caseworker = f->long_text;
    expect(f, P ".caseworker");
}

/* A request of another body, with the fixture's storage. */
static struct fx *
fx_body(Jobmatch__V1__Request__BodyCase body, void *msg)
{
    struct fx *f = fx_new();

    f->req.body_case = body;
    f->req.put_profile = msg; /* the union: any member pointer */
    return f;
}

static void
test_other_bodies(void **state)
{
    Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;
    Jobmatch__V1__FindProfile find = JOBMATCH__V1__FIND_PROFILE__INIT;
    Jobmatch__V1__GetProgress progress = JOBMATCH__V1__GET_PROGRESS__INIT;
    Jobmatch__V1__EraseProfile erase = JOBMATCH__V1__ERASE_PROFILE__INIT;

    (void) state;
    get.profile_id = "";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_GET_PROFILE, &get),
           "get_profile.profile_id");
    get.profile_id = "order-1";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_GET_PROFILE, &get),
           "get_profile.profile_id");
    get.profile_id = "p-abcdefghijklmnopqrst";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_GET_PROFILE, &get), NULL);

    find.cpr = "";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE, &find),
           "find_profile.cpr");
    find.cpr = "9999999999";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE, &find),
           "find_profile.cpr");
    find.cpr = "010190-1234";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE, &find), NULL);

    progress.profile_id = "p-abcdefghijklmnopqrst";
    progress.dimension = (Jobmatch__V1__ProgressDimension) 99;
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS, &progress),
           "get_progress.dimension");
    progress.dimension = 0; /* all */
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS, &progress), NULL);
    progress.profile_id = "p-";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS, &progress),
           "get_progress.profile_id");

    erase.profile_id = "";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE, &erase),
           "erase_profile.profile_id");
    erase.profile_id = "p-abcdefghijklmnopqrst";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE, &erase), NULL);
}

static void
test_measurement_and_consent(void **state)
{
    Jobmatch__V1__RecordProgress rp = JOBMATCH__V1__RECORD_PROGRESS__INIT;
    Jobmatch__V1__ProgressMeasurement m =
        JOBMATCH__V1__PROGRESS_MEASUREMENT__INIT;
    Jobmatch__V1__SetConsent sc = JOBMATCH__V1__SET_CONSENT__INIT;
    Jobmatch__V1__Consent consent = JOBMATCH__V1__CONSENT__INIT;
    char long_text[PROFILES_ASSESSOR_MAX + 2] = {0};
    const Jobmatch__V1__Request__BodyCase record =
        JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS;

    (void) state;
    rp.profile_id = "p-abcdefghijklmnopqrst";
    expect(fx_body(record, &rp), "record_progress.measurement");
    rp.measurement = &m;
    m.dimension = JOBMATCH__V1__PROGRESS_DIMENSION__PROGRESS_DIMENSION_DANISH;
    m.score = 7;
    m.date = "2026-11-20";
    m.assessor = "SL";
    expect(fx_body(record, &rp), NULL);
    m.dimension = 0;
    expect(fx_body(record, &rp), "record_progress.measurement.dimension");
    m.dimension = (Jobmatch__V1__ProgressDimension) 6;
    expect(fx_body(record, &rp), "record_progress.measurement.dimension");
    m.dimension = JOBMATCH__V1__PROGRESS_DIMENSION__PROGRESS_DIMENSION_HEALTH;
    m.score = 0;
    expect(fx_body(record, &rp), "record_progress.measurement.score");
    m.score = 11;
    expect(fx_body(record, &rp), "record_progress.measurement.score");
    m.score = 10;
    m.date = "";
    expect(fx_body(record, &rp), "record_progress.measurement.date");
    m.date = "2026-11-24";
    expect(fx_body(record, &rp), "record_progress.measurement.date");
    m.date = "2026-11-23"; /* today is fine */
    m.assessor = "";
    expect(fx_body(record, &rp), "record_progress.measurement.assessor");
    memset(long_text, 'a', PROFILES_ASSESSOR_MAX + 1);
    m.assessor = long_text;
    expect(fx_body(record, &rp), "record_progress.measurement.assessor");
    long_text[PROFILES_ASSESSOR_MAX] = '\0';
    expect(fx_body(record, &rp), NULL);
    rp.profile_id = "";
    expect(fx_body(record, &rp), "record_progress.profile_id");

    sc.profile_id = "p-abcdefghijklmnopqrst";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_SET_CONSENT, &sc),
           "set_consent.consent");
    sc.consent = &consent;
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_SET_CONSENT, &sc), NULL);
    consent.given_on = "2027-01-01";
    expect(fx_body(JOBMATCH__V1__REQUEST__BODY_SET_CONSENT, &sc),
           "set_consent.consent.given_on");
}

/* The name, the caseworker and an assessor are shown as they are (a
 * terminal, a jobcentre's screen): what would reorder the line on screen,
 * break it, or show nothing is refused with the field's path. Marks that
 * only hint a direction stay allowed (right-to-left names need them). */
static const char *const not_shown_as_sent[] = {
    "   ",                                     /* blank */
    "\xc2\xa0\xe2\x80\x8b",                    /* NBSP and U+200B: blank */
    "Anders \xe2\x80\xaeTestesen",             /* U+202E */
    "Anders \xe2\x81\xa6Testesen\xe2\x81\xa9", /* U+2066 ... U+2069 */
    "Anders\xe2\x80\xa8Testesen",              /* U+2028 */
};

static void
test_shown_texts(void **state)
{
    Jobmatch__V1__RecordProgress rp = JOBMATCH__V1__RECORD_PROGRESS__INIT;
    Jobmatch__V1__ProgressMeasurement m =
        JOBMATCH__V1__PROGRESS_MEASUREMENT__INIT;
    const size_t n = sizeof(not_shown_as_sent) / sizeof(not_shown_as_sent[0]);
    struct fx *f;

    (void) state;
    rp.profile_id = "p-abcdefghijklmnopqrst";
    rp.measurement = &m;
    m.dimension = JOBMATCH__V1__PROGRESS_DIMENSION__PROGRESS_DIMENSION_DANISH;
    m.score = 7;
    m.date = "2026-11-20";
    for (size_t i = 0; i < n; i++) {
        char *text = (char *) not_shown_as_sent[i];

        f = fx_new();
        f->personal.name = text;
        expect(f, "put_profile.personal.name");
        f = fx_new();
        f->profile.caseworker = text;
        expect(f, P ".caseworker");
        m.assessor = text;
        expect(fx_body(JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS, &rp),
               "record_progress.measurement.assessor");
    }
    f = fx_new();
    f->personal.name = "\xe2\x80\x8fLayla Haddad"; /* U+200F, a mark */
    expect(f, NULL);
    f = fx_new();
    f->profile.caseworker = ""; /* optional */
    expect(f, NULL);
}

static void
test_principals(void **state)
{
    jm_principal p;

    (void) state;
    jm_principal_parse("caseworker:161", &p);
    assert_int_equal(p.kind, JM_PRINCIPAL_CASEWORKER);
    assert_string_equal(p.municipality, "161");
    assert_true(profiles_may_write(&p, "161"));
    assert_false(profiles_may_write(&p, "101"));
    assert_true(profiles_may_see_personal(&p, "161"));
    assert_false(profiles_may_see_personal(&p, "101"));
    assert_true(profiles_may_see_personal(&p, NULL));
    assert_true(profiles_may_read(&p));

    jm_principal_parse("municipality:161", &p);
    assert_int_equal(p.kind, JM_PRINCIPAL_MUNICIPALITY);
    assert_true(profiles_may_write(&p, "161"));
    assert_false(profiles_may_see_personal(&p, "161"));
    assert_false(profiles_may_see_personal(&p, NULL));

    jm_principal_parse("service:matcher", &p);
    assert_int_equal(p.kind, JM_PRINCIPAL_SERVICE);
    assert_false(profiles_may_write(&p, "161"));
    assert_false(profiles_may_see_personal(&p, "161"));
    assert_true(profiles_may_read(&p));

    /* A monitoring system gets counts (Ping), no profile. */
    jm_principal_parse("monitor", &p);
    assert_int_equal(p.kind, JM_PRINCIPAL_MONITOR);
    assert_false(profiles_may_read(&p));
    assert_false(profiles_may_write(&p, "161"));
    assert_false(profiles_may_see_personal(&p, NULL));

    jm_principal_parse("consultant:101", &p);
    assert_int_equal(p.kind, JM_PRINCIPAL_CONSULTANT);
    assert_false(profiles_may_write(&p, "101"));
    assert_false(profiles_may_see_personal(&p, "101"));

    jm_principal_parse("admin", &p);
    assert_true(profiles_may_write(&p, "851"));
    assert_true(profiles_may_see_personal(&p, "851"));
    jm_principal_parse("local", &p);
    assert_true(profiles_may_write(&p, "851"));
    assert_true(profiles_may_see_personal(&p, "851"));

    /* Unknown forms get nothing, not even reads. */
    static const char *const unknown[] = {
        "caseworker:999", "caseworker:16",   "caseworker:",
        "service:",       "Admin",           "",
        "citizen:161",    "caseworker:1610",
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        jm_principal_parse(unknown[i], &p);
        assert_int_equal(p.kind, JM_PRINCIPAL_UNKNOWN);
        assert_false(profiles_may_read(&p));
        assert_false(profiles_may_write(&p, "161"));
        assert_false(profiles_may_see_personal(&p, NULL));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_put_passes),
        cmocka_unit_test(test_example_file_is_valid),
        cmocka_unit_test(test_required_parts),
        cmocka_unit_test(test_cpr),
        cmocka_unit_test(test_name_email_phone),
        cmocka_unit_test(test_id_and_service_fields),
        cmocka_unit_test(test_home),
        cmocka_unit_test(test_travel_hours_availability),
        cmocka_unit_test(test_target_group_and_job_kinds),
        cmocka_unit_test(test_skills),
        cmocka_unit_test(test_occupations),
        cmocka_unit_test(test_languages_licences_consent_caseworker),
        cmocka_unit_test(test_shown_texts),
        cmocka_unit_test(test_other_bodies),
        cmocka_unit_test(test_measurement_and_consent),
        cmocka_unit_test(test_principals),
    };

    return cmocka_run_group_tests(tests, freeze_clock, thaw_clock);
}
