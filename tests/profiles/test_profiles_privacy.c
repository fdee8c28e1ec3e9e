/* test_profiles_privacy.c - what profiles promises about personal data,
 * checked from the outside:
 *   - erasure: citizens with known CPR numbers, names and e-mails are
 *     created, updated, assessed and erased; every file under the data
 *     directory (data.mdb, lock.mdb, keys.bin, secret.key, ...) is searched
 *     byte for byte for those strings before and after the erasure (none
 *     found either time: nothing personal is ever stored in clear; a
 *     planted canary proves the search finds what is there); the
 *     ProfileRemoved events are in the log, and their earlier events are
 *     redacted (removals at the same seqs: no event carries their
 *     pseudonymous profile); a consumer replaying the log from seq 0
 *     never sees a CPR number, name or e-mail; GetProfile and FindProfile
 *     then answer NOT_FOUND;
 *   - the log and every reply to a principal that is not the citizen's
 *     caseworker (service:matcher, municipality:161, consultant:161,
 *     caseworker:101) carry no CPR number, name or e-mail, while the
 *     caseworker's reply does (so the scan of replies is shown to work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/msg.h"
#include "jm/principal.h"
#include "jm/rpc.h"
#include "profiles_test_support.h"

#define CW161   "caseworker:161"
#define CW101   "caseworker:101"
#define M161    "municipality:161"
#define MATCH   "service:matcher"
#define CONS161 "consultant:161"
#define CANARY  "CANARY-7f3a-planted-in-clear"

#define CITIZENS 5

static const char *const principals[] = {CW161,   CW101, M161,
                                         CONS161, MATCH, NULL};

/* The citizens' personal data, and every spelling to look for. */
struct people {
    char cpr[CITIZENS][12];
    char name[CITIZENS][48];
    char email[CITIZENS][48];
    char phone[CITIZENS][24];
    char id[CITIZENS][PROFILES_ID_LEN + 1];
    char storage[CITIZENS * 6 + 1][48];
    const char *needles[CITIZENS * 6 + 2];
    size_t count;
};

static void
add_needle(struct people *pp, const char *text)
{
    snprintf(pp->storage[pp->count], sizeof(pp->storage[0]), "%s", text);
    pp->needles[pp->count] = pp->storage[pp->count];
    pp->count++;
    pp->needles[pp->count] = NULL;
}

static void
people_init(struct people *pp)
{
    char digits[11];

    memset(pp, 0, sizeof(*pp));
    for (int i = 0; i < CITIZENS; i++) {
        snprintf(pp->cpr[i], sizeof(pp->cpr[0]), "%02d0%d8%d-2%03d", 11 + i,
                 1 + i, i, 345 + i);
        snprintf(pp->name[i], sizeof(pp->name[0]), "Kirsten Erasmussen%c",
                 'A' + i);
        snprintf(pp->email[i], sizeof(pp->email[0]),
                 "kirsten.erasmussen%d@sletmig.dk", i);
        snprintf(pp->phone[i], sizeof(pp->phone[0]), "+45 7%d 12 34 56", i);
        memcpy(digits, pp->cpr[i], 6);
        memcpy(digits + 6, pp->cpr[i] + 7, 5);
        add_needle(pp, pp->cpr[i]);   /* DDMMYY-SSSS */
        add_needle(pp, digits);       /* DDMMYYSSSS */
        add_needle(pp, pp->name[i]);  /* full name */
        add_needle(pp, pp->email[i]); /* e-mail */
        add_needle(pp, pp->phone[i]);
    }
    add_needle(pp, "Erasmussen"); /* any part of any name */
}

/* Fails naming the first needle found in data. */
static void
assert_clean(const uint8_t *data, size_t size, const char *const *needles,
             const char *what)
{
    for (size_t i = 0; needles[i] != NULL; i++) {
        if (pt_contains(data, size, needles[i]))
            fail_msg("%s holds \"%s\"", what, needles[i]);
    }
}

static void
put_citizen(struct pt *t, const char *principal, struct people *pp, int i)
{
    struct pt_put p;

    pt_put_init(&p, pp->cpr[i], pp->name[i], pp->email[i]);
    p.personal.phone = pp->phone[i];
    pt_put_ok(t, principal, &p, pp->id[i]);
}

static jm_msg_t *
call_simple(struct pt *t, const char *principal,
            Jobmatch__V1__Request__BodyCase body, void *msg, uint8_t **packed,
            size_t *size)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;

    req.body_case = body;
    req.get_profile = msg; /* any member of the union */
    return pt_call(t, principal, &req, packed, size);
}

static void
erase_citizen(struct pt *t, const char *principal, const char *id)
{
    Jobmatch__V1__EraseProfile e = JOBMATCH__V1__ERASE_PROFILE__INIT;
    jm_msg_t *msg;

    e.profile_id = (char *) id;
    msg = call_simple(t, principal, JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE,
                      &e, NULL, NULL);
    assert_int_equal(pt_reply(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    jm_msg_free(&msg);
}

static void
record_and_consent(struct pt *t, const char *principal, const char *id)
{
    Jobmatch__V1__RecordProgress rp = JOBMATCH__V1__RECORD_PROGRESS__INIT;
    Jobmatch__V1__ProgressMeasurement m =
        JOBMATCH__V1__PROGRESS_MEASUREMENT__INIT;
    Jobmatch__V1__SetConsent sc = JOBMATCH__V1__SET_CONSENT__INIT;
    Jobmatch__V1__Consent consent = JOBMATCH__V1__CONSENT__INIT;
    jm_msg_t *msg;

    m.dimension = JOBMATCH__V1__PROGRESS_DIMENSION__PROGRESS_DIMENSION_DANISH;
    m.score = 6;
    m.date = "2026-10-01";
    m.assessor = "SL";
    rp.profile_id = (char *) id;
    rp.measurement = &m;
    msg = call_simple(t, principal, JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS,
                      &rp, NULL, NULL);
    assert_int_equal(pt_reply(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    jm_msg_free(&msg);
    consent.neighbour_matching = true;
    sc.profile_id = (char *) id;
    sc.consent = &consent;
    msg = call_simple(t, principal, JOBMATCH__V1__REQUEST__BODY_SET_CONSENT,
                      &sc, NULL, NULL);
    assert_int_equal(pt_reply(msg)->body_case,
                     JOBMATCH__V1__REPLY__BODY_ACCEPTED);
    jm_msg_free(&msg);
}

/* ---- the log, seen by a consumer ---- */

struct replay {
    const char *const *needles;
    char removed[CITIZENS * 6][PROFILES_ID_LEN + 1];
    size_t n_removed;
    char changed[CITIZENS * 12][PROFILES_ID_LEN + 1];
    size_t n_changed;
    size_t events;
};

static void
on_batch(const uint8_t *data, size_t size, void *arg)
{
    struct replay *r = arg;

    assert_clean(data, size, r->needles, "an event batch of the log");
}

static void
on_event(const Jobmatch__V1__Event *event, void *arg)
{
    struct replay *r = arg;

    r->events++;
    if (event->body_case == JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED) {
        assert_true(r->n_removed < CITIZENS * 6);
        snprintf(r->removed[r->n_removed++], PROFILES_ID_LEN + 1, "%s",
                 event->profile_removed->profile_id);
    }
    if (event->body_case == JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED) {
        assert_true(r->n_changed < CITIZENS * 12);
        snprintf(r->changed[r->n_changed++], PROFILES_ID_LEN + 1, "%s",
                 event->profile_changed->profile->id);
    }
}

/* How many events of the replay carry the profile of id. */
static size_t
changes_of(const struct replay *r, const char *id)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_changed; i++)
        n += strcmp(r->changed[i], id) == 0;
    return n;
}

static bool
was_removed(const struct replay *r, const char *id)
{
    for (size_t i = 0; i < r->n_removed; i++) {
        if (strcmp(r->removed[i], id) == 0)
            return true;
    }
    return false;
}

/* ---- erasure ---- */

static void
test_erasure_leaves_nothing_readable(void **state)
{
    struct pt t;
    struct people *pp = calloc(1, sizeof(*pp));
    bool found[CITIZENS * 6 + 2] = {false};
    const char *with_canary[CITIZENS * 6 + 3];
    struct replay replay = {0};
    char path[512];
    FILE *canary;
    size_t n = 0;

    (void) state;
    people_init(pp);
    pt_start(&t, principals);
    for (int i = 0; i < CITIZENS; i++) {
        struct pt_put p;

        put_citizen(&t, CW161, pp, i);
        /* Updates re-seal the personal data; progress and consent add
         * records and events of their own. */
        pt_put_init(&p, pp->cpr[i], pp->name[i], pp->email[i]);
        p.profile.hours_per_week = 20 + i;
        pt_put_ok(&t, CW161, &p, NULL);
        record_and_consent(&t, CW161, pp->id[i]);
    }

    /* A string planted in clear in the data directory: the scan finds
     * what is there, so "not found" below means "not there". */
    snprintf(path, sizeof(path), "%s/canary.txt", t.dir);
    canary = fopen(path, "w");
    assert_non_null(canary);
    fputs("some bytes before " CANARY " and after\n", canary);
    fclose(canary);
    for (n = 0; pp->needles[n] != NULL; n++)
        with_canary[n] = pp->needles[n];
    with_canary[n] = CANARY;
    with_canary[n + 1] = NULL;

    /* Before erasure: nothing personal in any file, only the canary. */
    assert_int_equal(pt_scan_dir(t.dir, with_canary, found), 1);
    assert_true(found[n]);
    for (size_t i = 0; i < n; i++) {
        if (found[i])
            fail_msg("before erasure, a file holds \"%s\"", with_canary[i]);
    }

    for (int i = 0; i < CITIZENS; i++)
        erase_citizen(&t, CW161, pp->id[i]);

    /* After erasure: the same, in the live files... */
    memset(found, 0, sizeof(found));
    assert_int_equal(pt_scan_dir(t.dir, with_canary, found), 1);
    assert_true(found[n]);
    /* ...the log has the removals, and nothing personal in any byte... */
    replay.needles = pp->needles;
    pt_replay_log(&t, MATCH, on_event, on_batch, &replay);
    /* ...and no event carries their pseudonymous profile any more: the
     * four ProfileChanged of each (created, updated, progress, consent)
     * were redacted into removals at the same seqs. */
    assert_int_equal(replay.events, CITIZENS * 5);
    assert_int_equal(replay.n_changed, 0);
    assert_int_equal(replay.n_removed, CITIZENS * 5);
    for (int i = 0; i < CITIZENS; i++) {
        Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;
        Jobmatch__V1__FindProfile find = JOBMATCH__V1__FIND_PROFILE__INIT;

        assert_true(was_removed(&replay, pp->id[i]));
        /* ...and the citizens are gone for good. */
        get.profile_id = pp->id[i];
        pt_expect_error(call_simple(&t, CW161,
                                    JOBMATCH__V1__REQUEST__BODY_GET_PROFILE,
                                    &get, NULL, NULL),
                        JM_E_NOT_FOUND, "get_profile.profile_id");
        find.cpr = pp->cpr[i];
        pt_expect_error(call_simple(&t, CW161,
                                    JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE,
                                    &find, NULL, NULL),
                        JM_E_NOT_FOUND, "find_profile.cpr");
    }

    /* After a restart (the store closed and reopened, the key file
     * checked), still nothing. */
    pt_restart(&t);
    memset(found, 0, sizeof(found));
    assert_int_equal(pt_scan_dir(t.dir, with_canary, found), 1);
    assert_true(found[n]);
    pt_stop(&t);
    free(pp);
}

/* ---- replies to everyone but the citizen's caseworker ---- */

static void
check_reply(struct pt *t, const char *principal,
            Jobmatch__V1__Request__BodyCase body, void *msg,
            const char *const *needles)
{
    uint8_t *packed = NULL;
    size_t size = 0;
    char what[128];
    jm_msg_t *reply = call_simple(t, principal, body, msg, &packed, &size);

    snprintf(what, sizeof(what), "a reply to %s (body %d)", principal,
             (int) body);
    assert_clean(packed, size, needles, what);
    free(packed);
    jm_msg_free(&reply);
}

/* Fetch and FetchSnapshot from principal: PERMISSION_DENIED, naming the
 * request. */
static void
expect_log_refused(struct pt *t, const char *principal)
{
    Jobmatch__V1__Fetch fetch = JOBMATCH__V1__FETCH__INIT;
    Jobmatch__V1__FetchSnapshot snap = JOBMATCH__V1__FETCH_SNAPSHOT__INIT;
    jm_msg_t *msg;

    msg = call_simple(t, principal, JOBMATCH__V1__REQUEST__BODY_FETCH, &fetch,
                      NULL, NULL);
    assert_int_equal(pt_reply(msg)->body_case, JOBMATCH__V1__REPLY__BODY_ERROR);
    assert_int_equal(pt_reply(msg)->error->code,
                     JOBMATCH__V1__ERROR_CODE__ERROR_CODE_PERMISSION_DENIED);
    assert_string_equal(pt_reply(msg)->error->field_path, "fetch");
    jm_msg_free(&msg);
    msg = call_simple(t, principal, JOBMATCH__V1__REQUEST__BODY_FETCH_SNAPSHOT,
                      &snap, NULL, NULL);
    assert_int_equal(pt_reply(msg)->error->code,
                     JOBMATCH__V1__ERROR_CODE__ERROR_CODE_PERMISSION_DENIED);
    assert_string_equal(pt_reply(msg)->error->field_path, "fetch_snapshot");
    jm_msg_free(&msg);
}

static void
test_log_and_other_principals_see_nothing_personal(void **state)
{
    /* The matcher last: its replay of the log then covers what the
     * municipality's puts below added to it. */
    static const char *const outsiders[] = {M161, CONS161, CW101, MATCH};
    struct pt t;
    struct people *pp = calloc(1, sizeof(*pp));
    struct replay replay = {0};
    uint8_t *packed = NULL;
    size_t size = 0;
    jm_msg_t *msg;

    (void) state;
    people_init(pp);
    pt_start(&t, principals);
    /* A municipality's systems write citizens (their replies are
     * scanned too: Accepted holds only the pseudonymous id). */
    for (int i = 0; i < CITIZENS; i++) {
        struct pt_put p;

        pt_put_init(&p, pp->cpr[i], pp->name[i], pp->email[i]);
        p.personal.phone = pp->phone[i];
        msg = pt_call(&t, M161, &p.req, &packed, &size);
        assert_int_equal(pt_reply(msg)->body_case,
                         JOBMATCH__V1__REPLY__BODY_ACCEPTED);
        snprintf(pp->id[i], sizeof(pp->id[0]), "%s",
                 pt_reply(msg)->accepted->id);
        assert_clean(packed, size, pp->needles, "a put reply");
        free(packed);
        jm_msg_free(&msg);
        record_and_consent(&t, M161, pp->id[i]);
    }
    erase_citizen(&t, M161, pp->id[CITIZENS - 1]);

    /* The scan of replies works: the caseworker's reply has it all. */
    {
        Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;
        char digits[11];

        get.profile_id = pp->id[0];
        msg = call_simple(&t, CW161, JOBMATCH__V1__REQUEST__BODY_GET_PROFILE,
                          &get, &packed, &size);
        memcpy(digits, pp->cpr[0], 6);
        memcpy(digits + 6, pp->cpr[0] + 7, 5);
        assert_true(pt_contains(packed, size, pp->name[0]));
        assert_true(pt_contains(packed, size, pp->email[0]));
        assert_true(pt_contains(packed, size, digits));
        free(packed);
        jm_msg_free(&msg);
    }

    for (size_t k = 0; k < sizeof(outsiders) / sizeof(outsiders[0]); k++) {
        const char *who = outsiders[k];
        Jobmatch__V1__FetchSnapshot snap = JOBMATCH__V1__FETCH_SNAPSHOT__INIT;
        Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;

        for (int i = 0; i < CITIZENS; i++) {
            Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;
            Jobmatch__V1__GetProgress gp = JOBMATCH__V1__GET_PROGRESS__INIT;
            Jobmatch__V1__FindProfile find = JOBMATCH__V1__FIND_PROFILE__INIT;

            get.profile_id = pp->id[i];
            check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_GET_PROFILE, &get,
                        pp->needles);
            gp.profile_id = pp->id[i];
            check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS, &gp,
                        pp->needles);
            find.cpr = pp->cpr[i]; /* refused, and the refusal is clean */
            check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE,
                        &find, pp->needles);
        }
        {
            struct pt_put p;

            /* Writes too: refused (or, for the municipality, accepted),
             * and a refusal of a bad field does not echo the values. */
            pt_put_init(&p, pp->cpr[0], pp->name[0], pp->email[0]);
            check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE,
                        &p.put, pp->needles);
            p.personal.email = pp->name[1]; /* not an e-mail address */
            check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE,
                        &p.put, pp->needles);
        }
        snap.credit = 100;
        check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_FETCH_SNAPSHOT, &snap,
                    pp->needles);
        check_reply(&t, who, JOBMATCH__V1__REQUEST__BODY_PING, &ping,
                    pp->needles);
        if (!jm_principal_sees_all(who)) {
            /* The log holds every citizen of every municipality: only a
             * service reads it (its pseudonymous part is checked below). */
            expect_log_refused(&t, who);
            continue;
        }
        memset(&replay, 0, sizeof(replay));
        replay.needles = pp->needles;
        pt_replay_log(&t, who, on_event, on_batch, &replay);
        /* The erased citizen's three changes and the removal; the
         * others' changes untouched (the first one's grow with the
         * municipality's accepted puts above). */
        assert_int_equal(replay.n_removed, 4);
        for (size_t i = 0; i < replay.n_removed; i++)
            assert_string_equal(replay.removed[i], pp->id[CITIZENS - 1]);
        assert_int_equal(changes_of(&replay, pp->id[CITIZENS - 1]), 0);
        assert_true(changes_of(&replay, pp->id[0]) >= 3);
        assert_int_equal(changes_of(&replay, pp->id[1]), 3);
    }
    pt_stop(&t);
    free(pp);
}

/* ---- the access log ---- */

#define ACCESS_LINES 32

/* The "access ..." lines the service logged (whatever the level). */
struct access_log {
    char lines[ACCESS_LINES][256];
    size_t count;
};

static void
capture_access(int level, const char *component, const char *message, void *arg)
{
    struct access_log *log = arg;

    (void) level;
    if (strcmp(component, "profiles") == 0 &&
        strncmp(message, "access ", 7) == 0 && log->count < ACCESS_LINES)
        snprintf(log->lines[log->count++], sizeof(log->lines[0]), "%s",
                 message);
}

/* The one line logged since *from, which must be want (NULL: none). */
static void
expect_access(struct access_log *log, size_t *from, const char *want)
{
    if (want == NULL) {
        if (log->count != *from)
            fail_msg("an access line where none was due: %s",
                     log->lines[*from]);
        return;
    }
    if (log->count != *from + 1)
        fail_msg("%zu access lines, want one: %s", log->count - *from, want);
    assert_string_equal(log->lines[*from], want);
    *from = log->count;
}

/* FindProfile of cpr by principal: the one line it must log. */
static void
find_and_expect(struct pt *t, struct access_log *log, size_t *from,
                const char *principal, const char *cpr, const char *result,
                const char *profile_id)
{
    Jobmatch__V1__FindProfile find = JOBMATCH__V1__FIND_PROFILE__INIT;
    jm_msg_t *msg;
    char want[256];

    find.cpr = (char *) cpr;
    msg = call_simple(t, principal, JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE,
                      &find, NULL, NULL);
    jm_msg_free(&msg);
    snprintf(want, sizeof(want),
             "access principal=%s action=find_profile profile=%s result=%s",
             principal, profile_id, result);
    expect_access(log, from, want);
}

/* Who looked at a citizen's personal data, and who tried, is in the log:
 * a caseworker's disclosure, a look-up by CPR number found, refused (the
 * citizen of another municipality; a principal that may not look up at
 * all) or not found; a read that discloses nothing personal (the matcher)
 * is not logged. So are committed writes of it (a put with the personal
 * part, an erasure), and puts that tell something of a CPR number. The
 * lines name citizens by
 * pseudonymous id only, and are written with the log level at "err" too. */
static void
test_access_to_personal_data_is_logged(void **state)
{
    struct pt t;
    struct people *pp = calloc(1, sizeof(*pp));
    struct access_log log = {0};
    Jobmatch__V1__GetProfile get = JOBMATCH__V1__GET_PROFILE__INIT;
    char want[256];
    size_t from = 0;
    jm_msg_t *msg;
    int level = jm_log_get_level();

    (void) state;
    people_init(pp);
    pt_start(&t, principals);
    for (int i = 0; i < 2; i++) {
        struct pt_put p;

        pt_put_init(&p, pp->cpr[i], pp->name[i], pp->email[i]);
        msg = pt_call(&t, M161, &p.req, NULL, NULL);
        snprintf(pp->id[i], sizeof(pp->id[0]), "%s",
                 pt_reply(msg)->accepted->id);
        jm_msg_free(&msg);
    }
    jm_log_set_sink(capture_access, &log);
    jm_log_set_level(JM_LOG_ERR);

    get.profile_id = pp->id[0];
    msg = call_simple(&t, CW161, JOBMATCH__V1__REQUEST__BODY_GET_PROFILE, &get,
                      NULL, NULL);
    assert_non_null(pt_reply(msg)->profile->personal);
    jm_msg_free(&msg);
    snprintf(want, sizeof(want),
             "access principal=" CW161
             " action=get_profile profile=%s result=disclosed",
             pp->id[0]);
    expect_access(&log, &from, want);

    /* The pseudonymous profile alone: nothing personal, no line. */
    msg = call_simple(&t, MATCH, JOBMATCH__V1__REQUEST__BODY_GET_PROFILE, &get,
                      NULL, NULL);
    assert_null(pt_reply(msg)->profile->personal);
    jm_msg_free(&msg);
    expect_access(&log, &from, NULL);

    /* Look-ups by CPR number: found, another municipality's citizen, a
     * principal that may not look up, nobody's number. */
    find_and_expect(&t, &log, &from, CW161, pp->cpr[1], "disclosed", pp->id[1]);
    find_and_expect(&t, &log, &from, CW101, pp->cpr[1], "refused", pp->id[1]);
    find_and_expect(&t, &log, &from, M161, pp->cpr[1], "refused", "-");
    find_and_expect(&t, &log, &from, CW161, pp->cpr[4], "not_found", "-");

    /* Writes of personal data, once committed. A put with a CPR number
     * is a look-up by it too: refused because the number is another
     * municipality's citizen's, or because it is not the named citizen's
     * number, it tells the caller something of the number, and is a
     * line (it was not: a CPR oracle nobody saw). */
    {
        struct pt_put p;

        pt_put_init(&p, pp->cpr[0], pp->name[0], pp->email[0]);
        pt_put_ok(&t, CW161, &p, NULL);
        snprintf(want, sizeof(want),
                 "access principal=" CW161
                 " action=put_profile profile=%s result=written",
                 pp->id[0]);
        expect_access(&log, &from, want);
        /* A caseworker of 101 registering "a new citizen" of 101 whose
         * number is 161's citizen's. */
        p.home.postcode = "1050";
        p.home.municipality_code = "101";
        msg = pt_call(&t, CW101, &p.req, NULL, NULL);
        assert_int_equal(pt_reply(msg)->error->code, JM_E_PERMISSION_DENIED);
        jm_msg_free(&msg);
        snprintf(want, sizeof(want),
                 "access principal=" CW101
                 " action=put_profile profile=%s result=refused",
                 pp->id[0]);
        expect_access(&log, &from, want);
        pt_put_init(&p, pp->cpr[2], pp->name[0], pp->email[0]);
        p.profile.id = pp->id[0];
        msg = pt_call(&t, CW161, &p.req, NULL, NULL);
        assert_int_equal(pt_reply(msg)->body_case,
                         JOBMATCH__V1__REPLY__BODY_ERROR);
        jm_msg_free(&msg);
        snprintf(want, sizeof(want),
                 "access principal=" CW161
                 " action=put_profile profile=%s result=other_cpr_number",
                 pp->id[0]);
        expect_access(&log, &from, want);
    }
    erase_citizen(&t, M161, pp->id[1]);
    snprintf(want, sizeof(want),
             "access principal=" M161
             " action=erase_profile profile=%s result=erased",
             pp->id[1]);
    expect_access(&log, &from, want);

    for (size_t i = 0; i < log.count; i++)
        assert_clean((const uint8_t *) log.lines[i], strlen(log.lines[i]),
                     pp->needles, "an access line");
    jm_log_set_level(level);
    jm_log_set_sink(NULL, NULL);
    pt_stop(&t);
    free(pp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erasure_leaves_nothing_readable),
        cmocka_unit_test(test_log_and_other_principals_see_nothing_personal),
        cmocka_unit_test(test_access_to_personal_data_is_logged),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
