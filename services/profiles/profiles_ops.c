/* profiles_ops.c - what each profiles request does to the store: the reads
 * (GetProfile, FindProfile, GetProgress) and the writes (PutProfile,
 * RecordProgress, SetConsent, EraseProfile), as jm_source's read and apply
 * operations.
 *
 * The design decision to know: personal data is sealed here, just before
 * it is stored, and opened here, just before a reply that may carry it;
 * nothing else in the service sees it in clear. Events and Accepted
 * replies (which jm_source keeps for idempotency) hold only the
 * pseudonymous profile. Fields were validated by check(); these functions
 * decide what needs the store: existence, versions, the CPR number's
 * owner, the principal's municipality. A rejection returns 1 before
 * anything is written (jm_source_ops.apply). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jm/clock.h"
#include "jm/dk.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "profiles_internal.h"

#define SERVICE "profiles"

/* A rejection for jm_source: err filled, and the positive status that
 * means "answered, nothing written". */
static int
reject(jm_source_request *r, int code, const char *path, const char *message)
{
    jm_error_set(&r->err, code, path, "%s", message);
    return 1;
}

/* The citizen's municipality, which decides who may see and change it;
 * "" (nobody's) for a record without a home, which validation prevents. */
static const char *
home_of(const Jobmatch__V1__CitizenProfile *profile)
{
    return profile->home && profile->home->municipality_code
               ? profile->home->municipality_code
               : "";
}

/* The stored profile of id into *out (request memory); 1 with NOT_FOUND
 * naming path if there is none. */
static int
load_profile(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r,
             const char *id, const char *path,
             Jobmatch__V1__CitizenProfile **out)
{
    int rc = profiles_repo_get_profile(&server->repo, txn, id,
                                       jm_source_allocator(r), out);

    if (rc == -ENOENT)
        return reject(r, JM_E_NOT_FOUND, path,
                      "no citizen has this profile id");
    return rc;
}

/* The stored profile of id, if the caller may read it (else NOT_FOUND, the
 * answer for an unknown id, as FindProfile gives for another
 * municipality's citizen). A pseudonymous profile is still personal data,
 * its latest progress measurements (health among them) included: another
 * municipality's principals read it only when the citizen consented to
 * being matched with neighbouring municipalities' orders and a sharing
 * agreement of theirs names the citizen's municipality (which is how they
 * met the id, in a shortlist: the matcher applies the same agreements),
 * and the measurements over time (trajectory) only the home municipality
 * and the services. */
static int
load_readable(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r,
              const char *id, const char *path, bool trajectory,
              Jobmatch__V1__CitizenProfile **out)
{
    const Jobmatch__V1__Consent *consent;
    jm_principal p;
    int rc;

    if ((rc = load_profile(server, txn, r, id, path, out)) != 0)
        return rc;
    jm_principal_parse(r->principal, &p);
    if (!jm_principal_is_municipal(&p) ||
        strcmp(p.municipality, home_of(*out)) == 0)
        return 0;
    consent = (*out)->consent;
    if (!trajectory && consent != NULL && consent->neighbour_matching &&
        jm_sharing_allows(&server->sharing, p.municipality, home_of(*out)))
        return 0;
    *out = NULL;
    return reject(r, JM_E_NOT_FOUND, path, "no citizen has this profile id");
}

/* The reply of every write. It is also what jm_source stores for the
 * request id, so it must never hold anything personal: the pseudonymous
 * id, the seq and the version are all it has. */
static Jobmatch__V1__Accepted *
accepted(jm_source_request *r, const char *id, uint64_t seq, uint64_t version)
{
    Jobmatch__V1__Accepted *a = jm_source_alloc(r, sizeof(*a));

    jobmatch__v1__accepted__init(a);
    a->id = jm_source_strdup(r, id);
    a->seq = seq;
    a->version = version;
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_ACCEPTED;
    r->reply->accepted = a;
    return a;
}

/* The event every change appends: the whole pseudonymous profile, so
 * that a consumer converges whatever it applied before. Its seq is noted
 * under the profile's id: an erasure redacts it (apply_erase). */
static int
append_changed(profiles_server_t *server, jm_txn_t *txn,
               Jobmatch__V1__CitizenProfile *profile,
               Jobmatch__V1__ChangeKind change, uint64_t *seq)
{
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__ProfileChanged changed = JOBMATCH__V1__PROFILE_CHANGED__INIT;
    int rc;

    changed.profile = profile;
    changed.change = change;
    event.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED;
    event.profile_changed = &changed;
    if ((rc = jm_source_append(server->source, txn, &event, seq)) != 0)
        return rc;
    return profiles_repo_note_event(&server->repo, txn, profile->id, *seq);
}

/* An erased citizen's earlier events still in the log become removals of
 * the same id at the same seqs: a consumer reading the log from any point
 * no longer sees their profile, and ends where it would have (removed).
 * Events already pruned are gone anyway. */
static int
redact_events(profiles_server_t *server, jm_txn_t *txn, const char *id)
{
    Jobmatch__V1__ProfileRemoved removed = JOBMATCH__V1__PROFILE_REMOVED__INIT;
    uint64_t *seqs = NULL;
    size_t n = 0;
    int rc;

    if ((rc = profiles_repo_take_events(&server->repo, txn, id, &seqs, &n)) !=
        0)
        return rc;
    removed.profile_id = (char *) id;
    for (size_t i = 0; i < n && rc == 0; i++) {
        Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;

        event.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED;
        event.profile_removed = &removed;
        rc = jm_source_redact(server->source, txn, seqs[i], &event);
        if (rc == -ENOENT)
            rc = 0; /* pruned */
    }
    free(seqs);
    return rc;
}

/* ---- personal data ---- */

/* Opens the sealed personal record of id into *out (request memory). The
 * plaintext buffer is wiped; the unpacked copy lives until the reply is
 * sent. */
static int
open_personal(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r,
              const char *id, Jobmatch__V1__PersonalData **out)
{
    Jobmatch__V1__PersonalRecord *rec = NULL;
    uint8_t key[PROFILES_KEY_BYTES], *plain = NULL;
    size_t size;
    int rc;

    rc = profiles_repo_get_personal(&server->repo, txn, id,
                                    jm_source_allocator(r), &rec);
    /* A profile without an openable personal record is damage, not a
     * client error: UNAVAILABLE (and a log line naming only the id). */
    if (rc != 0 || rec->nonce.len != PROFILES_NONCE_BYTES ||
        rec->ciphertext.len < PROFILES_SEAL_OVERHEAD) {
        jm_log(JM_LOG_ERR, SERVICE, "the personal record of %s is missing", id);
        return -EIO;
    }
    if ((rc = profiles_keys_read(server->keys, rec->key_slot, key)) != 0) {
        jm_log(JM_LOG_ERR, SERVICE, "the key of %s (slot %u) is gone", id,
               rec->key_slot);
        return -EIO;
    }
    /* One byte more than needed, so that an empty plaintext still gets a
     * real buffer. */
    size = rec->ciphertext.len - PROFILES_SEAL_OVERHEAD;
    plain = jm_xmalloc(size + 1);
    rc = profiles_open(key, id, rec->nonce.data, rec->ciphertext.data,
                       rec->ciphertext.len, plain);
    sodium_memzero(key, sizeof(key));
    if (rc == 0) {
        *out = jobmatch__v1__personal_data__unpack(jm_source_allocator(r), size,
                                                   plain);
        if (*out == NULL)
            rc = -EIO;
    }
    sodium_memzero(plain, size + 1);
    free(plain);
    if (rc != 0)
        jm_log(JM_LOG_ERR, SERVICE, "the personal record of %s does not open",
               id);
    return rc == 0 ? 0 : -EIO;
}

/* Seals personal (with the CPR number normalised) under key for id and
 * stores the record. */
static int
store_personal(profiles_server_t *server, jm_txn_t *txn, const char *id,
               const Jobmatch__V1__PersonalData *personal, const char *cpr,
               const uint8_t hash[PROFILES_CPR_HASH_BYTES],
               const uint8_t key[PROFILES_KEY_BYTES], uint32_t slot)
{
    Jobmatch__V1__PersonalData clear = *personal;
    Jobmatch__V1__PersonalRecord rec = JOBMATCH__V1__PERSONAL_RECORD__INIT;
    uint8_t nonce[PROFILES_NONCE_BYTES], *plain = NULL, *sealed;
    size_t size = 0;
    int rc;

    /* Stored normalised (10 digits), so that the caseworker view is the
     * same however the number was typed. */
    clear.cpr = (char *) cpr;
    jm_msg_pack(&clear.base, &plain, &size);
    sealed = jm_xmalloc(size + PROFILES_SEAL_OVERHEAD);
    profiles_seal(key, id, plain, size, nonce, sealed);
    sodium_memzero(plain, size);
    free(plain);
    /* The hash is kept with the record so that erasure can delete the
     * CPR index entry without knowing the number. */
    rec.cpr_hash.data = (uint8_t *) hash;
    rec.cpr_hash.len = PROFILES_CPR_HASH_BYTES;
    rec.nonce.data = nonce;
    rec.nonce.len = sizeof(nonce);
    rec.ciphertext.data = sealed;
    rec.ciphertext.len = size + PROFILES_SEAL_OVERHEAD;
    rec.key_slot = slot;
    rc = profiles_repo_put_personal(&server->repo, txn, id, &rec);
    free(sealed);
    return rc;
}

/* ---- reads ---- */

void
profiles_log_access(const char *principal, const char *action,
                    const char *profile_id, const char *result)
{
    jm__log(JM_LOG_NOTICE, SERVICE,
            "access principal=%s action=%s profile=%s result=%s", principal,
            action, profile_id != NULL ? profile_id : "-", result);
}

/* The access line of request r. */
static void
log_access(const jm_source_request *r, const char *profile_id,
           const char *result)
{
    profiles_log_access(r->principal,
                        r->req->body_case ==
                                JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE
                            ? "find_profile"
                            : "get_profile",
                        profile_id, result);
}

static int
reply_profile(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r,
              Jobmatch__V1__CitizenProfile *profile)
{
    Jobmatch__V1__ProfileReply *pr = jm_source_alloc(r, sizeof(*pr));
    jm_principal p;
    int rc;

    jobmatch__v1__profile_reply__init(pr);
    pr->profile = profile;
    /* The personal part only for those entitled to this citizen's. */
    jm_principal_parse(r->principal, &p);
    if (profiles_may_see_personal(&p, home_of(profile)) &&
        (rc = open_personal(server, txn, r, profile->id, &pr->personal)) != 0)
        return rc;
    /* A citizen whose key is gone (erased, or lost) has none to give. */
    if (pr->personal != NULL)
        log_access(r, profile->id, "disclosed");
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_PROFILE;
    r->reply->profile = pr;
    return 0;
}

/* FindProfile's answer for a number the caller may not look up. */
static int
reject_unknown_cpr(jm_source_request *r)
{
    return reject(r, JM_E_NOT_FOUND, "find_profile.cpr",
                  "no citizen has this CPR number");
}

/* FindProfile: the keyed hash of the number, the index, the profile.
 * The number itself is wiped from the stack as soon as it is hashed. */
static int
read_find(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r)
{
    Jobmatch__V1__CitizenProfile *profile = NULL;
    uint8_t hash[PROFILES_CPR_HASH_BYTES];
    char cpr[11], id[PROFILES_ID_LEN + 1];
    jm_principal p;
    int rc;

    if (jm_dk_cpr_normalize(r->req->find_profile->cpr, cpr) != 0)
        return reject(r, JM_E_INVALID_FIELD, "find_profile.cpr",
                      "is not a CPR number");
    profiles_cpr_hash(server->secret, cpr, hash);
    sodium_memzero(cpr, sizeof(cpr));
    rc = profiles_repo_find_cpr(&server->repo, txn, hash, id);
    if (rc == -ENOENT) {
        log_access(r, NULL, "not_found");
        return reject_unknown_cpr(r);
    }
    if (rc != 0)
        return rc;
    if ((rc = profiles_repo_get_profile(&server->repo, txn, id,
                                        jm_source_allocator(r), &profile)) != 0)
        return rc == -ENOENT ? -EIO : rc;
    jm_principal_parse(r->principal, &p);
    /* Another municipality's citizen is answered as a number nobody has:
     * a refusal would tell any caseworker that the number is registered
     * somewhere. The access line still says what happened. */
    if (!profiles_may_see_personal(&p, home_of(profile))) {
        log_access(r, profile->id, "refused");
        return reject_unknown_cpr(r);
    }
    return reply_profile(server, txn, r, profile);
}

struct trajectory {
    jm_source_request *r;

    struct entry {
        Jobmatch__V1__ProgressMeasurement *m;
        int32_t day;
        uint64_t seq;
    } * entries;

    size_t count, cap;
};

static int
collect_measurement(const jm_val *val, int dimension, int32_t day, uint64_t seq,
                    void *arg)
{
    struct trajectory *t = arg;
    Jobmatch__V1__ProgressMeasurement *m =
        jobmatch__v1__progress_measurement__unpack(jm_source_allocator(t->r),
                                                   val->size, val->data);

    (void) dimension;
    if (m == NULL)
        return -EIO;
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->entries = jm_xrealloc(t->entries, t->cap * sizeof(*t->entries));
    }
    t->entries[t->count++] = (struct entry){m, day, seq};
    return 0;
}

/* Oldest first; on the same day, in the order the service recorded them
 * (seq), which is the order the caseworkers entered them. */
static int
by_day_then_seq(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
read_progress(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r)
{
    const Jobmatch__V1__GetProgress *get = r->req->get_progress;
    Jobmatch__V1__CitizenProfile *profile = NULL;
    Jobmatch__V1__ProgressTrajectory *out;
    struct trajectory t = {.r = r};
    int rc;

    if ((rc = load_readable(server, txn, r, get->profile_id,
                            "get_progress.profile_id", true, &profile)) != 0)
        return rc;
    rc = profiles_repo_scan_progress(&server->repo, txn, get->profile_id,
                                     (int) get->dimension, collect_measurement,
                                     &t);
    if (rc != 0)
        goto out;
    /* Keys sort by dimension first; oldest first across dimensions. */
    if (t.count > 1)
        qsort(t.entries, t.count, sizeof(*t.entries), by_day_then_seq);
    out = jm_source_alloc(r, sizeof(*out));
    jobmatch__v1__progress_trajectory__init(out);
    out->profile_id = jm_source_strdup(r, get->profile_id);
    out->n_measurements = t.count;
    out->measurements =
        jm_source_alloc(r, (t.count + 1) * sizeof(*out->measurements));
    for (size_t i = 0; i < t.count; i++)
        out->measurements[i] = t.entries[i].m;
    r->reply->body_case = JOBMATCH__V1__REPLY__BODY_PROGRESS;
    r->reply->progress = out;
out:
    free(t.entries);
    return rc;
}

/* jm_source_ops.read: one read transaction, the reply built in the
 * request's memory. */
int
profiles_ops_read(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    profiles_server_t *server = arg;
    Jobmatch__V1__CitizenProfile *profile = NULL;
    int rc;

    switch (r->req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_GET_PROFILE:
        if ((rc = load_readable(server, txn, r, r->req->get_profile->profile_id,
                                "get_profile.profile_id", false, &profile)) !=
            0)
            return rc;
        return reply_profile(server, txn, r, profile);
    case JOBMATCH__V1__REQUEST__BODY_FIND_PROFILE:
        return read_find(server, txn, r);
    case JOBMATCH__V1__REQUEST__BODY_GET_PROGRESS:
        return read_progress(server, txn, r);
    default:
        return reject(r, JM_E_UNSUPPORTED, "", "not a profiles read");
    }
}

/* ---- writes ---- */

/* The home as stored: coordinates are always the postcode's centre (or,
 * for the few postcodes without one, the municipality's), never a point
 * the client sent: a precise home address must not travel to the matcher
 * with the pseudonymous profile. */
static void
coarse_home(const Jobmatch__V1__Location *in, Jobmatch__V1__Location *out)
{
    const jm_dk_postcode *pc = jm_dk_postcode_find(in->postcode);
    const jm_dk_municipality *m =
        jm_dk_municipality_find(in->municipality_code);

    *out = *in;
    out->latitude =
        pc && pc->has_coordinates ? pc->latitude : (m ? m->latitude : 0);
    out->longitude =
        pc && pc->has_coordinates ? pc->longitude : (m ? m->longitude : 0);
}

/* Identifies the citizen a PutProfile is about: *old is NULL for a new
 * one. Returns 1 (rejected) or -errno as apply does. */
static int
put_target(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r,
           const uint8_t *hash, char id[PROFILES_ID_LEN + 1],
           Jobmatch__V1__CitizenProfile **old)
{
    const Jobmatch__V1__CitizenProfile *in = r->req->put_profile->profile;
    int rc;

    *old = NULL;
    if (in->id != NULL && in->id[0] != '\0') {
        snprintf(id, PROFILES_ID_LEN + 1, "%s", in->id);
        return load_profile(server, txn, r, id, "put_profile.profile.id", old);
    }
    rc = profiles_repo_find_cpr(&server->repo, txn, hash, id);
    if (rc == 0) {
        rc = profiles_repo_get_profile(&server->repo, txn, id,
                                       jm_source_allocator(r), old);
        return rc == -ENOENT ? -EIO : rc;
    }
    if (rc != -ENOENT)
        return rc;
    /* 100 random bits; the look-up only guards against a broken RNG. */
    for (int tries = 0; tries < 4; tries++) {
        Jobmatch__V1__CitizenProfile *clash = NULL;

        profiles_crypto_new_id(id);
        rc = profiles_repo_get_profile(&server->repo, txn, id, NULL, &clash);
        if (rc == -ENOENT)
            return 0;
        if (clash != NULL)
            jobmatch__v1__citizen_profile__free_unpacked(clash, NULL);
    }
    return -EIO;
}

/* Whether a PutProfile's consent leaves the stored one as it is: left
 * out, or the same (a profile read back and sent again). A stored profile
 * without consent is the same as an empty Consent. One sent without a
 * date matches whatever date is stored: the put that created the citizen
 * dated it (apply_put), and that same put sent again must not be taken
 * for a change of consent. */
static bool
consent_kept(const Jobmatch__V1__Consent *in,
             const Jobmatch__V1__Consent *stored)
{
    static const Jobmatch__V1__Consent none = JOBMATCH__V1__CONSENT__INIT;
    const char *given_on, *stored_on;

    if (in == NULL)
        return true;
    if (stored == NULL)
        stored = &none;
    given_on = in->given_on ? in->given_on : "";
    stored_on = stored->given_on ? stored->given_on : "";
    return in->neighbour_matching == stored->neighbour_matching &&
           (given_on[0] == '\0' || strcmp(given_on, stored_on) == 0);
}

/* A consent given without a date was given now, whether it comes with a
 * new citizen's PutProfile or a SetConsent: returns in, or if it has no
 * date *out, a copy dated today (the UTC day of now_ms, in today). */
static Jobmatch__V1__Consent *
dated_consent(Jobmatch__V1__Consent *in, int64_t now_ms,
              Jobmatch__V1__Consent *out, char today[16])
{
    if (in == NULL || (in->given_on != NULL && in->given_on[0] != '\0'))
        return in;
    *out = *in;
    jm_date_format((int32_t) (now_ms / 86400000), today, 16);
    out->given_on = today;
    return out;
}

/* PutProfile. Everything that can reject the request is decided before
 * the first write (jm_source_ops.apply: a rejection writes nothing); a
 * key is taken for a new citizen only after that, so that a rejected put
 * never holds a slot. */
static int
apply_put(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r)
{
    const Jobmatch__V1__PutProfile *put = r->req->put_profile;
    const Jobmatch__V1__CitizenProfile *in = put->profile;
    Jobmatch__V1__CitizenProfile *old = NULL, next;
    Jobmatch__V1__PersonalRecord *rec = NULL;
    Jobmatch__V1__Location home;
    Jobmatch__V1__Consent consent;
    uint8_t hash[PROFILES_CPR_HASH_BYTES] = {0}, key[PROFILES_KEY_BYTES];
    char id[PROFILES_ID_LEN + 1], cpr[11] = "", today[16];
    jm_principal p;
    uint32_t slot = 0;
    uint64_t seq = 0;
    int rc;

    if (put->personal != NULL) {
        if (jm_dk_cpr_normalize(put->personal->cpr, cpr) != 0)
            return reject(r, JM_E_INVALID_FIELD, "put_profile.personal.cpr",
                          "is not a CPR number");
        profiles_cpr_hash(server->secret, cpr, hash);
    }
    if ((rc = put_target(server, txn, r, hash, id, &old)) != 0)
        goto out;
    jm_principal_parse(r->principal, &p);
    if (old != NULL) {
        /* A put with a CPR number is a look-up by it too: this answer and
         * the two below tell the caller something of the number (that it
         * is registered elsewhere; whether it is this citizen's), so the
         * attempt gets an access line, as a FindProfile does. (Logged at
         * once: nothing of it is committed. A batch redone after the map
         * grew logs it again.) */
        if (!profiles_may_write(&p, home_of(old))) {
            if (put->personal != NULL)
                profiles_log_access(r->principal, "put_profile", id, "refused");
            rc = reject(r, JM_E_PERMISSION_DENIED, "put_profile.profile.id",
                        "the citizen belongs to another municipality");
            goto out;
        }
        rc = profiles_repo_get_personal(&server->repo, txn, id,
                                        jm_source_allocator(r), &rec);
        if (rc != 0) {
            rc = rc == -ENOENT ? -EIO : rc;
            goto out;
        }
        /* A CPR number never changes: a different one is another person. */
        if (put->personal != NULL &&
            (rec->cpr_hash.len != sizeof(hash) ||
             sodium_memcmp(rec->cpr_hash.data, hash, sizeof(hash)) != 0)) {
            profiles_log_access(r->principal, "put_profile", id,
                                "other_cpr_number");
            rc = reject(r, JM_E_CONFLICT, "put_profile.personal.cpr",
                        "is not the CPR number of this citizen");
            goto out;
        }
        /* Optimistic concurrency: a client that read version N and
         * changed it must not silently overwrite someone else's N+1. */
        if (put->expected_version != 0 &&
            put->expected_version != old->version) {
            jm_error_set(&r->err, JM_E_CONFLICT, "put_profile.expected_version",
                         "is %llu but the profile is at version %llu",
                         (unsigned long long) put->expected_version,
                         (unsigned long long) old->version);
            rc = 1;
            goto out;
        }
        /* Consent is a legal record: once the citizen exists it changes
         * only through SetConsent, or a put from a file saved before a
         * withdrawal would give the consent back. */
        if (!consent_kept(in->consent, old->consent)) {
            rc = reject(r, JM_E_INVALID_FIELD, "put_profile.profile.consent",
                        "differs from the stored consent, which changes only "
                        "through SetConsent (jobmatch profile consent); leave "
                        "it out or send it as stored");
            goto out;
        }
    } else if (put->expected_version != 0) {
        rc = reject(r, JM_E_CONFLICT, "put_profile.expected_version",
                    "must be 0: the citizen has no profile yet");
        goto out;
    }

    /* Accepted from here on: build the stored profile. */
    next = *in;
    coarse_home(in->home, &home);
    next.home = &home;
    next.id = id;
    next.version = old ? old->version + 1 : 1;
    next.created_at_ms = old ? old->created_at_ms : r->now_ms;
    next.updated_at_ms = r->now_ms;
    if (in->target_group_list == NULL || in->target_group_list[0] == '\0')
        next.target_group_list = (char *) jm_dk_target_group_default_list();
    next.n_progress = old ? old->n_progress : 0; /* the service's own */
    next.progress = old ? old->progress : NULL;
    /* An existing citizen's consent changes only through SetConsent (see
     * consent_kept); a new one's is stored as given, dated if undated. */
    next.consent = old ? old->consent
                       : dated_consent(in->consent, r->now_ms, &consent, today);

    /* An update keeps the citizen's key (its slot is in the record); a
     * new citizen takes a fresh, already durable one. */
    if (put->personal != NULL) {
        if (old != NULL) {
            slot = rec->key_slot;
            rc = profiles_keys_read(server->keys, slot, key);
            rc = rc == -ENOENT ? -EIO : rc;
        } else if ((rc = profiles_keys_take(server->keys, &slot, key)) == 0) {
            profiles_server_reserve(server, slot, id);
        }
        if (rc == 0)
            rc = store_personal(server, txn, id, put->personal, cpr, hash, key,
                                slot);
        if (rc == 0 && old == NULL)
            rc = profiles_repo_put_cpr(&server->repo, txn, hash, id);
        if (rc != 0)
            goto out;
    }
    if ((rc = profiles_repo_put_profile(&server->repo, txn, &next)) != 0 ||
        (rc = append_changed(
             server, txn, &next,
             old ? JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_UPDATED
                 : JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CREATED,
             &seq)) != 0)
        goto out;
    if (put->personal != NULL)
        profiles_server_note_write(server, r->principal, "put_profile",
                                   "written", id);
    accepted(r, id, seq, next.version);
out:
    sodium_memzero(key, sizeof(key));
    sodium_memzero(cpr, sizeof(cpr));
    return rc;
}

/* Loads the citizen a write names and checks the caller may change it. */
static int
load_for_write(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r,
               const char *id, const char *path,
               Jobmatch__V1__CitizenProfile **out)
{
    jm_principal p;
    int rc;

    if ((rc = load_profile(server, txn, r, id, path, out)) != 0)
        return rc;
    jm_principal_parse(r->principal, &p);
    if (!profiles_may_write(&p, home_of(*out)))
        return reject(r, JM_E_PERMISSION_DENIED, path,
                      "the citizen belongs to another municipality");
    return 0;
}

/* RecordProgress: the measurement is filed under its event's seq, and
 * the profile gets a new version carrying the latest per dimension. */
static int
apply_progress(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r)
{
    const Jobmatch__V1__RecordProgress *rp = r->req->record_progress;
    Jobmatch__V1__ProgressMeasurement *m = rp->measurement, **latest;
    Jobmatch__V1__CitizenProfile *old = NULL, next;
    size_t n = 0;
    uint64_t seq = 0;
    int32_t day = 0;
    bool placed = false;
    int rc;

    if ((rc = load_for_write(server, txn, r, rp->profile_id,
                             "record_progress.profile_id", &old)) != 0)
        return rc;
    if (jm_date_parse(m->date, &day) != 0)
        return reject(r, JM_E_INVALID_FIELD, "record_progress.measurement.date",
                      "is not a date as YYYY-MM-DD");
    /* The latest per dimension travels with the profile. A back-dated
     * measurement goes into the trajectory without replacing a later one;
     * on the same day the newer record wins (it has the higher seq). */
    latest = jm_source_alloc(r, (old->n_progress + 1) * sizeof(*latest));
    for (size_t i = 0; i < old->n_progress; i++) {
        Jobmatch__V1__ProgressMeasurement *cur = old->progress[i];
        int32_t cur_day = 0;

        if (cur->dimension == m->dimension) {
            placed = true;
            if (jm_date_parse(cur->date, &cur_day) != 0 || day >= cur_day)
                cur = m;
        }
        latest[n++] = cur;
    }
    if (!placed)
        latest[n++] = m;
    next = *old;
    next.version = old->version + 1;
    next.updated_at_ms = r->now_ms;
    next.progress = latest;
    next.n_progress = n;
    if ((rc = profiles_repo_put_profile(&server->repo, txn, &next)) != 0 ||
        (rc = append_changed(
             server, txn, &next,
             JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_PROGRESS_RECORDED, &seq)) !=
            0 ||
        (rc = profiles_repo_add_measurement(&server->repo, txn, next.id, m, day,
                                            seq)) != 0)
        return rc;
    accepted(r, next.id, seq, next.version);
    return 0;
}

/* SetConsent: the whole Consent is replaced, and the change travels to
 * the matcher, which decides neighbour matching on it. */
static int
apply_consent(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r)
{
    const Jobmatch__V1__SetConsent *sc = r->req->set_consent;
    Jobmatch__V1__CitizenProfile *old = NULL, next;
    Jobmatch__V1__Consent consent;
    char today[16];
    uint64_t seq = 0;
    int rc;

    if ((rc = load_for_write(server, txn, r, sc->profile_id,
                             "set_consent.profile_id", &old)) != 0)
        return rc;
    next = *old;
    next.consent = dated_consent(sc->consent, r->now_ms, &consent, today);
    next.version = old->version + 1;
    next.updated_at_ms = r->now_ms;
    if ((rc = profiles_repo_put_profile(&server->repo, txn, &next)) != 0 ||
        (rc = append_changed(
             server, txn, &next,
             JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_CONSENT_CHANGED, &seq)) !=
            0)
        return rc;
    accepted(r, next.id, seq, next.version);
    return 0;
}

/* EraseProfile: every record of the citizen goes in this transaction,
 * the tombstone is logged, and the key slot is queued for the committed
 * hook, which overwrites it once the deletion is durable (see
 * profiles_crypto.c for why in that order). */
static int
apply_erase(profiles_server_t *server, jm_txn_t *txn, jm_source_request *r)
{
    const char *id = r->req->erase_profile->profile_id;
    Jobmatch__V1__CitizenProfile *old = NULL;
    Jobmatch__V1__PersonalRecord *rec = NULL;
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__ProfileRemoved removed = JOBMATCH__V1__PROFILE_REMOVED__INIT;
    const uint8_t *hash = NULL;
    uint64_t seq = 0;
    int rc;

    if ((rc = load_for_write(server, txn, r, id, "erase_profile.profile_id",
                             &old)) != 0)
        return rc;
    rc = profiles_repo_get_personal(&server->repo, txn, id,
                                    jm_source_allocator(r), &rec);
    if (rc != 0 && rc != -ENOENT)
        return rc;
    if (rec != NULL && rec->cpr_hash.len == PROFILES_CPR_HASH_BYTES)
        hash = rec->cpr_hash.data;
    if ((rc = profiles_repo_erase(&server->repo, txn, id, hash)) != 0 ||
        (rc = redact_events(server, txn, id)) != 0)
        return rc;
    removed.profile_id = (char *) id;
    event.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_REMOVED;
    event.profile_removed = &removed;
    if ((rc = jm_source_append(server->source, txn, &event, &seq)) != 0)
        return rc;
    /* The key is overwritten after the commit (the committed hook). */
    if (rec != NULL)
        profiles_server_erased(server, rec->key_slot);
    profiles_server_note_write(server, r->principal, "erase_profile", "erased",
                               id);
    accepted(r, id, seq, 0);
    return 0;
}

/* jm_source_ops.apply: one write inside the batch's transaction. Must be
 * redo-safe: after the map grew, the whole batch is applied again, which
 * here only takes (and later zeroes) a few more key slots. */
int
profiles_ops_apply(jm_txn_t *txn, jm_source_request *r, void *arg)
{
    profiles_server_t *server = arg;

    switch (r->req->body_case) {
    case JOBMATCH__V1__REQUEST__BODY_PUT_PROFILE:
        return apply_put(server, txn, r);
    case JOBMATCH__V1__REQUEST__BODY_RECORD_PROGRESS:
        return apply_progress(server, txn, r);
    case JOBMATCH__V1__REQUEST__BODY_SET_CONSENT:
        return apply_consent(server, txn, r);
    case JOBMATCH__V1__REQUEST__BODY_ERASE_PROFILE:
        return apply_erase(server, txn, r);
    default:
        return reject(r, JM_E_UNSUPPORTED, "", "not a profiles write");
    }
}
