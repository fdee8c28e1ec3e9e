/* profiles_repo.h - the profiles service's records in LMDB, on jm_store.
 *
 * Databases (values are packed protobuf messages of profiles.proto):
 *   "profiles"  profile id -> CitizenProfile (the pseudonymous part, with
 *               the latest measurement per dimension in .progress)
 *   "personal"  profile id -> PersonalRecord (keyed CPR hash, nonce,
 *               sealed PersonalData, key slot); never cleartext
 *   "cpr"       keyed CPR hash (32 bytes) -> profile id
 *   "progress"  profile id (22) | dimension (1) | day (be32, biased) |
 *               seq (be64) -> ProgressMeasurement
 * The event log ("log"), the idempotency records ("requests") and the
 * consumer cursors belong to jm_source.
 *
 * Every function runs inside a transaction of the caller and returns 0
 * or -errno: -ENOENT for a missing record, -EIO for a stored value that
 * does not decode (logged). */
#ifndef PROFILES_REPO_H
#define PROFILES_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/logserver.h"
#include "jm/store.h"
#include "jobmatch/v1/profiles.pb-c.h"
#include "profiles_crypto.h"
#include "profiles_profile.h"

typedef struct profiles_repo {
    jm_dbi profiles;
    jm_dbi personal;
    jm_dbi cpr;
    jm_dbi progress;
    jm_dbi events; /* id + be64 seq: the log's events carrying a profile */
    jm_dbi meta;   /* the store's own facts, e.g. "secret_check" */
} profiles_repo;

/* Opens the six databases. Call right after jm_store_open (from
 * jm_source's open_dbs callback). */
int profiles_repo_open(profiles_repo *repo, jm_store_t *store);

/* The profile with id. *out is unpacked with alloc (NULL: malloc; free
 * with jobmatch__v1__citizen_profile__free_unpacked). */
int profiles_repo_get_profile(const profiles_repo *repo, jm_txn_t *txn,
                              const char *id, ProtobufCAllocator *alloc,
                              Jobmatch__V1__CitizenProfile **out);
int profiles_repo_put_profile(const profiles_repo *repo, jm_txn_t *txn,
                              const Jobmatch__V1__CitizenProfile *profile);

/* The personal record of id, unpacked with alloc (as above). */
int profiles_repo_get_personal(const profiles_repo *repo, jm_txn_t *txn,
                               const char *id, ProtobufCAllocator *alloc,
                               Jobmatch__V1__PersonalRecord **out);
int profiles_repo_put_personal(const profiles_repo *repo, jm_txn_t *txn,
                               const char *id,
                               const Jobmatch__V1__PersonalRecord *record);

/* The profile id filed under a keyed CPR hash, into id. */
int profiles_repo_find_cpr(const profiles_repo *repo, jm_txn_t *txn,
                           const uint8_t hash[PROFILES_CPR_HASH_BYTES],
                           char id[PROFILES_ID_LEN + 1]);
int profiles_repo_put_cpr(const profiles_repo *repo, jm_txn_t *txn,
                          const uint8_t hash[PROFILES_CPR_HASH_BYTES],
                          const char *id);

/* Files a measurement of id taken on day (days since the epoch), logged
 * as seq. */
int profiles_repo_add_measurement(const profiles_repo *repo, jm_txn_t *txn,
                                  const char *id,
                                  const Jobmatch__V1__ProgressMeasurement *m,
                                  int32_t day, uint64_t seq);

/* Calls fn for each stored measurement of id (only of dimension, unless
 * it is 0), in key order: by dimension, then day, then seq. val is the
 * packed ProgressMeasurement, borrowed until the transaction ends. fn
 * returns 0 to go on, 1 to stop, or -errno. */
typedef int (*profiles_measurement_fn)(const jm_val *val, int dimension,
                                       int32_t day, uint64_t seq, void *arg);
int profiles_repo_scan_progress(const profiles_repo *repo, jm_txn_t *txn,
                                const char *id, int dimension,
                                profiles_measurement_fn fn, void *arg);

/* Notes that the log's event seq carries the pseudonymous profile of id
 * (every ProfileChanged), so that an erasure can redact it. */
int profiles_repo_note_event(const profiles_repo *repo, jm_txn_t *txn,
                             const char *id, uint64_t seq);

/* The seqs noted for id, ascending, into *seqs (caller frees; NULL when
 * none), and forgets them. */
int profiles_repo_take_events(const profiles_repo *repo, jm_txn_t *txn,
                              const char *id, uint64_t **seqs, size_t *n);

/* Where a walk over the noted events stopped (profiles_repo_trim_events).
 * Zeroed: at the start. */
typedef struct profiles_event_walk {
    uint8_t key[PROFILES_ID_LEN + 8];
    bool started;
} profiles_event_walk;

/* Forgets noted events the log no longer holds (seq < first, the log's
 * first kept seq): pruning took them, and nothing is left to redact.
 * Visits at most limit notes from *walk on, and leaves in *walk where the
 * next call goes on (back at the start after the last note). *removed
 * gets how many went. Without this, every event a citizen ever caused
 * would keep its note until the citizen is erased. */
int profiles_repo_trim_events(const profiles_repo *repo, jm_txn_t *txn,
                              uint64_t first, size_t limit,
                              profiles_event_walk *walk, size_t *removed);

/* Deletes everything filed under id: the profile, the personal record,
 * the CPR index entry (if hash is not NULL) and every measurement. */
int profiles_repo_erase(const profiles_repo *repo, jm_txn_t *txn,
                        const char *id,
                        const uint8_t hash[PROFILES_CPR_HASH_BYTES]);

/* The key slots the personal records reference. Caller owns *slots_p
 * (free()); it may be NULL when *count_p is 0. */
int profiles_repo_used_slots(const profiles_repo *repo, jm_txn_t *txn,
                             uint32_t **slots_p, size_t *count_p);

/* One snapshot page of live profiles (the jm_snapshot_fn contract): keys
 * from after_key on; next_key is the first key that did not fit. */
int profiles_repo_snapshot(const profiles_repo *repo, jm_txn_t *txn,
                           const void *after_key, size_t after_size,
                           size_t limit, jm_snapshot_page_t *page);

#endif
