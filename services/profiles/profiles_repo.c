/* profiles_repo.c - the profiles service's LMDB records (see
 * profiles_repo.h).
 *
 * The design decision to know: everything a citizen owns is keyed by the
 * profile id (measurements by id-prefixed keys), so that erasure is a
 * bounded set of deletions found by one prefix walk, and nothing keyed by
 * anything personal exists except the keyed CPR hash. */
#include "profiles_repo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jm/log.h"
#include "jm/mem.h"
#include "jm/msg.h"
#include "jobmatch/v1/log.pb-c.h"

/* id | dimension | day | seq */
#define PROGRESS_KEY_LEN (PROFILES_ID_LEN + 1 + 4 + 8)
/* Days are int32 (dates from 1900 are negative): biased so that the
 * unsigned big-endian bytes sort in date order. */
#define DAY_BIAS 0x80000000u

/* Named databases must be opened before any other transaction
 * (jm_store_dbi), hence from jm_source's open_dbs callback. */
int
profiles_repo_open(profiles_repo *repo, jm_store_t *store)
{
    int rc;

    if ((rc = jm_store_dbi(store, "profiles", false, &repo->profiles)) != 0 ||
        (rc = jm_store_dbi(store, "personal", false, &repo->personal)) != 0 ||
        (rc = jm_store_dbi(store, "cpr", false, &repo->cpr)) != 0 ||
        (rc = jm_store_dbi(store, "progress", false, &repo->progress)) != 0 ||
        (rc = jm_store_dbi(store, "events", false, &repo->events)) != 0 ||
        (rc = jm_store_dbi(store, "meta", false, &repo->meta)) != 0)
        return rc;
    return 0;
}

/* Values are packed protobuf messages: the .proto files are the one
 * schema for the wire and the disk (STYLE.md 4.5). */
static int
put_packed(jm_txn_t *txn, jm_dbi dbi, const void *key, size_t key_size,
           const ProtobufCMessage *msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;

    jm_msg_pack(msg, &data, &size);
    rc = jm_txn_put(txn, dbi, key, key_size, data, size, 0);
    free(data);
    return rc;
}

/* Unpacks while the transaction still holds the bytes (LMDB values are
 * borrowed until it ends); alloc decides who frees the result. */
static int
get_unpacked(jm_txn_t *txn, jm_dbi dbi, const char *id,
             const ProtobufCMessageDescriptor *desc, ProtobufCAllocator *alloc,
             ProtobufCMessage **out)
{
    jm_val val;
    int rc = jm_txn_get(txn, dbi, id, strlen(id), &val);

    if (rc != 0)
        return rc;
    *out = protobuf_c_message_unpack(desc, alloc, val.size, val.data);
    if (*out == NULL) {
        jm_log(JM_LOG_ERR, "profiles", "stored %s of %s does not decode",
               desc->short_name, id);
        return -EIO;
    }
    return 0;
}

int
profiles_repo_get_profile(const profiles_repo *repo, jm_txn_t *txn,
                          const char *id, ProtobufCAllocator *alloc,
                          Jobmatch__V1__CitizenProfile **out)
{
    return get_unpacked(txn, repo->profiles, id,
                        &jobmatch__v1__citizen_profile__descriptor, alloc,
                        (ProtobufCMessage **) out);
}

int
profiles_repo_put_profile(const profiles_repo *repo, jm_txn_t *txn,
                          const Jobmatch__V1__CitizenProfile *profile)
{
    return put_packed(txn, repo->profiles, profile->id, strlen(profile->id),
                      &profile->base);
}

int
profiles_repo_get_personal(const profiles_repo *repo, jm_txn_t *txn,
                           const char *id, ProtobufCAllocator *alloc,
                           Jobmatch__V1__PersonalRecord **out)
{
    return get_unpacked(txn, repo->personal, id,
                        &jobmatch__v1__personal_record__descriptor, alloc,
                        (ProtobufCMessage **) out);
}

int
profiles_repo_put_personal(const profiles_repo *repo, jm_txn_t *txn,
                           const char *id,
                           const Jobmatch__V1__PersonalRecord *record)
{
    return put_packed(txn, repo->personal, id, strlen(id), &record->base);
}

/* The index value is the bare 22-byte id: anything else is damage. */
int
profiles_repo_find_cpr(const profiles_repo *repo, jm_txn_t *txn,
                       const uint8_t hash[PROFILES_CPR_HASH_BYTES],
                       char id[PROFILES_ID_LEN + 1])
{
    jm_val val;
    int rc = jm_txn_get(txn, repo->cpr, hash, PROFILES_CPR_HASH_BYTES, &val);

    if (rc != 0)
        return rc;
    if (val.size != PROFILES_ID_LEN) {
        jm_log(JM_LOG_ERR, "profiles", "a CPR index entry is corrupt");
        return -EIO;
    }
    memcpy(id, val.data, PROFILES_ID_LEN);
    id[PROFILES_ID_LEN] = '\0';
    return 0;
}

int
profiles_repo_put_cpr(const profiles_repo *repo, jm_txn_t *txn,
                      const uint8_t hash[PROFILES_CPR_HASH_BYTES],
                      const char *id)
{
    return jm_txn_put(txn, repo->cpr, hash, PROFILES_CPR_HASH_BYTES, id,
                      strlen(id), 0);
}

/* ---- progress ---- */

/* Big-endian fields so that byte order is numeric order: one prefix walk
 * gives a citizen's measurements by dimension, then date, then seq. */
static size_t
progress_key(uint8_t key[PROGRESS_KEY_LEN], const char *id, int dimension,
             int32_t day, uint64_t seq)
{
    uint32_t biased = (uint32_t) day + DAY_BIAS;

    memcpy(key, id, PROFILES_ID_LEN);
    key[PROFILES_ID_LEN] = (uint8_t) dimension;
    key[PROFILES_ID_LEN + 1] = (uint8_t) (biased >> 24);
    key[PROFILES_ID_LEN + 2] = (uint8_t) (biased >> 16);
    key[PROFILES_ID_LEN + 3] = (uint8_t) (biased >> 8);
    key[PROFILES_ID_LEN + 4] = (uint8_t) biased;
    jm_be64_put(key + PROFILES_ID_LEN + 5, seq);
    return PROGRESS_KEY_LEN;
}

int
profiles_repo_add_measurement(const profiles_repo *repo, jm_txn_t *txn,
                              const char *id,
                              const Jobmatch__V1__ProgressMeasurement *m,
                              int32_t day, uint64_t seq)
{
    uint8_t key[PROGRESS_KEY_LEN];

    progress_key(key, id, (int) m->dimension, day, seq);
    return put_packed(txn, repo->progress, key, sizeof(key), &m->base);
}

struct progress_walk {
    const char *id;
    int dimension; /* 0: all */
    profiles_measurement_fn fn;
    void *arg;
};

static int
progress_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct progress_walk *w = arg;
    const uint8_t *k = key->data;
    uint32_t biased;
    int dimension;

    /* Keys sort by id first: the first key of another id ends the walk. */
    if (key->size != PROGRESS_KEY_LEN || memcmp(k, w->id, PROFILES_ID_LEN) != 0)
        return 1;
    dimension = k[PROFILES_ID_LEN];
    if (w->dimension != 0 && dimension != w->dimension)
        return 1;
    biased = (uint32_t) k[PROFILES_ID_LEN + 1] << 24 |
             (uint32_t) k[PROFILES_ID_LEN + 2] << 16 |
             (uint32_t) k[PROFILES_ID_LEN + 3] << 8 |
             (uint32_t) k[PROFILES_ID_LEN + 4];
    return w->fn(val, dimension, (int32_t) (biased - DAY_BIAS),
                 jm_be64_get(k + PROFILES_ID_LEN + 5), w->arg);
}

/* Starts at id|dimension: with dimension 0 that is the citizen's first
 * key; progress_one stops at the first key of anything else. */
int
profiles_repo_scan_progress(const profiles_repo *repo, jm_txn_t *txn,
                            const char *id, int dimension,
                            profiles_measurement_fn fn, void *arg)
{
    struct progress_walk w = {id, dimension, fn, arg};
    uint8_t start[PROFILES_ID_LEN + 1];

    JM_ASSERT(strlen(id) == PROFILES_ID_LEN);
    memcpy(start, id, PROFILES_ID_LEN);
    start[PROFILES_ID_LEN] = (uint8_t) dimension;
    return jm_txn_scan(txn, repo->progress, start, sizeof(start), progress_one,
                       &w);
}

/* The keys of key_len bytes that begin with a citizen's id, collected
 * then deleted (jm_txn_scan's callback must not write): their
 * measurements, the events that carry their profile. */
struct key_list {
    const char *id;
    size_t key_len;
    uint8_t *keys; /* count keys of key_len bytes */
    size_t count, cap;
};

/* Appends a copy of key (key_len bytes). */
static void
key_list_push(struct key_list *list, const void *key)
{
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->keys = jm_xrealloc(list->keys, list->cap * list->key_len);
    }
    memcpy(list->keys + list->count++ * list->key_len, key, list->key_len);
}

static int
collect_key(const jm_val *key, const jm_val *val, void *arg)
{
    struct key_list *list = arg;

    (void) val;
    if (key->size != list->key_len ||
        memcmp(key->data, list->id, PROFILES_ID_LEN) != 0)
        return 1;
    key_list_push(list, key->data);
    return 0;
}

/* Fills list (id and key_len set; caller frees list->keys, also on
 * error) and deletes what it found. */
static int
take_keys(jm_txn_t *txn, jm_dbi dbi, struct key_list *list)
{
    int rc =
        jm_txn_scan(txn, dbi, list->id, PROFILES_ID_LEN, collect_key, list);

    for (size_t i = 0; rc == 0 && i < list->count; i++)
        rc =
            jm_txn_del(txn, dbi, list->keys + i * list->key_len, list->key_len);
    return rc;
}

struct trim {
    uint64_t first;
    size_t limit, visited;
    struct key_list stale; /* notes of pruned events, to delete */
    profiles_event_walk next;
};

static int
trim_one(const jm_val *key, const jm_val *val, void *arg)
{
    struct trim *t = arg;

    (void) val;
    if (key->size != sizeof(t->next.key))
        return -EIO; /* not a note this file wrote */
    if (t->visited++ == t->limit) {
        /* The next call starts here. */
        memcpy(t->next.key, key->data, sizeof(t->next.key));
        t->next.started = true;
        return 1;
    }
    if (jm_be64_get((const uint8_t *) key->data + PROFILES_ID_LEN) >= t->first)
        return 0;
    key_list_push(&t->stale, key->data);
    return 0;
}

int
profiles_repo_trim_events(const profiles_repo *repo, jm_txn_t *txn,
                          uint64_t first, size_t limit,
                          profiles_event_walk *walk, size_t *removed)
{
    struct trim t = {.first = first, .limit = limit};
    int rc;

    JM_ASSERT(limit > 0);
    t.stale.key_len = sizeof(walk->key);
    *removed = 0;
    rc = jm_txn_scan(txn, repo->events, walk->key,
                     walk->started ? sizeof(walk->key) : 0, trim_one, &t);
    for (size_t i = 0; rc == 0 && i < t.stale.count; i++)
        rc = jm_txn_del(txn, repo->events, t.stale.keys + i * t.stale.key_len,
                        t.stale.key_len);
    free(t.stale.keys);
    if (rc == 0) {
        *removed = t.stale.count;
        *walk = t.next; /* not started: the walk reached the end */
    }
    return rc;
}

/* The profile must exist (the caller loaded it); the other records may
 * be missing after earlier damage, which must not block an erasure. */
int
profiles_repo_erase(const profiles_repo *repo, jm_txn_t *txn, const char *id,
                    const uint8_t hash[PROFILES_CPR_HASH_BYTES])
{
    struct key_list list = {.id = id, .key_len = PROGRESS_KEY_LEN};
    size_t len = strlen(id);
    int rc;

    JM_ASSERT(len == PROFILES_ID_LEN);
    if ((rc = jm_txn_del(txn, repo->profiles, id, len)) != 0)
        return rc;
    if ((rc = jm_txn_del(txn, repo->personal, id, len)) != 0 && rc != -ENOENT)
        return rc;
    if (hash != NULL &&
        (rc = jm_txn_del(txn, repo->cpr, hash, PROFILES_CPR_HASH_BYTES)) != 0 &&
        rc != -ENOENT)
        return rc;
    rc = take_keys(txn, repo->progress, &list);
    free(list.keys);
    return rc;
}

/* ---- the events that carry a profile ---- */

#define EVENT_KEY_LEN (PROFILES_ID_LEN + 8)

int
profiles_repo_note_event(const profiles_repo *repo, jm_txn_t *txn,
                         const char *id, uint64_t seq)
{
    uint8_t key[EVENT_KEY_LEN];

    JM_ASSERT(strlen(id) == PROFILES_ID_LEN);
    memcpy(key, id, PROFILES_ID_LEN);
    jm_be64_put(key + PROFILES_ID_LEN, seq);
    return jm_txn_put(txn, repo->events, key, sizeof(key), "", 0, 0);
}

int
profiles_repo_take_events(const profiles_repo *repo, jm_txn_t *txn,
                          const char *id, uint64_t **seqs, size_t *n)
{
    struct key_list list = {.id = id, .key_len = EVENT_KEY_LEN};
    int rc;

    JM_ASSERT(strlen(id) == PROFILES_ID_LEN);
    *seqs = NULL;
    *n = 0;
    if ((rc = take_keys(txn, repo->events, &list)) == 0 && list.count > 0) {
        *seqs = jm_xmalloc(list.count * sizeof(uint64_t));
        for (size_t i = 0; i < list.count; i++)
            (*seqs)[i] =
                jm_be64_get(list.keys + i * EVENT_KEY_LEN + PROFILES_ID_LEN);
        *n = list.count;
    }
    free(list.keys);
    return rc;
}

/* ---- start-up and snapshots ---- */

struct slot_list {
    uint32_t *slots;
    size_t count, cap;
};

/* A corrupt personal record stops the start: zeroing the key file on
 * an incomplete list of used slots would destroy keys still needed. */
static int
collect_slot(const jm_val *key, const jm_val *val, void *arg)
{
    struct slot_list *list = arg;
    Jobmatch__V1__PersonalRecord *record =
        jobmatch__v1__personal_record__unpack(NULL, val->size, val->data);

    if (record == NULL) {
        jm_log(JM_LOG_ERR, "profiles", "a personal record (%.*s) is corrupt",
               (int) key->size, (const char *) key->data);
        return -EIO;
    }
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 256;
        list->slots =
            jm_xrealloc(list->slots, list->cap * sizeof(list->slots[0]));
    }
    list->slots[list->count++] = record->key_slot;
    jobmatch__v1__personal_record__free_unpacked(record, NULL);
    return 0;
}

int
profiles_repo_used_slots(const profiles_repo *repo, jm_txn_t *txn,
                         uint32_t **slots_p, size_t *count_p)
{
    struct slot_list list = {0};
    int rc = jm_txn_scan(txn, repo->personal, NULL, 0, collect_slot, &list);

    if (rc != 0) {
        free(list.slots);
        return rc;
    }
    *slots_p = list.slots;
    *count_p = list.count;
    return 0;
}

/* One live profile per snapshot record, as the event a consumer would
 * have seen (ProfileChanged, change SNAPSHOT). */
static int
snap_one(const jm_val *key, const jm_val *val, jm_snapshot_page_t *page,
         void *arg)
{
    Jobmatch__V1__Event event = JOBMATCH__V1__EVENT__INIT;
    Jobmatch__V1__ProfileChanged changed = JOBMATCH__V1__PROFILE_CHANGED__INIT;
    Jobmatch__V1__CitizenProfile *profile;

    (void) arg;
    profile = jobmatch__v1__citizen_profile__unpack(NULL, val->size, val->data);
    if (profile == NULL) {
        jm_log(JM_LOG_ERR, "profiles", "stored profile %.*s does not decode",
               (int) key->size, (const char *) key->data);
        return -EIO;
    }
    changed.profile = profile;
    changed.change = JOBMATCH__V1__CHANGE_KIND__CHANGE_KIND_SNAPSHOT;
    event.body_case = JOBMATCH__V1__EVENT__BODY_PROFILE_CHANGED;
    event.profile_changed = &changed;
    jm_snapshot_page_add(page, &event);
    jobmatch__v1__citizen_profile__free_unpacked(profile, NULL);
    return 0;
}

int
profiles_repo_snapshot(const profiles_repo *repo, jm_txn_t *txn,
                       const void *after_key, size_t after_size, size_t limit,
                       jm_snapshot_page_t *page)
{
    return jm_snapshot_scan(txn, repo->profiles, after_key, after_size, limit,
                            page, snap_one, NULL);
}
