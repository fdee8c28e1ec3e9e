/* test_dk.c - the compiled-in Danish tables, identifier checks (CVR,
 * P-number, CPR), distances, ESCO URIs and the target-group code lists. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm_test.h"
#include "jobmatch/v1/types.pb-c.h"

#define KIND(name) (1u << JOBMATCH__V1__JOB_KIND__JOB_KIND_##name)

static void
test_all_municipalities_found(void **state)
{
    const jm_dk_municipality *m;

    (void) state;
    assert_int_equal(jm_dk_municipality_count(), 98);
    for (size_t i = 0; i < jm_dk_municipality_count(); i++) {
        m = jm_dk_municipality_at(i);
        assert_non_null(m);
        assert_int_equal(strlen(m->code), 3);
        /* Sorted strictly: what the binary search relies on. */
        if (i > 0)
            assert_true(strcmp(jm_dk_municipality_at(i - 1)->code, m->code) <
                        0);
        assert_ptr_equal(jm_dk_municipality_find(m->code), m);
        assert_int_equal(jm_dk_municipality_index(m), i);
        assert_true(strlen(m->name) > 0);
        assert_true(strncmp(m->region, "Region ", 7) == 0);
        assert_true(jm_geo_in_denmark(m->latitude, m->longitude));
    }
    assert_null(jm_dk_municipality_at(98));

    m = jm_dk_municipality_find("101");
    assert_non_null(m);
    /* UTF-8 survives the CMake generator byte for byte. */
    assert_string_equal(m->name, "K\xc3\xb8"
                                 "benhavn");
    assert_string_equal(m->region, "Region Hovedstaden");
    m = jm_dk_municipality_find("851");
    assert_non_null(m);
    assert_string_equal(m->name, "Aalborg");
    assert_string_equal(m->region, "Region Nordjylland");

    assert_null(jm_dk_municipality_find("0101"));
    assert_null(jm_dk_municipality_find("10"));
    assert_null(jm_dk_municipality_find("999"));
    assert_null(jm_dk_municipality_find("411")); /* Ertholmene: none */
    assert_null(jm_dk_municipality_find(""));
    assert_null(jm_dk_municipality_find(NULL));
}

static void
test_every_postcode_names_a_municipality(void **state)
{
    size_t without_coordinates = 0;
    size_t per_municipality[1000] = {0};
    const jm_dk_postcode *p;

    (void) state;
    assert_int_equal(jm_dk_postcode_count(), 1109);
    for (size_t i = 0; i < jm_dk_postcode_count(); i++) {
        const jm_dk_municipality *m;

        p = jm_dk_postcode_at(i);
        assert_non_null(p);
        assert_int_equal(strlen(p->code), 4);
        if (i > 0)
            assert_true(strcmp(jm_dk_postcode_at(i - 1)->code, p->code) < 0);
        assert_ptr_equal(jm_dk_postcode_find(p->code), p);
        m = jm_dk_municipality_find(p->municipality_code);
        if (m == NULL)
            fail_msg("postcode %s: unknown municipality %s", p->code,
                     p->municipality_code);
        per_municipality[atoi(m->code)]++;
        if (p->has_coordinates) {
            if (!jm_geo_in_denmark(p->latitude, p->longitude))
                fail_msg("postcode %s lies outside Denmark", p->code);
        } else {
            assert_true(p->latitude == 0 && p->longitude == 0);
            without_coordinates++;
        }
    }
    assert_null(jm_dk_postcode_at(1109));
    /* 1431 and 1566 are not in GeoNames; 0999's point was dropped. */
    assert_int_equal(without_coordinates, 3);
    assert_false(jm_dk_postcode_find("0999")->has_coordinates);
    assert_false(jm_dk_postcode_find("1431")->has_coordinates);
    assert_false(jm_dk_postcode_find("1566")->has_coordinates);
    for (size_t i = 0; i < jm_dk_municipality_count(); i++) {
        const jm_dk_municipality *m = jm_dk_municipality_at(i);

        if (per_municipality[atoi(m->code)] == 0)
            fail_msg("municipality %s has no postcode", m->code);
    }

    p = jm_dk_postcode_find("2100");
    assert_non_null(p);
    assert_string_equal(p->municipality_code, "101");
    assert_string_equal(p->name, "K\xc3\xb8"
                                 "benhavn \xc3\x98");
    p = jm_dk_postcode_find("8000");
    assert_non_null(p);
    assert_string_equal(p->municipality_code, "751");
    p = jm_dk_postcode_find("0800");
    assert_non_null(p);
    assert_string_equal(p->municipality_code, "169");
    assert_null(jm_dk_postcode_find("800"));
    assert_null(jm_dk_postcode_find("0000"));
    assert_null(jm_dk_postcode_find("21000"));
    assert_null(jm_dk_postcode_find(NULL));
}

/* Every code of the right width is found exactly when the tables hold it
 * (look-ups index the tables by the code's value), and the entry found is
 * the one with that code. */
static void
test_every_code_looked_up(void **state)
{
    char code[5];

    (void) state;
    for (unsigned v = 0; v < 1000; v++) {
        const jm_dk_municipality *found, *listed = NULL;

        snprintf(code, sizeof(code), "%03u", v);
        for (size_t i = 0; i < jm_dk_municipality_count(); i++)
            if (strcmp(jm_dk_municipality_at(i)->code, code) == 0)
                listed = jm_dk_municipality_at(i);
        found = jm_dk_municipality_find(code);
        if (found != listed)
            fail_msg("municipality %s: found %p, listed %p", code,
                     (const void *) found, (const void *) listed);
    }
    for (unsigned v = 0; v < 10000; v++) {
        const jm_dk_postcode *found, *listed = NULL;

        snprintf(code, sizeof(code), "%04u", v);
        for (size_t i = 0; i < jm_dk_postcode_count(); i++)
            if (strcmp(jm_dk_postcode_at(i)->code, code) == 0)
                listed = jm_dk_postcode_at(i);
        found = jm_dk_postcode_find(code);
        if (found != listed)
            fail_msg("postcode %s: found %p, listed %p", code,
                     (const void *) found, (const void *) listed);
    }
    assert_null(jm_dk_postcode_find("21a0"));
    assert_null(jm_dk_municipality_find("1 1"));
}

static void
test_cvr(void **state)
{
    /* Published CVR numbers: Novo Nordisk A/S, A.P. Moeller - Maersk A/S,
     * Carlsberg A/S, Danske Bank A/S. */
    static const char *const real[] = {"24256790", "22756214", "61056416",
                                       "61126228"};
    static const char *const bad[] = {
        "24256791", /* check digit off by one */
        "22756241", /* two digits swapped */
        "00000000", /* sums to 0 mod 11, but a leading 0 */
        "2425679",  " 24256790", "24256790 ", "242567900", "2425679a", "",
    };
    static const int weights[8] = {2, 7, 6, 5, 4, 3, 2, 1};
    int constructed = 0;

    (void) state;
    for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
        if (!jm_dk_cvr_valid(real[i]))
            fail_msg("CVR %s rejected", real[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (jm_dk_cvr_valid(bad[i]))
            fail_msg("CVR \"%s\" accepted", bad[i]);
    }
    assert_false(jm_dk_cvr_valid(NULL));

    /* Construct numbers: for a 7-digit prefix, exactly the one last digit
     * that makes the weighted sum divisible by 11 passes (and none when
     * that digit would have to be 10). */
    for (int prefix = 1000000; prefix <= 9999999; prefix += 997) {
        char cvr[9];
        int sum = 0, valid_digits = 0;

        snprintf(cvr, sizeof(cvr), "%07d0", prefix);
        for (int i = 0; i < 7; i++)
            sum += weights[i] * (cvr[i] - '0');
        for (int d = 0; d <= 9; d++) {
            cvr[7] = (char) ('0' + d);
            if (jm_dk_cvr_valid(cvr)) {
                assert_int_equal((sum + d) % 11, 0);
                valid_digits++;
            }
        }
        assert_int_equal(valid_digits, (11 - sum % 11) % 11 <= 9 ? 1 : 0);
        constructed += valid_digits;
    }
    assert_true(constructed > 5000);
}

static void
test_pnumber(void **state)
{
    (void) state;
    assert_true(jm_dk_pnumber_valid("1003388394"));
    assert_true(jm_dk_pnumber_valid("0000000001"));
    assert_false(jm_dk_pnumber_valid("100338839"));
    assert_false(jm_dk_pnumber_valid("10033883940"));
    assert_false(jm_dk_pnumber_valid("100338839x"));
    assert_false(jm_dk_pnumber_valid("-100338839"));
    assert_false(jm_dk_pnumber_valid(""));
    assert_false(jm_dk_pnumber_valid(NULL));
}

static void
test_cpr(void **state)
{
    static const struct {
        const char *cpr;
        const char *normalized; /* NULL: must be rejected */
    } cases[] = {
        /* 7th digit 4, YY 00 <= 36: born 2000, a leap year. */
        {"290200-4234", "2902004234"},
        /* 7th digit 1: born 1900, which was not a leap year. */
        {"290200-1234", NULL},
        {"300201-4234", NULL}, /* 30 February */
        {"010190-1234", "0101901234"},
        {"0101901234", "0101901234"},
        {"311299-3999", "3112993999"}, /* 0-3: 1900s */
        {"010137-4000", "0101374000"}, /* 4, YY 37: 1937 */
        {"010199-9000", "0101999000"}, /* 9, YY 99: 1999 */
        {"010120-9000", "0101209000"}, /* 9, YY 20: 2020 */
        {"010110-5000", "0101105000"}, /* 5-8, YY <= 57: 2010 */
        {"010158-5000", NULL},         /* 5-8, YY 58: 1858, not living */
        {"010185-8000", NULL},         /* 1885 */
        {"010136-4000", NULL},         /* 2036: not born yet */
        {"010157-6000", NULL},         /* 2057: not born yet */
        {"010625-4000", "0106254000"}, /* born today (fake clock) */
        {"020625-4000", NULL},         /* born tomorrow */
        {"320190-1234", NULL},
        {"011390-1234", NULL},
        {"000190-1234", NULL},
        {"010190 1234", NULL},
        {"01019-01234", NULL},
        {"010190-123", NULL},
        {"010190-12345", NULL},
        {"0101901234 ", NULL},
        {"01a1901234", NULL},
        {"010190+1234", NULL},
        {"", NULL},
    };

    char out[11];

    (void) state;
    /* The CPR check refuses future birth dates: pin "today". */
    jm_clock_set_fake(INT64_C(86400000) * jm_days_from_civil(2025, 6, 1) +
                      43200000);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc;

        memset(out, 'x', sizeof(out));
        rc = jm_dk_cpr_normalize(cases[i].cpr, out);
        if (cases[i].normalized == NULL) {
            if (rc != -EINVAL)
                fail_msg("CPR \"%s\" accepted", cases[i].cpr);
        } else {
            if (rc != 0)
                fail_msg("CPR \"%s\" rejected", cases[i].cpr);
            assert_string_equal(out, cases[i].normalized);
        }
    }
    assert_int_equal(jm_dk_cpr_normalize(NULL, out), -EINVAL);
    jm_clock_set_fake(0);
}

static void
test_distance(void **state)
{
    const jm_dk_municipality *cph = jm_dk_municipality_find("101");
    const jm_dk_municipality *aarhus = jm_dk_municipality_find("751");
    const jm_dk_postcode *p2100 = jm_dk_postcode_find("2100");
    const jm_dk_postcode *p8000 = jm_dk_postcode_find("8000");
    double d;

    (void) state;
    d = jm_geo_distance_km(cph->latitude, cph->longitude, aarhus->latitude,
                           aarhus->longitude);
    assert_true(d > 155.0 && d < 160.0);
    assert_true(fabs(d - jm_geo_distance_km(aarhus->latitude, aarhus->longitude,
                                            cph->latitude, cph->longitude)) <
                1e-9);
    d = jm_geo_distance_km(p2100->latitude, p2100->longitude, p8000->latitude,
                           p8000->longitude);
    assert_true(d > 150.0 && d < 165.0);
    assert_true(jm_geo_distance_km(55.0, 12.0, 55.0, 12.0) == 0.0);
    /* One degree of latitude is about 111.2 km anywhere. */
    d = jm_geo_distance_km(55.0, 10.0, 56.0, 10.0);
    assert_true(fabs(d - 111.2) < 0.1);
    /* Antipodes: half the circumference, no NaN from rounding. */
    d = jm_geo_distance_km(0.0, 0.0, 0.0, 180.0);
    assert_true(fabs(d - 20015.1) < 1.0);
}

static void
test_in_denmark(void **state)
{
    (void) state;
    assert_true(jm_geo_in_denmark(55.6761, 12.5683));  /* Copenhagen */
    assert_true(jm_geo_in_denmark(57.7209, 10.5839));  /* Skagen */
    assert_true(jm_geo_in_denmark(55.1037, 14.7065));  /* Rønne */
    assert_true(jm_geo_in_denmark(54.9, 8.65));        /* Tønder area */
    assert_false(jm_geo_in_denmark(52.52, 13.405));    /* Berlin */
    assert_false(jm_geo_in_denmark(59.9139, 10.7522)); /* Oslo */
    assert_false(jm_geo_in_denmark(55.6, 7.9));
    assert_false(jm_geo_in_denmark(0.0, 0.0));
    assert_false(jm_geo_in_denmark(NAN, 10.0));
    assert_false(jm_geo_in_denmark(56.0, NAN));
}

static void
test_esco_uris(void **state)
{
    static const char *const bad_skills[] = {
        "http://data.europa.eu/esco/skill/0005C151-5b5a-4a66-8aac-60e734beb1ab",
        "https://data.europa.eu/esco/skill/"
        "0005c151-5b5a-4a66-8aac-60e734beb1ab",
        "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1a",
        "http://data.europa.eu/esco/skill/"
        "0005c151-5b5a-4a66-8aac-60e734beb1abc",
        "http://data.europa.eu/esco/skill/"
        "0005c151-5b5a-4a66-8aac-60e734beb1ab/",
        "http://data.europa.eu/esco/skill/0005c1515-b5a-4a66-8aac-60e734beb1ab",
        "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ag",
        "http://data.europa.eu/esco/skill/0005c151_5b5a_4a66_8aac_60e734beb1ab",
        "http://data.europa.eu/esco/skill/",
        "http://data.europa.eu/esco/skills/"
        "0005c151-5b5a-4a66-8aac-60e734beb1ab",
        "0005c151-5b5a-4a66-8aac-60e734beb1ab",
        "",
    };
    const char *skill =
        "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab";
    const char *occupation = "http://data.europa.eu/esco/occupation/"
                             "00030d09-2b3a-4efd-87cc-c4ea39d27c34";

    (void) state;
    assert_true(jm_esco_skill_uri_valid(skill));
    assert_true(jm_esco_occupation_uri_valid(occupation));
    assert_false(jm_esco_occupation_uri_valid(skill));
    assert_false(jm_esco_skill_uri_valid(occupation));
    for (size_t i = 0; i < sizeof(bad_skills) / sizeof(bad_skills[0]); i++) {
        if (jm_esco_skill_uri_valid(bad_skills[i]))
            fail_msg("\"%s\" accepted", bad_skills[i]);
    }
    assert_false(jm_esco_skill_uri_valid(NULL));
    assert_false(jm_esco_occupation_uri_valid(NULL));
}

static void
test_target_groups(void **state)
{
    const uint32_t ordinary_and_subsidy =
        KIND(ORDINARY) | KIND(WAGE_SUBSIDY_PRIVATE) |
        KIND(WAGE_SUBSIDY_PUBLIC) | KIND(INTERNSHIP);
    const uint32_t all_kinds = ordinary_and_subsidy | KIND(FLEX_JOB) |
                               KIND(IGU) | KIND(ADULT_APPRENTICE);
    size_t in_2019 = 0, in_2025 = 0;
    const jm_dk_target_group *g;

    (void) state;
    assert_string_equal(jm_dk_target_group_default_list(), "2025");

    /* NULL list: the default. */
    g = jm_dk_target_group_find(NULL, "jobparat");
    assert_non_null(g);
    assert_string_equal(g->list, "2025");
    assert_ptr_equal(g, jm_dk_target_group_find("2025", "jobparat"));
    /* The bits are the protocol's JobKind numbers. */
    assert_int_equal(g->job_kinds,
                     ordinary_and_subsidy | KIND(ADULT_APPRENTICE));

    /* Groups the 2025 reform removed exist only in the 2019 list. */
    assert_non_null(jm_dk_target_group_find("2019", "dagpenge"));
    assert_null(jm_dk_target_group_find("2025", "dagpenge"));
    assert_non_null(jm_dk_target_group_find("2019", "sygedagpenge"));
    assert_null(jm_dk_target_group_find(NULL, "sygedagpenge"));
    assert_non_null(jm_dk_target_group_find("2025", "sygemeldt"));
    assert_null(jm_dk_target_group_find("2019", "sygemeldt"));
    assert_non_null(jm_dk_target_group_find("2025", "ung"));
    assert_null(jm_dk_target_group_find("2031", "jobparat"));
    assert_null(jm_dk_target_group_find("2025", "Jobparat"));
    assert_null(jm_dk_target_group_find("2025", NULL));

    g = jm_dk_target_group_find("2019", "ressourceforloeb");
    assert_non_null(g);
    assert_string_equal(g->label, "Person i ressourceforl\xc3\xb8"
                                  "b");
    assert_int_equal(g->job_kinds, ordinary_and_subsidy);

    /* The rules of thumb data/README.md states, over every row. */
    for (size_t i = 0; i < jm_dk_target_group_count(); i++) {
        g = jm_dk_target_group_at(i);
        assert_non_null(g);
        assert_ptr_equal(jm_dk_target_group_find(g->list, g->code), g);
        assert_true(g->job_kinds != 0);
        assert_int_equal(g->job_kinds & ~all_kinds, 0);
        if (strcmp(g->list, "2019") == 0)
            in_2019++;
        else if (strcmp(g->list, "2025") == 0)
            in_2025++;
        if ((g->job_kinds & KIND(FLEX_JOB)) != 0)
            assert_string_equal(g->code, "fleksjobvisiteret");
        if ((g->job_kinds & KIND(IGU)) != 0)
            assert_string_equal(g->code, "integration");
        if (strcmp(g->code, "fleksjobvisiteret") == 0) {
            assert_int_equal(g->job_kinds, KIND(FLEX_JOB) | KIND(INTERNSHIP));
        } else {
            assert_int_equal(g->job_kinds & ordinary_and_subsidy,
                             ordinary_and_subsidy);
        }
    }
    assert_null(jm_dk_target_group_at(jm_dk_target_group_count()));
    assert_int_equal(in_2019, 12);
    assert_int_equal(in_2025, 6);
    assert_int_equal(in_2019 + in_2025, jm_dk_target_group_count());
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_municipalities_found),
        cmocka_unit_test(test_every_postcode_names_a_municipality),
        cmocka_unit_test(test_every_code_looked_up),
        cmocka_unit_test(test_cvr),
        cmocka_unit_test(test_pnumber),
        cmocka_unit_test(test_cpr),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_in_denmark),
        cmocka_unit_test(test_esco_uris),
        cmocka_unit_test(test_target_groups),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
