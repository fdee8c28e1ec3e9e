/* test_profiles_consent.c - consent to being matched with neighbouring
 * municipalities' orders, against a server in-process with real
 * principals: SetConsent and its rules, what another municipality may read
 * with and without it, a put that must not change it, and an undated
 * consent dated today. (Split from test_profiles_server.c.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "profiles_server_calls.h"

/* ---- consent ---- */

static void
test_consent(void **state)
{
    struct pt *t = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetConsent sc = JOBMATCH__V1__SET_CONSENT__INIT;
    Jobmatch__V1__Consent consent = JOBMATCH__V1__CONSENT__INIT;
    const Jobmatch__V1__CitizenProfile *profile;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1], today[16];
    uint64_t version;
    jm_msg_t *msg;

    pt_put_init(&p, "111171-2233", "Hanne Lund", NULL);
    pt_put_ok(t, CW161, &p, id);
    consent.neighbour_matching = true;
    sc.profile_id = id;
    sc.consent = &consent;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_CONSENT;
    req.set_consent = &sc;
    expect_accepted(pt_call(t, CW161, &req, NULL, NULL), NULL, &version);
    assert_int_equal(version, 2);
    msg = get_profile(t, MATCH, id);
    profile = profile_of(msg)->profile;
    assert_non_null(profile->consent);
    assert_true(profile->consent->neighbour_matching);
    /* Given without a date: given today. */
    jm_date_format(jm_clock_today(), today, sizeof(today));
    assert_string_equal(profile->consent->given_on, today);
    jm_msg_free(&msg);

    consent.neighbour_matching = false;
    consent.given_on = "2026-01-05";
    expect_accepted(pt_call(t, M161, &req, NULL, NULL), NULL, &version);
    assert_int_equal(version, 3);
    msg = get_profile(t, CW161, id);
    profile = profile_of(msg)->profile;
    assert_false(profile->consent->neighbour_matching);
    assert_string_equal(profile->consent->given_on, "2026-01-05");
    jm_msg_free(&msg);

    pt_expect_error(pt_call(t, CW101, &req, NULL, NULL), JM_E_PERMISSION_DENIED,
                    "set_consent.profile_id");
    consent.given_on = "2999-01-01";
    pt_expect_error(pt_call(t, CW161, &req, NULL, NULL), JM_E_INVALID_FIELD,
                    "set_consent.consent.given_on");
    sc.profile_id = "p-dddddddddddddddddddd";
    consent.given_on = "";
    pt_expect_error(pt_call(t, CW161, &req, NULL, NULL), JM_E_NOT_FOUND,
                    "set_consent.profile_id");
}

/* Another municipality's caseworker meets a citizen's id in a shortlist
 * only when the citizen consented to neighbouring municipalities' orders:
 * then it may read the pseudonymous profile (not the measurements over
 * time, which stay with the home municipality); without consent, or
 * once it is withdrawn, the citizen is as unknown to it (NOT_FOUND, as
 * FindProfile answers). The services read every citizen. */
static void
test_other_municipalities_read_with_consent_only(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    jm_msg_t *msg;

    pt_put_init(&p, "030390-3456", "Carl Carlsen", NULL);
    pt_put_ok(t, CW161, &p, id);
    expect_accepted(record(t, CW161, id, DIM(HEALTH), 2, "2026-01-10"), NULL,
                    NULL);

    pt_expect_error(get_profile(t, CW101, id), JM_E_NOT_FOUND,
                    "get_profile.profile_id");
    pt_expect_error(get_progress(t, CW101, id), JM_E_NOT_FOUND,
                    "get_progress.profile_id");

    expect_accepted(set_consent(t, CW161, id, true, "2026-02-01"), NULL, NULL);
    msg = get_profile(t, CW101, id);
    assert_string_equal(profile_of(msg)->profile->id, id);
    assert_null(profile_of(msg)->personal);
    jm_msg_free(&msg);
    pt_expect_error(get_progress(t, CW101, id), JM_E_NOT_FOUND,
                    "get_progress.profile_id");
    /* Its own municipality and the matcher read the trajectory. */
    for (int i = 0; i < 2; i++) {
        msg = get_progress(t, i ? MATCH : CW161, id);
        assert_int_equal(pt_reply(msg)->body_case,
                         JOBMATCH__V1__REPLY__BODY_PROGRESS);
        jm_msg_free(&msg);
    }

    expect_accepted(set_consent(t, CW161, id, false, "2026-03-01"), NULL, NULL);
    pt_expect_error(get_profile(t, CW101, id), JM_E_NOT_FOUND,
                    "get_profile.profile_id");
}

/* With sharing agreements in the config (the matcher's lines), another
 * municipality reads a consenting citizen only when one of its agreements
 * names the citizen's municipality: the matcher never showed it the id
 * otherwise. An agreement goes one way (161's orders seeing 101's citizens
 * does not let 101 see 161's). The home municipality and the services
 * read as before, and the trajectory stays the home municipality's. */
static void
test_other_municipalities_read_under_an_agreement_only(void **state)
{
    static const char *const one_way[] = {"161 101", "101 147", NULL};
    static const char *const both_ways[] = {"101 147,161", NULL};
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    jm_msg_t *msg;

    pt_put_init(&p, "120384-2347", "Gitte Holm", NULL);
    pt_put_ok(t, CW161, &p, id);
    expect_accepted(set_consent(t, CW161, id, true, "2026-02-01"), NULL, NULL);

    t->agreements = one_way;
    pt_restart(t);
    pt_expect_error(get_profile(t, CW101, id), JM_E_NOT_FOUND,
                    "get_profile.profile_id");
    for (int i = 0; i < 2; i++) {
        msg = get_profile(t, i ? MATCH : CW161, id);
        assert_string_equal(profile_of(msg)->profile->id, id);
        jm_msg_free(&msg);
    }

    t->agreements = both_ways;
    pt_restart(t);
    msg = get_profile(t, CW101, id);
    assert_string_equal(profile_of(msg)->profile->id, id);
    assert_null(profile_of(msg)->personal);
    jm_msg_free(&msg);
    pt_expect_error(get_progress(t, CW101, id), JM_E_NOT_FOUND,
                    "get_progress.profile_id");
    /* The agreement does not stand in for the consent. */
    expect_accepted(set_consent(t, CW161, id, false, "2026-03-01"), NULL, NULL);
    pt_expect_error(get_profile(t, CW101, id), JM_E_NOT_FOUND,
                    "get_profile.profile_id");
}

/* A withdrawal of consent is a legal record and must stick: a put of the
 * citizen from a file saved before it (consent given) is refused and the
 * withdrawal stays, whether the put names the citizen by CPR number or by
 * id. A put may leave consent out (the stored one stays) or repeat it as
 * stored (a `profile get --json` edited and sent back). */
static void
test_put_does_not_change_consent(void **state)
{
    struct pt *t = *state;
    Jobmatch__V1__Consent given = JOBMATCH__V1__CONSENT__INIT;
    const Jobmatch__V1__Reply *reply;
    struct pt_put p, by_id;
    char id[PROFILES_ID_LEN + 1], buf[64];
    uint64_t head;
    jm_msg_t *msg;

    given.neighbour_matching = true;
    given.given_on = "2025-11-02";
    pt_put_init(&p, "161276-1788", "Jonas Krogh", NULL);
    p.profile.consent = &given; /* a new citizen: stored as given */
    pt_put_ok(t, CW161, &p, id);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), "yes 2025-11-02");
    expect_accepted(set_consent(t, CW161, id, false, "2026-01-05"), NULL, NULL);
    head = jm_source_head(profiles_server_source(t->server));

    /* The file saved before the withdrawal, by CPR number... */
    msg = pt_call(t, CW161, &p.req, NULL, NULL);
    reply = pt_reply(msg);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(reply->error->code, JM_E_INVALID_FIELD);
    assert_string_equal(reply->error->field_path,
                        "put_profile.profile.consent");
    assert_non_null(strstr(reply->error->message, "SetConsent"));
    assert_non_null(strstr(reply->error->message, "jobmatch profile consent"));
    jm_msg_free(&msg);
    /* ...and by id. */
    pt_put_init(&by_id, NULL, NULL, NULL);
    by_id.profile.id = id;
    by_id.profile.consent = &given;
    pt_expect_error(pt_call(t, M161, &by_id.req, NULL, NULL),
                    JM_E_INVALID_FIELD, "put_profile.profile.consent");
    assert_int_equal(jm_source_head(profiles_server_source(t->server)), head);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), "no 2026-01-05");

    /* The consent as stored: the rest of the put goes through. */
    given.neighbour_matching = false;
    given.given_on = "2026-01-05";
    p.profile.hours_per_week = 20;
    pt_put_ok(t, CW161, &p, NULL);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), "no 2026-01-05");
    /* No consent: the stored one stays. */
    p.profile.consent = NULL;
    p.profile.hours_per_week = 25;
    pt_put_ok(t, CW161, &p, NULL);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), "no 2026-01-05");
    msg = get_profile(t, CW161, id);
    assert_int_equal(profile_of(msg)->profile->hours_per_week, 25);
    assert_int_equal(profile_of(msg)->profile->version, 4);
    jm_msg_free(&msg);
}

/* A new citizen's consent sent without a date was given now, as with
 * SetConsent: it is stored dated today (it was stored undated), so that
 * the record says when. Sending the same put again changes nothing and is
 * not refused as another consent. */
static void
test_put_dates_an_undated_consent_today(void **state)
{
    struct pt *t = *state;
    Jobmatch__V1__Consent undated = JOBMATCH__V1__CONSENT__INIT;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1], buf[64], expected[64], today[16];

    undated.neighbour_matching = true;
    pt_put_init(&p, "190579-1911", "Vibeke Ravn", NULL);
    p.profile.consent = &undated;
    pt_put_ok(t, CW161, &p, id);
    jm_date_format(jm_clock_today(), today, sizeof(today));
    snprintf(expected, sizeof(expected), "yes %s", today);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), expected);

    p.profile.hours_per_week = 20;
    pt_put_ok(t, CW161, &p, NULL);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), expected);
    /* A withdrawal still cannot come back through a put, dated or not. */
    expect_accepted(set_consent(t, CW161, id, false, ""), NULL, NULL);
    pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL), JM_E_INVALID_FIELD,
                    "put_profile.profile.consent");
    snprintf(expected, sizeof(expected), "no %s", today);
    assert_string_equal(consent_of(t, id, buf, sizeof(buf)), expected);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_consent),
        T(test_other_municipalities_read_with_consent_only),
        T(test_other_municipalities_read_under_an_agreement_only),
        T(test_put_does_not_change_consent),
        T(test_put_dates_an_undated_consent_today),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
