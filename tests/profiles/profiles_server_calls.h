/* profiles_server_calls.h - the principals, fixture and one-call helpers
 * shared by test_profiles_server.c and test_profiles_consent.c: a server
 * with CURVE principals (profiles_test_support), and a request of each
 * kind made and its answer checked.
 *
 * static inline so that each test file compiles only what it uses. */
#ifndef PROFILES_SERVER_CALLS_H
#define PROFILES_SERVER_CALLS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/msg.h"
#include "profiles_test_support.h"

#define CW161 "caseworker:161"
#define CW101 "caseworker:101"
#define M161  "municipality:161"
#define MATCH "service:matcher"
#define ADMIN "admin"

static const char *const principals[] = {CW161, CW101, M161,
                                         MATCH, ADMIN, NULL};

static inline int
setup(void **state)
{
    struct pt *t = calloc(1, sizeof(*t));

    pt_start(t, principals);
    *state = t;
    return 0;
}

static inline int
teardown(void **state)
{
    struct pt *t = *state;

    pt_stop(t);
    free(t);
    return 0;
}

static inline jm_msg_t *
get_profile(struct pt *t, const char *principal, const char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;

    get.profile_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROFILE;
    req.get_profile = &get;
    return pt_call(t, principal, &req, NULL, NULL);
}

/* A citizen's progress over time, every dimension. */
static inline jm_msg_t *
get_progress(struct pt *t, const char *principal, const char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__GetProgress get = JOBMATCH__V1__GET_PROGRESS__INIT;

    get.profile_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS;
    req.get_progress = &get;
    return pt_call(t, principal, &req, NULL, NULL);
}

static inline jm_msg_t *
find_profile(struct pt *t, const char *principal, const char *cpr)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__FindProfile find = JOBMATCH__V1__FIND_PROFILE__INIT;

    find.cpr = (char *) cpr;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE;
    req.find_profile = &find;
    return pt_call(t, principal, &req, NULL, NULL);
}

static inline const Jobmatch__V1__ProfileReply *
profile_of(jm_msg_t *msg)
{
    const Jobmatch__V1__Reply *reply = pt_reply(msg);

    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_PROFILE)
        fail_msg("expected a profile, got %s %s: %s",
                 jm_error_code_name(reply->error->code),
                 reply->error->field_path, reply->error->message);
    return reply->profile;
}

static inline jm_msg_t *
record(struct pt *t, const char *principal, const char *id, int dimension,
       unsigned score, const char *date)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__RecordProgress rp = JOBMATCH__V1__RECORD_PROGRESS__INIT;
    Jobmatch__V1__ProgressMeasurement m =
        JOBMATCH__V1__PROGRESS_MEASUREMENT__INIT;

    m.dimension = (Jobmatch__V1__ProgressDimension) dimension;
    m.score = score;
    m.date = (char *) date;
    m.assessor = "SL";
    rp.profile_id = (char *) id;
    rp.measurement = &m;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS;
    req.record_progress = &rp;
    return pt_call(t, principal, &req, NULL, NULL);
}

static inline jm_msg_t *
erase(struct pt *t, const char *principal, const char *id)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__EraseProfile e = JOBMATCH__V1__ERASE_PROFILE__INIT;

    e.profile_id = (char *) id;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE;
    req.erase_profile = &e;
    return pt_call(t, principal, &req, NULL, NULL);
}

static inline void
expect_accepted(jm_msg_t *msg, uint64_t *seq, uint64_t *version)
{
    const Jobmatch__V1__Reply *reply = pt_reply(msg);

    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_ACCEPTED)
        fail_msg("expected Accepted, got %s %s: %s",
                 jm_error_code_name(reply->error->code),
                 reply->error->field_path, reply->error->message);
    if (seq != NULL)
        *seq = reply->accepted->seq;
    if (version != NULL)
        *version = reply->accepted->version;
    jm_msg_free(&msg);
}

#define DIM(x) JOBMATCH__V1__PROGRESS_DIMENSION__PROGRESS_DIMENSION_##x

static inline jm_msg_t *
set_consent(struct pt *t, const char *principal, const char *id,
            bool neighbour_matching, const char *given_on)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__SetConsent sc = JOBMATCH__V1__SET_CONSENT__INIT;
    Jobmatch__V1__Consent consent = JOBMATCH__V1__CONSENT__INIT;

    consent.neighbour_matching = neighbour_matching;
    consent.given_on = (char *) given_on;
    sc.profile_id = (char *) id;
    sc.consent = &consent;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_SET_CONSENT;
    req.set_consent = &sc;
    return pt_call(t, principal, &req, NULL, NULL);
}

/* The stored consent of id, as "yes 2026-01-05" or "none". */
static inline const char *
consent_of(struct pt *t, const char *id, char *buf, size_t size)
{
    jm_msg_t *msg = get_profile(t, CW161, id);
    const Jobmatch__V1__Consent *c = profile_of(msg)->profile->consent;

    if (c == NULL)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "%s %s", c->neighbour_matching ? "yes" : "no",
                 c->given_on);
    jm_msg_free(&msg);
    return buf;
}

#endif
