/* profiles_internal.h - what profiles_server.c (wiring, checks, the
 * post-commit work) and profiles_ops.c (the reads and writes) share.
 * Not for tests or other services: they use profiles_server.h. */
#ifndef PROFILES_INTERNAL_H
#define PROFILES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "jm/sharing.h"
#include "jm/source.h"
#include "profiles_crypto.h"
#include "profiles_repo.h"
#include "profiles_server.h"

/* A key slot taken for a new citizen in the batch being applied. */
struct profiles_reservation {
    uint32_t slot;
    char id[PROFILES_ID_LEN + 1];
};

struct profiles_server {
    uv_loop_t *loop;
    jm_source_t *source;
    profiles_repo repo;
    profiles_keys_t *keys;
    bool accept_lost_keys; /* the config's: see reconcile_keys */
    char *secret_path;     /* for the log: see check_secret */
    uint8_t secret[PROFILES_SECRET_BYTES];
    /* Copies of the config strings jm_source keeps pointers to. */
    char *data_dir, *api, *log, *tick, *source_name, *allow_file;
    char *plain_principal;
    /* Which municipalities' principals may read another municipality's
     * consenting citizens (the config's agreements, as the matcher's). */
    jm_sharing sharing;
    /* The current batch's key work, done in the committed hook: slots
     * taken for new citizens (kept if a committed record references
     * them, zeroed otherwise) and slots of erased citizens (zeroed once
     * the erasure committed). Apply may run twice for one batch (redo
     * after the map grew): the lists then hold both attempts, which the
     * hook's checks make harmless. */
    struct profiles_reservation *reserved;
    size_t n_reserved, cap_reserved;
    uint32_t *erased;
    size_t n_erased, cap_erased;
    /* The current attempt's writes of personal data (puts with the
     * personal part, erasures), logged as access lines once the batch
     * committed; forgotten when an attempt begins (a redo applies the
     * batch again) or fails. */
    struct profiles_write_note *writes;
    size_t n_writes, cap_writes;
    /* Where the housekeeping's walk over the event notes goes on; the
     * log's first kept seq when the current pass began, and when the
     * last whole pass began (every note below it is gone). */
    profiles_event_walk trim_walk;
    uint64_t trim_pass_first, trim_done_first;
};

/* A write of a citizen's personal data, for its access line. */
struct profiles_write_note {
    char *principal;
    const char *action, *result; /* static strings */
    char id[PROFILES_ID_LEN + 1];
};

/* profiles_ops.c: jm_source_ops.read and .apply. */
int profiles_ops_read(jm_txn_t *txn, jm_source_request *r, void *arg);
int profiles_ops_apply(jm_txn_t *txn, jm_source_request *r, void *arg);

/* Every disclosure of a citizen's personal data, every attempt to find a
 * citizen by CPR number, and every committed write of personal data is one
 * line in the log whatever its level (as the ready line): "access
 * principal=P action=get_profile|find_profile|put_profile|erase_profile
 * profile=ID|- result=disclosed|refused|not_found|written|erased". Who,
 * what, which citizen (the pseudonymous id, never the number, name or
 * contact), and what came of it: how a municipality answers "who has seen
 * my data?" and finds a look where there should be none
 * (docs/operations.md, "Access to personal data"). profiles_ops.c. */
void profiles_log_access(const char *principal, const char *action,
                         const char *profile_id, const char *result);

/* profiles_server.c: a write of personal data by principal to citizen id,
 * logged (action, result) if the batch commits. */
void profiles_server_note_write(profiles_server_t *server,
                                const char *principal, const char *action,
                                const char *result, const char *id);

/* profiles_server.c: record key work for the committed hook. */
void profiles_server_reserve(profiles_server_t *server, uint32_t slot,
                             const char *id);
void profiles_server_erased(profiles_server_t *server, uint32_t slot);

#endif
