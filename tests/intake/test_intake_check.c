/* test_intake_check.c - every validation rule of a job order and of the
 * other intake request bodies, each with its code and field path, and who
 * may do what. A valid order passes (and the contract example does), and
 * each single mutation of it fails with the error a client would see. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake_order.h"
#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/json.h"
#include "jm/mem.h"
#include "jm/sample.h"
#include "jm_test.h"
#include "order_sample.h"

/* A well-formed pseudonymous id, as profiles makes them. */
#define PROFILE_ID "p-abcdefghijklmnopqrst"

static void
test_valid_order_passes(void **state)
{
    struct sample s;
    intake_rules r = sample_rules();
    jm_error err = {0};

    (void) state;
    sample_init(&s);
    assert_true(
        intake_check_order(&r, &s.order, "submit_order.order", false, &err));
    assert_int_equal(err.code, 0);
    /* Boundaries that must pass: deadline today, 1 and 1000 positions, 1
     * and 80 hours, the most skills, languages and licences, an id of 64
     * characters, an occupation ESCO does not know (with any ISCO). */
    s.order.deadline = "2027-03-01";
    s.order.positions = 1000;
    s.order.hours_per_week = 80;
    s.order.n_essential_skills = INTAKE_SKILLS_MAX;
    s.order.n_optional_skills = INTAKE_SKILLS_MAX;
    s.order.n_languages = INTAKE_LANGUAGES_MAX;
    s.order.n_licences = 9;
    s.order.id =
        "A-Za-z0-9._:-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    assert_int_equal(strlen(s.order.id), 64);
    if (!intake_check_order(&r, &s.order, "o", false, &err))
        fail_msg("%s: %s", err.field_path, err.message);
    s.order.positions = 1;
    s.order.hours_per_week = 1;
    s.order.occupation_uri = OCC_UNKNOWN;
    s.order.isco_code = "1234";
    s.order.disco_code = "";
    s.order.p_number = "";
    s.order.start_date = "";
    s.order.workplace->latitude = 55.68;
    s.order.workplace->longitude = 12.40;
    assert_true(intake_check_order(&r, &s.order, "o", false, &err));
    assert_int_equal(err.code, 0);
    /* Text as people write it: spaces around words, a no-break space
     * inside, Arabic with a right-to-left mark (a mark, not an override),
     * an optional field left empty. */
    s.order.title = " Lager\xc2\xa0medarbejder ";
    s.order.company_name = "";
    s.order.consultant = "\xd8\xb9\xd8\xa7\xd9\x85\xd9\x84\xe2\x80\x8f";
    s.order.description = "Plukning.\n\n\tDagvagt.";
    /* A workplace 44.5 km north of its postcode's position: inside the
     * bound (JM_PLACE_RADIUS_KM), which a large rural postcode needs. */
    s.order.workplace->latitude = 55.6813 + 0.40;
    s.order.workplace->longitude = 12.4039;
    if (!intake_check_order(&r, &s.order, "o", false, &err))
        fail_msg("%s: %s", err.field_path, err.message);
    /* A postcode without a position: measured from its municipality's
     * centre, the point the service would fill in. */
    s.order.workplace->postcode = "1431";
    s.order.workplace->municipality_code = "101";
    s.order.workplace->latitude = 55.6761;
    s.order.workplace->longitude = 12.5683;
    if (!intake_check_order(&r, &s.order, "o", false, &err))
        fail_msg("%s: %s", err.field_path, err.message);
}

/* Every order the sample generator makes (`jobmatch sample load`, the
 * benchmarks) passes: a workplace of one of its postcodes, in that
 * postcode's municipality, at the postcode's position. */
static void
test_sample_orders_pass(void **state)
{
    jm_sample_opts opts = {.seed = 7, .today = jm_clock_today()};
    jm_sample_t *gen = NULL;
    intake_rules r = sample_rules();

    (void) state;
    assert_int_equal(jm_sample_new(&gen, esco, &opts), 0);
    for (uint64_t i = 0; i < 2000; i++) {
        jm_sample_order *o = jm_sample_order_new(gen, i);
        jm_error err = {0};

        if (!intake_check_order(&r, &o->order, "o", false, &err))
            fail_msg("sample order %llu: %s: %s", (unsigned long long) i,
                     err.field_path, err.message);
        jm_sample_order_destroy(&o);
    }
    jm_sample_destroy(&gen);
}

/* The contract example passes as it is (clock before its deadline). */
static void
test_example_file_passes(void **state)
{
    char *text = jm_test_read_file(
        JM_TEST_SOURCE_DIR "/docs/examples/job-order.json", NULL);
    json_error_t jerr;
    json_t *json;
    ProtobufCMessage *msg = NULL;
    char why[256];
    intake_rules r = sample_rules();
    jm_error err = {0};

    (void) state;
    assert_non_null(text);
    json = json_loads(text, 0, &jerr);
    assert_non_null(json);
    assert_int_equal(jm_json_to_message(json,
                                        &jobmatch__v1__job_order__descriptor,
                                        &msg, why, sizeof(why)),
                     0);
    if (!intake_check_order(&r, (Jobmatch__V1__JobOrder *) msg,
                            "submit_order.order", false, &err))
        fail_msg("%s: %s", err.field_path, err.message);
    jm_json_message_free(msg);
    json_decref(json);
    free(text);
}

/* ---- one mutation per rule ---- */

typedef void (*mutate_fn)(struct sample *s);

struct mutation {
    const char *name;
    mutate_fn mutate;
    const char *path; /* after "submit_order.order." */
};

#define M(name, path, body)                    \
    static void mut_##name(struct sample *s)   \
    {                                          \
        Jobmatch__V1__JobOrder *o = &s->order; \
        (void) o;                              \
        body;                                  \
    }
#define MUT(name, path)         \
    {                           \
#name, mut_##name, path \
    }

M(id_chars, "id", o->id = "jo 1")
M(id_long, "id",
  o->id = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
M(cvr_missing, "cvr", o->cvr = "")
M(cvr_letters, "cvr", o->cvr = "3561000x")
M(cvr_short, "cvr", o->cvr = "3561000")
M(cvr_modulus, "cvr", o->cvr = "35610007")
M(cvr_leading_zero, "cvr", o->cvr = "03561000")
M(pnumber_short, "p_number", o->p_number = "101234567")
M(pnumber_letters, "p_number", o->p_number = "10123456a8")
M(company_long, "company_name", memset(s->big, 'x', INTAKE_NAME_MAX + 1);
  o->company_name = s->big)
M(title_missing, "title", o->title = "")
M(title_long, "title", memset(s->big, 'x', INTAKE_TITLE_MAX + 1);
  o->title = s->big)
M(title_control, "title", o->title = "Lager\x01medarbejder")
M(title_newline, "title", o->title = "Lager\nmedarbejder")
M(title_blank, "title", o->title = "   ")
M(title_nbsp, "title", o->title = "\xc2\xa0")
M(title_ideographic_space, "title", o->title = " \xe3\x80\x80\t")
M(title_c1, "title", o->title = "Lager\xc2\x9b")
M(title_rlo, "title", o->title = "Lager\xe2\x80\xaemedarbejder")
M(title_isolate, "title", o->title = "Lager\xe2\x81\xa6medarbejder")
M(title_line_separator, "title", o->title = "Lager\xe2\x80\xa8medarbejder")
M(company_blank, "company_name", o->company_name = " ")
M(company_embedding, "company_name", o->company_name = "Lager \xe2\x80\xab ApS")
M(consultant_pop_isolate, "consultant", o->consultant = "Mette\xe2\x81\xa9")
M(description_override, "description",
  o->description = "Plukning.\nDagvagt\xe2\x80\xad 7-15.")
M(description_blank, "description", o->description = "\n \t")
M(description_long, "description",
  memset(s->big, 'x', INTAKE_DESCRIPTION_MAX + 1);
  o->description = s->big)
M(occupation_missing, "occupation_uri", o->occupation_uri = "")
M(occupation_skill_uri, "occupation_uri", o->occupation_uri = SKILL(1))
M(occupation_upper, "occupation_uri",
  o->occupation_uri = "http://data.europa.eu/esco/occupation/BEA705FE-06AC-"
                      "4147-B8E0-6E8AC1208D8F")
M(occupation_https, "occupation_uri",
  o->occupation_uri = "https://data.europa.eu/esco/occupation/bea705fe-06ac-"
                      "4147-b8e0-6e8ac1208d8f")
M(isco_short, "isco_code", o->isco_code = "933")
M(isco_letters, "isco_code", o->isco_code = "93a3")
M(isco_mismatch, "isco_code", o->isco_code = "8344")
M(disco_short, "disco_code", o->disco_code = "93331")
M(disco_prefix, "disco_code", o->disco_code = "834410")
M(skill_uri_bad, "essential_skills[1].skill_uri",
  s->ess[1].skill_uri = "http://data.europa.eu/esco/skill/not-a-uuid")
M(skill_uri_empty, "essential_skills[0].skill_uri", s->ess[0].skill_uri = "")
M(skill_uri_occupation, "optional_skills[1].skill_uri",
  s->opt[1].skill_uri = OCC_WAREHOUSE)
M(skill_level_high, "essential_skills[2].min_level", s->ess[2].min_level = 6)
M(skill_duplicate, "essential_skills[2].skill_uri",
  s->ess[2].skill_uri = s->ess[0].skill_uri)
M(skill_in_both, "optional_skills[0].skill_uri",
  s->opt[0].skill_uri = s->ess[1].skill_uri)
M(skill_optional_duplicate, "optional_skills[1].skill_uri",
  s->opt[1].skill_uri = s->opt[0].skill_uri)
M(skills_too_many, "essential_skills",
  o->n_essential_skills = INTAKE_SKILLS_MAX + 1)
M(optional_too_many, "optional_skills",
  o->n_optional_skills = INTAKE_SKILLS_MAX + 1)
M(language_unknown, "languages[0].language", s->lang[0].language = "dk")
M(language_upper, "languages[1].language", s->lang[1].language = "EN")
M(language_long, "languages[1].language", s->lang[1].language = "eng")
M(language_level, "languages[0].min_level", s->lang[0].min_level = 0)
M(language_level_unknown, "languages[0].min_level",
  s->lang[0].min_level = (Jobmatch__V1__LanguageLevel) 9)
M(language_duplicate, "languages[1].language", s->lang[1].language = "da")
M(languages_too_many, "languages", o->n_languages = INTAKE_LANGUAGES_MAX + 1)
M(licence_unspecified, "licences[0]", s->licences[0] = 0)
M(licence_unknown, "licences[0]", s->licences[0] = (Jobmatch__V1__Licence) 99)
M(licence_duplicate, "licences[9]", o->n_licences = 10)
M(licences_too_many, "licences", o->n_licences = INTAKE_LICENCES_MAX + 1)
M(kind_unspecified, "kind", o->kind = 0)
M(kind_unknown, "kind", o->kind = (Jobmatch__V1__JobKind) 42)
M(positions_zero, "positions", o->positions = 0)
M(positions_many, "positions", o->positions = INTAKE_POSITIONS_MAX + 1)
M(hours_zero, "hours_per_week", o->hours_per_week = 0)
M(hours_many, "hours_per_week", o->hours_per_week = 81)
M(start_bad, "start_date", o->start_date = "2027-02-30")
M(deadline_missing, "deadline", o->deadline = "")
M(deadline_format, "deadline", o->deadline = "30-06-2027")
M(deadline_past, "deadline", o->deadline = "2027-02-28")
M(workplace_missing, "workplace", o->workplace = NULL)
M(postcode_missing, "workplace.postcode", s->workplace.postcode = "")
M(postcode_short, "workplace.postcode", s->workplace.postcode = "260")
M(postcode_unknown, "workplace.postcode", s->workplace.postcode = "0001")
M(municipality_unknown, "workplace.municipality_code",
  s->workplace.municipality_code = "999")
M(municipality_missing, "workplace.municipality_code",
  s->workplace.municipality_code = "")
M(municipality_not_the_postcodes, "workplace.municipality_code",
  s->workplace.municipality_code = "101")
M(coordinates_far_from_postcode, "workplace.latitude",
  s->workplace.latitude = 57.0;
  s->workplace.longitude = 9.9)
M(coordinates_north_sea, "workplace.latitude", s->workplace.latitude = 54.5;
  s->workplace.longitude = 8.0)
M(coordinates_abroad, "workplace.latitude", s->workplace.latitude = 48.85;
  s->workplace.longitude = 2.35)
M(coordinates_nan, "workplace.latitude", s->workplace.latitude = NAN;
  s->workplace.longitude = 12.0)
M(owner_missing, "owner_municipality", o->owner_municipality = "")
M(owner_unknown, "owner_municipality", o->owner_municipality = "100")
M(consultant_long, "consultant", memset(s->big, 'x', INTAKE_NAME_MAX + 1);
  o->consultant = s->big)
M(service_version, "version", o->version = 3)
M(service_status, "status", o->status = 1)
M(service_hires, "hires", o->hires = 1)
M(service_candidates, "candidates", o->candidates = s->cand_p;
  o->n_candidates = 1)
M(service_created, "created_at_ms", o->created_at_ms = 1)
M(service_updated, "updated_at_ms", o->updated_at_ms = 1)
M(service_closed, "closed_at_ms", o->closed_at_ms = 1)

static const struct mutation mutations[] = {
    MUT(id_chars, "id"),
    MUT(id_long, "id"),
    MUT(cvr_missing, "cvr"),
    MUT(cvr_letters, "cvr"),
    MUT(cvr_short, "cvr"),
    MUT(cvr_modulus, "cvr"),
    MUT(cvr_leading_zero, "cvr"),
    MUT(pnumber_short, "p_number"),
    MUT(pnumber_letters, "p_number"),
    MUT(company_long, "company_name"),
    MUT(title_missing, "title"),
    MUT(title_long, "title"),
    MUT(title_control, "title"),
    MUT(title_newline, "title"),
    MUT(title_blank, "title"),
    MUT(title_nbsp, "title"),
    MUT(title_ideographic_space, "title"),
    MUT(title_c1, "title"),
    MUT(title_rlo, "title"),
    MUT(title_isolate, "title"),
    MUT(title_line_separator, "title"),
    MUT(company_blank, "company_name"),
    MUT(company_embedding, "company_name"),
    MUT(consultant_pop_isolate, "consultant"),
    MUT(description_override, "description"),
    MUT(description_blank, "description"),
    MUT(description_long, "description"),
    MUT(occupation_missing, "occupation_uri"),
    MUT(occupation_skill_uri, "occupation_uri"),
    MUT(occupation_upper, "occupation_uri"),
    MUT(occupation_https, "occupation_uri"),
    MUT(isco_short, "isco_code"),
    MUT(isco_letters, "isco_code"),
    MUT(isco_mismatch, "isco_code"),
    MUT(disco_short, "disco_code"),
    MUT(disco_prefix, "disco_code"),
    MUT(skill_uri_bad, "essential_skills[1].skill_uri"),
    MUT(skill_uri_empty, "essential_skills[0].skill_uri"),
    MUT(skill_uri_occupation, "optional_skills[1].skill_uri"),
    MUT(skill_level_high, "essential_skills[2].min_level"),
    MUT(skill_duplicate, "essential_skills[2].skill_uri"),
    MUT(skill_in_both, "optional_skills[0].skill_uri"),
    MUT(skill_optional_duplicate, "optional_skills[1].skill_uri"),
    MUT(skills_too_many, "essential_skills"),
    MUT(optional_too_many, "optional_skills"),
    MUT(language_unknown, "languages[0].language"),
    MUT(language_upper, "languages[1].language"),
    MUT(language_long, "languages[1].language"),
    MUT(language_level, "languages[0].min_level"),
    MUT(language_level_unknown, "languages[0].min_level"),
    MUT(language_duplicate, "languages[1].language"),
    MUT(languages_too_many, "languages"),
    MUT(licence_unspecified, "licences[0]"),
    MUT(licence_unknown, "licences[0]"),
    MUT(licence_duplicate, "licences[9]"),
    MUT(licences_too_many, "licences"),
    MUT(kind_unspecified, "kind"),
    MUT(kind_unknown, "kind"),
    MUT(positions_zero, "positions"),
    MUT(positions_many, "positions"),
    MUT(hours_zero, "hours_per_week"),
    MUT(hours_many, "hours_per_week"),
    MUT(start_bad, "start_date"),
    MUT(deadline_missing, "deadline"),
    MUT(deadline_format, "deadline"),
    MUT(deadline_past, "deadline"),
    MUT(workplace_missing, "workplace"),
    MUT(postcode_missing, "workplace.postcode"),
    MUT(postcode_short, "workplace.postcode"),
    MUT(postcode_unknown, "workplace.postcode"),
    MUT(municipality_unknown, "workplace.municipality_code"),
    MUT(municipality_missing, "workplace.municipality_code"),
    MUT(municipality_not_the_postcodes, "workplace.municipality_code"),
    MUT(coordinates_far_from_postcode, "workplace.latitude"),
    MUT(coordinates_north_sea, "workplace.latitude"),
    MUT(coordinates_abroad, "workplace.latitude"),
    MUT(coordinates_nan, "workplace.latitude"),
    MUT(owner_missing, "owner_municipality"),
    MUT(owner_unknown, "owner_municipality"),
    MUT(consultant_long, "consultant"),
    MUT(service_version, "version"),
    MUT(service_status, "status"),
    MUT(service_hires, "hires"),
    MUT(service_candidates, "candidates"),
    MUT(service_created, "created_at_ms"),
    MUT(service_updated, "updated_at_ms"),
    MUT(service_closed, "closed_at_ms"),
};

/* Each mutation alone makes a valid order fail, at its path, through the
 * submit check a request goes through. */
static void
test_each_rule_has_its_path(void **state)
{
    Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    jm_principal caller;
    intake_rules r = sample_rules();
    char path[192];

    (void) state;
    jm_principal_parse("local", &caller);
    for (size_t i = 0; i < JM_COUNTOF(mutations); i++) {
        struct sample *s = jm_xcalloc(1, sizeof(*s));
        jm_error err = {0};

        sample_init(s);
        mutations[i].mutate(s);
        body.order = &s->order;
        snprintf(path, sizeof(path), "submit_order.order.%s",
                 mutations[i].path);
        if (intake_check_submit(&r, &caller, &body, &err))
            fail_msg("mutation %s passed", mutations[i].name);
        if (err.code != JM_E_INVALID_FIELD || strcmp(err.field_path, path))
            fail_msg("mutation %s: expected invalid_field at %s, got %s at "
                     "%s (%s)",
                     mutations[i].name, path, jm_error_code_name(err.code),
                     err.field_path, err.message);
        assert_true(err.message[0] != '\0');
        free(s);
    }
}

/* The order with one change is refused at path, and the message holds
 * each of the texts (NULL-terminated) a user needs to fix it. */
static void
expect_message(struct sample *s, const char *path, ...)
{
    intake_rules r = sample_rules();
    jm_error err = {0};
    va_list ap;

    assert_false(intake_check_order(&r, &s->order, "o", false, &err));
    expect_error(&err, JM_E_INVALID_FIELD, path);
    va_start(ap, path);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL;) {
        if (strstr(err.message, want) == NULL)
            fail_msg("%s: '%s' does not say '%s'", path, err.message, want);
    }
    va_end(ap);
    sample_init(s);
}

/* The messages name what is wrong: a date's accepted range (not "not a
 * date"), the character and where it stands, the postcode's municipality,
 * the distance and its bound. */
static void
test_messages_say_what_is_wrong(void **state)
{
    struct sample s;

    (void) state;
    sample_init(&s);
    s.order.deadline = "2200-01-01";
    expect_message(&s, "o.deadline", "1900-01-01 to 2199-12-31", NULL);
    s.order.deadline = "2027-02-30";
    expect_message(&s, "o.deadline", "not a date", NULL);
    s.order.title = "Lager\xe2\x80\xaemedarbejder";
    expect_message(&s, "o.title", "U+202E", "character 6", NULL);
    s.order.consultant = "M\xc3\xa6tte\x07";
    expect_message(&s, "o.consultant", "U+0007", NULL);
    s.order.title = "\xc2\xa0 ";
    expect_message(&s, "o.title", "blank", NULL);
    s.workplace.municipality_code = "101";
    expect_message(&s, "o.workplace.municipality_code", "2600", "161", NULL);
    s.workplace.latitude = 57.0;
    s.workplace.longitude = 9.9;
    expect_message(&s, "o.workplace.latitude", "2600", "50 km", NULL);
}

/* Without ESCO the ISCO of an occupation cannot be checked; the URI syntax
 * still is. */
static void
test_without_esco(void **state)
{
    struct sample s;
    intake_rules r = {NULL, jm_clock_today()};
    jm_error err = {0};

    (void) state;
    sample_init(&s);
    s.order.isco_code = "8344";
    s.order.disco_code = "";
    assert_true(intake_check_order(&r, &s.order, "o", false, &err));
    s.order.occupation_uri = "http://example.com/occupation/1";
    assert_false(intake_check_order(&r, &s.order, "o", false, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "o.occupation_uri");
}

/* ---- the other bodies ---- */

static void
test_update_body(void **state)
{
    struct sample s;
    Jobmatch__V1__UpdateOrder body = JOBMATCH__V1__UPDATE_ORDER__INIT;
    intake_rules r = sample_rules();
    jm_principal caller;
    jm_error err = {0};

    (void) state;
    jm_principal_parse("local", &caller);
    sample_init(&s);
    body.order = &s.order;
    body.expected_version = 1;
    assert_false(intake_check_update(&r, &caller, &body, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "update_order.order.id");
    memset(&err, 0, sizeof(err));
    s.order.id = "order-1";
    body.expected_version = 0;
    assert_false(intake_check_update(&r, &caller, &body, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "update_order.expected_version");
    memset(&err, 0, sizeof(err));
    body.expected_version = 4;
    s.order.hours_per_week = 90;
    assert_false(intake_check_update(&r, &caller, &body, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "update_order.order.hours_per_week");
    memset(&err, 0, sizeof(err));
    s.order.hours_per_week = 30;
    assert_true(intake_check_update(&r, &caller, &body, &err));
    body.order = NULL;
    assert_false(intake_check_update(&r, &caller, &body, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "update_order.order");
}

static void
check_status(const char *principal, const char *id, int status, uint32_t hires,
             int code, const char *path)
{
    Jobmatch__V1__SetOrderStatus body = JOBMATCH__V1__SET_ORDER_STATUS__INIT;
    jm_principal caller;
    jm_error err = {0};
    bool ok;

    jm_principal_parse(principal, &caller);
    body.order_id = (char *) id;
    body.status = (Jobmatch__V1__OrderStatus) status;
    body.hires = hires;
    ok = intake_check_set_status(&caller, &body, &err);
    if (code == 0) {
        if (!ok)
            fail_msg("%s: %s", err.field_path, err.message);
        return;
    }
    assert_false(ok);
    expect_error(&err, code, path);
}

static void
test_set_status_body(void **state)
{
    enum { OPEN = 1, FILLED, WITHDRAWN, EXPIRED };

    (void) state;
    check_status("local", "o-1", FILLED, 2, 0, "");
    check_status("local", "o-1", WITHDRAWN, 0, 0, "");
    check_status("service", "o-1", EXPIRED, 0, 0, "");
    check_status("local", "", FILLED, 1, JM_E_INVALID_FIELD,
                 "set_order_status.order_id");
    check_status("local", "o 1", FILLED, 1, JM_E_INVALID_FIELD,
                 "set_order_status.order_id");
    check_status("local", "o-1", 0, 0, JM_E_INVALID_FIELD,
                 "set_order_status.status");
    check_status("local", "o-1", 9, 0, JM_E_INVALID_FIELD,
                 "set_order_status.status");
    check_status("local", "o-1", OPEN, 0, JM_E_INVALID_FIELD,
                 "set_order_status.status");
    /* EXPIRED is the service's own: refused from any client. */
    check_status("local", "o-1", EXPIRED, 0, JM_E_INVALID_FIELD,
                 "set_order_status.status");
    check_status("admin", "o-1", EXPIRED, 0, JM_E_INVALID_FIELD,
                 "set_order_status.status");
    check_status("local", "o-1", FILLED, 0, JM_E_INVALID_FIELD,
                 "set_order_status.hires");
    check_status("local", "o-1", FILLED, 1001, JM_E_INVALID_FIELD,
                 "set_order_status.hires");
    check_status("local", "o-1", WITHDRAWN, 2, JM_E_INVALID_FIELD,
                 "set_order_status.hires");
    check_status("service:matcher", "o-1", WITHDRAWN, 0, JM_E_PERMISSION_DENIED,
                 "");
    check_status("caseworker:101", "o-1", WITHDRAWN, 0, JM_E_PERMISSION_DENIED,
                 "");
    check_status("consultant:101", "o-1", WITHDRAWN, 0, 0, "");
}

static void
test_outcome_get_list_stats_bodies(void **state)
{
    Jobmatch__V1__RecordOutcome out = JOBMATCH__V1__RECORD_OUTCOME__INIT;
    Jobmatch__V1__GetOrder get = JOBMATCH__V1__GET_ORDER__INIT;
    Jobmatch__V1__ListOrders list = JOBMATCH__V1__LIST_ORDERS__INIT;
    Jobmatch__V1__GetOrderStats stats = JOBMATCH__V1__GET_ORDER_STATS__INIT;
    jm_principal local, cw;
    jm_error err = {0};
    char note[INTAKE_NOTE_MAX + 2];

    (void) state;
    jm_principal_parse("local", &local);
    jm_principal_parse("caseworker:101", &cw);
    out.order_id = "o-1";
    out.profile_id = PROFILE_ID;
    out.status = JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_PRESENTED;
    out.note = "Til samtale\ntirsdag";
    assert_true(intake_check_outcome(&local, &out, &err));
    assert_true(intake_check_outcome(&cw, &out, &err));
    /* A profile id has the form profiles gives them; whether the citizen
     * exists only profiles knows. */
    static const char *const not_profile_ids[] = {
        "p/1",
        "notapid",
        "p-1",
        "p-abcdefghijklmnopqrs",   /* 19 characters */
        "p-abcdefghijklmnopqrstu", /* 21 */
        "p-abcdefghijklmnopqrs1",  /* 1 is not base32 */
        "p-ABCDEFGHIJKLMNOPQRST",
        "q-abcdefghijklmnopqrst",
        "0101901234",
    };
    for (size_t i = 0; i < JM_COUNTOF(not_profile_ids); i++) {
        memset(&err, 0, sizeof(err));
        out.profile_id = (char *) not_profile_ids[i];
        if (intake_check_outcome(&local, &out, &err))
            fail_msg("profile id '%s' passed", not_profile_ids[i]);
        expect_error(&err, JM_E_INVALID_FIELD, "record_outcome.profile_id");
        /* The form, never the value: it may be a CPR number sent in the
         * wrong field. */
        assert_non_null(strstr(err.message, "\"p-\""));
        assert_null(strstr(err.message, not_profile_ids[i]));
    }
    memset(&err, 0, sizeof(err));
    out.profile_id = "p-234567abcdefghijklmn";
    assert_true(intake_check_outcome(&local, &out, &err));
    out.profile_id = PROFILE_ID;
    out.status = 0;
    assert_false(intake_check_outcome(&local, &out, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "record_outcome.status");
    memset(&err, 0, sizeof(err));
    out.status = JOBMATCH__V1__CANDIDATE_STATUS__CANDIDATE_STATUS_HIRED;
    memset(note, 'n', sizeof(note) - 1);
    note[sizeof(note) - 1] = '\0';
    out.note = note;
    assert_false(intake_check_outcome(&local, &out, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "record_outcome.note");
    memset(&err, 0, sizeof(err));
    out.note = "";
    out.order_id = "";
    assert_false(intake_check_outcome(&local, &out, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "record_outcome.order_id");
    memset(&err, 0, sizeof(err));

    get.order_id = "";
    assert_false(intake_check_get(&local, &get, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "get_order.order_id");
    memset(&err, 0, sizeof(err));
    get.order_id = "o-1";
    assert_true(intake_check_get(&cw, &get, &err));

    assert_true(intake_check_list(&local, &list, &err));
    list.municipality_code = "10";
    assert_false(intake_check_list(&local, &list, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "list_orders.municipality_code");
    memset(&err, 0, sizeof(err));
    list.municipality_code = "100";
    assert_false(intake_check_list(&local, &list, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "list_orders.municipality_code");
    memset(&err, 0, sizeof(err));
    /* A caseworker of 101 reads 101's orders only; the filter names no
     * single order, and the message says what the caller may read. */
    list.municipality_code = "161";
    assert_false(intake_check_list(&cw, &list, &err));
    expect_error(&err, JM_E_PERMISSION_DENIED, "list_orders.municipality_code");
    assert_string_equal(err.message,
                        "this caller may only read municipality 101's orders");
    memset(&err, 0, sizeof(err));
    list.municipality_code = "101";
    assert_true(intake_check_list(&cw, &list, &err));
    list.status = (Jobmatch__V1__OrderStatus) 7;
    assert_false(intake_check_list(&local, &list, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "list_orders.status");
    memset(&err, 0, sizeof(err));
    list.status = 0;
    list.page_size = INTAKE_PAGE_MAX + 1;
    assert_false(intake_check_list(&local, &list, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "list_orders.page_size");
    memset(&err, 0, sizeof(err));
    list.page_size = INTAKE_PAGE_MAX;
    list.occupation_uri = SKILL(1);
    assert_false(intake_check_list(&local, &list, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "list_orders.occupation_uri");
    memset(&err, 0, sizeof(err));

    stats.municipality_code = "abc";
    assert_false(intake_check_stats(&local, &stats, &err));
    expect_error(&err, JM_E_INVALID_FIELD, "get_order_stats.municipality_code");
    memset(&err, 0, sizeof(err));
    stats.municipality_code = "";
    assert_true(intake_check_stats(&cw, &stats, &err));
    stats.municipality_code = "161";
    assert_false(intake_check_stats(&cw, &stats, &err));
    expect_error(&err, JM_E_PERMISSION_DENIED,
                 "get_order_stats.municipality_code");
    assert_string_equal(err.message, "this caller may only read municipality "
                                     "101's order statistics");
}

/* ---- principals ---- */

static void
test_principals(void **state)
{
    struct sample s;
    Jobmatch__V1__SubmitOrder body = JOBMATCH__V1__SUBMIT_ORDER__INIT;
    intake_rules r = sample_rules();
    jm_principal c;
    jm_error err = {0};

    static const struct {
        const char *principal;
        jm_principal_kind kind;
        bool may_submit;
    } cases[] = {
        {"local", JM_PRINCIPAL_LOCAL, true},
        {"admin", JM_PRINCIPAL_ADMIN, true},
        {"municipality:161", JM_PRINCIPAL_MUNICIPALITY, true},
        {"consultant:161", JM_PRINCIPAL_CONSULTANT, true},
        {"municipality:101", JM_PRINCIPAL_MUNICIPALITY, false},
        {"caseworker:161", JM_PRINCIPAL_CASEWORKER, false},
        {"service:matcher", JM_PRINCIPAL_SERVICE, false},
        {"monitor", JM_PRINCIPAL_MONITOR, false},
        {"municipality:999", JM_PRINCIPAL_UNKNOWN, false},
        {"municipality:", JM_PRINCIPAL_UNKNOWN, false},
        {"service:", JM_PRINCIPAL_UNKNOWN, false},
        /* intake's own requests: expiry, nothing else */
        {"service", JM_PRINCIPAL_SELF, false},
        {"bob", JM_PRINCIPAL_UNKNOWN, false},
        {"", JM_PRINCIPAL_UNKNOWN, false},
    };

    (void) state;
    sample_init(&s);
    body.order = &s.order;
    for (size_t i = 0; i < JM_COUNTOF(cases); i++) {
        jm_principal_parse(cases[i].principal, &c);
        assert_int_equal(c.kind, cases[i].kind);
        memset(&err, 0, sizeof(err));
        if (intake_check_submit(&r, &c, &body, &err) != cases[i].may_submit)
            fail_msg("%s: submit %s", cases[i].principal,
                     cases[i].may_submit ? "refused" : "allowed");
        /* A municipality's own order or not: the field; a kind of caller
         * that may not submit at all: no field. */
        if (!cases[i].may_submit)
            expect_error(&err, JM_E_PERMISSION_DENIED,
                         c.kind == JM_PRINCIPAL_MUNICIPALITY
                             ? "submit_order.order.owner_municipality"
                             : "");
    }
    jm_principal_parse("caseworker:161", &c);
    assert_true(intake_may(&c, INTAKE_OP_OUTCOME, "161", "x", &err));
    assert_true(intake_may(&c, INTAKE_OP_READ, "161", "x", &err));
    assert_false(intake_may(&c, INTAKE_OP_READ, "101", "x", &err));
    jm_principal_parse("service:matcher", &c);
    assert_true(intake_may(&c, INTAKE_OP_READ, "101", "x", &err));
    memset(&err, 0, sizeof(err));
    assert_false(intake_may(&c, INTAKE_OP_OUTCOME, "101", "x", &err));
    expect_error(&err, JM_E_PERMISSION_DENIED, "");
    jm_principal_parse("service", &c);
    assert_true(intake_may(&c, INTAKE_OP_SET_STATUS, "101", "x", &err));
    assert_false(intake_may(&c, INTAKE_OP_UPDATE, "101", "x", &err));
    assert_false(intake_may(&c, INTAKE_OP_READ, "101", "x", &err));
    jm_principal_parse("bob", &c);
    assert_false(intake_may(&c, INTAKE_OP_READ, NULL, "y", &err));
    assert_false(intake_may(&c, INTAKE_OP_STATS, NULL, "y", &err));
}

/* A monitoring system reads the counts of every municipality and not one
 * order: `jobmatch metrics` with a key listed as "monitor". */
static void
test_monitor_reads_counts_only(void **state)
{
    Jobmatch__V1__GetOrderStats stats = JOBMATCH__V1__GET_ORDER_STATS__INIT;
    Jobmatch__V1__ListOrders list = JOBMATCH__V1__LIST_ORDERS__INIT;
    Jobmatch__V1__GetOrder get = JOBMATCH__V1__GET_ORDER__INIT;
    jm_principal c;
    jm_error err = {0};

    (void) state;
    jm_principal_parse("monitor:prometheus", &c);
    stats.municipality_code = "";
    assert_true(intake_check_stats(&c, &stats, &err));
    stats.municipality_code = "101";
    assert_true(intake_check_stats(&c, &stats, &err));
    list.municipality_code = "";
    assert_false(intake_check_list(&c, &list, &err));
    expect_error(&err, JM_E_PERMISSION_DENIED, "");
    memset(&err, 0, sizeof(err));
    get.order_id = "o-1";
    assert_false(intake_check_get(&c, &get, &err));
    assert_int_equal(err.code, JM_E_PERMISSION_DENIED);
    assert_false(intake_may(&c, INTAKE_OP_READ, "101", "x", &err));
    assert_false(intake_may(&c, INTAKE_OP_OUTCOME, "101", "x", &err));
    /* The others who read orders read their counts too. */
    jm_principal_parse("caseworker:161", &c);
    assert_true(intake_may(&c, INTAKE_OP_STATS, "161", "x", &err));
    assert_false(intake_may(&c, INTAKE_OP_STATS, "101", "x", &err));
    jm_principal_parse("service:matcher", &c);
    assert_true(intake_may(&c, INTAKE_OP_STATS, NULL, "x", &err));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_order_passes),
        cmocka_unit_test(test_example_file_passes),
        cmocka_unit_test(test_sample_orders_pass),
        cmocka_unit_test(test_each_rule_has_its_path),
        cmocka_unit_test(test_messages_say_what_is_wrong),
        cmocka_unit_test(test_without_esco),
        cmocka_unit_test(test_update_body),
        cmocka_unit_test(test_set_status_body),
        cmocka_unit_test(test_outcome_get_list_stats_bodies),
        cmocka_unit_test(test_principals),
        cmocka_unit_test(test_monitor_reads_counts_only),
    };

    return cmocka_run_group_tests(tests, sample_group_setup,
                                  sample_group_teardown);
}
