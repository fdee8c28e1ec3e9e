/* test_profiles_server.c - every profiles operation against a server
 * in-process, with CURVE and an allow list so that principals are real:
 * put (new, update by id, update by CPR, stale version), get with and
 * without a caseworker principal, find by CPR, assess + progress
 * trajectory + the latest measurement in the profile and its event,
 * erase (with the key slot zeroed before the reply), the rights of each
 * principal, duplicates by request id, and a restart keeping the personal
 * data readable. (Consent: test_profiles_consent.c.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jm/clock.h"
#include "jm/msg.h"
#include "profiles_server_calls.h"

/* ---- put and get ---- */

static void
test_put_new_and_get_with_and_without_personal(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    const Jobmatch__V1__ProfileReply *pr;
    jm_msg_t *msg;

    pt_put_init(&p, "010190-1234", "Anders Testesen", "anders@example.dk");
    assert_int_equal(pt_put_ok(t, CW161, &p, id), 1);

    /* The home municipality's caseworker sees everything. */
    msg = get_profile(t, CW161, id);
    pr = profile_of(msg);
    assert_string_equal(pr->profile->id, id);
    assert_int_equal(pr->profile->version, 1);
    assert_true(pr->profile->created_at_ms > 0);
    assert_int_equal(pr->profile->created_at_ms, pr->profile->updated_at_ms);
    assert_string_equal(pr->profile->target_group_list, "2025");
    /* Coordinates come from the postcode (2600 Glostrup). */
    assert_true(pr->profile->home->latitude > 55.6 &&
                pr->profile->home->latitude < 55.8);
    assert_non_null(pr->personal);
    assert_string_equal(pr->personal->cpr, "0101901234");
    assert_string_equal(pr->personal->name, "Anders Testesen");
    assert_string_equal(pr->personal->email, "anders@example.dk");
    jm_msg_free(&msg);

    /* The municipality's systems and the services get the pseudonymous
     * profile only (another municipality: only with consent, test_
     * other_municipalities_read_with_consent_only). */
    static const char *const others[] = {M161, MATCH};
    for (size_t i = 0; i < 2; i++) {
        msg = get_profile(t, others[i], id);
        pr = profile_of(msg);
        assert_string_equal(pr->profile->id, id);
        assert_null(pr->personal);
        jm_msg_free(&msg);
    }
    /* admin does see it. */
    msg = get_profile(t, ADMIN, id);
    assert_non_null(profile_of(msg)->personal);
    jm_msg_free(&msg);

    pt_expect_error(get_profile(t, CW161, "p-aaaaaaaaaaaaaaaaaaaa"),
                    JM_E_NOT_FOUND, "get_profile.profile_id");
    pt_expect_error(get_profile(t, CW161, "0101901234"), JM_E_INVALID_FIELD,
                    "get_profile.profile_id");
}

static void
test_update_by_id(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1], again[PROFILES_ID_LEN + 1];
    const Jobmatch__V1__ProfileReply *pr;
    jm_msg_t *msg;

    pt_put_init(&p, "020285-2345", "Birgit Hansen", "birgit@example.dk");
    pt_put_ok(t, CW161, &p, id);

    /* By id, without personal: the personal data stays as it was. */
    pt_put_init(&p, NULL, NULL, NULL);
    p.profile.id = id;
    p.profile.hours_per_week = 20;
    assert_int_equal(pt_put_ok(t, M161, &p, again), 2);
    assert_string_equal(again, id);
    msg = get_profile(t, CW161, id);
    pr = profile_of(msg);
    assert_int_equal(pr->profile->version, 2);
    assert_int_equal(pr->profile->hours_per_week, 20);
    assert_true(pr->profile->updated_at_ms >= pr->profile->created_at_ms);
    assert_string_equal(pr->personal->name, "Birgit Hansen");
    jm_msg_free(&msg);

    /* By id with personal: a new name, the same CPR number. */
    pt_put_init(&p, "0202852345", "Birgit Hansen Holm", "bh@example.dk");
    p.profile.id = id;
    pt_put_ok(t, CW161, &p, NULL);
    msg = get_profile(t, CW161, id);
    assert_string_equal(profile_of(msg)->personal->name, "Birgit Hansen Holm");
    assert_int_equal(profile_of(msg)->profile->version, 3);
    jm_msg_free(&msg);

    /* Another CPR number under this id is another person. */
    pt_put_init(&p, "030375-3456", "Someone Else", NULL);
    p.profile.id = id;
    pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL), JM_E_CONFLICT,
                    "put_profile.personal.cpr");
    /* An id the service never gave out. */
    pt_put_init(&p, NULL, NULL, NULL);
    p.profile.id = "p-bbbbbbbbbbbbbbbbbbbb";
    pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL), JM_E_NOT_FOUND,
                    "put_profile.profile.id");
    assert_int_equal(jm_source_head(profiles_server_source(t->server)), 3);
}

static void
test_update_by_cpr(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char first[PROFILES_ID_LEN + 1], second[PROFILES_ID_LEN + 1];
    char other[PROFILES_ID_LEN + 1];
    jm_msg_t *msg;

    pt_put_init(&p, "040480-1567", "Carl Jensen", NULL);
    pt_put_ok(t, CW161, &p, first);
    /* The same CPR, written either way, without an id: the same citizen. */
    pt_put_init(&p, "0404801567", "Carl Jensen", "carl@example.dk");
    p.profile.max_travel_km = 50;
    pt_put_ok(t, CW161, &p, second);
    assert_string_equal(first, second);
    msg = get_profile(t, CW161, first);
    assert_int_equal(profile_of(msg)->profile->version, 2);
    assert_int_equal(profile_of(msg)->profile->max_travel_km, 50);
    assert_string_equal(profile_of(msg)->personal->email, "carl@example.dk");
    jm_msg_free(&msg);
    /* Another CPR number: another citizen, another random id. */
    pt_put_init(&p, "050581-1678", "Carl Jensen", NULL);
    pt_put_ok(t, CW161, &p, other);
    assert_string_not_equal(other, first);
}

static void
test_stale_version_is_a_conflict(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    uint64_t head;

    pt_put_init(&p, "060686-1789", "Dorthe Nielsen", NULL);
    pt_put_ok(t, CW161, &p, id);
    p.put.expected_version = 1;
    pt_put_ok(t, CW161, &p, NULL); /* now version 2 */
    head = jm_source_head(profiles_server_source(t->server));
    p.put.expected_version = 1; /* stale */
    pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL), JM_E_CONFLICT,
                    "put_profile.expected_version");
    assert_int_equal(jm_source_head(profiles_server_source(t->server)), head);
    p.put.expected_version = 2;
    pt_put_ok(t, CW161, &p, NULL);
    /* A new citizen has no version to expect. */
    pt_put_init(&p, "070787-1890", "Erik Olsen", NULL);
    p.put.expected_version = 4;
    pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL), JM_E_CONFLICT,
                    "put_profile.expected_version");
}

static void
test_find_by_cpr_is_for_caseworkers(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    jm_msg_t *msg;

    pt_put_init(&p, "080888-1901", "Freja Poulsen", "freja@example.dk");
    pt_put_ok(t, M161, &p, id);
    msg = find_profile(t, CW161, "080888-1901");
    assert_string_equal(profile_of(msg)->profile->id, id);
    assert_string_equal(profile_of(msg)->personal->name, "Freja Poulsen");
    jm_msg_free(&msg);
    msg = find_profile(t, ADMIN, "0808881901");
    assert_string_equal(profile_of(msg)->profile->id, id);
    jm_msg_free(&msg);

    pt_expect_error(find_profile(t, CW161, "090989-1012"), JM_E_NOT_FOUND,
                    "find_profile.cpr");
    /* Another municipality's citizen: as if nobody had the number (see
     * test_find_does_not_tell_whether_a_number_is_known_elsewhere). */
    pt_expect_error(find_profile(t, CW101, "080888-1901"), JM_E_NOT_FOUND,
                    "find_profile.cpr");
    pt_expect_error(find_profile(t, M161, "080888-1901"),
                    JM_E_PERMISSION_DENIED, NULL);
    pt_expect_error(find_profile(t, MATCH, "080888-1901"),
                    JM_E_PERMISSION_DENIED, NULL);
    pt_expect_error(find_profile(t, CW161, "321388-1901"), JM_E_INVALID_FIELD,
                    "find_profile.cpr");
}

/* A caseworker who looks up a number of another municipality's citizen
 * must not learn that the number is registered at all: the answer is the
 * one for a number nobody has, to the byte a client can see. */
static void
test_find_does_not_tell_whether_a_number_is_known_elsewhere(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    const Jobmatch__V1__Reply *elsewhere, *nobody;
    jm_msg_t *a, *b;

    pt_put_init(&p, "120372-1344", "Ida Holm", NULL);
    pt_put_ok(t, CW161, &p, NULL);
    a = find_profile(t, CW101, "120372-1344");
    b = find_profile(t, CW101, "130473-1455");
    elsewhere = pt_reply(a);
    nobody = pt_reply(b);
    assert_int_equal(nobody->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(nobody->error->code, JM_E_NOT_FOUND);
    assert_int_equal(elsewhere->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(elsewhere->error->code, nobody->error->code);
    assert_string_equal(elsewhere->error->field_path,
                        nobody->error->field_path);
    assert_string_equal(elsewhere->error->message, nobody->error->message);
    assert_int_equal(elsewhere->error->retryable, nobody->error->retryable);
    jm_msg_free(&a);
    jm_msg_free(&b);
}

/* A name is shown as it is (`jobmatch profile get`, a jobcentre's
 * screen): one of only spaces says nothing, and one holding U+202E shows
 * the rest of the line reversed. Either is refused with the field path,
 * for a new citizen and for an existing one, and nothing is stored. */
static void
test_put_refuses_names_not_shown_as_sent(void **state)
{
    static const char *const bad[] = {
        "   ",                         /* blank */
        "Anders \xe2\x80\xaeTestesen", /* U+202E */
    };
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    uint64_t head;
    jm_msg_t *msg;

    pt_put_init(&p, "170377-1899", "Ulla Vang", NULL);
    pt_put_ok(t, CW161, &p, id);
    head = jm_source_head(profiles_server_source(t->server));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* A new citizen... */
        pt_put_init(&p, "180478-1900", bad[i], NULL);
        pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL),
                        JM_E_INVALID_FIELD, "put_profile.personal.name");
        pt_expect_error(find_profile(t, CW161, "180478-1900"), JM_E_NOT_FOUND,
                        "find_profile.cpr");
        /* ...and a new name for an existing one. */
        pt_put_init(&p, "170377-1899", bad[i], NULL);
        p.profile.id = id;
        pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL),
                        JM_E_INVALID_FIELD, "put_profile.personal.name");
    }
    assert_int_equal(jm_source_head(profiles_server_source(t->server)), head);
    msg = get_profile(t, CW161, id);
    assert_string_equal(profile_of(msg)->personal->name, "Ulla Vang");
    assert_int_equal(profile_of(msg)->profile->version, 1);
    jm_msg_free(&msg);
}

/* ---- progress ---- */

struct last_event {
    Jobmatch__V1__Event *event;
};

static void
keep_last(const Jobmatch__V1__Event *event, void *arg)
{
    struct last_event *last = arg;

    if (last->event != NULL)
        jobmatch__v1__event__free_unpacked(last->event, NULL);
    {
        uint8_t *data = NULL;
        size_t size = 0;

        jm_msg_pack(&event->base, &data, &size);
        last->event = jobmatch__v1__event__unpack(NULL, size, data);
        free(data);
    }
}

static const Jobmatch__V1__ProgressMeasurement *
latest(const Jobmatch__V1__CitizenProfile *p, int dimension)
{
    for (size_t i = 0; i < p->n_progress; i++) {
        if ((int) p->progress[i]->dimension == dimension)
            return p->progress[i];
    }
    return NULL;
}

static void
test_assess_and_trajectory(void **state)
{
    struct pt *t = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProgress gp = JOBMATCH__V1__GET_PROGRESS__INIT;
    const Jobmatch__V1__ProgressTrajectory *tr;
    const Jobmatch__V1__CitizenProfile *profile;
    struct last_event last = {NULL};
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];
    uint64_t seq, version;
    jm_msg_t *msg;

    pt_put_init(&p, "101070-1122", "Gert Madsen", NULL);
    pt_put_ok(t, CW161, &p, id);
    expect_accepted(record(t, CW161, id, DIM(JOB_READINESS), 3, "2026-01-10"),
                    &seq, &version);
    assert_int_equal(seq, 2);
    assert_int_equal(version, 2);
    expect_accepted(record(t, M161, id, DIM(DANISH), 5, "2026-03-01"), NULL,
                    NULL);
    expect_accepted(record(t, CW161, id, DIM(JOB_READINESS), 6, "2026-06-01"),
                    NULL, NULL);
    /* Back-dated: in the trajectory, not the latest. */
    expect_accepted(record(t, CW161, id, DIM(JOB_READINESS), 4, "2026-02-01"),
                    NULL, NULL);

    gp.profile_id = id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS;
    req.get_progress = &gp;
    msg = pt_call(t, MATCH, &req, NULL, NULL);
    assert_int_equal(pt_reply(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_PROGRESS);
    tr = pt_reply(msg)->progress;
    assert_string_equal(tr->profile_id, id);
    assert_int_equal(tr->n_measurements, 4);
    /* Oldest first, across dimensions. */
    assert_string_equal(tr->measurements[0]->date, "2026-01-10");
    assert_string_equal(tr->measurements[1]->date, "2026-02-01");
    assert_string_equal(tr->measurements[2]->date, "2026-03-01");
    assert_int_equal(tr->measurements[2]->dimension, DIM(DANISH));
    assert_string_equal(tr->measurements[3]->date, "2026-06-01");
    assert_int_equal(tr->measurements[3]->score, 6);
    assert_string_equal(tr->measurements[3]->assessor, "SL");
    jm_msg_free(&msg);

    gp.dimension = DIM(JOB_READINESS);
    msg = pt_call(t, CW161, &req, NULL, NULL);
    tr = pt_reply(msg)->progress;
    assert_int_equal(tr->n_measurements, 3);
    assert_int_equal(tr->measurements[0]->score, 3);
    assert_int_equal(tr->measurements[1]->score, 4);
    assert_int_equal(tr->measurements[2]->score, 6);
    jm_msg_free(&msg);
    gp.dimension = DIM(HEALTH);
    msg = pt_call(t, CW161, &req, NULL, NULL);
    assert_int_equal(pt_reply(msg)->progress->n_measurements, 0);
    jm_msg_free(&msg);

    /* The latest per dimension is in the profile... */
    msg = get_profile(t, MATCH, id);
    profile = profile_of(msg)->profile;
    assert_int_equal(profile->version, 5);
    assert_int_equal(latest(profile, DIM(JOB_READINESS))->score, 6);
    assert_int_equal(latest(profile, DIM(DANISH))->score, 5);
    assert_null(latest(profile, DIM(HEALTH)));
    jm_msg_free(&msg);
    /* ...and travels to the matcher in the ProfileChanged event. */
    pt_replay_log(t, MATCH, keep_last, NULL, &last);
    assert_non_null(last.event);
    assert_int_equal(last.event->body_case,
                     JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED);
    assert_int_equal(last.event->profile_changed->change,
                     JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_PROGRESS_RECORDED);
    profile = last.event->profile_changed->profile;
    assert_int_equal(latest(profile, DIM(JOB_READINESS))->score, 6);
    assert_int_equal(latest(profile, DIM(DANISH))->score, 5);
    jobmatch__v1__event__free_unpacked(last.event, NULL);

    pt_expect_error(record(t, CW161, "p-cccccccccccccccccccc", DIM(DANISH), 5,
                           "2026-03-01"),
                    JM_E_NOT_FOUND, "record_progress.profile_id");
    pt_expect_error(record(t, CW101, id, DIM(DANISH), 5, "2026-03-01"),
                    JM_E_PERMISSION_DENIED, "record_progress.profile_id");
    pt_expect_error(record(t, MATCH, id, DIM(DANISH), 5, "2026-03-01"),
                    JM_E_PERMISSION_DENIED, NULL);
    pt_expect_error(record(t, CW161, id, DIM(DANISH), 11, "2026-03-01"),
                    JM_E_INVALID_FIELD, "record_progress.measurement.score");
}

/* ---- erase ---- */

static size_t
nonzero_slots(struct pt *t)
{
    char path[512];
    size_t size = 0, count = 0;
    char *data;

    snprintf(path, sizeof(path), "%s/keys.bin", t->dir);
    data = jm_test_read_file(path, &size);
    assert_non_null(data);
    for (size_t s = 0; s + 32 <= size; s += 32) {
        bool zero = true;

        for (size_t i = 0; i < 32; i++)
            zero &= data[s + i] == 0;
        count += !zero;
    }
    free(data);
    return count;
}

static void
test_erase(void **state)
{
    struct pt *t = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProgress gp = JOBMATCH__V1__GET_PROGRESS__INIT;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1], id2[PROFILES_ID_LEN + 1];
    char again[PROFILES_ID_LEN + 1];
    size_t keys_before;
    uint64_t seq, version;
    jm_msg_t *msg;

    pt_put_init(&p, "121272-3344", "Ib Kristensen", "ib@example.dk");
    pt_put_ok(t, CW161, &p, id);
    pt_put_init(&p, "130373-1455", "Jette Kristensen", "jette@example.dk");
    pt_put_ok(t, CW161, &p, id2);
    expect_accepted(record(t, CW161, id, DIM(HEALTH), 7, "2026-05-05"), NULL,
                    NULL);

    pt_expect_error(erase(t, MATCH, id), JM_E_PERMISSION_DENIED, NULL);
    pt_expect_error(erase(t, CW101, id), JM_E_PERMISSION_DENIED,
                    "erase_profile.profile_id");
    keys_before = nonzero_slots(t);
    expect_accepted(erase(t, CW161, id), &seq, &version);
    assert_int_equal(seq, 4);
    assert_int_equal(version, 0);
    /* The key was overwritten before the reply was sent. */
    assert_int_equal(nonzero_slots(t), keys_before - 1);

    pt_expect_error(get_profile(t, CW161, id), JM_E_NOT_FOUND,
                    "get_profile.profile_id");
    pt_expect_error(find_profile(t, CW161, "121272-3344"), JM_E_NOT_FOUND,
                    "find_profile.cpr");
    gp.profile_id = id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS;
    req.get_progress = &gp;
    pt_expect_error(pt_call(t, CW161, &req, NULL, NULL), JM_E_NOT_FOUND,
                    "get_progress.profile_id");
    pt_expect_error(erase(t, CW161, id), JM_E_NOT_FOUND,
                    "erase_profile.profile_id");
    pt_expect_error(erase(t, CW161, "p-eeeeeeeeeeeeeeeeeeee"), JM_E_NOT_FOUND,
                    "erase_profile.profile_id");

    /* The neighbour is untouched and still opens. */
    msg = get_profile(t, CW161, id2);
    assert_string_equal(profile_of(msg)->personal->name, "Jette Kristensen");
    jm_msg_free(&msg);
    /* The same CPR number again is a new citizen with a new id. */
    pt_put_init(&p, "121272-3344", "Ib Kristensen", NULL);
    pt_put_ok(t, CW161, &p, again);
    assert_string_not_equal(again, id);
}

/* ---- rights, duplicates, restart ---- */

static void
test_rights_of_principals(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1];

    pt_put_init(&p, "140474-1566", "Kim Berg", NULL);
    /* Services read; they never write. */
    pt_expect_error(pt_call(t, MATCH, &p.req, NULL, NULL),
                    JM_E_PERMISSION_DENIED,
                    "put_profile.profile.home.municipality_code");
    /* A caseworker of 101 cannot create a citizen of 161... */
    pt_expect_error(pt_call(t, CW101, &p.req, NULL, NULL),
                    JM_E_PERMISSION_DENIED,
                    "put_profile.profile.home.municipality_code");
    pt_put_ok(t, CW161, &p, id);
    /* ...nor take one over by naming 101 as the new home. */
    p.home.postcode = "1050";
    p.home.municipality_code = "101";
    pt_expect_error(pt_call(t, CW101, &p.req, NULL, NULL),
                    JM_E_PERMISSION_DENIED, "put_profile.profile.id");
    /* Field errors come before permission errors. */
    p.profile.hours_per_week = 0;
    pt_expect_error(pt_call(t, MATCH, &p.req, NULL, NULL), JM_E_INVALID_FIELD,
                    "put_profile.profile.hours_per_week");
    /* admin may move the citizen. */
    p.profile.hours_per_week = 30;
    pt_put_ok(t, ADMIN, &p, NULL);
    pt_expect_error(erase(t, CW161, id), JM_E_PERMISSION_DENIED,
                    "erase_profile.profile_id");
    expect_accepted(erase(t, CW101, id), NULL, NULL);
}

static void
test_duplicate_request_id_changes_nothing(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    uint8_t rid[16];
    const Jobmatch__V1__Reply *reply;
    char id[PROFILES_ID_LEN + 1];
    uint64_t head;
    jm_msg_t *msg;

    jm_test_random(rid, sizeof(rid));
    pt_put_init(&p, "150575-1677", "Lone Dahl", NULL);
    p.req.request_id.data = rid;
    p.req.request_id.len = 16;
    pt_put_ok(t, CW161, &p, id);
    head = jm_source_head(profiles_server_source(t->server));
    /* The same request again: the first reply. */
    msg = pt_call(t, CW161, &p.req, NULL, NULL);
    reply = pt_reply(msg);
    assert_int_equal(reply->body_case, JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    assert_true(reply->duplicate);
    assert_string_equal(reply->accepted->id, id);
    assert_int_equal(reply->accepted->seq, head);
    jm_msg_free(&msg);
    /* Another request under the same id: a conflict, and nothing
     * changes (the first reply would have hidden that it was not
     * applied). */
    p.profile.hours_per_week = 10;
    pt_expect_error(pt_call(t, CW161, &p.req, NULL, NULL), JM_E_CONFLICT,
                    "request_id");
    p.profile.hours_per_week = 37;
    assert_int_equal(jm_source_head(profiles_server_source(t->server)), head);
    /* Another principal with that request id: a conflict. */
    pt_expect_error(pt_call(t, M161, &p.req, NULL, NULL), JM_E_CONFLICT,
                    "request_id");
}

static void
test_restart_keeps_personal_data_readable(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char ids[20][PROFILES_ID_LEN + 1], cpr[16], name[32];
    jm_msg_t *msg;

    for (int i = 0; i < 20; i++) {
        snprintf(cpr, sizeof(cpr), "0101%02d-%04d", 50 + i, 1000 + i);
        snprintf(name, sizeof(name), "Citizen %d", i);
        pt_put_init(&p, cpr, name, NULL);
        pt_put_ok(t, CW161, &p, ids[i]);
    }
    expect_accepted(erase(t, CW161, ids[3]), NULL, NULL);
    pt_restart(t);
    for (int i = 0; i < 20; i++) {
        if (i == 3) {
            pt_expect_error(get_profile(t, CW161, ids[i]), JM_E_NOT_FOUND,
                            NULL);
            continue;
        }
        snprintf(name, sizeof(name), "Citizen %d", i);
        msg = get_profile(t, CW161, ids[i]);
        assert_string_equal(profile_of(msg)->personal->name, name);
        jm_msg_free(&msg);
    }
    /* New citizens after the restart get keys of their own. */
    pt_put_init(&p, "160676-1788", "Mads Friis", NULL);
    pt_put_ok(t, CW161, &p, ids[3]);
    msg = get_profile(t, CW161, ids[3]);
    assert_string_equal(profile_of(msg)->personal->name, "Mads Friis");
    jm_msg_free(&msg);
    msg = get_profile(t, CW161, ids[0]);
    assert_string_equal(profile_of(msg)->personal->name, "Citizen 0");
    jm_msg_free(&msg);
}

/* The node secret replaced (secret.key lost and made anew at start, or
 * taken from another node): the store knows it was written with another
 * one, and the server does not start; with its own secret back, existing
 * citizens are found by CPR as before. */
static void
test_start_with_another_secret_is_refused(void **state)
{
    struct pt *t = *state;
    struct pt_put p;
    char id[PROFILES_ID_LEN + 1], path[512];
    uint8_t other[32]; /* PROFILES_SECRET_BYTES */
    size_t size = 0;
    char *mine;
    FILE *f;
    jm_msg_t *msg;

    pt_put_init(&p, "140480-1234", "Ole Olsen", NULL);
    pt_put_ok(t, CW161, &p, id);
    snprintf(path, sizeof(path), "%s/secret.key", t->dir);
    mine = jm_test_read_file(path, &size);
    assert_int_equal(size, sizeof(other));
    pt_server_stop(t);

    jm_test_random(other, sizeof(other));
    assert_non_null(f = fopen(path, "wb")); /* keeps the file's mode */
    assert_int_equal(fwrite(other, 1, sizeof(other), f), sizeof(other));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(pt_server_new(t), -EKEYREJECTED);
    assert_null(t->server);

    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(mine, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    free(mine);
    pt_restart(t);
    msg = find_profile(t, CW161, "140480-1234");
    assert_string_equal(profile_of(msg)->profile->id, id);
    jm_msg_free(&msg);
}

static void
test_unsupported_body(void **state)
{
    struct pt *t = *state;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetOrder get = JOBMATCH__V1__GET_ORDER__INIT;

    get.order_id = "o-1";
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_ORDER;
    req.get_order = &get;
    pt_expect_error(pt_call(t, CW161, &req, NULL, NULL), JM_E_UNSUPPORTED,
                    NULL);
}

/* The node secret keys the CPR index: a server whose secret (or key file)
 * others may read must not start. */
static void
test_refuses_to_start_with_readable_secret(void **state)
{
    struct profiles_config cfg;
    profiles_server_t *server = NULL;
    char dir[256], path[300];
    uv_loop_t loop;
    FILE *f;

    (void) state;
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/secret.key", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("0123456789abcdef0123456789abcdef", f);
    fclose(f);
    assert_int_equal(chmod(path, 0644), 0);
    jm_cfg_defaults(&cfg, profiles_config_table);
    free(cfg.data_dir);
    cfg.data_dir = strdup(dir);
    free(cfg.api);
    cfg.api = strdup("tcp://127.0.0.1:*");
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(profiles_server_new(&server, &loop, &cfg), -EPERM);
    assert_null(server);
    /* Private again: it starts, with that secret. */
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(profiles_server_new(&server, &loop, &cfg), 0);
    profiles_server_destroy(&server);
    jm_test_close_loop(&loop, 5000);
    jm_cfg_release(&cfg, profiles_config_table);
    jm_test_rmtree(dir);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_new_and_get_with_and_without_personal),
        T(test_update_by_id),
        T(test_update_by_cpr),
        T(test_stale_version_is_a_conflict),
        T(test_find_by_cpr_is_for_caseworkers),
        T(test_find_does_not_tell_whether_a_number_is_known_elsewhere),
        T(test_put_refuses_names_not_shown_as_sent),
        T(test_assess_and_trajectory),
        T(test_erase),
        T(test_rights_of_principals),
        T(test_duplicate_request_id_changes_nothing),
        T(test_restart_keeps_personal_data_readable),
        T(test_start_with_another_secret_is_refused),
        T(test_unsupported_body),
        cmocka_unit_test(test_refuses_to_start_with_readable_secret),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
